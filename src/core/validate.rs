//! Checks that a declared result is plausible before anything is computed or stored.
//!
//! Sources call [`check`] on every declaration they read; a result that fails is refused
//! whole, with the reason, and the last good state stands.

use std::collections::HashSet;

use super::model::{Declaration, DeclarationStatus};

/// Why a declaration was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("no candidates")]
    NoCandidates,
    #[error("candidate {0} has no name")]
    EmptyName(usize),
    #[error("candidate `{name}` ({party}) is listed twice")]
    DuplicateCandidate { name: String, party: String },
    #[error("{votes} votes cast but the electorate is {electorate}")]
    VotesAboveElectorate { votes: u64, electorate: u64 },
    #[error("candidate votes add up to more than {}", u64::MAX)]
    VotesOverflow,
    #[error("candidate votes add up to {sum} but valid votes are given as {stated}")]
    ValidVotesMismatch { sum: u64, stated: u64 },
    #[error("{0} candidates are marked elected, more than the seats filled")]
    SeveralElected(usize),
    #[error(
        "`{elected}` is marked elected with {votes} votes, fewer than `{other}` with {other_votes}"
    )]
    ElectedBehind {
        elected: String,
        votes: u64,
        other: String,
        other_votes: u64,
    },
    #[error("a called seat must name its winner")]
    CallWithoutWinner,
    #[error("the constituency has no id")]
    NoConstituencyId,
    #[error("the constituency has no name")]
    NoConstituencyName,
    #[error("{candidates} candidates stand for {seats} seats: fewer candidates than seats")]
    FewerCandidatesThanSeats { candidates: usize, seats: usize },
}

