//! A CSV file read by column name, with typed fields whose errors name file, line and
//! column. Shared by the CSV loaders.

use std::collections::HashMap;

use csv::StringRecord;

use crate::sources::error::LoadError;

/// A column found in the header.
#[derive(Clone, Copy, Debug)]
pub struct Col {
    index: usize,
    name: &'static str,
}

/// The rows of a CSV file, each with its line number.
pub struct Table {
    file: String,
    headers: HashMap<String, usize>,
    rows: Vec<(u64, StringRecord)>,
}

impl Table {
    /// Parses the whole text (a BOM is tolerated). A malformed record fails the whole file.
    pub fn parse(file: &str, text: &str) -> Result<Table, LoadError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(text.as_bytes());
        let csv_error = |e: csv::Error| {
            let line = e.position().map(|p| p.line());
            let problem = match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => format!("row has {len} fields, the header has {expected_len}"),
                csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
                _ => e.to_string(),
            };
            let err = LoadError::new(file, problem);
            match line {
                Some(l) => err.at_line(l),
                None => err,
            }
        };
        let headers = reader
            .headers()
            .map_err(csv_error)?
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().to_string(), i))
            .collect::<HashMap<_, _>>();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(csv_error)?;
            let line = record.position().map_or(0, |p| p.line());
            rows.push((line, record));
        }
        Ok(Table {
            file: file.to_string(),
            headers,
            rows,
        })
    }

    pub fn has(&self, name: &str) -> bool {
        self.headers.contains_key(name)
    }

    /// The column with this header, if there is one.
    pub fn opt_col(&self, name: &'static str) -> Option<Col> {
        self.headers.get(name).map(|&index| Col { index, name })
    }

    /// The first of these headers the file has, or an error naming the first.
    pub fn col_of(&self, names: &[&'static str]) -> Result<Col, LoadError> {
        match names.iter().find_map(|n| self.opt_col(n)) {
            Some(c) => Ok(c),
            None => self.col(names[0]),
        }
    }

    /// The column with this header, or an error naming it.
    pub fn col(&self, name: &'static str) -> Result<Col, LoadError> {
        self.headers
            .get(name)
            .map(|&index| Col { index, name })
            .ok_or_else(|| {
                LoadError::new(&self.file, "missing column")
                    .at_line(1)
                    .in_field(name)
            })
    }

    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|(line, rec)| Row {
            file: &self.file,
            line: *line,
            rec,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// One data row.
pub struct Row<'a> {
    file: &'a str,
    pub line: u64,
    rec: &'a StringRecord,
}

impl Row<'_> {
    pub fn error(&self, col: Col, problem: impl Into<String>) -> LoadError {
        LoadError::new(self.file, problem)
            .at_line(self.line)
            .in_field(col.name)
    }

    /// The trimmed text of a field (empty if absent).
    pub fn str(&self, col: Col) -> &str {
        self.rec.get(col.index).unwrap_or("").trim()
    }

    /// A required, non-empty text field.
    pub fn text(&self, col: Col) -> Result<&str, LoadError> {
        let s = self.str(col);
        if s.is_empty() {
            Err(self.error(col, "empty"))
        } else {
            Ok(s)
        }
    }

    /// A required whole number (a count of votes or electors).
    pub fn count(&self, col: Col) -> Result<u64, LoadError> {
        let s = self.str(col);
        parse_count(s)
            .ok_or_else(|| self.error(col, format!("expected a whole number ≥ 0, found `{s}`")))
    }

    /// An optional whole number: empty is None.
    pub fn opt_count(&self, col: Col) -> Result<Option<u64>, LoadError> {
        if self.str(col).is_empty() {
            Ok(None)
        } else {
            self.count(col).map(Some)
        }
    }

    /// A `true`/`false` (or `yes`/`no`) field; empty is false.
    pub fn flag(&self, col: Col) -> Result<bool, LoadError> {
        match self.str(col).to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(true),
            "false" | "no" | "0" | "" => Ok(false),
            other => Err(self.error(col, format!("expected true or false, found `{other}`"))),
        }
    }
}

/// Parses a vote count, tolerating thousands separators ("15,464").
pub fn parse_count(s: &str) -> Option<u64> {
    let digits: String = s.chars().filter(|c| *c != ',').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}
