//! `cargo xtask bench`: the benchmarks, measured on this machine, written to
//! `docs/performance.md` with the machine's description.
//!
//! 1. The plugin boundary: a no-op source and sink (records made in memory,
//!    built into Arrow batches, validated and staged by the host, every value
//!    read back through the sink's typed view).
//! 2. CSV → CSV through the generic connector on generated files of 1 and 2
//!    million rows, pinned to one core, with peak memory (flat = streaming).
//! 3. A generated 100,000-student PowerSchool district into the CSV sink.
//! 4. The same district into the SQLite archive, against two peers loading
//!    the same files in the same run: `sqlite3 .import` into text tables (the
//!    raw floor) and DuckDB's typed load into a SQLite database (the plain
//!    typed tables; DuckDB and its sqlite extension from PyPI, in a venv the
//!    bench makes at `target/bench/venv`, script in `xtask/duckdb_load.py`).
//!    Ferry's runs are [`FERRY_ARCHIVE_RUNS`].
//!
//! 5. The PowerSchool REST API source (API mode) reading the district of
//!    section 3 from the fake PowerSchool (`tests/src/bin/fake_powerschool.rs`,
//!    loopback, pages of 500, no latency) into CSV, against the export read
//!    of the same district: canonical records read per second.
//!
//! 6. The Ed-Fi connector against the fake Ed-Fi API (`fake-edfi`): a
//!    smaller generated district written to it and read back, records per
//!    second.
//!
//! `cargo xtask bench --peers-only [--students N | --export DIR]` runs the
//! two peers alone and prints their figures, table by table.
//! `cargo xtask bench --api-only [--quick] [--students N] [--debug]` runs
//! section 5 alone and prints it (`--debug`: on the debug build, to check it
//! runs; never for the figures of the docs).
//! `cargo xtask bench --edfi-only [--quick] [--students N] [--debug]` runs
//! section 6 alone and prints it.
//!
//! Wall time comes from the run report (a peer's: its whole process); peak
//! memory is the process's VmHWM, polled from /proc while it runs (Linux).

use std::fmt::Write as _;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::tasks::{self, Result};

mod edfi;

/// Everything after this line of docs/performance.md is kept across runs.
const NOTES_MARKER: &str = "<!-- analysis: kept across `cargo xtask bench` runs -->";

/// One measured run.
pub struct Measured {
    pub seconds: f64,
    pub peak_rss_mb: f64,
    pub report: String,
}

/// What can be ranked by time for a median.
trait Timed {
    fn seconds(&self) -> f64;
}

impl Timed for Measured {
    fn seconds(&self) -> f64 {
        self.seconds
    }
}

fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A finished process: wall time, peak memory, exit status and output.
struct Ran {
    wall: f64,
    peak_rss_mb: f64,
    status: std::process::ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs `cmd` to the end, timing it and polling its peak memory (VmHWM).
/// Its output is read on threads, so a chatty process never blocks on a
/// full pipe.
fn run_polled(cmd: &mut Command, what: &str) -> Result<Ran> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    eprintln!("$ {cmd:?}");
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("cannot run {what}: {e}"))?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let pid = child.id();
    let mut peak = 0;
    let status = loop {
        if let Some(kb) = peak_rss_kb(pid) {
            peak = peak.max(kb);
        }
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let wall = start.elapsed().as_secs_f64();
    let stdout = out.join().map_err(|_| format!("{what}: reading its output failed"))?;
    let stderr = err.join().map_err(|_| format!("{what}: reading its errors failed"))?;
    #[allow(clippy::cast_precision_loss, reason = "megabytes for display")]
    let peak_rss_mb = peak as f64 / 1024.0;
    Ok(Ran { wall, peak_rss_mb, status, stdout, stderr })
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
    cmd.current_dir(dir).env("FERRY_PLUGIN_PATH", plugins).args(["--quiet"]).args(args).args([
        "--format",
        "json",
        "--allow-rejects",
    ]);
    let ran = run_polled(&mut cmd, "ferry")?;
    if !ran.status.success() {
        return Err(format!("ferry failed: {}", ran.stderr));
    }
    let report = ran.stdout;
    let seconds = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("\"seconds\": "))
        .and_then(|s| s.trim_end_matches(',').parse().ok())
        .unwrap_or(ran.wall);
    Ok(Measured { seconds, peak_rss_mb: ran.peak_rss_mb, report })
}

