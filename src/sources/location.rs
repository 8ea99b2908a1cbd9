//! Where a source reads from (a URL, a file, a folder, a remote folder), and the source
//! built for it: the one place that knows every kind of source.

use std::path::PathBuf;
use std::sync::Arc;

use super::live::{Source, SourceError};
use super::options::SourceOptions;
use crate::core::parties::PartyRegistry;

/// Where a source reads from, as given on the command line or in config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Url(String),
    File(PathBuf),
    Folder(PathBuf),
    /// `ftp://`, `ftps://` or `sftp://`: a folder on the supplier's server.
    Remote(super::remote::RemoteUrl),
}

impl Location {
    /// `http(s)://…` is a URL; `ftp://`, `ftps://` and `sftp://` a remote folder; an
    /// existing directory is a folder; anything else a file.
    pub fn parse(s: &str) -> Result<Location, String> {
        if s.starts_with("http://") || s.starts_with("https://") {
            Ok(Location::Url(s.to_string()))
        } else if super::remote::RemoteUrl::is_remote(s) {
            super::remote::RemoteUrl::parse(s).map(Location::Remote)
        } else {
            let p = PathBuf::from(s);
            Ok(if p.is_dir() {
                Location::Folder(p)
            } else {
                Location::File(p)
            })
        }
    }
}

/// Builds the source for a location.
pub fn open(
    location: &Location,
    options: &SourceOptions,
    parties: Arc<PartyRegistry>,
) -> Result<Box<dyn Source>, SourceError> {
    Ok(match location {
        Location::Url(url) => Box::new(super::http::HttpSource::new(url, options, parties)?),
        Location::File(path) => {
            Box::new(super::file::FileSource::new(path.clone(), options, parties))
        }
        Location::Folder(path) => Box::new(super::folder::FolderSource::new(
            path.clone(),
            options,
            parties,
        )),
        Location::Remote(url) => Box::new(super::remote::RemoteSource::new(
            url.clone(),
            options,
            parties,
        )?),
    })
}
