//! Options as data. Every option a face can set — its name in each language, its kind, its
//! default and its validation — lives here once. A binding hands over `(name, value)` pairs
//! in its own language's spelling; it knows nothing about any single option, so a new
//! option is added here and appears in every face.

use std::time::Duration;

use crate::error::Error;
use crate::limits::{checked_fraction, duration_from_millis, duration_from_secs};
use crate::seal::EncryptionKey;
use zeroize::Zeroize;

/// A language that exposes the library, for naming options, error fields and units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Face {
    /// snake_case, durations in seconds (a float).
    Python,
    /// camelCase, durations in milliseconds with an `Ms` suffix.
    Node,
    /// snake_case, durations in milliseconds with a `_ms` suffix.
    C,
}

impl Face {
    /// Every face, for tests that iterate them.
    pub const ALL: [Face; 3] = [Face::Python, Face::Node, Face::C];

    /// What `name` (snake_case, as the core spells it) is called in this face.
    pub fn name(self, name: &str, kind: Kind) -> String {
        let suffix = match (self, kind) {
            (Face::Node, Kind::Duration) => "_ms",
            (Face::C, Kind::Duration) => "_ms",
            _ => "",
        };
        let name = format!("{name}{suffix}");
        match self {
            Face::Node => camel_case(&name),
            Face::Python | Face::C => name,
        }
    }

    /// The unit this face gives durations in.
    fn unit(self) -> &'static str {
        match self {
            Face::Python => "seconds",
            Face::Node | Face::C => "milliseconds",
        }
    }

    fn duration(self, name: &str, number: f64) -> Result<Duration, Error> {
        match self {
            Face::Python => duration_from_secs(name, number),
            Face::Node | Face::C => duration_from_millis(name, number),
        }
    }
}

/// `snake_case` → `camelCase`.
pub fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

/// What an option holds, which decides the values it accepts and its name per face.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `true` / `false`.
    Bool,
    /// A whole number from 0 to `u32::MAX`.
    Count,
    /// A number from 0 to 1.
    Fraction,
    /// A duration: seconds in Python, milliseconds in Node and C.
    Duration,
    /// Text; the option's own validation decides what text.
    Text,
    /// A file path.
    Path,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// A map of names to text (headers).
    Pairs,
    /// An encryption key: 32 bytes, or 64 hex digits.
    Key,
}

/// One option: its core name (snake_case), kind, and the sentence each face documents it by.
#[derive(Clone, Copy, Debug)]
pub struct OptionInfo {
    /// snake_case, as Rust and the surface file spell it.
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
    /// One line for the docs of every face.
    pub doc: &'static str,
    /// Which client constructors take it.
    pub preset: Preset,
}

/// Which client constructors take an option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Every constructor.
    Any,
    /// Only the Gusto preset.
    GustoOnly,
    /// Every constructor but the Gusto preset, which fixes it.
    NotGusto,
}

impl OptionInfo {
    /// An option every constructor takes.
    pub const fn new(name: &'static str, kind: Kind, doc: &'static str) -> Self {
        OptionInfo {
            name,
            kind,
            doc,
            preset: Preset::Any,
        }
    }

    /// This option, taken only by `preset`'s constructors.
    pub const fn only(self, preset: Preset) -> Self {
        OptionInfo { preset, ..self }
    }
}

/// A value as a binding received it, before the core decides what it means. Deliberately
/// not `Debug`: a value may be a secret.
pub enum Value {
    /// Absent: `None`, `null`, `undefined`. Leaves the default.
    Null,
    /// A boolean.
    Bool(bool),
    /// Any number (integers arrive as floats: every face's integers fit).
    Number(f64),
    /// Text.
    Text(String),
    /// Raw bytes (Python `bytes`, a Node `Buffer`).
    Bytes(Vec<u8>),
    /// A map of names to text, in the caller's order.
    Pairs(Vec<(String, String)>),
    /// A value of a type no option takes (a list, a function...): refused naming the option.
    Other,
}

/// A value checked against its option's kind, in the core's units.
pub(crate) enum Checked {
    Bool(bool),
    Count(u32),
    Fraction(f64),
    Duration(Duration),
    Text(String),
    Pairs(Vec<(String, String)>),
    Key(Box<EncryptionKey>),
}

