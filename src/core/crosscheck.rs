//! herald's figures against the source's own. Every figure is computed from the votes; where
//! the source states one too (PA's `gainOrHold`, `winningParty`, `majority`, `swing`,
//! `percentageShareChange`), a difference is reported as a [`Disagreement`], never adopted
//! and never hidden (`shared/docs/election-arithmetic.md`, "The source's own baseline").

use super::arithmetic::{Change, Figures, Outcome, Swing};
use super::model::{DeclarationStatus, Quoted};
use super::parties::PartyRegistry;

/// Which figure disagrees: the label of the disagreement metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Figure {
    Outcome,
    Winner,
    Majority,
    Swing,
    ShareChange,
}

impl Figure {
    pub const ALL: [Figure; 5] = [
        Figure::Outcome,
        Figure::Winner,
        Figure::Majority,
        Figure::Swing,
        Figure::ShareChange,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Figure::Outcome => "outcome",
            Figure::Winner => "winner",
            Figure::Majority => "majority",
            Figure::Swing => "swing",
            Figure::ShareChange => "share_change",
        }
    }
}

/// One figure the source states differently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement {
    pub figure: Figure,
    /// The source's value, as a reader would say it ("gain", "13.36 SNP to Lab").
    pub source: String,
    /// herald's, said the same way.
    pub herald: String,
}

impl std::fmt::Display for Disagreement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: the source says {}, herald computes {}",
            self.figure.as_str(),
            self.source,
            self.herald
        )
    }
}

/// Percentages agree when they round to within one hundredth of a point (the source gives
/// two decimal places).
fn agrees(points: f64, hundredths: i64) -> bool {
    ((points * 100.0).round() as i64 - hundredths).abs() <= 1
}

fn hundredths(h: i64) -> String {
    format!("{:.2}", h as f64 / 100.0)
}

/// Compares `figures` with what the source `quoted`. `same_baseline` says the figures are
/// against the source's own previous result, so that change and swing are comparable; a
/// majority is compared only on a full result.
pub fn compare(
    figures: &Figures,
    quoted: &Quoted,
    status: DeclarationStatus,
    same_baseline: bool,
    parties: &PartyRegistry,
) -> Vec<Disagreement> {
    let mut out = Vec::new();
    let short = |p: &super::model::PartyId| parties.short(p).to_string();
    let same = |a: &super::model::PartyId, b: &super::model::PartyId| {
        parties.current(a) == parties.current(b)
    };

    if let Some(said) = quoted.outcome.as_deref().map(str::to_ascii_lowercase) {
        let ours = match &figures.outcome {
            Outcome::Gain { .. } => Some("gain"),
            Outcome::Hold => Some("hold"),
            Outcome::NoComparison => Some("win"),
            Outcome::Undetermined => None,
        };
        // "win" means the source had nothing to compare with; herald may have a baseline.
        let comparable = said != "win" || same_baseline;
        if let Some(ours) = ours
            && comparable
            && said != ours
        {
            out.push(Disagreement {
                figure: Figure::Outcome,
                source: said,
                herald: ours.to_string(),
            });
        }
    }
    if let Some(said) = &quoted.winner {
        match figures.winning_party() {
            Some(ours) if same(ours, said) => {}
            ours => out.push(Disagreement {
                figure: Figure::Winner,
                source: short(said),
                herald: ours.map_or_else(|| "no winner".to_string(), short),
            }),
        }
    }
    if status == DeclarationStatus::Declared
        && let Some(said) = quoted.majority
        && figures.majority != Some(said)
    {
        out.push(Disagreement {
            figure: Figure::Majority,
            source: said.to_string(),
            herald: figures
                .majority
                .map_or_else(|| "none".to_string(), |m| m.to_string()),
        });
    }
    if !same_baseline || status != DeclarationStatus::Declared {
        return out;
    }
    if let Some(said) = &quoted.swing {
        let described = |from: &str, to: &str, v: String| format!("{v} from {from} to {to}");
        let ours = match &figures.swing {
            Swing::Quoted(q) => Some(q),
            Swing::NotQuoted(_) => None,
        };
        let fine = ours.is_some_and(|q| {
            if same(&q.from, &said.from) && same(&q.to, &said.to) {
                agrees(q.points, said.hundredths)
            } else if same(&q.from, &said.to) && same(&q.to, &said.from) {
                agrees(-q.points, said.hundredths)
            } else {
                false
            }
        });
        if !fine {
            out.push(Disagreement {
                figure: Figure::Swing,
                source: described(
                    &short(&said.from),
                    &short(&said.to),
                    hundredths(said.hundredths),
                ),
                herald: ours.map_or_else(
                    || "no swing".to_string(),
                    |q| described(&short(&q.from), &short(&q.to), format!("{:.2}", q.points)),
                ),
            });
        }
    }
    for (party, said) in &quoted.share_changes {
        if party.is_independent() {
            continue;
        }
        let ours = figures
            .candidates
            .iter()
            .find(|c| same(&c.party, party))
            .map(|c| &c.change);
        let herald = match ours {
            Some(Change::Points(p)) if agrees(*p, *said) => continue,
            Some(Change::Points(p)) => format!("{p:+.2}"),
            Some(Change::New) => "new".to_string(),
            Some(Change::NoBaseline) | None => "none".to_string(),
        };
        out.push(Disagreement {
            figure: Figure::ShareChange,
            source: format!("{} {:+.2}", short(party), *said as f64 / 100.0),
            herald: format!("{} {herald}", short(party)),
        });
    }
    out
}
