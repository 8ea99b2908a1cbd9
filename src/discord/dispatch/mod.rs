//! The announcement dispatcher: drains the store's Discord outbox into channels, in order
//! per channel, as fast as Discord's limits allow.
//!
//! * A global limiter (a token bucket, set just under Discord's 50 requests per second,
//!   letting a few through at once) gates every request; route buckets are learned from
//!   Discord's rate-limit headers, and every request counts against its bucket, even one
//!   answered by a 5xx without headers; a 429 waits its `retry_after` (every route, if
//!   global); 5xx errors and timeouts are retried with exponential backoff and jitter,
//!   holding the channel's later messages back so that order is kept.
//! * A channel Discord refuses (403 Missing Access, 404 Unknown Channel) is paused, logged
//!   once and shown in `/subscriptions`; nothing else is dropped.
//! * At the peak, a channel whose backlog is longer than its own limit drains in a few
//!   seconds (or that asked for `mode: digest`) gets digests: pending declarations merged
//!   into one message. Corrections and retractions are never merged away.
//! * Exactly once: a row is claimed in the store before it is sent, sent with a nonce
//!   derived from its key (`enforce_nonce`), and marked with the message id after. A send
//!   whose reply was lost is deduplicated by the nonce while Discord remembers it (a few
//!   minutes); one first tried longer ago is looked for in the channel's history before it
//!   is sent again. The store stops any second send of a row marked sent.
//! * Channels are served most urgent first: those with a retry due, then by the age of
//!   their next announcement, from a list of due channels at most a second old, so a retry
//!   never waits behind every other channel's backlog (and outlives the nonce). That loop
//!   is the one every sink runs ([`crate::sinks::worker`]); the dispatcher is Discord's
//!   [`crate::sinks::Sink`] in it.
//!
//! This module owns the configuration, the [`Dispatcher`], whether it may send (the token),
//! and the drain of one channel (single announcements or digests). The rest is split by
//! job:
//!
//! * `gate`: the global limiter;
//! * `limits`: pacing (the global pause, route buckets) and backoff;
//! * `once`: exactly-once sending (nonces, looking in the channel, what a reply means);
//! * `render`: the bodies of messages and edits, announcements and their charts;
//! * `send`: one row's announcement (or milestone), posted, edited or answered;
//! * `digest`: several declarations merged into one message;
//! * `publish`: milestones published from announcement channels, and the note that tells
//!   an admin a channel was paused.

mod digest;
mod gate;
mod limits;
mod once;
mod publish;
mod render;
mod send;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::watch;

use super::health::DiscordHealth;
use super::rest::{Outcome, Rest};
use crate::core::changes::EventKind;
use crate::discord::replies::Presentation;
use crate::observe::Metrics;
use crate::sinks::worker::{self, Drain};
use crate::sinks::{Delivery, Outbox, Renders};
use crate::store::{Channel, Mode, OutboxItem, SinkKind, Store, StoreError};
use crate::watch::{SharedBoard, Wake};

pub use gate::together;
use limits::RouteBucket;
pub use once::nonce;
use render::Announced;

/// How the dispatcher paces itself.
#[derive(Clone, Debug)]
pub struct DispatchConfig {
    /// Requests per second across all channels (Discord allows about 50).
    pub global_per_second: u32,
    /// Requests let through the global limiter at once (1 to [`gate::MOST_TOGETHER`]): any
    /// second sees at most `global_per_second + together` of them.
    pub together: u32,
    /// A backlog longer than this (Discord drains 5 messages per 5 s in one channel) turns
    /// a channel's pending declarations into digests.
    pub digest_after: usize,
    /// At most this many seats in one digest message.
    pub digest_max: usize,
    /// Channels drained at once.
    pub concurrency: usize,
    /// Longest wait before retrying a failed send.
    pub max_backoff: Duration,
    /// Attach the result chart to announcements.
    pub charts: bool,
    /// How long Discord is trusted to remember a nonce (it says "the past few minutes"): a
    /// send first tried longer ago is looked for in the channel before it is tried again.
    pub nonce_trust: Duration,
    /// While Discord refuses the token, how often to ask whether it accepts it again.
    pub token_probe: Duration,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        let global_per_second = 45;
        DispatchConfig {
            global_per_second,
            together: together(global_per_second, &super::shards::Shards::default()),
            digest_after: 5,
            digest_max: 40,
            concurrency: 64,
            max_backoff: Duration::from_secs(120),
            charts: true,
            nonce_trust: Duration::from_secs(120),
            token_probe: Duration::from_secs(30),
        }
    }
}

