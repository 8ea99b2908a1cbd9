//! Which announcements a subscription wants. A filter combines three things: where (every
//! seat, a nation, a region, or a list of seats), whose (optionally, seats a party
//! contests) and what (every declaration, gains only, or milestones only). A channel may
//! hold several subscriptions; it receives an announcement once if any of them wants it.

use serde::{Deserialize, Serialize};

use super::model::{ConstituencyId, Declaration, Nation, PartyId};
use super::parties::PartyRegistry;

/// Where: the seats a subscription covers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Area {
    #[default]
    All,
    Nation {
        nation: Nation,
    },
    Region {
        region: String,
    },
    Constituencies {
        ids: Vec<ConstituencyId>,
    },
    /// One election of a night followed side by side (the mayors, the councils, the
    /// Scottish Parliament), by its id.
    Election {
        election: String,
    },
    /// List seats (a region's additional members, a closed list), of one election or all.
    Lists {
        election: Option<String>,
    },
}

/// What: which of the announcements in the area.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wants {
    /// Every declaration (and, with no area or party, the night's milestones).
    #[default]
    Every,
    /// Seats changing hands only (and corrections of what was announced).
    Gains,
    /// Milestones only (a party reaching the majority line, the last seat declaring), no
    /// seat's declaration.
    Milestones,
}

/// A subscription's filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Filter {
    pub area: Area,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<PartyId>,
    #[serde(default)]
    pub wants: Wants,
}

/// The filters stored before a filter combined area, party and kind (one of each).
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Legacy {
    All,
    Nation { nation: Nation },
    Region { region: String },
    Party { party: PartyId },
    Constituencies { ids: Vec<ConstituencyId> },
    Milestones,
}

impl From<Legacy> for Filter {
    fn from(l: Legacy) -> Filter {
        let area = |area| Filter {
            area,
            ..Filter::default()
        };
        match l {
            Legacy::All => Filter::default(),
            Legacy::Nation { nation } => area(Area::Nation { nation }),
            Legacy::Region { region } => area(Area::Region { region }),
            Legacy::Constituencies { ids } => area(Area::Constituencies { ids }),
            Legacy::Party { party } => Filter {
                party: Some(party),
                ..Filter::default()
            },
            Legacy::Milestones => Filter {
                wants: Wants::Milestones,
                ..Filter::default()
            },
        }
    }
}

impl<'de> Deserialize<'de> for Filter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Filter, D::Error> {
        #[derive(Deserialize)]
        struct Current {
            area: Area,
            #[serde(default)]
            party: Option<PartyId>,
            #[serde(default)]
            wants: Wants,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Current(Current),
            Legacy(Legacy),
        }
        Ok(match Stored::deserialize(d)? {
            Stored::Current(c) => Filter {
                area: c.area,
                party: c.party,
                wants: c.wants,
            },
            Stored::Legacy(l) => l.into(),
        })
    }
}

impl Filter {
    /// Every declaration, and the milestones.
    pub fn all() -> Filter {
        Filter::default()
    }

    /// Whether a declaration's announcement is wanted; `gain` says whether it is a gain.
    pub fn matches(&self, d: &Declaration, gain: bool) -> bool {
        let c = &d.result.constituency;
        let area = match &self.area {
            Area::All => true,
            Area::Nation { nation } => c.nation == *nation,
            Area::Region { region } => c.region.eq_ignore_ascii_case(region),
            Area::Constituencies { ids } => ids.contains(&c.id),
            Area::Election { election } => c.election.as_deref() == Some(election.as_str()),
            Area::Lists { election } => {
                matches!(
                    d.allocation.as_deref(),
                    Some(super::allocation::Allocation::List(_))
                ) && election
                    .as_ref()
                    .is_none_or(|e| c.election.as_deref() == Some(e.as_str()))
            }
        };
        let party = self
            .party
            .as_ref()
            .is_none_or(|p| d.result.candidates.iter().any(|cand| &cand.party == p));
        let wants = match self.wants {
            Wants::Every => true,
            Wants::Gains => gain,
            Wants::Milestones => false,
        };
        area && party && wants
    }

    /// Whether the night's milestones are wanted: milestones only, or every declaration
    /// everywhere.
    pub fn takes_milestones(&self) -> bool {
        match self.wants {
            Wants::Milestones => true,
            Wants::Every => self.area == Area::All && self.party.is_none(),
            Wants::Gains => false,
        }
    }

