//! Argument conversion: from the `Ddb` values of a call to the Rust types handlers use,
//! with errors that name the function's parameter (PyO3's FromPyObject, in small).
use crate::abi::{Category, Ddb, ErrorKind, Scalar};
use crate::core::config::{ConfigEntries, ConfigValue};

/// A failure of a plugin function, before the `httpClient::<fn>: ` prefix is added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
}

impl Failure {
    pub fn argument(message: impl Into<String>) -> Failure {
        Failure {
            kind: ErrorKind::IllegalArgument,
            message: message.into(),
        }
    }
    pub fn runtime(message: impl Into<String>) -> Failure {
        Failure {
            kind: ErrorKind::Runtime,
            message: message.into(),
        }
    }
}

impl From<crate::core::Error> for Failure {
    fn from(e: crate::core::Error) -> Failure {
        if e.is_argument() {
            Failure::argument(e.message())
        } else {
            Failure::runtime(e.message())
        }
    }
}

pub type Result<T> = std::result::Result<T, Failure>;

/// The arguments of one call, by position.
pub struct Args<'a> {
    values: &'a [Ddb],
}

/// A conversion from one argument, named `param` in errors.
pub trait FromDdb: Sized {
    /// What the parameter must be, for the message ("a STRING scalar").
    const EXPECTED: &'static str;
    fn from_ddb(value: &Ddb, param: &str) -> Result<Self>;
}

fn wrong(param: &str, expected: &str, got: &Ddb) -> Failure {
    Failure::argument(format!(
        "{param} must be {expected}, but got {}",
        got.describe()
    ))
}

