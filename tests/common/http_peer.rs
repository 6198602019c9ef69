//! Real local HTTP peers for tests: an HTTP + HTTPS server that records every request, and
//! a small forwarding HTTP proxy with Basic authentication. Both run on their own tokio
//! runtime (owned by the value; dropped = stopped), listen on 127.0.0.1 with a free port,
//! and are used from plain (non-async) test code.
//!
//! ```ignore
//! let peer = HttpPeer::start();
//! let url = format!("{}/echo?x=1", peer.base_url());      // http://127.0.0.1:PORT
//! let tls = format!("{}/echo", peer.https_base_url());     // https://127.0.0.1:PORT
//! std::fs::write(&ca_path, peer.ca_pem());                 // the CA that signed the cert
//! ... call the client ...
//! let r = peer.last_request().unwrap();                   // method, path+query, headers, body
//! assert_eq!(peer.connections(), 1);                       // TCP connections accepted (HTTP)
//! ```
//!
//! Routes (any method; the path decides, the query is free):
//! - `/echo` (and any unknown path): 200, body = the request body, headers
//!   `X-Method: <method>`, `X-Path: <path+query>`, `Content-Type: application/octet-stream`;
//! - `/status/<code>`: that status; body `status <code>` (empty for 204 and 304);
//! - `/hang`: never answers; `/slow/<ms>`: answers `slow` after ms milliseconds;
//! - `/large/<bytes>`: body of that many bytes, byte `i` = `(i % 251) as u8` ([`large_byte`]);
//! - `/binary`: the non-UTF-8 body [`BINARY_BODY`];
//! - `/gzip`: [`GZIP_TEXT`] gzip-compressed, `Content-Encoding: gzip`;
//! - `/redirect`: 302 to `/echo?redirected=1`; `/redirect-loop`: 302 to itself;
//! - `/chunked`: [`CHUNKED_PARTS`] streamed as separate chunks (no Content-Length);
//! - `/stall-body`: 200, sends `partial`, then never finishes the body;
//! - `/headers`: 200 with `X-Custom: abc` and two `Set-Cookie` headers.
//!
//! HTTPS: a CA and a leaf certificate for `localhost` and `127.0.0.1` are generated with
//! rcgen at start ([`HttpPeer::start`]), or the HTTPS listener presents a PEM certificate
//! and key given by the test ([`HttpPeer::start_with_pem`], e.g. made with the `openssl`
//! CLI); ALPN offers `h2` and `http/1.1` (so reqwest speaks HTTP/2 over TLS).
// Each test file includes only the helpers it needs.
#![allow(dead_code)]
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::rustls;

/// Body of `/binary`: not UTF-8.
pub const BINARY_BODY: &[u8] = &[0xff, 0xfe, 0x00, 0x80, b'a', 0xc3, 0x28, 0x0d, 0x0a, 0xe4];
/// Decoded body of `/gzip`.
pub const GZIP_TEXT: &str = "hello gzip world, hello gzip world, hello gzip world";
/// Parts of `/chunked`, concatenated = the body.
pub const CHUNKED_PARTS: &[&str] = &["first chunk|", "second chunk|", "third chunk"];

/// Byte `i` of a `/large/<n>` body.
pub fn large_byte(i: usize) -> u8 {
    (i % 251) as u8
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query as sent, e.g. `/echo?a=1`.
    pub path_and_query: String,
    /// `HTTP/1.1` or `HTTP/2.0`.
    pub version: String,
    /// `true` when received on the HTTPS listener.
    pub tls: bool,
    /// Header names lower-case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// First value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
    /// All values of a header.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn path(&self) -> &str {
        self.path_and_query.split('?').next().unwrap_or("")
    }
    /// The query without `?` (empty if none).
    pub fn query(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("")
    }
}

struct Shared {
    requests: Mutex<Vec<RecordedRequest>>,
    http_connections: AtomicUsize,
    https_connections: AtomicUsize,
}

/// The HTTP + HTTPS test server. Dropping it stops it.
pub struct HttpPeer {
    rt: Option<tokio::runtime::Runtime>,
    http_addr: SocketAddr,
    https_addr: SocketAddr,
    ca_pem: String,
    cert_pem: String,
    shared: Arc<Shared>,
}

