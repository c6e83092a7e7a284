//! The synthetic district's fixed structure: schools, calendars, the course
//! catalog and which courses each grade takes in which period.

use crate::day::{self, Day};

/// First school year generated (YearID 31 = 2021-22).
pub const FIRST_YEAR_ID: i32 = 31;
/// School years with terms, sections and attendance.
pub const YEARS: usize = 4;

/// What a school is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// School 0, the district office.
    District,
    /// Grades PK/K–5.
    Elementary,
    /// Grades 6–8.
    Middle,
    /// Grades 9–12.
    High,
    /// School 999999, graduated students.
    Graduated,
}

/// One school row.
pub struct School {
    pub number: i64,
    pub name: &'static str,
    pub abbr: &'static str,
    pub level: Level,
    pub low: i64,
    pub high: i64,
    pub street: &'static str,
}

/// The district's schools; indexes 1..=9 are the real ones.
pub const SCHOOLS: &[School] = &[
    School {
        number: 0,
        name: "District Office",
        abbr: "DO",
        level: Level::District,
        low: -1,
        high: 12,
        street: "1 Civic Plaza",
    },
    School {
        number: 101,
        name: "Maple Elementary School",
        abbr: "MES",
        level: Level::Elementary,
        low: -1,
        high: 5,
        street: "100 Maple Ave",
    },
    School {
        number: 102,
        name: "Oak Ridge Elementary School",
        abbr: "ORES",
        level: Level::Elementary,
        low: 0,
        high: 5,
        street: "22 Ridge Rd",
    },
    School {
        number: 103,
        name: "Cedar Elementary School",
        abbr: "CES",
        level: Level::Elementary,
        low: 0,
        high: 5,
        street: "5 Cedar St",
    },
    School {
        number: 104,
        name: "Peña Heights Elementary School",
        abbr: "PHES",
        level: Level::Elementary,
        low: 0,
        high: 5,
        street: "480 Peña Way",
    },
    School {
        number: 105,
        name: "Lincoln Elementary School",
        abbr: "LES",
        level: Level::Elementary,
        low: 0,
        high: 5,
        street: "77 Lincoln Blvd",
    },
    School {
        number: 201,
        name: "Washington Middle School",
        abbr: "WMS",
        level: Level::Middle,
        low: 6,
        high: 8,
        street: "300 Washington St",
    },
    School {
        number: 202,
        name: "Riverside Middle School",
        abbr: "RMS",
        level: Level::Middle,
        low: 6,
        high: 8,
        street: "9 River Dr",
    },
    School {
        number: 301,
        name: "Jefferson High School",
        abbr: "JHS",
        level: Level::High,
        low: 9,
        high: 12,
        street: "1200 Jefferson Pkwy",
    },
    School {
        number: 302,
        name: "Dr. Martin Luther King, Jr. High School",
        abbr: "MLK",
        level: Level::High,
        low: 9,
        high: 12,
        street: "1968 Freedom Ln",
    },
    School {
        number: 999_999,
        name: "Graduated Students",
        abbr: "GRAD",
        level: Level::Graduated,
        low: 99,
        high: 99,
        street: "",
    },
];

/// Index of the graduated-students school.
pub const GRADUATED: usize = 10;

/// The school a student of `grade` living in elementary `zone` (0..5) attends.
pub fn school_for(grade: i32, zone: usize) -> usize {
    match grade {
        -1 => 1,
        0..=5 => 1 + zone % 5,
        6..=8 => {
            if zone < 3 {
                6
            } else {
                7
            }
        }
        _ => {
            if zone < 3 {
                8
            } else {
                9
            }
        }
    }
}

