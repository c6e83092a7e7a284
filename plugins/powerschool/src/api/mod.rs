//! API mode: when `directory` is an `https://` (or `http://`) URL, the
//! source reads a live PowerSchool through its REST API instead of a folder.
//!
//! One set of mappers: each table is read through
//! `/ws/schema/table/{table}?projection=…&page=N&pagesize=M` (and each
//! configured PowerQuery through `POST /ws/schema/query/{name}`), every
//! JSON record is brought down to the cells of a text-export row (see
//! [`json`]: one item as an object, `""` as empty, numbers as strings and
//! strings as numbers, ids never through a number), and the rows are
//! staged, page by page, as a tab-delimited export file of that table in
//! the owner-only state folder. The folder is then read exactly as an
//! export folder is: same discovery, same handlers, same mappers, so the
//! API and the export of one district give the same canonical records
//! (column names arrive lower-case from the API, which the header folding
//! already ignores; extension keys keep them as the API gives them).
//!
//! Paging: the page size is the server's `schema_table_query_max_page_size`
//! from `/ws/v1/metadata` (or `page_size`, at most that), `concurrency`
//! pages are in flight at once, a table ends at its first short page, and
//! the rows read are checked against `/count`. Every page is a unit of
//! progress (logged at debug: the SDK has no progress channel for a
//! source) and of resume: the state (`state.json`) is saved after every
//! batch of pages, so an interrupted read picks up at its first page not
//! written, and says which pages it kept and which it reads again.

pub mod json;
pub mod state;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ferry_sdk::http::{Auth, ClientCredentials, HttpClient, HttpSettings, Request, Response};
use ferry_sdk::serde_json::{self, Value};
use ferry_sdk::{Error, OpenContext, tracing};

use crate::config::{CountCheck, FileConfig, SourceConfig};
use crate::tables::Table;
use state::{State, TableState, private_dir, private_file};

/// Whether `directory` names an API rather than a folder.
pub fn is_url(directory: &str) -> bool {
    let d = directory.trim().to_ascii_lowercase();
    d.starts_with("https://") || d.starts_with("http://")
}

/// The default state folder, relative to the job file.
pub const DEFAULT_STATE_DIR: &str = "ferry-powerschool-api";

/// The state folder's subfolder holding the staged files (the only files
/// Ferry ever removes from it, with `state.json`).
const PAGES_DIR: &str = "pages";

/// The tables read by default: every PowerSchool table the mappers know,
/// but the Teachers view (the schema-table endpoint refuses views) and
/// Ferry's own flat contacts layout.
fn default_tables() -> Vec<String> {
    Table::all()
        .filter(|t| !matches!(t, Table::Teachers | Table::Contacts))
        .map(|t| t.name().to_ascii_lowercase())
        .collect()
}

/// What one staged file is read from.
enum Kind {
    /// `/ws/schema/table/{table}` with this projection.
    Table { projection: String },
    /// `POST /ws/schema/query/{name}` with this body.
    Query { body: Value },
}

/// One staged file to fill.
struct Read {
    /// The schema table or PowerQuery name.
    name: String,
    /// The staged file's stem (the state's key).
    stem: String,
    kind: Kind,
    /// Listed in the configuration (a missing one is an error, not a note).
    configured: bool,
}

/// The staged folder, ready to be read as an export folder.
pub struct Staged {
    /// The folder.
    pub dir: PathBuf,
    /// The configuration to read it with.
    pub cfg: SourceConfig,
    /// Lines for the run summary.
    pub notices: Vec<String>,
}

