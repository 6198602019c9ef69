//! The DolphinDB ABI: the only code that knows the server's C++ object model, driven by
//! the facts of the running server's version, C++ string ABI and target. Everything above
//! this module sees plain Rust values (`Ddb` in, `Out` back) and never a raw pointer.
//! All of the crate's `unsafe` code lives in this folder: the DolphinDB side, and the C
//! API's pointer handling (`c_api`); `core` and `surface` forbid it.
pub mod c_api;
mod cxx;
mod entry;
pub mod facts;
mod guard;
mod make;
mod object;
mod read;
mod self_check;
mod server;
mod session;
mod sret;
mod throw;
mod value;

pub use entry::{call, server_info, ArgVector, Handler, Outcome, ReturnSlot, ServerInfo};
pub use session::Caller;
pub use value::{Category, ColumnValues, Ddb, ErrorKind, Out, Scalar, TypeInfo};
