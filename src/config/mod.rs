//! Configuration: `config/herald.toml` (documented in `docs/configuration.md`), with an
//! environment override for every key ([`keys`]: each key, its variable and its default,
//! once). A bad value is refused naming where it came from: `file:line` or the variable.
//! The bot token comes only from the environment (`DISCORD_TOKEN`) or a token file named
//! here, never from the file itself, and is never logged.

pub mod keys;
mod layers;
mod token;

pub use layers::Origin;
use layers::{Layers, Raw};
use token::read_token_file;
pub use token::{Secret, check_token_shape};

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::sources::Format;
use crate::sources::location::Location;
use crate::sources::options::RemoteAuth;
use crate::sources::remote::RemoteUrl;

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
    /// Which election to follow where the source holds several.
    pub election: Option<String>,
    /// How to log in to a remote (FTP, SFTP) source.
    pub remote: RemoteAuth,
    pub baseline: Option<String>,
    pub baseline_format: Option<Format>,
    pub baseline_constituencies: Option<PathBuf>,
    pub parties: Option<PathBuf>,
    /// More names for constituencies, added to the bundled list.
    pub aliases: Option<PathBuf>,
    /// Sitting members whose defeat is a milestone (a file, one name per line).
    pub notable: Option<PathBuf>,
    pub store: String,
    pub timezone: chrono_tz::Tz,
    pub source_label: Option<String>,
    pub token: Option<Secret>,
    pub token_file: Option<PathBuf>,
    pub application_id: Option<u64>,
    pub api_base: Option<String>,
    pub register: Registration,
    pub global_rate_per_second: u32,
    /// The Discord shards this process runs.
    pub shards: crate::discord::shards::Shards,
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

/// How to log in to a remote source: the password from `HERALD_SOURCE_PASSWORD` or the
/// file `source.password_file` (never from the configuration file itself), and the key,
/// known-hosts and CA files.
fn remote_auth(l: &Layers) -> Result<RemoteAuth, ConfigError> {
    let path = |s: &str| Ok::<_, String>(PathBuf::from(s));
    let password_file = setting(l, "source.password_file", path)?;
    let password = match l.env(keys::SOURCE_PASSWORD_ENV) {
        Some(p) => Some(Secret::new(p)),
        None => match &password_file {
            Some(p) => {
                let text = crate::secret::read_file(p).map_err(|why| {
                    value_error("source.password_file", format!("{}{why}", p.display()))
                })?;
                // One line: a trailing newline is the editor's, not the password's.
                Some(Secret::new(text.trim_end_matches(['\r', '\n'])))
            }
            None => None,
        },
    };
    Ok(RemoteAuth {
        password,
        key_file: setting(l, "source.key_file", path)?,
        known_hosts: setting(l, "source.known_hosts", path)?,
        ca_file: setting(l, "source.ca_file", path)?,
    })
}

/// The remote-source login from the environment alone, for the commands that take their
/// source on the command line (`watch`, `feed check`).
pub fn remote_auth_from(env: Env) -> Result<RemoteAuth, ConfigError> {
    let l = Layers::read("environment", "", env)?;
    remote_auth(&l)
}

impl Config {
    /// What the source is polled with.
    pub fn source_options(&self) -> crate::sources::options::SourceOptions {
        crate::sources::options::SourceOptions {
            format: self.format,
            constituencies: self.constituencies.clone(),
            timeout: self.timeout,
            max_body_bytes: self.max_body_bytes,
            election: self.election.clone(),
            remote: self.remote.clone(),
        }
    }

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
            } else if RemoteUrl::is_remote(s) {
                RemoteUrl::parse(s).map(|_| s.to_string())
            } else {
                Ok(s.to_string())
            }
        })?;
        let remote = remote_auth(&l)?;
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
        let shard_count = required(&l, "discord.shard_count", |s| match s.parse::<u32>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!("`{s}`: must be a whole number of at least 1")),
        })?;
        let shard_range = setting(&l, "discord.shards", plain)?;
        let shards = crate::discord::shards::Shards::parse(shard_range.as_deref(), shard_count)
            .map_err(|why| value_error("discord.shards", why))?;
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
            // Checked above: a location that parses there parses here.
            source: source_text.as_deref().and_then(|s| Location::parse(s).ok()),
            remote,
            source_text,
            format,
            constituencies: setting(&l, "source.constituencies", path)?,
            interval,
            timeout,
            max_body_bytes,
            election: setting(&l, "source.election", plain)?,
            baseline: setting(&l, "election.baseline", plain)?,
            baseline_format: setting(&l, "election.baseline_format", format_of)?,
            baseline_constituencies: setting(&l, "election.baseline_constituencies", path)?,
            parties: setting(&l, "election.parties", path)?,
            aliases: setting(&l, "election.aliases", path)?,
            notable: setting(&l, "election.notable", path)?,
            store: required(&l, "store.path", plain)?,
            timezone,
            source_label: setting(&l, "display.source_label", plain)?,
            token,
            token_file,
            application_id,
            api_base: setting(&l, "discord.api_base", url)?,
            register,
            global_rate_per_second,
            shards,
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
mod tests;
