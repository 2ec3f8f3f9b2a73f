//! `handover ws URL`: a WebSocket client on stdin/stdout through any chain
//! (design §5.6). The upgrade is the library's (`connect_only(Headers)` on a
//! ws:// or wss:// URL, Sec-WebSocket-Accept verified); this file only moves
//! messages, on the library's async frame API.
//!
//! The defaults answer websocat's traps (§3.6): binary messages unless
//! `--text`/`--lines` is asked for, so stdin bytes arrive unchanged; stdin
//! EOF sends a Close and keeps reading until the peer's Close, so a reply
//! the peer sends after our EOF is not lost.

use std::collections::VecDeque;
use std::future::Future;
use std::io::{BufRead, Read, Write};
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use clap::Args;
use handover::tokio::AsyncConnection;
use handover::websocket::WebSocket;
use handover::ws::{self, Flags, Frame};
use handover::Connection;
use handover_proto::url::Scheme;
use tokio::sync::mpsc;

use crate::args::{ChainArgs, TargetArgs};
use crate::attempt;
use crate::chain::Chain;
use crate::render::{self, Context};
use crate::{plan, probe, target};

/// How much of stdin one message carries at most (one read's worth).
const CHUNK: usize = 64 * 1024;

/// curl's CURLE_READ_ERROR: stdin could not be read (or was not UTF-8 in
/// `--text`/`--lines` mode).
const EXIT_READ_ERROR: i32 = 26;
/// curl's CURLE_OPERATION_TIMEDOUT: no PONG within `--ping-timeout`.
const EXIT_TIMEOUT: i32 = 28;
/// curl's CURLE_RECV_ERROR: a received message is over `--max-message`.
const EXIT_RECV_ERROR: i32 = 56;
/// The longest `--lines` line without `--max-message`: a line is held whole
/// before it is sent, so it needs a bound.
const DEFAULT_MAX_LINE: u64 = 16 * 1024 * 1024;
/// RFC 6455's status code for a message too big to process.
const CLOSE_TOO_BIG: u16 = 1009;

#[derive(Args, Debug)]
pub struct WsArgs {
    /// ws:// or wss:// URL.
    #[arg(value_name = "URL", value_hint = clap::ValueHint::Url)]
    pub url: String,
    /// Each stdin chunk is a text message (stdin must be UTF-8).
    #[arg(long, conflicts_with = "lines")]
    pub text: bool,
    /// Each stdin line is a text message (newline stripped); each message
    /// received is printed with a newline after it.
    #[arg(long)]
    pub lines: bool,
    /// An extra request header for the upgrade ("Name: value"; repeatable).
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub header: Vec<String>,
    /// Sec-WebSocket-Protocol to ask for (a comma-separated list).
    #[arg(long, value_name = "P")]
    pub protocol: Option<String>,
    /// Origin header of the upgrade request.
    #[arg(long, value_name = "O")]
    pub origin: Option<String>,
    /// Send a PING every SECS seconds (PONGs to the peer's PINGs are sent
    /// anyway).
    #[arg(long, value_name = "SECS")]
    pub ping_interval: Option<f64>,
    /// Exit 28 when a PING gets no PONG within SECS seconds.
    #[arg(long, value_name = "SECS", requires = "ping_interval")]
    pub ping_timeout: Option<f64>,
    /// Status code of the Close sent at stdin EOF.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub close_code: u16,
    /// Reason of the Close sent at stdin EOF (at most 123 bytes).
    #[arg(long, value_name = "R", default_value = "")]
    pub close_reason: String,
    /// Print each PING's round-trip time to stderr ("ping rtt 0.412 ms").
    #[arg(long, requires = "ping_interval")]
    pub print_ping_rtts: bool,
    /// The largest message, in bytes. A bigger received message ends the
    /// session with Close 1009 and exit 56; stdin is cut into messages of at
    /// most this size, and a longer --lines line ends it with exit 26.
    /// Without it, received messages are streamed through whatever their
    /// size, and a --lines line may be up to 16 MiB.
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_message: Option<u64>,
    /// Time the upgrade like `handover probe` (one table), close, and exit:
    /// no messages are relayed.
    #[arg(long)]
    pub probe: bool,
    // Last: its help heading ("Chain options") carries over to whatever
    // follows it, and the WebSocket options belong under "Options".
    #[command(flatten)]
    pub chain: ChainArgs,
}

/// What stdin gave.
enum Input {
    /// One message's payload.
    Message(Vec<u8>),
    Eof,
    /// Unreadable, or not UTF-8 where text was asked for.
    Error(String),
}

