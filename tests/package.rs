//! Release packages (`scripts/package.sh`): the zip of one server version, for x86_64 and for
//! aarch64, is named `httpClient-<plugin>-<server>-linux-<arch>.zip`, verifies against its
//! `.sha256` with `sha256sum -c`, holds exactly `httpClient/PluginHttpClient.txt` and
//! `httpClient/libPluginHttpClient.so`, and — unzipped into a `plugins/` folder as a user
//! would — loads by its own descriptor into the test host of that version (aarch64 under
//! qemu-aarch64). Building the same package twice gives the same bytes.
#[path = "common/cross.rs"]
mod cross;
#[path = "common/host.rs"]
mod host;
#[path = "common/http_peer.rs"]
mod http_peer;

use cross::{scratch, succeed};
use http_peer::HttpPeer;
use std::path::{Path, PathBuf};
use std::process::Command;

const SERVER: &str = "2.00.16";

fn package_name(arch: &str) -> String {
    format!(
        "httpClient-{}-{SERVER}-linux-{arch}.zip",
        env!("CARGO_PKG_VERSION")
    )
}

/// Runs `scripts/package.sh 2.00.16 --arch <arch> --out <out>`; returns the zip's path,
/// checking that the script printed it and wrote nothing else.
fn build_package(arch: &str, out: &Path) -> PathBuf {
    let run = succeed(
        cross::script("package.sh")
            .args([SERVER, "--arch", arch, "--out"])
            .arg(out),
        &format!("scripts/package.sh {SERVER} --arch {arch}"),
    );
    let zip = out.join(package_name(arch));
    let printed = String::from_utf8_lossy(&run.stdout);
    assert_eq!(printed.trim(), zip.to_str().unwrap(), "package.sh stdout");
    let mut written: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [package_name(arch), format!("{}.sha256", package_name(arch))]
    );
    zip
}

/// The checksum file is in sha256sum format and verifies; a changed byte fails it.
fn check_sha256(zip: &Path) {
    let name = zip.file_name().unwrap().to_str().unwrap();
    let dir = zip.parent().unwrap();
    let sums = std::fs::read_to_string(dir.join(format!("{name}.sha256"))).unwrap();
    let (hex, file) = sums
        .strip_suffix('\n')
        .and_then(|l| l.split_once("  "))
        .unwrap_or_else(|| panic!("not sha256sum format: {sums:?}"));
    assert_eq!(file, name);
    assert!(
        hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "{hex}"
    );
    succeed(
        Command::new("sha256sum")
            .args(["--check", "--strict"])
            .arg(format!("{name}.sha256"))
            .current_dir(dir),
        "sha256sum --check",
    );
    // The check is real: a copy with one byte changed does not verify.
    let bad = scratch(&format!("sha-bad-{name}"));
    let mut bytes = std::fs::read(zip).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(bad.join(name), bytes).unwrap();
    std::fs::write(bad.join(format!("{name}.sha256")), &sums).unwrap();
    let out = Command::new("sha256sum")
        .arg("--check")
        .arg(format!("{name}.sha256"))
        .current_dir(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success(), "a damaged package verified");
}

/// Unzips the package into `<server>/plugins/` with `unzip` and checks the tree.
fn unpack(zip: &Path, arch: &str) -> PathBuf {
    let server = scratch(&format!("package-server-{arch}"));
    let plugins = server.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let listing = succeed(
        Command::new("unzip").arg("-Z1").arg(zip),
        "unzip -Z1 (list)",
    );
    let mut names: Vec<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "httpClient/",
            "httpClient/PluginHttpClient.txt",
            "httpClient/libPluginHttpClient.so"
        ]
    );
    succeed(
        Command::new("unzip")
            .arg("-q")
            .arg(zip)
            .arg("-d")
            .arg(&plugins),
        "unzip",
    );
    let dir = plugins.join("httpClient");
    use std::os::unix::fs::PermissionsExt;
    let mode = |f: &str| std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("libPluginHttpClient.so"), 0o755);
    assert_eq!(mode("PluginHttpClient.txt"), 0o644);
    assert_eq!(
        std::fs::read_to_string(dir.join("PluginHttpClient.txt")).unwrap(),
        PluginHttpClient::surface::descriptor::for_version(SERVER).unwrap()
    );
    assert_eq!(
        cross::elf_machine(&dir.join("libPluginHttpClient.so")),
        cross::machine_of(arch)
    );
    dir
}

/// Loads the unpacked folder by its descriptor in the `arch` test host: version() names the
/// plugin and server versions, a GET reaches a local peer.
fn load(dir: &Path, arch: &str) {
    let peer = HttpPeer::start();
    let host = cross::host_for(SERVER, "standard", arch);
    let script = format!(
        "version()\nhttpGet({})",
        host::lit(&format!("{}/echo?package={arch}", peer.base_url()))
    );
    let r = cross::run_host(&host, arch, &dir.join("PluginHttpClient.txt"), &script);
    r.assert_clean(&format!("{arch} package"));
    let version = &r.lines[1];
    assert!(version.starts_with("OK {"), "{version}");
    assert!(version.contains(SERVER), "{version}");
    assert!(version.contains(env!("CARGO_PKG_VERSION")), "{version}");
    let d = host::parse_ok(&r.lines[2]);
    assert_eq!(host::entry(&d, "responseCode").1, 200);
    assert_eq!(
        peer.last_request().unwrap().path_and_query,
        format!("/echo?package={arch}")
    );
}

#[test]
fn x86_64_package_verifies_unzips_into_plugins_and_loads_by_its_descriptor() {
    let out = scratch("packages-x86_64");
    let zip = build_package("x86_64", &out);
    check_sha256(&zip);
    let dir = unpack(&zip, "x86_64");
    load(&dir, "x86_64");
    // Reproducible: the same sources give the same bytes (entry times from the commit).
    let again = scratch("packages-x86_64-again");
    let zip2 = build_package("x86_64", &again);
    assert!(
        std::fs::read(&zip).unwrap() == std::fs::read(&zip2).unwrap(),
        "two builds of the package differ"
    );
}

#[test]
fn aarch64_package_verifies_unzips_into_plugins_and_loads_under_qemu() {
    let out = scratch("packages-aarch64");
    let zip = build_package("aarch64", &out);
    check_sha256(&zip);
    let dir = unpack(&zip, "aarch64");
    load(&dir, "aarch64");
}

#[test]
fn package_refuses_bad_arguments() {
    let out = scratch("packages-refused");
    let err = cross::refuse(
        cross::script("package.sh")
            .args(["2.00.16", "--arch", "riscv64", "--out"])
            .arg(&out),
        "package.sh --arch riscv64",
    );
    assert!(err.contains("x86_64, aarch64 or all"), "{err}");
    let err = cross::refuse(
        &mut cross::script("package.sh"),
        "package.sh without a version",
    );
    assert!(err.contains("usage"), "{err}");
}
