//! The store: the schedule for the Discord outbox (which channels are due, and in which
//! order), a channel of several subscriptions, a paused channel, and stores left by older
//! herald versions. The behaviour tests run on SQLite and on PostgreSQL (`on_both_stores!`).

use crate::on_both_stores;
use crate::support::{self, Engine};
use chrono::{Duration, Utc};

use herald::core::changes::{Change, EventKind};
use herald::core::model::ConstituencyId;
use herald::store::{SinkKind, Sinks, Store};

/// A new store on `engine` (in `dir` for SQLite), or None where there is no PostgreSQL.
pub async fn open(engine: Engine, dir: &std::path::Path) -> Option<Store> {
    let at = support::store_location(engine, dir).await?;
    Some(Store::open(&at).await.unwrap())
}

/// A store with `channels` subscribed to everything and three declarations queued for each.
async fn queued(store: Store, channels: &[&str]) -> Store {
    for c in channels {
        support::subscribe_to_everything(&store, c, "1").await;
    }
    support::declare(&store, &["E1", "E2", "E3"]).await;
    store
}

async fn head(store: &Store, channel: &str) -> herald::store::OutboxItem {
    store
        .undelivered_for(SinkKind::Discord, channel, 1)
        .await
        .unwrap()[0]
        .clone()
}

on_both_stores!(
    a_channel_waits_for_its_oldest_row_and_a_retry_goes_first_when_due,
    super::waits_for_its_oldest_row
);

async fn waits_for_its_oldest_row(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let Some(store) = open(engine, dir.path()).await else {
        return;
    };
    let store = queued(store, &["10", "20", "30"]).await;
    let now = Utc::now();
    assert_eq!(
        store.targets_due(SinkKind::Discord, now).await.unwrap(),
        ["10", "20", "30"]
    );

    // Channel 20's first announcement failed and waits a minute: the channel is not due,
    // although its later rows are (they must not overtake it).
    let key = head(&store, "20").await;
    assert!(store.claim(&key).await.unwrap());
    store
        .mark_retry(&key, now + Duration::seconds(60), "502 Bad Gateway")
        .await
        .unwrap();
    assert_eq!(
        store.targets_due(SinkKind::Discord, now).await.unwrap(),
        ["10", "30"]
    );

    // Once due, the retry comes before channels that have not been tried yet.
    assert_eq!(
        store
            .targets_due(SinkKind::Discord, now + Duration::seconds(61))
            .await
            .unwrap(),
        ["20", "10", "30"]
    );

    // A row claimed by a sender that then crashed is just as urgent.
    let key = head(&store, "30").await;
    assert!(store.claim(&key).await.unwrap());
    assert_eq!(
        store.targets_due(SinkKind::Discord, now).await.unwrap(),
        ["30", "10"]
    );

    // Delivered rows leave the schedule; a channel with nothing left is not listed.
    for _ in 0..3 {
        let key = head(&store, "10").await;
        store.mark_sent(&key, Some("1")).await.unwrap();
    }
    assert_eq!(
        store.targets_due(SinkKind::Discord, now).await.unwrap(),
        ["30"]
    );
}

/// How many Discord rows each channel has.
async fn rows_by_channel(store: &Store) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out = std::collections::BTreeMap::<String, Vec<String>>::new();
    for item in store.outbox(SinkKind::Discord).await.unwrap() {
        out.entry(item.target.clone())
            .or_default()
            .push(format!("{}:{}", item.constituency_id, item.version));
    }
    out
}

on_both_stores!(
    a_channel_of_several_subscriptions_gets_each_announcement_once_and_follows_what_it_was_told,
    super::several_subscriptions
);

