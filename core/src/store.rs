//! Where a [`TokenManager`](crate::TokenManager) keeps the current token, and how processes
//! sharing it take turns refreshing.
//!
//! Two primitives, nothing file-specific, so a networked store (Redis, a database) can
//! implement them too: a compare-and-swap keyed on the refresh token that was used, and a
//! lease that one refresher holds at a time.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorCode, RefreshTokenState};
use crate::token::Token;

/// The lease on refreshing; released when dropped.
pub trait Lease: Send {}

/// A place to keep one account's token, shared by everyone who refreshes it.
pub trait TokenStore: Send + Sync {
    /// The stored token, if any.
    fn load(&self) -> Result<Option<Token>, Error>;

    /// Stores `new` if the stored token's refresh token is still `expected` (`None`: if the
    /// store is empty). Returns whether it stored: `false` means someone else changed it.
    fn compare_and_swap(&self, expected: Option<&str>, new: &Token) -> Result<bool, Error>;

    /// Waits up to `wait` for the refresh lease. `ttl` bounds how long a holder that died
    /// keeps it (stores whose locks die with their holder may ignore it). `None`: not
    /// acquired in time.
    fn lease(&self, ttl: Duration, wait: Duration) -> Result<Option<Box<dyn Lease>>, Error>;
}

pub(crate) fn store_error(message: String) -> Error {
    Error::new(ErrorCode::StoreFailed, RefreshTokenState::Unused, message)
}

fn refresh_token_of(token: Option<&Token>) -> Option<&str> {
    token.and_then(Token::refresh_token)
}

/// Keeps the token in this process only (the default).
#[derive(Default)]
pub struct MemoryStore {
    token: Mutex<Option<Token>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }
}

impl TokenStore for MemoryStore {
    fn load(&self) -> Result<Option<Token>, Error> {
        Ok(self.token.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    fn compare_and_swap(&self, expected: Option<&str>, new: &Token) -> Result<bool, Error> {
        let mut token = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if refresh_token_of(token.as_ref()) != expected {
            return Ok(false);
        }
        *token = Some(new.clone());
        Ok(true)
    }

    fn lease(&self, _ttl: Duration, _wait: Duration) -> Result<Option<Box<dyn Lease>>, Error> {
        // One process: the manager's own single-flight already serializes refreshes.
        Ok(Some(Box::new(NoLease)))
    }
}

struct NoLease;

impl Lease for NoLease {}

/// Keeps the token in a JSON file (mode 0600) shared by the processes of one host.
///
/// Writes go to a temporary file that is synced and renamed over the old one, so a reader
/// never sees half a file and a crash leaves the old token or the new one. Refreshers take
/// an advisory lock (`<file>.lease`), which the kernel releases if the holder dies; writes
/// take another (`<file>.lock`).
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// A store at `path`. Nothing is created until the first write.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileStore { path: path.into() }
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(suffix);
        self.path.with_file_name(name)
    }

    fn open_lock(&self, suffix: &str) -> Result<File, Error> {
        let path = self.sibling(suffix);
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode_0600()
            .open(&path)
            .map_err(|e| store_error(format!("cannot open {}: {e}", path.display())))
    }

    fn write(&self, token: &Token) -> Result<(), Error> {
        let tmp = self.sibling(&format!(".tmp.{}", std::process::id()));
        let fail = |what: &str, e: std::io::Error| {
            store_error(format!("cannot {what} {}: {e}", tmp.display()))
        };
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode_0600()
            .open(&tmp)
            .map_err(|e| fail("create", e))?;
        file.write_all(token.to_stored_json().expose().as_bytes())
            .map_err(|e| fail("write", e))?;
        file.sync_all().map_err(|e| fail("sync", e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| fail("rename", e))?;
        // The rename itself must survive a crash too.
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| fail("sync the directory of", e))?;
        }
        Ok(())
    }
}

trait Mode0600 {
    fn mode_0600(&mut self) -> &mut Self;
}

impl Mode0600 for OpenOptions {
    fn mode_0600(&mut self) -> &mut Self {
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(self, 0o600);
        self
    }
}

struct FileLease(#[allow(dead_code)] File);

impl Lease for FileLease {}

fn read_token(path: &Path) -> Result<Option<Token>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Token::from_stored_json(&text)
            .map(Some)
            .ok_or_else(|| store_error(format!("{} does not hold a stored token", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(store_error(format!("cannot read {}: {e}", path.display()))),
    }
}

impl TokenStore for FileStore {
    fn load(&self) -> Result<Option<Token>, Error> {
        read_token(&self.path)
    }

    fn compare_and_swap(&self, expected: Option<&str>, new: &Token) -> Result<bool, Error> {
        let lock = self.open_lock(".lock")?;
        lock.lock()
            .map_err(|e| store_error(format!("cannot lock the token file: {e}")))?;
        let current = read_token(&self.path)?;
        if refresh_token_of(current.as_ref()) != expected {
            return Ok(false);
        }
        self.write(new)?;
        Ok(true)
    }

    fn lease(&self, _ttl: Duration, wait: Duration) -> Result<Option<Box<dyn Lease>>, Error> {
        let file = self.open_lock(".lease")?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(Box::new(FileLease(file)))),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(store_error(format!("cannot lock the lease file: {e}")))
                }
            }
        }
    }
}
