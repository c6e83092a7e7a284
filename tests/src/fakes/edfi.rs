//! A fake Ed-Fi ODS/API (Data Standard 5.2 routes, ODS/API 7.x behaviour) on
//! loopback, strict where the real one is strict:
//!
//! - **OAuth2 client credentials** at `POST /oauth/token` (HTTP Basic or form
//!   fields); tokens expire (`token_lifetime`) and can be revoked; a data
//!   request without a live token is a 401.
//! - **Upsert by natural key**: `POST /data/v3/ed-fi/{resource}` creates (201,
//!   `Location` with the new id) or updates (200) the resource with that
//!   natural key; an `id` in the body is a 400; a missing key field is a 400.
//! - **References**: every `…Reference` must resolve to a stored resource by
//!   its natural key, else 409 `unresolved-reference` naming the resource;
//!   `schoolId`, `studentUniqueId` and `staffUniqueId` repeated across
//!   references must agree (key unification, 400);
//!   `schoolYearTypeReference` must be 1991–2050.
//! - **Descriptors**: every `…Descriptor` value (top level and in arrays of
//!   objects) must be a descriptor the server holds, else 400 naming the
//!   field and value; descriptors are served at `GET /data/v3/ed-fi/{x}Descriptors`.
//! - **GET** with `offset`/`limit` (≤ 500, else 400), `totalCount=true`
//!   (`Total-Count` header) and natural-key query parameters by bare name.
//! - **Faults** to inject: a queue of statuses for the next data requests
//!   (429 with `Retry-After`, 5xx), revoking every token after N data requests.
//!
//! The resource definitions here are the fake's own, written from the Data
//! Standard's natural keys, not shared with the connector, so a mapping
//! mistake shows up as a refused request.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Response, StatusCode};
use serde_json::{Map, Value, json};

/// What a resource's natural key is made of: scalar fields, and reference
/// fields whose whole object is part of the key.
struct Spec {
    scalars: &'static [&'static str],
    key_refs: &'static [&'static str],
}

fn spec(resource: &str) -> Option<Spec> {
    let s = |scalars, key_refs| Some(Spec { scalars, key_refs });
    if resource.ends_with("Descriptors") {
        return s(&["namespace", "codeValue"], &[]);
    }
    match resource {
        "localEducationAgencies" => s(&["localEducationAgencyId"], &[]),
        "schools" => s(&["schoolId"], &[]),
        "sessions" => s(&["sessionName"], &["schoolReference", "schoolYearTypeReference"]),
        "gradingPeriods" => s(
            &["gradingPeriodDescriptor", "gradingPeriodName"],
            &["schoolReference", "schoolYearTypeReference"],
        ),
        "courses" => s(&["courseCode"], &["educationOrganizationReference"]),
        "students" => s(&["studentUniqueId"], &[]),
        "staffs" => s(&["staffUniqueId"], &[]),
        "courseOfferings" => s(&["localCourseCode"], &["schoolReference", "sessionReference"]),
        "sections" => s(&["sectionIdentifier"], &["courseOfferingReference"]),
        "studentSchoolAssociations" => s(&["entryDate"], &["schoolReference", "studentReference"]),
        "studentSectionAssociations" => s(&["beginDate"], &["sectionReference", "studentReference"]),
        "staffSectionAssociations" => s(&["beginDate"], &["sectionReference", "staffReference"]),
        "studentSchoolAttendanceEvents" => s(
            &["attendanceEventCategoryDescriptor", "eventDate"],
            &["schoolReference", "sessionReference", "studentReference"],
        ),
        "studentSectionAttendanceEvents" => {
            s(&["attendanceEventCategoryDescriptor", "eventDate"], &["sectionReference", "studentReference"])
        }
        "studentAcademicRecords" => s(
            &["termDescriptor"],
            &["educationOrganizationReference", "schoolYearTypeReference", "studentReference"],
        ),
        "grades" => {
            s(&["gradeTypeDescriptor"], &["gradingPeriodReference", "studentSectionAssociationReference"])
        }
        "courseTranscripts" => {
            s(&["courseAttemptResultDescriptor"], &["courseReference", "studentAcademicRecordReference"])
        }
        _ => None,
    }
}

