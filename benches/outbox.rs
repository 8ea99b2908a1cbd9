//! The outbox's room to grow: a store with many subscribed channels (10,000 by default, each
//! subscribed to every seat), GE2019's declarations recorded one at a time as the watcher
//! records them, queued for every channel. It reports how long recording one declaration
//! takes (queued for every channel, in one transaction: median and worst), how many
//! announcements that leaves owed, the size of the store file, with the whole night's size
//! extrapolated from it (650 seats), and how long the sending side's two questions take
//! with all of it owed (the depth, and which channels are due). Nothing is sent: what
//! Discord's limits allow is the e2e bench's subject.
//!
//! ```text
//! cargo bench --bench outbox                                   # 10,000 channels, 50 seats
//! cargo bench --bench outbox -- --channels 1000 --seats 650    # a whole night, smaller
//! ```

#[path = "../tests/it/support.rs"]
#[allow(unused_imports)]
mod support;

use std::time::{Duration, Instant};

use herald::core::changes::{Change, EventKind};
use herald::store::{SinkKind, Sinks, Store, Subscription};

struct Args {
    channels: usize,
    seats: usize,
}

fn args() -> Args {
    let mut a = Args {
        channels: 10_000,
        seats: 50,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| -> usize {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} takes a number"))
        };
        match flag.as_str() {
            "--channels" => a.channels = value("--channels"),
            "--seats" => a.seats = value("--seats").min(650),
            // cargo bench passes --bench; anything else is refused.
            "--bench" => {}
            other => panic!("unknown argument {other} (--channels N, --seats N)"),
        }
    }
    a
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let a = args();
    let Some(data) = support::shared_data() else {
        return;
    };
    let (mut results, _) = support::ge2019(&data);
    results.declarations.sort_by(|x, y| {
        x.declared_at
            .cmp(&y.declared_at)
            .then_with(|| x.id().cmp(y.id()))
    });
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("herald.db");
        let store = Store::open(path.to_str().expect("a UTF-8 path"))
            .await
            .expect("the store opens");
        let started = Instant::now();
        for c in 0..a.channels {
            let guild = format!("{}", 100_000 + c / 10);
            let channel = format!("{}", 1_000_000 + c);
            store
                .subscribe(&Subscription::every(&guild, &channel), None)
                .await
                .expect("subscribed");
        }
        println!(
            "herald's outbox: {} channels subscribed to every seat (in {:.1} s)",
            a.channels,
            started.elapsed().as_secs_f64()
        );
        let sinks = Sinks::of(&[SinkKind::Discord]);
        let mut times = Vec::new();
        for d in results.declarations.iter().take(a.seats) {
            let change = Change {
                kind: EventKind::Declared,
                declaration: d.clone(),
                differences: Vec::new(),
            };
            let t = Instant::now();
            store
                .record(std::slice::from_ref(&change), &[false], sinks)
                .await
                .expect("recorded");
            times.push(t.elapsed());
        }
        // What the sending side asks of the store while it is this far behind: the depth
        // (every 5 s, for the gauge) and the channels due (every second, and on news).
        let t = Instant::now();
        let owed = store.depth(SinkKind::Discord).await.expect("the depth");
        let depth_took = t.elapsed();
        let t = Instant::now();
        let due = store
            .targets_due(SinkKind::Discord, chrono::Utc::now())
            .await
            .expect("the channels due")
            .len();
        let due_took = t.elapsed();
        // Closing checkpoints the write-ahead log into the file.
        store.close().await;
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let mut sorted = times.clone();
        sorted.sort();
        let per_seat = size as f64 / a.seats as f64;
        println!(
            "  one declaration queued for every channel: median {:.1} ms, p90 {:.1} ms, max {:.1} ms ({} declarations)",
            percentile(&sorted, 0.5).as_secs_f64() * 1e3,
            percentile(&sorted, 0.9).as_secs_f64() * 1e3,
            sorted.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
            sorted.len()
        );
        println!(
            "  announcements owed: {owed}; store file {:.1} MiB after {} seats; a whole night (650 seats) about {:.0} MiB",
            size as f64 / 1_048_576.0,
            a.seats,
            per_seat * 650.0 / 1_048_576.0
        );
        println!(
            "  asked with everything owed: the depth in {:.1} ms; the {due} channels due in {:.1} ms",
            depth_took.as_secs_f64() * 1e3,
            due_took.as_secs_f64() * 1e3
        );
    });
}
