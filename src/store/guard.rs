//! What keeps a store trustworthy while herald runs: one process per store file (an
//! exclusive lock on `<store>.lock`, held for the process's life and released by the OS
//! however the process ends; a PostgreSQL store's lock is in `postgres.rs`), the file still being the one opened (not deleted or replaced
//! under herald), and the outcome of the last write. The sinks ask [`Guard::fault`] before
//! they post, so that nothing is announced that the store could not record, and `/healthz`
//! reports the same reason.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::StoreError;

/// The store file's identity: (device, inode).
type Identity = (u64, u64);

#[derive(Default)]
struct Faults {
    /// The file was deleted or replaced: nothing written from now on would survive a
    /// restart. It stays until herald is restarted.
    file: Option<String>,
    /// The last write failed (a full disk, a read-only file system, a store busy too long);
    /// cleared by the next write that succeeds.
    write: Option<String>,
}

pub(super) struct Guard {
    path: Option<PathBuf>,
    identity: Option<Identity>,
    /// Held, never read: the lock lasts as long as this file stays open.
    _lock: Option<File>,
    faults: Mutex<Faults>,
}

fn identity(path: &Path) -> std::io::Result<Identity> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)?;
    Ok((m.dev(), m.ino()))
}

/// The lock file beside a store: `herald.db` → `herald.db.lock`.
pub fn lock_path(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl Guard {
    /// A guard for an in-memory store: no file, no lock.
    pub(super) fn memory() -> Guard {
        Guard {
            path: None,
            identity: None,
            _lock: None,
            faults: Mutex::new(Faults::default()),
        }
    }

    /// Takes the store's lock, or says which process holds it.
    pub(super) fn lock(path: &Path) -> Result<File, StoreError> {
        let lock = lock_path(path);
        let open_error = |e: std::io::Error| StoreError::Open {
            path: path.display().to_string(),
            detail: format!("cannot open its lock file {}: {e}", lock.display()),
        };
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock)
            .map_err(open_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(StoreError::InUse {
                    path: path.display().to_string(),
                    holder: (!holder.is_empty()).then(|| holder.chars().take(80).collect()),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(open_error(e)),
        }
        // Who holds it, for the message a second process prints.
        let _ = file.set_len(0);
        let _ = write!(file, "pid {}", std::process::id());
        let _ = file.flush();
        Ok(file)
    }

    /// A guard for a store file already opened, holding its lock.
    pub(super) fn file(path: &Path, lock: File) -> Result<Guard, StoreError> {
        let identity = identity(path).map_err(|e| StoreError::Open {
            path: path.display().to_string(),
            detail: e.to_string(),
        })?;
        Ok(Guard {
            path: Some(path.to_path_buf()),
            identity: Some(identity),
            _lock: Some(lock),
            faults: Mutex::new(Faults::default()),
        })
    }

    /// Whether the store is a file (not in memory).
    pub(super) fn is_file(&self) -> bool {
        self.path.is_some()
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Why the store cannot be trusted with a write now, if it cannot.
    pub(super) fn fault(&self) -> Option<String> {
        let f = self.faults();
        f.file.clone().or_else(|| f.write.clone())
    }

    /// Makes `problem` a fault that lasts until restart (as a deleted store file is).
    pub(super) fn fail_for_good(&self, problem: String) {
        let mut f = self.faults();
        if f.file.is_none() {
            tracing::error!("{problem}");
            f.file = Some(problem);
        }
    }

    /// Notes a write's outcome: a failure is a fault until a later write succeeds.
    pub(super) fn wrote<T>(&self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        let mut f = self.faults();
        match &r {
            Ok(_) => {
                if let Some(was) = f.write.take() {
                    tracing::info!("store writable again (was: {was})");
                }
            }
            Err(e) => {
                let now = format!("a write to the store failed: {e}");
                if f.write.as_deref() != Some(now.as_str()) {
                    tracing::error!("{now}");
                }
                f.write = Some(now);
            }
        }
        r
    }

    /// Checks that the path still names the file herald opened, and that no fault that
    /// lasts until restart was found. A deleted or replaced store is one.
    pub(super) fn check_file(&self) -> Result<(), StoreError> {
        if let Some(f) = &self.faults().file {
            return Err(StoreError::Fault(f.clone()));
        }
        let (Some(path), Some(id)) = (&self.path, self.identity) else {
            return Ok(());
        };
        let problem = match identity(path) {
            Ok(now) if now == id => return Ok(()),
            Ok(_) => format!(
                "the store file {} was replaced by another file while herald was running",
                path.display()
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => format!(
                "the store file {} was deleted while herald was running",
                path.display()
            ),
            Err(e) => {
                let problem = format!("the store file {} cannot be checked: {e}", path.display());
                self.faults().write = Some(problem.clone());
                return Err(StoreError::Fault(problem));
            }
        };
        let problem = format!(
            "{problem}: nothing more is recorded or announced, since it would be lost; restart herald"
        );
        tracing::error!("{problem}");
        self.faults().file = Some(problem.clone());
        Err(StoreError::Fault(problem))
    }
}
