//! The output edge: where announcements go, and the outbox steps every sink shares.
//!
//! A sink implements [`Sink`]: it renders an outbox row's announcement (once per event, for
//! every target it goes to; [`Renders`] keeps the result) and delivers it to one target,
//! saying what came of it as a [`Delivery`]: sent, retry later, failed, or pause the
//! target. [`Outbox`] does the rest the same way for every sink: it gives up a row whose
//! event is gone, claims the row before it is delivered, records what the delivery came
//! to, and counts it. [`worker::run`] is the loop every sink runs: it gives free slots to
//! the targets with announcements due, most urgent first, and the sink drains each target's
//! rows in event order.
//!
//! * [`console`]: the terminal (or a file), as `herald watch --console` and the demo use.
//! * `crate::discord::dispatch`: Discord's channels, within Discord's limits, with digests.

pub mod console;
mod renders;
pub mod worker;

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::observe::Metrics;
use crate::store::{OutboxItem, SinkKind, Store, StoreError};
pub use renders::Renders;

/// What became of one attempt to deliver an outbox row (or a digest of rows).
#[derive(Clone, Debug, PartialEq)]
pub enum Delivery {
    /// Delivered, as this message where the target names one.
    Sent(Option<String>),
    /// Not delivered; tried again at `at` (counted as a retry). The target's later rows
    /// wait behind it, so that order is kept.
    Retry { at: DateTime<Utc>, why: String },
    /// Not delivered, through no fault of the row: the sink cannot deliver anything now (its
    /// credentials refused). The row waits with every other, not counted as a retry.
    Wait(String),
    /// Refused for good: the row is given up; the target's later rows go on.
    Failed(String),
    /// The target refuses everything (a channel deleted, herald's access removed): the
    /// target is paused and every row it has is given up.
    Pause(String),
}

/// One destination of announcements.
pub trait Sink: Send + Sync {
    /// Which sink this is: its rows in the outbox, the label of its metrics.
    const KIND: SinkKind;
    /// A row's announcement as this sink shows it: rendered once per event and shared by
    /// every target the event goes to.
    type Rendered: Send + Sync + 'static;

    /// Renders the announcement of `row`'s event (or milestone); `None` when the store no
    /// longer holds it.
    fn render(
        &self,
        row: &OutboxItem,
    ) -> impl Future<Output = Result<Option<Self::Rendered>, StoreError>> + Send;

    /// When the announced event was first seen in the feed (for the feed-to-post latency).
    fn seen_at(rendered: &Self::Rendered) -> Option<DateTime<Utc>>;

    /// What the sink does when a target refuses everything, besides giving up its rows
    /// (Discord pauses the channel's subscription and tells its admins).
    fn paused(
        &self,
        target: &str,
        why: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = (target, why);
        async { Ok(()) }
    }
}

/// The outbox steps every sink shares: claim, render once, record, count.
#[derive(Clone)]
pub struct Outbox {
    store: Store,
    metrics: Metrics,
}

impl Outbox {
    pub fn new(store: Store, metrics: Metrics) -> Self {
        Outbox { store, metrics }
    }

    /// Renders `row` (through `renders`, once per event) and claims it. `None`: not this
    /// worker's to deliver (claimed elsewhere, or its event gone, and the row given up).
    pub async fn claim<S: Sink>(
        &self,
        sink: &S,
        renders: &Renders<S::Rendered>,
        row: &OutboxItem,
    ) -> Result<Option<Arc<S::Rendered>>, StoreError> {
        let Some(rendered) = renders.get(row, || sink.render(row)).await? else {
            self.store
                .mark_failed(row, "event missing from the store")
                .await?;
            return Ok(None);
        };
        if !self.store.claim(row).await? {
            return Ok(None);
        }
        Ok(Some(rendered))
    }

    /// Records what delivering `row` came to and counts it. Returns whether the target's
    /// later rows may follow now.
    pub async fn settle<S: Sink>(
        &self,
        sink: &S,
        row: &OutboxItem,
        seen_at: Option<DateTime<Utc>>,
        delivery: Delivery,
    ) -> Result<bool, StoreError> {
        match delivery {
            Delivery::Sent(message_id) => {
                self.store.mark_sent(row, message_id.as_deref()).await?;
                self.count_sent(S::KIND, 1, seen_at);
                Ok(true)
            }
            Delivery::Retry { at, why } => {
                self.store.mark_retry(row, at, &why).await?;
                self.count(S::KIND, |m| &m.retried, 1);
                Ok(false)
            }
            Delivery::Wait(why) => {
                self.store.mark_retry(row, Utc::now(), &why).await?;
                Ok(false)
            }
            Delivery::Failed(why) => {
                self.store.mark_failed(row, &why).await?;
                self.count(S::KIND, |m| &m.failed, 1);
                Ok(true)
            }
            Delivery::Pause(why) => {
                self.pause(sink, &row.target, &why).await?;
                Ok(false)
            }
        }
    }

    /// [`Outbox::settle`] for a digest: `rows`, claimed together under `digest_key` and
    /// delivered as one message.
    pub async fn settle_digest<S: Sink>(
        &self,
        sink: &S,
        digest_key: &str,
        rows: &[OutboxItem],
        seen_at: Option<DateTime<Utc>>,
        delivery: Delivery,
    ) -> Result<bool, StoreError> {
        match delivery {
            Delivery::Sent(message_id) => {
                let n = self
                    .store
                    .finish_digest(digest_key, message_id.as_deref().unwrap_or_default())
                    .await?;
                self.count_sent(S::KIND, n, seen_at);
                Ok(true)
            }
            Delivery::Retry { at, why } => {
                self.store.retry_digest(digest_key, at, &why).await?;
                self.count(S::KIND, |m| &m.retried, 1);
                Ok(false)
            }
            Delivery::Wait(why) => {
                self.store
                    .retry_digest(digest_key, Utc::now(), &why)
                    .await?;
                Ok(false)
            }
            Delivery::Failed(why) => {
                let n = self.store.fail_digest(digest_key, &why).await?;
                self.count(S::KIND, |m| &m.failed, n);
                Ok(true)
            }
            Delivery::Pause(why) => {
                let target = rows.first().map(|r| r.target.as_str()).unwrap_or_default();
                self.pause(sink, target, &why).await?;
                Ok(false)
            }
        }
    }

    /// Gives up every row of a target that refuses everything, after the sink's own steps.
    async fn pause<S: Sink>(&self, sink: &S, target: &str, why: &str) -> Result<(), StoreError> {
        sink.paused(target, why).await?;
        let n = self.store.fail_target(S::KIND, target, why).await?;
        self.count(S::KIND, |m| &m.failed, n);
        Ok(())
    }

    fn count_sent(&self, kind: SinkKind, n: u64, seen_at: Option<DateTime<Utc>>) {
        self.count(kind, |m| &m.sent, n);
        if let Some(t) = seen_at {
            let lag = (Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0;
            self.metrics.feed_to_post_seconds.observe(lag);
        }
    }

    fn count(
        &self,
        kind: SinkKind,
        counter: impl Fn(
            &Metrics,
        ) -> &prometheus_client::metrics::family::Family<
            crate::observe::metrics::SinkLabel,
            prometheus_client::metrics::counter::Counter,
        >,
        n: u64,
    ) {
        if n > 0 {
            counter(&self.metrics)
                .get_or_create(&Metrics::sink(kind))
                .inc_by(n);
        }
    }
}
