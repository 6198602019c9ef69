//! `headers` given as a "Name: value" STRING: never panics, fails only with an argument
//! error; whatever it accepts is a header that passes validation (no CR/LF/NUL can be
//! smuggled into the request).
#![no_main]
use libfuzzer_sys::fuzz_target;
use PluginHttpClient::core::http::Header;

fuzz_target!(|data: &[u8]| {
    match Header::parse_line(data) {
        Ok(h) => {
            let (name, value) = (h.name(), h.value());
            assert_eq!(Header::new(name, value).as_ref(), Ok(&h));
            assert!(!name.is_empty() && !value.is_empty());
            assert!(!name.contains(['\r', '\n', '\0']) && !value.contains(['\r', '\n', '\0']));
        }
        Err(e) => assert!(e.is_argument(), "{e:?}"),
    }
});
