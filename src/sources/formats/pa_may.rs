//! PA's May-night message families: a council's result (`LocalElectionResult`) and list
//! seats (`TopUpResult`, and `TopUpRush` with the members but no votes), read into
//! declarations whose seats are an [`Allocation`]. Each is a PA seat like any other (its
//! revision, its id namespaced by election), so that merging, corrections and the store
//! treat it as they treat a constituency's. See the feed notes (`feeds/README.md`, "PA
//! May-night families").
//!
//! Read on a real XML tree (roxmltree), so that an error names the line of the element or
//! attribute at fault. What maps where:
//! * a council is seat `pa:local-{date}:{council paId}` of the election `pa-local-{date}`
//!   ("Local elections 2026"); its `ElectedCouncillors` are the seats won (the whole
//!   `NewCouncil` when all are up), `Changes` the change, `sittingParty` control before,
//!   and `winningParty` / `gainOrHold` PA's call, compared and never adopted;
//! * a list is seat `pa:{type}-{date}:{number}` of its parliament's election (Scottish
//!   regions are numbered 101-108, apart from the constituencies); its `Candidate`s are the
//!   members elected and its `Party` rows the list votes.

use roxmltree::{Document, Node};

use super::pa_xml::{
    PaElection, PaSeat, SopParty, StateOfParties, pa_party_for, parse_date, parse_time, seat_id,
};
use crate::core::allocation::{
    Allocation, Control, CouncilSeats, ListMember, ListSeats, PartySeats, Proportion,
};
use crate::core::model::{
    Constituency, ConstituencyResult, Declaration, DeclarationStatus, Nation,
};
use crate::core::parties::PartyRegistry;
use crate::sources::error::LoadError;

/// One document, with the file it came from, for errors that name the line.
struct Reader<'a, 'input> {
    file: &'a str,
    doc: &'a Document<'input>,
}

impl<'a, 'input> Reader<'a, 'input> {
    fn line(&self, pos: usize) -> u64 {
        u64::from(self.doc.text_pos_at(pos).row)
    }

    fn error(&self, node: Node, problem: impl Into<String>) -> LoadError {
        LoadError::new(self.file, problem).at_line(self.line(node.range().start))
    }

    fn req<'n>(&self, node: Node<'n, 'input>, name: &str) -> Result<&'n str, LoadError> {
        node.attribute(name).ok_or_else(|| {
            self.error(
                node,
                format!("<{}> has no `{name}`", node.tag_name().name()),
            )
            .in_field(name)
        })
    }

    /// A bad attribute's error, at the attribute's line.
    fn bad(&self, node: Node, name: &str, problem: String) -> LoadError {
        let pos = node
            .attribute_node(name)
            .map_or(node.range().start, |a| a.range_value().start);
        LoadError::new(self.file, problem)
            .at_line(self.line(pos))
            .in_field(name)
    }

    fn number<T: std::str::FromStr>(&self, node: Node, name: &str) -> Result<T, LoadError> {
        let raw = self.req(node, name)?;
        raw.trim()
            .trim_start_matches('+')
            .parse()
            .map_err(|_| self.bad(node, name, format!("`{raw}` is not a whole number")))
    }

    fn opt_number<T: std::str::FromStr>(
        &self,
        node: Node,
        name: &str,
    ) -> Result<Option<T>, LoadError> {
        match node.attribute(name) {
            None => Ok(None),
            Some(_) => self.number(node, name).map(Some),
        }
    }

    fn child<'n>(&self, node: Node<'n, 'input>, name: &str) -> Result<Node<'n, 'input>, LoadError> {
        children(node, name).into_iter().next().ok_or_else(|| {
            self.error(
                node,
                format!("<{}> has no <{name}>", node.tag_name().name()),
            )
        })
    }

    fn revision(&self, root: Node) -> Result<u32, LoadError> {
        match root.attribute("revision") {
            Some(_) => self.number(root, "revision"),
            None => Ok(super::pa_xml::revision_from_file_name(self.file).unwrap_or(1)),
        }
    }

    fn date(&self, node: Node) -> Result<chrono::NaiveDate, LoadError> {
        let raw = self.req(node, "date")?;
        parse_date(raw).ok_or_else(|| self.bad(node, "date", format!("`{raw}` is not a date")))
    }
}

