//! Plain Rust values crossing the ABI layer: what an argument was (`Ddb`), and what a
//! function returns (`Out`). No pointers: the rest of the plugin uses only these.

/// A data type as the server reported it, with the facts of its category that conversions
/// need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeInfo {
    /// "STRING", "INT", "DATE", ... ("OTHER" for types the plugin does not name).
    pub name: &'static str,
    pub category: Category,
}

/// DolphinDB's data categories (the ones conversions distinguish).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Nothing,
    Logical,
    Integral,
    Floating,
    Temporal,
    Literal,
    /// DECIMAL32/64/128.
    Denary,
    Other,
}

impl Category {
    /// The server's `isNumber()`: INTEGRAL, FLOATING or DENARY.
    pub fn is_number(self) -> bool {
        matches!(
            self,
            Category::Integral | Category::Floating | Category::Denary
        )
    }
}

/// A scalar value, read with the server's own getters.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A NULL of any type (DolphinDB's empty STRING is its NULL string: it is read as
    /// `Str(b"")`, not as Null).
    Null,
    /// STRING, SYMBOL or BLOB (bytes: need not be UTF-8).
    Str(Vec<u8>),
    Bool(bool),
    /// A number or temporal value: `getLong()` as the server computes it (DOUBLE rounds
    /// half away from zero, temporal values are their count of units), `getDouble()`.
    Number {
        long: i64,
        double: f64,
    },
    /// A value known by its rendering only (UUID, IPADDR, INT128, COMPLEX, ...).
    Opaque,
}

/// A DolphinDB argument, copied out of the server's object.
#[derive(Debug, Clone, PartialEq)]
pub enum Ddb {
    /// An omitted optional argument (a "Nothing" placeholder).
    Nothing,
    /// A scalar. `text` is the server's `getString()` rendering, read for values inside
    /// dictionaries and vectors (where the official plugin renders them) and for temporal
    /// and DECIMAL values; None for a top-level STRING/number/BOOL scalar.
    Scalar {
        ty: TypeInfo,
        value: Scalar,
        text: Option<Vec<u8>>,
    },
    /// A vector (any element type); elements read as scalars (ANY vectors: any value).
    Vector { ty: TypeInfo, items: Vec<Ddb> },
    /// A dictionary with STRING/SYMBOL keys, entries in the dictionary's order.
    Dict(Vec<(Vec<u8>, Ddb)>),
    /// Anything else; says what it is, e.g. "INT-keyed DICTIONARY", "TABLE".
    Other(String),
}

impl Ddb {
    /// What the value is, for error messages: "STRING SCALAR", "INT VECTOR", "DICTIONARY".
    pub fn describe(&self) -> String {
        match self {
            Ddb::Nothing => "nothing".into(),
            Ddb::Scalar {
                ty,
                value: Scalar::Null,
                ..
            } => format!("NULL {}", ty.name),
            Ddb::Scalar { ty, .. } => format!("{} SCALAR", ty.name),
            Ddb::Vector { ty, .. } => format!("{} VECTOR", ty.name),
            Ddb::Dict(_) => "STRING-keyed DICTIONARY".into(),
            Ddb::Other(s) => s.clone(),
        }
    }

    /// A NULL scalar (not Nothing).
    pub fn is_null(&self) -> bool {
        matches!(
            self,
            Ddb::Scalar {
                value: Scalar::Null,
                ..
            }
        )
    }

    /// Nothing, or a NULL scalar: the official plugin's `isNull()` test of an argument.
    pub fn is_nothing_or_null(&self) -> bool {
        matches!(self, Ddb::Nothing) || self.is_null()
    }

    /// The server's `getString()` of a scalar: its rendering when read, else built from the
    /// value the same way for the types where the rendering is plain (STRING as is,
    /// integers in decimal, NULL as the empty string).
    pub fn rendered(&self) -> Option<Vec<u8>> {
        match self {
            Ddb::Scalar { text: Some(t), .. } => Some(t.clone()),
            Ddb::Scalar { value, ty, .. } => match value {
                Scalar::Null => Some(Vec::new()),
                Scalar::Str(b) => Some(b.clone()),
                Scalar::Number { long, .. } if ty.category == Category::Integral => {
                    Some(long.to_string().into_bytes())
                }
                _ => None,
            },
            _ => None,
        }
    }
}

/// One column of a result table.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValues {
    Str(Vec<Vec<u8>>),
    Int(Vec<Option<i32>>),
    Long(Vec<Option<i64>>),
    Double(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    /// Milliseconds since 1970-01-01 00:00:00 (DolphinDB TIMESTAMP).
    Timestamp(Vec<Option<i64>>),
}

impl ColumnValues {
    pub fn len(&self) -> usize {
        match self {
            ColumnValues::Str(v) => v.len(),
            ColumnValues::Int(v) => v.len(),
            ColumnValues::Long(v) | ColumnValues::Timestamp(v) => v.len(),
            ColumnValues::Double(v) => v.len(),
            ColumnValues::Bool(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
    /// Milliseconds since the epoch, a TIMESTAMP scalar.
    Timestamp(i64),
    /// A STRING->ANY dictionary, keys in this order.
    Dict(Vec<(String, Out)>),
    /// A table: named columns of equal length.
    Table(Vec<(String, ColumnValues)>),
}

/// Which DolphinDB exception a failure becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// `IllegalArgumentException`: the caller passed something wrong.
    IllegalArgument,
    /// `RuntimeException`: the call was fine but failed (network, server answer, ...).
    Runtime,
}
