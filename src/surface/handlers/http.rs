//! `httpGet / httpPost / httpPut / httpDelete(url, [params], [timeout], [headers], [config])`.
use crate::core::error::Result;
use crate::core::http::{self, HttpConfig, Method, Request, RequestUrl, Response};
use crate::surface::{Config, Headers, Millis, ParamsArg};

fn call(
    method: Method,
    url: RequestUrl,
    params: Option<ParamsArg>,
    timeout: Option<Millis>,
    headers: Option<Headers>,
    config: Option<Config<HttpConfig>>,
) -> Result<Response> {
    let config = config.map(|c| c.0).unwrap_or_default();
    // config json: a dictionary body of POST/PUT goes as JSON; a GET/DELETE query stays
    // form-encoded
    let json = config.json && matches!(method, Method::Post | Method::Put);
    let params = params.map(|p| p.into_params(json)).transpose()?;
    http::execute(&Request {
        method,
        url,
        params,
        timeout_ms: timeout.map_or(0, |t| t.0),
        headers: headers.map(|h| h.0).unwrap_or_default(),
        config,
    })
}

/// The four functions differ only in their method.
macro_rules! method_handlers {
    ($($name:ident => $method:ident),*) => {$(
        pub fn $name(
            url: RequestUrl,
            params: Option<ParamsArg>,
            timeout: Option<Millis>,
            headers: Option<Headers>,
            config: Option<Config<HttpConfig>>,
        ) -> Result<Response> {
            call(Method::$method, url, params, timeout, headers, config)
        }
    )*};
}

method_handlers!(get => Get, post => Post, put => Put, delete => Delete);
