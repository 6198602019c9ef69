//! WeCom (企业微信) application calls: `POST <base>/cgi-bin/<api>?access_token=T`.
use super::answer::Answer;
use super::config::MessagingConfig;
use super::platform::{call_with_token, check_credentials, with_token, TokenPlatform};
use crate::core::error::Result;
use crate::core::http::{Method, Params, Request};

pub const WECOM_BASE: &str = "https://qyapi.weixin.qq.com";

pub(crate) const WECOM: TokenPlatform = TokenPlatform {
    name: "WeCom",
    key: "wecom",
    default_base: WECOM_BASE,
    gettoken_path: "/cgi-bin/gettoken",
    id_param: "corpid",
    secret_param: "corpsecret",
    id_label: "corpId",
    secret_label: "corpSecret",
    // 40014 invalid access_token, 42001 access_token expired, 40001 invalid credential.
    stale_codes: &[40014, 42001, 40001],
};

/// POSTs the JSON `body` to `<base>/cgi-bin/<api>?access_token=<token>` (`api` e.g.
/// `message/send`, `appchat/create`, `appchat/send`; a leading `/` or `cgi-bin/` is
/// accepted), with the token of (`corp_id`, `corp_secret`) from the cache.
pub fn wecom_send(
    corp_id: &str,
    corp_secret: &str,
    api: &str,
    body: &[u8],
    cfg: &MessagingConfig,
) -> Result<Answer> {
    check_credentials(&WECOM, corp_id, corp_secret, api)?;
    let api = api.trim().trim_start_matches('/');
    let api = api.strip_prefix("cgi-bin/").unwrap_or(api).to_string();
    call_with_token(&WECOM, corp_id, corp_secret, cfg, |base, token| Request {
        method: Method::Post,
        url: with_token(&format!("{base}/cgi-bin/{api}"), token),
        params: Some(Params::Raw(body.to_vec())),
        timeout_ms: cfg.timeout_ms,
        headers: vec![("Content-Type".into(), "application/json".into())],
        config: cfg.http.clone(),
    })
}
