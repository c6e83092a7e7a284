//! A deviation from the specification, where it is, and how bad.

use std::fmt;

/// How bad a problem is: an error breaks conformance; a warning is sloppy but
/// readable (a receiver may still refuse it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Conformance failure.
    Error,
    /// Tolerated deviation.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// A column of a file: its header name and 1-based position.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ColumnRef {
    /// The header name as the file writes it (or the spec's, for a missing one).
    pub name: String,
    /// 1-based position in the header (0 when the column is missing).
    pub index: usize,
}

/// One deviation: file, line and column where known, a stable code
/// (`header-order`, `dangling-reference`...) and a message that never holds
/// the value of a personal column.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The file inside the package (`users.csv`), or `None` for the package.
    pub file: Option<String>,
    /// 1-based physical line where the record starts (1 is the header).
    pub line: Option<u64>,
    /// The column, where one is concerned.
    pub column: Option<ColumnRef>,
    /// Error or warning.
    pub severity: Severity,
    /// A stable identifier of the kind of problem.
    pub code: &'static str,
    /// What is wrong and, where it helps, what to do.
    pub message: String,
}

impl Problem {
    /// A problem of the whole package.
    pub fn package(severity: Severity, code: &'static str, message: impl Into<String>) -> Problem {
        Problem { file: None, line: None, column: None, severity, code, message: message.into() }
    }

    /// A problem of a file (no line).
    pub fn file(
        file: impl Into<String>,
        severity: Severity,
        code: &'static str,
        message: impl Into<String>,
    ) -> Problem {
        Problem { file: Some(file.into()), line: None, column: None, severity, code, message: message.into() }
    }

    /// Sets the line.
    pub fn at_line(mut self, line: u64) -> Problem {
        self.line = Some(line);
        self
    }

    /// Sets the column.
    pub fn at_column(mut self, name: impl Into<String>, index: usize) -> Problem {
        self.column = Some(ColumnRef { name: name.into(), index });
        self
    }

    /// `file:line:column` as far as known (`users.csv:12:7`).
    pub fn location(&self) -> String {
        let mut s = self.file.clone().unwrap_or_else(|| "(package)".to_owned());
        if let Some(line) = self.line {
            s.push_str(&format!(":{line}"));
            if let Some(c) = &self.column {
                s.push_str(&format!(":{}", c.index));
            }
        }
        if let Some(c) = &self.column {
            s.push_str(&format!(" ({})", c.name));
        }
        s
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} [{}] {}", self.location(), self.severity, self.code, self.message)
    }
}
