//! Tokens in Redis, shared by the processes of many hosts: one account's
//! ([`RedisStore::new`]) or every account's ([`RedisStore::for_accounts`], one connection
//! for all of them).
//!
//! Keys, for prefix `P` and account `A` (made by `keys`):
//! - `P:{A}:token`, a hash: `token` (the stored JSON, sealed when encrypting), `rt` (the
//!   SHA-256 of its refresh token, so that a script can compare without the token),
//!   `expires_at` (unix milliseconds, empty if unknown) and `version` (bumped by every write);
//! - `P:{A}:lease`, a string: the owner (`pid:random`) of the refresh lease, with a TTL.
//!
//! The braces are literal: `{A}` is the keys' Redis Cluster hash tag, so one account's two
//! keys live in one slot (the scripts touch both). In `A` the account is percent-encoded for
//! `%`, `{`, `}`, space and every byte outside printable ASCII (`company-123` stays as it
//! is), and the prefix may not contain a brace, so no two (prefix, account) pairs share a
//! key.
//!
//! Every operation is idempotent, so one that failed on a connection broken by a Redis
//! restart is retried once on a new connection without doing anything twice.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use redis::io::tcp::TcpSettings;
use redis::{Connection, IntoConnectionInfo, RedisError, RetryMethod, Script};

use super::renewer::RenewedLease;
use super::{
    fingerprint, lease_owner, poll_lease, store_error, token_from_record, AccountStore, Lease,
    Leased, TokenStore,
};
use crate::error::{Error, ErrorCode, RefreshTokenState};
use crate::seal::{maybe_seal, EncryptionKey};
use crate::token::Token;

/// Writes the new token only if the stored refresh token is still the expected one.
/// Returns the new version; -1 if the store already holds the new token (a retried call);
/// 0 if someone else changed it.
const COMPARE_AND_SWAP: &str = r"
local current = redis.call('HGET', KEYS[1], 'rt') or ''
if current == ARGV[1] then
  local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
  redis.call('HSET', KEYS[1], 'token', ARGV[3], 'rt', ARGV[2], 'expires_at', ARGV[4])
  return version
end
if ARGV[2] ~= '' and current == ARGV[2] then return -1 end
return 0
";

/// `COMPARE_AND_SWAP`, then `RELEASE`: a coordinated refresh's write and release in one
/// round trip. KEYS: token, lease; ARGV: as `COMPARE_AND_SWAP`, then the lease's owner.
const COMPARE_AND_SWAP_RELEASING: &str = r"
local current = redis.call('HGET', KEYS[1], 'rt') or ''
local result = 0
if current == ARGV[1] then
  result = redis.call('HINCRBY', KEYS[1], 'version', 1)
  redis.call('HSET', KEYS[1], 'token', ARGV[3], 'rt', ARGV[2], 'expires_at', ARGV[4])
elseif ARGV[2] ~= '' and current == ARGV[2] then
  result = -1
end
if redis.call('GET', KEYS[2]) == ARGV[5] then redis.call('DEL', KEYS[2]) end
return result
";

/// Takes the lease if it is free or already ours (a retried call). Returns whether it did
/// and, if so, the stored token record ('' if none), saving a round trip.
const ACQUIRE: &str = r"
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
   and redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {0, ''}
end
return {1, redis.call('HGET', KEYS[2], 'token') or ''}
";

/// Extends the lease only if it is still ours.
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
";

/// Deletes the lease only if it is still ours: after our TTL ran out it may be another's.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// Keeps the token in Redis: one refresher at a time across every host, through a lease
/// with a TTL, and a compare-and-swap keyed on the refresh token that was used.
///
/// Connects lazily and reconnects after a failure, so once a restarted Redis is back no
/// call fails. A Redis that cannot be reached is [`ErrorCode::StoreUnavailable`].
pub struct RedisStore {
    inner: Arc<Inner>,
}

/// One account's keys, over the connection every account of the store shares.
struct Inner {
    shared: Arc<Shared>,
    /// Empty for a store of every account ([`RedisStore::for_accounts`]).
    account: String,
    token_key: String,
    lease_key: String,
}

/// What every account of one store shares: the connection, the prefix, the key.
struct Shared {
    client: redis::Client,
    connection: Mutex<Option<Connection>>,
    prefix: String,
    key: Option<EncryptionKey>,
    timeout: Duration,
    /// Requests sent (each waits for its answer: one round trip), for metrics.
    round_trips: AtomicU64,
}

