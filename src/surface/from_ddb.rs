//! From the `Ddb` values of a call to the typed parameters of the handlers (PyO3's
//! `FromPyObject`, in small): each parameter type says what it accepts, and the errors
//! name the parameter. The conversions follow the official plugin's, which are the
//! server's own: numbers through `getLong()`, dictionary values through `getString()`,
//! "not given" through `isNull()` (`Option<T>`) or `isNothing()` (`Maybe<T>`).
use crate::abi::{Category, Ddb, Scalar};
use crate::core::config::{ConfigValue, FromConfig};
use crate::core::error::{Error, Result};
use crate::core::http::{Header, RequestUrl};
use crate::core::log::Level;
use crate::core::messaging::{Body, RobotKind};

/// A conversion from one argument, named `param` in errors.
pub trait FromDdb: Sized {
    /// What the parameter must be, for messages ("a STRING scalar").
    const EXPECTED: &'static str;
    fn from_ddb(value: &Ddb, param: &'static str) -> Result<Self>;
}

/// How a declared parameter is read from its argument (None: the call omitted it).
pub trait FromArg: Sized {
    fn from_arg(arg: Option<&Ddb>, param: &'static str) -> Result<Self>;
}

/// A parameter where only Nothing (an omitted argument) means "not given"; a NULL or
/// empty value is converted (the official `isNothing()` test: `sendEmail`'s subject `""`
/// is an empty subject).
#[derive(Debug, Clone, PartialEq)]
pub struct Maybe<T>(pub Option<T>);

/// `setLogLevel`'s file: omitted, or a NULL that is not a STRING (the `NULL` literal), is
/// "not given"; any STRING is given, and `""` (itself a NULL STRING) stops the log file.
#[derive(Debug, Clone, PartialEq)]
pub struct LogFile(pub Option<String>);

impl FromArg for LogFile {
    fn from_arg(arg: Option<&Ddb>, param: &'static str) -> Result<Self> {
        match arg {
            None | Some(Ddb::Nothing) => Ok(LogFile(None)),
            Some(Ddb::Scalar {
                value: Scalar::Str(_),
                ..
            }) => String::from_arg(arg, param).map(|s| LogFile(Some(s))),
            Some(v) if v.is_null() => Ok(LogFile(None)),
            Some(v) => Err(wrong(param, "a STRING scalar", v)),
        }
    }
}

pub(crate) fn wrong(param: &str, expected: &str, got: &Ddb) -> Error {
    Error::argument(format!(
        "{param} must be {expected}, but got {}",
        got.describe()
    ))
}

/// The official `isNull()` of an argument: Nothing, a NULL scalar, or an empty STRING
/// (DolphinDB's NULL string).
fn is_official_null(v: &Ddb) -> bool {
    match v {
        Ddb::Nothing => true,
        Ddb::Scalar {
            value: Scalar::Str(b),
            ..
        } => b.is_empty(),
        other => other.is_null(),
    }
}

macro_rules! arg_types {
    ($($t:ty),* $(,)?) => {$(
        impl FromArg for $t {
            fn from_arg(arg: Option<&Ddb>, param: &'static str) -> Result<Self> {
                match arg {
                    None | Some(Ddb::Nothing) => Err(Error::argument(format!("{param} is required"))),
                    Some(v) => <$t as FromDdb>::from_ddb(v, param),
                }
            }
        }
        impl FromArg for Option<$t> {
            fn from_arg(arg: Option<&Ddb>, param: &'static str) -> Result<Self> {
                match arg {
                    None => Ok(None),
                    Some(v) if is_official_null(v) => Ok(None),
                    Some(v) => <$t as FromDdb>::from_ddb(v, param).map(Some),
                }
            }
        }
        impl FromArg for Maybe<$t> {
            fn from_arg(arg: Option<&Ddb>, param: &'static str) -> Result<Self> {
                match arg {
                    None | Some(Ddb::Nothing) => Ok(Maybe(None)),
                    Some(v) => <$t as FromDdb>::from_ddb(v, param).map(|x| Maybe(Some(x))),
                }
            }
        }
    )*};
}

arg_types!(
    Vec<u8>,
    String,
    RequestUrl,
    ParamsArg,
    Headers,
    Millis,
    Recipients,
    Port,
    RobotKind,
    Webhooks,
    Body,
    Level,
    Count,
);

impl<T: FromConfig> FromArg for Option<Config<T>> {
    fn from_arg(arg: Option<&Ddb>, param: &'static str) -> Result<Self> {
        match arg {
            None => Ok(None),
            Some(v) if is_official_null(v) => Ok(None),
            Some(v) => Config::<T>::from_ddb(v, param).map(Some),
        }
    }
}

/// A STRING, SYMBOL or BLOB scalar as bytes (DolphinDB strings need not be UTF-8).
impl FromDdb for Vec<u8> {
    const EXPECTED: &'static str = "a STRING scalar";
    fn from_ddb(value: &Ddb, param: &'static str) -> Result<Self> {
        match value {
            Ddb::Scalar {
                value: Scalar::Str(b),
                ..
            } => Ok(b.clone()),
            other => Err(wrong(param, Self::EXPECTED, other)),
        }
    }
}

fn utf8(bytes: Vec<u8>, param: &str) -> Result<String> {
    let s = String::from_utf8(bytes)
        .map_err(|_| Error::argument(format!("{param} must be valid UTF-8 text")))?;
    if s.contains('\0') {
        return Err(Error::argument(format!(
            "{param} must not contain NUL characters"
        )));
    }
    Ok(s)
}

/// A STRING scalar that must be valid UTF-8 text without NUL.
impl FromDdb for String {
    const EXPECTED: &'static str = "a STRING scalar";
    fn from_ddb(value: &Ddb, param: &'static str) -> Result<Self> {
        utf8(Vec::<u8>::from_ddb(value, param)?, param)
    }
}

/// A URL: not empty, no CR/LF; no scheme means http:// (as officially).
impl FromDdb for RequestUrl {
    const EXPECTED: &'static str = "a STRING scalar";
    fn from_ddb(value: &Ddb, param: &'static str) -> Result<Self> {
        RequestUrl::new(&String::from_ddb(value, param)?)
    }
}

/// A dictionary's entries with STRING/SYMBOL keys.
fn dict_entries<'a>(value: &'a Ddb, param: &str, expected: &str) -> Result<&'a [(Vec<u8>, Ddb)]> {
    match value {
        Ddb::Dict(e) => Ok(e),
        other => Err(wrong(param, expected, other)),
    }
}

