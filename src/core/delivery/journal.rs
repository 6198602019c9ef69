//! The latest deliveries and their outcomes (`httpClient::deliveries()`), queued and
//! direct alike: id, when, which function, where (redacted), status, attempts, and what
//! the destination answered.
use super::Delivered;
use crate::core::error::Result;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// Records kept; older ones are forgotten.
pub const KEEP: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Queued,
    Sending,
    /// Delivered and accepted (errcode 0, mail 250).
    Sent,
    /// Given up: an error, or the destination's non-zero errcode.
    Failed,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: u64,
    /// Milliseconds since the epoch when the message was queued (or sent, if direct).
    pub queued_ms: i64,
    pub function: &'static str,
    pub target: String,
    pub asynchronous: bool,
    pub status: Status,
    pub attempts: u32,
    pub response_code: Option<i32>,
    pub errcode: Option<i64>,
    pub errmsg: String,
    /// Seconds from queueing (or the call) to the outcome.
    pub elapsed: Option<f64>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn records() -> &'static Mutex<VecDeque<Record>> {
    static RECORDS: OnceLock<Mutex<VecDeque<Record>>> = OnceLock::new();
    RECORDS.get_or_init(Default::default)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Records a new delivery and returns its id.
pub fn start(function: &'static str, target: String, asynchronous: bool) -> u64 {
    let mut r = records().lock().unwrap_or_else(|e| e.into_inner());
    // ids are taken under the lock so that the records stay sorted by id
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    if r.len() >= KEEP {
        r.pop_front();
    }
    r.push_back(Record {
        id,
        queued_ms: now_ms(),
        function,
        target,
        asynchronous,
        status: if asynchronous {
            Status::Queued
        } else {
            Status::Sending
        },
        attempts: 0,
        response_code: None,
        errcode: None,
        errmsg: String::new(),
        elapsed: None,
    });
    id
}

fn update(id: u64, f: impl FnOnce(&mut Record)) {
    let mut r = records().lock().unwrap_or_else(|e| e.into_inner());
    if let Ok(i) = r.binary_search_by_key(&id, |rec| rec.id) {
        f(&mut r[i]);
    }
}

/// An attempt started.
pub fn attempted(id: u64, attempts: u32) {
    update(id, |r| {
        r.status = Status::Sending;
        r.attempts = attempts;
    });
}

/// The delivery ended with `result`.
pub fn finish(id: u64, result: &Result<Delivered>, elapsed: f64) {
    update(id, |r| {
        r.elapsed = Some(elapsed);
        match result {
            Ok(d) => {
                r.response_code = Some(d.response_code());
                r.errcode = Some(d.errcode());
                r.errmsg = d.errmsg();
                r.status = if d.errcode() == 0 {
                    Status::Sent
                } else {
                    Status::Failed
                };
            }
            Err(e) => {
                r.status = Status::Failed;
                r.errmsg = e.message();
            }
        }
    });
}

/// The latest `count` records (all kept when None), oldest first.
pub fn latest(count: Option<usize>) -> Vec<Record> {
    let r = records().lock().unwrap_or_else(|e| e.into_inner());
    let n = count.unwrap_or(r.len()).min(r.len());
    r.iter().skip(r.len() - n).cloned().collect()
}
