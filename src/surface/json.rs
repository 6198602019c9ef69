//! DolphinDB values as JSON (serde_json): dictionaries become objects (keys in the
//! dictionary's order), vectors arrays, STRING/SYMBOL strings, BOOL booleans, integral
//! and floating numbers numbers, DECIMAL numbers as the server renders them, temporal
//! values strings as the server renders them (`2024.01.02T09:30:00.000`), NULL null.
use crate::abi::{Category, Ddb, Scalar};
use crate::core::error::{Error, Result};
use serde_json::{Map, Number, Value};

/// A dictionary argument as a JSON object; `param` names it in errors.
pub fn dict_to_json(entries: &[(Vec<u8>, Ddb)], param: &str) -> Result<Value> {
    let mut map = Map::with_capacity(entries.len());
    for (k, v) in entries {
        let key = String::from_utf8(k.clone())
            .map_err(|_| Error::argument(format!("{param}: dictionary keys must be UTF-8 text")))?;
        let value = to_json(v, param, &key)?;
        map.insert(key, value);
    }
    Ok(Value::Object(map))
}

fn text(bytes: &[u8], param: &str, at: &str) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| {
        Error::argument(format!(
            "{param}: the value at '{at}' is not valid UTF-8 text (JSON needs it)"
        ))
    })
}

fn to_json(v: &Ddb, param: &str, at: &str) -> Result<Value> {
    match v {
        Ddb::Nothing => Ok(Value::Null),
        Ddb::Scalar {
            ty,
            value,
            text: rendered,
        } => match value {
            Scalar::Null => Ok(Value::Null),
            Scalar::Str(b) => Ok(Value::String(text(b, param, at)?)),
            Scalar::Bool(b) => Ok(Value::Bool(*b)),
            Scalar::Number { long, double } => match ty.category {
                Category::Integral => Ok(Value::Number((*long).into())),
                Category::Temporal => Ok(Value::String(text(
                    rendered.as_deref().unwrap_or_default(),
                    param,
                    at,
                )?)),
                Category::Denary => {
                    let shown = rendered
                        .as_deref()
                        .and_then(|r| std::str::from_utf8(r).ok())
                        .and_then(|r| r.trim().parse::<f64>().ok())
                        .unwrap_or(*double);
                    Ok(Number::from_f64(shown).map_or(Value::Null, Value::Number))
                }
                _ => Ok(Number::from_f64(*double).map_or(Value::Null, Value::Number)),
            },
            Scalar::Opaque => Ok(Value::String(text(
                rendered.as_deref().unwrap_or_default(),
                param,
                at,
            )?)),
        },
        Ddb::Vector { items, .. } => items
            .iter()
            .enumerate()
            .map(|(i, x)| to_json(x, param, &format!("{at}[{i}]")))
            .collect::<Result<Vec<_>>>()
            .map(Value::Array),
        Ddb::Dict(entries) => {
            let mut map = Map::with_capacity(entries.len());
            for (k, x) in entries {
                let key = text(k, param, at)?;
                let path = format!("{at}.{key}");
                map.insert(key, to_json(x, param, &path)?);
            }
            Ok(Value::Object(map))
        }
        Ddb::Other(what) => Err(Error::argument(format!(
            "{param}: the value at '{at}' ({what}) cannot be sent as JSON"
        ))),
    }
}
