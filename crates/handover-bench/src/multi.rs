//! N concurrent connect-only transfers in one multi handle: the time until
//! every one is connected, then one small round trip on each; every
//! contender in a child process of its own, so that its peak RSS is its own.
//!
//! Targets: `plain` and `tls` connect to 127.0.0.1 (no resolver); `names`
//! connects to `handover-bench.test`, a name the system resolver must look
//! up (getaddrinfo reads /etc/hosts), and records the threads in use: the
//! resolver's bound against libcurl's thread per lookup. `run` adds the line
//! `127.0.0.1 handover-bench.test` to /etc/hosts when no line names the host
//! (the bench runs as root), says so on stderr, and leaves it there.

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use handover::ConnectOnly;

use crate::echo::EchoServer;
use crate::{note, ratio, sys, table, Args, Tls};

pub(crate) const PING: &[u8] = b"ping";
/// A child that takes longer than this gives up.
const DEADLINE: Duration = Duration::from_secs(300);

/// The name the `names` target resolves (through /etc/hosts).
pub const BENCH_HOST: &str = "handover-bench.test";

pub(crate) struct Outcome {
    pub(crate) connect: Duration,
    pub(crate) rtt: Duration,
    pub(crate) hwm_kb: u64,
    pub(crate) base_kb: u64,
    /// Threads of the child before the first handle (the sampler included).
    threads_base: u64,
    /// The most threads seen while the transfers connected.
    threads_peak: u64,
    /// Transfers that failed (only `names` tolerates failures).
    failed: u64,
    /// SYNs the kernel dropped on a full accept queue while the child ran
    /// (TcpExt ListenOverflows): each costs that connection a 1 s
    /// retransmission.
    pub(crate) listen_overflows: u64,
}

pub fn run(args: &Args, which: &[String]) {
    let limit = sys::raise_nofile();
    let mut ns: Vec<usize> = which.iter().filter_map(|w| w.parse().ok()).collect();
    if ns.is_empty() {
        ns = if args.quick {
            vec![100, 1000]
        } else {
            vec![1000, 10000]
        };
    }
    let mut kinds: Vec<&str> = ["plain", "tls", "names"]
        .into_iter()
        .filter(|k| which.iter().any(|w| w == k))
        .collect();
    if kinds.is_empty() {
        kinds = vec!["plain", "tls", "names"];
    }
    if kinds.contains(&"names") {
        if let Err(e) = ensure_hosts_entry() {
            eprintln!(
                "multi: cannot make {BENCH_HOST} resolvable ({e}); the names rows are skipped"
            );
            kinds.retain(|k| *k != "names");
        }
    }
    // 2 rounds in the order handover, libcurl, libcurl, handover.
    let orders: &[&str] = if args.quick {
        &["handover", "libcurl"]
    } else {
        &["handover", "libcurl", "libcurl", "handover"]
    };
    let tls = Tls::new();
    let mut rows = Vec::new();
    let mut name_rows = Vec::new();
    for &kind in &kinds {
        for &n in &ns {
            if n + 64 > limit as usize {
                eprintln!("multi: N = {n} needs more descriptors than the limit {limit}; skipped");
                continue;
            }
            let mut got: Vec<(&str, Outcome)> = Vec::new();
            for &who in orders {
                let server = EchoServer::start((kind == "tls").then(|| tls.config.clone()));
                let overflows = listen_overflows();
                let mut o = spawn_child(who, kind, n, server.port(), &tls);
                o.listen_overflows = listen_overflows().saturating_sub(overflows);
                assert!(
                    server.accepted() as u64 + o.failed >= n as u64,
                    "{who}: the server saw {} connections",
                    server.accepted()
                );
                got.push((who, o));
                drop(server);
            }
            let avg = |who: &str| -> (f64, f64, f64, f64) {
                let mine: Vec<&Outcome> = got
                    .iter()
                    .filter(|(w, _)| *w == who)
                    .map(|(_, o)| o)
                    .collect();
                let k = mine.len() as f64;
                let c = mine.iter().map(|o| o.connect.as_secs_f64()).sum::<f64>() / k;
                let r = mine.iter().map(|o| o.rtt.as_secs_f64()).sum::<f64>() / k;
                let hwm = mine.iter().map(|o| o.hwm_kb).max().unwrap_or(0) as f64;
                let per = mine
                    .iter()
                    .map(|o| (o.hwm_kb.saturating_sub(o.base_kb)) as f64 * 1024.0 / n as f64)
                    .fold(0.0, f64::max);
                (c, r, hwm, per)
            };
            if kind == "names" {
                name_rows.extend(names_rows(n, &got));
                continue;
            }
            let (hc, hr, hh, hp) = avg("handover");
            let (cc, cr, ch, cp) = avg("libcurl");
            for (who, (c, r, h, p)) in [
                ("handover", (hc, hr, hh, hp)),
                ("libcurl", (cc, cr, ch, cp)),
            ] {
                rows.push(vec![
                    kind.to_string(),
                    n.to_string(),
                    who.to_string(),
                    format!("{:.1}", c * 1e3),
                    ratio(c, cc),
                    format!("{:.1}", r * 1e3),
                    ratio(r, cr),
                    format!("{:.1}", h / 1024.0),
                    format!("{:.1}", p / 1024.0),
                    ratio(p, cp),
                ]);
            }
        }
    }
    if !rows.is_empty() {
        multi_table(&rows, orders);
    }
    if !name_rows.is_empty() {
        names_table(&name_rows, orders);
    }
}

