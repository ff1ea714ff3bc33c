//! `make generate`: writes every file derived from the core's option tables and error codes,
//! and the C header. `make lint` runs it and fails if a committed file changed.
//!
//! Run from the repository root.

mod c;
mod node;
mod python;

use std::fs;

use oauth_refresh::options::{Face, OptionInfo, Preset};

fn main() {
    write(
        "bindings-python/python/oauth_refresh/_options.py",
        &python::options(),
    );
    write(
        "bindings-python/python/oauth_refresh/_error_classes.py",
        &python::error_classes(),
    );
    write("bindings-node/generated.d.ts", &node::types());
    c::header("bindings-c");
}

/// Writes `text` to `path` (relative to the repository root) only if it changed.
fn write(path: &str, text: &str) {
    if fs::read_to_string(path).ok().as_deref() != Some(text) {
        fs::write(path, text).unwrap_or_else(|e| panic!("writing {path}: {e}"));
        println!("wrote {path}");
    }
}

/// One constructor's options: the type generated for them, and where they come from.
struct Options {
    /// The generated type's name.
    name: &'static str,
    /// The call it documents.
    call: &'static str,
    table: &'static [OptionInfo],
    preset: Preset,
    /// The options this face passes as arguments, not in the options type.
    arguments: &'static [&'static str],
}

/// The options of `table` that a constructor of `preset` takes, minus those `face` passes
/// as arguments, with their names in `face`.
fn taken<'a>(
    table: &'a [OptionInfo],
    preset: Preset,
    face: Face,
    arguments: &[&str],
) -> impl Iterator<Item = (String, &'a OptionInfo)> {
    let arguments: Vec<String> = arguments.iter().map(|a| a.to_string()).collect();
    table
        .iter()
        .filter(move |o| match (o.preset, preset) {
            (Preset::Any, _) => true,
            (Preset::GustoOnly, p) => p == Preset::GustoOnly,
            (Preset::NotGusto, p) => p != Preset::GustoOnly,
        })
        .filter(move |o| !arguments.iter().any(|a| a == o.name))
        .map(move |o| (face.name(o.name, o.kind), o))
}
