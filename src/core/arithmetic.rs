//! The figures of one constituency, as `shared/docs/election-arithmetic.md` defines them:
//! share, winner, majority, turnout, change in share, hold or gain, and Butler swing.
//!
//! [`compute`] is a pure function of a declared result, its baseline and the party
//! registry (for successions). Every sink shows what it returns; nothing recomputes a
//! figure elsewhere. Full precision is kept; rounding is for display only.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::{Constituency, ConstituencyResult, PartyId};
use super::parties::PartyRegistry;

/// Who a candidate is, for matching against the baseline: a party, or one independent.
///
/// Independents are candidates, not a party, so two different independents never match.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Contender {
    Party(PartyId),
    Independent(String),
}

impl Contender {
    /// The contender a candidate stands as, with `party` already mapped through successions.
    fn of(name: &str, party: &PartyId) -> Contender {
        if party.is_independent() {
            Contender::Independent(normalise_person(name))
        } else {
            Contender::Party(party.clone())
        }
    }
}

fn normalise_person(name: &str) -> String {
    deunicode::deunicode(name)
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The change in a candidate's party share since the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub enum Change {
    /// Percentage points (now − before).
    Points(f64),
    /// The party (or independent) did not stand in the baseline.
    New,
    /// There is no baseline for this constituency.
    NoBaseline,
}

impl Change {
    pub fn points(self) -> Option<f64> {
        match self {
            Change::Points(p) => Some(p),
            _ => None,
        }
    }
}

/// One candidate with their derived figures.
#[derive(Clone, Debug, PartialEq)]
pub struct CandidateFigures {
    pub name: String,
    /// The party as declared (not mapped through successions).
    pub party: PartyId,
    pub votes: u64,
    /// Percent of the votes cast for all candidates (0 when no votes were cast).
    pub share: f64,
    pub change: Change,
    pub elected: bool,
}

/// Who won.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Winner {
    /// Index into [`Figures::candidates`].
    Elected(usize),
    /// No candidate is marked elected and the top candidates are level: a tie settled by
    /// lot, which the source has not yet reported. Indices of the tied candidates.
    Tie(Vec<usize>),
    /// There are no candidates.
    Nobody,
}

/// Which denominator turnout was computed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnoutBasis {
    /// Ballot papers counted: valid votes plus rejected ballots.
    Ballots,
    /// Valid votes only (the source gave no rejected count).
    ValidVotes,
}

impl TurnoutBasis {
    pub fn describe(self) -> &'static str {
        match self {
            TurnoutBasis::Ballots => "ballot papers counted, including rejected",
            TurnoutBasis::ValidVotes => "valid votes only",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Turnout {
    pub pct: f64,
    pub basis: TurnoutBasis,
}

/// Hold or gain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The winner's party differs from the baseline winner's party.
    Gain {
        from: PartyId,
    },
    Hold,
    /// No baseline to compare with (a new seat, or none configured).
    NoComparison,
    /// There is no winner yet (an unresolved tie, or no candidates).
    Undetermined,
}

/// A two-party (Butler) swing, positive towards `to`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SwingQuote {
    pub from: PartyId,
    pub to: PartyId,
    pub points: f64,
}

/// Why no swing is quoted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoSwing {
    NoBaseline,
    /// There is no winner, or no runner-up, to quote a swing between.
    NoPair,
    /// The party did not stand in the baseline election.
    NotStoodBefore(PartyId),
    /// The party stood in the baseline but not this time.
    NotStandingNow(PartyId),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Swing {
    Quoted(SwingQuote),
    NotQuoted(NoSwing),
}

impl Swing {
    pub fn quote(&self) -> Option<&SwingQuote> {
        match self {
            Swing::Quoted(q) => Some(q),
            Swing::NotQuoted(_) => None,
        }
    }
}

