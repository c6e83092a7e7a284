//! Students → students (and, in later passes, legacy contacts,
//! demographics and the current school enrollment); Users + SchoolStaff (or
//! the Teachers view) → staff; the Person model → contacts and student
//! contacts; Ferry's flat contacts layout.

use std::collections::HashMap;

use ferry_sdk::model::{
    Code, CodeSet, Contact, Demographics, EntityKind, Relationship, Staff, Student, StudentContact,
};
use ferry_sdk::{BatchBuilder, Error};

use crate::codes;
use crate::config::Settings;
use crate::lookups::{Address, Affiliation, CodeSetRow, Detail, Link, Lookups};
use crate::row::{Bad, Ctx, Fields, Out, alt, columns, dcid_or_id, id_alts};
use crate::values::{self, grade_level, int, sex};

columns!(student_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    NUMBER = ["studentnumber"] Yes,
    STATE_NUMBER = ["statestudentnumber"] Yes,
    FIRST = ["firstname"] Yes,
    MIDDLE = ["middlename"] Yes,
    LAST = ["lastname"] Yes,
    PREFERRED = ["preferredname", "prefname"] Yes,
    DOB = ["dob"] Yes,
    GENDER = ["gender"] Yes,
    GRADE = ["gradelevel"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    STATUS = ["enrollstatus"] Yes,
    STREET = ["street"] Yes,
    CITY = ["city"] Yes,
    STATE = ["state"] Yes,
    ZIP = ["zip"] Yes,
    PHONE = ["homephone"] Yes,
    WEB_ID = ["studentwebid"] Yes,
    ENTRYDATE = ["entrydate"] Yes,
    EXITDATE = ["exitdate"] Yes,
    ENTRYCODE = ["entrycode"] Yes,
    EXITCODE = ["exitcode"] Yes,
    EXITCOMMENT = ["exitcomment"] Yes,
    ENTRYCOMMENT = ["entrycomment"] Enrollment,
    TRACK = ["track"] Enrollment,
    FTEID = ["fteid"] Enrollment,
    MEMBERSHIP = ["membershipshare"] Enrollment,
    ENROLLMENTCODE = ["enrollmentcode"] Enrollment,
    ENROLLMENTTYPE = ["enrollmenttype"] Enrollment,
    RESIDENCE = ["districtofresidence"] Enrollment,
    TUITION = ["tuitionpayer"] Enrollment,
    WITHDRAWAL = ["withdrawalreasoncode"] Enrollment,
    FEDETHNICITY = ["fedethnicity"] Yes,
    FEDRACEDECLINE = ["fedracedecline"] Demographics,
    MOTHER = ["mother"] Legacy,
    FATHER = ["father"] Legacy,
    GUARDIAN = ["guardian"] Legacy,
    GUARDIANEMAIL = ["guardianemail"] Legacy,
    MOTHER_HOME = ["motherhomephone"] Legacy,
    MOTHER_DAY = ["motherdayphone"] Legacy,
    FATHER_HOME = ["fatherhomephone"] Legacy,
    FATHER_DAY = ["fatherdayphone"] Legacy,
    GUARDIAN_DAY = ["guardiandayphone"] Legacy,
    EMERG1 = ["emergcontact1"] Legacy,
    EPHONE1 = ["emergphone1"] Legacy,
    EREL1 = ["emerg1rel"] Legacy,
    EMERG2 = ["emergcontact2"] Legacy,
    EPHONE2 = ["emergphone2"] Legacy,
    EREL2 = ["emerg2rel"] Legacy,
    EMERG3 = ["emergcontact3"] Legacy,
    EPHONE3 = ["emergphone3"] Legacy,
    EREL3 = ["emerg3rel"] Legacy,
});

/// A student's source id: DCID, else ID, else Student_Number.
pub fn student_id(f: &Fields<'_>) -> Option<String> {
    use student_cols as c;
    dcid_or_id(f, c::DCID, c::ID).or_else(|| f.trimmed(c::NUMBER).map(str::to_owned))
}

/// The index of the student a Students row produced (later passes).
pub fn student_of_row(f: &Fields<'_>, lk: &Lookups) -> Option<(u32, String)> {
    let id = student_id(f)?;
    lk.students.seen.get(&id).map(|n| (*n, id))
}

