//! Sequential connect-only latency: one reused easy handle per contender,
//! handover and libcurl (and the floors) alternating in rounds, so that
//! drift of the machine hits them all alike.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use handover::ConnectOnly;

use crate::echo::EchoServer;
use crate::real_peers::{Microsocks, Squid, SquidAuth};
use crate::{note, ratio, table, Args, Tls};

/// Performs per round and contender.
pub(crate) const ROUND: usize = 50;
/// Unmeasured performs per contender before the first round.
pub(crate) const WARMUP: usize = 10;

pub(crate) trait Contender {
    fn name(&self) -> &str;
    /// One connect; the time it took.
    fn connect(&mut self) -> Duration;
    /// After the timing: ends the connection's traffic (see
    /// [`shut_down`]).
    fn end(&mut self) {}
}

/// Shuts a library's connect-only connection down outside the timing, for
/// both libraries alike: libcurl 7.88 keeps every connect-only connection
/// open until the handle is cleaned up, while handover (as libcurl 8.12+)
/// closes it at the next perform; without this, handover's timings would
/// carry the teardown (its FIN, the peer waking to it) and libcurl's none.
/// The descriptor stays with the library, which closes it as it always
/// does.
pub(crate) fn shut_down(fd: Option<std::os::fd::RawFd>) {
    if let Some(fd) = fd {
        crate::sys::shutdown_both(fd);
    }
}

/// What every target needs: a URL, and a proxy or TLS settings.
pub(crate) struct Target {
    pub(crate) url: String,
    pub(crate) proxy: Option<String>,
    pub(crate) tunnel: bool,
    pub(crate) ca_file: Option<std::path::PathBuf>,
    /// After each connect, outside the timing: one byte there and back, so
    /// that the client reads what the server sent after the handshake (the
    /// TLS 1.3 session tickets the next connect resumes with).
    pub(crate) echo_after: bool,
}

pub(crate) struct HandoverC {
    easy: handover::Easy,
    echo_after: bool,
}

impl HandoverC {
    pub(crate) fn new(t: &Target) -> HandoverC {
        let mut easy = handover::Easy::new();
        easy.url(&t.url).expect("url");
        easy.connect_only(ConnectOnly::Connection)
            .expect("connect_only");
        if let Some(ca) = &t.ca_file {
            easy.cainfo(ca).expect("cainfo");
        }
        if let Some(p) = &t.proxy {
            easy.proxy(p).expect("proxy");
            easy.http_proxy_tunnel(t.tunnel).expect("tunnel");
        }
        HandoverC {
            easy,
            echo_after: t.echo_after,
        }
    }
}

impl Contender for HandoverC {
    fn name(&self) -> &str {
        "handover"
    }
    fn connect(&mut self) -> Duration {
        let t = Instant::now();
        self.easy
            .perform()
            .unwrap_or_else(|e| panic!("handover perform: {e}"));
        t.elapsed()
    }
    fn end(&mut self) {
        if self.echo_after {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !matches!(self.easy.send(b"x"), Ok(1)) {
                assert!(Instant::now() < deadline, "handover: echo send");
                let _ = self.easy.wait_writable(Some(Duration::from_millis(100)));
            }
            let mut byte = [0u8; 1];
            while !matches!(self.easy.recv(&mut byte), Ok(1)) {
                assert!(Instant::now() < deadline, "handover: echo recv");
                let _ = self.easy.wait_readable(Some(Duration::from_millis(100)));
            }
        }
        shut_down(self.easy.active_socket());
    }
}

pub(crate) struct CurlC {
    easy: curl::easy::Easy,
    echo_after: bool,
}

impl CurlC {
    pub(crate) fn new(t: &Target) -> CurlC {
        let mut easy = curl::easy::Easy::new();
        easy.url(&t.url).expect("url");
        easy.connect_only(true).expect("connect_only");
        if let Some(ca) = &t.ca_file {
            easy.cainfo(ca).expect("cainfo");
            easy.http_version(curl::easy::HttpVersion::V11)
                .expect("http 1.1");
        }
        if let Some(p) = &t.proxy {
            easy.proxy(p).expect("proxy");
            easy.http_proxy_tunnel(t.tunnel).expect("tunnel");
        }
        CurlC {
            easy,
            echo_after: t.echo_after,
        }
    }
}

impl Contender for CurlC {
    fn name(&self) -> &str {
        "libcurl"
    }
    fn connect(&mut self) -> Duration {
        let t = Instant::now();
        self.easy
            .perform()
            .unwrap_or_else(|e| panic!("libcurl perform: {e}"));
        t.elapsed()
    }
    fn end(&mut self) {
        let fd = crate::sys::curl_active_socket(self.easy.raw());
        if self.echo_after {
            let raw = self.easy.raw();
            let deadline = Instant::now() + Duration::from_secs(10);
            while !matches!(crate::sys::curl_raw_send(raw, b"x"), Ok(1)) {
                assert!(Instant::now() < deadline, "libcurl: echo send");
            }
            let mut byte = [0u8; 1];
            while !matches!(crate::sys::curl_raw_recv(raw, &mut byte), Ok(1)) {
                assert!(Instant::now() < deadline, "libcurl: echo recv");
                if let Some(fd) = fd {
                    let _ = crate::sys::wait_fd(fd, true, false);
                }
            }
        }
        shut_down(fd);
    }
}

