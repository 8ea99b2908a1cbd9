//! The locks by which several herald processes share one PostgreSQL store, held in one
//! session (a connection of its own) of each process: its presence (shared by every
//! process; taken alone by `herald store reset`, which is refused while any process uses
//! the store), the Discord shards a process runs (a second process with one of them is
//! refused), and the feed (polled by one process at a time; another takes it when the
//! holder ends). The server releases a session's locks
//! when it ends, however its process ends; a session lost to a restart of the server or a
//! dropped network is opened again and its locks taken again.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, ConnectOptions, Connection, Row};

use crate::secret::Secret;
use crate::store::{Result, StoreError};

/// The feed's lock: "herald" in ASCII.
const FEED: i64 = 0x6865_7261_6c64;
/// Shard `n`'s lock is `SHARDS + n` ("hera" and the shard's number).
const SHARDS: i64 = 0x6865_7261_0000;
/// The presence lock, "herapr": shared by every process using the store.
const PRESENCE: i64 = 0x6865_7261_7072;

/// How often a lock is tried, 200 ms apart, before it is reported taken: a process that
/// just ended may hold it for a moment, until the server notices.
const TRIES: u32 = 5;

/// Why a process's locks lapsed.
pub(crate) enum Lapse {
    /// The server cannot be reached now (tried again at the next check).
    Unreachable(StoreError),
    /// Another process took one of this one's shards meanwhile: this one must stop.
    Lost(String),
}

struct Held {
    conn: Option<AnyConnection>,
    shards: Vec<u32>,
}

/// Whether a session answers within a few seconds (on a network that dropped without a
/// word, a ping would otherwise wait for the system's TCP timeout, many minutes).
async fn answers(conn: &mut AnyConnection) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(5), conn.ping()).await,
        Ok(Ok(()))
    )
}

/// Whether a database error is a lock wait that ran out of time (`lock_timeout`).
fn timed_out(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "55P03")
}