/// The run with the median time of `n` runs of `f`.
fn median_of<T: Timed>(n: usize, mut f: impl FnMut() -> Result<T>) -> Result<T> {
    let mut runs = (0..n).map(|_| f()).collect::<Result<Vec<_>>>()?;
    runs.sort_by(|a, b| a.seconds().total_cmp(&b.seconds()));
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

/// What `cargo xtask bench` was asked for.
struct BenchArgs {
    /// Smaller sizes everywhere.
    quick: bool,
    /// Only the peers of the archive benchmark, printed, not written.
    peers_only: bool,
    /// Students in the generated district (section 3 and 4).
    students: Option<u32>,
    /// An existing export to load instead (peers only).
    export: Option<PathBuf>,
    /// Only the cost of isolation (CSV → CSV and PowerSchool → archive, in
    /// process and isolated), printed, not written.
    isolation_only: bool,
    /// Section 5 alone (`--api-only`), printed.
    api_only: bool,
    /// With `--isolation-only`: the debug build (the tests' binaries), for a
    /// quick look at gross costs; never for the figures of the docs.
    debug: bool,
    /// Only the Ed-Fi section, printed, not written.
    edfi_only: bool,
}

const BENCH_USAGE: &str = "usage: cargo xtask bench [--quick] [--students N]\n       cargo xtask bench --peers-only [--quick] [--students N | --export DIR]\n       cargo xtask bench --isolation-only [--quick] [--students N] [--debug]\n       cargo xtask bench --api-only [--quick] [--students N] [--debug]\n       cargo xtask bench --edfi-only [--quick] [--students N] [--debug]";

impl BenchArgs {
    fn parse(args: &[String]) -> Result<BenchArgs> {
        let mut b = BenchArgs {
            quick: false,
            peers_only: false,
            students: None,
            export: None,
            isolation_only: false,
            api_only: false,
            debug: false,
            edfi_only: false,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
            match a.as_str() {
                "--quick" => b.quick = true,
                "--peers-only" => b.peers_only = true,
                "--isolation-only" => b.isolation_only = true,
                "--edfi-only" => b.edfi_only = true,
                "--api-only" => b.api_only = true,
                "--debug" => b.debug = true,
                "--students" => {
                    b.students = Some(value(a)?.parse().map_err(|e| format!("--students: {e}"))?);
                }
                "--export" => b.export = Some(PathBuf::from(value(a)?)),
                other => return Err(format!("bench: unknown argument {other:?}\n{BENCH_USAGE}")),
            }
        }
        if b.debug && !b.isolation_only && !b.api_only && !b.edfi_only {
            return Err(format!(
                "bench: --debug goes with --isolation-only, --api-only or --edfi-only\n{BENCH_USAGE}"
            ));
        }
        if b.export.is_some() && (!b.peers_only || b.students.is_some()) {
            return Err(format!("bench: --export goes with --peers-only, without --students\n{BENCH_USAGE}"));
        }
        Ok(b)
    }

    fn students(&self) -> u32 {
        self.students.unwrap_or(if self.quick { 10_000 } else { 100_000 })
    }

    /// Students of the PowerSchool API section's district (the fake serves
    /// it from memory: a bounded size).
    fn api_students(&self) -> u32 {
        match (self.api_only, self.students) {
            (true, Some(n)) => n,
            _ if self.quick => 1_000,
            _ => 5_000,
        }
    }

    /// Students of the Ed-Fi section's district: every record is a request.
    fn edfi_students(&self) -> u32 {
        match (self.edfi_only, self.students) {
            (true, Some(n)) => n,
            _ if self.quick => 200,
            _ => 1_000,
        }
    }
}

/// The generated district of `students` in `export`, written on first use
/// (a full district: every table and the secrets; seed 42, no quirks,
/// UTF-8), and its manifest.
fn district(students: u32, export: &Path) -> Result<ferry_gen::GenManifest> {
    if export.join(ferry_gen::MANIFEST_FILE).exists() {
        let m = read_manifest(export)?;
        if m.district_tables {
            return Ok(m);
        }
        // An export of an earlier bench, without the district's other tables.
        std::fs::remove_dir_all(export).map_err(|e| e.to_string())?;
    }
    std::fs::create_dir_all(export).map_err(|e| e.to_string())?;
    let opts = ferry_gen::PsGenOptions::full_district(students, 42);
    ferry_gen::powerschool(&opts, export).map_err(|e| format!("cannot generate the district: {e}"))
}

fn read_manifest(export: &Path) -> Result<ferry_gen::GenManifest> {
    let path = export.join(ferry_gen::MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    ferry_gen::GenManifest::parse(&text)
}

/// Runs every benchmark and rewrites docs/performance.md.
pub fn run(args: &[String]) -> Result {
    let args = BenchArgs::parse(args)?;
    if args.peers_only {
        return peers_only(&args);
    }
    if args.isolation_only {
        return isolation_only(&args);
    }
    if args.edfi_only {
        let built = tasks::build_plugins(!args.debug)?;
        let bench_dir = tasks::target_dir().join(if args.debug { "bench-debug" } else { "bench" });
        let f = edfi::run(&built.ferry, &built.plugins, &bench_dir, args.edfi_students(), !args.debug)?;
        println!("{}", f.markdown(6));
        return Ok(());
    }
    if args.api_only {
        return api_only(&args);
    }
    let quick = args.quick;
    // The DuckDB peer's venv first: a missing python3 or pip fails here,
    // not after the release build and sections 1 to 3.
    duckdb_env(&tasks::target_dir().join("bench"), false)?;
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
        "Sections 1, 2 and 4 give the median of three runs, sections 3 and 5 one run; wall time is the run's own report (a peer's: its whole process), peak memory the process's high-water mark (VmHWM). \"1 core\" runs are pinned with `taskset -c 0`.\n"
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
        "| rows | cores | seconds | rows/s | peak MB | boundary share | isolated seconds | isolation cost |\n|---|---|---|---|---|---|---|---|"
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
            let (m, iso) = csv_pair(&ferry, &plugin_path, &dir, rows, one_core)?;
            let ns_row = m.seconds * 1e9 / {
                #[allow(clippy::cast_precision_loss, reason = "display")]
                let n = rows as f64;
                n
            };
            let _ = writeln!(
                md,
                "| {rows} | {} | {:.2} | {:.0} | {:.1} | {:.0}% | {:.2} | {} |",
                if one_core { 1 } else { 2 },
                m.seconds,
                rate(rows, m.seconds),
                m.peak_rss_mb,
                100.0 * noop_ns / ns_row,
                iso.seconds,
                cost(m.seconds, iso.seconds)
            );
        }
    }
    let _ = writeln!(
        md,
        "\n\"Boundary share\" is the no-op boundary cost per record divided by the CSV → CSV time per row. \"Isolated\" is the same run with `--isolate` (source and sink each in a `ferry plugin-runner` process, batches as Arrow IPC over pipes); its cost is the extra time over the in-process run. Peak MB is the host process's only.\n"
    );

    // 3 and 4. A generated PowerSchool district through the PowerSchool source.
    let students = args.students();
    let ps_dir = bench_dir.join(format!("powerschool-{students}"));
    let export = ps_dir.join("export");
    let manifest = district(students, &export)?;
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

    archive_section(&mut md, &ferry, &plugin_path, &ps_dir, &export, &manifest)?;

    // 5. The PowerSchool REST API source against the fake server, on a
    // district of its own: the fake holds every table in memory as JSON
    // and serves it page by page, so at section 3's size the fake, not the
    // connector, would be measured (and would need most of the memory).
    let fake = build_fake(true)?;
    let api_students = args.api_students();
    let api_dir = bench_dir.join(format!("powerschool-{api_students}"));
    let api_export = api_dir.join("export");
    district(api_students, &api_export)?;
    let _ = writeln!(
        md,
        "## 5. PowerSchool REST API source → CSV ({api_students} students, fake server on loopback)\n"
    );
    md.push_str(&api_section(&ferry, &plugin_path, &fake, &api_dir, &api_export)?);

    let f = edfi::run(&ferry, &plugins, &bench_dir, args.edfi_students(), true)?;
    md.push_str(&f.markdown(6));
    md.push('\n');

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

// ---------------------------------------------------------------------------
// 4. The archive against its peers.

/// A Ferry run of section 4: the district into the SQLite sink, compared with
/// the peers (time, rows/s, file size and the ratios to each peer).
///
/// Hook point: each entry of [`FERRY_ARCHIVE_RUNS`] is one row of the table,
/// run the same way (median of three, a fresh archive each time). The runs
/// the Core targets name go in as, for example:
///
/// ```text
/// FerryArchiveRun {
///     label: "ferry → archive (source tables + canonical tables)",
///     file: "archive-full.sqlite",
///     to_set: &["tables=all"],
///     args: &[],
///     target: ArchiveTarget::DuckDb { time: 2.0, size: 2.5 },
/// },
/// FerryArchiveRun {
///     label: "ferry → source tables only (fast backup)",
///     file: "archive-source.sqlite",
///     to_set: &["tables=source"],
///     args: &[],
///     target: ArchiveTarget::SqliteImport { time: 1.0 },
/// },
/// ```
struct FerryArchiveRun {
    /// The row's label in docs/performance.md.
    label: &'static str,
    /// The archive's file name, in `target/bench/powerschool-N`.
    file: &'static str,
    /// Extra `--to-set KEY=VALUE` settings of the sqlite sink.
    to_set: &'static [&'static str],
    /// Extra arguments of `ferry migrate` (`--isolate`).
    args: &'static [&'static str],
    /// What the run is held to.
    target: ArchiveTarget,
}

/// A Core target for a Ferry archive run, as ratios to a peer.
#[derive(Clone, Copy)]
#[allow(dead_code, reason = "a run may be reported without a target")]
enum ArchiveTarget {
    /// Reported, not held to a target.
    None,
    /// At most `time` × DuckDB's typed load and `size` × its SQLite file.
    DuckDb { time: f64, size: f64 },
    /// At most `time` × `sqlite3 .import`.
    SqliteImport { time: f64 },
    /// At most `cost` more time than the first run of the table (the same
    /// run in process).
    Isolation { cost: f64 },
}

