//! Adding a server version (`scripts/add-server-version.sh`): run on the public headers of
//! an already supported version (2.00.16: the include/ folder of the branch release200.16 of
//! github.com/dolphindb/DolphinDBPlugin), it writes facts identical to the committed
//! facts/<arch>/<flavour>/2.00.16.json, for both C++ string ABIs and every target whose
//! tools are installed (x86_64; aarch64 with g++-aarch64-linux-gnu and qemu-user) — with the
//! descriptor format chosen by its default rule.
//!
//! The headers are never part of this repository: the test exports them from a clone or
//! mirror of DolphinDBPlugin named by DOLPHINDB_PLUGIN_REPO (default
//! /work/.mirror/dolphindb+DolphinDBPlugin/repo). Without one it says so on stderr and
//! skips (scripts/test.sh reports whether it ran).
#[path = "common/cross.rs"]
mod cross;

use cross::{refuse, scratch, succeed};
use std::path::PathBuf;
use std::process::Command;

const DEFAULT_MIRROR: &str = "/work/.mirror/dolphindb+DolphinDBPlugin/repo";

/// The DolphinDBPlugin clone or mirror, if there is one.
fn plugin_repo() -> Option<PathBuf> {
    let named = std::env::var_os("DOLPHINDB_PLUGIN_REPO").map(PathBuf::from);
    if let Some(p) = &named {
        if p.exists() {
            return Some(p.clone());
        }
        eprintln!(
            "add_version: DOLPHINDB_PLUGIN_REPO={} does not exist",
            p.display()
        );
    }
    let default = PathBuf::from(DEFAULT_MIRROR);
    default.exists().then_some(default)
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn facts_of_an_existing_version_equal_the_committed_ones() {
    let Some(mirror) = plugin_repo() else {
        eprintln!(
            "\n\
             ************************************************************************\n\
             SKIPPED add_version: no DolphinDBPlugin repository. Set DOLPHINDB_PLUGIN_REPO\n\
             to a clone of https://github.com/dolphindb/DolphinDBPlugin (default\n\
             {DEFAULT_MIRROR}) to check scripts/add-server-version.sh.\n\
             ************************************************************************"
        );
        return;
    };
    let work = scratch("add-version");
    // Only include/ is exported (no official descriptor next to it): the descriptor format
    // comes from the script's rule, which must give the committed "long" for 2.00.16.
    succeed(
        Command::new("bash")
            .args([
                "-c",
                "set -euo pipefail; git -C \"$1\" archive release200.16 include | tar -x -C \"$2\"",
                "export",
            ])
            .arg(&mirror)
            .arg(&work),
        "git archive release200.16 include",
    );
    assert!(work.join("include/CoreConcept.h").exists());
    let facts = work.join("facts");
    let out = succeed(
        cross::script("add-server-version.sh")
            .arg(work.join("include"))
            .args(["--version", "2.00.16", "--out"])
            .arg(&facts),
        "scripts/add-server-version.sh",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("descriptor format long"), "{stderr}");
    assert!(stderr.contains("facts only"), "{stderr}");
    let mut arches = vec!["x86_64"];
    if have("aarch64-linux-gnu-g++") && have("qemu-aarch64") {
        arches.push("aarch64");
    } else {
        eprintln!("add_version: aarch64 tools missing, only x86_64 facts compared");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    for arch in &arches {
        for flavour in ["standard", "cxx11"] {
            let rel = format!("{arch}/{flavour}/2.00.16.json");
            let generated = std::fs::read_to_string(facts.join(&rel))
                .unwrap_or_else(|e| panic!("{rel} not generated: {e}\n{stdout}{stderr}"));
            let committed =
                std::fs::read_to_string(cross::repo().join("facts").join(&rel)).unwrap();
            assert!(
                generated == committed,
                "{rel} differs from the committed facts (diff {} {})",
                facts.join(&rel).display(),
                cross::repo().join("facts").join(&rel).display()
            );
            assert!(
                stdout.contains(&format!("{rel}: new")),
                "{rel} not reported: {stdout}"
            );
        }
    }
    // Nothing but the facts was written.
    let written: Vec<_> = std::fs::read_dir(&facts).unwrap().collect();
    assert_eq!(written.len(), arches.len(), "{written:?}");
}

#[test]
fn refuses_a_folder_without_the_headers_and_a_bad_version() {
    let work = scratch("add-version-refused");
    let err = refuse(
        cross::script("add-server-version.sh")
            .arg(&work)
            .args(["--version", "3.00.4"]),
        "add-server-version.sh on a folder without headers",
    );
    assert!(err.contains("no CoreConcept.h"), "{err}");
    assert!(err.contains("release<major><minor>.<patch>"), "{err}");
    std::fs::write(work.join("CoreConcept.h"), "").unwrap();
    let err = refuse(
        cross::script("add-server-version.sh")
            .arg(&work)
            .args(["--version", "3.00"]),
        "add-server-version.sh with a bad version",
    );
    assert!(err.contains("three parts"), "{err}");
    let err = refuse(
        cross::script("add-server-version.sh").arg(&work),
        "add-server-version.sh without --version",
    );
    assert!(err.contains("usage"), "{err}");
}

#[test]
fn help_says_where_the_headers_come_from() {
    let out = succeed(
        cross::script("add-server-version.sh").arg("--help"),
        "add-server-version.sh --help",
    );
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("https://github.com/dolphindb/DolphinDBPlugin"),
        "{help}"
    );
    assert!(help.contains("release<major><minor>.<patch>"), "{help}");
    assert!(help.contains("do not commit"), "{help}");
}
