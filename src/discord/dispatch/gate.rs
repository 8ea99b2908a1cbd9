//! The global gate every announcement request passes: a token bucket just under Discord's
//! global limit, waited on by one request at a time, which lets requests through a few at
//! once.
//!
//! Sending at the limit is mostly waiting, and each wait ended is a wake-up of the whole
//! process (a worker, SQLite's thread, the connection). Let through
//! `together` at a time, the requests queued behind the first go in the same wake-up: the
//! rate is the same, the wake-ups fewer. A pass not used at once lapses after one request's
//! share of a second, so that no second ever sees more than `rate + together` requests.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::discord::shards::Shards;

/// Discord's global limit: requests per second across the bot.
pub const DISCORD_GLOBAL_PER_SECOND: u32 = 50;

/// The most requests let through together.
pub const MOST_TOGETHER: u32 = 4;

/// How many requests a process lets through at once: what Discord's limit leaves spare over
/// the bot's rate `per_bot` (less one), shared among processes as the rate is
/// ([`Shards::share`]), at most [`MOST_TOGETHER`]. At the default 45 a second, one process
/// lets 4 through at once: at most 49 requests in any second.
pub fn together(per_bot: u32, shards: &Shards) -> u32 {
    let spare = DISCORD_GLOBAL_PER_SECOND.saturating_sub(per_bot.saturating_add(1));
    shards.share(spare).clamp(1, MOST_TOGETHER)
}

/// Passes paid for in the bucket and not used yet, and until when they may be.
#[derive(Debug, Default)]
struct Passes {
    left: u32,
    until: Option<Instant>,
}

impl Passes {
    /// Uses a pass, if one is left and has not lapsed.
    fn take(&mut self, now: Instant) -> bool {
        match self.until {
            Some(until) if self.left > 0 && now <= until => {
                self.left -= 1;
                true
            }
            _ => false,
        }
    }

    /// `n` passes just paid for, good for `valid`; one of them is used at once.
    fn fill(&mut self, n: u32, now: Instant, valid: Duration) {
        self.left = n.saturating_sub(1);
        self.until = Some(now + valid);
    }
}

pub(super) struct Gate {
    limiter: DefaultDirectRateLimiter,
    together: NonZeroU32,
    /// How long a pass stays good: one request's share of a second.
    valid: Duration,
    /// One request at a time waits on the bucket; the rest queue here in order, asleep (64
    /// tasks polling the bucket together woke each other for every request sent).
    turn: tokio::sync::Mutex<Passes>,
}

impl Gate {
    /// `per_second` requests a second, let through `together` at a time (at most
    /// [`MOST_TOGETHER`], and never more than `per_second`).
    pub(super) fn new(per_second: u32, together: u32) -> Gate {
        let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let together = NonZeroU32::new(together.clamp(1, MOST_TOGETHER).min(rate.get()))
            .unwrap_or(NonZeroU32::MIN);
        Gate {
            limiter: RateLimiter::direct(Quota::per_second(rate).allow_burst(together)),
            together,
            valid: Duration::from_secs(1) / rate.get(),
            turn: tokio::sync::Mutex::new(Passes::default()),
        }
    }

    /// Waits until one more request may go.
    pub(super) async fn wait(&self) {
        let mut passes = self.turn.lock().await;
        if passes.take(Instant::now()) {
            return;
        }
        // `together` never exceeds the bucket's size, so this cannot fail; were it to, one
        // request at a time is the same rate.
        if self.cells(self.together).await {
            passes.fill(self.together.get(), Instant::now(), self.valid);
        } else {
            self.cells(NonZeroU32::MIN).await;
        }
    }

    /// Waits until the bucket has `n` cells and takes them; false if it never can. Asleep
    /// on the runtime's own timer (governor's `until_ready` sleeps on a timer thread of its
    /// own, one more thread woken for every wait).
    async fn cells(&self, n: NonZeroU32) -> bool {
        loop {
            match self.limiter.check_n(n) {
                Ok(Ok(())) => return true,
                Ok(Err(later)) => {
                    let wait = later.wait_time_from(self.limiter.clock().now());
                    tokio::time::sleep(wait).await;
                }
                Err(_) => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_are_used_once_each_and_lapse() {
        let now = Instant::now();
        let valid = Duration::from_millis(22);
        let mut p = Passes::default();
        assert!(!p.take(now), "none paid for");
        p.fill(4, now, valid);
        assert!(p.take(now));
        assert!(p.take(now + Duration::from_millis(5)));
        assert!(p.take(now + valid));
        assert!(!p.take(now + valid), "three besides the one used at once");
        p.fill(4, now, valid);
        assert!(
            !p.take(now + valid + Duration::from_millis(1)),
            "a pass not used in time lapses"
        );
    }

    #[tokio::test]
    async fn requests_go_together_up_to_the_bucket() {
        // A bucket that refills once an hour: only what it starts with goes without waiting.
        let gate = Gate {
            limiter: RateLimiter::direct(
                Quota::per_hour(NonZeroU32::MIN).allow_burst(NonZeroU32::new(3).unwrap()),
            ),
            together: NonZeroU32::new(3).unwrap(),
            valid: Duration::from_secs(60),
            turn: tokio::sync::Mutex::new(Passes::default()),
        };
        for _ in 0..3 {
            tokio::time::timeout(Duration::from_secs(5), gate.wait())
                .await
                .expect("the first three go at once");
        }
        assert!(
            tokio::time::timeout(Duration::from_millis(200), gate.wait())
                .await
                .is_err(),
            "the fourth waits for the bucket"
        );
    }

    #[test]
    fn processes_together_stay_under_discord_s_limit() {
        let one = Shards::default();
        assert_eq!(one.share(45) + together(45, &one), 49);
        assert_eq!(together(50, &one), 1, "nothing spare: one at a time");
        let thirds = [(0, 5), (6, 10), (11, 15)].map(|(first, last)| Shards {
            first,
            last,
            count: 16,
        });
        let most: u32 = thirds.iter().map(|s| s.share(45) + together(45, s)).sum();
        assert!(most < DISCORD_GLOBAL_PER_SECOND, "{most}");
    }

    #[test]
    fn together_never_exceeds_the_rate() {
        assert_eq!(Gate::new(45, 4).together.get(), 4);
        assert_eq!(Gate::new(45, 9).together.get(), MOST_TOGETHER);
        assert_eq!(Gate::new(2, 4).together.get(), 2);
        assert_eq!(Gate::new(45, 0).together.get(), 1);
    }
}
