//! Building an e-mail from userId, recipients, subject and body (or a raw message) and the
//! options cc, bcc, fromName and replyTo: never panics, only argument errors, and a CR or
//! LF in an address, the subject or an option is always refused, so no header or SMTP
//! command can be injected.
#![no_main]
use libfuzzer_sys::fuzz_target;
use PluginHttpClient::core::email::message::build;
use PluginHttpClient::core::email::{Content, EmailAddress, EmailOptions, Mail};

fn has_crlf(s: &str) -> bool {
    s.contains(['\r', '\n'])
}

/// (userId, recipients, subject, body, raw msg, (cc, bcc, fromName, replyTo))
type Input = (
    String,
    Vec<String>,
    Vec<u8>,
    Vec<u8>,
    Option<Vec<u8>>,
    (Vec<String>, Vec<String>, Option<String>, Option<String>),
);

fuzz_target!(|input: Input| {
    let (user_id, recipients, subject, body, raw, (cc, bcc, from_name, reply_to)) = input;
    let parse = |what: &str, text: &str| match EmailAddress::parse(what, text) {
        Ok(a) => {
            assert!(!has_crlf(a.as_str()), "a CR/LF got into an address: {a:?}");
            Some(a)
        }
        Err(e) => {
            assert!(e.is_argument(), "{e:?}");
            assert!(!has_crlf(text) || e.message().contains("CR or LF"), "{e:?}");
            None
        }
    };
    let Some(from) = parse("userId", &user_id) else {
        return;
    };
    let recipients: Vec<EmailAddress> = recipients
        .iter()
        .filter_map(|r| parse("recipient", r))
        .collect();
    let injected = cc.iter().chain(&bcc).any(|a| has_crlf(a))
        || from_name.as_deref().is_some_and(has_crlf)
        || reply_to.as_deref().is_some_and(has_crlf)
        || (raw.is_none() && subject.iter().any(|&b| b == b'\r' || b == b'\n'));
    let content = match raw {
        Some(r) => Content::Raw(r),
        None => Content::SubjectBody { subject, body },
    };
    let mail = Mail {
        from,
        password: "p".into(),
        recipients,
        content,
        options: EmailOptions {
            cc,
            bcc,
            from_name,
            reply_to,
            ..EmailOptions::default()
        },
    };
    match build(&mail) {
        Ok(_) => assert!(!injected, "a CR/LF got through"),
        Err(e) => assert!(e.is_argument(), "{e:?}"),
    }
});
