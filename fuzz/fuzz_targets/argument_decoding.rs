//! Argument decoding of every plugin function's parameters from arbitrary DolphinDB values
//! (any type, form, NULL, Nothing, nested dictionaries, bytes that are not UTF-8), and the
//! typed config parsers: never a panic, only values or argument errors.
#![no_main]
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use PluginHttpClient::abi::Ddb;
use PluginHttpClient::core::http::{HttpConfig, Method};
use PluginHttpClient::surface::args::{Args, Config, StringDict, StringList, TextOrDict};
use PluginHttpClient::surface::handlers::http::request;

const TYPES: [&str; 4] = ["CHAR", "SHORT", "INT", "LONG"];

fn value(u: &mut Unstructured, depth: u32) -> arbitrary::Result<Ddb> {
    Ok(match u.int_in_range(0..=9)? {
        0 => Ddb::Nothing,
        1 => Ddb::Null(TYPES[u.choose_index(4)?]),
        2 => Ddb::Str(Vec::<u8>::arbitrary(u)?),
        3 => Ddb::Integral(i64::arbitrary(u)?, TYPES[u.choose_index(4)?]),
        4 => Ddb::Floating(f64::arbitrary(u)?),
        5 => Ddb::Bool(bool::arbitrary(u)?),
        6 => Ddb::StrVector(Vec::<Vec<u8>>::arbitrary(u)?),
        7 if depth < 2 => {
            let n = u.int_in_range(0..=6)?;
            let mut entries = Vec::new();
            for _ in 0..n {
                entries.push((Vec::<u8>::arbitrary(u)?, value(u, depth + 1)?));
            }
            Ddb::Dict(entries)
        }
        _ => Ddb::Other(String::arbitrary(u)?),
    })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let mut values = Vec::new();
    while values.len() < 6 {
        match value(&mut u, 0) {
            Ok(v) => values.push(v),
            Err(_) => break,
        }
    }
    let args = Args::new(&values);
    let _ = request(Method::Post, &args);
    for i in 0..6 {
        let _ = args.required::<String>(i, "p");
        let _ = args.optional::<i64>(i, "p");
        let _ = args.optional::<StringList>(i, "p");
        let _ = args.optional::<StringDict>(i, "p");
        let _ = args.optional::<TextOrDict>(i, "p");
        if let Ok(Some(Config(entries))) = args.optional::<Config>(i, "p") {
            let _ = HttpConfig::from_entries(&entries);
            let _ = PluginHttpClient::core::email::SmtpOptions::from_entries(&entries);
            let _ = PluginHttpClient::core::messaging::MessagingConfig::from_entries(&entries);
        }
    }
});
