//! The core against `tests/conformance/surface.json`: every option table, error field and
//! error code is the one the file (and so every face's suite) expects.

use oauth_refresh::options::{Face, Kind, OptionInfo, Value};
use oauth_refresh::{
    AccountsConfig, ClientOptions, Error, ErrorCode, EventKind, HealthStatus, ManagerConfig,
    StoreOptions,
};
use serde_json::Value as Json;

fn surface() -> Json {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/conformance/surface.json"
    ))
    .expect("reading surface.json");
    serde_json::from_str(&text).expect("surface.json is JSON")
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Bool => "bool",
        Kind::Count => "count",
        Kind::Fraction => "fraction",
        Kind::Duration => "duration",
        Kind::Text => "text",
        Kind::Path => "path",
        Kind::Choice(_) => "choice",
        Kind::Pairs => "pairs",
        Kind::Key => "key",
    }
}

fn listed(table: &[OptionInfo]) -> Vec<(String, String)> {
    table
        .iter()
        .map(|o| (o.name.to_owned(), kind_word(o.kind).to_owned()))
        .collect()
}

fn in_file(section: &Json) -> Vec<(String, String)> {
    section
        .as_object()
        .expect("an object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("a kind").to_owned()))
        .collect()
}

#[test]
fn option_tables_match_the_surface_file() {
    let s = surface();
    let tables: [(&str, &[OptionInfo]); 6] = [
        ("client", ClientOptions::OPTIONS),
        ("manager", ManagerConfig::OPTIONS),
        ("accounts", AccountsConfig::OPTIONS),
        ("file_store", StoreOptions::FILE_OPTIONS),
        ("redis_store", StoreOptions::REDIS_OPTIONS),
        ("postgres_store", StoreOptions::POSTGRES_OPTIONS),
    ];
    for (name, table) in tables {
        let mut core = listed(table);
        let mut file = in_file(&s["options"][name]);
        core.sort();
        file.sort();
        assert_eq!(core, file, "{name} options");
    }
}

#[test]
fn error_fields_and_codes_match_the_surface_file() {
    let s = surface();
    let mut core: Vec<(String, String)> = Error::FIELDS
        .iter()
        .map(|(n, k)| (n.to_string(), kind_word(*k).to_owned()))
        .collect();
    let mut file = in_file(&s["error_fields"]);
    core.sort();
    file.sort();
    assert_eq!(core, file);
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    let file: Vec<&str> = s["error_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(codes, file);
    let err = Error::invalid_input("x");
    let names: Vec<&str> = err.fields().iter().map(|(n, _, _)| *n).collect();
    assert_eq!(
        names,
        Error::FIELDS.map(|(n, _)| n),
        "fields() in FIELDS' order"
    );
}

/// Every option of every table is known to `set` in every face's spelling: a value of a type
/// no option takes is refused naming the option, never as unknown (which would mean a
/// table entry without its `set` arm, or the other way round).
#[test]
fn every_option_is_settable_in_every_face() {
    for face in Face::ALL {
        for o in ClientOptions::OPTIONS {
            let name = face.name(o.name, o.kind);
            for mut options in [
                ClientOptions::default(),
                ClientOptions::gusto(oauth_refresh::GustoEnvironment::Demo),
            ] {
                let err = options.set(face, &name, Value::Other).unwrap_err();
                assert!(
                    !err.message().starts_with("unknown"),
                    "{face:?} {name}: {err}"
                );
                assert!(err.message().contains(&name), "{face:?} {name}: {err}");
            }
        }
        for o in ManagerConfig::OPTIONS {
            let name = face.name(o.name, o.kind);
            let err = ManagerConfig::default()
                .set(face, &name, Value::Other)
                .unwrap_err();
            assert!(err.message().starts_with(&name), "{face:?} {name}: {err}");
        }
        for o in AccountsConfig::OPTIONS {
            let name = face.name(o.name, o.kind);
            let err = AccountsConfig::default()
                .set(face, &name, Value::Other)
                .unwrap_err();
            assert!(err.message().starts_with(&name), "{face:?} {name}: {err}");
        }
        for o in StoreOptions::REDIS_OPTIONS {
            let name = face.name(o.name, o.kind);
            let err = StoreOptions::default()
                .set_redis(face, &name, Value::Other)
                .unwrap_err();
            assert!(err.message().starts_with(&name), "{face:?} {name}: {err}");
        }
        for o in StoreOptions::POSTGRES_OPTIONS {
            let name = face.name(o.name, o.kind);
            let err = StoreOptions::default()
                .set_postgres(face, &name, Value::Other)
                .unwrap_err();
            assert!(err.message().starts_with(&name), "{face:?} {name}: {err}");
        }
        for o in StoreOptions::FILE_OPTIONS {
            let name = face.name(o.name, o.kind);
            let err = StoreOptions::default()
                .set_file(face, &name, Value::Other)
                .unwrap_err();
            assert!(err.message().starts_with(&name), "{face:?} {name}: {err}");
        }
    }
}

/// A value every option of `kind` accepts (a URL is a valid token URL and Gusto environment).
fn sample(kind: Kind) -> Value {
    match kind {
        Kind::Bool => Value::Bool(true),
        Kind::Count => Value::Number(1.0),
        Kind::Fraction => Value::Number(0.5),
        Kind::Duration => Value::Number(1000.0), // 1000 s or 1 s: above every minimum
        Kind::Text | Kind::Path => Value::Text("https://a.example".into()),
        Kind::Choice(words) => Value::Text(words[0].into()),
        Kind::Pairs => Value::Pairs(vec![("x-a".into(), "b".into())]),
        Kind::Key => Value::Text("00".repeat(32)),
    }
}

/// Every table entry has its `set` arm: a value of its kind is taken.
#[test]
fn every_option_takes_a_value_of_its_kind() {
    for face in Face::ALL {
        for o in ClientOptions::OPTIONS {
            let mut options = match o.preset {
                oauth_refresh::options::Preset::GustoOnly => {
                    ClientOptions::gusto(oauth_refresh::GustoEnvironment::Demo)
                }
                _ => ClientOptions::default(),
            };
            options
                .set(face, &face.name(o.name, o.kind), sample(o.kind))
                .unwrap_or_else(|e| panic!("{face:?} {}: {e}", o.name));
        }
        for o in ManagerConfig::OPTIONS {
            ManagerConfig::default()
                .set(face, &face.name(o.name, o.kind), sample(o.kind))
                .unwrap();
        }
        for o in AccountsConfig::OPTIONS {
            AccountsConfig::default()
                .set(face, &face.name(o.name, o.kind), sample(o.kind))
                .unwrap_or_else(|e| panic!("{face:?} {}: {e}", o.name));
        }
        for o in StoreOptions::REDIS_OPTIONS {
            StoreOptions::default()
                .set_redis(face, &face.name(o.name, o.kind), sample(o.kind))
                .unwrap();
        }
        for o in StoreOptions::POSTGRES_OPTIONS {
            StoreOptions::default()
                .set_postgres(face, &face.name(o.name, o.kind), sample(o.kind))
                .unwrap_or_else(|e| panic!("{face:?} {}: {e}", o.name));
        }
        for o in StoreOptions::FILE_OPTIONS {
            StoreOptions::default()
                .set_file(face, &face.name(o.name, o.kind), sample(o.kind))
                .unwrap();
        }
    }
}

#[test]
fn health_statuses_and_event_kinds_match_the_surface_file() {
    let s = surface();
    let words = |key: &str| -> Vec<String> {
        s[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap().to_owned())
            .collect()
    };
    let statuses = [
        HealthStatus::Ok,
        HealthStatus::Failing,
        HealthStatus::NeedsReauthorization,
    ];
    assert_eq!(
        statuses.map(|h| h.as_str().to_owned()).to_vec(),
        words("health_statuses")
    );
    let kinds = [
        EventKind::Refreshed,
        EventKind::Failed,
        EventKind::NeedsReauthorization,
        EventKind::Recovered,
    ];
    assert_eq!(
        kinds.map(|k| k.as_str().to_owned()).to_vec(),
        words("event_kinds")
    );
}
