//! Messaging core: WeCom and DingTalk application messages (with a process-wide access
//! token cache) and the WeCom / DingTalk / Feishu group robots.
//!
//! - [`wecom_send`]: `POST <base>/cgi-bin/<api>?access_token=T`, JSON body;
//! - [`dingtalk_send`]: `<base>/<api>?access_token=T`, GET with query params or POST JSON;
//! - [`robot_send`]: a robot webhook, signed where the platform requires it.
//!
//! Every call returns an [`Answer`] (a non-zero `errcode` is a normal answer); transport
//! failures and non-JSON answers are errors. Secrets, tokens and webhook keys never appear
//! in error messages.
pub mod answer;
pub mod config;
pub mod dingtalk;
pub mod robot;
pub mod token_cache;
pub mod wecom;

mod platform;

pub use answer::{Answer, Scalar};
pub use config::MessagingConfig;
pub use dingtalk::{dingtalk_send, DingBody};
pub use robot::{robot_send, RobotKind};
pub use wecom::wecom_send;

pub(crate) use crate::core::error::redact;

/// `base` without trailing slashes; `default` when not given.
pub(crate) fn base_or(cfg: &MessagingConfig, default: &str) -> String {
    cfg.base_url
        .as_deref()
        .unwrap_or(default)
        .trim_end_matches('/')
        .to_string()
}
