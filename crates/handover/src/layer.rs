//! Connection layers (curl's connection filters): a socket (TCP, or a
//! Unix domain socket) at the bottom and any number of layers above it (TLS, SOCKS and CONNECT
//! handshakes, the HTTP request), all behind one small interface.
//!
//! ```text
//!   application send/recv
//!          │
//!   layers[n-1]  (e.g. TLS to the origin)
//!          │  below = layers[..n-1] + socket
//!   layers[0]    (e.g. a proxy tunnel)
//!          │
//!   socket       (non-blocking, TCP or Unix)
//! ```
//!
//! A layer never owns the layers below it; it is handed them as `below`
//! for each call. That keeps the stack a flat `Vec`, so the engine can ask
//! every layer what it waits for and what it holds, and can hand back the
//! bare socket when no layer is left.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};

use handover_proto::http1::{Response, ResponseHead};
use handover_proto::tunnel::AuthMemory;

use crate::endpoint::Endpoint;
use crate::error::{Error, ErrorKind};
use crate::info::Info;
use crate::sys::{Closing, Interest};
use crate::timeline::Timeline;
use crate::verbose::Logger;
use std::time::Instant;

/// The byte pipe below a layer.
pub(crate) trait Io {
    /// Sends what it can; `Again` when nothing could be taken.
    fn send(&mut self, buf: &[u8]) -> Result<usize, Error>;
    /// Receives what is there; `Ok(0)` is an orderly close, `Again` means
    /// nothing is there now.
    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, Error>;
}

/// Where a layer's handshake stands after a call to `connect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    /// The layer is set up; data may flow.
    Done,
    /// The layer waits; `interest` says for what.
    Pending,
    /// The peer ended this connection mid-handshake and expects a new one
    /// (a proxy closing after 407); `take_carry_over` holds what the next
    /// attempt needs.
    Reconnect,
    /// The protocol switches to TLS here (STARTTLS, `AUTH TLS`): put TLS
    /// under the layer with [`Stack::start_tls`], then connect on.
    StartTls,
}

/// What a layer gets while it connects besides the pipe below.
pub(crate) struct ConnectCx<'a> {
    pub log: &'a Logger,
    /// Where the layers' steps are recorded, with the transfer's start;
    /// `None` where no transfer keeps a timeline (unit tests).
    pub steps: Option<(&'a mut Timeline, Instant)>,
}

impl ConnectCx<'_> {
    /// A layer's handshake begins: its step opens at the clock read now.
    fn begin_layer(&mut self, layer: &dyn Layer) {
        if let Some((timeline, started)) = &mut self.steps {
            let (name, peer, hop) = layer.timeline_entry();
            timeline.begin_layer(*started, Instant::now(), name, hop, peer);
        }
    }

    /// The layer's handshake is done: its step closes, with what it learned.
    fn end_layer(&mut self, layer: &dyn Layer) {
        if let Some((timeline, started)) = &mut self.steps {
            timeline.end_layer(*started, Instant::now(), layer.timeline_detail());
        }
    }

    /// The layer's handshake failed.
    fn fail_layer(&mut self, kind: ErrorKind) {
        if let Some((timeline, _)) = &mut self.steps {
            timeline.fail_layer(kind);
        }
    }
}

/// The interim heads of a failed request and the head it was reading when
/// it failed, as far as its lines were taken.
pub(crate) type FailedHeads = (Vec<ResponseHead>, Option<ResponseHead>);

