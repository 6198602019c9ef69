//! The foundation through the test host: the same plugin binary loaded by hosts built
//! for different server versions; version(), argument validation with messages naming
//! the function and the parameter, unsupported servers, traps, exported symbols.
#[path = "common/host.rs"]
mod host;
use host::{entry, ok, run, run_with, text, VERSIONS};

#[test]
fn version_reports_the_detected_server_and_facts() {
    for v in VERSIONS {
        let d = ok(v, "httpClient::version()");
        assert_eq!(
            entry(&d, "plugin"),
            ("STRING", &serde_json::json!(env!("CARGO_PKG_VERSION")))
        );
        let (t, server) = entry(&d, "server");
        assert_eq!(t, "STRING");
        assert!(
            text(server).starts_with(host::version_of(v)),
            "{v}: server {server}"
        );
        assert_eq!(text(entry(&d, "abi").1), host::version_of(v));
        let supported = text(entry(&d, "supported").1);
        for s in VERSIONS {
            assert!(supported.contains(host::version_of(s)), "{supported}");
        }
        assert!(text(entry(&d, "tls").1).contains("rustls"));
    }
}

#[test]
fn a_four_part_server_version_uses_the_three_part_facts() {
    let r = run_with(
        "2.00.16",
        "version()",
        &[],
        &[("HOST_SERVER_VERSION", "2.00.16.1 2025.03.01 LINUX x86_64")],
    );
    let d = host::parse_ok(&r.lines[1]);
    assert_eq!(text(entry(&d, "abi").1), "2.00.16");
    assert!(text(entry(&d, "server").1).starts_with("2.00.16.1"));
}

