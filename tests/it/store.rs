//! The store's schedule for the Discord outbox: which channels are due, and in which order.

use crate::support;
use chrono::{Duration, Utc};

use herald::core::changes::{Change, EventKind};
use herald::core::model::ConstituencyId;
use herald::store::{SinkKind, Sinks, Store};

/// A store with `channels` subscribed to everything and three declarations queued for each.
async fn queued(channels: &[&str]) -> Store {
    let store = Store::open(":memory:").await.unwrap();
    for c in channels {
        support::subscribe_to_everything(&store, c, "1").await;
    }
    let (results, _) = herald::demo::load(&herald::demo::parties());
    let changes: Vec<Change> = ["E1", "E2", "E3"]
        .iter()
        .map(|id| {
            let mut declaration = results.declarations[0].clone();
            declaration.result.constituency.id = ConstituencyId::new(*id);
            Change {
                kind: EventKind::Declared,
                declaration,
                differences: Vec::new(),
            }
        })
        .collect();
    store
        .record(&changes, &[], Sinks::of(&[SinkKind::Discord]))
        .await
        .unwrap();
    store
}

async fn head_key(store: &Store, channel: &str) -> String {
    store
        .undelivered_for(SinkKind::Discord, channel, 1)
        .await
        .unwrap()[0]
        .key
        .clone()
}

#[tokio::test]
async fn a_channel_waits_for_its_oldest_row_and_a_retry_goes_first_when_due() {
    let store = queued(&["10", "20", "30"]).await;
    let now = Utc::now();
    assert_eq!(
        store.targets_due(SinkKind::Discord, now).await.unwrap(),
        ["10", "20", "30"]
    );

    // Channel 20's first announcement failed and waits a minute: the channel is not due,
    // although its later rows are (they must not overtake it).
    let key = head_key(&store, "20").await;
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
    let key = head_key(&store, "30").await;
    assert!(store.claim(&key).await.unwrap());
    assert_eq!(
        store.targets_due(SinkKind::Discord, now).await.unwrap(),
        ["30", "10"]
    );

    // Delivered rows leave the schedule; a channel with nothing left is not listed.
    for _ in 0..3 {
        let key = head_key(&store, "10").await;
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

#[tokio::test]
async fn a_channel_of_several_subscriptions_gets_each_announcement_once_and_follows_what_it_was_told()
 {
    use herald::core::filter::{Filter, Wants};
    use herald::core::milestones::Milestone;
    use herald::store::Subscription;
    let store = Store::open(":memory:").await.unwrap();
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

#[tokio::test]
async fn a_store_from_before_several_subscriptions_keeps_its_channels_and_filters() {
    // A store as herald left it before migration 0008: the migrations up to 0007 applied
    // and a channel subscribed (one row a channel, a filter in the older shape).
    let tmp = tempfile::tempdir().unwrap();
    let old = tmp.path().join("migrations");
    std::fs::create_dir(&old).unwrap();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.as_str() < "0008" {
            std::fs::copy(&path, old.join(&name)).unwrap();
        }
    }
    let db = tmp.path().join("herald.db");
    {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", db.display()))
            .await
            .unwrap();
        sqlx::migrate::Migrator::new(old.as_path())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
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
