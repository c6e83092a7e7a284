//! Benchmark and contract fixture: `noop` produces `count` student records
//! from memory (a template with a changing id) and consumes records by
//! reading every value through the typed view, writing them nowhere.
//!
//! Source → host → sink through it measures what the plugin boundary costs:
//! building Arrow batches, the cross-library calls, the host's validation,
//! stages and accounting, and the sink's reads. Its settings also exercise
//! the sink contract in end-to-end tests: late rejects, receipts, dry runs,
//! a secret, and a source call that blocks until the run is cancelled.

use std::time::{Duration, Instant};

use ferry_sdk::model::{
    Code, Date, EntityKind, GradeLevel, Meta, Origin, Receipt, RecordView, Sex, Student, StudentView,
};
use ferry_sdk::{
    BatchBuilder, Committed, EntityPlan, Error, OpenContext, Plugin, Prepared, Reject, RunSummary, Sink,
    SinkBatch, Source, Written, tracing,
};

struct Noop;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceConfig {
    count: u64,
    /// Block in the first `next_batch` call for this long, polling the
    /// cancel flag (a long HTTP request, say).
    #[serde(default)]
    block_ms: u64,
    /// Sleep this long before each batch (to interrupt a run midway).
    #[serde(default)]
    pause_ms: u64,
    /// An access token (a secret: given through the environment or a file).
    #[serde(default)]
    token: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SinkConfig {
    /// Read every value through the typed view (the default), or only count
    /// the records, to tell the cost of reading from the cost of carrying.
    #[serde(default = "yes")]
    read: bool,
    /// Refuse this many records at prepare, after counting them as written.
    #[serde(default)]
    late_rejects: u64,
    /// Assign every record a destination id, returned as receipts.
    #[serde(default)]
    receipts: bool,
    /// Report this many records fewer than it was given (a buggy sink).
    #[serde(default)]
    under_report: u64,
    /// Sleep this long in prepare (the moment between the last batch and the commit).
    #[serde(default)]
    prepare_ms: u64,
    /// A file written on commit (relative to the job's folder), to see commits from outside.
    #[serde(default)]
    marker: Option<String>,
    /// A file written when prepare starts, to know from outside that every
    /// batch was written and the commit is next.
    #[serde(default)]
    preparing: Option<String>,
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
        dry_run = true
        [config.count]
        type = "integer"
        description = "source: how many student records to make"
        [config.block_ms]
        type = "integer"
        description = "source: block this long in the first call, polling the cancel flag"
        [config.pause_ms]
        type = "integer"
        description = "source: sleep this long before each batch"
        [config.token]
        type = "string"
        description = "source: an access token"
        secret = true
        [config.read]
        type = "boolean"
        description = "sink: read every value (default true) or only count records"
        [config.late_rejects]
        type = "integer"
        description = "sink: refuse this many records at prepare"
        [config.receipts]
        type = "boolean"
        description = "sink: assign destination ids and return receipts"
        [config.under_report]
        type = "integer"
        description = "sink: account for this many records fewer than given"
        [config.prepare_ms]
        type = "integer"
        description = "sink: sleep this long in prepare, just before the commit"
        [config.marker]
        type = "string"
        description = "sink: a file written on commit"
        [config.preparing]
        type = "string"
        description = "sink: a file written when prepare starts"
    "#;

    fn open_source(ctx: &OpenContext) -> Result<Box<dyn Source>, Error> {
        let c: SourceConfig = ctx.config()?;
        if let Some(t) = &c.token {
            // The length only: a secret is never logged.
            tracing::debug!("authenticated with a token of {} characters", t.len());
        }
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
        Ok(Box::new(NoopSource { left: c.count, next: 0, template, block: c.block_ms, pause: c.pause_ms }))
    }

    fn open_sink(ctx: &OpenContext) -> Result<Box<dyn Sink>, Error> {
        let c: SinkConfig = ctx.config()?;
        let marker = c.marker.as_ref().map(|m| ctx.resolve(m));
        let preparing = c.preparing.as_ref().map(|m| ctx.resolve(m));
        Ok(Box::new(NoopSink {
            config: c,
            seen: Vec::new(),
            written: 0,
            dry_run: ctx.dry_run,
            marker,
            preparing,
        }))
    }
}

struct NoopSource {
    left: u64,
    next: u64,
    template: Student,
    block: u64,
    pause: u64,
}

impl Source for NoopSource {
    fn entities(&self) -> Vec<EntityKind> {
        vec![EntityKind::Students]
    }
    fn next_batch(&mut self, out: &mut BatchBuilder) -> Result<bool, Error> {
        if self.block > 0 {
            let until = Instant::now() + Duration::from_millis(std::mem::take(&mut self.block));
            while Instant::now() < until {
                if out.cancelled() {
                    return Err(Error::cancelled());
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        if self.pause > 0 {
            std::thread::sleep(Duration::from_millis(self.pause));
        }
        let mut id = itoa_buf::Buf::default();
        while self.left > 0 && !out.is_full() {
            self.next += 1;
            self.left -= 1;
            self.template.meta.source.id.clear();
            self.template.meta.source.id.push_str(id.format(self.next));
            if let Some(o) = self.template.meta.origin.as_mut() {
                o.line = self.next;
            }
            out.push(&self.template)?;
        }
        Ok(self.left > 0)
    }
}

/// Formats numbers without allocating.
mod itoa_buf {
    #[derive(Default)]
    pub struct Buf([u8; 20]);
    impl Buf {
        pub fn format(&mut self, mut n: u64) -> &str {
            let mut i = self.0.len();
            loop {
                i -= 1;
                self.0[i] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            std::str::from_utf8(&self.0[i..]).unwrap_or("0")
        }
    }
}

struct NoopSink {
    config: SinkConfig,
    /// Ids (and locations) of the first records, for late rejects and receipts.
    seen: Vec<(String, String, u64)>,
    written: u64,
    dry_run: bool,
    marker: Option<std::path::PathBuf>,
    preparing: Option<std::path::PathBuf>,
}

impl Sink for NoopSink {
    fn entities(&self) -> Vec<EntityKind> {
        vec![EntityKind::Students]
    }

    fn write(&mut self, batch: SinkBatch<'_>) -> Result<Written, Error> {
        let n = batch.len() as u64;
        if self.config.read {
            let v: StudentView<'_> = batch.view::<Student>()?;
            for i in 0..v.len() {
                let m = v.meta();
                std::hint::black_box((
                    m.source_system(i),
                    m.source_id(i),
                    v.student_number(i),
                    v.state_id(i),
                    v.first_name(i),
                    v.last_name(i),
                    v.birth_date(i),
                    v.sex(i).map(|c| c.code),
                    v.grade_level(i).map(|c| c.code),
                    v.school_id(i),
                ));
            }
        }
        let late = usize::try_from(self.config.late_rejects).unwrap_or(usize::MAX);
        let keep = if self.config.receipts { usize::MAX } else { late };
        if self.seen.len() < keep {
            let v = batch.view::<Student>()?;
            for i in 0..v.len().min(keep - self.seen.len()) {
                let m = v.meta();
                self.seen.push((
                    m.source_id(i).to_owned(),
                    m.source_file(i).unwrap_or_default().to_owned(),
                    m.source_line(i),
                ));
            }
        }
        self.written += n;
        Ok(Written { written: n.saturating_sub(self.config.under_report), rejects: vec![] })
    }

    fn prepare(&mut self, _summary: &RunSummary) -> Result<Prepared, Error> {
        if let Some(p) = &self.preparing {
            std::fs::write(p, "preparing\n")?;
        }
        std::thread::sleep(Duration::from_millis(self.config.prepare_ms));
        let late = usize::try_from(self.config.late_rejects).unwrap_or(usize::MAX);
        let rejects: Vec<Reject> = self
            .seen
            .iter()
            .take(late)
            .map(|(id, file, line)| {
                Reject::new(
                    EntityKind::Students,
                    "the destination refused the record at commit (a duplicate of an existing student)",
                )
                .record(id.clone())
                .at(file.clone(), *line)
            })
            .collect();
        let receipts = if self.config.receipts {
            self.seen
                .iter()
                .skip(late)
                .map(|(id, _, _)| Receipt::new("students", id.clone(), format!("D-{id}")))
                .collect()
        } else {
            Vec::new()
        };
        let plan = vec![EntityPlan {
            entity: "students".into(),
            create: self.written - rejects.len() as u64,
            reject: rejects.len() as u64,
            ..EntityPlan::default()
        }];
        Ok(Prepared { rejects, receipts, plan })
    }

    fn commit(&mut self) -> Result<Committed, Error> {
        if self.dry_run {
            return Err(Error::internal("a dry run is never committed"));
        }
        if let Some(m) = &self.marker {
            std::fs::write(m, format!("{} records\n", self.written))?;
        }
        Ok(Committed { location: "nowhere".into(), notes: vec![] })
    }

    fn abort(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

ferry_sdk::export_plugin!(Noop);
