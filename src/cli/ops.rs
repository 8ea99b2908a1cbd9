//! Commands for running herald for real: `run` (watcher, bot and dispatcher together),
//! `discord register`, `discord invite-url` and `config check`.

use std::path::{Path, PathBuf};

use super::inputs::{load_baseline, load_parties};
use super::offline::{baseline_label, out};
use super::{CliError, LogFormat, block_on, init_logging};
use crate::app::{DiscordOptions, PipelineConfig};
use crate::config::{Config, Registration, Secret, process_env};
use crate::discord::bot::Connection;
use crate::discord::dispatch::{self, DispatchConfig};
use crate::discord::replies::Presentation;
use crate::sinks::console::{ConsoleStyle, Output};

/// The permissions herald needs: View Channel, Send Messages, Embed Links, Attach Files and
/// Read Message History.
pub const PERMISSIONS: u64 = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16);

/// The default configuration file, used when it exists and no `--config` is given.
const DEFAULT_CONFIG: &str = "config/herald.toml";

fn load_config(path: Option<&Path>) -> Result<Config, CliError> {
    let path = match path {
        Some(p) => Some(p.to_path_buf()),
        None => Some(PathBuf::from(DEFAULT_CONFIG)).filter(|p| p.is_file()),
    };
    Config::load(path.as_deref(), &process_env).map_err(|e| CliError::new(e.to_string()))
}

const NO_TOKEN: &str = "no Discord token: set DISCORD_TOKEN (or discord.token_file in the config). To try herald without Discord, run `herald demo`, or `herald watch --source URL|PATH --console`.";

pub fn run(config: Option<&Path>) -> Result<(), CliError> {
    let c = load_config(config)?;
    init_logging(
        if c.log_json {
            LogFormat::Json
        } else {
            LogFormat::Text
        },
        "info",
    );
    let Some(token) = c.token.clone() else {
        return Err(CliError::new(NO_TOKEN));
    };
    let Some(location) = c.source.clone() else {
        return Err(CliError::new(
            "source.location is not set: where do results come from?",
        ));
    };
    c.check_files().map_err(|e| CliError::new(e.to_string()))?;
    block_on(async move {
        let mut stop = super::Stop::listen()?;
        let parties = load_parties(c.parties.as_deref())?;
        let baseline = match &c.baseline {
            Some(b) => {
                let loaded = stop
                    .unless(load_baseline(
                        b,
                        c.baseline_format.unwrap_or(c.format),
                        c.baseline_constituencies.as_deref(),
                        &parties,
                    ))
                    .await;
                match loaded {
                    Some(b) => b?,
                    None => return Ok(()),
                }
            }
            None => crate::core::model::Baseline::default(),
        };
        let label = baseline_label(&baseline);
        let source_label = c
            .source_label
            .clone()
            .or(c.source_text.clone())
            .unwrap_or_default();
        let presentation = Presentation {
            tz: c.timezone,
            source: source_label.clone(),
            baseline_label: label.clone(),
        };
        let console = c.console.then(|| {
            (
                c.console_output
                    .clone()
                    .map_or(Output::Stdout, Output::File),
                ConsoleStyle {
                    tz: c.timezone,
                    source: source_label.clone(),
                    baseline_label: label.clone(),
                },
            )
        });
        let config = PipelineConfig {
            location,
            source: c.source_options(),
            interval: c.interval,
            store: c.store.clone(),
            console,
            discord: Some(DiscordOptions {
                connection: Connection {
                    token,
                    api_base: c.api_base.clone(),
                },
                register: c.register.clone(),
                dispatch: DispatchConfig {
                    // The bot's budget is shared by the processes running its shards.
                    global_per_second: c.shards.share(c.global_rate_per_second),
                    together: dispatch::together(c.global_rate_per_second, &c.shards),
                    digest_after: c.digest_after,
                    charts: c.charts,
                    ..DispatchConfig::default()
                },
                presentation,
                shards: c.shards,
            }),
        };
        let Some(pipeline) = super::start_pipeline(
            &mut stop,
            config,
            (
                parties,
                super::inputs::load_aliases(c.aliases.as_deref())?,
                super::inputs::load_notable(c.notable.as_deref())?,
            ),
            baseline,
            c.observe_listen,
        )
        .await?
        else {
            return Ok(());
        };
        stop.requested().await;
        pipeline.stop().await;
        Ok(())
    })
}

pub fn register(config: Option<&Path>, guild: Option<u64>) -> Result<(), CliError> {
    let c = load_config(config)?;
    init_logging(LogFormat::Text, "warn");
    let Some(token) = c.token.clone() else {
        return Err(CliError::new(NO_TOKEN));
    };
    block_on(async move {
        let client = crate::discord::rest::client(std::time::Duration::from_secs(30))?;
        let http = crate::discord::bot::http(
            &Connection {
                token,
                api_base: c.api_base.clone(),
            },
            client,
        );
        let app = match c.application_id {
            Some(id) => poise::serenity_prelude::ApplicationId::new(id),
            None => {
                http.get_current_application_info()
                    .await
                    .map_err(|e| {
                        CliError::new(format!("cannot read the application from Discord: {e}"))
                    })?
                    .id
            }
        };
        http.set_application_id(app);
        let target = match guild {
            Some(g) => Registration::Guild(g),
            None => Registration::Global,
        };
        let n = crate::discord::bot::register(&http, &target)
            .await
            .map_err(|e| CliError::new(format!("Discord refused the commands: {e}")))?;
        out(&match target {
            Registration::Guild(g) => {
                format!("registered {n} commands in guild {g} (available at once)\n")
            }
            _ => format!("registered {n} global commands\n"),
        })
    })
}

