//! Every example script runs, top to bottom, and does what it says. The directory examples/
//! is enumerated: a `.dos` file this test does not know fails it (and so does one it knows
//! that is gone). Each script goes through a small evaluator of DolphinDB script
//! (tests/common/script.rs); its `httpClient::…` calls and `loadPlugin` go to the real plugin
//! in the test host ([`host::Session`]), in every host of [`host::VERSIONS`]. The scripts talk
//! to local stand-ins — the platform emulator (WeCom, DingTalk, Feishu and their robots), a
//! real SMTP server (aiosmtpd) and an HTTP proxy — and after each script the test asserts
//! what those peers received.
//!
//! How the scripts reach the stand-ins without a change to their calls:
//! - Placeholders in string literals (`YOUR_CORP_ID`, `YOUR_APP_SECRET`, …) become the
//!   emulator's credentials, per script (`YOUR_APP_SECRET` is WeCom's in the WeCom scripts,
//!   DingTalk's in the DingTalk ones). Each placeholder must occur in its script.
//! - httpGet/httpPost/httpPut/httpDelete: a URL on `https://qyapi.weixin.qq.com`,
//!   `https://oapi.dingtalk.com` or `https://open.feishu.cn` is rewritten to the emulator.
//! - wecomSend/dingtalkSend/robotSend: config `baseUrl` = the emulator, added to a copy of the
//!   script's config dictionary, or passed as the config when the call has none. Chosen over
//!   rewriting strings because these calls often have no URL to rewrite — wecomSend,
//!   dingtalkSend and robotSend with a bare WeCom key build the platform's URL inside the
//!   plugin — and because `baseUrl` is the plugin's documented way to a gateway: the plugin
//!   itself puts the scheme and host in front of the path, as for a user.
//! - emailSmtpConfig: the (host, port) of the SMTP server is rewritten to the local peer;
//!   since the port is then no longer 465, where "auto" means implicit TLS, option
//!   tls = "tls" is passed for what was port 465. A built-in mail domain (qq.com) is pointed
//!   at the peer by an emailSmtpConfig call before the script, as an operator would. The
//!   host's system trust store (SSL_CERT_FILE) is the first peer's CA; a second peer's CA
//!   comes only from the script's own caFile.
#[path = "common/host.rs"]
mod host;
#[path = "common/http_peer.rs"]
mod http_peer;
#[path = "common/platform_emulator.rs"]
mod platform_emulator;
#[path = "common/script.rs"]
mod script;
#[path = "common/smtp_peer.rs"]
mod smtp_peer;

use host::{entry, lit, parse_ok, text, Session, VERSIONS};
use http_peer::ProxyPeer;
use platform_emulator::*;
use script::{Dict, Outcome, Value};
use serde_json::{json, Value as Json};
use smtp_peer::{SmtpPeer, SMTP_PASSWORD};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

/// The examples this test knows, each with its stand-ins and checks in [`spec`].
const KNOWN: [&str; 11] = [
    "00_load_plugin.dos",
    "dingtalk_group_chat_builtin.dos",
    "dingtalk_group_chat_plain.dos",
    "email_send.dos",
    "email_smtp_config.dos",
    "robots_builtin.dos",
    "stream_alert.dos",
    "wecom_app_message_builtin.dos",
    "wecom_app_message_plain.dos",
    "wecom_group_chat_builtin.dos",
    "wecom_group_chat_plain.dos",
];

const PLATFORMS: [&str; 3] = [
    "https://qyapi.weixin.qq.com",
    "https://oapi.dingtalk.com",
    "https://open.feishu.cn",
];
const TEST_TEXT: &str = "这是一条测试信息 / This is a test message";
const STREAM_ROBOT: &str = "lim-stream-alert";

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// The `.dos` files of examples/, sorted.
fn example_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(examples_dir())
        .expect("examples/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".dos"))
        .collect();
    files.sort();
    files
}

// ---------------------------------------------------------------------------------------
// The plugin, as the evaluator sees it: the test host

/// One `httpClient::…` line sent to the host, and its answer.
struct Called {
    function: String,
    line: String,
    result: String,
}

/// An SMTP server address of a script, and the local peer port it is rewritten to.
struct SmtpRoute {
    host: &'static str,
    port: i64,
    to_port: u16,
}

struct HostPlugin {
    id: String,
    env: Vec<(String, String)>,
    session: Option<Session>,
    base_url: String,
    smtp_routes: Vec<SmtpRoute>,
    calls: Vec<Called>,
}

impl HostPlugin {
    fn start_session(&mut self) {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.session = Some(Session::start(&self.id, &env));
    }

