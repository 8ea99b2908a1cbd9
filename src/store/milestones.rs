//! Milestones in the store: each recorded once (its key is the primary key), in the same
//! transaction as its announcements, which take the next place among the events so that a
//! channel receives it right after the declaration that made it.

use super::{CONSOLE, DISCORD, Result, Sinks, Store, StoreError, now_text, outbox};
use crate::core::filter::Filter;
use crate::core::milestones::Milestone;

/// The `constituency_id` of a milestone's outbox rows.
pub fn outbox_id(key: &str) -> String {
    format!("milestone:{key}")
}

/// The milestone key of an outbox row's `constituency_id`, if it is a milestone's.
pub fn key_of(constituency_id: &str) -> Option<&str> {
    constituency_id.strip_prefix("milestone:")
}

impl Store {
    /// Records milestones not recorded before, with an announcement for the console and for
    /// every unpaused channel that takes milestones (all declarations, or milestones only).
    /// Returns those recorded now.
    pub async fn record_milestones(
        &self,
        milestones: &[Milestone],
        sinks: Sinks,
    ) -> Result<Vec<Milestone>> {
        if milestones.is_empty() {
            return Ok(Vec::new());
        }
        self.guard.check_file()?;
        let r: Result<Vec<Milestone>> = async {
            let mut tx = self.pool.begin().await?;
            let subscriptions = if sinks.discord {
                super::subscriptions::active(&mut tx).await?
            } else {
                Vec::new()
            };
            let mut seq = super::next_seq(&mut tx).await?;
            let now = now_text();
            let mut rows = Vec::new();
            let mut recorded = Vec::new();
            for m in milestones {
                let key = m.key();
                let body =
                    serde_json::to_string(m).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let inserted = sqlx::query(
                    "INSERT INTO milestones (key, seq, body, created_at) VALUES (?, ?, ?, ?)
                     ON CONFLICT (key) DO NOTHING",
                )
                .bind(&key)
                .bind(seq)
                .bind(&body)
                .bind(&now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    continue;
                }
                let id = outbox_id(&key);
                if sinks.console {
                    rows.push(outbox::NewRow {
                        key: format!("console:{id}:1"),
                        sink: CONSOLE,
                        target: "-".to_string(),
                        constituency: id.clone(),
                        version: 1,
                        seq,
                    });
                }
                for sub in subscriptions
                    .iter()
                    .filter(|s| matches!(s.filter, Filter::All | Filter::Milestones))
                {
                    rows.push(outbox::NewRow {
                        key: format!("discord:{}:{id}:1", sub.channel_id),
                        sink: DISCORD,
                        target: sub.channel_id.clone(),
                        constituency: id.clone(),
                        version: 1,
                        seq,
                    });
                }
                recorded.push(m.clone());
                seq += 1;
            }
            outbox::enqueue(&mut tx, &rows, &now).await?;
            tx.commit().await?;
            Ok(recorded)
        }
        .await;
        self.settle(r).await
    }

    /// One milestone, by key.
    pub async fn milestone(&self, key: &str) -> Result<Option<Milestone>> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM milestones WHERE key = ?")
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        body.map(|b| {
            serde_json::from_str(&b).map_err(|e| StoreError::Corrupt(format!("milestone: {e}")))
        })
        .transpose()
    }

    /// Every milestone recorded, in order.
    pub async fn milestones(&self) -> Result<Vec<Milestone>> {
        let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM milestones ORDER BY seq")
            .fetch_all(self.pool())
            .await?;
        bodies
            .iter()
            .map(|b| {
                serde_json::from_str(b).map_err(|e| StoreError::Corrupt(format!("milestone: {e}")))
            })
            .collect()
    }
}
