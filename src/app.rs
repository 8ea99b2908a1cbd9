//! Wiring: runs herald's long-lived parts together over one store and one results board:
//! the watcher polling a source, and the sinks draining the outbox. `herald watch`, `herald
//! run` and the demo all start a [`Pipeline`].

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::core::board::Board;
use crate::core::model::{Baseline, DeclarationStatus, Election};
use crate::core::parties::PartyRegistry;
use crate::observe::Metrics;
use crate::sinks::console::{ConsoleSink, ConsoleStyle, Output};
use crate::sources::live::SourceError;
use crate::sources::location::{Location, open};
use crate::sources::options::SourceOptions;
use crate::store::{SinkKind, Sinks, Store, StoreError};
use crate::watch::{Control, SharedBoard, Wake, WatchConfig, WatchStatus, Watcher, wake};

/// Why the pipeline could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("source: {0}")]
    Source(#[from] SourceError),
    #[error("discord: {0}")]
    Discord(String),
    /// The feed was refused for good (another election than the store holds).
    #[error("{0}")]
    Refused(String),
}

/// The Discord side: the bot and the announcement dispatcher.
#[derive(Clone)]
pub struct DiscordOptions {
    pub connection: crate::discord::bot::Connection,
    pub register: crate::config::Registration,
    pub dispatch: crate::discord::dispatch::DispatchConfig,
    pub presentation: crate::discord::replies::Presentation,
    /// The gateway shards this process runs (their share of the global rate limit is the
    /// dispatcher's `global_per_second`).
    pub shards: crate::discord::shards::Shards,
}

/// What to run.
#[derive(Clone)]
pub struct PipelineConfig {
    pub location: Location,
    pub source: SourceOptions,
    pub interval: Duration,
    /// The store file (`:memory:` for a throwaway one).
    pub store: String,
    /// Print announcements, and where.
    pub console: Option<(Output, ConsoleStyle)>,
    /// Run the Discord bot and dispatcher.
    pub discord: Option<DiscordOptions>,
}

/// A running watcher with its sinks.
pub struct Pipeline {
    pub board: SharedBoard,
    pub store: Store,
    pub metrics: Metrics,
    pub wake: Wake,
    pub status: watch::Receiver<WatchStatus>,
    /// Operators' requests to the watcher (`/retract`).
    pub control: Control,
    /// The bot, when Discord is configured.
    pub bot: Option<crate::discord::bot::Bot>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// A stand-in until the feed names its election.
pub fn placeholder_election(baseline: &Baseline) -> Election {
    Election {
        id: Election::PENDING.to_string(),
        name: "Election".to_string(),
        date: chrono::Utc::now().date_naive(),
        total_seats: if baseline.is_empty() {
            650
        } else {
            baseline.len() as u32
        },
    }
}

impl Pipeline {
    /// Opens the store, rebuilds the board from it, and starts the watcher and sinks.
    pub async fn start(
        config: PipelineConfig,
        parties: PartyRegistry,
        baseline: Baseline,
        election: Option<Election>,
        metrics: Metrics,
    ) -> Result<Pipeline, StartError> {
        Self::start_with(config, parties, baseline, election, metrics, |_| {}).await
    }