/// A Students row → a student. The current enrollment, demographics and
/// legacy contacts of the row are read by later passes.
pub fn student(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    out: &mut BatchBuilder,
) -> Result<Out, Error> {
    use student_cols as c;
    let id = student_id(f).unwrap_or_default();
    ctx.id.clone_from(&id);
    let rec = (|| {
        if id.is_empty() {
            return Err(Bad::row("the row has no DCID, ID or Student_Number"));
        }
        if lk.students.seen.contains_key(&id) {
            return Err(Bad::row("another Students row has this id"));
        }
        let school = ctx.int(f, c::SCHOOLID)?;
        if let Some(s) = school {
            if !lk.schools.contains_key(&s) {
                return Err(Bad::at(f, c::SCHOOLID, "the school is not in the Schools export"));
            }
        }
        let mut meta = ctx.meta(id.clone());
        id_alts(&mut meta, f, c::DCID, c::ID);
        alt(&mut meta, "student_number", f.get(c::NUMBER));
        alt(&mut meta, "state", f.get(c::STATE_NUMBER));
        f.ext_into(&mut meta);
        Ok(Student {
            meta,
            student_number: f.get(c::NUMBER).map(str::to_owned),
            state_id: f.get(c::STATE_NUMBER).map(str::to_owned),
            first_name: f.get(c::FIRST).unwrap_or_default().to_owned(),
            middle_name: f.get(c::MIDDLE).map(str::to_owned),
            last_name: f.get(c::LAST).unwrap_or_default().to_owned(),
            preferred_name: f.get(c::PREFERRED).map(str::to_owned),
            birth_date: ctx.date(f, c::DOB)?,
            sex: f.get(c::GENDER).map(sex),
            grade_level: f.get(c::GRADE).map(grade_level),
            school_id: school.map(|s| s.to_string()),
            status: f.get(c::STATUS).map(values::enroll_status),
            email: None,
            phone: f.get(c::PHONE).map(str::to_owned),
            address: f.get(c::STREET).map(str::to_owned),
            city: f.get(c::CITY).map(str::to_owned),
            region: f.get(c::STATE).map(str::to_owned),
            postal_code: f.get(c::ZIP).map(str::to_owned),
            username: f.get(c::WEB_ID).map(str::to_owned),
        })
    })();
    let result = ctx.emit(out, rec)?;
    if result == Out::Record {
        if let Some(n) = lk.students.add(&id) {
            if let Some(i) = f.get(c::ID).and_then(int) {
                lk.students.by_id.insert(i, n);
            }
            if let Some(d) = f.get(c::DCID).and_then(int) {
                lk.students.by_dcid.insert(d, n);
            }
            if let Some(num) = f.trimmed(c::NUMBER) {
                lk.students.by_key.insert(num.to_owned(), n);
            }
        }
    }
    Ok(result)
}

/// A Students row → demographics: FedEthnicity and the student's
/// StudentRace rows. Nothing when neither says anything.
pub fn demographics(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    s: &Settings,
    out: &mut BatchBuilder,
) -> Result<Out, Error> {
    use student_cols as c;
    let Some((_, id)) = student_of_row(f, lk) else { return Ok(Out::Skip) };
    let hispanic = match f.trimmed(c::FEDETHNICITY) {
        Some("1") => Some(true),
        Some("0") => Some(false),
        _ => None,
    };
    let races: Option<Vec<&str>> = crate::map_activity::race_key(f, lk)
        .map(|k| lk.races.get(k).map(|c| &**c).collect::<Vec<&str>>())
        .filter(|v| !v.is_empty());
    let mut d =
        Demographics { person_id: Some(id.clone()), hispanic_or_latino: hispanic, ..Demographics::default() };
    let mut unknown: Vec<&str> = Vec::new();
    if let Some(codes) = &races {
        let mut count = 0;
        for flag in codes::RACE_FIELDS {
            d.set_race(flag, false);
        }
        for &code in codes {
            let field = s.race_codes.get(code.trim()).copied().or_else(|| codes::race_field(code));
            match field {
                Some("hispanic_or_latino") => d.hispanic_or_latino = Some(true),
                Some(flag) => {
                    d.set_race(flag, true);
                    count += 1;
                }
                None => unknown.push(code),
            }
        }
        d.two_or_more_races = Some(count >= 2);
    }
    let mut meta = ctx.meta(id);
    f.ext_into(&mut meta);
    if f.has(c::FEDETHNICITY) && hispanic.is_none() {
        f.keep(c::FEDETHNICITY, &mut meta);
    }
    if !unknown.is_empty() {
        meta.ext.insert("StudentRace.RaceCD", unknown.join(","));
    }
    if d.hispanic_or_latino.is_none() && races.is_none() && meta.ext.is_empty() {
        return Ok(Out::Skip);
    }
    d.meta = meta;
    ctx.emit(out, Ok(d))
}

/// Sets one race flag of a demographics record by its field name.
trait SetRace {
    fn set_race(&mut self, field: &str, v: bool);
}

impl SetRace for Demographics {
    fn set_race(&mut self, field: &str, v: bool) {
        let slot = match field {
            "american_indian_or_alaska_native" => &mut self.american_indian_or_alaska_native,
            "asian" => &mut self.asian,
            "black_or_african_american" => &mut self.black_or_african_american,
            "native_hawaiian_or_other_pacific_islander" => {
                &mut self.native_hawaiian_or_other_pacific_islander
            }
            _ => &mut self.white,
        };
        *slot = Some(v);
    }
}

/// A legacy contact slot of Students.
struct Slot {
    key: &'static str,
    name: usize,
    phones: &'static [(usize, &'static str)],
    relationship: Option<Relationship>,
    rel_col: Option<usize>,
    parent: bool,
}

