//! The PA XML reader on PA's own sample files (`feeds/pa/` in the shared data folder):
//! rushes, results and states of parties parse to what the files say, and no truncation of
//! any of them panics.

use crate::support;

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use herald::core::arithmetic::{self, Outcome};
use herald::core::model::{DeclarationStatus, Nation, PartyId};
use herald::core::parties::PartyRegistry;
use herald::demo;
use herald::sources::formats::pa_xml::{self, PaMessage, PaSeat, StateOfParties};

const CROYDON_RUSH: &str = "pa-test-2026/Mayoral_Elections_Test_rush_Croydon_1.xml";
const BATHGATE_RUSH: &str = "pa-test-2026/Scottish_Parliament_Test_rush_Bathgate_1.xml";
const COWDENBEATH_RUSH: &str = "pa-test-2026/Scottish_Parliament_Test_rush_Cowdenbeath_1.xml";
const CROYDON_RESULT: &str = "pa-test-2026/Mayoral_Elections_Test_result_Croydon_1.xml";
const BATHGATE_RESULT: &str = "pa-test-2026/Scottish_Parliament_Test_result_Bathgate_1.xml";
const COWDENBEATH_RESULT: &str = "pa-test-2026/Scottish_Parliament_Test_result_Cowdenbeath_1.xml";
const SOP_7: &str = "pa-test-2026/Scottish_Parliament_Test_SOP_7.xml";
const SOP_73: &str = "pa-test-2026/Scottish_Parliament_Test_SOP_73.xml";
const SOP_650: &str = "ft-ge15-test-2015/Test_General_Election_SOP_650.xml";

const RUSHES: [&str; 3] = [CROYDON_RUSH, BATHGATE_RUSH, COWDENBEATH_RUSH];
const RESULTS: [&str; 3] = [CROYDON_RESULT, BATHGATE_RESULT, COWDENBEATH_RESULT];
const SOPS: [&str; 3] = [SOP_7, SOP_73, SOP_650];

/// The PA sample folder, or `None` (with the skip notice) where the shared data is absent.
fn pa_dir() -> Option<PathBuf> {
    support::shared_data().map(|d| d.join("feeds/pa"))
}

/// A sample file's path (as the error name) and text.
fn read(name: &str) -> Option<(String, String)> {
    let path = pa_dir()?.join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some((path.display().to_string(), text))
}

fn load(name: &str, parties: &PartyRegistry) -> Option<(PaMessage, String)> {
    let (file, text) = read(name)?;
    let message = pa_xml::parse(&file, &text, parties).unwrap_or_else(|e| panic!("{e}"));
    Some((message, text))
}

fn rush(name: &str, parties: &PartyRegistry) -> Option<(PaSeat, String)> {
    match load(name, parties)? {
        (PaMessage::Rush(s), text) => Some((s, text)),
        (other, _) => panic!("{name}: expected a rush, got {other:?}"),
    }
}

fn result(name: &str, parties: &PartyRegistry) -> Option<(PaSeat, String)> {
    match load(name, parties)? {
        (PaMessage::Result(s), text) => Some((s, text)),
        (other, _) => panic!("{name}: expected a result, got {other:?}"),
    }
}

fn sop(name: &str, parties: &PartyRegistry) -> Option<(StateOfParties, String)> {
    match load(name, parties)? {
        (PaMessage::StateOfParties(s), text) => Some((s, text)),
        (other, _) => panic!("{name}: expected a state of parties, got {other:?}"),
    }
}

/// Every value of attribute `name` in the text, in order, read without an XML parser.
fn attribute_values<'t>(text: &'t str, name: &str) -> Vec<&'t str> {
    let key = format!(" {name}=\"");
    text.match_indices(&key)
        .filter_map(|(at, _)| {
            let start = at + key.len();
            let len = text[start..].find('"')?;
            Some(&text[start..start + len])
        })
        .collect()
}

/// The first value of attribute `name` (the current seat's, in a result file).
fn first_attribute<'t>(text: &'t str, name: &str) -> &'t str {
    attribute_values(text, name)
        .first()
        .copied()
        .unwrap_or_else(|| panic!("no `{name}` attribute"))
}

