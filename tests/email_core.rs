//! E-mail core against a real local SMTP server (aiosmtpd, see tests/peers/smtp_server.py).
#[path = "common/core_values.rs"]
mod core_values;
#[path = "common/smtp_peer.rs"]
mod smtp_peer;

use std::time::{Duration, Instant};

use core_values::assert_cause;
use smtp_peer::{Mode, SmtpPeer, SMTP_PASSWORD};
use PluginHttpClient::core::config::{ConfigValue, FromConfig};
use PluginHttpClient::core::email::*;
use PluginHttpClient::core::error::Cause;

fn opts(tls: TlsMode, ca_file: Option<&str>, verify_ssl: bool) -> SmtpOptions {
    SmtpOptions {
        tls,
        verify_ssl,
        timeout_ms: 10_000,
        ca_file: ca_file.map(str::to_string),
    }
}

fn address(what: &str, text: &str) -> EmailAddress {
    EmailAddress::parse(what, text).unwrap()
}

fn recipients(list: &[&str]) -> Vec<EmailAddress> {
    list.iter().map(|r| address("recipient", r)).collect()
}

fn mail(user: &str, password: &str, to: &[&str], subject: &str, body: &str) -> Mail {
    Mail {
        from: address("userId", user),
        password: password.to_string(),
        recipients: recipients(to),
        content: Content::SubjectBody {
            subject: subject.as_bytes().to_vec(),
            body: body.as_bytes().to_vec(),
        },
        options: EmailOptions::default(),
    }
}

fn raw_mail(user: &str, to: &[&str], raw: &str) -> Mail {
    Mail {
        from: address("userId", user),
        password: SMTP_PASSWORD.to_string(),
        recipients: recipients(to),
        content: Content::Raw(raw.as_bytes().to_vec()),
        options: EmailOptions::default(),
    }
}

/// A peer for `domain` (its user is alerts@domain) with `domain` configured to reach it.
fn setup(
    domain: &str,
    mode: Mode,
    implicit: bool,
    options: impl Fn(&SmtpPeer) -> SmtpOptions,
) -> SmtpPeer {
    let peer = SmtpPeer::start_mode(&format!("alerts@{domain}"), mode);
    let port = if implicit {
        peer.tls_port
    } else {
        peer.starttls_port
    };
    configure(domain, "127.0.0.1", Some(port), Some(options(&peer))).unwrap();
    peer
}

fn assert_ok(result: &SendResult) {
    assert_eq!(result.response_code, 250, "{result:?}");
    assert!(result.text.contains("OK queued as test-1"), "{result:?}");
    assert!(result.headers.starts_with("250 "), "{result:?}");
    assert!(result.elapsed > 0.0 && result.elapsed < 10.0, "{result:?}");
}

#[test]
fn implicit_tls_verified_with_ca_file() {
    let peer = setup("implicit.test", Mode::Normal, true, |p| {
        opts(TlsMode::Tls, Some(&p.ca_file), true)
    });
    let r = send(&mail(
        &peer.user,
        SMTP_PASSWORD,
        &["ops@dest.test"],
        "hello",
        "<b>hi</b>",
    ))
    .unwrap();
    assert_ok(&r);
    assert_eq!(r.user_id, peer.user);
    assert_eq!(r.recipients, vec!["ops@dest.test".to_string()]);
    let got = peer.wait_messages(1);
    assert_eq!(got.len(), 1);
    assert!(got[0].tls);
    assert_eq!(got[0].port, peer.tls_port);
    assert_eq!(got[0].auth_user.as_deref(), Some(peer.user.as_str()));
    assert_eq!(got[0].mail_from, peer.user);
}

#[test]
fn starttls_verified_with_ca_file() {
    let peer = setup("starttls.test", Mode::Normal, false, |p| {
        opts(TlsMode::StartTls, Some(&p.ca_file), true)
    });
    let r = send(&mail(
        &peer.user,
        SMTP_PASSWORD,
        &["r3@dest.test"],
        "s",
        "b",
    ))
    .unwrap();
    assert_ok(&r);
    let got = peer.wait_messages(1);
    assert!(got[0].tls, "STARTTLS was not used");
    assert_eq!(got[0].port, peer.starttls_port);
}

