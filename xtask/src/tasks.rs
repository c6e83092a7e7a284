//! build-plugins, test, demo and gen.

use std::path::{Path, PathBuf};
use std::process::Command;

pub type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The cargo target directory.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// Runs a command, failing with its description.
pub fn run(mut cmd: Command) -> Result {
    let desc = format!("{cmd:?}");
    eprintln!("$ {desc}");
    let status = cmd.status().map_err(|e| format!("cannot run {desc}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{desc} failed ({status})")) }
}

fn package_names(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    entries.sort();
    for p in entries {
        let text = std::fs::read_to_string(p.join("Cargo.toml")).map_err(|e| e.to_string())?;
        let name = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("name = ").map(|n| n.trim_matches('"').to_owned()))
            .ok_or_else(|| format!("no package name in {}", p.display()))?;
        names.push(name);
    }
    Ok(names)
}

/// What build-plugins produced.
pub struct Built {
    /// The `ferry` binary.
    pub ferry: PathBuf,
    /// Packaged plugins (next to the binary).
    pub plugins: PathBuf,
    /// Packaged test fixture plugins (debug builds only).
    pub fixtures: PathBuf,
    /// Where the raw libraries are.
    pub libs: PathBuf,
}

fn lib_file(dir: &Path, package: &str) -> PathBuf {
    let stem = package.replace('-', "_");
    dir.join(format!("{}{stem}{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX))
}

/// Builds `ferry` and every plugin (and, in debug, the test fixtures), then
/// packages them.
pub fn build_plugins(release: bool) -> Result<Built> {
    let root = root();
    let plugins = package_names(&root.join("plugins"))?;
    let fixtures = if release { Vec::new() } else { package_names(&root.join("tests/plugins"))? };
    let mut cmd = cargo();
    cmd.args(["build", "--locked", "-p", "ferry"]);
    for p in plugins.iter().chain(&fixtures) {
        cmd.args(["-p", p]);
    }
    if release {
        cmd.arg("--release");
    }
    run(cmd)?;
    let profile = if release { "release" } else { "debug" };
    let out = target_dir().join(profile);
    let ferry = out.join(format!("ferry{}", std::env::consts::EXE_SUFFIX));

    let plugin_dir = out.join("plugins");
    let fixture_dir = out.join("test-plugins");
    for d in [&plugin_dir, &fixture_dir] {
        if d.exists() {
            std::fs::remove_dir_all(d).map_err(|e| format!("cannot clear {}: {e}", d.display()))?;
        }
    }
    for p in &plugins {
        package(&ferry, &lib_file(&out, p), &plugin_dir)?;
    }
    if !release {
        // The third-party plugin: its own workspace, ferry-sdk only.
        let mut oot = cargo();
        oot.args(["build", "--manifest-path", "tests/out-of-tree-plugin/Cargo.toml", "--target-dir"]);
        oot.arg(target_dir());
        run(oot)?;
        package(&ferry, &lib_file(&out, "acme-roster"), &fixture_dir)?;
        package(&ferry, &lib_file(&out, "ferry-test-plugin-panicky"), &fixture_dir)?;
        package(&ferry, &lib_file(&out, "ferry-test-plugin-noop"), &fixture_dir)?;
        package(&ferry, &lib_file(&out, "ferry-test-plugin-model-2-0"), &fixture_dir)?;
        package(&ferry, &lib_file(&out, "ferry-test-plugin-crashy"), &fixture_dir)?;
    }
    Ok(Built { ferry, plugins: plugin_dir, fixtures: fixture_dir, libs: out })
}

fn package(ferry: &Path, lib: &Path, out: &Path) -> Result {
    let mut cmd = Command::new(ferry);
    cmd.args(["--quiet", "plugins", "package"]).arg(lib).arg("--out").arg(out);
    run(cmd)
}

/// fmt, clippy, build-plugins, then every test with the built artefacts.
pub fn test(extra: &[String]) -> Result {
    run({
        let mut c = cargo();
        c.args(["fmt", "--all", "--check"]);
        c
    })?;
    run({
        let mut c = cargo();
        c.args(["clippy", "--locked", "--workspace", "--all-targets", "--", "-D", "warnings"]);
        c
    })?;
    let built = build_plugins(false)?;
    let mut c = cargo();
    c.args(["test", "--locked", "--workspace"]);
    c.args(extra);
    c.env("FERRY_E2E_BIN", &built.ferry)
        .env("FERRY_E2E_PLUGINS", &built.plugins)
        .env("FERRY_E2E_FIXTURES", &built.fixtures)
        .env("FERRY_E2E_LIBS", &built.libs)
        .env("FERRY_E2E_SAMPLES", root().join("samples"));
    run(c)
}

/// Migrates the bundled CSV sample, then a generated PowerSchool district,
/// each into the embedded default destination (a SQLite archive), and shows
/// what the archives hold.
pub fn demo() -> Result {
    let built = build_plugins(false)?;
    let dir = root().join("ferry-demo");
    let ferry = |cwd: &Path, args: &[&str]| {
        let mut c = Command::new(&built.ferry);
        c.current_dir(cwd).args(args);
        run(c)
    };

    // 1. The bundled CSV sample: Windows-1252, a BOM, a headerless tab file, bad rows.
    let csv_dir = dir.join("csv-sample");
    std::fs::create_dir_all(&csv_dir).map_err(|e| format!("cannot create {}: {e}", csv_dir.display()))?;
    let sample = root().join("samples/csv-district/source.toml");
    ferry(&csv_dir, &["migrate", "--allow-rejects", "--from", &format!("csv:{}", sample.display())])?;
    ferry(&csv_dir, &["archive", "info", "ferry-archive.sqlite"])?;
    ferry(
        &csv_dir,
        &[
            "archive",
            "query",
            "ferry-archive.sqlite",
            "SELECT entity, origin_file, origin_line, source_row FROM student_records WHERE student_number = '000123' ORDER BY entity, origin_line",
        ],
    )?;

    // 2. A generated PowerSchool district with every export quirk, in Windows-1252.
    let ps_dir = dir.join("powerschool");
    let export = ps_dir.join("export");
    gen_cmd(
        &["powerschool", "--students", "500", "--seed", "2026", "--quirks", "--encoding", "cp1252", "--out"]
            .iter()
            .map(ToString::to_string)
            .chain([export.display().to_string()])
            .collect::<Vec<_>>(),
    )?;
    let config = export.join(ferry_gen::SOURCE_CONFIG_FILE);
    ferry(&ps_dir, &["migrate", "--allow-rejects", "--from", &format!("powerschool:{}", config.display())])?;
    ferry(
        &ps_dir,
        &[
            "archive",
            "query",
            "ferry-archive.sqlite",
            "SELECT o.name AS school, count(*) AS transferred_out FROM school_enrollments e JOIN orgs o ON o.source_system = e.source_system AND o.source_id = e.school_id WHERE e.exit_code = 'transferOut' GROUP BY o.name ORDER BY 2 DESC",
        ],
    )?;

    // 2b. The same district as a OneRoster 1.2 package, checked against the
    // specification by `ferry validate oneroster`.
    let roster = ps_dir.join("oneroster.zip");
    if roster.exists() {
        std::fs::remove_file(&roster).map_err(|e| format!("cannot clear {}: {e}", roster.display()))?;
    }
    ferry(
        &ps_dir,
        &[
            "migrate",
            "--allow-rejects",
            "--from",
            &format!("powerschool:{}", config.display()),
            "--to",
            "oneroster:oneroster.zip",
            "--rejects",
            "oneroster-rejects.jsonl",
        ],
    )?;
    ferry(&ps_dir, &["validate", "oneroster", "oneroster.zip"])?;

    // 3. The migration workflow on the bundled sample: a migration folder,
    // its inventory, the Solution Document drafted, answered, checked and
    // rendered, a freeze, a dry run and a migration of the plan from the
    // snapshot into a CSV sandbox, the sandbox verified against the
    // snapshot through the plan, and the status of every step.
    let wf = dir.join("workflow");
    if wf.exists() {
        std::fs::remove_dir_all(&wf).map_err(|e| format!("cannot clear {}: {e}", wf.display()))?;
    }
    ferry(&dir, &["init", "workflow", "--name", "Lakeview sample"])?;
    let from = format!("csv:{}", sample.display());
    ferry(&wf, &["inventory", "--from", &from])?;
    ferry(&wf, &["plan", "init", "--to", "csv:sandbox/"])?;
    answer_open_questions(&wf.join("plan.toml"))?;
    ferry(&wf, &["plan", "check"])?;
    // The sample was never closed out, and has no state ids or sexes: the
    // readiness checks block (exit 1) and say what to fix in the old system.
    // The demo then records in the plan what it accepts for a sandbox test.
    let mut c = Command::new(&built.ferry);
    c.current_dir(&wf).arg("check");
    println!("$ cd {:?} && {:?} check", wf, built.ferry);
    let blocked = c.status().map_err(|e| format!("cannot run ferry check: {e}"))?;
    if blocked.code() != Some(1) {
        return Err(format!("ferry check on the sample should block (exit 1), it ended with {blocked}"));
    }
    accept_for_the_sandbox(&wf.join("plan.toml"))?;
    ferry(&wf, &["check"])?;
    ferry(&wf, &["plan", "check"])?;
    ferry(&wf, &["plan", "render"])?;
    ferry(&wf, &["freeze", "--from", &from])?;
    ferry(&wf, &["migrate", "--plan", "plan.toml", "--to", "sandbox", "--dry-run"])?;
    ferry(&wf, &["migrate", "--plan", "plan.toml", "--to", "sandbox"])?;
    ferry(&wf, &["verify", "--plan", "plan.toml", "--to", "sandbox"])?;
    ferry(&wf, &["status"])?;

    println!(
        "\nArchives: {} and {}",
        csv_dir.join("ferry-archive.sqlite").display(),
        ps_dir.join("ferry-archive.sqlite").display()
    );
    println!("Rejected rows, with file, line and reason: ferry-rejects.jsonl in each folder.");
    println!("A migration folder, step by step: {} (ferry status there)", wf.display());
    println!(
        "Try: {} archive query {} \"SELECT * FROM student_records LIMIT 5\"",
        built.ferry.display(),
        ps_dir.join("ferry-archive.sqlite").display()
    );
    Ok(())
}

/// The demo stands in for the people who review the Solution Document: it
/// answers every open question ("?") of the drafted crosswalks with
/// `Other` (the value kept as it came), saying so in the plan.
fn answer_open_questions(plan: &Path) -> Result {
    let text = std::fs::read_to_string(plan).map_err(|e| format!("cannot read {}: {e}", plan.display()))?;
    let mut n = 0;
    let answered: String = text
        .lines()
        .map(|l| match l.split_once(" = \"?\"") {
            Some((key, _)) => {
                n += 1;
                format!("{key} = \"Other\" # answered by cargo xtask demo: kept as it came")
            }
            None => l.to_owned(),
        })
        .map(|l| l + "\n")
        .collect();
    std::fs::write(plan, answered).map_err(|e| format!("cannot write {}: {e}", plan.display()))?;
    println!(
        "(the demo answered {n} open question(s) of the plan with \"Other\"; a person would decide each)"
    );
    Ok(())
}

/// What the demo accepts of the sample for a sandbox test, in the plan's
/// `[checks]`: open enrollments and missing exit codes as warnings, and a state that
/// needs only grade levels and schools.
fn accept_for_the_sandbox(plan: &Path) -> Result {
    let mut text =
        std::fs::read_to_string(plan).map_err(|e| format!("cannot read {}: {e}", plan.display()))?;
    text.push_str(
        "\n# Added by cargo xtask demo: what the sandbox test accepts of the sample.\n\
         [checks.year-end.rules.no_exit_code]\nblocking = false\n\
         [checks.year-end.rules.open_enrollments]\nblocking = false\n\
         [checks.state-reporting]\nrequired = [\"students.grade_level\", \"students.school_id\"]\n",
    );
    std::fs::write(plan, text).map_err(|e| format!("cannot write {}: {e}", plan.display()))?;
    println!(
        "(the demo made open enrollments and missing exit codes warnings and asked only for grade levels and schools, in plan.toml [checks])"
    );
    Ok(())
}

/// `gen powerschool --students N --seed S [--quirks] [--encoding utf8|cp1252] [--full]
/// [--district-tables] [--secrets] [--contacts-export] [--out DIR]`; `--full` is
/// `--district-tables --secrets`.
pub fn gen_cmd(args: &[String]) -> Result {
    if args.first().map(String::as_str) != Some("powerschool") {
        return Err("usage: cargo xtask gen powerschool --students N --seed S [--quirks] [--encoding utf8|cp1252] [--full] [--district-tables] [--secrets] [--contacts-export] [--out DIR]".into());
    }
    let mut opts = ferry_gen::PsGenOptions {
        students: 1000,
        seed: 1,
        quirks: false,
        encoding: ferry_gen::TextEncoding::Utf8,
        ..ferry_gen::PsGenOptions::default()
    };
    let mut out = None;
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--students" => opts.students = value(a)?.parse().map_err(|e| format!("--students: {e}"))?,
            "--seed" => opts.seed = value(a)?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--quirks" => opts.quirks = true,
            "--full" => {
                opts.district_tables = true;
                opts.secrets = true;
            }
            "--district-tables" => opts.district_tables = true,
            "--secrets" => opts.secrets = true,
            "--contacts-export" => opts.contacts_export = true,
            "--encoding" => {
                let v = value(a)?;
                opts.encoding = ferry_gen::TextEncoding::from_label(&v)
                    .ok_or_else(|| format!("--encoding: unknown {v:?}; use utf8 or cp1252"))?;
            }
            "--out" => out = Some(PathBuf::from(value(a)?)),
            other => return Err(format!("gen powerschool: unknown argument {other:?}")),
        }
    }
    let out = out.unwrap_or_else(|| PathBuf::from(format!("powerschool-{}-{}", opts.students, opts.seed)));
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let m =
        ferry_gen::powerschool(&opts, &out).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    println!(
        "wrote {} files, {} rows ({} of them bad on purpose) into {}; read it with: ferry migrate --from powerschool:{}",
        m.files.len(),
        m.total_rows(),
        m.total_rejects(),
        out.display(),
        out.join(ferry_gen::SOURCE_CONFIG_FILE).display()
    );
    Ok(())
}

