//! Reading one target's backlog: its audiences and where each starts, its open messages,
//! the events it is owed after them; and [`Backlog`], a drain's reading of one target kept
//! between its messages.
//!
//! A drain goes through a target's backlog in a row: at the peak of a night a channel is
//! many digests behind, and sends one a second or so. Read afresh for each message, the
//! backlog cost two statements (the audiences with where they start, then their events).
//! A [`Backlog`] keeps both between messages: once a message is recorded, where the
//! target's events start is known without asking (after the message's last event), and the
//! events read past one window are the next window's. It reads afresh when anything else
//! happened to the target (a claim refused, a message open), when this process has seen the
//! subscriptions change ([`Store::subscriptions_changed`]), and at least every [`KEPT_FOR`]:
//! a subscription changed by another process sharing the store reaches a drain under way
//! within that.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use chrono::DateTime;

use super::{CURSOR, MESSAGE, MESSAGE_FROM, OutboxItem, OutboxState, as_u32, audiences};
use crate::core::changes::EventKind;
use crate::store::{Result, SinkKind, Store, StoreError};

/// How long a drain trusts what it read of a target's audiences.
const KEPT_FOR: Duration = Duration::from_secs(10);

/// How many windows of events a read asks for at once: the rest wait for the next windows.
const AHEAD: i64 = 3;

/// One target's backlog as a drain reads it, window after window (see the module's doc).
pub struct Backlog {
    store: Store,
    sink: SinkKind,
    target: String,
    kept: Option<Kept>,
}

/// What a backlog keeps between windows.
struct Kept {
    /// The target's audiences, each with where its owed events start.
    heard: Vec<Heard>,
    /// Events owed and read, not yet recorded, oldest first.
    ahead: Vec<OutboxItem>,
    /// When `heard` was read, and the count of subscription changes then.
    read_at: Instant,
    changes: u64,
    /// Whether the next window may come from it: not after a read that found a message
    /// open, or nothing subscribed.
    reusable: bool,
}

impl Backlog {
    /// The first `limit` announcements still to deliver, as [`Store::undelivered_for`]
    /// reads them, from what is kept where it can be (lent, not copied).
    pub async fn window(&mut self, limit: i64) -> Result<&[OutboxItem]> {
        let n = usize::try_from(limit).unwrap_or(0);
        let changes = self.store.subscriptions_changed();
        let trusted = self
            .kept
            .as_ref()
            .is_some_and(|k| k.reusable && k.changes == changes && k.read_at.elapsed() < KEPT_FOR);
        if !trusted {
            self.kept = Some(self.read(limit, changes).await?);
        } else if let Some(kept) = self.kept.as_mut()
            && (n == 0 || kept.ahead.len() < n)
        {
            // A window is served from what was read while a whole one is left; fewer means
            // the read found the end, and new events may have come since.
            let mut told = HashSet::new();
            let owed = (self.store)
                .owed(
                    self.sink,
                    &self.target,
                    kept.heard.clone(),
                    limit.saturating_mul(AHEAD),
                    &mut told,
                )
                .await?;
            kept.ahead = owed
                .into_iter()
                .map(|o| Store::owed_item(self.sink, &self.target, o))
                .collect();
        }
        Ok(self
            .kept
            .as_ref()
            .map_or(&[][..], |k| &k.ahead[..n.min(k.ahead.len())]))
    }

    /// Reads the target afresh: its audiences, then three windows of events (one, and
    /// nothing kept for the next, when a message is open or nothing is subscribed).
    async fn read(&self, limit: i64, changes: u64) -> Result<Kept> {
        let read_at = Instant::now();
        let heard = self.store.heard(self.sink, &self.target).await?;
        let reusable = !heard.is_empty() && !heard.iter().any(|h| h.open);
        let asked = if reusable {
            limit.saturating_mul(AHEAD)
        } else {
            limit
        };
        let ahead = (self.store)
            .undelivered_after(self.sink, &self.target, heard.clone(), asked)
            .await?;
        Ok(Kept {
            heard,
            ahead,
            read_at,
            changes,
            reusable,
        })
    }

