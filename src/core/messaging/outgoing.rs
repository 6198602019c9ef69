//! A message to a platform, checked and ready to send any number of times, from any
//! thread: what `wecomSend`, `dingtalkSend` and `robotSend` build before sending it at once
//! or queueing it. Each attempt fetches the cached token (applications) or signs anew
//! (robots: the signature carries the time), sends, and classifies the answer for the
//! delivery engine: rate-limit answers, stale tokens, transient failures.
use super::answer::Answer;
use super::config::MessagingConfig;
use super::platform::{
    self, check_credentials, exchange, with_token, TokenPlatform, DINGTALK, WECOM,
};
use super::robot::{self, dingtalk_sign, feishu_sign, text_message, RobotKind};
use super::token_cache;
use crate::core::delivery::pacing::RateLimit;
use crate::core::delivery::{Attempt, Deliverable, Delivered};
use crate::core::error::{Error, Result};
use crate::core::http::url::{append_query, encode_pairs, percent_encode};
use crate::core::http::{Header, Method, Params, Request, RequestUrl};
use std::time::Duration;

/// The body of a message as the script gave it.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A STRING: JSON text (applications, robots when it starts with `{`) or plain text
    /// (robots: sent as a text message).
    Text(Vec<u8>),
    /// A DolphinDB dictionary, converted to JSON.
    Json(serde_json::Value),
}

impl Body {
    fn json_bytes(&self) -> Vec<u8> {
        match self {
            Body::Text(t) => t.clone(),
            Body::Json(v) => v.to_string().into_bytes(),
        }
    }
}

/// What an application call sends.
#[derive(Debug, Clone)]
enum AppBody {
    None,
    Query(Vec<(Vec<u8>, Vec<u8>)>),
    Json(Vec<u8>),
}

#[derive(Debug, Clone)]
enum Route {
    App {
        platform: &'static TokenPlatform,
        id: String,
        secret: String,
        base: String,
        api: String,
        method: Method,
        body: AppBody,
    },
    Robot {
        kind: RobotKind,
        url: String,
        secret: Option<String>,
        /// The JSON message; for a signed Feishu bot an object that gets the signature.
        body: serde_json::Value,
        raw: Option<Vec<u8>>,
    },
}

/// A message to a WeCom/DingTalk application API or a group robot.
#[derive(Debug, Clone)]
pub struct Outgoing {
    function: &'static str,
    route: Route,
    cfg: MessagingConfig,
}

fn json_body(body: &Body, what: &str) -> Result<Vec<u8>> {
    let bytes = body.json_bytes();
    serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).map_err(|e| {
        Error::argument(format!(
            "{what} must be JSON (a STRING of JSON or a dictionary): {e}"
        ))
    })?;
    Ok(bytes)
}

impl Outgoing {
    /// `wecomSend`: POST the JSON `body` to `<base>/cgi-bin/<api>?access_token=T` (`api`
    /// e.g. `message/send`, `appchat/create`; a leading `/` or `cgi-bin/` is accepted).
    pub fn wecom(
        corp_id: &str,
        secret: &str,
        api: &str,
        body: &Body,
        cfg: &MessagingConfig,
    ) -> Result<Outgoing> {
        check_credentials(&WECOM, corp_id, secret, api)?;
        let api = api.trim().trim_start_matches('/');
        let api = api.strip_prefix("cgi-bin/").unwrap_or(api);
        Ok(Outgoing {
            function: "wecomSend",
            route: Route::App {
                platform: &WECOM,
                id: corp_id.trim().to_string(),
                secret: secret.to_string(),
                base: super::base_or(cfg, WECOM.default_base),
                api: format!("cgi-bin/{api}"),
                method: Method::Post,
                body: AppBody::Json(json_body(body, "body")?),
            },
            cfg: cfg.clone(),
        })
    }

