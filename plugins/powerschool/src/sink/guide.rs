//! `IMPORT-GUIDE.md`: which file to import with which PowerSchool tool, in
//! which order, and what cannot be imported.

use std::fmt::Write as _;

use ferry_sdk::RunSummary;

use super::files::ImportFile;

/// One import step: file, tool, what to check.
const STEPS: &[(&str, &str, &str)] = &[
    (
        "students.txt",
        "Quick Import (or Data Import Manager), table Students",
        "Match on Student_Number. EntryDate/ExitDate are the current enrollment; ExitDate is exclusive (the day after the last day). Enroll_Status: -1 pre-registered, 0 active, 1 inactive, 2 transferred out, 3 graduated. Columns named `U_…`/`S_…` are extension fields: map them in Data Import Manager.",
    ),
    (
        "reenrollments.txt",
        "Data Import Manager, table ReEnrollments",
        "Earlier enrollments of the students above, matched on Student_Number. Import after students.txt.",
    ),
    (
        "studentrace.txt",
        "Data Import Manager, table StudentRace",
        "One row per race; RaceCD W, B, A, I, P. Map the codes to your district's race codes if they differ.",
    ),
    (
        "teachers.txt",
        "Quick Import, table Teachers",
        "Match on TeacherNumber. Status 1 active, 2 inactive; StaffStatus 1 teacher, 2 staff.",
    ),
    ("courses.txt", "Quick Import, table Courses", "Match on Course_Number."),
    (
        "sections.txt",
        "Quick Import, table Sections",
        "Needs the courses, the teachers (TeacherNumber is the lead teacher) and the terms (TermID, per school) to exist.",
    ),
    (
        "cc.txt",
        "Quick Import, table CC (student schedules)",
        "Needs the students and sections. DateLeft is exclusive. Rows with a negative TermID are ended or dropped enrollments, written the way PowerSchool exports them; if your import refuses negative TermIDs, make them positive: DateLeft already ends the enrollment.",
    ),
    (
        "storedgrades.txt",
        "Quick Import, table StoredGrades (historical grades)",
        "Needs the students. `--` means no grade. Grades from other schools keep their SchoolID and SchoolName.",
    ),
    (
        "attendance.txt",
        "Quick Import, table Attendance (daily attendance)",
        "Needs the students and the attendance codes of each school and year (see attendance_code.txt); only non-present events are listed.",
    ),
    (
        "contacts.txt",
        "Data Import Manager, Contacts",
        "One row per student and contact; Contact_ID is the same for a contact shared by siblings. Relationship is the source's wording.",
    ),
];

/// The guide's file name.
pub const GUIDE: &str = "IMPORT-GUIDE.md";

/// The guide for a run that wrote `counts` (file, rows).
pub fn render(counts: &[(ImportFile, u64)], summary: &RunSummary) -> String {
    let rows = |name: &str| counts.iter().find(|(f, _)| f.name() == name).map(|(_, r)| *r);
    let mut s = String::new();
    let _ = writeln!(s, "# Importing into PowerSchool\n");
    if !summary.run_id.is_empty() {
        let _ = writeln!(
            s,
            "Written by Ferry, run `{}`{}.\n",
            summary.run_id,
            if summary.source.is_empty() { String::new() } else { format!(", from {}", summary.source) }
        );
    }
    let _ = writeln!(
        s,
        "All files are tab-delimited text with a header line of PowerSchool field names, dates as MM/DD/YYYY, no quoting. \
         Rows refer to each other by the numbers PowerSchool matches on: Student_Number, TeacherNumber, Course_Number, \
         Section_Number + TermID, and SchoolID (= School_Number). PowerSchool assigns its own ID and DCID on import.\n"
    );
    let _ = writeln!(s, "## Before you import\n");
    let _ = writeln!(
        s,
        "1. Make sure every school in `schools.txt` exists with the same School_Number (District Office 0 and Graduated Students 999999 always do).\n\
         2. Create the years and terms of `terms.txt` in each school (School Setup > Years & Terms): the term IDs (YearID × 100 + n) must match, as sections and schedules refer to them.\n\
         3. Create the attendance codes of `attendance_code.txt` per school and year, and the entry and exit codes of `gen.txt`.\n\
         4. Back up the PowerSchool database; test the imports on a test server first.\n"
    );
    let _ = writeln!(s, "## Import, in this order\n");
    let _ = writeln!(s, "| # | File | Rows | Tool | Notes |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    let mut n = 0;
    for (file, tool, notes) in STEPS {
        if let Some(r) = rows(file) {
            n += 1;
            let _ = writeln!(s, "| {n} | `{file}` | {r} | {tool} | {notes} |");
        }
    }
    let _ = writeln!(s, "\n## Reference files (not imported)\n");
    for file in ImportFile::all().filter(|f| !f.importable()).map(ImportFile::name) {
        if let Some(r) = rows(file) {
            let what = match file {
                "schools.txt" => "the schools the other files refer to",
                "terms.txt" => "the years and terms to set up before importing",
                "attendance_code.txt" => "the attendance codes used, per school and year, with their meaning",
                "gen.txt" => {
                    "the entry and exit codes used (Gen categories entrycodes and exitcodes), with their meaning"
                }
                "pgfinalgrades.txt" => {
                    "current gradebook grades (PGFinalGrades); PowerSchool fills these from teachers' gradebooks, they cannot be imported. Store them as historical grades if they must be kept"
                }
                "attendance_meeting.txt" => {
                    "period (meeting) attendance; PowerSchool's meeting attendance points at internal CC and Period IDs, so it cannot be imported from a file"
                }
                _ => "",
            };
            let _ = writeln!(s, "- `{file}` ({r} rows): {what}.");
        }
    }
    let _ = writeln!(
        s,
        "\nThese files contain student records protected by FERPA. Keep them on encrypted storage, share them only with the people doing the import, and delete them once it is verified."
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_only_written_files_in_order() {
        let g = render(
            &[(ImportFile::Cc, 5), (ImportFile::Students, 2), (ImportFile::PgFinalGrades, 3)],
            &RunSummary::default(),
        );
        let students = g.find("`students.txt`").unwrap();
        let cc = g.find("`cc.txt`").unwrap();
        assert!(students < cc);
        assert!(g.contains("| 1 | `students.txt` | 2 |"));
        assert!(g.contains("| 2 | `cc.txt` | 5 |"));
        assert!(!g.contains("`courses.txt`"));
        assert!(g.contains("`pgfinalgrades.txt` (3 rows)"));
    }
}