/// One layer of a connection.
pub(crate) trait Layer: Send {
    /// The step this layer's handshake performs, naming its peer, worded to
    /// follow "timed out after N ms": `in the TLS handshake with
    /// localhost:443`, `waiting for the response head from …`.
    fn step(&self) -> String;
    /// Says in verbose output that the handshake begins; called once, just
    /// before the layer's first `connect`, so the lines come in the order
    /// the steps really happen.
    fn start(&mut self, _log: &Logger) {}
    /// Advances the layer's handshake.
    fn connect(&mut self, below: &mut dyn Io, cx: &mut ConnectCx<'_>) -> Result<Progress, Error>;
    /// Sends application bytes through the layer.
    fn send(&mut self, below: &mut dyn Io, buf: &[u8]) -> Result<usize, Error>;
    /// Receives application bytes; serves what the layer holds first.
    fn recv(&mut self, below: &mut dyn Io, buf: &mut [u8]) -> Result<usize, Error>;
    /// Pushes bytes the layer has queued for the peer; `Again` if some remain.
    fn flush(&mut self, below: &mut dyn Io) -> Result<(), Error>;
    /// What the layer waits for right now (its handshake, or queued output).
    fn interest(&self) -> Interest;
    /// True while the layer still sends a request body that goes on after
    /// the answer; [`flush`](Layer::flush) moves it.
    fn uploading(&self) -> bool {
        false
    }
    /// Bytes the layer holds that `recv` returns without reading the socket.
    fn buffered(&self) -> usize;
    /// True when `recv` will answer without the socket: bytes held, the end
    /// of the stream seen, or a failure to report.
    fn ready(&self) -> bool {
        self.buffered() > 0
    }
    /// True when the layer no longer changes bytes: its handshake is over
    /// and it holds nothing, so the socket below carries the application's
    /// bytes as they are (a finished SOCKS or CONNECT handshake; never TLS).
    fn passes_through(&self) -> bool {
        false
    }
    /// Writes what the layer learned (CONNECT code, auth methods, SOCKS
    /// detail) into the transfer's info; called on success and on failure.
    fn report(&self, _info: &mut Info) {}
    /// Authentication state to carry into a reconnect, with the hop it
    /// belongs to.
    fn take_carry_over(&mut self) -> Option<(usize, AuthMemory)> {
        None
    }
    /// The final HTTP response, for the layer that read one (the request).
    fn take_response(&mut self) -> Option<Response> {
        None
    }
    /// After the request failed: the interim heads it read and the head it
    /// was reading, as far as its lines were taken, which libcurl keeps
    /// for `curl_easy_header`.
    fn failed_heads(&self) -> Option<FailedHeads> {
        None
    }
    /// TLS is now under the layer, after it answered
    /// [`Progress::StartTls`].
    fn tls_started(&mut self) {}
    /// For a layer that encrypts what is sent through it (TLS): how many
    /// bytes a `send` that answered `Again` took and still owes to the
    /// wire (the retry must offer them again). `None` for a layer that
    /// passes sends to the one below it.
    #[cfg(feature = "tokio")]
    fn owed(&self) -> Option<usize> {
        None
    }
    /// The layer in the setup's timeline: its name (`tls`, `http-proxy`,
    /// `socks5`, `request`), who it talks to, and its hop ([`Step::hop`](crate::Step::hop)).
    fn timeline_entry(&self) -> (&'static str, String, usize);
    /// What the handshake came to, in a few words, once done.
    fn timeline_detail(&self) -> String {
        String::new()
    }
    /// Ends the layer's sending direction in its own protocol (TLS queues
    /// close_notify); the caller flushes. A second call queues nothing.
    fn close_write(&mut self) {}
}

/// The bottom of every stack: a connected, non-blocking socket.
pub(crate) struct Socket {
    pub stream: Closing<socket2::Socket>,
    pub peer: Endpoint,
}

impl Socket {
    /// One non-blocking socket call: `WouldBlock` becomes `Again`, an
    /// interrupted call is retried, anything else names the peer.
    fn call(
        &self,
        kind: ErrorKind,
        verb: &str,
        mut op: impl FnMut(&socket2::Socket) -> io::Result<usize>,
    ) -> Result<usize, Error> {
        loop {
            match op(&self.stream) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(Error::again()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Error::from_io(
                        kind,
                        format_args!("{verb} {} failed", self.peer),
                        &e,
                    ))
                }
            }
        }
    }
}

