//! `version()`, `stats()`, `setLogLevel(level, [file])`: operating the plugin.
use crate::abi::{self, facts};
use crate::core::delivery::queue;
use crate::core::error::{Cause, Error, Result};
use crate::core::log::{self, Level};
use crate::core::messaging::token_cache;
use crate::core::stats;
use crate::surface::into_ddb::{Stats, StatsRow, VersionInfo};
use crate::surface::LogFile;

/// What is loaded, into what server, and what the load-time self-check verified.
pub fn version() -> Result<VersionInfo> {
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
    Ok(VersionInfo {
        plugin: env!("CARGO_PKG_VERSION").into(),
        server,
        abi: abi_version,
        cxx_abi: flavour,
        arch: facts::TARGET_ARCH.into(),
        self_check,
        exceptions,
        supported: facts::supported(),
        supported_linux_abi: facts::versions(facts::Flavour::Cxx11).join(", "),
        tls: "rustls (ring), Mozilla roots + system store".into(),
        log_level: log::level().name().into(),
        log_file: log::file().unwrap_or_default(),
    })
}

/// One table: per function (calls, errors, timeouts, p50/p99 ms), cached tokens (ids cut
/// to four characters; value: seconds left), open pooled connections per host, the
/// delivery queue (value: messages waiting).
pub fn stats() -> Result<Stats> {
    let mut rows: Vec<StatsRow> = stats::functions()
        .into_iter()
        .map(|f| StatsRow {
            section: "function",
            name: f.function.to_string(),
            calls: Some(f.calls as i64),
            errors: Some(f.errors as i64),
            timeouts: Some(f.timeouts as i64),
            p50_ms: Some(f.p50_ms),
            p99_ms: Some(f.p99_ms),
            value: None,
        })
        .collect();
    let valued = |section, name, value: i64| StatsRow {
        section,
        name,
        calls: None,
        errors: None,
        timeouts: None,
        p50_ms: None,
        p99_ms: None,
        value: Some(value),
    };
    for (platform, id, left) in token_cache::snapshot() {
        rows.push(valued("token", format!("{platform} {id}"), left as i64));
    }
    for (host, open) in crate::core::http::sockets::open_connections() {
        rows.push(valued("pool", host, open as i64));
    }
    rows.push(valued(
        "queue",
        "deliveries".into(),
        queue::pending() as i64,
    ));
    Ok(Stats(rows))
}

/// Sets what is logged (and, with `file`, where else: "" stops the file); returns the
/// level now in force.
pub fn set_log_level(level: Level, file: LogFile) -> Result<String> {
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
