//! The one crate a Ferry connector plugin depends on.
//!
//! A plugin implements [`Plugin`] and [`Source`] and/or [`Sink`] over the
//! canonical model ([`model`]), and exports itself with [`export_plugin!`]:
//!
//! ```no_run
//! use ferry_sdk::model::{EntityKind, Meta, Org, OrgKind, Code};
//! use ferry_sdk::{BatchBuilder, Error, OpenContext, Plugin, Source};
//!
//! struct Hello;
//!
//! impl Plugin for Hello {
//!     const MANIFEST: &'static str = r#"
//!         id = "hello"
//!         description = "Produces one district"
//!         capabilities = ["source"]
//!         entities = ["orgs"]
//!     "#;
//!     fn open_source(_ctx: &OpenContext) -> Result<Box<dyn Source>, Error> {
//!         Ok(Box::new(HelloSource { done: false }))
//!     }
//! }
//!
//! struct HelloSource { done: bool }
//!
//! impl Source for HelloSource {
//!     fn entities(&self) -> Vec<EntityKind> { vec![EntityKind::Orgs] }
//!     fn next_batch(&mut self, out: &mut BatchBuilder) -> Result<bool, Error> {
//!         if !self.done {
//!             let org = Org {
//!                 meta: Meta::new("hello", "1"),
//!                 kind: Some(Code::mapped(OrgKind::District, "district")),
//!                 name: "Hello ISD".into(),
//!                 ..Org::default()
//!             };
//!             out.push(&org)?;
//!             self.done = true;
//!         }
//!         Ok(false)
//!     }
//! }
//!
//! ferry_sdk::export_plugin!(Hello);
//! ```
//!
//! What the SDK guarantees for you:
//! - a panic in your code becomes an error naming your plugin, never an abort
//!   of the host;
//! - your `tracing` events reach the host's log output ([`tracing`] is
//!   re-exported; log personal data at debug level at most);
//! - every record you push is validated; invalid ones become rejects with your
//!   source location, and values you could not store become warnings or
//!   rejects by the model's field rules ([`BatchBuilder::push_with`]);
//! - records cross to the host as Arrow record batches (you never see Arrow
//!   unless you want it: sources push the model's row structs, sinks read
//!   typed zero-copy views, [`SinkBatch::arrow`] gives the batch itself).
#![warn(missing_docs)]

mod error;
pub mod files;
mod guard;
mod hash;
#[cfg(feature = "http")]
pub mod http;
mod log;
mod plugin;
mod reject;
mod sink;
mod source;
pub mod testing;
pub mod testkit;
pub mod text;

pub use error::{Error, Result};
pub use hash::row_hash;
pub use log::progress;
pub use plugin::{__private, OpenContext, Plugin, build_manifest, parse_config};
pub use reject::Reject;
pub use sink::{Committed, Prepared, Sink, SinkBatch, Written};
pub use source::{BatchBuilder, FieldIssue, Source};

// Re-exports are part of the SDK's semver surface: a breaking release of one
// of these is a breaking release of the SDK.
pub use ferry_model as model;
pub use ferry_plugin_abi::{CancelFlag, EntityPlan, ErrorKind, RunSummary};
pub use serde;
pub use serde_json;
pub use tracing;

#[cfg(test)]
mod tests {
    #[test]
    fn model_version_constants_agree() {
        assert_eq!(ferry_model::MODEL_VERSION, ferry_plugin_abi::MODEL_VERSION);
    }

    #[test]
    fn root_module_symbol_is_abi_stables() {
        assert_eq!(abi_stable::library::ROOT_MODULE_LOADER_NAME, "_1as_0lib_1header_0root_bmodule_bloader");
    }
}
