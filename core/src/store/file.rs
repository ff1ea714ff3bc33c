//! A JSON file shared by the processes of one host.

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{hex, refresh_token_of, store_error, token_from_record, Lease, TokenStore};
use crate::error::Error;
use crate::seal::{maybe_seal, EncryptionKey};
use crate::secret::Secret;
use crate::token::Token;

/// Keeps the token in a JSON file (mode 0600) shared by the processes of one host.
///
/// Writes go to a temporary file that is synced and renamed over the old one, so a reader
/// never sees half a file and a crash leaves the old token or the new one. Refreshers take
/// an advisory lock (`<file>.lease`), which the kernel releases if the holder dies; writes
/// take another (`<file>.lock`).
///
/// Someone who can write to the directory cannot redirect these files: the temporary file
/// has a random name and is created only if nothing is at that path, the lock files are
/// never opened through a symbolic link, and each is set to 0600 on the open descriptor
/// (so the token file is 0600 after every write, whatever mode it had before). A write
/// that fails leaves no temporary file behind.
///
/// With [`with_encryption`](Self::with_encryption) the file holds the token sealed, not JSON.
/// The sealed record is bound to the file's name, not to its directory: copied over a file
/// of another name (another account's) it does not open
/// ([`StoreDecrypt`](crate::ErrorCode::StoreDecrypt)), while a directory of token files can
/// be moved or restored elsewhere as a whole.
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

    fn file_name(&self) -> &OsStr {
        self.path.file_name().unwrap_or_default()
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut name = self.file_name().to_os_string();
        name.push(suffix);
        self.path.with_file_name(name)
    }

    /// What a sealed record is bound to: the file's name (see the type's doc). File names
    /// hold no NUL, so the label cannot run into the name.
    fn seal_context(&self) -> Vec<u8> {
        let mut context = b"oauth-refresh file\0".to_vec();
        context.extend_from_slice(self.file_name().as_encoded_bytes());
        context
    }

    fn open_lock(&self, suffix: &str) -> Result<File, Error> {
        let path = self.sibling(suffix);
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .private()
            .open(&path)
            .and_then(|file| restrict(&file).map(|()| file))
            .map_err(|e| io_error("open", &path, e))
    }

    fn read(&self) -> Result<Option<Token>, Error> {
        let path = &self.path;
        let text = match std::fs::read_to_string(path) {
            Ok(text) => Secret::new(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("read", path, e)),
        };
        token_from_record(
            self.key.as_ref(),
            text.expose(),
            &self.seal_context(),
            &path.display(),
        )
        .map(Some)
    }

    fn write(&self, token: &Token) -> Result<(), Error> {
        let contents = maybe_seal(
            self.key.as_ref(),
            &token.to_stored_json(),
            &self.seal_context(),
        )?;
        let mut tmp = self.create_temp()?;
        tmp.file
            .write_all(contents.expose().as_bytes())
            .map_err(|e| io_error("write", &tmp.path, e))?;
        tmp.file
            .sync_all()
            .map_err(|e| io_error("sync", &tmp.path, e))?;
        std::fs::rename(&tmp.path, &self.path).map_err(|e| io_error("rename", &tmp.path, e))?;
        tmp.renamed = true;
        // The rename itself must survive a crash too.
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| io_error("sync the directory", dir, e))?;
        }
        Ok(())
    }

    /// A new, empty, 0600 file next to the token file, at a name nobody can predict.
    fn create_temp(&self) -> Result<TempFile, Error> {
        let mut random = [0u8; 16];
        getrandom::fill(&mut random)
            .map_err(|e| store_error(format!("no randomness for a temporary file name: {e}")))?;
        let path = self.sibling(&format!(".tmp.{}", hex(&random)));
        // `create_new`: fails if anything, a symbolic link included, is already there.
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .private()
            .open(&path)
            .map_err(|e| io_error("create", &path, e))?;
        let tmp = TempFile {
            path,
            file,
            renamed: false,
        };
        // The umask may only have narrowed the mode; set it exactly.
        restrict(&tmp.file).map_err(|e| io_error("set the mode of", &tmp.path, e))?;
        Ok(tmp)
    }
}

/// A temporary file holding the token until it is renamed into place; removed on every
/// other path (a failed write, sync or rename, or a panic), so no copy of the token is left.
struct TempFile {
    path: PathBuf,
    file: File,
    renamed: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A store error naming the path (never what was in the file).
fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::ELOOP) {
        return store_error(format!(
            "cannot {what} {}: it is a symbolic link, which is never followed",
            path.display()
        ));
    }
    store_error(format!("cannot {what} {}: {e}", path.display()))
}

trait Private {
    /// Created with mode 0600; never opened through a symbolic link.
    fn private(&mut self) -> &mut Self;
}

impl Private for OpenOptions {
    fn private(&mut self) -> &mut Self {
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            self.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        self
    }
}

/// Sets an open file's mode to 0600 (fchmod: the descriptor, not a path that could be
/// swapped). The mode given at creation applies only to a file that did not exist yet.
fn restrict(file: &File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Only when needed: a lock file another user created is theirs to chmod.
        if file.metadata()?.permissions().mode() & 0o7777 != 0o600 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
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