const SLOTS: &[Slot] = {
    use student_cols as c;
    &[
        Slot {
            key: "mother",
            name: c::MOTHER,
            phones: &[(c::MOTHER_HOME, "home"), (c::MOTHER_DAY, "work")],
            relationship: Some(Relationship::Mother),
            rel_col: None,
            parent: true,
        },
        Slot {
            key: "father",
            name: c::FATHER,
            phones: &[(c::FATHER_HOME, "home"), (c::FATHER_DAY, "work")],
            relationship: Some(Relationship::Father),
            rel_col: None,
            parent: true,
        },
        Slot {
            key: "guardian",
            name: c::GUARDIAN,
            phones: &[(c::GUARDIAN_DAY, "work")],
            relationship: Some(Relationship::Guardian),
            rel_col: None,
            parent: true,
        },
        Slot {
            key: "emerg1",
            name: c::EMERG1,
            phones: &[(c::EPHONE1, "home")],
            relationship: None,
            rel_col: Some(c::EREL1),
            parent: false,
        },
        Slot {
            key: "emerg2",
            name: c::EMERG2,
            phones: &[(c::EPHONE2, "home")],
            relationship: None,
            rel_col: Some(c::EREL2),
            parent: false,
        },
        Slot {
            key: "emerg3",
            name: c::EMERG3,
            phones: &[(c::EPHONE3, "home")],
            relationship: None,
            rel_col: Some(c::EREL3),
            parent: false,
        },
    ]
};

/// A Students row's legacy contact fields → contacts (`contacts = true`) or
/// student contacts. Ids: `<student id>:mother`, `:father`, `:guardian`,
/// `:emerg1`…`:emerg3`. GuardianEmail goes to the first parent listed.
pub fn legacy_contacts(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    contacts: bool,
    out: &mut BatchBuilder,
) -> Result<Out, Error> {
    use student_cols as c;
    let Some((_, sid)) = student_of_row(f, lk) else { return Ok(Out::Skip) };
    let mut result = Out::Skip;
    let mut email = f.get(c::GUARDIANEMAIL);
    let mut priority = 0;
    for slot in SLOTS {
        let Some(full) = f.get(slot.name) else { continue };
        priority += 1;
        let id = format!("{sid}:{}", slot.key);
        if !contacts && !lk.contacts.seen.contains_key(&id) {
            continue;
        }
        let mut meta = ctx.meta(id.clone());
        if let Some(o) = &mut meta.origin {
            o.raw = None;
        }
        let r = if contacts {
            let (first, middle, last) = values::split_name(full);
            let rec = if first.is_empty() {
                Err(Bad::at(f, slot.name, "the contact's name has no given name"))
            } else {
                let mut k = Contact {
                    meta,
                    first_name: first,
                    middle_name: middle,
                    last_name: last,
                    ..Contact::default()
                };
                for (col, kind) in slot.phones {
                    let v = f.get(*col).map(str::to_owned);
                    match *kind {
                        "home" if k.phone_home.is_none() => k.phone_home = v,
                        _ if k.phone_work.is_none() => k.phone_work = v,
                        _ => {}
                    }
                }
                if slot.parent {
                    k.email = email.take().map(str::to_owned);
                }
                Ok(k)
            };
            let r = ctx.emit(out, rec)?;
            if r == Out::Record {
                lk.contacts.add(&id);
            }
            r
        } else {
            let relationship = match (slot.relationship, slot.rel_col.and_then(|rc| f.get(rc))) {
                (Some(r), _) => Some(Code::mapped(r, slot.key)),
                (None, Some(text)) => Some(Code::normalize(text)),
                (None, None) => None,
            };
            let sc = StudentContact {
                meta,
                student_id: Some(sid.clone()),
                contact_id: Some(id),
                relationship,
                custodial: None,
                emergency: Some(!slot.parent),
                lives_with: None,
                receives_mail: None,
                priority: Some(priority),
            };
            ctx.emit(out, Ok(sc))?
        };
        if r == Out::Record || result == Out::Skip {
            result = r;
        }
    }
    Ok(result)
}

