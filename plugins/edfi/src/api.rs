//! The Ed-Fi API over the SDK's HTTP client (`ferry_sdk::http`: OAuth2
//! client credentials with refresh, bounded retries honouring
//! `Retry-After`, bounded concurrency, cancellation): POST by natural key,
//! paged GETs, and the reading of the API's answers.

use std::time::Duration;

use ferry_sdk::http::{Auth, ClientCredentials, HttpClient, HttpSettings, HttpStats, Request, Response};
use ferry_sdk::serde_json::Value;
use ferry_sdk::{CancelFlag, Error};

use crate::settings::Settings;

/// The API of one run.
pub struct Api {
    http: HttpClient,
    settings: Settings,
}

/// What the API said of one POST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 201: created, with the new resource's id.
    Created(Option<String>),
    /// 200 or 204: an existing resource updated.
    Updated(Option<String>),
    /// Refused: the status and the API's message.
    Refused(u16, String),
}

impl Api {
    /// A client for `settings`, stopping when `cancel` is set.
    pub fn new(settings: &Settings, cancel: CancelFlag) -> Result<Api, Error> {
        let http = HttpSettings {
            concurrency: settings.concurrency,
            max_retries: settings.max_retries,
            timeout: Duration::from_secs(settings.timeout_seconds),
            ..HttpSettings::default()
        };
        let auth = Auth::ClientCredentials(ClientCredentials::new(
            settings.token_url(),
            settings.client_id.clone(),
            settings.client_secret.clone(),
        ));
        Ok(Api { http: HttpClient::new(http, auth, cancel)?, settings: settings.clone() })
    }

    /// What the client did so far.
    pub fn stats(&self) -> HttpStats {
        self.http.stats()
    }

    /// POSTs every `(resource, body)`, at most `concurrency` at once; one
    /// outcome per body, in order. An error is a failure of the transport
    /// (retries exhausted, cancelled), not a refusal.
    pub fn post_all(&self, items: Vec<(&str, Value)>) -> Vec<Result<Outcome, Error>> {
        let requests = items
            .into_iter()
            .map(|(r, body)| {
                Request::post_json(self.settings.resource_url(r), body).header("accept", "application/json")
            })
            .collect();
        self.http.send_all(requests).into_iter().map(|r| r.map(|resp| outcome(&resp))).collect()
    }

    /// GETs of `resource` with `query`, every page; in one vector.
    pub fn get_all(&self, resource: &str, query: &[(String, String)]) -> Result<Vec<Value>, Error> {
        self.get_all_from(resource, query, 0)
    }

    /// Every resource of `resource`: the first page with `totalCount=true`,
    /// then the other pages the count implies, at most `concurrency` at
    /// once, in order; and the count the API gave (`None` when it gave none:
    /// the pages are then read one after another until a short one).
    pub fn get_pages(&self, resource: &str) -> Result<(Vec<Value>, Option<u64>), Error> {
        let limit = self.settings.page_size;
        let page = |offset: usize, count: bool| {
            let mut r =
                Request::get(self.settings.resource_url(resource)).header("accept", "application/json");
            r.query.push(("offset".into(), offset.to_string()));
            r.query.push(("limit".into(), limit.to_string()));
            if count {
                r.query.push(("totalCount".into(), "true".into()));
            }
            r
        };
        let first = self.http.send(page(0, true))?.error_for_status()?;
        let total = first.header("total-count").and_then(|t| t.trim().parse::<u64>().ok());
        let mut out: Vec<Value> = first.json()?;
        let Some(total) = total else {
            if out.len() < limit {
                return Ok((out, None));
            }
            let rest = self.get_all_from(resource, &[], out.len())?;
            out.extend(rest);
            return Ok((out, None));
        };
        let offsets: Vec<usize> = (1..).map(|i| i * limit).take_while(|o| (*o as u64) < total).collect();
        for r in self.http.send_all(offsets.into_iter().map(|o| page(o, false)).collect()) {
            let items: Vec<Value> = r?.error_for_status()?.json()?;
            out.extend(items);
        }
        Ok((out, Some(total)))
    }

    /// The pages of `resource` with `query` from `offset` on, one after
    /// another until a short one.
    fn get_all_from(
        &self,
        resource: &str,
        query: &[(String, String)],
        mut offset: usize,
    ) -> Result<Vec<Value>, Error> {
        let mut out = Vec::new();
        let limit = self.settings.page_size;
        loop {
            let mut r =
                Request::get(self.settings.resource_url(resource)).header("accept", "application/json");
            r.query = query.to_vec();
            r.query.push(("offset".into(), offset.to_string()));
            r.query.push(("limit".into(), limit.to_string()));
            let page: Vec<Value> = self.http.send(r)?.error_for_status()?.json()?;
            let n = page.len();
            out.extend(page);
            if n < limit {
                return Ok(out);
            }
            offset += n;
        }
    }

    /// GETs of several `(resource, query)` at once (one page each, the
    /// first item of which is enough to say whether the resource exists).
    pub fn find_all(&self, queries: Vec<(&str, Vec<(String, String)>)>) -> Vec<Result<Option<Value>, Error>> {
        let requests = queries
            .into_iter()
            .map(|(r, q)| {
                let mut req =
                    Request::get(self.settings.resource_url(r)).header("accept", "application/json");
                req.query = q;
                req.query.push(("limit".into(), "1".into()));
                req
            })
            .collect();
        self.http
            .send_all(requests)
            .into_iter()
            .map(|r| {
                let page: Vec<Value> = r?.error_for_status()?.json()?;
                Ok(page.into_iter().next())
            })
            .collect()
    }
}

/// The resource id at the end of a `Location` header.
fn location_id(r: &Response) -> Option<String> {
    r.header("location").and_then(|l| l.trim_end_matches('/').rsplit('/').next()).map(str::to_owned)
}

fn outcome(r: &Response) -> Outcome {
    match r.status {
        201 => Outcome::Created(location_id(r)),
        200 | 204 => Outcome::Updated(location_id(r)),
        s => Outcome::Refused(s, message(r)),
    }
}

/// The API's message: Problem Details (`detail`, `validationErrors`,
/// `errors`, ODS/API 7.2 on), an older `{message}`, or the start of the body.
pub fn message(r: &Response) -> String {
    let text = r.text();
    let mut parts: Vec<String> = Vec::new();
    if let Ok(v) = ferry_sdk::serde_json::from_str::<Value>(&text) {
        for k in ["detail", "message", "title"] {
            if let Some(s) = v.get(k).and_then(Value::as_str) {
                parts.push(s.to_owned());
                break;
            }
        }
        if let Some(errs) = v.get("validationErrors").and_then(Value::as_object) {
            for (path, msgs) in errs {
                let msgs: Vec<&str> =
                    msgs.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
                parts.push(format!("{path}: {}", msgs.join("; ")));
            }
        }
        if let Some(errs) = v.get("errors").and_then(Value::as_array) {
            parts.extend(errs.iter().filter_map(Value::as_str).map(str::to_owned));
        }
    }
    if parts.is_empty() {
        parts.push(text.trim().to_owned());
    }
    let mut m = parts.join(" ");
    if m.len() > 400 {
        let mut cut = 400;
        while !m.is_char_boundary(cut) {
            cut -= 1;
        }
        m.truncate(cut);
        m.push('…');
    }
    m
}
