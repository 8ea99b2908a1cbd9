//! Fixed-window rate-limit buckets: one global (per second) and one per route and major
//! parameter, reported with Discord's `X-RateLimit-*` headers.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::Limits;

struct Window {
    count: u32,
    reset_at: Instant,
}

impl Window {
    fn roll(&mut self, now: Instant, window: Duration) {
        if now >= self.reset_at {
            self.count = 0;
            self.reset_at = now + window;
        }
    }
}

/// All buckets of one fake.
#[derive(Default)]
pub struct Limiter {
    global: Option<Window>,
    buckets: HashMap<String, Window>,
}

/// Why a request was refused.
pub struct Limited {
    pub global: bool,
    pub retry_after: f64,
}

/// The limiter's answer: headers for the response, and a refusal if over a limit.
pub struct Verdict {
    pub headers: Vec<(String, String)>,
    pub limited: Option<Limited>,
}

/// A stable 32-hex-digit bucket id (FNV-1a of the key, twice).
pub fn bucket_hash(key: &str) -> String {
    let fnv = |seed: u64| {
        key.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    format!(
        "{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x8422_2325_cbf2_9ce4)
    )
}

fn epoch_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

impl Limiter {
    /// Counts one request against bucket `key` (`limit` per `window`) and, if `global`, against
    /// the global bucket. When `limits.enabled` is false nothing is refused, but the headers
    /// still report the counts. A refused request counts against nothing.
    pub fn check(
        &mut self,
        limits: &Limits,
        key: &str,
        limit: u32,
        window: Duration,
        global: bool,
    ) -> Verdict {
        let now = Instant::now();
        let g = self.global.get_or_insert(Window {
            count: 0,
            reset_at: now + Duration::from_secs(1),
        });
        g.roll(now, Duration::from_secs(1));
        if global && limits.enabled && g.count >= limits.global_per_second {
            let retry = g.reset_at.saturating_duration_since(now).as_secs_f64();
            return Verdict {
                headers: vec![
                    ("X-RateLimit-Global".into(), "true".into()),
                    ("X-RateLimit-Scope".into(), "global".into()),
                    ("Retry-After".into(), format!("{}", retry.ceil().max(1.0))),
                ],
                limited: Some(Limited {
                    global: true,
                    retry_after: retry.max(0.001),
                }),
            };
        }
        let b = self.buckets.entry(key.to_string()).or_insert(Window {
            count: 0,
            reset_at: now + window,
        });
        b.roll(now, window);
        let reset_after = b.reset_at.saturating_duration_since(now).as_secs_f64();
        let mut headers = vec![
            ("X-RateLimit-Limit".to_string(), limit.to_string()),
            (
                "X-RateLimit-Reset".to_string(),
                format!("{:.3}", epoch_secs() + reset_after),
            ),
            (
                "X-RateLimit-Reset-After".to_string(),
                format!("{reset_after:.3}"),
            ),
            ("X-RateLimit-Bucket".to_string(), bucket_hash(key)),
        ];
        if limits.enabled && b.count >= limit {
            headers.push(("X-RateLimit-Remaining".into(), "0".into()));
            headers.push(("X-RateLimit-Scope".into(), "user".into()));
            headers.push((
                "Retry-After".into(),
                format!("{}", reset_after.ceil().max(1.0)),
            ));
            return Verdict {
                headers,
                limited: Some(Limited {
                    global: false,
                    retry_after: reset_after.max(0.001),
                }),
            };
        }
        b.count += 1;
        if global {
            g.count += 1;
        }
        headers.push((
            "X-RateLimit-Remaining".into(),
            limit.saturating_sub(b.count).to_string(),
        ));
        Verdict {
            headers,
            limited: None,
        }
    }
}
