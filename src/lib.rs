//! herald: election-night results for Discord.
//!
//! The crate is laid out along the path a declaration travels, from the feed to a channel:
//!
//! 1. [`sources`]: the input edge. A results file, a feed over HTTP, a folder (local or on
//!    PA's FTP/SFTP server) or Democracy Club's JSON becomes declarations
//!    (`sources::formats` reads each published format; `sources::merge` picks the revision
//!    that stands).
//! 2. [`core`]: the pure election model and arithmetic, no I/O and no Discord types: a
//!    result's figures, councils and list seats, the board holding the night, what changed
//!    between polls, milestones, the projection, subscription filters.
//! 3. [`watch`]: polls a source, detects what changed against what is recorded, records it
//!    and puts it on the board (or, where another process sharing the store polls the
//!    feed, follows what that one records).
//! 4. [`store`]: between the two edges, SQLite or PostgreSQL: every event, the outbox (each
//!    event queued once per subscription filter; a row per message sent), subscriptions,
//!    milestones; on PostgreSQL, how several processes share it (shards, the feed, which
//!    process drains which channel).
//! 5. [`format`]: what every sink says, as plain functions of computed figures: embeds,
//!    text, JSON and charts.
//! 6. [`sinks`] and [`discord`]: the output edge. The `Sink` trait and the outbox steps
//!    every sink shares (render once per event, claim, record, count); the console; the
//!    bot with its commands, and the dispatcher, Discord's sink, that drains the outbox into
//!    channels within Discord's limits.
//!
//! Around them: [`app`] wires the watcher, the store and the sinks into one pipeline;
//! [`observe`] serves metrics and `/healthz`; [`errors`] says how errors are shown;
//! [`secret`] holds secrets that never show themselves; [`config`] and [`cli`] are the
//! configuration file and the `herald` command line; [`rehearsal`] serves recorded
//! elections and [`demo`] holds the bundled one.

pub mod app;
pub mod cli;
pub mod config;
pub mod core;
pub mod demo;
pub mod discord;
pub mod errors;
pub mod format;
pub mod observe;
pub mod rehearsal;
pub mod secret;
pub mod sinks;
pub mod sources;
pub mod store;
pub mod watch;