#[test]
fn auto_mode_uses_starttls_when_offered() {
    let peer = setup("auto.test", Mode::Normal, false, |p| {
        opts(TlsMode::Auto, Some(&p.ca_file), true)
    });
    assert_ok(
        &send(&mail(
            &peer.user,
            SMTP_PASSWORD,
            &["r4@dest.test"],
            "s",
            "b",
        ))
        .unwrap(),
    );
    assert!(peer.wait_messages(1)[0].tls);
}

#[test]
fn tls_none_sends_in_plain_text() {
    let peer = setup("plain.test", Mode::Normal, false, |_| {
        opts(TlsMode::None, None, true)
    });
    assert_ok(
        &send(&mail(
            &peer.user,
            SMTP_PASSWORD,
            &["r5@dest.test"],
            "s",
            "b",
        ))
        .unwrap(),
    );
    assert!(!peer.wait_messages(1)[0].tls);
}

#[test]
fn untrusted_certificate_rejected_by_default() {
    let peer = SmtpPeer::start("alerts@selfsigned.test");
    configure(
        "selfsigned.test",
        "127.0.0.1",
        Some(peer.tls_port),
        Some(opts(TlsMode::Tls, None, true)),
    )
    .unwrap();
    let e = send(&mail(
        &peer.user,
        SMTP_PASSWORD,
        &["r7@dest.test"],
        "s",
        "b",
    ))
    .unwrap_err();
    assert_cause(&e, Cause::Tls);
    // the message says how to trust the server
    let m = e.message();
    assert!(
        m.contains("'caFile'") && m.contains("verifySSL=false"),
        "{m}"
    );
    // STARTTLS too.
    configure(
        "selfsigned2.test",
        "127.0.0.1",
        Some(peer.starttls_port),
        Some(opts(TlsMode::StartTls, None, true)),
    )
    .unwrap();
    let e = send(&mail(
        "x@selfsigned2.test",
        SMTP_PASSWORD,
        &["r9@dest.test"],
        "s",
        "b",
    ))
    .unwrap_err();
    assert_cause(&e, Cause::Tls);
    assert!(peer.messages().is_empty());
}

#[test]
fn verify_ssl_false_accepts_untrusted_certificate() {
    let peer = setup("noverify.test", Mode::Normal, true, |_| {
        opts(TlsMode::Tls, None, false)
    });
    assert_ok(
        &send(&mail(
            &peer.user,
            SMTP_PASSWORD,
            &["r10@dest.test"],
            "s",
            "b",
        ))
        .unwrap(),
    );
    assert_eq!(peer.wait_messages(1).len(), 1);
}

#[test]
fn options_from_entries_drive_the_send() {
    let peer = SmtpPeer::start("alerts@entries.test");
    let options = SmtpOptions::from_entries(
        "options",
        &[
            ("tls".to_string(), ConfigValue::Str(b"tls".to_vec())),
            ("verifySSL".to_string(), ConfigValue::Bool(true)),
            (
                "timeout".to_string(),
                ConfigValue::Number {
                    long: 5000,
                    double: 5000.0,
                    integral: true,
                },
            ),
            (
                "caFile".to_string(),
                ConfigValue::Str(peer.ca_file.clone().into_bytes()),
            ),
        ],
    )
    .unwrap();
    assert_eq!(
        options,
        SmtpOptions {
            tls: TlsMode::Tls,
            verify_ssl: true,
            timeout_ms: 5000,
            ca_file: Some(peer.ca_file.clone()),
        }
    );
    let e = SmtpOptions::from_entries(
        "options",
        &[("verifySsl".to_string(), ConfigValue::Bool(false))],
    )
    .unwrap_err();
    assert_cause(&e, Cause::Argument);
    assert!(
        e.message()
            .starts_with("options: unknown key 'verifySsl'; known keys: "),
        "{e}"
    );
    configure(
        "entries.test",
        "localhost",
        Some(peer.tls_port),
        Some(options),
    )
    .unwrap();
    // host "localhost" may resolve to ::1 first; the peer listens on 127.0.0.1 only.
    match send(&mail(
        &peer.user,
        SMTP_PASSWORD,
        &["r12@dest.test"],
        "s",
        "b",
    )) {
        Ok(r) => assert_ok(&r),
        Err(e) => {
            assert_cause(&e, Cause::Connect);
            assert!(e.message().contains("localhost"), "{e}");
        }
    }
}

