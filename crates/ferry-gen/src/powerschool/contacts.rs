//! A student's family in the Person model (Person, e-mail, phone and address
//! rows with their associations) and the StudentContactAssoc and
//! StudentContactDetail rows that link it to the student (with the district
//! tables, some associations also have a closed earlier detail row), and
//! the combined `contacts.txt` row of each.

use std::io;

use crate::day::Day;
use crate::names;
use crate::rng::Rng;

use super::codes::{CODESETS, cs};
use super::files::Files;
use super::model::Gen;
use super::text::{fold_ascii, phone};

pub(super) struct FamPerson {
    pub(super) id: i64,
    pub(super) rel: i64,
    pub(super) first: &'static str,
    pub(super) middle: &'static str,
    pub(super) last: &'static str,
    pub(super) email: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) phone_type: i64,
    pub(super) street: String,
    pub(super) city: &'static str,
    pub(super) custodial: bool,
}

pub(super) struct Family {
    pub(super) persons: Vec<FamPerson>,
    pub(super) street: String,
    pub(super) city: &'static str,
    pub(super) zip: String,
    pub(super) phone: String,
}

impl Gen {
    pub(super) fn family(
        &mut self,
        f: &mut Files,
        rng: &mut Rng,
        student_last: &'static str,
    ) -> io::Result<Family> {
        let (home_phone, home_digits) = phone(rng);
        let street =
            format!("{} {} {}", rng.range(1, 2999), rng.pick(names::STREETS), rng.pick(names::SUFFIXES));
        let city = rng.pick(names::CITIES);
        let zip = format!("07{:03}", rng.range(1, 999));
        let mut fam = Family { persons: Vec::new(), street, city, zip, phone: home_phone.clone() };
        let mother_first = rng.chance(0.6);
        let mut roles = vec![if mother_first { cs::MOTHER } else { cs::FATHER }];
        if rng.chance(0.65) {
            roles.push(if mother_first { cs::FATHER } else { cs::MOTHER });
        }
        if rng.chance(0.15) {
            roles.push(rng.pick(&[cs::GRANDMOTHER, cs::GRANDFATHER, cs::AUNT, cs::UNCLE, cs::GUARDIAN]));
        }
        let q = self.q();
        for rel in roles {
            let female = matches!(rel, cs::MOTHER | cs::GRANDMOTHER | cs::AUNT)
                || (rel == cs::GUARDIAN && rng.chance(0.5));
            let first = rng.pick(if female { names::FEMALE } else { names::MALE });
            let last = if rel == cs::MOTHER && rng.chance(0.2) || rel >= cs::GRANDMOTHER && rng.chance(0.5) {
                rng.pick(names::LAST)
            } else {
                student_last
            };
            let pid = self.next("person");
            let t = &mut f.person;
            t.i(pid);
            t.i(if q { pid + 200_000 } else { pid });
            t.s(first);
            let middle = if rng.chance(0.3) { rng.pick(names::FEMALE) } else { "" };
            t.s(middle);
            t.s(last);
            t.i(if female { cs::FEMALE } else { cs::MALE });
            t.s(rng.pick(names::EMPLOYERS));
            t.i(1);
            t.end()?;
            let mut email = None;
            if rng.chance(0.8) {
                let mut e = String::new();
                fold_ascii(first, &mut e);
                e.push('.');
                fold_ascii(last, &mut e);
                e.push_str(&format!(
                    "{}@{}",
                    pid % 97,
                    rng.pick(&["example.com", "example.net", "example.org"])
                ));
                let eid = self.next("email");
                f.email.i(eid);
                f.email.s(&e);
                f.email.end()?;
                let aid = self.next("person_email");
                let t = &mut f.person_email;
                t.i(aid);
                t.i(pid);
                t.i(eid);
                t.i(cs::EMAIL_CURRENT);
                t.i(1);
                t.i(1);
                t.end()?;
                email = Some(e);
            }
            let mut phones: Vec<(i64, String, String)> = Vec::new();
            if rng.chance(0.9) {
                let (shown, digits) = phone(rng);
                phones.push((cs::MOBILE, shown, digits));
            }
            if rel <= cs::FATHER && rng.chance(0.5) {
                phones.push((cs::HOME, home_phone.clone(), home_digits.clone()));
            }
            if rng.chance(0.3) {
                let (shown, digits) = phone(rng);
                phones.push((cs::WORK, shown, digits));
            }
            let preferred = phones.first().map(|p| p.1.clone());
            let phone_type = phones.first().map_or(0, |p| p.0);
            for (prio, (ty, shown, digits)) in phones.into_iter().enumerate() {
                let nid = self.next("phone");
                let t = &mut f.phone;
                t.i(nid);
                t.s(&digits);
                t.s(if ty == cs::WORK && rng.chance(0.3) { "204" } else { "" });
                t.i(i64::from(ty == cs::MOBILE));
                t.end()?;
                let aid = self.next("person_phone");
                let t = &mut f.person_phone;
                t.i(aid);
                t.i(pid);
                t.i(nid);
                t.i(ty);
                t.i(i64::from(prio == 0));
                t.i(prio as i64 + 1);
                t.s(&shown);
                t.end()?;
            }
            let own_home = rel <= cs::FATHER || rel == cs::GUARDIAN;
            let addr_id = self.next("address");
            let t = &mut f.address;
            t.i(addr_id);
            let street = if own_home {
                fam.street.clone()
            } else {
                format!("{} {} {}", rng.range(1, 2999), rng.pick(names::STREETS), rng.pick(names::SUFFIXES))
            };
            t.s(&street);
            t.blank();
            t.s(if rng.chance(0.1) { "2B" } else { "" });
            let city = if own_home { fam.city } else { rng.pick(names::CITIES) };
            t.s(city);
            t.i(cs::NJ);
            t.s(&fam.zip);
            t.end()?;
            let aid = self.next("person_address");
            let t = &mut f.person_address;
            t.i(aid);
            t.i(pid);
            t.i(addr_id);
            t.i(cs::ADDR_HOME);
            t.i(1);
            t.end()?;
            fam.persons.push(FamPerson {
                id: pid,
                rel,
                first,
                middle,
                last,
                email,
                phone: preferred,
                phone_type,
                street,
                city,
                custodial: rel <= cs::FATHER || rel == cs::GUARDIAN,
            });
        }
        Ok(fam)
    }

