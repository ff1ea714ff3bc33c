//! Request bodies and the Basic credentials header, written by hand into one buffer.

use base64::Engine;
use zeroize::Zeroizing;

/// How parameters travel in the body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BodyEncoding {
    /// `application/x-www-form-urlencoded` (RFC 6749; what real servers expect).
    #[default]
    Form,
    /// `application/json` (Gusto).
    Json,
}

impl BodyEncoding {
    /// Parses `"form"` or `"json"`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "form" => Some(BodyEncoding::Form),
            "json" => Some(BodyEncoding::Json),
            _ => None,
        }
    }

    pub(crate) fn content_type(self) -> &'static str {
        match self {
            BodyEncoding::Form => "application/x-www-form-urlencoded",
            BodyEncoding::Json => "application/json",
        }
    }
}

/// Writes `name=value` pairs as a form or a JSON object. The buffer is wiped on drop
/// because it holds the client secret and the refresh token.
pub(crate) struct BodyWriter {
    encoding: BodyEncoding,
    buf: Zeroizing<Vec<u8>>,
}

impl BodyWriter {
    pub(crate) fn new(encoding: BodyEncoding) -> Self {
        let mut buf = Zeroizing::new(Vec::with_capacity(256));
        if encoding == BodyEncoding::Json {
            buf.push(b'{');
        }
        BodyWriter { encoding, buf }
    }

    pub(crate) fn param(&mut self, name: &str, value: &str) {
        // The most either encoding can write (`\u00XX` for a control character).
        reserve_wiped(&mut self.buf, 6 * (name.len() + value.len()) + 8);
        match self.encoding {
            BodyEncoding::Form => {
                if !self.buf.is_empty() {
                    self.buf.push(b'&');
                }
                percent_encode(name, &mut self.buf);
                self.buf.push(b'=');
                percent_encode(value, &mut self.buf);
            }
            BodyEncoding::Json => {
                if self.buf.len() > 1 {
                    self.buf.push(b',');
                }
                json_string(name, &mut self.buf);
                self.buf.push(b':');
                json_string(value, &mut self.buf);
            }
        }
    }

    pub(crate) fn finish(mut self) -> Zeroizing<Vec<u8>> {
        if self.encoding == BodyEncoding::Json {
            self.buf.push(b'}');
        }
        self.buf
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`, per RFC 6749 §2.3.1.
pub(crate) fn basic_credentials(client_id: &str, client_secret: &str) -> Zeroizing<String> {
    // Percent-encoding at most triples each byte: no reallocation leaves a copy behind.
    let mut raw = Zeroizing::new(Vec::with_capacity(
        3 * (client_id.len() + client_secret.len()) + 1,
    ));
    percent_encode(client_id, &mut raw);
    raw.push(b':');
    percent_encode(client_secret, &mut raw);
    let mut header = Zeroizing::new(String::with_capacity(6 + raw.len() * 4 / 3 + 4));
    header.push_str("Basic ");
    base64::engine::general_purpose::STANDARD.encode_string(&*raw, &mut header);
    header
}

/// Makes room for `extra` more bytes in a buffer that holds secrets. A `Vec` that grows
/// frees its old buffer unwiped; this copies into a new one and wipes the old.
pub(crate) fn reserve_wiped(buf: &mut Zeroizing<Vec<u8>>, extra: usize) {
    if buf.capacity() - buf.len() >= extra {
        return;
    }
    let mut bigger = Zeroizing::new(Vec::with_capacity(
        (buf.len() + extra).max(buf.capacity() * 2),
    ));
    bigger.extend_from_slice(buf);
    *buf = bigger;
}

/// Percent-encodes every byte outside RFC 3986's unreserved set (so a space is `%20`).
pub(crate) fn percent_encode(value: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

fn json_string(value: &str, out: &mut Vec<u8>) {
    // Writing a &str into a Vec cannot fail.
    serde_json::to_writer(out, value).expect("writing JSON to memory");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encodes_everything_outside_unreserved() {
        let mut w = BodyWriter::new(BodyEncoding::Form);
        w.param("grant_type", "refresh_token");
        w.param("x", "a b+c%d/e&f=g:h~i");
        assert_eq!(
            std::str::from_utf8(&w.finish()).unwrap(),
            "grant_type=refresh_token&x=a%20b%2Bc%25d%2Fe%26f%3Dg%3Ah~i"
        );
    }

    #[test]
    fn json_escapes_strings() {
        let mut w = BodyWriter::new(BodyEncoding::Json);
        w.param("a", "quote\" back\\ nl\n");
        w.param("b", "é");
        assert_eq!(
            std::str::from_utf8(&w.finish()).unwrap(),
            r#"{"a":"quote\" back\\ nl\n","b":"é"}"#
        );
    }

    #[test]
    fn basic_percent_encodes_before_base64() {
        // RFC 6749 §2.3.1: id and secret are form-urlencoded, then joined with ':'.
        let header = basic_credentials("id:1", "s p+%");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(header.strip_prefix("Basic ").unwrap())
            .unwrap();
        assert_eq!(decoded, b"id%3A1:s%20p%2B%25");
    }
}
