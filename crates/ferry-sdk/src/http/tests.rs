//! The client against a loopback server (axum on its own thread and runtime).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response as AxResponse};
use axum::routing::{get, post};

use ferry_plugin_abi::ErrorKind;

use super::*;

#[derive(Default)]
struct Server {
    /// Hits per path.
    hits: Mutex<HashMap<String, u32>>,
    /// Tokens handed out and when they stop being accepted.
    tokens: Mutex<HashMap<String, Instant>>,
    issued: AtomicU32,
    /// The lifetime the token endpoint announces, and the one it enforces.
    lifetime_announced: Mutex<String>,
    lifetime_enforced: Mutex<Duration>,
    in_flight: AtomicU32,
    max_in_flight: AtomicU32,
}

impl Server {
    fn hit(&self, key: &str) -> u32 {
        let mut h = self.hits.lock().unwrap();
        let n = h.entry(key.to_owned()).or_default();
        *n += 1;
        *n
    }
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(v) = headers.get("authorization").and_then(|v| v.to_str().ok()) else { return false };
        let Some(t) = v.strip_prefix("Bearer ") else { return false };
        self.tokens.lock().unwrap().get(t).is_some_and(|until| Instant::now() < *until)
    }
}

type S = Arc<Server>;

async fn token(State(s): State<S>, headers: HeaderMap, body: String) -> AxResponse {
    // base64("id:secret")
    let basic = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Basic aWQ6c2VjcmV0");
    if !basic || !body.contains("grant_type=client_credentials") {
        return (StatusCode::UNAUTHORIZED, "{\"error\":\"invalid_client\"}").into_response();
    }
    let n = s.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let t = format!("tok-{n}");
    let enforced = *s.lifetime_enforced.lock().unwrap();
    s.tokens.lock().unwrap().insert(t.clone(), Instant::now() + enforced);
    let announced = s.lifetime_announced.lock().unwrap().clone();
    let body = format!("{{\"access_token\":\"{t}\",\"token_type\":\"Bearer\",\"expires_in\":{announced}}}");
    ([("content-type", "application/json")], body).into_response()
}

async fn data(State(s): State<S>, headers: HeaderMap) -> AxResponse {
    s.hit("data");
    if !s.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    ([("content-type", "application/json")], "{\"ok\":true}").into_response()
}

async fn flaky(State(s): State<S>, Path((status, fails)): Path<(u16, u32)>) -> AxResponse {
    let n = s.hit(&format!("flaky/{status}/{fails}"));
    if n <= fails {
        let code = StatusCode::from_u16(status).unwrap();
        if status == 429 {
            return (code, [("retry-after", "1")], "slow down").into_response();
        }
        return (code, "try later").into_response();
    }
    format!("{{\"attempt\":{n}}}").into_response()
}

async fn slow(State(s): State<S>) -> AxResponse {
    s.hit("slow");
    tokio::time::sleep(Duration::from_secs(20)).await;
    "late".into_response()
}

async fn parallel(State(s): State<S>, Path(i): Path<u32>) -> AxResponse {
    let now = s.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    s.max_in_flight.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(60)).await;
    s.in_flight.fetch_sub(1, Ordering::SeqCst);
    format!("{i}").into_response()
}

async fn echo(body: String) -> AxResponse {
    (StatusCode::CREATED, [("location", "/things/1")], body).into_response()
}

/// Starts the server on an ephemeral loopback port.
fn serve(state: S) -> SocketAddr {
    let app = Router::new()
        .route("/token", post(token))
        .route("/data", get(data))
        .route("/flaky/{status}/{fails}", get(flaky))
        .route("/slow", get(slow))
        .route("/parallel/{i}", get(parallel))
        .route("/echo", post(echo).put(echo))
        .with_state(state);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(l, app).await.unwrap();
        });
    });
    addr
}

fn fast() -> HttpSettings {
    HttpSettings {
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(20),
        max_retries: 3,
        ..HttpSettings::default()
    }
}

fn server(announced: &str, enforced: Duration) -> (S, String) {
    let s = Arc::new(Server::default());
    *s.lifetime_announced.lock().unwrap() = announced.to_owned();
    *s.lifetime_enforced.lock().unwrap() = enforced;
    let addr = serve(s.clone());
    (s, format!("http://{addr}"))
}

fn oauth(base: &str, secret: &str) -> Auth {
    Auth::ClientCredentials(ClientCredentials::new(format!("{base}/token"), "id", secret))
}