/// Renders a chart for an announcement (kept behind a function so the dispatcher does not
/// depend on how pictures are drawn).
pub type ChartFn = Arc<
    dyn Fn(&SharedBoard, &crate::core::model::Declaration, &Presentation) -> Option<Vec<u8>>
        + Send
        + Sync,
>;

pub struct Dispatcher {
    store: Store,
    board: SharedBoard,
    rest: Rest,
    presentation: Presentation,
    metrics: Metrics,
    health: DiscordHealth,
    config: DispatchConfig,
    chart: Option<ChartFn>,
    /// The global limiter every request passes.
    gate: gate::Gate,
    /// No request before this instant (a global 429).
    global_pause: Mutex<Option<Instant>>,
    /// What is known of each route's bucket.
    buckets: Mutex<HashMap<String, RouteBucket>>,
    /// When Discord was last asked whether it accepts a refused token.
    probed: Mutex<Option<Instant>>,
    /// The outbox steps every sink shares (claim, record, count).
    outbox: Outbox,
    /// Recent events' announcements, rendered once for every channel.
    renders: Renders<Announced>,
    /// Recent seats' digest lines, rendered once for every channel.
    lines: Renders<digest::Line>,
    /// Each announcement channel's publishes this hour.
    publishing: publish::Publishing,
}

/// A chart: PNG bytes shared between the channels that receive it, and put into each
/// request's body as they are (not copied).
type Png = bytes::Bytes;

/// What to do with a channel after one step.
enum Next {
    /// A message was recorded (sent, or given up) carrying the channel's announcements up to
    /// this event: the next ones follow.
    Recorded(i64),
    /// Nothing was recorded (claimed elsewhere, or its event gone): read the channel again.
    Again,
    /// Stop draining this channel for now (a retry is scheduled, or it was paused).
    Stop,
}

/// What Discord's answer to one request means for the row it was made for.
enum Sent {
    Ok(String),
    /// The message to edit is gone.
    NoMessage,
    /// Not delivered: what to record (see [`Dispatcher::judge`]).
    Not(Delivery),
}

impl Dispatcher {
    pub fn new(
        store: Store,
        board: SharedBoard,
        rest: Rest,
        presentation: Presentation,
        metrics: Metrics,
        config: DispatchConfig,
        chart: Option<ChartFn>,
    ) -> Arc<Dispatcher> {
        let health = rest.health().clone();
        let outbox = Outbox::new(store.clone(), metrics.clone());
        let gate = gate::Gate::new(config.global_per_second, config.together);
        Arc::new(Dispatcher {
            store,
            board,
            rest,
            presentation,
            metrics,
            health,
            config,
            chart,
            gate,
            global_pause: Mutex::new(None),
            buckets: Mutex::new(HashMap::new()),
            probed: Mutex::new(None),
            outbox,
            renders: Renders::default(),
            lines: Renders::with_capacity(digest::KEPT),
            publishing: publish::Publishing::default(),
        })
    }

    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Drains the outbox whenever the watcher records events, until `shutdown`, in the
    /// loop every sink runs ([`crate::sinks::worker::run`]): a free slot goes to the most
    /// urgent due channel (retries first, then the oldest announcement).
    pub async fn run(self: Arc<Self>, wake: Wake, shutdown: watch::Receiver<bool>) {
        self.seed_buckets().await;
        let outbox = self.outbox.clone();
        worker::run(self, outbox, wake, shutdown).await;
    }

