//! `sendEmail`: find the server, build the message, send it on a pooled connection, and
//! report the server's answer or a clear error (never containing the password).
use std::time::Instant;

use super::connection_pool::{self, effective_tls, SendError, TransportKey};
use super::message::{self, Mail};
use super::provider_table::lookup;
use crate::core::error::{redact, Cause, Error, Result};

/// What a successful send returns (the surface turns it into the result dictionary).
#[derive(Debug, Clone, PartialEq)]
pub struct SendResult {
    /// The SMTP code of the server's final reply to the message (250).
    pub response_code: i32,
    /// The text of that reply (without the code), lines joined by "\n".
    pub text: String,
    /// That reply as the server sent it ("250 2.0.0 OK\r\n", multi-line replies kept).
    pub headers: String,
    /// Seconds from the call to the final reply.
    pub elapsed: f64,
    pub user_id: String,
    pub recipients: Vec<String>,
}

pub fn send(mail: &Mail) -> Result<SendResult> {
    let started = Instant::now();
    let (envelope, bytes) = message::build(mail)?;
    let user_id = mail.from.as_str();
    let domain = mail.from.domain();
    let server = lookup(domain).ok_or_else(|| {
        Error::argument(format!(
            "no SMTP server is known for the mail domain \"{domain}\" of userId \"{user_id}\"; \
             call httpClient::emailSmtpConfig(\"{domain}\", host, port) first"
        ))
    })?;
    let key = TransportKey::new(
        &server.host,
        server.port,
        user_id,
        &mail.password,
        &server.options,
    );
    let transport = connection_pool::get(&key)?;
    match transport.send_raw(&envelope, &bytes) {
        Ok(response) => {
            let code: u16 = response.code().into();
            let lines: Vec<&str> = response.message().collect();
            let mut headers = String::new();
            for (i, line) in lines.iter().enumerate() {
                let sep = if i + 1 == lines.len() { ' ' } else { '-' };
                headers.push_str(&format!("{code}{sep}{line}\r\n"));
            }
            if lines.is_empty() {
                headers.push_str(&format!("{code}\r\n"));
            }
            Ok(SendResult {
                response_code: i32::from(code),
                text: lines.join("\n"),
                headers,
                elapsed: started.elapsed().as_secs_f64(),
                user_id: user_id.to_string(),
                recipients: mail
                    .recipients
                    .iter()
                    .map(|r| r.as_str().to_string())
                    .collect(),
            })
        }
        Err(SendError::NoTls) => Err(Error::runtime(
            Cause::Tls,
            format!(
                "the SMTP server {}:{} offers no STARTTLS: the password is not sent \
                 unencrypted; use its TLS port (465) or option tls \"tls\", or tls \"none\" \
                 for a trusted local relay",
                key.host, key.port
            ),
        )),
        Err(SendError::Smtp(err)) => {
            let failure = describe(&err, &key);
            if failure.auth {
                connection_pool::forget(&key);
            }
            Err(Error::runtime(
                failure.cause,
                redact(&failure.message, &[&mail.password]),
            ))
        }
    }
}

struct Failure {
    message: String,
    cause: Cause,
    auth: bool,
}

fn io_timed_out(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) {
                return true;
            }
        }
        source = e.source();
    }
    false
}

