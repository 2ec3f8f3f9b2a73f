//! C against C: `c/cbench.c`, compiled against the system's `curl/curl.h`
//! and linked to Debian's libcurl, run once as it is and once with
//! `LD_LIBRARY_PATH` pointing at handover's `libcurl.so.4`
//! (crates/handover-curl), the two alternating against the same servers as
//! the Rust benches. The program measures itself (monotonic clock around the
//! calls, VmHWM); process start-up is never inside a figure.
//!
//! handover's library is taken from `$HANDOVER_LIBCURL_DIR` (scripts/bench
//! sets it to what `scripts/libcurl` prints), else from
//! `target/release/libcurl` when it holds a `libcurl.so.4`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::echo::EchoServer;
use crate::peers::{Behavior, TcpPeer, TlsPeer};
use crate::real_peers::{Microsocks, Squid, SquidAuth};
use crate::{note, ratio, sys, table, Args, Tls};

const SOURCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/c/cbench.c");
/// Connects per process and contender; the processes alternate.
const ROUND: usize = 50;
/// Unmeasured connects at the start of every process.
const WARMUP: usize = 10;

/// The two runs of the same binary.
#[derive(Clone, Copy, PartialEq)]
enum Lib {
    Handover,
    Libcurl,
}

const CONTENDERS: [Lib; 2] = [Lib::Handover, Lib::Libcurl];

impl Lib {
    fn name(self) -> &'static str {
        match self {
            Lib::Handover => "handover-curl",
            Lib::Libcurl => "libcurl",
        }
    }
}

struct Bench {
    exe: PathBuf,
    handover_dir: PathBuf,
}

impl Bench {
    fn setup() -> Bench {
        let handover_dir = handover_dir();
        let exe = std::env::current_exe()
            .expect("own path")
            .with_file_name("cbench");
        let out = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
            .args(["-O2", "-Wall", "-Wextra", "-o"])
            .arg(&exe)
            .arg(SOURCE)
            .arg("-lcurl")
            .output()
            .expect("run cc");
        assert!(
            out.status.success(),
            "cc {SOURCE} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bench = Bench { exe, handover_dir };
        // Each run must load the library it is named after.
        for lib in CONTENDERS {
            let ldd = bench
                .command(lib, "ldd")
                .arg(&bench.exe)
                .output()
                .expect("run ldd");
            let text = String::from_utf8_lossy(&ldd.stdout);
            let line = text
                .lines()
                .find(|l| l.contains("libcurl.so.4"))
                .unwrap_or_else(|| panic!("cbench does not load libcurl.so.4:\n{text}"));
            let ours = line.contains(&*bench.handover_dir.to_string_lossy());
            assert_eq!(
                ours,
                lib == Lib::Handover,
                "{}: cbench loads {}",
                lib.name(),
                line.trim()
            );
        }
        bench
    }

    /// `program` with the environment of `lib`.
    fn command(&self, lib: Lib, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        match lib {
            Lib::Handover => cmd.env("LD_LIBRARY_PATH", &self.handover_dir),
            Lib::Libcurl => cmd.env_remove("LD_LIBRARY_PATH"),
        };
        cmd
    }

    /// Runs cbench with `args` on `lib`; its stdout.
    fn run(&self, lib: Lib, args: &[&str]) -> String {
        let out: Output = self
            .command(lib, &self.exe)
            .args(args)
            .output()
            .expect("run cbench");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "cbench {} on {} failed ({}):\n{stdout}\n{}",
            args.join(" "),
            lib.name(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }
}

fn handover_dir() -> PathBuf {
    let dir = std::env::var_os("HANDOVER_LIBCURL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/libcurl")
        });
    let dir = dir.canonicalize().unwrap_or(dir);
    assert!(
        dir.join("libcurl.so.4").exists(),
        "no libcurl.so.4 in {} (run scripts/libcurl, or set HANDOVER_LIBCURL_DIR)",
        dir.display()
    );
    dir
}

