//! The plugin lives inside the database server: it must never take it down. Bad input,
//! hostile peers, many threads, long runs, panics and secrets, all through the test host.
#[path = "common/host.rs"]
mod host;
#[path = "common/http_peer.rs"]
mod http_peer;
#[path = "common/platform_emulator.rs"]
mod platform_emulator;
#[path = "common/smtp_peer.rs"]
mod smtp_peer;

use host::{lit, run_with, VERSIONS};
use http_peer::{closed_port, HttpPeer};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

/// Values of every wrong type and form, as host literals.
fn bad_values() -> Vec<String> {
    let mut v: Vec<String> = [
        "1",
        "1l",
        "1.5",
        "true",
        "NULL",
        "\"\"",
        "\"\\xff\\xfe\"",
        "\"a\\x00b\"",
        "\"a\\r\\nb\"",
        "\"X-A: 1\\r\\nX-B: 2\"",
        "[1,2]",
        "[\"a\",\"b\"]",
        "{\"k\":\"v\"}",
        "{1:\"a\"}",
        "{\"k\":1}",
        "{\"bogus\":true}",
        "{\"timeout\":-1}",
        "{\"verifySSL\":\"yes\"}",
        "-1",
        "2147483647",
        "9223372036854775807l",
        "\"http://\"",
        "\"://x\"",
        "\"http://127.0.0.1:0/\"",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(format!("\"{}\"", "a".repeat(1 << 20))); // a 1 MiB string
    v
}

/// Valid-looking arguments per function that fail fast and locally (closed port,
/// unknown mail domain, an api rejected before any request).
fn baselines(port: u16) -> Vec<(&'static str, Vec<String>)> {
    let closed = format!("\"http://127.0.0.1:{port}/x\"");
    let cfg = format!("{{\"baseUrl\": {closed}, \"timeout\": 1000}}");
    let http = vec![
        closed.clone(),
        "\"a=1\"".into(),
        "1000".into(),
        "\"X-A: b\"".into(),
        "{\"connectTimeout\": 500}".into(),
    ];
    vec![
        ("httpGet", http.clone()),
        ("httpPost", http.clone()),
        ("httpPut", http.clone()),
        ("httpDelete", http),
        (
            "sendEmail",
            [
                "\"u@nowhere.invalid\"",
                "\"pw\"",
                "\"r@x.test\"",
                "\"s\"",
                "\"b\"",
                "\"\"",
            ]
            .map(String::from)
            .to_vec(),
        ),
        (
            "emailSmtpConfig",
            ["\"x.test\"", "\"127.0.0.1\"", "465", "{\"tls\":\"tls\"}"]
                .map(String::from)
                .to_vec(),
        ),
        (
            "wecomSend",
            vec![
                "\"id\"".into(),
                "\"secret\"".into(),
                "\"bad api?\"".into(),
                "\"{}\"".into(),
                cfg.clone(),
            ],
        ),
        (
            "dingtalkSend",
            vec![
                "\"k\"".into(),
                "\"s\"".into(),
                "\"bad api?\"".into(),
                "\"{}\"".into(),
                cfg.clone(),
            ],
        ),
        (
            "robotSend",
            vec![
                "\"wecom\"".into(),
                format!("\"http://127.0.0.1:{port}/cgi-bin/webhook/send?key=k\""),
                "\"text\"".into(),
                "\"\"".into(),
                cfg,
            ],
        ),
        ("version", vec![]),
        ("flush", vec!["100".into()]),
        ("deliveries", vec!["5".into()]),
        ("stats", vec![]),
        ("setLogLevel", vec!["\"off\"".into(), "\"\"".into()]),
    ]
}

#[test]
fn bad_input_battery_gives_exceptions_never_crashes() {
    let port = closed_port();
    let mut calls = Vec::new();
    for (f, base) in baselines(port) {
        calls.push(format!("httpClient::{f}({})", base.join(", ")));
        for i in 0..base.len().max(1) {
            for bad in bad_values() {
                let mut args = base.clone();
                if args.is_empty() {
                    args.push(bad.clone());
                } else {
                    args[i] = bad.clone();
                }
                calls.push(format!("httpClient::{f}({})", args.join(", ")));
                // the same position omitted (a Nothing placeholder)
                if !args.is_empty() {
                    args[i] = String::new();
                    calls.push(format!("httpClient::{f}({})", args.join(", ")));
                }
            }
        }
    }
    calls.sort();
    calls.dedup();
    let script = calls.join("\n");
    let mut total = 0;
    for v in VERSIONS {
        let r = run_with(v, &script, &[], &[]);
        assert_eq!(
            r.code,
            Some(0),
            "{v}: host died: {}",
            &r.stderr[r.stderr.len().saturating_sub(2000)..]
        );
        assert!(
            r.stderr.contains("host: live objects 0"),
            "{v}: leaked objects"
        );
        let results = &r.lines[1..];
        assert_eq!(results.len(), calls.len(), "{v}: lost results");
        for (call, line) in calls.iter().zip(results) {
            let short: String = call.chars().take(120).collect();
            assert!(
                line.starts_with("OK ") || line.starts_with("ERR "),
                "{v} {short}: {line}"
            );
            if let Some(e) = line.strip_prefix("ERR ") {
                assert!(
                    e.contains("httpClient::") || e.contains("argument(s)"),
                    "{v} {short}: error does not name the function: {e}"
                );
                assert!(!e.starts_with("unknown exception"), "{v} {short}: {e}");
            }
        }
        total += calls.len();
    }
    println!("bad input battery: {} distinct calls x {} server versions = {total} cases, 0 crashes, 0 leaks", calls.len(), VERSIONS.len());
}

#[test]
fn a_panic_inside_a_call_becomes_an_exception() {
    for v in VERSIONS {
        let r = run_with(
            v,
            "httpGet(\"http://127.0.0.1:9/\")\nversion()",
            &[],
            &[("HTTPCLIENT_PANIC_PROBE", "httpGet")],
        );
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        assert_eq!(
            r.lines[1],
            "ERR RuntimeException: httpClient::httpGet: internal error: panic probe in httpGet"
        );
        assert!(
            r.lines[2].starts_with("OK "),
            "the server goes on: {}",
            r.lines[2]
        );
    }
}

/// A raw TCP peer that behaves badly; answers every connection with `behave`.
fn hostile(behave: fn(TcpStream)) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        for s in l.incoming().flatten() {
            thread::spawn(move || behave(s));
        }
    });
    port
}

