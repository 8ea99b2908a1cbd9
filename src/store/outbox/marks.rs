//! Claiming and marking: an announcement gets its message row when it is first claimed
//! (alone, or with others as a digest), and the row records what became of it.

use chrono::{DateTime, Utc};

use super::{COUNT, OutboxItem, carries};
use crate::store::{Result, SinkKind, Store, now_text};

/// What a mark sets on an announcement's row.
struct Mark<'a> {
    state: &'static str,
    message_id: Option<&'a str>,
    error: Option<&'a str>,
    /// When to try again (a retry), or leave as it is.
    next_at: Option<String>,
}

fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Creates the row of `items` (one alone, `carries` None; a digest of several: Some) as `m`
/// says, only while they are still owed: after the target's last message, and never twice.
/// Returns whether it was created.
async fn create(
    conn: &mut sqlx::AnyConnection,
    key: &str,
    items: &[OutboxItem],
    carries: Option<String>,
    m: &Mark<'_>,
) -> Result<bool> {
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        return Ok(false);
    };
    let now = now_text();
    let tried = (m.state == "claimed").then(|| now.clone());
    let created = sqlx::query(
        "INSERT INTO messages (key, sink, target, seq, last_seq, announced, version, carries, state, attempts,
             next_attempt_at, first_tried_at, message_id, last_error, updated_at)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15
         WHERE NOT EXISTS (SELECT 1 FROM messages WHERE key = $1)
           AND $4 > COALESCE((SELECT last_seq FROM messages WHERE sink = $2 AND target = $3 ORDER BY seq DESC LIMIT 1), 0)",
    )
    .bind(key)
    .bind(first.sink.name())
    .bind(&first.target)
    .bind(first.seq)
    .bind(last.seq)
    .bind(&first.constituency_id)
    .bind(i64::from(first.version))
    .bind(carries)
    .bind(m.state)
    .bind(i64::from(tried.is_some()))
    .bind(m.next_at.clone().unwrap_or_else(|| time_text(first.next_attempt_at)))
    .bind(tried)
    .bind(m.message_id)
    .bind(m.error)
    .bind(&now)
    .execute(conn)
    .await?;
    Ok(created.rows_affected() == 1)
}

impl Store {
    /// Sets an announcement's row (by key) to `m`, creating it if the announcement was only
    /// owed. Returns whether a row changed.
    async fn mark(&self, item: &OutboxItem, m: Mark<'_>) -> Result<bool> {
        let r: Result<bool> = async {
            let key = item.digest_key.as_deref().unwrap_or(&item.key);
            let done = sqlx::query(
                "UPDATE messages SET state = $1, message_id = COALESCE($2, message_id), last_error = $3,
                   next_attempt_at = COALESCE($4, next_attempt_at), updated_at = $5 WHERE key = $6",
            )
            .bind(m.state)
            .bind(m.message_id)
            .bind(m.error)
            .bind(m.next_at.as_deref())
            .bind(now_text())
            .bind(key)
            .execute(&mut *self.conn().await?)
            .await?;
            if done.rows_affected() > 0 || item.digest_key.is_some() {
                return Ok(done.rows_affected() > 0);
            }
            let mut conn = self.conn().await?;
            create(&mut conn, key, std::slice::from_ref(item), None, &m).await
        }
        .await;
        self.settle(r).await
    }

    /// Claims an announcement before sending it: one still owed, pending, or already
    /// claimed (its sender crashed). Returns false if it is done or gone.
    pub async fn claim(&self, item: &OutboxItem) -> Result<bool> {
        // Nothing is sent that a deleted or replaced store could not remember sending.
        self.guard.check_file()?;
        let r: Result<bool> = async {
            let m = Mark {
                state: "claimed",
                message_id: None,
                error: None,
                next_at: None,
            };
            // An announcement only owed gets its row; one with a row is claimed again.
            let mut conn = self.conn().await?;
            if item.is_owed()
                && create(&mut conn, &item.key, std::slice::from_ref(item), None, &m).await?
            {
                return Ok(true);
            }
            let now = now_text();
            let done = sqlx::query(
                "UPDATE messages SET state = 'claimed', attempts = attempts + 1, updated_at = $1,
                   first_tried_at = COALESCE(first_tried_at, $2)
                 WHERE key = $3 AND state IN ('pending', 'claimed')",
            )
            .bind(&now)
            .bind(&now)
            .bind(&item.key)
            .execute(&mut *conn)
            .await?;
            if done.rows_affected() == 1 {
                return Ok(true);
            }
            if item.is_owed() {
                return Ok(false);
            }
            create(&mut conn, &item.key, std::slice::from_ref(item), None, &m).await
        }
        .await;
        self.settle(r).await
    }

    /// Marks an announcement delivered, with the message id where the sink has one.
    pub async fn mark_sent(&self, item: &OutboxItem, message_id: Option<&str>) -> Result<()> {
        self.mark(
            item,
            Mark {
                state: "sent",
                message_id,
                error: None,
                next_at: None,
            },
        )
        .await
        .map(|_| ())
    }

