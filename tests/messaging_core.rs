//! Messaging core against the in-process platform emulator.
mod common;

use common::core_values::{assert_cause, config, int, text};
use common::platform_emulator::*;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use PluginHttpClient::core::config::{ConfigValue, FromConfig};
use PluginHttpClient::core::delivery::pacing::RateLimit;
use PluginHttpClient::core::error::Cause;
use PluginHttpClient::core::http::Method;
use PluginHttpClient::core::messaging::*;

fn cfg(emu: &PlatformEmulator) -> MessagingConfig {
    config::<MessagingConfig>(&[("baseUrl", text(&emu.base_url()))]).unwrap()
}

/// [`cfg`] without the robots' client-side pacing (for tests that are not about it).
fn robot_cfg(emu: &PlatformEmulator) -> MessagingConfig {
    let mut c = cfg(emu);
    c.rate_limit = Some(RateLimit::none());
    c
}

fn wecom(emu: &PlatformEmulator, api: &str, body: &str) -> Answer {
    wecom_send(
        WECOM_CORP_ID,
        WECOM_CORP_SECRET,
        api,
        body.as_bytes(),
        &cfg(emu),
    )
    .unwrap()
}

fn field<'a>(a: &'a Answer, name: &str) -> &'a Scalar {
    a.field(name)
        .unwrap_or_else(|| panic!("no field {name} in {:?}", a.fields))
}

/// No secret, token or webhook key of the emulator appears in `msg`.
fn assert_clean(emu: &PlatformEmulator, msg: &str) {
    for s in [
        WECOM_CORP_SECRET,
        DING_APP_SECRET,
        WECOM_ROBOT_KEY,
        DING_ROBOT_TOKEN,
        DING_ROBOT_SECRET,
        FEISHU_HOOK_ID,
        FEISHU_SECRET,
    ] {
        assert!(!msg.contains(s), "secret in error message: {msg}");
    }
    for t in emu.issued_tokens() {
        assert!(!msg.contains(&t), "token in error message: {msg}");
    }
}

