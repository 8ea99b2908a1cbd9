//! The outbox: what each sink target is owed and what it was sent.
//!
//! An event is queued once for each *audience* that wants it (`fanout`: the console, or
//! one subscription filter, however many channels share it), in the transaction that
//! records it. A target's announcements still to deliver are the events of its audiences
//! after its last message: they become a row of their own (`messages`) only when one is
//! claimed, alone or as a digest of several, and that row is marked with the posted message
//! id after. A crash at any point leaves an announcement either still owed, or claimed
//! (sent or not: the sink's idempotency decides), or done.
//!
//! To the sinks an announcement for one target is an [`OutboxItem`] whether it has a row
//! yet or not: which targets are due ([`Store::targets_due`]) and the outbox as a whole are
//! here, reading one target's backlog in `backlog`, claiming and marking in `marks`,
//! queueing in `fanout`.

mod backlog;
pub(super) mod fanout;
mod marks;

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Engine, Result, SinkKind, Store, StoreError, parse_time};
use crate::core::changes::EventKind;
pub use backlog::Backlog;

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
    pub kind: Option<EventKind>,
    /// When the row was first claimed for sending (alone or in a digest), if it has been.
    pub first_tried_at: Option<DateTime<Utc>>,
}

impl OutboxItem {
    /// Whether the announcement is only owed: no row of its own yet (never claimed).
    pub(super) fn is_owed(&self) -> bool {
        self.state == OutboxState::Pending
            && self.attempts == 0
            && self.digest_key.is_none()
            && self.next_attempt_at == DateTime::UNIX_EPOCH
    }
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

/// The audiences of a sink's targets, as a table `a(target, filter, publish, since_seq)`:
/// the console's one, or each unpaused subscription.
fn audiences(sink: SinkKind) -> &'static str {
    match sink {
        SinkKind::Console => "SELECT '-' AS target, '' AS filter, 0 AS publish, 0 AS since_seq",
        SinkKind::Discord => {
            "SELECT channel_id AS target, filter, publish, since_seq FROM subscriptions WHERE paused_reason IS NULL"
        }
    }
}

/// Where target `a.target`'s announcements still owed start: after its last message's.
const CURSOR: &str = "COALESCE((SELECT m.last_seq FROM messages m WHERE m.sink = $1 AND m.target = a.target ORDER BY m.seq DESC LIMIT 1), 0)";

/// Whether target `a.target` has a message carrying `f.announced` (any version, any state).
fn told(engine: Engine) -> String {
    format!(
        "EXISTS (SELECT 1 FROM messages m WHERE m.sink = $1 AND m.target = a.target
           AND ((m.carries IS NULL AND m.announced = f.announced) OR {}))",
        engine.contains("m.carries", "'\n' || f.announced || '\t'")
    )
}

/// A digest's `carries`: each announcement as a line `announced<TAB>version`.
pub(super) fn carries(items: &[OutboxItem]) -> String {
    let mut s = String::from("\n");
    for i in items {
        s.push_str(&format!("{}\t{}\n", i.constituency_id, i.version));
    }
    s
}

fn carried(text: &str) -> Result<Vec<(String, u32)>> {
    text.split('\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (id, v) = l
                .split_once('\t')
                .ok_or_else(|| StoreError::Corrupt(format!("digest line `{l}`")))?;
            let v = v
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("digest line `{l}`")))?;
            Ok((id.to_string(), v))
        })
        .collect()
}

/// How many announcements a message row stands for, in SQL.
const COUNT: &str = "CASE WHEN carries IS NULL THEN 1 ELSE length(carries) - length(replace(carries, '\n', '')) - 1 END";

fn as_u32(n: i64, what: &str) -> Result<u32> {
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("{what} {n}")))
}

fn sink_named(name: &str) -> Result<SinkKind> {
    SinkKind::ALL
        .into_iter()
        .find(|k| k.name() == name)
        .ok_or_else(|| StoreError::Corrupt(format!("outbox sink `{name}`")))
}

const MESSAGE: &str =
    "m.key, m.sink, m.target, m.seq, m.announced, m.version, m.carries, m.state, m.attempts,
    m.next_attempt_at, m.first_tried_at, m.message_id, m.last_error, d.kind";
const MESSAGE_FROM: &str = "messages m LEFT JOIN declarations d ON m.carries IS NULL AND d.constituency_id = m.announced AND d.version = m.version";

