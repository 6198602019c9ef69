//! The calling session: what a plugin function may do through the `Heap*` the server passes
//! with every call.
use super::server::Server;
use std::ffi::c_void;

/// The server-side context of one call.
pub struct Caller<'a> {
    #[allow(dead_code)]
    server: &'a Server,
    #[allow(dead_code)]
    heap: *mut c_void,
}

impl<'a> Caller<'a> {
    pub(crate) fn new(server: &'a Server, heap: *mut c_void) -> Caller<'a> {
        Caller { server, heap }
    }
}
