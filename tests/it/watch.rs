//! The watcher end to end: a whole GE2019 night replayed by the rehearsal server on
//! loopback, with a correction and a retraction injected mid-way; crash safety of the real
//! binary under SIGKILL; and every kind of bad input refused with the store unchanged.

use crate::app::TestApp;
use crate::support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use herald::core::board::Board;
use herald::core::changes::{Difference, EventKind};
use herald::core::model::*;
use herald::demo;
use herald::observe::Metrics;
use herald::observe::metrics::FeedCause;
use herald::rehearsal::{self};
use herald::sources::Format;
use herald::sources::formats::herald_json;
use herald::sources::location::{Location, open};
use herald::sources::options::SourceOptions;
use herald::store::{SinkKind, Sinks, Store};
use herald::watch::{SharedBoard, Step, WatchConfig, Watcher, wake};
use support::scripted::{self, Answer};

async fn serve(
    loaded: &herald::sources::Loaded,
    step: Duration,
    edits: bool,
) -> rehearsal::Running {
    crate::app::feed(loaded, step, edits).await
}

fn headers(console: &str) -> Vec<&str> {
    console.lines().filter(|l| l.starts_with('▶')).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_ge2019_exactly_once_in_order_with_a_correction_and_a_retraction() {
    let Some(dir) = support::shared_data() else {
        return;
    };
    let (results, baseline) = support::ge2019(&dir);
    let against = baseline.clone();
    let timeline: Vec<Declaration> = {
        let mut t = results.declarations.clone();
        t.sort_by(|a, b| {
            a.declared_at
                .cmp(&b.declared_at)
                .then_with(|| a.id().cmp(b.id()))
        });
        t
    };
    let app = TestApp::night(
        results.election.clone(),
        results.declarations.clone(),
        baseline,
        "2017",
    )
    .step(Duration::from_millis(3))
    .edits(true)
    .interval(Duration::from_millis(20))
    .console()
    .start()
    .await;
    app.pipeline.board.write().notable = vec!["dennis skinner".into()];
    let (pipeline, server) = (&app.pipeline, &app.feed);

    // Mid-way: correct the first seat declared, withdraw the second.
    while server.feed.revealed() < 325 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut fix = timeline[0].clone();
    fix.revision = 2;
    fix.result.candidates[1].votes += 100;
    fix.result.valid_votes = fix.result.valid_votes.map(|v| v + 100);
    app.declare(&fix).await;
    app.withdraw(timeline[1].id()).await;

    // Wait for the night to end and every announcement to be printed.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let events = pipeline.store.events().await.unwrap();
        if server.feed.revealed() == 650
            && events.len() >= 652
            && pipeline
                .store
                .depth(herald::store::SinkKind::Console)
                .await
                .unwrap()
                == 0
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "night did not finish: {} events",
            events.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let events = pipeline.store.events().await.unwrap();
    let pipeline_milestones = pipeline.store.milestones().await.unwrap().len();
    let text = app.printed();
    app.stop().await;

    let declared: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::Declared)
        .collect();
    assert_eq!(declared.len(), 650);
    let ids: BTreeSet<_> = declared
        .iter()
        .map(|e| e.declaration.id().clone())
        .collect();
    assert_eq!(ids.len(), 650, "each constituency declared exactly once");
    assert!(
        declared
            .windows(2)
            .all(|w| w[0].declaration.declared_at <= w[1].declaration.declared_at),
        "declarations are detected in declaration-time order"
    );
    let corrections: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::Corrected)
        .collect();
    assert_eq!(corrections.len(), 1);
    let c = corrections[0];
    assert_eq!(c.declaration.id(), timeline[0].id());
    let runner_up = &timeline[0].result.candidates[1];
    assert!(c.differences.contains(&Difference::Votes {
        candidate: runner_up.name.clone(),
        party: runner_up.party.clone(),
        from: runner_up.votes,
        to: runner_up.votes + 100,
    }));
    let retractions: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::Retracted)
        .collect();
    assert_eq!(retractions.len(), 1);
    assert_eq!(retractions[0].declaration.id(), timeline[1].id());
    assert_eq!(events.len(), 652);

    let hs = headers(&text);
    assert_eq!(
        hs.iter().filter(|h| h.starts_with("▶ DECLARED ·")).count(),
        650
    );
    // The milestones of the night, each once, in order: the first seat, a change of lead
    // or more, and the Conservative majority; never "every seat" (one stays withdrawn).
    let milestones: Vec<&str> = hs
        .iter()
        .filter(|h| h.starts_with("▶ MILESTONE"))
        .copied()
        .collect();
    assert!(
        milestones[0].starts_with(&format!(
            "▶ MILESTONE · First declaration: {}",
            timeline[0].result.constituency.name
        )),
        "{milestones:?}"
    );
    assert_eq!(
        milestones
            .iter()
            .filter(|h| h.starts_with("▶ MILESTONE · Conservative has a majority"))
            .count(),
        1,
        "{milestones:?}"
    );
    assert!(
        !milestones.iter().any(|h| h.contains("Every seat")),
        "{milestones:?}"
    );
    // A sitting MP's defeat is said where it happens; a notable one's is a milestone too.
    assert_eq!(
        milestones
            .iter()
            .filter(|h| h.starts_with("▶ MILESTONE · Dennis Skinner loses Bolsover"))
            .count(),
        1,
        "{milestones:?}"
    );
    assert!(text.contains("Sitting MP defeated: Dennis Skinner (Lab)."));
    assert_eq!(
        pipeline_milestones,
        milestones.len(),
        "every milestone recorded is printed once"
    );
    assert_eq!(
        hs.iter().collect::<BTreeSet<_>>().len(),
        hs.len(),
        "no announcement printed twice"
    );
    let correction = hs
        .iter()
        .find(|h| h.starts_with("▶ CORRECTION"))
        .expect("the correction is printed");
    assert!(correction.contains(&timeline[0].result.constituency.name));
    assert!(text.contains(&format!(
        "{} ({}) {} → {} votes",
        runner_up.name,
        demo::parties().short(&runner_up.party),
        herald::format::thousands(runner_up.votes),
        herald::format::thousands(runner_up.votes + 100)
    )));
    assert!(
        hs.iter()
            .any(|h| h.starts_with("▶ RETRACTED")
                && h.contains(&timeline[1].result.constituency.name))
    );

    // The race on every announcement of a seat, as of that announcement: it starts at one
    // seat declared, and the last says what `/seats` says at the end of the night.
    let races: Vec<&str> = text
        .split("\nThe race\n  ")
        .skip(1)
        .filter_map(|rest| rest.lines().next())
        .collect();
    assert_eq!(races.len(), 652, "every announcement carries the race");
    assert!(races[0].starts_with("1 of 650 declared · "), "{}", races[0]);
    let parties = demo::parties();
    let mut board = Board::new(results.election.clone(), parties.clone(), against);
    for e in &events {
        board.apply(e.declaration.clone());
    }
    let style = herald::format::Style {
        parties: &parties,
        tz: chrono_tz::Europe::London,
        source: "test",
        baseline_label: "2017",
    };
    let end = board.tally(&herald::core::board::Scope::All);
    assert_eq!(
        end.declared, 649,
        "one seat withdrawn and not declared again"
    );
    let race = board.race(&herald::core::board::Scope::All).unwrap();
    assert!(
        race.projected.is_some(),
        "projected once enough seats compare"
    );
    let last = herald::format::national::race_line(&race, &style);
    assert_eq!(
        races.last().map(|r| herald::format::text::plain(r)),
        Some(last.clone())
    );
    assert!(
        last.starts_with("649 of 650 declared · Con 365 (+48) · Lab 201 ("),
        "{last}"
    );
    // Declared seats go up one at a time; down one at the retraction.
    let counts: Vec<i64> = races
        .iter()
        .map(|r| r.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(
        counts.windows(2).all(|w| (w[1] - w[0]).abs() <= 1),
        "{counts:?}"
    );
    assert_eq!(counts.windows(2).filter(|w| w[1] < w[0]).count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_night_and_restart_announces_each_declaration_once() {
    let Some(dir) = support::shared_data() else {
        return;
    };
    let (results, _) = support::ge2019(&dir);
    let server = serve(&results, Duration::from_millis(6), false).await;
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("herald.db");
    let console = tmp.path().join("console.txt");
    let args = [
        "watch",
        "--source",
        &server.url(),
        "--store",
        store.to_str().unwrap(),
        "--console-out",
        console.to_str().unwrap(),
        "--interval",
        "15ms",
        "--exit-when-complete",
    ];
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("herald starts")
    };
    // Two kills at different points of the night, then a run to the end.
    let mut kills = 0;
    for wait_ms in [900u64, 1300] {
        let mut child = spawn();
        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        kills += 1;
    }
    let revealed_at_last_kill = server.feed.revealed();
    let printed_before_last_run = std::fs::read_to_string(&console)
        .map(|t| headers(&t).len())
        .unwrap_or(0);
    assert!(
        printed_before_last_run > 0 && printed_before_last_run < 650,
        "killed mid-night after {printed_before_last_run} announcements"
    );
    assert!(
        revealed_at_last_kill < 650,
        "the kills happened mid-night ({revealed_at_last_kill} revealed)"
    );
    let mut child = spawn();
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "the last run finishes the night");
    server.stop().await;

    let text = std::fs::read_to_string(&console).unwrap();
    let hs = headers(&text);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for h in &hs {
        *counts.entry(h).or_default() += 1;
    }
    let repeated: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "printed more than once: {repeated:?}");
    let declared = hs.iter().filter(|h| h.starts_with("▶ DECLARED")).count();
    assert_eq!(
        declared, 650,
        "every declaration printed once across {kills} kills"
    );
    // Each milestone once too, whichever run reached it.
    let milestones: Vec<&&str> = hs.iter().filter(|h| h.starts_with("▶ MILESTONE")).collect();
    assert_eq!(hs.len(), 650 + milestones.len());
    for title in [
        "▶ MILESTONE · First declaration: ",
        "▶ MILESTONE · Conservative has a majority",
        "▶ MILESTONE · Every seat has declared",
    ] {
        assert_eq!(
            milestones.iter().filter(|h| h.starts_with(title)).count(),
            1,
            "{title} in {milestones:?}"
        );
    }
    let s = Store::open(store.to_str().unwrap()).await.unwrap();
    assert_eq!(s.milestones().await.unwrap().len(), milestones.len());
    let events = s.events().await.unwrap();
    assert_eq!(events.len(), 650);
    let ids: BTreeSet<_> = events.iter().map(|e| e.declaration.id().clone()).collect();
    assert_eq!(ids.len(), 650);
    assert!(
        s.outbox(herald::store::SinkKind::Console)
            .await
            .unwrap()
            .iter()
            .all(|i| i.state == herald::store::OutboxState::Sent)
    );
}