/// An axum listener fed by our own accept loop (which counts connections and does the TLS
/// handshake in a task of its own, so that a failing handshake never blocks accepting).
struct ChannelListener<Io> {
    rx: mpsc::UnboundedReceiver<(Io, SocketAddr)>,
    addr: SocketAddr,
}

impl<Io> axum::serve::Listener for ChannelListener<Io>
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Io = Io;
    type Addr = SocketAddr;
    async fn accept(&mut self) -> (Io, SocketAddr) {
        match self.rx.recv().await {
            Some(x) => x,
            None => std::future::pending().await,
        }
    }
    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.addr)
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

impl HttpPeer {
    /// Starts the HTTP and HTTPS listeners on 127.0.0.1 (free ports); the HTTPS listener
    /// presents a leaf for `localhost` and `127.0.0.1` signed by a CA made at start.
    pub fn start() -> HttpPeer {
        let (ca_pem, cert_pem, tls_config) = make_tls();
        Self::start_tls(ca_pem, cert_pem, tls_config)
    }

    /// Like [`HttpPeer::start`], but the HTTPS listener presents `cert_pem` (one or more
    /// PEM certificates, the server's first, then its chain) with the private key
    /// `key_pem` (PEM: PKCS#8, PKCS#1 or SEC1, as `openssl req -newkey ... -nodes` writes
    /// it). [`HttpPeer::ca_pem`] and [`HttpPeer::cert_pem`] then both return `cert_pem`.
    pub fn start_with_pem(cert_pem: &str, key_pem: &str) -> HttpPeer {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .expect("cert_pem holds PEM certificates");
        assert!(!chain.is_empty(), "cert_pem holds no certificate");
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).expect("key_pem holds a key");
        let config = server_config(chain, key);
        Self::start_tls(cert_pem.to_string(), cert_pem.to_string(), config)
    }

    fn start_tls(ca_pem: String, cert_pem: String, tls_config: rustls::ServerConfig) -> HttpPeer {
        let rt = runtime();
        let shared = Arc::new(Shared {
            requests: Mutex::new(Vec::new()),
            http_connections: AtomicUsize::new(0),
            https_connections: AtomicUsize::new(0),
        });
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls_config));

        let (http, https) = rt.block_on(async {
            let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let https = TcpListener::bind("127.0.0.1:0").await.unwrap();
            (http, https)
        });
        let http_addr = http.local_addr().unwrap();
        let https_addr = https.local_addr().unwrap();
        spawn_servers(&rt, shared.clone(), acceptor, http, https);

        HttpPeer {
            rt: Some(rt),
            http_addr,
            https_addr,
            ca_pem,
            cert_pem,
            shared,
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.http_addr)
    }
    /// `127.0.0.1:PORT` of the HTTP listener.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }
    /// `https://127.0.0.1:PORT` (certificate valid for `127.0.0.1` and `localhost`).
    pub fn https_base_url(&self) -> String {
        format!("https://{}", self.https_addr)
    }
    /// PEM of the CA that signed the HTTPS certificate (write it to a file for `caFile`);
    /// for [`HttpPeer::start_with_pem`], the certificates given.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }
    /// PEM of the certificate the HTTPS listener presents (for [`HttpPeer::start_with_pem`],
    /// the certificates given).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }
    /// The port of the HTTPS listener (for URLs by host name: `https://localhost:PORT`).
    pub fn https_port(&self) -> u16 {
        self.https_addr.port()
    }
    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().unwrap().clone()
    }
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.shared.requests.lock().unwrap().last().cloned()
    }
    /// TCP connections accepted on the HTTP listener.
    pub fn connections(&self) -> usize {
        self.shared.http_connections.load(Ordering::SeqCst)
    }
    /// TCP connections accepted on the HTTPS listener (handshake failures included).
    pub fn tls_connections(&self) -> usize {
        self.shared.https_connections.load(Ordering::SeqCst)
    }
}