fn children<'n, 'input>(node: Node<'n, 'input>, name: &str) -> Vec<Node<'n, 'input>> {
    node.children()
        .filter(|c| c.is_element() && c.tag_name().name() == name)
        .collect()
}

/// Control as PA names it: `NOC`, or a party's abbreviation.
fn control(parties: &PartyRegistry, abbreviation: &str) -> Control {
    if abbreviation.trim().eq_ignore_ascii_case("NOC") {
        Control::Noc
    } else {
        Control::Party(pa_party_for(parties, abbreviation, abbreviation))
    }
}

fn nation_of_council(council_type: &str) -> Nation {
    match council_type.trim().to_ascii_lowercase().as_str() {
        "scotland" | "scottish" => Nation::Scotland,
        "wales" | "welsh" => Nation::Wales,
        _ => Nation::England,
    }
}

/// Which seat a council's or a list's message is about.
struct Seat<'e> {
    election: &'e PaElection,
    number: u32,
    name: String,
    nation: Nation,
    electorate: Option<u64>,
}

/// A declaration whose seats are `allocation` (its candidates empty).
fn seats_declaration(
    seat: Seat,
    declared_at: Option<chrono::DateTime<chrono::Utc>>,
    revision: u32,
    status: DeclarationStatus,
    allocation: Allocation,
) -> Declaration {
    Declaration {
        result: ConstituencyResult {
            constituency: Constituency {
                id: seat_id(seat.election, seat.number),
                name: seat.name,
                region: seat.nation.name().to_string(),
                nation: seat.nation,
                election: Some(seat.election.id()),
            },
            electorate: seat.electorate,
            valid_votes: None,
            rejected: None,
            candidates: Vec::new(),
        },
        declared_at,
        revision,
        status,
        source: None,
        allocation: Some(Box::new(allocation)),
    }
}

/// The whole document, parsed (a truncated or malformed file is refused here, at its line).
pub fn document<'input>(file: &str, text: &'input str) -> Result<Document<'input>, LoadError> {
    Document::parse(text).map_err(|e| {
        LoadError::new(file, format!("not well-formed XML: {e}")).at_line(u64::from(e.pos().row))
    })
}

