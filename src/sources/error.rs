//! The error every loader reports: which file, which line, which field, and what is wrong.

use std::fmt;

/// Bad input, located as precisely as the format allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    /// The file (or URL) the input came from.
    pub file: String,
    /// 1-based line, where known.
    pub line: Option<u64>,
    /// The field (column, attribute or JSON key), where known.
    pub field: Option<String>,
    pub problem: String,
    /// Malformed input (syntax, types), or well-formed input that fails validation.
    pub kind: LoadErrorKind,
}

/// Whether input could not be read at all, or was read and found implausible.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LoadErrorKind {
    #[default]
    Malformed,
    Invalid,
}

impl LoadError {
    pub fn new(file: &str, problem: impl Into<String>) -> Self {
        LoadError {
            file: file.to_string(),
            line: None,
            field: None,
            problem: problem.into(),
            kind: LoadErrorKind::Malformed,
        }
    }

    /// Marks the error as a validation failure (the input was well formed).
    pub fn invalid(mut self) -> Self {
        self.kind = LoadErrorKind::Invalid;
        self
    }

    pub fn at_line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    pub fn in_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl std::error::Error for LoadError {}
