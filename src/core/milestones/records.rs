//! The records of the night (the biggest swing and the closest majority so far) and the
//! race on the hour: milestones that follow a running best, or the clock of the
//! declarations, rather than the tally alone.

use super::{Fired, Milestone, records_from};
use crate::core::board::{Board, Scope};

/// The race on the hour, when a declaration at `t` is the first of a new hour and seats
/// remain to declare (the first hour of the night has the first declaration instead).
pub(super) fn on_the_hour(
    board: &Board,
    t: chrono::DateTime<chrono::Utc>,
    to_declare: u32,
    fired: &mut Fired,
) -> Option<Milestone> {
    use chrono::DurationRound;
    let hour = t.duration_trunc(chrono::TimeDelta::hours(1)).ok()?;
    let was = fired.hour;
    fired.hour = was.max(Some(hour));
    if was.is_none_or(|h| hour <= h) || to_declare == 0 {
        return None;
    }
    let m = Milestone::Hourly {
        at: hour,
        race: board.race(&Scope::All)?,
    };
    if fired.keys.contains(&m.key()) {
        return None;
    }
    fired.note(&m);
    Some(m)
}

/// The biggest swing and the closest majority so far, followed from the first declaration
/// and announced when beaten from [`records_from`] declarations on.
pub(super) fn records(
    figures: &crate::core::arithmetic::Figures,
    seat: &str,
    declared: u32,
    total: u32,
    fired: &mut Fired,
) -> Vec<Milestone> {
    let counts = declared >= records_from(total);
    let mut out = Vec::new();
    if let Some(q) = figures.swing.quote().filter(|q| q.points.is_finite()) {
        let h = (q.points.abs() * 100.0).round() as i64;
        if fired.best_swing.is_none_or(|best| h > best) {
            fired.best_swing = Some(h);
            if counts {
                let m = Milestone::BiggestSwing {
                    seat: seat.to_string(),
                    from: if q.points >= 0.0 {
                        q.from.clone()
                    } else {
                        q.to.clone()
                    },
                    to: if q.points >= 0.0 {
                        q.to.clone()
                    } else {
                        q.from.clone()
                    },
                    hundredths: h,
                    n: fired.swing_records + 1,
                };
                fired.note(&m);
                out.push(m);
            }
        }
    }
    if let (Some(majority), Some(w)) = (figures.majority, figures.winning_candidate())
        && majority > 0
        && fired.closest.is_none_or(|c| majority < c)
    {
        fired.closest = Some(majority);
        if counts {
            let m = Milestone::ClosestMajority {
                seat: seat.to_string(),
                winner: w.party.clone(),
                majority,
                n: fired.closest_records + 1,
            };
            fired.note(&m);
            out.push(m);
        }
    }
    out
}