#[test]
fn config_parsing() {
    let c = config::<MessagingConfig>(&[]).unwrap();
    assert_eq!(c.timeout_ms, 5000);
    assert!(c.base_url.is_none() && !c.asynchronous);
    assert_eq!(
        (c.retries, c.rate_limit.clone(), c.method),
        (None, None, None)
    );
    let c = config::<MessagingConfig>(&[
        ("baseUrl", text("http://gw.local:8080/")),
        ("timeout", int(1500)),
        ("verifySSL", ConfigValue::Bool(false)),
        ("async", ConfigValue::Bool(true)),
        ("retries", int(2)),
        ("rateLimit", text("5/s, 100/min")),
        ("method", text("get")),
    ])
    .unwrap();
    assert_eq!(c.base_url.as_deref(), Some("http://gw.local:8080"));
    assert_eq!(c.timeout_ms, 1500);
    assert!(!c.http.verify_ssl && c.asynchronous);
    assert_eq!(c.retries, Some(2));
    assert_eq!(
        c.rate_limit,
        Some(RateLimit::parse("5/s, 100/min").unwrap())
    );
    assert_eq!(c.method, Some(Method::Get));
    // a number is messages per minute, 0 no pacing
    assert_eq!(
        config::<MessagingConfig>(&[("rateLimit", int(30))])
            .unwrap()
            .rate_limit,
        Some(RateLimit::per_minute(30))
    );
    assert_eq!(
        config::<MessagingConfig>(&[("rateLimit", int(0))])
            .unwrap()
            .rate_limit,
        Some(RateLimit::none())
    );
    // a queued message never waits without limit; one sent at once keeps timeout 0
    let queued = |asynchronous| {
        config::<MessagingConfig>(&[
            ("async", ConfigValue::Bool(asynchronous)),
            ("timeout", int(0)),
        ])
        .unwrap()
        .timeout_ms
    };
    assert_eq!(queued(true), QUEUED_ATTEMPT_MAX_MS);
    assert_eq!(queued(false), 0);
    // a DOUBLE that is whole is taken (as getLong would); a fraction is refused rather
    // than rounded to 0 (no pacing)
    let double = |d: f64| ConfigValue::Number {
        long: d as i64,
        double: d,
        integral: false,
    };
    assert_eq!(
        config::<MessagingConfig>(&[("rateLimit", double(20.0))])
            .unwrap()
            .rate_limit,
        Some(RateLimit::per_minute(20))
    );
    let e = config::<MessagingConfig>(&[("rateLimit", double(0.4))]).unwrap_err();
    assert_cause(&e, Cause::Argument);
    assert!(e.message().contains("rateLimit"), "{e}");

    let e = config::<MessagingConfig>(&[("nope", int(1))]).unwrap_err();
    assert_cause(&e, Cause::Argument);
    // the message names the key and lists the known ones
    assert!(
        e.message()
            .starts_with("config: unknown key 'nope'; known keys: "),
        "{e}"
    );
    for k in MessagingConfig::keys() {
        assert!(e.message().contains(k), "{e}");
    }
    for k in ["baseUrl", "rateLimit", "method", "caFile", "proxy"] {
        assert!(MessagingConfig::keys().contains(&k), "{k}");
    }
    // the HTTP `json` key belongs to the HTTP functions only
    assert_cause(
        &config::<MessagingConfig>(&[("json", ConfigValue::Bool(true))]).unwrap_err(),
        Cause::Argument,
    );
    for bad in [
        ("timeout", text("x")),
        ("baseUrl", text("ftp://gw")),
        ("baseUrl", text("http://gw:99999")),
        ("rateLimit", text("fast")),
        ("rateLimit", ConfigValue::Bool(true)),
        ("method", text("PATCH")),
    ] {
        let e = config::<MessagingConfig>(std::slice::from_ref(&bad)).unwrap_err();
        assert_cause(&e, Cause::Argument);
        assert!(e.message().contains(bad.0), "{e}");
    }
    // a webhook that does not parse is refused when the call is made, not when sent
    let c = config::<MessagingConfig>(&[("async", ConfigValue::Bool(true))]).unwrap();
    let e = robot_send(
        RobotKind::Dingtalk,
        "https://oapi.dingtalk.com:99999/robot/send?access_token=tok-secret-1",
        b"x",
        None,
        &c,
    )
    .unwrap_err();
    assert_cause(&e, Cause::Argument);
    assert!(e.message().contains("not a valid URL"), "{e}");
    assert!(!e.message().contains("tok-secret-1"), "{e}");
    assert_eq!(RobotKind::parse("DingTalk"), Some(RobotKind::Dingtalk));
    assert_eq!(RobotKind::parse("feishu"), Some(RobotKind::Feishu));
    assert_eq!(RobotKind::parse("wecom"), Some(RobotKind::Wecom));
    assert_eq!(RobotKind::parse("slack"), None);
}

#[test]
fn wecom_tutorial_workflow_and_token_reuse() {
    let emu = PlatformEmulator::start();
    let a = wecom(
        &emu,
        "message/send",
        r#"{"touser":"@all|ghost1","agentid":1000002,"msgtype":"text","text":{"content":"这是一条测试信息"}}"#,
    );
    assert_eq!(
        (a.errcode, a.errmsg.as_str(), a.response_code),
        (0, "ok", 200)
    );
    assert_eq!(field(&a, "invaliduser"), &Scalar::Str("ghost1".into()));
    assert!(a.elapsed >= 0.0);
    let a = wecom(
        &emu,
        "appchat/create",
        r#"{"name":"NAME","owner":"userid1","userlist":["userid1","userid2","userid3"],"chatid":"CHATID"}"#,
    );
    assert_eq!(a.errcode, 0, "{:?}", a);
    assert_eq!(field(&a, "chatid"), &Scalar::Str("CHATID".into()));
    let a = wecom(
        &emu,
        "/cgi-bin/appchat/send",
        r#"{"chatid":"CHATID","msgtype":"text","text":{"content":"这是一条测试信息"}}"#,
    );
    assert_eq!(a.errcode, 0);
    assert_eq!(
        a.fields,
        vec![
            ("invaliduser".to_string(), Scalar::Str(String::new())),
            ("invalidparty".to_string(), Scalar::Str("1".into()))
        ]
    );
    // Unknown chat: a normal answer with the platform's errcode.
    let a = wecom(
        &emu,
        "appchat/send",
        r#"{"chatid":"nochat","msgtype":"text"}"#,
    );
    assert_eq!((a.errcode, a.errmsg.as_str()), (86003, "chat not found"));

    assert_eq!(
        emu.gettoken_calls(Platform::Wecom),
        1,
        "token reused across calls"
    );
    let r = emu.last("/cgi-bin/appchat/send").unwrap();
    assert_eq!(r.method, "POST");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.param("access_token").unwrap(), emu.issued_tokens()[0]);
    let g = emu.last("/cgi-bin/gettoken").unwrap();
    assert_eq!(g.method, "GET");
    assert_eq!(g.param("corpid").as_deref(), Some(WECOM_CORP_ID));
    assert_eq!(g.param("corpsecret").as_deref(), Some(WECOM_CORP_SECRET));
}

