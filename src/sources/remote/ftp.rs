//! The FTP and FTPS side of a remote folder (suppaftp on tokio): passive mode, binary
//! transfers, `MLSD` for listings (exact times and sizes), every command under the source's
//! timeout. FTPS is explicit TLS (`AUTH TLS`), verified against the system's roots and, if
//! given, a private CA.

use std::time::{Duration, SystemTime};

use suppaftp::async_native_tls::{Certificate, TlsConnector};
use suppaftp::list::File;
use suppaftp::tokio::{AsyncNativeTlsConnector, AsyncNativeTlsFtpStream};
use suppaftp::types::FileType;
use suppaftp::{FtpError, Mode, Status};
use tokio::io::AsyncReadExt;

use super::{Op, RemoteAuth, RemoteUrl, Scheme, Session, failed};
use crate::observe::metrics::FeedCause;
use crate::sources::inbox::Stamp;
use crate::sources::live::SourceError;

pub(super) struct FtpSession {
    ftp: AsyncNativeTlsFtpStream,
    url: RemoteUrl,
    timeout: Duration,
}

impl FtpSession {
    pub(super) async fn connect(
        url: &RemoteUrl,
        auth: &RemoteAuth,
        timeout: Duration,
    ) -> Result<FtpSession, SourceError> {
        let within = |what: &'static str| {
            move |_| {
                failed(
                    url,
                    FeedCause::timeout,
                    what,
                    format!("no answer in {timeout:?}"),
                )
            }
        };
        let address = (url.host.as_str(), url.port);
        let mut ftp = tokio::time::timeout(timeout, AsyncNativeTlsFtpStream::connect(address))
            .await
            .map_err(within("connect"))?
            .map_err(|e| failed(url, FeedCause::connect, "connect", e))?;
        if url.scheme == Scheme::Ftps {
            let mut tls = TlsConnector::new();
            if let Some(ca) = &auth.ca_file {
                let refused = |e: &dyn std::fmt::Display| {
                    failed(
                        url,
                        FeedCause::connect,
                        "source.ca_file",
                        format!("{}: {e}", ca.display()),
                    )
                };
                let pem = std::fs::read(ca).map_err(|e| refused(&e))?;
                let cert = Certificate::from_pem(&pem).map_err(|e| refused(&e))?;
                tls = tls.add_root_certificate(cert);
            }
            ftp = tokio::time::timeout(
                timeout,
                ftp.into_secure(AsyncNativeTlsConnector::from(tls), &url.host),
            )
            .await
            .map_err(within("TLS"))?
            .map_err(|e| failed(url, FeedCause::connect, "TLS", e))?;
        }
        let password = auth.password.as_ref().map_or("", |p| p.expose());
        tokio::time::timeout(timeout, ftp.login(url.user.as_str(), password))
            .await
            .map_err(within("login"))?
            .map_err(|e| match e {
                FtpError::UnexpectedResponse(r) if r.status == Status::NotLoggedIn => failed(
                    url,
                    FeedCause::connect,
                    "login refused",
                    format!("the server answered {}", r.status.code()),
                ),
                other => failed(url, FeedCause::connect, "login", other),
            })?;
        ftp.set_mode(Mode::Passive);
        let mut session = FtpSession {
            ftp,
            url: url.clone(),
            timeout,
        };
        let ftp = &mut session.ftp;
        tokio::time::timeout(timeout, ftp.transfer_type(FileType::Binary))
            .await
            .map_err(within("TYPE I"))?
            .map_err(|e| failed(url, FeedCause::connect, "TYPE I", e))?;
        let folder = url.path.trim_start_matches('/');
        if !folder.is_empty() {
            tokio::time::timeout(timeout, ftp.cwd(folder))
                .await
                .map_err(within("change folder"))?
                .map_err(|e| failed(url, FeedCause::io, "change folder", e))?;
        }
        Ok(session)
    }

    fn timed_out(&self, what: &str) -> SourceError {
        failed(
            &self.url,
            FeedCause::timeout,
            what,
            format!("no answer in {:?}", self.timeout),
        )
    }

    async fn read_file(&mut self, name: &str, max: usize) -> Result<Option<Vec<u8>>, SourceError> {
        let what = format!("fetch {name}");
        let mut stream =
            match tokio::time::timeout(self.timeout, self.ftp.retr_as_stream(name)).await {
                Err(_) => return Err(self.timed_out(&what)),
                Ok(Err(FtpError::UnexpectedResponse(r))) if r.status == Status::FileUnavailable => {
                    return Ok(None);
                }
                Ok(Err(e)) => return Err(failed(&self.url, FeedCause::io, &what, e)),
                Ok(Ok(s)) => s,
            };
        let mut bytes = Vec::new();
        let read = tokio::time::timeout(
            self.timeout,
            (&mut stream).take(max as u64 + 1).read_to_end(&mut bytes),
        )
        .await;
        match read {
            Err(_) => return Err(self.timed_out(&what)),
            Ok(Err(e)) => return Err(failed(&self.url, FeedCause::io, &what, e)),
            Ok(Ok(_)) => {}
        }
        match tokio::time::timeout(self.timeout, stream.finish()).await {
            Err(_) => return Err(self.timed_out(&what)),
            Ok(Err(e)) => return Err(failed(&self.url, FeedCause::io, &what, e)),
            Ok(Ok(())) => {}
        }
        if bytes.len() > max {
            return Err(failed(
                &self.url,
                FeedCause::too_large,
                &what,
                format!("over the {max} bytes allowed"),
            ));
        }
        Ok(Some(bytes))
    }

    async fn list_files(&mut self) -> Result<Vec<(String, Stamp)>, SourceError> {
        let lines = match tokio::time::timeout(self.timeout, self.ftp.mlsd(None)).await {
            Err(_) => return Err(self.timed_out("list")),
            Ok(Err(e)) => return Err(failed(&self.url, FeedCause::io, "list", e)),
            Ok(Ok(lines)) => lines,
        };
        Ok(lines
            .iter()
            .filter_map(|l| File::try_from(l.as_str()).ok())
            .filter(|f| f.is_file())
            .map(|f| {
                let modified = f
                    .modified()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos());
                (f.name().to_string(), (modified, f.size() as u64))
            })
            .collect())
    }
}

impl Session for FtpSession {
    fn read<'a>(&'a mut self, name: &'a str, max: usize) -> Op<'a, Option<Vec<u8>>> {
        Box::pin(self.read_file(name, max))
    }

    fn list(&mut self) -> Op<'_, Vec<(String, Stamp)>> {
        Box::pin(self.list_files())
    }
}
