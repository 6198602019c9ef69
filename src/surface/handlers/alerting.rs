//! `flush([timeout])` and `deliveries([count])`: the asynchronous deliveries.
use crate::core::delivery::{journal, queue};
use crate::core::error::Result;
use crate::surface::into_ddb::Deliveries;
use crate::surface::{Count, Millis};
use std::time::Duration;

/// Waits until every queued message was delivered or given up, or `timeout` ms passed
/// (none: no limit); returns how many are still pending.
pub fn flush(timeout: Option<Millis>) -> Result<i32> {
    let pending = queue::flush(timeout.map(|t| Duration::from_millis(t.0)));
    Ok(i32::try_from(pending).unwrap_or(i32::MAX))
}

/// The latest `count` deliveries (all kept, up to 10,000, when not given), oldest first.
pub fn deliveries(count: Option<Count>) -> Result<Deliveries> {
    Ok(Deliveries(journal::latest(count.map(|c| c.0))))
}
