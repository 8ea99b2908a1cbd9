//! Beyond the channel itself: a milestone's post published (crossposted) from an
//! announcement channel to the servers that follow it, within Discord's allowance of about
//! ten a channel an hour and never waiting for it; and an admin told, in the channel where
//! the subscription was made, that Discord refused a channel and it is paused.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;

use super::Dispatcher;
use super::once::nonce;
use crate::discord::embed::no_mentions;
use crate::discord::rest::Outcome;
use crate::format::embed::{escape_markdown, limits, truncate};

/// Publishes a channel may make in [`WINDOW`] (Discord's limit is about ten an hour).
const PER_WINDOW: usize = 10;
const WINDOW: Duration = Duration::from_secs(3600);

/// The publishes of each announcement channel in the last [`WINDOW`].
#[derive(Default)]
pub(super) struct Publishing {
    recent: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Publishing {
    /// Takes one of the channel's publishes, if it has one left now.
    fn take(&self, channel: &str, now: Instant) -> bool {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let q = recent.entry(channel.to_string()).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            q.pop_front();
        }
        if q.len() >= PER_WINDOW {
            return false;
        }
        q.push_back(now);
        true
    }
}

impl Dispatcher {
    /// Publishes `message` from the announcement channel `channel`, if the channel has a
    /// publish left this hour and Discord has not said to wait. Tried once: a publish
    /// refused or rate limited is logged and the post stays in the channel; it never holds
    /// back the channel's other sends.
    pub(super) async fn publish(&self, channel: &str, message: &str) {
        let route = format!("CROSSPOST {channel}");
        let now = Instant::now();
        let blocked = Self::lock(&self.buckets)
            .get(&route)
            .and_then(|b| b.wait_until(now))
            .is_some();
        if blocked || !self.publishing.take(channel, now) {
            tracing::info!(
                channel,
                message,
                "not published: the channel's publishes for this hour are used"
            );
            return;
        }
        self.pace(&route).await;
        let (outcome, bucket) = self.rest.crosspost(channel, message).await;
        self.learn(&route, &bucket);
        match outcome {
            Outcome::Ok { .. } => {
                tracing::info!(channel, message, "published to following servers")
            }
            Outcome::RateLimited {
                retry_after,
                global,
                scope,
            } => {
                tracing::warn!(
                    channel,
                    message,
                    "not published: Discord asked to wait {retry_after:?}"
                );
                self.rate_limited(&route, retry_after, global, scope);
            }
            other => tracing::warn!(channel, message, "not published: {other:?}"),
        }
    }

    /// Tells an admin, in the channel where the subscription was made, that Discord refused
    /// `channel` and herald stopped announcing there (once: the caller paused it just now).
    /// Pings nobody. Best effort: a note that cannot be posted is logged.
    pub(super) async fn tell_paused(&self, channel: &str, reason: &str) {
        let to = match self.store.channel(channel).await {
            Ok(Some(c)) => match c.told_in() {
                Some(to) => to.to_string(),
                None => return,
            },
            _ => return,
        };
        let text = format!(
            "herald has stopped announcing in <#{channel}>: {}. Give herald View Channel, Send Messages, Embed Links and Attach Files there (or choose another channel), then run /subscribe again.",
            escape_markdown(reason)
        );
        let body = json!({
            "content": truncate(&text, limits::CONTENT),
            "allowed_mentions": no_mentions(),
            "nonce": nonce(&format!("paused:{channel}:{to}")),
            "enforce_nonce": true,
        });
        let route = format!("POST {to}");
        self.pace(&route).await;
        let (outcome, bucket) = self.rest.create_message(&to, &body, &[]).await;
        self.learn(&route, &bucket);
        if !matches!(outcome, Outcome::Ok { .. }) {
            tracing::warn!(channel, told_in = %to, "the admin could not be told the channel is paused: {outcome:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_publishes_ten_an_hour_then_waits_for_the_oldest_to_age() {
        let p = Publishing::default();
        let t0 = Instant::now();
        for i in 0..PER_WINDOW {
            assert!(
                p.take("1", t0 + Duration::from_secs(i as u64)),
                "publish {i}"
            );
        }
        assert!(!p.take("1", t0 + Duration::from_secs(60)));
        assert!(
            p.take("2", t0 + Duration::from_secs(60)),
            "channels are apart"
        );
        assert!(p.take("1", t0 + WINDOW), "the first has aged out");
        assert!(!p.take("1", t0 + WINDOW));
    }
}
