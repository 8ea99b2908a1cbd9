//! The rehearsal feed server (`herald feed serve`): serves a herald JSON feed that grows as a
//! recorded election unfolds, using the real declaration times, N times faster than real
//! time (or, at `max` speed, one declaration every step). Newsrooms rehearse with it; the
//! tests and the demo use it.
//!
//! `GET /feed.json` is the feed (with ETag and Last-Modified, answering 304 when unchanged);
//! `GET /baseline.json` the baseline, when one was given; `GET /status` how far the night
//! has got. With edits allowed, `PUT /declarations/{id}` injects a declaration (a correction,
//! a recount) and `DELETE /declarations/{id}` withdraws one (served with status `withdrawn`), so rehearsals can practise the
//! awkward moments too.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use chrono::{DateTime, Utc};

use crate::core::model::{Declaration, Election};
use crate::core::parties::PartyRegistry;
use crate::sources::formats::herald_json;

/// How fast the night unfolds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    /// N times real time, following the recorded declaration times.
    Factor(f64),
    /// One declaration every `step`, in declaration order, ignoring the real gaps.
    Max { step: Duration },
}

impl Speed {
    /// Parses `max` or a positive number.
    pub fn parse(s: &str, step: Duration) -> Result<Speed, String> {
        if s.eq_ignore_ascii_case("max") {
            return Ok(Speed::Max { step });
        }
        match s.parse::<f64>() {
            Ok(n) if n > 0.0 && n.is_finite() => Ok(Speed::Factor(n)),
            _ => Err(format!(
                "speed must be a positive number or `max`, not `{s}`"
            )),
        }
    }
}

struct Edits {
    /// Injected declarations (corrections, recounts, withdrawals), by constituency id.
    overrides: BTreeMap<String, Declaration>,
    count: u64,
}

struct Cached {
    key: (usize, u64),
    body: Bytes,
    etag: String,
    modified: DateTime<Utc>,
}

/// The feed being served.
pub struct Feed {
    election: Election,
    /// Declarations in the order they were declared.
    timeline: Vec<Declaration>,
    baseline: Option<Bytes>,
    speed: Speed,
    allow_edits: bool,
    parties: Arc<PartyRegistry>,
    start: Instant,
    edits: Mutex<Edits>,
    cache: Mutex<Option<Cached>>,
    not_modified: AtomicU64,
}

impl Feed {
    pub fn new(
        election: Election,
        mut declarations: Vec<Declaration>,
        baseline: Option<String>,
        speed: Speed,
        allow_edits: bool,
        parties: Arc<PartyRegistry>,
    ) -> Feed {
        declarations.sort_by(|a, b| {
            a.declared_at
                .cmp(&b.declared_at)
                .then_with(|| a.id().cmp(b.id()))
        });
        Feed {
            election,
            timeline: declarations,
            baseline: baseline.map(Bytes::from),
            speed,
            allow_edits,
            parties,
            start: Instant::now(),
            edits: Mutex::new(Edits {
                overrides: BTreeMap::new(),
                count: 0,
            }),
            cache: Mutex::new(None),
            not_modified: AtomicU64::new(0),
        }
    }

    /// How many declarations of the timeline are public now.
    pub fn revealed(&self) -> usize {
        let elapsed = self.start.elapsed();
        match self.speed {
            Speed::Max { step } => {
                let steps = elapsed.as_nanos() / step.as_nanos().max(1);
                (steps as usize).saturating_add(1).min(self.timeline.len())
            }
            Speed::Factor(n) => {
                let Some(first) = self.timeline.iter().find_map(|d| d.declared_at) else {
                    return self.timeline.len();
                };
                let ahead =
                    chrono::Duration::from_std(elapsed.mul_f64(n)).unwrap_or(chrono::Duration::MAX);
                let now = first
                    .checked_add_signed(ahead)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC);
                self.timeline
                    .iter()
                    .take_while(|d| d.declared_at.is_none_or(|t| t <= now))
                    .count()
            }
        }
    }

    /// When the rehearsal started (the night's clock runs from here).
    pub fn started(&self) -> Instant {
        self.start
    }

    /// When the `i`-th declaration of the night (in declaration order) became public,
    /// measured from [`Feed::started`].
    pub fn revealed_at(&self, i: usize) -> Option<Duration> {
        let d = self.timeline.get(i)?;
        Some(match self.speed {
            Speed::Max { step } => step.saturating_mul(i as u32),
            Speed::Factor(n) => {
                let first = self.timeline.iter().find_map(|d| d.declared_at)?;
                let since = d
                    .declared_at
                    .map_or(chrono::Duration::zero(), |t| t - first);
                since.to_std().unwrap_or_default().div_f64(n)
            }
        })
    }

    /// The declarations of the night, in the order they become public.
    pub fn timeline(&self) -> &[Declaration] {
        &self.timeline
    }

    /// How many polls were answered 304 Not Modified.
    pub fn not_modified(&self) -> u64 {
        self.not_modified.load(Ordering::Relaxed)
    }

    pub fn total(&self) -> usize {
        self.timeline.len()
    }

    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The document as it stands, cached per (revealed, edits) so that polls are cheap.
    fn current(&self) -> (Bytes, String, DateTime<Utc>) {
        let revealed = self.revealed();
        let edits = Self::lock(&self.edits);
        let key = (revealed, edits.count);
        let mut cache = Self::lock(&self.cache);
        if let Some(c) = cache.as_ref()
            && c.key == key
        {
            return (c.body.clone(), c.etag.clone(), c.modified);
        }
        let mut by_id: BTreeMap<String, Declaration> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        for d in &self.timeline[..revealed] {
            order.push(d.id().to_string());
            by_id.insert(d.id().to_string(), d.clone());
        }
        for (id, d) in &edits.overrides {
            if by_id.insert(id.clone(), d.clone()).is_none() {
                order.push(id.clone());
            }
        }
        let declarations: Vec<Declaration> =
            order.iter().filter_map(|id| by_id.remove(id)).collect();
        let doc = herald_json::document(&self.election, &declarations);
        let body = Bytes::from(serde_json::to_vec_pretty(&doc).unwrap_or_default());
        let etag = format!("\"{}-{}\"", key.0, key.1);
        let modified = Utc::now();
        *cache = Some(Cached {
            key,
            body: body.clone(),
            etag: etag.clone(),
            modified,
        });
        (body, etag, modified)
    }
}

fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

async fn serve_feed(State(feed): State<Arc<Feed>>, headers: HeaderMap) -> Response {
    let (body, etag, modified) = feed.current();
    let not_modified = match headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        Some(inm) => inm.split(',').any(|t| t.trim() == etag || t.trim() == "*"),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_http_date)
            .is_some_and(|since| modified.timestamp() <= since.timestamp()),
    };
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&http_date(modified)) {
        h.insert(header::LAST_MODIFIED, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if not_modified {
        feed.not_modified.fetch_add(1, Ordering::Relaxed);
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    (StatusCode::OK, h, body).into_response()
}

async fn baseline(State(feed): State<Arc<Feed>>) -> Response {
    match &feed.baseline {
        Some(b) => ([(header::CONTENT_TYPE, "application/json")], b.clone()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "no baseline was given to this rehearsal\n",
        )
            .into_response(),
    }
}

async fn status(State(feed): State<Arc<Feed>>) -> Response {
    let revealed = feed.revealed();
    let edits = Feed::lock(&feed.edits).count;
    axum::Json(serde_json::json!({
        "election": feed.election.name,
        "revealed": revealed,
        "total": feed.total(),
        "finished": revealed == feed.total(),
        "edits": edits,
    }))
    .into_response()
}

async fn put_declaration(
    State(feed): State<Arc<Feed>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if !feed.allow_edits {
        return (
            StatusCode::FORBIDDEN,
            "edits are off: start the rehearsal with --allow-edits\n",
        )
            .into_response();
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return (StatusCode::BAD_REQUEST, "body is not UTF-8\n").into_response();
    };
    match herald_json::parse_declaration("request body", text, &feed.parties) {
        Ok(d) if d.id().as_str() == id => {
            let mut edits = Feed::lock(&feed.edits);
            edits.overrides.insert(id, d);
            edits.count += 1;
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(d) => (
            StatusCode::BAD_REQUEST,
            format!("the body declares {}, not {id}\n", d.id()),
        )
            .into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    }
}

async fn delete_declaration(State(feed): State<Arc<Feed>>, Path(id): Path<String>) -> Response {
    if !feed.allow_edits {
        return (
            StatusCode::FORBIDDEN,
            "edits are off: start the rehearsal with --allow-edits\n",
        )
            .into_response();
    }
    // A withdrawal is said explicitly, as a feed must say it: the declaration as it stands,
    // marked `withdrawn` with a higher revision (a seat merely missing from a feed is not
    // retracted).
    let revealed = feed.revealed();
    let mut edits = Feed::lock(&feed.edits);
    let standing = edits.overrides.get(&id).cloned().or_else(|| {
        feed.timeline[..revealed]
            .iter()
            .find(|d| d.id().as_str() == id)
            .cloned()
    });
    let Some(mut d) = standing else {
        return (StatusCode::NOT_FOUND, format!("{id} has not declared\n")).into_response();
    };
    d.status = crate::core::model::DeclarationStatus::Withdrawn;
    d.revision += 1;
    edits.overrides.insert(id, d);
    edits.count += 1;
    StatusCode::NO_CONTENT.into_response()
}

pub fn router(feed: Arc<Feed>) -> Router {
    Router::new()
        .route("/feed.json", get(serve_feed))
        .route("/baseline.json", get(baseline))
        .route("/status", get(status))
        .route(
            "/declarations/{id}",
            put(put_declaration).delete(delete_declaration),
        )
        .with_state(feed)
}

/// A running rehearsal server.
pub struct Running {
    pub addr: SocketAddr,
    pub feed: Arc<Feed>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}/feed.json", self.addr)
    }

    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.task.await;
    }
}

/// Binds `addr` and serves `feed` in the background.
pub async fn spawn(feed: Arc<Feed>, addr: SocketAddr) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = router(feed.clone());
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(e) = served.await {
            tracing::error!("rehearsal server: {e}");
        }
    });
    Ok(Running {
        addr,
        feed,
        shutdown: tx,
        task,
    })
}
