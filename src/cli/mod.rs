//! The `herald` command line: argument parsing and dispatch. Each subcommand lives in its
//! own module and returns a [`CliError`] that `main` prints in one line.

mod inputs;
mod live;
mod offline;
mod ops;
mod store;

pub use ops::{PERMISSIONS, invite_url_for};

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::sources::Format;

#[derive(Parser, Debug)]
#[command(name = "herald", version, about = "Election-night results for Discord", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Replay the bundled demo election and print each announcement (the default).
    Demo(DemoArgs),
    /// Show one constituency's result.
    Result(ResultArgs),
    /// Show the state of the parties.
    Seats(SeatsArgs),
    /// Compute every figure for a results file against a baseline.
    Compute(ComputeArgs),
    /// Draw a chart: a constituency's result, the seats (--seats) or the swing (--swing).
    Chart(ChartArgs),
    /// Watch a results source and announce each declaration (on the console).
    Watch(WatchArgs),
    /// Results feeds: serve a rehearsal of a recorded election night.
    #[command(subcommand)]
    Feed(FeedCommand),
    /// Run herald for real: watch the source and serve Discord (needs DISCORD_TOKEN).
    Run(ConfigArgs),
    /// Discord set-up: register the slash commands, print the invite URL.
    #[command(subcommand)]
    Discord(DiscordCommand),
    /// Configuration: check a config file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The store: what it holds, and starting it afresh for another election.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Ask a running herald whether it is healthy (exit 0 if so); for container health checks.
    Health {
        /// The health endpoint.
        #[arg(long, default_value = "http://127.0.0.1:9184/healthz")]
        url: String,
    },
}