impl Store {
    /// The items of one message row: the announcement, or each one a digest carries.
    async fn expand(&self, r: &sqlx::any::AnyRow) -> Result<Vec<OutboxItem>> {
        let sink = sink_named(&r.try_get::<String, _>("sink")?)?;
        let target: String = r.try_get("target")?;
        let key: String = r.try_get("key")?;
        let state = OutboxState::parse(&r.try_get::<String, _>("state")?)?;
        let attempts = u32::try_from(r.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX);
        let next_attempt_at = parse_time(&r.try_get::<String, _>("next_attempt_at")?)?;
        let first_tried_at = r
            .try_get::<Option<String>, _>("first_tried_at")?
            .as_deref()
            .map(parse_time)
            .transpose()?;
        let message_id: Option<String> = r.try_get("message_id")?;
        let last_error: Option<String> = r.try_get("last_error")?;
        let item = |announced: String, version, seq, kind, state, digest_key| OutboxItem {
            key: sink.key(&target, &announced, version),
            sink,
            target: target.clone(),
            constituency_id: announced,
            version,
            seq,
            state,
            attempts,
            next_attempt_at,
            message_id: message_id.clone(),
            last_error: last_error.clone(),
            digest_key,
            kind,
            first_tried_at,
        };
        let Some(text) = r.try_get::<Option<String>, _>("carries")? else {
            let kind = r.try_get::<Option<String>, _>("kind")?;
            let mut one = item(
                r.try_get("announced")?,
                as_u32(r.try_get("version")?, "version")?,
                r.try_get("seq")?,
                kind.as_deref().and_then(EventKind::parse),
                state,
                None,
            );
            one.key = key;
            return Ok(vec![one]);
        };
        let state = match state {
            OutboxState::Sent => OutboxState::Merged,
            other => other,
        };
        let carried = carried(&text)?;
        let found: Vec<(String, i64, i64, String)> = self
            .carried_rows(&carried, "constituency_id, version, seq, kind")
            .await?
            .iter()
            .map(|d| {
                Ok((
                    d.try_get("constituency_id")?,
                    d.try_get("version")?,
                    d.try_get("seq")?,
                    d.try_get("kind")?,
                ))
            })
            .collect::<Result<_>>()?;
        let mut items = Vec::new();
        for (announced, version) in carried {
            let (seq, kind) = found
                .iter()
                .find(|(id, v, _, _)| *id == announced && *v == i64::from(version))
                .map_or((r.try_get("seq")?, None), |(_, _, seq, kind)| {
                    (*seq, EventKind::parse(kind))
                });
            items.push(item(
                announced,
                version,
                seq,
                kind,
                state,
                Some(key.clone()),
            ));
        }
        items.sort_by_key(|i| i.seq);
        Ok(items)
    }

    async fn expand_all(&self, rows: &[sqlx::any::AnyRow]) -> Result<Vec<OutboxItem>> {
        let mut items = Vec::new();
        for r in rows {
            items.extend(self.expand(r).await?);
        }
        Ok(items)
    }

    /// Announcements of `sink` still to deliver (claimed or not), oldest event first.
    pub async fn undelivered(&self, sink: SinkKind, limit: i64) -> Result<Vec<OutboxItem>> {
        let mut items = Vec::new();
        for target in self.targets(sink).await? {
            items.extend(self.undelivered_for(sink, &target, limit).await?);
        }
        items.sort_by(|a, b| (a.seq, &a.target).cmp(&(b.seq, &b.target)));
        items.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(items)
    }

