//! TLS as a connection layer: rustls's `ClientConnection` is already a
//! sans-IO machine, so this layer only moves records between it and the
//! pipe below. TLS inside TLS (an HTTPS proxy carrying a TLS target) is two
//! of these stacked.

pub(crate) mod config;
mod identity;
mod problem;
mod server_checks;
mod suites;

use crate::endpoint::Endpoint;
use std::io::{self, Read, Write};
use std::sync::Arc;

use handover_proto::pin::PinSpec;
use handover_proto::x509;
use rustls::pki_types::ServerName;
use rustls::ClientConnection;

use crate::error::{Error, ErrorKind};
use crate::info::Info;
use crate::layer::{ConnectCx, Io, IoAdapter, Layer, Progress};
use crate::sys::Interest;
use crate::verbose::{log_info, Logger};

#[cfg(feature = "tokio")]
pub(crate) use config::cold_configurations;
pub(crate) use config::{Alpn, TlsCache, TlsSetup};
pub(crate) use identity::{ClientIdentity, Source};

/// Plaintext rustls may hold for sending before `send` answers `Again`.
const SEND_BUFFER_LIMIT: usize = 64 * 1024;

/// The certificate-info lines of each certificate of a server's chain,
/// leaf first (`CURLINFO_CERTINFO`).
pub(crate) type CertChainInfo = Arc<Vec<Vec<String>>>;

/// A TLS client session over whatever lies below.
pub(crate) struct TlsLayer {
    conn: ClientConnection,
    host: String,
    peer: Endpoint,
    /// Who the handshake is with, for messages: `localhost:443`, `proxy
    /// proxy.example:443`, `localhost:443 through proxy 10.0.0.1:3128`.
    label: String,
    /// The protocols offered, for verbose output.
    alpn_offers: String,
    /// Where trust comes from, for a verification failure's message.
    trust: Arc<str>,
    pin: Option<Arc<PinSpec>>,
    verify_peer: bool,
    /// Decrypted bytes rustls holds for `recv`.
    plaintext: usize,
    /// The peer sent close_notify, or the pipe below ended: `recv` answers
    /// without the socket.
    closed: bool,
    /// A receive failure, reported (after the data before it) on every
    /// later `recv`.
    recv_failure: Option<Error>,
    /// A failure while pushing records from `recv`, reported by the next `send`.
    send_failure: Option<Error>,
    /// `CURLOPT_CERTINFO` for this session: once the handshake is done,
    /// the lines of each certificate the server sent.
    certinfo: Option<Option<CertChainInfo>>,
    /// The session with the server (not a proxy's): it reports what it
    /// negotiated into the transfer's info.
    target: bool,
    /// The server's leaf certificate, read once (pinning, verbose lines,
    /// the timeline's detail and the expiry all ask for it).
    leaf: std::cell::OnceCell<Option<x509::CertSummary>>,
    /// Plaintext taken by a `send` that answered `Again` because its records
    /// could not all leave; the retry must offer these same bytes first
    /// (libcurl's rule for TLS sends).
    taken: Vec<u8>,
    /// `close_write` queued close_notify.
    close_notify_sent: bool,
    /// For TLS to a proxy: its hop in the route (1 for the first), for the
    /// setup's timeline; 0 for TLS to the server.
    proxy_hop: usize,
}

impl TlsLayer {
    /// Starts a session to `host` (its name, or an IP literal) over a
    /// socket connected to `peer`; `label` says who the handshake is with.
    pub fn new(
        setup: &TlsSetup,
        host: &str,
        peer: Endpoint,
        label: String,
    ) -> Result<TlsLayer, Error> {
        let name = ServerName::try_from(host.to_owned()).map_err(|_| {
            Error::new(
                ErrorKind::SslConnectError,
                format!("'{host}' cannot be used as a TLS server name"),
            )
        })?;
        let mut conn = ClientConnection::new(setup.config.clone(), name).map_err(|e| {
            Error::new(
                ErrorKind::SslConnectError,
                format!("cannot start TLS to {host}: {e}"),
            )
        })?;
        conn.set_buffer_limit(Some(SEND_BUFFER_LIMIT));
        let alpn_offers = if setup.config.alpn_protocols.is_empty() {
            "nothing".to_owned()
        } else {
            setup
                .config
                .alpn_protocols
                .iter()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect::<Vec<_>>()
                .join(",")
        };
        Ok(TlsLayer {
            conn,
            host: host.to_owned(),
            peer,
            label,
            alpn_offers,
            trust: setup.trust.clone(),
            pin: setup.pin.clone(),
            verify_peer: setup.verify_peer,
            plaintext: 0,
            closed: false,
            recv_failure: None,
            send_failure: None,
            certinfo: None,
            target: false,
            leaf: std::cell::OnceCell::new(),
            taken: Vec::new(),
            close_notify_sent: false,
            proxy_hop: 0,
        })
    }