/// The Ferry rows of section 4 (see [`FerryArchiveRun`] to add one).
const FERRY_ARCHIVE_RUNS: &[FerryArchiveRun] = &[
    FerryArchiveRun {
        label: "ferry → archive (source tables + canonical tables, indexed, checksums, atomic)",
        file: "archive-full.sqlite",
        to_set: &["tables=all"],
        args: &[],
        target: ArchiveTarget::DuckDb { time: 2.0, size: 2.5 },
    },
    FerryArchiveRun {
        label: "ferry → source tables only (fast backup)",
        file: "archive-source.sqlite",
        to_set: &["tables=source"],
        args: &[],
        target: ArchiveTarget::SqliteImport { time: 1.0 },
    },
    FerryArchiveRun {
        label: "ferry → archive as the first row, isolated (`--isolate`: both plugins in runner processes)",
        file: "archive-isolated.sqlite",
        to_set: &["tables=all"],
        args: &["--isolate"],
        target: ArchiveTarget::Isolation { cost: 0.15 },
    },
];

/// One table a peer loaded.
pub struct PeerTable {
    /// The PowerSchool table (the peer's table name).
    pub table: String,
    /// The export file.
    pub file: String,
    /// Data rows in the file, from the generator's manifest.
    pub expected: u64,
    /// Rows the peer's table holds.
    pub rows: u64,
    /// What the peer said about rows it could not read, if anything.
    pub note: String,
}

/// A peer's load of the export, the median of three runs by wall time.
pub struct PeerFigures {
    /// Wall time of the peer's whole process.
    pub seconds: f64,
    /// The peer's own time for the load, where it reports one (DuckDB:
    /// connecting to the last table committed, without Python's start-up).
    pub load_seconds: Option<f64>,
    /// The process's high-water mark.
    pub peak_rss_mb: f64,
    /// Size of the SQLite file it wrote.
    pub db_bytes: u64,
    /// Table by table, in the manifest's order.
    pub tables: Vec<PeerTable>,
}

impl Timed for PeerFigures {
    fn seconds(&self) -> f64 {
        self.seconds
    }
}

impl PeerFigures {
    /// Rows loaded, all tables.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }

    /// Rows of the files the peer did not load.
    pub fn dropped(&self) -> u64 {
        self.tables.iter().map(|t| t.expected.saturating_sub(t.rows)).sum()
    }

    /// `students.txt 3 (TOO MANY COLUMNS: 3), …` for the tables that lost rows.
    fn dropped_detail(&self) -> String {
        let parts: Vec<String> = self
            .tables
            .iter()
            .filter(|t| t.rows < t.expected)
            .map(|t| {
                let n = t.expected - t.rows;
                if t.note.is_empty() {
                    format!("{} {n}", t.file)
                } else {
                    format!("{} {n} ({})", t.file, t.note)
                }
            })
            .collect();
        parts.join(", ")
    }
}

fn file_mb(bytes: u64) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "display")]
    let b = bytes as f64;
    b / 1_048_576.0
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

/// Section 4: the peers, then each of [`FERRY_ARCHIVE_RUNS`], into `md`.
fn archive_section(
    md: &mut String,
    ferry: &Path,
    plugin_path: &Path,
    ps_dir: &Path,
    export: &Path,
    manifest: &ferry_gen::GenManifest,
) -> Result {
    let rows = manifest.total_rows();
    let from = format!("powerschool:{}", export.join(ferry_gen::SOURCE_CONFIG_FILE).display());
    let import = sqlite_import(export, manifest, &ps_dir.join("import.sqlite"));
    let duck = duckdb_typed_load(export, manifest, &ps_dir.join("duckdb.sqlite"));
    let mut failures = String::new();
    for (peer, r) in [("`sqlite3 .import`", &import), ("DuckDB", &duck)] {
        if let Err(e) = r {
            eprintln!("bench: {peer} not measured: {e}");
            let _ = writeln!(failures, "{peer} not measured: {e}\n");
        }
    }
    let (import, duck) = (import.ok(), duck.ok());

    let mut measured = Vec::new();
    for run in FERRY_ARCHIVE_RUNS {
        let archive = ps_dir.join(run.file);
        let mut args: Vec<String> = ["migrate", "--from", &from, "--to", "sqlite", "--to-set"]
            .iter()
            .map(ToString::to_string)
            .chain([format!("path={}", archive.display())])
            .collect();
        for set in run.to_set {
            args.extend(["--to-set".to_owned(), (*set).to_owned()]);
        }
        args.extend(run.args.iter().map(ToString::to_string));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let m = median_of(3, || {
            let _ = std::fs::remove_file(&archive);
            measure(ferry, plugin_path, ps_dir, &args, false)
        })?;
        measured.push(FerryArchiveFigures {
            run,
            seconds: m.seconds,
            peak_rss_mb: m.peak_rss_mb,
            bytes: file_len(&archive),
        });
        if !run.args.is_empty() {
            // The same archive as the first run's: not kept (it is big).
            let _ = std::fs::remove_file(&archive);
        }
    }
    write_archive_table(md, rows, import.as_ref(), duck.as_ref(), &measured);
    md.push_str(&failures);
    Ok(())
}

/// What one of [`FERRY_ARCHIVE_RUNS`] measured.
struct FerryArchiveFigures {
    run: &'static FerryArchiveRun,
    seconds: f64,
    peak_rss_mb: f64,
    /// The archive file's size.
    bytes: u64,
}

