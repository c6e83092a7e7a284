//! The [`Plugin`] trait, [`OpenContext`], and the machinery behind
//! [`export_plugin!`](crate::export_plugin).

use std::path::{Path, PathBuf};

use abi_stable::std_types::{RResult, RString};
use ferry_model::MODEL_VERSION;
use ferry_plugin_abi::{
    ABI_VERSION, CancelFlag, FfiSink_TO, FfiSource_TO, HostLogger, Manifest, OpenOptions, OpenRequest,
    PluginError, SinkBox, SourceBox,
};
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::guard::{SinkAdapter, SourceAdapter, guard};
use crate::sink::Sink;
use crate::source::{BatchBuilder, Source};

/// A connector plugin: its manifest and how to open its source and sink.
pub trait Plugin: 'static {
    /// The manifest as TOML: `id`, `description`, `capabilities`, `entities`
    /// and `[config.<key>]` tables. `version` defaults to the crate's version;
    /// the SDK adds `abi_version` and `model_version`.
    const MANIFEST: &'static str;

    /// Opens the source. The default says the plugin has none.
    fn open_source(ctx: &OpenContext) -> Result<Box<dyn Source>, Error> {
        let _ = ctx;
        Err(Error::unsupported("this plugin is not a source"))
    }

    /// Opens the sink. The default says the plugin has none.
    fn open_sink(ctx: &OpenContext) -> Result<Box<dyn Sink>, Error> {
        let _ = ctx;
        Err(Error::unsupported("this plugin is not a sink"))
    }
}

/// What a plugin gets when a source or sink is opened.
#[derive(Clone, Debug)]
pub struct OpenContext {
    /// The plugin's configuration.
    pub config: serde_json::Value,
    /// The folder relative paths in the configuration are relative to.
    pub base_dir: PathBuf,
    /// The run's id.
    pub run_id: String,
    /// A dry run: a sink validates and plans everything and writes nothing.
    pub dry_run: bool,
    /// For a source: the destination keeps source tables, so send each of the
    /// source's tables as it came with [`BatchBuilder::push_table`].
    pub source_tables: bool,
    /// For a source: the entities the destination takes (`None`: all, or
    /// unknown). Records of others would be skipped by the host, so a source
    /// may leave them out.
    pub wanted: Option<Vec<ferry_model::EntityKind>>,
    /// The host's cancel flag.
    pub cancel: CancelFlag,
}

impl OpenContext {
    /// A context for tests and in-process use.
    pub fn new(config: serde_json::Value, base_dir: impl Into<PathBuf>) -> OpenContext {
        OpenContext {
            config,
            base_dir: base_dir.into(),
            run_id: "test".to_owned(),
            dry_run: false,
            source_tables: false,
            wanted: None,
            cancel: CancelFlag::never(),
        }
    }

    /// This context for a source whose destination keeps source tables.
    #[must_use]
    pub fn with_source_tables(mut self) -> OpenContext {
        self.source_tables = true;
        self
    }

    /// Whether the destination takes records of `entity`.
    pub fn wants(&self, entity: ferry_model::EntityKind) -> bool {
        self.wanted.as_ref().is_none_or(|w| w.contains(&entity))
    }

    /// This context for a dry run.
    #[must_use]
    pub fn dry_run(mut self) -> OpenContext {
        self.dry_run = true;
        self
    }

    /// Whether the host asked to stop: poll it in long calls and return
    /// [`Error::cancelled`].
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// The configuration as `T`; an error names the key at fault.
    pub fn config<T: DeserializeOwned>(&self) -> Result<T, Error> {
        parse_config(&self.config, "")
    }

    /// `path` resolved against [`OpenContext::base_dir`].
    pub fn resolve(&self, path: impl AsRef<Path>) -> PathBuf {
        let p = path.as_ref();
        if p.is_absolute() { p.to_owned() } else { self.base_dir.join(p) }
    }
}

/// Reads `value` (the configuration, or its section `section`) as `T`; an
/// error names the key at fault, with its full path (`dialect.delimiter`).
pub fn parse_config<T: DeserializeOwned>(value: &serde_json::Value, section: &str) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let key = match (section.is_empty(), path.is_empty() || path == ".") {
            (true, true) => String::new(),
            (true, false) => path,
            (false, true) => section.to_owned(),
            (false, false) => format!("{section}.{path}"),
        };
        if key.is_empty() {
            Error::config(format!("invalid configuration: {inner}"))
        } else {
            Error::config(format!("invalid configuration: `{key}`: {inner}"))
        }
    })
}