/// The numbers after `RESULT ` in cbench's output.
fn result(out: &str) -> Vec<f64> {
    out.lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no RESULT line in:\n{out}"))
        .split_whitespace()
        .map(|x| x.parse().expect("a number"))
        .collect()
}

pub fn run(args: &Args, which: &[String]) {
    let bench = Bench::setup();
    let parts = ["latency", "throughput", "multi"];
    for w in which {
        assert!(
            parts.contains(&w.as_str()) || w == "plain" || w == "tls",
            "c: unknown word {w:?} (latency, throughput, multi [plain|tls])"
        );
    }
    let none = !which.iter().any(|w| parts.contains(&w.as_str()));
    let want = |p: &str| none || which.iter().any(|w| w == p);
    eprintln!(
        "c: {} on Debian's libcurl and on {}/libcurl.so.4",
        bench.exe.display(),
        bench.handover_dir.display()
    );
    let tls = Tls::new();
    if want("latency") {
        latency(&bench, args, &tls);
    }
    if want("throughput") {
        throughput(&bench, args, &tls);
    }
    if want("multi") {
        multi(&bench, args, &tls, which);
    }
}

/// Alternating order for round `round`.
fn order(round: usize) -> [Lib; 2] {
    if round % 2 == 0 {
        CONTENDERS
    } else {
        [CONTENDERS[1], CONTENDERS[0]]
    }
}

fn pct(sorted: &[f64], p: usize) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) * p + 50) / 100]
}

fn latency(bench: &Bench, args: &Args, tls: &Tls) {
    let n = if args.quick { 100 } else { 500 };
    let rounds = n / ROUND;
    let ca = tls.ca_file.to_string_lossy().into_owned();
    let mut rows = Vec::new();
    for kind in ["plain", "tls", "squid", "socks5"] {
        let echo = EchoServer::start(None);
        let plain = format!("http://127.0.0.1:{}/", echo.port());
        let mut keep: Vec<Box<dyn std::any::Any>> = Vec::new();
        let (url, cainfo, proxy) = match kind {
            "plain" => (plain, "-".to_string(), "-".to_string()),
            "tls" => {
                let peer = EchoServer::start(Some(tls.config.clone()));
                let url = format!("https://127.0.0.1:{}/", peer.port());
                keep.push(Box::new(peer));
                (url, ca.clone(), "-".to_string())
            }
            "squid" => {
                let squid = Squid::start(SquidAuth::None);
                let proxy = format!("http://127.0.0.1:{}", squid.port());
                keep.push(Box::new(squid));
                (plain, "-".to_string(), proxy)
            }
            _ => {
                let socks = Microsocks::start(None);
                let proxy = format!("socks5://127.0.0.1:{}", socks.port());
                keep.push(Box::new(socks));
                (plain, "-".to_string(), proxy)
            }
        };
        let mut samples: Vec<Vec<f64>> = (0..2).map(|_| Vec::with_capacity(n)).collect();
        let (round, warmup) = (ROUND.to_string(), WARMUP.to_string());
        for r in 0..rounds {
            for lib in order(r) {
                let out = bench.run(lib, &["latency", &url, &round, &warmup, &cainfo, &proxy]);
                let i = CONTENDERS
                    .iter()
                    .position(|&c| c == lib)
                    .expect("a contender");
                samples[i].extend(
                    out.lines()
                        .map(|l| l.trim().parse::<f64>().expect("microseconds")),
                );
            }
        }
        let stats: Vec<(f64, f64)> = samples
            .iter_mut()
            .map(|s| {
                s.sort_by(f64::total_cmp);
                (pct(s, 50), pct(s, 90))
            })
            .collect();
        let (cm, cp) = stats[1];
        for (lib, (m, p)) in CONTENDERS.iter().zip(stats) {
            rows.push(vec![
                kind.to_string(),
                lib.name().to_string(),
                format!("{m:.1}"),
                format!("{p:.1}"),
                ratio(m, cm),
                ratio(p, cp),
            ]);
        }
        drop(keep);
    }
    table(
        &format!(
            "C: connect-only latency, sequential, {n} connects per library, {ROUND} per process"
        ),
        &[
            "target",
            "library",
            "median µs",
            "p90 µs",
            "median vs libcurl",
            "p90 vs libcurl",
        ],
        &rows,
    );
    note(&format!(
        "cbench latency: one easy handle per process, reused, curl_easy_perform timed with \
         CLOCK_MONOTONIC after {WARMUP} unmeasured performs; the two libraries alternate \
         process by process (order reversed every round). Servers as in the Rust latency \
         table: the epoll echo server (rustls for TLS), squid (CONNECT) and microsocks in \
         front of it. TLS: CAINFO = the test CA, CURLOPT_HTTP_VERSION 1.1 for both."
    ));
}