pub fn run(args: WsArgs, users: Vec<(String, Option<usize>)>) -> i32 {
    let target = match target::parse(&TargetArgs {
        target: args.url.clone(),
        port: None,
    }) {
        Ok(t) if matches!(t.lib_scheme, Scheme::Ws | Scheme::Wss) => t,
        Ok(t) => {
            return fail(
                1,
                &format!("ws needs a ws:// or wss:// URL, not {}://", t.scheme),
            )
        }
        Err(e) => return fail(3, &e),
    };
    if args.close_reason.len() > 123 {
        // A Close frame's payload is at most 125 bytes, 2 of them the code.
        return fail(2, "--close-reason: at most 123 bytes");
    }
    let interval = match args.ping_interval.map(secs).transpose() {
        Ok(i) => i,
        Err(e) => return fail(2, &format!("--ping-interval: {e}")),
    };
    let ping_timeout = match args.ping_timeout.map(secs).transpose() {
        Ok(i) => i,
        Err(e) => return fail(2, &format!("--ping-timeout: {e}")),
    };
    let chain = match Chain::new(args.chain.clone(), users, true) {
        Ok(c) => c,
        Err(e) => return fail(2, &e),
    };
    let mut easy = match chain.easy(&target) {
        Ok(e) => e,
        Err(e) => return fail(e.code() as i32, e.message()),
    };
    let plan = match plan::plan(&chain, &target, &easy) {
        Ok(p) => p,
        Err(e) => return fail(e.code as i32, &e.message),
    };
    let hops: Vec<String> = plan.hops.iter().map(|h| h.url.clone()).collect();
    // The library has no Sec-WebSocket-Protocol option: the header is the
    // way to ask, and the library's own upgrade headers stay untouched.
    let mut headers = args.header.clone();
    if let Some(p) = &args.protocol {
        headers.push(format!("Sec-WebSocket-Protocol: {p}"));
    }
    if let Some(o) = &args.origin {
        headers.push(format!("Origin: {o}"));
    }
    if !headers.is_empty() {
        if let Err(e) = easy.http_headers(headers.iter().map(String::as_str).collect()) {
            return fail(e.code() as i32, e.message());
        }
    }
    let ctx = Context {
        target,
        hops,
        color: false,
    };

    // The upgrade is timed as probe times any attempt, so that --probe and
    // a failing relay name the failing hop and layer the same way.
    let a = attempt::run(1, &mut easy, &ctx.target, &ctx.hops);
    if args.probe && !args.chain.quiet {
        print!("{}", render::text::table(&a, &ctx));
    }
    if let Some(e) = &a.error {
        eprintln!("handover: {}", probe::error_line(e, &ctx));
        return a.exit_code() as i32;
    }
    let conn = match easy.take_connection() {
        Ok(c) => c,
        Err(e) => return fail(e.code() as i32, e.message()),
    };
    if args.probe {
        close_quickly(conn);
        return 0;
    }

    let mode = match (args.text, args.lines) {
        (_, true) => Mode::Lines,
        (true, _) => Mode::Text,
        _ => Mode::Binary,
    };
    let (tx, rx) = mpsc::channel(4);
    // stdin blocks; a thread of its own feeds the relay. It is not joined:
    // the process exits while it may still wait for input nobody needs.
    let limit = args.max_message;
    std::thread::spawn(move || read_stdin(mode, limit, tx));
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(2, &format!("tokio runtime: {e}")),
    };
    let relay = Relay {
        mode,
        interval,
        ping_timeout,
        close: close_payload(args.close_code, &args.close_reason),
        peer: ctx.target.authority(),
        max_message: args.max_message,
        print_rtts: args.print_ping_rtts,
    };
    runtime.block_on(relay.run(conn, rx))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Binary,
    Text,
    Lines,
}

/// After `--probe`'s upgrade: the close handshake, briefly, so the peer
/// sees an orderly end rather than a reset.
fn close_quickly(conn: Connection) {
    if let Ok(mut socket) = WebSocket::new(conn) {
        socket.set_timeout(Some(Duration::from_secs(2)));
        let _ = socket.close(1000, "");
    }
}

