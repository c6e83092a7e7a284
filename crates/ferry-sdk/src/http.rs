//! A shared HTTP client for connectors that talk to web APIs (feature `http`).
//!
//! The plugin ABI is synchronous, so [`HttpClient`] owns a small tokio runtime
//! (current-thread: the sockets of concurrent requests are driven by the
//! calling thread) and a reqwest client over rustls with the *ring* provider,
//! and offers a blocking surface: [`HttpClient::send`] for one request,
//! [`HttpClient::send_all`] for several at once (at most
//! [`HttpSettings::concurrency`] in flight), and the shorthands
//! [`HttpClient::get_json`], [`HttpClient::post_json`],
//! [`HttpClient::put_json`]. [`HttpClient::handle`] gives an [`AsyncHttp`] for
//! code that wants to compose its own futures on [`HttpClient::block_on`].
//!
//! What every request gets:
//! - **authentication**: none, a fixed bearer token, or OAuth2 client
//!   credentials ([`ClientCredentials`]): a token fetched on first use, cached,
//!   fetched again shortly before it expires, and once more when the server
//!   answers 401 (the request is then sent again, once);
//! - **retries**: on 429, 500, 502, 503, 504 and on connection errors and
//!   timeouts, up to [`HttpSettings::max_retries`] more attempts, waiting the
//!   server's `Retry-After` (seconds or an HTTP date, capped at
//!   [`HttpSettings::max_retry_after`]) or else an exponential backoff with full
//!   jitter (a random wait between zero and `backoff_base * 2^attempt`, capped
//!   at `backoff_max`);
//! - **cancellation**: the request and every wait race the plugin's
//!   [`CancelFlag`] (polled every [`HttpSettings::cancel_tick`]), so Ctrl-C
//!   stops within one tick, not after the request; the error is
//!   [`Error::cancelled`];
//! - **errors** as [`Error`]: retries exhausted on a retryable status or a
//!   connection failure give an I/O error with `retryable` set; a token the
//!   server refuses gives a configuration error naming the token URL and the
//!   status (never the secret). Any other status, 4xx included, is returned
//!   as a [`Response`] for the connector to judge
//!   ([`Response::error_for_status`] turns it into an [`Error`]).
//!
//! ```no_run
//! # fn demo(cancel: ferry_sdk::CancelFlag) -> Result<(), ferry_sdk::Error> {
//! use ferry_sdk::http::{Auth, ClientCredentials, HttpClient, HttpSettings};
//! let auth = Auth::ClientCredentials(ClientCredentials::new(
//!     "https://sis.example.org/oauth/access_token",
//!     "client-id",
//!     "client-secret",
//! ));
//! let http = HttpClient::new(HttpSettings::default(), auth, cancel)?;
//! let meta: serde_json::Value = http.get_json("https://sis.example.org/ws/v1/metadata", &[])?.error_for_status()?.json()?;
//! # let _ = meta; Ok(()) }
//! ```

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ferry_plugin_abi::CancelFlag;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// How the client behaves: concurrency, retries, timeouts.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Requests in flight at once (at least 1).
    pub concurrency: usize,
    /// Further attempts after the first on a retryable failure.
    pub max_retries: u32,
    /// The first backoff's upper bound; it doubles with every attempt.
    pub backoff_base: Duration,
    /// The largest backoff.
    pub backoff_max: Duration,
    /// The longest `Retry-After` honoured; a longer one is waited this long.
    pub max_retry_after: Duration,
    /// A whole request's time limit.
    pub timeout: Duration,
    /// The time limit for connecting.
    pub connect_timeout: Duration,
    /// How often a request in flight or a wait checks the cancel flag.
    pub cancel_tick: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for HttpSettings {
    fn default() -> HttpSettings {
        HttpSettings {
            concurrency: 4,
            max_retries: 5,
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            cancel_tick: Duration::from_millis(50),
            user_agent: format!("ferry/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// How requests are authenticated.
#[derive(Clone)]
pub enum Auth {
    /// No `Authorization` header.
    None,
    /// `Authorization: Bearer <token>`, a fixed token.
    Bearer(String),
    /// OAuth2 client credentials, tokens fetched and refreshed by the client.
    ClientCredentials(ClientCredentials),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Auth::ClientCredentials(c) => f.debug_tuple("ClientCredentials").field(c).finish(),
        }
    }
}

/// An OAuth2 client-credentials grant: `POST token_url` with
/// `grant_type=client_credentials`, the id and secret in HTTP Basic
/// authentication (or in the form body, [`ClientCredentials::in_body`]).
#[derive(Clone)]
pub struct ClientCredentials {
    /// The token endpoint.
    pub token_url: String,
    /// The client id.
    pub client_id: String,
    /// The client secret (never logged, never in an error).
    pub client_secret: String,
    /// An optional `scope`.
    pub scope: Option<String>,
    /// Send the id and secret as `client_id`/`client_secret` form fields
    /// instead of Basic authentication.
    pub in_body: bool,
}

impl ClientCredentials {
    /// A grant at `token_url` with Basic authentication and no scope.
    pub fn new(
        token_url: impl Into<String>,
        id: impl Into<String>,
        secret: impl Into<String>,
    ) -> ClientCredentials {
        ClientCredentials {
            token_url: token_url.into(),
            client_id: id.into(),
            client_secret: secret.into(),
            scope: None,
            in_body: false,
        }
    }
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// The HTTP methods a connector uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// DELETE.
    Delete,
}

impl Method {
    fn reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        }
    }
}

