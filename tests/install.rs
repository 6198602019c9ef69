//! The installer (`scripts/install.sh`), end to end on fake server folders: `dolphindb` is a
//! copy of the 2.00.16 test host (which carries "2.00.16 2026.11.28 LINUX x86_64" as its
//! Util::VER, as a server binary carries its version string), `plugins/` holds a fake
//! official httpClient and another plugin. The installer reads the version, builds and
//! installs, keeps a backup, and the installed folder loads in that "server"; rollback
//! restores the previous folder. It refuses when the version cannot be read reliably.
#[path = "common/cross.rs"]
mod cross;

use cross::{refuse, scratch, succeed};
use std::path::{Path, PathBuf};
use std::process::Command;

const SERVER: &str = "2.00.16";
const OFFICIAL_DESCRIPTOR: &str = "httpClient,libPluginHttpClient.so,2.00.16\n\
    httpGet,httpGet,system,1,4,0\nhttpPost,httpPost,system,1,4,0\n";
const OFFICIAL_LIBRARY: &[u8] = b"the official library";

/// A fake server folder: `dolphindb` (a copy of the x86_64 test host of 2.00.16), optionally
/// plugins/httpClient/ with the fake official plugin, and plugins/mysql/PluginMySQL.txt
/// stating `other_plugin_version`.
fn fake_server(name: &str, official: bool, other_plugin_version: Option<&str>) -> PathBuf {
    let server = scratch(name).join("server");
    std::fs::create_dir_all(server.join("plugins")).unwrap();
    std::fs::copy(
        cross::host_for(SERVER, "standard", "x86_64"),
        server.join("dolphindb"),
    )
    .unwrap();
    if official {
        let dir = server.join("plugins/httpClient");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("PluginHttpClient.txt"), OFFICIAL_DESCRIPTOR).unwrap();
        std::fs::write(dir.join("libPluginHttpClient.so"), OFFICIAL_LIBRARY).unwrap();
    }
    if let Some(v) = other_plugin_version {
        let dir = server.join("plugins/mysql");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("PluginMySQL.txt"),
            format!("mysql,libPluginMySQL.so,{v}\nconnect,connect,system,1,5,0\n"),
        )
        .unwrap();
    }
    server
}