/// The scripts, hashed once per process (Redis runs them by that hash, `EVALSHA`).
struct Scripts {
    compare_and_swap: Script,
    compare_and_swap_releasing: Script,
    acquire: Script,
    renew: Script,
    release: Script,
}

static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    compare_and_swap: Script::new(COMPARE_AND_SWAP),
    compare_and_swap_releasing: Script::new(COMPARE_AND_SWAP_RELEASING),
    acquire: Script::new(ACQUIRE),
    renew: Script::new(RENEW),
    release: Script::new(RELEASE),
});

impl RedisStore {
    /// The default wait to connect, and for each answer.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
    /// The default key prefix.
    pub const DEFAULT_PREFIX: &'static str = "oauth-refresh";
}

impl RedisStore {
    /// A store for `account` at `url` (`redis://[user:password@]host:port[/db]`, or
    /// `unix:///path`), under [`DEFAULT_PREFIX`](Self::DEFAULT_PREFIX). Nothing is connected
    /// until first use.
    ///
    /// The keys are `<prefix>:{<account>}:token` and `...:lease`, with literal braces around
    /// the percent-encoded account (see [`token_key`](Self::token_key)). `invalid_input`
    /// when the account is empty.
    pub fn new(url: &str, account: &str) -> Result<Self, Error> {
        let [token_key, lease_key] = keys(Self::DEFAULT_PREFIX, account)?;
        let mut store = Self::for_accounts(url)?;
        store.map_inner(|inner| {
            inner.account = account.to_owned();
            inner.token_key = token_key;
            inner.lease_key = lease_key;
        });
        Ok(store)
    }

    /// A store of every account at `url`, for [`AccountTokens`](crate::AccountTokens): one
    /// connection, shared by all of them. Nothing is connected until first use.
    pub fn for_accounts(url: &str) -> Result<Self, Error> {
        // The URL may hold a password: never repeat it, nor redis' message quoting it.
        let invalid = |_| Error::invalid_input("the Redis URL is not valid");
        // Every operation is one small request waiting for its answer: send it at once.
        let info = url
            .into_connection_info()
            .map_err(invalid)?
            .set_tcp_settings(TcpSettings::default().set_nodelay(true));
        let client = redis::Client::open(info).map_err(invalid)?;
        let shared = Shared {
            client,
            connection: Mutex::new(None),
            prefix: Self::DEFAULT_PREFIX.to_owned(),
            key: None,
            timeout: RedisStore::DEFAULT_TIMEOUT,
            round_trips: AtomicU64::new(0),
        };
        Ok(RedisStore {
            inner: Arc::new(Inner {
                shared: Arc::new(shared),
                account: String::new(),
                token_key: String::new(),
                lease_key: String::new(),
            }),
        })
    }

    /// Puts the keys under `prefix` instead of the default; `invalid_input` when it is
    /// empty or holds `{` or `}`.
    pub fn with_prefix(mut self, prefix: &str) -> Result<Self, Error> {
        let [token_key, lease_key] = keys(prefix, self.account_or_placeholder())?;
        self.map_shared(|shared| shared.prefix = prefix.to_owned());
        if !self.inner.account.is_empty() {
            self.map_inner(|inner| {
                inner.token_key = token_key;
                inner.lease_key = lease_key;
            });
        }
        Ok(self)
    }

    /// Seals the token under `key` before it is written, and opens it when read.
    pub fn with_encryption(mut self, key: EncryptionKey) -> Self {
        self.map_shared(|shared| shared.key = Some(key));
        self
    }

    /// How long to wait to connect, and for each answer (default 2 s); `invalid_input` when
    /// zero or above [`MAX_DURATION`](crate::limits::MAX_DURATION).
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, Error> {
        crate::limits::checked_timeout("the Redis timeout", timeout)?;
        self.map_shared(|shared| shared.timeout = timeout);
        Ok(self)
    }

    /// The account (checking a prefix needs one).
    fn account_or_placeholder(&self) -> &str {
        match self.inner.account.as_str() {
            "" => "-",
            account => account,
        }
    }

    fn map_inner(&mut self, f: impl FnOnce(&mut Inner)) {
        f(Arc::get_mut(&mut self.inner).expect("configured before first use"));
    }

