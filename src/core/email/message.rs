//! What is sent: validation of the addresses and building of the message bytes.
use lettre::address::{Address, Envelope};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};

use crate::core::error::{Error, Result};

/// The content of a mail: subject and HTML body, or a complete RFC 5322 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    SubjectBody { subject: Vec<u8>, body: Vec<u8> },
    Raw(Vec<u8>),
}

/// One `sendEmail` call.
#[derive(Clone, PartialEq, Eq)]
pub struct Mail {
    pub user_id: String,
    pub password: String,
    pub recipients: Vec<String>,
    pub content: Content,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("user_id", &self.user_id)
            .field("password", &"<hidden>")
            .field("recipients", &self.recipients)
            .field("content", &self.content)
            .finish()
    }
}

fn refuse_crlf(what: &str, value: &str) -> Result<()> {
    if value.contains(['\r', '\n']) {
        return Err(Error::argument(format!(
            "{what} must not contain CR or LF characters"
        )));
    }
    Ok(())
}

/// The address of `userId` (which must be a plain `user@domain`).
pub fn sender_address(user_id: &str) -> Result<Address> {
    if user_id.is_empty() {
        return Err(Error::argument("userId must be a non-empty string"));
    }
    refuse_crlf("userId", user_id)?;
    user_id.trim().parse::<Address>().map_err(|_| {
        Error::argument(format!(
            "userId \"{}\" is not a valid e-mail address",
            user_id.escape_debug()
        ))
    })
}

/// The addresses of the recipients (at least one).
pub fn recipient_addresses(recipients: &[String]) -> Result<Vec<Address>> {
    if recipients.is_empty() {
        return Err(Error::argument("recipient must name at least one address"));
    }
    recipients
        .iter()
        .map(|r| {
            refuse_crlf("recipient", r)?;
            r.trim().parse::<Address>().map_err(|_| {
                Error::argument(format!(
                    "recipient \"{}\" is not a valid e-mail address",
                    r.escape_debug()
                ))
            })
        })
        .collect()
}

/// The envelope and the bytes of the DATA phase for `mail`.
pub fn build(mail: &Mail) -> Result<(Envelope, Vec<u8>)> {
    let from = sender_address(&mail.user_id)?;
    let to = recipient_addresses(&mail.recipients)?;
    let envelope = Envelope::new(Some(from.clone()), to.clone())
        .map_err(|e| Error::new(format!("invalid envelope: {e}")))?;
    let bytes = match &mail.content {
        Content::SubjectBody { subject, body } => build_subject_body(from, &to, subject, body)?,
        Content::Raw(raw) => {
            check_raw(raw, &from, &to)?;
            let mut bytes = normalize_line_endings(raw);
            // The DATA terminator adds CRLF itself: a final CRLF would arrive doubled.
            if bytes.ends_with(b"\r\n") {
                bytes.truncate(bytes.len() - 2);
            }
            bytes
        }
    };
    Ok((envelope, bytes))
}

fn build_subject_body(
    from: Address,
    to: &[Address],
    subject: &[u8],
    body: &[u8],
) -> Result<Vec<u8>> {
    let subject = std::str::from_utf8(subject)
        .map_err(|_| Error::argument("subject is not valid UTF-8 text"))?;
    refuse_crlf("subject", subject)?;
    let body =
        std::str::from_utf8(body).map_err(|_| Error::argument("body is not valid UTF-8 text"))?;
    let mut builder = Message::builder()
        .from(Mailbox::new(None, from))
        .subject(subject)
        .message_id(None)
        .header(ContentType::TEXT_HTML);
    for address in to {
        builder = builder.to(Mailbox::new(None, address.clone()));
    }
    let message = builder
        .body(body.to_string())
        .map_err(|e| Error::new(format!("cannot build the message: {e}")))?;
    Ok(message.formatted())
}

/// The header fields of a raw message (unfolded), up to the first empty line.
fn header_fields(raw: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(raw);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    fields
}

/// The address part of `Name <addr>` or of a bare `addr`.
fn bare_address(entry: &str) -> &str {
    let entry = entry.trim();
    match (entry.rfind('<'), entry.rfind('>')) {
        (Some(open), Some(close)) if open < close => entry[open + 1..close].trim(),
        _ => entry,
    }
}