fn install() -> Command {
    cross::script("install.sh")
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The backup folders plugins/httpClient.bak-*, oldest first.
fn backups(server: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(server.join("plugins"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("httpClient.bak-")
        })
        .collect();
    found.sort();
    found
}

fn assert_official(dir: &Path) {
    assert_eq!(
        std::fs::read_to_string(dir.join("PluginHttpClient.txt")).unwrap(),
        OFFICIAL_DESCRIPTOR
    );
    assert_eq!(
        std::fs::read(dir.join("libPluginHttpClient.so")).unwrap(),
        OFFICIAL_LIBRARY
    );
}

fn assert_ours(dir: &Path) {
    assert_eq!(
        std::fs::read_to_string(dir.join("PluginHttpClient.txt")).unwrap(),
        PluginHttpClient::surface::descriptor::for_version(SERVER).unwrap()
    );
    assert_eq!(
        cross::elf_machine(&dir.join("libPluginHttpClient.so")),
        cross::EM_X86_64
    );
}

/// The installed plugin loads in the fake server's own `dolphindb` (the test host) by the
/// descriptor under plugins/httpClient/, and version() reports the server's version.
fn assert_loads(server: &Path) {
    let r = cross::run_host(
        &server.join("dolphindb"),
        "x86_64",
        &server.join("plugins/httpClient/PluginHttpClient.txt"),
        "version()",
    );
    r.assert_clean("installed plugin");
    assert!(r.lines[1].starts_with("OK {"), "{:?}", r.lines);
    assert!(r.lines[1].contains(SERVER), "{}", r.lines[1]);
    assert!(
        r.lines[1].contains(env!("CARGO_PKG_VERSION")),
        "{}",
        r.lines[1]
    );
}

#[test]
fn installs_over_the_official_plugin_with_a_backup_and_rolls_back() {
    let server = fake_server("install-over-official", true, Some(SERVER));
    let out = succeed(install().arg(&server), "install.sh <server>");
    let said = text(&out);
    // The version was read from the binary and from both descriptors.
    assert!(said.contains("server version 2.00.16, read from"), "{said}");
    assert!(said.contains("dolphindb (version string)"), "{said}");
    assert!(said.contains("PluginMySQL.txt"), "{said}");
    assert!(said.contains("--rollback"), "{said}");
    assert!(said.contains("loadPlugin(\"httpClient\")"), "{said}");
    assert!(
        said.contains("preloadModules=plugins::httpClient"),
        "{said}"
    );
    assert_ours(&server.join("plugins/httpClient"));
    let first_backups = backups(&server);
    assert_eq!(first_backups.len(), 1, "{first_backups:?}");
    assert_official(&first_backups[0]);
    assert!(said.contains(first_backups[0].to_str().unwrap()), "{said}");
    assert_loads(&server);

    // Again (an update): the previous install is backed up in its turn.
    let out = succeed(
        install().arg(&server).arg(SERVER),
        "install.sh <server> <version>",
    );
    assert!(
        text(&out).contains("previous install of this plugin"),
        "{}",
        text(&out)
    );
    let both = backups(&server);
    assert_eq!(both.len(), 2, "{both:?}");
    assert_loads(&server);

    // Roll back twice: first to the first install, then to the official plugin.
    let out = succeed(
        install().arg("--rollback").arg(&server),
        "install.sh --rollback",
    );
    assert!(text(&out).contains("Restored"), "{}", text(&out));
    assert_ours(&server.join("plugins/httpClient"));
    assert_eq!(backups(&server), first_backups);
    succeed(
        install().arg("--rollback").arg(&server),
        "install.sh --rollback (2)",
    );
    assert_official(&server.join("plugins/httpClient"));
    assert!(backups(&server).is_empty());

    // Nothing left to roll back, and the folder is not ours: refused, untouched.
    let err = refuse(
        install().arg("--rollback").arg(&server),
        "install.sh --rollback without a backup",
    );
    assert!(err.contains("is not this plugin"), "{err}");
    assert_official(&server.join("plugins/httpClient"));
}

#[test]
fn installs_a_package_and_rollback_removes_a_fresh_install() {
    // A package, as downloaded from a release, with its checksum next to it.
    let packages = scratch("install-packages");
    succeed(
        cross::script("package.sh")
            .args([SERVER, "--out"])
            .arg(&packages),
        "scripts/package.sh",
    );
    let zip = packages.join(format!(
        "httpClient-{}-{SERVER}-linux-x86_64.zip",
        env!("CARGO_PKG_VERSION")
    ));
    // No plugin folder yet, and no descriptor: the version comes from the binary alone.
    let server = fake_server("install-package", false, None);
    let out = succeed(
        install().arg(&server).arg("--package").arg(&zip),
        "install.sh --package",
    );
    let said = text(&out);
    assert!(said.contains("checksum verified"), "{said}");
    assert!(said.contains("no httpClient plugin before"), "{said}");
    assert_ours(&server.join("plugins/httpClient"));
    assert!(backups(&server).is_empty());
    assert_loads(&server);
    succeed(
        install().arg("--rollback").arg(&server),
        "install.sh --rollback",
    );
    assert!(!server.join("plugins/httpClient").exists());
    // No leftovers of the swap.
    let left: Vec<_> = std::fs::read_dir(server.join("plugins")).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");

    // A package for another server version is refused; so is a damaged one.
    let err = refuse(
        install()
            .arg(&server)
            .arg("3.00.3")
            .arg("--package")
            .arg(&zip),
        "install.sh 3.00.3 with the 2.00.16 package",
    );
    assert!(err.contains("descriptor is for server 2.00.16"), "{err}");
    let damaged = scratch("install-damaged").join(zip.file_name().unwrap());
    let mut bytes = std::fs::read(&zip).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0x40;
    std::fs::write(&damaged, bytes).unwrap();
    let sums = zip.with_extension("zip.sha256");
    std::fs::copy(&sums, damaged.with_extension("zip.sha256")).unwrap();
    let err = refuse(
        install().arg(&server).arg("--package").arg(&damaged),
        "install.sh with a damaged package",
    );
    assert!(err.contains("does not match"), "{err}");
    assert!(!server.join("plugins/httpClient").exists());
}

#[test]
fn refuses_when_the_server_files_disagree_or_say_nothing() {
    // The binary says 2.00.16, another plugin's descriptor says 3.00.3.
    let server = fake_server("install-disagree", true, Some("3.00.3"));
    let err = refuse(
        install().arg(&server),
        "install.sh with disagreeing sources",
    );
    assert!(err.contains("disagree"), "{err}");
    assert!(err.contains("2.00.16"), "{err}");
    assert!(err.contains("3.00.3"), "{err}");
    assert!(err.contains("PluginMySQL.txt"), "{err}");
    assert!(err.contains("<version>"), "{err}");
    assert_official(&server.join("plugins/httpClient"));
    assert!(backups(&server).is_empty());

    // No binary, no descriptors: nothing to read the version from.
    let empty = scratch("install-nothing").join("server");
    std::fs::create_dir_all(empty.join("plugins")).unwrap();
    let err = refuse(install().arg(&empty), "install.sh on an empty server");
    assert!(err.contains("could not read the server version"), "{err}");

    // Not a folder at all.
    let err = refuse(
        install().arg(empty.join("missing")),
        "install.sh on a missing folder",
    );
    assert!(err.contains("is not a folder"), "{err}");

    // The server binary is x86_64: an aarch64 plugin would not load.
    let err = refuse(
        install()
            .arg(&server)
            .arg(SERVER)
            .args(["--arch", "aarch64"]),
        "install.sh --arch aarch64 into an x86_64 server",
    );
    assert!(err.contains("built for x86_64, not aarch64"), "{err}");
    assert!(err.contains("--arch x86_64"), "{err}");

    // A named version is checked for form.
    let err = refuse(
        install().arg(&server).arg("2.00"),
        "install.sh with a bad version",
    );
    assert!(err.contains("2.00.16 or 3.00.3.1"), "{err}");
    assert_official(&server.join("plugins/httpClient"));
}
