//! The plugin surface: one declarative table of the functions DolphinDB scripts call.
//! Each line names the exported symbol, the function, its handler and its parameters
//! (required ones before the `;`, optional ones after) with their types; from it come the
//! exported entry points, the argument counts and conversions, the descriptor file
//! (`PluginHttpClient.txt`) of each server version and the function reference's list.
#![forbid(unsafe_code)]
pub mod descriptor;
pub mod from_ddb;
pub mod function;
pub mod handlers;
pub mod into_ddb;
pub mod json;

use crate::abi::{Caller, Ddb, Outcome};
use crate::core::email::{EmailOptions, SmtpOptions};
use crate::core::http::{HttpConfig, RequestUrl};
use crate::core::log::Level;
use crate::core::messaging::{Body, MessagingConfig, RobotKind};
pub use from_ddb::{
    Config, Count, FromArg, Headers, LogFile, Maybe, Millis, ParamsArg, Port, Recipients, Webhooks,
};
pub use function::{dispatch, Param, PluginFunction};
use handlers::{alerting, email, http, messaging, ops};
pub use into_ddb::IntoDdb;

/// The module name scripts use: `httpClient::httpGet(...)`.
pub const MODULE: &str = "httpClient";
/// The library file the descriptor names.
pub const LIBRARY: &str = "libPluginHttpClient.so";

/// The plugin's functions, declared once: `symbol: name = handler(required params;
/// optional params)`, each parameter with the type it is converted to. Two consumers read
/// it: [`plugin_functions!`](crate::plugin_functions) here (the table, the conversions)
/// and the ABI layer's `ddb_entry_points!` (the exported entry points, where the unsafe
/// code of the calling convention lives).
#[macro_export]
macro_rules! with_plugin_functions {
    ($callback:path) => {
        $callback! {
            ddbHttpClient_httpGet: httpGet = http::get(url: RequestUrl;
                params: Option<ParamsArg>, timeout: Option<Millis>, headers: Option<Headers>, config: Option<Config<HttpConfig>>);
            ddbHttpClient_httpPost: httpPost = http::post(url: RequestUrl;
                params: Option<ParamsArg>, timeout: Option<Millis>, headers: Option<Headers>, config: Option<Config<HttpConfig>>);
            ddbHttpClient_httpPut: httpPut = http::put(url: RequestUrl;
                params: Option<ParamsArg>, timeout: Option<Millis>, headers: Option<Headers>, config: Option<Config<HttpConfig>>);
            ddbHttpClient_httpDelete: httpDelete = http::delete(url: RequestUrl;
                params: Option<ParamsArg>, timeout: Option<Millis>, headers: Option<Headers>, config: Option<Config<HttpConfig>>);
            ddbHttpClient_sendEmail: sendEmail = email::send(userId: String, pwd: String, recipient: Recipients,
                subject: Maybe<Vec<u8>>, body: Maybe<Vec<u8>>; msg: Maybe<Vec<u8>>, options: Option<Config<EmailOptions>>);
            ddbHttpClient_emailSmtpConfig: emailSmtpConfig = email::smtp_config(emailName: String, host: String;
                port: Option<Port>, options: Option<Config<SmtpOptions>>);
            ddbHttpClient_wecomSend: wecomSend = messaging::wecom(corpId: String, corpSecret: String, api: String, body: Body;
                config: Option<Config<MessagingConfig>>);
            ddbHttpClient_dingtalkSend: dingtalkSend = messaging::dingtalk(appKey: String, appSecret: String, api: String;
                body: Option<Body>, config: Option<Config<MessagingConfig>>);
            ddbHttpClient_robotSend: robotSend = messaging::robot(kind: RobotKind, webhook: Webhooks, content: Body;
                secret: Option<String>, config: Option<Config<MessagingConfig>>);
            ddbHttpClient_version: version = ops::version(;);
            ddbHttpClient_flush: flush = alerting::flush(; timeout: Option<Millis>);
            ddbHttpClient_deliveries: deliveries = alerting::deliveries(; count: Option<Count>);
            ddbHttpClient_stats: stats = ops::stats(;);
            ddbHttpClient_setLogLevel: setLogLevel = ops::set_log_level(level: Level; file: LogFile);
        }
    };
}

crate::with_plugin_functions!(crate::plugin_functions);
