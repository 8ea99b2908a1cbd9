//! A local results file, re-read when it changes. The whole document is parsed and
//! validated before anything changes, so a half-written file is refused (and read again
//! when it changes) rather than applied.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use super::Format;
use super::live::{PollFuture, Polled, Source, SourceError, parse_document};
use super::options::SourceOptions;
use crate::core::parties::PartyRegistry;
use crate::observe::metrics::FeedCause;

pub struct FileSource {
    path: PathBuf,
    format: Format,
    constituencies: Option<PathBuf>,
    parties: Arc<PartyRegistry>,
    /// (modified, length) of the file(s) when last applied.
    stamp: Option<Vec<(SystemTime, u64)>>,
    last_body: Option<u64>,
    /// The stamp and digest of the last changed poll, remembered once it is recorded.
    pending: Option<(Vec<(SystemTime, u64)>, u64)>,
}

impl FileSource {
    pub fn new(path: PathBuf, options: &SourceOptions, parties: Arc<PartyRegistry>) -> Self {
        FileSource {
            path,
            format: options.format,
            constituencies: options.constituencies.clone(),
            parties,
            stamp: None,
            last_body: None,
            pending: None,
        }
    }

    fn io_error(path: &std::path::Path, e: &std::io::Error) -> SourceError {
        SourceError::new(FeedCause::io, format!("{}: {e}", path.display()))
    }

    async fn stamp_of(path: &std::path::Path) -> Result<(SystemTime, u64), SourceError> {
        let meta = tokio::fs::metadata(path)
            .await
            .map_err(|e| Self::io_error(path, &e))?;
        Ok((
            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            meta.len(),
        ))
    }

    async fn read(path: &std::path::Path) -> Result<String, SourceError> {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| Self::io_error(path, &e))?;
        String::from_utf8(bytes).map_err(|_| {
            SourceError::new(
                FeedCause::malformed,
                format!("{}: not UTF-8", path.display()),
            )
        })
    }

    async fn check(&mut self) -> Result<Polled, SourceError> {
        let mut paths = vec![self.path.clone()];
        paths.extend(self.constituencies.clone());
        let mut stamp = Vec::new();
        for p in &paths {
            stamp.push(Self::stamp_of(p).await?);
        }
        if self.stamp.as_ref() == Some(&stamp) {
            return Ok(Polled::Unchanged);
        }
        let text = Self::read(&self.path).await?;
        let seats = match &self.constituencies {
            Some(p) => Some((p.display().to_string(), Self::read(p).await?)),
            None => None,
        };
        let mut h = DefaultHasher::new();
        text.hash(&mut h);
        seats.hash(&mut h);
        let digest = h.finish();
        if self.last_body == Some(digest) {
            self.stamp = Some(stamp);
            return Ok(Polled::Unchanged);
        }
        let snapshot = parse_document(
            self.format,
            &self.path.display().to_string(),
            &text,
            seats.as_ref().map(|(n, t)| (n.as_str(), t.as_str())),
            &self.parties,
        )?;
        self.pending = Some((stamp, digest));
        Ok(Polled::Changed(snapshot))
    }
}

impl Source for FileSource {
    fn poll(&mut self) -> PollFuture<'_> {
        Box::pin(self.check())
    }

    fn commit(&mut self) {
        if let Some((stamp, digest)) = self.pending.take() {
            self.stamp = Some(stamp);
            self.last_body = Some(digest);
        }
    }

    fn describe(&self) -> String {
        format!("file {} ({})", self.path.display(), self.format.name())
    }
}
