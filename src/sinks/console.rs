//! The console sink: prints each announcement as it would read in Discord, draining the
//! store's outbox in event order.
//!
//! Each announcement starts with a header line carrying its idempotency key
//! (`▶ DECLARED · Hartlepool · … [console:E14000733:1]`). When the output is a file, that
//! file is the sink's journal: after a crash, an announcement claimed but not marked sent
//! is looked up there before it is printed again, so the file holds each exactly once. On
//! a terminal a crash in that instant can repeat one announcement.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio::sync::watch;

use crate::format::announce::{announcement, label};
use crate::format::{Style, milestone, text};
use crate::observe::metrics::Metrics;
use crate::sinks::worker::{self, Drain};
use crate::sinks::{Delivery, Outbox, Renders, Sink};
use crate::store::{OutboxItem, SinkKind, Store, StoreError};
use crate::watch::{SharedBoard, Wake};

/// Where the console writes.
#[derive(Clone, Debug)]
pub enum Output {
    Stdout,
    /// Appended to; also the journal that makes restarts exactly-once.
    File(PathBuf),
}

/// Presentation settings the console needs besides the board.
#[derive(Clone, Debug)]
pub struct ConsoleStyle {
    pub tz: Tz,
    pub source: String,
    pub baseline_label: String,
}

impl ConsoleStyle {
    /// The style to render with, over the board's party registry.
    fn of<'a>(&'a self, board: &'a crate::core::board::Board) -> Style<'a> {
        Style {
            parties: &board.parties,
            tz: self.tz,
            source: &self.source,
            baseline_label: &self.baseline_label,
        }
    }
}

pub struct ConsoleSink {
    store: Store,
    board: SharedBoard,
    output: Output,
    style: ConsoleStyle,
    outbox: Outbox,
    renders: Renders<Printed>,
    /// The keys already printed to the file (see the module's doc).
    journal: Mutex<HashSet<String>>,
}

/// An announcement as the console prints it, but for the key its header line ends with.
pub struct Printed {
    header: String,
    body: String,
    seen_at: Option<DateTime<Utc>>,
}

impl Printed {
    /// The text printed for the row `key`.
    fn text(&self, key: &str) -> String {
        format!("{}{MARK_OPEN}{key}]\n{}", self.header, self.body)
    }
}

const MARK_OPEN: &str = " [";

/// The keys of the announcements already in a console file.
fn read_journal(path: &PathBuf) -> HashSet<String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashSet::new();
    };
    text.lines()
        .filter(|l| l.starts_with('▶'))
        .filter_map(|l| {
            let start = l.rfind(MARK_OPEN)? + MARK_OPEN.len();
            l[start..].strip_suffix(']').map(str::to_string)
        })
        .collect()
}

impl ConsoleSink {
    pub fn new(
        store: Store,
        board: SharedBoard,
        output: Output,
        style: ConsoleStyle,
        metrics: Metrics,
    ) -> Self {
        let journal = match &output {
            Output::File(p) => read_journal(p),
            Output::Stdout => HashSet::new(),
        };
        ConsoleSink {
            outbox: Outbox::new(store.clone(), metrics),
            store,
            board,
            output,
            style,
            renders: Renders::default(),
            journal: Mutex::new(journal),
        }
    }