fn multi_table(rows: &[Vec<String>], orders: &[&str]) {
    table(
        "Multi: N concurrent connect-only transfers, one thread, one process per contender",
        &[
            "target",
            "N",
            "contender",
            "connected ms",
            "vs libcurl",
            "round trip ms",
            "vs libcurl",
            "peak RSS MiB",
            "KiB / transfer",
            "vs libcurl",
        ],
        rows,
    );
    note(&format!(
        "Each contender runs in a child process (order {}; times averaged, RSS the largest). \
         'connected': from the first handle created to the last completion message; \
         'round trip': {} bytes sent on every connection, then every echo received (poll on \
         the active sockets). KiB / transfer = (VmHWM − VmRSS before the first handle) / N. \
         Echo server: single-thread epoll in the parent process (rustls for TLS), a fresh one \
         per child. TLS: the same N as plain, TLS 1.3, ECDSA P-256.",
        orders.join(", "),
        PING.len()
    ));
}

/// The rows of the `names` table for one N.
fn names_rows(n: usize, got: &[(&str, Outcome)]) -> Vec<Vec<String>> {
    let mean_connect = |who: &str| {
        let mine: Vec<f64> = got
            .iter()
            .filter(|(w, _)| *w == who)
            .map(|(_, o)| o.connect.as_secs_f64())
            .collect();
        mine.iter().sum::<f64>() / mine.len().max(1) as f64
    };
    let curl_connect = mean_connect("libcurl");
    ["handover", "libcurl"]
        .into_iter()
        .map(|who| {
            let mine: Vec<&Outcome> = got
                .iter()
                .filter(|(w, _)| *w == who)
                .map(|(_, o)| o)
                .collect();
            let peak = mine.iter().map(|o| o.threads_peak).max().unwrap_or(0);
            let base = mine.iter().map(|o| o.threads_base).max().unwrap_or(0);
            let failed = mine.iter().map(|o| o.failed).max().unwrap_or(0);
            let overflows: Vec<String> = mine
                .iter()
                .map(|o| o.listen_overflows.to_string())
                .collect();
            let hwm = mine.iter().map(|o| o.hwm_kb).max().unwrap_or(0) as f64;
            let connect = mean_connect(who);
            vec![
                n.to_string(),
                who.to_string(),
                format!("{:.1}", connect * 1e3),
                ratio(connect, curl_connect),
                peak.to_string(),
                peak.saturating_sub(base).to_string(),
                failed.to_string(),
                overflows.join(", "),
                format!("{:.1}", hwm / 1024.0),
            ]
        })
        .collect()
}

