//! Runs DolphinDB script lines through the test host (host/host.cpp) built for a server
//! version, with the plugin built by cargo loaded from a descriptor written for that
//! version — the same path a DolphinDB script takes.
#![allow(dead_code)]

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// The hosts every host test runs in, as `version[/flavour]`: the oldest 1.30 ABI (u16
/// flag, virtual getType), the 1.30 line's last, 2.00.16 and 3.00.3 (namespace ddb, 24-byte
/// Counter), and a Linux_ABI (cxx11 std::string) build of 3.00.2.
pub const VERSIONS: [&str; 5] = ["1.30.19", "1.30.23", "2.00.16", "3.00.3", "3.00.2/cxx11"];

/// The server version of a host id (`3.00.2/cxx11` -> `3.00.2`).
pub fn version_of(id: &str) -> &str {
    id.split('/').next().unwrap_or(id)
}

/// The C++ string ABI of a host id: `standard` or `cxx11`.
pub fn flavour_of(id: &str) -> &str {
    id.split('/').nth(1).unwrap_or("standard")
}

/// The target the plugin and the hosts are built for: `x86_64` (native) or, with
/// `HTTPCLIENT_TEST_TARGET=aarch64`, `aarch64` (cross-built, hosts run under qemu-aarch64).
pub fn target_arch() -> String {
    std::env::var("HTTPCLIENT_TEST_TARGET").unwrap_or_else(|_| "x86_64".into())
}

fn rust_target() -> Option<&'static str> {
    match target_arch().as_str() {
        "x86_64" => None,
        "aarch64" => Some("aarch64-unknown-linux-gnu"),
        other => panic!("HTTPCLIENT_TEST_TARGET={other}: x86_64 or aarch64"),
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// target/<profile>/ of this test binary (target/<profile>/deps/<test>).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_path_buf()
}

/// The plugin library, rebuilt once per test process: `cargo test` builds the crate's
/// rlib for the tests but does not refresh the cdylib the host loads.
pub fn plugin_library() -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let profile = profile_dir();
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "--lib", "--quiet", "--manifest-path"])
            .arg(repo().join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", profile.parent().expect("target dir"))
            // cargo sets it for the test; passed on, it changes the build scripts' inputs
            // (ring's among them) and every test run would rebuild them and the library
            .env_remove("CARGO_MANIFEST_DIR");
        if profile.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        if let Some(t) = rust_target() {
            cmd.args(["--target", t]);
        }
        let status = cmd.status().expect("cargo build --lib");
        assert!(status.success(), "building the plugin library failed");
    });
    let lib = match rust_target() {
        None => profile_dir().join("libPluginHttpClient.so"),
        Some(t) => {
            let profile = profile_dir();
            profile
                .parent()
                .expect("target dir")
                .join(t)
                .join(profile.file_name().expect("profile"))
                .join("libPluginHttpClient.so")
        }
    };
    assert!(lib.exists(), "{} not built", lib.display());
    lib
}

/// Builds (once per process, and only when inputs changed) the host for `id`
/// (`version[/flavour]`), for the test target.
pub fn host_binary(id: &str, wrong_slot: Option<&str>) -> PathBuf {
    host_variant(id, wrong_slot, None)
}

/// As [`host_binary`], with a build variant (`no-iae`: IllegalArgumentException hidden).
pub fn host_variant(id: &str, wrong_slot: Option<&str>, variant: Option<&str>) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let out_dir = profile_dir().join("hosts");
    let mut cmd = Command::new("python3");
    cmd.arg(repo().join("host/build_host.py"))
        .arg(version_of(id))
        .args(["--flavour", flavour_of(id), "--arch", &target_arch()])
        .arg("--out")
        .arg(&out_dir);
    if let Some(slot) = wrong_slot {
        cmd.arg("--wrong-slot").arg(slot);
    }
    if let Some(v) = variant {
        cmd.arg("--variant").arg(v);
    }
    let out = cmd.output().expect("python3 host/build_host.py");
    assert!(
        out.status.success(),
        "building the {id} host failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    PathBuf::from(stdout.lines().last().expect("host path").trim())
}