/// Waits up to `wait` for lock `key` (queued behind any other process waiting for it).
async fn lock_within(conn: &mut AnyConnection, key: i64, wait: Duration) -> Result<bool> {
    let ms = wait.as_millis().clamp(1, u128::from(u32::MAX));
    sqlx::query(&format!("SET lock_timeout = {ms}"))
        .execute(&mut *conn)
        .await?;
    // `pg_advisory_lock` returns `void`, which the driver cannot read: a text instead.
    match sqlx::query("SELECT CAST(pg_advisory_lock($1) AS TEXT)")
        .bind(key)
        .execute(&mut *conn)
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if timed_out(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// One process's locks on a store.
pub(crate) struct Locks {
    url: Secret,
    shown: String,
    held: tokio::sync::Mutex<Held>,
    /// The connection that holds the feed's lock, or waits for it.
    feed_conn: tokio::sync::Mutex<Option<AnyConnection>>,
    /// Whether the feed's lock is held (read by `/healthz` without waiting).
    feed: AtomicBool,
}

/// The server's keepalives on a session that holds locks: a process whose machine died or
/// dropped off the network (no connection closed) loses its locks in about 25 seconds,
/// not the system's default two hours.
const KEEPALIVES: [&str; 3] = [
    "SET tcp_keepalives_idle = 10",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
];

async fn connect(url: &Secret, shown: &str) -> Result<AnyConnection> {
    let refused = |e: sqlx::Error| StoreError::Open {
        path: shown.to_string(),
        detail: format!("cannot connect ({e})"),
    };
    // Waiting for a lock is this session's job: its statements are not logged as slow (a
    // process waiting in line for the feed would warn every `lock_timeout`).
    let options = AnyConnectOptions::from_str(url.expose())
        .map_err(refused)?
        .disable_statement_logging();
    let mut conn = options.connect().await.map_err(refused)?;
    // Ignored on a local socket; refused by some connection poolers, which keep their own.
    for set in KEEPALIVES {
        if let Err(e) = sqlx::query(set).execute(&mut conn).await {
            tracing::debug!(store = %shown, "the session's keepalives: {e}");
            break;
        }
    }
    Ok(conn)
}

/// Tries lock `key` a few times (or once, `patient` false).
async fn try_lock(conn: &mut AnyConnection, key: i64, patient: bool) -> Result<bool> {
    try_lock_as(conn, key, patient, "pg_try_advisory_lock").await
}

async fn try_lock_as(
    conn: &mut AnyConnection,
    key: i64,
    patient: bool,
    function: &str,
) -> Result<bool> {
    for i in 0..TRIES {
        let got: bool = sqlx::query_scalar(&format!("SELECT {function}($1)"))
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
        if got || !patient {
            return Ok(got);
        }
        if i + 1 < TRIES {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(false)
}

async fn unlock(conn: &mut AnyConnection, key: i64) {
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut *conn)
        .await;
}

/// Which process holds lock `key`: its server process and where it connected from.
pub(crate) async fn holder<'c, E>(on: E, key: i64) -> Result<Option<String>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT CAST(a.pid AS BIGINT) AS pid, COALESCE(CAST(a.client_addr AS TEXT), 'a local socket') AS addr,
           CAST(a.application_name AS TEXT) AS app
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND CAST(l.classid AS BIGINT) = ($1 >> 32) AND CAST(l.objid AS BIGINT) = ($1 & 4294967295)",
    )
    .bind(key)
    .fetch_optional(on)
    .await?;
    Ok(match row {
        Some(r) => {
            let pid: i64 = r.try_get("pid")?;
            let addr: String = r.try_get("addr")?;
            let app: String = r.try_get("app")?;
            Some(format!(
                "server process {pid}, connected from {addr} as {app}"
            ))
        }
        None => None,
    })
}

/// Which process polls the feed of the store `pool` reaches, if one does.
pub(crate) async fn feed_holder(pool: &sqlx::AnyPool) -> Result<Option<String>> {
    holder(pool, FEED).await
}

impl Locks {
    /// A session of this process's own on the store, present beside other processes
    /// (`alone`: the only one, refused while another uses the store).
    pub(crate) async fn open(url: Secret, shown: String, alone: bool) -> Result<Locks> {
        let mut conn = connect(&url, &shown).await?;
        let present = if alone {
            try_lock(&mut conn, PRESENCE, true).await?
        } else {
            try_lock_as(&mut conn, PRESENCE, true, "pg_try_advisory_lock_shared").await?
        };
        if !present {
            let holder = holder(&mut conn, PRESENCE).await.ok().flatten();
            return Err(StoreError::InUse {
                path: shown,
                holder,
            });
        }
        Ok(Locks {
            url,
            shown,
            held: tokio::sync::Mutex::new(Held {
                conn: Some(conn),
                shards: Vec::new(),
            }),
            feed_conn: tokio::sync::Mutex::new(None),
            feed: AtomicBool::new(false),
        })
    }

    /// Takes the locks of `shards`, or refuses all of them, naming a shard another process
    /// runs and that process.
    pub(crate) async fn take_shards(&self, shards: &[u32]) -> Result<()> {
        let mut held = self.held.lock().await;
        let Held { conn, shards: mine } = &mut *held;
        let Some(conn) = conn.as_mut() else {
            return Err(StoreError::Fault("the store's session is closed".into()));
        };
        let mut taken = Vec::new();
        for &shard in shards {
            let key = SHARDS + i64::from(shard);
            if try_lock(conn, key, true).await? {
                taken.push(shard);
                continue;
            }
            let holder = holder(&mut *conn, key).await.ok().flatten();
            for t in taken {
                unlock(conn, SHARDS + i64::from(t)).await;
            }
            return Err(StoreError::ShardTaken { shard, holder });
        }
        mine.extend(taken);
        Ok(())
    }

    /// Whether this process polls the feed: it keeps the feed's lock, or takes it if no
    /// process holds it (never waits: while this process waits for the lock, no).
    pub(crate) async fn try_feed(&self) -> Result<bool> {
        self.seek_feed(None).await
    }

    /// Whether this process polls the feed: it keeps the feed's lock, or waits up to `wait`
    /// for it, in line behind any other process waiting, and takes it the moment its
    /// holder ends.
    pub(crate) async fn wait_feed(&self, wait: Duration) -> Result<bool> {
        self.seek_feed(Some(wait)).await
    }

    async fn seek_feed(&self, wait: Option<Duration>) -> Result<bool> {
        if self.feed.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let mut slot = match wait {
            Some(_) => self.feed_conn.lock().await,
            None => match self.feed_conn.try_lock() {
                Ok(slot) => slot,
                // Another task waits for the lock on it.
                Err(_) => return Ok(self.feed.load(Ordering::Relaxed)),
            },
        };
        if self.feed.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let conn = match slot.as_mut() {
            Some(c) => c,
            None => slot.insert(connect(&self.url, &self.shown).await?),
        };
        let got = match wait {
            Some(wait) => lock_within(conn, FEED, wait).await,
            None => try_lock(conn, FEED, false).await,
        };
        match got {
            Ok(got) => {
                if got {
                    tracing::info!(store = %self.shown, "this process polls the feed now");
                    self.feed.store(true, Ordering::Relaxed);
                }
                Ok(got)
            }
            Err(e) => {
                *slot = None;
                Err(e)
            }
        }
    }

    /// Whether this process holds the feed's lock.
    pub(crate) fn holds_feed(&self) -> bool {
        self.feed.load(Ordering::Relaxed)
    }

    /// Checks the session still answers. One lost (the server restarted, the network
    /// dropped) took its locks with it: a new one takes the shards again; the feed's lock,
    /// if its connection was lost, is left to be taken again by whichever process is first.
    pub(crate) async fn check(&self) -> std::result::Result<(), Lapse> {
        if self.feed.load(Ordering::Relaxed)
            && let Ok(mut slot) = self.feed_conn.try_lock()
        {
            let alive = match slot.as_mut() {
                Some(c) => answers(c).await,
                None => false,
            };
            if !alive {
                *slot = None;
                self.feed.store(false, Ordering::Relaxed);
                tracing::warn!(store = %self.shown, "the connection holding the feed's lock was lost: the feed is polled by whichever process takes it first");
            }
        }
        let mut held = self.held.lock().await;
        if let Some(c) = held.conn.as_mut()
            && answers(c).await
        {
            return Ok(());
        }
        held.conn = None;
        let mut conn = connect(&self.url, &self.shown)
            .await
            .map_err(Lapse::Unreachable)?;
        match try_lock_as(&mut conn, PRESENCE, true, "pg_try_advisory_lock_shared").await {
            Ok(true) => {}
            Ok(false) => {
                return Err(Lapse::Lost(
                    "the store's session was lost while the database was out of reach, and the store was taken by `herald store reset`: nothing more is recorded or announced here; restart herald".into(),
                ));
            }
            Err(e) => return Err(Lapse::Unreachable(e)),
        }
        for &shard in &held.shards {
            match try_lock(&mut conn, SHARDS + i64::from(shard), true).await {
                Ok(true) => {}
                Ok(false) => {
                    return Err(Lapse::Lost(format!(
                        "the store's session was lost while the database was out of reach, and Discord shard {shard} is now run by another herald process: nothing more is recorded or announced here; restart herald"
                    )));
                }
                Err(e) => return Err(Lapse::Unreachable(e)),
            }
        }
        tracing::info!(store = %self.shown, "the store's session is open again");
        held.conn = Some(conn);
        Ok(())
    }

    /// Ends the session, releasing its locks at once (dropped, it would end a moment later,
    /// when the server notices).
    pub(crate) async fn release(&self) {
        self.feed.store(false, Ordering::Relaxed);
        // Busy: a task waits for the lock on it, and drops it when it ends.
        if let Ok(mut slot) = self.feed_conn.try_lock()
            && let Some(c) = slot.take()
        {
            let _ = c.close().await;
        }
        if let Some(c) = self.held.lock().await.conn.take() {
            let _ = c.close().await;
        }
    }
}