    fn map_shared(&mut self, f: impl FnOnce(&mut Shared)) {
        self.map_inner(|inner| {
            f(Arc::get_mut(&mut inner.shared).expect("configured before first use"))
        });
    }

    /// Requests this store (and every account's part of it) sent to Redis, each one round
    /// trip: a coordinated refresh takes two (lease with load; write with release).
    pub fn round_trips(&self) -> u64 {
        self.inner.shared.round_trips.load(Ordering::Relaxed)
    }

    /// Whether this store holds every account ([`for_accounts`](Self::for_accounts)) rather
    /// than one.
    pub fn is_for_accounts(&self) -> bool {
        self.inner.account.is_empty()
    }

    /// The store of one account: an error for a store of every account, whose operations
    /// need an account ([`AccountStore::account`](super::AccountStore::account) gives one).
    fn one(&self) -> Result<&Inner, Error> {
        if self.inner.account.is_empty() {
            return Err(Error::invalid_input(
                "this RedisStore holds every account: give it to AccountTokens, or create one \
                 with an account for a TokenManager",
            ));
        }
        Ok(&self.inner)
    }

    /// The key holding the token record (for operators and tests; empty for a store of
    /// every account): `P:{A}:token` for
    /// prefix `P` and account `A`, the braces literal (`{A}` is the Redis Cluster hash tag,
    /// shared with [`lease_key`](Self::lease_key)), `A` percent-encoded for `%`, `{`, `}`,
    /// space and every byte outside printable ASCII: prefix `app`, account `acct 1` give
    /// `app:{acct%201}:token`.
    pub fn token_key(&self) -> &str {
        &self.inner.token_key
    }

    /// The key holding the refresh lease (for operators and tests): `P:{A}:lease`, in the
    /// same hash slot as [`token_key`](Self::token_key).
    pub fn lease_key(&self) -> &str {
        &self.inner.lease_key
    }
}

impl Shared {
    /// Runs `op` on the shared connection, connecting first if needed. An operation that
    /// fails because the connection broke is retried once on a new one.
    fn run<T>(
        &self,
        mut op: impl FnMut(&mut Connection) -> redis::RedisResult<T>,
    ) -> Result<T, Error> {
        let mut slot = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        let mut retried = false;
        loop {
            let connection = match slot.as_mut() {
                Some(connection) => connection,
                None => slot.insert(self.connect()?),
            };
            self.round_trips.fetch_add(1, Ordering::Relaxed);
            match op(connection) {
                Ok(value) => return Ok(value),
                Err(e) => {
                    let unavailable = is_unavailable(&e);
                    if unavailable || e.is_unrecoverable_error() {
                        *slot = None;
                    }
                    if unavailable && !retried {
                        retried = true;
                        continue;
                    }
                    return Err(redis_error(&e));
                }
            }
        }
    }

    fn connect(&self) -> Result<Connection, Error> {
        let connection = self
            .client
            .get_connection_with_timeout(self.timeout)
            .map_err(|e| redis_error(&e))?;
        connection
            .set_read_timeout(Some(self.timeout))
            .and_then(|()| connection.set_write_timeout(Some(self.timeout)))
            .map_err(|e| redis_error(&e))?;
        Ok(connection)
    }
}

impl Inner {
    fn run<T>(&self, op: impl FnMut(&mut Connection) -> redis::RedisResult<T>) -> Result<T, Error> {
        self.shared.run(op)
    }

    /// The token in a stored record.
    fn token(&self, record: &str) -> Result<Token, Error> {
        token_from_record(
            self.shared.key.as_ref(),
            record,
            self.token_key.as_bytes(),
            &self.token_key,
        )
    }

    fn release(&self, owner: &str) {
        // Best effort: if Redis is unreachable now, the TTL frees the lease.
        let _ = self.run(|c| {
            SCRIPTS
                .release
                .key(&self.lease_key)
                .arg(owner)
                .invoke::<i64>(c)
        });
    }
}

