//! Shared test helpers (real local peers).
#![allow(dead_code)]
pub mod certs;
pub mod core_values;
pub mod host;
pub mod http_peer;
pub mod platform_emulator;
pub mod smtp_peer;
