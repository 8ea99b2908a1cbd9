//! A strict fake Discord for end-to-end tests: a REST API (axum) and a gateway
//! (tokio-tungstenite) on loopback, sharing one recorded state.
//!
//! It speaks the documented API shapes closely enough that serenity 0.12.5 and poise 0.7.1
//! deserialize everything it sends, and it **rejects what the real Discord would reject**, with
//! Discord's error bodies (`50035 Invalid Form Body` with the nested `errors` object, `50006`,
//! `10003`, `10008`, `10062`, `40060`, `50001`, `50005`, …). Every REST request is recorded, so a
//! test can assert on what the bot sent, that nothing was [`FakeDiscord::rejected`], and that no
//! message would have pinged anyone ([`Message::pinged`]).
//!
//! Pointing serenity at it (the rate limiter must be off, or serenity ignores `.proxy`):
//!
//! ```ignore
//! let fake = FakeDiscord::start(FakeConfig::new(1, 2)).await;
//! let http = HttpBuilder::new(fake.token())
//!     .client(reqwest::Client::builder().no_proxy().build()?)
//!     .proxy(fake.api_base())
//!     .ratelimiter_disabled(true)
//!     .build();
//! let client = ClientBuilder::new_with_http(http, GatewayIntents::GUILDS).event_handler(h).await?;
//! ```
//!
//! Layout: [`state`] holds the shared state and the recorded types; [`rest`] routes and answers
//! REST requests (handlers in `rest/messages.rs`, `rest/commands.rs`, `rest/interactions.rs`);
//! [`validate`] holds Discord's limits and error shapes; [`mentions`] decides who a message
//! would ping; [`ratelimit`] the buckets; [`multipart`] parses uploads; [`payloads`] builds the
//! JSON objects serenity deserializes; [`gateway`] runs the websocket sessions.

mod gateway;
mod mentions;
mod multipart;
mod payloads;
mod ratelimit;
mod rest;
mod state;
mod validate;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub use state::snowflake;
#[allow(unused_imports)]
pub use state::{Attachment, Message, Outcome, Recorded, Request};
use state::{InteractionState, Original, Shared, State};

/// Discord's permission bits used by the fake's defaults.
pub mod perms {
    pub const VIEW_CHANNEL: u64 = 1 << 10;
    pub const SEND_MESSAGES: u64 = 1 << 11;
    pub const EMBED_LINKS: u64 = 1 << 14;
    pub const ATTACH_FILES: u64 = 1 << 15;
    pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
    pub const MENTION_EVERYONE: u64 = 1 << 17;
    pub const USE_APPLICATION_COMMANDS: u64 = 1 << 31;
    pub const MANAGE_GUILD: u64 = 1 << 5;
    pub const ADMINISTRATOR: u64 = 1 << 3;
    /// What an ordinary member has: view, send, history, application commands.
    pub const MEMBER: u64 = VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | USE_APPLICATION_COMMANDS
        | (1 << 6) // ADD_REACTIONS
        | (1 << 26); // CHANGE_NICKNAME
    /// What the bot is given in every guild.
    pub const BOT: u64 = MEMBER;
}

/// A guild the bot is in: its id, name, owner and text channel ids.
#[derive(Clone, Debug)]
pub struct FakeGuild {
    pub id: u64,
    pub name: String,
    pub owner_id: u64,
    /// Text channels (type 0), named `channel-1`, `channel-2`, … in this order.
    pub channels: Vec<u64>,
    /// Category channels (type 4), which hold no messages: a send there is refused with
    /// 400 50008, as Discord refuses it.
    pub categories: Vec<u64>,
}

/// Rate limits the fake enforces (when `enabled`) and reports in headers on every response.
#[derive(Clone, Debug)]
pub struct Limits {
    pub enabled: bool,
    /// Requests per second across all routes but interaction callbacks and webhooks.
    pub global_per_second: u32,
    /// `POST /channels/{id}/messages` per channel per `channel_window`.
    pub channel_messages: u32,
    pub channel_window: Duration,
    /// Every other route's bucket (per route and major parameter).
    pub route_limit: u32,
    pub route_window: Duration,
    /// Publishes (crossposts) per announcement channel per `crosspost_window`.
    pub crossposts: u32,
    pub crosspost_window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            enabled: true,
            global_per_second: 50,
            channel_messages: 5,
            channel_window: Duration::from_secs(5),
            route_limit: 50,
            route_window: Duration::from_secs(1),
            crossposts: 10,
            crosspost_window: Duration::from_secs(3600),
        }
    }
}

