//! What herald reports about itself: metrics (Prometheus/OpenMetrics text) and health.

pub mod metrics;
mod process;
pub mod server;

pub use metrics::Metrics;
