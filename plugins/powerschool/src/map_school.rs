//! Schools → orgs, Terms → academic sessions, Gen (entry and exit codes),
//! Courses → courses, Sections → sections and their lead teachers.

use ferry_sdk::model::{
    AcademicSession, Code, Course, EntityKind, Meta, Org, OrgKind, Section, SectionRole, SectionStaff,
    SessionKind,
};
use ferry_sdk::{BatchBuilder, Error, Reject};

use crate::codes;
use crate::config::Settings;
use crate::lookups::{Lookups, SectionInfo, TermInfo, section_key};
use crate::row::{Bad, Ctx, Fields, Out, alt, columns, dcid_or_id, id_alts};
use crate::values::{self, DISTRICT_OFFICE, GRADUATED_SCHOOL, grade_level, int};

columns!(school_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    NUMBER = ["schoolnumber"] Yes,
    NAME = ["name"] Yes,
    LOW = ["lowgrade"] Yes,
    HIGH = ["highgrade"] Yes,
    ADDRESS = ["schooladdress"] Yes,
    CITY = ["schoolcity"] Yes,
    STATE = ["schoolstate"] Yes,
    ZIP = ["schoolzip"] Yes,
    PHONE = ["schoolphone"] Yes,
});

fn org_kind(n: i64, text: &str) -> Code<OrgKind> {
    if n == DISTRICT_OFFICE {
        Code::mapped(OrgKind::District, text)
    } else {
        Code::mapped(OrgKind::School, "school")
    }
}

/// A Schools row: the org's id is its School_Number, which every `SchoolID`
/// refers to. School 0 (district office) is the district; other schools
/// have it as parent.
pub fn school(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    out: &mut BatchBuilder,
) -> Result<Out, Error> {
    use school_cols as c;
    let number = f.trimmed(c::NUMBER);
    ctx.id = number.unwrap_or_default().to_owned();
    let rec = (|| {
        let text = number.ok_or_else(|| Bad::at(f, c::NUMBER, "School_Number is missing"))?;
        let n = int(text).ok_or_else(|| Bad::at(f, c::NUMBER, "School_Number is not a number"))?;
        if lk.schools.contains_key(&n) {
            return Err(Bad::at(f, c::NUMBER, "another Schools row has this School_Number"));
        }
        let mut meta = ctx.meta(n.to_string());
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        Ok((
            n,
            Org {
                meta,
                kind: Some(org_kind(n, text)),
                name: f.get(c::NAME).unwrap_or_default().to_owned(),
                identifier: Some(text.to_owned()),
                parent_id: (n != DISTRICT_OFFICE).then(|| DISTRICT_OFFICE.to_string()),
                low_grade: f.get(c::LOW).map(grade_level),
                high_grade: f.get(c::HIGH).map(grade_level),
                address: f.get(c::ADDRESS).map(str::to_owned),
                city: f.get(c::CITY).map(str::to_owned),
                region: f.get(c::STATE).map(str::to_owned),
                postal_code: f.get(c::ZIP).map(str::to_owned),
                phone: f.get(c::PHONE).map(str::to_owned),
            },
        ))
    })();
    match rec {
        Ok((n, org)) => {
            let name = org.name.clone();
            let pushed = out.push(&org)?;
            if pushed {
                lk.schools.insert(n, name);
            }
            Ok(if pushed { Out::Record } else { Out::Rejected })
        }
        Err(bad) => {
            out.reject(ctx.reject(EntityKind::Orgs, bad));
            Ok(Out::Rejected)
        }
    }
}

/// The logical schools PowerSchool always has, when the Schools export
/// left them out: 0 (District Office) and 999999 (Graduated Students).
pub fn missing_logical_schools(lk: &mut Lookups, out: &mut BatchBuilder) -> Result<(), Error> {
    for (n, name) in [(DISTRICT_OFFICE, "District Office"), (GRADUATED_SCHOOL, "Graduated Students")] {
        if lk.schools.contains_key(&n) {
            continue;
        }
        let org = Org {
            meta: Meta::new(crate::row::SYSTEM, n.to_string()),
            kind: Some(org_kind(n, &n.to_string())),
            name: name.to_owned(),
            identifier: Some(n.to_string()),
            parent_id: (n != DISTRICT_OFFICE).then(|| DISTRICT_OFFICE.to_string()),
            ..Org::default()
        };
        if out.push(&org)? {
            lk.schools.insert(n, name.to_owned());
        }
    }
    Ok(())
}

