//! The HTTP core against real local servers (tests/common/http_peer.rs).
mod common;

use common::certs::{openssl_self_signed, openssl_v1};
use common::core_values::{assert_cause, config, int, text};
use common::http_peer::{self, HttpPeer, ProxyPeer};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use PluginHttpClient::core::config::{ConfigValue, FromConfig};
use PluginHttpClient::core::error::Cause;
use PluginHttpClient::core::http::header::HEADER_FORMAT_ERROR;
use PluginHttpClient::core::http::*;

fn req(method: Method, url: String) -> Request {
    Request {
        method,
        url: RequestUrl::new(&url).unwrap(),
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

fn header(name: &str, value: &str) -> Header {
    Header::new(name, value).unwrap()
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
    r.headers = vec![header("Content-Type", "application/json")];
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
    // sent once, as libcurl does (hyper alone would omit it)
    assert_eq!(rec.header_all("content-length"), vec!["0"]);
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
    // a dictionary is uploaded the same way: still no Content-Type (parity.rs cites the
    // official httpRequest)
    assert_eq!(rec.header("content-type"), None);
}

// ----- headers --------------------------------------------------------------------------

#[test]
fn request_headers_are_sent() {
    let peer = HttpPeer::start();
    let mut r = get(format!("{}/echo", peer.base_url()));
    r.headers = vec![
        Header::parse_line(b"X-Token: abc:def").unwrap(),
        header("X-Other", "2"),
        // an empty value is sent as an empty header (newer official builds do the same)
        header("X-Empty", ""),
    ];
    execute(&r).unwrap();
    let rec = peer.last_request().unwrap();
    assert_eq!(rec.header("x-token"), Some("abc:def"));
    assert_eq!(rec.header("x-other"), Some("2"));
    assert_eq!(rec.header("x-empty"), Some(""));
    // official User-Agent by default
    assert_eq!(rec.header("user-agent"), Some("curl/7.47.0"));
    assert_eq!(rec.header("accept"), Some("*/*"));
}

#[test]
fn malformed_and_injecting_headers_are_refused() {
    for bad in [&b"nocolon"[..], b":value", b"name:", b"name:   ", b""] {
        let e = Header::parse_line(bad).unwrap_err();
        assert_cause(&e, Cause::Argument);
        // the official plugin's wording
        assert_eq!(e.message(), HEADER_FORMAT_ERROR);
    }
    assert_cause(&Header::new("", "v").unwrap_err(), Cause::Argument);
    // empty values are allowed, empty names are not
    assert_eq!(Header::new("X", "").unwrap().value(), "");
    for (n, v) in [
        ("X", "a\r\nEvil: 1"),
        ("X", "a\nb"),
        ("X\r\nY", "1"),
        ("X", "a\0"),
        ("Bad Name", "1"),
    ] {
        assert_cause(&Header::new(n, v).unwrap_err(), Cause::Argument);
    }
    let e = Header::parse_line(b"X: a\r\nEvil: 1").unwrap_err();
    assert_cause(&e, Cause::Argument);
    // the message says what is wrong
    assert!(e.message().contains("CR, LF or NUL"), "{}", e.message());
}

#[test]
fn user_agent_config_overrides() {
    let peer = HttpPeer::start();
    let mut r = get(format!("{}/echo", peer.base_url()));
    r.config = config::<HttpConfig>(&[("userAgent", text("my-agent/1"))]).unwrap();
    execute(&r).unwrap();
    assert_eq!(
        peer.last_request().unwrap().header("user-agent"),
        Some("my-agent/1")
    );
    // a user agent that would inject a header is refused when the config is read
    let e = config::<HttpConfig>(&[("userAgent", text("a\r\nX-Evil: 1"))]).unwrap_err();
    assert_cause(&e, Cause::Argument);
    assert!(e.message().contains("userAgent"), "{}", e.message());
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
fn gzip_decompressed_on_request_and_raw_by_default() {
    let peer = HttpPeer::start();
    let mut r = get(format!("{}/gzip", peer.base_url()));
    r.config.decompress = true;
    let resp = execute(&r).unwrap();
    assert_eq!(resp.body, http_peer::GZIP_TEXT.as_bytes());
    let ae = peer.last_request().unwrap();
    assert!(ae.header("accept-encoding").unwrap().contains("gzip"));

    // by default, as the official plugin (libcurl without CURLOPT_ACCEPT_ENCODING): no
    // Accept-Encoding is sent, and a body is returned as it came
    let resp = execute(&get(format!("{}/gzip", peer.base_url()))).unwrap();
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
    assert_cause(&e, Cause::Protocol);
    // the message names the key to raise
    assert!(
        e.message().contains("maxResponseBytes=1000"),
        "{}",
        e.message()
    );

    // chunked (no Content-Length): limit found while reading
    let mut r = get(format!("{}/chunked", peer.base_url()));
    r.config.max_response_bytes = 15;
    let e = execute(&r).unwrap_err();
    assert_cause(&e, Cause::Protocol);
    assert!(
        e.message().contains("maxResponseBytes=15"),
        "{}",
        e.message()
    );

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
    assert_cause(&e, Cause::Timeout);
    // the message gives the limit and the phase
    assert!(e.message().contains("300 ms"), "{}", e.message());
    assert!(
        e.message().contains("before the response arrived"),
        "{}",
        e.message()
    );

    // the limit covers the body too
    let mut r = get(format!("{}/stall-body", peer.base_url()));
    r.timeout_ms = 300;
    let t = Instant::now();
    let e = execute(&r).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_cause(&e, Cause::Timeout);
    assert!(
        e.message().contains("while reading the response body"),
        "{}",
        e.message()
    );

    // slow but within the limit
    let mut r = get(format!("{}/slow/100", peer.base_url()));
    r.timeout_ms = 5000;
    assert_eq!(execute(&r).unwrap().body, b"slow");
}

#[test]
fn connection_refused_says_so() {
    let port = http_peer::closed_port();
    let e = execute(&get(format!("http://127.0.0.1:{port}/x"))).unwrap_err();
    assert_cause(&e, Cause::Connect);
    // the message names the peer
    assert!(
        e.message().contains(&format!("127.0.0.1:{port}")),
        "{}",
        e.message()
    );
}

#[test]
fn unknown_host_says_so() {
    // A 70-character label: the system resolver refuses it without sending a DNS query.
    let host = format!("{}.invalid", "n".repeat(70));
    let e = execute(&get(format!("http://{host}/x"))).unwrap_err();
    assert_cause(&e, Cause::Dns);
    assert!(e.message().contains(&host), "{}", e.message());
}

#[test]
fn invalid_url_and_scheme() {
    assert_cause(
        &execute(&get("http://".into())).unwrap_err(),
        Cause::Argument,
    );
    let e = execute(&get("ftp://127.0.0.1/x".into())).unwrap_err();
    assert_cause(&e, Cause::Argument);
    assert!(e.message().contains("'ftp'"), "{}", e.message());
    for bad in ["", "   ", "http://h/\r\nX: 1", "http://h/\0"] {
        assert_cause(&RequestUrl::new(bad).unwrap_err(), Cause::Argument);
    }
    assert_eq!(
        RequestUrl::new("localhost:8900/x").unwrap().as_str(),
        "http://localhost:8900/x"
    );
}

// ----- TLS ----------------------------------------------------------------------------------

#[test]
fn https_self_signed_rejected_by_default_with_both_ways_out() {
    let peer = HttpPeer::start();
    let e = execute(&get(format!("{}/echo", peer.https_base_url()))).unwrap_err();
    assert_cause(&e, Cause::Tls);
    // the message gives both ways out
    let m = e.message();
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
    // HTTP/1.1 by default although the server offers HTTP/2: the official plugin's headers
    assert!(
        headers_text(&resp).starts_with("HTTP/1.1 200 OK\r\n"),
        "{}",
        headers_text(&resp)
    );
    assert_eq!(peer.last_request().unwrap().version, "HTTP/1.1");
    // with config http2, HTTP/2 is negotiated: curl's status line form
    let mut r = get(format!("{}/echo", peer.https_base_url()));
    r.config = config::<HttpConfig>(&[
        ("verifySSL", ConfigValue::Bool(false)),
        ("http2", ConfigValue::Bool(true)),
    ])
    .unwrap();
    let resp = execute(&r).unwrap();
    assert!(
        headers_text(&resp).starts_with("HTTP/2 200\r\n"),
        "{}",
        headers_text(&resp)
    );

    let ca = temp_file("ca.pem", peer.ca_pem().as_bytes());
    let mut r = get(format!("{}/echo?x=1", peer.https_base_url()));
    r.config = config::<HttpConfig>(&[("caFile", text(&ca))]).unwrap();
    r.params = Some(Params::Raw(b"y=2".to_vec()));
    let resp = execute(&r).unwrap();
    assert_eq!(resp.status, 200);
    let rec = peer.last_request().unwrap();
    assert!(rec.tls);
    assert_eq!(rec.query(), "x=1&y=2");
    // also by host name
    let mut r2 = r.clone();
    r2.url = RequestUrl::new(&format!("https://localhost:{}/echo", peer.https_port())).unwrap();
    assert_eq!(execute(&r2).unwrap().status, 200);
    let _ = std::fs::remove_file(ca);

    let mut r = get(format!("{}/echo", peer.https_base_url()));
    r.config.ca_file = Some("/nonexistent/ca.pem".into());
    let e = execute(&r).unwrap_err();
    assert_cause(&e, Cause::Io);
    // the message names the file
    assert!(
        e.message().contains("caFile '/nonexistent/ca.pem'"),
        "{}",
        e.message()
    );
    // a file without a certificate
    let empty = temp_file("empty_ca.pem", b"not a certificate\n");
    r.config.ca_file = Some(empty.clone());
    assert_cause(&execute(&r).unwrap_err(), Cause::Argument);
    let _ = std::fs::remove_file(empty);

    // One thread, configurations in turn: each call gets its own configuration's client
    // (the thread's last-used client is reused only for an equal configuration).
    let mut off = get(format!("{}/echo", peer.https_base_url()));
    off.config.verify_ssl = false;
    let strict = get(format!("{}/echo", peer.https_base_url()));
    for _ in 0..2 {
        assert_eq!(execute(&off).unwrap().status, 200);
        assert_cause(&execute(&strict).unwrap_err(), Cause::Tls);
    }
}

// ----- TLS: certificates pinned by caFile ---------------------------------------------------

/// A fresh, empty directory for one test's files.
fn test_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("http_core_{}_{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A GET of `https://HOST:PORT/echo` with `ca_file`.
fn https_get(host: &str, peer: &HttpPeer, ca_file: Option<&str>) -> Request {
    let mut r = get(format!("https://{host}:{}/echo", peer.https_port()));
    r.config.ca_file = ca_file.map(str::to_string);
    r
}

#[test]
fn tls_openssl_self_signed_pinned_by_common_name() {
    let dir = test_dir("pin_cn");
    let cert = openssl_self_signed(&dir, "/CN=localhost", &[]);
    // What OpenSSL 3 makes by default: a CA certificate without subjectAltName, which
    // webpki refuses as a server's certificate (CaUsedAsEndEntity).
    assert!(cert.text.contains("CA:TRUE"), "{}", cert.text);
    assert!(
        !cert.text.contains("Subject Alternative Name"),
        "{}",
        cert.text
    );
    let peer = HttpPeer::start_with_pem(&cert.pem, &cert.key);

    let resp = execute(&https_get("localhost", &peer, Some(&cert.path))).unwrap();
    assert_eq!(resp.status, 200);
    let rec = peer.last_request().unwrap();
    assert!(rec.tls);
    assert_eq!(rec.path(), "/echo");

    // Its common name is a host name: the same server reached as 127.0.0.1 is not named.
    let e = execute(&https_get("127.0.0.1", &peer, Some(&cert.path))).unwrap_err();
    assert_cause(&e, Cause::Tls);
    assert_eq!(peer.requests().len(), 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn tls_openssl_self_signed_pinned_by_ip_subject_alt_name() {
    let dir = test_dir("pin_san");
    let cert = openssl_self_signed(
        &dir,
        "/CN=localhost",
        &["-addext", "subjectAltName=IP:127.0.0.1"],
    );
    assert!(cert.text.contains("CA:TRUE"), "{}", cert.text);
    assert!(cert.text.contains("IP Address:127.0.0.1"), "{}", cert.text);
    let peer = HttpPeer::start_with_pem(&cert.pem, &cert.key);

    let resp = execute(&https_get("127.0.0.1", &peer, Some(&cert.path))).unwrap();
    assert_eq!(resp.status, 200);
    assert!(peer.last_request().unwrap().tls);

    // With a subjectAltName, the common name no longer counts (as in OpenSSL and webpki).
    let e = execute(&https_get("localhost", &peer, Some(&cert.path))).unwrap_err();
    assert_cause(&e, Cause::Tls);
    assert_eq!(peer.requests().len(), 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn tls_openssl_self_signed_refused_without_ca_file() {
    let dir = test_dir("pin_none");
    let cert = openssl_self_signed(
        &dir,
        "/CN=localhost",
        &["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
    );
    let peer = HttpPeer::start_with_pem(&cert.pem, &cert.key);
    for host in ["localhost", "127.0.0.1"] {
        let e = execute(&https_get(host, &peer, None)).unwrap_err();
        assert_cause(&e, Cause::Tls);
        // the message gives both ways out
        assert!(
            e.message().contains("caFile") && e.message().contains("verifySSL=false"),
            "{}",
            e.message()
        );
    }
    assert!(peer.requests().is_empty());
    // verifySSL=false is the other way out
    let mut r = https_get("127.0.0.1", &peer, None);
    r.config.verify_ssl = false;
    assert_eq!(execute(&r).unwrap().status, 200);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn tls_pinned_certificate_must_name_the_host_and_be_the_one_presented() {
    let dir = test_dir("pin_other");
    let other = openssl_self_signed(&dir, "/CN=other.test", &[]);
    let peer = HttpPeer::start_with_pem(&other.pem, &other.key);
    // pinned, but it names other.test, not localhost
    let e = execute(&https_get("localhost", &peer, Some(&other.path))).unwrap_err();
    assert_cause(&e, Cause::Tls);

    // a certificate for localhost in caFile, but not the one the server presents (same
    // subject, another key)
    let dir2 = test_dir("pin_other2");
    let served = openssl_self_signed(&dir2, "/CN=localhost", &[]);
    let pinned = openssl_self_signed(&dir, "/CN=localhost", &[]);
    let peer = HttpPeer::start_with_pem(&served.pem, &served.key);
    let e = execute(&https_get("localhost", &peer, Some(&pinned.path))).unwrap_err();
    assert_cause(&e, Cause::Tls);
    assert!(peer.requests().is_empty());
    // the right one is accepted
    assert_eq!(
        execute(&https_get("localhost", &peer, Some(&served.path)))
            .unwrap()
            .status,
        200
    );
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(dir2);
}

#[test]
fn tls_pinned_certificate_must_be_valid_now() {
    // A self-signed CA:TRUE certificate for localhost that expired in 2001.
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params.not_before = rcgen::date_time_ymd(2000, 1, 1);
    params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    let cert = params.self_signed(&key).unwrap();
    let peer = HttpPeer::start_with_pem(&cert.pem(), &key.serialize_pem());
    let ca = temp_file("expired.pem", cert.pem().as_bytes());
    let e = execute(&https_get("localhost", &peer, Some(&ca))).unwrap_err();
    assert_cause(&e, Cause::Tls);
    assert!(peer.requests().is_empty());
    let _ = std::fs::remove_file(ca);
}

#[test]
fn tls_rcgen_ca_and_leaf_still_verified() {
    let peer = HttpPeer::start();
    // the CA that signed the server's leaf (SANs localhost, 127.0.0.1)
    let ca = temp_file("rcgen_ca.pem", peer.ca_pem().as_bytes());
    for host in ["127.0.0.1", "localhost"] {
        assert_eq!(
            execute(&https_get(host, &peer, Some(&ca))).unwrap().status,
            200
        );
    }
    // the leaf itself, pinned
    let leaf = temp_file("rcgen_leaf.pem", peer.cert_pem().as_bytes());
    assert_eq!(
        execute(&https_get("127.0.0.1", &peer, Some(&leaf)))
            .unwrap()
            .status,
        200
    );
    // another CA: refused
    let stranger = HttpPeer::start();
    let other_ca = temp_file("rcgen_other_ca.pem", stranger.ca_pem().as_bytes());
    let e = execute(&https_get("127.0.0.1", &peer, Some(&other_ca))).unwrap_err();
    assert_cause(&e, Cause::Tls);
    for f in [ca, leaf, other_ca] {
        let _ = std::fs::remove_file(f);
    }
}

// ----- proxy --------------------------------------------------------------------------------

#[test]
fn proxy_with_basic_auth() {
    let peer = HttpPeer::start();
    let proxy = ProxyPeer::start("alice", "s3cret-pw");
    let mut r = get(format!("{}/echo?via=proxy", peer.base_url()));
    r.config = config::<HttpConfig>(&[
        // without scheme, as the official README writes it
        ("proxy", text(&proxy.addr().to_string())),
        ("proxy_username", text("alice")),
        ("proxy_password", text("s3cret-pw")),
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
    r.url = RequestUrl::new(&format!("{}/echo", peer.https_base_url())).unwrap();
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
    assert_cause(&e, Cause::Connect);
    assert!(e.message().contains("through the proxy"), "{}", e.message());

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
    r.config = config::<HttpConfig>(&[("followRedirects", ConfigValue::Bool(true))]).unwrap();
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
    assert_cause(&e, Cause::Protocol);
    assert!(
        e.message().contains("too many redirects"),
        "{}",
        e.message()
    );
}

// ----- config -------------------------------------------------------------------------------

#[test]
fn config_parsing() {
    let d = HttpConfig::default();
    assert!(d.verify_ssl && !d.decompress && !d.follow_redirects && !d.json);
    assert_eq!(d.max_response_bytes, 256 * 1024 * 1024);
    assert_eq!(config::<HttpConfig>(&[]).unwrap(), d);

    let e = config::<HttpConfig>(&[("verifySsl", ConfigValue::Bool(false))]).unwrap_err();
    assert_cause(&e, Cause::Argument);
    // the message names the unknown key and lists the known ones
    assert!(
        e.message()
            .starts_with("config: unknown key 'verifySsl'; known keys: "),
        "{}",
        e.message()
    );
    let keys = HttpConfig::keys();
    assert!(
        keys.contains(&"verifySSL") && keys.contains(&"json"),
        "{keys:?}"
    );
    for k in keys {
        assert!(e.message().contains(k), "{}", e.message());
    }

    let e = config::<HttpConfig>(&[("verifySSL", text("no"))]).unwrap_err();
    assert_cause(&e, Cause::Argument);
    assert_eq!(
        e.message(),
        "config 'verifySSL' must be a BOOL scalar, but got STRING"
    );
    let e = config::<HttpConfig>(&[("proxy", int(1))]).unwrap_err();
    assert_cause(&e, Cause::Argument);
    assert!(
        e.message().contains("'proxy'") && e.message().contains("STRING"),
        "{}",
        e.message()
    );
    let e = config::<HttpConfig>(&[("maxResponseBytes", ConfigValue::Other("INT VECTOR".into()))])
        .unwrap_err();
    assert_cause(&e, Cause::Argument);
    assert!(e.message().contains("INT VECTOR"), "{}", e.message());
    assert_cause(
        &config::<HttpConfig>(&[("connectTimeout", int(-1))]).unwrap_err(),
        Cause::Argument,
    );

    let c = config::<HttpConfig>(&[
        ("proxy", ConfigValue::Null),
        ("proxy_password", ConfigValue::Str(Vec::new())),
        ("verifySSL", ConfigValue::Bool(false)),
        ("connectTimeout", int(1500)),
        ("maxRedirects", int(5)),
        ("maxResponseBytes", int(0)),
        ("decompress", ConfigValue::Bool(true)),
        ("json", ConfigValue::Bool(true)),
    ])
    .unwrap();
    assert_eq!(c.proxy, None);
    assert_eq!(c.proxy_password, None);
    assert!(!c.verify_ssl && c.decompress && c.json);
    assert_eq!(c.connect_timeout_ms, Some(1500));
    assert_eq!(c.max_redirects, Some(5));
    assert_eq!(c.max_response_bytes, 0);
    // a floating-point number is read as the server's getLong() would
    let c = config::<HttpConfig>(&[(
        "connectTimeout",
        ConfigValue::Number {
            long: 1001,
            double: 1000.5,
            integral: false,
        },
    )])
    .unwrap();
    assert_eq!(c.connect_timeout_ms, Some(1001));
}

#[test]
fn json_config_sends_json() {
    let peer = HttpPeer::start();
    let mut r = req(Method::Post, format!("{}/echo", peer.base_url()));
    r.config = config::<HttpConfig>(&[("json", ConfigValue::Bool(true))]).unwrap();
    r.params = Some(Params::Raw(br#"{"a":1}"#.to_vec()));
    execute(&r).unwrap();
    let rec = peer.last_request().unwrap();
    assert_eq!(rec.body, br#"{"a":1}"#);
    assert_eq!(rec.header_all("content-type"), vec!["application/json"]);

    let mut r = req(Method::Put, format!("{}/echo", peer.base_url()));
    r.params = Some(Params::Json(br#"{"b":[1,2]}"#.to_vec()));
    execute(&r).unwrap();
    let rec = peer.last_request().unwrap();
    assert_eq!(rec.body, br#"{"b":[1,2]}"#);
    assert_eq!(rec.header_all("content-type"), vec!["application/json"]);
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
        let m = execute(r).unwrap_err().message();
        eprintln!("{m}");
        assert!(!m.contains("SECRETKEY"), "{m}");
    }
}

#[test]
fn an_invalid_url_is_shown_without_its_password() {
    for url in [
        "https://admin:s3cret@bad host/",
        "https://admin:s3#cret@bad host/x?y=1",
    ] {
        let e = execute(&get(url.to_string())).unwrap_err();
        assert_cause(&e, Cause::Argument);
        assert!(e.message().contains("invalid URL"), "{e}");
        assert!(!e.message().contains("s3"), "{e}");
    }
}

/// verifySSL=false accepts any certificate, also an X.509 v1 one that webpki cannot parse
/// (old appliances), as libcurl with verification off does; verified, it is refused. The
/// server is OpenSSL's own (`openssl s_server -www`): rustls will not serve such a
/// certificate.
#[test]
fn tls_verify_off_accepts_an_x509_v1_certificate() {
    let dir = test_dir("x509_v1");
    let cert = openssl_v1(&dir, "/CN=localhost");
    assert!(cert.text.contains("Version: 1 (0x0)"), "{}", cert.text);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = std::process::Command::new("openssl")
        .args([
            "s_server", "-www", "-quiet", "-cert", "cert.pem", "-key", "key.pem",
        ])
        .arg("-accept")
        .arg(format!("127.0.0.1:{port}"))
        .current_dir(&dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("openssl s_server");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "s_server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("https://localhost:{port}/");
    let e = execute(&get(url.clone())).unwrap_err();
    let mut off = get(url);
    off.config.verify_ssl = false;
    let answer = execute(&off);
    let _ = server.kill();
    let _ = server.wait();
    assert_cause(&e, Cause::Tls);
    assert_eq!(answer.unwrap().status, 200);
    let _ = std::fs::remove_dir_all(dir);
}
