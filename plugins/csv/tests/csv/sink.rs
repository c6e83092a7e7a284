//! The sink: mapped layouts, the default layout, encodings, quoting,
//! atomic commit and abort, config errors.

use std::fs;
use std::path::Path;

use ferry_plugin_csv::CsvPlugin;
use ferry_sdk::model::RecordBatch;
use ferry_sdk::model::{Code, Date, EntityKind, GradeLevel, Meta, Org, OrgKind, Staff, Student};
use ferry_sdk::serde_json::json;
use ferry_sdk::testkit::SourceOutput;
use ferry_sdk::{ErrorKind, OpenContext, Plugin, RunSummary, SinkBatch};

use super::{add_batch, batch_of, write};

fn student(id: &str, first: &str, last: &str) -> Student {
    Student {
        meta: Meta::new("powerschool", id),
        student_number: Some(id.to_owned()),
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        ..Student::default()
    }
}

fn students() -> Vec<Student> {
    let mut a = student("000123", "José", "Núñez");
    a.birth_date = Some(Date::new(2011, 6, 19).unwrap());
    a.grade_level = Some(Code::normalize("K"));
    a.meta.ext.insert("U_Locker", "17");
    a.meta.set_alt_id("state", "S-1");
    let mut b = student("000124", "Zoë", "O'Brien, Jr.");
    b.grade_level = Some(Code::normalize("1"));
    vec![a, b]
}

/// Names of the files in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn mapped_import_template_with_fixed_values_formats_and_codes() {
    let dir = tempfile::tempdir().unwrap();
    let config = json!({
        "directory": "out",
        "dialect": { "line_ending": "crlf" },
        "entities": {
            "students": { "file": "import/students_import.csv", "columns": [
                { "column": "Student Number", "field": "student_number" },
                { "column": "Status", "value": "A" },
                { "column": "DOB", "field": "birth_date", "format": "%m/%d/%Y" },
                { "column": "Grade", "field": "grade_level", "code": "original" },
                { "column": "Grade Code", "field": "grade_level" },
                { "column": "Name", "field": "last_name" },
                { "column": "Locker", "field": "ext.U_Locker" },
                { "column": "State ID", "field": "alt.state" },
            ]},
            "staff": { "columns": [
                { "column": "Teacher", "field": "source_id" },
                { "column": "Active", "field": "active", "format": "Y/N" },
                { "column": "Since", "value": "2024" },
            ]},
        },
    });
    let mut input = batch_of(&students());
    let mut t1 = Staff {
        meta: Meta::new("ps", "T1"),
        first_name: "A".into(),
        last_name: "B".into(),
        ..Staff::default()
    };
    t1.active = Some(true);
    let mut t2 = t1.clone();
    t2.meta.source.id = "T2".into();
    t2.active = Some(false);
    add_batch(&mut input, &[t1, t2]);

    let (written, rejects) = write(config, dir.path(), &input).unwrap();
    assert_eq!((written, rejects.len()), (4, 0));
    let out = dir.path().join("out");
    let text = fs::read_to_string(out.join("import/students_import.csv")).unwrap();
    assert_eq!(
        text,
        "Student Number,Status,DOB,Grade,Grade Code,Name,Locker,State ID\r\n\
         000123,A,06/19/2011,K,KG,Núñez,17,S-1\r\n\
         000124,A,,1,01,\"O'Brien, Jr.\",,\r\n"
    );
    assert_eq!(
        fs::read_to_string(out.join("staff.csv")).unwrap(),
        "Teacher,Active,Since\r\nT1,Y,2024\r\nT2,N,2024\r\n"
    );
    assert_eq!(listing(&out), ["import", "staff.csv"], "no temporary files left");
    assert_eq!(listing(&out.join("import")), ["students_import.csv"]);
}

