//! The loaders on good and bad input: every error names file, line and field; nothing panics.

use crate::support;

use herald::core::model::PartyId;
use herald::demo;
use herald::sources::formats::{hoc_csv, parliament_csv};

const EXPORT_HEADER: &str = "Constituency geographic code,Constituency name,Country name,English region name,Electorate,Election polling date,Election is by-election,Declaration time,Election valid vote count,Election invalid vote count,Election result summary,Candidate family name,Candidate given name,Main party name,Main party abbreviation,Candidate is standing as Commons Speaker,Candidate is standing as independent,Candidate vote count,Candidate result position";

fn export(rows: &[&str]) -> String {
    let mut s = String::from(EXPORT_HEADER);
    for r in rows {
        s.push('\n');
        s.push_str(r);
    }
    s.push('\n');
    s
}

const ROW_A: &str = "E1,Anytown,England,North East,1000,2019-12-12,false,2019-12-13 02:30:00 UTC,500,5,Lab hold,O&#39;Hara,Mary,Labour,Lab,false,false,300,1";
const ROW_B: &str = "E1,Anytown,England,North East,1000,2019-12-12,false,2019-12-13 02:30:00 UTC,500,5,Lab hold,Smith,John,Conservative,Con,false,false,150,2";
const ROW_C: &str = "E1,Anytown,England,North East,1000,2019-12-12,false,2019-12-13 02:30:00 UTC,500,5,Lab hold,Jones,Ann,,,false,true,50,3";

#[test]
fn export_reads_names_parties_and_times() {
    let parties = demo::parties();
    let l = parliament_csv::load("t.csv", &export(&[ROW_A, ROW_B, ROW_C]), &parties).unwrap();
    assert_eq!(l.election.total_seats, 1);
    assert_eq!(l.election.date.to_string(), "2019-12-12");
    let d = &l.declarations[0];
    assert_eq!(
        d.result.candidates[0].name, "Mary O'Hara",
        "HTML entities are decoded"
    );
    assert!(d.result.candidates[0].elected);
    assert_eq!(d.result.candidates[1].party, PartyId::new("con"));
    assert_eq!(d.result.candidates[2].party, PartyId::new("ind"));
    assert_eq!(d.result.rejected, Some(5));
    assert_eq!(
        d.declared_at.unwrap().to_rfc3339(),
        "2019-12-13T02:30:00+00:00"
    );
}

#[test]
fn export_errors_name_file_line_and_field() {
    let parties = demo::parties();
    let cases: Vec<(String, &str)> = vec![
        (
            export(&[ROW_A, &ROW_B.replace(",150,", ",1x0,")]),
            "t.csv:3: field `Candidate vote count`: expected a whole number ≥ 0, found `1x0`",
        ),
        (
            export(&[ROW_A, &ROW_B.replace(",150,", ",-150,")]),
            "t.csv:3: field `Candidate vote count`",
        ),
        (
            export(&[ROW_A, &ROW_B.replace(",1000,", ",1001,")]),
            "t.csv:3: field `Electorate`: Some(1001) differs from Some(1000)",
        ),
        (
            export(&[ROW_A, &ROW_B.replace("England", "Atlantis")]),
            "t.csv:3: field `Country name`: unknown nation `Atlantis`",
        ),
        (
            export(&[ROW_A, &ROW_B.replace("02:30:00 UTC", "2.30am")]),
            "t.csv:3: field `Declaration time`",
        ),
        (
            export(&[ROW_A, "E1,Anytown,England"]),
            "t.csv:3: row has 3 fields, the header has 19",
        ),
        (
            export(&[ROW_A, &ROW_B.replace(",150,2", ",450,2")]),
            "Anytown (E1): candidate votes add up to 750 but valid votes are given as 500",
        ),
        (
            export(&[ROW_A, &ROW_B.replace(",Conservative,Con,", ",,,")]),
            "t.csv:3: field `Main party name`: no party",
        ),
        (
            EXPORT_HEADER.replace("Candidate vote count", "Votes"),
            "t.csv:1: field `Candidate vote count`: missing column",
        ),
        (export(&[]), "t.csv: no results in the file"),
    ];
    for (text, expected) in cases {
        let e = parliament_csv::load("t.csv", &text, &parties).expect_err(expected);
        assert!(
            e.to_string().starts_with(expected) || e.to_string().contains(expected),
            "got `{e}`, expected `{expected}`"
        );
    }
}

