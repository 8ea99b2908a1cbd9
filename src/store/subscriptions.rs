//! Discord subscriptions: which channel wants which announcements, and how. A channel may
//! hold several subscriptions (one per filter); [`Channel`] takes them together.

use sqlx::Row;

use super::outbox::fanout;
use super::{Result, Store, StoreError, now_text};
use crate::core::filter::Filter;
use crate::core::model::Declaration;

/// How a channel receives announcements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One message per declaration (merged into digests only when the channel falls behind).
    Every,
    /// Declarations merged into digest messages.
    Digest,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Every => "every",
            Mode::Digest => "digest",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "every" => Some(Mode::Every),
            "digest" => Some(Mode::Digest),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Subscription {
    /// Its number, shown in `/subscriptions` and taken by `/unsubscribe` (0 before it is
    /// stored).
    pub id: i64,
    pub channel_id: String,
    pub guild_id: String,
    pub filter: Filter,
    pub mode: Mode,
    /// Why delivery to the channel is paused (Discord refused it), if it is.
    pub paused_reason: Option<String>,
    /// The role an admin chose to ping on gains (the only role herald ever pings).
    pub mention_role: Option<String>,
    /// The channel where the subscription was made: told when the channel is paused.
    pub created_in: Option<String>,
    /// An announcement channel: milestones are published to the servers following it.
    pub publish: bool,
}

impl Subscription {
    /// A subscription of `channel` to every declaration, one message each.
    pub fn every(guild_id: &str, channel_id: &str) -> Subscription {
        Subscription {
            id: 0,
            channel_id: channel_id.to_string(),
            guild_id: guild_id.to_string(),
            filter: Filter::all(),
            mode: Mode::Every,
            paused_reason: None,
            mention_role: None,
            created_in: None,
            publish: false,
        }
    }
}

/// A channel's subscriptions taken together: the channel receives an announcement once if
/// any of them wants it.
#[derive(Clone, Debug, PartialEq)]
pub struct Channel {
    pub id: String,
    pub subscriptions: Vec<Subscription>,
}

impl Channel {
    /// Why the channel is paused, if it is (a pause holds for all its subscriptions).
    pub fn paused_reason(&self) -> Option<&str> {
        self.subscriptions
            .iter()
            .find_map(|s| s.paused_reason.as_deref())
    }

    /// Digests only when every subscription asks for them.
    pub fn mode(&self) -> Mode {
        if !self.subscriptions.is_empty()
            && self.subscriptions.iter().all(|s| s.mode == Mode::Digest)
        {
            Mode::Digest
        } else {
            Mode::Every
        }
    }

    /// The roles to ping for a declaration: on a gain, the roles of the subscriptions that
    /// want it; otherwise none.
    pub fn roles_for(&self, d: &Declaration, gain: bool) -> Vec<String> {
        if !gain {
            return Vec::new();
        }
        let mut roles: Vec<String> = self
            .subscriptions
            .iter()
            .filter(|s| s.filter.matches(d, gain))
            .filter_map(|s| s.mention_role.clone())
            .collect();
        roles.sort();
        roles.dedup();
        roles
    }

    /// Whether milestones are published from this (announcement) channel.
    pub fn publish(&self) -> bool {
        self.subscriptions.iter().any(|s| s.publish)
    }

    /// Where to tell an admin that the channel is paused: the channel of the latest
    /// subscription made elsewhere.
    pub fn told_in(&self) -> Option<&str> {
        self.subscriptions
            .iter()
            .rev()
            .filter_map(|s| s.created_in.as_deref())
            .find(|c| *c != self.id)
    }
}

fn subscription(r: &sqlx::any::AnyRow) -> Result<Subscription> {
    let filter: String = r.try_get("filter")?;
    let mode: String = r.try_get("mode")?;
    Ok(Subscription {
        id: r.try_get("id")?,
        channel_id: r.try_get("channel_id")?,
        guild_id: r.try_get("guild_id")?,
        filter: serde_json::from_str(&filter)
            .map_err(|e| StoreError::Corrupt(format!("filter: {e}")))?,
        mode: Mode::parse(&mode).ok_or_else(|| StoreError::Corrupt(format!("mode `{mode}`")))?,
        paused_reason: r.try_get("paused_reason")?,
        mention_role: r.try_get("mention_role")?,
        created_in: r.try_get("created_in")?,
        publish: r.try_get::<i64, _>("publish")? != 0,
    })
}

const COLUMNS: &str =
    "id, channel_id, guild_id, filter, mode, paused_reason, mention_role, created_in, publish";

/// What `subscribe` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subscribed {
    /// The subscription's number.
    pub id: i64,
    /// It replaced one with the same filter (its mode and role were updated).
    pub replaced: bool,
    /// How many subscriptions the channel now has.
    pub in_channel: usize,
}

