//! The plugin surface: one declarative table of the functions DolphinDB scripts call.
//! From it come the exported entry points, the argument-count checks, and the
//! descriptor file (`PluginHttpClient.txt`) for each server version.
pub mod args;
pub mod descriptor;
pub mod handlers;

use crate::abi::{Caller, Ddb, Out, Outcome};
use args::{Args, Failure};

/// The module name scripts use: `httpClient::httpGet(...)`.
pub const MODULE: &str = "httpClient";
/// The library file the descriptor names.
pub const LIBRARY: &str = "libPluginHttpClient.so";

/// One plugin function: descriptor facts and its handler.
pub struct PluginFunction {
    pub name: &'static str,
    pub symbol: &'static str,
    pub min_args: usize,
    pub max_args: usize,
    pub syntax: &'static str,
    pub handler: fn(&Args) -> args::Result<Out>,
}

/// Checks the argument count, runs the handler, and prefixes any error with
/// `httpClient::<name>: `.
fn dispatch(f: &PluginFunction, values: &[Ddb]) -> Outcome {
    // Test builds only: HTTPCLIENT_PANIC_PROBE=<function> makes that function panic, so
    // the tests can prove a panic becomes an exception instead of aborting the server.
    #[cfg(debug_assertions)]
    if std::env::var("HTTPCLIENT_PANIC_PROBE").is_ok_and(|v| v == f.name) {
        panic!("panic probe in {}", f.name);
    }
    let args = Args::new(values);
    let result = if args.len() < f.min_args || args.len() > f.max_args {
        Err(Failure::argument(format!(
            "expects {}~{} argument(s), but got {}",
            f.min_args,
            f.max_args,
            args.len()
        )))
    } else {
        (f.handler)(&args)
    };
    result.map_err(|e| {
        (
            e.kind,
            format!("{MODULE}::{}: {}", f.name, printable(&e.message)),
        )
    })
}

/// Control characters (a CR/LF echoed from a bad argument, say) are shown escaped, so
/// an error message stays one line in the server's log and cannot forge log lines.
fn printable(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for c in message.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_messages_are_one_line() {
        assert_eq!(super::printable("key 'a\r\nb\0'"), "key 'a\\r\\nb\\u{0}'");
        assert_eq!(super::printable("中文 ok"), "中文 ok");
    }
}

macro_rules! plugin_functions {
    ($($symbol:ident: $name:literal, $min:literal..=$max:literal, $syntax:literal => $handler:path;)*) => {
        /// The functions' descriptor facts and handlers, one static each.
        mod table {
            use super::*;
            $(
                #[allow(non_upper_case_globals)]
                pub static $symbol: PluginFunction = PluginFunction {
                    name: $name,
                    symbol: stringify!($symbol),
                    min_args: $min,
                    max_args: $max,
                    syntax: $syntax,
                    handler: $handler,
                };
            )*
        }

        /// Every function of the plugin, in descriptor order.
        pub static FUNCTIONS: &[&PluginFunction] = &[$(&table::$symbol),*];

        mod run {
            use super::*;
            $(
                #[allow(non_snake_case)]
                pub fn $symbol(values: &[Ddb], _caller: &Caller<'_>) -> Outcome {
                    dispatch(&table::$symbol, values)
                }
            )*
        }

        crate::ddb_entry_points! {
            $($symbol => concat!("httpClient::", $name), run::$symbol;)*
        }
    };
}

plugin_functions! {
    ddbHttpClient_httpGet: "httpGet", 1..=5, "(url, [params], [timeout], [headers], [config])" => handlers::http::get;
    ddbHttpClient_httpPost: "httpPost", 1..=5, "(url, [params], [timeout], [headers], [config])" => handlers::http::post;
    ddbHttpClient_httpPut: "httpPut", 1..=5, "(url, [params], [timeout], [headers], [config])" => handlers::http::put;
    ddbHttpClient_httpDelete: "httpDelete", 1..=5, "(url, [params], [timeout], [headers], [config])" => handlers::http::delete;
    ddbHttpClient_sendEmail: "sendEmail", 5..=6, "(userId, pwd, recipient, subject, body, [msg])" => handlers::email::send;
    ddbHttpClient_emailSmtpConfig: "emailSmtpConfig", 2..=4, "(emailName, host, [port], [options])" => handlers::email::smtp_config;
    ddbHttpClient_wecomSend: "wecomSend", 4..=5, "(corpId, corpSecret, api, body, [config])" => handlers::messaging::wecom;
    ddbHttpClient_dingtalkSend: "dingtalkSend", 3..=5, "(appKey, appSecret, api, [body], [config])" => handlers::messaging::dingtalk;
    ddbHttpClient_robotSend: "robotSend", 3..=5, "(kind, webhook, content, [secret], [config])" => handlers::messaging::robot;
    ddbHttpClient_version: "version", 0..=0, "()" => handlers::version::version;
}
