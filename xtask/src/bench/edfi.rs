//! The Ed-Fi connector against the fake Ed-Fi API on loopback
//! (`ferry-e2e`'s `fake-edfi` process): a generated PowerSchool district
//! written into it (every POST a round trip, at the connector's default
//! concurrency), then read back through the connector's source.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::{Measured, Result, district, measure, median_of, rate};
use crate::tasks;

/// Requests in flight, as the connector's default.
const CONCURRENCY: u32 = 8;

/// The fake, running, with the settings a connector needs to reach it.
struct Fake {
    child: Child,
    base_url: String,
    client_id: String,
    client_secret: String,
}

impl Fake {
    fn start(bin: &Path) -> Result<Fake> {
        let mut child = Command::new(bin)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let out = child.stdout.take().ok_or("fake-edfi: no output")?;
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line).map_err(|e| e.to_string())?;
        let v: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| format!("fake-edfi said {line:?}: {e}"))?;
        let s = |k: &str| v[k].as_str().map(str::to_owned).ok_or(format!("fake-edfi: no {k}"));
        Ok(Fake {
            base_url: s("base_url")?,
            client_id: s("client_id")?,
            client_secret: s("client_secret")?,
            child,
        })
    }

    /// `edfi.toml` in `dir` for this fake.
    fn config(&self, dir: &Path) -> Result {
        std::fs::write(dir.join("edfi.secret"), &self.client_secret).map_err(|e| e.to_string())?;
        let text = format!(
            "base_url = \"{}\"\nclient_id = \"{}\"\nclient_secret = {{ file = \"edfi.secret\" }}\nconcurrency = {CONCURRENCY}\nreceipts = \"ferry-receipts.jsonl\"\n",
            self.base_url, self.client_id
        );
        std::fs::write(dir.join("edfi.toml"), text).map_err(|e| e.to_string())
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.wait();
    }
}

/// Records written (or read) in a run report.
fn records(m: &Measured) -> u64 {
    let v: serde_json::Value = serde_json::from_str(&m.report).unwrap_or_default();
    v["entities"].as_array().into_iter().flatten().filter_map(|e| e["written"].as_u64()).sum()
}

/// The section's figures.
pub struct Figures {
    pub students: u32,
    pub written: u64,
    pub write: Measured,
    pub read: u64,
    pub read_back: Measured,
}

impl Figures {
    /// The section of docs/performance.md.
    pub fn markdown(&self, number: u32) -> String {
        format!(
            "## {number}. Ed-Fi API: a PowerSchool district written to the fake Ed-Fi ODS/API and read back ({} students)\n\n\
             The fake (`tests/src/fakes/edfi.rs`, run as `fake-edfi`) answers on loopback with no added latency, so these figures are the connector's own cost plus HTTP on one machine: a real ODS/API adds its round trip (typically 20 to 100 ms) per request, and then concurrency, not the connector, sets the pace. Concurrency {CONCURRENCY} (the default); median of three runs, each into a fresh fake.\n\n\
             | run | records | wall | records/s | peak memory |\n|---|---:|---:|---:|---:|\n\
             | PowerSchool export → Ed-Fi (POST by natural key, dependency order, descriptor check) | {} | {:.2} s | {:.0} | {:.0} MB |\n\
             | Ed-Fi → SQLite (the read back of `ferry verify`: counted pages, {CONCURRENCY} at once) | {} | {:.2} s | {:.0} | {:.0} MB |\n",
            self.students,
            self.written,
            self.write.seconds,
            rate(self.written, self.write.seconds),
            self.write.peak_rss_mb,
            self.read,
            self.read_back.seconds,
            rate(self.read, self.read_back.seconds),
            self.read_back.peak_rss_mb,
        )
    }
}

/// Runs the section with `ferry` and `plugins` of one profile, in `bench_dir`.
pub fn run(ferry: &Path, plugins: &Path, bench_dir: &Path, students: u32, release: bool) -> Result<Figures> {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(tasks::root()).args(["build", "--locked", "-p", "ferry-e2e", "--bin", "fake-edfi"]);
    if release {
        c.arg("--release");
    }
    tasks::run(c)?;
    let bin = tasks::target_dir()
        .join(if release { "release" } else { "debug" })
        .join(format!("fake-edfi{}", std::env::consts::EXE_SUFFIX));
    let dir = bench_dir.join(format!("edfi-{students}"));
    let export = bench_dir.join(format!("powerschool-{students}")).join("export");
    district(students, &export)?;
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let from = format!("powerschool:{}", export.join(ferry_gen::SOURCE_CONFIG_FILE).display());
    let mut last = None;
    let write = median_of(3, || {
        last = None;
        let fake = Fake::start(&bin)?;
        fake.config(&dir)?;
        let _ = std::fs::remove_file(dir.join("ferry-receipts.jsonl"));
        let _ = std::fs::remove_file(dir.join("ferry-rejects.jsonl"));
        let m =
            measure(ferry, plugins, &dir, &["migrate", "--from", &from, "--to", "edfi:edfi.toml"], false)?;
        last = Some(fake);
        Ok(m)
    })?;
    // The last fake holds the district (all three runs write the same).
    let fake = last.ok_or("no fake left running")?;
    fake.config(&dir)?;
    let back = dir.join("back.sqlite");
    let path = format!("path={}", back.display());
    let read_back = median_of(3, || {
        let _ = std::fs::remove_file(&back);
        let _ = std::fs::remove_file(dir.join("ferry-rejects.jsonl"));
        measure(
            ferry,
            plugins,
            &dir,
            &[
                "migrate",
                "--from",
                "edfi:edfi.toml",
                "--to",
                "sqlite",
                "--to-set",
                &path,
                "--rejects",
                "back-rejects.jsonl",
            ],
            false,
        )
    })?;
    let _ = std::fs::remove_file(&back);
    drop(fake);
    Ok(Figures { students, written: records(&write), read: records(&read_back), write, read_back })
}
