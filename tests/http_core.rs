//! The HTTP core against real local servers (tests/common/http_peer.rs).
mod common;

use common::http_peer::{self, HttpPeer, ProxyPeer};
use std::time::{Duration, Instant};
use PluginHttpClient::core::config::ConfigValue;
use PluginHttpClient::core::http::*;

fn req(method: Method, url: String) -> Request {
    Request {
        method,
        url,
        params: None,
        timeout_ms: 10_000,
        headers: Vec::new(),
        config: HttpConfig::default(),
    }
}

fn get(url: String) -> Request {
    req(Method::Get, url)
}

fn pairs(p: &[(&str, &str)]) -> Params {
    Params::Pairs(
        p.iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect(),
    )
}

fn headers_text(r: &Response) -> String {
    String::from_utf8_lossy(&r.headers).into_owned()
}

fn temp_file(name: &str, content: &[u8]) -> String {
    let p = std::env::temp_dir().join(format!("http_core_{}_{name}", std::process::id()));
    std::fs::write(&p, content).unwrap();
    p.to_string_lossy().into_owned()
}

// ----- params ---------------------------------------------------------------------------

#[test]
fn get_pairs_are_percent_encoded_query() {
    let peer = HttpPeer::start();
    let mut r = get(format!("{}/echo", peer.base_url()));
    r.params = Some(pairs(&[("a b", "x&y=z"), ("k", "v/1~._-中")]));
    let resp = execute(&r).unwrap();
    assert_eq!(resp.status, 200);
    let rec = peer.last_request().unwrap();
    assert_eq!(rec.method, "GET");
    assert_eq!(rec.query(), "a%20b=x%26y%3Dz&k=v/1~._-%E4%B8%AD");
    assert!(rec.body.is_empty());
}

#[test]
fn get_raw_params_appended_with_ampersand_when_query_exists() {
    let peer = HttpPeer::start();
    let mut r = get(format!("{}/echo?x=1", peer.base_url()));
    r.params = Some(Params::Raw(b"y=2&z=3".to_vec()));
    execute(&r).unwrap();
    assert_eq!(peer.last_request().unwrap().query(), "x=1&y=2&z=3");

    let mut r = get(format!("{}/echo", peer.base_url()));
    r.params = Some(Params::Raw(b"y=2".to_vec()));
    execute(&r).unwrap();
    assert_eq!(peer.last_request().unwrap().path_and_query, "/echo?y=2");
}

#[test]
fn url_without_scheme_means_http() {
    let peer = HttpPeer::start();
    let resp = execute(&get(format!("{}/echo", peer.http_addr()))).unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(peer.requests().len(), 1);
}

#[test]
fn delete_params_go_to_the_query() {
    let peer = HttpPeer::start();
    let mut r = req(Method::Delete, format!("{}/echo", peer.base_url()));
    r.params = Some(pairs(&[("id", "7")]));
    let resp = execute(&r).unwrap();
    assert_eq!(resp.status, 200);
    let rec = peer.last_request().unwrap();
    assert_eq!(rec.method, "DELETE");
    assert_eq!(rec.query(), "id=7");
    assert!(rec.body.is_empty());
}

#[test]
fn post_pairs_are_form_encoded_body() {
    let peer = HttpPeer::start();
    let mut r = req(Method::Post, format!("{}/echo", peer.base_url()));
    r.params = Some(pairs(&[("name", "a b"), ("x", "1&2")]));
    let resp = execute(&r).unwrap();
    assert_eq!(resp.body, b"name=a%20b&x=1%262");
    let rec = peer.last_request().unwrap();
    assert_eq!(rec.method, "POST");
    assert_eq!(rec.query(), "");
    assert_eq!(
        rec.header_all("content-type"),
        vec!["application/x-www-form-urlencoded"]
    );
}

#[test]
fn post_raw_body_verbatim_with_curl_default_content_type() {
    let peer = HttpPeer::start();
    let body = br#"{"msgtype":"text","text":{"content":"hi & bye"}}"#.to_vec();
    let mut r = req(Method::Post, format!("{}/echo", peer.base_url()));
    r.params = Some(Params::Raw(body.clone()));
    execute(&r).unwrap();
    let rec = peer.last_request().unwrap();
    assert_eq!(rec.body, body);
    // libcurl's default for CURLOPT_POSTFIELDS, which the official plugin used.
    assert_eq!(
        rec.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );

    // A user Content-Type wins, and is sent once.
    r.headers = vec![("Content-Type".into(), "application/json".into())];
    execute(&r).unwrap();
    let rec = peer.last_request().unwrap();
    assert_eq!(rec.header_all("content-type"), vec!["application/json"]);
    assert_eq!(rec.body, body);
}

