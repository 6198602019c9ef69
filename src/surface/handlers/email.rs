//! `sendEmail(userId, pwd, recipient, subject, body, [msg], [options])` and
//! `emailSmtpConfig(emailName, host, [port], [options])`.
use crate::abi::Out;
use crate::core::delivery::{self, queue, Delivered};
use crate::core::email::{
    self, Content, EmailAddress, EmailOptions, Mail, OutgoingMail, SmtpOptions,
};
use crate::core::error::{Error, Result};
use crate::surface::into_ddb::Sent;
use crate::surface::{Config, IntoDdb, Maybe, Port, Recipients};

pub fn smtp_config(
    email_name: String,
    host: String,
    port: Option<Port>,
    options: Option<Config<SmtpOptions>>,
) -> Result<bool> {
    if email_name.trim().is_empty() {
        return Err(Error::argument("emailName must not be empty"));
    }
    if host.trim().is_empty() {
        return Err(Error::argument("host must not be empty"));
    }
    email::configure(&email_name, &host, port.map(|p| p.0), options.map(|o| o.0))?;
    Ok(true)
}

/// The official rules: only Nothing means "not given" (`""` is an empty subject); subject
/// and body together, or msg, not both.
fn content(
    subject: Option<Vec<u8>>,
    body: Option<Vec<u8>>,
    msg: Option<Vec<u8>>,
) -> Result<Content> {
    match (subject, body, msg) {
        (Some(_), None, _) | (None, Some(_), _) => {
            Err(Error::argument("subject and body must be set together"))
        }
        (Some(_), Some(_), Some(_)) => Err(Error::argument("set either subject or msg, not both")),
        (Some(subject), Some(body), None) => Ok(Content::SubjectBody { subject, body }),
        (None, None, Some(raw)) => Ok(Content::Raw(raw)),
        (None, None, None) => Err(Error::argument(
            "set either subject and body, or msg; at least one is required",
        )),
    }
}

#[allow(clippy::too_many_arguments)]
pub fn send(
    user_id: String,
    pwd: String,
    recipient: Recipients,
    subject: Maybe<Vec<u8>>,
    body: Maybe<Vec<u8>>,
    msg: Maybe<Vec<u8>>,
    options: Option<Config<EmailOptions>>,
) -> Result<Out> {
    if user_id.is_empty() {
        return Err(Error::argument("userId must be a non-empty string"));
    }
    // the official order: the subject/body/msg rules before anything about addresses
    let content = content(subject.0, body.0, msg.0)?;
    let from = EmailAddress::parse("userId", &user_id)?;
    let recipients = recipient
        .0
        .iter()
        .map(|r| EmailAddress::parse("recipient", r))
        .collect::<Result<Vec<_>>>()?;
    if recipients.is_empty() {
        return Err(Error::argument("recipient must name at least one address"));
    }
    let options = options.map(|o| o.0).unwrap_or_default();
    let asynchronous = options.asynchronous;
    // sync: no retry unless asked (as officially); queued: 3
    let retries = options.retries.unwrap_or(if asynchronous { 3 } else { 0 });
    let each = options.each;
    let mail = Mail {
        from,
        password: pwd,
        recipients,
        content,
        options,
    };
    // checked now, so that a bad mail is an error of the call, not of a later delivery
    email::message::build(&mail)?;
    if each {
        let mails: Vec<OutgoingMail> = mail
            .recipients
            .iter()
            .map(|r| {
                OutgoingMail(Mail {
                    recipients: vec![r.clone()],
                    ..mail.clone()
                })
            })
            .collect();
        return Ok(super::messaging::fan_out(mails, asynchronous, retries)?.into_ddb());
    }
    let outgoing = OutgoingMail(mail);
    if asynchronous {
        let id = queue::enqueue(Box::new(outgoing), retries)?;
        return Ok(Sent::<Out>::Queued(id).into_ddb());
    }
    match delivery::send_now(&outgoing, retries).1? {
        Delivered::Mail(m) => Ok(m.into_ddb()),
        Delivered::Answer(_) => unreachable!("a mail is answered by its SMTP server"),
    }
}
