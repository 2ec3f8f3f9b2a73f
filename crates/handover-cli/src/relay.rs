//! `handover relay`: connect through the chain, then carry bytes between
//! stdin/stdout (or a local TCP client, or nobody: `--fdpass`) and the
//! connection. The closing rules are the design's §3.10, learnt from the
//! relays that get them wrong:
//!
//! - stdin's end shuts only our sending side (FIN, TLS close_notify) and
//!   the peer's answer is still read to its end: the reply proxytunnel,
//!   corkscrew and `ncat --ssl` lose;
//! - the peer's end flushes stdout and exits at once, without waiting for
//!   stdin (ncat < 7.96 and nc linger);
//! - SIGHUP (ssh exiting), SIGTERM and a closed stdout are a normal end:
//!   exit 0 after the close_notify;
//! - stdout carries the peer's bytes and nothing else.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use handover::tokio::AsyncConnection;
use handover::ConnectOnly;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

use crate::args::RelayArgs;
use crate::attempt;
use crate::chain::Chain;
use crate::render::Context;
use crate::target::Target;
use crate::{plan, probe, target};

/// curl's exit codes for failures after the setup.
const EXIT_SEND: i32 = 55;
const EXIT_RECV: i32 = 56;
/// curl's CURLE_READ_ERROR / CURLE_WRITE_ERROR: stdin or stdout failed.
const EXIT_READ: i32 = 26;
const EXIT_WRITE: i32 = 23;
/// Usage errors, and what cannot be done with this chain (`--fdpass` + TLS).
const EXIT_USAGE: i32 = 2;

/// How long a close_notify/FIN may take when we are leaving anyway.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// The relay's behaviour, from the flags.
#[derive(Clone, Debug)]
struct Opts {
    half_close: bool,
    exit_on_peer_eof: bool,
    linger: Option<Duration>,
    idle: Option<Duration>,
    quiet: bool,
    tls_strict_eof: bool,
}

/// A fatal failure: the exit code and the line for stderr.
type Fatal = (i32, String);

