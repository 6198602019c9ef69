//! URL handling: default scheme, query building (official percent-encoding table).

/// Official `urlencode::EncodeString` table: everything is `%XX`-encoded (upper-case hex)
/// except ASCII letters, digits and `- . / _ ~`.
pub fn percent_encode(data: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in data {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'/' | b'_' | b'~') {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
        }
    }
}

/// `k1=v1&k2=v2`, keys and values percent-encoded (the official plugin encoded values
/// only; encoding keys too is a documented improvement).
pub fn encode_pairs(pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        percent_encode(k, &mut out);
        out.push(b'=');
        percent_encode(v, &mut out);
    }
    out
}

/// A URL without `scheme://` means `http://` (`localhost:8900/x`, as the official README).
pub fn with_default_scheme(url: &str) -> String {
    let trimmed = url.trim();
    if has_scheme(trimmed) {
        trimmed.to_string()
    } else {
        format!("http://{trimmed}")
    }
}

fn has_scheme(url: &str) -> bool {
    match url.find("://") {
        Some(p) => {
            let s = &url[..p];
            !s.is_empty()
                && s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// Appends `query` to `url`: `?` or `&` when the URL already has a query (nothing when it
/// already ends with `?` or `&`), placed before any `#fragment`. Empty query: unchanged.
pub fn append_query(url: &str, query: &[u8]) -> String {
    if query.is_empty() {
        return url.to_string();
    }
    let (base, fragment) = match url.find('#') {
        Some(p) => (&url[..p], &url[p..]),
        None => (url, ""),
    };
    let mut out = String::with_capacity(url.len() + query.len() + 1);
    out.push_str(base);
    if !(base.ends_with('?') || base.ends_with('&')) {
        out.push(if base.contains('?') { '&' } else { '?' });
    }
    // The URL parser percent-encodes what is not allowed in a query; bytes that are not
    // UTF-8 are encoded here so that they reach the server unchanged.
    match std::str::from_utf8(query) {
        Ok(q) => out.push_str(q),
        Err(_) => {
            for &b in query {
                if b.is_ascii() {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out.push_str(fragment);
    out
}

/// The URL for messages: scheme, host, port and path, without user info, query or
/// fragment (queries often carry webhook keys and tokens).
pub fn for_message(url: &reqwest::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// `http://user:pass@host:1` -> `http://***@host:1` (for messages and `Debug`). Everything
/// up to the last `@` goes: a password may hold `/`, `?` or `#` (a path with an `@` is cut
/// too, harmless in a message).
pub fn redact_userinfo(url: &str) -> String {
    let start = url.find("://").map(|p| p + 3).unwrap_or(0);
    let rest = &url[start..];
    match rest.rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &rest[at..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_hidden_whatever_it_holds() {
        assert_eq!(redact_userinfo("http://u:p@h:1/x"), "http://***@h:1/x");
        assert_eq!(
            redact_userinfo("http://bob:pa#s/s?@10.0.0.1:3128"),
            "http://***@10.0.0.1:3128"
        );
        assert_eq!(redact_userinfo("https://h/p?q=1"), "https://h/p?q=1");
    }

    #[test]
    fn encoding_table() {
        let mut o = Vec::new();
        percent_encode("a b&c=d/e~f.g-h_i中".as_bytes(), &mut o);
        assert_eq!(o, b"a%20b%26c%3Dd/e~f.g-h_i%E4%B8%AD");
    }

    #[test]
    fn query_append() {
        assert_eq!(append_query("http://h/p", b"a=1"), "http://h/p?a=1");
        assert_eq!(append_query("http://h/p?x=1", b"a=1"), "http://h/p?x=1&a=1");
        assert_eq!(append_query("http://h/p?", b"a=1"), "http://h/p?a=1");
        assert_eq!(append_query("http://h/p#f", b"a=1"), "http://h/p?a=1#f");
        assert_eq!(append_query("http://h/p", b""), "http://h/p");
    }

    #[test]
    fn scheme() {
        assert_eq!(
            with_default_scheme("localhost:8900/x"),
            "http://localhost:8900/x"
        );
        assert_eq!(with_default_scheme("https://a/b"), "https://a/b");
        assert_eq!(
            with_default_scheme("a/b?u=http://x"),
            "http://a/b?u=http://x"
        );
        assert_eq!(redact_userinfo("http://u:p@h:1/x"), "http://***@h:1/x");
        assert_eq!(redact_userinfo("h:1"), "h:1");
    }
}