/// A party or independent that stood in the baseline but not this time.
#[derive(Clone, Debug, PartialEq)]
pub struct Departed {
    /// Party, mapped through successions.
    pub party: PartyId,
    /// Set for an independent: their name in the baseline.
    pub candidate: Option<String>,
    pub share_before: f64,
}

/// What the national tally needs of a constituency's baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct BaselineSummary {
    /// The party that held the seat: the one the source names as defending it, else the
    /// baseline winner's, mapped through successions (None on a tied baseline).
    pub winner: Option<PartyId>,
    /// Votes by party (mapped through successions; independents pooled under `ind`).
    pub votes: BTreeMap<PartyId, u64>,
    pub total_votes: u64,
    pub turnout: Option<Turnout>,
}

/// Every figure of one declared constituency.
#[derive(Clone, Debug, PartialEq)]
pub struct Figures {
    pub constituency: Constituency,
    /// V: the sum of votes cast for all candidates.
    pub total_votes: u64,
    pub electorate: Option<u64>,
    pub rejected: Option<u64>,
    /// Highest votes first; level candidates keep the source's order.
    pub candidates: Vec<CandidateFigures>,
    pub winner: Winner,
    pub majority: Option<u64>,
    pub majority_pct: Option<f64>,
    pub turnout: Option<Turnout>,
    /// Turnout now minus turnout in the baseline, in points.
    pub turnout_change: Option<f64>,
    pub outcome: Outcome,
    pub swing: Swing,
    pub departed: Vec<Departed>,
    pub baseline: Option<BaselineSummary>,
    /// The comparison is with a notional result ("gain from notional SNP").
    pub notional: bool,
    /// How to name the previous election where it is the source's own, not the configured
    /// baseline ("2021 (notional)"); set by the board, which knows which one it used.
    pub since: Option<String>,
    /// The election's name, where the source names elections per seat (PA, whose folders
    /// can hold several side by side); set by the board.
    pub election: Option<String>,
    /// Sitting members (of this seat or another) who stood here and lost: name and party
    /// (set by the board, where the source names sitting members).
    pub sitting_defeated: Vec<(String, PartyId)>,
    /// The figures of a declaration in seats (a council, a list), set by the board; its
    /// candidates are then empty.
    pub seats: Option<Box<SeatFigures>>,
    /// In a multi-member ward, the candidates elected besides [`Figures::winner`] (indices
    /// into the candidates, most votes first); set by the board.
    pub also_elected: Vec<usize>,
}

/// The figures of a declaration in seats rather than by one winner.
#[derive(Clone, Debug, PartialEq)]
pub enum SeatFigures {
    Council(super::council::CouncilFigures),
    List(super::lists::ListFigures),
}

impl SeatFigures {
    /// Where the source's figures disagree with themselves or with herald's, with the
    /// figure's name for metrics ("control", "list_seats").
    pub fn problems(&self) -> (&'static str, &[String]) {
        match self {
            SeatFigures::Council(c) => ("control", &c.problems),
            SeatFigures::List(l) => ("list_seats", &l.problems),
        }
    }
}

impl Figures {
    /// Whether the seat (or council) changed hands.
    pub fn is_gain(&self) -> bool {
        match self.seats.as_deref() {
            Some(SeatFigures::Council(c)) => {
                matches!(c.outcome, super::council::CouncilOutcome::Gain { .. })
            }
            Some(SeatFigures::List(_)) => false,
            None => matches!(self.outcome, Outcome::Gain { .. }),
        }
    }

    pub fn winning_candidate(&self) -> Option<&CandidateFigures> {
        match self.winner {
            Winner::Elected(i) => self.candidates.get(i),
            _ => None,
        }
    }

    /// The best-placed candidate other than the winner.
    pub fn runner_up(&self) -> Option<&CandidateFigures> {
        match self.winner {
            Winner::Elected(w) => self
                .candidates
                .iter()
                .enumerate()
                .find(|(i, _)| *i != w)
                .map(|(_, c)| c),
            _ => None,
        }
    }

