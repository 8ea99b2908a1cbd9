//! Discord subscriptions: which channel wants which declarations, and how.

use sqlx::Row;

use super::{Result, Store, StoreError, Tx, now_text};
use crate::core::filter::Filter;

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
    pub channel_id: String,
    pub guild_id: String,
    pub filter: Filter,
    pub mode: Mode,
    /// Why delivery is paused (Discord refused the channel), if it is.
    pub paused_reason: Option<String>,
    /// The role an admin chose to ping on gains (the only role herald ever pings).
    pub mention_role: Option<String>,
}

fn subscription(r: &sqlx::sqlite::SqliteRow) -> Result<Subscription> {
    let filter: String = r.try_get("filter")?;
    let mode: String = r.try_get("mode")?;
    Ok(Subscription {
        channel_id: r.try_get("channel_id")?,
        guild_id: r.try_get("guild_id")?,
        filter: serde_json::from_str(&filter)
            .map_err(|e| StoreError::Corrupt(format!("filter: {e}")))?,
        mode: Mode::parse(&mode).ok_or_else(|| StoreError::Corrupt(format!("mode `{mode}`")))?,
        paused_reason: r.try_get("paused_reason")?,
        mention_role: r.try_get("mention_role")?,
    })
}

const COLUMNS: &str = "channel_id, guild_id, filter, mode, paused_reason, mention_role";

/// Subscriptions that receive announcements now (not paused), inside a transaction.
pub(super) async fn active(tx: &mut Tx<'_>) -> Result<Vec<Subscription>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE paused_reason IS NULL ORDER BY channel_id"
    ))
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(subscription).collect()
}

impl Store {
    /// Creates or replaces the subscription of a channel (and un-pauses it).
    pub async fn subscribe(&self, s: &Subscription, created_by: Option<&str>) -> Result<()> {
        let r: Result<()> = async {
            let filter =
                serde_json::to_string(&s.filter).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query(
                "INSERT INTO subscriptions (channel_id, guild_id, filter, mode, paused_reason, created_by, created_at, mention_role)
                 VALUES (?, ?, ?, ?, NULL, ?, ?, ?)
                 ON CONFLICT (channel_id) DO UPDATE SET guild_id = excluded.guild_id, filter = excluded.filter,
                   mode = excluded.mode, paused_reason = NULL, created_by = excluded.created_by,
                   mention_role = excluded.mention_role",
            )
            .bind(&s.channel_id)
            .bind(&s.guild_id)
            .bind(filter)
            .bind(s.mode.as_str())
            .bind(created_by)
            .bind(now_text())
            .bind(&s.mention_role)
            .execute(self.pool())
            .await?;
            Ok(())
        }
        .await;
        self.settle(r).await
    }

    /// Removes a channel's subscription; its undelivered announcements are dropped with it.
    /// Returns whether there was one.
    pub async fn unsubscribe(&self, guild_id: &str, channel_id: &str) -> Result<bool> {
        let r: Result<bool> = async {
            let mut tx = self.pool().begin().await?;
            let gone = sqlx::query("DELETE FROM subscriptions WHERE channel_id = ? AND guild_id = ?")
                .bind(channel_id)
                .bind(guild_id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if gone {
                sqlx::query("UPDATE outbox SET state = 'failed', last_error = 'unsubscribed' WHERE sink = 'discord' AND target = ? AND state IN ('pending', 'claimed')")
                    .bind(channel_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(gone)
        }
        .await;
        self.settle(r).await
    }

    /// The subscriptions of one guild.
    pub async fn subscriptions(&self, guild_id: &str) -> Result<Vec<Subscription>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM subscriptions WHERE guild_id = ? ORDER BY channel_id"
        ))
        .bind(guild_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(subscription).collect()
    }

    pub async fn subscription(&self, channel_id: &str) -> Result<Option<Subscription>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM subscriptions WHERE channel_id = ?"
        ))
        .bind(channel_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(subscription).transpose()
    }

    /// Pauses a channel that Discord refuses (403 Missing Access, 404 Unknown Channel).
    /// Returns true the first time, so that it is logged once.
    pub async fn pause(&self, channel_id: &str, reason: &str) -> Result<bool> {
        self.exec(
            sqlx::query(
                "UPDATE subscriptions SET paused_reason = ? WHERE channel_id = ? AND paused_reason IS NULL",
            )
            .bind(reason)
            .bind(channel_id),
        )
        .await
        .map(|n| n == 1)
    }

    pub async fn subscription_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM subscriptions")
            .fetch_one(self.pool())
            .await?)
    }
}
