//! A real SMTP server for the e-mail tests: `tests/peers/smtp_server.py` (aiosmtpd) run as
//! a child process on free 127.0.0.1 ports, with a CA and a server certificate generated
//! here (rcgen) at test time. Killed and cleaned up on drop.
#![allow(dead_code)]
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

/// The password the peer accepts (for any user it was started with).
pub const SMTP_PASSWORD: &str = "s3cret-pass";

/// One message the peer accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// The DATA bytes as received (after dot-unstuffing).
    pub data: Vec<u8>,
    /// Headers and body as decoded by Python's `email` package (policy=default).
    pub subject: Option<String>,
    pub body: Option<String>,
    pub content_type: Option<String>,
    pub message_id: Option<String>,
    pub date: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub auth_user: Option<String>,
    /// The port it arrived on, and whether that connection was under TLS.
    pub port: u16,
    pub tls: bool,
}

/// Behaviour of the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Closes the connection once the message data arrived, before the final reply.
    DropData,
    /// Never answers the end of the message data.
    StallData,
}

pub struct SmtpPeer {
    child: Child,
    stdin: Option<ChildStdin>,
    dir: PathBuf,
    out: PathBuf,
    /// Plain SMTP offering STARTTLS.
    pub starttls_port: u16,
    /// Implicit TLS.
    pub tls_port: u16,
    /// Plain SMTP without STARTTLS (a local relay).
    pub plain_port: u16,
    /// Accepts connections and never says anything.
    pub silent_port: u16,
    /// PEM of the CA that signed the server certificate (SANs: localhost, 127.0.0.1).
    pub ca_file: String,
    pub user: String,
    pub password: String,
}

fn unique_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "smtp-peer-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes ca.pem, server.pem and server.key into `dir`.
fn make_certificates(dir: &std::path::Path) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "smtp-peer test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();

    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let cert = params.signed_by(&key, &ca_cert, &ca_key).unwrap();

    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), key.serialize_pem()).unwrap();
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn opt_str(v: &serde_json::Value, key: &str) -> Option<String> {
    v.get(key).and_then(|x| x.as_str()).map(str::to_string)
}

impl SmtpPeer {
    /// A normal peer accepting `user` / [`SMTP_PASSWORD`].
    pub fn start(user: &str) -> SmtpPeer {
        SmtpPeer::start_mode(user, Mode::Normal)
    }

    pub fn start_mode(user: &str, mode: Mode) -> SmtpPeer {
        let dir = unique_dir();
        make_certificates(&dir);
        let out = dir.join("events.jsonl");
        std::fs::write(&out, b"").unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/smtp_server.py");
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
        let stderr = std::fs::File::create(dir.join("stderr.txt")).unwrap();
        let mode_arg = match mode {
            Mode::Normal => "normal",
            Mode::DropData => "drop_data",
            Mode::StallData => "stall_data",
        };
        let mut child = Command::new(python)
            .arg(&script)
            .arg("--cert")
            .arg(dir.join("server.pem"))
            .arg("--key")
            .arg(dir.join("server.key"))
            .arg("--out")
            .arg(&out)
            .arg("--user")
            .arg(user)
            .arg("--password")
            .arg(SMTP_PASSWORD)
            .arg("--mode")
            .arg(mode_arg)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("cannot start python3 for the SMTP peer");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let ready: serde_json::Value = match serde_json::from_str(line.trim()) {
            Ok(v) => v,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let err = std::fs::read_to_string(dir.join("stderr.txt")).unwrap_or_default();
                panic!("SMTP peer did not start (is aiosmtpd installed?): {line:?}\n{err}");
            }
        };
        let port = |k: &str| ready[k].as_u64().unwrap() as u16;
        SmtpPeer {
            starttls_port: port("starttls_port"),
            tls_port: port("tls_port"),
            plain_port: port("plain_port"),
            silent_port: port("silent_port"),
            ca_file: dir.join("ca.pem").to_string_lossy().into_owned(),
            user: user.to_string(),
            password: SMTP_PASSWORD.to_string(),
            child,
            stdin,
            dir,
            out,
        }
    }

    fn events(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Connections accepted so far on the STARTTLS and implicit-TLS ports.
    pub fn connections(&self) -> usize {
        self.events()
            .iter()
            .filter(|e| e["event"] == "connect")
            .count()
    }

    /// Messages accepted so far, in order.
    pub fn messages(&self) -> Vec<Received> {
        self.events()
            .iter()
            .filter(|e| e["event"] == "message")
            .map(|e| Received {
                mail_from: opt_str(e, "mail_from").unwrap_or_default(),
                rcpt_tos: e["rcpt_tos"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                data: hex_decode(e["data_hex"].as_str().unwrap_or("")),
                subject: opt_str(e, "subject"),
                body: opt_str(e, "body"),
                content_type: opt_str(e, "content_type"),
                message_id: opt_str(e, "message_id"),
                date: opt_str(e, "date"),
                from: opt_str(e, "from"),
                to: opt_str(e, "to"),
                auth_user: opt_str(e, "auth_user"),
                port: e["port"].as_u64().unwrap_or(0) as u16,
                tls: e["tls"].as_bool().unwrap_or(false),
            })
            .collect()
    }

    /// Waits (up to 10 s) until at least `n` messages arrived, and returns them.
    pub fn wait_messages(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.messages();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SmtpPeer {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