impl Limits {
    /// Limits reported in headers but never enforced.
    pub fn off() -> Self {
        Limits {
            enabled: false,
            ..Limits::default()
        }
    }
}

/// Injected failures, for channel-message POSTs only. Fractions are in 0..=1, drawn from a
/// seeded generator, so a run is reproducible.
#[derive(Clone, Debug)]
pub struct Faults {
    /// Answered 500 or 502 (plain text body) **without** creating the message.
    pub server_error: f64,
    /// Answered 500 or 502 **after** creating the message (what nonces are for).
    pub server_error_after_create: f64,
    /// Answered 429 (non-global, scope `shared` or `user`), after counting against the bucket.
    pub rate_limit: f64,
    /// `retry_after` of an injected 429.
    pub retry_after: Duration,
    pub seed: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            server_error: 0.0,
            server_error_after_create: 0.0,
            rate_limit: 0.0,
            retry_after: Duration::from_millis(200),
            seed: 1,
        }
    }
}

/// A token of the shape Discord issues: the bot's user id in base64, a timestamp part and
/// an HMAC part (here random), joined by dots.
pub fn bot_token(bot_user_id: u64) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let id = b64.encode(bot_user_id.to_string());
    let stamp = b64.encode(&snowflake().to_be_bytes()[2..6]);
    let mac: String = b64.encode(
        (0..28)
            .flat_map(|_| snowflake().to_le_bytes().into_iter().take(1))
            .collect::<Vec<u8>>(),
    );
    format!("{id}.{stamp}.{mac}")
}

/// Everything the fake is started with.
#[derive(Clone, Debug)]
pub struct FakeConfig {
    pub token: String,
    pub application_id: u64,
    pub bot_user_id: u64,
    pub bot_name: String,
    pub guilds: Vec<FakeGuild>,
    /// HELLO's `heartbeat_interval`. A connection that sends no heartbeat for twice this plus
    /// a second is closed (4009), as Discord closes zombied connections.
    pub heartbeat_interval_ms: u64,
    pub limits: Limits,
    pub faults: Faults,
    /// A first callback later than this after dispatch gets 404 `Unknown interaction` (10062).
    pub interaction_deadline: Duration,
    /// How long an interaction token serves webhooks (Discord: 15 minutes).
    pub token_lifetime: Duration,
    /// The per-file upload limit, also sent as `attachment_size_limit` (Discord: 25 MiB).
    pub attachment_size_limit: u32,
    /// How long `enforce_nonce` remembers a nonce (Discord: "the past few minutes").
    pub nonce_window: Duration,
}

impl FakeConfig {
    /// `guilds` guilds with `channels_per_guild` text channels each; every id is a fresh
    /// snowflake from a process-wide counter, so fakes in one test binary never share ids.
    pub fn new(guilds: usize, channels_per_guild: usize) -> Self {
        let guilds = (0..guilds)
            .map(|g| FakeGuild {
                id: snowflake(),
                name: format!("Guild {}", g + 1),
                owner_id: snowflake(),
                channels: (0..channels_per_guild).map(|_| snowflake()).collect(),
                categories: vec![snowflake()],
            })
            .collect();
        let bot_user_id = snowflake();
        FakeConfig {
            token: bot_token(bot_user_id),
            application_id: snowflake(),
            bot_user_id,
            bot_name: "herald".into(),
            guilds,
            heartbeat_interval_ms: 1000,
            limits: Limits::default(),
            faults: Faults::default(),
            interaction_deadline: Duration::from_secs(3),
            token_lifetime: Duration::from_secs(15 * 60),
            attachment_size_limit: 25 * 1024 * 1024,
            nonce_window: Duration::from_secs(5 * 60),
        }
    }
}

