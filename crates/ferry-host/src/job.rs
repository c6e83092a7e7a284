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
//! ```

use std::path::{Path, PathBuf};

use ferry_model::EntityKind;
use serde::Deserialize;
use sha2::{Digest, Sha256};

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
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            batch_size: 4096,
            rejects: None,
            only: None,
            allow_rejects: false,
            include_values: false,
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
            Ok(EndpointSpec { plugin: e.plugin, config, base_dir })
        }
        (None, s) => Ok(EndpointSpec {
            plugin: e.plugin,
            config: toml_to_json(s.unwrap_or_default()),
            base_dir: job_dir.to_owned(),
        }),
    }
}

/// The embedded default destination: a SQLite archive in the current folder.
pub fn default_sink() -> EndpointSpec {
    EndpointSpec {
        plugin: "sqlite".into(),
        config: serde_json::json!({ "path": "ferry-archive.sqlite" }),
        base_dir: PathBuf::from("."),
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
    Ok(JobSpec {
        source: endpoint(job.source, &dir, "source", path)?,
        sink: match job.sink {
            Some(s) => endpoint(s, &dir, "sink", path)?,
            None => default_sink(),
        },
        run,
    })
}

/// Parses the one-liner form `ID[:CONFIG.toml]`.
pub fn parse_endpoint(arg: &str) -> Result<EndpointSpec, JobError> {
    match arg.split_once(':') {
        Some((id, path)) if !id.is_empty() && !path.is_empty() => {
            let (config, base_dir) = read_config_file(Path::new(path))?;
            Ok(EndpointSpec { plugin: id.to_owned(), config, base_dir })
        }
        None if !arg.is_empty() => Ok(EndpointSpec {
            plugin: arg.to_owned(),
            config: serde_json::json!({}),
            base_dir: PathBuf::from("."),
        }),
        _ => Err(JobError(format!("'{arg}' is not PLUGIN or PLUGIN:CONFIG.toml"))),
    }
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

/// SHA-256 over the plugins and their configurations (for run metadata).
pub fn config_hash(job: &JobSpec) -> String {
    let canonical = serde_json::json!({
        "source": { "plugin": job.source.plugin, "config": job.source.config },
        "sink": { "plugin": job.sink.plugin, "config": job.sink.config },
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
    fn job_without_sink_uses_the_archive() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("job.toml"), "[source]\nplugin = \"csv\"\n").unwrap();
        assert_eq!(read_job(&dir.path().join("job.toml")).unwrap().sink.plugin, "sqlite");
    }
}
