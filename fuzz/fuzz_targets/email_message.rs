//! Building an e-mail from userId, recipients, subject and body (or a raw message): never
//! panics, and a CR or LF in the subject, userId or a recipient is always refused, so no
//! header can be injected.
#![no_main]
use libfuzzer_sys::fuzz_target;
use PluginHttpClient::core::email::{message::build, Content, Mail};

fuzz_target!(|input: (String, Vec<String>, Vec<u8>, Vec<u8>, Option<Vec<u8>>)| {
    let (user_id, recipients, subject, body, raw) = input;
    let injected = user_id.contains(['\r', '\n'])
        || recipients.iter().any(|r| r.contains(['\r', '\n']))
        || (raw.is_none() && subject.iter().any(|&b| b == b'\r' || b == b'\n'));
    let content = match raw {
        Some(r) => Content::Raw(r),
        None => Content::SubjectBody { subject, body },
    };
    let mail = Mail { user_id, password: "p".into(), recipients, content };
    if build(&mail).is_ok() {
        assert!(!injected, "a CR/LF got through");
    }
});
