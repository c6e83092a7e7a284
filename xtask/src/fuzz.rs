//! `cargo xtask fuzz`: the cargo-fuzz targets of `fuzz/`, on the nightly
//! toolchain.
//!
//! - `fuzz [--target T] [--seconds N]`: long runs (default 600 s per
//!   target, two at a time) that grow `fuzz/corpus/<target>/`, then minimize it
//!   (`cargo fuzz cmin`) and keep it under 48 KiB (the seeds and the smallest
//!   new inputs; the rest stays in `target/fuzz/corpus-extra/`, which later
//!   long runs read too); each run is added to `fuzz/runs.tsv`.
//! - `fuzz --ci [--seconds N]`: short runs (default 60 s per target) for CI;
//!   two fuzzers run at a time (one per core);
//!   new inputs go to a temporary folder, the kept corpus is only read.
//! - `fuzz --seed`: (re)writes the seed inputs of every corpus from the
//!   bundled sample, a generated PowerSchool district, the README's job
//!   files and the plugins' manifests.
//!
//! A crash fails the task; its input is copied to
//! `fuzz/regressions/<target>/`, which `cargo test -p ferry-fuzz-checks`
//! replays on the stable toolchain, and printed in hex.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::tasks::{Result, root, run, target_dir};

/// The fuzz targets, as in `fuzz/Cargo.toml`.
const TARGETS: &[&str] = &["text_reader", "powerschool_files", "config", "csv_config", "manifest", "bundle"];

/// No AddressSanitizer: Ferry's code is safe Rust (only ferry-host's plugin
/// loader, which no target uses, may use `unsafe`), and without it the build takes half the
/// time and each run goes about twice as fast. Panics, failed assertions,
/// timeouts and running out of memory are still found.
const SANITIZER: &str = "--sanitizer=none";

/// Bytes of inputs kept in `fuzz/corpus/<target>/` (the repository's copy).
const CORPUS_BUDGET: u64 = 48 * 1024;

/// The longest input a fuzzer makes (bytes).
const MAX_LEN: u32 = 8192;

/// `fuzz [--target T] [--seconds N] [--ci] [--seed]`.
pub fn run_cmd(args: &[String]) -> Result {
    let mut targets: Vec<String> = Vec::new();
    let mut seconds = None;
    let mut ci = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--target" => {
                let t = it.next().ok_or("--target needs a value")?;
                if !TARGETS.contains(&t.as_str()) {
                    return Err(format!("unknown fuzz target {t:?}; the targets are {}", TARGETS.join(", ")));
                }
                targets.push(t.clone());
            }
            "--seconds" => {
                let v = it.next().ok_or("--seconds needs a value")?;
                seconds = Some(v.parse::<u32>().map_err(|e| format!("--seconds {v:?}: {e}"))?);
            }
            "--ci" => ci = true,
            "--seed" => return seed(),
            other => return Err(format!("fuzz: unknown argument {other:?}")),
        }
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(|t| (*t).to_owned()).collect();
    }
    let seconds = seconds.unwrap_or(if ci { 60 } else { 600 });
    ensure_tools()?;
    let started = Instant::now();
    build()?;
    eprintln!("fuzz: targets built in {} s", started.elapsed().as_secs());
    // One fuzzer per core: the machine has two.
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
    let mut crashed = Vec::new();
    for group in targets.chunks(jobs) {
        let outcomes: Vec<(String, Result<Outcome>)> = std::thread::scope(|s| {
            let running: Vec<_> =
                group.iter().map(|t| (t.clone(), s.spawn(move || fuzz_one(t, seconds, ci)))).collect();
            running
                .into_iter()
                .map(|(t, h)| (t, h.join().unwrap_or_else(|_| Err("the fuzzer thread panicked".into()))))
                .collect()
        });
        for (t, outcome) in outcomes {
            let outcome = outcome?;
            if !ci {
                record(&t, seconds, &outcome)?;
            }
            if !outcome.crashes.is_empty() {
                crashed.push(format!("{t}: {}", outcome.crashes.join(", ")));
            }
        }
    }
    eprintln!("fuzz: done in {} s", started.elapsed().as_secs());
    if crashed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the fuzzers found crashes, kept as regressions (fix them, then commit the files; `cargo test -p ferry-fuzz-checks` replays them):\n  {}",
            crashed.join("\n  ")
        ))
    }
}

fn fuzz_dir() -> PathBuf {
    root().join("fuzz")
}

