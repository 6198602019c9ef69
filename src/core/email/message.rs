//! What is sent: validated addresses and the bytes of the message (subject and body with
//! the options' cc, reply-to, sender name and attachments, or a complete raw message).
use lettre::address::{Address, Envelope};
use lettre::message::header::ContentType as HeaderContentType;
use lettre::message::{Attachment, Mailbox, Message, MultiPart, SinglePart};

use super::options::{ContentType, EmailOptions};
use crate::core::error::{Cause, Error, Result};

/// Attachments larger than this, together, are refused (most providers' limit is
/// 20-50 MB, and the mail is held in memory while it is sent).
pub const MAX_ATTACHMENT_BYTES: u64 = 25 * 1024 * 1024;

/// The content of a mail: subject and body, or a complete RFC 5322 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    SubjectBody { subject: Vec<u8>, body: Vec<u8> },
    Raw(Vec<u8>),
}

/// An e-mail address, checked once: no CR or LF (nothing can be smuggled into an SMTP
/// command or a header), a valid `local@domain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(Address);

impl EmailAddress {
    /// Parses `text` (surrounding spaces ignored); `what` names it in errors ("userId",
    /// "recipient", "option 'cc'").
    pub fn parse(what: &str, text: &str) -> Result<EmailAddress> {
        if text.contains(['\r', '\n']) {
            return Err(Error::argument(format!(
                "{what} must not contain CR or LF characters"
            )));
        }
        text.trim()
            .parse::<Address>()
            .map(EmailAddress)
            .map_err(|_| {
                Error::argument(format!(
                    "{what} \"{}\" is not a valid e-mail address",
                    text.escape_debug()
                ))
            })
    }

    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }

    /// The part after the '@'.
    pub fn domain(&self) -> &str {
        self.0.domain()
    }

    fn address(&self) -> Address {
        self.0.clone()
    }
}