columns!(term_cols {
    TERMID = ["id", "termid"] Yes,
    DCID = ["dcid"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    YEARID = ["yearid"] Yes,
    NAME = ["name"] Yes,
    ABBREVIATION = ["abbreviation"] Yes,
    FIRSTDAY = ["firstday"] Yes,
    LASTDAY = ["lastday"] Yes,
    ISYEARREC = ["isyearrec"] Yes,
    PORTION = ["portion"] Yes,
});

/// First pass over Terms: every (SchoolID, TermID) with its dates, so that
/// sub-terms can name their year term as parent.
pub fn term_prescan(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &mut Lookups) {
    use term_cols as c;
    let (Some(school), Some(term)) = (f.get(c::SCHOOLID).and_then(int), f.get(c::TERMID).and_then(int))
    else {
        return;
    };
    let yearid = f.get(c::YEARID).and_then(int).unwrap_or(term.abs() / 100);
    let last = ctx.date(f, c::LASTDAY).ok().flatten();
    lk.terms.entry((school, term)).or_insert(TermInfo { last, yearid });
    lk.current_yearid = Some(lk.current_yearid.map_or(yearid, |y| y.max(yearid)));
}

/// A Terms row: id `SchoolID:TermID` (TermIDs repeat in every school).
pub fn term(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    seen: &mut std::collections::HashSet<(i64, i64)>,
    out: &mut BatchBuilder,
) -> Result<Out, Error> {
    use term_cols as c;
    ctx.id = format!(
        "{}:{}",
        f.trimmed(c::SCHOOLID).unwrap_or_default(),
        f.trimmed(c::TERMID).unwrap_or_default()
    );
    let rec = (|| {
        let school =
            ctx.int(f, c::SCHOOLID)?.ok_or_else(|| Bad::at(f, c::SCHOOLID, "SchoolID is missing"))?;
        let term = ctx.int(f, c::TERMID)?.ok_or_else(|| Bad::at(f, c::TERMID, "the term ID is missing"))?;
        if !lk.schools.contains_key(&school) {
            return Err(Bad::at(f, c::SCHOOLID, "the school is not in the Schools export"));
        }
        if !seen.insert((school, term)) {
            return Err(Bad::at(f, c::TERMID, "another Terms row of this school has this term ID"));
        }
        let yearid = ctx.int(f, c::YEARID)?.unwrap_or(term / 100);
        let is_year = term % 100 == 0 || ctx.flag(f, c::ISYEARREC)? == Some(true);
        let portion = f.trimmed(c::PORTION);
        let kind = if is_year {
            SessionKind::SchoolYear
        } else if portion == Some("2") {
            SessionKind::Semester
        } else {
            SessionKind::Term
        };
        let original = portion.or(f.trimmed(c::ABBREVIATION)).unwrap_or_default();
        let mut meta = ctx.meta(format!("{school}:{term}"));
        alt(&mut meta, "dcid", f.get(c::DCID));
        f.ext_into(&mut meta);
        let year_term = yearid * 100;
        Ok(AcademicSession {
            meta,
            kind: Some(Code::mapped(kind, original)),
            title: f.get(c::NAME).or(f.get(c::ABBREVIATION)).unwrap_or_default().to_owned(),
            code: f.get(c::ABBREVIATION).map(str::to_owned),
            start_date: ctx.date(f, c::FIRSTDAY)?,
            end_date: ctx.date(f, c::LASTDAY)?,
            school_year: Some(values::school_year_of_yearid(yearid)),
            parent_id: (!is_year && lk.terms.contains_key(&(school, year_term)))
                .then(|| format!("{school}:{year_term}")),
            org_id: Some(school.to_string()),
        })
    })();
    ctx.emit(out, rec)
}

columns!(gen_cols {
    CAT = ["cat"] Yes,
    NAME = ["name"] Yes,
    VALUE = ["value"] Yes,
});

/// A Gen row: entry and exit codes with their descriptions (other
/// categories are read and not needed).
pub fn gen_row(f: &Fields<'_>, lk: &mut Lookups, s: &Settings) -> Out {
    use gen_cols as c;
    let (Some(cat), Some(code)) = (f.trimmed(c::CAT), f.trimmed(c::NAME)) else {
        return Out::Folded;
    };
    let desc = f.get(c::VALUE).unwrap_or(code);
    if cat.eq_ignore_ascii_case("entrycodes") {
        let k = s.entry_codes.get(code).copied().unwrap_or_else(|| codes::entry_kind_from_description(desc));
        lk.entry_codes.insert(code.to_owned(), k);
    } else if cat.eq_ignore_ascii_case("exitcodes") {
        let k = s.exit_codes.get(code).copied().unwrap_or_else(|| codes::exit_kind_from_description(desc));
        lk.exit_codes.insert(code.to_owned(), k);
    }
    Out::Folded
}

columns!(course_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    NUMBER = ["coursenumber"] Yes,
    NAME = ["coursename"] Yes,
    CREDIT = ["credithours"] Yes,
    CREDITTYPE = ["credittype"] Yes,
    SCHOOLID = ["schoolid"] Yes,
});

