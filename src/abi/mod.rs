//! The DolphinDB ABI: the only code that knows the server's C++ object model, driven by
//! the facts of the running server's version. Everything above this module sees plain
//! Rust values (`Ddb` in, `Out` back) and never a raw pointer.
mod cxx;
mod entry;
pub mod facts;
mod make;
mod object;
mod read;
mod server;
mod throw;
mod value;

pub use entry::{call, server_info, ArgVector, Outcome, ReturnSlot};
pub use value::{Ddb, ErrorKind, Out};
