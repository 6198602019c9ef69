//! The running server: its version and C++ string ABI (read from the exported `Util::VER`),
//! the facts that match them, the server functions the plugin calls, and the verdict of the
//! load-time self-check — all resolved once, at the first call.
use super::cxx::{self, Cxx, StdString, Strings};
use super::facts::{self, Facts, Flavour};
use std::ffi::{c_void, CStr};
use std::sync::OnceLock;

/// A DolphinDB object (`Constant` or a subclass): only ever handled by pointer.
#[repr(C)]
pub(crate) struct Obj {
    _opaque: [u8; 0],
}

pub(crate) type CreateConstantFn = unsafe extern "C" fn(i32, i32) -> *mut Obj;
type DictArg = *const *mut c_void; // const SymbolBaseSP&: pointer to an empty smart pointer
pub(crate) type CreateDict4 = unsafe extern "C" fn(i32, DictArg, i32, DictArg) -> *mut Obj;
pub(crate) type CreateDict5 = unsafe extern "C" fn(i32, DictArg, i32, DictArg, bool) -> *mut Obj;
pub(crate) type CreateDict7 =
    unsafe extern "C" fn(i32, DictArg, i32, DictArg, bool, i32, i32) -> *mut Obj;
/// `createVector(type, size, capacity, fast, extraParam, data, dataSegment,
/// segmentSizeInBit, containNull)`.
pub(crate) type CreateVectorFn = unsafe extern "C" fn(
    i32,
    i32,
    i32,
    bool,
    i32,
    *mut c_void,
    *mut *mut c_void,
    i32,
    bool,
) -> *mut Obj;
/// `createTable(const vector<string>&, const vector<ConstantSP>&)`.
pub(crate) type CreateTableFn = unsafe extern "C" fn(*const c_void, *const c_void) -> *mut Obj;
pub(crate) type StringAssignFn = unsafe extern "C" fn(*mut u8, *const u8, usize) -> *mut u8;
pub(crate) type StringClearFn = unsafe extern "C" fn(*mut u8);

/// One exception type of the server: its vtable and typeinfo.
#[derive(Clone, Copy)]
pub(crate) struct ExceptionType {
    pub vtable: *const u8,
    pub typeinfo: *const u8,
}

pub(crate) struct Server {
    pub facts: &'static Facts,
    pub version: String,
    pub cxx: &'static Cxx,
    pub strings: Strings<'static>,
    pub create_constant: CreateConstantFn,
    pub create_dictionary: *mut c_void,
    pub create_vector: CreateVectorFn,
    pub create_table: CreateTableFn,
    pub string_assign: StringAssignFn,
    pub string_clear: StringClearFn,
    /// None: the server does not export it; errors are raised as std::runtime_error.
    pub runtime_exception: Option<ExceptionType>,
    /// None: the server does not export it; argument errors become RuntimeException.
    pub illegal_argument: Option<ExceptionType>,
    /// What the load-time self-check verified, for `version()`.
    pub self_check: String,
}

// SAFETY: every pointer in Server is the address of a function or of immutable vtable /
// typeinfo data in the server binary, valid for the life of the process.
unsafe impl Send for Server {}
// SAFETY: as above; Server is never mutated after it is built.
unsafe impl Sync for Server {}

/// `Util::VER` by flavour: without and with `namespace ddb`.
const VER_SYMBOLS: [(Flavour, &CStr); 4] = [
    (Flavour::Standard, c"_ZN4Util3VERE"),
    (Flavour::Standard, c"_ZN3ddb4Util3VERE"),
    (Flavour::Cxx11, c"_ZN4Util3VERB5cxx11E"),
    (Flavour::Cxx11, c"_ZN3ddb4Util3VERB5cxx11E"),
];

