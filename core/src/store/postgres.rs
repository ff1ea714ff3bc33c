//! Tokens in PostgreSQL, where the service keeps its system of record: one account's
//! ([`PostgresStore::new`]) or every account's ([`PostgresStore::for_accounts`]), through one
//! bounded pool of connections.
//!
//! One table (default `oauth_refresh_tokens`; the schema is `SCHEMA` below, created on first
//! use unless the store is told the table exists) with one row per account:
//! - `record`: the stored token JSON, sealed when encrypting (bound to the table and account);
//!   empty while only the lease exists;
//! - `rt_fingerprint`: the SHA-256 of its refresh token, so the compare-and-swap compares
//!   without the token;
//! - `version`, bumped by every write; `expires_at`, for operators;
//! - `lease_owner` / `lease_expires_at`: the refresh lease, with an expiry on the database's
//!   clock. Columns rather than an advisory lock: a session-bound lock would be lost with a
//!   pooled connection and cannot be renewed or outlive a reconnect, while an expiry is what
//!   every store's lease promises (a holder that died is replaced after its lease; a live one
//!   renews it every third of it, so it is never outlasted).
//!
//! Every write is one statement in its own transaction with `synchronous_commit = on`, so a
//! token the store said it kept is on disk: it survives the database's crash.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use postgres::{Client, Config, NoTls};

use super::renewer::RenewedLease;
use super::{
    fingerprint, lease_owner, poll_lease, store_error, token_from_record, AccountStore, Lease,
    Leased, TokenStore,
};
use crate::error::{Error, ErrorCode, RefreshTokenState};
use crate::lock::lock;
use crate::seal::{maybe_seal, EncryptionKey};
use crate::token::Token;

/// The table, for users who run their own migrations (`{table}` is the table's name;
/// `core/sql/oauth_refresh_tokens.sql` holds it with the default name).
pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS {table} (
    account          text PRIMARY KEY,
    record           text NOT NULL DEFAULT '',
    rt_fingerprint   text NOT NULL DEFAULT '',
    version          bigint NOT NULL DEFAULT 0,
    expires_at       timestamptz,
    lease_owner      text,
    lease_expires_at timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
)";

/// Keeps tokens in PostgreSQL: one refresher at a time per account across every host,
/// through a lease row with an expiry, and a compare-and-swap keyed on the refresh token that
/// was used, as one conditional `UPDATE`.
///
/// Connects lazily; a database that cannot be reached is
/// [`ErrorCode::StoreUnavailable`], with the same meaning as for Redis.
pub struct PostgresStore {
    shared: Arc<Shared>,
    /// Empty for a store of every account.
    account: String,
}

struct Shared {
    config: Config,
    table: String,
    key: Option<EncryptionKey>,
    create_table: bool,
    pool: Pool,
    round_trips: AtomicU64,
}

/// At most `max` connections, reused; a broken one is dropped and replaced on demand.
struct Pool {
    /// Idle connections, and how many are open (idle or lent).
    idle: Mutex<(Vec<Conn>, usize)>,
    returned: Condvar,
    max: usize,
    timeout: Duration,
}

impl PostgresStore {
    /// The default table.
    pub const DEFAULT_TABLE: &'static str = "oauth_refresh_tokens";
    /// The default pool bound.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 4;
    /// The default wait to connect, and for each statement.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

    /// A store for `account` at `url` (`postgres://user:password@host:port/database`, or the
    /// `key=value` form). Nothing connects until first use. `invalid_input` for an empty
    /// account or a URL that does not parse (the message never repeats it).
    pub fn new(url: &str, account: &str) -> Result<Self, Error> {
        if account.is_empty() {
            return Err(Error::invalid_input(
                "a PostgresStore needs a non-empty account",
            ));
        }
        let mut store = Self::for_accounts(url)?;
        store.account = account.to_owned();
        Ok(store)
    }

    /// A store of every account at `url`, for [`AccountTokens`](crate::AccountTokens): one
    /// pool for all of them.
    pub fn for_accounts(url: &str) -> Result<Self, Error> {
        let mut config: Config = url
            .parse()
            .map_err(|_| Error::invalid_input("the PostgreSQL URL is not valid"))?;
        config.connect_timeout(Self::DEFAULT_TIMEOUT);
        Ok(PostgresStore {
            shared: Arc::new(Shared {
                config,
                table: quote(Self::DEFAULT_TABLE)?,
                key: None,
                create_table: true,
                pool: Pool::new(Self::DEFAULT_MAX_CONNECTIONS, Self::DEFAULT_TIMEOUT),
                round_trips: AtomicU64::new(0),
            }),
            account: String::new(),
        })
    }