    /// `dingtalkSend`: `<base>/<api>?access_token=T` (`api` e.g. `chat/create`,
    /// `chat/send`, `department/list`): POST with a JSON body, GET without one; config
    /// `method` "GET" with a dictionary body sends it as the query.
    pub fn dingtalk(
        app_key: &str,
        secret: &str,
        api: &str,
        body: Option<&Body>,
        cfg: &MessagingConfig,
    ) -> Result<Outgoing> {
        check_credentials(&DINGTALK, app_key, secret, api)?;
        let method = cfg.method.unwrap_or(if body.is_some() {
            Method::Post
        } else {
            Method::Get
        });
        let body =
            match (method, body) {
                (_, None) => AppBody::None,
                (Method::Get, Some(Body::Json(serde_json::Value::Object(map)))) => AppBody::Query(
                    map.iter()
                        .map(|(k, v)| {
                            let text = match v {
                                serde_json::Value::String(s) => s.clone(),
                                serde_json::Value::Null => String::new(),
                                other => other.to_string(),
                            };
                            (k.as_bytes().to_vec(), text.into_bytes())
                        })
                        .collect(),
                ),
                (Method::Get, Some(_)) => return Err(Error::argument(
                    "with config method \"GET\", body must be a dictionary (the query parameters)",
                )),
                (_, Some(b)) => AppBody::Json(json_body(b, "body")?),
            };
        Ok(Outgoing {
            function: "dingtalkSend",
            route: Route::App {
                platform: &DINGTALK,
                id: app_key.trim().to_string(),
                secret: secret.to_string(),
                base: super::base_or(cfg, DINGTALK.default_base),
                api: api.trim().trim_start_matches('/').to_string(),
                method,
                body,
            },
            cfg: cfg.clone(),
        })
    }

    /// `robotSend`: `content` is a JSON message (a dictionary, or a STRING starting with
    /// `{`) or plain text (sent as a text message); `secret` signs DingTalk (query) and
    /// Feishu (body) requests.
    pub fn robot(
        kind: RobotKind,
        webhook: &str,
        content: &Body,
        secret: Option<&str>,
        cfg: &MessagingConfig,
    ) -> Result<Outgoing> {
        let url = robot::webhook_url(kind, webhook, cfg)?;
        let secret = secret.filter(|s| !s.is_empty()).map(str::to_string);
        if kind == RobotKind::Wecom && secret.is_some() {
            return Err(Error::argument(
                "WeCom robots are not signed: leave secret empty",
            ));
        }
        let (body, raw) = match content {
            Body::Json(v) => (v.clone(), None),
            Body::Text(t) if t.trim_ascii_start().starts_with(b"{") => {
                let v: serde_json::Value = serde_json::from_slice(t).map_err(|e| {
                    Error::argument(format!(
                        "content starts with '{{' but is not valid JSON: {e}"
                    ))
                })?;
                // sent byte for byte as given, unless the signature must go in
                let raw = (kind != RobotKind::Feishu || secret.is_none()).then(|| t.clone());
                (v, raw)
            }
            Body::Text(t) => {
                let msg = text_message(kind, &String::from_utf8_lossy(t));
                (
                    serde_json::from_slice(&msg).expect("a text message is JSON"),
                    Some(msg),
                )
            }
        };
        if kind == RobotKind::Feishu && secret.is_some() && !body.is_object() {
            return Err(Error::argument("content must be a JSON object"));
        }
        Ok(Outgoing {
            function: "robotSend",
            route: Route::Robot {
                kind,
                url,
                secret,
                body,
                raw,
            },
            cfg: cfg.clone(),
        })
    }

    pub fn config(&self) -> &MessagingConfig {
        &self.cfg
    }

    /// The secrets of this message (removed from every error message).
    fn secrets(&self) -> Vec<String> {
        match &self.route {
            Route::App { secret, .. } => vec![secret.clone()],
            Route::Robot { url, secret, .. } => {
                let mut s = robot::webhook_secrets(url);
                s.extend(secret.clone());
                s
            }
        }
    }