columns!(users_cols {
    DCID = ["dcid"] Yes,
    ID = ["id"] No,
    USERS_DCID = ["usersdcid"] Yes,
    NUMBER = ["teachernumber"] Yes,
    STATE_ID = ["sifstateprid"] Yes,
    FIRST = ["firstname"] Yes,
    MIDDLE = ["middlename"] Yes,
    LAST = ["lastname"] Yes,
    EMAIL = ["emailaddr"] Yes,
    LOGIN = ["teacherloginid", "loginid"] Yes,
    TITLE = ["title"] Yes,
    HOME_SCHOOL = ["homeschoolid"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    STATUS = ["status"] Yes,
    STAFF_STATUS = ["staffstatus"] Yes,
    PHONE = ["homephone"] Yes,
});

columns!(schoolstaff_cols {
    ID = ["id"] No,
    USERS_DCID = ["usersdcid"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    STATUS = ["status"] Yes,
    STAFF_STATUS = ["staffstatus"] Yes,
});

/// A SchoolStaff row: one person's affiliation with one school.
pub fn schoolstaff_row(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &mut Lookups) -> Result<(), Bad> {
    use schoolstaff_cols as c;
    let ss = ctx.int(f, c::ID)?.ok_or_else(|| Bad::at(f, c::ID, "ID is missing"))?;
    let user =
        ctx.int(f, c::USERS_DCID)?.ok_or_else(|| Bad::at(f, c::USERS_DCID, "Users_DCID is missing"))?;
    let school = ctx.int(f, c::SCHOOLID)?;
    let prefix = format!("SchoolStaff[{}].", school.map_or_else(String::new, |s| s.to_string()));
    let a = Affiliation {
        school,
        status: f.trimmed(c::STATUS).map(str::to_owned),
        staff_status: f.trimmed(c::STAFF_STATUS).map(str::to_owned),
        ext: f.ext_pairs(&prefix),
    };
    lk.affiliations.entry(user).or_default().push((ss, a));
    Ok(())
}

/// The person key of a Teachers row: Users_DCID, else TeacherNumber, else
/// DCID or ID (then a teacher at two schools is two staff members).
pub fn teacher_key(f: &Fields<'_>) -> Option<String> {
    use users_cols as c;
    f.trimmed(c::USERS_DCID)
        .or_else(|| f.trimmed(c::NUMBER))
        .or_else(|| f.trimmed(c::DCID))
        .or_else(|| f.trimmed(c::ID))
        .map(str::to_owned)
}

/// First pass over a Teachers export: each person's schools.
pub fn teacher_prescan(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &mut Lookups) {
    use users_cols as c;
    let Some(key) = teacher_key(f) else { return };
    let ss = ctx.int(f, c::ID).ok().flatten().unwrap_or(0);
    let school = ctx.int(f, c::SCHOOLID).ok().flatten();
    let prefix = format!("Teachers[{}].", school.map_or_else(String::new, |s| s.to_string()));
    let mut ext = f.ext_pairs(&prefix);
    if let Some(dcid) = f.get(c::DCID) {
        // The view's DCID is its SchoolStaff row's, not the person's.
        ext.push((
            format!("{prefix}{}", f.header(c::DCID).rsplit(['.', ']']).next().unwrap_or("DCID")),
            dcid.to_owned(),
        ));
    }
    let a = Affiliation {
        school,
        status: f.trimmed(c::STATUS).map(str::to_owned),
        staff_status: f.trimmed(c::STAFF_STATUS).map(str::to_owned),
        ext,
    };
    lk.teacher_rows.entry(key).or_default().push((ss, a));
}

/// A Users row (with its SchoolStaff rows) or the first Teachers row of a
/// person → a staff member; later Teachers rows of the person are folded.
pub fn staff(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    teachers: bool,
    out: &mut BatchBuilder,
) -> Result<Out, Error> {
    use users_cols as c;
    let id = if teachers {
        teacher_key(f)
    } else {
        dcid_or_id(f, c::DCID, c::ID).or_else(|| f.trimmed(c::NUMBER).map(str::to_owned))
    };
    let id = id.unwrap_or_default();
    ctx.id.clone_from(&id);
    if teachers && lk.staff.seen.contains_key(&id) {
        return Ok(Out::Folded);
    }
    let affiliations: Vec<(i64, Affiliation)> = if teachers {
        lk.teacher_rows.get(&id).cloned().unwrap_or_default()
    } else {
        f.get(c::DCID).and_then(int).and_then(|d| lk.affiliations.get(&d)).cloned().unwrap_or_default()
    };
    let rec = (|| {
        if id.is_empty() {
            return Err(Bad::row("the row has no DCID, ID or TeacherNumber"));
        }
        if lk.staff.seen.contains_key(&id) {
            return Err(Bad::row("another staff row has this id"));
        }
        let mut meta = ctx.meta(id.clone());
        if !teachers {
            id_alts(&mut meta, f, c::DCID, c::ID);
            f.ext_into(&mut meta);
        }
        let home = f.get(c::HOME_SCHOOL).or(f.get(c::SCHOOLID)).and_then(int);
        let home_known = home.filter(|h| lk.schools.contains_key(h));
        if home.is_some() && home_known.is_none() {
            f.keep(c::HOME_SCHOOL, &mut meta);
        }
        let main = affiliations
            .iter()
            .find(|(_, a)| a.school.is_some() && a.school == home)
            .or(affiliations.first());
        let staff_status = main.and_then(|(_, a)| a.staff_status.as_deref()).or(f.trimmed(c::STAFF_STATUS));
        let title = f.get(c::TITLE);
        let role = (staff_status.is_some() || title.is_some()).then(|| {
            Code::mapped(codes::staff_role(staff_status, title), staff_status.or(title).unwrap_or_default())
        });
        let active = if affiliations.is_empty() {
            f.trimmed(c::STATUS).map(|s| s == "1")
        } else {
            Some(affiliations.iter().any(|(_, a)| a.status.as_deref() == Some("1")))
        };
        for (_, a) in &affiliations {
            for (k, v) in &a.ext {
                meta.ext.insert(k.as_str(), v.as_str());
            }
        }
        Ok(Staff {
            meta,
            staff_number: f.get(c::NUMBER).map(str::to_owned),
            state_id: f.get(c::STATE_ID).map(str::to_owned),
            first_name: f.get(c::FIRST).unwrap_or_default().to_owned(),
            middle_name: f.get(c::MIDDLE).map(str::to_owned),
            last_name: f.get(c::LAST).unwrap_or_default().to_owned(),
            role,
            title: title.map(str::to_owned),
            school_id: home_known.map(|h| h.to_string()),
            active,
            email: f.get(c::EMAIL).map(str::to_owned),
            phone: f.get(c::PHONE).map(str::to_owned),
            username: f.get(c::LOGIN).map(str::to_owned),
        })
    })();
    let result = ctx.emit(out, rec)?;
    if result == Out::Record {
        if let Some(n) = lk.staff.add(&id) {
            if let Some(d) = f.get(c::DCID).and_then(int).filter(|_| !teachers) {
                lk.staff.by_dcid.insert(d, n);
            }
            if let Some(num) = f.trimmed(c::NUMBER) {
                lk.staff.by_key.insert(num.to_owned(), n);
            }
            for (ss, _) in &affiliations {
                lk.staff.by_id.insert(*ss, n);
            }
            if teachers {
                if let Some(ss) = f.get(c::ID).and_then(int) {
                    lk.staff.by_id.insert(ss, n);
                }
            }
        }
    }
    Ok(result)
}

/// A Teachers row when Users was read: maps its ID to the staff member.
pub fn teacher_index_row(f: &Fields<'_>, lk: &mut Lookups) -> Result<(), Bad> {
    use users_cols as c;
    let ss = f.get(c::ID).and_then(int).ok_or_else(|| Bad::at(f, c::ID, "ID is missing"))?;
    let staff = f
        .get(c::USERS_DCID)
        .and_then(int)
        .and_then(|u| lk.staff.by_dcid.get(&u))
        .or_else(|| f.trimmed(c::NUMBER).and_then(|n| lk.staff.by_key.get(n)))
        .copied()
        .ok_or_else(|| Bad::at(f, c::USERS_DCID, "the teacher is not among the Users read"))?;
    lk.staff.by_id.insert(ss, staff);
    Ok(())
}

// ----- The Person model -------------------------------------------------

columns!(codeset_cols {
    ID = ["codesetid"] Yes,
    CODE = ["code"] Yes,
    DISPLAY = ["displayvalue"] Yes,
});

columns!(email_cols {
    ID = ["emailaddressid"] Yes,
    EMAIL = ["emailaddress"] Yes,
});

columns!(phone_cols {
    ID = ["phonenumberid"] Yes,
    NUMBER = ["phonenumber"] Yes,
    EXT = ["phonenumberext"] Yes,
});

columns!(address_cols {
    ID = ["personaddressid"] Yes,
    STREET = ["street"] Yes,
    LINE2 = ["linetwo"] Yes,
    UNIT = ["unit"] Yes,
    CITY = ["city"] Yes,
    STATE = ["statescodesetid"] Yes,
    POSTAL = ["postalcode"] Yes,
});

columns!(link_cols {
    PERSON = ["personid"] Yes,
    EMAIL = ["emailaddressid"] Yes,
    PHONE = ["phonenumberid"] Yes,
    ADDRESS = ["personaddressid"] Yes,
    EMAIL_TYPE = ["emailtypecodesetid"] Yes,
    PHONE_TYPE = ["phonetypecodesetid"] Yes,
    ADDRESS_TYPE = ["addresstypecodesetid"] Yes,
    EMAIL_PRIMARY = ["isprimaryemailaddress"] Yes,
    PHONE_PREFERRED = ["ispreferred"] Yes,
    EMAIL_ORDER = ["emailaddresspriorityorder"] Yes,
    PHONE_ORDER = ["phonenumberpriorityorder"] Yes,
    ADDRESS_ORDER = ["addresspriorityorder"] Yes,
    AS_ENTERED = ["phonenumberasentered"] Yes,
});

columns!(detail_cols {
    ASSOC = ["studentcontactassocid"] Yes,
    RELATIONSHIP = ["relationshiptypecodesetid"] Yes,
    ACTIVE = ["isactive"] Yes,
    CUSTODIAL = ["iscustodial"] Yes,
    EMERGENCY = ["isemergency"] Yes,
    LIVES_WITH = ["liveswithflg"] Yes,
    MAIL = ["receivesmailflg"] Yes,
});

/// Which lookup of the Person model a file feeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersonPart {
    /// CodeSet.
    CodeSet,
    /// EmailAddress.
    Email,
    /// PersonEmailAddressAssoc.
    PersonEmail,
    /// PhoneNumber.
    Phone,
    /// PersonPhoneNumberAssoc.
    PersonPhone,
    /// PersonAddress.
    Address,
    /// PersonAddressAssoc.
    PersonAddress,
    /// StudentContactDetail.
    Detail,
}

fn need(ctx: &Ctx<'_>, f: &Fields<'_>, c: usize, what: &str) -> Result<i64, Bad> {
    ctx.int(f, c)?.ok_or_else(|| Bad::at(f, c, format!("{what} is missing")))
}

/// One row of a Person-model lookup table.
pub fn person_part(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &mut Lookups, part: PersonPart) -> Result<(), Bad> {
    match part {
        PersonPart::CodeSet => {
            use codeset_cols as c;
            let id = need(ctx, f, c::ID, "CodeSetID")?;
            let code = f.get(c::CODE).unwrap_or_default().to_owned();
            let display = f.get(c::DISPLAY).map_or_else(|| code.clone(), str::to_owned);
            lk.codesets.insert(id, CodeSetRow { code, display });
        }
        PersonPart::Email => {
            use email_cols as c;
            let id = need(ctx, f, c::ID, "EmailAddressID")?;
            lk.emails.insert(id, f.get(c::EMAIL).unwrap_or_default().into());
        }
        PersonPart::Phone => {
            use phone_cols as c;
            let id = need(ctx, f, c::ID, "PhoneNumberID")?;
            lk.phones
                .insert(id, (f.get(c::NUMBER).unwrap_or_default().into(), f.get(c::EXT).map(Into::into)));
        }
        PersonPart::Address => {
            use address_cols as c;
            let id = need(ctx, f, c::ID, "PersonAddressID")?;
            let mut street = f.get(c::STREET).unwrap_or_default().to_owned();
            for (col, sep) in [(c::LINE2, ", "), (c::UNIT, " #")] {
                if let Some(v) = f.get(col) {
                    street.push_str(sep);
                    street.push_str(v);
                }
            }
            lk.addresses.insert(
                id,
                Address {
                    street: street.into(),
                    city: f.get(c::CITY).map(Into::into),
                    state: f.get(c::STATE).and_then(int),
                    postal: f.get(c::POSTAL).map(Into::into),
                },
            );
        }
        PersonPart::PersonEmail | PersonPart::PersonPhone | PersonPart::PersonAddress => {
            use link_cols as c;
            let person = need(ctx, f, c::PERSON, "PersonID")?;
            let (target, kind, order, preferred) = match part {
                PersonPart::PersonEmail => (c::EMAIL, c::EMAIL_TYPE, c::EMAIL_ORDER, c::EMAIL_PRIMARY),
                PersonPart::PersonPhone => (c::PHONE, c::PHONE_TYPE, c::PHONE_ORDER, c::PHONE_PREFERRED),
                _ => (c::ADDRESS, c::ADDRESS_TYPE, c::ADDRESS_ORDER, usize::MAX),
            };
            let link = Link {
                target: need(ctx, f, target, "the linked id")?,
                kind: ctx.int(f, kind)?,
                priority: ctx.int(f, order)?.unwrap_or(i64::MAX),
                preferred: ctx.flag(f, preferred)?.unwrap_or(false),
                as_entered: f.get(c::AS_ENTERED).map(Into::into),
            };
            let map = match part {
                PersonPart::PersonEmail => &mut lk.person_emails,
                PersonPart::PersonPhone => &mut lk.person_phones,
                _ => &mut lk.person_addresses,
            };
            map.push(person, link);
        }
        PersonPart::Detail => {
            use detail_cols as c;
            let assoc = need(ctx, f, c::ASSOC, "StudentContactAssocID")?;
            if lk.detail_ext_keys.is_empty() {
                lk.detail_ext_keys = f.ext_keys().map(|k| format!("StudentContactDetail.{k}")).collect();
            }
            let d = Detail {
                relationship: ctx.int(f, c::RELATIONSHIP)?,
                active: ctx.flag(f, c::ACTIVE)?,
                custodial: ctx.flag(f, c::CUSTODIAL)?,
                emergency: ctx.flag(f, c::EMERGENCY)?,
                lives_with: ctx.flag(f, c::LIVES_WITH)?,
                receives_mail: ctx.flag(f, c::MAIL)?,
                ext: f.ext_values_joined().into(),
            };
            lk.details.push(assoc, d);
        }
    }
    Ok(())
}

fn best<'l>(links: impl Iterator<Item = &'l Link>) -> impl Iterator<Item = &'l Link> {
    let mut v: Vec<&Link> = links.collect();
    v.sort_by_key(|l| (!l.preferred, l.priority));
    v.into_iter()
}

