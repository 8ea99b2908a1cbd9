//! Faults around the store, the token and the feed, through the real binary: a full disk, a
//! second process on one store, a damaged or foreign store, a store made busy during a
//! poll, the store deleted mid-run, a results file cut at a seat boundary, and a token
//! Discord stops accepting. Each ends with every seat announced exactly once or, where
//! herald cannot record, with nothing announced and `/healthz` saying why.

use crate::support;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use herald::demo;
use herald::rehearsal::{self};
use herald::store::{OutboxState, Store};
use serde_json::Value;

/// A `herald` process with its log in a file.
struct Herald {
    child: Child,
    log: PathBuf,
}

impl Herald {
    fn start(args: &[&str], env: &[(&str, &str)], log: &Path) -> Herald {
        let file = std::fs::File::create(log).expect("a log file");
        let mut c = Command::new(env!("CARGO_BIN_EXE_herald"));
        for (k, _) in std::env::vars() {
            if k.starts_with("HERALD_") || k == "DISCORD_TOKEN" {
                c.env_remove(k);
            }
        }
        let child = c
            .args(args)
            .envs(env.iter().copied())
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("herald starts");
        Herald {
            child,
            log: log.to_path_buf(),
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The address of `/healthz`, once herald has logged it.
    async fn listening(&self) -> SocketAddr {
        support::listening(&self.log).await
    }

    /// SIGTERM, then waits for the exit.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!("herald did not stop on SIGTERM:\n{}", self.log());
    }
}

/// A test that fails must not leave its herald running (holding a mount, a port).
impl Drop for Herald {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn healthz(addr: SocketAddr) -> (u16, Value) {
    let r = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .expect("/healthz answers");
    let code = r.status().as_u16();
    (code, r.json().await.expect("JSON"))
}

/// Polls `/healthz` until `cond` holds of its body, or fails saying what it last was.
async fn health_until(addr: SocketAddr, within: Duration, cond: impl Fn(u16, &Value) -> bool) {
    let deadline = Instant::now() + within;
    loop {
        let (code, body) = healthz(addr).await;
        if cond(code, &body) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "/healthz stayed {code}: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn reasons(v: &Value) -> String {
    v["reasons"].to_string()
}

/// The announcements a console file holds, by their outbox key (`console:ID:VERSION`).
/// The keys of the seats' announcements printed (milestones aside: see [`milestones`]).
fn printed(console: &Path) -> Vec<String> {
    printed_keys(console)
        .into_iter()
        .filter(|k| !k.starts_with("console:milestone:"))
        .collect()
}

/// The keys of the milestones printed.
fn milestones(console: &Path) -> Vec<String> {
    printed_keys(console)
        .into_iter()
        .filter(|k| k.starts_with("console:milestone:"))
        .collect()
}

fn printed_keys(console: &Path) -> Vec<String> {
    std::fs::read_to_string(console)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with('▶'))
        .filter_map(|l| {
            l.rsplit_once('[')
                .map(|(_, k)| k.trim_end_matches(']').to_string())
        })
        .collect()
}

async fn wait_printed(console: &Path, n: usize, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    loop {
        let p = printed(console);
        if p.len() >= n {
            return p;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} announcements printed",
            p.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn assert_once(keys: &[String]) {
    let mut seen = BTreeSet::new();
    for k in keys {
        assert!(seen.insert(k), "{k} printed twice");
    }
}

/// GE2019 replayed on loopback, one declaration every `step`.
async fn ge2019_feed(dir: &Path, step: Duration) -> rehearsal::Running {
    let (results, _) = support::ge2019(dir);
    crate::app::feed(&results, step, false).await
}

fn watch_args<'a>(source: &'a str, store: &'a str, console: &'a str) -> Vec<&'a str> {
    vec![
        "watch",
        "--source",
        source,
        "--store",
        store,
        "--console-out",
        console,
        "--interval",
        "50ms",
        "--listen",
        "127.0.0.1:0",
    ]
}

/// Starts `herald watch` of `source` on `store` and expects it to refuse at once: its
/// standard error.
fn refused_at_start(source: &str, store: &str, console: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(watch_args(source, store, console))
        .output()
        .unwrap();
    assert!(!out.status.success(), "herald started on {store}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A `herald watch` of `source` with its store at `store`, its console file and its log in
/// `dir`, serving `/healthz`, once it listens.
struct Watching {
    herald: Herald,
    addr: SocketAddr,
    console: PathBuf,
    store: String,
}

async fn watching(source: &str, store: &Path, dir: &Path, extra: &[&str]) -> Watching {
    let console = dir.join("console.txt");
    let store = store.display().to_string();
    let mut args = watch_args(source, &store, console.to_str().unwrap_or_default());
    args.extend_from_slice(extra);
    let herald = Herald::start(&args, &[], &dir.join("log"));
    let addr = herald.listening().await;
    Watching {
        herald,
        addr,
        console,
        store,
    }
}

/// A size-limited tmpfs mounted at a temporary folder, unmounted on drop. None (with the
/// reason printed) where this process may not mount, i.e. when not root.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("SKIPPED: cannot mount a tmpfs here (not root?): no full-disk test");
            return None;
        }
        Some(SmallDisk { dir })
    }

