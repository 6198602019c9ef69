//! The rustls configuration of the HTTP clients: which servers are trusted.
//!
//! - By default: the Mozilla roots (webpki-roots) and the system's store, the chain and the
//!   host name verified by webpki.
//! - `caFile`: its certificates are added as roots. And, as curl/OpenSSL and Python do, a
//!   certificate in it that the server presents *itself* is accepted as pinned: the usual
//!   `openssl req -x509 -newkey …` one-liner makes a self-signed certificate marked CA:TRUE,
//!   which webpki refuses as an end entity (`CaUsedAsEndEntity`). When the normal
//!   verification fails, the server's certificate is accepted if it is byte-for-byte one
//!   of caFile's, is valid now, and names the host (its subjectAltName entries, or — as
//!   OpenSSL does for a certificate without them — its common name). An unpinned
//!   self-signed server is still refused.
//! - `verifySSL=false`: any certificate is accepted (the handshake signatures are still
//!   checked, so the connection is bound to the presented key).
use crate::core::error::{Cause, Error, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::sync::{Arc, OnceLock};

fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// Mozilla's roots and the system's, loaded once.
fn base_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        // An unreadable system store leaves the Mozilla roots.
        let native = rustls_native_certs::load_native_certs();
        let _ = roots.add_parsable_certificates(native.certs);
        roots
    })
}

/// Reads the PEM certificates of a `caFile`.
fn read_ca_file(path: &str) -> Result<Vec<CertificateDer<'static>>> {
    let pem = std::fs::read(path)
        .map_err(|e| Error::runtime(Cause::Io, format!("cannot read caFile '{path}': {e}")))?;
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile_certs(&pem)
        .map_err(|e| Error::argument(format!("caFile '{path}' is not a valid PEM bundle: {e}")))?;
    if certs.is_empty() {
        return Err(Error::argument(format!(
            "caFile '{path}' contains no PEM certificate"
        )));
    }
    Ok(certs)
}

/// The `CERTIFICATE` blocks of a PEM file.
fn rustls_pemfile_certs(pem: &[u8]) -> std::result::Result<Vec<CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

/// The rustls configuration: verification (`verify_ssl`, pinning `ca_file`), and ALPN
/// offering HTTP/2 only when `http2`.
pub fn client_config(verify_ssl: bool, ca_file: Option<&str>, http2: bool) -> Result<ClientConfig> {
    let provider = provider();
    let mut roots = base_roots().clone();
    let pinned = match ca_file {
        Some(path) => {
            let certs = read_ca_file(path)?;
            for c in &certs {
                // A certificate webpki cannot use as a trust anchor may still be pinned.
                let _ = roots.add(c.clone());
            }
            certs
        }
        None => Vec::new(),
    };
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| Error::runtime(Cause::Tls, format!("cannot set up TLS verification: {e}")))?;
    let verifier = Arc::new(Verifier {
        webpki,
        pinned,
        verify: verify_ssl,
        provider: provider.clone(),
    });
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::runtime(Cause::Tls, format!("cannot set up TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(config)
}

#[derive(Debug)]
struct Verifier {
    webpki: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
    verify: bool,
    provider: Arc<CryptoProvider>,
}

/// rustls's signature check of one TLS version.
type SignatureCheck = fn(
    &[u8],
    &CertificateDer<'_>,
    &DigitallySignedStruct,
    &rustls::crypto::WebPkiSupportedAlgorithms,
) -> std::result::Result<HandshakeSignatureValid, rustls::Error>;

impl Verifier {
    fn signature(
        &self,
        check: SignatureCheck,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        if !self.verify {
            // verifySSL=false accepts any certificate, also one webpki cannot parse
            // (X.509 v1, small RSA keys of old appliances), as libcurl does
            return Ok(HandshakeSignatureValid::assertion());
        }
        check(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        if !self.verify {
            return Ok(ServerCertVerified::assertion());
        }
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(v) => Ok(v),
            Err(e) => {
                if self
                    .pinned
                    .iter()
                    .any(|p| p.as_ref() == end_entity.as_ref())
                    && pinned_certificate_fits(end_entity, server_name, now)
                {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(e)
                }
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.signature(verify_tls12_signature, message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.signature(verify_tls13_signature, message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// A pinned certificate must be valid now and name the host: by its subjectAltName
/// entries when it has any, else by its common name.
fn pinned_certificate_fits(
    cert: &CertificateDer<'_>,
    name: &ServerName<'_>,
    now: UnixTime,
) -> bool {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let Ok((_, x509)) = X509Certificate::from_der(cert.as_ref()) else {
        return false;
    };
    let now = now.as_secs() as i64;
    let validity = x509.validity();
    if now < validity.not_before.timestamp() || now > validity.not_after.timestamp() {
        return false;
    }
    let has_san = matches!(x509.subject_alternative_name(), Ok(Some(_)));
    if has_san {
        return rustls::server::ParsedCertificate::try_from(cert)
            .is_ok_and(|parsed| rustls::client::verify_server_name(&parsed, name).is_ok());
    }
    let host = match name {
        ServerName::DnsName(d) => d.as_ref().to_ascii_lowercase(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        _ => return false,
    };
    let matches = x509
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok())
        .any(|cn| cn.trim().trim_end_matches('.').to_ascii_lowercase() == host);
    matches
}
