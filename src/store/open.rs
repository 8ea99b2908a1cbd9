//! Opening a store: the lock that makes a store one process's, the checks that refuse a
//! database that is not herald's or is damaged (before anything is written into it), the
//! schema brought up to date, and a read-only look for tools and tests. A store is a SQLite
//! file (or `:memory:`), or a PostgreSQL database named by a `postgres://` URL
//! (`postgres.rs`).

use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sqlx::AnyPool;
use sqlx::Executor;
use sqlx::any::AnyPoolOptions;

use super::{Engine, Result, Store, StoreError, guard, postgres};

/// The tables a herald store has (any other database is refused before it is touched).
const OWN_TABLES: [&str; 8] = [
    "declarations",
    "drains",
    "outbox",
    "fanout",
    "messages",
    "subscriptions",
    "meta",
    "milestones",
];

/// Whether a store location names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// A store location as it may be shown in logs and messages: a PostgreSQL URL without its
/// password.
pub fn shown(location: &str) -> String {
    if is_postgres(location) {
        postgres::redacted(location)
    } else {
        location.to_string()
    }
}

/// What a path is written as in a `sqlite:` URL: every byte but letters, digits and `-_.`
/// escaped, so that sqlx reads back exactly the path (no `?` taken for the query, no `..`
/// folded away).
const PATH: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

impl Store {
    /// Opens (creating if needed) the store at `location`: a SQLite file, `:memory:`, or a
    /// PostgreSQL URL (`postgres://user@host/db`; the password from `HERALD_STORE_PASSWORD`
    /// or the file `HERALD_STORE_PASSWORD_FILE` names, never from the URL in a log). Its
    /// schema is brought up to date. A store is one process's for that process's life; one
    /// in use by another process, one that is not herald's, or a damaged one is refused,
    /// naming the location.
    pub async fn open(location: &str) -> Result<Store> {
        Self::open_as(location, false).await
    }

    /// [`Store::open`], for a process that must be the store's only user (`herald store
    /// reset`): a PostgreSQL store that another process uses is refused, naming one, and no
    /// process can start on it meanwhile. (A file is always one process's.)
    pub async fn open_alone(location: &str) -> Result<Store> {
        Self::open_as(location, true).await
    }

    async fn open_as(location: &str, alone: bool) -> Result<Store> {
        sqlx::any::install_default_drivers();
        if is_postgres(location) {
            return postgres::open(location, alone).await;
        }
        if location == ":memory:" {
            let pool = Self::sqlite_pool("sqlite::memory:", true).await?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
            return Ok(Store::new(pool, Engine::Sqlite, guard::Guard::memory()));
        }
        let file = std::path::Path::new(location);
        let lock = guard::Guard::lock(file)?;
        let at = |e: sqlx::Error| StoreError::Open {
            path: location.to_string(),
            detail: e.to_string(),
        };
        let url = format!("sqlite:{}?mode=rwc", utf8_percent_encode(location, PATH));
        let pool = Self::sqlite_pool(&url, true).await.map_err(at)?;
        Self::check_own(&pool, Engine::Sqlite, location).await?;
        Self::check_intact(&pool, location).await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        let guard = guard::Guard::file(file, lock)?;
        Ok(Store::new(pool, Engine::Sqlite, guard))
    }

    /// Opens a store read-only, to look at it while a herald process may be running
    /// (`herald store info`, tests): no lock is taken, nothing is written, no migration runs.
    pub async fn inspect(location: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        if is_postgres(location) {
            return postgres::inspect(location).await;
        }
        let at = |e: sqlx::Error| StoreError::Open {
            path: location.to_string(),
            detail: e.to_string(),
        };
        if !std::path::Path::new(location).is_file() {
            return Err(StoreError::Open {
                path: location.to_string(),
                detail: "no such file".into(),
            });
        }
        let url = format!("sqlite:{}?mode=ro", utf8_percent_encode(location, PATH));
        let pool = Self::sqlite_pool(&url, false).await.map_err(at)?;
        Self::check_own(&pool, Engine::Sqlite, location).await?;
        Ok(Store::new(pool, Engine::Sqlite, guard::Guard::memory()))
    }

    /// For a PostgreSQL store, which herald process polls its feed, if one does (a SQLite
    /// store's one process is named in its lock file: see [`lock_path`](super::lock_path)).
    pub async fn feed_held_by(&self) -> Result<Option<String>> {
        match self.engine {
            Engine::Sqlite => Ok(None),
            Engine::Postgres => postgres::feed_holder(&self.pool).await,
        }
    }