fn read_request(s: &mut TcpStream) {
    let mut buf = [0u8; 4096];
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = s.read(&mut buf);
}

#[test]
fn hostile_http_peers_end_within_the_timeout_with_a_clear_error() {
    let endless_headers = hostile(|mut s| {
        read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\n");
        while s
            .write_all(b"X-Endless: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n")
            .is_ok()
        {}
    });
    let endless_body = hostile(|mut s| {
        read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n");
        let chunk = vec![b'x'; 65536];
        while s.write_all(&chunk).is_ok() {}
    });
    let slow_drip = hostile(|mut s| {
        read_request(&mut s);
        for b in b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
            .iter()
            .chain([b'x'; 100].iter())
        {
            if s.write_all(&[*b]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
    });
    let bad_chunks = hostile(|mut s| {
        read_request(&mut s);
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nnot a chunk\r\n",
        );
    });
    let tls_stall = hostile(|mut s| {
        read_request(&mut s);
        thread::sleep(Duration::from_secs(30));
    });
    let reset = hostile(|mut s| {
        read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial");
        let _ = s.flush();
        // SO_LINGER 0: the close sends a reset
        let fd = std::os::unix::io::AsRawFd::as_raw_fd(&s);
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: setsockopt on a live socket with a correctly sized struct.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                &linger as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::linger>() as u32,
            );
        }
    });
    let url = |p: u16| lit(&format!("http://127.0.0.1:{p}/"));
    let script = [
        format!("httpGet({}, , 3000)", url(endless_headers)),
        format!(
            "httpGet({}, , 0, , {{\"maxResponseBytes\": 1048576l}})",
            url(endless_body)
        ),
        format!("httpGet({}, , 1000)", url(slow_drip)),
        format!("httpGet({}, , 3000)", url(bad_chunks)),
        format!(
            "httpGet({}, , 800)",
            lit(&format!("https://127.0.0.1:{tls_stall}/"))
        ),
        format!("httpGet({}, , 3000)", url(reset)),
        "#rss".to_string(),
    ]
    .join("\n");
    let r = run_with("2.00.16", &script, &[], &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let l = &r.lines[1..];
    for line in &l[..6] {
        assert!(
            line.starts_with("ERR RuntimeException: httpClient::httpGet: "),
            "{line}"
        );
    }
    assert!(l[1].contains("maxResponseBytes"), "{}", l[1]);
    assert_eq!(host::cause_of(&l[2]), Some("timeout"), "{}", l[2]);
    assert_eq!(host::cause_of(&l[4]), Some("timeout"), "{}", l[4]);
    // memory stayed bounded while the endless body streamed
    let rss: u64 = l[6].strip_prefix("RSS ").unwrap().parse().unwrap();
    assert!(rss < 300_000, "RSS {rss} kB");
}

