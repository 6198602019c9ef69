//! Request headers (the validated [`Header`], parsed from the `"Name: value"` string form
//! or built from a dictionary entry) and the raw response header block returned to the
//! user.
use crate::core::error::{Error, Result};

/// The official plugin's message for a malformed header string.
pub const HEADER_FORMAT_ERROR: &str =
    "If the parameter 'header' is a STRING, it must be in the format of XXX:XXX.";

/// One request header, validated once: the name is a non-empty HTTP token, neither part
/// holds CR, LF or NUL (no header injection). The value may be empty: newer official
/// builds (3.00.1.16, 3.00.2.17, 3.00.3.5 and later) send `{"X-Empty": ""}` as an empty
/// header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    name: String,
    value: String,
}

impl Header {
    /// Checks a name and value (from a dictionary entry, the C API, the plugin itself).
    pub fn new(name: &str, value: &str) -> Result<Header> {
        if name.is_empty() {
            return Err(Error::argument("header names must not be empty"));
        }
        let bad = |c: char| c == '\r' || c == '\n' || c == '\0';
        if name.contains(bad) || value.contains(bad) {
            return Err(Error::argument(format!(
                "header '{}' contains a CR, LF or NUL character, which is not allowed",
                name.escape_default()
            )));
        }
        if !name.bytes().all(is_token_byte) {
            return Err(Error::argument(format!(
                "invalid header name '{name}': only letters, digits and !#$%&'*+-.^_`|~ are allowed"
            )));
        }
        Ok(Header {
            name: name.to_string(),
            value: value.to_string(),
        })
    }

    /// Parses the string form `"Name: value"` (name and value trimmed of spaces and tabs).
    ///
    /// Errors with [`HEADER_FORMAT_ERROR`] when there is no colon, the colon is the first or
    /// last character, or the name or the value is empty after trimming, as the official
    /// plugin does. Unlike the official plugin, further colons are allowed in the value
    /// (`"Referer: http://x"`); the official one refused them. An empty string is an
    /// error here: the caller treats `""` as "no headers", as the official plugin does.
    pub fn parse_line(s: &[u8]) -> Result<Header> {
        let pos = match s.iter().position(|&b| b == b':') {
            Some(p) if p > 0 && p + 1 < s.len() => p,
            _ => return Err(Error::argument(HEADER_FORMAT_ERROR)),
        };
        let name = trim_ows(&s[..pos]);
        let value = trim_ows(&s[pos + 1..]);
        if name.is_empty() || value.is_empty() {
            return Err(Error::argument(HEADER_FORMAT_ERROR));
        }
        let name = std::str::from_utf8(name)
            .map_err(|_| Error::argument("header name is not valid UTF-8"))?;
        let value = std::str::from_utf8(value)
            .map_err(|_| Error::argument(format!("value of header '{name}' is not valid UTF-8")))?;
        Header::new(name, value)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn value(&self) -> &str {
        &self.value
    }
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Appends `content-type` as `Content-Type` (HTTP/1.x servers mostly send this case; hyper
/// gives lower-case names, which are always ASCII tokens).
fn push_title_case(out: &mut Vec<u8>, name: &str) {
    let mut upper = true;
    out.extend(name.bytes().map(|b| {
        let c = if upper { b.to_ascii_uppercase() } else { b };
        upper = b == b'-';
        c
    }));
}

/// Builds the raw header block like libcurl gives it: status line, `Name: value` lines,
/// empty line, all CRLF-terminated. HTTP/2 and 3 use curl's `HTTP/2 200` status line and
/// keep the lower-case names as received.
pub fn header_block(
    version: reqwest::Version,
    status: reqwest::StatusCode,
    headers: &reqwest::header::HeaderMap,
) -> Vec<u8> {
    let (proto, h1) = match version {
        reqwest::Version::HTTP_09 => ("HTTP/0.9", true),
        reqwest::Version::HTTP_10 => ("HTTP/1.0", true),
        reqwest::Version::HTTP_2 => ("HTTP/2", false),
        reqwest::Version::HTTP_3 => ("HTTP/3", false),
        _ => ("HTTP/1.1", true),
    };
    let mut out = Vec::with_capacity(64 + headers.len() * 48);
    out.extend_from_slice(proto.as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.as_str().as_bytes());
    if h1 {
        out.push(b' ');
        out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        if h1 {
            push_title_case(&mut out, name.as_str());
        } else {
            out.extend_from_slice(name.as_str().as_bytes());
        }
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_ok_and_errors() {
        let h = Header::parse_line(b"Content-Type: application/json").unwrap();
        assert_eq!((h.name(), h.value()), ("Content-Type", "application/json"));
        let h = Header::parse_line(b"Referer:http://a/b").unwrap();
        assert_eq!((h.name(), h.value()), ("Referer", "http://a/b"));
        for bad in [&b""[..], b"NoColon", b":v", b"k:", b"k:   ", b"  :v"] {
            assert_eq!(
                Header::parse_line(bad).unwrap_err().message(),
                HEADER_FORMAT_ERROR
            );
        }
        assert!(Header::parse_line(b"X: a\r\nEvil: 1").is_err());
        assert!(Header::parse_line(b"Bad Name: 1").is_err());
        assert_eq!(Header::new("X-Empty", "").unwrap().value(), "");
        assert!(Header::new("", "v").unwrap_err().is_argument());
    }

    #[test]
    fn title() {
        let mut out = Vec::new();
        push_title_case(&mut out, "content-type");
        out.push(b' ');
        push_title_case(&mut out, "x-request-id");
        assert_eq!(out, b"Content-Type X-Request-Id");
    }
}
