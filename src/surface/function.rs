//! A plugin function as declared once in the table of `surface/mod.rs`: its name, its
//! parameters (from which the argument counts, the syntax text and the conversions come)
//! and its handler; and `dispatch`, which every call goes through.
use super::MODULE;
use crate::abi::{Caller, Ddb, ErrorKind, Handler, Outcome};
use crate::core::error::{Cause, Error, Kind};
use crate::core::{log, stats};
use std::time::Instant;

/// One declared parameter.
#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    /// May be left out (trailing positions of the descriptor's `[...]`).
    pub optional: bool,
}

/// One plugin function.
pub struct PluginFunction {
    pub name: &'static str,
    /// The exported symbol the descriptor names.
    pub symbol: &'static str,
    pub params: &'static [Param],
    pub run: Handler,
}

impl PluginFunction {
    pub fn min_args(&self) -> usize {
        self.params.iter().filter(|p| !p.optional).count()
    }

    pub fn max_args(&self) -> usize {
        self.params.len()
    }

    /// `(url, [params], [timeout], [headers], [config])`.
    pub fn syntax(&self) -> String {
        let parts: Vec<String> = self
            .params
            .iter()
            .map(|p| {
                if p.optional {
                    format!("[{}]", p.name)
                } else {
                    p.name.to_string()
                }
            })
            .collect();
        format!("({})", parts.join(", "))
    }
}

/// Control characters (a CR/LF echoed from a bad argument, say) are shown escaped, so
/// an error message stays one line in the server's log and cannot forge log lines.
pub(crate) fn printable(message: &str) -> String {
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

/// Runs one call of `f`: writes waiting log lines to the server log, checks the argument
/// count, converts and runs (`body`), counts it for `stats()`, logs a failure, and turns
/// an error into the exception kind and the message `httpClient::<name>: ...`.
pub fn dispatch(
    f: &PluginFunction,
    values: &[Ddb],
    caller: &Caller<'_>,
    body: impl FnOnce(&[Ddb]) -> crate::core::error::Result<crate::abi::Out>,
) -> Outcome {
    if log::has_server_lines() {
        let lines = log::take_server_lines();
        if let Err(unwritten) = caller.write_log(lines) {
            log::restore_server_lines(unwritten);
        }
    }
    // Test builds only: HTTPCLIENT_PANIC_PROBE=<function> makes that function panic, so
    // the tests can prove a panic becomes an exception instead of aborting the server.
    #[cfg(debug_assertions)]
    if std::env::var("HTTPCLIENT_PANIC_PROBE").is_ok_and(|v| v == f.name) {
        panic!("panic probe in {}", f.name);
    }
    let started = Instant::now();
    let result = if values.len() < f.min_args() || values.len() > f.max_args() {
        Err(Error::argument(format!(
            "expects {}~{} argument(s), but got {}",
            f.min_args(),
            f.max_args(),
            values.len()
        )))
    } else {
        body(values)
    };
    let outcome = match &result {
        Ok(_) => stats::Outcome::Ok,
        Err(e) if e.cause() == Cause::Timeout => stats::Outcome::Timeout,
        Err(_) => stats::Outcome::Error,
    };
    stats::record(f.name, started.elapsed(), outcome);
    result.map_err(|e| {
        let message = format!("{MODULE}::{}: {}", f.name, printable(&e.message()));
        match e.kind() {
            Kind::Argument => {
                log::debug(&message);
                (ErrorKind::IllegalArgument, message)
            }
            Kind::Runtime => {
                log::warning(&message);
                (ErrorKind::Runtime, message)
            }
        }
    })
}

/// From the declarations of `with_plugin_functions!`: the static [`PluginFunction`]s,
/// `FUNCTIONS` in descriptor order, and each call's conversions (module `run`): a
/// parameter `p: T` is read with `<T as FromArg>::from_arg`, the handler's result
/// returned with `IntoDdb`.
#[macro_export]
macro_rules! plugin_functions {
    ($($symbol:ident: $name:ident = $($handler:ident)::+ (
        $($req:ident: $rty:ty),* ; $($opt:ident: $oty:ty),*
    );)*) => {
        /// The functions' declarations, one static each.
        #[allow(non_upper_case_globals)]
        mod table {
            use super::*;
            $(
                pub static $symbol: PluginFunction = PluginFunction {
                    name: stringify!($name),
                    symbol: stringify!($symbol),
                    params: &[
                        $(Param { name: stringify!($req), optional: false },)*
                        $(Param { name: stringify!($opt), optional: true },)*
                    ],
                    run: super::run::$symbol,
                };
            )*
        }

        /// Every function of the plugin, in descriptor order.
        pub static FUNCTIONS: &[&PluginFunction] = &[$(&table::$symbol),*];

        /// Each function's call: conversions in, handler, conversion out.
        #[allow(non_snake_case)]
        pub mod run {
            use super::*;
            $(
                pub fn $symbol(values: &[Ddb], caller: &Caller<'_>) -> Outcome {
                    dispatch(&table::$symbol, values, caller, |values| {
                        #[allow(unused_mut, unused_variables)]
                        let mut args = values.iter();
                        let out = $($handler)::+(
                            $(<$rty as FromArg>::from_arg(args.next(), stringify!($req))?,)*
                            $(<$oty as FromArg>::from_arg(args.next(), stringify!($opt))?,)*
                        )?;
                        Ok(IntoDdb::into_ddb(out))
                    })
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_messages_are_one_line() {
        assert_eq!(super::printable("key 'a\r\nb\0'"), "key 'a\\r\\nb\\u{0}'");
        assert_eq!(super::printable("中文 ok"), "中文 ok");
    }
}
