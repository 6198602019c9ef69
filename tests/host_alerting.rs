//! Alerting that never blocks the caller, through the test host: asynchronous robot
//! messages paced to the platform's documented limit, retried after the platform's
//! "slow down" answers, a bounded queue that refuses instead of dropping, `flush`,
//! `deliveries`, fan-out tables, dictionary bodies sent as JSON and e-mail options —
//! against the platform emulator (which enforces the platforms' limits and answers like
//! them: HTTP 429 with `x-ogw-ratelimit-reset`, 130101, 45009) and a real SMTP server.
//! Tests assert orders and counts, never durations (but for "no sooner than the reset").
#[path = "common/host.rs"]
mod host;
#[path = "common/http_peer.rs"]
mod http_peer;
#[path = "common/platform_emulator.rs"]
mod platform_emulator;
#[path = "common/smtp_peer.rs"]
mod smtp_peer;

use host::{cause_of, column, entry, lit, row_count, text, Session, VERSIONS};
use platform_emulator::*;
use serde_json::{json, Value};
use std::time::Duration;

fn feishu_hook(emu: &PlatformEmulator, id: &str) -> String {
    format!("{}/open-apis/bot/v2/hook/{id}", emu.base_url())
}

/// The texts of the messages a robot accepted, in arrival order, and how many it refused.
fn accepted_and_refused(emu: &PlatformEmulator, id: &str) -> (Vec<String>, usize) {
    let log = emu.robot_log(id);
    let accepted = log
        .iter()
        .filter(|m| m.accepted)
        .map(|m| m.text())
        .collect();
    (accepted, log.iter().filter(|m| !m.accepted).count())
}

fn strings(values: &[Value]) -> Vec<String> {
    values.iter().map(text).collect()
}