/// A request: method, absolute URL, query parameters, headers, a JSON body.
#[derive(Clone, Debug)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The absolute URL.
    pub url: String,
    /// Query parameters, appended to the URL.
    pub query: Vec<(String, String)>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// A JSON body (sent with `Content-Type: application/json`).
    pub json: Option<serde_json::Value>,
}

impl Request {
    /// A request of `method` to `url`.
    pub fn new(method: Method, url: impl Into<String>) -> Request {
        Request { method, url: url.into(), query: Vec::new(), headers: Vec::new(), json: None }
    }
    /// A GET of `url`.
    pub fn get(url: impl Into<String>) -> Request {
        Request::new(Method::Get, url)
    }
    /// A POST of `body` to `url`.
    pub fn post_json(url: impl Into<String>, body: serde_json::Value) -> Request {
        Request { json: Some(body), ..Request::new(Method::Post, url) }
    }
    /// A PUT of `body` to `url`.
    pub fn put_json(url: impl Into<String>, body: serde_json::Value) -> Request {
        Request { json: Some(body), ..Request::new(Method::Put, url) }
    }
    /// A DELETE of `url`.
    pub fn delete(url: impl Into<String>) -> Request {
        Request::new(Method::Delete, url)
    }
    /// Adds a query parameter.
    #[must_use]
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Request {
        self.query.push((key.into(), value.into()));
        self
    }
    /// Adds a header.
    #[must_use]
    pub fn header(mut self, key: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers.push((key.into(), value.into()));
        self
    }
}

/// A response: status, headers (names lower-case), body.
#[derive(Clone, Debug)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The URL asked for (without the query), for messages.
    pub url: String,
    /// How many attempts it took (1 when the first one answered).
    pub attempts: u32,
}

impl Response {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The body as JSON; an error names the URL and where the JSON broke.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let mut de = serde_json::Deserializer::from_slice(&self.body);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            Error::data(format!(
                "{}: the response is not the JSON expected at {}: {}",
                self.url,
                e.path(),
                e.inner()
            ))
        })
    }
    /// This response when it is 2xx, else an error naming the URL, the status
    /// and the start of the body (a 5xx or 429 error is retryable).
    pub fn error_for_status(self) -> Result<Response, Error> {
        if self.is_success() {
            return Ok(self);
        }
        let mut body = self.text();
        if body.len() > 300 {
            let mut cut = 300;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
            body.push('…');
        }
        let e = Error::io(format!("{} answered HTTP {}: {}", self.url, self.status, body.trim()));
        Err(if retryable_status(self.status) { e.retryable() } else { e })
    }
}

