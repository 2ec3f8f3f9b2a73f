//! One layer for every byte-in/byte-out handshake machine of
//! handover-proto (SOCKS4, SOCKS5, the HTTP CONNECT tunnel): it moves bytes
//! between the machine and the pipe below and keeps what arrives after the
//! handshake for the application — the first bytes `recv` returns.

use handover_proto::socks::{Socks4, Socks5, SocksError, Status as SocksStatus};
use handover_proto::tunnel::{self, AuthMemory, Tunnel, TunnelError, TunnelErrorKind};

use crate::error::{Error, ErrorKind};
use crate::info::Info;
use crate::layer::{ConnectCx, Io, Layer, Progress};
use crate::sys::Interest;
use crate::verbose::{log_info, InfoType, Logger};

/// Bytes a handshake may hold unconsumed before the peer is deemed hostile.
const INBOX_LIMIT: usize = 256 * 1024;

/// Where a machine stands, in the layer's terms.
pub(crate) enum Outcome {
    Pending,
    Done,
    Reconnect,
}

/// The surface every handshake machine offers the layer.
pub(crate) trait Handshake: Send {
    fn transmit(&self) -> &[u8];
    fn sent(&mut self, n: usize);
    fn receive(&mut self, input: &[u8]) -> Result<usize, Error>;
    fn peer_closed(&mut self) -> Result<(), Error>;
    fn outcome(&self) -> Result<Outcome, Error>;
    /// The step the machine performs, as [`Layer::step`] words it.
    fn step(&self) -> String;
    /// Verbose lines for the start of the handshake.
    fn start(&mut self, _log: &Logger) {}
    /// Sends the machine's protocol lines to verbose output.
    fn log(&mut self, _log: &Logger) {}
    /// Writes what the handshake learned into the transfer's info.
    fn report(&self, _info: &mut Info) {}
    /// Authentication state a reconnect must carry to the next attempt.
    fn take_memory(&mut self) -> Option<AuthMemory> {
        None
    }
}

/// A handshake machine as a connection layer, for hop `hop` of the route.
pub(crate) struct HandshakeLayer<H: Handshake> {
    machine: H,
    hop: usize,
    /// Bytes read from below and not yet consumed by the machine; after the
    /// handshake they are the application's.
    inbox: Vec<u8>,
    inbox_pos: usize,
    done: bool,
}

impl<H: Handshake> HandshakeLayer<H> {
    pub fn new(machine: H, hop: usize) -> HandshakeLayer<H> {
        HandshakeLayer {
            machine,
            hop,
            inbox: Vec::new(),
            inbox_pos: 0,
            done: false,
        }
    }

    fn unread(&self) -> &[u8] {
        self.inbox.get(self.inbox_pos..).unwrap_or(&[])
    }
}

impl<H: Handshake> Layer for HandshakeLayer<H> {
    fn step(&self) -> String {
        self.machine.step()
    }

    fn start(&mut self, log: &Logger) {
        self.machine.start(log);
    }

    fn connect(&mut self, below: &mut dyn Io, cx: &mut ConnectCx<'_>) -> Result<Progress, Error> {
        let mut buf = [0u8; 16 * 1024];
        loop {
            self.machine.log(cx.log);
            match self.machine.outcome()? {
                Outcome::Done => {
                    self.done = true;
                    return Ok(Progress::Done);
                }
                Outcome::Reconnect => return Ok(Progress::Reconnect),
                Outcome::Pending => {}
            }
            let out = self.machine.transmit();
            let mut send_blocked = false;
            if !out.is_empty() {
                match below.send(out) {
                    Ok(n) => {
                        self.machine.sent(n);
                        continue;
                    }
                    // The peer may be answering instead of reading (a 413
                    // to an upload): look before waiting to write.
                    Err(e) if e.is_again() => send_blocked = true,
                    Err(e) => return Err(e),
                }
            }
            let unread = self.inbox.get(self.inbox_pos..).unwrap_or(&[]);
            if !unread.is_empty() {
                let used = self.machine.receive(unread)?;
                self.inbox_pos += used;
                if used > 0 {
                    continue;
                }
            }
            if send_blocked && self.inbox.len() - self.inbox_pos >= INBOX_LIMIT / 2 {
                // Held bytes the machine will not take until its message is
                // out: wait to write rather than read more.
                return Ok(Progress::Pending);
            }
            match below.recv(&mut buf) {
                Ok(0) => self.machine.peer_closed()?,
                Ok(n) => {
                    if self.inbox_pos == self.inbox.len() {
                        self.inbox.clear();
                        self.inbox_pos = 0;
                    }
                    if self.inbox.len() + n > INBOX_LIMIT {
                        return Err(Error::new(
                            ErrorKind::WeirdServerReply,
                            "proxy sent more than the handshake can hold",
                        ));
                    }
                    self.inbox.extend_from_slice(buf.get(..n).unwrap_or(&[]));
                }
                Err(e) if e.is_again() => return Ok(Progress::Pending),
                Err(e) => return Err(e),
            }
        }
    }

