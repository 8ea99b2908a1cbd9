//! A store on PostgreSQL: its URL (the password from the environment or a file, and never
//! shown: every message names the URL without it), its pool of connections, the session
//! lock that makes the database one herald process's while it runs (taken again after the
//! server or the connection comes back), and its schema (`migrations/postgres/`).

use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, AnyPool};
use sqlx::{Connection, Row};

use super::{Engine, Result, Store, StoreError, guard};
use crate::secret::Secret;

/// The variable that carries the database password (never a key of the file).
pub const PASSWORD_ENV: &str = "HERALD_STORE_PASSWORD";
/// The variable that names a file holding the database password (a Docker secret).
pub const PASSWORD_FILE_ENV: &str = "HERALD_STORE_PASSWORD_FILE";

/// The advisory lock a running herald holds on its database: "herald" in ASCII.
const LOCK: i64 = 0x6865_7261_6c64;

/// How often the lock is tried, 200 ms apart, before the store is reported in use.
const RELEASE_TRIES: u32 = 5;

/// Connections to the database: the watcher's writes, the senders' claims and marks, and
/// the commands' reads go side by side.
const CONNECTIONS: u32 = 8;

/// How long to wait for the database, at start and for a connection later: past it the
/// store is reported down (at start, herald exits; mid-night, nothing is announced that
/// could not be recorded, and the next poll tries again).
const WAIT: Duration = Duration::from_secs(10);

/// The location as it may be shown: without its user and password.
pub fn redacted(location: &str) -> String {
    crate::secret::redact_url(location)
}

/// The URL to connect with: the password from the environment or its file (a URL that
/// carries one is refused), and herald named as the application (seen in `pg_stat_activity`).
fn connect_url(location: &str) -> Result<String> {
    let shown = redacted(location);
    let bad = |detail: String| StoreError::Open {
        path: shown.clone(),
        detail,
    };
    let mut u = url::Url::parse(location).map_err(|e| bad(format!("not a URL ({e})")))?;
    // It would end up in logs, shell histories and configuration files.
    if u.password().is_some() {
        return Err(bad(format!(
            "put the password in {PASSWORD_ENV} or the file {PASSWORD_FILE_ENV} names, not in the URL"
        )));
    }
    {
        let password = match std::env::var(PASSWORD_ENV) {
            Ok(p) => Some(p),
            Err(_) => match std::env::var_os(PASSWORD_FILE_ENV) {
                Some(file) => {
                    let file = std::path::PathBuf::from(file);
                    let text = crate::secret::read_file(&file).map_err(|why| {
                        bad(format!("{PASSWORD_FILE_ENV} {}{why}", file.display()))
                    })?;
                    Some(text.trim_end_matches(['\r', '\n']).to_string())
                }
                None => None,
            },
        };
        if let Some(p) = password {
            u.set_password(Some(&p))
                .map_err(|()| bad("a URL with no user cannot take a password".into()))?;
        }
    }
    if !u.query_pairs().any(|(k, _)| k == "application_name") {
        u.query_pairs_mut()
            .append_pair("application_name", "herald");
    }
    Ok(u.to_string())
}

async fn pool(url: &Secret, shown: &str) -> Result<AnyPool> {
    AnyPoolOptions::new()
        .max_connections(CONNECTIONS)
        .min_connections(1)
        .acquire_timeout(WAIT)
        .connect(url.expose())
        .await
        .map_err(|e| StoreError::Open {
            path: shown.to_string(),
            detail: format!("cannot connect ({e})"),
        })
}

/// Opens the store in the database `location` names, holding its lock, with its schema up
/// to date.
pub(super) async fn open(location: &str) -> Result<Store> {
    let shown = redacted(location);
    let url = Secret::new(connect_url(location)?);
    let pool = pool(&url, &shown).await?;
    let session = lock(&url, &shown).await?;
    Store::check_own(&pool, Engine::Postgres, &shown).await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    let mut store = Store::new(pool, Engine::Postgres, guard::Guard::memory());
    store.session = Some(std::sync::Arc::new(Session {
        url,
        shown,
        conn: tokio::sync::Mutex::new(Some(session)),
    }));
    Ok(store)
}

