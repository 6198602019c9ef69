//! The C++ runtime the server already has loaded (libstdc++ / libsupc++), reached with
//! `dlsym(RTLD_DEFAULT, …)`: old-ABI `std::string`, `operator new/delete`, exception
//! throwing. Nothing is linked at build time, so the same library loads into every
//! server version.
use std::ffi::{c_char, c_void, CStr};
use std::sync::OnceLock;

/// An old-ABI (`_GLIBCXX_USE_CXX11_ABI=0`) `std::string`: one pointer to the characters,
/// preceded in memory by the `_Rep` header `{ size_t length; size_t capacity; int refcount; }`.
#[repr(C)]
pub(crate) struct StdString {
    p: *const u8,
}

type StringFromFn = unsafe extern "C" fn(*mut StdString, *const u8, usize, *const u8);
type StringDropFn = unsafe extern "C" fn(*mut StdString);
type NewFn = unsafe extern "C" fn(usize) -> *mut u8;
type DeleteFn = unsafe extern "C" fn(*mut u8);
pub(crate) type DtorFn = unsafe extern "C" fn(*mut u8);
type AllocExceptionFn = unsafe extern "C" fn(usize) -> *mut u8;
type ThrowFn = unsafe extern "C-unwind" fn(*mut u8, *const u8, Option<DtorFn>) -> !;
type RuntimeErrorNewFn = unsafe extern "C" fn(*mut u8, *const c_char);

pub(crate) struct Cxx {
    string_from: StringFromFn,
    string_drop: StringDropFn,
    op_new: NewFn,
    op_delete: DeleteFn,
    alloc_exception: AllocExceptionFn,
    throw: ThrowFn,
    runtime_error_new: RuntimeErrorNewFn,
    runtime_error_drop: DtorFn,
    runtime_error_typeinfo: *const u8,
}

// SAFETY: the fields are addresses of functions and of immutable typeinfo data in the
// process's C++ runtime; they are valid for the life of the process and safe to share.
unsafe impl Send for Cxx {}
// SAFETY: as above, nothing in Cxx is ever mutated after resolution.
unsafe impl Sync for Cxx {}

/// Looks a symbol up in the process's global scope (the server and its libraries).
pub(crate) fn lookup(name: &CStr) -> Option<*mut c_void> {
    // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name has no preconditions.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    (!p.is_null()).then_some(p)
}

macro_rules! resolve {
    ($name:literal, $ty:ty) => {{
        let p = lookup($name)?;
        // SAFETY: the symbol named is the libstdc++ function whose C++ signature the
        // target type spells out in the Itanium/System V ABI.
        unsafe { std::mem::transmute::<*mut c_void, $ty>(p) }
    }};
}

impl Cxx {
    fn resolve() -> Option<Cxx> {
        Some(Cxx {
            // std::string::string(const char*, size_t, const allocator&)
            string_from: resolve!(c"_ZNSsC1EPKcmRKSaIcE", StringFromFn),
            string_drop: resolve!(c"_ZNSsD1Ev", StringDropFn),
            op_new: resolve!(c"_Znwm", NewFn),
            op_delete: resolve!(c"_ZdlPv", DeleteFn),
            alloc_exception: resolve!(c"__cxa_allocate_exception", AllocExceptionFn),
            throw: resolve!(c"__cxa_throw", ThrowFn),
            runtime_error_new: resolve!(c"_ZNSt13runtime_errorC1EPKc", RuntimeErrorNewFn),
            runtime_error_drop: resolve!(c"_ZNSt13runtime_errorD1Ev", DtorFn),
            runtime_error_typeinfo: lookup(c"_ZTISt13runtime_error")? as *const u8,
        })
    }

