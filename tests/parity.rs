//! The parity table: the call shapes a script written for the official plugin contains —
//! taken from the official sources of every supported branch (release130.19 …
//! release300.3: httpClient.cpp `handleHttpRequest`, `getParamString`, `setHeaders`,
//! email.cpp `sendEmail`, `emailSmtpConfig`), from its own test scripts
//! (httpClient/test/httpTest.txt: URLs without a scheme, `httpGet(url,,1000,"k:v")`,
//! POST to a server answering 501, SYMBOL-keyed header dictionaries) and from its README
//! examples — each a row that cites the official behaviour it mirrors. Every row runs in
//! the test host of every supported server version, both C++ string ABIs.
//!
//! A row is `Same` (what the official plugin does), `Deliberate` (one of the differences
//! the README's migration notes list: TLS verified, CR/LF refused, unknown config keys
//! refused, SMTP ports), or `Extension` (the official plugin refuses the shape with an
//! error; it is accepted here, so no working script can depend on it).
#[path = "common/certs.rs"]
mod certs;
#[path = "common/host.rs"]
mod host;
#[path = "common/http_peer.rs"]
mod http_peer;
#[path = "common/smtp_peer.rs"]
mod smtp_peer;

use http_peer::{HttpPeer, RecordedRequest};
use serde_json::Value;
use smtp_peer::{Received, SmtpPeer};
use std::collections::HashMap;

/// How a row relates to the official plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Official {
    Same,
    /// A difference the README's migration notes list (the text says which).
    Deliberate(&'static str),
    /// Refused officially (with an error), accepted here.
    Extension(&'static str),
}

/// What the row must produce.
enum Expect {
    /// A result (the JSON the host printed) and what the peers received.
    Ok(fn(&Value, &Seen) -> Result<(), String>),
    /// An exception of this class whose message contains the text.
    Err(&'static str, &'static str),
}

/// What the peers received for one row.
struct Seen {
    /// HTTP requests whose path is the row's own path.
    requests: Vec<RecordedRequest>,
    /// Mails whose subject carries the row's tag.
    mails: Vec<Received>,
}

struct Row {
    /// The call, with placeholders: `{url}` the row's own echo URL on the HTTP peer,
    /// `{bare}` the same without `http://`, `{peer}` the peer's base URL, `{tls}` its
    /// HTTPS base URL, `{user}` `{pwd}` `{to}` `{to2}` the SMTP account and recipients,
    /// `{tag}` the row's tag (for subjects).
    call: &'static str,
    /// The official behaviour, with its source.
    official: &'static str,
    relation: Official,
    expect: Expect,
    /// The row needs DECIMAL types (2.00.x, 3.00.x, 1.30.22+).
    needs_decimal: bool,
}

fn request(s: &Seen) -> Result<&RecordedRequest, String> {
    match s.requests.as_slice() {
        [r] => Ok(r),
        other => Err(format!(
            "expected one request, the peer got {}",
            other.len()
        )),
    }
}

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

fn entry_type<'a>(v: &'a Value, key: &str) -> Option<(&'a str, &'a Value)> {
    let e = v.get(key)?;
    Some((e.get(0)?.as_str()?, e.get(1)?))
}

/// The official result dictionary: responseCode INT, headers STRING, text STRING, elapsed
/// DOUBLE.
fn http_result(v: &Value, code: i64) -> Result<(), String> {
    check(
        entry_type(v, "responseCode") == Some(("INT", &Value::from(code)))
            && entry_type(v, "headers").is_some_and(|(t, _)| t == "STRING")
            && entry_type(v, "text").is_some_and(|(t, _)| t == "STRING")
            && entry_type(v, "elapsed").is_some_and(|(t, _)| t == "DOUBLE"),
        || format!("not the official result shape with status {code}: {v}"),
    )
}

fn get_query(v: &Value, s: &Seen, query: &str) -> Result<(), String> {
    http_result(v, 200)?;
    let r = request(s)?;
    check(r.method == "GET" && r.query() == query, || {
        format!("want GET ?{query}, got {} {}", r.method, r.path_and_query)
    })
}

