//! The `herald` binary, driven as a user drives it.

use crate::support;

use std::collections::HashMap;
use std::process::{Command, Output};

use serde_json::Value;

fn herald(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(args)
        .output()
        .expect("the herald binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn no_arguments_runs_the_demo() {
    let o = herald(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for expected in [
        "Hartlepool: Con GAIN from Lab",
        "Jill Mortimer (Conservative) is elected with 15,529 votes, 51.9% of the vote.",
        "Majority 6,940 (23.2%).",
        "Turnout 42.6%, \u{2212}15.5 points on 2019 (ballot papers counted, including rejected).",
        "Swing of 16.0 points from Labour to Conservative since 2019.",
        "*Jill Mortimer",
        "+23.0",
        "\u{2212}9.0",
        "Declared 7 May 2021, 07:00 BST",
        "Majority for Conservative: 1 of 1 seat (1 needed).",
    ] {
        assert!(out.contains(expected), "missing `{expected}` in:\n{out}");
    }
    // The Reform UK line compares with the Brexit Party's 2019 share (25.8%).
    let reform = out
        .lines()
        .find(|l| l.contains("John Prescott"))
        .expect("Reform line");
    assert!(reform.contains("\u{2212}24.6"), "{reform}");
    assert!(
        out.contains("▶ DECLARED · Hartlepool"),
        "the demo goes through the watcher and console sink"
    );
    let body = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(
        body(&stdout(&herald(&["demo"]))),
        body(&out),
        "`herald demo` is the same job"
    );
}

#[test]
fn result_finds_typos_and_prints_json() {
    let o = herald(&["result", "hartlepol", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("one JSON object");
    assert_eq!(v["name"], "Hartlepool");
    assert_eq!(v["status"], "gain");
    assert_eq!(v["gained_from"], "lab");
    assert_eq!(v["majority"], 6940);
    assert_eq!(v["winner"]["party"], "con");
    let points = v["swing"]["points"].as_f64().unwrap();
    assert_eq!((points * 100.0).round() / 100.0, 15.97);
    assert_eq!(
        (v["candidates"][0]["share"].as_f64().unwrap() * 100.0).round() / 100.0,
        51.88
    );
    assert_eq!(v["candidates"][2]["new"], true);
}

#[test]
fn unknown_constituency_fails_with_a_clear_message() {
    let o = herald(&["result", "Atlantis"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no constituency matches `Atlantis`"),
        "{}",
        stderr(&o)
    );
    let o = herald(&["result", "Hartlepool", "--tz", "Mars/Olympus"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("unknown timezone `Mars/Olympus`"));
}

#[test]
fn seats_json_tallies_the_demo() {
    let o = herald(&["seats", "--json"]);
    assert!(o.status.success());
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["type"], "nation");
    assert_eq!(v["seats"]["con"], 1);
    assert_eq!(v["seat_change"]["lab"], -1);
    assert_eq!(
        (v["declared"].as_u64(), v["total"].as_u64()),
        (Some(1), Some(1))
    );
}

#[test]
fn compute_reports_file_errors_with_their_location() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"format\": \"herald/1\",\n \"election\": 7}").unwrap();
    let o = herald(&[
        "compute",
        "--format",
        "herald-json",
        "--results",
        bad.to_str().unwrap(),
        "--baseline",
        bad.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("bad.json:2: field `election`: invalid type"),
        "{err}"
    );
    let o = herald(&[
        "compute",
        "--format",
        "parliament-csv",
        "--results",
        "/nonexistent.csv",
        "--baseline",
        "/nonexistent.csv",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/nonexistent.csv: cannot read"));
}

fn published_majorities(
    path: &std::path::Path,
    id_col: &str,
    keep: impl Fn(&HashMap<String, String>) -> bool,
) -> HashMap<String, u64> {
    support::csv_rows(path)
        .into_iter()
        .filter(|r| keep(r))
        .map(|r| (r[id_col].clone(), r["Majority"].parse().expect("majority")))
        .collect()
}

fn check_compute(args: &[&str], published: &HashMap<String, u64>) {
    let o = herald(args);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 651, "650 constituencies and the nation");
    let mut agreed = 0;
    for v in &lines[..650] {
        assert_eq!(v["type"], "constituency");
        let id = v["id"].as_str().unwrap();
        assert_eq!(v["majority"].as_u64(), Some(published[id]), "{id}");
        agreed += 1;
    }
    assert_eq!(agreed, 650);
    let nation = &lines[650];
    assert_eq!(nation["type"], "nation");
    assert_eq!(nation["seats"]["con"], 365);
    assert_eq!(nation["seats"]["lab"], 202);
    assert_eq!(nation["declared"], 650);
    // Constituencies come out in declaration order.
    let times: Vec<&str> = lines[..650]
        .iter()
        .map(|v| v["declared_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn compute_agrees_with_published_majorities_for_both_formats() {
    let Some(dir) = support::shared_data() else {
        return;
    };
    let p = |f: &str| dir.join(f).to_str().unwrap().to_string();
    let export = published_majorities(
        &dir.join("candidate-level-results-general-election-12-12-2019.csv"),
        "Constituency geographic code",
        |r| r["Candidate result position"] == "1",
    );
    check_compute(
        &[
            "compute",
            "--format",
            "parliament-csv",
            "--results",
            &p("candidate-level-results-general-election-12-12-2019.csv"),
            "--baseline",
            &p("candidate-level-results-general-election-08-06-2017.csv"),
            "--json",
        ],
        &export,
    );
    let hoc = published_majorities(
        &dir.join("HoC-GE2019-results-by-constituency.csv"),
        "ONS ID",
        |_| true,
    );
    check_compute(
        &[
            "compute",
            "--format",
            "hoc-csv",
            "--results",
            &p("HoC-GE2019-results-by-candidate.csv"),
            "--constituencies",
            &p("HoC-GE2019-results-by-constituency.csv"),
            "--baseline",
            &p("HoC-GE2017-results-by-candidate.csv"),
            "--baseline-constituencies",
            &p("GE2017-constituency.csv"),
            "--json",
        ],
        &hoc,
    );
}

#[test]
fn chart_writes_pictures_of_the_stated_size() {
    let dir = tempfile::tempdir().unwrap();
    for (args, file) in [
        (vec!["chart", "hartlepol"], "h.png"),
        (vec!["chart", "--seats"], "s.png"),
        (vec!["chart", "--swing"], "w.png"),
    ] {
        let out = dir.path().join(file);
        let mut a = args.clone();
        a.extend(["--out", out.to_str().unwrap()]);
        let o = herald(&a);
        assert!(o.status.success(), "{}", stderr(&o));
        let img = image::load_from_memory(&std::fs::read(&out).unwrap()).expect("a PNG");
        assert_eq!(
            (img.width(), img.height()),
            (herald::format::chart::WIDTH, herald::format::chart::HEIGHT)
        );
    }
    let o = herald(&[
        "chart",
        "Atlantis",
        "--out",
        dir.path().join("x.png").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!dir.path().join("x.png").exists());
}

#[test]
fn the_demo_names_the_folder_of_its_charts() {
    let o = herald(&["demo"]);
    let out = stdout(&o);
    let line = out
        .lines()
        .find(|l| l.starts_with("Charts written to "))
        .expect("the demo names its charts folder");
    let (dir, files) = line["Charts written to ".len()..].split_once(": ").unwrap();
    for f in files.split(", ") {
        let bytes = std::fs::read(std::path::Path::new(dir).join(f)).unwrap();
        assert!(image::load_from_memory(&bytes).is_ok(), "{f} decodes");
    }
    assert!(
        files.contains("result-hartlepool.png")
            && files.contains("seats.png")
            && files.contains("swing.png")
    );
}

#[test]
fn the_format_is_told_from_the_file_when_not_given() {
    let Some(dir) = support::shared_data() else {
        return;
    };
    let p = |f: &str| dir.join(f).to_str().unwrap().to_string();
    // The Parliament export, its baseline too, with no --format anywhere.
    let o = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args([
            "result",
            "Hartlepool",
            "--json",
            "--results",
            &p("candidate-level-results-general-election-12-12-2019.csv"),
            "--baseline",
            &p("candidate-level-results-general-election-08-06-2017.csv"),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["majority"], 3595);
    // A file herald cannot tell is refused naming every format, not parsed as JSON.
    let tmp = tempfile::tempdir().unwrap();
    let odd = tmp.path().join("results.txt");
    std::fs::write(&odd, "seat;votes\nHartlepool;1\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["seats", "--results", odd.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("cannot tell the format"), "{err}");
    assert!(
        err.contains("parliament-csv") && err.contains("pa-xml"),
        "{err}"
    );
}

/// A notional baseline in the UK Parliament export layout: a row per party with no candidate
/// name, two Independent aggregates in one seat. Every figure checked against the hand
/// computation in the comments.
#[test]
fn compute_against_a_notional_baseline_of_party_aggregates() {
    const HEADER: &str = "Constituency geographic code,Constituency name,Country name,English region name,Electorate,Election polling date,Election is by-election,Declaration time,Election valid vote count,Election invalid vote count,Election result summary,Candidate family name,Candidate given name,Main party name,Main party abbreviation,Candidate is standing as Commons Speaker,Candidate is standing as independent,Candidate vote count,Candidate result position";
    let seat = "E14009991,Alphaton,England,North East";
    let notional = format!(
        "{HEADER},Candidate is notional political party aggregate\n\
         {seat},60000,2019-12-12,false,,41500,,Con hold,,,Conservative,Con,false,false,20000,1,true\n\
         {seat},60000,2019-12-12,false,,41500,,Con hold,,,Labour,Lab,false,false,15000,2,true\n\
         {seat},60000,2019-12-12,false,,41500,,Con hold,,,Liberal Democrat,LD,false,false,5000,3,true\n\
         {seat},60000,2019-12-12,false,,41500,,Con hold,,,,,false,true,1000,4,true\n\
         {seat},60000,2019-12-12,false,,41500,,Con hold,,,,,false,true,500,5,true\n"
    );
    let results = format!(
        "{HEADER}\n\
         {seat},61000,2024-07-04,false,2024-07-05 01:30:00 UTC,40000,,Lab gain,Ray,Ann,Labour,Lab,false,false,18000,1\n\
         {seat},61000,2024-07-04,false,2024-07-05 01:30:00 UTC,40000,,Lab gain,Cole,Ben,Conservative,Con,false,false,16000,2\n\
         {seat},61000,2024-07-04,false,2024-07-05 01:30:00 UTC,40000,,Lab gain,Day,Cal,Liberal Democrat,LD,false,false,4000,3\n\
         {seat},61000,2024-07-04,false,2024-07-05 01:30:00 UTC,40000,,Lab gain,Eve,Dee,Green Party,Green,false,false,2000,4\n"
    );
    let tmp = tempfile::tempdir().unwrap();
    let (base, new) = (
        tmp.path().join("notional.csv"),
        tmp.path().join("results.csv"),
    );
    std::fs::write(&base, notional).unwrap();
    std::fs::write(&new, results).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args([
            "compute",
            "--results",
            new.to_str().unwrap(),
            "--baseline",
            base.to_str().unwrap(),
            "--json",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let v: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let close = |a: &Value, b: f64| (a.as_f64().unwrap() - b).abs() < 1e-3;
    // Lab 18,000 beats Con 16,000: a gain from the party that held it notionally.
    assert_eq!(v["status"], "gain", "{v:#}");
    assert_eq!(v["gained_from"], "con");
    assert_eq!(v["majority"], 2000);
    assert!(close(&v["majority_pct"], 5.0));
    // Turnout on valid votes (no rejected ballots given): 40,000 / 61,000.
    assert!(close(&v["turnout_pct"], 65.5738));
    // Shares then: Con 20,000 / 41,500 = 48.1928, Lab 36.1446, LD 12.0482, and the two
    // Independent aggregates together 1,500 = 3.6145.
    let change = |party: &str| {
        v["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["party"] == party)
            .map(|c| c["change"].clone())
            .unwrap()
    };
    assert!(close(&change("lab"), 45.0 - 36.1446));
    assert!(close(&change("con"), 40.0 - 48.1928));
    assert!(close(&change("ld"), 10.0 - 12.0482));
    assert_eq!(change("green"), Value::Null, "Green is new here");
    // Butler swing, Con to Lab: (8.8554 + 8.1928) / 2 = 8.5241.
    assert_eq!(v["swing"]["from"], "con");
    assert_eq!(v["swing"]["to"], "lab");
    assert!(close(&v["swing"]["points"], 8.5241), "{v:#}");
}
