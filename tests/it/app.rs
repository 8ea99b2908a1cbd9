//! [`TestApp`]: herald's whole pipeline (feed, watcher, store, sinks) started in this
//! process on loopback port 0, against the rehearsal feed server and, when a test asks,
//! the fake Discord, in a temporary folder of its own. A test states only what it is about
//! (the election, the pace, the fake's limits, the sinks); everything else has one default
//! here. zero-to-production's `spawn_app` is the model.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use fake_discord::{FakeConfig, FakeDiscord};
use herald::app::{DiscordOptions, Pipeline, PipelineConfig};
use herald::config::{Registration, Secret};
use herald::core::model::{Baseline, ConstituencyId, Declaration, Election};
use herald::core::parties::PartyRegistry;
use herald::demo;
use herald::discord::bot::Connection;
use herald::discord::dispatch::DispatchConfig;
use herald::discord::replies::Presentation;
use herald::observe::Metrics;
use herald::rehearsal::{self, Feed, Speed};
use herald::sinks::console::{ConsoleStyle, Output};
use herald::sources::Loaded;
use herald::sources::formats::herald_json;
use herald::sources::location::Location;
use herald::sources::options::SourceOptions;
use herald::store::Store;

/// How long the fake Discord may take to see the bot connect.
const READY: Duration = Duration::from_secs(10);

/// A running herald and what it talks to. Stop it with [`TestApp::stop`].
pub struct TestApp {
    pub pipeline: Pipeline,
    /// The rehearsal server the watcher polls.
    pub feed: rehearsal::Running,
    /// The fake Discord, when the app was spawned with [`Spawn::discord`].
    pub fake: Option<FakeDiscord>,
    /// The store's location (a file, or a PostgreSQL URL).
    pub store: String,
    /// The console sink's file, when spawned with [`Spawn::console`].
    pub console: Option<PathBuf>,
    /// Every channel subscribed by [`Spawn::subscribe_every_channel`], guild by guild.
    pub subscribed: Vec<u64>,
    /// The temporary folder holding the store and the console file.
    dir: tempfile::TempDir,
}

/// What to start: the defaults are the demo election with an empty feed (seats are
/// declared through [`TestApp::declare`]), one declaration a millisecond, a poll every
/// 25 ms, no sinks.
pub struct Spawn {
    election: Election,
    declarations: Vec<Declaration>,
    baseline: Baseline,
    parties: PartyRegistry,
    step: Duration,
    edits: bool,
    interval: Duration,
    discord: Option<FakeConfig>,
    dispatch: DispatchConfig,
    register: bool,
    subscribe: bool,
    console: bool,
    baseline_label: String,
    /// Whether herald starts knowing the election (as `herald run` with a results file
    /// does) or learns it from the feed's first answer.
    known: bool,
    /// The store's location, when not a file in the app's folder.
    store: Option<String>,
}

impl TestApp {
    /// The demo election (Hartlepool against 2019) with nothing declared yet.
    pub fn demo() -> Spawn {
        let parties = demo::parties();
        let (results, baseline) = demo::load(&parties);
        Spawn::new(
            results.election,
            Vec::new(),
            baseline.into_baseline(),
            parties,
            "2019",
        )
        .edits(true)
        .known()
    }

    /// A whole night: `declarations` revealed one every [`Spawn::step`], in the order of
    /// their declaration times, against `baseline`.
    pub fn night(
        election: Election,
        declarations: Vec<Declaration>,
        baseline: Baseline,
        baseline_label: &str,
    ) -> Spawn {
        Spawn::new(
            election,
            declarations,
            baseline,
            demo::parties(),
            baseline_label,
        )
    }

    /// The fake Discord; panics where the app was spawned without one.
    pub fn discord(&self) -> &FakeDiscord {
        self.fake
            .as_ref()
            .expect("the app was spawned with the fake Discord")
    }

    /// Declares (or re-declares) `d` through the rehearsal server's edits.
    pub async fn declare(&self, d: &Declaration) {
        let url = format!("http://{}/declarations/{}", self.feed.addr, d.id());
        let r = reqwest::Client::new()
            .put(url)
            .body(serde_json::to_string(&herald_json::declaration_doc(d)).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    }

    /// Withdraws seat `id` from the feed (`DELETE /declarations/ID`).
    pub async fn withdraw(&self, id: &ConstituencyId) {
        let url = format!("http://{}/declarations/{id}", self.feed.addr);
        let r = reqwest::Client::new().delete(url).send().await.unwrap();
        assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    }

    /// The console sink's output so far.
    pub fn printed(&self) -> String {
        let path = self
            .console
            .as_ref()
            .expect("the app was spawned with a console sink");
        std::fs::read_to_string(path).unwrap_or_default()
    }

    /// Stops herald, then the feed. Returns the app's folder, which holds the store and
    /// the console file until it is dropped.
    pub async fn stop(self) -> tempfile::TempDir {
        self.pipeline.stop().await;
        self.feed.stop().await;
        self.dir
    }
}

impl Spawn {
    fn new(
        election: Election,
        declarations: Vec<Declaration>,
        baseline: Baseline,
        parties: PartyRegistry,
        baseline_label: &str,
    ) -> Self {
        Spawn {
            election,
            declarations,
            baseline,
            parties,
            step: Duration::from_millis(1),
            edits: false,
            interval: Duration::from_millis(25),
            discord: None,
            dispatch: DispatchConfig::default(),
            register: true,
            subscribe: false,
            console: false,
            baseline_label: baseline_label.into(),
            known: false,
            store: None,
        }
    }

