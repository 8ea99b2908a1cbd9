//! Configuration: `config/herald.toml` (documented in `docs/configuration.md`), with an
//! environment override for every key. The bot token comes only from the environment
//! (`DISCORD_TOKEN`) or a token file named here, never from this file, and is never logged.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::sources::Format;
use crate::sources::live::Location;

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

/// Why a configuration is unusable, precisely.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{file}: cannot read: {reason}")]
    Unreadable { file: String, reason: String },
    #[error("{file}: {reason}")]
    Invalid { file: String, reason: String },
    #[error("{key}: {reason}")]
    Value { key: String, reason: String },
}

fn value_error(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Value {
        key: key.to_string(),
        reason: reason.into(),
    }
}

#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    source: SourceSection,
    #[serde(default)]
    election: ElectionSection,
    #[serde(default)]
    store: StoreSection,
    #[serde(default)]
    display: DisplaySection,
    #[serde(default)]
    discord: DiscordSection,
    #[serde(default)]
    console: ConsoleSection,
    #[serde(default)]
    observe: ObserveSection,
}

#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
struct SourceSection {
    location: Option<String>,
    format: Option<String>,
    constituencies: Option<PathBuf>,
    interval: Option<String>,
    timeout: Option<String>,
    max_body_bytes: Option<usize>,
}

#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
struct ElectionSection {
    baseline: Option<String>,
    baseline_format: Option<String>,
    baseline_constituencies: Option<PathBuf>,
    parties: Option<PathBuf>,
}

#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
struct StoreSection {
    path: Option<String>,
}

#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
struct DisplaySection {
    timezone: Option<String>,
    source_label: Option<String>,
}

#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
struct DiscordSection {
    token_file: Option<PathBuf>,
    application_id: Option<u64>,
    api_base: Option<String>,
    register_commands: Option<String>,
    global_rate_per_second: Option<u32>,
    digest_after: Option<usize>,
    charts: Option<bool>,
}

#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
struct ConsoleSection {
    enabled: Option<bool>,
    output: Option<PathBuf>,
}

#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
struct ObserveSection {
    listen: Option<String>,
    log_format: Option<String>,
}

/// Where slash commands are registered when herald starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Registration {
    Off,
    Global,
    Guild(u64),
}

/// The resolved configuration: defaults, then the file, then the environment.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file it came from (for messages), if any.
    pub file: Option<PathBuf>,
    pub source: Option<Location>,
    pub source_text: Option<String>,
    pub format: Format,
    pub constituencies: Option<PathBuf>,
    pub interval: Duration,
    pub timeout: Duration,
    pub max_body_bytes: usize,
    pub baseline: Option<String>,
    pub baseline_format: Option<Format>,
    pub baseline_constituencies: Option<PathBuf>,
    pub parties: Option<PathBuf>,
    pub store: String,
    pub timezone: chrono_tz::Tz,
    pub source_label: Option<String>,
    pub token: Option<Secret>,
    pub token_file: Option<PathBuf>,
    pub application_id: Option<u64>,
    pub api_base: Option<String>,
    pub register: Registration,
    pub global_rate_per_second: u32,
    pub digest_after: usize,
    pub charts: bool,
    pub console: bool,
    pub console_output: Option<PathBuf>,
    pub observe_listen: Option<std::net::SocketAddr>,
    pub log_json: bool,
}

/// Looks up an environment variable; a separate function so tests can supply their own.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment.
pub fn process_env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

fn duration(key: &str, s: &str) -> Result<Duration, ConfigError> {
    humantime::parse_duration(s).map_err(|e| {
        value_error(
            key,
            format!("`{s}` is not a duration ({e}); write e.g. \"2s\" or \"500ms\""),
        )
    })
}

fn format_of(key: &str, s: &str) -> Result<Format, ConfigError> {
    <Format as clap::ValueEnum>::from_str(s, true).map_err(|_| {
        value_error(
            key,
            format!(
                "unknown format `{s}` (expected herald-json, parliament-csv, hoc-csv or pa-xml)"
            ),
        )
    })
}

