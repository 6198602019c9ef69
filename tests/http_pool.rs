//! The per-thread clients (src/core/http/client_pool.rs): each calling thread runs its
//! requests on its own runtime with its own pooled connections, TLS sessions shared across
//! threads; a connection the server closed between two calls is not reused; a thread's
//! connections close when it ends, or (idle) when the sweeper visits; callers inside a
//! tokio runtime and the shared path (`with_shared_clients`) work and fail alike.
mod common;

use common::http_peer::{self, HttpPeer};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use PluginHttpClient::core::http::client_pool::{sweep_idle, with_shared_clients};
use PluginHttpClient::core::http::*;

fn get(url: String) -> Request {
    Request {
        method: Method::Get,
        url: RequestUrl::new(&url).unwrap(),
        params: None,
        timeout_ms: 10_000,
        headers: Vec::new(),
        config: HttpConfig::default(),
    }
}

/// Sockets of this process (its open file descriptors) connected to `port` on 127.0.0.1,
/// in any TCP state.
fn client_sockets_to(port: u16) -> usize {
    let mut inodes = std::collections::HashSet::new();
    for e in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        if let Ok(t) = std::fs::read_link(e.path()) {
            let t = t.to_string_lossy().into_owned();
            if let Some(n) = t.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')) {
                inodes.insert(n.to_string());
            }
        }
    }
    let remote = format!("0100007F:{port:04X}");
    let text = std::fs::read_to_string("/proc/self/net/tcp").unwrap();
    text.lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 9 && f[2] == remote && inodes.contains(f[9])
        })
        .count()
}

/// Waits (bounded) until `cond` holds; false when it never did.
fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

/// A plain HTTP/1.1 peer that answers every request with keep-alive headers, and closes a
/// connection after each answer when told to (as a server whose keep-alive timeout is
/// shorter than the client's pause), reporting each close. Counts accepted and open
/// connections.
struct ClosingPeer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
    closed: mpsc::Receiver<()>,
}

impl ClosingPeer {
    fn start(close_after_answer: bool) -> ClosingPeer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(AtomicUsize::new(0));
        let (tx, closed) = mpsc::channel();
        let (a, o) = (accepted.clone(), open.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                a.fetch_add(1, Ordering::SeqCst);
                o.fetch_add(1, Ordering::SeqCst);
                let (o, tx) = (o.clone(), tx.clone());
                std::thread::spawn(move || {
                    serve(stream, close_after_answer);
                    o.fetch_sub(1, Ordering::SeqCst);
                    let _ = tx.send(());
                });
            }
        });
        ClosingPeer {
            addr,
            accepted,
            open,
            closed,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/x", self.addr)
    }
}

/// Answers requests (no bodies expected) until EOF, or once when `close_after_answer`.
fn serve(stream: TcpStream, close_after_answer: bool) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut line = String::new();
        // request line + headers
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" => break,
                Ok(_) => {}
            }
        }
        let body = "ok";
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=60\r\n\r\n{body}",
            body.len()
        );
        if out.write_all(answer.as_bytes()).is_err() {
            return;
        }
        if close_after_answer {
            // Let the answer be read as a complete keep-alive response first.
            std::thread::sleep(Duration::from_millis(50));
            let _ = out.shutdown(std::net::Shutdown::Both);
            return;
        }
    }
}

#[test]
fn sequential_calls_on_one_thread_use_one_connection() {
    let peer = HttpPeer::start();
    std::thread::spawn(move || {
        for _ in 0..30 {
            assert_eq!(
                execute(&get(format!("{}/echo", peer.base_url())))
                    .unwrap()
                    .status,
                200
            );
        }
        assert_eq!(peer.connections(), 1);
        let mut r = get(format!("{}/echo", peer.https_base_url()));
        r.config.verify_ssl = false;
        for _ in 0..30 {
            assert_eq!(execute(&r).unwrap().status, 200);
        }
        assert_eq!(peer.tls_connections(), 1);
    })
    .join()
    .unwrap();
}

#[test]
fn each_thread_keeps_its_own_connection() {
    let peer = HttpPeer::start();
    let url = format!("{}/echo", peer.base_url());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..20 {
                    assert_eq!(execute(&get(url.clone())).unwrap().status, 200);
                }
            });
        }
    });
    assert_eq!(peer.requests().len(), 80);
    assert_eq!(peer.connections(), 4);
}

#[test]
fn a_thread_alternating_configurations_keeps_a_connection_for_each() {
    let peer = HttpPeer::start();
    let url = format!("{}/echo", peer.base_url());
    std::thread::spawn(move || {
        for i in 0..20 {
            let mut r = get(url.clone());
            r.config.user_agent = Some(format!("agent-{}", i % 2));
            assert_eq!(execute(&r).unwrap().status, 200);
            let rec = peer.last_request().unwrap();
            assert_eq!(
                rec.header("user-agent"),
                Some(format!("agent-{}", i % 2).as_str())
            );
        }
        assert_eq!(peer.connections(), 2);
        // more configurations than a thread keeps clients for: all still work
        for i in 0..12 {
            let mut r = get(url.clone());
            r.config.user_agent = Some(format!("many-{}", i % 6));
            assert_eq!(execute(&r).unwrap().status, 200);
        }
    })
    .join()
    .unwrap();
}

