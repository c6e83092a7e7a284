//! A fake PowerSchool REST API on loopback, serving a district from a
//! folder of tab-delimited exports (what `ferry-gen` writes without quirks),
//! so that the export and the API serve the same district:
//!
//! - **OAuth2 client credentials** at `POST /oauth/access_token` (and with a
//!   trailing slash), HTTP Basic; `expires_in` as a *string*, as one real
//!   client models it; tokens expire after `token_lifetime` (or earlier than
//!   they say: `token_dies_after`); a data request without a live token is
//!   a 401.
//! - `GET /ws/v1/metadata`: the max page sizes (`schema_table_query_max_page_size`
//!   and the v1 ones), as strings.
//! - `GET /ws/schema/table/{table}?projection=…&page=N&pagesize=M`: the
//!   documented shape `{"name":…,"record":[{"id":…,"name":…,"tables":{"{table}":{…}}}]}`,
//!   column names lower-case, NULL as `""`; a projection is required (`*` or
//!   columns; an unknown column is a 400), a page size over the maximum is
//!   a 400, an unknown table a 404.
//! - `GET /ws/schema/table/{table}/count`: `{"count": N}` (a lie can be set per table).
//! - `POST /ws/schema/query/{name}` (+`/count`): a PowerQuery serving a
//!   table's rows as flat records keyed `table.column`, with `_name`.
//! - **Quirks** (`Options::quirks`): a one-record page's `record` is an
//!   object, not an array; an empty page's `record` is `""`; integer values
//!   without leading zeros go out as JSON numbers on every other record
//!   (values with leading zeros always as strings); `M/D/YYYY` dates as
//!   ISO `YYYY-MM-DD`, as the API gives them.
//! - **Faults**: every Nth data request a 429 with `Retry-After`, a latency
//!   per data request.
//! - **Counters**: requests, 429s served, tokens issued, 401s, the pages
//!   served.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Response};
use serde_json::{Map, Value, json};

use super::edfi::{base64_decode, query_pairs, reply};

/// One table the fake serves.
#[derive(Clone, Debug, Default)]
pub struct FakeTable {
    /// The table's name as PowerSchool spells it (`Students`, `Attendance_Code`).
    pub name: String,
    /// Column names as the export wrote them.
    pub columns: Vec<String>,
    /// Rows, cells as text (`""`: NULL).
    pub rows: Vec<Vec<String>>,
}

/// Reads every `*.txt` tab-delimited export in `dir` (first line: the
/// column names; no quoting) as a table named by the file's stem.
pub fn load_folder(dir: &Path) -> std::io::Result<Vec<FakeTable>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for n in names {
        let text = std::fs::read_to_string(dir.join(&n))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        let Some(header) = lines.next() else { continue };
        let columns: Vec<String> = header.split('\t').map(str::to_owned).collect();
        let rows =
            lines.filter(|l| !l.is_empty()).map(|l| l.split('\t').map(str::to_owned).collect()).collect();
        let stem = n.trim_end_matches(".txt").to_owned();
        out.push(FakeTable { name: stem, columns, rows });
    }
    Ok(out)
}

/// What the fake did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every request, token requests included.
    pub requests: u64,
    /// Requests under `/ws`.
    pub data_requests: u64,
    /// 429s served.
    pub throttled: u64,
    /// Tokens issued.
    pub tokens_issued: u64,
    /// Data requests refused for want of a live token.
    pub unauthorized: u64,
    /// Pages served (200s), per table: the page numbers in serving order.
    pub pages: BTreeMap<String, Vec<u64>>,
}

