//! N concurrent connect-only transfers in one multi handle: the time until
//! every one is connected, then one small round trip on each; every
//! contender in a child process of its own, so that its peak RSS is its own.

use std::process::Command;
use std::time::{Duration, Instant};

use handover::ConnectOnly;

use crate::echo::EchoServer;
use crate::{note, ratio, sys, table, Args, Tls};

const PING: &[u8] = b"ping";
/// A child that takes longer than this gives up.
const DEADLINE: Duration = Duration::from_secs(300);

struct Outcome {
    connect: Duration,
    rtt: Duration,
    hwm_kb: u64,
    base_kb: u64,
}

pub fn run(args: &Args, which: &[String]) {
    let limit = sys::raise_nofile();
    let ns: Vec<usize> = if which.is_empty() {
        if args.quick {
            vec![100, 1000]
        } else {
            vec![1000, 10000]
        }
    } else {
        which.iter().filter_map(|w| w.parse().ok()).collect()
    };
    // 2 rounds in the order handover, libcurl, libcurl, handover.
    let orders: &[&str] = if args.quick {
        &["handover", "libcurl"]
    } else {
        &["handover", "libcurl", "libcurl", "handover"]
    };
    let tls = Tls::new();
    let mut rows = Vec::new();
    for kind in ["plain", "tls"] {
        for &n in &ns {
            if n + 64 > limit as usize {
                eprintln!("multi: N = {n} needs more descriptors than the limit {limit}; skipped");
                continue;
            }
            let mut got: Vec<(&str, Outcome)> = Vec::new();
            for &who in orders {
                let server = EchoServer::start((kind == "tls").then(|| tls.config.clone()));
                let o = spawn_child(who, kind, n, server.port(), &tls);
                assert!(
                    server.accepted() >= n,
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
        &rows,
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

fn spawn_child(who: &str, kind: &str, n: usize, port: u16, tls: &Tls) -> Outcome {
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
    }
}

/// The child: `multi-child WHO KIND N PORT CAFILE`.
pub fn child(words: &[String]) {
    sys::raise_nofile();
    let [who, kind, n, port, ca] = words else {
        panic!("multi-child WHO KIND N PORT CAFILE")
    };
    let n: usize = n.parse().expect("N");
    let tls = kind == "tls";
    let url = if tls {
        format!("https://127.0.0.1:{port}/")
    } else {
        format!("http://127.0.0.1:{port}/")
    };
    let base_kb = sys::proc_status_kb("VmRSS").unwrap_or(0);
    let deadline = Instant::now() + DEADLINE;
    let (connect, rtt) = match who.as_str() {
        "handover" => child_handover(&url, tls.then_some(ca.as_str()), n, deadline),
        "libcurl" => child_libcurl(&url, tls.then_some(ca.as_str()), n, deadline),
        other => panic!("unknown contender {other}"),
    };
    let hwm_kb = sys::proc_status_kb("VmHWM").unwrap_or(0);
    println!(
        "RESULT {} {} {hwm_kb} {base_kb}",
        connect.as_micros(),
        rtt.as_micros()
    );
    // Skip tearing down N connections: the measurement is done.
    std::process::exit(0);
}

fn child_handover(
    url: &str,
    ca: Option<&str>,
    n: usize,
    deadline: Instant,
) -> (Duration, Duration) {
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
    while done < n {
        multi.perform().expect("perform");
        multi.messages(|m| {
            done += 1;
            if let Err(e) = m.result() {
                if failed < 5 {
                    eprintln!("handover transfer {}: {e}", m.token());
                }
                failed += 1;
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
    assert_eq!(failed, 0, "handover: {failed} of {n} transfers failed");
    let rtt = round_trips(
        n,
        |i| handles[i].active_socket().expect("active socket"),
        |i, d| map_handover(handles[i].send(d)),
        |i, b| map_handover(handles[i].recv(b)),
        deadline,
    );
    (connect, rtt)
}

fn child_libcurl(url: &str, ca: Option<&str>, n: usize, deadline: Instant) -> (Duration, Duration) {
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
    while done < n {
        multi.perform().expect("perform");
        multi.messages(|m| {
            if let Some(r) = m.result() {
                done += 1;
                if let Err(e) = r {
                    if failed < 5 {
                        eprintln!("libcurl transfer {:?}: {e}", m.token());
                    }
                    failed += 1;
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
    assert_eq!(failed, 0, "libcurl: {failed} of {n} transfers failed");
    let raws: Vec<*mut curl_sys::CURL> = handles.iter().map(|h| h.raw()).collect();
    let rtt = round_trips(
        n,
        |i| sys::curl_active_socket(raws[i]).expect("active socket"),
        |i, d| map_curl(sys::curl_raw_send(raws[i], d)),
        |i, b| map_curl(sys::curl_raw_recv(raws[i], b)),
        deadline,
    );
    drop(handles);
    (connect, rtt)
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