    /// The arguments as they go to the host: addresses of the platforms and SMTP servers
    /// pointed at the stand-ins (see the top of this file).
    fn route(&self, function: &str, args: &[Value]) -> Vec<Value> {
        let mut args = args.to_vec();
        match function {
            "httpGet" | "httpPost" | "httpPut" | "httpDelete" => {
                if let Some(Value::Str(url)) = args.first_mut() {
                    if let Some(rest) = PLATFORMS.iter().find_map(|p| url.strip_prefix(p)) {
                        *url = format!("{}{rest}", self.base_url);
                    }
                }
            }
            "wecomSend" | "dingtalkSend" | "robotSend" => {
                let mut config = match args.get(4) {
                    Some(Value::Dict(d)) => d.borrow().clone(),
                    _ => Dict::default(),
                };
                if config.get("baseUrl").is_none() {
                    config.set("baseUrl", Value::Str(self.base_url.clone()));
                }
                args.resize(4, Value::Nothing);
                args.push(Value::Dict(Rc::new(RefCell::new(config))));
            }
            "emailSmtpConfig" => {
                let (host, port) = (
                    args.get(1).and_then(Value::str),
                    args.get(2).and_then(Value::int),
                );
                let route = self
                    .smtp_routes
                    .iter()
                    .find(|r| Some(r.host) == host && Some(r.port) == port);
                if let Some(r) = route {
                    args[1] = Value::Str("127.0.0.1".into());
                    args[2] = Value::Int(r.to_port.into());
                    if r.port == 465 {
                        let mut options = match args.get(3) {
                            Some(Value::Dict(d)) => d.borrow().clone(),
                            _ => Dict::default(),
                        };
                        options.set("tls", Value::Str("tls".into()));
                        args.resize(3, Value::Nothing);
                        args.push(Value::Dict(Rc::new(RefCell::new(options))));
                    }
                }
            }
            _ => {}
        }
        args
    }
}

impl script::Plugin for HostPlugin {
    fn load(&mut self, path: &str) -> Result<Value, String> {
        if !path.ends_with("/PluginHttpClient.txt") {
            return Err(format!("loadPlugin: {path} is not the plugin's descriptor"));
        }
        if self.session.is_some() {
            return Err("loadPlugin: the plugin is already loaded".into());
        }
        self.start_session();
        self.calls.push(Called {
            function: "loadPlugin".into(),
            line: format!("loadPlugin({})", lit(path)),
            result: "OK".into(),
        });
        Ok(Value::Null)
    }

    fn call(&mut self, function: &str, args: &[Value]) -> Result<Value, String> {
        let args = self.route(function, args);
        let literals = args.iter().map(literal).collect::<Result<Vec<_>, _>>()?;
        let line = format!("httpClient::{function}({})", literals.join(", "));
        let Some(session) = self.session.as_mut() else {
            return Err(format!(
                "Can't recognize function name httpClient::{function} (the plugin is not loaded)"
            ));
        };
        let result = session.call(&line);
        self.calls.push(Called {
            function: function.into(),
            line,
            result: result.clone(),
        });
        match result.strip_prefix("OK ") {
            Some(json) => from_result(&serde_json::from_str(json).map_err(|e| e.to_string())?),
            None => Err(result.trim_start_matches("ERR ").to_string()),
        }
    }
}

/// A value as a literal of the host's call lines (host/README.md).
fn literal(v: &Value) -> Result<String, String> {
    let list = |items: &[Value]| -> Result<String, String> {
        Ok(items
            .iter()
            .map(literal)
            .collect::<Result<Vec<_>, _>>()?
            .join(", "))
    };
    Ok(match v {
        Value::Nothing => String::new(),
        Value::Null => "NULL".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Long(n) => format!("{n}l"),
        Value::Double(d) if d.is_finite() => format!("{d:?}"),
        Value::Str(s) => lit(s),
        Value::Symbol(s)
            if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            format!("`{s}")
        }
        Value::Symbol(s) => lit(s),
        Value::Timestamp(ms) => script::format_timestamp(*ms),
        Value::Vector(items) => format!("[{}]", list(items)?),
        Value::Dict(d) => {
            let d = d.borrow();
            let entries = d
                .entries
                .iter()
                .map(|(k, v)| Ok(format!("{}: {}", lit(k), literal(v)?)))
                .collect::<Result<Vec<_>, String>>()?;
            format!("{{{}}}", entries.join(", "))
        }
        other => {
            return Err(format!(
                "{other:?} cannot be passed to the plugin by the test host"
            ))
        }
    })
}

