//! Pooled SMTP connections per (host, port, account, TLS settings), so a burst of alerts
//! reuses open, authenticated connections. Built on lettre's `SmtpConnection` rather than
//! its pooled `SmtpTransport`: the transport writes the message and the final
//! `\r\n.\r\n` in two writes on a socket without TCP_NODELAY, and Nagle's algorithm
//! then waits for the server's delayed ACK (about 40 ms per mail, measured). Here the
//! dot-stuffed message and its terminator go out in one write.
//!
//! The map is locked only to look up or insert a pool; a pool's idle list only to take or
//! return a connection. Nothing is locked while talking to the server.
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use lettre::transport::smtp::Error as SmtpError;

use super::options::{SmtpOptions, TlsMode};
use crate::core::error::{Cause, Error, Result};

/// Most pools kept; beyond that the map is emptied (their connections close).
const MAX_POOLS: usize = 256;
/// Idle connections kept per pool.
const MAX_IDLE: usize = 16;
/// Idle connections older than this are closed instead of reused.
const IDLE: Duration = Duration::from_secs(60);

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TransportKey {
    pub host: String,
    pub port: u16,
    pub user: String,
    password: String,
    pub options: SmtpOptions,
}

impl std::fmt::Debug for TransportKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportKey")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl TransportKey {
    pub fn new(host: &str, port: u16, user: &str, password: &str, options: &SmtpOptions) -> Self {
        TransportKey {
            host: host.to_string(),
            port,
            user: user.to_string(),
            password: password.to_string(),
            options: options.clone(),
        }
    }
}

/// The effective TLS mode: `auto` is implicit TLS on 465, opportunistic STARTTLS elsewhere.
pub fn effective_tls(mode: TlsMode, port: u16) -> TlsMode {
    match mode {
        TlsMode::Auto if port == 465 => TlsMode::Tls,
        other => other,
    }
}

fn tls_parameters(host: &str, options: &SmtpOptions) -> Result<TlsParameters> {
    let mut builder = TlsParameters::builder(host.to_string());
    if let Some(path) = &options.ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            Error::runtime(
                Cause::Io,
                format!("option 'caFile': cannot read \"{path}\": {e}"),
            )
        })?;
        let cert = Certificate::from_pem(&pem).map_err(|_| {
            Error::argument(format!(
                "option 'caFile': \"{path}\" holds no valid PEM certificate"
            ))
        })?;
        builder = builder.add_root_certificate(cert);
    }
    if !options.verify_ssl {
        builder = builder
            .dangerous_accept_invalid_certs(true)
            .dangerous_accept_invalid_hostnames(true);
    }
    builder
        .build_rustls()
        .map_err(|e| Error::runtime(Cause::Tls, format!("cannot set up TLS for {host}: {e}")))
}

/// The pooled connections of one server account.
pub struct Pool {
    key: TransportKey,
    mode: TlsMode,
    tls: Option<TlsParameters>,
    idle: Mutex<Vec<(SmtpConnection, Instant)>>,
}

/// Why a mail was not sent.
#[derive(Debug)]
pub enum SendError {
    Smtp(SmtpError),
    /// tls "auto" on a server that offers no STARTTLS: the password is not sent in clear.
    NoTls,
}

impl From<SmtpError> for SendError {
    fn from(e: SmtpError) -> SendError {
        SendError::Smtp(e)
    }
}

/// How one attempt on a connection failed.
struct Attempt {
    error: SmtpError,
    /// Nothing reached the server before the connection failed: a stale pooled
    /// connection; the mail may be sent again on a fresh one without any risk of a
    /// duplicate.
    nothing_sent: bool,
}

/// The dot-stuffed message followed by the end-of-data line, written in one piece.
struct Terminated(String);

impl fmt::Display for Terminated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)?;
        f.write_str("\r\n.\r\n")
    }
}

/// SMTP transparency (RFC 5321 4.5.2): a line that starts with '.' gets one more.
fn dot_stuff(message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 16);
    if message.starts_with('.') {
        out.push('.');
    }
    let mut rest = message;
    while let Some(at) = rest.find("\r\n.") {
        out.push_str(&rest[..at + 2]);
        out.push('.');
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    out
}

