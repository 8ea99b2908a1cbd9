//! The watcher: polls a source, detects what changed against what the store holds, records
//! the events and their outbox rows in one transaction, updates the results board, and
//! wakes the sinks. A refused poll (a broken feed at 4 a.m.) leaves the last good state
//! standing, logs one line naming the cause, counts it, and backs off.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};

use crate::core::board::Board;
use crate::core::changes::{Latest, Refusal, detect};
use crate::core::milestones::{self, Fired, Turn};
use crate::core::model::{ConstituencyId, Election};
use crate::observe::metrics::{FeedCause, FigureLabel, KindLabel, Metrics};
use crate::sources::live::{Polled, PublishedTotals, Snapshot, Source};
use crate::store::{Recorded, Sinks, Store, StoreError, StoredEvent};

mod control;
mod follow;
pub mod report;

pub use control::Control;
use control::Request;

/// The night's results board, shared by the watcher (which writes it) and every front end
/// (which read it): a cloneable handle whose methods take the lock, so that no caller
/// handles the lock itself. A lock poisoned by a panicking reader is taken as it stands:
/// the board is plain data, whole after every one of its methods.
#[derive(Clone)]
pub struct SharedBoard {
    inner: Arc<RwLock<Board>>,
}

impl SharedBoard {
    pub fn new(board: Board) -> SharedBoard {
        SharedBoard {
            inner: Arc::new(RwLock::new(board)),
        }
    }

    /// The board to read (held briefly: never across an await).
    pub fn read(&self) -> RwLockReadGuard<'_, Board> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The board to change (the watcher's, and an operator's retraction).
    pub fn write(&self) -> RwLockWriteGuard<'_, Board> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Wakes the sinks when events are recorded: a counter each sink watches for changes.
pub type Wake = Arc<watch::Sender<u64>>;

/// A new wake signal with no waiters yet.
pub fn wake() -> Wake {
    Arc::new(watch::channel(0).0)
}

/// How the watcher polls.
#[derive(Clone, Debug)]
pub struct WatchConfig {
    /// Time between polls (2 s by default).
    pub interval: Duration,
    /// The longest wait between polls after repeated failures.
    pub max_backoff: Duration,
    /// Which sinks events are queued for.
    pub sinks: Sinks,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            interval: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
            sinks: Sinks::default(),
        }
    }
}

/// What the watcher last saw, for `/about` and `/healthz`.
#[derive(Clone, Debug, Default)]
pub struct WatchStatus {
    pub source: String,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Consecutive failed polls.
    pub failures: u32,
    pub events: u64,
    /// Declarations herald holds that the feed's latest complete snapshot lacks (by name):
    /// reported, never announced as withdrawn.
    pub missing: Vec<String>,
    /// Why the last poll's changes could not be recorded, until one is.
    pub store_error: Option<String>,
    /// A refusal that no later poll of this feed can cure (the feed is another election
    /// than the store's).
    pub fatal: Option<String>,
    /// Another process polls the feed (a store several processes share); this one follows
    /// what it records.
    pub following: bool,
}

/// The outcome of one poll.
#[derive(Debug, PartialEq)]
pub enum Step {
    Unchanged,
    /// Events recorded (possibly none, if the snapshot only repeated known figures).
    Recorded(Vec<StoredEvent>),
    /// The poll was refused; the last good state stands.
    Refused(FeedCause),
    /// The store could not record what the poll brought; the source is asked again next
    /// time, and nothing is announced.
    Unrecorded(String),
}

pub struct Watcher {
    source: Box<dyn Source>,
    store: Store,
    board: SharedBoard,
    metrics: Metrics,
    config: WatchConfig,
    wake: Wake,
    status: watch::Sender<WatchStatus>,
    /// Ignored declarations already logged, so a stale one is logged once, not every poll.
    logged_ignored: BTreeSet<(ConstituencyId, String)>,
    /// Files or messages the source skipped, each logged once.
    logged_skipped: BTreeSet<String>,
    last_logged_error: Option<String>,
    last_totals: Vec<PublishedTotals>,
    requests: mpsc::Receiver<Request>,
    /// The elections the store holds, once checked.
    held: Vec<Election>,
    /// Milestones fired so far (the night replayed at start).
    fired: Fired,
    /// Milestones reached or undone but not recorded yet (before a restart, or when the
    /// store refused them): recorded at the next step.
    missed: Vec<Turn>,
    /// Whether this process polls the feed (always, on a store that is one process's).
    leading: bool,
    /// The last event on the board.
    synced: i64,
}