#[test]
fn dingtalk_tutorial_workflow() {
    let emu = PlatformEmulator::start();
    let c = cfg(&emu);
    let send = |api: &str, body: Option<Body>| {
        dingtalk_send(DING_APP_KEY, DING_APP_SECRET, api, body.as_ref(), &c).unwrap()
    };
    // GET with a dictionary body: the query
    let mut get = cfg(&emu);
    get.method = Some(Method::Get);
    let query = |api: &str, body: serde_json::Value| {
        dingtalk_send(
            DING_APP_KEY,
            DING_APP_SECRET,
            api,
            Some(&Body::Json(body)),
            &get,
        )
        .unwrap()
    };
    let a = send("department/list", None);
    assert_eq!(emu.last("/department/list").unwrap().method, "GET");
    assert_eq!(a.errcode, 0);
    let v: serde_json::Value = serde_json::from_slice(&a.text).unwrap();
    let dept = v["department"][0]["id"].to_string();
    assert_eq!(dept, "123");
    let a = query("user/getDeptMember", serde_json::json!({ "deptId": dept }));
    assert_eq!(a.errcode, 0);
    let v: serde_json::Value = serde_json::from_slice(&a.text).unwrap();
    assert_eq!(v["userIds"], serde_json::json!(["1", "2"]));
    let a = query("user/get", serde_json::json!({"userid": "1"}));
    assert_eq!(field(&a, "name"), &Scalar::Str("user1".into()));
    assert_eq!(field(&a, "active"), &Scalar::Bool(true));
    let r = emu.last("/user/get").unwrap();
    assert_eq!(r.method, "GET");
    assert_eq!(r.param("userid").as_deref(), Some("1"));

    // POST: a STRING of JSON, sent as given
    let a = send(
        "chat/create",
        Some(Body::Text(
            br#"{"name":"groupName","owner":"1","useridlist":["1","2"]}"#.to_vec(),
        )),
    );
    assert_eq!(a.errcode, 0, "{a:?}");
    let Scalar::Str(chatid) = field(&a, "chatid").clone() else {
        panic!()
    };
    assert_eq!(field(&a, "conversationTag"), &Scalar::Long(2));
    // POST: a dictionary, sent as JSON
    let a = send(
        "chat/send",
        Some(Body::Json(serde_json::json!({
            "chatid": chatid,
            "msg": {"msgtype": "text", "text": {"content": "这是一条测试信息"}}
        }))),
    );
    assert_eq!(a.errcode, 0);
    assert_eq!(
        a.fields,
        vec![("messageId".to_string(), Scalar::Str("abcd".into()))]
    );
    let r = emu.last("/chat/send").unwrap();
    assert_eq!(r.method, "POST");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json()["msg"]["text"]["content"], "这是一条测试信息");
    assert_eq!(emu.gettoken_calls(Platform::Dingtalk), 1);

    // GET takes a dictionary only; bodies must be JSON
    let e = dingtalk_send(
        DING_APP_KEY,
        DING_APP_SECRET,
        "user/get",
        Some(&Body::Text(b"userid=1".to_vec())),
        &get,
    )
    .unwrap_err();
    assert_cause(&e, Cause::Argument);
    let e = dingtalk_send(
        DING_APP_KEY,
        DING_APP_SECRET,
        "chat/send",
        Some(&Body::Text(b"{not json".to_vec())),
        &c,
    )
    .unwrap_err();
    assert_cause(&e, Cause::Argument);
    assert_eq!(emu.calls("/chat/send"), 1);
    let g = emu.last("/gettoken").unwrap();
    assert_eq!(g.param("appkey").as_deref(), Some(DING_APP_KEY));
}