/// Counters of what the client did, for run summaries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HttpStats {
    /// Attempts sent (every retry counts).
    pub attempts: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// Of those, retries after a 429.
    pub throttled: u64,
    /// Tokens fetched (the first one and every refresh).
    pub tokens_fetched: u64,
    /// Requests sent again after a 401 with a fresh token.
    pub unauthorized_refreshes: u64,
}

#[derive(Default)]
struct Counters {
    attempts: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    tokens_fetched: AtomicU64,
    unauthorized_refreshes: AtomicU64,
}

#[derive(Clone)]
struct Token {
    value: String,
    /// When to fetch a new one (a little before it expires).
    refresh_at: Instant,
    /// Which fetch this is, so a 401 drops only the token it was sent with.
    generation: u64,
}

struct Shared {
    client: reqwest::Client,
    auth: Auth,
    token: tokio::sync::Mutex<Option<Token>>,
    token_generation: AtomicU64,
    permits: tokio::sync::Semaphore,
    cancel: CancelFlag,
    settings: HttpSettings,
    counters: Counters,
    rng: AtomicU64,
}

/// The blocking HTTP client; see the [module documentation](self).
pub struct HttpClient {
    runtime: tokio::runtime::Runtime,
    handle: AsyncHttp,
}

/// The client's async side: cheap to clone, used inside
/// [`HttpClient::block_on`].
#[derive(Clone)]
pub struct AsyncHttp {
    shared: Arc<Shared>,
}

impl HttpClient {
    /// A client with `settings` and `auth`, whose requests stop when `cancel`
    /// is set.
    pub fn new(settings: HttpSettings, auth: Auth, cancel: CancelFlag) -> Result<HttpClient, Error> {
        // The crypto provider is process-wide (here: this plugin's copy of
        // rustls); installing it twice is harmless, so the error is ignored.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::internal(format!("cannot start the HTTP runtime: {e}")))?;
        let client = {
            let _guard = runtime.enter();
            reqwest::Client::builder()
                .user_agent(settings.user_agent.clone())
                .timeout(settings.timeout)
                .connect_timeout(settings.connect_timeout)
                .build()
                .map_err(|e| Error::internal(format!("cannot build the HTTP client: {e}")))?
        };
        let seed =
            SystemTime::now().duration_since(UNIX_EPOCH).map_or(0x9e37_79b9, |d| d.as_nanos() as u64) | 1;
        let shared = Shared {
            client,
            auth,
            token: tokio::sync::Mutex::new(None),
            token_generation: AtomicU64::new(0),
            permits: tokio::sync::Semaphore::new(settings.concurrency.max(1)),
            cancel,
            settings,
            counters: Counters::default(),
            rng: AtomicU64::new(seed),
        };
        Ok(HttpClient { runtime, handle: AsyncHttp { shared: Arc::new(shared) } })
    }

    /// The async side, for [`HttpClient::block_on`].
    pub fn handle(&self) -> AsyncHttp {
        self.handle.clone()
    }

    /// Runs `future` on the client's runtime, blocking the calling thread.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Sends `request` (retrying, refreshing the token, watching the cancel flag).
    pub fn send(&self, request: Request) -> Result<Response, Error> {
        let h = self.handle.clone();
        self.runtime.block_on(async move { h.send(request).await })
    }

    /// Sends all of `requests`, at most [`HttpSettings::concurrency`] at once;
    /// the results are in the order of the requests.
    pub fn send_all(&self, requests: Vec<Request>) -> Vec<Result<Response, Error>> {
        let h = self.handle.clone();
        self.runtime.block_on(async move { h.send_all(requests).await })
    }

    /// GET `url` with `query`, asking for JSON.
    pub fn get_json(&self, url: &str, query: &[(&str, &str)]) -> Result<Response, Error> {
        let mut r = Request::get(url).header("accept", "application/json");
        r.query = query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        self.send(r)
    }

    /// POST `body` as JSON to `url`.
    pub fn post_json(&self, url: &str, body: &serde_json::Value) -> Result<Response, Error> {
        self.send(Request::post_json(url, body.clone()).header("accept", "application/json"))
    }

