//! Python values → the core's option values. Which options exist, their types, units,
//! defaults and checks are the core's (`oauth_refresh::options`); nothing here knows one.

use oauth_refresh::options::{Face, Value};
use oauth_refresh::Error;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyMapping, PyString, PyType};

/// This face's spelling and units: snake_case, seconds.
pub const PY: Face = Face::Python;

/// A Python value as the core's `Value`; a type no option takes is `Value::Other`. An
/// exception raised while reading it (a mapping's `items()`, a path's `__fspath__`) propagates.
pub fn value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    Ok(if obj.is_none() {
        Value::Null
    } else if let Ok(b) = obj.cast::<PyBool>() {
        Value::Bool(b.is_true())
    } else if obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyFloat>() {
        // An int too large for a float is out of every range.
        Value::Number(obj.extract::<f64>().unwrap_or(f64::INFINITY))
    } else if let Ok(s) = obj.cast::<PyString>() {
        s.extract::<String>().map_or(Value::Other, Value::Text)
    } else if let Ok(b) = obj.cast::<PyBytes>() {
        Value::Bytes(b.as_bytes().to_vec())
    } else if let Ok(m) = obj.cast::<PyMapping>() {
        let mut pairs = Vec::new();
        for item in m.items()?.iter() {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
            match (k.extract::<String>(), v.extract::<String>()) {
                (Ok(k), Ok(v)) => pairs.push((k, v)),
                _ => return Ok(Value::Other),
            }
        }
        Value::Pairs(pairs)
    } else if obj.is_instance(PATH_LIKE.import(obj.py(), "os", "PathLike")?)? {
        // A `pathlib.Path` for `ca_file`.
        obj.call_method0("__fspath__")?
            .extract()
            .map_or(Value::Other, Value::Text)
    } else {
        Value::Other
    })
}

static PATH_LIKE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Hands every keyword argument to `set`, in the caller's order.
pub fn each(
    kwargs: Option<&Bound<'_, PyDict>>,
    mut set: impl FnMut(&str, Value) -> Result<(), Error>,
) -> PyResult<()> {
    let Some(kwargs) = kwargs else {
        return Ok(());
    };
    for (name, v) in kwargs {
        let name: String = name.extract()?;
        set(&name, value(&v)?).map_err(|e| crate::error::to_pyerr(kwargs.py(), &e))?;
    }
    Ok(())
}