/// How the fake starts.
#[derive(Clone, Debug)]
pub struct Options {
    /// The client id it accepts.
    pub client_id: String,
    /// The secret it accepts.
    pub client_secret: String,
    /// How long a token lives (what `expires_in` says).
    pub token_lifetime: Duration,
    /// How long a token really lives, when shorter than it says (a server
    /// that revokes early): a request with it is then a 401.
    pub token_dies_after: Option<Duration>,
    /// The schema-table page size limit.
    pub max_page_size: u64,
    /// Every Nth data request answers 429.
    pub throttle_every: Option<u64>,
    /// The `Retry-After` of those 429s, in seconds.
    pub retry_after: u64,
    /// The JSON quirks (see the module).
    pub quirks: bool,
    /// Added to a table's `/count` (a table whose count lies), by lower-case name.
    pub count_offset: BTreeMap<String, i64>,
    /// PowerQueries: name → the table whose rows it returns.
    pub queries: BTreeMap<String, String>,
    /// Waited before answering each data request.
    pub latency: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            client_id: "ferry-ps-test".into(),
            client_secret: "ps-s3cret-not-logged".into(),
            token_lifetime: Duration::from_secs(3600),
            token_dies_after: None,
            max_page_size: 100,
            throttle_every: None,
            retry_after: 0,
            quirks: true,
            count_offset: BTreeMap::new(),
            queries: BTreeMap::new(),
            latency: Duration::ZERO,
        }
    }
}

struct State {
    opts: Options,
    /// Shared, so that serving a page does not copy its table.
    tables: HashMap<String, Arc<FakeTable>>,
    tokens: HashMap<String, Instant>,
    stats: Stats,
}

/// A running fake; stopped on drop.
pub struct FakePowerSchool {
    server: super::Server,
    state: Arc<Mutex<State>>,
}

impl FakePowerSchool {
    /// Serves the exports in `dir` (see [`load_folder`]).
    pub fn serve_folder(dir: &Path, opts: Options) -> std::io::Result<FakePowerSchool> {
        Ok(FakePowerSchool::start(load_folder(dir)?, opts))
    }

    /// Serves `tables` on 127.0.0.1 (a free port).
    pub fn start(tables: Vec<FakeTable>, opts: Options) -> FakePowerSchool {
        let tables = tables.into_iter().map(|t| (t.name.to_ascii_lowercase(), Arc::new(t))).collect();
        let state =
            Arc::new(Mutex::new(State { opts, tables, tokens: HashMap::new(), stats: Stats::default() }));
        let st = Arc::clone(&state);
        let server = super::Server::start("fake-powerschool", move |_| {
            move |req: axum::extract::Request| {
                let st = Arc::clone(&st);
                async move { handle(st, req).await }
            }
        });
        FakePowerSchool { server, state }
    }

    /// `http://127.0.0.1:PORT`: the connector's `directory`.
    pub fn base_url(&self) -> &str {
        self.server.base_url()
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("the fake's state"))
    }

    /// The client id and secret it accepts.
    pub fn credentials(&self) -> (String, String) {
        self.with(|s| (s.opts.client_id.clone(), s.opts.client_secret.clone()))
    }

    /// What it did so far.
    pub fn stats(&self) -> Stats {
        self.with(|s| s.stats.clone())
    }

    /// Sets the latency of every data request from now on.
    pub fn set_latency(&self, d: Duration) {
        self.with(|s| s.opts.latency = d);
    }

    /// Adds `n` to the `/count` of `table` from now on (0: the truth).
    pub fn set_count_offset(&self, table: &str, n: i64) {
        self.with(|s| s.opts.count_offset.insert(table.to_ascii_lowercase(), n));
    }

    /// Rows of a table it serves.
    pub fn rows(&self, table: &str) -> Option<usize> {
        self.with(|s| s.tables.get(&table.to_ascii_lowercase()).map(|t| t.rows.len()))
    }
}