/// The server's C++ string ABI and version string, from whichever `Util::VER` it exports.
fn read_version(cxx: &'static Cxx) -> Result<(Flavour, String), String> {
    for (flavour, name) in VER_SYMBOLS {
        if let Some(p) = cxx::lookup(name) {
            let strings = cxx.strings(flavour).ok_or_else(|| {
                format!(
                    "this is a {} build of DolphinDB, but the process's C++ runtime has no \
                     cxx11 std::string",
                    flavour.name()
                )
            })?;
            // SAFETY: Util::VER is a static std::string of the ABI its mangled name
            // carries (the cxx11 tag marks the new ABI); it is initialised before any
            // plugin can be loaded.
            let bytes = unsafe { strings.bytes(p as *const StdString) };
            return Ok((flavour, String::from_utf8_lossy(&bytes).into_owned()));
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

fn exception_type(vtable: &CStr, typeinfo: &CStr) -> Option<ExceptionType> {
    Some(ExceptionType {
        vtable: cxx::lookup(vtable)? as *const u8,
        typeinfo: cxx::lookup(typeinfo)? as *const u8,
    })
}

fn unsupported(flavour: Flavour, version: &str) -> String {
    let shown = version.split_whitespace().next().unwrap_or(version);
    match flavour {
        Flavour::Standard => format!(
            "DolphinDB server version {shown} is not supported by this plugin build \
             (supported: {}); add its facts with scripts/add-server-version.sh or use a \
             plugin release that lists it",
            facts::supported()
        ),
        Flavour::Cxx11 => format!(
            "this is a Linux_ABI (cxx11) build of DolphinDB {shown}, which this plugin build \
             does not support (supported Linux_ABI versions: {}); add its facts with \
             scripts/add-server-version.sh",
            facts::versions(Flavour::Cxx11).join(", ")
        ),
    }
}

fn resolve(cxx: &'static Cxx) -> Result<Server, String> {
    let (flavour, version) = read_version(cxx)?;
    let facts =
        facts::for_server(flavour, &version).ok_or_else(|| unsupported(flavour, &version))?;
    let strings = cxx
        .strings(flavour)
        .expect("read_version checked this string ABI");
    let s = &facts.symbols;
    if cxx::lookup(s.ver).is_none() {
        return Err(format!(
            "server {version} does not export {} as its {} facts say",
            s.ver.to_string_lossy(),
            facts.version
        ));
    }
    let create_constant = need(s.create_constant)?;
    let create_vector = need(s.create_vector)?;
    let create_table = need(s.create_table)?;
    let string_assign = need(s.dolphin_string_assign)?;
    let string_clear = need(s.dolphin_string_clear)?;
    let mut server = Server {
        facts,
        version,
        cxx,
        strings,
        // SAFETY: the facts name Util::createConstant(DATA_TYPE, int) -> Constant*.
        create_constant: unsafe {
            std::mem::transmute::<*mut c_void, CreateConstantFn>(create_constant)
        },
        create_dictionary: need(s.create_dictionary)?,
        // SAFETY: the facts name Util::createVector with the nine parameters above
        // (gen_facts records the count; resolve() refuses another).
        create_vector: unsafe { std::mem::transmute::<*mut c_void, CreateVectorFn>(create_vector) },
        // SAFETY: the facts name Util::createTable(const vector<string>&, const
        // vector<ConstantSP>&) -> Table*.
        create_table: unsafe { std::mem::transmute::<*mut c_void, CreateTableFn>(create_table) },
        // SAFETY: the facts name DolphinString::assign(const char*, size_t) -> DolphinString&.
        string_assign: unsafe { std::mem::transmute::<*mut c_void, StringAssignFn>(string_assign) },
        // SAFETY: the facts name DolphinString::clear().
        string_clear: unsafe { std::mem::transmute::<*mut c_void, StringClearFn>(string_clear) },
        runtime_exception: exception_type(s.runtime_exception_vtable, s.runtime_exception_typeinfo),
        illegal_argument: exception_type(
            s.illegal_argument_exception_vtable,
            s.illegal_argument_exception_typeinfo,
        ),
        self_check: String::new(),
    };
    if s.create_vector_params != 9 {
        return Err(format!(
            "the {} facts give Util::createVector {} parameters; this plugin calls the \
             nine-parameter form",
            facts.version, s.create_vector_params
        ));
    }
    server.self_check = super::self_check::run(&server)?;
    Ok(server)
}

/// The server, resolved and self-checked at the first call; an unsupported, unrecognised
/// or inconsistent server gives the same clear error on every call.
pub(crate) fn get(cxx: &'static Cxx) -> Result<&'static Server, &'static str> {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    SERVER
        .get_or_init(|| resolve(cxx))
        .as_ref()
        .map_err(|e| e.as_str())
}
