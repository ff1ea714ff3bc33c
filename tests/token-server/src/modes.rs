//! How a request asks the server to behave: the `{modes}` path segment.
//!
//! `modes` is `ok` or a comma-separated list such as `family`, `fault=429,times=1`,
//! `delay=500`, `expires=2`, `no-refresh-token` (values percent-encoded). `times=N` limits `fault` and `delay`
//! to the first N token requests of the scope; afterwards the server behaves.

#[derive(Clone, Debug, Default)]
pub struct Modes {
    /// Reusing a consumed refresh token revokes its whole family.
    pub family: bool,
    /// Gusto's lazy revocation: a refresh token dies when a child access token is used.
    pub lazy: bool,
    /// A named misbehaviour, e.g. `429`, `close`, `echo-everywhere`: see `early_fault` and
    /// `late_fault` in `handler.rs`, and `echo.rs` for the ones that repeat secrets.
    pub fault: Option<String>,
    pub times: Option<u64>,
    pub delay_ms: u64,
    pub retry_after: Option<String>,
    pub expires_in: Option<u64>,
    pub expires_string: bool,
    /// Leave `expires_in` out of the answer.
    pub no_expires: bool,
    pub no_refresh_token: bool,
    pub no_token_type: bool,
    pub created_at_iso: bool,
    pub extras: bool,
    /// A fixed answer with no parsing and no state, for benchmarks.
    pub fast: bool,
}

impl Modes {
    pub fn parse(segment: &str) -> Result<Modes, String> {
        let mut m = Modes::default();
        for item in segment.split(',').filter(|s| !s.is_empty()) {
            // Items are split before decoding, so a value may carry an encoded comma (%2C).
            let item = percent_encoding::percent_decode_str(item).decode_utf8_lossy();
            let item = item.as_ref();
            let (key, value) = match item.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (item, None),
            };
            let number = |v: Option<&str>| {
                v.and_then(|v| v.parse::<u64>().ok())
                    .ok_or_else(|| format!("mode {key} needs a number"))
            };
            match key {
                "ok" => {}
                "family" => m.family = true,
                "lazy" => m.lazy = true,
                "fault" => m.fault = Some(value.ok_or("fault needs a name")?.to_owned()),
                "times" => m.times = Some(number(value)?),
                "delay" => m.delay_ms = number(value)?,
                "retry-after" => {
                    m.retry_after = Some(value.ok_or("retry-after needs a value")?.to_owned())
                }
                "expires" => m.expires_in = Some(number(value)?),
                "expires-string" => m.expires_string = true,
                "no-expires" => m.no_expires = true,
                "no-refresh-token" => m.no_refresh_token = true,
                "no-token-type" => m.no_token_type = true,
                "created-at-iso" => m.created_at_iso = true,
                "extras" => m.extras = true,
                "fast" => m.fast = true,
                _ => return Err(format!("unknown mode {key:?}")),
            }
        }
        Ok(m)
    }
}
