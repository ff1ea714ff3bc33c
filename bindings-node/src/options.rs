//! JavaScript values → the core's option values. Which options exist, their types, units,
//! defaults and checks are the core's (`oauth_refresh::options`); nothing here knows one.

use napi::bindgen_prelude::*;
use oauth_refresh::options::{Face, Value};

use crate::error::{to_js_error, type_error};

/// This face's spelling and units: camelCase, milliseconds (`...Ms`).
pub const NODE: Face = Face::Node;

/// A JavaScript value as the core's `Value`; a type no option takes is `Value::Other`.
fn value(env: &Env, v: Unknown<'_>) -> Result<Value> {
    // SAFETY (each cast): the value's type was checked just before.
    Ok(match v.get_type()? {
        ValueType::Undefined | ValueType::Null => Value::Null,
        ValueType::Boolean => Value::Bool(unsafe { v.cast::<bool>() }?),
        ValueType::Number => Value::Number(unsafe { v.cast::<f64>() }?),
        ValueType::String => Value::Text(unsafe { v.cast::<String>() }?),
        ValueType::Object if v.is_typedarray()? => match unsafe { v.cast::<Uint8Array>() } {
            Ok(bytes) => Value::Bytes(bytes.to_vec()),
            Err(_) => Value::Other,
        },
        ValueType::Object if is_plain(env, &v)? => {
            let object = unsafe { v.cast::<Object>() }?;
            let mut pairs = Vec::new();
            for key in own_keys(&object)? {
                let item: Unknown = object.get_named_property(&key)?;
                match item.get_type()? {
                    ValueType::String => pairs.push((key, unsafe { item.cast::<String>() }?)),
                    _ => return Ok(Value::Other),
                }
            }
            Value::Pairs(pairs)
        }
        // An array, a Map, a Date, a class instance: no option takes one.
        _ => Value::Other,
    })
}

/// Whether `v` is a plain object (`{...}`, `Object.create(null)`): a map of names. A `Map`
/// or a class instance would otherwise be read as one with no entries.
fn is_plain(env: &Env, v: &Unknown<'_>) -> Result<bool> {
    let proto = prototype(env, v.raw())?;
    if proto.get_type()? == ValueType::Null {
        return Ok(true);
    }
    // `Object.prototype`, taken from a fresh `{}`.
    let plain = Object::new(env)?;
    env.strict_equals(proto, prototype(env, plain.raw())?)
}

/// `Object.getPrototypeOf(value)`.
fn prototype<'e>(env: &'e Env, value: napi::sys::napi_value) -> Result<Unknown<'e>> {
    let mut proto = std::ptr::null_mut();
    // SAFETY: `value` is a live object of this environment.
    napi::check_status!(unsafe { napi::sys::napi_get_prototype(env.raw(), value, &mut proto) })?;
    // SAFETY: napi returned a live value of this environment.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), proto) })
}

/// The object's own enumerable string keys: never one it inherits (a polluted
/// `Object.prototype` must not set an option), never a symbol.
pub fn own_keys(object: &Object<'_>) -> Result<Vec<String>> {
    let names = object.get_all_property_names(
        KeyCollectionMode::OwnOnly,
        KeyFilter::Enumerable,
        KeyConversion::NumbersToStrings,
    )?;
    let mut keys = Vec::new();
    for i in 0..names.get_array_length()? {
        let name: Unknown = names.get_element(i)?;
        if name.get_type()? == ValueType::String {
            // SAFETY: checked to be a string.
            keys.push(unsafe { name.cast::<String>() }?);
        }
    }
    Ok(keys)
}

/// An options object: `undefined` / `null` is empty; anything else but an object is a
/// `TypeError` naming `what`.
pub fn object<'e>(
    env: &Env,
    options: Option<Unknown<'e>>,
    what: &str,
) -> Result<Option<Object<'e>>> {
    let Some(options) = options else {
        return Ok(None);
    };
    match options.get_type()? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        // SAFETY: checked to be an object.
        ValueType::Object => Ok(Some(unsafe { options.cast::<Object>() }?)),
        _ => Err(type_error(
            env,
            format!("{what}: options must be an object"),
        )),
    }
}

/// Hands every own enumerable property of `options` but those in `skip` (the binding's own:
/// a hook) to `set`, in the object's order.
pub fn each(
    env: &Env,
    options: Option<&Object<'_>>,
    skip: &[&str],
    mut set: impl FnMut(&str, Value) -> std::result::Result<(), oauth_refresh::Error>,
) -> Result<()> {
    let Some(options) = options else {
        return Ok(());
    };
    for key in own_keys(options)? {
        if skip.contains(&key.as_str()) {
            continue;
        }
        let v = value(env, options.get_named_property::<Unknown>(&key)?)?;
        set(&key, v).map_err(|e| to_js_error(env, &e))?;
    }
    Ok(())
}
