//! Building result objects with the server's own factories (`Util::createConstant`,
//! `Util::createDictionary`) and setters, so the server owns and frees them as usual.
use super::object::{vfn, Sp};
use super::server::{CreateDict4, CreateDict5, CreateDict7, Obj, Server};
use super::value::Out;
use std::ffi::c_void;

fn scalar<'s>(server: &'s Server, data_type: i32) -> Option<Sp<'s>> {
    // SAFETY: Util::createConstant(DATA_TYPE, int) returns a new unowned scalar (or null).
    let obj = unsafe { (server.create_constant)(data_type, 0) };
    // SAFETY: obj is live and unowned: adopt it into a fresh Counter.
    (!obj.is_null()).then(|| unsafe { Sp::adopt(server, obj) })
}

/// A new scalar of `data_type` set to `value` through the setter at `slot`; `T` is the
/// setter's parameter type (int, long long, double, char) for that scalar type.
fn scalar_with<'s, T: Copy>(
    server: &'s Server,
    data_type: i32,
    slot: usize,
    value: T,
) -> Option<Sp<'s>> {
    let sp = scalar(server, data_type)?;
    // SAFETY: `slot` is the setter taking a `T` (the callers pair each scalar type with
    // its setter and parameter type), called on the live scalar just created.
    unsafe {
        let set: unsafe extern "C" fn(*mut Obj, T) = vfn(sp.obj(), slot);
        set(sp.obj(), value)
    };
    Some(sp)
}

fn string<'s>(server: &'s Server, bytes: &[u8]) -> Option<Sp<'s>> {
    let sp = scalar(server, server.facts.enums.dt_string)?;
    let empty = server.facts.dolphin_string_empty;
    let mut buf = [0u64; 8];
    let ds = buf.as_mut_ptr() as *mut u8;
    assert!(
        empty.len() <= std::mem::size_of_val(&buf),
        "DolphinString fits the buffer"
    );
    type SetString = unsafe extern "C" fn(*mut Obj, *const u8);
    // SAFETY: setString(const DolphinString&) of the live STRING scalar just created.
    let set: SetString = unsafe { vfn(sp.obj(), server.facts.slots.set_string) };
    // SAFETY: buf is an aligned DolphinString initialised as an empty inline string
    // (bytes from the facts); the server's own assign fills it, setString copies it, and
    // the server's clear releases any buffer assign allocated.
    unsafe {
        std::ptr::copy_nonoverlapping(empty.as_ptr(), ds, empty.len());
        (server.string_assign)(ds, bytes.as_ptr(), bytes.len());
        set(sp.obj(), ds);
        (server.string_clear)(ds);
    }
    Some(sp)
}

fn dictionary<'s>(server: &'s Server, entries: &[(String, Out)]) -> Option<Sp<'s>> {
    let e = &server.facts.enums;
    let none: *mut c_void = std::ptr::null_mut(); // an empty SymbolBaseSP
    let f = server.create_dictionary;
    // SAFETY: Util::createDictionary(keyType, const SymbolBaseSP&, valueType, const
    // SymbolBaseSP&[, bool isOrdered[, int, int]]) with the arity the facts record;
    // isOrdered = true keeps the keys in insertion order.
    let obj = unsafe {
        match server.facts.symbols.create_dictionary_params {
            4 => std::mem::transmute::<*mut c_void, CreateDict4>(f)(
                e.dt_string,
                &none,
                e.dt_any,
                &none,
            ),
            5 => std::mem::transmute::<*mut c_void, CreateDict5>(f)(
                e.dt_string,
                &none,
                e.dt_any,
                &none,
                true,
            ),
            _ => std::mem::transmute::<*mut c_void, CreateDict7>(f)(
                e.dt_string,
                &none,
                e.dt_any,
                &none,
                true,
                0,
                0,
            ),
        }
    };
    if obj.is_null() {
        return None;
    }
    // SAFETY: obj is live and unowned.
    let dict = unsafe { Sp::adopt(server, obj) };
    type Set = unsafe extern "C" fn(*mut Obj, *const *mut u8, *const *mut u8) -> bool;
    // SAFETY: set(const ConstantSP&, const ConstantSP&) -> bool of the live dictionary.
    let set: Set = unsafe { vfn(dict.obj(), server.facts.slots.set_key_value) };
    for (key, value) in entries {
        let k = string(server, key.as_bytes())?;
        let v = make(server, value)?;
        // SAFETY: set(const ConstantSP&, const ConstantSP&) takes its own references;
        // ours are released when k and v drop.
        unsafe { set(dict.obj(), k.as_ref_arg(), v.as_ref_arg()) };
    }
    Some(dict)
}

/// A new server object holding `out`; None if the server failed to create one.
pub(crate) fn make<'s>(server: &'s Server, out: &Out) -> Option<Sp<'s>> {
    let e = &server.facts.enums;
    let s = &server.facts.slots;
    match out {
        Out::Str(b) => string(server, b),
        Out::Dict(entries) => dictionary(server, entries),
        // setInt(int), setLong(long long), setDouble(double), setBool(char)
        Out::Int(v) => scalar_with(server, e.dt_int, s.set_int, *v),
        Out::Long(v) => scalar_with(server, e.dt_long, s.set_long, *v),
        Out::Double(v) => scalar_with(server, e.dt_double, s.set_double, *v),
        Out::Bool(v) => scalar_with(server, e.dt_bool, s.set_bool, i8::from(*v)),
    }
}