#[test]
fn an_unsupported_server_gets_a_clear_error_not_a_crash() {
    let r = run_with(
        "2.00.16",
        "version()\nhttpGet(\"http://127.0.0.1:9/\")",
        &[],
        &[("HOST_SERVER_VERSION", "3.00.4 2025.09.01 LINUX x86_64")],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    // Without facts for the server nothing can be built: every call, version() too,
    // raises a std::exception that lists the supported versions.
    for (line, f) in r.lines[1..].iter().zip(["version", "httpGet"]) {
        assert!(line.starts_with("ERR std::exception: "), "{line}");
        assert!(
            line.contains(&format!(
                "httpClient::{f}: DolphinDB server version 3.00.4 is not supported"
            )),
            "{line}"
        );
        assert!(
            line.contains("2.00.16") && line.contains("1.30.19"),
            "{line}"
        );
    }
}

#[test]
fn argument_errors_name_the_function_and_the_parameter() {
    let cases: &[(&str, &str)] = &[
        ("httpGet(1)", "IllegalArgumentException: httpClient::httpGet: url must be a STRING scalar, but got INT SCALAR"),
        ("httpPost(\"\")", "httpClient::httpPost: url must not be empty"),
        ("httpGet(NULL)", "httpClient::httpGet: url must be a STRING scalar, but got NULL VOID"),
        ("httpGet(\"http://a/\", [1,2])", "httpClient::httpGet: params must be a STRING scalar or a dictionary with STRING keys, but got INT VECTOR"),
        ("httpGet(\"http://a/\", {\"k\": [1, 2]})", "httpClient::httpGet: params: the value of key 'k' must be a scalar, but got INT VECTOR"),
        ("httpGet(\"http://a/\", , -5)", "httpClient::httpGet: timeout must be a non-negative number of milliseconds, but got -5"),
        ("httpGet(\"http://a/\", , \"1000\")", "httpClient::httpGet: timeout must be a non-negative number of milliseconds, but got STRING SCALAR"),
        ("httpGet(\"http://a/\", , true)", "httpClient::httpGet: timeout must be a non-negative number of milliseconds, but got BOOL SCALAR"),
        ("httpPut(\"http://a/\", , , {\"X-A\": \"1\\r\\nX-Injected: 1\"})", "httpClient::httpPut: headers: header 'X-A' contains a CR, LF or NUL character"),
        ("httpGet(\"http://a/\", , , , {\"bogus\": true})", "httpClient::httpGet: config: unknown key 'bogus'; known keys: proxy, proxy_username, proxy_password, verifySSL, caFile"),
        ("httpGet(\"http://a/\", , , , {\"verifySSL\": \"yes\"})", "httpClient::httpGet: config 'verifySSL' must be a BOOL scalar, but got STRING"),
        ("httpDelete(\"http://a/\", , , , \"proxy\")", "httpClient::httpDelete: config must be a dictionary with STRING keys, but got STRING SCALAR"),
        ("sendEmail(\"\", \"p\", \"r\", \"s\", \"b\")", "httpClient::sendEmail: userId must be a non-empty string"),
        ("sendEmail(\"a\", 1, \"r\", \"s\", \"b\")", "httpClient::sendEmail: pwd must be a STRING scalar, but got INT SCALAR"),
        ("sendEmail(\"a\", \"p\", [1], \"s\", \"b\")", "httpClient::sendEmail: recipient must be a STRING scalar or a STRING vector, but got INT VECTOR"),
        ("sendEmail(\"a\", \"p\", \"r\", \"s\", , \"\")", "httpClient::sendEmail: subject and body must be set together"),
        ("sendEmail(\"a\", \"p\", \"r\", \"s\", \"b\", \"msg\")", "httpClient::sendEmail: set either subject or msg, not both"),
        ("sendEmail(\"a\", \"p\", \"r\", \"\", \"\")", "httpClient::sendEmail: userId \"a\" is not a valid e-mail address"),
        ("sendEmail(\"a@x.test\", \"p\", \"r@x.test\\r\\nBcc: e@x.test\", \"s\", \"b\")", "httpClient::sendEmail: recipient must not contain CR or LF characters"),
        ("wecomSend(\"id\", \"secret\", \"message/send?x=1\", \"{}\")", "httpClient::wecomSend: api 'message/send?x=1' must be a path"),
        ("robotSend(\"dingtalk\", \"not a url\", \"x\")", "httpClient::robotSend: the DingTalk robot webhook must be a URL"),
        ("emailSmtpConfig(\"\", \"smtp.x.com\")", "httpClient::emailSmtpConfig: emailName must not be empty"),
        ("emailSmtpConfig(\"x.com\", \"smtp.x.com\", 70000)", "httpClient::emailSmtpConfig: port must be between 1 and 65535, but got 70000"),
        ("emailSmtpConfig(\"x.com\", \"smtp.x.com\", 465, {\"tls\": \"maybe\"})", "httpClient::emailSmtpConfig: options 'tls' must be one of"),
    ];
    for v in VERSIONS {
        let script: Vec<&str> = cases.iter().map(|c| c.0).collect();
        let lines = run(v, &script.join("\n"));
        assert_eq!(lines.len(), cases.len(), "{v}: {lines:?}");
        for ((call, want), line) in cases.iter().zip(&lines) {
            assert!(
                line.starts_with("ERR IllegalArgumentException: "),
                "{v} {call}: {line}"
            );
            assert!(
                line.contains(want),
                "{v} {call}:\n got  {line}\n want {want}"
            );
        }
    }
}

#[test]
fn argument_counts_follow_the_descriptor() {
    for v in VERSIONS {
        let lines = run(
            v,
            "httpGet()\nhttpGet(\"a\",1,2,3,4,5)\nsendEmail(\"a\",\"b\",\"c\",\"d\")\nversion(1)",
        );
        for l in &lines {
            assert!(l.starts_with("ERR") && l.contains("argument"), "{v}: {l}");
        }
    }
}

#[test]
fn a_server_with_one_slot_moved_is_refused_by_the_self_check_not_crashed() {
    for (v, slot) in [
        ("2.00.16", "getString"),
        ("3.00.2/cxx11", "keys"),
        ("1.30.19", "setLong"),
    ] {
        let host_bin = host::host_binary(v, Some(slot));
        let r = host::run_host(
            &host_bin,
            &host::plugin_dir(v),
            "httpGet(\"http://127.0.0.1:9/\")\nversion()",
            &[],
            &[],
        );
        assert_eq!(
            r.code,
            Some(0),
            "{v}: stdout {:?} stderr {}",
            r.lines,
            r.stderr
        );
        for line in &r.lines[1..] {
            assert!(
                line.starts_with("ERR std::exception: httpClient::")
                    && line.contains("self-check failed")
                    && line.contains(&format!("::{slot} ")),
                "{v}: {line}"
            );
        }
    }
}

#[test]
fn the_descriptor_version_must_match_the_server() {
    let host_bin = host::host_binary("3.00.3", None);
    let r = host::run_host(
        &host_bin,
        &host::plugin_dir("2.00.16"),
        "version()",
        &[],
        &[],
    );
    assert_eq!(r.code, Some(2));
    assert!(
        r.lines
            .concat()
            .contains("doesn't match the server version"),
        "{:?}",
        r.lines
    );
}

#[test]
fn the_library_exports_only_its_entry_points() {
    let out = std::process::Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(host::plugin_library())
        .output()
        .expect("nm");
    let text = String::from_utf8_lossy(&out.stdout);
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    let descriptor = PluginHttpClient::surface::descriptor::for_version("2.00.16").unwrap();
    for f in PluginHttpClient::surface::FUNCTIONS {
        assert!(names.contains(&f.symbol), "{} not exported", f.symbol);
        assert!(descriptor.contains(&format!("{},{},", f.symbol, f.name)));
    }
    for n in &names {
        assert!(
            n.starts_with("ddbHttpClient_") || n.starts_with("httpclient_"),
            "unexpected exported symbol {n} (could clash with the server)"
        );
    }
}

#[test]
fn the_committed_descriptor_is_the_generated_one() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/PluginHttpClient.txt"))
            .unwrap();
    assert_eq!(
        committed,
        PluginHttpClient::surface::descriptor::for_version("2.00.16").unwrap()
    );
}

#[test]
fn ten_thousand_calls_from_16_threads_leave_rss_flat_and_no_live_objects() {
    // warm-up, then 16 threads x 625 = 10,000 calls, twice; RSS measured after each round
    let script = "#repeat 625 version()\n#rss\n#repeat 625 version()\n#rss\n#repeat 625 version()\n#rss\n#live";
    let r = run_with("2.00.16", script, &["--threads", "16"], &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let l = &r.lines[1..];
    for i in [0, 2, 4] {
        assert_eq!(l[i], "REPEAT ok=10000 err=0");
    }
    let kb = |s: &str| s.strip_prefix("RSS ").unwrap().parse::<i64>().unwrap();
    let (first, last) = (kb(&l[1]), kb(&l[5]));
    println!("RSS after the first 10,000 calls {first} kB, after 20,000 more {last} kB");
    if host::target_arch() == "aarch64" {
        // under qemu-aarch64 the RSS is qemu's too (its translated code grows for a while):
        // the live-object count below is the leak check there
        println!("(aarch64 under qemu: the RSS includes qemu's own memory, not bounded)");
    } else {
        assert!(last - first < 4096, "RSS grew from {first} kB to {last} kB");
    }
    assert_eq!(l[6], "LIVE 0");
}
