//! The C++ runtime the server already has loaded (libstdc++ / libsupc++), reached with
//! `dlsym(RTLD_DEFAULT, …)`: `std::string` of either ABI, `operator new/delete`, exception
//! throwing. Nothing is linked at build time, so the same library loads into every server
//! version and both C++ string ABIs.
use super::facts::Flavour;
use super::guard::{BeginCatchFn, CurrentTypeFn, EndCatchFn, PersonalityFn};
use std::ffi::{c_char, c_void, CStr};
use std::sync::OnceLock;

/// A `std::string` object of either ABI, only ever handled by pointer: one pointer to the
/// characters preceded by a `_Rep { length, capacity, refcount }` header (the standard,
/// copy-on-write ABI; 8 bytes), or `{ char* p; size_t length; union { char buf[16];
/// size_t capacity; } }` (the cxx11 ABI; 32 bytes).
#[repr(C)]
pub(crate) struct StdString {
    _opaque: [u8; 0],
}

type StringCtorFn = unsafe extern "C" fn(*mut StdString, *const u8, usize, *const u8);
type StringDtorFn = unsafe extern "C" fn(*mut StdString);
type NewFn = unsafe extern "C" fn(usize) -> *mut u8;
type DeleteFn = unsafe extern "C" fn(*mut u8);
pub(crate) type DtorFn = unsafe extern "C" fn(*mut u8);
type AllocExceptionFn = unsafe extern "C" fn(usize) -> *mut u8;
type ThrowFn = unsafe extern "C-unwind" fn(*mut u8, *const u8, Option<DtorFn>) -> !;
type RuntimeErrorNewFn = unsafe extern "C" fn(*mut u8, *const c_char);

/// Constructor and destructor of one `std::string` ABI.
struct StringFns {
    ctor: StringCtorFn,
    dtor: StringDtorFn,
}

pub(crate) struct Cxx {
    standard: StringFns,
    /// Present in libstdc++ from GCC 5 on; needed only inside a cxx11 server.
    cxx11: Option<StringFns>,
    op_new: NewFn,
    op_delete: DeleteFn,
    alloc_exception: AllocExceptionFn,
    throw: ThrowFn,
    runtime_error_new: RuntimeErrorNewFn,
    runtime_error_drop: DtorFn,
    runtime_error_typeinfo: *const u8,
    /// Catching (guard.rs): present in every libstdc++, looked up all the same.
    catch: Option<(BeginCatchFn, EndCatchFn, CurrentTypeFn)>,
    personality: Option<PersonalityFn>,
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

/// The size in bytes of the data object the symbol at `addr` names (its ELF `st_size`), as
/// the dynamic linker knows it; None when `addr` is not the start of a sized symbol.
pub(crate) fn symbol_size(addr: *const c_void) -> Option<usize> {
    /// glibc's `RTLD_DL_SYMENT` (dlfcn.h): ask dladdr1 for the symbol table entry.
    const RTLD_DL_SYMENT: libc::c_int = 1;
    let mut info = std::mem::MaybeUninit::<libc::Dl_info>::zeroed();
    let mut sym: *mut libc::c_void = std::ptr::null_mut();
    // SAFETY: dladdr1 with RTLD_DL_SYMENT writes a Dl_info and a pointer to the matching
    // symbol table entry (or null) and reads nothing of ours but `addr`'s value.
    let found = unsafe { libc::dladdr1(addr, info.as_mut_ptr(), &mut sym, RTLD_DL_SYMENT) };
    if found == 0 || sym.is_null() {
        return None;
    }
    // SAFETY: dladdr1 succeeded: `info` is filled in and `sym` points into the loaded
    // object's dynamic symbol table, which lives as long as the object.
    unsafe {
        let info = info.assume_init();
        let sym = sym as *const libc::Elf64_Sym;
        (info.dli_saddr as *const c_void == addr).then_some((*sym).st_size as usize)
    }
}

macro_rules! resolve {
    ($name:literal, $ty:ty) => {{
        let p = lookup($name)?;
        // SAFETY: the symbol named is the libstdc++ function whose C++ signature the
        // target type spells out in the Itanium C++ ABI of this target.
        unsafe { std::mem::transmute::<*mut c_void, $ty>(p) }
    }};
}

impl Cxx {
    fn resolve() -> Option<Cxx> {
        Some(Cxx {
            // std::string::string(const char*, size_t, const allocator&), ~string()
            standard: StringFns {
                ctor: resolve!(c"_ZNSsC1EPKcmRKSaIcE", StringCtorFn),
                dtor: resolve!(c"_ZNSsD1Ev", StringDtorFn),
            },
            cxx11: (|| {
                Some(StringFns {
                    ctor: resolve!(
                        c"_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEC1EPKcmRKS3_",
                        StringCtorFn
                    ),
                    dtor: resolve!(
                        c"_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEED1Ev",
                        StringDtorFn
                    ),
                })
            })(),
            op_new: resolve!(c"_Znwm", NewFn),
            op_delete: resolve!(c"_ZdlPv", DeleteFn),
            alloc_exception: resolve!(c"__cxa_allocate_exception", AllocExceptionFn),
            throw: resolve!(c"__cxa_throw", ThrowFn),
            runtime_error_new: resolve!(c"_ZNSt13runtime_errorC1EPKc", RuntimeErrorNewFn),
            runtime_error_drop: resolve!(c"_ZNSt13runtime_errorD1Ev", DtorFn),
            runtime_error_typeinfo: lookup(c"_ZTISt13runtime_error")? as *const u8,
            catch: (|| {
                Some((
                    resolve!(c"__cxa_begin_catch", BeginCatchFn),
                    resolve!(c"__cxa_end_catch", EndCatchFn),
                    resolve!(c"__cxa_current_exception_type", CurrentTypeFn),
                ))
            })(),
            personality: (|| Some(resolve!(c"__gxx_personality_v0", PersonalityFn)))(),
        })
    }