/// Section 4's table and notes, from the peers' and Ferry's figures.
fn write_archive_table(
    md: &mut String,
    rows: u64,
    import: Option<&PeerFigures>,
    duck: Option<&PeerFigures>,
    ferry: &[FerryArchiveFigures],
) {
    let _ = writeln!(md, "## 4. PowerSchool export → SQLite archive (same district), against two peers\n");
    let _ = writeln!(
        md,
        "In the same run, two peers load the same files: `sqlite3 .import` into plain text tables (the raw floor: no typing, no index) and DuckDB {DUCKDB_VERSION} (from PyPI, in the bench's own venv), which reads each file with `read_csv` and type detection over the whole file into a table of a SQLite database attached with its sqlite extension (the plain typed tables). Each figure is the median of three runs; a peer's time is its whole process. Rows/s count the {rows} source rows; the ratios are Ferry's figure over the peer's.\n"
    );
    let _ = writeln!(
        md,
        "| what | seconds | rows/s | peak MB | file MB | Ferry / DuckDB time | Ferry / `.import` time | Ferry archive size / DuckDB size |\n|---|---|---|---|---|---|---|---|"
    );
    let peer_row = |md: &mut String, what: &str, p: Option<&PeerFigures>| {
        if let Some(p) = p {
            let _ = writeln!(
                md,
                "| {what} | {:.2} | {:.0} | {:.1} | {:.1} | | | |",
                p.seconds,
                rate(rows, p.seconds),
                p.peak_rss_mb,
                file_mb(p.db_bytes)
            );
        } else {
            let _ = writeln!(md, "| {what} | not measured (see below) | | | | | | |");
        }
    };
    peer_row(md, "`sqlite3 .import` (text, untyped)", import);
    peer_row(md, "DuckDB typed load into SQLite", duck);

    let ratio = |a: f64, b: Option<f64>| b.map_or_else(String::new, |b| format!("{:.2}×", a / b.max(1e-9)));
    #[allow(clippy::cast_precision_loss, reason = "ratios for display")]
    let bytes_f = |b: u64| b as f64;
    let mut targets = Vec::new();
    for f in ferry {
        let (run, bytes) = (f.run, f.bytes);
        let vs_duck_time = duck.map(|d| d.seconds);
        let vs_import_time = import.map(|i| i.seconds);
        let vs_duck_size = duck.map(|d| bytes_f(d.db_bytes));
        let _ = writeln!(
            md,
            "| {} | {:.2} | {:.0} | {:.1} | {:.1} | {} | {} | {} |",
            run.label,
            f.seconds,
            rate(rows, f.seconds),
            f.peak_rss_mb,
            file_mb(bytes),
            ratio(f.seconds, vs_duck_time),
            ratio(f.seconds, vs_import_time),
            ratio(bytes_f(bytes), vs_duck_size),
        );
        let verdict = |got: Option<f64>, limit: f64| {
            got.map_or_else(
                || format!("≤ {limit}×: the peer was not measured"),
                |g| format!("{g:.2}× (target ≤ {limit}×: {})", if g <= limit { "met" } else { "not met" }),
            )
        };
        match run.target {
            ArchiveTarget::None => {}
            ArchiveTarget::Isolation { cost: limit } => {
                let base = ferry.first().map_or(f.seconds, |b| b.seconds);
                let got = f.seconds / base.max(1e-9) - 1.0;
                targets.push(format!(
                    "- {}: {:+.1}% time over the same run in process ({:.2} s against {:.2} s; target under {:.0}%: {}).",
                    run.label,
                    100.0 * got,
                    f.seconds,
                    base,
                    100.0 * limit,
                    if got < limit { "met" } else { "not met" }
                ));
            }
            ArchiveTarget::DuckDb { time, size } => targets.push(format!(
                "- {}: time {} DuckDB's typed load; file {} DuckDB's SQLite file.",
                run.label,
                verdict(vs_duck_time.map(|d| f.seconds / d), time),
                verdict(vs_duck_size.map(|d| bytes_f(bytes) / d), size)
            )),
            ArchiveTarget::SqliteImport { time } => targets.push(format!(
                "- {}: time {} `sqlite3 .import`.",
                run.label,
                verdict(vs_import_time.map(|i| f.seconds / i), time)
            )),
        }
    }
    let _ = writeln!(md);
    if let Some(d) = duck {
        let load = d.load_seconds.map_or_else(String::new, |s| {
            format!(
                " Of its {:.2} s, {s:.2} s are the load itself (connecting to the last table committed; the rest is Python starting and importing DuckDB).",
                d.seconds
            )
        });
        let loaded = if d.dropped() == 0 {
            format!("DuckDB loaded {} of the {rows} rows.", d.rows())
        } else {
            format!(
                "DuckDB loaded {} of the {rows} rows: it skipped {} that it could not read (`store_rejects`; by file, with its error types: {}).",
                d.rows(),
                d.dropped(),
                d.dropped_detail()
            )
        };
        let _ = writeln!(
            md,
            "{loaded}{load} Its column names are its own, from the header lines, and so are its types (dates it recognises are written as ISO text).\n"
        );
    }
    if let Some(i) = import {
        let _ = writeln!(md, "`sqlite3 .import` loaded {} of the {rows} rows.\n", i.rows());
    }
    if !targets.is_empty() {
        let _ = writeln!(md, "Against the targets:\n\n{}\n", targets.join("\n"));
    }
}

/// The isolation cost of `iso` over `base`, as `+12%`.
fn cost(base: f64, iso: f64) -> String {
    format!("{:+.0}%", 100.0 * (iso / base.max(1e-9) - 1.0))
}

/// CSV → CSV in `dir` in process and isolated (median of three each).
fn csv_pair(
    ferry: &Path,
    plugins: &Path,
    dir: &Path,
    rows: u64,
    one_core: bool,
) -> Result<(Measured, Measured)> {
    let base = ["migrate", "--from", "csv:source.toml", "--to", "csv", "--to-set", "directory=out"];
    let mut pair = Vec::new();
    for extra in [&[][..], &["--isolate"][..]] {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let m = median_of(3, || measure(ferry, plugins, dir, &args, one_core))?;
        if !m.report.contains(&format!("\"written\": {rows}")) {
            return Err(format!("CSV → CSV {extra:?} did not write all {rows} rows:\n{}", m.report));
        }
        pair.push(m);
    }
    let iso = pair.pop().ok_or("no run")?;
    let m = pair.pop().ok_or("no run")?;
    Ok((m, iso))
}