async fn handle(state: Arc<Mutex<State>>, req: axum::extract::Request) -> Response<Body> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), 1024 * 1024).await.unwrap_or_default();
    if method == Method::POST && (path == "/oauth/access_token" || path == "/oauth/access_token/") {
        return token(&state, &headers, &body);
    }
    let latency = {
        let mut s = state.lock().expect("state");
        s.stats.requests += 1;
        if !path.starts_with("/ws/") {
            return reply(404, &json!({ "message": "Not Found" }), &[]);
        }
        s.stats.data_requests += 1;
        let live = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|t| s.tokens.get(t))
            .is_some_and(|exp| *exp > Instant::now());
        if !live {
            s.stats.unauthorized += 1;
            return reply(401, &json!({ "message": "Invalid or expired access token" }), &[]);
        }
        if let Some(n) = s.opts.throttle_every
            && n > 0
            && s.stats.data_requests.is_multiple_of(n)
        {
            s.stats.throttled += 1;
            let after = s.opts.retry_after.to_string();
            return reply(429, &json!({ "message": "Too Many Requests" }), &[("retry-after", after)]);
        }
        s.opts.latency
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut s = state.lock().expect("state");
    let q = query_pairs(&query);
    let param = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if path == "/ws/v1/metadata" {
        let m = s.opts.max_page_size.to_string();
        let mut meta = Map::new();
        for k in [
            "student",
            "school",
            "section",
            "section_enrollment",
            "staff",
            "course",
            "term",
            "schema_table_query",
        ] {
            meta.insert(format!("{k}_max_page_size"), json!(m));
        }
        meta.insert("plugin_id".into(), json!("1"));
        meta.insert("powerschool_version".into(), json!("25.1.0 (fake)"));
        return reply(200, &json!({ "metadata": meta }), &[]);
    }
    if let Some(rest) = path.strip_prefix("/ws/schema/table/") {
        let (table, count) = match rest.strip_suffix("/count") {
            Some(t) => (t.to_ascii_lowercase(), true),
            None => (rest.to_ascii_lowercase(), false),
        };
        if method != Method::GET {
            return reply(405, &json!({ "message": "Method Not Allowed" }), &[]);
        }
        let Some(t) = s.tables.get(&table).cloned() else {
            return reply(404, &json!({ "message": format!("Table {table} not found") }), &[]);
        };
        if count {
            let n = t.rows.len() as i64 + s.opts.count_offset.get(&table).copied().unwrap_or(0);
            return reply(200, &json!({ "count": n }), &[]);
        }
        let Some(projection) = param("projection") else {
            return reply(
                400,
                &json!({ "message": "Validation Failed", "errors": [{"field": "projection", "code": "missing"}] }),
                &[],
            );
        };
        let cols = match project(&t, &projection) {
            Ok(c) => c,
            Err(col) => {
                return reply(
                    400,
                    &json!({ "message": "Validation Failed", "errors": [{"resource": table, "field": col, "code": "unknown column"}] }),
                    &[],
                );
            }
        };
        return page(&mut s, &t, &table, &cols, param("page"), param("pagesize"), false);
    }
    if let Some(rest) = path.strip_prefix("/ws/schema/query/") {
        if method != Method::POST {
            return reply(405, &json!({ "message": "Method Not Allowed" }), &[]);
        }
        let (name, count) = match rest.strip_suffix("/count") {
            Some(n) => (n.to_owned(), true),
            None => (rest.to_owned(), false),
        };
        let Some(t) = s.opts.queries.get(&name).and_then(|t| s.tables.get(&t.to_ascii_lowercase())).cloned()
        else {
            return reply(404, &json!({ "message": format!("PowerQuery {name} not found") }), &[]);
        };
        if count {
            return reply(200, &json!({ "count": t.rows.len() }), &[]);
        }
        let cols: Vec<usize> = (0..t.columns.len()).collect();
        return page(&mut s, &t, &name, &cols, param("page"), param("pagesize"), true);
    }
    reply(404, &json!({ "message": "Not Found" }), &[])
}

/// The columns a projection names (`*`: all), or the unknown one.
fn project(t: &FakeTable, projection: &str) -> Result<Vec<usize>, String> {
    if projection.trim() == "*" {
        return Ok((0..t.columns.len()).collect());
    }
    projection
        .split(',')
        .map(|p| {
            let p = p.trim();
            t.columns.iter().position(|c| c.eq_ignore_ascii_case(p)).ok_or_else(|| p.to_owned())
        })
        .collect()
}

/// Whether `v` goes out as a JSON number (on every other record, quirks on).
fn as_number(v: &str) -> Option<i64> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') || v == "-0" {
        return None;
    }
    v.parse().ok()
}

/// `M/D/YYYY` as `YYYY-MM-DD`.
fn iso_date(v: &str) -> Option<String> {
    let mut p = v.split('/');
    let (m, d, y) = (p.next()?, p.next()?, p.next()?);
    if p.next().is_some() || y.len() != 4 || m.is_empty() || m.len() > 2 || d.is_empty() || d.len() > 2 {
        return None;
    }
    let (m, d, y): (u32, u32, u32) = (m.parse().ok()?, d.parse().ok()?, y.parse().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| format!("{y:04}-{m:02}-{d:02}"))
}

