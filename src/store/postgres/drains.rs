//! Which process drains which target, when several share a PostgreSQL store: a target is
//! taken (a row in `drains`) before it is drained and let go after, so that no two
//! processes send to one channel at once and each channel's order holds; what a process
//! holds is renewed while it runs, and a dead process's targets are taken by another once
//! their lease has run out ([`LEASE`]). Its claimed but unconfirmed messages are then sent
//! again under the same nonce, or found in the channel's history, as after a restart.

use crate::store::{Result, SinkKind, Store};

/// How long a target stays a process's without renewal (renewed once a poll interval).
pub const LEASE: &str = "30 seconds";

/// This process's name among the store's holders: its pid and a random part (pids repeat
/// across machines and restarts).
pub(super) fn me() -> String {
    format!("{}-{:016x}", std::process::id(), rand::random::<u64>())
}

impl Store {
    /// Takes `target` for this process to drain: true if no other process holds it. A
    /// store that is one process's (SQLite) needs no row for it.
    pub async fn take_target(&self, sink: SinkKind, target: &str) -> Result<bool> {
        let Some(shared) = &self.shared else {
            return Ok(true);
        };
        let r: Result<Option<String>> = sqlx::query_scalar(&format!(
            "INSERT INTO drains (sink, target, holder, until) VALUES ($1, $2, $3, now() + interval '{LEASE}')
             ON CONFLICT (sink, target) DO UPDATE SET holder = excluded.holder, until = excluded.until
               WHERE drains.holder = excluded.holder OR drains.until < now()
             RETURNING holder"
        ))
        .bind(sink.name())
        .bind(target)
        .bind(&shared.me)
        .fetch_optional(&mut *self.conn().await?)
        .await
        .map_err(Into::into);
        Ok(self.settle(r).await?.is_some())
    }

    /// Lets a drained target go.
    pub async fn let_target_go(&self, sink: SinkKind, target: &str) -> Result<()> {
        let Some(shared) = &self.shared else {
            return Ok(());
        };
        self.exec(
            sqlx::query("DELETE FROM drains WHERE sink = $1 AND target = $2 AND holder = $3")
                .bind(sink.name())
                .bind(target)
                .bind(&shared.me),
        )
        .await
        .map(|_| ())
    }

    /// Renews every target this process holds (once a poll interval).
    pub(crate) async fn renew_targets(&self) -> Result<()> {
        let Some(shared) = &self.shared else {
            return Ok(());
        };
        self.exec(
            sqlx::query(&format!(
                "UPDATE drains SET until = now() + interval '{LEASE}' WHERE holder = $1"
            ))
            .bind(&shared.me),
        )
        .await
        .map(|_| ())
    }

    /// Lets go of every target this process holds (at shutdown).
    pub(crate) async fn let_targets_go(&self) {
        if let Some(shared) = &self.shared
            && let Ok(mut conn) = self.conn().await
        {
            let _ = sqlx::query("DELETE FROM drains WHERE holder = $1")
                .bind(&shared.me)
                .execute(&mut *conn)
                .await;
        }
    }
}
