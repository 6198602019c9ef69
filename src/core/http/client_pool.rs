//! The reqwest clients, two kinds:
//!
//! - **per thread** (the usual path): a thread that calls again gets its own current-thread
//!   tokio runtime and its own async `reqwest::Client` per configuration; the request runs
//!   on the calling thread (no hand-off to another thread and back, which on few cores is
//!   mostly wake-up latency). DolphinDB's worker threads are long-lived, so each keeps its
//!   keep-alive connections. Connections are not shared between threads (a connection's
//!   task lives on the runtime of the thread that opened it), but TLS sessions are: every
//!   client of one TLS configuration clones one rustls `ClientConfig`, whose session store
//!   is shared, so a thread's first connection to a host resumes another thread's session.
//! - **shared**: one `reqwest::blocking::Client` per configuration for all threads (its own
//!   runtime thread does the I/O). Used by threads that declare themselves short-lived
//!   ([`with_shared_clients`]: the synchronous messaging fan-out starts a thread per
//!   destination and call, which should reuse the shared pool's connections rather than
//!   open its own each time), and for a caller that is already inside a tokio runtime (from
//!   a helper thread, see `request.rs`).
//!
//! No lock is held during a request: the shared map is locked only to look up or insert a
//! client (cloned out, a reference count), the per-thread state is the thread's own.
use super::config::{HttpConfig, DEFAULT_MAX_REDIRECTS};
use super::url::redact_userinfo;
use crate::core::error::{Cause, Error, Result};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::Duration;

/// Most distinct configurations kept in the shared map; beyond, it is emptied (clients in
/// use stay alive until their calls finish).
const MAX_CLIENTS: usize = 64;

/// Most configurations a thread keeps a client for (least recently used dropped first,
/// with its connections).
const MAX_LOCAL_CLIENTS: usize = 4;

/// Idle keep-alive connections a per-thread client keeps per host. A thread's calls are
/// sequential, so it never needs more than one connection per host at a time.
pub const LOCAL_MAX_IDLE_PER_HOST: usize = 1;

/// Idle connections are closed after this long unused (noticed when the thread next runs a
/// call, or by [`sweep_idle`] for a thread that does not).
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The official plugin's User-Agent, kept by default so that servers answering curl
/// differently (plain text vs HTML) keep answering the same.
pub const DEFAULT_USER_AGENT: &str = "curl/7.47.0";

/// What makes two clients different: everything of [`HttpConfig`] but
/// `max_response_bytes` (a per-call limit) and `json`. Holds the proxy password: no `Debug`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClientKey {
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
    http2: bool,
}

impl ClientKey {
    pub fn of(c: &HttpConfig) -> Self {
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
            http2: c.http2,
        }
    }

    /// Whether this key is the one of `c` (compared in place: no key built per call).
    fn matches(&self, c: &HttpConfig) -> bool {
        self.verify_ssl == c.verify_ssl
            && self.decompress == c.decompress
            && self.http2 == c.http2
            && self.follow_redirects == c.follow_redirects
            && self.connect_timeout_ms == c.connect_timeout_ms
            && self.max_redirects == c.max_redirects
            && self.proxy == c.proxy
            && self.proxy_username == c.proxy_username
            && self.proxy_password == c.proxy_password
            && self.ca_file == c.ca_file
            && self.user_agent == c.user_agent
    }
}

// ---------------------------------------------------------------------------------------
// Shared clients
// ---------------------------------------------------------------------------------------

fn pool() -> &'static RwLock<HashMap<ClientKey, reqwest::blocking::Client>> {
    static POOL: OnceLock<RwLock<HashMap<ClientKey, reqwest::blocking::Client>>> = OnceLock::new();
    POOL.get_or_init(|| RwLock::new(HashMap::new()))
}