/// Today's date (UTC), from the system clock.
pub fn today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    // Day 0 of ferry_model::Date is 0001-01-01; the Unix epoch is day 719_162.
    ferry_model::Date::from_day_number(719_162 + days)
        .map_or_else(|_| "unknown date".into(), |d| d.to_string())
}

/// `cargo xtask package <plugin> [--sign KEY] [--out DIR] [--debug]`: builds
/// one first-party plugin (`plugins/<plugin>`, in release unless `--debug`)
/// and makes its bundle with `ferry plugins bundle`, with the plugin's
/// README, signed when a key is given. The bundle goes to `--out`
/// (default: `target/bundles`).
pub fn package_cmd(args: &[String]) -> Result {
    let mut plugin = None;
    let (mut sign, mut out, mut release) = (None, None, true);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--sign" => sign = Some(PathBuf::from(it.next().ok_or("--sign needs a secret key file")?)),
            "--out" => out = Some(PathBuf::from(it.next().ok_or("--out needs a folder")?)),
            "--debug" => release = false,
            "--release" => release = true,
            s if !s.starts_with('-') && plugin.is_none() => plugin = Some(s.to_owned()),
            s => return Err(format!("package: unexpected argument {s}")),
        }
    }
    let plugin = plugin.ok_or("usage: cargo xtask package <plugin> [--sign KEY] [--out DIR] [--debug]")?;
    let root = root();
    let dir = root.join("plugins").join(&plugin);
    if !dir.join("Cargo.toml").is_file() {
        let known = std::fs::read_dir(root.join("plugins"))
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        return Err(format!("no plugin '{plugin}' in plugins/ (there are: {known})"));
    }
    let name = package_names(&root.join("plugins"))?
        .into_iter()
        .find(|n| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|t| t.lines().any(|l| l.trim() == format!("name = \"{n}\"")))
        })
        .ok_or_else(|| format!("no package name in {}", dir.join("Cargo.toml").display()))?;
    let mut cmd = cargo();
    cmd.args(["build", "--locked", "-p", "ferry", "-p", &name]);
    if release {
        cmd.arg("--release");
    }
    run(cmd)?;
    let profile_dir = target_dir().join(if release { "release" } else { "debug" });
    let ferry = profile_dir.join(format!("ferry{}", std::env::consts::EXE_SUFFIX));
    let out = out.unwrap_or_else(|| target_dir().join("bundles"));
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mut b = Command::new(&ferry);
    b.args(["plugins", "bundle"]).arg(lib_file(&profile_dir, &name));
    let readme = dir.join("README.md");
    if readme.is_file() {
        b.arg("--readme").arg(readme);
    }
    if let Some(k) = sign {
        let k = std::fs::canonicalize(&k).map_err(|e| format!("cannot read the key {}: {e}", k.display()))?;
        b.arg("--sign").arg(k);
    }
    // The bundle is named from the plugin's manifest (ID-VERSION.ferry-plugin), in --out.
    b.current_dir(&out);
    run(b)
}