columns!(person_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    FIRST = ["firstname"] Yes,
    MIDDLE = ["middlename"] Yes,
    LAST = ["lastname"] Yes,
});

/// A Person row → a contact, with its email (primary, else first in
/// order), phones by type (home, mobile, work) and home address.
pub fn person(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    out: &mut BatchBuilder,
) -> Result<Out, Error> {
    use person_cols as c;
    let id = dcid_or_id(f, c::DCID, c::ID).unwrap_or_default();
    ctx.id.clone_from(&id);
    let pid = f.get(c::ID).and_then(int).or_else(|| f.get(c::DCID).and_then(int));
    let rec = (|| {
        if id.is_empty() {
            return Err(Bad::row("the row has no DCID or ID"));
        }
        if lk.contacts.seen.contains_key(&id) {
            return Err(Bad::row("another Person row has this id"));
        }
        let mut meta = ctx.meta(id.clone());
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        let mut k = Contact {
            meta,
            first_name: f.get(c::FIRST).unwrap_or_default().to_owned(),
            middle_name: f.get(c::MIDDLE).map(str::to_owned),
            last_name: f.get(c::LAST).unwrap_or_default().to_owned(),
            ..Contact::default()
        };
        if let Some(p) = pid {
            k.email =
                best(lk.person_emails.get(p)).find_map(|l| lk.emails.get(&l.target)).map(|e| e.to_string());
            for l in best(lk.person_phones.get(p)) {
                let kind =
                    l.kind.and_then(|k| lk.codesets.get(&k)).and_then(|cs| codes::phone_kind(&cs.display));
                let number = l.as_entered.as_deref().map(str::to_owned).or_else(|| {
                    lk.phones.get(&l.target).map(|(n, ext)| match ext {
                        Some(e) => format!("{n} x{e}"),
                        None => n.to_string(),
                    })
                });
                let slot = match kind {
                    Some("mobile") => &mut k.phone_mobile,
                    Some("work") => &mut k.phone_work,
                    _ => &mut k.phone_home,
                };
                if slot.is_none() {
                    *slot = number;
                }
            }
            let mut addresses: Vec<&Link> = best(lk.person_addresses.get(p)).collect();
            addresses.sort_by_key(|l| {
                let home = l
                    .kind
                    .and_then(|k| lk.codesets.get(&k))
                    .is_some_and(|cs| cs.display.eq_ignore_ascii_case("home"));
                !home
            });
            if let Some(a) = addresses.first().and_then(|l| lk.addresses.get(&l.target)) {
                k.address = (!a.street.is_empty()).then(|| a.street.to_string());
                k.city = a.city.as_deref().map(str::to_owned);
                k.region = a.state.and_then(|s| lk.codesets.get(&s)).map(|cs| cs.code.clone());
                k.postal_code = a.postal.as_deref().map(str::to_owned);
            }
        }
        Ok(k)
    })();
    let result = ctx.emit(out, rec)?;
    if result == Out::Record {
        if let Some(n) = lk.contacts.add(&id) {
            if let Some(p) = pid {
                lk.contacts.by_id.insert(p, n);
            }
        }
    }
    Ok(result)
}