/// A host-printed string (one char per byte) as text.
fn host_text(v: &Json) -> String {
    let bytes: Vec<u8> = v
        .as_str()
        .unwrap_or_default()
        .chars()
        .map(|c| c as u32 as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A scalar of type `ty` as the host renders it (untagged, in a vector or tagged).
fn scalar(ty: &str, v: &Json) -> Result<Value, String> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let bad = || format!("a {ty} result {v}");
    Ok(match ty {
        "STRING" | "BLOB" => Value::Str(host_text(v)),
        "SYMBOL" => Value::Symbol(host_text(v)),
        "BOOL" => Value::Bool(v.as_bool().ok_or_else(bad)?),
        "INT" | "SHORT" | "CHAR" => Value::Int(v.as_i64().ok_or_else(bad)?),
        "LONG" => Value::Long(v.as_i64().ok_or_else(bad)?),
        "DOUBLE" | "FLOAT" => Value::Double(v.as_f64().ok_or_else(bad)?),
        "TIMESTAMP" | "DATE" => {
            Value::Timestamp(script::parse_timestamp(&host_text(v)).ok_or_else(bad)?)
        }
        _ => return Err(format!("the evaluator has no {ty} values: {v}")),
    })
}

/// The host's JSON rendering of a result as an evaluator value.
fn from_result(j: &Json) -> Result<Value, String> {
    let tagged = j
        .as_array()
        .filter(|a| a.len() == 2)
        .and_then(|a| Some((a[0].as_str()?, &a[1])));
    match (j, tagged) {
        (Json::Null, _) => Ok(Value::Null),
        (Json::Object(m), _) => {
            let mut d = Dict::default();
            for (k, v) in m {
                d.set(&host_text(&Json::String(k.clone())), from_result(v)?);
            }
            Ok(Value::Dict(Rc::new(RefCell::new(d))))
        }
        (_, Some(("TABLE", cols))) => {
            let mut t = script::Table::default();
            for c in cols.as_array().ok_or("a table's columns")? {
                t.names.push(host_text(&c[0]));
                let Value::Vector(items) = from_result(&c[1])? else {
                    return Err(format!("a table column {c}"));
                };
                t.types.push(
                    c[1][0]
                        .as_str()
                        .unwrap_or("")
                        .trim_start_matches("VECTOR ")
                        .into(),
                );
                t.columns.push(items);
            }
            Ok(Value::Table(Rc::new(RefCell::new(t))))
        }
        (_, Some((ty, items))) if ty.starts_with("VECTOR ") => {
            let ty = &ty["VECTOR ".len()..];
            let items = items.as_array().ok_or("vector items")?;
            let values = items
                .iter()
                .map(|x| {
                    if ty == "ANY" {
                        from_result(x)
                    } else {
                        scalar(ty, x)
                    }
                })
                .collect::<Result<_, _>>()?;
            Ok(Value::Vector(values))
        }
        (_, Some(("VOID", _))) => Ok(Value::Null),
        (_, Some((ty, v))) => scalar(ty, v),
        _ => Err(format!("an unknown result {j}")),
    }
}

// ---------------------------------------------------------------------------------------
// The stand-ins and what each example must have done to them

struct World {
    id: String,
    emu: PlatformEmulator,
    proxy: ProxyPeer,
    smtp: Vec<SmtpPeer>,
}

/// What a run left: the script's state and the plugin calls made.
struct Finished {
    outcome: Outcome,
    calls: Vec<Called>,
}

type Check = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

struct Spec<'w> {
    /// The plugin is loaded before the script (the others are run after 00_load_plugin.dos).
    preloaded: bool,
    placeholders: Vec<(String, String)>,
    smtp_routes: Vec<SmtpRoute>,
    /// Host lines run before the script: the operator's setup.
    setup: Vec<String>,
    check: Box<dyn Fn(&Finished) -> Check + 'w>,
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The SMTP users of a script's peers (one peer each).
fn smtp_users(file: &str) -> &'static [&'static str] {
    match file {
        "email_send.dos" => &["alerts@qq.com"],
        "email_smtp_config.dos" => &["alerts@example.com", "alerts@corp.example.com"],
        _ => &[],
    }
}

fn global<'a>(f: &'a Finished, name: &str) -> Result<&'a Value, String> {
    f.outcome
        .globals
        .get(name)
        .ok_or_else(|| format!("the script has no variable {name}"))
}

/// The one request received on `path`, or an error naming how many.
fn only(emu: &PlatformEmulator, path: &str) -> Result<Recorded, String> {
    let got: Vec<Recorded> = emu
        .requests()
        .into_iter()
        .filter(|r| r.path == path)
        .collect();
    ensure!(got.len() == 1, "{path}: {} requests, expected 1", got.len());
    Ok(got.into_iter().next().unwrap_or_else(|| unreachable!()))
}

fn one_gettoken(emu: &PlatformEmulator, p: Platform) -> Check {
    let n = emu.gettoken_calls(p);
    ensure!(
        n == 1,
        "{p:?} gettoken called {n} times: the token must be fetched once and reused"
    );
    Ok(())
}

fn wecom_group_chat(w: &World, f: &Finished) -> Check {
    one_gettoken(&w.emu, Platform::Wecom)?;
    let create = only(&w.emu, "/cgi-bin/appchat/create")?.json();
    ensure!(create["chatid"] == "YOURCHATID", "appchat/create: {create}");
    ensure!(
        create["userlist"].as_array().map(Vec::len) == Some(3),
        "appchat/create: {create}"
    );
    let send = only(&w.emu, "/cgi-bin/appchat/send")?;
    let body = send.json();
    // the chat id read back from appchat/create's answer (tutorial error 2)
    ensure!(
        global(f, "CHATID")?.str() == Some("YOURCHATID"),
        "CHATID is {:?}",
        global(f, "CHATID")?
    );
    ensure!(body["chatid"] == "YOURCHATID", "appchat/send: {body}");
    ensure!(body["text"]["content"] == TEST_TEXT, "appchat/send: {body}");
    ensure!(
        send.param("access_token") == w.emu.issued_tokens().first().cloned(),
        "appchat/send token"
    );
    Ok(())
}

