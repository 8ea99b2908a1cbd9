//! Milestones in the store: each recorded once (its key is the primary key), in the same
//! transaction as its announcements, which take the next place among the events so that a
//! channel receives it right after the declaration that made it. A milestone a correction
//! undoes turns to its next version (not standing, with why), announced as edits of the
//! posts before; reached again, it turns standing once more and is posted again.

use sqlx::Row;

use super::outbox::fanout::{self, Queued};
use super::{Result, Sinks, Store, StoreError, now_text};
use crate::core::filter::{Filter, Wants};
use crate::core::milestones::Milestone;

/// The `constituency_id` of a milestone's outbox rows.
pub fn outbox_id(key: &str) -> String {
    format!("milestone:{key}")
}

/// The milestone key of an outbox row's `constituency_id`, if it is a milestone's.
pub fn key_of(constituency_id: &str) -> Option<&str> {
    constituency_id.strip_prefix("milestone:")
}

/// A milestone as stored: what it says, its latest version, and whether it stands (with why
/// not, when a correction undid it). Odd versions stand, even ones are undone.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredMilestone {
    pub milestone: Milestone,
    pub version: u32,
    pub standing: bool,
    pub why: Option<String>,
}

fn stored(r: &sqlx::any::AnyRow) -> Result<StoredMilestone> {
    let body: String = r.try_get("body")?;
    Ok(StoredMilestone {
        milestone: serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("milestone: {e}")))?,
        version: u32::try_from(r.try_get::<i64, _>("version")?)
            .map_err(|e| StoreError::Corrupt(format!("milestone version: {e}")))?,
        standing: r.try_get::<i64, _>("standing")? != 0,
        why: r.try_get("why")?,
    })
}

/// Whether a subscription (its filter and publish flag) takes a milestone: every milestone
/// for a subscription that takes milestones; a digest of the race only where milestones
/// alone are asked for, or published from an announcement channel (a channel of every
/// declaration has the race on each of them).
fn takes(m: &Milestone, filter: &Filter, publish: bool) -> bool {
    if m.is_digest() {
        publish || filter.wants == Wants::Milestones
    } else {
        filter.takes_milestones()
    }
}

impl Store {
    /// Records milestones not standing now (never recorded, or undone by a correction), with
    /// an announcement for the console and for every unpaused channel that takes
    /// milestones. Returns those recorded now.
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
            let mut conn = self.conn().await?;
            let mut tx = conn.begin().await?;
            let audiences = self.audiences(&mut tx, sinks).await?;
            let mut seq = super::next_seq(&mut tx).await?;
            let now = now_text();
            let mut recorded = Vec::new();
            for m in milestones {
                let key = m.key();
                let body =
                    serde_json::to_string(m).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let version: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO milestones (key, seq, body, created_at, version, standing) VALUES ($1, $2, $3, $4, 1, 1)
                     ON CONFLICT (key) DO UPDATE SET seq = excluded.seq, body = excluded.body, version = milestones.version + 1, standing = 1, why = NULL
                       WHERE milestones.standing = 0
                     RETURNING version",
                )
                .bind(&key)
                .bind(seq)
                .bind(&body)
                .bind(&now)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(version) = version else {
                    continue;
                };
                let wants = |f: &Filter, publish: bool| takes(m, f, publish);
                let event = Queued {
                    seq,
                    announced: &outbox_id(&key),
                    version: version as u32,
                    wants: &wants,
                };
                fanout::queue(&mut tx, sinks, &audiences, &event).await?;
                recorded.push(m.clone());
                seq += 1;
            }
            tx.commit().await?;
            Ok(recorded)
        }
        .await;
        self.settle(r).await
    }

    /// Marks standing milestones undone, each with why, and queues the edits of their posts
    /// (for the console and the channels that had them). Returns the keys undone now.
    pub async fn undo_milestones(
        &self,
        undone: &[(Milestone, String)],
        sinks: Sinks,
    ) -> Result<Vec<String>> {
        if undone.is_empty() {
            return Ok(Vec::new());
        }
        self.guard.check_file()?;
        let r: Result<Vec<String>> = async {
            let mut conn = self.conn().await?;
            let mut tx = conn.begin().await?;
            let audiences = self.audiences(&mut tx, sinks).await?;
            let mut seq = super::next_seq(&mut tx).await?;
            let mut done = Vec::new();
            for (m, why) in undone {
                let key = m.key();
                let version: Option<i64> = sqlx::query_scalar(
                    "UPDATE milestones SET version = version + 1, standing = 0, why = $1, seq = $2
                     WHERE key = $3 AND standing = 1 RETURNING version",
                )
                .bind(why)
                .bind(seq)
                .bind(&key)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(version) = version else {
                    continue;
                };
                // An undoing is an edit of the posts before: only those told follow it.
                let event = Queued {
                    seq,
                    announced: &outbox_id(&key),
                    version: version as u32,
                    wants: &|_: &Filter, _: bool| false,
                };
                fanout::queue(&mut tx, sinks, &audiences, &event).await?;
                done.push(key);
                seq += 1;
            }
            tx.commit().await?;
            Ok(done)
        }
        .await;
        self.settle(r).await
    }

    /// One milestone, by key.
    pub async fn milestone(&self, key: &str) -> Result<Option<StoredMilestone>> {
        let row = sqlx::query("SELECT body, version, standing, why FROM milestones WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *self.conn().await?)
            .await?;
        row.as_ref().map(stored).transpose()
    }

    /// Every milestone recorded, standing or undone, in order.
    pub async fn milestones(&self) -> Result<Vec<StoredMilestone>> {
        let rows = sqlx::query("SELECT body, version, standing, why FROM milestones ORDER BY seq")
            .fetch_all(&mut *self.conn().await?)
            .await?;
        rows.iter().map(stored).collect()
    }
}
