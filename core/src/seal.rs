//! Encryption at rest for stored tokens: XChaCha20-Poly1305 under a caller's 32-byte key.
//!
//! A sealed record is `sealed-v1:` and the base64 of a random 24-byte nonce followed by the
//! ciphertext and its tag. 192-bit random nonces cannot realistically repeat, so no counter
//! has to be kept anywhere. The associated data names where the record lives: for Redis its
//! key, for a file the file's name (not its directory, so a directory of token files can be
//! moved). A record copied to another account's key, or to a file of another name, does not
//! open there.

use std::fmt;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorCode, RefreshTokenState};
use crate::secret::Secret;

const PREFIX: &str = "sealed-v1:";
const NONCE_LEN: usize = 24;

/// A 32-byte key that seals stored tokens. Wiped from memory when dropped; never printed.
#[derive(Clone)]
pub struct EncryptionKey(Zeroizing<[u8; 32]>);

impl EncryptionKey {
    /// The key from its 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| wrong_length())?;
        Ok(EncryptionKey(Zeroizing::new(bytes)))
    }

    /// The key from text, as kept in an environment variable: 64 hex digits, or the base64
    /// (standard or URL-safe, padded or not) of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        let bytes = Zeroizing::new(if text.len() == 64 {
            hex(text).ok_or_else(wrong_length)?
        } else {
            [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(text).ok())
                .ok_or_else(wrong_length)?
        });
        EncryptionKey::from_bytes(&bytes)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&(*self.0).into())
    }

    /// `plaintext` sealed for the place named `context`.
    pub(crate) fn seal(&self, plaintext: &str, context: &[u8]) -> Result<String, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| {
            Error::new(
                ErrorCode::StoreFailed,
                RefreshTokenState::Unused,
                format!("no randomness for an encryption nonce: {e}"),
            )
        })?;
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: context,
        };
        let sealed = self
            .cipher()
            .encrypt(&XNonce::from(nonce), payload)
            .expect("encrypting into a Vec cannot fail");
        let mut record = nonce.to_vec();
        record.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(record)))
    }

    /// The plaintext of a record [`seal`](Self::seal) wrote for `context`.
    pub(crate) fn open(&self, record: &str, context: &[u8]) -> Result<Secret, Error> {
        let body = record.strip_prefix(PREFIX).ok_or_else(|| {
            decrypt_error("the stored token is not encrypted, but an encryption key was given")
        })?;
        let bytes = STANDARD
            .decode(body)
            .ok()
            .filter(|b| b.len() > NONCE_LEN)
            .ok_or_else(|| decrypt_error("the stored token is not a valid sealed record"))?;
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("split at NONCE_LEN");
        let payload = Payload {
            msg: sealed,
            aad: context,
        };
        let plain = self
            .cipher()
            .decrypt(&XNonce::from(nonce), payload)
            .map_err(|_| {
                decrypt_error(
                    "the stored token could not be decrypted: wrong encryption key, or a record \
                     written for another account",
                )
            })?;
        let text = String::from_utf8(plain)
            .map_err(|_| decrypt_error("the decrypted token is not text"))?;
        Ok(Secret::new(text))
    }
}

/// Whether a stored value is sealed (so that reading it without a key is a clear error).
pub(crate) fn is_sealed(record: &str) -> bool {
    record.starts_with(PREFIX)
}

/// The plaintext of a stored value, opened with `key` when there is one.
pub(crate) fn unseal(
    key: Option<&EncryptionKey>,
    record: &str,
    context: &[u8],
) -> Result<Secret, Error> {
    match key {
        Some(key) => key.open(record, context),
        None if is_sealed(record) => Err(decrypt_error(
            "the stored token is encrypted, but no encryption key was given",
        )),
        None => Ok(Secret::new(record)),
    }
}

/// What to store for `plaintext`: sealed when there is a key.
pub(crate) fn maybe_seal(
    key: Option<&EncryptionKey>,
    plaintext: &Secret,
    context: &[u8],
) -> Result<Secret, Error> {
    match key {
        Some(key) => key.seal(plaintext.expose(), context).map(Secret::new),
        None => Ok(plaintext.clone()),
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey(<redacted>)")
    }
}

