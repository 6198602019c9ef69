//! Valgrind memcheck over a representative script: the plugin in the host of two server
//! versions, results built, exceptions thrown, dictionaries read — no invalid access, no
//! definite leak. (Thread stacks of the still-running pool threads show as "possibly lost".)
#[path = "common/host.rs"]
mod host;
#[path = "common/http_peer.rs"]
mod http_peer;

use host::lit;
use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn valgrind_reports_no_errors_and_no_definite_leaks() {
    assert!(
        Command::new("valgrind").arg("--version").output().is_ok(),
        "valgrind is required (scripts/test.sh installs it)"
    );
    let peer = http_peer::HttpPeer::start();
    let echo = lit(&format!("{}/echo", peer.base_url()));
    let script = format!(
        "version()\nhttpGet({echo}, {{\"a\": \"1\", \"b\": \"中文\"}}, 2000, {{\"X-A\": \"b\"}})\n\
         httpPost({echo}, \"{{}}\", 2000, \"Content-Type: application/json\", {{\"decompress\": true}})\n\
         httpGet(1)\nhttpPost(\"http://127.0.0.1:1/\")\nhttpGet({echo}, , , , {{\"bogus\": 1}})\n\
         emailSmtpConfig(\"x.test\", \"smtp.x.test\", 465)\nsendEmail(\"a@nowhere.invalid\", \"p\", [\"r@x.test\"], \"s\", \"b\")\n#live"
    );
    for v in ["1.30.19", "3.00.3"] {
        let host_bin = host::host_binary(v, None);
        let mut child = Command::new("valgrind")
            .args([
                "--leak-check=full",
                "--errors-for-leak-kinds=definite",
                "--error-exitcode=9",
                "-q",
            ])
            .arg(&host_bin)
            .arg(host::plugin_dir(v).join("PluginHttpClient.txt"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("valgrind");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{v}: valgrind found errors:\n{stderr}"
        );
        assert_eq!(stdout.lines().count(), 10, "{v}: {stdout}");
        assert!(stdout.lines().last() == Some("LIVE 0"), "{v}: {stdout}");
        assert!(stderr.contains("host: live objects 0"), "{v}: {stderr}");
    }
}
