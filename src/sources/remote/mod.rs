//! PA's delivery, directly: a folder on an FTP, FTPS or SFTP server, where the supplier
//! adds one file per message and rewrites a `.timestamp` file whenever it adds one
//! (`shared/data/feeds/README.md`, "Transport and filenames").
//!
//! Each poll reads `.timestamp`; while it has not moved since the last recorded poll (and
//! every file read so far parsed) nothing else is asked of the server. Otherwise the folder
//! is listed and each new or changed file fetched once; the messages add up as a local
//! folder's would ([`super::inbox`]). A file cut short (a half-written file, a connection
//! dropped mid-transfer) does not parse, is reported, and is fetched again on the next poll.
//! A dropped connection or a refused login fails the poll (the watcher backs off) and the
//! next poll connects afresh. The password or key comes from the environment or a file,
//! never from the URL, and never appears in a log or an error.

mod ftp;
mod sftp;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use super::Format;
use super::inbox::{Inbox, Stamp};
use super::live::{PollFuture, Polled, Source, SourceError};
use super::options::{RemoteAuth, SourceOptions};
use crate::core::parties::PartyRegistry;
use crate::observe::metrics::FeedCause;

/// The name of the file PA rewrites whenever it adds a message.
pub const TIMESTAMP: &str = ".timestamp";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Ftp,
    /// FTP with explicit TLS (`AUTH TLS`) on the control and data connections.
    Ftps,
    Sftp,
}

/// A remote folder: `ftp://user@host:port/path` (the password is never part of it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteUrl {
    pub scheme: Scheme,
    pub host: String,
    pub port: u16,
    pub user: String,
    /// The folder, as given after the host (`/results`); for FTP, relative to the login
    /// folder unless the server says otherwise.
    pub path: String,
}

impl RemoteUrl {
    /// Whether `s` names a remote folder (by its scheme).
    pub fn is_remote(s: &str) -> bool {
        ["ftp://", "ftps://", "sftp://"]
            .iter()
            .any(|p| s.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p)))
    }

    /// Parses `ftp://`, `ftps://` or `sftp://user@host[:port]/path`. A password in the URL
    /// is refused (it would end up in logs and shell histories).
    pub fn parse(s: &str) -> Result<RemoteUrl, String> {
        let url =
            url::Url::parse(s).map_err(|e| format!("`{}`: {e}", crate::secret::redact_url(s)))?;
        let scheme = match url.scheme() {
            "ftp" => Scheme::Ftp,
            "ftps" => Scheme::Ftps,
            "sftp" => Scheme::Sftp,
            other => return Err(format!("`{other}` is not ftp, ftps or sftp")),
        };
        if url.password().is_some() {
            return Err(format!(
                "`{}`: put the password in HERALD_SOURCE_PASSWORD or source.password_file, not in the URL",
                crate::secret::redact_url(s)
            ));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("`{s}` names no host"))?
            .to_string();
        let user = match url.username() {
            "" if scheme == Scheme::Sftp => {
                return Err(format!("`{s}` names no user (sftp://user@host/path)"));
            }
            "" => "anonymous".to_string(),
            u => percent_decode(u),
        };
        let port = url.port().unwrap_or(match scheme {
            Scheme::Ftp | Scheme::Ftps => 21,
            Scheme::Sftp => 22,
        });
        Ok(RemoteUrl {
            scheme,
            host,
            port,
            user,
            path: percent_decode(url.path()),
        })
    }

    /// The URL as shown in logs (no password is ever part of it).
    pub fn shown(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Ftp => "ftp",
            Scheme::Ftps => "ftps",
            Scheme::Sftp => "sftp",
        };
        format!(
            "{scheme}://{}@{}:{}{}",
            self.user, self.host, self.port, self.path
        )
    }
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// A boxed future of a session operation.
type Op<'a, T> = Pin<Box<dyn Future<Output = Result<T, SourceError>> + Send + 'a>>;

/// An open connection to the remote folder.
trait Session: Send + Sync {
    /// A file of the folder, whole; None where it does not exist.
    fn read<'a>(&'a mut self, name: &'a str, max: usize) -> Op<'a, Option<Vec<u8>>>;
    /// The folder's regular files with their stamps.
    fn list(&mut self) -> Op<'_, Vec<(String, Stamp)>>;
}

pub struct RemoteSource {
    url: RemoteUrl,
    auth: RemoteAuth,
    format: Format,
    timeout: Duration,
    max_bytes: usize,
    session: Option<Box<dyn Session>>,
    inbox: Inbox,
    /// `.timestamp` as of the last recorded poll, and as of the last changed one.
    timestamp: Option<Vec<u8>>,
    pending_timestamp: Option<Vec<u8>>,
}

