//! What WeCom and DingTalk application calls share: gettoken, the cached token, one retry
//! with a fresh token when the platform says the token is stale.
use super::answer::{parse_answer, Answer};
use super::config::MessagingConfig;
use super::redact;
use super::token_cache::{self, TokenKey};
use crate::core::error::{Error, Result};
use crate::core::http::{execute, Method, Params, Request};

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
}

/// Sends `req`, parses the answer; errors are stripped of `secrets`.
pub(crate) fn send(platform: &str, req: &Request, secrets: &[&str]) -> Result<Answer> {
    let resp = execute(req).map_err(|e| e.with_message(redact(e.message(), secrets)))?;
    parse_answer(platform, resp, secrets)
}

fn get_request(url: String, pairs: Vec<(Vec<u8>, Vec<u8>)>, cfg: &MessagingConfig) -> Request {
    Request {
        method: Method::Get,
        url,
        params: Some(Params::Pairs(pairs)),
        timeout_ms: cfg.timeout_ms,
        headers: Vec::new(),
        config: cfg.http.clone(),
    }
}

fn fetch_token(
    p: &TokenPlatform,
    base: &str,
    id: &str,
    secret: &str,
    cfg: &MessagingConfig,
) -> Result<(String, u64)> {
    let req = get_request(
        format!("{base}{}", p.gettoken_path),
        vec![
            (p.id_param.as_bytes().to_vec(), id.as_bytes().to_vec()),
            (
                p.secret_param.as_bytes().to_vec(),
                secret.as_bytes().to_vec(),
            ),
        ],
        cfg,
    );
    let ans = send(p.name, &req, &[secret])
        .map_err(|e| e.with_message(format!("{} gettoken failed: {}", p.name, e.message())))?;
    if ans.errcode != 0 {
        return Err(Error::new(format!(
            "{} gettoken failed: errcode {}, errmsg '{}'",
            p.name,
            ans.errcode,
            redact(&ans.errmsg, &[secret])
        )));
    }
    let token = match ans.field("access_token") {
        Some(super::Scalar::Str(t)) if !t.is_empty() => t.clone(),
        _ => {
            return Err(Error::new(format!(
                "{} gettoken failed: the answer has no access_token (HTTP status {})",
                p.name, ans.response_code
            )))
        }
    };
    let expires_in = match ans.field("expires_in") {
        Some(super::Scalar::Long(n)) if *n > 0 => *n as u64,
        Some(super::Scalar::Double(d)) if *d > 0.0 => *d as u64,
        Some(super::Scalar::Str(s)) => s.trim().parse().unwrap_or(7200),
        _ => 7200,
    };
    Ok((token, expires_in))
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

/// Calls `make(token)` with the cached token; when the platform answers a stale-token
/// errcode, drops that token, fetches a new one and calls once more.
pub(crate) fn call_with_token(
    p: &TokenPlatform,
    id: &str,
    secret: &str,
    cfg: &MessagingConfig,
    make: impl Fn(&str, &str) -> Request,
) -> Result<Answer> {
    let base = super::base_or(cfg, p.default_base);
    let key = TokenKey::new(p.key, &base, id, secret);
    let fetch = || fetch_token(p, &base, id, secret, cfg);
    let token = token_cache::get(&key, fetch)?;
    let ans = send(p.name, &make(&base, &token), &[secret, &token])?;
    if !p.stale_codes.contains(&ans.errcode) {
        return Ok(ans);
    }
    token_cache::invalidate(&key, &token);
    let fresh = token_cache::get(&key, || fetch_token(p, &base, id, secret, cfg))?;
    send(p.name, &make(&base, &fresh), &[secret, &fresh, &token])
}

/// `url?access_token=T` (T percent-encoded).
pub(crate) fn with_token(url: &str, token: &str) -> String {
    let mut q = b"access_token=".to_vec();
    crate::core::http::url::percent_encode(token.as_bytes(), &mut q);
    crate::core::http::url::append_query(url, &q)
}
