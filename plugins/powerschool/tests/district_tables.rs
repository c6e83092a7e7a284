//! The district tables of model 2.2 with exact values: the hand-written
//! export of `tests/data/district/` plus Cycle_Day, Bell_Schedule,
//! Bell_Schedule_Items, Calendar_Day, RoleDef, SectionTeacher and ClassRank
//! files written here, with the rows that must be rejected (a school,
//! section, teacher, student, period or bell schedule that is missing or
//! was rejected) and values that must only warn.
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::path::{Path, PathBuf};

use ferry_plugin_powerschool::PowerSchoolPlugin;
use ferry_plugin_powerschool::source::{FileStats, PowerSchoolSource};
use ferry_sdk::model::{
    AcademicRecord, BellSchedule, BellSchedulePeriod, CalendarDay, ClassPeriod, CodeValue, Date, DayType,
    Decimal, EntityKind, Gpa, Record, SectionRole, SectionStaff, StaffAssignment, StaffRole, TimeOfDay,
};
use ferry_sdk::serde_json::{self, json};
use ferry_sdk::testkit::{self, SourceOutput};
use ferry_sdk::{BatchBuilder, OpenContext, Source};

const CYCLE_DAY: &str = "\
ID\tDCID\tSchoolID\tYear_ID\tLetter\tDay_Number\tAbbreviation\tDay_Name\tSortOrder
1\t801\t100\t34\tA\t1\tA\tA Day\t1
2\t802\t100\t34\tB\t2\tB\tB Day\t2
3\t803\t555\t34\tA\t1\tA\tA Day\t1
";

const BELL_SCHEDULE: &str = "\
ID\tDCID\tSchoolID\tYear_ID\tName
7\t907\t100\t34\tRegular Day
8\t908\t100\t34\t
";

const BELL_ITEMS: &str = "\
ID\tDCID\tBell_Schedule_ID\tPeriod_ID\tStart_Time\tEnd_Time\tDaily_Ada_Code
1\t1001\t7\t51\t29700\t32400\t1
2\t1002\t7\t52\t32640\t35340\t1
3\t1003\t8\t51\t29700\t32400\t1
4\t1004\t7\t50\t9:05 AM\t99999\t0
";

const CALENDAR_DAY: &str = "\
[51]ID\t[51]DCID\t[51]SchoolID\t[51]Date_Value\t[51]InSession\t[51]MembershipValue\t[51]Cycle_Day_ID\t[51]Bell_Schedule_ID\t[51]Type\t[51]Note\t[51]A
1\t2001\t100\t09/03/2024\t1\t1\t1\t7\t\t\t1
2\t2002\t100\t09/07/2024\t0\t0\t0\t0\tWeekend\t\t0
3\t2003\t100\t01/21/2025\t0\t0\t0\t0\tSD\tSnow day\t0
4\t2004\t100\t11/27/2024\t1\t0.5\t2\t99\t\tEarly release\t1
5\t2005\t555\t09/03/2024\t1\t1\t0\t0\t\t\t1
";

const ROLEDEF: &str = "\
ID\tDCID\tName\tDescription\tSortOrder
1\t31\tLead Teacher\tTeacher of record\t0
2\t32\tCo-teacher\tShares instruction\t1
3\t33\tStudent Teacher\tTeacher candidate\t2
";

const SECTION_TEACHER: &str = "\
ID\tDCID\tSectionID\tTeacherID\tRoleID\tAllocation\tStart_Date\tEnd_Date\tPriority_Order
1\t5001\t301\t11\t1\t1.00\t09/03/2024\t06/13/2025\t1
2\t5002\t301\t13\t2\t0.50\t10/01/2024\t06/13/2025\t2
3\t5003\t302\t13\t3\t0.25\t09/03/2024\t01/24/2025\t1
4\t5004\t999\t11\t1\t1.00\t09/03/2024\t06/13/2025\t1
5\t5005\t303\t11\t1\t1.00\t09/03/2024\t06/13/2025\t1
6\t5006\t302\t77\t1\t1.00\t09/03/2024\t06/13/2025\t1
7\t5007\t301\t11\t2\t1.00\t01/27/2025\t06/13/2025\t3
";

