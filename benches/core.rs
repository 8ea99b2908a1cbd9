//! Micro-benchmarks of the core on the real GE2019/GE2017 files (`../shared/data`, or
//! `HERALD_SHARED_DATA`): every figure for all 650 seats and the nation, one declaration,
//! change detection for one poll of a 650-seat feed, and the finder (with its accuracy on
//! `benches/data/misspellings.tsv` and the latency distribution of autocomplete queries).
//!
//! Run: `cargo bench --bench core`. Without the shared data, only the demo benchmarks run.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use herald::core::arithmetic::{Figures, compute};
use herald::core::changes::detect;
use herald::core::finder::{Finder, Lookup, normalise};
use herald::core::model::{Baseline, ConstituencyId, Declaration};
use herald::core::national::tally;
use herald::demo;
use herald::sources::{Format, load_files};

fn shared() -> Option<PathBuf> {
    let dir = std::env::var_os("HERALD_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    if dir.join("README.md").is_file() {
        Some(dir)
    } else {
        println!(
            "NOTICE: {} not found: the GE2019 benchmarks are skipped",
            dir.display()
        );
        None
    }
}

fn ge2019(dir: &std::path::Path) -> (Vec<Declaration>, Baseline) {
    let parties = demo::parties();
    let now = load_files(
        Format::ParliamentCsv,
        &dir.join("candidate-level-results-general-election-12-12-2019.csv"),
        None,
        None,
        &parties,
    )
    .expect("GE2019 loads");
    let before = load_files(
        Format::ParliamentCsv,
        &dir.join("candidate-level-results-general-election-08-06-2017.csv"),
        None,
        None,
        &parties,
    )
    .expect("GE2017 loads");
    (now.declarations, before.into_baseline())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The finder's accuracy on the misspellings list, and the latency of autocomplete.
fn finder_report(finder: &Finder, names: &[String]) {
    let text = include_str!("data/misspellings.tsv");
    let cases: Vec<(&str, &str)> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once('\t'))
        .collect();
    let (mut resolved, mut top1, mut top5) = (0, 0, 0);
    let mut misses = Vec::new();
    // The files spell some names differently ("Stoke-On-Trent Central"): compare the forms
    // the finder itself compares.
    let same = |a: &str, b: &str| normalise(a) == normalise(b);
    for (q, want) in &cases {
        if matches!(finder.find(q), Lookup::Found(m) if same(&m.name, want)) {
            resolved += 1;
        }
        let s = finder.suggest(q, 25);
        if s.first().is_some_and(|m| same(&m.name, want)) {
            top1 += 1;
        }
        if s.iter().take(5).any(|m| same(&m.name, want)) {
            top5 += 1;
        } else {
            misses.push(format!("{q} → {want}"));
        }
    }
    let n = cases.len() as f64;
    println!("finder accuracy on {} misspellings:", cases.len());
    println!(
        "  /result resolves to the right seat: {resolved} ({:.1}%)",
        100.0 * resolved as f64 / n
    );
    println!(
        "  autocomplete top-1: {top1} ({:.1}%), top-5: {top5} ({:.1}%)",
        100.0 * top1 as f64 / n,
        100.0 * top5 as f64 / n
    );
    println!("  not in the top 5: {}", misses.join("; "));

    // Latency of autocomplete over realistic inputs: every prefix of every name typed so far,
    // and the misspellings.
    let mut queries: Vec<String> = Vec::new();
    for name in names {
        let chars: Vec<char> = name.chars().collect();
        for k in [1, 2, 3, 4, 6, 8, 12] {
            if k <= chars.len() {
                queries.push(chars[..k].iter().collect());
            }
        }
    }
    queries.extend(cases.iter().map(|(q, _)| q.to_string()));
    let mut times = Vec::with_capacity(queries.len());
    for q in &queries {
        let t = Instant::now();
        black_box(finder.suggest(black_box(q), 25));
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "autocomplete latency over {} queries: p50 {:?}, p99 {:?}, max {:?} (target: p99 under 100 µs)",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times[times.len() - 1]
    );
}

fn benches(c: &mut Criterion) {
    let parties = demo::parties();
    let (demo_results, demo_baseline) = demo::load(&parties);
    let hartlepool = demo_results.declarations[0].result.clone();
    let hartlepool_before = demo_baseline.declarations[0].result.clone();
    c.bench_function(
        "compute/one declaration (Hartlepool 2021, 16 candidates)",
        |b| {
            b.iter(|| {
                compute(
                    black_box(&hartlepool),
                    Some(black_box(&hartlepool_before)),
                    &parties,
                )
            })
        },
    );

    let Some(dir) = shared() else { return };
    let (decls, baseline) = ge2019(&dir);
    c.bench_function(
        "compute/all 650 seats and the nation (GE2019 vs GE2017)",
        |b| {
            b.iter(|| {
                let figs: Vec<Figures> = decls
                    .iter()
                    .map(|d| compute(&d.result, baseline.get(d.id()), &parties))
                    .collect();
                black_box(tally(figs.iter(), 650, &parties))
            })
        },
    );

    // Change detection for one poll of the whole 650-seat feed.
    let known: BTreeMap<ConstituencyId, Declaration> =
        decls.iter().map(|d| (d.id().clone(), d.clone())).collect();
    let mut held_649 = known.clone();
    held_649.remove(decls[300].id());
    let mut corrected = decls.clone();
    corrected[300].revision = 2;
    corrected[300].result.candidates[1].votes += 10;
    corrected[300].result.valid_votes = corrected[300].result.valid_votes.map(|v| v + 10);
    let mut g = c.benchmark_group("detect/one poll of 650 seats");
    g.bench_function("unchanged", |b| {
        b.iter(|| detect(black_box(&known), black_box(&decls), true))
    });
    g.bench_function("one new seat", |b| {
        b.iter(|| detect(black_box(&held_649), black_box(&decls), true))
    });
    g.bench_function("one correction", |b| {
        b.iter(|| detect(black_box(&known), black_box(&corrected), true))
    });
    g.finish();

    let names: Vec<String> = decls
        .iter()
        .map(|d| d.result.constituency.name.clone())
        .collect();
    let finder = Finder::new(
        decls
            .iter()
            .map(|d| (d.id().clone(), d.result.constituency.name.clone())),
    );
    finder_report(&finder, &names);
    let mut g = c.benchmark_group("finder");
    for (kind, q) in [
        ("exact", "Hartlepool"),
        ("accent-free", "ynys mon"),
        ("prefix", "birmingham"),
        ("typo", "hartlepol"),
        ("long typo", "inverness nairn badenoch and strathspy"),
    ] {
        g.bench_with_input(BenchmarkId::new("find", kind), q, |b, q| {
            b.iter(|| finder.find(black_box(q)))
        });
        g.bench_with_input(BenchmarkId::new("suggest", kind), q, |b, q| {
            b.iter(|| finder.suggest(black_box(q), 25))
        });
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