pub fn run(args: RelayArgs, users: Vec<(String, Option<usize>)>) -> i32 {
    let quiet = args.chain.quiet;
    let fail = |code: i32, message: &str| {
        eprintln!("handover: {message}");
        code
    };
    let target = match target::parse(&args.target) {
        Ok(t) => t,
        Err(e) => return fail(3, &e),
    };
    let secs = |name: &str, v: Option<f64>| -> Result<Option<Duration>, String> {
        v.map(|s| {
            Duration::try_from_secs_f64(s)
                .map_err(|_| format!("{name}: expected a number of seconds ≥ 0"))
        })
        .transpose()
    };
    let opts = match (
        secs("--linger", args.linger),
        secs("--idle-timeout", args.idle_timeout),
    ) {
        (Ok(linger), Ok(idle)) => Opts {
            half_close: !args.no_half_close,
            exit_on_peer_eof: !args.no_exit_on_peer_eof,
            linger,
            idle,
            quiet,
            tls_strict_eof: args.tls_strict_eof,
        },
        (Err(e), _) | (_, Err(e)) => return fail(EXIT_USAGE, &e),
    };
    if args.max_clients == Some(0) {
        return fail(EXIT_USAGE, "--max-clients: expected at least 1");
    }
    let chain = match Chain::new(args.chain, users, true) {
        Ok(c) => c,
        Err(e) => return fail(EXIT_USAGE, &e),
    };
    // The hops as the library will take them (each connection's own
    // handle is built later, per client).
    let plan = match chain
        .easy(&target)
        .map_err(plan::PlanError::from)
        .and_then(|easy| plan::plan(&chain, &target, &easy))
    {
        Ok(p) => p,
        Err(e) => return fail(e.code as i32, &e.message),
    };
    let hops: Vec<String> = plan.hops.iter().map(|h| h.url.clone()).collect();
    if args.fdpass {
        // Known before connecting: a bare socket cannot carry TLS state, so
        // do not bother the proxies for nothing.
        if let Some(layer) = tls_layer(&target, &hops) {
            return fail(EXIT_USAGE, &fdpass_refusal(&layer));
        }
        // Likewise a stdout that cannot carry a descriptor.
        let stdout = io::stdout().as_raw_fd();
        if nix::sys::socket::getsockname::<nix::sys::socket::UnixAddr>(stdout).is_err() {
            return fail(EXIT_USAGE, STDOUT_NOT_UNIX);
        }
    }
    let ctx = Arc::new(Context {
        target,
        hops,
        color: false,
    });
    let chain = Arc::new(chain);

    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(71, &format!("cannot start the runtime: {e}")),
    };
    let code = rt.block_on(async {
        let stop = match signals() {
            Ok(stop) => stop,
            Err(e) => return fail(71, &format!("cannot watch signals: {e}")),
        };
        let started = Instant::now();
        let counters = Counters::new();
        let result = if let Some(listen) = &args.listen {
            serve(
                listen,
                args.once,
                args.max_clients,
                chain,
                ctx,
                opts,
                stop,
                counters.clone(),
            )
            .await
        } else if args.fdpass {
            fdpass(&chain, &ctx).await
        } else {
            match connect(&chain, &ctx).await {
                Ok(conn) => {
                    relay(
                        conn,
                        tokio::io::stdin(),
                        tokio::io::stdout(),
                        &opts,
                        stop,
                        &counters,
                    )
                    .await
                }
                Err(e) => Err(e),
            }
        };
        if args.stats {
            eprintln!(
                "handover: sent {} bytes, received {} bytes in {:.3} s",
                counters.up.load(Ordering::Relaxed),
                counters.down.load(Ordering::Relaxed),
                started.elapsed().as_secs_f64()
            );
        }
        match result {
            Ok(()) => 0,
            Err((code, message)) => fail(code, &message),
        }
    });
    // A read of stdin may still sit in tokio's blocking pool (the peer
    // ended first): leave it behind rather than wait for the user's input.
    rt.shutdown_background();
    code
}

/// A TLS layer of the chain, named for `--fdpass`'s refusal.
fn tls_layer(target: &Target, hops: &[String]) -> Option<String> {
    if let Some(hop) = hops
        .iter()
        .position(|h| h.to_ascii_lowercase().starts_with("https://"))
    {
        return Some(format!(
            "hop {} https-proxy {}",
            hop + 1,
            attempt::display_hop(&hops[hop])
        ));
    }
    target.tls.then(|| format!("tls {}", target.authority()))
}

fn fdpass_refusal(layer: &str) -> String {
    format!(
        "--fdpass: the chain has a TLS layer ({layer}); a passed socket \
         would carry TLS records the receiver cannot decrypt — relay over \
         stdio instead (drop ProxyUseFdpass)"
    )
}

/// SIGHUP, SIGTERM and SIGINT, as one flag the relays watch. Ignoring
/// SIGPIPE is std's doing (Rust binaries start with it ignored), so a
/// closed stdout comes back as EPIPE from the write.
fn signals() -> io::Result<watch::Receiver<bool>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        tokio::select! {
            _ = hup.recv() => {}
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        let _ = tx.send(true);
        // Keep the sender: a dropped one would read as a change forever.
        std::future::pending::<()>().await;
    });
    Ok(rx)
}

/// One connection through the chain: a fresh handle, connect-only, always
/// tunnelling, TCP_NODELAY (ssh cannot set it on a socket it does not own)
/// and keepalive (proxies drop idle tunnels).
async fn connect(chain: &Chain, ctx: &Context) -> Result<AsyncConnection, Fatal> {
    let setup = |e: handover::Error| (e.code() as i32, e.message().to_owned());
    let mut easy = chain.easy(&ctx.target).map_err(setup)?;
    easy.connect_only(ConnectOnly::Connection).map_err(setup)?;
    easy.http_proxy_tunnel(true).map_err(setup)?;
    easy.tcp_nodelay(true).map_err(setup)?;
    easy.tcp_keepalive(true).map_err(setup)?;
    let result = easy.perform_async().await;
    let a = attempt::record(1, result, &easy, &ctx.target, &ctx.hops);
    if let Some(e) = &a.error {
        return Err((e.curl_code as i32, probe::error_line(e, ctx)));
    }
    let conn = easy.take_connection().map_err(setup)?;
    AsyncConnection::new(conn).map_err(|e| (71, format!("cannot register the connection: {e}")))
}