#[test]
fn chinese_subject_and_body_arrive_intact() {
    let peer = setup("utf8.test", Mode::Normal, true, |p| {
        opts(TlsMode::Tls, Some(&p.ca_file), true)
    });
    let subject = "数据库告警：CPU 使用率 95% — 请尽快处理 (节点 node-01) 非常长的主题行用于测试折叠是否正确处理";
    let body = "<html><body><h1>你好，世界</h1><p>ünïcødé ✓ 😀</p></body></html>";
    assert_ok(
        &send(&mail(
            &peer.user,
            SMTP_PASSWORD,
            &["r13@dest.test"],
            subject,
            body,
        ))
        .unwrap(),
    );
    let got = &peer.wait_messages(1)[0];
    assert!(
        got.data.is_ascii(),
        "8-bit data sent: headers must be RFC 2047, body transfer-encoded"
    );
    assert_eq!(got.subject.as_deref(), Some(subject));
    let received_body = got.body.clone().unwrap();
    assert_eq!(
        received_body.strip_suffix('\n').unwrap_or(&received_body),
        body
    );
    assert_eq!(got.content_type.as_deref(), Some("text/html"));
    let raw = String::from_utf8(got.data.clone()).unwrap();
    assert!(raw.to_ascii_lowercase().contains("charset=utf-8"), "{raw}");
}

#[test]
fn message_id_and_date_present() {
    let peer = setup("headers.test", Mode::Normal, true, |p| {
        opts(TlsMode::Tls, Some(&p.ca_file), true)
    });
    assert_ok(
        &send(&mail(
            &peer.user,
            SMTP_PASSWORD,
            &["r14@dest.test"],
            "s",
            "b",
        ))
        .unwrap(),
    );
    let got = &peer.wait_messages(1)[0];
    let id = got.message_id.clone().unwrap_or_default();
    assert!(
        id.starts_with('<') && id.ends_with('>') && id.contains('@'),
        "{id:?}"
    );
    assert!(
        got.date.as_deref().is_some_and(|d| d.len() > 10),
        "{:?}",
        got.date
    );
    assert_eq!(got.from.as_deref(), Some(peer.user.as_str()));
}

#[test]
fn multiple_recipients_in_envelope() {
    let peer = setup("multi.test", Mode::Normal, true, |p| {
        opts(TlsMode::Tls, Some(&p.ca_file), true)
    });
    let to = ["r15@dest.test", "r16@dest.test", "r17@dest.test"];
    let r = send(&mail(&peer.user, SMTP_PASSWORD, &to, "s", "b")).unwrap();
    assert_ok(&r);
    assert_eq!(
        r.recipients,
        to.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    );
    let got = &peer.wait_messages(1)[0];
    assert_eq!(
        got.rcpt_tos,
        to.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    );
    let to_header = got.to.clone().unwrap();
    for t in to {
        assert!(to_header.contains(t), "{to_header}");
    }
}

#[test]
fn raw_message_sent_as_is() {
    let peer = setup("raw.test", Mode::Normal, true, |p| {
        opts(TlsMode::Tls, Some(&p.ca_file), true)
    });
    let raw = format!(
        "From: {}\nTo: alice@dest.test, Bob <bob@dest.test>\nSubject: raw one\nX-Custom: 42\nMIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\nline one\n.line starting with a dot\nend\n",
        peer.user
    );
    let m = raw_mail(&peer.user, &["alice@dest.test", "bob@dest.test"], &raw);
    assert_ok(&send(&m).unwrap());
    let got = &peer.wait_messages(1)[0];
    assert_eq!(got.rcpt_tos, vec!["alice@dest.test", "bob@dest.test"]);
    let expected = raw.replace('\n', "\r\n");
    assert_eq!(String::from_utf8_lossy(&got.data), expected);
    assert_eq!(got.subject.as_deref(), Some("raw one"));
}

