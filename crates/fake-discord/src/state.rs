//! The fake's shared state and the types tests read back: recorded requests, messages,
//! attachments and interaction callbacks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::gateway::GatewayState;
use super::ratelimit::Limiter;
use super::{ChannelState, FakeConfig};

/// Milliseconds from the Unix epoch to Discord's epoch (2015-01-01).
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;
static LAST_SNOWFLAKE: AtomicU64 = AtomicU64::new(0);

/// A fresh snowflake: the current time in its top bits, strictly increasing in this process.
pub fn snowflake() -> u64 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let candidate = (ms - DISCORD_EPOCH_MS) << 22;
    let prev = LAST_SNOWFLAKE
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
            Some(candidate.max(last + 1))
        })
        .unwrap();
    candidate.max(prev + 1)
}

/// A small seeded generator (SplitMix64) for faults, tokens and session ids.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// How a recorded request was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Ok,
    /// 4xx because the request broke one of Discord's rules.
    Rejected,
    /// 429 from a bucket (global or per-route).
    RateLimited,
    /// An injected fault: a 5xx or a 429 from [`super::Faults`].
    Fault,
    /// An error caused by [`super::FakeDiscord::set_channel_state`].
    Injected,
}

/// One REST request as the fake saw and answered it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// The path as sent, e.g. `/api/v10/channels/1/messages`.
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    /// The JSON body, or a multipart request's `payload_json`.
    pub body: Option<Value>,
    /// Files of a multipart request.
    pub files: Vec<Attachment>,
    /// The JSON the fake answered with (errors and successes alike), if any.
    pub response: Option<Value>,
    pub outcome: Outcome,
    /// Arrival time since the fake started.
    pub at: Duration,
}

/// An uploaded file, as stored on a message (with its bytes).
#[derive(Clone, Debug)]
pub struct Attachment {
    pub id: u64,
    pub filename: String,
    pub size: usize,
    pub content_type: Option<String>,
    pub description: Option<String>,
    pub data: Bytes,
}

/// A message as the fake stores it (the bot's, an interaction reply, or a user's).
#[derive(Clone, Debug)]
pub struct Message {
    pub id: u64,
    pub channel_id: u64,
    pub author_id: u64,
    pub content: String,
    /// Embeds as sent (the answer adds `type: rich` and resolves `attachment://` URLs).
    pub embeds: Vec<Value>,
    pub attachments: Vec<Attachment>,
    pub components: Vec<Value>,
    pub flags: u64,
    pub tts: bool,
    pub nonce: Option<Value>,
    pub message_reference: Option<Value>,
    /// 0 default, 19 reply, 20 chat-input command reply.
    pub kind: u8,
    /// Successful edits (PATCHes, `@original` edits, type-7 updates).
    pub edits: usize,
    /// `allowed_mentions` exactly as last sent (on create or on an edit carrying content).
    pub allowed_mentions: Option<Value>,
    /// Who the message would ping under Discord's rules, accumulated over its create and
    /// edits: `@everyone`, `@here`, `user:ID`, `role:ID`, `reply:ID`. Tests assert it is empty.
    pub pinged: Vec<String>,
    pub created_at: Duration,
    pub edited_at: Option<Duration>,
    /// A deferred reply still "thinking" (callback type 5, not yet edited).
    pub loading: bool,
    /// Sent through an interaction (a reply or followup), so it carries `webhook_id`.
    pub webhook: bool,
}

impl Message {
    pub fn new(id: u64, channel_id: u64, author_id: u64, content: String, at: Duration) -> Self {
        Message {
            id,
            channel_id,
            author_id,
            content,
            embeds: Vec::new(),
            attachments: Vec::new(),
            components: Vec::new(),
            flags: 0,
            tts: false,
            nonce: None,
            message_reference: None,
            kind: 0,
            edits: 0,
            allowed_mentions: None,
            pinged: Vec::new(),
            created_at: at,
            edited_at: None,
            loading: false,
            webhook: false,
        }
    }

    /// Discord's "empty message" test: no content, embeds, attachments, components, stickers.
    pub fn is_empty(&self) -> bool {
        self.content.trim().is_empty()
            && self.embeds.is_empty()
            && self.attachments.is_empty()
            && self.components.is_empty()
    }
}

/// The first accepted callback to an interaction.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Callback type: 1 pong, 4 message, 5 deferred, 6 deferred update, 7 update,
    /// 8 autocomplete result, 9 modal.
    pub kind: u8,
    /// The callback's `data` (`null` when absent).
    pub data: Value,
    /// Time from dispatch to the callback's arrival.
    pub elapsed: Duration,
    pub files: Vec<Attachment>,
}

/// A channel the bot can see (or could, before [`ChannelState`] changed).
pub struct ChannelInfo {
    pub guild_id: u64,
    pub name: String,
    pub position: usize,
    pub state: ChannelState,
    /// Discord's channel type: 0 text, 4 category, 5 announcement.
    pub kind: u8,
}

/// What `@original` of an interaction refers to.
pub enum Original {
    /// The reply the bot created with a type 4 or 5 callback.
    Own(Box<Message>),
    /// The channel message a component was on (types 6 and 7 edit it).
    Channel(u64),
    Deleted,
}

/// A dispatched interaction and everything the bot answered to it.
pub struct InteractionState {
    pub token: String,
    pub kind: u8,
    pub guild_id: u64,
    pub channel_id: u64,
    /// The type of the focused option (autocomplete).
    pub focused_type: Option<u64>,
    pub dispatched_at: Instant,
    pub callback: Option<Recorded>,
    pub original: Option<Original>,
    pub followups: Vec<Message>,
    pub last_change: Instant,
}

