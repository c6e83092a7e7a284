//! The connector's configuration.

use std::collections::BTreeMap;

use ferry_sdk::serde::Deserialize;
use ferry_sdk::{Error, OpenContext};

/// Which of a person's ids is their Ed-Fi `*UniqueId`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(crate = "ferry_sdk::serde", rename_all = "snake_case")]
pub enum PersonId {
    /// `students.student_number` / `staff.staff_number` (default).
    #[default]
    Number,
    /// `state_id`.
    StateId,
    /// The record's source id.
    SourceId,
}

/// The data standards the connector can write.
pub const DATA_STANDARDS: &[&str] = &["5.2"];

/// The configuration, as given.
#[derive(Clone, Debug, Deserialize)]
#[serde(crate = "ferry_sdk::serde", deny_unknown_fields)]
pub struct Settings {
    /// The API's base URL (`https://host/api`), holding `oauth/token` and `data/v3`.
    pub base_url: String,
    /// The token endpoint, when not `{base_url}/oauth/token`.
    #[serde(default)]
    pub oauth_url: Option<String>,
    /// The data path, when not `{base_url}/data/v3`.
    #[serde(default)]
    pub data_url: Option<String>,
    /// The OAuth2 client id (the API key).
    pub client_id: String,
    /// The OAuth2 client secret (a secret).
    pub client_secret: String,
    /// The Ed-Fi Data Standard version written (default 5.2).
    #[serde(default = "default_standard")]
    pub data_standard: String,
    /// The descriptor namespace prefix (default `uri://ed-fi.org`).
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// Per descriptor (`GradeLevelDescriptor`), another namespace.
    #[serde(default)]
    pub descriptor_namespaces: BTreeMap<String, String>,
    /// Per descriptor, canonical code → descriptor code value, over the defaults.
    #[serde(default)]
    pub descriptor_codes: BTreeMap<String, BTreeMap<String, String>>,
    /// Which id is a student's `studentUniqueId`.
    #[serde(default)]
    pub student_unique_id: PersonId,
    /// Which id is a staff member's `staffUniqueId`.
    #[serde(default)]
    pub staff_unique_id: PersonId,
    /// Canonical org source id → Ed-Fi education organization id, over the
    /// default (the org's identifier, else its source id, when an integer).
    #[serde(default)]
    pub education_organization_ids: BTreeMap<String, i64>,
    /// Requests in flight at once (default 8).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Retries of a request that failed retryably (429, 5xx, a lost connection; default 4).
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// Seconds one request may take (default 60).
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
    /// Source: records per page of a GET (default 500, the ODS/API's maximum).
    #[serde(default = "default_page")]
    pub page_size: usize,
    /// Source: the source system stamped on the records read back (default `edfi`).
    #[serde(default)]
    pub system: Option<String>,
    /// Source: the receipts of the runs that wrote the ODS
    /// (`ferry-receipts.jsonl`), to give the records read back the source
    /// ids they were written from; without them, a record's id is its
    /// Ed-Fi natural key.
    #[serde(default)]
    pub receipts: Option<String>,
}

fn default_standard() -> String {
    "5.2".into()
}
fn default_namespace() -> String {
    "uri://ed-fi.org".into()
}
fn default_concurrency() -> usize {
    8
}
fn default_retries() -> u32 {
    4
}
fn default_timeout() -> u64 {
    60
}
fn default_page() -> usize {
    500
}

impl Settings {
    /// Reads and checks the configuration.
    pub fn from_context(ctx: &OpenContext) -> Result<Settings, Error> {
        let s: Settings = ctx.config()?;
        s.check()?;
        Ok(s)
    }

    /// Checks what serde cannot.
    pub fn check(&self) -> Result<(), Error> {
        if !DATA_STANDARDS.contains(&self.data_standard.as_str()) {
            return Err(Error::config(format!(
                "data_standard: {:?} is not built; the connector writes Ed-Fi Data Standard {} (ODS/API 7.x). Data Standards 4 and 6 are not supported yet",
                self.data_standard,
                DATA_STANDARDS.join(", ")
            )));
        }
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(Error::config(
                "base_url: give the API's address, starting with https:// (or http:// on loopback)",
            ));
        }
        if self.concurrency == 0 || self.concurrency > 64 {
            return Err(Error::config("concurrency: give a number of requests from 1 to 64"));
        }
        if self.page_size == 0 || self.page_size > 500 {
            return Err(Error::config("page_size: give a number from 1 to 500 (the ODS/API's maximum)"));
        }
        if self.namespace.ends_with('/') || !self.namespace.starts_with("uri://") {
            return Err(Error::config(
                "namespace: give a descriptor namespace such as uri://ed-fi.org (no trailing slash)",
            ));
        }
        Ok(())
    }

    /// The token endpoint.
    pub fn token_url(&self) -> String {
        self.oauth_url
            .clone()
            .unwrap_or_else(|| format!("{}/oauth/token", self.base_url.trim_end_matches('/')))
    }

    /// The URL of a resource (`ed-fi/students`).
    pub fn resource_url(&self, resource: &str) -> String {
        let data = self
            .data_url
            .clone()
            .unwrap_or_else(|| format!("{}/data/v3", self.base_url.trim_end_matches('/')));
        format!("{}/ed-fi/{resource}", data.trim_end_matches('/'))
    }

    /// The namespace of a descriptor.
    pub fn namespace_of(&self, descriptor: &str) -> &str {
        self.descriptor_namespaces.get(descriptor).map_or(self.namespace.as_str(), String::as_str)
    }
}