const CLASS_RANK: &str = "\
\"ID\",\"DCID\",\"StudentID\",\"SchoolID\",\"YearID\",\"GPAMethod\",\"GPA\",\"Rank\",\"OutOf\",\"Percentile\",\"DateRanked\"
\"1\",\"7001\",\"101\",\"200\",\"34\",\"Simple\",\"3.25\",\"2\",\"10\",\"90.0\",\"06/13/2025\"
\"2\",\"7002\",\"101\",\"200\",\"34\",\"Weighted\",\"3.755\",\"1\",\"10\",\"100.0\",\"06/13/2025\"
\"3\",\"7003\",\"999\",\"200\",\"34\",\"Simple\",\"2.0\",\"5\",\"10\",\"50.0\",\"06/13/2025\"
\"4\",\"7004\",\"101\",\"777\",\"34\",\"Simple\",\"2.0\",\"5\",\"10\",\"50.0\",\"06/13/2025\"
\"5\",\"7005\",\"102\",\"200\",\"34\",\"Core\",\"abc\",\"3\",\"10\",\"70.0\",\"06/13/2025\"
\"6\",\"7006\",\"105\",\"200\",\"34\",\"Simple\",\"3.0\",\"3\",\"10\",\"80.0\",\"06/13/2025\"
";

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// The district export with the district tables beside it.
fn district(dir: &Path) -> serde_json::Value {
    for f in std::fs::read_dir(data("district")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), dir.join(f.file_name())).unwrap();
    }
    let mut gen_rows = std::fs::read_to_string(dir.join("gen.txt")).unwrap();
    gen_rows.push_str("6\t6\tdailymembtypes\tSD\tSnow day\n");
    std::fs::write(dir.join("gen.txt"), gen_rows).unwrap();
    let mut periods = std::fs::read_to_string(dir.join("period.txt")).unwrap();
    periods.push_str("51\t51\t100\t34\t1\tP1\n52\t52\t777\t34\t2\tX\n");
    std::fs::write(dir.join("period.txt"), periods).unwrap();
    for (name, text) in [
        ("cycle_day.txt", CYCLE_DAY),
        ("bell_schedule.txt", BELL_SCHEDULE),
        ("bell_schedule_items.txt", BELL_ITEMS),
        ("calendar_day.txt", CALENDAR_DAY),
        ("roledef.txt", ROLEDEF),
        ("sectionteacher.txt", SECTION_TEACHER),
        ("classrank.txt", CLASS_RANK),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
    }
    json!({
        "directory": dir,
        "files": { "sections.txt": {
            "table": "Sections",
            "columns": ["ID", "DCID", "SchoolID", "Course_Number", "Section_Number", "TermID", "Teacher", "Room", "Expression"]
        } }
    })
}

fn stats(cfg: &serde_json::Value, dir: &Path) -> Vec<FileStats> {
    let mut src = PowerSchoolSource::open(&OpenContext::new(cfg.clone(), dir)).unwrap();
    loop {
        let mut b = BatchBuilder::new(100);
        if !src.next_batch(&mut b).unwrap() {
            break;
        }
    }
    src.file_stats().to_vec()
}

fn by_id<R: Record>(out: &SourceOutput, id: &str) -> R {
    out.records::<R>()
        .unwrap()
        .into_iter()
        .find(|r| r.meta().source.id == id)
        .unwrap_or_else(|| panic!("no {} record {id}", R::KIND))
}

fn none<R: Record>(out: &SourceOutput, id: &str) {
    assert!(out.records::<R>().unwrap().iter().all(|r| r.meta().source.id != id), "{} {id}", R::KIND);
}

fn d(y: i32, m: u32, day: u32) -> Option<Date> {
    Some(Date::new(y, m, day).unwrap())
}

fn dec(s: &str) -> Option<Decimal> {
    Some(Decimal::parse(s).unwrap())
}

fn hm(h: u32, m: u32) -> Option<TimeOfDay> {
    Some(TimeOfDay::from_hms(h, m, 0).unwrap())
}

fn ext<R: Record>(r: &R, key: &str) -> Option<String> {
    r.meta().ext.get(key).map(str::to_owned)
}

/// The rejects of `entity` from `file`, as (line, field, reason).
fn rejects(out: &SourceOutput, entity: EntityKind, file: &str) -> Vec<(u64, String, String)> {
    out.rejects_of(entity)
        .into_iter()
        .filter(|r| r.file == file)
        .map(|r| (r.line, r.field.clone(), r.reason.clone()))
        .collect()
}