    /// Keeps the tokens in `table` (`name` or `schema.name`, letters, digits and `_`).
    pub fn with_table(mut self, table: &str) -> Result<Self, Error> {
        let quoted = quote(table)?;
        self.map_shared(|s| s.table = quoted);
        Ok(self)
    }

    /// Whether to create the table on first use (default true); false for users who run
    /// their own migrations ([`SCHEMA`]).
    pub fn with_create_table(mut self, create: bool) -> Self {
        self.map_shared(|s| s.create_table = create);
        self
    }

    /// Seals every record under `key`, bound to the table and the account.
    pub fn with_encryption(mut self, key: EncryptionKey) -> Self {
        self.map_shared(|s| s.key = Some(key));
        self
    }

    /// At most `max` connections (default 4); `invalid_input` for 0.
    pub fn with_max_connections(mut self, max: usize) -> Result<Self, Error> {
        if max == 0 {
            return Err(Error::invalid_input("max_connections must be at least 1"));
        }
        self.map_shared(|s| s.pool.max = max);
        Ok(self)
    }

    /// How long to wait to connect, for a free connection, and for each statement (default
    /// 5 s); `invalid_input` when zero or above a year.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, Error> {
        crate::limits::checked_timeout("the PostgreSQL timeout", timeout)?;
        self.map_shared(|s| {
            s.config.connect_timeout(timeout);
            s.pool.timeout = timeout;
        });
        Ok(self)
    }

    fn map_shared(&mut self, f: impl FnOnce(&mut Shared)) {
        f(Arc::get_mut(&mut self.shared).expect("configured before first use"));
    }

    /// Statements sent (each one round trip), for metrics.
    pub fn round_trips(&self) -> u64 {
        self.shared.round_trips.load(Ordering::Relaxed)
    }

    /// Connections open now (idle or in use).
    pub fn connections(&self) -> usize {
        lock(&self.shared.pool.idle).1
    }

    /// Whether this store holds every account.
    pub fn is_for_accounts(&self) -> bool {
        self.account.is_empty()
    }

    fn one(&self) -> Result<&str, Error> {
        if self.account.is_empty() {
            return Err(Error::invalid_input(
                "this PostgresStore holds every account: give it to AccountTokens, or create \
                 one with an account for a TokenManager",
            ));
        }
        Ok(&self.account)
    }

    fn every(&self) -> Result<&Arc<Shared>, Error> {
        if !self.account.is_empty() {
            return Err(Error::invalid_input(
                "this PostgresStore holds one account: create it with \
                 PostgresStore::for_accounts (in Python, Node and C: without an account) for \
                 AccountTokens",
            ));
        }
        Ok(&self.shared)
    }
}

/// `"name"` or `"schema"."name"`: letters, digits and `_`, not starting with a digit.
fn quote(table: &str) -> Result<String, Error> {
    let parts: Vec<&str> = table.split('.').collect();
    let valid = |p: &&str| {
        !p.is_empty()
            && p.len() <= 63
            && !p.starts_with(|c: char| c.is_ascii_digit())
            && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if parts.len() > 2 || !parts.iter().all(valid) {
        return Err(Error::invalid_input(
            "a PostgresStore table is `name` or `schema.name`: letters, digits and _, at most 63 each",
        ));
    }
    Ok(parts
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join("."))
}

impl Pool {
    fn new(max: usize, timeout: Duration) -> Pool {
        Pool {
            idle: Mutex::new((Vec::new(), 0)),
            returned: Condvar::new(),
            max,
            timeout,
        }
    }
}

/// A connection on loan from the pool; back to it when dropped, unless it broke.
struct Loan<'a> {
    shared: &'a Shared,
    conn: Option<Conn>,
}

impl Drop for Loan<'_> {
    fn drop(&mut self) {
        let pool = &self.shared.pool;
        let mut idle = lock(&pool.idle);
        match self.conn.take() {
            Some(conn) if !conn.client.is_closed() => idle.0.push(conn),
            _ => idle.1 -= 1,
        }
        pool.returned.notify_one();
    }
}

