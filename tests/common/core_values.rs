//! Values for the core tests: configuration entries as a script's dictionary gives them,
//! and the check of a failure's cause.
#![allow(dead_code)]
use PluginHttpClient::core::config::{ConfigValue, FromConfig};
use PluginHttpClient::core::error::{Cause, Error, Kind};

/// A STRING entry.
pub fn text(v: &str) -> ConfigValue {
    ConfigValue::Str(v.as_bytes().to_vec())
}

/// An integral entry (INT, LONG, ...).
pub fn int(v: i64) -> ConfigValue {
    ConfigValue::Number {
        long: v,
        double: v as f64,
        integral: true,
    }
}

/// The configuration `T` read from `entries`, as a `config` dictionary holding them.
pub fn config<T: FromConfig>(entries: &[(&str, ConfigValue)]) -> Result<T, Error> {
    let entries: Vec<(String, ConfigValue)> = entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    T::from_entries("config", &entries)
}

/// The failure's cause (and kind), with its message shown when the assertion fails.
#[track_caller]
pub fn assert_cause(e: &Error, cause: Cause) {
    assert_eq!(e.cause(), cause, "{}", e.message());
    let kind = if cause == Cause::Argument {
        Kind::Argument
    } else {
        Kind::Runtime
    };
    assert_eq!(e.kind(), kind, "{}", e.message());
}