// ---- bad input -------------------------------------------------------------------------

fn seat(id: &str, name: &str, votes: [u64; 2]) -> Declaration {
    Declaration {
        allocation: None,
        result: ConstituencyResult {
            constituency: Constituency {
                id: ConstituencyId::new(id),
                name: name.into(),
                region: "North East".into(),
                nation: Nation::England,
                election: None,
            },
            electorate: Some(50_000),
            valid_votes: Some(votes[0] + votes[1]),
            rejected: Some(10),
            candidates: vec![
                Candidate {
                    name: "Ann Able".into(),
                    party: PartyId::new("con"),
                    votes: votes[0],
                    elected: votes[0] > votes[1],
                },
                Candidate {
                    name: "Bob Baker".into(),
                    party: PartyId::new("lab"),
                    votes: votes[1],
                    elected: votes[1] > votes[0],
                },
            ],
        },
        declared_at: None,
        revision: 1,
        status: DeclarationStatus::Declared,
        source: None,
    }
}

fn election() -> Election {
    Election {
        id: "t".into(),
        name: "Test".into(),
        date: chrono::NaiveDate::from_ymd_opt(2024, 7, 4).unwrap(),
        total_seats: 3,
    }
}

fn doc(decls: &[Declaration]) -> serde_json::Value {
    serde_json::to_value(herald_json::document(&election(), decls)).unwrap()
}

fn good() -> serde_json::Value {
    doc(&[seat("E1", "One", [300, 200]), seat("E2", "Two", [100, 400])])
}

struct Rig {
    watcher: Watcher,
    status: tokio::sync::watch::Receiver<herald::watch::WatchStatus>,
    store: Store,
    metrics: Metrics,
    board: herald::watch::SharedBoard,
    feed: support::scripted::Scripted,
    _tmp: tempfile::TempDir,
}

async fn rig(options: SourceOptions) -> Rig {
    let (url, feed) = scripted::start(Answer::Ok(good().to_string())).await;
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path().join("h.db").to_str().unwrap())
        .await
        .unwrap();
    let parties = demo::parties();
    let board = SharedBoard::new(Board::new(election(), parties.clone(), Baseline::default()));
    let source = open(&Location::Url(url), &options, Arc::new(parties)).unwrap();
    let metrics = Metrics::default();
    let (mut watcher, status, _) = Watcher::new(
        source,
        store.clone(),
        board.clone(),
        metrics.clone(),
        WatchConfig {
            interval: Duration::from_millis(100),
            sinks: Sinks::of(&[SinkKind::Console]),
            ..WatchConfig::default()
        },
        wake(),
    )
    .await
    .unwrap();
    let first = watcher.step().await;
    assert!(
        matches!(&first, Step::Recorded(e) if e.len() == 2),
        "the good state is taken: {first:?}"
    );
    Rig {
        watcher,
        status,
        store,
        metrics,
        board,
        feed,
        _tmp: tmp,
    }
}