    /// `__cxa_begin_catch`, `__cxa_end_catch`, `__cxa_current_exception_type`.
    pub(crate) fn catch_functions(&self) -> Option<(BeginCatchFn, EndCatchFn, CurrentTypeFn)> {
        self.catch
    }

    /// libstdc++'s personality routine.
    pub(crate) fn personality(&self) -> Option<PersonalityFn> {
        self.personality
    }

    /// The process's C++ runtime, or None when there is none (not a C++ host).
    pub(crate) fn get() -> Option<&'static Cxx> {
        static CXX: OnceLock<Option<Cxx>> = OnceLock::new();
        CXX.get_or_init(Cxx::resolve).as_ref()
    }

    /// The `std::string` of `flavour`, or None when this libstdc++ lacks it.
    pub(crate) fn strings(&self, flavour: Flavour) -> Option<Strings<'_>> {
        let fns = match flavour {
            Flavour::Standard => &self.standard,
            Flavour::Cxx11 => self.cxx11.as_ref()?,
        };
        Some(Strings { flavour, fns })
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
    /// are unknown or not to be trusted (unsupported server, failed self-check).
    pub(crate) fn throw_runtime_error(&self, message: &str) -> ! {
        let text: Vec<u8> = message.bytes().filter(|&b| b != 0).chain([0]).collect();
        // std::runtime_error is a vtable pointer and a copy-on-write string in both string
        // ABIs (libstdc++ keeps it so): 16 bytes on every 64-bit target.
        let obj = self.alloc_exception(16);
        // SAFETY: obj has 16 zeroed bytes; the constructor copies the NUL-terminated text.
        unsafe { (self.runtime_error_new)(obj, text.as_ptr().cast()) };
        drop(text);
        // SAFETY: obj is a constructed runtime_error; no Rust value is left to drop here.
        unsafe { self.throw(obj, self.runtime_error_typeinfo, self.runtime_error_drop) }
    }
}

/// `std::string` of one ABI: construct, read, destroy.
#[derive(Clone, Copy)]
pub(crate) struct Strings<'a> {
    flavour: Flavour,
    fns: &'a StringFns,
}

impl Strings<'_> {
    /// `sizeof(std::string)`.
    pub(crate) fn size(&self) -> usize {
        match self.flavour {
            Flavour::Standard => 8,
            Flavour::Cxx11 => 32,
        }
    }

    /// Constructs a string holding `bytes` at `at`.
    ///
    /// # Safety
    /// `at` must be valid for writing `self.size()` bytes, 8-aligned, and hold no live
    /// string.
    pub(crate) unsafe fn init(&self, at: *mut StdString, bytes: &[u8]) {
        let alloc = 0u8; // std::allocator<char> is empty; any address will do
                         // SAFETY: `at` is writable (caller); bytes is a valid slice; the constructor copies it.
        unsafe { (self.fns.ctor)(at, bytes.as_ptr(), bytes.len(), &alloc) }
    }

    /// Destroys a string built by the server or by `init`.
    ///
    /// # Safety
    /// `s` must hold a live string of this ABI, which is dead afterwards.
    pub(crate) unsafe fn drop(&self, s: *mut StdString) {
        // SAFETY: per the caller's contract.
        unsafe { (self.fns.dtor)(s) }
    }

    /// Copies the bytes of a live string.
    ///
    /// # Safety
    /// `s` must point to a live string of this ABI.
    pub(crate) unsafe fn bytes(&self, s: *const StdString) -> Vec<u8> {
        // SAFETY: the first word of a string of either ABI points to its characters; the
        // length is the first word of the copy-on-write _Rep that precedes them (standard)
        // or the second word of the object (cxx11), as libstdc++ lays them out.
        unsafe {
            let p = *(s as *const *const u8);
            let len = match self.flavour {
                Flavour::Standard => *(p as *const usize).sub(3),
                Flavour::Cxx11 => *(s as *const usize).add(1),
            };
            std::slice::from_raw_parts(p, len).to_vec()
        }
    }
}