#[test]
fn export_refuses_votes_above_the_electorate() {
    let parties = demo::parties();
    let text = export(&[
        &ROW_A.replace(",1000,", ",400,"),
        &ROW_B.replace(",1000,", ",400,"),
        &ROW_C.replace(",1000,", ",400,"),
    ]);
    let e = parliament_csv::load("t.csv", &text, &parties).unwrap_err();
    assert_eq!(e.line, Some(2));
    assert!(
        e.problem
            .contains("505 votes cast but the electorate is 400"),
        "{e}"
    );
}

const HOC_CANDIDATES: &str = "ONS ID,Constituency name,Region name,Country name,Party name,Party abbreviation,Candidate first name,Candidate surname,Votes\n\
E1,Anytown,North East,England,Labour,Lab,Mary,O'Hara,300\n\
E1,Anytown,North East,England,Conservative,Con,John,Smith,150\n";
const HOC_SEATS: &str = "ONS ID,Constituency name,Region name,Country name,Declaration time,Member first name,Member surname,Result,First party,Electorate,Valid votes,Invalid votes,Majority\n\
E1,Anytown,North East,England,13/12/2019 02:30,Mary,O'Hara,Lab hold,Lab,1000,450,5,150\n";

#[test]
fn hoc_pair_joins_on_the_ons_id_and_reads_uk_local_time() {
    let parties = demo::parties();
    let l = hoc_csv::load(
        ("c.csv", HOC_CANDIDATES),
        Some(("s.csv", HOC_SEATS)),
        &parties,
    )
    .unwrap();
    let d = &l.declarations[0];
    assert!(d.result.candidates[0].elected);
    assert_eq!(d.result.electorate, Some(1000));
    assert_eq!(
        d.declared_at.unwrap().to_rfc3339(),
        "2019-12-13T02:30:00+00:00"
    );
    // Summer time: 02:30 BST is 01:30 UTC.
    let summer = HOC_SEATS.replace("13/12/2019", "09/06/2017");
    let l = hoc_csv::load(
        ("c.csv", HOC_CANDIDATES),
        Some(("s.csv", &summer)),
        &parties,
    )
    .unwrap();
    assert_eq!(
        l.declarations[0].declared_at.unwrap().to_rfc3339(),
        "2017-06-09T01:30:00+00:00"
    );
    // Without the constituency file, the candidate file is still a usable baseline.
    let l = hoc_csv::load(("c.csv", HOC_CANDIDATES), None, &parties).unwrap();
    assert_eq!(l.declarations[0].result.electorate, None);
}

#[test]
fn hoc_pair_errors_name_the_file_and_line() {
    let parties = demo::parties();
    let other = HOC_SEATS.replace("E1,", "E2,");
    let e =
        hoc_csv::load(("c.csv", HOC_CANDIDATES), Some(("s.csv", &other)), &parties).unwrap_err();
    assert_eq!(e.to_string(), "c.csv:2: constituency `E1` is not in s.csv");
    let extra = format!(
        "{HOC_SEATS}E2,Other,North East,England,13/12/2019 03:00,A,B,Lab hold,Lab,1000,450,5,150\n"
    );
    let e =
        hoc_csv::load(("c.csv", HOC_CANDIDATES), Some(("s.csv", &extra)), &parties).unwrap_err();
    assert_eq!(
        e.to_string(),
        "s.csv:3: constituency `E2` has no candidates in c.csv"
    );
    let bad_time = HOC_SEATS.replace("13/12/2019 02:30", "yesterday");
    let e = hoc_csv::load(
        ("c.csv", HOC_CANDIDATES),
        Some(("s.csv", &bad_time)),
        &parties,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("s.csv:2: field `Declaration time`"),
        "{e}"
    );
    let wrong_party = HOC_SEATS
        .replace(",Lab,1000", ",SNP,1000")
        .replace("Mary,O'Hara", ",");
    let e = hoc_csv::load(
        ("c.csv", HOC_CANDIDATES),
        Some(("s.csv", &wrong_party)),
        &parties,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("first party `SNP` matches no candidate"),
        "{e}"
    );
}