/// A dictionary value as the official plugin sends it: the server's `getString()` of a
/// scalar (111 -> "111", 1.5 -> "1.5", a DATE -> "2024.01.02", NULL -> "").
fn rendered(param: &str, key: &[u8], v: &Ddb) -> Result<Vec<u8>> {
    v.rendered().ok_or_else(|| {
        Error::argument(format!(
            "{param}: the value of key '{}' must be a scalar, but got {}",
            String::from_utf8_lossy(key),
            v.describe()
        ))
    })
}

/// `params`: a STRING, or a dictionary with STRING keys (values: any scalar).
#[derive(Debug, Clone, PartialEq)]
pub enum ParamsArg {
    Text(Vec<u8>),
    Dict(Vec<(Vec<u8>, Ddb)>),
}

impl FromDdb for ParamsArg {
    const EXPECTED: &'static str = "a STRING scalar or a dictionary with STRING keys";
    fn from_ddb(value: &Ddb, param: &'static str) -> Result<Self> {
        match value {
            Ddb::Scalar {
                value: Scalar::Str(b),
                ..
            } => Ok(ParamsArg::Text(b.clone())),
            Ddb::Dict(entries) => {
                for (k, _) in entries {
                    if k.is_empty() {
                        return Err(Error::argument(format!(
                            "{param}: dictionary keys must not be empty"
                        )));
                    }
                }
                Ok(ParamsArg::Dict(entries.clone()))
            }
            other => Err(wrong(param, Self::EXPECTED, other)),
        }
    }
}

impl ParamsArg {
    /// The request's params: form pairs of rendered values, or with `json` a JSON object.
    pub fn into_params(self, json: bool) -> Result<crate::core::http::Params> {
        use crate::core::http::Params;
        match self {
            ParamsArg::Text(t) => Ok(Params::Raw(t)),
            ParamsArg::Dict(entries) if json => {
                let v = super::json::dict_to_json(&entries, "params")?;
                Ok(Params::Json(v.to_string().into_bytes()))
            }
            ParamsArg::Dict(entries) => entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), rendered("params", k, v)?)))
                .collect::<Result<Vec<_>>>()
                .map(Params::Pairs),
        }
    }
}

/// `headers`: a STRING `"Name: value"` (`""`: none), or a dictionary with STRING keys.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Headers(pub Vec<Header>);