/// Rebuilds the board from the store's events, in the order they happened (with the
/// elections the store holds, side by side where there are several, and the race as it
/// stood after each event). Returns how many, and the last one's place (0 for none): a
/// process that follows another's recording goes on from there.
pub async fn restore_board(store: &Store, board: &SharedBoard) -> Result<(usize, i64), StoreError> {
    let events = store.events().await?;
    let elections = store.elections().await?;
    let mut b = board.write();
    if elections.len() > 1 {
        b.set_elections(elections);
    }
    for e in &events {
        b.apply(e.declaration.clone());
        b.note_race(e.seq, &e.declaration.result.constituency);
    }
    Ok((events.len(), events.last().map_or(0, |e| e.seq)))
}

impl Watcher {
    /// Builds a watcher over the night the store holds, so that a restart announces nothing
    /// twice. The board is the one record of each seat's latest declaration that each feed
    /// state is compared with: an empty board is first rebuilt from the store's events.
    pub async fn new(
        source: Box<dyn Source>,
        store: Store,
        board: SharedBoard,
        metrics: Metrics,
        config: WatchConfig,
        wake: Wake,
    ) -> Result<(Watcher, watch::Receiver<WatchStatus>, Control), StoreError> {
        // The board is followed on from the last event it holds (never from a later one read
        // after: another process may record between the two reads).
        let synced = if board.read().all_latest().next().is_none() {
            restore_board(&store, &board).await?.1
        } else {
            store.events().await?.last().map_or(0, |e| e.seq)
        };
        let (fired, missed) = replay_milestones(&store, &board).await?;
        let (tx, requests) = mpsc::channel(16);
        let (status, rx) = watch::channel(WatchStatus {
            source: source.describe(),
            ..WatchStatus::default()
        });
        let leading = !store.is_shared();
        Ok((
            Watcher {
                source,
                store,
                board,
                metrics,
                config,
                wake,
                status,
                logged_ignored: BTreeSet::new(),
                logged_skipped: BTreeSet::new(),
                last_logged_error: None,
                last_totals: Vec::new(),
                requests,
                held: Vec::new(),
                fired,
                missed,
                leading,
                synced,
            },
            rx,
            Control { tx },
        ))
    }
}

/// The night so far replayed from the store, so that a milestone reached or undone but not
/// recorded (herald stopped between an event and its milestone) is recorded now, the lead
/// and the records are followed from where they stand, and nothing recorded is announced
/// twice: the milestones fired, and those to record.
async fn replay_milestones(
    store: &Store,
    board: &SharedBoard,
) -> Result<(Fired, Vec<Turn>), StoreError> {
    {
        let mut fired = Fired::default();
        let missed = {
            let events = store.events().await?;
            let mut replay = {
                let b = board.read();
                let mut r = Board::new(b.election.clone(), b.parties.clone(), b.baseline.clone());
                r.set_elections(b.elections().to_vec());
                r.notable = b.notable.clone();
                r.set_aliases(b.aliases().clone());
                r
            };
            let mut why_undone = BTreeMap::new();
            for e in &events {
                replay.apply(e.declaration.clone());
                for turn in milestones::turns(&replay, e.declaration.id(), &mut fired) {
                    if let Turn::Undone(m, why) = turn {
                        why_undone.insert(m.key(), (m, why));
                    }
                }
            }
            let recorded = store.milestones().await?;
            let stored: BTreeMap<String, bool> = recorded
                .iter()
                .map(|m| (m.milestone.key(), m.standing))
                .collect();
            let mut missed: Vec<Turn> = fired
                .standing
                .iter()
                .filter(|m| stored.get(&m.key()) != Some(&true))
                .cloned()
                .map(Turn::Reached)
                .collect();
            missed.extend(
                why_undone
                    .into_values()
                    .filter(|(m, _)| {
                        fired.undone.contains(&m.key()) && stored.get(&m.key()) == Some(&true)
                    })
                    .map(|(m, why)| Turn::Undone(m, why)),
            );
            // Recorded milestones standing that the replay did not reach (a list that
            // changed since, such as the notable names) stay standing: never posted again,
            // and undone if a correction undoes them.
            for m in recorded.iter().filter(|m| m.standing) {
                let key = m.milestone.key();
                if !fired.keys.contains(&key) && !fired.undone.contains(&key) {
                    fired.note(&m.milestone);
                }
            }
            missed
        };
        Ok((fired, missed))
    }
}