fn same_address(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Official rules for `msg`: its `From:` must be userId and its `To:` must list exactly
/// the recipients (here: in any order; `Name <addr>` forms accepted).
fn check_raw(raw: &[u8], from: &Address, to: &[Address]) -> Result<()> {
    let fields = header_fields(raw);
    let froms: Vec<&str> = fields
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("From"))
        .map(|(_, v)| v.as_str())
        .collect();
    if froms.is_empty() {
        return Err(Error::argument("The 'From:' field of msg is required."));
    }
    if froms.len() > 1 || !same_address(bare_address(froms[0]), from.as_ref()) {
        return Err(Error::argument(
            "Sender email specified in the 'From:' field of msg must match userId.",
        ));
    }
    let tos: Vec<&(String, String)> = fields
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("To"))
        .collect();
    if tos.is_empty() {
        return Err(Error::argument("The 'To:' field of msg is required."));
    }
    let mut listed: Vec<String> = tos
        .iter()
        .flat_map(|(_, v)| v.split(','))
        .map(|e| bare_address(e).to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .collect();
    let mut wanted: Vec<String> = to
        .iter()
        .map(|a| a.to_string().to_ascii_lowercase())
        .collect();
    listed.sort();
    wanted.sort();
    if listed != wanted {
        return Err(Error::argument(
            "Receiver email specified in the 'To:' field of msg must match recipient.",
        ));
    }
    Ok(())
}

/// SMTP needs CRLF: bare LF (scripts often write "\n") becomes CRLF; all else is kept.
fn normalize_line_endings(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 16);
    let mut previous = 0u8;
    for &b in raw {
        if b == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        previous = b;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(content: Content) -> Mail {
        Mail {
            user_id: "a@x.test".into(),
            password: "pw".into(),
            recipients: vec!["b@y.test".into(), "c@y.test".into()],
            content,
        }
    }

    fn raw(text: &str) -> Content {
        Content::Raw(text.as_bytes().to_vec())
    }

    #[test]
    fn raw_checks() {
        let ok = "From: a@x.test\nTo: b@y.test, C <c@y.test>\nSubject: x\n\nbody\n";
        let (_, bytes) = build(&mail(raw(ok))).unwrap();
        assert!(String::from_utf8(bytes)
            .unwrap()
            .ends_with("Subject: x\r\n\r\nbody"));
        let bad_from = "From: z@x.test\nTo: b@y.test, c@y.test\n\nx";
        assert!(build(&mail(raw(bad_from)))
            .unwrap_err()
            .message()
            .contains("'From:'"));
        let bad_to = "From: a@x.test\nTo: b@y.test\n\nx";
        assert!(build(&mail(raw(bad_to)))
            .unwrap_err()
            .message()
            .contains("'To:'"));
        let no_to = "From: a@x.test\n\nTo: b@y.test";
        assert!(build(&mail(raw(no_to)))
            .unwrap_err()
            .message()
            .contains("'To:' field of msg is required"));
    }

    #[test]
    fn refuses_crlf_and_bad_utf8() {
        let e = build(&mail(Content::SubjectBody {
            subject: b"a\r\nBcc: evil".to_vec(),
            body: b"x".to_vec(),
        }))
        .unwrap_err();
        assert!(
            e.message().contains("subject must not contain CR or LF"),
            "{e}"
        );
        let e = build(&mail(Content::SubjectBody {
            subject: vec![0xff, 0xfe],
            body: b"x".to_vec(),
        }))
        .unwrap_err();
        assert!(e.message().contains("subject is not valid UTF-8"), "{e}");
        let mut m = mail(Content::SubjectBody {
            subject: b"s".to_vec(),
            body: b"b".to_vec(),
        });
        m.recipients = vec!["b@y.test\r\nRCPT TO:<e@y.test>".into()];
        assert!(build(&m)
            .unwrap_err()
            .message()
            .contains("recipient must not contain CR or LF"));
    }

    #[test]
    fn subject_body_has_headers() {
        let (_, bytes) = build(&mail(Content::SubjectBody {
            subject: "告警".as_bytes().to_vec(),
            body: "<b>内容</b>".as_bytes().to_vec(),
        }))
        .unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("Message-ID: <"), "{text}");
        assert!(text.contains("Date: "), "{text}");
        assert!(text.contains("Subject: =?utf-8?"), "{text}");
        assert!(
            text.contains("Content-Type: text/html; charset=utf-8"),
            "{text}"
        );
        assert!(text.is_ascii());
    }
}