fn throughput(bench: &Bench, args: &Args, tls: &Tls) {
    let total: u64 = if args.quick { 128 << 20 } else { 1 << 30 };
    let rounds: usize = if args.quick { 4 } else { 8 };
    let per_round = total / rounds as u64;
    let ca = tls.ca_file.to_string_lossy().into_owned();
    let mut rows = Vec::new();
    for kind in ["plain", "tls"] {
        let (_plain, _tls, url, cainfo) = if kind == "plain" {
            let p = TcpPeer::start(Behavior::Echo);
            let url = format!("http://127.0.0.1:{}/", p.port());
            (Some(p), None, url, "-".to_string())
        } else {
            let p = TlsPeer::start(tls.config.clone(), Behavior::Echo);
            let url = format!("https://127.0.0.1:{}/", p.port());
            (None, Some(p), url, ca.clone())
        };
        let mut secs = [0.0f64; 2];
        let mut per: Vec<Vec<f64>> = vec![Vec::new(); 2];
        let bytes = per_round.to_string();
        for r in 0..rounds {
            for lib in order(r) {
                let out = bench.run(lib, &["throughput", &url, &bytes, &cainfo]);
                let s = result(&out)[0] / 1e6;
                let i = CONTENDERS
                    .iter()
                    .position(|&c| c == lib)
                    .expect("a contender");
                secs[i] += s;
                per[i].push(per_round as f64 / s / 1e6);
            }
        }
        let mbs: Vec<f64> = secs.iter().map(|s| total as f64 / s / 1e6).collect();
        for ((lib, &m), p) in CONTENDERS.iter().zip(&mbs).zip(per.iter_mut()) {
            p.sort_by(f64::total_cmp);
            rows.push(vec![
                kind.to_string(),
                lib.name().to_string(),
                format!("{m:.0}"),
                format!("{:.0} ({:.0}–{:.0})", p[p.len() / 2], p[0], p[p.len() - 1]),
                ratio(m, mbs[1]),
            ]);
        }
    }
    table(
        &format!(
            "C: bulk echo through curl_easy_send/recv, {} MiB each way per library, 64 KiB calls",
            total >> 20
        ),
        &[
            "target",
            "library",
            "MB/s (each way)",
            "per round: median (min–max)",
            "vs libcurl",
        ],
        &rows,
    );
    note(&format!(
        "cbench throughput: {rounds} rounds, each a process and a fresh connection, the \
         libraries alternating (order reversed every round); the connect is not timed. \
         Non-blocking curl_easy_send/recv, poll(2) on CURLINFO_ACTIVESOCKET when neither \
         makes progress, every byte received compared with what was sent. Echo server: the \
         test peers, as in the Rust throughput table."
    ));
}

