//! ThreadSanitizer over the concurrent mixed workload: HTTP GET/POST to the local HTTP peer,
//! WeCom sends to the platform emulator (one shared token), e-mails over implicit TLS to the
//! SMTP peer and a bad call, 32 host threads each running all of them in a different order —
//! with the plugin, the standard library and the test host all instrumented (scripts/tsan.sh
//! builds them), in the oldest and the newest server ABI. Any ThreadSanitizer report fails the test, and so does
//! any lost or wrong result.
#[path = "common/http_peer.rs"]
mod http_peer;
#[path = "common/platform_emulator.rs"]
mod platform_emulator;
#[path = "common/smtp_peer.rs"]
mod smtp_peer;

#[path = "common/host.rs"]
mod host;

use host::{entry, lit, parse_ok, text};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The oldest ABI (1.30: u16 flag, virtual getType) and the newest (3.00: 24-byte Counter).
const VERSIONS: [&str; 2] = ["1.30.19", "3.00.3"];
const THREADS: usize = 32;
/// Every report counted, none stops the run (exitcode=66 if any); verbosity=1 only makes
/// the runtime announce itself; second_deadlock_stack for lock-order reports;
/// history_size=4 keeps enough history to show both stacks of a race.
const TSAN_OPTIONS: &str =
    "verbosity=1 halt_on_error=0 exitcode=66 second_deadlock_stack=1 history_size=4";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs scripts/tsan.sh: the instrumented plugin and the instrumented host of each version.
fn build() -> (PathBuf, Vec<PathBuf>) {
    let out = Command::new("bash")
        .arg(repo().join("scripts/tsan.sh"))
        .args(VERSIONS)
        .output()
        .expect("bash scripts/tsan.sh");
    assert!(
        out.status.success(),
        "scripts/tsan.sh failed (the nightly toolchain with rust-src is required; \
         scripts/test.sh installs it):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map(|p| PathBuf::from(p.trim()))
            .unwrap_or_else(|| panic!("scripts/tsan.sh printed no {prefix}line: {stdout}"))
    };
    let hosts = VERSIONS.map(|v| field(&format!("HOST {v} ")));
    (field("PLUGIN "), hosts.to_vec())
}