/// The resources a reference field points at.
fn targets(field: &str) -> &'static [&'static str] {
    match field {
        "schoolReference" => &["schools"],
        "localEducationAgencyReference" => &["localEducationAgencies"],
        "educationOrganizationReference" => &["schools", "localEducationAgencies"],
        "sessionReference" => &["sessions"],
        "courseReference" => &["courses"],
        "courseOfferingReference" => &["courseOfferings"],
        "sectionReference" => &["sections"],
        "studentReference" => &["students"],
        "staffReference" => &["staffs"],
        "gradingPeriodReference" => &["gradingPeriods"],
        "studentSectionAssociationReference" => &["studentSectionAssociations"],
        "studentAcademicRecordReference" => &["studentAcademicRecords"],
        _ => &[],
    }
}

/// The Ed-Fi name of a resource in messages (`students` → `Student`).
fn entity_name(resource: &str) -> String {
    let singular = match resource {
        "localEducationAgencies" => "localEducationAgency",
        "staffs" => "staff",
        r => r.strip_suffix('s').unwrap_or(r),
    };
    let mut c = singular.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

/// A resource's flattened identity: its key scalars and the fields of its key references.
fn identity(resource: &str, doc: &Map<String, Value>) -> Result<BTreeMap<String, Value>, String> {
    let spec = spec(resource).ok_or_else(|| format!("unknown resource {resource}"))?;
    let mut key = BTreeMap::new();
    for f in spec.scalars {
        match doc.get(*f) {
            Some(v) if !v.is_null() && v != "" => {
                if let Some(s) = v.as_str()
                    && s.trim() != s
                {
                    return Err(format!("$.{f}: leading or trailing spaces are not allowed in a key"));
                }
                key.insert((*f).to_owned(), v.clone());
            }
            _ => return Err(format!("$.{f}: is required")),
        }
    }
    for r in spec.key_refs {
        let Some(obj) = doc.get(*r).and_then(Value::as_object) else {
            return Err(format!("$.{r}: is required"));
        };
        for (k, v) in obj {
            if k == "link" {
                continue;
            }
            key.insert(k.clone(), v.clone());
        }
    }
    Ok(key)
}

fn key_string(key: &BTreeMap<String, Value>) -> String {
    Value::Object(key.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).to_string()
}

/// Query values compare as text.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[derive(Clone, Debug)]
struct Stored {
    id: String,
    doc: Map<String, Value>,
    key: BTreeMap<String, Value>,
}

#[derive(Default)]
struct State {
    client_id: String,
    client_secret: String,
    token_lifetime: Duration,
    tokens: HashMap<String, Instant>,
    next_id: u64,
    /// resource → natural key string → resource.
    resources: HashMap<String, BTreeMap<String, Stored>>,
    /// Descriptor URIs held.
    descriptors: HashSet<String>,
    faults: VecDeque<(u16, Option<u64>)>,
    revoke_after: Option<u64>,
    stats: Stats,
    /// Milliseconds each data request waits before answering.
    latency_ms: u64,
}

/// What the server saw and answered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Tokens issued.
    pub tokens_issued: u64,
    /// Token requests refused.
    pub tokens_refused: u64,
    /// Data requests (GET and POST under /data).
    pub data_requests: u64,
    /// POSTs.
    pub posts: u64,
    /// 201s.
    pub created: u64,
    /// 200s to a POST.
    pub updated: u64,
    /// 400s.
    pub bad_requests: u64,
    /// 401s to data requests.
    pub unauthorized: u64,
    /// 409s.
    pub conflicts: u64,
    /// Injected faults answered (429s and 5xx).
    pub faults_served: u64,
    /// Of those, 429s.
    pub throttled: u64,
}

