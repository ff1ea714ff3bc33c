//! A JSON file shared by the processes of one host.

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{
    hex, refresh_token_of, store_error, token_from_record, AccountStore, Lease, TokenStore,
};
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
///
/// Given to [`AccountTokens`](crate::AccountTokens), `path` is a directory (created, mode
/// 0700, when missing) holding one such file per account, named `<account>.token` with the
/// account encoded (see [`account_file_name`]).
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

/// The file name of `account`'s token in a directory store: `[a-z0-9_-]` as they are, every
/// other byte as `%XX` (uppercase hex), then `.token`. So every name is one safe path
/// component (no `/`, no `.` or `..`, no hidden file), two accounts never share a file, even
/// on a file system that ignores case, and the account can be read back from the name.
/// `invalid_input` when the encoded account is longer than 200 bytes (file names stop at 255).
pub fn account_file_name(account: &str) -> Result<String, Error> {
    let mut name = String::with_capacity(account.len() + 6);
    for &byte in account.as_bytes() {
        match byte {
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => name.push(char::from(byte)),
            _ => name.push_str(&format!("%{byte:02X}")),
        }
    }
    if account.is_empty() || name.len() > 200 {
        return Err(Error::invalid_input(
            "a FileStore account must be 1 to 200 bytes once encoded for a file name",
        ));
    }
    name.push_str(ACCOUNT_SUFFIX);
    Ok(name)
}

const ACCOUNT_SUFFIX: &str = ".token";

/// The account a directory store's file name holds (`account_file_name` undone); `None` for
/// any other file (lock files, temporary files, strangers).
fn account_of_file_name(name: &str) -> Option<String> {
    let encoded = name.strip_suffix(ACCOUNT_SUFFIX)?;
    let mut account = Vec::with_capacity(encoded.len());
    let mut bytes = encoded.bytes();
    while let Some(byte) = bytes.next() {
        match byte {
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => account.push(byte),
            b'%' => {
                let pair = [bytes.next()?, bytes.next()?];
                let pair = std::str::from_utf8(&pair).ok()?;
                if pair.bytes().any(|b| b.is_ascii_lowercase()) {
                    return None;
                }
                account.push(u8::from_str_radix(pair, 16).ok()?);
            }
            _ => return None,
        }
    }
    let account = String::from_utf8(account).ok()?;
    // Only names this store writes: the encoding is unique.
    (account_file_name(&account).ok()? == name).then_some(account)
}

impl AccountStore for FileStore {
    fn account(&self, account: &str) -> Result<std::sync::Arc<dyn TokenStore>, Error> {
        let name = account_file_name(account)?;
        if !self.path.is_dir() {
            create_private_dir(&self.path)?;
        }
        Ok(std::sync::Arc::new(FileStore {
            path: self.path.join(name),
            key: self.key.clone(),
        }))
    }

    fn accounts(&self) -> Result<Vec<String>, Error> {
        let entries = match std::fs::read_dir(&self.path) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error("list", &self.path, e)),
        };
        let mut accounts = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error("list", &self.path, e))?;
            if let Some(account) = entry.file_name().to_str().and_then(account_of_file_name) {
                accounts.push(account);
            }
        }
        accounts.sort_unstable();
        Ok(accounts)
    }

    fn remove(&self, account: &str) -> Result<bool, Error> {
        let path = self.path.join(account_file_name(account)?);
        // The lock files stay: another process may hold them, and a new file at their name
        // would let a second refresher in.
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_error("remove", &path, e)),
        }
    }
}

fn create_private_dir(path: &Path) -> Result<(), Error> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(path)
        .map_err(|e| io_error("create the directory", path, e))
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

/// Property tests for account file names; `make fuzz` runs them with many more cases.
#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::{account_file_name, account_of_file_name};

    proptest! {
        #[test]
        fn account_file_names_are_safe_unique_and_read_back(
            a in any::<String>(), b in any::<String>()
        ) {
            match account_file_name(&a) {
                Ok(name) => {
                    prop_assert!(!name.contains('/') && !name.starts_with('.'));
                    prop_assert!(name.len() <= 206 && name.ends_with(".token"));
                    prop_assert_eq!(account_of_file_name(&name), Some(a.clone()));
                    if let Ok(other) = account_file_name(&b) {
                        // Unique even where the file system ignores case.
                        prop_assert_eq!(name.to_lowercase() == other.to_lowercase(), a == b);
                    }
                }
                Err(_) => prop_assert!(a.is_empty() || a.len() > 66),
            }
        }

        #[test]
        fn only_names_the_store_writes_are_accounts(name in "\\PC{0,20}") {
            if let Some(account) = account_of_file_name(&name) {
                prop_assert_eq!(account_file_name(&account).unwrap(), name);
            }
        }
    }

    #[test]
    fn readable_accounts_stay_readable() {
        assert_eq!(
            account_file_name("company-123").unwrap(),
            "company-123.token"
        );
        assert_eq!(
            account_file_name("../A b").unwrap(),
            "%2E%2E%2F%41%20b.token"
        );
        assert_eq!(account_of_file_name("x.token.lock"), None);
        assert_eq!(account_of_file_name("%2e.token"), None);
    }
}