fn winner(seat: &PaSeat) -> (&str, &str) {
    let winners: Vec<_> = seat
        .declaration
        .result
        .candidates
        .iter()
        .filter(|c| c.elected)
        .collect();
    assert_eq!(winners.len(), 1, "one winner in {}", seat.number);
    (winners[0].name.as_str(), winners[0].party.as_str())
}

#[test]
fn rushes_call_the_winner_without_figures() {
    let parties = demo::parties();
    for name in RUSHES {
        let Some((seat, text)) = rush(name, &parties) else {
            return;
        };
        let d = &seat.declaration;
        assert_eq!(d.status, DeclarationStatus::Called, "{name}");
        assert_eq!(d.declared_at, None, "{name}");
        assert_eq!(d.result.valid_votes, None, "{name}");
        assert!(d.result.candidates.iter().all(|c| c.votes == 0), "{name}");
        assert_eq!(
            d.revision.to_string(),
            first_attribute(&text, "revision"),
            "{name}"
        );
        assert_eq!(
            d.result.candidates.len(),
            text.matches("<Candidate ").count(),
            "{name}"
        );
        assert_eq!(
            seat.pa_text.as_deref(),
            Some(first_attribute(&text, "paStyleMessageText")),
            "{name}"
        );
    }

    let Some((croydon, _)) = rush(CROYDON_RUSH, &parties) else {
        return;
    };
    assert_eq!(winner(&croydon), ("Daniel Baker Test", "lab"));
    assert_eq!(croydon.number, 1);
    assert_eq!(croydon.declaration.id().as_str(), "pa:m-2026-05-06:1");
    assert_eq!(croydon.election.kind, "M");
    assert_eq!(croydon.election.name, "Mayoral Elections Test");
    assert_eq!(croydon.election.date.to_string(), "2026-05-06");
    let c = &croydon.declaration.result.constituency;
    assert_eq!(
        (c.name.as_str(), c.nation, c.region.as_str()),
        ("Croydon mayor", Nation::England, "England"),
        "a mayor is named as the place's mayor"
    );
    assert_eq!(croydon.declaration.result.electorate, Some(280996));
    assert_eq!(croydon.gain_or_hold.as_deref(), Some("gain"));
    assert_eq!(croydon.sitting_party.as_deref(), Some("C"));
    assert_eq!(
        croydon.pa_text.as_deref(),
        Some("Labour gain from Conservative in Croydon")
    );
    // PA's "C" is the Conservatives; both independents are `ind`, each on their own.
    let cands = &croydon.declaration.result.candidates;
    assert_eq!(cands[0].party, PartyId::new("con"));
    let independents: Vec<_> = cands
        .iter()
        .filter(|c| c.party.is_independent())
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(independents, ["Micky Barker Test", "Olive Rogers Test"]);
    assert!(cands.iter().any(|c| c.party == PartyId::new("reform")));

    let Some((cowdenbeath, _)) = rush(COWDENBEATH_RUSH, &parties) else {
        return;
    };
    assert_eq!(winner(&cowdenbeath), ("Brian Shah Test", "snp"));
    assert_eq!(cowdenbeath.number, 20);
    assert_eq!(cowdenbeath.gain_or_hold.as_deref(), Some("hold"));
    assert_eq!(cowdenbeath.sitting_party.as_deref(), Some("SNP"));
    assert_eq!(
        cowdenbeath.declaration.result.constituency.nation,
        Nation::Scotland
    );
    assert_eq!(
        cowdenbeath.declaration.result.constituency.region,
        "Scotland"
    );

    let Some((bathgate, _)) = rush(BATHGATE_RUSH, &parties) else {
        return;
    };
    assert_eq!(winner(&bathgate), ("Molly Green Test", "lab"));
    assert_eq!(bathgate.sitting_party.as_deref(), Some("SNP"));
    assert!(
        bathgate
            .pa_text
            .as_deref()
            .is_some_and(|t| t.contains("gain from notional"))
    );
}

