//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

/// The shared real-data folder (`../shared/data` beside the repository, or
/// `HERALD_SHARED_DATA`). Tests that need it print a skip notice where it is absent, unless
/// `HERALD_REQUIRE_SHARED_DATA=1` (set by `.ci/run`), which makes its absence a failure.
pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("HERALD_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    if dir.join("README.md").is_file() {
        return Some(dir);
    }
    if std::env::var("HERALD_REQUIRE_SHARED_DATA").is_ok_and(|v| v == "1") {
        panic!(
            "shared data folder {} is missing and HERALD_REQUIRE_SHARED_DATA=1",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED: shared data folder {} not found (set HERALD_SHARED_DATA)",
        dir.display()
    );
    None
}

/// GE2019 (the UK Parliament export) and its GE2017 baseline, from the shared data folder.
pub fn ge2019(dir: &std::path::Path) -> (herald::sources::Loaded, herald::core::model::Baseline) {
    let parties = herald::demo::parties();
    let load = |file: &str| {
        herald::sources::load_files(
            herald::sources::Format::ParliamentCsv,
            &dir.join(file),
            None,
            None,
            &parties,
        )
        .unwrap_or_else(|e| panic!("{file} loads: {e}"))
    };
    (
        load("candidate-level-results-general-election-12-12-2019.csv"),
        load("candidate-level-results-general-election-08-06-2017.csv").into_baseline(),
    )
}

/// The seats a message herald posted announces: one (an announcement's title) or many (a
/// digest's lines).
pub fn seats_in(m: &fake_discord::Message) -> Vec<String> {
    use herald::format::text::plain;
    let Some(embed) = m.embeds.first() else {
        return Vec::new();
    };
    if is_milestone(m) {
        return Vec::new();
    }
    let title = plain(embed["title"].as_str().unwrap_or(""));
    if title.ends_with(" results") {
        return embed["description"]
            .as_str()
            .unwrap_or("")
            .lines()
            .filter_map(|l| {
                l.strip_prefix("**")
                    .and_then(|l| l.split_once("**:"))
                    .map(|(name, _)| plain(name))
            })
            .collect();
    }
    title
        .split_once(": ")
        .map(|(name, _)| vec![name.to_string()])
        .unwrap_or_default()
}

/// Whether a message is a milestone's post (its footer says so).
pub fn is_milestone(m: &fake_discord::Message) -> bool {
    m.embeds.first().is_some_and(|e| {
        e["footer"]["text"]
            .as_str()
            .is_some_and(|f| f.starts_with("Milestone"))
    })
}

/// Reads a CSV file's rows as maps from header to value.
pub fn csv_rows(path: &std::path::Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).expect("readable csv");
    let headers = r.headers().expect("header").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            headers
                .iter()
                .map(String::from)
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

