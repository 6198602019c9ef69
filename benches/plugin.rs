//! Performance benchmark (issues 8 and 16), NOT part of the test suite:
//! `cargo bench --bench plugin`. Method and results: docs/performance.md.
//!
//! Everything on 127.0.0.1, in one run. The HTTP server is nginx when installed (`apt-get
//! install -y nginx-light wrk`; certificates from a private CA made for the run), else the
//! test peer of `tests/common/http_peer.rs`. Contenders, each a process of its own:
//! - **ours**: sequential httpGet / httpPost (small JSON body) over HTTP and HTTPS through the
//!   test host (`host-2.00.16`) and the plugin, timed by the host's own line output:
//!   `#repeat 1 <call>` (warm-up, not timed) then `#repeat N <call>`; the time between the two
//!   `REPEAT` lines is N calls (host start-up and plugin load are outside it). Also with
//!   `HTTPCLIENT_PER_THREAD=0`: every call through the shared blocking client, the design
//!   before issue 16 (a hand-off to the client's runtime thread and back per call);
//! - the same requests via `core::http::execute` (no host, no ABI layer), raw reqwest blocking
//!   with one reused client, and raw async reqwest driven on the calling thread by a
//!   current-thread runtime (the floor of our design), each in a process of its own (this
//!   binary with `BENCH_CHILD`) speaking the host's `REPEAT` protocol;
//! - the official plugin's way: a fresh libcurl easy handle per request (`curl_per_call.c`,
//!   Debian's libcurl/OpenSSL, verification on with the test CA as CAINFO);
//! - **the limit**: `wrk -t1 -c1` (one keep-alive connection, one request at a time), when
//!   installed;
//! - the host's floor: `httpClient::flush(0)` (a no-op plugin call returning an INT) and, for
//!   reference, `httpClient::version()` (which builds a 10-entry dictionary);
//! - 16 concurrent callers vs 1 (`host --threads 16`), with the CPU used;
//! - what an idle calling thread keeps (memory, fds) and what a short-lived thread's only
//!   call costs, per-thread vs shared clients;
//! - messaging: robotSend to a local platform emulator, one webhook (the calling thread's
//!   client) and four (the fan-out's threads, through the shared clients); and `async`
//!   against synchronous: how fast the calls return to the caller (a stream handler's view);
//! - sendEmail against the local SMTP server (aiosmtpd, implicit TLS): ours pooled through the
//!   host, lettre pooled in process, lettre one connection per mail, libcurl smtps per mail;
//! - instructions per plain-HTTP httpGet and httpPost (callgrind, repeatable where time is
//!   not).
//!
//! Every measurement is the best of `BENCH_ROUNDS` (default 3) rounds, the contenders of one
//! workload interleaved within a round (the machine is shared: compare ratios from the same
//! run). `BENCH_SCALE` (default 1.0) scales every call count.
//! `BENCH_ONLY=http|https|conc|idle|msg|email|instr` runs some groups (comma-separated).
//! `BENCH_PIN=1` pins the sequential groups (measured process on CPU 0, server on the last
//! CPU). `BENCH_PEER=test` uses the test peer even when nginx is installed.
#[path = "../tests/common/host.rs"]
mod host;
#[path = "../tests/common/http_peer.rs"]
mod http_peer;
#[path = "../tests/common/platform_emulator.rs"]
mod platform_emulator;
#[path = "../tests/common/smtp_peer.rs"]
mod smtp_peer;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use PluginHttpClient::core::email::{self, Content, EmailAddress, EmailOptions, Mail};
use PluginHttpClient::core::http::{self, Header, HttpConfig, Method, Params, Request, RequestUrl};

const VERSION: &str = "2.00.16";
const JSON_BODY: &str =
    r#"{"msgtype":"text","text":{"content":"DolphinDB alert: quote delay 3s"}}"#;
const TIMEOUT_MS: u64 = 5000;
/// The environment that turns the per-thread clients off (every call through the shared
/// blocking client: the design before issue 16).
const SHARED_ONLY: (&str, &str) = ("HTTPCLIENT_PER_THREAD", "0");

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn scaled(n: usize) -> usize {
    ((n as f64 * env_f64("BENCH_SCALE", 1.0)) as usize).max(5)
}

/// One measurement: `calls` in `secs`, and (when known) CPU seconds of the measured process
/// and of this process (the test peers' threads) over the same interval.
#[derive(Clone, Copy, Default)]
struct M {
    calls: usize,
    secs: f64,
    host_cpu: f64,
    peer_cpu: f64,
}

impl M {
    fn rate(&self) -> f64 {
        self.calls as f64 / self.secs
    }
    fn us(&self) -> f64 {
        1e6 * self.secs / self.calls as f64
    }
}

fn best(a: Option<M>, b: M) -> Option<M> {
    match a {
        Some(a) if a.rate() >= b.rate() => Some(a),
        _ => Some(b),
    }
}

/// utime + stime of a process, seconds ("self": this process, all its threads).
fn cpu_of(pid: &str) -> f64 {
    if pid == "self" {
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
        let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        return tv(ru.ru_utime) + tv(ru.ru_stime);
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let t = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat; `after` starts at field 3
    (t(11) + t(12)) / tick
}

/// Whether measured processes are placed on CPU 0 (see [`pin_this_process`]).
static PINNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn set_affinity(tid: libc::pid_t, cpus: &[usize]) {
    // SAFETY: a zeroed cpu_set_t is an empty set; CPU_SET and sched_setaffinity only read
    // and write that local set (an unknown tid just fails).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cpus {
            libc::CPU_SET(c, &mut set);
        }
        libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// Every thread of this process (the test peers') onto `cpus`; threads the peers start
/// later inherit it.
fn pin_this_process(cpus: &[usize]) {
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        if let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) {
            set_affinity(tid, cpus);
        }
    }
}

