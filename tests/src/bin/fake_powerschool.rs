//! Serves a folder of PowerSchool exports (what `cargo xtask gen powerschool`
//! writes) as a fake PowerSchool REST API on a loopback port, for the API
//! benchmark and for trying the API mode by hand:
//!
//! ```text
//! fake_powerschool DIR [--page-size N] [--throttle-every N] [--latency-ms N] [--no-quirks]
//! ```
//!
//! Prints `url=http://127.0.0.1:PORT`, `client_id=…` and `client_secret=…`
//! on stdout, one a line, then serves until its stdin is closed.

#![allow(clippy::print_stderr, reason = "a command-line tool reports its usage and what it served")]

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Duration;

use ferry_e2e::fakes::powerschool::{FakePowerSchool, Options};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut dir: Option<PathBuf> = None;
    let mut opts = Options::default();
    while let Some(a) = args.next() {
        let mut num = |what: &str| -> u64 {
            args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
                eprintln!("{what}: give a number");
                std::process::exit(2)
            })
        };
        match a.as_str() {
            "--page-size" => opts.max_page_size = num("--page-size"),
            "--throttle-every" => opts.throttle_every = Some(num("--throttle-every")),
            "--latency-ms" => opts.latency = Duration::from_millis(num("--latency-ms")),
            "--no-quirks" => opts.quirks = false,
            _ if dir.is_none() && !a.starts_with('-') => dir = Some(PathBuf::from(a)),
            _ => {
                eprintln!(
                    "usage: fake_powerschool DIR [--page-size N] [--throttle-every N] [--latency-ms N] [--no-quirks]"
                );
                std::process::exit(2)
            }
        }
    }
    let Some(dir) = dir else {
        eprintln!("usage: fake_powerschool DIR [...]: give the folder of exports");
        std::process::exit(2)
    };
    let fake = match FakePowerSchool::serve_folder(&dir, opts) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{}: {e}", dir.display());
            std::process::exit(1)
        }
    };
    let (id, secret) = fake.credentials();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "url={}\nclient_id={id}\nclient_secret={secret}", fake.base_url());
    let _ = out.flush();
    drop(out);
    // Serve until stdin closes.
    for line in std::io::stdin().lock().lines() {
        if line.is_err() {
            break;
        }
    }
    let s = fake.stats();
    eprintln!("served {} requests ({} throttled, {} tokens)", s.requests, s.throttled, s.tokens_issued);
}
