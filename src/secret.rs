//! Secrets (the bot token, a feed's password): a value that never shows itself in logs or
//! debug output, and the reading of a secret file (a Docker or Kubernetes secret: a small
//! regular file, never a FIFO or a device).

use std::path::Path;

/// A secret that never shows itself in logs or debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself, for the one place that needs it (the Authorization header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// The most a secret file may hold. A bot token is about 70 characters; reading stops just
/// past this, so that a file naming something endless is refused instead of read until
/// memory runs out (the `config` fuzz target ran out of memory on
/// `token_file = '/dev/zero'`).
const MAX_SECRET_FILE_BYTES: u64 = 4096;

/// The text of a secret file. The file must be a regular file of at most a few kilobytes:
/// a FIFO or a device would hang or never end. The error says why, after the path (": cannot
/// read (…)", " is not a regular file …"), never what the file holds.
pub fn read_file(p: &Path) -> Result<String, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut bytes = Vec::new();
    // Opened without blocking (a FIFO with no writer would wait forever), then checked to
    // be a regular file before a byte is read.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(p)
        .map_err(|e| format!(": cannot read ({e})"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!(": cannot read ({e})"))?;
    if !meta.is_file() {
        return Err(
            " is not a regular file (a FIFO, a device or a folder): put the secret in a plain file"
                .into(),
        );
    }
    file.take(MAX_SECRET_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!(": cannot read ({e})"))?;
    if bytes.len() as u64 > MAX_SECRET_FILE_BYTES {
        return Err(format!(
            " is over {MAX_SECRET_FILE_BYTES} bytes: not a secret file"
        ));
    }
    String::from_utf8(bytes).map_err(|_| " is not UTF-8 text".into())
}

/// A URL as it may be shown in logs and messages: whatever precedes its host (a user and a
/// password) replaced by `[credentials]`. Works on text that does not parse as a URL too.
pub fn redact_url(s: &str) -> String {
    match (s.find("://"), s.rfind('@')) {
        (Some(start), Some(at)) if at > start => {
            format!("{}://[credentials]{}", &s[..start], &s[at..])
        }
        _ => s.to_string(),
    }
}
