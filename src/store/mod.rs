//! The store: one embedded SQLite file (WAL), or a PostgreSQL database, between the
//! sources and the sinks, so that a restart neither repeats nor loses anything.
//!
//! It keeps every accepted version of every declaration with the event it made, the outbox
//! (each event queued once per audience that wants it, in the same transaction as the
//! event; each message to a target claimed before sending and marked with the posted
//! message id after), and the Discord subscriptions. One SQL for both engines (through sqlx's
//! `Any` driver, placeholders `$1`…), with [`Engine`] naming the few places they differ;
//! each engine has its own migrations (`migrations/sqlite/`, `migrations/postgres/`).

mod conn;
mod guard;
mod meta;
pub mod milestones;
mod open;
mod outbox;
mod postgres;
mod sinks;
mod subscriptions;

pub use guard::lock_path;
pub use open::{is_postgres, shown};
pub use postgres::{PASSWORD_ENV, PASSWORD_FILE_ENV};

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::AnyPool;
use sqlx::{Any, Row, Transaction};

pub(crate) use conn::Conn;

pub use outbox::{Backlog, OutboxItem, OutboxState, RecentPosts};
pub use sinks::{SinkKind, Sinks};
pub use subscriptions::{Channel, Mode, Subscribed, Subscription};

use crate::core::changes::{Change, Difference, EventKind};
use crate::core::model::{ConstituencyId, Declaration, Election};

/// A store failure: the database could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store: {0}")]
    Database(#[from] sqlx::Error),
    #[error("store: migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("store: corrupt row ({0})")]
    Corrupt(String),
    #[error("store {path}: {detail}")]
    Open { path: String, detail: String },
    #[error(
        "store {path} is in use by another herald process{}; stop it first, or give this one its own store (`--store`)",
        holder.as_ref().map(|h| format!(" ({h})")).unwrap_or_default()
    )]
    InUse {
        path: String,
        holder: Option<String>,
    },
    #[error(
        "store {path} is not a herald store (it holds the tables {tables}); herald writes only into its own database: give it a new file"
    )]
    Foreign { path: String, tables: String },
    #[error("store {path} is damaged ({detail}); restore it from a backup or start a new one")]
    Damaged { path: String, detail: String },
    #[error("store: {0}")]
    Fault(String),
    #[error(
        "Discord shard {shard} is run by another herald process{}: give each process its own shards (`discord.shards`)",
        holder.as_ref().map(|h| format!(" ({h})")).unwrap_or_default()
    )]
    ShardTaken { shard: u32, holder: Option<String> },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// An event as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    pub seq: i64,
    pub version: u32,
    pub kind: EventKind,
    pub declaration: Declaration,
    pub differences: Vec<Difference>,
    pub seen_at: DateTime<Utc>,
}

/// What [`Store::record`] wrote: the events, and how many announcements were queued per sink.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recorded {
    pub events: Vec<StoredEvent>,
    /// Announcements queued, by sink (only sinks that got some): for Discord, the channels
    /// that will hear of the events.
    pub queued: Vec<(SinkKind, u64)>,
}

/// What a store holds, in counts.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub election: Option<Election>,
    /// The other elections of the same night, side by side.
    pub also: Vec<Election>,
    pub source: Option<String>,
    /// Constituencies with at least one declaration.
    pub seats: u64,
    /// Events by kind.
    pub events: Vec<(String, u64)>,
    /// Announcements by (sink, state).
    pub outbox: Vec<(String, String, u64)>,
    pub channels: u64,
    pub paused: u64,
}

/// The store, over one connection: writes are serialised in-process (event numbering needs
/// no further locking, a write never meets another writer), and with no other reader
/// holding a snapshot, every WAL checkpoint completes and the log stays small, even when a
/// whole night's announcements to a thousand channels are written in seconds.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// A SQLite store's one connection, held by the store (see [`conn`]); `None` on
    /// PostgreSQL, where each statement takes one from the pool.
    held: Option<conn::Held>,
    engine: Engine,
    guard: std::sync::Arc<guard::Guard>,
    /// The subscriptions' audiences as last read, for queueing events without reading
    /// every subscription each time.
    audiences: outbox::fanout::Cache,
    /// Changes of the subscriptions this process has seen (made here, or found made by
    /// another when queueing an event): what a drain keeps of a target is read again after
    /// one ([`Backlog`]).
    subscription_changes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// How this process shares a PostgreSQL store with others (a SQLite file is one
    /// process's: its lock is in `guard`).
    shared: Option<std::sync::Arc<Shared>>,
}

