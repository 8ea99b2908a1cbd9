//! herald: election-night results for Discord.
//!
//! The crate is laid out along the path a declaration travels:
//!
//! * [`core`]: the pure election model and arithmetic (no I/O, no Discord types).
//! * [`sources`]: the edge where outside data (results files, feeds) becomes declarations.
//! * [`format`]: text, embeds and JSON as plain functions of computed figures.
//! * [`cli`]: the `herald` command line.

pub mod app;
pub mod cli;
pub mod config;
pub mod core;
pub mod demo;
pub mod discord;
pub mod format;
pub mod observe;
pub mod rehearsal;
pub mod sinks;
pub mod sources;
pub mod store;
pub mod watch;
