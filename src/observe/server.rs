//! The observability endpoint (axum, loopback by default): `/healthz` says whether the
//! source is reachable, the gateway connected, the token accepted and the store writable
//! (and if not, why), which shards this process runs, whether it polls the feed (or another
//! process sharing the store does), and the outbox depth; `/metrics` serves
//! the metrics in the OpenMetrics text format Prometheus scrapes.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio::sync::watch;

use super::Metrics;
use crate::discord::health::DiscordHealth;
use crate::store::Store;
use crate::watch::WatchStatus;

#[derive(Clone)]
struct Probe {
    metrics: Metrics,
    status: watch::Receiver<WatchStatus>,
    store: Store,
    discord: Option<DiscordHealth>,
}

/// Healthy, or 503 with every reason it is not (`reasons`); `warnings` name what an
/// operator should look at without herald being unable to work (declarations missing from
/// the feed).
async fn healthz(State(p): State<Probe>) -> Response {
    let status = p.status.borrow().clone();
    // Where another process polls the feed (a shared store), this one only follows it.
    let polls = p.store.holds_feed() && !status.following;
    let source_ok = !polls || (status.failures == 0 && status.last_success.is_some());
    let connected = p.discord.as_ref().map(DiscordHealth::connected);
    let token = p.discord.as_ref().and_then(DiscordHealth::token_refused);
    // The file is checked here; writability is probed once a poll interval by the pipeline
    // (a probe here would wait behind a busy database and hold up the answer).
    let store_check = p.store.check_file().err().map(|e| e.to_string());
    let store_fault = p.store.fault().or(store_check);
    let mut reasons = Vec::new();
    if let Some(e) = &status.store_error {
        reasons.push(format!("the feed's changes could not be recorded: {e}"));
    }
    if let Some(f) = &store_fault {
        reasons.push(f.clone());
    }
    if !source_ok {
        reasons.push(match &status.last_error {
            Some(e) => format!("the source failed {} time(s): {e}", status.failures),
            None if status.store_error.is_none() => "the source has not answered yet".into(),
            None => "the last poll was not recorded".into(),
        });
    }
    if let Some(t) = &token {
        reasons.push(t.clone());
    } else if connected == Some(false) {
        reasons.push("the Discord gateway is not connected".into());
    }
    let mut warnings = Vec::new();
    if !status.missing.is_empty() {
        let shown: Vec<&str> = status.missing.iter().take(10).map(String::as_str).collect();
        warnings.push(format!(
            "{} declaration(s) herald holds are missing from the feed (not announced as withdrawn): {}{}",
            status.missing.len(),
            shown.join(", "),
            if status.missing.len() > shown.len() { ", …" } else { "" }
        ));
    }
    let healthy = reasons.is_empty();
    let body = json!({
        "healthy": healthy,
        "reasons": reasons,
        "warnings": warnings,
        "source": {
            "reachable": source_ok,
            "description": status.source,
            "last_success": status.last_success.map(|t| t.to_rfc3339()),
            "consecutive_failures": status.failures,
            "last_error": status.last_error,
            "missing": status.missing.len(),
        },
        "gateway": {
            "connected": connected,
            "shards": p.discord.as_ref().map(|d| {
                let s = d.shards();
                json!({ "first": s.first, "last": s.last, "count": s.count })
            }),
        },
        "feed": { "polled_here": polls },
        "outbox": {
            "depth": crate::store::SinkKind::ALL
                .iter()
                .map(|&k| (k.name(), p.metrics.outbox_depth.get_or_create(&Metrics::sink(k)).get()))
                .collect::<std::collections::BTreeMap<_, _>>(),
        },
        "discord": { "token_refused": token },
        "store": {
            "writable": store_fault.is_none(),
            "fault": store_fault,
            "unrecorded": status.store_error,
        },
    });
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(body)).into_response()
}

async fn serve_metrics(State(p): State<Probe>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        p.metrics.encode(),
    )
        .into_response()
}

/// Serves `/healthz` and `/metrics` on `addr` until the task is dropped.
pub async fn spawn(
    addr: SocketAddr,
    metrics: Metrics,
    status: watch::Receiver<WatchStatus>,
    store: Store,
    discord: Option<DiscordHealth>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(serve_metrics))
        .with_state(Probe {
            metrics,
            status,
            store,
            discord,
        });
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("observability endpoint: {e}");
        }
    });
    Ok((local, task))
}