fn rows() -> Vec<Row> {
    use Expect::{Err as E, Ok as O};
    use Official::{Deliberate, Extension, Same};
    let row = |call, official, relation, expect| Row {
        call,
        official,
        relation,
        expect,
        needs_decimal: false,
    };
    vec![
        // ----- httpGet / httpDelete: url and params --------------------------------------
        row(
            "httpGet(\"{bare}\", {\"name\": \"dolphindb\", \"id\": \"111\"}, 1000)",
            "test/httpTest.txt test_http_params_get: url \"127.0.0.1:8900\" without scheme, dict(string,string) params appended as key=value&...",
            Same,
            O(|v, s| get_query(v, s, "name=dolphindb&id=111")),
        ),
        row(
            "httpGet(\"{url}\", \"dolphindb,helloworld,123\", 1000)",
            "test/httpTest.txt: STRING params appended after '?' (httpRequest: urlString += \"?\" + params)",
            Same,
            O(|v, s| get_query(v, s, "dolphindb,helloworld,123")),
        ),
        row(
            "httpGet(\"{url}\", {\"trade date\": \"2024.01.02 09:30\"}, 1000)",
            "getParamString: output += key->getString() (raw); output += urlencode::EncodeString(value->getString()) (release300.3)",
            Deliberate("query keys are percent-encoded like values"),
            O(|v, s| get_query(v, s, "trade%20date=2024.01.02%2009%3A30")),
        ),
        row(
            "httpGet(\"{url}\", {\"id\": 111, \"px\": 1.5}, 1000)",
            "getParamString: every value rendered with the server's getString(); only the key type is checked (release300.3)",
            Same,
            O(|v, s| get_query(v, s, "id=111&px=1.5")),
        ),
        row(
            "httpGet(\"{url}\", {\"d\": 2024.01.02, \"t\": 2024.01.02T09:30:00.000, \"s\": `abc, \"b\": true, \"f\": 2.5f, \"h\": 7h}, 1000)",
            "getParamString: DATE/TIMESTAMP/SYMBOL/BOOL/FLOAT/SHORT values as getString() renders them, urlencoded (':' -> %3A)",
            Same,
            O(|v, s| {
                get_query(
                    v,
                    s,
                    "d=2024.01.02&t=2024.01.02T09%3A30%3A00.000&s=abc&b=true&f=2.5&h=7",
                )
            }),
        ),
        row(
            "httpGet(\"{url}\", {\"q\": \"a b&c\"}, 1000)",
            "getParamString: values urlencoded (urlencode::EncodeString: all but letters, digits and -./_~)",
            Same,
            O(|v, s| get_query(v, s, "q=a%20b%26c")),
        ),
        row(
            "httpGet(\"{url}\", {\"empty\": \"\"}, 1000)",
            "checkDictionaryContent: empty values refused up to 3.00.1.15 / 3.00.2.16 / 3.00.3.4, allowed since 3.00.1.16 / 3.00.2.17 / 3.00.3.5 (the newer builds are followed)",
            Same,
            O(|v, s| get_query(v, s, "empty=")),
        ),
        row(
            "httpGet(\"{url}\", NULL, 1000)",
            "handleHttpRequest: params isNull() -> no params",
            Same,
            O(|v, s| get_query(v, s, "")),
        ),
        row(
            "httpDelete(\"{url}\", {\"id\": \"7\"}, 1000)",
            "httpRequest DELETE_: CURLOPT_CUSTOMREQUEST DELETE with the params in the URL, as GET",
            Same,
            O(|v, s| {
                http_result(v, 200)?;
                let r = request(s)?;
                check(r.method == "DELETE" && r.query() == "id=7", || {
                    format!("{} {}", r.method, r.path_and_query)
                })
            }),
        ),
        row(
            "httpGet(\"{url}\", [1, 2], 1000)",
            "handleHttpRequest: \"Params must be a string scalar or a dictionary with STRING key\"",
            Same,
            E("IllegalArgumentException", "params must be a STRING scalar or a dictionary with STRING keys"),
        ),
        row(
            "httpGet(\"{url}\", {1: \"a\"}, 1000)",
            "handleHttpRequest: getKeyType() != DT_STRING refused",
            Same,
            E("IllegalArgumentException", "params must be a STRING scalar or a dictionary with STRING keys, but got INT-keyed DICTIONARY"),
        ),
        row(
            "httpGet(1)",
            "handleHttpRequest: \"Url must be a string scalar\"",
            Same,
            E("IllegalArgumentException", "url must be a STRING scalar, but got INT SCALAR"),
        ),
        row(
            "httpGet()",
            "descriptor: httpGet takes 1 to 5 arguments; the server refuses other counts",
            Same,
            E("The function [httpClient::httpGet] expects 1~5 argument(s)", ""),
        ),
        // ----- timeout ---------------------------------------------------------------------
        row(
            "httpGet(\"{url}\", , 1000.0)",
            "handleHttpRequest: timeout isNumber() scalar read with getLong() (a DOUBLE is a number)",
            Same,
            O(|v, s| get_query(v, s, "")),
        ),
        row(
            "httpGet(\"{url}\", , 1000l)",
            "handleHttpRequest: a LONG timeout",
            Same,
            O(|v, s| get_query(v, s, "")),
        ),
        row(
            "httpGet(\"{url}\", , 0)",
            "CURLOPT_TIMEOUT_MS 0: no limit",
            Same,
            O(|v, s| get_query(v, s, "")),
        ),
        row(
            "httpGet(\"{url}\", , -1)",
            "handleHttpRequest: getLong() < 0 -> \"Timeout must be an nonnegative integer scalar\"",
            Same,
            E("IllegalArgumentException", "timeout must be a non-negative number of milliseconds, but got -1"),
        ),
        row(
            "httpGet(\"{url}\", , \"1000\")",
            "handleHttpRequest: a STRING is not isNumber()",
            Same,
            E("IllegalArgumentException", "timeout must be a non-negative number of milliseconds, but got STRING SCALAR"),
        ),
        row(
            "httpGet(\"{url}\", , true)",
            "handleHttpRequest: a BOOL (LOGICAL) is not isNumber()",
            Same,
            E("IllegalArgumentException", "timeout must be a non-negative number of milliseconds, but got BOOL SCALAR"),
        ),
        row(
            "httpGet(\"{url}\", , NULLINT)",
            "handleHttpRequest: a NULL INT is a number whose getLong() is negative: refused",
            Extension("a NULL timeout means none"),
            O(|v, s| get_query(v, s, "")),
        ),
        row(
            "httpGet(\"{url}\", , , \"X-A:1\")",
            "handleHttpRequest: an omitted timeout before headers is Nothing, not isNumber(): refused",
            Extension("an omitted timeout means none"),
            O(|v, s| {
                get_query(v, s, "")?;
                let r = request(s)?;
                check(r.header("x-a") == Some("1"), || format!("{:?}", r.headers))
            }),
        ),
        // ----- headers --------------------------------------------------------------------
        row(
            "httpGet(\"{url}\", , 1000, \"groupName:zhang\")",
            "test/httpTest.txt test_http_headers_get: a STRING header \"k:v\"",
            Same,
            O(|v, s| {
                get_query(v, s, "")?;
                let r = request(s)?;
                check(r.header("groupname") == Some("zhang"), || format!("{:?}", r.headers))
            }),
        ),
        row(
            "httpGet(\"{url}\", , 1000, {`groupName: `zhang, `groupId: \"001\"})",
            "test/httpTest.txt: dict([`groupName,`groupId],[`zhang,\"001\"]) as headers",
            Same,
            O(|v, s| {
                get_query(v, s, "")?;
                let r = request(s)?;
                check(
                    r.header("groupname") == Some("zhang") && r.header("groupid") == Some("001"),
                    || format!("{:?}", r.headers),
                )
            }),
        ),
        row(
            "httpGet(\"{url}\", , 1000, {\"X-Empty\": \"\"})",
            "checkDictionaryContent: empty header values allowed since 3.00.1.16 / 3.00.2.17 / 3.00.3.5",
            Same,
            O(|v, s| {
                get_query(v, s, "")?;
                let r = request(s)?;
                check(r.header("x-empty") == Some(""), || format!("{:?}", r.headers))
            }),
        ),
        row(
            "httpGet(\"{url}\", , 1000, \"\")",
            "httpRequest: an empty STRING header adds nothing",
            Same,
            O(|v, s| get_query(v, s, "")),
        ),
        row(
            "httpGet(\"{url}\", , 1000, \"NoColon\")",
            "httpRequest: \"If the parameter 'header' is a STRING, it must be in the format of XXX:XXX.\"",
            Same,
            E("IllegalArgumentException", "If the parameter 'header' is a STRING, it must be in the format of XXX:XXX."),
        ),
        row(
            "httpGet(\"{url}\", , 1000, \"Referer: http://x/y\")",
            "httpRequest: a STRING header with a second ':' is refused (pos != last)",
            Extension("colons in a header value are kept"),
            O(|v, s| {
                get_query(v, s, "")?;
                let r = request(s)?;
                check(r.header("referer") == Some("http://x/y"), || format!("{:?}", r.headers))
            }),
        ),
        row(
            "httpGet(\"{url}\", , 1000, {\"X-N\": 5})",
            "handleHttpRequest: header dictionaries must be STRING-STRING (getType() != DT_STRING refused)",
            Extension("header values of any scalar type, rendered with getString()"),
            O(|v, s| {
                get_query(v, s, "")?;
                let r = request(s)?;
                check(r.header("x-n") == Some("5"), || format!("{:?}", r.headers))
            }),
        ),
        row(
            "httpGet(\"{url}\", , 1000, {\"X-A\": \"1\\r\\nX-Injected: 1\"})",
            "setHeaders: the value is appended as is; CR/LF injects a header",
            Deliberate("CR/LF in header names or values is refused"),
            E("IllegalArgumentException", "header 'X-A' contains a CR, LF or NUL character"),
        ),
        // ----- config ---------------------------------------------------------------------
        row(
            "httpGet(\"{url}\", , 1000, , {\"proxy\": \"\"})",
            "getHttpRequestConfig: an empty proxy means none",
            Same,
            O(|v, s| get_query(v, s, "")),
        ),
        row(
            "httpGet(\"{url}\", , 1000, , {\"proxy\": 1})",
            "getHttpRequestConfig: \"config proxy must be a string scalar\"",
            Same,
            E("IllegalArgumentException", "config 'proxy' must be a STRING scalar, but got an integral number"),
        ),
        row(
            "httpGet(\"{url}\", , 1000, , \"proxy\")",
            "handleHttpRequest: \"config must be a dictionary\"",
            Same,
            E("IllegalArgumentException", "config must be a dictionary with STRING keys, but got STRING SCALAR"),
        ),
        row(
            "httpGet(\"{url}\", , 1000, , {\"proxyy\": \"x\"})",
            "getHttpRequestConfig: keys other than proxy, proxy_username, proxy_password are ignored",
            Deliberate("unknown config keys are refused, listing the known ones"),
            E("IllegalArgumentException", "config: unknown key 'proxyy'; known keys: proxy, proxy_username, proxy_password"),
        ),
        // ----- POST / PUT -----------------------------------------------------------------
        row(
            "httpPost(\"{peer}/status/501\", {\"name\": \"dolphindb\", \"id\": \"111\"}, 1000)",
            "test/httpTest.txt test_http_params_post: a server answering 501 is a normal return (responseCode 501)",
            Same,
            O(|v, _| http_result(v, 501)),
        ),
        row(
            "httpPost(\"{url}\", {\"name\": \"dolphindb\", \"id\": \"111\"}, 1000, \"groupName:zhang\")",
            "httpRequest POST: CURLOPT_POSTFIELDS = the form-encoded dictionary (libcurl's form content type)",
            Same,
            O(|v, s| {
                http_result(v, 200)?;
                let r = request(s)?;
                check(
                    r.method == "POST"
                        && r.body == b"name=dolphindb&id=111"
                        && r.header("content-type") == Some("application/x-www-form-urlencoded")
                        && r.header("groupname") == Some("zhang"),
                    || format!("{r:?}"),
                )
            }),
        ),
        row(
            "httpPost(\"{url}\", \"{\\\"a\\\":1}\", 1000, {\"Content-Type\": \"application/json\"})",
            "the tutorial: a JSON string body with its Content-Type header",
            Same,
            O(|v, s| {
                http_result(v, 200)?;
                let r = request(s)?;
                check(
                    r.body == br#"{"a":1}"# && r.header("content-type") == Some("application/json"),
                    || format!("{r:?}"),
                )
            }),
        ),
        row(
            "httpPut(\"{url}\", \"payload\", 1000)",
            "httpRequest PUT: an upload of the params string, no Content-Type",
            Same,
            O(|v, s| {
                http_result(v, 200)?;
                let r = request(s)?;
                check(
                    r.method == "PUT" && r.body == b"payload" && r.header("content-type").is_none(),
                    || format!("{r:?}"),
                )
            }),
        ),
        row(
            "httpGet(\"{url}\", , 1000)",
            "handleHttpRequest: no CURLOPT_ACCEPT_ENCODING: libcurl sends no Accept-Encoding, the body comes as the server sends it",
            Same,
            O(|v, s| {
                http_result(v, 200)?;
                let r = request(s)?;
                check(r.header("accept-encoding").is_none(), || format!("{r:?}"))
            }),
        ),
        row(
            "httpGet(\"{peer}/status/404\", , 1000)",
            "httpRequest: any status is a result; only transport failures throw",
            Same,
            O(|v, _| http_result(v, 404)),
        ),
        // ----- TLS ------------------------------------------------------------------------
        row(
            "httpGet(\"{tls}/echo\", , 2000)",
            "httpRequest: CURLOPT_SSL_VERIFYPEER 0: any certificate is accepted",
            Deliberate("TLS is verified; a private CA or self-signed server needs config caFile or verifySSL=false"),
            E("RuntimeException", "tls: certificate verification failed"),
        ),
        row(
            "httpGet(\"{pinned}/echo\", , 2000, , {\"caFile\": \"{pinned_ca}\"})",
            "httpRequest: no verification; curl/OpenSSL with a CA file accept the server's own self-signed certificate (the `openssl req -x509` one-liner, CA:TRUE, CN only) as pinned",
            Same,
            O(|v, _| http_result(v, 200)),
        ),
        row(
            "httpGet(\"{pinned}/echo\", , 2000)",
            "httpRequest: no verification",
            Deliberate("TLS is verified; a private CA or self-signed server needs config caFile or verifySSL=false"),
            E("RuntimeException", "tls: certificate verification failed"),
        ),
        row(
            "httpGet(\"{tls}/echo\", , 2000, , {\"verifySSL\": false})",
            "httpRequest: no verification; libcurl built without nghttp2 speaks HTTP/1.1 to a server offering HTTP/2 too (headers \"HTTP/1.1 200 OK\\r\\n...\")",
            Same,
            O(|v, _| {
                http_result(v, 200)?;
                let headers = entry_type(v, "headers").and_then(|(_, h)| h.as_str()).unwrap_or("");
                check(headers.starts_with("HTTP/1.1 200 OK\r\n"), || {
                    format!("headers start {:?}", &headers[..headers.len().min(20)])
                })
            }),
        ),
        // ----- e-mail ---------------------------------------------------------------------
        row(
            "sendEmail(\"{user}\", \"{pwd}\", \"{to}\", \"This is a subject {tag}\", \"It is a text\")",
            "README / test_email_single_send: one recipient, responseCode 250",
            Same,
            O(|v, s| {
                check(
                    entry_type(v, "responseCode") == Some(("INT", &Value::from(250))),
                    || format!("{v}"),
                )?;
                check(s.mails.len() == 1, || format!("{} mails", s.mails.len()))
            }),
        ),
        row(
            "sendEmail(\"{user}\", \"{pwd}\", [\"{to}\", \"{to2}\"], \"multi {tag}\", \"It is a text\")",
            "test_email_multi_send: a STRING vector of recipients, one mail to all (recipient: space-separated)",
            Same,
            O(|v, s| {
                check(
                    entry_type(v, "recipient").is_some_and(|(_, r)| r.as_str().is_some_and(|r| r.contains(' '))),
                    || format!("{v}"),
                )?;
                check(
                    s.mails.len() == 1 && s.mails[0].rcpt_tos.len() == 2,
                    || format!("{:?}", s.mails.iter().map(|m| &m.rcpt_tos).collect::<Vec<_>>()),
                )
            }),
        ),
        row(
            "sendEmail(\"{user}\", \"{pwd}\", \"{to}\", \"\", \"empty subject {tag}\")",
            "sendEmail: only isNothing() means not given: \"\" is an empty subject",
            Same,
            O(|v, s| {
                check(
                    entry_type(v, "responseCode") == Some(("INT", &Value::from(250))),
                    || format!("{v}"),
                )?;
                check(
                    s.mails.len() == 1 && s.mails[0].subject.as_deref() == Some(""),
                    || format!("{:?}", s.mails.iter().map(|m| &m.subject).collect::<Vec<_>>()),
                )
            }),
        ),
        row(
            "sendEmail(\"{user}\", \"{pwd}\", \"{to}\", , , \"From: {user}\\r\\nTo: {to}\\r\\nSubject: raw {tag}\\r\\n\\r\\nbody\")",
            "sendEmail: msg alone (subject and body Nothing), its From: must be userId and its To: the recipients",
            Same,
            O(|v, s| {
                check(
                    entry_type(v, "responseCode") == Some(("INT", &Value::from(250))),
                    || format!("{v}"),
                )?;
                check(s.mails.len() == 1, || format!("{} mails", s.mails.len()))
            }),
        ),
        row(
            "sendEmail(\"{user}\", \"{pwd}\", \"{to}\", , , \"From: other@x.test\\r\\nTo: {to}\\r\\n\\r\\nbody\")",
            "checkSMTPMsg: \"Sender email specified in the 'From:' field of msg must match userId.\"",
            Same,
            E("IllegalArgumentException", "Sender email specified in the 'From:' field of msg must match userId."),
        ),
        row(
            "sendEmail(\"{user}\", \"{pwd}\", \"{to}\", \"s\", , \"x\")",
            "sendEmail: \"Subject and body must be set together.\"",
            Same,
            E("IllegalArgumentException", "subject and body must be set together"),
        ),
        row(
            "sendEmail(\"{user}\", \"{pwd}\", \"{to}\", \"s\", \"b\", \"x\")",
            "sendEmail: \"Set either subject or msg, not both.\"",
            Same,
            E("IllegalArgumentException", "set either subject or msg, not both"),
        ),
        row(
            "sendEmail(\"\", \"{pwd}\", \"{to}\", \"s\", \"b\")",
            "sendEmail: \"userId must be a non-empty string.\"",
            Same,
            E("IllegalArgumentException", "userId must be a non-empty string"),
        ),
        row(
            "sendEmail(\"{user}\", \"{pwd}\", 1, \"s\", \"b\")",
            "sendEmail: \"recipient must be a string or a string vector.\"",
            Same,
            E("IllegalArgumentException", "recipient must be a STRING scalar or a STRING vector, but got INT SCALAR"),
        ),
        row(
            "sendEmail(\"{user}\", \"not-the-password\", \"{to}\", \"s {tag}\", \"b\")",
            "SendMail: responseCode 535 -> \"UserId or password is incorrect\"",
            Same,
            E("RuntimeException", "auth: userId or password is incorrect"),
        ),
        row(
            "sendEmail(\"{user}\", \"{pwd}\", \"{to}\", \"s {tag}\", \"b\", , {\"bcc\": \"x@example.test\"})",
            "sendEmail takes at most six arguments",
            Extension("a seventh argument, options (cc, bcc, attachments, contentType, fromName, replyTo, each, async, retries)"),
            O(|v, s| {
                check(
                    entry_type(v, "responseCode") == Some(("INT", &Value::from(250))),
                    || format!("{v}"),
                )?;
                check(s.mails.len() == 1 && s.mails[0].rcpt_tos.len() == 2, || {
                    format!("{:?}", s.mails.iter().map(|m| &m.rcpt_tos).collect::<Vec<_>>())
                })
            }),
        ),
        row(
            "sendEmail(\"{user}\", \"{pwd}\", \"{to}\", \"s\", \"b\", , {\"attachments\": \"/nonexistent/report.csv\"})",
            "(no options officially)",
            Extension("attachments are files on the server; a missing one is an io error"),
            E("RuntimeException", "io: cannot read the attachment \"/nonexistent/report.csv\""),
        ),
        row(
            "sendEmail(\"alerts{at}qq.com\", \"x\", \"{to}\", \"s\", \"b\")",
            "SMTP_STATUS: the built-in providers (126.com, 163.com, yeah.net, sohu.com, qq.com) on port 25 with STARTTLS when offered",
            Deliberate("built-in mail providers are reached on their TLS ports (465, 587), not on 25"),
            E("RuntimeException", "smtp.qq.com:465"),
        ),
        row(
            "sendEmail(\"bot{at}unverified.test\", \"{pwd}\", \"{to}\", \"s {tag}\", \"b\")",
            "SendMail: CURLOPT_SSL_VERIFYPEER 0, VERIFYHOST 0: any certificate is accepted",
            Deliberate("TLS is verified; a private CA or self-signed server needs config caFile or verifySSL=false"),
            E("RuntimeException", "tls: TLS (tls) with the SMTP server 127.0.0.1:"),
        ),
        row(
            "sendEmail(\"bot{at}relay.test\", \"{pwd}\", \"{to}\", \"s {tag}\", \"b\")",
            "SendMail: CURLOPT_USE_SSL CURLUSESSL_TRY: STARTTLS when offered, else the login in clear",
            Deliberate("the SMTP password is never sent unencrypted; a relay without TLS needs option tls \"none\""),
            E("RuntimeException", "tls: the SMTP server 127.0.0.1:"),
        ),
        row(
            "emailSmtpConfig(\"cfg-int.test\", \"smtp.cfg-int.test\", 25)",
            "emailSmtpConfig: an INT port; returns true",
            Same,
            O(|v, _| check(*v == serde_json::json!(["BOOL", true]), || format!("{v}"))),
        ),
        row(
            "emailSmtpConfig(\"cfg-long.test\", \"smtp.cfg-long.test\", 25l)",
            "emailSmtpConfig: \"Post must be a int scalar\" (DT_INT only)",
            Extension("any integral port"),
            O(|v, _| check(*v == serde_json::json!(["BOOL", true]), || format!("{v}"))),
        ),
        row(
            "emailSmtpConfig(\"\", \"smtp.x.test\")",
            "emailSmtpConfig: \"EmailName can't be empty\"",
            Same,
            E("IllegalArgumentException", "emailName must not be empty"),
        ),
        row(
            "emailSmtpConfig(\"x.test\", 1)",
            "emailSmtpConfig: \"Host must be a string scalar\"",
            Same,
            E("IllegalArgumentException", "host must be a STRING scalar, but got INT SCALAR"),
        ),
        Row {
            call: "httpGet(\"{url}\", , decimal64(\"1000.4\", 1))",
            official: "handleHttpRequest: isNumber() includes DENARY (2.00.x and 3.00.x headers): a DECIMAL timeout, getLong() 1000",
            relation: Same,
            expect: O(|v, s| get_query(v, s, "")),
            needs_decimal: true,
        },
    ]
}

