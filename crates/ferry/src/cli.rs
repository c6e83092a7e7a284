//! Command-line syntax.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Move a school district's records from one student information system to
/// another, through connector plugins and one canonical model.
#[derive(Parser, Debug)]
#[command(name = "ferry", version, about, long_about = None)]
pub struct Cli {
    /// More log output (-v info, -vv debug: may include personal data, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors; no progress bar.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List, inspect and package plugins.
    #[command(subcommand)]
    Plugins(PluginsCommand),
    /// Run a migration: a source plugin → canonical records → a sink plugin.
    Migrate(Box<MigrateArgs>),
    /// Internal: runs one plugin for an isolated run (`migrate --isolate`),
    /// speaking the runner protocol on stdin and stdout.
    #[command(hide = true)]
    PluginRunner {
        /// The plugin's manifest.
        #[arg(long)]
        manifest: PathBuf,
        /// The address-space limit, in MiB.
        #[arg(long)]
        memory_mb: Option<u64>,
        /// Load a plugin whose manifest has no SHA-256.
        #[arg(long)]
        allow_unverified: bool,
    },
    /// Read a Ferry archive (the SQLite backup of the old system).
    #[command(subcommand)]
    Archive(ArchiveCommand),
    /// Check an interchange package against its specification.
    #[command(subcommand)]
    Validate(ValidateCommand),
    /// Start a migration folder: the Solution Document (plan.toml),
    /// snapshots/, reports/ and the journal every later command run in it
    /// records itself in.
    Init {
        /// The folder (created if missing).
        folder: PathBuf,
        /// The migration's name (default: the folder's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Profile the source, read once in a dry run: records per entity, school
    /// and year, fill rates, every code value with its frequency, date
    /// ranges, and anomalies (repeated ids, orphans, look-alike people) by id,
    /// file and line. Reports go to reports/ (JSON, Markdown).
    Inventory {
        /// The source, as for `ferry migrate --from`.
        #[arg(long)]
        from: String,
        /// Set a source config key: KEY=VALUE.
        #[arg(long = "from-set", value_name = "KEY=VALUE")]
        from_set: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Readiness checks (finalize the previous year): rule sets run on the
    /// source, read once in a dry run. `year-end`: enrollments still open in
    /// a closed school year, sections without stored final grades, completed
    /// courses without stored grades, school days without attendance,
    /// students with no exit code; `state-reporting`: required fields left
    /// empty. Rules are switched on and off and tuned in plan.toml
    /// ([checks]). Findings name records by id, file and line; reports go to
    /// reports/ (JSON, Markdown). Exit 1 when a finding blocks.
    Check {
        /// The source, as for `ferry migrate --from` (default: the plan's
        /// [source] from).
        #[arg(long)]
        from: Option<String>,
        /// The rule sets to run, comma separated: year-end, state-reporting
        /// (default: the plan's [checks] rules, else both).
        #[arg(long, value_delimiter = ',')]
        rules: Vec<String>,
        /// Set a source config key: KEY=VALUE.
        #[arg(long = "from-set", value_name = "KEY=VALUE")]
        from_set: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Freeze the source: read it once into snapshots/<time>/ (a consolidated
    /// copy, a manifest of its files' SHA-256 and counts, every record's
    /// content hash); `ferry freeze verify` names what changed since.
    Freeze(FreezeArgs),
    /// Read the destination back through its connector and reconcile it with
    /// the snapshot, per entity, by id: counts and every record's content
    /// hash. Exit 1 on any unexplained difference.
    Verify {
        /// The destination, as for `ferry migrate --from` (it is read back),
        /// or a destination the plan names.
        #[arg(long)]
        to: String,
        /// The plan: the snapshot is read through its rules (filters,
        /// mappings, crosswalks, ids) before it is compared.
        #[arg(long)]
        plan: Option<PathBuf>,
        /// The snapshot folder (default: the newest).
        #[arg(long)]
        snapshot: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The Solution Document (plan.toml): draft it, check it, render it.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// The migration of the current folder, step by step: each step's state
    /// (not started, passed, failed, stale), its last run, the freeze window
    /// and the next step.
    Status {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// `ferry plan`.
#[derive(Subcommand, Debug)]
pub enum PlanCommand {
    /// Draft plan.toml from the latest inventory and the destination's
    /// manifest: entities and their priority, a crosswalk for every code
    /// found ("?" where its meaning is not known), the id strategy, filters.
    /// What is already in the plan, comments included, stays.
    Init {
        /// The destination: PLUGIN[:LOCATION], or a name the plan has.
        #[arg(long)]
        to: String,
        /// The name it gets in the plan.
        #[arg(long, default_value = "sandbox")]
        name: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Check the plan against the latest inventory and its destinations:
    /// codes without a mapping, required fields with no source, unknown
    /// fields, filters that match nothing, crosswalk targets the destination
    /// does not accept; each at its line. Exit 1 when anything blocks.
    Check {
        /// Check against this destination only.
        #[arg(long)]
        to: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Write the Solution Document for people (reports/solution-document-*):
    /// what moves where, what is dropped and why, each crosswalk, the
    /// expected counts, the timeline and the open questions.
    Render {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// `ferry freeze`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct FreezeArgs {
    #[command(subcommand)]
    pub command: Option<FreezeCommand>,
    /// The source, as for `ferry migrate --from`.
    #[arg(long)]
    pub from: Option<String>,
    /// Set a source config key: KEY=VALUE.
    #[arg(long = "from-set", value_name = "KEY=VALUE")]
    pub from_set: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Subcommand, Debug)]
pub enum FreezeCommand {
    /// Re-read the live source and name the records added, changed or
    /// removed since the freeze (exit 1 when anything changed).
    Verify {
        /// The snapshot folder (default: the newest).
        #[arg(long)]
        snapshot: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// How to print rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    /// Aligned columns for a terminal (long values are shortened).
    Table,
    /// CSV with a header row.
    Csv,
    /// A JSON array of objects.
    Json,
}

#[derive(Subcommand, Debug)]
pub enum ValidateCommand {
    /// Check a OneRoster 1.1 or 1.2 CSV package (a .zip or a folder): file
    /// names, the manifest against the files present, headers (names, case,
    /// order, duplicates, metadata.* on the right), required fields,
    /// enumerations, id format, dates, booleans, references between files,
    /// duplicate sourcedIds, bulk and delta rules, empty files. Every problem
    /// names its file, line and column; values of personal columns are never
    /// printed. Exit 0 when valid (warnings allowed), 1 when any error, 2 when
    /// the path is not a package.
    Oneroster {
        /// The package: a .zip, or a folder of CSV files.
        package: PathBuf,
        /// Output format (json lists every problem).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Check against this version instead of the manifest's.
        #[arg(long, value_enum)]
        version: Option<OneRosterVersion>,
    },
}

/// A OneRoster version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OneRosterVersion {
    /// OneRoster 1.1.
    #[value(name = "1.1")]
    V1_1,
    /// OneRoster 1.2 (1.2.1; the 1.2.0 users layout is accepted).
    #[value(name = "1.2")]
    V1_2,
}

#[derive(Subcommand, Debug)]
pub enum ArchiveCommand {
    /// Entities, counts and runs of an archive.
    Info {
        /// The archive file.
        file: PathBuf,
        /// Output format (table or json).
        #[arg(long, value_enum, default_value_t = TableFormat::Table)]
        format: TableFormat,
    },
    /// Run read-only SQL against an archive (see docs/archive.md for examples).
    Query {
        /// The archive file.
        file: PathBuf,
        /// The SQL.
        sql: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = TableFormat::Table)]
        format: TableFormat,
    },
    /// Check an archive: SQLite's integrity check, and every table's rows
    /// against the checksum its last run recorded (an edited or damaged
    /// archive is found). Exit 1 when anything is wrong.
    Verify {
        /// The archive file.
        file: PathBuf,
        /// Output format (table or json).
        #[arg(long, value_enum, default_value_t = TableFormat::Table)]
        format: TableFormat,
    },
    /// Print the records of one entity.
    Extract {
        /// The archive file.
        file: PathBuf,
        /// The entity (students, attendance, …).
        #[arg(long)]
        entity: String,
        /// An SQL condition on the entity's columns, e.g. "school_id = '101'".
        #[arg(long = "where")]
        condition: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
        format: TableFormat,
    },
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For scripts.
    Json,
}

#[derive(Subcommand, Debug)]
pub enum PluginsCommand {
    /// Create a connector crate of your own, outside Ferry's workspace, from
    /// a template: a JSON Lines source and sink of students, its manifest, a
    /// README, and conformance tests (`ferry_sdk::testing`). It depends on
    /// ferry-sdk only, by path, and builds offline as it is.
    New {
        /// The plugin's id (and crate name): lowercase letters, digits and '-'.
        name: String,
        /// The folder to create (default: ./NAME); must not exist or be empty.
        #[arg(long)]
        path: Option<PathBuf>,
        /// The ferry-sdk crate to depend on (default: the one of the Ferry
        /// checkout this ferry was built from).
        #[arg(long)]
        sdk_path: Option<PathBuf>,
    },
    /// List the plugins on the search path (reads manifests only; loads no code).
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Show one plugin: id, version, kind, entities, configuration, path, compatibility.
    Info {
        /// The plugin id.
        id: String,
        /// Also load the library and run the ABI checks.
        #[arg(long)]
        check: bool,
        /// With --check: load it even if its manifest has no SHA-256.
        #[arg(long, requires = "check")]
        allow_unverified: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Package a plugin library you built yourself into a plugin folder, for
    /// local use (reads its embedded manifest; never loads it). To ship a
    /// plugin to others, make a bundle.
    Package {
        /// The plugin library (`libferry_plugin_x.so`, `.dylib`, `.dll`).
        library: PathBuf,
        /// Where to put the plugin folder (default: $FERRY_HOME/plugins).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Make a plugin bundle, the one file a plugin ships as: its libraries
    /// (one per target), manifest, README, checksums and signature. Reads the
    /// libraries' embedded manifests; never loads them.
    Bundle {
        /// The plugin's libraries, one per target, all of the same version.
        #[arg(required = true)]
        libraries: Vec<PathBuf>,
        /// The bundle file (default: ./ID-VERSION.ferry-plugin).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The README to include (default: one written from the manifest).
        #[arg(long)]
        readme: Option<PathBuf>,
        /// Sign it with this secret key (`ferry plugins keygen`).
        #[arg(long, value_name = "SECRET_KEY")]
        sign: Option<PathBuf>,
    },
    /// Install a plugin bundle: checks its checksums, its signature against
    /// your trusted keys, its target and its ABI and model versions, then
    /// puts it into place atomically beside the versions already installed.
    Install {
        /// The bundle file (`.ferry-plugin`).
        bundle: PathBuf,
        /// Install a bundle that is not signed, or signed by a key you do not trust.
        #[arg(long)]
        allow_unsigned: bool,
        /// The install folder (default: $FERRY_HOME/plugins).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Remove an installed plugin: every version, or ID@VERSION.
    Remove {
        /// `ID` or `ID@VERSION`.
        plugin: String,
        /// The install folder (default: $FERRY_HOME/plugins).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Re-hash every installed plugin's files and report any change since it
    /// was installed. Exits 1 when something changed.
    Verify {
        /// The install folder (default: $FERRY_HOME/plugins).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Make a signing key pair for bundles: FILE (secret, owner-only) and FILE.pub.
    Keygen {
        /// The secret key file to write.
        file: PathBuf,
        /// A name for the key (your organization).
        #[arg(long)]
        name: Option<String>,
    },
    /// The keys whose signed bundles you install.
    #[command(subcommand)]
    Trust(TrustCommand),
}

#[derive(Subcommand, Debug)]
pub enum TrustCommand {
    /// Trust a publisher's public key (a `.pub` file, or the key's text).
    Add {
        /// The key: a file, or `ferry-ed25519:…`.
        key: String,
        /// A name for it (default: the key's id).
        #[arg(long)]
        name: Option<String>,
    },
    /// List the trusted keys.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Stop trusting a key (by id, name or text). Plugins installed from its
    /// bundles stay installed.
    Remove {
        /// The key's id, name or text.
        key: String,
    },
}

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// Internal (`ferry inventory`): profile every batch reaching the sink
    /// and write the profile, as JSON, to this file.
    #[arg(long, hide = true)]
    pub inventory: Option<PathBuf>,
    /// Internal (`ferry verify --plan`): with --plan, write no id crosswalk.
    #[arg(long, hide = true)]
    pub no_id_crosswalk: bool,
    /// Internal (`ferry check`): run the readiness checks of this rules
    /// file (JSON) on every batch reaching the sink…
    #[arg(long, hide = true, requires = "checks_out")]
    pub checks: Option<PathBuf>,
    /// …and write their findings, as JSON, to this file.
    #[arg(long, hide = true, requires = "checks")]
    pub checks_out: Option<PathBuf>,
    /// A job file (TOML) with [source], [sink] and [run].
    #[arg(long, conflicts_with_all = ["from", "to", "plan"])]
    pub job: Option<PathBuf>,
    /// Run the plan (the Solution Document): its entities, filters, field
    /// mappings, crosswalks, field policy and id strategy; `--to` names one
    /// of its destinations; the source is the migration folder's newest
    /// snapshot (or the plan's [source]) unless --from is given.
    #[arg(long)]
    pub plan: Option<PathBuf>,
    /// The source: PLUGIN, PLUGIN:CONFIG.toml, or PLUGIN:LOCATION (the data
    /// itself: `powerschool:export/`).
    #[arg(long, required_unless_present_any = ["job", "plan"])]
    pub from: Option<String>,
    /// The sink: PLUGIN, PLUGIN:CONFIG.toml or PLUGIN:LOCATION (default: a
    /// SQLite archive, ferry-archive.sqlite in the current folder).
    #[arg(long)]
    pub to: Option<String>,
    /// Set a source config key (dotted keys reach into tables): KEY=VALUE.
    #[arg(long = "from-set", value_name = "KEY=VALUE")]
    pub from_set: Vec<String>,
    /// Set a sink config key: KEY=VALUE.
    #[arg(long = "to-set", value_name = "KEY=VALUE")]
    pub to_set: Vec<String>,
    /// The rejects file, JSON Lines (default: ferry-rejects.jsonl).
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Exit 0 even when records were rejected.
    #[arg(long)]
    pub allow_rejects: bool,
    /// Put the offending values in the rejects file (they may be personal data).
    #[arg(long)]
    pub include_values: bool,
    /// Only write these entities (comma separated); the rest are skipped.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Records per batch across the plugin boundary.
    #[arg(long)]
    pub batch_size: Option<u32>,
    /// Validate and plan everything, write nothing: report per entity what
    /// would be created, updated, left unchanged or rejected.
    #[arg(long)]
    pub dry_run: bool,
    /// What a bad value in a field does: ENTITY.FIELD=ACTION, ENTITY.*=ACTION
    /// or default=ACTION, with ACTION null (the default: the field is left
    /// empty, with a warning), reject or keep_as_text. Keys and required
    /// fields always reject.
    #[arg(long = "field-policy", value_name = "RULE")]
    pub field_policy: Vec<String>,
    /// The receipts file, JSON Lines (default: ferry-receipts.jsonl beside the
    /// rejects file), written when the destination assigns its own ids.
    #[arg(long)]
    pub receipts: Option<PathBuf>,
    /// Output format of the run summary.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Load plugins whose manifest has no SHA-256 (loading runs their code;
    /// nothing says the library is the one packaged).
    #[arg(long)]
    pub allow_unverified: bool,
    /// Run plugins in child processes (`ferry plugin-runner`), so a plugin
    /// that crashes, or passes a limit, fails the run cleanly: all (the
    /// default with no value), source or sink.
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "all", value_name = "WHICH")]
    pub isolate: Option<IsolateArg>,
    /// With --isolate: the address-space limit of each plugin's process, in MiB.
    #[arg(long, value_name = "MB")]
    pub memory_mb: Option<u64>,
    /// With --isolate: the wall-time limit of each plugin's process, in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub timeout_s: Option<u64>,
}

/// Which plugins `--isolate` runs in a child process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IsolateArg {
    /// Neither (overrides the job file).
    None,
    /// The source.
    Source,
    /// The sink.
    Sink,
    /// Both.
    All,
}

impl MigrateArgs {
    /// Whether unverified plugins may be loaded.
    pub fn verification(&self) -> ferry_host::loader::Verification {
        verification(self.allow_unverified)
    }
}

/// `--allow-unverified` as the loader's policy.
pub fn verification(allow_unverified: bool) -> ferry_host::loader::Verification {
    if allow_unverified {
        ferry_host::loader::Verification::AllowUnverified
    } else {
        ferry_host::loader::Verification::Required
    }
}