columns!(assoc_cols {
    ID = ["studentcontactassocid"] Yes,
    STUDENT = ["studentdcid"] Yes,
    PERSON = ["personid"] Yes,
    PRIORITY = ["contactpriorityorder"] Yes,
    RELATIONSHIP = ["currreltypecodesetid"] Yes,
});

fn relationship(lk: &Lookups, id: i64) -> Code<Relationship> {
    match lk.codesets.get(&id) {
        Some(cs) => Code::mapped(Relationship::normalize(&cs.display), cs.display.clone()),
        None => Code::mapped(Relationship::Other, id.to_string()),
    }
}

/// A StudentContactAssoc row (with its active StudentContactDetail) → a
/// student contact.
pub fn contact_assoc(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    out: &mut BatchBuilder,
) -> Result<Out, Error> {
    use assoc_cols as c;
    let id = f.trimmed(c::ID).unwrap_or_default().to_owned();
    ctx.id.clone_from(&id);
    let rec = (|| {
        let assoc = need(ctx, f, c::ID, "StudentContactAssocID")?;
        let sdcid = need(ctx, f, c::STUDENT, "StudentDCID")?;
        let student = lk
            .students
            .by_dcid
            .get(&sdcid)
            .ok_or_else(|| Bad::at(f, c::STUDENT, "the student is not among the students read"))?;
        let pid = need(ctx, f, c::PERSON, "PersonID")?;
        let contact = lk
            .contacts
            .by_id
            .get(&pid)
            .ok_or_else(|| Bad::at(f, c::PERSON, "the contact is not among the Person rows read"))?;
        let detail =
            lk.details.get(assoc).find(|d| d.active == Some(true)).or_else(|| lk.details.get(assoc).next());
        let mut meta = ctx.meta(id.clone());
        f.ext_into(&mut meta);
        if let Some(d) = detail {
            for (k, v) in lk.detail_ext_keys.iter().zip(d.ext.split('\u{1f}')) {
                if !crate::row::blank(v) {
                    meta.ext.insert(k.as_str(), v);
                }
            }
        }
        let rel = detail.and_then(|d| d.relationship).or(ctx.int(f, c::RELATIONSHIP)?);
        Ok(StudentContact {
            meta,
            student_id: Some(lk.students.id(*student).to_owned()),
            contact_id: Some(lk.contacts.id(*contact).to_owned()),
            relationship: rel.map(|r| relationship(lk, r)),
            custodial: detail.and_then(|d| d.custodial),
            emergency: detail.and_then(|d| d.emergency),
            lives_with: detail.and_then(|d| d.lives_with),
            receives_mail: detail.and_then(|d| d.receives_mail),
            priority: ctx.int(f, c::PRIORITY)?,
        })
    })();
    ctx.emit(out, rec)
}