#[test]
fn a_429_waits_the_retry_after_then_succeeds() {
    let (_, base) = server("3600", Duration::from_secs(3600));
    let http = HttpClient::new(fast(), Auth::None, CancelFlag::never()).unwrap();
    let t0 = Instant::now();
    let r = http.get_json(&format!("{base}/flaky/429/1"), &[]).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.attempts, 2);
    // The backoff alone would be at most 20 ms: the second came after Retry-After.
    assert!(t0.elapsed() >= Duration::from_millis(950), "{:?}", t0.elapsed());
    let st = http.stats();
    assert_eq!((st.retries, st.throttled), (1, 1));
}

#[test]
fn server_errors_are_retried_with_backoff_then_succeed() {
    let (_, base) = server("3600", Duration::from_secs(3600));
    let http = HttpClient::new(fast(), Auth::None, CancelFlag::never()).unwrap();
    let r = http.get_json(&format!("{base}/flaky/503/2"), &[]).unwrap();
    assert_eq!((r.status, r.attempts), (200, 3));
    assert_eq!(r.json::<serde_json::Value>().unwrap()["attempt"], 3);
}

#[test]
fn retries_are_bounded_and_the_error_is_retryable() {
    let (s, base) = server("3600", Duration::from_secs(3600));
    let http = HttpClient::new(fast(), Auth::None, CancelFlag::never()).unwrap();
    let e = http.get_json(&format!("{base}/flaky/500/100?secret=no"), &[]).unwrap_err();
    assert!(e.retryable);
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(e.message.contains("HTTP 500") && e.message.contains("4 attempts"), "{e}");
    assert!(!e.message.contains("secret=no"), "the query is left out of messages: {e}");
    assert_eq!(s.hits.lock().unwrap()["flaky/500/100"], 4);
}

#[test]
fn a_4xx_is_returned_for_the_caller_to_judge() {
    let (_, base) = server("3600", Duration::from_secs(3600));
    let http = HttpClient::new(fast(), Auth::None, CancelFlag::never()).unwrap();
    let r = http.get_json(&format!("{base}/flaky/404/100"), &[]).unwrap();
    assert_eq!((r.status, r.attempts), (404, 1));
    let e = r.error_for_status().unwrap_err();
    assert!(!e.retryable && e.message.contains("HTTP 404"), "{e}");
}

#[test]
fn a_connection_refused_is_retried_then_reported() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let http = HttpClient::new(fast(), Auth::None, CancelFlag::never()).unwrap();
    let e = http.get_json(&format!("http://127.0.0.1:{port}/x"), &[]).unwrap_err();
    assert!(e.retryable && e.message.contains("cannot connect"), "{e}");
    assert_eq!(http.stats().attempts, 4);
}

#[test]
fn a_token_is_fetched_once_and_refreshed_before_it_expires() {
    // Announced as a string (one PowerSchool client models it so): 1 second.
    let (s, base) = server("\"1\"", Duration::from_secs(1));
    let http = HttpClient::new(fast(), oauth(&base, "secret"), CancelFlag::never()).unwrap();
    for _ in 0..3 {
        assert_eq!(http.get_json(&format!("{base}/data"), &[]).unwrap().status, 200);
    }
    assert_eq!(s.issued.load(Ordering::SeqCst), 1);
    std::thread::sleep(Duration::from_millis(950));
    // Within the refresh margin (a tenth of its life): a new token, no 401.
    assert_eq!(http.get_json(&format!("{base}/data"), &[]).unwrap().status, 200);
    assert_eq!(s.issued.load(Ordering::SeqCst), 2);
    assert_eq!(http.stats().unauthorized_refreshes, 0);
    assert_eq!(s.hits.lock().unwrap()["data"], 4);
}

#[test]
fn a_token_refused_early_is_refreshed_once_on_the_401() {
    // Announced for an hour, dead after 200 ms (revoked, a server restart).
    let (s, base) = server("3600", Duration::from_millis(200));
    let http = HttpClient::new(fast(), oauth(&base, "secret"), CancelFlag::never()).unwrap();
    assert_eq!(http.get_json(&format!("{base}/data"), &[]).unwrap().status, 200);
    std::thread::sleep(Duration::from_millis(300));
    let r = http.get_json(&format!("{base}/data"), &[]).unwrap();
    assert_eq!((r.status, r.attempts), (200, 2));
    assert_eq!(s.issued.load(Ordering::SeqCst), 2);
    assert_eq!(http.stats().unauthorized_refreshes, 1);
}