    /// The StudentContactAssoc and StudentContactDetail rows (and the
    /// `contacts.txt` rows) of a student's family; `drng` is the student's
    /// district stream (used only with the district tables).
    #[allow(clippy::too_many_arguments, reason = "a student's contacts need who, when and how")]
    pub(super) fn contacts(
        &mut self,
        f: &mut Files,
        fam: &Family,
        dcid: i64,
        number: &str,
        start: Day,
        drng: &mut Rng,
    ) -> io::Result<()> {
        let q = self.q();
        let district = self.opts.district_tables;
        for (prio, p) in fam.persons.iter().enumerate() {
            let aid = self.next("assoc");
            let t = &mut f.assoc;
            t.i(aid);
            t.i(dcid);
            t.i(p.id);
            t.i(prio as i64 + 1);
            t.i(p.rel);
            t.end()?;
            let mut current_start = start;
            // An earlier period, closed: custody or living arrangements changed.
            if district && start + 90 < self.as_of && drng.chance(0.12) {
                let changed = start + drng.range(30, i64::from(self.as_of - start) - 30) as Day;
                let did = self.next("detail");
                let t = &mut f.detail;
                t.i(did);
                t.i(aid);
                t.i(if p.rel == cs::GUARDIAN { cs::OTHER } else { p.rel });
                t.b(false);
                t.b(!p.custodial);
                t.b(true);
                t.b(!p.custodial);
                t.b(!p.custodial);
                t.b(true);
                t.b(false);
                t.b(!p.custodial);
                t.d(start);
                t.d(changed);
                t.s(drng.pick(&["Custody arrangement changed", "Moved out of the home", ""]));
                t.end()?;
                current_start = changed;
            }
            let did = self.next("detail");
            let t = &mut f.detail;
            t.i(did);
            t.i(aid);
            t.i(p.rel);
            t.b(true);
            t.b(p.custodial);
            t.b(true);
            t.b(p.custodial);
            t.b(true);
            t.b(p.custodial);
            if district {
                t.b(q && p.rel == cs::GUARDIAN);
                t.b(p.custodial);
            }
            t.d(current_start);
            t.blank();
            t.s(if q && p.rel == cs::GUARDIAN { "Court order on file" } else { "" });
            t.end()?;
            if let Some(t) = f.contacts.as_mut() {
                let rel = CODESETS.iter().find(|c| c.0 == p.rel).map_or("", |c| c.3);
                let phone_type = CODESETS.iter().find(|c| c.0 == p.phone_type).map_or("", |c| c.3);
                t.i(dcid);
                t.s(number);
                t.i(aid);
                t.i(p.id);
                t.i(prio as i64 + 1);
                t.s(rel);
                t.s(p.first);
                t.s(p.middle);
                t.s(p.last);
                t.s(p.email.as_deref().unwrap_or(""));
                t.s(p.phone.as_deref().unwrap_or(""));
                t.s(phone_type);
                t.s(&p.street);
                t.s(p.city);
                t.s("NJ");
                t.s(&fam.zip);
                t.b(p.custodial);
                t.b(true);
                t.b(p.custodial);
                t.b(true);
                t.b(p.custodial);
                t.end()?;
            }
        }
        Ok(())
    }
}
