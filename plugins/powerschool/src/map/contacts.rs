//! Contacts without the Person model: the legacy Students fields (Mother,
//! Father, Guardian, Emerg_Contact_n) and Ferry's flat contacts layout (what
//! the sink writes), each → contacts and student contacts.

use std::collections::HashMap;

use ferry_sdk::model::{Code, CodeSet, Contact, Relationship, StudentContact};
use ferry_sdk::{BatchBuilder, Error};

use crate::columns::columns;
use crate::fields::Fields;
use crate::lookups::{Lookups, NO_STUDENT, ParentKey, RejectedRow};
use crate::map::students::{student_cols, student_of_row};
use crate::row::{Bad, Ctx, RowOutcome};
use crate::values;

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
) -> Result<RowOutcome, Error> {
    use student_cols as c;
    let Some((_, sid)) = student_of_row(f, lk) else { return Ok(RowOutcome::Skip) };
    let mut result = RowOutcome::Skip;
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
            if r == RowOutcome::Record {
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
                // Model 2.2 fields: not mapped from PowerSchool yet.
                school_pickup: None,
                restricted: None,
                restriction_note: None,
                confidential_communication: None,
                start_date: None,
                end_date: None,
            };
            ctx.emit(out, Ok(sc))?
        };
        if r == RowOutcome::Record || result == RowOutcome::Skip {
            result = r;
        }
    }
    Ok(result)
}

columns!(flat_cols {
    CONTACT = ["contactid", "personid"] Yes,
    STUDENT = ["students.studentnumber", "studentnumber"] Yes,
    RELATIONSHIP = ["relationship", "relationshiptype"] Yes,
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
    STUDENT_DCID = ["studentdcid"] Yes,
    ASSOC = ["studentcontactassocid"] Yes,
    PHONE = ["phone", "phonenumber"] Yes,
    PHONE_TYPE = ["phonetype"] Yes,
    PICKUP = ["schoolpickupflg"] Yes,
});

/// A row of Ferry's flat contacts layout, or of a contacts export with
/// StudentContactAssoc and Person columns side by side (`PersonID`,
/// `StudentDCID`, `StudentContactAssocID`, one `Phone` with its
/// `PhoneType`) → the contact (first row naming it; `contacts = true`) or
/// the student contact. A contact's id is its Contact_ID, or PersonID; a
/// student contact's is the StudentContactAssocID when the export has one,
/// else `<contact id>:<student id>`.
pub fn flat_contact(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    contacts: bool,
    seen: &mut HashMap<String, ()>,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use flat_cols as c;
    let cid = f.trimmed(c::CONTACT).unwrap_or_default().to_owned();
    if contacts {
        if cid.is_empty() || seen.contains_key(&cid) {
            return Ok(RowOutcome::Skip);
        }
        ctx.id.clone_from(&cid);
        let mut meta = ctx.meta(cid.clone());
        f.ext_into(&mut meta);
        let mut k = Contact {
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
        if let Some(phone) = f.get(c::PHONE) {
            let slot = match f.get(c::PHONE_TYPE).and_then(crate::codes::phone_kind) {
                Some("mobile") => &mut k.phone_mobile,
                Some("work") => &mut k.phone_work,
                _ => &mut k.phone_home,
            };
            if slot.is_none() {
                *slot = Some(phone.to_owned());
            }
        }
        seen.insert(cid.clone(), ());
        let r = ctx.emit(out, Ok(k))?;
        if r == RowOutcome::Record
            && let Some(n) = lk.contacts.add(&cid)
        {
            lk.contacts.by_key.insert(cid, n);
        }
        return Ok(r);
    }
    let number = f.trimmed(c::STUDENT).unwrap_or_default();
    let assoc = f.trimmed(c::ASSOC).map(str::to_owned);
    ctx.id = assoc.clone().unwrap_or_else(|| format!("{cid}:{number}"));
    let rec = (|| {
        let student = match f.get(c::STUDENT_DCID).and_then(values::int) {
            // The student's DCID, when the export has it (StudentContactAssoc's key).
            Some(dcid) if number.is_empty() || !lk.students.by_key.contains_key(number) => {
                lk.students.by_dcid.get(&dcid).ok_or_else(|| {
                    Bad::at(
                        f,
                        c::STUDENT_DCID,
                        lk.rejected.why(&ParentKey::StudentDcid(dcid), "student", NO_STUDENT),
                    )
                })?
            }
            _ => lk.students.by_key.get(number).ok_or_else(|| {
                let key = ParentKey::StudentNumber(number.to_owned());
                Bad::at(f, c::STUDENT, lk.rejected.why(&key, "student", NO_STUDENT))
            })?,
        };
        let contact = lk.contacts.by_key.get(&cid).ok_or_else(|| {
            let key = ParentKey::ContactId(cid.clone());
            Bad::at(
                f,
                c::CONTACT,
                lk.rejected.why(&key, "contact", "the contact is not among the contacts read"),
            )
        })?;
        let sid = lk.students.id(*student).to_owned();
        let mut meta = ctx.meta(assoc.clone().unwrap_or_else(|| format!("{cid}:{sid}")));
        f.ext_into(&mut meta);
        Ok(StudentContact {
            meta,
            student_id: Some(sid),
            contact_id: Some(lk.contacts.id(*contact).to_owned()),
            relationship: f.get(c::RELATIONSHIP).map(|r| Code::mapped(Relationship::normalize(r), r)),
            custodial: ctx.opt_flag(f, c::CUSTODIAL, "custodial"),
            emergency: ctx.opt_flag(f, c::EMERGENCY, "emergency"),
            lives_with: ctx.opt_flag(f, c::LIVES_WITH, "lives_with"),
            receives_mail: ctx.opt_flag(f, c::MAIL, "receives_mail"),
            priority: ctx.opt_int(f, c::PRIORITY, "priority"),
            school_pickup: ctx.opt_flag(f, c::PICKUP, "school_pickup"),
            restricted: None,
            restriction_note: None,
            confidential_communication: None,
            start_date: None,
            end_date: None,
        })
    })();
    ctx.emit(out, rec)
}

/// Notes the key of a contact of the flat layout that was rejected.
pub fn flat_contact_rejected(f: &Fields<'_>, lk: &mut Lookups, at: &RejectedRow) {
    if let Some(cid) = f.trimmed(flat_cols::CONTACT) {
        lk.rejected.note(ParentKey::ContactId(cid.to_owned()), at);
    }
}