/// Reads every table and PowerQuery into the state folder.
pub fn stage(ctx: &OpenContext, cfg: &SourceConfig) -> Result<Staged, Error> {
    let base = cfg.directory.trim().trim_end_matches('/').to_owned();
    let need = |v: &Option<String>, key: &str| {
        v.clone().filter(|s| !s.is_empty()).ok_or_else(|| {
            Error::config(format!(
                "{key}: required when directory is a PowerSchool URL (the plugin's OAuth client {key}, from System > System Settings > Plugin Management Dashboard)"
            ))
        })
    };
    let (id, secret) = (need(&cfg.client_id, "client_id")?, need(&cfg.client_secret, "client_secret")?);
    let concurrency = cfg.concurrency.unwrap_or(4);
    if concurrency == 0 || concurrency > 64 {
        return Err(Error::config("concurrency: give 1 to 64 requests in flight"));
    }
    let settings = HttpSettings {
        concurrency,
        max_retries: cfg.max_retries.unwrap_or(5),
        timeout: Duration::from_secs(cfg.timeout_seconds.unwrap_or(60).max(1)),
        ..HttpSettings::default()
    };
    let auth =
        Auth::ClientCredentials(ClientCredentials::new(format!("{base}/oauth/access_token"), id, secret));
    let http = HttpClient::new(settings, auth, ctx.cancel)?;
    let dir = ctx.resolve(cfg.state_dir.as_deref().unwrap_or(DEFAULT_STATE_DIR));
    private_dir(&dir)?;
    let pages_dir = dir.join(PAGES_DIR);
    private_dir(&pages_dir)?;
    let mut notices = Vec::new();

    let meta = get(&http, &format!("{base}/ws/v1/metadata"), &[])?.error_for_status()?;
    let meta: Value = meta.json()?;
    let meta = meta.get("metadata").unwrap_or(&meta);
    let max = json::number(meta.get("schema_table_query_max_page_size"));
    let page_size = match (cfg.page_size, max) {
        (Some(0), _) => return Err(Error::config("page_size: give at least 1")),
        (Some(p), Some(m)) if p > m => {
            notices.push(format!(
                "page_size {p} is over the server's schema_table_query_max_page_size {m}: pages of {m} rows were read"
            ));
            m
        }
        (Some(p), _) => p,
        (None, Some(m)) if m > 0 => m,
        (None, _) => {
            notices.push(
                "the server's /ws/v1/metadata gives no schema_table_query_max_page_size: pages of 100 rows were read (set page_size to change it)".into(),
            );
            100
        }
    };

    let mut state = match State::load(&dir)? {
        Some(s) if cfg.resume && s.base_url == base => {
            if s.page_size != page_size {
                return Err(Error::config(format!(
                    "resume: the interrupted read used pages of {} rows, this one {page_size}; set page_size = {} to resume it, or run without resume to start over",
                    s.page_size, s.page_size
                )));
            }
            s
        }
        old => {
            if cfg.resume && old.is_some() {
                notices.push(format!(
                    "resume: the state in {} is of another server; the read started over",
                    dir.display()
                ));
            } else if cfg.resume {
                notices.push(
                    "resume: no interrupted read to resume; the read started from the first page".into(),
                );
            }
            clear(&dir)?;
            State { base_url: base.clone(), page_size, tables: BTreeMap::new() }
        }
    };

    let mut reads: Vec<Read> = Vec::new();
    for t in default_tables() {
        let projection = cfg.tables.get(&t).cloned().unwrap_or_else(|| "*".into());
        reads.push(Read { stem: t.clone(), name: t, kind: Kind::Table { projection }, configured: false });
    }
    for (t, projection) in &cfg.tables {
        let t = t.to_ascii_lowercase();
        if let Some(r) = reads.iter_mut().find(|r| r.name == t) {
            r.configured = true;
        } else {
            reads.push(Read {
                stem: t.clone(),
                name: t,
                kind: Kind::Table { projection: projection.clone() },
                configured: true,
            });
        }
    }
    let mut files: BTreeMap<String, FileConfig> = BTreeMap::new();
    for (name, q) in &cfg.powerqueries {
        let stem = format!("pq_{}", name.replace(['/', '\\'], "_"));
        if let Some(table) = &q.table {
            files.insert(
                format!("{stem}.txt"),
                FileConfig { table: Some(table.clone()), ..FileConfig::default() },
            );
        }
        if let Some(table) = &q.table {
            // The query's rows are that table's rows: the table itself is not read too.
            let t = table.to_ascii_lowercase();
            reads.retain(|r| r.name != t || r.configured);
        }
        let body = q.arguments.clone().unwrap_or_else(|| serde_json::json!({}));
        reads.push(Read { name: name.clone(), stem, kind: Kind::Query { body }, configured: true });
    }

    let mut reader = Reader {
        http: &http,
        base: &base,
        dir: &dir,
        pages: &pages_dir,
        page_size,
        concurrency: concurrency as u64,
        cancel: ctx,
    };
    let mut missing = Vec::new();
    let mut kept = Vec::new();
    let mut again = Vec::new();
    for r in &reads {
        let st = state.tables.entry(r.stem.clone()).or_default();
        let staged = pages_dir.join(format!("{}.txt", r.stem));
        if st.pages > 0 && std::fs::metadata(&staged).map_or(0, |m| m.len()) < st.bytes {
            // Its staged pages are gone: nothing of it is kept.
            tracing::warn!("{}: its staged pages are missing; it is read again from its first page", r.name);
            *st = TableState::default();
        }
        if st.pages > 0 {
            kept.push(format!("{} pages 1-{}", r.name, st.pages));
        }
        if !st.inflight.is_empty() {
            again.push(format!("{} pages {}", r.name, ranges(&st.inflight)));
        }
        if st.done {
            continue;
        }
        match reader.read(r, &mut state, cfg.count_check)? {
            Outcome::Read => {}
            Outcome::Missing(why) => missing.push(format!("{} ({why})", r.name)),
        }
    }
    if !kept.is_empty() {
        notices.push(format!(
            "resumed an interrupted read: pages already read were kept, not read again: {}",
            kept.join(", ")
        ));
        if again.is_empty() {
            notices.push("resumed: no page was read twice".into());
        } else {
            notices.push(format!(
                "resumed: pages being read when the last run stopped were read again: {}",
                again.join(", ")
            ));
        }
    }
    if !missing.is_empty() {
        notices.push(format!(
            "{} PowerSchool table(s) could not be read through the API and were left out: {} (a table the plugin's access_request does not grant is 403; one the server lacks is 404)",
            missing.len(),
            missing.join(", ")
        ));
    }
    let s = http.stats();
    let pages: u64 = state.tables.values().map(|t| t.pages).sum();
    let rows: u64 = state.tables.values().map(|t| t.rows).sum();
    notices.push(format!(
        "PowerSchool API: {rows} rows in {pages} pages of up to {page_size}, {} requests ({} retried, {} throttled with 429), {} access token(s)",
        s.attempts, s.retries, s.throttled, s.tokens_fetched
    ));
    let mut staged = cfg.clone();
    staged.directory = pages_dir.display().to_string();
    staged.files = files;
    staged.ignore = Vec::new();
    staged.dialect = Some(ferry_sdk::text::DialectOverride {
        delimiter: Some(ferry_sdk::text::Delimiter::TAB),
        quoting: Some(true),
        header: Some(true),
        ..ferry_sdk::text::DialectOverride::default()
    });
    Ok(Staged { dir: pages_dir, cfg: staged, notices })
}

