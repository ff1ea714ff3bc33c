//! JavaScript values → the core's option values. Which options exist, their types, units,
//! defaults and checks are the core's (`oauth_refresh::options`); nothing here knows one.

use napi::bindgen_prelude::*;
use oauth_refresh::options::{Face, Value};

use crate::error::{to_js_error, type_error};

/// This face's spelling and units: camelCase, milliseconds (`...Ms`).
pub const NODE: Face = Face::Node;

/// A JavaScript value as the core's `Value`; a type no option takes is `Value::Other`.
fn value(v: Unknown<'_>) -> Result<Value> {
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
        ValueType::Object if !v.is_array()? => {
            let object = unsafe { v.cast::<Object>() }?;
            let mut pairs = Vec::new();
            for key in Object::keys(&object)? {
                match object.get_named_property::<Unknown>(&key)?.get_type()? {
                    ValueType::String => {
                        pairs.push((key.clone(), object.get_named_property(&key)?))
                    }
                    _ => return Ok(Value::Other),
                }
            }
            Value::Pairs(pairs)
        }
        _ => Value::Other,
    })
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

/// Hands every own property of `options` but those in `skip` (the binding's own: a
/// store, a hook) to `set`, in the object's order.
pub fn each(
    env: &Env,
    options: Option<&Object<'_>>,
    skip: &[&str],
    mut set: impl FnMut(&str, Value) -> std::result::Result<(), oauth_refresh::Error>,
) -> Result<()> {
    let Some(options) = options else {
        return Ok(());
    };
    for key in Object::keys(options)? {
        if skip.contains(&key.as_str()) {
            continue;
        }
        let v = value(options.get_named_property::<Unknown>(&key)?)?;
        set(&key, v).map_err(|e| to_js_error(env, &e))?;
    }
    Ok(())
}
