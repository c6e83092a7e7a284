//! `ferry plugins …`.

use std::process::ExitCode;

use anyhow::{Context, bail};
use ferry_host::discovery::{self, PluginEntry};
use ferry_host::loader;

use crate::cli::{Format, PluginsCommand};

fn kind(e: &PluginEntry) -> String {
    e.manifest.capabilities.iter().map(ToString::to_string).collect::<Vec<_>>().join("+")
}

fn entry_json(e: &PluginEntry) -> serde_json::Value {
    serde_json::json!({
        "id": e.manifest.id,
        "version": e.manifest.version,
        "description": e.manifest.description,
        "kind": e.manifest.capabilities,
        "entities": e.manifest.entities,
        "abi_version": e.manifest.abi_version,
        "model_version": e.manifest.model_version,
        "location": e.manifest.location,
        "transactional": e.manifest.transactional,
        "dry_run": e.manifest.dry_run,
        "manifest": e.manifest_path,
        "library": e.library,
        "compatible": e.compatibility.is_ok(),
        "incompatible_reason": e.compatibility.as_ref().err(),
        "sha256": e.manifest.sha256,
        "unverified": e.manifest.sha256.is_none(),
    })
}

pub fn run(cmd: PluginsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PluginsCommand::List { format } => list(format),
        PluginsCommand::Info { id, check, allow_unverified, format } => {
            info(&id, check.then(|| crate::cli::verification(allow_unverified)), format)
        }
        PluginsCommand::Package { library, out } => {
            let out = match out {
                Some(o) => o,
                None => discovery::ferry_home()
                    .context("no $FERRY_HOME and no home directory: pass --out")?
                    .join("plugins"),
            };
            let dir = loader::package(&library, &out)?;
            outln!("packaged {} into {}", library.display(), dir.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn list(format: Format) -> anyhow::Result<ExitCode> {
    let dirs = discovery::search_dirs();
    let found = discovery::discover(&dirs);
    if format == Format::Json {
        let v = serde_json::json!({
            "search_path": dirs,
            "plugins": found.plugins.iter().map(entry_json).collect::<Vec<_>>(),
            "shadowed": found.shadowed.iter().map(entry_json).collect::<Vec<_>>(),
            "invalid": found.bad,
        });
        outln!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    if found.plugins.is_empty() {
        outln!("No plugins found. Searched:");
    } else {
        outln!("{:<14} {:<10} {:<12} {:<12} PATH", "ID", "VERSION", "KIND", "COMPATIBLE");
        for p in &found.plugins {
            let compat = if p.compatibility.is_ok() { "yes" } else { "NO" };
            outln!(
                "{:<14} {:<10} {:<12} {:<12} {}",
                p.manifest.id,
                p.manifest.version,
                kind(p),
                compat,
                p.library.display()
            );
        }
        for p in found.plugins.iter().filter(|p| p.compatibility.is_err()) {
            if let Err(why) = &p.compatibility {
                outln!("  {}: {why}", p.manifest.id);
            }
        }
        for p in found.plugins.iter().filter(|p| p.manifest.sha256.is_none()) {
            outln!("  {}: {UNVERIFIED}", p.manifest.id);
        }
        for p in &found.shadowed {
            outln!("  (shadowed: {} {} at {})", p.manifest.id, p.manifest.version, p.manifest_path.display());
        }
        outln!();
        outln!("Search path:");
    }
    for d in &dirs {
        outln!("  {} ({:?})", d.path.display(), d.origin);
    }
    for b in &found.bad {
        outln!("invalid manifest {}: {}", b.path.display(), b.reason);
    }
    Ok(ExitCode::SUCCESS)
}

/// What `plugins list` and `plugins info` say of a manifest without a SHA-256.
const UNVERIFIED: &str = "UNVERIFIED: its manifest has no sha256, so it is refused unless you pass --allow-unverified; package it with `ferry plugins package <library>`";

fn info(id: &str, check: Option<loader::Verification>, format: Format) -> anyhow::Result<ExitCode> {
    let found = discovery::discover(&discovery::search_dirs());
    let Some(p) = found.find_warning_shadowed(id) else {
        let known: Vec<&str> = found.plugins.iter().map(|p| p.manifest.id.as_str()).collect();
        bail!("no plugin '{id}' on the search path (found: {}); see `ferry plugins list`", known.join(", "));
    };
    let load = check.map(|v| loader::load(p, v).map(|_| ()).map_err(|e| e.0));
    if format == Format::Json {
        let mut v = entry_json(p);
        v["config"] = serde_json::to_value(&p.manifest.config)?;
        if let Some(l) = &load {
            v["load_check"] = serde_json::json!({ "ok": l.is_ok(), "error": l.as_ref().err() });
        }
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let m = &p.manifest;
        outln!("{} {} — {}", m.id, m.version, m.description);
        outln!("kind:        {}", kind(p));
        outln!("entities:    {}", m.entities.join(", "));
        outln!("ABI:         {} (host speaks {})", m.abi_version, ferry_host::ABI_VERSION);
        outln!(
            "model:       {} (host knows {}.{})",
            m.model_version,
            ferry_host::MODEL_VERSION.0,
            ferry_host::MODEL_VERSION.1
        );
        if let Some(l) = &m.location {
            outln!("location:    a bare --from/--to {}:PATH sets `{l}`", m.id);
        }
        if m.is_sink() {
            outln!(
                "sink:        {}; dry runs {}",
                if m.transactional {
                    "transactional (a failed run leaves the destination as it was)"
                } else {
                    "NOT transactional (records land as they are written; abort cannot undo them)"
                },
                if m.dry_run { "supported" } else { "not supported" }
            );
        }
        outln!("library:     {}", p.library.display());
        outln!("manifest:    {}", p.manifest_path.display());
        match &m.sha256 {
            Some(h) => outln!("sha256:      {h}"),
            None => outln!("sha256:      none — {UNVERIFIED}"),
        }
        match &p.compatibility {
            Ok(()) => outln!("compatible:  yes"),
            Err(why) => outln!("compatible:  NO — {why}"),
        }
        match &load {
            Some(Ok(())) => outln!("load check:  ok"),
            Some(Err(e)) => outln!("load check:  FAILED — {e}"),
            None => {}
        }
        if !m.config.is_empty() {
            outln!("configuration:");
            for (k, f) in &m.config {
                // Only the schema of the configuration is shown, never a value.
                let flags = [(f.required, "required"), (f.secret, "secret: from the environment or a file")]
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, n)| *n)
                    .collect::<Vec<_>>()
                    .join(", ");
                let flags = if flags.is_empty() { String::new() } else { format!(" [{flags}]") };
                outln!("  {k} ({}){flags}: {}", f.ty, f.description);
            }
        }
    }
    Ok(if load.is_some_and(|l| l.is_err()) { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