#[test]
fn hundred_concurrent_first_calls_fetch_one_token() {
    let emu = Arc::new(PlatformEmulator::start());
    emu.set_gettoken_delay_ms(300);
    let barrier = Arc::new(Barrier::new(100));
    let handles: Vec<_> = (0..100)
        .map(|i| {
            let (emu, barrier) = (emu.clone(), barrier.clone());
            std::thread::spawn(move || {
                let c = cfg(&emu);
                barrier.wait();
                let body =
                    format!(r#"{{"touser":"@all","msgtype":"text","text":{{"content":"{i}"}}}}"#);
                wecom_send(
                    WECOM_CORP_ID,
                    WECOM_CORP_SECRET,
                    "message/send",
                    body.as_bytes(),
                    &c,
                )
                .unwrap()
                .errcode
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 0);
    }
    assert_eq!(emu.gettoken_calls(Platform::Wecom), 1);
    assert_eq!(emu.calls("/cgi-bin/message/send"), 100);
}

#[test]
fn token_refreshed_before_expires_in() {
    let emu = PlatformEmulator::start();
    emu.set_expires_in(2); // the client uses it 1.8 s (margin: a tenth)
    let body = r#"{"touser":"@all","msgtype":"text","text":{"content":"x"}}"#;
    assert_eq!(wecom(&emu, "message/send", body).errcode, 0);
    assert_eq!(wecom(&emu, "message/send", body).errcode, 0);
    assert_eq!(emu.gettoken_calls(Platform::Wecom), 1);
    std::thread::sleep(Duration::from_millis(1900));
    assert_eq!(wecom(&emu, "message/send", body).errcode, 0);
    assert_eq!(emu.gettoken_calls(Platform::Wecom), 2);
    // No stale answer was needed: exactly one send per call.
    assert_eq!(emu.calls("/cgi-bin/message/send"), 3);
}

#[test]
fn stale_token_refreshed_and_call_retried_once() {
    let emu = PlatformEmulator::start();
    let body = r#"{"touser":"@all","msgtype":"text","text":{"content":"x"}}"#;
    assert_eq!(wecom(&emu, "message/send", body).errcode, 0);
    emu.expire_all_tokens(); // 42001
    assert_eq!(wecom(&emu, "message/send", body).errcode, 0);
    assert_eq!(emu.gettoken_calls(Platform::Wecom), 2);
    assert_eq!(emu.calls("/cgi-bin/message/send"), 3);
    emu.revoke_all_tokens(); // 40014
    assert_eq!(wecom(&emu, "message/send", body).errcode, 0);
    assert_eq!(emu.gettoken_calls(Platform::Wecom), 3);

    // DingTalk too.
    let c = cfg(&emu);
    let d = || dingtalk_send(DING_APP_KEY, DING_APP_SECRET, "department/list", None, &c);
    assert_eq!(d().unwrap().errcode, 0);
    emu.revoke_all_tokens();
    assert_eq!(d().unwrap().errcode, 0);
    assert_eq!(emu.gettoken_calls(Platform::Dingtalk), 2);
    assert_eq!(emu.calls("/department/list"), 3);
}

#[test]
fn always_stale_is_retried_exactly_once() {
    let emu = PlatformEmulator::start();
    let a = wecom(&emu, "always_stale", "{}");
    assert_eq!(
        (a.errcode, a.errmsg.as_str()),
        (42001, "access_token expired")
    );
    assert_eq!(emu.calls("/cgi-bin/always_stale"), 2);
    assert_eq!(emu.gettoken_calls(Platform::Wecom), 2);
}

#[test]
fn gettoken_failures_are_errors_without_secrets() {
    let emu = PlatformEmulator::start();
    let c = cfg(&emu);
    let e = wecom_send(WECOM_CORP_ID, "wrong-secret-123", "message/send", b"{}", &c).unwrap_err();
    assert_cause(&e, Cause::Auth);
    // the platform's answer is shown, the secret is not
    assert!(
        e.message().contains("40001") && e.message().contains("invalid credential"),
        "{e}"
    );
    assert!(!e.message().contains("wrong-secret-123"), "{e}");
    // refused credentials are not retried
    assert_eq!(emu.gettoken_calls(Platform::Wecom), 1);
    let e = dingtalk_send(DING_APP_KEY, "bad-ding-secret", "chat/send", None, &c).unwrap_err();
    assert_cause(&e, Cause::Auth);
    assert!(e.message().contains("40089"), "{e}");
    assert!(!e.message().contains("bad-ding-secret"), "{e}");
    assert_eq!(emu.gettoken_calls(Platform::Dingtalk), 1);
    // Rate limit: the platform's 45009 is reported (2 gettoken calls so far), after the
    // one retry of a synchronous call.
    emu.set_rate_limit(2, Duration::from_secs(60));
    let e = wecom_send(WECOM_CORP_ID, "wrong-secret-456", "message/send", b"{}", &c).unwrap_err();
    assert_cause(&e, Cause::RateLimited);
    assert!(
        e.message().contains("45009") && e.message().contains("api freq out of limit"),
        "{e}"
    );
    assert_clean(&emu, &e.message());
    assert_eq!(emu.gettoken_calls(Platform::Wecom), 3);
    // Empty credentials or api: errors before any request.
    assert_cause(
        &wecom_send("", "s", "message/send", b"{}", &c).unwrap_err(),
        Cause::Argument,
    );
    assert_cause(
        &wecom_send("id", "", "message/send", b"{}", &c).unwrap_err(),
        Cause::Argument,
    );
    assert_cause(
        &wecom_send("id", "s", "", b"{}", &c).unwrap_err(),
        Cause::Argument,
    );
    assert_cause(
        &wecom_send("id", "s", "message/send?x=1", b"{}", &c).unwrap_err(),
        Cause::Argument,
    );
    assert_eq!(emu.gettoken_calls(Platform::Wecom), 3);
}

#[test]
fn non_json_and_transport_failures_are_errors_without_secrets() {
    let emu = PlatformEmulator::start();
    let e = wecom_send(
        WECOM_CORP_ID,
        WECOM_CORP_SECRET,
        "not_json",
        b"{}",
        &cfg(&emu),
    )
    .unwrap_err();
    assert_cause(&e, Cause::HttpStatus(502));
    assert_clean(&emu, &e.message());
    // a 5xx is transient: retried once
    assert_eq!(emu.calls("/cgi-bin/not_json"), 2);

    // A closed port: transport failure.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = config::<MessagingConfig>(&[
        ("baseUrl", text(&format!("http://127.0.0.1:{closed}"))),
        ("timeout", int(2000)),
        ("rateLimit", int(0)),
    ])
    .unwrap();
    for e in [
        wecom_send(WECOM_CORP_ID, WECOM_CORP_SECRET, "message/send", b"{}", &c).unwrap_err(),
        dingtalk_send(DING_APP_KEY, DING_APP_SECRET, "chat/send", None, &c).unwrap_err(),
        robot_send(RobotKind::Wecom, WECOM_ROBOT_KEY, b"hi", None, &c).unwrap_err(),
        robot_send(
            RobotKind::Dingtalk,
            &format!("https://oapi.dingtalk.com/robot/send?access_token={DING_ROBOT_TOKEN}"),
            b"hi",
            Some(DING_ROBOT_SECRET),
            &c,
        )
        .unwrap_err(),
        robot_send(
            RobotKind::Feishu,
            &format!("https://open.feishu.cn/open-apis/bot/v2/hook/{FEISHU_HOOK_ID}"),
            b"hi",
            Some(FEISHU_SECRET),
            &c,
        )
        .unwrap_err(),
    ] {
        assert_cause(&e, Cause::Connect);
        assert!(e.message().contains(&format!("127.0.0.1:{closed}")), "{e}");
        assert_clean(&emu, &e.message());
    }
}

#[test]
fn wecom_robot_by_url_and_bare_key() {
    let emu = PlatformEmulator::start();
    let c = robot_cfg(&emu);
    let a = robot_send(
        RobotKind::Wecom,
        WECOM_ROBOT_KEY,
        "你好 robot".as_bytes(),
        None,
        &c,
    )
    .unwrap();
    assert_eq!(a.errcode, 0);
    let r = emu.last("/cgi-bin/webhook/send").unwrap();
    assert_eq!(
        r.json(),
        serde_json::json!({"msgtype":"text","text":{"content":"你好 robot"}})
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    let url = format!("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_ROBOT_KEY}");
    let md = r#"  {"msgtype":"markdown","markdown":{"content":"**hi**"}}"#;
    let a = robot_send(RobotKind::Wecom, &url, md.as_bytes(), None, &c).unwrap();
    assert_eq!(a.errcode, 0);
    assert_eq!(
        emu.last("/cgi-bin/webhook/send").unwrap().body,
        md.as_bytes()
    );
    let a = robot_send(RobotKind::Wecom, "wrong-key", b"x", None, &c).unwrap();
    assert_eq!(a.errcode, 93000);
}

#[test]
fn dingtalk_robot_signature() {
    let emu = PlatformEmulator::start();
    let c = robot_cfg(&emu);
    let url = format!("https://oapi.dingtalk.com/robot/send?access_token={DING_ROBOT_TOKEN}");
    let a = robot_send(
        RobotKind::Dingtalk,
        &url,
        b"alert: disk full",
        Some(DING_ROBOT_SECRET),
        &c,
    )
    .unwrap();
    assert_eq!((a.errcode, a.errmsg.as_str()), (0, "ok"));
    let r = emu.last("/robot/send").unwrap();
    assert!(r.param("timestamp").is_some() && r.param("sign").is_some());
    assert_eq!(r.json()["text"]["content"], "alert: disk full");
    let a = robot_send(RobotKind::Dingtalk, &url, b"x", Some("SECwrong"), &c).unwrap();
    assert_eq!((a.errcode, a.errmsg.as_str()), (310000, "sign not match"));
    let a = robot_send(RobotKind::Dingtalk, &url, b"x", None, &c).unwrap();
    assert_eq!(a.errcode, 310000);
    emu.set_ding_robot_signed(false);
    let a = robot_send(RobotKind::Dingtalk, &url, b"x", Some(""), &c).unwrap();
    assert_eq!(a.errcode, 0);
    // a DingTalk webhook is a URL
    assert_cause(
        &robot_send(RobotKind::Dingtalk, DING_ROBOT_TOKEN, b"x", None, &c).unwrap_err(),
        Cause::Argument,
    );
}

#[test]
fn feishu_bot_signature() {
    let emu = PlatformEmulator::start();
    let c = robot_cfg(&emu);
    let url = format!("https://open.feishu.cn/open-apis/bot/v2/hook/{FEISHU_HOOK_ID}");
    let a = robot_send(
        RobotKind::Feishu,
        &url,
        b"hello feishu",
        Some(FEISHU_SECRET),
        &c,
    )
    .unwrap();
    assert_eq!((a.errcode, a.errmsg.as_str()), (0, "success"));
    assert_eq!(field(&a, "StatusCode"), &Scalar::Long(0));
    let v = emu
        .last(&format!("/open-apis/bot/v2/hook/{FEISHU_HOOK_ID}"))
        .unwrap()
        .json();
    assert_eq!(v["msg_type"], "text");
    assert_eq!(v["content"]["text"], "hello feishu");
    assert!(v["timestamp"].is_string() && v["sign"].is_string());
    let card = r#"{"msg_type":"post","content":{"post":{"zh_cn":{"title":"t","content":[]}}}}"#;
    let a = robot_send(
        RobotKind::Feishu,
        &url,
        card.as_bytes(),
        Some(FEISHU_SECRET),
        &c,
    )
    .unwrap();
    assert_eq!(a.errcode, 0);
    let a = robot_send(RobotKind::Feishu, &url, b"x", Some("wrong"), &c).unwrap();
    assert_eq!(a.errcode, 19021);
    assert!(a.errmsg.starts_with("sign match fail"));
    let e = robot_send(
        RobotKind::Feishu,
        &url,
        b"{not json",
        Some(FEISHU_SECRET),
        &c,
    )
    .unwrap_err();
    assert_cause(&e, Cause::Argument);
    assert_clean(&emu, &e.message());
}

#[test]
fn robot_send_keeps_path_and_query_under_base_url() {
    let emu = PlatformEmulator::start();
    let c = robot_cfg(&emu);
    let url = format!("https://oapi.dingtalk.com/robot/send?access_token={DING_ROBOT_TOKEN}");
    robot_send(RobotKind::Dingtalk, &url, b"x", Some(DING_ROBOT_SECRET), &c).unwrap();
    let r = emu.last("/robot/send").unwrap();
    assert_eq!(r.param("access_token").as_deref(), Some(DING_ROBOT_TOKEN));
    assert!(emu.requests().iter().all(|r| !r.path.contains("dingtalk")));
}

#[test]
fn robots_are_paced_to_their_documented_limit() {
    let emu = PlatformEmulator::start();
    let c = cfg(&emu);
    // WeCom robot: 20 messages per minute. The first 20 go at once; the 21st would wait
    // about a minute, more than the call's timeout: refused at once, nothing sent.
    let started = Instant::now();
    for i in 0..20 {
        let a = robot_send(
            RobotKind::Wecom,
            WECOM_ROBOT_KEY,
            format!("n{i}").as_bytes(),
            None,
            &c,
        )
        .unwrap();
        assert_eq!(a.errcode, 0);
    }
    let e = robot_send(RobotKind::Wecom, WECOM_ROBOT_KEY, b"n20", None, &c).unwrap_err();
    assert_cause(&e, Cause::RateLimited);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(emu.calls("/cgi-bin/webhook/send"), 20);
    // the message says how to get it sent, and shows no key
    assert!(e.message().contains("async=true"), "{e}");
    assert_clean(&emu, &e.message());

    // config rateLimit replaces the documented limit: 2 per minute
    let feishu = format!("https://open.feishu.cn/open-apis/bot/v2/hook/{FEISHU_HOOK_ID}");
    let mut two = cfg(&emu);
    two.rate_limit = Some(RateLimit::parse("2/min").unwrap());
    for _ in 0..2 {
        let a = robot_send(RobotKind::Feishu, &feishu, b"x", Some(FEISHU_SECRET), &two).unwrap();
        assert_eq!(a.errcode, 0);
    }
    let e = robot_send(RobotKind::Feishu, &feishu, b"x", Some(FEISHU_SECRET), &two).unwrap_err();
    assert_cause(&e, Cause::RateLimited);
    let hook = format!("/open-apis/bot/v2/hook/{FEISHU_HOOK_ID}");
    assert_eq!(emu.calls(&hook), 2);
    // and none turns pacing off: all 8 go out (the platform's own 5-per-second limit may
    // answer one with 429, which is retried after its reset, so count what it accepted)
    let mut none = cfg(&emu);
    none.rate_limit = Some(RateLimit::none());
    for _ in 0..8 {
        robot_send(RobotKind::Feishu, &feishu, b"x", Some(FEISHU_SECRET), &none).unwrap();
    }
    let accepted = emu
        .robot_log(FEISHU_HOOK_ID)
        .iter()
        .filter(|m| m.accepted)
        .count();
    assert_eq!(accepted, 10);
}
