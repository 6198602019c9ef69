//! An in-process emulator of the WeCom, DingTalk and Feishu open platforms (and their
//! group robots) for the messaging tests. It runs on its own tokio runtime (owned by the
//! value; dropped = stopped) on 127.0.0.1 with a free port; tests pass
//! [`PlatformEmulator::base_url`] as the messaging `baseUrl`.
//!
//! ```ignore
//! let emu = PlatformEmulator::start();
//! emu.set_expires_in(7200);                    // seconds given with each new token
//! emu.set_gettoken_delay_ms(200);              // gettoken answers late (concurrency tests)
//! emu.set_rate_limit(3, Duration::from_secs(60)); // > 3 gettoken in 60 s -> 45009
//! emu.expire_all_tokens();                     // issued tokens now answer 42001
//! emu.revoke_all_tokens();                     // issued tokens now answer 40014
//! emu.gettoken_calls(Platform::Wecom); emu.calls("/cgi-bin/message/send");
//! emu.requests();                              // everything received, in order
//! emu.throttle_next("lim-a", 1, 1);             // the next message to robot lim-a: limited
//! emu.robot_log("lim-a");                       // its messages: accepted or limited, when
//! ```
//!
//! Robot rate limits, as documented by the platforms, on a sliding window of the messages
//! each robot accepted: WeCom robot 20 per minute (then errcode 45009), DingTalk robot 20 per
//! minute (then errcode 130101), Feishu bot 5 per second and 100 per minute (then HTTP 429,
//! `x-ogw-ratelimit-reset: <seconds>`, code 99991400). Besides the fixed test robots below,
//! any robot id (WeCom key, DingTalk access_token, Feishu hook id) starting with `lim-` is a
//! valid unsigned robot, so that tests can use many independent destinations.
//!
//! Credentials: [`WECOM_CORP_ID`]/[`WECOM_CORP_SECRET`], [`DING_APP_KEY`]/[`DING_APP_SECRET`];
//! robots: [`WECOM_ROBOT_KEY`], [`DING_ROBOT_TOKEN`] signed with [`DING_ROBOT_SECRET`]
//! (set [`PlatformEmulator::set_ding_robot_signed`] false for an unsigned robot),
//! [`FEISHU_HOOK_ID`] signed with [`FEISHU_SECRET`] (unsigned when
//! [`PlatformEmulator::set_feishu_signed`] false).
//!
//! Routes: WeCom `GET /cgi-bin/gettoken`, `POST /cgi-bin/message/send`,
//! `/cgi-bin/appchat/create`, `/cgi-bin/appchat/send`, `/cgi-bin/always_stale` (always
//! 42001), `/cgi-bin/not_json` (an HTML 502 page), `POST /cgi-bin/webhook/send?key=`;
//! DingTalk `GET /gettoken`, `GET /department/list`, `GET /user/getDeptMember?deptId=`,
//! `GET /user/get?userid=`, `POST /chat/create`, `POST /chat/send`, `POST /robot/send`;
//! Feishu `POST /open-apis/bot/v2/hook/<id>`.
// Each test file includes only the helpers it needs.
#![allow(dead_code)]
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub const WECOM_CORP_ID: &str = "wwcorp0001";
pub const WECOM_CORP_SECRET: &str = "wecom-corp-secret-Zq81";
pub const DING_APP_KEY: &str = "dingappkey0001";
pub const DING_APP_SECRET: &str = "ding-app-secret-Xk42";
pub const WECOM_ROBOT_KEY: &str = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa";
pub const DING_ROBOT_TOKEN: &str = "dingrobottoken0123456789";
pub const DING_ROBOT_SECRET: &str = "SECdingrobotsecret0123";
pub const FEISHU_HOOK_ID: &str = "feishuhook-2f0b-4c1d-9e8a";
pub const FEISHU_SECRET: &str = "feishu-bot-secret-77";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    Wecom,
    Dingtalk,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The raw query (without `?`).
    pub query: String,
    /// Header names lower-case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
    /// A decoded query parameter.
    pub fn param(&self, name: &str) -> Option<String> {
        query_pairs(&self.query)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

struct TokenInfo {
    platform: Platform,
    expires_at: Instant,
}

struct State_ {
    tokens: HashMap<String, TokenInfo>,
    issued: Vec<String>,
    gettoken_calls: HashMap<Platform, usize>,
    gettoken_times: Vec<Instant>,
    rate_limit: Option<(usize, Duration)>,
    requests: Vec<Recorded>,
    calls: HashMap<String, usize>,
    chats: Vec<String>,
    ding_robot_signed: bool,
    feishu_signed: bool,
    /// The robots' documented limits enforced (off: a private gateway without limits).
    robot_limits: bool,
    /// Accepted messages per robot id (for the sliding windows).
    robot_arrivals: HashMap<String, Vec<Instant>>,
    /// Forced limit answers: robot id -> (answers left, reset seconds).
    throttle: HashMap<String, (usize, u64)>,
    robot_log: Vec<RobotMessage>,
}

/// One message a robot received.
#[derive(Debug, Clone)]
pub struct RobotMessage {
    pub id: String,
    pub at: Instant,
    /// Accepted (false: answered with the platform's rate-limit error).
    pub accepted: bool,
    pub body: Value,
}

impl RobotMessage {
    /// The text of a text message (any platform's shape).
    pub fn text(&self) -> String {
        let b = &self.body;
        b["text"]["content"]
            .as_str()
            .or_else(|| b["content"]["text"].as_str())
            .unwrap_or_default()
            .to_string()
    }
}

struct Shared {
    st: Mutex<State_>,
    expires_in: AtomicU64,
    gettoken_delay_ms: AtomicU64,
    counter: AtomicU64,
}

pub struct PlatformEmulator {
    rt: Option<tokio::runtime::Runtime>,
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Drop for PlatformEmulator {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl PlatformEmulator {
    pub fn start() -> PlatformEmulator {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let shared = Arc::new(Shared {
            st: Mutex::new(State_ {
                tokens: HashMap::new(),
                issued: Vec::new(),
                gettoken_calls: HashMap::new(),
                gettoken_times: Vec::new(),
                rate_limit: None,
                requests: Vec::new(),
                calls: HashMap::new(),
                chats: Vec::new(),
                ding_robot_signed: true,
                feishu_signed: true,
                robot_limits: true,
                robot_arrivals: HashMap::new(),
                throttle: HashMap::new(),
                robot_log: Vec::new(),
            }),
            expires_in: AtomicU64::new(7200),
            gettoken_delay_ms: AtomicU64::new(0),
            counter: AtomicU64::new(0),
        });
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        rt.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        PlatformEmulator {
            rt: Some(rt),
            addr,
            shared,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// `expires_in` (seconds) given with tokens issued from now on.
    pub fn set_expires_in(&self, secs: u64) {
        self.shared.expires_in.store(secs, Ordering::SeqCst);
    }
    /// gettoken answers after this delay.
    pub fn set_gettoken_delay_ms(&self, ms: u64) {
        self.shared.gettoken_delay_ms.store(ms, Ordering::SeqCst);
    }
    /// More than `max` gettoken calls (both platforms) within `window` -> errcode 45009.
    pub fn set_rate_limit(&self, max: usize, window: Duration) {
        self.st().rate_limit = Some((max, window));
    }
    pub fn set_ding_robot_signed(&self, signed: bool) {
        self.st().ding_robot_signed = signed;
    }
    pub fn set_feishu_signed(&self, signed: bool) {
        self.st().feishu_signed = signed;
    }
    /// Off: robots answer every message, like a private gateway without limits (the
    /// benchmark's throughput); forced answers ([`Self::throttle_next`]) still apply.
    pub fn set_robot_limits(&self, on: bool) {
        self.st().robot_limits = on;
    }
    /// The next `n` messages to robot `id` are answered with the platform's rate-limit error
    /// (Feishu: HTTP 429 with `x-ogw-ratelimit-reset: reset_secs`).
    pub fn throttle_next(&self, id: &str, n: usize, reset_secs: u64) {
        self.st().throttle.insert(id.to_string(), (n, reset_secs));
    }
    /// The messages robot `id` received, in order of arrival.
    pub fn robot_log(&self, id: &str) -> Vec<RobotMessage> {
        self.st()
            .robot_log
            .iter()
            .filter(|m| m.id == id)
            .cloned()
            .collect()
    }
    /// Every issued token is now expired (42001).
    pub fn expire_all_tokens(&self) {
        let past = Instant::now() - Duration::from_millis(1);
        for t in self.st().tokens.values_mut() {
            t.expires_at = past;
        }
    }
    /// Every issued token is now unknown (40014).
    pub fn revoke_all_tokens(&self) {
        self.st().tokens.clear();
    }
    /// gettoken calls received (successful or not).
    pub fn gettoken_calls(&self, p: Platform) -> usize {
        self.st().gettoken_calls.get(&p).copied().unwrap_or(0)
    }
    /// Requests received on `path`.
    pub fn calls(&self, path: &str) -> usize {
        self.st().calls.get(path).copied().unwrap_or(0)
    }
    /// All requests received, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.st().requests.clone()
    }
    /// The last request received on `path`.
    pub fn last(&self, path: &str) -> Option<Recorded> {
        self.st()
            .requests
            .iter()
            .rev()
            .find(|r| r.path == path)
            .cloned()
    }
    /// Every token issued so far.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.st().issued.clone()
    }
    fn st(&self) -> std::sync::MutexGuard<'_, State_> {
        self.shared.st.lock().unwrap()
    }
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn query_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (pct_decode(k), pct_decode(v)),
            None => (pct_decode(kv), String::new()),
        })
        .collect()
}