/// The token and lease keys of `account` under `prefix`: `P:{A}:token` and `P:{A}:lease`.
///
/// Unambiguous: the prefix holds no brace, so the first `{` ends it; the encoded account
/// holds no `}`, so the next `}` ends it; and the encoding is undone by reading `%XX` back.
/// Redis Cluster hashes only what is between the first `{` and the next `}` (when not
/// empty), here the encoded account, so both keys of one account share a slot.
fn keys(prefix: &str, account: &str) -> Result<[String; 2], Error> {
    if prefix.is_empty() || account.is_empty() {
        return Err(Error::invalid_input(
            "a RedisStore needs a non-empty prefix and account",
        ));
    }
    if prefix.contains(['{', '}']) {
        return Err(Error::invalid_input(
            "a RedisStore prefix cannot contain `{` or `}`: the braces around the account are \
             its Redis Cluster hash tag",
        ));
    }
    let mut tag = String::with_capacity(account.len());
    for &byte in account.as_bytes() {
        if byte.is_ascii_graphic() && !matches!(byte, b'%' | b'{' | b'}') {
            tag.push(char::from(byte));
        } else {
            tag.push_str(&format!("%{byte:02X}"));
        }
    }
    Ok([
        format!("{prefix}:{{{tag}}}:token"),
        format!("{prefix}:{{{tag}}}:lease"),
    ])
}

fn is_unavailable(e: &RedisError) -> bool {
    e.is_io_error()
        || matches!(
            e.retry_method(),
            RetryMethod::Reconnect
                | RetryMethod::ReconnectFromInitialConnections
                | RetryMethod::WaitAndRetry
        )
}

fn redis_error(e: &RedisError) -> Error {
    if is_unavailable(e) {
        Error::new(
            ErrorCode::StoreUnavailable,
            RefreshTokenState::Unused,
            format!("Redis is unavailable: {e}"),
        )
    } else {
        store_error(format!("Redis refused an operation: {e}"))
    }
}

/// The refresh lease: renewed every third of its TTL by the process's renewer, released by
/// its owner.
fn lease(inner: Arc<Inner>, owner: String, ttl: Duration) -> RenewedLease {
    let (keeper, renewed_owner) = (inner.clone(), owner.clone());
    let ttl_ms = ttl.as_millis() as u64;
    // Best effort: if a renewal fails (Redis unreachable), the compare-and-swap still keeps a
    // second refresher's token from overwriting ours.
    let renew = Arc::new(move || {
        let _ = keeper.run(|c| {
            SCRIPTS
                .renew
                .key(&keeper.lease_key)
                .arg(&renewed_owner)
                .arg(ttl_ms)
                .invoke::<i64>(c)
        });
    });
    let released_owner = owner.clone();
    RenewedLease::new(owner, ttl, renew, move || inner.release(&released_owner))
}

impl TokenStore for RedisStore {
    fn load(&self) -> Result<Option<Token>, Error> {
        let inner = self.one()?;
        let record: Option<String> = inner.run(|c| {
            redis::cmd("HGET")
                .arg(&inner.token_key)
                .arg("token")
                .query(c)
        })?;
        record.map_or(Ok(None), |r| inner.token(&r).map(Some))
    }

    fn compare_and_swap(&self, expected: Option<&str>, new: &Token) -> Result<bool, Error> {
        self.write(expected, new, None)
    }

    fn compare_and_swap_releasing(
        &self,
        mut lease: Box<dyn Lease>,
        expected: Option<&str>,
        new: &Token,
    ) -> Result<bool, Error> {
        let stored = self.write(expected, new, lease.owner());
        if stored.is_ok() {
            lease.released();
        }
        stored
    }

    fn lease(&self, ttl: Duration, wait: Duration) -> Result<Option<Box<dyn Lease>>, Error> {
        Ok(self
            .acquire(ttl, wait)?
            .map(|(lease, _)| Box::new(lease) as Box<dyn Lease>))
    }

    fn lease_and_load(&self, ttl: Duration, wait: Duration) -> Result<Option<Leased>, Error> {
        let Some((lease, record)) = self.acquire(ttl, wait)? else {
            return Ok(None);
        };
        let token = match record.as_str() {
            "" => None,
            record => Some(self.inner.token(record)?),
        };
        Ok(Some((Box::new(lease), token)))
    }
}