impl Drop for HttpPeer {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

fn spawn_servers(
    rt: &tokio::runtime::Runtime,
    shared: Arc<Shared>,
    acceptor: tokio_rustls::TlsAcceptor,
    http: TcpListener,
    https: TcpListener,
) {
    let http_addr = http.local_addr().unwrap();
    let https_addr = https.local_addr().unwrap();

    // Plain HTTP.
    let (tx, rx) = mpsc::unbounded_channel::<(TcpStream, SocketAddr)>();
    let s = shared.clone();
    rt.spawn(async move {
        loop {
            if let Ok((sock, addr)) = http.accept().await {
                s.http_connections.fetch_add(1, Ordering::SeqCst);
                let _ = sock.set_nodelay(true);
                if tx.send((sock, addr)).is_err() {
                    return;
                }
            }
        }
    });
    let app = router(shared.clone(), false);
    rt.spawn(async move {
        let _ = axum::serve(
            ChannelListener {
                rx,
                addr: http_addr,
            },
            app,
        )
        .await;
    });

    // HTTPS.
    type Tls = tokio_rustls::server::TlsStream<TcpStream>;
    let (tx, rx) = mpsc::unbounded_channel::<(Tls, SocketAddr)>();
    let s = shared.clone();
    rt.spawn(async move {
        loop {
            if let Ok((sock, addr)) = https.accept().await {
                s.https_connections.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let hs = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(sock));
                    if let Ok(Ok(tls)) = hs.await {
                        let _ = tx.send((tls, addr));
                    }
                });
            }
        }
    });
    let app = router(shared, true);
    rt.spawn(async move {
        let _ = axum::serve(
            ChannelListener {
                rx,
                addr: https_addr,
            },
            app,
        )
        .await;
    });
}

fn router(shared: Arc<Shared>, tls: bool) -> axum::Router {
    axum::Router::new()
        .fallback(handle)
        .with_state((shared, tls))
}

async fn handle(State((shared, tls)): State<(Arc<Shared>, bool)>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let rec = RecordedRequest {
        method: parts.method.as_str().to_string(),
        path_and_query: path_and_query.clone(),
        version: format!("{:?}", parts.version),
        tls,
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.clone(),
    };
    shared.requests.lock().unwrap().push(rec);

    let path = parts.uri.path().to_string();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        ["status", code] => {
            let code: u16 = code.parse().unwrap_or(500);
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = if code == 204 || code == 304 {
                Body::empty()
            } else {
                Body::from(format!("status {code}"))
            };
            response(status, body, &[])
        }
        ["hang"] => std::future::pending().await,
        ["slow", ms] => {
            tokio::time::sleep(Duration::from_millis(ms.parse().unwrap_or(1000))).await;
            response(StatusCode::OK, Body::from("slow"), &[])
        }
        ["large", n] => {
            let n: usize = n.parse().unwrap_or(0);
            let data: Vec<u8> = (0..n).map(large_byte).collect();
            response(
                StatusCode::OK,
                Body::from(data),
                &[("content-type", "application/octet-stream")],
            )
        }
        ["binary"] => response(StatusCode::OK, Body::from(BINARY_BODY.to_vec()), &[]),
        ["gzip"] => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(GZIP_TEXT.as_bytes()).unwrap();
            let gz = enc.finish().unwrap();
            response(
                StatusCode::OK,
                Body::from(gz),
                &[("content-encoding", "gzip"), ("content-type", "text/plain")],
            )
        }
        ["redirect"] => response(
            StatusCode::FOUND,
            Body::from("moved"),
            &[("location", "/echo?redirected=1")],
        ),
        ["redirect-loop"] => response(
            StatusCode::FOUND,
            Body::from("loop"),
            &[("location", "/redirect-loop")],
        ),
        ["chunked"] => {
            let stream = futures_util::stream::unfold(0usize, |i| async move {
                if i >= CHUNKED_PARTS.len() {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                Some((
                    Ok::<_, std::convert::Infallible>(CHUNKED_PARTS[i].as_bytes().to_vec()),
                    i + 1,
                ))
            });
            response(StatusCode::OK, Body::from_stream(stream), &[])
        }
        ["stall-body"] => {
            let stream = futures_util::stream::unfold(0usize, |i| async move {
                if i > 0 {
                    std::future::pending::<()>().await;
                }
                Some((
                    Ok::<_, std::convert::Infallible>(b"partial".to_vec()),
                    i + 1,
                ))
            });
            response(StatusCode::OK, Body::from_stream(stream), &[])
        }
        ["headers"] => response(
            StatusCode::OK,
            Body::from("headers"),
            &[
                ("x-custom", "abc"),
                ("set-cookie", "a=1"),
                ("set-cookie", "b=2"),
            ],
        ),
        _ => response(
            StatusCode::OK,
            Body::from(body),
            &[
                ("x-method", parts.method.as_str()),
                ("x-path", &path_and_query),
                ("content-type", "application/octet-stream"),
            ],
        ),
    }
}