/// `cmd`, placed on CPU 0 when the sequential groups run pinned (`BENCH_PIN=1`).
fn placed(mut cmd: Command) -> Command {
    if PINNED.load(std::sync::atomic::Ordering::Relaxed) {
        use std::os::unix::process::CommandExt;
        // SAFETY: between fork and exec only a system call on the child itself.
        unsafe {
            cmd.pre_exec(|| {
                set_affinity(0, &[0]);
                Ok(())
            })
        };
    }
    cmd
}

/// Reads a measured process's output: the first `REPEAT` line ends the warm-up, the second the
/// `calls` timed calls (start-up, loading and the first connection stay outside the interval).
fn run_marked(
    cmd: Command,
    stdin_script: Option<String>,
    (warm, calls): (usize, usize),
    what: &str,
) -> M {
    let mut child = placed(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn measured process");
    let pid = child.id().to_string();
    // stderr drained on a thread of its own: a process logging a warning per call must
    // not block on a full pipe (its last lines are kept for the failure message)
    let err = BufReader::new(child.stderr.take().unwrap());
    let err_tail = std::thread::spawn(move || {
        let mut tail = std::collections::VecDeque::new();
        for line in err.lines().map_while(Result::ok) {
            if tail.len() == 5 {
                tail.pop_front();
            }
            tail.push_back(line);
        }
        tail
    });
    let mut stdin = child.stdin.take().unwrap();
    if let Some(script) = stdin_script {
        stdin.write_all(script.as_bytes()).unwrap();
    }
    drop(stdin);
    let out = BufReader::new(child.stdout.take().unwrap());
    let mut marks = Vec::new();
    let mut other = Vec::new();
    for line in out.lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("REPEAT ") {
            marks.push((Instant::now(), cpu_of(&pid), cpu_of("self")));
            let want = if marks.len() == 1 { warm } else { calls };
            if rest != format!("ok={want} err=0") {
                let _ = child.kill();
                panic!(
                    "{what}: {rest}\nearlier output: {other:?}\nstderr: {:?}",
                    err_tail.join().unwrap_or_default()
                );
            }
        } else if !line.starts_with("LOADED") && !line.starts_with("OK") {
            other.push(line);
        }
    }
    let status = child.wait().unwrap();
    let err_tail = err_tail.join().unwrap_or_default();
    assert!(
        status.success() && marks.len() == 2,
        "{what} failed: {other:?}\nstderr: {err_tail:?}"
    );
    let (t0, h0, p0) = marks[0];
    let (t1, h1, p1) = marks[1];
    M {
        calls,
        secs: (t1 - t0).as_secs_f64(),
        host_cpu: h1 - h0,
        peer_cpu: p1 - p0,
    }
}

struct Host {
    bin: PathBuf,
    dir: PathBuf,
}

impl Host {
    fn command(&self, threads: usize, env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(["--threads", &threads.to_string()])
            .arg(self.dir.join("PluginHttpClient.txt"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// `setup` lines, `#repeat 1 call` (warm-up) and `#repeat n call`.
    fn script(setup: &[String], call: &str, n: usize) -> String {
        let mut script = String::new();
        for s in setup {
            script.push_str(s);
            script.push('\n');
        }
        script.push_str(&format!("#repeat 1 {call}\n#repeat {n} {call}\n"));
        script
    }

    /// Runs the script in one host process with `threads` threads, timing the `n` calls of
    /// each thread. (The host runs each `#repeat` line on threads of its own: the timed
    /// calls' threads start with no runtime, client or connection; their first call makes
    /// them, inside the timed interval.)
    fn repeat(&self, threads: usize, setup: &[String], call: &str, n: usize) -> M {
        self.repeat_env(threads, setup, call, n, &[])
    }

    fn repeat_env(
        &self,
        threads: usize,
        setup: &[String],
        call: &str,
        n: usize,
        env: &[(&str, &str)],
    ) -> M {
        run_marked(
            self.command(threads, env),
            Some(Self::script(setup, call, n)),
            (threads, threads * n),
            &format!("host: {call}"),
        )
    }
}

/// One baseline workload (no host, no plugin): what a `BENCH_CHILD` process runs.
struct Baseline<'a> {
    /// `raw`: raw reqwest blocking with one reused client; `async`: raw async reqwest on a
    /// current-thread runtime of the calling thread; `core`: `core::http::execute`.
    kind: &'static str,
    url: &'a str,
    post: bool,
    /// CA file for HTTPS, or "-".
    ca: &'a str,
    threads: usize,
}

impl Baseline<'_> {
    /// The baselines run in a process of their own (this benchmark binary again, with
    /// `BENCH_CHILD` set), so they share the machine with the server exactly as the host does.
    fn command(&self, n: usize) -> Command {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.env("BENCH_CHILD", self.kind).args([
            self.url,
            &n.to_string(),
            if self.post { "post" } else { "get" },
            self.ca,
            &self.threads.to_string(),
        ]);
        cmd
    }

    fn run(&self, n: usize) -> M {
        run_marked(
            self.command(n),
            None,
            (self.threads, self.threads * n),
            &format!("baseline {}", self.kind),
        )
    }
}

/// The child side of `Baseline::command`: a warm-up call per thread, `REPEAT`, n calls per
/// thread, `REPEAT` — the host's `#repeat` protocol.
fn child_main(kind: &str) {
    if kind == "idle" {
        return idle_child();
    }
    let a: Vec<String> = std::env::args().skip(1).collect();
    let (url, n, post, ca) = (&a[0], a[1].parse::<usize>().unwrap(), a[2] == "post", &a[3]);
    let threads: usize = a[4].parse().unwrap();
    let ca_file = (ca != "-").then_some(ca.as_str());
    let client = raw_client(ca_file);
    let req = core_request(url, post, ca_file);
    let each = |calls: usize| {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| match kind {
                    "raw" => (0..calls).for_each(|_| raw_call(&client, url, post)),
                    "async" => {
                        // Built per thread, like ours: a runtime and a client per thread.
                        let rt = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .unwrap();
                        let client = raw_async_client(ca_file);
                        for _ in 0..calls {
                            rt.block_on(raw_async_call(&client, url, post));
                        }
                    }
                    "core" => (0..calls).for_each(|_| {
                        let r = http::execute(&req).unwrap();
                        assert_eq!(r.status, 200);
                    }),
                    other => panic!("BENCH_CHILD={other}"),
                });
            }
        })
    };
    each(1);
    println!("REPEAT ok={threads} err=0");
    each(n);
    println!("REPEAT ok={} err=0", threads * n);
}