impl Shared {
    /// A connection: an idle one, a new one while under the bound, or the next one returned.
    fn borrow(&self) -> Result<Loan<'_>, Error> {
        let pool = &self.pool;
        let deadline = Instant::now() + pool.timeout;
        let mut idle = lock(&pool.idle);
        loop {
            if let Some(conn) = idle.0.pop() {
                return Ok(Loan {
                    shared: self,
                    conn: Some(conn),
                });
            }
            if idle.1 < pool.max {
                idle.1 += 1;
                drop(idle);
                return match self.connect() {
                    Ok(conn) => Ok(Loan {
                        shared: self,
                        conn: Some(conn),
                    }),
                    Err(e) => {
                        lock(&pool.idle).1 -= 1;
                        pool.returned.notify_one();
                        Err(e)
                    }
                };
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(unavailable(
                    "every connection of the pool stayed busy".into(),
                ));
            }
            idle = pool
                .returned
                .wait_timeout(idle, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn connect(&self) -> Result<Conn, Error> {
        let mut client = self.config.connect(NoTls).map_err(|e| postgres_error(&e))?;
        let timeout_ms = self.pool.timeout.as_millis();
        // Durable before acknowledged, whatever the server's default; and no statement may
        // hang past the timeout.
        let mut setup =
            format!("SET synchronous_commit = on; SET statement_timeout = {timeout_ms};");
        if self.create_table {
            setup += &SCHEMA.replace("{table}", &self.table);
        }
        client
            .batch_execute(&setup)
            .map_err(|e| postgres_error(&e))?;
        Ok(Conn {
            client,
            prepared: std::collections::HashMap::new(),
        })
    }

    /// Runs `op` on a pooled connection. One that failed because the connection broke (the
    /// database restarted) is retried once on a new one: every statement is idempotent.
    fn run<T>(
        &self,
        mut op: impl FnMut(&mut Conn) -> Result<T, postgres::Error>,
    ) -> Result<T, Error> {
        let mut retried = false;
        loop {
            let mut loan = self.borrow()?;
            self.round_trips.fetch_add(1, Ordering::Relaxed);
            let conn = loan.conn.as_mut().expect("a loan holds a connection");
            match op(conn) {
                Ok(value) => return Ok(value),
                Err(e) => {
                    let broken = e.is_closed() || conn.client.is_closed() || e.code().is_none();
                    if broken {
                        loan.conn = None; // dropped, not returned
                    }
                    if broken && !retried {
                        retried = true;
                        continue;
                    }
                    return Err(postgres_error(&e));
                }
            }
        }
    }

    fn context(&self, account: &str) -> Vec<u8> {
        let mut context = b"oauth-refresh postgres\0".to_vec();
        context.extend_from_slice(self.table.as_bytes());
        context.push(0);
        context.extend_from_slice(account.as_bytes());
        context
    }

    fn token(&self, account: &str, record: &str) -> Result<Token, Error> {
        let place = format!("the {} row of account {account:?}", self.table);
        token_from_record(self.key.as_ref(), record, &self.context(account), &place)
    }
}

fn unavailable(message: String) -> Error {
    Error::new(
        ErrorCode::StoreUnavailable,
        RefreshTokenState::Unused,
        message,
    )
}

/// A database that cannot be reached is `store_unavailable`; one that refused a statement,
/// `store_failed`. The message is the server's, which holds no password.
fn postgres_error(e: &postgres::Error) -> Error {
    match e.as_db_error() {
        Some(db) if db.code().code().starts_with("28") || db.code().code().starts_with("3D") => {
            // Authentication or a missing database: the settings are wrong, not the network.
            store_error(format!(
                "PostgreSQL refused the connection: {}",
                db.message()
            ))
        }
        Some(db)
            if ["57P", "08", "57014"]
                .iter()
                .any(|c| db.code().code().starts_with(c)) =>
        {
            unavailable(format!("PostgreSQL is unavailable: {}", db.message()))
        }
        Some(db) => store_error(format!("PostgreSQL refused a statement: {}", db.message())),
        None => unavailable(format!("PostgreSQL is unavailable: {e}")),
    }
}

/// The row's first column as text; `store_failed` (never a panic) for a table whose column
/// is not the documented `text NOT NULL`.
fn text(row: &postgres::Row) -> Result<String, Error> {
    row.try_get(0).map_err(|e| {
        store_error(format!(
            "the PostgreSQL table does not have the documented schema: {e}"
        ))
    })
}

/// The statements, prepared once per connection.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Statement {
    Load,
    Swap,
    SwapReleasing,
    Insert,
    Acquire,
    Renew,
    Release,
    Accounts,
    Remove,
}

impl Statement {
    /// Its SQL, for `table` (quoted).
    fn sql(self, table: &str) -> String {
        let t = table;
        let write =
            "record = $3, rt_fingerprint = $4, expires_at = to_timestamp($5::float8 / 1000), \
                     version = version + 1, updated_at = now()";
        // The stored refresh token is still the expected one; or already the new one (a
        // retried statement), so a retry never reports a lost race.
        let expected = "(rt_fingerprint = $2 OR (rt_fingerprint = $4 AND $4 <> ''))";
        match self {
            Statement::Load => format!("SELECT record FROM {t} WHERE account = $1"),
            Statement::Swap => {
                format!("UPDATE {t} SET {write} WHERE account = $1 AND {expected}")
            }
            Statement::SwapReleasing => format!(
                "UPDATE {t} SET {write}, \
                 lease_owner = CASE WHEN lease_owner = $6 THEN NULL ELSE lease_owner END, \
                 lease_expires_at = CASE WHEN lease_owner = $6 THEN NULL ELSE lease_expires_at END \
                 WHERE account = $1 AND {expected}"
            ),
            Statement::Insert => format!(
                "INSERT INTO {t} AS t (account, record, rt_fingerprint, expires_at, version) \
                 VALUES ($1, $3, $4, to_timestamp($5::float8 / 1000), 1) \
                 ON CONFLICT (account) DO UPDATE SET record = EXCLUDED.record, \
                 rt_fingerprint = EXCLUDED.rt_fingerprint, expires_at = EXCLUDED.expires_at, \
                 version = t.version + 1, updated_at = now() \
                 WHERE t.rt_fingerprint = $2 OR (t.rt_fingerprint = $4 AND $4 <> '')"
            ),
            Statement::Acquire => format!(
                "INSERT INTO {t} AS t (account, lease_owner, lease_expires_at) \
                 VALUES ($1, $2, now() + $3::float8 * interval '1 millisecond') \
                 ON CONFLICT (account) DO UPDATE SET lease_owner = EXCLUDED.lease_owner, \
                 lease_expires_at = EXCLUDED.lease_expires_at \
                 WHERE t.lease_owner IS NULL OR t.lease_expires_at < now() \
                 OR t.lease_owner = EXCLUDED.lease_owner \
                 RETURNING t.record"
            ),
            Statement::Renew => format!(
                "UPDATE {t} SET lease_expires_at = now() + $3::float8 * interval '1 millisecond' \
                 WHERE account = $1 AND lease_owner = $2"
            ),
            Statement::Release => format!(
                "UPDATE {t} SET lease_owner = NULL, lease_expires_at = NULL \
                 WHERE account = $1 AND lease_owner = $2"
            ),
            Statement::Accounts => {
                format!("SELECT account FROM {t} WHERE record <> '' ORDER BY account")
            }
            Statement::Remove => format!(
                "UPDATE {t} SET record = '', rt_fingerprint = '', expires_at = NULL, \
                 version = version + 1, updated_at = now() WHERE account = $1 AND record <> ''"
            ),
        }
    }
}

/// A pooled connection with its prepared statements (one round trip each after the first).
struct Conn {
    client: Client,
    prepared: std::collections::HashMap<Statement, postgres::Statement>,
}

type Params<'a> = [&'a (dyn postgres::types::ToSql + Sync)];

