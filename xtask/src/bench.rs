//! `cargo xtask bench`: the benchmarks, measured on this machine, written to
//! `docs/performance.md` with the machine's description.
//!
//! 1. The plugin boundary: a no-op source and sink (records made in memory,
//!    built into Arrow batches, validated and staged by the host, every value
//!    read back through the sink's typed view).
//! 2. CSV → CSV through the generic connector on generated files of 1 and 2
//!    million rows, pinned to one core, with peak memory (flat = streaming).
//! 3. A generated 100,000-student PowerSchool district into the CSV sink.
//! 4. The same district into the SQLite archive, against `sqlite3 .import`
//!    of the same files (the raw floor).
//!
//! Wall time comes from the run report; peak memory is the process's VmHWM,
//! polled from /proc while it runs (Linux).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::tasks::{self, Result};

/// Everything after this line of docs/performance.md is kept across runs.
const NOTES_MARKER: &str = "<!-- analysis: kept across `cargo xtask bench` runs -->";

/// One measured run.
pub struct Measured {
    pub seconds: f64,
    pub peak_rss_mb: f64,
    pub report: String,
}

fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs ferry with `args` in `dir`, pinned to CPU 0 when `one_core`.
pub fn measure(ferry: &Path, plugins: &Path, dir: &Path, args: &[&str], one_core: bool) -> Result<Measured> {
    let mut cmd = if one_core && Path::new("/usr/bin/taskset").exists() {
        let mut c = Command::new("/usr/bin/taskset");
        c.args(["-c", "0"]).arg(ferry);
        c
    } else {
        Command::new(ferry)
    };
    cmd.current_dir(dir)
        .env("FERRY_PLUGIN_PATH", plugins)
        .args(["--quiet"])
        .args(args)
        .args(["--format", "json", "--allow-rejects"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    eprintln!("$ {cmd:?}");
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("cannot run ferry: {e}"))?;
    let pid = child.id();
    let mut peak = 0;
    loop {
        if let Some(kb) = peak_rss_kb(pid) {
            peak = peak.max(kb);
        }
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let wall = start.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!("ferry failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    let seconds = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("\"seconds\": "))
        .and_then(|s| s.trim_end_matches(',').parse().ok())
        .unwrap_or(wall);
    #[allow(clippy::cast_precision_loss, reason = "megabytes for display")]
    let peak_rss_mb = peak as f64 / 1024.0;
    Ok(Measured { seconds, peak_rss_mb, report })
}

/// The run with the median time of `n` runs of `f`.
fn median_of(n: usize, mut f: impl FnMut() -> Result<Measured>) -> Result<Measured> {
    let mut runs = (0..n).map(|_| f()).collect::<Result<Vec<_>>>()?;
    runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    let mid = runs.len() / 2;
    Ok(runs.swap_remove(mid))
}

/// Writes a students CSV of `rows` rows (10 columns, MM/DD/YYYY dates,
/// leading zeros, one unmapped column that goes to extensions).
fn gen_students_csv(path: &Path, rows: u64) -> Result {
    let f = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    let first = ["Ana", "José", "Zoë", "Liam", "Noah", "Emma", "Mía", "Chloé", "Omar", "Yuki"];
    let last =
        ["García", "Smith", "Núñez", "Nguyen", "Okafor", "Müller", "Kowalski", "Brontë", "Lee", "Haddad"];
    let io = |e: std::io::Error| e.to_string();
    writeln!(w, "id,number,first,last,dob,grade,school,email,phone,locker").map_err(io)?;
    for i in 0..rows {
        let f = first[(i % 10) as usize];
        let l = last[(i / 10 % 10) as usize];
        writeln!(
            w,
            "{i},{:06},{f},{l},{:02}/{:02}/{},{},{},s{i}@example.org,555-{:04},L{}",
            i % 1_000_000,
            i % 12 + 1,
            i % 28 + 1,
            2006 + i % 12,
            i % 12 + 1,
            100 + i % 9,
            i % 10_000,
            i % 500
        )
        .map_err(io)?;
    }
    w.flush().map_err(io)
}

const CSV_SOURCE: &str = r#"
[entities.students]
file = "students.csv"
[entities.students.columns]
id = "source_id"
number = "student_number"
first = "first_name"
last = "last_name"
dob = "birth_date"
grade = "grade_level"
school = "school_id"
email = "email"
phone = "phone"
"#;

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find_map(|l| l.strip_prefix("MemTotal:").map(|v| v.trim().to_owned())))
        .unwrap_or_default();
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!(
        "{cpu}, {cores} cores, {mem} memory; {} {}; {rustc}; release build",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

fn rate(n: u64, secs: f64) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "rates for display")]
    let n = n as f64;
    n / secs.max(1e-9)
}