/// `--fdpass`: the connected socket goes to our parent over stdout (ssh's
/// ProxyUseFdpass gives us a socketpair there and takes one descriptor,
/// sent with a one-byte payload), then we leave.
async fn fdpass(chain: &Chain, ctx: &Context) -> Result<(), Fatal> {
    let conn = connect(chain, ctx).await?;
    let stream = match conn.into_tcp_stream() {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return Err((71, format!("--fdpass: {e}"))),
        Err(conn) => {
            let why = if conn.is_plain() {
                "bytes already read from the peer would be lost".to_owned()
            } else {
                "the chain has a TLS layer".to_owned()
            };
            return Err((EXIT_USAGE, format!("--fdpass: refused: {why}")));
        }
    };
    let stream = stream
        .into_std()
        .map_err(|e| (71, format!("--fdpass: {e}")))?;
    // The receiver expects an ordinary blocking socket (as `nc -F` passes).
    stream
        .set_nonblocking(false)
        .map_err(|e| (71, format!("--fdpass: {e}")))?;
    send_fd(&io::stdout(), &stream).map_err(|e| match e {
        nix::errno::Errno::ENOTSOCK => (EXIT_USAGE, STDOUT_NOT_UNIX.to_owned()),
        e => (
            EXIT_WRITE,
            format!("--fdpass: sending the socket failed: {e}"),
        ),
    })
}

const STDOUT_NOT_UNIX: &str = "--fdpass: stdout is not a unix socket (--fdpass is for \
     ssh's ProxyUseFdpass, which gives the command a socketpair)";

fn send_fd(over: &impl AsRawFd, fd: &impl AsRawFd) -> nix::Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let fds = [fd.as_raw_fd()];
    // One byte of payload: a descriptor cannot travel alone on a stream
    // socket, and OpenSSH's receiver reads exactly one.
    let payload = [0u8];
    let iov = [io::IoSlice::new(&payload)];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    loop {
        match sendmsg::<()>(over.as_raw_fd(), &iov, &cmsg, MsgFlags::empty(), None) {
            Ok(_) => return Ok(()),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// `--listen`: one chain per accepted client, each relayed like stdio.
#[allow(clippy::too_many_arguments)]
async fn serve(
    listen: &str,
    once: bool,
    max_clients: Option<usize>,
    chain: Arc<Chain>,
    ctx: Arc<Context>,
    opts: Opts,
    mut stop: watch::Receiver<bool>,
    counters: Arc<Counters>,
) -> Result<(), Fatal> {
    let addr = listen_addr(listen).map_err(|e| (EXIT_USAGE, e))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| (45, format!("--listen {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| (45, format!("--listen: {e}")))?;
    if !opts.quiet {
        eprintln!("handover: listening on {bound}");
    }
    let slots = Arc::new(tokio::sync::Semaphore::new(
        max_clients.unwrap_or(tokio::sync::Semaphore::MAX_PERMITS),
    ));
    let mut clients = tokio::task::JoinSet::new();
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.map_err(|e| (71, e.to_string()))?,
            _ = stop.wait_for(|s| *s) => break,
        };
        let (client, from) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    if !opts.quiet {
                        eprintln!("handover: accept: {e}");
                    }
                    continue;
                }
            },
            _ = stop.wait_for(|s| *s) => break,
        };
        let _ = client.set_nodelay(true);
        let (chain, ctx, client_opts, stop, counters) = (
            chain.clone(),
            ctx.clone(),
            opts.clone(),
            stop.clone(),
            counters.clone(),
        );
        let task = async move {
            let _permit = permit;
            let result = match connect(&chain, &ctx).await {
                Ok(conn) => {
                    let (r, w) = client.into_split();
                    relay(conn, r, w, &client_opts, stop, &counters).await
                }
                Err(e) => Err(e),
            };
            (from, result)
        };
        if once {
            return task.await.1;
        }
        clients.spawn(task);
        // Reap finished clients as we go, reporting their failures.
        while let Some(done) = clients.try_join_next() {
            report(done, &opts);
        }
    }
    // Stopped by a signal: the relays saw it too and are closing.
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(done) = clients.join_next().await {
            report(done, &opts);
        }
    })
    .await;
    Ok(())
}

