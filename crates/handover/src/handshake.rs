//! One layer for every handshake machine (handover-proto's
//! [`Machine`]: SOCKS4, SOCKS5, the HTTP CONNECT tunnel, the HTTP
//! exchange, the PROXY protocol header): it moves bytes between the machine and the pipe below and
//! keeps what arrives after the handshake for the application — the first
//! bytes `recv` returns.
//!
//! What the engine needs beyond the proto surface — the machine's error as
//! a `CURLcode`, what it learned for `Info`, its lines for verbose output,
//! the application's callbacks it is served from (an HTTP upload's read
//! callback, the header callback) — is the small [`Handshake`] trait,
//! implemented once per machine type.

use handover_proto::http1::Response;
use handover_proto::machine::{Direction, Event, Machine, Status};
use handover_proto::proxy_protocol::{ProxyHeader, ProxyHeaderError};
use handover_proto::socks::{Socks4, Socks5, SocksError};
use handover_proto::tunnel::{AuthMemory, Tunnel, TunnelError, TunnelErrorKind};

use crate::error::{Error, ErrorKind, ProxyFailure};
use crate::info::Info;
use crate::layer::{ConnectCx, FailedHeads, Io, Layer, Progress};
use crate::sys::Interest;
use crate::verbose::{log_info, InfoType, Logger};

/// Bytes a handshake may hold unconsumed before the peer is deemed hostile.
const INBOX_LIMIT: usize = 256 * 1024;

/// Most bytes of a request body one `flush` sends after the answer.
const UPLOAD_SHARE: usize = 1024 * 1024;

/// The engine's side of a machine: its failures in handover's terms and
/// what it learned. `peer` names who the machine talks to (`proxy
/// 10.0.0.5:3128`, `example.com:443`).
pub(crate) trait Handshake: Machine + Send {
    /// What the layer keeps beside the machine to serve it from the
    /// application (an HTTP request's read and header callbacks); `()` for
    /// machines that need nothing.
    type App: Send;
    /// Serves the machine from the application before each step of the
    /// connect loop: body bytes it asks for, header lines it has for the
    /// application. An error ends the handshake.
    fn serve(&mut self, _app: &mut Self::App) -> Result<(), Error> {
        Ok(())
    }
    /// The final HTTP response, for the machine that reads one.
    fn take_response(&mut self) -> Option<Response> {
        None
    }
    /// After a failure, the HTTP heads read before it (see
    /// [`Layer::failed_heads`]).
    fn failed_heads(&self) -> Option<FailedHeads> {
        None
    }
    /// The machine's error as a handover error.
    fn to_error(&self, error: &Self::Error, peer: &str) -> Error;
    /// The step it performs, as [`Layer::step`] words it.
    fn step(&self, peer: &str) -> String;
    /// Its name in the setup's timeline: `http-proxy`, `socks5`, `request`.
    fn name(&self) -> &'static str;
    /// What it came to, in a few words for the timeline, once done.
    fn detail(&self) -> String {
        String::new()
    }
    /// True for a proxy's handshake (CONNECT, SOCKS).
    fn is_proxy(&self) -> bool {
        false
    }
    /// Verbose lines for the start of the handshake.
    fn start(&mut self, _peer: &str, _log: &Logger) {}
    /// Writes what the handshake learned into the transfer's info.
    fn report(&self, _info: &mut Info) {}
    /// Authentication state a reconnect must carry to the next attempt.
    fn take_memory(&mut self) -> Option<AuthMemory> {
        None
    }
    /// True while a request body still goes out after the handshake is
    /// done (an answer that came before it was all sent and did not stop
    /// it).
    fn uploading(&self) -> bool {
        false
    }
}

/// A handshake machine as a connection layer, for hop `hop` of the route.
pub(crate) struct HandshakeLayer<M: Handshake> {
    machine: M,
    app: M::App,
    hop: usize,
    /// Who the machine talks to, for messages.
    peer: String,
    /// Bytes read from below and not yet consumed by the machine; after the
    /// handshake they are the application's.
    inbox: Vec<u8>,
    inbox_pos: usize,
    done: bool,
}

impl<M: Handshake<App = ()>> HandshakeLayer<M> {
    pub fn new(machine: M, hop: usize, peer: String) -> HandshakeLayer<M> {
        HandshakeLayer::serving(machine, (), hop, peer)
    }
}