columns!(flat_cols {
    CONTACT = ["contactid"] Yes,
    STUDENT = ["students.studentnumber", "studentnumber"] Yes,
    RELATIONSHIP = ["relationship"] Yes,
    PRIORITY = ["contactpriorityorder", "priority"] Yes,
    FIRST = ["firstname"] Yes,
    MIDDLE = ["middlename"] Yes,
    LAST = ["lastname"] Yes,
    EMAIL = ["email", "emailaddress"] Yes,
    HOME = ["homephone"] Yes,
    MOBILE = ["mobilephone"] Yes,
    WORK = ["workphone"] Yes,
    STREET = ["street"] Yes,
    CITY = ["city"] Yes,
    STATE = ["state"] Yes,
    ZIP = ["zip", "postalcode"] Yes,
    CUSTODIAL = ["iscustodial"] Yes,
    EMERGENCY = ["isemergency"] Yes,
    LIVES_WITH = ["liveswithflg"] Yes,
    MAIL = ["receivesmailflg"] Yes,
});

/// A row of Ferry's flat contacts layout → the contact (first row naming
/// it; `contacts = true`) or the student contact.
pub fn flat_contact(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    contacts: bool,
    seen: &mut HashMap<String, ()>,
    out: &mut BatchBuilder,
) -> Result<Out, Error> {
    use flat_cols as c;
    let cid = f.trimmed(c::CONTACT).unwrap_or_default().to_owned();
    if contacts {
        if cid.is_empty() || seen.contains_key(&cid) {
            return Ok(Out::Skip);
        }
        ctx.id.clone_from(&cid);
        let mut meta = ctx.meta(cid.clone());
        f.ext_into(&mut meta);
        let k = Contact {
            meta,
            first_name: f.get(c::FIRST).unwrap_or_default().to_owned(),
            middle_name: f.get(c::MIDDLE).map(str::to_owned),
            last_name: f.get(c::LAST).unwrap_or_default().to_owned(),
            email: f.get(c::EMAIL).map(str::to_owned),
            phone_home: f.get(c::HOME).map(str::to_owned),
            phone_mobile: f.get(c::MOBILE).map(str::to_owned),
            phone_work: f.get(c::WORK).map(str::to_owned),
            address: f.get(c::STREET).map(str::to_owned),
            city: f.get(c::CITY).map(str::to_owned),
            region: f.get(c::STATE).map(str::to_owned),
            postal_code: f.get(c::ZIP).map(str::to_owned),
        };
        seen.insert(cid.clone(), ());
        let r = ctx.emit(out, Ok(k))?;
        if r == Out::Record {
            if let Some(n) = lk.contacts.add(&cid) {
                lk.contacts.by_key.insert(cid, n);
            }
        }
        return Ok(r);
    }
    let number = f.trimmed(c::STUDENT).unwrap_or_default();
    ctx.id = format!("{cid}:{number}");
    let rec = (|| {
        let student = lk
            .students
            .by_key
            .get(number)
            .ok_or_else(|| Bad::at(f, c::STUDENT, "the student is not among the students read"))?;
        let contact = lk
            .contacts
            .by_key
            .get(&cid)
            .ok_or_else(|| Bad::at(f, c::CONTACT, "the contact is not among the contacts read"))?;
        let sid = lk.students.id(*student).to_owned();
        let mut meta = ctx.meta(format!("{cid}:{sid}"));
        f.ext_into(&mut meta);
        Ok(StudentContact {
            meta,
            student_id: Some(sid),
            contact_id: Some(lk.contacts.id(*contact).to_owned()),
            relationship: f.get(c::RELATIONSHIP).map(|r| Code::mapped(Relationship::normalize(r), r)),
            custodial: ctx.flag(f, c::CUSTODIAL)?,
            emergency: ctx.flag(f, c::EMERGENCY)?,
            lives_with: ctx.flag(f, c::LIVES_WITH)?,
            receives_mail: ctx.flag(f, c::MAIL)?,
            priority: ctx.int(f, c::PRIORITY)?,
        })
    })();
    ctx.emit(out, rec)
}

/// Which entity a Person-model lookup's rejects are filed under.
pub fn person_part_entity(part: PersonPart) -> EntityKind {
    match part {
        PersonPart::Detail | PersonPart::CodeSet => EntityKind::StudentContacts,
        _ => EntityKind::Contacts,
    }
}