fn report(done: Result<(SocketAddr, Result<(), Fatal>), tokio::task::JoinError>, opts: &Opts) {
    match done {
        Ok((from, Err((code, message)))) => {
            eprintln!("handover: client {from}: {message} (exit {code})")
        }
        Ok((_, Ok(()))) => {}
        Err(e) if !opts.quiet => eprintln!("handover: client task: {e}"),
        Err(_) => {}
    }
}

/// `PORT` (on 127.0.0.1: a relay is for local clients unless told
/// otherwise), `ADDR:PORT` or `[V6]:PORT`.
fn listen_addr(s: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Some(("localhost", port)) = s.rsplit_once(':') {
        if let Ok(port) = port.parse::<u16>() {
            return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
        }
    }
    Err(format!(
        "--listen {s:?}: expected PORT, ADDR:PORT or [V6]:PORT"
    ))
}

/// Bytes each way and when the last one moved.
struct Counters {
    up: AtomicU64,
    down: AtomicU64,
    started: Instant,
    /// Milliseconds after `started` of the last traffic.
    last: AtomicU64,
}

impl Counters {
    fn new() -> Arc<Counters> {
        Arc::new(Counters {
            up: AtomicU64::new(0),
            down: AtomicU64::new(0),
            started: Instant::now(),
            last: AtomicU64::new(0),
        })
    }

    fn touch(&self) {
        let ms = self.started.elapsed().as_millis() as u64;
        self.last.fetch_max(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.started + Duration::from_millis(self.last.load(Ordering::Relaxed))
    }
}

/// Where a copy broke: reading its source or writing its sink.
enum Broke {
    Read(io::Error),
    Write(io::Error),
}

/// Copies until the source's end, each chunk flushed at once (an
/// interactive protocol must not wait on a buffer).
async fn pump<R, W>(r: &mut R, w: &mut W, count: &AtomicU64, c: &Counters) -> Result<(), Broke>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf).await.map_err(Broke::Read)?;
        if n == 0 {
            return Ok(());
        }
        c.touch();
        w.write_all(&buf[..n]).await.map_err(Broke::Write)?;
        w.flush().await.map_err(Broke::Write)?;
        count.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Why a relay ended normally.
#[derive(Debug)]
enum End {
    /// The peer closed (and, without --no-exit-on-peer-eof, that is all).
    Peer,
    /// Both sides are done.
    Both,
    /// stdin ended with --no-half-close.
    Local,
    Linger,
    Idle,
    Signal,
    /// stdout (or the local client) went away: nobody left to read.
    ConsumerGone,
}

/// The consumer went away: EPIPE on stdout, a reset by a local client.
fn consumer_gone(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
    )
}