impl RedisStore {
    /// Compare-and-swap, releasing the lease of `owner` in the same round trip if given.
    fn write(
        &self,
        expected: Option<&str>,
        new: &Token,
        owner: Option<&str>,
    ) -> Result<bool, Error> {
        let inner = self.one()?;
        let record = maybe_seal(
            inner.shared.key.as_ref(),
            &new.to_stored_json(),
            inner.token_key.as_bytes(),
        )?;
        let expires_at = new
            .expires_at_unix()
            .map_or_else(String::new, |s| ((s * 1000.0) as u64).to_string());
        let (expected, replacement) = (fingerprint(expected), fingerprint(new.refresh_token()));
        let version: i64 = inner.run(|c| {
            let script = match owner {
                Some(_) => &SCRIPTS.compare_and_swap_releasing,
                None => &SCRIPTS.compare_and_swap,
            };
            let mut invocation = script.key(&inner.token_key);
            if owner.is_some() {
                invocation.key(&inner.lease_key);
            }
            invocation
                .arg(&expected)
                .arg(&replacement)
                .arg(record.expose())
                .arg(&expires_at);
            if let Some(owner) = owner {
                invocation.arg(owner);
            }
            invocation.invoke(c)
        })?;
        Ok(version != 0)
    }

    /// Waits up to `wait` for the lease; returns it with the stored record ('' if none).
    fn acquire(
        &self,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Option<(RenewedLease, String)>, Error> {
        let inner = self.one()?;
        let owner = lease_owner()?;
        let ttl_ms = ttl.as_millis().max(1) as u64;
        poll_lease(wait, || {
            let (acquired, record): (i64, String) = inner.run(|c| {
                SCRIPTS
                    .acquire
                    .key(&inner.lease_key)
                    .key(&inner.token_key)
                    .arg(&owner)
                    .arg(ttl_ms)
                    .invoke(c)
            })?;
            Ok((acquired == 1).then(|| {
                let lease = lease(self.inner.clone(), owner.clone(), ttl);
                (lease, record)
            }))
        })
    }
}

impl AccountStore for RedisStore {
    fn account(&self, account: &str) -> Result<Arc<dyn TokenStore>, Error> {
        let shared = self.every_account()?.clone();
        let [token_key, lease_key] = keys(&shared.prefix, account)?;
        Ok(Arc::new(RedisStore {
            inner: Arc::new(Inner {
                shared,
                account: account.to_owned(),
                token_key,
                lease_key,
            }),
        }))
    }

    fn accounts(&self) -> Result<Vec<String>, Error> {
        let shared = self.every_account()?;
        let pattern = format!("{}:{{*}}:token", glob_escape(&shared.prefix));
        let mut accounts = Vec::new();
        let mut cursor = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = shared.run(|c| {
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(1000)
                    .query(c)
            })?;
            accounts.extend(keys.iter().filter_map(|k| account_of(&shared.prefix, k)));
            if next == 0 {
                break;
            }
            cursor = next;
        }
        // SCAN may return a key twice.
        accounts.sort_unstable();
        accounts.dedup();
        Ok(accounts)
    }

    fn remove(&self, account: &str) -> Result<bool, Error> {
        let shared = self.every_account()?;
        let [token_key, _] = keys(&shared.prefix, account)?;
        let removed: i64 = shared.run(|c| redis::cmd("DEL").arg(&token_key).query(c))?;
        Ok(removed > 0)
    }
}

impl RedisStore {
    /// What every account shares: an error for a store of one account.
    fn every_account(&self) -> Result<&Arc<Shared>, Error> {
        if !self.is_for_accounts() {
            return Err(Error::invalid_input(
                "this RedisStore holds one account: create it with RedisStore::for_accounts \
                 (in Python, Node and C: without an account) for AccountTokens",
            ));
        }
        Ok(&self.inner.shared)
    }
}

/// `text` with Redis' glob characters escaped, for a `SCAN MATCH` pattern.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The account whose token key under `prefix` is `key` (`keys` undone); `None` for a key
/// that `keys` could not have made.
fn account_of(prefix: &str, key: &str) -> Option<String> {
    let tag = key
        .strip_prefix(prefix)?
        .strip_prefix(":{")?
        .strip_suffix("}:token")?;
    let mut account = Vec::with_capacity(tag.len());
    let mut bytes = tag.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'%' => {
                let pair = [bytes.next()?, bytes.next()?];
                account.push(u8::from_str_radix(std::str::from_utf8(&pair).ok()?, 16).ok()?);
            }
            b'{' | b'}' => return None,
            b => account.push(b),
        }
    }
    String::from_utf8(account).ok().filter(|a| !a.is_empty())
}