/// A floor: a closure doing the bare minimum by hand. What it returns (the
/// connection) is closed outside the timing, at the next connect.
struct Floor<F: FnMut() -> Box<dyn std::any::Any>> {
    name: &'static str,
    f: F,
    last: Option<Box<dyn std::any::Any>>,
}

impl<F: FnMut() -> Box<dyn std::any::Any>> Contender for Floor<F> {
    fn name(&self) -> &str {
        self.name
    }
    fn connect(&mut self) -> Duration {
        drop(self.last.take());
        let t = Instant::now();
        let conn = (self.f)();
        let d = t.elapsed();
        self.last = Some(conn);
        d
    }
}

pub fn run(args: &Args, which: &[String]) {
    let all = ["plain", "tls", "tls-resumed", "squid", "socks5"];
    let which: Vec<&str> = if which.is_empty() {
        all.to_vec()
    } else {
        which.iter().map(String::as_str).collect()
    };
    let n = if args.quick { 50 } else { 500 };
    let mut rows = Vec::new();
    for kind in which {
        rows.extend(measure(kind, n));
    }
    table(
        &format!("connect-only latency, sequential, {n} connects per contender, rounds of {ROUND}"),
        &[
            "target",
            "contender",
            "median µs",
            "p90 µs",
            "median vs libcurl",
            "p90 vs libcurl",
            "median vs floor",
        ],
        &rows,
    );
    note(
        "Loopback 127.0.0.1 everywhere (no resolver). One easy handle per contender, reused; \
         handover, libcurl and the floor alternate every round. Servers: a single-thread \
         epoll echo server (rustls for TLS); squid (no auth, CONNECT tunnel) and microsocks (SOCKS5, no auth) \
         in front of the plain echo server. TLS: TLS 1.3, ECDSA P-256 test certificate, \
         libcurl with HTTP/1.1 (no h2 ALPN) and CAINFO = the test CA. 'tls': nothing is read \
         after the handshake, so no session ticket is either: full handshakes. 'tls-resumed': \
         one byte there and back after each connect (outside the timing) reads the server's \
         TLS 1.3 tickets, and each handle's next connect resumes from its own session cache \
         (handover's and libcurl's default); the floor does full handshakes. Every connection \
         is shut down outside the timing.",
    );
}

fn measure(kind: &str, n: usize) -> Vec<Vec<String>> {
    // A single-thread epoll server: no thread start per connection on the
    // shared two cores, which would weigh on every sub-50 µs figure.
    let echo = EchoServer::start(None);
    let echo_addr = echo.addr();
    let plain_url = format!("http://127.0.0.1:{}/", echo.port());
    // Kept alive for the whole measurement.
    let mut _keep: Vec<Box<dyn std::any::Any>> = Vec::new();
    let (target, floor): (Target, Box<dyn Contender>) = match kind {
        "plain" => (
            Target {
                url: plain_url,
                proxy: None,
                tunnel: false,
                ca_file: None,
                echo_after: false,
            },
            Box::new(Floor {
                name: "floor: TcpStream::connect",
                f: move || {
                    let s = TcpStream::connect(echo_addr).expect("connect");
                    s.set_nodelay(true).expect("nodelay");
                    Box::new(s)
                },
                last: None,
            }),
        ),
        "tls" | "tls-resumed" => {
            let tls = Tls::new();
            let peer = EchoServer::start(Some(tls.config.clone()));
            let addr = peer.addr();
            let client = tls.client_config();
            let target = Target {
                url: format!("https://127.0.0.1:{}/", peer.port()),
                proxy: None,
                tunnel: false,
                ca_file: Some(tls.ca_file.clone()),
                echo_after: kind == "tls-resumed",
            };
            _keep.push(Box::new(peer));
            _keep.push(Box::new(tls));
            (
                target,
                Box::new(Floor {
                    name: "floor: TcpStream + full rustls handshake",
                    f: move || rustls_handshake(addr, &client),
                    last: None,
                }),
            )
        }
        "squid" => {
            let squid = Squid::start(SquidAuth::None);
            let proxy_addr: SocketAddr = ([127, 0, 0, 1], squid.port()).into();
            let target = Target {
                url: plain_url,
                proxy: Some(format!("http://127.0.0.1:{}", squid.port())),
                tunnel: true,
                ca_file: None,
                echo_after: false,
            };
            _keep.push(Box::new(squid));
            (
                target,
                Box::new(Floor {
                    name: "floor: raw CONNECT",
                    f: move || raw_connect(proxy_addr, echo_addr),
                    last: None,
                }),
            )
        }
        "socks5" => {
            let socks = Microsocks::start(None);
            let proxy_addr: SocketAddr = ([127, 0, 0, 1], socks.port()).into();
            let target = Target {
                url: plain_url,
                proxy: Some(format!("socks5://127.0.0.1:{}", socks.port())),
                tunnel: false,
                ca_file: None,
                echo_after: false,
            };
            _keep.push(Box::new(socks));
            (
                target,
                Box::new(Floor {
                    name: "floor: raw SOCKS5",
                    f: move || raw_socks5(proxy_addr, echo_addr),
                    last: None,
                }),
            )
        }
        other => {
            panic!("latency: unknown target {other:?} (plain, tls, tls-resumed, squid, socks5)")
        }
    };
    let mut contenders: Vec<Box<dyn Contender>> = vec![
        Box::new(HandoverC::new(&target)),
        Box::new(CurlC::new(&target)),
        floor,
    ];
    let mut samples = alternate(&mut contenders, n);
    if std::env::var_os("BENCH_DEBUG").is_some() {
        let fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count());
        eprintln!("latency {kind}: {fds} descriptors open after the rounds");
    }
    let stats: Vec<(f64, f64)> = samples
        .iter_mut()
        .map(|s| {
            s.sort();
            (pct(s, 50), pct(s, 90))
        })
        .collect();
    let (cm, cp) = stats[1];
    let (fm, _) = stats[2];
    contenders
        .iter()
        .zip(&stats)
        .map(|(c, &(m, p))| {
            vec![
                kind.to_string(),
                c.name().to_string(),
                format!("{m:.1}"),
                format!("{p:.1}"),
                ratio(m, cm),
                ratio(p, cp),
                ratio(m, fm),
            ]
        })
        .collect()
}

