//! Plain Rust values crossing the ABI layer: what an argument was (`Ddb`), and what a
//! function returns (`Out`). No pointers: the rest of the plugin uses only these.

/// A DolphinDB argument, copied out of the server's object.
#[derive(Debug, Clone, PartialEq)]
pub enum Ddb {
    /// An omitted optional argument (a "Nothing" placeholder).
    Nothing,
    /// A NULL scalar; the string names its type (e.g. "INT").
    Null(&'static str),
    /// STRING, SYMBOL or BLOB scalar (bytes: need not be UTF-8).
    Str(Vec<u8>),
    /// CHAR, SHORT, INT or LONG scalar, with its type name.
    Integral(i64, &'static str),
    /// FLOAT or DOUBLE scalar.
    Floating(f64),
    Bool(bool),
    /// STRING or SYMBOL vector.
    StrVector(Vec<Vec<u8>>),
    /// Dictionary with STRING/SYMBOL keys, entries in the dictionary's order.
    Dict(Vec<(Vec<u8>, Ddb)>),
    /// Anything else; says what it is, e.g. "INT VECTOR", "TABLE".
    Other(String),
}

impl Ddb {
    /// What the value is, for error messages: "STRING SCALAR", "INT VECTOR", "DICTIONARY".
    pub fn describe(&self) -> String {
        match self {
            Ddb::Nothing => "nothing".into(),
            Ddb::Null(t) => format!("NULL {t}"),
            Ddb::Str(_) => "STRING SCALAR".into(),
            Ddb::Integral(_, t) => format!("{t} SCALAR"),
            Ddb::Floating(_) => "DOUBLE SCALAR".into(),
            Ddb::Bool(_) => "BOOL SCALAR".into(),
            Ddb::StrVector(_) => "STRING VECTOR".into(),
            Ddb::Dict(_) => "STRING-keyed DICTIONARY".into(),
            Ddb::Other(s) => s.clone(),
        }
    }
}

/// A value a plugin function returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    Str(Vec<u8>),
    Int(i32),
    Long(i64),
    Double(f64),
    Bool(bool),
    /// A STRING->ANY dictionary (scalar values).
    Dict(Vec<(String, Out)>),
}

/// Which DolphinDB exception a failure becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// `IllegalArgumentException`: the caller passed something wrong.
    IllegalArgument,
    /// `RuntimeException`: the call was fine but failed (network, server answer, ...).
    Runtime,
}
