//! The announcement dispatcher: drains the store's Discord outbox into channels, in order
//! per channel, as fast as Discord's limits allow.
//!
//! * A global limiter (a token bucket, set just under Discord's 50 requests per second)
//!   gates every request; route buckets are learned from Discord's rate-limit headers, and
//!   every request counts against its bucket, even one answered by a 5xx without headers; a
//!   429 waits its `retry_after` (every route, if global); 5xx errors and timeouts are
//!   retried with exponential backoff and jitter, holding the channel's later messages back
//!   so that order is kept.
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
//!   never waits behind every other channel's backlog (and outlives the nonce).

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore, watch};

use super::embed::{embed_json, no_mentions};
use super::health::DiscordHealth;
use super::rest::{Bucket, File, Outcome, Rest};
use crate::core::changes::EventKind;
use crate::discord::replies::Presentation;
use crate::format::announce::announcement;
use crate::format::embed::{Embed, escape_markdown, limits, truncate};
use crate::format::result::headline;
use crate::format::thousands;
use crate::observe::Metrics;
use crate::observe::metrics::ScopeLabel;
use crate::store::{DISCORD, Mode, OutboxItem, OutboxState, Store, StoreError, StoredEvent};
use crate::watch::{SharedBoard, Wake};

/// How the dispatcher paces itself.
#[derive(Clone, Debug)]
pub struct DispatchConfig {
    /// Requests per second across all channels (Discord allows about 50).
    pub global_per_second: u32,
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
        DispatchConfig {
            global_per_second: 45,
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

/// A nonce of at most 25 characters derived from a key (FNV-1a, 64 bits, in hex).
pub fn nonce(key: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("h{h:016x}")
}

/// The first snowflake of a moment (Discord's ids start with their creation time).
fn snowflake_at(t: DateTime<Utc>) -> u64 {
    const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;
    u64::try_from(t.timestamp_millis() - DISCORD_EPOCH_MS).unwrap_or(0) << 22
}

/// Whether `message`, as Discord returns it, is `body` posted by the user `me`: the same
/// author, text, and first embed's title and description.
fn posted_as(message: &Value, me: &str, body: &Value) -> bool {
    let text = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let embed = |v: &Value| v.pointer("/embeds/0").cloned().unwrap_or(Value::Null);
    let (mine, sent) = (embed(message), embed(body));
    message.pointer("/author/id").and_then(Value::as_str) == Some(me)
        && text(message, "content") == text(body, "content")
        && text(&mine, "title") == text(&sent, "title")
        && text(&mine, "description") == text(&sent, "description")
}

pub struct Dispatcher {
    store: Store,
    board: SharedBoard,
    rest: Rest,
    presentation: Presentation,
    metrics: Metrics,
    health: DiscordHealth,
    config: DispatchConfig,
    chart: Option<ChartFn>,
    limiter: DefaultDirectRateLimiter,
    /// No request before this instant (a global 429).
    global_pause: Mutex<Option<Instant>>,
    /// What is known of each route's bucket.
    buckets: Mutex<HashMap<String, RouteBucket>>,
    busy: Mutex<HashSet<String>>,
    /// The most recent charts, by (constituency, version).
    charts: Mutex<VecDeque<(ChartKey, ChartCell)>>,
}

/// A chart: PNG bytes shared between the channels that receive it.
type Png = Arc<Vec<u8>>;
/// Which event a chart draws: (constituency, version).
type ChartKey = (String, u32);
/// A chart being drawn or drawn (None if it could not be).
type ChartCell = Arc<tokio::sync::OnceCell<Option<Png>>>;

/// How many recent charts are kept for the channels still to receive them.
const CHART_CACHE: usize = 64;

/// Discord's allowance for messages in one channel: 5 per 5 s. Learned from the headers
/// while running; assumed for the windows still open when herald restarts.
const CHANNEL_ALLOWANCE: u32 = 5;
const CHANNEL_WINDOW: Duration = Duration::from_secs(5);

/// Added to every reset Discord reports: its `X-RateLimit-Reset-After` is rounded to the
/// millisecond, and a request that arrives a hair early is refused.
const RESET_MARGIN: Duration = Duration::from_millis(5);

/// What herald knows of one route's rate-limit bucket: the remaining count Discord last
/// reported, less the requests sent since (a 5xx reply carries no headers but may still have
/// counted), and any wait a 429 imposed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct RouteBucket {
    remaining: Option<u32>,
    reset_at: Option<Instant>,
    blocked_until: Option<Instant>,
}

impl RouteBucket {
    /// When the next request may go, if not now.
    fn wait_until(&self, now: Instant) -> Option<Instant> {
        let exhausted = match (self.remaining, self.reset_at) {
            (Some(0), Some(reset)) if reset > now => Some(reset),
            _ => None,
        };
        exhausted.max(self.blocked_until.filter(|t| *t > now))
    }

    /// Counts a request about to be sent. Once the window has passed nothing is known.
    fn spend(&mut self, now: Instant) {
        match self.reset_at {
            Some(reset) if reset > now => {
                self.remaining = self.remaining.map(|n| n.saturating_sub(1))
            }
            _ => {
                self.remaining = None;
                self.reset_at = None;
            }
        }
    }

