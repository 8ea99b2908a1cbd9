//! An HTTP(S) results feed, polled with conditional requests so that an unchanged feed
//! costs a 304: ETag / If-None-Match and Last-Modified / If-Modified-Since. Every request
//! has a timeout and the body a size cap; the whole document is parsed and validated
//! before anything changes. Backoff between failed polls is the watcher's business.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::header::{ETAG, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};

use super::Format;
use super::live::{PollFuture, Polled, Source, SourceError, parse_document};
use super::options::SourceOptions;
use crate::core::parties::PartyRegistry;
use crate::observe::metrics::FeedCause;

pub struct HttpSource {
    client: reqwest::Client,
    url: String,
    format: Format,
    max_body: usize,
    parties: Arc<PartyRegistry>,
    etag: Option<HeaderValue>,
    last_modified: Option<HeaderValue>,
    /// Hash of the last body applied, for servers without validators.
    last_body: Option<u64>,
    /// What the last changed poll brought, remembered once it is recorded.
    pending: Option<Validators>,
}

/// What makes the next request conditional on a body herald has recorded.
struct Validators {
    etag: Option<HeaderValue>,
    last_modified: Option<HeaderValue>,
    body: u64,
}

impl HttpSource {
    pub fn new(
        url: &str,
        options: &SourceOptions,
        parties: Arc<PartyRegistry>,
    ) -> Result<Self, SourceError> {
        if options.format == Format::HocCsv || options.format == Format::PaXml {
            return Err(SourceError::new(
                FeedCause::malformed,
                format!(
                    "{} cannot be polled over HTTP: use a file or folder source",
                    options.format.name()
                ),
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .user_agent(concat!("herald/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                SourceError::new(FeedCause::connect, format!("cannot build HTTP client: {e}"))
            })?;
        Ok(HttpSource {
            client,
            url: url.to_string(),
            format: options.format,
            max_body: options.max_body_bytes,
            parties,
            etag: None,
            last_modified: None,
            last_body: None,
            pending: None,
        })
    }

    async fn fetch(&mut self) -> Result<Polled, SourceError> {
        let mut request = self.client.get(&self.url);
        if let Some(etag) = &self.etag {
            request = request.header(IF_NONE_MATCH, etag.clone());
        }
        if let Some(lm) = &self.last_modified {
            request = request.header(IF_MODIFIED_SINCE, lm.clone());
        }
        let mut response = request.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Polled::Unchanged);
        }
        if !status.is_success() {
            return Err(SourceError::new(
                FeedCause::http_status,
                format!("{}: HTTP {status}", self.url),
            ));
        }
        if let Some(len) = response.content_length()
            && len > self.max_body as u64
        {
            return Err(self.too_large());
        }
        let etag = response.headers().get(ETAG).cloned();
        let last_modified = response.headers().get(LAST_MODIFIED).cloned();
        let mut body: Vec<u8> = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(&e))?
        {
            if body.len() + chunk.len() > self.max_body {
                return Err(self.too_large());
            }
            body.extend_from_slice(&chunk);
        }
        let mut h = DefaultHasher::new();
        body.hash(&mut h);
        let digest = h.finish();
        if self.last_body == Some(digest) {
            self.etag = etag;
            self.last_modified = last_modified;
            return Ok(Polled::Unchanged);
        }
        let text = String::from_utf8(body).map_err(|_| {
            SourceError::new(
                FeedCause::malformed,
                format!("{}: body is not UTF-8", self.url),
            )
        })?;
        let snapshot = parse_document(self.format, &self.url, &text, None, &self.parties)?;
        // Only a body that parsed and was recorded is remembered: a bad one, or one whose
        // record failed, is fetched again.
        self.pending = Some(Validators {
            etag,
            last_modified,
            body: digest,
        });
        Ok(Polled::Changed(snapshot))
    }

    fn too_large(&self) -> SourceError {
        SourceError::new(
            FeedCause::too_large,
            format!(
                "{}: body larger than the {} byte cap",
                self.url, self.max_body
            ),
        )
    }

    fn transport_error(&self, e: &reqwest::Error) -> SourceError {
        let cause = if e.is_timeout() {
            FeedCause::timeout
        } else if e.is_connect() {
            FeedCause::connect
        } else {
            FeedCause::io
        };
        SourceError::new(cause, format!("{}: {}", self.url, crate::errors::chain(e)))
    }
}

impl Source for HttpSource {
    fn poll(&mut self) -> PollFuture<'_> {
        Box::pin(self.fetch())
    }

    fn commit(&mut self) {
        if let Some(v) = self.pending.take() {
            self.etag = v.etag;
            self.last_modified = v.last_modified;
            self.last_body = Some(v.body);
        }
    }

    fn describe(&self) -> String {
        format!("{} ({})", self.url, self.format.name())
    }
}