fn read_stdin(mode: Mode, max_message: Option<u64>, tx: mpsc::Sender<Input>) {
    let stdin = std::io::stdin();
    let mut stdin = stdin.lock();
    let chunk = max_message.map_or(CHUNK, |m| CHUNK.min(m as usize));
    let max_line = max_message.unwrap_or(DEFAULT_MAX_LINE);
    let mut buf = vec![0u8; chunk];
    // --text: the UTF-8 sequence a read cut in two, kept for the next read.
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let input = match mode {
            Mode::Lines => {
                let mut line = Vec::new();
                // One byte more than a line may hold, its newline included:
                // a line that fills it without ending is too long.
                match (&mut stdin).take(max_line + 1).read_until(b'\n', &mut line) {
                    Ok(0) => Input::Eof,
                    Ok(n) if n as u64 > max_line && line.last() != Some(&b'\n') => Input::Error(
                        format!("a stdin line is longer than {max_line} bytes (--max-message)"),
                    ),
                    Ok(_) => {
                        if line.last() == Some(&b'\n') {
                            line.pop();
                            if line.last() == Some(&b'\r') {
                                line.pop();
                            }
                        }
                        match String::from_utf8(line) {
                            Ok(s) => Input::Message(s.into_bytes()),
                            Err(_) => Input::Error("stdin is not UTF-8 (--lines)".into()),
                        }
                    }
                    Err(e) => Input::Error(format!("reading stdin: {e}")),
                }
            }
            Mode::Binary | Mode::Text => match stdin.read(&mut buf) {
                Ok(0) if carry.is_empty() => Input::Eof,
                Ok(0) => Input::Error("stdin ends inside a UTF-8 sequence (--text)".into()),
                Ok(n) if mode == Mode::Binary => Input::Message(buf[..n].to_vec()),
                Ok(n) => {
                    carry.extend_from_slice(&buf[..n]);
                    match std::str::from_utf8(&carry) {
                        Ok(_) => Input::Message(std::mem::take(&mut carry)),
                        // Only cut at the end: send what is whole, keep the rest.
                        Err(e) if e.error_len().is_none() => {
                            let rest = carry.split_off(e.valid_up_to());
                            let whole = std::mem::replace(&mut carry, rest);
                            if whole.is_empty() {
                                continue;
                            }
                            Input::Message(whole)
                        }
                        Err(_) => Input::Error("stdin is not UTF-8 (--text)".into()),
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => Input::Error(format!("reading stdin: {e}")),
            },
        };
        let last = !matches!(input, Input::Message(_));
        if tx.blocking_send(input).is_err() || last {
            return;
        }
    }
}

fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason.as_bytes());
    p
}

/// A frame on its way out; `sent` payload bytes have left.
struct Outgoing {
    data: Vec<u8>,
    flags: Flags,
    sent: usize,
}

impl Outgoing {
    fn new(data: Vec<u8>, flags: Flags) -> Outgoing {
        Outgoing {
            data,
            flags,
            sent: 0,
        }
    }

    fn is_data(&self) -> bool {
        self.flags.intersects(ws::TEXT | ws::BINARY)
    }
}

/// What the connection did in one step.
enum IoEvent {
    /// `n` payload bytes of `frame` are in the buffer.
    Received(usize, Frame),
    /// `n` payload bytes of the front frame left.
    Sent(usize),
}

/// One turn of the relay's loop.
enum Event {
    Io(Result<IoEvent, handover::Error>),
    Input(Option<Input>),
    Ping,
    PingTimeout,
}

struct Relay {
    mode: Mode,
    interval: Option<Duration>,
    ping_timeout: Option<Duration>,
    close: Vec<u8>,
    peer: String,
    max_message: Option<u64>,
    print_rtts: bool,
}

