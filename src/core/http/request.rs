//! A request as the surface hands it over, and [`execute`].
use super::client_pool::client_for;
use super::config::HttpConfig;
use super::errors::{describe, describe_io, Ctx};
use super::header::{header_block, Header};
use super::response::{read_body, BodyError, Response};
use super::url::{append_query, encode_pairs, for_message, with_default_scheme};
use crate::core::error::{redact_error, Cause, Error, Result};
use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use std::time::{Duration, Instant};

/// The form content type: sent for dictionary bodies, and for string POST bodies
/// (libcurl's default for `CURLOPT_POSTFIELDS`, which the official plugin uses) unless the
/// user gave a `Content-Type`.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// Sent with JSON bodies (config `json`, the messaging platforms).
pub const JSON_CONTENT_TYPE: &str = "application/json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    fn as_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        }
    }
}

/// `params`: a STRING (sent verbatim), a dictionary (percent-encoded `k=v&...`), or a JSON
/// document (a dictionary with config `json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Params {
    Raw(Vec<u8>),
    Pairs(Vec<(Vec<u8>, Vec<u8>)>),
    Json(Vec<u8>),
}

impl Params {
    fn encoded(&self) -> Vec<u8> {
        match self {
            Params::Raw(b) | Params::Json(b) => b.clone(),
            Params::Pairs(p) => encode_pairs(p),
        }
    }
}

/// A request URL as the user wrote it, checked: not empty, no CR, LF or NUL (a URL is
/// written into the request line). A missing scheme means `http://`, as officially.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestUrl(String);

impl RequestUrl {
    pub fn new(url: &str) -> Result<RequestUrl> {
        if url.trim().is_empty() {
            return Err(Error::argument("url must not be empty"));
        }
        if url.contains(['\r', '\n', '\0']) {
            return Err(Error::argument("url must not contain CR, LF or NUL"));
        }
        Ok(RequestUrl(with_default_scheme(url)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub url: RequestUrl,
    pub params: Option<Params>,
    /// Whole-transfer limit in ms; 0 = no limit.
    pub timeout_ms: u64,
    pub headers: Vec<Header>,
    pub config: HttpConfig,
}

/// Performs the request. Non-2xx statuses are normal returns; transport failures are
/// errors saying what happened (timeout, connection refused, unknown host, TLS).
pub fn execute(req: &Request) -> Result<Response> {
    let secret = req.config.proxy_password.as_deref();
    execute_inner(req).map_err(|e| redact_error(e, &[secret.unwrap_or_default()]))
}

fn execute_inner(req: &Request) -> Result<Response> {
    let mut url = req.url.as_str().to_string();
    let mut body: Option<Vec<u8>> = None;
    let mut content_type = None;
    match req.method {
        Method::Get | Method::Delete => {
            if let Some(p) = &req.params {
                url = append_query(&url, &p.encoded());
            }
        }
        Method::Post | Method::Put => {
            body = Some(req.params.as_ref().map(Params::encoded).unwrap_or_default());
            // As officially: POST has libcurl's form default, PUT (an upload) none; a
            // JSON body says so.
            content_type = match (&req.params, req.method) {
                (Some(Params::Json(_)), _) => Some(JSON_CONTENT_TYPE),
                (Some(Params::Raw(_)), _) if req.config.json => Some(JSON_CONTENT_TYPE),
                (_, Method::Post) => Some(FORM_CONTENT_TYPE),
                _ => None,
            };
        }
    }
    let parsed = reqwest::Url::parse(&url).map_err(|e| {
        let shown = url.split(['?', '#']).next().unwrap_or("");
        Error::argument(format!("invalid URL '{shown}': {e}"))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::argument(format!(
            "unsupported URL scheme '{}': only http and https are supported",
            parsed.scheme()
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::argument(format!(
            "invalid URL '{}': no host",
            for_message(&parsed)
        )));
    }

    let mut headers = reqwest::header::HeaderMap::with_capacity(req.headers.len() + 1);
    for h in &req.headers {
        // Header has checked both parts; these conversions cannot fail for them.
        let n = HeaderName::from_bytes(h.name().as_bytes())
            .map_err(|_| Error::argument(format!("invalid header name '{}'", h.name())))?;
        let v = HeaderValue::from_str(h.value())
            .map_err(|_| Error::argument(format!("invalid value for header '{}'", h.name())))?;
        headers.append(n, v);
    }
    if let Some(ct) = content_type {
        if !headers.contains_key(CONTENT_TYPE) {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        }
    }

    super::sockets::learn_url(&parsed);
    let client = client_for(&req.config)?;
    let mut builder = client
        .request(req.method.as_reqwest(), parsed.clone())
        .headers(headers);
    if let Some(b) = body {
        builder = builder.body(b);
    }
    if req.timeout_ms > 0 {
        builder = builder.timeout(Duration::from_millis(req.timeout_ms));
    }
    let mut ctx = Ctx {
        target: &parsed,
        timeout_ms: req.timeout_ms,
        connect_timeout_ms: req.config.connect_timeout_ms,
        via_proxy: req.config.proxy.is_some(),
        reading_body: false,
    };

    let start = Instant::now();
    let mut resp = builder.send().map_err(|e| describe(e, &ctx))?;
    let status = resp.status();
    let block = header_block(resp.version(), status, resp.headers());
    ctx.reading_body = true;
    let hint = resp.content_length();
    let limit = req.config.max_response_bytes;
    let body = read_body(&mut resp, hint, limit).map_err(|e| match e {
        BodyError::TooLarge => Error::runtime(
            Cause::Protocol,
            format!(
                "the response body from {} exceeds maxResponseBytes={limit} bytes; \
                 raise config maxResponseBytes (0 = unlimited) to accept it",
                ctx.url()
            ),
        ),
        BodyError::Io(io) => describe_io(&io, &ctx),
    })?;
    Ok(Response {
        status: status.as_u16(),
        headers: block,
        body,
        elapsed: start.elapsed().as_secs_f64(),
    })
}
