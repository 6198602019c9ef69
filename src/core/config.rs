//! Values of a `config` / `options` dictionary as the surface hands them to the core,
//! already converted from DolphinDB scalars. Parsers of typed configurations
//! (`HttpConfig`, SMTP options, messaging config) take a slice of entries and reject
//! unknown keys and ill-typed values with a message naming the key.

#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    /// A STRING/SYMBOL scalar (bytes: DolphinDB strings need not be UTF-8).
    Str(Vec<u8>),
    /// Any integral scalar (CHAR, SHORT, INT, LONG).
    Int(i64),
    Double(f64),
    Bool(bool),
    /// A NULL scalar of any type: treated as "not given".
    Null,
    /// Anything else; the string says what it was (e.g. "INT VECTOR"), for the error.
    Other(String),
}

pub type ConfigEntries = Vec<(String, ConfigValue)>;