/// One school year's calendar (the same in every school).
pub struct YearCal {
    pub yearid: i32,
    pub first: Day,
    pub last: Day,
    /// In-session days, in order.
    pub days: Vec<Day>,
    /// Index in `days` of the first day of semester 2.
    pub s2_start: usize,
    /// Index in `days` of the first day of Q1..Q4.
    pub q: [usize; 4],
    /// Weekdays without school, with a note.
    pub holidays: Vec<(Day, &'static str)>,
}

impl YearCal {
    /// The calendar of `yearid` (fall year 1990 + yearid).
    pub fn new(yearid: i32) -> YearCal {
        let fall = 1990 + yearid;
        let labor = day::nth_weekday(fall, 9, 0, 1);
        let first = labor + 1;
        let last = day::nth_weekday(fall + 1, 6, 4, 2);
        let mut holidays: Vec<(Day, &'static str)> = vec![(labor, "Labor Day")];
        let convention = day::nth_weekday(fall, 11, 3, 1);
        holidays.extend([(convention, "Teachers' Convention"), (convention + 1, "Teachers' Convention")]);
        holidays.push((day::from_ymd(fall, 11, 11), "Veterans Day"));
        let thanks = day::nth_weekday(fall, 11, 3, 4);
        holidays.extend([
            (thanks - 1, "Thanksgiving Break"),
            (thanks, "Thanksgiving"),
            (thanks + 1, "Thanksgiving Break"),
        ]);
        let mut d = day::from_ymd(fall, 12, 23);
        while d <= day::from_ymd(fall + 1, 1, 1) {
            holidays.push((d, "Winter Break"));
            d += 1;
        }
        holidays.push((day::nth_weekday(fall + 1, 1, 0, 3), "Martin Luther King Jr. Day"));
        holidays.push((day::nth_weekday(fall + 1, 2, 0, 3), "Presidents' Day"));
        let spring = day::nth_weekday(fall + 1, 3, 0, 5);
        for i in 0..5 {
            holidays.push((spring + i, "Spring Break"));
        }
        holidays.push((day::nth_weekday(fall + 1, 5, 0, 5), "Memorial Day"));
        holidays.retain(|(d, _)| day::weekday(*d) < 5);
        holidays.sort_unstable();
        holidays.dedup_by_key(|h| h.0);
        let mut days = Vec::with_capacity(200);
        let mut d = first;
        while d <= last {
            if day::weekday(d) < 5 && holidays.binary_search_by_key(&d, |h| h.0).is_err() {
                days.push(d);
            }
            d += 1;
        }
        let s2_day = day::nth_weekday(fall + 1, 1, 0, 4);
        let s2_start = days.iter().position(|&d| d >= s2_day).unwrap_or(days.len() / 2);
        let q = [0, s2_start / 2, s2_start, s2_start + (days.len() - s2_start) / 2];
        YearCal { yearid, first, last, days, s2_start, q, holidays }
    }

    /// The index in `days` of the first in-session day on or after `d`.
    pub fn index_of(&self, d: Day) -> usize {
        self.days.partition_point(|&x| x < d)
    }

    /// First and last day of a term.
    pub fn term_bounds(&self, term: TermKind) -> (Day, Day) {
        match term {
            TermKind::Year => (self.first, self.last),
            TermKind::S1 => (self.first, self.days[self.s2_start - 1]),
            TermKind::S2 => (self.days[self.s2_start], self.last),
        }
    }
}

/// The terms a section can run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TermKind {
    /// The full year, TermID xx00.
    Year,
    /// Semester 1, TermID xx01.
    S1,
    /// Semester 2, TermID xx02.
    S2,
}

impl TermKind {
    /// The TermID's last two digits.
    pub fn offset(self) -> i64 {
        match self {
            TermKind::Year => 0,
            TermKind::S1 => 1,
            TermKind::S2 => 2,
        }
    }
}

/// Who teaches a course's sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TeacherKey {
    /// An elementary homeroom teacher teaching the core courses of a grade.
    Homeroom(i32),
    /// A department (secondary) or a specialist (elementary art, PE).
    Dept(&'static str),
}

/// One catalog course.
pub struct Course {
    pub number: String,
    pub name: String,
    pub credit: f64,
    pub credit_type: &'static str,
    pub dept: &'static str,
    pub owner: i64,
    pub term: TermKind,
    pub grade: i32,
    pub exclude_gpa: bool,
    pub key: TeacherKey,
    /// Whether the course has stored grades (elementary homeroom, art and PE do not).
    pub graded: bool,
}

/// A period of a grade's day: the course(s) a student may take in it.
pub struct Slot {
    pub courses: Vec<usize>,
    pub period: u8,
}

/// The catalog and the grade → slots table.
pub struct Catalog {
    pub courses: Vec<Course>,
    /// Slots of grade `g` at index `g + 1` (grades -1..=12).
    pub slots: Vec<Vec<Slot>>,
}

fn grade_code(g: i32) -> String {
    match g {
        -1 => "PK".to_owned(),
        0 => "KG".to_owned(),
        g => format!("{g:02}"),
    }
}

fn grade_name(g: i32) -> String {
    match g {
        -1 => "Pre-K".to_owned(),
        0 => "Kindergarten".to_owned(),
        g => format!("Grade {g}"),
    }
}

impl Catalog {
    /// The district's catalog.
    pub fn new() -> Catalog {
        let mut courses: Vec<Course> = Vec::new();
        let mut slots: Vec<Vec<Slot>> = (0..14).map(|_| Vec::new()).collect();
        let mut add = |c: Course| {
            courses.push(c);
            courses.len() - 1
        };
        // Elementary: full-year courses per grade.
        let elem: [(&str, u32, &str, bool); 7] = [
            ("Homeroom", 100, "HR", false),
            ("English Language Arts", 110, "ELA", true),
            ("Mathematics", 120, "MATH", true),
            ("Science", 130, "SCI", true),
            ("Social Studies", 140, "SS", true),
            ("Art", 150, "ART", false),
            ("Physical Education", 160, "PE", false),
        ];
        for g in -1..=5 {
            let mut period = 0;
            for (name, code, dept, graded) in elem {
                if g == -1 && matches!(dept, "SCI" | "SS") {
                    continue;
                }
                period += 1;
                let key = match dept {
                    "ART" | "PE" => TeacherKey::Dept(dept),
                    _ => TeacherKey::Homeroom(g),
                };
                let c = add(Course {
                    number: format!("{}{code:03}", grade_code(g)),
                    name: format!("{} {name}", grade_name(g)),
                    credit: 0.0,
                    credit_type: "",
                    dept,
                    owner: 101,
                    term: TermKind::Year,
                    grade: g,
                    exclude_gpa: true,
                    key,
                    graded,
                });
                slots[(g + 1) as usize].push(Slot { courses: vec![c], period });
            }
        }
        // Middle school.
        let mid: [(&str, u32, &str, TermKind); 8] = [
            ("English Language Arts", 210, "ELA", TermKind::Year),
            ("Mathematics", 220, "MATH", TermKind::Year),
            ("Science", 230, "SCI", TermKind::Year),
            ("Social Studies", 240, "SS", TermKind::Year),
            ("Physical Education", 250, "PE", TermKind::Year),
            ("Español", 260, "WL", TermKind::Year),
            ("Health", 270, "HLTH", TermKind::S1),
            ("Technology", 280, "TECH", TermKind::S2),
        ];
        for g in 6..=8 {
            for (i, (name, code, dept, term)) in mid.into_iter().enumerate() {
                let c = add(Course {
                    number: format!("{g:02}{code}"),
                    name: format!("{name} {g}"),
                    credit: 1.0,
                    credit_type: "",
                    dept,
                    owner: 201,
                    term,
                    grade: g,
                    exclude_gpa: true,
                    key: TeacherKey::Dept(dept),
                    graded: true,
                });
                slots[(g + 1) as usize].push(Slot { courses: vec![c], period: (i as u8 + 1).min(7) });
            }
        }
        // High school: five core departments, PE, and two semester electives.
        let core: [(&str, &str, [&str; 4], [&str; 4]); 5] = [
            (
                "ENG",
                "ENG",
                ["ENG09", "ENG10", "ENG11", "ENG12"],
                ["English 9", "English 10", "American Literature", "British Literature"],
            ),
            (
                "MATH",
                "MAT",
                ["MAT101", "MAT201", "MAT301", "MAT401"],
                ["Algebra I", "Geometry", "Algebra II", "Pre-Calculus"],
            ),
            (
                "SCI",
                "SCI",
                ["SCI101", "SCI201", "SCI301", "SCI401"],
                ["Biology", "Chemistry", "Physics", "Environmental Science"],
            ),
            (
                "SOC",
                "SOC",
                ["SOC101", "SOC201", "SOC301", "SOC401"],
                ["World History", "U.S. History I", "U.S. History II", "Government & Economics"],
            ),
            (
                "WL",
                "WLS",
                ["WLS101", "WLS201", "WLS301", "WLS401"],
                ["Español I", "Español II", "Español III", "Español IV"],
            ),
        ];
        let credit_types = ["ENG", "MATH", "SCI", "SOC", "WL"];
        for g in 9..=12 {
            let i = (g - 9) as usize;
            for (p, (dept, _, numbers, names)) in core.iter().enumerate() {
                let c = add(Course {
                    number: numbers[i].to_owned(),
                    name: names[i].to_owned(),
                    credit: 1.0,
                    credit_type: credit_types[p],
                    dept,
                    owner: 301,
                    term: TermKind::Year,
                    grade: g,
                    exclude_gpa: false,
                    key: TeacherKey::Dept(dept),
                    graded: true,
                });
                slots[(g + 1) as usize].push(Slot { courses: vec![c], period: p as u8 + 1 });
            }
            let c = add(Course {
                number: format!("PED{g:02}"),
                name: format!("Physical Education & Health {g}"),
                credit: 1.0,
                credit_type: "PE",
                dept: "PE",
                owner: 301,
                term: TermKind::Year,
                grade: g,
                exclude_gpa: false,
                key: TeacherKey::Dept("PE"),
                graded: true,
            });
            slots[(g + 1) as usize].push(Slot { courses: vec![c], period: 6 });
        }
        let electives: [(&str, &str, TermKind); 8] = [
            ("ART101", "Art I", TermKind::S1),
            ("MUS101", "Music Theory", TermKind::S1),
            ("CSC101", "Introduction to Computer Science", TermKind::S1),
            ("PSY101", "Psychology", TermKind::S1),
            ("ART201", "Ceramics", TermKind::S2),
            ("ART301", "Digital Photography", TermKind::S2),
            ("ENG501", "Journalism", TermKind::S2),
            ("WLF101", "Français I", TermKind::S2),
        ];
        let mut s1 = Vec::new();
        let mut s2 = Vec::new();
        for (number, name, term) in electives {
            let c = add(Course {
                number: number.to_owned(),
                name: name.to_owned(),
                credit: 0.5,
                credit_type: "ELEC",
                dept: "ELEC",
                owner: 301,
                term,
                grade: 9,
                exclude_gpa: false,
                key: TeacherKey::Dept("ELEC"),
                graded: true,
            });
            if term == TermKind::S1 { s1.push(c) } else { s2.push(c) }
        }
        for g in 9..=12 {
            slots[(g + 1) as usize].push(Slot { courses: s1.clone(), period: 7 });
            slots[(g + 1) as usize].push(Slot { courses: s2.clone(), period: 7 });
        }
        // In the catalog, never scheduled.
        for (number, name, credit) in [("DRV101", "Driver Education", 0.5), ("SCI501", "AP Biology", 1.0)] {
            add(Course {
                number: number.to_owned(),
                name: name.to_owned(),
                credit,
                credit_type: "ELEC",
                dept: "ELEC",
                owner: 301,
                term: TermKind::Year,
                grade: 11,
                exclude_gpa: false,
                key: TeacherKey::Dept("ELEC"),
                graded: true,
            });
        }
        Catalog { courses, slots }
    }

