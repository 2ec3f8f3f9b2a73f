//! The async face (feature `tokio` of handover, issue 13) against the
//! blocking one, libcurl, and tokio's and hyper-util's own pieces:
//!
//! - `latency [plain|tls|squid]`: sequential connect-only latency,
//!   `Easy::connect_async` on a current-thread runtime against the blocking
//!   `Easy::perform` and libcurl, rounds alternating (latency.rs's loop);
//!   `squid` (not run unless named): a CONNECT tunnel through squid with
//!   Basic authentication.
//! - `throughput`: bulk echo through the `AsyncConnection` (tokio
//!   `AsyncRead + AsyncWrite`, written and read in one loop) against the
//!   blocking handle's send/recv (throughput.rs's loop) and a bare
//!   `tokio::net::TcpStream`.
//! - `multi [N]...`: N concurrent `connect_async` tasks on one
//!   current-thread runtime against the sync `Multi` with the same N, each
//!   in a child process of its own (multi.rs's children).
//! - `hyper`: one request per new connection through squid with Basic
//!   authentication, hyper-util's legacy client with handover's `Connector`
//!   against the same client with hyper-util's `Tunnel` over its
//!   `HttpConnector`.
//!
//! With no part named, all four run.

use std::io;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use handover::tokio::AsyncConnection;
use handover::ConnectOnly;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::pin::Pin;
use std::task::Poll;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::runtime::Runtime;

use crate::echo::EchoServer;
use crate::latency::{self, Contender, CurlC, HandoverC, Target};
use crate::multi::{self, Run, PING};
use crate::peers::{Behavior, TcpPeer};
use crate::real_peers::{Nginx, Squid, SquidAuth};
use crate::throughput::{self, HandoverPipe, CHUNK, PATTERN};
use crate::{note, ratio, sys, table, Args, Tls};

const PARTS: [&str; 4] = ["latency", "throughput", "multi", "hyper"];

/// squid's one user for the `hyper` rows (Basic).
const PROXY_USER: &str = "alice";
const PROXY_PASSWORD: &str = "wonder:land";

pub fn run(args: &Args, words: &[String]) {
    let named: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| PARTS.contains(w))
        .collect();
    let parts: Vec<&str> = if named.is_empty() {
        PARTS.to_vec()
    } else {
        named
    };
    let kinds: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| matches!(*w, "plain" | "tls" | "squid"))
        .collect();
    for w in words {
        let known = PARTS.contains(&w.as_str())
            || matches!(w.as_str(), "plain" | "tls" | "squid")
            || w.parse::<usize>().is_ok();
        if !known {
            eprintln!("async: unknown word {w:?} (latency [plain|tls|squid], throughput [plain], multi [N], hyper)");
            std::process::exit(2);
        }
    }
    for part in parts {
        match part {
            "latency" => latency_part(args, &kinds),
            "throughput" => throughput_part(args),
            "multi" => {
                let ns: Vec<usize> = words.iter().filter_map(|w| w.parse().ok()).collect();
                multi_part(args, &ns)
            }
            "hyper" => hyper_part(args),
            _ => unreachable!("parts are filtered"),
        }
    }
}

/// A current-thread runtime with IO and time, as an async caller has.
fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .expect("a current-thread tokio runtime")
}

// ---------------------------------------------------------------------------
// latency

/// `connect_async` on a runtime of its own, one handle reused.
struct AsyncC {
    rt: Runtime,
    easy: handover::Easy,
    /// The last connection: shut down after its timing (`end`) and dropped
    /// at the next connect, inside the timing, as the blocking handle's
    /// next perform closes its previous connection.
    conn: Option<AsyncConnection>,
}

impl AsyncC {
    fn new(t: &Target) -> AsyncC {
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
        AsyncC {
            rt: runtime(),
            easy,
            conn: None,
        }
    }
}

impl Contender for AsyncC {
    fn name(&self) -> &str {
        "async (connect_async)"
    }
    fn connect(&mut self) -> Duration {
        let AsyncC { rt, easy, conn } = self;
        // Timed inside the runtime, as an async application connects: the
        // cost of entering `block_on` is this harness's, not the connect's.
        let (d, new) = rt.block_on(async {
            let t = Instant::now();
            drop(conn.take());
            let new = easy.connect_async().await;
            (t.elapsed(), new)
        });
        *conn = Some(new.unwrap_or_else(|e| panic!("connect_async: {e}")));
        d
    }
    fn end(&mut self) {
        latency::shut_down(self.conn.as_ref().map(AsRawFd::as_raw_fd));
    }
}

