//! Job files and the command line's one-liner, turned into a run plan.
//!
//! A job file (TOML):
//!
//! ```toml
//! [source]
//! plugin = "csv"
//! config = "source.toml"        # a config file, relative to the job file…
//!
//! [sink]
//! plugin = "sqlite"
//! [sink.settings]               # …or the config inline
//! path = "archive.sqlite"
//!
//! [run]
//! batch_size = 4096
//! rejects = "rejects.jsonl"
//! only = ["students", "school_enrollments"]
//! allow_rejects = false
//!
//! [run.field_policy]            # what a bad value in a field does
//! default = "null"              # null (default) | reject | keep_as_text
//! students = { birth_date = "reject", "*" = "keep_as_text" }
//! ```
//!
//! Secrets (configuration keys the plugin's manifest marks `secret`) are
//! never written in a configuration: they are given as `{ env = "VAR" }` or
//! `{ file = "path" }` and filled in just before the plugin is opened. They
//! are left out of the configuration hash kept in run metadata.

use std::path::{Path, PathBuf};

use ferry_model::EntityKind;
use ferry_plugin_abi::Manifest;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::stages::FieldPolicyConfig;

/// A configuration problem, with the file and key named.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JobError(pub String);

/// One end of a job, before its plugin is loaded.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointSpec {
    /// The plugin id.
    pub plugin: String,
    /// Its configuration.
    pub config: serde_json::Value,
    /// Where relative paths in the configuration start.
    pub base_dir: PathBuf,
    /// A bare data location from the command line (`--from csv:export/`),
    /// to be put in the configuration key the plugin's manifest names.
    pub location: Option<String>,
}

/// A whole job.
#[derive(Clone, Debug, PartialEq)]
pub struct JobSpec {
    /// Source.
    pub source: EndpointSpec,
    /// Sink.
    pub sink: EndpointSpec,
    /// Run options.
    pub run: RunOptions,
}

/// Options of a run.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunOptions {
    /// Records per batch crossing the plugin boundary.
    pub batch_size: u32,
    /// The rejects file (JSON Lines).
    pub rejects: Option<PathBuf>,
    /// Only these entities are written; others are skipped by this rule.
    pub only: Option<Vec<String>>,
    /// Exit 0 even when records were rejected.
    pub allow_rejects: bool,
    /// Put offending values (possibly personal data) in the rejects file.
    pub include_values: bool,
    /// What a bad value in a field does.
    pub field_policy: FieldPolicyConfig,
    /// The receipts file (JSON Lines), written when the sink assigns ids.
    pub receipts: Option<PathBuf>,
    /// Which plugins run in a runner process (`isolate = "all"`, `"source"`,
    /// `"sink"`, `"none"`, or `true`/`false`).
    #[cfg(unix)]
    pub isolate: crate::isolate::Isolate,
    /// The limits of isolated plugins (`[run.isolation] memory_mb, timeout_s`).
    #[cfg(unix)]
    pub isolation: crate::isolate::Limits,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            batch_size: 4096,
            rejects: None,
            only: None,
            allow_rejects: false,
            include_values: false,
            field_policy: FieldPolicyConfig::default(),
            receipts: None,
            #[cfg(unix)]
            isolate: crate::isolate::Isolate::None,
            #[cfg(unix)]
            isolation: crate::isolate::Limits::default(),
        }
    }
}

