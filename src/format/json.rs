//! The machine-readable face of the core: one JSON object per constituency and one for
//! the nation, as `herald compute --json` prints them. Percentages are in percent (51.88,
//! not 0.5188) at full precision.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::result::Declared;
use crate::core::arithmetic::{Change, NoSwing, Outcome, Swing, Winner};
use crate::core::national::Tally;

/// The object for one constituency.
pub fn constituency(d: &Declared) -> Value {
    let f = d.figures;
    let status = match (&f.outcome, &f.winner) {
        (Outcome::Gain { .. }, _) => "gain",
        (Outcome::Hold, _) => "hold",
        (Outcome::NoComparison, _) => "win",
        (Outcome::Undetermined, Winner::Tie(_)) => "tie",
        (Outcome::Undetermined, _) => "none",
    };
    let gained_from = match &f.outcome {
        Outcome::Gain { from } => json!(from),
        _ => Value::Null,
    };
    let (swing, swing_note) = match &f.swing {
        Swing::Quoted(q) => (
            json!({"from": q.from, "to": q.to, "points": q.points}),
            Value::Null,
        ),
        Swing::NotQuoted(why) => (
            Value::Null,
            json!(match why {
                NoSwing::NoBaseline => "no baseline".to_string(),
                NoSwing::NoPair => "no winner and runner-up".to_string(),
                NoSwing::NotStoodBefore(p) => format!("{p} did not stand in the baseline"),
                NoSwing::NotStandingNow(p) => format!("{p} did not stand this time"),
            }),
        ),
    };
    let candidates: Vec<Value> = f
        .candidates
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "party": c.party,
                "votes": c.votes,
                "share": c.share,
                "change": c.change.points(),
                "new": matches!(c.change, Change::New),
                "elected": f.winning_candidate() == Some(c),
            })
        })
        .collect();
    let departed: Vec<Value> = f
        .departed
        .iter()
        .map(
            |d| json!({"party": d.party, "candidate": d.candidate, "share_before": d.share_before}),
        )
        .collect();
    json!({
        "type": "constituency",
        "id": f.constituency.id,
        "name": f.constituency.name,
        "region": f.constituency.region,
        "nation": f.constituency.nation,
        "declared_at": d.declared_at.map(|t| t.to_rfc3339()),
        "revision": d.revision,
        "winner": f.winning_candidate().map(|w| json!({"name": w.name, "party": w.party})),
        "status": status,
        "gained_from": gained_from,
        "majority": f.majority,
        "majority_pct": f.majority_pct,
        "turnout_pct": f.turnout.map(|t| t.pct),
        "turnout_basis": f.turnout.map(|t| t.basis),
        "turnout_change": f.turnout_change,
        "valid_votes": f.total_votes,
        "rejected": f.rejected,
        "electorate": f.electorate,
        "swing": swing,
        "swing_note": swing_note,
        "candidates": candidates,
        "departed": departed,
    })
}

/// The object for the nation (or any tallied set of constituencies).
pub fn nation(t: &Tally) -> Value {
    let map = |f: &dyn Fn(&crate::core::national::PartyTally) -> Option<Value>| -> BTreeMap<String, Value> {
        t.parties
            .iter()
            .filter_map(|p| f(p).map(|v| (p.party.to_string(), v)))
            .collect()
    };
    json!({
        "type": "nation",
        "declared": t.declared,
        "total": t.total_seats,
        "to_declare": t.to_declare,
        "majority_line": t.majority_line,
        "majority_party": t.majority_party,
        "leader": t.leader,
        "seats": map(&|p| (p.seats > 0).then(|| json!(p.seats))),
        "seat_change": map(&|p| (p.seat_change != 0).then(|| json!(p.seat_change))),
        "gains": map(&|p| (p.gains > 0).then(|| json!(p.gains))),
        "losses": map(&|p| (p.losses > 0).then(|| json!(p.losses))),
        "votes": map(&|p| Some(json!(p.votes))),
        "vote_share": map(&|p| Some(json!(p.share))),
        "vote_share_change": map(&|p| p.share_change.map(|c| json!(c))),
        "total_votes": t.total_votes,
        "swing": t.swing.as_ref().map(|q| json!({"from": q.from, "to": q.to, "points": q.points})),
    })
}