impl Watcher {
    fn refuse(&mut self, cause: FeedCause, message: &str) -> Step {
        self.metrics.feed_error(cause);
        if self.last_logged_error.as_deref() != Some(message) {
            tracing::warn!(cause = ?cause, "feed refused, keeping the last good state: {message}");
            self.last_logged_error = Some(message.to_string());
        }
        self.status.send_modify(|s| {
            s.failures += 1;
            s.last_error = Some(message.to_string());
        });
        Step::Refused(cause)
    }

    fn unrecorded(&mut self, message: String) -> Step {
        self.metrics.unrecorded_polls.inc();
        if self.last_logged_error.as_deref() != Some(message.as_str()) {
            tracing::error!("could not record the feed's changes, will poll again: {message}");
            self.last_logged_error = Some(message.clone());
        }
        self.status.send_modify(|s| {
            s.failures += 1;
            s.store_error = Some(message.clone());
        });
        Step::Unrecorded(message)
    }

    fn succeeded(&mut self) {
        self.metrics.polled_ok();
        if self.last_logged_error.take().is_some() {
            tracing::info!("feed recovered");
        }
        self.status.send_modify(|s| {
            s.failures = 0;
            s.last_success = Some(Utc::now());
            s.last_error = None;
            s.store_error = None;
        });
    }

    /// Polls once and records what changed.
    pub async fn step(&mut self) -> Step {
        // Milestones reached before a restart but not recorded then: recorded first.
        if !self.missed.is_empty() {
            let missed = std::mem::take(&mut self.missed);
            self.record_milestones(missed).await;
        }
        let started = Instant::now();
        self.metrics.polls.inc();
        let polled = self.source.poll().await;
        self.metrics
            .poll_seconds
            .observe(started.elapsed().as_secs_f64());
        match polled {
            Err(e) => self.refuse(e.cause, &e.message),
            Ok(Polled::Unchanged) => {
                self.succeeded();
                Step::Unchanged
            }
            Ok(Polled::Changed(snapshot)) => self.apply(snapshot).await,
        }
    }

    /// Whether the feed's elections are those the store holds. The first a feed names are
    /// recorded as the store's; another election of the same night (polling days at most a
    /// day apart: a May night's councils and parliaments, a by-election the day after)
    /// joins them, side by side; one of another date is refused: a store left by one
    /// election is never mixed with the next.
    async fn check_elections(&mut self, elections: &[Election]) -> Result<(), Step> {
        let new: Vec<&Election> = elections
            .iter()
            .filter(|e| !self.held.iter().any(|h| h.id == e.id))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        let held = match self.store.elections().await {
            Ok(h) => h,
            Err(e) => return Err(self.unrecorded(e.to_string())),
        };
        for election in new {
            if held.iter().any(|h| h.id == election.id) {
                continue;
            }
            let recorded = match held.first() {
                Some(h) if (h.date - election.date).num_days().abs() > 1 => {
                    let message = format!(
                        "the feed is {} ({}), but the store holds {} ({}): run `herald store reset` on the store to start it afresh for this election, or give herald another store (`--store`, or `store.path`)",
                        election.name, election.id, h.name, h.id
                    );
                    self.status.send_modify(|s| s.fatal = Some(message.clone()));
                    return Err(self.refuse(FeedCause::wrong_election, &message));
                }
                Some(_) => self.store.hold_also(election).await,
                None => {
                    self.store
                        .hold_election(election, &self.source.describe())
                        .await
                }
            };
            if let Err(e) = recorded {
                return Err(self.unrecorded(e.to_string()));
            }
        }
        match self.store.elections().await {
            Ok(h) => self.held = h,
            Err(e) => return Err(self.unrecorded(e.to_string())),
        }
        Ok(())
    }