/// `cargo xtask bench --isolation-only`: the cost of `--isolate` on CSV →
/// CSV and on PowerSchool → archive, at the sizes asked, printed;
/// docs/performance.md is untouched. With `--debug`, on the debug build.
fn isolation_only(args: &BenchArgs) -> Result {
    let built = tasks::build_plugins(!args.debug)?;
    let bench_dir = tasks::target_dir().join(if args.debug { "bench-debug" } else { "bench" });
    let rows: u64 = if args.quick { 100_000 } else { 1_000_000 };
    let dir = bench_dir.join(format!("csv-{rows}"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let input = dir.join("students.csv");
    if !input.exists() {
        gen_students_csv(&input, rows)?;
    }
    std::fs::write(dir.join("source.toml"), CSV_SOURCE).map_err(|e| e.to_string())?;
    let profile = if args.debug { "debug build" } else { "release build" };
    println!("isolation cost ({profile}, median of three each):");
    for one_core in [true, false] {
        let (m, iso) = csv_pair(&built.ferry, &built.plugins, &dir, rows, one_core)?;
        println!(
            "  CSV → CSV, {rows} rows, {} core(s): in process {:.2} s, isolated {:.2} s ({})",
            if one_core { 1 } else { 2 },
            m.seconds,
            iso.seconds,
            cost(m.seconds, iso.seconds)
        );
    }
    let students = args.students.unwrap_or(if args.quick { 2_000 } else { 20_000 });
    let ps_dir = bench_dir.join(format!("powerschool-{students}"));
    let export = ps_dir.join("export");
    let manifest = district(students, &export)?;
    let from = format!("powerschool:{}", export.join(ferry_gen::SOURCE_CONFIG_FILE).display());
    let archive = ps_dir.join("archive-isolation.sqlite");
    let path = format!("path={}", archive.display());
    let mut figures = Vec::new();
    for extra in [&[][..], &["--isolate"][..]] {
        let args: Vec<&str> =
            ["migrate", "--from", &from, "--to", "sqlite", "--to-set", &path, "--to-set", "tables=all"]
                .iter()
                .chain(extra)
                .copied()
                .collect();
        let m = median_of(3, || {
            let _ = std::fs::remove_file(&archive);
            measure(&built.ferry, &built.plugins, &ps_dir, &args, false)
        })?;
        figures.push(m.seconds);
    }
    let _ = std::fs::remove_file(&archive);
    println!(
        "  PowerSchool → archive, {students} students ({} source rows), 2 cores: in process {:.2} s, isolated {:.2} s ({})",
        manifest.total_rows(),
        figures[0],
        figures[1],
        cost(figures[0], figures[1])
    );
    Ok(())
}

/// Builds the fake PowerSchool server's binary; its path.
fn build_fake(release: bool) -> Result<PathBuf> {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(tasks::root()).args(["build", "--locked", "-p", "ferry-e2e", "--bin", "fake_powerschool"]);
    if release {
        c.arg("--release");
    }
    tasks::run(c)?;
    Ok(tasks::target_dir().join(if release { "release" } else { "debug" }).join("fake_powerschool"))
}

/// Pages the fake serves in the API benchmark, and the requests in flight.
const API_PAGE_SIZE: u32 = 500;
const API_CONCURRENCY: u32 = 4;

/// Canonical records read (every entity's `read`) in a run report.
fn records_read(report: &str) -> Result<u64> {
    let v: serde_json::Value = serde_json::from_str(report).map_err(|e| format!("the run report: {e}"))?;
    let entities = v["entities"].as_array().ok_or("the run report has no entities")?;
    Ok(entities.iter().filter_map(|e| e["read"].as_u64()).sum())
}

/// Section 5: the district in `export` read through the API of the fake
/// server (`fake`, its binary) into CSV, against the export read into CSV;
/// one run each, as a markdown table.
fn api_section(ferry: &Path, plugins: &Path, fake: &Path, work: &Path, export: &Path) -> Result<String> {
    let mut child = Command::new(fake)
        .arg(export)
        .args(["--page-size", &API_PAGE_SIZE.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", fake.display()))?;
    let mut lines = String::new();
    {
        let out = child.stdout.as_mut().ok_or("the fake's stdout")?;
        let mut buf = [0u8; 1];
        // Three lines: url=, client_id=, client_secret=.
        while lines.matches('\n').count() < 3 {
            match out.read(&mut buf) {
                Ok(1) => lines.push(char::from(buf[0])),
                _ => return Err(format!("the fake server ended before giving its address: {lines}")),
            }
        }
    }
    let field = |k: &str| {
        lines
            .lines()
            .find_map(|l| l.strip_prefix(k).map(str::to_owned))
            .ok_or(format!("the fake gave no {k}"))
    };
    let (url, id, secret) = (field("url=")?, field("client_id=")?, field("client_secret=")?);
    let secret_file = work.join("ps-api-secret.txt");
    std::fs::write(&secret_file, &secret).map_err(|e| e.to_string())?;
    let out_api = work.join("csv-out-api");
    let out_export = work.join("csv-out-export");
    let from = format!("powerschool:{}", export.join(ferry_gen::SOURCE_CONFIG_FILE).display());
    let state = work.join("ps-api-state");
    let api_args: Vec<String> = vec![
        "migrate".into(),
        "--from".into(),
        "powerschool".into(),
        "--from-set".into(),
        format!("directory={url}"),
        "--from-set".into(),
        format!("client_id={id}"),
        "--from-set".into(),
        format!("client_secret={{ file = \"{}\" }}", secret_file.display()),
        "--from-set".into(),
        format!("concurrency={API_CONCURRENCY}"),
        "--from-set".into(),
        format!("state_dir=\"{}\"", state.display()),
        "--to".into(),
        "csv".into(),
        "--to-set".into(),
        format!("directory={}", out_api.display()),
    ];
    let api_refs: Vec<&str> = api_args.iter().map(String::as_str).collect();
    let api = measure(ferry, plugins, work, &api_refs, false);
    drop(child.stdin.take());
    let _ = child.wait();
    let api = api?;
    let exp = measure(
        ferry,
        plugins,
        work,
        &[
            "migrate",
            "--from",
            &from,
            "--to",
            "csv",
            "--to-set",
            &format!("directory={}", out_export.display()),
        ],
        false,
    )?;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "| read | seconds | canonical records read | records/s | peak MB |\n|---|---|---|---|---|"
    );
    for (what, m) in [
        (format!("API, pages of {API_PAGE_SIZE}, {API_CONCURRENCY} in flight"), &api),
        ("export folder".to_owned(), &exp),
    ] {
        let n = records_read(&m.report)?;
        let _ = writeln!(
            md,
            "| {what} | {:.2} | {n} | {:.0} | {:.1} |",
            m.seconds,
            rate(n, m.seconds),
            m.peak_rss_mb
        );
    }
    let _ = writeln!(
        md,
        "\nThe API read fetches every page over loopback HTTP from the fake server (no latency, no 429s), brings each JSON record down to an export row, stages the pages in an owner-only folder, then maps them as the export read does; by default the API mode reads the tables the connector maps, not the district's `U_`/`S_` extension tables (they would be listed in `tables`), so the students carry fewer extensions than from the export. A real server's latency and rate limits, not the connector, set the pace of a real read.\n"
    );
    Ok(md)
}

/// `cargo xtask bench --api-only`: section 5 alone, printed;
/// docs/performance.md is untouched. With `--debug`, on the debug build.
fn api_only(args: &BenchArgs) -> Result {
    let built = tasks::build_plugins(!args.debug)?;
    let fake = build_fake(!args.debug)?;
    let bench_dir = tasks::target_dir().join(if args.debug { "bench-debug" } else { "bench" });
    let students = args.api_students();
    let ps_dir = bench_dir.join(format!("powerschool-{students}"));
    let export = ps_dir.join("export");
    district(students, &export)?;
    let profile = if args.debug { "debug build" } else { "release build" };
    println!("PowerSchool REST API source → CSV, {students} students ({profile}):\n");
    print!("{}", api_section(&built.ferry, &built.plugins, &fake, &ps_dir, &export)?);
    Ok(())
}

/// `cargo xtask bench --peers-only`: the two peers of section 4 on the
/// district (or `--export DIR`), printed; docs/performance.md is untouched.
fn peers_only(args: &BenchArgs) -> Result {
    let bench_dir = tasks::target_dir().join("bench");
    let (export, work) = match &args.export {
        Some(dir) => (dir.clone(), bench_dir.join("peers")),
        None => {
            let ps_dir = bench_dir.join(format!("powerschool-{}", args.students()));
            (ps_dir.join("export"), ps_dir)
        }
    };
    let manifest = match &args.export {
        Some(_) => read_manifest(&export)?,
        None => district(args.students(), &export)?,
    };
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let import = sqlite_import(&export, &manifest, &work.join("import.sqlite"))?;
    let duck = duckdb_typed_load(&export, &manifest, &work.join("duckdb.sqlite"))?;
    let rows = manifest.total_rows();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nPeers on {} ({rows} rows in {} files), medians of 3:\n",
        export.display(),
        manifest.files.len()
    );
    let _ = writeln!(
        out,
        "| peer | seconds (process) | seconds (own) | rows | dropped | rows/s | peak MB | file bytes |\n|---|---|---|---|---|---|---|---|"
    );
    for (what, p) in [("sqlite3 .import (text, untyped)", &import), ("DuckDB typed load into SQLite", &duck)]
    {
        let _ = writeln!(
            out,
            "| {what} | {:.3} | {} | {} | {} | {:.0} | {:.1} | {} |",
            p.seconds,
            p.load_seconds.map_or_else(String::new, |s| format!("{s:.3}")),
            p.rows(),
            p.dropped(),
            rate(rows, p.seconds),
            p.peak_rss_mb,
            p.db_bytes
        );
    }
    let _ = writeln!(
        out,
        "\n| table | file | manifest rows | sqlite3 rows | DuckDB rows | DuckDB rejects |\n|---|---|---|---|---|---|"
    );
    for (i, d) in import.tables.iter().zip(&duck.tables) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            d.table, d.file, d.expected, i.rows, d.rows, d.note
        );
    }
    let _ = writeln!(
        out,
        "\nDatabases: {} and {}",
        work.join("import.sqlite").display(),
        work.join("duckdb.sqlite").display()
    );
    print!("{out}");
    Ok(())
}

