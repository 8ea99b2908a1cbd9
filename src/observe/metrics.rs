//! herald's metrics, exposed at `/metrics` in the OpenMetrics text format that Prometheus
//! scrapes: declarations seen, announcements queued / sent / failed, 429s by scope, feed
//! errors by cause, poll latency, feed-to-post latency, outbox depth, the gateway, the last
//! good poll, build info and the process's CPU and memory. Every series with a known label
//! exists from the first scrape, at zero, so that a rate or an alert has something to read
//! before the first event.

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
    /// The feed is another election than the one the store holds.
    wrong_election,
}

impl FeedCause {
    pub const ALL: [FeedCause; 10] = [
        FeedCause::timeout,
        FeedCause::connect,
        FeedCause::http_status,
        FeedCause::too_large,
        FeedCause::html,
        FeedCause::malformed,
        FeedCause::invalid,
        FeedCause::io,
        FeedCause::back_in_time,
        FeedCause::wrong_election,
    ];
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
pub struct FigureLabel {
    pub figure: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SinkLabel {
    pub sink: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ScopeLabel {
    pub scope: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabel {
    version: String,
}

/// Every metric herald keeps. Cheap to clone (the metrics are shared handles).
#[derive(Clone)]
pub struct Metrics {
    pub polls: Counter,
    pub feed_errors: Family<CauseLabel, Counter>,
    pub declarations_seen: Family<KindLabel, Counter>,
    pub ignored: Counter,
    /// Figures a source states differently from herald (PA's own majority, swing…).
    pub source_disagreements: Family<FigureLabel, Counter>,
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
    /// 1 while the gateway is connected.
    pub gateway_connected: Gauge,
    /// When the feed last answered a poll that was recorded (Unix seconds; 0 before).
    pub last_good_poll: Gauge<f64, std::sync::atomic::AtomicU64>,
}

/// The sinks and 429 scopes every metric is shown for from the start.
const SCOPES: [&str; 3] = ["global", "user", "shared"];
const KINDS: [&str; 6] = [
    "declared",
    "called",
    "completed",
    "recount",
    "corrected",
    "retracted",
];

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            polls: Counter::default(),
            feed_errors: Family::default(),
            declarations_seen: Family::default(),
            ignored: Counter::default(),
            source_disagreements: Family::default(),
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
            gateway_connected: Gauge::default(),
            last_good_poll: Gauge::default(),
        }
        .with_every_label()
    }
}

impl Metrics {
    /// Creates every series whose labels are known, at zero.
    fn with_every_label(self) -> Metrics {
        for cause in FeedCause::ALL {
            let _ = self.feed_errors.get_or_create(&CauseLabel { cause });
        }
        for kind in KINDS {
            let _ = self.declarations_seen.get_or_create(&KindLabel {
                kind: kind.to_string(),
            });
        }
        for figure in crate::core::crosscheck::Figure::ALL {
            let _ = self.source_disagreements.get_or_create(&FigureLabel {
                figure: figure.as_str().to_string(),
            });
        }
        for sink in crate::store::SinkKind::ALL {
            let label = Metrics::sink(sink);
            for family in [&self.queued, &self.sent, &self.failed, &self.retried] {
                let _ = family.get_or_create(&label);
            }
            let _ = self.outbox_depth.get_or_create(&label);
        }
        for scope in SCOPES {
            let _ = self.rate_limited.get_or_create(&ScopeLabel {
                scope: scope.to_string(),
            });
        }
        self
    }

    /// Notes a poll recorded now.
    pub fn polled_ok(&self) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.last_good_poll.set(now);
    }

    pub fn feed_error(&self, cause: FeedCause) {
        self.feed_errors.get_or_create(&CauseLabel { cause }).inc();
    }

    pub fn feed_error_count(&self, cause: FeedCause) -> u64 {
        self.feed_errors.get_or_create(&CauseLabel { cause }).get()
    }

    pub fn sink(kind: crate::store::SinkKind) -> SinkLabel {
        SinkLabel {
            sink: kind.name().to_string(),
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
            "source_disagreements",
            "Figures the source states differently from herald, by figure",
            self.source_disagreements.clone(),
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
        registry.register(
            "discord_gateway_connected",
            "1 while the Discord gateway is connected",
            self.gateway_connected.clone(),
        );
        registry.register(
            "last_good_poll_timestamp_seconds",
            "When the feed last answered a poll that was recorded (Unix time)",
            self.last_good_poll.clone(),
        );
        let build: Family<BuildLabel, Gauge> = Family::default();
        build
            .get_or_create(&BuildLabel {
                version: env!("CARGO_PKG_VERSION").to_string(),
            })
            .set(1);
        registry.register("build_info", "herald's version (always 1)", build);
        let process = super::process::sample();
        let mut root = <Registry>::default();
        root.register_with_unit(
            "process_cpu",
            "CPU time used by the process (user and system)",
            prometheus_client::registry::Unit::Seconds,
            process.cpu_seconds,
        );
        root.register_with_unit(
            "process_resident_memory",
            "Resident memory of the process",
            prometheus_client::registry::Unit::Bytes,
            process.resident_bytes,
        );
        root.register_with_unit(
            "process_start_time",
            "When the process started (Unix time)",
            prometheus_client::registry::Unit::Seconds,
            process.start_seconds,
        );
        let mut out = String::new();
        // The process series carry no prefix (Prometheus' convention); they go first, and the
        // one `# EOF` ends the whole text.
        let mut first = String::new();
        let _ = prometheus_client::encoding::text::encode_registry(&mut first, &root);
        out.push_str(&first);
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
        m.sent
            .get_or_create(&Metrics::sink(crate::store::SinkKind::Console))
            .inc();
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
        assert_eq!(text.matches("# EOF").count(), 1);
        assert_eq!(m.feed_error_count(FeedCause::timeout), 2);
    }

    #[test]
    fn every_series_is_there_from_the_first_scrape() {
        let text = Metrics::default().encode();
        for series in [
            "herald_feed_errors_total{cause=\"connect\"} 0",
            "herald_feed_errors_total{cause=\"wrong_election\"} 0",
            "herald_announcements_sent_total{sink=\"discord\"} 0",
            "herald_announcements_failed_total{sink=\"console\"} 0",
            "herald_rate_limited_total{scope=\"global\"} 0",
            "herald_declarations_seen_total{kind=\"retracted\"} 0",
            "herald_outbox_depth{sink=\"discord\"} 0",
            "herald_discord_gateway_connected 0",
            "herald_last_good_poll_timestamp_seconds 0",
            "herald_missing_declarations 0",
            "herald_unrecorded_polls_total 0",
            &format!(
                "herald_build_info{{version=\"{}\"}} 1",
                env!("CARGO_PKG_VERSION")
            ),
        ] {
            assert!(text.contains(series), "{series} missing from:\n{text}");
        }
        // The process's own: CPU in seconds, memory in bytes (non-zero on Linux).
        let line = |name: &str| {
            text.lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_else(|| panic!("{name} missing"))
                .rsplit(' ')
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(-1.0)
        };
        assert!(line("process_cpu_seconds_total") >= 0.0);
        assert!(line("process_resident_memory_bytes") > 1e6);
        assert!(line("process_start_time_seconds") > 1.7e9);
    }
}