impl Relay {
    async fn run(self, conn: Connection, mut rx: mpsc::Receiver<Input>) -> i32 {
        let mut conn = match AsyncConnection::new(conn) {
            Ok(c) => c,
            Err(e) => return fail(2, &format!("tokio reactor: {e}")),
        };
        let mut out = std::io::stdout().lock();
        let mut queue: VecDeque<Outgoing> = VecDeque::new();
        let mut buf = vec![0u8; CHUNK];
        // The peer's Close payload, gathered across chunks.
        let mut peer_close: Option<Vec<u8>> = None;
        let mut we_closed = false;
        let mut stdin_done = false;
        let mut stdout_gone = false;
        let mut read_first = true;
        // Whether the message being received is text (set by its first
        // fragment; later fragments may only say CONT).
        let mut receiving_text: Option<bool> = None;
        // Payload bytes of the message being received, in its frames that
        // have ended (for --max-message).
        let mut message_so_far: u64 = 0;
        let mut ping_sent: Option<Instant> = None;
        let mut pings = self.interval.map(|i| {
            let mut t = tokio::time::interval_at(tokio::time::Instant::now() + i, i);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            t
        });
        loop {
            // Done: both Closes have passed and nothing is left to send.
            if we_closed && peer_close.as_ref().is_some_and(|_| queue.is_empty()) {
                let _ = out.flush();
                return 0;
            }
            // One stdin message at a time in the queue: stdin is read no
            // faster than the peer takes it.
            let want_input = !stdin_done && !we_closed && queue.iter().all(|o| !o.is_data());
            let deadline = match (ping_sent, self.ping_timeout) {
                (Some(at), Some(t)) => Some(tokio::time::Instant::from_std(at + t)),
                _ => None,
            };
            read_first = !read_first;
            let event = tokio::select! {
                e = io_step(&mut conn, &mut buf, queue.front(), read_first) => Event::Io(e),
                m = rx.recv(), if want_input => Event::Input(m),
                _ = tick(&mut pings), if !we_closed && peer_close.is_none() => Event::Ping,
                _ = sleep_until(deadline), if deadline.is_some() => Event::PingTimeout,
            };
            match event {
                Event::Io(Ok(IoEvent::Sent(n))) => {
                    if let Some(front) = queue.front_mut() {
                        front.sent += n;
                        if front.sent >= front.data.len() {
                            queue.pop_front();
                        }
                    }
                }
                Event::Io(Ok(IoEvent::Received(n, frame))) => {
                    let data = &buf[..n];
                    if frame.flags.contains(ws::CLOSE) {
                        let p = peer_close.get_or_insert_with(Vec::new);
                        p.extend_from_slice(data);
                        if frame.bytesleft == 0 && !we_closed {
                            // The echo carries the peer's code (RFC 6455 5.5.1).
                            let echo = p.get(..2).map(<[u8]>::to_vec).unwrap_or_default();
                            push_control(&mut queue, Outgoing::new(echo, ws::CLOSE));
                            we_closed = true;
                        }
                    } else if frame.flags.contains(ws::PONG) {
                        if let (Some(at), true) = (ping_sent.take(), self.print_rtts) {
                            let ms = at.elapsed().as_secs_f64() * 1e3;
                            eprintln!("ping rtt {ms:.3} ms");
                        }
                    } else if frame.flags.intersects(ws::TEXT | ws::BINARY) {
                        // The whole frame's size is known from its first
                        // chunk: refuse it before any of it reaches stdout.
                        let frame_size = frame.offset + n as u64 + frame.bytesleft;
                        if let Some(max) = self.max_message {
                            if message_so_far + frame_size > max {
                                let size = message_so_far + frame_size;
                                let close = close_payload(CLOSE_TOO_BIG, "message too big");
                                return self.abort(conn, &close, EXIT_RECV_ERROR, &format!(
                                    "websocket {}: a message of {size}+ bytes is over --max-message {max} (exit 56)",
                                    self.peer
                                ))
                                .await;
                            }
                        }
                        let text = *receiving_text.get_or_insert(frame.flags.contains(ws::TEXT));
                        let end = frame.bytesleft == 0 && !frame.flags.contains(ws::CONT);
                        if frame.bytesleft == 0 {
                            message_so_far += frame_size;
                        }
                        if end {
                            receiving_text = None;
                            message_so_far = 0;
                        }
                        let newline = self.mode == Mode::Lines && end && text;
                        if !stdout_gone {
                            let written = out.write_all(data).and_then(|()| {
                                if newline {
                                    out.write_all(b"\n")?;
                                }
                                out.flush()
                            });
                            if written.is_err() {
                                // A closed stdout is a reason to end, not an
                                // error (§5.5): close politely, exit 0.
                                stdout_gone = true;
                                stdin_done = true;
                                if !we_closed {
                                    queue.push_back(Outgoing::new(self.close.clone(), ws::CLOSE));
                                    we_closed = true;
                                }
                            }
                        }
                    }
                }
                Event::Io(Err(e)) => {
                    // The peer may drop the connection right after its
                    // answer to our Close.
                    if we_closed && e.kind() == handover::ErrorKind::GotNothing {
                        let _ = out.flush();
                        return 0;
                    }
                    return fail(
                        e.code() as i32,
                        &format!(
                            "websocket {}: {} (exit {})",
                            self.peer,
                            e.message(),
                            e.code()
                        ),
                    );
                }
                Event::Input(Some(Input::Message(data))) => {
                    let flags = match self.mode {
                        Mode::Binary => ws::BINARY,
                        Mode::Text | Mode::Lines => ws::TEXT,
                    };
                    queue.push_back(Outgoing::new(data, flags));
                }
                Event::Input(Some(Input::Eof)) | Event::Input(None) => {
                    stdin_done = true;
                    queue.push_back(Outgoing::new(self.close.clone(), ws::CLOSE));
                    we_closed = true;
                }
                Event::Input(Some(Input::Error(message))) => {
                    // 1007: "inconsistent data", the peer learns why we end.
                    let close = close_payload(1007, "");
                    return self.abort(conn, &close, EXIT_READ_ERROR, &message).await;
                }
                Event::Ping => {
                    push_control(&mut queue, Outgoing::new(b"handover".to_vec(), ws::PING));
                    if ping_sent.is_none() {
                        ping_sent = Some(Instant::now());
                    }
                }
                Event::PingTimeout => {
                    let t = self.ping_timeout.unwrap_or_default().as_secs_f64();
                    return fail(
                        EXIT_TIMEOUT,
                        &format!("websocket {}: no PONG within {t} s (exit 28)", self.peer),
                    );
                }
            }
        }
    }
}

