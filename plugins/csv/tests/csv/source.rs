//! The source: encodings, dialects, mappings, rejects and config errors.

use ferry_sdk::ErrorKind;
use ferry_sdk::model::{Date, Demographics, EntityKind, GradeLevel, SchoolEnrollment, Sex, Student};
use ferry_sdk::serde_json::json;

use super::{assert_accounted, data_dir, read};

fn date(y: i32, m: u32, d: u32) -> Option<Date> {
    Some(Date::new(y, m, d).unwrap())
}

fn students_cp1252() -> ferry_sdk::serde_json::Value {
    json!({ "entities": { "students": {
        "file": "students_cp1252.csv",
        "columns": {
            "Student_Number": ["source_id", "student_number"],
            "First_Name": "first_name",
            "Last_Name": "last_name",
            "DOB": "birth_date",
            "Grade_Level": "grade_level",
            "Gender": "sex",
        }
    }}})
}

#[test]
fn windows_1252_accents_leading_zeros_dates_codes_and_extensions() {
    let out = read(students_cp1252(), &data_dir()).unwrap();
    assert!(out.rejects.is_empty(), "{:?}", out.rejects);
    let s: Vec<Student> = out.records().unwrap();
    assert_eq!(s.len(), 3);

    assert_eq!((s[0].first_name.as_str(), s[0].last_name.as_str()), ("José", "Núñez"));
    assert_eq!(s[1].first_name, "Zoë");
    assert_eq!(s[2].first_name, "Renée, Jr.");
    assert_eq!(s[2].last_name, "Müller");

    // Leading zeros kept, in the id and the field.
    assert_eq!(s[0].meta.source.id, "000123");
    assert_eq!(s[0].student_number.as_deref(), Some("000123"));
    assert_eq!(s[0].meta.source.system, "csv");

    // MM/DD/YYYY, M/D/YY and ISO all normalize.
    assert_eq!(s[0].birth_date, date(2011, 6, 19));
    assert_eq!(s[1].birth_date, date(2012, 2, 3));
    assert_eq!(s[2].birth_date, date(2010, 12, 1));

    // Codes normalize and keep the original.
    let g = s[0].grade_level.as_ref().unwrap();
    assert_eq!((g.code, g.original.as_str()), (GradeLevel::Kindergarten, "K"));
    assert_eq!(s[2].grade_level.as_ref().unwrap().code, GradeLevel::Grade09);
    assert_eq!(s[1].sex.as_ref().unwrap().code, Sex::Female);
    assert_eq!(s[2].sex.as_ref().unwrap().code, Sex::Unspecified);

    // Unmapped columns are extensions, in file order; empty cells are not stored.
    let ext: Vec<(&str, &str)> = s[0].meta.ext.iter().collect();
    assert_eq!(ext, [("Entry Date", "2024-08-26"), ("U_Locker", "17")]);
    assert_eq!(s[1].meta.ext.get("U_Locker"), None);
    assert_eq!(s[2].meta.ext.get("U_Locker"), Some("B-12"));

    // Origins: the file as configured, the line of each row (CRLF file).
    let origins: Vec<(String, u64)> =
        s.iter().map(|r| r.meta.origin.as_ref().map(|o| (o.file.clone(), o.line)).unwrap()).collect();
    assert_eq!(
        origins,
        [
            ("students_cp1252.csv".into(), 2),
            ("students_cp1252.csv".into(), 3),
            ("students_cp1252.csv".into(), 4)
        ]
    );
    assert!(s[0].meta.origin.as_ref().unwrap().raw.is_none(), "raw rows are off by default");
    assert_accounted(&out, EntityKind::Students, 3);
}

#[test]
fn utf8_with_bom() {
    let config = json!({ "system": "oldsis", "entities": { "students": {
        "file": "students_bom.csv",
        "columns": { "Student_Number": "source_id", "First_Name": "first_name", "Last_Name": "last_name" },
    }}});
    let s: Vec<Student> = read(config, &data_dir()).unwrap().records().unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].meta.source.id, "000300", "the BOM is not part of the first column");
    assert_eq!((s[0].first_name.as_str(), s[0].last_name.as_str()), ("Zoë", "Łukasiewicz"));
    assert_eq!(s[1].last_name, "Ngô");
    assert_eq!(s[1].meta.source.system, "oldsis");
}

