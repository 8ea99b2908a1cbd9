//! The observability endpoint (axum, loopback by default): `/healthz` says whether the
//! source is reachable, the gateway connected and the store writable; `/metrics` serves
//! the metrics in the OpenMetrics text format Prometheus scrapes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio::sync::watch;

use super::Metrics;
use crate::store::Store;
use crate::watch::WatchStatus;

#[derive(Clone)]
struct Probe {
    metrics: Metrics,
    status: watch::Receiver<WatchStatus>,
    store: Store,
    gateway: Option<Arc<AtomicBool>>,
}

async fn healthz(State(p): State<Probe>) -> Response {
    let status = p.status.borrow().clone();
    let source_ok = status.failures == 0 && status.last_success.is_some();
    let gateway = p.gateway.as_ref().map(|g| g.load(Ordering::Relaxed));
    let store_ok = p.store.check_writable().await.is_ok();
    let healthy = source_ok && gateway.unwrap_or(true) && store_ok;
    let body = json!({
        "healthy": healthy,
        "source": {
            "reachable": source_ok,
            "description": status.source,
            "last_success": status.last_success.map(|t| t.to_rfc3339()),
            "consecutive_failures": status.failures,
            "last_error": status.last_error,
        },
        "gateway": { "connected": gateway },
        "store": { "writable": store_ok },
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
    gateway: Option<Arc<AtomicBool>>,
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
            gateway,
        });
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("observability endpoint: {e}");
        }
    });
    Ok((local, task))
}