fn dingtalk_group_chat(w: &World, f: &Finished) -> Check {
    one_gettoken(&w.emu, Platform::Dingtalk)?;
    let list = only(&w.emu, "/department/list")?;
    ensure!(
        list.method == "GET" && list.param("fetch_child").as_deref() == Some("true"),
        "department/list: {} ?{}",
        list.method,
        list.query
    );
    let members = only(&w.emu, "/user/getDeptMember")?;
    ensure!(
        members.method == "GET" && members.param("deptId").as_deref() == Some("123"),
        "user/getDeptMember: {} ?{}",
        members.method,
        members.query
    );
    let create = only(&w.emu, "/chat/create")?;
    let body = create.json();
    ensure!(
        create.method == "POST"
            && body["owner"] == "1"
            && body["useridlist"] == json!(["1", "2"])
            && body["name"] == "DolphinDB 告警群",
        "chat/create: {body}"
    );
    let send = only(&w.emu, "/chat/send")?.json();
    let chatid = global(f, "CHATID")?.str().unwrap_or_default().to_string();
    ensure!(
        chatid.starts_with("chat") && send["chatid"] == chatid.as_str(),
        "chat/send: {send}, CHATID {chatid}"
    );
    ensure!(
        send["msg"]["text"]["content"] == TEST_TEXT,
        "chat/send: {send}"
    );
    Ok(())
}

fn wecom_app_message(w: &World, sends: usize) -> Check {
    one_gettoken(&w.emu, Platform::Wecom)?;
    let got: Vec<Recorded> = w
        .emu
        .requests()
        .into_iter()
        .filter(|r| r.path == "/cgi-bin/message/send")
        .collect();
    ensure!(
        got.len() == sends,
        "message/send: {} requests, expected {sends}",
        got.len()
    );
    for r in got {
        let body = r.json();
        ensure!(
            body == json!({"touser": "@all", "agentid": 1000002, "msgtype": "text", "text": {"content": TEST_TEXT}}),
            "message/send body: {}",
            String::from_utf8_lossy(&r.body)
        );
        ensure!(
            r.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "message/send content type"
        );
    }
    Ok(())
}

/// The rows of a table as (sym, price), for the stream example.
fn trades(t: &script::Table) -> Result<Vec<(String, f64)>, String> {
    let (Some(sym), Some(price)) = (t.column("sym"), t.column("price")) else {
        return Err("trades has no sym or price column".into());
    };
    sym.iter()
        .zip(price)
        .map(|(s, p)| match (s.str(), p) {
            (Some(s), Value::Double(p)) => Ok((s.to_string(), *p)),
            _ => Err(format!("a trade {s:?} {p:?}")),
        })
        .collect()
}

fn stream_alert(w: &World, f: &Finished) -> Check {
    let batches: Vec<Vec<(String, f64)>> = f
        .outcome
        .appended
        .iter()
        .filter(|(name, _)| name == "trades")
        .map(|(_, t)| trades(t))
        .collect::<Result<_, _>>()?;
    let handled = f
        .outcome
        .handled
        .iter()
        .filter(|(a, _)| a == "priceAlert")
        .count();
    ensure!(
        handled == batches.len(),
        "the handler ran {handled} times for {} inserts",
        batches.len()
    );
    // the example must exercise the filter: a batch with nothing over the limit, one with several
    let over = |b: &Vec<(String, f64)>| b.iter().filter(|(_, p)| *p > 100.0).count();
    ensure!(
        batches.iter().any(|b| over(b) == 0) && batches.iter().any(|b| over(b) >= 2),
        "the example's trades do not exercise the filter: {batches:?}"
    );
    let expected: Vec<&Vec<(String, f64)>> = batches.iter().filter(|b| over(b) > 0).collect();
    let log = w.emu.robot_log(STREAM_ROBOT);
    ensure!(
        log.len() == expected.len(),
        "the robot got {} messages, expected {} (one per batch with a trade over 100): {:?}",
        log.len(),
        expected.len(),
        log.iter().map(|m| m.text()).collect::<Vec<_>>()
    );
    for (m, batch) in log.iter().zip(expected) {
        let text = m.text();
        ensure!(m.accepted, "a message was refused: {text}");
        for (sym, price) in batch {
            let shown = format!("{sym} {}", Value::Double(*price).text());
            ensure!(
                text.contains(&shown) == (*price > 100.0),
                "message {text:?} and trade {shown}"
            );
        }
    }
    for c in f.calls.iter().filter(|c| c.function == "robotSend") {
        let queued = parse_ok(&c.result).get("queued").cloned();
        ensure!(
            queued == Some(json!(["BOOL", true])),
            "robotSend not queued: {}",
            c.result
        );
    }
    ensure!(
        global(f, "pending")?.int() == Some(0),
        "flush left {:?} pending",
        global(f, "pending")?
    );
    let failed = global(f, "failed")?
        .table()
        .ok_or("failed is not a table")?;
    ensure!(failed.rows() == 0, "deliveries failed: {failed:?}");
    let d = global(f, "d")?.table().ok_or("d is not a table")?;
    let status = d.column("status").ok_or("deliveries() has no status")?;
    ensure!(
        d.rows() == log.len() && status.iter().all(|s| s.str() == Some("sent")),
        "deliveries(): {d:?}"
    );
    Ok(())
}

