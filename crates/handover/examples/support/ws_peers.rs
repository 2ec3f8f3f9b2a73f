//! In-process WebSocket servers on loopback for the integration tests, plain
//! or over TLS (rustls), built on tungstenite's server side.
//!
//! A [`WsPeer`] listens on 127.0.0.1:0, serves each accepted connection on a
//! thread of its own according to its [`WsBehavior`], and stops in `Drop`: it
//! sets a flag, wakes its acceptor by connecting to it, shuts down the sockets
//! it still holds and waits for its threads, each wait bounded so that a stuck
//! connection can never hang a test.
//!
//! Every connection's upgrade request is read by the peer itself, a byte at a
//! time up to and including the blank line (never a byte beyond), and kept
//! as sent for [`WsPeer::last_request`]; the tungstenite behaviours then hand
//! those bytes to `tungstenite::accept` ahead of the rest of the stream.
//!
//! Self-contained (std, rustls, tungstenite): it does not include
//! `peers.rs`; a TLS peer takes a `rustls::ServerConfig` from the caller, e.g.
//! `TestPki::server_config()`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rustls::{ServerConfig, ServerConnection, StreamOwned};
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::Role;
use tungstenite::{Message, WebSocket};

/// Read and write timeout of accepted sockets, so that a stuck test ends.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `Drop` waits for the acceptor, then for the connection threads.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest upgrade request head the peer reads before giving up.
const MAX_HEAD: usize = 64 * 1024;

/// What a [`WsPeer`] does with each connection.
#[derive(Clone, Debug)]
pub enum WsBehavior {
    /// Completes the upgrade (tungstenite), then echoes every text and
    /// binary message as one message (fragments reassembled), answers pings
    /// with pongs (tungstenite's own), and answers a close with a close.
    Echo,
    /// Like [`WsBehavior::Echo`], and sends every ping it receives back as a
    /// ping (after the automatic pong), so clients can test receiving pings.
    EchoFrames,
    /// Answers the upgrade request with `HTTP/1.1 200 OK`, `Content-Length:
    /// 0` (no upgrade), then reads until the client closes.
    Reply200,
    /// Answers with a 101 whose `Sec-WebSocket-Accept` belongs to another
    /// key, then reads until the client closes.
    WrongAccept,
    /// Answers with a correct 101 and these raw bytes (say, a frame) in the
    /// same `write()` call, then echoes like [`WsBehavior::Echo`].
    FrameWith101(Vec<u8>),
    /// Completes the upgrade, sends these messages (a `Message::Frame` goes
    /// out as the raw frame it is, e.g. a fragment), then a close frame (no
    /// status code), and waits for the client's close.
    SendThenClose(Vec<Message>),
}

/// A WebSocket server on 127.0.0.1, plain or TLS.
pub struct WsPeer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl WsPeer {
    /// Starts a peer on 127.0.0.1:0; with `tls`, every connection is a TLS
    /// server connection made from that config (`wss://`).
    pub fn start(behavior: WsBehavior, tls: Option<Arc<ServerConfig>>) -> WsPeer {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .expect("bind a WebSocket peer on 127.0.0.1");
        let addr = listener
            .local_addr()
            .expect("local address of the listener");
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            accepted: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
            state: Mutex::new(State {
                acceptor_running: true,
                ..State::default()
            }),
            changed: Condvar::new(),
        });
        let acceptor_shared = shared.clone();
        let behavior = Arc::new(behavior);
        let acceptor = thread::Builder::new()
            .name(format!("ws-accept-{}", addr.port()))
            .spawn(move || accept_loop(listener, acceptor_shared, behavior, tls))
            .expect("spawn the acceptor thread");
        WsPeer {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// The port the peer listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// 127.0.0.1 and [`WsPeer::port`].
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The request head (request line, headers, blank line) the most recent
    /// client sent, exactly as sent (lossy UTF-8), for asserting headers.
    pub fn last_request(&self) -> Option<String> {
        lock(&self.shared.requests).last().cloned()
    }

    /// Every request head received so far, oldest first.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.shared.requests).clone()
    }

    /// Connections accepted so far (TCP accepts, whatever happened next).
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for WsPeer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // The acceptor is blocked in accept(): a connection wakes it to see the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        let acceptor_done = self.wait_until(|s| !s.acceptor_running);
        if let Some(handle) = self.acceptor.take() {
            if acceptor_done || handle.is_finished() {
                let _ = handle.join();
            }
        }
        // Unblock connection threads still reading or writing, then wait for them.
        for stream in lock(&self.shared.state).open.values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        self.wait_until(|s| s.live == 0);
    }
}

