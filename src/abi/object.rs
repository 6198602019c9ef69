//! DolphinDB objects through the facts: smart pointers (reference counts), the inline
//! flag word, and virtual calls by slot number.
use super::cxx::StdString;
use super::server::{Obj, Server};
use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicI32, Ordering};

/// Room for a `std::string` of either ABI (or a `ConstantSP`) returned by value.
#[repr(C, align(16))]
struct RetBuf([u8; 32]);

/// Reads function pointer `F` from slot `slot` of `obj`'s vtable.
///
/// # Safety
/// `obj` must be a live DolphinDB object and `F` the exact signature (Itanium ABI, `this`
/// first, hidden return pointer before it) of the virtual method the facts put at `slot`.
pub(super) unsafe fn vfn<F: Copy>(obj: *const Obj, slot: usize) -> F {
    // SAFETY: per the caller's contract.
    unsafe { std::mem::transmute_copy::<*const c_void, F>(&vslot(obj, slot)) }
}

/// The address in slot `slot` of `obj`'s vtable.
///
/// # Safety
/// `obj` must be a live object whose vtable has that slot.
pub(super) unsafe fn vslot(obj: *const Obj, slot: usize) -> *const c_void {
    // SAFETY: a live object starts with its vtable pointer; the slot exists per the caller.
    unsafe {
        let vtable = *(obj as *const *const *const c_void);
        *vtable.add(slot)
    }
}

/// An owned reference (`ConstantSP`): one pointer to the server's `Counter` block.
pub(crate) struct Sp<'s> {
    counter: *mut u8,
    server: &'s Server,
}

impl<'s> Sp<'s> {
    /// Wraps a freshly created object (from `Util::create*`) in a new Counter with count 1,
    /// allocated by the server's `operator new` as the server's own smart pointers are.
    ///
    /// # Safety
    /// `obj` is a live, unowned object created by the server.
    pub(crate) unsafe fn adopt(server: &'s Server, obj: *mut Obj) -> Sp<'s> {
        let layout = &server.facts.counter;
        let counter = server.cxx.alloc_zeroed(layout.size);
        // SAFETY: counter has layout.size zeroed bytes; p and count lie inside (facts).
        unsafe {
            *(counter.add(layout.p) as *mut *mut Obj) = obj;
            *(counter.add(layout.count) as *mut i32) = 1;
        }
        Sp { counter, server }
    }

    /// Takes ownership of a smart pointer returned by value by a virtual call.
    ///
    /// # Safety
    /// `counter` is null or a Counter whose one reference now belongs to the caller.
    pub(crate) unsafe fn from_returned(server: &'s Server, counter: *mut u8) -> Option<Sp<'s>> {
        (!counter.is_null()).then_some(Sp { counter, server })
    }

    pub(crate) fn obj(&self) -> *mut Obj {
        // SAFETY: counter is a live Counter; p_ is at the facts' offset.
        unsafe { *(self.counter.add(self.server.facts.counter.p) as *const *mut Obj) }
    }

    /// The Counter this smart pointer holds (still owned by it).
    pub(crate) fn counter(&self) -> *mut u8 {
        self.counter
    }

    /// The address of the smart pointer itself, for `const ConstantSP&` parameters.
    pub(crate) fn as_ref_arg(&self) -> *const *mut u8 {
        &self.counter
    }

    /// Hands the reference over (e.g. as a function's return value).
    pub(crate) fn into_raw(self) -> *mut u8 {
        let c = self.counter;
        std::mem::forget(self);
        c
    }

    fn count(&self) -> &AtomicI32 {
        // SAFETY: count_ is a naturally aligned std::atomic<int> at the facts' offset,
        // with the same layout as AtomicI32.
        unsafe { &*(self.counter.add(self.server.facts.counter.count) as *const AtomicI32) }
    }
}

impl Drop for Sp<'_> {
    fn drop(&mut self) {
        // Same order and memory orderings as the server's SmartPointer destructor.
        if self.count().fetch_sub(1, Ordering::AcqRel) == 1 {
            let obj = self.obj();
            if !obj.is_null() {
                type Deleting = unsafe extern "C" fn(*mut Obj);
                // SAFETY: the last reference is gone: run the object's deleting
                // destructor (slot from the facts), then free the Counter with the
                // operator delete that matches the operator new that made it.
                unsafe {
                    let f: Deleting = vfn(obj, self.server.facts.slots.destructor_deleting);
                    f(obj);
                }
            }
            // SAFETY: the Counter came from operator new and has no other owner.
            unsafe { self.server.cxx.free(self.counter) };
        }
    }
}

/// A borrowed view of an object, valid while its owner (an argument or an Sp) lives.
#[derive(Clone, Copy)]
pub(crate) struct ObjRef<'a> {
    obj: *const Obj,
    pub server: &'a Server,
}

