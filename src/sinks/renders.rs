//! The recent renderings of a sink, by event: the first target an event goes to renders it,
//! every other target (and any that asks while it is being rendered) shares that rendering.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::store::{OutboxItem, StoreError};

/// How many events' renderings are kept: the events whose rows are being delivered at once
/// (a poll brings up to a few dozen; a channel behind by more is sent digests).
const KEPT: usize = 64;

/// Which event a row announces: (constituency or milestone key, version). Recorded events
/// never change, so neither does their rendering.
type Key = (String, u32);
/// A rendering being made or made (`None`: the event is gone from the store).
type Cell<T> = Arc<OnceCell<Option<Arc<T>>>>;

/// A sink's recent renderings (see the module's doc).
pub struct Renders<T> {
    cells: Mutex<VecDeque<(Key, Cell<T>)>>,
}

impl<T> Default for Renders<T> {
    fn default() -> Self {
        Renders {
            cells: Mutex::new(VecDeque::new()),
        }
    }
}

impl<T> Renders<T> {
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
        let key = (row.constituency_id.clone(), row.version);
        let cell = {
            let mut cells = self.cells.lock().unwrap_or_else(|p| p.into_inner());
            match cells.iter().find(|(k, _)| *k == key) {
                Some((_, cell)) => cell.clone(),
                None => {
                    if cells.len() >= KEPT {
                        cells.pop_front();
                    }
                    let cell: Cell<T> = Arc::new(OnceCell::new());
                    cells.push_back((key, cell.clone()));
                    cell
                }
            }
        };
        cell.get_or_try_init(|| async { Ok(render().await?.map(Arc::new)) })
            .await
            .cloned()
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
}
