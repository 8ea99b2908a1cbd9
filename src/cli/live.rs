//! Commands that run the live pipeline: `demo` (the bundled election replayed through a
//! rehearsal feed on loopback), `watch` and `feed serve`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::offline::{baseline_label, load_parties, out, parse_tz};
use super::{CliError, DemoArgs, LogFormat, ServeArgs, WatchArgs, block_on, init_logging};
use crate::app::{Pipeline, PipelineConfig};
use crate::core::board::Scope;
use crate::core::model::Baseline;
use crate::core::parties::PartyRegistry;
use crate::demo;
use crate::format::{Style, national, text};
use crate::observe::Metrics;
use crate::rehearsal::{self, Feed, Speed};
use crate::sinks::console::{ConsoleStyle, Output};
use crate::sources::formats::herald_json;
use crate::sources::live::{Location, SourceOptions};
use crate::sources::{self, Format};

/// Reads a baseline from a file, or from a URL serving herald JSON (a rehearsal server's
/// `/baseline.json`).
pub(super) async fn load_baseline(
    location: &str,
    format: Format,
    constituencies: Option<&Path>,
    parties: &PartyRegistry,
) -> Result<Baseline, CliError> {
    if location.starts_with("http://") || location.starts_with("https://") {
        let text = reqwest::get(location)
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| CliError::new(format!("baseline {location}: {e}")))?
            .text()
            .await
            .map_err(|e| CliError::new(format!("baseline {location}: {e}")))?;
        return Ok(sources::parse(format, location, &text, None, parties)?.into_baseline());
    }
    Ok(sources::load_files(format, Path::new(location), constituencies, parties)?.into_baseline())
}

/// Prints the state of the parties as the board stands.
fn print_seats(
    pipeline: &Pipeline,
    source: &str,
    baseline: &str,
    tz: chrono_tz::Tz,
) -> Result<(), CliError> {
    let board = pipeline.board.read().unwrap_or_else(|p| p.into_inner());
    let style = Style {
        parties: &board.parties,
        tz,
        source,
        baseline_label: baseline,
    };
    let tally = board.tally(&Scope::All);
    out(&text::render(&national::seats_embed(
        &tally,
        &board.election.name,
        &style,
    )))
}

pub fn demo(a: &DemoArgs) -> Result<(), CliError> {
    let tz = parse_tz(&a.tz)?;
    init_logging(LogFormat::Text, "warn");
    block_on(async move {
        let parties = demo::parties();
        let (results, baseline) = demo::load(&parties);
        let baseline = baseline.into_baseline();
        let label = baseline_label(&baseline);
        let election = results.election.clone();
        // The bundled election goes through the real pipeline: a rehearsal feed on
        // loopback, the watcher polling it, a throwaway store, the console sink.
        let feed = Arc::new(Feed::new(
            results.election,
            results.declarations,
            Some(demo::BASELINE_JSON.to_string()),
            Speed::Max {
                step: Duration::from_millis(100),
            },
            false,
            Arc::new(parties.clone()),
        ));
        let server = rehearsal::spawn(feed, SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        out(&format!(
            "herald demo: replaying {} through a rehearsal feed at {}\n\n",
            election.name,
            server.url()
        ))?;
        let config = PipelineConfig {
            location: Location::Url(server.url()),
            source: SourceOptions::default(),
            interval: Duration::from_millis(50),
            store: ":memory:".to_string(),
            console: Some((
                Output::Stdout,
                ConsoleStyle {
                    tz,
                    source: demo::SOURCE.to_string(),
                    baseline_label: label.clone(),
                },
            )),
            discord: None,
        };
        let pipeline = Pipeline::start(
            config,
            parties,
            baseline,
            Some(election),
            Metrics::default(),
        )
        .await
        .map_err(|e| CliError::new(e.to_string()))?;
        let waited = tokio::time::timeout(Duration::from_secs(60), pipeline.wait_complete()).await;
        match waited {
            Ok(r) => r?,
            Err(_) => return Err(CliError::new("the demo did not complete within a minute")),
        }
        print_seats(&pipeline, demo::SOURCE, &label, tz)?;
        pipeline.stop().await;
        server.stop().await;
        Ok(())
    })
}

pub fn watch(a: &WatchArgs) -> Result<(), CliError> {
    let tz = parse_tz(&a.tz)?;
    init_logging(a.log_format, "info");
    let a = a.clone();
    block_on(async move {
        let parties = load_parties(a.parties.as_deref())?;
        let baseline = match &a.baseline {
            Some(b) => {
                let default = if b.starts_with("http") {
                    Format::HeraldJson
                } else {
                    a.format
                };
                load_baseline(
                    b,
                    a.baseline_format.unwrap_or(default),
                    a.baseline_constituencies.as_deref(),
                    &parties,
                )
                .await?
            }
            None => Baseline::default(),
        };
        let label = baseline_label(&baseline);
        let location = Location::parse(&a.source);
        let console = if a.console || a.console_out.is_some() {
            let output = a.console_out.clone().map_or(Output::Stdout, Output::File);
            Some((
                output,
                ConsoleStyle {
                    tz,
                    source: a.source.clone(),
                    baseline_label: label.clone(),
                },
            ))
        } else {
            None
        };
        let config = PipelineConfig {
            location,
            source: SourceOptions {
                format: a.format,
                constituencies: a.constituencies.clone(),
                timeout: a.timeout,
                max_body_bytes: a.max_body_bytes,
            },
            interval: a.interval,
            store: a.store.clone(),
            console,
            discord: None,
        };
        let pipeline = Pipeline::start(config, parties, baseline, None, Metrics::default())
            .await
            .map_err(|e| CliError::new(e.to_string()))?;
        tracing::info!(store = %a.store, "watching {}", a.source);
        if a.exit_when_complete {
            tokio::select! {
                r = pipeline.wait_complete() => r?,
                _ = tokio::signal::ctrl_c() => {}
            }
            let (declared, total) = pipeline.progress();
            tracing::info!("complete: {declared} of {total} declared and announced");
        } else {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("stopping");
        }
        pipeline.stop().await;
        Ok(())
    })
}

pub fn serve(a: &ServeArgs) -> Result<(), CliError> {
    init_logging(LogFormat::Text, "info");
    let speed = Speed::parse(&a.speed, a.step).map_err(CliError::new)?;
    let a = a.clone();
    block_on(async move {
        let parties = load_parties(a.parties.as_deref())?;
        let results =
            sources::load_files(a.format, &a.results, a.constituencies.as_deref(), &parties)?;
        let baseline = match &a.baseline {
            Some(p) => {
                let b = sources::load_files(
                    a.baseline_format.unwrap_or(a.format),
                    p,
                    a.baseline_constituencies.as_deref(),
                    &parties,
                )?;
                let doc = herald_json::document(&b.election, &b.declarations);
                Some(serde_json::to_string_pretty(&doc)?)
            }
            None => None,
        };
        let total = results.declarations.len();
        let name = results.election.name.clone();
        let feed = Arc::new(Feed::new(
            results.election,
            results.declarations,
            baseline,
            speed,
            a.allow_edits,
            Arc::new(parties),
        ));
        let server = rehearsal::spawn(feed, SocketAddr::new(a.bind, a.port))
            .await
            .map_err(|e| CliError::new(format!("cannot listen on {}:{}: {e}", a.bind, a.port)))?;
        // The one line a script waits for: where the feed is.
        out(&format!(
            "serving {name} ({total} declarations) at {}\n",
            server.url()
        ))?;
        let _ = tokio::signal::ctrl_c().await;
        server.stop().await;
        Ok(())
    })
}
