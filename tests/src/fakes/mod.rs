//! Fake servers on loopback, for tests that must not touch the network. Each
//! runs on a thread of its own with its own tokio runtime, so that
//! synchronous tests (and the `ferry` binary they start) can talk to it.

pub mod edfi;
pub mod powerschool;

use std::future::Future;

use axum::body::Body;
use axum::http::Response;

/// A server on a free port of 127.0.0.1, answering every request with
/// `handler` on a thread of its own with its own runtime; stopped on drop.
pub struct Server {
    base_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts `handler`, given its own base URL, on a thread named `name`.
    pub fn start<F, Fut>(name: &str, handler: impl FnOnce(String) -> F) -> Server
    where
        F: Fn(axum::extract::Request) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Response<Body>> + Send + 'static,
    {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let port = listener.local_addr().expect("local address").port();
        let base_url = format!("http://127.0.0.1:{port}");
        let handler = handler(base_url.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                    let app = axum::Router::new().fallback(handler);
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = rx.await;
                        })
                        .await;
                });
            })
            .expect("spawn the fake's thread");
        Server { base_url, stop: Some(tx), thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