    /// PUT `body` as JSON to `url`.
    pub fn put_json(&self, url: &str, body: &serde_json::Value) -> Result<Response, Error> {
        self.send(Request::put_json(url, body.clone()).header("accept", "application/json"))
    }

    /// What the client did so far.
    pub fn stats(&self) -> HttpStats {
        self.handle.stats()
    }
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").field("auth", &self.handle.shared.auth).finish_non_exhaustive()
    }
}

/// How one attempt ended.
enum Attempt {
    Done(Response),
    Retry { wait: Option<Duration>, why: String, throttled: bool },
    Unauthorized(Response, u64),
}

impl AsyncHttp {
    /// What the client did so far.
    pub fn stats(&self) -> HttpStats {
        let c = &self.shared.counters;
        HttpStats {
            attempts: c.attempts.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
            tokens_fetched: c.tokens_fetched.load(Ordering::Relaxed),
            unauthorized_refreshes: c.unauthorized_refreshes.load(Ordering::Relaxed),
        }
    }

    /// Sends all of `requests` concurrently (bounded), results in order.
    pub async fn send_all(&self, requests: Vec<Request>) -> Vec<Result<Response, Error>> {
        let n = requests.len();
        let mut set = tokio::task::JoinSet::new();
        for (i, r) in requests.into_iter().enumerate() {
            let h = self.clone();
            set.spawn(async move { (i, h.send(r).await) });
        }
        let mut out: Vec<Option<Result<Response, Error>>> = (0..n).map(|_| None).collect();
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((i, r)) => out[i] = Some(r),
                Err(e) => {
                    // A panicking request task: report it on every request left.
                    let msg = format!("an HTTP request task failed: {e}");
                    for slot in out.iter_mut().filter(|s| s.is_none()) {
                        *slot = Some(Err(Error::internal(msg.clone())));
                    }
                }
            }
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::internal("an HTTP request was lost"))))
            .collect()
    }

    /// Sends one request (retrying, refreshing the token, watching the cancel flag).
    pub async fn send(&self, request: Request) -> Result<Response, Error> {
        let s = &self.shared;
        let mut attempt: u32 = 0;
        let mut refreshed = false;
        let mut sent: u32 = 0;
        loop {
            if s.cancel.is_cancelled() {
                return Err(Error::cancelled());
            }
            sent += 1;
            let outcome = {
                let permit = self.cancellable(async { s.permits.acquire().await.ok() }).await?;
                let r = self.attempt(&request).await;
                drop(permit);
                r?
            };
            match outcome {
                Attempt::Done(mut r) => {
                    r.attempts = sent;
                    return Ok(r);
                }
                Attempt::Unauthorized(mut r, generation) => {
                    if refreshed || !matches!(s.auth, Auth::ClientCredentials(_)) {
                        r.attempts = sent;
                        return Ok(r);
                    }
                    // The token was refused (expired early, revoked): drop it
                    // unless another request already replaced it, and try once more.
                    refreshed = true;
                    s.counters.unauthorized_refreshes.fetch_add(1, Ordering::Relaxed);
                    let mut t = s.token.lock().await;
                    if t.as_ref().is_some_and(|t| t.generation == generation) {
                        *t = None;
                    }
                }
                Attempt::Retry { wait, why, throttled } => {
                    if attempt >= s.settings.max_retries {
                        return Err(Error::io(format!(
                            "{}: {why}, still after {sent} attempts; try again later",
                            display_url(&request.url),
                        ))
                        .retryable());
                    }
                    let wait = wait.unwrap_or_else(|| self.backoff(attempt));
                    attempt += 1;
                    s.counters.retries.fetch_add(1, Ordering::Relaxed);
                    if throttled {
                        s.counters.throttled.fetch_add(1, Ordering::Relaxed);
                    }
                    tracing::debug!(url = %display_url(&request.url), %why, wait_ms = wait.as_millis() as u64, attempt, "retrying");
                    self.cancellable(tokio::time::sleep(wait)).await?;
                }
            }
        }
    }

    /// The full-jitter backoff before retry number `attempt + 1`.
    fn backoff(&self, attempt: u32) -> Duration {
        let st = &self.shared.settings;
        let cap = st
            .backoff_base
            .saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX))
            .min(st.backoff_max);
        let r = self.next_random();
        // A uniform fraction of the cap, in [0, 1).
        let frac = (r >> 11) as f64 / (1u64 << 53) as f64;
        cap.mul_f64(frac)
    }

    fn next_random(&self) -> u64 {
        // xorshift64*, shared by the requests; good enough for jitter.
        let mut x = self.shared.rng.load(Ordering::Relaxed);
        loop {
            let mut y = x;
            y ^= y >> 12;
            y ^= y << 25;
            y ^= y >> 27;
            match self.shared.rng.compare_exchange_weak(x, y, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return y.wrapping_mul(0x2545_f491_4f6c_dd1d),
                Err(now) => x = now,
            }
        }
    }

    /// Runs `f` until it ends or the cancel flag is set.
    async fn cancellable<F: Future>(&self, f: F) -> Result<F::Output, Error> {
        let cancel = self.shared.cancel;
        let tick = self.shared.settings.cancel_tick;
        let watch = async move {
            loop {
                if cancel.is_cancelled() {
                    return;
                }
                tokio::time::sleep(tick).await;
            }
        };
        tokio::select! {
            out = f => Ok(out),
            () = watch => Err(Error::cancelled()),
        }
    }

    async fn attempt(&self, request: &Request) -> Result<Attempt, Error> {
        let s = &self.shared;
        let (bearer, generation) = match &s.auth {
            Auth::None => (None, 0),
            Auth::Bearer(t) => (Some(t.clone()), 0),
            Auth::ClientCredentials(cc) => {
                let t = self.token(cc).await?;
                (Some(t.value), t.generation)
            }
        };
        let mut rb = s.client.request(request.method.reqwest(), &request.url);
        if !request.query.is_empty() {
            rb = rb.query(&request.query);
        }
        for (k, v) in &request.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        if let Some(t) = bearer {
            rb = rb.bearer_auth(t);
        }
        if let Some(body) = &request.json {
            rb = rb.json(body);
        }
        s.counters.attempts.fetch_add(1, Ordering::Relaxed);
        let result = self.cancellable(async move { read_response(rb).await }).await?;
        let r = match result {
            Ok(r) => r,
            Err(e) if e.is_builder() => {
                return Err(Error::config(format!(
                    "{}: not a valid request: {e}",
                    display_url(&request.url)
                )));
            }
            Err(e) => {
                return Ok(Attempt::Retry { wait: None, why: describe_transport(&e), throttled: false });
            }
        };
        let mut r = r;
        r.url = display_url(&request.url);
        if r.status == 401 {
            return Ok(Attempt::Unauthorized(r, generation));
        }
        if retryable_status(r.status) {
            let wait = r
                .header("retry-after")
                .and_then(parse_retry_after)
                .map(|w| w.min(s.settings.max_retry_after));
            return Ok(Attempt::Retry {
                wait,
                why: format!("HTTP {}", r.status),
                throttled: r.status == 429,
            });
        }
        Ok(Attempt::Done(r))
    }

    /// The current token, fetched when there is none or it is about to expire.
    async fn token(&self, cc: &ClientCredentials) -> Result<Token, Error> {
        let s = &self.shared;
        let mut slot = s.token.lock().await;
        if let Some(t) = slot.as_ref()
            && Instant::now() < t.refresh_at
        {
            return Ok(t.clone());
        }
        *slot = None;
        let t = self.fetch_token(cc).await?;
        *slot = Some(t.clone());
        Ok(t)
    }

    async fn fetch_token(&self, cc: &ClientCredentials) -> Result<Token, Error> {
        let s = &self.shared;
        let mut attempt = 0u32;
        loop {
            let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
            if let Some(scope) = &cc.scope {
                form.push(("scope", scope));
            }
            let mut rb = s.client.post(&cc.token_url).header("accept", "application/json");
            if cc.in_body {
                form.push(("client_id", &cc.client_id));
                form.push(("client_secret", &cc.client_secret));
            } else {
                rb = rb.basic_auth(&cc.client_id, Some(&cc.client_secret));
            }
            let rb = rb.form(&form);
            s.counters.attempts.fetch_add(1, Ordering::Relaxed);
            let sent_at = Instant::now();
            let result = self.cancellable(async move { read_response(rb).await }).await?;
            let why = match result {
                Ok(r) if r.is_success() => return self.parse_token(cc, &r, sent_at),
                Ok(r) if retryable_status(r.status) => format!("HTTP {}", r.status),
                Ok(r) => {
                    return Err(Error::config(format!(
                        "the token endpoint {} refused the client credentials (HTTP {}): check the client id and secret, and that the API access is enabled",
                        display_url(&cc.token_url),
                        r.status
                    )));
                }
                Err(e) if e.is_builder() => {
                    return Err(Error::config(format!(
                        "{}: not a valid token URL: {e}",
                        display_url(&cc.token_url)
                    )));
                }
                Err(e) => describe_transport(&e),
            };
            if attempt >= s.settings.max_retries {
                return Err(Error::io(format!(
                    "getting a token from {}: {why}, still after {} attempts; try again later",
                    display_url(&cc.token_url),
                    attempt + 1
                ))
                .retryable());
            }
            let wait = self.backoff(attempt);
            attempt += 1;
            s.counters.retries.fetch_add(1, Ordering::Relaxed);
            self.cancellable(tokio::time::sleep(wait)).await?;
        }
    }

    fn parse_token(&self, cc: &ClientCredentials, r: &Response, sent_at: Instant) -> Result<Token, Error> {
        let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|e| {
            Error::io(format!(
                "the token endpoint {} answered something that is not JSON: {e}",
                display_url(&cc.token_url)
            ))
        })?;
        let Some(value) = v.get("access_token").and_then(serde_json::Value::as_str).filter(|t| !t.is_empty())
        else {
            return Err(Error::io(format!(
                "the token endpoint {} answered without an access_token",
                display_url(&cc.token_url)
            )));
        };
        // expires_in arrives as a number or as a string; without it, an hour.
        let lifetime = match v.get("expires_in") {
            Some(serde_json::Value::Number(n)) => n.as_f64(),
            Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(3600.0);
        let lifetime = Duration::from_secs_f64(lifetime.min(1e9));
        // Refresh a tenth of its life (at most a minute) before it expires.
        let margin = (lifetime / 10).min(Duration::from_secs(60));
        let generation = self.shared.token_generation.fetch_add(1, Ordering::Relaxed) + 1;
        self.shared.counters.tokens_fetched.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(lifetime_s = lifetime.as_secs_f64(), "fetched an access token");
        Ok(Token { value: value.to_owned(), refresh_at: sent_at + lifetime - margin, generation })
    }
}