    fn send(&mut self, below: &mut dyn Io, buf: &[u8]) -> Result<usize, Error> {
        below.send(buf)
    }

    fn recv(&mut self, below: &mut dyn Io, buf: &mut [u8]) -> Result<usize, Error> {
        let unread = self.unread();
        if !unread.is_empty() {
            let n = unread.len().min(buf.len());
            buf[..n].copy_from_slice(&unread[..n]);
            self.inbox_pos += n;
            if self.inbox_pos == self.inbox.len() {
                self.inbox = Vec::new();
                self.inbox_pos = 0;
            }
            return Ok(n);
        }
        below.recv(buf)
    }

    fn flush(&mut self, _below: &mut dyn Io) -> Result<(), Error> {
        Ok(())
    }

    fn interest(&self) -> Interest {
        if self.done {
            Interest::NONE
        } else if self.machine.transmit().is_empty() {
            Interest::READ
        } else {
            // Writing, and watching for an early answer.
            Interest {
                read: true,
                write: true,
            }
        }
    }

    fn passes_through(&self) -> bool {
        self.done && self.unread().is_empty()
    }

    fn buffered(&self) -> usize {
        if self.done {
            self.unread().len()
        } else {
            0
        }
    }

    fn report(&self, info: &mut Info) {
        self.machine.report(info);
    }

    fn take_carry_over(&mut self) -> Option<(usize, AuthMemory)> {
        self.machine.take_memory().map(|m| (self.hop, m))
    }
}

// ---- the CONNECT tunnel -----------------------------------------------------

/// The tunnel machine plus what messages need.
pub(crate) struct TunnelHandshake {
    pub tunnel: Tunnel,
    /// `in the CONNECT to host:port through proxy …`.
    pub step: String,
}

fn tunnel_error(e: &TunnelError) -> Error {
    let kind = match e.kind {
        // libcurl 8.20+: a failed CONNECT is "could not connect" (7).
        TunnelErrorKind::Refused | TunnelErrorKind::AuthFailed | TunnelErrorKind::Closed => {
            ErrorKind::CouldntConnect
        }
        TunnelErrorKind::BadReply => ErrorKind::WeirdServerReply,
        TunnelErrorKind::BadInput => ErrorKind::BadFunctionArgument,
        TunnelErrorKind::NotBuiltIn => ErrorKind::NotBuiltIn,
    };
    Error::new(kind, e.message.clone())
}

impl Handshake for TunnelHandshake {
    fn step(&self) -> String {
        self.step.clone()
    }

    fn transmit(&self) -> &[u8] {
        self.tunnel.transmit()
    }

    fn sent(&mut self, n: usize) {
        self.tunnel.sent(n);
    }

    fn receive(&mut self, input: &[u8]) -> Result<usize, Error> {
        self.tunnel.receive(input).map_err(|e| tunnel_error(&e))
    }

    fn peer_closed(&mut self) -> Result<(), Error> {
        self.tunnel.peer_closed();
        Ok(())
    }

    fn outcome(&self) -> Result<Outcome, Error> {
        match self.tunnel.status() {
            tunnel::Status::Pending => Ok(Outcome::Pending),
            tunnel::Status::Established => Ok(Outcome::Done),
            tunnel::Status::Reconnect => Ok(Outcome::Reconnect),
            tunnel::Status::Failed => Err(self
                .tunnel
                .error()
                .map(tunnel_error)
                .unwrap_or_else(|| Error::new(ErrorKind::CouldntConnect, "CONNECT failed"))),
        }
    }