impl Io for Socket {
    fn send(&mut self, buf: &[u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        // MSG_NOSIGNAL: a peer that hung up is an error here, never a
        // SIGPIPE (a C program on handover-curl may not ignore it).
        self.call(ErrorKind::SendError, "send to", |s| {
            s.send_with_flags(buf, libc::MSG_NOSIGNAL)
        })
    }

    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.call(ErrorKind::RecvError, "recv from", |mut s| s.read(buf))
    }
}

/// The rest of the stack below a given layer, as one `Io`.
struct Below<'a> {
    socket: &'a mut Socket,
    layers: &'a mut [Box<dyn Layer>],
}

impl Io for Below<'_> {
    fn send(&mut self, buf: &[u8]) -> Result<usize, Error> {
        match self.layers.split_last_mut() {
            None => self.socket.send(buf),
            Some((top, rest)) => top.send(
                &mut Below {
                    socket: self.socket,
                    layers: rest,
                },
                buf,
            ),
        }
    }

    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        match self.layers.split_last_mut() {
            None => self.socket.recv(buf),
            Some((top, rest)) => top.recv(
                &mut Below {
                    socket: self.socket,
                    layers: rest,
                },
                buf,
            ),
        }
    }
}

/// A socket and the layers stacked on it, innermost first.
pub(crate) struct Stack {
    socket: Socket,
    /// `CURLINFO_CONN_ID`: a process-wide number for this connection.
    id: u32,
    layers: Vec<Box<dyn Layer>>,
    /// How many layers (from the bottom) have finished connecting.
    /// (`u16`, with `started` and `id` as `u32`, keeps a `Connection` small.)
    connected: u16,
    /// How many layers (from the bottom) have been told they start.
    started: u16,
}

impl Stack {
    pub fn new(stream: Closing<socket2::Socket>, peer: Endpoint) -> Stack {
        Stack {
            socket: Socket { stream, peer },
            id: crate::info::next_connection_id(),
            layers: Vec::new(),
            connected: 0,
            started: 0,
        }
    }

    /// Removes the top layer once it holds nothing for the reader (a
    /// finished request on a connection going back to the pool).
    pub fn pop_idle(&mut self) -> bool {
        match self.layers.last() {
            Some(top) if top.buffered() == 0 => {
                self.layers.pop();
                self.connected = self.connected.min(self.depth());
                self.started = self.started.min(self.depth());
                true
            }
            _ => false,
        }
    }

    /// How many layers there are.
    fn depth(&self) -> u16 {
        u16::try_from(self.layers.len()).unwrap_or(u16::MAX)
    }

    /// Adds a layer on top; it connects after every layer below it has.
    pub fn push(&mut self, layer: Box<dyn Layer>) {
        self.layers.push(layer);
    }

    /// Advances the lowest layer that is not yet connected, then the ones
    /// above it, as far as they go without waiting.
    pub fn connect(&mut self, cx: &mut ConnectCx<'_>) -> Result<Progress, Error> {
        while self.connected < self.depth() {
            let (lower, upper) = self.layers.split_at_mut(self.connected as usize);
            let Some(layer) = upper.first_mut() else {
                break;
            };
            if self.started == self.connected {
                layer.start(cx.log);
                self.started += 1;
                cx.begin_layer(layer.as_ref());
            }
            let mut below = Below {
                socket: &mut self.socket,
                layers: lower,
            };
            match layer.connect(&mut below, cx) {
                Ok(Progress::Done) => {
                    cx.end_layer(layer.as_ref());
                    self.connected += 1;
                }
                Ok(other) => return Ok(other),
                Err(e) => {
                    cx.fail_layer(e.kind());
                    return Err(e);
                }
            }
        }
        Ok(Progress::Done)
    }