#[test]
fn only_configured_entities_are_accepted_unless_all_entities() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = OpenContext::new(json!({ "directory": ".", "entities": { "students": {} } }), dir.path());
    let sink = CsvPlugin::open_sink(&ctx).unwrap();
    assert_eq!(sink.entities(), [EntityKind::Students]);
    drop(sink);
    let ctx = OpenContext::new(
        json!({ "directory": ".", "all_entities": true, "entities": { "students": {} } }),
        dir.path(),
    );
    assert_eq!(CsvPlugin::open_sink(&ctx).unwrap().entities(), EntityKind::ALL);
    let ctx = OpenContext::new(json!({ "directory": "." }), dir.path());
    assert_eq!(CsvPlugin::open_sink(&ctx).unwrap().entities(), EntityKind::ALL);

    let org = Org {
        meta: Meta::new("x", "1"),
        kind: Some(Code::mapped(OrgKind::School, "S")),
        name: "N".into(),
        ..Org::default()
    };
    let e = write(json!({ "directory": ".", "entities": { "students": {} } }), dir.path(), &batch_of(&[org]))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert!(e.message.contains("not configured for orgs"), "{e}");
}

#[test]
fn default_layout_header_and_files_only_for_entities_with_records() {
    let dir = tempfile::tempdir().unwrap();
    let (written, _) = write(json!({ "directory": "." }), dir.path(), &batch_of(&students())).unwrap();
    assert_eq!(written, 2);
    assert_eq!(listing(dir.path()), ["students.csv"]);
    let text = fs::read_to_string(dir.path().join("students.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "source_system,source_id,alt_ids,student_number,state_id,first_name,middle_name,last_name,\
             preferred_name,birth_date,sex,sex_original,grade_level,grade_level_original,school_id,status,email,\
             phone,address,city,region,postal_code,username,graduation_year,next_school_id,next_grade_level,\
             next_grade_level_original,household_id,extensions"
        )
    );
    assert_eq!(
        lines.next(),
        Some(
            "powerschool,000123,state=S-1,000123,,José,,Núñez,,2011-06-19,,,KG,K,,,,,,,,,,,,,,,\"{\"\"U_Locker\"\":\"\"17\"\"}\""
        )
    );

    // A configured entity without records still gets its file, header only.
    let config = json!({ "directory": "empty", "entities": { "orgs": { "file": "schools.csv" } } });
    let (written, _) = write(config, dir.path(), &SourceOutput::default()).unwrap();
    assert_eq!(written, 0);
    let orgs = fs::read_to_string(dir.path().join("empty/schools.csv")).unwrap();
    assert!(orgs.starts_with("source_system,source_id,alt_ids,kind,kind_original,name,"), "{orgs}");
    assert_eq!(orgs.lines().count(), 1);
}

#[test]
fn windows_1252_output_rejects_what_it_cannot_represent() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = students();
    s.insert(1, student("000999", "明", "王"));
    let config = json!({ "directory": ".", "dialect": { "encoding": "windows-1252" }, "entities": { "students": {
        "columns": [ { "column": "Id", "field": "source_id" }, { "column": "First", "field": "first_name" } ] } } });
    let (written, rejects) = write(config, dir.path(), &batch_of(&s)).unwrap();
    assert_eq!(written, 2);
    assert_eq!(rejects.len(), 1);
    let r = &rejects[0];
    assert_eq!(
        (r.entity, r.record_id.as_str(), r.field.as_str()),
        (EntityKind::Students, "000999", "first_name")
    );
    assert!(
        r.reason.contains("column \"First\" of students.csv") && r.reason.contains("windows-1252"),
        "{}",
        r.reason
    );
    assert!(!r.reason.contains('明'));
    assert_eq!(r.value.as_deref(), Some("明"));
    let bytes = fs::read(dir.path().join("students.csv")).unwrap();
    assert_eq!(bytes, b"Id,First\n000123,Jos\xE9\n000124,Zo\xEB\n");
}

