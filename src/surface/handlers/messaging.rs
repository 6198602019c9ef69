//! `wecomSend(corpId, corpSecret, api, body, [config])`,
//! `dingtalkSend(appKey, appSecret, api, [body], [config])`,
//! `robotSend(kind, webhook, content, [secret], [config])`.
use crate::abi::Out;
use crate::core::messaging::{self, Answer, DingBody, MessagingConfig, RobotKind, Scalar};
use crate::surface::args::{Args, Config, Failure, Result, TextOrDict};

fn config(args: &Args, i: usize) -> Result<MessagingConfig> {
    match args.optional::<Config>(i, "config")? {
        None => Ok(MessagingConfig::default()),
        Some(Config(entries)) => MessagingConfig::from_entries(&entries)
            .map_err(|e| Failure::argument(format!("config: {e}"))),
    }
}

/// errcode, errmsg, responseCode, text, elapsed, then every other top-level scalar.
fn answer_dict(a: Answer) -> Out {
    let mut d = vec![
        (
            "errcode".to_string(),
            Out::Int(a.errcode.clamp(i32::MIN as i64 + 1, i32::MAX as i64) as i32),
        ),
        ("errmsg".to_string(), Out::Str(a.errmsg.into_bytes())),
        (
            "responseCode".to_string(),
            Out::Int(i32::from(a.response_code)),
        ),
        ("text".to_string(), Out::Str(a.text)),
        ("elapsed".to_string(), Out::Double(a.elapsed)),
    ];
    for (k, v) in a.fields {
        if d.iter().any(|(name, _)| *name == k) {
            continue;
        }
        let value = match v {
            Scalar::Str(s) => Out::Str(s.into_bytes()),
            Scalar::Long(n) => Out::Long(n),
            Scalar::Double(x) => Out::Double(x),
            Scalar::Bool(b) => Out::Bool(b),
        };
        d.push((k, value));
    }
    Out::Dict(d)
}

pub fn wecom(args: &Args) -> Result<Out> {
    let corp_id: String = args.required(0, "corpId")?;
    let secret: String = args.required(1, "corpSecret")?;
    let api: String = args.required(2, "api")?;
    let body: Vec<u8> = args.required(3, "body")?;
    let cfg = config(args, 4)?;
    Ok(answer_dict(messaging::wecom_send(
        &corp_id, &secret, &api, &body, &cfg,
    )?))
}

pub fn dingtalk(args: &Args) -> Result<Out> {
    let app_key: String = args.required(0, "appKey")?;
    let secret: String = args.required(1, "appSecret")?;
    let api: String = args.required(2, "api")?;
    let body = match args.optional::<TextOrDict>(3, "body")? {
        None => DingBody::None,
        Some(TextOrDict::Text(t)) => DingBody::Json(t),
        Some(TextOrDict::Dict(d)) => DingBody::Query(d),
    };
    let cfg = config(args, 4)?;
    Ok(answer_dict(messaging::dingtalk_send(
        &app_key, &secret, &api, body, &cfg,
    )?))
}

pub fn robot(args: &Args) -> Result<Out> {
    let kind_text: String = args.required(0, "kind")?;
    let kind = RobotKind::parse(&kind_text).ok_or_else(|| {
        Failure::argument(format!(
            "kind must be \"wecom\", \"dingtalk\" or \"feishu\", but got \"{kind_text}\""
        ))
    })?;
    let webhook: String = args.required(1, "webhook")?;
    let content: Vec<u8> = args.required(2, "content")?;
    let secret: Option<String> = args.optional(3, "secret")?;
    let cfg = config(args, 4)?;
    Ok(answer_dict(messaging::robot_send(
        kind,
        &webhook,
        &content,
        secret.as_deref(),
        &cfg,
    )?))
}
