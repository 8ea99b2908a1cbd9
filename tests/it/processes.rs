//! Several `herald run` processes over one PostgreSQL store: three processes, each running a
//! third of a fake Discord's shards (20 guilds, 200 subscribed channels), replay GE2019
//! while the one polling the feed and two others are killed with SIGKILL at random moments
//! (five kills, each restarted). Every seat reaches every channel exactly once and in order,
//! the feed is taken over within two poll intervals of its holder's death, the processes
//! together never meet Discord's global limit, and each answers its own guilds' commands.
//!
//! The size: `HERALD_PROCESSES_GUILDS` (20) and `HERALD_PROCESSES_CHANNELS` (10 a guild).

use crate::app;
use crate::fanout::check_deliveries;
use crate::support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_discord::{FakeConfig, FakeDiscord, FakeUser};
use herald::store::{SinkKind, Store};
use rand::{RngExt, SeedableRng};

const PROCESSES: u32 = 3;
/// The feed is polled this often; another process takes it over within two of these.
const INTERVAL: Duration = Duration::from_millis(250);

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The processes, each with its configuration file (its shard, and its name in the store's
/// `pg_stat_activity`: `herald-N`).
struct Processes {
    configs: Vec<std::path::PathBuf>,
    children: Vec<Option<Child>>,
    token: String,
}

impl Processes {
    fn spawn(&mut self, n: usize) {
        let child = Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(["run", "--config", self.configs[n].to_str().unwrap()])
            .env("DISCORD_TOKEN", &self.token)
            .env("RUST_LOG", "warn")
            .env_remove("HERALD_DISCORD_API_BASE")
            .stdout(Stdio::null())
            .stderr(self.log(n))
            .spawn()
            .expect("herald starts");
        self.children[n] = Some(child);
    }

    /// Process `n`'s log, appended to by each of its lives.
    fn log(&self, n: usize) -> std::fs::File {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.configs[n].with_extension("log"))
            .expect("the process's log opens")
    }

    fn kill(&mut self, n: usize) {
        if let Some(mut child) = self.children[n].take() {
            child.kill().expect("SIGKILL");
            child.wait().unwrap();
        }
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for n in 0..self.children.len() {
            self.kill(n);
        }
    }
}

