//! Bulk echo over a handed-over connection: send a volume and receive it
//! back concurrently, 64 KiB per `send`/`recv`, non-blocking, waiting on
//! readiness with poll(2) on the connection's socket. Every byte received
//! is compared with what was sent.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use handover::ConnectOnly;

use crate::peers::{Behavior, TcpPeer, TlsPeer};
use crate::{note, ratio, sys, table, Args, Tls};

pub(crate) const CHUNK: usize = 64 * 1024;
/// The sent stream repeats this many pseudo-random bytes (not a power of
/// two, so that chunks do not line up with it).
pub(crate) const PATTERN: usize = (1 << 20) + 4099;

/// One side of a bulk echo: non-blocking send/recv (`WouldBlock` = again).
pub(crate) trait Pipe {
    fn send(&mut self, data: &[u8]) -> io::Result<usize>;
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    fn fd(&self) -> RawFd;
}

fn again() -> io::Error {
    io::ErrorKind::WouldBlock.into()
}

pub(crate) struct HandoverPipe(pub(crate) handover::Easy);

impl Pipe for HandoverPipe {
    fn send(&mut self, data: &[u8]) -> io::Result<usize> {
        match self.0.send(data) {
            Ok(n) => Ok(n),
            Err(e) if e.is_again() => Err(again()),
            Err(e) => Err(io::Error::other(format!("handover send: {e}"))),
        }
    }
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.recv(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.is_again() => Err(again()),
            Err(e) => Err(io::Error::other(format!("handover recv: {e}"))),
        }
    }
    fn fd(&self) -> RawFd {
        self.0.active_socket().expect("handover's active socket")
    }
}

struct CurlPipe(curl::easy::Easy);

impl Pipe for CurlPipe {
    fn send(&mut self, data: &[u8]) -> io::Result<usize> {
        match self.0.send(data) {
            Ok(n) => Ok(n),
            Err(e) if e.is_again() => Err(again()),
            Err(e) => Err(io::Error::other(format!("libcurl send: {e}"))),
        }
    }
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.recv(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.is_again() => Err(again()),
            Err(e) => Err(io::Error::other(format!("libcurl recv: {e}"))),
        }
    }
    fn fd(&self) -> RawFd {
        sys::curl_active_socket(self.0.raw()).expect("libcurl's active socket")
    }
}

struct RawPipe(TcpStream);

