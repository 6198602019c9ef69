//! The one reader of `config` / `options` dictionaries. The surface converts a DolphinDB
//! dictionary into [`ConfigValue`] entries (numbers read with the server's `getLong()`);
//! each typed configuration (`HttpConfig`, `MessagingConfig`, `SmtpOptions`,
//! `EmailOptions`) implements [`FromConfig`] by asking a [`ConfigReader`] for its keys
//! with typed getters. The reader records every key asked for, so that an unknown key is
//! refused listing exactly the keys that configuration knows, and every type error has
//! the same wording. All errors are argument errors.
use crate::core::error::{Error, Result};

/// A value of a configuration dictionary, as the surface read it.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    /// A STRING/SYMBOL scalar (bytes: DolphinDB strings need not be UTF-8).
    Str(Vec<u8>),
    /// A numeric scalar (integral, floating or DECIMAL): `long` is the server's
    /// `getLong()` (floating values rounded half away from zero), `integral` says whether
    /// the type was integral.
    Number {
        long: i64,
        double: f64,
        integral: bool,
    },
    Bool(bool),
    /// A STRING/SYMBOL vector.
    List(Vec<Vec<u8>>),
    /// A NULL scalar of any type, or Nothing: treated as "not given".
    Null,
    /// Anything else; the string says what it was (e.g. "INT VECTOR"), for the error.
    Other(String),
}

impl ConfigValue {
    fn describe(&self) -> String {
        match self {
            ConfigValue::Str(_) => "STRING".into(),
            ConfigValue::Number { integral: true, .. } => "an integral number".into(),
            ConfigValue::Number { .. } => "a floating-point number".into(),
            ConfigValue::Bool(_) => "BOOL".into(),
            ConfigValue::List(_) => "STRING VECTOR".into(),
            ConfigValue::Null => "NULL".into(),
            ConfigValue::Other(s) => s.clone(),
        }
    }
}

pub type ConfigEntries = Vec<(String, ConfigValue)>;

/// A configuration read from a dictionary with a [`ConfigReader`].
pub trait FromConfig: Sized {
    /// Reads this configuration's keys (and nothing else: the caller finishes the reader).
    fn read(r: &mut ConfigReader<'_>) -> Result<Self>;

    /// Reads `entries` as a whole dictionary named `what` ("config", "options"): unknown
    /// keys are refused.
    fn from_entries(what: &'static str, entries: &[(String, ConfigValue)]) -> Result<Self> {
        let mut r = ConfigReader::new(what, entries);
        let out = Self::read(&mut r)?;
        r.finish()?;
        Ok(out)
    }

    /// The keys this configuration knows, in the order it reads them.
    fn keys() -> Vec<&'static str> {
        let mut r = ConfigReader::new("config", &[]);
        let _ = Self::read(&mut r);
        r.known
    }
}

/// Typed access to the entries of one dictionary.
pub struct ConfigReader<'a> {
    what: &'static str,
    entries: &'a [(String, ConfigValue)],
    used: Vec<bool>,
    known: Vec<&'static str>,
}

impl<'a> ConfigReader<'a> {
    pub fn new(what: &'static str, entries: &'a [(String, ConfigValue)]) -> Self {
        ConfigReader {
            what,
            entries,
            used: vec![false; entries.len()],
            known: Vec::new(),
        }
    }