async fn store_state(s: &Store) -> (usize, BTreeMap<ConstituencyId, Declaration>, usize) {
    (
        s.events().await.unwrap().len(),
        s.known().await.unwrap(),
        s.outbox(herald::store::SinkKind::Console)
            .await
            .unwrap()
            .len(),
    )
}

/// Serves `answer`, polls once, and checks the poll was refused for `cause` with nothing
/// changed in the store and the counter moved.
async fn refused(r: &mut Rig, answer: Answer, cause: FeedCause) {
    let before = store_state(&r.store).await;
    let count = r.metrics.feed_error_count(cause);
    r.feed.set(answer);
    let step = r.watcher.step().await;
    assert_eq!(step, Step::Refused(cause));
    assert_eq!(
        store_state(&r.store).await,
        before,
        "the store is unchanged"
    );
    assert_eq!(
        r.metrics.feed_error_count(cause),
        count + 1,
        "the refusal is counted"
    );
    assert!(
        r.watcher.next_delay() > Duration::from_millis(100),
        "a failure backs off"
    );
}

fn mutate(f: impl Fn(&mut serde_json::Value)) -> String {
    let mut v = good();
    f(&mut v);
    v.to_string()
}

#[tokio::test]
async fn malformed_and_implausible_feeds_are_refused_with_the_store_unchanged() {
    let mut r = rig(SourceOptions::default()).await;
    let text = good().to_string();
    refused(
        &mut r,
        Answer::Ok("{ not json".into()),
        FeedCause::malformed,
    )
    .await;
    refused(
        &mut r,
        Answer::Ok(text[..text.len() / 2].to_string()),
        FeedCause::malformed,
    )
    .await;
    refused(
        &mut r,
        Answer::Ok(mutate(|v| {
            v["declarations"][0]["candidates"][0]["votes"] = "many".into()
        })),
        FeedCause::malformed,
    )
    .await;
    refused(
        &mut r,
        Answer::Ok(mutate(|v| {
            v["declarations"][0]["candidates"][1]["votes"] = (-5).into()
        })),
        FeedCause::malformed,
    )
    .await;
    refused(
        &mut r,
        Answer::Ok(mutate(|v| v["declarations"][0]["electorate"] = 100.into())),
        FeedCause::invalid,
    )
    .await;
    refused(
        &mut r,
        Answer::Ok(mutate(|v| {
            let c = v["declarations"][0]["candidates"][1].clone();
            v["declarations"][0]["candidates"]
                .as_array_mut()
                .unwrap()
                .push(c);
        })),
        FeedCause::invalid,
    )
    .await;
    refused(
        &mut r,
        Answer::Ok(mutate(|v| {
            let d = v["declarations"][0].clone();
            v["declarations"].as_array_mut().unwrap().push(d);
        })),
        FeedCause::invalid,
    )
    .await;
    refused(
        &mut r,
        Answer::Ok("<html><body>502 Bad Gateway</body></html>".into()),
        FeedCause::html,
    )
    .await;
    refused(
        &mut r,
        Answer::Status(500, "oops".into()),
        FeedCause::http_status,
    )
    .await;
    refused(&mut r, Answer::Ok(String::new()), FeedCause::malformed).await;
    // Both held declarations vanish (a cut transfer, an emptied file): nothing is
    // retracted or recorded; they are reported missing, by name, and counted.
    let before = store_state(&r.store).await;
    r.feed.set(Answer::Ok(doc(&[]).to_string()));
    assert_eq!(r.watcher.step().await, Step::Recorded(vec![]));
    assert_eq!(store_state(&r.store).await, before, "nothing recorded");
    assert_eq!(r.status.borrow().missing, ["One", "Two"]);
    assert_eq!(r.metrics.missing.get(), 2);
    // The good state is still taken afterwards, without repeating anything.
    r.feed.set(Answer::Ok(good().to_string()));
    assert_eq!(r.watcher.step().await, Step::Recorded(vec![]));
    assert!(r.status.borrow().missing.is_empty());
    assert_eq!(r.metrics.missing.get(), 0);
    assert_eq!(
        r.watcher.next_delay(),
        Duration::from_millis(100),
        "recovery resets the backoff"
    );
}