#[test]
fn utf8_bom_tabs_and_quoting_styles() {
    let dir = tempfile::tempdir().unwrap();
    let cols =
        json!([ { "column": "Id", "field": "source_id" }, { "column": "Last", "field": "last_name" } ]);
    let config = json!({ "directory": "a", "dialect": { "encoding": "utf-8-bom", "quoting": "always", "delimiter": "tab" },
        "entities": { "students": { "columns": cols } } });
    write(config, dir.path(), &batch_of(&students())).unwrap();
    let bytes = fs::read(dir.path().join("a/students.csv")).unwrap();
    assert_eq!(
        bytes,
        "\u{feff}\"Id\"\t\"Last\"\n\"000123\"\t\"Núñez\"\n\"000124\"\t\"O'Brien, Jr.\"\n".as_bytes()
    );

    let config = json!({ "directory": "b", "dialect": { "quoting": "never" }, "entities": { "students": { "columns": cols } } });
    let (written, rejects) = write(config, dir.path(), &batch_of(&students())).unwrap();
    assert_eq!((written, rejects.len()), (1, 1));
    assert_eq!(rejects[0].record_id, "000124");
    assert!(rejects[0].reason.contains("quoting = \"never\""), "{}", rejects[0].reason);
    assert_eq!(fs::read_to_string(dir.path().join("b/students.csv")).unwrap(), "Id,Last\n000123,Núñez\n");
}

fn encoded(records: &[Student]) -> RecordBatch {
    ferry_sdk::testkit::batch_of(records).unwrap()
}

#[test]
fn abort_leaves_an_existing_output_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("students.csv");
    fs::write(&target, "previous run's output\n").unwrap();
    let ctx = OpenContext::new(json!({ "directory": "." }), dir.path());

    let mut sink = CsvPlugin::open_sink(&ctx).unwrap();
    let bytes = encoded(&students());
    let w = sink.write(SinkBatch::new(EntityKind::Students, &bytes)).unwrap();
    assert_eq!(w.written, 2);
    assert_eq!(listing(dir.path()).len(), 2, "a temporary file is being written beside the target");
    sink.abort().unwrap();
    assert_eq!(fs::read_to_string(&target).unwrap(), "previous run's output\n");
    assert_eq!(listing(dir.path()), ["students.csv"], "the temporary file is gone");

    // A sink dropped without commit or abort cleans up too.
    let mut sink = CsvPlugin::open_sink(&ctx).unwrap();
    sink.write(SinkBatch::new(EntityKind::Students, &bytes)).unwrap();
    drop(sink);
    assert_eq!(listing(dir.path()), ["students.csv"]);
    assert_eq!(fs::read_to_string(&target).unwrap(), "previous run's output\n");

    // A run that fails half-way (a batch the sink refuses) is aborted by the
    // host: still untouched.
    let mut input = batch_of(&students());
    let org = Org {
        meta: Meta::new("x", "1"),
        kind: Some(Code::mapped(OrgKind::School, "S")),
        name: "N".into(),
        ..Org::default()
    };
    add_batch(&mut input, &[org]);
    let e =
        write(json!({ "directory": ".", "entities": { "students": {} } }), dir.path(), &input).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert_eq!(fs::read_to_string(&target).unwrap(), "previous run's output\n");
    assert_eq!(listing(dir.path()), ["students.csv"]);

    // Commit replaces it.
    let mut sink = CsvPlugin::open_sink(&ctx).unwrap();
    sink.write(SinkBatch::new(EntityKind::Students, &bytes)).unwrap();
    sink.prepare(&RunSummary::default()).unwrap();
    let c = sink.commit().unwrap();
    assert_eq!(c.notes, ["students.csv: 2 rows"]);
    assert!(fs::read_to_string(&target).unwrap().starts_with("source_system,"));
    assert_eq!(listing(dir.path()), ["students.csv"]);
}