    fn write(&self, text: &str) -> std::io::Result<()> {
        match &self.output {
            Output::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes())?;
                out.flush()
            }
            Output::File(p) => {
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)?;
                f.write_all(text.as_bytes())?;
                f.flush()
            }
        }
    }

    /// Delivers every announcement still owed, in order. Returns how many were printed.
    pub async fn drain(&self) -> Result<usize, StoreError> {
        let mut printed = 0;
        loop {
            // Nothing is printed that the store could not record as printed.
            if self.store.fault().is_some() {
                return Ok(printed);
            }
            let items = self.store.undelivered(SinkKind::Console, 200).await?;
            if items.is_empty() {
                break;
            }
            for item in items {
                if self.printed_before(&item.key) {
                    // Printed before a crash, not yet marked: mark it, do not repeat it.
                    self.store.mark_sent(&item, None).await?;
                    continue;
                }
                let Some(p) = self.outbox.claim(self, &self.renders, &item).await? else {
                    continue;
                };
                let delivery = match self.write(&p.text(&item.key)) {
                    Ok(()) => {
                        self.journal
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(item.key.clone());
                        printed += 1;
                        Delivery::Sent(None)
                    }
                    Err(e) => {
                        tracing::error!("console output failed: {e}");
                        Delivery::Retry {
                            at: Utc::now() + chrono::Duration::seconds(1),
                            why: e.to_string(),
                        }
                    }
                };
                if !self.outbox.settle(self, &item, p.seen_at, delivery).await? {
                    return Ok(printed);
                }
            }
        }
        Ok(printed)
    }

    /// Whether the file already holds the announcement `key` (printed before a crash).
    fn printed_before(&self, key: &str) -> bool {
        self.journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(key)
    }

    /// Prints whenever the watcher records events, until `shutdown`, in the loop every
    /// sink runs.
    pub async fn run(self, wake: Wake, shutdown: watch::Receiver<bool>) {
        let outbox = self.outbox.clone();
        worker::run(Arc::new(self), outbox, wake, shutdown).await;
    }
}

impl Sink for ConsoleSink {
    const KIND: SinkKind = SinkKind::Console;
    type Rendered = Printed;

    /// Renders one recorded event (or milestone) as the console shows it.
    async fn render(&self, row: &OutboxItem) -> Result<Option<Printed>, StoreError> {
        let (constituency, version) = (row.constituency_id.as_str(), row.version);
        if let Some(mkey) = crate::store::milestones::key_of(constituency) {
            let Some(stored) = self.store.milestone(mkey).await? else {
                return Ok(None);
            };
            let m = &stored.milestone;
            let board = self.board.read();
            let style = self.style.of(&board);
            // Odd versions are the milestone reached, even ones its undoing.
            let (header, body) = if version % 2 == 1 {
                let embed = milestone::milestone_embed(m, &board.election.name, &style);
                (
                    format!("▶ MILESTONE · {}", milestone::title(m, &style)),
                    text::render(&embed),
                )
            } else {
                let why = stored.why.as_deref().unwrap_or("a correction undid it");
                (
                    format!("▶ MILESTONE CORRECTED · {}", milestone::title(m, &style)),
                    milestone::undone_note(m, why, &style),
                )
            };
            return Ok(Some(Printed {
                header,
                body: format!("{body}\n"),
                seen_at: None,
            }));
        }
        let Some(event) = self.store.event(constituency, version).await? else {
            return Ok(None);
        };
        let before = if version > 1 {
            self.store.event(constituency, version - 1).await?
        } else {
            None
        };
        let board = self.board.read();
        let style = self.style.of(&board);
        let figures = board.compute(&event.declaration);
        let before_figures = before.map(|b| board.compute(&b.declaration));
        let a = announcement(
            event.kind,
            &event.declaration,
            &event.differences,
            &figures,
            before_figures.as_ref(),
            board.race_at(event.seq),
            &style,
        );
        let when = event
            .declaration
            .declared_at
            .map(|t| format!(" · {}", style.time(t)))
            .unwrap_or_default();
        let header = format!(
            "▶ {} · {}{when}",
            label(event.kind),
            event.declaration.result.constituency.name
        );
        let mut body = String::new();
        if let Some(note) = &a.note {
            body.push_str(&text::plain(note));
            body.push('\n');
        }
        body.push_str(&text::render(&a.embed));
        body.push('\n');
        Ok(Some(Printed {
            header,
            body,
            seen_at: Some(event.seen_at),
        }))
    }

    fn seen_at(rendered: &Printed) -> Option<DateTime<Utc>> {
        rendered.seen_at
    }
}

/// The console is one target, printed in event order.
impl Drain for ConsoleSink {
    fn concurrency(&self) -> usize {
        1
    }

    async fn ready(&self) -> bool {
        true
    }

    async fn drain(&self, _target: &str) -> Result<(), StoreError> {
        ConsoleSink::drain(self).await.map(|_| ())
    }
}