#[test]
fn raw_message_from_and_to_checked() {
    let peer = setup("rawcheck.test", Mode::Normal, true, |p| {
        opts(TlsMode::Tls, Some(&p.ca_file), true)
    });
    let send_raw = |raw: &str, to: &[&str]| {
        let e = send(&raw_mail(&peer.user, to, raw)).unwrap_err();
        assert_cause(&e, Cause::Argument);
        e
    };
    // The messages are the official plugin's.
    let e = send_raw(
        "From: z@elsewhere.test\r\nTo: to@dest.test\r\n\r\nx",
        &["to@dest.test"],
    );
    assert!(
        e.message()
            .contains("'From:' field of msg must match userId"),
        "{e}"
    );
    let e = send_raw(
        &format!("From: {}\r\nTo: r27@dest.test\r\n\r\nx", peer.user),
        &["r28@dest.test"],
    );
    assert!(
        e.message()
            .contains("'To:' field of msg must match recipient"),
        "{e}"
    );
    let e = send_raw(&format!("From: {}\r\n\r\nx", peer.user), &["r29@dest.test"]);
    assert!(
        e.message().contains("'To:' field of msg is required"),
        "{e}"
    );
    let e = send_raw("To: r30@dest.test\r\n\r\nx", &["r31@dest.test"]);
    assert!(
        e.message().contains("'From:' field of msg is required"),
        "{e}"
    );
    // subject-and-body options do not apply to a raw msg
    let mut m = raw_mail(
        &peer.user,
        &["r26@dest.test"],
        &format!("From: {}\r\nTo: r26@dest.test\r\n\r\nx", peer.user),
    );
    m.options.cc = vec!["cc@dest.test".into()];
    assert_cause(&send(&m).unwrap_err(), Cause::Argument);
    assert_eq!(
        peer.connections(),
        0,
        "nothing may be sent when msg is refused"
    );
}

#[test]
fn crlf_injection_refused() {
    let peer = setup("crlf.test", Mode::Normal, true, |p| {
        opts(TlsMode::Tls, Some(&p.ca_file), true)
    });
    // The messages name the offending field.
    let e = send(&mail(
        &peer.user,
        SMTP_PASSWORD,
        &["r32@dest.test"],
        "hi\r\nBcc: r33@dest.test",
        "b",
    ))
    .unwrap_err();
    assert_cause(&e, Cause::Argument);
    assert!(
        e.message().contains("subject must not contain CR or LF"),
        "{e}"
    );
    // Addresses are checked when parsed: no Mail can hold one with CR or LF.
    let e =
        EmailAddress::parse("recipient", "r34@dest.test\r\nRCPT TO:<r35@dest.test>").unwrap_err();
    assert_cause(&e, Cause::Argument);
    assert!(
        e.message().contains("recipient must not contain CR or LF"),
        "{e}"
    );
    let e = EmailAddress::parse("userId", "r36@dest.test\nX: y").unwrap_err();
    assert_cause(&e, Cause::Argument);
    assert!(
        e.message().contains("userId must not contain CR or LF"),
        "{e}"
    );
    let e = EmailAddress::parse("recipient", "not an address").unwrap_err();
    assert_cause(&e, Cause::Argument);
    assert!(e.message().contains("\"not an address\""), "{e}");
    let mut bad = mail(&peer.user, SMTP_PASSWORD, &["r38@dest.test"], "s", "b");
    bad.content = Content::SubjectBody {
        subject: b"ok".to_vec(),
        body: vec![0xe4, 0xbd],
    };
    let e = send(&bad).unwrap_err();
    assert_cause(&e, Cause::Argument);
    assert!(e.message().contains("body is not valid UTF-8"), "{e}");
    // Options too.
    let mut bad = mail(&peer.user, SMTP_PASSWORD, &["r39@dest.test"], "s", "b");
    bad.options.from_name = Some("Ops\r\nBcc: r33@dest.test".into());
    assert_cause(&send(&bad).unwrap_err(), Cause::Argument);
    let mut bad = mail(&peer.user, SMTP_PASSWORD, &["r39@dest.test"], "s", "b");
    bad.options.cc = vec!["r40@dest.test\r\nX: y".into()];
    assert_cause(&send(&bad).unwrap_err(), Cause::Argument);
    let bad = mail(&peer.user, SMTP_PASSWORD, &[], "s", "b");
    assert_cause(&send(&bad).unwrap_err(), Cause::Argument);
    assert_eq!(peer.connections(), 0);
}

