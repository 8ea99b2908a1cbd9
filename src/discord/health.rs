//! What herald knows of its standing with Discord, shared by the gateway, the dispatcher
//! and `/healthz`: whether the gateway is connected, and whether Discord refuses the token
//! (a 401, or the gateway's "authentication failed"). While the token is refused every send
//! is paused and every queued announcement kept; nothing is marked failed for it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::observe::Metrics;

#[derive(Clone, Default)]
pub struct DiscordHealth {
    connected: Arc<AtomicBool>,
    token_refused: Arc<Mutex<Option<String>>>,
    metrics: Option<Metrics>,
    /// The gateway shards this process runs.
    shards: super::shards::Shards,
}

impl DiscordHealth {
    pub fn new(metrics: Metrics, shards: super::shards::Shards) -> DiscordHealth {
        DiscordHealth {
            metrics: Some(metrics),
            shards,
            ..DiscordHealth::default()
        }
    }

    /// The gateway shards this process runs.
    pub fn shards(&self) -> super::shards::Shards {
        self.shards
    }

    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    pub fn set_connected(&self, up: bool) {
        self.connected.store(up, Ordering::Relaxed);
        if let Some(m) = &self.metrics {
            m.gateway_connected.set(i64::from(up));
        }
        if up {
            // The gateway took the token: whatever refused it before has passed.
            self.token_accepted();
        }
    }

    /// Why Discord refuses the token, while it does.
    pub fn token_refused(&self) -> Option<String> {
        self.token_refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Discord refused the token: sending pauses (logged once).
    pub fn refuse_token(&self, why: &str) {
        let mut t = self.token_refused.lock().unwrap_or_else(|p| p.into_inner());
        if t.is_none() {
            tracing::error!(
                "Discord refuses the bot token ({why}): sending is paused and every queued announcement kept; supply a valid token (DISCORD_TOKEN or discord.token_file) and restart"
            );
            if let Some(m) = &self.metrics {
                m.discord_auth_paused.set(1);
            }
        }
        *t = Some(format!("Discord refuses the bot token: {why}"));
    }

    /// Discord accepted the token again.
    pub fn token_accepted(&self) {
        let mut t = self.token_refused.lock().unwrap_or_else(|p| p.into_inner());
        if t.take().is_some() {
            tracing::info!("Discord accepts the bot token again: sending resumes");
            if let Some(m) = &self.metrics {
                m.discord_auth_paused.set(0);
            }
        }
    }
}