#[test]
fn results_add_up_to_the_files_own_figures() {
    let parties = demo::parties();
    for (result_name, rush_name) in RESULTS.into_iter().zip(RUSHES) {
        let Some((seat, text)) = result(result_name, &parties) else {
            return;
        };
        let d = &seat.declaration;
        assert_eq!(d.status, DeclarationStatus::Declared, "{result_name}");
        let turnout: u64 = first_attribute(&text, "turnout").parse().unwrap();
        assert_eq!(d.result.total_votes(), turnout, "{result_name}");
        assert_eq!(d.result.valid_votes, Some(turnout), "{result_name}");
        assert_eq!(d.result.rejected, None);
        let electorate: u64 = first_attribute(&text, "electorate").parse().unwrap();
        assert_eq!(d.result.electorate, Some(electorate), "{result_name}");
        assert_eq!(
            d.declared_at.map(|t| t.to_rfc3339()),
            Some(first_attribute(&text, "declarationTime").to_string()),
            "{result_name}"
        );

        let figures = arithmetic::compute(&d.result, None, &parties);
        let majority: u64 = first_attribute(&text, "majority").parse().unwrap();
        assert_eq!(figures.majority, Some(majority), "{result_name}");

        // The result elects whom the rush called.
        let Some((called, _)) = rush(rush_name, &parties) else {
            return;
        };
        assert_eq!(called.number, seat.number, "{result_name}");
        assert_eq!(winner(&called), winner(&seat), "{result_name}");
        assert_eq!(
            called.declaration.result.candidates.len(),
            d.result.candidates.len()
        );
        assert_eq!(
            called.gain_or_hold, seat.gain_or_hold,
            "{result_name}: gain or hold"
        );
        assert_eq!(
            called.sitting_party, seat.sitting_party,
            "{result_name}: sitting party"
        );
    }

    let Some((croydon, _)) = result(CROYDON_RESULT, &parties) else {
        return;
    };
    assert!(croydon.previous.is_none(), "the mayoral file has none");

    // Cowdenbeath: a real previous election, under the seat's old number.
    let Some((cowdenbeath, text)) = result(COWDENBEATH_RESULT, &parties) else {
        return;
    };
    assert_eq!(winner(&cowdenbeath), ("Brian Shah Test", "snp"));
    let previous = cowdenbeath.previous.as_ref().expect("a previous election");
    assert!(!previous.notional);
    assert_eq!(previous.label(), "2021");
    let previous = &previous.result;
    assert_eq!(previous.candidates.len(), 5);
    assert_eq!(previous.constituency.id.as_str(), "pa:s-2021-05-06:19");
    assert_eq!(previous.constituency.name, "Cowdenbeath");
    assert_eq!(previous.candidates[0].name, "Annabelle Ewing");
    assert_eq!(previous.candidates[0].party, PartyId::new("snp"));
    assert_eq!(previous.candidates[0].votes, 16499);
    assert_eq!(
        Some(previous.total_votes()),
        previous.valid_votes,
        "previous votes add up to its turnout"
    );
    let figures = arithmetic::compute(&cowdenbeath.declaration.result, Some(previous), &parties);
    assert_eq!(figures.outcome, Outcome::Hold);
    assert_swing(&figures, &text);

    // Bathgate: a notional previous election, one candidate per party.
    let Some((bathgate, text)) = result(BATHGATE_RESULT, &parties) else {
        return;
    };
    let previous = bathgate
        .previous
        .as_ref()
        .expect("a notional previous election");
    assert!(previous.notional);
    let previous = &previous.result;
    assert_eq!(previous.constituency.id.as_str(), "pa:s-2021-05-06:13");
    let notional = &text[text.find("<PreviousNotionalElection").unwrap()..];
    let party_names = attribute_values(notional, "name");
    // The block's own name and its constituency's come first, then one per party.
    assert_eq!(party_names.len(), previous.candidates.len() + 2);
    for (c, party_name) in previous.candidates.iter().zip(&party_names[2..]) {
        assert_eq!(c.name, *party_name);
        assert!(!c.elected);
    }
    assert_eq!(previous.candidates[0].party, PartyId::new("snp"));
    assert!(previous.candidates.iter().any(|c| c.name == "Others"));
    assert_eq!(Some(previous.total_votes()), previous.valid_votes);
    let figures = arithmetic::compute(&bathgate.declaration.result, Some(previous), &parties);
    assert_eq!(
        figures.outcome,
        Outcome::Gain {
            from: PartyId::new("snp")
        }
    );
    assert_swing(&figures, &text);
}