impl RemoteSource {
    pub fn new(
        url: RemoteUrl,
        options: &SourceOptions,
        parties: Arc<PartyRegistry>,
    ) -> Result<Self, SourceError> {
        if url.scheme == Scheme::Sftp
            && options.remote.password.is_none()
            && options.remote.key_file.is_none()
        {
            return Err(SourceError::new(
                FeedCause::connect,
                format!(
                    "{}: no password (HERALD_SOURCE_PASSWORD, source.password_file) or key (source.key_file) to log in with",
                    url.shown()
                ),
            ));
        }
        Ok(RemoteSource {
            auth: options.remote.clone(),
            format: options.format,
            timeout: options.timeout,
            max_bytes: options.max_body_bytes,
            session: None,
            inbox: Inbox::new(options, parties),
            timestamp: None,
            pending_timestamp: None,
            url,
        })
    }

    async fn connect(&self) -> Result<Box<dyn Session>, SourceError> {
        match self.url.scheme {
            Scheme::Ftp | Scheme::Ftps => Ok(Box::new(
                ftp::FtpSession::connect(&self.url, &self.auth, self.timeout).await?,
            )),
            Scheme::Sftp => Ok(Box::new(
                sftp::SftpSession::connect(&self.url, &self.auth, self.timeout).await?,
            )),
        }
    }

    async fn fetch(&mut self) -> Result<Polled, SourceError> {
        let mut session = match self.session.take() {
            Some(s) => s,
            None => self.connect().await?,
        };
        // Any error below drops the session: the next poll connects afresh.
        let stamp = session.read(TIMESTAMP, 4096).await?;
        if stamp.is_some() && stamp == self.timestamp && !self.inbox.has_unparsed() {
            self.session = Some(session);
            return Ok(Polled::Unchanged);
        }
        self.inbox.retry_unparsed();
        let listing = session.list().await?;
        let mut names = Vec::new();
        let mut first_error = None;
        for (name, stamp) in listing {
            if !self.inbox.wanted(&name) {
                continue;
            }
            names.push(name.clone());
            if self.inbox.has(&name, stamp) {
                continue;
            }
            let shown = format!("{}/{name}", self.url.shown().trim_end_matches('/'));
            let bytes = if stamp.1 > self.max_bytes as u64 {
                Err(SourceError::new(
                    FeedCause::too_large,
                    format!(
                        "{shown}: {} bytes, over the {} allowed",
                        stamp.1, self.max_bytes
                    ),
                ))
            } else {
                match session.read(&name, self.max_bytes).await? {
                    Some(b) => Ok(b),
                    // Gone between the listing and the fetch: next poll's listing says.
                    None => continue,
                }
            };
            if let Some(e) = self.inbox.put(&name, &shown, stamp, bytes) {
                first_error.get_or_insert(e);
            }
        }
        self.session = Some(session);
        self.inbox.keep_only(&names);
        let polled = self.inbox.snapshot(first_error)?;
        self.pending_timestamp = stamp;
        Ok(polled)
    }
}

impl Source for RemoteSource {
    fn poll(&mut self) -> PollFuture<'_> {
        Box::pin(self.fetch())
    }

    fn commit(&mut self) {
        self.inbox.commit();
        if self.pending_timestamp.is_some() {
            self.timestamp = self.pending_timestamp.take();
        }
    }

    fn describe(&self) -> String {
        format!("{} ({})", self.url.shown(), self.format.name())
    }
}

/// A transport error as a poll error: `what` failed at `url`.
fn failed(url: &RemoteUrl, cause: FeedCause, what: &str, e: impl std::fmt::Display) -> SourceError {
    SourceError::new(cause, format!("{}: {what}: {e}", url.shown()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_folder_and_never_a_password() {
        let u = RemoteUrl::parse("sftp://pa-results@feeds.example.com:2222/results").unwrap();
        assert_eq!(
            (
                u.scheme,
                u.host.as_str(),
                u.port,
                u.user.as_str(),
                u.path.as_str()
            ),
            (
                Scheme::Sftp,
                "feeds.example.com",
                2222,
                "pa-results",
                "/results"
            )
        );
        assert_eq!(
            u.shown(),
            "sftp://pa-results@feeds.example.com:2222/results"
        );
        let u = RemoteUrl::parse("ftp://ftp.example.com/test%20run").unwrap();
        assert_eq!((u.port, u.user.as_str()), (21, "anonymous"));
        assert_eq!(u.path, "/test run");
        assert_eq!(RemoteUrl::parse("FTPS://h/x").unwrap().scheme, Scheme::Ftps);

        let e = RemoteUrl::parse("ftp://user:hunter2@h/x").unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(e.contains("HERALD_SOURCE_PASSWORD"), "{e}");
        assert!(
            RemoteUrl::parse("sftp://h/x")
                .unwrap_err()
                .contains("no user")
        );
        assert!(RemoteUrl::parse("sftp://u@/x").is_err());
        assert!(RemoteUrl::is_remote("sftp://u@h/x") && !RemoteUrl::is_remote("http://h/"));
    }
}
