//! PA Media's first-past-the-post election XML: one message per file, read into the
//! election model.
//!
//! This module owns the reading of a single PA message file (a rush, a result, a recount
//! or a state of parties) from its text, and the revision number PA puts in file names. It
//! does not fetch files, order them, or decide which message wins for a seat; see the
//! field reference in the shared data folder (`feeds/README.md`, "PA FPTP XML").
//!
//! Like every loader, [`parse`] is a pure function of `(file name, text)`: bad input is a
//! [`LoadError`] naming the file, the line and the attribute, never a panic. The XML is
//! read whole on a real XML tree (roxmltree; PA messages are a few kilobytes), so a
//! truncated file is refused before any of it is interpreted.
//!
//! What PA's files carry and how it maps:
//! * seats are keyed by PA seat number (`pa:{number}`): PA files carry no ONS code;
//! * the nation follows the election `type` (S Scotland, W Wales, NI Northern Ireland,
//!   anything else England) and the region is the nation's name;
//! * a result's `turnout` is the total of valid votes, and its votes sit on each
//!   candidate's `Party` child; a notional previous election has `Party` rows only, which
//!   become one candidate per party, named after it.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

use super::party_for;
use crate::core::model::{
    Candidate, Constituency, ConstituencyId, ConstituencyResult, Declaration, DeclarationStatus,
    Nation, PartyId, Previous, Quoted, QuotedSwing, SourceView,
};
use crate::core::parties::PartyRegistry;
use crate::core::validate;
use crate::sources::error::LoadError;

/// One PA message file.
#[derive(Clone, Debug, PartialEq)]
pub enum PaMessage {
    /// `FirstPastThePostRush`: the winner is called, with no figures. The declaration's
    /// status is [`DeclarationStatus::Called`], the winner is `elected` and every
    /// candidate's votes are 0.
    Rush(PaSeat),
    /// `FirstPastThePostResult`: the full declaration ([`DeclarationStatus::Declared`]).
    Result(PaSeat),
    /// `Recount`: a recount is under way ([`DeclarationStatus::Recount`], no candidates).
    Recount(PaSeat),
    /// `FirstPastThePostStateOfParties`: the running national totals.
    StateOfParties(StateOfParties),
    /// `FirstPastThePostNominations`: who stands in a seat, before it declares.
    Nominations(PaNominations),
    /// A PA message of a family herald does not read (a council result, a regional list,
    /// nominations, a referendum): named by its root element, skipped and reported.
    Unread { root: String },
}

impl PaMessage {
    /// The election the message belongs to.
    pub fn election(&self) -> Option<&PaElection> {
        match self {
            PaMessage::Rush(s) | PaMessage::Result(s) | PaMessage::Recount(s) => Some(&s.election),
            PaMessage::StateOfParties(s) => Some(&s.election),
            PaMessage::Nominations(n) => Some(&n.election),
            PaMessage::Unread { .. } => None,
        }
    }

    /// The seat a rush, result or recount is about.
    pub fn seat(&self) -> Option<&PaSeat> {
        match self {
            PaMessage::Rush(s) | PaMessage::Result(s) | PaMessage::Recount(s) => Some(s),
            PaMessage::StateOfParties(_) | PaMessage::Nominations(_) | PaMessage::Unread { .. } => {
                None
            }
        }
    }
}

/// The `Election` element: which election a message belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaElection {
    pub name: String,
    pub date: NaiveDate,
    /// PA's election type, as given: `G` general, `S` Scottish Parliament, `W` Welsh,
    /// `NI` Northern Ireland, `M` mayor, `B` by-election, and others.
    pub kind: String,
}

impl PaElection {
    /// herald's id for the election: `pa-{type}-{date}` (`pa-s-2026-05-06`).
    pub fn id(&self) -> String {
        format!("pa-{}-{}", self.kind.trim().to_ascii_lowercase(), self.date)
    }

    /// The seats of the chamber an election fills, where the kind says (list seats and
    /// constituency seats together): the Scottish Parliament's 129, the Senedd's 96 from
    /// 2026 (60 before). None for others, whose size a state of parties gives.
    pub fn chamber_size(&self) -> Option<u32> {
        match self.kind.trim().to_ascii_uppercase().as_str() {
            "S" => Some(129),
            "W" if self.date >= NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default() => Some(96),
            "W" => Some(60),
            _ => None,
        }
    }

    /// The nation the election type implies: PA files name no nation or region.
    pub fn nation(&self) -> Nation {
        nation_of(&self.kind)
    }
}

/// A PA seat's id, namespaced by its election (PA numbers seats 1..N in each election):
/// `pa:s-2026-05-06:13`.
pub fn seat_id(election: &PaElection, number: u32) -> ConstituencyId {
    ConstituencyId::new(format!(
        "pa:{}-{}:{number}",
        election.kind.trim().to_ascii_lowercase(),
        election.date
    ))
}

fn nation_of(kind: &str) -> Nation {
    match kind.trim().to_ascii_uppercase().as_str() {
        "S" => Nation::Scotland,
        "W" => Nation::Wales,
        "NI" => Nation::NorthernIreland,
        _ => Nation::England,
    }
}

/// A rush, result or recount for one seat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaSeat {
    pub election: PaElection,
    /// PA's seat number (1..N within the election).
    pub number: u32,
    /// The seat as declared: constituency id `pa:{number}`, revision from the root
    /// `revision` attribute (else the file name, else 1), `declared_at` on results only.
    pub declaration: Declaration,
    /// The previous result PA compares with: the first `PreviousElection` with a
    /// constituency, or the `PreviousNotionalElection` (one candidate per party). Its
    /// constituency id is that election's seat id, whose number can differ from the
    /// current one. Also in the declaration's [`SourceView`].
    pub previous: Option<Previous>,
    /// `gain`, `hold` or `win`, as given.
    pub gain_or_hold: Option<String>,
    /// The sitting party's abbreviation, as given.
    pub sitting_party: Option<String>,
    /// PA's ready-made sentence (`paStyleMessageText`), on rushes.
    pub pa_text: Option<String>,
}

/// A seat's nominations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaNominations {
    pub election: PaElection,
    pub number: u32,
    pub nominated: crate::core::model::Nominated,
}

/// One row of a state of parties. Absent seats, gains and losses are zero.
#[derive(Clone, Debug, PartialEq)]
pub struct SopParty {
    pub abbreviation: String,
    pub name: String,
    /// The registry's party for the abbreviation or name, if it knows either.
    pub party: Option<PartyId>,
    pub seats: u32,
    pub gains: u32,
    pub losses: u32,
    pub total_votes: Option<u64>,
    /// Share of the vote, in percent.
    pub share: Option<f64>,
    /// Change in share since the previous election, in percentage points.
    pub share_change: Option<f64>,
}