#[test]
fn tab_delimited_unquoted_file_keeps_quotes_as_text() {
    let config = json!({
        "dialect": { "delimiter": "tab", "quoting": false },
        "entities": { "students": {
            "file": "students_ps.txt",
            "columns": {
                "Student_Number": "source_id",
                "Last_Name": "last_name",
                "First_Name": "first_name",
                "Nickname": "preferred_name",
                "DOB": "birth_date",
            },
        }},
    });
    let out = read(config, &data_dir()).unwrap();
    assert!(out.rejects.is_empty(), "{:?}", out.rejects);
    let s: Vec<Student> = out.records().unwrap();
    assert_eq!(s[0].last_name, "O\"Brien");
    assert_eq!(s[0].preferred_name.as_deref(), Some("\"Bo\""));
    assert_eq!(s[0].first_name, "Seán");
    assert_eq!(s[1].last_name, "Smith \"Jr\"");
    // Two-digit years, default pivot 50.
    assert_eq!(s[0].birth_date, date(2008, 9, 2));
    assert_eq!(s[1].birth_date, date(1999, 12, 31));
    assert_eq!(s[0].meta.ext.get("Enroll_Status"), Some("0"));
}

#[test]
fn headerless_file_with_columns_and_entity_dialect_override() {
    let config = json!({
        "dialect": { "header": true },
        "entities": { "school_enrollments": {
            "file": "enrollments_noheader.csv",
            "dialect": { "header": false, "columns": ["id", "student", "school", "entry", "exit", "grade"] },
            "columns": {
                "id": "source_id",
                "student": "student_id",
                "school": "school_id",
                "entry": "entry_date",
                "exit": "exit_date",
                "grade": "grade_level",
            },
        }},
    });
    let out = read(config, &data_dir()).unwrap();
    assert!(out.rejects.is_empty(), "{:?}", out.rejects);
    let e: Vec<SchoolEnrollment> = out.records().unwrap();
    assert_eq!(e.len(), 2);
    assert_eq!(e[0].student_id.as_deref(), Some("000123"));
    assert_eq!(e[0].entry_date, date(2024, 8, 26));
    assert_eq!(e[0].exit_date, None);
    assert_eq!(e[1].exit_date, date(2025, 6, 13));
    assert_eq!(e[0].meta.origin.as_ref().unwrap().line, 1, "no header: the first row is line 1");
    assert_eq!(e[1].grade_level.as_ref().unwrap().code, GradeLevel::Grade01);
}

#[test]
fn bad_rows_become_rejects_with_lines_and_the_run_goes_on() {
    let config = json!({ "entities": { "students": {
        "file": "students_bad.csv",
        "columns": {
            "Student_Number": "source_id",
            "First_Name": "first_name",
            "Last_Name": "last_name",
            "DOB": "birth_date",
        },
    }}});
    let out = read(config, &data_dir()).unwrap();
    let s: Vec<Student> = out.records().unwrap();
    let ids: Vec<(&str, u64)> =
        s.iter().map(|r| (r.meta.source.id.as_str(), r.meta.origin.as_ref().unwrap().line)).collect();
    // Student 3's impossible birth date is not a key nor required: the
    // student is written without it, with a warning (the field policy).
    assert_eq!(ids, [("1", 2), ("3", 4), ("5", 6), ("6", 10)]);
    assert_eq!(s[1].birth_date, None);
    assert_eq!(s[2].first_name, "Multi\nline");
    assert_eq!(out.warnings.len(), 1);
    let w = &out.warnings[0];
    assert_eq!(
        (w.line, w.field.as_str(), w.record_id.as_str(), w.file.as_str()),
        (4, "birth_date", "3", "students_bad.csv")
    );
    assert!(
        w.reason.contains("column \"DOB\" (birth_date): not a valid calendar date (formats tried: %Y-%m-%d"),
        "{}",
        w.reason
    );
    assert!(w.reason.contains("%-m/%-d/%Y") && !w.reason.contains("31/31"));
    assert_eq!(w.value.as_deref(), Some("31/31/2010"));

    let mut rejects = out.rejects.clone();
    rejects.sort_by_key(|r| r.line);
    let summary: Vec<(u64, &str, &str)> =
        rejects.iter().map(|r| (r.line, r.field.as_str(), r.record_id.as_str())).collect();
    assert_eq!(summary, [(3, "", ""), (5, "first_name", "4"), (8, "source_id", "")]);
    for r in &rejects {
        assert_eq!(r.file, "students_bad.csv");
        assert_eq!(r.entity, EntityKind::Students);
    }
    // Reasons say what is wrong without the values; values are kept aside.
    assert!(
        rejects[0].reason.contains("5 fields") && rejects[0].reason.contains("4 columns"),
        "{}",
        rejects[0].reason
    );
    assert_eq!(rejects[0].value.as_deref(), Some("2,Bob,Ray,01/02/2010,extra"));
    assert!(rejects[0].reason.find("Bob").is_none());
    assert!(rejects[1].reason.contains("first_name: required field is missing"), "{}", rejects[1].reason);
    assert!(rejects[2].reason.contains("missing source id"), "{}", rejects[2].reason);

    assert_accounted(&out, EntityKind::Students, 7);
}

