//! Open connections per host, for `stats()`. reqwest does not expose its connection pool,
//! so the count comes from the operating system: the process's established TCP sockets
//! (`/proc/self/net/tcp{,6}` joined with the socket inodes under `/proc/self/fd`) whose
//! remote address is one the plugin connects to. The addresses are learnt where the
//! plugin resolves host names (its DNS resolver, below; counted on the ports its requests
//! use) and from URLs with a literal IP.
use hyper_util::client::legacy::connect::HttpInfo;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Mutex, OnceLock};

/// Remote address -> the `host:port` it was reached as.
fn known() -> &'static Mutex<HashMap<SocketAddr, String>> {
    static KNOWN: OnceLock<Mutex<HashMap<SocketAddr, String>>> = OnceLock::new();
    KNOWN.get_or_init(Default::default)
}

/// At most this many addresses are remembered (a process talking to thousands of hosts
/// stops learning new ones; their sockets are then simply not shown).
const MAX_KNOWN: usize = 4096;

/// Remembers that `host:port` was reached at `addrs`.
pub fn learn(host: &str, port: u16, addrs: impl IntoIterator<Item = IpAddr>) {
    let mut k = known().lock().unwrap_or_else(|e| e.into_inner());
    for ip in addrs {
        if k.len() >= MAX_KNOWN {
            return;
        }
        k.entry(SocketAddr::new(ip, port))
            .or_insert_with(|| format!("{host}:{port}"));
    }
}

/// Host names and ports the plugin connects to (a resolved address counts only on these
/// ports, so that the server's own connections to the same machine are not shown).
fn targets() -> &'static Mutex<HashSet<(String, u16)>> {
    static TARGETS: OnceLock<Mutex<HashSet<(String, u16)>>> = OnceLock::new();
    TARGETS.get_or_init(Default::default)
}

thread_local! {
    /// The target this thread learnt last: a thread calling one host again and again (the
    /// usual case) takes no shared lock per call.
    static LAST_LEARNT: std::cell::RefCell<Option<(String, u16)>> =
        const { std::cell::RefCell::new(None) };
}

/// Remembers the target of a request's URL (not a proxy: connections through a proxy are
/// not counted in `stats()`).
pub fn learn_url(url: &reqwest::Url) {
    let Some(port) = url.port_or_known_default() else {
        return;
    };
    let Some(host) = url.host_str() else {
        return;
    };
    let seen = LAST_LEARNT
        .try_with(|last| {
            let Ok(mut last) = last.try_borrow_mut() else {
                return false;
            };
            if last.as_ref().is_some_and(|(h, p)| *p == port && h == host) {
                return true;
            }
            *last = Some((host.to_string(), port));
            false
        })
        .unwrap_or(false);
    if seen {
        return;
    }
    match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(ip) => learn(host, port, [ip]),
        Err(_) => {
            let mut t = targets().lock().unwrap_or_else(|e| e.into_inner());
            if t.len() < MAX_KNOWN {
                t.insert((host.to_ascii_lowercase(), port));
            }
        }
    }
}

/// Connections (local, remote) a response was seen on, per thread (a thread's own clients
/// keep their connections) and for the shared clients; a new one is logged (DEBUG): that
/// is the pool growing. Bounded: past the limit the set starts over (a connection seen
/// again is then logged once more).
const MAX_SEEN: usize = 1024;

thread_local! {
    static SEEN_HERE: RefCell<HashSet<(SocketAddr, SocketAddr)>> = RefCell::new(HashSet::new());
}

fn seen_shared() -> &'static Mutex<HashSet<(SocketAddr, SocketAddr)>> {
    static SEEN: OnceLock<Mutex<HashSet<(SocketAddr, SocketAddr)>>> = OnceLock::new();
    SEEN.get_or_init(Default::default)
}

fn first_sight(
    set: &mut HashSet<(SocketAddr, SocketAddr)>,
    conn: (SocketAddr, SocketAddr),
) -> bool {
    if set.contains(&conn) {
        return false;
    }
    if set.len() >= MAX_SEEN {
        set.clear();
    }
    set.insert(conn)
}

/// Notes the connection a response came on (`info`, from the response's extensions;
/// `shared`: a shared client's); logs it when it is new. `url` names the target (its host
/// and port, never its path or query).
pub fn note_connection(info: Option<&HttpInfo>, url: &reqwest::Url, shared: bool) {
    if !crate::core::log::enabled(crate::core::log::Level::Debug) {
        return;
    }
    let Some(info) = info else {
        return;
    };
    let conn = (info.local_addr(), info.remote_addr());
    let new = if shared {
        first_sight(
            &mut seen_shared().lock().unwrap_or_else(|e| e.into_inner()),
            conn,
        )
    } else {
        SEEN_HERE.with(|s| first_sight(&mut s.borrow_mut(), conn))
    };
    if new {
        crate::core::log::debug(format!(
            "new connection to {}:{} ({} from {}, {})",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0),
            conn.1,
            conn.0,
            if shared {
                "shared client"
            } else {
                "this thread's client"
            }
        ));
    }
}