    /// Puts a claimed announcement back to be retried no earlier than `at`.
    pub async fn mark_retry(
        &self,
        item: &OutboxItem,
        at: DateTime<Utc>,
        error: &str,
    ) -> Result<()> {
        self.mark(
            item,
            Mark {
                state: "pending",
                message_id: None,
                error: Some(error),
                next_at: Some(time_text(at)),
            },
        )
        .await
        .map(|_| ())
    }

    /// Gives up on an announcement (a permanent failure).
    pub async fn mark_failed(&self, item: &OutboxItem, error: &str) -> Result<()> {
        self.mark(
            item,
            Mark {
                state: "failed",
                message_id: None,
                error: Some(error),
                next_at: None,
            },
        )
        .await
        .map(|_| ())
    }

    /// Claims announcements together as one digest under `digest_key` (before it is sent):
    /// the first of the target's owed ones, in order. Returns whether they were claimed.
    pub async fn claim_digest(&self, items: &[OutboxItem], digest_key: &str) -> Result<bool> {
        self.guard.check_file()?;
        let (Some(first), Some(last)) = (items.first(), items.last()) else {
            return Ok(false);
        };
        let m = Mark {
            state: "claimed",
            message_id: None,
            error: None,
            next_at: None,
        };
        let r: Result<bool> = async {
            if items.iter().all(OutboxItem::is_owed) {
                let mut conn = self.conn().await?;
                return create(&mut conn, digest_key, items, Some(carries(items)), &m).await;
            }
            // A row of its own that was never tried (from a store before the outbox by
            // audience) joins the digest.
            let mut conn = self.conn().await?;
            let mut tx = conn.begin().await?;
            sqlx::query(
                "DELETE FROM messages WHERE sink = $1 AND target = $2 AND seq BETWEEN $3 AND $4
                   AND carries IS NULL AND state = 'pending' AND attempts = 0",
            )
            .bind(first.sink.name())
            .bind(&first.target)
            .bind(first.seq)
            .bind(last.seq)
            .execute(&mut *tx)
            .await?;
            let created = create(&mut tx, digest_key, items, Some(carries(items)), &m).await?;
            if created {
                tx.commit().await?;
            }
            Ok(created)
        }
        .await;
        self.settle(r).await
    }

    /// Marks a digest posted. Returns how many announcements it carried.
    pub async fn finish_digest(&self, digest_key: &str, message_id: &str) -> Result<u64> {
        self.end_digest(digest_key, "sent", Some(message_id), None)
            .await
    }

    /// Gives up a digest (a permanent failure). Returns how many announcements it carried.
    pub async fn fail_digest(&self, digest_key: &str, error: &str) -> Result<u64> {
        self.end_digest(digest_key, "failed", None, Some(error))
            .await
    }

    async fn end_digest(
        &self,
        digest_key: &str,
        state: &str,
        message_id: Option<&str>,
        error: Option<&str>,
    ) -> Result<u64> {
        let r: Result<u64> = async {
            let n: Option<i64> = sqlx::query_scalar(&format!(
                "UPDATE messages SET state = $1, message_id = COALESCE($2, message_id), last_error = $3, updated_at = $4
                 WHERE key = $5 AND state = 'claimed' RETURNING {COUNT}"
            ))
            .bind(state)
            .bind(message_id)
            .bind(error)
            .bind(now_text())
            .bind(digest_key)
            .fetch_optional(&mut *self.conn().await?)
            .await?;
            Ok(n.unwrap_or(0).max(0) as u64)
        }
        .await;
        self.settle(r).await
    }

    /// Keeps a claimed digest together to be retried no earlier than `at`.
    pub async fn retry_digest(
        &self,
        digest_key: &str,
        at: DateTime<Utc>,
        error: &str,
    ) -> Result<()> {
        self.exec(
            sqlx::query(
                "UPDATE messages SET next_attempt_at = $1, last_error = $2, updated_at = $3 WHERE key = $4 AND state = 'claimed'",
            )
            .bind(time_text(at))
            .bind(error)
            .bind(now_text())
            .bind(digest_key),
        )
        .await
        .map(|_| ())
    }

    /// Gives up every claimed or retried announcement of a target (its channel is gone or
    /// refuses herald; what it is owed goes with its subscriptions, paused or removed).
    /// Returns how many.
    pub async fn fail_target(&self, sink: SinkKind, target: &str, error: &str) -> Result<u64> {
        let r: Result<u64> = async {
            let n: Vec<i64> = sqlx::query_scalar(&format!(
                "UPDATE messages SET state = 'failed', last_error = $1, updated_at = $2
                 WHERE sink = $3 AND target = $4 AND state IN ('pending', 'claimed') RETURNING {COUNT}"
            ))
            .bind(error)
            .bind(now_text())
            .bind(sink.name())
            .bind(target)
            .fetch_all(&mut *self.conn().await?)
            .await?;
            Ok(n.into_iter().map(|n| n.max(0) as u64).sum())
        }
        .await;
        self.settle(r).await
    }
}