/// The blocking handle under the name of this table.
struct Blocking(HandoverC);

impl Contender for Blocking {
    fn name(&self) -> &str {
        "blocking (perform)"
    }
    fn connect(&mut self) -> Duration {
        self.0.connect()
    }
    fn end(&mut self) {
        self.0.end()
    }
}

fn latency_part(args: &Args, kinds: &[&str]) {
    let kinds: Vec<&str> = if kinds.is_empty() {
        vec!["plain", "tls"]
    } else {
        kinds.to_vec()
    };
    let n = if args.quick { 50 } else { 500 };
    let mut rows = Vec::new();
    for kind in kinds {
        let tls = (kind == "tls").then(Tls::new);
        let server = EchoServer::start(tls.as_ref().map(|t| t.config.clone()));
        let squid = (kind == "squid").then(|| {
            Squid::start(SquidAuth::Basic {
                user: PROXY_USER.into(),
                password: PROXY_PASSWORD.into(),
            })
        });
        let target = Target {
            url: match &tls {
                Some(_) => format!("https://127.0.0.1:{}/", server.port()),
                None => format!("http://127.0.0.1:{}/", server.port()),
            },
            proxy: squid.as_ref().map(|s| {
                format!(
                    "http://{PROXY_USER}:{}@127.0.0.1:{}",
                    PROXY_PASSWORD.replace(':', "%3A"),
                    s.port()
                )
            }),
            tunnel: squid.is_some(),
            ca_file: tls.as_ref().map(|t| t.ca_file.clone()),
            echo_after: false,
        };
        let mut contenders: Vec<Box<dyn Contender>> = vec![
            Box::new(AsyncC::new(&target)),
            Box::new(Blocking(HandoverC::new(&target))),
            Box::new(CurlC::new(&target)),
        ];
        let mut samples = latency::alternate(&mut contenders, n);
        let stats: Vec<(f64, f64)> = samples
            .iter_mut()
            .map(|s| {
                s.sort();
                (latency::pct(s, 50), latency::pct(s, 90))
            })
            .collect();
        let (bm, bp) = stats[1];
        let (cm, cp) = stats[2];
        for (c, &(m, p)) in contenders.iter().zip(&stats) {
            rows.push(vec![
                kind.to_string(),
                c.name().to_string(),
                format!("{m:.1}"),
                format!("{p:.1}"),
                ratio(m, bm),
                ratio(p, bp),
                ratio(m, cm),
                ratio(p, cp),
            ]);
        }
        drop(contenders);
        drop(server);
    }
    table(
        &format!(
            "async latency: connect-only, sequential, {n} connects per contender, rounds of {}",
            latency::ROUND
        ),
        &[
            "target",
            "contender",
            "median µs",
            "p90 µs",
            "median vs blocking",
            "p90 vs blocking",
            "median vs libcurl",
            "p90 vs libcurl",
        ],
        &rows,
    );
    note(
        "Targets (issue 13): async ≤ 1.15× blocking, ≤ 0.7× libcurl. One handle per contender, \
         reused; the three alternate in rounds (order reversed every round) after 10 unmeasured \
         connects each. async: `easy.connect_async().await` timed inside `block_on` on a \
         current-thread runtime (IO and time enabled) kept for the whole run, as an async \
         application connects (entering the runtime is the harness's cost, not the connect's). \
         Server: the single-thread epoll echo server on 127.0.0.1 (rustls for TLS: TLS 1.3, \
         ECDSA P-256, CAINFO = the test CA, libcurl with HTTP/1.1); 'squid' (only when named): squid 5 with Basic \
         authentication (credentials in the proxy URL, sent on the first CONNECT) in front of \
         the plain echo server. Every connection is shut down \
         (shutdown(2)) after its timing; its descriptor is closed at the next connect, inside \
         the timing, for both handover faces (the blocking handle's perform closes the previous \
         connection; the async contender drops its AsyncConnection there, which also takes it \
         off the reactor); libcurl 7.88 keeps its descriptors until cleanup.",
    );
}

// ---------------------------------------------------------------------------
// throughput

