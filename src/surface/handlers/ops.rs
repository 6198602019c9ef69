//! `version()`, `stats()`, `setLogLevel(level, [file])`: operating the plugin.
use crate::abi::{self, facts, ColumnValues, Out};
use crate::core::delivery::queue;
use crate::core::error::{Cause, Error, Result};
use crate::core::log::{self, Level};
use crate::core::messaging::token_cache;
use crate::core::stats;
use crate::surface::Maybe;

/// What is loaded, into what server, and what the load-time self-check verified.
pub fn version() -> Result<Out> {
    let s = |v: &str| Out::Str(v.as_bytes().to_vec());
    let (server, abi_version, flavour, self_check, exceptions) = match abi::server_info() {
        Ok(i) => (
            i.version,
            i.facts.to_string(),
            i.flavour.to_string(),
            i.self_check,
            i.exceptions,
        ),
        Err(e) => (
            format!("unknown ({e})"),
            "none".into(),
            "unknown".into(),
            "not run".into(),
            "unknown".into(),
        ),
    };
    Ok(Out::Dict(vec![
        ("plugin".into(), s(env!("CARGO_PKG_VERSION"))),
        ("server".into(), s(&server)),
        ("abi".into(), s(&abi_version)),
        ("cxxAbi".into(), s(&flavour)),
        ("arch".into(), s(facts::TARGET_ARCH)),
        ("selfCheck".into(), s(&self_check)),
        ("exceptions".into(), s(&exceptions)),
        ("supported".into(), s(&facts::supported())),
        (
            "supportedLinuxABI".into(),
            s(&facts::versions(facts::Flavour::Cxx11).join(", ")),
        ),
        (
            "tls".into(),
            s("rustls (ring), Mozilla roots + system store"),
        ),
        ("logLevel".into(), s(log::level().name())),
        ("logFile".into(), s(&log::file().unwrap_or_default())),
    ]))
}

/// One table: per function (calls, errors, timeouts, p50/p99 ms), cached tokens (ids cut
/// to four characters; value: seconds left), the delivery queue (value: messages waiting).
pub fn stats() -> Result<Out> {
    let mut section: Vec<&str> = Vec::new();
    let mut name: Vec<String> = Vec::new();
    let mut calls = Vec::new();
    let mut errors = Vec::new();
    let mut timeouts = Vec::new();
    let mut p50 = Vec::new();
    let mut p99 = Vec::new();
    let mut value: Vec<Option<i64>> = Vec::new();
    for f in stats::functions() {
        section.push("function");
        name.push(f.function.to_string());
        calls.push(Some(f.calls as i64));
        errors.push(Some(f.errors as i64));
        timeouts.push(Some(f.timeouts as i64));
        p50.push(Some(f.p50_ms));
        p99.push(Some(f.p99_ms));
        value.push(None);
    }
    for (platform, id, left) in token_cache::snapshot() {
        section.push("token");
        name.push(format!("{platform} {id}"));
        calls.push(None);
        errors.push(None);
        timeouts.push(None);
        p50.push(None);
        p99.push(None);
        value.push(Some(left as i64));
    }
    for (host, open) in crate::core::http::sockets::open_connections() {
        section.push("pool");
        name.push(host);
        calls.push(None);
        errors.push(None);
        timeouts.push(None);
        p50.push(None);
        p99.push(None);
        value.push(Some(open as i64));
    }
    section.push("queue");
    name.push("deliveries".into());
    calls.push(None);
    errors.push(None);
    timeouts.push(None);
    p50.push(None);
    p99.push(None);
    value.push(Some(queue::pending() as i64));
    Ok(Out::Table(vec![
        (
            "section".into(),
            ColumnValues::Str(section.iter().map(|s| s.as_bytes().to_vec()).collect()),
        ),
        (
            "name".into(),
            ColumnValues::Str(name.into_iter().map(String::into_bytes).collect()),
        ),
        ("calls".into(), ColumnValues::Long(calls)),
        ("errors".into(), ColumnValues::Long(errors)),
        ("timeouts".into(), ColumnValues::Long(timeouts)),
        ("p50Ms".into(), ColumnValues::Double(p50)),
        ("p99Ms".into(), ColumnValues::Double(p99)),
        ("value".into(), ColumnValues::Long(value)),
    ]))
}

/// Sets what is logged (and, with `file`, where else: "" stops the file); returns the
/// level now in force.
pub fn set_log_level(level: Level, file: Maybe<String>) -> Result<String> {
    if let Some(path) = file.0 {
        let path = path.trim().to_string();
        if !path.is_empty() && (!path.starts_with('/') || path.chars().any(char::is_control)) {
            return Err(Error::argument(
                "file must be an absolute path on the server (\"\" stops the log file)",
            ));
        }
        log::set_file((!path.is_empty()).then_some(path.as_str())).map_err(|e| {
            Error::runtime(
                Cause::Io,
                format!("cannot open the log file \"{path}\": {e}"),
            )
        })?;
    }
    log::set_level(level);
    Ok(level.name().to_string())
}