    /// The target's message carrying its announcements up to event `seq` was recorded (sent,
    /// or given up): its events after `seq` follow.
    pub fn recorded(&mut self, seq: i64) {
        if let Some(kept) = &mut self.kept {
            for h in &mut kept.heard {
                h.after = h.after.max(seq);
            }
            kept.ahead.retain(|i| i.seq > seq);
        }
    }

    /// Something else happened to the target: the next window is read afresh.
    pub fn forget(&mut self) {
        self.kept = None;
    }
}

/// One audience of a target: its filter, and the event after which it is owed.
#[derive(Clone)]
pub(super) struct Heard {
    filter: String,
    publish: i64,
    after: i64,
    /// Whether the target has a message open (claimed, or waiting for a retry).
    open: bool,
}

/// An event owed to a target, not claimed yet.
pub(super) struct Owed {
    seq: i64,
    announced: String,
    version: u32,
    follows: bool,
    kind: Option<EventKind>,
}

impl Store {
    /// A drain's reading of `target`'s backlog (see [`Backlog`]).
    pub fn backlog(&self, sink: SinkKind, target: &str) -> Backlog {
        Backlog {
            store: self.clone(),
            sink,
            target: target.to_string(),
            kept: None,
        }
    }

    /// Each audience of `target` and where its events start (after the target's last
    /// message and after the subscription was made), and whether the target has a message
    /// open (claimed, or waiting for a retry): one query for what a drain reads each time.
    pub(super) async fn heard(&self, sink: SinkKind, target: &str) -> Result<Vec<Heard>> {
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(&format!(
            "SELECT a.filter, a.publish, {greatest}(a.since_seq, {CURSOR}),
               CASE WHEN EXISTS (SELECT 1 FROM messages o {open} WHERE o.sink = $1 AND o.target = a.target
                 AND o.state IN ('pending', 'claimed')) THEN 1 ELSE 0 END
             FROM ({audiences}) a WHERE a.target = $2",
            greatest = self.engine().greatest(),
            open = self.engine().indexed_by("messages_open"),
            audiences = audiences(sink)
        ))
        .bind(sink.name())
        .bind(target)
        .fetch_all(&mut *self.conn().await?)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(filter, publish, after, open)| Heard {
                filter,
                publish,
                after,
                open: open != 0,
            })
            .collect())
    }

    /// The events owed to a target of audiences `heard` ([`Self::heard`]), oldest first, at
    /// most `limit`: each event once, however many of the target's audiences want it; an
    /// event an audience only follows goes only where the seat was told (`told`, or earlier
    /// in this list).
    pub(super) async fn owed(
        &self,
        sink: SinkKind,
        target: &str,
        heard: Vec<Heard>,
        limit: i64,
        told: &mut HashSet<String>,
    ) -> Result<Vec<Owed>> {
        let mut owed: BTreeMap<i64, Owed> = BTreeMap::new();
        for Heard {
            filter,
            publish,
            after,
            ..
        } in heard
        {
            // One row through the driver (a JSON array of the events), not one per event:
            // each row is a hand-off from SQLite's thread and a conversion on this side.
            let rows: Option<String> = sqlx::query_scalar(&format!(
                "SELECT {rows} FROM (SELECT f.seq, f.announced, f.version, f.follows, d.kind FROM fanout f
                   LEFT JOIN declarations d ON d.constituency_id = f.announced AND d.version = f.version
                 WHERE f.sink = $1 AND f.filter = $2 AND f.publish = $3 AND f.seq > $4 ORDER BY f.seq LIMIT $5) x",
                rows = self
                    .engine()
                    .json_rows("x.seq, x.announced, x.version, x.follows, x.kind")
            ))
            .bind(sink.name())
            .bind(&filter)
            .bind(publish)
            .bind(after)
            .bind(limit)
            .fetch_one(&mut *self.conn().await?)
            .await?;
            let rows: Vec<(i64, String, i64, i64, Option<String>)> = match rows {
                Some(text) => serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("owed events: {e}")))?,
                None => Vec::new(),
            };
            for (seq, announced, version, follows, kind) in rows {
                let follows = follows != 0;
                if let Some(o) = owed.get_mut(&seq) {
                    o.follows &= follows;
                    continue;
                }
                owed.insert(
                    seq,
                    Owed {
                        seq,
                        announced,
                        version: as_u32(version, "version")?,
                        follows,
                        kind: kind.as_deref().and_then(EventKind::parse),
                    },
                );
            }
        }
        let mut out = Vec::new();
        for o in owed.into_values() {
            if out.len() as i64 >= limit {
                break;
            }
            if o.follows && !told.contains(&o.announced) && !self.told(sink, target, &o).await? {
                continue;
            }
            told.insert(o.announced.clone());
            out.push(o);
        }
        Ok(out)
    }

    /// Whether `target` has a message carrying `o`'s seat or milestone.
    async fn told(&self, sink: SinkKind, target: &str, o: &Owed) -> Result<bool> {
        let told: i64 = sqlx::query_scalar(&format!(
            "SELECT CASE WHEN {} THEN 1 ELSE 0 END FROM (SELECT $2 AS target) a, (SELECT $3 AS announced) f",
            super::told(self.engine())
        ))
        .bind(sink.name())
        .bind(target)
        .bind(&o.announced)
        .fetch_one(&mut *self.conn().await?)
        .await?;
        Ok(told != 0)
    }

    pub(super) fn owed_item(sink: SinkKind, target: &str, o: Owed) -> OutboxItem {
        OutboxItem {
            key: sink.key(target, &o.announced, o.version),
            sink,
            target: target.to_string(),
            constituency_id: o.announced,
            version: o.version,
            seq: o.seq,
            state: OutboxState::Pending,
            attempts: 0,
            next_attempt_at: DateTime::UNIX_EPOCH,
            message_id: None,
            last_error: None,
            digest_key: None,
            kind: o.kind,
            first_tried_at: None,
        }
    }

    /// The first `limit` announcements of one target still to deliver, oldest event first:
    /// its open messages (claimed, or waiting for a retry), then the events owed after
    /// them. Two queries where no message is open (nearly always): the audiences, then the
    /// events of each. A drain reads through a [`Backlog`] instead.
    pub async fn undelivered_for(
        &self,
        sink: SinkKind,
        target: &str,
        limit: i64,
    ) -> Result<Vec<OutboxItem>> {
        let heard = self.heard(sink, target).await?;
        self.undelivered_after(sink, target, heard, limit).await
    }

    /// [`Self::undelivered_for`], the target's audiences read (`heard`).
    async fn undelivered_after(
        &self,
        sink: SinkKind,
        target: &str,
        heard: Vec<Heard>,
        limit: i64,
    ) -> Result<Vec<OutboxItem>> {
        // A target with no audience (unsubscribed, paused) may still have open messages.
        let mut items = if heard.first().is_none_or(|h| h.open) {
            self.open_messages(sink, target, limit).await?
        } else {
            Vec::new()
        };
        let left = limit - items.len() as i64;
        if left > 0 && !heard.is_empty() {
            let mut told = items.iter().map(|i| i.constituency_id.clone()).collect();
            for o in self.owed(sink, target, heard, left, &mut told).await? {
                items.push(Self::owed_item(sink, target, o));
            }
        }
        items.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(items)
    }

    /// A target's open messages (claimed, or waiting for a retry), oldest first.
    async fn open_messages(
        &self,
        sink: SinkKind,
        target: &str,
        limit: i64,
    ) -> Result<Vec<OutboxItem>> {
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE} FROM {MESSAGE_FROM} WHERE m.sink = $1 AND m.target = $2 AND m.state IN ('pending', 'claimed')
             ORDER BY m.seq LIMIT $3"
        ))
        .bind(sink.name())
        .bind(target)
        .bind(limit)
        .fetch_all(&mut *self.conn().await?)
        .await?;
        self.expand_all(&rows).await
    }
}
