//! The bot token: a secret that never shows itself, the check that a value has the shape
//! of a bot token (said without showing it), and the reading of a token file (a small
//! regular file, never a FIFO or a device).

use std::path::Path;

use super::{ConfigError, value_error};

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

/// The most a token file may hold. A Discord bot token is about 70 characters; reading
/// stops just past this, so that a token file naming something endless is refused instead
/// of read until memory runs out (the `config` fuzz target ran out of memory on
/// `token_file = '/dev/zero'`).
const MAX_TOKEN_FILE_BYTES: u64 = 4096;

/// Checks that `t` has the shape of a Discord bot token: three dot-separated base64url
/// parts, the first the bot's user id (a snowflake) in base64. What is wrong is said
/// without showing the token.
pub fn check_token_shape(t: &str) -> Result<(), String> {
    use base64::Engine;
    if t.is_empty() {
        return Err("is empty".into());
    }
    if t.chars().any(char::is_whitespace) {
        return Err("has spaces or line breaks inside it".into());
    }
    let t = t.strip_prefix("Bot ").unwrap_or(t);
    let parts: Vec<&str> = t.split('.').collect();
    let base64url = |p: &str| {
        p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
    };
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || !base64url(p)) {
        return Err(format!(
            "is not a bot token (a bot token is three parts of letters, digits, - and _ joined by dots; this has {} part(s)); copy it from the Bot page of the Discord developer portal",
            parts.len()
        ));
    }
    let id = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(
            parts[0]
                .trim_end_matches('=')
                .replace('-', "+")
                .replace('_', "/"),
        )
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|s| (15..=21).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()));
    if id.is_none() {
        return Err("is not a bot token (its first part is not a user id in base64); copy it from the Bot page of the Discord developer portal".into());
    }
    if parts[1].len() < 4 || parts[2].len() < 20 {
        return Err("is too short to be a bot token (cut when copied?)".into());
    }
    Ok(())
}

/// The token in a token file (surrounding whitespace trimmed). The file must be a regular
/// file of at most a few kilobytes: a FIFO or a device would hang or never end.
pub(super) fn read_token_file(p: &Path) -> Result<Secret, ConfigError> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let problem =
        |reason: String| value_error("discord.token_file", format!("{}{reason}", p.display()));
    let mut bytes = Vec::new();
    // Opened without blocking (a FIFO with no writer would wait forever), then checked to
    // be a regular file before a byte is read.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(p)
        .map_err(|e| problem(format!(": cannot read ({e})")))?;
    let meta = file
        .metadata()
        .map_err(|e| problem(format!(": cannot read ({e})")))?;
    if !meta.is_file() {
        return Err(problem(
            " is not a regular file (a FIFO, a device or a folder): put the token in a plain file"
                .into(),
        ));
    }
    file.take(MAX_TOKEN_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| problem(format!(": cannot read ({e})")))?;
    if bytes.len() as u64 > MAX_TOKEN_FILE_BYTES {
        return Err(problem(format!(
            " is over {MAX_TOKEN_FILE_BYTES} bytes: not a token file"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| problem(" is not UTF-8 text".into()))?;
    let t = text.trim();
    check_token_shape(t).map_err(|why| problem(format!(": the token {why}")))?;
    Ok(Secret::new(t))
}