/// Removes what an earlier read left in the state folder `dir`: the staged
/// files of its `pages` subfolder, and `state.json`.
fn clear(dir: &Path) -> Result<(), Error> {
    let pages = dir.join(PAGES_DIR);
    if let Ok(entries) = std::fs::read_dir(&pages) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().ends_with(".txt") {
                std::fs::remove_file(e.path())
                    .map_err(|err| Error::io(format!("{}: cannot remove: {err}", e.path().display())))?;
            }
        }
    }
    match std::fs::remove_file(dir.join(state::STATE_FILE)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::io(format!("{}: cannot remove: {e}", dir.join(state::STATE_FILE).display())))
        }
        _ => Ok(()),
    }
}

/// Removes the staged files and the state once the read is over (`pages`:
/// the staged folder, inside the state folder).
pub fn finish(pages: &Path) {
    let Some(dir) = pages.parent() else { return };
    if let Err(e) = clear(dir) {
        tracing::warn!("{e}");
    }
    let _ = std::fs::remove_dir(pages);
    let _ = std::fs::remove_dir(dir);
}

/// Page numbers as ranges (`3-5, 9`).
fn ranges(pages: &[u64]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < pages.len() {
        let mut j = i;
        while j + 1 < pages.len() && pages[j + 1] == pages[j] + 1 {
            j += 1;
        }
        out.push(if i == j { pages[i].to_string() } else { format!("{}-{}", pages[i], pages[j]) });
        i = j + 1;
    }
    out.join(", ")
}

fn get(http: &HttpClient, url: &str, query: &[(&str, &str)]) -> Result<Response, Error> {
    http.get_json(url, query)
}

enum Outcome {
    Read,
    Missing(String),
}

struct Reader<'a> {
    http: &'a HttpClient,
    base: &'a str,
    /// The state folder.
    dir: &'a Path,
    /// The staged files' folder.
    pages: &'a Path,
    page_size: u64,
    concurrency: u64,
    cancel: &'a OpenContext,
}

