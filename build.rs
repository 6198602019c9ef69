//! Turns the committed facts files (facts/<arch>/<flavour>/<version>.json, written by
//! tools/abi/gen_facts.py) of the target being built into a Rust table compiled into the
//! plugin, so one binary carries every supported ABI of its architecture.
use serde_json::Value;
use std::fmt::Write as _;
use std::{env, fs, path::Path};

fn num(v: &Value, path: &[&str]) -> u64 {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_u64().unwrap_or_else(|| {
        panic!(
            "facts {} {}: {} missing",
            v["version"],
            v["target"]["flavour"],
            path.join(".")
        )
    })
}

fn opt_num(v: &Value, path: &[&str]) -> String {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    match cur.as_u64() {
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

fn cstr(s: &str) -> String {
    assert!(
        s.bytes().all(|b| b.is_ascii_graphic()),
        "facts: symbol {s:?} is not a plain mangled name"
    );
    format!("c\"{s}\"")
}

fn sym(v: &Value, name: &str) -> String {
    cstr(
        v["symbols"][name]
            .as_str()
            .unwrap_or_else(|| panic!("facts: symbol {name} missing")),
    )
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
    format!(
        "ExceptionLayout {{ size: {}, strings: {}, message: {}, function: {} }}",
        num(e, &["size"]),
        list(&e["strings"]),
        num(e, &["message"]),
        opt_num(e, &["function"])
    )
}

/// The self-check classes: each method with the slot the facts give it.
fn self_check(v: &Value) -> String {
    let slot_of = |name: &str| -> Option<u64> {
        match name {
            "destructorComplete" => Some(num(v, &["destructor", "complete"])),
            "destructorDeleting" => Some(num(v, &["destructor", "deleting"])),
            other => v["slots"][other].as_u64(),
        }
    };
    let mut classes: Vec<(&String, &Value)> = v["selfCheck"]
        .as_object()
        .expect("facts: selfCheck")
        .iter()
        .collect();
    classes.sort_by_key(|(name, _)| (name.as_str() != "String", name.to_string()));
    let mut out = String::from("&[");
    for (name, c) in classes {
        let mut methods: Vec<(&String, &Value)> = c["methods"]
            .as_object()
            .expect("facts: methods")
            .iter()
            .collect();
        methods.sort_by_key(|(k, _)| k.to_string());
        let ms: Vec<String> = methods
            .iter()
            .map(|(k, s)| {
                let slot = slot_of(k).unwrap_or_else(|| panic!("facts: no slot for {k}"));
                format!(
                    "CheckedMethod {{ name: {k:?}, slot: {slot}, symbol: {} }}",
                    cstr(s.as_str().expect("facts: method symbol"))
                )
            })
            .collect();
        write!(
            out,
            "CheckedClass {{ name: {name:?}, vtable: {}, entries: {}, methods: &[{}] }}, ",
            cstr(c["vtable"].as_str().expect("facts: vtable")),
            num(c, &["entries"]),
            ms.join(", ")
        )
        .unwrap();
    }
    out.push(']');
    out
}

fn facts_entry(v: &Value) -> String {
    let mut s = String::new();
    let slot = |n: &str| num(v, &["slots", n]);
    let e = |n: &str| num(v, &["enums", n]);
    let flavour = match v["target"]["flavour"].as_str() {
        Some("standard") => "Flavour::Standard",
        Some("cxx11") => "Flavour::Cxx11",
        other => panic!("facts: unknown flavour {other:?}"),
    };
    writeln!(
        s,
        "Facts {{ version: {:?}, flavour: {flavour}, long_descriptor: {}, namespace_ddb: {},",
        v["version"].as_str().unwrap(),
        v["descriptor"] == "long",
        v["namespace"] == "ddb"
    )
    .unwrap();
    writeln!(s, "  slots: Slots {{ get_string: {}, get_string_at: {}, get_bool: {}, get_int: {}, get_long: {}, get_double: {}, is_null: {}, size: {}, get_at: {}, keys: {}, values: {}, set_key_value: {}, set_at: {}, set_bool: {}, set_int: {}, set_long: {}, set_double: {}, set_string: {}, get_type: {}, get_category: {}, destructor_complete: {}, destructor_deleting: {}, exception_what: {}, session_get_function_def: {}, function_def_call: {} }},",
        slot("getString"), slot("getStringAt"), slot("getBool"), slot("getInt"), slot("getLong"), slot("getDouble"), slot("isNull"), slot("size"), slot("getAt"), slot("keys"), slot("values"), slot("setKeyValue"), slot("setAt"), slot("setBool"), slot("setInt"), slot("setLong"), slot("setDouble"), slot("setString"), opt_num(v, &["slots", "getType"]), opt_num(v, &["slots", "getCategory"]), num(v, &["destructor", "complete"]), num(v, &["destructor", "deleting"]), slot("exceptionWhat"), slot("sessionGetFunctionDef"), slot("functionDefCall")).unwrap();
    writeln!(
        s,
        "  constant_vtable_entries: {},",
        num(v, &["constantVtableEntries"])
    )
    .unwrap();
    writeln!(s, "  flag: FlagLayout {{ offset: {}, width: {}, form: BitField {{ shift: {}, bits: {} }}, nothing: {}, data_type: {}, category: {} }},",
        num(v, &["flag", "offset"]), num(v, &["flag", "width"]), num(v, &["flag", "form", "shift"]), num(v, &["flag", "form", "bits"]),
        num(v, &["flag", "nothing", "shift"]), opt_field(v, "type"), opt_field(v, "category")).unwrap();
    writeln!(s, "  enums: Enums {{ dt_void: {}, dt_bool: {}, dt_char: {}, dt_short: {}, dt_int: {}, dt_long: {}, dt_date: {}, dt_timestamp: {}, dt_float: {}, dt_double: {}, dt_symbol: {}, dt_string: {}, dt_any: {}, dt_blob: {}, df_scalar: {}, df_vector: {}, df_pair: {}, df_matrix: {}, df_set: {}, df_dictionary: {}, df_table: {}, cat_nothing: {}, cat_logical: {}, cat_integral: {}, cat_floating: {}, cat_temporal: {}, cat_literal: {}, cat_mixed: {}, cat_binary: {}, cat_denary: {} }},",
        e("DT_VOID"), e("DT_BOOL"), e("DT_CHAR"), e("DT_SHORT"), e("DT_INT"), e("DT_LONG"), e("DT_DATE"), e("DT_TIMESTAMP"), e("DT_FLOAT"), e("DT_DOUBLE"), e("DT_SYMBOL"), e("DT_STRING"), e("DT_ANY"), e("DT_BLOB"),
        e("DF_SCALAR"), e("DF_VECTOR"), e("DF_PAIR"), e("DF_MATRIX"), e("DF_SET"), e("DF_DICTIONARY"), e("DF_TABLE"),
        e("NOTHING"), e("LOGICAL"), e("INTEGRAL"), e("FLOATING"), e("TEMPORAL"), e("LITERAL"), e("MIXED"), e("BINARY"), opt_num(v, &["enums", "DENARY"])).unwrap();
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
        "  dolphin_string_empty: {}, string_size: {}, heap_session: {},",
        list(&v["dolphinString"]["empty"]),
        num(v, &["sizes", "string"]),
        num(v, &["heap", "session"])
    )
    .unwrap();
    writeln!(
        s,
        "  runtime_exception: {},\n  illegal_argument_exception: {},",
        exception(v, "runtimeException"),
        exception(v, "illegalArgumentException")
    )
    .unwrap();
    writeln!(s, "  symbols: Symbols {{ ver: {}, create_constant: {}, create_dictionary: {}, create_dictionary_params: {}, create_vector: {}, create_vector_params: {}, create_table: {}, dolphin_string_assign: {}, dolphin_string_clear: {}, runtime_exception_vtable: {}, runtime_exception_typeinfo: {}, illegal_argument_exception_vtable: {}, illegal_argument_exception_typeinfo: {} }},",
        sym(v, "ver"), sym(v, "createConstant"), sym(v, "createDictionary"), num(v, &["symbols", "createDictionaryParams"]),
        sym(v, "createVector"), num(v, &["symbols", "createVectorParams"]), sym(v, "createTable"),
        sym(v, "dolphinStringAssign"), sym(v, "dolphinStringClear"), sym(v, "RuntimeExceptionVtable"), sym(v, "RuntimeExceptionTypeinfo"),
        sym(v, "IllegalArgumentExceptionVtable"), sym(v, "IllegalArgumentExceptionTypeinfo")).unwrap();
    write!(s, "  self_check: {},\n}}", self_check(v)).unwrap();
    s
}

fn version_key(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

fn main() {
    // Keep the library mapped for the life of the process: the server may dlclose a
    // plugin while pooled connections and runtime threads still run.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    let arch = env::var("CARGO_CFG_TARGET_ARCH").expect("target arch");
    let dir = Path::new("facts").join(&arch);
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut all: Vec<Value> = Vec::new();
    for flavour in ["standard", "cxx11"] {
        let sub = dir.join(flavour);
        println!("cargo:rerun-if-changed={}", sub.display());
        let Ok(entries) = fs::read_dir(&sub) else {
            continue;
        };
        for e in entries.filter_map(|e| e.ok()) {
            if e.path().extension().is_some_and(|x| x == "json") {
                println!("cargo:rerun-if-changed={}", e.path().display());
                let v: Value = serde_json::from_str(&fs::read_to_string(e.path()).unwrap())
                    .expect("facts: JSON");
                assert_eq!(
                    v["target"]["arch"].as_str(),
                    Some(arch.as_str()),
                    "{}",
                    e.path().display()
                );
                all.push(v);
            }
        }
    }
    assert!(
        !all.is_empty(),
        "no facts for target {arch} in facts/{arch}/: generate them with tools/abi/gen_facts.py"
    );
    all.sort_by_key(|v| {
        (
            version_key(v["version"].as_str().unwrap()),
            v["target"]["flavour"] != "standard",
        )
    });
    let entries: Vec<String> = all.iter().map(facts_entry).collect();
    let out = format!(
        "const ARCH: &str = {arch:?};\npub static ALL: &[Facts] = &[\n{}\n];\n",
        entries.join(",\n")
    );
    let path = Path::new(&env::var("OUT_DIR").unwrap()).join("facts_table.rs");
    fs::write(path, out).unwrap();
}
