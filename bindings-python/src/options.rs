//! Python values → the core's option values. Which options exist, their types, units,
//! defaults and checks are the core's (`oauth_refresh::options`); nothing here knows one.

use oauth_refresh::options::{Face, Value};
use oauth_refresh::Error;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyString};

/// This face's spelling and units: snake_case, seconds.
pub const PY: Face = Face::Python;

/// A Python value as the core's `Value`; a type no option takes is `Value::Other`.
pub fn value(obj: &Bound<'_, PyAny>) -> Value {
    if obj.is_none() {
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
    } else if let Ok(d) = obj.cast::<PyDict>() {
        let pairs: Option<Vec<(String, String)>> = d
            .iter()
            .map(|(k, v)| Some((k.extract().ok()?, v.extract().ok()?)))
            .collect();
        pairs.map_or(Value::Other, Value::Pairs)
    } else if let Ok(path) = obj.call_method0("__fspath__") {
        // os.PathLike (a pathlib.Path for ca_file).
        path.extract().map_or(Value::Other, Value::Text)
    } else {
        Value::Other
    }
}

/// Hands every keyword argument to `set`, in the caller's order.
pub fn each(
    kwargs: Option<&Bound<'_, PyDict>>,
    mut set: impl FnMut(&str, Value) -> Result<(), Error>,
) -> PyResult<()> {
    let py_err = |e: Error| Python::attach(|py| crate::error::to_pyerr(py, &e));
    for (name, v) in kwargs.into_iter().flatten() {
        let name: String = name.extract()?;
        set(&name, value(&v)).map_err(py_err)?;
    }
    Ok(())
}