#[test]
fn thirty_two_threads_of_mixed_calls_lose_nothing() {
    let http = HttpPeer::start();
    let emu = platform_emulator::PlatformEmulator::start();
    let user = format!("load{}mixed.test", '@');
    let smtp = smtp_peer::SmtpPeer::start(&user);
    let cfg = format!("{{\"baseUrl\": {}}}", lit(&emu.base_url()));
    let echo = lit(&format!("{}/echo", http.base_url()));
    let mut lines = vec![format!(
        "emailSmtpConfig(\"mixed.test\", \"127.0.0.1\", {}, {{\"tls\": \"tls\", \"caFile\": {}}})",
        smtp.tls_port,
        lit(&smtp.ca_file)
    )];
    for i in 0..25 {
        lines.push(format!("httpGet({echo}, {{\"i\": \"{i}\"}})"));
        lines.push(format!("httpPost({echo}, \"{{\\\"i\\\": {i}}}\", 5000)"));
        lines.push(format!(
            "wecomSend({}, {}, \"message/send\", \"{{\\\"touser\\\":\\\"@all\\\",\\\"msgtype\\\":\\\"text\\\",\\\"text\\\":{{\\\"content\\\":\\\"{i}\\\"}}}}\", {cfg})",
            lit(platform_emulator::WECOM_CORP_ID),
            lit(platform_emulator::WECOM_CORP_SECRET)
        ));
        lines.push("httpGet(1)".into());
        if i % 5 == 0 {
            lines.push(format!(
                "sendEmail({}, {}, \"ops@x.test\", \"s{i}\", \"b\")",
                lit(&user),
                lit(&smtp.password)
            ));
        }
    }
    // The configuration first, then one `#mixed` block: each of the 32 threads runs every
    // call, each thread starting elsewhere in the block, so HTTP, WeCom, SMTP and bad calls
    // run at the same time.
    let mut script = vec![lines[0].clone(), format!("#mixed {}", lines.len() - 1)];
    script.extend(lines[1..].iter().cloned());
    let r = run_with("3.00.3", &script.join("\n"), &["--threads", "32"], &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let results = &r.lines[1..];
    assert_eq!(
        results.len(),
        lines.len() * 32,
        "one result per call per thread"
    );
    let errors: Vec<&String> = results.iter().filter(|l| l.starts_with("ERR")).collect();
    assert_eq!(
        errors.len(),
        25 * 32,
        "only the deliberate bad calls fail: {:?}",
        errors.iter().find(|e| !e.contains("url must be"))
    );
    assert_eq!(emu.gettoken_calls(platform_emulator::Platform::Wecom), 1);
    assert_eq!(smtp.wait_messages(5 * 32).len(), 5 * 32);
    assert!(r.stderr.contains("host: live objects 0"));
    println!(
        "concurrency: {} calls from 32 threads, 0 lost",
        results.len()
    );
}

#[test]
fn rss_stays_flat_over_100000_calls() {
    let http = HttpPeer::start();
    let call = format!(
        "httpGet({}, {{\"a\": \"b\"}})",
        lit(&format!("{}/echo", http.base_url()))
    );
    // warm up (pools, runtime, allocator), then 100,000 calls from 4 threads
    let script = format!("#repeat 2500 {call}\n#rss\n#repeat 25000 {call}\n#rss\n#live");
    let r = run_with("2.00.16", &script, &["--threads", "4"], &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let l = &r.lines[1..];
    assert_eq!(l[0], "REPEAT ok=10000 err=0");
    assert_eq!(l[2], "REPEAT ok=100000 err=0");
    let kb = |s: &str| s.strip_prefix("RSS ").unwrap().parse::<i64>().unwrap();
    let (before, after) = (kb(&l[1]), kb(&l[3]));
    println!("RSS after 10,000 warm-up calls {before} kB, after 100,000 more {after} kB");
    assert!(
        after - before < 16 * 1024,
        "RSS grew from {before} kB to {after} kB"
    );
    assert_eq!(l[4], "LIVE 0");
}

#[test]
fn secrets_never_appear_in_errors_or_logs() {
    let emu = platform_emulator::PlatformEmulator::start();
    let user = format!("sec{}secret.test", '@');
    let smtp = smtp_peer::SmtpPeer::start(&user);
    let port = closed_port();
    let (pw, proxy_pw, corp_secret, ding_secret, robot_secret) = (
        "Pw-SECRET-1111",
        "Proxy-SECRET-2222",
        "Corp-SECRET-3333",
        "Ding-SECRET-4444",
        "Robot-SECRET-5555",
    );
    let cfg = format!("{{\"baseUrl\": {}}}", lit(&emu.base_url()));
    let closed_cfg = format!("{{\"baseUrl\": \"http://127.0.0.1:{port}\"}}");
    let script = [
        format!("emailSmtpConfig(\"secret.test\", \"127.0.0.1\", {}, {{\"tls\": \"tls\", \"caFile\": {}}})", smtp.tls_port, lit(&smtp.ca_file)),
        format!("sendEmail({}, {}, \"a@b.test\", \"s\", \"b\")", lit(&user), lit(pw)),
        format!("httpGet(\"http://127.0.0.1:{port}/\", , 1000, , {{\"proxy\": \"http://127.0.0.1:{port}\", \"proxy_username\": \"u\", \"proxy_password\": {}}})", lit(proxy_pw)),
        format!("httpGet(\"http://u:{proxy_pw}@127.0.0.1:{port}/?token={proxy_pw}\", , 1000)"),
        format!("wecomSend(\"wrong-id\", {}, \"message/send\", \"{{}}\", {cfg})", lit(corp_secret)),
        format!("wecomSend(\"id\", {}, \"message/send\", \"{{}}\", {closed_cfg})", lit(corp_secret)),
        format!("dingtalkSend(\"wrong\", {}, \"chat/send\", \"{{}}\", {cfg})", lit(ding_secret)),
        format!("robotSend(\"dingtalk\", \"http://127.0.0.1:{port}/robot/send?access_token={robot_secret}\", \"x\", {})", lit(robot_secret)),
        format!("robotSend(\"wecom\", {}, \"x\", , {closed_cfg})", lit(robot_secret)),
        format!("robotSend(\"feishu\", \"http://127.0.0.1:{port}/open-apis/bot/v2/hook/{robot_secret}\", \"x\", {})", lit(robot_secret)),
    ]
    .join("\n");
    let mut checked = 0;
    let dir = std::env::temp_dir().join(format!("secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for v in ["1.30.19", "3.00.3"] {
        // everything logged, to the plugin's own file and to the server log
        let (file, server_log) = (
            dir.join(format!("{v}.log")),
            dir.join(format!("{v}.server.log")),
        );
        let script = format!(
            "setLogLevel(\"DEBUG\", {})\n{script}\nversion()",
            lit(file.to_str().unwrap())
        );
        let r = run_with(
            v,
            &script,
            &[],
            &[("HOST_SERVER_LOG", server_log.to_str().unwrap())],
        );
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let file = std::fs::read_to_string(&file).unwrap();
        let server_log = std::fs::read_to_string(&server_log).unwrap();
        // every failed call was logged, in both
        let failed = r.lines.iter().filter(|l| l.starts_with("ERR ")).count();
        for log in [&file, &server_log] {
            assert!(
                log.lines().count() >= failed,
                "{v}: {failed} failures, log:\n{log}"
            );
        }
        let all = format!("{}\n{}\n{file}\n{server_log}", r.lines.join("\n"), r.stderr);
        for secret in [pw, proxy_pw, corp_secret, ding_secret, robot_secret] {
            for line in all.lines() {
                // the host echoes nothing of the call; a result line containing a secret is a leak
                assert!(
                    !line.contains(secret),
                    "{v}: secret {secret} leaked: {line}"
                );
            }
        }
        let calls = &r.lines[3..r.lines.len() - 1];
        assert!(
            calls
                .iter()
                .all(|l| l.starts_with("ERR ") || l.contains("errcode")),
            "{:?}",
            r.lines
        );
        checked += r.lines.len() + r.stderr.lines().count();
    }
    println!("secrets: {checked} output lines checked for 5 secrets, none found");
}

#[test]
fn smtp_servers_that_answer_garbage_give_a_clear_error() {
    let garbage_greeting = hostile(|mut s| {
        let _ = s.write_all(b"HELLO I AM NOT SMTP\r\n");
        thread::sleep(Duration::from_secs(5));
    });
    let garbage_after_greeting = hostile(|mut s| {
        let _ = s.write_all(b"220 ok\r\n");
        read_request(&mut s);
        let _ = s.write_all(b"\x00\xff garbage \r\n999 what\r\n");
        thread::sleep(Duration::from_secs(5));
    });
    let mut script = Vec::new();
    for (i, port) in [garbage_greeting, garbage_after_greeting]
        .iter()
        .enumerate()
    {
        script.push(format!(
            "emailSmtpConfig(\"g{i}.test\", \"127.0.0.1\", {port}, {{\"tls\": \"none\", \"timeout\": 2000}})"
        ));
        script.push(format!(
            "sendEmail(\"u@g{i}.test\", \"pw\", \"r@x.test\", \"s\", \"b\")"
        ));
    }
    let r = run_with("2.00.16", &script.join("\n"), &[], &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    for line in [&r.lines[2], &r.lines[4]] {
        assert!(
            line.starts_with("ERR RuntimeException: httpClient::sendEmail: "),
            "{line}"
        );
        assert!(line.contains("127.0.0.1"), "names the server: {line}");
    }
}