#[test]
fn every_row_of_the_district_tables_is_accounted_for() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = district(dir.path());
    for s in stats(&cfg, dir.path()) {
        assert_eq!(s.rows, s.records + s.rejected + s.folded, "{s:?}");
        let want = match s.file.as_str() {
            "cycle_day.txt" => (3, 2, 1, 0, "code_values"),
            "bell_schedule.txt" => (2, 1, 1, 0, "bell_schedules"),
            "bell_schedule_items.txt" => (4, 2, 2, 0, "bell_schedule_periods"),
            "calendar_day.txt" => (5, 4, 1, 0, "calendar_days"),
            "roledef.txt" => (3, 3, 0, 0, "code_values"),
            "sectionteacher.txt" => (7, 4, 3, 0, "section_staff"),
            "classrank.txt" => (6, 2, 4, 0, "gpas"),
            "period.txt" => (3, 2, 1, 0, "class_periods"),
            "gen.txt" => (6, 6, 0, 0, "code_values"),
            "schoolstaff.txt" => (3, 3, 0, 0, "staff_assignments"),
            _ => continue,
        };
        assert_eq!((s.rows, s.records, s.rejected, s.folded, s.entity.as_str()), want, "{}", s.file);
    }
}

#[test]
fn codes_and_calendars() {
    let dir = tempfile::tempdir().unwrap();
    let out = testkit::run_source::<PowerSchoolPlugin>(&district(dir.path()), dir.path(), 7).unwrap();

    // Gen: every category; entry and exit codes carry their kinds.
    let e1: CodeValue = by_id(&out, "Gen:1");
    assert_eq!(
        (e1.code_set.as_deref(), e1.code.as_deref(), e1.description.as_deref(), e1.canonical.as_deref()),
        (Some("entrycodes"), Some("E1"), Some("New to district"), Some("newToDistrict"))
    );
    assert_eq!((e1.school_id.as_deref(), e1.school_year), (None, None), "district-wide");
    let g1: CodeValue = by_id(&out, "Gen:4");
    assert_eq!(g1.canonical.as_deref(), Some("graduated"));
    let sd: CodeValue = by_id(&out, "Gen:6");
    assert_eq!((sd.code_set.as_deref(), sd.canonical.as_deref()), (Some("dailymembtypes"), None));

    // Attendance_Code: per school and year, with the category attendance uses.
    let a: CodeValue = by_id(&out, "Attendance_Code:507");
    assert_eq!(
        (a.code_set.as_deref(), a.code.as_deref(), a.canonical.as_deref(), a.counts_as_present),
        (Some("attendance"), Some("A"), Some("absent"), Some(false))
    );
    assert_eq!((a.school_id.as_deref(), a.school_year), (Some("100"), Some(2025)));
    assert_eq!((a.meta.alt_id("id"), a.meta.alt_id("dcid")), (Some("7"), Some("507")));
    let activity: CodeValue = by_id(&out, "Attendance_Code:508");
    assert_eq!((activity.canonical.as_deref(), activity.counts_as_present), (Some("present"), Some(true)));
    none::<CodeValue>(&out, "Attendance_Code:506");

    // RoleDef and Cycle_Day.
    let co: CodeValue = by_id(&out, "RoleDef:32");
    assert_eq!(
        (co.code_set.as_deref(), co.code.as_deref(), co.canonical.as_deref(), co.sort_order),
        (Some("roledef"), Some("Co-teacher"), Some("coTeacher"), Some(1))
    );
    let st: CodeValue = by_id(&out, "RoleDef:33");
    assert_eq!(st.canonical.as_deref(), Some("Other"));
    let b: CodeValue = by_id(&out, "Cycle_Day:802");
    assert_eq!(
        (b.code_set.as_deref(), b.code.as_deref(), b.description.as_deref(), b.value, b.school_id.as_deref()),
        (Some("cycle_day"), Some("B"), Some("B Day"), dec("2"), Some("100"))
    );
    assert_eq!(
        rejects(&out, EntityKind::CodeValues, "cycle_day.txt"),
        [(4, "SchoolID".to_owned(), "the school is not in the Schools export".to_owned())]
    );

    // Period and bell schedules.
    let p1: ClassPeriod = by_id(&out, "51");
    assert_eq!(
        (p1.school_id.as_deref(), p1.school_year, p1.number, p1.abbreviation.as_deref()),
        (Some("100"), Some(2025), Some(1), Some("P1"))
    );
    let regular: BellSchedule = by_id(&out, "907");
    assert_eq!((regular.name.as_str(), regular.school_id.as_deref()), ("Regular Day", Some("100")));
    assert_eq!(regular.meta.alt_id("id"), Some("7"));
    assert_eq!(
        rejects(&out, EntityKind::BellSchedules, "bell_schedule.txt"),
        [(3, "Name".to_owned(), "Name is missing".to_owned())]
    );
    let first: BellSchedulePeriod = by_id(&out, "1001");
    assert_eq!(
        (first.bell_schedule_id.as_deref(), first.period_id.as_deref()),
        (Some("907"), Some("51")),
        "the source ids of the bell schedule and the period"
    );
    assert_eq!(
        (first.start_time, first.end_time, first.counts_for_attendance),
        (hm(8, 15), hm(9, 0), Some(true))
    );
    let clock: BellSchedulePeriod = by_id(&out, "1004");
    assert_eq!(
        (clock.start_time, clock.end_time, clock.counts_for_attendance),
        (hm(9, 5), None, Some(false))
    );
    let w: Vec<_> = out.warnings.iter().filter(|w| w.file == "bell_schedule_items.txt").collect();
    assert_eq!((w.len(), w[0].line, w[0].field.as_str()), (1, 5, "end_time"), "{w:?}");
    assert_eq!(
        rejects(&out, EntityKind::BellSchedulePeriods, "bell_schedule_items.txt"),
        [
            (3, "Period_ID".to_owned(), "its period was rejected (period.txt line 4)".to_owned()),
            (
                4,
                "Bell_Schedule_ID".to_owned(),
                "its bell schedule was rejected (bell_schedule.txt line 3)".to_owned()
            ),
        ]
    );

    // Calendar days: cycle letters, bell schedules, day types, exact membership.
    let first: CalendarDay = by_id(&out, "2001");
    assert_eq!(
        (first.school_id.as_deref(), first.date, first.school_year, first.in_session),
        (Some("100"), d(2024, 9, 3), Some(2025), Some(true))
    );
    assert_eq!(
        (first.membership_value, first.cycle_day.as_deref(), first.bell_schedule_id.as_deref()),
        (dec("1"), Some("A"), Some("907"))
    );
    let t = first.day_type.as_ref().unwrap();
    assert_eq!((t.code, t.original.as_str()), (DayType::Instructional, ""));
    assert_eq!(ext(&first, "A").as_deref(), Some("1"), "track flags in extensions");
    let weekend: CalendarDay = by_id(&out, "2002");
    let t = weekend.day_type.as_ref().unwrap();
    assert_eq!(
        (t.code, t.original.as_str(), weekend.cycle_day.as_deref()),
        (DayType::NonInstructional, "Weekend", None)
    );
    let snow: CalendarDay = by_id(&out, "2003");
    let t = snow.day_type.as_ref().unwrap();
    assert_eq!(
        (t.code, t.original.as_str()),
        (DayType::Emergency, "SD"),
        "Gen dailymembtypes says what SD is"
    );
    assert_eq!(snow.note.as_deref(), Some("Snow day"));
    let half: CalendarDay = by_id(&out, "2004");
    assert_eq!((half.membership_value, half.cycle_day.as_deref()), (dec("0.5"), Some("B")));
    assert_eq!(half.bell_schedule_id, None);
    assert_eq!(
        ext(&half, "Bell_Schedule_ID").as_deref(),
        Some("99"),
        "an unknown bell schedule stays in ext"
    );
    assert_eq!(
        rejects(&out, EntityKind::CalendarDays, "calendar_day.txt"),
        [(6, "[51]SchoolID".to_owned(), "the school is not in the Schools export".to_owned())]
    );
}

