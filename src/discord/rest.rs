//! The REST calls the announcement dispatcher makes (create and edit channel messages), with
//! everything Discord says about rate limits kept for the dispatcher's limiter: status,
//! `retry_after`, scope and the route's bucket headers. serenity's own HTTP client hides
//! those once its rate limiter is off, and its limiter has no global limit, so
//! announcements go through here.
//!
//! There is one HTTP client ([`client`]); serenity's, which answers the commands, is built
//! on it. What serenity sends is interaction responses (and, once, the commands), which
//! Discord does not count against the bot's global limit ("Interaction endpoints are not
//! bound to the bot's Global Rate Limit"): a reply, which has three seconds, never queues
//! behind a night's announcements for the global limiter.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::health::DiscordHealth;
use crate::config::Secret;

/// What Discord said to one request.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Done; the message's id.
    Ok { message_id: String },
    /// 429: wait `retry_after`, then try again (global: every route waits).
    RateLimited {
        retry_after: Duration,
        global: bool,
        scope: String,
    },
    /// A 5xx, a timeout or a dropped connection: try again later.
    Transient(String),
    /// The channel is gone or refuses herald (403 Missing Access / Permissions, 404 Unknown
    /// Channel): stop sending there.
    Gone {
        status: u16,
        code: Option<u64>,
        message: String,
    },
    /// 404 Unknown Message: the message to edit was deleted.
    UnknownMessage,
    /// 401: Discord does not accept the token. Nothing about the message is wrong: every
    /// send waits until a valid token is supplied.
    Unauthorized(String),
    /// Any other 4xx: Discord refused the request itself.
    Rejected { status: u16, body: String },
}

/// The route's rate-limit state from the response headers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bucket {
    pub id: Option<String>,
    pub remaining: Option<u32>,
    pub reset_after: Option<Duration>,
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn seconds(s: &str) -> Option<Duration> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x >= 0.0)
        .map(Duration::from_secs_f64)
}

impl Bucket {
    fn from_headers(h: &HeaderMap) -> Bucket {
        Bucket {
            id: header(h, "x-ratelimit-bucket").map(str::to_string),
            remaining: header(h, "x-ratelimit-remaining").and_then(|s| s.parse().ok()),
            reset_after: header(h, "x-ratelimit-reset-after").and_then(seconds),
        }
    }
}

/// A file to upload with a message (its bytes shared, not copied, into the request).
#[derive(Clone, Debug)]
pub struct File {
    pub name: String,
    pub bytes: bytes::Bytes,
}

#[derive(Clone)]
pub struct Rest {
    client: reqwest::Client,
    base: String,
    token: Secret,
    /// Where a refused token is noted (shared with the gateway and `/healthz`).
    health: DiscordHealth,
    /// The bot's own user id, asked for once.
    me: std::sync::Arc<tokio::sync::OnceCell<String>>,
}

/// herald's one HTTP client for Discord, shared by the announcements (through [`Rest`]) and
/// the commands (serenity's client is built on it, [`super::bot::http`]): one pool of
/// connections, one user agent, bounded waits. Whatever Discord does, no request (and so
/// neither start-up nor shutdown) waits longer than `timeout`.
pub fn client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .timeout(timeout)
        .no_proxy()
        .user_agent(concat!(
            "DiscordBot (https://github.com/herald, ",
            env!("CARGO_PKG_VERSION"),
            ")"
        ))
        .build()
}

impl Rest {
    /// `base` is `https://discord.com` or a stand-in (`discord.api_base`); `client` is
    /// herald's one HTTP client ([`client`]).
    pub fn new(
        base: Option<&str>,
        token: Secret,
        client: reqwest::Client,
        health: DiscordHealth,
    ) -> Rest {
        Rest {
            client,
            base: base
                .unwrap_or("https://discord.com")
                .trim_end_matches('/')
                .to_string(),
            token,
            health,
            me: Default::default(),
        }
    }

    /// Herald's standing with Discord, as this client and the gateway have found it.
    pub fn health(&self) -> &DiscordHealth {
        &self.health
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v10{path}", self.base)
    }

    /// Creates a message in a channel.
    pub async fn create_message(
        &self,
        channel: &str,
        body: &Value,
        files: &[File],
    ) -> (Outcome, Bucket) {
        let req = self
            .client
            .post(self.url(&format!("/channels/{channel}/messages")));
        self.send(req, body, files).await
    }

    /// Edits a message herald posted.
    pub async fn edit_message(
        &self,
        channel: &str,
        message: &str,
        body: &Value,
        files: &[File],
    ) -> (Outcome, Bucket) {
        let req = self
            .client
            .patch(self.url(&format!("/channels/{channel}/messages/{message}")));
        self.send(req, body, files).await
    }

    /// Publishes a message of an announcement channel to the channels following it.
    pub async fn crosspost(&self, channel: &str, message: &str) -> (Outcome, Bucket) {
        let req = self
            .client
            .post(self.url(&format!("/channels/{channel}/messages/{message}/crosspost")));
        let (answer, bucket) = self.exchange(req).await;
        let outcome = match answer {
            Ok(_) => Outcome::Ok {
                message_id: message.to_string(),
            },
            Err(o) => o,
        };
        (outcome, bucket)
    }

    /// Up to `limit` (1–100) messages of a channel posted after the snowflake `after`.
    /// Discord does not keep nonces: a message is recognised by what it says.
    pub async fn messages_after(
        &self,
        channel: &str,
        after: u64,
        limit: u8,
    ) -> (Result<Vec<Value>, Outcome>, Bucket) {
        let req = self
            .client
            .get(self.url(&format!("/channels/{channel}/messages")))
            .query(&[("after", after.to_string()), ("limit", limit.to_string())]);
        let (answer, bucket) = self.exchange(req).await;
        let list = answer.and_then(|v| match v {
            Value::Array(list) => Ok(list),
            other => Err(Outcome::Transient(format!(
                "a message list that is not a list: {}",
                other.to_string().chars().take(100).collect::<String>()
            ))),
        });
        (list, bucket)
    }

