//! Commands that run the live pipeline: `demo` (the bundled election replayed through a
//! rehearsal feed on loopback), `watch` and `feed serve`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::inputs::format_for;
use super::offline::{baseline_label, out, parse_tz};
use super::{
    CheckArgs, CliError, DemoArgs, LogFormat, ServeArgs, WatchArgs, block_on, init_logging,
};
use crate::app::{Pipeline, PipelineConfig};
use crate::core::board::Scope;
use crate::demo;
use crate::format::{Style, national, text};
use crate::observe::Metrics;
use crate::rehearsal::{self, Feed, Speed};
use crate::sinks::console::{ConsoleStyle, Output};
use crate::sources;
use crate::sources::formats::herald_json;
use crate::sources::location::Location;
use crate::sources::options::SourceOptions;

/// Prints the state of the parties as the board stands.
fn print_seats(
    pipeline: &Pipeline,
    source: &str,
    baseline: &str,
    tz: chrono_tz::Tz,
) -> Result<(), CliError> {
    let board = pipeline.board.read();
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

/// Writes the demo's charts (each result, the seats, the swing) into a folder and names it.
fn write_demo_charts(
    pipeline: &Pipeline,
    baseline: &str,
    tz: chrono_tz::Tz,
) -> Result<(), CliError> {
    use crate::format::chart;
    let dir = std::env::temp_dir().join("herald-demo-charts");
    std::fs::create_dir_all(&dir).map_err(|e| CliError::new(format!("{}: {e}", dir.display())))?;
    let board = pipeline.board.read();
    let style = Style {
        parties: &board.parties,
        tz,
        source: demo::SOURCE,
        baseline_label: baseline,
    };
    let mut files = Vec::new();
    for e in board.entries() {
        let slug: String =
            crate::core::finder::normalise(&e.figures.constituency.name).replace(' ', "-");
        files.push((
            format!("result-{slug}.png"),
            chart::result_chart(&e.figures, &style),
        ));
    }
    let tally = board.tally(&Scope::All);
    files.push((
        "seats.png".into(),
        chart::seats_chart(&tally, &board.election.name, &style),
    ));
    let title = format!("{}: swing", board.election.name);
    files.push((
        "swing.png".into(),
        chart::swing_chart(tally.swing.as_ref(), &title, &style),
    ));
    let mut names = Vec::new();
    for (name, png) in files {
        let png = png.map_err(|e| CliError::new(format!("cannot draw {name}: {e}")))?;
        let path = dir.join(&name);
        std::fs::write(&path, png)
            .map_err(|e| CliError::new(format!("{}: {e}", path.display())))?;
        names.push(name);
    }
    out(&format!(
        "\nCharts written to {}: {}\n",
        dir.display(),
        names.join(", ")
    ))
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
        write_demo_charts(&pipeline, &label, tz)?;
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
        let mut stop = super::Stop::listen()?;
        let format = format_for(a.format, &a.source)?;
        let Some(loaded) = stop.unless(a.compare.load(format)).await else {
            return Ok(());
        };
        let (parties, baseline) = loaded?;
        let label = baseline_label(&baseline);
        let location = Location::parse(&a.source).map_err(CliError::new)?;
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
                format,
                constituencies: a.constituencies.clone(),
                timeout: a.timeout,
                max_body_bytes: a.max_body_bytes,
                election: a.compare.election.clone(),
                remote: crate::config::remote_auth_from(&crate::config::process_env)?,
            },
            interval: a.interval,
            store: a.store.clone(),
            console,
            discord: None,
        };
        let Some(pipeline) = super::start_pipeline(
            &mut stop,
            config,
            (
                parties,
                super::inputs::load_aliases(a.compare.aliases.as_deref())?,
                super::inputs::load_notable(a.compare.notable.as_deref())?,
            ),
            baseline,
            a.listen,
        )
        .await?
        else {
            return Ok(());
        };
        tracing::info!(store = %crate::store::shown(&a.store), "watching {}", a.source);
        let outcome = if a.exit_when_complete {
            match stop.unless(pipeline.wait_complete()).await {
                Some(Ok(())) => {
                    let (declared, total) = pipeline.progress();
                    tracing::info!("complete: {declared} of {total} declared and announced");
                    Ok(())
                }
                Some(Err(e)) => Err(CliError::new(e.to_string())),
                None => Ok(()),
            }
        } else {
            stop.requested().await;
            Ok(())
        };
        pipeline.stop().await;
        outcome
    })
}