    /// The value of `key` (the last one if repeated), or None when absent or NULL.
    fn take(&mut self, key: &'static str) -> Option<&'a ConfigValue> {
        if !self.known.contains(&key) {
            self.known.push(key);
        }
        let mut found = None;
        for (i, (k, v)) in self.entries.iter().enumerate() {
            if k == key {
                self.used[i] = true;
                found = Some(v);
            }
        }
        found.filter(|v| !matches!(v, ConfigValue::Null))
    }

    /// The raw value of `key` (None when absent or NULL), for keys of more than one type;
    /// report a wrong one with [`ConfigReader::wrong`].
    pub fn value(&mut self, key: &'static str) -> Option<ConfigValue> {
        self.take(key).cloned()
    }

    /// The type error of `key`, in the one wording.
    pub fn wrong(&self, key: &str, expected: &str, got: &ConfigValue) -> Error {
        Error::argument(format!(
            "{} '{key}' must be {expected}, but got {}",
            self.what,
            got.describe()
        ))
    }

    fn invalid(&self, key: &str, why: impl std::fmt::Display) -> Error {
        Error::argument(format!("{} '{key}' {why}", self.what))
    }

    fn utf8(&self, key: &str, bytes: &[u8]) -> Result<String> {
        let s = std::str::from_utf8(bytes)
            .map_err(|_| self.invalid(key, "must be valid UTF-8 text"))?;
        if s.contains('\0') {
            return Err(self.invalid(key, "must not contain NUL characters"));
        }
        Ok(s.to_string())
    }

    /// A STRING scalar; an empty string means "not given" (as the official plugin treats
    /// its proxy keys).
    pub fn text(&mut self, key: &'static str) -> Result<Option<String>> {
        match self.take(key) {
            None => Ok(None),
            Some(ConfigValue::Str(b)) if b.is_empty() => Ok(None),
            Some(ConfigValue::Str(b)) => self.utf8(key, b).map(Some),
            Some(other) => Err(self.wrong(key, "a STRING scalar", other)),
        }
    }

    /// A BOOL scalar (an integral 0 or 1 is taken as false or true).
    pub fn flag(&mut self, key: &'static str) -> Result<Option<bool>> {
        match self.take(key) {
            None => Ok(None),
            Some(ConfigValue::Bool(b)) => Ok(Some(*b)),
            Some(ConfigValue::Number {
                long: v @ (0 | 1),
                integral: true,
                ..
            }) => Ok(Some(*v == 1)),
            Some(other) => Err(self.wrong(key, "a BOOL scalar", other)),
        }
    }

    /// A non-negative number (any numeric type, read as the server's `getLong()`),
    /// described as `unit` in errors ("milliseconds", "bytes", "messages").
    pub fn number(&mut self, key: &'static str, unit: &str) -> Result<Option<u64>> {
        match self.take(key) {
            None => Ok(None),
            Some(ConfigValue::Number { long, .. }) if *long >= 0 => Ok(Some(*long as u64)),
            Some(ConfigValue::Number { long, .. }) => Err(self.invalid(
                key,
                format!("must be a non-negative number of {unit}, but got {long}"),
            )),
            Some(other) => Err(self.wrong(key, &format!("a number of {unit}"), other)),
        }
    }

    /// A duration in milliseconds (non-negative number).
    pub fn millis(&mut self, key: &'static str) -> Result<Option<u64>> {
        self.number(key, "milliseconds")
    }

    /// A STRING scalar or a STRING vector, as a list (empty strings dropped).
    pub fn texts(&mut self, key: &'static str) -> Result<Option<Vec<String>>> {
        let items: Vec<&Vec<u8>> = match self.take(key) {
            None => return Ok(None),
            Some(ConfigValue::Str(b)) => vec![b],
            Some(ConfigValue::List(v)) => v.iter().collect(),
            Some(other) => {
                return Err(self.wrong(key, "a STRING scalar or a STRING vector", other))
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for b in items {
            if !b.is_empty() {
                out.push(self.utf8(key, b)?);
            }
        }
        Ok(Some(out))
    }

    /// One of `choices` (case-insensitive), returned as spelled in `choices`.
    pub fn choice(
        &mut self,
        key: &'static str,
        choices: &[&'static str],
    ) -> Result<Option<&'static str>> {
        let Some(text) = self.text(key)? else {
            return Ok(None);
        };
        choices
            .iter()
            .find(|c| c.eq_ignore_ascii_case(text.trim()))
            .copied()
            .map(Some)
            .ok_or_else(|| {
                self.invalid(
                    key,
                    format!(
                        "must be one of {}, but got \"{text}\"",
                        choices
                            .iter()
                            .map(|c| format!("\"{c}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
    }

    /// Refuses the keys no getter asked for, listing the known ones.
    pub fn finish(self) -> Result<()> {
        for (i, (key, _)) in self.entries.iter().enumerate() {
            if !self.used[i] {
                return Err(Error::argument(format!(
                    "{}: unknown key '{key}'; known keys: {}",
                    self.what,
                    self.known.join(", ")
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Demo {
        name: Option<String>,
        on: bool,
        wait: u64,
    }

    impl FromConfig for Demo {
        fn read(r: &mut ConfigReader<'_>) -> Result<Self> {
            Ok(Demo {
                name: r.text("name")?,
                on: r.flag("on")?.unwrap_or(true),
                wait: r.millis("wait")?.unwrap_or(5),
            })
        }
    }

    fn s(v: &str) -> ConfigValue {
        ConfigValue::Str(v.as_bytes().to_vec())
    }

    fn n(v: i64) -> ConfigValue {
        ConfigValue::Number {
            long: v,
            double: v as f64,
            integral: true,
        }
    }

    #[test]
    fn typed_getters_nulls_and_defaults() {
        let d = Demo::from_entries(
            "config",
            &[
                ("name".into(), s("x")),
                ("on".into(), ConfigValue::Bool(false)),
                ("wait".into(), ConfigValue::Null),
            ],
        )
        .unwrap();
        assert_eq!((d.name.as_deref(), d.on, d.wait), (Some("x"), false, 5));
        let d = Demo::from_entries(
            "config",
            &[(
                "wait".into(),
                ConfigValue::Number {
                    long: 1001,
                    double: 1000.5,
                    integral: false,
                },
            )],
        )
        .unwrap();
        assert_eq!(d.wait, 1001);
        assert_eq!(Demo::keys(), ["name", "on", "wait"]);
    }

    #[test]
    fn one_wording_for_unknown_keys_and_types() {
        let e = Demo::from_entries("options", &[("nmae".into(), s("x"))])
            .err()
            .unwrap();
        assert_eq!(
            e.message(),
            "options: unknown key 'nmae'; known keys: name, on, wait"
        );
        let e = Demo::from_entries("config", &[("on".into(), s("yes"))])
            .err()
            .unwrap();
        assert_eq!(
            e.message(),
            "config 'on' must be a BOOL scalar, but got STRING"
        );
        let e = Demo::from_entries("config", &[("wait".into(), n(-1))])
            .err()
            .unwrap();
        assert!(e.is_argument());
        assert_eq!(
            e.message(),
            "config 'wait' must be a non-negative number of milliseconds, but got -1"
        );
    }
}