/// The issue's acceptance scenario, in one host: 12 async messages to a Feishu bot (5/s,
/// 100/min) come back queued before they could have been sent, arrive exactly once each,
/// in order, with at most a few 429s; a 429 on a synchronous send is retried no sooner than
/// the reset header says and succeeds; a full queue raises; deliveries() and stats() show it.
fn alerting_scenario(h: usize, id: &str, emu: &PlatformEmulator) -> Result<usize, String> {
    let (burst, sync, stuck) = (
        format!("lim-a{h}"),
        format!("lim-s{h}"),
        format!("lim-q{h}"),
    );
    let mut s = Session::start(id, &[]);
    let queue = |text: &str, hook: &str| {
        format!(
            "httpClient::robotSend(\"feishu\", {}, {}, , {{\"async\": true}})",
            lit(&feishu_hook(emu, hook)),
            lit(text)
        )
    };

    // 12 queued at once: each call answers {queued: true, id} at once
    let mut ids = Vec::new();
    for i in 0..12 {
        let v = s.ok(&queue(&format!("alert {i}"), &burst));
        if entry(&v, "queued") != ("BOOL", &json!(true)) {
            return Err(format!("{id}: not queued: {v}"));
        }
        let (t, n) = entry(&v, "id");
        if t != "LONG" {
            return Err(format!("{id}: id is {t}"));
        }
        ids.push(n.as_i64().unwrap());
    }
    // the calls returned before the 5/s bot could have taken them all
    let arrived = accepted_and_refused(emu, &burst).0.len();
    if arrived >= 12 {
        return Err(format!("{id}: all 12 had arrived when the calls returned"));
    }
    if s.ok("httpClient::flush()") != json!(["INT", 0]) {
        return Err(format!("{id}: flush left messages pending"));
    }
    let (accepted, refused) = accepted_and_refused(emu, &burst);
    let expected: Vec<String> = (0..12).map(|i| format!("alert {i}")).collect();
    if accepted != expected {
        return Err(format!("{id}: arrived {accepted:?}"));
    }
    if refused > 2 {
        return Err(format!("{id}: the bot refused {refused} messages (429)"));
    }
    let d = s.ok("httpClient::deliveries(12)");
    let d_ids: Vec<i64> = column(&d, "id")
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    if d_ids != ids {
        return Err(format!("{id}: deliveries ids {d_ids:?}, queued {ids:?}"));
    }
    let status = strings(column(&d, "status"));
    if status.iter().any(|x| x != "sent") {
        return Err(format!("{id}: statuses {status:?}"));
    }
    if column(&d, "errcode").iter().any(|e| e != 0) || column(&d, "async").iter().any(|a| a != true)
    {
        return Err(format!("{id}: deliveries {d}"));
    }
    if strings(column(&d, "target"))
        .iter()
        .any(|t| t.contains(&burst))
    {
        return Err(format!("{id}: a target shows the hook id: {d}"));
    }

    // a 429 on a synchronous send: retried after x-ogw-ratelimit-reset (1 s), then sent
    emu.throttle_next(&sync, 1, 1);
    let v = s.ok(&format!(
        "httpClient::robotSend(\"feishu\", {}, \"sync alert\")",
        lit(&feishu_hook(emu, &sync))
    ));
    if entry(&v, "errcode").1 != 0 || entry(&v, "responseCode").1 != 200 {
        return Err(format!("{id}: the retried send answered {v}"));
    }
    let log = emu.robot_log(&sync);
    if log.len() != 2 || log[0].accepted || !log[1].accepted {
        return Err(format!("{id}: the bot saw {log:?}"));
    }
    if log[1].at.duration_since(log[0].at) < Duration::from_millis(950) {
        return Err(format!("{id}: retried before the reset the bot asked for"));
    }
    let d = s.ok("httpClient::deliveries(1)");
    if column(&d, "attempts") != [json!(2)] || strings(column(&d, "status")) != ["sent"] {
        return Err(format!("{id}: the sync delivery: {d}"));
    }

    // a full queue refuses: a bot that keeps answering 429 (reset 60 s) holds its lane
    emu.throttle_next(&stuck, 100, 60);
    let repeat = s.call(&format!("#repeat 9999 {}", queue("stuck", &stuck)));
    if repeat != "REPEAT ok=9999 err=0" {
        return Err(format!("{id}: filling the queue: {repeat}"));
    }
    // one place left: a fan-out to two is refused whole, nothing of it queued
    let hook = lit(&feishu_hook(emu, &stuck));
    let line = s.call(&format!(
        "httpClient::robotSend(\"feishu\", [{hook}, {hook}], \"two\", , {{\"async\": true}})"
    ));
    if cause_of(&line) != Some("queue full") || !line.contains("the 2 messages") {
        return Err(format!("{id}: a fan-out of two into one place: {line}"));
    }
    let repeat = s.call(&format!("#repeat 2 {}", queue("stuck", &stuck)));
    if repeat != "REPEAT ok=1 err=1" {
        return Err(format!("{id}: the last place: {repeat}"));
    }
    let line = s.call(&queue("one more", &stuck));
    if cause_of(&line) != Some("queue full") || !line.contains("flush") {
        return Err(format!("{id}: the 10,002nd message: {line}"));
    }
    if s.ok("httpClient::flush(100)") != json!(["INT", 10000]) {
        return Err(format!("{id}: flush(100) with a full queue"));
    }
    let st = s.ok("httpClient::stats()");
    let (section, name, value) = (
        strings(column(&st, "section")),
        strings(column(&st, "name")),
        column(&st, "value"),
    );
    let row = |sec: &str, n: &str| (0..section.len()).find(|&i| section[i] == sec && name[i] == n);
    match row("queue", "deliveries") {
        Some(i) if value[i] == 10000 => {}
        _ => return Err(format!("{id}: stats queue row: {st}")),
    }
    match row("function", "robotSend") {
        Some(i) if column(&st, "calls")[i] == 10016 && column(&st, "errors")[i] == 3 => {}
        _ => return Err(format!("{id}: stats robotSend row: {st}")),
    }
    s.finish();
    Ok(refused)
}

