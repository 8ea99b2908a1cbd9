//! Exactly-once sending: a row's nonce (derived from its key), creating a message so that a
//! send first tried longer ago than Discord remembers nonces is looked for in the channel
//! before it goes again, editing, and what each of Discord's answers means for the row
//! (delivered, retried later, its channel paused, or given up: a [`Delivery`]).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Dispatcher, Sent};
use crate::discord::embed::no_mentions;
use crate::discord::rest::{File, Outcome};
use crate::format::embed::{Embed, limits, truncate};
use crate::sinks::Delivery;
use crate::store::OutboxItem;

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

impl Dispatcher {
    /// Edits a message, retried through rate limits; other failures are the caller's.
    pub(super) async fn edit(
        &self,
        channel: &str,
        message: &str,
        body: &Value,
        files: &[File],
    ) -> Outcome {
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
    pub(super) async fn create(
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

    /// What Discord's answer to a row's (or digest's) request means: a message, no message
    /// to edit, or a [`Delivery`] that is not one (retry later, wait for the token, give the
    /// row up, pause the channel), for [`crate::sinks::Outbox`] to record.
    pub(super) fn judge(&self, channel: &str, item: &OutboxItem, outcome: Outcome) -> Sent {
        match outcome {
            Outcome::Ok { message_id } => Sent::Ok(message_id),
            Outcome::UnknownMessage => Sent::NoMessage,
            Outcome::Unauthorized(why) => {
                // Not the message's fault: it goes back to wait, with every other one.
                self.health.refuse_token(&format!("401 {why}"));
                Sent::Not(Delivery::Wait(why))
            }
            Outcome::Transient(e) => {
                tracing::warn!(channel, key = %item.key, attempts = item.attempts, "send failed, will retry: {e}");
                Sent::Not(Delivery::Retry {
                    at: Utc::now() + self.backoff(item.attempts),
                    why: e,
                })
            }
            Outcome::Gone {
                status,
                code,
                message,
            } => Sent::Not(Delivery::Pause(format!(
                "Discord answered {status}{}: {message}",
                code.map(|c| format!(" ({c})")).unwrap_or_default()
            ))),
            Outcome::Rejected { status, body } => {
                let reason = format!("Discord refused the request ({status}): {body}");
                tracing::error!(channel, key = %item.key, "{reason}");
                Sent::Not(Delivery::Failed(reason))
            }
            Outcome::RateLimited { retry_after, .. } => {
                Sent::Not(Delivery::Wait(format!("rate limited for {retry_after:?}")))
            }
        }
    }

    /// [`Self::post`], allowing exactly `roles` to be pinged (and nobody where none).
    pub(super) async fn post_pinging(
        &self,
        channel: &str,
        item: &OutboxItem,
        embed: &Embed,
        content: Option<&str>,
        roles: &[String],
        files: &[File],
    ) -> Sent {
        let mut body = self.message_body(embed, content, &item.key, None, !files.is_empty());
        if !roles.is_empty() {
            body["allowed_mentions"] = json!({"parse": [], "roles": roles});
        }
        self.send_body(channel, item, &body, files).await
    }

    pub(super) async fn post(
        &self,
        channel: &str,
        item: &OutboxItem,
        embed: &Embed,
        content: Option<&str>,
        reply_to: Option<&str>,
        files: &[File],
    ) -> Sent {
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
    ) -> Sent {
        let outcome = self.create(channel, item.first_tried_at, body, files).await;
        self.judge(channel, item, outcome)
    }

    pub(super) async fn post_note(
        &self,
        channel: &str,
        item: &OutboxItem,
        note: &str,
        reply_to: Option<&str>,
    ) -> Sent {
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
        self.judge(channel, item, outcome)
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
}