/// Builds the full manifest from a plugin's TOML.
pub fn build_manifest(text: &str, crate_version: &str) -> Result<Manifest, String> {
    complete_manifest(text, crate_version, TARGET)
}

/// The target triple this SDK, and so the plugin, was built for.
pub const TARGET: &str = env!("FERRY_SDK_TARGET");

/// The manifest a library carries in its manifest section (see
/// `ferry_plugin_abi::embedded`), as the running library reads it.
#[doc(hidden)]
pub fn manifest_from_section(section: &[u8]) -> Result<Manifest, String> {
    let e = ferry_plugin_abi::embedded::parse(section)?;
    complete_manifest(&e.text, &e.crate_version, &e.target)
}

fn complete_manifest(text: &str, crate_version: &str, target: &str) -> Result<Manifest, String> {
    let mut table: toml::Table =
        text.parse().map_err(|e| format!("the plugin's manifest is not valid TOML: {e}"))?;
    table.entry("version").or_insert_with(|| crate_version.into());
    table.insert("abi_version".into(), ABI_VERSION.into());
    table.insert("model_version".into(), format!("{}.{}", MODEL_VERSION.0, MODEL_VERSION.1).into());
    table.insert("target".into(), target.into());
    let m: Manifest =
        toml::Value::Table(table).try_into().map_err(|e| format!("the plugin's manifest is invalid: {e}"))?;
    for e in &m.entities {
        if ferry_model::EntityKind::from_name(e).is_none() {
            return Err(format!("the plugin's manifest names an unknown entity '{e}'"));
        }
    }
    Ok(m)
}

fn open_ctx(req: &OpenRequest) -> Result<OpenContext, Error> {
    let config = serde_json::from_str(&req.config_json)
        .map_err(|e| Error::internal(format!("the host sent configuration that is not JSON: {e}")))?;
    let options: OpenOptions = if req.options_json.is_empty() {
        OpenOptions::default()
    } else {
        serde_json::from_str(&req.options_json)
            .map_err(|e| Error::internal(format!("the host sent run options that are not JSON: {e}")))?
    };
    Ok(OpenContext {
        config,
        base_dir: PathBuf::from(req.base_dir.as_str()),
        run_id: req.run_id.to_string(),
        dry_run: options.dry_run,
        source_tables: options.source_tables,
        wanted: options
            .entities
            .map(|names| names.iter().filter_map(|n| ferry_model::EntityKind::from_name(n)).collect()),
        cancel: req.cancel,
    })
}

fn plugin_id(m: &Result<Manifest, String>) -> &str {
    m.as_ref().map_or("<invalid manifest>", |m| m.id.as_str())
}

#[doc(hidden)]
pub fn manifest_text(m: &Result<Manifest, String>) -> RString {
    match m {
        Ok(m) => toml::to_string(m).unwrap_or_else(|e| format!("error: {e}")).into(),
        Err(e) => format!("error: {e}").into(),
    }
}

#[doc(hidden)]
pub fn install_logger(logger: HostLogger, m: &Result<Manifest, String>) {
    let id = plugin_id(m).to_owned();
    let _ = std::panic::catch_unwind(move || crate::log::install(logger, &id));
}

#[doc(hidden)]
pub fn open_source<P: Plugin>(
    m: &Result<Manifest, String>,
    req: OpenRequest,
) -> RResult<SourceBox, PluginError> {
    let plugin = plugin_id(m).to_owned();
    guard(&plugin.clone(), &std::sync::atomic::AtomicBool::new(false), || {
        let ctx = open_ctx(&req)?;
        let inner = P::open_source(&ctx)?;
        let mut builder = BatchBuilder::new(1);
        builder.cancel = ctx.cancel;
        let adapter =
            SourceAdapter { plugin, inner: Some(inner), builder, done: false, poisoned: Default::default() };
        Ok(FfiSource_TO::from_value(adapter, abi_stable::sabi_trait::TD_Opaque))
    })
}

#[doc(hidden)]
pub fn open_sink<P: Plugin>(m: &Result<Manifest, String>, req: OpenRequest) -> RResult<SinkBox, PluginError> {
    let plugin = plugin_id(m).to_owned();
    guard(&plugin.clone(), &std::sync::atomic::AtomicBool::new(false), || {
        let inner = P::open_sink(&open_ctx(&req)?)?;
        Ok(FfiSink_TO::from_value(
            SinkAdapter { plugin, inner: Some(inner), poisoned: Default::default() },
            abi_stable::sabi_trait::TD_Opaque,
        ))
    })
}

#[doc(hidden)]
pub mod __private {
    pub use std::string::String;
    pub use std::sync::OnceLock;

