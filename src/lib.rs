//! herald: election-night results for Discord.
//!
//! The crate is laid out along the path a declaration travels:
//!
//! * [`core`]: the pure election model and arithmetic (no I/O, no Discord types).
//! * [`sources`]: the edge where outside data (results files, feeds) becomes declarations.
//! * [`watch`]: polls a source, detects what changed, records it.
//! * [`store`]: the SQLite store between the two edges (events, outbox, subscriptions).
//! * [`format`]: text, embeds, JSON and charts as plain functions of computed figures.
//! * [`sinks`] and [`discord`]: the output edge (the console; the bot, its commands and the
//!   announcement dispatcher).
//! * [`app`]: wires the watcher, the store and the sinks into one pipeline.
//! * [`observe`]: metrics, `/healthz` and `/metrics`; [`errors`]: how errors are shown;
//!   [`secret`]: secrets that never show themselves.
//! * [`config`], [`cli`]: the configuration file and the `herald` command line;
//!   [`rehearsal`] serves recorded elections, [`demo`] holds the bundled one.

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
