//! The end-to-end harness: a whole election night on loopback. The rehearsal feed server
//! replays GE2019 (from `../shared/data`), the real `herald run` binary follows it, and the
//! fake Discord from the tests (limits on) receives the announcements for every subscribed
//! channel. It reports feed-to-post latency, the sustained send rate against the configured
//! global limit, 429s, herald's peak resident memory and its start-up time to ready.
//!
//! With `--postgres` the store is a new PostgreSQL database on the server
//! `HERALD_TEST_POSTGRES` names (`eval "$(.ci/postgres)"` starts one), and with
//! `--processes N` that many `herald run` processes share it, each running its share of N
//! shards; CPU is then summed over them and memory is each process's peak.
//!
//! ```text
//! cargo bench --bench e2e                                   # 1,000 channels in 100 guilds
//! cargo bench --bench e2e -- --guilds 10 --channels 10 --step-ms 10 --interval-ms 500
//! cargo bench --bench e2e -- --guilds 10 --channels 10 --speed 600     # real pace, 600x
//! cargo bench --bench e2e -- --postgres --processes 3       # three processes, one database
//! ```

#[path = "../tests/it/support.rs"]
#[allow(unused_imports)]
mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_discord::{FakeConfig, FakeDiscord};
use herald::core::finder::normalise;
use herald::demo;
use herald::rehearsal::{self, Feed, Speed};
use herald::sources::{Format, load_files};
use herald::store::{Store, Subscription};

struct Args {
    guilds: usize,
    channels: usize,
    /// `None`: max speed (one declaration every `step_ms`); `Some(n)`: n times real time.
    speed: Option<f64>,
    step_ms: u64,
    interval_ms: u64,
    rate: u32,
    postgres: bool,
    processes: u32,
}