impl Conn {
    fn prepared(
        &mut self,
        table: &str,
        s: Statement,
    ) -> Result<postgres::Statement, postgres::Error> {
        if let Some(p) = self.prepared.get(&s) {
            return Ok(p.clone());
        }
        let p = self.client.prepare(&s.sql(table))?;
        self.prepared.insert(s, p.clone());
        Ok(p)
    }
}

impl Shared {
    fn execute(&self, s: Statement, params: &Params<'_>) -> Result<u64, Error> {
        self.run(|conn| {
            let p = conn.prepared(&self.table, s)?;
            conn.client.execute(&p, params)
        })
    }

    fn query(&self, s: Statement, params: &Params<'_>) -> Result<Vec<postgres::Row>, Error> {
        self.run(|conn| {
            let p = conn.prepared(&self.table, s)?;
            conn.client.query(&p, params)
        })
    }

    /// Writes `new` for `account` if its refresh token is still `expected`, releasing the
    /// lease of `owner` in the same statement when given.
    fn write(
        &self,
        account: &str,
        expected: Option<&str>,
        new: &Token,
        owner: Option<&str>,
    ) -> Result<bool, Error> {
        let record = maybe_seal(
            self.key.as_ref(),
            &new.to_stored_json(),
            &self.context(account),
        )?;
        let expires_at = new.expires_at_unix().map(|s| s * 1000.0);
        let (expected_fp, new_fp) = (fingerprint(expected), fingerprint(new.refresh_token()));
        let record = record.expose();
        let changed = match (expected, owner) {
            (None, _) => self.execute(
                Statement::Insert,
                &[&account, &expected_fp, &record, &new_fp, &expires_at],
            )?,
            (Some(_), None) => self.execute(
                Statement::Swap,
                &[&account, &expected_fp, &record, &new_fp, &expires_at],
            )?,
            (Some(_), Some(owner)) => self.execute(
                Statement::SwapReleasing,
                &[
                    &account,
                    &expected_fp,
                    &record,
                    &new_fp,
                    &expires_at,
                    &owner,
                ],
            )?,
        };
        Ok(changed == 1)
    }
}

