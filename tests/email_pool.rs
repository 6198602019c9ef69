//! The SMTP connection pool against a raw local server that closes every connection right
//! after accepting one mail (as a server does after its idle timeout), silently or saying
//! "421" to the next command first (as Postfix does): the next mail goes out on a fresh
//! connection, once — no error, no duplicate.
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use PluginHttpClient::core::email::{
    configure, send, Content, EmailAddress, EmailOptions, Mail, SmtpOptions, TlsMode,
};
use PluginHttpClient::core::error::Cause;

struct Counts {
    connections: AtomicUsize,
    messages: AtomicUsize,
    /// AUTH commands received (the password, in clear on this server)
    auths: AtomicUsize,
}

/// `say_421`: after a mail the connection stays open and the next command is answered
/// `421` before the close; else it closes at once.
fn one_mail_per_connection_server(say_421: bool) -> (u16, Arc<Counts>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let counts = Arc::new(Counts {
        connections: AtomicUsize::new(0),
        messages: AtomicUsize::new(0),
        auths: AtomicUsize::new(0),
    });
    let c = counts.clone();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            c.connections.fetch_add(1, Ordering::SeqCst);
            let mut out = stream.try_clone().unwrap();
            let mut lines = BufReader::new(stream);
            let _ = out.write_all(b"220 test ESMTP\r\n");
            let mut line = String::new();
            let (mut in_data, mut done) = (false, false);
            while lines.read_line(&mut line).unwrap_or(0) > 0 {
                let reply: &[u8] = if done {
                    let _ = out.write_all(b"421 4.4.2 test: idle timeout, closing\r\n");
                    break;
                } else if in_data {
                    if line == ".\r\n" {
                        c.messages.fetch_add(1, Ordering::SeqCst);
                        let _ = out.write_all(b"250 2.0.0 queued\r\n");
                        if !say_421 {
                            break; // close the connection after one mail
                        }
                        done = true;
                        in_data = false;
                        line.clear();
                        continue;
                    }
                    b""
                } else if line.starts_with("EHLO") {
                    b"250-test\r\n250 AUTH PLAIN LOGIN\r\n"
                } else if line.starts_with("AUTH") {
                    c.auths.fetch_add(1, Ordering::SeqCst);
                    b"235 2.7.0 ok\r\n"
                } else if line.starts_with("DATA") {
                    in_data = true;
                    b"354 go on\r\n"
                } else {
                    b"250 ok\r\n"
                };
                let _ = out.write_all(reply);
                line.clear();
            }
        }
    });
    (port, counts)
}

/// The options of a test domain on the local server: `tls`, 5 s.
fn options(tls: TlsMode) -> SmtpOptions {
    SmtpOptions {
        tls,
        verify_ssl: true,
        timeout_ms: 5000,
        ca_file: None,
    }
}

/// A mail from bot@`domain` (password `password`) to ops@x.test.
fn mail(domain: &str, password: &str, subject: &str, body: &[u8]) -> Mail {
    Mail {
        from: EmailAddress::parse("userId", &format!("bot@{domain}")).unwrap(),
        password: password.into(),
        recipients: vec![EmailAddress::parse("recipient", "ops@x.test").unwrap()],
        content: Content::SubjectBody {
            subject: subject.as_bytes().to_vec(),
            body: body.to_vec(),
        },
        options: EmailOptions::default(),
    }
}

#[test]
fn a_pooled_connection_closed_by_the_server_is_replaced_without_a_duplicate() {
    for say_421 in [false, true] {
        three_mails(say_421);
    }
}

fn three_mails(say_421: bool) {
    let (port, counts) = one_mail_per_connection_server(say_421);
    let domain = if say_421 { "pool421.test" } else { "pool.test" };
    configure(
        domain,
        "127.0.0.1",
        Some(port),
        Some(options(TlsMode::None)),
    )
    .unwrap();
    for i in 0..3 {
        let mail = mail(domain, "pw", &format!("s{i}"), b".leading dot\r\nbody");
        let r = send(&mail).unwrap_or_else(|e| panic!("421 {say_421}, mail {i}: {e}"));
        assert_eq!(r.response_code, 250);
    }
    assert_eq!(
        counts.messages.load(Ordering::SeqCst),
        3,
        "each mail delivered once"
    );
    assert_eq!(counts.connections.load(Ordering::SeqCst), 3);
}

/// tls "auto" (the default) on a server without STARTTLS: refused before AUTH, the
/// password never sent in clear (libcurl's CURLUSESSL_TRY, the official plugin's, would
/// log in); tls "none" says a plain local relay is meant.
#[test]
fn auto_tls_never_sends_the_password_in_clear() {
    let (port, counts) = one_mail_per_connection_server(false);
    let mail = |domain: &str| mail(domain, "pw-secret", "s", b"b");
    configure(
        "plain-auto.test",
        "127.0.0.1",
        Some(port),
        Some(options(TlsMode::Auto)),
    )
    .unwrap();
    let e = send(&mail("plain-auto.test")).unwrap_err();
    assert_eq!(e.cause(), Cause::Tls, "{e}");
    assert!(e.message().contains("offers no STARTTLS"), "{e}");
    assert!(e.message().contains("\"none\""), "{e}");
    assert!(!e.message().contains("pw-secret"), "{e}");
    assert_eq!(counts.auths.load(Ordering::SeqCst), 0);
    assert_eq!(counts.messages.load(Ordering::SeqCst), 0);

    configure(
        "plain-none.test",
        "127.0.0.1",
        Some(port),
        Some(options(TlsMode::None)),
    )
    .unwrap();
    assert_eq!(send(&mail("plain-none.test")).unwrap().response_code, 250);
    assert_eq!(counts.auths.load(Ordering::SeqCst), 1);
}
