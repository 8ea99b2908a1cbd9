//! The store's whole interface on both engines: one script of an election night (elections
//! held, channels subscribed, declarations, a correction, the console and three channels
//! served alone, by digest and with a retry, milestones reached and undone, a channel
//! unsubscribed, a reset), checked step by step on SQLite and on PostgreSQL, and the two
//! engines' accounts of it compared line by line. Then what only a PostgreSQL store
//! meets: a second process, a database that is not herald's, a server that is down, and a
//! password that must never be shown.

use crate::on_both_stores;
use crate::store::open;
use crate::support::{self, Engine};

use chrono::{Duration, Utc};
use herald::core::changes::{Change, EventKind};
use herald::core::filter::{Filter, Wants};
use herald::core::milestones::Milestone;
use herald::core::model::{ConstituencyId, Declaration};
use herald::store::{
    Mode, OutboxItem, OutboxState, SinkKind, Sinks, Store, StoreError, Subscription,
};

fn seat(id: &str, winner_votes: u64) -> Declaration {
    let (results, _) = herald::demo::load(&herald::demo::parties());
    let mut d = results.declarations[0].clone();
    d.result.constituency.id = ConstituencyId::new(id);
    d.result.candidates[0].votes = winner_votes;
    d
}

fn change(kind: EventKind, d: Declaration) -> Change {
    Change {
        kind,
        declaration: d,
        differences: Vec::new(),
    }
}