async fn read_response(rb: reqwest::RequestBuilder) -> Result<Response, reqwest::Error> {
    let r = rb.send().await?;
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let url = r.url().to_string();
    let body = r.bytes().await?.to_vec();
    Ok(Response { status, headers, body, url, attempts: 1 })
}

fn describe_transport(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the request timed out".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else {
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            msg = format!("{msg}: {s}");
            src = s.source();
        }
        msg
    }
}

/// Whether a status is worth trying again.
pub fn retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// `url` without its query (queries may hold filters naming people).
fn display_url(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or(url).to_owned()
}

/// A `Retry-After` value: seconds, or an HTTP date (IMF-fixdate,
/// `Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(v)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// Seconds since the epoch of an IMF-fixdate.
fn parse_http_date(v: &str) -> Option<u64> {
    let parts: Vec<&str> = v.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else { return None };
    let day: u64 = day.parse().ok()?;
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| m == month)? as u64
        + 1;
    let year: i64 = year.parse().ok()?;
    let hms: Vec<u64> = time.split(':').map(str::parse).collect::<Result<_, _>>().ok()?;
    let [h, m, s] = hms.as_slice() else { return None };
    if !(1..=31).contains(&day) || *h > 23 || *m > 59 || *s > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, mo) = if month <= 2 { (year - 1, month + 9) } else { (year, month - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * mo as i64 + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + (*h * 3600 + *m * 60 + *s) as i64;
    u64::try_from(secs).ok()
}

#[cfg(test)]
mod tests;
