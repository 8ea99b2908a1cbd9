//! herald's metrics, exposed at `/metrics` in the OpenMetrics text format that Prometheus
//! scrapes: declarations seen, announcements queued / sent / failed, 429s by scope, feed
//! errors by cause, poll latency, feed-to-post latency and outbox depth.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Why a feed poll was refused.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum FeedCause {
    timeout,
    connect,
    http_status,
    too_large,
    html,
    malformed,
    invalid,
    io,
    back_in_time,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CauseLabel {
    pub cause: FeedCause,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SinkLabel {
    pub sink: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ScopeLabel {
    pub scope: String,
}

/// Every metric herald keeps. Cheap to clone (the metrics are shared handles).
#[derive(Clone)]
pub struct Metrics {
    pub polls: Counter,
    pub feed_errors: Family<CauseLabel, Counter>,
    pub declarations_seen: Family<KindLabel, Counter>,
    pub ignored: Counter,
    pub queued: Family<SinkLabel, Counter>,
    pub sent: Family<SinkLabel, Counter>,
    pub failed: Family<SinkLabel, Counter>,
    pub retried: Family<SinkLabel, Counter>,
    pub rate_limited: Family<ScopeLabel, Counter>,
    pub poll_seconds: Histogram,
    pub feed_to_post_seconds: Histogram,
    pub outbox_depth: Family<SinkLabel, Gauge>,
    /// Declarations herald holds that the feed's latest complete snapshot lacks.
    pub missing: Gauge,
    /// Polls whose changes the store could not record (they are polled again).
    pub unrecorded_polls: Counter,
    /// 1 while Discord refuses the token and sending is paused.
    pub discord_auth_paused: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            polls: Counter::default(),
            feed_errors: Family::default(),
            declarations_seen: Family::default(),
            ignored: Counter::default(),
            queued: Family::default(),
            sent: Family::default(),
            failed: Family::default(),
            retried: Family::default(),
            rate_limited: Family::default(),
            poll_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            feed_to_post_seconds: Histogram::new(exponential_buckets(0.01, 2.0, 16)),
            outbox_depth: Family::default(),
            missing: Gauge::default(),
            unrecorded_polls: Counter::default(),
            discord_auth_paused: Gauge::default(),
        }
    }
}

impl Metrics {
    pub fn feed_error(&self, cause: FeedCause) {
        self.feed_errors.get_or_create(&CauseLabel { cause }).inc();
    }

    pub fn feed_error_count(&self, cause: FeedCause) -> u64 {
        self.feed_errors.get_or_create(&CauseLabel { cause }).get()
    }

    pub fn sink(name: &str) -> SinkLabel {
        SinkLabel {
            sink: name.to_string(),
        }
    }

    /// The metrics in OpenMetrics text.
    pub fn encode(&self) -> String {
        let mut registry = <Registry>::with_prefix("herald");
        registry.register("polls", "Feed polls attempted", self.polls.clone());
        registry.register(
            "feed_errors",
            "Feed polls refused, by cause",
            self.feed_errors.clone(),
        );
        registry.register(
            "declarations_seen",
            "Events detected, by kind",
            self.declarations_seen.clone(),
        );
        registry.register(
            "ignored_declarations",
            "Declarations ignored (late revisions and the like)",
            self.ignored.clone(),
        );
        registry.register(
            "announcements_queued",
            "Announcements queued, by sink",
            self.queued.clone(),
        );
        registry.register(
            "announcements_sent",
            "Announcements delivered, by sink",
            self.sent.clone(),
        );
        registry.register(
            "announcements_failed",
            "Announcements given up, by sink",
            self.failed.clone(),
        );
        registry.register(
            "announcements_retried",
            "Delivery attempts to retry, by sink",
            self.retried.clone(),
        );
        registry.register(
            "rate_limited",
            "HTTP 429 answers, by scope",
            self.rate_limited.clone(),
        );
        registry.register(
            "poll_seconds",
            "Time to poll the feed",
            self.poll_seconds.clone(),
        );
        registry.register(
            "feed_to_post_seconds",
            "Time from a declaration reaching herald to its message being posted",
            self.feed_to_post_seconds.clone(),
        );
        registry.register(
            "outbox_depth",
            "Announcements waiting, by sink",
            self.outbox_depth.clone(),
        );
        registry.register(
            "missing_declarations",
            "Declarations herald holds that the feed's latest complete snapshot lacks",
            self.missing.clone(),
        );
        registry.register(
            "unrecorded_polls",
            "Polls whose changes the store could not record (polled again)",
            self.unrecorded_polls.clone(),
        );
        registry.register(
            "discord_auth_paused",
            "1 while Discord refuses the token and sending is paused",
            self.discord_auth_paused.clone(),
        );
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_counters_with_labels() {
        let m = Metrics::default();
        m.feed_error(FeedCause::timeout);
        m.feed_error(FeedCause::timeout);
        m.sent.get_or_create(&Metrics::sink("console")).inc();
        let text = m.encode();
        assert!(
            text.contains("herald_feed_errors_total{cause=\"timeout\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("herald_announcements_sent_total{sink=\"console\"} 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
        assert_eq!(m.feed_error_count(FeedCause::timeout), 2);
    }
}
