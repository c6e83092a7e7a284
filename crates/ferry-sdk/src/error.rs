//! [`Error`]: a plugin-level failure, as a connector author writes it.

use std::fmt;

use ferry_plugin_abi::{ErrorKind, PluginError};

/// A failure that stops the plugin's work (a bad record is a
/// [`Reject`](crate::Reject), not an error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// Whether trying again may succeed (a timeout, a 503).
    pub retryable: bool,
    /// What failed and what to do, for the user.
    pub message: String,
}

impl Error {
    /// A failure of the given kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, retryable: false, message: message.into() }
    }
    /// The run was cancelled (the plugin saw the host's cancel flag).
    pub fn cancelled() -> Error {
        Error::new(ErrorKind::Cancelled, "cancelled")
    }
    /// Marks the failure as one that may pass if tried again.
    #[must_use]
    pub fn retryable(mut self) -> Error {
        self.retryable = true;
        self
    }
    /// The configuration is wrong.
    pub fn config(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Config, message)
    }
    /// Reading or writing failed.
    pub fn io(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Io, message)
    }
    /// The input cannot be processed at all.
    pub fn data(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Data, message)
    }
    /// Not supported by this plugin.
    pub fn unsupported(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Unsupported, message)
    }
    /// A bug or unexpected state.
    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Internal, message)
    }
    /// Prefixes the message with context (`reading students.csv: …`).
    #[must_use]
    pub fn context(mut self, context: impl fmt::Display) -> Error {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::io(e.to_string())
    }
}

impl From<Error> for PluginError {
    fn from(e: Error) -> PluginError {
        PluginError { kind: e.kind.code(), retryable: e.retryable, message: e.message.into() }
    }
}

impl From<PluginError> for Error {
    fn from(e: PluginError) -> Error {
        Error { kind: e.error_kind(), retryable: e.retryable, message: e.message.into_string() }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