fn robots(w: &World) -> Check {
    let texts = |id: &str| -> Result<Vec<Json>, String> {
        let log = w.emu.robot_log(id);
        ensure!(
            log.iter().all(|m| m.accepted),
            "robot {id}: a message was refused"
        );
        Ok(log.into_iter().map(|m| m.body).collect())
    };
    let alert = "DolphinDB 告警: 行情延迟 3 秒";
    let wecom = texts(WECOM_ROBOT_KEY)?;
    ensure!(wecom.len() == 3, "WeCom robot: {wecom:?}");
    ensure!(
        wecom[0] == json!({"msgtype": "text", "text": {"content": alert}}),
        "WeCom text: {}",
        wecom[0]
    );
    ensure!(
        wecom[1]["markdown"]["content"] == "**DolphinDB 告警**: 行情延迟 3 秒",
        "WeCom markdown: {}",
        wecom[1]
    );
    ensure!(
        wecom[2]["text"]["content"] == "via proxy",
        "WeCom via proxy: {}",
        wecom[2]
    );
    // the emulator checks the DingTalk and Feishu signatures before it logs a message
    let ding = texts(DING_ROBOT_TOKEN)?;
    ensure!(
        ding.len() == 2 && ding[0]["text"]["content"] == alert && ding[1]["at"]["isAtAll"] == true,
        "DingTalk robot: {ding:?}"
    );
    let feishu = texts(FEISHU_HOOK_ID)?;
    ensure!(
        feishu.len() == 2
            && feishu[0]["content"]["text"] == alert
            && feishu[1]["content"]["post"]["zh_cn"]["title"] == "DolphinDB 告警",
        "Feishu bot: {feishu:?}"
    );
    let via = w.proxy.requests();
    let target = format!(
        "{}/cgi-bin/webhook/send?key={WECOM_ROBOT_KEY}",
        w.emu.base_url()
    );
    ensure!(
        via.len() == 1 && via[0].method == "POST" && via[0].target == target,
        "proxy: {via:?}"
    );
    Ok(())
}

fn mail(peer: &SmtpPeer, from: &str, sent: &[(&str, &[&str], &str)], port: u16) -> Check {
    let got = peer.wait_messages(sent.len());
    ensure!(
        got.len() == sent.len(),
        "{} mails arrived, expected {}",
        got.len(),
        sent.len()
    );
    for (m, (subject, to, body)) in got.iter().zip(sent) {
        ensure!(
            m.mail_from == from && m.auth_user.as_deref() == Some(from),
            "mail from {} (auth {:?})",
            m.mail_from,
            m.auth_user
        );
        ensure!(
            m.rcpt_tos == *to,
            "mail to {:?}, expected {to:?}",
            m.rcpt_tos
        );
        ensure!(
            m.subject.as_deref() == Some(*subject),
            "subject {:?}",
            m.subject
        );
        ensure!(
            m.body.as_deref().unwrap_or("").contains(body),
            "body {:?}",
            m.body
        );
        ensure!(
            m.tls && m.port == port,
            "mail on port {} tls {}, expected port {port}",
            m.port,
            m.tls
        );
    }
    Ok(())
}

