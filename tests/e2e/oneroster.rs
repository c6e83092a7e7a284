//! The OneRoster connector (issue 11) through the real binary: the LMS
//! Toolkit sample into an archive with its problems reported, a delta
//! package applied to an archive, a generated PowerSchool district into a
//! package that `ferry validate oneroster` accepts, and OneRoster →
//! canonical → OneRoster compared file by file.

use std::path::Path;

use ferry_gen::PsGenOptions;

use crate::support::*;

fn sample() -> String {
    samples().join("oneroster/lakeview-1.1").display().to_string()
}

fn query(db: &Path, sql: &str) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n)
            .map(|i| {
                r.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                    rusqlite::types::Value::Null => String::new(),
                    rusqlite::types::Value::Integer(n) => n.to_string(),
                    rusqlite::types::Value::Real(f) => f.to_string(),
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Blob(_) => "<blob>".to_owned(),
                })
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

#[test]
fn the_bundled_sample_loads_into_an_archive_and_its_problems_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let from = format!("oneroster:{}", sample());
    let run = ferry(
        tmp.path(),
        &[plugins_dir()],
        &["migrate", "--from", &from, "--to", "sqlite:archive.sqlite", "--format", "json"],
    );
    run.ok();
    let report = run.json();
    assert_balanced(&report);
    for (name, n) in [
        ("orgs", 2),
        ("academic_sessions", 3),
        ("students", 8),
        ("staff", 2),
        ("demographics", 8),
        ("courses", 2),
        ("sections", 2),
        ("section_enrollments", 20),
        ("section_staff", 4),
    ] {
        assert_eq!(entity(&report, name)["written"], n, "{name}: {report}");
    }
    let notices = report["notices"].to_string();
    assert!(notices.contains("users.csv:10") && notices.contains("row-width"), "{notices}");
    let db = tmp.path().join("archive.sqlite");
    let rows = query(
        &db,
        "SELECT source_id, origin_file, origin_line, grade_level, school_id FROM students WHERE source_id = '7001'",
    );
    assert_eq!(rows, [["7001", "users.csv", "2", "09", "lv-hs"]]);
    // Names never reach the terminal at the default level.
    assert!(!run.stderr.contains("Lindqvist"), "{}", run.stderr);
}

const MANIFEST_BULK: &str = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\nfile.orgs,bulk\nfile.academicSessions,bulk\nfile.users,bulk\nfile.roles,bulk\n";

fn bulk_package(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("manifest.csv"), MANIFEST_BULK).unwrap();
    std::fs::write(
        dir.join("orgs.csv"),
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\nd1,,,Lakeview District,district,,\ns1,,,Lakeview High,school,301,d1\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("academicSessions.csv"),
        "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear\ny1,,,2024-2025,schoolYear,2024-08-15,2025-06-10,,2025\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("users.csv"),
        "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns\n\
u1,,,true,ann,,Ann,Lee,,000101,,,,,09,,,,,,s1,\n\
u2,,,true,bob,,Bob,Ray,,000102,,,,,10,,,,,,s1,\n\
u3,,,true,cid,,Cid,Oak,,000103,,,,,11,,,,,,s1,\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("roles.csv"),
        "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId\n\
r1,,,u1,primary,student,,,s1,\nr2,,,u2,primary,student,,,s1,\nr3,,,u3,primary,student,,,s1,\n",
    )
    .unwrap();
}

