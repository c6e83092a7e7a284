//! The Person contact model: CodeSet, EmailAddress, PhoneNumber,
//! PersonAddress and their Assoc tables and StudentContactDetail (lookups),
//! Person → contacts, StudentContactAssoc → student contacts.

use ferry_sdk::model::{Code, CodeSet, Contact, Relationship, StudentContact};
use ferry_sdk::{BatchBuilder, Error};

use crate::codes;
use crate::columns::columns;
use crate::fields::Fields;
use crate::ids::{dcid_or_id, id_alts};
use crate::lookups::{Address, CodeSetRow, Detail, Link, Lookups, NO_STUDENT, ParentKey, RejectedRow};
use crate::row::{Bad, Ctx, RowOutcome};
use crate::values::int;

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
    ID = ["studentcontactdetailid"] Yes,
    PICKUP = ["schoolpickupflg"] Yes,
    CONFIDENTIAL = ["confidentialcommflag", "confidentialcomm"] Yes,
    START = ["startdate"] Yes,
    END = ["enddate"] Yes,
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

/// One row of a Person-model lookup table.
pub fn person_part(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &mut Lookups, part: PersonPart) -> Result<(), Bad> {
    match part {
        PersonPart::CodeSet => {
            use codeset_cols as c;
            let id = ctx.need(f, c::ID, "CodeSetID")?;
            let code = f.get(c::CODE).unwrap_or_default().to_owned();
            let display = f.get(c::DISPLAY).map_or_else(|| code.clone(), str::to_owned);
            lk.codesets.insert(id, CodeSetRow { code, display });
        }
        PersonPart::Email => {
            use email_cols as c;
            let id = ctx.need(f, c::ID, "EmailAddressID")?;
            lk.emails.insert(id, f.get(c::EMAIL).unwrap_or_default().into());
        }
        PersonPart::Phone => {
            use phone_cols as c;
            let id = ctx.need(f, c::ID, "PhoneNumberID")?;
            lk.phones
                .insert(id, (f.get(c::NUMBER).unwrap_or_default().into(), f.get(c::EXT).map(Into::into)));
        }
        PersonPart::Address => {
            use address_cols as c;
            let id = ctx.need(f, c::ID, "PersonAddressID")?;
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
            let person = ctx.need(f, c::PERSON, "PersonID")?;
            let (target, kind, order, preferred) = match part {
                PersonPart::PersonEmail => (c::EMAIL, c::EMAIL_TYPE, c::EMAIL_ORDER, c::EMAIL_PRIMARY),
                PersonPart::PersonPhone => (c::PHONE, c::PHONE_TYPE, c::PHONE_ORDER, c::PHONE_PREFERRED),
                _ => (c::ADDRESS, c::ADDRESS_TYPE, c::ADDRESS_ORDER, usize::MAX),
            };
            let link = Link {
                target: ctx.need(f, target, "the linked id")?,
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
            let assoc = ctx.need(f, c::ASSOC, "StudentContactAssocID")?;
            if lk.detail_ext_keys.is_empty() {
                lk.detail_ext_keys = f.ext_keys().map(|k| format!("StudentContactDetail.{k}")).collect();
            }
            let d = Detail {
                id: ctx.int(f, c::ID)?,
                relationship: ctx.int(f, c::RELATIONSHIP)?,
                active: ctx.flag(f, c::ACTIVE)?,
                custodial: ctx.flag(f, c::CUSTODIAL)?,
                emergency: ctx.flag(f, c::EMERGENCY)?,
                lives_with: ctx.flag(f, c::LIVES_WITH)?,
                receives_mail: ctx.flag(f, c::MAIL)?,
                school_pickup: ctx.flag(f, c::PICKUP)?,
                confidential: ctx.flag(f, c::CONFIDENTIAL)?,
                start: ctx.date(f, c::START)?,
                end: ctx.date(f, c::END)?,
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
) -> Result<RowOutcome, Error> {
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
    if result == RowOutcome::Record
        && let Some(n) = lk.contacts.add(&id)
        && let Some(p) = pid
    {
        lk.contacts.by_id.insert(p, n);
    }
    Ok(result)
}

/// Notes the keys of a rejected Person row.
pub fn person_rejected(f: &Fields<'_>, lk: &mut Lookups, at: &RejectedRow) {
    use person_cols as c;
    if let Some(p) = f.get(c::ID).and_then(int).or_else(|| f.get(c::DCID).and_then(int)) {
        lk.rejected.note(ParentKey::PersonId(p), at);
    }
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

/// A StudentContactAssoc row → one student contact per StudentContactDetail
/// row of the association (each a period of the relationship, with its
/// flags and dates), or one without details when there are none. The
/// current detail (active, else the last) keeps the association's id; the
/// others are `<assoc id>:<detail id>`.
pub fn contact_assoc(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use assoc_cols as c;
    let id = f.trimmed(c::ID).unwrap_or_default().to_owned();
    ctx.id.clone_from(&id);
    let parents = (|| {
        let assoc = ctx.need(f, c::ID, "StudentContactAssocID")?;
        let sdcid = ctx.need(f, c::STUDENT, "StudentDCID")?;
        let student = lk.students.by_dcid.get(&sdcid).ok_or_else(|| {
            Bad::at(f, c::STUDENT, lk.rejected.why(&ParentKey::StudentDcid(sdcid), "student", NO_STUDENT))
        })?;
        let pid = ctx.need(f, c::PERSON, "PersonID")?;
        let contact = lk.contacts.by_id.get(&pid).ok_or_else(|| {
            let why = lk.rejected.why(
                &ParentKey::PersonId(pid),
                "contact",
                "the contact is not among the Person rows read",
            );
            Bad::at(f, c::PERSON, why)
        })?;
        Ok((assoc, *student, *contact))
    })();
    let (assoc, student, contact) = match parents {
        Ok(p) => p,
        Err(bad) => return ctx.emit::<StudentContact>(out, Err(bad)),
    };
    let details: Vec<&Detail> = lk.details.get(assoc).collect();
    let current =
        details.iter().rposition(|d| d.active == Some(true)).or_else(|| details.len().checked_sub(1));
    let priority = ctx.opt_int(f, c::PRIORITY, "priority");
    let mut outcome = RowOutcome::Rejected;
    let n = details.len().max(1);
    for i in 0..n {
        let detail = details.get(i).copied();
        let record_id = match (detail, Some(i) == current || detail.is_none()) {
            (_, true) => id.clone(),
            (Some(d), false) => {
                format!("{id}:{}", d.id.map_or_else(|| (i + 1).to_string(), |d| d.to_string()))
            }
            (None, false) => id.clone(),
        };
        let mut meta = ctx.meta(record_id);
        f.ext_into(&mut meta);
        if let Some(d) = detail {
            for (k, v) in lk.detail_ext_keys.iter().zip(d.ext.split('\u{1f}')) {
                if !crate::fields::blank(v) {
                    meta.ext.insert(k.as_str(), v);
                }
            }
        }
        let rel = match detail.and_then(|d| d.relationship) {
            Some(r) => Some(r),
            None => ctx.opt_int(f, c::RELATIONSHIP, "relationship"),
        };
        let rec = StudentContact {
            meta,
            student_id: Some(lk.students.id(student).to_owned()),
            contact_id: Some(lk.contacts.id(contact).to_owned()),
            relationship: rel.map(|r| relationship(lk, r)),
            custodial: detail.and_then(|d| d.custodial),
            emergency: detail.and_then(|d| d.emergency),
            lives_with: detail.and_then(|d| d.lives_with),
            receives_mail: detail.and_then(|d| d.receives_mail),
            priority,
            school_pickup: detail.and_then(|d| d.school_pickup),
            restricted: None,
            restriction_note: None,
            confidential_communication: detail.and_then(|d| d.confidential),
            start_date: detail.and_then(|d| d.start),
            end_date: detail.and_then(|d| d.end),
        };
        // The row counts once: as a record when any of its periods is one.
        if ctx.emit(out, Ok(rec))? == RowOutcome::Record {
            outcome = RowOutcome::Record;
        }
    }
    Ok(outcome)
}