/// `cargo +nightly` in `fuzz/`, with a target folder of its own (the
/// instrumented build shares nothing with the stable one).
fn nightly_cargo() -> Command {
    let mut c = Command::new("cargo");
    c.arg("+nightly").current_dir(fuzz_dir()).env("CARGO_TARGET_DIR", target_dir().join("fuzz"));
    // The workspace's CARGO (stable) must not leak into the nightly build.
    c.env_remove("CARGO").env_remove("RUSTC").env_remove("RUSTUP_TOOLCHAIN");
    c
}

fn succeeds(mut c: Command) -> bool {
    c.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The nightly toolchain (installed on Ferry's machines) and cargo-fuzz
/// (installed from crates.io when missing).
fn ensure_tools() -> Result {
    let mut v = nightly_cargo();
    v.arg("--version");
    if !succeeds(v) {
        return Err("the nightly toolchain is missing: install it with `rustup toolchain install nightly --profile minimal`".into());
    }
    let mut f = nightly_cargo();
    f.args(["fuzz", "--version"]);
    if !succeeds(f) {
        eprintln!("fuzz: installing cargo-fuzz");
        let mut c = Command::new("cargo");
        c.args(["install", "cargo-fuzz", "--locked"]).env_remove("CARGO_TARGET_DIR");
        run(c)?;
    }
    Ok(())
}

fn build() -> Result {
    let mut c = nightly_cargo();
    c.args(["fuzz", "build", SANITIZER]);
    run(c)
}

/// What one fuzzer run did.
struct Outcome {
    runs: u64,
    corpus_files: usize,
    corpus_bytes: u64,
    crashes: Vec<String>,
}

/// Files and bytes of a folder.
fn size_of(dir: &Path) -> (usize, u64) {
    std::fs::read_dir(dir).map_or((0, 0), |entries| {
        entries
            .filter_map(|e| e.ok()?.metadata().ok())
            .filter(std::fs::Metadata::is_file)
            .fold((0, 0), |(n, b), m| (n + 1, b + m.len()))
    })
}

fn fuzz_one(target: &str, seconds: u32, ci: bool) -> Result<Outcome> {
    let corpus = fuzz_dir().join("corpus").join(target);
    std::fs::create_dir_all(&corpus).map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
    let artifacts = target_dir().join("fuzz/artifacts").join(target);
    if artifacts.exists() {
        std::fs::remove_dir_all(&artifacts)
            .map_err(|e| format!("cannot clear {}: {e}", artifacts.display()))?;
    }
    std::fs::create_dir_all(&artifacts).map_err(|e| format!("cannot create {}: {e}", artifacts.display()))?;
    // CI grows a scratch corpus and only reads the kept one.
    let scratch = target_dir().join("fuzz/scratch").join(target);
    let dirs: Vec<PathBuf> = if ci {
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch)
                .map_err(|e| format!("cannot clear {}: {e}", scratch.display()))?;
        }
        std::fs::create_dir_all(&scratch).map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
        vec![scratch.clone(), corpus.clone()]
    } else {
        // What did not fit the kept corpus's budget stays on this machine.
        let extra = extra_dir(target);
        std::fs::create_dir_all(&extra).map_err(|e| format!("cannot create {}: {e}", extra.display()))?;
        vec![corpus.clone(), extra]
    };
    let log = target_dir().join("fuzz").join(format!("{target}.log"));
    let mut c = nightly_cargo();
    c.args(["fuzz", "run", SANITIZER, target]).args(&dirs).arg("--").args([
        format!("-max_total_time={seconds}"),
        format!("-max_len={MAX_LEN}"),
        "-timeout=20".to_owned(),
        "-rss_limit_mb=3072".to_owned(),
        "-print_final_stats=1".to_owned(),
        format!("-artifact_prefix={}/", artifacts.display()),
    ]);
    let file = std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err = file.try_clone().map_err(|e| e.to_string())?;
    c.stdout(file).stderr(err);
    eprintln!("fuzz: {target} for {seconds} s (log: {})", log.display());
    let status = c.status().map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let runs = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let crashes = keep_crashes(target, &artifacts)?;
    if !status.success() && crashes.is_empty() {
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "cargo fuzz run {target} failed ({status}) without a crash input:\n{}",
            tail.join("\n")
        ));
    }
    if !crashes.is_empty() {
        // What the fuzzer said, for the CI log.
        for l in
            text.lines().filter(|l| l.contains("panicked at") || l.starts_with("==") || l.contains("SUMMARY"))
        {
            eprintln!("  {l}");
        }
    }
    if !ci {
        // Crash or not, what was found is worth keeping. cmin renames every
        // input by its hash: the seeds are written again under their names.
        minimize(target)?;
        seed_quietly()?;
        trim(target)?;
    }
    let (corpus_files, corpus_bytes) = size_of(&corpus);
    eprintln!("fuzz: {target}: {runs} runs, corpus {corpus_files} files, {corpus_bytes} bytes");
    Ok(Outcome { runs, corpus_files, corpus_bytes, crashes })
}

