//! Copying arguments out of server objects into `Ddb` values with the server's own
//! getters (`getString()`, `getLong()`, `getDouble()`, `getBool()`), as the official plugin
//! reads them. Form, type and category are checked first, so that no getter that could
//! throw (a conversion the object does not support) is ever called.
use super::object::ObjRef;
use super::value::{Category, Ddb, Scalar, TypeInfo};

/// Nested dictionaries and vectors deeper than this are described, not read.
const MAX_DEPTH: u32 = 16;

fn type_info(obj: &ObjRef<'_>) -> TypeInfo {
    let e = &obj.server.facts.enums;
    let t = obj.data_type();
    let c = obj.category();
    let category = match c {
        _ if c == e.cat_nothing => Category::Nothing,
        _ if c == e.cat_logical => Category::Logical,
        _ if c == e.cat_integral => Category::Integral,
        _ if c == e.cat_floating => Category::Floating,
        _ if c == e.cat_temporal => Category::Temporal,
        _ if c == e.cat_literal => Category::Literal,
        _ if Some(c) == e.cat_denary => Category::Denary,
        _ => Category::Other,
    };
    let name = match t {
        _ if t == e.dt_void => "VOID",
        _ if t == e.dt_bool => "BOOL",
        _ if t == e.dt_char => "CHAR",
        _ if t == e.dt_short => "SHORT",
        _ if t == e.dt_int => "INT",
        _ if t == e.dt_long => "LONG",
        _ if t == e.dt_date => "DATE",
        _ if t == e.dt_timestamp => "TIMESTAMP",
        _ if t == e.dt_float => "FLOAT",
        _ if t == e.dt_double => "DOUBLE",
        _ if t == e.dt_symbol => "SYMBOL",
        _ if t == e.dt_string => "STRING",
        _ if t == e.dt_blob => "BLOB",
        _ if t == e.dt_any => "ANY",
        _ => match category {
            Category::Temporal => "TEMPORAL",
            Category::Denary => "DECIMAL",
            Category::Literal => "LITERAL",
            _ => "OTHER",
        },
    };
    TypeInfo { name, category }
}

fn form_name(obj: &ObjRef<'_>, f: i32) -> &'static str {
    let e = &obj.server.facts.enums;
    match f {
        _ if f == e.df_scalar => "SCALAR",
        _ if f == e.df_vector => "VECTOR",
        _ if f == e.df_pair => "PAIR",
        _ if f == e.df_matrix => "MATRIX",
        _ if f == e.df_set => "SET",
        _ if f == e.df_dictionary => "DICTIONARY",
        _ if f == e.df_table => "TABLE",
        _ => "object",
    }
}

/// STRING, SYMBOL and BLOB hold bytes, read with getString().
fn is_string_type(ty: TypeInfo) -> bool {
    matches!(ty.name, "STRING" | "SYMBOL" | "BLOB")
}

/// Reads an argument of a call.
pub(crate) fn read(obj: ObjRef<'_>) -> Ddb {
    read_depth(obj, 0, false)
}

/// `nested`: the value sits in a dictionary or vector, where the server's rendering of
/// every scalar is read too.
fn read_depth(obj: ObjRef<'_>, depth: u32, nested: bool) -> Ddb {
    let e = &obj.server.facts.enums;
    let form = obj.form();
    if form == e.df_scalar {
        if obj.is_nothing() {
            return Ddb::Nothing;
        }
        read_scalar(obj, nested)
    } else if form == e.df_vector {
        if depth >= MAX_DEPTH {
            return Ddb::Other("nested VECTOR".into());
        }
        read_vector(obj, depth)
    } else if form == e.df_dictionary {
        if depth >= MAX_DEPTH {
            return Ddb::Other("nested DICTIONARY".into());
        }
        read_dict(obj, depth).unwrap_or_else(|| Ddb::Other("DICTIONARY".into()))
    } else {
        Ddb::Other(form_name(&obj, form).into())
    }
}

fn read_scalar(obj: ObjRef<'_>, nested: bool) -> Ddb {
    let ty = type_info(&obj);
    // DolphinDB's empty string is its NULL string: read it as "".
    if is_string_type(ty) {
        return Ddb::Scalar {
            ty,
            value: Scalar::Str(obj.get_string()),
            text: None,
        };
    }
    let render = nested || matches!(ty.category, Category::Temporal | Category::Denary);
    let text = render.then(|| obj.get_string());
    let value = if obj.is_null() {
        Scalar::Null
    } else {
        match ty.category {
            Category::Logical => Scalar::Bool(obj.get_bool()),
            Category::Integral | Category::Temporal => {
                let long = obj.get_long();
                Scalar::Number {
                    long,
                    double: long as f64,
                }
            }
            Category::Floating | Category::Denary => Scalar::Number {
                long: obj.get_long(),
                double: obj.get_double(),
            },
            // VOID is always NULL; other categories (UUID, IPADDR, COMPLEX, ...) are known
            // by their rendering only.
            _ => {
                return Ddb::Scalar {
                    ty,
                    value: Scalar::Opaque,
                    text: Some(text.unwrap_or_else(|| obj.get_string())),
                }
            }
        }
    };
    Ddb::Scalar { ty, value, text }
}

fn read_vector(obj: ObjRef<'_>, depth: u32) -> Ddb {
    let ty = type_info(&obj);
    let n = obj.size();
    let mut items = Vec::with_capacity(n);
    if is_string_type(ty) {
        // read in place, as a string scalar from get(i) would read, without the server
        // making an object per element
        for i in 0..n {
            items.push(Ddb::Scalar {
                ty,
                value: Scalar::Str(obj.get_string_at(i)),
                text: None,
            });
        }
    } else {
        for i in 0..n {
            match obj.get_at(i) {
                Some(sp) => items.push(read_depth(sp.view(), depth + 1, true)),
                None => items.push(Ddb::Nothing),
            }
        }
    }
    Ddb::Vector { ty, items }
}

fn read_dict(obj: ObjRef<'_>, depth: u32) -> Option<Ddb> {
    let keys = obj.keys()?;
    let keys = keys.view();
    let key_type = type_info(&keys);
    if !is_string_type(key_type) {
        return Some(Ddb::Other(format!("{}-keyed DICTIONARY", key_type.name)));
    }
    let values = obj.values()?;
    let values = values.view();
    let n = keys.size().min(values.size());
    // STRING/SYMBOL values (headers, query parameters, most configs): read in place.
    let value_type = type_info(&values);
    let strings = values.form() == obj.server.facts.enums.df_vector && is_string_type(value_type);
    let mut entries = Vec::with_capacity(n);
    for i in 0..n {
        let value = if strings {
            Ddb::Scalar {
                ty: value_type,
                value: Scalar::Str(values.get_string_at(i)),
                text: None,
            }
        } else {
            read_depth(values.get_at(i)?.view(), depth + 1, true)
        };
        entries.push((keys.get_string_at(i), value));
    }
    Some(Ddb::Dict(entries))
}