fn args() -> Args {
    let mut a = Args {
        guilds: 100,
        channels: 10,
        speed: None,
        step_ms: 10,
        interval_ms: 500,
        rate: 45,
        postgres: false,
        processes: 1,
    };
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        let value = || argv.get(i + 1).and_then(|v| v.parse::<u64>().ok());
        match argv[i].as_str() {
            "--guilds" => a.guilds = value().unwrap_or(100) as usize,
            "--channels" => a.channels = value().unwrap_or(10) as usize,
            "--step-ms" => a.step_ms = value().unwrap_or(10),
            "--interval-ms" => a.interval_ms = value().unwrap_or(500),
            "--rate" => a.rate = value().unwrap_or(45) as u32,
            "--processes" => a.processes = value().unwrap_or(1).max(1) as u32,
            "--postgres" => {
                a.postgres = true;
                i += 1;
                continue;
            }
            "--speed" => {
                a.speed = argv
                    .get(i + 1)
                    .and_then(|v| v.parse::<f64>().ok())
                    .filter(|n| *n > 0.0)
            }
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    a
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[(((sorted.len() - 1) as f64) * p).round() as usize]
}

/// Peak resident memory of a process, from /proc (Linux).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// CPU time (user + system) a process has used, from /proc (Linux).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = args();
    let dir = std::env::var_os("HERALD_SHARED_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
        });
    if !dir.join("README.md").is_file() {
        println!(
            "SKIPPED: {} not found; the end-to-end harness replays GE2019 from it",
            dir.display()
        );
        return;
    }
    let parties = demo::parties();
    let results = load_files(
        Format::ParliamentCsv,
        &dir.join("candidate-level-results-general-election-12-12-2019.csv"),
        None,
        None,
        &parties,
    )
    .expect("GE2019 loads");

    let fake = FakeDiscord::start(FakeConfig::sharded(
        a.guilds,
        a.channels,
        u64::from(a.processes),
    ))
    .await;
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let store_path = if a.postgres {
        support::postgres_database()
            .await
            .expect("--postgres: set HERALD_TEST_POSTGRES to a server's URL")
    } else {
        tmp.path().join("herald.db").display().to_string()
    };
    let store = Store::open(&store_path).await.expect("store");
    let mut channels = Vec::new();
    for g in &fake.config().guilds {
        for c in &g.channels {
            let sub = Subscription::every(&g.id.to_string(), &c.to_string());
            store.subscribe(&sub, None).await.expect("subscribe");
            channels.push(*c);
        }
    }
    store.close().await;
    // Its lock too: herald takes the store next.
    drop(store);

    let baseline = dir.join("candidate-level-results-general-election-08-06-2017.csv");
    // The feed server starts only once herald is ready, so the night's clock starts then.
    let feed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let feed_url = format!("http://127.0.0.1:{feed_port}/feed.json");
    let spawned = Instant::now();
    let mut children = Vec::new();
    for n in 0..a.processes {
        let config = tmp.path().join(format!("herald-{n}.toml"));
        std::fs::write(
            &config,
            format!(
                "[source]\nlocation = \"{feed_url}\"\ninterval = \"{}ms\"\n[election]\nbaseline = \"{}\"\nbaseline_format = \"parliament-csv\"\n[store]\npath = \"{store_path}\"\n[discord]\napi_base = \"{}\"\nglobal_rate_per_second = {}\nshards = \"{n}\"\nshard_count = {}\n[observe]\nlisten = \"off\"\n",
                a.interval_ms,
                baseline.display(),
                fake.api_base(),
                a.rate,
                a.processes
            ),
        )
        .expect("config");
        children.push(
            std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
                .args(["run", "--config", config.to_str().unwrap_or_default()])
                .env("DISCORD_TOKEN", fake.token())
                // HERALD_E2E_LOG sets herald's log filter, e.g. `sqlx::query=debug` for the
                // time of every statement (its log goes to the bench's standard error).
                .env(
                    "RUST_LOG",
                    std::env::var("HERALD_E2E_LOG").unwrap_or_else(|_| "warn".into()),
                )
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("herald starts"),
        );
    }
    let ready_by = Instant::now() + Duration::from_secs(60);
    while fake.identifies() < a.processes as usize && Instant::now() < ready_by {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let ready = fake.wait_ready(Duration::from_secs(60)).await;
    let startup = spawned.elapsed();
    assert!(ready, "herald did not connect");

    let feed = Arc::new(Feed::new(
        results.election.clone(),
        results.declarations.clone(),
        None,
        match a.speed {
            Some(n) => Speed::Factor(n),
            None => Speed::Max {
                step: Duration::from_millis(a.step_ms),
            },
        },
        false,
        Arc::new(parties),
    ));
    let server = rehearsal::spawn(feed.clone(), SocketAddr::from(([127, 0, 0, 1], feed_port)))
        .await
        .expect("feed server");
    let order: HashMap<String, usize> = feed
        .timeline()
        .iter()
        .enumerate()
        .map(|(i, d)| (normalise(&d.result.constituency.name), i))
        .collect();

    let total = channels.len() * order.len();
    let deadline = Instant::now() + Duration::from_secs(4 * 3600);
    let mut peak_kib = vec![0; children.len()];
    let sample = |peak: &mut Vec<u64>| {
        for (p, c) in peak.iter_mut().zip(&children) {
            *p = (*p).max(peak_rss_kib(c.id()).unwrap_or(0));
        }
    };
    loop {
        sample(&mut peak_kib);
        let delivered: usize = channels
            .iter()
            .map(|c| {
                fake.messages(*c)
                    .iter()
                    .map(|m| support::seats_in(m).len())
                    .sum::<usize>()
            })
            .sum();
        if delivered >= total {
            break;
        }
        if Instant::now() > deadline {
            println!("gave up after 4 hours with {delivered} of {total} deliveries");
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    sample(&mut peak_kib);
    let cpu: Option<f64> = children.iter().map(|c| cpu_seconds(c.id())).sum();
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
    server.stop().await;

    // Feed-to-post latency per (channel, seat): from the moment the seat became public in
    // the feed to the moment its message (or digest) reached Discord.
    let offset = feed.started().saturating_duration_since(fake.started());
    let mut latencies = Vec::with_capacity(total);
    let mut first_post = Duration::MAX;
    let mut last_post = Duration::ZERO;
    let mut messages = 0usize;
    let mut digests = 0usize;
    for c in &channels {
        for m in fake.messages(*c) {
            messages += 1;
            first_post = first_post.min(m.created_at);
            last_post = last_post.max(m.created_at);
            let seats = support::seats_in(&m);
            if seats.len() > 1 {
                digests += 1;
            }
            for s in seats {
                if let Some(i) = order.get(&normalise(&s)) {
                    let revealed = offset + feed.revealed_at(*i).unwrap_or_default();
                    latencies.push(m.created_at.saturating_sub(revealed));
                }
            }
        }
    }
    latencies.sort();
    let requests = fake.requests();
    let sends = requests
        .iter()
        .filter(|r| {
            r.path.contains("/channels/")
                && r.path.contains("/messages")
                && (r.method == "POST" || r.method == "PATCH")
        })
        .count();
    let window = last_post
        .saturating_sub(first_post)
        .as_secs_f64()
        .max(0.001);
    let rate = sends as f64 / window;
    // Sustained: the middle 90% of the sends, leaving out the start and the tail (when only
    // a few channels still have work and their own limits, not the global one, bind).
    let mut send_times: Vec<Duration> = requests
        .iter()
        .filter(|r| {
            r.path.contains("/channels/")
                && r.path.contains("/messages")
                && (r.method == "POST" || r.method == "PATCH")
        })
        .map(|r| r.at)
        .collect();
    send_times.sort();
    let sustained = if send_times.len() > 20 {
        let (a5, a95) = (percentile(&send_times, 0.05), percentile(&send_times, 0.95));
        (send_times.len() as f64 * 0.9) / a95.saturating_sub(a5).as_secs_f64().max(0.001)
    } else {
        rate
    };
    let (global_429, route_429) = fake.rate_limited();
    println!(
        "herald end to end: GE2019 (650 seats) to {} channels in {} guilds; store: {}; {} herald process(es)",
        channels.len(),
        a.guilds,
        if a.postgres { "PostgreSQL" } else { "SQLite" },
        a.processes
    );
    match a.speed {
        Some(n) => println!(
            "  feed: the night's real declaration times, {n} times faster; herald polls every {} ms",
            a.interval_ms
        ),
        None => println!(
            "  feed: one declaration every {} ms; herald polls every {} ms",
            a.step_ms, a.interval_ms
        ),
    }
    println!(
        "  deliveries: {} of {total}, in {messages} messages ({digests} digests)",
        latencies.len()
    );
    if !latencies.is_empty() {
        println!(
            "  feed-to-post latency: p50 {:.2} s, p99 {:.2} s, max {:.2} s",
            percentile(&latencies, 0.5).as_secs_f64(),
            percentile(&latencies, 0.99).as_secs_f64(),
            latencies[latencies.len() - 1].as_secs_f64()
        );
    }
    println!(
        "  send rate: {sends} message requests in {window:.1} s = {rate:.1}/s overall; sustained (middle 90% of sends) {sustained:.1}/s against a configured {}/s: ratio {:.2}",
        a.rate,
        sustained / f64::from(a.rate)
    );
    println!(
        "  429s: {global_429} global, {route_429} per route; requests refused as invalid: {}",
        fake.rejected().len()
    );
    let peaks: Vec<String> = peak_kib
        .iter()
        .map(|k| format!("{:.1} MiB", *k as f64 / 1024.0))
        .collect();
    println!(
        "  herald peak resident memory (each process): {}",
        peaks.join(", ")
    );
    if let Some(cpu) = cpu {
        println!(
            "  herald CPU time (all processes): {cpu:.1} s ({:.2} ms per message request)",
            1000.0 * cpu / sends.max(1) as f64
        );
    }
    println!(
        "  start-up to ready (gateway READY): {:.2} s",
        startup.as_secs_f64()
    );
}