/// How the fake starts.
#[derive(Clone, Debug)]
pub struct Options {
    /// The client id it accepts.
    pub client_id: String,
    /// The secret it accepts.
    pub client_secret: String,
    /// How long a token lives.
    pub token_lifetime: Duration,
    /// The descriptor URIs it holds at start (`uri://ed-fi.org/SexDescriptor#Female`).
    pub descriptors: Vec<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            client_id: "ferry-test".into(),
            client_secret: "s3cret-not-logged".into(),
            token_lifetime: Duration::from_secs(1800),
            descriptors: default_descriptors(),
        }
    }
}

/// Ed-Fi's default descriptor values (DS 5.2, `uri://ed-fi.org`) for the
/// descriptors the connector writes: the subset a fresh ODS holds.
pub fn default_descriptors() -> Vec<String> {
    let sets: &[(&str, &[&str])] = &[
        (
            "GradeLevelDescriptor",
            &[
                "Infant/toddler",
                "Preschool/Prekindergarten",
                "Prekindergarten",
                "Transitional Kindergarten",
                "Kindergarten",
                "First grade",
                "Second grade",
                "Third grade",
                "Fourth grade",
                "Fifth grade",
                "Sixth grade",
                "Seventh grade",
                "Eighth grade",
                "Ninth grade",
                "Tenth grade",
                "Eleventh grade",
                "Twelfth grade",
                "Grade 13",
                "Postsecondary",
                "Ungraded",
                "Other",
            ],
        ),
        ("SexDescriptor", &["Female", "Male", "Non-binary", "Not Selected"]),
        (
            "TermDescriptor",
            &[
                "Semester",
                "Fall Semester",
                "Spring Semester",
                "Summer Semester",
                "Quarter",
                "First Quarter",
                "Second Quarter",
                "Third Quarter",
                "Fourth Quarter",
                "Trimester",
                "First Trimester",
                "Second Trimester",
                "Third Trimester",
                "MiniTerm",
                "Year Round",
                "Other",
            ],
        ),
        (
            "GradingPeriodDescriptor",
            &[
                "First Semester",
                "Second Semester",
                "Summer Semester",
                "First Trimester",
                "Second Trimester",
                "Third Trimester",
                "First Nine Weeks",
                "Second Nine Weeks",
                "Third Nine Weeks",
                "Fourth Nine Weeks",
                "First Six Weeks",
                "Second Six Weeks",
                "End of Year",
            ],
        ),
        (
            "AttendanceEventCategoryDescriptor",
            &[
                "Early departure",
                "Excused Absence",
                "In Attendance",
                "Partial",
                "Present",
                "Tardy",
                "Unexcused Absence",
            ],
        ),
        (
            "EntryTypeDescriptor",
            &["Transfer", "New to education system", "Next year school", "Other", "Re-entry"],
        ),
        (
            "ExitWithdrawTypeDescriptor",
            &[
                "Completed",
                "Died or is permanently incapacitated",
                "Dropout",
                "End of school year",
                "Expelled",
                "Graduated",
                "Other",
                "Transferred",
                "Withdrawn",
            ],
        ),
        (
            "ClassroomPositionDescriptor",
            &["Assistant Teacher", "Substitute Teacher", "Support Teacher", "Teacher of Record"],
        ),
        (
            "GradeTypeDescriptor",
            &["Conduct", "Exam", "Final", "Grading Period", "Mid-Term Grade", "Progress Report", "Semester"],
        ),
        ("CourseAttemptResultDescriptor", &["Fail", "Incomplete", "Pass", "Withdrawn"]),
        ("EducationOrganizationCategoryDescriptor", &["School", "Local Education Agency"]),
        ("LocalEducationAgencyCategoryDescriptor", &["Independent", "Regular public school district"]),
        ("CourseIdentificationSystemDescriptor", &["LEA course code", "State course code"]),
    ];
    sets.iter().flat_map(|(d, codes)| codes.iter().map(move |c| format!("uri://ed-fi.org/{d}#{c}"))).collect()
}

/// A running fake; stopped on drop.
pub struct FakeEdFi {
    server: super::Server,
    state: Arc<Mutex<State>>,
}