fn multi(bench: &Bench, args: &Args, tls: &Tls, which: &[String]) {
    let limit = sys::raise_nofile();
    let n: usize = if args.quick { 1000 } else { 10000 };
    assert!(
        (n + 64) as u64 <= limit,
        "c multi: N = {n} needs more descriptors than the limit {limit}"
    );
    let orders: &[Lib] = if args.quick {
        &[Lib::Handover, Lib::Libcurl]
    } else {
        &[Lib::Handover, Lib::Libcurl, Lib::Libcurl, Lib::Handover]
    };
    let ca = tls.ca_file.to_string_lossy().into_owned();
    // TLS only when asked for (`c multi tls`): 10,000 handshakes take libcurl ~20 s a run.
    let mut kinds: Vec<&str> = ["plain", "tls"]
        .into_iter()
        .filter(|k| which.iter().any(|w| w == k))
        .collect();
    if kinds.is_empty() {
        kinds.push("plain");
    }
    let mut rows = Vec::new();
    for &kind in &kinds {
        // (µs to connected, VmHWM kB, base kB) per run.
        let mut got: Vec<(Lib, [f64; 3])> = Vec::new();
        for &lib in orders {
            let server = EchoServer::start((kind == "tls").then(|| tls.config.clone()));
            let url = match kind {
                "tls" => format!("https://127.0.0.1:{}/", server.port()),
                _ => format!("http://127.0.0.1:{}/", server.port()),
            };
            let cainfo = if kind == "tls" { ca.as_str() } else { "-" };
            let out = bench.run(lib, &["multi", &url, &n.to_string(), cainfo]);
            let v = result(&out);
            assert_eq!(v[3], 0.0, "{}: {} transfers failed", lib.name(), v[3]);
            // Connected means the kernel completed the handshake; the
            // server accepts behind it.
            let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while server.accepted() < n && std::time::Instant::now() < until {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            assert!(
                server.accepted() >= n,
                "{}: the server saw {} connections",
                lib.name(),
                server.accepted()
            );
            got.push((lib, [v[0], v[1], v[2]]));
        }
        let avg = |lib: Lib| -> (f64, f64, f64) {
            let mine: Vec<&[f64; 3]> = got
                .iter()
                .filter(|(l, _)| *l == lib)
                .map(|(_, v)| v)
                .collect();
            let ms = mine.iter().map(|v| v[0]).sum::<f64>() / mine.len() as f64 / 1e3;
            let hwm = mine.iter().map(|v| v[1]).fold(0.0, f64::max);
            let per = mine
                .iter()
                .map(|v| (v[1] - v[2]).max(0.0) / n as f64)
                .fold(0.0, f64::max);
            (ms, hwm, per)
        };
        let (cms, _, cper) = avg(Lib::Libcurl);
        for lib in CONTENDERS {
            let (ms, hwm, per) = avg(lib);
            rows.push(vec![
                kind.to_string(),
                n.to_string(),
                lib.name().to_string(),
                format!("{ms:.1}"),
                ratio(ms, cms),
                format!("{:.1}", hwm / 1024.0),
                format!("{per:.1}"),
                ratio(per, cper),
            ]);
        }
    }
    table(
        "C: N connect-only handles in one multi, curl_multi_socket_action from epoll",
        &[
            "target",
            "N",
            "library",
            "connected ms",
            "vs libcurl",
            "peak RSS MiB",
            "KiB / handle",
            "vs libcurl",
        ],
        &rows,
    );
    note(&format!(
        "cbench multi: CURLMOPT_SOCKETFUNCTION and TIMERFUNCTION, an epoll loop calling \
         curl_multi_socket_action, curl_multi_info_read. Each run a process (order {}; times \
         averaged, RSS the largest). 'connected': from the first curl_easy_init to the last \
         CURLMSG_DONE (every one CURLE_OK, the server counts N connections). KiB / handle = \
         (VmHWM − VmRSS before the first handle) / N. Echo server: the single-thread epoll one \
         in the parent process, a fresh one per run.",
        orders
            .iter()
            .map(|l| l.name())
            .collect::<Vec<_>>()
            .join(", ")
    ));
}
