//! One module per group of plugin functions: convert arguments, call the core, shape the
//! result dictionary.
pub mod email;
pub mod http;
pub mod messaging;
pub mod version;