/// A Courses row: id Course_Number, which Sections, CC and StoredGrades
/// refer to.
pub fn course(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    out: &mut BatchBuilder,
) -> Result<Out, Error> {
    use course_cols as c;
    let number = f.trimmed(c::NUMBER).unwrap_or_default();
    ctx.id = number.to_owned();
    let rec = (|| {
        if number.is_empty() {
            return Err(Bad::at(f, c::NUMBER, "Course_Number is missing"));
        }
        if lk.courses.contains_key(number) {
            return Err(Bad::at(f, c::NUMBER, "another Courses row has this Course_Number"));
        }
        let mut meta = ctx.meta(number.to_owned());
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        let school = f.get(c::SCHOOLID).and_then(int).filter(|s| lk.schools.contains_key(s));
        if school.is_none() {
            f.keep(c::SCHOOLID, &mut meta);
        }
        Ok(Course {
            meta,
            course_number: Some(number.to_owned()),
            title: f.get(c::NAME).unwrap_or_default().to_owned(),
            org_id: school.map(|s| s.to_string()),
            credit_hours: ctx.number(f, c::CREDIT)?,
            subject: f.get(c::CREDITTYPE).map(str::to_owned),
            subject_code: None,
            grade_levels: Vec::new(),
        })
    })();
    let pushed = ctx.emit(out, rec)?;
    if pushed == Out::Record {
        lk.courses.insert(number.to_owned(), ());
    }
    Ok(pushed)
}

/// A section's lead teacher, kept compactly until the section-staff pass.
#[derive(Clone, Copy, Debug)]
pub struct LeadTeacher {
    /// Line of the Sections row.
    pub line: u64,
    /// The section's index.
    pub section: u32,
    /// The staff member's index.
    pub staff: u32,
}

impl LeadTeacher {
    /// The section-staff record: id `<section id>:<staff id>`, role lead.
    pub fn record(&self, file: &str, lk: &Lookups) -> SectionStaff {
        let section = lk.sections.get(self.section as usize).map_or("", |s| s.id.as_str());
        let staff = lk.staff.id(self.staff);
        let mut meta = Meta::new(crate::row::SYSTEM, format!("{section}:{staff}"));
        meta.origin = Some(ferry_sdk::model::Origin { file: file.to_owned(), line: self.line, raw: None });
        SectionStaff {
            meta,
            section_id: Some(section.to_owned()),
            staff_id: Some(staff.to_owned()),
            role: Some(Code::mapped(SectionRole::Lead, "Teacher")),
            start_date: None,
            end_date: None,
        }
    }
}

columns!(section_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    COURSE = ["coursenumber"] Yes,
    NUMBER = ["sectionnumber"] Yes,
    TERMID = ["termid"] Yes,
    TEACHER = ["teacher"] Yes,
    TEACHERNUMBER = ["teachers.teachernumber", "users.teachernumber", "teachernumber"] Yes,
    ROOM = ["room"] Yes,
    EXPRESSION = ["expression"] Yes,
    MAX = ["maxenrollment"] Yes,
});