impl<'a> ObjRef<'a> {
    /// # Safety
    /// `obj` is a live object that outlives `'a`.
    pub(crate) unsafe fn new(server: &'a Server, obj: *const Obj) -> ObjRef<'a> {
        ObjRef { obj, server }
    }

    fn flag(&self) -> u32 {
        let f = &self.server.facts.flag;
        // SAFETY: flag_ is inside every Constant at the facts' offset and width.
        unsafe {
            let p = (self.obj as *const u8).add(f.offset);
            if f.width == 2 {
                u32::from(std::ptr::read_unaligned(p as *const u16))
            } else {
                std::ptr::read_unaligned(p as *const u32)
            }
        }
    }

    pub(crate) fn form(&self) -> i32 {
        self.server.facts.flag.form.extract(self.flag()) as i32
    }

    pub(crate) fn is_nothing(&self) -> bool {
        self.flag() >> self.server.facts.flag.nothing & 1 == 1
    }

    pub(crate) fn data_type(&self) -> i32 {
        let facts = self.server.facts;
        match (facts.flag.data_type, facts.slots.get_type) {
            (Some(field), _) => field.extract(self.flag()) as i32,
            (None, Some(slot)) => {
                type F = unsafe extern "C" fn(*const Obj) -> i32;
                // SAFETY: getType() const -> DATA_TYPE, virtual in this version (facts).
                unsafe { vfn::<F>(self.obj, slot)(self.obj) }
            }
            // gen_facts refuses to write such facts
            (None, None) => -1,
        }
    }

    /// The data category (LOGICAL, INTEGRAL, FLOATING, TEMPORAL, LITERAL, DENARY, ...).
    pub(crate) fn category(&self) -> i32 {
        let facts = self.server.facts;
        match (facts.flag.category, facts.slots.get_category) {
            (Some(field), _) => field.extract(self.flag()) as i32,
            (None, Some(slot)) => {
                type F = unsafe extern "C" fn(*const Obj) -> i32;
                // SAFETY: getCategory() const -> DATA_CATEGORY, virtual here (facts).
                unsafe { vfn::<F>(self.obj, slot)(self.obj) }
            }
            (None, None) => -1,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        type F = unsafe extern "C" fn(*const Obj) -> bool;
        // SAFETY: isNull() const -> bool; Constant's default returns false, never throws.
        unsafe { vfn::<F>(self.obj, self.server.facts.slots.is_null)(self.obj) }
    }

    pub(crate) fn size(&self) -> usize {
        type F = unsafe extern "C" fn(*const Obj) -> i32;
        // SAFETY: size() const -> INDEX (int); implemented by every object.
        let n = unsafe { vfn::<F>(self.obj, self.server.facts.slots.size)(self.obj) };
        n.max(0) as usize
    }

    fn string_call(&self, slot: usize, index: Option<i32>) -> Vec<u8> {
        let strings = self.server.strings;
        let mut out = MaybeUninit::<RetBuf>::uninit();
        let at = out.as_mut_ptr() as *mut StdString;
        // SAFETY: getString() const / getString(INDEX) const return a std::string (of the
        // server's ABI) by value, constructed in `out` (32 bytes: either ABI fits); it never
        // throws. The string is copied, then destroyed with libstdc++'s destructor, without
        // being moved in between (a cxx11 string may point into itself).
        unsafe {
            let f = vslot(self.obj, slot);
            let i = index.unwrap_or(0) as isize as usize;
            super::sret::call(f, at.cast(), self.obj.cast(), i, 0);
            let bytes = strings.bytes(at);
            strings.drop(at);
            bytes
        }
    }

    /// getString(): for STRING/SYMBOL/BLOB scalars, the bytes.
    pub(crate) fn get_string(&self) -> Vec<u8> {
        self.string_call(self.server.facts.slots.get_string, None)
    }

    /// getString(i) of a vector. Caller checks `i < size()`.
    pub(crate) fn get_string_at(&self, i: usize) -> Vec<u8> {
        self.string_call(self.server.facts.slots.get_string_at, Some(i as i32))
    }

    /// getLong(): for BOOL and numeric scalars (integral, DOUBLE, DECIMAL: the server
    /// converts, as the official plugin's `getLong()` calls do).
    pub(crate) fn get_long(&self) -> i64 {
        type F = unsafe extern "C" fn(*const Obj) -> i64;
        // SAFETY: getLong() const -> long long, a slot every Constant has; the caller
        // checked the form is a numeric or BOOL scalar, whose getLong does not throw.
        unsafe { vfn::<F>(self.obj, self.server.facts.slots.get_long)(self.obj) }
    }

    /// getDouble(): only for numeric scalars.
    pub(crate) fn get_double(&self) -> f64 {
        type F = unsafe extern "C" fn(*const Obj) -> f64;
        // SAFETY: getDouble() const -> double; the caller checked the type is numeric.
        unsafe { vfn::<F>(self.obj, self.server.facts.slots.get_double)(self.obj) }
    }

    /// getBool(): only for BOOL scalars.
    pub(crate) fn get_bool(&self) -> bool {
        type F = unsafe extern "C" fn(*const Obj) -> i8;
        // SAFETY: getBool() const -> char; the caller checked the type is BOOL.
        unsafe { vfn::<F>(self.obj, self.server.facts.slots.get_bool)(self.obj) != 0 }
    }

    fn sp_call(&self, slot: usize, index: Option<i32>) -> Option<Sp<'a>> {
        let mut out: *mut u8 = std::ptr::null_mut();
        // SAFETY: keys()/values() const and get(INDEX) const return a ConstantSP (one
        // Counter pointer) by value, constructed at `out`; the reference is ours.
        unsafe {
            let f = vslot(self.obj, slot);
            let i = index.unwrap_or(0) as isize as usize;
            super::sret::call(f, (&mut out as *mut *mut u8).cast(), self.obj.cast(), i, 0);
            Sp::from_returned(self.server, out)
        }
    }

    /// keys(): only for dictionaries.
    pub(crate) fn keys(&self) -> Option<Sp<'a>> {
        self.sp_call(self.server.facts.slots.keys, None)
    }

