//! Operating the plugin through the test host: `setLogLevel` and where log lines go (the
//! server's log through the calling session's `writeLog`, and a file of the user's),
//! `stats()`, `version()`. The host's `writeLog` writes to the file named by
//! HOST_SERVER_LOG, or throws with HOST_WRITELOG_THROWS=1 as a server does for a session
//! that is not logged in.
#[path = "common/host.rs"]
mod host;
#[path = "common/platform_emulator.rs"]
mod platform_emulator;

use host::{cause_of, column, entry, lit, text, Session, VERSIONS};
use platform_emulator::*;
use serde_json::{json, Value};
use std::path::PathBuf;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("operating-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    let _ = std::fs::remove_file(&p);
    p
}

fn read(p: &PathBuf) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn strings(values: &[Value]) -> Vec<String> {
    values.iter().map(text).collect()
}

/// What an on-call engineer looks for in the logs — failed calls, token refreshes,
/// retries, failed queued deliveries — at the levels set, in the server log and the file,
/// never with a secret.
#[test]
fn failures_refreshes_and_retries_reach_the_server_log_and_the_file() {
    let emu = PlatformEmulator::start();
    let port = closed_port();
    let base = lit(&emu.base_url());
    for (h, v) in VERSIONS.iter().enumerate() {
        let tag = v.replace(['.', '/'], "");
        let (file, server) = (temp(&format!("{tag}.log")), temp(&format!("{tag}.server")));
        let mut s = Session::start(v, &[("HOST_SERVER_LOG", server.to_str().unwrap())]);
        assert_eq!(
            s.ok(&format!(
                "setLogLevel(\"debug\", {})",
                lit(file.to_str().unwrap())
            )),
            json!(["STRING", "DEBUG"])
        );
        let v_info = s.ok("version()");
        assert_eq!(text(entry(&v_info, "logLevel").1), "DEBUG");
        assert_eq!(text(entry(&v_info, "logFile").1), file.to_str().unwrap());
        // a failed call, with a token in its URL
        let failed = s.call(&format!(
            "httpGet(\"http://127.0.0.1:{port}/alert?token=Tok-SECRET-77\", , 1000)"
        ));
        assert_eq!(cause_of(&failed), Some("connect"), "{failed}");
        // a token fetched (and cached)
        let a = s.ok(&format!(
            "wecomSend({}, {}, \"message/send\", \"{{}}\", {{\"baseUrl\": {base}}})",
            lit(WECOM_CORP_ID),
            lit(WECOM_CORP_SECRET)
        ));
        assert_eq!(entry(&a, "responseCode").1, 200, "{a}");
        // a retry after the platform's "slow down"
        let hook = format!("lim-log{h}");
        emu.throttle_next(&hook, 1, 0);
        let a = s.ok(&format!(
            "robotSend(\"wecom\", {}, \"x\", , {{\"baseUrl\": {base}}})",
            lit(&hook)
        ));
        assert_eq!(entry(&a, "errcode").1, 0);
        // a queued message that cannot be delivered
        s.ok(&format!(
            "robotSend(\"dingtalk\", \"http://127.0.0.1:{port}/robot/send?access_token=Ding-SECRET-88\", \"x\", , {{\"async\": true, \"retries\": 1}})"
        ));
        assert_eq!(s.ok("flush()"), json!(["INT", 0]));
        // the next call writes what waited to the server log
        s.ok("version()");
        s.finish();

        let (file, server) = (read(&file), read(&server));
        for (what, log) in [("file", &file), ("server log", &server)] {
            let has = |level: &str, words: &[&str]| {
                log.lines().any(|l| {
                    let lower = l.to_lowercase();
                    l.contains(&format!("[httpClient] <{level}>"))
                        && words.iter().all(|w| lower.contains(&w.to_lowercase()))
                })
            };
            assert!(
                has("WARNING", &["httpClient::httpGet", "connect"]),
                "{v} {what}:\n{log}"
            );
            assert!(
                has("INFO", &["token", "wecom"]),
                "{v} {what}: no token refresh\n{log}"
            );
            assert!(has("INFO", &["retrying"]), "{v} {what}: no retry\n{log}");
            assert!(
                has("ERROR", &["robotSend", "failed after 2 attempt(s)"]),
                "{v} {what}: no failed delivery\n{log}"
            );
            for secret in ["Tok-SECRET-77", "Ding-SECRET-88", WECOM_CORP_SECRET] {
                assert!(!log.contains(secret), "{v} {what} shows {secret}:\n{log}");
            }
        }
        // the pool grew once: every call to the emulator reused that connection
        let emu_addr = emu.base_url().trim_start_matches("http://").to_string();
        let opened = file
            .lines()
            .filter(|l| l.contains(&format!("<DEBUG> new connection to {emu_addr} ")))
            .count();
        assert_eq!(opened, 1, "{v}:\n{file}");
        // the server log's lines are the server's: "<INFO> :[httpClient] <LEVEL> ..."
        assert!(
            server
                .lines()
                .all(|l| l.starts_with("<INFO> :[httpClient] <")),
            "{server}"
        );
    }
}

