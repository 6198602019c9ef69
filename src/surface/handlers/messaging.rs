//! `wecomSend(corpId, corpSecret, api, body, [config])`,
//! `dingtalkSend(appKey, appSecret, api, [body], [config])`,
//! `robotSend(kind, webhook, content, [secret], [config])`: sent at once, or queued with
//! config `async`; robotSend to a vector of webhooks sends to all of them concurrently.
use crate::abi::Out;
use crate::core::delivery::{self, queue, retries_or_default, Deliverable, Delivered};
use crate::core::error::{Error, Result};
use crate::core::messaging::{self, Answer, Body, MessagingConfig, Outgoing, RobotKind};
use crate::surface::into_ddb::{FanOut, FanOutRow, Sent};
use crate::surface::{Config, IntoDdb, Webhooks};

/// Destinations of one fan-out sent at the same time, at most.
const FAN_OUT_THREADS: usize = 16;

fn config(config: Option<Config<MessagingConfig>>) -> MessagingConfig {
    config.map(|c| c.0).unwrap_or_default()
}

/// wecomSend and robotSend always POST: a `method` there would be silently ignored.
fn without_method(config: Option<Config<MessagingConfig>>) -> Result<MessagingConfig> {
    let cfg = self::config(config);
    if cfg.method.is_some() {
        return Err(Error::argument(
            "config 'method' applies to dingtalkSend only (wecomSend and robotSend always POST)",
        ));
    }
    Ok(cfg)
}

fn deliver(o: Outgoing) -> Result<Sent<Answer>> {
    let cfg = o.config();
    if cfg.asynchronous {
        let retries = retries_or_default(cfg.retries, true);
        return Ok(Sent::Queued(queue::enqueue(Box::new(o), retries)?));
    }
    Ok(Sent::Now(messaging::send(&o)?))
}

pub fn wecom(
    corp_id: String,
    corp_secret: String,
    api: String,
    body: Body,
    config: Option<Config<MessagingConfig>>,
) -> Result<Sent<Answer>> {
    let cfg = without_method(config)?;
    deliver(Outgoing::wecom(&corp_id, &corp_secret, &api, &body, &cfg)?)
}

pub fn dingtalk(
    app_key: String,
    app_secret: String,
    api: String,
    body: Option<Body>,
    config: Option<Config<MessagingConfig>>,
) -> Result<Sent<Answer>> {
    let cfg = self::config(config);
    deliver(Outgoing::dingtalk(
        &app_key,
        &app_secret,
        &api,
        body.as_ref(),
        &cfg,
    )?)
}

pub fn robot(
    kind: RobotKind,
    webhook: Webhooks,
    content: Body,
    secret: Option<String>,
    config: Option<Config<MessagingConfig>>,
) -> Result<Out> {
    let cfg = without_method(config)?;
    match webhook {
        Webhooks::One(w) => Ok(deliver(Outgoing::robot(
            kind,
            &w,
            &content,
            secret.as_deref(),
            &cfg,
        )?)?
        .into_ddb()),
        Webhooks::Many(list) => {
            // every webhook checked before anything is sent
            let messages = list
                .iter()
                .map(|w| Outgoing::robot(kind, w, &content, secret.as_deref(), &cfg))
                .collect::<Result<Vec<_>>>()?;
            let retries = retries_or_default(cfg.retries, cfg.asynchronous);
            Ok(fan_out(messages, cfg.asynchronous, retries)?.into_ddb())
        }
    }
}

/// The row of one destination's outcome.
pub(crate) fn fan_out_row(target: String, id: u64, result: &Result<Delivered>) -> FanOutRow {
    match result {
        Ok(d) => FanOutRow {
            target,
            id: Some(id),
            queued: false,
            response_code: Some(d.response_code()),
            errcode: Some(d.errcode()),
            errmsg: d.errmsg(),
            elapsed: Some(d.elapsed()),
        },
        Err(e) => FanOutRow {
            target,
            id: Some(id),
            queued: false,
            response_code: None,
            errcode: None,
            errmsg: e.message(),
            elapsed: None,
        },
    }
}

/// Sends each message to its own destination: queued (one row per queued message), or at
/// once, concurrently (at most [`FAN_OUT_THREADS`] at a time), one row per destination in
/// the given order. A destination's failure is its row's errmsg, not an error of the call.
pub(crate) fn fan_out<D: Deliverable>(
    messages: Vec<D>,
    asynchronous: bool,
    retries: u32,
) -> Result<FanOut> {
    if asynchronous {
        // all queued, or none (a full queue raises before any is queued)
        let targets: Vec<String> = messages.iter().map(|m| m.target()).collect();
        let boxed = messages
            .into_iter()
            .map(|m| Box::new(m) as Box<dyn Deliverable>)
            .collect();
        let ids = queue::enqueue_all(boxed, retries)?;
        let mut rows = Vec::with_capacity(ids.len());
        for (target, id) in targets.into_iter().zip(ids) {
            rows.push(FanOutRow {
                target,
                id: Some(id),
                queued: true,
                response_code: None,
                errcode: None,
                errmsg: String::new(),
                elapsed: None,
            });
        }
        return Ok(FanOut(rows));
    }
    let mut rows = Vec::with_capacity(messages.len());
    for chunk in messages.chunks(FAN_OUT_THREADS) {
        let outcomes: Vec<(u64, Result<Delivered>)> = std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|m| {
                    // A thread per destination and call: the shared clients' pooled
                    // connections, not a runtime and a connection of its own each time.
                    s.spawn(move || {
                        crate::core::http::client_pool::with_shared_clients(|| {
                            delivery::send_now(m, retries)
                        })
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        (
                            0,
                            Err(crate::core::error::Error::runtime(
                                crate::core::error::Cause::Internal,
                                "internal error while sending (a panic was caught)",
                            )),
                        )
                    })
                })
                .collect()
        });
        for (m, (id, result)) in chunk.iter().zip(outcomes) {
            rows.push(fan_out_row(m.target(), id, &result));
        }
    }
    Ok(FanOut(rows))
}