    /// Takes what a reply's headers say; a reply without them changes nothing.
    fn learn(&mut self, now: Instant, bucket: &Bucket) {
        if let (Some(remaining), Some(after)) = (bucket.remaining, bucket.reset_after) {
            self.remaining = Some(remaining);
            self.reset_at = Some(now + after + RESET_MARGIN);
        }
    }
}

/// What to do with a channel after one step.
enum Next {
    Continue,
    /// Stop draining this channel for now (a retry is scheduled, or it was paused).
    Stop,
}

enum Sent {
    Ok(String),
    Stop,
    /// The message to edit is gone.
    NoMessage,
    /// Discord refused the request; the row is given up.
    Refused,
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
        let rate = NonZeroU32::new(config.global_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        // No burst: any one-second window sees at most rate + 1 announcement requests, which
        // leaves room under Discord's limit for the bot's own calls.
        let burst = NonZeroU32::MIN;
        Arc::new(Dispatcher {
            store,
            board,
            rest,
            presentation,
            metrics,
            health,
            config,
            chart,
            limiter: RateLimiter::direct(Quota::per_second(rate).allow_burst(burst)),
            global_pause: Mutex::new(None),
            buckets: Mutex::new(HashMap::new()),
            busy: Mutex::new(HashSet::new()),
            charts: Mutex::new(VecDeque::new()),
        })
    }

    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Carries the channels' rate-limit windows over a restart: a channel that received
    /// messages in the last few seconds before herald stopped starts with what is left of
    /// Discord's per-channel allowance (5 messages per 5 s), not with a full one.
    async fn seed_buckets(&self) {
        let now = Utc::now();
        let window = chrono::Duration::from_std(CHANNEL_WINDOW).unwrap_or_default();
        // Twice the window back: a row claimed then may have been sent up to a window later.
        let recent = match self
            .store
            .recent_posts(DISCORD, now - window - window)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("could not read the last posts before the restart: {e}");
                return;
            }
        };
        let mut buckets = Self::lock(&self.buckets);
        for r in recent {
            let age = (now - r.last).to_std().unwrap_or_default();
            let open_for = if r.in_flight {
                CHANNEL_WINDOW * 2
            } else {
                CHANNEL_WINDOW
            };
            let Some(left) = open_for.checked_sub(age) else {
                continue;
            };
            buckets.insert(
                format!("POST {}", r.target),
                RouteBucket {
                    remaining: Some(CHANNEL_ALLOWANCE.saturating_sub(r.posted)),
                    reset_at: Some(Instant::now() + left + RESET_MARGIN),
                    blocked_until: None,
                },
            );
        }
    }

    /// Drains the outbox whenever the watcher records events, until `shutdown`. A free slot
    /// goes to the most urgent due channel (retries first, then the oldest announcement).
    /// The list of due channels is a scan of every pending row, so it is asked for again
    /// when new events arrive or it is a second old, not each time a channel finishes: a
    /// retry waits at most that second for a slot, never for every other channel's backlog.
    pub async fn run(self: Arc<Self>, wake: Wake, mut shutdown: watch::Receiver<bool>) {
        const REFRESH: Duration = Duration::from_secs(1);
        self.seed_buckets().await;
        let mut woken = wake.subscribe();
        let permits = Arc::new(Semaphore::new(self.config.concurrency.max(1)));
        let freed = Arc::new(Notify::new());
        let mut due: VecDeque<String> = VecDeque::new();
        let mut fetched: Option<Instant> = None;
        let mut news = true;
        let mut last_depth: Option<Instant> = None;
        let mut probed: Option<Instant> = None;
        loop {
            if *shutdown.borrow() {
                break;
            }
            // Nothing is sent while the store cannot record it, or while Discord refuses
            // the token (each says why in /healthz); nothing is given up for either.
            let store_ok = self.store.fault().is_none();
            let token_ok = self.health.token_refused().is_none();
            if !token_ok && probed.is_none_or(|t| t.elapsed() >= self.config.token_probe) {
                probed = Some(Instant::now());
                match self.rest.check_token().await {
                    Ok(()) => self.health.token_accepted(),
                    Err(Outcome::Unauthorized(_)) => {}
                    Err(other) => {
                        tracing::warn!("could not ask Discord about the token: {other:?}")
                    }
                }
            }
            if store_ok && token_ok && permits.available_permits() > 0 {
                if news || fetched.is_none_or(|t| t.elapsed() >= REFRESH) {
                    match self.store.targets_due(DISCORD, Utc::now()).await {
                        Ok(channels) => due = channels.into(),
                        Err(e) => tracing::error!("dispatch: {e}"),
                    }
                    fetched = Some(Instant::now());
                    news = false;
                }
                while let Some(channel) = due.pop_front() {
                    if Self::lock(&self.busy).contains(&channel) {
                        continue;
                    }
                    let Ok(permit) = permits.clone().try_acquire_owned() else {
                        due.push_front(channel);
                        break;
                    };
                    Self::lock(&self.busy).insert(channel.clone());
                    let (me, freed) = (self.clone(), freed.clone());
                    tokio::spawn(async move {
                        if let Err(e) = me.drain(&channel).await {
                            tracing::error!(channel, "dispatch: {e}");
                        }
                        Self::lock(&me.busy).remove(&channel);
                        drop(permit);
                        freed.notify_one();
                    });
                }
            }
            // The depth is a count over every pending row: once a second is enough.
            if last_depth.is_none_or(|t| t.elapsed() >= REFRESH) {
                last_depth = Some(Instant::now());
                if let Ok(depth) = self.store.depth(DISCORD).await {
                    self.metrics
                        .outbox_depth
                        .get_or_create(&Metrics::sink(DISCORD))
                        .set(depth);
                }
            }
            tokio::select! {
                _ = woken.changed() => news = true,
                _ = freed.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Sends one channel's announcements in order until it is empty or must wait.
    pub async fn drain(&self, channel: &str) -> Result<(), StoreError> {
        // Enough rows to see whether the channel is behind and to fill one digest.
        let window = (self.config.digest_max.max(self.config.digest_after) + 1) as i64;
        let Some(sub) = self.store.subscription(channel).await? else {
            self.store
                .fail_target(DISCORD, channel, "unsubscribed")
                .await?;
            return Ok(());
        };
        if sub.paused_reason.is_some() {
            self.store
                .fail_target(DISCORD, channel, "channel paused")
                .await?;
            return Ok(());
        }
        loop {
            if self.health.token_refused().is_some() || self.store.fault().is_some() {
                return Ok(());
            }
            let rows = self.store.undelivered_for(DISCORD, channel, window).await?;
            let Some(head) = rows.first() else {
                return Ok(());
            };
            if head.next_attempt_at > Utc::now() {
                return Ok(());
            }
            // A digest claimed before a crash (or a failed send) is sent again as it was.
            if let Some(dk) = &head.digest_key {
                let group: Vec<OutboxItem> = rows
                    .iter()
                    .filter(|r| r.digest_key.as_deref() == Some(dk))
                    .cloned()
                    .collect();
                match self.send_digest(channel, dk, &group).await? {
                    Next::Continue => continue,
                    Next::Stop => return Ok(()),
                }
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
            let digest = match sub.mode {
                Mode::Digest => !mergeable.is_empty(),
                Mode::Every => behind && mergeable.len() > 1,
            };
            let next = if digest {
                let dk = format!("digest:{channel}:{}", mergeable[0].seq);
                let keys: Vec<String> = mergeable.iter().map(|r| r.key.clone()).collect();
                self.store.claim_digest(&keys, &dk).await?;
                let group: Vec<OutboxItem> = mergeable
                    .into_iter()
                    .map(|mut r| {
                        r.digest_key = Some(dk.clone());
                        r
                    })
                    .collect();
                self.send_digest(channel, &dk, &group).await?
            } else {
                self.send_one(channel, head).await?
            };
            if let Next::Stop = next {
                return Ok(());
            }
        }
    }

    /// Waits for the global limiter, any global pause and the route's bucket, then counts
    /// the request against the bucket.
    async fn pace(&self, route: &str) {
        loop {
            let wait = {
                let now = Instant::now();
                let global = Self::lock(&self.global_pause).filter(|t| *t > now);
                let bucket = Self::lock(&self.buckets)
                    .get(route)
                    .and_then(|b| b.wait_until(now));
                global.max(bucket).map(|t| t - now)
            };
            match wait {
                Some(d) => tokio::time::sleep(d).await,
                None => break,
            }
        }
        self.limiter.until_ready().await;
        Self::lock(&self.buckets)
            .entry(route.to_string())
            .or_default()
            .spend(Instant::now());
    }

    fn learn(&self, route: &str, bucket: &Bucket) {
        Self::lock(&self.buckets)
            .entry(route.to_string())
            .or_default()
            .learn(Instant::now(), bucket);
    }

    fn backoff(&self, attempts: u32) -> chrono::Duration {
        let base = Duration::from_millis(500).saturating_mul(2u32.saturating_pow(attempts.min(12)));
        let jitter: f64 = rand::random_range(0.5..1.5);
        let d = base.mul_f64(jitter).min(self.config.max_backoff);
        chrono::Duration::from_std(d).unwrap_or(chrono::Duration::seconds(1))
    }

    /// Remembers a 429: the route (or, if global, every route) waits `retry_after`.
    fn rate_limited(&self, route: &str, retry_after: Duration, global: bool, scope: String) {
        self.metrics
            .rate_limited
            .get_or_create(&ScopeLabel { scope })
            .inc();
        let until = Instant::now() + retry_after;
        if global {
            *Self::lock(&self.global_pause) = Some(until);
        } else {
            Self::lock(&self.buckets)
                .entry(route.to_string())
                .or_default()
                .blocked_until = Some(until);
        }
    }

    /// A call to Discord, paced and retried through rate limits: `call` makes one attempt;
    /// any other failure is the caller's.
    async fn paced<T, F, Fut>(&self, route: &str, call: F) -> Result<T, Outcome>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = (Result<T, Outcome>, Bucket)>,
    {
        loop {
            self.pace(route).await;
            let (answer, bucket) = call().await;
            self.learn(route, &bucket);
            match answer {
                Err(Outcome::RateLimited {
                    retry_after,
                    global,
                    scope,
                }) => self.rate_limited(route, retry_after, global, scope),
                other => return other,
            }
        }
    }

    /// Edits a message, retried through rate limits; other failures are the caller's.
    async fn edit(&self, channel: &str, message: &str, body: &Value, files: &[File]) -> Outcome {
        let route = format!("PATCH {channel}");
        let answer = self
            .paced(&route, || async {
                match self.rest.edit_message(channel, message, body, files).await {
                    (limited @ Outcome::RateLimited { .. }, bucket) => (Err(limited), bucket),
                    (other, bucket) => (Ok(other), bucket),
                }
            })
            .await;
        match answer {
            Ok(outcome) | Err(outcome) => outcome,
        }
    }

    /// Whether a send first tried at `tried` is older than Discord's memory of its nonce.
    fn beyond_nonce(&self, tried: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        tried.filter(|t| {
            (Utc::now() - *t)
                .to_std()
                .is_ok_and(|age| age > self.config.nonce_trust)
        })
    }

    /// Creates a message, retried through rate limits. A send first tried (at `tried`)
    /// longer ago than Discord remembers nonces may have created its message unseen (the
    /// reply lost, or herald killed before recording it): that message is looked for in the
    /// channel first, and not posted twice. The age is judged at the moment of sending,
    /// after any wait for the limits.
    async fn create(
        &self,
        channel: &str,
        tried: Option<DateTime<Utc>>,
        body: &Value,
        files: &[File],
    ) -> Outcome {
        let route = format!("POST {channel}");
        let mut looked = false;
        loop {
            if !looked && let Some(since) = self.beyond_nonce(tried) {
                match self.find_posted(channel, since, body).await {
                    Ok(Some(message_id)) => {
                        tracing::info!(
                            channel,
                            message_id,
                            "an earlier send had reached the channel: not sent again"
                        );
                        return Outcome::Ok { message_id };
                    }
                    Ok(None) => looked = true,
                    Err(outcome) => return outcome,
                }
            }
            self.pace(&route).await;
            if !looked && self.beyond_nonce(tried).is_some() {
                // The wait outlived the nonce: look in the channel first.
                continue;
            }
            let (outcome, bucket) = self.rest.create_message(channel, body, files).await;
            self.learn(&route, &bucket);
            match outcome {
                Outcome::RateLimited {
                    retry_after,
                    global,
                    scope,
                } => self.rate_limited(&route, retry_after, global, scope),
                other => return other,
            }
        }
    }

    /// The id of a message herald posted in `channel` since a little before `since` that
    /// says what `body` says, if there is one among the first hundred.
    async fn find_posted(
        &self,
        channel: &str,
        since: DateTime<Utc>,
        body: &Value,
    ) -> Result<Option<String>, Outcome> {
        let me = self.rest.my_id().await?;
        // A minute's leeway: herald's clock and Discord's may differ.
        let after = snowflake_at(since - chrono::Duration::seconds(60));
        let route = format!("GET {channel}");
        let list = self
            .paced(&route, || self.rest.messages_after(channel, after, 100))
            .await?;
        Ok(list
            .iter()
            .find(|m| posted_as(m, &me, body))
            .and_then(|m| m.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string))
    }

    /// Handles an outcome that is not a success for a row (or digest): retries later,
    /// pauses the channel, or gives the row up.
    async fn failed(
        &self,
        channel: &str,
        item: &OutboxItem,
        outcome: Outcome,
    ) -> Result<Sent, StoreError> {
        match outcome {
            Outcome::Ok { message_id } => Ok(Sent::Ok(message_id)),
            Outcome::UnknownMessage => Ok(Sent::NoMessage),
            Outcome::Unauthorized(why) => {
                // Not the message's fault: it goes back to wait, with every other one.
                self.health.refuse_token(&format!("401 {why}"));
                match &item.digest_key {
                    Some(dk) => self.store.retry_digest(dk, Utc::now(), &why).await?,
                    None => self.store.mark_retry(&item.key, Utc::now(), &why).await?,
                }
                Ok(Sent::Stop)
            }
            Outcome::Transient(e) => {
                let at = Utc::now() + self.backoff(item.attempts);
                self.metrics
                    .retried
                    .get_or_create(&Metrics::sink(DISCORD))
                    .inc();
                tracing::warn!(channel, key = %item.key, attempts = item.attempts, "send failed, will retry: {e}");
                match &item.digest_key {
                    Some(dk) => self.store.retry_digest(dk, at, &e).await?,
                    None => self.store.mark_retry(&item.key, at, &e).await?,
                }
                Ok(Sent::Stop)
            }
            Outcome::Gone {
                status,
                code,
                message,
            } => {
                let reason = format!(
                    "Discord answered {status}{}: {message}",
                    code.map(|c| format!(" ({c})")).unwrap_or_default()
                );
                if self.store.pause(channel, &reason).await? {
                    tracing::warn!(channel, "subscription paused: {reason}");
                }
                let n = self.store.fail_target(DISCORD, channel, &reason).await?;
                self.metrics
                    .failed
                    .get_or_create(&Metrics::sink(DISCORD))
                    .inc_by(n);
                Ok(Sent::Stop)
            }
            Outcome::Rejected { status, body } => {
                let reason = format!("Discord refused the request ({status}): {body}");
                tracing::error!(channel, key = %item.key, "{reason}");
                self.store.mark_failed(&item.key, &reason).await?;
                self.metrics
                    .failed
                    .get_or_create(&Metrics::sink(DISCORD))
                    .inc();
                Ok(Sent::Refused)
            }
            Outcome::RateLimited { .. } => Ok(Sent::Stop),
        }
    }

    fn message_body(
        &self,
        embed: &Embed,
        content: Option<&str>,
        nonce_key: &str,
        reply_to: Option<&str>,
        with_chart: bool,
    ) -> Value {
        let mut e = embed.clone();
        if with_chart {
            e.image = Some("chart.png".into());
        }
        let mut body = json!({
            "embeds": [embed_json(&e)],
            "allowed_mentions": no_mentions(),
            "nonce": nonce(nonce_key),
            "enforce_nonce": true,
        });
        if let Some(c) = content {
            body["content"] = json!(truncate(c, limits::CONTENT));
        }
        if let Some(m) = reply_to {
            body["message_reference"] = json!({"message_id": m, "fail_if_not_exists": false});
        }
        if with_chart {
            body["attachments"] = json!([{"id": 0, "filename": "chart.png"}]);
        }
        body
    }

    fn edit_body(&self, embed: &Embed, with_chart: bool) -> Value {
        let mut e = embed.clone();
        if with_chart {
            e.image = Some("chart.png".into());
        }
        let mut body = json!({
            "embeds": [embed_json(&e)],
            "allowed_mentions": no_mentions(),
        });
        body["attachments"] = if with_chart {
            json!([{"id": 0, "filename": "chart.png"}])
        } else {
            json!([])
        };
        body
    }

    async fn render(
        &self,
        event: &StoredEvent,
    ) -> (crate::format::announce::Announcement, Option<Png>) {
        let chart = match &self.chart {
            Some(f)
                if self.config.charts
                    && event.declaration.status
                        == crate::core::model::DeclarationStatus::Declared =>
            {
                // One drawing per event, shared by every channel it goes to: the first
                // channel draws it, the others wait for that drawing rather than repeat it.
                let key = (event.declaration.id().to_string(), event.version);
                let cell = {
                    let mut cache = Self::lock(&self.charts);
                    match cache.iter().find(|(k, _)| *k == key) {
                        Some((_, cell)) => cell.clone(),
                        None => {
                            if cache.len() >= CHART_CACHE {
                                cache.pop_front();
                            }
                            let cell = Arc::new(tokio::sync::OnceCell::new());
                            cache.push_back((key, cell.clone()));
                            cell
                        }
                    }
                };
                cell.get_or_init(|| async {
                    // Drawing takes milliseconds: off the runtime's core threads.
                    let (f, board, declaration, presentation) = (
                        f.clone(),
                        self.board.clone(),
                        event.declaration.clone(),
                        self.presentation.clone(),
                    );
                    tokio::task::spawn_blocking(move || {
                        f(&board, &declaration, &presentation).map(Arc::new)
                    })
                    .await
                    .ok()
                    .flatten()
                })
                .await
                .clone()
            }
            _ => None,
        };
        let board = self.board.read().unwrap_or_else(|p| p.into_inner());
        let style = self.presentation.style(&board);
        let figures = board.compute(&event.declaration);
        let a = announcement(
            event.kind,
            &event.declaration,
            &event.differences,
            &figures,
            None,
            board.race_at(event.seq),
            &style,
        );
        (a, chart)
    }

    async fn before(&self, event: &StoredEvent) -> Result<Option<StoredEvent>, StoreError> {
        if event.version > 1 {
            self.store
                .event(event.declaration.id().as_str(), event.version - 1)
                .await
        } else {
            Ok(None)
        }
    }

    /// Posts a milestone (one outbox row): an embed of its own, no chart, no mention.
    async fn send_milestone(
        &self,
        channel: &str,
        item: &OutboxItem,
        key: &str,
    ) -> Result<Next, StoreError> {
        let Some(m) = self.store.milestone(key).await? else {
            self.store
                .mark_failed(&item.key, "milestone missing from the store")
                .await?;
            return Ok(Next::Continue);
        };
        if !self.store.claim(&item.key).await? {
            return Ok(Next::Continue);
        }
        let embed = {
            let board = self.board.read().unwrap_or_else(|p| p.into_inner());
            let style = self.presentation.style(&board);
            crate::format::milestone::milestone_embed(&m, &board.election.name, &style)
        };
        match self.post(channel, item, &embed, None, None, &[]).await? {
            Sent::Ok(mid) => {
                self.delivered(item, &mid).await?;
                Ok(Next::Continue)
            }
            Sent::Stop => Ok(Next::Stop),
            Sent::NoMessage | Sent::Refused => Ok(Next::Continue),
        }
    }

    /// Sends one announcement (one outbox row).
    async fn send_one(&self, channel: &str, item: &OutboxItem) -> Result<Next, StoreError> {
        if let Some(key) = crate::store::milestones::key_of(&item.constituency_id) {
            return self.send_milestone(channel, item, key).await;
        }
        let Some(event) = self
            .store
            .event(&item.constituency_id, item.version)
            .await?
        else {
            self.store
                .mark_failed(&item.key, "event missing from the store")
                .await?;
            return Ok(Next::Continue);
        };
        if !self.store.claim(&item.key).await? {
            return Ok(Next::Continue);
        }
        let (mut a, chart) = self.render(&event).await;
        if event.kind == EventKind::Corrected {
            // The correction note compares with the version it replaced.
            if let Some(prev) = self.before(&event).await? {
                let board = self.board.read().unwrap_or_else(|p| p.into_inner());
                let style = self.presentation.style(&board);
                let now = board.compute(&event.declaration);
                let then = board.compute(&prev.declaration);
                a = announcement(
                    event.kind,
                    &event.declaration,
                    &event.differences,
                    &now,
                    Some(&then),
                    board.race_at(event.seq),
                    &style,
                );
            }
        }
        let files: Vec<File> = chart
            .iter()
            .map(|b| File {
                name: "chart.png".into(),
                bytes: b.to_vec(),
            })
            .collect();
        let with_chart = !files.is_empty();
        let original = match event.kind {
            EventKind::Completed | EventKind::Corrected | EventKind::Retracted => {
                self.store
                    .original_post(DISCORD, channel, &item.constituency_id)
                    .await?
            }
            _ => None,
        };

        let sent = match (event.kind, original) {
            // The seat's own message: edit it in place.
            (EventKind::Completed, Some((mid, OutboxState::Sent))) => {
                let outcome = self
                    .edit(channel, &mid, &self.edit_body(&a.embed, with_chart), &files)
                    .await;
                match self.failed(channel, item, outcome).await? {
                    Sent::Ok(_) => Sent::Ok(mid),
                    Sent::NoMessage => {
                        self.post(channel, item, &a.embed, a.note.as_deref(), None, &files)
                            .await?
                    }
                    other => other,
                }
            }
            (EventKind::Corrected | EventKind::Retracted, Some((mid, state))) => {
                let mut reply_to = Some(mid.clone());
                if state == OutboxState::Sent {
                    let outcome = self
                        .edit(channel, &mid, &self.edit_body(&a.embed, with_chart), &files)
                        .await;
                    match self.failed(channel, item, outcome).await? {
                        Sent::Ok(_) => {}
                        Sent::NoMessage => reply_to = None,
                        Sent::Stop => return Ok(Next::Stop),
                        Sent::Refused => return Ok(Next::Continue),
                    }
                }
                // The short note replying to the original (with the result itself when
                // the original was a digest, or is gone).
                let note = a.note.clone().unwrap_or_default();
                if state == OutboxState::Sent && reply_to.is_some() {
                    self.post_note(channel, item, &note, reply_to.as_deref())
                        .await?
                } else {
                    self.post(
                        channel,
                        item,
                        &a.embed,
                        Some(&note),
                        reply_to.as_deref(),
                        &files,
                    )
                    .await?
                }
            }
            _ => {
                // A gain pings the role the channel's admin chose, and nobody else.
                let role = self.gain_ping(channel, &event).await?;
                let content = match (&role, a.note.as_deref()) {
                    (Some(r), Some(n)) => Some(format!("<@&{r}> {n}")),
                    (Some(r), None) => Some(format!("<@&{r}>")),
                    (None, n) => n.map(String::from),
                };
                self.post_pinging(
                    channel,
                    item,
                    &a.embed,
                    content.as_deref(),
                    role.as_deref(),
                    &files,
                )
                .await?
            }
        };
        match sent {
            Sent::Ok(mid) => {
                self.delivered(item, &mid).await?;
                let lag = (Utc::now() - event.seen_at).num_milliseconds().max(0) as f64 / 1000.0;
                self.metrics.feed_to_post_seconds.observe(lag);
                Ok(Next::Continue)
            }
            Sent::Stop => Ok(Next::Stop),
            Sent::NoMessage | Sent::Refused => Ok(Next::Continue),
        }
    }

    /// The role to ping for `event` in `channel`: the one its subscription chose, where the
    /// event announces a seat changing hands.
    async fn gain_ping(
        &self,
        channel: &str,
        event: &StoredEvent,
    ) -> Result<Option<String>, StoreError> {
        if !matches!(event.kind, EventKind::Declared | EventKind::Called) {
            return Ok(None);
        }
        let gain = {
            let board = self.board.read().unwrap_or_else(|p| p.into_inner());
            matches!(
                board.compute(&event.declaration).outcome,
                crate::core::arithmetic::Outcome::Gain { .. }
            )
        };
        if !gain {
            return Ok(None);
        }
        Ok(self
            .store
            .subscription(channel)
            .await?
            .and_then(|s| s.mention_role))
    }

    /// [`Self::post`], allowing exactly `role` to be pinged (and nobody where None).
    async fn post_pinging(
        &self,
        channel: &str,
        item: &OutboxItem,
        embed: &Embed,
        content: Option<&str>,
        role: Option<&str>,
        files: &[File],
    ) -> Result<Sent, StoreError> {
        let mut body = self.message_body(embed, content, &item.key, None, !files.is_empty());
        if let Some(r) = role {
            body["allowed_mentions"] = json!({"parse": [], "roles": [r]});
        }
        self.send_body(channel, item, &body, files).await
    }

    async fn post(
        &self,
        channel: &str,
        item: &OutboxItem,
        embed: &Embed,
        content: Option<&str>,
        reply_to: Option<&str>,
        files: &[File],
    ) -> Result<Sent, StoreError> {
        let body = self.message_body(embed, content, &item.key, reply_to, !files.is_empty());
        self.send_body(channel, item, &body, files).await
    }

    /// Creates the message of one outbox row and takes Discord's answer.
    async fn send_body(
        &self,
        channel: &str,
        item: &OutboxItem,
        body: &Value,
        files: &[File],
    ) -> Result<Sent, StoreError> {
        let outcome = self.create(channel, item.first_tried_at, body, files).await;
        self.failed(channel, item, outcome).await
    }

    /// Marks a row delivered as message `mid` and counts it.
    async fn delivered(&self, item: &OutboxItem, mid: &str) -> Result<(), StoreError> {
        self.store.mark_sent(&item.key, Some(mid)).await?;
        self.metrics
            .sent
            .get_or_create(&Metrics::sink(DISCORD))
            .inc();
        Ok(())
    }

    async fn post_note(
        &self,
        channel: &str,
        item: &OutboxItem,
        note: &str,
        reply_to: Option<&str>,
    ) -> Result<Sent, StoreError> {
        let mut body = json!({
            "content": truncate(note, limits::CONTENT),
            "allowed_mentions": no_mentions(),
            "nonce": nonce(&format!("{}:note", item.key)),
            "enforce_nonce": true,
        });
        if let Some(m) = reply_to {
            body["message_reference"] = json!({"message_id": m, "fail_if_not_exists": false});
        }
        let outcome = self.create(channel, item.first_tried_at, &body, &[]).await;
        self.failed(channel, item, outcome).await
    }

    /// Sends a digest: the seats of `group` in one message.
    async fn send_digest(
        &self,
        channel: &str,
        digest_key: &str,
        group: &[OutboxItem],
    ) -> Result<Next, StoreError> {
        let mut lines = Vec::new();
        let mut first_seen = None;
        {
            let events = self.store.digest_events(digest_key).await?;
            let board = self.board.read().unwrap_or_else(|p| p.into_inner());
            let style = self.presentation.style(&board);
            for e in &events {
                first_seen = first_seen.min(Some(e.seen_at)).or(Some(e.seen_at));
                let f = board.compute(&e.declaration);
                let majority = f
                    .majority
                    .map(|m| format!(" · majority {}", thousands(m)))
                    .unwrap_or_default();
                let swing = f
                    .swing
                    .quote()
                    .map(|q| {
                        format!(
                            " · swing {:.1} {}→{}",
                            q.points,
                            style.short(&q.from),
                            style.short(&q.to)
                        )
                    })
                    .unwrap_or_default();
                lines.push(format!(
                    "**{}**: {}{majority}{swing}",
                    escape_markdown(&f.constituency.name),
                    escape_markdown(&headline(&f, &style)),
                ));
            }
        }
        let embed = Embed {
            title: format!("{} results", lines.len()),
            description: lines.join("\n"),
            colour: crate::core::parties::Colour::NEUTRAL,
            fields: vec![],
            footer: Some(format!(
                "Source: {} · /result NAME for the full figures",
                self.presentation.source
            )),
            timestamp: None,
            image: None,
        }
        .fit();
        let body = self.message_body(&embed, None, digest_key, None, false);
        let Some(head) = group.first() else {
            return Ok(Next::Continue);
        };
        let outcome = self.create(channel, head.first_tried_at, &body, &[]).await;
        let mut lead = head.clone();
        lead.digest_key = Some(digest_key.to_string());
        match self.failed(channel, &lead, outcome).await? {
            Sent::Ok(mid) => {
                let n = self.store.finish_digest(digest_key, &mid).await?;
                self.metrics
                    .sent
                    .get_or_create(&Metrics::sink(DISCORD))
                    .inc_by(n);
                if let Some(t) = first_seen {
                    let lag = (Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0;
                    self.metrics.feed_to_post_seconds.observe(lag);
                }
                Ok(Next::Continue)
            }
            Sent::Refused => {
                for r in group {
                    self.store
                        .mark_failed(&r.key, "digest refused by Discord")
                        .await?;
                }
                Ok(Next::Continue)
            }
            _ => Ok(Next::Stop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_fit_discords_limit_and_differ() {
        let a = nonce("discord:123456789012345678:E14000733:1");
        let b = nonce("discord:123456789012345678:E14000733:2");
        assert!(a.len() <= 25);
        assert_ne!(a, b);
        assert_eq!(a, nonce("discord:123456789012345678:E14000733:1"));
    }

    #[test]
    fn snowflakes_begin_with_their_time() {
        // The example in Discord's reference: 175928847299117063 is 2016-04-30 11:18:25.796.
        let t = DateTime::parse_from_rfc3339("2016-04-30T11:18:25.796Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(snowflake_at(t), 175928847299117063 >> 22 << 22);
        let before_epoch = DateTime::parse_from_rfc3339("2014-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(snowflake_at(before_epoch), 0);
    }

    #[test]
    fn a_posted_message_is_known_by_its_author_text_and_embed() {
        let body = json!({
            "embeds": [{"title": "Hartlepool: Con GAIN from Lab", "description": "Jill Mortimer wins", "footer": {"text": "a"}}],
            "nonce": "h1", "enforce_nonce": true,
        });
        let message = |author: &str, title: &str, description: &str, content: Option<&str>| {
            let mut m = json!({
                "id": "9", "author": {"id": author, "bot": true},
                "embeds": [{"type": "rich", "title": title, "description": description, "footer": {"text": "b"}}],
            });
            if let Some(c) = content {
                m["content"] = json!(c);
            }
            m
        };
        let me = "42";
        assert!(posted_as(
            &message(
                me,
                "Hartlepool: Con GAIN from Lab",
                "Jill Mortimer wins",
                None
            ),
            me,
            &body
        ));
        assert!(posted_as(
            &message(
                me,
                "Hartlepool: Con GAIN from Lab",
                "Jill Mortimer wins",
                Some("")
            ),
            me,
            &body
        ));
        assert!(
            !posted_as(
                &message(
                    "7",
                    "Hartlepool: Con GAIN from Lab",
                    "Jill Mortimer wins",
                    None
                ),
                me,
                &body
            ),
            "someone else's"
        );
        assert!(!posted_as(
            &message(me, "Hartlepool: Lab HOLD", "Jill Mortimer wins", None),
            me,
            &body
        ));
        assert!(!posted_as(
            &message(me, "Hartlepool: Con GAIN from Lab", "another seat", None),
            me,
            &body
        ));
        assert!(!posted_as(
            &message(
                me,
                "Hartlepool: Con GAIN from Lab",
                "Jill Mortimer wins",
                Some("Correction")
            ),
            me,
            &body
        ));
        let note =
            json!({"content": "Retraction: the declaration for Hartlepool has been withdrawn"});
        assert!(posted_as(
            &json!({"author": {"id": me}, "content": "Retraction: the declaration for Hartlepool has been withdrawn", "embeds": []}),
            me,
            &note
        ));
        assert!(!posted_as(
            &json!({"author": {"id": me}, "content": "Full result for Hartlepool.", "embeds": []}),
            me,
            &note
        ));
    }

    fn reported(remaining: u32, reset_after_ms: u64) -> Bucket {
        Bucket {
            id: Some("b".into()),
            remaining: Some(remaining),
            reset_after: Some(Duration::from_millis(reset_after_ms)),
        }
    }

    #[test]
    fn a_bucket_waits_only_when_discord_said_it_is_empty() {
        let now = Instant::now();
        let mut b = RouteBucket::default();
        assert_eq!(b.wait_until(now), None, "nothing known: send");
        b.learn(now, &reported(1, 4000));
        assert_eq!(b.wait_until(now), None);
        b.learn(now, &reported(0, 4000));
        let reset = now + Duration::from_millis(4000) + RESET_MARGIN;
        assert_eq!(b.wait_until(now), Some(reset));
        assert_eq!(b.wait_until(reset), None, "the window has passed");
    }

    #[test]
    fn requests_without_headers_still_count_against_the_bucket() {
        let now = Instant::now();
        let mut b = RouteBucket::default();
        b.spend(now);
        b.learn(now, &reported(2, 5000));
        // Two sends answered by a 5xx, which carries no rate-limit headers.
        for _ in 0..2 {
            b.spend(now);
            b.learn(now, &Bucket::default());
        }
        assert_eq!(b.remaining, Some(0));
        assert!(
            b.wait_until(now).is_some(),
            "the third must wait for the reset"
        );
        // After the reset nothing is known, and the next send goes at once.
        let later = now + Duration::from_secs(6);
        assert_eq!(b.wait_until(later), None);
        b.spend(later);
        assert_eq!(b.remaining, None);
    }

    #[test]
    fn a_429_blocks_the_route_until_its_retry_after() {
        let now = Instant::now();
        let until = now + Duration::from_millis(150);
        let b = RouteBucket {
            remaining: Some(3),
            reset_at: Some(now + Duration::from_secs(5)),
            blocked_until: Some(until),
        };
        assert_eq!(b.wait_until(now), Some(until));
        assert_eq!(b.wait_until(until), None);
    }
}
