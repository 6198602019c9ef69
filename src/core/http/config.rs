//! The `config` dictionary of the HTTP functions, typed.
use crate::core::config::{ConfigReader, FromConfig};
use crate::core::error::{Error, Result};
use crate::core::http::header::Header;
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
    /// `decompress` (default false, as the official plugin, whose libcurl sends no
    /// `Accept-Encoding`; true: gzip/deflate/brotli accepted and decoded).
    pub decompress: bool,
    /// `http2` (default false): offer HTTP/2 to HTTPS servers (ALPN). Off, every exchange is
    /// HTTP/1.1 as with the official plugin, whose `headers` scripts parse ("HTTP/1.1 200
    /// OK", names as the server wrote them; HTTP/2 has "HTTP/2 200" and lower-case names).
    pub http2: bool,
    /// `maxResponseBytes` (default 256 MiB, 0 = unlimited).
    pub max_response_bytes: u64,
    /// `json` (default false): a dictionary `params` of httpPost/httpPut is sent as a JSON
    /// object (and a STRING one with `Content-Type: application/json`) instead of
    /// form-encoded.
    pub json: bool,
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
            decompress: false,
            http2: false,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            json: false,
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
            .field("http2", &self.http2)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("json", &self.json)
            .finish()
    }
}

impl FromConfig for HttpConfig {
    /// The transport keys, then `json`.
    fn read(r: &mut ConfigReader<'_>) -> Result<HttpConfig> {
        let mut c = HttpConfig::read_transport(r)?;
        c.json = r.flag("json")?.unwrap_or(false);
        Ok(c)
    }
}

impl HttpConfig {
    /// The keys of the connection (all but `json`): the official ones first (`proxy`,
    /// `proxy_username`, `proxy_password`; empty strings mean "not given", as officially),
    /// then the new ones. The messaging functions read these.
    pub fn read_transport(r: &mut ConfigReader<'_>) -> Result<HttpConfig> {
        let d = HttpConfig::default();
        let c = HttpConfig {
            proxy: r.text("proxy")?,
            proxy_username: r.text("proxy_username")?,
            proxy_password: r.text("proxy_password")?,
            verify_ssl: r.flag("verifySSL")?.unwrap_or(d.verify_ssl),
            ca_file: r.text("caFile")?,
            connect_timeout_ms: r.millis("connectTimeout")?.filter(|&ms| ms > 0),
            follow_redirects: r.flag("followRedirects")?.unwrap_or(d.follow_redirects),
            max_redirects: match r.number("maxRedirects", "redirects")? {
                None => None,
                Some(n) => Some(
                    u32::try_from(n)
                        .map_err(|_| Error::argument("config 'maxRedirects' is too large"))?,
                ),
            },
            user_agent: r.text("userAgent")?,
            decompress: r.flag("decompress")?.unwrap_or(d.decompress),
            http2: r.flag("http2")?.unwrap_or(d.http2),
            max_response_bytes: r
                .number("maxResponseBytes", "bytes")?
                .unwrap_or(d.max_response_bytes),
            json: d.json,
        };
        if let Some(ua) = &c.user_agent {
            Header::new("User-Agent", ua).map_err(|e| e.context("config 'userAgent'"))?;
        }
        Ok(c)
    }
}
