//! Distribution: the release library built by `scripts/dist.sh` (cargo-zigbuild, glibc 2.17)
//! loads on old servers — its symbol versions and NEEDED libraries are checked, and it is
//! loaded into the test host of several versions — for x86_64 and for aarch64 (the test host
//! built with aarch64-linux-gnu-g++ and run under qemu-aarch64), and the C API
//! (`include/httpclient.h`) is called by a C program (`tests/c_api/main.c`) against a real
//! local server.
//!
//! The dist builds are `bash scripts/dist.sh all --out <target>/dist-test` and
//! `bash scripts/dist.sh 2.00.16 --arch aarch64 --out <target>/dist-test-aarch64` (the
//! single-version layout: `httpClient/`), each run once per test process (incremental:
//! seconds when nothing changed, a few minutes from scratch). They need ziglang,
//! cargo-zigbuild and cbindgen (`bash scripts/dist.sh --install-tools --arch aarch64`), and
//! for aarch64 g++-aarch64-linux-gnu and qemu-user (apt).
#[path = "common/cross.rs"]
mod cross;
#[path = "common/host.rs"]
mod host;
#[path = "common/http_peer.rs"]
mod http_peer;

use cross::{repo, succeed, target_dir};
use http_peer::HttpPeer;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const MAX_GLIBC: (u32, u32) = (2, 17);
/// CentOS 7's libgcc_s (gcc 4.8.5) defines symbol versions up to GCC_4.8.0.
const MAX_GCC: (u32, u32) = (4, 8);
/// The libraries every Linux of its architecture has; the dynamic loader is named per arch.
const ALLOWED_NEEDED: &[&str] = &[
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "libpthread.so.0",
    "librt.so.1",
    "libgcc_s.so.1",
];

fn loader(arch: &str) -> &'static str {
    match arch {
        "aarch64" => "ld-linux-aarch64.so.1",
        _ => "ld-linux-x86-64.so.2",
    }
}

/// The dist output of `scripts/dist.sh all`, built once per test process.
fn dist() -> &'static Path {
    static DIST: OnceLock<PathBuf> = OnceLock::new();
    DIST.get_or_init(|| {
        let out = target_dir().join("dist-test");
        succeed(
            cross::script("dist.sh").args(["all", "--out"]).arg(&out),
            "scripts/dist.sh all (tools: bash scripts/dist.sh --install-tools)",
        );
        out
    })
}

/// The dist output of `scripts/dist.sh 2.00.16 --arch aarch64`, built once per test process.
fn dist_aarch64() -> &'static Path {
    static DIST: OnceLock<PathBuf> = OnceLock::new();
    DIST.get_or_init(|| {
        let out = target_dir().join("dist-test-aarch64");
        let _ = std::fs::remove_dir_all(&out);
        succeed(
            cross::script("dist.sh")
                .args(["2.00.16", "--arch", "aarch64", "--out"])
                .arg(&out),
            "scripts/dist.sh 2.00.16 --arch aarch64 (tools: bash scripts/dist.sh --install-tools --arch aarch64)",
        );
        out
    })
}

fn dist_library() -> PathBuf {
    dist().join("httpClient-2.00.16/libPluginHttpClient.so")
}

fn dist_library_aarch64() -> PathBuf {
    dist_aarch64().join("httpClient/libPluginHttpClient.so")
}

