//! For the distribution tests (dist, package, install, add_version): the scripts of
//! `scripts/` run to completion, and test hosts of a given architecture — independent of
//! `HTTPCLIENT_TEST_TARGET` — run a plugin folder (aarch64 under qemu-aarch64).
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// target/ of this test binary (target/<profile>/deps/<test>).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).expect("target dir").to_path_buf()
}

/// target/<profile>/ of this test binary.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(2).expect("profile dir").to_path_buf()
}

/// A fresh, empty folder under target/ for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = target_dir().join("scratch").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `cmd` to completion; fails the test with `what`, stdout and stderr unless it succeeded.
pub fn succeed(cmd: &mut Command, what: &str) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `cmd` to completion; fails the test unless it exited with status 2 (the scripts'
/// refusal); returns its stderr.
pub fn refuse(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{what} should have been refused:\n{}{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

/// `bash scripts/<name> args...` with CARGO_TARGET_DIR set to this test's target dir.
pub fn script(name: &str) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("scripts").join(name))
        .env("CARGO_TARGET_DIR", target_dir());
    cmd
}

/// The test host of server `version` (`flavour`: standard or cxx11) built for `arch`.
pub fn host_for(version: &str, flavour: &str, arch: &str) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let out = succeed(
        Command::new("python3")
            .arg(repo().join("host/build_host.py"))
            .arg(version)
            .args(["--flavour", flavour, "--arch", arch, "--out"])
            .arg(profile_dir().join("hosts")),
        &format!("building the {version} {flavour} {arch} host"),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    PathBuf::from(stdout.lines().last().expect("host path").trim())
}

/// What one run of a host printed.
pub struct Run {
    pub lines: Vec<String>,
    pub stderr: String,
    pub code: Option<i32>,
}

impl Run {
    /// Fails unless the host loaded the plugin, ran every line and exited cleanly.
    pub fn assert_clean(&self, what: &str) {
        assert!(
            self.lines.first().is_some_and(|l| l.starts_with("LOADED ")),
            "{what}: not loaded: {:?}\n{}",
            self.lines,
            self.stderr
        );
        assert_eq!(
            self.code,
            Some(0),
            "{what}: {}\n{:?}",
            self.stderr,
            self.lines
        );
        assert!(
            self.stderr.contains("host: live objects 0"),
            "{what}: {}",
            self.stderr
        );
    }
}

/// Runs `script` (one call per line) in the host binary `host` of `arch` with the
/// descriptor `descriptor`.
pub fn run_host(host: &Path, arch: &str, descriptor: &Path, script: &str) -> Run {
    let mut cmd = if arch == "aarch64" {
        let mut c = Command::new("qemu-aarch64");
        c.args(["-L", "/usr/aarch64-linux-gnu"]).arg(host);
        c
    } else {
        Command::new(host)
    };
    cmd.arg(descriptor)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", host.display()));
    let mut stdin = child.stdin.take().unwrap();
    let script = format!("{script}\n");
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(script.as_bytes());
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

/// The ELF e_machine of a file: 62 x86-64, 183 AArch64.
pub fn elf_machine(path: &Path) -> u16 {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.len() > 20 && bytes[..4] == *b"\x7fELF",
        "{} is not ELF",
        path.display()
    );
    assert_eq!(bytes[5], 1, "{}: not little-endian", path.display());
    u16::from_le_bytes([bytes[18], bytes[19]])
}

pub const EM_X86_64: u16 = 62;
pub const EM_AARCH64: u16 = 183;

pub fn machine_of(arch: &str) -> u16 {
    match arch {
        "x86_64" => EM_X86_64,
        "aarch64" => EM_AARCH64,
        other => panic!("unknown arch {other}"),
    }
}

/// The objdump that reads `arch`'s ELF files (Debian's objdump reads x86 only).
pub fn objdump(arch: &str) -> &'static str {
    match arch {
        "aarch64" => "aarch64-linux-gnu-objdump",
        _ => "objdump",
    }
}