/// Property tests for the key scheme; `make fuzz` runs them with many more cases.
#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::{account_of, keys};
    use crate::error::ErrorCode;

    /// What Redis Cluster hashes: between the first `{` and the next `}` if that is not
    /// empty, else the whole key (the Redis Cluster specification, "Hash tags").
    fn hash_tag(key: &str) -> &str {
        let Some(open) = key.find('{') else {
            return key;
        };
        match key[open + 1..].find('}') {
            Some(0) | None => key,
            Some(len) => &key[open + 1..open + 1 + len],
        }
    }

    /// The (prefix, account) a token key was made from.
    fn parse(key: &str) -> (String, String) {
        let (prefix, rest) = key.split_once(":{").expect("a brace after the prefix");
        let (tag, suffix) = rest.split_once('}').expect("a closing brace");
        assert_eq!(suffix, ":token");
        let mut account = Vec::new();
        let mut bytes = tag.bytes();
        while let Some(b) = bytes.next() {
            if b == b'%' {
                let pair = [bytes.next().unwrap(), bytes.next().unwrap()];
                let pair = std::str::from_utf8(&pair).unwrap();
                account.push(u8::from_str_radix(pair, 16).unwrap());
            } else {
                account.push(b);
            }
        }
        (prefix.to_owned(), String::from_utf8(account).unwrap())
    }

    /// Strings made mostly of what could blur a key's parts, so that pairs often collide
    /// under a careless scheme (`app:tenant` + `1` against `app` + `tenant:1`).
    fn part() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::collection::vec(
                prop_oneof![
                    Just(":"),
                    Just("{"),
                    Just("}"),
                    Just("%"),
                    Just("%7B"),
                    Just(" "),
                    Just("a"),
                    Just("1"),
                    Just(":token"),
                    Just("\u{0}"),
                    Just("\n"),
                    Just("é"),
                    Just("\u{7f}"),
                ],
                1..6
            )
            .prop_map(|parts| parts.concat()),
            "\\PC{1,12}",
            any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
        ]
    }

    fn prefix() -> impl Strategy<Value = String> {
        part()
            .prop_map(|p| p.replace(['{', '}'], ""))
            .prop_filter("non-empty", |p| !p.is_empty())
    }

    proptest! {
        #[test]
        fn keys_are_injective_and_share_one_hash_tag(
            (p1, a1) in (prefix(), part()),
            (p2, a2) in (prefix(), part()),
        ) {
            let [token, lease] = keys(&p1, &a1).unwrap();
            prop_assert_eq!(parse(&token), (p1.clone(), a1.clone()));
            prop_assert_eq!(account_of(&p1, &token), Some(a1.clone()));
            prop_assert_eq!(account_of(&p1, &lease), None);
            if p1 != p2 {
                prop_assert_eq!(account_of(&p2, &token), None);
            }
            prop_assert_eq!(lease.strip_suffix(":lease"), token.strip_suffix(":token"));
            prop_assert_eq!(hash_tag(&token), hash_tag(&lease));
            prop_assert_ne!(hash_tag(&token), token.as_str(), "the key has a hash tag");
            let [other_token, other_lease] = keys(&p2, &a2).unwrap();
            let same = (&p1, &a1) == (&p2, &a2);
            prop_assert_eq!(token == other_token, same);
            prop_assert_eq!(lease == other_lease, same);
            prop_assert_ne!(&token, &other_lease);
        }

        #[test]
        fn a_brace_in_the_prefix_is_refused(prefix in part(), account in part()) {
            let result = keys(&prefix, &account);
            if prefix.contains(['{', '}']) {
                prop_assert_eq!(result.unwrap_err().code(), ErrorCode::InvalidInput);
            } else {
                prop_assert!(result.is_ok());
            }
        }
    }

    #[test]
    fn readable_accounts_stay_readable_and_ambiguous_pairs_differ() {
        let [token, lease] = keys("oauth-refresh", "company-123").unwrap();
        assert_eq!(token, "oauth-refresh:{company-123}:token");
        assert_eq!(lease, "oauth-refresh:{company-123}:lease");
        assert_eq!(
            keys("app", "a b{}%é").unwrap()[0],
            "app:{a%20b%7B%7D%25%C3%A9}:token"
        );
        assert_ne!(
            keys("app:tenant", "1").unwrap(),
            keys("app", "tenant:1").unwrap()
        );
        for (prefix, account) in [("", "a"), ("p", ""), ("{p}", "a"), ("p}", "a")] {
            assert_eq!(
                keys(prefix, account).unwrap_err().code(),
                ErrorCode::InvalidInput
            );
        }
    }
}
