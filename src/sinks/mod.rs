//! The output edge: where announcements go. Each sink drains its rows of the store's
//! outbox in event order.
//!
//! * [`console`]: the terminal (or a file), as `herald watch --console` and the demo use.

pub mod console;
