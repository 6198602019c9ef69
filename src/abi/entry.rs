//! The one place every plugin function passes through: arguments in, result or
//! exception out, panics caught. Entry points are `extern "C-unwind"` so that the
//! exception thrown here may unwind into the server.
use super::cxx::Cxx;
use super::object::ObjRef;
use super::server::{self, Obj};
use super::session::Caller;
use super::value::{Ddb, ErrorKind, Out};
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// `std::vector<ConstantSP>`: begin, end, end of storage; each element one Counter*.
#[repr(C)]
pub struct ArgVector {
    begin: *const *mut u8,
    end: *const *mut u8,
    _capacity: *const *mut u8,
}

/// The hidden return pointer of `ConstantSP f(Heap*, vector<ConstantSP>&)`.
pub type ReturnSlot = *mut *mut u8;

/// What a handler produces: a result, or an error to raise.
pub type Outcome = Result<Out, (ErrorKind, String)>;

/// A plugin function as the ABI layer runs it.
pub type Handler = fn(&[Ddb], &Caller<'_>) -> Outcome;

/// Runs `handler` for a call from the server and stores its result in `ret`, or throws.
///
/// # Safety
/// Must be called from an exported `extern "C-unwind"` entry point with the hidden return
/// pointer, the heap and the argument vector the server passed.
pub unsafe fn call(
    ret: ReturnSlot,
    heap: *mut c_void,
    args: *const ArgVector,
    function: &str,
    handler: Handler,
) -> ReturnSlot {
    let Some(cxx) = Cxx::get() else {
        // Not inside a C++ process: nothing can be thrown or built.
        eprintln!("{function}: no C++ runtime in this process");
        std::process::abort();
    };
    // the first call resolves the server and runs the self-check: a panic there must not
    // unwind into the server either
    let server = match catch_unwind(|| server::get(cxx)) {
        Ok(Ok(s)) => s,
        Ok(Err(message)) => cxx.throw_runtime_error(&format!("{function}: {message}")),
        Err(_) => cxx.throw_runtime_error(&format!(
            "{function}: internal error while resolving the server (a panic was caught)"
        )),
    };
    let result = catch_unwind(AssertUnwindSafe(
        || -> Result<*mut u8, (ErrorKind, String)> {
            // SAFETY: the server passes a live vector of live smart pointers for the call.
            let values: Vec<Ddb> = unsafe { read_args(server, args) };
            let caller = Caller::new(server, heap);
            let out = handler(&values, &caller)?;
            super::make::make(server, &out)
                .map(|sp| sp.into_raw())
                .ok_or_else(|| {
                    (
                        ErrorKind::Runtime,
                        format!("{function}: the server could not create the result"),
                    )
                })
        },
    ));
    let (kind, message) = match result {
        Ok(Ok(sp)) => {
            // SAFETY: ret is the caller's slot for one ConstantSP; the reference is handed over.
            unsafe { *ret = sp };
            return ret;
        }
        Ok(Err(e)) => e,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            (
                ErrorKind::Runtime,
                format!("{function}: internal error: {what}"),
            )
        }
    };
    super::throw::throw(server, kind, function, &message)
}

/// # Safety
/// `args` points to the server's live argument vector.
unsafe fn read_args(server: &server::Server, args: *const ArgVector) -> Vec<Ddb> {
    // SAFETY: begin..end are the vector's elements, each a ConstantSP (one Counter*).
    unsafe {
        let v = &*args;
        let n = v.end.offset_from(v.begin).max(0) as usize;
        (0..n)
            .map(|i| {
                let counter = *v.begin.add(i);
                if counter.is_null() {
                    return Ddb::Nothing;
                }
                let obj = *(counter.add(server.facts.counter.p) as *const *const Obj);
                if obj.is_null() {
                    return Ddb::Nothing;
                }
                super::read::read(ObjRef::new(server, obj))
            })
            .collect()
    }
}

/// What `version()` reports about the server.
pub struct ServerInfo {
    /// The server's version string (`Util::VER`).
    pub version: String,
    /// The facts in use, e.g. "2.00.16".
    pub facts: &'static str,
    /// "standard" or "Linux_ABI (cxx11)".
    pub flavour: &'static str,
    /// What the load-time self-check verified.
    pub self_check: String,
    /// The server's exception types in use, or what replaces them.
    pub exceptions: String,
}

/// The server as resolved at the first call, or why it could not be.
pub fn server_info() -> Result<ServerInfo, String> {
    let cxx = Cxx::get().ok_or("no C++ runtime in this process")?;
    let s = server::get(cxx)?;
    let exceptions = match (s.runtime_exception, s.illegal_argument) {
        (Some(_), Some(_)) => {
            "RuntimeException, IllegalArgumentException (the server's own)".into()
        }
        (Some(_), None) => "RuntimeException (the server exports no IllegalArgumentException: \
                            argument errors are raised as RuntimeException)"
            .into(),
        _ => "std::runtime_error (the server exports no RuntimeException)".into(),
    };
    Ok(ServerInfo {
        version: s.version.clone(),
        facts: s.facts.version,
        flavour: s.facts.flavour.name(),
        self_check: s.self_check.clone(),
        exceptions,
    })
}

/// Declares the exported entry points of the plugin functions (from the declarations of
/// `with_plugin_functions!`): for each, a function with the server's calling convention
/// (`ConstantSP f(Heap*, std::vector<ConstantSP>&)`, see [`entry_shim!`](crate::entry_shim))
/// that hands its arguments to the surface's `run::<symbol>` through [`call`].
#[macro_export]
macro_rules! ddb_entry_points {
    ($($symbol:ident: $name:ident = $($handler:ident)::+ (
        $($req:ident: $rty:ty),* ; $($opt:ident: $oty:ty),*
    );)*) => {
        /// The entry points' bodies, in the x86_64 argument order (return slot first).
        #[allow(non_snake_case)]
        mod entry_bodies {
            $(
                /// # Safety
                /// Called only through the exported shim, with the server's arguments.
                pub unsafe extern "C-unwind" fn $symbol(
                    ret: $crate::abi::ReturnSlot,
                    heap: *mut ::std::ffi::c_void,
                    args: *const $crate::abi::ArgVector,
                ) -> $crate::abi::ReturnSlot {
                    // SAFETY: called by the server with its hidden return slot, heap and
                    // argument vector.
                    unsafe {
                        $crate::abi::call(
                            ret,
                            heap,
                            args,
                            concat!("httpClient::", stringify!($name)),
                            $crate::surface::run::$symbol,
                        )
                    }
                }
            )*
        }
        $( $crate::entry_shim!($symbol, entry_bodies::$symbol); )*
    };
}

/// The exported entry points of the functions of the surface's table.
mod exports {
    crate::with_plugin_functions!(crate::ddb_entry_points);
}