impl Store {
    /// Adds a subscription to its channel, or updates the channel's subscription with the
    /// same filter. Either way the channel is no longer paused (an admin subscribing again
    /// has fixed what Discord refused).
    pub async fn subscribe(
        &self,
        s: &Subscription,
        created_by: Option<&str>,
    ) -> Result<Subscribed> {
        let r: Result<Subscribed> = async {
            let filter =
                serde_json::to_string(&s.filter).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let mut conn = self.conn().await?;
            let mut tx = conn.begin().await?;
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM subscriptions WHERE channel_id = $1 ORDER BY id"
            ))
            .bind(&s.channel_id)
            .fetch_all(&mut *tx)
            .await?;
            let existing: Vec<Subscription> = rows.iter().map(subscription).collect::<Result<_>>()?;
            // Compared as filters, not as text: a filter stored in an older shape is the same.
            let same = existing.iter().find(|e| e.filter == s.filter).map(|e| e.id);
            let id = match same {
                Some(id) => {
                    sqlx::query(
                        "UPDATE subscriptions SET guild_id = $1, filter = $2, mode = $3, created_by = $4, mention_role = $5, created_in = $6, publish = $7 WHERE id = $8",
                    )
                    .bind(&s.guild_id)
                    .bind(&filter)
                    .bind(s.mode.as_str())
                    .bind(created_by)
                    .bind(&s.mention_role)
                    .bind(&s.created_in)
                    .bind(i64::from(s.publish))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    id
                }
                None => {
                    // It takes the events after this one.
                    let since = super::next_seq(&mut tx).await? - 1;
                    let id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM subscriptions")
                        .fetch_one(&mut *tx)
                        .await?;
                    sqlx::query(
                        "INSERT INTO subscriptions (id, channel_id, guild_id, filter, mode, paused_reason, created_by, created_at, mention_role, created_in, publish, since_seq)
                         VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, $8, $9, $10, $11)",
                    )
                    .bind(id)
                    .bind(&s.channel_id)
                    .bind(&s.guild_id)
                    .bind(&filter)
                    .bind(s.mode.as_str())
                    .bind(created_by)
                    .bind(now_text())
                    .bind(&s.mention_role)
                    .bind(&s.created_in)
                    .bind(i64::from(s.publish))
                    .bind(since)
                    .execute(&mut *tx)
                    .await?;
                    id
                }
            };
            // A paused channel resumes with the events after this one, not those it missed.
            let since = super::next_seq(&mut tx).await? - 1;
            sqlx::query("UPDATE subscriptions SET since_seq = $1 WHERE channel_id = $2 AND paused_reason IS NOT NULL")
                .bind(since)
                .bind(&s.channel_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE subscriptions SET paused_reason = NULL, publish = $1 WHERE channel_id = $2")
                .bind(i64::from(s.publish))
                .bind(&s.channel_id)
                .execute(&mut *tx)
                .await?;
            fanout::changed(&mut tx).await?;
            tx.commit().await?;
            self.note_subscriptions_changed();
            Ok(Subscribed {
                id,
                replaced: same.is_some(),
                in_channel: existing.len() + usize::from(same.is_none()),
            })
        }
        .await;
        self.settle(r).await
    }

    /// Removes one subscription of a channel (by its number), or all of them (None). When
    /// none is left, the channel's undelivered announcements are dropped with them. Returns
    /// how many were removed.
    pub async fn unsubscribe(
        &self,
        guild_id: &str,
        channel_id: &str,
        id: Option<i64>,
    ) -> Result<u64> {
        let r: Result<u64> = async {
            let mut conn = self.conn().await?;
            let mut tx = conn.begin().await?;
            let gone = match id {
                Some(id) => sqlx::query(
                    "DELETE FROM subscriptions WHERE channel_id = $1 AND guild_id = $2 AND id = $3",
                )
                .bind(channel_id)
                .bind(guild_id)
                .bind(id),
                None => sqlx::query("DELETE FROM subscriptions WHERE channel_id = $1 AND guild_id = $2")
                    .bind(channel_id)
                    .bind(guild_id),
            }
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subscriptions WHERE channel_id = $1")
                .bind(channel_id)
                .fetch_one(&mut *tx)
                .await?;
            if gone > 0 {
                fanout::changed(&mut tx).await?;
            }
            if gone > 0 && left == 0 {
                sqlx::query("UPDATE messages SET state = 'failed', last_error = 'unsubscribed' WHERE sink = 'discord' AND target = $1 AND state IN ('pending', 'claimed')")
                    .bind(channel_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            if gone > 0 {
                self.note_subscriptions_changed();
            }
            Ok(gone)
        }
        .await;
        self.settle(r).await
    }

    /// The subscriptions of one guild, by channel.
    pub async fn subscriptions(&self, guild_id: &str) -> Result<Vec<Subscription>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM subscriptions WHERE guild_id = $1 ORDER BY channel_id, id"
        ))
        .bind(guild_id)
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter().map(subscription).collect()
    }

    /// A channel's subscriptions, or None when it has none.
    pub async fn channel(&self, channel_id: &str) -> Result<Option<Channel>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM subscriptions WHERE channel_id = $1 ORDER BY id"
        ))
        .bind(channel_id)
        .fetch_all(&mut *self.conn().await?)
        .await?;
        let subscriptions: Vec<Subscription> =
            rows.iter().map(subscription).collect::<Result<_>>()?;
        Ok((!subscriptions.is_empty()).then(|| Channel {
            id: channel_id.to_string(),
            subscriptions,
        }))
    }

    /// Pauses a channel that Discord refuses (403 Missing Access, 404 Unknown Channel), all
    /// its subscriptions. Returns true the first time, so that it is logged and told once.
    pub async fn pause(&self, channel_id: &str, reason: &str) -> Result<bool> {
        let r: Result<bool> = async {
            let mut conn = self.conn().await?;
            let mut tx = conn.begin().await?;
            let paused = sqlx::query(
                "UPDATE subscriptions SET paused_reason = $1 WHERE channel_id = $2 AND paused_reason IS NULL",
            )
            .bind(reason)
            .bind(channel_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if paused > 0 {
                fanout::changed(&mut tx).await?;
            }
            tx.commit().await?;
            if paused > 0 {
                self.note_subscriptions_changed();
            }
            Ok(paused >= 1)
        }
        .await;
        self.settle(r).await
    }
}
