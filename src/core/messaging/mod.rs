//! Messaging core: WeCom and DingTalk application messages (with a process-wide access
//! token cache) and the WeCom / DingTalk / Feishu group robots.
//!
//! - [`Outgoing`]: a checked message, built by `Outgoing::wecom`, `::dingtalk`, `::robot`,
//!   delivered at once ([`send`]) or queued (`core::delivery::queue`), paced to its
//!   destination's limit and retried on rate-limit answers and transient failures;
//! - [`wecom_send`], [`dingtalk_send`], [`robot_send`]: build and send at once.
//!
//! Every delivery returns an [`Answer`] (a non-zero `errcode` is a normal answer);
//! transport failures and non-JSON answers are errors. Secrets, tokens and webhook keys
//! never appear in error messages.
pub mod answer;
pub mod config;
pub mod outgoing;
mod platform;
pub mod robot;
pub mod token_cache;

pub use answer::{Answer, Scalar};
pub use config::{MessagingConfig, QUEUED_ATTEMPT_MAX_MS};
pub use outgoing::{Body, Outgoing};
pub use robot::RobotKind;

use crate::core::delivery::{self, Delivered};
use crate::core::error::Result;

/// `base` without trailing slashes; `default` when not given.
pub(crate) fn base_or(cfg: &MessagingConfig, default: &str) -> String {
    cfg.base_url
        .as_deref()
        .unwrap_or(default)
        .trim_end_matches('/')
        .to_string()
}

/// Sends `o` now on the calling thread (paced, retried as configured).
pub fn send(o: &Outgoing) -> Result<Answer> {
    let retries = delivery::retries_or_default(o.config().retries, false);
    match delivery::send_now(o, retries).1? {
        Delivered::Answer(a) => Ok(a),
        Delivered::Mail(_) => unreachable!("a platform message is answered by the platform"),
    }
}

/// POSTs the JSON `body` to WeCom's `<base>/cgi-bin/<api>?access_token=<token>`.
pub fn wecom_send(
    corp_id: &str,
    corp_secret: &str,
    api: &str,
    body: &[u8],
    cfg: &MessagingConfig,
) -> Result<Answer> {
    send(&Outgoing::wecom(
        corp_id,
        corp_secret,
        api,
        &Body::Text(body.to_vec()),
        cfg,
    )?)
}

/// Calls DingTalk's `<base>/<api>?access_token=<token>` (POST with a body, GET without).
pub fn dingtalk_send(
    app_key: &str,
    app_secret: &str,
    api: &str,
    body: Option<&Body>,
    cfg: &MessagingConfig,
) -> Result<Answer> {
    send(&Outgoing::dingtalk(app_key, app_secret, api, body, cfg)?)
}

/// Sends `content` (text, or a JSON message starting with `{`) through a robot webhook.
pub fn robot_send(
    kind: RobotKind,
    webhook: &str,
    content: &[u8],
    secret: Option<&str>,
    cfg: &MessagingConfig,
) -> Result<Answer> {
    send(&Outgoing::robot(
        kind,
        webhook,
        &Body::Text(content.to_vec()),
        secret,
        cfg,
    )?)
}