/// Echoes `total` bytes through `stream` with throughput.rs's algorithm,
/// async: in one task, write what the stream takes, read what it has, and
/// wait (the task's waker on both directions) only when neither moves.
/// Every byte received is compared with what was sent. The time it took.
async fn echo_async<S>(mut stream: S, total: u64, pat: &[u8]) -> io::Result<Duration>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let start = Instant::now();
    let mut buf = vec![0u8; CHUNK];
    let (mut sent, mut got, mut flushed) = (0u64, 0u64, false);
    std::future::poll_fn(|cx| loop {
        let mut moved = false;
        if sent < total {
            let off = (sent % PATTERN as u64) as usize;
            let len = CHUNK.min(PATTERN - off).min((total - sent) as usize);
            match Pin::new(&mut stream).poll_write(cx, &pat[off..off + len]) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(io::Error::other(format!(
                        "write returned 0 after {sent}"
                    ))))
                }
                Poll::Ready(Ok(n)) => {
                    sent += n as u64;
                    moved = true;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {}
            }
        } else if !flushed {
            match Pin::new(&mut stream).poll_flush(cx) {
                Poll::Ready(Ok(())) => {
                    flushed = true;
                    moved = true;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {}
            }
        }
        if got < total {
            let mut room = ReadBuf::new(&mut buf);
            match Pin::new(&mut stream).poll_read(cx, &mut room) {
                Poll::Ready(Ok(())) => {
                    let n = room.filled().len();
                    if n == 0 {
                        return Poll::Ready(Err(io::Error::other(format!(
                            "EOF after {got} bytes"
                        ))));
                    }
                    if let Err(e) = throughput::verify(room.filled(), got, pat) {
                        return Poll::Ready(Err(e));
                    }
                    got += n as u64;
                    moved = true;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {}
            }
        }
        if got >= total && flushed {
            return Poll::Ready(Ok(()));
        }
        if !moved {
            return Poll::Pending;
        }
    })
    .await?;
    Ok(start.elapsed())
}

