//! A request as the surface hands it over, and [`execute`].
use super::client_pool::{block_on_local, catch_up, shared_client};
use super::config::HttpConfig;
use super::errors::{describe, describe_body, describe_io, Ctx};
use super::header::{header_block, Header};
use super::response::{body_buffer, read_body, BodyError, Response};
use super::url::{append_query, encode_pairs, for_message, with_default_scheme};
use crate::core::error::{redact_error, Cause, Error, Result};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use std::time::{Duration, Instant};

/// The form content type: sent with POST bodies, string or dictionary (libcurl's default
/// for `CURLOPT_POSTFIELDS`, which the official plugin uses) unless the user gave a
/// `Content-Type`. PUT, an upload officially, sends none of its own.
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
    let parsed = parse_url(&url).map_err(|e| {
        let redacted = super::url::redact_userinfo(&url);
        let shown = redacted.split(['?', '#']).next().unwrap_or("");
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

    let mut headers = HeaderMap::with_capacity(req.headers.len() + 1);
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
    if body.as_ref().is_some_and(Vec::is_empty) && !headers.contains_key(CONTENT_LENGTH) {
        // hyper omits the length of an empty body; libcurl (the official plugin) sends
        // `Content-Length: 0`, and servers may answer a bodiless POST with 411.
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    }

    super::sockets::learn_url(&parsed);
    let call = Call {
        method: req.method.as_reqwest(),
        url: parsed,
        headers,
        body,
        timeout_ms: req.timeout_ms,
        config: &req.config,
    };
    let mut slot = Some(call);
    let local = block_on_local(&req.config, |client| {
        let call = slot.take().expect("called once");
        async move { call.send_async(client).await }
    });
    if let Some(result) = local {
        return result;
    }
    let Some(call) = slot else {
        return Err(Error::runtime(
            Cause::Internal,
            "internal error: request lost",
        ));
    };
    if tokio::runtime::Handle::try_current().is_ok() {
        // Inside a tokio runtime no client may block this thread on another runtime: the
        // call runs on a helper thread (defensive; the plugin's callers are plain threads).
        return std::thread::scope(|s| {
            s.spawn(|| call.send_shared()).join().unwrap_or_else(|_| {
                Err(Error::runtime(
                    Cause::Internal,
                    "internal error while sending (a panic was caught)",
                ))
            })
        });
    }
    call.send_shared()
}

thread_local! {
    /// The URL this thread parsed last, and its parse: a script calling one URL in a loop
    /// parses it once (a parse is ~6k instructions, mostly IDNA host processing).
    static LAST_URL: std::cell::RefCell<Option<(String, reqwest::Url)>> =
        const { std::cell::RefCell::new(None) };
}

/// `Url::parse`, its error as text.
fn parse_url(url: &str) -> std::result::Result<reqwest::Url, String> {
    let parse = |u: &str| reqwest::Url::parse(u).map_err(|e| e.to_string());
    LAST_URL
        .try_with(|last| {
            let Ok(mut last) = last.try_borrow_mut() else {
                return parse(url);
            };
            if let Some((text, parsed)) = last.as_ref() {
                if text == url {
                    return Ok(parsed.clone());
                }
            }
            let parsed = parse(url)?;
            *last = Some((url.to_string(), parsed.clone()));
            Ok(parsed)
        })
        .unwrap_or_else(|_| parse(url))
}

/// A checked request, ready to send on either path.
struct Call<'a> {
    method: reqwest::Method,
    url: reqwest::Url,
    headers: HeaderMap,
    body: Option<Vec<u8>>,
    timeout_ms: u64,
    config: &'a HttpConfig,
}

/// What the two request builders (async, blocking) have in common.
trait Builder: Sized {
    fn headers(self, headers: HeaderMap) -> Self;
    fn body(self, body: Vec<u8>) -> Self;
    fn timeout(self, timeout: Duration) -> Self;
}

