//! Log → log entries, and for the discipline rows of Log (their
//! `Discipline_*` columns filled) a discipline incident, the student as its
//! offender and the action taken; Incident Management (Incident,
//! Incident_Person_Role, Incident_Action, with Incident_LU_Code and
//! Incident_Detail as lookups) → discipline incidents, participants and
//! actions.

use std::collections::HashSet;

use ferry_sdk::model::{
    Code, CodeSet, Date, DisciplineAction, DisciplineActionKind, DisciplineIncident, DisciplineParticipant,
    DurationUnit, IncidentRole, LogEntry, TimeOfDay,
};
use ferry_sdk::{BatchBuilder, Error};

use crate::columns::columns;
use crate::config::Settings;
use crate::fields::Fields;
use crate::ids::{dcid_or_id, dcid_or_id_str, id_alts};
use crate::lookups::{IdMap, Lookups, Multi, NO_SCHOOL, ParentKey, RejectedRow};
use crate::map::joins;
use crate::row::{Bad, Ctx, RowOutcome};
use crate::values::{self, int};

/// Why a row's incident is missing, when it was not read at all.
pub const NO_INCIDENT: &str = "the incident is not among the incidents read";

/// An Incident_LU_Code row.
#[derive(Clone, Debug, Default)]
pub struct LuCode {
    /// `Code_Type` in lower case (`behaviorcode`, `actioncode`…).
    pub kind: Box<str>,
    /// `Incident_Category`.
    pub category: Box<str>,
    /// `Short_Desc`: the code.
    pub code: Box<str>,
    /// `Long_Desc`.
    pub desc: Box<str>,
}

impl LuCode {
    /// Whether it is a behavior (incident type) code.
    fn is_behavior(&self) -> bool {
        matches!(&*self.kind, "behaviorcode" | "incidenttypecode" | "behavior" | "incidenttype")
    }

    /// The code as the source names it: Short_Desc, else Long_Desc, else the category.
    fn name(&self) -> &str {
        [&self.code, &self.desc, &self.category].into_iter().find(|s| !s.is_empty()).map_or("", |s| s)
    }
}

/// What the discipline passes remember.
#[derive(Debug, Default)]
pub struct DisciplineLookups {
    /// Incident_LU_Code by LU_Code_ID.
    pub codes: IdMap<LuCode>,
    /// Incident_Detail: Incident_Detail_ID → LU_Code_ID.
    pub detail_code: IdMap<i64>,
    /// Incident_Detail by Incident_ID: the LU_Code_IDs of an incident.
    pub incident_codes: Multi<i64>,
    /// Incidents read: Incident_ID → School_Number.
    pub incidents: IdMap<i64>,
    /// The student an incident's actions are for: its first offender, else
    /// its first student (source id, and whether an offender).
    pub actors: IdMap<(String, bool)>,
    /// Log rows (file, line) rejected in their counted pass: the later
    /// discipline passes leave them alone.
    pub rejected_logs: HashSet<(String, u64)>,
}

/// Seals the Incident_Detail lookup before incidents are read.
pub fn seal_details(lk: &mut Lookups) {
    lk.discipline.incident_codes.seal();
}

/// Column `c` as a time of day (`8:05 AM`, `14:30`).
fn time(ctx: &Ctx<'_>, f: &Fields<'_>, c: usize) -> Result<Option<TimeOfDay>, Bad> {
    match f.get(c) {
        None => Ok(None),
        Some(v) => ctx.parser.parse_time(v).map(Some).map_err(|e| Bad::at(f, c, e.0)),
    }
}

/// A discipline action's kind from its code and description.
pub fn action_kind(code: &str, desc: &str) -> DisciplineActionKind {
    let by_code = DisciplineActionKind::normalize(code);
    if by_code != DisciplineActionKind::Other {
        return by_code;
    }
    let d = format!("{} {}", desc.to_lowercase(), code.to_lowercase());
    let has = |ws: &[&str]| ws.iter().any(|w| d.contains(w));
    if has(&["expel", "expulsion"]) {
        DisciplineActionKind::Expulsion
    } else if has(&["in-school suspension", "in school suspension"]) {
        DisciplineActionKind::InSchoolSuspension
    } else if has(&["bus suspension", "privilege"]) {
        DisciplineActionKind::LossOfPrivileges
    } else if has(&["suspension", "suspended"]) {
        DisciplineActionKind::OutOfSchoolSuspension
    } else if has(&["alternative"]) {
        DisciplineActionKind::AlternativePlacement
    } else if has(&["police", "law enforcement", "arrest"]) {
        DisciplineActionKind::LawEnforcementReferral
    } else if has(&["detention"]) {
        DisciplineActionKind::Detention
    } else if has(&["removal", "removed from class", "sent out"]) {
        DisciplineActionKind::ClassRemoval
    } else if has(&["warning", "conference", "reprimand"]) {
        DisciplineActionKind::Warning
    } else {
        DisciplineActionKind::normalize(desc)
    }
}