fn throughput_part(args: &Args) {
    let total: u64 = if args.quick { 128 << 20 } else { 1 << 30 };
    let rounds: u64 = if args.quick { 4 } else { 8 };
    let pat = throughput::pattern();
    let peer = TcpPeer::start(Behavior::Echo);
    let port = peer.port();
    let url = format!("http://127.0.0.1:{port}/");
    let rt = runtime();
    let names = [
        "async (AsyncConnection)",
        "blocking (Easy send/recv)",
        "tokio TcpStream",
    ];
    let per_round = total / rounds;
    let mut times = [Duration::ZERO; 3];
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let handle = || {
        let mut e = handover::Easy::new();
        e.url(&url).expect("url");
        e.connect_only(ConnectOnly::Connection).expect("co");
        e
    };
    for round in 0..rounds {
        let order: Vec<usize> = if round % 2 == 0 {
            (0..names.len()).collect()
        } else {
            (0..names.len()).rev().collect()
        };
        for i in order {
            let d = match i {
                0 => rt.block_on(async {
                    let mut e = handle();
                    let conn = e.connect_async().await.expect("connect_async");
                    echo_async(conn, per_round, &pat).await
                }),
                1 => {
                    let mut e = handle();
                    e.perform().expect("handover perform");
                    throughput::echo(&mut HandoverPipe(e), per_round, &pat)
                }
                _ => rt.block_on(async {
                    let s = tokio::net::TcpStream::connect(("127.0.0.1", port))
                        .await
                        .expect("connect");
                    s.set_nodelay(true).expect("nodelay");
                    echo_async(s, per_round, &pat).await
                }),
            }
            .unwrap_or_else(|e| panic!("{}: {e}", names[i]));
            if std::env::var_os("BENCH_DEBUG").is_some() {
                eprintln!(
                    "async throughput {} round {round}: {:.0} MB/s",
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
    let rows: Vec<Vec<String>> = names
        .iter()
        .zip(&mbs)
        .zip(per.iter_mut())
        .map(|((n, &m), p)| {
            p.sort_by(f64::total_cmp);
            let (lo, med, hi) = (p[0], p[p.len() / 2], p[p.len() - 1]);
            vec![
                "plain".to_string(),
                n.to_string(),
                format!("{m:.0}"),
                format!("{med:.0} ({lo:.0}–{hi:.0})"),
                ratio(m, mbs[1]),
                ratio(m, mbs[2]),
            ]
        })
        .collect();
    table(
        &format!(
            "async throughput: bulk echo, {} MiB each way per contender, {} KiB calls",
            total >> 20,
            CHUNK >> 10
        ),
        &[
            "target",
            "contender",
            "MB/s (each way)",
            "per round: median (min–max)",
            "vs blocking",
            "vs tokio TcpStream",
        ],
        &rows,
    );
    note(&format!(
        "Targets (issue 13): async ≥ 0.95× blocking and ≥ 0.95× a bare tokio TcpStream. The \
         volume is split into {rounds} rounds, each on a fresh connection, contenders alternating \
         (order reversed every round); connecting is outside the timing. async and tokio \
         TcpStream: the same code, throughput.rs's algorithm in one task on a current-thread \
         runtime (`poll_write` of up to 64 KiB, `poll_read` into 64 KiB, the task waits only when \
         neither moves). blocking: throughput.rs's loop (non-blocking send/recv on the Easy, poll(2) when \
         neither moves). Every byte received is compared with what was sent. Echo server: the \
         test peer (a thread per connection, blocking 64 KiB reads)."
    ));
}

// ---------------------------------------------------------------------------
// multi

fn multi_part(args: &Args, ns: &[usize]) {
    let limit = sys::raise_nofile();
    let ns: Vec<usize> = if ns.is_empty() {
        vec![if args.quick { 1000 } else { 10_000 }]
    } else {
        ns.to_vec()
    };
    // 2 rounds in the order async, Multi, Multi, async.
    let orders: &[&str] = if args.quick {
        &["async", "handover"]
    } else {
        &["async", "handover", "handover", "async"]
    };
    let tls = Tls::new();
    let mut rows = Vec::new();
    for n in ns {
        if n + 64 > limit as usize {
            eprintln!(
                "async multi: N = {n} needs more descriptors than the limit {limit}; skipped"
            );
            continue;
        }
        let mut got: Vec<(&str, multi::Outcome)> = Vec::new();
        for &who in orders {
            let server = EchoServer::start(None);
            let overflows = multi::listen_overflows();
            let mut o = multi::spawn_child(who, "plain", n, server.port(), &tls);
            o.listen_overflows = multi::listen_overflows().saturating_sub(overflows);
            assert!(
                server.accepted() >= n,
                "{who}: the server saw {} connections",
                server.accepted()
            );
            got.push((who, o));
            drop(server);
        }
        let avg = |who: &str| -> (f64, f64, f64, f64, String) {
            let mine: Vec<&multi::Outcome> = got
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
            let drops: Vec<String> = mine
                .iter()
                .map(|o| o.listen_overflows.to_string())
                .collect();
            (c, r, hwm, per, drops.join(", "))
        };
        let a = avg("async");
        let m = avg("handover");
        for (name, (c, r, h, p, drops)) in [
            ("async (connect_async tasks)", a.clone()),
            ("sync Multi", m.clone()),
        ] {
            rows.push(vec![
                n.to_string(),
                name.to_string(),
                format!("{:.1}", c * 1e3),
                ratio(c, m.0),
                format!("{:.1}", r * 1e3),
                ratio(r, m.1),
                format!("{:.1}", h / 1024.0),
                format!("{:.1}", p / 1024.0),
                ratio(p, m.3),
                drops,
            ]);
        }
    }
    table(
        "async multi: N concurrent connect-only transfers on one thread, one process per contender",
        &[
            "N",
            "contender",
            "connected ms",
            "vs Multi",
            "round trip ms",
            "vs Multi",
            "peak RSS MiB",
            "KiB / connection",
            "vs Multi",
            "SYNs dropped",
        ],
        &rows,
    );
    note(&format!(
        "Targets (issue 13): connected time ≤ 1.2× the sync Multi's, KiB per connection ≤ 1.5× \
         the Multi's. Each contender runs in a child process (order {}; times averaged, RSS the \
         largest). async: one current-thread runtime, N tasks in a `tokio::task::JoinSet`, each \
         with its own Easy (plain, 127.0.0.1) awaiting `connect_async`; each task ends its Easy \
         once the connection is handed over (as handover's hyper Connector does) and returns \
         the AsyncConnection, which is kept. sync Multi: \
         multi.rs's child (`Multi::perform`/`wait`). 'connected': from the first handle created \
         to the last connection; 'round trip': {} bytes sent on every connection and every echo \
         received (async: a task per connection, `write_all` then `read_exact`; Multi: poll(2) \
         on the active sockets). KiB / connection = (VmHWM − VmRSS before the first handle) / N. \
         Echo server: the single-thread epoll server in the parent, a fresh one per child. 'SYNs \
         dropped': per child, TcpExt ListenOverflows (each costs its connection a 1 s SYN \
         retransmission).",
        orders
            .iter()
            .map(|w| if *w == "async" { "async" } else { "Multi" })
            .collect::<Vec<_>>()
            .join(", "),
        PING.len()
    ));
}

/// The child of `multi-child async plain N PORT CAFILE`: N `connect_async`
/// tasks on a current-thread runtime, then one round trip on each.
pub(crate) fn child_async(run: &Run) -> (Duration, Duration, u64) {
    let Run {
        url, n, deadline, ..
    } = *run;
    let rt = runtime();
    let url = url.to_string();
    rt.block_on(async move {
        let start = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for i in 0..n {
            let mut e = handover::Easy::new();
            e.url(&url).expect("url");
            e.connect_only(ConnectOnly::Connection).expect("co");
            // The handle ends with the task once its connection is handed
            // over, as in handover's hyper Connector: the connection lives
            // on in the AsyncConnection.
            let task = async move { e.connect_async().await };
            if i == 0 && std::env::var_os("BENCH_DEBUG").is_some() {
                let mut probe = handover::Easy::new();
                eprintln!(
                    "async multi: a connect task's future is {} bytes (connect_async's own: {}), an Easy {} bytes, an AsyncConnection {} bytes",
                    std::mem::size_of_val(&task),
                    std::mem::size_of_val(&probe.connect_async()),
                    std::mem::size_of::<handover::Easy>(),
                    std::mem::size_of::<AsyncConnection>()
                );
            }
            set.spawn(task);
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        let conns = tokio::time::timeout(remaining, async {
            let mut conns = Vec::with_capacity(n);
            while let Some(joined) = set.join_next().await {
                let conn = joined.expect("a connect task");
                conns.push(conn.unwrap_or_else(|err| panic!("connect_async: {err}")));
            }
            conns
        })
        .await
        .unwrap_or_else(|_| panic!("async: not every connection made it before the deadline"));
        let connect = start.elapsed();

        let start = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for mut conn in conns {
            set.spawn(async move {
                conn.write_all(PING).await.expect("send PING");
                let mut back = [0u8; PING.len()];
                conn.read_exact(&mut back).await.expect("receive the echo");
                assert_eq!(back, PING, "echo");
                conn
            });
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        let kept = tokio::time::timeout(remaining, async {
            let mut kept = Vec::with_capacity(n);
            while let Some(joined) = set.join_next().await {
                kept.push(joined.expect("a round-trip task"));
            }
            kept
        })
        .await
        .unwrap_or_else(|_| panic!("async: round trips past the deadline"));
        let rtt = start.elapsed();
        // The connections stay open until the child exits (multi.rs's
        // children skip the teardown too).
        std::mem::forget(kept);
        (connect, rtt, 0)
    })
}

// ---------------------------------------------------------------------------
// hyper

/// One hyper-util legacy client, a fresh connection per request (no idle
/// connection is pooled), on a runtime of its own.
struct HyperC<C: Connect + Clone + Send + Sync + 'static> {
    name: &'static str,
    rt: Runtime,
    client: Client<C, Empty<Bytes>>,
    uri: hyper::Uri,
    body: &'static [u8],
}

impl<C: Connect + Clone + Send + Sync + 'static> Contender for HyperC<C> {
    fn name(&self) -> &str {
        self.name
    }
    fn connect(&mut self) -> Duration {
        let HyperC {
            rt,
            client,
            uri,
            body,
            name,
        } = self;
        let t = Instant::now();
        let got = rt.block_on(async {
            let response = client.get(uri.clone()).await?;
            assert_eq!(response.status(), 200, "{name}: status");
            if std::env::var_os("BENCH_DEBUG").is_some() {
                if let Some(info) = response.extensions().get::<handover::Info>() {
                    eprintln!(
                        "{name}: connects {} CONNECT {} proxyauth used {} connect {:?} pretransfer {:?} total {:?}",
                        info.num_connects(),
                        info.http_connectcode(),
                        info.proxyauth_used(),
                        info.connect_time(),
                        info.pretransfer_time(),
                        info.total_time()
                    );
                }
            }
            let bytes = response.into_body().collect().await?.to_bytes();
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(bytes)
        });
        let d = t.elapsed();
        let got = got.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(&got[..], *body, "{name}: body");
        d
    }
    /// Outside the timing: lets the client's connection task close the
    /// connection the request used (it runs when the runtime next does)
    /// and squid take the tunnel down, so that no request's timing carries
    /// the teardown of the one before.
    fn end(&mut self) {
        self.rt.block_on(async {
            for _ in 0..8 {
                tokio::task::yield_now().await;
            }
        });
    }
}

fn hyper_client<C: Connect + Clone + Send + Sync + 'static>(
    connector: C,
) -> Client<C, Empty<Bytes>> {
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector)
}

fn hyper_part(args: &Args) {
    const BODY: &[u8] = b"hello from nginx\n";
    let n = if args.quick { 50 } else { 500 };
    let squid = Squid::start(SquidAuth::Basic {
        user: PROXY_USER.into(),
        password: PROXY_PASSWORD.into(),
    });
    let nginx = Nginx::start(None);
    nginx.put("hello.txt", BODY);
    let uri: hyper::Uri = format!("http://127.0.0.1:{}/hello.txt", nginx.port())
        .parse()
        .expect("origin URI");
    let proxy = format!("http://127.0.0.1:{}", squid.port());

    // handover: the template's proxy and credentials; Basic (the default
    // proxyauth) goes out with the first CONNECT.
    let mut template = handover::Easy::new();
    template.proxy(&proxy).expect("proxy");
    template.proxy_username(PROXY_USER).expect("user");
    template.proxy_password(PROXY_PASSWORD).expect("password");
    let handover_side = HyperC {
        name: "handover Connector",
        rt: runtime(),
        client: hyper_client(handover::tokio::Connector::new(&template)),
        uri: uri.clone(),
        body: BODY,
    };

    // hyper-util: its HttpConnector to squid, wrapped in its CONNECT
    // tunnel with a Basic Proxy-Authorization header.
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    let auth = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{PROXY_USER}:{PROXY_PASSWORD}")
        )
    );
    let tunnel = Tunnel::new(proxy.parse().expect("proxy URI"), http)
        .with_auth(http::HeaderValue::from_str(&auth).expect("header value"));
    let tunnel_side = HyperC {
        name: "hyper-util Tunnel(HttpConnector)",
        rt: runtime(),
        client: hyper_client(tunnel),
        uri,
        body: BODY,
    };

    let mut contenders: Vec<Box<dyn Contender>> =
        vec![Box::new(handover_side), Box::new(tunnel_side)];
    let mut samples = latency::alternate(&mut contenders, n);
    let stats: Vec<(f64, f64)> = samples
        .iter_mut()
        .map(|s| {
            s.sort();
            (latency::pct(s, 50), latency::pct(s, 90))
        })
        .collect();
    let (tm, tp) = stats[1];
    let rows: Vec<Vec<String>> = contenders
        .iter()
        .zip(&stats)
        .map(|(c, &(m, p))| {
            vec![
                "squid Basic → nginx".to_string(),
                c.name().to_string(),
                format!("{m:.1}"),
                format!("{p:.1}"),
                ratio(m, tm),
                ratio(p, tp),
            ]
        })
        .collect();
    table(
        &format!(
            "async hyper: GET on a new connection each, through squid's CONNECT, {n} requests per contender, rounds of {}",
            latency::ROUND
        ),
        &[
            "target",
            "contender",
            "median µs",
            "p90 µs",
            "median vs Tunnel",
            "p90 vs Tunnel",
        ],
        &rows,
    );
    note(&format!(
        "hyper-util's legacy client (HTTP/1.1, `pool_max_idle_per_host(0)`: every request \
         opens a new connection), one per contender on a current-thread runtime of its own; \
         the time from `client.get` to the whole body ({} bytes from nginx, a static file) \
         read. Both open a TCP connection to squid 5 (Basic authentication, credentials cached \
         by squid after the warm-up), send CONNECT with `Proxy-Authorization: Basic` on the \
         first try, and send the GET through the tunnel: handover's `Connector` (template: \
         proxy + proxy_username/password) against hyper-util's `Tunnel` (feature \
         client-proxy) over its `HttpConnector` (nodelay) with the header set by `with_auth`. \
         Rounds alternate as in the latency table, after 10 unmeasured requests each. After \
         each request, outside the timing, the runtime runs a few turns so that the client's \
         connection task closes the connection before the next request (without them, that \
         close would land inside the next timing, before or after the new CONNECT depending \
         on the connector: it weighed 1.4× on handover's side in trial runs).",
        BODY.len()
    ));
    drop(contenders);
    drop(nginx);
    drop(squid);
}