impl Reader<'_> {
    fn page_request(&self, r: &Read, page: u64) -> Request {
        let (p, ps) = (page.to_string(), self.page_size.to_string());
        match &r.kind {
            Kind::Table { projection } => Request::get(format!("{}/ws/schema/table/{}", self.base, r.name))
                .header("accept", "application/json")
                .query("projection", projection.clone())
                .query("page", p)
                .query("pagesize", ps),
            Kind::Query { body } => {
                Request::post_json(format!("{}/ws/schema/query/{}", self.base, r.name), body.clone())
                    .header("accept", "application/json")
                    .query("page", p)
                    .query("pagesize", ps)
            }
        }
    }

    fn count(&self, r: &Read) -> Result<Result<u64, String>, Error> {
        let req = match &r.kind {
            Kind::Table { .. } => Request::get(format!("{}/ws/schema/table/{}/count", self.base, r.name))
                .header("accept", "application/json"),
            Kind::Query { body } => {
                Request::post_json(format!("{}/ws/schema/query/{}/count", self.base, r.name), body.clone())
                    .header("accept", "application/json")
            }
        };
        let resp = self.http.send(req)?;
        if matches!(resp.status, 403..=405) {
            let why = match resp.status {
                403 => "403, not granted",
                404 => "404, not on the server",
                _ => "405, not readable through this endpoint",
            };
            return Ok(Err(why.into()));
        }
        let resp = resp.error_for_status()?;
        let v: Value = resp.json()?;
        json::count(&v).map(Ok).ok_or_else(|| {
            Error::data(format!("{}: the /count answer holds no count: {}", r.name, short(&resp.text())))
        })
    }

    fn read(&mut self, r: &Read, state: &mut State, check: CountCheck) -> Result<Outcome, Error> {
        let count = match self.count(r)? {
            Ok(n) => n,
            Err(why) if !r.configured => return Ok(Outcome::Missing(why)),
            Err(why) => {
                return Err(Error::config(format!(
                    "{}: listed in the configuration but the API does not serve it ({why}); grant it in the plugin's access_request, or take it out",
                    r.name
                )));
            }
        };
        let path = self.pages.join(format!("{}.txt", r.stem));
        let st = state.tables.get(&r.stem).cloned().unwrap_or_default();
        let mut st = TableState { inflight: Vec::new(), ..st };
        let staged_len = std::fs::metadata(&path).map_or(0, |m| m.len());
        if st.pages > 0 && staged_len < st.bytes {
            // The staged file is gone or shorter than its state says.
            tracing::warn!("{}: its staged pages are missing; it is read again from its first page", r.name);
            st = TableState::default();
        }
        // Anything past the last written page is a page that was being
        // written when the run stopped: cut it off.
        if st.pages > 0 {
            let f = private_file(&path, true)?;
            f.set_len(st.bytes)
                .map_err(|e| Error::io(format!("{}: cannot truncate: {e}", path.display())))?;
        } else {
            let _ = std::fs::remove_file(&path);
            st = TableState::default();
        }
        let mut file = std::io::BufWriter::new(private_file(&path, true)?);
        let mut cells: Vec<(String, String)> = Vec::new();
        let mut line = String::new();
        // The first page that should be short or empty, by the count.
        let last_expected = count / self.page_size + 1;
        let mut next = st.pages + 1;
        'pages: loop {
            if self.cancel.is_cancelled() {
                return Err(Error::cancelled());
            }
            let upper = (next + self.concurrency - 1).min(last_expected.max(next));
            let batch: Vec<u64> = (next..=upper).collect();
            st.inflight.clone_from(&batch);
            state.tables.insert(r.stem.clone(), st.clone());
            state.save(self.dir)?;
            let reqs = batch.iter().map(|&p| self.page_request(r, p)).collect();
            let answers = self.http.send_all(reqs);
            let mut ended = false;
            for (&page, answer) in batch.iter().zip(answers) {
                let resp = answer?.error_for_status()?;
                let v: Value = resp.json().map_err(|e| e.context(format!("{} page {page}", r.name)))?;
                let records = json::list(v.get("record"));
                let n = records.len() as u64;
                for (i, rec) in records.into_iter().enumerate() {
                    let at = || format!("{} page {page} record {}", r.name, i + 1);
                    json::record_cells(rec, &r.name, &at, &mut cells)?;
                    if st.columns.is_empty() {
                        st.columns = cells.iter().map(|(k, _)| k.clone()).collect();
                        line.clear();
                        for (j, c) in st.columns.iter().enumerate() {
                            push_cell(&mut line, j, c);
                        }
                        line.push('\n');
                        write(&mut file, &line, &path)?;
                    }
                    line.clear();
                    row_line(&st.columns, &cells, &mut line).map_err(|col| {
                        Error::data(format!(
                            "{}: column {col} is not in the table's first record; list the columns in `tables` (a projection)",
                            at()
                        ))
                    })?;
                    write(&mut file, &line, &path)?;
                }
                file.flush().map_err(|e| Error::io(format!("{}: cannot write: {e}", path.display())))?;
                st.pages = page;
                st.rows += n;
                st.bytes = file.get_ref().metadata().map(|m| m.len()).unwrap_or(st.bytes);
                tracing::debug!(table = %r.name, page, rows = n, total = st.rows, "PowerSchool API page read");
                ferry_sdk::progress(&format!("PowerSchool API: {} page {page} of {last_expected}", r.name));
                if n < self.page_size {
                    ended = true;
                    break;
                }
            }
            st.inflight.clear();
            if ended {
                break 'pages;
            }
            state.tables.insert(r.stem.clone(), st.clone());
            state.save(self.dir)?;
            next = st.pages + 1;
        }
        st.done = true;
        state.tables.insert(r.stem.clone(), st.clone());
        state.save(self.dir)?;
        // With -v: a line per table read (no values, so no personal data).
        tracing::info!(table = %r.name, rows = st.rows, pages = st.pages, "PowerSchool API table read");
        if st.rows != count {
            let msg = format!(
                "{}: the API's /count gave {count} rows but {} were read (rows changed during the read, or a resumed read spans a change)",
                r.name, st.rows
            );
            match check {
                CountCheck::Error => {
                    // Nothing of this table is kept: a resumed run reads it again.
                    drop(file);
                    let _ = std::fs::remove_file(&path);
                    state.tables.insert(r.stem.clone(), TableState::default());
                    state.save(self.dir)?;
                    return Err(Error::data(format!(
                        "{msg}; run again (with resume = true, the tables already read are kept and this one is read again), or set count_check = \"warn\" to go on with the rows read"
                    )));
                }
                CountCheck::Warn => tracing::warn!("{msg}"),
            }
        }
        Ok(Outcome::Read)
    }
}

