//! The worker thread that owns the run's SQLite connection: the sink hands it
//! each Arrow batch (an `Arc` clone, no copy of the values) and goes back to
//! the host for the next one while the worker writes or plans it.
//!
//! A failure on the worker ends the thread and fails the next `write` or the
//! `prepare`; closing the channel without `finish` abandons the run.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use ferry_sdk::model::{EntityKind, RecordBatch};
use ferry_sdk::{EntityPlan, Error, RunSummary};

/// Batches waiting for the worker (bounds memory: the host's batches stay
/// alive until the worker is done with them).
const QUEUE: usize = 4;

/// What the worker does with a run: write it into the temporary copy, or
/// plan it against the existing archive (a dry run).
pub(crate) trait Job: Send + 'static {
    /// Takes one batch of `kind`.
    fn batch(&mut self, kind: EntityKind, batch: &RecordBatch) -> Result<(), Error>;
    /// Takes one batch of source table `table`.
    fn table(&mut self, table: &str, batch: &RecordBatch) -> Result<(), Error>;
    /// Finishes the run: everything that can fail happens here.
    fn finish(self: Box<Self>, summary: &RunSummary) -> Result<Finished, Error>;
}

/// What a finished job reports.
#[derive(Debug, Default)]
pub(crate) struct Finished {
    /// Lines for the run summary.
    pub notes: Vec<String>,
    /// Per entity, what the run does or would do.
    pub plan: Vec<EntityPlan>,
    /// Records refused once the whole run was seen (repeated source ids).
    pub rejects: Vec<ferry_sdk::Reject>,
}

enum Msg {
    Batch(EntityKind, RecordBatch),
    Table(String, RecordBatch),
    Finish(Box<RunSummary>),
}

/// The running worker thread.
pub(crate) struct Worker {
    tx: Option<SyncSender<Msg>>,
    handle: Option<JoinHandle<Result<Finished, Error>>>,
    /// The job's first error.
    failed: Arc<Mutex<Option<Error>>>,
}

impl Worker {
    /// Starts `job` on its own thread.
    pub(crate) fn spawn(job: Box<dyn Job>) -> Result<Worker, Error> {
        let (tx, rx) = sync_channel::<Msg>(QUEUE);
        let failed = Arc::new(Mutex::new(None));
        let seen = Arc::clone(&failed);
        let handle = std::thread::Builder::new()
            .name("ferry-sqlite-worker".into())
            .spawn(move || run(job, &rx, &seen))
            .map_err(|e| Error::io(format!("cannot start the archive's worker thread: {e}")))?;
        Ok(Worker { tx: Some(tx), handle: Some(handle), failed })
    }

    /// The job's error, if it failed.
    pub(crate) fn failure(&self) -> Option<Error> {
        self.failed.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Hands a batch to the job.
    pub(crate) fn send(&self, kind: EntityKind, batch: RecordBatch) -> Result<(), Error> {
        self.post(Msg::Batch(kind, batch))
    }

    /// Hands a batch of a source table to the job.
    pub(crate) fn send_table(&self, table: &str, batch: RecordBatch) -> Result<(), Error> {
        self.post(Msg::Table(table.to_owned(), batch))
    }

    fn post(&self, msg: Msg) -> Result<(), Error> {
        if let Some(f) = self.failure() {
            return Err(f);
        }
        let tx = self.tx.as_ref().ok_or_else(|| Error::internal("write after prepare, commit or abort"))?;
        tx.send(msg).map_err(|_| {
            self.failure().unwrap_or_else(|| Error::internal("the archive's worker thread stopped"))
        })
    }

    /// Finishes the job and waits for it.
    pub(crate) fn finish(&mut self, summary: &RunSummary) -> Result<Finished, Error> {
        if let Some(f) = self.failure() {
            self.stop();
            return Err(f.context("the archive run failed earlier"));
        }
        let tx = self.tx.take().ok_or_else(|| Error::internal("the archive run was already finished"))?;
        // A failed send means the thread ended; `join` says why.
        let _ = tx.send(Msg::Finish(Box::new(summary.clone())));
        drop(tx);
        self.join()
    }

    /// Abandons the job (its connection is closed, its transaction rolled
    /// back) and waits for the thread to end.
    pub(crate) fn stop(&mut self) {
        self.tx = None;
        if self.handle.is_some() {
            let _ = self.join();
        }
    }

    fn join(&mut self) -> Result<Finished, Error> {
        match self.handle.take() {
            Some(h) => {
                h.join().unwrap_or_else(|_| Err(Error::internal("the archive's worker thread panicked")))
            }
            None => Err(Error::internal("the archive's worker thread is gone")),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(mut job: Box<dyn Job>, rx: &Receiver<Msg>, failed: &Mutex<Option<Error>>) -> Result<Finished, Error> {
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Batch(kind, batch) => {
                if let Err(e) = job.batch(kind, &batch) {
                    *failed.lock().unwrap_or_else(PoisonError::into_inner) = Some(e.clone());
                    return Err(e);
                }
            }
            Msg::Table(table, batch) => {
                if let Err(e) = job.table(&table, &batch) {
                    *failed.lock().unwrap_or_else(PoisonError::into_inner) = Some(e.clone());
                    return Err(e);
                }
            }
            Msg::Finish(summary) => return job.finish(&summary),
        }
    }
    Err(Error::internal("the archive run was abandoned before it was prepared"))
}
