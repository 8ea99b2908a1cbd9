//! The recent renderings of a sink, by event: the first target an event goes to renders it,
//! every other target (and any that asks while it is being rendered) shares that rendering.
//! The same cache keeps Discord's digest lines, a seat's line rendered once for every
//! channel; it holds more of them, and they are looked up a digest at a time.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::store::{OutboxItem, StoreError};

/// How many events' renderings are kept by default: the events whose rows are being
/// delivered at once (a poll brings up to a few dozen; a channel behind by more is sent
/// digests).
const KEPT: usize = 64;

/// Which event a row announces: (constituency or milestone key, version). Recorded events
/// never change, so neither does their rendering.
type Key = (String, u32);
/// A rendering being made or made (`None`: the event is gone from the store).
type Cell<T> = Arc<OnceCell<Option<Arc<T>>>>;

fn key(row: &OutboxItem) -> Key {
    (row.constituency_id.clone(), row.version)
}

/// The renderings kept, and their keys from the oldest.
struct Kept<T> {
    cells: HashMap<Key, Cell<T>>,
    order: VecDeque<Key>,
}

/// A sink's recent renderings (see the module's doc), the oldest dropped first.
pub struct Renders<T> {
    kept: Mutex<Kept<T>>,
    capacity: usize,
}

impl<T> Default for Renders<T> {
    fn default() -> Self {
        Renders::with_capacity(KEPT)
    }
}

impl<T> Renders<T> {
    /// A cache of the last `capacity` events' renderings.
    pub fn with_capacity(capacity: usize) -> Self {
        Renders {
            kept: Mutex::new(Kept {
                cells: HashMap::new(),
                order: VecDeque::new(),
            }),
            capacity: capacity.max(1),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Kept<T>> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cell of `key`, made (empty) if there is none.
    fn cell(&self, key: Key) -> Cell<T> {
        let mut kept = self.held();
        if let Some(cell) = kept.cells.get(&key) {
            return cell.clone();
        }
        let cell: Cell<T> = Arc::new(OnceCell::new());
        kept.cells.insert(key.clone(), cell.clone());
        kept.order.push_back(key);
        while kept.order.len() > self.capacity {
            if let Some(old) = kept.order.pop_front() {
                kept.cells.remove(&old);
            }
        }
        cell
    }

    /// The rendering of `row`'s event, made by `render` if no target has made it yet. A
    /// failed rendering (the store unreadable) is not kept: the next row tries again.
    pub async fn get<F>(
        &self,
        row: &OutboxItem,
        render: impl FnOnce() -> F,
    ) -> Result<Option<Arc<T>>, StoreError>
    where
        F: Future<Output = Result<Option<T>, StoreError>>,
    {
        self.cell(key(row))
            .get_or_try_init(|| async { Ok(render().await?.map(Arc::new)) })
            .await
            .cloned()
    }

    /// The renderings of `rows`' events already made, in their order (`None` where none
    /// is, or the event was gone): a digest's lines in one look.
    pub fn made(&self, rows: &[OutboxItem]) -> Vec<Option<Arc<T>>> {
        let kept = self.held();
        rows.iter()
            .map(|r| {
                kept.cells
                    .get(&key(r))
                    .and_then(|c| c.get().cloned().flatten())
            })
            .collect()
    }

    /// Keeps the rendering of `row`'s event, made elsewhere (several read and rendered
    /// together), unless one is kept already; returns the one kept.
    pub fn keep(&self, row: &OutboxItem, rendering: T) -> Arc<T> {
        let cell = self.cell(key(row));
        let fresh = Arc::new(rendering);
        match cell.set(Some(fresh.clone())) {
            Ok(()) => fresh,
            Err(_) => cell.get().cloned().flatten().unwrap_or(fresh),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{OutboxState, SinkKind};
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn row(seat: &str, version: u32, target: &str) -> OutboxItem {
        OutboxItem {
            key: format!("{target}:{seat}:{version}"),
            sink: SinkKind::Discord,
            target: target.into(),
            constituency_id: seat.into(),
            version,
            seq: 1,
            state: OutboxState::Pending,
            attempts: 0,
            next_attempt_at: chrono::Utc::now(),
            message_id: None,
            last_error: None,
            digest_key: None,
            kind: None,
            first_tried_at: None,
        }
    }

    #[tokio::test]
    async fn an_event_is_rendered_once_for_every_target_and_a_failure_is_not_kept() {
        let renders: Renders<String> = Renders::default();
        let made = AtomicUsize::new(0);
        let render = |text: &'static str| {
            made.fetch_add(1, Ordering::SeqCst);
            async move { Ok(Some(text.to_string())) }
        };
        for target in ["1", "2", "3"] {
            let r = renders.get(&row("E1", 1, target), || render("E1 v1")).await;
            assert_eq!(r.unwrap().as_deref().map(String::as_str), Some("E1 v1"));
        }
        assert_eq!(
            made.load(Ordering::SeqCst),
            1,
            "one rendering for three targets"
        );
        // Another version of the seat is another event.
        let r = renders.get(&row("E1", 2, "1"), || render("E1 v2")).await;
        assert_eq!(r.unwrap().as_deref().map(String::as_str), Some("E1 v2"));
        assert_eq!(made.load(Ordering::SeqCst), 2);
        // A store error is not remembered; a missing event is.
        let failed = renders
            .get(&row("E2", 1, "1"), || async {
                Err::<Option<String>, _>(StoreError::Corrupt("x".into()))
            })
            .await;
        assert!(failed.is_err());
        let again = renders.get(&row("E2", 1, "2"), || render("E2 v1")).await;
        assert_eq!(again.unwrap().as_deref().map(String::as_str), Some("E2 v1"));
        let gone = renders
            .get(&row("E3", 1, "1"), || async { Ok(None) })
            .await
            .unwrap();
        assert!(gone.is_none());
        let still = renders
            .get(&row("E3", 1, "2"), || render("E3 v1"))
            .await
            .unwrap();
        assert!(still.is_none(), "a missing event stays missing");
    }

    #[test]
    fn renderings_kept_together_are_found_a_batch_at_a_time_and_the_oldest_go_first() {
        let renders: Renders<String> = Renders::with_capacity(3);
        renders.keep(&row("E1", 1, "a"), "E1 v1".into());
        let texts = |rows: &[OutboxItem]| -> Vec<Option<String>> {
            renders
                .made(rows)
                .into_iter()
                .map(|l| l.map(|l| l.to_string()))
                .collect()
        };
        // Any target finds it; a correction (version 2) is a rendering of its own.
        assert_eq!(
            texts(&[row("E1", 1, "b"), row("E1", 2, "b"), row("E2", 1, "b")]),
            [Some("E1 v1".to_string()), None, None]
        );
        // A rendering kept already stays: the one kept is returned.
        assert_eq!(*renders.keep(&row("E1", 1, "c"), "other".into()), "E1 v1");
        for seat in ["S1", "S2", "S3"] {
            renders.keep(&row(seat, 1, "a"), seat.into());
        }
        assert_eq!(
            texts(&[row("E1", 1, "a"), row("S1", 1, "a"), row("S3", 1, "a")]),
            [None, Some("S1".to_string()), Some("S3".to_string())],
            "the oldest was dropped"
        );
        assert_eq!(renders.held().cells.len(), 3);
        assert_eq!(renders.held().order.len(), 3);
    }
}