fn short(s: &str) -> String {
    s.chars().take(200).collect()
}

fn write(file: &mut impl Write, line: &str, path: &Path) -> Result<(), Error> {
    file.write_all(line.as_bytes()).map_err(|e| Error::io(format!("{}: cannot write: {e}", path.display())))
}

/// Appends cell `j` (tab-separated; quoted when it holds a tab, a quote or a line break).
fn push_cell(line: &mut String, j: usize, text: &str) {
    if j > 0 {
        line.push('\t');
    }
    if text.contains(['\t', '"', '\n', '\r']) {
        line.push('"');
        line.push_str(&text.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(text);
    }
}

/// The line of a record whose cells are `cells`, in the order of
/// `columns` (a column the record lacks is empty); `Err` names a cell not
/// in `columns`.
fn row_line(columns: &[String], cells: &[(String, String)], line: &mut String) -> Result<(), String> {
    let in_order = cells.len() == columns.len() && cells.iter().zip(columns).all(|((k, _), c)| k == c);
    if in_order {
        for (j, (_, v)) in cells.iter().enumerate() {
            push_cell(line, j, v);
        }
    } else {
        if let Some((k, _)) = cells.iter().find(|(k, _)| !columns.contains(k)) {
            return Err(k.clone());
        }
        for (j, c) in columns.iter().enumerate() {
            let v = cells.iter().find(|(k, _)| k == c).map_or("", |(_, v)| v.as_str());
            push_cell(line, j, v);
        }
    }
    line.push('\n');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_folders() {
        assert!(is_url("https://ps.example.org"));
        assert!(is_url(" HTTP://127.0.0.1:8080/"));
        assert!(!is_url("exports/2025"));
        assert!(!is_url("C:\\exports"));
    }

    #[test]
    fn rows_are_tab_lines_quoted_where_needed() {
        let cols: Vec<String> = ["a", "b", "c"].iter().map(|s| (*s).to_owned()).collect();
        let mut line = String::new();
        let cells =
            vec![("a".into(), "1".into()), ("b".into(), "x\ty".into()), ("c".into(), "say \"hi\"".into())];
        row_line(&cols, &cells, &mut line).unwrap();
        assert_eq!(line, "1\t\"x\ty\"\t\"say \"\"hi\"\"\"\n");
        line.clear();
        // Out of order and missing a column.
        row_line(&cols, &[("c".into(), "3".into()), ("a".into(), "007".into())], &mut line).unwrap();
        assert_eq!(line, "007\t\t3\n");
        line.clear();
        assert_eq!(row_line(&cols, &[("z".into(), "1".into())], &mut line), Err("z".into()));
    }

    #[test]
    fn page_ranges() {
        assert_eq!(ranges(&[3, 4, 5, 9]), "3-5, 9");
        assert_eq!(ranges(&[1]), "1");
    }

    #[test]
    fn the_default_tables_leave_out_views() {
        let t = default_tables();
        assert!(t.contains(&"students".to_owned()) && t.contains(&"cc".to_owned()));
        assert!(!t.contains(&"teachers".to_owned()));
    }
}
