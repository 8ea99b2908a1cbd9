//! The SFTP side of a remote folder (libssh2, through the `ssh2` crate, whose calls block:
//! each runs on tokio's blocking pool under the source's timeout). The server's host key
//! must be in the known-hosts file (`source.known_hosts`, default `~/.ssh/known_hosts`);
//! one not there, or a changed one, is refused with its fingerprint, never trusted on
//! first sight. A key file is tried before the password.

use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ssh2::{CheckResult, ErrorCode, HashType, KnownHostFileKind, Session as Ssh, Sftp};

use super::{Op, RemoteAuth, RemoteUrl, Session, failed};
use crate::observe::metrics::FeedCause;
use crate::sources::inbox::Stamp;
use crate::sources::live::SourceError;

/// libssh2's "no such file" status of an SFTP request.
const NO_SUCH_FILE: i32 = 2;

struct Open {
    /// Kept for the life of the SFTP channel, which runs over it.
    _ssh: Ssh,
    sftp: Sftp,
}

pub(super) struct SftpSession {
    open: Arc<Mutex<Open>>,
    url: RemoteUrl,
    /// The folder, as the server's paths go (`~/x` for a folder under the login's home).
    folder: PathBuf,
    timeout: Duration,
}

fn known_hosts_file(auth: &RemoteAuth) -> Option<PathBuf> {
    auth.known_hosts
        .clone()
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".ssh/known_hosts")))
}

fn fingerprint(ssh: &Ssh) -> String {
    use base64::Engine;
    ssh.host_key_hash(HashType::Sha256)
        .map(|h| {
            format!(
                "SHA256:{}",
                base64::engine::general_purpose::STANDARD_NO_PAD.encode(h)
            )
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Opens and authenticates a session, blocking.
fn open(url: &RemoteUrl, auth: &RemoteAuth, timeout: Duration) -> Result<Open, SourceError> {
    let connect = |e: &dyn std::fmt::Display| failed(url, FeedCause::connect, "connect", e);
    let address = std::net::ToSocketAddrs::to_socket_addrs(&(url.host.as_str(), url.port))
        .map_err(|e| connect(&e))?
        .next()
        .ok_or_else(|| connect(&"the host has no address"))?;
    let tcp = TcpStream::connect_timeout(&address, timeout).map_err(|e| connect(&e))?;
    let mut ssh = Ssh::new().map_err(|e| connect(&e))?;
    ssh.set_timeout(u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX));
    ssh.set_tcp_stream(tcp);
    ssh.handshake()
        .map_err(|e| failed(url, FeedCause::connect, "SSH handshake", e))?;

    // The server must be one herald knows.
    let refuse = |why: String| failed(url, FeedCause::connect, "host key", why);
    let file = known_hosts_file(auth)
        .ok_or_else(|| refuse("no known-hosts file (set source.known_hosts)".into()))?;
    let mut known = ssh.known_hosts().map_err(|e| refuse(e.to_string()))?;
    known
        .read_file(&file, KnownHostFileKind::OpenSSH)
        .map_err(|e| refuse(format!("cannot read {}: {e}", file.display())))?;
    let (key, _) = ssh
        .host_key()
        .ok_or_else(|| refuse("the server sent no host key".into()))?;
    match known.check_port(&url.host, url.port, key) {
        CheckResult::Match => {}
        CheckResult::NotFound => {
            return Err(refuse(format!(
                "{}:{} is not in {} (its key is {}); add it with `ssh-keyscan -p {} {} >> {}` after checking that fingerprint with the supplier",
                url.host,
                url.port,
                file.display(),
                fingerprint(&ssh),
                url.port,
                url.host,
                file.display()
            )));
        }
        CheckResult::Mismatch => {
            return Err(refuse(format!(
                "the server's key ({}) is not the one {} holds for {}: refused (a changed server, or someone in between)",
                fingerprint(&ssh),
                file.display(),
                url.host
            )));
        }
        CheckResult::Failure => return Err(refuse("the check failed".into())),
    }

    let login = |e: ssh2::Error| {
        failed(
            url,
            FeedCause::connect,
            "login refused",
            format!("{} ({})", e.message(), url.user),
        )
    };
    let mut tried = Vec::new();
    if let Some(key) = &auth.key_file {
        match ssh.userauth_pubkey_file(&url.user, None, key, None) {
            Ok(()) => {}
            Err(e) => tried.push(e),
        }
    }
    if !ssh.authenticated()
        && let Some(password) = &auth.password
        && let Err(e) = ssh.userauth_password(&url.user, password.expose())
    {
        tried.push(e);
    }
    if !ssh.authenticated() {
        return Err(match tried.pop() {
            Some(e) => login(e),
            None => failed(
                url,
                FeedCause::connect,
                "login refused",
                "no key or password",
            ),
        });
    }
    let sftp = ssh
        .sftp()
        .map_err(|e| failed(url, FeedCause::connect, "SFTP subsystem", e))?;
    Ok(Open { _ssh: ssh, sftp })
}

impl SftpSession {
    pub(super) async fn connect(
        url: &RemoteUrl,
        auth: &RemoteAuth,
        timeout: Duration,
    ) -> Result<SftpSession, SourceError> {
        let (u, a) = (url.clone(), auth.clone());
        let opened = run(url, timeout, "connect", move || open(&u, &a, timeout)).await?;
        // `sftp://u@h/~/x` is `x` under the login's home; any other path is the server's.
        let folder = match url.path.strip_prefix("/~/") {
            Some(rest) => PathBuf::from(rest),
            None if url.path.is_empty() || url.path == "/~" => PathBuf::from("."),
            None => PathBuf::from(&url.path),
        };
        Ok(SftpSession {
            open: Arc::new(Mutex::new(opened)),
            url: url.clone(),
            folder,
            timeout,
        })
    }
}

/// Runs blocking `f` on the blocking pool, failing with a timeout after `timeout` (libssh2's
/// own timeout ends the call itself).
async fn run<T: Send + 'static>(
    url: &RemoteUrl,
    timeout: Duration,
    what: &str,
    f: impl FnOnce() -> Result<T, SourceError> + Send + 'static,
) -> Result<T, SourceError> {
    match tokio::time::timeout(timeout * 2, tokio::task::spawn_blocking(f)).await {
        Err(_) => Err(failed(
            url,
            FeedCause::timeout,
            what,
            format!("no answer in {timeout:?}"),
        )),
        Ok(Err(e)) => Err(failed(url, FeedCause::io, what, e)),
        Ok(Ok(r)) => r,
    }
}

fn read_blocking(
    open: &Mutex<Open>,
    url: &RemoteUrl,
    path: &Path,
    max: usize,
) -> Result<Option<Vec<u8>>, SourceError> {
    let what = format!("fetch {}", path.display());
    let open = open.lock().unwrap_or_else(|p| p.into_inner());
    let file = match open.sftp.open(path) {
        Ok(f) => f,
        Err(e) if e.code() == ErrorCode::SFTP(NO_SUCH_FILE) => return Ok(None),
        Err(e) => return Err(failed(url, FeedCause::io, &what, e)),
    };
    let mut bytes = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| failed(url, FeedCause::io, &what, e))?;
    if bytes.len() > max {
        return Err(failed(
            url,
            FeedCause::too_large,
            &what,
            format!("over the {max} bytes allowed"),
        ));
    }
    Ok(Some(bytes))
}

