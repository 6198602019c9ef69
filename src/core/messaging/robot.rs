//! Group robots: WeCom webhook, DingTalk custom robot (optionally signed), Feishu bot
//! (optionally signed).
use super::answer::Answer;
use super::config::MessagingConfig;
use super::platform::send;
use super::wecom::WECOM_BASE;
use crate::core::error::{Error, Result};
use crate::core::http::url::{append_query, percent_encode};
use crate::core::http::{Method, Params, Request};
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
    fn name(self) -> &'static str {
        match self {
            RobotKind::Wecom => "WeCom robot",
            RobotKind::Dingtalk => "DingTalk robot",
            RobotKind::Feishu => "Feishu bot",
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

/// The secrets of a webhook: its query values and its last path segment.
fn webhook_secrets(url: &str) -> Vec<String> {
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
    if let Some(seg) = path.rsplit('/').next() {
        if seg.len() >= 8 && !seg.contains('.') {
            out.push(seg.to_string());
        }
    }
    out
}

fn text_message(kind: RobotKind, text: &str) -> Vec<u8> {
    let v = match kind {
        RobotKind::Feishu => serde_json::json!({"msg_type": "text", "content": {"text": text}}),
        _ => serde_json::json!({"msgtype": "text", "text": {"content": text}}),
    };
    v.to_string().into_bytes()
}

fn now() -> std::time::Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Sends `content` through a robot webhook. `content` starting with `{` (after white
/// space) is the complete JSON message; anything else is sent as a text message. `secret`
/// (empty = none) signs DingTalk (query) and Feishu (body) requests.
pub fn robot_send(
    kind: RobotKind,
    webhook: &str,
    content: &[u8],
    secret: Option<&str>,
    cfg: &MessagingConfig,
) -> Result<Answer> {
    let webhook = webhook.trim();
    let secret = secret.filter(|s| !s.is_empty());
    if webhook.is_empty() {
        return Err(Error::argument("webhook must not be empty"));
    }
    let mut url = match kind {
        RobotKind::Wecom if !is_url(webhook) => {
            if webhook.contains(['/', '?', '&', '#']) || webhook.chars().any(char::is_whitespace) {
                return Err(Error::argument(
                    "a wecom webhook is the robot URL or its bare key",
                ));
            }
            let mut q = b"key=".to_vec();
            percent_encode(webhook.as_bytes(), &mut q);
            append_query(
                &format!("{}/cgi-bin/webhook/send", super::base_or(cfg, WECOM_BASE)),
                &q,
            )
        }
        _ if !is_url(webhook) => {
            return Err(Error::argument(format!(
                "the {} webhook must be a URL (http:// or https://)",
                kind.name()
            )))
        }
        _ => rebase(webhook, cfg.base_url.as_deref()),
    };
    let mut secrets: Vec<String> = webhook_secrets(webhook);
    if !is_url(webhook) {
        secrets.push(webhook.to_string());
    }
    if let Some(s) = secret {
        secrets.push(s.to_string());
    }

    let trimmed = content.trim_ascii_start();
    let is_json = trimmed.starts_with(b"{");
    let mut body = if is_json {
        content.to_vec()
    } else {
        text_message(kind, &String::from_utf8_lossy(content))
    };

    match (kind, secret) {
        (RobotKind::Wecom, Some(_)) => {
            return Err(Error::argument(
                "WeCom robots are not signed: leave secret empty",
            ))
        }
        (RobotKind::Dingtalk, Some(s)) => {
            let ts = now().as_millis();
            let mut q = format!("timestamp={ts}&sign=").into_bytes();
            percent_encode(dingtalk_sign(ts, s).as_bytes(), &mut q);
            url = append_query(&url, &q);
        }
        (RobotKind::Feishu, Some(s)) => {
            let mut v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
                Error::argument(format!(
                    "content starts with '{{' but is not valid JSON: {e}"
                ))
            })?;
            let obj = v.as_object_mut().ok_or_else(|| {
                Error::argument("content starts with '{' but is not a JSON object")
            })?;
            let ts = now().as_secs();
            obj.insert(
                "timestamp".into(),
                serde_json::Value::String(ts.to_string()),
            );
            obj.insert("sign".into(), serde_json::Value::String(feishu_sign(ts, s)));
            body = v.to_string().into_bytes();
        }
        _ => {}
    }

    let req = Request {
        method: Method::Post,
        url,
        params: Some(Params::Raw(body)),
        timeout_ms: cfg.timeout_ms,
        headers: vec![("Content-Type".into(), "application/json".into())],
        config: cfg.http.clone(),
    };
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    send(kind.name(), &req, &refs)
}