/// A Sections row. Its id is DCID (else ID, else
/// `SchoolID:Course_Number.Section_Number:TermID`); the lead teacher
/// (`Teacher` = SchoolStaff ID, or a TeacherNumber column) becomes a
/// section-staff record, kept for after the sections.
pub fn section(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    staff_out: &mut Vec<LeadTeacher>,
    out: &mut BatchBuilder,
) -> Result<Out, Error> {
    use section_cols as c;
    let natural = format!(
        "{}:{}.{}:{}",
        f.trimmed(c::SCHOOLID).unwrap_or_default(),
        f.trimmed(c::COURSE).unwrap_or_default(),
        f.trimmed(c::NUMBER).unwrap_or_default(),
        f.trimmed(c::TERMID).unwrap_or_default()
    );
    let id = dcid_or_id(f, c::DCID, c::ID).unwrap_or(natural);
    ctx.id.clone_from(&id);
    let rec = (|| {
        if lk.section_ids.contains_key(&id) {
            return Err(Bad::row("another Sections row has this id"));
        }
        let school =
            ctx.int(f, c::SCHOOLID)?.ok_or_else(|| Bad::at(f, c::SCHOOLID, "SchoolID is missing"))?;
        if !lk.schools.contains_key(&school) {
            return Err(Bad::at(f, c::SCHOOLID, "the school is not in the Schools export"));
        }
        let course = f.trimmed(c::COURSE).ok_or_else(|| Bad::at(f, c::COURSE, "Course_Number is missing"))?;
        if !lk.courses.contains_key(course) {
            return Err(Bad::at(f, c::COURSE, "the course is not in the Courses export"));
        }
        let term = ctx.int(f, c::TERMID)?.ok_or_else(|| Bad::at(f, c::TERMID, "TermID is missing"))?.abs();
        if !lk.terms.contains_key(&(school, term)) {
            return Err(Bad::at(f, c::TERMID, "the term is not in the Terms export for this school"));
        }
        let mut meta = ctx.meta(id.clone());
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        Ok((
            Section {
                meta,
                section_number: f.get(c::NUMBER).map(str::to_owned),
                title: None,
                course_id: Some(course.to_owned()),
                school_id: Some(school.to_string()),
                session_ids: vec![format!("{school}:{term}")],
                period: f.get(c::EXPRESSION).map(str::to_owned),
                room: f.get(c::ROOM).map(str::to_owned),
                max_enrollment: ctx.int(f, c::MAX)?,
            },
            SectionInfo { id: id.clone(), school, term, course: course.to_owned() },
        ))
    })();
    let (sec, info) = match rec {
        Ok(r) => r,
        Err(bad) => {
            out.reject(ctx.reject(EntityKind::Sections, bad));
            return Ok(Out::Rejected);
        }
    };
    if !out.push(&sec)? {
        return Ok(Out::Rejected);
    }
    let n = u32::try_from(lk.sections.len()).map_err(|_| Error::data("too many sections"))?;
    if let Some(sid) = f.get(c::ID).and_then(int) {
        lk.section_by_id.insert(sid, n);
    }
    let number = f.trimmed(c::NUMBER).unwrap_or_default();
    lk.section_by_key.insert(section_key(info.school, &info.course, number, info.term), n);
    lk.section_ids.insert(id.clone(), ());
    lk.sections.push(info);
    // The lead teacher.
    let by_id = f.get(c::TEACHER).and_then(int).filter(|t| *t != 0);
    let by_number = f.trimmed(c::TEACHERNUMBER);
    let staff = match (by_id, by_number) {
        (Some(t), _) => lk.staff.by_id.get(&t).copied().ok_or(c::TEACHER),
        (None, Some(num)) => lk.staff.by_key.get(num).copied().ok_or(c::TEACHERNUMBER),
        (None, None) => return Ok(Out::Record),
    };
    match staff {
        Ok(s) => staff_out.push(LeadTeacher { line: ctx.line, section: n, staff: s }),
        Err(col) => {
            let r =
                Reject::new(EntityKind::SectionStaff, "the section's teacher is not among the staff read")
                    .at(ctx.file, ctx.line)
                    .field(f.header(col))
                    .record(format!("{id}:?"))
                    .value(f.get(col).unwrap_or_default());
            out.reject(r);
        }
    }
    Ok(Out::Record)
}
