//! DolphinDB `httpClient` plugin in Rust.
//!
//! Layers (dependencies point downwards only):
//! - [`surface`]: the exported plugin functions, argument conversion, the panic/error guard;
//! - [`core`]: HTTP, e-mail and messaging in safe Rust, no DolphinDB types;
//! - [`abi`]: the only `unsafe` code, the DolphinDB C++ object model driven by facts files;
//! - [`capi`]: the core exposed as a C API (its pointer handling lives in `abi`).
#![deny(unsafe_op_in_unsafe_fn)]
// The library must be named libPluginHttpClient.so, as DolphinDB users know it.
#![allow(non_snake_case)]

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
compile_error!(
    "the DolphinDB ABI layer speaks the Itanium C++ ABI of x86_64 and AArch64 Linux only"
);

pub mod abi;
pub mod core;
pub mod surface;

/// The C API (`include/httpclient.h`): the HTTP core for C and C++ callers.
pub use abi::c_api as capi;
