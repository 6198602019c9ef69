//! Options of an SMTP server entry (the NEW `options` dictionary of `emailSmtpConfig`).
use crate::core::config::ConfigValue;
use crate::core::error::{Error, Result};

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TlsMode {
    /// Implicit TLS on port 465; elsewhere STARTTLS when the server offers it.
    #[default]
    Auto,
    /// Plain connection upgraded with STARTTLS; fails if the server does not offer it.
    StartTls,
    /// TLS from the first byte (SMTPS, "implicit TLS").
    Tls,
    /// No TLS at all (local relays only).
    None,
}

impl TlsMode {
    pub fn parse(text: &str) -> Option<TlsMode> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(TlsMode::Auto),
            "starttls" => Some(TlsMode::StartTls),
            "tls" | "ssl" | "smtps" => Some(TlsMode::Tls),
            "none" | "plain" => Some(TlsMode::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Auto => "auto",
            TlsMode::StartTls => "starttls",
            TlsMode::Tls => "tls",
            TlsMode::None => "none",
        }
    }
}

pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;

/// Per-server SMTP options.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SmtpOptions {
    pub tls: TlsMode,
    /// Verify the server certificate and host name (default true).
    pub verify_ssl: bool,
    /// Timeout of the connect and of every SMTP command, in milliseconds.
    pub timeout_ms: u64,
    /// PEM file with extra trusted CA certificates (key `caFile`).
    pub ca_file: Option<String>,
}

impl Default for SmtpOptions {
    fn default() -> Self {
        SmtpOptions {
            tls: TlsMode::Auto,
            verify_ssl: true,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            ca_file: None,
        }
    }
}

const KEYS: &str = "tls, verifySSL, timeout, caFile";

fn type_name(value: &ConfigValue) -> String {
    match value {
        ConfigValue::Str(_) => "STRING".to_string(),
        ConfigValue::Int(_) => "INT".to_string(),
        ConfigValue::Double(_) => "DOUBLE".to_string(),
        ConfigValue::Bool(_) => "BOOL".to_string(),
        ConfigValue::Null => "NULL".to_string(),
        ConfigValue::Other(what) => what.clone(),
    }
}

fn utf8(key: &str, bytes: &[u8]) -> Result<String> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| Error::new(format!("option '{key}' is not valid UTF-8")))
}

impl SmtpOptions {
    /// Parses the entries of an `options` dictionary. NULL values mean "not given";
    /// unknown keys and ill-typed values are refused with a message naming the key.
    pub fn from_entries(entries: &[(String, ConfigValue)]) -> Result<SmtpOptions> {
        let mut options = SmtpOptions::default();
        for (key, value) in entries {
            if matches!(value, ConfigValue::Null) {
                if !matches!(key.as_str(), "tls" | "verifySSL" | "timeout" | "caFile") {
                    return Err(unknown_key(key));
                }
                continue;
            }
            match key.as_str() {
                "tls" => {
                    let ConfigValue::Str(bytes) = value else {
                        return Err(Error::new(format!(
                            "option 'tls' must be a STRING (\"auto\", \"starttls\", \"tls\" or \"none\"), got {}",
                            type_name(value)
                        )));
                    };
                    let text = utf8(key, bytes)?;
                    options.tls = TlsMode::parse(&text).ok_or_else(|| {
                        Error::new(format!(
                            "option 'tls' must be \"auto\", \"starttls\", \"tls\" or \"none\", got \"{text}\""
                        ))
                    })?;
                }
                "verifySSL" => {
                    options.verify_ssl = match value {
                        ConfigValue::Bool(b) => *b,
                        ConfigValue::Int(0) => false,
                        ConfigValue::Int(1) => true,
                        _ => {
                            return Err(Error::new(format!(
                                "option 'verifySSL' must be a BOOL, got {}",
                                type_name(value)
                            )))
                        }
                    };
                }
                "timeout" => {
                    let ms = match value {
                        ConfigValue::Int(ms) => *ms,
                        ConfigValue::Double(d) if d.fract() == 0.0 && d.is_finite() => *d as i64,
                        _ => {
                            return Err(Error::new(format!(
                            "option 'timeout' must be an integer number of milliseconds, got {}",
                            type_name(value)
                        )))
                        }
                    };
                    if ms <= 0 {
                        return Err(Error::new(format!(
                            "option 'timeout' must be a positive number of milliseconds, got {ms}"
                        )));
                    }
                    options.timeout_ms = ms as u64;
                }
                "caFile" => {
                    let ConfigValue::Str(bytes) = value else {
                        return Err(Error::new(format!(
                            "option 'caFile' must be a STRING (path of a PEM file), got {}",
                            type_name(value)
                        )));
                    };
                    let path = utf8(key, bytes)?;
                    options.ca_file = if path.is_empty() { None } else { Some(path) };
                }
                _ => return Err(unknown_key(key)),
            }
        }
        Ok(options)
    }
}

fn unknown_key(key: &str) -> Error {
    Error::new(format!("unknown option '{key}' (known options: {KEYS})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> ConfigValue {
        ConfigValue::Str(v.as_bytes().to_vec())
    }

    #[test]
    fn parses_all_keys() {
        let o = SmtpOptions::from_entries(&[
            ("tls".into(), s("STARTTLS")),
            ("verifySSL".into(), ConfigValue::Bool(false)),
            ("timeout".into(), ConfigValue::Int(1500)),
            ("caFile".into(), s("/tmp/ca.pem")),
        ])
        .unwrap();
        assert_eq!(o.tls, TlsMode::StartTls);
        assert!(!o.verify_ssl);
        assert_eq!(o.timeout_ms, 1500);
        assert_eq!(o.ca_file.as_deref(), Some("/tmp/ca.pem"));
    }

    #[test]
    fn defaults_and_null() {
        let o = SmtpOptions::from_entries(&[("timeout".into(), ConfigValue::Null)]).unwrap();
        assert_eq!(o, SmtpOptions::default());
    }

    #[test]
    fn refuses_unknown_and_ill_typed() {
        let e = SmtpOptions::from_entries(&[("tlz".into(), s("x"))]).unwrap_err();
        assert!(e.message().contains("'tlz'"), "{e}");
        let e = SmtpOptions::from_entries(&[("timeout".into(), s("x"))]).unwrap_err();
        assert!(e.message().contains("'timeout'"), "{e}");
        let e = SmtpOptions::from_entries(&[("tls".into(), s("maybe"))]).unwrap_err();
        assert!(e.message().contains("'tls'"), "{e}");
        let e = SmtpOptions::from_entries(&[("verifySSL".into(), s("yes"))]).unwrap_err();
        assert!(e.message().contains("'verifySSL'"), "{e}");
        let e = SmtpOptions::from_entries(&[("timeout".into(), ConfigValue::Int(0))]).unwrap_err();
        assert!(e.message().contains("'timeout'"), "{e}");
    }
}
