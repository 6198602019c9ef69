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
    /// Delivered and accepted (errcode 0 with a 2xx status, mail 250).
    Sent,
    /// Given up: an error, the destination's non-zero errcode, or a status that is not 2xx.
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
        // the oldest finished record goes; one still queued or sending stays findable
        // (the queue alone holds as many as are kept)
        let finished = r
            .iter()
            .position(|x| matches!(x.status, Status::Sent | Status::Failed));
        match finished {
            Some(i) => {
                r.remove(i);
            }
            None => {
                r.pop_front();
            }
        }
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
                r.status = if d.accepted() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::messaging::answer::Answer;

    fn answer(response_code: u16, errcode: i64) -> Result<Delivered> {
        Ok(Delivered::Answer(Answer {
            errcode,
            errmsg: String::new(),
            response_code,
            text: Vec::new(),
            elapsed: 0.0,
            fields: Vec::new(),
            ratelimit_reset: None,
        }))
    }

    /// The journal is global: these tests must not evict each other's records.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn status(id: u64) -> Status {
        latest(None)
            .into_iter()
            .find(|r| r.id == id)
            .unwrap()
            .status
    }

    /// Sent means accepted: errcode 0 and a 2xx status.
    #[test]
    fn a_status_that_is_not_2xx_is_a_failure() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        for (code, errcode, want) in [
            (200, 0, Status::Sent),
            (503, 0, Status::Failed),
            (200, 93000, Status::Failed),
        ] {
            let id = start("robotSend", "t".into(), true);
            finish(id, &answer(code, errcode), 0.1);
            assert_eq!(status(id), want, "{code} {errcode}");
        }
    }

    /// A full journal drops its oldest finished record, not a pending one.
    #[test]
    fn pending_records_outlive_finished_ones() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let pending = start("robotSend", "pending".into(), true);
        for _ in 0..KEEP {
            let id = start("robotSend", "done".into(), false);
            finish(id, &answer(200, 0), 0.1);
        }
        assert_eq!(status(pending), Status::Queued);
    }
}
