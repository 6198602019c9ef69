//! `sendEmail`: find the server, build the message, send it on a pooled connection, and
//! report the server's answer or a clear error (never containing the password).
use std::time::Instant;

use super::connection_pool::{self, effective_tls, TransportKey};
use super::message::{self, Mail};
use super::provider_table::lookup;
use crate::core::error::{redact, Error, Result};

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

/// The domain part of `userId`.
fn domain_of(user_id: &str) -> Result<&str> {
    match user_id.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => Ok(domain),
        _ => Err(Error::new(format!(
            "userId \"{}\" is not an e-mail address (user@domain)",
            user_id.escape_debug()
        ))),
    }
}

pub fn send(mail: &Mail) -> Result<SendResult> {
    let started = Instant::now();
    let (envelope, bytes) = message::build(mail)?;
    let user_id = mail.user_id.trim();
    let domain = domain_of(user_id)?;
    let server = lookup(domain).ok_or_else(|| {
        Error::new(format!(
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
                    .map(|r| r.trim().to_string())
                    .collect(),
            })
        }
        Err(err) => {
            let failure = describe(&err, &key);
            if failure.auth {
                connection_pool::forget(&key);
            }
            Err(Error::new(redact(&failure.message, &[&mail.password])))
        }
    }
}

struct Failure {
    message: String,
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
                    "authentication failed: userId or password is incorrect (SMTP server {server} answered: {})",
                    server_reply(err)
                ),
                auth: true,
            };
        }
        return Failure {
            message: format!(
                "the SMTP server {server} refused the e-mail: {}",
                server_reply(err)
            ),
            auth: false,
        };
    }
    if io_timed_out(err) {
        return Failure {
            message: format!(
                "timed out after {} ms waiting for the SMTP server {server} (option 'timeout')",
                key.options.timeout_ms
            ),
            auth: false,
        };
    }
    if err.is_tls() || looks_like_tls(err) {
        let hint = if key.options.verify_ssl {
            "; if the server uses a private or self-signed certificate, give its CA with option \
             'caFile' (or set verifySSL=false to skip verification)"
        } else {
            ""
        };
        return Failure {
            message: format!(
                "TLS ({tls}) with the SMTP server {server} failed: {}{hint}",
                source_text(err)
            ),
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
            auth: false,
        };
    }
    if text.contains("No compatible authentication mechanism") {
        return Failure {
            message: format!(
                "authentication failed: the SMTP server {server} offers no supported AUTH \
                 mechanism (PLAIN, LOGIN) on this connection (tls={tls})"
            ),
            auth: true,
        };
    }
    if err.is_client() && text.contains("STARTTLS") {
        return Failure {
            message: format!("the SMTP server {server} does not offer STARTTLS (tls={tls}): {err}"),
            auth: false,
        };
    }
    Failure {
        message: format!(
            "failed to send the e-mail via the SMTP server {server} (tls={tls}): {err}"
        ),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_is_after_the_at_sign() {
        assert_eq!(domain_of("a@qq.com").unwrap(), "qq.com");
        assert!(domain_of("nobody").is_err());
    }
}