/// `FirstPastThePostStateOfParties`: national totals after some results.
#[derive(Clone, Debug, PartialEq)]
pub struct StateOfParties {
    pub election: PaElection,
    pub number_of_results: u32,
    pub total_constituencies: u32,
    /// In file order (PA sorts by seats, then votes).
    pub parties: Vec<SopParty>,
    /// The seats the totals cover (`ConstituenciesIncluded`), as PA number and name.
    pub constituencies: Vec<(u32, String)>,
}

/// Reads one PA message. `file` names it in errors (and supplies the revision where the
/// root element has none).
pub fn parse(file: &str, text: &str, parties: &PartyRegistry) -> Result<PaMessage, LoadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let doc = Doc::read(file, text)?;
    let root = doc.root;
    match doc.nodes[root].name.as_str() {
        "FirstPastThePostRush" => doc.seat(root, Kind::Rush, parties).map(PaMessage::Rush),
        "FirstPastThePostResult" => doc.seat(root, Kind::Result, parties).map(PaMessage::Result),
        "Recount" => doc
            .seat(root, Kind::Recount, parties)
            .map(PaMessage::Recount),
        "FirstPastThePostStateOfParties" => doc
            .state_of_parties(root, parties)
            .map(PaMessage::StateOfParties),
        "FirstPastThePostNominations" => doc.nominations(root, parties).map(PaMessage::Nominations),
        // The May-night families, read on a real XML tree (see [`super::pa_may`]).
        may @ ("LocalElectionResult" | "LocalStateOfParties" | "TopUpResult" | "TopUpRush") => {
            use super::pa_may;
            let tree = pa_may::document(file, text)?;
            match may {
                // Only the whole night's totals are compared with herald's tally.
                "LocalStateOfParties"
                    if tree
                        .root_element()
                        .attribute("region")
                        .is_some_and(|r| !r.trim().eq_ignore_ascii_case("All")) =>
                {
                    Ok(PaMessage::Unread {
                        root: "LocalStateOfParties (one nation's totals)".into(),
                    })
                }
                "LocalStateOfParties" => pa_may::local_state_of_parties(file, &tree, parties)
                    .map(PaMessage::StateOfParties),
                "LocalElectionResult" => {
                    pa_may::council(file, &tree, parties).map(PaMessage::Result)
                }
                "TopUpResult" => pa_may::list(file, &tree, false, parties).map(PaMessage::Result),
                _ => pa_may::list(file, &tree, true, parties).map(PaMessage::Rush),
            }
        }
        other if OTHER_FAMILIES.contains(&other) => Ok(PaMessage::Unread {
            root: other.to_string(),
        }),
        other => Err(doc.error_at(
            root,
            format!("not a PA first-past-the-post message: root <{other}>"),
        )),
    }
}

/// The roots of PA's other message families (its XSDs), read as [`PaMessage::Unread`].
const OTHER_FAMILIES: [&str; 8] = [
    "LocalNominations",
    "TopUpNominations",
    "STVResult",
    "STVNominations",
    "ReferendumResult",
    "ReferendumRush",
    "ReferendumRecount",
    "ReferendumRunningTotals",
];

/// The message kinds PA names in its file names.
const FILE_KINDS: [&str; 5] = ["rush", "result", "recount", "sop", "nominations"];

/// The revision from a PA file name: `..._rush_Croydon_1.xml` → `Some(1)`;
/// `..._SOP_650.xml` → `Some(650)` (for a state of parties, the number of results).
/// The kind is matched case-insensitively (`_Sop_`, `_SOP_`); a directory part is
/// ignored. `None` for a name that is not a PA message file name.
pub fn revision_from_file_name(name: &str) -> Option<u32> {
    let base = name.rsplit(['/', '\\']).next()?;
    let cut = base.len().checked_sub(4)?;
    if !base.get(cut..)?.eq_ignore_ascii_case(".xml") {
        return None;
    }
    let stem = base.get(..cut)?;
    let (rest, number) = stem.rsplit_once('_')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let has_kind = rest
        .split('_')
        .any(|t| FILE_KINDS.iter().any(|k| t.eq_ignore_ascii_case(k)));
    if has_kind { number.parse().ok() } else { None }
}

/// PA labels that the registry would resolve to a different party. Registry aliases match
/// case-insensitively, so PA's `Apni` (the Apni Party, GE2015) would become the Alliance
/// Party, whose abbreviation in the Commons Library files is `APNI`. Compared exactly.
const NOT_REGISTRY_LABELS: [&str; 1] = ["Apni"];

fn is_pa_own_label(abbreviation: &str, name: &str) -> bool {
    NOT_REGISTRY_LABELS
        .iter()
        .any(|l| abbreviation.trim() == *l || name.trim() == *l)
}

/// The candidate's party: the registry's id where it knows the abbreviation or the name,
/// else the raw name.
pub(super) fn pa_party_for(parties: &PartyRegistry, abbreviation: &str, name: &str) -> PartyId {
    let (abbreviation, name) = (abbreviation.trim(), name.trim());
    if is_pa_own_label(abbreviation, name) {
        return PartyId::new(if name.is_empty() { abbreviation } else { name });
    }
    party_for(parties, abbreviation, name)
}

/// The registry's party for a state-of-parties row, if it knows it (see
/// [`super::party_known`]).
fn pa_resolve(parties: &PartyRegistry, abbreviation: &str, name: &str) -> Option<PartyId> {
    let (abbreviation, name) = (abbreviation.trim(), name.trim());
    if is_pa_own_label(abbreviation, name) {
        return None;
    }
    super::party_known(parties, abbreviation, name)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rush,
    Result,
    Recount,
}

/// The opening of a seat message (see `Doc::seat_head`).
struct SeatHead {
    election: PaElection,
    /// The `Constituency` element.
    seat: usize,
    number: u32,
    constituency: Constituency,
    revision: u32,
}

/// Whether votes are read from a candidate.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Votes {
    /// A rush: no figures, every candidate has 0.
    Zero,
    /// A result: each candidate's votes are required.
    Required,
}

struct Attr {
    name: String,
    value: String,
    /// Byte offset of the attribute in the text.
    offset: usize,
}

struct Element {
    name: String,
    /// Byte offset of the element's name in the text.
    offset: usize,
    attrs: Vec<Attr>,
    children: Vec<usize>,
}

/// A whole XML document as a flat element tree (text content is not kept: PA's messages
/// put everything in attributes).
struct Doc<'a> {
    file: &'a str,
    text: &'a str,
    nodes: Vec<Element>,
    root: usize,
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> u64 {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u64
        + 1
}

