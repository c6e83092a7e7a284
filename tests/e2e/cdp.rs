//! A small Chrome DevTools Protocol client: headless Chromium driven over
//! `--remote-debugging-pipe` (it reads commands from fd 3 and writes
//! responses and events to fd 4, each a JSON message ending in a NUL byte).
//!
//! [`Browser::open`] loads one local file in a fresh tab and returns what a
//! report test needs: the console errors, uncaught exceptions, log errors
//! and network requests it saw ([`Rendered::problems`]), the page's text and
//! its `data-figure` values; with an artifact name it also saves a full-page
//! screenshot, one under the print stylesheet, and the page printed to PDF
//! (A4 and US Letter).
//!
//! Every call has a timeout, so a hung browser fails the test instead of
//! hanging it, and dropping the [`Browser`] closes it (killing its process
//! group if it does not quit).

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long one protocol call may take.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The viewport pages are rendered in (CSS pixels).
const WIDTH: u64 = 1100;
const HEIGHT: u64 = 900;
/// An A4 page's printable width at 96 CSS pixels an inch, less margins.
const PRINT_WIDTH: u64 = 700;

/// Chromium, if installed: `$FERRY_CHROMIUM`, `/usr/bin/chromium`, or
/// `chromium`, `chromium-browser`, `google-chrome` on the `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("FERRY_CHROMIUM") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let fixed = PathBuf::from("/usr/bin/chromium");
    if fixed.is_file() {
        return Some(fixed);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser", "google-chrome"].map(|n| d.join(n)))
        .find(|p| p.is_file())
}

/// A running headless browser.
pub struct Browser {
    child: Child,
    commands: std::io::PipeWriter,
    messages: Receiver<Value>,
    /// Events received while waiting for a response, oldest first.
    events: Vec<Value>,
    next_id: u64,
    timeout: Duration,
    /// The browser's own stderr, for error messages.
    log: PathBuf,
    _profile: tempfile::TempDir,
}

/// What loading a page showed.
#[derive(Debug, Default)]
pub struct Rendered {
    /// The page's `file://` URL.
    pub url: String,
    /// Console errors, uncaught exceptions, log errors, network requests
    /// other than the page itself and `data:` URLs, failed loads.
    pub problems: Vec<String>,
    /// Every URL the page requested (itself included).
    pub requests: Vec<String>,
    /// `document.body.innerText`.
    pub text: String,
    /// Every `[data-figure]` element: its key and its text, or for an
    /// element with `data-ok` (a verdict) `true`/`false`.
    pub figures: BTreeMap<String, String>,
    /// Problems of the print rendering: elements with a dark background,
    /// content wider than an A4 page.
    pub print_problems: Vec<String>,
    /// The files saved (screenshot, PDFs).
    pub artifacts: Vec<PathBuf>,
}

impl Rendered {
    /// The expected figures that are missing or say something else, as
    /// messages (empty when all are as expected).
    pub fn figure_mismatches(&self, expected: &[(&str, String)]) -> Vec<String> {
        expected
            .iter()
            .filter_map(|(k, v)| match self.figures.get(*k) {
                None => Some(format!("figure {k:?} is not on the page (expected {v})")),
                Some(got) if got != v => Some(format!("figure {k:?} shows {got}, expected {v}")),
                Some(got)
                    if !self.text.contains(got.as_str()) && !matches!(got.as_str(), "true" | "false") =>
                {
                    Some(format!("figure {k:?} ({got}) is not in the rendered text"))
                }
                Some(_) => None,
            })
            .collect()
    }
}

impl Browser {
    /// Starts `exe` headless with the protocol on a pipe.
    pub fn launch(exe: &Path) -> Result<Browser, String> {
        Browser::launch_with_timeout(exe, TIMEOUT)
    }