impl InteractionState {
    /// The reply as it reads now, once answered and no longer "thinking".
    pub fn settled_message<'a>(&'a self, st: &'a State) -> Option<&'a Message> {
        let cb = self.callback.as_ref()?;
        match (&self.original, cb.kind) {
            (Some(Original::Own(m)), _) if !m.loading => Some(&**m),
            (Some(Original::Channel(id)), 6 | 7) => st.find_message(self.channel_id, *id),
            _ => None,
        }
    }
}

/// Everything behind the fake's one lock. Held only for short, non-async sections.
pub struct State {
    pub channels: HashMap<u64, ChannelInfo>,
    /// Messages published from announcement channels (crossposted), in order.
    pub crossposts: Vec<(u64, u64)>,
    /// Messages per channel, oldest first.
    pub messages: HashMap<u64, Vec<Message>>,
    /// (channel, author, nonce) → (message id, when).
    pub nonces: HashMap<(u64, u64, String), (u64, Instant)>,
    pub global_commands: Vec<Value>,
    pub guild_commands: HashMap<u64, Vec<Value>>,
    /// Command creations per guild (0 for global), for the 200-a-day limit.
    pub command_creates: HashMap<u64, Vec<Instant>>,
    pub interactions: HashMap<u64, InteractionState>,
    pub by_token: HashMap<String, u64>,
    /// Names of users seen, for `mentions` in message objects.
    pub user_names: HashMap<u64, String>,
    /// The bot's managed role in each guild.
    pub bot_roles: HashMap<u64, u64>,
    /// Roles tests added, by id: (guild, the role object).
    pub roles: HashMap<u64, (u64, Value)>,
    pub requests: Vec<Request>,
    pub limiter: Limiter,
    pub rng: Rng,
    pub global_429s: usize,
    pub route_429s: usize,
    pub fault_5xx: usize,
    pub fault_429s: usize,
    pub gw: GatewayState,
}

impl State {
    pub fn find_message(&self, channel: u64, id: u64) -> Option<&Message> {
        self.messages.get(&channel)?.iter().find(|m| m.id == id)
    }

    pub fn find_message_mut(&mut self, channel: u64, id: u64) -> Option<&mut Message> {
        self.messages
            .get_mut(&channel)?
            .iter_mut()
            .find(|m| m.id == id)
    }

    /// The chat-input command `name` registered in `guild`, else globally.
    pub fn find_command(&self, guild: u64, name: &str) -> Option<Value> {
        let matches = |c: &&Value| c["name"] == name && c["type"].as_u64().unwrap_or(1) == 1;
        self.guild_commands
            .get(&guild)
            .and_then(|cs| cs.iter().find(matches))
            .or_else(|| self.global_commands.iter().find(matches))
            .cloned()
    }
}

/// The state plus the fixed facts every part of the fake needs.
pub struct Shared {
    pub cfg: FakeConfig,
    pub api_base: String,
    pub ws_url: String,
    pub started: Instant,
    pub started_wall: DateTime<Utc>,
    /// The bot token Discord accepts now (starts as `cfg.token`; a reset replaces it).
    token: Mutex<String>,
    inner: Mutex<State>,
}

impl Shared {
    pub fn new(cfg: FakeConfig, api_base: String, ws_url: String) -> Self {
        let mut channels = HashMap::new();
        for g in &cfg.guilds {
            for (i, c) in g.channels.iter().enumerate() {
                channels.insert(
                    *c,
                    ChannelInfo {
                        guild_id: g.id,
                        name: format!("channel-{}", i + 1),
                        position: i,
                        state: ChannelState::Ok,
                        kind: 0,
                    },
                );
            }
            for (i, c) in g.categories.iter().enumerate() {
                channels.insert(
                    *c,
                    ChannelInfo {
                        guild_id: g.id,
                        name: format!("category-{}", i + 1),
                        position: i,
                        state: ChannelState::Ok,
                        kind: 4,
                    },
                );
            }
        }
        let mut user_names = HashMap::new();
        user_names.insert(cfg.bot_user_id, cfg.bot_name.clone());
        for g in &cfg.guilds {
            user_names.insert(g.owner_id, format!("owner-of-{}", g.id));
        }
        let state = State {
            channels,
            crossposts: Vec::new(),
            messages: HashMap::new(),
            nonces: HashMap::new(),
            global_commands: Vec::new(),
            guild_commands: HashMap::new(),
            command_creates: HashMap::new(),
            interactions: HashMap::new(),
            by_token: HashMap::new(),
            user_names,
            bot_roles: cfg.guilds.iter().map(|g| (g.id, snowflake())).collect(),
            roles: HashMap::new(),
            requests: Vec::new(),
            limiter: Limiter::default(),
            rng: Rng::new(cfg.faults.seed),
            global_429s: 0,
            route_429s: 0,
            fault_5xx: 0,
            fault_429s: 0,
            gw: GatewayState::default(),
        };
        Shared {
            token: Mutex::new(cfg.token.clone()),
            cfg,
            api_base,
            ws_url,
            started: Instant::now(),
            started_wall: Utc::now(),
            inner: Mutex::new(state),
        }
    }

    /// The bot token Discord accepts now.
    pub fn token(&self) -> String {
        self.token.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the accepted token (a reset in the developer portal): the old one is refused
    /// from now on.
    pub fn set_token(&self, t: String) {
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn since_start(&self) -> Duration {
        self.started.elapsed()
    }

    /// An ISO 8601 timestamp for a moment `at` after the fake started.
    pub fn timestamp(&self, at: Duration) -> String {
        let t = self.started_wall + chrono::Duration::from_std(at).unwrap();
        t.to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
    }
}