    pub fn winning_party(&self) -> Option<&PartyId> {
        self.winning_candidate().map(|c| &c.party)
    }
}

/// `part / whole × 100`, or 0 when nothing was cast (never NaN).
pub fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64 * 100.0
    }
}

/// Two-party (Butler) swing from A to B, positive towards B:
/// `((B_now − B_before) − (A_now − A_before)) / 2`.
pub fn butler_swing(a_now: f64, a_before: f64, b_now: f64, b_before: f64) -> f64 {
    ((b_now - b_before) - (a_now - a_before)) / 2.0
}

/// Candidates' shares keyed by contender, with successions applied to `party`.
struct Shares {
    votes: BTreeMap<Contender, u64>,
    total: u64,
}

impl Shares {
    fn of(result: &ConstituencyResult, parties: &PartyRegistry) -> Shares {
        let mut votes = BTreeMap::new();
        for c in &result.candidates {
            let party = parties.current(&c.party);
            *votes.entry(Contender::of(&c.name, party)).or_insert(0) += c.votes;
        }
        Shares {
            votes,
            total: result.total_votes(),
        }
    }

    fn share(&self, who: &Contender) -> Option<f64> {
        self.votes.get(who).map(|v| pct(*v, self.total))
    }
}

/// Order of candidates: most votes first; a stable sort keeps the source's order on ties.
fn ranked(result: &ConstituencyResult) -> Vec<usize> {
    let mut order: Vec<usize> = (0..result.candidates.len()).collect();
    order.sort_by(|&a, &b| result.candidates[b].votes.cmp(&result.candidates[a].votes));
    order
}

/// The winner among ranked candidates: the one marked elected, else the unique top.
fn find_winner(result: &ConstituencyResult, order: &[usize]) -> Winner {
    if order.is_empty() {
        return Winner::Nobody;
    }
    // If a source marks more than one candidate (it should not, and loaders refuse it),
    // take the best-placed of them rather than guess among the rest.
    if let Some(pos) = order.iter().position(|&i| result.candidates[i].elected) {
        return Winner::Elected(pos);
    }
    let top = result.candidates[order[0]].votes;
    let level: Vec<usize> = order
        .iter()
        .enumerate()
        .filter(|(_, i)| result.candidates[**i].votes == top)
        .map(|(pos, _)| pos)
        .collect();
    if level.len() == 1 {
        Winner::Elected(0)
    } else {
        Winner::Tie(level)
    }
}

fn turnout_of(result: &ConstituencyResult) -> Option<Turnout> {
    let electorate = result.electorate.filter(|e| *e > 0)?;
    let (ballots, basis) = match result.rejected {
        Some(rejected) => (result.total_votes() + rejected, TurnoutBasis::Ballots),
        None => (result.total_votes(), TurnoutBasis::ValidVotes),
    };
    Some(Turnout {
        pct: pct(ballots, electorate),
        basis,
    })
}

fn summarise_baseline(before: &ConstituencyResult, parties: &PartyRegistry) -> BaselineSummary {
    let order = ranked(before);
    let winner = match find_winner(before, &order) {
        Winner::Elected(pos) => Some(
            parties
                .current(&before.candidates[order[pos]].party)
                .clone(),
        ),
        _ => None,
    };
    let mut votes = BTreeMap::new();
    for c in &before.candidates {
        *votes.entry(parties.current(&c.party).clone()).or_insert(0) += c.votes;
    }
    BaselineSummary {
        winner,
        votes,
        total_votes: before.total_votes(),
        turnout: turnout_of(before),
    }
}

/// What a result is compared with: its previous result, and the party defending the seat
/// where the source names one.
#[derive(Clone, Copy, Debug, Default)]
pub struct Against<'a> {
    pub previous: Option<&'a ConstituencyResult>,
    /// The previous result is notional (an estimate on new boundaries).
    pub notional: bool,
    /// The party defending the seat; else the previous winner's.
    pub defending: Option<&'a PartyId>,
}