impl Relay {
    /// Ends the session on an error of ours: the peer learns why from a
    /// Close (given two seconds to leave), the user from one line.
    async fn abort(
        &self,
        mut conn: AsyncConnection,
        close: &[u8],
        code: i32,
        message: &str,
    ) -> i32 {
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            send_all(&mut conn, close, ws::CLOSE),
        )
        .await;
        fail(code, message)
    }
}

/// Control frames go before data frames that have not started: a PING or
/// a Close echo need not wait behind a large message.
fn push_control(queue: &mut VecDeque<Outgoing>, frame: Outgoing) {
    let at = match queue.front() {
        Some(f) if f.sent > 0 => 1,
        _ => 0,
    };
    queue.insert(at, frame);
}

/// The next thing the connection does: a frame chunk read, or bytes of
/// `front` sent. Both calls are tried in one poll (alternating which goes
/// first), so a peer that echoes while we send is read meanwhile and
/// neither side can fill the other's buffers into a deadlock. Each call's
/// future is made and dropped within the poll: the library's
/// `ws_recv`/`ws_send` take nothing before they are ready, and the
/// reactor keeps the waker each registered.
async fn io_step(
    conn: &mut AsyncConnection,
    buf: &mut [u8],
    front: Option<&Outgoing>,
    read_first: bool,
) -> Result<IoEvent, handover::Error> {
    std::future::poll_fn(|cx| {
        for read in [read_first, !read_first] {
            if read {
                let f = pin!(conn.ws_recv(buf));
                if let Poll::Ready(r) = f.poll(cx) {
                    return Poll::Ready(r.map(|(n, frame)| IoEvent::Received(n, frame)));
                }
            } else if let Some(o) = front {
                let rest = &o.data[o.sent..];
                let (fragsize, flags) = match (o.is_data(), o.sent) {
                    // Data frames announce their size with the first call,
                    // then continue (libcurl's CURLWS_OFFSET).
                    (true, 0) if !o.data.is_empty() => (o.data.len() as u64, o.flags | ws::OFFSET),
                    (true, 0) => (0, o.flags),
                    (true, _) => (0, o.flags | ws::OFFSET),
                    (false, _) => (0, o.flags),
                };
                let f = pin!(conn.ws_send(rest, fragsize, flags));
                if let Poll::Ready(r) = f.poll(cx) {
                    return Poll::Ready(r.map(IoEvent::Sent));
                }
            }
        }
        Poll::Pending
    })
    .await
}

/// Sends one whole frame (for the last Close before an error exit).
async fn send_all(
    conn: &mut AsyncConnection,
    data: &[u8],
    flags: Flags,
) -> Result<(), handover::Error> {
    let mut sent = 0;
    loop {
        sent += conn.ws_send(&data[sent..], 0, flags).await?;
        if sent >= data.len() {
            return Ok(());
        }
    }
}

async fn tick(pings: &mut Option<tokio::time::Interval>) {
    match pings {
        Some(p) => {
            p.tick().await;
        }
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn secs(s: f64) -> Result<Duration, String> {
    match s > 0.0 {
        true => Duration::try_from_secs_f64(s).map_err(|e| e.to_string()),
        false => Err("expected a number of seconds > 0".into()),
    }
}

fn fail(code: i32, message: &str) -> i32 {
    eprintln!("handover: {message}");
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_payload_is_code_then_reason() {
        assert_eq!(close_payload(1000, "bye"), b"\x03\xe8bye");
    }
}
