//! Sections sized from the plan (about 25 students each) and staffed:
//! administrators and office staff, then pools of teachers per school and
//! department or homeroom, one art teacher shared by two schools.

use std::collections::HashMap;

use crate::catalog::{Level, SCHOOLS, TeacherKey};
use crate::names;
use crate::rng::Rng;

use super::model::{Gen, Group, Sec, StaffRow, User};

impl Gen {
    /// Sizes sections from the plan, then staffs them.
    pub(super) fn build_sections(&mut self) {
        let mut counts: HashMap<(usize, usize, usize), u32> = HashMap::new();
        for (i, s) in self.students.iter().enumerate() {
            for sp in &s.spans {
                for (slot_no, slot) in self.catalog.slots_of(sp.grade).iter().enumerate() {
                    let c = slot.courses[(i + slot_no) % slot.courses.len()];
                    *counts.entry((sp.year, sp.school, c)).or_insert(0) += 1;
                }
            }
        }
        let mut keys: Vec<_> = counts.into_iter().collect();
        keys.sort_unstable();
        for ((y, school, course), count) in keys {
            let n = count.div_ceil(25).max(1);
            let first = self.sections.len();
            for k in 1..=n {
                let id = self.next("sections");
                let dcid = self.dcid(id, 40_000);
                let students = count / n + u32::from(k <= count % n);
                self.sections.push(Sec { id, dcid, year: y, school, course, k, teacher: 0, students });
            }
            self.group_of.insert((y, school, course), self.groups.len());
            self.groups.push(Group { first, n, next: 0 });
        }
        self.staff_sections();
    }

    fn new_user(&mut self, rng: &mut Rng, title: &'static str, school: usize) -> usize {
        let female = rng.chance(0.6);
        let dcid = self.next("users");
        self.users.push(User {
            dcid,
            number: (10_000 + dcid * 7).to_string(),
            first: rng.pick(if female { names::FEMALE } else { names::MALE }),
            middle: if rng.chance(0.5) { rng.pick(names::FEMALE) } else { "" },
            last: rng.pick(names::LAST),
            title,
            home_school: school,
        });
        self.users.len() - 1
    }

    fn new_staff(
        &mut self,
        user: usize,
        school: usize,
        staff_status: i64,
        dept: &'static str,
        status: i64,
    ) -> usize {
        let id = self.next("schoolstaff");
        let dcid = self.dcid(id, 5_000);
        self.staff.push(StaffRow { id, dcid, user, school, status, staff_status, dept });
        self.staff.len() - 1
    }

    fn staff_sections(&mut self) {
        let mut rng = Rng::new(self.opts.seed, 7);
        // Administrators and office staff.
        for (i, school) in SCHOOLS.iter().enumerate() {
            let roles: &[(&str, i64)] = match school.level {
                Level::Graduated => &[],
                Level::District => &[("Superintendent", 2), ("Registrar", 2), ("Data Manager", 2)],
                Level::Elementary => &[("Principal", 2), ("Secretary", 2)],
                _ => &[
                    ("Principal", 2),
                    ("Assistant Principal", 2),
                    ("Counselor", 2),
                    ("Counselor", 2),
                    ("Secretary", 2),
                ],
            };
            for &(title, ss) in roles {
                let u = self.new_user(&mut rng, title, i);
                self.new_staff(u, i, ss, "ADMIN", 1);
            }
        }
        let u = self.new_user(&mut rng, "Substitute Teacher", 8);
        self.new_staff(u, 8, 4, "SUB", 1);
        let u = self.new_user(&mut rng, "Cafeteria Manager", 8);
        self.new_staff(u, 8, 3, "FOOD", 1);
        // Teaching staff: pools per (school, key), sized for the busiest year.
        let mut per_year: HashMap<(usize, TeacherKey, usize), Vec<usize>> = HashMap::new();
        for (si, sec) in self.sections.iter().enumerate() {
            let key = self.catalog.courses[sec.course].key;
            per_year.entry((sec.school, key, sec.year)).or_default().push(si);
        }
        let mut need: HashMap<(usize, TeacherKey), usize> = HashMap::new();
        for ((school, key, _), secs) in &per_year {
            let n = match key {
                TeacherKey::Homeroom(_) => {
                    secs.iter().map(|&s| self.sections[s].k as usize).max().unwrap_or(1)
                }
                TeacherKey::Dept(d)
                    if matches!(*d, "ART" | "PE") && SCHOOLS[*school].level == Level::Elementary =>
                {
                    secs.len().div_ceil(28)
                }
                TeacherKey::Dept(_) => secs.len().div_ceil(5),
            };
            let slot = need.entry((*school, *key)).or_insert(0);
            *slot = (*slot).max(n);
        }
        let mut pool_keys: Vec<_> = need.into_iter().collect();
        pool_keys.sort_unstable_by_key(|((s, k), _)| (*s, format!("{k:?}")));
        let mut pools: HashMap<(usize, TeacherKey), Vec<usize>> = HashMap::new();
        let mut art_teacher: Option<usize> = None;
        for ((school, key), n) in pool_keys {
            let dept = match key {
                TeacherKey::Homeroom(_) => "HR",
                TeacherKey::Dept(d) => d,
            };
            let mut pool = Vec::with_capacity(n);
            for j in 0..n {
                // One art teacher works at two elementary schools.
                let shared = dept == "ART" && j == 0 && matches!(school, 2 | 3);
                let user = match (shared, art_teacher) {
                    (true, Some(u)) => u,
                    _ => {
                        let u = self.new_user(&mut rng, "Teacher", school);
                        if shared {
                            art_teacher = Some(u);
                        }
                        u
                    }
                };
                let status = if rng.chance(0.03) { 2 } else { 1 };
                pool.push(self.new_staff(user, school, 1, dept, status));
            }
            pools.insert((school, key), pool);
        }
        let mut keys: Vec<_> = per_year.into_iter().collect();
        keys.sort_unstable_by_key(|((s, k, y), _)| (*s, format!("{k:?}"), *y));
        for ((school, key, _), secs) in keys {
            let pool = &pools[&(school, key)];
            for (j, &si) in secs.iter().enumerate() {
                let t = match key {
                    TeacherKey::Homeroom(_) => self.sections[si].k as usize - 1,
                    TeacherKey::Dept(d)
                        if matches!(d, "ART" | "PE") && SCHOOLS[school].level == Level::Elementary =>
                    {
                        j / 28
                    }
                    TeacherKey::Dept(_) => j / 5,
                };
                self.sections[si].teacher = pool[t.min(pool.len() - 1)];
            }
        }
    }
}