impl Pipe for RawPipe {
    fn send(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.write(data)
    }
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
    fn fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

pub(crate) fn pattern() -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..PATTERN)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Echoes `total` bytes through `pipe`; the time it took.
pub(crate) fn echo(pipe: &mut dyn Pipe, total: u64, pat: &[u8]) -> io::Result<Duration> {
    let fd = pipe.fd();
    let mut buf = vec![0u8; CHUNK];
    let (mut sent, mut got) = (0u64, 0u64);
    let start = Instant::now();
    while got < total {
        let mut progress = false;
        if sent < total {
            let off = (sent % PATTERN as u64) as usize;
            let len = CHUNK.min(PATTERN - off).min((total - sent) as usize);
            match pipe.send(&pat[off..off + len]) {
                Ok(n) => {
                    sent += n as u64;
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        match pipe.recv(&mut buf) {
            Ok(0) => return Err(io::Error::other(format!("EOF after {got} bytes"))),
            Ok(n) => {
                verify(&buf[..n], got, pat)?;
                got += n as u64;
                progress = true;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        if !progress {
            sys::wait_fd(fd, true, sent < total)?;
        }
    }
    Ok(start.elapsed())
}

/// Compares received bytes with the pattern at stream offset `at`.
pub(crate) fn verify(data: &[u8], at: u64, pat: &[u8]) -> io::Result<()> {
    let mut off = (at % PATTERN as u64) as usize;
    let mut rest = data;
    while !rest.is_empty() {
        let len = rest.len().min(PATTERN - off);
        if rest[..len] != pat[off..off + len] {
            return Err(io::Error::other(format!(
                "echoed bytes differ near offset {at}"
            )));
        }
        rest = &rest[len..];
        off = 0;
    }
    Ok(())
}

pub fn run(args: &Args, which: &[String]) {
    let which: Vec<&str> = if which.is_empty() {
        vec!["plain", "tls"]
    } else {
        which.iter().map(String::as_str).collect()
    };
    let total: u64 = if args.quick { 128 << 20 } else { 1 << 30 };
    let rounds: u64 = if args.quick { 4 } else { 8 };
    let pat = pattern();
    let mut rows = Vec::new();
    for kind in which {
        rows.extend(measure(kind, total, rounds, &pat));
    }
    table(
        &format!(
            "bulk echo over the handed-over connection, {} MiB each way per contender, {} KiB calls",
            total >> 20,
            CHUNK >> 10
        ),
        &[
            "target",
            "contender",
            "MB/s (each way)",
            "per round: median (min–max)",
            "vs libcurl",
            "vs raw socket",
        ],
        &rows,
    );
    note(&format!(
        "The volume is split into {rounds} rounds, each on a fresh connection, contenders \
         alternating (order reversed every round). Non-blocking send/recv, poll(2) on the \
         socket when neither makes progress; every byte received is compared with what was sent. \
         Echo server: the test peers (a thread per connection, blocking 64 KiB reads; TLS: rustls)."
    ));
}

fn measure(kind: &str, total: u64, rounds: u64, pat: &[u8]) -> Vec<Vec<String>> {
    let tls = (kind == "tls").then(Tls::new);
    let (port, _plain, _tls_peer) = match (kind, &tls) {
        ("plain", _) => {
            let p = TcpPeer::start(Behavior::Echo);
            (p.port(), Some(p), None)
        }
        ("tls", Some(t)) => {
            let p = TlsPeer::start(t.config.clone(), Behavior::Echo);
            (p.port(), None, Some(p))
        }
        _ => panic!("throughput: unknown target {kind:?} (plain, tls)"),
    };
    let url = match &tls {
        Some(_) => format!("https://127.0.0.1:{port}/"),
        None => format!("http://127.0.0.1:{port}/"),
    };
    let names: Vec<&str> = if tls.is_some() {
        vec!["handover", "libcurl"]
    } else {
        vec!["handover", "libcurl", "raw TcpStream"]
    };
    let per_round = total / rounds;
    let mut times = vec![Duration::ZERO; names.len()];
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for round in 0..rounds {
        let order: Vec<usize> = if round % 2 == 0 {
            (0..names.len()).collect()
        } else {
            (0..names.len()).rev().collect()
        };
        for i in order {
            let mut pipe: Box<dyn Pipe> = match names[i] {
                "handover" => {
                    let mut e = handover::Easy::new();
                    e.url(&url).expect("url");
                    e.connect_only(ConnectOnly::Connection).expect("co");
                    if let Some(t) = &tls {
                        e.cainfo(&t.ca_file).expect("cainfo");
                    }
                    e.perform().expect("handover perform");
                    Box::new(HandoverPipe(e))
                }
                "libcurl" => {
                    let mut e = curl::easy::Easy::new();
                    e.url(&url).expect("url");
                    e.connect_only(true).expect("co");
                    if let Some(t) = &tls {
                        e.cainfo(&t.ca_file).expect("cainfo");
                        e.http_version(curl::easy::HttpVersion::V11).expect("1.1");
                    }
                    e.perform().expect("libcurl perform");
                    Box::new(CurlPipe(e))
                }
                _ => {
                    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
                    s.set_nodelay(true).expect("nodelay");
                    s.set_nonblocking(true).expect("nonblocking");
                    Box::new(RawPipe(s))
                }
            };
            let d = echo(pipe.as_mut(), per_round, pat)
                .unwrap_or_else(|e| panic!("{} {kind}: {e}", names[i]));
            if std::env::var_os("BENCH_DEBUG").is_some() {
                eprintln!(
                    "{kind} {} round {round}: {:.0} MB/s",
                    names[i],
                    per_round as f64 / d.as_secs_f64() / 1e6
                );
            }
            times[i] += d;
            per[i].push(per_round as f64 / d.as_secs_f64() / 1e6);
        }
    }
    let mbs: Vec<f64> = times
        .iter()
        .map(|t| (per_round * rounds) as f64 / t.as_secs_f64() / 1e6)
        .collect();
    let raw = mbs.get(2).copied().unwrap_or(f64::NAN);
    names
        .iter()
        .zip(&mbs)
        .zip(per.iter_mut())
        .map(|((n, &m), p)| {
            p.sort_by(f64::total_cmp);
            let (lo, med, hi) = (p[0], p[p.len() / 2], p[p.len() - 1]);
            vec![
                kind.to_string(),
                n.to_string(),
                format!("{m:.0}"),
                format!("{med:.0} ({lo:.0}–{hi:.0})"),
                ratio(m, mbs[1]),
                if raw.is_nan() {
                    "-".into()
                } else {
                    ratio(m, raw)
                },
            ]
        })
        .collect()
}