/// Checks one declaration. Called and recount messages carry no figures, so only their
/// shape is checked.
pub fn check(d: &Declaration) -> Result<(), Invalid> {
    let r = &d.result;
    let seats = crate::core::allocation::Allocation::seats_of(d.allocation.as_deref()) as usize;
    if r.constituency.id.as_str().trim().is_empty() {
        return Err(Invalid::NoConstituencyId);
    }
    if r.constituency.name.trim().is_empty() {
        return Err(Invalid::NoConstituencyName);
    }
    match d.status {
        DeclarationStatus::Recount | DeclarationStatus::Withdrawn => return Ok(()),
        DeclarationStatus::Called => {
            return match r.candidates.iter().filter(|c| c.elected).count() {
                0 => Err(Invalid::CallWithoutWinner),
                n if n <= seats => Ok(()),
                n => Err(Invalid::SeveralElected(n)),
            };
        }
        DeclarationStatus::Declared => {}
    }
    if r.candidates.is_empty() {
        return Err(Invalid::NoCandidates);
    }
    if r.candidates.len() < seats {
        return Err(Invalid::FewerCandidatesThanSeats {
            candidates: r.candidates.len(),
            seats,
        });
    }
    let mut seen = HashSet::new();
    for (i, c) in r.candidates.iter().enumerate() {
        if c.name.trim().is_empty() {
            return Err(Invalid::EmptyName(i + 1));
        }
        if !seen.insert((c.name.trim().to_lowercase(), c.party.clone())) {
            return Err(Invalid::DuplicateCandidate {
                name: c.name.clone(),
                party: c.party.to_string(),
            });
        }
    }
    let sum = r
        .candidates
        .iter()
        .try_fold(0u64, |acc, c| acc.checked_add(c.votes));
    let Some(sum) = sum else {
        return Err(Invalid::VotesOverflow);
    };
    if let Some(stated) = r.valid_votes
        && stated != sum
    {
        return Err(Invalid::ValidVotesMismatch { sum, stated });
    }
    // In a multi-member ward each voter has as many votes as seats.
    if let Some(electorate) = r.electorate.map(|e| e.saturating_mul(seats as u64)) {
        let ballots = sum.saturating_add(r.rejected.unwrap_or(0));
        if ballots > electorate {
            return Err(Invalid::VotesAboveElectorate {
                votes: ballots,
                electorate,
            });
        }
    }
    let elected: Vec<_> = r.candidates.iter().filter(|c| c.elected).collect();
    if elected.len() > seats {
        return Err(Invalid::SeveralElected(elected.len()));
    }
    // The elected with fewest votes must not trail a candidate who was not elected.
    if let Some(winner) = elected.iter().min_by_key(|c| c.votes)
        && let Some(ahead) = r
            .candidates
            .iter()
            .find(|c| !c.elected && c.votes > winner.votes)
    {
        return Err(Invalid::ElectedBehind {
            elected: winner.name.clone(),
            votes: winner.votes,
            other: ahead.name.clone(),
            other_votes: ahead.votes,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::*;

    fn decl(cands: &[(&str, &str, u64, bool)]) -> Declaration {
        Declaration {
            allocation: None,
            result: ConstituencyResult {
                constituency: Constituency {
                    id: ConstituencyId::new("E1"),
                    name: "Somewhere".into(),
                    region: "North East".into(),
                    nation: Nation::England,
                    election: None,
                },
                electorate: Some(1000),
                valid_votes: None,
                rejected: Some(5),
                candidates: cands
                    .iter()
                    .map(|(n, p, v, e)| Candidate {
                        name: n.to_string(),
                        party: PartyId::new(*p),
                        votes: *v,
                        elected: *e,
                    })
                    .collect(),
            },
            declared_at: None,
            revision: 1,
            status: DeclarationStatus::Declared,
            source: None,
        }
    }

    #[test]
    fn accepts_a_plain_result_and_a_tie_settled_by_lot() {
        assert_eq!(
            check(&decl(&[("A", "con", 300, true), ("B", "lab", 200, false)])),
            Ok(())
        );
        assert_eq!(
            check(&decl(&[("A", "con", 300, false), ("B", "lab", 300, true)])),
            Ok(())
        );
    }

    #[test]
    fn refuses_implausible_results() {
        assert_eq!(check(&decl(&[])), Err(Invalid::NoCandidates));
        assert!(matches!(
            check(&decl(&[("A", "con", 900, false), ("B", "lab", 200, false)])),
            Err(Invalid::VotesAboveElectorate {
                votes: 1105,
                electorate: 1000
            })
        ));
        assert!(matches!(
            check(&decl(&[("A", "con", 9, false), ("a ", "con", 2, false)])),
            Err(Invalid::DuplicateCandidate { .. })
        ));
        assert_eq!(
            check(&decl(&[("A", "con", 9, true), ("B", "lab", 2, true)])),
            Err(Invalid::SeveralElected(2))
        );
        assert!(matches!(
            check(&decl(&[("A", "con", 9, true), ("B", "lab", 20, false)])),
            Err(Invalid::ElectedBehind { .. })
        ));
        assert_eq!(
            check(&decl(&[(" ", "con", 9, false)])),
            Err(Invalid::EmptyName(1))
        );
        let mut d = decl(&[("A", "con", 9, false)]);
        d.result.valid_votes = Some(10);
        assert_eq!(
            check(&d),
            Err(Invalid::ValidVotesMismatch { sum: 9, stated: 10 })
        );
        let mut d = decl(&[("A", "con", u64::MAX, false), ("B", "lab", 2, false)]);
        d.result.electorate = None;
        assert_eq!(check(&d), Err(Invalid::VotesOverflow));
        assert_eq!(
            Invalid::VotesOverflow.to_string(),
            "candidate votes add up to more than 18446744073709551615"
        );
    }

    #[test]
    fn a_call_needs_exactly_one_winner() {
        let mut d = decl(&[("A", "con", 0, false), ("B", "lab", 0, false)]);
        d.status = DeclarationStatus::Called;
        assert_eq!(check(&d), Err(Invalid::CallWithoutWinner));
        d.result.candidates[1].elected = true;
        assert_eq!(check(&d), Ok(()));
    }
}
