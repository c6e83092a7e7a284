//! A plugin built outside the workspace, against ferry-sdk only, loads and runs.

use crate::support::*;

#[test]
fn an_out_of_tree_plugin_runs_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("roster.txt"), "000123|José|Núñez|K\n000124|Ana|Li|3\nbroken line\n")
        .unwrap();
    std::fs::write(tmp.path().join("acme.toml"), "file = \"roster.txt\"\n").unwrap();
    let list = ferry(tmp.path(), &[fixtures_dir(), plugins_dir()], &["plugins", "list", "--format", "json"])
        .ok()
        .json();
    let acme =
        list["plugins"].as_array().unwrap().iter().find(|p| p["id"] == "acme-roster").cloned().unwrap();
    assert_eq!(acme["version"], "1.2.0");
    assert_eq!(acme["compatible"], true);

    let run = ferry(
        tmp.path(),
        &[fixtures_dir(), plugins_dir()],
        &[
            "migrate",
            "--from",
            "acme-roster:acme.toml",
            "--to",
            "csv",
            "--to-set",
            "directory=out",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, Some(3), "one rejected line → exit 3: {}", run.stderr);
    let v = run.json();
    let students = &v["entities"][0];
    assert_eq!(students["entity"], "students");
    assert_eq!(students["read"], 3);
    assert_eq!(students["written"], 2);
    assert_eq!(students["rejected"], 1);
    let out = read(&tmp.path().join("out/students.csv"));
    assert!(out.contains("José") && out.contains("Núñez") && out.contains("000123"), "{out}");
    let rejects = jsonl(&tmp.path().join("ferry-rejects.jsonl"));
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0]["line"], 3);
    assert_eq!(rejects[0]["file"], "roster.txt");
}

#[test]
fn plugin_logs_reach_the_host_log_output() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("roster.txt"), "1|A|B|K\n").unwrap();
    std::fs::write(tmp.path().join("acme.toml"), "file = \"roster.txt\"\n").unwrap();
    let args = ["migrate", "--from", "acme-roster:acme.toml", "--to", "csv", "--to-set", "directory=out"];
    let quiet = ferry(tmp.path(), &[fixtures_dir(), plugins_dir()], &args);
    assert!(
        !quiet.ok().stderr.contains("Acme roster read to the end"),
        "info is off by default: {}",
        quiet.stderr
    );
    let mut verbose_args = vec!["-v"];
    verbose_args.extend(args);
    let verbose = ferry(tmp.path(), &[fixtures_dir(), plugins_dir()], &verbose_args);
    let err = &verbose.ok().stderr;
    assert!(err.contains("Acme roster read to the end.") && err.contains("lines=1"), "{err}");
    assert!(err.contains("acme_roster"), "the plugin's target is named: {err}");
}