impl WsPeer {
    /// Waits at most `STOP_TIMEOUT` for `done`; whether it became true.
    fn wait_until(&self, done: impl Fn(&State) -> bool) -> bool {
        let deadline = Instant::now() + STOP_TIMEOUT;
        let mut state = lock(&self.shared.state);
        while !done(&state) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = match self.shared.changed.wait_timeout(state, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }
}

/// State shared by the acceptor, the connection threads and `Drop`.
struct Shared {
    stop: AtomicBool,
    accepted: AtomicUsize,
    requests: Mutex<Vec<String>>,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    acceptor_running: bool,
    /// Connection threads not yet finished.
    live: usize,
    /// A clone of each open accepted socket, so `Drop` can unblock its thread.
    open: HashMap<u64, TcpStream>,
    next_id: u64,
}

fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    behavior: Arc<WsBehavior>,
    tls: Option<Arc<ServerConfig>>,
) {
    // Marks the acceptor finished however it ends.
    struct AcceptorDone(Arc<Shared>);
    impl Drop for AcceptorDone {
        fn drop(&mut self) {
            lock(&self.0.state).acceptor_running = false;
            self.0.changed.notify_all();
        }
    }
    let _done = AcceptorDone(shared.clone());

    loop {
        let accepted = listener.accept();
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors or an aborted connection: retry shortly.
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        // No delay, so a 101 and the bytes written with it leave as one segment.
        let _ = stream.set_nodelay(true);
        let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
        let _ = stream.set_write_timeout(Some(IO_TIMEOUT));

        let id = {
            let mut state = lock(&shared.state);
            let id = state.next_id;
            state.next_id += 1;
            if let Ok(clone) = stream.try_clone() {
                state.open.insert(id, clone);
            }
            state.live += 1;
            id
        };
        let guard = ConnDone {
            shared: shared.clone(),
            id,
        };
        let behavior = behavior.clone();
        let tls = tls.clone();
        let conn_shared = shared.clone();
        // On spawn failure the closure, and with it the guard, is dropped: the
        // connection is closed and no longer counted.
        let _ = thread::Builder::new()
            .name(format!("ws-conn-{id}"))
            .spawn(move || {
                let _guard = guard;
                // Errors (resets, timeouts, protocol errors) end the
                // connection; there is nobody to tell.
                let _ = match tls {
                    None => serve(stream, &behavior, &conn_shared),
                    Some(config) => match ServerConnection::new(config) {
                        // The TLS handshake happens inside the first read.
                        Ok(conn) => serve(StreamOwned::new(conn, stream), &behavior, &conn_shared),
                        Err(e) => Err(io::Error::other(e)),
                    },
                };
            });
    }
}

/// Unregisters a connection thread when it ends, even by panic.
struct ConnDone {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for ConnDone {
    fn drop(&mut self) {
        let mut state = lock(&self.shared.state);
        state.open.remove(&self.id);
        state.live -= 1;
        drop(state);
        self.shared.changed.notify_all();
    }
}

/// Locks, ignoring poisoning: a panicked connection thread must not take the
/// whole peer down with it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---------------------------------------------------------------------------
// The behaviours, over a plain or a TLS stream.

/// A connection the peer can end orderly: over TLS, close_notify first.
trait Conn: Read + Write {
    /// Sends what our side still owes (close_notify), then shuts down our write side.
    fn finish(&mut self) -> io::Result<()>;
}

impl Conn for TcpStream {
    fn finish(&mut self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

impl Conn for StreamOwned<ServerConnection, TcpStream> {
    fn finish(&mut self) -> io::Result<()> {
        self.conn.send_close_notify();
        self.flush()?;
        self.sock.shutdown(Shutdown::Write)
    }
}

fn serve<S: Conn>(mut stream: S, behavior: &WsBehavior, shared: &Shared) -> io::Result<()> {
    let head = read_head(&mut stream)?;
    lock(&shared.requests).push(String::from_utf8_lossy(&head).into_owned());
    match behavior {
        WsBehavior::Echo => echo(accept(stream, head)?, false),
        WsBehavior::EchoFrames => echo(accept(stream, head)?, true),
        WsBehavior::Reply200 => {
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")?;
            stream.flush()?;
            drain(&mut stream)
        }
        WsBehavior::WrongAccept => {
            let wrong = derive_accept_key(b"not the key this client sent");
            stream.write_all(switching_protocols(&wrong).as_bytes())?;
            stream.flush()?;
            drain(&mut stream)
        }
        WsBehavior::FrameWith101(bytes) => {
            let key = header(&head, "sec-websocket-key").ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, "no Sec-WebSocket-Key")
            })?;
            let mut reply = switching_protocols(&derive_accept_key(key.as_bytes())).into_bytes();
            reply.extend_from_slice(bytes);
            // One write() call: the bytes must not trail the 101 in a
            // segment (or TLS record) of their own.
            let n = stream.write(&reply)?;
            stream.write_all(&reply[n..])?;
            stream.flush()?;
            echo(
                WebSocket::from_raw_socket(stream, Role::Server, None),
                false,
            )
        }
        WsBehavior::SendThenClose(messages) => {
            let mut ws = accept(stream, head)?;
            for message in messages {
                ws.send(message.clone()).map_err(ws_error)?;
            }
            ws.close(None).map_err(ws_error)?;
            // Drive the close handshake: the client's close ends it.
            loop {
                match ws.read() {
                    Ok(_) => {}
                    Err(tungstenite::Error::ConnectionClosed) => break,
                    Err(e) => return Err(ws_error(e)),
                }
            }
            finish(ws.get_mut())
        }
    }
}