/// The peers every host talks to.
struct Peers {
    http: HttpPeer,
    /// An HTTPS server presenting an `openssl req -x509` certificate (CN=localhost).
    pinned: HttpPeer,
    pinned_ca: String,
    smtp: SmtpPeer,
}

/// The script of one host: the SMTP configuration, then every row, tagged and addressed
/// per host (`h`) so that rows of hosts running at the same time never mix.
fn script(h: usize, rows: &[Row], peers: &Peers, decimal: bool) -> (String, Vec<usize>) {
    let (http, smtp) = (&peers.http, &peers.smtp);
    // one account on the one SMTP peer; rows are told apart by their tag
    let domain = "parity.test";
    let user = smtp.user.clone();
    let mut lines = vec![format!(
        "emailSmtpConfig(\"{domain}\", \"127.0.0.1\", {}, {{\"tls\": \"tls\", \"caFile\": {}}})",
        smtp.tls_port,
        host::lit(&smtp.ca_file)
    )];
    // the same server without its CA: for the TLS verification row ({unverified})
    lines.push(format!(
        "emailSmtpConfig(\"unverified.test\", \"127.0.0.1\", {}, {{\"tls\": \"tls\"}})",
        smtp.tls_port
    ));
    // its port without TLS, with tls "auto" (the default): for the clear-login row
    lines.push(format!(
        "emailSmtpConfig(\"relay.test\", \"127.0.0.1\", {})",
        smtp.plain_port
    ));
    let mut included = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if r.needs_decimal && !decimal {
            continue;
        }
        let url = format!("{}/echo/h{h}r{i}", http.base_url());
        let call = r
            .call
            .replace("{url}", &url)
            .replace("{bare}", url.trim_start_matches("http://"))
            .replace("{peer}", &http.base_url())
            .replace("{tls}", &http.https_base_url())
            .replace("{pinned_ca}", &peers.pinned_ca)
            .replace(
                "{pinned}",
                &format!("https://localhost:{}", peers.pinned.https_port()),
            )
            .replace("{user}", &user)
            .replace("{pwd}", &smtp.password)
            .replace("{to2}", &format!("dev{}example.test", '@'))
            .replace("{to}", &format!("ops{}example.test", '@'))
            .replace("{tag}", &format!("[h{h}r{i}]"))
            .replace("{at}", "@");
        lines.push(call);
        included.push(i);
    }
    (lines.join("\n"), included)
}