/// Runs every benchmark and rewrites docs/performance.md.
pub fn run(args: &[String]) -> Result {
    let quick = args.iter().any(|a| a == "--quick");
    let root = tasks::root();
    // Build the release binaries and plugins, plus the no-op benchmark plugin.
    tasks::build_plugins(true)?;
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(&root).args(["build", "--locked", "--release", "-p", "ferry-test-plugin-noop"]);
    tasks::run(c)?;
    let rel = tasks::target_dir().join("release");
    let ferry = rel.join("ferry");
    let plugins = rel.join("plugins");
    let bench_dir = tasks::target_dir().join("bench");
    let noop_dir = bench_dir.join("plugins");
    let mut pkg = Command::new(&ferry);
    pkg.args(["--quiet", "plugins", "package"])
        .arg(rel.join(format!(
            "{}ferry_test_plugin_noop{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        )))
        .arg("--out")
        .arg(&noop_dir);
    tasks::run(pkg)?;
    let plugin_path = std::env::join_paths([&plugins, &noop_dir]).map_err(|e| e.to_string())?;
    let plugin_path = PathBuf::from(plugin_path);

    let mut md = String::new();
    let _ = writeln!(md, "# Performance\n");
    let _ = writeln!(md, "Written by `cargo xtask bench` on {}. Machine: {}.\n", tasks::today(), machine());
    let _ = writeln!(
        md,
        "Sections 1 and 2 give the median of three runs, sections 3 and 4 one run; wall time is the run's own report, peak memory the process's high-water mark (VmHWM). \"1 core\" runs are pinned with `taskset -c 0`.\n"
    );

    // 1. The plugin boundary.
    let n_noop: u64 = if quick { 500_000 } else { 4_000_000 };
    std::fs::create_dir_all(&bench_dir).map_err(|e| e.to_string())?;
    let count = format!("count={n_noop}");
    let noop = median_of(3, || {
        measure(
            &ferry,
            &plugin_path,
            &bench_dir,
            &["migrate", "--from", "noop", "--from-set", &count, "--to", "noop"],
            true,
        )
    })?;
    let carry = median_of(3, || {
        measure(
            &ferry,
            &plugin_path,
            &bench_dir,
            &["migrate", "--from", "noop", "--from-set", &count, "--to", "noop", "--to-set", "read=false"],
            true,
        )
    })?;
    let per_record = |secs: f64| {
        #[allow(clippy::cast_precision_loss, reason = "display")]
        let n = n_noop as f64;
        secs * 1e9 / n
    };
    let noop_ns = per_record(noop.seconds);
    let _ = writeln!(md, "## 1. The plugin boundary (no-op source → host → no-op sink, 1 core)\n");
    let _ = writeln!(
        md,
        "| sink | records | seconds | records/s | ns/record | peak MB |\n|---|---|---|---|---|---|"
    );
    for (what, m) in
        [("reads every value through its typed view", &noop), ("only counts the records", &carry)]
    {
        let _ = writeln!(
            md,
            "| {what} | {n_noop} | {:.2} | {:.0} | {:.0} | {:.1} |",
            m.seconds,
            rate(n_noop, m.seconds),
            per_record(m.seconds),
            m.peak_rss_mb
        );
    }
    let _ = writeln!(
        md,
        "\nEach record is built in the source plugin (a 10-field student from a template with a new id), validated and appended to an Arrow batch (4096 records); the batch crosses into the host through the Arrow C Data Interface, is validated in full (offsets, UTF-8, the model's layout), goes through the stages and the accounting, and crosses into the sink, which either reads every value in place through its typed view or only counts the records.\n"
    );

    // 2. CSV → CSV.
    let sizes: Vec<u64> = if quick { vec![200_000, 400_000] } else { vec![1_000_000, 2_000_000] };
    let _ = writeln!(md, "## 2. CSV → CSV (generic connector, 10 columns, MM/DD/YYYY dates → ISO)\n");
    let _ = writeln!(
        md,
        "| rows | cores | seconds | rows/s | peak MB | boundary share |\n|---|---|---|---|---|---|"
    );
    for &rows in &sizes {
        let dir = bench_dir.join(format!("csv-{rows}"));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let input = dir.join("students.csv");
        if !input.exists() {
            gen_students_csv(&input, rows)?;
        }
        std::fs::write(dir.join("source.toml"), CSV_SOURCE).map_err(|e| e.to_string())?;
        for one_core in [true, false] {
            let m = median_of(3, || {
                measure(
                    &ferry,
                    &plugin_path,
                    &dir,
                    &["migrate", "--from", "csv:source.toml", "--to", "csv", "--to-set", "directory=out"],
                    one_core,
                )
            })?;
            if !m.report.contains(&format!("\"written\": {rows}")) {
                return Err(format!("CSV → CSV did not write all {rows} rows:\n{}", m.report));
            }
            let ns_row = m.seconds * 1e9 / {
                #[allow(clippy::cast_precision_loss, reason = "display")]
                let n = rows as f64;
                n
            };
            let _ = writeln!(
                md,
                "| {rows} | {} | {:.2} | {:.0} | {:.1} | {:.0}% |",
                if one_core { 1 } else { 2 },
                m.seconds,
                rate(rows, m.seconds),
                m.peak_rss_mb,
                100.0 * noop_ns / ns_row
            );
        }
    }
    let _ = writeln!(
        md,
        "\n\"Boundary share\" is the no-op boundary cost per record divided by the CSV → CSV time per row.\n"
    );

    // 3 and 4. A generated PowerSchool district through the PowerSchool source.
    let students: u32 = if quick { 10_000 } else { 100_000 };
    let ps_dir = bench_dir.join(format!("powerschool-{students}"));
    let export = ps_dir.join("export");
    let manifest = if export.join(ferry_gen::MANIFEST_FILE).exists() {
        let text =
            std::fs::read_to_string(export.join(ferry_gen::MANIFEST_FILE)).map_err(|e| e.to_string())?;
        ferry_gen::GenManifest::parse(&text)?
    } else {
        std::fs::create_dir_all(&export).map_err(|e| e.to_string())?;
        let opts = ferry_gen::PsGenOptions {
            students,
            seed: 42,
            quirks: false,
            encoding: ferry_gen::TextEncoding::Utf8,
            ..ferry_gen::PsGenOptions::default()
        };
        ferry_gen::powerschool(&opts, &export).map_err(|e| format!("cannot generate the district: {e}"))?
    };
    let rows = manifest.total_rows();
    let from = format!("powerschool:{}", export.join(ferry_gen::SOURCE_CONFIG_FILE).display());
    let _ = writeln!(
        md,
        "## 3. PowerSchool export → CSV ({students} students, {rows} source rows in {} files)\n",
        manifest.files.len()
    );
    let _ = writeln!(md, "| cores | seconds | source rows/s | peak MB |\n|---|---|---|---|");
    for one_core in [false, true] {
        let out = ps_dir.join("csv-out");
        let m = measure(
            &ferry,
            &plugin_path,
            &ps_dir,
            &["migrate", "--from", &from, "--to", "csv", "--to-set", &format!("directory={}", out.display())],
            one_core,
        )?;
        let _ = writeln!(
            md,
            "| {} | {:.2} | {:.0} | {:.1} |",
            if one_core { 1 } else { 2 },
            m.seconds,
            rate(rows, m.seconds),
            m.peak_rss_mb
        );
    }
    let _ =
        writeln!(md, "\nThe source keeps each raw row for the archive (`keep_raw_rows`, on by default).\n");

    let archive = ps_dir.join("archive.sqlite");
    let _ = std::fs::remove_file(&archive);
    let a = measure(
        &ferry,
        &plugin_path,
        &ps_dir,
        &["migrate", "--from", &from, "--to", "sqlite", "--to-set", &format!("path={}", archive.display())],
        false,
    )?;
    let _ = writeln!(md, "## 4. PowerSchool export → SQLite archive (same district)\n");
    let _ = writeln!(md, "| what | seconds | rows/s | peak MB | file MB |\n|---|---|---|---|---|");
    let size_mb = |p: &Path| {
        #[allow(clippy::cast_precision_loss, reason = "display")]
        let mb = std::fs::metadata(p).map_or(0, |m| m.len()) as f64 / 1_048_576.0;
        mb
    };
    let _ = writeln!(
        md,
        "| ferry → archive (typed, indexed, raw rows, checksums, atomic) | {:.2} | {:.0} | {:.1} | {:.0} |",
        a.seconds,
        rate(rows, a.seconds),
        a.peak_rss_mb,
        size_mb(&archive)
    );
    match sqlite_import(&export, &manifest, &ps_dir.join("import.sqlite")) {
        Ok(secs) => {
            let _ = writeln!(
                md,
                "| `sqlite3 .import` of the same files into plain text tables (no typing, no index) | {secs:.2} | {:.0} | | {:.0} |",
                rate(rows, secs),
                size_mb(&ps_dir.join("import.sqlite"))
            );
            let _ =
                writeln!(md, "\nFerry takes {:.1}× the time of the raw `.import` floor.\n", a.seconds / secs);
        }
        Err(e) => {
            let _ = writeln!(md, "\n`sqlite3 .import` not measured: {e}.\n");
        }
    }

    let path = root.join("docs/performance.md");
    // The hand-written analysis below the marker survives a new run.
    if let Some(notes) = std::fs::read_to_string(&path)
        .ok()
        .and_then(|old| old.split_once(NOTES_MARKER).map(|(_, n)| n.to_owned()))
    {
        md.push_str(NOTES_MARKER);
        md.push_str(&notes);
    } else {
        md.push_str(NOTES_MARKER);
        md.push_str("\n\n## Analysis\n\n(Written by hand; kept when the figures above are regenerated.)\n");
    }
    std::fs::write(&path, md).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Times `sqlite3 .import` of every export file into a fresh database.
fn sqlite_import(export: &Path, manifest: &ferry_gen::GenManifest, db: &Path) -> Result<f64> {
    let _ = std::fs::remove_file(db);
    let mut script = String::from(".mode tabs\nBEGIN;\n");
    for f in &manifest.files {
        let table = f.name.trim_end_matches(".txt").replace(['.', '-'], "_");
        let _ = writeln!(script, ".import '{}' '{table}'", export.join(&f.name).display());
    }
    script.push_str("COMMIT;\n");
    let start = Instant::now();
    let mut child = Command::new("sqlite3")
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("sqlite3 is not installed ({e})"))?;
    child.stdin.take().ok_or("no stdin")?.write_all(script.as_bytes()).map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let secs = start.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!("sqlite3 failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(secs)
}
