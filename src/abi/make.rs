//! Building result objects with the server's own factories (`Util::createConstant`,
//! `createDictionary`, `createVector`, `createTable`) and setters, so the server owns and
//! frees them as usual.
use super::cxx::StdString;
use super::object::{vfn, Sp};
use super::server::{CreateDict4, CreateDict5, CreateDict7, Obj, Server};
use super::value::{ColumnValues, Out};
use std::ffi::c_void;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

pub(crate) fn scalar<'s>(server: &'s Server, data_type: i32) -> Option<Sp<'s>> {
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

pub(crate) fn string<'s>(server: &'s Server, bytes: &[u8]) -> Option<Sp<'s>> {
    let sp = scalar(server, server.facts.enums.dt_string)?;
    let empty = server.facts.dolphin_string_empty;
    let mut buf = [0u64; 8];
    let ds = buf.as_mut_ptr() as *mut u8;
    if empty.len() > std::mem::size_of_val(&buf) {
        return None;
    }
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

/// DolphinDB's NULL sentinels, which the setters store as NULL.
const NULL_INT: i32 = i32::MIN;
const NULL_LONG: i64 = i64::MIN;
const NULL_DOUBLE: f64 = -f64::MAX;
const NULL_BOOL: i8 = i8::MIN;

pub(crate) fn int(server: &Server, v: Option<i32>) -> Option<Sp<'_>> {
    let f = server.facts;
    // setInt(int)
    scalar_with(
        server,
        f.enums.dt_int,
        f.slots.set_int,
        v.unwrap_or(NULL_INT),
    )
}

pub(crate) fn long(server: &Server, v: Option<i64>) -> Option<Sp<'_>> {
    let f = server.facts;
    // setLong(long long)
    scalar_with(
        server,
        f.enums.dt_long,
        f.slots.set_long,
        v.unwrap_or(NULL_LONG),
    )
}

pub(crate) fn double(server: &Server, v: Option<f64>) -> Option<Sp<'_>> {
    let f = server.facts;
    let v = v.filter(|d| !d.is_nan()).unwrap_or(NULL_DOUBLE);
    // setDouble(double)
    scalar_with(server, f.enums.dt_double, f.slots.set_double, v)
}

pub(crate) fn boolean(server: &Server, v: Option<bool>) -> Option<Sp<'_>> {
    let f = server.facts;
    let v = v.map(i8::from).unwrap_or(NULL_BOOL);
    // setBool(char)
    scalar_with(server, f.enums.dt_bool, f.slots.set_bool, v)
}

pub(crate) fn timestamp(server: &Server, ms: Option<i64>) -> Option<Sp<'_>> {
    let f = server.facts;
    // A TIMESTAMP is a count of milliseconds set with setLong(long long).
    scalar_with(
        server,
        f.enums.dt_timestamp,
        f.slots.set_long,
        ms.unwrap_or(NULL_LONG),
    )
}

/// The storage of [`empty_smart_pointer`]'s counter: 32 bytes, 8-aligned, more than any
/// server's `Counter` (16 bytes up to 2.00.x, 24 from 3.00).
static EMPTY_COUNTER: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

/// An empty smart pointer to pass as `const SymbolBaseSP&`: its counter pointer. Servers
/// built from the older headers (1.30.19-21, 2.00.8-9) never have a null counter — there
/// `isNull()` reads `counterP_->p_` and a copy calls `addRef()` unconditionally — so a
/// null counter pointer could be dereferenced; the later headers accept either form. This
/// is a real counter holding no object (`p_` null), immortal: its count starts at 2^30 and
/// only pairs of `addRef`/`release` by the server touch it, so it never reaches 0 and is
/// never freed. Null when the facts' layout does not fit the storage (then the server
/// gets what it got before).
fn empty_smart_pointer(server: &Server) -> *mut c_void {
    let layout = &server.facts.counter;
    if layout.size > 32 || layout.count + 4 > 32 || !layout.count.is_multiple_of(4) || layout.p != 0
    {
        return std::ptr::null_mut();
    }
    let base = EMPTY_COUNTER.as_ptr() as *mut u8;
    // SAFETY: `layout.count + 4 <= 32` and 4-aligned, inside the static's 32 bytes; the
    // count is an atomic int in the server's Counter, accessed here atomically too. A
    // process has one Counter layout; the first call sets the start value (once), the
    // server's own pairs of addRef/release keep it far from 0.
    unsafe {
        let count = &*(base.add(layout.count) as *const AtomicI32);
        let _ = count.compare_exchange(0, 1 << 30, Ordering::Relaxed, Ordering::Relaxed);
    }
    base.cast()
}

pub(crate) fn dictionary<'s>(server: &'s Server, entries: &[(String, Out)]) -> Option<Sp<'s>> {
    let e = &server.facts.enums;
    let none: *mut c_void = empty_smart_pointer(server); // an empty SymbolBaseSP
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
    for (key, value) in entries {
        let k = string(server, key.as_bytes())?;
        let v = make(server, value)?;
        dict.set_key_value(&k, &v);
    }
    Some(dict)
}

