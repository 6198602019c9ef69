//! E-mail core: `sendEmail` / `emailSmtpConfig` in safe Rust on lettre + rustls.
//!
//! - [`provider_table`]: mail domain -> SMTP server (built-in table + `emailSmtpConfig`);
//! - [`options`]: the `options` dictionary of `emailSmtpConfig` (`tls`, `verifySSL`, ...);
//! - [`message`]: validation and construction of the bytes sent (subject/body or raw);
//! - [`connection_pool`]: pooled, authenticated SMTP connections per server/account/TLS setting;
//! - [`send`]: the send itself, its result and the mapping of SMTP errors to messages.
//!
//! Errors never contain the password.
pub mod connection_pool;
pub mod message;
pub mod options;
pub mod provider_table;
pub mod send;

pub use message::{Content, EmailAddress, Mail};
pub use options::{ContentType, EmailOptions, SmtpOptions, TlsMode};
pub use provider_table::{configure, lookup, ServerEntry};
pub use send::{send, OutgoingMail, SendResult};
