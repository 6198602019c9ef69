//! What WeCom and DingTalk application calls share: the platform's facts, gettoken, the
//! cached token, and what their errcodes mean for a retry.
use super::answer::{parse_answer, Answer, Scalar};
use super::config::MessagingConfig;
use super::token_cache::{self, TokenKey};
use crate::core::error::{redact, redact_error, Cause, Error, Result};
use crate::core::http::url::{append_query, percent_encode};
use crate::core::http::{execute, Method, Params, Request, RequestUrl};

#[derive(Debug)]
pub(crate) struct TokenPlatform {
    /// For messages: `WeCom`, `DingTalk`.
    pub name: &'static str,
    /// For the cache key.
    pub key: &'static str,
    pub default_base: &'static str,
    pub gettoken_path: &'static str,
    pub id_param: &'static str,
    pub secret_param: &'static str,
    pub id_label: &'static str,
    pub secret_label: &'static str,
    /// errcodes meaning "this token is invalid or expired".
    pub stale_codes: &'static [i64],
    /// errcodes meaning "too frequent, slow down" (retried after a pause).
    pub slow_down_codes: &'static [i64],
}

pub(crate) const WECOM: TokenPlatform = TokenPlatform {
    name: "WeCom",
    key: "wecom",
    default_base: "https://qyapi.weixin.qq.com",
    gettoken_path: "/cgi-bin/gettoken",
    id_param: "corpid",
    secret_param: "corpsecret",
    id_label: "corpId",
    secret_label: "corpSecret",
    // 40014 invalid access_token, 42001 access_token expired, 40001 invalid credential.
    stale_codes: &[40014, 42001, 40001],
    // 45009 API frequency out of limit, 45033 too many concurrent calls.
    slow_down_codes: &[45009, 45033],
};

pub(crate) const DINGTALK: TokenPlatform = TokenPlatform {
    name: "DingTalk",
    key: "dingtalk",
    default_base: "https://oapi.dingtalk.com",
    gettoken_path: "/gettoken",
    id_param: "appkey",
    secret_param: "appsecret",
    id_label: "appKey",
    secret_label: "appSecret",
    // 40014 invalid access_token, 42001 access_token expired, 88 (with sub-code 40014 /
    // 42001) authentication failed, 40001 invalid credential.
    stale_codes: &[40014, 42001, 88, 40001],
    // 90018 the call was throttled (per-app QPS), 130101 too frequent.
    slow_down_codes: &[90018, 130101],
};

/// Sends `req`, parses the answer; errors are stripped of `secrets`.
pub(crate) fn exchange(platform: &str, req: &Request, secrets: &[&str]) -> Result<Answer> {
    let resp = execute(req).map_err(|e| redact_error(e, secrets))?;
    parse_answer(platform, resp, secrets)
}

fn fetch_token(
    p: &TokenPlatform,
    base: &str,
    id: &str,
    secret: &str,
    cfg: &MessagingConfig,
) -> Result<(String, u64)> {
    let req = Request {
        method: Method::Get,
        url: RequestUrl::new(&format!("{base}{}", p.gettoken_path))?,
        params: Some(Params::Pairs(vec![
            (p.id_param.as_bytes().to_vec(), id.as_bytes().to_vec()),
            (
                p.secret_param.as_bytes().to_vec(),
                secret.as_bytes().to_vec(),
            ),
        ])),
        timeout_ms: cfg.timeout_ms,
        headers: Vec::new(),
        config: cfg.http.clone(),
    };
    let ans = exchange(p.name, &req, &[secret])
        .map_err(|e| e.context(&format!("{} gettoken failed", p.name)))?;
    if ans.errcode != 0 {
        let cause = if p.slow_down_codes.contains(&ans.errcode) {
            Cause::RateLimited
        } else {
            Cause::Auth
        };
        return Err(Error::runtime(
            cause,
            format!(
                "{} gettoken failed: errcode {}, errmsg '{}'",
                p.name,
                ans.errcode,
                redact(&ans.errmsg, &[secret])
            ),
        ));
    }
    let token = match ans.field("access_token") {
        Some(Scalar::Str(t)) if !t.is_empty() => t.clone(),
        _ => {
            return Err(Error::runtime(
                Cause::Protocol,
                format!(
                    "{} gettoken failed: the answer has no access_token (HTTP status {})",
                    p.name, ans.response_code
                ),
            ))
        }
    };
    let expires_in = match ans.field("expires_in") {
        Some(Scalar::Long(n)) if *n > 0 => *n as u64,
        Some(Scalar::Double(d)) if *d > 0.0 => *d as u64,
        Some(Scalar::Str(s)) => s.trim().parse().unwrap_or(7200),
        _ => 7200,
    };
    crate::core::log::info(format!(
        "{}: fetched an access token for {} {} (valid {expires_in} s)",
        p.name,
        p.id_label,
        shown_id(id)
    ));
    Ok((token, expires_in))
}

/// An id as shown in logs and stats: its first four characters.
pub(crate) fn shown_id(id: &str) -> String {
    let head: String = id.chars().take(4).collect();
    format!("{head}***")
}

pub(crate) fn check_credentials(
    p: &TokenPlatform,
    id: &str,
    secret: &str,
    api: &str,
) -> Result<()> {
    if id.trim().is_empty() {
        return Err(Error::argument(format!("{} must not be empty", p.id_label)));
    }
    if secret.is_empty() {
        return Err(Error::argument(format!(
            "{} must not be empty",
            p.secret_label
        )));
    }
    if api.trim().trim_matches('/').is_empty() {
        return Err(Error::argument("api must not be empty"));
    }
    if api.contains(['?', '#']) || api.chars().any(|c| c.is_whitespace()) {
        return Err(Error::argument(format!(
            "api '{api}' must be a path such as 'message/send', without '?', '#' or spaces"
        )));
    }
    Ok(())
}

/// The cached token of (`platform`, `base`, `id`, `secret`), fetched when needed.
pub(crate) fn token(
    p: &TokenPlatform,
    base: &str,
    id: &str,
    secret: &str,
    cfg: &MessagingConfig,
) -> Result<(TokenKey, String)> {
    let key = TokenKey::new(p.key, base, id, secret);
    let token = token_cache::get(&key, || fetch_token(p, base, id, secret, cfg))?;
    Ok((key, token))
}

/// `url?access_token=T` (T percent-encoded).
pub(crate) fn with_token(url: &str, token: &str) -> String {
    let mut q = b"access_token=".to_vec();
    percent_encode(token.as_bytes(), &mut q);
    append_query(url, &q)
}
