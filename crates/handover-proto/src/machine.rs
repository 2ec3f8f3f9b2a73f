//! The one surface every handshake machine offers: SOCKS4, SOCKS5, the
//! HTTP CONNECT tunnel, the HTTP exchange and the WebSocket upgrade all
//! move bytes the same way, so the engine drives every one of them with
//! a single adapter (quinn-proto's `handle_*`/`poll_*` shape).
//!
//! ```text
//!              transmit() ──> bytes to write ──> sent(n)
//!   engine ──  receive(bytes read) ──> how many the machine used
//!              peer_closed() / io_failed(direction)
//!              status(), error(), poll_event(), next_deadline(now)
//!              tls_started()  after StartTls, once TLS is under the machine
//!
//!   status:  Pending ──┬──> Done        the connection is the caller's
//!                      ├──> Reconnect   open a new connection, start again
//!                      ├──> StartTls ──> put TLS under the machine,
//!                      │                 tls_started() ──> Pending again
//!                      └──> Failed      error() says why
//! ```
//!
//! A machine never touches a socket or reads the clock. Bytes that arrive
//! after the end of its handshake are not consumed: `receive` returns how
//! many it used and the rest belongs to whatever reads the connection next.
//!
//! # STARTTLS
//!
//! A machine whose protocol switches to TLS mid-way (SMTP `STARTTLS`, IMAP
//! `STARTTLS`, POP3 `STLS`) reports [`Status::StartTls`] right after the
//! server's answer agreeing to it, having consumed exactly that answer.
//! Then:
//!
//! 1. The caller checks that it holds no byte past that answer (input
//!    `receive` left unconsumed, or anything already read): such bytes
//!    were sent in clear before the handshake and must never be taken as
//!    TLS-protected (libcurl's CVE-2021-22947). libcurl fails with
//!    `CURLE_WEIRD_SERVER_REPLY` (8) when it sees them.
//! 2. The caller runs the TLS handshake over the connection.
//! 3. The caller calls [`Machine::tls_started`]; the machine queues its
//!    next command (a new `EHLO`, `CAPABILITY` or `CAPA`), its status is
//!    [`Status::Pending`] again, and the caller drives it as before, now
//!    moving the bytes through TLS.
//!
//! While the status is [`Status::StartTls`], `transmit` is empty and
//! `receive` consumes nothing.

use std::fmt;
use std::time::Instant;

/// Where a machine stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Bytes to send or an answer to read.
    Pending,
    /// The handshake is over: the connection is a pipe for the caller.
    Done,
    /// The peer ended this connection mid-handshake and expects a new one
    /// (a proxy closing after a 407): open a new connection and start a
    /// new machine with what this one learned.
    Reconnect,
    /// The protocol switches to TLS here (STARTTLS): put a TLS session
    /// under the machine, call [`Machine::tls_started`], then keep driving
    /// it. The machine consumed its input exactly to the end of the
    /// server's go-ahead: anything after it was sent before TLS and must
    /// not be taken as protected (the caller refuses it).
    StartTls,
    /// Failed; [`Machine::error`] says why.
    Failed,
}

/// Which way the bytes were going when the pipe failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Writing to the peer failed.
    Send,
    /// Reading from the peer failed.
    Receive,
}

/// Protocol lines for verbose output, in libcurl's shape. Credentials
/// never appear in them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A request header line sent, without its line end.
    HeaderOut(String),
    /// A reply header line received, without its line end.
    HeaderIn(String),
    /// Informational text.
    Info(String),
}

/// A sans-IO handshake: bytes and time in, bytes and decisions out.
///
/// # Examples
///
/// Driving any machine over a blocking pipe (the engine does the same over
/// non-blocking sockets):
///
/// ```
/// use std::io::{Read, Write};
/// use handover_proto::machine::{Machine, Status};
///
/// fn drive<M: Machine, P: Read + Write>(m: &mut M, pipe: &mut P) -> Result<Vec<u8>, String> {
///     let mut held = Vec::new();
///     loop {
///         match m.status() {
///             Status::Pending => {}
///             Status::Failed => return Err(m.error().map(|e| e.to_string()).unwrap_or_default()),
///             // Bytes past the handshake are the caller's.
///             _ => return Ok(held),
///         }
///         let out = m.transmit().to_vec();
///         if !out.is_empty() {
///             pipe.write_all(&out).map_err(|e| e.to_string())?;
///             m.sent(out.len());
///             continue;
///         }
///         let mut buf = [0u8; 512];
///         let n = pipe.read(&mut buf).map_err(|e| e.to_string())?;
///         if n == 0 {
///             m.peer_closed();
///             continue;
///         }
///         held.extend_from_slice(&buf[..n]);
///         let used = m.receive(&held).map_err(|e| e.to_string())?;
///         held.drain(..used);
///     }
/// }
/// ```
pub trait Machine {
    /// What a failure says.
    type Error: std::error::Error + Clone;

    /// Bytes to write now (empty if none).
    fn transmit(&self) -> &[u8];

    /// The caller wrote the first `n` bytes of [`transmit`](Machine::transmit)
    /// (more than that counts as all of them).
    fn sent(&mut self, n: usize);

    /// Feeds bytes read from the peer; returns how many the machine used.
    /// Bytes past the end of the handshake are not consumed. After a
    /// failure every call returns the same error.
    fn receive(&mut self, input: &[u8]) -> Result<usize, Self::Error>;

    /// The peer closed the connection (end of stream).
    fn peer_closed(&mut self);

    /// Reading or writing failed with `detail`. A machine that has a word
    /// of its own for that (SOCKS: libcurl's `CURLPX_SEND_*`/`RECV_*`
    /// codes) fails with it and returns the error; `None` leaves the I/O
    /// error as the caller's to report.
    fn io_failed(
        &mut self,
        direction: Direction,
        detail: &dyn fmt::Display,
    ) -> Option<Self::Error> {
        let _ = (direction, detail);
        None
    }

    /// Where the machine stands.
    fn status(&self) -> Status;

    /// The error, once [`Status::Failed`].
    fn error(&self) -> Option<&Self::Error>;

    /// True while the machine waits for the peer rather than for the pipe
    /// to take its bytes.
    fn wants_read(&self) -> bool;

    /// The next moment the machine must be called again even without I/O
    /// (a protocol timer); `None` when it has none.
    fn next_deadline(&self, now: Instant) -> Option<Instant> {
        let _ = now;
        None
    }

    /// The next protocol line for verbose output, if any.
    fn poll_event(&mut self) -> Option<Event> {
        None
    }

    /// TLS now runs under the machine: after [`Status::StartTls`], the
    /// caller finished the TLS handshake (see the module documentation).
    /// The machine queues its next command and is
    /// [`Status::Pending`] again. Ignored in any other status, and by
    /// machines that never ask for TLS.
    fn tls_started(&mut self) {}
}
