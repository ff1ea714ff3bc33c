//! Property tests for what a hostile server can send: response classification, the token
//! parser, `Retry-After` and the oversized-body scan. `PROPTEST_CASES` sets the count
//! (`make fuzz` runs many more than `make test`).

use std::io::Read;
use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use serde_json::{Map, Number, Value};

use crate::classify::{classify_response, scan_oversized, Answer};
use crate::error::{ErrorCode, RefreshTokenState};
use crate::limits::{MAX_DURATION, MAX_LIFETIME_SECS};
use crate::secret::Secret;
use crate::time::parse_retry_after;

/// Any JSON number: integers of every size and sign, fractions, and floats near the limits.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        Just(Value::from(1e308)),
        Just(Value::from(-1e308)),
        Just(Value::from(f64::MIN_POSITIVE)),
    ]
}

/// Strings with control characters, NULs, numbers spelled out and long runs.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9eE+.-]{0,24}",
        Just("18446744073709551615".to_owned()),
        Just("a\u{0}b".to_owned()),
        Just("line\r\nforged".to_owned()),
        "[a-z]{0,8}".prop_map(|s| s.repeat(200)),
    ]
}

/// Arbitrary JSON, nested a few levels, with no key named `refresh_token` (the invariants
/// are about the top-level one).
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A token response as a hostile server might shape it: every known field absent or of any
/// JSON type, sometimes the right type, plus unknown fields.
fn response_object() -> impl Strategy<Value = Map<String, Value>> {
    let field = |name: &'static str| {
        prop_oneof![
            Just(None),
            json().prop_map(Some),
            text().prop_map(|s| Some(Value::String(s))),
        ]
        .prop_map(move |v| (name, v))
    };
    (
        (
            field("access_token"),
            field("token_type"),
            field("expires_in"),
        ),
        (field("scope"), field("created_at"), field("id_token")),
        (
            field("error"),
            field("error_description"),
            field("error_uri"),
        ),
        prop::collection::btree_map("[a-z]{1,6}", json(), 0..3),
    )
        .prop_map(|((a, b, c), (d, e, f), (g, h, i), extra)| {
            let mut map: Map<String, Value> = extra.into_iter().collect();
            for (name, value) in [a, b, c, d, e, f, g, h, i] {
                if let Some(value) = value {
                    map.insert(name.to_owned(), value);
                }
            }
            map
        })
}

fn answer<'a>(status: u16, retry_after: Option<&'a str>, body: &'a [u8]) -> Answer<'a> {
    Answer {
        status,
        retry_after,
        body,
        sent_at: SystemTime::now(),
        previous_refresh_token: None,
    }
}

