//! The load-time self-check: before the first call is served, the facts chosen by version
//! and string ABI are verified against the running server itself, so that a mislabeled,
//! patched or custom build is refused with a clear message instead of being crashed into.
//!
//! 1. Symbols: for each class whose vtable the server exports (`String`, `Int`, `Long`,
//!    `Double`, the exceptions), the vtable's size must be the one the facts record, and
//!    every method the server also exports must sit at the slot the facts give it.
//! 2. Objects: values built by the server's own factories must read back through the
//!    facts (flag word, enums, setters and getters, DolphinString, std::string, the smart
//!    pointer's counter, dictionaries, vectors, tables).
use super::cxx::{lookup, symbol_size};
use super::facts::CheckedClass;
use super::make;
use super::server::Server;
use super::value::ColumnValues;
use std::ffi::c_void;

/// What was verified, one line for `version()`; Err says what disagrees.
pub(crate) fn run(server: &Server) -> Result<String, String> {
    let facts = server.facts;
    let label = format!("{} {} facts", facts.version, facts.flavour.name());
    let mut vtables = Vec::new();
    let (mut located, mut total) = (0, 0);
    for class in facts.self_check {
        total += class.methods.len();
        match check_class(class, &label)? {
            Some(n) => {
                located += n;
                vtables.push(class.name);
            }
            None => continue,
        }
    }
    check_objects(server).map_err(|e| {
        format!(
            "self-check failed: {e}; this server build does not behave as the official \
             {label} describe, so the plugin refuses to run in it"
        )
    })?;
    let symbols = if vtables.is_empty() {
        "no vtable exported by the server (slots checked through objects only)".to_string()
    } else {
        format!(
            "vtables of {} match in size, {located} of {total} methods found at their slots",
            vtables.join(", ")
        )
    };
    Ok(format!(
        "passed: {symbols}; server-made STRING, LONG, DOUBLE, BOOL, dictionary, vector and \
         table read back"
    ))
}

/// Compares one exported vtable with the facts; None when the server does not export it,
/// else the number of methods located (all at their slots).
fn check_class(class: &CheckedClass, label: &str) -> Result<Option<usize>, String> {
    let Some(vtable) = lookup(class.vtable) else {
        return Ok(None);
    };
    let vtable = vtable as *const *const c_void;
    let word = std::mem::size_of::<usize>();
    if let Some(bytes) = symbol_size(vtable.cast()) {
        if bytes != class.entries * word {
            return Err(format!(
                "self-check failed: the server's {} vtable has {} entries where the {label} \
                 have {}: this server build differs from the official headers of its version, \
                 so the plugin refuses to run in it",
                class.name,
                bytes / word,
                class.entries
            ));
        }
    }
    let mut located = 0;
    for m in class.methods {
        let Some(addr) = lookup(m.symbol) else {
            continue;
        };
        if m.slot + 2 >= class.entries {
            return Err(format!(
                "self-check failed: the {label} put {}::{} at slot {}, beyond its vtable",
                class.name, m.name, m.slot
            ));
        }
        // SAFETY: the vtable symbol is exported by the server and, as checked above (or by
        // the facts when its size is unknown), has `entries` words; slot + 2 is inside.
        let entry = unsafe { *vtable.add(2 + m.slot) };
        if !std::ptr::eq(entry, addr) {
            return Err(format!(
                "self-check failed: {}::{} ({}) is not at vtable slot {} as the {label} say; \
                 this server build differs from the official headers of its version, so the \
                 plugin refuses to run in it",
                class.name,
                m.name,
                m.symbol.to_string_lossy(),
                m.slot
            ));
        }
        located += 1;
    }
    Ok(Some(located))
}

fn expect(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what.to_string())
    }
}

fn made<T>(o: Option<T>, what: &str) -> Result<T, String> {
    o.ok_or_else(|| format!("the server did not create {what}"))
}

fn check_objects(server: &Server) -> Result<(), String> {
    let e = &server.facts.enums;

    let s = made(make::string(server, b"self-check \xe4\xb8\xad"), "a STRING")?;
    let v = s.view();
    expect(
        v.form() == e.df_scalar,
        "a STRING scalar's form is not SCALAR",
    )?;
    expect(
        v.data_type() == e.dt_string,
        "a STRING scalar's type is not STRING",
    )?;
    expect(
        v.category() == e.cat_literal,
        "a STRING scalar's category is not LITERAL",
    )?;
    expect(!v.is_nothing(), "a STRING scalar reads as Nothing")?;
    expect(
        v.get_string() == b"self-check \xe4\xb8\xad",
        "a STRING set through DolphinString does not read back through std::string",
    )?;

    let l = made(make::long(server, Some(1_234_567_890_123)), "a LONG")?;
    let v = l.view();
    expect(
        v.data_type() == e.dt_long && v.category() == e.cat_integral,
        "a LONG scalar's type or category is wrong",
    )?;
    expect(
        v.get_long() == 1_234_567_890_123,
        "a LONG does not read back",
    )?;
    expect(!v.is_null(), "a LONG reads as NULL")?;

    let d = made(make::double(server, Some(2.5)), "a DOUBLE")?;
    let v = d.view();
    expect(
        v.data_type() == e.dt_double && v.category() == e.cat_floating,
        "a DOUBLE scalar's type or category is wrong",
    )?;
    expect(v.get_double() == 2.5, "a DOUBLE does not read back")?;
    expect(
        v.get_long() == 3,
        "a DOUBLE's getLong() does not round as the server's does",
    )?;

    let b = made(make::boolean(server, Some(true)), "a BOOL")?;
    expect(b.view().get_bool(), "a BOOL does not read back")?;
    let f = made(make::boolean(server, Some(false)), "a BOOL")?;
    expect(!f.view().get_bool(), "a false BOOL reads as true")?;
    let null = made(make::int(server, None), "a NULL INT")?;
    expect(null.view().is_null(), "a NULL INT does not read as NULL")?;

    let dict = made(
        make::dictionary(server, &[("key".into(), super::value::Out::Int(7))]),
        "a dictionary",
    )?;
    let v = dict.view();
    expect(
        v.form() == e.df_dictionary,
        "a dictionary's form is not DICTIONARY",
    )?;
    expect(
        v.size() == 1,
        "a dictionary with one entry does not have size 1",
    )?;
    let keys = made(v.keys(), "the keys of a dictionary")?;
    // a fresh vector the dictionary made for us: the counter layout of the facts must
    // show exactly our reference
    expect(
        (1..=16).contains(&keys.ref_count()),
        "the reference count of a returned smart pointer is implausible (counter layout)",
    )?;
    let k = keys.view();
    expect(
        k.form() == e.df_vector && k.data_type() == e.dt_string && k.size() == 1,
        "the keys of a dictionary are not a STRING vector of one",
    )?;
    expect(
        k.get_string_at(0) == b"key",
        "a dictionary key does not read back",
    )?;
    let values = made(v.values(), "the values of a dictionary")?;
    let first = made(values.view().get_at(0), "a dictionary value")?;
    expect(
        first.view().get_long() == 7,
        "a dictionary value does not read back",
    )?;

    let table = made(
        make::table(
            server,
            &[
                (
                    "s".into(),
                    ColumnValues::Str(vec![b"a".to_vec(), b"b".to_vec()]),
                ),
                ("t".into(), ColumnValues::Timestamp(vec![Some(0), None])),
            ],
        ),
        "a table",
    )?;
    let v = table.view();
    expect(v.form() == e.df_table, "a table's form is not TABLE")?;
    expect(v.size() == 2, "a table of two rows does not have size 2")?;
    Ok(())
}