    /// Keep the store at `location` (a PostgreSQL URL: [`support::store_location`]).
    pub fn store(mut self, location: String) -> Self {
        self.store = Some(location);
        self
    }

    /// The election's size (milestones are reached with fewer declarations).
    pub fn seats(mut self, n: u32) -> Self {
        self.election.total_seats = n;
        self
    }

    /// One declaration revealed every `step`.
    pub fn step(mut self, step: Duration) -> Self {
        self.step = step;
        self
    }

    /// Whether the feed takes edits (`PUT /declarations/ID`) mid-night.
    pub fn edits(mut self, on: bool) -> Self {
        self.edits = on;
        self
    }

    /// How often herald polls the feed.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// herald starts knowing the election, before the feed's first answer.
    pub fn known(mut self) -> Self {
        self.known = true;
        self
    }

    /// Announce into a fake Discord configured by `fake`; the bot connects before
    /// [`Spawn::start`] returns.
    pub fn discord(mut self, fake: FakeConfig) -> Self {
        self.discord = Some(fake);
        self
    }

    pub fn dispatch(mut self, dispatch: DispatchConfig) -> Self {
        self.dispatch = dispatch;
        self
    }

    /// Whether the bot registers its slash commands in the first guild (on by default;
    /// off for nights that only announce).
    pub fn register_commands(mut self, on: bool) -> Self {
        self.register = on;
        self
    }

    /// Subscribe every channel of the fake Discord to everything before herald starts.
    pub fn subscribe_every_channel(mut self) -> Self {
        self.subscribe = true;
        self
    }

    /// Print announcements to a file in the app's folder ([`TestApp::printed`]).
    pub fn console(mut self) -> Self {
        self.console = true;
        self
    }

    pub async fn start(self) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let store = self
            .store
            .clone()
            .unwrap_or_else(|| dir.path().join("herald.db").display().to_string());
        let fake = match self.discord {
            Some(config) => Some(FakeDiscord::start(config).await),
            None => None,
        };
        let subscribed = match (self.subscribe, &fake) {
            (true, Some(fake)) => subscribe_every_channel(&store, fake).await,
            _ => Vec::new(),
        };
        let feed = serve(
            self.election.clone(),
            self.declarations,
            self.step,
            self.edits,
            &self.parties,
        )
        .await;
        let console = self.console.then(|| dir.path().join("console.txt"));
        let discord = fake.as_ref().map(|fake| DiscordOptions {
            connection: Connection {
                token: Secret::new(fake.token()),
                api_base: Some(fake.api_base()),
            },
            register: if self.register {
                Registration::Guild(fake.config().guilds[0].id)
            } else {
                Registration::Off
            },
            dispatch: self.dispatch,
            presentation: Presentation {
                tz: chrono_tz::Europe::London,
                source: "rehearsal".into(),
                baseline_label: self.baseline_label.clone(),
            },
            shards: herald::discord::shards::Shards::default(),
        });
        let config = PipelineConfig {
            location: Location::Url(feed.url()),
            source: SourceOptions::default(),
            interval: self.interval,
            store: store.clone(),
            console: console.clone().map(|path| {
                (
                    Output::File(path),
                    ConsoleStyle {
                        tz: chrono_tz::Europe::London,
                        source: "rehearsal".into(),
                        baseline_label: self.baseline_label.clone(),
                    },
                )
            }),
            discord,
        };
        let pipeline = Pipeline::start(
            config,
            self.parties,
            self.baseline,
            self.known.then_some(self.election),
            Metrics::default(),
        )
        .await
        .unwrap();
        if let Some(fake) = &fake {
            assert!(
                fake.wait_ready(READY).await,
                "the bot connects to the fake Discord's gateway"
            );
        }
        TestApp {
            pipeline,
            feed,
            fake,
            store,
            console,
            subscribed,
            dir,
        }
    }
}

/// The rehearsal server on loopback port 0, revealing `results` one declaration every
/// `step`, in declaration order; `edits`: it takes `PUT /declarations/ID` mid-night.
pub async fn feed(results: &Loaded, step: Duration, edits: bool) -> rehearsal::Running {
    serve(
        results.election.clone(),
        results.declarations.clone(),
        step,
        edits,
        &demo::parties(),
    )
    .await
}

async fn serve(
    election: Election,
    declarations: Vec<Declaration>,
    step: Duration,
    edits: bool,
    parties: &PartyRegistry,
) -> rehearsal::Running {
    rehearsal::spawn(
        Arc::new(Feed::new(
            election,
            declarations,
            None,
            Speed::Max { step },
            edits,
            Arc::new(parties.clone()),
        )),
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .unwrap()
}

/// Subscribes every channel of `fake` to everything in the store at `store`; the channels,
/// guild by guild.
pub async fn subscribe_every_channel(store: &str, fake: &FakeDiscord) -> Vec<u64> {
    let s = Store::open(store).await.unwrap();
    let mut channels = Vec::new();
    for g in &fake.config().guilds {
        for c in &g.channels {
            crate::support::subscribe_to_everything(&s, &c.to_string(), &g.id.to_string()).await;
            channels.push(*c);
        }
    }
    // Its lock is let go now, for herald to take.
    s.close().await;
    channels
}