/// One mail.
#[derive(Clone, PartialEq, Eq)]
pub struct Mail {
    pub from: EmailAddress,
    pub password: String,
    pub recipients: Vec<EmailAddress>,
    pub content: Content,
    pub options: EmailOptions,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("from", &self.from)
            .field("password", &"<hidden>")
            .field("recipients", &self.recipients)
            .field("content", &self.content)
            .field("options", &self.options)
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

fn addresses(what: &str, list: &[String]) -> Result<Vec<EmailAddress>> {
    list.iter().map(|a| EmailAddress::parse(what, a)).collect()
}

/// The envelope and the bytes of the DATA phase for `mail`.
pub fn build(mail: &Mail) -> Result<(Envelope, Vec<u8>)> {
    if mail.recipients.is_empty() {
        return Err(Error::argument("recipient must name at least one address"));
    }
    let cc = addresses("option 'cc'", &mail.options.cc)?;
    let bcc = addresses("option 'bcc'", &mail.options.bcc)?;
    let to: Vec<Address> = mail.recipients.iter().map(EmailAddress::address).collect();
    let envelope_to: Vec<Address> = to
        .iter()
        .cloned()
        .chain(cc.iter().chain(&bcc).map(EmailAddress::address))
        .collect();
    let envelope = Envelope::new(Some(mail.from.address()), envelope_to)
        .map_err(|e| Error::argument(format!("invalid envelope: {e}")))?;
    let bytes = match &mail.content {
        Content::SubjectBody { subject, body } => {
            build_subject_body(mail, &to, &cc, subject, body)?
        }
        Content::Raw(raw) => {
            let o = &mail.options;
            if !(o.cc.is_empty()
                && o.attachments.is_empty()
                && o.from_name.is_none()
                && o.reply_to.is_none())
                || o.content_type != ContentType::Html
            {
                return Err(Error::argument(
                    "options cc, attachments, contentType, fromName and replyTo apply to \
                     subject and body; a raw msg carries its own headers (bcc may be used)",
                ));
            }
            check_raw(raw, &mail.from.address(), &to)?;
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

fn read_attachment(path: &str) -> Result<(String, Vec<u8>)> {
    let p = std::path::Path::new(path);
    let bytes = std::fs::read(p).map_err(|e| {
        Error::runtime(
            Cause::Io,
            format!("cannot read the attachment \"{path}\": {e}"),
        )
    })?;
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "attachment".into());
    Ok((name, bytes))
}

fn build_subject_body(
    mail: &Mail,
    to: &[Address],
    cc: &[EmailAddress],
    subject: &[u8],
    body: &[u8],
) -> Result<Vec<u8>> {
    let o = &mail.options;
    let subject = std::str::from_utf8(subject)
        .map_err(|_| Error::argument("subject is not valid UTF-8 text"))?;
    refuse_crlf("subject", subject)?;
    let body =
        std::str::from_utf8(body).map_err(|_| Error::argument("body is not valid UTF-8 text"))?;
    if let Some(name) = &o.from_name {
        refuse_crlf("option 'fromName'", name)?;
    }
    let mut builder = Message::builder()
        .from(Mailbox::new(o.from_name.clone(), mail.from.address()))
        .subject(subject)
        .message_id(None);
    for address in to {
        builder = builder.to(Mailbox::new(None, address.clone()));
    }
    for address in cc {
        builder = builder.cc(Mailbox::new(None, address.address()));
    }
    if let Some(reply_to) = &o.reply_to {
        let a = EmailAddress::parse("option 'replyTo'", reply_to)?;
        builder = builder.reply_to(Mailbox::new(None, a.address()));
    }
    let content_type = match o.content_type {
        ContentType::Html => HeaderContentType::TEXT_HTML,
        ContentType::Plain => HeaderContentType::TEXT_PLAIN,
    };
    let message = if o.attachments.is_empty() {
        builder.header(content_type).body(body.to_string())
    } else {
        let mut parts = MultiPart::mixed().singlepart(
            SinglePart::builder()
                .header(content_type)
                .body(body.to_string()),
        );
        let mut total = 0u64;
        for path in &o.attachments {
            let (name, bytes) = read_attachment(path)?;
            total += bytes.len() as u64;
            if total > MAX_ATTACHMENT_BYTES {
                return Err(Error::argument(format!(
                    "the attachments exceed {} MiB together",
                    MAX_ATTACHMENT_BYTES >> 20
                )));
            }
            let mime =
                HeaderContentType::parse("application/octet-stream").expect("a valid content type");
            parts = parts.singlepart(Attachment::new(name).body(bytes, mime));
        }
        builder.multipart(parts)
    }
    .map_err(|e| Error::argument(format!("cannot build the message: {e}")))?;
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

/// SMTP needs CRLF: a bare LF (scripts often write "\n") or a bare CR becomes CRLF (a
/// bare CR is a line end to some servers, which would then see a `.` after it as the end
/// of the data); all else is kept.
fn normalize_line_endings(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 16);
    let mut bytes = raw.iter().peekable();
    while let Some(&b) = bytes.next() {
        match b {
            b'\r' => {
                out.extend_from_slice(b"\r\n");
                if bytes.peek() == Some(&&b'\n') {
                    bytes.next();
                }
            }
            b'\n' => out.extend_from_slice(b"\r\n"),
            _ => out.push(b),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_become_crlf() {
        assert_eq!(
            normalize_line_endings(b"a\nb\r\nc\rd\r.\r\ne\r"),
            b"a\r\nb\r\nc\r\nd\r\n.\r\ne\r\n".to_vec()
        );
    }

    fn mail(content: Content) -> Mail {
        Mail {
            from: EmailAddress::parse("userId", "a@x.test").unwrap(),
            password: "pw".into(),
            recipients: vec![
                EmailAddress::parse("recipient", "b@y.test").unwrap(),
                EmailAddress::parse("recipient", "c@y.test").unwrap(),
            ],
            content,
            options: EmailOptions::default(),
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
        let e = EmailAddress::parse("recipient", "b@y.test\r\nRCPT TO:<e@y.test>").unwrap_err();
        assert!(e.message().contains("recipient must not contain CR or LF"));
    }

    #[test]
    fn subject_body_has_headers_and_options() {
        let mut m = mail(Content::SubjectBody {
            subject: "告警".as_bytes().to_vec(),
            body: "<b>内容</b>".as_bytes().to_vec(),
        });
        m.options.cc = vec!["d@y.test".into()];
        m.options.bcc = vec!["e@y.test".into()];
        m.options.from_name = Some("行情监控".into());
        m.options.reply_to = Some("ops@x.test".into());
        let (envelope, bytes) = build(&m).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("Message-ID: <"), "{text}");
        assert!(text.contains("Date: "), "{text}");
        assert!(text.contains("Subject: =?utf-8?"), "{text}");
        assert!(text.contains("Cc: d@y.test"), "{text}");
        assert!(text.contains("Reply-To: ops@x.test"), "{text}");
        assert!(
            !text.contains("e@y.test"),
            "bcc must not be visible: {text}"
        );
        assert_eq!(envelope.to().len(), 4);
        assert!(
            text.contains("Content-Type: text/html; charset=utf-8"),
            "{text}"
        );
        assert!(text.is_ascii());
    }
}