/// The system resolver (getaddrinfo, on a blocking thread as reqwest's own), recording
/// which name each address came from.
#[derive(Debug, Clone, Default)]
pub struct RecordingResolver;

impl Resolve for RecordingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let lookup = host.clone();
            let addrs: Vec<SocketAddr> = tokio::task::spawn_blocking(move || {
                std::net::ToSocketAddrs::to_socket_addrs(&(lookup.as_str(), 0))
                    .map(|a| a.collect::<Vec<_>>())
            })
            .await
            .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { Box::new(e) })??;
            {
                let mut names = resolved().lock().unwrap_or_else(|e| e.into_inner());
                for a in &addrs {
                    if names.len() < MAX_KNOWN {
                        names.entry(a.ip()).or_insert_with(|| host.clone());
                    }
                }
            }
            let out: Addrs = Box::new(addrs.into_iter());
            Ok(out)
        })
    }
}

/// IP -> the host name that resolved to it (ports come from the sockets).
fn resolved() -> &'static Mutex<HashMap<IpAddr, String>> {
    static RESOLVED: OnceLock<Mutex<HashMap<IpAddr, String>>> = OnceLock::new();
    RESOLVED.get_or_init(Default::default)
}

/// The inodes of this process's sockets.
fn own_socket_inodes() -> HashSet<u64> {
    let mut out = HashSet::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return out;
    };
    for e in dir.flatten() {
        if let Ok(target) = std::fs::read_link(e.path()) {
            let t = target.to_string_lossy();
            if let Some(n) = t.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')) {
                if let Ok(inode) = n.parse() {
                    out.insert(inode);
                }
            }
        }
    }
    out
}

/// `0100007F:1F90` (little-endian hex IPv4) or the 32-digit IPv6 form, and a hex port.
fn parse_proc_addr(s: &str) -> Option<SocketAddr> {
    let (ip, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = match ip.len() {
        8 => IpAddr::V4(Ipv4Addr::from(
            u32::from_str_radix(ip, 16).ok()?.swap_bytes(),
        )),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_mut(4).enumerate() {
                let word = u32::from_str_radix(&ip[i * 8..i * 8 + 8], 16).ok()?;
                chunk.copy_from_slice(&word.to_le_bytes());
            }
            let v6 = Ipv6Addr::from(bytes);
            match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(v6),
            }
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// Established connections of this process to the hosts the plugin reaches, per
/// `host:port`, sorted by name.
pub fn open_connections() -> Vec<(String, u64)> {
    let inodes = own_socket_inodes();
    let known = known().lock().unwrap_or_else(|e| e.into_inner()).clone();
    let resolved = resolved().lock().unwrap_or_else(|e| e.into_inner()).clone();
    let targets = targets().lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut counts: HashMap<String, u64> = HashMap::new();
    for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // sl local remote st ... inode (field 9)
            if f.len() < 10 || f[3] != "01" {
                continue;
            }
            let Ok(inode) = f[9].parse::<u64>() else {
                continue;
            };
            if !inodes.contains(&inode) {
                continue;
            }
            let Some(remote) = parse_proc_addr(f[2]) else {
                continue;
            };
            let name = known.get(&remote).cloned().or_else(|| {
                resolved
                    .get(&remote.ip())
                    .filter(|h| targets.contains(&(h.to_ascii_lowercase(), remote.port())))
                    .map(|h| format!("{h}:{}", remote.port()))
            });
            if let Some(name) = name {
                *counts.entry(name).or_default() += 1;
            }
        }
    }
    let mut out: Vec<(String, u64)> = counts.into_iter().collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_addresses() {
        assert_eq!(
            parse_proc_addr("0100007F:1F90"),
            Some("127.0.0.1:8080".parse().unwrap())
        );
        assert_eq!(
            parse_proc_addr("0000000000000000FFFF00000100007F:0050"),
            Some("127.0.0.1:80".parse().unwrap())
        );
    }

    #[test]
    fn counts_this_process_sockets_to_learnt_hosts() {
        let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        learn("127.0.0.1", port, ["127.0.0.1".parse().unwrap()]);
        let _a = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let _b = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let name = format!("127.0.0.1:{port}");
        let n = open_connections()
            .into_iter()
            .find(|(h, _)| *h == name)
            .map(|(_, n)| n);
        // both client sockets (the accepted ends are not connected from a learnt port)
        assert_eq!(n, Some(2));
    }
}
