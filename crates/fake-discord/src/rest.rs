//! The REST API under `/api/v10`: routing, authorization, rate limits, injected faults, and
//! the small handlers (gateway info, the current user and application). Channel messages,
//! application commands and interactions live in the submodules.
//!
//! Order of checks, as Discord does them: route (404 `404: Not Found`, 405), authorization
//! (401, except interaction callbacks and webhooks, which the token in the URL authorizes),
//! body syntax (50109), rate limits (429), then the handler's rules.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;

use super::multipart;
use super::payloads::{self, message_json};
use super::state::{Attachment, Message, Original, Outcome, Request, Shared, State};
use super::validate::{self, ApiError, Errs, MsgRules};

mod commands;
mod interactions;
mod messages;

/// Serves REST on `listener` forever.
pub async fn serve(shared: Arc<Shared>, listener: TcpListener) {
    let app = Router::new().fallback(handle).with_state(shared);
    let _ = axum::serve(listener, app).await;
}

enum ReplyBody {
    Json(Value),
    Text(&'static str),
    Bytes(Bytes, String),
    Empty,
}

struct Reply {
    status: u16,
    body: ReplyBody,
    headers: Vec<(String, String)>,
    outcome: Outcome,
}

impl Reply {
    fn error(e: ApiError) -> Reply {
        Reply {
            status: e.status,
            body: ReplyBody::Json(e.body),
            headers: Vec::new(),
            outcome: e.outcome,
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut builder = Response::builder().status(StatusCode::from_u16(self.status).unwrap());
        for (k, v) in &self.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let body = match self.body {
            ReplyBody::Json(v) => {
                builder = builder.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            ReplyBody::Text(t) => {
                builder = builder.header("content-type", "text/plain");
                Body::from(t)
            }
            ReplyBody::Bytes(b, ct) => {
                builder = builder.header("content-type", ct);
                Body::from(b)
            }
            ReplyBody::Empty => Body::empty(),
        };
        builder.body(body).unwrap()
    }
}

async fn handle(AxState(shared): AxState<Arc<Shared>>, req: axum::extract::Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 512 << 20).await;
    let reply = answer(
        &shared,
        &parts.method,
        &parts.uri,
        &parts.headers,
        bytes.ok(),
    );
    reply.into_response()
}

/// Answers one request and records it.
fn answer(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    bytes: Option<Bytes>,
) -> Reply {
    let mut st = shared.lock();
    let mut rec = Request {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        status: 0,
        body: None,
        files: Vec::new(),
        response: None,
        outcome: Outcome::Ok,
        at: shared.since_start(),
    };
    let reply = match bytes {
        Some(bytes) => process(shared, &mut st, &mut rec, method, uri, headers, bytes),
        None => Reply::error(validate::too_large()),
    };
    rec.status = reply.status;
    rec.outcome = reply.outcome;
    if let ReplyBody::Json(v) = &reply.body {
        rec.response = Some(v.clone());
    }
    st.requests.push(rec);
    reply
}

/// A parsed route (everything after `/api/v10/`).
enum Route {
    Gateway,
    GatewayBot,
    UserMe,
    AppMe,
    Commands {
        app: u64,
        guild: Option<u64>,
    },
    Command {
        app: u64,
        guild: Option<u64>,
        id: u64,
    },
    Channel(u64),
    ChannelMessages(u64),
    ChannelMessage(u64, u64),
    Crosspost(u64, u64),
    Callback {
        id: u64,
        token: String,
    },
    Webhook {
        app: u64,
        token: String,
    },
    WebhookMessage {
        app: u64,
        token: String,
        message: Option<u64>,
    },
}

fn snowflake_param(s: &str, name: &str) -> Result<u64, ApiError> {
    s.parse::<u64>().map_err(|_| {
        let mut errs = Errs::default();
        errs.add(
            name,
            "NUMBER_TYPE_COERCE",
            format!("Value \"{s}\" is not snowflake."),
        );
        errs.finish().unwrap_err()
    })
}

fn parse_route(segs: &[&str]) -> Result<Option<Route>, ApiError> {
    let id = snowflake_param;
    Ok(Some(match segs {
        ["gateway"] => Route::Gateway,
        ["gateway", "bot"] => Route::GatewayBot,
        ["users", "@me"] => Route::UserMe,
        ["oauth2", "applications", "@me"] => Route::AppMe,
        ["applications", app, "commands"] => Route::Commands {
            app: id(app, "application_id")?,
            guild: None,
        },
        ["applications", app, "commands", c] if *c != "permissions" => Route::Command {
            app: id(app, "application_id")?,
            guild: None,
            id: id(c, "command_id")?,
        },
        ["applications", app, "guilds", g, "commands"] => Route::Commands {
            app: id(app, "application_id")?,
            guild: Some(id(g, "guild_id")?),
        },
        ["applications", app, "guilds", g, "commands", c] if *c != "permissions" => {
            Route::Command {
                app: id(app, "application_id")?,
                guild: Some(id(g, "guild_id")?),
                id: id(c, "command_id")?,
            }
        }
        ["channels", c] => Route::Channel(id(c, "channel_id")?),
        ["channels", c, "messages"] => Route::ChannelMessages(id(c, "channel_id")?),
        ["channels", c, "messages", m] => {
            Route::ChannelMessage(id(c, "channel_id")?, id(m, "message_id")?)
        }
        ["channels", c, "messages", m, "crosspost"] => {
            Route::Crosspost(id(c, "channel_id")?, id(m, "message_id")?)
        }
        ["interactions", i, token, "callback"] => Route::Callback {
            id: id(i, "interaction_id")?,
            token: token.to_string(),
        },
        ["webhooks", app, token] => Route::Webhook {
            app: id(app, "webhook_id")?,
            token: token.to_string(),
        },
        ["webhooks", app, token, "messages", m] => Route::WebhookMessage {
            app: id(app, "webhook_id")?,
            token: token.to_string(),
            message: if *m == "@original" {
                None
            } else {
                Some(id(m, "message_id")?)
            },
        },
        _ => return Ok(None),
    }))
}

impl Route {
    /// The methods the route serves (others: 405).
    fn methods(&self) -> &'static [Method] {
        match self {
            Route::Gateway
            | Route::GatewayBot
            | Route::UserMe
            | Route::AppMe
            | Route::Channel(_) => &[Method::GET],
            Route::Commands { .. } => &[Method::GET, Method::PUT, Method::POST],
            Route::Command { .. } | Route::ChannelMessage(..) | Route::WebhookMessage { .. } => {
                &[Method::GET, Method::PATCH, Method::DELETE]
            }
            Route::ChannelMessages(_) => &[Method::GET, Method::POST],
            Route::Callback { .. } | Route::Webhook { .. } | Route::Crosspost(..) => {
                &[Method::POST]
            }
        }
    }