/// Copies crash inputs to `fuzz/regressions/<target>/`, printing each in hex.
fn keep_crashes(target: &str, artifacts: &Path) -> Result<Vec<String>> {
    let mut kept = Vec::new();
    let Ok(entries) = std::fs::read_dir(artifacts) else { return Ok(kept) };
    let dest = fuzz_dir().join("regressions").join(target);
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        if !["crash-", "timeout-", "oom-", "leak-"].iter().any(|p| name.starts_with(p)) {
            continue;
        }
        std::fs::create_dir_all(&dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
        let data = std::fs::read(e.path()).map_err(|e| format!("cannot read {name}: {e}"))?;
        std::fs::write(dest.join(&name), &data).map_err(|e| format!("cannot write {name}: {e}"))?;
        let hex: String = data.iter().take(4096).map(|b| format!("{b:02x}")).collect();
        eprintln!(
            "fuzz: {target}: {name} ({} bytes) kept in fuzz/regressions/{target}/; hex: {hex}",
            data.len()
        );
        kept.push(name);
    }
    Ok(kept)
}

/// Keeps the smallest corpus with the same coverage.
fn minimize(target: &str) -> Result {
    let mut c = nightly_cargo();
    c.args(["fuzz", "cmin", SANITIZER, target, "--", &format!("-max_len={MAX_LEN}"), "-rss_limit_mb=3072"]);
    c.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    run(c)
}

/// Where inputs beyond the kept corpus's budget go (not in the repository).
fn extra_dir(target: &str) -> PathBuf {
    target_dir().join("fuzz/corpus-extra").join(target)
}

/// Keeps the kept corpus under [`CORPUS_BUDGET`]: the seeds and the smallest
/// of the inputs the fuzzer added (small inputs are the distinct cases);
/// the others move to [`extra_dir`], which long runs still read.
fn trim(target: &str) -> Result {
    let corpus = fuzz_dir().join("corpus").join(target);
    let mut found: Vec<(u64, PathBuf)> = Vec::new();
    let mut used = 0u64;
    for e in std::fs::read_dir(&corpus).map_err(|e| format!("cannot read {}: {e}", corpus.display()))? {
        let e = e.map_err(|e| e.to_string())?;
        let len = e.metadata().map_err(|e| e.to_string())?.len();
        if e.file_name().to_string_lossy().starts_with("seed-") {
            used += len;
        } else {
            found.push((len, e.path()));
        }
    }
    found.sort();
    let extra = extra_dir(target);
    std::fs::create_dir_all(&extra).map_err(|e| format!("cannot create {}: {e}", extra.display()))?;
    for (len, path) in found {
        if used + len <= CORPUS_BUDGET {
            used += len;
            continue;
        }
        let dest = extra.join(path.file_name().unwrap_or_default());
        std::fs::rename(&path, &dest)
            .or_else(|_| std::fs::copy(&path, &dest).and_then(|_| std::fs::remove_file(&path)))
            .map_err(|e| format!("cannot move {} out of the corpus: {e}", path.display()))?;
    }
    Ok(())
}

