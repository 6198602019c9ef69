//! The running server: its version (read from `Util::VER`), the facts that match it and
//! the server functions the plugin calls, all resolved once at the first call.
use super::cxx::{self, Cxx, StdString};
use super::facts::{self, Facts};
use std::ffi::{c_void, CStr};
use std::sync::OnceLock;

/// A DolphinDB object (`Constant` or a subclass): only ever handled by pointer.
#[repr(C)]
pub(crate) struct Obj {
    _opaque: [u8; 0],
}

pub(crate) type CreateConstantFn = unsafe extern "C" fn(i32, i32) -> *mut Obj;
type DictArg = *const *mut c_void; // const SymbolBaseSP&: pointer to a (null) smart pointer
pub(crate) type CreateDict4 = unsafe extern "C" fn(i32, DictArg, i32, DictArg) -> *mut Obj;
pub(crate) type CreateDict5 = unsafe extern "C" fn(i32, DictArg, i32, DictArg, bool) -> *mut Obj;
pub(crate) type CreateDict7 =
    unsafe extern "C" fn(i32, DictArg, i32, DictArg, bool, i32, i32) -> *mut Obj;
pub(crate) type StringAssignFn = unsafe extern "C" fn(*mut u8, *const u8, usize) -> *mut u8;
pub(crate) type StringClearFn = unsafe extern "C" fn(*mut u8);

pub(crate) struct Server {
    pub facts: &'static Facts,
    pub version: String,
    pub cxx: &'static Cxx,
    pub create_constant: CreateConstantFn,
    pub create_dictionary: *mut c_void,
    pub string_assign: StringAssignFn,
    pub string_clear: StringClearFn,
    pub runtime_exception_vtable: *const u8,
    pub runtime_exception_typeinfo: *const u8,
    pub illegal_argument_vtable: *const u8,
    pub illegal_argument_typeinfo: *const u8,
}

// SAFETY: every pointer in Server is the address of a function or of immutable vtable /
// typeinfo data in the server binary, valid for the life of the process.
unsafe impl Send for Server {}
// SAFETY: as above; Server is never mutated after it is built.
unsafe impl Sync for Server {}

const VER_SYMBOLS: [&CStr; 2] = [c"_ZN4Util3VERE", c"_ZN3ddb4Util3VERE"];

/// The server version string, as `Util::VER` holds it.
fn read_version() -> Result<String, String> {
    for name in VER_SYMBOLS {
        if let Some(p) = cxx::lookup(name) {
            // SAFETY: Util::VER is a static old-ABI std::string in every server version
            // (the facts of all supported versions record it so); it is initialised
            // before any plugin can be loaded.
            let bytes = unsafe { cxx::string_bytes(p as *const StdString) };
            return Ok(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    Err("cannot find Util::VER in this process: not a DolphinDB server?".into())
}

fn need(name: &CStr) -> Result<*mut c_void, String> {
    cxx::lookup(name).ok_or_else(|| {
        format!(
            "the server does not export {} (needed by this plugin)",
            name.to_string_lossy()
        )
    })
}

fn resolve(cxx: &'static Cxx) -> Result<Server, String> {
    let version = read_version()?;
    let facts = facts::for_server(&version).ok_or_else(|| {
        format!(
            "DolphinDB server version {} is not supported by this plugin build (supported: {}); \
             use a plugin release that lists it",
            version.split_whitespace().next().unwrap_or(&version),
            facts::supported()
        )
    })?;
    let s = &facts.symbols;
    if cxx::lookup(s.ver).is_none() {
        return Err(format!(
            "server {version} does not export {} as its {} facts say",
            s.ver.to_string_lossy(),
            facts.version
        ));
    }
    let create_constant = need(s.create_constant)?;
    let string_assign = need(s.dolphin_string_assign)?;
    let string_clear = need(s.dolphin_string_clear)?;
    Ok(Server {
        facts,
        version,
        cxx,
        // SAFETY: the facts name Util::createConstant(DATA_TYPE, int) -> Constant*.
        create_constant: unsafe {
            std::mem::transmute::<*mut c_void, CreateConstantFn>(create_constant)
        },
        create_dictionary: need(s.create_dictionary)?,
        // SAFETY: the facts name DolphinString::assign(const char*, size_t) -> DolphinString&.
        string_assign: unsafe { std::mem::transmute::<*mut c_void, StringAssignFn>(string_assign) },
        // SAFETY: the facts name DolphinString::clear().
        string_clear: unsafe { std::mem::transmute::<*mut c_void, StringClearFn>(string_clear) },
        runtime_exception_vtable: need(s.runtime_exception_vtable)? as *const u8,
        runtime_exception_typeinfo: need(s.runtime_exception_typeinfo)? as *const u8,
        illegal_argument_vtable: need(s.illegal_argument_exception_vtable)? as *const u8,
        illegal_argument_typeinfo: need(s.illegal_argument_exception_typeinfo)? as *const u8,
    })
}

/// The server, resolved at the first call; an unsupported or unrecognised server gives
/// the same clear error on every call.
pub(crate) fn get(cxx: &'static Cxx) -> Result<&'static Server, &'static str> {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    SERVER
        .get_or_init(|| resolve(cxx))
        .as_ref()
        .map_err(|e| e.as_str())
}