fn response(status: StatusCode, body: Body, headers: &[(&'static str, &str)]) -> Response {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h: &mut HeaderMap = r.headers_mut();
    for (n, v) in headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.append(*n, v);
        }
    }
    r
}

/// A private CA and a certificate for localhost/127.0.0.1 signed by it.
pub struct PrivateCa {
    pub ca_pem: String,
    pub leaf_pem: String,
    pub leaf_der: Vec<u8>,
    pub key_pem: String,
    /// PKCS#8
    pub key_der: Vec<u8>,
}

/// A new [`PrivateCa`], the CA named `ca_name`.
pub fn private_ca(ca_name: &str) -> PrivateCa {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, ca_name);
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();

    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let mut leaf_params =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    leaf_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    let leaf = leaf_params.signed_by(&leaf_key, &ca_cert, &ca_key).unwrap();
    PrivateCa {
        ca_pem: ca_cert.pem(),
        leaf_pem: leaf.pem(),
        leaf_der: leaf.der().to_vec(),
        key_pem: leaf_key.serialize_pem(),
        key_der: leaf_key.serialize_der(),
    }
}

/// (CA PEM, leaf PEM, server config with that leaf for localhost/127.0.0.1, signed by
/// that CA).
fn make_tls() -> (String, String, rustls::ServerConfig) {
    let pki = private_ca("http_peer test CA");
    let cfg = server_config(
        vec![pki.leaf_der.into()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(pki.key_der.into()),
    );
    (pki.ca_pem, pki.leaf_pem, cfg)
}

/// The HTTPS listener's configuration: `chain` (the server's certificate first) and its
/// key, ALPN `h2` and `http/1.1`.
fn server_config(
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
) -> rustls::ServerConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("a certificate and its key");
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    cfg
}

// ---------------------------------------------------------------------------------------
// Proxy
// ---------------------------------------------------------------------------------------

/// One request seen by the proxy.
#[derive(Debug, Clone)]
pub struct ProxyRecord {
    /// `GET`, `POST`, `CONNECT`, ...
    pub method: String,
    /// The request target: absolute URL (`http://127.0.0.1:1/x`) or `host:port` for CONNECT.
    pub target: String,
    /// The `Proxy-Authorization` header as received.
    pub proxy_authorization: Option<String>,
    /// Credentials matched (always true for an open proxy).
    pub authorized: bool,
}

struct ProxyShared {
    records: Mutex<Vec<ProxyRecord>>,
    connections: AtomicUsize,
}

/// A forwarding HTTP proxy: absolute-form requests (one per connection, answered with
/// `Connection: close`) and `CONNECT` tunnels. With credentials it answers 407 unless
/// `Proxy-Authorization: Basic base64(user:pass)` matches.
pub struct ProxyPeer {
    rt: Option<tokio::runtime::Runtime>,
    addr: SocketAddr,
    shared: Arc<ProxyShared>,
}

