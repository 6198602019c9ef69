//! `headers` given as a "Name: value" STRING: never panics; whatever it accepts is a
//! header that passes validation (no CR/LF/NUL can be smuggled into the request).
#![no_main]
use libfuzzer_sys::fuzz_target;
use PluginHttpClient::core::http::{parse_header_string, validate_header};

fuzz_target!(|data: &[u8]| {
    if let Ok((name, value)) = parse_header_string(data) {
        assert!(validate_header(&name, &value).is_ok(), "{name:?}: {value:?}");
        assert!(!name.contains(['\r', '\n', '\0']) && !value.contains(['\r', '\n', '\0']));
    }
});
