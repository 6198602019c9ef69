//! Process-wide access-token cache, shared by all threads.
//!
//! Keyed by (platform, base address, id, SHA-256 of the secret): the secret itself is not
//! kept. A token is used for `expires_in` minus a safety margin (a tenth of `expires_in`,
//! at most 300 s), counted from the moment the gettoken request was sent. When many
//! threads need a token at the same moment, one fetches it and the others wait for its
//! result (a failed fetch fails its waiters too: no stampede on a rate-limited gettoken).
use crate::core::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The margin cap, in ms.
const MAX_MARGIN_MS: u64 = 300_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenKey {
    platform: &'static str,
    base: String,
    id: String,
    secret_hash: [u8; 32],
}

impl TokenKey {
    pub fn new(platform: &'static str, base: &str, id: &str, secret: &str) -> Self {
        TokenKey {
            platform,
            base: base.to_string(),
            id: id.to_string(),
            secret_hash: Sha256::digest(secret.as_bytes()).into(),
        }
    }
}

#[derive(Default)]
struct SlotState {
    token: Option<(String, Instant)>,
    fetching: bool,
    /// Number of fetches started.
    generation: u64,
    /// The generation whose fetch failed last, and its error.
    failed: Option<(u64, Error)>,
}

#[derive(Default)]
struct Slot {
    state: Mutex<SlotState>,
    cv: Condvar,
}

fn slots() -> &'static Mutex<HashMap<TokenKey, Arc<Slot>>> {
    static SLOTS: OnceLock<Mutex<HashMap<TokenKey, Arc<Slot>>>> = OnceLock::new();
    SLOTS.get_or_init(Default::default)
}

fn slot(key: &TokenKey) -> Arc<Slot> {
    let mut map = slots().lock().unwrap_or_else(|p| p.into_inner());
    map.entry(key.clone()).or_default().clone()
}

/// How long a token given with `expires_in` seconds is used.
pub fn usable_for(expires_in_secs: u64) -> Duration {
    let ms = expires_in_secs.saturating_mul(1000);
    let margin = (ms / 10).min(MAX_MARGIN_MS);
    Duration::from_millis(ms - margin)
}

/// The cached token for `key`, or a new one from `fetch` (which returns the token and its
/// `expires_in` in seconds). At most one `fetch` per key runs at a time.
pub fn get(key: &TokenKey, fetch: impl FnOnce() -> Result<(String, u64)>) -> Result<String> {
    let slot = slot(key);
    let mut st = slot.state.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        if let Some((tok, until)) = &st.token {
            if Instant::now() < *until {
                return Ok(tok.clone());
            }
        }
        if !st.fetching {
            break;
        }
        let waiting_for = st.generation;
        while st.fetching && st.generation == waiting_for {
            st = slot.cv.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        if let Some((gen, err)) = &st.failed {
            if *gen == waiting_for {
                return Err(err.clone());
            }
        }
    }
    st.fetching = true;
    st.generation += 1;
    let gen = st.generation;
    drop(st);

    let started = Instant::now();
    // A panicking fetch must not leave the slot "fetching" forever.
    struct Reset<'a>(&'a Slot, bool);
    impl Drop for Reset<'_> {
        fn drop(&mut self) {
            if !self.1 {
                let mut st = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
                st.fetching = false;
                self.0.cv.notify_all();
            }
        }
    }
    let mut guard = Reset(&slot, false);
    let result = fetch();
    let mut st = slot.state.lock().unwrap_or_else(|p| p.into_inner());
    st.fetching = false;
    guard.1 = true;
    let out = match result {
        Ok((tok, expires_in)) => {
            st.token = Some((tok.clone(), started + usable_for(expires_in)));
            st.failed = None;
            Ok(tok)
        }
        Err(e) => {
            st.failed = Some((gen, e.clone()));
            Err(e)
        }
    };
    slot.cv.notify_all();
    out
}

/// The tokens cached now: (platform, id as shown — its first four characters —, seconds
/// it will still be used).
pub fn snapshot() -> Vec<(&'static str, String, u64)> {
    let map = slots().lock().unwrap_or_else(|p| p.into_inner());
    let now = Instant::now();
    let mut out: Vec<(&'static str, String, u64)> = map
        .iter()
        .filter_map(|(k, slot)| {
            let st = slot.state.lock().unwrap_or_else(|p| p.into_inner());
            let (_, until) = st.token.as_ref()?;
            (*until > now).then(|| {
                let head: String = k.id.chars().take(4).collect();
                (k.platform, format!("{head}***"), (*until - now).as_secs())
            })
        })
        .collect();
    out.sort();
    out
}

/// Forgets `stale` for `key` (only if it is still the cached token: a newer one that
/// another thread fetched meanwhile is kept).
pub fn invalidate(key: &TokenKey, stale: &str) {
    let slot = slot(key);
    let mut st = slot.state.lock().unwrap_or_else(|p| p.into_inner());
    if st.token.as_ref().is_some_and(|(t, _)| t == stale) {
        st.token = None;
    }
}
