//! `sendEmail(userId, pwd, recipient, subject, body, [msg])` and
//! `emailSmtpConfig(emailName, host, [port], [options])`.
use crate::abi::Out;
use crate::core::email::{self, Content, Mail, SmtpOptions};
use crate::surface::args::{Args, Config, Failure, Result, StringList};

pub fn smtp_config(args: &Args) -> Result<Out> {
    let domain: String = args.required(0, "emailName")?;
    let host: String = args.required(1, "host")?;
    if domain.trim().is_empty() {
        return Err(Failure::argument("emailName must not be empty"));
    }
    if host.trim().is_empty() {
        return Err(Failure::argument("host must not be empty"));
    }
    let port = match args.optional::<i64>(2, "port")? {
        None => None,
        Some(p) if (1..=65535).contains(&p) => Some(p as u16),
        Some(p) => {
            return Err(Failure::argument(format!(
                "port must be between 1 and 65535, but got {p}"
            )))
        }
    };
    let options = match args.optional::<Config>(3, "options")? {
        None => None,
        Some(Config(entries)) => Some(
            SmtpOptions::from_entries(&entries)
                .map_err(|e| Failure::argument(format!("options: {e}")))?,
        ),
    };
    email::configure(&domain, &host, port, options).map_err(|e| Failure::argument(e.message()))?;
    Ok(Out::Bool(true))
}

/// A STRING argument that counts as "set" only when given and non-empty, as officially.
fn non_empty(args: &Args, i: usize, param: &str) -> Result<Option<Vec<u8>>> {
    Ok(args
        .optional::<Vec<u8>>(i, param)?
        .filter(|s| !s.is_empty()))
}

pub fn send(args: &Args) -> Result<Out> {
    let user_id: String = args.required(0, "userId")?;
    if user_id.is_empty() {
        return Err(Failure::argument("userId must be a non-empty string"));
    }
    let password: String = args.required(1, "pwd")?;
    let StringList(recipients) = args.required(2, "recipient")?;
    let recipients = recipients
        .into_iter()
        .map(|r| {
            String::from_utf8(r)
                .map_err(|_| Failure::argument("recipient must be valid UTF-8 text"))
        })
        .collect::<Result<Vec<_>>>()?;
    if recipients.is_empty() {
        return Err(Failure::argument(
            "recipient must name at least one address",
        ));
    }
    let subject = non_empty(args, 3, "subject")?;
    let body = non_empty(args, 4, "body")?;
    let msg = non_empty(args, 5, "msg")?;
    let content = match (subject, body, msg) {
        (Some(_), _, Some(_)) => {
            return Err(Failure::argument("set either subject or msg, not both"))
        }
        (Some(subject), Some(body), None) => Content::SubjectBody { subject, body },
        (Some(_), None, None) | (None, Some(_), None) => {
            return Err(Failure::argument("subject and body must be set together"))
        }
        (None, _, Some(raw)) => Content::Raw(raw),
        (None, None, None) => {
            return Err(Failure::argument(
                "set either subject and body, or msg; at least one is required",
            ))
        }
    };
    let mail = Mail {
        user_id,
        password,
        recipients,
        content,
    };
    let r = email::send(&mail)?;
    Ok(Out::Dict(vec![
        ("responseCode".into(), Out::Int(r.response_code)),
        ("text".into(), Out::Str(r.text.into_bytes())),
        ("headers".into(), Out::Str(r.headers.into_bytes())),
        ("elapsed".into(), Out::Double(r.elapsed)),
        ("userId".into(), Out::Str(r.user_id.into_bytes())),
        (
            "recipient".into(),
            Out::Str(r.recipients.join(" ").into_bytes()),
        ),
    ]))
}
