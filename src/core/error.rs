//! The one error type of the plugin. Its kind (the caller's fault, or a failure of a
//! well-formed call) is set where the fault is found; its cause says what happened, so that
//! tests, retries and the C API act on it instead of matching text. The message is for the
//! user, without the `httpClient::<fn>:` prefix, which the plugin surface adds. Messages
//! never contain passwords, secrets or tokens.
use std::fmt;

/// Whose fault: raised as IllegalArgumentException (argument) or RuntimeException.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The caller passed something wrong.
    Argument,
    /// The call was fine but failed (network, peer's answer, local resource).
    Runtime,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    /// A wrong argument or configuration value.
    Argument,
    /// A time limit passed (connect, request, SMTP command, waiting for a rate limit).
    Timeout,
    /// The peer could not be reached (refused, unreachable, reset before answering).
    Connect,
    /// The host name did not resolve.
    Dns,
    /// TLS handshake or certificate verification failed.
    Tls,
    /// The peer answered with an HTTP status the operation cannot use (a platform API
    /// answering 502 with an HTML page, say); carries the status.
    HttpStatus(u16),
    /// The peer's answer broke the protocol or a limit (malformed reply, body too large).
    Protocol,
    /// Credentials were refused (SMTP 535, a platform's gettoken).
    Auth,
    /// The peer refused the request itself (an SMTP server refusing a recipient).
    Refused,
    /// Waiting for the client-side pacing would exceed the call's timeout, or a token
    /// request was answered "slow down". (A message answered "slow down" after its last
    /// retry is not an error: the platform's answer is returned, its errcode non-zero.)
    RateLimited,
    /// The asynchronous delivery queue is full.
    QueueFull,
    /// A local file or resource (caFile, an attachment) could not be used.
    Io,
    /// A bug: a panic caught, an invariant broken.
    Internal,
}

impl Cause {
    /// The label that starts a runtime error's message (`timeout: ...`).
    pub fn label(self) -> &'static str {
        match self {
            Cause::Argument => "argument",
            Cause::Timeout => "timeout",
            Cause::Connect => "connect",
            Cause::Dns => "dns",
            Cause::Tls => "tls",
            Cause::HttpStatus(_) => "http",
            Cause::Protocol => "protocol",
            Cause::Auth => "auth",
            Cause::Refused => "refused",
            Cause::RateLimited => "rate limit",
            Cause::QueueFull => "queue full",
            Cause::Io => "io",
            Cause::Internal => "internal",
        }
    }

    /// A stable number for the C API (`HttpClientResult::cause`).
    pub fn code(self) -> i32 {
        match self {
            Cause::Argument => 1,
            Cause::Timeout => 2,
            Cause::Connect => 3,
            Cause::Dns => 4,
            Cause::Tls => 5,
            Cause::HttpStatus(_) => 6,
            Cause::Protocol => 7,
            Cause::Auth => 8,
            Cause::Refused => 9,
            Cause::RateLimited => 10,
            Cause::QueueFull => 11,
            Cause::Io => 12,
            Cause::Internal => 13,
        }
    }

    /// Worth another attempt of the same request (transient or rate-limited), as opposed
    /// to failures a retry cannot change (arguments, credentials, TLS, refusals).
    pub fn is_transient(self) -> bool {
        match self {
            Cause::Timeout | Cause::Connect | Cause::Dns | Cause::RateLimited => true,
            Cause::HttpStatus(s) => s == 429 || s >= 500,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: Kind,
    cause: Cause,
    detail: String,
}

impl Error {
    /// A bad argument or configuration value: the message says which and why.
    pub fn argument(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Argument,
            cause: Cause::Argument,
            detail: message.into(),
        }
    }

    /// A failure of a well-formed call.
    pub fn runtime(cause: Cause, detail: impl Into<String>) -> Self {
        Error {
            kind: Kind::Runtime,
            cause,
            detail: detail.into(),
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn cause(&self) -> Cause {
        self.cause
    }

    pub fn is_argument(&self) -> bool {
        self.kind == Kind::Argument
    }

    /// The message without the cause label.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The message shown to the user: `<cause>: <detail>` for runtime errors (the cause
    /// label first, so that a log or a script can tell them apart), the detail alone for
    /// argument errors.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The same error with its detail changed (context added, secrets removed).
    pub fn map_detail(self, f: impl FnOnce(&str) -> String) -> Self {
        let detail = f(&self.detail);
        Error { detail, ..self }
    }

    /// The same error with `context: ` put before its detail.
    pub fn context(self, context: &str) -> Self {
        self.map_detail(|d| format!("{context}: {d}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Argument => f.write_str(&self.detail),
            Kind::Runtime => write!(f, "{}: {}", self.cause.label(), self.detail),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Secrets shorter than this are not searched for: replacing them would mangle ordinary
/// words ("k" in "unknown") while protecting nothing. Messages are built without secrets
/// in the first place; this is the second line of defence.
const MIN_REDACTED_LEN: usize = 4;

/// Replaces every occurrence of each secret (passwords, app secrets, tokens, webhook
/// keys) in `message` by `***`.
pub fn redact(message: &str, secrets: &[&str]) -> String {
    let mut out = message.to_string();
    for s in secrets {
        if s.len() >= MIN_REDACTED_LEN && out.contains(s) {
            out = out.replace(s, "***");
        }
    }
    out
}

/// [`redact`] applied to an error's detail.
pub fn redact_error(e: Error, secrets: &[&str]) -> Error {
    e.map_detail(|d| redact(d, secrets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_secrets_but_not_short_strings_inside_words() {
        assert_eq!(
            redact("x secret-1 y secret-1", &["secret-1"]),
            "x *** y ***"
        );
        assert_eq!(redact("unknown host", &["k", ""]), "unknown host");
    }

    #[test]
    fn runtime_messages_start_with_their_cause() {
        let e = Error::runtime(Cause::Timeout, "no answer within 5 ms");
        assert_eq!(e.message(), "timeout: no answer within 5 ms");
        assert_eq!(e.kind(), Kind::Runtime);
        let a = Error::argument("url must not be empty").context("config");
        assert_eq!(a.message(), "config: url must not be empty");
        assert!(a.is_argument());
        assert!(Cause::HttpStatus(503).is_transient() && !Cause::Auth.is_transient());
    }
}
