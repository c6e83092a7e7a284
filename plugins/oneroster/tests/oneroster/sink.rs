use ferry_oneroster::validate::{Options, validate_path};
use ferry_sdk::model::{Code, Course, EntityKind, Meta, Org, Section};

use super::*;

fn write_to(out: &Path, version: &str, input: &SourceOutput, dry_run: bool) -> testkit::SinkOutcome {
    testkit::run_sink_with::<OneRosterPlugin>(
        &json!({ "path": out.to_str().unwrap(), "version": version }),
        Path::new("."),
        input,
        dry_run,
    )
    .unwrap()
}

fn assert_valid(path: &Path) {
    let report = validate_path(path, &Options::default()).unwrap();
    let errors: Vec<String> = report
        .problems
        .iter()
        .filter(|p| p.is_error())
        .map(|p| format!("{} {}", p.location(), p.message))
        .collect();
    assert!(report.valid, "{}", errors.join("\n"));
}

#[test]
fn the_sample_is_written_back_as_valid_1_1_and_1_2_packages() {
    let input = read(&sample()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (version, target) in [("1.1", dir.path().join("out11")), ("1.2", dir.path().join("out12.zip"))] {
        let o = write_to(&target, version, &input, false);
        assert!(o.rejects.is_empty(), "{version}: {:?}", o.rejects);
        assert_valid(&target);
    }
    assert!(dir.path().join("out11/users.csv").is_file());
    let users = std::fs::read_to_string(dir.path().join("out11/users.csv")).unwrap();
    assert!(
        users.starts_with("sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,"),
        "{users}"
    );
}

#[test]
fn a_dry_run_writes_nothing_and_what_cannot_be_placed_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut input = SourceOutput::default();
    let school = Org {
        meta: Meta::new("x", "s1"),
        name: "High".into(),
        kind: Some(Code::normalize("school")),
        ..Org::default()
    };
    input.push(&[school]).unwrap();
    let course = Course {
        meta: Meta::new("x", "c1"),
        title: "Algebra".into(),
        course_number: Some("ALG".into()),
        org_id: Some("s1".into()),
        ..Course::default()
    };
    input.push(&[course]).unwrap();
    let orphan = Section {
        meta: Meta::new("x", "k1"),
        course_id: Some("nope".into()),
        school_id: Some("s1".into()),
        session_ids: vec!["t".into()],
        ..Section::default()
    };
    let no_terms = Section {
        meta: Meta::new("x", "k2"),
        course_id: Some("c1".into()),
        school_id: Some("s1".into()),
        ..Section::default()
    };
    let bad_id =
        Section { meta: Meta::new("x", "k".repeat(300)), course_id: Some("c1".into()), ..Section::default() };
    input.push(&[orphan, no_terms, bad_id]).unwrap();
    let target = dir.path().join("out.zip");
    let o = write_to(&target, "1.2", &input, true);
    assert!(!target.exists(), "a dry run writes nothing");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no temporary either");
    let reasons: Vec<(&str, &str)> =
        o.rejects.iter().map(|r| (r.record_id.as_str(), r.reason.as_str())).collect();
    assert_eq!(o.rejects.len(), 3, "{reasons:?}");
    assert!(
        reasons.iter().any(|(id, r)| *id == "k1" && r.contains("its course was not sent")),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|(id, r)| *id == "k2" && r.contains("termSourcedIds")), "{reasons:?}");
    assert!(reasons.iter().any(|(id, r)| id.len() == 300 && r.contains("sourcedId")), "{reasons:?}");
    assert!(o.rejects.iter().all(|r| r.entity == EntityKind::Sections));
    let plan = o.plan.iter().find(|p| p.entity == "sections").unwrap();
    assert_eq!((plan.create, plan.reject), (0, 2), "the bad id was refused at write");
}