/// `n` timed connects per contender after [`WARMUP`] untimed ones, in
/// rounds of [`ROUND`], the contenders taking turns (the order reversed
/// every other round); each connection ended outside the timing. The
/// samples, per contender.
pub(crate) fn alternate(contenders: &mut [Box<dyn Contender>], n: usize) -> Vec<Vec<Duration>> {
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(n); contenders.len()];
    for c in contenders.iter_mut() {
        for _ in 0..WARMUP {
            c.connect();
            c.end();
        }
    }
    let rounds = n.div_ceil(ROUND);
    for round in 0..rounds {
        // Alternate the order too, so that no contender always goes first.
        let order: Vec<usize> = if round % 2 == 0 {
            (0..contenders.len()).collect()
        } else {
            (0..contenders.len()).rev().collect()
        };
        for i in order {
            for _ in 0..ROUND {
                let d = contenders[i].connect();
                contenders[i].end();
                samples[i].push(d);
            }
        }
    }
    samples
}

/// The `p`th percentile of sorted samples, in µs.
pub(crate) fn pct(sorted: &[Duration], p: usize) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) * p + 50) / 100;
    sorted[i].as_secs_f64() * 1e6
}

fn rustls_handshake(
    addr: SocketAddr,
    config: &Arc<rustls::ClientConfig>,
) -> Box<dyn std::any::Any> {
    let mut sock = TcpStream::connect(addr).expect("connect");
    sock.set_nodelay(true).expect("nodelay");
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("server name");
    let mut conn = rustls::ClientConnection::new(config.clone(), name).expect("client connection");
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).expect("handshake");
    }
    Box::new((conn, sock))
}

fn raw_connect(proxy: SocketAddr, target: SocketAddr) -> Box<dyn std::any::Any> {
    let mut s = TcpStream::connect(proxy).expect("connect to squid");
    s.set_nodelay(true).expect("nodelay");
    let req = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
    s.write_all(req.as_bytes()).expect("send CONNECT");
    let mut head = Vec::with_capacity(256);
    let mut buf = [0u8; 512];
    while !head.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut buf).expect("read the CONNECT reply");
        assert!(n > 0, "squid closed");
        head.extend_from_slice(&buf[..n]);
    }
    assert!(head.starts_with(b"HTTP/1.1 200"), "CONNECT refused");
    Box::new(s)
}

fn raw_socks5(proxy: SocketAddr, target: SocketAddr) -> Box<dyn std::any::Any> {
    let mut s = TcpStream::connect(proxy).expect("connect to microsocks");
    s.set_nodelay(true).expect("nodelay");
    s.write_all(&[5, 1, 0]).expect("greeting");
    let mut r = [0u8; 2];
    s.read_exact(&mut r).expect("method");
    assert_eq!(r, [5, 0]);
    let SocketAddr::V4(v4) = target else {
        panic!("IPv4 target")
    };
    let mut req = vec![5, 1, 0, 1];
    req.extend_from_slice(&v4.ip().octets());
    req.extend_from_slice(&v4.port().to_be_bytes());
    s.write_all(&req).expect("request");
    let mut rep = [0u8; 10];
    s.read_exact(&mut rep).expect("reply");
    assert_eq!(rep[1], 0, "SOCKS5 refused");
    Box::new(s)
}
