//! The stores' options as data, filled by the bindings as `ClientOptions` is.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::Error;
use crate::options::{self, Checked, Face, Kind, OptionInfo, Value};
use crate::seal::EncryptionKey;

use super::FileStore;

/// The options of a [`FileStore`] or a `RedisStore`, besides where it is (path, URL and
/// account, which every face takes as arguments).
#[derive(Debug, Default)]
pub struct StoreOptions {
    /// Seal every record under this key.
    pub encryption_key: Option<EncryptionKey>,
    /// Redis only: the key prefix (default `RedisStore::DEFAULT_PREFIX`).
    pub prefix: Option<String>,
    /// Redis only: how long to wait to connect, and for each answer.
    pub timeout: Option<Duration>,
}

const ENCRYPTION_KEY: OptionInfo = OptionInfo::new(
    "encryption_key",
    Kind::Key,
    "Seal every record with XChaCha20-Poly1305 under this key: 32 bytes, or 64 hex digits or the base64 of 32 bytes.",
);

impl StoreOptions {
    /// Every option of a `FileStore`.
    pub const FILE_OPTIONS: &'static [OptionInfo] = &[ENCRYPTION_KEY];

    /// Every option of a `RedisStore`.
    pub const REDIS_OPTIONS: &'static [OptionInfo] = &[
        OptionInfo::new(
            "prefix",
            Kind::Text,
            "Key prefix (default \"oauth-refresh\"); may not contain { or }.",
        ),
        OptionInfo::new(
            "timeout",
            Kind::Duration,
            "How long to wait to connect, and for each answer (default 2 s).",
        ),
        ENCRYPTION_KEY,
    ];

    /// Sets a `FileStore` option `name`, as `face` spells it.
    pub fn set_file(&mut self, face: Face, name: &str, value: Value) -> Result<(), Error> {
        self.set(Self::FILE_OPTIONS, "FileStore", face, name, value)
    }

    /// Sets a `RedisStore` option `name`, as `face` spells it.
    pub fn set_redis(&mut self, face: Face, name: &str, value: Value) -> Result<(), Error> {
        self.set(Self::REDIS_OPTIONS, "RedisStore", face, name, value)
    }

    fn set(
        &mut self,
        table: &[OptionInfo],
        what: &str,
        face: Face,
        name: &str,
        value: Value,
    ) -> Result<(), Error> {
        options::set(table, what, face, name, value, None, |option, value| {
            match (option, value) {
                ("encryption_key", Checked::Key(k)) => self.encryption_key = Some(*k),
                ("prefix", Checked::Text(v)) => self.prefix = Some(v),
                ("timeout", Checked::Duration(v)) => {
                    self.timeout = Some(options::positive(name, v)?)
                }
                (option, _) => return Err(options::mismatch(option)),
            }
            Ok(())
        })
    }

    /// A file store at `path` with these options; `invalid_input` for an empty path or one
    /// holding a NUL byte (no file could have that name).
    pub fn file(self, path: impl Into<PathBuf>) -> Result<FileStore, Error> {
        let path = path.into();
        if path.as_os_str().is_empty() || path.as_os_str().as_encoded_bytes().contains(&0) {
            return Err(Error::invalid_input(
                "a FileStore path must be a non-empty file name without NUL bytes",
            ));
        }
        let store = FileStore::new(path);
        Ok(match self.encryption_key {
            Some(key) => store.with_encryption(key),
            None => store,
        })
    }

    /// A Redis store at `url` with these options: for `account`, or (`None`) for every
    /// account, as [`AccountTokens`](crate::AccountTokens) takes it.
    #[cfg(feature = "redis")]
    pub fn redis(self, url: &str, account: Option<&str>) -> Result<super::RedisStore, Error> {
        let mut store = match account {
            Some(account) => super::RedisStore::new(url, account)?,
            None => super::RedisStore::for_accounts(url)?,
        };
        if let Some(prefix) = self.prefix {
            store = store.with_prefix(&prefix)?;
        }
        if let Some(timeout) = self.timeout {
            store = store.with_timeout(timeout)?;
        }
        Ok(match self.encryption_key {
            Some(key) => store.with_encryption(key),
            None => store,
        })
    }
}