#[test]
fn options_cc_bcc_reply_to_name_and_attachment_arrive() {
    let peer = setup("options.test", Mode::Normal, true, |p| {
        opts(TlsMode::Tls, Some(&p.ca_file), true)
    });
    let attachment =
        std::env::temp_dir().join(format!("email_core_{}_report.csv", std::process::id()));
    std::fs::write(&attachment, b"a,b\n1,2\n").unwrap();
    let mut m = mail(
        &peer.user,
        SMTP_PASSWORD,
        &["to@dest.test"],
        "s",
        "plain body",
    );
    m.options = EmailOptions {
        cc: vec!["cc@dest.test".into()],
        bcc: vec!["hidden@dest.test".into()],
        attachments: vec![attachment.to_string_lossy().into_owned()],
        content_type: ContentType::Plain,
        from_name: Some("Ops".into()),
        reply_to: Some("reply@dest.test".into()),
        ..EmailOptions::default()
    };
    assert_ok(&send(&m).unwrap());
    let got = &peer.wait_messages(1)[0];
    assert_eq!(
        got.rcpt_tos,
        vec!["to@dest.test", "cc@dest.test", "hidden@dest.test"]
    );
    let data = String::from_utf8_lossy(&got.data);
    assert!(!data.contains("hidden@dest.test"), "bcc visible: {data}");
    assert!(data.contains("Cc: cc@dest.test"), "{data}");
    assert!(data.contains("Reply-To: reply@dest.test"), "{data}");
    assert!(data.contains("Ops"), "{data}");
    assert!(data.contains("text/plain"), "{data}");
    assert!(data.contains("report.csv"), "{data}");
    assert_eq!(got.content_type.as_deref(), Some("multipart/mixed"));

    // a missing attachment: a local file that cannot be read
    m.options.attachments = vec!["/nonexistent/report.csv".into()];
    let e = send(&m).unwrap_err();
    assert_cause(&e, Cause::Io);
    assert!(e.message().contains("/nonexistent/report.csv"), "{e}");
    assert_eq!(peer.wait_messages(1).len(), 1);
    let _ = std::fs::remove_file(attachment);
}

#[test]
fn wrong_password_is_an_auth_error_without_the_password() {
    let peer = setup("auth.test", Mode::Normal, true, |p| {
        opts(TlsMode::Tls, Some(&p.ca_file), true)
    });
    let wrong = "Wr0ng-Passw0rd-XYZ";
    let e = send(&mail(&peer.user, wrong, &["r39@dest.test"], "s", "b")).unwrap_err();
    assert_cause(&e, Cause::Auth);
    // the server's answer is shown, the password is not
    let m = e.message();
    assert!(m.contains("535"), "{m}");
    assert!(!m.contains(wrong), "{m}");
    assert!(!format!("{e:?}").contains(wrong));
    // The right password still works afterwards.
    assert_ok(
        &send(&mail(
            &peer.user,
            SMTP_PASSWORD,
            &["r40@dest.test"],
            "s",
            "b",
        ))
        .unwrap(),
    );
}

#[test]
fn unknown_domain_says_to_call_email_smtp_config() {
    let e = send(&mail(
        "someone@nowhere-configured.test",
        "pw",
        &["r42@dest.test"],
        "s",
        "b",
    ))
    .unwrap_err();
    assert_cause(&e, Cause::Argument);
    // the message says what to call
    let m = e.message();
    assert!(
        m.contains("nowhere-configured.test") && m.contains("emailSmtpConfig"),
        "{m}"
    );
}