/// `LocalElectionResult`: one council.
pub fn council(file: &str, doc: &Document, parties: &PartyRegistry) -> Result<PaSeat, LoadError> {
    let r = Reader { file, doc };
    let root = doc.root_element();
    let revision = r.revision(root)?;
    let el = r.child(root, "Election")?;
    let date = r.date(el)?;
    let election = PaElection {
        name: format!("Local elections {}", date.format("%Y")),
        date,
        kind: "local".into(),
    };
    let c = r.child(el, "Council")?;
    let number: u32 = r.number(c, "paId")?;
    let name = r.req(c, "name")?.trim().to_string();
    let council_type = r.req(c, "type")?.trim().to_string();
    let proportion = match r.req(c, "proportion")?.trim().to_ascii_lowercase().as_str() {
        "all" => Proportion::All,
        "half" => Proportion::Half,
        "third" => Proportion::Third,
        other => {
            return Err(r.bad(
                c,
                "proportion",
                format!("`{other}` is not all, half or third"),
            ));
        }
    };
    let seats_of = |list: &str| -> Result<Vec<PartySeats>, LoadError> {
        let Some(l) = children(c, list).into_iter().next() else {
            return Ok(Vec::new());
        };
        children(l, "Party")
            .into_iter()
            .map(|p| {
                let abbreviation = r.req(p, "name")?;
                Ok(PartySeats {
                    party: pa_party_for(parties, abbreviation, abbreviation),
                    seats: r.number(p, "seats")?,
                })
            })
            .collect()
    };
    let won = seats_of("ElectedCouncillors")?;
    let council = seats_of("NewCouncil")?;
    if council.is_empty() {
        return Err(r
            .error(
                c,
                "a council result without <NewCouncil>: its size is not known",
            )
            .invalid());
    }
    let mut change = Vec::new();
    if let Some(l) = children(c, "Changes").into_iter().next() {
        for p in children(l, "Party") {
            let abbreviation = r.req(p, "name")?;
            let raw = r.req(p, "change")?;
            let n: i64 =
                raw.trim().trim_start_matches('+').parse().map_err(|_| {
                    r.bad(p, "change", format!("`{raw}` is not a signed whole number"))
                })?;
            change.push((pa_party_for(parties, abbreviation, abbreviation), n));
        }
    }
    let before = control(parties, r.req(c, "sittingParty")?);
    let seats = CouncilSeats {
        proportion,
        council_type: council_type.clone(),
        won,
        change,
        council,
        before,
        quoted_control: c.attribute("winningParty").map(|w| control(parties, w)),
        quoted_outcome: c.attribute("gainOrHold").map(|g| g.trim().to_string()),
    };
    let declaration = seats_declaration(
        Seat {
            election: &election,
            number,
            name,
            nation: nation_of_council(&council_type),
            electorate: None,
        },
        None,
        revision,
        DeclarationStatus::Declared,
        Allocation::Council(seats),
    );
    Ok(PaSeat {
        gain_or_hold: c.attribute("gainOrHold").map(str::to_string),
        sitting_party: c.attribute("sittingParty").map(str::to_string),
        election,
        number,
        declaration,
        previous: None,
        pa_text: None,
    })
}

/// `LocalStateOfParties`: the night's councils so far, as PA counts them (councils
/// controlled and seats won by party), read as a state of parties whose seats are seats won
/// and whose size is the number of councils; cross-checked with herald's own tally.
pub fn local_state_of_parties(
    file: &str,
    doc: &Document,
    parties: &PartyRegistry,
) -> Result<StateOfParties, LoadError> {
    let r = Reader { file, doc };
    let root = doc.root_element();
    let el = r.child(root, "Election")?;
    let date = r.date(el)?;
    let election = PaElection {
        name: format!("Local elections {}", date.format("%Y")),
        date,
        kind: "local".into(),
    };
    let mut rows = Vec::new();
    if let Some(list) = children(root, "Parties").into_iter().next() {
        for p in children(list, "Party") {
            let abbreviation = r.req(p, "abbreviation")?.trim().to_string();
            let name = p
                .attribute("name")
                .unwrap_or(&abbreviation)
                .trim()
                .to_string();
            // No overall control is not a party.
            let party = (!abbreviation.eq_ignore_ascii_case("NOC"))
                .then(|| super::party_known(parties, &abbreviation, &name))
                .flatten();
            rows.push(SopParty {
                seats: r.opt_number(p, "seatsWon")?.unwrap_or(0),
                abbreviation,
                name,
                party,
                gains: 0,
                losses: 0,
                total_votes: None,
                share: None,
                share_change: None,
            });
        }
    }
    let councils = children(root, "CouncilsIncluded")
        .into_iter()
        .next()
        .map(|list| {
            children(list, "Council")
                .into_iter()
                .map(|c| {
                    Ok((
                        r.number::<u32>(c, "paId")?,
                        r.req(c, "name")?.trim().to_string(),
                    ))
                })
                .collect::<Result<Vec<_>, LoadError>>()
        })
        .transpose()?
        .unwrap_or_default();
    Ok(StateOfParties {
        election,
        number_of_results: r
            .opt_number(root, "numberOfResults")?
            .unwrap_or(councils.len() as u32),
        total_constituencies: r.opt_number(root, "totalNumberOfCouncils")?.unwrap_or(0),
        parties: rows,
        constituencies: councils,
    })
}