#[derive(Args, Debug, Clone)]
pub struct ConfigArgs {
    /// Configuration file (default: config/herald.toml when it exists).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum DiscordCommand {
    /// Register the slash commands globally, or in one guild for fast iteration.
    Register {
        #[command(flatten)]
        config: ConfigArgs,
        /// Register in this guild only (immediate) instead of globally.
        #[arg(long)]
        guild: Option<u64>,
    },
    /// Print the URL that invites the bot with exactly the scopes and permissions it needs.
    InviteUrl {
        #[command(flatten)]
        config: ConfigArgs,
        /// The application id (default: discord.application_id from the config).
        #[arg(long)]
        application_id: Option<u64>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Validate a configuration and say precisely what is wrong.
    Check {
        #[command(flatten)]
        config: ConfigArgs,
        /// Do not require a Discord token (a watch-only set-up).
        #[arg(long)]
        no_discord: bool,
        /// Also ask Discord whom the token belongs to (needs the network).
        #[arg(long, conflicts_with = "no_discord")]
        online: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum StoreCommand {
    /// Show what a store holds: its election, declarations, pending announcements, channels.
    /// Safe while herald runs (read-only).
    Info(StoreArgs),
    /// Empty a store for another election (declarations, events, announcements); channel
    /// subscriptions are kept. Refused while a herald process uses the store.
    Reset {
        #[command(flatten)]
        store: StoreArgs,
        /// Do it (without this, says what would be removed).
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// The store file.
    #[arg(long, env = "HERALD_STORE", default_value = crate::config::keys::DEFAULT_STORE)]
    pub store: String,
}

#[derive(Subcommand, Debug)]
pub enum FeedCommand {
    /// Serve a herald JSON feed that grows as a recorded election unfolds.
    Serve(ServeArgs),
    /// Fetch a feed once, validate it, and print what herald would announce.
    Check(CheckArgs),
}

/// What results are compared with: the previous election, and the party registry.
#[derive(Args, Debug, Clone, Default)]
pub struct CompareArgs {
    /// Baseline (the previous election): a file, or an http(s) URL serving herald JSON
    /// (such as a rehearsal server's /baseline.json).
    #[arg(long)]
    pub baseline: Option<String>,
    /// Format of the baseline (default: herald-json for a URL, else that of the results).
    #[arg(long, value_enum)]
    pub baseline_format: Option<Format>,
    /// HoC constituency file of the baseline.
    #[arg(long)]
    pub baseline_constituencies: Option<PathBuf>,
    /// Party registry (default: the bundled config/parties.toml).
    #[arg(long)]
    pub parties: Option<PathBuf>,
    /// More names people type for constituencies, added to the bundled config/aliases.toml.
    #[arg(long)]
    pub aliases: Option<PathBuf>,
    /// Sitting members whose defeat is a milestone: a file, one name per line.
    #[arg(long)]
    pub notable: Option<PathBuf>,
    /// Where the results hold several elections (a folder of PA messages): follow this one
    /// only, by id (pa-s-2026-05-06) or name.
    #[arg(long)]
    pub election: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    /// The feed: an http(s) URL, a file, or a folder of per-declaration files.
    #[arg(long)]
    pub source: String,
    /// Format (default: told from the file or folder itself; herald-json for a URL).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// HoC constituency file, paired with a HoC candidate file.
    #[arg(long)]
    pub constituencies: Option<PathBuf>,
    #[command(flatten)]
    pub compare: CompareArgs,
    /// Display timezone.
    #[arg(long, default_value = "Europe/London")]
    pub tz: String,
    /// Compare with what this store holds (read-only): seats it holds that the feed lacks
    /// are reported missing, and a feed for another election is reported.
    #[arg(long)]
    pub store: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// How logs are written (to standard error).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Args, Debug, Clone)]
pub struct WatchArgs {
    /// The results source: an http(s) URL, a file, or a folder of per-declaration files.
    #[arg(long)]
    pub source: String,
    /// Format (default: told from the file or folder itself; herald-json for a URL).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// HoC constituency file, paired with a HoC candidate file source.
    #[arg(long)]
    pub constituencies: Option<PathBuf>,
    #[command(flatten)]
    pub compare: CompareArgs,
    /// The store (SQLite file); herald remembers what it announced there across restarts.
    #[arg(long, default_value = crate::config::keys::DEFAULT_STORE)]
    pub store: String,
    /// Time between polls.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub interval: std::time::Duration,
    /// Timeout of each feed request.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
    /// Largest feed body accepted, in bytes.
    #[arg(long, default_value_t = 32 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Print each announcement to standard output.
    #[arg(long)]
    pub console: bool,
    /// Append announcements to this file instead of standard output (implies --console).
    #[arg(long)]
    pub console_out: Option<PathBuf>,
    /// Display timezone for declaration times.
    #[arg(long, default_value = "Europe/London")]
    pub tz: String,
    /// Stop once every seat has declared and been announced.
    #[arg(long)]
    pub exit_when_complete: bool,
    /// Serve /healthz and /metrics on this address (port 0 picks a free one, logged).
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// The recorded results to replay.
    #[arg(long)]
    pub results: PathBuf,
    /// Format (default: told from the file or folder itself; herald-json for a URL).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// HoC constituency file, paired with a HoC candidate file.
    #[arg(long)]
    pub constituencies: Option<PathBuf>,
    #[command(flatten)]
    pub compare: CompareArgs,
    /// N times real time, or `max` (one declaration every --step).
    #[arg(long, default_value = "max")]
    pub speed: String,
    /// At max speed, the time between declarations.
    #[arg(long, default_value = "10ms", value_parser = humantime::parse_duration)]
    pub step: std::time::Duration,
    /// Port to listen on (0 picks a free one, printed at start).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Accept PUT/DELETE /declarations/{id} to inject corrections and retractions.
    #[arg(long)]
    pub allow_edits: bool,
}

#[derive(Args, Debug, Default)]
pub struct DemoArgs {
    /// Display timezone for declaration times.
    #[arg(long, default_value = "Europe/London")]
    pub tz: String,
}

/// Where results come from; without `--results`, the bundled demo.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Results file (default: the bundled demo election).
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Format (default: told from the file or folder itself; herald-json for a URL).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// HoC constituency file, paired with a HoC candidate file.
    #[arg(long)]
    pub constituencies: Option<PathBuf>,
    #[command(flatten)]
    pub compare: CompareArgs,
    /// Display timezone for declaration times.
    #[arg(long, default_value = "Europe/London")]
    pub tz: String,
}

#[derive(Args, Debug)]
pub struct ResultArgs {
    /// Constituency name (typos and missing accents are forgiven).
    pub name: String,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Args, Debug)]
pub struct ChartArgs {
    /// Constituency whose result to draw.
    #[arg(required_unless_present_any = ["seats", "swing"], conflicts_with_all = ["seats", "swing"])]
    pub name: Option<String>,
    /// Draw the seats (a parliament arc) instead.
    #[arg(long, conflicts_with = "swing")]
    pub seats: bool,
    /// Draw the national swing (a swingometer) instead.
    #[arg(long)]
    pub swing: bool,
    /// Where to write the PNG.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Args, Debug)]
pub struct SeatsArgs {
    /// Print the tally as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Args, Debug)]
pub struct ComputeArgs {
    /// Format (default: told from the file or folder itself; herald-json for a URL).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Results file.
    #[arg(long)]
    pub results: PathBuf,
    /// HoC constituency file, paired with a HoC candidate file.
    #[arg(long)]
    pub constituencies: Option<PathBuf>,
    #[command(flatten)]
    pub compare: CompareArgs,
    /// One JSON object per line per constituency, then one for the nation.
    #[arg(long)]
    pub json: bool,
    /// Display timezone for declaration times (text output).
    #[arg(long, default_value = "Europe/London")]
    pub tz: String,
}

/// A failed command: the message printed, and the exit code.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub code: u8,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            code: 1,
        }
    }
}

/// Starts logging to standard error. `RUST_LOG` overrides the default level.
pub fn init_logging(format: LogFormat, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    // Colours only for a person at a terminal: not in a file, a pipe or `docker logs`.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Runs an async command on a fresh runtime (as many worker threads as cores, or
/// `TOKIO_WORKER_THREADS`).
pub fn block_on<F: std::future::Future<Output = Result<(), CliError>>>(
    f: F,
) -> Result<(), CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("cannot start the runtime: {e}")))?
        .block_on(f)
}