pub mod scripted {
    //! An HTTP server whose answer the test sets: status, body, a stall, or an endless body.

    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use axum::body::Body;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};

    #[derive(Clone)]
    pub enum Answer {
        Ok(String),
        Status(u16, String),
        /// Waits this long before answering with the body.
        Stall(Duration, String),
        /// Streams bytes forever.
        Endless,
    }

    #[derive(Clone)]
    pub struct Scripted {
        pub answer: Arc<Mutex<Answer>>,
        pub requests: Arc<Mutex<Vec<HeaderMap>>>,
    }

    impl Scripted {
        pub fn set(&self, a: Answer) {
            *self.answer.lock().unwrap() = a;
        }
    }

    /// Starts the server; returns its URL and the handle to script it.
    pub async fn start(first: Answer) -> (String, Scripted) {
        let s = Scripted {
            answer: Arc::new(Mutex::new(first)),
            requests: Arc::new(Mutex::new(Vec::new())),
        };
        let state = s.clone();
        let app = axum::Router::new().route(
            "/feed",
            axum::routing::get(move |headers: HeaderMap| {
                let state = state.clone();
                async move {
                    state.requests.lock().unwrap().push(headers);
                    let answer = state.answer.lock().unwrap().clone();
                    let r: Response = match answer {
                        Answer::Ok(body) => body.into_response(),
                        Answer::Status(code, body) => {
                            (StatusCode::from_u16(code).unwrap(), body).into_response()
                        }
                        Answer::Stall(d, body) => {
                            tokio::time::sleep(d).await;
                            body.into_response()
                        }
                        Answer::Endless => {
                            let chunk = bytes::Bytes::from(vec![b' '; 64 * 1024]);
                            let stream = futures::stream::repeat_with(move || {
                                Ok::<_, std::io::Error>(chunk.clone())
                            });
                            Body::from_stream(stream).into_response()
                        }
                    };
                    r
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (format!("http://{addr}/feed"), s)
    }
}

/// Subscribes `channel` of `guild` to every declaration, one announcement each.
pub async fn subscribe_to_everything(store: &herald::store::Store, channel: &str, guild: &str) {
    store
        .subscribe(&herald::store::Subscription::every(guild, channel), None)
        .await
        .unwrap();
}

/// Declarations of seats `ids`, recorded and queued for Discord.
pub async fn declare(store: &herald::store::Store, ids: &[&str]) {
    let (results, _) = herald::demo::load(&herald::demo::parties());
    let changes: Vec<herald::core::changes::Change> = ids
        .iter()
        .map(|id| {
            let mut declaration = results.declarations[0].clone();
            declaration.result.constituency.id = herald::core::model::ConstituencyId::new(*id);
            herald::core::changes::Change {
                kind: herald::core::changes::EventKind::Declared,
                declaration,
                differences: Vec::new(),
            }
        })
        .collect();
    store
        .record(
            &changes,
            &[],
            herald::store::Sinks::of(&[herald::store::SinkKind::Discord]),
        )
        .await
        .unwrap();
}

/// The address of `/healthz` of a herald whose log is in `log`, once it has logged it.
pub async fn listening(log: &std::path::Path) -> std::net::SocketAddr {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(rest) = text.split("health and metrics at http://").nth(1)
            && let Some(addr) = rest.split('/').next()
            && let Ok(addr) = addr.parse()
        {
            return addr;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "herald never listened:\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A turn for the tests that run whole herald processes on PostgreSQL through a night
/// (several processes and kills; a database outage). On a 2-core machine two of them at
/// once starved each other: the outage test's reply deadline was missed under the other's
/// load. Each holds the turn for its whole run.
pub async fn one_night_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

/// The order seats declared in, as the rehearsal serves them.
pub fn declaration_order(results: &herald::sources::Loaded) -> HashMap<String, usize> {
    let mut t = results.declarations.clone();
    t.sort_by(|a, b| {
        a.declared_at
            .cmp(&b.declared_at)
            .then_with(|| a.id().cmp(b.id()))
    });
    t.iter()
        .enumerate()
        .map(|(i, d)| {
            (
                herald::core::finder::normalise(&d.result.constituency.name),
                i,
            )
        })
        .collect()
}

/// What a whole night of `herald run` over PostgreSQL starts from: GE2019 and the order its
/// seats declared in, the GE2017 baseline's file, a fresh database, and the turn
/// ([`one_night_at_a_time`]), to hold for the test's run. None (the test skips, or fails
/// where they are required) without the shared data or a server.
pub struct PostgresNight {
    pub results: herald::sources::Loaded,
    pub order: HashMap<String, usize>,
    pub baseline: PathBuf,
    pub db: String,
    pub turn: tokio::sync::MutexGuard<'static, ()>,
}

pub async fn postgres_night() -> Option<PostgresNight> {
    let dir = shared_data()?;
    let db = postgres_database().await?;
    let turn = one_night_at_a_time().await;
    let (results, _) = ge2019(&dir);
    let order = declaration_order(&results);
    Some(PostgresNight {
        results,
        order,
        baseline: dir.join("candidate-level-results-general-election-08-06-2017.csv"),
        db,
        turn,
    })
}

/// A new, empty PostgreSQL database for one test, as a store location
/// (`postgres://…/herald_test_…`), on the server `HERALD_TEST_POSTGRES` names (a URL of a
/// database the user may create databases from, e.g. `postgres://herald@127.0.0.1:5432/postgres`).
/// Tests that need it print a skip notice where it is unset, unless
/// `HERALD_REQUIRE_POSTGRES=1` (set by `.ci/run`), which makes its absence a failure.
pub async fn postgres_database() -> Option<String> {
    use sqlx::Connection;
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let Ok(server) = std::env::var("HERALD_TEST_POSTGRES") else {
        if std::env::var("HERALD_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
            panic!("HERALD_TEST_POSTGRES is unset and HERALD_REQUIRE_POSTGRES=1");
        }
        eprintln!("SKIPPED: no PostgreSQL server (set HERALD_TEST_POSTGRES to a postgres:// URL)");
        return None;
    };
    let name = format!(
        "herald_test_{}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = sqlx::PgConnection::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("HERALD_TEST_POSTGRES: cannot connect ({e})"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path(&name);
    Some(url.to_string())
}

/// Where a test's store lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A new store location for `engine` (a file in `dir`, or a new PostgreSQL database), or
/// None where PostgreSQL is wanted and there is none (the test is skipped).
pub async fn store_location(engine: Engine, dir: &std::path::Path) -> Option<String> {
    match engine {
        Engine::Sqlite => Some(dir.join("herald.db").display().to_string()),
        Engine::Postgres => postgres_database().await,
    }
}

/// Runs an async test function `$body(engine)` once on each store engine: as `$name::sqlite`
/// and `$name::postgres`.
#[macro_export]
macro_rules! on_both_stores {
    ($name:ident, $body:path) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                $body($crate::support::Engine::Sqlite).await
            }

            #[tokio::test]
            async fn postgres() {
                $body($crate::support::Engine::Postgres).await
            }
        }
    };
}