impl<'a> Doc<'a> {
    /// Reads the whole document on a real XML tree (roxmltree), refusing a malformed or
    /// truncated one at its line, then keeps what the messages use: elements, their
    /// attributes and where each stands in the text.
    fn read(file: &'a str, text: &'a str) -> Result<Doc<'a>, LoadError> {
        use roxmltree::Error as E;
        let tree = roxmltree::Document::parse(text).map_err(|e| {
            let mut line = u64::from(e.pos().row);
            let problem = match &e {
                E::NoRootNode => "no XML element: the file is empty or truncated".to_string(),
                E::UnexpectedEndOfStream | E::UnclosedRootNode => {
                    // Where the file stops.
                    line = line_of(text, text.len());
                    format!("the file ends before its elements close: truncated ({e})")
                }
                E::DuplicatedAttribute(..) | E::InvalidAttributeValue(..) => {
                    format!("malformed attribute: {e}")
                }
                _ => format!("malformed XML: {e}"),
            };
            LoadError::new(file, problem).at_line(line)
        })?;
        fn add(node: roxmltree::Node, nodes: &mut Vec<Element>) -> usize {
            let index = nodes.len();
            nodes.push(Element {
                name: node.tag_name().name().to_string(),
                // The element's name, just after its `<`.
                offset: node.range().start + 1,
                attrs: node
                    .attributes()
                    .map(|a| Attr {
                        name: a.name().to_string(),
                        value: a.value().to_string(),
                        offset: a.range().start,
                    })
                    .collect(),
                children: Vec::new(),
            });
            for child in node.children().filter(|c| c.is_element()) {
                let c = add(child, nodes);
                nodes[index].children.push(c);
            }
            index
        }
        let mut nodes = Vec::new();
        let root = add(tree.root_element(), &mut nodes);
        Ok(Doc {
            file,
            text,
            nodes,
            root,
        })
    }

    fn line(&self, offset: usize) -> u64 {
        line_of(self.text, offset)
    }

    fn name(&self, el: usize) -> &str {
        &self.nodes[el].name
    }

    fn error_at(&self, el: usize, problem: impl Into<String>) -> LoadError {
        LoadError::new(self.file, problem).at_line(self.line(self.nodes[el].offset))
    }

    fn attr(&self, el: usize, name: &str) -> Option<&Attr> {
        self.nodes[el].attrs.iter().find(|a| a.name == name)
    }

    /// An optional attribute's value.
    fn opt(&self, el: usize, name: &str) -> Option<&str> {
        self.attr(el, name).map(|a| a.value.as_str())
    }

    /// An optional attribute's trimmed value, `None` where absent or blank.
    fn opt_text(&self, el: usize, name: &str) -> Option<String> {
        self.opt(el, name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(String::from)
    }

    /// A required attribute.
    fn req(&self, el: usize, name: &str) -> Result<&Attr, LoadError> {
        self.attr(el, name).ok_or_else(|| {
            self.error_at(el, format!("<{}> has no `{name}` attribute", self.name(el)))
                .in_field(name)
        })
    }

    /// A required attribute's trimmed value.
    fn req_text(&self, el: usize, name: &str) -> Result<String, LoadError> {
        self.req(el, name).map(|a| a.value.trim().to_string())
    }

    fn bad(&self, attr: &Attr, problem: String) -> LoadError {
        LoadError::new(self.file, problem)
            .at_line(self.line(attr.offset))
            .in_field(&attr.name)
    }

    fn count_of(&self, attr: &Attr) -> Result<u64, LoadError> {
        parse_count(&attr.value)
            .ok_or_else(|| self.bad(attr, format!("`{}` is not a whole number", attr.value)))
    }

    fn small_of(&self, attr: &Attr) -> Result<u32, LoadError> {
        let n = self.count_of(attr)?;
        u32::try_from(n).map_err(|_| self.bad(attr, format!("{n} is too large")))
    }

    fn opt_count(&self, el: usize, name: &str) -> Result<Option<u64>, LoadError> {
        self.attr(el, name).map(|a| self.count_of(a)).transpose()
    }

    fn req_count(&self, el: usize, name: &str) -> Result<u64, LoadError> {
        self.count_of(self.req(el, name)?)
    }

    fn opt_small(&self, el: usize, name: &str) -> Result<Option<u32>, LoadError> {
        self.attr(el, name).map(|a| self.small_of(a)).transpose()
    }

    fn req_small(&self, el: usize, name: &str) -> Result<u32, LoadError> {
        self.small_of(self.req(el, name)?)
    }

    fn opt_decimal(&self, el: usize, name: &str) -> Result<Option<f64>, LoadError> {
        self.attr(el, name)
            .map(|a| {
                parse_decimal(&a.value)
                    .ok_or_else(|| self.bad(a, format!("`{}` is not a number", a.value)))
            })
            .transpose()
    }

    fn children<'s>(&'s self, el: usize, name: &'s str) -> impl Iterator<Item = usize> + 's {
        self.nodes[el]
            .children
            .iter()
            .copied()
            .filter(move |&c| self.nodes[c].name == name)
    }

    /// The one child element `name` of `el`.
    fn one_child(&self, el: usize, name: &str) -> Result<usize, LoadError> {
        let mut found = self.children(el, name);
        let first = found.next().ok_or_else(|| {
            self.error_at(el, format!("<{}> has no <{name}>", self.name(el)))
                .in_field(name)
        })?;
        if let Some(second) = found.next() {
            return Err(self
                .error_at(
                    second,
                    format!("<{}> has more than one <{name}>", self.name(el)),
                )
                .in_field(name));
        }
        Ok(first)
    }

    fn election(&self, el: usize) -> Result<PaElection, LoadError> {
        let date = self.req(el, "date")?;
        Ok(PaElection {
            name: self.req_text(el, "name")?,
            date: parse_date(&date.value)
                .ok_or_else(|| self.bad(date, format!("`{}` is not a date", date.value)))?,
            kind: self.req_text(el, "type")?,
        })
    }

    fn constituency(
        &self,
        el: usize,
        election: &PaElection,
        nation: Nation,
    ) -> Result<(u32, Constituency), LoadError> {
        let number = self.req_small(el, "number")?;
        Ok((
            number,
            Constituency {
                id: seat_id(election, number),
                // A mayor is of a place: "Croydon mayor: Lab HOLD".
                name: if election.kind.trim().eq_ignore_ascii_case("M") {
                    format!("{} mayor", self.req_text(el, "name")?)
                } else {
                    self.req_text(el, "name")?
                },
                region: nation.name().to_string(),
                nation,
                election: Some(election.id()),
            },
        ))
    }

    /// A `Candidate` with its `Party` child.
    fn candidate(
        &self,
        el: usize,
        votes: Votes,
        parties: &PartyRegistry,
    ) -> Result<(Candidate, String), LoadError> {
        let surname = self.req_text(el, "surname")?;
        let name = match self.opt_text(el, "firstName") {
            Some(first) if !surname.is_empty() => format!("{first} {surname}"),
            Some(first) => first,
            None => surname,
        };
        let party = self.one_child(el, "Party")?;
        let abbreviation = self.req_text(party, "abbreviation")?;
        let party_name = self.req_text(party, "name")?;
        let votes = match votes {
            Votes::Zero => 0,
            Votes::Required => match (self.attr(party, "votes"), self.attr(el, "votes")) {
                (Some(v), _) | (None, Some(v)) => self.count_of(v)?,
                (None, None) => {
                    return Err(self
                        .error_at(party, "<Party> has no `votes` attribute")
                        .in_field("votes"));
                }
            },
        };
        let elected = is_marked(self.opt(el, "elected")) || is_marked(self.opt(party, "elected"));
        Ok((
            Candidate {
                name,
                party: pa_party_for(parties, &abbreviation, &party_name),
                votes,
                elected,
            },
            abbreviation,
        ))
    }

    /// A `Party` row standing for a candidate (notional results), named after the party.
    fn party_row(&self, el: usize, parties: &PartyRegistry) -> Result<Candidate, LoadError> {
        let abbreviation = self.req_text(el, "abbreviation")?;
        let name = self.req_text(el, "name")?;
        Ok(Candidate {
            party: pa_party_for(parties, &abbreviation, &name),
            name: if name.is_empty() { abbreviation } else { name },
            votes: self.req_count(el, "votes")?,
            elected: is_marked(self.opt(el, "elected")),
        })
    }

    /// What every seat message opens with: its election, its `Constituency` element, and
    /// its revision (the root's, else the file name's, else 1).
    fn seat_head(&self, root: usize) -> Result<SeatHead, LoadError> {
        let election_el = self.one_child(root, "Election")?;
        let election = self.election(election_el)?;
        let seat = self.one_child(election_el, "Constituency")?;
        let (number, constituency) = self.constituency(seat, &election, election.nation())?;
        let revision = match self.opt_small(root, "revision")? {
            Some(r) => r,
            None => revision_from_file_name(self.file).unwrap_or(1),
        };
        Ok(SeatHead {
            election,
            seat,
            number,
            constituency,
            revision,
        })
    }

    /// A rush, result or recount.
    fn seat(&self, root: usize, kind: Kind, parties: &PartyRegistry) -> Result<PaSeat, LoadError> {
        let SeatHead {
            election,
            seat,
            number,
            constituency,
            revision,
        } = self.seat_head(root)?;
        let electorate = self.opt_count(seat, "electorate")?;

        let (status, votes) = match kind {
            Kind::Rush => (DeclarationStatus::Called, Votes::Zero),
            Kind::Result => (DeclarationStatus::Declared, Votes::Required),
            Kind::Recount => (DeclarationStatus::Recount, Votes::Zero),
        };
        let mut candidates = Vec::new();
        if kind != Kind::Recount {
            let mut abbreviations = Vec::new();
            for c in self.children(seat, "Candidate") {
                let (candidate, abbreviation) = self.candidate(c, votes, parties)?;
                candidates.push(candidate);
                abbreviations.push(abbreviation);
            }
            // `elected` is optional in the schema: a rush that marks nobody names its
            // winner by party, which settles it where one candidate stands for that party.
            if kind == Kind::Rush && !candidates.iter().any(|c| c.elected) {
                let winner = self.opt_text(seat, "winningPartyAbbreviation");
                let standing: Vec<usize> = abbreviations
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| Some(*a) == winner.as_ref())
                    .map(|(i, _)| i)
                    .collect();
                if let [only] = standing[..] {
                    candidates[only].elected = true;
                }
            }
        }

        let (declared_at, valid_votes) = if kind == Kind::Result {
            let time = self.req(root, "declarationTime")?;
            let at = parse_time(&time.value).ok_or_else(|| {
                self.bad(time, format!("`{}` is not a date and time", time.value))
            })?;
            (Some(at), Some(self.req_count(seat, "turnout")?))
        } else {
            (None, None)
        };

        let mut declaration = Declaration {
            allocation: None,
            result: ConstituencyResult {
                constituency,
                electorate,
                valid_votes,
                rejected: None,
                candidates,
            },
            declared_at,
            revision,
            status,
            source: None,
        };
        validate::check(&declaration).map_err(|e| {
            self.error_at(
                seat,
                format!(
                    "{} ({}): {e}",
                    declaration.result.constituency.name, declaration.result.constituency.id
                ),
            )
            .invalid()
        })?;

        let (gain_or_hold, sitting_party, pa_text, previous) = match kind {
            Kind::Rush => (
                self.opt_text(seat, "gainOrHold"),
                self.opt_text(seat, "sittingPartyAbbreviation"),
                self.opt_text(seat, "paStyleMessageText"),
                None,
            ),
            Kind::Result => (
                self.opt_text(seat, "gainOrHold"),
                self.opt_text(seat, "sittingParty"),
                None,
                self.previous(root, election.nation(), parties)?,
            ),
            Kind::Recount => (None, None, None, None),
        };
        if kind != Kind::Recount {
            let view = SourceView {
                previous: previous.clone(),
                defending: sitting_party
                    .as_deref()
                    .map(|a| self.party_named(a, parties)),
                quoted: self.quoted(seat, kind, gain_or_hold.clone(), parties)?,
                new_boundaries: self.attr(seat, "percentageBoundaryChange").is_some(),
                // `*` sat for this seat, `+` for another.
                sitting: self
                    .children(seat, "Candidate")
                    .zip(&declaration.result.candidates)
                    .filter(|(c, _)| {
                        matches!(
                            self.opt(*c, "previousSittingMember").map(str::trim),
                            Some("*" | "+")
                        )
                    })
                    .map(|(_, cand)| cand.name.clone())
                    .collect(),
            };
            if view != SourceView::default() {
                declaration.source = Some(Box::new(view));
            }
        }
        Ok(PaSeat {
            election,
            number,
            declaration,
            previous,
            gain_or_hold,
            sitting_party,
            pa_text,
        })
    }

    /// The party a message names by abbreviation only (`sittingParty`, `winningParty`,
    /// `swingTo`): the name comes from a `Party` element of the same message with that
    /// abbreviation, where there is one.
    fn party_named(&self, abbreviation: &str, parties: &PartyRegistry) -> PartyId {
        let name = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.name == "Party")
            .find(|(i, _)| self.opt(*i, "abbreviation").map(str::trim) == Some(abbreviation))
            .and_then(|(i, _)| self.opt_text(i, "name"))
            .unwrap_or_default();
        pa_party_for(parties, abbreviation, &name)
    }

    /// A percentage in hundredths of a point (PA gives two decimal places).
    fn opt_hundredths(&self, el: usize, name: &str) -> Result<Option<i64>, LoadError> {
        Ok(self
            .opt_decimal(el, name)?
            .map(|v| (v * 100.0).round() as i64))
    }

    /// PA's own figures for the seat, to compare with herald's.
    fn quoted(
        &self,
        seat: usize,
        kind: Kind,
        outcome: Option<String>,
        parties: &PartyRegistry,
    ) -> Result<Quoted, LoadError> {
        let winner_attr = match kind {
            Kind::Rush => "winningPartyAbbreviation",
            _ => "winningParty",
        };
        let winner = self
            .opt_text(seat, winner_attr)
            .map(|a| self.party_named(&a, parties));
        if kind != Kind::Result {
            return Ok(Quoted {
                outcome,
                winner,
                ..Quoted::default()
            });
        }
        let swing = match (
            self.opt_hundredths(seat, "swing")?,
            self.opt_text(seat, "swingFrom"),
            self.opt_text(seat, "swingTo"),
        ) {
            (Some(hundredths), Some(from), Some(to)) => Some(QuotedSwing {
                hundredths,
                from: self.party_named(&from, parties),
                to: self.party_named(&to, parties),
            }),
            _ => None,
        };
        let mut share_changes = Vec::new();
        for c in self.children(seat, "Candidate") {
            let party = self.one_child(c, "Party")?;
            if let Some(change) = self.opt_hundredths(party, "percentageShareChange")? {
                let abbreviation = self.req_text(party, "abbreviation")?;
                let name = self.req_text(party, "name")?;
                share_changes.push((pa_party_for(parties, &abbreviation, &name), change));
            }
        }
        Ok(Quoted {
            outcome,
            winner,
            majority: self.opt_count(seat, "majority")?,
            swing,
            share_changes,
        })
    }

    /// A nominations message: the candidates, with the seat's previous election and
    /// sitting party where PA gives them.
    fn nominations(
        &self,
        root: usize,
        parties: &PartyRegistry,
    ) -> Result<PaNominations, LoadError> {
        let SeatHead {
            election,
            seat,
            number,
            constituency,
            revision,
        } = self.seat_head(root)?;
        let mut candidates = Vec::new();
        for c in self.children(seat, "Candidate") {
            candidates.push(self.candidate(c, Votes::Zero, parties)?.0);
        }
        let previous = self.previous(root, election.nation(), parties)?;
        let defending = self
            .opt_text(seat, "sittingParty")
            .map(|a| self.party_named(&a, parties));
        let view = SourceView {
            previous,
            defending,
            quoted: Quoted::default(),
            new_boundaries: self.attr(seat, "percentageBoundaryChange").is_some(),
            sitting: Vec::new(),
        };
        Ok(PaNominations {
            election,
            number,
            nominated: crate::core::model::Nominated {
                constituency,
                candidates,
                revision,
                source: (view != SourceView::default()).then(|| Box::new(view)),
            },
        })
    }

    /// The first previous election with a constituency in it, checked like a declaration.
    fn previous(
        &self,
        root: usize,
        nation: Nation,
        parties: &PartyRegistry,
    ) -> Result<Option<Previous>, LoadError> {
        let blocks = self.nodes[root].children.iter().copied().filter(|&c| {
            matches!(
                self.name(c),
                "PreviousElection" | "PreviousNotionalElection"
            )
        });
        for block in blocks {
            let Some(seat) = self.children(block, "Constituency").next() else {
                continue;
            };
            let date = self.req(block, "date")?;
            let held = PaElection {
                name: self.opt_text(block, "name").unwrap_or_default(),
                date: parse_date(&date.value)
                    .ok_or_else(|| self.bad(date, format!("`{}` is not a date", date.value)))?,
                kind: self.opt_text(block, "type").unwrap_or_default(),
            };
            let nation = self.opt(block, "type").map_or(nation, nation_of);
            let (_, constituency) = self.constituency(seat, &held, nation)?;
            let mut candidates = Vec::new();
            for &c in &self.nodes[seat].children {
                match self.name(c) {
                    "Candidate" => candidates.push(self.candidate(c, Votes::Required, parties)?.0),
                    "Party" => candidates.push(self.party_row(c, parties)?),
                    _ => {}
                }
            }
            let result = ConstituencyResult {
                constituency,
                electorate: self.opt_count(seat, "electorate")?,
                valid_votes: self.opt_count(seat, "turnout")?,
                rejected: None,
                candidates,
            };
            let as_declared = Declaration {
                allocation: None,
                result,
                declared_at: None,
                revision: 1,
                status: DeclarationStatus::Declared,
                source: None,
            };
            validate::check(&as_declared).map_err(|e| {
                self.error_at(
                    seat,
                    format!(
                        "previous result in {} ({}): {e}",
                        as_declared.result.constituency.name, as_declared.result.constituency.id
                    ),
                )
                .invalid()
            })?;
            return Ok(Some(Previous {
                result: as_declared.result,
                date: held.date,
                notional: self.name(block) == "PreviousNotionalElection",
            }));
        }
        Ok(None)
    }

    fn state_of_parties(
        &self,
        root: usize,
        parties: &PartyRegistry,
    ) -> Result<StateOfParties, LoadError> {
        let number_of_results = self.req_small(root, "numberOfResults")?;
        let total_constituencies = self.req_small(root, "totalNumberOfConstituencies")?;
        let election = self.election(self.one_child(root, "Election")?)?;
        let mut rows = Vec::new();
        for list in self.children(root, "Parties") {
            for p in self.children(list, "Party") {
                let abbreviation = self.req_text(p, "abbreviation")?;
                let name = self.req_text(p, "name")?;
                rows.push(SopParty {
                    party: pa_resolve(parties, &abbreviation, &name),
                    abbreviation,
                    name,
                    seats: self.opt_small(p, "totalSeats")?.unwrap_or(0),
                    gains: self.opt_small(p, "gains")?.unwrap_or(0),
                    losses: self.opt_small(p, "losses")?.unwrap_or(0),
                    total_votes: self.opt_count(p, "totalVotes")?,
                    share: self.opt_decimal(p, "percentageShare")?,
                    share_change: self.opt_decimal(p, "percentageChange")?,
                });
            }
        }
        let mut constituencies = Vec::new();
        for list in self.children(root, "ConstituenciesIncluded") {
            for c in self.children(list, "Constituency") {
                constituencies.push((self.req_small(c, "number")?, self.req_text(c, "name")?));
            }
        }
        Ok(StateOfParties {
            election,
            number_of_results,
            total_constituencies,
            parties: rows,
            constituencies,
        })
    }
}