/// A process's part in a store several processes share.
pub(crate) struct Shared {
    locks: postgres::Locks,
    /// This process's name in the store (`drains`).
    me: String,
}

pub(crate) fn now_text() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub(crate) fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("time `{s}`: {e}")))
}

impl Store {
    /// How many changes of the subscriptions this process has seen.
    pub(crate) fn subscriptions_changed(&self) -> u64 {
        self.subscription_changes
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Counts a change of the subscriptions (after it is written, or once found).
    pub(crate) fn note_subscriptions_changed(&self) {
        self.subscription_changes
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Why nothing should be announced now (a write failed, or the file was deleted or
    /// replaced), if so.
    pub fn fault(&self) -> Option<String> {
        self.guard.fault()
    }

    /// Checks the store is still the file herald opened (a stat: cheap, never waits).
    pub fn check_file(&self) -> Result<()> {
        self.guard.check_file()
    }

    /// Checks the store is still the file herald opened and can be written: run once a
    /// poll interval (a write, which may wait for the database).
    pub async fn verify(&self) -> Result<()> {
        self.guard.check_file()?;
        if let Some(shared) = &self.shared {
            match shared.locks.check().await {
                Ok(()) => {}
                Err(postgres::Lapse::Unreachable(e)) => return self.settle(Err(e)).await,
                Err(postgres::Lapse::Lost(problem)) => {
                    self.guard.fail_for_good(problem.clone());
                    return Err(StoreError::Fault(problem));
                }
            }
            self.renew_targets().await?;
        }
        self.check_writable().await
    }

    /// Closes the store's connections (at shutdown): SQLite folds its log into the file, and
    /// PostgreSQL releases the store's lock.
    pub async fn close(&self) {
        if let Some(shared) = &self.shared {
            self.let_targets_go().await;
            shared.locks.release().await;
        }
        if let Some(held) = &self.held {
            held.give_back().await;
        }
        self.pool.close().await;
    }

    /// A connection for one statement or transaction (see [`conn`]). Hold it no longer:
    /// on SQLite every other statement waits for it.
    pub(crate) async fn conn(&self) -> Result<Conn<'_>> {
        match &self.held {
            Some(held) => held.lend(&self.pool).await,
            None => Ok(Conn::Pooled(self.pool.acquire().await?)),
        }
    }

    pub(crate) fn engine(&self) -> Engine {
        self.engine
    }

    /// Checks the store can be written.
    async fn check_writable(&self) -> Result<()> {
        self.set_meta("health", &now_text()).await
    }

    pub async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let r = sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&mut *self.conn().await?)
            .await;
        self.settle(r).await.map(|_| ())
    }