/// A 101 answer to an upgrade, with `accept` as Sec-WebSocket-Accept.
fn switching_protocols(accept: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    )
}

/// Completes the upgrade with tungstenite, giving it the head already read.
fn accept<S: Conn>(stream: S, head: Vec<u8>) -> io::Result<WebSocket<Replay<S>>> {
    let replay = Replay {
        head,
        at: 0,
        inner: stream,
    };
    tungstenite::accept(replay).map_err(|e| io::Error::other(e.to_string()))
}

/// Echoes messages until the close handshake is done, then ends our side.
/// With `echo_pings`, each ping received is also sent back as a ping.
fn echo<S: Conn>(mut ws: WebSocket<S>, echo_pings: bool) -> io::Result<()> {
    loop {
        match ws.read() {
            Ok(message @ (Message::Text(_) | Message::Binary(_))) => {
                ws.send(message).map_err(ws_error)?;
            }
            Ok(Message::Ping(payload)) if echo_pings => {
                // Flush first: a queued pong would be replaced by a later write.
                ws.flush().map_err(ws_error)?;
                ws.send(Message::Ping(payload)).map_err(ws_error)?;
            }
            // Pongs are ignored; a close is answered by tungstenite, and the
            // next read reports the end.
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => return Err(ws_error(e)),
        }
    }
    finish(ws.get_mut())
}

/// Ends our side, then reads until the client closes: closing a socket with
/// unread input sends a reset, which can destroy the bytes we sent.
fn finish<S: Conn>(stream: &mut S) -> io::Result<()> {
    stream.finish()?;
    drain(stream)
}

/// Reads and discards until EOF, an error or the read timeout.
fn drain(stream: &mut impl Read) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    while stream.read(&mut buf)? != 0 {}
    Ok(())
}

fn ws_error(e: tungstenite::Error) -> io::Error {
    match e {
        tungstenite::Error::Io(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

/// Reads the request head, a byte at a time, through the blank line and no
/// further: what follows belongs to whoever reads next.
fn read_head(stream: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(512);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too long",
            ));
        }
        if stream.read(&mut byte)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
    }
    Ok(head)
}

/// The value of header `name` (case-insensitive) in a request head.
fn header(head: &[u8], name: &str) -> Option<String> {
    String::from_utf8_lossy(head)
        .split("\r\n")
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().to_string())
}

/// A stream that first yields bytes already read from it (the request head),
/// so that tungstenite sees the whole request.
struct Replay<S> {
    head: Vec<u8>,
    at: usize,
    inner: S,
}

impl<S: Read> Read for Replay<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at < self.head.len() {
            let n = buf.len().min(self.head.len() - self.at);
            buf[..n].copy_from_slice(&self.head[self.at..self.at + n]);
            self.at += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

impl<S: Write> Write for Replay<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<S: Conn> Conn for Replay<S> {
    fn finish(&mut self) -> io::Result<()> {
        self.inner.finish()
    }
}
