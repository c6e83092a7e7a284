//! The district tables (Gen's programs and log types, SPEnrollments, Log,
//! Incident Management, the test tables) on a small hand-written export:
//! exact canonical values, and the rejects and their reasons.
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::path::Path;

use ferry_plugin_powerschool::PowerSchoolPlugin;
use ferry_plugin_powerschool::source::{FileStats, PowerSchoolSource};
use ferry_sdk::model::{
    AssessmentScore, Code, Date, Decimal, DisciplineAction, DisciplineActionKind, DisciplineIncident,
    DisciplineParticipant, DurationUnit, IncidentRole, LogEntry, Program, ProgramKind, ProgramParticipation,
    Record, ReportingMethod, StudentAssessment, TimeOfDay,
};
use ferry_sdk::serde_json::json;
use ferry_sdk::testkit::{self, SourceOutput};
use ferry_sdk::{BatchBuilder, OpenContext, Source};

/// Writes a tab-delimited file: a header line, then rows.
fn file(dir: &Path, name: &str, rows: &[&[&str]]) {
    let text: String = rows.iter().map(|r| format!("{}\n", r.join("\t"))).collect();
    std::fs::write(dir.join(name), text).unwrap();
}

fn export(dir: &Path) {
    file(dir, "schools.txt", &[&["School_Number", "Name"], &["0", "District Office"], &["101", "North"]]);
    file(
        dir,
        "students.txt",
        &[
            &["ID", "DCID", "Student_Number", "First_Name", "Last_Name", "SchoolID", "Grade_Level"],
            &["1", "1001", "S1", "Ana", "Núñez", "101", "5"],
            &["2", "1002", "S2", "Ben", "Li", "101", "6"],
        ],
    );
    file(
        dir,
        "gen.txt",
        &[
            &["ID", "DCID", "Cat", "Name", "Value", "ValueLI", "SchoolID"],
            &["11", "11", "logtype", "Discipline", "Discipline referral", "0", "0"],
            &["12", "12", "logtype", "Parent Contact", "Contact with a parent", "0", "0"],
            &["17", "17", "subtype", "01", "Fighting", "11", "0"],
            &["37", "137", "specprog", "Special Education", "SPED", "0", "0"],
            &["38", "138", "specprog", "Free/Reduced Lunch", "FRL", "0", "101"],
        ],
    );
    let log_header: &[&str] = &[
        "ID",
        "DCID",
        "StudentID",
        "SchoolID",
        "LogTypeID",
        "Entry_Date",
        "Entry_Time",
        "Entry_Author",
        "Subject",
        "Entry",
        "Subtype",
        "Consequence",
        "Discipline_IncidentType",
        "Discipline_ActionTaken",
        "Discipline_DurationAssigned",
        "Discipline_DurationActual",
        "Discipline_IncidentDate",
        "Discipline_IncidentLocation",
    ];
    file(
        dir,
        "log.txt",
        &[
            log_header,
            &[
                "1",
                "501",
                "1",
                "101",
                "11",
                "03/04/2025",
                "1:05 PM",
                "Smith, Jo",
                "Fight at lunch",
                "Ana pushed a classmate.",
                "01",
                "Out-of-school suspension",
                "FIGHT",
                "OSS",
                "3.5",
                "3",
                "03/03/2025",
                "Cafeteria",
            ],
            &[
                "2",
                "502",
                "2",
                "101",
                "12",
                "03/05/2025",
                "8:00 AM",
                "Lee, Sam",
                "Call home",
                "Left a voicemail.",
                "02",
                "",
                "",
                "",
                "0",
                "0.0",
                "",
                "",
            ],
            &[
                "3",
                "503",
                "2",
                "101",
                "99",
                "03/06/2025",
                "25:00",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
            ],
            &[
                "4",
                "504",
                "9",
                "101",
                "11",
                "03/06/2025",
                "",
                "",
                "",
                "",
                "",
                "",
                "FIGHT",
                "WARN",
                "",
                "",
                "",
                "",
            ],
            &["5", "505", "1", "101", "11", "", "", "", "", "", "", "", "DEFY", "DET", "1", "1", "", ""],
        ],
    );
    file(
        dir,
        "spenrollments.txt",
        &[
            &[
                "ID",
                "DCID",
                "StudentID",
                "ProgramID",
                "SchoolID",
                "EnterDate",
                "ExitDate",
                "Code1",
                "Code2",
                "ExitCode",
                "Sp_Comment",
            ],
            &[
                "1",
                "601",
                "1",
                "37",
                "101",
                "09/03/2024",
                "06/14/2025",
                "SLD",
                "02",
                "WD",
                "Annual review in May",
            ],
            &["2", "602", "2", "38", "101", "09/03/2024", "", "F", "", "", ""],
            &["3", "603", "2", "77", "101", "09/03/2024", "", "", "", "", ""],
        ],
    );
    file(
        dir,
        "incident_lu_code.txt",
        &[
            &["LU_Code_ID", "Code_Type", "Incident_Category", "Short_Desc", "Long_Desc"],
            &["1", "behaviorcode", "Behavior", "FIGHT", "Fighting"],
            &["2", "actioncode", "Action", "ISS", "In-school suspension"],
            &["3", "persontype", "Offender", "OFF", "Offender"],
            &["4", "persontype", "Victim", "VIC", "Victim"],
        ],
    );
    file(
        dir,
        "incident_detail.txt",
        &[
            &["Incident_Detail_ID", "Incident_ID", "LU_Code_ID", "LU_Sub_Code_ID", "Lookup_Code_Desc"],
            &["1", "10", "1", "", "Fighting"],
            &["2", "10", "4", "", "Victim"],
            &["3", "10", "3", "", "Offender"],
            &["4", "10", "2", "", "In-school suspension"],
        ],
    );
    file(
        dir,
        "incident.txt",
        &[
            &[
                "Incident_ID",
                "School_Number",
                "Incident_TS",
                "Incident_Title",
                "Incident_Detail_Desc",
                "Location_Details",
            ],
            &["10", "101", "03/03/2025 12:15 PM", "Fight", "Two students fought in line.", "Cafeteria"],
            &["11", "555", "03/04/2025 9:00 AM", "Theft", "A phone went missing.", "Gym"],
        ],
    );
    file(
        dir,
        "incident_person_role.txt",
        &[
            &["ID", "Incident_ID", "StudentID", "Role_Incident_Detail_ID"],
            &["1", "10", "2", "2"],
            &["2", "10", "1", "3"],
            &["3", "11", "1", "3"],
        ],
    );
    file(
        dir,
        "incident_action.txt",
        &[
            &[
                "Incident_Action_ID",
                "Incident_ID",
                "Action_Incident_Detail_ID",
                "Action_Plan_Begin_DT",
                "Action_Plan_End_DT",
                "Duration_Assigned",
                "Duration_Actual",
                "Action_Resolved_Desc",
            ],
            &["1", "10", "4", "03/04/2025", "03/05/2025", "2.0", "2.0", "Completed"],
        ],
    );
    file(
        dir,
        "test.txt",
        &[
            &["ID", "DCID", "Name", "Description", "TestType"],
            &["1", "51", "State ELA", "State test, English", "1"],
        ],
    );
    file(
        dir,
        "testscore.txt",
        &[
            &["ID", "DCID", "TestID", "Name", "Description", "SortOrder"],
            &["1", "501", "1", "ELA Scale", "Scale score", "1"],
            &["2", "502", "1", "Reading", "Reading", "2"],
        ],
    );
    file(
        dir,
        "studenttest.txt",
        &[
            &["ID", "DCID", "StudentID", "TestID", "Test_Date", "Grade_Level", "SchoolID", "TermID"],
            &["1", "401", "1", "1", "2025-04-10", "5", "101", "3400"],
            &["2", "402", "9", "1", "2025-04-10", "6", "101", "3400"],
            &["3", "403", "2", "8", "2025-04-10", "6", "101", "3400"],
        ],
    );
    file(
        dir,
        "studenttestscore.txt",
        &[
            &["ID", "DCID", "StudentTestID", "TestScoreID", "NumScore", "PercentScore", "AlphaScore"],
            &["1", "901", "1", "1", "742.5", "", ""],
            &["2", "902", "1", "2", "610", "52", "On Watch"],
            &["3", "903", "2", "1", "700", "", ""],
            &["4", "904", "1", "1", "", "", ""],
            &["5", "905", "1", "2", "", "88", ""],
        ],
    );
}

