//! The messages a wire supplier has delivered so far, by file name, as a folder source or a
//! remote (FTP, SFTP) source holds them: each version of a file (its stamp: modification
//! time and size) is read and parsed once, and the messages add up by [`super::merge`]'s
//! rule into the snapshot a poll returns. A file that does not parse (half-written, or
//! cut short by a dropped connection) is reported, keeps no part in the state, and is read
//! again when it changes or when the source asks for it again.

use std::collections::HashMap;
use std::sync::Arc;

use super::Format;
use super::live::{Contest, Parts, Polled, Snapshot, SourceError};
use super::options::SourceOptions;
use crate::core::parties::PartyRegistry;
use crate::observe::metrics::FeedCause;

/// A file's version: modification time (nanoseconds since the epoch, or seconds where the
/// server gives no better) and size.
pub type Stamp = (u128, u64);

struct FileState {
    stamp: Stamp,
    /// None when the file at this stamp did not parse.
    parsed: Option<Parts>,
    /// Why it did not, or why it adds nothing.
    problem: Option<String>,
    /// Order in which files were first read successfully.
    arrival: u64,
}

pub struct Inbox {
    format: Format,
    /// Which election to follow where the messages are of several (`source.election`).
    election: Option<String>,
    parties: Arc<PartyRegistry>,
    files: HashMap<String, FileState>,
    arrivals: u64,
    /// The last recorded poll's state (without what was left aside), to answer Unchanged
    /// cheaply.
    last: Option<Snapshot>,
    /// The last changed poll's state, remembered once it is recorded.
    pending: Option<Snapshot>,
}

/// Files a supplier is still writing, or editors' leftovers.
fn ignored(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with(".tmp")
        || name.ends_with(".part")
        || name.ends_with('~')
}

impl Inbox {
    pub fn new(options: &SourceOptions, parties: Arc<PartyRegistry>) -> Inbox {
        Inbox {
            format: options.format,
            election: options.election.clone(),
            parties,
            files: HashMap::new(),
            arrivals: 0,
            last: None,
            pending: None,
        }
    }

    /// Whether a file of this name is a message to read (by extension; dot files, `.tmp`
    /// and `.part` files are a supplier's work in progress).
    pub fn wanted(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        !ignored(name)
            && match self.format {
                Format::PaXml => lower.ends_with(".xml"),
                Format::HeraldJson | Format::DemocracyClub => lower.ends_with(".json"),
                Format::ParliamentCsv | Format::HocCsv => lower.ends_with(".csv"),
            }
    }

    /// Whether this version of the file has been read already (parsed or not).
    pub fn has(&self, name: &str, stamp: Stamp) -> bool {
        self.files.get(name).is_some_and(|f| f.stamp == stamp)
    }

    /// Whether a file read earlier did not parse (a remote source then lists again even
    /// when the supplier's `.timestamp` has not moved).
    pub fn has_unparsed(&self) -> bool {
        self.files.values().any(|f| f.parsed.is_none())
    }

    /// Forgets a file that did not parse, so that it is fetched again.
    pub fn retry_unparsed(&mut self) {
        self.files.retain(|_, f| f.parsed.is_some());
    }

    fn parse(&self, name: &str, text: &str) -> Result<Parts, SourceError> {
        match self.format {
            Format::PaXml => super::live::pa_parts(name, text, &self.parties),
            other => {
                let snap = super::live::parse_document(other, name, text, None, &self.parties)?;
                Ok(Parts {
                    contest: snap.elections.first().map(|e| Contest {
                        id: e.id.clone(),
                        name: e.name.clone(),
                        date: e.date,
                        seats: e.total_seats,
                    }),
                    election: snap.elections.into_iter().next(),
                    declarations: snap.declarations,
                    totals: None,
                    unread: None,
                    nominations: Vec::new(),
                })
            }
        }
    }

    /// Takes one version of a file: its bytes, or the error met reading them. Returns the
    /// error if it could not be read or parsed.
    pub fn put(
        &mut self,
        name: &str,
        shown_as: &str,
        stamp: Stamp,
        bytes: Result<Vec<u8>, SourceError>,
    ) -> Option<SourceError> {
        let parsed = bytes.and_then(|b| {
            String::from_utf8(b)
                .map_err(|_| {
                    SourceError::new(FeedCause::malformed, format!("{shown_as}: not UTF-8"))
                })
                .and_then(|text| self.parse(shown_as, &text))
        });
        let (parsed, problem, error) = match parsed {
            Ok(p) => {
                let unread = p.unread.clone();
                (Some(p), unread, None)
            }
            Err(e) => (None, Some(e.message.clone()), Some(e)),
        };
        let arrival = match self.files.get(name) {
            Some(f) if f.parsed.is_some() => f.arrival,
            _ => {
                self.arrivals += 1;
                self.arrivals
            }
        };
        self.files.insert(
            name.to_string(),
            FileState {
                stamp,
                parsed,
                problem,
                arrival,
            },
        );
        error
    }

    /// Forgets files no longer present.
    pub fn keep_only(&mut self, present: &[String]) {
        self.files
            .retain(|name, _| present.iter().any(|p| p == name));
    }

    /// The state the messages add up to. `error` is the first file that could not be read
    /// this poll (reported, the rest applied).
    pub fn snapshot(&mut self, error: Option<SourceError>) -> Result<Polled, SourceError> {
        let merged = super::merge::merge(
            self.files
                .values()
                .filter_map(|f| f.parsed.as_ref().map(|p| (p, f.arrival))),
            self.election.as_deref(),
        );
        // The feed's state without what was left aside: a poll that changes only that is
        // unchanged.
        let left_aside = merged.skipped;
        let next = Snapshot {
            skipped: Vec::new(),
            ..merged
        };
        if self.last.as_ref() == Some(&next) {
            // A bad file is reported even when the good ones have not changed.
            return match error {
                Some(e) => Err(e),
                None => Ok(Polled::Unchanged),
            };
        }
        if let Some(e) = error {
            // Apply what parsed; the broken file is reported again while it stays broken.
            tracing::warn!(cause = ?e.cause, "skipping a file that does not parse: {}", e.message);
        }
        let mut skipped: Vec<String> = self
            .files
            .values()
            .filter_map(|f| f.problem.clone())
            .collect();
        skipped.sort();
        skipped.extend(left_aside);
        let snapshot = Snapshot {
            skipped,
            ..next.clone()
        };
        self.pending = Some(next);
        Ok(Polled::Changed(snapshot))
    }

    /// Marks the last changed snapshot as recorded.
    pub fn commit(&mut self) {
        if let Some(next) = self.pending.take() {
            self.last = Some(next);
        }
    }
}
