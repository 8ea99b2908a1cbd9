//! The bot: serenity's gateway client with poise for the commands, intents `GUILDS` only.
//! With `discord.api_base` set, every REST call (and, through `GET /gateway`, the gateway)
//! goes to that base instead of discord.com: serenity's own rate limiter is then disabled,
//! because it ignores the proxy setting otherwise (herald's dispatcher paces announcements).

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;

use super::commands::{self, Data, Error};
use super::embed::no_mentions;
use super::health::DiscordHealth;
use super::replies::Reply;
use super::shards::Shards;
use crate::config::{Registration, Secret};

/// How to reach Discord.
#[derive(Clone, Debug)]
pub struct Connection {
    pub token: Secret,
    /// Another base URL for REST and, through `GET /gateway`, the gateway.
    pub api_base: Option<String>,
}

/// Builds serenity's HTTP client for a connection, on herald's one HTTP client
/// ([`super::rest::client`]).
pub fn http(conn: &Connection, client: reqwest::Client) -> serenity::Http {
    let mut builder = serenity::HttpBuilder::new(conn.token.expose())
        .client(client)
        .default_allowed_mentions(no_mentions());
    if let Some(base) = &conn.api_base {
        builder = builder
            .proxy(base.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    builder.build()
}

/// Registers herald's commands in one guild (immediate) or globally.
pub async fn register(
    http: &serenity::Http,
    target: &Registration,
) -> Result<usize, serenity::Error> {
    let commands = commands::all();
    let builders = poise::builtins::create_application_commands(&commands);
    let n = builders.len();
    match target {
        Registration::Off => return Ok(0),
        Registration::Global => {
            serenity::Command::set_global_commands(http, builders).await?;
        }
        Registration::Guild(id) => {
            serenity::GuildId::new(*id)
                .set_commands(http, builders)
                .await?;
        }
    }
    Ok(n)
}

/// Tracks whether the gateway is connected (for `/healthz`).
struct Gateway {
    health: DiscordHealth,
}

#[serenity::async_trait]
impl serenity::EventHandler for Gateway {
    async fn ready(&self, _: serenity::Context, ready: serenity::Ready) {
        tracing::info!(
            guilds = ready.guilds.len(),
            "connected to Discord as {}",
            ready.user.name
        );
        self.health.set_connected(true);
    }

    async fn resume(&self, _: serenity::Context, _: serenity::ResumedEvent) {
        tracing::info!("gateway session resumed");
        self.health.set_connected(true);
    }

    async fn shard_stage_update(&self, _: serenity::Context, e: serenity::ShardStageUpdateEvent) {
        let up = e.new == serenity::ConnectionStage::Connected;
        if !up && e.old == serenity::ConnectionStage::Connected {
            tracing::warn!("gateway connection lost; reconnecting");
        }
        self.health.set_connected(up);
    }
}

async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    match error {
        poise::FrameworkError::Command { error, ctx, .. } => {
            tracing::error!(command = %ctx.command().name, "command failed: {error}");
            let _ = commands::send(
                ctx,
                Reply::private("Sorry, something went wrong answering that. It has been logged."),
            )
            .await;
        }
        poise::FrameworkError::ArgumentParse { ctx, input, .. } => {
            let _ = commands::send(
                ctx,
                Reply::private(format!(
                    "I could not read that{}.",
                    input
                        .map(|i| format!(" (“{}”)", crate::format::embed::escape_markdown(&i)))
                        .unwrap_or_default()
                )),
            )
            .await;
        }
        poise::FrameworkError::GuildOnly { ctx, .. } => {
            let _ = commands::send(
                ctx,
                Reply::private("This command works in a server, not in direct messages."),
            )
            .await;
        }
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::error!("while handling an error: {e}");
            }
        }
    }
}

/// Whether an error means Discord refused the token.
fn token_refused(e: &serenity::Error) -> bool {
    match e {
        serenity::Error::Gateway(serenity::GatewayError::InvalidAuthentication) => true,
        serenity::Error::Http(h) => h.status_code().is_some_and(|s| s.as_u16() == 401),
        _ => false,
    }
}

/// A running bot.
pub struct Bot {
    pub health: DiscordHealth,
    shards: Arc<serenity::ShardManager>,
    task: tokio::task::JoinHandle<()>,
}

impl Bot {
    /// Connects to the gateway and starts answering commands (over `client`, herald's one
    /// HTTP client). Commands are registered once connected, as `register` says.
    pub async fn start(
        conn: &Connection,
        client: reqwest::Client,
        register_on_start: Registration,
        data: Data,
        health: DiscordHealth,
        shards: Shards,
    ) -> Result<Bot, Error> {
        // Commands are registered once for the bot: by the process that runs shard 0.
        let register_on_start = if shards.first == 0 {
            register_on_start
        } else {
            Registration::Off
        };
        let http = http(conn, client);
        let framework = poise::Framework::builder()
            .options(poise::FrameworkOptions {
                commands: commands::all(),
                on_error: |e| Box::pin(on_error(e)),
                allowed_mentions: Some(no_mentions()),
                ..Default::default()
            })
            .setup(move |ctx, _ready, _framework| {
                Box::pin(async move {
                    match register(&ctx.http, &register_on_start).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!("registered {n} commands ({register_on_start:?})"),
                        Err(e) => tracing::error!("could not register commands: {e}"),
                    }
                    Ok(data)
                })
            })
            .build();
        let mut client =
            serenity::ClientBuilder::new_with_http(http, serenity::GatewayIntents::GUILDS)
                .framework(framework)
                .event_handler(Gateway {
                    health: health.clone(),
                })
                .await?;
        let manager = client.shard_manager.clone();
        let gateway = health.clone();
        let task = tokio::spawn(async move {
            // serenity's range is inclusive of its end: `first..last` starts first..=last.
            if let Err(e) = client
                .start_shard_range(shards.first..shards.last, shards.count)
                .await
            {
                gateway.set_connected(false);
                if token_refused(&e) {
                    gateway.refuse_token(&format!("the gateway said: {e}"));
                } else {
                    tracing::error!("Discord client stopped: {e}");
                }
            }
        });
        Ok(Bot {
            health,
            shards: manager,
            task,
        })
    }

    /// Closes the gateway and stops the client, giving up after `within` (a gateway that
    /// never connected, or is mid-reconnect, must not hold up shutting down).
    pub async fn stop(mut self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        let _ = tokio::time::timeout_at(deadline, self.shards.shutdown_all()).await;
        if tokio::time::timeout_at(deadline, &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}