/// Computes every figure of `result` against its `baseline` (the previous result in the
/// same constituency, if any). `parties` supplies the configured successions.
pub fn compute(
    result: &ConstituencyResult,
    baseline: Option<&ConstituencyResult>,
    parties: &PartyRegistry,
) -> Figures {
    compute_against(
        result,
        Against {
            previous: baseline,
            ..Against::default()
        },
        parties,
    )
}

/// [`compute`] against a previous result that may be notional, with the defending party
/// the source names: hold or gain is against that party where given (the arithmetic note's
/// hold/gain row), else against the previous winner.
pub fn compute_against(
    result: &ConstituencyResult,
    against: Against<'_>,
    parties: &PartyRegistry,
) -> Figures {
    let baseline = against.previous;
    let order = ranked(result);
    let total = result.total_votes();
    let now = Shares::of(result, parties);
    let before = baseline.map(|b| Shares::of(b, parties));

    let candidates: Vec<CandidateFigures> = order
        .iter()
        .map(|&i| {
            let c = &result.candidates[i];
            let who = Contender::of(&c.name, parties.current(&c.party));
            let share = pct(c.votes, total);
            let change = match &before {
                None => Change::NoBaseline,
                Some(b) => match (b.share(&who), now.share(&who)) {
                    (Some(then), Some(party_now)) => Change::Points(party_now - then),
                    _ => Change::New,
                },
            };
            CandidateFigures {
                name: c.name.clone(),
                party: c.party.clone(),
                votes: c.votes,
                share,
                change,
                elected: c.elected,
            }
        })
        .collect();

    let winner = find_winner(result, &order);
    let (majority, majority_pct) = match winner {
        Winner::Elected(w) => {
            let best_loser = candidates
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != w)
                .map(|(_, c)| c.votes)
                .max();
            let win = candidates[w].votes;
            // Unopposed: the whole vote is the majority. A marked winner with fewer votes
            // than a loser is refused by the loaders; never report a negative majority.
            let m = best_loser.map_or(win, |l| win.saturating_sub(l));
            (Some(m), Some(pct(m, total)))
        }
        _ => (None, None),
    };

    let turnout = turnout_of(result);
    let defending = against.defending.map(|p| parties.current(p).clone());
    let summary = baseline.map(|b| {
        let mut s = summarise_baseline(b, parties);
        if let Some(d) = &defending {
            s.winner = Some(d.clone());
        }
        s
    });
    let turnout_change = match (turnout, summary.as_ref().and_then(|s| s.turnout)) {
        (Some(now), Some(then)) => Some(now.pct - then.pct),
        _ => None,
    };

    // Each side of a comparison is a contender (for matching) with the party it stood
    // under at that election (for display).
    let standing = |c: &CandidateFigures| {
        (
            Contender::of(&c.name, parties.current(&c.party)),
            c.party.clone(),
        )
    };
    let winner_who = match winner {
        Winner::Elected(w) => Some(standing(&candidates[w])),
        _ => None,
    };
    let runner_up = match winner {
        Winner::Elected(w) => candidates
            .iter()
            .enumerate()
            .find(|(i, _)| *i != w)
            .map(|(_, c)| standing(c)),
        _ => None,
    };

    // The baseline holder, to compare with this time's winner.
    let holder = baseline.and_then(|b| {
        let order = ranked(b);
        match find_winner(b, &order) {
            Winner::Elected(pos) => {
                let c = &b.candidates[order[pos]];
                Some((
                    Contender::of(&c.name, parties.current(&c.party)),
                    c.party.clone(),
                ))
            }
            _ => None,
        }
    });

    // The party defending the seat, where the source names it, stands in for the holder.
    let holder = match (&defending, against.defending) {
        (Some(d), Some(shown)) => Some((Contender::Party(d.clone()), shown.clone())),
        _ => holder,
    };
    let outcome = match (&winner_who, baseline, &holder) {
        (None, _, _) => Outcome::Undetermined,
        (Some((w, _)), None, Some((h, held_by))) if against.defending.is_some() => {
            if same_side(w, h) {
                Outcome::Hold
            } else {
                Outcome::Gain {
                    from: held_by.clone(),
                }
            }
        }
        (Some(_), None, _) | (Some(_), Some(_), None) => Outcome::NoComparison,
        (Some((w, _)), Some(_), Some((h, _))) if same_side(w, h) => Outcome::Hold,
        (Some(_), Some(_), Some((_, held_by))) => Outcome::Gain {
            from: held_by.clone(),
        },
    };

    let swing = match (&before, &winner_who) {
        (None, _) => Swing::NotQuoted(NoSwing::NoBaseline),
        (Some(_), None) => Swing::NotQuoted(NoSwing::NoPair),
        (Some(b), Some(w)) => {
            let pair = match &outcome {
                Outcome::Gain { .. } => holder.clone(),
                _ => runner_up,
            };
            match pair {
                None => Swing::NotQuoted(NoSwing::NoPair),
                Some(from) => quote_swing(&now, b, &from, w, &outcome),
            }
        }
    };

    let mut departed: Vec<Departed> = Vec::new();
    if let (Some(b), Some(base)) = (&before, baseline) {
        let mut seen = Vec::new();
        for c in &base.candidates {
            let who = Contender::of(&c.name, parties.current(&c.party));
            if now.votes.contains_key(&who) || seen.contains(&who) {
                continue;
            }
            departed.push(Departed {
                party: c.party.clone(),
                candidate: matches!(who, Contender::Independent(_)).then(|| c.name.clone()),
                share_before: b.share(&who).unwrap_or(0.0),
            });
            seen.push(who);
        }
        departed.sort_by(|a, b| {
            b.share_before
                .partial_cmp(&a.share_before)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.party.cmp(&b.party))
        });
    }

    Figures {
        constituency: result.constituency.clone(),
        total_votes: total,
        electorate: result.electorate,
        rejected: result.rejected,
        candidates,
        winner,
        majority,
        majority_pct,
        turnout,
        turnout_change,
        outcome,
        swing,
        departed,
        baseline: summary,
        notional: against.notional && (baseline.is_some() || against.defending.is_some()),
        since: None,
        election: None,
        sitting_defeated: Vec::new(),
        seats: None,
        also_elected: Vec::new(),
    }
}