impl RunOptions {
    /// The `only` list as entities; unknown names are an error.
    pub fn only_entities(&self) -> Result<Option<Vec<EntityKind>>, JobError> {
        let Some(list) = &self.only else { return Ok(None) };
        list.iter()
            .map(|n| {
                EntityKind::from_name(n).ok_or_else(|| {
                    let all: Vec<&str> = EntityKind::ALL.iter().map(|e| e.name()).collect();
                    JobError(format!("unknown entity '{n}' in `only`; known entities: {}", all.join(", ")))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobFile {
    source: EndpointFile,
    sink: Option<EndpointFile>,
    #[serde(default)]
    run: RunOptions,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointFile {
    plugin: String,
    config: Option<PathBuf>,
    settings: Option<toml::Table>,
}

fn toml_to_json(t: toml::Table) -> serde_json::Value {
    serde_json::to_value(t).unwrap_or(serde_json::Value::Null)
}

/// Reads a plugin config file (TOML) into JSON, with its folder as base.
pub fn read_config_file(path: &Path) -> Result<(serde_json::Value, PathBuf), JobError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| JobError(format!("cannot read config file {}: {e}", path.display())))?;
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| JobError(format!("{}: {e}", path.display())))?;
    let base = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let base = if base.as_os_str().is_empty() { PathBuf::from(".") } else { base };
    Ok((toml_to_json(table), base))
}

fn endpoint(e: EndpointFile, job_dir: &Path, what: &str, job: &Path) -> Result<EndpointSpec, JobError> {
    match (e.config, e.settings) {
        (Some(_), Some(_)) => {
            Err(JobError(format!("{}: [{what}] has both `config` and `settings`; give one", job.display())))
        }
        (Some(c), None) => {
            let (config, base_dir) = read_config_file(&job_dir.join(c))?;
            Ok(EndpointSpec { plugin: e.plugin, config, base_dir, location: None })
        }
        (None, s) => Ok(EndpointSpec {
            plugin: e.plugin,
            config: toml_to_json(s.unwrap_or_default()),
            base_dir: job_dir.to_owned(),
            location: None,
        }),
    }
}

/// The embedded default destination: a SQLite archive in the current folder.
pub fn default_sink() -> EndpointSpec {
    EndpointSpec {
        plugin: "sqlite".into(),
        config: serde_json::json!({ "path": "ferry-archive.sqlite" }),
        base_dir: PathBuf::from("."),
        location: None,
    }
}

/// Reads a job file.
pub fn read_job(path: &Path) -> Result<JobSpec, JobError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| JobError(format!("cannot read job file {}: {e}", path.display())))?;
    let job: JobFile = toml::from_str(&text).map_err(|e| JobError(format!("{}: {e}", path.display())))?;
    let dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
    let mut run = job.run;
    if let Some(r) = &run.rejects {
        run.rejects = Some(dir.join(r));
    }
    if let Some(r) = &run.receipts {
        run.receipts = Some(dir.join(r));
    }
    run.field_policy.check().map_err(|e| JobError(format!("{}: [run] {e}", path.display())))?;
    Ok(JobSpec {
        source: endpoint(job.source, &dir, "source", path)?,
        sink: match job.sink {
            Some(s) => endpoint(s, &dir, "sink", path)?,
            None => default_sink(),
        },
        run,
    })
}

/// Parses the one-liner form `ID`, `ID:CONFIG.toml` or `ID:LOCATION` (a
/// folder, a file, a URL: the data itself, put into the configuration key the
/// plugin's manifest declares; see [`apply_location`]). A path ending in
/// `.toml` that names an existing file is a configuration file.
pub fn parse_endpoint(arg: &str) -> Result<EndpointSpec, JobError> {
    match arg.split_once(':') {
        Some((id, path)) if !id.is_empty() && !path.is_empty() => {
            let p = Path::new(path);
            let is_toml = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
            if is_toml && !p.exists() {
                return Err(JobError(format!(
                    "the configuration file {path} does not exist (in '{arg}'; a path ending in .toml is read as a configuration)"
                )));
            }
            if is_toml && p.is_file() {
                let (config, base_dir) = read_config_file(p)?;
                Ok(EndpointSpec { plugin: id.to_owned(), config, base_dir, location: None })
            } else {
                Ok(EndpointSpec {
                    plugin: id.to_owned(),
                    config: serde_json::json!({}),
                    base_dir: PathBuf::from("."),
                    location: Some(path.to_owned()),
                })
            }
        }
        None if !arg.is_empty() => Ok(EndpointSpec {
            plugin: arg.to_owned(),
            config: serde_json::json!({}),
            base_dir: PathBuf::from("."),
            location: None,
        }),
        _ => Err(JobError(format!("'{arg}' is not PLUGIN, PLUGIN:CONFIG.toml or PLUGIN:LOCATION"))),
    }
}

/// Puts a bare location into the configuration key `manifest` declares.
pub fn apply_location(spec: &mut EndpointSpec, manifest: &Manifest) -> Result<(), JobError> {
    let Some(location) = spec.location.take() else { return Ok(()) };
    let Some(key) = &manifest.location else {
        return Err(JobError(format!(
            "plugin '{}' takes no bare location: give a configuration file ({0}:CONFIG.toml), or settings with --from-set/--to-set",
            manifest.id
        )));
    };
    if !spec.config.is_object() {
        spec.config = serde_json::json!({});
    }
    if let Some(obj) = spec.config.as_object_mut() {
        obj.insert(key.clone(), serde_json::Value::String(location));
    }
    Ok(())
}

/// The configuration keys `manifest` marks secret.
pub fn secret_keys(manifest: &Manifest) -> Vec<String> {
    manifest.config.iter().filter(|(_, f)| f.secret).map(|(k, _)| k.clone()).collect()
}

/// Fills in secrets: each secret key given as `{ env = "VAR" }` or
/// `{ file = "path" }` (relative to `base_dir`) becomes its value. A secret
/// written in the configuration itself is refused. Errors name the key, never
/// the value.
pub fn resolve_secrets(
    config: &mut serde_json::Value,
    manifest: &Manifest,
    base_dir: &Path,
) -> Result<(), JobError> {
    let Some(obj) = config.as_object_mut() else { return Ok(()) };
    for key in secret_keys(manifest) {
        let Some(v) = obj.get(&key) else { continue };
        let how = format!(
            "give it as {key} = {{ env = \"VARIABLE\" }} or {key} = {{ file = \"path\" }}, so that it stays out of configuration files, logs and archives"
        );
        let value = match v {
            serde_json::Value::Object(m) => match (m.get("env"), m.get("file")) {
                (Some(serde_json::Value::String(var)), None) => std::env::var(var).map_err(|_| {
                    JobError(format!("plugin '{}': the secret '{key}' comes from the environment variable {var}, which is not set", manifest.id))
                })?,
                (None, Some(serde_json::Value::String(file))) => {
                    let p = base_dir.join(file);
                    std::fs::read_to_string(&p)
                        .map_err(|e| {
                            JobError(format!("plugin '{}': cannot read the secret '{key}' from {}: {e}", manifest.id, p.display()))
                        })?
                        .trim_end_matches(['\n', '\r'])
                        .to_owned()
                }
                _ => return Err(JobError(format!("plugin '{}': the secret '{key}' must be {{ env = ... }} or {{ file = ... }}; {how}", manifest.id))),
            },
            _ => {
                return Err(JobError(format!(
                    "plugin '{}': the secret '{key}' is written in the configuration; {how}",
                    manifest.id
                )));
            }
        };
        obj.insert(key, serde_json::Value::String(value));
    }
    Ok(())
}

/// Applies `key=value` overrides (dotted keys reach into tables; the value is
/// read as TOML when it parses, else as a string).
pub fn apply_override(config: &mut serde_json::Value, assignment: &str) -> Result<(), JobError> {
    let (key, raw) =
        assignment.split_once('=').ok_or_else(|| JobError(format!("'{assignment}' is not KEY=VALUE")))?;
    let value: serde_json::Value = match format!("v = {raw}").parse::<toml::Table>() {
        Ok(mut t) => {
            t.remove("v").map_or(serde_json::Value::Null, |v| serde_json::to_value(v).unwrap_or_default())
        }
        Err(_) => serde_json::Value::String(raw.to_owned()),
    };
    let mut node = config;
    let parts: Vec<&str> = key.trim().split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        if !node.is_object() {
            *node = serde_json::json!({});
        }
        let obj = node.as_object_mut().ok_or_else(|| JobError("unreachable".into()))?;
        if i + 1 == parts.len() {
            obj.insert((*part).to_owned(), value);
            return Ok(());
        }
        node = obj.entry((*part).to_owned()).or_insert_with(|| serde_json::json!({}));
    }
    Err(JobError(format!("'{assignment}' has an empty key")))
}

/// SHA-256 over the plugins and their configurations (for run metadata),
/// with the secret keys left out entirely.
pub fn config_hash(job: &JobSpec, source_secrets: &[String], sink_secrets: &[String]) -> String {
    let without = |config: &serde_json::Value, secrets: &[String]| {
        let mut c = config.clone();
        if let Some(obj) = c.as_object_mut() {
            for k in secrets {
                obj.remove(k);
            }
        }
        c
    };
    let canonical = serde_json::json!({
        "source": { "plugin": job.source.plugin, "config": without(&job.source.config, source_secrets) },
        "sink": { "plugin": job.sink.plugin, "config": without(&job.sink.config, sink_secrets) },
    });
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_reach_into_tables_and_parse_toml_values() {
        let mut c = serde_json::json!({"dialect": {"header": true}});
        apply_override(&mut c, "dialect.header=false").unwrap();
        apply_override(&mut c, "path=out/a b.sqlite").unwrap();
        apply_override(&mut c, "entities.students.file=s.csv").unwrap();
        assert_eq!(
            c,
            serde_json::json!({"dialect": {"header": false}, "path": "out/a b.sqlite", "entities": {"students": {"file": "s.csv"}}})
        );
        assert!(apply_override(&mut c, "novalue").is_err());
    }

    #[test]
    fn a_job_file_sets_the_field_policy_per_entity() {
        let dir = tempfile::tempdir().unwrap();
        let job = dir.path().join("job.toml");
        std::fs::write(
            &job,
            "[source]\nplugin = \"csv\"\n[run.field_policy]\ndefault = \"reject\"\nstudents = { birth_date = \"keep_as_text\" }\n",
        )
        .unwrap();
        let spec = read_job(&job).unwrap();
        assert_eq!(spec.run.field_policy.default, crate::stages::FieldAction::Reject);
        assert_eq!(
            spec.run.field_policy.entities["students"]["birth_date"],
            crate::stages::FieldAction::KeepAsText
        );
        std::fs::write(
            &job,
            "[source]\nplugin = \"csv\"\n[run.field_policy]\nstudents = { birthdate = \"reject\" }\n",
        )
        .unwrap();
        assert!(read_job(&job).unwrap_err().0.contains("unknown field 'birthdate'"));
    }

    #[cfg(unix)]
    #[test]
    fn a_job_file_isolates_plugins_with_limits() {
        use crate::isolate::{Isolate, Limits};
        let dir = tempfile::tempdir().unwrap();
        let job = dir.path().join("job.toml");
        std::fs::write(
            &job,
            "[source]\nplugin = \"csv\"\n[run]\nisolate = \"sink\"\n[run.isolation]\nmemory_mb = 2048\ntimeout_s = 3600\n",
        )
        .unwrap();
        let spec = read_job(&job).unwrap();
        assert_eq!(spec.run.isolate, Isolate::Sink);
        assert_eq!(spec.run.isolation, Limits { memory_mb: Some(2048), timeout_s: Some(3600) });
        std::fs::write(&job, "[source]\nplugin = \"csv\"\n[run.isolation]\nmemory = 2048\n").unwrap();
        assert!(
            read_job(&job).unwrap_err().0.contains("unknown field `memory`"),
            "a misspelt limit is refused"
        );
        std::fs::write(&job, "[source]\nplugin = \"csv\"\n").unwrap();
        assert_eq!(read_job(&job).unwrap().run.isolate, Isolate::None, "in process by default");
    }

    #[test]
    fn job_file_with_inline_and_file_configs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("src.toml"), "directory = \"in\"\n").unwrap();
        std::fs::write(
            dir.path().join("job.toml"),
            "[source]\nplugin = \"csv\"\nconfig = \"src.toml\"\n[sink]\nplugin = \"csv\"\n[sink.settings]\ndirectory = \"out\"\n[run]\nbatch_size = 10\nrejects = \"r.jsonl\"\nonly = [\"students\"]\n",
        )
        .unwrap();
        let job = read_job(&dir.path().join("job.toml")).unwrap();
        assert_eq!(job.source.config, serde_json::json!({"directory": "in"}));
        assert_eq!(job.source.base_dir, dir.path());
        assert_eq!(job.sink.config, serde_json::json!({"directory": "out"}));
        assert_eq!(job.run.batch_size, 10);
        assert_eq!(job.run.rejects, Some(dir.path().join("r.jsonl")));
        assert_eq!(job.run.only_entities().unwrap(), Some(vec![EntityKind::Students]));
        std::fs::write(dir.path().join("bad.toml"), "[source]\nplugin = \"csv\"\nsetings = {}\n").unwrap();
        let e = read_job(&dir.path().join("bad.toml")).unwrap_err();
        assert!(e.0.contains("bad.toml") && e.0.contains("setings"), "{e}");
    }

    #[test]
    fn a_bare_location_fills_the_key_the_manifest_names() {
        let mut spec = parse_endpoint("powerschool:export/").unwrap();
        assert_eq!(spec.location.as_deref(), Some("export/"));
        let mut m: Manifest = toml::from_str(
            "id = \"powerschool\"\nversion = \"1\"\nabi_version = \"0.2.0\"\nmodel_version = \"2.0\"\ncapabilities = [\"source\"]\nentities = []\nlocation = \"directory\"\n[config.token]\ntype = \"string\"\nsecret = true\n",
        )
        .unwrap();
        apply_location(&mut spec, &m).unwrap();
        assert_eq!(spec.config, serde_json::json!({"directory": "export/"}));
        let e = parse_endpoint("csv:surely-missing-config.toml").unwrap_err();
        assert!(e.0.contains("does not exist"), "{e}");
        m.location = None;
        let mut spec = parse_endpoint("powerschool:export/").unwrap();
        assert!(apply_location(&mut spec, &m).unwrap_err().0.contains("takes no bare location"));
    }

    #[test]
    fn secrets_come_from_the_environment_or_a_file_and_stay_out_of_the_hash() {
        let m: Manifest = toml::from_str(
            "id = \"api\"\nversion = \"1\"\nabi_version = \"0.2.0\"\nmodel_version = \"2.0\"\ncapabilities = [\"source\"]\nentities = []\n[config.token]\ntype = \"string\"\nsecret = true\n",
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tok"), "s3cr3t-from-file\n").unwrap();
        let mut c = serde_json::json!({"token": {"file": "tok"}, "url": "https://x"});
        resolve_secrets(&mut c, &m, dir.path()).unwrap();
        assert_eq!(c["token"], "s3cr3t-from-file");
        let mut literal = serde_json::json!({"token": "written-in-the-file"});
        let e = resolve_secrets(&mut literal, &m, dir.path()).unwrap_err();
        assert!(
            e.0.contains("'token' is written in the configuration") && !e.0.contains("written-in-the-file"),
            "{e}"
        );
        let mut unset = serde_json::json!({"token": {"env": "FERRY_TEST_SURELY_UNSET_VAR"}});
        assert!(resolve_secrets(&mut unset, &m, dir.path()).unwrap_err().0.contains("not set"));
        let job = |token: &str| JobSpec {
            source: EndpointSpec {
                plugin: "api".into(),
                config: serde_json::json!({"token": token}),
                base_dir: ".".into(),
                location: None,
            },
            sink: default_sink(),
            run: RunOptions::default(),
        };
        let secrets = vec!["token".to_owned()];
        assert_eq!(config_hash(&job("a"), &secrets, &[]), config_hash(&job("b"), &secrets, &[]));
        assert_ne!(config_hash(&job("a"), &[], &[]), config_hash(&job("b"), &[], &[]));
    }

    #[test]
    fn job_without_sink_uses_the_archive() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("job.toml"), "[source]\nplugin = \"csv\"\n").unwrap();
        assert_eq!(read_job(&dir.path().join("job.toml")).unwrap().sink.plugin, "sqlite");
    }
}
