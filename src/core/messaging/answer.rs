//! A platform's JSON answer as returned to the script.
use crate::core::error::{Cause, Error, Result};
use crate::core::http::Response;
use serde::de::{MapAccess, Visitor};
use std::fmt;

/// The longest pause a platform's `x-ogw-ratelimit-reset` may impose.
pub const MAX_RESET_SECS: u64 = 3600;

/// A top-level scalar field of the answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Str(String),
    Long(i64),
    Double(f64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// `errcode` (Feishu: `code`); 0 when the answer has neither.
    pub errcode: i64,
    /// `errmsg` (Feishu: `msg`); empty when the answer has neither.
    pub errmsg: String,
    /// The HTTP status.
    pub response_code: u16,
    /// The answer's body as received.
    pub text: Vec<u8>,
    /// Seconds the HTTP exchange took (the last one, when retried).
    pub elapsed: f64,
    /// Every other top-level scalar field (strings, numbers, booleans), in answer order.
    pub fields: Vec<(String, Scalar)>,
    /// `x-ogw-ratelimit-reset` (Feishu: seconds until the rate limit resets), if sent.
    pub ratelimit_reset: Option<u64>,
}

impl Answer {
    /// A field of [`Answer::fields`] by name.
    pub fn field(&self, name: &str) -> Option<&Scalar> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// Top-level members of a JSON object, in document order.
struct Ordered(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn to_i64(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn to_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Parses `resp` as `platform`'s answer. Not a JSON object: an error naming the platform
/// and the HTTP status, with the start of the body with `secrets` removed.
pub(crate) fn parse_answer(platform: &str, resp: Response, secrets: &[&str]) -> Result<Answer> {
    let parsed = {
        let mut de = serde_json::Deserializer::from_slice(&resp.body);
        serde::Deserialize::deserialize(&mut de).and_then(|o: Ordered| de.end().map(|_| o))
    };
    let members = match parsed {
        Ok(Ordered(m)) => m,
        Err(_) => {
            let text = String::from_utf8_lossy(&resp.body);
            let mut snippet: String = text.trim().chars().take(120).collect();
            if text.trim().chars().count() > 120 {
                snippet.push_str("...");
            }
            let snippet = crate::core::error::redact(&snippet, secrets);
            return Err(Error::runtime(
                Cause::HttpStatus(resp.status),
                format!(
                    "the {platform} answer is not a JSON object (HTTP status {}): {}",
                    resp.status,
                    if snippet.is_empty() {
                        "<empty body>".to_string()
                    } else {
                        snippet
                    }
                ),
            ));
        }
    };
    let has_errcode = members.iter().any(|(k, _)| k == "errcode");
    let has_errmsg = members.iter().any(|(k, _)| k == "errmsg");
    let mut errcode = 0;
    let mut errmsg = String::new();
    let mut fields = Vec::new();
    for (k, v) in members {
        match k.as_str() {
            "errcode" => errcode = to_i64(&v).unwrap_or(-1),
            "errmsg" => errmsg = to_text(&v),
            "code" if !has_errcode => errcode = to_i64(&v).unwrap_or(-1),
            "msg" if !has_errmsg => errmsg = to_text(&v),
            _ => {
                let s = match v {
                    serde_json::Value::String(s) => Scalar::Str(s),
                    serde_json::Value::Bool(b) => Scalar::Bool(b),
                    serde_json::Value::Number(n) => match n.as_i64() {
                        Some(i) => Scalar::Long(i),
                        None => Scalar::Double(n.as_f64().unwrap_or(f64::NAN)),
                    },
                    _ => continue,
                };
                fields.push((k, s));
            }
        }
    }
    // seconds; a peer's absurd value must not pause a destination for years (or overflow
    // an Instant): at most an hour
    let ratelimit_reset = resp
        .header("x-ogw-ratelimit-reset")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|secs| secs.min(MAX_RESET_SECS));
    Ok(Answer {
        errcode,
        errmsg,
        response_code: resp.status,
        text: resp.body,
        elapsed: resp.elapsed,
        fields,
        ratelimit_reset,
    })
}
