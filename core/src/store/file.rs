//! A JSON file shared by the processes of one host.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{refresh_token_of, store_error, token_from_record, Lease, TokenStore};
use crate::error::Error;
use crate::seal::{maybe_seal, EncryptionKey};
use crate::secret::Secret;
use crate::token::Token;

/// What the sealed file's contents are bound to (see [`EncryptionKey`]).
const SEAL_CONTEXT: &str = "oauth-refresh file";

/// Keeps the token in a JSON file (mode 0600) shared by the processes of one host.
///
/// Writes go to a temporary file that is synced and renamed over the old one, so a reader
/// never sees half a file and a crash leaves the old token or the new one. Refreshers take
/// an advisory lock (`<file>.lease`), which the kernel releases if the holder dies; writes
/// take another (`<file>.lock`).
///
/// With [`with_encryption`](Self::with_encryption) the file holds the token sealed, not JSON.
pub struct FileStore {
    path: PathBuf,
    key: Option<EncryptionKey>,
}

impl FileStore {
    /// A store at `path`. Nothing is created until the first write.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileStore {
            path: path.into(),
            key: None,
        }
    }

    /// Seals the token under `key` before it is written, and opens it when read.
    pub fn with_encryption(mut self, key: EncryptionKey) -> Self {
        self.key = Some(key);
        self
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

    fn read(&self) -> Result<Option<Token>, Error> {
        let path = &self.path;
        let text = match std::fs::read_to_string(path) {
            Ok(text) => Secret::new(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(store_error(format!("cannot read {}: {e}", path.display()))),
        };
        token_from_record(
            self.key.as_ref(),
            text.expose(),
            SEAL_CONTEXT,
            &path.display(),
        )
        .map(Some)
    }

    fn write(&self, token: &Token) -> Result<(), Error> {
        let tmp = self.sibling(&format!(".tmp.{}", std::process::id()));
        let contents = maybe_seal(self.key.as_ref(), &token.to_stored_json(), SEAL_CONTEXT)?;
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
        file.write_all(contents.expose().as_bytes())
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

impl TokenStore for FileStore {
    fn load(&self) -> Result<Option<Token>, Error> {
        self.read()
    }

    fn compare_and_swap(&self, expected: Option<&str>, new: &Token) -> Result<bool, Error> {
        let lock = self.open_lock(".lock")?;
        lock.lock()
            .map_err(|e| store_error(format!("cannot lock the token file: {e}")))?;
        let current = self.read()?;
        if refresh_token_of(current.as_ref()) != expected {
            return Ok(false);
        }
        self.write(new)?;
        Ok(true)
    }

    fn lease(&self, _ttl: Duration, wait: Duration) -> Result<Option<Box<dyn Lease>>, Error> {
        let file = self.open_lock(".lease")?;
        let deadline = Instant::now() + wait.min(crate::limits::MAX_DURATION);
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
