//! The outbox: one row per announcement per sink target. A row is claimed before it is
//! sent and marked with the posted message id after, so a crash at any point leaves a row
//! either still to send, or claimed (sent or not: the sink's idempotency decides), or done.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Result, SinkKind, Store, StoreError, Tx, now_text, parse_time};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboxState {
    /// Waiting to be sent (or to be retried at `next_attempt_at`).
    Pending,
    /// Taken by a sender; it may or may not have reached its target.
    Claimed,
    /// Delivered.
    Sent,
    /// Given up: a permanent failure (the target is gone).
    Failed,
    /// Folded into a digest message, which carries it.
    Merged,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Claimed => "claimed",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
            OutboxState::Merged => "merged",
        }
    }

    fn parse(s: &str) -> Result<OutboxState> {
        Ok(match s {
            "pending" => OutboxState::Pending,
            "claimed" => OutboxState::Claimed,
            "sent" => OutboxState::Sent,
            "failed" => OutboxState::Failed,
            "merged" => OutboxState::Merged,
            other => return Err(StoreError::Corrupt(format!("outbox state `{other}`"))),
        })
    }
}

/// One announcement for one target.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxItem {
    pub key: String,
    pub sink: SinkKind,
    pub target: String,
    pub constituency_id: String,
    pub version: u32,
    pub seq: i64,
    pub state: OutboxState,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub message_id: Option<String>,
    pub last_error: Option<String>,
    /// Set while the row is claimed as part of a digest (the digest's key).
    pub digest_key: Option<String>,
    /// The kind of the event announced.
    pub kind: Option<crate::core::changes::EventKind>,
    /// When the row was first claimed for sending (alone or in a digest), if it has been.
    pub first_tried_at: Option<DateTime<Utc>>,
}

/// What a target was sent lately (see [`Store::recent_posts`]).
#[derive(Clone, Debug, PartialEq)]
pub struct RecentPosts {
    pub target: String,
    /// Messages posted, or claimed and perhaps posted.
    pub posted: u32,
    /// The latest of them (for a claimed row: when it was claimed).
    pub last: DateTime<Utc>,
    /// Whether a claimed row is among them: its send may have waited for the rate limits
    /// after it was claimed, so it may have left later than `last`.
    pub in_flight: bool,
}

/// An outbox row to create.
pub(super) struct NewRow {
    pub key: String,
    pub sink: SinkKind,
    pub target: String,
    pub constituency: String,
    pub version: u32,
    pub seq: i64,
}

impl NewRow {
    /// The row announcing version `version` of `announced` (a constituency, or a milestone's
    /// outbox id) to `target`, its key derived from those.
    pub fn new(sink: SinkKind, target: &str, announced: &str, version: u32, seq: i64) -> NewRow {
        NewRow {
            key: sink.key(target, announced, version),
            sink,
            target: target.to_string(),
            constituency: announced.to_string(),
            version,
            seq,
        }
    }
}

