//! The SMTP connection pool against a raw local server that closes every connection right
//! after accepting one mail (as a server does after its idle timeout): the next mail goes
//! out on a fresh connection, once — no error, no duplicate.
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use PluginHttpClient::core::email::{
    configure, send, Content, EmailAddress, EmailOptions, Mail, SmtpOptions, TlsMode,
};

struct Counts {
    connections: AtomicUsize,
    messages: AtomicUsize,
}

fn one_mail_per_connection_server() -> (u16, Arc<Counts>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let counts = Arc::new(Counts {
        connections: AtomicUsize::new(0),
        messages: AtomicUsize::new(0),
    });
    let c = counts.clone();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            c.connections.fetch_add(1, Ordering::SeqCst);
            let mut out = stream.try_clone().unwrap();
            let mut lines = BufReader::new(stream);
            let _ = out.write_all(b"220 test ESMTP\r\n");
            let mut line = String::new();
            let mut in_data = false;
            while lines.read_line(&mut line).unwrap_or(0) > 0 {
                let reply: &[u8] = if in_data {
                    if line == ".\r\n" {
                        c.messages.fetch_add(1, Ordering::SeqCst);
                        let _ = out.write_all(b"250 2.0.0 queued\r\n");
                        break; // close the connection after one mail
                    }
                    b""
                } else if line.starts_with("EHLO") {
                    b"250-test\r\n250 AUTH PLAIN LOGIN\r\n"
                } else if line.starts_with("AUTH") {
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

#[test]
fn a_pooled_connection_closed_by_the_server_is_replaced_without_a_duplicate() {
    let (port, counts) = one_mail_per_connection_server();
    let options = SmtpOptions {
        tls: TlsMode::None,
        verify_ssl: true,
        timeout_ms: 5000,
        ca_file: None,
    };
    configure("pool.test", "127.0.0.1", Some(port), Some(options)).unwrap();
    for i in 0..3 {
        let mail = Mail {
            from: EmailAddress::parse("userId", "bot@pool.test").unwrap(),
            password: "pw".into(),
            recipients: vec![EmailAddress::parse("recipient", "ops@x.test").unwrap()],
            content: Content::SubjectBody {
                subject: format!("s{i}").into_bytes(),
                body: b".leading dot\r\nbody".to_vec(),
            },
            options: EmailOptions::default(),
        };
        let r = send(&mail).unwrap_or_else(|e| panic!("mail {i}: {e}"));
        assert_eq!(r.response_code, 250);
    }
    assert_eq!(
        counts.messages.load(Ordering::SeqCst),
        3,
        "each mail delivered once"
    );
    assert_eq!(counts.connections.load(Ordering::SeqCst), 3);
}