fn tool(program: &str, args: &[&str], file: &Path) -> String {
    let out = succeed(
        Command::new(program).args(args).arg(file),
        &format!("{program} {args:?}"),
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every `PREFIXx.y[.z]` symbol version in `objdump -T` output, as (major, minor, name).
fn versions(dynsyms: &str, prefix: &str) -> Vec<((u32, u32), String)> {
    let mut found = Vec::new();
    for word in dynsyms.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
        let Some(rest) = word.strip_prefix(prefix) else {
            continue;
        };
        let mut parts = rest.split('.').map(|p| p.parse::<u32>());
        if let (Some(Ok(a)), Some(Ok(b))) = (parts.next(), parts.next()) {
            found.push(((a, b), word.to_string()));
        }
    }
    found
}

/// No symbol version newer than glibc 2.17 / gcc 4.8, no C++ runtime, no OpenSSL.
fn check_symbol_versions(lib: &Path, arch: &str) {
    assert_eq!(
        cross::elf_machine(lib),
        cross::machine_of(arch),
        "{} is not an {arch} library",
        lib.display()
    );
    let dynsyms = tool(cross::objdump(arch), &["-T"], lib);
    let glibc = versions(&dynsyms, "GLIBC_");
    assert!(!glibc.is_empty(), "no GLIBC_ versions found:\n{dynsyms}");
    let newest = glibc.iter().max().unwrap();
    println!("{arch}: newest glibc symbol version: {}", newest.1);
    let too_new: Vec<&str> = dynsyms
        .lines()
        .filter(|l| {
            versions(l, "GLIBC_").iter().any(|(v, _)| *v > MAX_GLIBC)
                || versions(l, "GCC_").iter().any(|(v, _)| *v > MAX_GCC)
        })
        .collect();
    assert!(
        too_new.is_empty(),
        "{arch}: symbols newer than glibc 2.17 / gcc 4.8:\n{}",
        too_new.join("\n")
    );
    // No C++ runtime at link time: the ABI layer reaches the server's libstdc++ by dlsym.
    for forbidden in ["GLIBCXX_", "CXXABI_", "OPENSSL_", "libssl", "libcrypto"] {
        assert!(
            !dynsyms.contains(forbidden),
            "{arch}: {forbidden} in the dynamic symbols"
        );
    }
}

/// NEEDED only system libraries (libgcc_s among them: see scripts/dist.sh), DF_1_NODELETE set.
fn check_needed(lib: &Path, arch: &str) {
    let headers = tool(cross::objdump(arch), &["-p"], lib);
    let needed: Vec<&str> = headers
        .lines()
        .filter_map(|l| l.trim().strip_prefix("NEEDED"))
        .map(str::trim)
        .collect();
    println!("{arch}: NEEDED: {needed:?}");
    assert!(needed.contains(&"libc.so.6"), "{headers}");
    assert!(needed.contains(&"libgcc_s.so.1"), "{arch}: {headers}");
    for n in &needed {
        assert!(
            ALLOWED_NEEDED.contains(n) || *n == loader(arch),
            "{arch}: unexpected NEEDED {n}"
        );
    }
    // Stays mapped after dlclose (pool and runtime threads may still run).
    let flags_1 = headers
        .lines()
        .find_map(|l| l.trim().strip_prefix("FLAGS_1"))
        .and_then(|v| u64::from_str_radix(v.trim().trim_start_matches("0x"), 16).ok())
        .unwrap_or(0);
    const DF_1_NODELETE: u64 = 0x8;
    assert!(
        flags_1 & DF_1_NODELETE != 0,
        "{arch}: DF_1_NODELETE missing:\n{headers}"
    );
}

#[test]
fn dist_library_needs_nothing_newer_than_glibc_2_17() {
    check_symbol_versions(&dist_library(), "x86_64");
}

#[test]
fn dist_library_needs_only_system_libraries() {
    check_needed(&dist_library(), "x86_64");
}

#[test]
fn aarch64_dist_library_needs_nothing_newer_than_glibc_2_17() {
    check_symbol_versions(&dist_library_aarch64(), "aarch64");
}

#[test]
fn aarch64_dist_library_needs_only_system_libraries() {
    check_needed(&dist_library_aarch64(), "aarch64");
}

/// version(), a GET against a local peer, an argument error and a transport error (both
/// exceptions thrown through the plugin's frames), in the host `host` of `arch`.
fn check_in_host(host: &Path, arch: &str, dir: &Path, v: &str, peer: &HttpPeer) {
    let script = format!(
        "version()\nhttpGet({})\nhttpGet(1)\nhttpGet(\"http://127.0.0.1:1/\", , 2000)",
        host::lit(&format!("{}/echo?from=zig-{arch}", peer.base_url()))
    );
    let r = cross::run_host(host, arch, &dir.join("PluginHttpClient.txt"), &script);
    let what = format!("{v} {arch} {}", host.display());
    r.assert_clean(&what);
    assert!(r.lines[1].starts_with("OK {"), "{what}: {}", r.lines[1]);
    assert!(r.lines[1].contains(v), "{what}: {}", r.lines[1]);
    let d = host::parse_ok(&r.lines[2]);
    assert_eq!(host::entry(&d, "responseCode").1, 200, "{what}");
    assert!(
        r.lines[3].starts_with("ERR IllegalArgumentException: httpClient::httpGet: url"),
        "{what}: {}",
        r.lines[3]
    );
    assert!(
        r.lines[4].starts_with("ERR RuntimeException: httpClient::httpGet: "),
        "{what}: {}",
        r.lines[4]
    );
}

#[test]
fn dist_has_a_folder_per_supported_version_sharing_one_library() {
    let one = std::fs::read(dist_library()).unwrap();
    let supported = PluginHttpClient::abi::facts::supported();
    let versions: Vec<&str> = supported.split(", ").collect();
    assert!(versions.len() >= 18, "{supported}");
    for v in &versions {
        let dir = dist().join(format!("httpClient-{v}"));
        let text = std::fs::read_to_string(dir.join("PluginHttpClient.txt")).unwrap();
        assert_eq!(
            text,
            PluginHttpClient::surface::descriptor::for_version(v).unwrap(),
            "{v}"
        );
        assert!(text.starts_with(&format!("httpClient,libPluginHttpClient.so,{v}")));
        assert!(std::fs::read(dir.join("libPluginHttpClient.so")).unwrap() == one);
    }
}

#[test]
fn dist_library_works_in_the_test_host_of_old_and_new_versions() {
    let peer = HttpPeer::start();
    for v in ["1.30.19", "2.00.16", "3.00.3"] {
        let host = cross::host_for(v, "standard", "x86_64");
        check_in_host(
            &host,
            "x86_64",
            &dist().join(format!("httpClient-{v}")),
            v,
            &peer,
        );
    }
    assert_eq!(
        peer.last_request().unwrap().path_and_query,
        "/echo?from=zig-x86_64"
    );
}

#[test]
fn aarch64_dist_is_one_folder_for_one_version() {
    let entries: Vec<String> = std::fs::read_dir(dist_aarch64())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, ["httpClient"]);
    let dir = dist_aarch64().join("httpClient");
    assert_eq!(
        std::fs::read_to_string(dir.join("PluginHttpClient.txt")).unwrap(),
        PluginHttpClient::surface::descriptor::for_version("2.00.16").unwrap()
    );
}