/// A participant's role from an Incident_LU_Code row.
fn role(code: &LuCode) -> IncidentRole {
    for s in [&code.category, &code.desc, &code.code] {
        let r = IncidentRole::normalize(s);
        if r != IncidentRole::Other {
            return r;
        }
    }
    let d = format!("{} {}", code.category, code.desc).to_lowercase();
    let has = |ws: &[&str]| ws.iter().any(|w| d.contains(w));
    if has(&["offend", "perpetrat", "aggress"]) {
        IncidentRole::Offender
    } else if has(&["victim", "target"]) {
        IncidentRole::Victim
    } else if has(&["witness"]) {
        IncidentRole::Witness
    } else if has(&["report"]) {
        IncidentRole::Reporter
    } else {
        IncidentRole::Other
    }
}

/// Days, the unit of PowerSchool's discipline durations.
fn days() -> Code<DurationUnit> {
    Code::mapped(DurationUnit::Days, "days")
}

// ----- Log

columns!(log_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    STUDENTID = ["studentid"] Yes,
    NUMBER = ["students.studentnumber", "studentnumber"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    LOGTYPE = ["logtypeid", "logtype"] No,
    DATE = ["entrydate"] Yes,
    TIME = ["entrytime"] Yes,
    AUTHOR = ["entryauthor"] Yes,
    SUBJECT = ["subject"] Yes,
    ENTRY = ["entry"] Yes,
    SUBTYPE = ["subtype"] No,
    CONSEQUENCE = ["consequence"] No,
    INCIDENT_TYPE = ["disciplineincidenttype"] Yes,
    ACTION = ["disciplineactiontaken"] Yes,
    ACTION_DATE = ["disciplineactiondate"] Yes,
    ASSIGNED = ["disciplinedurationassigned"] Yes,
    ACTUAL = ["disciplinedurationactual"] Yes,
    INCIDENT_DATE = ["disciplineincidentdate"] Yes,
    LOCATION = ["disciplineincidentlocation"] Yes,
});

/// A Log row's source id: DCID, else ID, else `<student>:<Entry_Date>:<Entry_Time>:<LogTypeID>`.
fn log_id(f: &Fields<'_>, student: &str) -> String {
    use log_cols as c;
    dcid_or_id(f, c::DCID, c::ID).unwrap_or_else(|| {
        let v = |col| f.trimmed(col).unwrap_or_default();
        format!("{student}:{}:{}:{}", v(c::DATE), v(c::TIME), v(c::LOGTYPE))
    })
}

/// A Log row → a log entry: the type is Gen `logtype`'s name for
/// LogTypeID (the LogTypeID itself when Gen lacks it; the number stays in
/// `ext.LogTypeID`), the subtype Gen `subtype`'s description of the code.
pub fn log_entry(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use log_cols as c;
    ctx.set_id(dcid_or_id_str(f, c::DCID, c::ID).unwrap_or_default());
    let rec = (|| {
        let stu = lk.students.id(joins::student(f, lk, c::STUDENTID, c::NUMBER)?).to_owned();
        let date = ctx.date(f, c::DATE)?.ok_or_else(|| Bad::at(f, c::DATE, "Entry_Date is missing"))?;
        let time = ctx.optional(f, c::TIME, "time", time);
        let school = ctx.opt_int(f, c::SCHOOLID, "school_id");
        let known = school.filter(|s| lk.schools.contains_key(s));
        let type_id = f.get(c::LOGTYPE).and_then(int);
        let kind = type_id
            .and_then(|t| lk.programs.log_types.get(&t).cloned())
            .or_else(|| f.trimmed(c::LOGTYPE).map(str::to_owned));
        let subtype = f.trimmed(c::SUBTYPE).map(|code| {
            type_id
                .and_then(|t| lk.programs.subtypes.get(&(t, code.to_owned())).cloned())
                .unwrap_or_else(|| code.to_owned())
        });
        let mut meta = ctx.meta(log_id(f, &stu));
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        if school.is_some() && known.is_none() {
            f.keep(c::SCHOOLID, &mut meta);
        }
        Ok(LogEntry {
            meta,
            student_id: Some(stu),
            school_id: known.map(|s| s.to_string()),
            kind,
            subtype,
            date: Some(date),
            time,
            recorded_at: None,
            author_id: None,
            author: f.get(c::AUTHOR).map(str::to_owned),
            subject: f.get(c::SUBJECT).map(str::to_owned),
            text: f.get(c::ENTRY).map(str::to_owned),
        })
    })();
    ctx.emit(out, rec)
}

