//! Mail domain -> SMTP server. A built-in table of common providers (each with its TLS
//! port), overridden process-wide by `emailSmtpConfig`.
use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use super::options::{SmtpOptions, TlsMode};
use crate::core::error::{Error, Result};

/// Where mail of one domain is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEntry {
    pub host: String,
    pub port: u16,
    pub options: SmtpOptions,
}

/// Built-in providers: (domain, host, port). Port 465 is implicit TLS; 587 is STARTTLS.
const BUILT_IN: &[(&str, &str, u16)] = &[
    ("126.com", "smtp.126.com", 465),
    ("163.com", "smtp.163.com", 465),
    ("yeah.net", "smtp.yeah.net", 465),
    ("188.com", "smtp.188.com", 465),
    ("vip.163.com", "smtp.vip.163.com", 465),
    ("vip.126.com", "smtp.vip.126.com", 465),
    ("sohu.com", "smtp.sohu.com", 465),
    ("qq.com", "smtp.qq.com", 465),
    ("vip.qq.com", "smtp.qq.com", 465),
    ("foxmail.com", "smtp.qq.com", 465),
    ("exmail.qq.com", "smtp.exmail.qq.com", 465),
    ("139.com", "smtp.139.com", 465),
    ("aliyun.com", "smtp.aliyun.com", 465),
    ("sina.com", "smtp.sina.com", 465),
    ("sina.cn", "smtp.sina.cn", 465),
    ("gmail.com", "smtp.gmail.com", 465),
    ("outlook.com", "smtp-mail.outlook.com", 587),
    ("hotmail.com", "smtp-mail.outlook.com", 587),
    ("live.com", "smtp-mail.outlook.com", 587),
    ("dolphindb.com", "smtp.office365.com", 587),
];

/// The built-in providers: (domain, SMTP host, port), for the documentation's check.
pub fn built_in_providers() -> &'static [(&'static str, &'static str, u16)] {
    BUILT_IN
}

fn configured() -> &'static RwLock<HashMap<String, ServerEntry>> {
    static TABLE: OnceLock<RwLock<HashMap<String, ServerEntry>>> = OnceLock::new();
    TABLE.get_or_init(|| RwLock::new(HashMap::new()))
}

fn normalize_domain(domain: &str) -> String {
    domain.trim().trim_start_matches('@').to_ascii_lowercase()
}

fn built_in(domain: &str) -> Option<ServerEntry> {
    BUILT_IN
        .iter()
        .find(|(d, _, _)| *d == domain)
        .map(|(_, host, port)| ServerEntry {
            host: (*host).to_string(),
            port: *port,
            options: SmtpOptions::default(),
        })
}

/// The server for a mail domain (`"qq.com"`): the configured one, else the built-in one.
pub fn lookup(domain: &str) -> Option<ServerEntry> {
    let domain = normalize_domain(domain);
    let from_config = configured()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&domain)
        .cloned();
    from_config.or_else(|| built_in(&domain))
}

/// The port used when none is given for a domain not known before: 25, as officially
/// (with STARTTLS when the server offers it), unless the options ask for implicit TLS
/// (465) or STARTTLS (587).
fn default_port(tls: TlsMode) -> u16 {
    match tls {
        TlsMode::Tls => 465,
        TlsMode::StartTls => 587,
        TlsMode::Auto | TlsMode::None => 25,
    }
}

/// `emailSmtpConfig`: maps `domain` to `host[:port]` for every later send from an address
/// of that domain, process-wide. A port or options not given keep the domain's previous
/// values (configured or built-in); for a new domain the port follows the TLS mode
/// (25 for auto and none, as officially; 465 for tls, 587 for starttls).
pub fn configure(
    domain: &str,
    host: &str,
    port: Option<u16>,
    options: Option<SmtpOptions>,
) -> Result<()> {
    let domain_n = normalize_domain(domain);
    if domain_n.is_empty() {
        return Err(Error::argument(
            "emailName (the mail domain) must not be empty",
        ));
    }
    if domain_n
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '@')
    {
        return Err(Error::argument(format!(
            "emailName must be a mail domain such as \"qq.com\", got \"{}\"",
            domain.escape_debug()
        )));
    }
    let host = host.trim();
    if host.is_empty() {
        return Err(Error::argument("host must not be empty"));
    }
    if host
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '/' || c == '@')
    {
        return Err(Error::argument(format!(
            "host must be a host name or IP address such as \"smtp.qq.com\", got \"{}\"",
            host.escape_debug()
        )));
    }
    if port == Some(0) {
        return Err(Error::argument("port must be between 1 and 65535"));
    }
    if let Some(SmtpOptions {
        ca_file: Some(path),
        ..
    }) = &options
    {
        std::fs::metadata(path).map_err(|e| {
            Error::runtime(
                crate::core::error::Cause::Io,
                format!("option 'caFile': cannot read \"{path}\": {e}"),
            )
        })?;
    }
    let mut table = configured().write().unwrap_or_else(|e| e.into_inner());
    let previous = table
        .get(&domain_n)
        .cloned()
        .or_else(|| built_in(&domain_n));
    let options = options
        .or_else(|| previous.as_ref().map(|p| p.options.clone()))
        .unwrap_or_default();
    let port = port
        .or_else(|| previous.as_ref().map(|p| p.port))
        .unwrap_or_else(|| default_port(options.tls));
    table.insert(
        domain_n,
        ServerEntry {
            host: host.to_string(),
            port,
            options,
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_providers() {
        let qq = lookup("qq.com").unwrap();
        assert_eq!((qq.host.as_str(), qq.port), ("smtp.qq.com", 465));
        assert_eq!(lookup("QQ.COM").unwrap().host, "smtp.qq.com");
        assert_eq!(lookup("outlook.com").unwrap().port, 587);
        assert!(lookup("nowhere.invalid").is_none());
    }

    #[test]
    fn configure_overrides_and_keeps_port() {
        configure("unit-a.test", "mx.unit-a.test", Some(2525), None).unwrap();
        assert_eq!(lookup("unit-a.test").unwrap().port, 2525);
        configure("unit-a.test", "mx2.unit-a.test", None, None).unwrap();
        let e = lookup("unit-a.test").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("mx2.unit-a.test", 2525));
        configure("unit-b.test", "mx.unit-b.test", None, None).unwrap();
        assert_eq!(lookup("unit-b.test").unwrap().port, 25);
        assert!(configure("", "h", None, None).is_err());
        assert!(configure("d.test", "", None, None).is_err());
        assert!(configure("d.test", "h", Some(0), None).is_err());
    }
}