/// Resident memory (kB) and open file descriptors of this process.
fn rss_and_fds() -> (f64, usize) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    let fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count());
    (rss, fds)
}

/// `BENCH_CHILD=idle URL THREADS CA`: what an idle calling thread costs, and what a thread's
/// first call costs. THREADS threads start and wait (memory, fds measured); each makes two
/// calls through `core::http::execute` and waits (measured again: the difference is what
/// the threads keep while idle); then THREADS short-lived threads, one after the other,
/// each make one call and end (time per thread). Prints `IDLE rss0 rss1 fds0 fds1` and
/// `FIRST µs`.
fn idle_child() {
    use std::sync::{Arc, Barrier};
    let a: Vec<String> = std::env::args().skip(1).collect();
    let (url, threads, ca) = (a[0].clone(), a[1].parse::<usize>().unwrap(), a[2].clone());
    let req = Arc::new(core_request(&url, false, Some(&ca)));
    // one call on this thread first: the shared TLS configuration, the roots, the sweeper
    assert_eq!(http::execute(&req).unwrap().status, 200);
    let started = Arc::new(Barrier::new(threads + 1));
    let called = Arc::new(Barrier::new(threads + 1));
    let done = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (started, called, done, req) =
                (started.clone(), called.clone(), done.clone(), req.clone());
            std::thread::spawn(move || {
                started.wait();
                started.wait();
                for _ in 0..2 {
                    assert_eq!(http::execute(&req).unwrap().status, 200);
                }
                called.wait();
                done.wait();
            })
        })
        .collect();
    started.wait();
    let (rss0, fds0) = rss_and_fds();
    started.wait();
    called.wait();
    std::thread::sleep(Duration::from_millis(200));
    let (rss1, fds1) = rss_and_fds();
    done.wait();
    handles.into_iter().for_each(|h| h.join().unwrap());
    println!("IDLE {rss0} {rss1} {fds0} {fds1}");
    let t0 = Instant::now();
    for _ in 0..threads {
        let req = req.clone();
        std::thread::spawn(move || assert_eq!(http::execute(&req).unwrap().status, 200))
            .join()
            .unwrap();
    }
    println!(
        "FIRST {:.1}",
        1e6 * t0.elapsed().as_secs_f64() / threads as f64
    );
}

