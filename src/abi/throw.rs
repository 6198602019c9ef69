//! Raising DolphinDB exceptions: an object of the server's own `RuntimeException` or
//! `IllegalArgumentException` type (layout from the facts, vtable and typeinfo from the
//! server), thrown with `__cxa_throw`, so the server reports what() as the script error.
//! A server that does not export IllegalArgumentException gets a RuntimeException; one
//! that exports neither, a `std::runtime_error` (what() is shown all the same).
use super::cxx::{DtorFn, StdString};
use super::facts::ExceptionLayout;
use super::server::{ExceptionType, Server};
use super::value::ErrorKind;

/// Throws the server exception for `kind` with `message`; `function` names the plugin
/// function (IllegalArgumentException's functionName).
///
/// Call only from a frame that holds no Rust value needing drop: the exception unwinds
/// straight into the server.
pub(crate) fn throw(server: &Server, kind: ErrorKind, function: &str, message: &str) -> ! {
    let facts = server.facts;
    let runtime = |t: ExceptionType| (&facts.runtime_exception, t);
    let chosen: Option<(&ExceptionLayout, ExceptionType)> = match kind {
        ErrorKind::IllegalArgument => server
            .illegal_argument
            .map(|t| (&facts.illegal_argument_exception, t))
            .or_else(|| server.runtime_exception.map(runtime)),
        ErrorKind::Runtime => server.runtime_exception.map(runtime),
    };
    let Some((layout, ty)) = chosen else {
        server.cxx.throw_runtime_error(message)
    };
    let cxx = server.cxx;
    let strings = server.strings;
    let obj = cxx.alloc_exception(layout.size);
    // SAFETY: obj has layout.size zeroed bytes. The object is laid out as the facts say:
    // the vtable pointer (address point = vtable symbol + 2 words), then std::strings of
    // the server's ABI at the listed offsets, each constructed by libstdc++. Slot 0 of a
    // std::exception subclass's vtable is its complete-object destructor, which the
    // runtime calls when the server's handler is done with the exception.
    unsafe {
        let address_point = ty.vtable.add(2 * std::mem::size_of::<usize>());
        *(obj as *mut *const u8) = address_point;
        for &off in layout.strings {
            let text: &[u8] = if off == layout.message {
                message.as_bytes()
            } else if Some(off) == layout.function {
                function.as_bytes()
            } else {
                b""
            };
            strings.init(obj.add(off) as *mut StdString, text);
        }
        let dtor: DtorFn =
            std::mem::transmute::<*const u8, DtorFn>(*(address_point as *const *const u8));
        cxx.throw(obj, ty.typeinfo, dtor)
    }
}
