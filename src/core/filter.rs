//! Which declarations a subscription wants: all of them, a nation or region, a party's
//! contests, or a list of constituencies.

use serde::{Deserialize, Serialize};

use super::model::{ConstituencyId, Declaration, Nation, PartyId};
use super::parties::PartyRegistry;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Filter {
    All,
    Nation {
        nation: Nation,
    },
    Region {
        region: String,
    },
    /// Seats where the party has a candidate.
    Party {
        party: PartyId,
    },
    Constituencies {
        ids: Vec<ConstituencyId>,
    },
    /// Milestones only (a party reaching the majority line, the last seat declaring), no
    /// seat's declaration. `All` takes milestones too; the other filters do not.
    Milestones,
}

impl Filter {
    pub fn matches(&self, d: &Declaration) -> bool {
        let c = &d.result.constituency;
        match self {
            Filter::All => true,
            Filter::Nation { nation } => c.nation == *nation,
            Filter::Region { region } => c.region.eq_ignore_ascii_case(region),
            Filter::Party { party } => d.result.candidates.iter().any(|cand| &cand.party == party),
            Filter::Constituencies { ids } => ids.contains(&c.id),
            Filter::Milestones => false,
        }
    }

    /// A short description for `/subscriptions`.
    pub fn describe(
        &self,
        parties: &PartyRegistry,
        name_of: impl Fn(&ConstituencyId) -> String,
    ) -> String {
        match self {
            Filter::All => "every declaration".to_string(),
            Filter::Nation { nation } => format!("declarations in {nation}"),
            Filter::Region { region } => format!("declarations in {region}"),
            Filter::Party { party } => format!("seats {} contests", parties.name(party)),
            Filter::Constituencies { ids } => {
                let names: Vec<String> = ids.iter().map(name_of).collect();
                names.join("; ")
            }
            Filter::Milestones => "milestones only".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::*;

    #[test]
    fn filters_match_what_they_say() {
        let d = Declaration {
            result: ConstituencyResult {
                constituency: Constituency {
                    id: ConstituencyId::new("W1"),
                    name: "Ynys Môn".into(),
                    region: "Wales".into(),
                    nation: Nation::Wales,
                    election: None,
                },
                electorate: None,
                valid_votes: None,
                rejected: None,
                candidates: vec![Candidate {
                    name: "A".into(),
                    party: PartyId::new("pc"),
                    votes: 5,
                    elected: true,
                }],
            },
            declared_at: None,
            revision: 1,
            status: DeclarationStatus::Declared,
            source: None,
        };
        assert!(Filter::All.matches(&d));
        assert!(
            Filter::Nation {
                nation: Nation::Wales
            }
            .matches(&d)
        );
        assert!(
            !Filter::Nation {
                nation: Nation::Scotland
            }
            .matches(&d)
        );
        assert!(
            Filter::Region {
                region: "wales".into()
            }
            .matches(&d)
        );
        assert!(
            Filter::Party {
                party: PartyId::new("pc")
            }
            .matches(&d)
        );
        assert!(
            !Filter::Party {
                party: PartyId::new("con")
            }
            .matches(&d)
        );
        assert!(
            Filter::Constituencies {
                ids: vec![ConstituencyId::new("W1")]
            }
            .matches(&d)
        );
        let json = serde_json::to_string(&Filter::Party {
            party: PartyId::new("pc"),
        })
        .unwrap();
        assert_eq!(json, r#"{"kind":"party","party":"pc"}"#);
    }
}