/// Notes a rejected Log row, for the discipline passes after it.
pub fn log_rejected(_: &Fields<'_>, lk: &mut Lookups, at: &RejectedRow) {
    lk.discipline.rejected_logs.insert((at.file.clone(), at.line));
}

/// Whether a Log row describes discipline: a `Discipline_*` text column,
/// or a duration other than zero, is filled.
fn is_discipline(f: &Fields<'_>) -> bool {
    use log_cols as c;
    let text =
        [c::INCIDENT_TYPE, c::ACTION, c::INCIDENT_DATE, c::LOCATION].iter().any(|&col| f.get(col).is_some());
    let nonzero = |col| f.get(col).is_some_and(|v| v.bytes().any(|b| (b'1'..=b'9').contains(&b)));
    text || nonzero(c::ASSIGNED) || nonzero(c::ACTUAL)
}

/// The student and `log:<log id>` of a discipline Log row whose log entry
/// was made; `None` for other rows (not the discipline passes' business).
fn discipline_row(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &Lookups) -> Option<(String, String)> {
    use log_cols as c;
    let rejected = &lk.discipline.rejected_logs;
    if !is_discipline(f) || !rejected.is_empty() && rejected.contains(&(ctx.file.to_owned(), ctx.line)) {
        return None;
    }
    let stu = lk.students.id(joins::student(f, lk, c::STUDENTID, c::NUMBER).ok()?).to_owned();
    let id = format!("log:{}", log_id(f, &stu));
    Some((stu, id))
}

/// A discipline Log row → a discipline incident (`log:<log id>`) at the
/// row's SchoolID, on Discipline_IncidentDate (else Entry_Date): the
/// incident type is its behavior, the entry its description.
pub fn log_incident(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    s: &Settings,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use log_cols as c;
    let Some((_, id)) = discipline_row(ctx, f, lk) else { return Ok(RowOutcome::Skip) };
    ctx.set_id(&id);
    let rec = (|| {
        let school = ctx.need(f, c::SCHOOLID, "SchoolID")?;
        if !lk.schools.contains_key(&school) {
            return Err(Bad::at(
                f,
                c::SCHOOLID,
                lk.rejected.why(&ParentKey::School(school), "school", NO_SCHOOL),
            ));
        }
        let date = match ctx.date(f, c::INCIDENT_DATE)? {
            Some(d) => d,
            None => ctx.date(f, c::DATE)?.ok_or_else(|| Bad::at(f, c::DATE, "Entry_Date is missing"))?,
        };
        Ok(DisciplineIncident {
            meta: ctx.meta(id.clone()),
            school_id: Some(school.to_string()),
            identifier: None,
            date: Some(date),
            time: None,
            school_year: Some(values::school_year_of(date, s.start_month)),
            location: f.get(c::LOCATION).map(str::to_owned),
            behavior: f.get(c::INCIDENT_TYPE).map(str::to_owned),
            description: f.get(c::ENTRY).map(str::to_owned),
            reported_to_police: None,
        })
    })();
    ctx.emit(out, rec)
}

/// A discipline Log row → the student as the offender of its incident
/// (`log:<log id>`), with the incident type as the student's behavior.
pub fn log_participant(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use log_cols as c;
    let Some((stu, id)) = discipline_row(ctx, f, lk) else { return Ok(RowOutcome::Skip) };
    ctx.set_id(&id);
    let rec = Ok(DisciplineParticipant {
        meta: ctx.meta(id.clone()),
        incident_id: Some(id),
        student_id: Some(stu),
        staff_id: None,
        name: None,
        role: Some(Code::mapped(IncidentRole::Offender, "Log")),
        behavior: f.get(c::INCIDENT_TYPE).map(str::to_owned),
    });
    ctx.emit(out, rec)
}

