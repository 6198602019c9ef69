//! Delivering alerts: one message (a robot message, an application message, a mail) sent
//! with the destination's pacing and bounded retries, either on the caller's thread
//! ([`send_now`]) or queued for the plugin's own sender threads ([`queue::enqueue`]),
//! every outcome recorded in the journal that `deliveries()` shows.
//!
//! - [`pacing`]: per-destination sliding-window limits;
//! - [`queue`]: the bounded asynchronous queue and its sender threads, `flush`;
//! - [`journal`]: the latest deliveries and their outcomes.
//!
//! What a message is and how its answers are classified (rate-limit answers, stale
//! tokens, transient failures) belongs to the message ([`Deliverable`]); scheduling,
//! waiting and counting attempts belong here.
pub mod journal;
pub mod pacing;
pub mod queue;

use crate::core::email::SendResult;
use crate::core::error::{Cause, Error, Result};
use crate::core::messaging::Answer;
use pacing::RateLimit;
use std::time::{Duration, Instant};

/// What a delivered message returned.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivered {
    Answer(Answer),
    Mail(SendResult),
}

impl Delivered {
    /// HTTP status or SMTP reply code.
    pub fn response_code(&self) -> i32 {
        match self {
            Delivered::Answer(a) => i32::from(a.response_code),
            Delivered::Mail(m) => m.response_code,
        }
    }

    /// The platform's errcode (0 for a mail accepted).
    pub fn errcode(&self) -> i64 {
        match self {
            Delivered::Answer(a) => a.errcode,
            Delivered::Mail(_) => 0,
        }
    }

    /// The destination accepted it: errcode 0 with a 2xx status (a gateway's 503 with a
    /// JSON body of its own has no errcode, yet delivered nothing).
    pub fn accepted(&self) -> bool {
        self.errcode() == 0 && (200..300).contains(&self.response_code())
    }

    pub fn errmsg(&self) -> String {
        match self {
            Delivered::Answer(a) => a.errmsg.clone(),
            Delivered::Mail(m) => m.text.clone(),
        }
    }

    pub fn elapsed(&self) -> f64 {
        match self {
            Delivered::Answer(a) => a.elapsed,
            Delivered::Mail(m) => m.elapsed,
        }
    }
}

/// How one attempt ended.
#[derive(Debug)]
pub enum Attempt {
    /// An answer that ends the delivery (a non-zero errcode other than the ones below
    /// included: it is the platform's verdict, and a retry would get the same).
    Done(Delivered),
    /// The platform said the token is stale; it was dropped: the next attempt fetches one.
    StaleToken(Delivered),
    /// The platform said to slow down (HTTP 429, errcode 130101/45009/45033): the answer,
    /// and the wait it asked for, if it said.
    SlowDown(Delivered, Option<Duration>),
    /// A failure a retry may overcome (timeout, refused connection, 5xx).
    Transient(Error),
    /// A failure a retry cannot change (arguments, credentials, TLS, refusal).
    Failed(Error),
}

/// A message that can be delivered, from any thread, any number of times.
pub trait Deliverable: Send + Sync + 'static {
    /// The plugin function that sent it ("robotSend").
    fn function(&self) -> &'static str;
    /// Where it goes, with secrets redacted, for `deliveries()` and logs.
    fn target(&self) -> String;
    /// The pacing key of its destination and the limit to pace it to.
    fn destination(&self) -> (String, RateLimit);
    /// The time limit of one attempt, in ms (0: none).
    fn attempt_timeout_ms(&self) -> u64;
    /// One attempt.
    fn attempt(&self) -> Attempt;
}

/// Attempts after the first: config `retries`, else 3 when queued, 1 when sent now.
pub fn retries_or_default(configured: Option<u32>, asynchronous: bool) -> u32 {
    configured.unwrap_or(if asynchronous { 3 } else { 1 })
}

