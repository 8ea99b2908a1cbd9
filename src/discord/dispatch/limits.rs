//! Discord's rate limits, as the dispatcher keeps them: what is known of each route's
//! bucket (learned from the headers, counted down by every request, blocked by a 429), the
//! per-channel windows carried over a restart, the pacing every request waits for, and the
//! backoff between retries.

use std::future::Future;
use std::time::{Duration, Instant};

use chrono::Utc;

use super::Dispatcher;
use crate::discord::rest::{Bucket, Outcome};
use crate::observe::metrics::ScopeLabel;
use crate::store::SinkKind;

/// Discord's allowance for messages in one channel: 5 per 5 s. Learned from the headers
/// while running; assumed for the windows still open when herald restarts.
const CHANNEL_ALLOWANCE: u32 = 5;
const CHANNEL_WINDOW: Duration = Duration::from_secs(5);

/// Added to every reset Discord reports: its `X-RateLimit-Reset-After` is rounded to the
/// millisecond, and a request that arrives a hair early is refused.
const RESET_MARGIN: Duration = Duration::from_millis(5);

/// What herald knows of one route's rate-limit bucket: the remaining count Discord last
/// reported, less the requests sent since (a 5xx reply carries no headers but may still have
/// counted), and any wait a 429 imposed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct RouteBucket {
    remaining: Option<u32>,
    reset_at: Option<Instant>,
    blocked_until: Option<Instant>,
}

impl RouteBucket {
    /// When the next request may go, if not now.
    pub(super) fn wait_until(&self, now: Instant) -> Option<Instant> {
        let exhausted = match (self.remaining, self.reset_at) {
            (Some(0), Some(reset)) if reset > now => Some(reset),
            _ => None,
        };
        exhausted.max(self.blocked_until.filter(|t| *t > now))
    }

    /// Counts a request about to be sent. Once the window has passed nothing is known.
    fn spend(&mut self, now: Instant) {
        match self.reset_at {
            Some(reset) if reset > now => {
                self.remaining = self.remaining.map(|n| n.saturating_sub(1))
            }
            _ => {
                self.remaining = None;
                self.reset_at = None;
            }
        }
    }

    /// Takes what a reply's headers say; a reply without them changes nothing.
    fn learn(&mut self, now: Instant, bucket: &Bucket) {
        if let (Some(remaining), Some(after)) = (bucket.remaining, bucket.reset_after) {
            self.remaining = Some(remaining);
            self.reset_at = Some(now + after + RESET_MARGIN);
        }
    }
}