/// A vector of `data_type` with `n` elements, element i set from the scalar `item(i)`.
fn vector<'s>(
    server: &'s Server,
    data_type: i32,
    n: usize,
    item: impl Fn(usize) -> Option<Sp<'s>>,
) -> Option<Sp<'s>> {
    let n32 = i32::try_from(n).ok()?;
    // SAFETY: createVector(type, size, capacity, fast, extraParam, data, dataSegment,
    // segmentSizeInBit, containNull) with the nine parameters the facts record; null data
    // makes the server allocate the elements itself.
    let obj = unsafe {
        (server.create_vector)(
            data_type,
            n32,
            n32,
            true,
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
            false,
        )
    };
    if obj.is_null() {
        return None;
    }
    // SAFETY: obj is live and unowned.
    let v = unsafe { Sp::adopt(server, obj) };
    for i in 0..n {
        let x = item(i)?;
        if !v.set_at(i, &x) {
            return None;
        }
    }
    Some(v)
}

fn column<'s>(server: &'s Server, values: &ColumnValues) -> Option<Sp<'s>> {
    let e = &server.facts.enums;
    match values {
        ColumnValues::Str(v) => vector(server, e.dt_string, v.len(), |i| string(server, &v[i])),
        ColumnValues::Int(v) => vector(server, e.dt_int, v.len(), |i| int(server, v[i])),
        ColumnValues::Long(v) => vector(server, e.dt_long, v.len(), |i| long(server, v[i])),
        ColumnValues::Double(v) => vector(server, e.dt_double, v.len(), |i| double(server, v[i])),
        ColumnValues::Bool(v) => vector(server, e.dt_bool, v.len(), |i| boolean(server, v[i])),
        ColumnValues::Timestamp(v) => {
            vector(server, e.dt_timestamp, v.len(), |i| timestamp(server, v[i]))
        }
    }
}

/// `std::vector<T>` as libstdc++ lays it out: begin, end, end of storage. Only ever passed
/// by `const&` to the server, which reads it.
#[repr(C)]
struct StdVector {
    begin: *const u8,
    end: *const u8,
    end_of_storage: *const u8,
}

impl StdVector {
    fn over(bytes: &[u8]) -> StdVector {
        let range = bytes.as_ptr_range();
        StdVector {
            begin: range.start,
            end: range.end,
            end_of_storage: range.end,
        }
    }
}

pub(crate) fn table<'s>(server: &'s Server, columns: &[(String, ColumnValues)]) -> Option<Sp<'s>> {
    let rows = columns.first().map_or(0, |(_, c)| c.len());
    if columns.iter().any(|(_, c)| c.len() != rows) {
        return None;
    }
    let cols: Vec<Sp<'s>> = columns
        .iter()
        .map(|(_, c)| column(server, c))
        .collect::<Option<_>>()?;
    // vector<ConstantSP>: the Counter pointers, borrowed (the table takes its own
    // references); vector<string>: strings of the server's ABI built in our buffer.
    let counters: Vec<*mut u8> = cols.iter().map(|c| c.counter()).collect();
    // SAFETY: a slice of Counter pointers viewed as its bytes, for the vector's range.
    let counter_bytes = unsafe {
        std::slice::from_raw_parts(
            counters.as_ptr() as *const u8,
            std::mem::size_of_val(counters.as_slice()),
        )
    };
    let strings = server.strings;
    let size = strings.size();
    let mut names = vec![0u64; columns.len() * size / 8];
    let base = names.as_mut_ptr() as *mut u8;
    for (i, (name, _)) in columns.iter().enumerate() {
        // SAFETY: slot i of `names` is `size` writable, 8-aligned bytes holding no string.
        unsafe { strings.init(base.add(i * size) as *mut StdString, name.as_bytes()) };
    }
    // SAFETY: the strings just built, viewed as the bytes of the vector's range.
    let name_bytes = unsafe { std::slice::from_raw_parts(base, columns.len() * size) };
    let name_vec = StdVector::over(name_bytes);
    let col_vec = StdVector::over(counter_bytes);
    // SAFETY: Util::createTable(const vector<string>&, const vector<ConstantSP>&) reads
    // both vectors (libstdc++ layout: begin, end, end of storage) and returns a new,
    // unowned table holding its own references to the columns.
    let obj = unsafe {
        (server.create_table)(
            (&name_vec as *const StdVector).cast(),
            (&col_vec as *const StdVector).cast(),
        )
    };
    for i in 0..columns.len() {
        // SAFETY: each string built above is destroyed once, after the call.
        unsafe { strings.drop(base.add(i * size) as *mut StdString) };
    }
    drop(cols);
    // SAFETY: obj, when not null, is live and unowned.
    (!obj.is_null()).then(|| unsafe { Sp::adopt(server, obj) })
}

/// A new server object holding `out`; None if the server failed to create one.
pub(crate) fn make<'s>(server: &'s Server, out: &Out) -> Option<Sp<'s>> {
    match out {
        Out::Str(b) => string(server, b),
        Out::Dict(entries) => dictionary(server, entries),
        Out::Table(columns) => table(server, columns),
        Out::Int(v) => int(server, Some(*v)),
        Out::Long(v) => long(server, Some(*v)),
        Out::Double(v) => double(server, Some(*v)),
        Out::Bool(v) => boolean(server, Some(*v)),
        Out::Timestamp(v) => timestamp(server, Some(*v)),
    }
}