proptest! {
    #[test]
    fn any_bytes_any_status_never_panic(
        status in 100u16..1000,
        retry_after in proptest::option::of(text()),
        body in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let result = classify_response(&answer(status, retry_after.as_deref(), &body));
        if let Err(err) = result {
            // A known answer is never mistaken for a caller or store failure.
            prop_assert!(!matches!(
                err.code(),
                ErrorCode::InvalidInput | ErrorCode::StoreFailed | ErrorCode::StoreUnavailable
            ));
        }
    }

    /// Spec §4: a refresh token string in a 2xx body is never dropped.
    #[test]
    fn a_refresh_token_in_a_2xx_body_is_never_dropped(
        status in 200u16..300,
        mut object in response_object(),
        refresh_token in text().prop_filter("non-empty", |s| !s.is_empty()),
        raw_number in proptest::option::of(prop_oneof![Just("1e400"), Just("-1e999"), Just("1e19")]),
    ) {
        object.insert("refresh_token".into(), Value::String(refresh_token.clone()));
        let mut body = Value::Object(object).to_string();
        if let Some(raw) = raw_number {
            // Numbers no f64 holds make the whole body unparseable as JSON values.
            body = body.replacen('{', &format!("{{\"expires_in\":{raw},"), 1);
        }
        match classify_response(&answer(status, None, body.as_bytes())) {
            Ok(token) => {
                prop_assert_eq!(token.refresh_token(), Some(refresh_token.as_str()));
                if let (Some(s), Some(at)) = (token.expires_in(), token.expires_at()) {
                    prop_assert!(s <= MAX_LIFETIME_SECS);
                    prop_assert!(at > SystemTime::now() - Duration::from_secs(60));
                }
            }
            Err(err) => {
                prop_assert_eq!(err.code(), ErrorCode::InvalidResponse);
                prop_assert_eq!(err.refresh_token_state(), RefreshTokenState::Unknown);
                prop_assert_eq!(err.status(), Some(status));
                prop_assert_eq!(err.salvaged_refresh_token(), Some(refresh_token.as_str()));
            }
        }
    }

    /// Spec §5: the code and the token state agree, whatever the server sent.
    #[test]
    fn code_and_state_agree_with_the_spec(
        status in prop_oneof![300u16..600, Just(429u16), Just(503u16), 200u16..300],
        error in proptest::option::of(prop_oneof![
            Just("invalid_grant".to_owned()), Just("invalid_client".to_owned()),
            Just("server_error".to_owned()), Just("temporarily_unavailable".to_owned()),
            Just("invalid_scope".to_owned()), text(),
        ]),
        retry_after in proptest::option::of(prop_oneof![
            Just("0".to_owned()), Just("7".to_owned()), Just("99999999999999999999999".to_owned()),
            Just("Sun, 06 Nov 1994 08:49:37 GMT".to_owned()), text(),
        ]),
        description in proptest::option::of(text()),
    ) {
        let mut object = Map::new();
        if let Some(error) = &error {
            object.insert("error".into(), Value::String(error.clone()));
        }
        if let Some(d) = description {
            object.insert("error_description".into(), Value::String(d));
        }
        let body = Value::Object(object).to_string();
        let Err(err) = classify_response(&answer(status, retry_after.as_deref(), body.as_bytes()))
        else {
            return Err(TestCaseError::fail("an error body is never a token"));
        };
        let state = err.refresh_token_state();
        prop_assert_eq!(err.status(), Some(status));
        prop_assert!(!err.is_retryable(), "only the client's retry policy decides that");
        prop_assert!(err.retry_after().is_none_or(|d| d <= MAX_DURATION));
        match err.code() {
            ErrorCode::RateLimited => {
                prop_assert_eq!(status, 429);
                prop_assert_eq!(state, RefreshTokenState::Unused);
            }
            ErrorCode::InvalidGrant => prop_assert_eq!(state, RefreshTokenState::Rejected),
            ErrorCode::ServerError => {
                let unused = error.as_deref() == Some("temporarily_unavailable")
                    || (status == 503 && err.retry_after().is_some());
                let want = if unused { RefreshTokenState::Unused } else { RefreshTokenState::Unknown };
                prop_assert_eq!(state, want);
            }
            ErrorCode::HttpStatus => {
                prop_assert!(!(500..600).contains(&status) && status != 429);
                prop_assert_eq!(state, RefreshTokenState::Unused);
            }
            ErrorCode::InvalidResponse => prop_assert!((200..300).contains(&status)),
            ErrorCode::InvalidClient | ErrorCode::InvalidRequest | ErrorCode::InvalidScope
            | ErrorCode::UnauthorizedClient | ErrorCode::UnsupportedGrantType => {
                prop_assert_eq!(state, RefreshTokenState::Unused);
            }
            other => return Err(TestCaseError::fail(format!("unexpected code {other}"))),
        }
    }

    #[test]
    fn retry_after_is_bounded(value in text()) {
        if let Some(wait) = parse_retry_after(&value, SystemTime::now()) {
            prop_assert!(wait <= MAX_DURATION);
        }
    }

    /// The refresh token is found however far into an oversized body it comes, and however
    /// the body arrives in pieces.
    #[test]
    fn the_oversized_scan_finds_the_refresh_token(
        padding in 0usize..300_000,
        head_len in 0usize..400_000,
        chunks in prop::collection::vec(1usize..70_000, 1..8),
        refresh_token in "[A-Za-z0-9._~+/=-]{1,200}",
    ) {
        let body = format!(
            "{{\"access_token\":\"at\",\"padding\":\"{}\",\"refresh_token\" : \"{refresh_token}\"}}",
            "x".repeat(padding)
        );
        let bytes = body.into_bytes();
        let split = head_len.min(bytes.len());
        let rest = Chunked { data: bytes[split..].to_vec(), sizes: chunks, at: 0, turn: 0 };
        let found = scan_oversized(bytes[..split].to_vec(), rest);
        prop_assert_eq!(found.as_ref().map(Secret::expose), Some(refresh_token.as_str()));
    }
}

/// A reader that hands out its data in the given chunk sizes, in turn.
struct Chunked {
    data: Vec<u8>,
    sizes: Vec<usize>,
    at: usize,
    turn: usize,
}

impl Read for Chunked {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let size = self.sizes[self.turn % self.sizes.len()].min(buf.len());
        self.turn += 1;
        let n = size.min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