#[test]
fn co_teachers_staff_assignments_and_ranks() {
    let dir = tempfile::tempdir().unwrap();
    let out = testkit::run_source::<PowerSchoolPlugin>(&district(dir.path()), dir.path(), 7).unwrap();

    // SectionTeacher is the source of section staff: 9301's lead is its row
    // (not Sections.Teacher's), with a co-teacher and the lead's second span.
    let lead: SectionStaff = by_id(&out, "9301:1");
    let r = lead.role.as_ref().unwrap();
    assert_eq!((r.code, r.original.as_str()), (SectionRole::Lead, "Lead Teacher"));
    assert_eq!((lead.start_date, lead.end_date), (d(2024, 9, 3), d(2025, 6, 13)));
    assert_eq!(lead.meta.table.as_deref(), Some("SectionTeacher"));
    assert_eq!(ext(&lead, "Allocation").as_deref(), Some("1.00"));
    let co: SectionStaff = by_id(&out, "9301:2");
    assert_eq!(co.role.as_ref().map(|r| r.code), Some(SectionRole::CoTeacher));
    let again: SectionStaff = by_id(&out, "9301:1:5007");
    assert_eq!(
        (again.role.as_ref().map(|r| r.code), again.start_date),
        (Some(SectionRole::CoTeacher), d(2025, 1, 27))
    );
    let student_teacher: SectionStaff = by_id(&out, "9302:2");
    let r = student_teacher.role.as_ref().unwrap();
    assert_eq!((r.code, r.original.as_str()), (SectionRole::Other, "Student Teacher"));
    // 9302 has SectionTeacher rows: Sections.Teacher makes no lead of it;
    // 9304 has none: its lead comes from Sections.Teacher.
    none::<SectionStaff>(&out, "9302:1");
    let fallback: SectionStaff = by_id(&out, "9304:1");
    assert_eq!(fallback.meta.table.as_deref(), Some("Sections"));
    assert_eq!(out.count(EntityKind::SectionStaff), 5);
    assert_eq!(
        rejects(&out, EntityKind::SectionStaff, "sectionteacher.txt"),
        [
            (5, "SectionID".to_owned(), "the section is not among the sections read".to_owned()),
            (6, "SectionID".to_owned(), "its section was rejected (sections.txt line 3)".to_owned()),
            (7, "TeacherID".to_owned(), "the section's teacher is not among the staff read".to_owned()),
        ]
    );

    // SchoolStaff → staff assignments, the role as the staff record's.
    let ana: StaffAssignment = by_id(&out, "1011");
    assert_eq!((ana.staff_id.as_deref(), ana.school_id.as_deref()), (Some("1"), Some("100")));
    assert_eq!(ana.role.as_ref().map(|r| (r.code, r.original.as_str())), Some((StaffRole::Teacher, "1")));
    assert_eq!(ext(&ana, "Sched_Department").as_deref(), Some("MATH"));
    let bob: StaffAssignment = by_id(&out, "1013");
    assert_eq!(
        (bob.staff_id.as_deref(), bob.school_id.as_deref(), bob.role.as_ref().map(|r| r.code)),
        (Some("2"), Some("200"), Some(StaffRole::Administrator))
    );
    assert_eq!(out.count(EntityKind::StaffAssignments), 3);

    // ClassRank → one academic record per student, school and year, a GPA per row.
    let rec: AcademicRecord = by_id(&out, "5001:200:34");
    assert_eq!(
        (rec.student_id.as_deref(), rec.school_id.as_deref(), rec.school_year),
        (Some("5001"), Some("200"), Some(2025))
    );
    assert_eq!(
        (rec.class_rank, rec.class_size, rec.class_rank_method.as_deref(), rec.class_rank_date),
        (Some(2), Some(10), Some("Simple"), d(2025, 6, 13)),
        "the first method read"
    );
    assert_eq!(ext(&rec, "Percentile").as_deref(), Some("90.0"));
    assert_eq!(out.count(EntityKind::AcademicRecords), 1);
    let simple: Gpa = by_id(&out, "7001");
    assert_eq!(
        (simple.academic_record_id.as_deref(), simple.method.as_deref(), simple.weighted, simple.cumulative),
        (Some("5001:200:34"), Some("Simple"), Some(false), Some(true))
    );
    assert_eq!(simple.value, dec("3.25"));
    let weighted: Gpa = by_id(&out, "7002");
    assert_eq!((weighted.weighted, weighted.value), (Some(true), dec("3.755")));
    assert_eq!(ext(&weighted, "Rank").as_deref(), Some("1"), "each method keeps its own rank");
    let r = rejects(&out, EntityKind::Gpas, "classrank.txt");
    assert_eq!(r.len(), 4, "{r:?}");
    assert_eq!(r[0], (4, "StudentID".to_owned(), "the student is not among the students read".to_owned()));
    assert_eq!(r[1], (5, "SchoolID".to_owned(), "the school is not in the Schools export".to_owned()));
    assert_eq!(r[2].0, 6);
    assert_eq!(r[2].1, "GPA");
    assert_eq!(r[3].0, 7);
    assert!(r[3].2.contains("students.txt line 6"), "{:?}", r[3]);
    assert!(out.rejects_of(EntityKind::AcademicRecords).is_empty(), "the GPA pass rejects those rows");
}