fn spec<'w>(file: &str, w: &'w World) -> Spec<'w> {
    let plain = |placeholders: Vec<(String, String)>,
                 check: Box<dyn Fn(&Finished) -> Check + 'w>| Spec {
        preloaded: true,
        placeholders,
        smtp_routes: Vec::new(),
        setup: Vec::new(),
        check,
    };
    let wecom = || {
        pairs(&[
            ("YOUR_CORP_ID", WECOM_CORP_ID),
            ("YOUR_APP_SECRET", WECOM_CORP_SECRET),
        ])
    };
    let ding = || {
        pairs(&[
            ("YOUR_APP_KEY", DING_APP_KEY),
            ("YOUR_APP_SECRET", DING_APP_SECRET),
            ("YOUR_DEPARTMENT_NAME", "服务端开发组"),
        ])
    };
    match file {
        "00_load_plugin.dos" => Spec {
            preloaded: false,
            ..plain(
                Vec::new(),
                Box::new(move |f| {
                    let names: Vec<&str> = f.calls.iter().map(|c| c.function.as_str()).collect();
                    ensure!(names == ["loadPlugin", "version"], "calls: {names:?}");
                    let v = parse_ok(&f.calls[1].result);
                    ensure!(
                        text(entry(&v, "abi").1) == host::version_of(&w.id),
                        "version(): {v}"
                    );
                    let cxx = text(entry(&v, "cxxAbi").1);
                    ensure!(
                        (host::flavour_of(&w.id) == "cxx11") == cxx.contains("cxx11"),
                        "cxxAbi {cxx}"
                    );
                    ensure!(
                        text(entry(&v, "selfCheck").1).starts_with("passed"),
                        "version(): {v}"
                    );
                    Ok(())
                }),
            )
        },
        "wecom_app_message_plain.dos" => plain(wecom(), Box::new(move |_| wecom_app_message(w, 1))),
        "wecom_app_message_builtin.dos" => {
            plain(wecom(), Box::new(move |_| wecom_app_message(w, 2)))
        }
        "wecom_group_chat_plain.dos" | "wecom_group_chat_builtin.dos" => {
            plain(wecom(), Box::new(move |f| wecom_group_chat(w, f)))
        }
        "dingtalk_group_chat_plain.dos" | "dingtalk_group_chat_builtin.dos" => {
            plain(ding(), Box::new(move |f| dingtalk_group_chat(w, f)))
        }
        "robots_builtin.dos" => plain(
            pairs(&[
                ("YOUR_WEBHOOK_KEY", WECOM_ROBOT_KEY),
                ("YOUR_ROBOT_ACCESS_TOKEN", DING_ROBOT_TOKEN),
                ("SECYOUR_ROBOT_SECRET", DING_ROBOT_SECRET),
                ("YOUR_HOOK_ID", FEISHU_HOOK_ID),
                ("YOUR_FEISHU_SECRET", FEISHU_SECRET),
                ("YOUR_PROXY_HOST:3128", &w.proxy.addr().to_string()),
            ]),
            Box::new(move |_| robots(w)),
        ),
        "stream_alert.dos" => plain(
            pairs(&[("YOUR_WEBHOOK_KEY", STREAM_ROBOT)]),
            Box::new(move |f| stream_alert(w, f)),
        ),
        "email_send.dos" => {
            let peer = &w.smtp[0];
            Spec {
                setup: vec![format!(
                    "httpClient::emailSmtpConfig(\"qq.com\", \"127.0.0.1\", {}, {{\"tls\": \"tls\"}})",
                    peer.tls_port
                )],
                ..plain(
                    pairs(&[("YOUR_ACCOUNT@qq.com", "alerts@qq.com"), ("YOUR_SMTP_AUTH_CODE", SMTP_PASSWORD)]),
                    Box::new(move |f| {
                        let many: &[&str] = &["recipient1@example.com", "recipient2@example.com", "recipient3@example.com"];
                        mail(peer, "alerts@qq.com", &[
                            ("This is a subject", &["recipient@example.com"], "It is a text"),
                            ("DolphinDB 告警", many, "<b>行情延迟 3 秒</b><br/>请检查行情源。"),
                        ], peer.tls_port)?;
                        let res = global(f, "res")?.dict().ok_or("res is not a dictionary")?;
                        let recipient = res.get("recipient").and_then(Value::str).unwrap_or_default();
                        ensure!(recipient == many.join(" "), "res[\"recipient\"] = {recipient:?}");
                        Ok(())
                    }),
                )
            }
        }
        "email_smtp_config.dos" => {
            let (company, relay) = (&w.smtp[0], &w.smtp[1]);
            Spec {
                smtp_routes: vec![
                    SmtpRoute {
                        host: "smtp.example.com",
                        port: 465,
                        to_port: company.tls_port,
                    },
                    SmtpRoute {
                        host: "mail.corp.example.com",
                        port: 587,
                        to_port: relay.starttls_port,
                    },
                ],
                ..plain(
                    pairs(&[
                        ("YOUR_SMTP_PASSWORD", SMTP_PASSWORD),
                        ("/path/to/internal-ca.pem", &relay.ca_file),
                    ]),
                    Box::new(move |_| {
                        mail(
                            company,
                            "alerts@example.com",
                            &[("DolphinDB 告警", &["ops@example.com"], "行情延迟 3 秒")],
                            company.tls_port,
                        )?;
                        let to: &[&str] = &["ops@corp.example.com", "dev@corp.example.com"];
                        mail(
                            relay,
                            "alerts@corp.example.com",
                            &[("DolphinDB 告警", to, "<b>行情延迟 3 秒</b>")],
                            relay.starttls_port,
                        )
                    }),
                )
            }
        }
        other => panic!("{other} is in KNOWN but has no spec"),
    }
}

// ---------------------------------------------------------------------------------------
// Running