#[test]
fn levels_filter_and_a_server_log_that_refuses_loses_nothing_in_the_file() {
    let port = closed_port();
    let file = temp("refusing.log");
    // writeLog throws on every call (a session not logged in): calls go on, the file
    // keeps every line
    let mut s = Session::start("3.00.3", &[("HOST_WRITELOG_THROWS", "1")]);
    s.ok(&format!(
        "setLogLevel(\"WARNING\", {})",
        lit(file.to_str().unwrap())
    ));
    for i in 0..5 {
        let line = s.call(&format!("httpGet(\"http://127.0.0.1:{port}/{i}\", , 500)"));
        assert_eq!(cause_of(&line), Some("connect"), "{line}");
    }
    // an argument error is logged at DEBUG only: not at WARNING
    let line = s.call("httpGet(1)");
    assert!(line.starts_with("ERR IllegalArgumentException"), "{line}");
    assert!(s.call("#loglines") == "LOGLINES 0");
    s.ok("setLogLevel(\"off\")");
    let off = s.call(&format!("httpGet(\"http://127.0.0.1:{port}/off\", , 500)"));
    assert_eq!(cause_of(&off), Some("connect"));
    // "" stops the file (an empty STRING is NULL in DolphinDB, yet it was given); a file
    // must be an absolute path
    assert_eq!(
        s.ok("setLogLevel(\"warning\", \"\")"),
        json!(["STRING", "WARNING"])
    );
    assert_eq!(text(entry(&s.ok("version()"), "logFile").1), "");
    // the NULL literal is "not given" (the file stays as it is); another type is refused
    assert_eq!(
        s.ok("setLogLevel(\"warning\", NULL)"),
        json!(["STRING", "WARNING"])
    );
    let number = s.call("setLogLevel(\"warning\", 1)");
    assert!(
        number.starts_with(
            "ERR IllegalArgumentException: httpClient::setLogLevel: file must be a STRING scalar"
        ),
        "{number}"
    );
    let stopped = s.call(&format!(
        "httpGet(\"http://127.0.0.1:{port}/stopped\", , 500)"
    ));
    assert_eq!(cause_of(&stopped), Some("connect"));
    let relative = s.call("setLogLevel(\"info\", \"plugin.log\")");
    assert!(
        relative.starts_with(
            "ERR IllegalArgumentException: httpClient::setLogLevel: file must be an absolute path"
        ),
        "{relative}"
    );
    let bad = s.call("setLogLevel(\"verbose\")");
    assert!(
        bad.starts_with("ERR IllegalArgumentException: httpClient::setLogLevel: level ")
            && bad.contains("\"debug\""),
        "{bad}"
    );
    let stderr = s.finish();
    let log = read(&file);
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("<WARNING>")).collect();
    assert_eq!(warnings.len(), 5, "{log}");
    for w in warnings {
        // a UTC time stamp first, then the line as the server log gets it
        assert!(
            w.len() > 24 && w.as_bytes()[4] == b'-' && w.as_bytes()[19] == b'.',
            "{w}"
        );
        assert!(
            w[24..].starts_with("[httpClient] <WARNING> httpClient::httpGet: connect: "),
            "{w}"
        );
    }
    assert!(!log.contains("IllegalArgument"), "{log}");
    assert!(!stderr.contains("[httpClient]"), "{stderr}");
}

#[test]
fn stats_show_functions_tokens_pools_and_the_queue_in_every_version() {
    let emu = PlatformEmulator::start();
    let base = lit(&emu.base_url());
    let port = closed_port();
    for v in VERSIONS {
        let mut s = Session::start(v, &[]);
        for _ in 0..3 {
            s.ok(&format!(
                "wecomSend({}, {}, \"message/send\", \"{{}}\", {{\"baseUrl\": {base}}})",
                lit(WECOM_CORP_ID),
                lit(WECOM_CORP_SECRET)
            ));
        }
        s.call(&format!("httpGet(\"http://127.0.0.1:{port}/\", , 500)"));
        s.call("httpGet(\"http://127.0.0.1:1/\", , \"x\")");
        let st = s.ok("stats()");
        let (section, name, value) = (
            strings(column(&st, "section")),
            strings(column(&st, "name")),
            column(&st, "value"),
        );
        let row = |sec: &str, pred: &dyn Fn(&str) -> bool| {
            (0..section.len())
                .find(|&i| section[i] == sec && pred(&name[i]))
                .unwrap_or_else(|| panic!("{v}: no {sec} row: {st}"))
        };
        let get = row("function", &|n| n == "httpGet");
        assert_eq!(column(&st, "calls")[get], 2, "{v}: {st}");
        assert_eq!(column(&st, "errors")[get], 2);
        let wecom = row("function", &|n| n == "wecomSend");
        assert_eq!(
            (
                column(&st, "calls")[wecom].clone(),
                column(&st, "errors")[wecom].clone()
            ),
            (json!(3), json!(0))
        );
        assert!(
            column(&st, "p99Ms")[wecom].as_f64().unwrap()
                >= column(&st, "p50Ms")[wecom].as_f64().unwrap()
        );
        // one cached token, its corp id cut, seconds left
        let token = row("token", &|n| n.starts_with("wecom"));
        assert!(!name[token].contains(WECOM_CORP_ID), "{}", name[token]);
        assert!(value[token].as_i64().unwrap() > 6000, "{st}");
        // the emulator's connection stays open in the pool
        let authority = emu.base_url().trim_start_matches("http://").to_string();
        let pool = row("pool", &|n| n == authority);
        assert!(value[pool].as_i64().unwrap() >= 1, "{st}");
        let queue = row("queue", &|n| n == "deliveries");
        assert_eq!(value[queue], 0);
        s.finish();
    }
}
