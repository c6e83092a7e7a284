//! Contacts and student contacts → `contacts.txt`, one row per student and
//! contact (the layout Data Import Manager takes). Contacts are kept until
//! their student contacts arrive; a contact linked to no student written
//! has no row, and is a late reject.

use std::collections::{BTreeMap, HashSet};

use ferry_sdk::model::{Contact, EntityKind, RecordView, StudentContact};
use ferry_sdk::{Reject, SinkBatch, Written};

use super::files::ImportFile;
use super::output::{Cited, Line, Sheet};
use super::registry::Registry;

/// The contact's columns of a `contacts.txt` row (Contact_ID, then the
/// contact's own fields from First_Name on), formatted as `fields`.
fn contact_cells(line: &mut Line, c: &Contact) {
    line.text(&c.first_name)
        .opt(c.middle_name.as_deref())
        .text(&c.last_name)
        .opt(c.email.as_deref())
        .opt(c.phone_home.as_deref())
        .opt(c.phone_mobile.as_deref())
        .opt(c.phone_work.as_deref())
        .opt(c.address.as_deref())
        .opt(c.city.as_deref())
        .opt(c.region.as_deref())
        .opt(c.postal_code.as_deref());
}

/// Contacts kept for their student contacts.
#[derive(Debug, Default)]
pub struct Contacts {
    /// By id.
    kept: BTreeMap<String, Contact>,
    /// Ids of the contacts with a row written.
    linked: HashSet<String>,
}

impl Contacts {
    /// Keeps contacts whose values can be written.
    pub fn contacts(
        &mut self,
        sheet: &mut Sheet,
        reg: &mut Registry,
        batch: SinkBatch<'_>,
    ) -> Result<Written, ferry_sdk::Error> {
        let mut w = Written::default();
        let cols = ImportFile::Contacts.columns();
        // Contact_ID, then the contact's columns (First_Name on).
        let column = |i: usize| if i == 0 { cols[0] } else { cols.get(i + 3).copied().unwrap_or_default() };
        for r in batch.records::<Contact>()? {
            let who = Cited::of(&r.meta);
            if self.kept.contains_key(&r.meta.source.id) {
                w.rejects.push(who.reject(EntityKind::Contacts, "another contact has this id"));
                continue;
            }
            sheet.line.start().text(&r.meta.source.id);
            contact_cells(&mut sheet.line, &r);
            if let Some(rej) = sheet.probe(ImportFile::Contacts, EntityKind::Contacts, who, column) {
                reg.refuse(EntityKind::Contacts, &r.meta.source.id);
                w.rejects.push(rej);
                continue;
            }
            self.kept.insert(r.meta.source.id.clone(), r);
            w.written += 1;
        }
        Ok(w)
    }

    /// One `contacts.txt` row per student contact.
    pub fn student_contacts(
        &mut self,
        sheet: &mut Sheet,
        reg: &Registry,
        batch: SinkBatch<'_>,
    ) -> Result<Written, ferry_sdk::Error> {
        let v = batch.view::<StudentContact>()?;
        let m = v.meta();
        let mut w = Written::default();
        for i in 0..v.len() {
            let who = Cited::row(m, i);
            let student = v.student_id(i);
            let Some(number) = student.and_then(|s| reg.students.get(s)) else {
                w.rejects.push(reg.missing(
                    EntityKind::StudentContacts,
                    who,
                    "student_id",
                    EntityKind::Students,
                    student,
                    "the student",
                ));
                continue;
            };
            let contact_id = v.contact_id(i);
            let Some(contact) = contact_id.and_then(|c| self.kept.get(c)) else {
                w.rejects.push(reg.missing(
                    EntityKind::StudentContacts,
                    who,
                    "contact_id",
                    EntityKind::Contacts,
                    contact_id,
                    "the contact",
                ));
                continue;
            };
            let line = sheet.line.start();
            line.text(&contact.meta.source.id)
                .text(number)
                .original(v.relationship(i))
                .opt_int(v.priority(i));
            contact_cells(line, contact);
            line.flag(v.custodial(i)).flag(v.emergency(i)).flag(v.lives_with(i)).flag(v.receives_mail(i));
            match sheet.emit(ImportFile::Contacts, EntityKind::StudentContacts, who)? {
                None => {
                    if !self.linked.contains(&contact.meta.source.id) {
                        self.linked.insert(contact.meta.source.id.clone());
                    }
                    w.written += 1;
                }
                Some(rej) => w.rejects.push(rej),
            }
        }
        Ok(w)
    }

    /// Late rejects: the contacts no row was written for.
    pub fn unlinked(&self) -> Vec<Reject> {
        self.kept
            .iter()
            .filter(|(id, _)| !self.linked.contains(*id))
            .map(|(_, c)| {
                Cited::of(&c.meta).reject(
                    EntityKind::Contacts,
                    "the contact is linked to no student written here (contacts.txt has one row per student and contact)",
                )
            })
            .collect()
    }
}