    /// Interaction callbacks and webhooks: authorized by their token, outside the global limit.
    fn token_route(&self) -> bool {
        matches!(
            self,
            Route::Callback { .. } | Route::Webhook { .. } | Route::WebhookMessage { .. }
        )
    }

    /// The bucket: key (route template and major parameter), limit and window.
    fn bucket(&self, method: &Method, limits: &super::Limits) -> (String, u32, Duration) {
        let (template, major) = match self {
            Route::Gateway => ("/gateway", String::new()),
            Route::GatewayBot => ("/gateway/bot", String::new()),
            Route::UserMe => ("/users/@me", String::new()),
            Route::AppMe => ("/oauth2/applications/@me", String::new()),
            Route::Commands { guild, .. } | Route::Command { guild, .. } => {
                ("/applications/{app}/commands", format!("{guild:?}"))
            }
            Route::Channel(c) => ("/channels/{c}", c.to_string()),
            Route::ChannelMessages(c) if method == Method::POST => {
                return (
                    format!("POST /channels/{{c}}/messages {c}"),
                    limits.channel_messages,
                    limits.channel_window,
                );
            }
            Route::ChannelMessages(c) => ("/channels/{c}/messages", c.to_string()),
            Route::ChannelMessage(c, _) => ("/channels/{c}/messages/{m}", c.to_string()),
            // Discord publishes about ten messages a channel an hour.
            Route::Crosspost(c, _) => {
                return (
                    format!("POST /channels/{{c}}/messages/{{m}}/crosspost {c}"),
                    limits.crossposts,
                    limits.crosspost_window,
                );
            }
            Route::Callback { id, .. } => ("/interactions/{i}/{t}/callback", id.to_string()),
            Route::Webhook { token, .. } | Route::WebhookMessage { token, .. } => {
                ("/webhooks/{app}/{token}", token.clone())
            }
        };
        (
            format!("{method} {template} {major}"),
            limits.route_limit,
            limits.route_window,
        )
    }
}

type Parsed = (Option<Value>, Vec<Attachment>);

/// The JSON body (or a multipart body's `payload_json`) and uploaded files (`id` = `n` of
/// `files[n]`).
fn parse_body(headers: &HeaderMap, bytes: &Bytes, size_limit: u32) -> Result<Parsed, ApiError> {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.starts_with("multipart/form-data") {
        let parts = multipart::parse(ct, bytes).map_err(|e| {
            let mut errs = Errs::default();
            errs.add(
                "",
                "MULTIPART_INVALID",
                format!("Invalid multipart body: {e}"),
            );
            errs.finish().unwrap_err()
        })?;
        let mut json = None;
        let mut uploads = Vec::new();
        for p in parts {
            let index = if p.name == "file" {
                Some(0)
            } else {
                p.name
                    .strip_prefix("files[")
                    .and_then(|r| r.strip_suffix(']'))
                    .and_then(|n| n.parse::<u64>().ok())
            };
            if p.name == "payload_json" {
                json = Some(serde_json::from_slice(&p.data).map_err(|_| validate::invalid_json())?);
            } else if let Some(n) = index {
                if p.data.len() > size_limit as usize {
                    return Err(validate::too_large());
                }
                uploads.push(Attachment {
                    id: n,
                    filename: p.filename.unwrap_or_else(|| format!("file{n}")),
                    size: p.data.len(),
                    content_type: p.content_type,
                    description: None,
                    data: p.data,
                });
            }
        }
        Ok((json, uploads))
    } else if bytes.is_empty() {
        Ok((None, Vec::new()))
    } else {
        serde_json::from_slice(bytes)
            .map(|v| (Some(v), Vec::new()))
            .map_err(|_| validate::invalid_json())
    }
}

fn rate_limited(
    retry_after: f64,
    global: bool,
    scope: &str,
    mut headers: Vec<(String, String)>,
) -> Reply {
    if !headers.iter().any(|(k, _)| k == "X-RateLimit-Scope") {
        headers.push(("X-RateLimit-Scope".into(), scope.into()));
    }
    if !headers.iter().any(|(k, _)| k == "Retry-After") {
        headers.push((
            "Retry-After".into(),
            format!("{}", retry_after.ceil().max(1.0)),
        ));
    }
    Reply {
        status: 429,
        body: ReplyBody::Json(json!({
            "message": "You are being rate limited.",
            "retry_after": (retry_after * 1000.0).ceil() / 1000.0,
            "global": global,
        })),
        headers,
        outcome: Outcome::RateLimited,
    }
}

fn server_error(st: &mut State) -> Reply {
    st.fault_5xx += 1;
    let (status, text) = if st.rng.unit() < 0.5 {
        (500, "500: Internal Server Error")
    } else {
        (502, "502 Bad Gateway")
    };
    Reply {
        status,
        body: ReplyBody::Text(text),
        headers: Vec::new(),
        outcome: Outcome::Fault,
    }
}

#[allow(clippy::too_many_arguments)]
fn process(
    shared: &Shared,
    st: &mut State,
    rec: &mut Request,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    bytes: Bytes,
) -> Reply {
    let path = uri.path();
    if let Some(rest) = path.strip_prefix("/attachments/") {
        return serve_attachment(st, rest);
    }
    let Some(api) = path.strip_prefix("/api/v10/") else {
        return Reply::error(validate::not_found());
    };
    let segs: Vec<&str> = api.split('/').collect();
    let route = match parse_route(&segs) {
        Ok(Some(r)) => r,
        Ok(None) => return Reply::error(validate::not_found()),
        Err(e) => return Reply::error(e),
    };
    if !route.methods().contains(method) {
        return Reply::error(validate::method_not_allowed());
    }
    if !route.token_route() {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
        if auth != Some(&format!("Bot {}", shared.token())) {
            return Reply::error(validate::unauthorized());
        }
    }
    let (body, uploads) = match parse_body(headers, &bytes, shared.cfg.attachment_size_limit) {
        Ok(p) => p,
        Err(e) => return Reply::error(e),
    };
    rec.body = body.clone();
    rec.files = uploads.clone();

    let limits = &shared.cfg.limits;
    let (key, limit, window) = route.bucket(method, limits);
    let verdict = st
        .limiter
        .check(limits, &key, limit, window, !route.token_route());
    if let Some(l) = verdict.limited {
        if l.global {
            st.global_429s += 1;
        } else {
            st.route_429s += 1;
        }
        return rate_limited(l.retry_after, l.global, "user", verdict.headers);
    }
    let headers = verdict.headers;

    let mut fail_after = false;
    if matches!(route, Route::ChannelMessages(_)) && method == Method::POST {
        let f = &shared.cfg.faults;
        let u = st.rng.unit();
        if u < f.server_error {
            return server_error(st);
        } else if u < f.server_error + f.rate_limit {
            st.fault_429s += 1;
            st.route_429s += 1;
            let scope = if st.rng.unit() < 0.5 {
                "shared"
            } else {
                "user"
            };
            let mut r = rate_limited(f.retry_after.as_secs_f64(), false, scope, headers);
            r.outcome = Outcome::Fault;
            return r;
        } else if u < f.server_error + f.rate_limit + f.server_error_after_create {
            fail_after = true;
        }
    }

    let mut h = Handler {
        shared,
        st: &mut *st,
        method,
        body,
        uploads,
        query: uri.query().unwrap_or(""),
    };
    let result = h.run(&route);
    match result {
        Ok(_) if fail_after => {
            let mut r = server_error(st);
            r.headers = headers;
            r
        }
        Ok((status, body)) => Reply {
            status,
            body: body.map_or(ReplyBody::Empty, ReplyBody::Json),
            headers,
            outcome: Outcome::Ok,
        },
        Err(e) => Reply {
            headers,
            ..Reply::error(e)
        },
    }
}

fn serve_attachment(st: &State, rest: &str) -> Reply {
    let mut it = rest.split('/');
    let (Some(c), Some(a)) = (it.next(), it.next()) else {
        return Reply::error(validate::not_found());
    };
    let (Ok(c), Ok(a)) = (c.parse::<u64>(), a.parse::<u64>()) else {
        return Reply::error(validate::not_found());
    };
    let found = st
        .messages
        .get(&c)
        .into_iter()
        .flatten()
        .chain(st.interactions.values().flat_map(|i| {
            let own = match &i.original {
                Some(Original::Own(m)) => Some(&**m),
                _ => None,
            };
            own.into_iter().chain(i.followups.iter())
        }))
        .flat_map(|m| m.attachments.iter())
        .find(|x| x.id == a);
    match found {
        Some(x) => Reply {
            status: 200,
            body: ReplyBody::Bytes(
                x.data.clone(),
                x.content_type
                    .clone()
                    .unwrap_or_else(|| "application/octet-stream".into()),
            ),
            headers: Vec::new(),
            outcome: Outcome::Ok,
        },
        None => Reply::error(validate::not_found()),
    }
}

type Answer = Result<(u16, Option<Value>), ApiError>;

struct Handler<'a> {
    shared: &'a Shared,
    st: &'a mut State,
    method: &'a Method,
    body: Option<Value>,
    uploads: Vec<Attachment>,
    query: &'a str,
}

