//! The figures of list seats (a Scottish region's additional members, a Senedd
//! constituency's closed lists): each party's list votes and share, herald's own d'Hondt
//! allocation where it can make one, and the source's allocation compared with it.

use super::allocation::{ListMember, ListSeats, PartySeats};
use super::dhondt::{Allocated, allocate};
use super::model::PartyId;

/// A list's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct ListFigures {
    /// The seats as they stand: herald's allocation where it made one, else the source's.
    pub seats: Vec<PartySeats>,
    /// herald's own allocation, where the votes (and, for additional members, the
    /// constituency seats won in the region) are known.
    pub computed: Option<Allocated>,
    /// Why herald made no allocation of its own, where it made none.
    pub unchecked: Option<String>,
    /// List votes by party with their share in percent, most first.
    pub votes: Vec<(PartyId, u64, f64)>,
    pub total_votes: u64,
    /// Where the source's allocation differs from herald's, in words.
    pub problems: Vec<String>,
    /// The members the source says are elected.
    pub elected: Vec<ListMember>,
}

/// Computes a list's figures. `constituency_seats` are the seats each party won in the
/// region's constituencies, where known (needed for additional members only).
pub fn list_figures(list: &ListSeats, constituency_seats: Option<&[PartySeats]>) -> ListFigures {
    let total_votes: u64 = list.votes.iter().map(|(_, v)| v).sum();
    let mut votes: Vec<(PartyId, u64, f64)> = list
        .votes
        .iter()
        .map(|(p, v)| {
            let share = if total_votes == 0 {
                0.0
            } else {
                *v as f64 * 100.0 / total_votes as f64
            };
            (p.clone(), *v, share)
        })
        .collect();
    votes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let source = list.by_party();
    let (computed, unchecked) = if list.votes.is_empty() {
        (None, Some("no list votes yet (a call)".to_string()))
    } else if list.additional {
        match constituency_seats {
            Some(won) => (Some(allocate(list.seats, &list.votes, won)), None),
            None => (
                None,
                Some("herald does not know the constituency seats won in this region".to_string()),
            ),
        }
    } else {
        (Some(allocate(list.seats, &list.votes, &[])), None)
    };
    let mut problems = Vec::new();
    if let Some(a) = &computed
        && !source.is_empty()
        && a.seats != source
    {
        let say = |s: &[PartySeats]| {
            s.iter()
                .map(|p| format!("{} {}", p.party, p.seats))
                .collect::<Vec<_>>()
                .join(", ")
        };
        problems.push(format!(
            "the source elects {}; d'Hondt on the votes given allocates {}",
            say(&source),
            say(&a.seats)
        ));
    }
    ListFigures {
        seats: computed.as_ref().map_or(source, |a| a.seats.clone()),
        computed,
        unchecked,
        votes,
        total_votes,
        problems,
        elected: list.elected.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(p: &str) -> ListMember {
        ListMember {
            name: format!("{p} member"),
            party: PartyId::new(p),
            rank: None,
        }
    }

    #[test]
    fn closed_lists_are_checked_and_a_disagreement_is_said() {
        let list = ListSeats {
            seats: 2,
            additional: false,
            votes: vec![(PartyId::new("a"), 300), (PartyId::new("b"), 100)],
            elected: vec![member("a"), member("b")],
        };
        // 300 and 150 beat 100: A takes both.
        let f = list_figures(&list, None);
        assert_eq!(f.seats.len(), 1);
        assert_eq!(f.seats[0].seats, 2);
        assert_eq!(
            f.problems,
            ["the source elects a 1, b 1; d'Hondt on the votes given allocates a 2"]
        );
        assert_eq!((f.votes[0].2, f.total_votes), (75.0, 400));
        // Additional members without the region's constituency seats: the source's stand,
        // unchecked, saying why.
        let ams = ListSeats {
            additional: true,
            ..list
        };
        let f = list_figures(&ams, None);
        assert!(f.computed.is_none() && f.problems.is_empty());
        assert_eq!(f.seats.iter().map(|p| p.seats).sum::<u32>(), 2);
        assert!(f.unchecked.unwrap().contains("constituency seats"));
    }
}

#[cfg(test)]
mod board_tests {
    //! Additional members against the constituency seats the board holds for the region.
    use crate::core::allocation::{Allocation, ListMember, ListSeats};
    use crate::core::arithmetic::SeatFigures;
    use crate::core::board::Board;
    use crate::core::model::*;

    fn declaration(
        id: &str,
        name: &str,
        candidates: Vec<Candidate>,
        allocation: Option<Allocation>,
    ) -> Declaration {
        Declaration {
            result: ConstituencyResult {
                constituency: Constituency {
                    id: ConstituencyId::new(id),
                    name: name.into(),
                    region: "Scotland".into(),
                    nation: Nation::Scotland,
                    election: None,
                },
                electorate: None,
                valid_votes: None,
                rejected: None,
                candidates,
            },
            declared_at: None,
            revision: 1,
            status: DeclarationStatus::Declared,
            source: None,
            allocation: allocation.map(Box::new),
        }
    }

    fn seat(id: &str, name: &str) -> Declaration {
        let c = |party: &str, votes: u64| Candidate {
            name: format!("{party} candidate"),
            party: PartyId::new(party),
            votes,
            elected: false,
        };
        declaration(id, name, vec![c("con", 600), c("lab", 400)], None)
    }

    #[test]
    fn the_region_s_constituency_seats_count_against_its_list_seats() {
        let election = Election {
            id: "s".into(),
            name: "Scottish Parliament".into(),
            date: chrono::NaiveDate::from_ymd_opt(2026, 5, 7).unwrap_or_default(),
            total_seats: 5,
        };
        let mut b = Board::new(election, crate::demo::parties(), Baseline::default());
        let mut aliases = crate::core::finder::Aliases::default();
        aliases
            .regions
            .insert("North".into(), vec!["Seat One".into(), "Seat Two".into()]);
        b.set_aliases(aliases);
        b.apply(seat("C1", "Seat One"));
        let member = |p: &str| ListMember {
            name: format!("{p} member"),
            party: PartyId::new(p),
            rank: None,
        };
        let list = declaration(
            "L1",
            "North",
            Vec::new(),
            Some(Allocation::List(ListSeats {
                seats: 3,
                additional: true,
                votes: vec![
                    (PartyId::new("con"), 600),
                    (PartyId::new("lab"), 500),
                    (PartyId::new("ld"), 100),
                ],
                elected: vec![member("lab"), member("lab"), member("con")],
            })),
        );
        // With Seat Two not declared, the region's count would be short: not checked, the
        // source's allocation stands.
        let f = b.compute(&list);
        let Some(SeatFigures::List(l)) = f.seats.as_deref() else {
            panic!("{:?}", f.seats)
        };
        assert!(l.computed.is_none() && l.unchecked.is_some(), "{l:?}");
        b.apply(seat("C2", "Seat Two"));
        // Con's two constituency seats make its divisor 3: Lab 500, Lab 250, then Con 200
        // (not Con 600, Lab 500, Con 300 as on the list votes alone). As the source says.
        let f = b.compute(&list);
        let Some(SeatFigures::List(l)) = f.seats.as_deref() else {
            panic!("{:?}", f.seats)
        };
        let got: Vec<(&str, u32)> = l
            .seats
            .iter()
            .map(|p| (p.party.as_str(), p.seats))
            .collect();
        assert_eq!(got, [("lab", 2), ("con", 1)]);
        assert!(l.problems.is_empty() && l.unchecked.is_none(), "{l:?}");
        // The chamber: 2 constituency seats and 3 list seats, 5 of 5.
        b.apply(list);
        let t = b.tally(&crate::core::board::Scope::All);
        assert_eq!(t.declared, 5);
        assert_eq!(t.party(&PartyId::new("con")).map(|p| p.seats), Some(3));
    }
}
