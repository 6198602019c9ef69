//! DingTalk (钉钉) application calls: `<base>/<api>?access_token=T`.
use super::answer::Answer;
use super::config::MessagingConfig;
use super::platform::{call_with_token, check_credentials, with_token, TokenPlatform};
use crate::core::error::Result;
use crate::core::http::url::{append_query, encode_pairs};
use crate::core::http::{Method, Params, Request};

pub const DINGTALK_BASE: &str = "https://oapi.dingtalk.com";

pub(crate) const DINGTALK: TokenPlatform = TokenPlatform {
    name: "DingTalk",
    key: "dingtalk",
    default_base: DINGTALK_BASE,
    gettoken_path: "/gettoken",
    id_param: "appkey",
    secret_param: "appsecret",
    id_label: "appKey",
    secret_label: "appSecret",
    // 40014 invalid access_token, 42001 access_token expired, 88 (with sub-code 40014 /
    // 42001) authentication failed, 40001 invalid credential.
    stale_codes: &[40014, 42001, 88, 40001],
};

/// The `body` of a DingTalk call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DingBody {
    /// GET, no parameters besides the token.
    None,
    /// GET with these query parameters (after `access_token`).
    Query(Vec<(Vec<u8>, Vec<u8>)>),
    /// POST with this JSON body (`Content-Type: application/json`).
    Json(Vec<u8>),
}

/// Calls `<base>/<api>?access_token=<token>` (`api` e.g. `chat/create`, `chat/send`,
/// `department/list`, `user/getDeptMember`) with the token of (`app_key`, `app_secret`).
pub fn dingtalk_send(
    app_key: &str,
    app_secret: &str,
    api: &str,
    body: DingBody,
    cfg: &MessagingConfig,
) -> Result<Answer> {
    check_credentials(&DINGTALK, app_key, app_secret, api)?;
    let api = api.trim().trim_start_matches('/').to_string();
    call_with_token(&DINGTALK, app_key, app_secret, cfg, |base, token| {
        let url = with_token(&format!("{base}/{api}"), token);
        let (method, url, params, headers) = match &body {
            DingBody::None => (Method::Get, url, None, Vec::new()),
            DingBody::Query(pairs) => (
                Method::Get,
                append_query(&url, &encode_pairs(pairs)),
                None,
                Vec::new(),
            ),
            DingBody::Json(json) => (
                Method::Post,
                url,
                Some(Params::Raw(json.clone())),
                vec![("Content-Type".to_string(), "application/json".to_string())],
            ),
        };
        Request {
            method,
            url,
            params,
            timeout_ms: cfg.timeout_ms,
            headers,
            config: cfg.http.clone(),
        }
    })
}
