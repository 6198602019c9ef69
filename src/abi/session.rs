//! The calling session: what a plugin function may do through the `Heap*` the server passes
//! with every call. Here: write lines to the server's log with the built-in `writeLog`,
//! called in the caller's session (`heap->currentSession()->getFunctionDef("writeLog")
//! ->call(heap, args)`), the way a script would. The server's Logger itself is inline
//! template code around a queue of std::string, which a plugin cannot safely drive from
//! Rust; `writeLog` is its public door. It throws for a session that is not logged in, so
//! the call is guarded (guard.rs): a refusal leaves the lines for a later call.
use super::cxx::StdString;
use super::guard::guarded;
use super::make;
use super::object::{vslot, Sp};
use super::server::{Obj, Server};
use std::ffi::c_void;

/// The server-side context of one call.
pub struct Caller<'a> {
    server: &'a Server,
    heap: *mut c_void,
}

/// `std::vector<ConstantSP>` as libstdc++ lays it out, passed by non-const reference.
#[repr(C)]
struct SpVector {
    begin: *mut *mut u8,
    end: *mut *mut u8,
    end_of_storage: *mut *mut u8,
}

/// Room for a std::string of either ABI.
#[repr(C, align(16))]
struct StringBuf([u8; 32]);

impl<'a> Caller<'a> {
    pub(crate) fn new(server: &'a Server, heap: *mut c_void) -> Caller<'a> {
        Caller { server, heap }
    }

    /// Writes `lines` to the server's log (each an INFO line, as `writeLog` writes);
    /// gives them back when the session cannot (no session, not logged in, no writeLog).
    pub fn write_log(&self, lines: Vec<String>) -> Result<(), Vec<String>> {
        if lines.is_empty() {
            return Ok(());
        }
        if self.heap.is_null() {
            return Err(lines);
        }
        let server = self.server;
        let facts = server.facts;
        // SAFETY: the heap the server passed for this call; Heap::currentSession() is
        // inline and reads the pointer at the facts' offset.
        let session =
            unsafe { *((self.heap as *const u8).add(facts.heap_session) as *const *const Obj) };
        if session.is_null() {
            return Err(lines);
        }
        let mut scalars = Vec::with_capacity(lines.len());
        for line in &lines {
            match make::string(server, line.as_bytes()) {
                Some(s) => scalars.push(s),
                None => return Err(lines),
            }
        }
        // The vector is the callee's to use as a vector<ConstantSP>&: its buffer comes from
        // operator new and its elements are references it owns, destroyed after the call
        // exactly as ~vector would, whatever the callee did with them, and whether or not
        // it threw.
        let n = scalars.len();
        let buf = server.cxx.alloc_zeroed(n * std::mem::size_of::<*mut u8>()) as *mut *mut u8;
        for (i, s) in scalars.into_iter().enumerate() {
            // SAFETY: buf has n slots.
            unsafe { *buf.add(i) = s.into_raw() };
        }
        let mut args = SpVector {
            begin: buf,
            // SAFETY: one past the last element.
            end: unsafe { buf.add(n) },
            // SAFETY: as above: the buffer holds exactly n.
            end_of_storage: unsafe { buf.add(n) },
        };
        let args_at = &mut args as *mut SpVector as usize;
        let heap = self.heap;
        let mut found = false;
        let strings = server.strings;
        let mut name = StringBuf([0; 32]);
        let name_at = name.0.as_mut_ptr() as *mut StdString;
        // set once the string is built: it is destroyed after the guarded call, also when
        // getFunctionDef throws
        let mut name_live = false;
        let outcome = guarded(server, || {
            let mut fd: *mut u8 = std::ptr::null_mut();
            // SAFETY: a std::string "writeLog" of the server's ABI is built in `name`;
            // Session::getFunctionDef(const string&) const returns a FunctionDefSP by
            // value into `fd` (slot from the facts).
            unsafe {
                strings.init(name_at, b"writeLog");
                name_live = true;
                super::sret::call(
                    vslot(session, facts.slots.session_get_function_def),
                    (&mut fd as *mut *mut u8).cast(),
                    session.cast(),
                    name_at as usize,
                    0,
                );
            }
            // SAFETY: fd is null or a FunctionDefSP's Counter whose reference is ours.
            let Some(fd) = (unsafe { Sp::from_returned(server, fd) }) else {
                return;
            };
            let def = fd.obj();
            if def.is_null() {
                return;
            }
            found = true;
            let mut ret: *mut u8 = std::ptr::null_mut();
            // SAFETY: FunctionDef::call(Heap*, vector<ConstantSP>&) returns a ConstantSP
            // by value into `ret` (slot from the facts), called on the live function
            // definition with the caller's heap and the vector built above.
            unsafe {
                super::sret::call(
                    vslot(def, facts.slots.function_def_call),
                    (&mut ret as *mut *mut u8).cast(),
                    def.cast(),
                    heap as usize,
                    args_at,
                );
                drop(Sp::from_returned(server, ret));
            }
        });
        if name_live {
            // SAFETY: `name` holds the std::string built above, destroyed once here.
            unsafe { strings.drop(name_at) };
        }
        // SAFETY: the vector's elements [begin, end) are references it owns, its buffer
        // operator new's (the callee may have replaced either, as a vector's owner may).
        unsafe {
            let mut p = args.begin;
            while p < args.end {
                drop(Sp::from_returned(server, *p));
                p = p.add(1);
            }
            if !args.begin.is_null() {
                server.cxx.free(args.begin as *mut u8);
            }
        }
        match outcome {
            Ok(()) if found => Ok(()),
            _ => Err(lines),
        }
    }
}
