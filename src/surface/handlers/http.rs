//! `httpGet / httpPost / httpPut / httpDelete(url, [params], [timeout], [headers], [config])`.
use crate::abi::Out;
use crate::core::http::{self, HttpConfig, Method, Params, Request};
use crate::surface::args::{Args, Config, Failure, Result, TextOrDict};

pub fn get(args: &Args) -> Result<Out> {
    call(Method::Get, args)
}
pub fn post(args: &Args) -> Result<Out> {
    call(Method::Post, args)
}
pub fn put(args: &Args) -> Result<Out> {
    call(Method::Put, args)
}
pub fn delete(args: &Args) -> Result<Out> {
    call(Method::Delete, args)
}

/// Converts the five arguments into a request (argument errors are IllegalArgument).
pub fn request(method: Method, args: &Args) -> Result<Request> {
    let url: String = args.required(0, "url")?;
    if url.trim().is_empty() {
        return Err(Failure::argument("url must not be empty"));
    }
    if url.contains(['\r', '\n']) {
        return Err(Failure::argument("url must not contain CR or LF"));
    }
    let params = args.optional::<TextOrDict>(1, "params")?.map(|p| match p {
        TextOrDict::Text(t) => Params::Raw(t),
        TextOrDict::Dict(d) => Params::Pairs(d),
    });
    let timeout_ms = match args.optional::<i64>(2, "timeout")? {
        None => 0,
        Some(t) if t < 0 => {
            return Err(Failure::argument(format!(
                "timeout must be a non-negative number of milliseconds, but got {t}"
            )))
        }
        Some(t) => t as u64,
    };
    let headers = match args.optional::<TextOrDict>(3, "headers")? {
        // an empty header string means "no headers", as officially
        None => Vec::new(),
        Some(TextOrDict::Text(t)) if t.is_empty() => Vec::new(),
        Some(TextOrDict::Text(t)) => vec![http::parse_header_string(&t)
            .map_err(|e| Failure::argument(format!("headers: {e}")))?],
        Some(TextOrDict::Dict(d)) => d
            .into_iter()
            .map(|(k, v)| {
                let k = String::from_utf8(k)
                    .map_err(|_| Failure::argument("headers: names must be UTF-8 text"))?;
                let v = String::from_utf8(v)
                    .map_err(|_| Failure::argument("headers: values must be UTF-8 text"))?;
                http::validate_header(&k, &v)
                    .map_err(|e| Failure::argument(format!("headers: {e}")))?;
                Ok((k, v))
            })
            .collect::<Result<_>>()?,
    };
    let config = match args.optional::<Config>(4, "config")? {
        None => HttpConfig::default(),
        Some(Config(entries)) => HttpConfig::from_entries(&entries)
            .map_err(|e| Failure::argument(format!("config: {e}")))?,
    };
    Ok(Request {
        method,
        url,
        params,
        timeout_ms,
        headers,
        config,
    })
}

/// The official plugin's result: responseCode, headers (raw block), text, elapsed.
pub fn response_dict(r: http::Response) -> Out {
    Out::Dict(vec![
        ("responseCode".into(), Out::Int(i32::from(r.status))),
        ("headers".into(), Out::Str(r.headers)),
        ("text".into(), Out::Str(r.body)),
        ("elapsed".into(), Out::Double(r.elapsed)),
    ])
}

fn call(method: Method, args: &Args) -> Result<Out> {
    let req = request(method, args)?;
    let resp = http::execute(&req)?;
    Ok(response_dict(resp))
}