impl TokenStore for PostgresStore {
    fn load(&self) -> Result<Option<Token>, Error> {
        let account = self.one()?;
        let rows = self.shared.query(Statement::Load, &[&account])?;
        match rows.first().map(text).transpose()? {
            Some(record) if !record.is_empty() => self.shared.token(account, &record).map(Some),
            _ => Ok(None),
        }
    }

    fn compare_and_swap(&self, expected: Option<&str>, new: &Token) -> Result<bool, Error> {
        self.shared.write(self.one()?, expected, new, None)
    }

    fn compare_and_swap_releasing(
        &self,
        mut lease: Box<dyn Lease>,
        expected: Option<&str>,
        new: &Token,
    ) -> Result<bool, Error> {
        let owner = lease.owner().filter(|_| expected.is_some());
        let stored = self.shared.write(self.one()?, expected, new, owner);
        // Released only if the write happened; otherwise dropping the lease releases it.
        if owner.is_some() && matches!(stored, Ok(true)) {
            lease.released();
        }
        stored
    }

    fn lease(&self, ttl: Duration, wait: Duration) -> Result<Option<Box<dyn Lease>>, Error> {
        Ok(self.lease_and_load(ttl, wait)?.map(|(lease, _)| lease))
    }

    fn lease_and_load(&self, ttl: Duration, wait: Duration) -> Result<Option<Leased>, Error> {
        let account = self.one()?;
        let owner = lease_owner()?;
        let ttl_ms = ttl.as_millis().max(1) as f64;
        poll_lease(wait, || {
            let rows = self
                .shared
                .query(Statement::Acquire, &[&account, &owner, &ttl_ms])?;
            let Some(row) = rows.first() else {
                return Ok(None);
            };
            let record = text(row)?;
            let lease = lease(self.shared.clone(), account.to_owned(), owner.clone(), ttl);
            let token = match record.as_str() {
                "" => None,
                record => Some(self.shared.token(account, record)?),
            };
            Ok(Some((Box::new(lease) as Box<dyn Lease>, token)))
        })
    }
}

impl AccountStore for PostgresStore {
    fn account(&self, account: &str) -> Result<Arc<dyn TokenStore>, Error> {
        Ok(Arc::new(PostgresStore {
            shared: self.every()?.clone(),
            account: account.to_owned(),
        }))
    }

    fn accounts(&self) -> Result<Vec<String>, Error> {
        let rows = self.every()?.query(Statement::Accounts, &[])?;
        rows.iter().map(text).collect()
    }

    fn remove(&self, account: &str) -> Result<bool, Error> {
        Ok(self.every()?.execute(Statement::Remove, &[&account])? == 1)
    }
}

/// The refresh lease: a row's owner and expiry, renewed every third of its TTL.
fn lease(shared: Arc<Shared>, account: String, owner: String, ttl: Duration) -> RenewedLease {
    let (keeper, a, o) = (shared.clone(), account.clone(), owner.clone());
    let ttl_ms = ttl.as_millis().max(1) as f64;
    let renew = Arc::new(move || {
        let _ = keeper.execute(Statement::Renew, &[&a, &o, &ttl_ms]);
    });
    let released_owner = owner.clone();
    RenewedLease::new(owner, ttl, renew, move || {
        let _ = shared.execute(Statement::Release, &[&account, &released_owner]);
    })
}

#[cfg(test)]
mod tests {
    use super::{quote, SCHEMA};

    #[test]
    fn the_sql_file_is_the_schema_the_store_creates() {
        let file = include_str!("../../sql/oauth_refresh_tokens.sql");
        let statement: String = file
            .lines()
            .filter(|l| !l.starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(
            statement.trim_end(),
            format!("{};", SCHEMA.replace("{table}", "oauth_refresh_tokens"))
        );
    }

    #[test]
    fn table_names_are_quoted_identifiers_or_refused() {
        assert_eq!(quote("tokens").unwrap(), "\"tokens\"");
        assert_eq!(quote("app.tokens_2").unwrap(), "\"app\".\"tokens_2\"");
        for bad in ["", ".", "a.", "a.b.c", "1a", "a-b", "a\"b", "a;drop", "é"] {
            assert!(quote(bad).is_err(), "{bad}");
        }
    }
}
