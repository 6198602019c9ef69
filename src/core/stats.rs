//! Counters of the plugin functions for `httpClient::stats()`: calls, errors, timeouts and
//! latency percentiles per function. Lock-free on the calling path once a function has
//! been seen: atomic counters and a fixed log-scale latency histogram.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

/// Histogram buckets: bucket i holds latencies below 10 µs × 1.25^i (the last one, all
/// longer): 10 µs .. ~70 min in 90 buckets, each edge 25% above the previous.
const BUCKETS: usize = 90;

fn bucket_edge_us(i: usize) -> f64 {
    10.0 * 1.25f64.powi(i as i32)
}

fn bucket_of(d: Duration) -> usize {
    let us = d.as_secs_f64() * 1e6;
    if us <= 10.0 {
        return 0;
    }
    (((us / 10.0).ln() / 1.25f64.ln()).ceil() as usize).min(BUCKETS - 1)
}

struct Counters {
    calls: AtomicU64,
    errors: AtomicU64,
    timeouts: AtomicU64,
    histogram: [AtomicU64; BUCKETS],
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            calls: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
            histogram: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

fn all() -> &'static RwLock<HashMap<&'static str, Arc<Counters>>> {
    static ALL: OnceLock<RwLock<HashMap<&'static str, Arc<Counters>>>> = OnceLock::new();
    ALL.get_or_init(Default::default)
}

fn counters(function: &'static str) -> Arc<Counters> {
    if let Some(c) = all()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(function)
    {
        return c.clone();
    }
    all()
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(function)
        .or_default()
        .clone()
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Error,
    /// An error whose cause is a timeout.
    Timeout,
}

/// Records one call of `function` that took `elapsed`.
pub fn record(function: &'static str, elapsed: Duration, outcome: Outcome) {
    let c = counters(function);
    c.calls.fetch_add(1, Ordering::Relaxed);
    if outcome != Outcome::Ok {
        c.errors.fetch_add(1, Ordering::Relaxed);
    }
    if outcome == Outcome::Timeout {
        c.timeouts.fetch_add(1, Ordering::Relaxed);
    }
    c.histogram[bucket_of(elapsed)].fetch_add(1, Ordering::Relaxed);
}

/// One function's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionStats {
    pub function: &'static str,
    pub calls: u64,
    pub errors: u64,
    pub timeouts: u64,
    /// Median latency in ms (the upper edge of its histogram bucket: within 25%).
    pub p50_ms: f64,
    pub p99_ms: f64,
}

fn percentile(hist: &[u64], total: u64, q: f64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    let rank = ((total as f64) * q).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (i, n) in hist.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return bucket_edge_us(i) / 1000.0;
        }
    }
    bucket_edge_us(BUCKETS - 1) / 1000.0
}

/// Every function called so far, by name.
pub fn functions() -> Vec<FunctionStats> {
    let map = all().read().unwrap_or_else(|e| e.into_inner());
    let mut out: Vec<FunctionStats> = map
        .iter()
        .map(|(name, c)| {
            let hist: Vec<u64> = c
                .histogram
                .iter()
                .map(|h| h.load(Ordering::Relaxed))
                .collect();
            let total = hist.iter().sum();
            FunctionStats {
                function: name,
                calls: c.calls.load(Ordering::Relaxed),
                errors: c.errors.load(Ordering::Relaxed),
                timeouts: c.timeouts.load(Ordering::Relaxed),
                p50_ms: percentile(&hist, total, 0.5),
                p99_ms: percentile(&hist, total, 0.99),
            }
        })
        .collect();
    out.sort_by_key(|f| f.function);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_within_a_bucket() {
        for ms in [1u64, 2, 3, 4, 5, 6, 7, 8, 9, 100] {
            record("unit-test-fn", Duration::from_millis(ms), Outcome::Ok);
        }
        record("unit-test-fn", Duration::from_millis(5), Outcome::Timeout);
        let s = functions()
            .into_iter()
            .find(|f| f.function == "unit-test-fn")
            .unwrap();
        assert_eq!((s.calls, s.errors, s.timeouts), (11, 1, 1));
        assert!(s.p50_ms >= 5.0 && s.p50_ms <= 5.0 * 1.25, "{}", s.p50_ms);
        assert!(s.p99_ms >= 100.0 && s.p99_ms <= 125.0, "{}", s.p99_ms);
    }
}