/// Both builders have these three methods under the same names.
macro_rules! builder_impl {
    ($($t:ty),*) => {$(
        impl Builder for $t {
            fn headers(self, headers: HeaderMap) -> Self {
                self.headers(headers)
            }
            fn body(self, body: Vec<u8>) -> Self {
                self.body(body)
            }
            fn timeout(self, timeout: Duration) -> Self {
                self.timeout(timeout)
            }
        }
    )*};
}

builder_impl!(reqwest::RequestBuilder, reqwest::blocking::RequestBuilder);

impl Call<'_> {
    /// The request built by `request` with this call's headers, body and timeout (taken
    /// from the call: built once).
    fn prepare<B: Builder>(
        &mut self,
        request: impl FnOnce(reqwest::Method, reqwest::Url) -> B,
    ) -> B {
        let mut builder = Builder::headers(
            request(self.method.clone(), self.url.clone()),
            std::mem::take(&mut self.headers),
        );
        if let Some(b) = self.body.take() {
            builder = Builder::body(builder, b);
        }
        if self.timeout_ms > 0 {
            builder = Builder::timeout(builder, Duration::from_millis(self.timeout_ms));
        }
        builder
    }

    /// On this thread's runtime, with this thread's client.
    async fn send_async(mut self, client: reqwest::Client) -> Result<Response> {
        catch_up().await;
        let builder = self.prepare(|m, u| client.request(m, u));
        let (url, config) = (&self.url, self.config);
        let mut ctx = ctx(url, self.timeout_ms, config);
        let start = Instant::now();
        let mut resp = builder.send().await.map_err(|e| describe(e, &ctx))?;
        super::sockets::note_connection(resp.extensions().get(), url, false);
        let status = resp.status();
        let block = header_block(resp.version(), status, resp.headers());
        ctx.reading_body = true;
        let limit = config.max_response_bytes;
        let mut body =
            body_buffer(resp.content_length(), limit).ok_or_else(|| too_large(&ctx, limit))?;
        while let Some(chunk) = resp.chunk().await.map_err(|e| describe_body(e, &ctx))? {
            body.extend_from_slice(&chunk);
            if limit > 0 && body.len() as u64 > limit {
                return Err(too_large(&ctx, limit));
            }
        }
        Ok(Response {
            status: status.as_u16(),
            headers: block,
            body,
            elapsed: start.elapsed().as_secs_f64(),
        })
    }

    /// With the shared blocking client (its runtime thread does the I/O).
    fn send_shared(mut self) -> Result<Response> {
        let client = shared_client(self.config)?;
        let builder = self.prepare(|m, u| client.request(m, u));
        let (url, config) = (&self.url, self.config);
        let mut ctx = ctx(url, self.timeout_ms, config);
        let start = Instant::now();
        let mut resp = builder.send().map_err(|e| describe(e, &ctx))?;
        super::sockets::note_connection(resp.extensions().get(), url, true);
        let status = resp.status();
        let block = header_block(resp.version(), status, resp.headers());
        ctx.reading_body = true;
        let hint = resp.content_length();
        let limit = config.max_response_bytes;
        let body = read_body(&mut resp, hint, limit).map_err(|e| match e {
            BodyError::TooLarge => too_large(&ctx, limit),
            BodyError::Io(io) => describe_io(&io, &ctx),
        })?;
        Ok(Response {
            status: status.as_u16(),
            headers: block,
            body,
            elapsed: start.elapsed().as_secs_f64(),
        })
    }
}

fn ctx<'a>(url: &'a reqwest::Url, timeout_ms: u64, config: &HttpConfig) -> Ctx<'a> {
    Ctx {
        target: url,
        timeout_ms,
        connect_timeout_ms: config.connect_timeout_ms,
        via_proxy: config.proxy.is_some(),
        reading_body: false,
    }
}

fn too_large(ctx: &Ctx, limit: u64) -> Error {
    Error::runtime(
        Cause::Protocol,
        format!(
            "the response body from {} exceeds maxResponseBytes={limit} bytes; \
             raise config maxResponseBytes (0 = unlimited) to accept it",
            ctx.url()
        ),
    )
}
