//! The bot token: the check that a value has the shape of a bot token (said without
//! showing it), and the reading of a token file (see [`crate::secret`]).

use std::path::Path;

use super::{ConfigError, value_error};
pub use crate::secret::Secret;

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

/// The token in a token file (surrounding whitespace trimmed), read as
/// [`crate::secret::read_file`] reads a secret.
pub(super) fn read_token_file(p: &Path) -> Result<Secret, ConfigError> {
    let problem =
        |reason: String| value_error("discord.token_file", format!("{}{reason}", p.display()));
    let text = crate::secret::read_file(p).map_err(problem)?;
    let t = text.trim();
    check_token_shape(t).map_err(|why| problem(format!(": the token {why}")))?;
    Ok(Secret::new(t))
}