impl FakeConfig {
    /// [`FakeConfig::new`], with the guilds spread over `shards` gateway shards in turn (a
    /// guild's shard is `(id >> 22) % shards`, as Discord's): guild `g` is in shard
    /// `g % shards`. Ids are still fresh snowflakes (the wait for the right millisecond is a
    /// few milliseconds a guild).
    pub fn sharded(guilds: usize, channels_per_guild: usize, shards: u64) -> Self {
        let mut config = FakeConfig::new(guilds, channels_per_guild);
        let shards = shards.max(1);
        for (g, guild) in config.guilds.iter_mut().enumerate() {
            let mut id = snowflake();
            while (id >> 22) % shards != g as u64 % shards {
                std::thread::sleep(Duration::from_millis(1));
                id = snowflake();
            }
            guild.id = id;
        }
        config
    }
}

/// A guild member who invokes commands. `permissions` are the member's resolved permissions
/// in the channel, sent as `member.permissions` (a string of digits).
#[derive(Clone, Debug)]
pub struct FakeUser {
    pub id: u64,
    pub name: String,
    pub permissions: u64,
}

impl FakeUser {
    /// An ordinary member ([`perms::MEMBER`]) with a fresh id.
    pub fn new(name: &str) -> Self {
        FakeUser {
            id: snowflake(),
            name: name.into(),
            permissions: perms::MEMBER,
        }
    }

    /// A member who can manage the guild ([`perms::MEMBER`] plus `MANAGE_GUILD`).
    pub fn admin(name: &str) -> Self {
        FakeUser {
            permissions: perms::MEMBER | perms::MANAGE_GUILD,
            ..FakeUser::new(name)
        }
    }
}

/// What a channel answers to the bot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelState {
    Ok,
    /// Deleted: 404 `Unknown Channel` (10003).
    Missing,
    /// The bot cannot see it: 403 `Missing Access` (50001).
    Forbidden,
    /// The bot can see it but not send: 403 `Missing Permissions` (50013).
    NoPermission,
}

/// A dispatched interaction: what the fake sent, for looking up its responses.
#[derive(Clone, Debug)]
pub struct Interaction {
    pub id: u64,
    pub token: String,
    /// 2 command, 3 component, 4 autocomplete.
    pub kind: u8,
    pub guild_id: u64,
    pub channel_id: u64,
    pub user_id: u64,
    pub name: String,
    /// The whole `INTERACTION_CREATE` payload.
    pub payload: Value,
    /// Whether a gateway session took it (false if no client has identified for its shard).
    pub delivered: bool,
}

/// Handle to a running fake; cheap to clone.
#[derive(Clone)]
pub struct FakeDiscord {
    shared: Arc<Shared>,
}

const POLL: Duration = Duration::from_millis(5);

impl FakeDiscord {
    /// Binds the REST and gateway servers on `127.0.0.1:0` and starts serving.
    pub async fn start(config: FakeConfig) -> FakeDiscord {
        let rest_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind REST");
        let gw_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind gateway");
        let api_base = format!("http://{}", rest_listener.local_addr().unwrap());
        let ws_url = format!("ws://{}", gw_listener.local_addr().unwrap());
        let shared = Arc::new(Shared::new(config, api_base, ws_url));
        tokio::spawn(rest::serve(shared.clone(), rest_listener));
        tokio::spawn(gateway::serve(shared.clone(), gw_listener));
        FakeDiscord { shared }
    }

    /// `http://127.0.0.1:PORT`, for serenity's `HttpBuilder::proxy`; REST is under `/api/v10`.
    pub fn api_base(&self) -> String {
        self.shared.api_base.clone()
    }

    /// `ws://127.0.0.1:PORT`, what `GET /gateway` answers.
    pub fn gateway_url(&self) -> String {
        self.shared.ws_url.clone()
    }

    /// The bot token the fake accepts now.
    pub fn token(&self) -> String {
        self.shared.token()
    }