/// The swing herald computes against `previous` is the one the file states.
fn assert_swing(figures: &arithmetic::Figures, text: &str) {
    let stated: f64 = first_attribute(text, "swing").parse().unwrap();
    let to = first_attribute(text, "swingTo");
    let from = first_attribute(text, "swingFrom");
    let parties = demo::parties();
    let (to, from) = (parties.resolve(to).unwrap(), parties.resolve(from).unwrap());
    let quote = figures.swing.quote().expect("a swing is quoted");
    let points = if (&quote.from, &quote.to) == (&from, &to) {
        quote.points
    } else {
        assert_eq!((&quote.from, &quote.to), (&to, &from));
        -quote.points
    };
    assert!(
        (points - stated).abs() < 0.01,
        "swing {points} vs the file's {stated}"
    );
}

#[test]
fn states_of_parties_add_up() {
    let parties = demo::parties();
    for name in SOPS {
        let Some((s, text)) = sop(name, &parties) else {
            return;
        };
        let results: u32 = first_attribute(&text, "numberOfResults").parse().unwrap();
        assert_eq!(s.number_of_results, results, "{name}");
        // Seats as the file lists them, read without the parser: absent means zero.
        let seats_in_file: u32 = attribute_values(&text, "totalSeats")
            .iter()
            .map(|v| v.parse::<u32>().unwrap())
            .sum();
        let seats: u32 = s.parties.iter().map(|p| p.seats).sum();
        assert_eq!(seats, seats_in_file, "{name}");
        assert_eq!(seats, s.number_of_results, "{name}: seats won = results in");
        assert_eq!(s.constituencies.len() as u32, s.number_of_results, "{name}");
        assert_eq!(s.parties.len(), text.matches("<Party ").count(), "{name}");
        let total: u64 = first_attribute(&text, "totalVotes").parse().unwrap();
        let summed: u64 = s.parties.iter().filter_map(|p| p.total_votes).sum();
        assert_eq!(summed, total, "{name}: party votes add up to the total");
        let gains: u32 = s.parties.iter().map(|p| p.gains).sum();
        let losses: u32 = s.parties.iter().map(|p| p.losses).sum();
        assert_eq!(gains, losses, "{name}: every gain is someone's loss");
        let numbers: BTreeSet<u32> = s.constituencies.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers.len(), s.constituencies.len(), "{name}");
        // No two rows fall to the same registry party.
        let known: Vec<&PartyId> = s.parties.iter().filter_map(|p| p.party.as_ref()).collect();
        let distinct: BTreeSet<&PartyId> = known.iter().copied().collect();
        assert_eq!(known.len(), distinct.len(), "{name}: {known:?}");
    }

    let Some((scotland, _)) = sop(SOP_7, &parties) else {
        return;
    };
    assert_eq!(
        (scotland.number_of_results, scotland.total_constituencies),
        (7, 73)
    );
    assert_eq!(scotland.election.kind, "S");
    assert_eq!(scotland.election.nation(), Nation::Scotland);
    let lab = &scotland.parties[2];
    assert_eq!(lab.party, Some(PartyId::new("lab")));
    assert_eq!((lab.seats, lab.gains, lab.losses), (0, 0, 0));
    assert_eq!(lab.share_change, Some(1.43));
    let snp = &scotland.parties[1];
    assert_eq!((snp.seats, snp.gains, snp.losses), (3, 0, 3));
    assert_eq!(snp.share_change, Some(-12.74));
    let others = scotland.parties.last().unwrap();
    assert_eq!(
        (others.abbreviation.as_str(), &others.party),
        ("Others", &None)
    );
    assert!(
        scotland
            .constituencies
            .contains(&(2, "Aberdeen Deeside & North Kincardine".to_string()))
    );

    let Some((ge, _)) = sop(SOP_650, &parties) else {
        return;
    };
    assert_eq!(ge.election.kind, "G");
    assert_eq!(ge.election.name, "Test General Election");
    assert_eq!(ge.election.date.to_string(), "2015-05-06");
    assert_eq!((ge.number_of_results, ge.total_constituencies), (650, 650));
    assert_eq!(ge.constituencies.len(), 650);
    let numbers: Vec<u32> = ge.constituencies.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, (1..=650).collect::<Vec<_>>());
    assert_eq!(ge.parties.len(), 134);
    let row = |abbreviation: &str| {
        ge.parties
            .iter()
            .find(|p| p.abbreviation == abbreviation)
            .unwrap_or_else(|| panic!("no {abbreviation}"))
    };
    assert_eq!(row("C").party, Some(PartyId::new("con")));
    assert_eq!(row("C").seats, 291);
    assert_eq!(row("Lab").seats, 285);
    assert_eq!(row("Ind").party, Some(PartyId::new("ind")));
    assert_eq!(row("Alliance").party, Some(PartyId::new("alliance")));
    assert_eq!(row("Apni").party, None, "the Apni Party is not Alliance");
    assert_eq!(row("Meb Ker").party, Some(PartyId::new("mk")));
    assert_eq!(row("PBP").party, Some(PartyId::new("pbpa")));
    assert_eq!(row("TUSC").party, None, "not in the registry");
    assert_eq!(row("TUSC").seats, 0);
}

