//! The messaging `config` dictionary: the HTTP transport keys plus `baseUrl`, `timeout`,
//! `async`, `retries`, `rateLimit` and `method`.
use crate::core::config::{ConfigReader, ConfigValue, FromConfig};
use crate::core::delivery::pacing::RateLimit;
use crate::core::error::{Error, Result};
use crate::core::http::url::with_default_scheme;
use crate::core::http::{HttpConfig, Method};

/// Default whole-request limit of a messaging call, in ms.
pub const DEFAULT_TIMEOUT_MS: u64 = 5000;

/// The longest a queued message's attempt may take when config `timeout` is 0 (none):
/// four peers that never answer must not hold the four sender threads forever.
pub const QUEUED_ATTEMPT_MAX_MS: u64 = 60_000;

#[derive(Debug, Clone)]
pub struct MessagingConfig {
    /// Replaces the platform's `scheme://host[:port]` (private gateways, tests).
    pub base_url: Option<String>,
    /// Whole-request limit in ms for each HTTP exchange (0 = no limit, or
    /// [`QUEUED_ATTEMPT_MAX_MS`] when queued); a synchronous call also waits for its
    /// destination's pacing at most this long.
    pub timeout_ms: u64,
    /// `async`: queue the message and return at once.
    pub asynchronous: bool,
    /// `retries`: further attempts after a rate-limit answer or a transient failure
    /// (default 3 when queued, 1 when sent at once).
    pub retries: Option<u32>,
    /// `rateLimit`: pacing of the destination, replacing the platform's documented limit
    /// (a number: messages per minute; a STRING such as "5/s, 100/min"; 0: none).
    pub rate_limit: Option<RateLimit>,
    /// `method` of dingtalkSend: "GET" (a dictionary body becomes the query) or "POST"
    /// (JSON); default POST with a body, GET without.
    pub method: Option<Method>,
    pub http: HttpConfig,
}

impl Default for MessagingConfig {
    fn default() -> Self {
        MessagingConfig {
            base_url: None,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            asynchronous: false,
            retries: None,
            rate_limit: None,
            method: None,
            http: HttpConfig::default(),
        }
    }
}

fn base_url(text: Option<String>) -> Result<Option<String>> {
    let Some(s) = text else { return Ok(None) };
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let url = with_default_scheme(s);
    let url = url.trim_end_matches('/').to_string();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(Error::argument(
            "config 'baseUrl' must be an http:// or https:// address",
        ));
    }
    if let Err(e) = reqwest::Url::parse(&url) {
        return Err(Error::argument(format!(
            "config 'baseUrl' is not a valid URL: {e}"
        )));
    }
    Ok(Some(url))
}

impl FromConfig for MessagingConfig {
    fn read(r: &mut ConfigReader<'_>) -> Result<Self> {
        let base_url = base_url(r.text("baseUrl")?)?;
        // read in the documented order (timeout, then async)
        let timeout_ms = r.millis("timeout")?.unwrap_or(DEFAULT_TIMEOUT_MS);
        let asynchronous = r.flag("async")?.unwrap_or(false);
        let timeout_ms = match timeout_ms {
            0 if asynchronous => QUEUED_ATTEMPT_MAX_MS,
            ms => ms,
        };
        let retries = r.number("retries", "retries")?.map(|n| n.min(10) as u32);
        let rate_limit = match r.value("rateLimit") {
            None => None,
            // a whole number (a DOUBLE such as 20.0 too; 0.4 is not silently "none")
            Some(ConfigValue::Number {
                long,
                double,
                integral,
            }) if long >= 0 && (integral || double.fract() == 0.0) => Some(if long == 0 {
                RateLimit::none()
            } else {
                RateLimit::per_minute(u32::try_from(long).unwrap_or(u32::MAX))
            }),
            Some(ConfigValue::Str(b)) => Some(RateLimit::parse(&String::from_utf8_lossy(&b))?),
            Some(other) => {
                return Err(r.wrong(
                    "rateLimit",
                    "a number of messages per minute or a STRING such as \"5/s, 100/min\"",
                    &other,
                ))
            }
        };
        let method = match r.choice("method", &["GET", "POST"])? {
            Some("GET") => Some(Method::Get),
            Some(_) => Some(Method::Post),
            None => None,
        };
        Ok(MessagingConfig {
            base_url,
            timeout_ms,
            asynchronous,
            retries,
            rate_limit,
            method,
            http: HttpConfig::read_transport(r)?,
        })
    }
}