fn wrong_length() -> Error {
    Error::invalid_input(
        "an encryption key must be 32 bytes: 64 hex digits or the base64 of 32 bytes",
    )
}

fn decrypt_error(message: &str) -> Error {
    Error::new(
        ErrorCode::StoreDecrypt,
        RefreshTokenState::Unused,
        message.to_owned(),
    )
}

/// The bytes of hex text: pairs of `[0-9a-fA-F]` and nothing else (`u8::from_str_radix`
/// would also take a sign, so `"+f"` would pass for `"0f"`).
fn hex(text: &str) -> Option<Vec<u8>> {
    fn digit(c: u8) -> Option<u8> {
        (c as char).to_digit(16).map(|d| d as u8)
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [high, low] => Some((digit(*high)? << 4) | digit(*low)?),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> EncryptionKey {
        EncryptionKey::from_bytes(&[byte; 32]).unwrap()
    }

    #[test]
    fn sealed_text_opens_with_its_key_and_context_only() {
        let sealed = key(1).seal("the token", b"acct-a").unwrap();
        assert!(!sealed.contains("the token"));
        assert_eq!(
            key(1).open(&sealed, b"acct-a").unwrap().expose(),
            "the token"
        );
        for (k, context) in [(key(2), b"acct-a"), (key(1), b"acct-b")] {
            let err = k.open(&sealed, context).unwrap_err();
            assert_eq!(err.code(), ErrorCode::StoreDecrypt);
        }
    }

    #[test]
    fn two_seals_of_one_text_differ() {
        assert_ne!(
            key(1).seal("x", b"c").unwrap(),
            key(1).seal("x", b"c").unwrap()
        );
    }

    #[test]
    fn plain_and_sealed_records_never_pass_for_each_other() {
        let sealed = key(1).seal("{}", b"c").unwrap();
        let no_key = unseal(None, &sealed, b"c").unwrap_err();
        assert_eq!(no_key.code(), ErrorCode::StoreDecrypt);
        assert!(no_key.message().contains("no encryption key"));
        let plain = unseal(Some(&key(1)), "{}", b"c").unwrap_err();
        assert_eq!(plain.code(), ErrorCode::StoreDecrypt);
        assert!(plain.message().contains("not encrypted"));
        let cut = unseal(Some(&key(1)), &sealed[..sealed.len() - 4], b"c").unwrap_err();
        assert_eq!(cut.code(), ErrorCode::StoreDecrypt);
    }

    #[test]
    fn keys_parse_from_hex_and_base64_and_nothing_else() {
        let hex_key = "00".repeat(31) + "ff";
        let b64_key = STANDARD.encode([7u8; 32]);
        let url_key = URL_SAFE_NO_PAD.encode([0xfbu8; 32]);
        for text in [hex_key.as_str(), b64_key.as_str(), url_key.as_str()] {
            EncryptionKey::parse(text).unwrap();
        }
        let short = STANDARD.encode([7u8; 16]);
        for text in ["", "zz".repeat(32).as_str(), short.as_str(), "not a key"] {
            let err = EncryptionKey::parse(text).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidInput);
            assert!(!err.message().contains(text) || text.is_empty());
        }
        assert_eq!(format!("{:?}", key(9)), "EncryptionKey(<redacted>)");
    }

    #[test]
    fn hex_keys_are_hex_digits_only() {
        let hex_key = "0a".repeat(31) + "Ff";
        assert_eq!(
            EncryptionKey::parse(&hex_key).unwrap().0[..],
            [[0x0a; 31].as_slice(), &[0xff]].concat()
        );
        // `u8::from_str_radix` reads "+f" as 15: a sign is not a digit.
        for pair in ["+f", "+0", "-0", " f", "f ", "0x", "g0", "é"] {
            for at in [0, 15, 31] {
                let text = format!("{}{pair}{}", "00".repeat(at), "00".repeat(31 - at));
                assert_eq!(text.len(), 64);
                let err = EncryptionKey::parse(&text).unwrap_err();
                assert_eq!(err.code(), ErrorCode::InvalidInput, "{pair:?} at {at}");
            }
        }
        assert!(EncryptionKey::parse(&"+f".repeat(32)).is_err());
    }
}