    /// [`Pipeline::start`], with `setup` applied to the new board before anything reads it
    /// (the aliases and notable names of the night, which the replay at start needs too).
    pub async fn start_with(
        config: PipelineConfig,
        parties: PartyRegistry,
        baseline: Baseline,
        election: Option<Election>,
        metrics: Metrics,
        setup: impl FnOnce(&mut Board),
    ) -> Result<Pipeline, StartError> {
        let store = Store::open(&config.store).await?;
        // Until the feed names its election: the one given, else the one the store holds.
        let election = match election {
            Some(e) => e,
            None => store
                .election()
                .await?
                .unwrap_or_else(|| placeholder_election(&baseline)),
        };
        let parties_arc = Arc::new(parties.clone());
        let mut night = Board::new(election, parties, baseline);
        setup(&mut night);
        let board: SharedBoard = SharedBoard::new(night);
        let source = open(&config.location, &config.source, parties_arc)?;
        let wake = wake();
        let sinks = Sinks::NONE
            .with(SinkKind::Console, config.console.is_some())
            .with(SinkKind::Discord, config.discord.is_some());
        let (watcher, status, control) = Watcher::new(
            source,
            store.clone(),
            board.clone(),
            metrics.clone(),
            WatchConfig {
                interval: config.interval,
                sinks,
                ..WatchConfig::default()
            },
            wake.clone(),
        )
        .await?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        if let Some((output, style)) = config.console {
            let sink =
                ConsoleSink::new(store.clone(), board.clone(), output, style, metrics.clone());
            tasks.push(tokio::spawn(sink.run(wake.clone(), shutdown_rx.clone())));
        }
        let mut bot = None;
        if let Some(d) = config.discord {
            // A shard another process runs (over the same store) is refused before any
            // connection to Discord.
            store.take_shards(&d.shards.ids()).await?;
            let health = crate::discord::health::DiscordHealth::new(metrics.clone(), d.shards);
            let client = crate::discord::rest::client(Duration::from_secs(15))
                .map_err(|e| StartError::Discord(e.to_string()))?;
            let rest = crate::discord::rest::Rest::new(
                d.connection.api_base.as_deref(),
                d.connection.token.clone(),
                client.clone(),
                health.clone(),
            );
            let chart: crate::discord::dispatch::ChartFn =
                Arc::new(crate::discord::pictures::announcement_chart);
            let charts = d.dispatch.charts;
            let dispatcher = crate::discord::dispatch::Dispatcher::new(
                store.clone(),
                board.clone(),
                rest,
                d.presentation.clone(),
                metrics.clone(),
                d.dispatch.clone(),
                Some(chart),
            );
            tasks.push(tokio::spawn(
                dispatcher.run(wake.clone(), shutdown_rx.clone()),
            ));
            let data = crate::discord::commands::Data {
                board: board.clone(),
                store: store.clone(),
                presentation: d.presentation.clone(),
                status: status.clone(),
                control: control.clone(),
                charts,
                metrics: metrics.clone(),
            };
            bot = Some(
                crate::discord::bot::Bot::start(
                    &d.connection,
                    client,
                    d.register.clone(),
                    data,
                    health,
                    d.shards,
                )
                .await
                .map_err(|e| StartError::Discord(e.to_string()))?,
            );
        }
        tasks.push(tokio::spawn(guard_store(
            store.clone(),
            config.interval,
            shutdown_rx.clone(),
        )));
        if store.is_shared() {
            tasks.push(tokio::spawn(seek_feed(
                store.clone(),
                config.interval,
                shutdown_rx.clone(),
            )));
        }
        tasks.push(tokio::spawn(watcher.run(shutdown_rx)));
        Ok(Pipeline {
            board,
            store,
            metrics,
            wake,
            status,
            control,
            bot,
            shutdown,
            tasks,
        })
    }

    /// How many seats are declared on the board, and out of how many.
    pub fn progress(&self) -> (u32, u32) {
        let b = self.board.read();
        let declared = b
            .entries()
            .filter(|e| e.declaration.status == DeclarationStatus::Declared)
            .count() as u32;
        (declared, b.election.total_seats)
    }

    /// Waits until every seat of the election is declared and the console has printed
    /// everything owed.
    pub async fn wait_complete(&self) -> Result<(), StartError> {
        loop {
            let (fatal, polled) = {
                let s = self.status.borrow();
                (s.fatal.clone(), s.last_success.is_some())
            };
            if let Some(fatal) = fatal {
                return Err(StartError::Refused(fatal));
            }
            // What the store held at start is not the feed: it must have answered once.
            if !polled {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            let (declared, total) = self.progress();
            if declared >= total && self.store.depth(SinkKind::Console).await? == 0 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the watcher and sinks (each finishes what it is doing).
    pub async fn stop(self) {
        // Within a few seconds whatever the gateway and the feed are doing: a container is
        // stopped with SIGTERM and killed soon after. Each part gets its share of the time,
        // then is abandoned; the store stays consistent, since every write is a transaction
        // and an unfinished one is rolled back.
        const BOT: Duration = Duration::from_millis(1500);
        const TASKS: Duration = Duration::from_secs(2);
        let _ = self.shutdown.send(true);
        if let Some(bot) = self.bot {
            bot.stop(BOT).await;
        }
        let deadline = tokio::time::Instant::now() + TASKS;
        for mut t in self.tasks {
            if tokio::time::timeout_at(deadline, &mut t).await.is_err() {
                t.abort();
                tracing::warn!("a task did not finish in time and was stopped");
            }
        }
        self.store.close().await;
    }
}

/// Where several processes share the store, waits for the feed's lock on its own, so that
/// when the process polling the feed ends another takes the lock at once (the server hands
/// it to the first in line), whatever its watcher is doing.
async fn seek_feed(store: Store, interval: Duration, mut shutdown: watch::Receiver<bool>) {
    /// How long one wait lasts (a wait abandoned at shutdown ends on the server by then).
    const WAIT: Duration = Duration::from_secs(5);
    let interval = interval.max(Duration::from_millis(100));
    loop {
        let pause = tokio::select! {
            r = store.wait_feed(WAIT) => match r {
                // Held: looked at again later (its connection is checked by the guard).
                Ok(true) => interval,
                Ok(false) => Duration::ZERO,
                Err(e) => {
                    tracing::debug!("the feed's lock: {e}");
                    interval
                }
            },
            _ = shutdown.changed() => return,
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Checks once a poll interval that the store is still the file herald opened and can be
/// written, so that a full disk, a read-only file system or a deleted store is noticed (and
/// announcing stops) within one interval, even while the feed is quiet.
async fn guard_store(store: Store, interval: Duration, mut shutdown: watch::Receiver<bool>) {
    let interval = interval.max(Duration::from_millis(100));
    loop {
        // A failure is noted by the store itself (see `Store::fault`) and logged once there.
        let _ = store.verify().await;
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => return,
        }
    }
}
