//! Pass 2, one student at a time: the Students row (with the legacy
//! Mother/Father fields and custom fields, and the secrets if asked for),
//! StudentRace and ReEnrollments, then the student's contacts, schedules,
//! grades and attendance, and the student's rows of the district tables.

use std::io;

use crate::catalog::{self, FIRST_YEAR_ID, GRADUATED, Level, SCHOOLS, YEARS};
use crate::day::DateStyle;
use crate::rng::Rng;

use super::codes::cs;
use super::contacts::Family;
use super::district::{DISTRICT_STREAM, SECRETS_STREAM};
use super::files::Files;
use super::model::{Gen, Outcome};
use super::text::fold_ascii;

const NICKNAMES: &[&str] = &["\"Sunny\"", "\"Bud\"", "\"Tink\"", "\"Ace\""];

impl Gen {
    pub(super) fn student(&mut self, f: &mut Files, i: usize, family: &mut Option<Family>) -> io::Result<()> {
        let mut rng = Rng::new(self.opts.seed, i as u64 * 2 + 2);
        // The district tables and the secrets draw from their own streams:
        // the core files stay the same with or without them.
        let mut drng = Rng::new(self.opts.seed, DISTRICT_STREAM + i as u64);
        let q = self.q();
        let id = 1001 + i as i64;
        let dcid = self.dcid(id, 100_000);
        let number = {
            let n = 1_000_000 + 3 * i as i64 + rng.range(0, 2);
            if q && i % 41 == 9 { format!("00{n}") } else { n.to_string() }
        };
        let spans = std::mem::take(&mut self.students[i].spans);
        let s = &self.students[i];
        let (zone, female, first, middle, last, dob, district_entry, from_outside, shares, outcome) = (
            s.zone,
            s.female,
            s.first,
            s.middle,
            s.last,
            s.dob,
            s.district_entry,
            s.from_outside,
            s.shares_family,
            s.outcome.clone(),
        );
        if !shares || family.is_none() {
            *family = Some(self.family(f, &mut rng, last)?);
        }
        let Some(fam) = family.as_ref() else { return Ok(()) };
        // Students row: the last span, or the graduated / pre-registered row.
        let last_span = spans.last().cloned();
        let (school, grade, entry, exit, entry_code, exit_code, status) = match (&outcome, &last_span) {
            (Outcome::Prereg { school, grade }, _) => {
                (*school, *grade, self.cals[YEARS].first, Some(self.cals[YEARS].last + 1), "E1", "", -1)
            }
            (Outcome::Graduated(d), _) => (GRADUATED, 99, *d, Some(*d), "", "G1", 3),
            (Outcome::Left, Some(sp)) => {
                (sp.school, sp.grade, sp.entry, Some(sp.exit), sp.entry_code, sp.exit_code, 2)
            }
            (_, Some(sp)) => {
                let exit = if q && i % 101 == 17 { None } else { Some(sp.exit) };
                (sp.school, sp.grade, sp.entry, exit, sp.entry_code, sp.exit_code, 0)
            }
            (_, None) => (1, 0, self.cals[0].first, None, "E1", "", 0),
        };
        let school_entry =
            spans.iter().rev().take_while(|sp| sp.school == school).last().map_or(entry, |sp| sp.entry);
        let mother = fam.persons.iter().find(|p| p.rel == cs::MOTHER);
        let father = fam.persons.iter().find(|p| p.rel == cs::FATHER);
        let other = fam.persons.iter().find(|p| p.rel > cs::FATHER);
        let class_of = match &outcome {
            Outcome::Graduated(d) => i64::from(crate::day::to_ymd(*d).0),
            _ => {
                let y = last_span.as_ref().map_or(YEARS, |sp| sp.year);
                i64::from(1990 + FIRST_YEAR_ID + y as i32 + 1) + i64::from(12 - grade.min(12))
            }
        };
        let t = &mut f.students;
        t.i(id);
        t.i(dcid);
        t.s(&number);
        if q && i % 89 == 5 {
            t.blank();
        } else {
            t.s(&format!("{:010}", (i as u64 * 7_919 + 31_337) % 10_000_000_000));
        }
        t.s(first);
        match middle {
            _ if q && i % 53 == 7 => t.s(NICKNAMES[i % NICKNAMES.len()]),
            Some(m) => t.s(m),
            None => t.blank(),
        }
        t.s(last);
        t.s(&format!(
            "{last}, {first}{}",
            middle
                .map(|m| format!(" {}", &m[..m.char_indices().nth(1).map_or(m.len(), |(i, _)| i)]))
                .unwrap_or_default()
        ));
        if q && i % 211 == 11 {
            t.blank();
        } else if q && i % 2 == 1 {
            t.d_as(dob, DateStyle::UsShort);
        } else {
            t.d(dob);
        }
        if q && i % 97 == 13 {
            t.blank();
        } else {
            t.s(if female { "F" } else { "M" });
        }
        t.i(i64::from(grade));
        t.i(SCHOOLS[school].number);
        t.i(status);
        t.d(entry);
        t.dopt(exit);
        t.s(entry_code);
        t.s(exit_code);
        t.s(if exit_code == "TO" { "Moved out of state" } else { "" });
        t.d(school_entry);
        t.d(district_entry);
        t.s(&(1 + i % 5).to_string());
        t.i(i64::from(i % 4 == 1));
        t.i(0);
        if q && i % 71 == 3 {
            t.s(&format!("12 \"B\" {}", &fam.street));
        } else {
            t.s(&fam.street);
        }
        t.s(fam.city);
        t.s("NJ");
        t.s(&fam.zip);
        if i.is_multiple_of(10) {
            t.s(&format!("PO Box {}", 100 + i % 900));
            t.s(fam.city);
            t.s("NJ");
            t.s(&fam.zip);
        } else {
            for _ in 0..4 {
                t.blank();
            }
        }
        t.s(&fam.phone);
        if SCHOOLS[school].level == Level::Elementary {
            t.s(&format!("Room {}", 100 + zone * 10 + (i % 7)))
        } else {
            t.blank()
        };
        match &outcome {
            Outcome::Active if grade == 12 => {
                t.i(999_999);
                t.i(99);
            }
            Outcome::Active | Outcome::Prereg { .. } => {
                t.i(SCHOOLS[catalog::school_for(grade + 1, zone)].number);
                t.i(i64::from(grade + 1));
            }
            _ => {
                t.blank();
                t.blank();
            }
        }
        t.i(class_of);
        t.s(&format!("stu{}", number.trim_start_matches('0')));
        t.s(&mother.map(|p| format!("{}, {}", p.last, p.first)).unwrap_or_default());
        t.s(&father.map(|p| format!("{}, {}", p.last, p.first)).unwrap_or_default());
        t.s(mother.or(father).and_then(|p| p.email.as_deref()).unwrap_or(""));
        t.s(&other.map(|p| format!("{} {}", p.first, p.last)).unwrap_or_default());
        t.s(other.and_then(|p| p.phone.as_deref()).unwrap_or(""));
        t.i(0);
        t.s("A");
        t.i(1);
        t.d(self.as_of);
        if SCHOOLS[school].level == Level::High || SCHOOLS[school].level == Level::Middle {
            t.s(&format!("B-{:03}", (i * 37) % 1000));
        } else {
            t.blank();
        }
        t.s(if i.is_multiple_of(113) { "Y" } else { "N" });
        if self.opts.secrets {
            let secondary = matches!(SCHOOLS[school].level, Level::Middle | Level::High);
            let parent = fam.persons.first().map_or(last, |p| p.last);
            let mut srng = Rng::new(self.opts.seed, SECRETS_STREAM + i as u64);
            if srng.chance(0.04) {
                t.blank();
            } else {
                t.s(&format!(
                    "9{:02}-{:02}-{:04}",
                    srng.below(100),
                    1 + srng.below(99),
                    1 + srng.below(9999)
                ));
            }
            t.s(&password(&mut srng));
            if srng.chance(0.1) {
                t.blank();
                t.blank();
            } else {
                let mut login = String::new();
                fold_ascii(parent, &mut login);
                login.push_str(&(100 + srng.below(9900)).to_string());
                t.s(&login);
                t.s(&password(&mut srng));
            }
            if secondary {
                t.s(&format!("{:02}-{:02}-{:02}", srng.below(40), srng.below(40), srng.below(40)));
                t.s(&format!("B-{:03}", (i * 37) % 1000));
            } else {
                t.blank();
                t.blank();
            }
        }
        t.end()?;

        // Race.
        let races = ["W", "B", "A", "I", "P"];
        let n_race = if rng.chance(0.1) { 2 } else { 1 };
        let r0 = rng.index(races.len());
        for k in 0..n_race {
            let rid = self.next("race");
            let t = &mut f.race;
            t.i(rid);
            t.i(rid);
            t.i(id);
            t.s(races[(r0 + k) % races.len()]);
            t.end()?;
        }
        // Contacts.
        self.contacts(f, fam, dcid, &number, district_entry, &mut drng)?;
        // Earlier enrollments.
        let reenroll_count = match outcome {
            Outcome::Graduated(_) => spans.len(),
            _ => spans.len().saturating_sub(1),
        };
        for sp in &spans[..reenroll_count] {
            let rid = self.next("reenroll");
            let t = &mut f.reenroll;
            t.i(rid);
            t.i(if q { rid + 60_000 } else { rid });
            t.i(id);
            t.i(SCHOOLS[sp.school].number);
            t.i(i64::from(sp.grade));
            t.d(sp.entry);
            t.d(sp.exit);
            t.s(sp.entry_code);
            t.blank();
            t.s(sp.exit_code);
            t.blank();
            t.s("A");
            t.i(1);
            t.s("1.0");
            t.blank();
            t.i(1);
            t.s("3400");
            t.s(if i.is_multiple_of(3) { "F" } else { "P" });
            t.blank();
            t.end()?;
        }
        // Schedules, grades, attendance.
        let mut transfer_done = false;
        for sp in &spans {
            let ccs = self.schedule(f, &mut rng, i, id, sp)?;
            if from_outside && !transfer_done && sp.grade >= 10 {
                self.transfer_grades(f, &mut rng, id, sp)?;
            }
            transfer_done = true;
            self.grades(f, &mut rng, id, sp, &ccs)?;
            self.attendance(f, &mut rng, id, sp, &ccs)?;
        }
        if self.district.is_some() {
            self.district_student(f, &mut drng, (i, id, dcid), first, &spans, &outcome)?;
        }
        self.students[i].spans = spans;
        Ok(())
    }
}

/// A fake password: ten letters and digits.
fn password(rng: &mut Rng) -> String {
    const CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..10).map(|_| char::from(CHARS[rng.index(CHARS.len())])).collect()
}