/// Finds the option `name` means in `face`, checks `value` against its kind, and hands the
/// result to `apply`. `preset`: for a client, whether it is the Gusto preset. `Value::Null` leaves the default. Errors name the option as the
/// caller spelt it and never show the value (it may be a secret).
pub(crate) fn set(
    table: &[OptionInfo],
    what: &str,
    face: Face,
    name: &str,
    value: Value,
    preset: Option<bool>,
    apply: impl FnOnce(&'static str, Checked) -> Result<(), Error>,
) -> Result<(), Error> {
    let Some(info) = table.iter().find(|o| face.name(o.name, o.kind) == name) else {
        return Err(unknown(table, what, face, name));
    };
    if matches!(value, Value::Null) {
        return Ok(());
    }
    match (info.preset, preset) {
        (Preset::GustoOnly, Some(false)) => {
            return Err(Error::invalid_input(format!(
                "{name} is an option of the Gusto preset"
            )))
        }
        (Preset::NotGusto, Some(true)) => {
            return Err(Error::invalid_input(format!(
                "the Gusto preset sets {name} itself"
            )))
        }
        _ => {}
    }
    let wrong = |expected: &str| Error::invalid_input(format!("{name} must be {expected}"));
    let checked = match (info.kind, value) {
        (Kind::Bool, Value::Bool(b)) => Checked::Bool(b),
        (Kind::Bool, _) => return Err(wrong("true or false")),
        (Kind::Count, Value::Number(n))
            if n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&n) =>
        {
            Checked::Count(n as u32)
        }
        (Kind::Count, _) => return Err(wrong(&format!("a whole number from 0 to {}", u32::MAX))),
        (Kind::Fraction, Value::Number(n)) => Checked::Fraction(checked_fraction(name, n)?),
        (Kind::Fraction, _) => return Err(wrong("a number from 0 to 1")),
        (Kind::Duration, Value::Number(n)) => Checked::Duration(face.duration(name, n)?),
        (Kind::Duration, _) => return Err(face.duration(name, f64::NAN).unwrap_err()),
        (Kind::Text | Kind::Path, Value::Text(t)) => Checked::Text(t),
        (Kind::Text, _) => return Err(wrong("a string")),
        (Kind::Path, _) => return Err(wrong("a path")),
        (Kind::Choice(words), Value::Text(t)) if words.contains(&t.as_str()) => Checked::Text(t),
        (Kind::Choice(words), _) => return Err(wrong(&format!("one of {words:?}"))),
        (Kind::Pairs, Value::Pairs(p)) => Checked::Pairs(p),
        (Kind::Pairs, _) => return Err(wrong("a map of names to strings")),
        // The caller's copy of a key is wiped once parsed.
        (Kind::Key, Value::Bytes(mut b)) => {
            let key = EncryptionKey::from_bytes(&b);
            b.zeroize();
            Checked::Key(Box::new(key.map_err(|_| wrong(KEY))?))
        }
        (Kind::Key, Value::Text(mut t)) => {
            let key = EncryptionKey::parse(&t);
            t.zeroize();
            Checked::Key(Box::new(key.map_err(|_| wrong(KEY))?))
        }
        (Kind::Key, _) => return Err(wrong(KEY)),
    };
    apply(info.name, checked)
}

/// What an encryption key may be, for its refusals.
const KEY: &str = "32 bytes, or 64 hex digits or the base64 of 32 bytes";

/// `unknown option`, with the face's spelling when the caller used another face's.
fn unknown(table: &[OptionInfo], what: &str, face: Face, name: &str) -> Error {
    let elsewhere = table.iter().find(|o| {
        // Its core name, a plain camelCase of it, or another face's spelling.
        o.name == name
            || camel_case(o.name) == name
            || Face::ALL.iter().any(|f| f.name(o.name, o.kind) == name)
    });
    match elsewhere {
        Some(o) => Error::invalid_input(format!(
            "unknown {what} option {name:?}: here it is {:?}{}",
            face.name(o.name, o.kind),
            match o.kind {
                Kind::Duration => format!(" ({})", face.unit()),
                _ => String::new(),
            }
        )),
        None => Error::invalid_input(format!("unknown {what} option {name:?}")),
    }
}

/// A timeout as the caller spelt it (`shown`): more than zero, or every call would fail.
pub(crate) fn positive(shown: &str, value: Duration) -> Result<Duration, Error> {
    if value.is_zero() {
        return Err(Error::invalid_input(format!(
            "{shown} must be greater than zero"
        )));
    }
    Ok(value)
}

/// Text no server could accept (empty, or with a NUL byte) refused naming it as `shown`.
pub(crate) fn field(shown: &str, value: String) -> Result<String, Error> {
    crate::request::check_field(shown, &value)?;
    Ok(value)
}