    /// Puts `tls` under the layer that answered [`Progress::StartTls`] and
    /// tells that layer; the next [`connect`](Stack::connect) runs the TLS
    /// handshake, then the layer goes on above it.
    pub fn start_tls(&mut self, mut tls: Box<dyn Layer>, cx: &mut ConnectCx<'_>) {
        let at = self.connected as usize;
        if at >= self.layers.len() {
            return;
        }
        // The TLS layer's first lines now, just before its handshake; the
        // layer above has said its own already (and its step stays open
        // around TLS's).
        tls.start(cx.log);
        cx.begin_layer(tls.as_ref());
        self.layers.insert(at, tls);
        self.started = self.connected.saturating_add(2);
        if let Some(above) = self.layers.get_mut(at + 1) {
            above.tls_started();
        }
    }

    /// The step of the layer connecting now, if one is.
    pub fn step(&self) -> Option<String> {
        self.layers
            .get(self.connected as usize)
            .map(|layer| layer.step())
    }

    /// What the stack waits for: the connecting layer's wish, plus write
    /// readiness for any layer with queued output.
    pub fn interest(&self) -> Interest {
        let mut interest = Interest::NONE;
        for layer in &self.layers {
            interest = interest.union(layer.interest());
        }
        interest
    }

    /// True while a layer still sends a request body after the answer
    /// (see [`Layer::uploading`]).
    pub fn uploading(&self) -> bool {
        self.layers.iter().any(|l| l.uploading())
    }

    /// Bytes held in layers that `recv` can return without the socket.
    pub fn buffered(&self) -> usize {
        self.layers.iter().map(|l| l.buffered()).sum()
    }

    /// Lets every layer write what it learned into `info`.
    pub fn report(&self, info: &mut Info) {
        for layer in &self.layers {
            layer.report(info);
        }
    }

    /// Authentication state of every layer, for a reconnect.
    pub fn take_carry_over(&mut self) -> Vec<(usize, AuthMemory)> {
        self.layers
            .iter_mut()
            .filter_map(|l| l.take_carry_over())
            .collect()
    }

    /// The final HTTP response the topmost layer that read one holds.
    pub fn take_response(&mut self) -> Option<Response> {
        self.layers.iter_mut().rev().find_map(|l| l.take_response())
    }

    /// The heads the topmost layer that failed reading one had read.
    pub fn failed_heads(&self) -> Option<FailedHeads> {
        self.layers.iter().rev().find_map(|l| l.failed_heads())
    }

    /// Bytes the topmost encrypting layer took in a `send` that answered
    /// `Again`: the application's bytes that layer will still send.
    #[cfg(feature = "tokio")]
    pub fn owed(&self) -> usize {
        self.layers
            .iter()
            .rev()
            .find_map(|layer| layer.owed())
            .unwrap_or(0)
    }

    /// Ends the sending direction: every layer's own ending (TLS
    /// close_notify, the target's first) queued once, pushed out, then the
    /// socket's write side shut down. `Again` while queued records wait for
    /// room; call again (no layer queues its ending twice).
    pub fn close_write(&mut self) -> Result<(), Error> {
        for layer in self.layers.iter_mut().rev() {
            layer.close_write();
        }
        self.flush()?;
        match self.socket.stream.shutdown(std::net::Shutdown::Write) {
            // Already shut down, or the peer is gone: nothing left to end.
            Err(e) if e.kind() != io::ErrorKind::NotConnected => Err(Error::from_io(
                ErrorKind::SendError,
                format_args!("shutdown of the connection to {} failed", self.socket.peer),
                &e,
            )),
            _ => Ok(()),
        }
    }

    /// True when `recv` answers without waiting for the socket.
    pub fn ready(&self) -> bool {
        self.layers.iter().any(|l| l.ready())
    }

    /// Pushes queued output of every layer, bottom first.
    pub fn flush(&mut self) -> Result<(), Error> {
        for i in 0..self.layers.len() {
            let (lower, upper) = self.layers.split_at_mut(i);
            if let Some(layer) = upper.first_mut() {
                layer.flush(&mut Below {
                    socket: &mut self.socket,
                    layers: lower,
                })?;
            }
        }
        Ok(())
    }

