//! Core: plain, safe Rust. No DolphinDB types here; the surface converts to and from them.
//!
//! - [`http`], [`email`], [`messaging`]: what the plugin functions do;
//! - [`delivery`]: pacing, retries and the asynchronous queue of alerts;
//! - [`config`]: the one reader of `config` / `options` dictionaries;
//! - [`error`]: the one error type; [`log`]: what the plugin logs; [`stats`]: call counters.
#![forbid(unsafe_code)]
pub mod config;
pub mod delivery;
pub mod email;
pub mod error;
pub mod http;
pub mod log;
pub mod messaging;
pub mod stats;

pub use error::Error;
