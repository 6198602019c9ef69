//! httpGet / httpPost / httpPut / httpDelete through the test host of every version, against
//! a real local HTTP/HTTPS server that records what it received.
#[path = "common/host.rs"]
mod host;
#[path = "common/http_peer.rs"]
mod http_peer;

use host::{bytes, cause_of, entry, lit, parse_ok, run, run_with, text, VERSIONS};
use http_peer::{
    closed_port, large_byte, HttpPeer, ProxyPeer, BINARY_BODY, CHUNKED_PARTS, GZIP_TEXT,
};

fn one(version: &str, call: &str) -> String {
    run(version, call).remove(0)
}

#[test]
fn get_with_dictionary_params_returns_the_official_result_shape() {
    let peer = HttpPeer::start();
    for v in VERSIONS {
        let url = format!("{}/echo", peer.base_url());
        let d = parse_ok(&one(
            v,
            &format!(
                "httpClient::httpGet({}, {{\"corpid\": \"ID 1\", \"corpsecret\": \"S&2\"}}, 1000)",
                lit(&url)
            ),
        ));
        assert_eq!(entry(&d, "responseCode"), ("INT", &serde_json::json!(200)));
        let (t, headers) = entry(&d, "headers");
        assert_eq!(t, "STRING");
        assert!(
            text(headers).starts_with("HTTP/1.1 200 OK\r\n"),
            "{headers}"
        );
        assert_eq!(entry(&d, "text").0, "STRING");
        let (t, elapsed) = entry(&d, "elapsed");
        assert!(t == "DOUBLE" && elapsed.as_f64().unwrap() > 0.0);
        let r = peer.last_request().unwrap();
        assert_eq!(
            (r.method.as_str(), r.path_and_query.as_str()),
            ("GET", "/echo?corpid=ID%201&corpsecret=S%262")
        );
    }
}

#[test]
fn params_string_is_appended_with_question_mark_or_ampersand() {
    let peer = HttpPeer::start();
    let v = "2.00.16";
    let base = peer.base_url();
    let lines = run(
        v,
        &format!(
            "httpGet({}, \"a=1\")\nhttpDelete({}, \"b=2\")\nhttpGet({})",
            lit(&format!("{base}/echo")),
            lit(&format!("{base}/echo?x=0")),
            lit(&format!(
                "{}/echo?only=1",
                base.trim_start_matches("http://")
            ))
        ),
    );
    assert!(lines.iter().all(|l| l.starts_with("OK ")), "{lines:?}");
    let reqs = peer.requests();
    assert_eq!(reqs[0].path_and_query, "/echo?a=1");
    assert_eq!(
        (reqs[1].method.as_str(), reqs[1].path_and_query.as_str()),
        ("DELETE", "/echo?x=0&b=2")
    );
    // a URL without scheme means http://
    assert_eq!(reqs[2].path_and_query, "/echo?only=1");
}

