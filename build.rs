//! Turns the committed facts files (facts/<version>.json, written by tools/abi/gen_facts.py)
//! into a Rust table compiled into the plugin, so one binary carries every supported ABI.
use serde_json::Value;
use std::fmt::Write as _;
use std::{env, fs, path::Path};

fn num(v: &Value, path: &[&str]) -> u64 {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_u64()
        .unwrap_or_else(|| panic!("facts: {} missing in {}", path.join("."), v["version"]))
}

fn opt_slot(v: &Value, name: &str) -> String {
    match v["slots"][name].as_u64() {
        Some(n) => format!("Some({n})"),
        None => "None".into(),
    }
}

fn opt_field(v: &Value, name: &str) -> String {
    match v["flag"].get(name) {
        Some(f) if f.is_object() => format!(
            "Some(BitField {{ shift: {}, bits: {} }})",
            num(f, &["shift"]),
            num(f, &["bits"])
        ),
        _ => "None".into(),
    }
}

fn sym(v: &Value, name: &str) -> String {
    let s = v["symbols"][name]
        .as_str()
        .unwrap_or_else(|| panic!("facts: symbol {name} missing"));
    format!("c\"{s}\"")
}

fn list(v: &Value) -> String {
    let items: Vec<String> = v
        .as_array()
        .expect("facts: list")
        .iter()
        .map(|x| x.as_u64().expect("facts: number").to_string())
        .collect();
    format!("&[{}]", items.join(", "))
}

fn exception(v: &Value, key: &str) -> String {
    let e = &v[key];
    let function = match e.get("function") {
        Some(f) => format!("Some({})", f.as_u64().expect("facts: function offset")),
        None => "None".into(),
    };
    format!(
        "ExceptionLayout {{ size: {}, strings: {}, message: {}, function: {} }}",
        num(e, &["size"]),
        list(&e["strings"]),
        num(e, &["message"]),
        function
    )
}

fn facts_entry(v: &Value) -> String {
    let mut s = String::new();
    let slot = |n: &str| num(v, &["slots", n]);
    let e = |n: &str| num(v, &["enums", n]);
    writeln!(
        s,
        "Facts {{ version: {:?}, long_descriptor: {}, namespace_ddb: {},",
        v["version"].as_str().unwrap(),
        v["descriptor"] == "long",
        v["namespace"] == "ddb"
    )
    .unwrap();
    writeln!(s, "  slots: Slots {{ get_string: {}, get_string_at: {}, get_bool: {}, get_int: {}, get_long: {}, get_double: {}, is_null: {}, size: {}, get_at: {}, keys: {}, values: {}, set_key_value: {}, set_bool: {}, set_int: {}, set_long: {}, set_double: {}, set_string: {}, get_type: {}, get_category: {}, destructor_deleting: {} }},",
        slot("getString"), slot("getStringAt"), slot("getBool"), slot("getInt"), slot("getLong"), slot("getDouble"), slot("isNull"), slot("size"), slot("getAt"), slot("keys"), slot("values"), slot("setKeyValue"), slot("setBool"), slot("setInt"), slot("setLong"), slot("setDouble"), slot("setString"), opt_slot(v, "getType"), opt_slot(v, "getCategory"), num(v, &["destructor", "deleting"])).unwrap();
    writeln!(s, "  flag: FlagLayout {{ offset: {}, width: {}, form: BitField {{ shift: {}, bits: {} }}, nothing: {}, data_type: {}, category: {} }},",
        num(v, &["flag", "offset"]), num(v, &["flag", "width"]), num(v, &["flag", "form", "shift"]), num(v, &["flag", "form", "bits"]),
        num(v, &["flag", "nothing", "shift"]), opt_field(v, "type"), opt_field(v, "category")).unwrap();
    writeln!(s, "  enums: Enums {{ dt_void: {}, dt_bool: {}, dt_char: {}, dt_short: {}, dt_int: {}, dt_long: {}, dt_float: {}, dt_double: {}, dt_symbol: {}, dt_string: {}, dt_any: {}, dt_blob: {}, df_scalar: {}, df_vector: {}, df_pair: {}, df_matrix: {}, df_set: {}, df_dictionary: {}, df_table: {} }},",
        e("DT_VOID"), e("DT_BOOL"), e("DT_CHAR"), e("DT_SHORT"), e("DT_INT"), e("DT_LONG"), e("DT_FLOAT"), e("DT_DOUBLE"), e("DT_SYMBOL"), e("DT_STRING"), e("DT_ANY"), e("DT_BLOB"),
        e("DF_SCALAR"), e("DF_VECTOR"), e("DF_PAIR"), e("DF_MATRIX"), e("DF_SET"), e("DF_DICTIONARY"), e("DF_TABLE")).unwrap();
    writeln!(
        s,
        "  counter: CounterLayout {{ size: {}, p: {}, count: {} }},",
        num(v, &["counter", "size"]),
        num(v, &["counter", "p"]),
        num(v, &["counter", "count"])
    )
    .unwrap();
    writeln!(
        s,
        "  dolphin_string_empty: {},",
        list(&v["dolphinString"]["empty"])
    )
    .unwrap();
    writeln!(
        s,
        "  runtime_exception: {},\n  illegal_argument_exception: {},",
        exception(v, "runtimeException"),
        exception(v, "illegalArgumentException")
    )
    .unwrap();
    write!(s, "  symbols: Symbols {{ ver: {}, create_constant: {}, create_dictionary: {}, create_dictionary_params: {}, dolphin_string_assign: {}, dolphin_string_clear: {}, runtime_exception_vtable: {}, runtime_exception_typeinfo: {}, illegal_argument_exception_vtable: {}, illegal_argument_exception_typeinfo: {} }},\n}}",
        sym(v, "ver"), sym(v, "createConstant"), sym(v, "createDictionary"), num(v, &["symbols", "createDictionaryParams"]),
        sym(v, "dolphinStringAssign"), sym(v, "dolphinStringClear"), sym(v, "RuntimeExceptionVtable"), sym(v, "RuntimeExceptionTypeinfo"),
        sym(v, "IllegalArgumentExceptionVtable"), sym(v, "IllegalArgumentExceptionTypeinfo")).unwrap();
    s
}

fn version_key(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

fn main() {
    println!("cargo:rerun-if-changed=facts");
    // Keep the library mapped for the life of the process: the server may dlclose a
    // plugin while pooled connections and runtime threads still run.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    let mut all: Vec<Value> = fs::read_dir("facts")
        .expect("facts/ folder")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| {
            println!("cargo:rerun-if-changed={}", e.path().display());
            serde_json::from_str(&fs::read_to_string(e.path()).unwrap()).expect("facts: JSON")
        })
        .collect();
    all.sort_by_key(|v| version_key(v["version"].as_str().unwrap()));
    let entries: Vec<String> = all.iter().map(facts_entry).collect();
    let out = format!(
        "pub static ALL: &[Facts] = &[\n{}\n];\n",
        entries.join(",\n")
    );
    let path = Path::new(&env::var("OUT_DIR").unwrap()).join("facts_table.rs");
    fs::write(path, out).unwrap();
}
