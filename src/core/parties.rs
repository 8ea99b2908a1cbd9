//! The party registry: ids, names, colours, the aliases each source uses, and successions.
//!
//! It is parsed from TOML text (`config/parties.toml`); reading the file is the caller's
//! business. Successions (Brexit Party → Reform UK) come only from here: the arithmetic
//! never matches parties by guesswork.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use serde::Deserialize;

use super::model::PartyId;

/// A display colour, `0xRRGGBB`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Colour(pub u32);

impl Colour {
    /// The colour of parties the registry does not know, and of independents.
    pub const NEUTRAL: Colour = Colour(0x8A8D91);

    /// Parses `#RRGGBB`.
    pub fn parse(s: &str) -> Option<Colour> {
        let hex = s.strip_prefix('#')?;
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(hex, 16).ok().map(Colour)
    }

    pub fn rgb(self) -> (u8, u8, u8) {
        (
            ((self.0 >> 16) & 0xFF) as u8,
            ((self.0 >> 8) & 0xFF) as u8,
            (self.0 & 0xFF) as u8,
        )
    }
}

impl fmt::Display for Colour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:06X}", self.0)
    }
}

/// A party as the registry knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Party {
    pub id: PartyId,
    /// Short name, as used in "Con GAIN from Lab".
    pub short: String,
    /// Full name, as used in sentences.
    pub name: String,
    pub colour: Colour,
    /// The party this one became (Brexit Party → Reform UK), if config says so.
    pub successor: Option<PartyId>,
}