/// Creates outbox rows (an existing key is left as it is), many to a statement: an event
/// fans out to every subscribed channel, thousands of rows at the peak.
pub(super) async fn enqueue(tx: &mut Tx<'_>, rows: &[NewRow], now: &str) -> Result<()> {
    // Six bound values a row, well under SQLite's limit on variables per statement.
    for chunk in rows.chunks(1000) {
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO outbox (idempotency_key, sink, target, constituency_id, version, seq, state, attempts, next_attempt_at, created_at, updated_at) ",
        );
        q.push_values(chunk, |mut b, r| {
            b.push_bind(&r.key)
                .push_bind(r.sink.name())
                .push_bind(&r.target)
                .push_bind(&r.constituency)
                .push_bind(i64::from(r.version))
                .push_bind(r.seq)
                .push("'pending'")
                .push("0")
                .push_bind(now)
                .push_bind(now)
                .push_bind(now);
        });
        // A row already there (same key, or the same event for the same target) stays.
        q.push(" ON CONFLICT DO NOTHING");
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// The outbox row with the kind of its event.
const COLUMNS: &str = "o.idempotency_key, o.sink, o.target, o.constituency_id, o.version, o.seq, o.state, o.attempts, \
    o.next_attempt_at, o.message_id, o.last_error, o.digest_key, o.first_tried_at, d.kind";
const FROM: &str = "outbox o LEFT JOIN declarations d ON d.constituency_id = o.constituency_id AND d.version = o.version";
const FROM_PENDING: &str = "outbox o INDEXED BY outbox_pending LEFT JOIN declarations d ON d.constituency_id = o.constituency_id AND d.version = o.version";

fn item(r: &sqlx::sqlite::SqliteRow) -> Result<OutboxItem> {
    let state: String = r.try_get("state")?;
    let at: String = r.try_get("next_attempt_at")?;
    let version: i64 = r.try_get("version")?;
    let attempts: i64 = r.try_get("attempts")?;
    Ok(OutboxItem {
        key: r.try_get("idempotency_key")?,
        sink: {
            let name: String = r.try_get("sink")?;
            SinkKind::ALL
                .into_iter()
                .find(|k| k.name() == name)
                .ok_or_else(|| StoreError::Corrupt(format!("outbox sink `{name}`")))?
        },
        target: r.try_get("target")?,
        constituency_id: r.try_get("constituency_id")?,
        version: u32::try_from(version)
            .map_err(|_| StoreError::Corrupt(format!("version {version}")))?,
        seq: r.try_get("seq")?,
        state: OutboxState::parse(&state)?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        next_attempt_at: parse_time(&at)?,
        message_id: r.try_get("message_id")?,
        last_error: r.try_get("last_error")?,
        digest_key: r.try_get("digest_key")?,
        kind: r
            .try_get::<Option<String>, _>("kind")?
            .as_deref()
            .and_then(crate::core::changes::EventKind::parse),
        first_tried_at: r
            .try_get::<Option<String>, _>("first_tried_at")?
            .as_deref()
            .map(parse_time)
            .transpose()?,
    })
}

impl Store {
    /// Rows of `sink` still to deliver (pending or claimed), oldest event first.
    pub async fn undelivered(&self, sink: SinkKind, limit: i64) -> Result<Vec<OutboxItem>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE o.sink = ? AND o.state IN ('pending', 'claimed') ORDER BY o.seq, o.target LIMIT ?"
        ))
        .bind(sink.name())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(item).collect()
    }

    /// The first `limit` rows of one target still to deliver, oldest event first.
    pub async fn undelivered_for(
        &self,
        sink: SinkKind,
        target: &str,
        limit: i64,
    ) -> Result<Vec<OutboxItem>> {
        // Through the pending index: the primary key would walk past every row the target
        // was already sent (hundreds, late in a night) to reach the first pending one.
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM {FROM_PENDING} WHERE o.sink = ? AND o.target = ? AND o.state IN ('pending', 'claimed') ORDER BY o.seq LIMIT ?"
        ))
        .bind(sink.name())
        .bind(target)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(item).collect()
    }

    /// One row by key.
    pub async fn outbox_item(&self, key: &str) -> Result<Option<OutboxItem>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE o.idempotency_key = ?"
        ))
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(item).transpose()
    }

    /// Every row of a sink, in event order (for tests and audits).
    pub async fn outbox(&self, sink: SinkKind) -> Result<Vec<OutboxItem>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE o.sink = ? ORDER BY o.seq, o.target"
        ))
        .bind(sink.name())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(item).collect()
    }

    /// Claims a row before sending it: only a pending or already claimed row (one whose
    /// sender crashed) can be claimed. Returns false if it is done or gone.
    pub async fn claim(&self, key: &str) -> Result<bool> {
        // Nothing is sent that a deleted or replaced store could not remember sending.
        self.guard.check_file()?;
        let r: Result<bool> = async {
            let now = now_text();
            let done = sqlx::query(
                "UPDATE outbox SET state = 'claimed', attempts = attempts + 1, updated_at = ?,
                   first_tried_at = COALESCE(first_tried_at, ?)
                 WHERE idempotency_key = ? AND state IN ('pending', 'claimed')",
            )
            .bind(&now)
            .bind(&now)
            .bind(key)
            .execute(self.pool())
            .await?;
            Ok(done.rows_affected() == 1)
        }
        .await;
        self.settle(r).await
    }

    /// Marks a row delivered, with the message id where the sink has one.
    pub async fn mark_sent(&self, key: &str, message_id: Option<&str>) -> Result<()> {
        self.exec(
            sqlx::query(
                "UPDATE outbox SET state = 'sent', message_id = COALESCE(?, message_id), last_error = NULL, updated_at = ?
                 WHERE idempotency_key = ?",
            )
            .bind(message_id)
            .bind(now_text())
            .bind(key),
        )
        .await
        .map(|_| ())
    }

    /// Puts a claimed row back to be retried no earlier than `at`.
    pub async fn mark_retry(&self, key: &str, at: DateTime<Utc>, error: &str) -> Result<()> {
        self.exec(
            sqlx::query(
                "UPDATE outbox SET state = 'pending', next_attempt_at = ?, last_error = ?, updated_at = ? WHERE idempotency_key = ?",
            )
            .bind(at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            .bind(error)
            .bind(now_text())
            .bind(key),
        )
        .await
        .map(|_| ())
    }

    /// Gives up on a row (a permanent failure).
    pub async fn mark_failed(&self, key: &str, error: &str) -> Result<()> {
        self.exec(
            sqlx::query(
                "UPDATE outbox SET state = 'failed', last_error = ?, updated_at = ? WHERE idempotency_key = ?",
            )
            .bind(error)
            .bind(now_text())
            .bind(key),
        )
        .await
        .map(|_| ())
    }

    /// The first message posted for this constituency to this target (what corrections
    /// edit), and whether it was the seat's own message or a digest that carried it.
    pub async fn original_post(
        &self,
        sink: SinkKind,
        target: &str,
        constituency: &str,
    ) -> Result<Option<(String, OutboxState)>> {
        let row = sqlx::query(
            "SELECT message_id, state FROM outbox WHERE sink = ? AND target = ? AND constituency_id = ?
               AND state IN ('sent', 'merged') AND message_id IS NOT NULL
             ORDER BY version LIMIT 1",
        )
        .bind(sink.name())
        .bind(target)
        .bind(constituency)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            let id: String = r.try_get("message_id")?;
            let state: String = r.try_get("state")?;
            Ok((id, OutboxState::parse(&state)?))
        })
        .transpose()
    }

    /// The message one version of an announcement was posted as in `target`, if it was.
    pub async fn posted_at(
        &self,
        sink: SinkKind,
        target: &str,
        constituency: &str,
        version: u32,
    ) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT message_id FROM outbox WHERE sink = ? AND target = ? AND constituency_id = ? AND version = ?
               AND state = 'sent' AND message_id IS NOT NULL",
        )
        .bind(sink.name())
        .bind(target)
        .bind(constituency)
        .bind(i64::from(version))
        .fetch_optional(self.pool())
        .await?)
    }

    /// Targets of a sink whose next announcement (the oldest pending or claimed row) is due
    /// now, most urgent first: those whose next row was tried before (a retry, or a send
    /// cut short by a crash, which Discord's nonce covers only for a few minutes), then by
    /// the age of that row, so that no channel waits behind the others' whole backlog.
    pub async fn targets_due(&self, sink: SinkKind, now: DateTime<Utc>) -> Result<Vec<String>> {
        // A skip scan of the partial index `outbox_pending`: a few seeks for each target with
        // work (the next target, and its head row's order, due time and attempts), not a read
        // of every pending row (at the peak, hundreds of thousands, asked for every second).
        Ok(sqlx::query_scalar(
            "WITH RECURSIVE t(target) AS (
                 SELECT (SELECT target FROM outbox WHERE sink = ?1 AND state IN ('pending', 'claimed')
                         ORDER BY sink, target LIMIT 1)
                 UNION ALL
                 SELECT (SELECT o.target FROM outbox o WHERE o.sink = ?1 AND o.state IN ('pending', 'claimed')
                           AND o.target > t.target ORDER BY o.sink, o.target LIMIT 1)
                 FROM t WHERE t.target IS NOT NULL
             )
             SELECT target FROM (
                 SELECT t.target AS target,
                   (SELECT o.seq FROM outbox o WHERE o.sink = ?1 AND o.target = t.target
                      AND o.state IN ('pending', 'claimed') ORDER BY o.seq LIMIT 1) AS head,
                   (SELECT o.next_attempt_at FROM outbox o WHERE o.sink = ?1 AND o.target = t.target
                      AND o.state IN ('pending', 'claimed') ORDER BY o.seq LIMIT 1) AS next_at,
                   (SELECT o.attempts FROM outbox o WHERE o.sink = ?1 AND o.target = t.target
                      AND o.state IN ('pending', 'claimed') ORDER BY o.seq LIMIT 1) AS tried
                 FROM t WHERE t.target IS NOT NULL
             )
             WHERE next_at <= ?2
             ORDER BY tried > 0 DESC, head, target",
        )
        .bind(sink.name())
        .bind(now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .fetch_all(self.pool())
        .await?)
    }

    /// Claims rows together as one digest under `digest_key` (before it is sent).
    pub async fn claim_digest(&self, keys: &[String], digest_key: &str) -> Result<()> {
        self.guard.check_file()?;
        let r: Result<()> = async {
            let now = now_text();
            let mut tx = self.pool().begin().await?;
            for chunk in keys.chunks(500) {
                let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                    "UPDATE outbox SET state = 'claimed', attempts = attempts + 1, digest_key = ",
                );
                q.push_bind(digest_key);
                q.push(", updated_at = ");
                q.push_bind(&now);
                q.push(", first_tried_at = COALESCE(first_tried_at, ");
                q.push_bind(&now);
                q.push(")");
                q.push(" WHERE state IN ('pending', 'claimed') AND idempotency_key IN (");
                let mut list = q.separated(", ");
                for key in chunk {
                    list.push_bind(key);
                }
                q.push(")");
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        }
        .await;
        self.settle(r).await
    }

    /// The events a digest carries, in order.
    pub async fn digest_events(&self, digest_key: &str) -> Result<Vec<super::StoredEvent>> {
        let rows = sqlx::query(
            "SELECT d.seq, d.version, d.kind, d.body, d.differences, d.seen_at
             FROM outbox o JOIN declarations d ON d.constituency_id = o.constituency_id AND d.version = o.version
             WHERE o.digest_key = ? ORDER BY o.seq",
        )
        .bind(digest_key)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(super::event_from_row).collect()
    }

    /// Marks every row of a digest as carried by the posted message.
    pub async fn finish_digest(&self, digest_key: &str, message_id: &str) -> Result<u64> {
        self.exec(
            sqlx::query(
                "UPDATE outbox SET state = 'merged', message_id = ?, last_error = NULL, updated_at = ?
                 WHERE digest_key = ? AND state = 'claimed'",
            )
            .bind(message_id)
            .bind(now_text())
            .bind(digest_key),
        )
        .await
    }

    /// Puts a digest's rows back to be retried no earlier than `at` (keeping them together).
    pub async fn retry_digest(
        &self,
        digest_key: &str,
        at: DateTime<Utc>,
        error: &str,
    ) -> Result<()> {
        self.exec(
            sqlx::query(
                "UPDATE outbox SET next_attempt_at = ?, last_error = ?, updated_at = ? WHERE digest_key = ? AND state = 'claimed'",
            )
            .bind(at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            .bind(error)
            .bind(now_text())
            .bind(digest_key),
        )
        .await
        .map(|_| ())
    }

    /// Gives up every undelivered row of a target (its channel is gone or refuses herald).
    pub async fn fail_target(&self, sink: SinkKind, target: &str, error: &str) -> Result<u64> {
        self.exec(
            sqlx::query(
                "UPDATE outbox SET state = 'failed', last_error = ?, updated_at = ?
                 WHERE sink = ? AND target = ? AND state IN ('pending', 'claimed')",
            )
            .bind(error)
            .bind(now_text())
            .bind(sink.name())
            .bind(target),
        )
        .await
    }

    /// Messages posted (or, claimed and not marked, perhaps posted) to each target of a sink
    /// since `since`: how many, and when the last was, so that rate-limit windows opened
    /// before a restart are respected after it.
    pub async fn recent_posts(
        &self,
        sink: SinkKind,
        since: DateTime<Utc>,
    ) -> Result<Vec<RecentPosts>> {
        let rows = sqlx::query(
            "SELECT target, COUNT(DISTINCT COALESCE(message_id, digest_key, idempotency_key)) AS n,
               MAX(updated_at) AS last, MAX(state = 'claimed') AS claimed FROM outbox
             WHERE sink = ? AND state IN ('sent', 'merged', 'claimed') AND updated_at >= ? GROUP BY target",
        )
        .bind(sink.name())
        .bind(since.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let n: i64 = r.try_get("n")?;
                let last: String = r.try_get("last")?;
                let claimed: i64 = r.try_get("claimed")?;
                Ok(RecentPosts {
                    target: r.try_get("target")?,
                    posted: u32::try_from(n).unwrap_or(u32::MAX),
                    last: parse_time(&last)?,
                    in_flight: claimed != 0,
                })
            })
            .collect()
    }

    /// Rows still to deliver, per sink (the outbox depth).
    pub async fn depth(&self, sink: SinkKind) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE sink = ? AND state IN ('pending', 'claimed')",
        )
        .bind(sink.name())
        .fetch_one(self.pool())
        .await?)
    }
}