    fn resize(&self, size: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "remount");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_announcing_and_freeing_it_announces_each_seat_once() {
    let Some(dir) = support::shared_data() else {
        return;
    };
    let Some(disk) = SmallDisk::mount("1m") else {
        return;
    };
    let feed = ge2019_feed(&dir, Duration::from_millis(3)).await;
    let tmp = tempfile::tempdir().unwrap();
    let Watching {
        herald,
        addr,
        console,
        store: store_s,
    } = watching(
        &feed.url(),
        &disk.dir.path().join("herald.db"),
        tmp.path(),
        &[],
    )
    .await;
    // The 650 seats do not fit in a megabyte: herald notices, says so, and stops.
    health_until(addr, Duration::from_secs(60), |code, v| {
        code == 503 && reasons(v).contains("disk is full")
    })
    .await;
    // Nothing was announced that the store does not hold: every printed key is an event
    // that is on disk (read by another connection, as a restart would read it).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let shown = printed(&console);
    let on_disk = Store::inspect(&store_s).await.unwrap();
    let events: BTreeSet<String> = on_disk
        .events()
        .await
        .unwrap()
        .iter()
        .map(|e| format!("console:{}:{}", e.declaration.id(), e.version))
        .collect();
    assert!(events.len() < 650, "the disk filled before the night ended");
    for k in &shown {
        assert!(
            events.contains(k),
            "{k} was printed but is not in the store"
        );
    }
    let recorded: BTreeSet<String> = on_disk
        .milestones()
        .await
        .unwrap()
        .iter()
        .map(|m| format!("console:milestone:{}:1", m.milestone.key()))
        .collect();
    for k in milestones(&console) {
        assert!(
            recorded.contains(&k),
            "{k} was printed but is not in the store"
        );
    }
    drop(on_disk);
    // Room again: the unrecorded polls are taken up, and every seat is printed once.
    disk.resize("64m");
    let shown = wait_printed(&console, 650, Duration::from_secs(90)).await;
    assert_once(&shown);
    assert_once(&milestones(&console));
    health_until(addr, Duration::from_secs(10), |code, _| code == 200).await;
    herald.stop();
    feed.stop().await;
    let s = Store::inspect(&store_s).await.unwrap();
    assert_eq!(s.events().await.unwrap().len(), 650);
    assert!(
        s.outbox(herald::store::SinkKind::Console)
            .await
            .unwrap()
            .iter()
            .all(|i| i.state == OutboxState::Sent)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_process_per_store_and_no_foreign_or_damaged_store() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("herald.db");
    let console = tmp.path().join("console.txt");
    let (store_s, console_s) = (store.display().to_string(), console.display().to_string());
    let demo_feed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/demo/hartlepool-2021.json"
    );
    let first = Herald::start(
        &watch_args(demo_feed, &store_s, &console_s),
        &[],
        &tmp.path().join("log1"),
    );
    let addr = first.listening().await;
    wait_printed(&console, 1, Duration::from_secs(30)).await;
    // A second herald on the same store is refused at once, naming the store and the holder.
    let err = refused_at_start(demo_feed, &store_s, &console_s);
    assert!(
        err.contains(&format!(
            "store {store_s} is in use by another herald process (pid {})",
            first.child.id()
        )),
        "{err}"
    );
    health_until(addr, Duration::from_secs(5), |code, _| code == 200).await;
    assert_eq!(printed(&console).len(), 1, "announced once");
    first.stop();

    // Another program's database: refused before anything is written into it.
    let foreign = tmp.path().join("app.db");
    let url = format!("sqlite://{}?mode=rwc", foreign.display());
    {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    let foreign_s = foreign.display().to_string();
    let err = refused_at_start(demo_feed, &foreign_s, &console_s);
    assert!(
        err.contains(&format!(
            "store {foreign_s} is not a herald store (it holds the tables users)"
        )),
        "{err}"
    );
    {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&mut c)
                .await
                .unwrap();
        assert_eq!(tables, ["users"], "nothing was added to it");
    }

    // A damaged store: three pages scrambled. Refused at start, naming the file.
    {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{store_s}"))
            .await
            .unwrap();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    let bytes = std::fs::read(&store).unwrap();
    assert!(bytes.len() >= 5 * 4096, "a store of several pages");
    let mut scrambled = bytes.clone();
    for page in [1usize, 2, 3] {
        for (i, b) in scrambled[page * 4096..(page + 1) * 4096]
            .iter_mut()
            .enumerate()
        {
            *b = (i * 7 + page) as u8;
        }
    }
    std::fs::write(&store, scrambled).unwrap();
    let err = refused_at_start(demo_feed, &store_s, &console_s);
    assert!(err.contains(&format!("store {store_s}")), "{err}");
    assert!(
        err.contains("damaged") || err.contains("malformed") || err.contains("not a database"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_busy_during_a_poll_loses_nothing_and_health_counts_it() {
    use support::scripted::{self, Answer};
    let parties = demo::parties();
    let (results, _) = demo::load(&parties);
    let election = results.election.clone();
    let base = results.declarations[0].clone();
    let seat = |i: usize| {
        let mut d = base.clone();
        d.result.constituency.id = herald::core::model::ConstituencyId::new(format!("E9{i:07}"));
        d.result.constituency.name = format!("Seat {i}");
        d
    };
    let doc = |n: usize| {
        let ds: Vec<_> = (0..n).map(seat).collect();
        serde_json::to_string(&herald::sources::formats::herald_json::document(
            &election, &ds,
        ))
        .unwrap()
    };
    let (url, feed) = scripted::start(Answer::Ok(doc(3))).await;
    let tmp = tempfile::tempdir().unwrap();
    let Watching {
        herald,
        addr,
        console,
        store: store_s,
    } = watching(&url, &tmp.path().join("herald.db"), tmp.path(), &[]).await;
    wait_printed(&console, 3, Duration::from_secs(30)).await;
    // Another writer holds the store for 15 s (longer than herald waits for it), while the
    // feed gains five seats and then stays as it is.
    let blocker = {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{store_s}"))
            .await
            .unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut c)
            .await
            .unwrap();
        c
    };
    feed.set(Answer::Ok(doc(8)));
    // Each write waits for the database up to 10 s before failing: the store's own probe
    // may fail first ("database is locked"), then the record of the poll.
    health_until(addr, Duration::from_secs(60), |code, v| {
        code == 503 && reasons(v).contains("could not be recorded")
    })
    .await;
    let (_, v) = healthz(addr).await;
    assert!(
        v["source"]["consecutive_failures"].as_u64() >= Some(1),
        "{v:#}"
    );
    assert_eq!(
        printed(&console).len(),
        3,
        "nothing announced while unrecorded"
    );
    {
        use sqlx::Connection;
        let mut c = blocker;
        sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
        c.close().await.unwrap();
    }
    // The feed has not changed since, yet the five seats are recorded and announced.
    let shown = wait_printed(&console, 8, Duration::from_secs(60)).await;
    assert_once(&shown);
    health_until(addr, Duration::from_secs(10), |code, _| code == 200).await;
    let metrics = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !metrics.contains("herald_unrecorded_polls_total 0"),
        "the unrecorded polls are counted: {metrics}"
    );
    herald.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_deleted_mid_run_stops_announcing_and_says_why() {
    let Some(dir) = support::shared_data() else {
        return;
    };
    let feed = ge2019_feed(&dir, Duration::from_millis(15)).await;
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("herald.db");
    let Watching {
        herald,
        addr,
        console,
        ..
    } = watching(&feed.url(), &store, tmp.path(), &[]).await;
    wait_printed(&console, 20, Duration::from_secs(60)).await;
    std::fs::remove_file(&store).unwrap();
    health_until(addr, Duration::from_secs(5), |code, v| {
        code == 503 && reasons(v).contains("was deleted while herald was running")
    })
    .await;
    let at_detection = printed(&console).len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let later = printed(&console);
    assert_eq!(later.len(), at_detection, "nothing announced after");
    assert!(later.len() < 650 && feed.feed.revealed() > later.len());
    assert_once(&later);
    herald.stop();
    feed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_results_file_cut_at_a_seat_boundary_is_missing_not_retracted() {
    let Some(dir) = support::shared_data() else {
        return;
    };
    let full = std::fs::read_to_string(
        dir.join("candidate-level-results-general-election-12-12-2019.csv"),
    )
    .unwrap();
    // The file without its last seat: cut at a line that starts another constituency.
    let lines: Vec<&str> = full.lines().collect();
    let fields = |l: &str| -> Vec<String> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(l.as_bytes())
            .records()
            .next()
            .and_then(Result::ok)
            .map(|r| r.iter().map(String::from).collect())
            .unwrap_or_default()
    };
    let code = fields(lines[0])
        .iter()
        .position(|h| h == "Constituency geographic code")
        .expect("a constituency code column");
    let seat_of = |l: &str| fields(l).get(code).cloned().unwrap_or_default();
    let last = seat_of(lines[lines.len() - 1]);
    let keep = lines.len()
        - lines
            .iter()
            .rev()
            .take_while(|l| seat_of(l) == last)
            .count();
    let cut = lines[..keep].join("\n") + "\n";
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results.csv");
    std::fs::write(&results, &full).unwrap();
    let results_s = results.display().to_string();
    let Watching {
        herald,
        addr,
        console,
        store: store_s,
    } = watching(
        &results_s,
        &tmp.path().join("herald.db"),
        tmp.path(),
        &["--format", "parliament-csv"],
    )
    .await;
    wait_printed(&console, 650, Duration::from_secs(60)).await;
    std::fs::write(&results, &cut).unwrap();
    health_until(addr, Duration::from_secs(10), |_, v| {
        v["warnings"].to_string().contains("missing from the feed")
    })
    .await;
    let (code, v) = healthz(addr).await;
    assert_eq!(
        code, 200,
        "a missing seat is a warning, not a failure: {v:#}"
    );
    assert_eq!(v["source"]["missing"], 1);
    // `feed check` against the store says the same.
    let o = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args([
            "feed",
            "check",
            "--format",
            "parliament-csv",
            "--source",
            &results_s,
            "--store",
            &store_s,
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("missing from the feed: 1 declaration(s) the store"),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::write(&results, &full).unwrap();
    health_until(addr, Duration::from_secs(10), |_, v| {
        v["source"]["missing"] == 0
    })
    .await;
    herald.stop();
    let text = std::fs::read_to_string(&console).unwrap();
    assert!(!text.contains("RETRACTED"), "nothing was retracted");
    let shown = printed(&console);
    assert_eq!(shown.len(), 650, "and nothing announced again");
    assert_once(&shown);
    let s = Store::inspect(&store_s).await.unwrap();
    assert_eq!(s.events().await.unwrap().len(), 650);
}

/// Counts each channel's seats; panics on a seat announced twice.
fn seats_per_channel(fake: &fake_discord::FakeDiscord, channels: &[u64]) -> HashMap<u64, usize> {
    channels
        .iter()
        .map(|c| {
            let mut seen = BTreeSet::new();
            for m in fake.messages(*c) {
                for s in support::seats_in(&m) {
                    assert!(seen.insert(s.clone()), "{s} announced twice in {c}");
                }
            }
            (*c, seen.len())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_pauses_sending_keeps_the_queue_and_a_new_token_delivers_it() {
    use fake_discord::{FakeConfig, FakeDiscord};
    let Some(dir) = support::shared_data() else {
        return;
    };
    let fake = FakeDiscord::start(FakeConfig::new(1, 3)).await;
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("herald.db").display().to_string();
    let mut channels = Vec::new();
    {
        let s = Store::open(&store).await.unwrap();
        for g in &fake.config().guilds {
            for c in &g.channels {
                support::subscribe_to_everything(&s, &c.to_string(), &g.id.to_string()).await;
                channels.push(*c);
            }
        }
    }
    let feed = ge2019_feed(&dir, Duration::from_millis(20)).await;
    let config = tmp.path().join("herald.toml");
    std::fs::write(
        &config,
        format!(
            "[source]\nlocation = \"{}\"\ninterval = \"50ms\"\n[store]\npath = \"{store}\"\n[discord]\napi_base = \"{}\"\n[observe]\nlisten = \"127.0.0.1:0\"\n",
            feed.url(),
            fake.api_base()
        ),
    )
    .unwrap();
    let old = fake.token();
    let run = |token: &str, log: &str| {
        Herald::start(
            &["run", "--config", config.to_str().unwrap()],
            &[("DISCORD_TOKEN", token)],
            &tmp.path().join(log),
        )
    };
    let herald = run(&old, "log1");
    let addr = herald.listening().await;
    let posted = || {
        channels
            .iter()
            .map(|c| fake.messages(*c).len())
            .sum::<usize>()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while posted() < 6 {
        assert!(
            Instant::now() < deadline,
            "nothing posted:\n{}",
            herald.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The token is reset in the developer portal: Discord refuses the old one everywhere.
    let new = fake.reset_token().await;
    health_until(addr, Duration::from_secs(30), |code, v| {
        code == 503 && reasons(v).contains("Discord refuses the bot token")
    })
    .await;
    // Sending stops; the queue is kept, nothing is given up.
    let stopped_at = posted();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(posted(), stopped_at, "nothing sent with a refused token");
    let check = Store::inspect(&store).await.unwrap();
    let outbox = check
        .outbox(herald::store::SinkKind::Discord)
        .await
        .unwrap();
    assert!(
        outbox.iter().all(|i| i.state != OutboxState::Failed),
        "nothing marked failed for a refused token"
    );
    assert!(
        outbox
            .iter()
            .any(|i| matches!(i.state, OutboxState::Pending | OutboxState::Claimed))
    );
    drop(check);
    herald.stop();
    // Restarted with the new token: everything queued goes out, each seat once per channel.
    let herald = run(&new, "log2");
    let check = Store::inspect(&store).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if feed.feed.revealed() == 650
            && check.events().await.unwrap().len() == 650
            && check.depth(herald::store::SinkKind::Discord).await.unwrap() == 0
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the night did not finish:\n{}",
            herald.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    herald.stop();
    feed.stop().await;
    for (c, n) in seats_per_channel(&fake, &channels) {
        assert_eq!(n, 650, "channel {c}: {n} of 650 seats");
    }
    assert!(
        fake.rejected().iter().all(|r| r.status == 401),
        "{:#?}",
        fake.rejected()
    );
    assert!(
        !std::fs::read_to_string(tmp.path().join("log1"))
            .unwrap()
            .contains(&old)
    );
}

/// A server that accepts connections and never answers: Discord or a feed in an outage
/// where packets go nowhere.
async fn black_hole() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}")
}

/// Sends SIGTERM and returns how long the process took to exit, and whether it succeeded.
fn terminate(mut h: Herald) -> (Duration, bool) {
    let started = Instant::now();
    let _ = Command::new("kill")
        .args(["-TERM", &h.child.id().to_string()])
        .status();
    loop {
        if let Ok(Some(status)) = h.child.try_wait() {
            return (started.elapsed(), status.success());
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = h.child.kill();
            let _ = h.child.wait();
            panic!("no exit 30 s after SIGTERM:\n{}", h.log());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_long_running_command_stops_on_sigterm_within_five_seconds() {
    let nowhere = black_hole().await;
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("herald.db").display().to_string();
    // `run` whose gateway never connects and whose feed never answers.
    let config = tmp.path().join("herald.toml");
    std::fs::write(
        &config,
        format!(
            "[source]\nlocation = \"{nowhere}/feed.json\"\n[store]\npath = \"{store}\"\n[discord]\napi_base = \"{nowhere}\"\n[observe]\nlisten = \"127.0.0.1:0\"\n"
        ),
    )
    .unwrap();
    let token = fake_discord::bot_token(fake_discord::snowflake());
    let run = Herald::start(
        &["run", "--config", config.to_str().unwrap()],
        &[("DISCORD_TOKEN", token.as_str())],
        &tmp.path().join("run.log"),
    );
    // Discord never answers, so start-up itself hangs on it: the signal must still work.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (took, ok) = terminate(run);
    assert!(took < Duration::from_secs(5), "run took {took:?} to stop");
    assert!(ok, "run exits cleanly on SIGTERM");
    // `watch` polling a feed that never answers.
    let console = tmp.path().join("console.txt").display().to_string();
    let feed = format!("{nowhere}/feed.json");
    let watch = Herald::start(
        &watch_args(&feed, &store, &console),
        &[],
        &tmp.path().join("watch.log"),
    );
    watch.listening().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (took, ok) = terminate(watch);
    assert!(took < Duration::from_secs(5), "watch took {took:?} to stop");
    assert!(ok, "watch exits cleanly on SIGTERM");
    // The store is consistent afterwards: it opens, checks and migrates cleanly.
    Store::open(&store)
        .await
        .expect("the store opens after the stops");
    // `feed serve`.
    let results = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/demo/hartlepool-2021.json"
    );
    let serve = Herald::start(
        &["feed", "serve", "--results", results, "--port", "0"],
        &[],
        &tmp.path().join("serve.log"),
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (took, ok) = terminate(serve);
    assert!(
        took < Duration::from_secs(5),
        "feed serve took {took:?} to stop"
    );
    assert!(ok, "feed serve exits cleanly on SIGTERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_check_online_asks_discord_whom_the_token_belongs_to() {
    use fake_discord::{FakeConfig, FakeDiscord};
    let fake = FakeDiscord::start(FakeConfig::new(1, 1)).await;
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("herald.toml");
    let demo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/demo/hartlepool-2021.json"
    );
    std::fs::write(
        &config,
        format!(
            "[source]\nlocation = \"{demo}\"\n[discord]\napi_base = \"{}\"\n",
            fake.api_base()
        ),
    )
    .unwrap();
    let check = |token: String| {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_herald"))
                .args([
                    "config",
                    "check",
                    "--online",
                    "--config",
                    config.to_str().unwrap(),
                ])
                .env("DISCORD_TOKEN", token)
                .env_remove("HERALD_DISCORD_API_BASE")
                .output()
                .unwrap()
        })
    };
    let token = fake.token();
    let o = check(token.clone()).await.unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bot = fake.config().bot_user_id;
    assert!(
        out.contains(&format!(
            "token has the shape of a bot token (bot id {bot})"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("Discord says it is herald ({bot})")),
        "{out}"
    );
    assert!(out.contains("answered and parsed, 1 declarations"), "{out}");
    assert!(!out.contains(&token), "the token is never printed");
    // Once the token is reset, the same check fails, saying why.
    fake.reset_token().await;
    let o = check(token).await.unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Discord refuses the token (401"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