fn names_table(rows: &[Vec<String>], orders: &[&str]) {
    table(
        &format!(
            "Multi with names: N connect-only transfers to {BENCH_HOST} (resolved through /etc/hosts)"
        ),
        &[
            "N",
            "contender",
            "connected ms",
            "vs libcurl",
            "peak threads",
            "threads added",
            "failed",
            "SYNs dropped",
            "peak RSS MiB",
        ],
        rows,
    );
    note(&format!(
        "Plain TCP to the epoll echo server; every URL names {BENCH_HOST}, which `resolve` does \
         not cover, so each transfer asks the system resolver (getaddrinfo, nsswitch 'files'). \
         Order {}; times averaged, threads and RSS the largest. 'peak threads': the most \
         /proc/self/status Threads seen (sampled every millisecond by a thread of the child, \
         and after every perform call); 'threads added': peak minus the count before the first \
         handle (main + sampler). handover resolves on a pool of at most 16 threads; libcurl \
         {} uses its threaded resolver, one thread per lookup. 'failed': transfers that ended \
         in an error (the run goes on; the other targets require 0). 'SYNs dropped': per run, \
         connection attempts the kernel dropped because the echo server's accept queue was \
         full (TcpExt ListenOverflows; somaxconn caps the backlog); each costs its transfer a \
         1 s SYN retransmission, so a run with drops measures the burst, not the resolver.",
        orders.join(", "),
        curl::Version::get().version()
    ));
}

/// The system's count of SYNs dropped on a full accept queue
/// (`TcpExt: ListenOverflows` in /proc/net/netstat).
pub(crate) fn listen_overflows() -> u64 {
    let text = std::fs::read_to_string("/proc/net/netstat").unwrap_or_default();
    let mut ext = text.lines().filter(|l| l.starts_with("TcpExt:"));
    let (Some(names), Some(values)) = (ext.next(), ext.next()) else {
        return 0;
    };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(name, _)| *name == "ListenOverflows")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// Adds `127.0.0.1 handover-bench.test` to /etc/hosts when no line names
/// the host. The line stays: the bench says so and does not undo it.
fn ensure_hosts_entry() -> std::io::Result<()> {
    const HOSTS: &str = "/etc/hosts";
    let text = std::fs::read_to_string(HOSTS)?;
    let named = text.lines().any(|line| {
        let line = line.split('#').next().unwrap_or("");
        line.split_whitespace()
            .skip(1)
            .any(|h| h.eq_ignore_ascii_case(BENCH_HOST))
    });
    if named {
        return Ok(());
    }
    let mut add = String::new();
    if !text.is_empty() && !text.ends_with('\n') {
        add.push('\n');
    }
    add.push_str(&format!(
        "127.0.0.1 {BENCH_HOST} # added by handover-bench (multi names); safe to remove\n"
    ));
    use std::io::Write as _;
    std::fs::OpenOptions::new()
        .append(true)
        .open(HOSTS)?
        .write_all(add.as_bytes())?;
    eprintln!(
        "multi: added '127.0.0.1 {BENCH_HOST}' to {HOSTS} for the names rows; it stays there \
         (remove that line to undo)"
    );
    Ok(())
}

