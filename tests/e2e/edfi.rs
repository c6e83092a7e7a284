//! The Ed-Fi connector through the binary, against the fake Ed-Fi API on
//! loopback (`ferry_e2e::fakes::edfi`): a generated PowerSchool district,
//! frozen, written to the ODS (a dry run first), then read back by
//! `ferry verify`, which reconciles it with the snapshot over the fields
//! Ed-Fi keeps, and names a record changed in the ODS.

use ferry_e2e::fakes::edfi::FakeEdFi;

use crate::support::*;

/// `edfi.toml` in `dir`: the fake's address, its secret from a file, the
/// receipts of the migration for reading back.
fn config(dir: &std::path::Path, fake: &FakeEdFi) {
    let (id, secret) = fake.credentials();
    std::fs::write(dir.join("edfi.secret"), &secret).unwrap();
    std::fs::write(
        dir.join("edfi.toml"),
        format!(
            "base_url = \"{}\"\nclient_id = \"{id}\"\nclient_secret = {{ file = \"edfi.secret\" }}\nconcurrency = 4\nreceipts = \"ferry-receipts.jsonl\"\n",
            fake.base_url()
        ),
    )
    .unwrap();
}

#[test]
fn a_generated_district_goes_to_ed_fi_and_verify_reads_it_back() {
    let MigrationFolder { tmp: _tmp, dir, export: _ } = migration_folder(None, 25, 11, false);
    let fake = FakeEdFi::start();
    config(&dir, &fake);
    let frozen = ferry(
        &dir,
        &[plugins_dir()],
        &["freeze", "--from", "powerschool:export/ferry-source.toml", "--format", "json"],
    );
    frozen.ok();
    let snap = dir.join(frozen.json()["snapshot"].as_str().unwrap());
    let from = format!("sqlite:{}", snap.join("snapshot.sqlite").display());

    // A dry run GETs and writes nothing.
    let dry = ferry(
        &dir,
        &[plugins_dir()],
        &[
            "migrate",
            "--from",
            &from,
            "--to",
            "edfi:edfi.toml",
            "--dry-run",
            "--allow-rejects",
            "--format",
            "json",
        ],
    );
    dry.ok();
    assert!(fake.counts().values().all(|n| *n == 0), "a dry run wrote: {:?}", fake.counts());

    let run = ferry(
        &dir,
        &[plugins_dir()],
        &["migrate", "--from", &from, "--to", "edfi:edfi.toml", "--allow-rejects", "--format", "json"],
    );
    run.ok();
    let report = run.json();
    assert_balanced(&report);
    let students = entity(&report, "students");
    assert!(students["written"].as_u64().unwrap() >= 25, "{report}");
    assert_eq!(fake.count("students") as u64, students["written"].as_u64().unwrap());
    let receipts = jsonl(&dir.join("ferry-receipts.jsonl"));
    assert!(receipts.iter().any(|r| r["natural_key"].as_str().is_some_and(|k| k.starts_with("students: "))));

    // Read back, the ODS reconciles with the snapshot over what Ed-Fi keeps.
    let v = ferry(&dir, &[plugins_dir()], &["verify", "--to", "edfi:edfi.toml", "--format", "json"]);
    let report = v.json();
    assert_eq!(v.code, Some(0), "{report}\n{}", v.stderr);
    assert_eq!(report["reconciled"], true, "{report}");
    assert!(report["compared_fields"]["students"].as_array().unwrap().iter().any(|f| f == "birth_date"));
    let st = report["entities"].as_array().unwrap().iter().find(|e| e["entity"] == "students").unwrap();
    assert_eq!(st["destination"], students["written"], "{report}");
    // What Ed-Fi does not read back (grades, attendance, contacts…) is counted, not compared.
    let not = &report["not_taken_by_the_destination"];
    assert!(not.get("students").is_none(), "{report}");
    assert!(not["grades"].as_u64().unwrap() > 0, "{report}");
    assert!(not["attendance"].as_u64().unwrap() > 0, "{report}");

    // A student renamed in the ODS is named, by source id, without the name.
    let first = fake.all("students").into_iter().next().unwrap();
    let mut changed = first.clone();
    changed["lastSurname"] = serde_json::json!("Renamed");
    fake.put("students", changed).unwrap();
    let unique = first["studentUniqueId"].as_str().unwrap().to_owned();
    let source_id = receipts
        .iter()
        .find(|r| r["natural_key"] == format!("students: studentUniqueId={unique}"))
        .map(|r| r["source_id"].as_str().unwrap().to_owned())
        .unwrap();
    let v = ferry(&dir, &[plugins_dir()], &["verify", "--to", "edfi:edfi.toml", "--format", "json"]);
    assert_eq!(v.code, Some(1), "{}", v.stderr);
    let report = v.json();
    let st = report["entities"].as_array().unwrap().iter().find(|e| e["entity"] == "students").unwrap();
    assert_eq!(st["differing"], serde_json::json!([source_id]), "{report}");
    assert!(!v.stdout.contains("Renamed"), "no record values in the report");
}