#[test]
fn aarch64_dist_library_works_in_the_aarch64_test_host_under_qemu() {
    let peer = HttpPeer::start();
    let dir = dist_aarch64().join("httpClient");
    // The standard and the Linux_ABI (cxx11 std::string) server builds.
    for flavour in ["standard", "cxx11"] {
        let host = cross::host_for("2.00.16", flavour, "aarch64");
        assert_eq!(cross::elf_machine(&host), cross::EM_AARCH64);
        check_in_host(&host, "aarch64", &dir, "2.00.16", &peer);
    }
    let requests = peer.requests();
    assert_eq!(requests.len(), 2, "one GET per host");
    assert!(requests
        .iter()
        .all(|r| r.path_and_query == "/echo?from=zig-aarch64"));
}

/// Compiles tests/c_api/main.c against include/httpclient.h (linked to the given folder's
/// libPluginHttpClient.so) into the target dir.
fn c_program(lib_dir: &Path, name: &str) -> PathBuf {
    let exe = target_dir().join(name);
    succeed(
        Command::new("gcc")
            .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-o"])
            .arg(&exe)
            .arg(repo().join("tests/c_api/main.c"))
            .arg("-I")
            .arg(repo().join("include"))
            .arg("-L")
            .arg(lib_dir)
            .arg("-lPluginHttpClient"),
        "gcc",
    );
    exe
}

fn run_c(exe: &Path, lib_dir: &Path, args: &[&str]) -> String {
    let out = succeed(
        Command::new(exe).args(args).env("LD_LIBRARY_PATH", lib_dir),
        "the C program",
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(stdout.contains("\n0 failed\n"), "{stdout}");
    stdout
}

fn check_c_api(lib_dir: &Path, name: &str) {
    let peer = HttpPeer::start();
    let exe = c_program(lib_dir, name);
    let out = run_c(&exe, lib_dir, &[&peer.base_url()]);
    assert!(
        out.contains(&format!("version {}\n", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
    assert!(out.contains("status 404 body status 404\n"), "{out}");
    assert!(out.contains("error "), "{out}");
    let posted = &peer.requests()[0];
    assert_eq!(posted.method, "POST");
    assert_eq!(posted.header("x-test"), Some("c-api"));
    assert_eq!(posted.body, b"a\0b\xe4");
    assert_eq!(peer.requests()[1].path_and_query, "/status/404?x=1");

    // HTTPS with the peer's CA: TLS verified through the C API too.
    let ca = target_dir().join(format!("{name}-ca.pem"));
    std::fs::write(&ca, peer.ca_pem()).unwrap();
    let config = serde_json::json!({ "caFile": ca.to_str().unwrap() }).to_string();
    run_c(&exe, lib_dir, &[&peer.https_base_url(), &config]);
}

#[test]
fn c_program_calls_the_core_through_the_header() {
    let lib = host::plugin_library();
    check_c_api(lib.parent().unwrap(), "c_api_main");
}

#[test]
fn c_program_calls_the_dist_library() {
    let lib = dist_library();
    check_c_api(lib.parent().unwrap(), "c_api_main_dist");
}

#[test]
fn committed_header_is_the_generated_one() {
    let fresh = target_dir().join("httpclient.h.check");
    succeed(
        Command::new("cbindgen")
            .current_dir(repo())
            .args([
                "--quiet",
                "--config",
                "include/cbindgen.toml",
                "--lang",
                "c",
                "--output",
            ])
            .arg(&fresh)
            .arg("src/abi/c_api.rs"),
        "cbindgen (install: bash scripts/dist.sh --install-tools)",
    );
    assert_eq!(
        std::fs::read_to_string(repo().join("include/httpclient.h")).unwrap(),
        std::fs::read_to_string(&fresh).unwrap(),
        "include/httpclient.h is stale: bash scripts/dist.sh --header"
    );
}