impl FakeEdFi {
    /// Starts a fake with the default options.
    pub fn start() -> FakeEdFi {
        FakeEdFi::start_with(Options::default())
    }

    /// Starts a fake on 127.0.0.1 (a free port).
    pub fn start_with(opts: Options) -> FakeEdFi {
        let state = Arc::new(Mutex::new(State {
            client_id: opts.client_id,
            client_secret: opts.client_secret,
            token_lifetime: opts.token_lifetime,
            descriptors: opts.descriptors.into_iter().collect(),
            next_id: 1,
            ..State::default()
        }));
        let st = Arc::clone(&state);
        let server = super::Server::start("fake-edfi", move |base: String| {
            move |req: axum::extract::Request| {
                let st = Arc::clone(&st);
                let base = base.clone();
                async move { handle(st, base, req).await }
            }
        });
        FakeEdFi { server, state }
    }

    /// `http://127.0.0.1:PORT`: the connector's `base_url`.
    pub fn base_url(&self) -> &str {
        self.server.base_url()
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("the fake's state"))
    }

    /// The client id and secret it accepts.
    pub fn credentials(&self) -> (String, String) {
        self.with(|s| (s.client_id.clone(), s.client_secret.clone()))
    }

    /// The next data requests answer these statuses (a 429 with `Retry-After: retry_after`).
    pub fn inject(&self, status: u16, times: usize, retry_after: Option<u64>) {
        self.with(|s| s.faults.extend(std::iter::repeat_n((status, retry_after), times)));
    }

    /// Every token issued so far stops working after `n` more data requests.
    pub fn revoke_tokens_after(&self, n: u64) {
        self.with(|s| s.revoke_after = Some(n));
    }

    /// Every token issued so far stops working now.
    pub fn revoke_tokens(&self) {
        self.with(|s| s.tokens.clear());
    }

    /// Each data request waits this long before it is answered (a slow server).
    pub fn set_latency(&self, d: Duration) {
        self.with(|s| s.latency_ms = d.as_millis() as u64);
    }

    /// Removes a descriptor value (`uri://ed-fi.org/GradeLevelDescriptor#Ninth grade`).
    pub fn remove_descriptor(&self, uri: &str) -> bool {
        self.with(|s| s.descriptors.remove(uri))
    }

    /// Adds a descriptor value.
    pub fn add_descriptor(&self, uri: &str) {
        self.with(|s| s.descriptors.insert(uri.to_owned()));
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.with(|s| s.stats.clone())
    }

    /// Resources held of `resource`.
    pub fn count(&self, resource: &str) -> usize {
        self.with(|s| s.resources.get(resource).map_or(0, BTreeMap::len))
    }

    /// Every resource held, by resource.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.with(|s| s.resources.iter().map(|(k, v)| (k.clone(), v.len())).filter(|(_, n)| *n > 0).collect())
    }

    /// The resources of `resource`, with their ids.
    pub fn all(&self, resource: &str) -> Vec<Value> {
        self.with(|s| {
            s.resources.get(resource).map_or_else(Vec::new, |m| {
                m.values()
                    .map(|r| {
                        let mut d = r.doc.clone();
                        d.insert("id".into(), json!(r.id));
                        Value::Object(d)
                    })
                    .collect()
            })
        })
    }

    /// Stores a resource as a client would (for tests that need one in place).
    pub fn put(&self, resource: &str, doc: Value) -> Result<String, String> {
        let doc = doc.as_object().cloned().ok_or("not an object")?;
        self.with(|s| {
            let key = identity(resource, &doc)?;
            let id = format!("{:032x}", s.next_id);
            s.next_id += 1;
            s.resources
                .entry(resource.to_owned())
                .or_default()
                .insert(key_string(&key), Stored { id: id.clone(), doc, key });
            Ok(id)
        })
    }
}

fn problem(status: u16, kind: &str, detail: &str, errors: Option<Value>) -> Response<Body> {
    let mut body = json!({
        "type": kind, "title": detail, "status": status, "detail": detail,
        "correlationId": format!("fake-{status}"),
    });
    if let Some(e) = errors {
        body["validationErrors"] = e;
    }
    reply(status, &body, &[])
}