impl<M: Handshake> HandshakeLayer<M> {
    /// The application's side the machine is served from.
    pub fn app_mut(&mut self) -> &mut M::App {
        &mut self.app
    }

    /// A layer whose machine the application serves through `app`.
    pub fn serving(machine: M, app: M::App, hop: usize, peer: String) -> HandshakeLayer<M> {
        HandshakeLayer {
            machine,
            app,
            hop,
            peer,
            inbox: Vec::new(),
            inbox_pos: 0,
            done: false,
        }
    }

    fn unread(&self) -> &[u8] {
        self.inbox.get(self.inbox_pos..).unwrap_or(&[])
    }

    fn log_events(&mut self, log: &Logger) {
        while let Some(event) = self.machine.poll_event() {
            if !log.enabled() {
                continue;
            }
            match event {
                Event::HeaderOut(line) => {
                    log.emit(InfoType::HeaderOut, format!("{line}\r\n").as_bytes())
                }
                Event::HeaderIn(line) => {
                    log.emit(InfoType::HeaderIn, format!("{line}\r\n").as_bytes())
                }
                Event::Info(text) => log_info!(log, "{text}"),
            }
        }
    }

    fn failure(&self) -> Error {
        match self.machine.error() {
            Some(e) => self.machine.to_error(e, &self.peer),
            None => Error::new(
                ErrorKind::CouldntConnect,
                format!("{} failed", self.machine.step(&self.peer)),
            ),
        }
    }

    /// The pipe below failed: the machine's own word for it when it has
    /// one (SOCKS: 97 with the `CURLPX_*` detail), else the pipe's error.
    fn io_failure(&mut self, direction: Direction, e: Error) -> Error {
        match self.machine.io_failed(direction, &e.message()) {
            Some(own) => self
                .machine
                .to_error(&own, &self.peer)
                .with_errno(e.os_errno()),
            None => e,
        }
    }
}

impl<M: Handshake> Layer for HandshakeLayer<M> {
    fn step(&self) -> String {
        self.machine.step(&self.peer)
    }

    fn timeline_entry(&self) -> (&'static str, String, usize) {
        // A proxy's handshake belongs to its hop (1-based); the server's
        // (request, greeting) to hop 0.
        let hop = if self.machine.is_proxy() {
            self.hop + 1
        } else {
            0
        };
        // The label reads "proxy host:port" in messages ("… through proxy
        // host:port"); a step's peer is the address alone, as TCP's and
        // TLS's are.
        let peer = self.peer.strip_prefix("proxy ").unwrap_or(&self.peer);
        (self.machine.name(), peer.to_owned(), hop)
    }

    fn timeline_detail(&self) -> String {
        self.machine.detail()
    }

    fn start(&mut self, log: &Logger) {
        self.machine.start(&self.peer, log);
    }