    /// Whether other processes may share this store (PostgreSQL), so that this one polls
    /// the feed only while it holds the feed's lock and drains only the targets it takes.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// Takes the locks of the Discord shards this process runs, refusing a shard another
    /// process runs. (A file store is one process's: nothing to take.)
    pub async fn take_shards(&self, shards: &[u32]) -> Result<()> {
        match &self.shared {
            Some(s) => s.locks.take_shards(shards).await,
            None => Ok(()),
        }
    }

    /// Whether this process polls the feed: it holds the feed's lock, or takes it now if no
    /// process does. Always, for a store that is one process's.
    pub async fn try_feed(&self) -> Result<bool> {
        match &self.shared {
            Some(s) => s.locks.try_feed().await,
            None => Ok(true),
        }
    }

    /// Whether this process polls the feed: it holds the feed's lock, or waits up to `wait`
    /// for it and takes it the moment the process holding it ends. At once, for a store
    /// that is one process's.
    pub async fn wait_feed(&self, wait: std::time::Duration) -> Result<bool> {
        match &self.shared {
            Some(s) => s.locks.wait_feed(wait).await,
            None => Ok(true),
        }
    }

    /// Whether this process polls the feed (as last taken or kept; never waits).
    pub fn holds_feed(&self) -> bool {
        self.shared.as_ref().is_none_or(|s| s.locks.holds_feed())
    }

    pub(super) fn new(pool: AnyPool, engine: Engine, guard: guard::Guard) -> Store {
        Store {
            pool,
            held: (engine == Engine::Sqlite).then(super::conn::Held::default),
            engine,
            guard: std::sync::Arc::new(guard),
            audiences: Default::default(),
            subscription_changes: Default::default(),
            shared: None,
        }
    }

    /// A SQLite store's one connection (see [`Store`]), set up when it opens: WAL with
    /// NORMAL when it writes (a crash of herald loses nothing committed; a power cut may
    /// lose the last moments, which a re-poll and Discord's nonces recover), foreign keys on.
    async fn sqlite_pool(url: &str, writes: bool) -> std::result::Result<AnyPool, sqlx::Error> {
        AnyPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            // Not pinged before each use: an embedded database does not hang up, and each
            // ping is a round trip to the connection's thread (sqlx also pings it after each
            // use, which cannot be turned off).
            .test_before_acquire(false)
            // At the peak many senders queue for the one connection: they wait, not fail,
            // and a wait of seconds behind a big write (a seat fanned out to a thousand
            // channels) is expected, not worth a warning per sender; a minute is.
            .acquire_timeout(Duration::from_secs(300))
            .acquire_slow_threshold(Duration::from_secs(60))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    if writes {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await
    }

    /// Refuses a database that is not herald's, before anything is written into it.
    pub(super) async fn check_own(pool: &AnyPool, engine: Engine, location: &str) -> Result<()> {
        let damaged = |e: sqlx::Error| StoreError::Damaged {
            path: location.to_string(),
            detail: e.to_string(),
        };
        let tables: Vec<String> = sqlx::query_scalar(match engine {
            Engine::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            Engine::Postgres => {
                "SELECT CAST(table_name AS TEXT) FROM information_schema.tables
                 WHERE table_schema = current_schema() ORDER BY 1"
            }
        })
        .fetch_all(pool)
        .await
        .map_err(damaged)?;
        let ours = |t: &String| t == "_sqlx_migrations" || OWN_TABLES.contains(&t.as_str());
        if !tables.is_empty()
            && (!tables.iter().all(ours) || !tables.iter().any(|t| t == "declarations"))
        {
            return Err(StoreError::Foreign {
                path: location.to_string(),
                tables: tables.join(", "),
            });
        }
        Ok(())
    }

    /// Refuses a store that fails SQLite's integrity check (three scrambled pages, say).
    async fn check_intact(pool: &AnyPool, path: &str) -> Result<()> {
        let damaged = |e: sqlx::Error| StoreError::Damaged {
            path: path.to_string(),
            detail: e.to_string(),
        };
        let check: Vec<String> = sqlx::query_scalar("PRAGMA quick_check")
            .fetch_all(pool)
            .await
            .map_err(damaged)?;
        if check.first().map(String::as_str) != Some("ok") {
            return Err(StoreError::Damaged {
                path: path.to_string(),
                detail: check.into_iter().take(3).collect::<Vec<_>>().join("; "),
            });
        }
        Ok(())
    }
}