/// Why a registry could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegistryError {
    #[error("parties: {0}")]
    Toml(String),
    #[error("parties: party `{0}` is listed twice")]
    DuplicateId(String),
    #[error("parties: alias `{alias}` is claimed by both `{first}` and `{second}`")]
    DuplicateAlias {
        alias: String,
        first: String,
        second: String,
    },
    #[error("parties: party `{id}` has colour `{colour}`, expected #RRGGBB")]
    BadColour { id: String, colour: String },
    #[error("parties: party `{id}` names successor `{successor}`, which is not in the registry")]
    UnknownSuccessor { id: String, successor: String },
    #[error("parties: the successions starting at `{0}` form a cycle")]
    SuccessionCycle(String),
    #[error("parties: party id `{0}` must be lowercase letters, digits, '-' or '_'")]
    BadId(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    #[serde(default)]
    party: Vec<PartyEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartyEntry {
    id: String,
    short: String,
    name: String,
    colour: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    successor: Option<String>,
}

/// Every party herald can name, with the labels sources use for them.
#[derive(Clone, Debug, Default)]
pub struct PartyRegistry {
    parties: BTreeMap<PartyId, Party>,
    aliases: HashMap<String, PartyId>,
}

fn alias_key(label: &str) -> String {
    label.trim().to_lowercase()
}

impl PartyRegistry {
    /// Parses the registry from TOML text and checks it is consistent.
    pub fn from_toml(text: &str) -> Result<Self, RegistryError> {
        let file: RegistryFile =
            toml::from_str(text).map_err(|e| RegistryError::Toml(e.to_string()))?;
        let mut parties = BTreeMap::new();
        let mut aliases: HashMap<String, PartyId> = HashMap::new();
        for entry in file.party {
            if entry.id.is_empty()
                || !entry
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            {
                return Err(RegistryError::BadId(entry.id));
            }
            let id = PartyId::new(&entry.id);
            let colour = match &entry.colour {
                None => Colour::NEUTRAL,
                Some(c) => Colour::parse(c).ok_or_else(|| RegistryError::BadColour {
                    id: entry.id.clone(),
                    colour: c.clone(),
                })?,
            };
            // The id, the short name and the full name are aliases too.
            let mut labels = vec![entry.id.clone(), entry.short.clone(), entry.name.clone()];
            labels.extend(entry.aliases.iter().cloned());
            for label in labels {
                let key = alias_key(&label);
                match aliases.get(&key) {
                    Some(existing) if *existing != id => {
                        return Err(RegistryError::DuplicateAlias {
                            alias: label,
                            first: existing.0.clone(),
                            second: entry.id.clone(),
                        });
                    }
                    _ => {
                        aliases.insert(key, id.clone());
                    }
                }
            }
            let party = Party {
                id: id.clone(),
                short: entry.short,
                name: entry.name,
                colour,
                successor: entry.successor.map(PartyId::new),
            };
            if parties.insert(id, party).is_some() {
                return Err(RegistryError::DuplicateId(entry.id));
            }
        }
        let registry = PartyRegistry { parties, aliases };
        registry.check_successions()?;
        Ok(registry)
    }

    /// Every successor is in the registry and no succession loops. Each party names at most
    /// one successor, so the successions form chains that either end or loop: one walk per
    /// party, stopping at parties an earlier walk cleared, checks them all in linear time.
    /// (Walking each party's chain to its end, with a list of the parties seen, was cubic in
    /// the length of a chain: a 60 kB registry of 1,000 parties in one chain took 40 s.)
    fn check_successions(&self) -> Result<(), RegistryError> {
        let mut cleared: HashSet<&PartyId> = HashSet::new();
        for party in self.parties.values() {
            let Some(successor) = &party.successor else {
                continue;
            };
            if !self.parties.contains_key(successor) {
                return Err(RegistryError::UnknownSuccessor {
                    id: party.id.0.clone(),
                    successor: successor.0.clone(),
                });
            }
            let mut walk = HashSet::from([&party.id]);
            let mut at = successor;
            while !cleared.contains(at) {
                if !walk.insert(at) {
                    return Err(RegistryError::SuccessionCycle(party.id.0.clone()));
                }
                match self.parties.get(at).and_then(|p| p.successor.as_ref()) {
                    Some(next) => at = next,
                    None => break,
                }
            }
            cleared.extend(walk);
        }
        Ok(())
    }

    pub fn get(&self, id: &PartyId) -> Option<&Party> {
        self.parties.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Party> {
        self.parties.values()
    }

    pub fn len(&self) -> usize {
        self.parties.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parties.is_empty()
    }

    /// Finds the party a source label (id, abbreviation, short or full name) stands for.
    pub fn resolve(&self, label: &str) -> Option<PartyId> {
        self.aliases.get(&alias_key(label)).cloned()
    }

    /// The short name ("Con"); an unknown party shows its raw id.
    pub fn short<'a>(&'a self, id: &'a PartyId) -> &'a str {
        self.parties
            .get(id)
            .map_or(id.as_str(), |p| p.short.as_str())
    }

    /// The full name ("Conservative"); an unknown party shows its raw id.
    pub fn name<'a>(&'a self, id: &'a PartyId) -> &'a str {
        self.parties
            .get(id)
            .map_or(id.as_str(), |p| p.name.as_str())
    }

    pub fn colour(&self, id: &PartyId) -> Colour {
        self.parties.get(id).map_or(Colour::NEUTRAL, |p| p.colour)
    }

    /// The party's latest successor under the configured successions (itself if none).
    pub fn current<'a>(&'a self, id: &'a PartyId) -> &'a PartyId {
        let mut at = id;
        // Successions were checked acyclic when the registry was built.
        while let Some(next) = self.parties.get(at).and_then(|p| p.successor.as_ref()) {
            at = next;
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r##"
[[party]]
id = "brx"
short = "Brexit"
name = "The Brexit Party"
colour = "#12B6CF"
aliases = ["BRX"]
successor = "reform"

[[party]]
id = "reform"
short = "Reform"
name = "Reform UK"
colour = "#12B6CF"

[[party]]
id = "lab"
short = "Lab"
name = "Labour"
colour = "#E4003B"
aliases = ["Labour and Co-operative"]
"##;

    #[test]
    fn resolves_aliases_case_insensitively() {
        let r = PartyRegistry::from_toml(SAMPLE).unwrap();
        assert_eq!(r.resolve("BRX"), Some(PartyId::new("brx")));
        assert_eq!(r.resolve("the brexit party"), Some(PartyId::new("brx")));
        assert_eq!(
            r.resolve(" labour and co-operative "),
            Some(PartyId::new("lab"))
        );
        assert_eq!(r.resolve("Heritage Party"), None);
    }

    #[test]
    fn unknown_parties_show_their_raw_id() {
        let r = PartyRegistry::from_toml(SAMPLE).unwrap();
        let raw = PartyId::new("Heritage Party");
        assert_eq!(r.short(&raw), "Heritage Party");
        assert_eq!(r.colour(&raw), Colour::NEUTRAL);
        assert_eq!(r.short(&PartyId::new("lab")), "Lab");
    }

    #[test]
    fn follows_successions() {
        let r = PartyRegistry::from_toml(SAMPLE).unwrap();
        assert_eq!(r.current(&PartyId::new("brx")), &PartyId::new("reform"));
        assert_eq!(r.current(&PartyId::new("lab")), &PartyId::new("lab"));
    }

    #[test]
    fn rejects_inconsistent_registries() {
        let dup =
            "[[party]]\nid='a'\nshort='A'\nname='A'\n[[party]]\nid='a'\nshort='B'\nname='B'\n";
        assert_eq!(
            PartyRegistry::from_toml(dup).unwrap_err(),
            RegistryError::DuplicateId("a".into())
        );
        let clash =
            "[[party]]\nid='a'\nshort='X'\nname='A'\n[[party]]\nid='b'\nshort='X'\nname='B'\n";
        assert!(matches!(
            PartyRegistry::from_toml(clash),
            Err(RegistryError::DuplicateAlias { .. })
        ));
        let cycle = "[[party]]\nid='a'\nshort='A'\nname='A'\nsuccessor='b'\n[[party]]\nid='b'\nshort='B'\nname='B'\nsuccessor='a'\n";
        assert!(matches!(
            PartyRegistry::from_toml(cycle),
            Err(RegistryError::SuccessionCycle(_))
        ));
        let missing = "[[party]]\nid='a'\nshort='A'\nname='A'\nsuccessor='zz'\n";
        assert!(matches!(
            PartyRegistry::from_toml(missing),
            Err(RegistryError::UnknownSuccessor { .. })
        ));
        // A party whose successions run into a loop it is not part of.
        let into_cycle = "[[party]]\nid='a'\nshort='A'\nname='A'\nsuccessor='b'\n[[party]]\nid='b'\nshort='B'\nname='B'\nsuccessor='c'\n[[party]]\nid='c'\nshort='C'\nname='C'\nsuccessor='b'\n";
        assert_eq!(
            PartyRegistry::from_toml(into_cycle).unwrap_err(),
            RegistryError::SuccessionCycle("a".into())
        );
        let colour = "[[party]]\nid='a'\nshort='A'\nname='A'\ncolour='red'\n";
        assert!(matches!(
            PartyRegistry::from_toml(colour),
            Err(RegistryError::BadColour { .. })
        ));
        let unknown_key = "[[party]]\nid='a'\nshort='A'\nname='A'\ncolor='#000000'\n";
        assert!(matches!(
            PartyRegistry::from_toml(unknown_key),
            Err(RegistryError::Toml(_))
        ));
    }

    /// One long chain of successions: checked in linear time (this took minutes when each
    /// party's chain was walked to its end), and a loop at its far end is still found.
    #[test]
    fn long_succession_chains_are_checked_quickly() {
        let chain = |n: usize, looped: bool| {
            (0..n)
                .map(|i| {
                    let next = if i + 1 < n {
                        format!("successor = 'p{:05}'\n", i + 1)
                    } else if looped {
                        "successor = 'p00000'\n".to_string()
                    } else {
                        String::new()
                    };
                    format!("[[party]]\nid = 'p{i:05}'\nshort = 's{i}'\nname = 'n{i}'\n{next}")
                })
                .collect::<String>()
        };
        let started = std::time::Instant::now();
        let r = PartyRegistry::from_toml(&chain(5000, false)).unwrap();
        assert_eq!(r.current(&PartyId::new("p00000")), &PartyId::new("p04999"));
        assert_eq!(
            PartyRegistry::from_toml(&chain(5000, true)).unwrap_err(),
            RegistryError::SuccessionCycle("p00000".into())
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }
}
