-- The table PostgresStore keeps tokens in, for users who run their own migrations
-- (then give the store create_table = false). Rename the table as you like and give the
-- store that name (option `table`). Drift-checked against the store's own statement.
CREATE TABLE IF NOT EXISTS oauth_refresh_tokens (
    account          text PRIMARY KEY,
    record           text NOT NULL DEFAULT '',
    rt_fingerprint   text NOT NULL DEFAULT '',
    version          bigint NOT NULL DEFAULT 0,
    expires_at       timestamptz,
    lease_owner      text,
    lease_expires_at timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
