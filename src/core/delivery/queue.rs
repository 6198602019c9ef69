//! The asynchronous delivery queue: a call validates its message, puts it here and
//! returns at once; the plugin's own sender threads deliver.
//!
//! - Bounded: [`CAPACITY`] messages wait at most; a call that finds the queue full gets a
//!   `queue full` error — nothing is dropped silently.
//! - Per destination in order: messages to one destination are sent one after the other,
//!   in the order they were queued (pacing reservations and arrivals keep that order);
//!   different destinations are served in parallel.
//! - No sender sleeps on a destination's pacing: a message whose slot is later is parked
//!   with that due time and the sender takes the next destination that is due.
//! - Background threads never touch DolphinDB objects: they take plain Rust data in and
//!   record plain outcomes in the journal.
use super::pacing::{self, Limiter};
use super::{journal, next_step, Deliverable, Next};
use crate::core::error::{Cause, Error, Result};
use crate::core::log::Level;
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Messages waiting at most (all destinations together).
pub const CAPACITY: usize = 10_000;
/// Sender threads.
pub const SENDERS: usize = 4;

struct Job {
    id: u64,
    msg: Box<dyn Deliverable>,
    retries: u32,
    attempts: u32,
    queued: Instant,
    /// Not before this.
    due: Instant,
    /// A pacing slot already reserved for this job.
    slot: Option<Instant>,
}

struct Lane {
    limiter: Arc<Limiter>,
    jobs: std::collections::VecDeque<Job>,
    /// A sender is working on the head job.
    busy: bool,
}

#[derive(Default)]
struct State {
    lanes: HashMap<String, Lane>,
    /// Jobs queued and not finished (in lanes or being sent).
    pending: usize,
    /// Sender threads started (all [`SENDERS`] with the first message).
    senders: usize,
}

struct Queue {
    state: Mutex<State>,
    /// Wakes senders (new job, a lane freed) and flushers (a job finished).
    changed: Condvar,
}

fn queue() -> &'static Queue {
    static QUEUE: OnceLock<Queue> = OnceLock::new();
    QUEUE.get_or_init(|| Queue {
        state: Mutex::new(State::default()),
        changed: Condvar::new(),
    })
}

/// Queues `msg` (with `retries` further attempts allowed) and returns its delivery id.
pub fn enqueue(msg: Box<dyn Deliverable>, retries: u32) -> Result<u64> {
    enqueue_all(vec![msg], retries).map(|ids| ids[0])
}

/// Queues all of `msgs` or, when the queue cannot take them all, none (a fan-out is never
/// half queued), and returns their delivery ids in order.
pub fn enqueue_all(msgs: Vec<Box<dyn Deliverable>>, retries: u32) -> Result<Vec<u64>> {
    let q = queue();
    let mut st = q.state.lock().unwrap_or_else(|e| e.into_inner());
    if st.pending + msgs.len() > CAPACITY {
        let what = match msgs.as_slice() {
            [one] => format!("the message to {} was", one.target()),
            [first, ..] => format!(
                "the {} messages (to {}, …) were",
                msgs.len(),
                first.target()
            ),
            [] => "nothing was".to_string(),
        };
        return Err(Error::runtime(
            Cause::QueueFull,
            format!(
                "the delivery queue holds {CAPACITY} messages not yet sent; {what} not \
                 queued (call httpClient::flush() or slow down)"
            ),
        ));
    }
    while st.senders < SENDERS {
        std::thread::Builder::new()
            .name(format!("httpClient-sender-{}", st.senders))
            .spawn(sender)
            .map_err(|e| {
                Error::runtime(
                    Cause::Internal,
                    format!("cannot start the delivery threads: {e}"),
                )
            })?;
        st.senders += 1;
    }
    let mut ids = Vec::with_capacity(msgs.len());
    for msg in msgs {
        let (key, limit) = msg.destination();
        // the destination's one limiter, with the limit this message asks for
        let limiter = pacing::limiter(&key, &limit);
        let id = journal::start(msg.function(), msg.target(), true);
        let now = Instant::now();
        let lane = st.lanes.entry(key).or_insert_with(|| Lane {
            limiter,
            jobs: Default::default(),
            busy: false,
        });
        lane.jobs.push_back(Job {
            id,
            msg,
            retries,
            attempts: 0,
            queued: now,
            due: now,
            slot: None,
        });
        st.pending += 1;
        ids.push(id);
    }
    drop(st);
    q.changed.notify_all();
    Ok(ids)
}