/// Samples the child's thread count every millisecond until dropped.
struct ThreadSampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ThreadSampler {
    fn start() -> ThreadSampler {
        let peak = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(t) = sys::proc_status_kb("Threads") {
                    p.fetch_max(t, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        // Wait for the sampler to count itself.
        while peak.load(Ordering::Relaxed) == 0 {
            std::thread::yield_now();
        }
        ThreadSampler {
            peak,
            stop,
            thread: Some(thread),
        }
    }

    /// A sample taken by the caller (after a perform, when a thread per
    /// lookup is most likely alive).
    fn sample(&self) {
        if let Some(t) = sys::proc_status_kb("Threads") {
            self.peak.fetch_max(t, Ordering::Relaxed);
        }
    }

    fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for ThreadSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub(crate) fn spawn_child(who: &str, kind: &str, n: usize, port: u16, tls: &Tls) -> Outcome {
    let exe = std::env::current_exe().expect("own path");
    let out = Command::new(exe)
        .args(["multi-child", who, kind, &n.to_string(), &port.to_string()])
        .arg(&tls.ca_file)
        .output()
        .expect("run the multi child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| {
            panic!(
                "multi child {who} {kind} {n} failed ({}):\n{}\n{}",
                out.status,
                stdout,
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let v: Vec<u64> = line
        .split_whitespace()
        .map(|x| x.parse().expect("a number"))
        .collect();
    Outcome {
        connect: Duration::from_micros(v[0]),
        rtt: Duration::from_micros(v[1]),
        hwm_kb: v[2],
        base_kb: v[3],
        threads_base: v[4],
        threads_peak: v[5],
        failed: v[6],
        listen_overflows: 0,
    }
}

/// A contender a child runs that this file does not know: the async face's
/// (asynch.rs), given by main.rs so that neither file depends on the other.
pub type OtherChild<'a> = &'a dyn Fn(&str, &Run) -> Option<(Duration, Duration, u64)>;

/// The child: `multi-child WHO KIND N PORT CAFILE`.
pub fn child(words: &[String], other: OtherChild<'_>) {
    sys::raise_nofile();
    let [who, kind, n, port, ca] = words else {
        panic!("multi-child WHO KIND N PORT CAFILE")
    };
    let n: usize = n.parse().expect("N");
    let tls = kind == "tls";
    let url = match kind.as_str() {
        "tls" => format!("https://127.0.0.1:{port}/"),
        "names" => format!("http://{BENCH_HOST}:{port}/"),
        _ => format!("http://127.0.0.1:{port}/"),
    };
    let run = Run {
        url: &url,
        ca: tls.then_some(ca.as_str()),
        n,
        deadline: Instant::now() + DEADLINE,
        // With names, failures are counted and reported, not fatal.
        tolerate_failures: kind == "names",
        // Only the names rows report threads: the other rows stay measured
        // exactly as before, with no sampler competing for the two cores.
        threads: (kind == "names").then(ThreadSampler::start),
    };
    let threads_base = sys::proc_status_kb("Threads").unwrap_or(0);
    let base_kb = sys::proc_status_kb("VmRSS").unwrap_or(0);
    let (connect, rtt, failed) = match who.as_str() {
        "handover" => child_handover(&run),
        "libcurl" => child_libcurl(&run),
        who => other(who, &run).unwrap_or_else(|| panic!("unknown contender {who}")),
    };
    let hwm_kb = sys::proc_status_kb("VmHWM").unwrap_or(0);
    println!(
        "RESULT {} {} {hwm_kb} {base_kb} {threads_base} {} {failed}",
        connect.as_micros(),
        rtt.as_micros(),
        run.threads.as_ref().map_or(0, ThreadSampler::peak)
    );
    // Skip tearing down N connections: the measurement is done.
    std::process::exit(0);
}

/// What a child runs: N transfers to `url`.
pub(crate) struct Run<'a> {
    pub(crate) url: &'a str,
    pub(crate) ca: Option<&'a str>,
    pub(crate) n: usize,
    pub(crate) deadline: Instant,
    tolerate_failures: bool,
    threads: Option<ThreadSampler>,
}

fn child_handover(run: &Run) -> (Duration, Duration, u64) {
    let Run {
        url,
        ca,
        n,
        deadline,
        ..
    } = *run;
    let start = Instant::now();
    let mut multi = handover::Multi::new();
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        let mut e = handover::Easy::new();
        e.url(url).expect("url");
        e.connect_only(ConnectOnly::Connection).expect("co");
        if let Some(ca) = ca {
            e.cainfo(ca).expect("cainfo");
        }
        let mut h = multi.add(e).expect("add");
        h.set_token(i);
        handles.push(h);
    }
    let mut done = 0;
    let mut failed = 0;
    let mut ok = vec![false; n];
    while done < n {
        multi.perform().expect("perform");
        if let Some(threads) = &run.threads {
            threads.sample();
        }
        multi.messages(|m| {
            done += 1;
            match m.result() {
                Ok(()) => ok[m.token()] = true,
                Err(e) => {
                    if failed < 5 {
                        eprintln!("handover transfer {}: {e}", m.token());
                    }
                    failed += 1;
                }
            }
        });
        if done < n {
            assert!(
                Instant::now() < deadline,
                "handover: {done}/{n} after the deadline"
            );
            multi
                .wait(&mut [], Duration::from_millis(100))
                .expect("wait");
        }
    }
    let connect = start.elapsed();
    assert!(
        failed == 0 || run.tolerate_failures,
        "handover: {failed} of {n} transfers failed"
    );
    let live: Vec<usize> = (0..n).filter(|&i| ok[i]).collect();
    let rtt = round_trips(
        live.len(),
        |i| handles[live[i]].active_socket().expect("active socket"),
        |i, d| map_handover(handles[live[i]].send(d)),
        |i, b| map_handover(handles[live[i]].recv(b)),
        deadline,
    );
    (connect, rtt, failed)
}

fn child_libcurl(run: &Run) -> (Duration, Duration, u64) {
    let Run {
        url,
        ca,
        n,
        deadline,
        ..
    } = *run;
    let start = Instant::now();
    let multi = curl::multi::Multi::new();
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        let mut e = curl::easy::Easy::new();
        e.url(url).expect("url");
        e.connect_only(true).expect("co");
        if let Some(ca) = ca {
            e.cainfo(ca).expect("cainfo");
            e.http_version(curl::easy::HttpVersion::V11).expect("1.1");
        }
        let mut h = multi.add(e).expect("add");
        h.set_token(i).expect("token");
        handles.push(h);
    }
    let mut done = 0;
    let mut failed = 0;
    let mut ok = vec![false; n];
    while done < n {
        multi.perform().expect("perform");
        if let Some(threads) = &run.threads {
            threads.sample();
        }
        multi.messages(|m| {
            if let Some(r) = m.result() {
                done += 1;
                match r {
                    Ok(()) => {
                        if let Ok(token) = m.token() {
                            ok[token] = true;
                        }
                    }
                    Err(e) => {
                        if failed < 5 {
                            eprintln!("libcurl transfer {:?}: {e}", m.token());
                        }
                        failed += 1;
                    }
                }
            }
        });
        if done < n {
            assert!(
                Instant::now() < deadline,
                "libcurl: {done}/{n} after the deadline"
            );
            multi
                .wait(&mut [], Duration::from_millis(100))
                .expect("wait");
        }
    }
    let connect = start.elapsed();
    assert!(
        failed == 0 || run.tolerate_failures,
        "libcurl: {failed} of {n} transfers failed"
    );
    let raws: Vec<*mut curl_sys::CURL> = (0..n)
        .filter(|&i| ok[i])
        .map(|i| handles[i].raw())
        .collect();
    let rtt = round_trips(
        raws.len(),
        |i| sys::curl_active_socket(raws[i]).expect("active socket"),
        |i, d| map_curl(sys::curl_raw_send(raws[i], d)),
        |i, b| map_curl(sys::curl_raw_recv(raws[i], b)),
        deadline,
    );
    drop(handles);
    (connect, rtt, failed)
}

/// `Ok(None)` = again.
type Io = Result<Option<usize>, String>;

fn map_handover(r: Result<usize, handover::Error>) -> Io {
    match r {
        Ok(n) => Ok(Some(n)),
        Err(e) if e.is_again() => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

fn map_curl(r: Result<usize, curl::Error>) -> Io {
    match r {
        Ok(n) => Ok(Some(n)),
        Err(e) if e.is_again() => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// Sends PING on every connection, then receives every echo.
fn round_trips(
    n: usize,
    fd: impl Fn(usize) -> i32,
    mut send: impl FnMut(usize, &[u8]) -> Io,
    mut recv: impl FnMut(usize, &mut [u8]) -> Io,
    deadline: Instant,
) -> Duration {
    let start = Instant::now();
    let mut sent = vec![0usize; n];
    let mut got = vec![0usize; n];
    let mut buf = [0u8; 64];
    let fds: Vec<i32> = (0..n).map(&fd).collect();
    let mut pending: Vec<usize> = (0..n).collect();
    let mut pfds = Vec::with_capacity(n);
    // Try everything once, then poll only what is not finished.
    let mut ready: Vec<usize> = pending.clone();
    while !pending.is_empty() {
        for &i in &ready {
            if sent[i] < PING.len() {
                match send(i, &PING[sent[i]..]) {
                    Ok(Some(k)) => sent[i] += k,
                    Ok(None) => {}
                    Err(e) => panic!("send on {i}: {e}"),
                }
            }
            while sent[i] == PING.len() && got[i] < PING.len() {
                match recv(i, &mut buf[..PING.len() - got[i]]) {
                    Ok(Some(0)) => panic!("connection {i} closed"),
                    Ok(Some(k)) => {
                        assert_eq!(&buf[..k], &PING[got[i]..got[i] + k], "echo on {i}");
                        got[i] += k;
                    }
                    Ok(None) => break,
                    Err(e) => panic!("recv on {i}: {e}"),
                }
            }
        }
        pending.retain(|&i| got[i] < PING.len());
        if pending.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "round trips past the deadline");
        pfds.clear();
        pfds.extend(
            pending
                .iter()
                .map(|&i| sys::pollfd(fds[i], true, sent[i] < PING.len())),
        );
        sys::poll(&mut pfds, Some(Duration::from_millis(1000))).expect("poll");
        ready = pending
            .iter()
            .zip(&pfds)
            .filter(|(_, p)| p.revents != 0)
            .map(|(&i, _)| i)
            .collect();
    }
    start.elapsed()
}