#[test]
fn loaders_never_panic_on_truncations_of_real_files() {
    let Some(dir) = support::shared_data() else {
        return;
    };
    let parties = demo::parties();
    let export = std::fs::read_to_string(
        dir.join("candidate-level-results-general-election-12-12-2019.csv"),
    )
    .unwrap();
    let seats =
        std::fs::read_to_string(dir.join("HoC-GE2019-results-by-constituency.csv")).unwrap();
    let cands = std::fs::read_to_string(dir.join("HoC-GE2019-results-by-candidate.csv")).unwrap();
    // Cut each file at many points (on char boundaries): each cut either loads or errors.
    for cut in (0..export.len()).step_by(export.len() / 97) {
        let cut = (cut..export.len())
            .find(|i| export.is_char_boundary(*i))
            .unwrap_or(export.len());
        let _ = parliament_csv::load("t.csv", &export[..cut], &parties);
    }
    for cut in (0..seats.len()).step_by(seats.len() / 53) {
        let cut = (cut..seats.len())
            .find(|i| seats.is_char_boundary(*i))
            .unwrap_or(seats.len());
        let r = hoc_csv::load(("c.csv", &cands), Some(("s.csv", &seats[..cut])), &parties);
        assert!(
            r.is_err() || cut == seats.len(),
            "a truncated constituency file cannot cover every seat"
        );
    }
}

/// A party is known by its name before its abbreviation, which collide across parties: PA's
/// `SLP` is the Scottish Libertarian Party, the registry's the Socialist Labour Party.
#[test]
fn parties_are_matched_by_name_before_abbreviation() {
    use herald::sources::formats::party_for;
    let parties = herald::demo::parties();
    let socialist_labour = party_for(&parties, "SLP", "Socialist Labour Party");
    assert_eq!(parties.name(&socialist_labour), "Socialist Labour Party");
    let libertarian = party_for(&parties, "SLP", "Scottish Libertarian Party");
    assert_ne!(libertarian, socialist_labour, "not Socialist Labour");
    assert_eq!(parties.name(&libertarian), "Scottish Libertarian Party");
    // A name the registry spells differently still finds its party through the abbreviation
    // when the two agree; the abbreviation alone serves when there is no name.
    assert_eq!(party_for(&parties, "Lab", "Labour").as_str(), "lab");
    assert_eq!(party_for(&parties, "Lab", "").as_str(), "lab");
    // The House of Commons Library's 2024 files abbreviate Reform UK as RUK.
    assert_eq!(party_for(&parties, "RUK", "").as_str(), "reform");
}

/// The Library's by-election pair: every by-election of a Parliament, keyed by `ONS ID2`
/// and dated. Hartlepool (6 May 2021) with some of its candidates, and a second seat.
const BY_CANDIDATES: &str = "\
Election date,ONS ID2,ONS region ID,Constituency name,County name,Region name,Country name,Constituency type,Party name,Party abbreviation,Candidate first name,Candidate surname,Votes
06/05/2021,E14000733,E12000001,Hartlepool,,North East,England,Borough,Conservative,Con,Jill,Mortimer,15529
06/05/2021,E14000733,E12000001,Hartlepool,,North East,England,Borough,Labour,Lab,Paul,Williams,8589
06/05/2021,E14000733,E12000001,Hartlepool,,North East,England,Borough,Independent,Ind,Sam,Lee,2904
06/05/2021,E14000733,E12000001,Hartlepool,,North East,England,Borough,Reform UK,RUK,John,Prescott,368
17/06/2021,E14000631,E12000008,Chesham and Amersham,,South East,England,County,Liberal Democrat,LD,Sarah,Green,21517
17/06/2021,E14000631,E12000008,Chesham and Amersham,,South East,England,County,Conservative,Con,Peter,Fleet,13489
";
const BY_SEATS: &str = "\
By-election date,ONS ID2,ONS region ID,Constituency name,County name,Region name,Country name,Constituency type,Member first name,Member surname,Member gender,Result,First party,Second party,Electorate,Valid votes,Invalid votes,Majority
06/05/2021,E14000733,E12000001,Hartlepool,,North East,England,Borough,Jill,Mortimer,F,Con gain from Lab,Con,Lab,70855,27390,123,6940
17/06/2021,E14000631,E12000008,Chesham and Amersham,,South East,England,County,Sarah,Green,F,LD gain from Con,LD,Con,72828,35006,57,8028
";

