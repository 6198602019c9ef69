//! Group robots: WeCom webhook, DingTalk custom robot (optionally signed), Feishu bot
//! (optionally signed).
use super::config::MessagingConfig;
use super::platform::WECOM;
use crate::core::delivery::pacing::RateLimit;
use crate::core::error::{Error, Result};
use crate::core::http::url::{append_query, percent_encode};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RobotKind {
    Wecom,
    Dingtalk,
    Feishu,
}

impl RobotKind {
    /// `wecom` | `dingtalk` | `feishu` (case-insensitive; `wechat`/`weixin`, `ding`,
    /// `lark` also accepted).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "wecom" | "wechat" | "weixin" | "wxwork" => Some(RobotKind::Wecom),
            "dingtalk" | "ding" => Some(RobotKind::Dingtalk),
            "feishu" | "lark" => Some(RobotKind::Feishu),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            RobotKind::Wecom => "WeCom robot",
            RobotKind::Dingtalk => "DingTalk robot",
            RobotKind::Feishu => "Feishu bot",
        }
    }

    /// The documented limit of one robot: WeCom and DingTalk 20 messages per minute,
    /// Feishu 5 per second and 100 per minute.
    pub fn documented_limit(self) -> RateLimit {
        match self {
            RobotKind::Wecom | RobotKind::Dingtalk => RateLimit::per_minute(20),
            RobotKind::Feishu => RateLimit::parse("5/s, 100/min").expect("a valid limit"),
        }
    }
}

/// base64(HMAC-SHA256(key, msg)).
pub fn hmac_sha256_base64(key: &[u8], msg: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// DingTalk's `sign` for `timestamp_ms` (before URL encoding).
pub fn dingtalk_sign(timestamp_ms: u128, secret: &str) -> String {
    hmac_sha256_base64(
        secret.as_bytes(),
        format!("{timestamp_ms}\n{secret}").as_bytes(),
    )
}

/// Feishu's `sign` for `timestamp_s`.
pub fn feishu_sign(timestamp_s: u64, secret: &str) -> String {
    hmac_sha256_base64(format!("{timestamp_s}\n{secret}").as_bytes(), b"")
}

fn is_url(s: &str) -> bool {
    s.contains("://")
}

fn is_http_url(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// `base` + the path and query of `url`.
fn rebase(url: &str, base: Option<&str>) -> String {
    let Some(base) = base else {
        return url.to_string();
    };
    let after_scheme = url.find("://").map(|p| p + 3).unwrap_or(0);
    let rest = &url[after_scheme..];
    let tail = rest.find(['/', '?', '#']).map(|p| &rest[p..]).unwrap_or("");
    format!("{}{}", base.trim_end_matches('/'), tail)
}

/// The secrets of a webhook: its query values, and its last path segment when it is long
/// enough to be a key or follows `/hook/` (Feishu's `/open-apis/bot/v2/hook/<id>`).
pub(crate) fn webhook_secrets(url: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, q),
        None => (url, ""),
    };
    for pair in query.split('&') {
        if let Some((_, v)) = pair.split_once('=') {
            if v.len() >= 4 {
                out.push(v.to_string());
            }
        }
    }
    // a trailing slash must not hide the key segment
    let mut segments = path.trim_end_matches('/').rsplit('/');
    if let (Some(seg), before) = (segments.next(), segments.next()) {
        if (seg.len() >= 8 || (before == Some("hook") && seg.len() >= 4)) && !seg.contains('.') {
            out.push(seg.to_string());
        }
    }
    out
}

pub(crate) fn text_message(kind: RobotKind, text: &str) -> Vec<u8> {
    let v = match kind {
        RobotKind::Feishu => serde_json::json!({"msg_type": "text", "content": {"text": text}}),
        _ => serde_json::json!({"msgtype": "text", "text": {"content": text}}),
    };
    v.to_string().into_bytes()
}

pub(crate) fn now() -> std::time::Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// The URL of a robot (`webhook`: its URL, or for WeCom its bare key), on `baseUrl` when
/// one is configured.
pub(crate) fn webhook_url(kind: RobotKind, webhook: &str, cfg: &MessagingConfig) -> Result<String> {
    let webhook = webhook.trim();
    if webhook.is_empty() {
        return Err(Error::argument("webhook must not be empty"));
    }
    if webhook.contains(['\r', '\n', '\0']) {
        return Err(Error::argument("webhook must not contain CR, LF or NUL"));
    }
    match kind {
        RobotKind::Wecom if !is_url(webhook) => {
            if webhook.contains(['/', '?', '&', '#']) || webhook.chars().any(char::is_whitespace) {
                return Err(Error::argument(
                    "a wecom webhook is the robot URL or its bare key",
                ));
            }
            let mut q = b"key=".to_vec();
            percent_encode(webhook.as_bytes(), &mut q);
            Ok(append_query(
                &format!(
                    "{}/cgi-bin/webhook/send",
                    super::base_or(cfg, WECOM.default_base)
                ),
                &q,
            ))
        }
        _ if !is_http_url(webhook) => Err(Error::argument(format!(
            "the {} webhook must be a URL (http:// or https://)",
            kind.name()
        ))),
        _ => {
            let url = rebase(webhook, cfg.base_url.as_deref());
            // parsed now, so that a queued message or one webhook of a fan-out cannot fail
            // on it later (the parser's message names no part of the URL)
            reqwest::Url::parse(&url).map_err(|e| {
                Error::argument(format!(
                    "the {} webhook is not a valid URL: {e}",
                    kind.name()
                ))
            })?;
            Ok(url)
        }
    }
}

/// A webhook URL as shown in `deliveries()` and logs: path and query kept, every secret
/// (query values, the key in the last path segment) cut to its first four characters.
pub(crate) fn shown_webhook(url: &str) -> String {
    let mut out = url.to_string();
    for s in webhook_secrets(url) {
        let head: String = s.chars().take(4).collect();
        out = out.replace(&s, &format!("{head}***"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_keys_are_cut_wherever_they_stand() {
        let feishu = "https://open.feishu.cn/open-apis/bot/v2/hook/abcdef12-3456";
        for url in [feishu.to_string(), format!("{feishu}/")] {
            let shown = shown_webhook(&url);
            assert!(!shown.contains("abcdef12-3456"), "{shown}");
            assert!(shown.contains("/hook/abcd***"), "{shown}");
        }
        let shown = shown_webhook("https://oapi.dingtalk.com/robot/send?access_token=0123456789");
        assert_eq!(
            shown,
            "https://oapi.dingtalk.com/robot/send?access_token=0123***"
        );
    }
}