#[tokio::test]
async fn older_revisions_for_many_seats_are_refused_and_one_is_ignored() {
    let mut r = rig(SourceOptions::default()).await;
    let mut a = seat("E1", "One", [300, 200]);
    let mut b = seat("E2", "Two", [100, 400]);
    a.revision = 3;
    b.revision = 3;
    r.feed
        .set(Answer::Ok(doc(&[a.clone(), b.clone()]).to_string()));
    assert!(matches!(r.watcher.step().await, Step::Recorded(e) if e.len() == 2));
    let old = doc(&[seat("E1", "One", [1, 2]), seat("E2", "Two", [3, 4])]).to_string();
    refused(&mut r, Answer::Ok(old), FeedCause::back_in_time).await;
    // One late revision alone is ignored, with the rest of the snapshot applied.
    let mut late = seat("E1", "One", [9, 9]);
    late.revision = 2;
    let c = seat("E3", "Three", [5, 6]);
    r.feed.set(Answer::Ok(doc(&[late, b, c]).to_string()));
    match r.watcher.step().await {
        Step::Recorded(e) => assert_eq!(
            e.iter()
                .map(|e| e.declaration.id().as_str())
                .collect::<Vec<_>>(),
            ["E3"]
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(r.metrics.ignored.get(), 1);
}

#[tokio::test]
async fn a_stalled_server_times_out_and_an_endless_body_hits_the_cap() {
    let mut r = rig(SourceOptions {
        timeout: Duration::from_millis(300),
        max_body_bytes: 1024 * 1024,
        ..SourceOptions::default()
    })
    .await;
    refused(
        &mut r,
        Answer::Stall(Duration::from_secs(5), good().to_string()),
        FeedCause::timeout,
    )
    .await;
    refused(&mut r, Answer::Endless, FeedCause::too_large).await;
}

#[tokio::test]
async fn an_unknown_party_is_kept_and_shown_under_its_raw_name() {
    let mut r = rig(SourceOptions::default()).await;
    let mut third = seat("E3", "Three", [500, 100]);
    third.result.candidates[0].party = PartyId::new("Heritage Party of Somewhere");
    let body = doc(&[
        seat("E1", "One", [300, 200]),
        seat("E2", "Two", [100, 400]),
        third,
    ])
    .to_string();
    r.feed.set(Answer::Ok(body));
    assert!(matches!(r.watcher.step().await, Step::Recorded(e) if e.len() == 1));
    let board = r.board.read();
    let e = board.get(&ConstituencyId::new("E3")).unwrap();
    assert_eq!(
        e.figures.winning_party().unwrap().as_str(),
        "Heritage Party of Somewhere"
    );
    assert_eq!(
        board.parties.short(e.figures.winning_party().unwrap()),
        "Heritage Party of Somewhere"
    );
}

#[tokio::test]
async fn an_unchanged_feed_costs_a_304() {
    let parties = demo::parties();
    let (results, _) = demo::load(&parties);
    let server = serve(&results, Duration::from_millis(1), false).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut source = open(
        &Location::Url(server.url()),
        &SourceOptions::default(),
        Arc::new(parties),
    )
    .unwrap();
    use herald::sources::live::Polled;
    assert!(matches!(source.poll().await, Ok(Polled::Changed(_))));
    // Not recorded yet: the next poll brings the same body again, unconditionally.
    assert!(matches!(source.poll().await, Ok(Polled::Changed(_))));
    assert_eq!(server.feed.not_modified(), 0);
    source.commit();
    let before = server.feed.not_modified();
    assert_eq!(source.poll().await, Ok(Polled::Unchanged));
    assert_eq!(
        server.feed.not_modified(),
        before + 1,
        "the second poll was answered 304"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_pa_folder_reports_the_call_then_the_completed_result() {
    let Some(dir) = support::shared_data() else {
        return;
    };
    let pa = dir.join("feeds/pa/pa-test-2026");
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let store = Store::open(tmp.path().join("h.db").to_str().unwrap())
        .await
        .unwrap();
    let (mut watcher, board, _) = pa_rig(&inbox, &store, None).await;
    assert_eq!(
        watcher.step().await,
        Step::Recorded(vec![]),
        "an empty folder is an empty night"
    );

    // A half-written file is skipped, not applied.
    let rush = std::fs::read_to_string(pa.join("Scottish_Parliament_Test_rush_Cowdenbeath_1.xml"))
        .unwrap();
    std::fs::write(
        inbox.join("Scottish_Parliament_Test_rush_Cowdenbeath_1.xml"),
        &rush[..rush.len() / 2],
    )
    .unwrap();
    assert!(matches!(
        watcher.step().await,
        Step::Refused(FeedCause::malformed)
    ));
    assert!(store.events().await.unwrap().is_empty());

    std::fs::write(
        inbox.join("Scottish_Parliament_Test_rush_Cowdenbeath_1.xml"),
        &rush,
    )
    .unwrap();
    let called = match watcher.step().await {
        Step::Recorded(e) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(called.len(), 1);
    assert_eq!(called[0].kind, EventKind::Called);
    assert_eq!(called[0].declaration.status, DeclarationStatus::Called);
    let winner = called[0]
        .declaration
        .result
        .candidates
        .iter()
        .find(|c| c.elected)
        .unwrap();
    assert_eq!(winner.party.as_str(), "snp");

    std::fs::copy(
        pa.join("Scottish_Parliament_Test_result_Cowdenbeath_1.xml"),
        inbox.join("Scottish_Parliament_Test_result_Cowdenbeath_1.xml"),
    )
    .unwrap();
    let completed = match watcher.step().await {
        Step::Recorded(e) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(completed.len(), 1);
    assert_eq!(completed[0].kind, EventKind::Completed);
    let f = board.read().compute(&completed[0].declaration);
    assert_eq!(
        f.majority,
        Some(3794),
        "the completed result carries PA's figures"
    );
    assert_eq!(f.winning_party().unwrap().as_str(), "snp");

    // The state of parties is read and cross-checked (a disagreement is only logged).
    std::fs::copy(
        pa.join("Scottish_Parliament_Test_SOP_7.xml"),
        inbox.join("Scottish_Parliament_Test_SOP_7.xml"),
    )
    .unwrap();
    assert_eq!(watcher.step().await, Step::Recorded(vec![]));
    // The Scottish Parliament's chamber is 129 seats (its 73 constituencies and 56 list
    // seats), whatever the constituencies' state of parties counts.
    assert_eq!(board.read().election.total_seats, 129, "the chamber's size");
    // Nothing more happens on a quiet folder.
    assert_eq!(watcher.step().await, Step::Unchanged);
}

#[tokio::test]
async fn a_file_source_refuses_a_half_written_file_and_takes_the_whole_one() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("feed.json");
    let text = good().to_string();
    std::fs::write(&path, &text[..text.len() - 40]).unwrap();
    let store = Store::open(":memory:").await.unwrap();
    let parties = demo::parties();
    let board = SharedBoard::new(Board::new(election(), parties.clone(), Baseline::default()));
    let source = open(
        &Location::File(path.clone()),
        &SourceOptions::default(),
        Arc::new(parties),
    )
    .unwrap();
    let (mut watcher, _, _) = Watcher::new(
        source,
        store.clone(),
        board,
        Metrics::default(),
        WatchConfig::default(),
        wake(),
    )
    .await
    .unwrap();
    assert!(matches!(
        watcher.step().await,
        Step::Refused(FeedCause::malformed)
    ));
    std::fs::write(&path, &text).unwrap();
    assert!(matches!(watcher.step().await, Step::Recorded(e) if e.len() == 2));
    assert_eq!(watcher.step().await, Step::Unchanged);
}

#[tokio::test]
async fn a_folder_of_herald_json_files_takes_the_highest_revision() {
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let store = Store::open(":memory:").await.unwrap();
    let parties = demo::parties();
    let board = SharedBoard::new(Board::new(election(), parties.clone(), Baseline::default()));
    let source = open(
        &Location::Folder(inbox.clone()),
        &SourceOptions::default(),
        Arc::new(parties),
    )
    .unwrap();
    let (mut watcher, _, _) = Watcher::new(
        source,
        store.clone(),
        board,
        Metrics::default(),
        WatchConfig::default(),
        wake(),
    )
    .await
    .unwrap();
    let one = seat("E1", "One", [300, 200]);
    let mut two = seat("E1", "One", [300, 250]);
    two.revision = 2;
    two.result.valid_votes = Some(550);
    std::fs::write(inbox.join("E1_2.json"), doc(&[two]).to_string()).unwrap();
    std::fs::write(inbox.join("E1_1.json"), doc(&[one]).to_string()).unwrap();
    // A file still being written under a temporary name is not read.
    std::fs::write(inbox.join("E2_1.json.part"), "{").unwrap();
    match watcher.step().await {
        Step::Recorded(e) => {
            assert_eq!(e.len(), 1);
            assert_eq!(
                e[0].declaration.revision, 2,
                "the higher revision supersedes, whatever the order of arrival"
            );
        }
        other => panic!("{other:?}"),
    }
    let mut three = seat("E1", "One", [300, 260]);
    three.revision = 3;
    three.result.valid_votes = Some(560);
    std::fs::write(inbox.join("E1_3.json"), doc(&[three]).to_string()).unwrap();
    match watcher.step().await {
        Step::Recorded(e) => assert_eq!((e.len(), e[0].kind), (1, EventKind::Corrected)),
        other => panic!("{other:?}"),
    }
}

/// A watcher on an empty folder of PA messages, following one election.
/// A watcher on a folder of PA messages (all its elections, or `election` only).
async fn pa_rig(
    inbox: &std::path::Path,
    store: &Store,
    election: Option<&str>,
) -> (Watcher, herald::watch::SharedBoard, Metrics) {
    let parties = demo::parties();
    let board = SharedBoard::new(Board::new(
        self::election(),
        parties.clone(),
        Baseline::default(),
    ));
    let options = SourceOptions {
        format: Format::PaXml,
        election: election.map(String::from),
        ..SourceOptions::default()
    };
    let source = open(
        &Location::Folder(inbox.to_path_buf()),
        &options,
        Arc::new(parties),
    )
    .unwrap();
    let metrics = Metrics::default();
    let (watcher, _, _) = Watcher::new(
        source,
        store.clone(),
        board.clone(),
        metrics.clone(),
        WatchConfig::default(),
        wake(),
    )
    .await
    .unwrap();
    (watcher, board, metrics)
}

/// The announcement every sink would post for a recorded event.
fn announced(
    board: &herald::watch::SharedBoard,
    e: &herald::store::StoredEvent,
) -> (String, String) {
    let board = board.read();
    let figures = board.compute(&e.declaration);
    let style = herald::format::Style {
        parties: &board.parties,
        tz: chrono_tz::Europe::London,
        source: "PA",
        baseline_label: "the previous election",
    };
    let a = herald::format::announce::announcement(
        e.kind,
        &e.declaration,
        &e.differences,
        &figures,
        None,
        board.race_at(e.seq),
        &style,
    );
    (
        a.embed.title.clone(),
        herald::format::text::render(&a.embed) + &a.note.unwrap_or_default(),
    )
}

fn disagreements(m: &Metrics) -> String {
    m.encode()
        .lines()
        .filter(|l| l.starts_with("herald_source_disagreements_total{"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[tokio::test]
async fn pa_test_2026_replayed_in_arrival_order_against_pa_s_own_baselines() {
    let Some(dir) = support::shared_data() else {
        return;
    };
    let pa = dir.join("feeds/pa/pa-test-2026");
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let store = Store::open(tmp.path().join("h.db").to_str().unwrap())
        .await
        .unwrap();
    let (mut watcher, board, metrics) =
        pa_rig(&inbox, &store, Some("Scottish Parliament Test")).await;
    // As PA sent them: each seat's rush, then its result; the mayor's files belong to
    // another election and are left aside.
    let arrivals = [
        "Mayoral_Elections_Test_rush_Croydon_1.xml",
        "Scottish_Parliament_Test_rush_Cowdenbeath_1.xml",
        "Scottish_Parliament_Test_result_Cowdenbeath_1.xml",
        "Mayoral_Elections_Test_result_Croydon_1.xml",
        "Scottish_Parliament_Test_rush_Bathgate_1.xml",
        "Scottish_Parliament_Test_result_Bathgate_1.xml",
    ];
    let mut seen = Vec::new();
    for file in arrivals {
        std::fs::copy(pa.join(file), inbox.join(file)).unwrap();
        match watcher.step().await {
            Step::Recorded(events) => {
                for e in &events {
                    seen.push((e.kind, announced(&board, e)));
                }
            }
            // Another election's message changes nothing here.
            Step::Unchanged if file.starts_with("Mayoral") => {}
            other => panic!("{file}: {other:?}"),
        }
    }
    let kinds: Vec<EventKind> = seen.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Called,
            EventKind::Completed,
            EventKind::Called,
            EventKind::Completed
        ]
    );
    let titles: Vec<&str> = seen.iter().map(|(_, (t, _))| t.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Cowdenbeath: SNP HOLD, figures to follow",
            "Cowdenbeath: SNP HOLD",
            "Bathgate: Lab GAIN from notional SNP, figures to follow",
            "Bathgate: Lab GAIN from notional SNP",
        ]
    );
    // PA's swing (13.36 from SNP to Lab), computed from the notional 2021 votes.
    let bathgate = &seen[3].1.1;
    assert!(
        bathgate.contains(
            "Swing of 13.4 points from Scottish National Party to Labour since 2021 (notional)."
        ),
        "{bathgate}"
    );
    let cowdenbeath = &seen[1].1.1;
    assert!(
        cowdenbeath
            .contains("Swing of 2.9 points from Scottish National Party to Labour since 2021."),
        "{cowdenbeath}"
    );
    {
        let b = board.read();
        let id = ConstituencyId::new("pa:s-2026-05-06:13");
        let quote = b.get(&id).unwrap().figures.swing.quote().cloned().unwrap();
        assert_eq!((quote.points * 100.0).round(), 1336.0);
        assert!(b.disagreements(&id).is_empty());
    }
    // herald and PA agree on every figure of both seats.
    assert!(
        disagreements(&metrics).lines().all(|l| l.ends_with(" 0")),
        "{}",
        disagreements(&metrics)
    );

    // A result whose own figures disagree with its votes is reported, herald's stand.
    let wrong = std::fs::read_to_string(pa.join("Scottish_Parliament_Test_result_Bathgate_1.xml"))
        .unwrap()
        .replace("revision=\"1\"", "revision=\"2\"")
        .replace("swing=\"13.36\"", "swing=\"3.36\"")
        .replace("majority=\"2787\"", "majority=\"2788\"");
    std::fs::write(
        inbox.join("Scottish_Parliament_Test_result_Bathgate_2.xml"),
        wrong,
    )
    .unwrap();
    assert!(matches!(watcher.step().await, Step::Recorded(e) if e.len() == 1));
    let counted = disagreements(&metrics);
    assert!(counted.contains("figure=\"swing\"} 1"), "{counted}");
    assert!(counted.contains("figure=\"majority\"} 1"), "{counted}");
    assert!(counted.contains("figure=\"outcome\"} 0"), "{counted}");
    let b = board.read();
    let f = &b
        .get(&ConstituencyId::new("pa:s-2026-05-06:13"))
        .unwrap()
        .figures;
    assert_eq!(f.majority, Some(2787), "herald's own figure stands");
}

#[tokio::test]
async fn a_seat_corrected_by_a_rush_is_announced_as_a_correction_at_once() {
    let Some(dir) = support::shared_data() else {
        return;
    };
    let pa = dir.join("feeds/pa/pa-test-2026");
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let store = Store::open(tmp.path().join("h.db").to_str().unwrap())
        .await
        .unwrap();
    let (mut watcher, board, _) = pa_rig(&inbox, &store, Some("pa-s-2026-05-06")).await;
    let result =
        std::fs::read_to_string(pa.join("Scottish_Parliament_Test_result_Bathgate_1.xml")).unwrap();
    let rush =
        std::fs::read_to_string(pa.join("Scottish_Parliament_Test_rush_Bathgate_1.xml")).unwrap();
    // result_1: Lab gain. rush_2: the correction, SNP hold. result_3: the corrected votes.
    let rush_2 = rush
        .replace("revision=\"1\"", "revision=\"2\"")
        .replace("<Candidate elected=\"*\" ", "<Candidate ")
        .replace(
            "<Candidate previousSittingMember=\"+\" ",
            "<Candidate elected=\"*\" previousSittingMember=\"+\" ",
        )
        .replace("gainOrHold=\"gain\"", "gainOrHold=\"hold\"")
        .replace("winningPartyAbbreviation=\"Lab\" winningPartyName=\"Labour\"", "winningPartyAbbreviation=\"SNP\" winningPartyName=\"Scottish National Party\"")
        .replace("change=\"true\"", "change=\"false\"")
        .replace(
            "Labour win Bathgate - gain from notional Scottish National Party",
            "Correction: Scottish National Party win Bathgate - notional Scottish National Party hold",
        );
    let result_3 = result
        .replace("revision=\"1\"", "revision=\"3\"")
        .replace("<Candidate elected=\"*\" ", "<Candidate ")
        .replace(
            "<Candidate previousSittingMember=\"+\" ",
            "<Candidate elected=\"*\" previousSittingMember=\"+\" ",
        )
        .replace("votes=\"14543\"", "votes=\"11543\"")
        .replace("votes=\"11756\"", "votes=\"14756\"")
        .replace("winningParty=\"Lab\"", "winningParty=\"SNP\"")
        .replace("gainOrHold=\"gain\"", "gainOrHold=\"hold\"")
        .replace("majority=\"2787\"", "majority=\"3213\"")
        .replace("swing=\"13.36\"", "swing=\"5.10\"");

    let step = async |watcher: &mut Watcher, name: &str, text: &str| {
        std::fs::write(inbox.join(name), text).unwrap();
        match watcher.step().await {
            Step::Recorded(events) => events
                .iter()
                .map(|e| (e.kind, announced(&board, e)))
                .collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        }
    };
    let first = step(
        &mut watcher,
        "Scottish_Parliament_Test_result_Bathgate_1.xml",
        &result,
    )
    .await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].0, EventKind::Declared);
    assert_eq!(first[0].1.0, "Bathgate: Lab GAIN from notional SNP");

    let correction = step(
        &mut watcher,
        "Scottish_Parliament_Test_rush_Bathgate_2.xml",
        &rush_2,
    )
    .await;
    assert_eq!(
        correction.len(),
        1,
        "the correcting rush is announced at once"
    );
    let (kind, (title, text)) = &correction[0];
    assert_eq!(*kind, EventKind::Corrected);
    assert_eq!(title, "Bathgate: SNP HOLD, figures to follow");
    assert!(
        text.contains("Correction to Bathgate (revision 2)")
            && text.contains("winner Molly Green Test → Kevin Robinson Test")
            && text.contains("The figures shown earlier no longer stand"),
        "{text}"
    );

    let last = step(
        &mut watcher,
        "Scottish_Parliament_Test_result_Bathgate_3.xml",
        &result_3,
    )
    .await;
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].0, EventKind::Completed);
    assert_eq!(last[0].1.0, "Bathgate: SNP HOLD");
    {
        let b = board.read();
        let id = ConstituencyId::new("pa:s-2026-05-06:13");
        assert_eq!(b.get(&id).unwrap().figures.majority, Some(3213));
        assert!(
            b.disagreements(&id).is_empty(),
            "{:?}",
            b.disagreements(&id)
        );
    }
    // The superseded result, should it arrive again, changes nothing.
    std::fs::write(inbox.join("late_copy_result_1.xml"), &result).unwrap();
    assert_eq!(watcher.step().await, Step::Unchanged);
}

#[tokio::test]
async fn elections_in_one_folder_are_announced_side_by_side() {
    let Some(dir) = support::shared_data() else {
        return;
    };
    let pa = dir.join("feeds/pa/pa-test-2026");
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let store = Store::open(tmp.path().join("h.db").to_str().unwrap())
        .await
        .unwrap();
    let (mut watcher, board, _) = pa_rig(&inbox, &store, None).await;
    let mut footers = Vec::new();
    for file in [
        "Scottish_Parliament_Test_result_Cowdenbeath_1.xml",
        "Mayoral_Elections_Test_result_Croydon_1.xml",
        "Scottish_Parliament_Test_SOP_73.xml",
    ] {
        std::fs::copy(pa.join(file), inbox.join(file)).unwrap();
        match watcher.step().await {
            Step::Recorded(events) => {
                for e in &events {
                    let b = board.read();
                    let f = b.compute(&e.declaration);
                    let style = herald::format::Style {
                        parties: &b.parties,
                        tz: chrono_tz::Europe::London,
                        source: "PA",
                        baseline_label: "the previous election",
                    };
                    let view = herald::format::result::Declared {
                        figures: &f,
                        declared_at: e.declaration.declared_at,
                        revision: e.declaration.revision,
                        status: e.declaration.status,
                    };
                    footers.push(herald::format::result::footer(&view, &style));
                }
            }
            other => panic!("{file}: {other:?}"),
        }
    }
    // Every announcement names its election.
    assert_eq!(footers.len(), 2);
    assert!(
        footers[0].starts_with("Scottish Parliament Test · Declared"),
        "{}",
        footers[0]
    );
    assert!(
        footers[1].starts_with("Mayoral Elections Test · Declared"),
        "{}",
        footers[1]
    );

    // The store holds both, as elections of one night.
    let held: Vec<String> = store
        .elections()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(held.len(), 2, "{held:?}");
    let b = board.read();
    let ids: Vec<&str> = b.elections().iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["pa-m-2026-05-06", "pa-s-2026-05-06"]);
    // Each its own seats, tally and majority line: the Scottish Parliament's chamber of 129
    // (73 constituencies and 56 list seats); the mayoralty is one seat.
    let scottish = b.tally(&herald::core::board::Scope::Election(
        "pa-s-2026-05-06".into(),
    ));
    assert_eq!((scottish.declared, scottish.total_seats), (1, 129));
    let mayor = b.tally(&herald::core::board::Scope::Election(
        "pa-m-2026-05-06".into(),
    ));
    assert_eq!((mayor.declared, mayor.total_seats), (1, 1));
    assert_eq!(mayor.parties[0].party.as_str(), "lab");
    // `/seats` answers with both, each named.
    let p = herald::discord::replies::Presentation {
        tz: chrono_tz::Europe::London,
        source: "PA".into(),
        baseline_label: "the previous election".into(),
    };
    let reply = herald::discord::replies::seats(&b, &p);
    let titles: Vec<&str> = reply.embeds.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(titles.len(), 2);
    assert!(
        titles[0].starts_with("Mayoral Elections Test"),
        "{titles:?}"
    );
    assert!(
        titles[1].starts_with("Scottish Parliament Test"),
        "{titles:?}"
    );
}

