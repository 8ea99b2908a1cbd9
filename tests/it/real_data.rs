//! GE2019 against the GE2017 baseline, all 650 constituencies, through both published
//! formats (the UK Parliament export and the House of Commons Library pair), checked
//! against the figures those files publish themselves.

use crate::support;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use herald::core::arithmetic::{Figures, Outcome, compute};
use herald::core::model::{Baseline, PartyId};
use herald::core::national::tally;
use herald::core::parties::PartyRegistry;
use herald::demo;
use herald::sources::{Format, Loaded, load_files};

fn parliament(dir: &Path, parties: &PartyRegistry) -> (Loaded, Baseline) {
    let now = load_files(
        Format::ParliamentCsv,
        &dir.join("candidate-level-results-general-election-12-12-2019.csv"),
        None,
        None,
        parties,
    )
    .expect("2019 export loads");
    let before = load_files(
        Format::ParliamentCsv,
        &dir.join("candidate-level-results-general-election-08-06-2017.csv"),
        None,
        None,
        parties,
    )
    .expect("2017 export loads");
    (now, before.into_baseline())
}

fn hoc(dir: &Path, parties: &PartyRegistry) -> (Loaded, Baseline) {
    let now = load_files(
        Format::HocCsv,
        &dir.join("HoC-GE2019-results-by-candidate.csv"),
        Some(&dir.join("HoC-GE2019-results-by-constituency.csv")),
        None,
        parties,
    )
    .expect("HoC 2019 pair loads");
    let before = load_files(
        Format::HocCsv,
        &dir.join("HoC-GE2017-results-by-candidate.csv"),
        Some(&dir.join("GE2017-constituency.csv")),
        None,
        parties,
    )
    .expect("HoC 2017 pair loads");
    (now, before.into_baseline())
}

fn figures(
    loaded: &Loaded,
    baseline: &Baseline,
    parties: &PartyRegistry,
) -> BTreeMap<String, Figures> {
    loaded
        .declarations
        .iter()
        .map(|d| {
            (
                d.id().to_string(),
                compute(&d.result, baseline.get(d.id()), parties),
            )
        })
        .collect()
}

/// Checks a published result summary ("Lab hold", "Con gain from Lab") against ours.
fn check_result(
    id: &str,
    summary: &str,
    f: &Figures,
    parties: &PartyRegistry,
) -> Result<(), String> {
    let resolve = |label: &str| {
        parties
            .resolve(label)
            .ok_or_else(|| format!("{id}: unknown party {label}"))
    };
    let winner = f
        .winning_party()
        .ok_or_else(|| format!("{id}: no winner"))?;
    if let Some(w) = summary.strip_suffix(" hold") {
        if resolve(w)? != *winner || f.outcome != Outcome::Hold {
            return Err(format!(
                "{id}: published `{summary}`, computed {winner} {:?}",
                f.outcome
            ));
        }
    } else if let Some((w, from)) = summary.split_once(" gain from ") {
        let expected = Outcome::Gain {
            from: resolve(from)?,
        };
        if resolve(w)? != *winner || f.outcome != expected {
            return Err(format!(
                "{id}: published `{summary}`, computed {winner} {:?}",
                f.outcome
            ));
        }
    } else {
        return Err(format!("{id}: unreadable result `{summary}`"));
    }
    Ok(())
}

