//! Test fixture: a plugin that panics where its config says
//! (`panic_in = "open" | "next_batch" | "write" | "entities" | "drop"`), to
//! prove the host survives and names the plugin, or whose sink miscounts
//! (`panic_in = "miscount"`: it claims one record more than it was given), to
//! prove the host's accounting catches it.

use ferry_sdk::model::{Code, EntityKind, Meta, Org, OrgKind};
use ferry_sdk::{BatchBuilder, Committed, Error, OpenContext, Plugin, Sink, SinkBatch, Source, Written};

struct Panicky;

#[derive(serde::Deserialize)]
struct Config {
    panic_in: String,
}

impl Plugin for Panicky {
    const MANIFEST: &'static str = r#"
        id = "panicky"
        description = "Test fixture that panics on purpose"
        capabilities = ["source", "sink"]
        entities = ["orgs"]
        [config.panic_in]
        type = "string"
        description = "open, next_batch, write, entities, drop, or miscount (the sink claims one record too many)"
        required = true
    "#;

    fn open_source(ctx: &OpenContext) -> Result<Box<dyn Source>, Error> {
        let c: Config = ctx.config()?;
        if c.panic_in == "open" {
            panic!("deliberate panic while opening");
        }
        Ok(Box::new(PanickySource {
            calls: 0,
            panic: c.panic_in == "next_batch",
            in_entities: c.panic_in == "entities",
            in_drop: c.panic_in == "drop",
        }))
    }

    fn open_sink(ctx: &OpenContext) -> Result<Box<dyn Sink>, Error> {
        let c: Config = ctx.config()?;
        Ok(Box::new(PanickySink { panic: c.panic_in == "write", miscount: c.panic_in == "miscount" }))
    }
}

struct PanickySource {
    calls: u32,
    panic: bool,
    in_entities: bool,
    in_drop: bool,
}

impl Drop for PanickySource {
    fn drop(&mut self) {
        if self.in_drop {
            panic!("deliberate panic while dropping the source");
        }
    }
}

impl Source for PanickySource {
    fn entities(&self) -> Vec<EntityKind> {
        if self.in_entities {
            panic!("deliberate panic in entities()");
        }
        vec![EntityKind::Orgs]
    }
    fn next_batch(&mut self, out: &mut BatchBuilder) -> Result<bool, Error> {
        self.calls += 1;
        if self.calls == 2 && self.panic {
            let v: Vec<u8> = Vec::new();
            // An index out of bounds, as a real bug would.
            let _ = v[self.calls as usize];
        }
        let org = Org {
            meta: Meta::new("panicky", self.calls.to_string()),
            kind: Some(Code::mapped(OrgKind::School, "school")),
            name: format!("School {}", self.calls),
            ..Org::default()
        };
        out.push(&org)?;
        Ok(self.calls < 3)
    }
}

struct PanickySink {
    panic: bool,
    miscount: bool,
}

impl Sink for PanickySink {
    fn entities(&self) -> Vec<EntityKind> {
        vec![EntityKind::Orgs]
    }
    fn write(&mut self, batch: SinkBatch<'_>) -> Result<Written, Error> {
        if self.panic {
            panic!("deliberate panic in write");
        }
        Ok(Written { written: batch.len() as u64 + u64::from(self.miscount), rejects: vec![] })
    }
    fn commit(&mut self) -> Result<Committed, Error> {
        Ok(Committed::default())
    }
    fn abort(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

ferry_sdk::export_plugin!(Panicky);
