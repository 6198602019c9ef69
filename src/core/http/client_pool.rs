//! One `reqwest::blocking::Client` per distinct client-level configuration, built once and
//! shared: keep-alive connections (and TLS sessions) are reused across calls and threads.
//!
//! The map is only locked to look up (read lock) or insert (write lock) a client; the
//! client is cloned out (a reference count) and no lock is held during a request.
use super::config::{HttpConfig, DEFAULT_MAX_REDIRECTS};
use super::url::redact_userinfo;
use crate::core::error::{Cause, Error, Result};
use reqwest::blocking::Client;
use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};
use std::time::Duration;

/// Most distinct configurations kept; beyond, the cache is emptied (clients in use stay
/// alive until their calls finish).
const MAX_CLIENTS: usize = 64;

/// The official plugin's User-Agent, kept by default so that servers answering curl
/// differently (plain text vs HTML) keep answering the same.
pub const DEFAULT_USER_AGENT: &str = "curl/7.47.0";

/// What makes two clients different: everything of [`HttpConfig`] but
/// `max_response_bytes` (a per-call limit). Holds the proxy password: no `Debug`.
#[derive(Clone, PartialEq, Eq, Hash)]
struct ClientKey {
    proxy: Option<String>,
    proxy_username: Option<String>,
    proxy_password: Option<String>,
    verify_ssl: bool,
    ca_file: Option<String>,
    connect_timeout_ms: Option<u64>,
    follow_redirects: bool,
    max_redirects: Option<u32>,
    user_agent: Option<String>,
    decompress: bool,
}

impl ClientKey {
    fn of(c: &HttpConfig) -> Self {
        ClientKey {
            proxy: c.proxy.clone(),
            proxy_username: c.proxy_username.clone(),
            proxy_password: c.proxy_password.clone(),
            verify_ssl: c.verify_ssl,
            ca_file: c.ca_file.clone(),
            connect_timeout_ms: c.connect_timeout_ms,
            follow_redirects: c.follow_redirects,
            max_redirects: c.max_redirects,
            user_agent: c.user_agent.clone(),
            decompress: c.decompress,
        }
    }
}

fn pool() -> &'static RwLock<HashMap<ClientKey, Client>> {
    static POOL: OnceLock<RwLock<HashMap<ClientKey, Client>>> = OnceLock::new();
    POOL.get_or_init(|| RwLock::new(HashMap::new()))
}

thread_local! {
    /// The client this thread used last: a caller looping over one configuration (the usual
    /// case) skips hashing the key and the shared lock. A client evicted from the map stays
    /// usable (it is reference counted) until this thread needs another one.
    static LAST: std::cell::RefCell<Option<(ClientKey, Client)>> =
        const { std::cell::RefCell::new(None) };
}

/// The shared client for `config` (built on first use).
pub fn client_for(config: &HttpConfig) -> Result<Client> {
    let key = ClientKey::of(config);
    let last = LAST.with(|l| {
        l.borrow()
            .as_ref()
            .and_then(|(k, c)| (*k == key).then(|| c.clone()))
    });
    if let Some(client) = last {
        return Ok(client);
    }
    let client = shared_client(key.clone())?;
    LAST.with(|l| *l.borrow_mut() = Some((key, client.clone())));
    Ok(client)
}

fn shared_client(key: ClientKey) -> Result<Client> {
    {
        let map = pool().read().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = map.get(&key) {
            return Ok(c.clone());
        }
    }
    // Built outside any lock: may read a CA file and the system's roots.
    let client = build(&key)?;
    let evicted;
    let result = {
        let mut map = pool().write().unwrap_or_else(|e| e.into_inner());
        evicted = if map.len() >= MAX_CLIENTS && !map.contains_key(&key) {
            std::mem::take(&mut *map)
        } else {
            HashMap::new()
        };
        map.entry(key).or_insert(client).clone()
    };
    // Dropping a blocking client joins its runtime thread: never under the lock.
    drop(evicted);
    Ok(result)
}

fn build(key: &ClientKey) -> Result<Client> {
    let mut b = Client::builder()
        .dns_resolver(std::sync::Arc::new(super::sockets::RecordingResolver))
        // The blocking client's default 30 s timeout would cap "0 = no limit".
        .timeout(None::<Duration>)
        .tcp_keepalive(Duration::from_secs(60))
        .pool_idle_timeout(Duration::from_secs(90))
        .http1_title_case_headers()
        .user_agent(key.user_agent.as_deref().unwrap_or(DEFAULT_USER_AGENT));
    b = b.use_preconfigured_tls(super::tls::client_config(
        key.verify_ssl,
        key.ca_file.as_deref(),
    )?);
    if let Some(ms) = key.connect_timeout_ms {
        b = b.connect_timeout(Duration::from_millis(ms));
    }
    b = b.redirect(if key.follow_redirects {
        reqwest::redirect::Policy::limited(
            key.max_redirects.unwrap_or(DEFAULT_MAX_REDIRECTS) as usize
        )
    } else {
        reqwest::redirect::Policy::none()
    });
    if !key.decompress {
        b = b.no_gzip().no_deflate().no_brotli();
    }
    if let Some(p) = &key.proxy {
        let url = super::url::with_default_scheme(p);
        let shown = redact_userinfo(&url);
        let mut proxy = reqwest::Proxy::all(&url)
            .map_err(|_| Error::argument(format!("invalid proxy '{shown}'")))?;
        if key.proxy_username.is_some() || key.proxy_password.is_some() {
            proxy = proxy.basic_auth(
                key.proxy_username.as_deref().unwrap_or(""),
                key.proxy_password.as_deref().unwrap_or(""),
            );
        }
        b = b.proxy(proxy);
    }
    b.build().map_err(|e| {
        Error::runtime(
            Cause::Internal,
            format!(
                "cannot create the HTTP client: {}",
                super::errors::chain(&e)
            ),
        )
    })
}