/// PA marks the elected candidate with `*`.
fn is_marked(flag: Option<&str>) -> bool {
    flag.is_some_and(|f| f.trim() == "*")
}

/// A count: digits, with the `+` sign XML integers allow.
fn parse_count(s: &str) -> Option<u64> {
    let t = s.trim();
    let digits = t.strip_prefix('+').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A decimal such as `59.61`, `+11.85` or `-9.33` (no exponents, no infinities).
fn parse_decimal(s: &str) -> Option<f64> {
    let t = s.trim();
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return None;
    }
    let value: f64 = body.parse().ok()?;
    Some(if t.starts_with('-') { -value } else { value })
}

/// An `xs:date`, with any time-zone suffix ignored.
pub(super) fn parse_date(s: &str) -> Option<NaiveDate> {
    let t = s.trim();
    let day = match t.get(10..) {
        Some(zone) if zone.is_empty() || zone == "Z" || zone.starts_with(['+', '-']) => {
            t.get(..10)?
        }
        _ => t,
    };
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

/// An `xs:dateTime`: with its offset, or without one as UK local time.
pub(super) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let t = s.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return Some(at.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    chrono_tz::Europe::London
        .from_local_datetime(&naive)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use proptest::prelude::*;

    const RESULT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<FirstPastThePostResult revision="2" declarationTime="2026-05-07T02:10:00+01:00">
  <Election name="Test General Election" date="2026-05-06" type="G">
    <Constituency number="7" name="Anytown &amp; District" electorate="1000" turnout="600" winningParty="Lab" gainOrHold="gain" sittingParty="C" majority="200">
      <Candidate elected="*" paId="1" firstName="Ann" surname="Smith">
        <Party paId="10" name="Labour" abbreviation="Lab" votes="350" percentageShare="58.33" percentageShareChange="+11.85" />
      </Candidate>
      <Candidate paId="2" surname="Jones">
        <Party paId="11" name="Conservative" abbreviation="C" votes="150" percentageShareChange="-9.33" />
      </Candidate>
      <Candidate paId="3" firstName="Bo" surname="Brown">
        <Party paId="12" name="Independent Bo Brown" abbreviation="Ind" votes="100" />
      </Candidate>
    </Constituency>
  </Election>
  <PreviousNotionalElection name="General Election" date="2024-07-04" type="G">
    <Constituency number="6" name="Anytown" turnout="500" winningParty="C" majority="100">
      <Party paId="20" name="Conservative" abbreviation="C" votes="250" />
      <Party paId="21" name="Labour" abbreviation="Lab" votes="150" />
      <Party paId="22" name="Others" abbreviation="Others" votes="100" />
    </Constituency>
  </PreviousNotionalElection>
</FirstPastThePostResult>
"#;

    fn seat(message: PaMessage) -> PaSeat {
        match message {
            PaMessage::Rush(s) | PaMessage::Result(s) | PaMessage::Recount(s) => s,
            _ => panic!("expected a seat message"),
        }
    }

    #[test]
    fn reads_a_result_with_a_notional_previous_election() {
        let parties = demo::parties();
        let m = parse("t.xml", RESULT, &parties).unwrap();
        assert!(matches!(m, PaMessage::Result(_)));
        let s = seat(m);
        assert_eq!(s.number, 7);
        assert_eq!(s.election.kind, "G");
        assert_eq!(s.election.date.to_string(), "2026-05-06");
        let d = &s.declaration;
        assert_eq!(d.status, DeclarationStatus::Declared);
        assert_eq!(d.revision, 2);
        assert_eq!(d.id().as_str(), "pa:g-2026-05-06:7");
        assert_eq!(d.result.constituency.name, "Anytown & District");
        assert_eq!(d.result.constituency.region, "England");
        assert_eq!(d.result.electorate, Some(1000));
        assert_eq!(d.result.valid_votes, Some(600));
        assert_eq!(d.result.rejected, None);
        assert_eq!(
            d.declared_at.unwrap().to_rfc3339(),
            "2026-05-07T01:10:00+00:00"
        );
        let c = &d.result.candidates;
        assert_eq!(
            (
                c[0].name.as_str(),
                c[0].party.as_str(),
                c[0].votes,
                c[0].elected
            ),
            ("Ann Smith", "lab", 350, true)
        );
        assert_eq!((c[1].name.as_str(), c[1].party.as_str()), ("Jones", "con"));
        assert!(!c[1].elected);
        assert_eq!(c[2].party, PartyId::new("ind"));
        assert_eq!(s.gain_or_hold.as_deref(), Some("gain"));
        assert_eq!(s.sitting_party.as_deref(), Some("C"));
        assert_eq!(s.pa_text, None);

        let previous = s.previous.expect("a notional previous result");
        assert!(previous.notional);
        assert_eq!(previous.label(), "2024 (notional)");
        let p = &previous.result;
        assert_eq!(p.constituency.id.as_str(), "pa:g-2024-07-04:6");
        assert_eq!(p.valid_votes, Some(500));
        let names: Vec<_> = p.candidates.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Conservative", "Labour", "Others"]);
        assert_eq!(p.candidates[0].party, PartyId::new("con"));
        assert_eq!(p.candidates[2].party, PartyId::new("Others"));
        assert_eq!(p.total_votes(), 500);

        // PA's own figures ride with the declaration, to be compared, never adopted.
        let view = d.source.as_deref().expect("PA's view of the seat");
        assert_eq!(view.defending, Some(PartyId::new("con")));
        assert_eq!(view.previous.as_ref(), Some(&previous));
        let q = &view.quoted;
        assert_eq!(q.outcome.as_deref(), Some("gain"));
        assert_eq!(q.winner, Some(PartyId::new("lab")));
        assert_eq!(q.majority, Some(200));
        assert_eq!(q.swing, None, "no swing attributes");
        assert_eq!(
            q.share_changes,
            [(PartyId::new("lab"), 1185), (PartyId::new("con"), -933)]
        );
    }

    #[test]
    fn tolerates_a_byte_order_mark() {
        let with_bom = format!("\u{feff}{RESULT}");
        let e = parse(
            "t.xml",
            &with_bom.replace("votes=\"150\"", "votes=\"x\""),
            &demo::parties(),
        )
        .unwrap_err();
        assert_eq!(e.line, Some(9));
        assert!(matches!(
            parse("t.xml", &with_bom, &demo::parties()),
            Ok(PaMessage::Result(_))
        ));
    }

    #[test]
    fn reads_a_rush_and_a_recount() {
        let rush = r#"<FirstPastThePostRush revision="1">
  <Election name="Scottish Parliament Test" date="2026-05-06" type="S">
    <Constituency number="20" name="Cowdenbeath" gainOrHold="hold" winningPartyAbbreviation="SNP" winningPartyName="Scottish National Party" sittingPartyAbbreviation="SNP" change="false" paStyleMessageText="Scottish National Party hold Cowdenbeath">
      <Candidate paId="1" firstName="Dave" surname="Power"><Party paId="1" name="Conservative" abbreviation="C" /></Candidate>
      <Candidate elected="*" paId="2" firstName="Brian" surname="Shah"><Party paId="2" name="Scottish National Party" abbreviation="SNP" /></Candidate>
    </Constituency>
  </Election>
</FirstPastThePostRush>"#;
        let s = seat(parse("r.xml", rush, &demo::parties()).unwrap());
        let d = &s.declaration;
        assert_eq!(d.status, DeclarationStatus::Called);
        assert_eq!(d.result.constituency.nation, Nation::Scotland);
        assert_eq!(d.result.constituency.region, "Scotland");
        assert!(d.result.candidates.iter().all(|c| c.votes == 0));
        assert!(d.result.candidates[1].elected && !d.result.candidates[0].elected);
        assert_eq!(d.declared_at, None);
        assert_eq!(s.sitting_party.as_deref(), Some("SNP"));
        assert_eq!(
            s.pa_text.as_deref(),
            Some("Scottish National Party hold Cowdenbeath")
        );

        // A rush that marks nobody is settled by its winning party, where that is unique.
        let unmarked = rush.replace("elected=\"*\" ", "");
        let s = seat(parse("r.xml", &unmarked, &demo::parties()).unwrap());
        assert!(s.declaration.result.candidates[1].elected);

        let recount = r#"<Recount revision="3"><Election name="E" date="2026-05-06" type="NI"><Constituency number="4" name="Foyle" recount="2" /></Election></Recount>"#;
        let m = parse("x_recount_Foyle_3.xml", recount, &demo::parties()).unwrap();
        assert!(matches!(m, PaMessage::Recount(_)));
        let s = seat(m);
        assert_eq!(s.declaration.status, DeclarationStatus::Recount);
        assert!(s.declaration.result.candidates.is_empty());
        assert_eq!(
            s.declaration.result.constituency.nation,
            Nation::NorthernIreland
        );
        assert_eq!(s.declaration.revision, 3);

        // Without a root revision, the file name's applies.
        let bare = recount.replace(" revision=\"3\"", "");
        let s = seat(parse("x_recount_Foyle_5.xml", &bare, &demo::parties()).unwrap());
        assert_eq!(s.declaration.revision, 5);
    }

    #[test]
    fn errors_name_line_and_attribute() {
        let parties = demo::parties();
        let bad = RESULT.replace("votes=\"150\"", "votes=\"1S0\"");
        let e = parse("t.xml", &bad, &parties).unwrap_err();
        assert_eq!(e.line, Some(9));
        assert_eq!(e.field.as_deref(), Some("votes"));
        assert!(
            e.to_string()
                .starts_with("t.xml:9: field `votes`: `1S0` is not a whole number"),
            "{e}"
        );

        let bad = RESULT.replace(" surname=\"Jones\"", "");
        let e = parse("t.xml", &bad, &parties).unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(8), Some("surname")),
            "{e}"
        );

        // The line of the attribute, where a tag spans several lines.
        let bad = RESULT.replace(" majority=\"200\"", "\n      electorate=\"many\"");
        let e = parse("t.xml", &bad, &parties).unwrap_err();
        assert!(e.problem.contains("malformed attribute"), "{e}");
        let bad = RESULT
            .replace(" electorate=\"1000\"", "")
            .replace(" majority=\"200\"", "\n      electorate=\"many\"");
        let e = parse("t.xml", &bad, &parties).unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(5), Some("electorate")),
            "{e}"
        );

        let bad = RESULT.replace("date=\"2026-05-06\"", "date=\"6 May\"");
        let e = parse("t.xml", &bad, &parties).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(3), Some("date")));

        let bad = RESULT.replace(" declarationTime=\"2026-05-07T02:10:00+01:00\"", "");
        let e = parse("t.xml", &bad, &parties).unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(2), Some("declarationTime"))
        );

        // Figures that do not add up are refused whole.
        let bad = RESULT.replace("turnout=\"600\"", "turnout=\"601\"");
        let e = parse("t.xml", &bad, &parties).unwrap_err();
        assert_eq!(e.line, Some(4));
        assert!(e.problem.contains("valid votes are given as 601"), "{e}");
        // Well-formed but implausible, as every loader reports it (and the feed metrics
        // count it): not malformed.
        assert_eq!(e.kind, crate::sources::LoadErrorKind::Invalid);
        let bad = RESULT.replace("votes=\"250\"", "votes=\"251\"");
        let e = parse("t.xml", &bad, &parties).unwrap_err();
        assert!(e.problem.starts_with("previous result in Anytown"), "{e}");
        assert_eq!(e.kind, crate::sources::LoadErrorKind::Invalid);
        let bad = RESULT.replace("votes=\"350\"", "votes=\"x\"");
        let e = parse("t.xml", &bad, &parties).unwrap_err();
        assert_eq!(e.kind, crate::sources::LoadErrorKind::Malformed);

        let bad = RESULT.replace(" votes=\"350\"", "");
        let e = parse("t.xml", &bad, &parties).unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(6), Some("votes")),
            "{e}"
        );
        let bad = RESULT.replace(
            "votes=\"100\" />\n    </Constituency>",
            "/>\n    </Constituency>",
        );
        let e = parse("t.xml", &bad, &parties).unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(20), Some("votes")),
            "{e}"
        );

        let e = parse(
            "t.xml",
            "<html><body>502 Bad Gateway</body></html>",
            &parties,
        )
        .unwrap_err();
        assert!(
            e.problem
                .contains("not a PA first-past-the-post message: root <html>"),
            "{e}"
        );
        let e = parse("t.xml", "502 Bad Gateway", &parties).unwrap_err();
        assert_eq!(e.line, Some(1));
        let e = parse("t.xml", "", &parties).unwrap_err();
        assert!(e.problem.contains("no XML element"), "{e}");
        let e = parse("t.xml", "  \r\n<!-- nothing -->\r\n", &parties).unwrap_err();
        assert!(e.problem.contains("no XML element"), "{e}");

        let end = RESULT.find("</FirstPastThePostResult>").unwrap();
        let e = parse("t.xml", &RESULT[..end], &parties).unwrap_err();
        assert_eq!(e.line, Some(23), "{e}");
        assert!(e.problem.contains("truncated"), "{e}");
        let e = parse("t.xml", &RESULT[..300], &parties).unwrap_err();
        assert!(e.line.is_some(), "{e}");
        let e = parse(
            "t.xml",
            &RESULT.replace("</Election>", "</Elections>"),
            &parties,
        )
        .unwrap_err();
        assert_eq!(e.line, Some(15), "{e}");
        assert!(e.problem.starts_with("malformed XML"), "{e}");
    }

    const SOP: &str = r#"<FirstPastThePostStateOfParties numberOfResults="3" totalNumberOfConstituencies="650" totalVotes="100">
  <Election name="Test General Election" date="2015-05-06" type="G" />
  <Parties>
    <Party paId="1" name="Labour" abbreviation="Lab" totalSeats="2" gains="1" totalVotes="60" percentageShare="60.00" percentageChange="+7.99" />
    <Party paId="2" name="Conservative" abbreviation="C" totalSeats="1" losses="1" totalVotes="30" percentageShare="30.00" percentageChange="-3.87" />
    <Party paId="3" name="Apni" abbreviation="Apni" totalVotes="5" percentageShare="5.00" />
    <Party paId="-9999" name="Others" abbreviation="Others" totalVotes="5" percentageShare="5.00" />
  </Parties>
  <ConstituenciesIncluded>
    <Constituency number="1" name="Aberavon" />
    <Constituency number="2" name="Aberconwy" />
    <Constituency number="3" name="Barking &amp; Dagenham" />
  </ConstituenciesIncluded>