/// A folder with the descriptor for `version` and the instrumented library.
fn plugin_dir(plugin: &Path, version: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("ddb-plugin-tsan-{}-{version}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = PluginHttpClient::surface::descriptor::for_version(version).expect("supported");
    std::fs::write(dir.join("PluginHttpClient.txt"), text).unwrap();
    let lib = dir.join("libPluginHttpClient.so");
    let _ = std::fs::remove_file(&lib);
    std::os::unix::fs::symlink(plugin, &lib).unwrap();
    dir
}

#[test]
fn mixed_calls_from_32_threads_are_thread_sanitizer_clean() {
    let started = Instant::now();
    let (plugin, hosts) = build();
    println!(
        "thread sanitizer: plugin and hosts built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for (version, host_bin) in VERSIONS.iter().zip(&hosts) {
        mixed_workload(version, &plugin, host_bin);
    }
}

fn mixed_workload(version: &str, plugin: &Path, host_bin: &Path) {
    let started = Instant::now();
    let dir = plugin_dir(plugin, version);

    let http = http_peer::HttpPeer::start();
    let emu = platform_emulator::PlatformEmulator::start();
    let user = format!("tsan{}mixed.test", '@');
    let smtp = smtp_peer::SmtpPeer::start(&user);
    let cfg = format!("{{\"baseUrl\": {}}}", lit(&emu.base_url()));
    let echo = lit(&format!("{}/echo", http.base_url()));
    // Each line runs on all THREADS threads at once; what each of its results must be.
    let mut lines: Vec<(String, Expect)> = vec![(
        format!(
            "emailSmtpConfig(\"mixed.test\", \"127.0.0.1\", {}, {{\"tls\": \"tls\", \"caFile\": {}}})",
            smtp.tls_port,
            lit(&smtp.ca_file)
        ),
        Expect::Config,
    )];
    let (rounds, mail_every) = (100, 5);
    for i in 0..rounds {
        lines.push((
            format!("httpGet({echo}, {{\"i\": \"{i}\"}})"),
            Expect::Get(i),
        ));
        lines.push((
            format!("httpPost({echo}, \"{{\\\"i\\\": {i}}}\", 5000)"),
            Expect::Post(i),
        ));
        lines.push((
            format!(
                "wecomSend({}, {}, \"message/send\", \"{{\\\"touser\\\":\\\"@all\\\",\\\"msgtype\\\":\\\"text\\\",\\\"text\\\":{{\\\"content\\\":\\\"{i}\\\"}}}}\", {cfg})",
                lit(platform_emulator::WECOM_CORP_ID),
                lit(platform_emulator::WECOM_CORP_SECRET)
            ),
            Expect::Wecom,
        ));
        lines.push(("httpGet(1)".into(), Expect::Bad));
        if i % mail_every == 0 {
            lines.push((
                format!(
                    "sendEmail({}, {}, \"ops@x.test\", \"s{i}\", \"b\")",
                    lit(&user),
                    lit(&smtp.password)
                ),
                Expect::Mail,
            ));
        }
    }
    // The configuration first (on all threads), then one `#mixed` block: every thread runs
    // all the calls, each starting elsewhere in the block, so different kinds overlap.
    let mut script = vec![lines[0].0.clone(), format!("#mixed {}", lines.len() - 1)];
    script.extend(lines[1..].iter().map(|(l, _)| l.clone()));
    let threads = THREADS.to_string();
    let r = host::run_host(
        host_bin,
        &dir,
        &script.join("\n"),
        &["--threads", &threads],
        &[("TSAN_OPTIONS", TSAN_OPTIONS)],
    );
    let ran = started.elapsed();
    let _ = std::fs::remove_dir_all(&dir);

    let warnings = r.stderr.matches("WARNING: ThreadSanitizer").count();
    let mut made = std::collections::BTreeMap::new();
    for (_, e) in &lines {
        *made.entry(e.name()).or_insert(0) += THREADS;
    }
    println!(
        "thread sanitizer, host {version}: {} calls from {THREADS} threads {made:?}, \
         {warnings} warnings, {:.1} s",
        lines.len() * THREADS,
        ran.as_secs_f64()
    );
    // verbosity=1 makes the runtime announce itself: proof the run was under ThreadSanitizer
    assert!(
        r.stderr.contains("Running under ThreadSanitizer"),
        "the host did not run under ThreadSanitizer:\n{}",
        r.stderr
    );
    assert_eq!(warnings, 0, "ThreadSanitizer reports:\n{}", r.stderr);
    assert_eq!(r.code, Some(0), "host exited badly:\n{}", r.stderr);
    assert!(
        r.lines.first().is_some_and(|l| l.starts_with("LOADED")),
        "the host did not load the plugin: {:?}\n{}",
        r.lines,
        r.stderr
    );
    let results = &r.lines[1..];
    assert_eq!(
        results.len(),
        lines.len() * THREADS,
        "one result per call per thread"
    );
    // The host prints each line's THREADS results together, in the order of the lines.
    for ((call, expect), got) in lines.iter().zip(results.chunks(THREADS)) {
        for line in got {
            expect.check(line, call);
        }
    }
    assert_eq!(emu.gettoken_calls(platform_emulator::Platform::Wecom), 1);
    let mails = made["sendEmail"];
    assert_eq!(smtp.wait_messages(mails).len(), mails);
    assert!(r.stderr.contains("host: live objects 0"), "{}", r.stderr);
}

/// What a call's result must be.
enum Expect {
    Config,
    Get(usize),
    Post(usize),
    Wecom,
    Mail,
    Bad,
}

impl Expect {
    fn name(&self) -> &'static str {
        match self {
            Expect::Config => "emailSmtpConfig",
            Expect::Get(_) => "httpGet",
            Expect::Post(_) => "httpPost",
            Expect::Wecom => "wecomSend",
            Expect::Mail => "sendEmail",
            Expect::Bad => "httpGet(bad url)",
        }
    }

    fn check(&self, line: &str, call: &str) {
        let short: String = call.chars().take(100).collect();
        if let Expect::Bad = self {
            assert!(
                line.starts_with("ERR ") && line.contains("url must be"),
                "{short}: {line}"
            );
            return;
        }
        assert!(line.starts_with("OK "), "{short}: {line}");
        let v = parse_ok(line);
        let int = |key: &str| entry(&v, key).1.as_i64();
        match self {
            Expect::Config => assert_eq!(line, "OK [\"BOOL\", true]", "{short}"),
            Expect::Get(i) => {
                assert_eq!(int("responseCode"), Some(200), "{short}: {line}");
                let headers = text(entry(&v, "headers").1).to_ascii_lowercase();
                assert!(
                    headers.contains(&format!("x-path: /echo?i={i}\r\n")),
                    "{short}: {line}"
                );
            }
            Expect::Post(i) => {
                assert_eq!(int("responseCode"), Some(200), "{short}: {line}");
                assert_eq!(
                    text(entry(&v, "text").1),
                    format!("{{\"i\": {i}}}"),
                    "{short}"
                );
            }
            Expect::Wecom => assert_eq!(int("errcode"), Some(0), "{short}: {line}"),
            Expect::Mail => assert_eq!(int("responseCode"), Some(250), "{short}: {line}"),
            Expect::Bad => unreachable!(),
        }
    }
}