    pub fn fd(&self) -> RawFd {
        self.socket.stream.as_raw_fd()
    }

    pub fn peer(&self) -> &Endpoint {
        &self.socket.peer
    }

    /// The connection's number (`CURLINFO_CONN_ID`).
    pub fn id(&self) -> i64 {
        i64::from(self.id)
    }

    pub fn stream(&self) -> &socket2::Socket {
        &self.socket.stream
    }

    /// True when bytes pass through untouched: every layer on the socket
    /// (if any) is a finished handshake holding nothing.
    pub fn is_bare(&self) -> bool {
        self.layers.iter().all(|layer| layer.passes_through())
    }

    /// The socket itself, when no layer is left to translate bytes.
    pub fn into_stream(self) -> Result<socket2::Socket, Stack> {
        if self.is_bare() {
            Ok(self.socket.stream.into_inner())
        } else {
            Err(self)
        }
    }
}

impl Io for Stack {
    fn send(&mut self, buf: &[u8]) -> Result<usize, Error> {
        Below {
            socket: &mut self.socket,
            layers: &mut self.layers,
        }
        .send(buf)
    }

    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        Below {
            socket: &mut self.socket,
            layers: &mut self.layers,
        }
        .recv(buf)
    }
}

/// Lets a byte-stream library (rustls) read and write through an `Io`
/// while keeping handover's own error for whoever asks.
pub(crate) struct IoAdapter<'a, 'b> {
    io: &'a mut (dyn Io + 'b),
    failure: Option<Error>,
}

impl<'a, 'b> IoAdapter<'a, 'b> {
    pub fn new(io: &'a mut (dyn Io + 'b)) -> IoAdapter<'a, 'b> {
        IoAdapter { io, failure: None }
    }

    /// The handover error behind the last `io::Error` this adapter returned.
    pub fn take_failure(&mut self) -> Option<Error> {
        self.failure.take()
    }

    fn convert(&mut self, err: Error) -> io::Error {
        if err.is_again() {
            return io::ErrorKind::WouldBlock.into();
        }
        let io_err = io::Error::other(err.message().to_owned());
        self.failure = Some(err);
        io_err
    }
}

impl Read for IoAdapter<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.recv(buf).map_err(|e| self.convert(e))
    }
}

impl Write for IoAdapter<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.io.send(buf).map_err(|e| self.convert(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An in-memory connection for the layers' unit tests: chunks to read (an
/// empty one is the end of the stream, none left is `Again`), and a socket
/// buffer of `room` bytes for writes.
#[cfg(test)]
pub(crate) mod test_pipe {
    use std::collections::VecDeque;

    use super::Io;
    use crate::error::Error;

    #[derive(Default)]
    pub(crate) struct Pipe {
        pub input: VecDeque<Vec<u8>>,
        pub out: Vec<u8>,
        pub room: usize,
    }

    impl Pipe {
        /// A pipe that will read `chunks` and take `room` bytes of writes.
        pub fn new(chunks: &[&[u8]], room: usize) -> Pipe {
            Pipe {
                input: chunks.iter().map(|c| c.to_vec()).collect(),
                out: Vec::new(),
                room,
            }
        }

        /// A pipe that will read `chunks` and take any writes.
        pub fn reading(chunks: &[&[u8]]) -> Pipe {
            Pipe::new(chunks, usize::MAX)
        }
    }

    impl Io for Pipe {
        fn send(&mut self, buf: &[u8]) -> Result<usize, Error> {
            let n = buf.len().min(self.room);
            if n == 0 && !buf.is_empty() {
                return Err(Error::again());
            }
            self.room -= n;
            self.out.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn recv(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
            let Some(mut chunk) = self.input.pop_front() else {
                return Err(Error::again());
            };
            let n = chunk.len().min(buf.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            if n < chunk.len() {
                self.input.push_front(chunk.split_off(n));
            }
            Ok(n)
        }
    }
}
