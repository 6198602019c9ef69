//! Client-side pacing to a destination's documented rate limits.
//!
//! A limit is "at most N sends in any window of W" (WeCom and DingTalk robots: 20 per
//! minute; Feishu bots: 5 per second and 100 per minute). The platforms count on a sliding
//! window, so a token bucket with a burst (which lets N through, then refills one at a
//! time) would exceed them: after a burst of 5 at t=0 it lets a sixth through at t=0.2 s,
//! six within one second. Here every destination keeps, per rule, the times of its last N
//! sends, and the next send waits until the oldest of them is a window (plus a margin for
//! network jitter) in the past. A platform's "slow down" answer (HTTP 429 with
//! `x-ogw-ratelimit-reset`, errcode 130101 / 45009) blocks the destination until the time
//! it gives.
use crate::core::error::{Error, Result};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// One rule: at most `count` sends in any window of `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rule {
    pub count: u32,
    pub window: Duration,
}

/// The limits of a destination (empty: not paced).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct RateLimit {
    pub rules: Vec<Rule>,
}

impl RateLimit {
    pub fn none() -> RateLimit {
        RateLimit::default()
    }

    pub fn per_minute(count: u32) -> RateLimit {
        RateLimit {
            rules: vec![Rule {
                count,
                window: Duration::from_secs(60),
            }],
        }
    }

