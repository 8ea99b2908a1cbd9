//! Queueing: an event is written once for each audience that wants it, in the transaction
//! that records the event. An audience is the console, or a subscription filter (with its
//! publish flag) shared by any number of channels.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crate::core::filter::Filter;
use crate::store::{Result, SinkKind, Sinks, Store, StoreError, Tx};

/// The audiences of the unpaused subscriptions, and which channels hear each.
pub(crate) struct Audiences {
    /// (filter as stored, publish flag, the filter).
    list: Vec<(String, bool, Filter)>,
    /// Each unpaused subscription's channel and its audience (an index into `list`), by
    /// channel.
    channels: Vec<(String, usize)>,
}

/// The audiences as last read, with the count of subscription changes they were read at.
pub(crate) type Cache = Arc<Mutex<Option<(String, Arc<Audiences>)>>>;

/// Where the count of subscription changes is kept (in `meta`).
const CHANGES: &str = "subscriptions_changed";

/// Counts a change of the subscriptions (made in `tx`), so that every process reads their
/// audiences again.
pub(crate) async fn changed(tx: &mut Tx<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ($1, '1')
         ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)",
    )
    .bind(CHANGES)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// The audiences of the unpaused subscriptions (none when Discord is not a sink): read
    /// again only when the subscriptions changed, not for every event (at 10,000 channels,
    /// reading them costs more than queueing the event).
    pub(crate) async fn audiences(&self, tx: &mut Tx<'_>, sinks: Sinks) -> Result<Arc<Audiences>> {
        if !sinks.has(SinkKind::Discord) {
            return Ok(Arc::new(Audiences {
                list: Vec::new(),
                channels: Vec::new(),
            }));
        }
        let at: String =
            sqlx::query_scalar("SELECT COALESCE((SELECT value FROM meta WHERE key = $1), '0')")
                .bind(CHANGES)
                .fetch_one(&mut **tx)
                .await?;
        let cached = self
            .audiences
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some((read_at, a)) = cached
            && read_at == at
        {
            return Ok(a);
        }
        let a = Arc::new(Audiences::read(tx).await?);
        // Changed by another process sharing the store (or first read): drains read their
        // targets' audiences again too.
        self.note_subscriptions_changed();
        *self.audiences.lock().unwrap_or_else(|e| e.into_inner()) = Some((at, a.clone()));
        Ok(a)
    }
}

impl Audiences {
    async fn read(tx: &mut Tx<'_>) -> Result<Audiences> {
        let mut a = Audiences {
            list: Vec::new(),
            channels: Vec::new(),
        };
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT channel_id, filter, publish FROM subscriptions WHERE paused_reason IS NULL ORDER BY channel_id",
        )
        .fetch_all(&mut **tx)
        .await?;
        for (channel, text, publish) in rows {
            let publish = publish != 0;
            let at = match a
                .list
                .iter()
                .position(|(t, p, _)| *t == text && *p == publish)
            {
                Some(i) => i,
                None => {
                    let filter: Filter = serde_json::from_str(&text)
                        .map_err(|e| StoreError::Corrupt(format!("filter: {e}")))?;
                    a.list.push((text, publish, filter));
                    a.list.len() - 1
                }
            };
            a.channels.push((channel, at));
        }
        Ok(a)
    }
}

/// One event to queue: what it announces, and which audiences want it.
pub(crate) struct Queued<'a> {
    pub seq: i64,
    pub announced: &'a str,
    pub version: u32,
    /// Whether a subscription with this filter and publish flag takes the event.
    pub wants: &'a (dyn Fn(&Filter, bool) -> bool + Sync),
}

/// Queues one event for the console (when it is a sink) and for every audience that wants
/// it, or that took an earlier version of it (those follow it: the channels told of it get
/// its correction even where their filter no longer matches). Returns the announcements
/// queued, by sink: the console's one, and the channels that will hear of it.
pub(crate) async fn queue(
    tx: &mut Tx<'_>,
    sinks: Sinks,
    audiences: &Audiences,
    e: &Queued<'_>,
) -> Result<Vec<(SinkKind, u64)>> {
    let mut queued = Vec::new();
    // Numbered after the audience's last event.
    let insert = "INSERT INTO fanout (sink, filter, publish, seq, announced, version, follows, n)
                  VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE((SELECT n FROM fanout
                    WHERE sink = $1 AND filter = $2 AND publish = $3 ORDER BY seq DESC LIMIT 1), 0) + 1)
                  ON CONFLICT DO NOTHING";
    if sinks.has(SinkKind::Console) {
        sqlx::query(insert)
            .bind(SinkKind::Console.name())
            .bind("")
            .bind(0_i64)
            .bind(e.seq)
            .bind(e.announced)
            .bind(i64::from(e.version))
            .bind(0_i64)
            .execute(&mut **tx)
            .await?;
        queued.push((SinkKind::Console, 1));
    }
    if audiences.list.is_empty() {
        return Ok(queued);
    }
    let earlier: HashSet<(String, bool)> = if e.version > 1 {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT DISTINCT filter, publish FROM fanout WHERE sink = 'discord' AND announced = $1 AND version < $2",
        )
        .bind(e.announced)
        .bind(i64::from(e.version))
        .fetch_all(&mut **tx)
        .await?;
        rows.into_iter().map(|(f, p)| (f, p != 0)).collect()
    } else {
        HashSet::new()
    };
    let mut hears = vec![false; audiences.list.len()];
    for (i, (text, publish, filter)) in audiences.list.iter().enumerate() {
        let direct = (e.wants)(filter, *publish);
        let follows = !direct && earlier.contains(&(text.clone(), *publish));
        if !direct && !follows {
            continue;
        }
        hears[i] = true;
        sqlx::query(insert)
            .bind(SinkKind::Discord.name())
            .bind(text)
            .bind(i64::from(*publish))
            .bind(e.seq)
            .bind(e.announced)
            .bind(i64::from(e.version))
            .bind(i64::from(follows))
            .execute(&mut **tx)
            .await?;
    }
    // The channels that hear it, each once (a channel's subscriptions are together).
    let mut channels = 0_u64;
    let mut last: Option<&str> = None;
    for (channel, at) in &audiences.channels {
        if hears[*at] && last != Some(channel.as_str()) {
            channels += 1;
            last = Some(channel);
        }
    }
    if channels > 0 {
        queued.push((SinkKind::Discord, channels));
    }
    Ok(queued)
}
