//! Several processes on one store (PostgreSQL): one polls the feed, the others follow. A
//! process polls only while it holds the store's feed lock; the others read the events it
//! records onto their own board (for their commands and announcements) and take the feed
//! over when its holder ends, from where the night stands in the store.

use super::{Watcher, replay_milestones};

impl Watcher {
    /// Whether this process polls the feed now: it holds the feed's lock, or has just taken
    /// it (and then takes the night over from the store first).
    pub(super) async fn lead(&mut self) -> bool {
        match self.store.try_feed().await {
            Ok(true) if self.leading => true,
            Ok(true) => {
                self.take_over().await;
                self.leading
            }
            Ok(false) => {
                if self.leading {
                    tracing::warn!("another process polls the feed now; following it");
                    self.leading = false;
                }
                self.status.send_modify(|s| s.following = true);
                false
            }
            Err(e) => {
                tracing::warn!("cannot tell whether this process polls the feed: {e}");
                false
            }
        }
    }

    /// Takes the feed over: the board brought up to the last event recorded, and the
    /// milestones followed from where they stand, so that nothing recorded is announced
    /// twice.
    async fn take_over(&mut self) {
        if let Err(e) = self.follow().await {
            tracing::error!("cannot take the feed over yet: {e}");
            return;
        }
        match replay_milestones(&self.store, &self.board).await {
            Ok((fired, missed)) => {
                self.fired = fired;
                self.missed = missed;
                self.leading = true;
                self.status.send_modify(|s| s.following = false);
                tracing::info!("this process polls the feed");
            }
            Err(e) => tracing::error!("cannot take the feed over yet: {e}"),
        }
    }

    /// Reads the events recorded since this process last looked onto its board (another
    /// process polls the feed).
    pub(super) async fn follow(&mut self) -> Result<(), crate::store::StoreError> {
        let events = self.store.events_after(self.synced).await?;
        if events.is_empty() {
            return Ok(());
        }
        let elections = self.store.elections().await?;
        {
            let mut b = self.board.write();
            if elections.len() > 1 && b.elections().len() != elections.len() {
                b.set_elections(elections);
            }
            for e in &events {
                b.apply(e.declaration.clone());
                b.note_race(e.seq, &e.declaration.result.constituency);
            }
        }
        self.synced = events.last().map_or(self.synced, |e| e.seq);
        let n = events.len() as u64;
        self.status.send_modify(|s| s.events += n);
        self.wake.send_modify(|n| *n += 1);
        Ok(())
    }
}