    /// Whether announcements can go: not while Discord refuses the token. Every
    /// `token_probe`, Discord is asked whether it accepts the token again.
    async fn token_ok(&self) -> bool {
        if self.health.token_refused().is_none() {
            return true;
        }
        let probe = {
            let mut probed = Self::lock(&self.probed);
            let due = probed.is_none_or(|t| t.elapsed() >= self.config.token_probe);
            if due {
                *probed = Some(Instant::now());
            }
            due
        };
        if probe {
            match self.rest.check_token().await {
                Ok(()) => self.health.token_accepted(),
                Err(Outcome::Unauthorized(_)) => {}
                Err(other) => {
                    tracing::warn!("could not ask Discord about the token: {other:?}")
                }
            }
        }
        self.health.token_refused().is_none()
    }

    /// Sends one channel's announcements in order until it is empty or must wait.
    pub async fn drain_channel(&self, channel: &str) -> Result<(), StoreError> {
        // Enough rows to see whether the channel is behind and to fill one digest.
        let window = (self.config.digest_max.max(self.config.digest_after) + 1) as i64;
        let Some(subscribed) = self.store.channel(channel).await? else {
            self.store
                .fail_target(SinkKind::Discord, channel, "unsubscribed")
                .await?;
            return Ok(());
        };
        if subscribed.paused_reason().is_some() {
            self.store
                .fail_target(SinkKind::Discord, channel, "channel paused")
                .await?;
            return Ok(());
        }
        // Kept between messages: the channel's backlog is read afresh only now and then.
        let mut backlog = self.store.backlog(SinkKind::Discord, channel);
        loop {
            if self.health.token_refused().is_some() || self.store.fault().is_some() {
                return Ok(());
            }
            let rows = backlog.window(window).await?;
            let Some(head) = rows.first() else {
                return Ok(());
            };
            if head.next_attempt_at > Utc::now() {
                return Ok(());
            }
            let next = self.step(channel, &subscribed, rows).await?;
            match next {
                Next::Recorded(seq) => backlog.recorded(seq),
                Next::Again => backlog.forget(),
                Next::Stop => return Ok(()),
            }
        }
    }

    /// Sends the next message of `channel` (subscribed as `subscribed`) from `rows`, its
    /// first announcements due: a digest claimed before, a new digest, or one announcement.
    async fn step(
        &self,
        channel: &str,
        subscribed: &Channel,
        rows: &[OutboxItem],
    ) -> Result<Next, StoreError> {
        let Some(head) = rows.first() else {
            return Ok(Next::Again);
        };
        // A digest claimed before a crash (or a failed send) is sent again as it was.
        if let Some(dk) = &head.digest_key {
            let group: Vec<OutboxItem> = rows
                .iter()
                .filter(|r| r.digest_key.as_deref() == Some(dk))
                .cloned()
                .collect();
            return self.send_digest(channel, dk, &group).await;
        }
        // Plain declarations not yet tried can merge; a row already tried alone stays
        // alone (its nonce must match), and corrections are never merged.
        let mergeable: Vec<OutboxItem> = rows
            .iter()
            .take_while(|r| {
                r.digest_key.is_none() && r.attempts == 0 && r.kind == Some(EventKind::Declared)
            })
            .take(self.config.digest_max)
            .cloned()
            .collect();
        let behind = rows.len() > self.config.digest_after;
        let digest = match subscribed.mode() {
            Mode::Digest => !mergeable.is_empty(),
            Mode::Every => behind && mergeable.len() > 1,
        };
        if !digest {
            return self.send_one(channel, subscribed, head).await;
        }
        let dk = format!("digest:{channel}:{}", mergeable[0].seq);
        if !self.store.claim_digest(&mergeable, &dk).await? {
            // Claimed or done meanwhile: read the channel again.
            return Ok(Next::Again);
        }
        let group: Vec<OutboxItem> = mergeable
            .into_iter()
            .map(|mut r| {
                r.digest_key = Some(dk.clone());
                r
            })
            .collect();
        self.send_digest(channel, &dk, &group).await
    }
}

impl Drain for Dispatcher {
    fn concurrency(&self) -> usize {
        self.config.concurrency
    }

    async fn ready(&self) -> bool {
        self.token_ok().await
    }

    async fn drain(&self, channel: &str) -> Result<(), StoreError> {
        self.drain_channel(channel).await
    }
}