fn describe(err: &lettre::transport::smtp::Error, key: &TransportKey) -> Failure {
    let server = format!("{}:{}", key.host, key.port);
    let tls = effective_tls(key.options.tls, key.port).as_str();
    if let Some(code) = err.status() {
        let code: u16 = code.into();
        let auth_text = err.to_string().to_ascii_lowercase().contains("auth");
        if matches!(code, 534 | 535) || (code == 454 && auth_text) {
            return Failure {
                message: format!(
                    "userId or password is incorrect (SMTP server {server} answered: {})",
                    server_reply(err)
                ),
                cause: Cause::Auth,
                auth: true,
            };
        }
        return Failure {
            message: format!(
                "the SMTP server {server} refused the e-mail: {}",
                server_reply(err)
            ),
            cause: if code >= 500 {
                Cause::Refused
            } else {
                // 4xx: a transient refusal (greylisting, too many connections)
                Cause::RateLimited
            },
            auth: false,
        };
    }
    if io_timed_out(err) {
        return Failure {
            message: format!(
                "no answer within {} ms from the SMTP server {server} (option 'timeout')",
                key.options.timeout_ms
            ),
            cause: Cause::Timeout,
            auth: false,
        };
    }
    if err.is_tls() || looks_like_tls(err) {
        let hint = if !key.options.verify_ssl {
            ""
        } else if source_text(err).contains("CaUsedAsEndEntity") {
            // lettre takes roots, not a verifier: a self-signed CA:TRUE certificate (the
            // `openssl req -x509` default) cannot be pinned as it is for HTTP
            "; the server presents a CA certificate (CA:TRUE) as its own, which SMTP \
             verification cannot accept even from caFile: give the server a certificate \
             signed by that CA (and the CA as caFile), or set verifySSL=false"
        } else {
            "; if the server uses a private or self-signed certificate, give its CA with option \
             'caFile' (or set verifySSL=false to skip verification)"
        };
        return Failure {
            message: format!(
                "TLS ({tls}) with the SMTP server {server} failed: {}{hint}",
                source_text(err)
            ),
            cause: Cause::Tls,
            auth: false,
        };
    }
    let text = err.to_string();
    let lower = text.to_ascii_lowercase();
    if text.starts_with("Connection error") {
        return Failure {
            message: format!(
                "cannot connect to the SMTP server {server}: {}",
                source_text(err)
            ),
            cause: if source_text(err).to_ascii_lowercase().contains("lookup") {
                Cause::Dns
            } else {
                Cause::Connect
            },
            auth: false,
        };
    }
    if [
        "close_notify",
        "unexpected eof",
        "incomplete",
        "connection reset",
        "broken pipe",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
    {
        return Failure {
            message: format!(
                "the SMTP server {server} closed the connection unexpectedly (tls={tls}); \
                 the e-mail was not confirmed: {}",
                source_text(err)
            ),
            cause: Cause::Connect,
            auth: false,
        };
    }
    if text.contains("No compatible authentication mechanism") {
        return Failure {
            message: format!(
                "the SMTP server {server} offers no supported AUTH mechanism (PLAIN, LOGIN) \
                 on this connection (tls={tls})"
            ),
            cause: Cause::Auth,
            auth: true,
        };
    }
    if err.is_client() && text.contains("STARTTLS") {
        return Failure {
            message: format!("the SMTP server {server} does not offer STARTTLS (tls={tls}): {err}"),
            cause: Cause::Tls,
            auth: false,
        };
    }
    Failure {
        message: format!(
            "failed to send the e-mail via the SMTP server {server} (tls={tls}): {err}"
        ),
        cause: Cause::Protocol,
        auth: false,
    }
}

/// The cause of a lettre error without lettre's kind prefix.
fn source_text(err: &lettre::transport::smtp::Error) -> String {
    match std::error::Error::source(err) {
        Some(source) => source.to_string(),
        None => err.to_string(),
    }
}

/// rustls failures during the implicit-TLS handshake reach us as network errors.
fn looks_like_tls(err: &lettre::transport::smtp::Error) -> bool {
    let text = err.to_string().to_ascii_lowercase();
    [
        "certificate",
        "peer is incompatible",
        "peer misbehaved",
        "received fatal alert",
        "handshake",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

/// "535 5.7.8 Authentication credentials invalid" from a negative-reply error.
fn server_reply(err: &lettre::transport::smtp::Error) -> String {
    let code: u16 = err.status().map(u16::from).unwrap_or_default();
    match std::error::Error::source(err) {
        Some(text) => format!("{code} {text}"),
        None => code.to_string(),
    }
}

/// A mail as a deliverable message: sent at once, one per recipient (option `each`), or
/// queued (option `async`), retried after transient failures (connection, timeout, a 4xx
/// reply) but never after a refusal or wrong credentials.
#[derive(Debug, Clone)]
pub struct OutgoingMail(pub Mail);

impl crate::core::delivery::Deliverable for OutgoingMail {
    fn function(&self) -> &'static str {
        "sendEmail"
    }

    fn target(&self) -> String {
        let to: Vec<&str> = self.0.recipients.iter().map(|r| r.as_str()).collect();
        format!("{} -> {}", self.0.from.as_str(), to.join(" "))
    }

    fn destination(&self) -> (String, crate::core::delivery::pacing::RateLimit) {
        (
            format!("smtp|{}", self.0.from.as_str()),
            crate::core::delivery::pacing::RateLimit::none(),
        )
    }

    fn attempt_timeout_ms(&self) -> u64 {
        lookup(self.0.from.domain())
            .map(|s| s.options.timeout_ms)
            .unwrap_or(super::options::DEFAULT_TIMEOUT_MS)
    }

    fn attempt(&self) -> crate::core::delivery::Attempt {
        use crate::core::delivery::{Attempt, Delivered};
        match send(&self.0) {
            Ok(r) => Attempt::Done(Delivered::Mail(r)),
            Err(e) if e.cause().is_transient() => Attempt::Transient(e),
            Err(e) => Attempt::Failed(e),
        }
    }
}
