//! `ferry plugins …`.

use std::process::ExitCode;

use std::path::{Path, PathBuf};

use anyhow::Context;
use ferry_host::bundle::{self, Bundle, Trust};
use ferry_host::discovery::{self, PluginEntry};
use ferry_host::signing::{PublicKey, SecretKey, TrustStore};
use ferry_host::{install, loader};

use crate::cli::{Format, PluginsCommand, TrustCommand};

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
        "target": e.manifest.target,
        "installed": e.manifest_path.parent().and_then(install::InstallRecord::read),
    })
}

pub fn run(cmd: PluginsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PluginsCommand::New { name, path, sdk_path } => {
            let c = crate::new_plugin::create(&name, path, sdk_path)?;
            outln!("created plugin crate {name} in {} (ferry-sdk at {})", c.dir.display(), c.sdk.display());
            for f in &c.files {
                outln!("  {f}");
            }
            outln!(
                "next: cd {} && cargo build --offline && cargo test --offline; then bundle, sign and install it (its README.md)",
                c.dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        PluginsCommand::List { format } => list(format),
        PluginsCommand::Info { id, check, allow_unverified, format } => {
            info(&id, check.then(|| crate::cli::verification(allow_unverified)), format)
        }
        PluginsCommand::Package { library, out } => {
            let out = install_root(out)?;
            let dir = loader::package(&library, &out)?;
            outln!("packaged {} into {}", library.display(), dir.display());
            Ok(ExitCode::SUCCESS)
        }
        PluginsCommand::Bundle { libraries, out, readme, sign } => {
            let key = sign.as_deref().map(SecretKey::read).transpose()?;
            let out = match out {
                Some(o) => o,
                None => {
                    let first = libraries.first().context("give a library")?;
                    let m = ferry_host::library::read_manifest(first).map_err(anyhow::Error::msg)?;
                    PathBuf::from(Bundle::file_name(&m))
                }
            };
            let b = bundle::create(&libraries, readme.as_deref(), key.as_ref(), &out)?;
            let m = &b.manifest.plugin;
            outln!(
                "bundled {} {} for {} into {} ({})",
                m.id,
                m.version,
                b.targets().join(", "),
                out.display(),
                match &b.signature {
                    Some(s) => format!("signed by key {}", s.key_id),
                    None => "NOT signed: it installs only with --allow-unsigned".to_owned(),
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        PluginsCommand::Install { bundle, allow_unsigned, dir, format } => {
            let root = install_root(dir)?;
            let done = install::install(&bundle, &root, allow_unsigned)?;
            let signer = match &done.trust {
                Trust::Trusted(k) => format!("signed by '{}' ({})", k.name, k.id),
                Trust::Untrusted { key_id, .. } => {
                    format!("signed by UNTRUSTED key {key_id} (--allow-unsigned)")
                }
                Trust::Unsigned => "NOT signed (--allow-unsigned)".to_owned(),
            };
            if format == Format::Json {
                let v = serde_json::json!({
                    "id": done.id, "version": done.version, "dir": done.dir,
                    "unchanged": done.unchanged, "signer": signer,
                });
                outln!("{}", serde_json::to_string_pretty(&v)?);
            } else if done.unchanged {
                outln!(
                    "{} {} is installed already, identical, at {}",
                    done.id,
                    done.version,
                    done.dir.display()
                );
            } else {
                outln!("installed {} {} into {}, {signer}", done.id, done.version, done.dir.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        PluginsCommand::Remove { plugin, dir } => {
            let root = install_root(dir)?;
            let (id, version) = match plugin.split_once('@') {
                Some((id, v)) => (id, Some(v)),
                None => (plugin.as_str(), None),
            };
            for r in install::remove(&root, id, version)? {
                outln!("removed {} {} ({})", r.id, r.version, r.dir.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        PluginsCommand::Verify { dir, format } => {
            let root = install_root(dir)?;
            let found = install::verify(&root);
            let bad = found.iter().filter(|v| !v.ok()).count();
            if format == Format::Json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({ "root": root, "plugins": found }))?
                );
            } else {
                if found.is_empty() {
                    outln!("No plugins are installed in {}.", root.display());
                }
                for v in &found {
                    if v.ok() {
                        let what = if v.recorded {
                            "every file as installed"
                        } else {
                            "library matches its manifest (no install record)"
                        };
                        outln!("ok       {} {}: {what}", v.id, v.version);
                    } else {
                        outln!("CHANGED  {} {} at {}:", v.id, v.version, v.dir.display());
                        for f in &v.changed {
                            outln!("  {f}: its contents differ from what was installed");
                        }
                        for f in &v.missing {
                            outln!("  {f}: missing");
                        }
                        for f in &v.added {
                            outln!("  {f}: added since the install");
                        }
                    }
                }
                if bad > 0 {
                    outln!(
                        "{bad} installed plugin(s) changed since they were installed: ferry refuses to load a changed library; reinstall from the bundle (`ferry plugins remove ID@VERSION`, then `ferry plugins install`)"
                    );
                }
            }
            Ok(if bad > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        PluginsCommand::Keygen { file, name } => {
            let key = SecretKey::generate()?;
            let name = name.unwrap_or_else(|| key.public().id());
            let public = key.write(&file, &name)?;
            outln!(
                "wrote the secret key {} (keep it private) and the public key {} (id {}); sign bundles with `ferry plugins bundle --sign {}`, and give {} to those who install them",
                file.display(),
                public.display(),
                key.public().id(),
                file.display(),
                public.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        PluginsCommand::Trust(t) => trust(t),
    }
}

/// `--dir`, or the default install folder.
fn install_root(dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    Ok(match dir {
        Some(d) => d,
        None => install::default_root()?,
    })
}

fn trust(cmd: TrustCommand) -> anyhow::Result<ExitCode> {
    let mut store = TrustStore::load()?;
    match cmd {
        TrustCommand::Add { key, name } => {
            let text = if Path::new(&key).is_file() {
                std::fs::read_to_string(&key).with_context(|| format!("cannot read {key}"))?
            } else {
                key.clone()
            };
            let public = PublicKey::parse(&text).map_err(|e| anyhow::anyhow!("{key}: {e}"))?;
            let name = name.unwrap_or_else(|| public.id());
            let added = store.add(&public, &name)?.clone();
            store.save()?;
            outln!("trusted key '{}' ({}); bundles it signs now install", added.name, added.id);
        }
        TrustCommand::List { format } => {
            if format == Format::Json {
                outln!("{}", serde_json::to_string_pretty(&store.keys)?);
            } else if store.keys.is_empty() {
                outln!(
                    "No trusted keys ({}). Add one with `ferry plugins trust add KEY.pub`.",
                    TrustStore::path()?.display()
                );
            } else {
                outln!("{:<18} {:<20} {:<22} KEY", "ID", "NAME", "ADDED");
                for k in &store.keys {
                    outln!("{:<18} {:<20} {:<22} {}", k.id, k.name, k.added_at, k.key);
                }
            }
        }
        TrustCommand::Remove { key } => {
            let gone = store.remove(&key)?;
            store.save()?;
            outln!(
                "no longer trusting '{}' ({}); plugins installed from its bundles stay installed (`ferry plugins remove` removes them)",
                gone.name,
                gone.id
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn list(format: Format) -> anyhow::Result<ExitCode> {
    let dirs = discovery::search_dirs();
    let found = discovery::discover(&dirs);
    if format == Format::Json {
        let v = serde_json::json!({
            "search_path": dirs,
            "plugins": found.plugins.iter().map(entry_json).collect::<Vec<_>>(),
            "shadowed": found.shadowed.iter().map(entry_json).collect::<Vec<_>>(),
            "ambiguous": found.ambiguous.iter().map(|(id, why)| serde_json::json!({"id": id, "reason": why})).collect::<Vec<_>>(),
            "invalid": found.bad,
        });
        outln!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    if found.all.is_empty() {
        outln!("No plugins found. Searched:");
    } else {
        outln!("{:<14} {:<10} {:<12} {:<11} {:<9} PATH", "ID", "VERSION", "KIND", "COMPATIBLE", "ACTIVE");
        for p in &found.all {
            let compat = if p.compatibility.is_ok() { "yes" } else { "NO" };
            let active = if found.plugins.iter().any(|a| a.manifest_path == p.manifest_path) {
                "active"
            } else if found.ambiguous.iter().any(|(id, _)| *id == p.manifest.id) {
                "AMBIGUOUS"
            } else {
                "-"
            };
            outln!(
                "{:<14} {:<10} {:<12} {:<11} {:<9} {}",
                p.manifest.id,
                p.manifest.version,
                kind(p),
                compat,
                active,
                p.library.display()
            );
        }
        for p in found.all.iter().filter(|p| p.compatibility.is_err()) {
            if let Err(why) = &p.compatibility {
                outln!("  {} {}: {why}", p.manifest.id, p.manifest.version);
            }
        }
        for p in found.all.iter().filter(|p| p.manifest.sha256.is_none()) {
            outln!("  {} {}: {UNVERIFIED}", p.manifest.id, p.manifest.version);
        }
        for (_, why) in &found.ambiguous {
            outln!("  {why}");
        }
        outln!();
        outln!(
            "The newest compatible version of each plugin is active; pin another in a job or plan with `plugin = \"ID@VERSION\"`."
        );
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
    let p = found.select(id).map_err(anyhow::Error::msg)?;
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