#[test]
fn a_connection_the_server_closed_between_calls_is_not_reused() {
    let peer = ClosingPeer::start(true);
    std::thread::spawn(move || {
        for i in 0..10 {
            let r = execute(&get(peer.url()));
            assert_eq!(
                r.map(|r| r.status).map_err(|e| e.message().to_string()),
                Ok(200),
                "call {i}"
            );
            // the server has closed this call's connection before the next call starts
            peer.closed
                .recv_timeout(Duration::from_secs(10))
                .expect("the peer closes");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(peer.accepted.load(Ordering::SeqCst), 10);
    })
    .join()
    .unwrap();
}

#[test]
fn a_thread_that_ends_closes_its_connections() {
    let peer = ClosingPeer::start(false);
    let url = peer.url();
    std::thread::spawn(move || {
        for _ in 0..3 {
            assert_eq!(execute(&get(url.clone())).unwrap().status, 200);
        }
    })
    .join()
    .unwrap();
    assert_eq!(peer.accepted.load(Ordering::SeqCst), 1);
    assert!(
        eventually(|| peer.open.load(Ordering::SeqCst) == 0),
        "the ended thread's connection is still open"
    );
    assert_eq!(client_sockets_to(peer.addr.port()), 0);
}

#[test]
fn the_sweeper_releases_connections_of_an_idle_thread() {
    let peer = ClosingPeer::start(true);
    let url = peer.url();
    let (go_on, wait) = mpsc::channel::<()>();
    let (called, first_done) = mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        assert_eq!(execute(&get(url.clone())).unwrap().status, 200);
        called.send(()).unwrap();
        wait.recv().unwrap();
        // after the sweep, the thread calls again: a new connection, no failure
        assert_eq!(execute(&get(url)).unwrap().status, 200);
    });
    first_done.recv().unwrap();
    peer.closed
        .recv_timeout(Duration::from_secs(10))
        .expect("the peer closes");
    // The server closed; the idle thread's runtime has not run since, so its socket is
    // still there (half-closed) until someone drives that runtime.
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(client_sockets_to(peer.addr.port()), 1);
    assert!(sweep_idle() >= 1);
    assert!(
        eventually(|| {
            sweep_idle();
            client_sockets_to(peer.addr.port()) == 0
        }),
        "the sweep did not release the closed connection"
    );
    go_on.send(()).unwrap();
    worker.join().unwrap();
    assert_eq!(peer.accepted.load(Ordering::SeqCst), 2);
}

#[test]
fn a_caller_inside_a_tokio_runtime_is_served() {
    let peer = HttpPeer::start();
    let url = format!("{}/echo", peer.base_url());
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = current.block_on(async { execute(&get(url.clone())).map(|r| r.status) });
    assert_eq!(status.unwrap(), 200);
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let u = url.clone();
    let status = multi
        .block_on(
            async move { tokio::spawn(async move { execute(&get(u)).map(|r| r.status) }).await },
        )
        .unwrap();
    assert_eq!(status.unwrap(), 200);
}

/// The same failures described the same way on the per-thread path and on the shared one.
#[test]
fn both_paths_fail_alike() {
    let peer = HttpPeer::start();
    let mut hang = get(format!("{}/hang", peer.base_url()));
    hang.timeout_ms = 200;
    let mut large = get(format!("{}/large/5000", peer.base_url()));
    large.config.max_response_bytes = 100;
    let mut stall = get(format!("{}/stall-body", peer.base_url()));
    stall.timeout_ms = 300;
    let refused = get(format!("http://127.0.0.1:{}/x", http_peer::closed_port()));
    let untrusted = get(format!("{}/echo", peer.https_base_url()));
    let cases = [hang, large, stall, refused, untrusted];
    let describe = |r: &Request| {
        let e = execute(r).unwrap_err();
        (format!("{:?}", e.cause()), e.message().to_string())
    };
    std::thread::spawn(move || {
        for r in &cases {
            let local = describe(r);
            let shared = with_shared_clients(|| describe(r));
            assert_eq!(local, shared);
        }
        // and the limits themselves
        let e = execute(&cases[0]).unwrap_err();
        assert!(
            e.message().contains("did not complete within 200 ms"),
            "{}",
            e.message()
        );
        let e = execute(&cases[1]).unwrap_err();
        assert!(
            e.message().contains("maxResponseBytes=100"),
            "{}",
            e.message()
        );
        let e = execute(&cases[2]).unwrap_err();
        assert!(
            e.message().contains("while reading the response body"),
            "{}",
            e.message()
        );
    })
    .join()
    .unwrap();
}