pub fn serve(a: &ServeArgs) -> Result<(), CliError> {
    init_logging(LogFormat::Text, "info");
    let speed = Speed::parse(&a.speed, a.step).map_err(CliError::new)?;
    let a = a.clone();
    block_on(async move {
        let mut stop = super::Stop::listen()?;
        let format = format_for(a.format, &a.results.display().to_string())?;
        let (parties, baseline) = a.compare.load(format).await?;
        let results = sources::load_files(
            format,
            &a.results,
            a.constituencies.as_deref(),
            a.compare.election.as_deref(),
            &parties,
        )?;
        // The baseline is served as herald JSON, whatever format it was read in.
        let baseline = match (&a.compare.baseline, baseline.election.clone()) {
            (Some(_), Some(election)) => {
                let declarations: Vec<crate::core::model::Declaration> = baseline
                    .iter()
                    .map(|r| crate::core::model::Declaration {
                        allocation: None,
                        result: r.clone(),
                        declared_at: None,
                        revision: 1,
                        status: crate::core::model::DeclarationStatus::Declared,
                        source: None,
                    })
                    .collect();
                Some(serde_json::to_string_pretty(&herald_json::document(
                    &election,
                    &declarations,
                ))?)
            }
            _ => None,
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
        stop.requested().await;
        server.stop().await;
        Ok(())
    })
}

pub fn check(a: &CheckArgs) -> Result<(), CliError> {
    let tz = parse_tz(&a.tz)?;
    init_logging(LogFormat::Text, "error");
    let a = a.clone();
    block_on(async move {
        use crate::core::model::DeclarationStatus as S;
        use crate::sources::live::Polled;
        use crate::sources::location::open;
        let format = format_for(a.format, &a.source)?;
        let (parties, loaded) = a.compare.load(format).await?;
        let baseline = a.compare.baseline.is_some().then_some(loaded);
        let location = Location::parse(&a.source).map_err(CliError::new)?;
        let options = SourceOptions {
            format,
            constituencies: a.constituencies.clone(),
            election: a.compare.election.clone(),
            remote: crate::config::remote_auth_from(&crate::config::process_env)?,
            ..SourceOptions::default()
        };
        let mut source = open(&location, &options, Arc::new(parties.clone()))
            .map_err(|e| CliError::new(e.message))?;
        let snapshot = match source.poll().await {
            Ok(Polled::Changed(s)) => s,
            Ok(Polled::Unchanged) => {
                return Err(CliError::new(
                    "the feed answered with nothing (304 Not Modified to a first request)",
                ));
            }
            Err(e) => {
                return Err(CliError::new(format!(
                    "refused ({:?}): {}",
                    e.cause, e.message
                )));
            }
        };
        let mut problems = Vec::new();
        let base = baseline.clone().unwrap_or_default();
        let label = baseline_label(&base);
        let mut board = crate::core::board::Board::new(
            crate::app::placeholder_election(&base),
            parties.clone(),
            base,
        );
        let mut decls = snapshot.declarations.clone();
        for d in &mut decls {
            board.resolve_constituency(d);
        }
        board.set_nominations(snapshot.nominations.clone());
        board.set_elections(snapshot.elections.clone());
        decls.sort_by_key(|d| (d.declared_at.is_none(), d.declared_at));
        let mut text = format!("source: {}\n", source.describe());
        let named: Vec<&crate::core::model::Election> = if board.elections().is_empty() {
            snapshot.elections.iter().take(1).collect()
        } else {
            board.elections().iter().collect()
        };
        for e in &named {
            let size = snapshot
                .elections
                .iter()
                .find(|s| s.id == e.id)
                .filter(|s| s.total_seats > 0)
                .map_or_else(
                    || "size not given yet".to_string(),
                    |s| format!("{} seats", s.total_seats),
                );
            text.push_str(&format!("election: {} (`{}`), {size}\n", e.name, e.id));
        }
        if !snapshot.nominations.is_empty() {
            text.push_str(&format!(
                "nominations: {} seat(s), shown by /result until they declare\n",
                snapshot.nominations.len()
            ));
        }
        // Which previous result the figures are against, where any.
        let against_source = decls
            .iter()
            .filter(|d| {
                baseline.as_ref().is_none_or(|b| b.get(d.id()).is_none())
                    && d.source.as_ref().is_some_and(|s| s.previous.is_some())
            })
            .count();
        let against_baseline = baseline.as_ref().map_or(0, |b| {
            decls.iter().filter(|d| b.get(d.id()).is_some()).count()
        });
        if against_source + against_baseline > 0 {
            text.push_str(&format!(
                "compared with: the configured baseline ({label}) for {against_baseline} seat(s); the source's own previous results for {against_source}\n"
            ));
        }
        let count = |s: S| decls.iter().filter(|d| d.status == s).count();
        text.push_str(&format!(
            "declarations: {} ({} declared, {} called, {} recount, {} withdrawn)\n",
            decls.len(),
            count(S::Declared),
            count(S::Called),
            count(S::Recount),
            count(S::Withdrawn)
        ));
        text.push_str("would announce:\n");
        let mut announced = Vec::new();
        for d in &decls {
            if let Some(b) = &baseline
                && b.get(d.id()).is_none()
            {
                problems.push(format!(
                    "no baseline for {} {} (no change or swing can be given)",
                    d.id(),
                    d.result.constituency.name
                ));
            }
            for c in &d.result.candidates {
                if parties.get(&c.party).is_none() {
                    problems.push(format!(
                        "unknown party `{}` for {} in {} (shown under that name)",
                        c.party, c.name, d.result.constituency.name
                    ));
                }
            }
            let applied = board.apply(d.clone()).is_some();
            for disagreement in board.disagreements(d.id()) {
                problems.push(format!(
                    "{}: {disagreement} (herald's figures stand)",
                    d.result.constituency.name
                ));
            }
            if let Some(e) = board.get(d.id()).filter(|_| applied) {
                let style = crate::format::Style {
                    parties: &parties,
                    tz,
                    source: &a.source,
                    baseline_label: &label,
                };
                let when = d
                    .declared_at
                    .map(|t| t.with_timezone(&tz).format("%H:%M ").to_string())
                    .unwrap_or_default();
                let majority = e
                    .figures
                    .majority
                    .map(|m| format!(" (majority {})", crate::format::thousands(m)))
                    .unwrap_or_default();
                let headline = crate::format::result::headline(&e.figures, &style);
                text.push_str(&format!(
                    "  {when}{}: {headline}{majority}\n",
                    d.result.constituency.name,
                ));
                announced.push(serde_json::json!({
                    "id": d.id().as_str(),
                    "name": d.result.constituency.name,
                    "declared_at": d.declared_at.map(|t| t.to_rfc3339()),
                    "status": format!("{:?}", d.status).to_lowercase(),
                    "headline": headline,
                    "majority": e.figures.majority,
                }));
            }
        }
        if let Some(path) = &a.store {
            let store = crate::store::Store::inspect(path).await?;
            if let Some(held) = store.election().await? {
                let also = store.elections().await?;
                for feed in &snapshot.elections {
                    if !also.iter().any(|h| h.id == feed.id) && feed.date != held.date {
                        problems.push(format!(
                            "the feed is {} ({}), but the store {path} holds {} ({})",
                            feed.name, feed.id, held.name, held.id
                        ));
                    }
                }
            }
            let known = store.known().await?;
            if snapshot.complete
                && let Ok(found) = crate::core::changes::detect(&known, &decls, true)
                && !found.missing.is_empty()
            {
                let names: Vec<String> = found
                    .missing
                    .iter()
                    .map(|id| {
                        known
                            .get(id)
                            .map_or(id.to_string(), |d| d.result.constituency.name.clone())
                    })
                    .collect();
                problems.push(format!(
                    "missing from the feed: {} declaration(s) the store {path} holds (not retracted: reported): {}",
                    names.len(),
                    names.join(", ")
                ));
            }
        }
        for totals in &snapshot.totals {
            problems.extend(crate::watch::report::cross_check(&board, totals));
        }
        problems.extend(snapshot.skipped.iter().cloned());
        let tally = board.tally(&crate::core::board::Scope::All);
        let seats: Vec<String> = tally
            .parties
            .iter()
            .filter(|p| p.seats > 0)
            .map(|p| format!("{} {}", parties.short(&p.party), p.seats))
            .collect();
        text.push_str(&format!(
            "seats: {}\n",
            if seats.is_empty() {
                "none yet".to_string()
            } else {
                seats.join(", ")
            }
        ));
        if problems.is_empty() {
            text.push_str("problems: none\n");
        } else {
            text.push_str(&format!("problems: {}\n", problems.len()));
            for p in &problems {
                text.push_str(&format!("  {p}\n"));
            }
        }
        if a.json {
            let report = serde_json::json!({
                "source": source.describe(),
                "elections": snapshot.elections.iter().map(|e| serde_json::json!({
                    "id": e.id, "name": e.name, "date": e.date.to_string(),
                    "total_seats": (e.total_seats > 0).then_some(e.total_seats),
                })).collect::<Vec<_>>(),
                "nominations": snapshot.nominations.len(),
                "declarations": {
                    "total": decls.len(),
                    "declared": count(S::Declared),
                    "called": count(S::Called),
                    "recount": count(S::Recount),
                    "withdrawn": count(S::Withdrawn),
                },
                "would_announce": announced,
                "seats": tally
                    .parties
                    .iter()
                    .filter(|p| p.seats > 0)
                    .map(|p| serde_json::json!({"party": parties.short(&p.party), "seats": p.seats}))
                    .collect::<Vec<_>>(),
                "problems": problems,
            });
            out(&format!("{report:#}\n"))?;
        } else {
            out(&text)?;
        }
        // A feed with problems is not ready for the night: say so in the exit code too.
        if problems.is_empty() {
            Ok(())
        } else {
            Err(CliError {
                message: format!("{} problem(s) found", problems.len()),
                code: 2,
            })
        }
    })
}
