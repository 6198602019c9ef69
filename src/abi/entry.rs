//! The one place every plugin function passes through: arguments in, result or
//! exception out, panics caught. Entry points are `extern "C-unwind"` so that the
//! exception thrown here may unwind into the server.
use super::cxx::Cxx;
use super::object::ObjRef;
use super::server::{self, Obj};
use super::value::{Ddb, ErrorKind, Out};
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

/// Runs `handler` for a call from the server and stores its result in `ret`, or throws.
///
/// # Safety
/// Must be called from an exported `extern "C-unwind"` entry point with the hidden return
/// pointer and the argument vector the server passed.
pub unsafe fn call(
    ret: ReturnSlot,
    args: *const ArgVector,
    function: &str,
    handler: fn(&[Ddb]) -> Outcome,
) -> ReturnSlot {
    let Some(cxx) = Cxx::get() else {
        // Not inside a C++ process: nothing can be thrown or built.
        eprintln!("{function}: no C++ runtime in this process");
        std::process::abort();
    };
    let server = match server::get(cxx) {
        Ok(s) => s,
        Err(message) => cxx.throw_runtime_error(&format!("{function}: {message}")),
    };
    let result = catch_unwind(AssertUnwindSafe(
        || -> Result<*mut u8, (ErrorKind, String)> {
            // SAFETY: the server passes a live vector of live smart pointers for the call.
            let values: Vec<Ddb> = unsafe { read_args(server, args) };
            let out = handler(&values)?;
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

/// The server version and the facts version in use, or why there are none.
pub fn server_info() -> Result<(String, &'static str), String> {
    let cxx = Cxx::get().ok_or("no C++ runtime in this process")?;
    let s = server::get(cxx)?;
    Ok((s.version.clone(), s.facts.version))
}

/// Declares the exported entry points of the plugin functions: for each, an
/// `extern "C-unwind"` function with the server's calling convention
/// (`ConstantSP f(Heap*, std::vector<ConstantSP>&)`: hidden return pointer first) that
/// hands its arguments to `$run` through [`call`].
#[macro_export]
macro_rules! ddb_entry_points {
    ($($symbol:ident => $function:expr, $run:path;)*) => {$(
        /// # Safety
        /// Called only by the DolphinDB server, with its return slot and arguments.
        #[no_mangle]
        pub unsafe extern "C-unwind" fn $symbol(
            ret: $crate::abi::ReturnSlot,
            _heap: *mut ::std::ffi::c_void,
            args: *const $crate::abi::ArgVector,
        ) -> $crate::abi::ReturnSlot {
            // SAFETY: called by the server with its hidden return slot and argument vector.
            unsafe { $crate::abi::call(ret, args, $function, $run) }
        }
    )*};
}