/// The shared blocking client for `config` (built on first use).
pub fn shared_client(config: &HttpConfig) -> Result<reqwest::blocking::Client> {
    let key = ClientKey::of(config);
    {
        let map = pool().read().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = map.get(&key) {
            return Ok(c.clone());
        }
    }
    // Built outside any lock: may read a CA file and the system's roots.
    let builder: reqwest::blocking::ClientBuilder = builder(&key)?.into();
    let client = builder
        // The blocking client's default 30 s timeout would cap "0 = no limit".
        .timeout(None::<Duration>)
        .build()
        .map_err(build_error)?;
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

// ---------------------------------------------------------------------------------------
// Per-thread clients
// ---------------------------------------------------------------------------------------

/// A thread's runtime and clients. Dropped when the thread ends (its connections close).
struct Engine {
    /// Most recently used first.
    clients: Vec<(ClientKey, reqwest::Client)>,
    /// Shared only with the idle sweeper (see [`sweep_idle`]); `Option` so that `Drop` can
    /// shut it down without waiting.
    rt: Option<Arc<tokio::runtime::Runtime>>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        // The clients (and their pools) first, then the runtime with the connections'
        // tasks. Not waiting for its blocking pool: a name lookup stuck in getaddrinfo
        // must not hold up the thread's exit. (Should the sweeper hold the runtime right
        // now, it shuts it down the same way when it lets go.)
        self.clients.clear();
        if let Some(rt) = self.rt.take() {
            if let Ok(rt) = Arc::try_unwrap(rt) {
                rt.shutdown_background();
            }
        }
    }
}

thread_local! {
    static LOCAL: RefCell<Option<Engine>> = const { RefCell::new(None) };
    /// Set by [`with_shared_clients`].
    static SHARED_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with this thread's HTTP calls made through the shared clients: for a thread
/// that makes a call or two and ends, which would otherwise build a runtime and a client
/// and open a connection of its own, only to close them when it ends.
pub fn with_shared_clients<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = SHARED_ONLY.try_with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SHARED_ONLY.with(|s| s.replace(true)));
    f()
}

/// Runs the future made by `make` on this thread's runtime with this thread's client for
/// `config`, blocking until it completes. `None` when this call must take the shared
/// client instead: inside [`with_shared_clients`], a caller inside a tokio runtime, a
/// nested call, or a thread being torn down.
pub fn block_on_local<T, F>(
    config: &HttpConfig,
    make: impl FnOnce(reqwest::Client) -> F,
) -> Option<Result<T>>
where
    F: std::future::Future<Output = Result<T>>,
{
    if !per_thread_enabled()
        || SHARED_ONLY.try_with(|s| s.get()).unwrap_or(true)
        || tokio::runtime::Handle::try_current().is_ok()
    {
        return None;
    }
    LOCAL
        .try_with(|cell| {
            let mut local = cell.try_borrow_mut().ok()?;
            if local.is_none() {
                match new_engine() {
                    Ok(e) => *local = Some(e),
                    Err(e) => return Some(Err(e)),
                }
            }
            let engine = local.as_mut()?;
            let client = match local_client(engine, config) {
                Ok(c) => c,
                Err(e) => return Some(Err(e)),
            };
            let rt = engine.rt.as_ref()?;
            Some(rt.block_on(make(client)))
        })
        .ok()
        .flatten()
}

/// `HTTPCLIENT_PER_THREAD=0` in the server's environment (read once) turns the per-thread
/// clients off: every call then takes the shared client, as before they existed (for
/// comparison, and as a way out should a deployment need it).
fn per_thread_enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var_os("HTTPCLIENT_PER_THREAD").is_none_or(|v| v != "0"))
}

/// How often [`sweep_idle`] visits the threads' runtimes.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(30);

/// Every thread's runtime, for [`sweep_idle`].
fn runtimes() -> &'static Mutex<Vec<Weak<tokio::runtime::Runtime>>> {
    static RUNTIMES: OnceLock<Mutex<Vec<Weak<tokio::runtime::Runtime>>>> = OnceLock::new();
    RUNTIMES.get_or_init(Default::default)
}

/// A current-thread runtime only makes progress while someone blocks on it: the
/// connections of a thread that stopped calling would stay open (and, once the server
/// closed them, half-closed) until the thread calls again or ends. The sweeper thread
/// (started with the first runtime) drives each runtime briefly every [`SWEEP_INTERVAL`],
/// so that closed connections are released and idle ones expire after
/// [`POOL_IDLE_TIMEOUT`]. A runtime whose thread is busy in a call is skipped (the
/// sweeper does not get its core, and a call needs no sweeping). Returns how many
/// runtimes were visited.
pub fn sweep_idle() -> usize {
    let live: Vec<Arc<tokio::runtime::Runtime>> = {
        let mut all = runtimes().lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|w| w.strong_count() > 0);
        all.iter().filter_map(Weak::upgrade).collect()
    };
    let n = live.len();
    for rt in live {
        rt.block_on(settle());
        // its thread may have ended meanwhile: then this is the last reference, and the
        // runtime is shut down without waiting (as the thread's own exit would)
        if let Ok(rt) = Arc::try_unwrap(rt) {
            rt.shutdown_background();
        }
    }
    n
}