impl<'a> Args<'a> {
    pub fn new(values: &'a [Ddb]) -> Args<'a> {
        Args { values }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Argument `i`, which must be given (not omitted, not NULL).
    pub fn required<T: FromDdb>(&self, i: usize, param: &str) -> Result<T> {
        match self.values.get(i) {
            None | Some(Ddb::Nothing) => Err(Failure::argument(format!("{param} is required"))),
            Some(v) if v.is_null() => Err(Failure::argument(format!(
                "{param} must be {}, but got NULL",
                T::EXPECTED
            ))),
            Some(v) => T::from_ddb(v, param),
        }
    }

    /// Argument `i`, or None when omitted, a Nothing placeholder or NULL.
    pub fn optional<T: FromDdb>(&self, i: usize, param: &str) -> Result<Option<T>> {
        match self.values.get(i) {
            None | Some(Ddb::Nothing) => Ok(None),
            Some(v) if v.is_null() => Ok(None),
            Some(v) => T::from_ddb(v, param).map(Some),
        }
    }
}

/// A STRING scalar as bytes (DolphinDB strings need not be UTF-8).
impl FromDdb for Vec<u8> {
    const EXPECTED: &'static str = "a STRING scalar";
    fn from_ddb(value: &Ddb, param: &str) -> Result<Self> {
        match value {
            Ddb::Scalar {
                value: Scalar::Str(b),
                ..
            } => Ok(b.clone()),
            other => Err(wrong(param, Self::EXPECTED, other)),
        }
    }
}

/// A STRING scalar that must be valid UTF-8 text without NUL.
impl FromDdb for String {
    const EXPECTED: &'static str = "a STRING scalar";
    fn from_ddb(value: &Ddb, param: &str) -> Result<Self> {
        let bytes = Vec::<u8>::from_ddb(value, param)?;
        let s = String::from_utf8(bytes)
            .map_err(|_| Failure::argument(format!("{param} must be valid UTF-8 text")))?;
        if s.contains('\0') {
            return Err(Failure::argument(format!(
                "{param} must not contain NUL characters"
            )));
        }
        Ok(s)
    }
}

/// An integral scalar (CHAR, SHORT, INT, LONG).
impl FromDdb for i64 {
    const EXPECTED: &'static str = "an integral scalar";
    fn from_ddb(value: &Ddb, param: &str) -> Result<Self> {
        match value {
            Ddb::Scalar {
                ty,
                value: Scalar::Number { long, .. },
                ..
            } if ty.category == Category::Integral => Ok(*long),
            other => Err(wrong(param, Self::EXPECTED, other)),
        }
    }
}

/// A STRING scalar or a STRING vector: a list of strings.
pub struct StringList(pub Vec<Vec<u8>>);

impl FromDdb for StringList {
    const EXPECTED: &'static str = "a STRING scalar or a STRING vector";
    fn from_ddb(value: &Ddb, param: &str) -> Result<Self> {
        match value {
            Ddb::Scalar {
                value: Scalar::Str(b),
                ..
            } => Ok(StringList(vec![b.clone()])),
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
                Ok(StringList(
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
                ))
            }
            other => Err(wrong(param, Self::EXPECTED, other)),
        }
    }
}

/// A dictionary with STRING keys and STRING values.
pub struct StringDict(pub Vec<(Vec<u8>, Vec<u8>)>);

impl FromDdb for StringDict {
    const EXPECTED: &'static str = "a dictionary with STRING keys and STRING values";
    fn from_ddb(value: &Ddb, param: &str) -> Result<Self> {
        let Ddb::Dict(entries) = value else {
            return Err(wrong(param, Self::EXPECTED, value));
        };
        entries
            .iter()
            .map(|(k, v)| match v {
                Ddb::Scalar {
                    value: Scalar::Str(s),
                    ..
                } => Ok((k.clone(), s.clone())),
                other => Err(Failure::argument(format!(
                    "{param}: the value of key '{}' must be a STRING, but got {}",
                    String::from_utf8_lossy(k),
                    other.describe()
                ))),
            })
            .collect::<Result<_>>()
            .map(StringDict)
    }
}

/// A configuration dictionary (STRING keys, scalar values), as typed entries.
pub struct Config(pub ConfigEntries);

impl FromDdb for Config {
    const EXPECTED: &'static str = "a dictionary with STRING keys";
    fn from_ddb(value: &Ddb, param: &str) -> Result<Self> {
        let Ddb::Dict(entries) = value else {
            return Err(wrong(param, Self::EXPECTED, value));
        };
        let mut out = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            let key = String::from_utf8(k.clone())
                .map_err(|_| Failure::argument(format!("{param}: keys must be UTF-8 text")))?;
            let value = match v {
                Ddb::Scalar {
                    value: Scalar::Str(b),
                    ..
                } => ConfigValue::Str(b.clone()),
                Ddb::Scalar {
                    ty,
                    value: Scalar::Number { long, .. },
                    ..
                } if ty.category == Category::Integral => ConfigValue::Int(*long),
                Ddb::Scalar {
                    value: Scalar::Number { double, .. },
                    ..
                } => ConfigValue::Double(*double),
                Ddb::Scalar {
                    value: Scalar::Bool(b),
                    ..
                } => ConfigValue::Bool(*b),
                Ddb::Scalar {
                    value: Scalar::Null,
                    ..
                }
                | Ddb::Nothing => ConfigValue::Null,
                other => ConfigValue::Other(other.describe()),
            };
            out.push((key, value));
        }
        Ok(Config(out))
    }
}

/// Either a STRING scalar or a STRING->STRING dictionary (params, headers, body).
pub enum TextOrDict {
    Text(Vec<u8>),
    Dict(Vec<(Vec<u8>, Vec<u8>)>),
}

impl FromDdb for TextOrDict {
    const EXPECTED: &'static str = "a STRING scalar or a dictionary with STRING keys and values";
    fn from_ddb(value: &Ddb, param: &str) -> Result<Self> {
        match value {
            Ddb::Scalar {
                value: Scalar::Str(b),
                ..
            } => Ok(TextOrDict::Text(b.clone())),
            Ddb::Dict(_) => StringDict::from_ddb(value, param).map(|d| TextOrDict::Dict(d.0)),
            other => Err(wrong(param, Self::EXPECTED, other)),
        }
    }
}