    pub use abi_stable::library::{__call_root_module_loader, CheckTypeLayout, LibHeader, RootModuleResult};
    pub use abi_stable::prefix_type::PrefixTypeTrait;
    pub use abi_stable::std_types::{RResult, RString};
    pub use ferry_plugin_abi::{
        HostLogger, Manifest, OpenRequest, PluginError, PluginModule, PluginModuleRef, SinkBox, SourceBox,
    };

    pub use ferry_plugin_abi::embedded::{MAGIC, section_bytes, section_len};
    pub use ferry_plugin_abi::{ABI_VERSION, MODEL_VERSION_TEXT};

    pub use super::{TARGET, install_logger, manifest_from_section, manifest_text, open_sink, open_source};
}

/// Exports a [`Plugin`] as the library's root module. Use once, in the
/// plugin crate's `lib.rs` (the crate must be a `cdylib`):
///
/// ```ignore
/// ferry_sdk::export_plugin!(MyPlugin);
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        const _: () = {
            use p::PrefixTypeTrait as _;
            use $crate::__private as p;

            // The manifest, in a section of its own, so that packaging and
            // installing read it from the file without running this code;
            // `manifest()` parses the same bytes (which also keeps the linker
            // from dropping the section).
            const SECTION_PARTS: &[&str] = &[
                p::MAGIC,
                "abi_version=",
                p::ABI_VERSION,
                "\nmodel_version=",
                p::MODEL_VERSION_TEXT,
                "\ncrate_version=",
                ::core::env!("CARGO_PKG_VERSION"),
                "\ntarget=",
                p::TARGET,
                "\n\n",
                <$plugin as $crate::Plugin>::MANIFEST,
            ];
            #[allow(unsafe_code, reason = "a named section needs `link_section`; it holds plain bytes")]
            #[cfg_attr(
                any(target_os = "macos", target_os = "ios"),
                unsafe(link_section = "__DATA,__ferry_manifest")
            )]
            #[cfg_attr(windows, unsafe(link_section = ".ferrymf"))]
            #[cfg_attr(
                not(any(target_os = "macos", target_os = "ios", windows)),
                unsafe(link_section = ".ferry_manifest")
            )]
            #[used]
            static MANIFEST_SECTION: [u8; p::section_len(SECTION_PARTS)] = p::section_bytes(SECTION_PARTS);

            static MANIFEST: p::OnceLock<::core::result::Result<p::Manifest, p::String>> = p::OnceLock::new();

            fn manifest() -> &'static ::core::result::Result<p::Manifest, p::String> {
                MANIFEST.get_or_init(|| p::manifest_from_section(&MANIFEST_SECTION))
            }
            extern "C" fn manifest_fn() -> p::RString {
                ::std::panic::catch_unwind(|| p::manifest_text(manifest()))
                    .unwrap_or_else(|_| p::RString::from("error: building the manifest panicked"))
            }
            extern "C" fn set_logger_fn(logger: p::HostLogger) {
                p::install_logger(logger, manifest())
            }
            extern "C" fn open_source_fn(req: p::OpenRequest) -> p::RResult<p::SourceBox, p::PluginError> {
                p::open_source::<$plugin>(manifest(), req)
            }
            extern "C" fn open_sink_fn(req: p::OpenRequest) -> p::RResult<p::SinkBox, p::PluginError> {
                p::open_sink::<$plugin>(manifest(), req)
            }
            fn root_module() -> p::PluginModuleRef {
                p::PluginModule {
                    manifest: manifest_fn,
                    set_logger: set_logger_fn,
                    open_source: open_source_fn,
                    open_sink: open_sink_fn,
                }
                .leak_into_prefix()
            }

            // What abi_stable's `#[export_root_module]` writes, spelled out so
            // that plugin crates need no direct abi_stable dependency. The
            // symbol name is abi_stable's ROOT_MODULE_LOADER_NAME (checked by a
            // test in ferry-sdk).
            #[allow(unsafe_code, reason = "exporting the root module needs an unmangled static")]
            #[unsafe(export_name = "_1as_0lib_1header_0root_bmodule_bloader")]
            pub static FERRY_ROOT_MODULE_LOADER: p::LibHeader = {
                extern "C" fn erased() -> p::RootModuleResult {
                    p::__call_root_module_loader(root_module)
                }
                #[allow(unsafe_code, reason = "abi_stable's documented way to build the library header")]
                unsafe {
                    p::LibHeader::from_constructor::<p::PluginModuleRef>(erased, p::CheckTypeLayout::Yes)
                }
            };
        };
    };
}
