//! A folder of per-declaration files, as a wire supplier delivers them: one file per event
//! (herald JSON documents, or PA Media XML messages), never rewritten in place, a revision
//! number in the name or the body. A higher revision supersedes a lower one; a full result
//! beats a call (rush) or a recount whatever their numbers. A file that does not parse (a
//! half-written one, say) is skipped and read again when it changes.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::Format;
use super::live::{Parts, PollFuture, Polled, PublishedTotals, Source, SourceError, SourceOptions};
use crate::core::model::{ConstituencyId, Declaration, DeclarationStatus, Election};
use crate::core::parties::PartyRegistry;
use crate::observe::metrics::FeedCause;

struct FileState {
    stamp: (SystemTime, u64),
    /// None when the file at this stamp did not parse.
    parsed: Option<Parts>,
    /// Order in which files were first read successfully.
    arrival: u64,
}

pub struct FolderSource {
    dir: PathBuf,
    format: Format,
    parties: Arc<PartyRegistry>,
    files: HashMap<PathBuf, FileState>,
    arrivals: u64,
    last: Option<Merged>,
    /// The last changed poll's state, remembered once it is recorded.
    pending: Option<Merged>,
}

/// The last snapshot produced, to answer Unchanged cheaply.
#[derive(PartialEq)]
struct Merged {
    declarations: Vec<Declaration>,
    totals: Option<PublishedTotals>,
}

/// Files a supplier is still writing, or editors' leftovers.
fn ignored(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with(".tmp")
        || name.ends_with(".part")
        || name.ends_with('~')
}

fn wanted(name: &str, format: Format) -> bool {
    let lower = name.to_ascii_lowercase();
    match format {
        Format::PaXml => lower.ends_with(".xml"),
        Format::HeraldJson => lower.ends_with(".json"),
        Format::ParliamentCsv | Format::HocCsv => lower.ends_with(".csv"),
    }
}

impl FolderSource {
    pub fn new(dir: PathBuf, options: &SourceOptions, parties: Arc<PartyRegistry>) -> Self {
        FolderSource {
            dir,
            format: options.format,
            parties,
            files: HashMap::new(),
            arrivals: 0,
            last: None,
            pending: None,
        }
    }

    fn parse_file(&self, path: &Path, text: &str) -> Result<Parts, SourceError> {
        let name = path.display().to_string();
        match self.format {
            Format::PaXml => super::live::pa_parts(&name, text, &self.parties),
            other => {
                let snap = super::live::parse_document(other, &name, text, None, &self.parties)?;
                Ok(Parts {
                    election: snap.election,
                    declarations: snap.declarations,
                    totals: None,
                })
            }
        }
    }

    async fn scan(&mut self) -> Result<Polled, SourceError> {
        let io = |e: std::io::Error| {
            SourceError::new(FeedCause::io, format!("{}: {e}", self.dir.display()))
        };
        let mut entries = tokio::fs::read_dir(&self.dir).await.map_err(io)?;
        let mut present = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(io)? {
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if ignored(name) || !wanted(name, self.format) {
                continue;
            }
            let Ok(meta) = entry.metadata().await else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            present.push((
                path,
                (
                    meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    meta.len(),
                ),
            ));
        }
        present.sort();
        let mut first_error = None;
        for (path, stamp) in &present {
            if self.files.get(path).is_some_and(|f| f.stamp == *stamp) {
                continue;
            }
            let parsed = match tokio::fs::read(path).await {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => self.parse_file(path, &text),
                    Err(_) => Err(SourceError::new(
                        FeedCause::malformed,
                        format!("{}: not UTF-8", path.display()),
                    )),
                },
                Err(e) => Err(SourceError::new(
                    FeedCause::io,
                    format!("{}: {e}", path.display()),
                )),
            };
            let parsed = match parsed {
                Ok(p) => Some(p),
                Err(e) => {
                    first_error.get_or_insert(e);
                    None
                }
            };
            let arrival = match self.files.get(path) {
                Some(f) if f.parsed.is_some() => f.arrival,
                _ => {
                    self.arrivals += 1;
                    self.arrivals
                }
            };
            self.files.insert(
                path.clone(),
                FileState {
                    stamp: *stamp,
                    parsed,
                    arrival,
                },
            );
        }
        self.files
            .retain(|p, _| present.iter().any(|(q, _)| q == p));

        let (declarations, totals, election) = self.merge();
        let next = Merged {
            declarations,
            totals,
        };
        if self.last.as_ref() == Some(&next) {
            // A bad file is reported even when the good ones have not changed.
            return match first_error {
                Some(e) => Err(e),
                None => Ok(Polled::Unchanged),
            };
        }
        if let Some(e) = first_error {
            // Apply what parsed; the broken file is logged by the caller next time round
            // if it stays broken (its stamp is remembered, so it is not re-read until it changes).
            tracing::warn!(cause = ?e.cause, "skipping a file that does not parse: {}", e.message);
        }
        let snapshot = super::live::Snapshot {
            election,
            declarations: next.declarations.clone(),
            complete: true,
            totals: next.totals.clone(),
        };
        self.pending = Some(next);
        Ok(Polled::Changed(snapshot))
    }

    /// The current message of every constituency, the latest totals and the election.
    fn merge(&self) -> (Vec<Declaration>, Option<PublishedTotals>, Option<Election>) {
        let mut best: BTreeMap<ConstituencyId, (&Declaration, u64)> = BTreeMap::new();
        let mut totals: Option<&PublishedTotals> = None;
        let mut election = None;
        let mut files: Vec<&FileState> = self.files.values().collect();
        files.sort_by_key(|f| f.arrival);
        for f in files {
            let Some(p) = &f.parsed else { continue };
            if p.election.is_some() {
                election = p.election.clone();
            }
            if let Some(t) = &p.totals
                && totals.is_none_or(|old| t.results >= old.results)
            {
                totals = Some(t);
            }
            for d in &p.declarations {
                let replace = match best.get(d.id()) {
                    None => true,
                    Some((old, old_arrival)) => supersedes(d, f.arrival, old, *old_arrival),
                };
                if replace {
                    best.insert(d.id().clone(), (d, f.arrival));
                }
            }
        }
        (
            best.into_values().map(|(d, _)| d.clone()).collect(),
            totals.cloned(),
            election,
        )
    }
}

/// Whether message `new` (arrived `na`) supersedes `old` (arrived `oa`) for one seat: a
/// result beats a call or recount; among results (and withdrawals) the higher revision wins;
/// among calls and recounts, which PA numbers separately, the later arrival wins.
fn supersedes(new: &Declaration, na: u64, old: &Declaration, oa: u64) -> bool {
    use DeclarationStatus as S;
    let rank = |d: &Declaration| match d.status {
        S::Declared | S::Withdrawn => 1,
        S::Called | S::Recount => 0,
    };
    match rank(new).cmp(&rank(old)) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal if rank(new) == 1 => (new.revision, na) > (old.revision, oa),
        std::cmp::Ordering::Equal => (na, new.revision) > (oa, old.revision),
    }
}

impl Source for FolderSource {
    fn poll(&mut self) -> PollFuture<'_> {
        Box::pin(self.scan())
    }

    fn commit(&mut self) {
        if let Some(next) = self.pending.take() {
            self.last = Some(next);
        }
    }

    fn describe(&self) -> String {
        format!("folder {} ({})", self.dir.display(), self.format.name())
    }
}