    /// Runs one write statement and notes its outcome (see [`Store::settle`]): the rows it
    /// changed.
    pub(crate) async fn exec<'q>(
        &self,
        q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    ) -> Result<u64> {
        let r = q
            .execute(&mut *self.conn().await?)
            .await
            .map(|d| d.rows_affected());
        self.settle(r).await
    }

    /// Notes a write's outcome (see [`Store::fault`]). After a failed write the connection
    /// is replaced: SQLite may keep a failed COMMIT's transaction open (seen on a full disk),
    /// and every later write on that connection would then look committed to herald while
    /// nothing reached the file. A new connection starts from what is truly on disk.
    pub(crate) async fn settle<T, E: Into<StoreError>>(
        &self,
        r: std::result::Result<T, E>,
    ) -> Result<T> {
        let r = self.guard.wrote(r.map_err(Into::into));
        // (An in-memory store lives in its one connection: it is never replaced.)
        if r.is_err() && self.guard.is_file() {
            // Closing a connection rolls back whatever it left open; the pool opens a new one.
            match &self.held {
                Some(held) => held.replace().await,
                None => {
                    if let Ok(conn) = self.pool.acquire().await {
                        let _ = conn.close().await;
                    }
                }
            }
        }
        r
    }

    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *self.conn().await?)
            .await?)
    }

    /// The latest accepted declaration of every constituency (withdrawn ones included).
    pub async fn known(&self) -> Result<BTreeMap<ConstituencyId, Declaration>> {
        let rows = sqlx::query(
            "SELECT d.body FROM declarations d
             JOIN (SELECT constituency_id, MAX(version) AS version FROM declarations GROUP BY constituency_id) l
               ON d.constituency_id = l.constituency_id AND d.version = l.version",
        )
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter()
            .map(|r| {
                let body: String = r.try_get("body")?;
                let d: Declaration = serde_json::from_str(&body)
                    .map_err(|e| StoreError::Corrupt(format!("declaration body: {e}")))?;
                Ok((d.id().clone(), d))
            })
            .collect()
    }

    /// Records `changes` as events, queued for their audiences, in one transaction: either all
    /// of it is stored or none. `gains[i]` says whether `changes[i]` is a gain (for
    /// subscriptions to gains only; missing means not). Returns the events as stored.
    pub async fn record(
        &self,
        changes: &[Change],
        gains: &[bool],
        sinks: Sinks,
    ) -> Result<Recorded> {
        if changes.is_empty() {
            return Ok(Recorded::default());
        }
        self.guard.check_file()?;
        let r = self.record_all(changes, gains, sinks).await;
        self.settle(r).await
    }

    async fn record_all(
        &self,
        changes: &[Change],
        gains: &[bool],
        sinks: Sinks,
    ) -> Result<Recorded> {
        let mut conn = self.conn().await?;
        let mut tx = conn.begin().await?;
        let audiences = self.audiences(&mut tx, sinks).await?;
        let mut seq: i64 = next_seq(&mut tx).await? - 1;
        let mut stored = Vec::with_capacity(changes.len());
        let mut queued: BTreeMap<SinkKind, u64> = BTreeMap::new();
        let now = now_text();
        for (i, change) in changes.iter().enumerate() {
            seq += 1;
            let id = change.declaration.id().as_str();
            let version: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM declarations WHERE constituency_id = $1",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let body = serde_json::to_string(&change.declaration)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let diffs = serde_json::to_string(&change.differences)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query(
                "INSERT INTO declarations (constituency_id, version, seq, revision, status, kind, body, differences, declared_at, seen_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(id)
            .bind(version)
            .bind(seq)
            .bind(i64::from(change.declaration.revision))
            .bind(status_text(change.declaration.status))
            .bind(change.kind.as_str())
            .bind(&body)
            .bind(&diffs)
            .bind(change.declaration.declared_at.map(|t| t.to_rfc3339()))
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            let version = version as u32;
            let gain = gains.get(i).copied().unwrap_or(false);
            let wants = |f: &crate::core::filter::Filter, _publish: bool| {
                f.matches(&change.declaration, gain)
            };
            let event = outbox::fanout::Queued {
                seq,
                announced: id,
                version,
                wants: &wants,
            };
            for (sink, n) in outbox::fanout::queue(&mut tx, sinks, &audiences, &event).await? {
                *queued.entry(sink).or_default() += n;
            }
            stored.push(StoredEvent {
                seq,
                version,
                kind: change.kind,
                declaration: change.declaration.clone(),
                differences: change.differences.clone(),
                seen_at: parse_time(&now)?,
            });
        }
        tx.commit().await?;
        Ok(Recorded {
            queued: queued.into_iter().collect(),
            events: stored,
        })
    }

    /// One recorded event.
    pub async fn event(&self, constituency: &str, version: u32) -> Result<Option<StoredEvent>> {
        let row = sqlx::query(
            "SELECT seq, version, kind, body, differences, seen_at FROM declarations WHERE constituency_id = $1 AND version = $2",
        )
        .bind(constituency)
        .bind(i64::from(version))
        .fetch_optional(&mut *self.conn().await?)
        .await?;
        row.map(|r| event_from_row(&r)).transpose()
    }

    /// The events recorded after event `seq`, in order (what another process recorded,
    /// for a process that does not poll the feed to follow the night on its board).
    pub async fn events_after(&self, seq: i64) -> Result<Vec<StoredEvent>> {
        let rows = sqlx::query(
            "SELECT seq, version, kind, body, differences, seen_at FROM declarations WHERE seq > $1 ORDER BY seq",
        )
        .bind(seq)
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Every recorded event in order (for tests, audits and rebuilding the board).
    pub async fn events(&self) -> Result<Vec<StoredEvent>> {
        let rows = sqlx::query(
            "SELECT seq, version, kind, body, differences, seen_at FROM declarations ORDER BY seq",
        )
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter().map(event_from_row).collect()
    }
}