    /// Resets the bot token, as a developer does in the portal: the old token is refused
    /// from now on (REST answers 401; the live gateway session is closed with 4004,
    /// "Authentication failed", and cannot be resumed). Returns the new token.
    pub async fn reset_token(&self) -> String {
        let new = bot_token(self.shared.cfg.bot_user_id);
        self.shared.set_token(new.clone());
        self.close_gateway(4004, "Authentication failed.").await;
        new
    }

    /// Accepts `token` again (a token restored, or one supplied anew).
    pub fn accept_token(&self, token: &str) {
        self.shared.set_token(token.to_string());
    }

    pub fn config(&self) -> &FakeConfig {
        &self.shared.cfg
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// The moment the fake started: message and request times are measured from it.
    pub fn started(&self) -> Instant {
        self.shared.started
    }

    /// Waits until a client has identified (or resumed), been sent READY (or RESUMED), and is
    /// still connected.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        self.wait_for(timeout, |s| s.gw.ready_and_live()).await
    }

    /// Successful IDENTIFYs so far.
    pub fn identifies(&self) -> usize {
        self.lock().gw.identifies
    }

    /// Successful RESUMEs so far.
    pub fn resumes(&self) -> usize {
        self.lock().gw.resumes
    }

    /// Heartbeats received so far.
    pub fn heartbeats(&self) -> usize {
        self.lock().gw.heartbeats
    }

    /// The intents of the last IDENTIFY.
    pub fn intents(&self) -> Option<u64> {
        self.lock().gw.last_intents
    }

    /// Close codes the fake sent, with their reasons.
    pub fn gateway_closes(&self) -> Vec<(u16, String)> {
        self.lock().gw.closes.clone()
    }

    /// Abruptly drops the live gateway socket (no close frame), as a network failure would;
    /// the session stays resumable and dispatches meanwhile are replayed on RESUME.
    pub async fn drop_gateway(&self) {
        self.lock().gw.drop_live();
        tokio::task::yield_now().await;
    }

    /// Closes the live gateway socket with a close frame (e.g. 4000 to make the client resume,
    /// 4009 to make it identify anew).
    pub async fn close_gateway(&self, code: u16, reason: &str) {
        self.lock().gw.close_live(code, reason);
        tokio::task::yield_now().await;
    }

    /// Dispatches a chat-input command (`INTERACTION_CREATE`, type 2). `name` is the top-level
    /// command; `options` are in Discord's shape, e.g.
    /// `[{"name":"constituency","type":3,"value":"hartlepool"}]`. Waits up to 5 s for the
    /// command to be registered (in the guild or globally) and panics if it never is, or if an
    /// option is not one the registered command has: real Discord could not send it.
    pub async fn command(
        &self,
        guild: u64,
        channel: u64,
        user: FakeUser,
        name: &str,
        options: Value,
    ) -> Interaction {
        self.dispatch_command(2, guild, channel, user, name, options)
            .await
    }

    /// Dispatches an autocomplete (type 4). The option marked `"focused": true` is the one
    /// being typed; if none is marked, the last leaf option is marked. Its value is a string.
    pub async fn autocomplete(
        &self,
        guild: u64,
        channel: u64,
        user: FakeUser,
        name: &str,
        mut options: Value,
    ) -> Interaction {
        if !payloads::has_focused(&options) {
            payloads::focus_last(&mut options);
        }
        self.dispatch_command(4, guild, channel, user, name, options)
            .await
    }

