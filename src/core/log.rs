//! What the plugin logs: failed calls, token refreshes, connection pool growth, retries,
//! failed asynchronous deliveries — at a level set with `httpClient::setLogLevel`, never
//! with a secret (callers log messages built like error messages: redacted).
//!
//! Two destinations:
//! - the server's own log: lines wait in a bounded buffer until the next plugin call on a
//!   DolphinDB thread writes them through the calling session (the ABI layer's
//!   `writeLog`), since only a session can reach the server's logger;
//! - a file of the user's (`setLogLevel(level, file)`), written at once from any thread.
use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// Severity, in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
    /// Nothing is logged.
    Off = 4,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        match text.trim().to_ascii_lowercase().as_str() {
            "debug" => Some(Level::Debug),
            "info" => Some(Level::Info),
            "warning" | "warn" => Some(Level::Warning),
            "error" => Some(Level::Error),
            "off" | "none" => Some(Level::Off),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Off => "OFF",
        }
    }

    fn from_u8(v: u8) -> Level {
        match v {
            0 => Level::Debug,
            1 => Level::Info,
            2 => Level::Warning,
            3 => Level::Error,
            _ => Level::Off,
        }
    }
}

/// Lines kept for the server log at most; older ones are dropped (and counted).
pub const SERVER_BUFFER: usize = 1000;

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);
static DROPPED: AtomicU64 = AtomicU64::new(0);
/// Lines waiting for the server log (read without the lock on every call).
static PENDING: AtomicUsize = AtomicUsize::new(0);

struct Sinks {
    server: VecDeque<String>,
    file: Option<(String, std::fs::File)>,
}

fn sinks() -> &'static Mutex<Sinks> {
    static SINKS: OnceLock<Mutex<Sinks>> = OnceLock::new();
    SINKS.get_or_init(|| {
        Mutex::new(Sinks {
            server: VecDeque::new(),
            file: None,
        })
    })
}

pub fn level() -> Level {
    Level::from_u8(LEVEL.load(Ordering::Relaxed))
}

pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// Sends the log to `path` too (appended; None: no file), from now on.
pub fn set_file(path: Option<&str>) -> std::io::Result<()> {
    let file = match path {
        Some(p) => Some((
            p.to_string(),
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)?,
        )),
        None => None,
    };
    sinks().lock().unwrap_or_else(|e| e.into_inner()).file = file;
    Ok(())
}

/// The log file in use, if any.
pub fn file() -> Option<String> {
    sinks()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .file
        .as_ref()
        .map(|(p, _)| p.clone())
}

pub fn enabled(level: Level) -> bool {
    level != Level::Off && level >= self::level()
}

/// Logs `message` (one line: control characters become spaces) at `level`.
pub fn log(level: Level, message: impl AsRef<str>) {
    if !enabled(level) {
        return;
    }
    let text: String = message
        .as_ref()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = format!("[httpClient] <{}> {text}", level.name());
    let mut s = sinks().lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, f)) = &mut s.file {
        // A full disk must not fail the call that logs.
        let _ = writeln!(f, "{} {line}", utc_stamp(std::time::SystemTime::now()));
    }
    if s.server.len() >= SERVER_BUFFER {
        s.server.pop_front();
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
    s.server.push_back(line);
    PENDING.store(s.server.len(), Ordering::Release);
}

/// `2026-12-01 09:30:00.123` (UTC), as the file's lines start.
fn utc_stamp(t: std::time::SystemTime) -> String {
    let ms = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // civil date from days since 1970-01-01 (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03}",
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000
    )
}

pub fn debug(message: impl AsRef<str>) {
    log(Level::Debug, message)
}

pub fn info(message: impl AsRef<str>) {
    log(Level::Info, message)
}

pub fn warning(message: impl AsRef<str>) {
    log(Level::Warning, message)
}

pub fn error(message: impl AsRef<str>) {
    log(Level::Error, message)
}

/// Takes the lines waiting for the server log (oldest first), with a note first when some
/// were dropped because nothing wrote them for a while.
pub fn take_server_lines() -> Vec<String> {
    let mut s = sinks().lock().unwrap_or_else(|e| e.into_inner());
    if s.server.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::with_capacity(s.server.len() + 1);
    let dropped = DROPPED.swap(0, Ordering::Relaxed);
    if dropped > 0 {
        out.push(format!(
            "[httpClient] <WARNING> {dropped} older log lines were dropped (no plugin call wrote them to the server log in time)"
        ));
    }
    out.extend(s.server.drain(..));
    PENDING.store(0, Ordering::Release);
    out
}

/// Puts lines back at the front (the server log could not take them now).
pub fn restore_server_lines(lines: Vec<String>) {
    let mut s = sinks().lock().unwrap_or_else(|e| e.into_inner());
    for line in lines.into_iter().rev() {
        if s.server.len() >= SERVER_BUFFER {
            DROPPED.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        s.server.push_front(line);
    }
    PENDING.store(s.server.len(), Ordering::Release);
}

/// Whether lines wait for the server log (cheap: checked on every call).
pub fn has_server_lines() -> bool {
    PENDING.load(Ordering::Acquire) > 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn file_lines_are_stamped_in_utc() {
        let at = |ms: u64| utc_stamp(UNIX_EPOCH + Duration::from_millis(ms));
        assert_eq!(at(0), "1970-01-01 00:00:00.000");
        // 2024-02-29 23:59:59.999 (a leap day)
        assert_eq!(at(1_709_251_199_999), "2024-02-29 23:59:59.999");
        assert_eq!(at(1_796_087_352_659), "2026-12-01 01:09:12.659");
    }
}
