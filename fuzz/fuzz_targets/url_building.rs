//! URL and query building: a scheme-less url, a query appended with `?` or `&`, params
//! percent-encoded. Never panics; encoded pairs contain only URL-safe bytes; a checked
//! request URL never holds CR, LF or NUL.
#![no_main]
use libfuzzer_sys::fuzz_target;
use PluginHttpClient::core::http::url::{append_query, encode_pairs, with_default_scheme};
use PluginHttpClient::core::http::RequestUrl;

/// (url, a query, params as pairs)
type Input = (String, Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>);

fuzz_target!(|input: Input| {
    let (url, query, pairs) = input;
    let full = with_default_scheme(&url);
    let _ = append_query(&full, &query);
    let encoded = encode_pairs(&pairs);
    assert!(encoded.iter().all(|b| b.is_ascii_graphic()), "{encoded:?}");
    let _ = append_query(&full, &encoded);
    match RequestUrl::new(&url) {
        Ok(u) => assert!(!u.as_str().contains(['\r', '\n', '\0'])),
        Err(e) => assert!(e.is_argument(), "{e:?}"),
    }
});
