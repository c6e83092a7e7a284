//! `config`: a job file as `ferry migrate --job` reads it, `--from-set`
//! overrides, and the PowerSchool plugin's source and sink configurations as
//! they open (`Plugin::open_source` / `open_sink`, the functions the host
//! calls through the ABI). Only one plugin: two plugin crates cannot be
//! linked into one binary (each exports the same root-module symbol).
//!
//! Input: the job file (TOML). Comment lines `#set KEY=VALUE` in it are also
//! applied as `--from-set` overrides to the source's configuration. The job
//! sits in a folder of its own beside `students.txt` (a PowerSchool
//! Students export) and `students.csv`.
//! Inputs with a key or string that starts with `/` or holds `..` (and
//! overrides with any `/`) are skipped: they could name files outside that
//! folder (`/dev/zero`).
//!
//! Properties:
//! - nothing panics; a bad job is an error naming the job or config file;
//! - an override that is accepted is found at its dotted key;
//! - the configuration hash leaves secret keys out: changing a secret's
//!   value does not change it;
//! - the plugin refusing a configuration says so as a configuration, data or
//!   I/O error (never an internal error or a panic).

use std::path::Path;

use ferry_host::job::{JobSpec, apply_override, config_hash, read_job};
use ferry_plugin_powerschool::PowerSchoolPlugin;
use ferry_sdk::{OpenContext, Plugin};

use crate::{MAX_INPUT, is_input_error};

/// The files beside the job.
const FIXTURES: &[(&str, &str)] = &[
    ("students.txt", "ID\tStudent_Number\tLast_Name\tFirst_Name\tDOB\n1\t100\tA\tB\t1/2/2010\n"),
    ("students.csv", "source_id,last_name,first_name,birth_date\n1,A,B,2010-01-02\n"),
];

/// Checks one input (see the module's documentation).
pub fn check(data: &[u8]) {
    let data = &data[..data.len().min(MAX_INPUT)];
    if let Ok(table) = std::str::from_utf8(data).map(str::parse::<toml::Table>)
        && table.is_ok_and(|t| !stays_inside(&toml::Value::Table(t)))
    {
        return;
    }
    let Ok(dir) = tempfile::tempdir() else { return };
    for (name, text) in FIXTURES {
        if std::fs::write(dir.path().join(name), text).is_err() {
            return;
        }
    }
    let path = dir.path().join("job.toml");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let job = match read_job(&path) {
        Ok(job) => job,
        Err(e) => {
            let folder = dir.path().display().to_string();
            assert!(e.0.contains(&folder), "a job file error does not name the file: {}", e.0);
            return;
        }
    };
    check_hash(&job);

    let mut source = job.source.config.clone();
    for line in String::from_utf8_lossy(data).lines() {
        let Some(assignment) = line.trim_start().strip_prefix("#set ") else { continue };
        if assignment.contains(['/', '\\']) || assignment.contains("..") {
            continue;
        }
        if apply_override(&mut source, assignment).is_ok() {
            let key = assignment.split_once('=').map_or("", |(k, _)| k);
            let mut node = Some(&source);
            for part in key.trim().split('.') {
                node = node.and_then(|n| n.get(part));
            }
            assert!(node.is_some(), "an accepted override is not at its key");
        }
    }

    open_source(&job.source.plugin, source, &job.source.base_dir);
    open_sink(&job.sink.plugin, job.sink.config.clone(), &job.sink.base_dir);
}

/// Whether a text, as a path, stays inside the job's folder.
fn inside(s: &str) -> bool {
    !s.starts_with(['/', '\\']) && !s.contains("..")
}

/// Whether every key and string of a TOML value stays inside the folder.
fn stays_inside(v: &toml::Value) -> bool {
    match v {
        toml::Value::String(s) => inside(s),
        toml::Value::Array(items) => items.iter().all(stays_inside),
        toml::Value::Table(t) => t.iter().all(|(k, v)| inside(k) && stays_inside(v)),
        _ => true,
    }
}

/// Secrets are left out of the configuration hash.
fn check_hash(job: &JobSpec) {
    let secrets = ["password".to_owned(), "token".to_owned()];
    let before = config_hash(job, &secrets, &secrets);
    assert_eq!(before, config_hash(job, &secrets, &secrets), "the configuration hash is not stable");
    let mut changed = job.clone();
    for config in [&mut changed.source.config, &mut changed.sink.config] {
        if let Some(obj) = config.as_object_mut() {
            for s in &secrets {
                obj.insert(s.clone(), serde_json::Value::String("another secret".into()));
            }
        }
    }
    assert_eq!(
        before,
        config_hash(&changed, &secrets, &secrets),
        "a secret's value changes the configuration hash"
    );
}

fn context(config: serde_json::Value, base_dir: &Path) -> OpenContext {
    let mut ctx = OpenContext::new(config, base_dir);
    ctx.dry_run = true;
    ctx
}

fn open_source(plugin: &str, config: serde_json::Value, base_dir: &Path) {
    let ctx = context(config, base_dir);
    let result = match plugin {
        "powerschool" => PowerSchoolPlugin::open_source(&ctx).map(drop),
        _ => return,
    };
    if let Err(e) = result {
        assert!(
            is_input_error(e.kind),
            "the {plugin} source refuses its configuration with {:?}: {}",
            e.kind,
            e.message
        );
    }
}

fn open_sink(plugin: &str, config: serde_json::Value, base_dir: &Path) {
    let ctx = context(config, base_dir);
    let result = match plugin {
        "powerschool" => PowerSchoolPlugin::open_sink(&ctx).map(drop),
        _ => return,
    };
    if let Err(e) = result {
        assert!(
            is_input_error(e.kind),
            "the {plugin} sink refuses its configuration with {:?}: {}",
            e.kind,
            e.message
        );
    }
}
