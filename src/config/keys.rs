//! Every configuration key, once: its section and name, its environment variable and its
//! default. `docs/configuration.md` lists exactly these (a test checks it), and nothing
//! else in herald spells a default again.

/// One key of the configuration file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    /// `section.name`, as written in messages and in the docs.
    pub name: &'static str,
    /// The environment variable that overrides it.
    pub env: &'static str,
    /// The default, in the same text a file or the environment would give (None: unset).
    pub default: Option<&'static str>,
}

const fn key(name: &'static str, env: &'static str, default: Option<&'static str>) -> Key {
    Key { name, env, default }
}

/// The default store file (also the `--store` default of the commands that take one).
pub const DEFAULT_STORE: &str = "herald.db";

pub const KEYS: &[Key] = &[
    key("source.location", "HERALD_SOURCE", None),
    key("source.format", "HERALD_SOURCE_FORMAT", Some("herald-json")),
    key(
        "source.constituencies",
        "HERALD_SOURCE_CONSTITUENCIES",
        None,
    ),
    key("source.interval", "HERALD_SOURCE_INTERVAL", Some("2s")),
    key("source.timeout", "HERALD_SOURCE_TIMEOUT", Some("10s")),
    key(
        "source.max_body_bytes",
        "HERALD_SOURCE_MAX_BODY_BYTES",
        Some("33554432"),
    ),
    key("source.election", "HERALD_SOURCE_ELECTION", None),
    key("source.password_file", "HERALD_SOURCE_PASSWORD_FILE", None),
    key("source.key_file", "HERALD_SOURCE_KEY_FILE", None),
    key("source.known_hosts", "HERALD_SOURCE_KNOWN_HOSTS", None),
    key("source.ca_file", "HERALD_SOURCE_CA_FILE", None),
    key("election.baseline", "HERALD_BASELINE", None),
    key("election.baseline_format", "HERALD_BASELINE_FORMAT", None),
    key(
        "election.baseline_constituencies",
        "HERALD_BASELINE_CONSTITUENCIES",
        None,
    ),
    key("election.parties", "HERALD_PARTIES", None),
    key("election.aliases", "HERALD_ALIASES", None),
    key("election.notable", "HERALD_NOTABLE", None),
    key("store.path", "HERALD_STORE", Some(DEFAULT_STORE)),
    key("display.timezone", "HERALD_TIMEZONE", Some("Europe/London")),
    key("display.source_label", "HERALD_SOURCE_LABEL", None),
    key("discord.token_file", "HERALD_DISCORD_TOKEN_FILE", None),
    key(
        "discord.application_id",
        "HERALD_DISCORD_APPLICATION_ID",
        None,
    ),
    key("discord.api_base", "HERALD_DISCORD_API_BASE", None),
    key(
        "discord.register_commands",
        "HERALD_DISCORD_REGISTER_COMMANDS",
        Some("off"),
    ),
    key(
        "discord.global_rate_per_second",
        "HERALD_DISCORD_GLOBAL_RATE_PER_SECOND",
        Some("45"),
    ),
    key(
        "discord.digest_after",
        "HERALD_DISCORD_DIGEST_AFTER",
        Some("5"),
    ),
    key("discord.charts", "HERALD_DISCORD_CHARTS", Some("true")),
    key("discord.shards", "HERALD_DISCORD_SHARDS", None),
    key(
        "discord.shard_count",
        "HERALD_DISCORD_SHARD_COUNT",
        Some("1"),
    ),
    key("console.enabled", "HERALD_CONSOLE", Some("false")),
    key("console.output", "HERALD_CONSOLE_OUTPUT", None),
    key(
        "observe.listen",
        "HERALD_OBSERVE_LISTEN",
        Some("127.0.0.1:9184"),
    ),
    key("observe.log_format", "HERALD_LOG_FORMAT", Some("text")),
];

/// The variable that carries the bot token (never a key of the file).
pub const TOKEN_ENV: &str = "DISCORD_TOKEN";

/// The variable that carries a remote source's password (never a key of the file).
pub const SOURCE_PASSWORD_ENV: &str = "HERALD_SOURCE_PASSWORD";

pub fn find(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name == name)
}
