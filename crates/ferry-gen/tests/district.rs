//! The full district export (`PsGenOptions::full_district`, with the
//! combined contacts file): every file is written with the columns and rows
//! the manifest lists, the new tables point at rows that exist (except the
//! rejects the manifest counts), and the core files stay what they are
//! without the new options.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use ferry_gen::{GenFile, GenManifest, HeaderStyle, MANIFEST_FILE, PsGenOptions, powerschool};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ferry-gen-district-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A file read back with the layout the manifest gives.
struct Read {
    columns: Vec<String>,
    /// Rows with the right number of fields.
    rows: Vec<Vec<String>>,
    /// Rows with another number of fields.
    bad: u64,
}

impl Read {
    fn col(&self, name: &str) -> usize {
        self.columns.iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name}"))
    }

    fn values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let i = self.col(name);
        self.rows.iter().map(move |r| r[i].as_str())
    }

    fn ids(&self, name: &str) -> HashSet<i64> {
        self.values(name).map(|v| v.parse().unwrap()).collect()
    }
}

fn split(line: &str, f: &GenFile) -> Vec<String> {
    if !f.quoted {
        return line.split(f.delimiter).map(str::to_owned).collect();
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut inside = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if inside && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => inside = !inside,
            c if c == f.delimiter && !inside => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Whether header `h` names column `c` in one of PowerSchool's header
/// styles (`c`, `[01]c`, `[Table]c`, `TABLE.C`).
fn names(h: &str, c: &str) -> bool {
    let h = match h.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map_or(h, |x| x.1),
        None => h,
    };
    h.eq_ignore_ascii_case(c)
        || (!c.contains('.') && h.to_ascii_lowercase().ends_with(&format!(".{}", c.to_ascii_lowercase())))
}

fn read(dir: &Path, f: &GenFile) -> Read {
    let bytes = std::fs::read(dir.join(&f.name)).unwrap();
    let mut text = String::from_utf8(bytes).unwrap();
    if f.bom {
        text = text.strip_prefix('\u{feff}').unwrap().to_owned();
    }
    assert!(text.ends_with('\n'), "{}", f.name);
    let ending = if f.crlf { "\r\n" } else { "\n" };
    let lines: Vec<&str> = text.strip_suffix(ending).unwrap().split(ending).collect();
    assert!(lines.iter().all(|l| !l.contains('\n') && !l.contains('\r')), "{}: one line ending", f.name);
    let mut lines = lines.into_iter();
    if f.header != HeaderStyle::None {
        let header = split(lines.next().unwrap(), f);
        assert_eq!(header.len(), f.columns.len(), "{}: header", f.name);
        for (h, c) in header.iter().zip(&f.columns) {
            assert!(names(h, c), "{}: header {h:?} names column {c:?}", f.name);
        }
    }
    let mut out = Read { columns: f.columns.clone(), rows: Vec::new(), bad: 0 };
    for line in lines {
        let fields = split(line, f);
        if fields.len() == f.columns.len() {
            out.rows.push(fields);
        } else {
            out.bad += 1;
        }
    }
    assert_eq!(out.rows.len() as u64 + out.bad, f.rows, "{}: rows in the manifest", f.name);
    assert_eq!(out.bad, f.rejected_for("wrong_field_count"), "{}: rows with a tab in a value", f.name);
    out
}

const NEW_FILES: &[&str] = &[
    "cycle_day.txt",
    "bell_schedule.txt",
    "bell_schedule_items.txt",
    "roledef.txt",
    "sectionteacher.txt",
    "log.txt",
    "incident_lu_code.txt",
    "incident.txt",
    "incident_detail.txt",
    "incident_person_role.txt",
    "incident_action.txt",
    "spenrollments.txt",
    "test.txt",
    "testscore.txt",
    "studenttest.txt",
    "studenttestscore.txt",
    "classrank.txt",
    "u_studentsuserfields.txt",
    "s_tx_stu_x.txt",
    "contacts.txt",
];

const SECRETS: &[&str] = &["SSN", "Student_Web_Password", "Web_Password", "LockerCombination"];

fn full(students: u32, seed: u64, quirks: bool) -> PsGenOptions {
    PsGenOptions { quirks, contacts_export: true, ..PsGenOptions::full_district(students, seed) }
}

/// Reads every file of a generated folder, checking it against its manifest.
fn read_all(dir: &Path, m: &GenManifest) -> HashMap<String, Read> {
    assert_eq!(GenManifest::parse(&std::fs::read_to_string(dir.join(MANIFEST_FILE)).unwrap()).unwrap(), *m);
    m.files.iter().map(|f| (f.name.clone(), read(dir, f))).collect()
}

/// Rows of `file` whose `column` is not in `known`: exactly the file's
/// `missing_student` rejects.
fn check_students(
    m: &GenManifest,
    r: &HashMap<String, Read>,
    file: &str,
    column: &str,
    known: &HashSet<i64>,
) {
    let missing =
        r[file].values(column).filter(|v| !known.contains(&v.parse::<i64>().unwrap())).count() as u64;
    assert_eq!(
        missing,
        m.file(file).unwrap().rejected_for("missing_student"),
        "{file}: {column} not a student"
    );
}

fn check_full(quirks: bool) {
    let dir = tmp(if quirks { "quirks" } else { "plain" });
    let m = powerschool(&full(400, 9, quirks), &dir).unwrap();
    assert!(m.district_tables && m.secrets && m.contacts_export);
    for name in NEW_FILES {
        assert!(m.file(name).is_some_and(|f| f.rows > 0), "{name} written");
    }
    let r = read_all(&dir, &m);

    // Secrets: in Students, and listed.
    let students = m.file("students.txt").unwrap();
    assert_eq!(students.secrets, SECRETS);
    assert!(SECRETS.iter().all(|s| students.columns.iter().any(|c| c == s)));
    assert!(
        ["Web_ID", "Locker_Number"].iter().all(|s| students.columns.iter().any(|c| c == s)),
        "look-alikes"
    );
    assert!(m.files.iter().all(|f| f.name == "students.txt" || f.secrets.is_empty()));
    assert!(
        r["students.txt"]
            .values("SSN")
            .filter(|v| !v.is_empty())
            .all(|v| v.starts_with('9') && v.len() == 11)
    );

    let ids = r["students.txt"].ids("ID");
    let dcids = r["students.txt"].ids("DCID");
    for (file, column) in [
        ("log.txt", "StudentID"),
        ("spenrollments.txt", "StudentID"),
        ("studenttest.txt", "StudentID"),
        ("studenttestscore.txt", "StudentID"),
        ("incident_person_role.txt", "StudentID"),
        ("classrank.txt", "StudentID"),
    ] {
        check_students(&m, &r, file, column, &ids);
    }
    for file in ["u_studentsuserfields.txt", "s_tx_stu_x.txt"] {
        check_students(&m, &r, file, "StudentsDCID", &dcids);
        let keys: Vec<i64> = r[file].values("StudentsDCID").map(|v| v.parse().unwrap()).collect();
        assert_eq!(keys.len(), keys.iter().collect::<HashSet<_>>().len(), "{file}: 1:1");
    }
    assert_eq!(r["s_tx_stu_x.txt"].ids("StudentsDCID"), dcids, "a state row for every student");
    let u = r["u_studentsuserfields.txt"].rows.len();
    assert!(u > dcids.len() * 9 / 10, "most students have district fields: {u}");
    if quirks {
        for file in ["log.txt", "spenrollments.txt", "studenttest.txt", "u_studentsuserfields.txt"] {
            assert!(m.file(file).unwrap().rejected_for("missing_student") > 0, "{file}: an orphan row");
        }
        assert_eq!(m.file("log.txt").unwrap().rejected_for("wrong_field_count"), 1);
    } else {
        assert_eq!(m.total_rejects(), 0);
    }

    // Gen categories resolve log types, subtypes and programs.
    let gen_cat = |cat: &str| -> HashSet<i64> {
        let g = &r["gen.txt"];
        let (c, id) = (g.col("Cat"), g.col("ID"));
        g.rows.iter().filter(|row| row[c] == cat).map(|row| row[id].parse().unwrap()).collect()
    };
    let logtypes = gen_cat("logtype");
    assert_eq!(logtypes.len(), 6);
    assert!(r["log.txt"].ids("LogTypeID").is_subset(&logtypes));
    let programs = gen_cat("specprog");
    assert_eq!(programs.len(), 7);
    assert!(r["spenrollments.txt"].ids("ProgramID").is_subset(&programs));
    assert!(!gen_cat("subtype").is_empty());
    // Discipline columns only on discipline logs.
    let discipline = {
        let g = &r["gen.txt"];
        let (id, name) = (g.col("ID"), g.col("Name"));
        g.rows.iter().find(|row| row[name] == "Discipline").unwrap()[id].clone()
    };
    let log = &r["log.txt"];
    let (ty, action) = (log.col("LogTypeID"), log.col("Discipline_ActionTaken"));
    let filled = |row: &Vec<String>| !row[action].is_empty();
    assert!(log.rows.iter().all(|row| (row[ty] == discipline) == filled(row)));
    assert!(log.rows.iter().any(|row| row[ty] == discipline));

    // Sections, staff and teachers.
    let sections = r["sections.txt"].ids("ID");
    let staff = r["schoolstaff.txt"].ids("ID");
    let st = &r["sectionteacher.txt"];
    assert!(st.ids("SectionID").is_subset(&sections));
    assert_eq!(
        st.ids("SectionID").len(),
        sections.len() - usize::from(quirks),
        "a lead for every real section"
    );
    assert!(st.ids("TeacherID").is_subset(&staff));
    assert!(st.ids("RoleID").is_subset(&r["roledef.txt"].ids("ID")));
    assert!(st.values("RoleID").filter(|v| *v == "2").count() > 0, "co-teachers");
    assert!(r["incident.txt"].ids("Created_By").is_subset(&staff));

    // Calendars.
    let cal = &r["calendar_day.txt"];
    let bells = r["bell_schedule.txt"].ids("ID");
    let cycles = r["cycle_day.txt"].ids("ID");
    assert!(cal.ids("Bell_Schedule_ID").iter().all(|b| *b == 0 || bells.contains(b)));
    assert!(cal.ids("Cycle_Day_ID").iter().all(|c| *c == 0 || cycles.contains(c)));
    let items = &r["bell_schedule_items.txt"];
    assert!(items.ids("Bell_Schedule_ID").is_subset(&bells));
    assert!(items.ids("Period_ID").is_subset(&r["period.txt"].ids("ID")));
    let (s, e, n) = (items.col("Start_Time"), items.col("End_Time"), items.col("Total_Minutes"));
    for row in &items.rows {
        let (s, e, n): (i64, i64, i64) =
            (row[s].parse().unwrap(), row[e].parse().unwrap(), row[n].parse().unwrap());
        assert!((6 * 3600..17 * 3600).contains(&s) && e - s == n * 60, "{row:?}");
    }

    // Tests: every score belongs to the row's test.
    let tests = r["test.txt"].ids("ID");
    let score_test: HashMap<String, String> = {
        let ts = &r["testscore.txt"];
        let (id, t) = (ts.col("ID"), ts.col("TestID"));
        ts.rows.iter().map(|row| (row[id].clone(), row[t].clone())).collect()
    };
    let taken: HashMap<String, String> = {
        let st = &r["studenttest.txt"];
        assert!(st.ids("TestID").is_subset(&tests));
        let (id, t) = (st.col("ID"), st.col("TestID"));
        st.rows.iter().map(|row| (row[id].clone(), row[t].clone())).collect()
    };
    let sts = &r["studenttestscore.txt"];
    let (st_id, score) = (sts.col("StudentTestID"), sts.col("TestScoreID"));
    for row in &sts.rows {
        assert_eq!(score_test.get(&row[score]), taken.get(&row[st_id]), "{row:?}");
    }

    // Incidents.
    let incidents = r["incident.txt"].ids("Incident_ID");
    let details = r["incident_detail.txt"].ids("Incident_Detail_ID");
    assert!(r["incident_detail.txt"].ids("Incident_ID").is_subset(&incidents));
    assert!(
        r["incident_detail.txt"].ids("LU_Code_ID").is_subset(&r["incident_lu_code.txt"].ids("LU_Code_ID"))
    );
    assert!(r["incident_person_role.txt"].ids("Role_Incident_Detail_ID").is_subset(&details));
    assert!(r["incident_action.txt"].ids("Action_Incident_Detail_ID").is_subset(&details));

    // Contacts: several detail rows for some associations, one active each.
    let assocs = r["studentcontactassoc.txt"].ids("StudentContactAssocID");
    let detail = &r["studentcontactdetail.txt"];
    let (a, active) = (detail.col("StudentContactAssocID"), detail.col("IsActive"));
    let on = |v: &str| v == "1" || v == "true";
    let active_per: HashMap<&str, usize> =
        detail.rows.iter().filter(|row| on(&row[active])).fold(HashMap::new(), |mut acc, row| {
            *acc.entry(row[a].as_str()).or_insert(0) += 1;
            acc
        });
    assert_eq!(active_per.len(), assocs.len());
    assert!(active_per.values().all(|n| *n == 1));
    assert!(detail.rows.len() > assocs.len(), "closed earlier periods");
    let closed = detail.rows.iter().filter(|row| !on(&row[active])).count();
    assert!(detail.values("EndDate").filter(|v| !v.is_empty()).count() == closed);
    let contacts = &r["contacts.txt"];
    assert_eq!(contacts.ids("StudentContactAssocID"), assocs);
    assert!(contacts.ids("PersonID").is_subset(&r["person.txt"].ids("ID")));
    assert!(contacts.ids("StudentDCID").is_subset(&dcids));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn full_district_plain() {
    check_full(false);
}

#[test]
fn full_district_with_quirks() {
    check_full(true);
}

/// ClassRank's simple GPA is the credit-weighted mean of the student's
/// high-school GPA points in StoredGrades, through the ranked year.
#[test]
fn class_rank_agrees_with_stored_grades() {
    let dir = tmp("rank");
    let m = powerschool(&PsGenOptions::full_district(600, 4), &dir).unwrap();
    let r = read_all(&dir, &m);
    let sg = &r["storedgrades.txt"];
    let c = |n: &str| sg.col(n);
    let (stu, term, grade, pts, cr, level, excl) = (
        c("StudentID"),
        c("TermID"),
        c("Grade"),
        c("GPA_Points"),
        c("PotentialCrHrs"),
        c("Grade_Level"),
        c("ExcludeFromGPA"),
    );
    let mut points: HashMap<&str, Vec<(i64, f64, f64)>> = HashMap::new();
    for row in &sg.rows {
        let credit: f64 = row[cr].parse().unwrap();
        if row[level].parse::<i64>().unwrap() >= 9 && row[excl] == "0" && row[grade] != "--" && credit > 0.0 {
            let year = row[term].parse::<i64>().unwrap() / 100;
            points.entry(row[stu].as_str()).or_default().push((year, row[pts].parse().unwrap(), credit));
        }
    }
    let cr_file = &r["classrank.txt"];
    let (s, y, method, gpa, rank, out_of) = (
        cr_file.col("StudentID"),
        cr_file.col("YearID"),
        cr_file.col("GPAMethod"),
        cr_file.col("GPA"),
        cr_file.col("Rank"),
        cr_file.col("OutOf"),
    );
    let mut checked = 0;
    for row in &cr_file.rows {
        let (rk, n): (i64, i64) = (row[rank].parse().unwrap(), row[out_of].parse().unwrap());
        assert!(1 <= rk && rk <= n, "{row:?}");
        if row[method] != "Simple" {
            continue;
        }
        let through: i64 = row[y].parse().unwrap();
        let (mut p, mut c) = (0.0, 0.0);
        for (year, pt, credit) in points.get(row[s].as_str()).into_iter().flatten() {
            if *year <= through {
                p += pt * credit;
                c += credit;
            }
        }
        let want = p / c;
        let got: f64 = row[gpa].parse().unwrap();
        assert!((want - got).abs() < 0.0006, "{row:?}: {want}");
        checked += 1;
    }
    assert!(checked > 50, "{checked} ranks");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Without the new options nothing new is written; with them, the core files
/// keep their rows and bytes except where the new columns and rows go.
#[test]
fn new_options_leave_core_files_alone() {
    let base = PsGenOptions { students: 300, seed: 21, quirks: true, ..PsGenOptions::default() };
    let a = tmp("core-a");
    let b = tmp("core-b");
    let ma = powerschool(&base, &a).unwrap();
    assert!(NEW_FILES.iter().all(|n| ma.file(n).is_none()));
    assert!(ma.files.iter().all(|f| f.secrets.is_empty()));
    assert!(!ma.file("students.txt").unwrap().columns.iter().any(|c| c == "SSN"));
    assert!(!ma.file("calendar_day.txt").unwrap().columns.iter().any(|c| c == "Bell_Schedule_ID"));
    let text = std::fs::read_to_string(a.join(MANIFEST_FILE)).unwrap();
    assert!(!text.contains("secrets") && !text.contains("district_tables"), "the manifest reads as before");

    let mb = powerschool(&PsGenOptions { contacts_export: true, ..full(300, 21, true) }, &b).unwrap();
    let changed = ["gen.txt", "calendar_day.txt", "studentcontactdetail.txt", "students.txt"];
    for f in &ma.files {
        let g = mb.file(&f.name).unwrap();
        assert_eq!(g.rejects, f.rejects, "{}", f.name);
        if changed.contains(&f.name.as_str()) {
            continue;
        }
        assert_eq!(g, f, "{}", f.name);
        assert_eq!(
            std::fs::read(a.join(&f.name)).unwrap(),
            std::fs::read(b.join(&f.name)).unwrap(),
            "{}",
            f.name
        );
    }
    let (ra, rb) = (read_all(&a, &ma), read_all(&b, &mb));
    // Students: the same rows, the secrets after the other columns.
    let (sa, sb) = (&ra["students.txt"], &rb["students.txt"]);
    assert_eq!(sa.rows.len(), sb.rows.len());
    for (x, y) in sa.rows.iter().zip(&sb.rows) {
        assert_eq!(x[..], y[..x.len()]);
    }
    // Gen: the same rows first; Calendar_Day: the same days.
    assert_eq!(ra["gen.txt"].rows[..], rb["gen.txt"].rows[..ra["gen.txt"].rows.len()]);
    assert_eq!(ra["calendar_day.txt"].rows.len(), rb["calendar_day.txt"].rows.len());
    // StudentContactDetail: the same active rows, plus closed ones.
    let active = |r: &Read| {
        let i = r.col("IsActive");
        r.rows.iter().filter(|row| row[i] == "true" || row[i] == "1").count()
    };
    assert_eq!(active(&ra["studentcontactdetail.txt"]), ra["studentcontactdetail.txt"].rows.len());
    assert_eq!(active(&rb["studentcontactdetail.txt"]), ra["studentcontactdetail.txt"].rows.len());
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b).unwrap();
}