fn page(
    s: &mut State,
    t: &FakeTable,
    name: &str,
    cols: &[usize],
    page: Option<String>,
    pagesize: Option<String>,
    flat: bool,
) -> Response<Body> {
    let max = s.opts.max_page_size;
    let page: u64 = page.and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
    let size: u64 = pagesize.and_then(|p| p.parse().ok()).unwrap_or(max);
    if size == 0 || size > max {
        return reply(
            400,
            &json!({ "message": "Validation Failed", "errors": [{"field": "pagesize", "code": format!("must be 1 to {max}")}] }),
            &[],
        );
    }
    let quirks = s.opts.quirks;
    let table = t.name.to_ascii_lowercase();
    let start = ((page - 1) * size) as usize;
    let records: Vec<Value> = t
        .rows
        .iter()
        .enumerate()
        .skip(start)
        .take(size as usize)
        .map(|(i, row)| {
            let mut obj = Map::new();
            for &c in cols {
                let raw = row.get(c).map(String::as_str).unwrap_or("");
                let col = t.columns[c].to_ascii_lowercase();
                let key = if flat { format!("{table}.{col}") } else { col };
                let v = match (quirks, as_number(raw), iso_date(raw)) {
                    (true, Some(n), _) if i % 2 == 1 => json!(n),
                    (true, _, Some(d)) => json!(d),
                    _ => json!(raw),
                };
                obj.insert(key, v);
            }
            if flat {
                obj.insert("_name".into(), json!(name));
                Value::Object(obj)
            } else {
                let id = t
                    .columns
                    .iter()
                    .position(|c| c.eq_ignore_ascii_case("dcid"))
                    .and_then(|c| row.get(c))
                    .and_then(|v| as_number(v))
                    .map_or(json!(i + 1), |n| json!(n));
                json!({ "id": id, "name": table, "tables": { table.clone(): obj } })
            }
        })
        .collect();
    s.stats.pages.entry(name.to_ascii_lowercase()).or_default().push(page);
    let record = match records.len() {
        0 if quirks => json!(""),
        1 if quirks => records.into_iter().next().unwrap_or(Value::Null),
        _ => Value::Array(records),
    };
    reply(200, &json!({ "name": t.name, "record": record, "@extensions": "" }), &[])
}

fn token(state: &Arc<Mutex<State>>, headers: &HeaderMap, body: &[u8]) -> Response<Body> {
    let form = query_pairs(&String::from_utf8_lossy(body));
    let grant = form.iter().find(|(k, _)| k == "grant_type").map(|(_, v)| v.as_str());
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(base64_decode)
        .and_then(|b| String::from_utf8(b).ok());
    let mut s = state.lock().expect("state");
    s.stats.requests += 1;
    if grant != Some("client_credentials") {
        return reply(400, &json!({ "error": "unsupported_grant_type" }), &[]);
    }
    if basic != Some(format!("{}:{}", s.opts.client_id, s.opts.client_secret)) {
        return reply(401, &json!({ "error": "invalid_client" }), &[]);
    }
    s.stats.tokens_issued += 1;
    let token = format!("ps{:016x}", s.stats.tokens_issued.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let life = s.opts.token_lifetime;
    let dies = s.opts.token_dies_after.map_or(life, |d| d.min(life));
    s.tokens.insert(token.clone(), Instant::now() + dies);
    // expires_in as a string, as one real client models it.
    reply(
        200,
        &json!({ "access_token": token, "token_type": "Bearer", "expires_in": life.as_secs().to_string() }),
        &[],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_dates() {
        assert_eq!(as_number("123"), Some(123));
        assert_eq!(as_number("0"), Some(0));
        assert_eq!(as_number("007"), None, "leading zeros stay a string");
        assert_eq!(as_number("1.5"), None);
        assert_eq!(iso_date("9/24/2015").as_deref(), Some("2015-09-24"));
        assert_eq!(iso_date("09/24/15"), None);
        assert_eq!(iso_date("x/y/2015"), None);
    }
}
