//! Copying arguments out of server objects into `Ddb` values, checking form and type
//! first so that no virtual call that could throw is ever made.
use super::object::ObjRef;
use super::value::Ddb;

/// Nested dictionaries deeper than this are described, not read.
const MAX_DEPTH: u32 = 2;

fn type_name(obj: &ObjRef<'_>, t: i32) -> &'static str {
    let e = &obj.server.facts.enums;
    match t {
        _ if t == e.dt_void => "VOID",
        _ if t == e.dt_bool => "BOOL",
        _ if t == e.dt_char => "CHAR",
        _ if t == e.dt_short => "SHORT",
        _ if t == e.dt_int => "INT",
        _ if t == e.dt_long => "LONG",
        _ if t == e.dt_float => "FLOAT",
        _ if t == e.dt_double => "DOUBLE",
        _ if t == e.dt_symbol => "SYMBOL",
        _ if t == e.dt_string => "STRING",
        _ if t == e.dt_blob => "BLOB",
        _ if t == e.dt_any => "ANY",
        _ => "OTHER",
    }
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

fn is_string_type(name: &str) -> bool {
    matches!(name, "STRING" | "SYMBOL" | "BLOB")
}

pub(crate) fn read(obj: ObjRef<'_>) -> Ddb {
    read_depth(obj, 0)
}

fn read_depth(obj: ObjRef<'_>, depth: u32) -> Ddb {
    let e = &obj.server.facts.enums;
    let form = obj.form();
    if form == e.df_scalar {
        if obj.is_nothing() {
            return Ddb::Nothing;
        }
        let t = type_name(&obj, obj.data_type());
        // DolphinDB's empty string is its NULL string: read it as "".
        if is_string_type(t) {
            return Ddb::Str(obj.get_string());
        }
        if obj.is_null() {
            return Ddb::Null(t);
        }
        match t {
            "CHAR" | "SHORT" | "INT" | "LONG" => Ddb::Integral(obj.get_long(), t),
            "FLOAT" | "DOUBLE" => Ddb::Floating(obj.get_double()),
            "BOOL" => Ddb::Bool(obj.get_bool()),
            _ => Ddb::Other(format!("{t} SCALAR")),
        }
    } else if form == e.df_vector {
        let t = type_name(&obj, obj.data_type());
        if t == "STRING" || t == "SYMBOL" {
            Ddb::StrVector((0..obj.size()).map(|i| obj.get_string_at(i)).collect())
        } else {
            Ddb::Other(format!("{t} VECTOR"))
        }
    } else if form == e.df_dictionary {
        read_dict(obj, depth).unwrap_or_else(|| Ddb::Other("DICTIONARY".into()))
    } else {
        Ddb::Other(form_name(&obj, form).into())
    }
}

fn read_dict(obj: ObjRef<'_>, depth: u32) -> Option<Ddb> {
    let keys = obj.keys()?;
    let keys = keys.view();
    let key_type = type_name(&keys, keys.data_type());
    if !is_string_type(key_type) {
        return Some(Ddb::Other(format!("{key_type}-keyed DICTIONARY")));
    }
    if depth >= MAX_DEPTH {
        return Some(Ddb::Other("nested DICTIONARY".into()));
    }
    let values = obj.values()?;
    let values = values.view();
    let n = keys.size().min(values.size());
    // STRING/SYMBOL values (headers, query parameters, most configs): read in place, as a
    // string scalar from getAt would read, without the server making an object per value.
    let value_type = type_name(&values, values.data_type());
    let strings = values.form() == obj.server.facts.enums.df_vector
        && (value_type == "STRING" || value_type == "SYMBOL");
    let mut entries = Vec::with_capacity(n);
    for i in 0..n {
        let value = if strings {
            Ddb::Str(values.get_string_at(i))
        } else {
            read_depth(values.get_at(i)?.view(), depth + 1)
        };
        entries.push((keys.get_string_at(i), value));
    }
    Some(Ddb::Dict(entries))
}