    fn platform_name(&self) -> &'static str {
        match &self.route {
            Route::App { platform, .. } => platform.name,
            Route::Robot { kind, .. } => kind.name(),
        }
    }

    fn request(
        &self,
        url: String,
        method: Method,
        params: Option<Params>,
        json: bool,
    ) -> Result<Request> {
        Ok(Request {
            method,
            url: RequestUrl::new(&url)?,
            params,
            timeout_ms: self.cfg.timeout_ms,
            headers: if json {
                vec![Header::new("Content-Type", "application/json")?]
            } else {
                Vec::new()
            },
            config: self.cfg.http.clone(),
        })
    }

    /// One exchange; a token the platform calls stale is dropped from the cache.
    fn exchange_once(&self) -> Result<Answer> {
        let secrets = self.secrets();
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        match &self.route {
            Route::App {
                platform,
                id,
                secret,
                base,
                api,
                method,
                body,
            } => {
                let (key, token) = platform::token(platform, base, id, secret, &self.cfg)?;
                let url = with_token(&format!("{base}/{api}"), &token);
                let (url, params, json) = match body {
                    AppBody::None => (url, None, false),
                    AppBody::Query(pairs) => {
                        (append_query(&url, &encode_pairs(pairs)), None, false)
                    }
                    AppBody::Json(b) => (url, Some(Params::Raw(b.clone())), true),
                };
                let req = self.request(url, *method, params, json)?;
                let mut all = refs.clone();
                all.push(&token);
                let ans = exchange(platform.name, &req, &all)?;
                if platform.stale_codes.contains(&ans.errcode) {
                    token_cache::invalidate(&key, &token);
                    crate::core::log::info(format!(
                        "{}: the platform called the access token of {} {} stale (errcode {}); \
                         it will be fetched again",
                        platform.name,
                        platform.id_label,
                        platform::shown_id(id),
                        ans.errcode
                    ));
                }
                Ok(ans)
            }
            Route::Robot {
                kind,
                url,
                secret,
                body,
                raw,
            } => {
                let mut url = url.clone();
                let mut bytes = match raw {
                    Some(r) => r.clone(),
                    None => body.to_string().into_bytes(),
                };
                match (kind, secret) {
                    (RobotKind::Dingtalk, Some(s)) => {
                        let ts = robot::now().as_millis();
                        let mut q = format!("timestamp={ts}&sign=").into_bytes();
                        percent_encode(dingtalk_sign(ts, s).as_bytes(), &mut q);
                        url = append_query(&url, &q);
                    }
                    (RobotKind::Feishu, Some(s)) => {
                        let mut v = body.clone();
                        if let Some(obj) = v.as_object_mut() {
                            let ts = robot::now().as_secs();
                            obj.insert(
                                "timestamp".into(),
                                serde_json::Value::String(ts.to_string()),
                            );
                            obj.insert(
                                "sign".into(),
                                serde_json::Value::String(feishu_sign(ts, s)),
                            );
                        }
                        bytes = v.to_string().into_bytes();
                    }
                    _ => {}
                }
                let req = self.request(url, Method::Post, Some(Params::Raw(bytes)), true)?;
                exchange(kind.name(), &req, &refs)
            }
        }
    }
}

/// Robots' "too frequent" answers: DingTalk 130101 (20 per minute exceeded), WeCom robot
/// 45009, Feishu 99991400 (with HTTP 429).
const ROBOT_SLOW_DOWN: &[i64] = &[130101, 45009, 99991400, 9499];

impl Deliverable for Outgoing {
    fn function(&self) -> &'static str {
        self.function
    }

    fn target(&self) -> String {
        match &self.route {
            Route::App {
                platform, id, api, ..
            } => format!(
                "{} {} {} /{api}",
                platform.name,
                platform.id_label,
                platform::shown_id(id)
            ),
            Route::Robot { url, .. } => robot::shown_webhook(url),
        }
    }

    fn destination(&self) -> (String, RateLimit) {
        match &self.route {
            Route::App {
                platform, id, base, ..
            } => (
                format!("{}|{base}|{id}", platform.key),
                self.cfg.rate_limit.clone().unwrap_or_default(),
            ),
            Route::Robot { kind, url, .. } => (
                format!("robot|{url}"),
                self.cfg
                    .rate_limit
                    .clone()
                    .unwrap_or_else(|| kind.documented_limit()),
            ),
        }
    }

    fn attempt_timeout_ms(&self) -> u64 {
        self.cfg.timeout_ms
    }

    fn attempt(&self) -> Attempt {
        let ans = match self.exchange_once() {
            Ok(a) => a,
            Err(e) => {
                return if e.cause().is_transient() {
                    Attempt::Transient(e)
                } else {
                    Attempt::Failed(e)
                }
            }
        };
        classify(self, ans)
    }
}

fn classify(o: &Outgoing, ans: Answer) -> Attempt {
    let reset = ans.ratelimit_reset.map(Duration::from_secs);
    let slow_codes: &[i64] = match &o.route {
        Route::App { platform, .. } => platform.slow_down_codes,
        Route::Robot { .. } => ROBOT_SLOW_DOWN,
    };
    if let Route::App { platform, .. } = &o.route {
        if platform.stale_codes.contains(&ans.errcode) {
            return Attempt::StaleToken(Delivered::Answer(ans));
        }
    }
    if ans.response_code == 429 || slow_codes.contains(&ans.errcode) {
        // DingTalk blocks a robot that exceeded its limit for a while: wait a window.
        let wait = reset.or_else(|| (ans.errcode == 130101).then(|| Duration::from_secs(60)));
        crate::core::log::warning(format!(
            "{}: {} asked to slow down (HTTP {}, errcode {}){}",
            o.function,
            o.platform_name(),
            ans.response_code,
            ans.errcode,
            wait.map(|w| format!("; waiting {} s", w.as_secs()))
                .unwrap_or_default()
        ));
        return Attempt::SlowDown(Delivered::Answer(ans), wait);
    }
    Attempt::Done(Delivered::Answer(ans))
}