#[test]
fn revisions_come_from_the_file_names() {
    let parties = demo::parties();
    for name in RUSHES.into_iter().chain(RESULTS) {
        let file = name.rsplit('/').next().unwrap();
        assert_eq!(pa_xml::revision_from_file_name(file), Some(1), "{file}");
        let Some((m, _)) = load(name, &parties) else {
            return;
        };
        assert_eq!(m.seat().unwrap().declaration.revision, 1);
    }
    for (name, n) in SOPS.into_iter().zip([7, 73, 650]) {
        let file = name.rsplit('/').next().unwrap();
        assert_eq!(pa_xml::revision_from_file_name(file), Some(n), "{file}");
        assert_eq!(pa_xml::revision_from_file_name(name), Some(n), "{name}");
        let Some((s, _)) = sop(name, &parties) else {
            return;
        };
        assert_eq!(s.number_of_results, n, "the SOP number counts results");
    }
}

#[test]
fn errors_in_crlf_files_name_the_right_line() {
    let parties = demo::parties();
    let Some((file, text)) = read(COWDENBEATH_RESULT) else {
        return;
    };
    assert!(text.contains("\r\n"), "the 2026 samples are CRLF files");
    let bad = text.replace("votes=\"8727\"", "votes=\"8,727\"");
    let at = bad.find("votes=\"8,727\"").unwrap();
    let line = bad[..at].matches('\n').count() as u64 + 1;
    let e = pa_xml::parse(&file, &bad, &parties).unwrap_err();
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(line), Some("votes")),
        "{e}"
    );
    assert_eq!(e.file, file);
}

#[test]
fn no_truncation_of_a_sample_panics() {
    let parties = demo::parties();
    for name in RUSHES.into_iter().chain(RESULTS).chain(SOPS) {
        let Some((file, text)) = read(name) else {
            return;
        };
        let root = text
            .match_indices('<')
            .find_map(|(at, _)| {
                let name = &text[at + 1..];
                let len = name.find(|c: char| !c.is_ascii_alphanumeric())?;
                (len > 0).then(|| &name[..len])
            })
            .unwrap();
        let root_end = format!("</{root}>");
        // Every cut of the small files; about 2,000 cuts of the large one.
        let step = (text.len() / 2000).max(1);
        let cuts = (0..text.len()).step_by(step).chain([text.len()]);
        for cut in cuts.filter(|&c| text.is_char_boundary(c)) {
            let part = &text[..cut];
            let outcome = catch_unwind(AssertUnwindSafe(|| pa_xml::parse(&file, part, &parties)))
                .unwrap_or_else(|_| panic!("{name}: panicked when cut at byte {cut}"));
            if !part.contains(&root_end) {
                let e = outcome.expect_err(&format!("{name}: cut at {cut} parsed"));
                assert!(e.line.is_some(), "{name}: cut at {cut}: {e}");
            }
        }
    }
}