impl<E: std::error::Error + 'static> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError::new(crate::errors::chain(&e))
    }
}

/// Parses the arguments, runs the command, and turns failure into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command.unwrap_or(Command::Demo(DemoArgs {
        tz: "Europe/London".into(),
    })) {
        Command::Demo(a) => live::demo(&a),
        Command::Result(a) => offline::result(&a),
        Command::Seats(a) => offline::seats(&a),
        Command::Compute(a) => offline::compute(&a),
        Command::Chart(a) => offline::chart(&a),
        Command::Watch(a) => live::watch(&a),
        Command::Feed(FeedCommand::Serve(a)) => live::serve(&a),
        Command::Feed(FeedCommand::Check(a)) => live::check(&a),
        Command::Run(a) => ops::run(a.config.as_deref()),
        Command::Discord(DiscordCommand::Register { config, guild }) => {
            ops::register(config.config.as_deref(), guild)
        }
        Command::Discord(DiscordCommand::InviteUrl {
            config,
            application_id,
        }) => ops::invite_url(config.config.as_deref(), application_id),
        Command::Config(ConfigCommand::Check {
            config,
            no_discord,
            online,
        }) => ops::config_check(config.config.as_deref(), no_discord, online),
        Command::Health { url } => ops::health(&url),
        Command::Store(StoreCommand::Info(a)) => store::info(&a),
        Command::Store(StoreCommand::Reset { store: a, yes }) => store::reset(&a, yes),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("herald: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}

/// A request to stop (SIGTERM, what `docker stop` sends, or Ctrl-C), listened for from the
/// moment it is made, so that a signal during start-up (a feed or Discord that does not
/// answer) is honoured too. A second signal ends the process at once.
#[derive(Clone)]
pub(crate) struct Stop(tokio::sync::watch::Receiver<bool>);

impl Stop {
    /// Starts listening (call inside the runtime, first thing).
    pub(crate) fn listen() -> Result<Stop, CliError> {
        use tokio::signal::unix::{SignalKind, signal};
        let handler = |kind| {
            signal(kind).map_err(|e| CliError::new(format!("cannot listen for signals: {e}")))
        };
        let mut term = handler(SignalKind::terminate())?;
        let mut int = handler(SignalKind::interrupt())?;
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            for n in 0..2 {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
                if n == 0 {
                    tracing::info!("stopping (a second signal stops at once)");
                    let _ = tx.send(true);
                }
            }
            tracing::warn!("second signal: stopping at once");
            std::process::exit(130);
        });
        Ok(Stop(rx))
    }

    /// Waits until a stop is requested.
    pub(crate) async fn requested(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// Runs `f` unless a stop is requested first (then None: start-up was abandoned).
    pub(crate) async fn unless<F: std::future::Future>(&mut self, f: F) -> Option<F::Output> {
        tokio::select! {
            out = f => Some(out),
            _ = self.requested() => {
                tracing::info!("stopped before start-up had finished");
                None
            }
        }
    }
}

/// Starts the pipeline unless a stop is requested first (then None), and serves
/// `/healthz` and `/metrics` for it on `listen`.
pub(crate) async fn start_pipeline(
    stop: &mut Stop,
    config: crate::app::PipelineConfig,
    (parties, aliases, notable): (
        crate::core::parties::PartyRegistry,
        crate::core::finder::Aliases,
        Vec<String>,
    ),
    baseline: crate::core::model::Baseline,
    listen: Option<std::net::SocketAddr>,
) -> Result<Option<crate::app::Pipeline>, CliError> {
    let metrics = crate::observe::Metrics::default();
    let started = stop
        .unless(crate::app::Pipeline::start_with(
            config,
            parties,
            baseline,
            None,
            metrics.clone(),
            move |board| {
                board.set_aliases(aliases);
                board.notable = notable;
            },
        ))
        .await;
    let Some(pipeline) = started
        .transpose()
        .map_err(|e| CliError::new(e.to_string()))?
    else {
        return Ok(None);
    };
    if let Some(addr) = listen {
        serve_observe(addr, &pipeline, metrics).await?;
    }
    Ok(Some(pipeline))
}

/// Serves `/healthz` and `/metrics` for a running pipeline on `addr` (port 0 picks one; the
/// address is logged).
pub(crate) async fn serve_observe(
    addr: std::net::SocketAddr,
    pipeline: &crate::app::Pipeline,
    metrics: crate::observe::Metrics,
) -> Result<(), CliError> {
    let discord = pipeline.bot.as_ref().map(|b| b.health.clone());
    let (local, _task) = crate::observe::server::spawn(
        addr,
        metrics,
        pipeline.status.clone(),
        pipeline.store.clone(),
        discord,
    )
    .await
    .map_err(|e| {
        CliError::new(format!(
            "cannot listen on {addr} for /healthz and /metrics: {e}"
        ))
    })?;
    tracing::info!("health and metrics at http://{local}/healthz and /metrics");
    Ok(())
}