/// Quotes `s` as an SQL identifier.
fn sql_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The `sqlite3` shell's escapes for a double-quoted dot-command argument.
fn shell_arg(c: char) -> String {
    match c {
        '\t' => "\\t".into(),
        '"' => "\\\"".into(),
        '\\' => "\\\\".into(),
        c => c.to_string(),
    }
}

/// Times `sqlite3 .import` of every export file into a fresh database, one
/// plain text table per file named like the PowerSchool table (median of
/// three): each file with its own delimiter, quotes read as CSV quotes, a
/// headerless file into a table made first with the manifest's columns.
fn sqlite_import(export: &Path, manifest: &ferry_gen::GenManifest, db: &Path) -> Result<PeerFigures> {
    let mut script = String::from(".bail on\n.mode csv\nBEGIN;\n");
    for f in &manifest.files {
        let _ = writeln!(script, ".separator \"{}\" \"\\n\"", shell_arg(f.delimiter));
        if f.header == ferry_gen::HeaderStyle::None {
            let cols: Vec<String> = f.columns.iter().map(|c| format!("{} TEXT", sql_ident(c))).collect();
            let _ = writeln!(script, "CREATE TABLE {}({});", sql_ident(&f.table), cols.join(", "));
        }
        let _ = writeln!(script, ".import '{}' '{}'", export.join(&f.name).display(), f.table);
    }
    script.push_str("COMMIT;\n");
    let script_path = db.with_extension("sql");
    std::fs::write(&script_path, &script)
        .map_err(|e| format!("cannot write {}: {e}", script_path.display()))?;

    let mut figures = median_of(3, || {
        let _ = std::fs::remove_file(db);
        let stdin = std::fs::File::open(&script_path).map_err(|e| e.to_string())?;
        let mut cmd = Command::new("sqlite3");
        cmd.arg(db).stdin(stdin);
        let ran = run_polled(&mut cmd, "sqlite3 (is it installed?)")?;
        if !ran.status.success() {
            return Err(format!(
                "sqlite3 failed: {}",
                ran.stderr.lines().take(20).collect::<Vec<_>>().join("\n")
            ));
        }
        Ok(PeerFigures {
            seconds: ran.wall,
            load_seconds: None,
            peak_rss_mb: ran.peak_rss_mb,
            db_bytes: file_len(db),
            tables: Vec::new(),
        })
    })?;

    // Rows per table, outside the timing.
    let count: Vec<String> =
        manifest.files.iter().map(|f| format!("SELECT count(*) FROM {}", sql_ident(&f.table))).collect();
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(count.join(" UNION ALL "))
        .output()
        .map_err(|e| format!("sqlite3: {e}"))?;
    if !out.status.success() {
        return Err(format!("sqlite3 could not count the rows: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let counts = String::from_utf8_lossy(&out.stdout);
    let counts: Vec<u64> = counts.lines().map(|l| l.trim().parse().unwrap_or(0)).collect();
    if counts.len() != manifest.files.len() {
        return Err(format!("sqlite3 counted {} tables, not {}", counts.len(), manifest.files.len()));
    }
    figures.tables = manifest
        .files
        .iter()
        .zip(counts)
        .map(|(f, rows)| PeerTable {
            table: f.table.clone(),
            file: f.name.clone(),
            expected: f.rows,
            rows,
            note: String::new(),
        })
        .collect();
    Ok(figures)
}

// ---------------------------------------------------------------------------
// The DuckDB peer.

/// The DuckDB release the peer runs, from the Python registry.
const DUCKDB_VERSION: &str = "1.4.4";
/// DuckDB and its sqlite extension (the extension packaged for pip, so no
/// `INSTALL` from the network at run time).
const DUCKDB_PACKAGES: &[&str] = &["duckdb==1.4.4", "duckdb-ext-sqlite==1.4.4.20260205"];
/// For a Windows-1252 export only (DuckDB reads UTF-8 by itself); large.
const DUCKDB_ENCODINGS_PACKAGE: &str = "duckdb-ext-encodings==1.4.4.20260205";
/// The load script, written into target/bench for each run.
const DUCKDB_LOAD_PY: &str = include_str!("../duckdb_load.py");

/// The bench's Python with DuckDB, and the extension files to `LOAD`.
struct DuckDbEnv {
    python: PathBuf,
    extensions: Vec<PathBuf>,
}

/// `<venv>/lib/python3.*/site-packages/duckdb_ext/extensions/v<version>/<platform>/<name>.duckdb_extension`.
fn find_extension(venv: &Path, name: &str) -> Option<PathBuf> {
    let mut libs: Vec<PathBuf> = std::fs::read_dir(venv.join("lib"))
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("python3")))
        .collect();
    libs.sort();
    libs.iter().find_map(|lib| {
        let dir = lib.join("site-packages/duckdb_ext/extensions").join(format!("v{DUCKDB_VERSION}"));
        let mut platforms: Vec<PathBuf> =
            std::fs::read_dir(dir).ok()?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        platforms.sort();
        platforms.into_iter().map(|p| p.join(format!("{name}.duckdb_extension"))).find(|f| f.is_file())
    })
}

/// The environment when `venv` already has DuckDB and the extensions.
fn duckdb_env_ready(venv: &Path, python: &Path, wanted: &[&str]) -> Option<DuckDbEnv> {
    let v = Command::new(python)
        .args(["-c", "import duckdb, sys; sys.stdout.write(duckdb.__version__)"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !v.status.success() || v.stdout != DUCKDB_VERSION.as_bytes() {
        return None;
    }
    let extensions = wanted.iter().map(|n| find_extension(venv, n)).collect::<Option<Vec<_>>>()?;
    Some(DuckDbEnv { python: python.to_path_buf(), extensions })
}

/// `target/bench/venv`, made with `python3 -m venv` and filled by pip on
/// first use, reused as it is when it already has everything.
fn duckdb_env(bench_dir: &Path, encodings: bool) -> Result<DuckDbEnv> {
    let venv = bench_dir.join("venv");
    let python = venv.join("bin").join("python");
    let wanted: &[&str] = if encodings { &["sqlite_scanner", "encodings"] } else { &["sqlite_scanner"] };
    if let Some(env) = duckdb_env_ready(&venv, &python, wanted) {
        return Ok(env);
    }
    let works = |p: &Path| Command::new(p).args(["-c", "pass"]).output().is_ok_and(|o| o.status.success());
    if venv.exists() && !works(&python) {
        // A venv whose interpreter is gone (the base Python moved): anew.
        std::fs::remove_dir_all(&venv).map_err(|e| format!("cannot remove {}: {e}", venv.display()))?;
    }
    if !python.exists() {
        std::fs::create_dir_all(bench_dir).map_err(|e| e.to_string())?;
        eprintln!("$ python3 -m venv {}", venv.display());
        let out = Command::new("python3").args(["-m", "venv"]).arg(&venv).output().map_err(|e| {
            format!(
                "the DuckDB peer needs python3, which was not found ({e}); install Python 3 with its venv module (Debian: apt-get install python3 python3-venv)"
            )
        })?;
        if !out.status.success() {
            let _ = std::fs::remove_dir_all(&venv);
            return Err(format!(
                "python3 -m venv {} failed; the DuckDB peer needs Python's venv module with pip (Debian: apt-get install python3-venv):\n{}",
                venv.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    let mut pip = Command::new(&python);
    pip.args(["-m", "pip", "install", "--disable-pip-version-check", "--quiet"]).args(DUCKDB_PACKAGES);
    if encodings {
        pip.arg(DUCKDB_ENCODINGS_PACKAGE);
    }
    eprintln!("$ {pip:?}");
    let out = pip.output().map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("No module named pip") {
            return Err(format!(
                "the venv {} has no pip; the DuckDB peer needs it (Debian: apt-get install python3-pip python3-venv, then remove the venv)",
                venv.display()
            ));
        }
        return Err(format!("pip could not install {}:\n{}", DUCKDB_PACKAGES.join(" "), err.trim()));
    }
    duckdb_env_ready(&venv, &python, wanted).ok_or_else(|| {
        format!(
            "pip installed {} into {}, but DuckDB {DUCKDB_VERSION} or its extension files ({}) are not where the bench looks: lib/python3.*/site-packages/duckdb_ext/extensions/v{DUCKDB_VERSION}/<platform>/",
            DUCKDB_PACKAGES.join(" "),
            venv.display(),
            wanted.join(", ")
        )
    })
}

/// A JSON string literal.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The script's input: the extension files, then every export file of the
/// manifest with its layout.
fn duckdb_spec(export: &Path, manifest: &ferry_gen::GenManifest, extensions: &[PathBuf]) -> String {
    let exts: Vec<String> = extensions.iter().map(|e| json_str(&e.display().to_string())).collect();
    let mut spec = format!("{{\n  \"extensions\": [{}],\n  \"files\": [\n", exts.join(", "));
    for (i, f) in manifest.files.iter().enumerate() {
        let cols: Vec<String> = f.columns.iter().map(|c| json_str(c)).collect();
        let encoding = match f.encoding {
            ferry_gen::TextEncoding::Utf8 => "utf-8",
            // DuckDB's name for it (the encodings extension).
            ferry_gen::TextEncoding::Cp1252 => "CP1252",
        };
        let _ = writeln!(
            spec,
            "    {{\"path\": {}, \"table\": {}, \"rows\": {}, \"delimiter\": {}, \"header\": {}, \"columns\": [{}], \"quoted\": {}, \"encoding\": {}}}{}",
            json_str(&export.join(&f.name).display().to_string()),
            json_str(&f.table),
            f.rows,
            json_str(&f.delimiter.to_string()),
            json_str(f.header.label()),
            cols.join(", "),
            f.quoted,
            json_str(encoding),
            if i + 1 < manifest.files.len() { "," } else { "" }
        );
    }
    spec.push_str("  ]\n}\n");
    spec
}

/// The raw text of `"key": value` in one line of the script's JSON (a string
/// value unquoted, without escapes beyond `\"` and `\\`).
fn json_field(line: &str, key: &str) -> Option<String> {
    let rest = &line[line.find(&format!("\"{key}\": "))? + key.len() + 4..];
    if let Some(body) = rest.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return Some(out),
                '\\' => out.push(chars.next()?),
                c => out.push(c),
            }
        }
        None
    } else {
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        Some(rest[..end].trim().to_owned())
    }
}

/// Reads the script's output (one table per line) into figures; the time
/// and memory are the process's, filled in by the caller.
fn parse_duckdb_output(stdout: &str) -> Result<PeerFigures> {
    let bad = |what: &str| format!("the DuckDB script's output has no {what}:\n{stdout}");
    let num = |line: &str, key: &str| json_field(line, key).and_then(|v| v.parse::<u64>().ok());
    let mut load_seconds = None;
    let mut db_bytes = None;
    let mut tables = Vec::new();
    for line in stdout.lines().map(str::trim) {
        if line.starts_with("{\"table\"") {
            tables.push(PeerTable {
                table: json_field(line, "table").ok_or_else(|| bad("table name"))?,
                file: json_field(line, "file").ok_or_else(|| bad("file name"))?,
                expected: num(line, "expected").ok_or_else(|| bad("expected rows"))?,
                rows: num(line, "rows").ok_or_else(|| bad("rows"))?,
                note: json_field(line, "errors").unwrap_or_default(),
            });
        } else if line.starts_with("\"seconds\"") {
            load_seconds = json_field(line, "seconds").and_then(|v| v.parse::<f64>().ok());
        } else if line.starts_with("\"db_bytes\"") {
            db_bytes = num(line, "db_bytes");
        }
    }
    Ok(PeerFigures {
        seconds: 0.0,
        load_seconds: Some(load_seconds.ok_or_else(|| bad("seconds"))?),
        peak_rss_mb: 0.0,
        db_bytes: db_bytes.ok_or_else(|| bad("db_bytes"))?,
        tables,
    })
}

/// DuckDB's typed load of every export file into the SQLite database `db`
/// (see xtask/duckdb_load.py), run with the bench venv's Python and timed as
/// a whole process, the median of three runs.
fn duckdb_typed_load(export: &Path, manifest: &ferry_gen::GenManifest, db: &Path) -> Result<PeerFigures> {
    let bench_dir = tasks::target_dir().join("bench");
    let cp1252 = manifest.files.iter().any(|f| f.encoding != ferry_gen::TextEncoding::Utf8);
    let env = duckdb_env(&bench_dir, cp1252)?;
    let script = bench_dir.join("duckdb_load.py");
    std::fs::write(&script, DUCKDB_LOAD_PY).map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    let spec_path = db.with_extension("spec.json");
    std::fs::write(&spec_path, duckdb_spec(export, manifest, &env.extensions))
        .map_err(|e| format!("cannot write {}: {e}", spec_path.display()))?;
    median_of(3, || {
        let mut cmd = Command::new(&env.python);
        cmd.arg(&script).arg(&spec_path).arg(db);
        let ran = run_polled(&mut cmd, "the DuckDB load")?;
        if !ran.status.success() {
            return Err(format!("the DuckDB load failed ({}): {}", ran.status, ran.stderr.trim()));
        }
        let mut figures = parse_duckdb_output(&ran.stdout)?;
        if figures.tables.len() != manifest.files.len() {
            return Err(format!(
                "the DuckDB load reported {} tables, not {}",
                figures.tables.len(),
                manifest.files.len()
            ));
        }
        figures.seconds = ran.wall;
        figures.peak_rss_mb = ran.peak_rss_mb;
        Ok(figures)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT_OUTPUT: &str = r#"{
  "seconds": 1.25,
  "db_bytes": 17039360,
  "tables": [
    {"table": "Schools", "file": "schools.txt", "expected": 11, "rows": 11, "dropped": 0, "errors": ""},
    {"table": "Attendance", "file": "attendance.txt", "expected": 64480, "rows": 64477, "dropped": 3, "errors": "CAST: 3, TOO MANY COLUMNS: 3"}
  ]
}
"#;

    #[test]
    fn reads_the_duckdb_scripts_output() {
        let p = parse_duckdb_output(SCRIPT_OUTPUT).unwrap();
        assert_eq!(p.load_seconds, Some(1.25));
        assert_eq!(p.db_bytes, 17_039_360);
        assert_eq!(p.tables.len(), 2);
        assert_eq!(p.tables[1].table, "Attendance");
        assert_eq!(p.tables[1].note, "CAST: 3, TOO MANY COLUMNS: 3");
        assert_eq!((p.rows(), p.dropped()), (64_488, 3));
        assert_eq!(p.dropped_detail(), "attendance.txt 3 (CAST: 3, TOO MANY COLUMNS: 3)");
        assert!(parse_duckdb_output("Traceback …").is_err());
    }

    #[test]
    fn json_fields_and_strings() {
        assert_eq!(json_field(r#"{"a": "x\"y", "b": 7}"#, "a").as_deref(), Some("x\"y"));
        assert_eq!(json_field(r#"{"a": "x", "b": 7}"#, "b").as_deref(), Some("7"));
        assert_eq!(json_field(r#"{"a": 1}"#, "c"), None);
        assert_eq!(json_str("a\t\"b\\"), r#""a\u0009\"b\\""#);
    }

    #[test]
    fn the_spec_names_every_file_with_its_layout() {
        let text = "format = \"ferry-gen-manifest/1\"\nsystem = \"powerschool\"\nstudents = 1\nseed = 1\nquirks = true\nencoding = \"windows-1252\"\ntotal_rows = 3\ntotal_rejects = 0\n\n[[files]]\nname = \"sections.txt\"\ntable = \"Sections\"\nrows = 3\nheader = \"none\"\ncolumns = [\"ID\", \"DCID\"]\ndelimiter = \"\\t\"\nquoted = false\nline_ending = \"lf\"\nbom = false\nencoding = \"windows-1252\"\nrejects = {  }\n";
        let m = ferry_gen::GenManifest::parse(text).unwrap();
        let spec = duckdb_spec(Path::new("/x"), &m, &[PathBuf::from("/v/sqlite_scanner.duckdb_extension")]);
        assert!(spec.contains(r#""extensions": ["/v/sqlite_scanner.duckdb_extension"]"#), "{spec}");
        assert!(spec.contains(r#""path": "/x/sections.txt", "table": "Sections", "rows": 3"#), "{spec}");
        assert!(
            spec.contains(r#""delimiter": "\u0009", "header": "none", "columns": ["ID", "DCID"]"#),
            "{spec}"
        );
        assert!(spec.contains(r#""quoted": false, "encoding": "CP1252"}"#), "{spec}");
    }

    fn peer(seconds: f64, db_bytes: u64) -> PeerFigures {
        PeerFigures {
            seconds,
            load_seconds: Some(seconds * 0.8),
            peak_rss_mb: 80.0,
            db_bytes,
            tables: vec![PeerTable {
                table: "CC".into(),
                file: "cc.txt".into(),
                expected: 1000,
                rows: 997,
                note: "TOO MANY COLUMNS: 3".into(),
            }],
        }
    }

    static FULL: FerryArchiveRun = FerryArchiveRun {
        label: "ferry → archive (source + canonical)",
        file: "a.sqlite",
        to_set: &["tables=all"],
        args: &[],
        target: ArchiveTarget::DuckDb { time: 2.0, size: 2.5 },
    };
    static UNTARGETED: FerryArchiveRun = FerryArchiveRun {
        label: "ferry → archive (reported only)",
        file: "u.sqlite",
        to_set: &[],
        args: &[],
        target: ArchiveTarget::None,
    };
    static SOURCE: FerryArchiveRun = FerryArchiveRun {
        label: "ferry → source tables only",
        file: "s.sqlite",
        to_set: &["tables=source"],
        args: &[],
        target: ArchiveTarget::SqliteImport { time: 1.0 },
    };

    #[test]
    fn the_archive_table_has_the_ratios_and_the_targets() {
        let import = peer(2.0, 1 << 20);
        let duck = peer(4.0, 2 << 20);
        let ferry = [
            FerryArchiveFigures { run: &UNTARGETED, seconds: 10.0, peak_rss_mb: 700.0, bytes: 10 << 20 },
            FerryArchiveFigures { run: &FULL, seconds: 6.0, peak_rss_mb: 700.0, bytes: 4 << 20 },
            FerryArchiveFigures { run: &SOURCE, seconds: 3.0, peak_rss_mb: 300.0, bytes: 1 << 20 },
        ];
        let mut md = String::new();
        write_archive_table(&mut md, 1000, Some(&import), Some(&duck), &ferry);
        assert!(md.contains("| `sqlite3 .import` (text, untyped) | 2.00 | 500 | 80.0 | 1.0 | | | |"), "{md}");
        assert!(md.contains("| DuckDB typed load into SQLite | 4.00 | 250 | 80.0 | 2.0 | | | |"), "{md}");
        assert!(
            md.contains(&format!(
                "| {} | 10.00 | 100 | 700.0 | 10.0 | 2.50× | 5.00× | 5.00× |",
                UNTARGETED.label
            )),
            "{md}"
        );
        assert!(
            md.contains(
                "| ferry → archive (source + canonical) | 6.00 | 167 | 700.0 | 4.0 | 1.50× | 3.00× | 2.00× |"
            ),
            "{md}"
        );
        assert!(
            md.contains("time 1.50× (target ≤ 2×: met) DuckDB's typed load; file 2.00× (target ≤ 2.5×: met)"),
            "{md}"
        );
        assert!(
            md.contains("- ferry → source tables only: time 1.50× (target ≤ 1×: not met) `sqlite3 .import`."),
            "{md}"
        );
        assert!(md.contains("DuckDB loaded 997 of the 1000 rows: it skipped 3 that it could not read (`store_rejects`; by file, with its error types: cc.txt 3 (TOO MANY COLUMNS: 3))."), "{md}");
        assert!(!md.contains(&format!("- {}", UNTARGETED.label)), "no target for the current archive: {md}");

        let mut md = String::new();
        write_archive_table(&mut md, 1000, None, None, &ferry[1..2]);
        assert!(md.contains("| DuckDB typed load into SQLite | not measured (see below) |"), "{md}");
        assert!(md.contains("| 6.00 | 167 | 700.0 | 4.0 |  |  |  |"), "{md}");
        assert!(md.contains("≤ 2×: the peer was not measured"), "{md}");
    }

    #[test]
    fn bench_arguments() {
        let a = |v: &[&str]| BenchArgs::parse(&v.iter().map(ToString::to_string).collect::<Vec<_>>());
        let b = a(&["--peers-only", "--students", "2000"]).unwrap();
        assert!(b.peers_only && b.students() == 2000);
        assert_eq!(a(&["--quick"]).unwrap().students(), 10_000);
        assert_eq!(a(&[]).unwrap().students(), 100_000);
        assert!(a(&["--peers-only", "--export", "/tmp/x"]).unwrap().export.is_some());
        assert!(a(&["--export", "/tmp/x"]).is_err());
        assert!(a(&["--peers-only", "--export", "/tmp/x", "--students", "3"]).is_err());
        assert!(a(&["--frobnicate"]).is_err());
    }
}
