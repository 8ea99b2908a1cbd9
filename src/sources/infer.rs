//! Telling a results file's format from the file itself, for commands given no `--format`:
//! XML is PA Media's, JSON herald's own, and a CSV file is told by its header (the UK
//! Parliament export names `Candidate family name`; the House of Commons Library files start
//! with the constituency's ONS id). A folder is told by the files in it.

use std::io::Read;
use std::path::Path;

use super::Format;

/// What to say when the format cannot be told.
fn unknown(path: &Path, what: &str) -> String {
    format!(
        "{}: cannot tell the format ({what}); give --format: herald-json (herald's feed format), parliament-csv (UK Parliament export), hoc-csv (House of Commons Library files), pa-xml (PA Media XML) or democracy-club (Democracy Club results JSON)",
        path.display()
    )
}

/// The format of `text`, the start of a file.
pub fn format_of_text(text: &str) -> Option<Format> {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('<') {
        return Some(Format::PaXml);
    }
    if t.starts_with('{') || t.starts_with('[') {
        // Democracy Club's results name their ballots; herald's own JSON never does.
        if t.contains("\"ballot_paper_id\"") || t.contains("\"candidate_results\"") {
            return Some(Format::DemocracyClub);
        }
        if t.starts_with('{') {
            return Some(Format::HeraldJson);
        }
    }
    let header = t.lines().next()?.to_ascii_lowercase();
    let columns: Vec<&str> = header
        .split(',')
        .map(|c| c.trim().trim_matches('"'))
        .collect();
    if columns.contains(&"candidate family name")
        || columns.contains(&"constituency geographic code")
    {
        return Some(Format::ParliamentCsv);
    }
    if columns
        .iter()
        .any(|c| matches!(*c, "ons id" | "ons_id" | "ons id2"))
    {
        return Some(Format::HocCsv);
    }
    None
}

/// The format of the file or folder at `path`.
pub fn infer_format(path: &Path) -> Result<Format, String> {
    if path.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut found: Option<Format> = None;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
            let f = if name.ends_with(".xml") {
                Format::PaXml
            } else if name.ends_with(".json") {
                Format::HeraldJson
            } else {
                continue;
            };
            match found {
                Some(other) if other != f => {
                    return Err(unknown(path, "it holds both XML and JSON files"));
                }
                _ => found = Some(f),
            }
        }
        return found.ok_or_else(|| unknown(path, "it holds no .xml or .json files"));
    }
    let mut start = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(8192).read_to_end(&mut start))
        .map_err(|e| format!("{}: cannot read ({e})", path.display()))?;
    let text = String::from_utf8_lossy(&start);
    format_of_text(&text).ok_or_else(|| {
        unknown(
            path,
            "not XML, not JSON, and not a CSV file with a header herald knows",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_each_format_from_its_start() {
        assert_eq!(
            format_of_text("\u{feff}<?xml version=\"1.0\"?>"),
            Some(Format::PaXml)
        );
        assert_eq!(
            format_of_text("  {\"format\": \"herald/1\"}"),
            Some(Format::HeraldJson)
        );
        assert_eq!(
            format_of_text("Parliament number,Candidate family name,Candidate given name\n1,A,B"),
            Some(Format::ParliamentCsv)
        );
        assert_eq!(
            format_of_text("ONS ID,ONS region ID,Constituency name\n"),
            Some(Format::HocCsv)
        );
        assert_eq!(
            format_of_text("ons_id,constituency_name\n"),
            Some(Format::HocCsv)
        );
        assert_eq!(format_of_text("name,votes\nA,1\n"), None);
        assert_eq!(format_of_text(""), None);
    }

    #[test]
    fn a_file_it_cannot_tell_names_every_format() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("results.txt");
        std::fs::write(&p, "seat;votes\n").unwrap();
        let e = infer_format(&p).unwrap_err();
        assert!(e.contains("cannot tell the format"), "{e}");
        for f in ["herald-json", "parliament-csv", "hoc-csv", "pa-xml"] {
            assert!(e.contains(f), "{e}");
        }
        std::fs::write(dir.path().join("a.xml"), "<x/>").unwrap();
        assert_eq!(infer_format(dir.path()), Ok(Format::PaXml));
    }
}