#[test]
fn several_bad_cells_make_one_reject() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("e.csv"),
        "id,student,school,entry,year,primary\nE1,S1,100,13/45/2024,twenty,maybe\nE2,S2,100,9/1/2024,2025,Y\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("c.csv"), "id,credits,levels\nC1,abc,\"09,10\"\nC2,0.5,\"09, 10\"\n")
        .unwrap();
    let config = json!({ "entities": {
        "school_enrollments": { "file": "e.csv", "columns": {
            "id": "source_id", "student": "student_id", "school": "school_id",
            "entry": "entry_date", "year": "school_year", "primary": "primary" } },
        "courses": { "file": "c.csv", "columns": {
            "id": ["source_id", "course_number", "title"], "credits": "credit_hours", "levels": "grade_levels" } },
    }});
    let out = read(config, dir.path()).unwrap();
    // E1's entry date is required: it is rejected with every reason. C1's
    // credits are optional: C1 is written without them, with a warning.
    assert_eq!(out.rejects.len(), 1);
    assert_eq!(out.warnings.len(), 1);

    let e = &out.rejects_of(EntityKind::SchoolEnrollments)[0];
    assert_eq!((e.line, e.field.as_str(), e.record_id.as_str()), (2, "", "E1"));
    for part in [
        "column \"entry\" (entry_date)",
        "column \"year\" (school_year): not a whole number",
        "column \"primary\" (primary): not a boolean",
    ] {
        assert!(e.reason.contains(part), "{part} in {}", e.reason);
    }
    assert_eq!(e.value.as_deref(), Some("entry_date=13/45/2024; school_year=twenty; primary=maybe"));
    let good: Vec<SchoolEnrollment> = out.records().unwrap();
    assert_eq!((good[0].school_year, good[0].primary), (Some(2025), Some(true)));

    let c = &out.warnings[0];
    assert_eq!(
        (c.entity, c.field.as_str(), c.record_id.as_str(), c.value.as_deref()),
        (EntityKind::Courses, "credit_hours", "C1", Some("abc"))
    );
    assert!(c.reason.contains("not a decimal number"), "{}", c.reason);
    let courses: Vec<ferry_sdk::model::Course> = out.records().unwrap();
    assert_eq!(courses[0].credit_hours, None);
    assert_eq!(courses[1].credit_hours, Some(ferry_sdk::model::Decimal::parse("0.5").unwrap()));
    assert_eq!(courses[0].grade_levels, ["09", "10"]);
    assert_accounted(&out, EntityKind::SchoolEnrollments, 2);
    assert_accounted(&out, EntityKind::Courses, 2);
}

#[test]
fn one_file_under_two_entities_and_raw_rows() {
    let config = json!({ "keep_raw_rows": true, "entities": {
        "students": students_cp1252()["entities"]["students"].clone(),
        "demographics": {
            "file": "students_cp1252.csv",
            "columns": { "Student_Number": ["source_id", "person_id"] },
        },
    }});
    let out = read(config, &data_dir()).unwrap();
    assert!(out.rejects.is_empty(), "{:?}", out.rejects);
    let d: Vec<Demographics> = out.records().unwrap();
    assert_eq!(d.len(), 3);
    assert_eq!(d[0].person_id.as_deref(), Some("000123"));
    assert_eq!(d[0].meta.ext.get("First_Name"), Some("José"), "unmapped here, so an extension");
    let s: Vec<Student> = out.records().unwrap();
    assert_eq!(s.len(), 3);
    let raw = s[2].meta.origin.as_ref().unwrap().raw.as_deref();
    assert_eq!(raw, Some("000125,\"Renée, Jr.\",Müller,2010-12-01,09,X,08/26/2024,B-12"));
    // Entities come in dependency order, one entity per batch.
    let order: Vec<EntityKind> = out.batches.iter().map(|b| b.0).collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
    assert_eq!(order.first(), Some(&EntityKind::Students));
    assert_eq!(order.last(), Some(&EntityKind::Demographics));
}

