//! A student's Log entries (discipline referrals, counselor and health
//! notes, parent contacts …) and, for some discipline referrals at middle
//! and high schools, an incident in the Incident Management tables with the
//! student as offender, sometimes another student, and the action taken.

use std::io;

use crate::catalog::{Level, SCHOOLS, YEARS};
use crate::day::{self, DateStyle, Day};
use crate::rng::Rng;

use super::district_codes::{
    ACTIONS, DISCIPLINE, INCIDENT_TYPES, LOCATIONS, LOG_TYPES, LU_ACTION0, LU_CODES, LU_OFFENDER, LU_TYPE0,
    LU_VICTIM, LU_WITNESS,
};
use super::district_static::clock;
use super::files::DistrictFiles;
use super::model::{Gen, Span};

/// Index of the counseling log type in `LOG_TYPES`.
const COUNSELING: usize = 2;

/// An index drawn with the given weights (which sum to about 1).
fn weighted(rng: &mut Rng, weights: &[f64]) -> usize {
    let mut r = rng.unit();
    for (i, w) in weights.iter().enumerate() {
        if r < *w {
            return i;
        }
        r -= w;
    }
    weights.len() - 1
}

/// `MM/DD/YYYY h:mm AM`.
fn timestamp(d: Day, secs: i64) -> String {
    let mut s = String::with_capacity(20);
    day::write(&mut s, d, DateStyle::Us);
    s.push(' ');
    s.push_str(&clock(secs));
    s
}

/// One discipline referral, as the Log row and the incident share it.
struct Referral {
    date: Day,
    idx: usize,
    secs: i64,
    subtype: usize,
    action: usize,
    assigned: i64,
    actual: i64,
    location: &'static str,
    entry: String,
    author: usize,
}

