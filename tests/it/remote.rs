//! PA's delivery, directly: the FTP and SFTP sources against real servers on loopback (an
//! in-process libunftp server; OpenSSH's sshd), through a TCP relay the tests can cut to
//! drop the connection mid-night. Covered: `.timestamp` polling, each file fetched once,
//! a file that appears half-written first, a dropped connection, a server that refuses
//! logins for a while, an unknown host key, and a password that never shows.

use crate::support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use herald::core::model::{ConstituencyId, DeclarationStatus};
use herald::demo;
use herald::observe::metrics::FeedCause;
use herald::secret::Secret;
use herald::sources::Format;
use herald::sources::live::{Polled, Snapshot, Source, SourceError};
use herald::sources::location::{Location, open};
use herald::sources::options::{RemoteAuth, SourceOptions};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const PASSWORD: &str = "s3cret-for-the-test";

/// A TCP relay on loopback to `target`; `cut` drops every connection through it.
struct Relay {
    port: u16,
    conns: Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
    _accept: JoinHandle<()>,
}

impl Relay {
    async fn start(target: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let conns: Arc<std::sync::Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let held = conns.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                held.lock().unwrap().push(conn);
            }
        });
        Relay {
            port,
            conns,
            _accept: accept,
        }
    }

    /// Drops every connection through the relay, as a network fault would.
    fn cut(&self) {
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The PA test run's Scottish Parliament messages, in the order PA sent them.
fn messages(data: &Path) -> Vec<(String, String)> {
    [
        "Scottish_Parliament_Test_rush_Cowdenbeath_1.xml",
        "Scottish_Parliament_Test_result_Cowdenbeath_1.xml",
        "Scottish_Parliament_Test_rush_Bathgate_1.xml",
        "Scottish_Parliament_Test_result_Bathgate_1.xml",
    ]
    .iter()
    .map(|f| {
        let text = std::fs::read_to_string(data.join("feeds/pa/pa-test-2026").join(f)).unwrap();
        (f.to_string(), text)
    })
    .collect()
}

/// Adds a message as PA does: the file, then a rewritten `.timestamp`.
fn deliver(folder: &Path, name: &str, text: &str, stamp: u32) {
    std::fs::write(folder.join(name), text).unwrap();
    std::fs::write(
        folder.join(".timestamp"),
        format!("17779{stamp:05}.30267\n"),
    )
    .unwrap();
}

fn options(auth: RemoteAuth) -> SourceOptions {
    SourceOptions {
        format: Format::PaXml,
        timeout: Duration::from_secs(5),
        remote: auth,
        ..SourceOptions::default()
    }
}

fn source(url: &str, auth: RemoteAuth) -> Box<dyn Source> {
    let location = Location::parse(url).unwrap();
    open(&location, &options(auth), Arc::new(demo::parties())).unwrap()
}

async fn changed(s: &mut Box<dyn Source>) -> Snapshot {
    match s.poll().await {
        Ok(Polled::Changed(snap)) => {
            s.commit();
            snap
        }
        other => panic!("expected a change: {other:?}"),
    }
}

fn status_of(snap: &Snapshot, seat: u32) -> Option<DeclarationStatus> {
    let id = ConstituencyId::new(format!("pa:s-2026-05-06:{seat}"));
    snap.declarations
        .iter()
        .find(|d| d.id() == &id)
        .map(|d| d.status)
}

fn refused(r: Result<Polled, SourceError>) -> SourceError {
    match r {
        Err(e) => e,
        Ok(p) => panic!("expected a refusal: {p:?}"),
    }
}

/// The night through a remote folder, whatever the protocol: the same checks for FTP and
/// SFTP, the source's connection going through `relay`.
async fn night(folder: &Path, relay: &Relay, mut s: Box<dyn Source>, data: &Path) {
    let msgs = messages(data);
    // An empty folder is an empty night.
    deliver(folder, "README.txt", "not a message", 0);
    let snap = changed(&mut s).await;
    assert!(snap.declarations.is_empty());
    // Nothing new: `.timestamp` has not moved, and nothing else is asked.
    assert_eq!(s.poll().await.unwrap(), Polled::Unchanged);

    // The rush, then the result that completes it.
    deliver(folder, &msgs[0].0, &msgs[0].1, 1);
    let snap = changed(&mut s).await;
    assert_eq!(status_of(&snap, 20), Some(DeclarationStatus::Called));
    deliver(folder, &msgs[1].0, &msgs[1].1, 2);
    let snap = changed(&mut s).await;
    assert_eq!(status_of(&snap, 20), Some(DeclarationStatus::Declared));
    assert_eq!(s.poll().await.unwrap(), Polled::Unchanged);

    // A file that appears half-written first: refused, nothing applied; once whole, taken.
    let (name, text) = &msgs[2];
    deliver(folder, name, &text[..text.len() / 2], 3);
    let e = refused(s.poll().await);
    assert_eq!(e.cause, FeedCause::malformed, "{e}");
    assert!(e.message.contains(name), "{e}");
    // Still refused while it stays cut, even though `.timestamp` has not moved.
    assert_eq!(refused(s.poll().await).cause, FeedCause::malformed);
    std::fs::write(folder.join(name), text).unwrap();
    let snap = changed(&mut s).await;
    assert_eq!(status_of(&snap, 13), Some(DeclarationStatus::Called));

    // A dropped connection fails the poll; the next one connects afresh.
    relay.cut();
    deliver(folder, &msgs[3].0, &msgs[3].1, 4);
    let mut recovered = None;
    let mut failures = 0;
    for _ in 0..3 {
        match s.poll().await {
            Ok(Polled::Changed(snap)) => {
                s.commit();
                recovered = Some(snap);
                break;
            }
            Ok(Polled::Unchanged) => panic!("the new file was missed"),
            Err(e) => {
                failures += 1;
                assert!(
                    matches!(
                        e.cause,
                        FeedCause::io | FeedCause::connect | FeedCause::timeout
                    ),
                    "{e}"
                );
            }
        }
    }
    assert_eq!(
        failures, 1,
        "the cut is noticed once, then the source reconnects"
    );
    let snap = recovered.expect("the source reconnects after a dropped connection");
    assert_eq!(status_of(&snap, 13), Some(DeclarationStatus::Declared));
    assert_eq!(snap.declarations.len(), 2);
    // Every file was fetched once: a quiet folder stays quiet.
    assert_eq!(s.poll().await.unwrap(), Polled::Unchanged);
}

mod ftp {
    use super::*;
    use libunftp::ServerBuilder;
    use libunftp::options::Shutdown;
    use unftp_core::auth::{AuthenticationError, Authenticator, Credentials, Principal};
    use unftp_sbe_fs::Filesystem;

    /// One user, `herald`, whose logins the test can refuse for a while.
    #[derive(Debug)]
    struct Login {
        refuse: Arc<AtomicBool>,
    }

    #[async_trait::async_trait]
    impl Authenticator for Login {
        async fn authenticate(
            &self,
            user: &str,
            creds: &Credentials,
        ) -> Result<Principal, AuthenticationError> {
            if self.refuse.load(Ordering::SeqCst) {
                return Err(AuthenticationError::BadPassword);
            }
            if user == "herald" && creds.password.as_deref() == Some(PASSWORD) {
                Ok(Principal {
                    username: user.into(),
                })
            } else {
                Err(AuthenticationError::BadPassword)
            }
        }
    }

    struct Server {
        port: u16,
        refuse: Arc<AtomicBool>,
        stop: Option<tokio::sync::oneshot::Sender<()>>,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            if let Some(stop) = self.stop.take() {
                let _ = stop.send(());
            }
        }
    }

    async fn serve(root: PathBuf) -> Server {
        let port = free_port();
        let passive = free_port();
        let refuse = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = ServerBuilder::with_authenticator(
            Box::new(move || Filesystem::new(root.clone()).unwrap()),
            Arc::new(Login {
                refuse: refuse.clone(),
            }),
        )
        .passive_ports(passive..=passive.saturating_add(20))
        .shutdown_indicator(async move {
            let _ = stopped.await;
            Shutdown::new().grace_period(Duration::ZERO)
        })
        .build()
        .unwrap();
        tokio::spawn(server.listen(format!("127.0.0.1:{port}")));
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Server {
            port,
            refuse,
            stop: Some(stop),
        }
    }

    fn auth(password: &str) -> RemoteAuth {
        RemoteAuth {
            password: Some(Secret::new(password)),
            ..RemoteAuth::default()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_ftp_folder_through_a_night_of_faults() {
        let Some(data) = support::shared_data() else {
            return;
        };
        let root = tempfile::tempdir().unwrap();
        let folder = root.path().join("results");
        std::fs::create_dir(&folder).unwrap();
        let server = serve(root.path().to_path_buf()).await;
        let relay = Relay::start(([127, 0, 0, 1], server.port).into()).await;
        let url = format!("ftp://herald@127.0.0.1:{}/results", relay.port);

        // A wrong password is a refused login, and the password never shows. (Asked of the
        // server directly: the relay may pass on the server's close before its answer.)
        let direct = format!("ftp://herald@127.0.0.1:{}/results", server.port);
        let mut wrong = source(&direct, auth("not-the-password"));
        let e = refused(wrong.poll().await);
        assert_eq!(e.cause, FeedCause::connect);
        assert!(e.message.contains("login refused"), "{e}");
        assert!(!e.message.contains("not-the-password"), "{e}");
        assert_eq!(wrong.describe(), format!("{direct} (pa-xml)"));

        // A server that refuses logins for a while: polls fail, then succeed.
        let mut s = source(&url, auth(PASSWORD));
        server.refuse.store(true, Ordering::SeqCst);
        assert_eq!(refused(s.poll().await).cause, FeedCause::connect);
        assert_eq!(refused(s.poll().await).cause, FeedCause::connect);
        server.refuse.store(false, Ordering::SeqCst);

        night(&folder, &relay, s, &data).await;
    }
}

mod sftp {
    use super::*;
    use std::process::{Child, Command, Stdio};

    const SSHD: &str = "/usr/sbin/sshd";

    /// OpenSSH's sshd on a loopback port, for one user (whoever runs the tests), by key.
    struct Sshd {
        child: Child,
        port: u16,
        dir: tempfile::TempDir,
    }

    impl Drop for Sshd {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn keygen(path: &Path) {
        let ok = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(path)
            .status()
            .unwrap()
            .success();
        assert!(ok, "ssh-keygen");
    }

    /// Starts sshd, or says why not: SKIPPED without OpenSSH, unless CI requires it.
    fn start() -> Option<Sshd> {
        if !Path::new(SSHD).is_file() {
            if std::env::var("HERALD_REQUIRE_SSHD").is_ok_and(|v| v == "1") {
                panic!(
                    "{SSHD} is missing and HERALD_REQUIRE_SSHD=1 (apt-get install openssh-server)"
                );
            }
            eprintln!("SKIPPED: no {SSHD} (apt-get install openssh-server)");
            return None;
        }
        // sshd's privilege separation needs this directory (absent in containers).
        let _ = std::fs::create_dir_all("/run/sshd");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        keygen(&d.join("host_key"));
        keygen(&d.join("client_key"));
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
        let port = free_port();
        let config = format!(
            "ListenAddress 127.0.0.1\nPort {port}\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n\
             PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\nLogLevel VERBOSE\n",
            d = d.display()
        );
        std::fs::write(d.join("sshd_config"), config).unwrap();
        let mut child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Ready once it listens.
        let stderr = child.stderr.take().unwrap();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if line.contains("Server listening") {
                    let _ = ready_tx.send(());
                }
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("sshd listens");
        Some(Sshd { child, port, dir })
    }

    fn user() -> String {
        let out = Command::new("id").arg("-un").output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_sftp_folder_through_a_night_of_faults() {
        let Some(data) = support::shared_data() else {
            return;
        };
        let Some(sshd) = start() else {
            return;
        };
        let d = sshd.dir.path();
        let folder = d.join("results");
        std::fs::create_dir(&folder).unwrap();
        let relay = Relay::start(([127, 0, 0, 1], sshd.port).into()).await;
        let url = format!(
            "sftp://{}@127.0.0.1:{}{}",
            user(),
            relay.port,
            folder.display()
        );
        let host_key = std::fs::read_to_string(d.join("host_key.pub")).unwrap();
        let mut key_fields = host_key.split_whitespace();
        let (kind, key) = (key_fields.next().unwrap(), key_fields.next().unwrap());

        // A server not in the known-hosts file is refused, with its fingerprint.
        std::fs::write(d.join("known_hosts"), "").unwrap();
        let auth = RemoteAuth {
            key_file: Some(d.join("client_key")),
            known_hosts: Some(d.join("known_hosts")),
            ..RemoteAuth::default()
        };
        let e = refused(source(&url, auth.clone()).poll().await);
        assert_eq!(e.cause, FeedCause::connect);
        assert!(
            e.message.contains("is not in") && e.message.contains("SHA256:"),
            "{e}"
        );

        // Another key under its name: refused as a changed server.
        std::fs::write(
            d.join("known_hosts"),
            format!(
                "[127.0.0.1]:{} {kind} {}\n",
                relay.port,
                std::fs::read_to_string(d.join("client_key.pub"))
                    .unwrap()
                    .split_whitespace()
                    .nth(1)
                    .unwrap()
            ),
        )
        .unwrap();
        let e = refused(source(&url, auth.clone()).poll().await);
        assert!(e.message.contains("is not the one"), "{e}");

        // A key that is not authorised: a refused login.
        std::fs::write(
            d.join("known_hosts"),
            format!("[127.0.0.1]:{} {kind} {key}\n", relay.port),
        )
        .unwrap();
        keygen(&d.join("stranger_key"));
        let stranger = RemoteAuth {
            key_file: Some(d.join("stranger_key")),
            ..auth.clone()
        };
        let e = refused(source(&url, stranger).poll().await);
        assert!(e.message.contains("login refused"), "{e}");

        night(&folder, &relay, source(&url, auth), &data).await;
    }
}