#[test]
fn hoc_by_election_pair_is_read_and_compared_with_the_general_election() {
    let parties = demo::parties();
    let l = hoc_csv::load(
        ("b.csv", BY_CANDIDATES),
        Some(("s.csv", BY_SEATS)),
        &parties,
    )
    .unwrap();
    assert_eq!(l.election.name, "By-elections 6 May 2021 to 17 June 2021");
    assert_eq!(l.election.total_seats, 2);
    let ids: Vec<&str> = l.declarations.iter().map(|d| d.id().as_str()).collect();
    assert_eq!(
        ids,
        ["E14000733", "E14000631"],
        "each by-election a contest of its own"
    );
    let hartlepool = &l.declarations[0];
    assert_eq!(hartlepool.result.electorate, Some(70855));
    assert_eq!(hartlepool.result.rejected, Some(123));
    assert!(hartlepool.result.candidates[0].elected);
    assert_eq!(
        hartlepool.result.candidates[3].party,
        PartyId::new("reform")
    );

    // Against the 2019 general election in the same seats (the Library's GE2019 pair).
    let Some(dir) = support::shared_data() else {
        return;
    };
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let ge = hoc_csv::load(
        ("c", &read("HoC-GE2019-results-by-candidate.csv")),
        Some(("s", &read("HoC-GE2019-results-by-constituency.csv"))),
        &parties,
    )
    .unwrap()
    .into_baseline();
    let before = ge.get(hartlepool.id()).expect("Hartlepool in GE2019");
    let f = herald::core::compute(&hartlepool.result, Some(before), &parties);
    assert_eq!(
        f.outcome,
        herald::core::arithmetic::Outcome::Gain {
            from: PartyId::new("lab")
        }
    );
    // By hand from the votes: V = 15529 + 8589 + 2904 + 368 = 27390 now; in 2019 Lab 15464
    // and Con 11869 of 41037. Con 56.70 − 28.92 = +27.77; Lab 31.36 − 37.68 = −6.33;
    // swing Lab to Con (27.77 + 6.33) / 2 = 17.05.
    assert_eq!(f.majority, Some(6940));
    let q = f.swing.quote().expect("a swing");
    assert_eq!((q.from.as_str(), q.to.as_str()), ("lab", "con"));
    let expected =
        ((15529.0 / 27390.0 - 11869.0 / 41037.0) - (8589.0 / 27390.0 - 15464.0 / 41037.0)) * 100.0
            / 2.0;
    assert!(
        (q.points - expected).abs() < 1e-9 && (q.points - 17.05).abs() < 0.01,
        "{}",
        q.points
    );

    // A seat missing from the constituency file is named with its date.
    let e = hoc_csv::load(
        ("b.csv", BY_CANDIDATES),
        Some(("s.csv", &BY_SEATS.replace("17/06/2021", "18/06/2021"))),
        &parties,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("(by-election of 2021-06-17) is not in s.csv"),
        "{e}"
    );
    let e = hoc_csv::load(
        ("b.csv", &BY_CANDIDATES.replace("17/06/2021", "17 June")),
        None,
        &parties,
    )
    .unwrap_err();
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(6), Some("Election date")),
        "{e}"
    );
}
