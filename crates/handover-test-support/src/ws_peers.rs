//! In-process WebSocket servers on loopback for the integration tests, plain
//! or over TLS (rustls), built on tungstenite's server side.
//!
//! A [`WsPeer`] listens on 127.0.0.1:0 and serves each accepted connection on
//! a thread of its own according to its [`WsBehavior`]; the listener, its
//! threads and the bounded stop in `Drop` are a [`Server`].
//!
//! Every connection's upgrade request is read by the peer itself, a byte at a
//! time up to and including the blank line (never a byte beyond), and kept
//! as sent for [`WsPeer::last_request`]; the tungstenite behaviours then hand
//! those bytes to `tungstenite::accept` ahead of the rest of the stream.
//!
//! A TLS peer takes a `rustls::ServerConfig` from the caller, e.g.
//! [`TestPki::server_config`](crate::peers::TestPki::server_config).

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::{ServerConfig, ServerConnection, StreamOwned};
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::Role;
use tungstenite::{Message, WebSocket};

use crate::peers::{drain, header, lock, read_head, server_accessors, Server};

/// Read and write timeout of accepted sockets, so that a stuck test ends.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

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
    server: Server,
    requests: Arc<Mutex<Vec<String>>>,
}

impl WsPeer {
    /// Starts a peer on 127.0.0.1:0; with `tls`, every connection is a TLS
    /// server connection made from that config (`wss://`).
    pub fn start(behavior: WsBehavior, tls: Option<Arc<ServerConfig>>) -> WsPeer {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let conn_requests = requests.clone();
        let server = Server::start(IpAddr::V4(Ipv4Addr::LOCALHOST), move |stream| {
            // No delay, so a 101 and the bytes written with it leave as one segment.
            let _ = stream.set_nodelay(true);
            let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
            let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
            // Errors (resets, timeouts, protocol errors) end the connection;
            // there is nobody to tell.
            let _ = match &tls {
                None => serve(stream, &behavior, &conn_requests),
                Some(config) => match ServerConnection::new(config.clone()) {
                    // The TLS handshake happens inside the first read.
                    Ok(conn) => serve(StreamOwned::new(conn, stream), &behavior, &conn_requests),
                    Err(e) => Err(io::Error::other(e)),
                },
            };
        });
        WsPeer { server, requests }
    }

    /// The request head (request line, headers, blank line) the most recent
    /// client sent, exactly as sent (lossy UTF-8), for asserting headers.
    pub fn last_request(&self) -> Option<String> {
        lock(&self.requests).last().cloned()
    }

    /// Every request head received so far, oldest first.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.requests).clone()
    }
}

server_accessors!(WsPeer);

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

fn serve<S: Conn>(
    mut stream: S,
    behavior: &WsBehavior,
    requests: &Mutex<Vec<String>>,
) -> io::Result<()> {
    let head = read_head(&mut stream)?.ok_or(io::ErrorKind::UnexpectedEof)?;
    let text = String::from_utf8_lossy(&head).into_owned();
    lock(requests).push(text.clone());
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
            let key = header(&text, "sec-websocket-key").ok_or_else(|| {
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

fn ws_error(e: tungstenite::Error) -> io::Error {
    match e {
        tungstenite::Error::Io(e) => e,
        other => io::Error::other(other.to_string()),
    }
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