#[test]
fn post_without_params_sends_empty_body() {
    let peer = HttpPeer::start();
    let resp = execute(&req(Method::Post, format!("{}/echo", peer.base_url()))).unwrap();
    assert_eq!(resp.status, 200);
    let rec = peer.last_request().unwrap();
    assert!(rec.body.is_empty());
    assert_eq!(rec.header("content-length"), Some("0"));
}

#[test]
fn put_raw_and_pairs() {
    let peer = HttpPeer::start();
    let mut r = req(Method::Put, format!("{}/echo", peer.base_url()));
    r.params = Some(Params::Raw(b"raw put body".to_vec()));
    let resp = execute(&r).unwrap();
    assert_eq!(resp.body, b"raw put body");
    let rec = peer.last_request().unwrap();
    assert_eq!(rec.method, "PUT");
    assert_eq!(rec.header("content-length"), Some("12"));
    // libcurl's upload (the official PUT) sends no Content-Type.
    assert_eq!(rec.header("content-type"), None);

    r.params = Some(pairs(&[("k", "v w")]));
    execute(&r).unwrap();
    let rec = peer.last_request().unwrap();
    assert_eq!(rec.body, b"k=v%20w");
    assert_eq!(
        rec.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
}

// ----- headers --------------------------------------------------------------------------

#[test]
fn request_headers_are_sent() {
    let peer = HttpPeer::start();
    let mut r = get(format!("{}/echo", peer.base_url()));
    let (n, v) = parse_header_string(b"X-Token: abc:def").unwrap();
    r.headers = vec![(n, v), ("X-Other".into(), "2".into())];
    execute(&r).unwrap();
    let rec = peer.last_request().unwrap();
    assert_eq!(rec.header("x-token"), Some("abc:def"));
    assert_eq!(rec.header("x-other"), Some("2"));
    // official User-Agent by default
    assert_eq!(rec.header("user-agent"), Some("curl/7.47.0"));
    assert_eq!(rec.header("accept"), Some("*/*"));
}

#[test]
fn malformed_and_injecting_headers_are_refused() {
    let fmt = "If the parameter 'header' is a STRING, it must be in the format of XXX:XXX.";
    for bad in [&b"nocolon"[..], b":value", b"name:", b""] {
        assert_eq!(parse_header_string(bad).unwrap_err().message(), fmt);
    }
    assert_eq!(
        validate_header("", "v").unwrap_err().message(),
        "the key or value in dictionary can not be empty"
    );
    assert!(validate_header("X", "").is_err());
    for (n, v) in [
        ("X", "a\r\nEvil: 1"),
        ("X", "a\nb"),
        ("X\r\nY", "1"),
        ("X", "a\0"),
    ] {
        let e = validate_header(n, v).unwrap_err();
        assert!(e.message().contains("CR, LF or NUL"), "{}", e.message());
    }
    assert!(parse_header_string(b"X: a\r\nEvil: 1").is_err());

    // execute re-validates dictionary headers: nothing reaches the server.
    let peer = HttpPeer::start();
    let mut r = get(format!("{}/echo", peer.base_url()));
    r.headers = vec![("X".into(), "a\r\nEvil: 1".into())];
    assert!(execute(&r).is_err());
    assert!(peer.requests().is_empty());
}

#[test]
fn user_agent_config_overrides() {
    let peer = HttpPeer::start();
    let mut r = get(format!("{}/echo", peer.base_url()));
    r.config =
        HttpConfig::from_entries(&[("userAgent".into(), ConfigValue::Str(b"my-agent/1".to_vec()))])
            .unwrap();
    execute(&r).unwrap();
    assert_eq!(
        peer.last_request().unwrap().header("user-agent"),
        Some("my-agent/1")
    );
}

// ----- response ---------------------------------------------------------------------------

#[test]
fn header_block_starts_with_status_line() {
    let peer = HttpPeer::start();
    let resp = execute(&get(format!("{}/headers", peer.base_url()))).unwrap();
    let h = headers_text(&resp);
    assert!(h.starts_with("HTTP/1.1 200 OK\r\n"), "{h}");
    assert!(h.ends_with("\r\n\r\n"), "{h}");
    assert!(h.contains("\r\nX-Custom: abc\r\n"), "{h}");
    assert!(h.contains("\r\nSet-Cookie: a=1\r\n"), "{h}");
    assert!(h.contains("\r\nSet-Cookie: b=2\r\n"), "{h}");
    assert!(h.contains("\r\nContent-Length: 7\r\n"), "{h}");
    assert_eq!(resp.body, b"headers");
    assert!(resp.elapsed > 0.0 && resp.elapsed < 10.0);
}

#[test]
fn non_2xx_statuses_are_normal_returns() {
    let peer = HttpPeer::start();
    for code in [404u16, 500] {
        let resp = execute(&get(format!("{}/status/{code}", peer.base_url()))).unwrap();
        assert_eq!(resp.status, code);
        assert_eq!(resp.body, format!("status {code}").as_bytes());
    }
    let resp = execute(&get(format!("{}/status/404", peer.base_url()))).unwrap();
    assert!(headers_text(&resp).starts_with("HTTP/1.1 404 Not Found\r\n"));
    for code in [204u16, 304] {
        let resp = execute(&get(format!("{}/status/{code}", peer.base_url()))).unwrap();
        assert_eq!(resp.status, code);
        assert!(resp.body.is_empty());
    }
}

#[test]
fn non_utf8_body_is_byte_exact() {
    let peer = HttpPeer::start();
    let resp = execute(&get(format!("{}/binary", peer.base_url()))).unwrap();
    assert_eq!(resp.body, http_peer::BINARY_BODY);
}

#[test]
fn large_body_is_complete() {
    let peer = HttpPeer::start();
    let n = 20 * 1024 * 1024;
    let resp = execute(&get(format!("{}/large/{n}", peer.base_url()))).unwrap();
    assert_eq!(resp.body.len(), n);
    for i in [0, 1, 250, 251, 12345, n / 2, n - 1] {
        assert_eq!(resp.body[i], http_peer::large_byte(i), "byte {i}");
    }
}

#[test]
fn chunked_body_is_assembled() {
    let peer = HttpPeer::start();
    let resp = execute(&get(format!("{}/chunked", peer.base_url()))).unwrap();
    assert_eq!(resp.body, http_peer::CHUNKED_PARTS.concat().as_bytes());
    assert!(headers_text(&resp).contains("Transfer-Encoding: chunked"));
}

#[test]
fn gzip_decompressed_by_default_and_raw_when_disabled() {
    let peer = HttpPeer::start();
    let resp = execute(&get(format!("{}/gzip", peer.base_url()))).unwrap();
    assert_eq!(resp.body, http_peer::GZIP_TEXT.as_bytes());
    let ae = peer.last_request().unwrap();
    assert!(ae.header("accept-encoding").unwrap().contains("gzip"));

    let mut r = get(format!("{}/gzip", peer.base_url()));
    r.config.decompress = false;
    let resp = execute(&r).unwrap();
    assert_eq!(&resp.body[..2], &[0x1f, 0x8b]);
    assert!(headers_text(&resp).contains("Content-Encoding: gzip"));
    assert_eq!(peer.last_request().unwrap().header("accept-encoding"), None);
}

#[test]
fn max_response_bytes_is_enforced() {
    let peer = HttpPeer::start();
    let mut r = get(format!("{}/large/100000", peer.base_url()));
    r.config.max_response_bytes = 1000;
    let e = execute(&r).unwrap_err();
    assert!(
        e.message().contains("maxResponseBytes=1000"),
        "{}",
        e.message()
    );

    // chunked (no Content-Length): limit found while reading
    let mut r = get(format!("{}/chunked", peer.base_url()));
    r.config.max_response_bytes = 15;
    let e = execute(&r).unwrap_err();
    assert!(e.message().contains("maxResponseBytes"), "{}", e.message());

    // exactly at the limit is fine; 0 = unlimited
    let mut r = get(format!("{}/large/1000", peer.base_url()));
    r.config.max_response_bytes = 1000;
    assert_eq!(execute(&r).unwrap().body.len(), 1000);
    r.config.max_response_bytes = 0;
    assert_eq!(execute(&r).unwrap().body.len(), 1000);
}

// ----- failures -----------------------------------------------------------------------------

#[test]
fn timeout_says_timeout() {
    let peer = HttpPeer::start();
    let mut r = get(format!("{}/hang", peer.base_url()));
    r.timeout_ms = 300;
    let t = Instant::now();
    let e = execute(&r).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(e.message().starts_with("timeout"), "{}", e.message());
    assert!(e.message().contains("300 ms"), "{}", e.message());

    // the limit covers the body too
    let mut r = get(format!("{}/stall-body", peer.base_url()));
    r.timeout_ms = 300;
    let t = Instant::now();
    let e = execute(&r).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(e.message().starts_with("timeout"), "{}", e.message());
    assert!(e.message().contains("response body"), "{}", e.message());

    // slow but within the limit
    let mut r = get(format!("{}/slow/100", peer.base_url()));
    r.timeout_ms = 5000;
    assert_eq!(execute(&r).unwrap().body, b"slow");
}

#[test]
fn connection_refused_says_so() {
    let port = http_peer::closed_port();
    let e = execute(&get(format!("http://127.0.0.1:{port}/x"))).unwrap_err();
    assert!(
        e.message().contains("connection refused"),
        "{}",
        e.message()
    );
    assert!(e.message().contains(&format!("127.0.0.1:{port}")));
}

#[test]
fn unknown_host_says_so() {
    // A 70-character label: the system resolver refuses it without sending a DNS query.
    let host = format!("{}.invalid", "n".repeat(70));
    let e = execute(&get(format!("http://{host}/x"))).unwrap_err();
    assert!(e.message().contains("unknown host"), "{}", e.message());
    assert!(e.message().contains(&host));
}

#[test]
fn invalid_url_and_scheme() {
    assert!(execute(&get("http://".into())).is_err());
    let e = execute(&get("ftp://127.0.0.1/x".into())).unwrap_err();
    assert!(
        e.message().contains("unsupported URL scheme"),
        "{}",
        e.message()
    );
}

// ----- TLS ----------------------------------------------------------------------------------

#[test]
fn https_self_signed_rejected_by_default_with_both_ways_out() {
    let peer = HttpPeer::start();
    let e = execute(&get(format!("{}/echo", peer.https_base_url()))).unwrap_err();
    let m = e.message();
    assert!(m.contains("TLS certificate verification failed"), "{m}");
    assert!(m.contains("verifySSL=false") && m.contains("caFile"), "{m}");
    assert!(peer.requests().is_empty());
}

#[test]
fn https_verify_off_and_ca_file() {
    let peer = HttpPeer::start();
    let mut r = get(format!("{}/echo", peer.https_base_url()));
    r.config.verify_ssl = false;
    let resp = execute(&r).unwrap();
    assert_eq!(resp.status, 200);
    // HTTP/2 negotiated over TLS: curl's status line form
    assert!(
        headers_text(&resp).starts_with("HTTP/2 200\r\n"),
        "{}",
        headers_text(&resp)
    );

    let ca = temp_file("ca.pem", peer.ca_pem().as_bytes());
    let mut r = get(format!("{}/echo?x=1", peer.https_base_url()));
    r.config =
        HttpConfig::from_entries(&[("caFile".into(), ConfigValue::Str(ca.clone().into_bytes()))])
            .unwrap();
    r.params = Some(Params::Raw(b"y=2".to_vec()));
    let resp = execute(&r).unwrap();
    assert_eq!(resp.status, 200);
    let rec = peer.last_request().unwrap();
    assert!(rec.tls);
    assert_eq!(rec.query(), "x=1&y=2");
    // also by host name
    let mut r2 = r.clone();
    r2.url = format!(
        "https://localhost:{}/echo",
        peer.https_base_url().rsplit(':').next().unwrap()
    );
    assert_eq!(execute(&r2).unwrap().status, 200);
    let _ = std::fs::remove_file(ca);

    let mut r = get(format!("{}/echo", peer.https_base_url()));
    r.config.ca_file = Some("/nonexistent/ca.pem".into());
    let e = execute(&r).unwrap_err();
    assert!(e.message().contains("caFile"), "{}", e.message());

    // One thread, configurations in turn: each call gets its own configuration's client
    // (the thread's last-used client is reused only for an equal configuration).
    let mut off = get(format!("{}/echo", peer.https_base_url()));
    off.config.verify_ssl = false;
    let strict = get(format!("{}/echo", peer.https_base_url()));
    for _ in 0..2 {
        assert_eq!(execute(&off).unwrap().status, 200);
        let e = execute(&strict).unwrap_err();
        assert!(
            e.message().contains("TLS certificate verification failed"),
            "{}",
            e.message()
        );
    }
}

// ----- proxy --------------------------------------------------------------------------------

#[test]
fn proxy_with_basic_auth() {
    let peer = HttpPeer::start();
    let proxy = ProxyPeer::start("alice", "s3cret-pw");
    let mut r = get(format!("{}/echo?via=proxy", peer.base_url()));
    r.config = HttpConfig::from_entries(&[
        // without scheme, as the official README writes it
        (
            "proxy".into(),
            ConfigValue::Str(proxy.addr().to_string().into_bytes()),
        ),
        ("proxy_username".into(), ConfigValue::Str(b"alice".to_vec())),
        (
            "proxy_password".into(),
            ConfigValue::Str(b"s3cret-pw".to_vec()),
        ),
    ])
    .unwrap();
    let resp = execute(&r).unwrap();
    assert_eq!(resp.status, 200);
    let recs = proxy.requests();
    assert_eq!(recs.len(), 1);
    assert!(recs[0].authorized, "{recs:?}");
    assert_eq!(
        recs[0].target,
        format!("{}/echo?via=proxy", peer.base_url())
    );
    let rec = peer.last_request().unwrap();
    assert_eq!(rec.query(), "via=proxy");
    assert_eq!(rec.header("proxy-authorization"), None);
    assert!(!format!("{:?}", r.config).contains("s3cret-pw"));

    // wrong password: the proxy's 407 is a normal return
    r.config.proxy_password = Some("wrong".into());
    assert_eq!(execute(&r).unwrap().status, 407);

    // https through the proxy (CONNECT), verified with the CA
    let ca = temp_file("proxy_ca.pem", peer.ca_pem().as_bytes());
    let mut r = r.clone();
    r.config.proxy_password = Some("s3cret-pw".into());
    r.config.ca_file = Some(ca.clone());
    r.url = format!("{}/echo", peer.https_base_url());
    assert_eq!(execute(&r).unwrap().status, 200);
    assert_eq!(proxy.requests().last().unwrap().method, "CONNECT");
    let _ = std::fs::remove_file(ca);
}

#[test]
fn proxy_password_never_in_messages() {
    let port = http_peer::closed_port();
    let mut r = get("http://127.0.0.1:1/x".into());
    r.config.proxy = Some(format!("http://127.0.0.1:{port}"));
    r.config.proxy_username = Some("bob".into());
    r.config.proxy_password = Some("TopSecret99".into());
    let e = execute(&r).unwrap_err();
    assert!(!e.message().contains("TopSecret99"), "{}", e.message());
    assert!(e.message().contains("refused"), "{}", e.message());

    r.config.proxy = Some("http://bob:TopSecret99@127.0.0.1:1".into());
    r.config.proxy_password = None;
    let e = execute(&r).unwrap_err();
    assert!(!e.message().contains("TopSecret99"), "{}", e.message());
    assert!(!format!("{:?}", r.config).contains("TopSecret99"));
}

// ----- redirects ----------------------------------------------------------------------------

#[test]
fn redirects_off_by_default_on_with_config() {
    let peer = HttpPeer::start();
    let resp = execute(&get(format!("{}/redirect", peer.base_url()))).unwrap();
    assert_eq!(resp.status, 302);
    assert!(headers_text(&resp).contains("Location: /echo?redirected=1"));
    assert_eq!(peer.requests().len(), 1);

    let mut r = get(format!("{}/redirect", peer.base_url()));
    r.config =
        HttpConfig::from_entries(&[("followRedirects".into(), ConfigValue::Bool(true))]).unwrap();
    let resp = execute(&r).unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(
        peer.last_request().unwrap().path_and_query,
        "/echo?redirected=1"
    );

    let mut r = get(format!("{}/redirect-loop", peer.base_url()));
    r.config.follow_redirects = true;
    r.config.max_redirects = Some(3);
    let e = execute(&r).unwrap_err();
    assert!(e.message().contains("redirect"), "{}", e.message());
}

// ----- config -------------------------------------------------------------------------------

#[test]
fn config_parsing() {
    let d = HttpConfig::default();
    assert!(d.verify_ssl && d.decompress && !d.follow_redirects);
    assert_eq!(d.max_response_bytes, 256 * 1024 * 1024);
    assert_eq!(HttpConfig::from_entries(&[]).unwrap(), d);

    let e =
        HttpConfig::from_entries(&[("verifySsl".into(), ConfigValue::Bool(false))]).unwrap_err();
    assert!(e.message().contains("verifySsl"), "{}", e.message());
    for k in HttpConfig::KEYS {
        assert!(e.message().contains(k), "{}", e.message());
    }

    let e = HttpConfig::from_entries(&[("verifySSL".into(), ConfigValue::Str(b"no".to_vec()))])
        .unwrap_err();
    assert!(
        e.message().contains("verifySSL") && e.message().contains("BOOL"),
        "{}",
        e.message()
    );
    let e = HttpConfig::from_entries(&[("proxy".into(), ConfigValue::Int(1))]).unwrap_err();
    assert!(
        e.message().contains("proxy") && e.message().contains("STRING"),
        "{}",
        e.message()
    );
    let e = HttpConfig::from_entries(&[(
        "maxResponseBytes".into(),
        ConfigValue::Other("INT VECTOR".into()),
    )])
    .unwrap_err();
    assert!(e.message().contains("INT VECTOR"), "{}", e.message());
    assert!(HttpConfig::from_entries(&[("connectTimeout".into(), ConfigValue::Int(-1))]).is_err());

    let c = HttpConfig::from_entries(&[
        ("proxy".into(), ConfigValue::Null),
        ("proxy_password".into(), ConfigValue::Str(Vec::new())),
        ("verifySSL".into(), ConfigValue::Bool(false)),
        ("connectTimeout".into(), ConfigValue::Int(1500)),
        ("maxRedirects".into(), ConfigValue::Int(5)),
        ("maxResponseBytes".into(), ConfigValue::Int(0)),
        ("decompress".into(), ConfigValue::Bool(false)),
    ])
    .unwrap();
    assert_eq!(c.proxy, None);
    assert_eq!(c.proxy_password, None);
    assert!(!c.verify_ssl && !c.decompress);
    assert_eq!(c.connect_timeout_ms, Some(1500));
    assert_eq!(c.max_redirects, Some(5));
    assert_eq!(c.max_response_bytes, 0);
}

// ----- pooling ------------------------------------------------------------------------------

#[test]
fn connections_are_reused() {
    let peer = HttpPeer::start();
    for i in 0..20 {
        let mut r = get(format!("{}/echo", peer.base_url()));
        r.params = Some(Params::Raw(format!("i={i}").into_bytes()));
        assert_eq!(execute(&r).unwrap().status, 200);
    }
    assert_eq!(peer.requests().len(), 20);
    assert_eq!(peer.connections(), 1);

    // across threads: at most one connection per concurrent caller
    let base = peer.base_url();
    std::thread::scope(|s| {
        for _ in 0..4 {
            let base = base.clone();
            s.spawn(move || {
                for _ in 0..10 {
                    assert_eq!(execute(&get(format!("{base}/echo"))).unwrap().status, 200);
                }
            });
        }
    });
    assert_eq!(peer.requests().len(), 60);
    assert!(peer.connections() <= 5, "{}", peer.connections());

    // TLS too
    let mut r = get(format!("{}/echo", peer.https_base_url()));
    r.config.verify_ssl = false;
    for _ in 0..10 {
        execute(&r).unwrap();
    }
    assert_eq!(peer.tls_connections(), 1);
}

/// Prints the failure messages (run with --nocapture to read them).
#[test]
fn failure_messages_read_well() {
    let peer = HttpPeer::start();
    let port = http_peer::closed_port();
    let mut hang = get(format!("{}/hang?key=SECRETKEY", peer.base_url()));
    hang.timeout_ms = 200;
    let cases = [
        hang,
        get(format!("http://127.0.0.1:{port}/x")),
        get("http://no-such-host.invalid/x".into()),
        get(format!("{}/echo?key=SECRETKEY", peer.https_base_url())),
        get("http://no-such-host.invalid/x?key=SECRETKEY".into()),
    ];
    for r in &cases {
        let m = execute(r).unwrap_err().message().to_string();
        eprintln!("{m}");
        assert!(!m.contains("SECRETKEY"), "{m}");
    }
}
