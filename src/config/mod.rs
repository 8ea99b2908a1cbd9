//! Configuration: `config/herald.toml` (documented in `docs/configuration.md`), with an
//! environment override for every key ([`keys`]: each key, its variable and its default,
//! once). A bad value is refused naming where it came from: `file:line` or the variable.
//! The bot token comes only from the environment (`DISCORD_TOKEN`) or a token file named
//! here, never from the file itself, and is never logged.

pub mod keys;
mod layers;

pub use layers::Origin;
use layers::{Layers, Raw};

use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// A value that cannot be used, and where it came from (`file:line: key`, or the
    /// variable that set it).
    #[error("{}{key}: {reason}", where_from(origin))]
    Value {
        key: String,
        origin: Option<Origin>,
        reason: String,
    },
}

fn where_from(origin: &Option<Origin>) -> String {
    match origin {
        Some(Origin::File { file, line }) => format!("{file}:{line}: "),
        Some(Origin::Env(var)) => format!("{var}: "),
        Some(Origin::Default) | None => String::new(),
    }
}

impl ConfigError {
    pub(crate) fn at(origin: &Origin, key: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError::Value {
            key: key.to_string(),
            origin: Some(origin.clone()),
            reason: reason.into(),
        }
    }
}

fn value_error(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Value {
        key: key.to_string(),
        origin: None,
        reason: reason.into(),
    }
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

/// Reads `name` through the layers and parses it; an error names the key and where the
/// value came from. None when the key is unset and has no default.
fn setting<T>(
    layers: &Layers,
    name: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, ConfigError> {
    let key = keys::find(name).unwrap_or_else(|| unreachable!("{name} is not in keys::KEYS"));
    let Some(Raw { text, origin }) = layers.get(key) else {
        return Ok(None);
    };
    parse(text.trim())
        .map(Some)
        .map_err(|reason| ConfigError::at(&origin, name, reason))
}

/// Like [`setting`], for a key that has a default.
fn required<T>(
    layers: &Layers,
    name: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    setting(layers, name, parse)?.ok_or_else(|| value_error(name, "not set, and it has no default"))
}

fn plain(s: &str) -> Result<String, String> {
    Ok(s.to_string())
}

fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("`{s}` is not a duration ({e}); write e.g. \"2s\" or \"500ms\""))
}

fn number<T: std::str::FromStr>(what: &'static str) -> impl Fn(&str) -> Result<T, String> {
    move |s| s.parse().map_err(|_| format!("`{s}` is not {what}"))
}

/// What people type for yes and no.
fn boolean(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(format!(
            "`{s}` is not yes or no (write true/false, yes/no, on/off or 1/0)"
        )),
    }
}

fn format_of(s: &str) -> Result<Format, String> {
    <Format as clap::ValueEnum>::from_str(s, true).map_err(|_| {
        format!("unknown format `{s}` (expected herald-json, parliament-csv, hoc-csv or pa-xml)")
    })
}

