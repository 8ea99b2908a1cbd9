//! The store's schedule for the Discord outbox: which channels are due, and in which order.

use chrono::{Duration, Utc};
mod support;

use herald::core::changes::{Change, EventKind};
use herald::core::model::ConstituencyId;
use herald::store::{DISCORD, Sinks, Store};

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
        .record(
            &changes,
            Sinks {
                console: false,
                discord: true,
            },
        )
        .await
        .unwrap();
    store
}

async fn head_key(store: &Store, channel: &str) -> String {
    store.undelivered_for(DISCORD, channel, 1).await.unwrap()[0]
        .key
        .clone()
}

#[tokio::test]
async fn a_channel_waits_for_its_oldest_row_and_a_retry_goes_first_when_due() {
    let store = queued(&["10", "20", "30"]).await;
    let now = Utc::now();
    assert_eq!(
        store.targets_due(DISCORD, now).await.unwrap(),
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
    assert_eq!(store.targets_due(DISCORD, now).await.unwrap(), ["10", "30"]);

    // Once due, the retry comes before channels that have not been tried yet.
    assert_eq!(
        store
            .targets_due(DISCORD, now + Duration::seconds(61))
            .await
            .unwrap(),
        ["20", "10", "30"]
    );

    // A row claimed by a sender that then crashed is just as urgent.
    let key = head_key(&store, "30").await;
    assert!(store.claim(&key).await.unwrap());
    assert_eq!(store.targets_due(DISCORD, now).await.unwrap(), ["30", "10"]);

    // Delivered rows leave the schedule; a channel with nothing left is not listed.
    for _ in 0..3 {
        let key = head_key(&store, "10").await;
        store.mark_sent(&key, Some("1")).await.unwrap();
    }
    assert_eq!(store.targets_due(DISCORD, now).await.unwrap(), ["30"]);
}