impl Dispatcher {
    /// Carries the channels' rate-limit windows over a restart: a channel that received
    /// messages in the last few seconds before herald stopped starts with what is left of
    /// Discord's per-channel allowance (5 messages per 5 s), not with a full one.
    pub(super) async fn seed_buckets(&self) {
        let now = Utc::now();
        let window = chrono::Duration::from_std(CHANNEL_WINDOW).unwrap_or_default();
        // Twice the window back: a row claimed then may have been sent up to a window later.
        let recent = match self
            .store
            .recent_posts(SinkKind::Discord, now - window - window)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("could not read the last posts before the restart: {e}");
                return;
            }
        };
        let mut buckets = Self::lock(&self.buckets);
        for r in recent {
            let age = (now - r.last).to_std().unwrap_or_default();
            let open_for = if r.in_flight {
                CHANNEL_WINDOW * 2
            } else {
                CHANNEL_WINDOW
            };
            let Some(left) = open_for.checked_sub(age) else {
                continue;
            };
            buckets.insert(
                format!("POST {}", r.target),
                RouteBucket {
                    remaining: Some(CHANNEL_ALLOWANCE.saturating_sub(r.posted)),
                    reset_at: Some(Instant::now() + left + RESET_MARGIN),
                    blocked_until: None,
                },
            );
        }
    }

    /// Waits for the global limiter, any global pause and the route's bucket, then counts
    /// the request against the bucket.
    pub(super) async fn pace(&self, route: &str) {
        loop {
            let wait = {
                let now = Instant::now();
                let global = Self::lock(&self.global_pause).filter(|t| *t > now);
                let bucket = Self::lock(&self.buckets)
                    .get(route)
                    .and_then(|b| b.wait_until(now));
                global.max(bucket).map(|t| t - now)
            };
            match wait {
                Some(d) => tokio::time::sleep(d).await,
                None => break,
            }
        }
        self.gate.wait().await;
        Self::lock(&self.buckets)
            .entry(route.to_string())
            .or_default()
            .spend(Instant::now());
    }

    pub(super) fn learn(&self, route: &str, bucket: &Bucket) {
        Self::lock(&self.buckets)
            .entry(route.to_string())
            .or_default()
            .learn(Instant::now(), bucket);
    }

    pub(super) fn backoff(&self, attempts: u32) -> chrono::Duration {
        let base = Duration::from_millis(500).saturating_mul(2u32.saturating_pow(attempts.min(12)));
        let jitter: f64 = rand::random_range(0.5..1.5);
        let d = base.mul_f64(jitter).min(self.config.max_backoff);
        chrono::Duration::from_std(d).unwrap_or(chrono::Duration::seconds(1))
    }

    /// Remembers a 429: the route (or, if global, every route) waits `retry_after`.
    pub(super) fn rate_limited(
        &self,
        route: &str,
        retry_after: Duration,
        global: bool,
        scope: String,
    ) {
        self.metrics
            .rate_limited
            .get_or_create(&ScopeLabel { scope })
            .inc();
        let until = Instant::now() + retry_after;
        if global {
            *Self::lock(&self.global_pause) = Some(until);
        } else {
            Self::lock(&self.buckets)
                .entry(route.to_string())
                .or_default()
                .blocked_until = Some(until);
        }
    }

    /// A call to Discord, paced and retried through rate limits: `call` makes one attempt;
    /// any other failure is the caller's.
    pub(super) async fn paced<T, F, Fut>(&self, route: &str, call: F) -> Result<T, Outcome>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = (Result<T, Outcome>, Bucket)>,
    {
        loop {
            self.pace(route).await;
            let (answer, bucket) = call().await;
            self.learn(route, &bucket);
            match answer {
                Err(Outcome::RateLimited {
                    retry_after,
                    global,
                    scope,
                }) => self.rate_limited(route, retry_after, global, scope),
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reported(remaining: u32, reset_after_ms: u64) -> Bucket {
        Bucket {
            id: Some("b".into()),
            remaining: Some(remaining),
            reset_after: Some(Duration::from_millis(reset_after_ms)),
        }
    }

    #[test]
    fn a_bucket_waits_only_when_discord_said_it_is_empty() {
        let now = Instant::now();
        let mut b = RouteBucket::default();
        assert_eq!(b.wait_until(now), None, "nothing known: send");
        b.learn(now, &reported(1, 4000));
        assert_eq!(b.wait_until(now), None);
        b.learn(now, &reported(0, 4000));
        let reset = now + Duration::from_millis(4000) + RESET_MARGIN;
        assert_eq!(b.wait_until(now), Some(reset));
        assert_eq!(b.wait_until(reset), None, "the window has passed");
    }

    #[test]
    fn requests_without_headers_still_count_against_the_bucket() {
        let now = Instant::now();
        let mut b = RouteBucket::default();
        b.spend(now);
        b.learn(now, &reported(2, 5000));
        // Two sends answered by a 5xx, which carries no rate-limit headers.
        for _ in 0..2 {
            b.spend(now);
            b.learn(now, &Bucket::default());
        }
        assert_eq!(b.remaining, Some(0));
        assert!(
            b.wait_until(now).is_some(),
            "the third must wait for the reset"
        );
        // After the reset nothing is known, and the next send goes at once.
        let later = now + Duration::from_secs(6);
        assert_eq!(b.wait_until(later), None);
        b.spend(later);
        assert_eq!(b.remaining, None);
    }

    #[test]
    fn a_429_blocks_the_route_until_its_retry_after() {
        let now = Instant::now();
        let until = now + Duration::from_millis(150);
        let b = RouteBucket {
            remaining: Some(3),
            reset_at: Some(now + Duration::from_secs(5)),
            blocked_until: Some(until),
        };
        assert_eq!(b.wait_until(now), Some(until));
        assert_eq!(b.wait_until(until), None);
    }
}