</FirstPastThePostStateOfParties>"#;

    #[test]
    fn reads_a_state_of_parties_where_missing_means_zero() {
        let PaMessage::StateOfParties(s) = parse("s.xml", SOP, &demo::parties()).unwrap() else {
            panic!("expected a state of parties");
        };
        assert_eq!((s.number_of_results, s.total_constituencies), (3, 650));
        let lab = &s.parties[0];
        assert_eq!(lab.party, Some(PartyId::new("lab")));
        assert_eq!((lab.seats, lab.gains, lab.losses), (2, 1, 0));
        assert_eq!(lab.share_change, Some(7.99));
        let con = &s.parties[1];
        assert_eq!(con.party, Some(PartyId::new("con")));
        assert_eq!((con.seats, con.gains, con.losses), (1, 0, 1));
        assert_eq!(con.share_change, Some(-3.87));
        let apni = &s.parties[2];
        assert_eq!(
            apni.party, None,
            "PA's Apni is not the Alliance Party (APNI)"
        );
        assert_eq!((apni.seats, apni.gains, apni.losses), (0, 0, 0));
        assert_eq!(apni.share_change, None);
        assert_eq!(s.parties[3].party, None);
        assert_eq!(s.parties[3].total_votes, Some(5));
        assert_eq!(
            s.constituencies,
            [
                (1, "Aberavon".to_string()),
                (2, "Aberconwy".to_string()),
                (3, "Barking & Dagenham".to_string())
            ]
        );

        let bad = SOP.replace("percentageChange=\"-3.87\"", "percentageChange=\"-3,87\"");
        let e = parse("s.xml", &bad, &demo::parties()).unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(5), Some("percentageChange"))
        );
        let bad = SOP.replace("totalSeats=\"2\"", "totalSeats=\"-2\"");
        let e = parse("s.xml", &bad, &demo::parties()).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(4), Some("totalSeats")));
    }

    #[test]
    fn parses_signed_numbers() {
        assert_eq!(parse_decimal("+11.85"), Some(11.85));
        assert_eq!(parse_decimal("-9.33"), Some(-9.33));
        assert_eq!(parse_decimal("0.00"), Some(0.0));
        assert_eq!(parse_decimal(" 7 "), Some(7.0));
        for bad in [
            "", "+", "-.", "1e3", "inf", "NaN", "1.2.3", "--1", "+-1", "1,5",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
        assert_eq!(parse_count("72594"), Some(72594));
        assert_eq!(parse_count("+5"), Some(5));
        for bad in ["", "-5", "+", "1.0", "99999999999999999999999", "١٢"] {
            assert_eq!(parse_count(bad), None, "{bad}");
        }
    }

    #[test]
    fn reads_the_revision_from_file_names() {
        let cases = [
            ("Mayoral_Elections_Test_rush_Croydon_1.xml", Some(1)),
            ("Scottish_Parliament_Test_SOP_73.xml", Some(73)),
            ("Test_General_Election_Sop_650.xml", Some(650)),
            ("Local_Test_SOP_England_98.xml", Some(98)),
            (
                "results/Test_Snap_General_Election_RESULT_Barking___Dagenham_12.XML",
                Some(12),
            ),
            ("Test_General_Election_recount_Foyle_2.xml", Some(2)),
            ("Mayoral_Elections_Test_rush_Croydon_1.json", None),
            ("Mayoral_Elections_Test_rush_Croydon_.xml", None),
            ("Mayoral_Elections_Test_rush_Croydon_x1.xml", None),
            ("Croydon_1.xml", None),
            (".xml", None),
            ("", None),
            ("é.xml", None),
        ];
        for (name, want) in cases {
            assert_eq!(revision_from_file_name(name), want, "{name}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(text in "\\PC{0,400}") {
            let _ = parse("p.xml", &text, &demo::parties());
        }

        #[test]
        fn never_panics_on_mangled_messages(cut in 0usize..2000, junk in "[<>/=\"'&;a-zA-Z0-9 \\-+.*!?\\[\\]\n]{0,12}") {
            for base in [RESULT, SOP] {
                let mut text = base.to_string();
                let at = cut % (text.len() + 1);
                if text.is_char_boundary(at) {
                    text.insert_str(at, &junk);
                }
                let _ = parse("p.xml", &text, &demo::parties());
            }
        }

        #[test]
        fn never_panics_on_tag_soup(text in "(<[A-Za-z]{1,3}( [a-z]{1,2}=\"[^\"<]{0,4}\")*/?>|</[A-Za-z]{1,3}>|[a-z &;]{0,3}){0,40}") {
            let _ = parse("p.xml", &text, &demo::parties());
        }
    }
}