/// A discipline Log row with Discipline_ActionTaken → the action
/// (`log:<log id>`): its kind from the code and the Consequence, the
/// durations assigned and served in days.
pub fn log_action(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use log_cols as c;
    let Some(code) = f.trimmed(c::ACTION) else { return Ok(RowOutcome::Skip) };
    let Some((stu, id)) = discipline_row(ctx, f, lk) else { return Ok(RowOutcome::Skip) };
    ctx.set_id(&id);
    let school = f.get(c::SCHOOLID).and_then(int).filter(|s| lk.schools.contains_key(s));
    let assigned = ctx.opt_decimal(f, c::ASSIGNED, "length_assigned");
    let served = ctx.opt_decimal(f, c::ACTUAL, "length_served");
    let action_date = ctx.opt_date(f, c::ACTION_DATE, "action_date");
    let kind = action_kind(code, f.trimmed(c::CONSEQUENCE).unwrap_or_default());
    let rec = Ok(DisciplineAction {
        meta: ctx.meta(id.clone()),
        incident_id: Some(id),
        student_id: Some(stu),
        school_id: school.map(|s| s.to_string()),
        action: Some(Code::mapped(kind, code)),
        action_date,
        start_date: None,
        end_date: None,
        length_assigned: assigned,
        length_served: served,
        length_unit: (assigned.is_some() || served.is_some()).then(days),
    });
    ctx.emit(out, rec)
}

// ----- Incident Management

columns!(lu_cols {
    ID = ["lucodeid"] Yes,
    TYPE = ["codetype"] Yes,
    CATEGORY = ["incidentcategory"] Yes,
    SHORT = ["shortdesc"] Yes,
    LONG = ["longdesc"] Yes,
});

/// An Incident_LU_Code row → the codes lookup.
pub fn lu_code_row(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &mut Lookups) -> Result<(), Bad> {
    use lu_cols as c;
    let id = ctx.need(f, c::ID, "LU_Code_ID")?;
    let text = |col| f.trimmed(col).unwrap_or_default().into();
    let code = LuCode {
        kind: f.trimmed(c::TYPE).unwrap_or_default().to_lowercase().into(),
        category: text(c::CATEGORY),
        code: text(c::SHORT),
        desc: text(c::LONG),
    };
    lk.discipline.codes.insert(id, code);
    Ok(())
}

columns!(detail_cols {
    ID = ["incidentdetailid"] Yes,
    INCIDENT = ["incidentid"] Yes,
    CODE = ["lucodeid"] Yes,
});

/// An Incident_Detail row → the details lookup (a behavior, role or action
/// of an incident, by its LU code).
pub fn detail_row(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &mut Lookups) -> Result<(), Bad> {
    use detail_cols as c;
    let id = ctx.need(f, c::ID, "Incident_Detail_ID")?;
    let incident = ctx.need(f, c::INCIDENT, "Incident_ID")?;
    let code = ctx.need(f, c::CODE, "LU_Code_ID")?;
    lk.discipline.detail_code.insert(id, code);
    lk.discipline.incident_codes.push(incident, code);
    Ok(())
}

/// Column `c` as a date and an optional time of day
/// (`10/18/2024 11:07 AM`, `2024-10-18T11:07:00`); a time that cannot be
/// read is left out with a field issue.
fn date_time(ctx: &mut Ctx<'_>, f: &Fields<'_>, c: usize) -> Result<(Option<Date>, Option<TimeOfDay>), Bad> {
    let Some(v) = f.trimmed(c) else { return Ok((None, None)) };
    let (day, clock) = match v.split_once([' ', 'T']) {
        Some((d, t)) => (d, Some(t.trim())),
        None => (v, None),
    };
    let date = ctx.parser.parse_date(day).map_err(|e| Bad::at(f, c, e.0))?;
    let time = match clock.filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => match ctx.parser.parse_time(t.trim_end_matches('Z')) {
            Ok(t) => Some(t),
            Err(_) => {
                ctx.issue(f, c, "time", "not a time of day");
                None
            }
        },
    };
    Ok((Some(date), time))
}

columns!(incident_cols {
    ID = ["incidentid"] Yes,
    SCHOOL = ["schoolnumber", "schoolid"] Yes,
    TS = ["incidentts"] Yes,
    DESC = ["incidentdetaildesc"] Yes,
    LOCATION = ["locationdetails"] Yes,
});