/// Whether the winner is the holder's side: the same contender, or an independent where
/// the source names independents as the defending "party".
fn same_side(winner: &Contender, holder: &Contender) -> bool {
    match (winner, holder) {
        (Contender::Independent(_), Contender::Party(p)) => p.is_independent(),
        _ => winner == holder,
    }
}

/// Quotes the swing between `from` and `to` (each a contender with the party it stood
/// under). On a gain the direction is fixed, from the holder to the winner; on a hold it is
/// quoted towards whichever side it favours.
fn quote_swing(
    now: &Shares,
    before: &Shares,
    from: &(Contender, PartyId),
    to: &(Contender, PartyId),
    outcome: &Outcome,
) -> Swing {
    for (who, party) in [from, to] {
        if before.share(who).is_none() {
            return Swing::NotQuoted(NoSwing::NotStoodBefore(party.clone()));
        }
        if now.share(who).is_none() {
            return Swing::NotQuoted(NoSwing::NotStandingNow(party.clone()));
        }
    }
    let share = |s: &Shares, who| s.share(who).unwrap_or(0.0);
    let points = butler_swing(
        share(now, &from.0),
        share(before, &from.0),
        share(now, &to.0),
        share(before, &to.0),
    );
    let (from, to, points) = match outcome {
        Outcome::Gain { .. } => (from, to, points),
        _ if points < 0.0 => (to, from, -points),
        _ => (from, to, points),
    };
    Swing::Quoted(SwingQuote {
        from: from.1.clone(),
        to: to.1.clone(),
        points,
    })
}