impl ProxyPeer {
    /// A proxy requiring Basic credentials `user`/`pass`.
    pub fn start(user: &str, pass: &str) -> ProxyPeer {
        Self::start_inner(Some(format!(
            "Basic {}",
            base64(format!("{user}:{pass}").as_bytes())
        )))
    }
    /// A proxy without authentication.
    pub fn start_open() -> ProxyPeer {
        Self::start_inner(None)
    }
    fn start_inner(expected: Option<String>) -> ProxyPeer {
        let rt = runtime();
        let shared = Arc::new(ProxyShared {
            records: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
        });
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let s = shared.clone();
        let expected = Arc::new(expected);
        rt.spawn(async move {
            loop {
                if let Ok((sock, _)) = listener.accept().await {
                    s.connections.fetch_add(1, Ordering::SeqCst);
                    let s = s.clone();
                    let expected = expected.clone();
                    tokio::spawn(async move {
                        let _ = proxy_conn(sock, s, expected).await;
                    });
                }
            }
        });
        ProxyPeer {
            rt: Some(rt),
            addr,
            shared,
        }
    }
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// `127.0.0.1:PORT` (the form the official README uses for `proxy`, without scheme).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn requests(&self) -> Vec<ProxyRecord> {
        self.shared.records.lock().unwrap().clone()
    }
    /// TCP connections accepted.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }
}

impl Drop for ProxyPeer {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// Reads until the end of the head (`\r\n\r\n`); returns (head, bytes after it).
async fn read_head(sock: &mut (impl AsyncRead + Unpin)) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..p + 4]).into_owned();
            return Ok((head, buf[p + 4..].to_vec()));
        }
        if buf.len() > 1 << 20 {
            return Err(std::io::Error::other("head too large"));
        }
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

async fn proxy_conn(
    mut client: TcpStream,
    shared: Arc<ProxyShared>,
    expected: Arc<Option<String>>,
) -> std::io::Result<()> {
    let (head, rest) = read_head(&mut client).await?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("").to_string();
    let mut it = request_line.split(' ');
    let method = it.next().unwrap_or("").to_string();
    let target = it.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let auth = find("proxy-authorization");
    let authorized = match expected.as_ref() {
        None => true,
        Some(e) => auth.as_deref() == Some(e.as_str()),
    };
    shared.records.lock().unwrap().push(ProxyRecord {
        method: method.clone(),
        target: target.clone(),
        proxy_authorization: auth,
        authorized,
    });
    if !authorized {
        client
            .write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .await?;
        return client.shutdown().await;
    }
    if method == "CONNECT" {
        let mut upstream = TcpStream::connect(&target).await?;
        client
            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            .await?;
        upstream.write_all(&rest).await?;
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        return Ok(());
    }
    // Absolute form: http://host:port/path
    let without_scheme = target
        .strip_prefix("http://")
        .ok_or_else(|| std::io::Error::other("only http:// targets"))?;
    let (hostport, path) = match without_scheme.find('/') {
        Some(p) => (&without_scheme[..p], &without_scheme[p..]),
        None => (without_scheme, "/"),
    };
    let mut upstream = TcpStream::connect(hostport).await?;
    let mut out = format!("{method} {path} HTTP/1.1\r\n");
    for (n, v) in &headers {
        let l = n.to_ascii_lowercase();
        if l == "proxy-authorization" || l == "proxy-connection" || l == "connection" {
            continue;
        }
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str("Connection: close\r\n\r\n");
    upstream.write_all(out.as_bytes()).await?;
    let len: usize = find("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    upstream.write_all(&rest).await?;
    let mut remaining = len.saturating_sub(rest.len());
    let mut tmp = vec![0u8; 16384];
    while remaining > 0 {
        let n = client.read(&mut tmp[..remaining.min(16384)]).await?;
        if n == 0 {
            break;
        }
        upstream.write_all(&tmp[..n]).await?;
        remaining -= n;
    }
    let mut resp = Vec::new();
    upstream.read_to_end(&mut resp).await?;
    // Rewrite the head with Connection: close (one request per proxied connection).
    if let Some(p) = resp.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&resp[..p]).into_owned();
        let mut new_head = String::new();
        for line in head.split("\r\n") {
            if line.to_ascii_lowercase().starts_with("connection:") {
                continue;
            }
            new_head.push_str(line);
            new_head.push_str("\r\n");
        }
        new_head.push_str("Connection: close\r\n\r\n");
        client.write_all(new_head.as_bytes()).await?;
        client.write_all(&resp[p + 4..]).await?;
    } else {
        client.write_all(&resp).await?;
    }
    client.shutdown().await
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if c.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// A 127.0.0.1 port with nothing listening (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