/// A folder holding `PluginHttpClient.txt` for the version of host `id` and the plugin
/// library.
pub fn plugin_dir(id: &str) -> PathBuf {
    let version = version_of(id);
    static DIRS: OnceLock<Mutex<std::collections::HashMap<String, PathBuf>>> = OnceLock::new();
    let mut dirs = DIRS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    dirs.entry(version.to_string())
        .or_insert_with(|| {
            let dir =
                std::env::temp_dir().join(format!("ddb-plugin-{}-{version}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let text =
                PluginHttpClient::surface::descriptor::for_version(version).expect("supported");
            std::fs::write(dir.join("PluginHttpClient.txt"), text).unwrap();
            let lib = dir.join("libPluginHttpClient.so");
            let _ = std::fs::remove_file(&lib);
            std::os::unix::fs::symlink(plugin_library(), &lib).unwrap();
            dir
        })
        .clone()
}

/// What one run of the host printed.
pub struct Run {
    pub lines: Vec<String>,
    pub stderr: String,
    pub code: Option<i32>,
}

/// Runs `script` (one call per line) in host `id`.
pub fn run_with(id: &str, script: &str, extra_args: &[&str], env: &[(&str, &str)]) -> Run {
    let host = host_binary(id, None);
    run_host(&host, &plugin_dir(id), script, extra_args, env)
}

/// The command that runs a host binary of the test target (under qemu for aarch64).
pub fn host_command(host: &Path) -> Command {
    match target_arch().as_str() {
        "aarch64" => {
            let mut c = Command::new("qemu-aarch64");
            c.args(["-L", "/usr/aarch64-linux-gnu"]).arg(host);
            c
        }
        _ => Command::new(host),
    }
}

/// The host loading the plugin described in `dir`, its standard streams piped.
fn spawn_host(
    host: &Path,
    dir: &Path,
    extra_args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Child {
    let mut cmd = host_command(host);
    cmd.args(extra_args)
        .arg(dir.join("PluginHttpClient.txt"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("spawn host")
}

pub fn run_host(
    host: &Path,
    dir: &Path,
    script: &str,
    extra_args: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let mut child = spawn_host(host, dir, extra_args, env);
    let mut stdin = child.stdin.take().unwrap();
    let script = script.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(script.as_bytes());
        let _ = stdin.write_all(b"\n");
    });
    let out = child.wait_with_output().expect("host output");
    writer.join().unwrap();
    Run {
        lines: String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
    }
}

/// Runs the script and returns the result lines (after the LOADED line).
pub fn run(version: &str, script: &str) -> Vec<String> {
    let r = run_with(version, script, &[], &[]);
    assert!(
        r.lines.first().is_some_and(|l| l.starts_with("LOADED")),
        "host {version} did not load the plugin: {:?}\n{}",
        r.lines,
        r.stderr
    );
    assert_eq!(r.code, Some(0), "host {version} exited badly: {}", r.stderr);
    assert!(
        r.stderr.contains("host: live objects 0"),
        "host {version} reports leaked objects: {}",
        r.stderr
    );
    r.lines[1..].to_vec()
}

/// One call; panics unless it returned a value, which is returned as JSON.
pub fn ok(version: &str, call: &str) -> Value {
    let lines = run(version, call);
    let line = lines
        .first()
        .unwrap_or_else(|| panic!("no result for {call}"));
    parse_ok(line)
}

pub fn parse_ok(line: &str) -> Value {
    let json = line
        .strip_prefix("OK ")
        .unwrap_or_else(|| panic!("expected OK, got: {line}"));
    serde_json::from_str(json).unwrap_or_else(|e| panic!("bad JSON {json}: {e}"))
}

/// One call; panics unless it raised an exception, whose line is returned.
pub fn err(version: &str, call: &str) -> String {
    let lines = run(version, call);
    let line = lines
        .first()
        .unwrap_or_else(|| panic!("no result for {call}"))
        .clone();
    assert!(
        line.starts_with("ERR "),
        "expected an error from {call}, got: {line}"
    );
    line
}

/// The bytes of a host-printed string (each char is one byte, see host/README.md).
pub fn bytes(v: &Value) -> Vec<u8> {
    v.as_str()
        .expect("string")
        .chars()
        .map(|c| c as u32 as u8)
        .collect()
}

/// The UTF-8 text of a host-printed string.
pub fn text(v: &Value) -> String {
    String::from_utf8(bytes(v)).expect("UTF-8")
}

/// `["TYPE", value]` of a dictionary entry.
pub fn entry<'a>(dict: &'a Value, key: &str) -> (&'a str, &'a Value) {
    let e = dict
        .get(key)
        .unwrap_or_else(|| panic!("no key {key} in {dict}"));
    (e[0].as_str().expect("type"), &e[1])
}

/// A DolphinDB string literal for the host's script syntax.
pub fn lit(s: &str) -> String {
    let mut out = String::from("\"");
    for b in s.bytes() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

/// The cause of a runtime error line, as the plugin states it first
/// (`ERR RuntimeException: httpClient::httpGet: timeout: ...` -> `timeout`): "timeout",
/// "connect", "dns", "tls", "http", "protocol", "auth", "refused", "rate limit",
/// "queue full", "io", "internal". None for anything else (results, argument errors).
pub fn cause_of(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("ERR RuntimeException: httpClient::")?;
    let (_, after_function) = rest.split_once(": ")?;
    let (label, _) = after_function.split_once(": ")?;
    const LABELS: [&str; 12] = [
        "timeout",
        "connect",
        "dns",
        "tls",
        "http",
        "protocol",
        "auth",
        "refused",
        "rate limit",
        "queue full",
        "io",
        "internal",
    ];
    LABELS.contains(&label).then_some(label)
}

/// The hosts of every supported version, in both C++ string ABIs (`v` and `v/cxx11`).
pub fn every_supported_host() -> Vec<String> {
    let supported = PluginHttpClient::abi::facts::supported();
    let versions: Vec<&str> = supported.split(", ").collect();
    assert!(versions.len() >= 18, "{supported}");
    versions
        .iter()
        .flat_map(|v| [v.to_string(), format!("{v}/cxx11")])
        .collect()
}

/// Builds the hosts (two build scripts at a time; cached between runs).
pub fn build_hosts(ids: &[String]) {
    std::thread::scope(|s| {
        for half in ids.chunks(ids.len().div_ceil(2).max(1)) {
            s.spawn(move || half.iter().for_each(|id| drop(host_binary(id, None))));
        }
    });
}

/// A host kept running: one line in, its result line out, so that a test can look at the
/// world (the peers) between two calls of one script, as a server's session goes on.
pub struct Session {
    id: String,
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
    stderr: std::thread::JoinHandle<String>,
}

impl Session {
    /// Starts host `id` with the plugin loaded.
    pub fn start(id: &str, env: &[(&str, &str)]) -> Session {
        use std::io::{BufRead, Read};
        let mut child = spawn_host(&host_binary(id, None), &plugin_dir(id), &[], env);
        let stdin = child.stdin.take().unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let mut loaded = String::new();
        stdout.read_line(&mut loaded).expect("host output");
        assert!(
            loaded.starts_with("LOADED"),
            "host {id} did not load: {loaded}"
        );
        Session {
            id: id.to_string(),
            child,
            stdin,
            stdout,
            stderr,
        }
    }

    /// Runs one line; returns the line the host printed for it.
    pub fn call(&mut self, line: &str) -> String {
        use std::io::BufRead;
        assert!(!line.contains('\n'), "one line at a time");
        writeln!(self.stdin, "{line}").expect("host input");
        self.stdin.flush().expect("host input");
        let mut out = String::new();
        self.stdout.read_line(&mut out).expect("host output");
        assert!(!out.is_empty(), "host {} ended at: {line}", self.id);
        out.trim_end_matches('\n').to_string()
    }

    /// One call that must return a value (as JSON).
    pub fn ok(&mut self, line: &str) -> Value {
        let out = self.call(line);
        assert!(out.starts_with("OK "), "{}: {line} -> {out}", self.id);
        parse_ok(&out)
    }

    /// Ends the session (end of input); checks it exited cleanly with no object leaked;
    /// returns what it wrote to stderr.
    pub fn finish(mut self) -> String {
        drop(self.stdin);
        let mut rest = String::new();
        use std::io::Read;
        let _ = self.stdout.read_to_string(&mut rest);
        let status = self.child.wait().expect("host exit");
        let stderr = self.stderr.join().unwrap_or_default();
        assert!(status.success(), "host {} exited badly: {stderr}", self.id);
        assert!(
            stderr.contains("host: live objects 0"),
            "host {} reports leaked objects: {stderr}",
            self.id
        );
        stderr
    }
}

/// A column of a host-printed table (`["TABLE", [[name, ["VECTOR T", [...]]], ...]]`).
pub fn column<'a>(table: &'a Value, name: &str) -> &'a [Value] {
    table[1]
        .as_array()
        .expect("a table")
        .iter()
        .find(|c| c[0] == name)
        .unwrap_or_else(|| panic!("no column {name} in {table}"))[1][1]
        .as_array()
        .expect("column values")
}

/// The number of rows of a host-printed table.
pub fn row_count(table: &Value) -> usize {
    table[1].as_array().expect("a table")[0][1][1]
        .as_array()
        .expect("column values")
        .len()
}