fn start_sweeper() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        // Without it idle connections only close when their thread calls again or ends.
        let _ = std::thread::Builder::new()
            .name("httpClient-idle".into())
            .spawn(|| loop {
                std::thread::sleep(SWEEP_INTERVAL);
                sweep_idle();
            });
    });
}

fn new_engine() -> Result<Engine> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .thread_name("httpClient-resolver")
        .build()
        .map_err(|e| {
            Error::runtime(
                Cause::Internal,
                format!("cannot create this thread's HTTP runtime: {e}"),
            )
        })?;
    let rt = Arc::new(rt);
    {
        let mut all = runtimes().lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(&rt));
    }
    start_sweeper();
    Ok(Engine {
        clients: Vec::new(),
        rt: Some(rt),
    })
}

/// This thread's client for `config`: moved to the front when found, built (and the least
/// recently used one dropped beyond [`MAX_LOCAL_CLIENTS`]) when not.
fn local_client(engine: &mut Engine, config: &HttpConfig) -> Result<reqwest::Client> {
    if let Some(i) = engine.clients.iter().position(|(k, _)| k.matches(config)) {
        if i > 0 {
            let entry = engine.clients.remove(i);
            engine.clients.insert(0, entry);
        }
        return Ok(engine.clients[0].1.clone());
    }
    let key = ClientKey::of(config);
    let client = builder(&key)?
        .pool_max_idle_per_host(LOCAL_MAX_IDLE_PER_HOST)
        .build()
        .map_err(build_error)?;
    engine.clients.insert(0, (key, client.clone()));
    engine.clients.truncate(MAX_LOCAL_CLIENTS);
    Ok(client)
}

/// Lets this thread's runtime process what happened while the thread was away: a
/// connection the server closed is noticed (and not reused), an expired idle connection is
/// closed. Run at the start of every call on the runtime, before the pool is asked for a
/// connection. Two yields: the first polls the I/O driver (readiness wakes the connection
/// tasks), the second lets those tasks run before the request is polled again.
pub async fn catch_up() {
    tokio::task::yield_now().await;
    tokio::task::yield_now().await;
}

/// What the sweeper runs on an idle runtime: timers (the pool's idle expiry) and I/O
/// events are processed, the connection tasks they wake run, and connections dropped by
/// them get their tasks run to the end.
async fn settle() {
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
}

// ---------------------------------------------------------------------------------------
// Building
// ---------------------------------------------------------------------------------------

fn build_error(e: reqwest::Error) -> Error {
    Error::runtime(
        Cause::Internal,
        format!(
            "cannot create the HTTP client: {}",
            super::errors::chain(&e)
        ),
    )
}

/// The TLS configuration of `verify_ssl` + `ca_file`, built once and cloned for every
/// client: the clones share the session store, so TLS sessions resume across clients and
/// threads.
fn tls_config(
    verify_ssl: bool,
    ca_file: Option<&str>,
    http2: bool,
) -> Result<rustls::ClientConfig> {
    type Key = (bool, Option<String>, bool);
    static CONFIGS: OnceLock<RwLock<HashMap<Key, rustls::ClientConfig>>> = OnceLock::new();
    let map = CONFIGS.get_or_init(Default::default);
    let key = (verify_ssl, ca_file.map(str::to_string), http2);
    if let Some(c) = map.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(c.clone());
    }
    // Read outside the lock (a CA file, the system's roots).
    let config = super::tls::client_config(verify_ssl, ca_file, http2)?;
    let mut map = map.write().unwrap_or_else(|e| e.into_inner());
    if map.len() >= MAX_CLIENTS && !map.contains_key(&key) {
        map.clear();
    }
    Ok(map.entry(key).or_insert(config).clone())
}

/// The async builder with every setting of `key`; the shared client converts it.
fn builder(key: &ClientKey) -> Result<reqwest::ClientBuilder> {
    let mut b = reqwest::Client::builder()
        .dns_resolver(std::sync::Arc::new(super::sockets::RecordingResolver))
        .tcp_keepalive(Duration::from_secs(60))
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .http1_title_case_headers()
        .user_agent(key.user_agent.as_deref().unwrap_or(DEFAULT_USER_AGENT))
        .use_preconfigured_tls(tls_config(
            key.verify_ssl,
            key.ca_file.as_deref(),
            key.http2,
        )?);
    if !key.http2 {
        b = b.http1_only();
    }
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
    Ok(b)
}
