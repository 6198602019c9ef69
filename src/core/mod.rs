//! Core: plain, safe Rust. No DolphinDB types here; the surface converts to and from them.
pub mod config;
pub mod email;
pub mod error;
pub mod http;
pub mod messaging;

pub use error::Error;