    async fn apply(&mut self, mut snapshot: Snapshot) -> Step {
        if !snapshot.elections.is_empty()
            && let Err(step) = self.check_elections(&snapshot.elections.clone()).await
        {
            return step;
        }
        {
            let mut board = self.board.write();
            board.set_elections(std::mem::take(&mut snapshot.elections));
            for d in &mut snapshot.declarations {
                board.resolve_constituency(d);
            }
            board.set_nominations(std::mem::take(&mut snapshot.nominations));
        }
        for skipped in &snapshot.skipped {
            if self.logged_skipped.insert(skipped.clone()) {
                tracing::warn!("{skipped}");
            }
        }
        let detected = {
            let board = self.board.read();
            detect(&*board, &snapshot.declarations, snapshot.complete)
        };
        let detection = match detected {
            Ok(d) => d,
            Err(refusal @ Refusal::OlderRevisions(_)) => {
                return self.refuse(FeedCause::back_in_time, &refusal.to_string());
            }
        };
        if snapshot.complete {
            self.report_missing(&detection.missing);
        }
        for ignored in detection.ignored {
            if self
                .logged_ignored
                .insert((ignored.constituency.clone(), ignored.reason.clone()))
            {
                self.metrics.ignored.inc();
                tracing::info!(constituency = %ignored.constituency, "ignored: {}", ignored.reason);
            }
        }
        let gains = self.gains(&detection.changes);
        let recorded = match self
            .store
            .record(&detection.changes, &gains, self.config.sinks)
            .await
        {
            Ok(recorded) => recorded,
            Err(e) => {
                // Nothing was recorded, and the poll is not consumed: the source returns
                // the same changes next time.
                return self.unrecorded(e.to_string());
            }
        };
        self.source.commit();
        self.succeeded();
        let milestones = self.publish(&recorded);
        self.record_milestones(milestones).await;
        if self.last_totals != snapshot.totals {
            let board = self.board.read();
            for totals in &snapshot.totals {
                for problem in report::cross_check(&board, totals) {
                    tracing::warn!("{problem}");
                }
            }
            drop(board);
            self.last_totals = snapshot.totals;
        }
        Step::Recorded(recorded.events)
    }

    /// Which changes are gains, as the board computes them (for subscriptions to gains).
    fn gains(&self, changes: &[crate::core::changes::Change]) -> Vec<bool> {
        let board = self.board.read();
        changes
            .iter()
            .map(|c| {
                c.declaration.status != crate::core::model::DeclarationStatus::Withdrawn
                    && board.compute(&c.declaration).is_gain()
            })
            .collect()
    }

    /// Records the milestones the events reached or undid, in order, and wakes the sinks.
    /// Those that cannot be recorded are tried again at the next step.
    async fn record_milestones(&mut self, turns: Vec<Turn>) {
        // Turns kept from a failed attempt go first: their order is the night's.
        let mut all = std::mem::take(&mut self.missed);
        all.extend(turns);
        let turns = all;
        if turns.is_empty() {
            return;
        }
        let mut changed = false;
        let mut rest = turns.as_slice();
        while let Some(first) = rest.first() {
            // Runs of the same kind, in one transaction each.
            let reached = matches!(first, Turn::Reached(_));
            let n = rest
                .iter()
                .take_while(|t| matches!(t, Turn::Reached(_)) == reached)
                .count();
            let (run, after) = rest.split_at(n);
            let result = if reached {
                let ms: Vec<_> = run
                    .iter()
                    .filter_map(|t| match t {
                        Turn::Reached(m) => Some(m.clone()),
                        Turn::Undone(..) => None,
                    })
                    .collect();
                self.store
                    .record_milestones(&ms, self.config.sinks)
                    .await
                    .map(|done| done.iter().map(|m| m.key()).collect::<Vec<_>>())
            } else {
                let ms: Vec<_> = run
                    .iter()
                    .filter_map(|t| match t {
                        Turn::Undone(m, why) => Some((m.clone(), why.clone())),
                        Turn::Reached(_) => None,
                    })
                    .collect();
                self.store.undo_milestones(&ms, self.config.sinks).await
            };
            match result {
                Ok(keys) => {
                    for key in &keys {
                        if reached {
                            tracing::info!(milestone = %key, "milestone");
                        } else {
                            tracing::warn!(milestone = %key, "milestone undone by a correction");
                        }
                    }
                    changed |= !keys.is_empty();
                }
                Err(e) => {
                    // Kept to record at the next step (the store takes each turn once).
                    tracing::warn!("milestones not recorded, tried again next poll: {e}");
                    self.missed.extend(rest.iter().cloned());
                    break;
                }
            }
            rest = after;
        }
        if changed {
            self.wake.send_modify(|n| *n += 1);
        }
    }

