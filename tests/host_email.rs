//! sendEmail / emailSmtpConfig through the test host of every version, against a real
//! local SMTP server (aiosmtpd: AUTH, STARTTLS, implicit TLS; cert made at test time).
#[path = "common/host.rs"]
mod host;
#[path = "common/smtp_peer.rs"]
mod smtp_peer;

use host::{entry, lit, parse_ok, run, text, VERSIONS};
use smtp_peer::SmtpPeer;

fn config_line(domain: &str, port: u16, tls: &str, ca_file: &str) -> String {
    format!(
        "emailSmtpConfig({}, \"127.0.0.1\", {port}, {{\"tls\": {}, \"caFile\": {}}})",
        lit(domain),
        lit(tls),
        lit(ca_file)
    )
}

#[test]
fn tutorial_email_with_a_chinese_subject_arrives_intact_in_every_version() {
    for (i, v) in VERSIONS.iter().enumerate() {
        let domain = format!("mail{i}.test");
        let user = format!("alerts{}{domain}", '@');
        let peer = SmtpPeer::start(&user);
        let to = format!("ops{}example.test", '@');
        let lines = run(v, &format!(
            "{}\nhttpClient::sendEmail({}, {}, {}, \"DolphinDB 告警: 行情延迟\", \"<b>延迟</b> 3 秒\")",
            config_line(&domain, peer.tls_port, "tls", &peer.ca_file),
            lit(&user),
            lit(&peer.password),
            lit(&to)
        ));
        assert_eq!(lines[0], "OK [\"BOOL\", true]", "{v}");
        let d = parse_ok(&lines[1]);
        assert_eq!(entry(&d, "responseCode"), ("INT", &serde_json::json!(250)));
        assert_eq!(text(entry(&d, "userId").1), user);
        assert_eq!(text(entry(&d, "recipient").1), to);
        assert_eq!(entry(&d, "elapsed").0, "DOUBLE");
        let m = peer.wait_messages(1).remove(0);
        assert_eq!(m.subject.as_deref(), Some("DolphinDB 告警: 行情延迟"));
        assert!(m.body.as_deref().unwrap_or("").contains("<b>延迟</b> 3 秒"));
        assert!(m.message_id.is_some() && m.date.is_some());
        assert_eq!(m.rcpt_tos, vec![to.clone()]);
        assert!(m.tls);
    }
}

#[test]
fn starttls_several_recipients_and_a_wrong_password() {
    let user = format!("bot{}starttls.test", '@');
    let peer = SmtpPeer::start(&user);
    let (a, b) = (format!("a{}x.test", '@'), format!("b{}x.test", '@'));
    let lines = run("3.00.3", &format!(
        "{}\nsendEmail({u}, {p}, [{}, {}], \"s\", \"b\")\nsendEmail({u}, \"not-the-password-42\", {}, \"s\", \"b\")",
        config_line("starttls.test", peer.starttls_port, "starttls", &peer.ca_file),
        lit(&a),
        lit(&b),
        lit(&a),
        u = lit(&user),
        p = lit(&peer.password)
    ));
    let d = parse_ok(&lines[1]);
    assert_eq!(text(entry(&d, "recipient").1), format!("{a} {b}"));
    assert_eq!(peer.wait_messages(1)[0].rcpt_tos, vec![a.clone(), b]);
    assert_eq!(host::cause_of(&lines[2]), Some("auth"), "{}", lines[2]);
    assert!(
        lines[2].contains("userId or password is incorrect"),
        "{}",
        lines[2]
    );
    assert!(!lines[2].contains("not-the-password-42"));
}

#[test]
fn an_unknown_mail_domain_says_to_configure_it() {
    let line = run(
        "2.00.16",
        &format!(
            "sendEmail({}, \"p\", \"r@x\", \"s\", \"b\")",
            lit(&format!("u{}nowhere.invalid", '@'))
        ),
    )
    .remove(0);
    assert!(
        line.contains("httpClient::sendEmail: ") && line.contains("emailSmtpConfig"),
        "{line}"
    );
}