#[test]
fn bad_credentials_are_a_config_error_without_the_secret() {
    let (_, base) = server("3600", Duration::from_secs(3600));
    let http = HttpClient::new(fast(), oauth(&base, "wrong-secret"), CancelFlag::never()).unwrap();
    let e = http.get_json(&format!("{base}/data"), &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(!e.retryable);
    assert!(e.message.contains("refused the client credentials (HTTP 401)"), "{e}");
    assert!(!e.message.contains("wrong-secret"));
    assert!(!format!("{http:?}").contains("wrong-secret"));
}

#[test]
fn cancel_stops_a_request_in_flight_within_a_tick() {
    let (s, base) = server("3600", Duration::from_secs(3600));
    let flag: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let http = HttpClient::new(fast(), Auth::None, CancelFlag::new(flag)).unwrap();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        flag.store(true, Ordering::SeqCst);
    });
    let t0 = Instant::now();
    let e = http.get_json(&format!("{base}/slow"), &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled);
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    assert_eq!(s.hits.lock().unwrap()["slow"], 1);
}

#[test]
fn cancel_stops_a_retry_wait() {
    let (_, base) = server("3600", Duration::from_secs(3600));
    let flag: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let settings = HttpSettings {
        backoff_base: Duration::from_secs(30),
        backoff_max: Duration::from_secs(30),
        ..fast()
    };
    let http = HttpClient::new(settings, Auth::None, CancelFlag::new(flag)).unwrap();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        flag.store(true, Ordering::SeqCst);
    });
    let t0 = Instant::now();
    // Retry-After 1 s each time, three retries: 3 s unless cancelled.
    let e = http.get_json(&format!("{base}/flaky/429/100"), &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled);
    assert!(t0.elapsed() < Duration::from_millis(900), "{:?}", t0.elapsed());
}

#[test]
fn send_all_keeps_order_and_bounds_concurrency() {
    let (s, base) = server("3600", Duration::from_secs(3600));
    let http =
        HttpClient::new(HttpSettings { concurrency: 3, ..fast() }, Auth::None, CancelFlag::never()).unwrap();
    let reqs = (0..9).map(|i| Request::get(format!("{base}/parallel/{i}"))).collect();
    let out = http.send_all(reqs);
    let bodies: Vec<String> = out.into_iter().map(|r| r.unwrap().text()).collect();
    assert_eq!(bodies, (0..9).map(|i| i.to_string()).collect::<Vec<_>>());
    let max = s.max_in_flight.load(Ordering::SeqCst);
    assert!((2..=3).contains(&max), "max in flight {max}");
}

#[test]
fn post_and_put_send_json_and_return_status_and_headers() {
    let (_, base) = server("3600", Duration::from_secs(3600));
    let http = HttpClient::new(fast(), Auth::None, CancelFlag::never()).unwrap();
    let body = serde_json::json!({"studentUniqueId": "007"});
    for r in [
        http.post_json(&format!("{base}/echo"), &body).unwrap(),
        http.put_json(&format!("{base}/echo"), &body).unwrap(),
    ] {
        assert_eq!(r.status, 201);
        assert_eq!(r.header("Location"), Some("/things/1"));
        assert_eq!(r.json::<serde_json::Value>().unwrap(), body);
    }
}

#[test]
fn retry_after_reads_seconds_and_http_dates() {
    assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
    assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
    assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
    assert_eq!(parse_retry_after("soon"), None);
    assert_eq!(parse_http_date("Sun, 32 Nov 1994 08:49:37 GMT"), None);
}

#[test]
fn backoff_is_full_jitter_under_the_cap() {
    let http = HttpClient::new(fast(), Auth::None, CancelFlag::never()).unwrap();
    let h = http.handle();
    let waits: Vec<Duration> = (0..200).map(|_| h.backoff(10)).collect();
    assert!(waits.iter().all(|w| *w <= Duration::from_millis(20)));
    let distinct: std::collections::HashSet<_> = waits.iter().collect();
    assert!(distinct.len() > 100, "jittered waits differ");
    assert!(waits.iter().any(|w| *w < Duration::from_millis(10)), "full jitter reaches below half the cap");
    assert!((0..50).map(|_| h.backoff(0)).all(|w| w <= Duration::from_millis(5)));
}