/// Runs one example in host `id`; Err says which and why, with the plugin calls made.
fn run_example(id: &str, file: &str) -> Result<(), String> {
    let smtp: Vec<SmtpPeer> = smtp_users(file)
        .iter()
        .map(|u| SmtpPeer::start(u))
        .collect();
    let world = World {
        id: id.to_string(),
        emu: PlatformEmulator::start(),
        proxy: ProxyPeer::start_open(),
        smtp,
    };
    let spec = spec(file, &world);
    let path = examples_dir().join(file);
    let source = std::fs::read_to_string(&path).map_err(|e| format!("{file}: {e}"))?;
    for (placeholder, _) in &spec.placeholders {
        ensure!(
            source.contains(placeholder.as_str()),
            "{file}: the placeholder {placeholder} is gone; update tests/examples.rs"
        );
    }
    let mut plugin = HostPlugin {
        id: id.to_string(),
        env: world
            .smtp
            .first()
            .map(|p| vec![("SSL_CERT_FILE".to_string(), p.ca_file.clone())])
            .unwrap_or_default(),
        session: None,
        base_url: world.emu.base_url(),
        smtp_routes: spec.smtp_routes,
        calls: Vec::new(),
    };
    if spec.preloaded {
        plugin.start_session();
    }
    for line in &spec.setup {
        let s = plugin.session.as_mut().expect("a preloaded session");
        let out = s.call(line);
        ensure!(out.starts_with("OK "), "{id} {file}: setup {line} -> {out}");
    }
    let shown = format!("examples/{file}");
    let result = script::run(&shown, &source, &spec.placeholders, &mut plugin);
    let calls: Vec<String> = plugin
        .calls
        .iter()
        .map(|c| format!("    {}\n      -> {}", c.line, c.result))
        .collect();
    let context = |e: String| format!("{id}: {e}\n  plugin calls:\n{}", calls.join("\n"));
    let outcome = result.map_err(context)?;
    if std::env::var_os("EXAMPLES_VERBOSE").is_some() {
        eprintln!(
            "{id} {shown}:\n  plugin calls:\n{}\n  printed: {:?}",
            calls.join("\n"),
            outcome.printed
        );
    }
    if let Some(session) = plugin.session.take() {
        session.finish();
    }
    let finished = Finished {
        outcome,
        calls: std::mem::take(&mut plugin.calls),
    };
    (spec.check)(&finished).map_err(|e| context(format!("{shown}: ran, but {e}")))
}