    /// Every target of a sink: with a message, or an audience.
    async fn targets(&self, sink: SinkKind) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(&format!(
            "SELECT DISTINCT target FROM messages WHERE sink = $1
             UNION SELECT target FROM ({}) a ORDER BY 1",
            audiences(sink)
        ))
        .bind(sink.name())
        .fetch_all(&mut *self.conn().await?)
        .await?)
    }

    /// Every announcement of a sink, delivered or not, in event order (for tests and audits).
    pub async fn outbox(&self, sink: SinkKind) -> Result<Vec<OutboxItem>> {
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE} FROM {MESSAGE_FROM} WHERE m.sink = $1 ORDER BY m.target, m.seq"
        ))
        .bind(sink.name())
        .fetch_all(&mut *self.conn().await?)
        .await?;
        let mut items = self.expand_all(&rows).await?;
        for target in self.targets(sink).await? {
            let mut told = HashSet::new();
            let heard = self.heard(sink, &target).await?;
            for o in self.owed(sink, &target, heard, i64::MAX, &mut told).await? {
                items.push(Self::owed_item(sink, &target, o));
            }
        }
        items.sort_by(|a, b| (a.seq, &a.target).cmp(&(b.seq, &b.target)));
        Ok(items)
    }

    /// The first message posted for this constituency to this target (what corrections
    /// edit), and whether it was the seat's own message (`Sent`) or a digest that carried
    /// it (`Merged`).
    pub async fn original_post(
        &self,
        sink: SinkKind,
        target: &str,
        constituency: &str,
    ) -> Result<Option<(String, OutboxState)>> {
        let row: Option<(String, i64)> = sqlx::query_as(&format!(
            "SELECT message_id, CASE WHEN carries IS NULL THEN 0 ELSE 1 END FROM messages WHERE sink = $1 AND target = $2
               AND state = 'sent' AND message_id IS NOT NULL
               AND ((carries IS NULL AND announced = $3) OR {})
             ORDER BY seq LIMIT 1",
            self.engine().contains("carries", "'\n' || $3 || '\t'")
        ))
        .bind(sink.name())
        .bind(target)
        .bind(constituency)
        .fetch_optional(&mut *self.conn().await?)
        .await?;
        Ok(row.map(|(id, digest)| {
            let state = if digest != 0 {
                OutboxState::Merged
            } else {
                OutboxState::Sent
            };
            (id, state)
        }))
    }

    /// The message one version of an announcement was posted as in `target`, if it was
    /// posted alone.
    pub async fn posted_at(
        &self,
        sink: SinkKind,
        target: &str,
        constituency: &str,
        version: u32,
    ) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT message_id FROM messages WHERE sink = $1 AND target = $2 AND announced = $3 AND version = $4
               AND carries IS NULL AND state = 'sent' AND message_id IS NOT NULL",
        )
        .bind(sink.name())
        .bind(target)
        .bind(constituency)
        .bind(i64::from(version))
        .fetch_optional(&mut *self.conn().await?)
        .await?)
    }

    /// Targets of a sink whose next announcement is due now, most urgent first: those whose
    /// next one was tried before (a retry, or a send cut short by a crash, which Discord's
    /// nonce covers only for a few minutes), then by the age of that announcement, so that
    /// no channel waits behind the others' whole backlog.
    pub async fn targets_due(&self, sink: SinkKind, now: DateTime<Utc>) -> Result<Vec<String>> {
        // A target with an open message (claimed, or waiting for a retry) goes by it: later
        // announcements do not overtake it.
        let open: Vec<(String, i64, String, i64)> = sqlx::query_as(&format!(
            "SELECT m.target, m.seq, m.next_attempt_at, m.attempts FROM messages m {indexed}
             WHERE m.sink = $1 AND m.state IN ('pending', 'claimed')
               AND m.seq = (SELECT MIN(o.seq) FROM messages o {indexed}
                 WHERE o.sink = m.sink AND o.target = m.target AND o.state IN ('pending', 'claimed'))",
            indexed = self.engine().indexed_by("messages_open")
        ))
        .bind(sink.name())
        .fetch_all(&mut *self.conn().await?)
        .await?;
        // Otherwise by its first owed event: a few seeks for each audience.
        let owed: Vec<(String, Option<i64>)> = sqlx::query_as(&format!(
            "SELECT a.target, MIN((SELECT MIN(f.seq) FROM fanout f WHERE f.sink = $1 AND f.filter = a.filter
                 AND f.publish = a.publish AND f.seq > {greatest}(a.since_seq, {CURSOR}) AND (f.follows = 0 OR {told})))
             FROM ({audiences}) a GROUP BY a.target",
            greatest = self.engine().greatest(),
            told = told(self.engine()),
            audiences = audiences(sink)
        ))
        .bind(sink.name())
        .fetch_all(&mut *self.conn().await?)
        .await?;
        let mut heads: BTreeMap<String, (bool, i64)> = BTreeMap::new();
        let now = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let mut waiting = HashSet::new();
        for (target, head, next_at, attempts) in open {
            if next_at <= now {
                heads.insert(target, (attempts > 0, head));
            } else {
                waiting.insert(target);
            }
        }
        for (target, head) in owed {
            if let Some(head) = head
                && !waiting.contains(&target)
            {
                heads.entry(target).or_insert((false, head));
            }
        }
        let mut due: Vec<(String, (bool, i64))> = heads.into_iter().collect();
        due.sort_by(|(a, (tried_a, head_a)), (b, (tried_b, head_b))| {
            tried_b.cmp(tried_a).then(head_a.cmp(head_b)).then(a.cmp(b))
        });
        Ok(due.into_iter().map(|(t, _)| t).collect())
    }

    /// The declarations rows of the announcements a digest carries, in one query.
    async fn carried_rows(
        &self,
        carried: &[(String, u32)],
        columns: &str,
    ) -> Result<Vec<sqlx::any::AnyRow>> {
        let mut rows = Vec::new();
        // Two bound values an announcement, well under SQLite's limit per statement.
        for chunk in carried.chunks(400) {
            let pairs: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
                .collect();
            let sql = format!(
                "SELECT {columns} FROM declarations WHERE (constituency_id, version) IN (VALUES {}) ORDER BY seq",
                pairs.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for (announced, version) in chunk {
                q = q.bind(announced).bind(i64::from(*version));
            }
            rows.extend(q.fetch_all(&mut *self.conn().await?).await?);
        }
        Ok(rows)
    }

    /// The events of `items` (a digest's), in order, in one query.
    pub async fn events_of(&self, items: &[OutboxItem]) -> Result<Vec<super::StoredEvent>> {
        let carried: Vec<(String, u32)> = items
            .iter()
            .map(|i| (i.constituency_id.clone(), i.version))
            .collect();
        self.carried_rows(&carried, "seq, version, kind, body, differences, seen_at")
            .await?
            .iter()
            .map(super::event_from_row)
            .collect()
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
            "SELECT target, COUNT(*) AS n, MAX(updated_at) AS last, MAX(CASE WHEN state = 'claimed' THEN 1 ELSE 0 END) AS claimed FROM messages
             WHERE sink = $1 AND state IN ('sent', 'claimed') AND updated_at >= $2 GROUP BY target",
        )
        .bind(sink.name())
        .bind(since.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .fetch_all(&mut *self.conn().await?)
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

    /// Announcements still to deliver, per sink (the outbox depth): those claimed or
    /// waiting for a retry, and every event owed after each target's last message (an
    /// event a target only follows counts whether it was told of the seat or not).
    pub async fn depth(&self, sink: SinkKind) -> Result<i64> {
        Ok(self.open_count(sink).await? + self.owed_count(sink).await?)
    }

    /// Announcements claimed or waiting for a retry.
    async fn open_count(&self, sink: SinkKind) -> Result<i64> {
        // By the index of open messages: the planner would otherwise scan every message of
        // the sink by its key.
        Ok(sqlx::query_scalar(&format!(
            "SELECT CAST(COALESCE(SUM({COUNT}), 0) AS BIGINT) FROM messages {} WHERE sink = $1 AND state IN ('pending', 'claimed')",
            self.engine().indexed_by("messages_open")
        ))
        .bind(sink.name())
        .fetch_one(&mut *self.conn().await?)
        .await?)
    }

    /// Events owed after each target's last message. A target of one audience (nearly
    /// every channel) is counted from the audience's numbering, in three seeks; one of
    /// several is counted event by event, each event once.
    async fn owed_count(&self, sink: SinkKind) -> Result<i64> {
        let last_n = "SELECT f.n FROM fanout f WHERE f.sink = $1 AND f.filter = a.filter AND f.publish = a.publish";
        let one: i64 = sqlx::query_scalar(&format!(
            "WITH a AS ({audiences}), one AS (SELECT target FROM a GROUP BY target HAVING COUNT(*) = 1)
             SELECT CAST(COALESCE(SUM(COALESCE(({last_n} ORDER BY f.seq DESC LIMIT 1), 0)
                 - COALESCE(({last_n} AND f.seq <= {greatest}(a.since_seq, {CURSOR}) ORDER BY f.seq DESC LIMIT 1), 0)), 0) AS BIGINT)
             FROM a WHERE a.target IN (SELECT target FROM one)",
            audiences = audiences(sink),
            greatest = self.engine().greatest()
        ))
        .bind(sink.name())
        .fetch_one(&mut *self.conn().await?)
        .await?;
        let many: i64 = sqlx::query_scalar(&format!(
            "WITH a AS ({}), many AS (SELECT target FROM a GROUP BY target HAVING COUNT(*) > 1)
             SELECT COUNT(*) FROM (SELECT a.target, f.seq FROM a JOIN fanout f ON f.sink = $1
               AND f.filter = a.filter AND f.publish = a.publish AND f.seq > {}(a.since_seq, {CURSOR})
             WHERE a.target IN (SELECT target FROM many) GROUP BY a.target, f.seq) t",
            audiences(sink),
            self.engine().greatest()
        ))
        .bind(sink.name())
        .fetch_one(&mut *self.conn().await?)
        .await?;
        Ok(one + many)
    }

    /// Announcements by (sink, state), for `herald store info`: those with a message by the
    /// message's state (a digest's as `merged`), and those owed as `pending`.
    pub(super) async fn outbox_counts(&self) -> Result<Vec<(String, String, u64)>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(&format!(
            "SELECT sink, CASE WHEN carries IS NOT NULL AND state = 'sent' THEN 'merged' ELSE state END, CAST(SUM({COUNT}) AS BIGINT)
             FROM messages GROUP BY 1, 2"
        ))
        .fetch_all(&mut *self.conn().await?)
        .await?;
        let mut counts: BTreeMap<(String, String), u64> = rows
            .into_iter()
            .map(|(sink, state, n)| ((sink, state), n.max(0) as u64))
            .collect();
        for sink in SinkKind::ALL {
            let owed = self.owed_count(sink).await?;
            if owed > 0 {
                *counts
                    .entry((sink.name().to_string(), "pending".to_string()))
                    .or_default() += owed as u64;
            }
        }
        Ok(counts
            .into_iter()
            .map(|((sink, state), n)| (sink, state, n))
            .collect())
    }
}