#[test]
fn a_delta_package_applied_to_an_archive_updates_and_deletes_the_right_records() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    bulk_package(&dir.join("bulk"));
    ferry(dir, &[plugins_dir()], &["migrate", "--from", "oneroster:bulk", "--to", "sqlite:archive.sqlite"])
        .ok();
    let db = dir.join("archive.sqlite");
    assert_eq!(query(&db, "SELECT count(*) FROM students"), [["3"]]);

    let delta = dir.join("delta");
    std::fs::create_dir_all(&delta).unwrap();
    std::fs::write(
        delta.join("manifest.csv"),
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\nfile.orgs,delta\nfile.users,delta\nfile.roles,delta\n",
    )
    .unwrap();
    std::fs::write(
        delta.join("orgs.csv"),
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\ns1,active,2025-02-01T10:00:00.000Z,Lakeview Senior High,school,301,d1\n",
    )
    .unwrap();
    std::fs::write(
        delta.join("users.csv"),
        "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns\n\
u2,tobedeleted,2025-02-01T10:00:00.000Z,true,bob,,Bob,Ray,,000102,,,,,10,,,,,,s1,\n\
u3,active,2025-02-01T10:00:00.000Z,true,cid,,Cid,Oak,,000103,,,,,12,,,,,,s1,\n\
u4,active,2025-02-01T10:00:00.000Z,true,dee,,Dee,Ash,,000104,,,,,09,,,,,,s1,\n",
    )
    .unwrap();
    std::fs::write(
        delta.join("roles.csv"),
        "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId\n\
r2,tobedeleted,2025-02-01T10:00:00.000Z,u2,primary,student,,,s1,\n\
r3,active,2025-02-01T10:00:00.000Z,u3,primary,student,,,s1,\n\
r4,active,2025-02-01T10:00:00.000Z,u4,primary,student,,,s1,\n",
    )
    .unwrap();
    let run = ferry(
        dir,
        &[plugins_dir()],
        &["migrate", "--from", "oneroster:delta", "--to", "sqlite:archive.sqlite", "--format", "json"],
    );
    run.ok();
    assert_balanced(&run.json());
    assert_eq!(
        query(&db, "SELECT source_id, grade_level FROM students ORDER BY source_id"),
        [["u1", "09"], ["u3", "12"], ["u4", "09"]],
        "u2 deleted, u3 updated, u4 added, u1 untouched"
    );
    assert_eq!(query(&db, "SELECT name FROM orgs WHERE source_id = 's1'"), [["Lakeview Senior High"]]);
    assert_eq!(query(&db, "SELECT name FROM orgs WHERE source_id = 'd1'"), [["Lakeview District"]]);
}

#[test]
fn a_powerschool_district_becomes_a_package_that_validates() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let export = dir.join("export");
    std::fs::create_dir_all(&export).unwrap();
    ferry_gen::powerschool(
        &PsGenOptions { students: 40, seed: 11, quirks: true, ..PsGenOptions::default() },
        &export,
    )
    .unwrap();
    let from = "powerschool:export/ferry-source.toml";
    let run = ferry(
        dir,
        &[plugins_dir()],
        &["migrate", "--from", from, "--to", "oneroster:out.zip", "--allow-rejects", "--format", "json"],
    );
    run.ok();
    let report = run.json();
    assert_balanced(&report);
    assert!(entity(&report, "students")["written"].as_u64().unwrap() >= 30, "{report}");
    assert!(entity(&report, "section_enrollments")["written"].as_u64().unwrap() > 0, "{report}");
    let v = ferry(dir, &[plugins_dir()], &["validate", "oneroster", "out.zip", "--format", "json"]);
    assert_eq!(v.code, Some(0), "{}\n{}", v.stdout, v.stderr);
    assert_eq!(v.json()["valid"], true);

    // 1.1 into a folder, by configuration.
    let run = ferry(
        dir,
        &[plugins_dir()],
        &[
            "migrate",
            "--from",
            from,
            "--to",
            "oneroster:out11",
            "--to-set",
            "version=\"1.1\"",
            "--allow-rejects",
        ],
    );
    run.ok();
    assert!(dir.join("out11/manifest.csv").is_file());
    let v = ferry(dir, &[plugins_dir()], &["validate", "oneroster", "out11", "--format", "json"]);
    assert_eq!(v.code, Some(0), "{}\n{}", v.stdout, v.stderr);
    assert_eq!(v.json()["version"], "1.1");
}

