//! The input edge: where outside data (results files, feeds) becomes declarations.
//!
//! [`formats`] holds one reader per published format; [`load_files`] reads them from disk.
//! [`live`] defines what the watcher polls (a source, its snapshots and errors) and
//! [`options`] how a source is set up; below them the sources: [`http`] feeds, a [`file`]
//! re-read when it changes, a [`folder`] of per-declaration files as a wire supplier
//! delivers them, and a [`remote`] folder on the supplier's FTP, FTPS or SFTP server (both
//! folders add their messages up in an [`inbox`] by [`merge`]'s rule); [`location`] opens
//! the one a location names.

pub mod error;
pub mod file;
pub mod folder;
pub mod formats;
pub mod fuzzing;
pub mod http;
pub mod inbox;
pub mod infer;
pub mod live;
pub mod location;
pub mod merge;
pub mod options;
pub mod remote;

use std::path::Path;

pub use error::{LoadError, LoadErrorKind};
pub use formats::Loaded;
pub use infer::infer_format;

use crate::core::parties::PartyRegistry;

/// A results format herald reads.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// herald's own JSON (`docs/feed-format.md`).
    HeraldJson,
    /// The UK Parliament results export, one row per candidate.
    ParliamentCsv,
    /// The House of Commons Library candidate file, with its constituency file.
    HocCsv,
    /// PA Media's election XML (rush, result, recount and state-of-parties files).
    PaXml,
    /// Democracy Club's results JSON (API v0.9 result sets, or `/api/next/results/`).
    DemocracyClub,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::HeraldJson => "herald-json",
            Format::ParliamentCsv => "parliament-csv",
            Format::HocCsv => "hoc-csv",
            Format::PaXml => "pa-xml",
            Format::DemocracyClub => "democracy-club",
        }
    }
}

/// Reads a file as text, with an error naming it.
pub fn read_text(path: &Path) -> Result<String, LoadError> {
    let name = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|e| LoadError::new(&name, format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..offset]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64
            + 1;
        LoadError::new(&name, "not valid UTF-8").at_line(line)
    })
}

/// Parses text already read from `file` in `format`. `constituencies` is the HoC
/// constituency file (name and text), used only with [`Format::HocCsv`].
pub fn parse(
    format: Format,
    file: &str,
    text: &str,
    constituencies: Option<(&str, &str)>,
    parties: &PartyRegistry,
) -> Result<Loaded, LoadError> {
    match format {
        Format::HeraldJson => formats::herald_json::load(file, text, parties),
        Format::ParliamentCsv => formats::parliament_csv::load(file, text, parties),
        Format::HocCsv => formats::hoc_csv::load((file, text), constituencies, parties),
        Format::DemocracyClub => formats::democracy_club::loaded(file, text, None, parties),
        Format::PaXml => {
            let parts = live::pa_message_parts(file, text, parties)?;
            if let Some(why) = parts.unread {
                return Err(LoadError::new(file, why));
            }
            let mut merged = merge::merge([(&parts, 0)], None);
            let Some(mut election) = merged.elections.pop() else {
                return Err(LoadError::new(file, "not a PA seat message"));
            };
            election.total_seats = election.total_seats.max(1);
            Ok(Loaded {
                election,
                declarations: merged.declarations,
            })
        }
    }
}

/// Reads a results file (and, for the HoC pair, its constituency file) from disk; for PA, a
/// folder of messages or one message file. `election` chooses among several elections.
pub fn load_files(
    format: Format,
    results: &Path,
    constituencies: Option<&Path>,
    election: Option<&str>,
    parties: &PartyRegistry,
) -> Result<Loaded, LoadError> {
    if format == Format::PaXml {
        return folder::read_pa(results, election, parties);
    }
    if format == Format::DemocracyClub {
        let text = read_text(results)?;
        return formats::democracy_club::loaded(
            &results.display().to_string(),
            &text,
            election,
            parties,
        );
    }
    let text = read_text(results)?;
    let seats = match constituencies {
        Some(p) => Some((p.display().to_string(), read_text(p)?)),
        None => None,
    };
    parse(
        format,
        &results.display().to_string(),
        &text,
        seats.as_ref().map(|(n, t)| (n.as_str(), t.as_str())),
        parties,
    )
}
