//! Benchmark fixture: `noop` produces `count` student records from memory (a
//! template with a changing id) and consumes records by decoding and dropping
//! them. Source → host → sink through it measures what the plugin boundary
//! costs: encoding, the cross-library calls, the host's accounting, decoding.

use ferry_sdk::model::{Code, Date, EntityKind, GradeLevel, Meta, Origin, Sex, Student};
use ferry_sdk::{
    BatchBuilder, Committed, Error, OpenContext, Plugin, RecordBatch, RunSummary, Sink, Source, Written,
};

struct Noop;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceConfig {
    count: u64,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SinkConfig {
    /// Decode every record (the default), or only count them, to tell the
    /// cost of decoding from the cost of carrying batches.
    #[serde(default = "yes")]
    decode: bool,
}

fn yes() -> bool {
    true
}

impl Plugin for Noop {
    const MANIFEST: &'static str = r#"
        id = "noop"
        description = "Benchmark fixture: records from memory, records to nowhere"
        capabilities = ["source", "sink"]
        entities = ["students"]
        [config.count]
        type = "integer"
        description = "source: how many student records to make"
        [config.decode]
        type = "boolean"
        description = "sink: decode every record (default true) or only count them"
    "#;

    fn open_source(ctx: &OpenContext) -> Result<Box<dyn Source>, Error> {
        let c: SourceConfig = ctx.config()?;
        let mut meta = Meta::new("noop", "");
        meta.origin = Some(Origin { file: "memory".into(), line: 0, raw: None });
        let template = Student {
            meta,
            student_number: Some("000000".into()),
            state_id: Some("1234567890".into()),
            first_name: "Firstname".into(),
            last_name: "Lastname".into(),
            birth_date: Some(Date::new(2010, 5, 17).map_err(|e| Error::internal(e.to_string()))?),
            sex: Some(Code::mapped(Sex::Female, "F")),
            grade_level: Some(Code::mapped(GradeLevel::Grade08, "8")),
            school_id: Some("101".into()),
            ..Student::default()
        };
        Ok(Box::new(NoopSource { left: c.count, next: 0, template }))
    }

    fn open_sink(ctx: &OpenContext) -> Result<Box<dyn Sink>, Error> {
        let c: SinkConfig = ctx.config()?;
        Ok(Box::new(NoopSink { decode: c.decode }))
    }
}

struct NoopSource {
    left: u64,
    next: u64,
    template: Student,
}

impl Source for NoopSource {
    fn entities(&self) -> Vec<EntityKind> {
        vec![EntityKind::Students]
    }
    fn next_batch(&mut self, out: &mut BatchBuilder) -> Result<bool, Error> {
        while self.left > 0 && !out.is_full() {
            self.next += 1;
            self.left -= 1;
            let id = self.next.to_string();
            self.template.meta.source.id.clone_from(&id);
            if let Some(o) = self.template.meta.origin.as_mut() {
                o.line = self.next;
            }
            out.push(&self.template)?;
        }
        Ok(self.left > 0)
    }
}

struct NoopSink {
    decode: bool,
}

impl Sink for NoopSink {
    fn entities(&self) -> Vec<EntityKind> {
        vec![EntityKind::Students]
    }
    fn write(&mut self, batch: RecordBatch<'_>) -> Result<Written, Error> {
        if !self.decode {
            return Ok(Written { written: u64::from(batch.count), rejects: vec![] });
        }
        let mut n = 0;
        for r in batch.records::<Student>()? {
            std::hint::black_box(r?);
            n += 1;
        }
        Ok(Written { written: n, rejects: vec![] })
    }
    fn commit(&mut self, _summary: &RunSummary) -> Result<Committed, Error> {
        Ok(Committed { location: "nowhere".into(), notes: vec![] })
    }
    fn abort(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

ferry_sdk::export_plugin!(Noop);