#[tokio::test]
async fn a_milestone_reached_but_not_recorded_before_a_crash_is_recorded_at_restart() {
    // Three seats, 2 for a majority: Con wins the first two, Lab the third.
    let seats = [
        seat("E1", "One", [300, 200]),
        seat("E2", "Two", [400, 100]),
        seat("E3", "Three", [100, 400]),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path().join("h.db").to_str().unwrap())
        .await
        .unwrap();
    store.hold_election(&election(), "test").await.unwrap();
    // The declarations recorded, and herald gone before their milestones were: the window
    // between the two transactions.
    let changes: Vec<herald::core::changes::Change> = seats
        .iter()
        .map(|d| herald::core::changes::Change {
            kind: EventKind::Declared,
            declaration: d.clone(),
            differences: vec![],
        })
        .collect();
    let sinks = Sinks::of(&[SinkKind::Console]);
    store.record(&changes, &[], sinks).await.unwrap();
    assert!(store.milestones().await.unwrap().is_empty());

    let restart = || async {
        let parties = demo::parties();
        let board = SharedBoard::new(Board::new(election(), parties.clone(), Baseline::default()));
        herald::watch::restore_board(&store, &board).await.unwrap();
        let (url, feed) = scripted::start(Answer::Ok(doc(&seats).to_string())).await;
        let source = open(
            &Location::Url(url),
            &SourceOptions::default(),
            Arc::new(parties),
        )
        .unwrap();
        let (mut watcher, _, _) = Watcher::new(
            source,
            store.clone(),
            board,
            Metrics::default(),
            WatchConfig {
                sinks,
                ..WatchConfig::default()
            },
            wake(),
        )
        .await
        .unwrap();
        // The feed has nothing new; the milestones are recorded all the same.
        assert_eq!(watcher.step().await, Step::Recorded(vec![]));
        feed
    };
    let _feed = restart().await;
    let keys: Vec<String> = store
        .milestones()
        .await
        .unwrap()
        .iter()
        .map(|m| m.milestone.key())
        .collect();
    assert_eq!(keys, ["first", "majority:con", "complete"]);
    let first = store.milestone("first").await.unwrap().unwrap();
    assert_eq!(
        first.milestone,
        herald::core::milestones::Milestone::FirstDeclaration { seat: "One".into() }
    );
    assert!(first.standing && first.version == 1);
    // Each announced once, and a second restart adds nothing.
    let _feed = restart().await;
    assert_eq!(store.milestones().await.unwrap().len(), 3);
    let console: Vec<_> = store
        .outbox(herald::store::SinkKind::Console)
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.constituency_id.starts_with("milestone:"))
        .collect();
    assert_eq!(console.len(), 3);
}