#[test]
fn every_official_call_shape_behaves_as_its_row_says_in_every_server_version() {
    let rows = rows();
    let dir = std::env::temp_dir().join(format!("parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = certs::openssl_self_signed(&dir, "/CN=localhost", &[]);
    let peers = Peers {
        http: HttpPeer::start(),
        pinned: HttpPeer::start_with_pem(&cert.pem, &cert.key),
        pinned_ca: cert.path.clone(),
        smtp: SmtpPeer::start(&format!("bot{}parity.test", '@')),
    };
    let (http, smtp) = (&peers.http, &peers.smtp);
    let hosts = host::every_supported_host();
    host::build_hosts(&hosts);
    let mut failures = Vec::new();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (h, id) in hosts.iter().enumerate() {
        let version = host::version_of(id);
        let facts = PluginHttpClient::abi::facts::for_server(
            PluginHttpClient::abi::facts::Flavour::Standard,
            version,
        )
        .unwrap();
        let decimal = facts.enums.cat_denary.is_some();
        let (text, included) = script(h, &rows, &peers, decimal);
        let lines = host::run(id, &text);
        // the script's SMTP configuration lines come first
        const SETUP: usize = 3;
        assert_eq!(lines.len(), included.len() + SETUP, "{id}: {lines:?}");
        assert!(
            lines[..SETUP].iter().all(|l| l.starts_with("OK ")),
            "{id}: smtp config: {lines:?}"
        );
        let requests = http.requests();
        let mails = smtp.messages();
        for (line, &i) in lines[SETUP..].iter().zip(&included) {
            let r = &rows[i];
            let prefix = format!("/echo/h{h}r{i}");
            let tag = format!("[h{h}r{i}]");
            let seen = Seen {
                requests: requests
                    .iter()
                    .filter(|q| q.path() == prefix)
                    .cloned()
                    .collect(),
                mails: mails
                    .iter()
                    .filter(|m| {
                        m.subject.as_deref().is_some_and(|s| s.contains(&tag))
                            || String::from_utf8_lossy(&m.data).contains(&tag)
                            || m.body.as_deref().is_some_and(|b| b.contains(&tag))
                    })
                    .cloned()
                    .collect(),
            };
            let outcome = match &r.expect {
                Expect::Ok(f) => match line.strip_prefix("OK ") {
                    Some(json) => serde_json::from_str::<Value>(json)
                        .map_err(|e| format!("bad JSON: {e}"))
                        .and_then(|v| f(&v, &seen)),
                    None => Err(format!("expected a result, got {line}")),
                },
                Expect::Err(class, text) => {
                    let want = format!("ERR {class}");
                    if line.starts_with(&want) && line.contains(text) {
                        Ok(())
                    } else {
                        Err(format!("expected {want} ... {text}, got {line}"))
                    }
                }
            };
            if let Err(why) = outcome {
                failures.push(format!(
                    "{id} row {i} `{}`: {why}\n    official: {}",
                    r.call, r.official
                ));
            }
            *counts
                .entry(match r.relation {
                    Official::Same => "same",
                    Official::Deliberate(_) => "deliberate",
                    Official::Extension(_) => "extension",
                })
                .or_default() += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!(
        "parity: {} rows x {} hosts: {counts:?}",
        rows.len(),
        hosts.len()
    );
}

/// The README's migration notes list exactly the deliberate differences of the table.
#[test]
fn the_readme_migration_notes_list_the_deliberate_differences() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let notes = readme
        .split("## Migrating from the official plugin")
        .nth(1)
        .expect("a migration section")
        .split("\n## ")
        .next()
        .unwrap();
    for r in rows() {
        if let Official::Deliberate(what) = r.relation {
            assert!(
                notes.contains(what),
                "the migration notes do not list: {what}"
            );
        }
    }
}