/// Which process polls the feed (`herald-N` in the holder's description), if one does.
async fn feed_holder(check: &Store) -> Option<usize> {
    let holder = check.feed_held_by().await.ok()??;
    let name = holder.rsplit(" as ").next()?;
    name.strip_prefix("herald-")?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_share_a_night_through_five_kills_and_deliver_each_seat_once() {
    let Some(support::PostgresNight {
        results,
        order,
        baseline,
        db,
        turn: _turn,
    }) = support::postgres_night().await
    else {
        return;
    };
    let fake = FakeDiscord::start(FakeConfig::sharded(
        size("HERALD_PROCESSES_GUILDS", 20),
        size("HERALD_PROCESSES_CHANNELS", 10),
        u64::from(PROCESSES),
    ))
    .await;
    let channels = app::subscribe_every_channel(&db, &fake).await;
    let feed = app::feed(&results, Duration::from_millis(20), false).await;
    let tmp = tempfile::tempdir().unwrap();
    let configs = (0..PROCESSES)
        .map(|n| {
            let path = tmp.path().join(format!("herald-{n}.toml"));
            std::fs::write(
                &path,
                format!(
                    "[source]\nlocation = \"{}\"\ninterval = \"{}ms\"\n[election]\nbaseline = \"{}\"\nbaseline_format = \"parliament-csv\"\n[store]\npath = \"{db}?application_name=herald-{n}\"\n[discord]\napi_base = \"{}\"\nshards = \"{n}\"\nshard_count = {PROCESSES}\nregister_commands = \"global\"\ncharts = false\n[observe]\nlisten = \"off\"\n",
                    feed.url(),
                    INTERVAL.as_millis(),
                    baseline.display(),
                    fake.api_base()
                ),
            )
            .unwrap();
            path
        })
        .collect();
    let mut processes = Processes {
        configs,
        children: (0..PROCESSES).map(|_| None).collect(),
        token: fake.token(),
    };
    let started = Instant::now();
    for n in 0..PROCESSES as usize {
        processes.spawn(n);
    }
    let check = Store::inspect(&db).await.unwrap();
    let posted = || {
        channels
            .iter()
            .map(|c| fake.messages(*c).len())
            .sum::<usize>()
    };
    // Five kills: the feed's holder twice while the feed is being revealed, and one of the
    // other processes, picked at random, three times, during the feed and the fan-out after
    // it; each a random moment after its mark.
    let mut rng = rand::rngs::StdRng::seed_from_u64(2019);
    let mut takeovers = Vec::new();
    let mut killed = Vec::new();
    let marks: [(&str, usize, bool); 5] = [
        ("revealed", 120, true),
        ("revealed", 260, false),
        ("revealed", 420, true),
        ("posted", 1_500, false),
        ("posted", 4_000, false),
    ];
    for (what, mark, holder) in marks {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let at = match what {
                "revealed" => feed.feed.revealed(),
                _ => posted(),
            };
            if at >= mark || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Every process is up (its shard identified with the gateway, and a moment for its
        // watcher): a takeover is measured between running processes, not start-ups.
        let up = Instant::now() + Duration::from_secs(60);
        while fake.identifies() < PROCESSES as usize + killed.len() && Instant::now() < up {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(1000 + rng.random_range(0..300))).await;
        let victim = if holder {
            // The process polling the feed (it has taken it by now).
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Some(n) = feed_holder(&check).await {
                    break n;
                }
                assert!(Instant::now() < deadline, "no process polls the feed");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        } else {
            // One that does not poll the feed, picked at random.
            let holder = feed_holder(&check).await;
            let others: Vec<usize> = (0..PROCESSES as usize)
                .filter(|n| Some(*n) != holder)
                .collect();
            others[rng.random_range(0..others.len())]
        };
        let held = feed_holder(&check).await == Some(victim);
        processes.kill(victim);
        let killed_at = Instant::now();
        killed.push((victim, held, posted()));
        if held {
            // Another process takes the feed over.
            loop {
                if let Some(n) = feed_holder(&check).await
                    && n != victim
                {
                    takeovers.push(killed_at.elapsed());
                    break;
                }
                assert!(
                    killed_at.elapsed() < Duration::from_secs(10),
                    "nobody took the feed over"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        processes.spawn(victim);
    }
    // The night to its end.
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        let depth = check.depth(SinkKind::Discord).await.unwrap();
        if feed.feed.revealed() == 650 && check.events().await.unwrap().len() == 650 && depth == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the night did not finish: {depth} announcements pending"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let elapsed = started.elapsed();
    // Each process answers the commands of its own guilds (a guild's shard is its index
    // modulo 3 here).
    for shard in 0..PROCESSES as usize {
        let guild = &fake.config().guilds[shard];
        let i = fake
            .command(
                guild.id,
                guild.channels[0],
                FakeUser::new("voter"),
                "seats",
                serde_json::json!([]),
            )
            .await;
        assert!(
            fake.final_reply(&i, Duration::from_secs(15))
                .await
                .is_some(),
            "no reply in shard {shard}'s guild"
        );
    }
    let logs: Vec<String> = (0..PROCESSES as usize)
        .map(|n| std::fs::read_to_string(processes.configs[n].with_extension("log")).unwrap())
        .collect();
    drop(processes);
    feed.stop().await;
    let (messages, digests) = check_deliveries(&fake, &channels, &order);
    let (global_429, route_429) = fake.rate_limited();
    println!(
        "{PROCESSES} processes, {} channels in {} guilds: {messages} messages ({digests} digests) in {:.1} s; kills (process, held the feed, posted by then): {killed:?}; feed taken over in {takeovers:?}; 429s: {global_429} global, {route_429} route",
        channels.len(),
        fake.config().guilds.len(),
        elapsed.as_secs_f64()
    );
    assert_eq!(
        killed.iter().filter(|(_, held, _)| *held).count(),
        2,
        "the feed's holder was killed twice, the others three times: {killed:?}"
    );
    for t in &takeovers {
        assert!(
            *t <= 2 * INTERVAL,
            "the feed was taken over in {t:?}, more than two poll intervals"
        );
    }
    assert!(
        fake.rejected().is_empty(),
        "rejected: {:#?}",
        fake.rejected()
    );
    assert_eq!(
        global_429, 0,
        "the processes keep under the bot's global limit"
    );
    // Waiting in line for the feed is not a slow statement to warn of.
    for (n, log) in logs.iter().enumerate() {
        let warned = log
            .lines()
            .find(|l| l.contains("slow statement") && l.contains("pg_advisory_lock"));
        assert!(
            warned.is_none(),
            "herald-{n} warned of its lock wait: {warned:?}"
        );
    }
}