pub(crate) fn reply(status: u16, body: &Value, headers: &[(&str, String)]) -> Response<Body> {
    let mut r = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json");
    for (k, v) in headers {
        r = r.header(*k, v.as_str());
    }
    r.body(Body::from(body.to_string())).unwrap_or_else(|_| Response::new(Body::empty()))
}

pub(crate) fn query_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex =
                    std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.trim().bytes().filter(|c| *c != b'=') {
        acc = (acc << 6) | u32::from(val(c)?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

async fn handle(state: Arc<Mutex<State>>, base: String, req: axum::extract::Request) -> Response<Body> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let headers = req.headers().clone();
    let body = match axum::body::to_bytes(req.into_body(), 16 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return problem(400, "urn:ed-fi:api:bad-request", "The request body could not be read.", None);
        }
    };
    if path == "/oauth/token" && method == Method::POST {
        return token(&state, &headers, &body);
    }
    let Some(rest) = path.strip_prefix("/data/v3/ed-fi/") else {
        return problem(404, "urn:ed-fi:api:not-found", "The specified data could not be found.", None);
    };
    let latency = {
        let mut s = state.lock().expect("state");
        s.stats.data_requests += 1;
        if let Some(n) = s.revoke_after {
            if n == 0 {
                s.tokens.clear();
                s.revoke_after = None;
            } else {
                s.revoke_after = Some(n - 1);
            }
        }
        // Authentication first, as the API does.
        let live = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|t| s.tokens.get(t))
            .is_some_and(|exp| *exp > Instant::now());
        if !live {
            s.stats.unauthorized += 1;
            return problem(
                401,
                "urn:ed-fi:api:security:authentication",
                "Authorization denied. The access token is missing, invalid or expired.",
                None,
            );
        }
        if let Some((status, after)) = s.faults.pop_front() {
            s.stats.faults_served += 1;
            if status == 429 {
                s.stats.throttled += 1;
            }
            let h: Vec<(&str, String)> =
                after.map(|a| vec![("retry-after", a.to_string())]).unwrap_or_default();
            return reply(status, &json!({ "status": status, "detail": "injected fault" }), &h);
        }
        s.latency_ms
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let mut s = state.lock().expect("state");
    let (resource, id) = match rest.split_once('/') {
        Some((r, i)) => (r.to_owned(), Some(i.to_owned())),
        None => (rest.to_owned(), None),
    };
    if spec(&resource).is_none() {
        return problem(404, "urn:ed-fi:api:not-found", "The specified data could not be found.", None);
    }
    match (method, id) {
        (Method::GET, None) => get(&s, &resource, &query),
        (Method::GET, Some(id)) => {
            let found = s.resources.get(&resource).and_then(|m| m.values().find(|r| r.id == id));
            match found {
                Some(r) => {
                    let mut d = r.doc.clone();
                    d.insert("id".into(), json!(r.id));
                    reply(200, &Value::Object(d), &[])
                }
                None => {
                    problem(404, "urn:ed-fi:api:not-found", "The specified data could not be found.", None)
                }
            }
        }
        (Method::POST, None) => post(&mut s, &base, &resource, &body),
        (Method::POST, Some(_)) => problem(
            405,
            "urn:ed-fi:api:method-not-allowed",
            "Resource items can only be updated using PUT.",
            None,
        ),
        _ => {
            problem(405, "urn:ed-fi:api:method-not-allowed", "The method is not allowed on this fake.", None)
        }
    }
}

