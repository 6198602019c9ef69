//! Transport failures turned into errors that say what happened, with their cause:
//! timeout, connection refused, unknown host, TLS verification (with both ways out), other
//! TLS failures.
use crate::core::error::{Cause, Error};
use std::error::Error as StdError;
use std::io;

/// Context of a call, for the message should it fail. The shown forms of the target are
/// only computed when a message is built, not on every call.
pub struct Ctx<'a> {
    /// The target URL.
    pub target: &'a reqwest::Url,
    pub timeout_ms: u64,
    pub connect_timeout_ms: Option<u64>,
    pub via_proxy: bool,
    /// While reading the body (after the status and headers arrived).
    pub reading_body: bool,
}

impl Ctx<'_> {
    /// The target URL as shown (no query, no user info).
    pub fn url(&self) -> String {
        super::url::for_message(self.target)
    }

    /// Host name alone (`example.com`).
    pub fn hostname(&self) -> &str {
        self.target.host_str().unwrap_or("")
    }

    /// Host and port of the target (`example.com:443`).
    pub fn host(&self) -> String {
        match self.target.port_or_known_default() {
            Some(p) => format!("{}:{p}", self.hostname()),
            None => self.hostname().to_string(),
        }
    }
}

/// All messages of the source chain joined by `: `, duplicates removed.
pub fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        // reqwest/hyper wrappers that say nothing the inner errors do not say better.
        let generic = s.starts_with("error sending request")
            || s.starts_with("client error (")
            || s == "error decoding response body"
            || s == "request or response body error";
        if !s.is_empty() && !generic && !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}

fn has_io_kind(e: &(dyn StdError + 'static), kind: io::ErrorKind) -> bool {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(ioe) = err.downcast_ref::<io::Error>() {
            if ioe.kind() == kind {
                return true;
            }
        }
        cur = err.source();
    }
    false
}

/// Describes a `reqwest` failure (from sending or from reading the body). The URL reqwest
/// attaches (with its query, which may hold a webhook key) is dropped.
pub fn describe(err: reqwest::Error, ctx: &Ctx) -> Error {
    let err = err.without_url();
    let err = &err;
    let detail = chain(err);
    let lower = detail.to_ascii_lowercase();
    let proxy_note = if ctx.via_proxy {
        " (through the proxy)"
    } else {
        ""
    };
    let is_timeout = err.is_timeout()
        || has_io_kind(err, io::ErrorKind::TimedOut)
        || lower.contains("timed out")
        || lower.contains("deadline has elapsed");
    if is_timeout {
        if err.is_connect() {
            if let Some(ms) = ctx.connect_timeout_ms {
                return Error::runtime(
                    Cause::Timeout,
                    format!(
                        "could not connect to {}{proxy_note} within connectTimeout={ms} ms",
                        ctx.host()
                    ),
                );
            }
        }
        let phase = if ctx.reading_body {
            "while reading the response body"
        } else {
            "before the response arrived"
        };
        return Error::runtime(
            Cause::Timeout,
            if ctx.timeout_ms > 0 {
                format!(
                    "the request to {} did not complete within {} ms ({phase})",
                    ctx.url(),
                    ctx.timeout_ms
                )
            } else {
                format!("the request to {} timed out ({phase}): {detail}", ctx.url())
            },
        );
    }
    if has_io_kind(err, io::ErrorKind::ConnectionRefused) || lower.contains("connection refused") {
        return Error::runtime(
            Cause::Connect,
            format!("connection refused by {}{proxy_note}", ctx.host()),
        );
    }
    if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
        || lower.contains("no address associated")
        || lower.contains("temporary failure in name resolution")
    {
        return Error::runtime(
            Cause::Dns,
            format!(
                "unknown host: cannot resolve '{}'{proxy_note}: {detail}",
                ctx.hostname()
            ),
        );
    }
    if lower.contains("invalid peer certificate")
        || lower.contains("unknownissuer")
        || lower.contains("notvalidforname")
        || lower.contains("certificate")
    {
        return Error::runtime(
            Cause::Tls,
            format!(
                "certificate verification failed for {}: {detail}. If the server uses a \
                 self-signed or private CA certificate, pass config caFile=<path to that \
                 certificate or its CA's, PEM>, or verifySSL=false to skip verification \
                 (insecure)",
                ctx.host()
            ),
        );
    }
    if lower.contains("tls") || lower.contains("handshake") || lower.contains("alert") {
        return Error::runtime(
            Cause::Tls,
            format!("handshake with {}{proxy_note} failed: {detail}", ctx.host()),
        );
    }
    if err.is_redirect() {
        return Error::runtime(
            Cause::Protocol,
            format!("too many redirects from {}: {detail}", ctx.url()),
        );
    }
    if err.is_connect() {
        return Error::runtime(
            Cause::Connect,
            format!("cannot connect to {}{proxy_note}: {detail}", ctx.host()),
        );
    }
    if ctx.reading_body {
        return Error::runtime(
            Cause::Connect,
            format!(
                "failed reading the response body from {}: {detail}",
                ctx.url()
            ),
        );
    }
    Error::runtime(
        Cause::Connect,
        format!("request to {} failed{proxy_note}: {detail}", ctx.url()),
    )
}

/// Describes a failure while reading the body (after the status and headers arrived): a
/// timeout, or the connection broken.
pub fn describe_body(err: reqwest::Error, ctx: &Ctx) -> Error {
    let err = err.without_url();
    let detail = chain(&err);
    if err.is_timeout()
        || has_io_kind(&err, io::ErrorKind::TimedOut)
        || detail.to_ascii_lowercase().contains("timed out")
    {
        return body_timeout(ctx);
    }
    broken_body(ctx, detail)
}

fn body_timeout(ctx: &Ctx) -> Error {
    Error::runtime(
        Cause::Timeout,
        format!(
            "the request to {} did not complete within {} ms (while reading the response body)",
            ctx.url(),
            ctx.timeout_ms
        ),
    )
}

fn broken_body(ctx: &Ctx, detail: String) -> Error {
    Error::runtime(
        Cause::Connect,
        format!(
            "failed reading the response body from {}: {detail}",
            ctx.url()
        ),
    )
}

/// Describes an I/O error from reading the body (which usually wraps a `reqwest::Error`).
pub fn describe_io(err: &io::Error, ctx: &Ctx) -> Error {
    if let Some(inner) = err.get_ref() {
        if let Some(re) = inner.downcast_ref::<reqwest::Error>() {
            let detail = chain(re);
            if re.is_timeout() || detail.to_ascii_lowercase().contains("timed out") {
                return body_timeout(ctx);
            }
            return broken_body(ctx, detail);
        }
    }
    if err.kind() == io::ErrorKind::TimedOut {
        return body_timeout(ctx);
    }
    broken_body(ctx, chain(err))
}
