//! Facts about the store as a whole: the election it holds (so that a store left by one
//! election is never mixed with another), a summary in counts, and a reset for the next
//! election that keeps the channels' subscriptions.

use super::{Result, Store, StoreError, Summary};
use crate::core::model::Election;

/// Where the store keeps the election it holds, and the source that named it.
const ELECTION_KEY: &str = "election";
const SOURCE_KEY: &str = "election_source";
/// The other elections of the same night the store holds, side by side (a JSON list).
const ALSO_KEY: &str = "elections_also";

impl Store {
    /// The election this store holds, if one has been recorded.
    pub async fn election(&self) -> Result<Option<Election>> {
        self.meta(ELECTION_KEY)
            .await?
            .map(|text| {
                serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("the recorded election: {e}")))
            })
            .transpose()
    }

    /// Records the election this store holds (the first a feed names), with its source.
    pub async fn hold_election(&self, election: &Election, source: &str) -> Result<()> {
        let text =
            serde_json::to_string(election).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.set_meta(ELECTION_KEY, &text).await?;
        self.set_meta(SOURCE_KEY, source).await
    }

    /// Every election the store holds: the first a feed named, then the others of the same
    /// night (a by-election beside the councils, the mayors beside the Scottish Parliament).
    pub async fn elections(&self) -> Result<Vec<Election>> {
        let mut all: Vec<Election> = self.election().await?.into_iter().collect();
        if let Some(text) = self.meta(ALSO_KEY).await? {
            let also: Vec<Election> = serde_json::from_str(&text)
                .map_err(|e| StoreError::Corrupt(format!("the recorded elections: {e}")))?;
            all.extend(also);
        }
        Ok(all)
    }

    /// Records another election of the night the store holds.
    pub async fn hold_also(&self, election: &Election) -> Result<()> {
        let mut also = self.elections().await?;
        if also.is_empty() {
            return self.hold_election(election, "").await;
        }
        also.remove(0);
        also.retain(|e| e.id != election.id);
        also.push(election.clone());
        let text = serde_json::to_string(&also).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.set_meta(ALSO_KEY, &text).await
    }

    /// The source that first named the store's election.
    pub async fn held_source(&self) -> Result<Option<String>> {
        self.meta(SOURCE_KEY).await
    }

    /// Empties the store for another election: every declaration, event and undelivered or
    /// delivered announcement goes, and the recorded election with them. Subscriptions stay
    /// (channels follow herald from one election to the next). Returns the events removed.
    pub async fn reset(&self) -> Result<u64> {
        let r: Result<u64> = async {
            let mut conn = self.conn().await?;
            let mut tx = conn.begin().await?;
            sqlx::query("DELETE FROM messages")
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM fanout").execute(&mut *tx).await?;
            // Events are numbered from the start again.
            sqlx::query("UPDATE subscriptions SET since_seq = 0")
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM milestones")
                .execute(&mut *tx)
                .await?;
            let gone = sqlx::query("DELETE FROM declarations")
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM meta WHERE key IN ($1, $2, $3)")
                .bind(ELECTION_KEY)
                .bind(SOURCE_KEY)
                .bind(ALSO_KEY)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            // Every target's backlog starts again.
            self.note_subscriptions_changed();
            Ok(gone)
        }
        .await;
        self.settle(r).await
    }

    /// What the store holds, in counts (for `herald store info`).
    pub async fn summary(&self) -> Result<Summary> {
        let seats: i64 =
            sqlx::query_scalar("SELECT COUNT(DISTINCT constituency_id) FROM declarations")
                .fetch_one(&mut *self.conn().await?)
                .await?;
        let events: Vec<(String, i64)> =
            sqlx::query_as("SELECT kind, COUNT(*) FROM declarations GROUP BY kind ORDER BY kind")
                .fetch_all(&mut *self.conn().await?)
                .await?;
        let outbox = self.outbox_counts().await?;
        let (channels, paused): (i64, i64) =
            sqlx::query_as(
                "SELECT COUNT(DISTINCT channel_id), COUNT(DISTINCT CASE WHEN paused_reason IS NOT NULL THEN channel_id END) FROM subscriptions",
            )
                .fetch_one(&mut *self.conn().await?)
                .await?;
        Ok(Summary {
            election: self.election().await?,
            also: self.elections().await?.into_iter().skip(1).collect(),
            source: self.held_source().await?,
            seats: seats as u64,
            events: events.into_iter().map(|(k, n)| (k, n as u64)).collect(),
            outbox,
            channels: channels as u64,
            paused: paused as u64,
        })
    }
}