fn token(state: &Arc<Mutex<State>>, headers: &HeaderMap, body: &[u8]) -> Response<Body> {
    let form = query_pairs(&String::from_utf8_lossy(body));
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(base64_decode)
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(a, b)| (a.to_owned(), b.to_owned())));
    let (id, secret) = match basic {
        Some(p) => p,
        None => (field("client_id").unwrap_or_default(), field("client_secret").unwrap_or_default()),
    };
    let mut s = state.lock().expect("state");
    if field("grant_type").as_deref() != Some("client_credentials") {
        s.stats.tokens_refused += 1;
        return reply(400, &json!({ "error": "unsupported_grant_type" }), &[]);
    }
    if id != s.client_id || secret != s.client_secret {
        s.stats.tokens_refused += 1;
        return reply(401, &json!({ "error": "invalid_client" }), &[]);
    }
    s.stats.tokens_issued += 1;
    let token = format!("tok{:016x}{}", s.stats.tokens_issued, s.next_id);
    let life = s.token_lifetime;
    s.tokens.insert(token.clone(), Instant::now() + life);
    reply(200, &json!({ "access_token": token, "expires_in": life.as_secs(), "token_type": "bearer" }), &[])
}

fn get(s: &State, resource: &str, query: &str) -> Response<Body> {
    let mut offset = 0usize;
    let mut limit = 25usize;
    let mut total = false;
    let mut filters = Vec::new();
    for (k, v) in query_pairs(query) {
        match k.as_str() {
            "offset" => offset = v.parse().unwrap_or(0),
            "limit" => limit = v.parse().unwrap_or(25),
            "totalCount" => total = v == "true",
            _ => filters.push((k, v)),
        }
    }
    if limit > 500 {
        return problem(
            400,
            "urn:ed-fi:api:bad-request:parameter-validation-failed",
            "Limit must be omitted or set to a value between 0 and 500.",
            None,
        );
    }
    let items: Vec<Value> = if resource.ends_with("Descriptors") {
        let name = descriptor_name(resource);
        let mut uris: Vec<&String> =
            s.descriptors.iter().filter(|u| u.contains(&format!("/{name}#"))).collect();
        uris.sort();
        uris.iter()
            .filter_map(|u| {
                let (head, code) = u.split_once('#')?;
                let (ns, _) = head.rsplit_once('/')?;
                Some(json!({ "id": format!("d{:x}", u.len()), "namespace": ns, "codeValue": code, "shortDescription": code }))
            })
            .filter(|d| filters.iter().all(|(k, v)| d.get(k).is_some_and(|x| text_of(x) == *v)))
            .collect()
    } else {
        s.resources
            .get(resource)
            .map(|m| {
                m.values()
                    .filter(|r| {
                        filters
                            .iter()
                            .all(|(k, v)| r.key.get(k).or(r.doc.get(k)).is_some_and(|x| text_of(x) == *v))
                    })
                    .map(|r| {
                        let mut d = r.doc.clone();
                        d.insert("id".into(), json!(r.id));
                        Value::Object(d)
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let n = items.len();
    let page: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    let h = if total { vec![("total-count", n.to_string())] } else { Vec::new() };
    reply(200, &Value::Array(page), &h)
}

/// `gradeLevelDescriptors` → `GradeLevelDescriptor`.
fn descriptor_name(resource: &str) -> String {
    let singular = resource.strip_suffix('s').unwrap_or(resource);
    let mut c = singular.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

/// Every descriptor value of a payload: (JSON path, URI).
fn descriptor_values(doc: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in doc {
        match v {
            Value::String(s) if k.ends_with("Descriptor") => out.push((format!("$.{k}"), s.clone())),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(o) = item.as_object() {
                        for (k2, v2) in o {
                            if let (true, Some(s)) = (k2.ends_with("Descriptor"), v2.as_str()) {
                                out.push((format!("$.{k}[{i}].{k2}"), s.to_owned()));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn post(s: &mut State, base: &str, resource: &str, body: &[u8]) -> Response<Body> {
    s.stats.posts += 1;
    let doc: Map<String, Value> = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => m,
        _ => {
            s.stats.bad_requests += 1;
            return problem(400, "urn:ed-fi:api:bad-request", "The request body is not a JSON object.", None);
        }
    };
    let bad = |s: &mut State, path: &str, msg: &str| {
        s.stats.bad_requests += 1;
        problem(
            400,
            "urn:ed-fi:api:bad-request:data-validation-failed",
            "Data validation failed. See 'validationErrors' for details.",
            Some(json!({ path: [msg] })),
        )
    };
    if doc.contains_key("id") {
        return bad(s, "$.id", "Resource identifiers cannot be assigned by the client.");
    }
    let key = match identity(resource, &doc) {
        Ok(k) => k,
        Err(e) => {
            let (path, msg) = e.split_once(": ").unwrap_or(("$", e.as_str()));
            let (path, msg) = (path.to_owned(), msg.to_owned());
            return bad(s, &path, &msg);
        }
    };
    // Descriptors.
    for (path, uri) in descriptor_values(&doc) {
        if !s.descriptors.contains(&uri) {
            let name = path.rsplit('.').next().unwrap_or_default().to_owned();
            return bad(s, &path, &format!("{name} value '{uri}' does not exist."));
        }
    }
    // Key unification across references, and each reference resolved.
    let mut seen: BTreeMap<String, Value> = BTreeMap::new();
    for (field, v) in &doc {
        let Some(obj) = v.as_object().filter(|_| field.ends_with("Reference")) else { continue };
        for (k, x) in obj {
            // The parts the ODS unifies across references (a grade's grading
            // period year and a transcript's course organization are roles of their own).
            if !matches!(k.as_str(), "schoolId" | "studentUniqueId" | "staffUniqueId") {
                continue;
            }
            match seen.get(k) {
                Some(prev) if text_of(prev) != text_of(x) => {
                    let msg = format!("All values supplied for '{k}' must match.");
                    return bad(s, &format!("$.{field}.{k}"), &msg);
                }
                _ => {
                    seen.insert(k.clone(), x.clone());
                }
            }
        }
        if field == "schoolYearTypeReference" {
            let y = obj.get("schoolYear").and_then(Value::as_i64).unwrap_or(0);
            if !(1991..=2050).contains(&y) {
                s.stats.conflicts += 1;
                return problem(
                    409,
                    "urn:ed-fi:api:data-conflict:unresolved-reference",
                    "The referenced 'SchoolYearType' resource does not exist.",
                    None,
                );
            }
            continue;
        }
        let wanted: BTreeMap<String, String> =
            obj.iter().filter(|(k, _)| *k != "link").map(|(k, v)| (k.clone(), text_of(v))).collect();
        let found = targets(field).iter().any(|t| {
            s.resources.get(*t).is_some_and(|m| {
                m.values().any(|r| {
                    wanted.iter().all(|(k, v)| {
                        let k2 = if k == "educationOrganizationId"
                            && matches!(*t, "schools" | "localEducationAgencies")
                        {
                            if *t == "schools" { "schoolId" } else { "localEducationAgencyId" }
                        } else {
                            k.as_str()
                        };
                        r.key.get(k2).is_some_and(|x| text_of(x) == *v)
                    }) && r.key.len() == wanted.len()
                })
            })
        });
        if !found {
            s.stats.conflicts += 1;
            let name = targets(field).first().map(|t| entity_name(t)).unwrap_or_else(|| field.to_owned());
            return problem(
                409,
                "urn:ed-fi:api:data-conflict:unresolved-reference",
                &format!("The referenced '{name}' resource does not exist."),
                None,
            );
        }
    }
    let k = key_string(&key);
    let store = s.resources.entry(resource.to_owned()).or_default();
    if let Some(existing) = store.get_mut(&k) {
        existing.doc = doc;
        let id = existing.id.clone();
        s.stats.updated += 1;
        return reply(
            200,
            &Value::Null,
            &[("location", format!("{base}/data/v3/ed-fi/{resource}/{id}")), ("etag", "\"2\"".into())],
        );
    }
    let id = format!("{:032x}", s.next_id);
    s.next_id += 1;
    s.resources.entry(resource.to_owned()).or_default().insert(k, Stored { id: id.clone(), doc, key });
    s.stats.created += 1;
    reply(
        201,
        &Value::Null,
        &[("location", format!("{base}/data/v3/ed-fi/{resource}/{id}")), ("etag", "\"1\"".into())],
    )
}
