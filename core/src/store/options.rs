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
    /// Redis and PostgreSQL: how long to wait to connect, and for each answer.
    pub timeout: Option<Duration>,
    /// PostgreSQL only: the table (default `PostgresStore::DEFAULT_TABLE`).
    pub table: Option<String>,
    /// PostgreSQL only: create the table on first use (default true).
    pub create_table: Option<bool>,
    /// PostgreSQL only: the most connections open at once (default 4).
    pub max_connections: Option<u32>,
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

    /// Every option of a `PostgresStore`.
    pub const POSTGRES_OPTIONS: &'static [OptionInfo] = &[
        OptionInfo::new(
            "table",
            Kind::Text,
            "The table, `name` or `schema.name` (default \"oauth_refresh_tokens\").",
        ),
        OptionInfo::new(
            "create_table",
            Kind::Bool,
            "Create the table on first use (default true; false if you run the schema yourself).",
        ),
        OptionInfo::new(
            "max_connections",
            Kind::Count,
            "The most connections open at once, shared by every account (default 4; at least 1).",
        ),
        OptionInfo::new(
            "timeout",
            Kind::Duration,
            "How long to wait to connect, for a free connection, and for each statement (default 5 s).",
        ),
        ENCRYPTION_KEY,
    ];

    /// Sets a `PostgresStore` option `name`, as `face` spells it.
    pub fn set_postgres(&mut self, face: Face, name: &str, value: Value) -> Result<(), Error> {
        self.set(Self::POSTGRES_OPTIONS, "PostgresStore", face, name, value)
    }

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
                ("table", Checked::Text(v)) => self.table = Some(v),
                ("create_table", Checked::Bool(v)) => self.create_table = Some(v),
                ("max_connections", Checked::Count(0)) => {
                    return Err(Error::invalid_input(format!("{name} must be at least 1")))
                }
                ("max_connections", Checked::Count(v)) => self.max_connections = Some(v),
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

    /// A PostgreSQL store at `url` with these options: for `account`, or (`None`) for every
    /// account, as [`AccountTokens`](crate::AccountTokens) takes it.
    #[cfg(feature = "postgres")]
    pub fn postgres(self, url: &str, account: Option<&str>) -> Result<super::PostgresStore, Error> {
        let mut store = match account {
            Some(account) => super::PostgresStore::new(url, account)?,
            None => super::PostgresStore::for_accounts(url)?,
        };
        if let Some(table) = self.table {
            store = store.with_table(&table)?;
        }
        if let Some(create) = self.create_table {
            store = store.with_create_table(create);
        }
        if let Some(max) = self.max_connections {
            store = store.with_max_connections(max as usize)?;
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
