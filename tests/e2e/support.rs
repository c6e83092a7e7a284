//! Shared helpers: where the built artefacts are, and running `ferry`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn var(name: &str) -> PathBuf {
    match std::env::var_os(name) {
        Some(v) => PathBuf::from(v),
        None => panic!(
            "{name} is not set: run the end-to-end tests with `cargo xtask test`, which builds the plugins they load"
        ),
    }
}

/// The `ferry` binary.
pub fn ferry_bin() -> PathBuf {
    var("FERRY_E2E_BIN")
}

/// The packaged first-party plugins.
pub fn plugins_dir() -> PathBuf {
    var("FERRY_E2E_PLUGINS")
}

/// The packaged fixture plugins (panicky, acme-roster).
pub fn fixtures_dir() -> PathBuf {
    var("FERRY_E2E_FIXTURES")
}

/// A raw library built by cargo (`libNAME.so`).
pub fn lib(package: &str) -> PathBuf {
    let stem = package.replace('-', "_");
    var("FERRY_E2E_LIBS").join(format!(
        "{}{stem}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ))
}

/// The bundled samples.
pub fn samples() -> PathBuf {
    var("FERRY_E2E_SAMPLES")
}

/// The result of running ferry.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(o: Output) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn ok(&self) -> &Run {
        assert_eq!(self.code, Some(0), "ferry failed\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }
}

/// Runs ferry in `cwd` with `FERRY_PLUGIN_PATH` = `plugin_path` and a private
/// `FERRY_HOME`, so the user's own plugins never interfere.
pub fn ferry(cwd: &Path, plugin_path: &[PathBuf], args: &[&str]) -> Run {
    let path = std::env::join_paths(plugin_path).expect("plugin path");
    let out = Command::new(ferry_bin())
        .current_dir(cwd)
        .env("FERRY_PLUGIN_PATH", path)
        .env("FERRY_HOME", cwd.join(".ferry-home"))
        .env_remove("FERRY_LOG")
        .args(args)
        .output()
        .expect("run ferry");
    Run::from(out)
}

/// Writes a hand-made plugin folder around an existing library: what a
/// manifest can claim, checked against what the library really is. The
/// manifest carries the copy's SHA-256, as `ferry plugins package` writes it.
pub fn fake_plugin(dir: &Path, id: &str, library: &Path, abi: &str) -> PathBuf {
    let pdir = dir.join(id);
    std::fs::create_dir_all(&pdir).unwrap();
    let name = library.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::copy(library, pdir.join(&name)).unwrap();
    let sha256 = sha256_hex(&pdir.join(&name));
    std::fs::write(
        pdir.join("ferry-plugin.toml"),
        format!(
            "id = \"{id}\"\nversion = \"0.1.0\"\nabi_version = \"{abi}\"\nmodel_version = \"2.0\"\ncapabilities = [\"source\"]\nentities = [\"students\"]\nlibrary = \"{name}\"\nsha256 = \"{sha256}\"\n"
        ),
    )
    .unwrap();
    pdir
}

/// SHA-256 of a file, lower-case hex.
pub fn sha256_hex(path: &Path) -> String {
    use sha2::Digest as _;
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Packages a built library with `ferry plugins package` into `out`, and
/// returns the plugin folder.
pub fn package(cwd: &Path, library: &Path, out: &Path) -> PathBuf {
    let run =
        ferry(cwd, &[], &["plugins", "package", library.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    run.ok();
    let dir = run.stdout.trim().rsplit(" into ").next().unwrap();
    PathBuf::from(dir)
}

/// Changes the last byte of a file: a library altered after it was packaged
/// or installed.
pub fn flip_last_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(path, bytes).unwrap();
}

/// Packages `library` into `out` and returns the packaged copy of the library.
pub fn packaged_library(cwd: &Path, library: &Path, out: &Path) -> PathBuf {
    package(cwd, library, out).join(library.file_name().expect("a library file"))
}

/// Reads a file as UTF-8.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The lines of a JSON Lines file.
pub fn jsonl(path: &Path) -> Vec<serde_json::Value> {
    read(path).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The bundled CSV sample as a `--from` argument.
pub fn sample_source() -> String {
    format!("csv:{}", samples().join("csv-district/source.toml").display())
}

/// One entity's line of a JSON run report.
pub fn entity<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entity"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

/// Every entity of a run report: read = written + rejected + skipped.
pub fn assert_balanced(report: &serde_json::Value) {
    for e in report["entities"].as_array().unwrap() {
        let n = |k: &str| e[k].as_u64().unwrap();
        assert_eq!(n("read"), n("written") + n("rejected") + n("skipped"), "{e}");
    }
}

/// The sum of one count over every entity of a run report.
pub fn total(report: &serde_json::Value, count: &str) -> u64 {
    report["entities"].as_array().unwrap().iter().map(|e| e[count].as_u64().unwrap()).sum()
}

/// A migration folder made by `ferry init` in a temporary folder, with a
/// generated PowerSchool district in its `export/` (read with
/// `powerschool:export/ferry-source.toml`).
pub struct MigrationFolder {
    /// Removed on drop.
    pub tmp: tempfile::TempDir,
    /// The migration folder.
    pub dir: PathBuf,
    /// The district's export files.
    pub export: PathBuf,
}

/// `ferry init mig [--name NAME]`, then a district of `students` from `seed`.
pub fn migration_folder(name: Option<&str>, students: u32, seed: u64, quirks: bool) -> MigrationFolder {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = vec!["init", "mig"];
    if let Some(n) = name {
        args.extend(["--name", n]);
    }
    ferry(tmp.path(), &[plugins_dir()], &args).ok();
    let dir = tmp.path().join("mig");
    let export = dir.join("export");
    std::fs::create_dir_all(&export).unwrap();
    let opts = ferry_gen::PsGenOptions { students, seed, quirks, ..ferry_gen::PsGenOptions::default() };
    ferry_gen::powerschool(&opts, &export).unwrap();
    MigrationFolder { tmp, dir, export }
}

/// `ferry status --format json` in `dir`.
pub fn status(dir: &Path) -> serde_json::Value {
    let run = ferry(dir, &[plugins_dir()], &["status", "--format", "json"]);
    run.ok();
    run.json()
}

/// One step of a status.
pub fn step<'a>(status: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    status["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("{status}"))
}
