//! Argument decoding of every plugin function's parameter types from arbitrary DolphinDB
//! values (any type and category, NULL, Nothing, vectors, nested dictionaries, bytes that
//! are not UTF-8), and the typed config readers: never a panic, only values or argument
//! errors.
#![no_main]
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use PluginHttpClient::abi::{Category, Ddb, Scalar, TypeInfo};
use PluginHttpClient::core::email::{EmailOptions, SmtpOptions};
use PluginHttpClient::core::error::Result;
use PluginHttpClient::core::http::{HttpConfig, RequestUrl};
use PluginHttpClient::core::log::Level;
use PluginHttpClient::core::messaging::{Body, MessagingConfig, RobotKind};
use PluginHttpClient::surface::{
    Config, Count, FromArg, Headers, Maybe, Millis, ParamsArg, Port, Recipients, Webhooks,
};

const TYPES: [(&str, Category); 12] = [
    ("STRING", Category::Literal),
    ("SYMBOL", Category::Literal),
    ("BLOB", Category::Literal),
    ("BOOL", Category::Logical),
    ("CHAR", Category::Integral),
    ("INT", Category::Integral),
    ("LONG", Category::Integral),
    ("DOUBLE", Category::Floating),
    ("DECIMAL64", Category::Denary),
    ("TIMESTAMP", Category::Temporal),
    ("UUID", Category::Other),
    ("VOID", Category::Nothing),
];

fn type_info(u: &mut Unstructured) -> arbitrary::Result<TypeInfo> {
    let (name, category) = TYPES[u.choose_index(TYPES.len())?];
    Ok(TypeInfo { name, category })
}

fn scalar(u: &mut Unstructured) -> arbitrary::Result<Ddb> {
    let value = match u.int_in_range(0..=4)? {
        0 => Scalar::Null,
        1 => Scalar::Str(Vec::<u8>::arbitrary(u)?),
        2 => Scalar::Bool(bool::arbitrary(u)?),
        3 => Scalar::Number {
            long: i64::arbitrary(u)?,
            double: f64::arbitrary(u)?,
        },
        _ => Scalar::Opaque,
    };
    Ok(Ddb::Scalar {
        ty: type_info(u)?,
        value,
        text: Option::<Vec<u8>>::arbitrary(u)?,
    })
}

fn value(u: &mut Unstructured, depth: u32) -> arbitrary::Result<Ddb> {
    Ok(match u.int_in_range(0..=5)? {
        0 => Ddb::Nothing,
        1 | 2 => scalar(u)?,
        3 if depth < 3 => {
            let n = u.int_in_range(0..=6)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(value(u, depth + 1)?);
            }
            Ddb::Vector {
                ty: type_info(u)?,
                items,
            }
        }
        4 if depth < 3 => {
            let n = u.int_in_range(0..=6)?;
            let mut entries = Vec::with_capacity(n);
            for _ in 0..n {
                entries.push((Vec::<u8>::arbitrary(u)?, value(u, depth + 1)?));
            }
            Ddb::Dict(entries)
        }
        _ => Ddb::Other(String::arbitrary(u)?),
    })
}

/// Decoding fails only with an argument error.
fn check<T>(r: Result<T>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            assert!(e.is_argument(), "not an argument error: {e:?}");
            None
        }
    }
}

fn decode_all(arg: Option<&Ddb>) {
    const P: &str = "p";
    check(<RequestUrl as FromArg>::from_arg(arg, P));
    check(<String as FromArg>::from_arg(arg, P));
    check(<Maybe<Vec<u8>> as FromArg>::from_arg(arg, P));
    check(<Option<Millis> as FromArg>::from_arg(arg, P));
    check(<Option<Count> as FromArg>::from_arg(arg, P));
    check(<Option<Port> as FromArg>::from_arg(arg, P));
    check(<Option<Headers> as FromArg>::from_arg(arg, P));
    check(<Recipients as FromArg>::from_arg(arg, P));
    check(<Webhooks as FromArg>::from_arg(arg, P));
    check(<RobotKind as FromArg>::from_arg(arg, P));
    check(<Level as FromArg>::from_arg(arg, P));
    check(<Option<Body> as FromArg>::from_arg(arg, P));
    if let Some(Some(params)) = check(<Option<ParamsArg> as FromArg>::from_arg(arg, P)) {
        check(params.clone().into_params(false));
        check(params.into_params(true));
    }
    check(<Option<Config<HttpConfig>> as FromArg>::from_arg(arg, P));
    check(<Option<Config<MessagingConfig>> as FromArg>::from_arg(
        arg, P,
    ));
    check(<Option<Config<SmtpOptions>> as FromArg>::from_arg(arg, P));
    check(<Option<Config<EmailOptions>> as FromArg>::from_arg(arg, P));
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    decode_all(None);
    for _ in 0..4 {
        match value(&mut u, 0) {
            Ok(v) => decode_all(Some(&v)),
            Err(_) => break,
        }
    }
});