    async fn dispatch_command(
        &self,
        kind: u8,
        guild: u64,
        channel: u64,
        user: FakeUser,
        name: &str,
        mut options: Value,
    ) -> Interaction {
        let focused = payloads::normalize_options(&mut options);
        let deadline = Instant::now() + Duration::from_secs(5);
        let command = loop {
            if let Some(c) = self.lock().find_command(guild, name) {
                break c;
            }
            if Instant::now() > deadline {
                panic!(
                    "fake Discord: /{name} is not registered in guild {guild} nor globally; \
                     Discord could not dispatch it"
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        if let Err(e) = payloads::check_options_against(&command, &options, kind == 4) {
            panic!("fake Discord: /{name} options do not match the registered command: {e}");
        }
        let command_id: u64 = command["id"].as_str().unwrap().parse().unwrap();
        let command_type = command["type"].as_u64().unwrap_or(1);
        let mut data = json!({
            "id": command_id.to_string(),
            "name": name,
            "type": command_type,
            "options": options,
        });
        if command.get("guild_id").is_some() {
            data["guild_id"] = json!(guild.to_string());
        }
        // Discord resolves channel options (type 7) into `resolved.channels`, as partial
        // channels with the invoking member's permissions there.
        let mut channels = serde_json::Map::new();
        let mut stack: Vec<&Value> = vec![&data["options"]];
        while let Some(v) = stack.pop() {
            for o in v.as_array().into_iter().flatten() {
                if o["type"].as_u64() == Some(7)
                    && let Some(id) = o["value"].as_str()
                {
                    let known = id.parse::<u64>().ok().and_then(|c| {
                        self.lock()
                            .channels
                            .get(&c)
                            .map(|i| (i.name.clone(), i.kind))
                    });
                    let (name, kind) = known.unwrap_or_else(|| (format!("channel-{id}"), 0));
                    channels.insert(
                        id.to_string(),
                        json!({"id": id, "name": name, "type": kind, "permissions": user.permissions.to_string()}),
                    );
                }
                stack.push(&o["options"]);
            }
        }
        if !channels.is_empty() {
            data["resolved"] = json!({ "channels": channels });
        }
        // Role options (type 8) resolve into `resolved.roles`: the role objects, including
        // @everyone (the guild's id) and the bot's managed role.
        let mut roles = serde_json::Map::new();
        let mut stack: Vec<&Value> = vec![&data["options"]];
        while let Some(v) = stack.pop() {
            for o in v.as_array().into_iter().flatten() {
                if o["type"].as_u64() == Some(8)
                    && let Some(id) = o["value"].as_str()
                {
                    let st = self.lock();
                    let role = id.parse::<u64>().ok().and_then(|r| {
                        if r == guild {
                            let mut everyone = payloads::member_role_json(r, "@everyone", true, 0);
                            everyone["mentionable"] = json!(false);
                            Some(everyone)
                        } else {
                            st.roles
                                .get(&r)
                                .filter(|(g, _)| *g == guild)
                                .map(|(_, v)| v.clone())
                        }
                    });
                    let Some(role) = role else {
                        panic!(
                            "fake Discord: /{name} names role {id}, which guild {guild} does not have: Discord offers only existing roles"
                        );
                    };
                    roles.insert(id.to_string(), role);
                }
                stack.push(&o["options"]);
            }
        }
        if !roles.is_empty() {
            data["resolved"]["roles"] = Value::Object(roles);
        }
        self.dispatch_interaction(kind, guild, channel, user, name, data, None, focused)
            .await
    }

    /// Dispatches a button press (component interaction, type 3) on a message the bot sent in
    /// `channel`; panics unless that message has a button with `custom_id`.
    pub async fn button(
        &self,
        guild: u64,
        channel: u64,
        user: FakeUser,
        message_id: u64,
        custom_id: &str,
    ) -> Interaction {
        let message = {
            let st = self.lock();
            let m = st
                .find_message(channel, message_id)
                .unwrap_or_else(|| panic!("fake Discord: no message {message_id} in {channel}"));
            if !payloads::has_button(&m.components, custom_id) {
                panic!("fake Discord: message {message_id} has no button {custom_id:?}");
            }
            payloads::message_json(&self.shared, &st, m, Some(guild))
        };
        let data = json!({"custom_id": custom_id, "component_type": 2});
        self.dispatch_interaction(
            3,
            guild,
            channel,
            user,
            custom_id,
            data,
            Some((message_id, message)),
            None,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn dispatch_interaction(
        &self,
        kind: u8,
        guild: u64,
        channel: u64,
        user: FakeUser,
        name: &str,
        data: Value,
        message: Option<(u64, Value)>,
        focused_type: Option<u64>,
    ) -> Interaction {
        let id = snowflake();
        let token = format!("aW50ZXJhY3Rpb246{id}x{:x}", self.lock().rng.next_u64());
        let interaction = {
            let mut st = self.lock();
            let ch = st.channels.get(&channel).unwrap_or_else(|| {
                panic!("fake Discord: unknown channel {channel}");
            });
            assert_eq!(
                ch.guild_id, guild,
                "fake Discord: channel {channel} is not in guild {guild}"
            );
            let payload = payloads::interaction_json(
                &self.shared,
                &st,
                id,
                &token,
                kind,
                guild,
                channel,
                &user,
                data,
                message.as_ref().map(|m| &m.1),
            );
            st.interactions.insert(
                id,
                InteractionState {
                    token: token.clone(),
                    kind,
                    guild_id: guild,
                    channel_id: channel,
                    focused_type,
                    dispatched_at: Instant::now(),
                    callback: None,
                    original: message.map(|m| Original::Channel(m.0)),
                    followups: Vec::new(),
                    last_change: Instant::now(),
                },
            );
            st.by_token.insert(token.clone(), id);
            st.user_names.insert(user.id, user.name.clone());
            let delivered = st
                .gw
                .dispatch_to_guild(guild, "INTERACTION_CREATE", payload.clone());
            Interaction {
                id,
                token,
                kind,
                guild_id: guild,
                channel_id: channel,
                user_id: user.id,
                name: name.into(),
                payload,
                delivered,
            }
        };
        tokio::task::yield_now().await;
        interaction
    }

    /// The first accepted callback to `i` (waits up to `timeout`).
    pub async fn response(&self, i: &Interaction, timeout: Duration) -> Option<Recorded> {
        let id = i.id;
        if !self
            .wait_for(timeout, |s| s.interactions[&id].callback.is_some())
            .await
        {
            return None;
        }
        self.lock().interactions[&id].callback.clone()
    }

    /// The reply to `i` as it finally reads: the original response message with every
    /// `@original` edit applied, in Discord's message shape, plus `"followups": [...]`.
    /// Waits (up to `timeout`) for a response that is no longer "thinking", then until nothing
    /// has changed for 200 ms. `None` if there is no such response (or it was deleted).
    pub async fn final_reply(&self, i: &Interaction, timeout: Duration) -> Option<Value> {
        let id = i.id;
        let start = Instant::now();
        let ready = |s: &State| {
            let it = &s.interactions[&id];
            it.settled_message(s).is_some() || !it.followups.is_empty()
        };
        if !self.wait_for(timeout, ready).await {
            return None;
        }
        loop {
            let quiet = self.lock().interactions[&id].last_change.elapsed();
            if quiet >= Duration::from_millis(200) || start.elapsed() >= timeout {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200) - quiet.min(Duration::from_millis(200)))
                .await;
        }
        let st = self.lock();
        let it = &st.interactions[&id];
        let mut v = match it.settled_message(&st) {
            Some(m) => payloads::message_json(&self.shared, &st, m, Some(it.guild_id)),
            None => json!({}),
        };
        let followups: Vec<Value> = it
            .followups
            .iter()
            .map(|m| payloads::message_json(&self.shared, &st, m, Some(it.guild_id)))
            .collect();
        v["followups"] = Value::Array(followups);
        Some(v)
    }

    /// The original response message and followups of `i`, as recorded (no waiting).
    pub fn interaction_messages(&self, i: &Interaction) -> (Option<Message>, Vec<Message>) {
        let st = self.lock();
        let it = &st.interactions[&i.id];
        (it.settled_message(&st).cloned(), it.followups.clone())
    }

    /// Channel messages (sent through the channel API, or injected with [`Self::user_message`]),
    /// oldest first. Interaction replies are read with [`Self::final_reply`].
    pub fn messages(&self, channel: u64) -> Vec<Message> {
        self.lock()
            .messages
            .get(&channel)
            .cloned()
            .unwrap_or_default()
    }

    /// Adds a message written by a user (not the bot) to `channel`, e.g. for replies and for
    /// the "cannot edit another user's message" rule; returns its id. No gateway event is sent.
    pub fn user_message(&self, channel: u64, user: &FakeUser, content: &str) -> u64 {
        let mut st = self.lock();
        assert!(st.channels.contains_key(&channel), "unknown channel");
        let id = snowflake();
        let m = Message::new(
            id,
            channel,
            user.id,
            content.into(),
            self.shared.since_start(),
        );
        st.messages.entry(channel).or_default().push(m);
        id
    }

    /// Every REST request, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.lock().requests.clone()
    }

    /// Requests answered 4xx because they broke a rule: not 429s, not injected faults, not
    /// answers caused by [`Self::set_channel_state`]. A well-behaved bot leaves this empty.
    pub fn rejected(&self) -> Vec<Request> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.outcome == Outcome::Rejected)
            .cloned()
            .collect()
    }

    /// 429s served: (global, per-route including injected ones).
    pub fn rate_limited(&self) -> (usize, usize) {
        let st = self.lock();
        (st.global_429s, st.route_429s)
    }

    /// Injected faults served: (5xx, 429).
    pub fn faults_served(&self) -> (usize, usize) {
        let st = self.lock();
        (st.fault_5xx, st.fault_429s)
    }

    /// Registered commands: global (`None`) or in a guild, in Discord's shape with ids.
    pub fn commands(&self, guild: Option<u64>) -> Vec<Value> {
        let st = self.lock();
        match guild {
            None => st.global_commands.clone(),
            Some(g) => st.guild_commands.get(&g).cloned().unwrap_or_default(),
        }
    }

    /// Adds a role to a guild, as an admin would in Server Settings (GUILD_ROLE_CREATE), and
    /// returns its id. `mentionable`: "Allow anyone to @mention this role".
    pub fn add_role(&self, guild: u64, name: &str, mentionable: bool) -> u64 {
        let mut st = self.lock();
        let id = snowflake();
        let position = 2 + st.roles.values().filter(|(g, _)| *g == guild).count() as u16;
        let role = payloads::member_role_json(id, name, mentionable, position);
        st.roles.insert(id, (guild, role.clone()));
        st.gw.dispatch_to_guild(
            guild,
            "GUILD_ROLE_CREATE",
            json!({"guild_id": guild.to_string(), "role": role}),
        );
        id
    }

    /// Adds an announcement channel (type 5) to a guild, as an admin would
    /// (CHANNEL_CREATE), and returns its id.
    pub fn add_announcement_channel(&self, guild: u64, name: &str) -> u64 {
        let mut st = self.lock();
        let id = snowflake();
        let position = st.channels.values().filter(|c| c.guild_id == guild).count();
        st.channels.insert(
            id,
            state::ChannelInfo {
                guild_id: guild,
                name: name.to_string(),
                position,
                state: ChannelState::Ok,
                kind: 5,
            },
        );
        let body = payloads::channel_json(&st, id);
        st.gw.dispatch_to_guild(guild, "CHANNEL_CREATE", body);
        id
    }

    /// The messages published from announcement channels: (channel, message), in order.
    pub fn crossposts(&self) -> Vec<(u64, u64)> {
        self.lock().crossposts.clone()
    }

    /// Makes a channel answer as deleted, forbidden, or read-only from now on.
    /// Changes what the bot may do in a channel, and tells the bot as Discord does: a
    /// CHANNEL_UPDATE with the overwrite that denies it (or a CHANNEL_DELETE).
    pub fn set_channel_state(&self, channel: u64, state: ChannelState) {
        let mut st = self.lock();
        let info = st.channels.get_mut(&channel).expect("unknown channel");
        info.state = state;
        let guild = info.guild_id;
        let (event, body) = match state {
            ChannelState::Missing => ("CHANNEL_DELETE", payloads::channel_json(&st, channel)),
            _ => ("CHANNEL_UPDATE", payloads::channel_json(&st, channel)),
        };
        st.gw.dispatch_to_guild(guild, event, body);
    }

    /// Polls `cond` until it holds or `timeout` passes.
    async fn wait_for(&self, timeout: Duration, cond: impl Fn(&State) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if cond(&self.lock()) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(POLL).await;
        }
    }
}