impl FromDdb for Headers {
    const EXPECTED: &'static str = "a STRING scalar or a dictionary with STRING keys";
    fn from_ddb(value: &Ddb, param: &'static str) -> Result<Self> {
        let in_param = |e: Error| e.context(param);
        match value {
            Ddb::Scalar {
                value: Scalar::Str(b),
                ..
            } if b.is_empty() => Ok(Headers(Vec::new())),
            Ddb::Scalar {
                value: Scalar::Str(b),
                ..
            } => Ok(Headers(vec![Header::parse_line(b).map_err(in_param)?])),
            Ddb::Dict(entries) => entries
                .iter()
                .map(|(k, v)| {
                    let name = utf8(k.clone(), "header names").map_err(in_param)?;
                    let value = utf8(rendered(param, k, v)?, "header values").map_err(in_param)?;
                    Header::new(&name, &value).map_err(in_param)
                })
                .collect::<Result<Vec<_>>>()
                .map(Headers),
            other => Err(wrong(param, Self::EXPECTED, other)),
        }
    }
}

/// A duration in milliseconds: any numeric scalar (INT, LONG, DOUBLE, DECIMAL, ... as the
/// official `isNumber()`), read with the server's `getLong()` (so 1000.6 is 1001);
/// negative is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Millis(pub u64);

fn number_of(value: &Ddb) -> Option<i64> {
    match value {
        Ddb::Scalar {
            ty,
            value: Scalar::Number { long, .. },
            ..
        } if ty.category.is_number() => Some(*long),
        _ => None,
    }
}

impl FromDdb for Millis {
    const EXPECTED: &'static str = "a non-negative number of milliseconds";
    fn from_ddb(value: &Ddb, param: &'static str) -> Result<Self> {
        match number_of(value) {
            Some(n) if n >= 0 => Ok(Millis(n as u64)),
            Some(n) => Err(Error::argument(format!(
                "{param} must be a non-negative number of milliseconds, but got {n}"
            ))),
            None => Err(wrong(param, Self::EXPECTED, value)),
        }
    }
}

/// A count (of records, say): a non-negative number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count(pub usize);

impl FromDdb for Count {
    const EXPECTED: &'static str = "a non-negative number";
    fn from_ddb(value: &Ddb, param: &'static str) -> Result<Self> {
        match number_of(value) {
            Some(n) if n >= 0 => Ok(Count(usize::try_from(n).unwrap_or(usize::MAX))),
            _ => Err(wrong(param, Self::EXPECTED, value)),
        }
    }
}

/// A TCP port, 1 to 65535 (the official plugin takes an INT; any integral number here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port(pub u16);

impl FromDdb for Port {
    const EXPECTED: &'static str = "an integral scalar between 1 and 65535";
    fn from_ddb(value: &Ddb, param: &'static str) -> Result<Self> {
        match (value, number_of(value)) {
            (Ddb::Scalar { ty, .. }, Some(n)) if ty.category == Category::Integral => {
                u16::try_from(n)
                    .ok()
                    .filter(|p| *p > 0)
                    .map(Port)
                    .ok_or_else(|| {
                        Error::argument(format!("{param} must be between 1 and 65535, but got {n}"))
                    })
            }
            _ => Err(wrong(param, Self::EXPECTED, value)),
        }
    }
}

/// Strings of a STRING scalar or a STRING vector.
fn string_list(value: &Ddb, param: &'static str, expected: &'static str) -> Result<Vec<Vec<u8>>> {
    match value {
        Ddb::Scalar {
            value: Scalar::Str(b),
            ..
        } => Ok(vec![b.clone()]),
        Ddb::Vector { items, .. } => items
            .iter()
            .map(|i| match i {
                Ddb::Scalar {
                    value: Scalar::Str(b),
                    ..
                } => Ok(b.clone()),
                _ => Err(wrong(param, expected, value)),
            })
            .collect(),
        other => Err(wrong(param, expected, other)),
    }
}

/// `recipient`: a STRING or a STRING vector of addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipients(pub Vec<String>);

impl FromDdb for Recipients {
    const EXPECTED: &'static str = "a STRING scalar or a STRING vector";
    fn from_ddb(value: &Ddb, param: &'static str) -> Result<Self> {
        string_list(value, param, Self::EXPECTED)?
            .into_iter()
            .map(|b| utf8(b, param))
            .collect::<Result<Vec<_>>>()
            .map(Recipients)
    }
}

