//! herald's integration tests, as one test binary: one link of herald, serenity and the
//! fake Discord (`crates/fake-discord`) instead of one per file, and one process whose test
//! threads are kept busy across files. Each module is one area; `support` holds what they
//! share, and [`app::TestApp`], herald's whole pipeline started against a
//! fake feed and the fake Discord.
//!
//! Run one area with `cargo test --test it fanout::` (a module path filters the tests).

mod app;
mod support;

mod backlog;
mod charts;
mod cli;
mod core_arithmetic;
mod core_changes;
mod discord;
mod fake_discord_selftest;
mod fanout;
mod faults;
mod feed_schema;
mod fuzz_regressions;
mod loaders;
mod ops;
mod pa_xml;
mod postgres_outage;
mod processes;
mod real_data;
mod remote;
mod store;
mod store_engines;
mod watch;