/// Opens the store read-only (no lock, no migration), to look at it.
pub(super) async fn inspect(location: &str) -> Result<Store> {
    let shown = redacted(location);
    let url = Secret::new(connect_url(location)?);
    let pool = pool(&url, &shown).await?;
    Store::check_own(&pool, Engine::Postgres, &shown).await?;
    Ok(Store::new(pool, Engine::Postgres, guard::Guard::memory()))
}

/// Takes the database's lock on a connection of its own, held while herald runs (the
/// server releases it when that connection ends, however the process ends), or says which
/// process holds it.
async fn lock(url: &Secret, shown: &str) -> Result<AnyConnection> {
    let at = |e: sqlx::Error| StoreError::Open {
        path: shown.to_string(),
        detail: format!("cannot connect ({e})"),
    };
    let mut conn = AnyConnection::connect(url.expose()).await.map_err(at)?;
    // A process that just ended may still hold it for a moment, until the server notices.
    for _ in 0..RELEASE_TRIES {
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(LOCK)
            .fetch_one(&mut conn)
            .await
            .map_err(at)?;
        if got {
            return Ok(conn);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(StoreError::InUse {
        path: shown.to_string(),
        holder: holder(&mut conn).await.ok().flatten(),
    })
}

/// Which herald process holds the database's lock, if one does: its server process and
/// where it connected from.
pub(super) async fn holder<'c, E>(on: E) -> Result<Option<String>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT CAST(a.pid AS BIGINT) AS pid, COALESCE(CAST(a.client_addr AS TEXT), 'a local socket') AS addr
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND CAST(l.classid AS BIGINT) = ($1 >> 32) AND CAST(l.objid AS BIGINT) = ($1 & 4294967295)",
    )
    .bind(LOCK)
    .fetch_optional(on)
    .await?;
    Ok(match row {
        Some(r) => {
            let pid: i64 = r.try_get("pid")?;
            let addr: String = r.try_get("addr")?;
            Some(format!("server process {pid}, connected from {addr}"))
        }
        None => None,
    })
}

/// The connection a PostgreSQL store's lock lives in, and how to take the lock again.
pub(crate) struct Session {
    url: Secret,
    shown: String,
    conn: tokio::sync::Mutex<Option<AnyConnection>>,
}

impl Session {
    /// Checks the lock is still held (its connection answers); where the connection was
    /// lost (the server restarted, the network dropped) the lock went with it, and is taken
    /// again. An error while the server cannot be reached (tried again at the next check);
    /// `Lost` when another process took the lock meanwhile.
    pub(super) async fn check(&self) -> std::result::Result<(), Lapse> {
        let mut conn = self.conn.lock().await;
        if let Some(c) = conn.as_mut()
            && c.ping().await.is_ok()
        {
            return Ok(());
        }
        *conn = None;
        match lock(&self.url, &self.shown).await {
            Ok(c) => {
                tracing::info!(store = %self.shown, "the store's lock is held again");
                *conn = Some(c);
                Ok(())
            }
            Err(e @ StoreError::InUse { .. }) => Err(Lapse::Lost(format!(
                "the store's lock was lost while the database was out of reach, and {e}: nothing more is recorded or announced here; restart herald"
            ))),
            Err(e) => Err(Lapse::Unreachable(e)),
        }
    }

    /// Ends the session, releasing the lock at once (dropped, the session would end a
    /// moment later, when the server notices).
    pub(super) async fn release(&self) {
        if let Some(c) = self.conn.lock().await.take() {
            let _ = c.close().await;
        }
    }
}

/// Why a store's lock is not held.
pub(super) enum Lapse {
    /// The server cannot be reached now.
    Unreachable(StoreError),
    /// Another process holds it: this one must stop writing.
    Lost(String),
}