fn check_seat_totals(figs: &BTreeMap<String, Figures>, parties: &PartyRegistry) {
    let t = tally(figs.values(), 650, parties);
    let seats: BTreeMap<&str, u32> = t
        .parties
        .iter()
        .filter(|p| p.seats > 0)
        .map(|p| (p.party.as_str(), p.seats))
        .collect();
    let expected: BTreeMap<&str, u32> = [
        ("con", 365),
        ("lab", 202),
        ("snp", 48),
        ("ld", 11),
        ("dup", 8),
        ("sf", 7),
        ("pc", 4),
        ("sdlp", 2),
        ("green", 1),
        ("alliance", 1),
        ("spk", 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(seats, expected);
    assert_eq!((t.declared, t.to_declare, t.majority_line), (650, 0, 326));
    assert_eq!(t.majority_party, Some(PartyId::new("con")));
    let gains: u32 = figs
        .values()
        .filter(|f| matches!(f.outcome, Outcome::Gain { .. }))
        .count() as u32;
    let holds = figs.values().filter(|f| f.outcome == Outcome::Hold).count();
    assert_eq!(
        (holds, gains),
        (569, 81),
        "the HoC Library counts 569 holds and 81 gains"
    );
}

#[test]
fn parliament_export_agrees_with_its_published_figures() {
    let Some(dir) = support::shared_data() else {
        return;
    };
    let parties = demo::parties();
    let (now, baseline) = parliament(&dir, &parties);
    assert_eq!(now.declarations.len(), 650);
    assert_eq!(baseline.len(), 650);
    assert!(
        now.declarations.iter().all(|d| d.declared_at.is_some()),
        "every seat keeps its declaration time"
    );
    let figs = figures(&now, &baseline, &parties);

    let rows =
        support::csv_rows(&dir.join("candidate-level-results-general-election-12-12-2019.csv"));
    let mut majorities_agreed = 0;
    let mut problems = Vec::new();
    let mut changes_compared = 0;
    for r in &rows {
        let id = &r["Constituency geographic code"];
        let f = &figs[id];
        if r["Candidate result position"] == "1" {
            let published: u64 = r["Majority"].parse().expect("winner row has a majority");
            if f.majority == Some(published) {
                majorities_agreed += 1;
            } else {
                problems.push(format!(
                    "{id}: majority {:?} vs published {published}",
                    f.majority
                ));
            }
            if let Err(e) = check_result(id, &r["Election result summary"], f, &parties) {
                problems.push(e);
            }
        }
        if !r["Candidate vote change"].is_empty() {
            let published: f64 =
                r["Candidate vote change"].parse::<f64>().expect("a number") * 100.0;
            let votes: u64 = r["Candidate vote count"].parse().expect("votes");
            let name = html_escape::decode_html_entities(&format!(
                "{} {}",
                r["Candidate given name"], r["Candidate family name"]
            ))
            .to_string();
            let c = f
                .candidates
                .iter()
                .find(|c| c.name == name && c.votes == votes)
                .expect("candidate present");
            match c.change.points() {
                Some(p) if (p - published).abs() < 1e-4 => changes_compared += 1,
                other => problems.push(format!(
                    "{id} {name}: change {other:?} vs published {published:.4}"
                )),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} disagreements:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(majorities_agreed, 650);
    assert!(
        changes_compared > 1800,
        "compared {changes_compared} changes"
    );
    eprintln!(
        "parliament export: 650/650 majorities, {changes_compared} share changes agree to 1e-4"
    );
    check_seat_totals(&figs, &parties);
}

#[test]
fn hoc_pair_agrees_with_its_published_figures() {
    let Some(dir) = support::shared_data() else {
        return;
    };
    let parties = demo::parties();
    let (now, baseline) = hoc(&dir, &parties);
    assert_eq!(now.declarations.len(), 650);
    assert!(now.declarations.iter().all(|d| d.declared_at.is_some()));
    let figs = figures(&now, &baseline, &parties);

    let mut problems = Vec::new();
    for r in support::csv_rows(&dir.join("HoC-GE2019-results-by-constituency.csv")) {
        let id = &r["ONS ID"];
        let f = &figs[id];
        let published: u64 = r["Majority"].parse().expect("majority");
        if f.majority != Some(published) {
            problems.push(format!(
                "{id}: majority {:?} vs published {published}",
                f.majority
            ));
        }
        if let Err(e) = check_result(id, &r["Result"], f, &parties) {
            problems.push(e);
        }
    }
    let mut changes_compared = 0;
    for r in support::csv_rows(&dir.join("HoC-GE2019-results-by-candidate.csv")) {
        if r["Change"].is_empty() {
            continue;
        }
        let f = &figs[&r["ONS ID"]];
        let published = r["Change"].parse::<f64>().expect("a number") * 100.0;
        let name = format!("{} {}", r["Candidate first name"], r["Candidate surname"]);
        let c = f
            .candidates
            .iter()
            .find(|c| c.name == name)
            .expect("candidate present");
        match c.change.points() {
            Some(p) if (p - published).abs() < 1e-4 => changes_compared += 1,
            other => problems.push(format!(
                "{} {name}: change {other:?} vs published {published:.4}",
                r["ONS ID"]
            )),
        }
    }
    assert!(
        problems.is_empty(),
        "{} disagreements:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        changes_compared > 1800,
        "compared {changes_compared} changes"
    );
    eprintln!("HoC pair: 650/650 majorities, {changes_compared} share changes agree to 1e-4");
    check_seat_totals(&figs, &parties);
}

#[test]
fn both_formats_give_identical_results() {
    let Some(dir) = support::shared_data() else {
        return;
    };
    let parties = demo::parties();
    let (p_now, p_base) = parliament(&dir, &parties);
    let (h_now, h_base) = hoc(&dir, &parties);
    let p = figures(&p_now, &p_base, &parties);
    let h = figures(&h_now, &h_base, &parties);
    assert_eq!(p.len(), h.len());
    let declared_p: HashMap<_, _> = p_now
        .declarations
        .iter()
        .map(|d| (d.id().to_string(), d.declared_at))
        .collect();
    let declared_h: HashMap<_, _> = h_now
        .declarations
        .iter()
        .map(|d| (d.id().to_string(), d.declared_at))
        .collect();
    let mut differences = Vec::new();
    for (id, a) in &p {
        let b = &h[id];
        // Names are spelled by each publisher; everything computed must be identical.
        let strip = |f: &Figures| {
            let mut f = f.clone();
            for c in &mut f.candidates {
                c.name.clear();
            }
            for d in &mut f.departed {
                d.candidate = None;
            }
            f.constituency.name.clear();
            f
        };
        if strip(a) != strip(b) {
            differences.push(format!(
                "{id}:\n  export {:?}\n  HoC    {:?}",
                strip(a),
                strip(b)
            ));
        }
        if declared_p[id] != declared_h[id] {
            differences.push(format!(
                "{id}: declared {:?} vs {:?}",
                declared_p[id], declared_h[id]
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} differ, first:\n{}",
        differences.len(),
        differences
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_registry_covers_every_party_in_the_real_files_and_the_demo() {
    let parties = demo::parties();
    let (demo_results, demo_baseline) = demo::load(&parties);
    let mut loaded = vec![demo_results, demo_baseline];
    if let Some(dir) = support::shared_data() {
        let (a, _) = parliament(&dir, &parties);
        let (b, _) = hoc(&dir, &parties);
        let c = load_files(
            Format::ParliamentCsv,
            &dir.join("candidate-level-results-general-election-08-06-2017.csv"),
            None,
            None,
            &parties,
        )
        .unwrap();
        let d = load_files(
            Format::HocCsv,
            &dir.join("GE2017-candidate.csv"),
            Some(&dir.join("GE2017-constituency.csv")),
            None,
            &parties,
        )
        .unwrap();
        loaded.extend([a, b, c, d]);
    }
    let unknown: std::collections::BTreeSet<String> = loaded
        .iter()
        .flat_map(|l| l.declarations.iter())
        .flat_map(|d| d.result.candidates.iter())
        .filter(|c| parties.get(&c.party).is_none())
        .map(|c| c.party.to_string())
        .collect();
    assert!(
        unknown.is_empty(),
        "parties missing from config/parties.toml: {unknown:?}"
    );
}

/// The projection backtested: GE2019 declared in its real order against GE2017, projected
/// after 25, 50, 100, 200 and 400 declarations and compared with the final result. Prints
/// the table BENCHMARKS.md quotes (`cargo test --test it real_data::projection -- --nocapture`).
#[test]
fn projection_backtest_on_ge2019() {
    use herald::core::board::Board;
    let Some(dir) = support::shared_data() else {
        return;
    };
    let parties = demo::parties();
    let (now, baseline) = parliament(&dir, &parties);
    let mut order = now.declarations.clone();
    order.sort_by(|a, b| {
        a.declared_at
            .cmp(&b.declared_at)
            .then_with(|| a.id().cmp(b.id()))
    });
    let mut board = Board::new(now.election.clone(), parties.clone(), baseline);
    for d in &order {
        board.apply(d.clone());
    }
    let actual = board.tally(&herald::core::board::Scope::All);
    let parties_shown = ["con", "lab", "snp", "ld"];
    let actual_of = |p: &str| actual.party(&PartyId::new(p)).map_or(0, |t| t.seats) as i64;
    let mut board = Board::new(
        now.election.clone(),
        parties.clone(),
        board.baseline.clone(),
    );
    let mut rows = Vec::new();
    for (i, d) in order.iter().enumerate() {
        board.apply(d.clone());
        let n = i + 1;
        if ![25, 50, 100, 200, 400].contains(&n) {
            continue;
        }
        let p = board.projection();
        let Some(p) = p else {
            rows.push(format!(
                "| {n} | not yet (fewer than 20 comparable seats in every nation) | | | | |"
            ));
            continue;
        };
        let projected = |id: &str| p.party(&PartyId::new(id)).map_or(0, |x| x.projected) as i64;
        let mut total_error = 0i64;
        let mut seen = std::collections::BTreeSet::new();
        for row in &p.parties {
            seen.insert(row.party.clone());
            let a = actual.party(&row.party).map_or(0, |t| t.seats) as i64;
            total_error += (row.projected as i64 - a).abs();
        }
        for t in &actual.parties {
            if !seen.contains(&t.party) {
                total_error += i64::from(t.seats);
            }
        }
        let cells: Vec<String> = parties_shown
            .iter()
            .map(|id| format!("{} ({:+})", projected(id), projected(id) - actual_of(id)))
            .collect();
        rows.push(format!(
            "| {n} | {} | {} | {} |",
            cells.join(" | "),
            total_error / 2,
            p.unprojected
        ));
        // Every seat is accounted for: declared, projected or not projected.
        let counted: u32 = p.parties.iter().map(|x| x.projected).sum();
        assert_eq!(
            counted + p.unprojected,
            650 - undeclared_ties(&board),
            "after {n}"
        );
        if n == 400 {
            assert!(
                total_error / 2 <= 40,
                "after 400 declarations {} seats are misplaced",
                total_error / 2
            );
        }
    }
    println!(
        "| declared | Con (error) | Lab (error) | SNP (error) | LD (error) | seats misplaced | not projected |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| final | {} | {} | {} | {} | | |",
        actual_of("con"),
        actual_of("lab"),
        actual_of("snp"),
        actual_of("ld")
    );
    for r in rows {
        println!("{r}");
    }
}

/// Declared seats without a winner (none in GE2019), which neither count nor project.
fn undeclared_ties(board: &herald::core::board::Board) -> u32 {
    board
        .entries()
        .filter(|e| e.figures.winning_party().is_none())
        .count() as u32
}

/// Sitting MPs who stood and lost are named, from the export's `Candidate is sitting MP`:
/// in Kensington two of them (the seat's own, and one who sat for another seat).
#[test]
fn defeated_sitting_mps_are_named() {
    use herald::core::board::Board;
    let Some(dir) = support::shared_data() else {
        return;
    };
    let parties = demo::parties();
    let (now, baseline) = parliament(&dir, &parties);
    let mut board = Board::new(now.election.clone(), parties.clone(), baseline);
    for d in &now.declarations {
        board.apply(d.clone());
    }
    let named = |seat: &str| {
        let e = board
            .entries()
            .find(|e| e.declaration.result.constituency.name == seat)
            .unwrap();
        e.figures
            .sitting_defeated
            .iter()
            .map(|(n, p)| format!("{n} ({p})"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        named("Kensington"),
        ["Emma Dent Coad (lab)", "Samuel Gyimah (ld)"]
    );
    assert_eq!(named("Bolsover"), ["Dennis Skinner (lab)"]);
    // A sitting MP who held on is not "defeated".
    assert!(named("Islington North").is_empty());
}