#[tokio::test]
async fn a_may_night_replayed_announces_councils_lists_and_a_mayor_on_their_own_figures() {
    let Some(dir) = support::shared_data() else {
        return;
    };
    let may = dir.join("feeds/pa/pa-test-2026-may");
    let mayors = dir.join("feeds/pa/pa-test-2026");
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let store = Store::open(tmp.path().join("h.db").to_str().unwrap())
        .await
        .unwrap();
    let (mut watcher, board, _) = pa_rig(&inbox, &store, None).await;
    // As PA sent them: the mayor, the councils (Bolton's correction without its first
    // revision), each list's call, result and corrected result; then the councils' state
    // of parties, which herald does not read.
    let arrivals = [
        (&mayors, "Mayoral_Elections_Test_result_Croydon_1.xml"),
        (&may, "Local_Test_result_Adur_1.xml"),
        (&may, "Local_Test_result_Westminster_1.xml"),
        (&may, "Local_Test_result_Bolton_2.xml"),
        (
            &may,
            "Welsh_Parliament_Test_rush_Blaenau_Gwent_Caerffili_Rhymni_1.xml",
        ),
        (
            &may,
            "Welsh_Parliament_Test_result_Blaenau_Gwent_Caerffili_Rhymni_1.xml",
        ),
        (
            &may,
            "Welsh_Parliament_Test_result_Blaenau_Gwent_Caerffili_Rhymni_2.xml",
        ),
        (&may, "Scottish_Parliament_Test_rush_Scotland_South_1.xml"),
        (&may, "Scottish_Parliament_Test_result_Scotland_South_1.xml"),
        (&may, "Local_Test_SOP_136.xml"),
    ];
    let mut seen = Vec::new();
    for (from, file) in arrivals {
        std::fs::copy(from.join(file), inbox.join(file)).unwrap();
        match watcher.step().await {
            Step::Recorded(events) => {
                for e in &events {
                    seen.push((e.kind, announced(&board, e)));
                }
            }
            Step::Unchanged if file.contains("_SOP_") => {}
            other => panic!("{file}: {other:?}"),
        }
    }
    let titles: Vec<(EventKind, &str)> = seen.iter().map(|(k, (t, _))| (*k, t.as_str())).collect();
    assert_eq!(
        titles,
        [
            (EventKind::Declared, "Croydon mayor: Lab GAIN from Con"),
            (EventKind::Declared, "Adur: Lab HOLD"),
            (EventKind::Declared, "Westminster: Con GAIN from Lab"),
            (EventKind::Declared, "Bolton: NOC, no change"),
            (
                EventKind::Called,
                "Blaenau Gwent Caerffili Rhymni: list seats PC 2, Con 1, Green 1, Lab 1, Reform 1, votes to follow"
            ),
            (
                EventKind::Completed,
                "Blaenau Gwent Caerffili Rhymni: list seats PC 2, Con 1, Green 1, Lab 1, Reform 1"
            ),
            (
                EventKind::Corrected,
                "Blaenau Gwent Caerffili Rhymni: list seats PC 2, Con 1, Green 1, Lab 1, Reform 1"
            ),
            (
                EventKind::Called,
                "Scotland South: list seats SNP 3, Lab 2, Con 1, Green 1, votes to follow"
            ),
            (
                EventKind::Completed,
                "Scotland South: list seats SNP 3, Lab 2, Con 1, Green 1"
            ),
        ]
    );
    let text = |i: usize| seen[i].1.1.as_str();
    // Westminster, all out: C 31 + Lab 16 + Reform 7 = 54 seats, 28 for a majority.
    assert!(
        text(2).contains("Conservative controls the council with 31 of 54 seats (28 for a majority). All 54 seats were up."),
        "{}",
        text(2)
    );
    // Adur, half up: 7 + 4 + 2 + 1 = 14 won of 19 + 6 + 3 + 1 = 29, 15 for a majority.
    assert!(
        text(1).contains("Labour controls the council with 19 of 29 seats (15 for a majority). 14 of 29 seats were up."),
        "{}",
        text(1)
    );
    // Bolton, a third up: 6 + 6 + 4 + 3 + 1 = 20 of 24 + 15 + 11 + 8 + 2 = 60; Labour's 24
    // is short of 31.
    assert!(
        text(3).contains("No party has a majority: no overall control (31 of 60 seats needed). 20 of 60 seats were up."),
        "{}",
        text(3)
    );
    // The Senedd's six seats by d'Hondt on the list votes alone (quotients by hand: PC
    // 24,484 and 12,242; Con 14,554; Lab 12,462; Reform 10,732; Green 9,907), as PA
    // elected them; the corrected result says what changed.
    assert!(
        text(5).contains("Allocated by d'Hondt on the list votes (herald's own count)."),
        "{}",
        text(5)
    );
    assert!(!text(5).contains("The source differs"), "{}", text(5));
    assert!(text(6).contains("Correction to Blaenau Gwent Caerffili Rhymni (revision 2): Ind list votes 1,010 → 1,001."), "{}", text(6));
    // Scotland South's additional members depend on the constituency seats won in the
    // region, which PA's files do not say: PA's allocation, said to be unchecked.
    assert!(
        text(8).contains(
            "not checked: herald does not know the constituency seats won in this region"
        ),
        "{}",
        text(8)
    );
    assert!(
        text(8).contains("Caoimhe Gibbs Test (Green)"),
        "{}",
        text(8)
    );

    let b = board.read();
    use herald::core::board::{Scope, Standing};
    // Each chamber with its own majority line: 49 of 96, 65 of 129.
    let senedd = b.tally(&Scope::Election("pa-w-2026-05-06".into()));
    assert_eq!(
        (senedd.declared, senedd.total_seats, senedd.majority_line),
        (6, 96, 49)
    );
    let holyrood = b.tally(&Scope::Election("pa-s-2026-05-06".into()));
    assert_eq!(
        (
            holyrood.declared,
            holyrood.total_seats,
            holyrood.majority_line
        ),
        (7, 129, 65)
    );
    // The councils: by control (Con gains Westminster from Lab; Adur held; Bolton NOC) and
    // seats (Con 1 + 31 + 3 = 35, change −1 + 7 − 4 = +2; Lab 7 + 16 + 6 = 29, +2 − 12 − 1 = −11).
    let Standing::Councils(c) = b.standing(&Scope::Election("pa-local-2026-05-07".into())) else {
        panic!("the local elections stand in councils")
    };
    assert_eq!(c.declared, 3);
    let con = herald::core::model::PartyId::new("con");
    let lab = herald::core::model::PartyId::new("lab");
    assert_eq!(
        c.seats.iter().find(|s| s.0 == con).map(|s| (s.1, s.2)),
        Some((35, 2))
    );
    assert_eq!(
        c.seats.iter().find(|s| s.0 == lab).map(|s| (s.1, s.2)),
        Some((29, -11))
    );
    use herald::core::allocation::Control;
    assert!(c.control.contains(&(Control::Party(con), 1, 1)));
    assert!(c.control.contains(&(Control::Party(lab), 1, -1)));
    assert!(c.control.contains(&(Control::Noc, 1, 0)));
    // PA's councils state of parties is read and compared with herald's tally: it covers
    // all 136 councils of PA's test run, of which the folder holds 3.
    let sop = std::fs::read_to_string(may.join("Local_Test_SOP_136.xml")).unwrap();
    let parts =
        herald::sources::live::pa_parts("Local_Test_SOP_136.xml", &sop, &demo::parties()).unwrap();
    assert_eq!(parts.election.as_ref().map(|e| e.total_seats), Some(136));
    let problems = herald::watch::report::cross_check(&b, &parts.totals.unwrap());
    assert!(
        problems.contains(
            &"state of parties (Local elections 2026) covers 136 councils; herald holds 3"
                .to_string()
        ),
        "{problems:?}"
    );
    assert!(
        problems.contains(
            &"state of parties (Local elections 2026) gives Lab 1839 seats won; herald counts 29"
                .to_string()
        ),
        "{problems:?}"
    );
    // `/councils` answers with them, and their chart.
    let p = herald::discord::replies::Presentation {
        tz: chrono_tz::Europe::London,
        source: "PA".into(),
        baseline_label: "the previous election".into(),
    };
    let reply = herald::discord::desk::councils(&b, &p);
    assert_eq!(
        reply.embeds[0].title,
        "Local elections 2026: 3 councils declared"
    );
    assert_eq!(
        reply.picture,
        Some(herald::discord::replies::Picture::Councils(
            Scope::Election("pa-local-2026-05-07".into())
        ))
    );
}