impl Pool {
    fn new(key: &TransportKey) -> Result<Pool> {
        let mode = effective_tls(key.options.tls, key.port);
        let tls = match mode {
            TlsMode::None => None,
            _ => Some(tls_parameters(&key.host, &key.options)?),
        };
        Ok(Pool {
            key: key.clone(),
            mode,
            tls,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Connects, upgrades to TLS as configured, and authenticates.
    fn connect(&self) -> std::result::Result<SmtpConnection, SendError> {
        let timeout = Some(Duration::from_millis(self.key.options.timeout_ms));
        let hello = ClientId::default();
        let wrapper = if self.mode == TlsMode::Tls {
            self.tls.as_ref()
        } else {
            None
        };
        let mut conn = SmtpConnection::connect(
            (self.key.host.as_str(), self.key.port),
            timeout,
            &hello,
            wrapper,
            None,
        )?;
        match (self.mode, &self.tls) {
            (TlsMode::StartTls, Some(tls)) => conn.starttls(tls, &hello)?,
            (TlsMode::Auto, Some(tls)) if conn.can_starttls() => conn.starttls(tls, &hello)?,
            _ => {}
        }
        if self.mode == TlsMode::Auto && !conn.is_encrypted() {
            // the official plugin (libcurl's CURLUSESSL_TRY) would log in in clear here;
            // a local relay without TLS is tls "none", said explicitly
            conn.abort();
            return Err(SendError::NoTls);
        }
        let credentials = Credentials::new(self.key.user.clone(), self.key.password.clone());
        conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials)?;
        Ok(conn)
    }

    fn take_idle(&self) -> Option<SmtpConnection> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some((conn, since)) = idle.pop() {
            if since.elapsed() < IDLE {
                return Some(conn);
            }
            drop(conn); // too old: the server has probably closed it
        }
        None
    }

    fn put_back(&self, conn: SmtpConnection) {
        if conn.has_broken() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push((conn, Instant::now()));
        }
    }

    /// Sends one message: on an idle pooled connection when there is one (and again on a
    /// fresh connection if that one turns out to be closed before anything was sent).
    pub fn send_raw(
        &self,
        envelope: &Envelope,
        email: &[u8],
    ) -> std::result::Result<Response, SendError> {
        if let Some(mut conn) = self.take_idle() {
            match send_on(&mut conn, envelope, email) {
                Ok(r) => {
                    self.put_back(conn);
                    return Ok(r);
                }
                Err(a) if a.nothing_sent => {}
                Err(a) => return Err(a.error.into()),
            }
        }
        let mut conn = self.connect()?;
        let response = send_on(&mut conn, envelope, email).map_err(|a| a.error)?;
        self.put_back(conn);
        Ok(response)
    }
}

/// MAIL, RCPT for each recipient, DATA, then the message and its terminator in one write.
fn send_on(
    conn: &mut SmtpConnection,
    envelope: &Envelope,
    email: &[u8],
) -> std::result::Result<Response, Attempt> {
    let mut params = Vec::new();
    let non_ascii_address = envelope
        .from()
        .into_iter()
        .chain(envelope.to())
        .any(|a| !AsRef::<str>::as_ref(a).is_ascii());
    if non_ascii_address && conn.server_info().supports_feature(Extension::SmtpUtfEight) {
        params.push(MailParameter::SmtpUtfEight);
    }
    if !email.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
        params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    let fail = |conn: &mut SmtpConnection, error: SmtpError, first: bool| {
        // no SMTP reply code at all (closed, reset, cut-off reply) to the first command, or
        // 421: a server closing an idle connection (Postfix says "421 … timeout" first)
        let nothing_sent = first && error.status().is_none_or(|c| u16::from(c) == 421);
        conn.abort();
        Attempt {
            error,
            nothing_sent,
        }
    };
    if let Err(e) = conn.command(Mail::new(envelope.from().cloned(), params)) {
        return Err(fail(conn, e, true));
    }
    for to in envelope.to() {
        if let Err(e) = conn.command(Rcpt::new(to.clone(), vec![])) {
            return Err(fail(conn, e, false));
        }
    }
    if let Err(e) = conn.command(Data) {
        return Err(fail(conn, e, false));
    }
    let sent = match std::str::from_utf8(email) {
        Ok(text) => conn.command(Terminated(dot_stuff(text))),
        // 8-bit bytes that are not UTF-8 (a raw `msg` only): lettre's own writer
        Err(_) => conn.message(email),
    };
    sent.map_err(|e| fail(conn, e, false))
}

fn pools() -> &'static Mutex<HashMap<TransportKey, Arc<Pool>>> {
    static POOLS: OnceLock<Mutex<HashMap<TransportKey, Arc<Pool>>>> = OnceLock::new();
    POOLS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The shared pool for `key`, created on first use.
pub fn get(key: &TransportKey) -> Result<Arc<Pool>> {
    if let Some(p) = pools().lock().unwrap_or_else(|e| e.into_inner()).get(key) {
        return Ok(p.clone());
    }
    // Built outside the lock (it may read a CA file); a racing thread's copy wins.
    let fresh = Arc::new(Pool::new(key)?);
    let mut map = pools().lock().unwrap_or_else(|e| e.into_inner());
    if map.len() >= MAX_POOLS && !map.contains_key(key) {
        map.clear();
    }
    Ok(map.entry(key.clone()).or_insert(fresh).clone())
}

/// Forgets the pool for `key` (e.g. after its credentials were refused).
pub fn forget(key: &TransportKey) {
    pools()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(key);
}

#[cfg(test)]
mod tests {
    use super::dot_stuff;

    #[test]
    fn lines_starting_with_a_dot_get_another() {
        assert_eq!(
            dot_stuff(".a\r\n.b\r\nc.d\r\n..e"),
            "..a\r\n..b\r\nc.d\r\n...e"
        );
        assert_eq!(dot_stuff("plain"), "plain");
    }
}
