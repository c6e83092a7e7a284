//! The end of a write: repeated records resolved, indexes built, stale rows
//! pruned, planner statistics gathered, the run recorded in `ferry_runs` with
//! its counts and table checksums, and the transaction committed.

use ferry_archive::schema::{SCHEMA_VERSION, Table};
use ferry_archive::sql::{insert_run_plugin_sql, insert_run_sql};
use ferry_archive::{format, table_checksum};
use ferry_sdk::RunSummary;
use ferry_sdk::model::MODEL_VERSION;
use ferry_sdk::serde_json::{self, json};
use rusqlite::Connection;

use crate::identity::WRITER;
use crate::sink::entity::{CACHE_KIB, EntityWriter, prune, prune_refusal, stale_rows};
use crate::sink::writer::Duplicates;

/// What the writer knows about the run besides its records.
pub(crate) struct RunFacts {
    /// The run's id (used when the host's summary has none).
    pub run_id: String,
    /// When the writer started (used when the summary has no start).
    pub started_at: String,
    /// Delete rows of the run's source systems that it did not write, up to
    /// this share of an entity's rows.
    pub prune_stale: Option<f64>,
}

/// Totals of a finished write.
pub(crate) struct Done {
    /// Records upserted.
    pub upserted: u64,
    /// Rows removed by delete operations.
    pub deleted: u64,
    /// Stale rows pruned.
    pub pruned: u64,
}

/// Why a write could not finish.
pub(crate) enum FinishError {
    /// SQLite failed.
    Db(rusqlite::Error),
    /// The run would prune more than it may.
    Refused(String),
}

impl From<rusqlite::Error> for FinishError {
    fn from(e: rusqlite::Error) -> FinishError {
        FinishError::Db(e)
    }
}

/// Finishes every table, records the run and commits.
pub(crate) fn finish(
    conn: &Connection,
    tables: &[Table],
    entities: &mut [EntityWriter],
    facts: &RunFacts,
    summary: &RunSummary,
    source_tables: serde_json::Map<String, serde_json::Value>,
    (policy, found): (Duplicates, &mut Vec<ferry_sdk::Reject>),
) -> Result<Done, FinishError> {
    let mut counts = serde_json::Map::new();
    let mut checksums = source_tables;
    let mut done = Done { upserted: 0, deleted: 0, pruned: 0 };
    // Index builds sort in memory up to the cache size; the host waits for
    // the prepare, so the sorter may use a second thread.
    conn.execute_batch(&format!("PRAGMA cache_size = -{CACHE_KIB}; PRAGMA threads = 2;"))?;
    for (t, w) in tables.iter().zip(entities.iter_mut()) {
        w.build_indexes(conn, t, policy, found)?;
        let host = summary.entities.iter().find(|c| c.entity == t.name());
        // Never prune an entity the run read none of (an export without it).
        let read_some = host.is_none_or(|h| h.read > 0);
        let pruned = match facts.prune_stale {
            Some(max) if w.upserted > 0 && !w.bulk && read_some => {
                let (stale, stored) = stale_rows(conn, t, &w.systems, &facts.run_id)?;
                if let Some(why) = prune_refusal(t.name(), stale, stored, max) {
                    return Err(FinishError::Refused(why));
                }
                prune(conn, t, &w.systems, &facts.run_id)?
            }
            _ => 0,
        };
        done.upserted += w.upserted;
        done.deleted += w.deleted;
        done.pruned += pruned;
        if w.records == 0 && host.is_none() && !w.altered {
            continue;
        }
        let sum = match w.checksum {
            Some(sum) => sum,
            None => table_checksum(conn, t.name())?,
        };
        let mut c = json!({
            "archived": w.upserted,
            "deleted": w.deleted,
            "pruned": pruned,
            "rows": sum.rows,
        });
        if let (Some(h), Some(obj)) = (host, c.as_object_mut()) {
            obj.insert("read".into(), h.read.into());
            obj.insert("written".into(), h.written.into());
            obj.insert("rejected".into(), h.rejected.into());
            obj.insert("warned".into(), h.warned.into());
            obj.insert("skipped".into(), h.skipped.into());
        }
        counts.insert(t.name().into(), c);
        checksums.insert(t.name().into(), json!({ "rows": sum.rows, "checksum": sum.hex() }));
    }
    // Planner statistics (sampled, so cheap): with them SQLite can, for
    // instance, skip-scan the (school_id, date) index for a date alone.
    // Only the entity tables: source tables are read by rowid, and counting
    // their rows would pull them all through the page cache.
    conn.execute_batch("PRAGMA analysis_limit = 1000;")?;
    for t in tables {
        conn.execute_batch(&format!("ANALYZE {}", ferry_archive::schema::quote(t.name())))?;
    }
    let committed_at = format::now(conn)?;
    let or = |s: &str, d: &str| if s.is_empty() { d.to_owned() } else { s.to_owned() };
    conn.execute(
        &insert_run_sql(),
        rusqlite::params![
            or(&summary.run_id, &facts.run_id),
            (!summary.source.is_empty()).then_some(summary.source.as_str()),
            WRITER,
            format!("{}.{}", MODEL_VERSION.0, MODEL_VERSION.1),
            SCHEMA_VERSION,
            (!summary.config_sha256.is_empty()).then_some(summary.config_sha256.as_str()),
            or(&summary.started_at, &facts.started_at),
            or(&summary.finished_at, &committed_at),
            committed_at,
            serde_json::Value::Object(counts).to_string(),
            serde_json::Value::Object(checksums).to_string(),
        ],
    )?;
    for p in &summary.plugins {
        conn.execute(
            &insert_run_plugin_sql(),
            rusqlite::params![
                or(&summary.run_id, &facts.run_id),
                p.role,
                p.id,
                p.version,
                p.sha256,
                (!p.signed_by.is_empty()).then_some(p.signed_by.as_str()),
            ],
        )?;
    }
    conn.execute_batch("COMMIT")?;
    Ok(done)
}