    /// Marks the session with the server (not a proxy's): it reports the
    /// protocol ALPN chose and, with `certinfo`, the server's chain for
    /// `CURLINFO_CERTINFO`.
    pub fn for_target(mut self, certinfo: bool) -> TlsLayer {
        self.target = true;
        self.certinfo = certinfo.then_some(None);
        self
    }

    /// The peer's leaf certificate, summarized on first use.
    fn leaf(&self) -> Option<&x509::CertSummary> {
        self.leaf
            .get_or_init(|| {
                let der = self.conn.peer_certificates()?.first()?;
                x509::summarize(der).ok()
            })
            .as_ref()
    }

    /// Marks the session as TLS to the proxy of route hop `hop` (1-based).
    pub fn for_proxy_hop(mut self, hop: usize) -> TlsLayer {
        self.proxy_hop = hop;
        self
    }

    /// Who the handshake is with, as `host:port`, for the timeline.
    fn peer_name(&self) -> String {
        let label = self.label.strip_prefix("proxy ").unwrap_or(&self.label);
        label.split(" through ").next().unwrap_or(label).to_owned()
    }

    /// The negotiated version and cipher suite, as curl prints them.
    pub fn describe(&self) -> (String, String) {
        let version = match self.conn.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
            Some(v) => format!("{v:?}"),
            None => "unknown".to_owned(),
        };
        let suite = self
            .conn
            .negotiated_cipher_suite()
            .and_then(|s| s.suite().as_str())
            .unwrap_or("unknown");
        // rustls names TLS 1.3 suites "TLS13_…"; curl prints the IANA name.
        let suite = match suite.strip_prefix("TLS13_") {
            Some(rest) => format!("TLS_{rest}"),
            None => suite.to_owned(),
        };
        (version, suite)
    }

    fn handshake_error(&self, err: &rustls::Error) -> Error {
        if let Some(failed) = server_checks::check_failure(err) {
            return Error::new(
                failed.kind,
                format!("{} (server {})", failed.message, self.label),
            )
            .with_source(err.clone());
        }
        let error = match err {
            rustls::Error::InvalidCertificate(why) => Error::new(
                ErrorKind::PeerFailedVerification,
                format!(
                    "SSL certificate problem: {} (server {}, host name {}; trusted: {})",
                    problem::certificate_problem(why),
                    self.label,
                    self.host,
                    self.trust
                ),
            ),
            other if problem::looks_like_plain_text(other) => Error::new(
                ErrorKind::SslConnectError,
                format!(
                    "TLS handshake with {} failed: the server did not answer with TLS \
                     (is it a plain-text port?): {other}",
                    self.label
                ),
            ),
            other => Error::new(
                ErrorKind::SslConnectError,
                format!("TLS handshake with {} failed: {other}", self.label),
            ),
        };
        error.with_source(err.clone())
    }

    /// Writes queued records below; `Again` if some are left.
    fn push_records(&mut self, below: &mut dyn Io) -> Result<(), Error> {
        while self.conn.wants_write() {
            let mut io = IoAdapter::new(below);
            match self.conn.write_tls(&mut io) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(Error::again()),
                Err(e) => {
                    return Err(io.take_failure().unwrap_or_else(|| {
                        Error::from_io(
                            ErrorKind::SendError,
                            format_args!("TLS send to {} failed", self.peer),
                            &e,
                        )
                    }))
                }
            }
        }
        Ok(())
    }

    /// Reads records from below into rustls and decrypts them. `Ok(false)`
    /// means the pipe below reached its end.
    fn pull_records(&mut self, below: &mut dyn Io, kind: ErrorKind) -> Result<bool, Error> {
        let mut io = IoAdapter::new(below);
        let n = match self.conn.read_tls(&mut io) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(Error::again()),
            Err(e) => {
                return Err(io.take_failure().unwrap_or_else(|| {
                    Error::from_io(kind, format_args!("TLS recv from {} failed", self.peer), &e)
                }))
            }
        };
        if n == 0 {
            self.closed = true;
        }
        match self.conn.process_new_packets() {
            Ok(state) => {
                self.plaintext = state.plaintext_bytes_to_read();
                self.closed |= state.peer_has_closed();
                Ok(n > 0)
            }
            Err(err) => {
                // Tell the peer why (the alert rustls queued), best effort.
                let _ = self.push_records(below);
                Err(match kind {
                    ErrorKind::SslConnectError => self.handshake_error(&err),
                    _ => Error::new(kind, format!("TLS error from {}: {err}", self.label)),
                })
            }
        }
    }

    /// Serves decrypted bytes rustls already holds.
    fn read_plaintext(&mut self, buf: &mut [u8]) -> Option<Result<usize, Error>> {
        match self.conn.reader().read(buf) {
            Ok(n) => {
                self.plaintext = self.plaintext.saturating_sub(n);
                Some(Ok(n))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
            // The cause is kept: as an io::Error this is UnexpectedEof, the
            // kind tokio-rustls and rustls' own streams give a truncation.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Some(Err(Error::new(
                ErrorKind::RecvError,
                format!(
                    "TLS connection from {} closed without close_notify",
                    self.label
                ),
            )
            .with_source(e))),
            Err(e) => Some(Err(Error::from_io(
                ErrorKind::RecvError,
                format_args!("TLS recv from {}", self.peer),
                &e,
            ))),
        }
    }

    fn after_handshake(&self, log: &Logger) -> Result<(), Error> {
        if self.pin.is_none() && !log.enabled() {
            return Ok(());
        }
        let summary = self.leaf();
        if let Some(pin) = &self.pin {
            let matched = summary.is_some_and(|s| pin.matches(&s.spki));
            if !matched {
                return Err(Error::new(
                    ErrorKind::SslPinnedPubKeyNotMatch,
                    format!(
                        "SSL: public key of {} does not match the pinned public key",
                        self.label
                    ),
                ));
            }
        }
        if log.enabled() {
            let (version, suite) = self.describe();
            if self.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed) {
                log_info!(log, "SSL reusing session");
            }
            log_info!(log, "SSL connection using {version} / {suite}");
            match self.conn.alpn_protocol() {
                Some(p) => log_info!(log, "ALPN: server accepted {}", String::from_utf8_lossy(p)),
                None => log_info!(
                    log,
                    "ALPN: server did not agree on a protocol. Uses default."
                ),
            }
            if let Some(s) = summary {
                log_info!(log, "Server certificate:");
                log_info!(log, " subject: {}", s.subject);
                log_info!(log, " start date: {}", s.not_before);
                log_info!(log, " expire date: {}", s.not_after);
                log_info!(log, " issuer: {}", s.issuer);
            }
            if self.verify_peer {
                log_info!(log, " SSL certificate verify ok.");
            } else {
                log_info!(
                    log,
                    " SSL certificate verification SKIPPED (verify_peer off)"
                );
            }
            if self.pin.is_some() {
                log_info!(log, " public key hash: matches the pinned key");
            }
        }
        Ok(())
    }
}

