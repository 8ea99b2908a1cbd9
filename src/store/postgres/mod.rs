//! A store on PostgreSQL: its URL (the password from the environment or a file, and never
//! shown: every message names the URL without it), its pool of connections, its schema
//! (`migrations/postgres/`), and how several processes share it: each process's locks
//! (`locks`), and which process drains which target (`drains`).

mod drains;
mod locks;

pub(crate) use locks::{Lapse, Locks, feed_holder};

use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

use super::{Engine, Result, Store, StoreError, guard};
use crate::secret::Secret;

/// The variable that carries the database password (never a key of the file).
pub const PASSWORD_ENV: &str = "HERALD_STORE_PASSWORD";
/// The variable that names a file holding the database password (a Docker secret).
pub const PASSWORD_FILE_ENV: &str = "HERALD_STORE_PASSWORD_FILE";

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

/// Opens the store in the database `location` names, beside any other process using it
/// (`alone`: the only one, refused while another uses it), with its schema up to date.
pub(super) async fn open(location: &str, alone: bool) -> Result<Store> {
    let shown = redacted(location);
    let url = Secret::new(connect_url(location)?);
    let pool = pool(&url, &shown).await?;
    let locks = Locks::open(url, shown.clone(), alone).await?;
    Store::check_own(&pool, Engine::Postgres, &shown).await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    let mut store = Store::new(pool, Engine::Postgres, guard::Guard::memory());
    store.shared = Some(std::sync::Arc::new(super::Shared {
        locks,
        me: drains::me(),
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
