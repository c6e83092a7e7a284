//! The fake Ed-Fi API (`ferry_e2e::fakes::edfi`) as a process, for the
//! benchmark (`cargo xtask bench`): it serves on a free loopback port,
//! prints one line of JSON (`base_url`, `client_id`, `client_secret`), then
//! serves until its standard input closes, and prints what it holds and
//! what it served as a last line of JSON.

#![allow(clippy::print_stdout, reason = "the process's interface is its output")]

use std::io::{Read, Write};

use ferry_e2e::fakes::edfi::FakeEdFi;

fn main() {
    let fake = FakeEdFi::start();
    let (id, secret) = fake.credentials();
    let hello = serde_json::json!({ "base_url": fake.base_url(), "client_id": id, "client_secret": secret });
    println!("{hello}");
    let _ = std::io::stdout().flush();
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    let stats = fake.stats();
    let bye = serde_json::json!({
        "counts": fake.counts(),
        "requests": stats.data_requests,
        "throttled": stats.throttled,
    });
    // Whoever started it may have stopped reading: nothing to report to then.
    let _ = writeln!(std::io::stdout(), "{bye}");
}