    /// [`Browser::launch`], with `timeout` for each call.
    pub fn launch_with_timeout(exe: &Path, timeout: Duration) -> Result<Browser, String> {
        use std::os::fd::AsRawFd as _;
        use std::os::unix::process::CommandExt as _;

        let profile = tempfile::tempdir().map_err(|e| format!("cannot make a browser profile: {e}"))?;
        let log = profile.path().join("browser-stderr.log");
        let stderr =
            std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        // The browser reads commands on fd 3 and writes messages on fd 4.
        let (cmd_read, cmd_write) = std::io::pipe().map_err(|e| format!("cannot make a pipe: {e}"))?;
        let (msg_read, msg_write) = std::io::pipe().map_err(|e| format!("cannot make a pipe: {e}"))?;
        let (r, w) = (cmd_read.as_raw_fd(), msg_write.as_raw_fd());
        let mut cmd = Command::new(exe);
        cmd.args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--remote-debugging-pipe",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-default-apps",
            "--disable-extensions",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--mute-audio",
            "--password-store=basic",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        // Its own process group, so that dropping it kills its helpers too.
        .process_group(0);
        #[allow(unsafe_code, reason = "pre_exec: dup2 of the two pipe ends onto fds 3 and 4 in the child")]
        // SAFETY: the closure runs between fork and exec and only calls
        // fcntl and dup2, which are async-signal-safe; it allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                // Out of the way first: either end may already be fd 3 or 4.
                let r2 = libc::fcntl(r, libc::F_DUPFD_CLOEXEC, 10);
                let w2 = libc::fcntl(w, libc::F_DUPFD_CLOEXEC, 10);
                if r2 < 0 || w2 < 0 || libc::dup2(r2, 3) < 0 || libc::dup2(w2, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        // Only the browser holds its ends now: its exit ends our reads.
        drop((cmd_read, msg_write));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut read = msg_read;
            let mut buf = Vec::new();
            let mut chunk = [0u8; 64 * 1024];
            loop {
                let n = match read.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                buf.extend_from_slice(&chunk[..n]);
                while let Some(end) = buf.iter().position(|b| *b == 0) {
                    let msg: Vec<u8> = buf.drain(..=end).collect();
                    let Ok(v) = serde_json::from_slice::<Value>(&msg[..end]) else { continue };
                    if tx.send(v).is_err() {
                        return;
                    }
                }
            }
        });
        Ok(Browser {
            child,
            commands: cmd_write,
            messages: rx,
            events: Vec::new(),
            next_id: 0,
            timeout,
            log,
            _profile: profile,
        })
    }

    /// The browser's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The end of the browser's stderr, for an error message.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// One protocol call (on a tab's session, or the browser's); returns its result.
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).map_err(|e| e.to_string())?;
        bytes.push(0);
        self.commands
            .write_all(&bytes)
            .map_err(|e| format!("cannot send {method} to the browser: {e}\n{}", self.log_tail()))?;
        let deadline = Instant::now() + self.timeout;
        loop {
            let v = self.recv(deadline, method)?;
            if v["id"] == id {
                if let Some(err) = v.get("error") {
                    return Err(format!("{method} failed: {err}"));
                }
                return Ok(v["result"].clone());
            }
            if v.get("method").is_some() {
                self.events.push(v);
            }
        }
    }

    fn recv(&mut self, deadline: Instant, waiting_for: &str) -> Result<Value, String> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.messages.recv_timeout(left) {
            Ok(v) => Ok(v),
            Err(RecvTimeoutError::Timeout) => Err(format!(
                "the browser did not answer {waiting_for} within {:?}\n{}",
                self.timeout,
                self.log_tail()
            )),
            Err(RecvTimeoutError::Disconnected) => Err(format!(
                "the browser closed its pipe while waiting for {waiting_for}\n{}",
                self.log_tail()
            )),
        }
    }

    /// Waits for the event `method` on `session` (keeping the others).
    pub fn wait_event(&mut self, session: &str, method: &str) -> Result<Value, String> {
        if let Some(i) = self.events.iter().position(|e| e["method"] == method && e["sessionId"] == session) {
            return Ok(self.events[i].clone());
        }
        let deadline = Instant::now() + self.timeout;
        loop {
            let v = self.recv(deadline, method)?;
            let hit = v["method"] == method && v["sessionId"] == session;
            if v.get("method").is_some() {
                self.events.push(v.clone());
            }
            if hit {
                return Ok(v);
            }
        }
    }

    /// Evaluates `expr` in the page (awaiting a promise) and returns its value.
    pub fn eval(&mut self, session: &str, expr: &str) -> Result<Value, String> {
        let r = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({ "expression": expr, "returnByValue": true, "awaitPromise": true }),
        )?;
        if let Some(ex) = r.get("exceptionDetails") {
            return Err(format!("evaluating {expr:?} threw: {ex}"));
        }
        Ok(r["result"]["value"].clone())
    }

    /// Loads `file` in a new tab and checks it; with `artifacts` = (folder,
    /// name), saves `name.png`, `name-print.png`, `name-a4.pdf` and
    /// `name-letter.pdf` there.
    pub fn open(&mut self, file: &Path, artifacts: Option<(&Path, &str)>) -> Result<Rendered, String> {
        let abs = file.canonicalize().map_err(|e| format!("cannot find {}: {e}", file.display()))?;
        let url = format!("file://{}", percent_encode_path(&abs.to_string_lossy()));
        let target = self.call(None, "Target.createTarget", json!({ "url": "about:blank" }))?;
        let target_id = target["targetId"].as_str().ok_or("no targetId")?.to_owned();
        let attached =
            self.call(None, "Target.attachToTarget", json!({ "targetId": target_id, "flatten": true }))?;
        let session = attached["sessionId"].as_str().ok_or("no sessionId")?.to_owned();
        let result = self.check(&session, &url, artifacts);
        let _ = self.call(None, "Target.closeTarget", json!({ "targetId": target_id }));
        self.events.retain(|e| e["sessionId"] != session.as_str());
        result
    }

    fn check(&mut self, s: &str, url: &str, artifacts: Option<(&Path, &str)>) -> Result<Rendered, String> {
        for domain in ["Inspector.enable", "Page.enable", "Runtime.enable", "Log.enable", "Network.enable"] {
            self.call(Some(s), domain, json!({}))?;
        }
        self.call(
            Some(s),
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": false }),
        )?;
        let nav = self.call(Some(s), "Page.navigate", json!({ "url": url }))?;
        if let Some(e) = nav.get("errorText") {
            return Err(format!("cannot load {url}: {e}"));
        }
        self.wait_event(s, "Page.loadEventFired")?;
        // Let late work (a timer, an image) finish and report.
        self.eval(s, "new Promise(r => requestAnimationFrame(() => setTimeout(r, 150)))")?;
        let mut out = Rendered { url: url.to_owned(), ..Rendered::default() };
        out.text =
            self.eval(s, "document.body ? document.body.innerText : ''")?.as_str().unwrap_or("").to_owned();
        let figures = self.eval(
            s,
            "JSON.stringify(Object.fromEntries([...document.querySelectorAll('[data-figure]')].map(e => [e.dataset.figure, e.dataset.ok !== undefined ? e.dataset.ok : e.textContent.trim()])))",
        )?;
        out.figures = serde_json::from_str(figures.as_str().unwrap_or("{}")).map_err(|e| e.to_string())?;

        if let Some((dir, name)) = artifacts {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let metrics = self.call(Some(s), "Page.getLayoutMetrics", json!({}))?;
            let height = metrics["cssContentSize"]["height"].as_f64().unwrap_or(HEIGHT as f64);
            // A long page is scaled down to stay within what a screenshot can hold.
            let scale = (15000.0 / height).min(1.0);
            let shot = self.call(
                Some(s),
                "Page.captureScreenshot",
                json!({ "format": "png", "captureBeyondViewport": true,
                        "clip": { "x": 0, "y": 0, "width": WIDTH, "height": height, "scale": scale } }),
            )?;
            out.artifacts.push(save(dir, &format!("{name}.png"), &shot["data"], b"\x89PNG")?);
        }

        // Print: the print stylesheet, on an A4 page's width.
        self.call(Some(s), "Emulation.setEmulatedMedia", json!({ "media": "print" }))?;
        self.call(
            Some(s),
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": PRINT_WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": false }),
        )?;
        let print = self.eval(s, PRINT_CHECK)?;
        out.print_problems =
            print.as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect();
        if let Some((dir, name)) = artifacts {
            // The print stylesheet as it looks, on a page's width.
            let metrics = self.call(Some(s), "Page.getLayoutMetrics", json!({}))?;
            let height = metrics["cssContentSize"]["height"].as_f64().unwrap_or(HEIGHT as f64);
            let scale = (15000.0 / height).min(1.0);
            let shot = self.call(
                Some(s),
                "Page.captureScreenshot",
                json!({ "format": "png", "captureBeyondViewport": true,
                        "clip": { "x": 0, "y": 0, "width": PRINT_WIDTH, "height": height, "scale": scale } }),
            )?;
            out.artifacts.push(save(dir, &format!("{name}-print.png"), &shot["data"], b"\x89PNG")?);
            for (paper, w, h) in [("a4", 8.27, 11.69), ("letter", 8.5, 11.0)] {
                let pdf = self.call(
                    Some(s),
                    "Page.printToPDF",
                    json!({ "paperWidth": w, "paperHeight": h, "printBackground": false, "preferCSSPageSize": false }),
                )?;
                out.artifacts.push(save(dir, &format!("{name}-{paper}.pdf"), &pdf["data"], b"%PDF-")?);
            }
        }
        self.call(Some(s), "Emulation.setEmulatedMedia", json!({ "media": "" }))?;

        // Everything the page reported while it loaded.
        let mut urls = BTreeMap::new();
        for e in self.events.iter().filter(|e| e["sessionId"] == s) {
            let p = &e["params"];
            match e["method"].as_str().unwrap_or("") {
                "Runtime.consoleAPICalled" if matches!(p["type"].as_str(), Some("error" | "assert")) => {
                    let args: Vec<String> = p["args"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| {
                            a["value"].as_str().map_or_else(|| a["description"].to_string(), str::to_owned)
                        })
                        .collect();
                    out.problems.push(format!(
                        "console.{}: {}",
                        p["type"].as_str().unwrap_or(""),
                        args.join(" ")
                    ));
                }
                "Runtime.exceptionThrown" => {
                    let d = &p["exceptionDetails"];
                    let what = d["exception"]["description"].as_str().or(d["text"].as_str()).unwrap_or("?");
                    out.problems.push(format!("uncaught exception: {what}"));
                }
                "Log.entryAdded" if p["entry"]["level"] == "error" => {
                    let en = &p["entry"];
                    out.problems.push(format!(
                        "log error ({}): {} {}",
                        en["source"].as_str().unwrap_or(""),
                        en["text"].as_str().unwrap_or(""),
                        en["url"].as_str().unwrap_or("")
                    ));
                }
                "Network.requestWillBeSent" => {
                    let u = p["request"]["url"].as_str().unwrap_or("").to_owned();
                    urls.insert(p["requestId"].as_str().unwrap_or("").to_owned(), u.clone());
                    out.requests.push(u.clone());
                    if u != url && !u.starts_with("data:") {
                        out.problems.push(format!("network request: {u}"));
                    }
                }
                "Network.loadingFailed" => {
                    let u = urls.get(p["requestId"].as_str().unwrap_or("")).cloned().unwrap_or_default();
                    out.problems
                        .push(format!("loading failed: {u} {}", p["errorText"].as_str().unwrap_or("")));
                }
                "Inspector.targetCrashed" => out.problems.push("the page crashed".into()),
                _ => {}
            }
        }
        Ok(out)
    }
}

