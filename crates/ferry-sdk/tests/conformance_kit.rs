//! The conformance kit itself: a plugin that keeps the contract passes every
//! check, and each way of breaking it fails the check that names it.
#![allow(clippy::unwrap_used, clippy::panic, clippy::print_stdout, reason = "test code")]

use std::path::PathBuf;

use ferry_sdk::model::{Code, EntityKind, Meta, Org, OrgKind, Receipt};
use ferry_sdk::testing::{Conformance, Outcome, Report};
use ferry_sdk::{
    BatchBuilder, Committed, Error, OpenContext, Plugin, Prepared, RunSummary, Sink, SinkBatch, Source,
    Written,
};

/// What to break.
#[derive(Clone, Copy, Default)]
struct Faults {
    undeclared_entity: bool,
    panic_on_bad_config: bool,
    write_in_dry_run: bool,
    duplicate_receipts: bool,
    ignore_cancel: bool,
}

thread_local! {
    static FAULTS: std::cell::Cell<Faults> = std::cell::Cell::new(Faults::default());
}

fn faults() -> Faults {
    FAULTS.with(std::cell::Cell::get)
}

#[derive(ferry_sdk::serde::Deserialize)]
#[serde(crate = "ferry_sdk::serde")]
struct Config {
    count: u32,
    #[serde(default)]
    dir: Option<PathBuf>,
}

struct Orgs;

impl Plugin for Orgs {
    const MANIFEST: &'static str = r#"
        id = "kit-orgs"
        description = "orgs, for the kit's own tests"
        capabilities = ["source", "sink"]
        entities = ["orgs"]
        dry_run = true
        [config.count]
        type = "integer"
        description = "how many orgs"
        required = true
        [config.dir]
        type = "string"
        description = "where the sink writes"
    "#;

    fn open_source(ctx: &OpenContext) -> Result<Box<dyn Source>, Error> {
        if faults().panic_on_bad_config && !ctx.config.is_object() {
            panic!("no config");
        }
        let c: Config = ctx.config()?;
        Ok(Box::new(OrgSource { left: c.count, n: 0 }))
    }

    fn open_sink(ctx: &OpenContext) -> Result<Box<dyn Sink>, Error> {
        let c: Config = ctx.config()?;
        Ok(Box::new(OrgSink { dir: c.dir.unwrap(), dry_run: ctx.dry_run, ids: Vec::new() }))
    }
}

struct OrgSource {
    left: u32,
    n: u32,
}

impl Source for OrgSource {
    fn entities(&self) -> Vec<EntityKind> {
        vec![EntityKind::Orgs]
    }
    fn next_batch(&mut self, out: &mut BatchBuilder) -> Result<bool, Error> {
        while !out.is_full() && self.left > 0 {
            if out.cancelled() && !faults().ignore_cancel {
                return Err(Error::cancelled());
            }
            self.left -= 1;
            self.n += 1;
            if faults().undeclared_entity && self.n == 2 {
                if !out.is_empty() {
                    self.left += 1;
                    self.n -= 1;
                    return Ok(true);
                }
                let s = ferry_sdk::model::Course {
                    meta: Meta::new("kit", "s"),
                    ..ferry_sdk::testkit::sample_record("s", 1, true)
                };
                out.push(&s)?;
                return Ok(true);
            }
            out.push(&Org {
                meta: Meta::new("kit", self.n.to_string()),
                kind: Some(Code::mapped(OrgKind::School, "school")),
                name: format!("School {}", self.n),
                ..Org::default()
            })?;
        }
        Ok(self.left > 0)
    }
}

struct OrgSink {
    dir: PathBuf,
    dry_run: bool,
    ids: Vec<String>,
}

impl Sink for OrgSink {
    fn entities(&self) -> Vec<EntityKind> {
        vec![EntityKind::Orgs]
    }
    fn write(&mut self, batch: SinkBatch<'_>) -> Result<Written, Error> {
        let v = batch.view::<Org>()?;
        for i in 0..batch.len() {
            self.ids.push(ferry_sdk::model::RecordView::meta(&v).source_id(i).to_owned());
        }
        Ok(Written { written: batch.len() as u64, rejects: Vec::new() })
    }
    fn prepare(&mut self, _: &RunSummary) -> Result<Prepared, Error> {
        if !self.dry_run || faults().write_in_dry_run {
            std::fs::write(self.dir.join("orgs.txt"), self.ids.join("\n"))
                .map_err(|e| Error::io(e.to_string()))?;
        }
        let receipts = self
            .ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let dest = if faults().duplicate_receipts { 1 } else { i };
                Receipt::new("orgs", id, format!("org-{dest}"))
            })
            .collect();
        Ok(Prepared { receipts, ..Prepared::default() })
    }
    fn commit(&mut self) -> Result<Committed, Error> {
        Ok(Committed::default())
    }
    fn abort(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

fn run(f: Faults) -> Report {
    FAULTS.with(|c| c.set(f));
    let tmp = tempfile::tempdir().unwrap();
    let r = Conformance::<Orgs>::new(tmp.path())
        .source(ferry_sdk::serde_json::json!({ "count": 5 }))
        .sink(|out| ferry_sdk::serde_json::json!({ "count": 0, "dir": out }))
        .run();
    println!("{r}");
    r
}

#[test]
fn a_plugin_that_keeps_the_contract_passes_every_check() {
    let r = run(Faults::default());
    r.assert_passed();
    for check in [
        "manifest",
        "errors as values",
        "source batches",
        "entities",
        "batch sizes",
        "panics",
        "cancellation",
        "sink accounting",
        "receipts",
        "dry run",
    ] {
        assert!(r.passed(check), "{check} ran and passed:\n{r}");
    }
    assert!(!r.checks.iter().any(|c| matches!(c.outcome, Outcome::Note(_))), "{r}");
}

#[test]
fn an_undeclared_entity_fails_the_entities_check() {
    let r = run(Faults { undeclared_entity: true, ..Faults::default() });
    assert!(r.failed("entities"), "{r}");
    let text = r.to_string();
    assert!(
        text.contains(
            "the source produced courses records, but the manifest's `entities` does not list courses"
        ),
        "{text}"
    );
}

#[test]
fn a_panic_on_a_bad_configuration_fails_errors_as_values() {
    let r = run(Faults { panic_on_bad_config: true, ..Faults::default() });
    assert!(r.failed("errors as values"), "{r}");
    assert!(r.to_string().contains("panicked on a broken configuration"), "{r}");
}

#[test]
fn writing_in_a_dry_run_fails_the_dry_run_check() {
    let r = run(Faults { write_in_dry_run: true, ..Faults::default() });
    assert!(r.failed("dry run"), "{r}");
    assert!(r.to_string().contains("orgs.txt was created"), "{r}");
    assert!(r.passed("sink accounting"), "{r}");
}

#[test]
fn duplicate_destination_ids_fail_the_receipts_check() {
    let r = run(Faults { duplicate_receipts: true, ..Faults::default() });
    assert!(r.failed("receipts"), "{r}");
    assert!(r.to_string().contains("got destination id 'org-1'"), "{r}");
}

#[test]
fn a_source_that_never_polls_the_flag_gets_a_note() {
    let r = run(Faults { ignore_cancel: true, ..Faults::default() });
    r.assert_passed();
    let note = r.checks.iter().find(|c| c.name == "cancellation").unwrap();
    assert!(matches!(&note.outcome, Outcome::Note(n) if n.contains("BatchBuilder::cancelled()")), "{r}");
}