    /// The process's C++ runtime, or None when there is none (not a C++ host).
    pub(crate) fn get() -> Option<&'static Cxx> {
        static CXX: OnceLock<Option<Cxx>> = OnceLock::new();
        CXX.get_or_init(Cxx::resolve).as_ref()
    }

    /// Constructs an old-ABI string holding `bytes` at `at`.
    ///
    /// # Safety
    /// `at` must be valid for writing 8 bytes, aligned, and not hold a live string.
    pub(crate) unsafe fn string_init(&self, at: *mut StdString, bytes: &[u8]) {
        let alloc = 0u8; // std::allocator<char> is empty; any address will do
                         // SAFETY: `at` is writable (caller); bytes is a valid slice; the constructor copies it.
        unsafe { (self.string_from)(at, bytes.as_ptr(), bytes.len(), &alloc) }
    }

    /// Destroys a string built by the server or by `string_init`.
    ///
    /// # Safety
    /// `s` must hold a live old-ABI string, which is dead afterwards.
    pub(crate) unsafe fn string_drop(&self, s: *mut StdString) {
        // SAFETY: per the caller's contract.
        unsafe { (self.string_drop)(s) }
    }

    /// `operator new(size)`, zero-filled: memory the server may `delete`.
    pub(crate) fn alloc_zeroed(&self, size: usize) -> *mut u8 {
        // SAFETY: operator new either returns `size` writable bytes or throws bad_alloc,
        // which in a server out of memory would terminate anyway.
        unsafe {
            let p = (self.op_new)(size);
            std::ptr::write_bytes(p, 0, size);
            p
        }
    }

    /// `operator delete(p)`.
    ///
    /// # Safety
    /// `p` came from `operator new` and is not used afterwards.
    pub(crate) unsafe fn free(&self, p: *mut u8) {
        // SAFETY: per the caller's contract.
        unsafe { (self.op_delete)(p) }
    }

    pub(crate) fn alloc_exception(&self, size: usize) -> *mut u8 {
        // SAFETY: __cxa_allocate_exception returns `size` writable bytes (or terminates).
        let p = unsafe { (self.alloc_exception)(size) };
        // SAFETY: p points to size writable bytes.
        unsafe { std::ptr::write_bytes(p, 0, size) };
        p
    }

    /// Throws an exception object built in memory from `alloc_exception`.
    ///
    /// # Safety
    /// `obj` is a fully constructed object of the type `typeinfo` describes, `dtor` its
    /// complete-object destructor. Must be called with no Rust value awaiting drop in the
    /// frames the exception will unwind through.
    pub(crate) unsafe fn throw(&self, obj: *mut u8, typeinfo: *const u8, dtor: DtorFn) -> ! {
        // SAFETY: per the caller's contract.
        unsafe { (self.throw)(obj, typeinfo, Some(dtor)) }
    }

    /// Throws `std::runtime_error(message)`: used when the server's own exception types
    /// are unknown (unsupported server version).
    pub(crate) fn throw_runtime_error(&self, message: &str) -> ! {
        let text: Vec<u8> = message.bytes().filter(|&b| b != 0).chain([0]).collect();
        // sizeof(std::runtime_error) is 16 on x86_64 (vtable pointer + COW string).
        let obj = self.alloc_exception(16);
        // SAFETY: obj has 16 zeroed bytes; the constructor copies the NUL-terminated text.
        unsafe { (self.runtime_error_new)(obj, text.as_ptr().cast()) };
        drop(text);
        // SAFETY: obj is a constructed runtime_error; no Rust value is left to drop here.
        unsafe { self.throw(obj, self.runtime_error_typeinfo, self.runtime_error_drop) }
    }
}

/// Copies the bytes of an old-ABI string.
///
/// # Safety
/// `s` must point to a live old-ABI `std::string`.
pub(crate) unsafe fn string_bytes(s: *const StdString) -> Vec<u8> {
    // SAFETY: a live string's pointer is preceded by its _Rep, whose first word is the
    // length (libstdc++'s COW string layout, fixed by the old ABI).
    unsafe {
        let p = (*s).p;
        let len = *(p as *const usize).sub(3);
        std::slice::from_raw_parts(p, len).to_vec()
    }
}
