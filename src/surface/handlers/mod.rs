//! One module per group of plugin functions: typed parameters in (converted by the
//! table's declarations), the core called, a typed result out (returned with `IntoDdb`).
pub mod alerting;
pub mod email;
pub mod http;
pub mod messaging;
pub mod ops;