fn status_text(s: crate::core::model::DeclarationStatus) -> &'static str {
    use crate::core::model::DeclarationStatus as S;
    match s {
        S::Declared => "declared",
        S::Called => "called",
        S::Recount => "recount",
        S::Withdrawn => "withdrawn",
    }
}

fn event_from_row(r: &sqlx::any::AnyRow) -> Result<StoredEvent> {
    let kind: String = r.try_get("kind")?;
    let body: String = r.try_get("body")?;
    let diffs: String = r.try_get("differences")?;
    let seen: String = r.try_get("seen_at")?;
    let version: i64 = r.try_get("version")?;
    Ok(StoredEvent {
        seq: r.try_get("seq")?,
        version: u32::try_from(version)
            .map_err(|_| StoreError::Corrupt(format!("version {version}")))?,
        kind: EventKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("event kind `{kind}`")))?,
        declaration: serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("declaration body: {e}")))?,
        differences: serde_json::from_str(&diffs)
            .map_err(|e| StoreError::Corrupt(format!("differences: {e}")))?,
        seen_at: parse_time(&seen)?,
    })
}

/// Borrowed transaction type used by the submodules.
pub(crate) type Tx<'a> = Transaction<'a, Any>;

/// The database engine behind a store, for the few places where their SQL differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// The larger of two values, in SQL: SQLite's two-argument `MAX`, PostgreSQL's
    /// `GREATEST`.
    pub(crate) fn greatest(self) -> &'static str {
        match self {
            Engine::Sqlite => "MAX",
            Engine::Postgres => "GREATEST",
        }
    }

    /// Whether text `needle` occurs in `haystack`, in SQL.
    pub(crate) fn contains(self, haystack: &str, needle: &str) -> String {
        match self {
            Engine::Sqlite => format!("instr({haystack}, {needle}) > 0"),
            Engine::Postgres => format!("strpos({haystack}, {needle}) > 0"),
        }
    }

    /// The rows of a query as one JSON array (text) of arrays of `columns`, in SQL: an
    /// aggregate, so one row goes through the driver instead of one per row. NULL (or an
    /// empty array) when there are none; not in any particular order.
    pub(crate) fn json_rows(self, columns: &str) -> String {
        match self {
            Engine::Sqlite => format!("json_group_array(json_array({columns}))"),
            Engine::Postgres => format!("CAST(json_agg(json_build_array({columns})) AS TEXT)"),
        }
    }

    /// An index for the planner to use (SQLite's `INDEXED BY`; PostgreSQL's planner picks
    /// it itself).
    pub(crate) fn indexed_by(self, index: &str) -> String {
        match self {
            Engine::Sqlite => format!("INDEXED BY {index}"),
            Engine::Postgres => String::new(),
        }
    }
}

/// The next place among events: after every declaration's and milestone's.
pub(super) async fn next_seq(tx: &mut Tx<'_>) -> Result<i64> {
    let last: i64 = sqlx::query_scalar(
        "SELECT MAX(m) FROM (SELECT COALESCE(MAX(seq), 0) AS m FROM declarations
                            UNION ALL SELECT COALESCE(MAX(seq), 0) AS m FROM milestones) s",
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(last + 1)
}