/// `TopUpResult` (with the list votes) or `TopUpRush` (`rush`: the members alone).
pub fn list(
    file: &str,
    doc: &Document,
    rush: bool,
    parties: &PartyRegistry,
) -> Result<PaSeat, LoadError> {
    let r = Reader { file, doc };
    let root = doc.root_element();
    let revision = r.revision(root)?;
    let el = r.child(root, "Election")?;
    let election = PaElection {
        name: r.req(el, "name")?.trim().to_string(),
        date: r.date(el)?,
        kind: r.req(el, "type")?.trim().to_string(),
    };
    let additional = election.kind.eq_ignore_ascii_case("S");
    let c = r.child(el, "Constituency")?;
    let number: u32 = r.number(c, "number")?;
    let name = r.req(c, "name")?.trim().to_string();
    let mut elected = Vec::new();
    for m in children(c, "Candidate") {
        let party = r.child(m, "Party")?;
        let abbreviation = r.req(party, "abbreviation")?;
        let full = party.attribute("name").unwrap_or(abbreviation);
        let first = m.attribute("firstName").unwrap_or("").trim();
        let surname = r.req(m, "surname")?.trim();
        elected.push(ListMember {
            name: if first.is_empty() {
                surname.to_string()
            } else {
                format!("{first} {surname}")
            },
            party: pa_party_for(parties, abbreviation, full),
            rank: r.opt_number(m, "partyListRank")?,
        });
    }
    let mut votes = Vec::new();
    if !rush {
        for p in children(c, "Party") {
            let abbreviation = r.req(p, "abbreviation")?;
            let full = p.attribute("name").unwrap_or(abbreviation);
            votes.push((
                pa_party_for(parties, abbreviation, full),
                r.number::<u64>(p, "votes")?,
            ));
        }
        if votes.is_empty() {
            return Err(r
                .error(c, "a list result without the list votes (<Party votes=…>)")
                .invalid());
        }
    }
    let seats = if elected.is_empty() {
        if additional { 7 } else { 6 }
    } else {
        elected.len() as u32
    };
    let declared_at = match root.attribute("declarationTime") {
        None => None,
        Some(t) => Some(
            parse_time(t)
                .ok_or_else(|| r.bad(root, "declarationTime", format!("`{t}` is not a time")))?,
        ),
    };
    let declaration = seats_declaration(
        Seat {
            election: &election,
            number,
            name,
            nation: election.nation(),
            electorate: r.opt_number(c, "electorate")?,
        },
        declared_at,
        revision,
        if rush {
            DeclarationStatus::Called
        } else {
            DeclarationStatus::Declared
        },
        Allocation::List(ListSeats {
            seats,
            additional,
            votes,
            elected,
        }),
    );
    Ok(PaSeat {
        election,
        number,
        declaration,
        previous: None,
        gain_or_hold: None,
        sitting_party: None,
        pa_text: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::PartyId;

    const WESTMINSTER: &str = "<?xml version='1.0' encoding='UTF-8'?>
<LocalElectionResult revision='1'>
  <Election date='2026-05-07' paId='252'>
    <Council name='Westminster' paId='4855' type='London' proportion='all' winningParty='C' gainOrHold='gain' sittingParty='Lab'>
      <Changes>
        <Party name='C' paId='659' change='+7'/>
        <Party name='Lab' paId='662' change='-12'/>
      </Changes>
      <NewCouncil>
        <Party name='C' paId='659' seats='31'/>
        <Party name='Lab' paId='662' seats='16'/>
      </NewCouncil>
    </Council>
  </Election>
</LocalElectionResult>";

    #[test]
    fn reads_a_council_and_names_the_line_of_a_bad_attribute() {
        let parties = crate::demo::parties();
        let doc = document("w.xml", WESTMINSTER).unwrap();
        let s = council("w.xml", &doc, &parties).unwrap();
        assert_eq!(s.declaration.id().as_str(), "pa:local-2026-05-07:4855");
        assert_eq!(s.election.id(), "pa-local-2026-05-07");
        let Some(Allocation::Council(c)) = s.declaration.allocation.as_deref() else {
            panic!("{:?}", s.declaration.allocation)
        };
        assert_eq!(c.before, Control::Party(PartyId::new("lab")));
        assert_eq!(c.quoted_control, Some(Control::Party(PartyId::new("con"))));
        assert_eq!(
            c.change,
            vec![(PartyId::new("con"), 7), (PartyId::new("lab"), -12)]
        );
        assert_eq!(c.council.iter().map(|p| p.seats).sum::<u32>(), 47);

        let bad = WESTMINSTER.replace("seats='16'", "seats='sixteen'");
        let doc = document("w.xml", &bad).unwrap();
        let e = council("w.xml", &doc, &parties).unwrap_err().to_string();
        assert!(e.starts_with("w.xml:11"), "{e}");
        assert!(
            e.contains("seats") && e.contains("`sixteen` is not a whole number"),
            "{e}"
        );
        let cut = &WESTMINSTER[..300];
        let e = document("w.xml", cut).unwrap_err().to_string();
        assert!(e.starts_with("w.xml:"), "{e}");
        let e = council(
            "w.xml",
            &document(
                "w.xml",
                &WESTMINSTER.replace("proportion='all'", "proportion='most'"),
            )
            .unwrap(),
            &parties,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`most` is not all, half or third"), "{e}");
    }

    const LIST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<TopUpResult revision="1" declarationTime="2026-04-01T10:22:45+00:00">
  <Election name="Welsh Parliament Test" date="2026-05-06" type="W">
    <Constituency number="3" name="Blaenau Gwent Caerffili Rhymni" electorate="143537">
      <Candidate elected="*" paId="1" firstName="Claire" surname="Owen Test" partyListRank="1">
        <Party paId="13705" abbreviation="PC" name="Plaid Cymru" />
      </Candidate>
      <Party paId="13705" abbreviation="PC" name="Plaid Cymru" votes="24484" percentageShare="27.89" />
    </Constituency>
  </Election>
</TopUpResult>"#;

    proptest::proptest! {
        #[test]
        fn never_panics_on_mangled_messages(cut in 0usize..1200, junk in "[<>/=\"'&;a-zA-Z0-9 \\-+.*!?\\[\\]\n]{0,12}") {
            for base in [WESTMINSTER, LIST] {
                let mut text = base.to_string();
                let at = cut % (text.len() + 1);
                if text.is_char_boundary(at) {
                    text.insert_str(at, &junk);
                }
                let _ = super::super::pa_xml::parse("p.xml", &text, &crate::demo::parties());
            }
        }
    }

    #[test]
    fn reads_a_list_s_members_and_votes() {
        let parties = crate::demo::parties();
        let doc = document("l.xml", LIST).unwrap();
        let s = list("l.xml", &doc, false, &parties).unwrap();
        assert_eq!(s.declaration.id().as_str(), "pa:w-2026-05-06:3");
        let Some(Allocation::List(l)) = s.declaration.allocation.as_deref() else {
            panic!("{:?}", s.declaration.allocation)
        };
        assert!(!l.additional, "the Senedd's lists are closed");
        assert_eq!(l.elected[0].name, "Claire Owen Test");
        assert_eq!(l.elected[0].rank, Some(1));
        assert_eq!(l.votes, vec![(PartyId::new("pc"), 24484)]);
        let e = list(
            "l.xml",
            &document("l.xml", &LIST.replace("votes=\"24484\"", "votes=\"many\"")).unwrap(),
            false,
            &parties,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("l.xml:8") && e.contains("`many` is not a whole number"),
            "{e}"
        );
    }
}