/// An Incident row → a discipline incident (id Incident_ID) at
/// School_Number, on Incident_TS's day and time: its first behavior code
/// (Incident_Detail with an `incidenttypecode`/`behaviorcode` LU code) is
/// the behavior.
pub fn incident(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    s: &Settings,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use incident_cols as c;
    ctx.set_id(f.trimmed(c::ID).unwrap_or_default());
    let rec = (|| {
        let id = ctx.need(f, c::ID, "Incident_ID")?;
        let school = ctx.need(f, c::SCHOOL, "School_Number")?;
        if !lk.schools.contains_key(&school) {
            return Err(Bad::at(
                f,
                c::SCHOOL,
                lk.rejected.why(&ParentKey::School(school), "school", NO_SCHOOL),
            ));
        }
        let (date, time) = date_time(ctx, f, c::TS)?;
        let date = date.ok_or_else(|| Bad::at(f, c::TS, "Incident_TS is missing"))?;
        let d = &lk.discipline;
        let behavior = d
            .incident_codes
            .get(id)
            .filter_map(|lu| d.codes.get(lu))
            .find(|code| code.is_behavior())
            .map(|code| code.name().to_owned());
        let mut meta = ctx.meta(id.to_string());
        f.ext_into(&mut meta);
        Ok((
            id,
            school,
            DisciplineIncident {
                meta,
                school_id: Some(school.to_string()),
                identifier: None,
                date: Some(date),
                time,
                school_year: Some(values::school_year_of(date, s.start_month)),
                location: f.get(c::LOCATION).map(str::to_owned),
                behavior,
                description: f.get(c::DESC).map(str::to_owned),
                reported_to_police: None,
            },
        ))
    })();
    match rec {
        Ok((id, school, r)) => {
            let outcome = ctx.emit(out, Ok(r))?;
            if outcome == RowOutcome::Record {
                lk.discipline.incidents.insert(id, school);
            }
            Ok(outcome)
        }
        Err(bad) => ctx.emit::<DisciplineIncident>(out, Err(bad)),
    }
}

/// Notes the key of a rejected Incident row.
pub fn incident_rejected(f: &Fields<'_>, lk: &mut Lookups, at: &RejectedRow) {
    if let Some(n) = f.get(incident_cols::ID).and_then(int) {
        lk.rejected.note(ParentKey::IncidentId(n), at);
    }
}

/// The incident a row names (read, else the reason it is missing).
fn incident_of(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &Lookups, c: usize) -> Result<(i64, i64), Bad> {
    let id = ctx.need(f, c, "Incident_ID")?;
    lk.discipline
        .incidents
        .get(&id)
        .map(|school| (id, *school))
        .ok_or_else(|| Bad::at(f, c, lk.rejected.why(&ParentKey::IncidentId(id), "incident", NO_INCIDENT)))
}

columns!(role_cols {
    ID = ["id", "incidentpersonroleid"] Yes,
    INCIDENT = ["incidentid"] Yes,
    STUDENTID = ["studentid"] Yes,
    NUMBER = ["students.studentnumber", "studentnumber"] Yes,
    ROLE = ["roleincidentdetailid"] Yes,
});

/// An Incident_Person_Role row → a discipline participant (id ID, else
/// `<incident>:<student>`): the student, in the role of the LU code of
/// Role_Incident_Detail_ID (Short_Desc is the original).
pub fn participant(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use role_cols as c;
    ctx.set_id(f.trimmed(c::ID).unwrap_or_default());
    let rec = (|| {
        let stu = lk.students.id(joins::student(f, lk, c::STUDENTID, c::NUMBER)?).to_owned();
        let (incident, _) = incident_of(ctx, f, lk, c::INCIDENT)?;
        let id = f.trimmed(c::ID).map_or_else(|| format!("{incident}:{stu}"), str::to_owned);
        let d = &lk.discipline;
        let code = ctx
            .opt_int(f, c::ROLE, "role")
            .and_then(|detail| d.detail_code.get(&detail))
            .and_then(|lu| d.codes.get(lu));
        let mut meta = ctx.meta(id);
        f.ext_into(&mut meta);
        if code.is_none() {
            f.keep(c::ROLE, &mut meta);
        }
        Ok((
            incident,
            DisciplineParticipant {
                meta,
                incident_id: Some(incident.to_string()),
                student_id: Some(stu),
                staff_id: None,
                name: None,
                role: code.map(|code| Code::mapped(role(code), code.name())),
                behavior: None,
            },
        ))
    })();
    match rec {
        Ok((incident, r)) => {
            let offender = r.role.as_ref().is_some_and(|c| c.code == IncidentRole::Offender);
            let student = r.student_id.clone().unwrap_or_default();
            let outcome = ctx.emit(out, Ok(r))?;
            if outcome == RowOutcome::Record {
                let slot =
                    lk.discipline.actors.entry(incident).or_insert_with(|| (student.clone(), offender));
                if offender && !slot.1 {
                    *slot = (student, true);
                }
            }
            Ok(outcome)
        }
        Err(bad) => ctx.emit::<DisciplineParticipant>(out, Err(bad)),
    }
}