/// `webhook` of robotSend: one, or a STRING vector of them (fan-out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Webhooks {
    One(String),
    Many(Vec<String>),
}

impl FromDdb for Webhooks {
    const EXPECTED: &'static str = "a STRING scalar or a STRING vector";
    fn from_ddb(value: &Ddb, param: &'static str) -> Result<Self> {
        let list = string_list(value, param, Self::EXPECTED)?
            .into_iter()
            .map(|b| utf8(b, param))
            .collect::<Result<Vec<_>>>()?;
        match value {
            Ddb::Vector { .. } => {
                if list.is_empty() {
                    return Err(Error::argument(format!(
                        "{param} must name at least one webhook"
                    )));
                }
                Ok(Webhooks::Many(list))
            }
            _ => Ok(Webhooks::One(list.into_iter().next().unwrap_or_default())),
        }
    }
}

impl FromDdb for RobotKind {
    const EXPECTED: &'static str = "\"wecom\", \"dingtalk\" or \"feishu\"";
    fn from_ddb(value: &Ddb, param: &'static str) -> Result<Self> {
        let text = String::from_ddb(value, param)?;
        RobotKind::parse(&text).ok_or_else(|| {
            Error::argument(format!(
                "{param} must be {}, but got \"{text}\"",
                Self::EXPECTED
            ))
        })
    }
}

/// A message body: a STRING as is, or a dictionary (nested dictionaries, vectors,
/// scalars) converted to JSON.
impl FromDdb for Body {
    const EXPECTED: &'static str = "a STRING scalar or a dictionary";
    fn from_ddb(value: &Ddb, param: &'static str) -> Result<Self> {
        match value {
            Ddb::Scalar {
                value: Scalar::Str(b),
                ..
            } => Ok(Body::Text(b.clone())),
            Ddb::Dict(entries) => super::json::dict_to_json(entries, param).map(Body::Json),
            other => Err(wrong(param, Self::EXPECTED, other)),
        }
    }
}

impl FromDdb for Level {
    const EXPECTED: &'static str = "\"debug\", \"info\", \"warning\", \"error\" or \"off\"";
    fn from_ddb(value: &Ddb, param: &'static str) -> Result<Self> {
        let text = String::from_ddb(value, param)?;
        Level::parse(&text).ok_or_else(|| {
            Error::argument(format!(
                "{param} must be {}, but got \"{text}\"",
                Self::EXPECTED
            ))
        })
    }
}

/// A `config` / `options` dictionary read as `T` with the one config reader.
#[derive(Debug, Clone)]
pub struct Config<T>(pub T);

impl<T: FromConfig> Config<T> {
    fn from_ddb(value: &Ddb, param: &'static str) -> Result<Self> {
        let entries = dict_entries(value, param, "a dictionary with STRING keys")?;
        let mut out = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            let key = String::from_utf8(k.clone())
                .map_err(|_| Error::argument(format!("{param}: keys must be UTF-8 text")))?;
            out.push((key, config_value(v)));
        }
        T::from_entries(param, &out).map(Config)
    }
}

/// A dictionary value as the config reader sees it.
fn config_value(v: &Ddb) -> ConfigValue {
    match v {
        Ddb::Nothing => ConfigValue::Null,
        Ddb::Scalar {
            value: Scalar::Str(b),
            ..
        } => ConfigValue::Str(b.clone()),
        Ddb::Scalar {
            value: Scalar::Null,
            ..
        } => ConfigValue::Null,
        Ddb::Scalar {
            value: Scalar::Bool(b),
            ..
        } => ConfigValue::Bool(*b),
        Ddb::Scalar {
            ty,
            value: Scalar::Number { long, double },
            ..
        } if ty.category.is_number() => ConfigValue::Number {
            long: *long,
            double: *double,
            integral: ty.category == Category::Integral,
        },
        Ddb::Vector { items, .. }
            if items.iter().all(|i| {
                matches!(
                    i,
                    Ddb::Scalar {
                        value: Scalar::Str(_),
                        ..
                    }
                )
            }) =>
        {
            ConfigValue::List(
                items
                    .iter()
                    .filter_map(|i| match i {
                        Ddb::Scalar {
                            value: Scalar::Str(b),
                            ..
                        } => Some(b.clone()),
                        _ => None,
                    })
                    .collect(),
            )
        }
        other => ConfigValue::Other(other.describe()),
    }
}