/// Every example in host `id`.
fn run_all(id: &str) {
    let started = Instant::now();
    let failures: Vec<String> = example_files()
        .iter()
        .filter_map(|f| match KNOWN.contains(&f.as_str()) {
            true => {
                let t = Instant::now();
                let r = run_example(id, f).err();
                eprintln!("{id} {f}: {:?}", t.elapsed());
                r
            }
            false => Some(format!(
                "examples/{f} is not run by tests/examples.rs: add it to KNOWN and spec"
            )),
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    eprintln!("{id}: {} examples in {:?}", KNOWN.len(), started.elapsed());
}

#[test]
fn every_example_is_known_to_this_test_and_listed_in_the_examples_readme() {
    let files = example_files();
    let unknown: Vec<&String> = files
        .iter()
        .filter(|f| !KNOWN.contains(&f.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "examples not run by tests/examples.rs (add them to KNOWN and spec): {unknown:?}"
    );
    let gone: Vec<&&str> = KNOWN
        .iter()
        .filter(|k| !files.iter().any(|f| f == *k))
        .collect();
    assert!(
        gone.is_empty(),
        "examples in KNOWN that are not in examples/: {gone:?}"
    );
    let readme =
        std::fs::read_to_string(examples_dir().join("README.md")).expect("examples/README.md");
    for f in &files {
        assert!(
            readme.lines().any(|l| l.starts_with(&format!("| `{f}` |"))),
            "examples/README.md's table has no row for {f}"
        );
    }
}

#[test]
fn the_examples_run_in_every_host_version_listed() {
    // one test per host below, so that they run in parallel
    assert_eq!(
        VERSIONS,
        ["1.30.19", "1.30.23", "2.00.16", "3.00.3", "3.00.2/cxx11"]
    );
}

#[test]
fn examples_in_1_30_19() {
    run_all(VERSIONS[0]);
}

#[test]
fn examples_in_1_30_23() {
    run_all(VERSIONS[1]);
}

#[test]
fn examples_in_2_00_16() {
    run_all(VERSIONS[2]);
}

#[test]
fn examples_in_3_00_3() {
    run_all(VERSIONS[3]);
}

#[test]
fn examples_in_3_00_2_cxx11() {
    run_all(VERSIONS[4]);
}

// ---------------------------------------------------------------------------------------
// The evaluator itself (no host)

/// Records the plugin calls and answers NULL.
#[derive(Default)]
struct Recorder(Vec<(String, Vec<String>)>);

impl script::Plugin for Recorder {
    fn load(&mut self, _: &str) -> Result<Value, String> {
        Err("loadPlugin: not here".into())
    }
    fn call(&mut self, function: &str, args: &[Value]) -> Result<Value, String> {
        if function == "fail" {
            return Err("httpClient::fail: as asked".into());
        }
        self.0
            .push((function.into(), args.iter().map(Value::text).collect()));
        Ok(Value::Null)
    }
}

#[test]
fn the_evaluator_fails_on_what_it_does_not_know_naming_file_and_line() {
    let cases = [
        ("x = 1\ndo { x = 2 } while (x < 3)", "t.dos:2: `do` is not supported"),
        ("x = 1\ny = x / 2", "t.dos:2: unexpected character '/'"),
        ("x = 1\n\ny = cumsum([x])", "t.dos:3: function cumsum is not supported"),
        ("t = table(1000:0, `a`b, [INT, INT])\nn = select count(*) from t", "t.dos:2: expected from"),
        ("x = 1.5f", "t.dos:1: unsupported number literal"),
        ("g = 1\ndef f() {\n\treturn g\n}\nf()", "t.dos:3: undefined variable g (in f, called at line 5)"),
        ("def f(d) {\n\td[\"k\"] = 1\n}\nf(dict(STRING, ANY))", "t.dos:2: d is an argument not declared mutable"),
        ("d = dict(STRING, STRING)\nd[\"k\"] = 1", "t.dos:2: d is a dict(STRING, STRING)"),
        ("x = \"a\" + 1", "t.dos:1: STRING + INT is not supported"),
        ("if (1) x = 2", "t.dos:1: a condition must be a BOOL"),
        ("x = 1\nhttpClient::fail(x)", "t.dos:2: httpClient::fail: as asked"),
        ("throw \"stop \" + string(3)", "t.dos:1: throw: stop 3"),
        ("assert 1 == 2", "t.dos:1: assert failed"),
        ("share table(1000:0, `a`b, [INT, INT]) as t\ndef h(msg) {\n\tthrow \"no\"\n}\nsubscribeTable(tableName=\"t\", actionName=\"a\", handler=h, msgAsTable=true)\ninsert into t values(1, 2)",
            "t.dos:3: throw: no (in h, called at line 6) (in the handler of a)"),
        ("share table(1000:0, `a`b, [INT, INT]) as t\nsubscribeTable(tableName=\"t\", actionName=\"a\", handler=print, msgAsTable=false)",
            "t.dos:2: subscribeTable: only msgAsTable=true is supported"),
        ("x = parseExpr(\"1 + 2\").eval()", "t.dos:1: parseExpr(…).eval(): the evaluator reads JSON only"),
        ("x = 1\nreturn x\ny = 2", "t.dos:2: return outside a function"),
        ("def f() {\n\tdef g() {\n\t\treturn 1\n\t}\n\treturn g()\n}\nf()", "t.dos:2: def g inside a block is not supported"),
    ];
    for (source, expected) in cases {
        let got = script::run("t.dos", source, &[], &mut Recorder::default());
        match got {
            Err(e) => assert!(
                e.contains(expected),
                "{source:?}\n  gave {e}\n  expected {expected}"
            ),
            Ok(_) => panic!("{source:?} ran; expected {expected}"),
        }
    }
}

#[test]
fn the_evaluator_calls_handlers_with_the_new_rows_and_keeps_the_servers_rules() {
    let source = r#"
        share streamTable(1000:0, `sym`price, [SYMBOL, DOUBLE]) as t
        def h(tag, mutable seen, msg) {
            seen["n"] = seen["n"] + size(msg)
            big = select * from msg where price > 1 and sym != `X
            if (size(big) > 0) httpClient::send(tag, concat(string(big.sym) + "=" + string(big.price), ";"))
        }
        seen = dict(STRING, ANY)
        seen["n"] = 0
        subscribeTable(tableName="t", actionName="a", offset=-1, handler=h{"k", seen}, msgAsTable=true)
        insert into t values(`A, 0.5)
        insert into t values([`B, `X, `C], [2, 3.0, 1.25])
        b = table(1000:0, `sym`price, [SYMBOL, DOUBLE])
        insert into b values(`D, 7)
        t.append!(b)
        unsubscribeTable(tableName="t", actionName="a")
        insert into t values(`E, 9.0)
        j = parseExpr('{"a": [1, {"b": "x"}], "c": 7000000000}').eval()
        r = [j["a"][1]["b"], string(j["c"]), string(0:2), string(size(j["a"][0:1]))]
        for (i in 0:2) r = r + "_" + string(i)
        undef("t", SHARED)
    "#;
    let mut rec = Recorder::default();
    let out = script::run("t.dos", source, &[("k".into(), "K".into())], &mut rec)
        .unwrap_or_else(|e| panic!("{e}"));
    let calls: Vec<String> = rec
        .0
        .iter()
        .map(|(f, a)| format!("{f}({})", a.join(", ")))
        .collect();
    // the string literal "k" was rewritten; no call for the batch under the limit, none for X,
    // none after unsubscribeTable
    assert_eq!(calls, ["send(K, B=2;C=1.25)", "send(K, D=7)"]);
    assert_eq!(
        out.handled,
        [
            ("a".to_string(), 1),
            ("a".to_string(), 3),
            ("a".to_string(), 1)
        ]
    );
    assert_eq!(out.appended.len(), 4, "four inserts into the shared table");
    let seen = out.globals["seen"].dict().expect("a dictionary");
    assert_eq!(
        seen.get("n").and_then(Value::int),
        Some(5),
        "a mutable argument changed in place"
    );
    let r: Vec<String> = match &out.globals["r"] {
        Value::Vector(v) => v.iter().map(Value::text).collect(),
        v => panic!("{v:?}"),
    };
    assert_eq!(r, ["x_0_1", "7000000000_0_1", "0:2_0_1", "1_0_1"]);
}