fn line(items: &[OutboxItem]) -> String {
    items
        .iter()
        .map(|i| {
            format!(
                "{}@{}:{}:{}",
                i.target,
                i.constituency_id,
                i.version,
                i.state.as_str()
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The night, on `store`: asserts each step and returns its account, a line a step.
async fn night(store: &Store) -> Vec<String> {
    let mut said = Vec::new();
    let both = Sinks::of(&[SinkKind::Console, SinkKind::Discord]);
    let (results, _) = herald::demo::load(&herald::demo::parties());
    let election = results.election.clone();

    // The elections it holds.
    assert_eq!(store.election().await.unwrap(), None);
    store.hold_election(&election, "feed.json").await.unwrap();
    let mut mayor = election.clone();
    mayor.id = "mayor.2024".into();
    store.hold_also(&mayor).await.unwrap();
    let held: Vec<String> = store
        .elections()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(held, [election.id.clone(), "mayor.2024".to_string()]);
    assert_eq!(
        store.held_source().await.unwrap().as_deref(),
        Some("feed.json")
    );

    // Three channels: every declaration ("every"), a digest ("digest"), gains only ("gains").
    let sub = |channel: &str, wants: Wants, mode: Mode| {
        let mut s = Subscription::every("1", channel);
        s.filter = Filter {
            wants,
            ..Filter::default()
        };
        s.mode = mode;
        s
    };
    for (c, wants, mode) in [
        ("every", Wants::Every, Mode::Every),
        ("digest", Wants::Every, Mode::Digest),
        ("gains", Wants::Gains, Mode::Every),
    ] {
        store
            .subscribe(&sub(c, wants, mode), Some("admin"))
            .await
            .unwrap();
    }
    assert_eq!(store.subscriptions("1").await.unwrap().len(), 3);
    assert_eq!(
        store.channel("digest").await.unwrap().unwrap().mode(),
        Mode::Digest
    );

    // Three declarations, E2 a gain.
    let declared: Vec<Change> = ["E1", "E2", "E3"]
        .iter()
        .map(|id| change(EventKind::Declared, seat(id, 20_000)))
        .collect();
    let recorded = store
        .record(&declared, &[false, true, false], both)
        .await
        .unwrap();
    assert_eq!(
        recorded.queued,
        [(SinkKind::Console, 3), (SinkKind::Discord, 7)],
        "the console hears 3, every and digest 3 each, gains 1"
    );
    let seqs: Vec<i64> = recorded.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(store.known().await.unwrap().len(), 3);
    assert_eq!(
        store.event("E2", 1).await.unwrap().unwrap().declaration,
        declared[1].declaration
    );
    assert_eq!(store.depth(SinkKind::Discord).await.unwrap(), 7);
    said.push(format!(
        "discord owed: {}",
        line(&store.undelivered(SinkKind::Discord, 100).await.unwrap())
    ));

    // The console, in order.
    for item in store.undelivered(SinkKind::Console, 100).await.unwrap() {
        assert!(store.claim(&item).await.unwrap());
        store.mark_sent(&item, None).await.unwrap();
    }
    assert_eq!(store.depth(SinkKind::Console).await.unwrap(), 0);

    // "every": E1 posted alone.
    let e1 = store
        .undelivered_for(SinkKind::Discord, "every", 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(e1.constituency_id, "E1");
    assert!(store.claim(&e1).await.unwrap());
    store.mark_sent(&e1, Some("m-every-1")).await.unwrap();
    assert!(
        !store.claim(&e1).await.unwrap(),
        "a sent announcement is not claimed again"
    );
    assert_eq!(
        store
            .original_post(SinkKind::Discord, "every", "E1")
            .await
            .unwrap(),
        Some(("m-every-1".to_string(), OutboxState::Sent))
    );
    assert_eq!(
        store
            .posted_at(SinkKind::Discord, "every", "E1", 1)
            .await
            .unwrap()
            .as_deref(),
        Some("m-every-1")
    );

    // "digest": its three as one digest.
    let three = store
        .undelivered_for(SinkKind::Discord, "digest", 10)
        .await
        .unwrap();
    assert_eq!(three.len(), 3);
    assert!(store.claim_digest(&three, "dg-1").await.unwrap());
    assert!(
        !store.claim_digest(&three, "dg-2").await.unwrap(),
        "claimed once"
    );
    let claimed = store
        .undelivered_for(SinkKind::Discord, "digest", 10)
        .await
        .unwrap();
    assert!(
        claimed
            .iter()
            .all(|i| i.digest_key.as_deref() == Some("dg-1"))
    );
    let events: Vec<String> = store
        .events_of(&claimed)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.declaration.id().to_string())
        .collect();
    assert_eq!(events, ["E1", "E2", "E3"]);
    store
        .retry_digest("dg-1", Utc::now() - Duration::seconds(1), "502")
        .await
        .unwrap();
    assert_eq!(store.finish_digest("dg-1", "m-digest").await.unwrap(), 3);
    assert_eq!(
        store
            .original_post(SinkKind::Discord, "digest", "E2")
            .await
            .unwrap(),
        Some(("m-digest".to_string(), OutboxState::Merged))
    );

    // A correction of E1: the channels told of E1 hear it ("every" and "digest"; "gains"
    // never took E1).
    let corrected = store
        .record(
            &[change(EventKind::Corrected, seat("E1", 20_500))],
            &[false],
            both,
        )
        .await
        .unwrap();
    assert_eq!(corrected.events[0].version, 2);
    assert_eq!(corrected.events[0].seq, 4);
    said.push(format!(
        "after the correction: {}",
        line(&store.undelivered(SinkKind::Discord, 100).await.unwrap())
    ));
    let digest_next = store
        .undelivered_for(SinkKind::Discord, "digest", 10)
        .await
        .unwrap();
    assert_eq!(line(&digest_next), "digest@E1:2:pending");

    // "gains": its one announcement fails and waits; then the channel goes.
    let now = Utc::now();
    let g = store
        .undelivered_for(SinkKind::Discord, "gains", 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(g.constituency_id, "E2");
    assert!(store.claim(&g).await.unwrap());
    store
        .mark_retry(&g, now + Duration::seconds(60), "503")
        .await
        .unwrap();
    let due = store.targets_due(SinkKind::Discord, now).await.unwrap();
    assert!(!due.contains(&"gains".to_string()), "{due:?}");
    said.push(format!("due: {due:?}"));
    assert_eq!(
        store
            .fail_target(SinkKind::Discord, "gains", "Unknown Channel")
            .await
            .unwrap(),
        1
    );
    let posts = store
        .recent_posts(SinkKind::Discord, now - Duration::minutes(5))
        .await
        .unwrap();
    let mut posts: Vec<(String, u32, bool)> = posts
        .into_iter()
        .map(|p| (p.target, p.posted, p.in_flight))
        .collect();
    posts.sort();
    assert_eq!(
        posts,
        [
            ("digest".to_string(), 1, false),
            ("every".to_string(), 1, false)
        ]
    );

    // Milestones: the first declaration reached, undone, and reached again.
    let first = Milestone::FirstDeclaration { seat: "E1".into() };
    let key = first.key();
    assert_eq!(
        store
            .record_milestones(std::slice::from_ref(&first), both)
            .await
            .unwrap(),
        std::slice::from_ref(&first)
    );
    assert!(
        store
            .record_milestones(std::slice::from_ref(&first), both)
            .await
            .unwrap()
            .is_empty(),
        "each once"
    );
    assert_eq!(
        store
            .undo_milestones(&[(first.clone(), "E1 withdrawn".into())], both)
            .await
            .unwrap(),
        std::slice::from_ref(&key)
    );
    let m = store.milestone(&key).await.unwrap().unwrap();
    assert_eq!((m.version, m.standing), (2, false));
    assert_eq!(m.why.as_deref(), Some("E1 withdrawn"));
    store
        .record_milestones(std::slice::from_ref(&first), both)
        .await
        .unwrap();
    let m = store.milestone(&key).await.unwrap().unwrap();
    assert_eq!((m.version, m.standing), (3, true));
    assert_eq!(store.milestones().await.unwrap().len(), 1);

    // A pause, and one channel gone.
    assert!(store.pause("every", "Missing Access").await.unwrap());
    assert!(
        !store.pause("every", "Missing Access").await.unwrap(),
        "paused once"
    );
    assert_eq!(store.unsubscribe("1", "digest", None).await.unwrap(), 1);

    let summary = store.summary().await.unwrap();
    assert_eq!(summary.seats, 3);
    assert_eq!(
        summary.events,
        [("corrected".to_string(), 1), ("declared".to_string(), 3)]
    );
    assert_eq!((summary.channels, summary.paused), (2, 1));
    said.push(format!("outbox: {:?}", summary.outbox));
    said.push(format!(
        "depth: {}",
        store.depth(SinkKind::Discord).await.unwrap()
    ));
    said.push(format!(
        "outbox states: {}",
        line(&store.outbox(SinkKind::Discord).await.unwrap())
    ));

    // The next election: everything goes but the subscriptions.
    assert_eq!(store.reset().await.unwrap(), 4);
    let summary = store.summary().await.unwrap();
    assert_eq!((summary.seats, summary.channels), (0, 2));
    assert_eq!(summary.election, None);
    assert!(store.outbox(SinkKind::Discord).await.unwrap().is_empty());
    let again = store.record(&declared[..1], &[false], both).await.unwrap();
    assert_eq!(again.events[0].seq, 1, "numbered from the start again");
    said
}

on_both_stores!(
    the_whole_store_interface_on_an_election_night,
    super::whole_interface
);

async fn whole_interface(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let Some(store) = open(engine, dir.path()).await else {
        return;
    };
    night(&store).await;
    store.close().await;
}

#[tokio::test]
async fn sqlite_and_postgres_give_the_same_account_of_the_night() {
    let dir = tempfile::tempdir().unwrap();
    let Some(pg) = open(Engine::Postgres, dir.path()).await else {
        return;
    };
    let sqlite = open(Engine::Sqlite, dir.path()).await.unwrap();
    let (a, b) = (night(&sqlite).await, night(&pg).await);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
    assert_eq!(a.len(), b.len());
}

// ---- PostgreSQL only -------------------------------------------------------------------

#[tokio::test]
async fn processes_share_a_postgres_store_by_shards_feed_and_targets_and_reset_it_alone() {
    let Some(at) = support::postgres_database().await else {
        return;
    };
    let a = Store::open(&at).await.unwrap();
    let b = Store::open(&at).await.unwrap();
    assert!(a.is_shared() && b.is_shared());
    // Shards: each once.
    a.take_shards(&[0, 1, 2]).await.unwrap();
    match b.take_shards(&[2, 3]).await {
        Err(StoreError::ShardTaken { shard, holder }) => {
            assert_eq!(shard, 2);
            assert!(holder.unwrap().contains("server process"));
        }
        other => panic!("shard 2 twice: {other:?}"),
    }
    b.take_shards(&[3, 4]).await.expect("3 was let go with 2");
    // The feed: one process at a time.
    assert!(a.try_feed().await.unwrap() && a.holds_feed());
    assert!(!b.try_feed().await.unwrap() && !b.holds_feed());
    assert!(a.feed_held_by().await.unwrap().is_some());
    // A target: one process at a time, taken over when let go or when its lease ran out.
    let d = SinkKind::Discord;
    assert!(a.take_target(d, "10").await.unwrap());
    assert!(a.take_target(d, "10").await.unwrap(), "kept");
    assert!(!b.take_target(d, "10").await.unwrap());
    assert!(b.take_target(d, "20").await.unwrap());
    a.let_target_go(d, "10").await.unwrap();
    assert!(b.take_target(d, "10").await.unwrap());
    assert!(!a.take_target(d, "10").await.unwrap());
    {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&at).await.unwrap();
        sqlx::query("UPDATE drains SET until = now() - interval '1 second'")
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    assert!(a.take_target(d, "10").await.unwrap(), "b's lease ran out");
    // A renewal keeps what a process holds.
    a.verify().await.unwrap();
    assert!(!b.take_target(d, "10").await.unwrap());
    // A reset waits for the store to be its alone.
    match Store::open_alone(&at).await {
        Err(StoreError::InUse { holder, .. }) => assert!(holder.is_some()),
        Err(e) => panic!("refused for another reason: {e}"),
        Ok(_) => panic!("a reset opened a store in use"),
    }
    // A wait for the feed runs out while its holder lives, and ends the moment it ends
    // (well before the wait would run out).
    assert!(
        !b.wait_feed(std::time::Duration::from_millis(300))
            .await
            .unwrap()
    );
    let waiting = tokio::spawn({
        let b = b.clone();
        async move { b.wait_feed(std::time::Duration::from_secs(60)).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!b.try_feed().await.unwrap(), "still a's");
    let ended = std::time::Instant::now();
    a.close().await;
    assert!(waiting.await.unwrap().unwrap());
    assert!(
        ended.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        ended.elapsed()
    );
    assert!(b.try_feed().await.unwrap() && b.holds_feed());
    b.close().await;
    let alone = Store::open_alone(&at)
        .await
        .expect("alone once both closed");
    assert!(
        matches!(Store::open(&at).await, Err(StoreError::InUse { .. })),
        "no process starts during a reset"
    );
    alone.close().await;
    Store::open(&at).await.unwrap().close().await;
}

#[tokio::test]
async fn a_postgres_database_that_is_not_herald_s_is_refused_untouched() {
    let Some(at) = support::postgres_database().await else {
        return;
    };
    {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&at).await.unwrap();
        sqlx::query("CREATE TABLE invoices (id BIGINT PRIMARY KEY)")
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    match Store::open(&at).await {
        Err(StoreError::Foreign { tables, .. }) => assert_eq!(tables, "invoices"),
        Err(e) => panic!("refused for another reason: {e}"),
        Ok(_) => panic!("opened a database that is not herald's"),
    }
}

/// A server that is not there (a closed port): `herald store info` and `herald watch` say
/// so and exit non-zero, without showing the password (from `HERALD_STORE_PASSWORD`). A
/// URL that carries a password is refused, and the password not repeated.
#[test]
fn postgres_down_at_start_is_a_clear_error_and_the_password_is_never_shown() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let plain = format!("postgres://herald@127.0.0.1:{port}/herald");
    let with_password = format!("postgres://herald:hunter2-secret@127.0.0.1:{port}/herald");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(args)
            .env("RUST_LOG", "info")
            .env("HERALD_STORE_PASSWORD", "hunter2-secret")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{args:?}: {text}");
        assert!(!text.contains("hunter2"), "the password shown: {text}");
        text
    };
    for store in [&plain, &with_password] {
        for args in [
            vec!["store", "info", "--store", store.as_str()],
            vec![
                "watch",
                "--source",
                "http://127.0.0.1:9/feed.json",
                "--store",
                store.as_str(),
            ],
        ] {
            let text = run(&args);
            assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
            if store == &plain {
                assert!(text.contains("cannot connect"), "{args:?}: {text}");
            } else {
                assert!(
                    text.contains("put the password in HERALD_STORE_PASSWORD"),
                    "{args:?}: {text}"
                );
            }
        }
    }
}

/// Ends every session on the store's database (as a server restart would, for the store's
/// locks and its pool alike), and says who held the feed before. `store` must hold it.
async fn cut_lock_session(at: &str, store: &Store) -> String {
    use sqlx::Connection;
    let holder = store.feed_held_by().await.unwrap().expect("held");
    let mut c = sqlx::PgConnection::connect(at).await.unwrap();
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert!(ended.len() >= 2 && ended.iter().all(|e| *e), "{ended:?}");
    c.close().await.unwrap();
    holder
}

#[tokio::test]
async fn a_process_that_loses_its_postgres_session_takes_its_locks_again() {
    let Some(at) = support::postgres_database().await else {
        return;
    };
    let store = Store::open(&at).await.unwrap();
    store.take_shards(&[0]).await.unwrap();
    assert!(store.try_feed().await.unwrap());
    let before = cut_lock_session(&at, &store).await;
    // The server ends the session at once or in a moment; the next check finds it gone,
    // opens another and takes the shard again; the feed is taken again by the next try.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        store.verify().await.unwrap();
        if !store.holds_feed() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still {before}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(store.try_feed().await.unwrap());
    let now = store.feed_held_by().await.unwrap().expect("held again");
    assert_ne!(now, before);
    let other = Store::open(&at).await.unwrap();
    assert!(
        matches!(
            other.take_shards(&[0]).await,
            Err(StoreError::ShardTaken { shard: 0, .. })
        ),
        "the shard is held again"
    );
    assert_eq!(store.fault(), None);
    other.close().await;
    store.close().await;
}

#[tokio::test]
async fn a_process_whose_shard_another_took_meanwhile_stops_writing_for_good() {
    let Some(at) = support::postgres_database().await else {
        return;
    };
    let store = Store::open(&at).await.unwrap();
    store.take_shards(&[5]).await.unwrap();
    assert!(store.try_feed().await.unwrap());
    cut_lock_session(&at, &store).await;
    // Another process starts with shard 5 while this one's session is gone.
    let other = Store::open(&at).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match other.take_shards(&[5]).await {
            Ok(()) => break,
            Err(StoreError::ShardTaken { .. }) if std::time::Instant::now() < deadline => {}
            Err(e) => panic!("{e}"),
        }
    }
    let e = store.verify().await.expect_err("the shard is the other's");
    assert!(e.to_string().contains("restart herald"), "{e}");
    let fault = store.fault().expect("a lasting fault");
    assert!(fault.contains("shard 5"), "{fault}");
    // Nothing more is claimed (so nothing sent) by this one.
    let item = herald::store::OutboxItem {
        key: "console:E1:1".into(),
        sink: SinkKind::Console,
        target: SinkKind::ONLY_TARGET.into(),
        constituency_id: "E1".into(),
        version: 1,
        seq: 1,
        state: OutboxState::Pending,
        attempts: 0,
        next_attempt_at: chrono::DateTime::UNIX_EPOCH,
        message_id: None,
        last_error: None,
        digest_key: None,
        kind: None,
        first_tried_at: None,
    };
    assert!(store.claim(&item).await.is_err());
    assert!(store.verify().await.is_err(), "until restart");
    other.close().await;
}