#[test]
fn async_alerts_are_paced_retried_and_bounded_in_every_supported_server() {
    let emu = PlatformEmulator::start();
    let hosts = host::every_supported_host();
    host::build_hosts(&hosts);
    // the hosts run side by side (each its own process and bots); 6 at a time
    let mut failures = Vec::new();
    let mut refused = 0;
    for (c, chunk) in hosts.chunks(6).enumerate() {
        std::thread::scope(|scope| {
            let runs: Vec<_> = chunk
                .iter()
                .enumerate()
                .map(|(k, id)| {
                    let emu = &emu;
                    scope.spawn(move || alerting_scenario(c * 6 + k, id, emu))
                })
                .collect();
            for r in runs {
                match r.join().expect("scenario thread") {
                    Ok(n) => refused += n,
                    Err(e) => failures.push(e),
                }
            }
        });
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!(
        "{} hosts x 12 queued messages: {refused} answered 429 and retried",
        hosts.len()
    );
}

#[test]
fn dingtalk_and_wecom_robots_slow_down_answers_are_returned_or_waited_for() {
    let emu = PlatformEmulator::start();
    for (h, v) in VERSIONS.iter().enumerate() {
        let ding = |id: &str| format!("{}/robot/send?access_token={id}", emu.base_url());
        let mut s = Session::start(v, &[]);
        // pacing off and no retries: the 21st message in a minute gets the platform's
        // 130101 back as the answer (returned, not thrown: it is the platform's verdict)
        let off = format!("lim-d{h}");
        for i in 0..21 {
            let a = s.ok(&format!(
                "robotSend(\"dingtalk\", {}, \"m{i}\", , {{\"rateLimit\": 0, \"retries\": 0}})",
                lit(&ding(&off))
            ));
            let want = if i < 20 { 0 } else { 130101 };
            assert_eq!(entry(&a, "errcode").1, want, "{v} message {i}: {a}");
        }
        // DingTalk now blocks the robot for a while: the plugin pauses it (a minute), and
        // the next call says that the platform asked to slow down, sending nothing
        let line = s.call(&format!(
            "robotSend(\"dingtalk\", {}, \"m21\", , {{\"rateLimit\": 0}})",
            lit(&ding(&off))
        ));
        assert_eq!(cause_of(&line), Some("rate limit"), "{v}: {line}");
        assert!(line.contains("asked to slow down"), "{line}");
        assert!(!line.contains(&off), "the token is shown: {line}");
        assert_eq!(emu.robot_log(&off).len(), 21, "{v}");
        // with the documented pacing (20/min) the 21st is refused before it is sent:
        // waiting for its slot would outlast the call's timeout
        let paced = format!("lim-p{h}");
        for i in 0..20 {
            let a = s.ok(&format!(
                "robotSend(\"dingtalk\", {}, \"m{i}\")",
                lit(&ding(&paced))
            ));
            assert_eq!(entry(&a, "errcode").1, 0, "{v}");
        }
        let line = s.call(&format!(
            "robotSend(\"dingtalk\", {}, \"m20\")",
            lit(&ding(&paced))
        ));
        assert_eq!(cause_of(&line), Some("rate limit"), "{v}: {line}");
        assert!(line.contains("async=true"), "{line}");
        assert!(!line.contains(&paced), "the token is shown: {line}");
        assert_eq!(emu.robot_log(&paced).len(), 20, "{v}");
        // ... and queued, it waits for its slot instead: 45009 from WeCom is retried
        // after the wait, so the message arrives once
        let wecom = format!("lim-w{h}");
        emu.throttle_next(&wecom, 1, 0);
        let q = s.ok(&format!(
            "robotSend(\"wecom\", {}, \"queued\", , {{\"baseUrl\": {}, \"async\": true}})",
            lit(&wecom),
            lit(&emu.base_url())
        ));
        assert_eq!(entry(&q, "queued").1, true);
        assert_eq!(s.ok("flush(10000)"), json!(["INT", 0]));
        let (accepted, refused) = accepted_and_refused(&emu, &wecom);
        assert_eq!((accepted, refused), (vec!["queued".to_string()], 1), "{v}");
        let d = s.ok("deliveries(1)");
        assert_eq!(column(&d, "attempts"), [json!(2)], "{v}: {d}");
        s.finish();
    }
}

#[test]
fn fan_out_to_several_robots_answers_one_row_per_webhook() {
    let emu = PlatformEmulator::start();
    let base = lit(&emu.base_url());
    for v in VERSIONS {
        let tag = v.replace(['.', '/'], "");
        let (a, b) = (format!("lim-fa{tag}"), format!("lim-fb{tag}"));
        let mut s = Session::start(v, &[]);
        // at once: the answers, in the order given; a bad key is its row's errcode
        let t = s.ok(&format!(
            "robotSend(\"wecom\", [{}, \"not-a-robot\", {}], \"disk 91%\", , {{\"baseUrl\": {base}}})",
            lit(&a),
            lit(&b)
        ));
        assert_eq!(t[0], "TABLE", "{v}: {t}");
        assert_eq!(row_count(&t), 3);
        let codes: Vec<Value> = column(&t, "errcode").to_vec();
        assert_eq!(codes, [json!(0), json!(93000), json!(0)], "{v}: {t}");
        let targets = strings(column(&t, "target"));
        assert!(
            targets.iter().all(|x| !x.contains(&a) && !x.contains(&b)),
            "{targets:?}"
        );
        assert!(column(&t, "queued").iter().all(|q| q == false));
        // queued: one row per webhook, each with its delivery id
        let t = s.ok(&format!(
            "robotSend(\"wecom\", [{}, {}], \"disk 95%\", , {{\"baseUrl\": {base}, \"async\": true}})",
            lit(&a),
            lit(&b)
        ));
        assert!(column(&t, "queued").iter().all(|q| q == true), "{t}");
        assert_eq!(s.ok("flush()"), json!(["INT", 0]));
        for hook in [&a, &b] {
            let (got, _) = accepted_and_refused(&emu, hook);
            assert_eq!(got, ["disk 91%", "disk 95%"], "{v} {hook}");
        }
        // a webhook that is not a webhook: nothing is sent to any of them
        let line = s.call(&format!(
            "robotSend(\"feishu\", [{}, \"ftp://x\"], \"x\")",
            lit(&feishu_hook(&emu, &a))
        ));
        assert!(
            line.starts_with("ERR IllegalArgumentException: httpClient::robotSend: "),
            "{line}"
        );
        // config method belongs to dingtalkSend: elsewhere it is refused, not ignored
        let line = s.call(&format!(
            "robotSend(\"wecom\", {}, \"x\", , {{\"baseUrl\": {base}, \"method\": \"GET\"}})",
            lit(&a)
        ));
        assert!(
            line.contains("config 'method' applies to dingtalkSend only"),
            "{line}"
        );
        s.finish();
    }
}

#[test]
fn dictionary_bodies_are_sent_as_json() {
    let emu = PlatformEmulator::start();
    let peer = http_peer::HttpPeer::start();
    for v in VERSIONS {
        let tag = v.replace(['.', '/'], "");
        let hook = format!("lim-j{tag}");
        let mut s = Session::start(v, &[]);
        // the tutorial's markdown message, written as a dictionary: nested dictionaries,
        // vectors, numbers, booleans
        let a = s.ok(&format!(
            "robotSend(\"dingtalk\", {}, {{\"msgtype\": \"markdown\", \"markdown\": {{\"title\": \"延迟\", \"text\": \"**600519** 3.5 s\"}}, \"at\": {{\"atMobiles\": [\"138\", \"139\"], \"isAtAll\": false}}}})",
            lit(&format!("{}/robot/send?access_token={hook}", emu.base_url()))
        ));
        assert_eq!(entry(&a, "errcode").1, 0, "{v}: {a}");
        let got = &emu.robot_log(&hook)[0].body;
        assert_eq!(
            got,
            &json!({"msgtype": "markdown", "markdown": {"title": "延迟", "text": "**600519** 3.5 s"},
                    "at": {"atMobiles": ["138", "139"], "isAtAll": false}}),
            "{v}"
        );
        // wecomSend with a dictionary body
        let a = s.ok(&format!(
            "wecomSend({}, {}, \"message/send\", {{\"touser\": \"@all\", \"msgtype\": \"text\", \"agentid\": 1000002, \"text\": {{\"content\": \"price 12.5\"}}, \"safe\": 0}}, {{\"baseUrl\": {}}})",
            lit(WECOM_CORP_ID),
            lit(WECOM_CORP_SECRET),
            lit(&emu.base_url())
        ));
        assert_eq!(entry(&a, "errcode").1, 0, "{v}: {a}");
        let sent = emu.last("/cgi-bin/message/send").unwrap().json();
        assert_eq!(sent["agentid"], json!(1000002));
        assert_eq!(sent["text"]["content"], "price 12.5");
        // httpPost with config json=true: typed JSON and its Content-Type
        let r = s.ok(&format!(
            "httpPost({}, {{\"sym\": \"600519\", \"price\": 1702.5, \"qty\": 300, \"ok\": true}}, , , {{\"json\": true}})",
            lit(&format!("{}/echo/json{tag}", peer.base_url()))
        ));
        assert_eq!(entry(&r, "responseCode").1, 200, "{v}");
        let req = peer
            .requests()
            .into_iter()
            .rfind(|q| q.path() == format!("/echo/json{tag}"))
            .unwrap();
        assert_eq!(req.header("content-type"), Some("application/json"));
        // in the dictionary's order, numbers as numbers
        assert_eq!(
            String::from_utf8_lossy(&req.body),
            r#"{"sym":"600519","price":1702.5,"qty":300,"ok":true}"#
        );
        s.finish();
    }
}

#[test]
fn email_alerts_with_options_queued_and_one_mail_per_recipient() {
    let user = format!("alerts{}mail.test", '@');
    let peer = smtp_peer::SmtpPeer::start(&user);
    let dir = std::env::temp_dir().join(format!("alert-mail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report.csv");
    std::fs::write(&report, "sym,delay\n600519,3.5\n").unwrap();
    let (a, b, c) = (
        format!("a{}x.test", '@'),
        format!("b{}x.test", '@'),
        format!("c{}x.test", '@'),
    );
    for (i, v) in VERSIONS.iter().enumerate() {
        let before = peer.messages().len();
        let mut s = Session::start(v, &[]);
        s.ok(&format!(
            "emailSmtpConfig(\"mail.test\", \"127.0.0.1\", {}, {{\"tls\": \"tls\", \"caFile\": {}}})",
            peer.tls_port,
            lit(&peer.ca_file)
        ));
        let send = |to: &str, subject: &str, options: &str| {
            format!(
                "sendEmail({}, {}, {to}, {}, \"delay 3.5 s\", , {options})",
                lit(&user),
                lit(&peer.password),
                lit(subject)
            )
        };
        // queued, with cc, bcc, a sender name, a reply-to, plain text and an attachment
        let q = s.ok(&send(
            &lit(&a),
            &format!("[{i}] queued"),
            &format!(
                "{{\"async\": true, \"cc\": {}, \"bcc\": [{}], \"fromName\": \"DolphinDB 告警\", \"replyTo\": {}, \"contentType\": \"plain\", \"attachments\": {}}}",
                lit(&b),
                lit(&c),
                lit(&b),
                lit(report.to_str().unwrap())
            ),
        ));
        assert_eq!(entry(&q, "queued").1, true, "{v}: {q}");
        assert_eq!(s.ok("flush()"), json!(["INT", 0]));
        // each=true: one mail per recipient, a table with a row each
        let t = s.ok(&send(
            &format!("[{}, {}]", lit(&a), lit(&c)),
            &format!("[{i}] each"),
            "{\"each\": true}",
        ));
        let targets = strings(column(&t, "target"));
        assert_eq!(targets.len(), 2, "{v}: {t}");
        assert!(
            targets[0].ends_with(&a) && targets[1].ends_with(&c),
            "{v}: {t}"
        );
        assert_eq!(column(&t, "responseCode"), [json!(250), json!(250)]);
        let d = s.ok("deliveries()");
        assert_eq!(
            strings(column(&d, "function")),
            ["sendEmail", "sendEmail", "sendEmail"],
            "{v}: {d}"
        );
        assert!(strings(column(&d, "status")).iter().all(|x| x == "sent"));
        s.finish();

        let mails = peer.wait_messages(before + 3)[before..].to_vec();
        let queued = mails
            .iter()
            .find(|m| m.subject.as_deref() == Some(&format!("[{i}] queued")))
            .expect("the queued mail");
        let mut rcpt = queued.rcpt_tos.clone();
        rcpt.sort();
        assert_eq!(rcpt, [a.clone(), b.clone(), c.clone()], "{v}");
        let raw = String::from_utf8_lossy(&queued.data);
        assert!(
            !raw.to_ascii_lowercase().contains("\nbcc:"),
            "Bcc shown: {raw}"
        );
        assert!(
            raw.contains("Reply-To: ") && raw.contains("text/plain"),
            "{raw}"
        );
        assert!(raw.contains("report.csv"), "no attachment: {raw}");
        let each: Vec<_> = mails
            .iter()
            .filter(|m| m.subject.as_deref() == Some(&format!("[{i}] each")))
            .map(|m| m.rcpt_tos.clone())
            .collect();
        assert_eq!(each.len(), 2, "{v}: {each:?}");
        assert!(each.iter().all(|r| r.len() == 1));
    }
}
