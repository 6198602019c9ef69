//! `httpClient::version()`: what is loaded, into what.
use crate::abi::{self, facts, Out};
use crate::surface::args::{Args, Result};

pub fn version(_args: &Args) -> Result<Out> {
    let (server, abi_version) = match abi::server_info() {
        Ok(info) => (info.version, info.facts.to_string()),
        Err(e) => (format!("unknown ({e})"), "none".into()),
    };
    Ok(Out::Dict(vec![
        ("plugin".into(), Out::Str(env!("CARGO_PKG_VERSION").into())),
        ("server".into(), Out::Str(server.into_bytes())),
        ("abi".into(), Out::Str(abi_version.into_bytes())),
        (
            "supported".into(),
            Out::Str(facts::supported().into_bytes()),
        ),
        (
            "tls".into(),
            Out::Str("rustls (ring), Mozilla roots + system store".into()),
        ),
    ]))
}