    fn connect(&mut self, below: &mut dyn Io, cx: &mut ConnectCx<'_>) -> Result<Progress, Error> {
        let mut buf = [0u8; 16 * 1024];
        // A send that failed: what the peer sent before it is read first,
        // since it may be the answer (a server that answers an upload and
        // closes without reading it all resets the connection; libcurl
        // reads before it writes and takes the answer).
        let mut send_failed: Option<Error> = None;
        loop {
            self.machine.serve(&mut self.app)?;
            self.log_events(cx.log);
            match self.machine.status() {
                Status::Pending => {}
                Status::Done => {
                    self.done = true;
                    return Ok(Progress::Done);
                }
                Status::Reconnect => return Ok(Progress::Reconnect),
                Status::Failed => return Err(self.failure()),
                Status::StartTls => {
                    // Bytes the server sent after its go-ahead, before any
                    // TLS: an attacker's, to be taken as protected once TLS
                    // is up (libcurl's CVE-2021-22947). Refused.
                    let early = self.unread().len();
                    if early > 0 {
                        return Err(Error::new(
                            ErrorKind::WeirdServerReply,
                            format!(
                                "{} sent {early} bytes after agreeing to TLS, before the TLS \
                                 handshake: refused, they would pass as protected",
                                self.peer
                            ),
                        ));
                    }
                    return Ok(Progress::StartTls);
                }
            }
            let out = self.machine.transmit();
            let mut send_blocked = false;
            if !out.is_empty() && send_failed.is_none() {
                match below.send(out) {
                    Ok(n) => {
                        self.machine.sent(n);
                        continue;
                    }
                    // The peer may be answering instead of reading (a 413
                    // to an upload): look before waiting to write.
                    Err(e) if e.is_again() => send_blocked = true,
                    Err(e) => send_failed = Some(e),
                }
            }
            let unread = self.inbox.get(self.inbox_pos..).unwrap_or(&[]);
            if !unread.is_empty() {
                let used = match self.machine.receive(unread) {
                    Ok(used) => used,
                    Err(e) => {
                        // The lines that led to the failure come first, as
                        // in libcurl's output; the failure wins over the
                        // application's answer to them.
                        let _ = self.machine.serve(&mut self.app);
                        self.log_events(cx.log);
                        return Err(self.machine.to_error(&e, &self.peer));
                    }
                };
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
            let read = below.recv(&mut buf);
            if let Some(e) = send_failed.take_if(|_| !matches!(read, Ok(n) if n > 0)) {
                // Nothing more to read: the send's failure stands.
                return Err(self.io_failure(Direction::Send, e));
            }
            match read {
                Ok(0) => self.machine.peer_closed(),
                Ok(n) => {
                    if self.inbox_pos == self.inbox.len() {
                        self.inbox.clear();
                        self.inbox_pos = 0;
                    }
                    if self.inbox.len() + n > INBOX_LIMIT {
                        return Err(Error::new(
                            ErrorKind::WeirdServerReply,
                            format!("{} sent more than the handshake can hold", self.peer),
                        ));
                    }
                    self.inbox.extend_from_slice(buf.get(..n).unwrap_or(&[]));
                }
                Err(e) if e.is_again() => return Ok(Progress::Pending),
                Err(e) => return Err(self.io_failure(Direction::Receive, e)),
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

    /// After the handshake, sends what is left of a request body that goes
    /// on after the answer (see [`Handshake::uploading`]).
    fn flush(&mut self, below: &mut dyn Io) -> Result<(), Error> {
        // A bounded share per call, so that a fast reader on the other end
        // cannot keep one drive going for ever; the interest in writing
        // brings the rest.
        let mut budget = UPLOAD_SHARE;
        while self.done && self.machine.uploading() && budget > 0 {
            self.machine.serve(&mut self.app)?;
            if self.machine.status() == Status::Failed {
                return Err(self.failure());
            }
            let out = self.machine.transmit();
            if out.is_empty() {
                // Waiting for the application (a paused read callback).
                return Ok(());
            }
            match below.send(out) {
                Ok(n) => {
                    self.machine.sent(n);
                    budget = budget.saturating_sub(n.max(1));
                }
                Err(e) if e.is_again() => return Ok(()),
                Err(e) => return Err(self.io_failure(Direction::Send, e)),
            }
        }
        Ok(())
    }

    fn uploading(&self) -> bool {
        self.done && self.machine.uploading()
    }

    fn interest(&self) -> Interest {
        if self.done {
            Interest {
                read: false,
                write: self.machine.uploading() && !self.machine.transmit().is_empty(),
            }
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
        self.done && self.unread().is_empty() && !self.machine.uploading()
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

    fn take_response(&mut self) -> Option<Response> {
        self.machine.take_response()
    }

    fn failed_heads(&self) -> Option<FailedHeads> {
        self.machine.failed_heads()
    }

    fn tls_started(&mut self) {
        self.inbox = Vec::new();
        self.inbox_pos = 0;
        self.machine.tls_started();
    }
}

// ---- the CONNECT tunnel -----------------------------------------------------

impl Handshake for Tunnel {
    type App = ();

    fn to_error(&self, e: &TunnelError, _peer: &str) -> Error {
        // The tunnel's messages name the proxy and the target already.
        let kind = match e.kind {
            // libcurl 8.20+: a failed CONNECT is "could not connect" (7).
            TunnelErrorKind::Refused | TunnelErrorKind::AuthFailed | TunnelErrorKind::Closed => {
                ErrorKind::CouldntConnect
            }
            TunnelErrorKind::BadReply => ErrorKind::WeirdServerReply,
            TunnelErrorKind::BadInput => ErrorKind::BadFunctionArgument,
            TunnelErrorKind::NotBuiltIn => ErrorKind::NotBuiltIn,
        };
        let failure = match e.kind {
            TunnelErrorKind::AuthFailed => Some(ProxyFailure::AuthRejected {
                scheme: self
                    .memory()
                    .used()
                    .map_or_else(String::new, |m| m.name().to_owned()),
                status: self.connect_code(),
            }),
            TunnelErrorKind::Refused => Some(ProxyFailure::ConnectRefused {
                status: self.connect_code(),
            }),
            TunnelErrorKind::Closed => Some(ProxyFailure::Closed),
            _ => None,
        };
        let error = Error::new(kind, e.message.clone()).with_source(e.clone());
        match failure {
            Some(failure) => error.with_proxy_failure(failure),
            None => error,
        }
    }

    fn step(&self, peer: &str) -> String {
        format!("in the CONNECT to {} through {peer}", self.authority())
    }

    fn name(&self) -> &'static str {
        "http-proxy"
    }

    fn is_proxy(&self) -> bool {
        true
    }

    fn detail(&self) -> String {
        let memory = self.memory();
        let auth = match memory.used() {
            Some(used) => format!(", {} authentication", used.name()),
            None => String::new(),
        };
        // Each challenge met is one more CONNECT on the wire.
        let rounds = match memory.rounds() {
            0 => String::new(),
            1 => ", after one 407".to_owned(),
            n => format!(", after {n} × 407"),
        };
        format!(
            "CONNECT {} → {}{auth}{rounds}",
            self.authority(),
            self.connect_code()
        )
    }

    fn report(&self, info: &mut Info) {
        info.http_connectcode = u32::from(self.connect_code());
        let memory = self.memory();
        info.proxyauth_avail = memory.offered().0;
        info.proxyauth_used = memory.used().map_or(0, |m| m.bit().0);
    }

    fn take_memory(&mut self) -> Option<AuthMemory> {
        Some(Tunnel::take_memory(self))
    }
}

// ---- SOCKS ------------------------------------------------------------------

/// A SOCKS failure as handover reports it: 97, the detail, the proxy named.
pub(crate) fn socks_error(e: &SocksError, peer: &str) -> Error {
    Error::new(ErrorKind::Proxy, format!("{e} ({peer})"))
        .with_source(e.clone())
        .with_proxy_failure(ProxyFailure::Socks {
            code: e.code.code(),
        })
}

/// The SOCKS machines' shared engine side: one body, two types.
macro_rules! socks_handshake {
    ($($machine:ident: $name:literal / $remote_name:literal),*) => {$(
        impl Handshake for $machine {
            type App = ();

            fn to_error(&self, e: &SocksError, peer: &str) -> Error {
                socks_error(e, peer)
            }

            fn step(&self, peer: &str) -> String {
                format!("in the SOCKS handshake with {peer} ({})", self.describe())
            }

            // Named as the scheme that asks for it: a name the proxy
            // resolves is socks4a/socks5h on the wire.
            fn name(&self) -> &'static str {
                match self.resolves_remotely() {
                    true => $remote_name,
                    false => $name,
                }
            }

            fn is_proxy(&self) -> bool {
                true
            }

            fn detail(&self) -> String {
                self.describe()
            }

            fn start(&mut self, _peer: &str, log: &Logger) {
                log_info!(log, "{}", self.describe());
            }

            fn report(&self, info: &mut Info) {
                if let Some(e) = self.error() {
                    info.proxy_error = e.code.code();
                }
            }
        }
    )*};
}

socks_handshake!(Socks4: "socks4" / "socks4a", Socks5: "socks5" / "socks5h");

// ---- the PROXY protocol header ------------------------------------------------

impl Handshake for ProxyHeader {
    type App = ();

    fn to_error(&self, e: &ProxyHeaderError, _peer: &str) -> Error {
        Error::new(ErrorKind::BadFunctionArgument, e.to_string())
    }

    fn step(&self, peer: &str) -> String {
        format!("in sending the PROXY protocol header to {peer}")
    }

    fn name(&self) -> &'static str {
        "proxy-protocol"
    }

    fn start(&mut self, _peer: &str, log: &Logger) {
        log_info!(log, "sending the PROXY protocol header: {}", self.line());
    }
}

#[cfg(test)]
mod tests {
    use handover_proto::socks::SocksTarget;
    use handover_proto::tunnel::{Entropy, TunnelConfig};

    use super::*;
    use crate::layer::test_pipe::Pipe;

    fn cx_connect<M: Handshake>(
        layer: &mut HandshakeLayer<M>,
        pipe: &mut Pipe,
    ) -> Result<Progress, Error> {
        let log = Logger::default();
        layer.connect(
            pipe,
            &mut ConnectCx {
                log: &log,
                steps: None,
            },
        )
    }

    /// The SOCKS5 answer and the first tunnel bytes in one read, split at
    /// every offset: the layer finishes and serves those bytes first.
    #[test]
    fn socks5_bytes_after_the_reply_are_the_first_received_at_every_split() {
        let mut answer = vec![5, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90];
        answer.extend_from_slice(b"hello");
        for cut in 0..=answer.len() {
            let (a, b) = answer.split_at(cut);
            let target = SocksTarget::Addr("127.0.0.1:8080".parse().unwrap());
            let machine = Socks5::new(target, None).unwrap();
            let mut layer = HandshakeLayer::new(machine, 0, "proxy test:1080".into());
            // An empty chunk would read as the end of the stream.
            let chunks: Vec<&[u8]> = [a, b].into_iter().filter(|c| !c.is_empty()).collect();
            let mut pipe = Pipe::reading(&chunks);
            let mut progress = cx_connect(&mut layer, &mut pipe).unwrap();
            while progress == Progress::Pending && !pipe.input.is_empty() {
                progress = cx_connect(&mut layer, &mut pipe).unwrap();
            }
            assert_eq!(progress, Progress::Done, "cut {cut}");
            assert_eq!(pipe.out, [5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90]);
            // Held bytes keep the layer in the way until they are read.
            let held = layer.buffered();
            assert_eq!(layer.passes_through(), held == 0, "cut {cut}");
            let mut got = Vec::new();
            while got.len() < 5 {
                let mut buf = [0u8; 16];
                let n = layer.recv(&mut pipe, &mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, b"hello", "cut {cut}");
            assert!(layer.passes_through(), "cut {cut}");
        }
    }

    /// An I/O failure mid-handshake is the machine's own error: 97 with
    /// libcurl's receive detail, not a bare receive error.
    #[test]
    fn a_receive_failure_mid_socks_is_97_with_the_detail() {
        struct Broken;
        impl Io for Broken {
            fn send(&mut self, buf: &[u8]) -> Result<usize, Error> {
                Ok(buf.len())
            }
            fn recv(&mut self, _: &mut [u8]) -> Result<usize, Error> {
                Err(Error::new(
                    ErrorKind::RecvError,
                    "recv from 1.2.3.4:1080 failed: reset",
                ))
            }
        }
        let target = SocksTarget::Addr("127.0.0.1:8080".parse().unwrap());
        let mut layer =
            HandshakeLayer::new(Socks5::new(target, None).unwrap(), 0, "proxy p:1".into());
        let log = Logger::default();
        let err = layer
            .connect(
                &mut Broken,
                &mut ConnectCx {
                    log: &log,
                    steps: None,
                },
            )
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Proxy, "{err}");
        assert_eq!(err.proxy_failure(), Some(&ProxyFailure::Socks { code: 15 }));
        let mut info = Info::default();
        layer.report(&mut info);
        assert_eq!(info.proxy_error, 15, "CURLPX_RECV_CONNECT");
    }

    /// A CONNECT refused with 403: code 7 and the typed detail.
    #[test]
    fn a_refused_connect_carries_its_status() {
        let config = TunnelConfig {
            target_host: "origin.test".into(),
            target_port: 443,
            http10: false,
            user_agent: None,
            headers: Vec::new(),
            credentials: None,
            allowed: handover_proto::auth::AuthMask::NONE,
            proxy_name: "p:3128".into(),
        };
        let entropy = Entropy {
            cnonce: "00".into(),
            ntlm_client_challenge: [0; 8],
            ntlm_timestamp: 0,
        };
        let tunnel = Tunnel::new(config, AuthMemory::default(), entropy).unwrap();
        let mut layer = HandshakeLayer::new(tunnel, 0, "proxy p:3128".into());
        let mut pipe = Pipe::reading(&[b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"]);
        let err = cx_connect(&mut layer, &mut pipe).unwrap_err();
        assert_eq!(err.code(), 7, "{err}");
        assert_eq!(
            err.proxy_failure(),
            Some(&ProxyFailure::ConnectRefused { status: 403 })
        );
        assert!(pipe
            .out
            .starts_with(b"CONNECT origin.test:443 HTTP/1.1\r\n"));
    }
}