impl Gen {
    /// Logs of a student: in some of the student's school years, one to
    /// three entries.
    pub(super) fn logs(
        &mut self,
        df: &mut DistrictFiles,
        rng: &mut Rng,
        student: i64,
        first: &str,
        spans: &[Span],
    ) -> io::Result<()> {
        for sp in spans {
            let slot = sp.school * YEARS + sp.year;
            let level = SCHOOLS[sp.school].level;
            let p = match level {
                Level::Elementary => 0.10,
                Level::Middle => 0.22,
                _ => 0.18,
            };
            if rng.chance(p) {
                let cal = &self.cals[sp.year];
                let lo = cal.index_of(sp.entry);
                let mut hi = cal.index_of(sp.exit);
                if sp.year == YEARS - 1 {
                    hi = hi.min(self.as_of_idx + 1);
                }
                if lo < hi {
                    let n = 1 + rng.below(3);
                    let mut days: Vec<usize> =
                        (0..n).map(|_| rng.range(lo as i64, hi as i64 - 1) as usize).collect();
                    days.sort_unstable();
                    for idx in days {
                        self.log_row(df, rng, student, first, sp, idx, lo)?;
                    }
                }
            }
            if let Some(d) = self.district.as_mut() {
                d.last_at[slot] = student;
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments, reason = "one log row needs its student, span and day")]
    fn log_row(
        &mut self,
        df: &mut DistrictFiles,
        rng: &mut Rng,
        student: i64,
        first: &str,
        sp: &Span,
        idx: usize,
        first_idx: usize,
    ) -> io::Result<()> {
        let Some(d) = self.district.as_ref() else { return Ok(()) };
        let q = self.q();
        let elementary = SCHOOLS[sp.school].level == Level::Elementary;
        let weights: &[f64] = if elementary {
            &[0.20, 0.05, 0.10, 0.30, 0.25, 0.10]
        } else {
            &[0.45, 0.10, 0.15, 0.15, 0.05, 0.10]
        };
        let k = weighted(rng, weights);
        let lt = &LOG_TYPES[k];
        let log_type = d.logtypes[k];
        let subtype = rng.index(lt.subtypes.len());
        let (code, _, subject, text) = lt.subtypes[subtype];
        let cal = &self.cals[sp.year];
        let date = cal.days[idx];
        let secs = rng.range(7 * 60 + 45, 15 * 60 + 30) * 60;
        let (admins, teachers) = (&d.admins[sp.school], &d.teachers[sp.school]);
        let pool = if (lt.discipline || k == COUNSELING) && !admins.is_empty() || teachers.is_empty() {
            admins
        } else {
            teachers
        };
        let Some(&author) = pool.get(rng.index(pool.len())) else { return Ok(()) };
        let user = &self.users[self.staff[author].user];
        let author_name = format!("{}, {}", user.last, user.first);
        let entry = text.replace("{first}", first);
        let referral = lt.discipline.then(|| {
            let action = match subtype {
                1 => 4 + rng.index(2),
                4 => 2 + rng.index(4),
                _ => rng.index(4),
            };
            let (_, _, lo, hi) = ACTIONS[action];
            let assigned = rng.range(lo, hi);
            let actual = if assigned > 0 && rng.chance(0.1) { assigned - 1 } else { assigned };
            let incident_idx = if idx > first_idx && rng.chance(0.3) { idx - 1 } else { idx };
            Referral {
                date: cal.days[incident_idx],
                idx: incident_idx,
                secs,
                subtype,
                action,
                assigned,
                actual,
                location: rng.pick(LOCATIONS),
                entry: entry.clone(),
                author,
            }
        });
        let id = self.next("log");
        let t = &mut df.log;
        t.i(id);
        t.i(if q { id + 90_000 } else { id });
        t.i(student);
        t.i(SCHOOLS[sp.school].number);
        t.i(log_type);
        t.d(date);
        t.s(&clock(secs));
        t.s(&author_name);
        t.s(subject);
        if q && id == 7 {
            t.expect_bad_row();
            t.s("Left class\twithout a pass");
        } else {
            t.s(&entry);
        }
        t.s(code);
        match &referral {
            Some(r) => {
                let (action, consequence, _, _) = ACTIONS[r.action];
                t.s(consequence);
                t.s(INCIDENT_TYPES[r.subtype]);
                t.s(action);
                t.f(r.assigned as f64, 1);
                t.f(r.actual as f64, 1);
                t.d(r.date);
                t.s(r.location);
            }
            None => {
                for _ in 0..7 {
                    t.blank();
                }
            }
        }
        t.end()?;
        if let Some(r) = referral
            && !elementary
            && k == DISCIPLINE
            && rng.chance(0.6)
        {
            self.incident(df, rng, student, sp, &r)?;
        }
        Ok(())
    }

    /// An incident of a discipline referral: its type, the student as
    /// offender, maybe another student of the school (the other fighter, a
    /// victim, a witness), and the action.
    fn incident(
        &mut self,
        df: &mut DistrictFiles,
        rng: &mut Rng,
        student: i64,
        sp: &Span,
        r: &Referral,
    ) -> io::Result<()> {
        let other = self.district.as_ref().map_or(0, |d| d.last_at[sp.school * YEARS + sp.year]);
        let staff_id = self.staff[r.author].id;
        let inc = self.next("incident");
        let t = &mut df.incident;
        t.i(inc);
        t.i(SCHOOLS[sp.school].number);
        t.s(&timestamp(r.date, r.secs));
        t.s(LOG_TYPES[DISCIPLINE].subtypes[r.subtype].1);
        t.s(&r.entry);
        t.s(r.location);
        t.i(staff_id);
        t.s(&timestamp(r.date, r.secs + 1_200));
        t.i(staff_id);
        t.s(&timestamp(r.date + rng.range(0, 3) as Day, r.secs + 3_600));
        t.end()?;
        self.incident_detail(df, inc, LU_TYPE0 + r.subtype as i64)?;
        let offender = self.incident_detail(df, inc, LU_OFFENDER)?;
        self.person_role(df, inc, student, offender)?;
        if other != 0 && other != student && (r.subtype == 1 || r.subtype == 4 || rng.chance(0.3)) {
            let lu = match r.subtype {
                1 => LU_OFFENDER,
                4 => LU_VICTIM,
                _ => LU_WITNESS,
            };
            let role = self.incident_detail(df, inc, lu)?;
            self.person_role(df, inc, other, role)?;
        }
        let action_detail = self.incident_detail(df, inc, LU_ACTION0 + r.action as i64)?;
        let cal = &self.cals[sp.year];
        let begin_idx = (r.idx + 1).min(cal.days.len() - 1);
        let begin = cal.days[begin_idx];
        let end = cal.days[(begin_idx + r.assigned.max(1) as usize - 1).min(cal.days.len() - 1)];
        let resolved = if end > self.as_of {
            ""
        } else if r.actual < r.assigned {
            "Reduced by administrator"
        } else {
            "Completed"
        };
        let aid = self.next("incident_action");
        let t = &mut df.incident_action;
        t.i(aid);
        t.i(inc);
        t.i(action_detail);
        t.d(begin);
        t.d(end);
        t.f(r.assigned as f64, 1);
        t.f(r.actual as f64, 1);
        t.s(resolved);
        t.end()
    }

    /// An Incident_Detail row naming a lookup code; returns its id.
    fn incident_detail(&mut self, df: &mut DistrictFiles, incident: i64, lu: i64) -> io::Result<i64> {
        let id = self.next("incident_detail");
        let t = &mut df.incident_detail;
        t.i(id);
        t.i(incident);
        t.i(lu);
        t.blank();
        t.s(LU_CODES[lu as usize - 1].3);
        t.end()?;
        Ok(id)
    }

    /// An Incident_Person_Role row: a student in an incident, in the role
    /// of an Incident_Detail.
    pub(super) fn person_role(
        &mut self,
        df: &mut DistrictFiles,
        incident: i64,
        student: i64,
        role_detail: i64,
    ) -> io::Result<()> {
        let id = self.next("incident_person_role");
        let t = &mut df.incident_person_role;
        t.i(id);
        t.i(incident);
        t.i(student);
        t.i(role_detail);
        t.end()
    }
}
