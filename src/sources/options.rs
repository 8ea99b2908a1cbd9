//! How a live source is set up: the format it reads, the limits it keeps, which election
//! it follows, and how it logs in to a remote folder. Shared by every source (and below
//! them all, so that no source imports another's module).

use std::path::PathBuf;

use super::Format;
use crate::secret::Secret;

/// Options common to the live sources.
#[derive(Clone, Debug)]
pub struct SourceOptions {
    pub format: Format,
    /// The HoC constituency file, for `hoc-csv` file sources.
    pub constituencies: Option<PathBuf>,
    pub timeout: std::time::Duration,
    pub max_body_bytes: usize,
    /// Which election to follow where a source holds several (an id or a name).
    pub election: Option<String>,
    /// How to log in to a remote folder.
    pub remote: RemoteAuth,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            format: Format::HeraldJson,
            constituencies: None,
            timeout: std::time::Duration::from_secs(10),
            max_body_bytes: 32 * 1024 * 1024,
            election: None,
            remote: Default::default(),
        }
    }
}

/// How herald proves who it is to a remote folder, and how it knows the server.
#[derive(Clone, Debug, Default)]
pub struct RemoteAuth {
    /// The password (`HERALD_SOURCE_PASSWORD`, or the file `source.password_file`).
    pub password: Option<Secret>,
    /// For SFTP: a private key file (OpenSSH format), tried before the password.
    pub key_file: Option<PathBuf>,
    /// For SFTP: the known-hosts file the server's key must be in (default
    /// `~/.ssh/known_hosts`).
    pub known_hosts: Option<PathBuf>,
    /// For FTPS: a PEM certificate to trust besides the system's (a private CA).
    pub ca_file: Option<PathBuf>,
}