/// The pause before retry number `n` (1-based) after a transient failure: 0.5 s, 1 s,
/// 2 s, ... up to 30 s.
pub fn backoff(n: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << n.saturating_sub(1).min(6)))
        .min(Duration::from_secs(30))
}

/// The wait after a "slow down" answer that gave none: a second, doubling per retry.
fn slow_down_wait(n: u32) -> Duration {
    Duration::from_secs(1 << n.saturating_sub(1).min(5))
}

/// What the scheduler does after an attempt.
pub(crate) enum Next {
    Finished(Result<Delivered>),
    RetryAfter(Duration),
}

/// Decides after attempt number `attempts` (1-based) with `retries` allowed: a stale
/// token's retry counts as one retry like any other.
pub(crate) fn next_step(
    attempt: Attempt,
    attempts: u32,
    retries: u32,
    limiter: &pacing::Limiter,
) -> Next {
    let left = attempts <= retries;
    match attempt {
        Attempt::Done(d) => Next::Finished(Ok(d)),
        Attempt::Failed(e) => Next::Finished(Err(e)),
        Attempt::StaleToken(d) => {
            if left {
                Next::RetryAfter(Duration::ZERO)
            } else {
                Next::Finished(Ok(d))
            }
        }
        Attempt::SlowDown(d, wait) => {
            let wait = wait.unwrap_or_else(|| slow_down_wait(attempts));
            limiter.block_until(Instant::now() + wait);
            if left {
                Next::RetryAfter(Duration::ZERO)
            } else {
                Next::Finished(Ok(d))
            }
        }
        Attempt::Transient(e) => {
            if left {
                Next::RetryAfter(backoff(attempts))
            } else {
                Next::Finished(Err(e))
            }
        }
    }
}

/// Delivers `msg` on the calling thread: waits for the destination's pacing (at most the
/// attempt timeout; beyond, a rate-limit error suggests async), retries up to `retries`
/// times, records the outcome in the journal. Returns the journal's id and the outcome.
pub fn send_now(msg: &dyn Deliverable, retries: u32) -> (u64, Result<Delivered>) {
    let started = Instant::now();
    let id = journal::start(msg.function(), msg.target(), false);
    let result = send_now_inner(msg, retries, id);
    journal::finish(id, &result, started.elapsed().as_secs_f64());
    (id, result)
}

fn send_now_inner(msg: &dyn Deliverable, retries: u32, id: u64) -> Result<Delivered> {
    let (key, limit) = msg.destination();
    let limiter = pacing::limiter(&key, &limit);
    let timeout = msg.attempt_timeout_ms();
    let max_wait = (timeout > 0).then(|| Duration::from_millis(timeout));
    let mut attempts = 0;
    loop {
        let now = Instant::now();
        let slot = limiter.reserve(now, max_wait).map_err(|wait| {
            // the configured limit, or the platform's own pause after a "slow down" answer
            let why = if limiter.paused_at(now) {
                format!("{} asked to slow down: its pause", msg.target())
            } else {
                format!("the rate limit of {} ({limit})", msg.target())
            };
            Error::runtime(
                Cause::RateLimited,
                format!(
                    "{why} would delay this message by {} ms, more than its timeout of \
                     {timeout} ms; send it with config async=true, or give a longer timeout",
                    wait.as_millis()
                ),
            )
        })?;
        std::thread::sleep(slot.saturating_duration_since(Instant::now()));
        attempts += 1;
        journal::attempted(id, attempts);
        let attempt = msg.attempt();
        limiter.settle(slot, Instant::now());
        match next_step(attempt, attempts, retries, &limiter) {
            Next::Finished(r) => return r,
            Next::RetryAfter(d) => {
                crate::core::log::info(format!(
                    "{}: retrying {} (attempt {} of {})",
                    msg.function(),
                    msg.target(),
                    attempts + 1,
                    retries + 1
                ));
                std::thread::sleep(d)
            }
        }
    }
}