fn list_blocking(
    open: &Mutex<Open>,
    url: &RemoteUrl,
    folder: &Path,
) -> Result<Vec<(String, Stamp)>, SourceError> {
    let open = open.lock().unwrap_or_else(|p| p.into_inner());
    let entries = open
        .sftp
        .readdir(folder)
        .map_err(|e| failed(url, FeedCause::io, "list", e))?;
    Ok(entries
        .into_iter()
        .filter(|(_, stat)| stat.is_file())
        .filter_map(|(path, stat)| {
            let name = path.file_name()?.to_str()?.to_string();
            let modified = u128::from(stat.mtime.unwrap_or(0)) * 1_000_000_000;
            Some((name, (modified, stat.size.unwrap_or(0))))
        })
        .collect())
}

impl Session for SftpSession {
    fn read<'a>(&'a mut self, name: &'a str, max: usize) -> Op<'a, Option<Vec<u8>>> {
        let (open, url, path) = (self.open.clone(), self.url.clone(), self.folder.join(name));
        Box::pin(run(&self.url, self.timeout, "fetch", move || {
            read_blocking(&open, &url, &path, max)
        }))
    }

    fn list(&mut self) -> Op<'_, Vec<(String, Stamp)>> {
        let (open, url, folder) = (self.open.clone(), self.url.clone(), self.folder.clone());
        Box::pin(run(&self.url, self.timeout, "list", move || {
            list_blocking(&open, &url, &folder)
        }))
    }
}