fn read(dir: &Path) -> (SourceOutput, Vec<FileStats>) {
    let cfg = json!({ "directory": dir });
    let out = testkit::run_source::<PowerSchoolPlugin>(&cfg, dir, 3).unwrap();
    let mut src = PowerSchoolSource::open(&OpenContext::new(cfg, dir)).unwrap();
    loop {
        let mut b = BatchBuilder::new(3);
        if !src.next_batch(&mut b).unwrap() {
            break;
        }
    }
    (out, src.file_stats().to_vec())
}

fn by_id<R: Record>(out: &SourceOutput, id: &str) -> R {
    out.records::<R>()
        .unwrap()
        .into_iter()
        .find(|r| r.meta().source.id == id)
        .unwrap_or_else(|| panic!("no {} record {id}", R::KIND))
}

fn ids<R: Record>(out: &SourceOutput) -> Vec<String> {
    let mut v: Vec<String> = out.records::<R>().unwrap().iter().map(|r| r.meta().source.id.clone()).collect();
    v.sort();
    v
}

fn d(y: i32, m: u32, day: u32) -> Option<Date> {
    Some(Date::new(y, m, day).unwrap())
}

fn dec(s: &str) -> Option<Decimal> {
    Some(Decimal::parse(s).unwrap())
}

/// The reasons of the rejects of `file`, by line.
fn rejects(out: &SourceOutput, file: &str) -> Vec<(u64, String)> {
    let mut v: Vec<(u64, String)> =
        out.rejects.iter().filter(|r| r.file == file).map(|r| (r.line, r.reason.clone())).collect();
    v.sort();
    v
}