    /// The slots of grade `g`.
    pub fn slots_of(&self, g: i32) -> &[Slot] {
        self.slots.get((g + 1) as usize).map_or(&[], Vec::as_slice)
    }
}

/// An attendance code of a school: `(code, description, presence)`.
pub type AttCode = (&'static str, &'static str, &'static str);

/// The attendance codes of a school (high schools spell "excused" `EX`).
pub fn att_codes(level: Level) -> [AttCode; 7] {
    let excused = if level == Level::High { ("EX", "Excused Absence") } else { ("AE", "Absent Excused") };
    [
        ("", "Present", "Present"),
        ("A", "Absent", "Absent"),
        (excused.0, excused.1, "Absent"),
        ("AU", "Absent Unexcused", "Absent"),
        ("T", "Tardy", "Present"),
        ("ED", "Early Dismissal", "Present"),
        ("FT", "Field Trip", "Present"),
    ]
}

/// Index of the codes in [`att_codes`].
pub mod code {
    pub const ABSENT: usize = 1;
    pub const EXCUSED: usize = 2;
    pub const UNEXCUSED: usize = 3;
    pub const TARDY: usize = 4;
    pub const EARLY: usize = 5;
    pub const FIELD_TRIP: usize = 6;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendars_are_realistic() {
        for y in 0..YEARS as i32 {
            let c = YearCal::new(FIRST_YEAR_ID + y);
            assert!((170..=190).contains(&c.days.len()), "{} days", c.days.len());
            assert!(c.s2_start > 80 && c.s2_start < 110, "{}", c.s2_start);
            assert!(c.days.iter().all(|&d| day::weekday(d) < 5));
        }
    }

    #[test]
    fn catalog_covers_every_grade() {
        let c = Catalog::new();
        for g in -1..=12 {
            assert!(c.slots_of(g).len() >= 5, "grade {g}");
        }
        let mut numbers: Vec<&str> = c.courses.iter().map(|c| c.number.as_str()).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), c.courses.len(), "course numbers are unique");
    }
}
