//! A folder of per-declaration files, as a wire supplier delivers them: one file per event
//! (herald JSON documents, or PA Media XML messages), never rewritten in place, a revision
//! number in the name or the body. How the messages add up is [`super::merge`]'s rule. A
//! file that does not parse (a half-written one, or a message type herald does not read)
//! is skipped, reported, and read again when it changes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::Format;
use super::inbox::{Inbox, Stamp};
use super::live::{PollFuture, Polled, Source, SourceError};
use super::options::SourceOptions;
use crate::core::parties::PartyRegistry;
use crate::observe::metrics::FeedCause;

pub struct FolderSource {
    dir: PathBuf,
    format: Format,
    inbox: Inbox,
}

fn stamp_of(meta: &std::fs::Metadata) -> Stamp {
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    (modified, meta.len())
}

impl FolderSource {
    pub fn new(dir: PathBuf, options: &SourceOptions, parties: Arc<PartyRegistry>) -> Self {
        FolderSource {
            dir,
            format: options.format,
            inbox: Inbox::new(options, parties),
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
            if !self.inbox.wanted(name) {
                continue;
            }
            let Ok(meta) = entry.metadata().await else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            present.push((name.to_string(), path, stamp_of(&meta)));
        }
        present.sort();
        let mut first_error = None;
        for (name, path, stamp) in &present {
            if self.inbox.has(name, *stamp) {
                continue;
            }
            let bytes = tokio::fs::read(path)
                .await
                .map_err(|e| SourceError::new(FeedCause::io, format!("{}: {e}", path.display())));
            if let Some(e) = self
                .inbox
                .put(name, &path.display().to_string(), *stamp, bytes)
            {
                first_error.get_or_insert(e);
            }
        }
        let names: Vec<String> = present.into_iter().map(|(n, _, _)| n).collect();
        self.inbox.keep_only(&names);
        self.inbox.snapshot(first_error)
    }
}

impl Source for FolderSource {
    fn poll(&mut self) -> PollFuture<'_> {
        Box::pin(self.scan())
    }

    fn commit(&mut self) {
        self.inbox.commit();
    }

    fn describe(&self) -> String {
        format!("folder {} ({})", self.dir.display(), self.format.name())
    }
}

/// Reads a folder of PA messages (or one message file) at once, for the commands that
/// answer from files (`compute`, `result`, `seats`, `chart`, `feed serve`): the messages
/// add up as a folder source's would ([`super::merge`]), in the order of their
/// modification times. A file that does not parse is refused with its file, line and
/// field; a message of a family herald does not read is skipped with a warning.
pub fn read_pa(
    path: &Path,
    election: Option<&str>,
    parties: &PartyRegistry,
) -> Result<super::Loaded, super::LoadError> {
    use super::LoadError;
    let name = path.display().to_string();
    let mut files = Vec::new();
    if path.is_dir() {
        let entries = std::fs::read_dir(path)
            .map_err(|e| LoadError::new(&name, format!("cannot read the folder: {e}")))?;
        for entry in entries {
            let entry =
                entry.map_err(|e| LoadError::new(&name, format!("cannot read the folder: {e}")))?;
            let p = entry.path();
            let Some(file) = p.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let message = !file.starts_with('.') && file.to_ascii_lowercase().ends_with(".xml");
            if !message || !p.is_file() {
                continue;
            }
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            files.push((modified, p));
        }
        files.sort();
    } else {
        files.push((SystemTime::UNIX_EPOCH, path.to_path_buf()));
    }
    let mut parts = Vec::new();
    for (_, p) in &files {
        let text = super::read_text(p)?;
        let file = p.display().to_string();
        let part = super::live::pa_message_parts(&file, &text, parties)?;
        if let Some(why) = &part.unread {
            tracing::warn!("{why}");
        }
        parts.push(part);
    }
    let merged = super::merge::merge(
        parts.iter().enumerate().map(|(i, p)| (p, i as u64)),
        election,
    );
    for why in &merged.skipped {
        tracing::warn!("{name}: {why}");
    }
    let mut elections = merged.elections;
    let mut election = match (elections.pop(), elections.is_empty()) {
        (Some(e), true) => e,
        (Some(last), false) => {
            elections.push(last);
            let named: Vec<String> = elections
                .iter()
                .map(|e| format!("{} (`{}`)", e.name, e.id))
                .collect();
            return Err(LoadError::new(
                &name,
                format!(
                    "the messages are of {} elections: {}; choose one with --election",
                    named.len(),
                    named.join(", ")
                ),
            )
            .invalid());
        }
        (None, _) => {
            return Err(LoadError::new(
                &name,
                match election {
                    Some(e) => format!("no PA message of the election `{e}` here"),
                    None => "no PA result, rush, recount or state of parties here".to_string(),
                },
            ));
        }
    };
    if election.total_seats == 0 {
        // Without a state of parties the size is unknown: the seats heard from stand in.
        election.total_seats = (merged.declarations.len() as u32).max(1);
    }
    Ok(super::Loaded {
        election,
        declarations: merged.declarations,
    })
}