    /// A short description for `/subscriptions`; `name_of` names seats, `election_name`
    /// elections.
    pub fn describe(
        &self,
        parties: &PartyRegistry,
        name_of: impl Fn(&ConstituencyId) -> String,
        election_name: impl Fn(&str) -> String,
    ) -> String {
        let what = match self.wants {
            Wants::Every => "declarations",
            Wants::Gains => "gains",
            Wants::Milestones => "milestones",
        };
        let mut out = match (&self.area, self.wants, &self.party) {
            (Area::All, Wants::Every, None) => "every declaration".to_string(),
            (Area::All, Wants::Milestones, None) => "milestones only".to_string(),
            (Area::All, _, _) => format!("{what} everywhere"),
            (Area::Nation { nation }, _, _) => format!("{what} in {nation}"),
            (Area::Region { region }, _, _) => format!("{what} in {region}"),
            (Area::Constituencies { ids }, _, _) => {
                let names: Vec<String> = ids.iter().map(name_of).collect();
                format!("{what} in {}", names.join("; "))
            }
            (Area::Election { election }, _, _) => format!("{what} of {}", election_name(election)),
            (Area::Lists { election: None }, _, _) => format!("{what} of list seats"),
            (Area::Lists { election: Some(e) }, _, _) => {
                format!("{what} of list seats in {}", election_name(e))
            }
        };
        if let Some(p) = &self.party {
            out.push_str(&format!(" where {} stands", parties.name(p)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::*;

    fn declaration() -> Declaration {
        Declaration {
            allocation: None,
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
        }
    }

    fn area(area: Area) -> Filter {
        Filter {
            area,
            ..Filter::default()
        }
    }

    #[test]
    fn each_part_of_a_filter_narrows_what_it_matches() {
        let d = declaration();
        assert!(Filter::all().matches(&d, false));
        assert!(
            area(Area::Nation {
                nation: Nation::Wales
            })
            .matches(&d, false)
        );
        assert!(
            !area(Area::Nation {
                nation: Nation::Scotland
            })
            .matches(&d, false)
        );
        assert!(
            area(Area::Region {
                region: "wales".into()
            })
            .matches(&d, false)
        );
        assert!(
            area(Area::Constituencies {
                ids: vec![ConstituencyId::new("W1")]
            })
            .matches(&d, false)
        );
        assert!(
            !area(Area::Constituencies {
                ids: vec![ConstituencyId::new("W2")]
            })
            .matches(&d, false)
        );
        let party = |p: &str| Filter {
            party: Some(PartyId::new(p)),
            ..Filter::default()
        };
        assert!(party("pc").matches(&d, false));
        assert!(!party("con").matches(&d, false));
        let gains_in_wales = Filter {
            area: Area::Nation {
                nation: Nation::Wales,
            },
            party: Some(PartyId::new("pc")),
            wants: Wants::Gains,
        };
        assert!(!gains_in_wales.matches(&d, false));
        assert!(gains_in_wales.matches(&d, true));
        let milestones = Filter {
            wants: Wants::Milestones,
            ..Filter::default()
        };
        assert!(!milestones.matches(&d, true));
        assert!(milestones.takes_milestones());
        assert!(Filter::all().takes_milestones());
        assert!(!gains_in_wales.takes_milestones());
        assert!(
            !area(Area::Nation {
                nation: Nation::Wales
            })
            .takes_milestones()
        );
    }

    #[test]
    fn filters_stored_before_combined_filters_still_read() {
        let read = |s: &str| serde_json::from_str::<Filter>(s).unwrap();
        assert_eq!(read(r#"{"kind":"all"}"#), Filter::all());
        assert_eq!(
            read(r#"{"kind":"party","party":"pc"}"#),
            Filter {
                party: Some(PartyId::new("pc")),
                ..Filter::default()
            }
        );
        assert_eq!(read(r#"{"kind":"milestones"}"#).wants, Wants::Milestones);
        assert_eq!(
            read(r#"{"kind":"region","region":"Wales"}"#),
            area(Area::Region {
                region: "Wales".into()
            })
        );
        let f = Filter {
            area: Area::Constituencies {
                ids: vec![ConstituencyId::new("W1")],
            },
            party: None,
            wants: Wants::Gains,
        };
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(
            json,
            r#"{"area":{"kind":"constituencies","ids":["W1"]},"wants":"gains"}"#
        );
        assert_eq!(read(&json), f);
        assert!(serde_json::from_str::<Filter>(r#"{"kind":"everything"}"#).is_err());
    }
}