fn hmac_b64(key: &[u8], msg: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(msg);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn answer(v: Value) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json; charset=UTF-8")
        .body(Body::from(v.to_string()))
        .unwrap()
}

fn ok() -> Value {
    json!({"errcode": 0, "errmsg": "ok"})
}

fn new_token(shared: &Shared) -> String {
    let n = shared.counter.fetch_add(1, Ordering::SeqCst);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(n);
    let a = h.finish();
    format!("tok{a:016x}{n:04}")
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    let rec = Recorded {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    {
        let mut st = shared.st.lock().unwrap();
        st.requests.push(rec.clone());
        *st.calls.entry(rec.path.clone()).or_default() += 1;
    }
    let path = rec.path.as_str();
    match path {
        "/cgi-bin/gettoken" => {
            gettoken(&shared, &rec, Platform::Wecom, "corpid", "corpsecret").await
        }
        "/gettoken" => gettoken(&shared, &rec, Platform::Dingtalk, "appkey", "appsecret").await,
        "/cgi-bin/not_json" => Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .header("Content-Type", "text/html")
            .body(Body::from("<html><body>502 Bad Gateway</body></html>"))
            .unwrap(),
        "/cgi-bin/webhook/send" => {
            let key = rec.param("key").unwrap_or_default();
            if key != WECOM_ROBOT_KEY && !key.starts_with("lim-") {
                return answer(json!({"errcode": 93000, "errmsg": "invalid webhook url"}));
            }
            match serde_json::from_slice::<Value>(&rec.body) {
                Ok(v) if v.get("msgtype").is_some() => {
                    robot_limited(&shared, &key, v, Robot::Wecom).unwrap_or_else(|| answer(ok()))
                }
                _ => answer(json!({"errcode": 40008, "errmsg": "invalid message type"})),
            }
        }
        "/robot/send" => ding_robot(&shared, &rec),
        p if p.starts_with("/open-apis/bot/v2/hook/") => feishu_bot(&shared, &rec),
        p if p.starts_with("/cgi-bin/") => {
            if let Some(err) = check_token(&shared, &rec, Platform::Wecom) {
                return answer(err);
            }
            wecom_api(&shared, &rec)
        }
        _ => {
            if let Some(err) = check_token(&shared, &rec, Platform::Dingtalk) {
                return answer(err);
            }
            ding_api(&shared, &rec)
        }
    }
}

async fn gettoken(
    shared: &Arc<Shared>,
    rec: &Recorded,
    p: Platform,
    id_param: &str,
    secret_param: &str,
) -> Response {
    let delay = shared.gettoken_delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let (id, secret) = match p {
        Platform::Wecom => (WECOM_CORP_ID, WECOM_CORP_SECRET),
        Platform::Dingtalk => (DING_APP_KEY, DING_APP_SECRET),
    };
    let mut st = shared.st.lock().unwrap();
    *st.gettoken_calls.entry(p).or_default() += 1;
    let now = Instant::now();
    st.gettoken_times.push(now);
    if let Some((max, window)) = st.rate_limit {
        let n = st
            .gettoken_times
            .iter()
            .filter(|t| now.duration_since(**t) < window)
            .count();
        if n > max {
            return answer(json!({"errcode": 45009, "errmsg": "api freq out of limit"}));
        }
    }
    if rec.param(id_param).as_deref() != Some(id) {
        return answer(match p {
            Platform::Wecom => json!({"errcode": 40013, "errmsg": "invalid corpid"}),
            Platform::Dingtalk => {
                json!({"errcode": 40089, "errmsg": "不合法的appKey或appSecret的组合"})
            }
        });
    }
    if rec.param(secret_param).as_deref() != Some(secret) {
        return answer(match p {
            Platform::Wecom => json!({"errcode": 40001, "errmsg": "invalid credential"}),
            Platform::Dingtalk => {
                json!({"errcode": 40089, "errmsg": "不合法的appKey或appSecret的组合"})
            }
        });
    }
    let token = new_token(shared);
    let expires_in = shared.expires_in.load(Ordering::SeqCst);
    st.tokens.insert(
        token.clone(),
        TokenInfo {
            platform: p,
            expires_at: now + Duration::from_secs(expires_in),
        },
    );
    st.issued.push(token.clone());
    answer(json!({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": expires_in}))
}

fn check_token(shared: &Shared, rec: &Recorded, p: Platform) -> Option<Value> {
    let Some(tok) = rec.param("access_token") else {
        return Some(json!({"errcode": 41001, "errmsg": "access_token missing"}));
    };
    let st = shared.st.lock().unwrap();
    match st.tokens.get(&tok) {
        Some(t) if t.platform == p && Instant::now() < t.expires_at => None,
        Some(t) if t.platform == p => {
            Some(json!({"errcode": 42001, "errmsg": "access_token expired"}))
        }
        _ => Some(json!({"errcode": 40014, "errmsg": "invalid access_token"})),
    }
}

fn wecom_api(shared: &Shared, rec: &Recorded) -> Response {
    let body: Value = match serde_json::from_slice(&rec.body) {
        Ok(v) => v,
        Err(_) => return answer(json!({"errcode": 47001, "errmsg": "data format error"})),
    };
    match rec.path.as_str() {
        "/cgi-bin/always_stale" => {
            answer(json!({"errcode": 42001, "errmsg": "access_token expired"}))
        }
        "/cgi-bin/message/send" => {
            let touser = body["touser"].as_str().unwrap_or("");
            let invalid: Vec<&str> = touser
                .split('|')
                .filter(|u| u.starts_with("ghost"))
                .collect();
            if body.get("msgtype").is_none() {
                return answer(json!({"errcode": 41008, "errmsg": "missing msgtype"}));
            }
            let mut v = json!({"errcode": 0, "errmsg": "ok"});
            if !invalid.is_empty() {
                v["invaliduser"] = json!(invalid.join("|"));
            }
            v["msgid"] = json!(format!(
                "msg{}",
                shared.counter.fetch_add(1, Ordering::SeqCst)
            ));
            answer(v)
        }
        "/cgi-bin/appchat/create" => {
            let users = body["userlist"].as_array().map(|a| a.len()).unwrap_or(0);
            if users < 2 {
                return answer(json!({"errcode": 86004, "errmsg": "invalid userlist"}));
            }
            let chatid = body["chatid"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| {
                    format!("chat{}", shared.counter.fetch_add(1, Ordering::SeqCst))
                });
            shared.st.lock().unwrap().chats.push(chatid.clone());
            answer(json!({"errcode": 0, "errmsg": "ok", "chatid": chatid}))
        }
        "/cgi-bin/appchat/send" => {
            let chatid = body["chatid"].as_str().unwrap_or("");
            if !shared.st.lock().unwrap().chats.iter().any(|c| c == chatid) {
                return answer(json!({"errcode": 86003, "errmsg": "chat not found"}));
            }
            // The tutorial's answer, in its field order.
            Response::builder()
                .header("Content-Type", "application/json; charset=UTF-8")
                .body(Body::from(
                    r#"{"errcode":0,"errmsg":"ok","invaliduser":"","invalidparty":"1"}"#,
                ))
                .unwrap()
        }
        _ => answer(json!({"errcode": 60020, "errmsg": "api not found"})),
    }
}

fn ding_api(shared: &Shared, rec: &Recorded) -> Response {
    let is_json = rec
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"));
    match (rec.method.as_str(), rec.path.as_str()) {
        ("GET", "/department/list") => answer(json!({
            "errcode": 0, "errmsg": "ok",
            "department": [{"id": 123, "name": "服务端开发组", "parentid": 2,
                "createDeptGroup": false, "autoAddUser": false, "ext": "{\"deptNo\" : 2}"}]
        })),
        ("GET", "/user/getDeptMember") => match rec.param("deptId").as_deref() {
            Some("123") => answer(json!({"errcode": 0, "errmsg": "ok", "userIds": ["1", "2"]})),
            _ => answer(json!({"errcode": 60003, "errmsg": "部门不存在"})),
        },
        ("GET", "/user/get") => match rec.param("userid").as_deref() {
            Some(u @ ("1" | "2")) => answer(json!({
                "errcode": 0, "errmsg": "ok", "userid": u, "name": format!("user{u}"),
                "active": true, "orderInDepts": "{1:10}", "isAdmin": false
            })),
            _ => answer(json!({"errcode": 60121, "errmsg": "找不到该用户"})),
        },
        ("POST", "/chat/create") | ("POST", "/chat/send") if !is_json => answer(
            json!({"errcode": 43004, "errmsg": "需要POST请求, Content-Type: application/json"}),
        ),
        ("POST", "/chat/create") => {
            let body: Value = serde_json::from_slice(&rec.body).unwrap_or(Value::Null);
            let owner = body["owner"].as_str().unwrap_or("");
            let members: Vec<&str> = body["useridlist"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if body["name"].as_str().is_none() || !members.contains(&owner) {
                return answer(json!({"errcode": 34009, "errmsg": "群主必须为群成员"}));
            }
            let chatid = format!("chat{:020x}", shared.counter.fetch_add(1, Ordering::SeqCst));
            shared.st.lock().unwrap().chats.push(chatid.clone());
            answer(json!({"errcode": 0, "errmsg": "ok", "chatid": chatid, "conversationTag": 2}))
        }
        ("POST", "/chat/send") => {
            let body: Value = serde_json::from_slice(&rec.body).unwrap_or(Value::Null);
            let chatid = body["chatid"].as_str().unwrap_or("");
            if !shared.st.lock().unwrap().chats.iter().any(|c| c == chatid) {
                return answer(json!({"errcode": 34016, "errmsg": "会话不存在"}));
            }
            if body["msg"]["msgtype"].as_str().is_none() {
                return answer(json!({"errcode": 40035, "errmsg": "缺少参数 msg"}));
            }
            answer(json!({"errcode": 0, "errmsg": "ok", "messageId": "abcd"}))
        }
        _ => answer(json!({"errcode": 22, "errmsg": "api not found"})),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Robot {
    Wecom,
    Dingtalk,
    Feishu,
}

/// The platform's rate-limit answer when robot `id` is over its documented limit (or
/// throttled by the test); else records the message as accepted and returns None.
fn robot_limited(shared: &Shared, id: &str, body: Value, robot: Robot) -> Option<Response> {
    let now = Instant::now();
    let mut st = shared.st.lock().unwrap();
    let rules: &[(usize, Duration)] = match robot {
        Robot::Wecom | Robot::Dingtalk => &[(20, Duration::from_secs(60))],
        Robot::Feishu => &[(5, Duration::from_secs(1)), (100, Duration::from_secs(60))],
    };
    let mut reset: Option<u64> = None;
    if let Some((left, secs)) = st.throttle.get_mut(id) {
        if *left > 0 {
            *left -= 1;
            reset = Some(*secs);
        }
    }
    if reset.is_none() && st.robot_limits {
        let arrivals = st.robot_arrivals.entry(id.to_string()).or_default();
        for (max, window) in rules {
            let inside: Vec<&Instant> = arrivals.iter().filter(|t| now - **t < *window).collect();
            if inside.len() >= *max {
                let oldest = **inside.first().unwrap();
                let wait = (oldest + *window).saturating_duration_since(now);
                reset = Some(reset.unwrap_or(0).max(wait.as_secs() + 1));
            }
        }
    }
    let accepted = reset.is_none();
    if accepted {
        st.robot_arrivals
            .entry(id.to_string())
            .or_default()
            .push(now);
    }
    st.robot_log.push(RobotMessage {
        id: id.to_string(),
        at: now,
        accepted,
        body,
    });
    drop(st);
    let secs = reset?;
    Some(match robot {
        Robot::Wecom => answer(json!({"errcode": 45009, "errmsg": "api freq out of limit"})),
        Robot::Dingtalk => answer(
            json!({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}),
        ),
        Robot::Feishu => Response::builder()
            .status(StatusCode::TOO_MANY_REQUESTS)
            .header("Content-Type", "application/json")
            .header("x-ogw-ratelimit-limit", "5")
            .header("x-ogw-ratelimit-reset", secs.to_string())
            .body(Body::from(
                json!({"code": 99991400, "msg": "request trigger frequency limit", "data": {}})
                    .to_string(),
            ))
            .unwrap(),
    })
}

fn ding_robot(shared: &Shared, rec: &Recorded) -> Response {
    let token = rec.param("access_token").unwrap_or_default();
    if token != DING_ROBOT_TOKEN && !token.starts_with("lim-") {
        return answer(json!({"errcode": 300001, "errmsg": "token is not exist"}));
    }
    if token == DING_ROBOT_TOKEN && shared.st.lock().unwrap().ding_robot_signed {
        let ts = rec.param("timestamp").unwrap_or_default();
        let sign = rec.param("sign").unwrap_or_default();
        let ts_ok = ts
            .parse::<u128>()
            .is_ok_and(|t| now_ms().abs_diff(t) < 3_600_000);
        let expected = hmac_b64(
            DING_ROBOT_SECRET.as_bytes(),
            format!("{ts}\n{DING_ROBOT_SECRET}").as_bytes(),
        );
        if !ts_ok {
            return answer(json!({"errcode": 310000, "errmsg": "invalid timestamp"}));
        }
        if sign != expected {
            return answer(json!({"errcode": 310000, "errmsg": "sign not match"}));
        }
    }
    match serde_json::from_slice::<Value>(&rec.body) {
        Ok(v) if v.get("msgtype").is_some() => {
            robot_limited(shared, &token, v, Robot::Dingtalk).unwrap_or_else(|| answer(ok()))
        }
        _ => answer(json!({"errcode": 40035, "errmsg": "缺少参数 json"})),
    }
}

fn feishu_bot(shared: &Shared, rec: &Recorded) -> Response {
    let id = rec.path.trim_start_matches("/open-apis/bot/v2/hook/");
    if id != FEISHU_HOOK_ID && !id.starts_with("lim-") {
        return answer(
            json!({"code": 19001, "msg": "param invalid: incoming webhook access token invalid", "data": {}}),
        );
    }
    let body: Value = match serde_json::from_slice(&rec.body) {
        Ok(v) => v,
        Err(_) => return answer(json!({"code": 9499, "msg": "Bad Request", "data": {}})),
    };
    if id == FEISHU_HOOK_ID && shared.st.lock().unwrap().feishu_signed {
        let ts = body["timestamp"].as_str().unwrap_or("").to_string();
        let sign = body["sign"].as_str().unwrap_or("");
        let now_s = now_ms() / 1000;
        let ts_ok = ts.parse::<u128>().is_ok_and(|t| now_s.abs_diff(t) < 3600);
        let expected = hmac_b64(format!("{ts}\n{FEISHU_SECRET}").as_bytes(), b"");
        if !ts_ok || sign != expected {
            return answer(
                json!({"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time", "data": {}}),
            );
        }
    }
    if body["msg_type"].as_str().is_none() {
        return answer(json!({"code": 19002, "msg": "params error, msg_type need", "data": {}}));
    }
    if let Some(limited) = robot_limited(shared, id, body, Robot::Feishu) {
        return limited;
    }
    answer(
        json!({"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}),
    )
}