/// Relays `local` ↔ `conn` until one of the ends of [`End`]; the
/// connection is then closed gracefully (close_notify, FIN).
async fn relay<LR, LW>(
    conn: AsyncConnection,
    mut local_r: LR,
    mut local_w: LW,
    opts: &Opts,
    mut stop: watch::Receiver<bool>,
    c: &Counters,
) -> Result<(), Fatal>
where
    LR: AsyncRead + Unpin,
    LW: AsyncWrite + Unpin,
{
    c.touch();
    let (mut conn_r, mut conn_w) = tokio::io::split(conn);
    let mut shut = false;
    let end: Result<End, Fatal> = {
        let up = async {
            match pump(&mut local_r, &mut conn_w, &c.up, c).await {
                Ok(()) => {}
                Err(Broke::Read(e)) => return Err((EXIT_READ, format!("reading stdin: {e}"))),
                Err(Broke::Write(e)) => {
                    return Err((EXIT_SEND, format!("sending to the peer failed: {e}")))
                }
            }
            if opts.half_close {
                conn_w
                    .shutdown()
                    .await
                    .map_err(|e| (EXIT_SEND, format!("closing our sending side failed: {e}")))?;
            }
            Ok(())
        };
        let down = async {
            let r = match pump(&mut conn_r, &mut local_w, &c.down, c).await {
                Ok(()) => Ok(End::Peer),
                Err(Broke::Read(e))
                    if e.kind() == io::ErrorKind::UnexpectedEof && !opts.tls_strict_eof =>
                {
                    // A TLS peer that closed without close_notify: what it
                    // sent arrived, but a truncation cannot be ruled out.
                    if !opts.quiet {
                        eprintln!(
                            "handover: warning: the peer closed without TLS close_notify ({e})"
                        );
                    }
                    Ok(End::Peer)
                }
                Err(Broke::Read(e)) => {
                    Err((EXIT_RECV, format!("receiving from the peer failed: {e}")))
                }
                Err(Broke::Write(e)) if consumer_gone(&e) => Ok(End::ConsumerGone),
                Err(Broke::Write(e)) => {
                    Err((EXIT_WRITE, format!("writing the output failed: {e}")))
                }
            };
            if let Ok(End::Peer) = r {
                // The local side learns of the end too: a TCP client gets
                // our FIN (stdout has nothing to shut beyond the flush).
                let _ = local_w.shutdown().await;
            }
            r
        };
        tokio::pin!(up, down);
        let mut up_done = false;
        let mut down_done = false;
        let mut linger_until: Option<tokio::time::Instant> = None;
        loop {
            let idle_at = opts
                .idle
                .map(|d| tokio::time::Instant::from_std(c.last() + d));
            tokio::select! {
                r = &mut up, if !up_done => {
                    up_done = true;
                    if let Err(e) = r {
                        break Err(e);
                    }
                    if !opts.half_close {
                        break Ok(End::Local);
                    }
                    shut = true;
                    if down_done {
                        break Ok(End::Both);
                    }
                    linger_until = opts.linger.map(|d| tokio::time::Instant::now() + d);
                }
                r = &mut down, if !down_done => {
                    down_done = true;
                    match r {
                        Ok(End::Peer) if !opts.exit_on_peer_eof && !up_done => {}
                        Ok(End::Peer) if up_done => break Ok(End::Both),
                        other => break other,
                    }
                }
                _ = tokio::time::sleep_until(linger_until.unwrap_or_else(far_future)),
                    if linger_until.is_some() => break Ok(End::Linger),
                _ = tokio::time::sleep_until(idle_at.unwrap_or_else(far_future)),
                    if idle_at.is_some() => {
                    if opts.idle.is_some_and(|d| c.last().elapsed() >= d) {
                        break Ok(End::Idle);
                    }
                }
                _ = stop.wait_for(|s| *s) => break Ok(End::Signal),
            }
        }
    };
    // Whatever ended it, the peer gets an orderly close (close_notify to
    // every TLS layer, then FIN) unless it already has one.
    if !shut {
        let _ = tokio::time::timeout(CLOSE_GRACE, conn_w.shutdown()).await;
    }
    let _ = local_w.flush().await;
    if !opts.quiet {
        match &end {
            Ok(End::Idle) => eprintln!("handover: idle timeout, closing"),
            Ok(End::Linger) => eprintln!("handover: linger time over, closing"),
            _ => {}
        }
    }
    end.map(|_| ())
}

fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(86400 * 365)
}
