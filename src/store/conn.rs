//! The connection a statement (or a transaction) runs on: a SQLite store's one connection,
//! which the store holds itself and lends out in turn, or one from PostgreSQL's pool.
//!
//! A connection returned to sqlx's pool is pinged, by a task spawned for it, before anyone
//! else may use it: on SQLite, whose connection runs on a thread of its own, that doubled
//! every statement's hand-offs between threads. Held by the store, SQLite's connection is
//! one hand-off a statement. It is still replaced after a failed write
//! ([`Store::settle`](super::Store::settle)).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Transaction};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

use super::{Result, StoreError};

/// SQLite's one connection, taken from the pool once and kept (`None` until first used,
/// and after it was closed for being suspect).
#[derive(Clone, Default)]
pub(super) struct Held(Arc<Mutex<Option<PoolConnection<Any>>>>);

/// A connection lent for a statement or a transaction; it goes back when dropped.
pub(crate) enum Conn<'a> {
    Held(MappedMutexGuard<'a, PoolConnection<Any>>),
    Pooled(PoolConnection<Any>),
}

impl Deref for Conn<'_> {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        match self {
            Conn::Held(c) => c,
            Conn::Pooled(c) => c,
        }
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Conn::Held(c) => c,
            Conn::Pooled(c) => c,
        }
    }
}

impl Conn<'_> {
    /// Begins a transaction on the connection.
    pub(crate) async fn begin(&mut self) -> std::result::Result<Transaction<'_, Any>, sqlx::Error> {
        sqlx::Connection::begin(&mut **self).await
    }
}

impl Held {
    /// The connection, once the statements before have finished with it.
    pub(super) async fn lend<'a>(&'a self, pool: &AnyPool) -> Result<Conn<'a>> {
        let mut slot = self.0.lock().await;
        if slot.is_none() {
            *slot = Some(pool.acquire().await?);
        }
        MutexGuard::try_map(slot, Option::as_mut)
            .map(Conn::Held)
            .map_err(|_| StoreError::Fault("the store's connection was lost".into()))
    }

    /// Closes the connection (rolling back whatever it left open); the next statement gets
    /// a new one from the pool.
    pub(super) async fn replace(&self) {
        if let Some(conn) = self.0.lock().await.take() {
            let _ = conn.close().await;
        }
    }

    /// Gives the connection back to the pool (before the pool closes).
    pub(super) async fn give_back(&self) {
        if let Some(mut conn) = self.0.lock().await.take() {
            conn.return_to_pool().await;
        }
    }
}
