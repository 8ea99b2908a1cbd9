//! The one loop every sink runs: it asks the store which of the sink's targets have an
//! announcement due, gives each free slot to the most urgent (retries first, then the
//! oldest announcement), and lets the sink drain that target, until shutdown. Where several
//! processes share the store, a target is drained only once this process has taken it
//! ([`Store::take_target`](crate::store::Store::take_target)). Nothing is
//! delivered while the store cannot record it, or while the sink says it cannot deliver
//! (Discord's token refused).

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::{Notify, Semaphore, watch};

use super::{Outbox, Sink};
use crate::observe::Metrics;
use crate::store::StoreError;
use crate::watch::Wake;

/// A sink the loop can drive: it drains one target at a time.
pub trait Drain: Sink + 'static {
    /// How many targets are drained at once.
    fn concurrency(&self) -> usize;

    /// Whether the sink can deliver now (the store aside). Asked every round; Discord asks
    /// there, now and then, whether a refused token is accepted again.
    fn ready(&self) -> impl Future<Output = bool> + Send;

    /// Delivers `target`'s announcements in order until it has none due or must wait.
    fn drain(&self, target: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The list of due targets is a scan of the sink's pending rows, so it is asked for again
/// when new events arrive or when it is this old, not each time a target finishes: a retry
/// waits at most this long for a slot, never for every other target's backlog.
const REFRESH: Duration = Duration::from_secs(1);
/// The outbox depth is a count over every pending row (tens of milliseconds at the peak of
/// a night at 1,000 channels): every few seconds is enough for a gauge.
const DEPTH_EVERY: Duration = Duration::from_secs(5);

/// How long the loop, told to stop, waits for the drains under way to finish their message.
const GRACE: Duration = Duration::from_secs(1);

/// Drives `sink` whenever the watcher records events (and at least every quarter second),
/// until `shutdown`.
pub async fn run<S: Drain>(
    sink: Arc<S>,
    outbox: Outbox,
    wake: Wake,
    mut shutdown: watch::Receiver<bool>,
) {
    let Outbox { store, metrics } = outbox;
    let mut woken = wake.subscribe();
    let slots = sink.concurrency().max(1);
    let permits = Arc::new(Semaphore::new(slots));
    let freed = Arc::new(Notify::new());
    // The targets being drained: a target is drained by one task at a time.
    let busy: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut due: VecDeque<String> = VecDeque::new();
    let mut fetched: Option<Instant> = None;
    let mut news = true;
    let mut last_depth: Option<Instant> = None;
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Nothing is delivered while the store cannot record it, or while the sink cannot
        // deliver (each says why in /healthz); nothing is given up for either.
        let store_ok = store.fault().is_none();
        let sink_ok = sink.ready().await;
        if store_ok && sink_ok && permits.available_permits() > 0 {
            if news || fetched.is_none_or(|t| t.elapsed() >= REFRESH) {
                match store.targets_due(S::KIND, Utc::now()).await {
                    Ok(targets) => due = targets.into(),
                    Err(e) => tracing::error!(sink = S::KIND.name(), "outbox: {e}"),
                }
                fetched = Some(Instant::now());
                news = false;
            }
            while let Some(target) = due.pop_front() {
                if held(&busy).contains(&target) {
                    continue;
                }
                let Ok(permit) = permits.clone().try_acquire_owned() else {
                    due.push_front(target);
                    break;
                };
                match store.take_target(S::KIND, &target).await {
                    Ok(true) => {}
                    // Another process drains it.
                    Ok(false) => continue,
                    Err(e) => {
                        tracing::error!(sink = S::KIND.name(), target, "outbox: {e}");
                        continue;
                    }
                }
                held(&busy).insert(target.clone());
                let (sink, busy, freed) = (sink.clone(), busy.clone(), freed.clone());
                let store = store.clone();
                tokio::spawn(async move {
                    if let Err(e) = sink.drain(&target).await {
                        tracing::error!(sink = S::KIND.name(), target, "outbox: {e}");
                    }
                    if let Err(e) = store.let_target_go(S::KIND, &target).await {
                        tracing::warn!(sink = S::KIND.name(), target, "outbox: {e}");
                    }
                    held(&busy).remove(&target);
                    drop(permit);
                    freed.notify_one();
                });
            }
        }
        if last_depth.is_none_or(|t| t.elapsed() >= DEPTH_EVERY) {
            last_depth = Some(Instant::now());
            if let Ok(depth) = store.depth(S::KIND).await {
                metrics
                    .outbox_depth
                    .get_or_create(&Metrics::sink(S::KIND))
                    .set(depth);
            }
        }
        tokio::select! {
            _ = woken.changed() => news = true,
            _ = freed.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = shutdown.changed() => {}
        }
    }
    // Drains under way get a moment to finish the message they are sending before the
    // store is closed; whatever is cut short is claimed and not marked, which the next
    // start settles (the sink's idempotency).
    let all = u32::try_from(slots).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(GRACE, permits.acquire_many(all)).await;
}

/// The targets being drained, whatever a panicked drain left.
fn held(busy: &Mutex<HashSet<String>>) -> std::sync::MutexGuard<'_, HashSet<String>> {
    busy.lock().unwrap_or_else(|p| p.into_inner())
}