/// Messages queued and not yet delivered or given up.
pub fn pending() -> usize {
    queue()
        .state
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .pending
}

/// Waits until every queued message has ended, or `timeout` passed (None: no limit);
/// returns how many are still pending.
pub fn flush(timeout: Option<Duration>) -> usize {
    let q = queue();
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut st = q.state.lock().unwrap_or_else(|e| e.into_inner());
    while st.pending > 0 {
        let wait = match deadline {
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    break;
                }
                d - now
            }
            None => Duration::from_secs(3600),
        };
        st = q
            .changed
            .wait_timeout(st, wait)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    st.pending
}

/// The lane whose head job is due first, among those nobody works on.
fn next_due(st: &State) -> Option<(String, Instant)> {
    st.lanes
        .iter()
        .filter(|(_, l)| !l.busy)
        .filter_map(|(k, l)| {
            l.jobs
                .front()
                .map(|j| (k.clone(), j.slot.unwrap_or(j.due).max(j.due)))
        })
        .min_by_key(|(_, due)| *due)
}

fn sender() {
    let q = queue();
    let mut st = q.state.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let now = Instant::now();
        let Some((key, due)) = next_due(&st) else {
            st = q.changed.wait(st).unwrap_or_else(|e| e.into_inner());
            continue;
        };
        if due > now {
            st = q
                .changed
                .wait_timeout(st, due - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            continue;
        }
        let lane = st.lanes.get_mut(&key).expect("lane just found");
        let job = lane.jobs.front_mut().expect("lane has a head job");
        // pacing: reserve once per attempt; park the job until its slot
        if job.slot.is_none() {
            let slot = lane.limiter.reserve(now, None).unwrap_or(now);
            job.slot = Some(slot);
            if slot > now {
                continue;
            }
        }
        lane.busy = true;
        let limiter = lane.limiter.clone();
        let mut job = lane.jobs.pop_front().expect("head job");
        drop(st);

        job.attempts += 1;
        journal::attempted(job.id, job.attempts);
        // A panic must neither kill the sender nor leave the lane busy forever.
        let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let attempt = job.msg.attempt();
            if let Some(slot) = job.slot {
                limiter.settle(slot, Instant::now());
            }
            next_step(attempt, job.attempts, job.retries, &limiter)
        }))
        .unwrap_or_else(|_| {
            Next::Finished(Err(Error::runtime(
                Cause::Internal,
                "internal error while sending (a panic was caught)",
            )))
        });
        // what to log, written once the queue's lock is released (a slow log file must
        // not hold up enqueueing callers)
        let note = match &step {
            Next::RetryAfter(_) => Some((
                Level::Info,
                format!(
                    "{}: retrying {} (attempt {} of {})",
                    job.msg.function(),
                    job.msg.target(),
                    job.attempts + 1,
                    job.retries + 1
                ),
            )),
            Next::Finished(Err(e)) => Some((
                Level::Error,
                format!(
                    "{}: the queued message {} to {} failed after {} attempt(s): {e}",
                    job.msg.function(),
                    job.id,
                    job.msg.target(),
                    job.attempts
                ),
            )),
            Next::Finished(Ok(d)) if !d.accepted() => Some((
                Level::Warning,
                format!(
                    "{}: the queued message {} to {} was answered HTTP {}, errcode {}: {}",
                    job.msg.function(),
                    job.id,
                    job.msg.target(),
                    d.response_code(),
                    d.errcode(),
                    d.errmsg()
                ),
            )),
            Next::Finished(Ok(_)) => None,
        };

        st = q.state.lock().unwrap_or_else(|e| e.into_inner());
        let lane = st
            .lanes
            .get_mut(&key)
            .expect("lanes are never removed while busy");
        lane.busy = false;
        match step {
            Next::RetryAfter(wait) => {
                job.due = Instant::now() + wait;
                job.slot = None;
                lane.jobs.push_front(job);
            }
            Next::Finished(result) => {
                journal::finish(job.id, &result, job.queued.elapsed().as_secs_f64());
                let empty = lane.jobs.is_empty();
                st.pending -= 1;
                if empty {
                    st.lanes.remove(&key);
                }
            }
        }
        drop(st);
        if let Some((level, line)) = note {
            crate::core::log::log(level, line);
        }
        st = q.state.lock().unwrap_or_else(|e| e.into_inner());
        q.changed.notify_all();
    }
}