#[tokio::test]
async fn democracy_club_s_wards_are_announced_with_all_their_winners() {
    let Some(dir) = support::shared_data() else {
        return;
    };
    let file = dir.join("feeds/democracy-club/dc-v09-result_sets-south-yorkshire-2021-05-06.json");
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path().join("h.db").to_str().unwrap())
        .await
        .unwrap();
    let parties = demo::parties();
    let board = SharedBoard::new(Board::new(election(), parties.clone(), Baseline::default()));
    let options = SourceOptions {
        format: Format::DemocracyClub,
        ..SourceOptions::default()
    };
    let source = open(&Location::File(file), &options, Arc::new(parties)).unwrap();
    let (mut watcher, _, _) = Watcher::new(
        source,
        store.clone(),
        board.clone(),
        Metrics::default(),
        WatchConfig::default(),
        wake(),
    )
    .await
    .unwrap();
    let Step::Recorded(events) = watcher.step().await else {
        panic!("the ballots are recorded")
    };
    // Every ballot of the four councils, each a contest of its own.
    assert_eq!(events.len(), 95);
    assert_eq!(board.read().elections().len(), 4);
    let richmond = events
        .iter()
        .find(|e| e.declaration.id().as_str() == "dc:local.sheffield.richmond.2021-05-06")
        .expect("Richmond");
    let (title, text) = announced(&board, richmond);
    // Two seats, both Labour: 1,828 and 1,378; the best loser, Con, 995: a majority of
    // 1,378 − 995 = 383.
    assert_eq!(title, "Richmond: Lab 2 elected");
    assert!(
        text.contains("2 elected: David Charles Barker (Lab) 1,828; Mike Drabble (Lab) 1,378."),
        "{text}"
    );
    assert!(text.contains("Majority 383 "), "{text}");
    // Sheffield's tally counts each seat of each ward. The document lists only the
    // ballots with results, so the council's size stays unknown (and no milestone of a
    // night claims every seat has declared).
    let sheffield = board.read().tally(&herald::core::board::Scope::Election(
        "local.sheffield.2021-05-06".into(),
    ));
    let seats: u32 = sheffield.parties.iter().map(|p| p.seats).sum();
    assert_eq!(seats, sheffield.declared);
    assert!(
        sheffield.declared > 28,
        "more seats than wards: {}",
        sheffield.declared
    );
    assert!(
        store.milestones().await.unwrap().is_empty(),
        "no milestone of a night"
    );
}