    /// Whom the token belongs to: the bot's id and name (`GET /users/@me`), or what went
    /// wrong, in words.
    pub async fn whoami(&self) -> Result<(String, String), String> {
        let req = self.client.get(self.url("/users/@me"));
        match self.exchange(req).await.0 {
            Ok(v) => {
                let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
                Ok((field("id"), field("username")))
            }
            Err(Outcome::Unauthorized(m)) => Err(format!("Discord refuses the token (401: {m})")),
            Err(other) => Err(format!("{other:?}")),
        }
    }

    /// Whether Discord accepts the token now (`GET /users/@me`): Ok, or what it said.
    pub async fn check_token(&self) -> Result<(), Outcome> {
        let req = self.client.get(self.url("/users/@me"));
        self.exchange(req).await.0.map(|_| ())
    }

    /// The bot's own user id (`GET /users/@me`, asked once).
    pub async fn my_id(&self) -> Result<String, Outcome> {
        self.me
            .get_or_try_init(|| async {
                let req = self.client.get(self.url("/users/@me"));
                let (answer, _) = self.exchange(req).await;
                answer?
                    .get("id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| Outcome::Transient("/users/@me without an id".into()))
            })
            .await
            .cloned()
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        body: &Value,
        files: &[File],
    ) -> (Outcome, Bucket) {
        let req = if files.is_empty() {
            req.json(body)
        } else {
            let mut form = reqwest::multipart::Form::new();
            match reqwest::multipart::Part::text(body.to_string()).mime_str("application/json") {
                Ok(part) => form = form.part("payload_json", part),
                Err(e) => {
                    return (
                        Outcome::Rejected {
                            status: 0,
                            body: e.to_string(),
                        },
                        Bucket::default(),
                    );
                }
            }
            for (i, f) in files.iter().enumerate() {
                let length = f.bytes.len() as u64;
                let part = reqwest::multipart::Part::stream_with_length(f.bytes.clone(), length)
                    .file_name(f.name.clone());
                let part = match part.mime_str("image/png") {
                    Ok(p) => p,
                    Err(e) => {
                        return (
                            Outcome::Rejected {
                                status: 0,
                                body: e.to_string(),
                            },
                            Bucket::default(),
                        );
                    }
                };
                form = form.part(format!("files[{i}]"), part);
            }
            req.multipart(form)
        };
        let (answer, bucket) = self.exchange(req).await;
        let outcome = match answer {
            Ok(v) => match v.get("id").and_then(Value::as_str) {
                Some(id) => Outcome::Ok {
                    message_id: id.to_string(),
                },
                None => Outcome::Transient("a reply without a message id".into()),
            },
            Err(outcome) => outcome,
        };
        (outcome, bucket)
    }

    /// Sends a request with the bot's token and reads Discord's answer: the JSON of a
    /// success, or what went wrong.
    async fn exchange(&self, req: reqwest::RequestBuilder) -> (Result<Value, Outcome>, Bucket) {
        let req = req.header("Authorization", format!("Bot {}", self.token.expose()));
        let response = match req.send().await {
            Ok(r) => r,
            Err(e) => return (Err(Outcome::Transient(e.to_string())), Bucket::default()),
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bucket = Bucket::from_headers(&headers);
        let text = match response.text().await {
            Ok(t) => t,
            Err(e) => return (Err(Outcome::Transient(e.to_string())), bucket),
        };
        let json: Option<Value> = serde_json::from_str(&text).ok();
        let code = json
            .as_ref()
            .and_then(|j| j.get("code"))
            .and_then(Value::as_u64);
        let message = json
            .as_ref()
            .and_then(|j| j.get("message"))
            .and_then(Value::as_str)
            .unwrap_or(&text)
            .to_string();
        let outcome = match status {
            200..=299 => {
                return match json {
                    Some(v) => (Ok(v), bucket),
                    None => (
                        Err(Outcome::Transient(format!("{status} without a JSON body"))),
                        bucket,
                    ),
                };
            }
            429 => {
                let retry_after = json
                    .as_ref()
                    .and_then(|j| j.get("retry_after"))
                    .and_then(Value::as_f64)
                    .map(Duration::from_secs_f64)
                    .or_else(|| header(&headers, "retry-after").and_then(seconds))
                    .unwrap_or(Duration::from_secs(1));
                let global = json
                    .as_ref()
                    .and_then(|j| j.get("global"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
                    || header(&headers, "x-ratelimit-global")
                        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
                let scope = header(&headers, "x-ratelimit-scope")
                    .map(str::to_string)
                    .unwrap_or_else(|| {
                        if global {
                            "global".into()
                        } else {
                            "user".into()
                        }
                    });
                Outcome::RateLimited {
                    retry_after,
                    global,
                    scope,
                }
            }
            500..=599 => Outcome::Transient(format!("{status}: {message}")),
            401 => Outcome::Unauthorized(message),
            404 if code == Some(10008) => Outcome::UnknownMessage,
            // Unknown Channel, Missing Access, Missing Permissions, and a channel that
            // cannot hold messages (a category, a forum: 50008).
            400 | 403 | 404 if matches!(code, Some(10003 | 50001 | 50013 | 50008)) => {
                Outcome::Gone {
                    status,
                    code,
                    message,
                }
            }
            _ => Outcome::Rejected {
                status,
                body: text.chars().take(500).collect(),
            },
        };
        (Err(outcome), bucket)
    }
}
