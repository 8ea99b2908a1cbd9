//! The process's own CPU time, resident memory and start time, read from `/proc` at each
//! scrape (Linux; elsewhere the series read zero).

use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

pub struct Process {
    pub cpu_seconds: ConstCounter<f64>,
    pub resident_bytes: ConstGauge<i64>,
    pub start_seconds: ConstGauge<f64>,
}

/// The system's clock ticks per second and page size.
fn sysconf() -> (f64, i64) {
    // SAFETY: sysconf only reads system constants; it has no preconditions.
    let (ticks, page): (libc::c_long, libc::c_long) = unsafe {
        (
            libc::sysconf(libc::_SC_CLK_TCK),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    let ticks = if ticks > 0 { ticks as f64 } else { 100.0 };
    #[allow(clippy::useless_conversion)] // c_long is i64 on the 64-bit Linux herald ships for
    let page: i64 = page.into();
    (ticks, if page > 0 { page } else { 4096 })
}

/// (user + system CPU ticks, start time in ticks since boot) from `/proc/self/stat`.
fn stat() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name is in parentheses and may hold spaces: fields start after the last ')'.
    let rest = text.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3 of the whole line, so field n is fields[n - 3].
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    let start: u64 = fields.get(22 - 3)?.parse().ok()?;
    Some((utime + stime, start))
}

fn boot_time() -> Option<u64> {
    std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

fn resident_pages() -> Option<i64> {
    std::fs::read_to_string("/proc/self/statm")
        .ok()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

pub fn sample() -> Process {
    let (ticks, page) = sysconf();
    let (cpu, start) = stat().unwrap_or((0, 0));
    let started = boot_time().map_or(0.0, |b| b as f64 + start as f64 / ticks);
    Process {
        cpu_seconds: ConstCounter::new(cpu as f64 / ticks),
        resident_bytes: ConstGauge::new(resident_pages().unwrap_or(0) * page),
        start_seconds: ConstGauge::new(started),
    }
}