#[test]
fn connection_dropped_mid_data_is_an_error() {
    let peer = setup("drop.test", Mode::DropData, true, |p| {
        opts(TlsMode::Tls, Some(&p.ca_file), true)
    });
    let started = Instant::now();
    let e = send(&mail(
        &peer.user,
        SMTP_PASSWORD,
        &["r43@dest.test"],
        "s",
        "b",
    ))
    .unwrap_err();
    assert_cause(&e, Cause::Connect);
    assert!(
        e.message()
            .contains(&format!("127.0.0.1:{}", peer.tls_port)),
        "{e}"
    );
    // the user learns the mail may not have been delivered
    assert!(e.message().contains("not confirmed"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(8), "{e}");
}

#[test]
fn connection_refused_is_a_clear_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    configure(
        "refused.test",
        "127.0.0.1",
        Some(port),
        Some(opts(TlsMode::Tls, None, true)),
    )
    .unwrap();
    let user = format!("alerts{}refused.test", '@');
    let e = send(&mail(&user, SMTP_PASSWORD, &[user.as_str()], "s", "b")).unwrap_err();
    assert_cause(&e, Cause::Connect);
    assert!(e.message().contains(&format!("127.0.0.1:{port}")), "{e}");
}

#[test]
fn silent_server_times_out() {
    let peer = SmtpPeer::start("alerts@silent.test");
    let mut o = opts(TlsMode::StartTls, Some(&peer.ca_file), true);
    o.timeout_ms = 700;
    configure("silent.test", "127.0.0.1", Some(peer.silent_port), Some(o)).unwrap();
    let started = Instant::now();
    let e = send(&mail(
        &peer.user,
        SMTP_PASSWORD,
        &["r45@dest.test"],
        "s",
        "b",
    ))
    .unwrap_err();
    let took = started.elapsed();
    assert_cause(&e, Cause::Timeout);
    // the message gives the limit and the option that sets it
    assert!(
        e.message().contains("700 ms") && e.message().contains("'timeout'"),
        "{e}"
    );
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(5),
        "{took:?}"
    );
}

#[test]
fn server_stalling_after_data_times_out() {
    let peer = setup("stall.test", Mode::StallData, true, |p| {
        let mut o = opts(TlsMode::Tls, Some(&p.ca_file), true);
        o.timeout_ms = 800;
        o
    });
    let started = Instant::now();
    let e = send(&mail(
        &peer.user,
        SMTP_PASSWORD,
        &["r46@dest.test"],
        "s",
        "b",
    ))
    .unwrap_err();
    assert_cause(&e, Cause::Timeout);
    assert!(e.message().contains("800 ms"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn pooled_ten_mails_one_connection() {
    let peer = setup("pool.test", Mode::Normal, true, |p| {
        opts(TlsMode::Tls, Some(&p.ca_file), true)
    });
    for i in 0..10 {
        let r = send(&mail(
            &peer.user,
            SMTP_PASSWORD,
            &["r47@dest.test"],
            &format!("n{i}"),
            "b",
        ))
        .unwrap();
        assert_ok(&r);
    }
    let got = peer.wait_messages(10);
    assert_eq!(got.len(), 10);
    assert_eq!(
        peer.connections(),
        1,
        "bursts must reuse the pooled connection"
    );
}

#[test]
fn concurrent_senders_share_the_pool() {
    let peer = setup("concurrent.test", Mode::Normal, true, |p| {
        opts(TlsMode::Tls, Some(&p.ca_file), true)
    });
    std::thread::scope(|s| {
        for t in 0..6 {
            let user = peer.user.clone();
            s.spawn(move || {
                for i in 0..4 {
                    let r = send(&mail(
                        &user,
                        SMTP_PASSWORD,
                        &["r48@dest.test"],
                        &format!("t{t}-{i}"),
                        "b",
                    ))
                    .unwrap();
                    assert_eq!(r.response_code, 250);
                }
            });
        }
    });
    assert_eq!(peer.wait_messages(24).len(), 24);
    assert!(
        peer.connections() <= 6,
        "connections: {}",
        peer.connections()
    );
}
