//! `herald store info` and `herald store reset`: what a store holds, and starting it afresh
//! for another election (keeping the channels' subscriptions).

use super::offline::out;
use super::{CliError, LogFormat, StoreArgs, block_on, init_logging};
use crate::store::{Store, Summary};

/// The summary as a person reads it.
fn describe(path: &str, s: &Summary, in_use: Option<&str>) -> String {
    let mut text = format!("store {path}\n");
    match &s.election {
        Some(e) => text.push_str(&format!(
            "election: {} ({}), polling day {}, {} seats{}\n",
            e.name,
            e.id,
            e.date.format("%-d %B %Y"),
            e.total_seats,
            s.source
                .as_ref()
                .map(|src| format!("; first named by {src}"))
                .unwrap_or_default()
        )),
        None => text.push_str("election: none recorded yet\n"),
    }
    for e in &s.also {
        text.push_str(&format!(
            "election: {} ({}), polling day {}, side by side\n",
            e.name,
            e.id,
            e.date.format("%-d %B %Y")
        ));
    }
    let events: u64 = s.events.iter().map(|(_, n)| n).sum();
    let kinds: Vec<String> = s.events.iter().map(|(k, n)| format!("{n} {k}")).collect();
    text.push_str(&format!(
        "declarations: {} seats, {events} events{}\n",
        s.seats,
        if kinds.is_empty() {
            String::new()
        } else {
            format!(" ({})", kinds.join(", "))
        }
    ));
    let mut sinks: Vec<&str> = s.outbox.iter().map(|(sink, _, _)| sink.as_str()).collect();
    sinks.dedup();
    if sinks.is_empty() {
        text.push_str("announcements: none\n");
    }
    for sink in sinks {
        let states: Vec<String> = s
            .outbox
            .iter()
            .filter(|(k, _, _)| k == sink)
            .map(|(_, state, n)| format!("{n} {state}"))
            .collect();
        text.push_str(&format!("announcements to {sink}: {}\n", states.join(", ")));
    }
    text.push_str(&format!(
        "channels: {} subscribed, {} paused\n",
        s.channels, s.paused
    ));
    text.push_str(&match in_use {
        Some(holder) => format!("in use by a herald process ({holder})\n"),
        None => "not in use\n".to_string(),
    });
    text
}

/// Which process holds the store's lock, if one does (read from the lock file; a stale file
/// left by a process that has ended is not a holder).
fn holder(path: &str) -> Option<String> {
    let lock = crate::store::lock_path(std::path::Path::new(path));
    let file = std::fs::OpenOptions::new().read(true).open(&lock).ok()?;
    match file.try_lock_shared() {
        Ok(()) => None,
        Err(_) => Some(
            std::fs::read_to_string(&lock)
                .map(|t| t.trim().to_string())
                .unwrap_or_default(),
        ),
    }
}

pub fn info(a: &StoreArgs) -> Result<(), CliError> {
    init_logging(LogFormat::Text, "warn");
    let path = a.store.clone();
    block_on(async move {
        let store = Store::inspect(&path).await?;
        let summary = store.summary().await?;
        let holder = if crate::store::is_postgres(&path) {
            store.feed_held_by().await?
        } else {
            holder(&path)
        };
        out(&describe(
            &crate::store::shown(&path),
            &summary,
            holder.as_deref(),
        ))
    })
}

pub fn reset(a: &StoreArgs, yes: bool) -> Result<(), CliError> {
    init_logging(LogFormat::Text, "warn");
    let path = a.store.clone();
    block_on(async move {
        if !crate::store::is_postgres(&path) && !std::path::Path::new(&path).is_file() {
            return Err(CliError::new(format!("store {path}: no such file")));
        }
        let shown = crate::store::shown(&path);
        // Opening alone takes the store's lock: a running herald keeps it, and the reset is
        // refused.
        let store = Store::open_alone(&path).await?;
        let summary = store.summary().await?;
        if !yes {
            return out(&format!(
                "{}\nThis would remove every declaration, event and announcement, keeping the {} channel subscription(s). Run again with --yes to do it.\n",
                describe(&shown, &summary, None).trim_end(),
                summary.channels
            ));
        }
        let gone = store.reset().await?;
        store.close().await;
        out(&format!(
            "store {shown} reset: {gone} events and their announcements removed; {} channel subscription(s) kept\n",
            summary.channels
        ))
    })
}