impl Layer for TlsLayer {
    fn timeline_entry(&self) -> (&'static str, String, usize) {
        (
            if self.proxy_hop > 0 {
                "tls-proxy"
            } else {
                "tls"
            },
            self.peer_name(),
            self.proxy_hop,
        )
    }

    fn timeline_detail(&self) -> String {
        let (version, suite) = self.describe();
        let alpn = self.conn.alpn_protocol().map_or_else(
            || "no ALPN".to_owned(),
            |p| format!("ALPN {}", String::from_utf8_lossy(p)),
        );
        let expiry = self
            .leaf()
            .map(|leaf| format!(", certificate expires {}", leaf.not_after))
            .unwrap_or_default();
        format!("{version}, {suite}, {alpn}{expiry}")
    }

    fn report(&self, info: &mut Info) {
        if let Some(Some(chain)) = &self.certinfo {
            info.certinfo = Some(Arc::clone(chain));
        }
        // Once per transfer: the layer reports at every step.
        if self.target && info.alpn.is_none() && !self.conn.is_handshaking() {
            info.alpn = self.conn.alpn_protocol().map(<[u8]>::to_vec);
        }
        if self.target && info.tls_session.is_none() && !self.conn.is_handshaking() {
            info.tls_session = Some(self.describe());
        }
        if self.target && info.certificate_expiry.is_none() && !self.conn.is_handshaking() {
            info.certificate_expiry = self.leaf().and_then(|leaf| leaf.not_after_unix);
        }
    }

    fn step(&self) -> String {
        format!(
            "in the TLS handshake with {} (server name {})",
            self.label, self.host
        )
    }

    fn start(&mut self, log: &Logger) {
        log_info!(log, "ALPN: offers {}", self.alpn_offers);
        log_info!(
            log,
            "TLS handshake with {} (server name {})",
            self.label,
            self.host
        );
    }

