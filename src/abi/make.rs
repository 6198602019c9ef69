//! Building result objects with the server's own factories (`Util::createConstant`,
//! `Util::createDictionary`) and setters, so the server owns and frees them as usual.
use super::object::Sp;
use super::server::{CreateDict4, CreateDict5, CreateDict7, Obj, Server};
use super::value::Out;
use std::ffi::c_void;

fn vslot<F: Copy>(obj: *mut Obj, slot: usize) -> F {
    // SAFETY: obj is a live object just created by the server; F is the signature of the
    // method the facts put at `slot` (checked by the callers below).
    unsafe {
        let vtable = *(obj as *const *const *const c_void);
        std::mem::transmute_copy::<*const c_void, F>(&*vtable.add(slot))
    }
}

fn scalar<'s>(server: &'s Server, data_type: i32) -> Option<Sp<'s>> {
    // SAFETY: Util::createConstant(DATA_TYPE, int) returns a new unowned scalar (or null).
    let obj = unsafe { (server.create_constant)(data_type, 0) };
    // SAFETY: obj is live and unowned: adopt it into a fresh Counter.
    (!obj.is_null()).then(|| unsafe { Sp::adopt(server, obj) })
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
    let set: SetString = vslot(sp.obj(), server.facts.slots.set_string);
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
    let set: Set = vslot(dict.obj(), server.facts.slots.set_key_value);
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
        Out::Int(v) => {
            let sp = scalar(server, e.dt_int)?;
            // SAFETY: setInt(int) on an INT scalar.
            unsafe {
                vslot::<unsafe extern "C" fn(*mut Obj, i32)>(sp.obj(), s.set_int)(sp.obj(), *v)
            };
            Some(sp)
        }
        Out::Long(v) => {
            let sp = scalar(server, e.dt_long)?;
            // SAFETY: setLong(long long) on a LONG scalar.
            unsafe {
                vslot::<unsafe extern "C" fn(*mut Obj, i64)>(sp.obj(), s.set_long)(sp.obj(), *v)
            };
            Some(sp)
        }
        Out::Double(v) => {
            let sp = scalar(server, e.dt_double)?;
            // SAFETY: setDouble(double) on a DOUBLE scalar.
            unsafe {
                vslot::<unsafe extern "C" fn(*mut Obj, f64)>(sp.obj(), s.set_double)(sp.obj(), *v)
            };
            Some(sp)
        }
        Out::Bool(v) => {
            let sp = scalar(server, e.dt_bool)?;
            // SAFETY: setBool(char) on a BOOL scalar.
            unsafe {
                vslot::<unsafe extern "C" fn(*mut Obj, i8)>(sp.obj(), s.set_bool)(
                    sp.obj(),
                    i8::from(*v),
                )
            };
            Some(sp)
        }
    }
}