/// The reason a `Checked` did not match its table entry: a bug here, never the caller's.
pub(crate) fn mismatch(name: &str) -> Error {
    Error::invalid_input(format!("option {name} is misdeclared in the core (a bug)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientOptions, GustoEnvironment, ManagerConfig, StoreOptions};
    use proptest::prelude::*;

    /// Sets `name` on a fresh object of every kind that has it; the errors.
    fn errors(face: Face, name: &str, value: impl Fn() -> Value) -> Vec<Error> {
        let mut out = Vec::new();
        let mut client = ClientOptions::default();
        let mut gusto = ClientOptions::gusto(GustoEnvironment::Demo);
        out.extend(client.set(face, name, value()).err());
        out.extend(gusto.set(face, name, value()).err());
        out.extend(ManagerConfig::default().set(face, name, value()).err());
        out.extend(StoreOptions::default().set_redis(face, name, value()).err());
        out.extend(StoreOptions::default().set_file(face, name, value()).err());
        out
    }

    proptest! {
        /// Whatever a caller passes to whichever option, in any form, no refusal shows it:
        /// it may be a secret given to the wrong option.
        #[test]
        fn a_refused_value_is_never_shown(secret in "[A-Za-z0-9_.~-]{8,40}") {
            let tables = [
                ClientOptions::OPTIONS,
                ManagerConfig::OPTIONS,
                StoreOptions::REDIS_OPTIONS,
                StoreOptions::FILE_OPTIONS,
            ];
            for face in Face::ALL {
                for o in tables.iter().flat_map(|t| t.iter()) {
                    let name = face.name(o.name, o.kind);
                    let values: [&dyn Fn() -> Value; 4] = [
                        &|| Value::Text(secret.clone()),
                        &|| Value::Bytes(secret.clone().into_bytes()),
                        &|| Value::Pairs(vec![("x-key".into(), secret.clone())]),
                        &|| Value::Number(secret.len() as f64 * 1e300),
                    ];
                    for value in values {
                        for e in errors(face, &name, value) {
                            prop_assert!(!e.message().contains(&secret), "{}: {}", name, e);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn an_unknown_option_names_this_face_spelling() {
        let mut o = ClientOptions::default();
        let e = o
            .set(Face::Python, "timeout_ms", Value::Number(1.0))
            .unwrap_err();
        assert_eq!(
            e.message(),
            "unknown client option \"timeout_ms\": here it is \"timeout\" (seconds)"
        );
        let e = o
            .set(Face::Node, "connect_timeout", Value::Number(1.0))
            .unwrap_err();
        assert_eq!(e.message(), "unknown client option \"connect_timeout\": here it is \"connectTimeoutMs\" (milliseconds)");
        let e = o
            .set(Face::C, "maxRetries", Value::Number(1.0))
            .unwrap_err();
        assert_eq!(
            e.message(),
            "unknown client option \"maxRetries\": here it is \"max_retries\""
        );
        let e = o.set(Face::C, "retries", Value::Number(1.0)).unwrap_err();
        assert_eq!(e.message(), "unknown client option \"retries\"");
    }

    #[test]
    fn values_are_checked_against_their_kind() {
        let mut o = ClientOptions::default();
        let refused = |o: &mut ClientOptions, name: &str, v: Value| {
            o.set(Face::Node, name, v).unwrap_err().to_string()
        };
        assert!(refused(&mut o, "maxRetries", Value::Number(-1.0)).contains("a whole number"));
        assert!(refused(&mut o, "maxRetries", Value::Number(0.5)).contains("a whole number"));
        assert!(refused(
            &mut o,
            "maxRetries",
            Value::Number(f64::from(u32::MAX) + 1.0)
        )
        .contains("a whole number"));
        assert!(refused(&mut o, "timeoutMs", Value::Number(f64::NAN)).contains("milliseconds"));
        assert!(refused(&mut o, "timeoutMs", Value::Text("5".into())).contains("milliseconds"));
        assert!(refused(&mut o, "bodyEncoding", Value::Text("xml".into()))
            .contains("one of [\"form\", \"json\"]"));
        assert!(refused(&mut o, "headers", Value::Other).contains("a map"));
        assert!(refused(&mut o, "proxyFromEnv", Value::Number(1.0)).contains("true or false"));
        let most = Value::Number(f64::from(u32::MAX));
        o.set(Face::Node, "maxIdleConnections", most).unwrap();
        assert_eq!(o.max_idle_connections, u32::MAX);
        let many = Value::Number(f64::from(u32::MAX));
        assert!(refused(&mut o, "maxRetries", many).contains("maxRetries must be at most 20"));
        o.set(Face::Node, "timeoutMs", Value::Number(1500.0))
            .unwrap();
        assert_eq!(o.timeout, std::time::Duration::from_millis(1500));
        o.set(Face::Python, "timeout", Value::Number(1.5)).unwrap();
        assert_eq!(o.timeout, std::time::Duration::from_millis(1500));
        o.set(Face::Node, "timeoutMs", Value::Null).unwrap();
        assert_eq!(
            o.timeout,
            std::time::Duration::from_millis(1500),
            "null leaves it"
        );
    }

    #[test]
    fn names_per_face() {
        assert_eq!(
            Face::Node.name("connect_timeout", Kind::Duration),
            "connectTimeoutMs"
        );
        assert_eq!(
            Face::C.name("connect_timeout", Kind::Duration),
            "connect_timeout_ms"
        );
        assert_eq!(
            Face::Python.name("connect_timeout", Kind::Duration),
            "connect_timeout"
        );
        assert_eq!(Face::Node.name("ca_file", Kind::Text), "caFile");
        assert_eq!(camel_case("a_b_c"), "aBC");
    }
}
