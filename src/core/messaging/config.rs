//! The messaging `config` dictionary: the HTTP config keys plus `baseUrl` and `timeout`.
use crate::core::config::ConfigValue;
use crate::core::error::{Error, Result};
use crate::core::http::url::with_default_scheme;
use crate::core::http::HttpConfig;

/// Default whole-request limit of a messaging call, in ms.
pub const DEFAULT_TIMEOUT_MS: u64 = 5000;

#[derive(Debug, Clone)]
pub struct MessagingConfig {
    /// Replaces the platform's `scheme://host[:port]` (private gateways, tests).
    pub base_url: Option<String>,
    /// Whole-request limit in ms for each HTTP call (0 = no limit).
    pub timeout_ms: u64,
    pub http: HttpConfig,
}

impl Default for MessagingConfig {
    fn default() -> Self {
        MessagingConfig {
            base_url: None,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            http: HttpConfig::default(),
        }
    }
}

impl MessagingConfig {
    /// Takes out `baseUrl` (STRING) and `timeout` (integral ms, >= 0); the other keys go
    /// to [`HttpConfig::from_entries`], which rejects unknown keys. NULL = not given.
    pub fn from_entries(entries: &[(String, ConfigValue)]) -> Result<Self> {
        let mut cfg = MessagingConfig::default();
        let mut rest = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            match key.as_str() {
                "baseUrl" => match value {
                    ConfigValue::Null => {}
                    ConfigValue::Str(b) => {
                        let s = std::str::from_utf8(b)
                            .map_err(|_| Error::new("config 'baseUrl' is not valid UTF-8"))?
                            .trim();
                        if !s.is_empty() {
                            let url = with_default_scheme(s);
                            let url = url.trim_end_matches('/').to_string();
                            if !(url.starts_with("http://") || url.starts_with("https://")) {
                                return Err(Error::new(
                                    "config 'baseUrl' must be an http:// or https:// address",
                                ));
                            }
                            cfg.base_url = Some(url);
                        }
                    }
                    other => {
                        return Err(Error::new(format!(
                            "config 'baseUrl' must be a STRING, got {}",
                            kind(other)
                        )))
                    }
                },
                "timeout" => match value {
                    ConfigValue::Null => {}
                    ConfigValue::Int(n) if *n >= 0 => cfg.timeout_ms = *n as u64,
                    ConfigValue::Int(_) => {
                        return Err(Error::new("config 'timeout' must be >= 0 (ms)"))
                    }
                    other => {
                        return Err(Error::new(format!(
                            "config 'timeout' must be an integer (ms), got {}",
                            kind(other)
                        )))
                    }
                },
                _ => rest.push((key.clone(), value.clone())),
            }
        }
        cfg.http = HttpConfig::from_entries(&rest).map_err(|e| {
            if e.message().starts_with("unknown config key") {
                Error::new(format!("{}, baseUrl, timeout", e.message()))
            } else {
                e
            }
        })?;
        Ok(cfg)
    }
}

fn kind(v: &ConfigValue) -> String {
    match v {
        ConfigValue::Str(_) => "STRING".into(),
        ConfigValue::Int(_) => "an integer".into(),
        ConfigValue::Double(_) => "DOUBLE".into(),
        ConfigValue::Bool(_) => "BOOL".into(),
        ConfigValue::Null => "NULL".into(),
        ConfigValue::Other(s) => s.clone(),
    }
}