#[test]
fn dialect_options_null_values_trim_booleans_and_date_formats() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sc.csv"),
        "id;student;contact;custodial;emergency;priority\n1; 000123 ;C1;Oui;NULL;2\n2;000124;C2;non;oui;n/a\n",
    )
    .unwrap();
    let config = json!({
        "dialect": { "delimiter": "semicolon", "trim": true, "null_values": ["NULL", "n/a"],
                     "true_values": ["oui"], "false_values": ["non"] },
        "entities": { "student_contacts": { "file": "sc.csv", "columns": {
            "id": "source_id", "student": "student_id", "contact": "contact_id",
            "custodial": "custodial", "emergency": "emergency", "priority": "priority",
        }}},
    });
    let out = read(config, dir.path()).unwrap();
    assert!(out.rejects.is_empty(), "{:?}", out.rejects);
    let sc: Vec<ferry_sdk::model::StudentContact> = out.records().unwrap();
    assert_eq!(sc[0].student_id.as_deref(), Some("000123"), "trimmed, zeros kept");
    assert_eq!((sc[0].custodial, sc[0].emergency, sc[0].priority), (Some(true), None, Some(2)));
    assert_eq!((sc[1].custodial, sc[1].emergency, sc[1].priority), (Some(false), Some(true), None));
}

#[test]
fn config_errors_name_the_key_and_what_to_do() {
    let data = data_dir();
    let err = |config: ferry_sdk::serde_json::Value| {
        let e = read(config, &data).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Config, "{e}");
        e.message
    };
    let m = err(json!({ "entities": { "studnets": { "file": "students_bom.csv", "layout": "canonical" } } }));
    assert!(m.contains("entities.studnets") && m.contains("unknown entity") && m.contains("students"), "{m}");

    let m = err(json!({ "entities": { "students": { "file": "students_bom.csv",
        "columns": { "Student_Number": "source_id", "First_Name": "firstname" } } } }));
    assert!(
        m.contains("entities.students.columns.\"First_Name\"")
            && m.contains("\"firstname\" (for students_bom.csv) is not a canonical path"),
        "{m}"
    );
    assert!(m.contains("first_name"), "lists the valid fields: {m}");

    let m = err(json!({ "entities": { "students": { "file": "students_bom.csv",
        "columns": { "Student_Number": "source_id", "DOB": "birth_date" } } } }));
    assert!(m.contains("\"DOB\" is not in students_bom.csv") && m.contains("\"First_Name\""), "{m}");

    let m = err(json!({ "entities": { "students": { "file": "students_bom.csv",
        "columns": { "First_Name": "first_name" } } } }));
    assert!(m.contains("no column maps to source_id"), "{m}");

    let m = err(json!({ "entities": { "students": { "file": "students_bom.csv" } } }));
    assert!(m.contains("layout = \"canonical\""), "{m}");

    let m = err(json!({ "entities": { "students": { "file": "students_bom.csv", "colums": {} } } }));
    assert!(m.contains("entities.students") && m.contains("colums"), "{m}");

    let m = err(json!({ "entities": { "students": { "file": "nope.csv", "layout": "canonical" } } }));
    assert!(m.contains("entities.students.file") && m.contains("nope.csv"), "{m}");

    let m = err(
        json!({ "dialect": { "delimiter": "two" }, "entities": { "students": { "file": "students_bom.csv", "layout": "canonical" } } }),
    );
    assert!(m.contains("`dialect.delimiter`") && m.contains("\"two\""), "{m}");

    let m = err(json!({ "entities": { "students": { "file": "students_bom.csv", "layout": "canonical" } } }));
    assert!(m.contains("no source_id column"), "{m}");

    let m = err(
        json!({ "entities": { "students": { "file": "students_bom.csv", "columns": { "First_Name": 5 } } } }),
    );
    assert!(m.contains("entities.students") && m.contains("a canonical path"), "{m}");

    let m = err(json!({ "entities": {} }));
    assert!(m.contains("no entities"), "{m}");

    let m = err(
        json!({ "entities": { "students": { "file": "enrollments_noheader.csv", "dialect": { "header": false },
        "columns": { "a": "source_id" } } } }),
    );
    assert!(m.contains("entities.students.dialect") && m.contains("columns"), "{m}");
}

#[test]
fn directory_resolves_against_the_base_dir() {
    let base = data_dir().join("..");
    let config = json!({ "directory": "data", "entities": { "students": {
        "file": "students_bom.csv",
        "columns": { "Student_Number": "source_id", "First_Name": "first_name", "Last_Name": "last_name" },
    }}});
    let out = read(config, &base).unwrap();
    assert_eq!(out.count(EntityKind::Students), 2);
    let s: Vec<Student> = out.records().unwrap();
    assert_eq!(s[0].meta.origin.as_ref().unwrap().file, "students_bom.csv", "relative to the directory");
}