fn url(s: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(s).map_err(|e| format!("`{s}` is not a URL ({e})"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!("`{s}` must be an http:// or https:// URL"));
    }
    if url.host().is_none() {
        return Err(format!("`{s}` has no host"));
    }
    Ok(s.to_string())
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
        let l = Layers::read(&name, text, env)?;
        // Relative paths are relative to the working directory, as on the command line.
        let path = |s: &str| Ok::<_, String>(PathBuf::from(s));

        let source_text = setting(&l, "source.location", |s| {
            if s.starts_with("http://") || s.starts_with("https://") {
                url(s)
            } else {
                Ok(s.to_string())
            }
        })?;
        let format = required(&l, "source.format", format_of)?;
        let interval = required(&l, "source.interval", |s| {
            duration(s).and_then(|d| {
                if d < Duration::from_millis(10) {
                    Err("must be at least 10ms".into())
                } else {
                    Ok(d)
                }
            })
        })?;
        let timeout = required(&l, "source.timeout", duration)?;
        let max_body_bytes = required(&l, "source.max_body_bytes", number("a number of bytes"))?;
        let timezone = required(&l, "display.timezone", |s| {
            s.parse::<chrono_tz::Tz>().map_err(|_| {
                format!("unknown timezone `{s}` (expected an IANA name such as Europe/London)")
            })
        })?;
        let application_id = setting(
            &l,
            "discord.application_id",
            number("a Discord id (a number)"),
        )?;
        let register = required(&l, "discord.register_commands", |s| match s {
            "off" => Ok(Registration::Off),
            "global" => Ok(Registration::Global),
            other => match other.strip_prefix("guild:").map(str::parse::<u64>) {
                Some(Ok(id)) => Ok(Registration::Guild(id)),
                _ => Err(format!(
                    "`{other}`: expected \"off\", \"global\" or \"guild:ID\""
                )),
            },
        })?;
        let global_rate_per_second = required(&l, "discord.global_rate_per_second", |s| {
            match s.parse::<u32>() {
                Ok(n) if (1..=50).contains(&n) => Ok(n),
                _ => Err(format!(
                    "`{s}`: must be between 1 and 50 (Discord allows a bot about 50 requests per second)"
                )),
            }
        })?;
        let digest_after = required(&l, "discord.digest_after", |s| match s.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!(
                "`{s}`: must be a whole number of at least 1 (pending declarations in one channel before they are merged into digests)"
            )),
        })?;
        let token_file = setting(&l, "discord.token_file", path)?;
        let token = match l.env(keys::TOKEN_ENV) {
            Some(t) => {
                let t = t.trim();
                check_token_shape(t).map_err(|why| {
                    ConfigError::at(
                        &Origin::Env(keys::TOKEN_ENV),
                        "the bot token",
                        format!("it {why}"),
                    )
                })?;
                Some(Secret::new(t))
            }
            None => match &token_file {
                Some(p) => Some(read_token_file(p)?),
                None => None,
            },
        };
        let observe_listen = required(&l, "observe.listen", |s| match s {
            "off" => Ok(None),
            s => s.parse::<std::net::SocketAddr>().map(Some).map_err(|_| {
                format!("`{s}` is not an address such as 127.0.0.1:9184 (or \"off\")")
            }),
        })?;
        let log_json = required(&l, "observe.log_format", |s| match s {
            "text" => Ok(false),
            "json" => Ok(true),
            other => Err(format!("`{other}`: expected \"text\" or \"json\"")),
        })?;
        Ok(Config {
            file,
            source: source_text.as_deref().map(Location::parse),
            source_text,
            format,
            constituencies: setting(&l, "source.constituencies", path)?,
            interval,
            timeout,
            max_body_bytes,
            baseline: setting(&l, "election.baseline", plain)?,
            baseline_format: setting(&l, "election.baseline_format", format_of)?,
            baseline_constituencies: setting(&l, "election.baseline_constituencies", path)?,
            parties: setting(&l, "election.parties", path)?,
            store: required(&l, "store.path", plain)?,
            timezone,
            source_label: setting(&l, "display.source_label", plain)?,
            token,
            token_file,
            application_id,
            api_base: setting(&l, "discord.api_base", url)?,
            register,
            global_rate_per_second,
            digest_after,
            charts: required(&l, "discord.charts", boolean)?,
            console: required(&l, "console.enabled", boolean)?,
            console_output: setting(&l, "console.output", path)?,
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
    fn errors_name_the_key_and_where_the_value_came_from() {
        let e = |text: &str| Config::parse(None, text, &no_env).unwrap_err().to_string();
        assert_eq!(
            e("[source]\nlocaton = \"x\"\n"),
            "configuration:2: source.locaton: unknown key"
        );
        assert!(e("[discord]\ntoken = \"x\"\n").contains("never goes in the file"));
        assert!(
            e("\n[source]\ninterval = \"soon\"\n")
                .starts_with("configuration:3: source.interval: `soon` is not a duration")
        );
        assert!(
            e("[source]\nlocation = \"http://\"\n")
                .starts_with("configuration:2: source.location: `http://` is not a URL")
        );
        assert!(
            e("[discord]\napi_base = \"ftp://x\"\n")
                .contains("discord.api_base: `ftp://x` must be")
        );
        assert!(
            e("[display]\ntimezone = \"Mars\"\n").contains("display.timezone: unknown timezone")
        );
        assert!(
            e("[discord]\nregister_commands = \"sometimes\"\n")
                .contains("discord.register_commands")
        );
        assert!(
            e("[discord]\nglobal_rate_per_second = 500\n")
                .contains("discord.global_rate_per_second")
        );
        // Nothing is quietly changed: a digest threshold of 0 is refused, not made 1.
        assert!(e("[discord]\ndigest_after = 0\n").contains("discord.digest_after: `0`: must be"));
        assert!(e("[console]\nenabled = [1]\n").contains("expected a single value"));
        // A bad value from the environment names the variable, not the file's key.
        let env = |k: &str| (k == "HERALD_SOURCE_INTERVAL").then(|| "soon".to_string());
        let err = Config::parse(None, "[source]\ninterval = \"5s\"\n", &env)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("HERALD_SOURCE_INTERVAL: source.interval: `soon` is not a duration"),
            "{err}"
        );
    }

    #[test]
    fn booleans_accept_what_people_type_or_refuse() {
        for (typed, want) in [
            ("yes", true),
            ("YES", true),
            ("1", true),
            ("on", true),
            ("no", false),
            ("0", false),
            ("false", false),
        ] {
            let env = |k: &str| (k == "HERALD_CONSOLE").then(|| typed.to_string());
            assert_eq!(
                Config::parse(None, "", &env).unwrap().console,
                want,
                "{typed}"
            );
        }
        let env = |k: &str| (k == "HERALD_CONSOLE").then(|| "sometimes".to_string());
        let err = Config::parse(None, "", &env).unwrap_err().to_string();
        assert!(
            err.starts_with("HERALD_CONSOLE: console.enabled: `sometimes` is not yes or no"),
            "{err}"
        );
        let c = Config::parse(None, "[discord]\ncharts = false\n", &no_env).unwrap();
        assert!(!c.charts);
    }

    #[test]
    fn every_key_has_its_own_variable_and_a_file_value_reaches_the_config() {
        let vars: std::collections::BTreeSet<&str> = keys::KEYS.iter().map(|k| k.env).collect();
        assert_eq!(vars.len(), keys::KEYS.len(), "one variable per key");
        // The six keys that had no variable before: each overrides the file.
        let env = |k: &str| match k {
            "HERALD_SOURCE_CONSTITUENCIES" => Some("c.csv".to_string()),
            "HERALD_BASELINE_CONSTITUENCIES" => Some("b.csv".to_string()),
            "HERALD_DISCORD_GLOBAL_RATE_PER_SECOND" => Some("30".to_string()),
            "HERALD_DISCORD_DIGEST_AFTER" => Some("9".to_string()),
            "HERALD_DISCORD_CHARTS" => Some("no".to_string()),
            "HERALD_CONSOLE_OUTPUT" => Some("out.txt".to_string()),
            _ => None,
        };
        let c = Config::parse(None, "", &env).unwrap();
        assert_eq!(c.constituencies.as_deref(), Some(Path::new("c.csv")));
        assert_eq!(
            c.baseline_constituencies.as_deref(),
            Some(Path::new("b.csv"))
        );
        assert_eq!(c.global_rate_per_second, 30);
        assert_eq!(c.digest_after, 9);
        assert!(!c.charts);
        assert_eq!(c.console_output.as_deref(), Some(Path::new("out.txt")));
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
        assert!(
            e.starts_with("DISCORD_TOKEN: the bot token: it is empty"),
            "{e}"
        );
    }
}