#[test]
fn config_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = |config: ferry_sdk::serde_json::Value| match CsvPlugin::open_sink(&OpenContext::new(
        config,
        dir.path(),
    )) {
        Ok(_) => panic!("expected a configuration error"),
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::Config, "{e}");
            e.message
        }
    };
    let cols = |c: ferry_sdk::serde_json::Value| json!({ "directory": ".", "entities": { "students": { "columns": [c] } } });

    assert!(err(json!({})).contains("directory"));
    let m = err(cols(json!({ "column": "X", "field": "last_name", "value": "v" })));
    assert!(m.contains("entities.students.columns[0] (\"X\")") && m.contains("either field"), "{m}");
    let m = err(cols(json!({ "column": "X", "field": "lastname" })));
    assert!(m.contains("\"lastname\" is not a canonical path") && m.contains("last_name"), "{m}");
    let m = err(cols(json!({ "column": "X", "field": "last_name", "format": "%Y" })));
    assert!(m.contains("format applies to date and boolean fields"), "{m}");
    let m = err(cols(json!({ "column": "X", "field": "birth_date", "format": "%Y-%m" })));
    assert!(m.contains("once each"), "{m}");
    let m = err(cols(json!({ "column": "X", "field": "last_name", "code": "original" })));
    assert!(m.contains("code fields"), "{m}");
    let m = err(cols(json!({ "column": "X", "fild": "last_name" })));
    assert!(m.contains("fild"), "{m}");
    let m =
        err(json!({ "directory": ".", "entities": { "students": {}, "staff": { "file": "students.csv" } } }));
    assert!(m.contains("give each entity its own file"), "{m}");
    let m = err(json!({ "directory": ".", "dialect": { "encoding": "auto" } }));
    assert!(m.contains("`dialect.encoding`") && m.contains("for reading"), "{m}");
    let m = err(json!({ "directory": ".", "dialect": { "encoding": "windows-1252" },
        "entities": { "students": { "columns": [ { "column": "名前", "field": "first_name" } ] } } }));
    assert!(m.contains("cannot be written"), "{m}");
    let m = err(json!({ "directory": ".", "entities": { "pupils": {} } }));
    assert!(m.contains("entities.pupils") && m.contains("unknown entity"), "{m}");
    let m = err(json!({ "directory": ".", "dialect": { "line_ending": "cr" } }));
    assert!(m.contains("dialect") && m.contains("cr"), "{m}");
}

#[test]
fn student_with_grade_level_code_writes_both_sides() {
    // The canonical and original sides of a code in the default layout.
    let dir = tempfile::tempdir().unwrap();
    let mut s = student("1", "A", "B");
    s.grade_level = Some(Code::mapped(GradeLevel::Other, "-1"));
    write(json!({ "directory": "." }), dir.path(), &batch_of(&[s])).unwrap();
    let text = fs::read_to_string(dir.path().join("students.csv")).unwrap();
    assert!(text.lines().nth(1).unwrap().contains(",Other,-1,"), "{text}");
}

#[test]
fn a_dry_run_checks_every_row_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = json!({ "directory": "out", "dialect": { "encoding": "windows-1252" } });
    let mut input = batch_of(&students());
    let mut emoji = students();
    emoji.truncate(1);
    emoji[0].meta.source.id = "000999".into();
    emoji[0].first_name = "Zoë 🦀".into();
    add_batch(&mut input, &emoji);
    let o = ferry_sdk::testkit::run_sink_with::<CsvPlugin>(&config, dir.path(), &input, true).unwrap();
    assert_eq!(o.written, 2);
    assert_eq!(o.rejects.len(), 1, "the row Windows-1252 cannot hold is refused in a dry run too");
    assert_eq!(o.rejects[0].record_id, "000999");
    assert_eq!(o.plan.len(), 1);
    assert_eq!((o.plan[0].entity.as_str(), o.plan[0].create, o.plan[0].reject), ("students", 2, 1));
    assert!(o.committed.is_none());
    assert!(listing(dir.path()).is_empty(), "nothing at all is written: {:?}", listing(dir.path()));
}