fn check_url(key: &str, s: &str) -> Result<(), ConfigError> {
    let url = reqwest::Url::parse(s)
        .map_err(|e| value_error(key, format!("`{s}` is not a URL ({e})")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(value_error(
            key,
            format!("`{s}` must be an http:// or https:// URL"),
        ));
    }
    if url.host().is_none() {
        return Err(value_error(key, format!("`{s}` has no host")));
    }
    Ok(())
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
fn read_token_file(p: &Path) -> Result<Secret, ConfigError> {
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

impl Config {
    /// Reads `path` (if given) and applies the environment.
    pub fn load(path: Option<&Path>, env: Env) -> Result<Config, ConfigError> {
        let (file, text) = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| ConfigError::Unreadable {
                    file: p.display().to_string(),
                    reason: e.to_string(),
                })?;
                (Some(p.to_path_buf()), text)
            }
            None => (None, String::new()),
        };
        Self::parse(file, &text, env)
    }

    /// Parses configuration text (named `file` in messages) and applies the environment.
    pub fn parse(file: Option<PathBuf>, text: &str, env: Env) -> Result<Config, ConfigError> {
        let name = file
            .as_ref()
            .map_or("configuration".to_string(), |p| p.display().to_string());
        let f: FileConfig = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            file: name.clone(),
            reason: e.to_string().trim().replace('\n', " "),
        })?;
        // Relative paths in the file are relative to the working directory, as on the
        // command line.
        let pick = |env_key: &str, v: Option<String>| env(env_key).or(v);

        let source_text = pick("HERALD_SOURCE", f.source.location.clone());
        if let Some(s) = &source_text
            && (s.starts_with("http://") || s.starts_with("https://"))
        {
            check_url("source.location", s)?;
        }
        let format = match pick("HERALD_SOURCE_FORMAT", f.source.format.clone()) {
            Some(s) => format_of("source.format", &s)?,
            None => Format::HeraldJson,
        };
        let interval = match pick("HERALD_SOURCE_INTERVAL", f.source.interval.clone()) {
            Some(s) => duration("source.interval", &s)?,
            None => Duration::from_secs(2),
        };
        if interval < Duration::from_millis(10) {
            return Err(value_error("source.interval", "must be at least 10ms"));
        }
        let timeout = match pick("HERALD_SOURCE_TIMEOUT", f.source.timeout.clone()) {
            Some(s) => duration("source.timeout", &s)?,
            None => Duration::from_secs(10),
        };
        let max_body_bytes = match env("HERALD_SOURCE_MAX_BODY_BYTES") {
            Some(s) => s.parse().map_err(|_| {
                value_error(
                    "source.max_body_bytes",
                    format!("`{s}` is not a number of bytes"),
                )
            })?,
            None => f.source.max_body_bytes.unwrap_or(32 * 1024 * 1024),
        };
        let baseline = pick("HERALD_BASELINE", f.election.baseline.clone());
        let baseline_format = pick("HERALD_BASELINE_FORMAT", f.election.baseline_format.clone())
            .map(|s| format_of("election.baseline_format", &s))
            .transpose()?;
        let timezone_text = pick("HERALD_TIMEZONE", f.display.timezone.clone())
            .unwrap_or_else(|| "Europe/London".into());
        let timezone = timezone_text.parse::<chrono_tz::Tz>().map_err(|_| {
            value_error("display.timezone", format!("unknown timezone `{timezone_text}` (expected an IANA name such as Europe/London)"))
        })?;
        let api_base = pick("HERALD_DISCORD_API_BASE", f.discord.api_base.clone());
        if let Some(b) = &api_base {
            check_url("discord.api_base", b)?;
        }
        let application_id = match env("HERALD_DISCORD_APPLICATION_ID") {
            Some(s) => Some(s.parse().map_err(|_| {
                value_error(
                    "discord.application_id",
                    format!("`{s}` is not a Discord id (a number)"),
                )
            })?),
            None => f.discord.application_id,
        };
        let register = match pick(
            "HERALD_DISCORD_REGISTER_COMMANDS",
            f.discord.register_commands.clone(),
        )
        .as_deref()
        {
            None | Some("off") => Registration::Off,
            Some("global") => Registration::Global,
            Some(other) => match other.strip_prefix("guild:").map(str::parse::<u64>) {
                Some(Ok(id)) => Registration::Guild(id),
                _ => {
                    return Err(value_error(
                        "discord.register_commands",
                        format!("`{other}`: expected \"off\", \"global\" or \"guild:ID\""),
                    ));
                }
            },
        };
        let global_rate_per_second = f.discord.global_rate_per_second.unwrap_or(45);
        if global_rate_per_second == 0 || global_rate_per_second > 50 {
            return Err(value_error(
                "discord.global_rate_per_second",
                "must be between 1 and 50 (Discord allows a bot about 50 requests per second)",
            ));
        }
        let token_file = env("HERALD_DISCORD_TOKEN_FILE")
            .map(PathBuf::from)
            .or(f.discord.token_file.clone());
        let token = match env("DISCORD_TOKEN") {
            Some(t) => {
                let t = t.trim();
                check_token_shape(t)
                    .map_err(|why| value_error("DISCORD_TOKEN", format!("the token {why}")))?;
                Some(Secret::new(t))
            }
            None => match &token_file {
                Some(p) => Some(read_token_file(p)?),
                None => None,
            },
        };
        let listen = pick("HERALD_OBSERVE_LISTEN", f.observe.listen.clone());
        let observe_listen = match listen.as_deref() {
            None => Some(std::net::SocketAddr::from(([127, 0, 0, 1], 9184))),
            Some("off") => None,
            Some(s) => Some(s.parse().map_err(|_| {
                value_error(
                    "observe.listen",
                    format!("`{s}` is not an address such as 127.0.0.1:9184 (or \"off\")"),
                )
            })?),
        };
        let log_json = match pick("HERALD_LOG_FORMAT", f.observe.log_format.clone()).as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => {
                return Err(value_error(
                    "observe.log_format",
                    format!("`{other}`: expected \"text\" or \"json\""),
                ));
            }
        };
        Ok(Config {
            file,
            source: source_text.as_deref().map(Location::parse),
            source_text,
            format,
            constituencies: f.source.constituencies.clone(),
            interval,
            timeout,
            max_body_bytes,
            baseline,
            baseline_format,
            baseline_constituencies: f.election.baseline_constituencies.clone(),
            parties: env("HERALD_PARTIES")
                .map(PathBuf::from)
                .or(f.election.parties.clone()),
            store: pick("HERALD_STORE", f.store.path.clone()).unwrap_or_else(|| "herald.db".into()),
            timezone,
            source_label: pick("HERALD_SOURCE_LABEL", f.display.source_label.clone()),
            token,
            token_file,
            application_id,
            api_base,
            register,
            global_rate_per_second,
            digest_after: f.discord.digest_after.unwrap_or(5).max(1),
            charts: f.discord.charts.unwrap_or(true),
            console: env("HERALD_CONSOLE")
                .map(|v| v == "1" || v == "true")
                .or(f.console.enabled)
                .unwrap_or(false),
            console_output: f.console.output.clone(),
            observe_listen,
            log_json,
        })
    }

    /// Checks that the files the configuration names can be read: the source (when it is a
    /// local file or folder), the baseline and the party registry.
    pub fn check_files(&self) -> Result<(), ConfigError> {
        match &self.source {
            Some(Location::File(p)) if !p.is_file() => {
                return Err(value_error(
                    "source.location",
                    format!("{}: no such file or folder", p.display()),
                ));
            }
            None => {
                return Err(value_error(
                    "source.location",
                    "not set: where do results come from?",
                ));
            }
            _ => {}
        }
        if let Some(b) = &self.baseline
            && !b.starts_with("http://")
            && !b.starts_with("https://")
            && let Err(e) = std::fs::File::open(b)
        {
            return Err(value_error(
                "election.baseline",
                format!("{b}: cannot read ({e})"),
            ));
        }
        for (key, p) in [
            ("election.parties", &self.parties),
            ("source.constituencies", &self.constituencies),
            (
                "election.baseline_constituencies",
                &self.baseline_constituencies,
            ),
        ] {
            if let Some(p) = p
                && let Err(e) = std::fs::File::open(p)
            {
                return Err(value_error(
                    key,
                    format!("{}: cannot read ({e})", p.display()),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_apply_to_an_empty_file() {
        let c = Config::parse(None, "", &no_env).unwrap();
        assert_eq!(c.interval, Duration::from_secs(2));
        assert_eq!(c.store, "herald.db");
        assert_eq!(c.timezone, chrono_tz::Europe::London);
        assert_eq!(c.global_rate_per_second, 45);
        assert_eq!(c.register, Registration::Off);
        assert!(c.token.is_none());
    }

    /// A token of the shape Discord issues (the id part is `123456789012345678` in base64).
    const TOKEN: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhJkLm.abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJK";

    #[test]
    fn environment_overrides_the_file() {
        let env = |k: &str| match k {
            "HERALD_STORE" => Some("/data/h.db".to_string()),
            "DISCORD_TOKEN" => Some(format!(" {TOKEN} \n")),
            "HERALD_DISCORD_API_BASE" => Some("http://127.0.0.1:9".to_string()),
            _ => None,
        };
        let c = Config::parse(None, "[store]\npath = \"x.db\"\n", &env).unwrap();
        assert_eq!(c.store, "/data/h.db");
        assert_eq!(c.token.as_ref().map(|t| t.expose()), Some(TOKEN));
        assert_eq!(format!("{:?}", c.token), "Some(Secret([redacted]))");
        assert_eq!(c.api_base.as_deref(), Some("http://127.0.0.1:9"));
    }

    #[test]
    fn errors_name_the_key() {
        let e = |text: &str| Config::parse(None, text, &no_env).unwrap_err().to_string();
        assert!(e("[source]\nlocaton = \"x\"\n").contains("unknown field `locaton`"));
        assert_eq!(
            e("[source]\ninterval = \"soon\"\n").split(':').next(),
            Some("source.interval")
        );
        assert!(
            e("[source]\nlocation = \"http://\"\n")
                .starts_with("source.location: `http://` is not a URL")
        );
        assert!(e("[discord]\napi_base = \"ftp://x\"\n").starts_with("discord.api_base"));
        assert!(
            e("[display]\ntimezone = \"Mars\"\n").starts_with("display.timezone: unknown timezone")
        );
        assert!(
            e("[discord]\nregister_commands = \"sometimes\"\n")
                .starts_with("discord.register_commands")
        );
        assert!(
            e("[discord]\nglobal_rate_per_second = 500\n")
                .starts_with("discord.global_rate_per_second")
        );
    }

    #[test]
    fn reads_a_token_file_and_refuses_an_endless_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        let with = |path: &Path| {
            Config::parse(
                None,
                &format!("[discord]\ntoken_file = {:?}\n", path.display().to_string()),
                &no_env,
            )
        };
        std::fs::write(&file, format!(" {TOKEN} \n")).unwrap();
        let c = with(&file).unwrap();
        assert_eq!(c.token.unwrap().expose(), TOKEN);

        std::fs::write(&file, "\n").unwrap();
        assert!(with(&file).unwrap_err().to_string().ends_with("is empty"));
        std::fs::write(&file, vec![b'x'; 5000]).unwrap();
        assert!(
            with(&file)
                .unwrap_err()
                .to_string()
                .contains("not a token file")
        );
        // A FIFO would block the read until something wrote to it: refused at once.
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let e = with(&fifo).unwrap_err().to_string();
            assert!(e.contains("is not a regular file"), "{e}");
        }
        // Refused after reading 4 kB, not read until memory runs out.
        if Path::new("/dev/zero").exists() {
            let e = with(Path::new("/dev/zero")).unwrap_err().to_string();
            assert!(
                e.starts_with("discord.token_file: /dev/zero is not a regular file"),
                "{e}"
            );
        }
    }

    #[test]
    fn tokens_must_have_the_shape_of_a_bot_token() {
        assert!(check_token_shape(TOKEN).is_ok());
        for (bad, says) in [
            ("", "is empty"),
            ("abc.def.ghi", "first part is not a user id"),
            ("abc.def", "is not a bot token"),
            ("MTIzNDU2Nzg5MDEyMzQ1Njc4.Gh", "is not a bot token"),
            ("MTIzNDU2Nzg5MDEyMzQ1Njc4.GhJkLm.short", "too short"),
            ("MTIz NDU2.GhJkLm.abcdefghijklmnopqrstuvwxyz", "spaces"),
        ] {
            let e = check_token_shape(bad).unwrap_err();
            assert!(e.contains(says), "{bad:?}: {e}");
            assert!(
                bad.is_empty() || !e.contains(bad),
                "the token is not echoed: {e}"
            );
        }
        // From the environment: trimmed, and a token of spaces is refused naming the variable.
        let env = |k: &str| (k == "DISCORD_TOKEN").then(|| "   ".to_string());
        let e = Config::parse(None, "", &env).unwrap_err().to_string();
        assert!(e.starts_with("DISCORD_TOKEN: the token is empty"), "{e}");
    }
}