columns!(action_cols {
    ID = ["incidentactionid"] Yes,
    INCIDENT = ["incidentid"] Yes,
    DETAIL = ["actionincidentdetailid"] Yes,
    BEGIN = ["actionplanbegindt"] Yes,
    END = ["actionplanenddt"] Yes,
    ASSIGNED = ["durationassigned"] Yes,
    ACTUAL = ["durationactual"] Yes,
});

/// An Incident_Action row → a discipline action (id Incident_Action_ID)
/// of its incident's school: the action is the LU code of
/// Action_Incident_Detail_ID (Short_Desc is the original), from
/// Action_Plan_Begin_DT to Action_Plan_End_DT (inclusive), durations in
/// days. Incident_Action names no person: the action is the incident's
/// first offender's (else its first student's).
pub fn action(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use action_cols as c;
    ctx.set_id(f.trimmed(c::ID).unwrap_or_default());
    let rec = (|| {
        let id = f.trimmed(c::ID).ok_or_else(|| Bad::at(f, c::ID, "Incident_Action_ID is missing"))?;
        let (incident, school) = incident_of(ctx, f, lk, c::INCIDENT)?;
        let d = &lk.discipline;
        let (student, _) = d.actors.get(&incident).ok_or_else(|| {
            Bad::at(
                f,
                c::INCIDENT,
                "the incident has no student (Incident_Person_Role) the action could be for",
            )
        })?;
        let detail = ctx.need(f, c::DETAIL, "Action_Incident_Detail_ID")?;
        let code = d.detail_code.get(&detail).and_then(|lu| d.codes.get(lu)).ok_or_else(|| {
            Bad::at(
                f,
                c::DETAIL,
                "the action's Incident_Detail row (and its LU code) is not among those read",
            )
        })?;
        let assigned = ctx.opt_decimal(f, c::ASSIGNED, "length_assigned");
        let served = ctx.opt_decimal(f, c::ACTUAL, "length_served");
        let start = ctx.opt_date(f, c::BEGIN, "start_date");
        let end = ctx.opt_date(f, c::END, "end_date");
        let mut meta = ctx.meta(id.to_owned());
        f.ext_into(&mut meta);
        Ok(DisciplineAction {
            meta,
            incident_id: Some(incident.to_string()),
            student_id: Some(student.clone()),
            school_id: Some(school.to_string()),
            action: Some(Code::mapped(action_kind(&code.code, &code.desc), code.name())),
            action_date: None,
            start_date: start,
            end_date: end,
            length_assigned: assigned,
            length_served: served,
            length_unit: (assigned.is_some() || served.is_some()).then(days),
        })
    })();
    ctx.emit(out, rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_kinds() {
        use DisciplineActionKind as K;
        assert_eq!(action_kind("ISS", "In-school suspension"), K::InSchoolSuspension);
        assert_eq!(action_kind("OSS", "Out-of-school suspension"), K::OutOfSchoolSuspension);
        assert_eq!(action_kind("DET", "After-school detention"), K::Detention);
        assert_eq!(action_kind("WARN", "Verbal warning"), K::Warning);
        assert_eq!(action_kind("CONF", "Parent conference"), K::Warning);
        assert_eq!(action_kind("LOP", "Loss of privileges"), K::LossOfPrivileges);
        assert_eq!(action_kind("EXP", "Expelled for the year"), K::Expulsion);
        assert_eq!(action_kind("ZZ", ""), K::Other);
    }

    #[test]
    fn roles() {
        let lu = |cat: &str, short: &str, long: &str| LuCode {
            kind: "persontype".into(),
            category: cat.into(),
            code: short.into(),
            desc: long.into(),
        };
        assert_eq!(role(&lu("Offender", "OFF", "Offender")), IncidentRole::Offender);
        assert_eq!(role(&lu("Victim", "VIC", "Victim")), IncidentRole::Victim);
        assert_eq!(role(&lu("Participant", "W", "Witnessed it")), IncidentRole::Witness);
        assert_eq!(role(&lu("", "", "Bystander")), IncidentRole::Other);
        assert_eq!(lu("Offender", "OFF", "Offender").name(), "OFF");
    }
}