/// Adds a long run to `fuzz/runs.tsv` (date, target, seconds, runs, corpus
/// files and bytes, crashes): the figures of `docs/reliability.md`.
fn record(target: &str, seconds: u32, o: &Outcome) -> Result {
    let path = fuzz_dir().join("runs.tsv");
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    if text.is_empty() {
        text.push_str("date\ttarget\tseconds\truns\tcorpus_files\tcorpus_bytes\tcrashes\n");
    }
    text.push_str(&format!(
        "{}\t{target}\t{seconds}\t{}\t{}\t{}\t{}\n",
        crate::tasks::today(),
        o.runs,
        o.corpus_files,
        o.corpus_bytes,
        o.crashes.len()
    ));
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Writes the seeds again (one long run at a time may do it: two threads
/// write the same bytes).
fn seed_quietly() -> Result {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _held = LOCK.lock().map_err(|_| "a seeding thread panicked".to_owned())?;
    seed()
}

/// Writes one seed input.
fn put(target: &str, name: &str, data: &[u8]) -> Result {
    let dir = fuzz_dir().join("corpus").join(target);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    std::fs::write(dir.join(format!("seed-{name}")), data)
        .map_err(|e| format!("cannot write seed {name}: {e}"))
}

/// The first `n` lines of a file (a header and a few rows).
fn head(data: &[u8], n: usize) -> Vec<u8> {
    let mut end = 0;
    for (i, _) in data.iter().enumerate().filter(|(_, b)| **b == b'\n').take(n) {
        end = i + 1;
    }
    if end == 0 { data.to_vec() } else { data[..end].to_vec() }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The seed inputs: small real files, in each target's input format (see
/// `crates/ferry-fuzz-checks`).
fn seed() -> Result {
    let root = root();
    // text_reader: a dialect byte, then the file.
    let sample = root.join("samples/csv-district");
    for (file, flags) in [
        ("students.csv", 0b0000_1100u8),
        ("enrollments.csv", 0b0001_1100),
        ("schools.csv", 0b0100_1100),
        ("attendance.txt", 0b0000_0001),
    ] {
        let mut data = vec![flags];
        data.extend(read(&sample.join(file))?);
        put("text_reader", file, &data)?;
    }
    for (name, flags, text) in [
        ("cr-multiline", 0b0000_1100u8, &b"h1,h2\r\"a\rb\",c\r\rd,e\r"[..]),
        ("pipe-cp1252", 0b0010_1110, b"ID|Name\n1|Ren\xe9e\n2|\"O\"\"Neil\"\n"),
        ("shift-jis", 0b0011_1100, b"id,name\r\n1,\x93\xfa\x96\x7b\r\n"),
        ("headerless-tab", 0b1000_0101, b"1\t2\t3\n4\t5\n"),
    ] {
        let mut data = vec![flags];
        data.extend_from_slice(text);
        put("text_reader", name, &data)?;
    }

    // powerschool_files: generated exports, a few lines each, alone and together.
    let district_dir = tempfile_dir("ferry-fuzz-seed")?;
    let opts = ferry_gen::PsGenOptions {
        students: 4,
        seed: 9,
        quirks: true,
        encoding: ferry_gen::TextEncoding::Cp1252,
        district_tables: true,
        secrets: true,
        ..ferry_gen::PsGenOptions::default()
    };
    ferry_gen::powerschool(&opts, &district_dir).map_err(|e| format!("cannot generate a district: {e}"))?;
    let mut names: Vec<String> = std::fs::read_dir(&district_dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".txt") || n.ends_with(".csv"))
        .collect();
    names.sort();
    let mut district = Vec::new();
    for name in &names {
        let mut data = format!("{name}\n").into_bytes();
        data.extend(head(&read(&district_dir.join(name))?, 4));
        put("powerschool_files", name, &data)?;
        if ["students.txt", "cc.txt", "sections.txt", "courses.txt", "schools.txt", "terms.txt"]
            .contains(&name.as_str())
        {
            if !district.is_empty() {
                district.extend_from_slice(format!("\n%%% {name}\n").as_bytes());
            } else {
                district.extend_from_slice(format!("{name}\n").as_bytes());
            }
            district.extend(head(&read(&district_dir.join(name))?, 3));
        }
    }
    put("powerschool_files", "district", &district)?;
    for (name, text) in [
        (
            "header-styles",
            "students_2025.txt\n[01]Student_Number\t[Students]Last_Name\tSTUDENTS.FIRST_NAME\t[05]Last_Name\n1\tA\tB\tC\n",
        ),
        ("headerless", "export.txt\n1\t2\t3\n"),
        ("user-fields", "userfields.txt\nU_StudentsUserFields.StudentsDCID,U_StudentsUserFields.Bus\n7,4\n"),
    ] {
        put("powerschool_files", name, text.as_bytes())?;
    }
    let _ = std::fs::remove_dir_all(&district_dir);

    // config: job files, as the READMEs write them (with paths inside the folder).
    let sample_config = String::from_utf8_lossy(&read(&sample.join("source.toml"))?).into_owned();
    let jobs = [
        ("csv-sample", format!("[source]\nplugin = \"csv\"\n[source.settings]\n{}\n[sink]\nplugin = \"csv\"\n[sink.settings]\ndirectory = \"out\"\n", prefix_tables(&sample_config, "source.settings"))),
        ("csv-bare", "[source]\nplugin = \"csv\"\n[source.settings]\ndirectory = \".\"\n#set keep_raw_rows=false\n#set dialect.delimiter=\"comma\"\n[run]\nbatch_size = 64\nonly = [\"students\"]\nallow_rejects = true\nrejects = \"rejects.jsonl\"\n".to_owned()),
        ("powerschool", "[source]\nplugin = \"powerschool\"\n[source.settings]\ndirectory = \".\"\ninclude_secrets = false\ntwo_digit_year_pivot = 50\nlegacy_contacts = \"auto\"\nignore = [\"notes.txt\"]\n[source.settings.dialect]\nencoding = \"windows-1252\"\n[source.settings.files.\"students.txt\"]\ntable = \"Students\"\n[source.settings.attendance_codes]\n\"A-Ex\" = \"excusedAbsence\"\n[sink]\nplugin = \"powerschool\"\n[sink.settings]\ndirectory = \"to-powerschool\"\nencoding = \"utf-8\"\nline_ending = \"crlf\"\n".to_owned()),
        ("field-policy", "[source]\nplugin = \"csv\"\nconfig = \"job.toml\"\n[sink]\nplugin = \"sqlite\"\n[sink.settings]\npath = \"archive.sqlite\"\n[run]\ninclude_values = false\nreceipts = \"receipts.jsonl\"\n[run.field_policy]\ndefault = \"null\"\nstudents = { birth_date = \"reject\", \"*\" = \"keep_as_text\" }\n".to_owned()),
    ];
    for (name, text) in &jobs {
        put("config", name, text.as_bytes())?;
    }

    // csv_config: the bundled sample's configuration, and the layouts the
    // CSV connector's README describes, over the files beside it.
    put("csv_config", "sample", &read(&sample.join("source.toml"))?)?;
    for (name, text) in [
        ("bare-folder", "directory = \".\"\nsystem = \"fuzz\"\n"),
        ("canonical", "[entities.students]\nfile = \"students.csv\"\nlayout = \"canonical\"\n"),
        (
            "headerless",
            "keep_raw_rows = false\n[dialect]\ndate_formats = [\"%-m/%-d/%Y\"]\n[entities.students]\nfile = \"people.txt\"\n[entities.students.dialect]\ndelimiter = \"tab\"\nquoting = false\nheader = false\ncolumns = [\"id\", \"last\", \"first\", \"dob\"]\n[entities.students.columns]\nid = \"source_id\"\nlast = \"last_name\"\nfirst = \"first_name\"\ndob = \"birth_date\"\n",
        ),
        (
            "orgs",
            "[entities.orgs]\nfile = \"schools.csv\"\n[entities.orgs.columns]\nid = \"source_id\"\nname = \"name\"\ntype = \"kind\"\n[entities.orgs.dialect]\nencoding = \"windows-1252\"\ntrim = true\nnull_values = [\"NULL\"]\n",
        ),
    ] {
        put("csv_config", name, text.as_bytes())?;
    }

    // manifest: the plugins' embedded manifests, and packaged ones.
    for (dir, id) in [
        ("plugins/csv", "csv"),
        ("plugins/powerschool", "powerschool"),
        ("plugins/sqlite", "sqlite"),
        ("tests/plugins/noop", "noop"),
    ] {
        let src = String::from_utf8_lossy(&read(&root.join(dir).join("src/lib.rs"))?).into_owned();
        let Some(embedded) = src
            .split_once("const MANIFEST: &'static str = r#\"")
            .and_then(|(_, rest)| rest.split_once("\"#").map(|(m, _)| m))
        else {
            return Err(format!("no MANIFEST in {dir}/src/lib.rs"));
        };
        put("manifest", &format!("{id}-embedded"), embedded.as_bytes())?;
        // As `ferry plugins package` writes it: the keys the SDK adds, then the plugin's own.
        let packaged = format!(
            "version = \"0.1.0\"\nabi_version = \"0.2.0\"\nmodel_version = \"2.2\"\nlibrary = \"libferry_plugin_{id}.so\"\nsha256 = \"{}\"\n{}",
            "0".repeat(64),
            embedded.trim_start()
        );
        put("manifest", &format!("{id}-packaged"), packaged.as_bytes())?;
    }
    eprintln!("fuzz: seed inputs written to {}", fuzz_dir().join("corpus").display());
    Ok(())
}

/// The tables of a configuration file, moved under `prefix` (a config
/// file's `[dialect]` is a job's `[source.settings.dialect]`).
fn prefix_tables(config: &str, prefix: &str) -> String {
    config
        .lines()
        .map(|l| match l.strip_prefix('[') {
            Some(rest) if !rest.starts_with('[') => format!("[{prefix}.{rest}"),
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A fresh folder under the system's temporary folder.
fn tempfile_dir(name: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}
