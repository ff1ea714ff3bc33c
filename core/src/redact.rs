//! Keeps secrets and terminal control out of error text.
//!
//! A server may echo what it was sent — the refresh token, the client secret, the Basic
//! header — in any field of its error answer, and a hostile one may put CR/LF or escape
//! sequences there to forge log lines. Every error an exchange produces goes through
//! [`redact`] before the caller sees it, and every message through [`escape_controls`].

use base64::Engine;
use zeroize::Zeroizing;

use crate::encode::percent_encode;
use crate::error::Error;

/// What replaces a secret found in server text.
pub(crate) const REDACTED: &str = "[redacted]";

/// Shorter values are not looked for: they would match ordinary words.
const MIN_SECRET_LEN: usize = 4;

/// `err` with every secret in play hidden from its message and server fields: the values
/// in `secrets` (sent), the refresh token the error carries (received), and
/// `basic_credentials` (the base64 part of a Basic header). Each is looked for raw, as a
/// form body or URL carries it (percent-encoded, `+` for space) and JSON-escaped.
pub(crate) fn redact(err: Error, secrets: &[&str], basic_credentials: Option<&str>) -> Error {
    let mut needles: Vec<Zeroizing<String>> = Vec::new();
    let received = err.salvaged_refresh_token().map(str::to_owned);
    let received = received.map(Zeroizing::new);
    let values = secrets
        .iter()
        .copied()
        .chain(received.as_ref().map(|r| r.as_str()));
    for value in values.filter(|v| v.len() >= MIN_SECRET_LEN) {
        needles.extend(forms(value));
    }
    if let Some(basic) = basic_credentials.filter(|b| b.len() >= MIN_SECRET_LEN) {
        needles.push(Zeroizing::new(basic.to_owned()));
    }
    // Longest first, so a form that contains another is replaced whole.
    needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    needles.dedup();
    err.map_text(|text| scrub(text, &needles))
}

/// The ways `value` can appear in echoed text.
fn forms(value: &str) -> impl Iterator<Item = Zeroizing<String>> {
    let raw = Zeroizing::new(value.to_owned());
    let mut percent = Zeroizing::new(Vec::with_capacity(value.len() * 3));
    percent_encode(value, &mut percent);
    let percent = Zeroizing::new(String::from_utf8_lossy(&percent).into_owned());
    // A form body may write a space as `+`; other encoders write hex in lower case.
    let form = Zeroizing::new(percent.replace("%20", "+"));
    let lower = Zeroizing::new(lower_hex_escapes(&percent));
    let json = Zeroizing::new(serde_json::to_string(value).unwrap_or_default());
    let json = Zeroizing::new(json.trim_matches('"').to_owned());
    // Some encoders also escape `/`.
    let json_slash = Zeroizing::new(json.replace('/', "\\/"));
    let base64 = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(value.as_bytes()));
    [raw, percent, form, lower, json, json_slash, base64].into_iter()
}

/// `%2F` as `%2f`.
fn lower_hex_escapes(percent: &str) -> String {
    let mut out = String::with_capacity(percent.len());
    let mut hex_left = 0;
    for c in percent.chars() {
        if c == '%' {
            hex_left = 2;
            out.push(c);
        } else if hex_left > 0 {
            hex_left -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn scrub(text: &str, needles: &[Zeroizing<String>]) -> String {
    let mut text = text.to_owned();
    for needle in needles {
        if text.contains(needle.as_str()) {
            text = text.replace(needle.as_str(), REDACTED);
        }
    }
    text
}

/// Whether a character can move the cursor, start an escape sequence, end a log line or
/// reorder what is shown (bidirectional overrides).
fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every control character written as a Rust escape (`\n`, `\u{1b}`), so one
/// error is one line of plain text whatever a server sent.
pub(crate) fn escape_controls(text: String) -> String {
    if !text.chars().any(is_control) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_control(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorCode, RefreshTokenState};

    fn server_error(description: &str) -> Error {
        Error::new(
            ErrorCode::InvalidRequest,
            RefreshTokenState::Unused,
            format!("the token endpoint answered HTTP 400: {description}"),
        )
        .with_server_error(
            Some(format!("bad {description}")),
            Some(description.to_owned()),
            Some(format!("https://errors.test/{description}")),
        )
    }

    #[test]
    fn every_form_of_every_secret_is_hidden_everywhere() {
        let secret = "s3cret value/+ \"q\"";
        let token = "rt-0123456789";
        let basic = "YXBwOnMzY3JldA==";
        let mut percent = Vec::new();
        percent_encode(secret, &mut percent);
        let percent = String::from_utf8(percent).unwrap();
        let form = percent.replace("%20", "+");
        let lower = percent.to_lowercase();
        let json = serde_json::to_string(secret).unwrap();
        let json = json.trim_matches('"');
        let json_slash = json.replace('/', "\\/");
        let text =
            format!("{secret} {percent} {form} {lower} {json} {json_slash} {token} Basic {basic}");
        let err = redact(server_error(&text), &[secret, token], Some(basic));
        let shown = [
            err.message(),
            err.error().unwrap(),
            err.error_description().unwrap(),
            err.error_uri().unwrap(),
        ];
        for field in shown {
            let forms = [&percent, &form, &lower, &json_slash];
            for hidden in [secret, token, basic, json]
                .into_iter()
                .chain(forms.map(|f| f.as_str()))
            {
                assert!(!field.contains(hidden), "{hidden:?} in {field:?}");
            }
            assert!(field.contains(REDACTED));
        }
    }

    #[test]
    fn a_received_refresh_token_is_hidden_too() {
        let err = server_error("rotated to rt-new-9876")
            .with_salvaged_refresh_token(Some("rt-new-9876".into()));
        let err = redact(err, &[], None);
        assert!(!err.message().contains("rt-new-9876"));
        assert_eq!(err.salvaged_refresh_token(), Some("rt-new-9876"));
    }

    #[test]
    fn short_values_are_not_looked_for() {
        let err = redact(server_error("abc is bad"), &["abc"], None);
        assert!(err.message().contains("abc is bad"));
    }

    #[test]
    fn controls_are_escaped() {
        assert_eq!(
            escape_controls("a\r\nb\u{1b}[31m\u{0}\u{202e}".to_owned()),
            "a\\r\\nb\\u{1b}[31m\\u{0}\\u{202e}"
        );
        assert_eq!(escape_controls("plain é".to_owned()), "plain é");
    }
}