async fn several_subscriptions(engine: Engine) {
    use herald::core::filter::{Filter, Wants};
    use herald::core::milestones::Milestone;
    use herald::store::Subscription;
    let dir = tempfile::tempdir().unwrap();
    let Some(store) = open(engine, dir.path()).await else {
        return;
    };
    let (results, _) = herald::demo::load(&herald::demo::parties());
    let hartlepool = results.declarations[0].clone();
    let with = |channel: &str, wants: Wants| {
        let mut s = Subscription::every("1", channel);
        s.filter = Filter {
            wants,
            ..Filter::default()
        };
        s
    };
    // "both": gains and every declaration (two subscriptions, one channel); "gains": gains
    // only; "milestones": milestones only; "news": an announcement channel of gains.
    store
        .subscribe(&with("both", Wants::Gains), None)
        .await
        .unwrap();
    let again = store
        .subscribe(&with("both", Wants::Every), None)
        .await
        .unwrap();
    assert_eq!((again.id, again.replaced, again.in_channel), (2, false, 2));
    let same = store
        .subscribe(&with("both", Wants::Every), None)
        .await
        .unwrap();
    assert_eq!((same.id, same.replaced, same.in_channel), (2, true, 2));
    store
        .subscribe(&with("gains", Wants::Gains), None)
        .await
        .unwrap();
    store
        .subscribe(&with("milestones", Wants::Milestones), None)
        .await
        .unwrap();
    let mut news = with("news", Wants::Gains);
    news.publish = true;
    store.subscribe(&news, None).await.unwrap();

    let sinks = Sinks::of(&[SinkKind::Discord]);
    let change = |kind, d: &herald::core::model::Declaration| Change {
        kind,
        declaration: d.clone(),
        differences: Vec::new(),
    };
    // A gain: every channel but the milestones-only one, each once.
    store
        .record(&[change(EventKind::Declared, &hartlepool)], &[true], sinks)
        .await
        .unwrap();
    // Its correction is no gain: only the channels told of the seat follow it, and not
    // the milestones-only channel.
    store
        .record(
            &[change(EventKind::Corrected, &hartlepool)],
            &[false],
            sinks,
        )
        .await
        .unwrap();
    // Another seat, no gain: only the channel that takes every declaration.
    let mut other = hartlepool.clone();
    other.result.constituency.id = ConstituencyId::new("E2");
    store
        .record(&[change(EventKind::Declared, &other)], &[false], sinks)
        .await
        .unwrap();
    // A milestone of the night, and a digest of the race.
    let race = herald::core::national::Race {
        declared: 2,
        total_seats: 3,
        majority_line: 2,
        majority_party: None,
        leaders: Vec::new(),
        projected: None,
    };
    let at = Utc::now();
    store
        .record_milestones(
            &[
                Milestone::FirstDeclaration {
                    seat: "Hartlepool".into(),
                },
                Milestone::Hourly { at, race },
            ],
            sinks,
        )
        .await
        .unwrap();
    let hour = format!("milestone:hour:{}:1", at.format("%Y-%m-%dT%H"));
    let rows = rows_by_channel(&store).await;
    let expect = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        rows["both"],
        expect(&["E14000733:1", "E14000733:2", "E2:1", "milestone:first:1"])
    );
    assert_eq!(rows["gains"], expect(&["E14000733:1", "E14000733:2"]));
    assert_eq!(
        rows["milestones"],
        expect(&["milestone:first:1", hour.as_str()])
    );
    assert_eq!(
        rows["news"],
        expect(&["E14000733:1", "E14000733:2", hour.as_str()])
    );
    // The depth counts each of them once (the channel of two subscriptions too).
    assert_eq!(store.depth(SinkKind::Discord).await.unwrap(), 11);

    // A pause holds for the whole channel; subscribing again lifts it.
    assert!(store.pause("both", "Discord answered 403").await.unwrap());
    assert!(!store.pause("both", "again").await.unwrap(), "told once");
    let both = store.channel("both").await.unwrap().unwrap();
    assert_eq!(both.paused_reason(), Some("Discord answered 403"));
    assert_eq!(
        store.unsubscribe("1", "both", Some(1)).await.unwrap(),
        1,
        "one of two removed"
    );
    assert_eq!(
        store
            .channel("both")
            .await
            .unwrap()
            .unwrap()
            .subscriptions
            .len(),
        1
    );
}

/// A store file `herald.db` in `dir` as herald left it before the migration `until`: the
/// migrations before it applied, open for a test to write what that herald wrote.
async fn old_store(dir: &std::path::Path, until: &str) -> sqlx::SqlitePool {
    let old = dir.join("migrations");
    std::fs::create_dir(&old).unwrap();
    for entry in
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite")).unwrap()
    {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.as_str() < until {
            std::fs::copy(&path, old.join(&name)).unwrap();
        }
    }
    let db = dir.join("herald.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", db.display()))
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(old.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    pool
}