#[test]
fn the_district_tables_become_their_entities() {
    let tmp = tempfile::tempdir().unwrap();
    export(tmp.path());
    let (out, stats) = read(tmp.path());
    let stat = |name: &str| stats.iter().find(|s| s.file == name).unwrap().clone();
    for s in &stats {
        assert_eq!(s.rows, s.records + s.rejected + s.folded, "{}", s.file);
    }

    // Gen: programs from `specprog`; the log types name log entries.
    let sped: Program = by_id(&out, "137");
    assert_eq!(sped.kind, Some(Code::mapped(ProgramKind::SpecialEducation, "Special Education")));
    assert_eq!(
        (sped.name.as_str(), sped.code.as_deref(), sped.org_id.as_deref()),
        ("Special Education", Some("SPED"), Some("0"))
    );
    assert_eq!(by_id::<Program>(&out, "138").kind.unwrap().code, ProgramKind::FreeReducedMeals);
    let gen_stats = stat("gen.txt");
    assert_eq!(gen_stats.records, gen_stats.rows, "Gen's counted pass makes a code value of every row");

    // SPEnrollments: the exclusive ExitDate made inclusive; Code2 and the
    // comment are personal data in extensions.
    let p: ProgramParticipation = by_id(&out, "601");
    assert_eq!((p.student_id.as_deref(), p.program_id.as_deref()), (Some("1001"), Some("137")));
    assert_eq!((p.begin_date, p.end_date), (d(2024, 9, 3), d(2025, 6, 13)));
    assert_eq!((p.eligibility.as_deref(), p.exit_reason.as_deref()), (Some("SLD"), Some("WD")));
    assert_eq!(p.meta.ext.get("Code2"), Some("02"));
    assert!(p.meta.ext.is_pii("Code2") && p.meta.ext.is_pii("Sp_Comment"));
    assert_eq!(by_id::<ProgramParticipation>(&out, "602").end_date, None);
    assert_eq!(
        rejects(&out, "spenrollments.txt"),
        [(4, "the program is not among the Gen specprog rows read".into())]
    );

    // Log → log entries.
    let l: LogEntry = by_id(&out, "501");
    assert_eq!((l.kind.as_deref(), l.subtype.as_deref()), (Some("Discipline"), Some("Fighting")));
    assert_eq!((l.date, l.time), (d(2025, 3, 4), Some(TimeOfDay::from_hms(13, 5, 0).unwrap())));
    assert_eq!((l.author.as_deref(), l.subject.as_deref()), (Some("Smith, Jo"), Some("Fight at lunch")));
    assert_eq!((l.student_id.as_deref(), l.school_id.as_deref()), (Some("1001"), Some("101")));
    assert_eq!(l.meta.ext.get("LogTypeID"), Some("11"));
    assert_eq!(l.meta.ext.get("Consequence"), Some("Out-of-school suspension"));
    assert_eq!(l.meta.ext.get("Discipline_ActionTaken"), None, "the action holds it");
    let call: LogEntry = by_id(&out, "502");
    assert_eq!((call.kind.as_deref(), call.subtype.as_deref()), (Some("Parent Contact"), Some("02")));
    let unknown: LogEntry = by_id(&out, "503");
    assert_eq!((unknown.kind.as_deref(), unknown.time), (Some("99"), None));
    assert!(
        out.warnings.iter().any(|w| w.file == "log.txt" && w.line == 4 && w.field == "time"),
        "{:?}",
        out.warnings
    );
    assert_eq!(
        rejects(&out, "log.txt"),
        [(5, "the student is not among the students read".into()), (6, "Entry_Date is missing".into())]
    );
    assert_eq!((stat("log.txt").records, stat("log.txt").rejected), (3, 2));

    // A discipline Log row also makes an incident, its offender and the
    // action; a row with zero durations and nothing else is no discipline,
    // and a rejected row makes nothing.
    let i: DisciplineIncident = by_id(&out, "log:501");
    assert_eq!((i.school_id.as_deref(), i.date, i.time), (Some("101"), d(2025, 3, 3), None));
    assert_eq!((i.behavior.as_deref(), i.location.as_deref()), (Some("FIGHT"), Some("Cafeteria")));
    assert_eq!((i.description.as_deref(), i.school_year), (Some("Ana pushed a classmate."), Some(2025)));
    let o: DisciplineParticipant = by_id(&out, "log:501");
    assert_eq!((o.incident_id.as_deref(), o.student_id.as_deref()), (Some("log:501"), Some("1001")));
    assert_eq!(o.role, Some(Code::mapped(IncidentRole::Offender, "Log")));
    let a: DisciplineAction = by_id(&out, "log:501");
    assert_eq!(a.action, Some(Code::mapped(DisciplineActionKind::OutOfSchoolSuspension, "OSS")));
    assert_eq!((a.length_assigned, a.length_served), (dec("3.5"), dec("3")));
    assert_eq!(a.length_unit.map(|u| u.code), Some(DurationUnit::Days));
    assert_eq!(ids::<DisciplineIncident>(&out), ["10", "log:501"]);
    assert_eq!(ids::<DisciplineAction>(&out), ["1", "log:501"]);

    // Incident Management.
    let i: DisciplineIncident = by_id(&out, "10");
    assert_eq!((i.date, i.time), (d(2025, 3, 3), Some(TimeOfDay::from_hms(12, 15, 0).unwrap())));
    assert_eq!((i.behavior.as_deref(), i.location.as_deref()), (Some("FIGHT"), Some("Cafeteria")));
    assert_eq!(i.meta.ext.get("Incident_Title"), Some("Fight"));
    assert_eq!(rejects(&out, "incident.txt"), [(3, "the school is not in the Schools export".into())]);
    let victim: DisciplineParticipant = by_id(&out, "1");
    assert_eq!(
        (victim.student_id.as_deref(), victim.role),
        (Some("1002"), Some(Code::mapped(IncidentRole::Victim, "VIC")))
    );
    assert_eq!(by_id::<DisciplineParticipant>(&out, "2").role.unwrap().code, IncidentRole::Offender);
    assert_eq!(
        rejects(&out, "incident_person_role.txt"),
        [(4, "its incident was rejected (incident.txt line 3)".into())]
    );
    // Incident_Action names no one: the action is the first offender's.
    let a: DisciplineAction = by_id(&out, "1");
    assert_eq!(
        (a.student_id.as_deref(), a.incident_id.as_deref(), a.school_id.as_deref()),
        (Some("1001"), Some("10"), Some("101"))
    );
    assert_eq!(a.action, Some(Code::mapped(DisciplineActionKind::InSchoolSuspension, "ISS")));
    assert_eq!((a.start_date, a.end_date, a.length_assigned), (d(2025, 3, 4), d(2025, 3, 5), dec("2")));
    assert_eq!(stat("incident_detail.txt").folded, 4);

    // Tests: sittings with the school year of their TermID.
    let s: StudentAssessment = by_id(&out, "401");
    assert_eq!((s.student_id.as_deref(), s.assessment_id.as_deref()), (Some("1001"), Some("51")));
    assert_eq!((s.date, s.school_year, s.school_id.as_deref()), (d(2025, 4, 10), Some(2025), Some("101")));
    assert_eq!(
        rejects(&out, "studenttest.txt"),
        [
            (3, "the student is not among the students read".into()),
            (4, "the test is not among the tests read".into())
        ]
    );

    // Scores: one record per result; the first (AlphaScore, else NumScore,
    // else PercentScore) has the row's id.
    assert_eq!(ids::<AssessmentScore>(&out), ["901", "902", "902:NumScore", "902:PercentScore", "905"]);
    let scale: AssessmentScore = by_id(&out, "901");
    assert_eq!(
        (scale.name.as_deref(), scale.result.as_deref(), scale.value),
        (Some("ELA Scale"), Some("742.5"), dec("742.5"))
    );
    assert_eq!(scale.method, Some(Code::mapped(ReportingMethod::ScaleScore, "NumScore")));
    assert_eq!(scale.student_assessment_id.as_deref(), Some("401"));
    let level: AssessmentScore = by_id(&out, "902");
    assert_eq!((level.result.as_deref(), level.value), (Some("On Watch"), None));
    assert_eq!(level.method.unwrap().code, ReportingMethod::ProficiencyLevel);
    let raw: AssessmentScore = by_id(&out, "902:NumScore");
    assert_eq!(
        (raw.result.as_deref(), raw.value, raw.method.unwrap().code),
        (Some("610"), dec("610"), ReportingMethod::RawScore)
    );
    let pct: AssessmentScore = by_id(&out, "902:PercentScore");
    assert_eq!((pct.result.as_deref(), pct.method.unwrap().code), (Some("52"), ReportingMethod::Percentile));
    assert_eq!(by_id::<AssessmentScore>(&out, "905").method.unwrap().code, ReportingMethod::Percentile);
    assert_eq!(
        rejects(&out, "studenttestscore.txt"),
        [
            (4, "its student test was rejected (studenttest.txt line 3)".into()),
            (5, "the row has no result (AlphaScore, NumScore and PercentScore are blank)".into())
        ]
    );
    let scores = stat("studenttestscore.txt");
    assert_eq!((scores.records, scores.more, scores.rejected), (3, 2, 2));
    assert_eq!(stat("testscore.txt").folded, 2);
}