/// Under print media, in the page: elements with a dark background, and
/// content wider than the page.
const PRINT_CHECK: &str = r#"(() => {
  const out = [];
  const dark = c => { const m = c.match(/rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)/);
    if (!m || (m[4] !== undefined && +m[4] < 0.2)) return false;
    return 0.2126 * m[1] + 0.7152 * m[2] + 0.0722 * m[3] < 160; };
  for (const e of [document.documentElement, ...document.querySelectorAll('body, body *')]) {
    const bg = getComputedStyle(e).backgroundColor;
    if (dark(bg)) out.push('dark background in print: <' + e.tagName.toLowerCase() + '> ' + bg);
  }
  const w = document.documentElement.scrollWidth, cw = document.documentElement.clientWidth;
  if (w > cw + 1) out.push('wider than the page in print: ' + w + 'px on ' + cw + 'px');
  return out;
})()"#;

fn save(dir: &Path, name: &str, data: &Value, magic: &[u8]) -> Result<PathBuf, String> {
    let bytes = base64_decode(data.as_str().ok_or_else(|| format!("no data for {name}"))?)?;
    if !bytes.starts_with(magic) {
        return Err(format!("{name}: not what was asked for ({} bytes)", bytes.len()));
    }
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// A path as a URL path: bytes other than unreserved ones and `/` are %XX.
fn percent_encode_path(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Standard base64 (the protocol's binary data), padding optional.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b'\n' | b'\r' => continue,
            _ => return Err(format!("not base64: byte {c:#04x}")),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Politely first; then the whole process group.
        let _ = self.commands.write_all(b"{\"id\":0,\"method\":\"Browser.close\",\"params\":{}}\0");
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let pid = self.child.id() as libc::pid_t;
        #[allow(unsafe_code, reason = "kill(2) of the browser's own process group, which it leads")]
        // SAFETY: a plain system call on our child's process group (not yet reaped, so the id is ours).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn base64_decodes_what_chromium_sends() {
    assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
    assert_eq!(base64_decode("aGVsbG8hIQ==").unwrap(), b"hello!!");
    assert_eq!(base64_decode("AAEC/w").unwrap(), [0, 1, 2, 255]);
    assert!(base64_decode("a$b").is_err());
    assert_eq!(percent_encode_path("/tmp/a b/ü.html"), "/tmp/a%20b/%C3%BC.html");
}
