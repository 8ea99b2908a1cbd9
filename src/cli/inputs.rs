//! Reading what every data command takes: the party registry and the baseline, from files
//! or, for the baseline, a URL serving herald JSON.

use std::path::Path;

use super::{CliError, CompareArgs};
use crate::core::finder::Aliases;
use crate::core::model::Baseline;
use crate::core::parties::PartyRegistry;
use crate::demo;
use crate::sources::{self, Format};

/// The registry at `path`, or the bundled one.
pub(super) fn load_parties(path: Option<&Path>) -> Result<PartyRegistry, CliError> {
    match path {
        None => Ok(demo::parties()),
        Some(p) => {
            let text = sources::read_text(p)?;
            PartyRegistry::from_toml(&text)
                .map_err(|e| CliError::new(format!("{}: {e}", p.display())))
        }
    }
}

/// The bundled aliases, with those of the file at `path` added (an admin's own names).
pub(super) fn load_aliases(path: Option<&Path>) -> Result<Aliases, CliError> {
    let bundled = Aliases::bundled();
    match path {
        None => Ok(bundled),
        Some(p) => {
            let text = sources::read_text(p)?;
            let own = Aliases::from_toml(&text)
                .map_err(|e| CliError::new(format!("{}: {e}", p.display())))?;
            Ok(bundled.merged(own))
        }
    }
}

/// The notable sitting members in the file at `path` (one name per line; `#` starts a
/// comment), whose defeat is a milestone.
pub(super) fn load_notable(path: Option<&Path>) -> Result<Vec<String>, CliError> {
    let Some(p) = path else {
        return Ok(Vec::new());
    };
    let text = sources::read_text(p)?;
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// Reads a baseline from a file, or from a URL serving herald JSON (a rehearsal server's
/// `/baseline.json`).
pub(super) async fn load_baseline(
    location: &str,
    format: Format,
    constituencies: Option<&Path>,
    parties: &PartyRegistry,
) -> Result<Baseline, CliError> {
    if location.starts_with("http://") || location.starts_with("https://") {
        let text = reqwest::get(location)
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| CliError::new(format!("baseline {location}: {e}")))?
            .text()
            .await
            .map_err(|e| CliError::new(format!("baseline {location}: {e}")))?;
        return Ok(sources::parse(format, location, &text, None, parties)?.into_baseline());
    }
    Ok(
        sources::load_files(format, Path::new(location), constituencies, None, parties)?
            .into_baseline(),
    )
}

/// The format given, else the one the file or folder at `location` shows (herald JSON for
/// an http(s) URL, PA XML for an FTP or SFTP folder); a file it cannot tell is refused
/// with every format named.
pub(super) fn format_for(given: Option<Format>, location: &str) -> Result<Format, CliError> {
    if let Some(f) = given {
        return Ok(f);
    }
    if location.starts_with("http://") || location.starts_with("https://") {
        return Ok(Format::HeraldJson);
    }
    // A folder on an FTP or SFTP server is PA's delivery.
    if sources::remote::RemoteUrl::is_remote(location) {
        return Ok(Format::PaXml);
    }
    sources::infer_format(Path::new(location)).map_err(CliError::new)
}

impl CompareArgs {
    /// The registry and the baseline (empty without `--baseline`). A local baseline is read
    /// in `results_format` unless `--baseline-format` says otherwise; a URL in herald JSON.
    pub(super) async fn load(
        &self,
        results_format: Format,
    ) -> Result<(PartyRegistry, Baseline), CliError> {
        let parties = load_parties(self.parties.as_deref())?;
        let baseline = match &self.baseline {
            Some(b) => {
                // Given, else told from the file, else that of the results.
                let format = match self.baseline_format {
                    Some(f) => f,
                    None => format_for(None, b).unwrap_or(results_format),
                };
                load_baseline(b, format, self.baseline_constituencies.as_deref(), &parties).await?
            }
            None => Baseline::default(),
        };
        Ok((parties, baseline))
    }

    /// [`CompareArgs::load`] for commands that run without a runtime of their own.
    pub(super) fn load_now(
        &self,
        results_format: Format,
    ) -> Result<(PartyRegistry, Baseline), CliError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CliError::new(format!("cannot start the runtime: {e}")))?
            .block_on(self.load(results_format))
    }
}
