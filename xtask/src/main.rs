//! Ferry's build and test tasks, run as `cargo xtask <task>`:
//!
//! - `build-plugins [--release]`: build the `ferry` binary and every plugin,
//!   and package the plugins next to the binary (`target/<profile>/plugins`);
//!   test fixtures go to `target/<profile>/test-plugins`.
//! - `test`: formatting, clippy, build-plugins, then every test.
//! - `demo`: build, then migrate the bundled sample into the embedded default
//!   destination (a SQLite archive) and show what it holds; then walk the
//!   migration workflow on it (init, inventory, plan init/check/render,
//!   freeze, dry run and migrate of the plan, verify, status).
//! - `bench`: the benchmarks; figures go to `docs/performance.md`
//!   (`--peers-only`: the archive's peers alone, printed).
//! - `gen powerschool …`: write a generated PowerSchool district.
//! - `package <plugin> [--sign KEY] [--out DIR] [--debug]`: build one plugin
//!   (release unless `--debug`) and make its signed bundle
//!   (`ferry plugins bundle`), in `target/bundles` by default.
//! - `fuzz [--target T] [--seconds N] [--ci] [--seed]`: the cargo-fuzz
//!   targets of `fuzz/` on the nightly toolchain (see `fuzz.rs`).
#![allow(clippy::print_stdout, clippy::print_stderr, reason = "a task runner reports progress")]

mod bench;
mod fuzz;
mod tasks;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("build-plugins") => tasks::build_plugins(args.iter().any(|a| a == "--release")).map(|_| ()),
        Some("test") => tasks::test(&args[1..]),
        Some("demo") => tasks::demo(),
        Some("bench") => bench::run(&args[1..]),
        Some("gen") => tasks::gen_cmd(&args[1..]),
        Some("package") => tasks::package_cmd(&args[1..]),
        Some("fuzz") => fuzz::run_cmd(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <task>\n\n  build-plugins [--release]  build ferry and package every plugin\n  test [-- ARGS]             fmt, clippy, build plugins, run every test\n  demo                       migrate the bundled sample into a SQLite archive\n  bench [--quick] [--students N]  run the benchmarks, write docs/performance.md\n  bench --peers-only [--students N | --export DIR]  only the archive's peers (sqlite3, DuckDB), printed\n  bench --isolation-only [--quick] [--students N] [--debug]  only the cost of --isolate, printed\n  bench --api-only [--quick] [--students N] [--debug]  only the PowerSchool REST API source against the fake server, printed\n  package <plugin> [--sign KEY] [--out DIR] [--debug]  build a plugin (release) and make its bundle\n  gen powerschool --students N --seed S [--quirks] [--encoding utf8|cp1252] --out DIR\n  fuzz [--target T] [--seconds N]  fuzz every reader (nightly), 600 s per target; --ci: 60 s each; --seed: rewrite the seed inputs"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