/// The fields of one CSV line (quotes as RFC 4180).
fn fields(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted, mut chars) =
        (Vec::new(), String::new(), false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// A file as a header and sorted rows, without columns that are empty in
/// every row (the sample's empty metadata.* columns hold nothing) and without
/// fields beyond the header (the sample's two long rows).
fn table(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = read(path);
    let mut lines = text.lines().filter(|l| !l.is_empty());
    let header = fields(lines.next().unwrap());
    let mut rows: Vec<Vec<String>> = lines.map(fields).collect();
    for r in &mut rows {
        r.resize(header.len(), String::new());
    }
    let keep: Vec<usize> = (0..header.len())
        .filter(|i| !header[*i].starts_with("metadata.") || rows.iter().any(|r| !r[*i].is_empty()))
        .collect();
    let pick = |r: &Vec<String>| keep.iter().map(|i| r[*i].clone()).collect::<Vec<_>>();
    let mut rows: Vec<Vec<String>> = rows.iter().map(pick).collect();
    rows.sort();
    (pick(&header), rows)
}

#[test]
fn oneroster_to_canonical_to_oneroster_keeps_what_oneroster_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let from = format!("oneroster:{}", sample());
    ferry(
        dir,
        &[plugins_dir()],
        &["migrate", "--from", &from, "--to", "oneroster:out", "--to-set", "version=\"1.1\""],
    )
    .ok();
    let src = samples().join("oneroster/lakeview-1.1");
    for file in [
        "orgs.csv",
        "academicSessions.csv",
        "courses.csv",
        "classes.csv",
        "enrollments.csv",
        "demographics.csv",
        "users.csv",
    ] {
        let (a, b) = (table(&src.join(file)), table(&dir.join("out").join(file)));
        assert_eq!(a.0, b.0, "{file}: header");
        for (x, y) in a.1.iter().zip(&b.1) {
            assert_eq!(x, y, "{file}");
        }
        assert_eq!(a.1.len(), b.1.len(), "{file}: rows");
    }
    let v = ferry(dir, &[plugins_dir()], &["validate", "oneroster", "out", "--format", "json"]);
    assert_eq!(v.code, Some(0), "{}", v.stdout);
}

/// A delta against the archive of the old system: the archive is written out
/// as the previous package (the sink compares packages; an archive becomes
/// one with `--from sqlite:`), then the new export is written against it.
#[test]
fn a_delta_against_the_archive_holds_only_what_changed_since() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let run = |args: &[&str]| ferry(dir, &[plugins_dir()], args);
    run(&[
        "migrate",
        "--allow-rejects",
        "--from",
        &format!("oneroster:{}", sample()),
        "--to",
        "sqlite:archive.sqlite",
    ])
    .ok();
    run(&[
        "migrate",
        "--from",
        "sqlite:archive.sqlite",
        "--to",
        "oneroster:previous.zip",
        "--rejects",
        "r1.jsonl",
    ])
    .ok();
    // The new export: the school renamed.
    let now = dir.join("now");
    std::fs::create_dir(&now).unwrap();
    for e in std::fs::read_dir(samples().join("oneroster/lakeview-1.1")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), now.join(e.file_name())).unwrap();
    }
    let orgs = read(&now.join("orgs.csv"));
    std::fs::write(now.join("orgs.csv"), orgs.replace("Lakeview High School", "Lakeview Senior High"))
        .unwrap();
    let delta = run(&[
        "migrate",
        "--allow-rejects",
        "--from",
        "oneroster:now",
        "--to",
        "oneroster:delta",
        "--to-set",
        "against=\"previous.zip\"",
        "--rejects",
        "r2.jsonl",
        "--format",
        "json",
    ]);
    delta.ok();
    assert!(delta.stdout.contains("row(s) unchanged and left out"), "{}", delta.stdout);
    let v = run(&["validate", "oneroster", "delta"]);
    assert_eq!(v.code, Some(0), "{}", v.stdout);
    let orgs = read(&dir.join("delta/orgs.csv"));
    let rows: Vec<&str> = orgs.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{orgs}");
    assert!(rows[0].starts_with("lv-hs,active,") && rows[0].contains("Lakeview Senior High"), "{orgs}");
    let manifest = read(&dir.join("delta/manifest.csv"));
    assert!(manifest.contains("file.orgs,delta") && manifest.contains("file.users,absent"), "{manifest}");
}
