//! PostgreSQL lost mid-night under a running `herald run`: every connection between them is
//! cut (by a proxy on loopback, as a server restart or a dropped network would) and new
//! ones refused for a while. Meanwhile herald says so on `/healthz`, announces nothing it
//! has not recorded, and answers commands from memory; once the database is back it
//! resumes, and every seat reaches every channel exactly once and in order.

use crate::app;
use crate::fanout::check_deliveries;
use crate::support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_discord::{FakeConfig, FakeDiscord, FakeUser};
use herald::core::finder::normalise;
use herald::store::{SinkKind, Store};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP proxy to the database that can be cut: its connections closed, and new ones
/// closed as soon as they are accepted, until it is restored.
struct Proxy {
    addr: SocketAddr,
    down: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let down = Arc::new(AtomicBool::new(false));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = tokio::spawn({
            let (down, links) = (down.clone(), links.clone());
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if down.load(Ordering::SeqCst) {
                        continue;
                    }
                    let upstream = upstream.clone();
                    let link = tokio::spawn(async move {
                        if let Ok(mut out) = TcpStream::connect(upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                        }
                    });
                    links.lock().unwrap().push(link);
                }
            }
        });
        Proxy {
            addr,
            down,
            links,
            accept,
        }
    }

    fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

struct Herald(Child);

impl Drop for Herald {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn health(addr: SocketAddr) -> u16 {
    match reqwest::get(format!("http://{addr}/healthz")).await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

/// The seats announced so far in `channels`, by their normalised names.
fn posted_seats(fake: &FakeDiscord, channels: &[u64]) -> BTreeSet<String> {
    channels
        .iter()
        .flat_map(|c| fake.messages(*c))
        .flat_map(|m| support::seats_in(&m))
        .map(|s| normalise(&s))
        .collect()
}

/// The seats the store holds (read past the proxy, as another process would).
async fn recorded_seats(db: &str) -> BTreeSet<String> {
    let s = Store::inspect(db).await.unwrap();
    let seats = s
        .events()
        .await
        .unwrap()
        .iter()
        .map(|e| normalise(&e.declaration.result.constituency.name))
        .collect();
    s.close().await;
    seats
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lost_mid_night_announces_nothing_unrecorded_and_resumes_each_seat_once() {
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
    let first_seat = results
        .declarations
        .iter()
        .min_by_key(|d| (d.declared_at, d.id().clone()))
        .map(|d| d.result.constituency.name.clone())
        .unwrap();
    let fake = FakeDiscord::start(FakeConfig::new(2, 3)).await;
    let channels = app::subscribe_every_channel(&db, &fake).await;
    let feed = app::feed(&results, Duration::from_millis(15), false).await;
    let mut url = url::Url::parse(&db).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = Proxy::start(upstream).await;
    url.set_port(Some(proxy.addr.port())).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("herald.toml");
    std::fs::write(
        &config,
        format!(
            "[source]\nlocation = \"{}\"\ninterval = \"100ms\"\n[election]\nbaseline = \"{}\"\nbaseline_format = \"parliament-csv\"\n[store]\npath = \"{url}\"\n[discord]\napi_base = \"{}\"\nregister_commands = \"global\"\ncharts = false\n[observe]\nlisten = \"127.0.0.1:0\"\n",
            feed.url(),
            baseline.display(),
            fake.api_base()
        ),
    )
    .unwrap();
    let log = tmp.path().join("log");
    let _herald = Herald(
        Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(["run", "--config", config.to_str().unwrap()])
            .env("DISCORD_TOKEN", fake.token())
            .env("RUST_LOG", "info")
            .env_remove("HERALD_DISCORD_API_BASE")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("herald starts"),
    );
    let addr = support::listening(&log).await;
    // Mid-feed, with announcements going out: the database goes away.
    let deadline = Instant::now() + Duration::from_secs(120);
    while (feed.feed.revealed() < 200 || posted_seats(&fake, &channels).len() < 20)
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    proxy.cut();
    let cut_at = Instant::now();
    // `/healthz` says so.
    loop {
        if health(addr).await == 503 {
            break;
        }
        assert!(
            cut_at.elapsed() < Duration::from_secs(30),
            "/healthz still healthy with the database gone"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Commands are answered from memory meanwhile.
    let guild = &fake.config().guilds[0];
    let i = fake
        .command(
            guild.id,
            guild.channels[0],
            FakeUser::new("voter"),
            "result",
            json!([{"name": "constituency", "type": 3, "value": first_seat}]),
        )
        .await;
    let reply = fake
        .final_reply(&i, Duration::from_secs(15))
        .await
        .expect("a reply with the database gone");
    assert!(
        reply.to_string().contains(&first_seat),
        "the reply names {first_seat}: {reply}"
    );
    // Let the outage last a few poll intervals, with the feed going on.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let revealed_during = feed.feed.revealed();
    // Nothing was announced that the store does not hold.
    let recorded = recorded_seats(&db).await;
    let recorded_during = recorded.len();
    let posted = posted_seats(&fake, &channels);
    assert!(
        posted.is_subset(&recorded),
        "announced but not recorded: {:?}",
        posted.difference(&recorded).collect::<Vec<_>>()
    );
    assert!(
        recorded.len() < revealed_during,
        "the feed went on while nothing could be recorded ({} recorded, {revealed_during} revealed)",
        recorded.len()
    );
    // Back: the night resumes where it stopped.
    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(600);
    let check = Store::inspect(&db).await.unwrap();
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
    let healthy_by = Instant::now() + Duration::from_secs(30);
    while health(addr).await != 200 {
        assert!(Instant::now() < healthy_by, "/healthz never healthy again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(_herald);
    feed.stop().await;
    let (messages, digests) = check_deliveries(&fake, &channels, &order);
    println!(
        "{} channels: {messages} messages ({digests} digests); during the outage {recorded_during} seats recorded, {revealed_during} revealed",
        channels.len(),
    );
    assert!(
        fake.rejected().is_empty(),
        "rejected: {:#?}",
        fake.rejected()
    );
    assert_eq!(fake.rate_limited().0, 0, "no global 429");
}