/// Runs [`idle_child`]: (kB kept per idle thread, fds kept per idle thread, µs for a
/// short-lived thread's only call).
fn idle_run(url: &str, ca: &str, threads: usize, env: &[(&str, &str)]) -> (f64, f64, f64) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.env("BENCH_CHILD", "idle")
        .args([url, &threads.to_string(), ca]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("idle child");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "idle child: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let field = |p: &str| -> Vec<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(p))
            .map(|r| {
                r.split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    let idle = field("IDLE ");
    let first = field("FIRST ");
    let n = threads as f64;
    ((idle[1] - idle[0]) / n, (idle[3] - idle[2]) / n, first[0])
}

/// Builds the C baseline (once) into the target directory.
fn curl_program() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let out = exe.parent().unwrap().join("curl_per_call");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/curl_per_call.c");
    let st = Command::new("cc")
        .args(["-O2", "-Wall"])
        .arg(&src)
        .args(["-lcurl", "-o"])
        .arg(&out)
        .status()
        .expect("cc");
    assert!(
        st.success(),
        "building benches/curl_per_call.c failed (apt-get install -y libcurl4-openssl-dev)"
    );
    out
}

fn curl_run(prog: &Path, args: &[&str], n: usize) -> M {
    let out = placed(Command::new(prog))
        .arg(args[0])
        .arg(n.to_string())
        .args(&args[1..])
        .output()
        .expect("run curl_per_call");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "curl_per_call {args:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secs: f64 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("SECONDS");
    M {
        calls: n,
        secs,
        ..M::default()
    }
}

/// `wrk -t1 -c1`: one connection, one request at a time, for `secs` seconds. None when
/// wrk is not installed.
fn wrk_run(url: &str, post: bool, secs: u64, tmp: &Path) -> Option<M> {
    let mut cmd = placed(Command::new("wrk"));
    cmd.args(["-t1", "-c1", &format!("-d{secs}s")]);
    if post {
        let script = tmp.join("wrk-post.lua");
        std::fs::write(
            &script,
            format!(
                "wrk.method = \"POST\"\nwrk.body = '{JSON_BODY}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
            ),
        )
        .ok()?;
        cmd.arg("-s").arg(script);
    }
    let out = cmd.arg(url).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let total: usize = text
        .lines()
        .find(|l| l.contains("requests in"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let rate: f64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))?
        .trim()
        .parse()
        .ok()?;
    if text.contains("Non-2xx") || text.contains("Socket errors") {
        eprintln!("bench: wrk reported errors:\n{text}");
    }
    Some(M {
        calls: total,
        secs: total as f64 / rate,
        ..M::default()
    })
}

fn timed(n: usize, mut f: impl FnMut()) -> M {
    f(); // warm-up: connection (and TLS session) established
    let p0 = cpu_of("self");
    let t0 = Instant::now();
    for _ in 0..n {
        f();
    }
    M {
        calls: n,
        secs: t0.elapsed().as_secs_f64(),
        peer_cpu: cpu_of("self") - p0,
        ..M::default()
    }
}

fn raw_client(ca_file: Option<&str>) -> reqwest::blocking::Client {
    // Configured like src/core/http/client_pool.rs builds ours.
    let mut b = reqwest::blocking::Client::builder();
    if let Some(ca) = ca_file {
        let pem = std::fs::read(ca).unwrap();
        b = b.add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
    }
    b.use_rustls_tls()
        .timeout(None::<Duration>)
        .tcp_keepalive(Duration::from_secs(60))
        .pool_idle_timeout(Duration::from_secs(90))
        .http1_title_case_headers()
        .user_agent("curl/7.47.0")
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn raw_call(client: &reqwest::blocking::Client, url: &str, post: bool) {
    let b = if post {
        client
            .post(url)
            .header("Content-Type", "application/json")
            .body(JSON_BODY)
    } else {
        client.get(url)
    };
    let r = b.timeout(Duration::from_millis(TIMEOUT_MS)).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let _ = r.headers().len();
    let body = r.bytes().unwrap();
    std::hint::black_box(body);
}

fn raw_async_client(ca_file: Option<&str>) -> reqwest::Client {
    let mut b = reqwest::Client::builder();
    if let Some(ca) = ca_file {
        let pem = std::fs::read(ca).unwrap();
        b = b.add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
    }
    b.use_rustls_tls()
        .tcp_keepalive(Duration::from_secs(60))
        .pool_idle_timeout(Duration::from_secs(90))
        .http1_title_case_headers()
        .user_agent("curl/7.47.0")
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn raw_async_call(client: &reqwest::Client, url: &str, post: bool) {
    let b = if post {
        client
            .post(url)
            .header("Content-Type", "application/json")
            .body(JSON_BODY)
    } else {
        client.get(url)
    };
    let r = b
        .timeout(Duration::from_millis(TIMEOUT_MS))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let _ = r.headers().len();
    let body = r.bytes().await.unwrap();
    std::hint::black_box(body);
}

fn core_request(url: &str, post: bool, ca_file: Option<&str>) -> Request {
    let config = HttpConfig {
        ca_file: ca_file.map(str::to_string),
        ..HttpConfig::default()
    };
    Request {
        method: if post { Method::Post } else { Method::Get },
        url: RequestUrl::new(url).unwrap(),
        params: post.then(|| Params::Raw(JSON_BODY.as_bytes().to_vec())),
        timeout_ms: TIMEOUT_MS,
        headers: if post {
            vec![Header::new("Content-Type", "application/json").unwrap()]
        } else {
            vec![]
        },
        config,
    }
}

fn host_call(url: &str, post: bool, ca_file: Option<&str>) -> String {
    let config = ca_file
        .map(|ca| format!(", {{\"caFile\": {}}}", host::lit(ca)))
        .unwrap_or_default();
    if post {
        format!(
            "httpClient::httpPost({}, {}, {TIMEOUT_MS}, {{\"Content-Type\": \"application/json\"}}{config})",
            host::lit(url),
            host::lit(JSON_BODY)
        )
    } else if config.is_empty() {
        format!("httpClient::httpGet({}, , {TIMEOUT_MS})", host::lit(url))
    } else {
        format!(
            "httpClient::httpGet({}, , {TIMEOUT_MS}, {config})",
            host::lit(url)
        )
    }
}

/// The HTTP(S) server of the run: nginx (when installed), or the test peer.
struct Server {
    http: String,
    https: String,
    /// PEM file of the CA that signed the HTTPS certificate.
    ca: String,
    what: String,
    nginx: Option<Child>,
    _peer: Option<http_peer::HttpPeer>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut n) = self.nginx.take() {
            // our own child (nginx -g 'daemon off; master_process off;'), by its pid
            let _ = n.kill();
            let _ = n.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_server(tmp: &Path) -> Server {
    let use_nginx = std::env::var("BENCH_PEER").map_or(true, |p| p != "test")
        && Command::new("nginx").arg("-v").output().is_ok();
    if use_nginx {
        let pki = http_peer::private_ca("bench private CA");
        let (ca, cert, key) = (pki.ca_pem, pki.leaf_pem, pki.key_pem);
        let dir = tmp.join("nginx");
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in [("ca.pem", &ca), ("cert.pem", &cert), ("key.pem", &key)] {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let (hp, sp) = (free_port(), free_port());
        let d = dir.display();
        // One worker, like a small service; keep-alive without a request limit.
        let conf = format!(
            "worker_processes 1;\nerror_log {d}/error.log;\npid {d}/nginx.pid;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n  keepalive_requests 10000000;\n  keepalive_timeout 75s;\n\
               client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fcgi;\n\
               uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
               server {{\n    listen 127.0.0.1:{hp};\n    listen 127.0.0.1:{sp} ssl;\n\
                 ssl_certificate {d}/cert.pem;\n    ssl_certificate_key {d}/key.pem;\n\
                 location / {{ default_type application/json; return 200 '{{\"ok\":true}}'; }}\n  }}\n}}\n"
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let child = Command::new("nginx")
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .args(["-g", "daemon off; master_process off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx");
        let up = (0..200).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            std::net::TcpStream::connect(("127.0.0.1", sp)).is_ok()
        });
        assert!(up, "nginx did not start: see {d}/error.log");
        return Server {
            http: format!("http://127.0.0.1:{hp}"),
            https: format!("https://127.0.0.1:{sp}"),
            ca: dir.join("ca.pem").to_string_lossy().into_owned(),
            what: "nginx (one worker process, `return 200` with a 11-byte JSON body)".into(),
            nginx: Some(child),
            _peer: None,
        };
    }
    let peer = http_peer::HttpPeer::start();
    let ca = tmp.join("http-ca.pem");
    std::fs::write(&ca, peer.ca_pem()).unwrap();
    Server {
        http: peer.base_url(),
        https: peer.https_base_url(),
        ca: ca.to_string_lossy().into_owned(),
        what: "the test peer (axum, in the benchmark's process; /echo answers the body)".into(),
        nginx: None,
        _peer: Some(peer),
    }
}

/// The server process's CPU seconds (nginx), or this process's (the test peer).
fn server_cpu(server: &Server) -> f64 {
    match &server.nginx {
        Some(n) => cpu_of(&n.id().to_string()),
        None => cpu_of("self"),
    }
}

struct Row {
    name: String,
    ours: M,
    shared: Option<M>,
    core: Option<M>,
    raw: Option<M>,
    raw_async: Option<M>,
    curl: Option<M>,
    wrk: Option<M>,
}

fn fmt_rate(m: Option<M>) -> String {
    m.map(|m| format!("{:.0}", m.rate()))
        .unwrap_or_else(|| "–".into())
}

fn ratio(a: f64, b: Option<M>) -> String {
    b.map(|b| format!("{:.2}x", a / b.rate()))
        .unwrap_or_else(|| "–".into())
}

fn print_table(rows: &[Row], floor: M) {
    println!();
    println!("| workload (calls/s) | ours: host+plugin | ours, shared clients (`HTTPCLIENT_PER_THREAD=0`, before) | core::execute | raw reqwest blocking | raw reqwest async, calling thread | libcurl per call | wrk -c1 | ours / libcurl | ours / before |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.name,
            r.ours.rate(),
            fmt_rate(r.shared),
            fmt_rate(r.core),
            fmt_rate(r.raw),
            fmt_rate(r.raw_async),
            fmt_rate(r.curl),
            fmt_rate(r.wrk),
            ratio(r.ours.rate(), r.curl),
            ratio(r.ours.rate(), r.shared),
        );
    }
    println!();
    println!(
        "| per call, µs (floor: `httpClient::flush(0)` = {:.1} µs) | ours | ours − floor | before − floor | raw async | wrk -c1 | (ours − floor) / wrk |",
        floor.us()
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let beyond = r.ours.us() - floor.us();
        println!(
            "| {} | {:.1} | {:.1} | {} | {} | {} | {} |",
            r.name,
            r.ours.us(),
            beyond,
            r.shared
                .map(|s| format!("{:.1}", s.us() - floor.us()))
                .unwrap_or_else(|| "–".into()),
            r.raw_async
                .map(|m| format!("{:.1}", m.us()))
                .unwrap_or_else(|| "–".into()),
            r.wrk
                .map(|m| format!("{:.1}", m.us()))
                .unwrap_or_else(|| "–".into()),
            r.wrk
                .map(|w| format!("{:.2}x", beyond / w.us()))
                .unwrap_or_else(|| "–".into()),
        );
    }
}

fn main() {
    if let Ok(kind) = std::env::var("BENCH_CHILD") {
        return child_main(&kind);
    }
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it,
    // and a benchmark is not a test: it then only says how to run it.
    if !std::env::args().any(|a| a == "--bench") {
        println!("benchmark skipped: run it with `cargo bench --bench plugin`");
        return;
    }
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let rounds = env_f64("BENCH_ROUNDS", 3.0) as usize;
    let want = |g: &str| only.is_empty() || only.split(',').any(|o| o == g);

    eprintln!("bench: building the plugin, the {VERSION} host and the libcurl baseline…");
    let host = Host {
        bin: host::host_binary(VERSION, None),
        dir: host::plugin_dir(VERSION),
    };
    let curl = curl_program();
    let tmp = std::env::temp_dir().join(format!("httpclient-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let server = start_server(&tmp);
    let ca = server.ca.clone();
    let has_wrk = Command::new("wrk").arg("-v").output().is_ok();

    // BENCH_PIN=1: in the sequential groups this process's threads run on the last CPU and each
    // measured process (ours, the baselines, libcurl, wrk) on CPU 0 — one placement for all
    // instead of the scheduler's. nginx is not moved (opt-in, and it did not narrow the
    // spread in the previous round).
    let cpus = num_cpus();
    let pin = cpus >= 2 && std::env::var("BENCH_PIN").is_ok_and(|v| v == "1");
    if pin {
        pin_this_process(&[cpus - 1]);
        PINNED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    let (load1, _) = loadavg();
    println!(
        "httpClient benchmark — 127.0.0.1, {cpus} CPUs, load average {load1} at start, best of {rounds} rounds, {}; server: {}",
        if pin {
            "sequential runs pinned: caller process on CPU 0"
        } else {
            "unpinned (BENCH_PIN=1 pins)"
        },
        server.what
    );

    let floor_call = "httpClient::flush(0)";
    let mut floor: Option<M> = None;
    let mut rows: Vec<Row> = Vec::new();
    let n_pooled = scaled(2000);
    let n_curl = scaled(400);
    let wrk_secs = (2.0 * env_f64("BENCH_SCALE", 1.0)).ceil().max(1.0) as u64;
    for (group, tls) in [("http", false), ("https", true)] {
        if !want(group) {
            continue;
        }
        for post in [false, true] {
            let base = if tls { &server.https } else { &server.http };
            let url = format!("{base}/echo");
            let ca_opt = tls.then_some(ca.as_str());
            let call = host_call(&url, post, ca_opt);
            let method = if post { "POST" } else { "GET" };
            let base = |kind| Baseline {
                kind,
                url: &url,
                post,
                ca: ca_opt.unwrap_or("-"),
                threads: 1,
            };
            let mut row = Row {
                name: format!(
                    "{} {} sequential",
                    if tls { "HTTPS" } else { "HTTP" },
                    if post { "httpPost (JSON)" } else { "httpGet" }
                ),
                ours: M::default(),
                shared: None,
                core: None,
                raw: None,
                raw_async: None,
                curl: None,
                wrk: None,
            };
            let mut ours = None;
            for _ in 0..rounds {
                ours = best(ours, host.repeat(1, &[], &call, n_pooled));
                row.shared = best(
                    row.shared,
                    host.repeat_env(1, &[], &call, n_pooled, &[SHARED_ONLY]),
                );
                floor = best(floor, host.repeat(1, &[], floor_call, scaled(20000)));
                row.raw = best(row.raw, base("raw").run(n_pooled));
                row.raw_async = best(row.raw_async, base("async").run(n_pooled));
                row.core = best(row.core, base("core").run(n_pooled));
                row.curl = best(
                    row.curl,
                    curl_run(&curl, &["http", &url, method, JSON_BODY, &ca], n_curl),
                );
                if has_wrk {
                    if let Some(w) = wrk_run(&url, post, wrk_secs, &tmp) {
                        row.wrk = best(row.wrk, w);
                    }
                }
            }
            row.ours = ours.unwrap();
            eprintln!("bench: {} done", row.name);
            rows.push(row);
        }
    }

    // Each group's table is printed as soon as it is measured.
    let floor = floor.unwrap_or_else(|| host.repeat(1, &[], floor_call, scaled(20000)));
    let version = host.repeat(1, &[], "httpClient::version()", scaled(5000));
    if !rows.is_empty() {
        print_table(&rows, floor);
    }
    println!(
        "\nhost floor: `{floor_call}` through the host = {:.1} µs per call; `httpClient::version()` (a 10-entry dictionary of server facts) = {:.1} µs",
        floor.us(),
        version.us()
    );

    // From here on every CPU for everyone: 16 callers must be able to use both cores.
    if pin {
        pin_this_process(&(0..cpus).collect::<Vec<_>>());
        PINNED.store(false, std::sync::atomic::Ordering::Relaxed);
    }
    let mut conc_notes = Vec::new();
    if want("conc") {
        for (tls, post) in [(false, false), (true, true)] {
            let base = if tls { &server.https } else { &server.http };
            let url = format!("{base}/echo");
            let call = host_call(&url, post, tls.then_some(ca.as_str()));
            let per_thread = scaled(300);
            let (mut seq, mut ours, mut shared) = (None, None, None);
            let sample = |threads: usize, n: usize, env: &[(&str, &str)]| {
                let s0 = server_cpu(&server);
                let mut m = host.repeat_env(threads, &[], &call, n, env);
                // the server's CPU over (about) the same interval
                m.peer_cpu = server_cpu(&server) - s0;
                m
            };
            for _ in 0..rounds {
                seq = best(seq, sample(1, per_thread * 4, &[]));
                ours = best(ours, sample(16, per_thread, &[]));
                shared = best(shared, sample(16, per_thread, &[SHARED_ONLY]));
            }
            let (seq, ours, shared) = (seq.unwrap(), ours.unwrap(), shared.unwrap());
            let cpu = |m: M| {
                format!(
                    "host {:.0}% + server {:.0}%",
                    100.0 * m.host_cpu / m.secs,
                    100.0 * m.peer_cpu / m.secs
                )
            };
            conc_notes.push(format!(
                "| {} {}, 16 callers (host --threads 16) | {:.0} | {:.0} | **{:.2}x** | {} | {:.0} ({:.2}x of 1) | {} |",
                if tls { "HTTPS" } else { "HTTP" },
                if post { "httpPost" } else { "httpGet" },
                seq.rate(),
                ours.rate(),
                ours.rate() / seq.rate(),
                cpu(ours),
                shared.rate(),
                shared.rate() / seq.rate(),
                cpu(seq),
            ));
        }
        eprintln!("bench: concurrency done");
        println!();
        println!("| 16 callers vs 1 (calls/s) | 1 caller | 16 callers | 16 / 1 | CPU, 16 callers | 16 callers, shared clients (before) | CPU, 1 caller |");
        println!("|---|---:|---:|---:|---|---:|---|");
        for n in &conc_notes {
            println!("{n}");
        }
    }

    let mut idle_rows = Vec::new();
    if want("idle") {
        let url = format!("{}/echo", server.https);
        let threads = 100;
        for (name, env) in [
            ("per-thread clients", &[][..]),
            ("shared clients (before)", &[SHARED_ONLY][..]),
        ] {
            idle_rows.push((name, idle_run(&url, &ca, threads, env)));
        }
        eprintln!("bench: idle threads done");
        println!();
        println!("| 100 threads, 2 HTTPS calls each, then idle | memory kept per idle thread | fds kept per idle thread | a short-lived thread's only call |");
        println!("|---|---:|---:|---:|");
        for (name, (kb, fds, first)) in &idle_rows {
            println!("| {name} | {kb:.0} kB | {fds:.2} | {first:.0} µs |");
        }
    }

    if want("msg") {
        let msg_rows = messaging_bench(&host, rounds);
        println!();
        println!("| messaging (robotSend, DingTalk signed, local emulator; calls/s) | ours | ours, shared clients (before); last row: synchronous | ours / before |");
        println!("|---|---:|---:|---:|");
        for (name, ours, shared) in &msg_rows {
            println!(
                "| {name} | {:.0} | {:.0} | {:.2}x |",
                ours.rate(),
                shared.rate(),
                ours.rate() / shared.rate()
            );
        }
    }

    if want("instr") {
        let instr = instructions_bench(&host, &format!("{}/echo", server.http));
        if !instr.is_empty() {
            print_instructions(&instr);
        }
    }

    let mut email_rows = Vec::new();
    if want("email") {
        email_rows = email_bench(&host, &curl, &tmp, rounds);
    }

    if !email_rows.is_empty() {
        println!();
        println!(
            "| sendEmail (mails/s, implicit TLS, aiosmtpd) | mails/s | µs per mail | ours / this |"
        );
        println!("|---|---:|---:|---:|");
        let ours = email_rows[0].1;
        for (name, m) in &email_rows {
            println!(
                "| {name} | {:.0} | {:.0} | {:.2}x |",
                m.rate(),
                m.us(),
                ours.rate() / m.rate()
            );
        }
    }
    let (load2, _) = loadavg();
    println!("\nload average at the end: {load2} (shared machine: compare ratios within one run)");
    drop(server);
    let _ = std::fs::remove_dir_all(&tmp);
    let _ = std::fs::remove_dir_all(&host.dir); // the descriptor + symlink made for this run
}

/// robotSend (DingTalk, signed) to the local platform emulator: one webhook (sent on the
/// calling thread), and four webhooks (the synchronous fan-out: a thread per destination,
/// through the shared clients); ours and ours with the shared clients only (before).
fn messaging_bench(host: &Host, rounds: usize) -> Vec<(String, M, M)> {
    use platform_emulator::*;
    let emu = PlatformEmulator::start();
    // a gateway without limits, and rateLimit 0: no client-side pacing (DingTalk robots are
    // paced at 20/min otherwise)
    emu.set_robot_limits(false);
    let cfg = format!(
        "{{\"baseUrl\": {}, \"rateLimit\": 0}}",
        host::lit(&emu.base_url())
    );
    let hook = |i: usize| {
        host::lit(&format!(
            "https://oapi.dingtalk.com/robot/send?access_token={DING_ROBOT_TOKEN}&n={i}"
        ))
    };
    let one = format!(
        "httpClient::robotSend(\"dingtalk\", {}, \"quote delay 3s\", {}, {cfg})",
        hook(0),
        host::lit(DING_ROBOT_SECRET)
    );
    let four = format!(
        "httpClient::robotSend(\"dingtalk\", [{}, {}, {}, {}], \"quote delay 3s\", {}, {cfg})",
        hook(0),
        hook(1),
        hook(2),
        hook(3),
        host::lit(DING_ROBOT_SECRET)
    );
    let mut out = Vec::new();
    for (name, call, n) in [
        ("one webhook, sequential", &one, scaled(1000)),
        ("four webhooks (fan-out), sequential", &four, scaled(300)),
    ] {
        let (mut ours, mut shared) = (None, None);
        for _ in 0..rounds {
            ours = best(ours, host.repeat(1, &[], call, n));
            shared = best(shared, host.repeat_env(1, &[], call, n, &[SHARED_ONLY]));
        }
        out.push((name.to_string(), ours.unwrap(), shared.unwrap()));
    }
    // async: the caller's rate is the enqueueing rate; the sender threads deliver behind it
    // (the queue holds 10,000, more than the calls made here)
    let queued = one.replace("\"rateLimit\": 0}", "\"rateLimit\": 0, \"async\": true}");
    assert_ne!(queued, one);
    let (mut sync, mut asynchronous) = (None, None);
    for _ in 0..rounds {
        sync = best(sync, host.repeat(1, &[], &one, scaled(1000)));
        asynchronous = best(asynchronous, host.repeat(1, &[], &queued, scaled(1000)));
    }
    out.push((
        "one webhook: async=true vs synchronous (calls returned to the caller)".to_string(),
        asynchronous.unwrap(),
        sync.unwrap(),
    ));
    eprintln!("bench: messaging done");
    out
}

/// Instructions of the whole process for one run (callgrind's `Collected`, all threads).
fn instructions_of(cmd: &Command, stdin_script: Option<String>) -> u64 {
    let mut vg = Command::new("valgrind");
    vg.args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            vg.env(k, v);
        }
    }
    let mut child = vg
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("valgrind");
    let mut stdin = child.stdin.take().unwrap();
    if let Some(script) = stdin_script {
        stdin.write_all(script.as_bytes()).unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "callgrind run failed: {err}");
    err.lines()
        .find_map(|l| {
            l.split_once("Collected :")
                .map(|(_, n)| n.trim().to_string())
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no instruction count in: {err}"))
}

/// Instructions per call, counted by callgrind — repeatable, unlike time on a shared machine:
/// a run with `LO` and one with `HI` timed calls; per call = the difference / (HI − LO), so
/// start-up, loading and the first connection cancel out.
fn per_call_instructions(make: impl Fn(usize) -> (Command, Option<String>)) -> f64 {
    const LO: usize = 20;
    const HI: usize = 220;
    let count = |n| {
        let (cmd, stdin) = make(n);
        instructions_of(&cmd, stdin)
    };
    (count(HI) as f64 - count(LO) as f64) / (HI - LO) as f64
}

/// Plain-HTTP httpGet and httpPost (JSON body, header dictionary) on a keep-alive connection,
/// per call: the baselines in their own processes, the plugin through the host (per-thread
/// and shared clients), and the host's floor. Each row: (what, instructions, raw reqwest
/// blocking's for the same request).
fn instructions_bench(host: &Host, url: &str) -> Vec<(String, f64, f64)> {
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("bench: valgrind not found, instruction counts skipped");
        return Vec::new();
    }
    eprintln!("bench: counting instructions with callgrind…");
    let hosted = |call: String, env: &'static [(&'static str, &'static str)]| {
        move |n| (host.command(1, env), Some(Host::script(&[], &call, n)))
    };
    let mut rows = Vec::new();
    for post in [false, true] {
        let base = |kind| Baseline {
            kind,
            url,
            post,
            ca: "-",
            threads: 1,
        };
        let what = if post { "httpPost" } else { "httpGet" };
        let raw = per_call_instructions(|n| (base("raw").command(n), None));
        let raw_async = per_call_instructions(|n| (base("async").command(n), None));
        let core = per_call_instructions(|n| (base("core").command(n), None));
        let ours = per_call_instructions(hosted(host_call(url, post, None), &[]));
        let shared = per_call_instructions(hosted(host_call(url, post, None), &[SHARED_ONLY]));
        rows.push((
            format!("{what}: raw reqwest blocking, reused client"),
            raw,
            raw,
        ));
        rows.push((
            format!("{what}: raw reqwest async on the calling thread"),
            raw_async,
            raw,
        ));
        rows.push((format!("{what}: core::http::execute"), core, raw));
        rows.push((
            format!("{what}: ours, through the host and the plugin"),
            ours,
            raw,
        ));
        rows.push((
            format!("{what}: ours, shared clients (before)"),
            shared,
            raw,
        ));
    }
    let get_raw = rows[0].1;
    for call in ["httpClient::flush(0)", "httpClient::version()"] {
        let n = per_call_instructions(hosted(call.into(), &[]));
        rows.push((
            format!("host + plugin, {call} (no I/O; vs raw httpGet)"),
            n,
            get_raw,
        ));
    }
    eprintln!("bench: instructions done");
    rows
}

fn print_instructions(rows: &[(String, f64, f64)]) {
    println!();
    println!("| plain HTTP, instructions per call (callgrind, all threads) | instructions | vs raw reqwest blocking, same request |");
    println!("|---|---:|---:|");
    for (name, n, raw) in rows {
        println!(
            "| {name} | {:.1} k | {:+.1}% |",
            n / 1000.0,
            100.0 * (n - raw) / raw
        );
    }
}

fn email_bench(host: &Host, curl: &Path, tmp: &Path, rounds: usize) -> Vec<(String, M)> {
    use lettre::transport::smtp::authentication::{Credentials, Mechanism};
    use lettre::transport::smtp::client::{Certificate, SmtpConnection, Tls, TlsParameters};
    use lettre::transport::smtp::extension::ClientId;
    use lettre::{SmtpTransport, Transport};

    /// A new implicit-TLS SMTP connection to the local peer, authenticated.
    fn smtp_connect(port: u16, tls: &TlsParameters, creds: &Credentials) -> SmtpConnection {
        let mut c = SmtpConnection::connect(
            ("127.0.0.1", port),
            Some(Duration::from_secs(10)),
            &ClientId::Domain("bench".into()),
            Some(tls),
            None,
        )
        .unwrap();
        c.auth(&[Mechanism::Plain, Mechanism::Login], creds)
            .unwrap();
        c
    }

    let user = format!("alerts{}bench.test", '@');
    let to = format!("ops{}example.test", '@');
    let peer = smtp_peer::SmtpPeer::start(&user);
    let port = peer.tls_port;
    let mail = Mail {
        from: EmailAddress::parse("userId", &user).unwrap(),
        password: peer.password.clone(),
        recipients: vec![EmailAddress::parse("recipient", &to).unwrap()],
        content: Content::SubjectBody {
            subject: "DolphinDB alert".as_bytes().to_vec(),
            body: "<b>quote delay</b> 3 s".as_bytes().to_vec(),
        },
        options: EmailOptions::default(),
    };
    let (envelope, bytes) = email::message::build(&mail).unwrap();
    let msg_path = tmp.join("mail.eml");
    std::fs::write(&msg_path, &bytes).unwrap();
    let ca_pem = std::fs::read(&peer.ca_file).unwrap();
    let tls = TlsParameters::builder("127.0.0.1".to_string())
        .add_root_certificate(Certificate::from_pem(&ca_pem).unwrap())
        .build_rustls()
        .unwrap();
    let creds = Credentials::new(user.clone(), peer.password.clone());
    let pooled = SmtpTransport::builder_dangerous("127.0.0.1")
        .port(port)
        .tls(Tls::Wrapper(tls.clone()))
        .credentials(creds.clone())
        .authentication(vec![Mechanism::Plain, Mechanism::Login])
        .build();
    let setup = vec![format!(
        "httpClient::emailSmtpConfig(\"bench.test\", \"127.0.0.1\", {port}, {{\"tls\": \"tls\", \"caFile\": {}}})",
        host::lit(&peer.ca_file)
    )];
    let call = format!(
        "httpClient::sendEmail({}, {}, {}, \"DolphinDB alert\", \"<b>quote delay</b> 3 s\")",
        host::lit(&user),
        host::lit(&peer.password),
        host::lit(&to)
    );
    let url = format!("smtps://127.0.0.1:{port}");
    let (from_arg, to_arg) = (format!("<{user}>"), format!("<{to}>"));
    let n = scaled(300);
    let n_conn = scaled(100);
    let (mut ours, mut lp, mut lc, mut cu) = (None, None, None, None);
    for _ in 0..rounds {
        ours = best(ours, host.repeat(1, &setup, &call, n));
        lp = best(
            lp,
            timed(n, || {
                pooled.send_raw(&envelope, &bytes).unwrap();
            }),
        );
        lc = best(
            lc,
            timed(n_conn, || {
                let mut c = smtp_connect(port, &tls, &creds);
                c.send(&envelope, &bytes).unwrap();
                c.quit().unwrap();
            }),
        );
        cu = best(
            cu,
            curl_run(
                curl,
                &[
                    "smtp",
                    &url,
                    &user,
                    &peer.password,
                    &from_arg,
                    &to_arg,
                    &peer.ca_file,
                    msg_path.to_str().unwrap(),
                ],
                n_conn,
            ),
        );
    }
    // The same kept-open connection, but the message and its terminator in ONE write
    // (lettre's `message()` writes them separately: see the README's findings on Nagle).
    let mut one = None;
    {
        use lettre::transport::smtp::commands::{Data, Mail as MailCmd, Rcpt};
        struct Body(String);
        impl std::fmt::Display for Body {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        let mut stuffed = String::from_utf8(bytes.clone())
            .unwrap()
            .replace("\r\n.", "\r\n..");
        if stuffed.starts_with('.') {
            stuffed.insert(0, '.');
        }
        stuffed.push_str("\r\n.\r\n");
        let body = Body(stuffed);
        let mut c = smtp_connect(port, &tls, &creds);
        for _ in 0..rounds {
            one = best(
                one,
                timed(n, || {
                    c.command(MailCmd::new(envelope.from().cloned(), vec![]))
                        .unwrap();
                    for r in envelope.to() {
                        c.command(Rcpt::new(r.clone(), vec![])).unwrap();
                    }
                    c.command(Data).unwrap();
                    let resp = c.command(&body).unwrap();
                    assert!(resp.is_positive());
                }),
            );
        }
        let _ = c.quit();
    }
    eprintln!("bench: email done");
    vec![
        (
            "ours: sendEmail through the host (pooled)".into(),
            ours.unwrap(),
        ),
        (
            "lettre pooled transport, in process (floor)".into(),
            lp.unwrap(),
        ),
        ("lettre, one connection per mail".into(), lc.unwrap()),
        (
            "lettre, one kept-open connection, DATA+terminator in one write".into(),
            one.unwrap(),
        ),
        (
            "libcurl smtps, one easy handle per mail (official way)".into(),
            cu.unwrap(),
        ),
    ]
}

fn loadavg() -> (String, String) {
    let s = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut it = s.split_whitespace();
    (
        it.next().unwrap_or("?").to_string(),
        it.next().unwrap_or("?").to_string(),
    )
}

fn num_cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