#[tokio::test]
async fn a_store_from_before_several_subscriptions_keeps_its_channels_and_filters() {
    // A store as herald left it before migration 0008: the migrations up to 0007 applied
    // and a channel subscribed (one row a channel, a filter in the older shape).
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("herald.db");
    {
        let pool = old_store(tmp.path(), "0008").await;
        sqlx::query(
            "INSERT INTO subscriptions (channel_id, guild_id, filter, mode, paused_reason, created_by, created_at, mention_role)
             VALUES ('10', '1', '{\"kind\":\"region\",\"region\":\"Wales\"}', 'digest', 'Discord answered 403', NULL, '2024-07-04T22:00:00Z', '55')",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
    let store = Store::open(&db.display().to_string()).await.unwrap();
    let channel = store
        .channel("10")
        .await
        .unwrap()
        .expect("still subscribed");
    let s = &channel.subscriptions[0];
    assert_eq!(s.id, 1);
    assert_eq!(
        s.filter.area,
        herald::core::filter::Area::Region {
            region: "Wales".into()
        }
    );
    assert_eq!(s.mode, herald::store::Mode::Digest);
    assert_eq!(s.mention_role.as_deref(), Some("55"));
    assert_eq!(channel.paused_reason(), Some("Discord answered 403"));
    // Subscribing the same filter again updates that subscription, not a second one.
    let mut again = s.clone();
    again.mode = herald::store::Mode::Every;
    let done = store.subscribe(&again, None).await.unwrap();
    assert_eq!((done.id, done.replaced, done.in_channel), (1, true, 1));
    assert_eq!(
        store.channel("10").await.unwrap().unwrap().paused_reason(),
        None
    );
}

#[tokio::test]
async fn a_store_from_before_the_outbox_by_audience_keeps_what_each_channel_was_sent_and_owed() {
    // A store as herald left it before migration 0011: one outbox row per channel and
    // event. Channel 10 was sent E1 alone and E2 with E3 in a digest; channel 20's E1 was
    // claimed when herald stopped (sent or not) and its E2 still waits.
    let tmp = tempfile::tempdir().unwrap();
    let (results, _) = herald::demo::load(&herald::demo::parties());
    let db = tmp.path().join("herald.db");
    {
        let pool = old_store(tmp.path(), "0011").await;
        for (seq, id) in [(1, "E1"), (2, "E2"), (3, "E3")] {
            let mut d = results.declarations[0].clone();
            d.result.constituency.id = ConstituencyId::new(id);
            sqlx::query(
                "INSERT INTO declarations (constituency_id, version, seq, revision, status, kind, body, differences, declared_at, seen_at)
                 VALUES (?, 1, ?, 1, 'declared', 'declared', ?, '[]', NULL, '2024-07-04T23:00:00Z')",
            )
            .bind(id)
            .bind(seq)
            .bind(serde_json::to_string(&d).unwrap())
            .execute(&pool)
            .await
            .unwrap();
        }
        for channel in ["10", "20"] {
            sqlx::query(
                "INSERT INTO subscriptions (id, channel_id, guild_id, filter, mode, created_at)
                 VALUES (?, ?, '1', ?, 'every', '2024-07-04T22:00:00Z')",
            )
            .bind(channel.parse::<i64>().unwrap())
            .bind(channel)
            .bind(serde_json::to_string(&herald::core::filter::Filter::all()).unwrap())
            .execute(&pool)
            .await
            .unwrap();
        }
        let rows = [
            ("10", "E1", 1, "sent", Some("m1"), None, 1),
            ("10", "E2", 2, "merged", Some("m2"), Some("digest:10:2"), 1),
            ("10", "E3", 3, "merged", Some("m2"), Some("digest:10:2"), 1),
            ("20", "E1", 1, "claimed", None, None, 1),
            ("20", "E2", 2, "pending", None, None, 0),
        ];
        for (target, id, seq, state, message, digest, attempts) in rows {
            sqlx::query(
                "INSERT INTO outbox (idempotency_key, sink, target, constituency_id, version, seq, state, attempts,
                   next_attempt_at, message_id, created_at, updated_at, digest_key, first_tried_at)
                 VALUES (?, 'discord', ?, ?, 1, ?, ?, ?, '2024-07-04T23:00:00Z', ?, '2024-07-04T23:00:00Z',
                   '2024-07-04T23:00:00Z', ?, CASE WHEN ? > 0 THEN '2024-07-04T23:00:01Z' END)",
            )
            .bind(format!("discord:{target}:{id}:1"))
            .bind(target)
            .bind(id)
            .bind(seq)
            .bind(state)
            .bind(attempts)
            .bind(message)
            .bind(digest)
            .bind(attempts)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;
    }
    let store = Store::open(&db.display().to_string()).await.unwrap();

    // What channel 10 was sent stays findable, for the corrections that edit it.
    assert_eq!(
        store
            .original_post(SinkKind::Discord, "10", "E1")
            .await
            .unwrap(),
        Some(("m1".to_string(), herald::store::OutboxState::Sent))
    );
    assert_eq!(
        store
            .original_post(SinkKind::Discord, "10", "E3")
            .await
            .unwrap(),
        Some(("m2".to_string(), herald::store::OutboxState::Merged))
    );
    let carried: Vec<herald::store::OutboxItem> = store
        .outbox(SinkKind::Discord)
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.digest_key.as_deref() == Some("digest:10:2"))
        .collect();
    assert!(
        carried
            .iter()
            .all(|i| i.state == herald::store::OutboxState::Merged
                && i.message_id.as_deref() == Some("m2"))
    );
    let digest: Vec<u32> = store
        .events_of(&carried)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq as u32)
        .collect();
    assert_eq!(digest, [2, 3]);

    // Channel 20's claimed row is still claimed (with its key, so its nonce), then E2.
    let owed = store
        .undelivered_for(SinkKind::Discord, "20", 10)
        .await
        .unwrap();
    let shown: Vec<(String, herald::store::OutboxState, u32)> = owed
        .iter()
        .map(|i| (i.key.clone(), i.state, i.attempts))
        .collect();
    assert_eq!(
        shown,
        [
            (
                "discord:20:E1:1".to_string(),
                herald::store::OutboxState::Claimed,
                1
            ),
            (
                "discord:20:E2:1".to_string(),
                herald::store::OutboxState::Pending,
                0
            ),
        ]
    );
    assert_eq!(
        store
            .targets_due(SinkKind::Discord, Utc::now())
            .await
            .unwrap(),
        ["20"]
    );

    // A declaration after the migration goes to both channels, and to nothing twice.
    let mut d = results.declarations[0].clone();
    d.result.constituency.id = ConstituencyId::new("E4");
    store
        .record(
            &[Change {
                kind: EventKind::Declared,
                declaration: d,
                differences: Vec::new(),
            }],
            &[],
            Sinks::of(&[SinkKind::Discord]),
        )
        .await
        .unwrap();
    let rows = rows_by_channel(&store).await;
    let expect = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(rows["10"], expect(&["E1:1", "E2:1", "E3:1", "E4:1"]));
    assert_eq!(rows["20"], expect(&["E1:1", "E2:1", "E4:1"]));
    assert_eq!(store.depth(SinkKind::Discord).await.unwrap(), 4);

    // Channel 20's old row, never tried, can join a digest with what came after it.
    let owed = store
        .undelivered_for(SinkKind::Discord, "20", 10)
        .await
        .unwrap();
    assert!(store.claim_digest(&owed[1..], "digest:20:2").await.unwrap());
    let after: Vec<(String, Option<String>)> = store
        .undelivered_for(SinkKind::Discord, "20", 10)
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.constituency_id, i.digest_key))
        .collect();
    let digest = Some("digest:20:2".to_string());
    assert_eq!(
        after,
        [
            ("E1".to_string(), None),
            ("E2".to_string(), digest.clone()),
            ("E4".to_string(), digest)
        ]
    );
    assert_eq!(store.depth(SinkKind::Discord).await.unwrap(), 4);
}