#[test]
fn post_and_put_send_bodies_and_headers() {
    let peer = HttpPeer::start();
    for v in VERSIONS {
        let url = lit(&format!("{}/echo", peer.base_url()));
        let json = "{\"chatid\":\"c1\",\"msgtype\":\"text\",\"text\":{\"content\":\"告警 ok\"}}";
        let lines = run(
            v,
            &format!(
                "httpPost({url}, {{\"k\": \"v 1\"}})\n\
             httpPost({url}, {}, 1000, {{\"Content-Type\": \"application/json\"}})\n\
             httpPut({url}, \"raw body\", , \"X-Token: abc\")",
                lit(json)
            ),
        );
        assert!(lines.iter().all(|l| l.starts_with("OK ")), "{v}: {lines:?}");
        let reqs = peer.requests();
        let n = reqs.len();
        let (form, dingtalk, put) = (&reqs[n - 3], &reqs[n - 2], &reqs[n - 1]);
        assert_eq!(
            form.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(form.body, b"k=v%201");
        assert_eq!(dingtalk.header("content-type"), Some("application/json"));
        assert_eq!(dingtalk.body, json.as_bytes());
        // the echo comes back byte-exact, Chinese included
        assert_eq!(text(entry(&parse_ok(&lines[1]), "text").1), json);
        assert_eq!(
            (put.method.as_str(), put.header("x-token")),
            ("PUT", Some("abc"))
        );
        assert_eq!(put.body, b"raw body");
    }
}

#[test]
fn non_2xx_is_a_normal_return_and_binary_bodies_are_byte_exact() {
    let peer = HttpPeer::start();
    for v in VERSIONS {
        let d = parse_ok(&one(
            v,
            &format!(
                "httpGet({})",
                lit(&format!("{}/status/404", peer.base_url()))
            ),
        ));
        assert_eq!(entry(&d, "responseCode").1, 404);
        let d = parse_ok(&one(
            v,
            &format!("httpGet({})", lit(&format!("{}/binary", peer.base_url()))),
        ));
        assert_eq!(bytes(entry(&d, "text").1), BINARY_BODY);
    }
}

#[test]
fn transport_failures_are_exceptions_that_say_what_happened() {
    let peer = HttpPeer::start();
    for v in VERSIONS {
        let hang = one(
            v,
            &format!(
                "httpGet({}, , 300)",
                lit(&format!("{}/hang", peer.base_url()))
            ),
        );
        assert!(
            hang.starts_with("ERR RuntimeException: httpClient::httpGet: "),
            "{hang}"
        );
        assert_eq!(cause_of(&hang), Some("timeout"), "{hang}");
        let refused = one(
            v,
            &format!("httpPost(\"http://127.0.0.1:{}/\")", closed_port()),
        );
        assert!(refused.contains("httpClient::httpPost: "), "{refused}");
        assert_eq!(cause_of(&refused), Some("connect"), "{refused}");
    }
}

#[test]
fn https_is_verified_by_default_with_both_ways_out() {
    let peer = HttpPeer::start();
    let ca = std::env::temp_dir().join(format!("host-http-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, peer.ca_pem()).unwrap();
    let url = lit(&format!("{}/echo", peer.https_base_url()));
    for v in VERSIONS {
        let lines = run(v, &format!(
            "httpGet({url})\nhttpGet({url}, , , , {{\"verifySSL\": false}})\nhttpGet({url}, , , , {{\"caFile\": {}}})",
            lit(ca.to_str().unwrap())
        ));
        assert_eq!(cause_of(&lines[0]), Some("tls"), "{}", lines[0]);
        assert!(
            lines[0].contains("verifySSL") && lines[0].contains("caFile"),
            "{}",
            lines[0]
        );
        assert_eq!(entry(&parse_ok(&lines[1]), "responseCode").1, 200);
        assert_eq!(entry(&parse_ok(&lines[2]), "responseCode").1, 200);
    }
    let _ = std::fs::remove_file(ca);
}

#[test]
fn repeated_calls_reuse_one_connection() {
    let peer = HttpPeer::start();
    let url = lit(&format!("{}/echo", peer.base_url()));
    let lines = run("2.00.16", &vec![format!("httpGet({url})"); 20].join("\n"));
    assert_eq!(lines.iter().filter(|l| l.starts_with("OK ")).count(), 20);
    assert_eq!(peer.connections(), 1);
}

#[test]
fn sixteen_threads_over_https_all_succeed() {
    let peer = HttpPeer::start();
    let ca = std::env::temp_dir().join(format!("host-http-ca16-{}.pem", std::process::id()));
    std::fs::write(&ca, peer.ca_pem()).unwrap();
    let call = format!(
        "httpPost({}, \"{{}}\", 5000, , {{\"caFile\": {}}})",
        lit(&format!("{}/echo", peer.https_base_url())),
        lit(ca.to_str().unwrap())
    );
    let r = run_with(
        "3.00.3",
        &vec![call; 20].join("\n"),
        &["--threads", "16"],
        &[],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.lines.iter().filter(|l| l.starts_with("OK ")).count(),
        320,
        "{:?}",
        &r.lines[..3]
    );
    assert!(r.stderr.contains("host: live objects 0"));
    let _ = std::fs::remove_file(ca);
}

#[test]
fn proxy_with_credentials_as_the_official_config_keys() {
    let peer = HttpPeer::start();
    let proxy = ProxyPeer::start("alice", "s3cret-pw");
    let target = format!("{}/echo?via=proxy", peer.base_url());
    for v in VERSIONS {
        let lines = run(v, &format!(
            "httpGet({t}, , 2000, , {{\"proxy\": {p}, \"proxy_username\": \"alice\", \"proxy_password\": \"s3cret-pw\"}})\n\
             httpGet({t}, , 2000, , {{\"proxy\": {p}, \"proxy_username\": \"alice\", \"proxy_password\": \"wrong-pw\"}})",
            t = lit(&target),
            p = lit(&proxy.addr().to_string()),
        ));
        assert_eq!(entry(&parse_ok(&lines[0]), "responseCode").1, 200, "{v}");
        // the proxy's 407 is the server's answer, returned like any other status
        assert_eq!(entry(&parse_ok(&lines[1]), "responseCode").1, 407, "{v}");
        let recs = proxy.requests();
        let last_two = &recs[recs.len() - 2..];
        assert!(
            last_two[0].authorized && !last_two[1].authorized,
            "{v}: {last_two:?}"
        );
        assert_eq!(last_two[0].target, target);
    }
}

#[test]
fn redirects_decompression_chunking_http2_empty_and_large_bodies() {
    let peer = HttpPeer::start();
    let ca = std::env::temp_dir().join(format!("host-http-ca-feat-{}.pem", std::process::id()));
    std::fs::write(&ca, peer.ca_pem()).unwrap();
    let u = |path: &str| lit(&format!("{}{path}", peer.base_url()));
    let size = 20_000_000;
    let script = [
        format!("httpGet({})", u("/redirect")),
        format!(
            "httpGet({}, , , , {{\"followRedirects\": true}})",
            u("/redirect")
        ),
        format!(
            "httpGet({}, , 5000, , {{\"followRedirects\": true, \"maxRedirects\": 3}})",
            u("/redirect-loop")
        ),
        format!("httpGet({}, , , , {{\"decompress\": true}})", u("/gzip")),
        format!("httpGet({})", u("/gzip")),
        format!("httpGet({})", u("/chunked")),
        format!("httpGet({})", u("/status/204")),
        format!("httpGet({})", u("/status/304")),
        format!("httpGet({})", u(&format!("/large/{size}"))),
        format!(
            "httpGet({}, , , , {{\"caFile\": {}}})",
            lit(&format!("{}/echo", peer.https_base_url())),
            lit(ca.to_str().unwrap())
        ),
        format!(
            "httpGet({}, , , , {{\"maxResponseBytes\": 1000l}})",
            u("/large/5000")
        ),
        // a 70-character label: refused by the system resolver without any DNS query
        format!("httpGet(\"http://{}.invalid/\", , 3000)", "n".repeat(70)),
    ]
    .join("\n");
    for v in VERSIONS {
        let l = run(v, &script);
        let d: Vec<Option<serde_json::Value>> = l
            .iter()
            .map(|x| x.starts_with("OK ").then(|| parse_ok(x)))
            .collect();
        let code = |i: usize| {
            entry(
                d[i].as_ref()
                    .unwrap_or_else(|| panic!("{v} line {i}: {}", l[i])),
                "responseCode",
            )
            .1
            .as_i64()
            .unwrap()
        };
        let body = |i: usize| bytes(entry(d[i].as_ref().unwrap(), "text").1);
        assert_eq!(code(0), 302, "{v}: redirects are not followed by default");
        assert_eq!(code(1), 200, "{v}");
        assert!(l[2].contains("redirect"), "{v}: {}", l[2]);
        assert_eq!(body(3), GZIP_TEXT.as_bytes(), "{v}");
        assert_ne!(
            body(4),
            GZIP_TEXT.as_bytes(),
            "{v}: by default (decompress=false) the gzip bytes are kept"
        );
        assert_eq!(body(5), CHUNKED_PARTS.concat().as_bytes(), "{v}");
        assert_eq!((code(6), body(6).len()), (204, 0), "{v}");
        assert_eq!((code(7), body(7).len()), (304, 0), "{v}");
        let large = body(8);
        assert_eq!(large.len(), size, "{v}");
        assert!(
            large
                .iter()
                .enumerate()
                .step_by(9973)
                .all(|(i, b)| *b == large_byte(i)),
            "{v}"
        );
        assert!(
            text(entry(d[9].as_ref().unwrap(), "headers").1).starts_with("HTTP/1.1 200"),
            "{v}: HTTP/1.1 over TLS by default (the official plugin's form of headers)"
        );
        assert!(l[10].contains("maxResponseBytes"), "{v}: {}", l[10]);
        assert_eq!(cause_of(&l[10]), Some("protocol"), "{v}: {}", l[10]);
        assert_eq!(cause_of(&l[11]), Some("dns"), "{v}: {}", l[11]);
    }
    let _ = std::fs::remove_file(ca);
}
