//! Opening a store: the lock that makes a store one process's, the checks that refuse a
//! database that is not herald's or is damaged (before anything is written into it), the
//! schema brought up to date, and a read-only look for tools and tests.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{Result, Store, StoreError, guard};

/// The tables a herald store has (any other database is refused before it is touched).
const OWN_TABLES: [&str; 7] = [
    "declarations",
    "outbox",
    "fanout",
    "messages",
    "subscriptions",
    "meta",
    "milestones",
];

impl Store {
    /// Opens (creating if needed) the store at `path`, or an in-memory store for `:memory:`,
    /// and brings its schema up to date. A file store is locked for this process's life;
    /// one in use by another process, one that is not herald's, or a damaged one is
    /// refused, naming the path.
    pub async fn open(path: &str) -> Result<Store> {
        if path == ":memory:" {
            let options = SqliteConnectOptions::from_str("sqlite::memory:")?;
            let pool = Self::pool_for(options).await?;
            sqlx::migrate!("./migrations").run(&pool).await?;
            return Ok(Store {
                pool,
                guard: std::sync::Arc::new(guard::Guard::memory()),
                audiences: Default::default(),
            });
        }
        let file = std::path::Path::new(path);
        let lock = guard::Guard::lock(file)?;
        let at = |e: sqlx::Error| StoreError::Open {
            path: path.to_string(),
            detail: e.to_string(),
        };
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL with NORMAL survives a crash of herald (what is committed stays); a power
            // cut may lose the last moments, which a re-poll and Discord's nonces recover.
            .synchronous(SqliteSynchronous::Normal);
        let pool = Self::pool_for(options).await.map_err(at)?;
        Self::check_own(&pool, path).await?;
        Self::check_intact(&pool, path).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let guard = guard::Guard::file(file, lock)?;
        Ok(Store {
            pool,
            guard: std::sync::Arc::new(guard),
            audiences: Default::default(),
        })
    }

    /// Opens a store read-only, to look at it while a herald process may be running
    /// (`herald store info`, tests): no lock is taken, nothing is written, no migration runs.
    pub async fn inspect(path: &str) -> Result<Store> {
        let at = |e: sqlx::Error| StoreError::Open {
            path: path.to_string(),
            detail: e.to_string(),
        };
        if !std::path::Path::new(path).is_file() {
            return Err(StoreError::Open {
                path: path.to_string(),
                detail: "no such file".into(),
            });
        }
        let options = SqliteConnectOptions::new().filename(path).read_only(true);
        let pool = Self::pool_for(options).await.map_err(at)?;
        Self::check_own(&pool, path).await?;
        Ok(Store {
            pool,
            guard: std::sync::Arc::new(guard::Guard::memory()),
            audiences: Default::default(),
        })
    }

    async fn pool_for(
        options: SqliteConnectOptions,
    ) -> std::result::Result<SqlitePool, sqlx::Error> {
        SqlitePoolOptions::new()
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
            .connect_with(
                options
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true),
            )
            .await
    }

    /// Refuses a database that is not herald's, before anything is written into it.
    async fn check_own(pool: &SqlitePool, path: &str) -> Result<()> {
        let damaged = |e: sqlx::Error| StoreError::Damaged {
            path: path.to_string(),
            detail: e.to_string(),
        };
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .fetch_all(pool)
        .await
        .map_err(damaged)?;
        let ours = |t: &String| t == "_sqlx_migrations" || OWN_TABLES.contains(&t.as_str());
        if !tables.is_empty()
            && (!tables.iter().all(ours) || !tables.iter().any(|t| t == "declarations"))
        {
            return Err(StoreError::Foreign {
                path: path.to_string(),
                tables: tables.join(", "),
            });
        }
        Ok(())
    }

    /// Refuses a store that fails SQLite's integrity check (three scrambled pages, say).
    async fn check_intact(pool: &SqlitePool, path: &str) -> Result<()> {
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