/// The invite URL for an application id.
pub fn invite_url_for(application_id: u64) -> String {
    format!(
        "https://discord.com/oauth2/authorize?client_id={application_id}&scope=bot%20applications.commands&permissions={PERMISSIONS}"
    )
}

pub fn invite_url(config: Option<&Path>, application_id: Option<u64>) -> Result<(), CliError> {
    let id = match application_id {
        Some(id) => id,
        None => load_config(config)?.application_id.ok_or_else(|| {
            CliError::new("no application id: pass --application-id or set discord.application_id (HERALD_DISCORD_APPLICATION_ID)")
        })?,
    };
    out(&format!("{}\n", invite_url_for(id)))
}

/// The bot's user id, read from the token's first part (public: it is the bot's id).
fn token_bot_id(token: &Secret) -> Option<String> {
    use base64::Engine;
    let first = token.expose().split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(first.trim_end_matches('='))
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// Checks a configuration as `herald run` would use it: the values (at load), the files it
/// names, the baseline (loaded), one poll of the source (parsed), the token's shape, and with
/// `--online` whom Discord says the token belongs to. Prints what it found; fails if
/// anything would stop herald.
pub fn config_check(config: Option<&Path>, no_discord: bool, online: bool) -> Result<(), CliError> {
    let c = load_config(config)?;
    c.check_files().map_err(|e| CliError::new(e.to_string()))?;
    let parties = load_parties(c.parties.as_deref())?;
    let file = c
        .file
        .as_ref()
        .map_or("defaults and environment".to_string(), |p| {
            p.display().to_string()
        });
    block_on(async move {
        let mut problems = Vec::new();
        if !no_discord && c.token.is_none() {
            problems.push("discord: no token: set DISCORD_TOKEN or discord.token_file (herald run needs it; use --no-discord to check a watch-only setup)".to_string());
        }
        let baseline = match &c.baseline {
            None => "none (no change, gain or swing will be given)".to_string(),
            Some(b) => match load_baseline(
                b,
                c.baseline_format.unwrap_or(c.format),
                c.baseline_constituencies.as_deref(),
                &parties,
            )
            .await
            {
                Ok(base) => format!(
                    "{b}: {} constituencies{}",
                    base.len(),
                    base.election
                        .as_ref()
                        .map(|e| format!(", {}", e.name))
                        .unwrap_or_default()
                ),
                Err(e) => {
                    problems.push(format!("election.baseline: {}", e.message));
                    format!("{b}: could not be loaded")
                }
            },
        };
        let source = match &c.source {
            None => "not set".to_string(),
            Some(location) => {
                let options = c.source_options();
                let polled = match crate::sources::location::open(
                    location,
                    &options,
                    std::sync::Arc::new(parties.clone()),
                ) {
                    Ok(mut s) => s.poll().await,
                    Err(e) => Err(e),
                };
                let name = c.source_text.as_deref().unwrap_or("-");
                match polled {
                    Ok(crate::sources::live::Polled::Changed(snap)) => format!(
                        "{name} ({}): answered and parsed, {} declarations{}",
                        c.format.name(),
                        snap.declarations.len(),
                        snap.elections
                            .first()
                            .map(|e| format!(" of {}", e.name))
                            .unwrap_or_default()
                    ),
                    Ok(crate::sources::live::Polled::Unchanged) => {
                        format!("{name} ({}): answered", c.format.name())
                    }
                    Err(e) => {
                        problems.push(format!("source.location: one poll failed: {e}"));
                        format!("{name} ({}): did not answer with a feed", c.format.name())
                    }
                }
            }
        };
        let discord = match (&c.token, no_discord) {
            (_, true) => "not checked".to_string(),
            (None, false) => "no token".to_string(),
            (Some(token), false) => {
                let mut s = format!(
                    "token has the shape of a bot token (bot id {})",
                    token_bot_id(token).unwrap_or_else(|| "?".into())
                );
                if let Some(b) = &c.api_base {
                    s.push_str(&format!(", API at {b}"));
                }
                if online {
                    let health = crate::discord::health::DiscordHealth::default();
                    let client = crate::discord::rest::client(std::time::Duration::from_secs(10))?;
                    let rest = crate::discord::rest::Rest::new(
                        c.api_base.as_deref(),
                        token.clone(),
                        client,
                        health,
                    );
                    match rest.whoami().await {
                        Ok((id, name)) => {
                            s.push_str(&format!("; Discord says it is {name} ({id})"))
                        }
                        Err(e) => {
                            problems.push(format!("discord: asking Discord about the token: {e}"))
                        }
                    }
                }
                s
            }
        };
        let report = format!(
            "{file}: {}\n  source: {source}\n  store: {}\n  baseline: {baseline}\n  timezone: {}\n  discord: {discord}\n",
            if problems.is_empty() {
                "OK"
            } else {
                "problems found"
            },
            crate::store::shown(&c.store),
            c.timezone,
        );
        out(&report)?;
        if problems.is_empty() {
            Ok(())
        } else {
            Err(CliError::new(problems.join("\n")))
        }
    })
}

pub fn health(url: &str) -> Result<(), CliError> {
    block_on(async move {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(4))
            .no_proxy()
            .build()?;
        let response = client
            .get(url)
            .send()
            .await
            .map_err(|e| CliError::new(format!("{url}: {}", crate::errors::chain(&e))))?;
        let ok = response.status().is_success();
        let body = response.text().await.unwrap_or_default();
        out(&format!("{body}\n"))?;
        if ok {
            Ok(())
        } else {
            Err(CliError::new("unhealthy"))
        }
    })
}