fn body_object(body: &Option<Value>) -> Result<Map<String, Value>, ApiError> {
    match body {
        None => Ok(Map::new()),
        Some(Value::Object(o)) => Ok(o.clone()),
        Some(_) => {
            let mut errs = Errs::default();
            errs.add(
                "",
                "DICT_TYPE_CONVERT",
                "Only dictionaries may be used in a DictType",
            );
            Err(errs.finish().unwrap_err())
        }
    }
}

impl Handler<'_> {
    /// The bot's user id.
    fn bot(&self) -> u64 {
        self.shared.cfg.bot_user_id
    }

    /// Message rules for this request's uploads.
    fn rules<'b>(
        &'b self,
        create: bool,
        allowed_flags: u64,
        existing: &'b [Attachment],
    ) -> MsgRules<'b> {
        MsgRules {
            create,
            allowed_flags,
            uploads: &self.uploads,
            existing,
        }
    }

    /// Answers a routed, authorized, rate-limited request.
    fn run(&mut self, route: &Route) -> Answer {
        let m = self.method.clone();
        match route {
            Route::Gateway => Ok((200, Some(json!({"url": self.shared.ws_url})))),
            Route::GatewayBot => {
                let used = self.st.gw.identifies as u64;
                Ok((
                    200,
                    Some(json!({
                        "url": self.shared.ws_url,
                        "shards": 1,
                        "session_start_limit": {
                            "total": 1000,
                            "remaining": 1000u64.saturating_sub(used),
                            "reset_after": 86_400_000,
                            "max_concurrency": 1,
                        },
                    })),
                ))
            }
            Route::UserMe => Ok((200, Some(payloads::bot_user_json(self.shared)))),
            Route::AppMe => Ok((200, Some(payloads::application_json(self.shared)))),
            Route::Commands { app, guild } => self.commands(*app, *guild),
            Route::Command { app, guild, id } => self.command(*app, *guild, *id),
            Route::Channel(c) => {
                self.channel_access(*c, false)?;
                Ok((200, Some(payloads::channel_json(self.st, *c))))
            }
            Route::ChannelMessages(c) if m == Method::GET => self.list_messages(*c),
            Route::ChannelMessages(c) => self.create_message(*c),
            Route::ChannelMessage(c, id) => match m {
                Method::GET => {
                    self.channel_access(*c, false)?;
                    let msg = self
                        .st
                        .find_message(*c, *id)
                        .ok_or_else(validate::unknown_message)?;
                    Ok((200, Some(self.stored_json(msg))))
                }
                Method::PATCH => self.edit_message(*c, *id),
                _ => self.delete_message(*c, *id),
            },
            Route::Crosspost(c, id) => self.crosspost(*c, *id),
            Route::Callback { id, token } => self.callback(*id, token),
            Route::Webhook { app, token } => self.followup(*app, token),
            Route::WebhookMessage {
                app,
                token,
                message,
            } => self.webhook_message(*app, token, *message),
        }
    }

    /// `m` in Discord's shape.
    fn json(&self, m: &Message) -> Value {
        let guild = self.st.channels.get(&m.channel_id).map(|c| c.guild_id);
        message_json(self.shared, self.st, m, guild)
    }

    /// A message as a later read returns it: Discord does not store the nonce, which only
    /// the reply to the create (and the gateway's MESSAGE_CREATE) carries.
    fn stored_json(&self, m: &Message) -> Value {
        let mut v = self.json(m);
        if let Some(o) = v.as_object_mut() {
            o.remove("nonce");
        }
        v
    }
}
