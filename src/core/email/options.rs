//! The option dictionaries of the e-mail functions: `emailSmtpConfig`'s `options` (how to
//! reach a server: [`SmtpOptions`]) and `sendEmail`'s `options` (what to send:
//! [`EmailOptions`]), both read with the one [`ConfigReader`].
use crate::core::config::{ConfigReader, FromConfig};
use crate::core::error::Result;

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TlsMode {
    /// Implicit TLS on port 465; elsewhere STARTTLS when the server offers it.
    #[default]
    Auto,
    /// Plain connection upgraded with STARTTLS; fails if the server does not offer it.
    StartTls,
    /// TLS from the first byte (SMTPS, "implicit TLS").
    Tls,
    /// No TLS at all (local relays only).
    None,
}

impl TlsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Auto => "auto",
            TlsMode::StartTls => "starttls",
            TlsMode::Tls => "tls",
            TlsMode::None => "none",
        }
    }
}

pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;

/// Per-server SMTP options.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SmtpOptions {
    pub tls: TlsMode,
    /// Verify the server certificate and host name (default true).
    pub verify_ssl: bool,
    /// Timeout of the connect and of every SMTP command, in milliseconds.
    pub timeout_ms: u64,
    /// PEM file with extra trusted CA certificates (key `caFile`).
    pub ca_file: Option<String>,
}

impl Default for SmtpOptions {
    fn default() -> Self {
        SmtpOptions {
            tls: TlsMode::Auto,
            verify_ssl: true,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            ca_file: None,
        }
    }
}

impl FromConfig for SmtpOptions {
    fn read(r: &mut ConfigReader<'_>) -> Result<SmtpOptions> {
        let d = SmtpOptions::default();
        let tls = match r.choice("tls", &["auto", "starttls", "tls", "ssl", "none"])? {
            None => d.tls,
            Some("auto") => TlsMode::Auto,
            Some("starttls") => TlsMode::StartTls,
            Some("tls" | "ssl") => TlsMode::Tls,
            Some(_) => TlsMode::None,
        };
        let verify_ssl = r.flag("verifySSL")?.unwrap_or(d.verify_ssl);
        let timeout_ms = match r.millis("timeout")? {
            None | Some(0) => d.timeout_ms,
            Some(ms) => ms,
        };
        Ok(SmtpOptions {
            tls,
            verify_ssl,
            timeout_ms,
            ca_file: r.text("caFile")?,
        })
    }
}

/// The body's content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContentType {
    /// `text/html; charset=utf-8`, as the official plugin sends.
    #[default]
    Html,
    /// `text/plain; charset=utf-8`.
    Plain,
}

/// What `sendEmail`'s `options` add to a mail.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EmailOptions {
    /// `cc`: more visible recipients.
    pub cc: Vec<String>,
    /// `bcc`: hidden recipients (envelope only).
    pub bcc: Vec<String>,
    /// `attachments`: paths of files on the server.
    pub attachments: Vec<String>,
    /// `contentType`: "html" (default) or "plain".
    pub content_type: ContentType,
    /// `fromName`: the display name of the sender.
    pub from_name: Option<String>,
    /// `replyTo`: the Reply-To address.
    pub reply_to: Option<String>,
    /// `each` (default false): a vector of recipients gets one mail each, sent
    /// concurrently, and the result is a table with one row per recipient (the official
    /// plugin sends one mail to all of them, and so does this one by default).
    pub each: bool,
    /// `async` (default false): queue the mail and return at once.
    pub asynchronous: bool,
    /// `retries` (queued: default 3; sent at once: default 0, as the official plugin):
    /// further attempts after a transient failure.
    pub retries: Option<u32>,
}

impl FromConfig for EmailOptions {
    fn read(r: &mut ConfigReader<'_>) -> Result<EmailOptions> {
        Ok(EmailOptions {
            cc: r.texts("cc")?.unwrap_or_default(),
            bcc: r.texts("bcc")?.unwrap_or_default(),
            attachments: r.texts("attachments")?.unwrap_or_default(),
            content_type: match r.choice("contentType", &["html", "plain"])? {
                Some("plain") => ContentType::Plain,
                _ => ContentType::Html,
            },
            from_name: r.text("fromName")?,
            reply_to: r.text("replyTo")?,
            each: r.flag("each")?.unwrap_or(false),
            asynchronous: r.flag("async")?.unwrap_or(false),
            retries: r.number("retries", "retries")?.map(|n| n.min(10) as u32),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::ConfigValue;

    fn s(v: &str) -> ConfigValue {
        ConfigValue::Str(v.as_bytes().to_vec())
    }

    #[test]
    fn smtp_options_all_keys() {
        let o = SmtpOptions::from_entries(
            "options",
            &[
                ("tls".into(), s("STARTTLS")),
                ("verifySSL".into(), ConfigValue::Bool(false)),
                (
                    "timeout".into(),
                    ConfigValue::Number {
                        long: 1500,
                        double: 1500.0,
                        integral: true,
                    },
                ),
                ("caFile".into(), s("/tmp/ca.pem")),
            ],
        )
        .unwrap();
        assert_eq!(o.tls, TlsMode::StartTls);
        assert!(!o.verify_ssl);
        assert_eq!(o.timeout_ms, 1500);
        assert_eq!(o.ca_file.as_deref(), Some("/tmp/ca.pem"));
        assert_eq!(
            SmtpOptions::from_entries("options", &[("timeout".into(), ConfigValue::Null)]).unwrap(),
            SmtpOptions::default()
        );
    }

    #[test]
    fn email_options_lists_and_refusals() {
        let o = EmailOptions::from_entries(
            "options",
            &[
                (
                    "cc".into(),
                    ConfigValue::List(vec![b"a@x.test".to_vec(), b"b@x.test".to_vec()]),
                ),
                ("bcc".into(), s("c@x.test")),
                ("contentType".into(), s("plain")),
            ],
        )
        .unwrap();
        assert_eq!(o.cc, ["a@x.test", "b@x.test"]);
        assert_eq!(o.bcc, ["c@x.test"]);
        assert_eq!(o.content_type, ContentType::Plain);
        let e =
            EmailOptions::from_entries("options", &[("contentType".into(), s("pdf"))]).unwrap_err();
        assert!(e.message().contains("'contentType'"), "{e}");
        let e = SmtpOptions::from_entries("options", &[("tlz".into(), s("x"))]).unwrap_err();
        assert!(e.message().contains("unknown key 'tlz'"), "{e}");
    }
}