    /// values(): only for dictionaries.
    pub(crate) fn values(&self) -> Option<Sp<'a>> {
        self.sp_call(self.server.facts.slots.values, None)
    }

    /// get(i): element i of a vector, as its own object.
    pub(crate) fn get_at(&self, i: usize) -> Option<Sp<'a>> {
        self.sp_call(self.server.facts.slots.get_at, Some(i as i32))
    }
}

impl<'s> Sp<'s> {
    /// `set(INDEX, const ConstantSP&)`: element `i` of a vector from a scalar.
    pub(crate) fn set_at(&self, i: usize, value: &Sp<'_>) -> bool {
        type F = unsafe extern "C" fn(*mut Obj, i32, *const *mut u8) -> bool;
        // SAFETY: set(INDEX, const ConstantSP&) of a live vector, with a live scalar; the
        // vector copies the value (or takes its own reference).
        unsafe {
            vfn::<F>(self.obj(), self.server.facts.slots.set_at)(
                self.obj(),
                i as i32,
                value.as_ref_arg(),
            )
        }
    }

    /// `set(const ConstantSP& key, const ConstantSP& value)` of a dictionary.
    pub(crate) fn set_key_value(&self, key: &Sp<'_>, value: &Sp<'_>) -> bool {
        type F = unsafe extern "C" fn(*mut Obj, *const *mut u8, *const *mut u8) -> bool;
        // SAFETY: set(const ConstantSP&, const ConstantSP&) of a live dictionary; it takes
        // its own references, ours are released when `key` and `value` drop.
        unsafe {
            vfn::<F>(self.obj(), self.server.facts.slots.set_key_value)(
                self.obj(),
                key.as_ref_arg(),
                value.as_ref_arg(),
            )
        }
    }

    /// The number of references to the object (for the self-check's plausibility test).
    pub(crate) fn ref_count(&self) -> i32 {
        self.count().load(Ordering::Acquire)
    }

    pub(crate) fn view(&self) -> ObjRef<'_> {
        // SAFETY: the object lives at least as long as this reference.
        unsafe { ObjRef::new(self.server, self.obj()) }
    }
}
