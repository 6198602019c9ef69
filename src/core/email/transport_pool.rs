//! One pooled lettre `SmtpTransport` per (host, port, account, TLS settings), so bursts of
//! mails reuse open, authenticated connections. The map is locked only to look up or
//! insert; sending happens outside the lock (the transport is a cheap handle).
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::SmtpTransport;

use super::options::{SmtpOptions, TlsMode};
use crate::core::error::{Error, Result};

/// Most transports kept; beyond that the cache is emptied (their pools close).
const MAX_TRANSPORTS: usize = 256;
/// Open connections kept per transport.
const MAX_POOLED: u32 = 16;
/// Idle pooled connections are closed after this long.
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

fn cache() -> &'static Mutex<HashMap<TransportKey, SmtpTransport>> {
    static CACHE: OnceLock<Mutex<HashMap<TransportKey, SmtpTransport>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
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
        let pem = std::fs::read(path)
            .map_err(|e| Error::new(format!("option 'caFile': cannot read \"{path}\": {e}")))?;
        let cert = Certificate::from_pem(&pem).map_err(|_| {
            Error::new(format!(
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
        .map_err(|e| Error::new(format!("cannot set up TLS for {host}: {e}")))
}

fn build(key: &TransportKey) -> Result<SmtpTransport> {
    let tls = match effective_tls(key.options.tls, key.port) {
        TlsMode::None => Tls::None,
        TlsMode::Tls => Tls::Wrapper(tls_parameters(&key.host, &key.options)?),
        TlsMode::StartTls => Tls::Required(tls_parameters(&key.host, &key.options)?),
        TlsMode::Auto => Tls::Opportunistic(tls_parameters(&key.host, &key.options)?),
    };
    Ok(SmtpTransport::builder_dangerous(key.host.as_str())
        .port(key.port)
        .tls(tls)
        .credentials(Credentials::new(key.user.clone(), key.password.clone()))
        .authentication(vec![Mechanism::Plain, Mechanism::Login])
        .timeout(Some(Duration::from_millis(key.options.timeout_ms)))
        .pool_config(
            PoolConfig::new()
                .min_idle(0)
                .max_size(MAX_POOLED)
                .idle_timeout(IDLE),
        )
        .build())
}

/// The shared transport for `key`, created on first use.
pub fn get(key: &TransportKey) -> Result<SmtpTransport> {
    if let Some(t) = cache().lock().unwrap_or_else(|e| e.into_inner()).get(key) {
        return Ok(t.clone());
    }
    // Built outside the lock (it may read a CA file); a racing thread's copy wins.
    let fresh = build(key)?;
    let mut map = cache().lock().unwrap_or_else(|e| e.into_inner());
    if map.len() >= MAX_TRANSPORTS && !map.contains_key(key) {
        map.clear();
    }
    Ok(map.entry(key.clone()).or_insert(fresh).clone())
}

/// Forgets the transport for `key` (e.g. after its credentials were refused).
pub fn forget(key: &TransportKey) {
    cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(key);
}