    fn connect(&mut self, below: &mut dyn Io, cx: &mut ConnectCx<'_>) -> Result<Progress, Error> {
        loop {
            match self.push_records(below) {
                Ok(()) => {}
                Err(e) if e.is_again() => return Ok(Progress::Pending),
                Err(e) => {
                    return Err(Error::new(
                        ErrorKind::SslConnectError,
                        format!("TLS handshake with {} failed: {e}", self.label),
                    )
                    .with_errno(e.os_errno()))
                }
            }
            if !self.conn.is_handshaking() {
                self.after_handshake(cx.log)?;
                if let Some(slot @ None) = &mut self.certinfo {
                    let chain = self.conn.peer_certificates().unwrap_or_default();
                    *slot = Some(Arc::new(
                        chain
                            .iter()
                            .map(|der| handover_proto::certinfo::cert_info(der).unwrap_or_default())
                            .collect(),
                    ));
                }
                return Ok(Progress::Done);
            }
            match self.pull_records(below, ErrorKind::SslConnectError) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(Error::new(
                        ErrorKind::SslConnectError,
                        format!(
                            "TLS handshake with {} failed: connection closed by the server",
                            self.label
                        ),
                    ))
                }
                Err(e) if e.is_again() => return Ok(Progress::Pending),
                Err(e) if e.kind() == ErrorKind::RecvError => {
                    return Err(Error::new(
                        ErrorKind::SslConnectError,
                        format!("TLS handshake with {} failed: {e}", self.label),
                    )
                    .with_errno(e.os_errno()))
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn send(&mut self, below: &mut dyn Io, buf: &[u8]) -> Result<usize, Error> {
        if let Some(e) = self.send_failure.take() {
            return Err(e);
        }
        if !self.taken.is_empty() {
            // The retry after `Again`: the bytes taken then must lead this
            // buffer, or the stream would silently carry other bytes.
            if !buf.starts_with(&self.taken) {
                return Err(Error::new(
                    ErrorKind::BadFunctionArgument,
                    format!(
                        "TLS send to {} after Again must offer the same {} bytes again",
                        self.peer,
                        self.taken.len()
                    ),
                ));
            }
            self.push_records(below)?;
            let n = self.taken.len();
            self.taken.clear();
            return Ok(n);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        self.push_records(below)?;
        let n = self.conn.writer().write(buf).map_err(|e| {
            Error::from_io(
                ErrorKind::SendError,
                format_args!("TLS send to {}", self.peer),
                &e,
            )
        })?;
        if n == 0 {
            return Err(Error::again());
        }
        match self.push_records(below) {
            Ok(()) => Ok(n),
            Err(e) if e.is_again() => {
                // Ok(n) now would let a caller wait for an answer to bytes
                // still queued here; so, as libcurl does, answer Again and
                // report them once they have left.
                self.taken.extend_from_slice(buf.get(..n).unwrap_or(buf));
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    fn recv(&mut self, below: &mut dyn Io, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(result) = self.read_plaintext(buf) {
                if let Err(e) = &result {
                    self.recv_failure = Some(e.clone());
                }
                return result;
            }
            if let Some(e) = &self.recv_failure {
                return Err(e.clone());
            }
            if self.closed {
                // rustls has seen the end and has nothing more: never spin.
                let e = Error::new(
                    ErrorKind::RecvError,
                    format!("TLS connection from {} ended", self.peer),
                );
                self.recv_failure = Some(e.clone());
                return Err(e);
            }
            // Queued records (a key-update reply, a retried send) must not
            // wait for the next send; a failure there belongs to `send`.
            match self.push_records(below) {
                Ok(()) => {}
                Err(e) if e.is_again() => {}
                Err(e) => self.send_failure = Some(e),
            }
            if let Err(e) = self.pull_records(below, ErrorKind::RecvError) {
                if e.is_again() {
                    return Err(e);
                }
                // Records decrypted before the bad one still come first.
                self.recv_failure = Some(e);
            }
        }
    }

    fn flush(&mut self, below: &mut dyn Io) -> Result<(), Error> {
        self.push_records(below)
    }

    fn interest(&self) -> Interest {
        if self.conn.wants_write() {
            Interest::WRITE
        } else if self.conn.is_handshaking() {
            Interest::READ
        } else {
            Interest::NONE
        }
    }

    fn buffered(&self) -> usize {
        self.plaintext
    }

    #[cfg(feature = "tokio")]
    fn owed(&self) -> Option<usize> {
        Some(self.taken.len())
    }

    fn close_write(&mut self) {
        if !self.close_notify_sent {
            self.close_notify_sent = true;
            self.conn.send_close_notify();
        }
    }

    fn ready(&self) -> bool {
        self.plaintext > 0 || self.closed || self.recv_failure.is_some()
    }
}
