//! Certificates made the way users make them: the `openssl` command-line tool.
#![allow(dead_code)]
use std::path::Path;
use std::process::Command;

/// A self-signed certificate as users make it with the `openssl` CLI.
pub struct OpensslCert {
    /// Path of cert.pem (what a user passes as caFile).
    pub path: String,
    pub pem: String,
    pub key: String,
    /// `openssl x509 -noout -text` of it.
    pub text: String,
}

/// `openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 30
/// -subj SUBJECT EXTRA...` in `dir`.
pub fn openssl_self_signed(dir: &Path, subject: &str, extra: &[&str]) -> OpensslCert {
    let mut args = vec![
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem",
        "-days", "30", "-subj", subject,
    ];
    args.extend_from_slice(extra);
    openssl(dir, &[&args])
}

/// An X.509 version 1 certificate (no extensions at all), as old appliances have: a
/// request signed by its own key with `openssl x509 -req`.
pub fn openssl_v1(dir: &Path, subject: &str) -> OpensslCert {
    openssl(
        dir,
        &[
            &[
                "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out",
                "csr.pem", "-subj", subject,
            ],
            &[
                "x509", "-req", "-in", "csr.pem", "-signkey", "key.pem", "-out", "cert.pem",
                "-days", "30",
            ],
        ],
    )
}

/// Runs the `openssl` commands in `dir`, which leave cert.pem and key.pem there.
fn openssl(dir: &Path, commands: &[&[&str]]) -> OpensslCert {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect(
                "these tests need the openssl command-line tool (Debian: apt-get install openssl)",
            );
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for args in commands {
        run(args);
    }
    let text = run(&["x509", "-in", "cert.pem", "-noout", "-text"]);
    OpensslCert {
        path: dir.join("cert.pem").to_string_lossy().into_owned(),
        pem: std::fs::read_to_string(dir.join("cert.pem")).unwrap(),
        key: std::fs::read_to_string(dir.join("key.pem")).unwrap(),
        text,
    }
}
