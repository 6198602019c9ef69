//! The `config` dictionary of the HTTP functions, typed.
use crate::core::config::ConfigValue;
use crate::core::error::{Error, Result};
use std::fmt;

/// Default for `maxResponseBytes`: 256 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;
/// Redirect limit when `followRedirects` is true and `maxRedirects` is not given.
pub const DEFAULT_MAX_REDIRECTS: u32 = 10;

/// Typed HTTP configuration. `Debug` never shows the proxy password.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// `proxy`: proxy URL; without a scheme it means `http://`. Empty = none (as officially).
    pub proxy: Option<String>,
    /// `proxy_username`.
    pub proxy_username: Option<String>,
    /// `proxy_password` (secret: never in messages).
    pub proxy_password: Option<String>,
    /// `verifySSL` (default true).
    pub verify_ssl: bool,
    /// `caFile`: PEM bundle added to the trusted roots.
    pub ca_file: Option<String>,
    /// `connectTimeout` in ms (None = no separate connect limit).
    pub connect_timeout_ms: Option<u64>,
    /// `followRedirects` (default false, like the official plugin).
    pub follow_redirects: bool,
    /// `maxRedirects` (used when following; default [`DEFAULT_MAX_REDIRECTS`]).
    pub max_redirects: Option<u32>,
    /// `userAgent` (default `curl/7.47.0`, what the official plugin sends).
    pub user_agent: Option<String>,
    /// `decompress` (default true: gzip/deflate/brotli).
    pub decompress: bool,
    /// `maxResponseBytes` (default 256 MiB, 0 = unlimited).
    pub max_response_bytes: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            proxy: None,
            proxy_username: None,
            proxy_password: None,
            verify_ssl: true,
            ca_file: None,
            connect_timeout_ms: None,
            follow_redirects: false,
            max_redirects: None,
            user_agent: None,
            decompress: true,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

impl fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpConfig")
            .field(
                "proxy",
                &self
                    .proxy
                    .as_deref()
                    .map(crate::core::http::url::redact_userinfo),
            )
            .field("proxy_username", &self.proxy_username)
            .field(
                "proxy_password",
                &self.proxy_password.as_ref().map(|_| "***"),
            )
            .field("verify_ssl", &self.verify_ssl)
            .field("ca_file", &self.ca_file)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("follow_redirects", &self.follow_redirects)
            .field("max_redirects", &self.max_redirects)
            .field("user_agent", &self.user_agent)
            .field("decompress", &self.decompress)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

fn type_name(v: &ConfigValue) -> String {
    match v {
        ConfigValue::Str(_) => "STRING".into(),
        ConfigValue::Int(_) => "an integral scalar".into(),
        ConfigValue::Double(_) => "DOUBLE".into(),
        ConfigValue::Bool(_) => "BOOL".into(),
        ConfigValue::Null => "NULL".into(),
        ConfigValue::Other(s) => s.clone(),
    }
}

fn wrong_type(key: &str, expected: &str, got: &ConfigValue) -> Error {
    Error::new(format!(
        "config '{key}' must be {expected}, got {}",
        type_name(got)
    ))
}

fn get_str(key: &str, v: &ConfigValue) -> Result<String> {
    match v {
        ConfigValue::Str(b) => String::from_utf8(b.clone())
            .map_err(|_| Error::new(format!("config '{key}' must be valid UTF-8 text"))),
        other => Err(wrong_type(key, "a STRING scalar", other)),
    }
}

fn get_bool(key: &str, v: &ConfigValue) -> Result<bool> {
    match v {
        ConfigValue::Bool(b) => Ok(*b),
        other => Err(wrong_type(key, "a BOOL scalar", other)),
    }
}

fn get_nonneg(key: &str, v: &ConfigValue) -> Result<u64> {
    match v {
        ConfigValue::Int(i) if *i >= 0 => Ok(*i as u64),
        ConfigValue::Int(_) => Err(Error::new(format!(
            "config '{key}' must be a non-negative integer"
        ))),
        other => Err(wrong_type(key, "an integral scalar", other)),
    }
}

fn non_empty(s: String) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

impl HttpConfig {
    /// The keys `from_entries` accepts (official ones first).
    pub const KEYS: &'static [&'static str] = &[
        "proxy",
        "proxy_username",
        "proxy_password",
        "verifySSL",
        "caFile",
        "connectTimeout",
        "followRedirects",
        "maxRedirects",
        "userAgent",
        "decompress",
        "maxResponseBytes",
    ];

    /// Parses the `config` dictionary. Unknown key: error listing the known keys; wrong
    /// type: error naming the key and the expected type; `Null` values: not given.
    /// Empty strings for `proxy`/`proxy_username`/`proxy_password`/`caFile`/`userAgent`
    /// also mean "not given" (the official plugin ignores empty proxy settings).
    pub fn from_entries(entries: &[(String, ConfigValue)]) -> Result<HttpConfig> {
        let mut c = HttpConfig::default();
        for (key, value) in entries {
            if !Self::KEYS.contains(&key.as_str()) {
                return Err(Error::new(format!(
                    "unknown config key '{key}'; known keys: {}",
                    Self::KEYS.join(", ")
                )));
            }
            if matches!(value, ConfigValue::Null) {
                continue;
            }
            let k = key.as_str();
            match k {
                "proxy" => c.proxy = non_empty(get_str(k, value)?),
                "proxy_username" => c.proxy_username = non_empty(get_str(k, value)?),
                "proxy_password" => c.proxy_password = non_empty(get_str(k, value)?),
                "verifySSL" => c.verify_ssl = get_bool(k, value)?,
                "caFile" => c.ca_file = non_empty(get_str(k, value)?),
                "connectTimeout" => {
                    let ms = get_nonneg(k, value)?;
                    c.connect_timeout_ms = if ms == 0 { None } else { Some(ms) };
                }
                "followRedirects" => c.follow_redirects = get_bool(k, value)?,
                "maxRedirects" => {
                    let n = get_nonneg(k, value)?;
                    c.max_redirects = Some(
                        u32::try_from(n)
                            .map_err(|_| Error::new(format!("config '{k}' is too large")))?,
                    );
                }
                "userAgent" => c.user_agent = non_empty(get_str(k, value)?),
                "decompress" => c.decompress = get_bool(k, value)?,
                "maxResponseBytes" => c.max_response_bytes = get_nonneg(k, value)?,
                _ => unreachable!("key listed in KEYS but not handled"),
            }
        }
        if let Some(ua) = &c.user_agent {
            crate::core::http::header::validate_header("User-Agent", ua)
                .map_err(|e| Error::new(format!("config 'userAgent': {e}")))?;
        }
        Ok(c)
    }
}