    /// Puts recorded events on the board and in the log, counts what was queued, and wakes
    /// the sinks. Returns the milestones the events reached or undid (not yet recorded).
    fn publish(&mut self, recorded: &Recorded) -> Vec<Turn> {
        let mut milestones = Vec::new();
        for &(sink, n) in &recorded.queued {
            self.metrics
                .queued
                .get_or_create(&Metrics::sink(sink))
                .inc_by(n);
        }
        let events = &recorded.events;
        // A follower's own events (an operator's) are read again with the leader's, in order.
        if self.leading {
            self.synced = events
                .last()
                .map_or(self.synced, |e| e.seq.max(self.synced));
        }
        let mut board = self.board.write();
        for e in events {
            board.apply(e.declaration.clone());
            board.note_race(e.seq, &e.declaration.result.constituency);
            milestones.extend(milestones::turns(
                &board,
                e.declaration.id(),
                &mut self.fired,
            ));
            // A council's or a list's figures the source states otherwise: logged, counted,
            // the result announced on herald's figures.
            if let Some(s) = board
                .get(e.declaration.id())
                .and_then(|x| x.figures.seats.as_deref())
            {
                let (figure, problems) = s.problems();
                for p in problems {
                    self.metrics
                        .source_disagreements
                        .get_or_create(&FigureLabel {
                            figure: figure.to_string(),
                        })
                        .inc();
                    tracing::warn!(
                        constituency = %e.declaration.id(),
                        name = %e.declaration.result.constituency.name,
                        "the source's figures disagree (herald's stand): {p}"
                    );
                }
            }
            for d in board.disagreements(e.declaration.id()) {
                self.metrics
                    .source_disagreements
                    .get_or_create(&FigureLabel {
                        figure: d.figure.as_str().to_string(),
                    })
                    .inc();
                tracing::warn!(
                    constituency = %e.declaration.id(),
                    name = %e.declaration.result.constituency.name,
                    "the source's figures differ from herald's (herald's stand): {d}"
                );
            }
            self.metrics
                .declarations_seen
                .get_or_create(&KindLabel {
                    kind: e.kind.as_str().to_string(),
                })
                .inc();
            tracing::info!(
                constituency = %e.declaration.id(),
                name = %e.declaration.result.constituency.name,
                revision = e.declaration.revision,
                version = e.version,
                "{}",
                e.kind.as_str()
            );
        }
        drop(board);
        if !events.is_empty() {
            let n = events.len() as u64;
            self.status.send_modify(|s| s.events += n);
            self.wake.send_modify(|n| *n += 1);
        }
        milestones
    }

    /// The wait before the next poll: the interval, or after failures an exponential
    /// backoff with ±25% jitter, capped.
    pub fn next_delay(&self) -> Duration {
        let failures = self.status.borrow().failures;
        if failures == 0 {
            return self.config.interval;
        }
        let factor = 2u32.saturating_pow(failures.min(16));
        let base = self
            .config
            .interval
            .saturating_mul(factor)
            .min(self.config.max_backoff);
        let jitter: f64 = rand::random_range(0.75..1.25);
        base.mul_f64(jitter).min(self.config.max_backoff)
    }

    /// Polls until `shutdown` turns true, carrying out operators' requests between polls.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!("watching {}", self.source.describe());
        loop {
            if *shutdown.borrow() {
                break;
            }
            if self.lead().await {
                self.step().await;
            } else if let Err(e) = self.follow().await {
                tracing::warn!("cannot follow the store's events: {e}");
            }
            let wake_at = tokio::time::Instant::now() + self.next_delay();
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(wake_at) => break,
                    _ = shutdown.changed() => break,
                    Some(request) = self.requests.recv() => self.serve(request).await,
                }
            }
        }
    }
}