    /// `"5/s, 100/min"`, `"20/min"`, `"1/h"`, `"0"` or `""` (no pacing).
    pub fn parse(spec: &str) -> Result<RateLimit> {
        let bad = || {
            Error::argument(format!(
                "config 'rateLimit' must be a number of messages per minute or a list such as \
                 \"5/s, 100/min\", but got \"{spec}\""
            ))
        };
        let mut rules = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part == "0" {
                continue;
            }
            let (n, unit) = part.split_once('/').ok_or_else(bad)?;
            let count: u32 = n.trim().parse().map_err(|_| bad())?;
            let window = match unit.trim() {
                "s" | "sec" | "second" => Duration::from_secs(1),
                "m" | "min" | "minute" => Duration::from_secs(60),
                "h" | "hour" => Duration::from_secs(3600),
                _ => return Err(bad()),
            };
            if count == 0 {
                return Err(bad());
            }
            rules.push(Rule { count, window });
        }
        Ok(RateLimit { rules })
    }

    pub fn is_none(&self) -> bool {
        self.rules.is_empty()
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rules.is_empty() {
            return f.write_str("none");
        }
        let parts: Vec<String> = self
            .rules
            .iter()
            .map(|r| match r.window.as_secs() {
                1 => format!("{}/s", r.count),
                60 => format!("{}/min", r.count),
                3600 => format!("{}/h", r.count),
                s => format!("{}/{s}s", r.count),
            })
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// The margin added to every window: 5% and 100 ms, for clock and network jitter between
/// the moment a send is recorded here and the moment the platform counts it.
fn padded(window: Duration) -> Duration {
    window + window / 20 + Duration::from_millis(100)
}

struct State {
    /// The limit in force (the latest one a call asked for).
    limit: RateLimit,
    /// The times of the latest sends (when reserved; once answered, when the answer came),
    /// in order: at most the largest rule's count, none older than its (padded) window.
    sent: VecDeque<Instant>,
    /// No send before this (the platform said to slow down).
    blocked_until: Option<Instant>,
}

impl State {
    fn insert(&mut self, t: Instant) {
        let i = self.sent.partition_point(|&s| s <= t);
        self.sent.insert(i, t);
    }

    /// Forgets the sends no rule needs: beyond the largest count, or older than every
    /// (padded) window at `now`.
    fn prune(&mut self, now: Instant) {
        let keep = self.limit.rules.iter().map(|r| r.count as usize).max();
        while self.sent.len() > keep.unwrap_or(0) {
            self.sent.pop_front();
        }
        let longest = self.limit.rules.iter().map(|r| padded(r.window)).max();
        if let Some(horizon) = longest.and_then(|w| now.checked_sub(w)) {
            while self.sent.front().is_some_and(|&t| t < horizon) {
                self.sent.pop_front();
            }
        }
    }
}

/// The pacing state of one destination, shared by every thread, session and queue lane
/// sending to it.
pub struct Limiter {
    state: Mutex<State>,
}

impl Limiter {
    pub fn new(limit: RateLimit) -> Limiter {
        Limiter {
            state: Mutex::new(State {
                limit,
                sent: VecDeque::new(),
                blocked_until: None,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts `limit` in force, keeping what was sent and any pause.
    fn set_limit(&self, limit: &RateLimit) {
        let mut st = self.state();
        if st.limit != *limit {
            st.limit = limit.clone();
        }
    }

    /// Reserves the earliest send slot at or after `now` and returns it, when it is within
    /// `max_wait`; else returns Err(the wait it would need), reserving nothing. The caller
    /// sleeps until the returned instant, then sends.
    pub fn reserve(
        &self,
        now: Instant,
        max_wait: Option<Duration>,
    ) -> std::result::Result<Instant, Duration> {
        let mut st = self.state();
        st.prune(now);
        let mut at = now;
        if let Some(b) = st.blocked_until {
            at = at.max(b);
        }
        for rule in &st.limit.rules {
            let count = rule.count as usize;
            if st.sent.len() >= count {
                let oldest = st.sent[st.sent.len() - count];
                at = at.max(oldest + padded(rule.window));
            }
        }
        let wait = at.saturating_duration_since(now);
        if max_wait.is_some_and(|m| wait > m) {
            return Err(wait);
        }
        if !st.limit.rules.is_empty() {
            // an earlier send may have been settled later than this slot: kept in order
            st.insert(at);
            st.prune(now);
        }
        Ok(at)
    }

    /// The send reserved for `slot` was answered at `answered`: the platform counted it no
    /// later than that, so the window is measured from there. A slow first exchange (a
    /// new connection, a TLS handshake) then cannot let the next sends arrive early within
    /// the platform's window.
    pub fn settle(&self, slot: Instant, answered: Instant) {
        if answered <= slot {
            return;
        }
        let mut st = self.state();
        if let Some(i) = st.sent.iter().rposition(|&t| t == slot) {
            st.sent.remove(i);
            st.insert(answered);
        }
    }

    /// Whether a platform's "slow down" answer pauses this destination at `now`.
    pub fn paused_at(&self, now: Instant) -> bool {
        self.state().blocked_until.is_some_and(|b| b > now)
    }

    /// The platform asked to slow down: nothing is sent before `until`.
    pub fn block_until(&self, until: Instant) {
        let mut st = self.state();
        st.blocked_until = Some(st.blocked_until.map_or(until, |b| b.max(until)));
    }
}

/// The limiter of a destination (robot webhook, app id): one per destination for the whole
/// process, so synchronous calls, queued messages and every session share its history. A
/// call asking for another limit puts that limit in force (history and pause kept).
pub fn limiter(destination: &str, limit: &RateLimit) -> Arc<Limiter> {
    static ALL: OnceLock<Mutex<HashMap<String, Arc<Limiter>>>> = OnceLock::new();
    let mut map = ALL
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(l) = map.get(destination) {
        l.set_limit(limit);
        return l.clone();
    }
    let l = Arc::new(Limiter::new(limit.clone()));
    map.insert(destination.to_string(), l.clone());
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        let l = RateLimit::parse("5/s, 100/min").unwrap();
        assert_eq!(l.rules.len(), 2);
        assert_eq!(l.to_string(), "5/s, 100/min");
        assert!(RateLimit::parse("0").unwrap().is_none());
        assert!(RateLimit::parse("fast").is_err());
        assert!(RateLimit::parse("0/s").is_err());
    }

    /// However the reservations fall, no window of the rule's length (padded) holds more
    /// than `count` of them: the sliding-window property the platforms check.
    #[test]
    fn never_more_than_count_in_any_window() {
        let l = Limiter::new(RateLimit::parse("5/s, 12/min").unwrap());
        let t0 = Instant::now();
        let slots: Vec<Instant> = (0..30).map(|_| l.reserve(t0, None).unwrap()).collect();
        for (i, a) in slots.iter().enumerate() {
            let in_second = slots[i..]
                .iter()
                .filter(|b| b.duration_since(*a) < Duration::from_secs(1))
                .count();
            let in_minute = slots[i..]
                .iter()
                .filter(|b| b.duration_since(*a) < Duration::from_secs(60))
                .count();
            assert!(in_second <= 5 && in_minute <= 12, "slot {i}");
        }
        // the first five go at once, the sixth a (padded) second later
        assert_eq!(slots[4], t0);
        assert!(slots[5] >= t0 + Duration::from_secs(1));
    }

    #[test]
    fn a_wait_beyond_the_limit_reserves_nothing() {
        let l = Limiter::new(RateLimit::per_minute(1));
        let t0 = Instant::now();
        assert_eq!(l.reserve(t0, Some(Duration::ZERO)), Ok(t0));
        let need = l.reserve(t0, Some(Duration::from_secs(1))).unwrap_err();
        assert!(need > Duration::from_secs(60));
        l.block_until(t0 + Duration::from_secs(500));
        assert!(l.reserve(t0, None).unwrap() >= t0 + Duration::from_secs(500));
    }

    /// A send answered late counts from its answer: the next window starts there.
    #[test]
    fn a_late_answer_moves_the_window() {
        let l = Limiter::new(RateLimit::parse("2/s").unwrap());
        let t0 = Instant::now();
        let a = l.reserve(t0, None).unwrap();
        let b = l.reserve(t0, None).unwrap();
        let on_time = l.reserve(t0, None).unwrap();
        assert_eq!((a, b), (t0, t0));
        // the same three one after the other, the first two answered 300 ms late
        let late = t0 + Duration::from_millis(300);
        let l = Limiter::new(RateLimit::parse("2/s").unwrap());
        let a = l.reserve(t0, None).unwrap();
        l.settle(a, late);
        let b = l.reserve(late, None).unwrap();
        l.settle(b, late);
        assert_eq!(
            l.reserve(late, None).unwrap(),
            on_time + Duration::from_millis(300)
        );
        // only the second late: the window counts from the first's slot and the second's answer
        let l = Limiter::new(RateLimit::parse("2/s").unwrap());
        let a = l.reserve(t0, None).unwrap();
        let b = l.reserve(t0, None).unwrap();
        l.settle(b, late);
        let _ = a;
        assert_eq!(l.reserve(t0, None).unwrap(), on_time);
    }

    /// One limiter per destination: another limit keeps the history and the pause.
    #[test]
    fn another_limit_keeps_the_history() {
        let dest = "test://another_limit_keeps_the_history";
        let two = RateLimit::parse("2/min").unwrap();
        let t0 = Instant::now();
        let l = limiter(dest, &two);
        l.reserve(t0, None).unwrap();
        l.reserve(t0, None).unwrap();
        let three = limiter(dest, &RateLimit::parse("3/min").unwrap());
        assert!(Arc::ptr_eq(&l, &three));
        // the two sends still count: one more now, the fourth a minute later
        assert_eq!(three.reserve(t0, None).unwrap(), t0);
        assert!(three.reserve(t0, Some(Duration::from_secs(1))).is_err());
        three.block_until(t0 + Duration::from_secs(500));
        let none = limiter(dest, &RateLimit::none());
        assert!(none.paused_at(t0));
        assert!(none.reserve(t0, None).unwrap() >= t0 + Duration::from_secs(500));
    }

    /// Old sends are forgotten: a huge count keeps only what its window holds.
    #[test]
    fn history_is_bounded_by_the_window() {
        let l = Limiter::new(RateLimit::parse("100000/s").unwrap());
        let t0 = Instant::now();
        for _ in 0..1000 {
            l.reserve(t0, None).unwrap();
        }
        assert_eq!(l.state().sent.len(), 1000);
        let later = t0 + Duration::from_secs(5);
        l.reserve(later, None).unwrap();
        assert_eq!(l.state().sent.len(), 1);
    }
}
