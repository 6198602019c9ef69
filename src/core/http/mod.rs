//! HTTP core (reqwest, blocking, rustls): what `httpClient::httpGet/httpPost/httpPut/httpDelete`
//! do, without any DolphinDB type.
//!
//! - [`config`]: the typed `config` dictionary ([`HttpConfig`]);
//! - [`header`]: request header parsing/validation and the raw response header block;
//! - [`url`]: scheme defaulting, query building, percent-encoding;
//! - [`client_pool`]: one pooled `reqwest` client per distinct client-level configuration;
//! - [`errors`]: turning transport failures into errors that say what happened;
//! - [`tls`]: which servers are trusted (roots, caFile, certificates pinned by caFile);
//! - [`sockets`]: open connections per host, for `stats()`;
//! - [`response`]: reading a body incrementally under `maxResponseBytes`;
//! - [`request`]: [`execute`], tying it together.
//!
//! Error messages carry no `httpClient::<fn>:` prefix (the surface adds it) and never a
//! proxy password.
pub mod client_pool;
pub mod config;
pub mod errors;
pub mod header;
pub mod request;
pub mod response;
pub mod sockets;
pub mod tls;
pub mod url;

pub use config::HttpConfig;
pub use header::Header;
pub use request::{execute, Method, Params, Request, RequestUrl};
pub use response::Response;