on_both_stores!(
    a_channel_resumed_after_a_pause_gets_what_comes_after_not_what_it_missed,
    super::resumed_after_a_pause
);

async fn resumed_after_a_pause(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let Some(store) = open(engine, dir.path()).await else {
        return;
    };
    let store = queued(store, &["10", "20"]).await;
    let (results, _) = herald::demo::load(&herald::demo::parties());
    let record = |id: &'static str| {
        let store = store.clone();
        let mut declaration = results.declarations[0].clone();
        declaration.result.constituency.id = ConstituencyId::new(id);
        async move {
            store
                .record(
                    &[Change {
                        kind: EventKind::Declared,
                        declaration,
                        differences: Vec::new(),
                    }],
                    &[],
                    Sinks::of(&[SinkKind::Discord]),
                )
                .await
                .unwrap()
        }
    };
    // Channel 20 is refused before it was sent anything: its three are given up.
    assert!(store.pause("20", "Discord answered 403").await.unwrap());
    assert_eq!(
        store
            .fail_target(SinkKind::Discord, "20", "paused")
            .await
            .unwrap(),
        0,
        "nothing was claimed"
    );
    let queued = record("E4").await.queued;
    assert_eq!(queued, [(SinkKind::Discord, 1)], "only channel 10 hears E4");
    assert_eq!(
        store
            .targets_due(SinkKind::Discord, Utc::now())
            .await
            .unwrap(),
        ["10"]
    );
    // An admin subscribes it again: it hears E5, not E1..E4.
    support::subscribe_to_everything(&store, "20", "1").await;
    record("E5").await;
    let rows = rows_by_channel(&store).await;
    let expect = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        rows["10"],
        expect(&["E1:1", "E2:1", "E3:1", "E4:1", "E5:1"])
    );
    assert_eq!(rows["20"], expect(&["E5:1"]));
    assert_eq!(store.depth(SinkKind::Discord).await.unwrap(), 6);
}
