//! A drain's reading of one channel's backlog ([`herald::store::Backlog`]), kept between
//! its messages: each window is what the store itself would say is owed, a message
//! recorded moves it on, events recorded after it follow, and a change of the
//! subscriptions (made by this process, or found made by another) reaches a drain under way.
//! On SQLite and on PostgreSQL (`on_both_stores!`).

use crate::on_both_stores;
use crate::support::{self, Engine};

use herald::store::{Backlog, OutboxItem, SinkKind, Store};

fn seats(items: &[OutboxItem]) -> Vec<String> {
    items.iter().map(|i| i.constituency_id.clone()).collect()
}

/// Sends `items` as one digest, as the dispatcher does: claimed, marked sent, and told to
/// the backlog.
async fn send(store: &Store, backlog: &mut Backlog, items: &[OutboxItem]) {
    let key = format!("digest:{}:{}", items[0].target, items[0].seq);
    assert!(store.claim_digest(items, &key).await.unwrap());
    assert_eq!(
        store.finish_digest(&key, "m").await.unwrap(),
        items.len() as u64
    );
    backlog.recorded(items[items.len() - 1].seq);
}

const SEATS: [&str; 10] = ["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9", "E10"];

on_both_stores!(
    each_window_is_what_the_store_says_is_owed,
    super::windows_match_the_store
);

async fn windows_match_the_store(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let Some(store) = crate::store::open(engine, dir.path()).await else {
        return;
    };
    support::subscribe_to_everything(&store, "10", "1").await;
    support::declare(&store, &SEATS).await;
    let mut backlog = store.backlog(SinkKind::Discord, "10");
    let mut sent = Vec::new();
    loop {
        let window = backlog.window(3).await.unwrap().to_vec();
        let fresh = store
            .undelivered_for(SinkKind::Discord, "10", 3)
            .await
            .unwrap();
        assert_eq!(window, fresh, "after {sent:?}");
        if window.is_empty() {
            break;
        }
        // Two at a time: a window's last event is read again in the next.
        send(&store, &mut backlog, &window[..window.len().min(2)]).await;
        sent.extend(seats(&window[..window.len().min(2)]));
    }
    assert_eq!(sent, SEATS);

    // Events recorded after the backlog's end follow it.
    support::declare(&store, &["E11", "E12"]).await;
    let window = backlog.window(3).await.unwrap().to_vec();
    assert_eq!(seats(&window), ["E11", "E12"]);

    // A claim refused (the announcement was claimed meanwhile) is read afresh.
    let key = "digest:10:elsewhere";
    assert!(store.claim_digest(&window[..1], key).await.unwrap());
    backlog.forget();
    let window = backlog.window(3).await.unwrap().to_vec();
    assert_eq!(
        window
            .iter()
            .map(|i| (i.constituency_id.as_str(), i.digest_key.as_deref()))
            .collect::<Vec<_>>(),
        [("E11", Some(key)), ("E12", None)]
    );
}

on_both_stores!(
    an_unsubscribe_or_a_pause_reaches_a_drain_under_way,
    super::changes_reach_the_drain
);

async fn changes_reach_the_drain(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let Some(store) = crate::store::open(engine, dir.path()).await else {
        return;
    };
    support::subscribe_to_everything(&store, "10", "1").await;
    support::subscribe_to_everything(&store, "20", "1").await;
    support::declare(&store, &SEATS).await;

    // Each backlog has read ahead of its first window (and kept it).
    let mut ten = store.backlog(SinkKind::Discord, "10");
    let mut twenty = store.backlog(SinkKind::Discord, "20");
    let first = ten.window(2).await.unwrap().to_vec();
    send(&store, &mut ten, &first).await;
    let first = twenty.window(2).await.unwrap().to_vec();
    send(&store, &mut twenty, &first).await;

    assert_eq!(store.unsubscribe("1", "10", None).await.unwrap(), 1);
    assert!(ten.window(2).await.unwrap().is_empty());
    assert!(store.pause("20", "403 Missing Access").await.unwrap());
    assert!(twenty.window(2).await.unwrap().is_empty());
}

/// A subscription changed by another process sharing a PostgreSQL store reaches this
/// process's drains once this process queues an event (it finds the change then).
#[tokio::test]
async fn a_change_made_by_another_process_reaches_the_drain_at_the_next_event() {
    let Some(at) = support::store_location(Engine::Postgres, std::path::Path::new("")).await else {
        return;
    };
    let here = Store::open(&at).await.unwrap();
    let there = Store::open(&at).await.unwrap();
    support::subscribe_to_everything(&here, "10", "1").await;
    support::declare(&here, &SEATS).await;
    let mut backlog = here.backlog(SinkKind::Discord, "10");
    let first = backlog.window(2).await.unwrap().to_vec();
    send(&here, &mut backlog, &first).await;

    assert_eq!(there.unsubscribe("1", "10", None).await.unwrap(), 1);
    support::declare(&here, &["E11"]).await;
    assert!(backlog.window(2).await.unwrap().is_empty());
}