    fn log(&mut self, log: &Logger) {
        while let Some(event) = self.tunnel.poll_event() {
            if !log.enabled() {
                continue;
            }
            match event {
                tunnel::Event::HeaderOut(line) => {
                    log.emit(InfoType::HeaderOut, format!("{line}\r\n").as_bytes())
                }
                tunnel::Event::HeaderIn(line) => {
                    log.emit(InfoType::HeaderIn, format!("{line}\r\n").as_bytes())
                }
                tunnel::Event::Info(text) => log_info!(log, "{text}"),
            }
        }
    }

    fn report(&self, info: &mut Info) {
        info.http_connectcode = u32::from(self.tunnel.connect_code());
        let memory = self.tunnel.memory();
        info.proxyauth_avail = memory.offered().0;
        info.proxyauth_used = memory.used().map_or(0, |m| m.bit().0);
    }

    fn take_memory(&mut self) -> Option<AuthMemory> {
        Some(self.tunnel.take_memory())
    }
}

// ---- SOCKS ------------------------------------------------------------------

/// SOCKS4/4a or SOCKS5/5h, with the proxy's name for messages.
pub(crate) enum SocksHandshake {
    V4(Socks4, String),
    V5(Socks5, String),
}

fn socks_error(e: &SocksError, proxy: &str) -> Error {
    Error::new(ErrorKind::Proxy, format!("{e} (proxy {proxy})"))
}

impl SocksHandshake {
    fn proxy(&self) -> &str {
        match self {
            SocksHandshake::V4(_, p) | SocksHandshake::V5(_, p) => p,
        }
    }

    fn status(&self) -> SocksStatus {
        match self {
            SocksHandshake::V4(m, _) => m.status(),
            SocksHandshake::V5(m, _) => m.status(),
        }
    }

    /// The machine's error once failed; its code is `CURLINFO_PROXY_ERROR`.
    fn error(&self) -> Option<&SocksError> {
        match self {
            SocksHandshake::V4(m, _) => m.error(),
            SocksHandshake::V5(m, _) => m.error(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            SocksHandshake::V4(m, _) => m.describe(),
            SocksHandshake::V5(m, _) => m.describe(),
        }
    }
}

impl Handshake for SocksHandshake {
    fn step(&self) -> String {
        format!(
            "in the SOCKS handshake with proxy {} ({})",
            self.proxy(),
            self.describe()
        )
    }

    fn start(&mut self, log: &Logger) {
        log_info!(log, "{}", self.describe());
    }

    fn transmit(&self) -> &[u8] {
        match self {
            SocksHandshake::V4(m, _) => m.transmit(),
            SocksHandshake::V5(m, _) => m.transmit(),
        }
    }

    fn sent(&mut self, n: usize) {
        match self {
            SocksHandshake::V4(m, _) => m.sent(n),
            SocksHandshake::V5(m, _) => m.sent(n),
        }
    }

    fn receive(&mut self, input: &[u8]) -> Result<usize, Error> {
        let proxy = self.proxy().to_owned();
        let result = match self {
            SocksHandshake::V4(m, _) => m.receive(input),
            SocksHandshake::V5(m, _) => m.receive(input),
        };
        result.map_err(|e| socks_error(&e, &proxy))
    }

    fn peer_closed(&mut self) -> Result<(), Error> {
        match self {
            SocksHandshake::V4(m, _) => m.peer_closed(),
            SocksHandshake::V5(m, _) => m.peer_closed(),
        }
        Ok(())
    }

    fn outcome(&self) -> Result<Outcome, Error> {
        match self.status() {
            SocksStatus::Pending => Ok(Outcome::Pending),
            SocksStatus::Done => Ok(Outcome::Done),
            SocksStatus::Failed => Err(self
                .error()
                .map(|e| socks_error(e, self.proxy()))
                .unwrap_or_else(|| Error::new(ErrorKind::Proxy, "SOCKS handshake failed"))),
        }
    }

    fn report(&self, info: &mut Info) {
        if let Some(e) = self.error() {
            info.proxy_error = e.code.code();
        }
    }
}
