//! SOCKS4, SOCKS4a, SOCKS5 and SOCKS5h client handshakes (libcurl's
//! `socks.c`), as sans-IO machines.
//!
//! ```text
//!   SOCKS4/4a:  Request ──> Reply (8 bytes) ──> Done
//!                  └───────────┴──────────────> Failed(code)
//!
//!   SOCKS5:     Greeting ──> Method ──┬──────────────────────────┬──> Request ──> Reply ──> Done
//!                                     └──> Auth ──> AuthReply ───┘
//!                  └───────────┴───────────┴──────────┴──────────────────┴──────────┴──> Failed(code)
//! ```
//!
//! Both machines have the same surface: [`Socks5::transmit`] gives the bytes
//! to write, [`Socks5::sent`] reports how many went out, [`Socks5::receive`]
//! takes what the proxy sent and says how much of it the handshake used.
//! Bytes after the proxy's final reply are never consumed: they are the first
//! bytes of the tunnel and belong to the layer above.
//!
//! Replies may arrive split anywhere. A reply that arrives before our own
//! message has been fully written is held (in a fixed buffer the size of the
//! longest reply) and acted on once [`Socks5::sent`] reports the message gone,
//! so the machine never moves on while request bytes are still unsent.
//! A reply that is already known to be an error (wrong version, refusal,
//! unknown address type) fails the machine as soon as the deciding byte
//! arrives.
//!
//! Errors carry libcurl's `CURLPX_*` detail code ([`ProxyCode`]), the value
//! of `CURLINFO_PROXY_ERROR` when the transfer fails with `CURLE_PROXY` (97).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// The longest message a proxy sends during a handshake: a SOCKS5 reply
/// with a 255-byte domain name (4 + 1 + 255 + 2 bytes).
const MAX_REPLY: usize = 262;

/// The longest user name, password or host name the protocols can carry
/// (SOCKS5 length bytes; libcurl applies the same limit to SOCKS4).
const MAX_FIELD: usize = 255;

/// Where the proxy should connect.
///
/// # Examples
///
/// ```
/// use handover_proto::socks::SocksTarget;
///
/// let local = SocksTarget::Addr("[::1]:8443".parse().unwrap()); // socks4, socks5
/// let remote = SocksTarget::Name { host: "example.com".into(), port: 443 }; // socks4a, socks5h
/// assert_eq!(local.to_string(), "[::1]:8443");
/// assert_eq!(remote.to_string(), "example.com:443");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SocksTarget {
    /// An address resolved by us (`socks4`, `socks5`).
    Addr(SocketAddr),
    /// A name the proxy resolves (`socks4a`, `socks5h`). An IPv6 literal may
    /// come with or without brackets.
    Name {
        /// Host name or address literal.
        host: String,
        /// Port on that host.
        port: u16,
    },
}

impl fmt::Display for SocksTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocksTarget::Addr(addr) => write!(f, "{addr}"),
            SocksTarget::Name { host, port } => f.write_str(&crate::url::authority(host, *port)),
        }
    }
}

/// libcurl's `CURLPX_*` detail codes (`CURLINFO_PROXY_ERROR`), numbered as
/// in `enum CURLproxycode` of curl's `include/curl/curl.h`.
///
/// # Examples
///
/// ```
/// use handover_proto::socks::ProxyCode;
///
/// let code = ProxyCode::ReplyConnectionRefused;
/// assert_eq!(code.name(), "CURLPX_REPLY_CONNECTION_REFUSED");
/// assert_eq!(ProxyCode::ALL[code.code() as usize], code);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProxyCode {
    /// `CURLPX_OK`: no proxy error.
    Ok = 0,
    /// `CURLPX_BAD_ADDRESS_TYPE`: an address type the protocol cannot carry
    /// or the proxy's reply named an unknown one.
    BadAddressType = 1,
    /// `CURLPX_BAD_VERSION`: the proxy answered with the wrong version byte.
    BadVersion = 2,
    /// `CURLPX_CLOSED`: the proxy closed the connection mid-handshake.
    Closed = 3,
    /// `CURLPX_GSSAPI`: GSS-API negotiation failed.
    Gssapi = 4,
    /// `CURLPX_GSSAPI_PERMSG`: the proxy chose GSS-API, which we do not do.
    GssapiPermsg = 5,
    /// `CURLPX_GSSAPI_PROTECTION`: GSS-API protection is not implemented.
    GssapiProtection = 6,
    /// `CURLPX_IDENTD`: SOCKS4 reply 92, the proxy could not reach identd.
    Identd = 7,
    /// `CURLPX_IDENTD_DIFFER`: SOCKS4 reply 93, identd reported another user.
    IdentdDiffer = 8,
    /// `CURLPX_LONG_HOSTNAME`: the host name cannot be sent (too long).
    LongHostname = 9,
    /// `CURLPX_LONG_PASSWD`: the password cannot be sent (too long).
    LongPasswd = 10,
    /// `CURLPX_LONG_USER`: the user name cannot be sent (too long or NUL).
    LongUser = 11,
    /// `CURLPX_NO_AUTH`: the proxy accepted none of the offered methods.
    NoAuth = 12,
    /// `CURLPX_RECV_ADDRESS`: reading the bound address failed.
    RecvAddress = 13,
    /// `CURLPX_RECV_AUTH`: reading the authentication reply failed.
    RecvAuth = 14,
    /// `CURLPX_RECV_CONNECT`: reading the first reply failed.
    RecvConnect = 15,
    /// `CURLPX_RECV_REQACK`: reading the SOCKS5 connect reply failed.
    RecvReqack = 16,
    /// `CURLPX_REPLY_ADDRESS_TYPE_NOT_SUPPORTED`: SOCKS5 reply 8.
    ReplyAddressTypeNotSupported = 17,
    /// `CURLPX_REPLY_COMMAND_NOT_SUPPORTED`: SOCKS5 reply 7.
    ReplyCommandNotSupported = 18,
    /// `CURLPX_REPLY_CONNECTION_REFUSED`: SOCKS5 reply 5.
    ReplyConnectionRefused = 19,
    /// `CURLPX_REPLY_GENERAL_SERVER_FAILURE`: SOCKS5 reply 1.
    ReplyGeneralServerFailure = 20,
    /// `CURLPX_REPLY_HOST_UNREACHABLE`: SOCKS5 reply 4.
    ReplyHostUnreachable = 21,
    /// `CURLPX_REPLY_NETWORK_UNREACHABLE`: SOCKS5 reply 3.
    ReplyNetworkUnreachable = 22,
    /// `CURLPX_REPLY_NOT_ALLOWED`: SOCKS5 reply 2.
    ReplyNotAllowed = 23,
    /// `CURLPX_REPLY_TTL_EXPIRED`: SOCKS5 reply 6.
    ReplyTtlExpired = 24,
    /// `CURLPX_REPLY_UNASSIGNED`: a SOCKS5 reply code RFC 1928 does not define.
    ReplyUnassigned = 25,
    /// `CURLPX_REQUEST_FAILED`: SOCKS4 reply 91, request rejected or failed.
    RequestFailed = 26,
    /// `CURLPX_RESOLVE_HOST`: the target must be (and was not) an address.
    ResolveHost = 27,
    /// `CURLPX_SEND_AUTH`: writing the authentication request failed.
    SendAuth = 28,
    /// `CURLPX_SEND_CONNECT`: writing the first message failed.
    SendConnect = 29,
    /// `CURLPX_SEND_REQUEST`: writing the SOCKS5 connect request failed.
    SendRequest = 30,
    /// `CURLPX_UNKNOWN_FAIL`: a SOCKS4 reply code with no meaning.
    UnknownFail = 31,
    /// `CURLPX_UNKNOWN_MODE`: the proxy chose a method we did not offer.
    UnknownMode = 32,
    /// `CURLPX_USER_REJECTED`: the proxy rejected the user name/password.
    UserRejected = 33,
}

impl ProxyCode {
    /// Every code, in numeric order.
    pub const ALL: [ProxyCode; 34] = [
        ProxyCode::Ok,
        ProxyCode::BadAddressType,
        ProxyCode::BadVersion,
        ProxyCode::Closed,
        ProxyCode::Gssapi,
        ProxyCode::GssapiPermsg,
        ProxyCode::GssapiProtection,
        ProxyCode::Identd,
        ProxyCode::IdentdDiffer,
        ProxyCode::LongHostname,
        ProxyCode::LongPasswd,
        ProxyCode::LongUser,
        ProxyCode::NoAuth,
        ProxyCode::RecvAddress,
        ProxyCode::RecvAuth,
        ProxyCode::RecvConnect,
        ProxyCode::RecvReqack,
        ProxyCode::ReplyAddressTypeNotSupported,
        ProxyCode::ReplyCommandNotSupported,
        ProxyCode::ReplyConnectionRefused,
        ProxyCode::ReplyGeneralServerFailure,
        ProxyCode::ReplyHostUnreachable,
        ProxyCode::ReplyNetworkUnreachable,
        ProxyCode::ReplyNotAllowed,
        ProxyCode::ReplyTtlExpired,
        ProxyCode::ReplyUnassigned,
        ProxyCode::RequestFailed,
        ProxyCode::ResolveHost,
        ProxyCode::SendAuth,
        ProxyCode::SendConnect,
        ProxyCode::SendRequest,
        ProxyCode::UnknownFail,
        ProxyCode::UnknownMode,
        ProxyCode::UserRejected,
    ];

    /// libcurl's number for the code.
    pub fn code(self) -> u32 {
        self as u32
    }

    /// libcurl's name for the code, e.g. `CURLPX_REPLY_CONNECTION_REFUSED`.
    pub fn name(self) -> &'static str {
        match self {
            ProxyCode::Ok => "CURLPX_OK",
            ProxyCode::BadAddressType => "CURLPX_BAD_ADDRESS_TYPE",
            ProxyCode::BadVersion => "CURLPX_BAD_VERSION",
            ProxyCode::Closed => "CURLPX_CLOSED",
            ProxyCode::Gssapi => "CURLPX_GSSAPI",
            ProxyCode::GssapiPermsg => "CURLPX_GSSAPI_PERMSG",
            ProxyCode::GssapiProtection => "CURLPX_GSSAPI_PROTECTION",
            ProxyCode::Identd => "CURLPX_IDENTD",
            ProxyCode::IdentdDiffer => "CURLPX_IDENTD_DIFFER",
            ProxyCode::LongHostname => "CURLPX_LONG_HOSTNAME",
            ProxyCode::LongPasswd => "CURLPX_LONG_PASSWD",
            ProxyCode::LongUser => "CURLPX_LONG_USER",
            ProxyCode::NoAuth => "CURLPX_NO_AUTH",
            ProxyCode::RecvAddress => "CURLPX_RECV_ADDRESS",
            ProxyCode::RecvAuth => "CURLPX_RECV_AUTH",
            ProxyCode::RecvConnect => "CURLPX_RECV_CONNECT",
            ProxyCode::RecvReqack => "CURLPX_RECV_REQACK",
            ProxyCode::ReplyAddressTypeNotSupported => "CURLPX_REPLY_ADDRESS_TYPE_NOT_SUPPORTED",
            ProxyCode::ReplyCommandNotSupported => "CURLPX_REPLY_COMMAND_NOT_SUPPORTED",
            ProxyCode::ReplyConnectionRefused => "CURLPX_REPLY_CONNECTION_REFUSED",
            ProxyCode::ReplyGeneralServerFailure => "CURLPX_REPLY_GENERAL_SERVER_FAILURE",
            ProxyCode::ReplyHostUnreachable => "CURLPX_REPLY_HOST_UNREACHABLE",
            ProxyCode::ReplyNetworkUnreachable => "CURLPX_REPLY_NETWORK_UNREACHABLE",
            ProxyCode::ReplyNotAllowed => "CURLPX_REPLY_NOT_ALLOWED",
            ProxyCode::ReplyTtlExpired => "CURLPX_REPLY_TTL_EXPIRED",
            ProxyCode::ReplyUnassigned => "CURLPX_REPLY_UNASSIGNED",
            ProxyCode::RequestFailed => "CURLPX_REQUEST_FAILED",
            ProxyCode::ResolveHost => "CURLPX_RESOLVE_HOST",
            ProxyCode::SendAuth => "CURLPX_SEND_AUTH",
            ProxyCode::SendConnect => "CURLPX_SEND_CONNECT",
            ProxyCode::SendRequest => "CURLPX_SEND_REQUEST",
            ProxyCode::UnknownFail => "CURLPX_UNKNOWN_FAIL",
            ProxyCode::UnknownMode => "CURLPX_UNKNOWN_MODE",
            ProxyCode::UserRejected => "CURLPX_USER_REJECTED",
        }
    }
}

/// A failed SOCKS handshake: libcurl's detail code and what failed.
///
/// # Examples
///
/// ```
/// use handover_proto::machine::Machine;
/// use handover_proto::socks::{ProxyCode, Socks4, SocksTarget, Status};
///
/// let target = SocksTarget::Addr("192.0.2.7:80".parse().unwrap());
/// let mut socks = Socks4::new(target, "", false)?;
/// let n = socks.transmit().len();
/// socks.sent(n);
/// let error = socks.receive(&[0, 91, 0, 0, 0, 0, 0, 0]).unwrap_err(); // "rejected"
/// assert_eq!(error.code, ProxyCode::RequestFailed);
/// assert_eq!(socks.status(), Status::Failed);
/// println!("{error}"); // names the destination
/// # Ok::<(), handover_proto::socks::SocksError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocksError {
    /// The `CURLPX_*` code.
    pub code: ProxyCode,
    /// What failed, naming the destination, e.g. `SOCKS5 connect to
    /// [::1]:8443 failed: connection refused by destination host (reply
    /// 0x05)`. Never contains credentials.
    pub message: String,
}

impl SocksError {
    fn new(code: ProxyCode, message: impl Into<String>) -> Self {
        SocksError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for SocksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SocksError {}

use crate::machine::Machine;
pub use crate::machine::{Direction, Status};

/// The bytes one machine still has to write.
struct Outgoing {
    buf: Vec<u8>,
    pos: usize,
}

// Not derived: the message may be the RFC 1929 request, password included.
impl fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outgoing")
            .field("len", &self.buf.len())
            .field("pos", &self.pos)
            .finish()
    }
}

impl Outgoing {
    fn new(buf: Vec<u8>) -> Self {
        Outgoing { buf, pos: 0 }
    }

    fn pending(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    fn advance(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.buf.len());
    }

    fn is_drained(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn replace(&mut self, buf: Vec<u8>) {
        self.buf = buf;
        self.pos = 0;
    }
}

/// The reply being read, in a fixed buffer: a hostile proxy cannot make
/// the machine allocate.
struct Incoming {
    buf: [u8; MAX_REPLY],
    len: usize,
}

impl fmt::Debug for Incoming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Incoming").field(&self.bytes()).finish()
    }
}

impl Incoming {
    fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// Takes bytes from `input` until `target` are held; returns how many.
    fn fill_to(&mut self, target: usize, input: &[u8]) -> usize {
        let want = target
            .min(MAX_REPLY)
            .saturating_sub(self.len)
            .min(input.len());
        match (
            self.buf.get_mut(self.len..self.len + want),
            input.get(..want),
        ) {
            (Some(dst), Some(src)) => {
                dst.copy_from_slice(src);
                self.len += want;
                want
            }
            _ => 0,
        }
    }
}

/// What a complete reply leads to.
enum Next {
    /// Write this message, then read the next reply.
    Send(Vec<u8>),
    /// The handshake is complete.
    Done,
}

/// The protocol-specific half of a machine; [`Exchange`] moves the bytes.
trait Steps {
    /// "SOCKS4", "SOCKS4a" or "SOCKS5", for messages.
    fn protocol(&self) -> &'static str;

    /// The message being written or awaited, for messages.
    fn stage(&self, direction: Direction) -> &'static str;

    /// The `CURLPX_*` code libcurl reports when I/O fails at this stage,
    /// `held` reply bytes in.
    fn io_code(&self, direction: Direction, held: usize) -> ProxyCode;

    /// The length of the reply being read, judged from its first bytes
    /// (`head`); while those do not tell yet, the length of the prefix that
    /// will. Fails as soon as `head` shows the reply is an error.
    fn reply_len(&self, head: &[u8]) -> Result<usize, SocksError>;

    /// Acts on a complete reply.
    fn complete(&mut self, reply: &[u8]) -> Result<Next, SocksError>;
}

#[derive(Debug)]
enum Progress {
    Running,
    Done,
    Failed(SocksError),
}

/// The byte-moving half shared by both machines.
#[derive(Debug)]
struct Exchange {
    out: Outgoing,
    reply: Incoming,
    progress: Progress,
}

impl Exchange {
    fn new(first: Vec<u8>) -> Self {
        Exchange {
            out: Outgoing::new(first),
            reply: Incoming {
                buf: [0; MAX_REPLY],
                len: 0,
            },
            progress: Progress::Running,
        }
    }

    fn transmit(&self) -> &[u8] {
        match self.progress {
            Progress::Running => self.out.pending(),
            Progress::Done | Progress::Failed(_) => &[],
        }
    }

    fn sent(&mut self, steps: &mut impl Steps, n: usize) {
        if !matches!(self.progress, Progress::Running) {
            return;
        }
        self.out.advance(n);
        if self.out.is_drained() {
            // A reply held while our message was going out can be acted on now;
            // an error it causes is kept for status() and the next receive().
            let _ = self.receive(steps, &[]);
        }
    }

    fn receive(&mut self, steps: &mut impl Steps, input: &[u8]) -> Result<usize, SocksError> {
        match &self.progress {
            Progress::Failed(e) => return Err(e.clone()),
            Progress::Done => return Ok(0),
            Progress::Running => {}
        }
        self.pump(steps, input).map_err(|e| self.fail(e))
    }

    fn pump(&mut self, steps: &mut impl Steps, input: &[u8]) -> Result<usize, SocksError> {
        let mut consumed = 0;
        loop {
            let target = steps.reply_len(self.reply.bytes())?;
            if target > MAX_REPLY {
                return Err(SocksError::new(
                    ProxyCode::UnknownFail,
                    format!("{} reply longer than {MAX_REPLY} bytes", steps.protocol()),
                ));
            }
            if self.reply.len < target {
                let rest = input.get(consumed..).unwrap_or_default();
                let taken = self.reply.fill_to(target, rest);
                if taken == 0 {
                    return Ok(consumed);
                }
                consumed += taken;
                // The new bytes may show an error or a longer length (SOCKS5 ATYP).
                continue;
            }
            if !self.out.is_drained() {
                return Ok(consumed);
            }
            let next = steps.complete(self.reply.bytes())?;
            self.reply.len = 0;
            match next {
                Next::Send(message) => self.out.replace(message),
                Next::Done => {
                    self.progress = Progress::Done;
                    return Ok(consumed);
                }
            }
        }
    }

    fn fail(&mut self, error: SocksError) -> SocksError {
        self.progress = Progress::Failed(error.clone());
        error
    }

    fn peer_closed(&mut self, steps: &impl Steps) {
        if !matches!(self.progress, Progress::Running) {
            return;
        }
        let message = if self.out.is_drained() {
            format!(
                "{} proxy closed the connection before sending the complete {}",
                steps.protocol(),
                steps.stage(Direction::Receive)
            )
        } else {
            format!(
                "{} proxy closed the connection while the {} was being sent",
                steps.protocol(),
                steps.stage(Direction::Send)
            )
        };
        self.fail(SocksError::new(ProxyCode::Closed, message));
    }

    fn io_failed(
        &mut self,
        steps: &impl Steps,
        direction: Direction,
        detail: &dyn fmt::Display,
    ) -> SocksError {
        if let Progress::Failed(e) = &self.progress {
            return e.clone();
        }
        let verb = match direction {
            Direction::Send => "sending",
            Direction::Receive => "receiving",
        };
        let error = SocksError::new(
            steps.io_code(direction, self.reply.len),
            format!(
                "{}: failed {verb} the {}: {detail}",
                steps.protocol(),
                steps.stage(direction)
            ),
        );
        self.fail(error)
    }

    fn status(&self) -> Status {
        match self.progress {
            Progress::Running => Status::Pending,
            Progress::Done => Status::Done,
            Progress::Failed(_) => Status::Failed,
        }
    }

    fn error(&self) -> Option<&SocksError> {
        match &self.progress {
            Progress::Failed(e) => Some(e),
            Progress::Running | Progress::Done => None,
        }
    }

    fn wants_read(&self) -> bool {
        matches!(self.progress, Progress::Running) && self.out.is_drained()
    }
}

/// An IP literal in a host string (an IPv6 one with or without brackets).
fn ip_literal(host: &str) -> Option<IpAddr> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

/// Rejects a host name no proxy can be asked to resolve.
fn check_host_name(protocol: &str, host: &str) -> Result<(), SocksError> {
    if host.is_empty() {
        return Err(SocksError::new(
            ProxyCode::ResolveHost,
            format!("{protocol}: empty host name"),
        ));
    }
    if host.contains('\0') {
        return Err(SocksError::new(
            ProxyCode::ResolveHost,
            format!("{protocol}: host name contains a NUL byte"),
        ));
    }
    if host.len() > MAX_FIELD {
        return Err(SocksError::new(
            ProxyCode::LongHostname,
            format!(
                "{protocol}: host name is {} bytes, at most {MAX_FIELD} can be sent",
                host.len()
            ),
        ));
    }
    Ok(())
}

fn resolution(target: &SocksTarget) -> &'static str {
    match target {
        SocksTarget::Addr(_) => "locally resolved",
        _ if names_a_host(target) => "remotely resolved",
        _ => "an address, nothing to resolve",
    }
}

/// Whether `target` goes to the proxy as a name for it to resolve: an IP
/// literal in a name goes as the address it is, as curl sends it.
fn names_a_host(target: &SocksTarget) -> bool {
    match target {
        SocksTarget::Addr(_) => false,
        SocksTarget::Name { host, .. } => ip_literal(host).is_none(),
    }
}

/// The byte-moving surface both SOCKS machines share: the one
/// [`Machine`] implementation, stamped onto each (the protocol differences
/// live in their `Steps`).
macro_rules! exchange_surface {
    ($machine:ident) => {
        impl Machine for $machine {
            type Error = SocksError;

            fn transmit(&self) -> &[u8] {
                self.exchange.transmit()
            }

            fn sent(&mut self, n: usize) {
                self.exchange.sent(&mut self.steps, n);
            }

            /// Only the handshake's replies are consumed, the last one
            /// exactly to its end: what follows is the tunnel's.
            fn receive(&mut self, input: &[u8]) -> Result<usize, SocksError> {
                self.exchange.receive(&mut self.steps, input)
            }

            /// Fails the handshake with [`ProxyCode::Closed`] unless it is
            /// already over.
            fn peer_closed(&mut self) {
                self.exchange.peer_closed(&self.steps);
            }

            /// Fails the handshake with the code libcurl reports for that
            /// step (`CURLPX_SEND_*` or `CURLPX_RECV_*`).
            fn io_failed(
                &mut self,
                direction: Direction,
                detail: &dyn fmt::Display,
            ) -> Option<SocksError> {
                Some(self.exchange.io_failed(&self.steps, direction, detail))
            }

            fn status(&self) -> Status {
                self.exchange.status()
            }

            fn wants_read(&self) -> bool {
                self.exchange.wants_read()
            }

            fn error(&self) -> Option<&SocksError> {
                self.exchange.error()
            }
        }
    };
}

exchange_surface!(Socks4);
exchange_surface!(Socks5);

/// A SOCKS4 or SOCKS4a client handshake.
///
/// SOCKS4 carries an IPv4 address; SOCKS4a carries a host name after the
/// user id and the marker address `0.0.0.1`. The identd protocol (RFC 1413)
/// is not spoken: the user id is sent as given.
///
/// # Examples
///
/// ```
/// use handover_proto::machine::Machine;
/// use handover_proto::socks::{Socks4, SocksTarget, Status};
///
/// let target = SocksTarget::Addr("192.0.2.7:80".parse().unwrap());
/// let mut socks = Socks4::new(target, "alice", false)?;
/// // VN CD DSTPORT DSTIP USERID NUL
/// assert_eq!(socks.transmit(), b"\x04\x01\x00\x50\xc0\x00\x02\x07alice\x00");
/// let n = socks.transmit().len();
/// socks.sent(n);
/// assert_eq!(socks.receive(&[0, 90, 0, 0, 0, 0, 0, 0])?, 8); // 90: granted
/// assert_eq!(socks.status(), Status::Done);
/// # Ok::<(), handover_proto::socks::SocksError>(())
/// ```
#[derive(Debug)]
pub struct Socks4 {
    exchange: Exchange,
    steps: Socks4Steps,
}

#[derive(Debug)]
struct Socks4Steps {
    protocol: &'static str,
    target: SocksTarget,
    bound: Option<SocketAddr>,
}

impl Socks4 {
    /// A handshake asking the proxy to connect to `target`, sending
    /// `user_id` (libcurl sends the proxy user name, or nothing).
    ///
    /// A [`SocksTarget::Name`] needs `allow_4a` (SOCKS4a), except an IPv4
    /// literal, which plain SOCKS4 sends as an address; without it the error
    /// is [`ProxyCode::ResolveHost`]: resolve the name first. An IPv6 target
    /// is [`ProxyCode::BadAddressType`]. A user id or host name longer than
    /// 255 bytes is [`ProxyCode::LongUser`] / [`ProxyCode::LongHostname`];
    /// a NUL byte, which would end the field early, is rejected the same way
    /// for the user id and as [`ProxyCode::ResolveHost`] for the host.
    pub fn new(target: SocksTarget, user_id: &str, allow_4a: bool) -> Result<Socks4, SocksError> {
        let protocol = match (&target, allow_4a) {
            (SocksTarget::Name { .. }, true) => "SOCKS4a",
            _ => "SOCKS4",
        };
        if user_id.len() > MAX_FIELD {
            return Err(SocksError::new(
                ProxyCode::LongUser,
                format!(
                    "{protocol}: user id is {} bytes, at most {MAX_FIELD} can be sent",
                    user_id.len()
                ),
            ));
        }
        if user_id.contains('\0') {
            return Err(SocksError::new(
                ProxyCode::LongUser,
                format!("{protocol}: user id contains a NUL byte"),
            ));
        }
        let (port, ip, name) = match &target {
            SocksTarget::Addr(SocketAddr::V4(v4)) => (v4.port(), *v4.ip(), None),
            SocksTarget::Addr(SocketAddr::V6(_)) => return Err(no_ipv6(&target)),
            SocksTarget::Name { host, port } if allow_4a => {
                check_host_name(protocol, host)?;
                (*port, Ipv4Addr::new(0, 0, 0, 1), Some(host.as_str()))
            }
            SocksTarget::Name { host, port } => match ip_literal(host) {
                // Needs no resolving; described as the address it is.
                Some(IpAddr::V4(ip)) => {
                    let addr = SocketAddr::V4(SocketAddrV4::new(ip, *port));
                    return Socks4::new(SocksTarget::Addr(addr), user_id, false);
                }
                Some(IpAddr::V6(_)) => return Err(no_ipv6(&target)),
                None => {
                    return Err(SocksError::new(
                        ProxyCode::ResolveHost,
                        format!(
                            "SOCKS4 cannot send the host name {host:?}: resolve it \
                             to an IPv4 address first or use SOCKS4a"
                        ),
                    ))
                }
            },
        };
        let mut request = Vec::with_capacity(9 + user_id.len() + name.map_or(0, |n| n.len() + 1));
        request.extend_from_slice(&[4, 1]);
        request.extend_from_slice(&port.to_be_bytes());
        request.extend_from_slice(&ip.octets());
        request.extend_from_slice(user_id.as_bytes());
        request.push(0);
        if let Some(name) = name {
            request.extend_from_slice(name.as_bytes());
            request.push(0);
        }
        Ok(Socks4 {
            exchange: Exchange::new(request),
            steps: Socks4Steps {
                protocol,
                target,
                bound: None,
            },
        })
    }

    /// The address and port in the proxy's reply, once done (often
    /// `0.0.0.0:0`: SOCKS4 proxies need not fill them in).
    pub fn bound(&self) -> Option<SocketAddr> {
        self.steps.bound
    }

    /// Whether the proxy is given a name to resolve (SOCKS4a).
    pub fn resolves_remotely(&self) -> bool {
        names_a_host(&self.steps.target)
    }

    /// What the handshake asks for, for verbose output, e.g.
    /// `SOCKS4 connect to 192.0.2.7:80 (locally resolved)`.
    pub fn describe(&self) -> String {
        let target = &self.steps.target;
        format!(
            "{} connect to {target} ({})",
            self.steps.protocol,
            resolution(target)
        )
    }
}

fn no_ipv6(target: &SocksTarget) -> SocksError {
    SocksError::new(
        ProxyCode::BadAddressType,
        format!("SOCKS4 cannot connect to the IPv6 address {target}: use SOCKS5"),
    )
}

impl Steps for Socks4Steps {
    fn protocol(&self) -> &'static str {
        self.protocol
    }

    fn stage(&self, direction: Direction) -> &'static str {
        match direction {
            Direction::Send => "connect request",
            Direction::Receive => "connect reply",
        }
    }

    fn io_code(&self, direction: Direction, _held: usize) -> ProxyCode {
        match direction {
            Direction::Send => ProxyCode::SendConnect,
            Direction::Receive => ProxyCode::RecvConnect,
        }
    }

    fn reply_len(&self, head: &[u8]) -> Result<usize, SocksError> {
        // libcurl accepts only version 0, though some servers answer 4.
        if let Some(&version) = head.first() {
            if version != 0 {
                return Err(SocksError::new(
                    ProxyCode::BadVersion,
                    format!(
                        "{} reply has version 0x{version:02x}, expected 0x00",
                        self.protocol
                    ),
                ));
            }
        }
        if let Some(&code) = head.get(1) {
            let (proxy_code, why) = match code {
                0x5a => return Ok(8),
                0x5b => (ProxyCode::RequestFailed, "request rejected or failed"),
                0x5c => (
                    ProxyCode::Identd,
                    "request rejected because the SOCKS server cannot connect to identd on the client",
                ),
                0x5d => (
                    ProxyCode::IdentdDiffer,
                    "request rejected because the client program and identd report different user ids",
                ),
                _ => (ProxyCode::UnknownFail, "unknown reply code"),
            };
            return Err(SocksError::new(
                proxy_code,
                format!(
                    "{} connect to {} failed: {why} (reply 0x{code:02x})",
                    self.protocol, self.target
                ),
            ));
        }
        Ok(8)
    }

    fn complete(&mut self, reply: &[u8]) -> Result<Next, SocksError> {
        if let [_, _, p0, p1, a, b, c, d] = *reply {
            let addr = SocketAddrV4::new(Ipv4Addr::new(a, b, c, d), u16::from_be_bytes([p0, p1]));
            self.bound = Some(SocketAddr::V4(addr));
        }
        Ok(Next::Done)
    }
}

/// A SOCKS5 client handshake (RFC 1928) with optional username/password
/// authentication (RFC 1929).
///
/// The greeting offers "no authentication" (0x00), plus username/password
/// (0x02) when credentials are given; GSS-API (0x01) is never offered.
/// The proxy may pick no authentication even when credentials were given.
/// A method we did not offer fails the handshake with libcurl's codes:
/// GSS-API is [`ProxyCode::GssapiPermsg`] (what a libcurl built without
/// GSS-API reports), username/password without credentials and anything
/// else is [`ProxyCode::UnknownMode`] (libcurl would send an empty
/// username/password there, which RFC 1929 does not allow), 0xFF is
/// [`ProxyCode::NoAuth`].
///
/// # Examples
///
/// A whole handshake, the proxy resolving the name (socks5h):
///
/// ```
/// use handover_proto::machine::Machine;
/// use handover_proto::socks::{Socks5, SocksTarget, Status};
///
/// let target = SocksTarget::Name { host: "example.com".into(), port: 443 };
/// let mut socks = Socks5::new(target, None)?;
/// assert_eq!(socks.transmit(), [5, 1, 0]); // greeting: "no authentication"
/// socks.sent(3);
/// assert_eq!(socks.receive(&[5, 0])?, 2); // the proxy agrees
///
/// // The connect request: VER CMD RSV ATYP=3, the name, the port.
/// assert_eq!(socks.transmit(), b"\x05\x01\x00\x03\x0bexample.com\x01\xbb");
/// let n = socks.transmit().len();
/// socks.sent(n);
///
/// // The reply (bound address 10.0.0.1:8080), then the tunnel's first bytes.
/// let input = b"\x05\x00\x00\x01\x0a\x00\x00\x01\x1f\x90hello";
/// assert_eq!(socks.receive(input)?, 10); // "hello" is left for the layer above
/// assert_eq!(socks.status(), Status::Done);
/// assert_eq!(socks.bound(), Some("10.0.0.1:8080".parse().unwrap()));
/// # Ok::<(), handover_proto::socks::SocksError>(())
/// ```
#[derive(Debug)]
pub struct Socks5 {
    exchange: Exchange,
    steps: Socks5Steps,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Method,
    Auth,
    Reply,
}

struct Socks5Steps {
    phase: Phase,
    target: SocksTarget,
    /// The RFC 1929 request, while it may still be needed.
    auth: Option<Vec<u8>>,
    /// The connect request, until it is handed to the writer.
    request: Vec<u8>,
    bound: Option<SocketAddr>,
}

// Not derived: `auth` holds the password.
impl fmt::Debug for Socks5Steps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socks5Steps")
            .field("phase", &self.phase)
            .field("target", &self.target)
            .field("auth", &self.auth.as_ref().map(|_| "<redacted>"))
            .field("bound", &self.bound)
            .finish_non_exhaustive()
    }
}

impl Socks5 {
    /// Checks that `user` and `password` fit the username/password
    /// request (RFC 1929: at most 255 bytes each), without building a
    /// handshake: what [`Socks5::new`] refuses them for. A caller checks
    /// before resolving the target itself, as libcurl reaches the proxy's
    /// authentication (`CURLE_PROXY`, 97) before it looks the name up.
    pub fn check_credentials(user: &str, password: &str) -> Result<(), SocksError> {
        auth_request(user, password).map(|_| ())
    }

    /// A handshake asking the proxy to connect to `target`, offering
    /// username/password authentication with `credentials`.
    ///
    /// An address is sent as ATYP 1 (IPv4) or 4 (IPv6); a name as ATYP 3
    /// (socks5h), except an IP literal, which is sent as an address as
    /// libcurl does. A user name, password or host name longer than 255
    /// bytes is [`ProxyCode::LongUser`], [`ProxyCode::LongPasswd`] or
    /// [`ProxyCode::LongHostname`]; an empty host name or one containing
    /// NUL is [`ProxyCode::ResolveHost`].
    pub fn new(
        target: SocksTarget,
        credentials: Option<(&str, &str)>,
    ) -> Result<Socks5, SocksError> {
        let auth = match credentials {
            None => None,
            Some((user, password)) => Some(auth_request(user, password)?),
        };
        let request = connect_request(&target)?;
        let greeting = if auth.is_some() {
            vec![5, 2, 0, 2]
        } else {
            vec![5, 1, 0]
        };
        Ok(Socks5 {
            exchange: Exchange::new(greeting),
            steps: Socks5Steps {
                phase: Phase::Method,
                target,
                auth,
                request,
                bound: None,
            },
        })
    }

    /// Whether the proxy is given a name to resolve (socks5h).
    pub fn resolves_remotely(&self) -> bool {
        names_a_host(&self.steps.target)
    }

    /// The address and port in the proxy's reply, once done; `None` when
    /// the proxy named a host instead (ATYP 3).
    pub fn bound(&self) -> Option<SocketAddr> {
        self.steps.bound
    }

    /// What the handshake asks for, for verbose output, e.g.
    /// `SOCKS5 connect to example.com:443 (remotely resolved)`.
    pub fn describe(&self) -> String {
        let target = &self.steps.target;
        format!("SOCKS5 connect to {target} ({})", resolution(target))
    }
}

/// The RFC 1929 username/password request.
fn auth_request(user: &str, password: &str) -> Result<Vec<u8>, SocksError> {
    let user_len = u8::try_from(user.len()).map_err(|_| {
        SocksError::new(
            ProxyCode::LongUser,
            format!(
                "SOCKS5: user name is {} bytes, at most {MAX_FIELD} can be sent",
                user.len()
            ),
        )
    })?;
    let password_len = u8::try_from(password.len()).map_err(|_| {
        SocksError::new(
            ProxyCode::LongPasswd,
            format!(
                "SOCKS5: password is {} bytes, at most {MAX_FIELD} can be sent",
                password.len()
            ),
        )
    })?;
    let mut message = Vec::with_capacity(3 + user.len() + password.len());
    message.push(1);
    message.push(user_len);
    message.extend_from_slice(user.as_bytes());
    message.push(password_len);
    message.extend_from_slice(password.as_bytes());
    Ok(message)
}

/// The RFC 1928 CONNECT request.
fn connect_request(target: &SocksTarget) -> Result<Vec<u8>, SocksError> {
    let mut request = Vec::with_capacity(MAX_REPLY);
    request.extend_from_slice(&[5, 1, 0]);
    let (ip, port) = match target {
        SocksTarget::Addr(addr) => (addr.ip(), addr.port()),
        SocksTarget::Name { host, port } => match ip_literal(host) {
            Some(ip) => (ip, *port),
            None => {
                check_host_name("SOCKS5", host)?;
                let len = u8::try_from(host.len()).map_err(|_| {
                    SocksError::new(ProxyCode::LongHostname, "SOCKS5: host name too long")
                })?;
                request.extend_from_slice(&[3, len]);
                request.extend_from_slice(host.as_bytes());
                request.extend_from_slice(&port.to_be_bytes());
                return Ok(request);
            }
        },
    };
    match ip {
        IpAddr::V4(v4) => {
            request.push(1);
            request.extend_from_slice(&v4.octets());
        }
        IpAddr::V6(v6) => {
            request.push(4);
            request.extend_from_slice(&v6.octets());
        }
    }
    request.extend_from_slice(&port.to_be_bytes());
    Ok(request)
}

/// RFC 1928 section 6 reply codes, with libcurl's detail codes.
fn reply_failure(code: u8) -> (ProxyCode, &'static str) {
    match code {
        1 => (
            ProxyCode::ReplyGeneralServerFailure,
            "general SOCKS server failure",
        ),
        2 => (
            ProxyCode::ReplyNotAllowed,
            "connection not allowed by ruleset",
        ),
        3 => (ProxyCode::ReplyNetworkUnreachable, "network unreachable"),
        4 => (ProxyCode::ReplyHostUnreachable, "host unreachable"),
        5 => (
            ProxyCode::ReplyConnectionRefused,
            "connection refused by destination host",
        ),
        6 => (ProxyCode::ReplyTtlExpired, "TTL expired"),
        7 => (ProxyCode::ReplyCommandNotSupported, "command not supported"),
        8 => (
            ProxyCode::ReplyAddressTypeNotSupported,
            "address type not supported",
        ),
        _ => (ProxyCode::ReplyUnassigned, "unassigned reply code"),
    }
}

impl Socks5Steps {
    fn check_version(&self, head: &[u8]) -> Result<(), SocksError> {
        match head.first() {
            Some(&version) if version != 5 => Err(SocksError::new(
                ProxyCode::BadVersion,
                format!(
                    "SOCKS5 {} has version 0x{version:02x}, expected 0x05",
                    self.stage(Direction::Receive)
                ),
            )),
            _ => Ok(()),
        }
    }

    fn method_chosen(&mut self, method: u8) -> Result<Next, SocksError> {
        match method {
            0 => {
                self.phase = Phase::Reply;
                self.auth = None;
                Ok(Next::Send(std::mem::take(&mut self.request)))
            }
            2 => match self.auth.take() {
                Some(auth) => {
                    self.phase = Phase::Auth;
                    Ok(Next::Send(auth))
                }
                None => Err(SocksError::new(
                    ProxyCode::UnknownMode,
                    "SOCKS5 proxy requires username/password authentication \
                     (method 0x02) but no credentials were given",
                )),
            },
            1 => Err(SocksError::new(
                ProxyCode::GssapiPermsg,
                "SOCKS5 proxy chose GSS-API authentication (method 0x01), \
                 which is not supported",
            )),
            0xff => Err(SocksError::new(
                ProxyCode::NoAuth,
                format!(
                    "SOCKS5 proxy found no acceptable authentication method \
                     (offered: {})",
                    if self.auth.is_some() {
                        "none, username/password"
                    } else {
                        "none"
                    }
                ),
            )),
            other => Err(SocksError::new(
                ProxyCode::UnknownMode,
                format!(
                    "SOCKS5 proxy chose authentication method 0x{other:02x}, which was not offered"
                ),
            )),
        }
    }
}

impl Steps for Socks5Steps {
    fn protocol(&self) -> &'static str {
        "SOCKS5"
    }

    fn stage(&self, direction: Direction) -> &'static str {
        match (self.phase, direction) {
            (Phase::Method, Direction::Send) => "greeting",
            (Phase::Method, Direction::Receive) => "greeting reply",
            (Phase::Auth, Direction::Send) => "authentication request",
            (Phase::Auth, Direction::Receive) => "authentication reply",
            (Phase::Reply, Direction::Send) => "connect request",
            (Phase::Reply, Direction::Receive) => "connect reply",
        }
    }

    fn io_code(&self, direction: Direction, held: usize) -> ProxyCode {
        match (self.phase, direction) {
            (Phase::Method, Direction::Send) => ProxyCode::SendConnect,
            (Phase::Method, Direction::Receive) => ProxyCode::RecvConnect,
            (Phase::Auth, Direction::Send) => ProxyCode::SendAuth,
            (Phase::Auth, Direction::Receive) => ProxyCode::RecvAuth,
            (Phase::Reply, Direction::Send) => ProxyCode::SendRequest,
            // libcurl reads the first 10 bytes as the "ack", the rest as the address.
            (Phase::Reply, Direction::Receive) if held >= 10 => ProxyCode::RecvAddress,
            (Phase::Reply, Direction::Receive) => ProxyCode::RecvReqack,
        }
    }

    fn reply_len(&self, head: &[u8]) -> Result<usize, SocksError> {
        match self.phase {
            Phase::Method => {
                self.check_version(head)?;
                Ok(2)
            }
            // The version byte is not checked, as libcurl does not: some
            // servers answer 0x05 instead of RFC 1929's 0x01.
            Phase::Auth => Ok(2),
            Phase::Reply => {
                self.check_version(head)?;
                if let Some(&code) = head.get(1) {
                    if code != 0 {
                        let (proxy_code, why) = reply_failure(code);
                        return Err(SocksError::new(
                            proxy_code,
                            format!(
                                "SOCKS5 connect to {} failed: {why} (reply 0x{code:02x})",
                                self.target
                            ),
                        ));
                    }
                }
                // RSV (head[2]) is ignored, as libcurl does.
                match (head.get(3), head.get(4)) {
                    (None, _) => Ok(4),
                    (Some(1), _) => Ok(4 + 4 + 2),
                    (Some(4), _) => Ok(4 + 16 + 2),
                    (Some(3), None) => Ok(5),
                    // A zero-length name is odd but has a well-defined end.
                    (Some(3), Some(&len)) => Ok(5 + usize::from(len) + 2),
                    (Some(&atyp), _) => Err(SocksError::new(
                        ProxyCode::BadAddressType,
                        format!("SOCKS5 connect reply has unknown address type 0x{atyp:02x}"),
                    )),
                }
            }
        }
    }

    fn complete(&mut self, reply: &[u8]) -> Result<Next, SocksError> {
        match self.phase {
            Phase::Method => self.method_chosen(reply.get(1).copied().unwrap_or(0xff)),
            Phase::Auth => match reply.get(1) {
                Some(0) => {
                    self.phase = Phase::Reply;
                    Ok(Next::Send(std::mem::take(&mut self.request)))
                }
                status => Err(SocksError::new(
                    ProxyCode::UserRejected,
                    format!(
                        "SOCKS5 authentication failed: user rejected (status 0x{:02x})",
                        status.copied().unwrap_or(0xff)
                    ),
                )),
            },
            Phase::Reply => {
                self.bound = bound_address(reply);
                Ok(Next::Done)
            }
        }
    }
}

/// BND.ADDR and BND.PORT of a complete SOCKS5 reply, when they are an address.
fn bound_address(reply: &[u8]) -> Option<SocketAddr> {
    match reply {
        [_, _, _, 1, a, b, c, d, p0, p1] => Some(SocketAddr::V4(SocketAddrV4::new(
            Ipv4Addr::new(*a, *b, *c, *d),
            u16::from_be_bytes([*p0, *p1]),
        ))),
        [_, _, _, 4, rest @ ..] => {
            let (ip, port) = rest.split_first_chunk::<16>()?;
            let port = <[u8; 2]>::try_from(port).ok()?;
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(*ip),
                u16::from_be_bytes(port),
                0,
                0,
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_checked_without_a_target() {
        let long = "A".repeat(256);
        assert!(Socks5::check_credentials(&"A".repeat(255), "b").is_ok());
        let user = Socks5::check_credentials(&long, "b").unwrap_err();
        assert_eq!(user.code, ProxyCode::LongUser);
        let password = Socks5::check_credentials("a", &long).unwrap_err();
        assert_eq!(password.code, ProxyCode::LongPasswd);
    }
    use crate::machine::Machine;
    use crate::testing::{converse, for_each_split, hexdump, Garbage};

    /// Optional SOCKS5 (user, password).
    type Creds<'a> = Option<(&'a str, &'a str)>;

    fn v4(a: [u8; 4], port: u16) -> SocksTarget {
        SocksTarget::Addr(SocketAddr::from((a, port)))
    }

    fn name(host: &str, port: u16) -> SocksTarget {
        SocksTarget::Name {
            host: host.into(),
            port,
        }
    }

    fn v6_loopback(port: u16) -> SocksTarget {
        SocksTarget::Addr(SocketAddr::from((Ipv6Addr::LOCALHOST, port)))
    }

    fn assert_bytes(what: &str, got: &[u8], want: &[u8]) {
        assert!(
            got == want,
            "{what}\n got:\n{}want:\n{}",
            hexdump(got),
            hexdump(want)
        );
    }

    const SOCKS4_GRANTED: [u8; 8] = [0, 0x5a, 0x1f, 0x90, 10, 0, 0, 9];
    const TUNNEL: &[u8] = b"SSH-2.0-first tunnel bytes\r\n";

    #[test]
    fn proxy_codes_have_curl_h_numbers_and_names() {
        let names = [
            "CURLPX_OK",
            "CURLPX_BAD_ADDRESS_TYPE",
            "CURLPX_BAD_VERSION",
            "CURLPX_CLOSED",
            "CURLPX_GSSAPI",
            "CURLPX_GSSAPI_PERMSG",
            "CURLPX_GSSAPI_PROTECTION",
            "CURLPX_IDENTD",
            "CURLPX_IDENTD_DIFFER",
            "CURLPX_LONG_HOSTNAME",
            "CURLPX_LONG_PASSWD",
            "CURLPX_LONG_USER",
            "CURLPX_NO_AUTH",
            "CURLPX_RECV_ADDRESS",
            "CURLPX_RECV_AUTH",
            "CURLPX_RECV_CONNECT",
            "CURLPX_RECV_REQACK",
            "CURLPX_REPLY_ADDRESS_TYPE_NOT_SUPPORTED",
            "CURLPX_REPLY_COMMAND_NOT_SUPPORTED",
            "CURLPX_REPLY_CONNECTION_REFUSED",
            "CURLPX_REPLY_GENERAL_SERVER_FAILURE",
            "CURLPX_REPLY_HOST_UNREACHABLE",
            "CURLPX_REPLY_NETWORK_UNREACHABLE",
            "CURLPX_REPLY_NOT_ALLOWED",
            "CURLPX_REPLY_TTL_EXPIRED",
            "CURLPX_REPLY_UNASSIGNED",
            "CURLPX_REQUEST_FAILED",
            "CURLPX_RESOLVE_HOST",
            "CURLPX_SEND_AUTH",
            "CURLPX_SEND_CONNECT",
            "CURLPX_SEND_REQUEST",
            "CURLPX_UNKNOWN_FAIL",
            "CURLPX_UNKNOWN_MODE",
            "CURLPX_USER_REJECTED",
        ];
        assert_eq!(ProxyCode::ALL.len(), names.len());
        for (number, (code, name)) in ProxyCode::ALL.iter().zip(names).enumerate() {
            assert_eq!(code.code() as usize, number, "{code:?}");
            assert_eq!(code.name(), name, "{code:?}");
        }
        assert_eq!(ProxyCode::ReplyConnectionRefused.code(), 19);
        assert_eq!(ProxyCode::UserRejected.code(), 33);
    }

    #[test]
    fn socks4_requests_have_libcurl_wire_bytes() {
        let cases: &[(&str, SocksTarget, &str, bool, &[u8])] = &[
            (
                "socks4, empty user id",
                v4([192, 0, 2, 7], 80),
                "",
                false,
                &[4, 1, 0, 80, 192, 0, 2, 7, 0],
            ),
            (
                "socks4 with user id",
                v4([10, 1, 2, 3], 8080),
                "alice",
                true,
                b"\x04\x01\x1f\x90\x0a\x01\x02\x03alice\x00",
            ),
            (
                "socks4a sends 0.0.0.1 and the name after the user id",
                name("example.com", 443),
                "bob",
                true,
                b"\x04\x01\x01\xbb\x00\x00\x00\x01bob\x00example.com\x00",
            ),
            (
                "socks4a with empty user id",
                name("h", 1),
                "",
                true,
                b"\x04\x01\x00\x01\x00\x00\x00\x01\x00h\x00",
            ),
            (
                "socks4 sends an IPv4 literal name as an address",
                name("127.0.0.1", 1080),
                "",
                false,
                &[4, 1, 0x04, 0x38, 127, 0, 0, 1, 0],
            ),
        ];
        for (what, target, user, allow_4a, want) in cases {
            let machine = Socks4::new(target.clone(), user, *allow_4a).expect(what);
            assert_bytes(what, machine.transmit(), want);
            assert_eq!(machine.status(), Status::Pending, "{what}");
            assert!(!machine.wants_read(), "{what}");
        }
    }

    #[test]
    fn socks5_greeting_offers_user_pass_only_with_credentials() {
        let plain = Socks5::new(name("example.com", 443), None).unwrap();
        assert_bytes("no credentials", plain.transmit(), &[5, 1, 0]);
        let creds = Socks5::new(name("example.com", 443), Some(("u", "p"))).unwrap();
        assert_bytes("credentials", creds.transmit(), &[5, 2, 0, 2]);
    }

    #[test]
    fn socks5_requests_use_the_address_type_of_the_target() {
        let mut v6_request = vec![5, 1, 0, 4];
        v6_request.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        v6_request.extend_from_slice(&[0x01, 0xbb]);
        let cases: &[(&str, SocksTarget, Vec<u8>)] = &[
            (
                "IPv4 address: ATYP 1",
                v4([192, 0, 2, 1], 80),
                vec![5, 1, 0, 1, 192, 0, 2, 1, 0, 80],
            ),
            ("IPv6 address: ATYP 4", v6_loopback(443), v6_request.clone()),
            (
                "host name: ATYP 3",
                name("example.com", 443),
                b"\x05\x01\x00\x03\x0bexample.com\x01\xbb".to_vec(),
            ),
            (
                "IPv4 literal name: ATYP 1, as libcurl",
                name("192.0.2.1", 80),
                vec![5, 1, 0, 1, 192, 0, 2, 1, 0, 80],
            ),
            (
                "bracketed IPv6 literal name: ATYP 4",
                name("[::1]", 443),
                v6_request.clone(),
            ),
            (
                "bare IPv6 literal name: ATYP 4",
                name("::1", 443),
                v6_request,
            ),
        ];
        for (what, target, want) in cases {
            let mut machine = Socks5::new(target.clone(), None).unwrap();
            let out = converse(&mut machine, &[&[5, 0]], usize::MAX);
            assert_eq!(out.error, None, "{what}");
            assert_bytes(what, &out.wire, &[&[5, 1, 0], want.as_slice()].concat());
            assert!(machine.wants_read(), "{what}");
        }
    }

    #[test]
    fn socks5_auth_request_carries_lengths_and_credentials() {
        let mut machine = Socks5::new(name("example.com", 443), Some(("alice", "s3cret"))).unwrap();
        machine.sent(4);
        assert_eq!(machine.receive(&[5, 2]), Ok(2));
        assert_bytes(
            "RFC 1929 request",
            machine.transmit(),
            b"\x01\x05alice\x06s3cret",
        );
        let mut empty = Socks5::new(name("example.com", 443), Some(("", ""))).unwrap();
        empty.sent(4);
        assert_eq!(empty.receive(&[5, 2]), Ok(2));
        assert_bytes("empty credentials", empty.transmit(), &[1, 0, 0]);
    }

    /// A SOCKS5 exchange, as the server's byte stream and what the client
    /// must have written.
    struct Script {
        what: &'static str,
        target: SocksTarget,
        credentials: Option<(&'static str, &'static str)>,
        client: Vec<u8>,
        server: Vec<u8>,
        bound: Option<SocketAddr>,
    }

    fn socks5_scripts() -> Vec<Script> {
        let mut v6_reply = vec![5, 0, 0, 4];
        v6_reply.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        v6_reply.extend_from_slice(&[0x04, 0x38]);
        let mut long_name_reply = vec![5, 0, 0, 3, 255];
        long_name_reply.extend_from_slice(&[b'a'; 255]);
        long_name_reply.extend_from_slice(&[0, 1]);
        vec![
            Script {
                what: "no auth, IPv4 target, IPv4 bound",
                target: v4([192, 0, 2, 1], 80),
                credentials: None,
                client: [&[5, 1, 0][..], &[5, 1, 0, 1, 192, 0, 2, 1, 0, 80]].concat(),
                server: [&[5, 0][..], &[5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90]].concat(),
                bound: Some(SocketAddr::from(([10, 0, 0, 1], 8080))),
            },
            Script {
                what: "user/pass, host name target, IPv6 bound",
                target: name("example.com", 443),
                credentials: Some(("alice", "pw")),
                client: [
                    &[5, 2, 0, 2][..],
                    b"\x01\x05alice\x02pw",
                    b"\x05\x01\x00\x03\x0bexample.com\x01\xbb",
                ]
                .concat(),
                server: [&[5, 2][..], &[1, 0], &v6_reply].concat(),
                bound: Some(SocketAddr::from((Ipv6Addr::LOCALHOST, 1080))),
            },
            Script {
                what: "credentials given but proxy picks no auth, name bound",
                target: name("example.com", 443),
                credentials: Some(("alice", "pw")),
                client: [
                    &[5, 2, 0, 2][..],
                    b"\x05\x01\x00\x03\x0bexample.com\x01\xbb",
                ]
                .concat(),
                server: [&[5, 0][..], b"\x05\x00\x00\x03\x05proxy\x00\x50"].concat(),
                bound: None,
            },
            Script {
                what: "255-byte bound name, the longest reply",
                target: v6_loopback(22),
                credentials: None,
                client: [
                    &[5, 1, 0][..],
                    &[5, 1, 0, 4],
                    &Ipv6Addr::LOCALHOST.octets(),
                    &[0, 22],
                ]
                .concat(),
                server: [&[5, 0][..], &long_name_reply].concat(),
                bound: None,
            },
            Script {
                what: "zero-length bound name",
                target: v4([192, 0, 2, 1], 80),
                credentials: None,
                client: [&[5, 1, 0][..], &[5, 1, 0, 1, 192, 0, 2, 1, 0, 80]].concat(),
                server: vec![5, 0, 5, 0, 0, 3, 0, 0, 0],
                bound: None,
            },
        ]
    }

    #[test]
    fn socks5_exchanges_split_at_every_offset_complete_and_leave_tunnel_bytes() {
        for script in socks5_scripts() {
            let stream = [script.server.as_slice(), TUNNEL].concat();
            for write_step in [1, 3, usize::MAX] {
                for_each_split(&stream, |offset, head, tail| {
                    let mut machine =
                        Socks5::new(script.target.clone(), script.credentials).unwrap();
                    let out = converse(&mut machine, &[head, tail], write_step);
                    let what = format!(
                        "{}: split at {offset}, writes of {write_step}\nserver:\n{}",
                        script.what,
                        hexdump(&stream)
                    );
                    assert_eq!(out.error, None, "{what}");
                    assert_eq!(machine.status(), Status::Done, "{what}");
                    assert_bytes(&what, &out.wire, &script.client);
                    assert_bytes(&what, &out.leftover, TUNNEL);
                    assert_eq!(machine.bound(), script.bound, "{what}");
                    assert_eq!(machine.transmit(), b"", "{what}");
                    assert!(!machine.wants_read(), "{what}");
                });
            }
        }
    }

    #[test]
    fn socks5_fed_one_byte_at_a_time_completes() {
        for script in socks5_scripts() {
            let stream = [script.server.as_slice(), TUNNEL].concat();
            let chunks: Vec<&[u8]> = stream.chunks(1).collect();
            let mut machine = Socks5::new(script.target.clone(), script.credentials).unwrap();
            let out = converse(&mut machine, &chunks, 1);
            assert_eq!(machine.status(), Status::Done, "{}", script.what);
            assert_bytes(script.what, &out.wire, &script.client);
            assert_bytes(script.what, &out.leftover, TUNNEL);
        }
    }

    #[test]
    fn socks4_exchanges_split_at_every_offset_complete_and_leave_tunnel_bytes() {
        let cases = [
            ("socks4", v4([192, 0, 2, 7], 80), false),
            ("socks4a", name("example.com", 443), true),
        ];
        let stream = [&SOCKS4_GRANTED[..], TUNNEL].concat();
        for (what, target, allow_4a) in cases {
            let request = Socks4::new(target.clone(), "u", allow_4a)
                .unwrap()
                .transmit()
                .to_vec();
            for write_step in [1, usize::MAX] {
                for_each_split(&stream, |offset, head, tail| {
                    let mut machine = Socks4::new(target.clone(), "u", allow_4a).unwrap();
                    let out = converse(&mut machine, &[head, tail], write_step);
                    let what = format!("{what}: split at {offset}\n{}", hexdump(&stream));
                    assert_eq!(out.error, None, "{what}");
                    assert_eq!(machine.status(), Status::Done, "{what}");
                    assert_bytes(&what, &out.wire, &request);
                    assert_bytes(&what, &out.leftover, TUNNEL);
                    assert_eq!(
                        machine.bound(),
                        Some(SocketAddr::from(([10, 0, 0, 9], 8080))),
                        "{what}"
                    );
                });
            }
        }
    }

    #[test]
    fn bytes_after_the_final_reply_are_not_consumed() {
        let mut socks4 = Socks4::new(v4([192, 0, 2, 7], 80), "", false).unwrap();
        socks4.sent(socks4.transmit().len());
        let input = [&SOCKS4_GRANTED[..], TUNNEL].concat();
        assert_eq!(socks4.receive(&input), Ok(8));
        assert_eq!(socks4.status(), Status::Done);
        assert_eq!(socks4.receive(TUNNEL), Ok(0), "done machines take nothing");

        let mut socks5 = Socks5::new(name("example.com", 443), None).unwrap();
        socks5.sent(3);
        assert_eq!(socks5.receive(&[5, 0]), Ok(2));
        socks5.sent(socks5.transmit().len());
        let reply = b"\x05\x00\x00\x03\x04host\x01\xbb";
        let input = [&reply[..], TUNNEL].concat();
        assert_eq!(socks5.receive(&input), Ok(reply.len()));
        assert_eq!(socks5.status(), Status::Done);
    }

    #[test]
    fn reply_arriving_before_the_request_is_sent_is_held_until_it_is() {
        let mut socks4 = Socks4::new(v4([192, 0, 2, 7], 80), "", false).unwrap();
        socks4.sent(4);
        assert_eq!(socks4.receive(&SOCKS4_GRANTED), Ok(8));
        assert_eq!(socks4.status(), Status::Pending, "request half sent");
        assert_eq!(socks4.transmit(), &[192, 0, 2, 7, 0]);
        socks4.sent(5);
        assert_eq!(socks4.status(), Status::Done);

        // The method reply arrives before the greeting went out.
        let mut socks5 = Socks5::new(v4([192, 0, 2, 1], 80), None).unwrap();
        assert_eq!(
            socks5.receive(&[5, 0, 5, 0]),
            Ok(2),
            "only the method reply is held"
        );
        assert_eq!(socks5.transmit(), &[5, 1, 0], "greeting still first");
        socks5.sent(3);
        assert_eq!(socks5.transmit(), &[5, 1, 0, 1, 192, 0, 2, 1, 0, 80]);
    }

    #[test]
    fn sent_beyond_the_pending_bytes_counts_as_all_of_them() {
        let mut machine = Socks5::new(v4([192, 0, 2, 1], 80), None).unwrap();
        machine.sent(usize::MAX);
        assert_eq!(machine.transmit(), b"");
        assert!(machine.wants_read());
        machine.sent(7);
        assert_eq!(machine.status(), Status::Pending);
    }

    fn socks5_at_reply(credentials: Option<(&str, &str)>) -> Socks5 {
        let mut machine = Socks5::new(name("example.com", 443), credentials).unwrap();
        machine.sent(usize::MAX);
        machine.receive(&[5, 0]).unwrap();
        machine.sent(usize::MAX);
        machine
    }

    #[test]
    fn every_socks5_reply_code_maps_to_its_proxy_code() {
        let cases = [
            (0x01, ProxyCode::ReplyGeneralServerFailure),
            (0x02, ProxyCode::ReplyNotAllowed),
            (0x03, ProxyCode::ReplyNetworkUnreachable),
            (0x04, ProxyCode::ReplyHostUnreachable),
            (0x05, ProxyCode::ReplyConnectionRefused),
            (0x06, ProxyCode::ReplyTtlExpired),
            (0x07, ProxyCode::ReplyCommandNotSupported),
            (0x08, ProxyCode::ReplyAddressTypeNotSupported),
            (0x09, ProxyCode::ReplyUnassigned),
            (0x80, ProxyCode::ReplyUnassigned),
            (0xff, ProxyCode::ReplyUnassigned),
        ];
        for (rep, code) in cases {
            let mut machine = socks5_at_reply(None);
            let reply = [5, rep, 0, 1, 0, 0, 0, 0, 0, 0];
            let error = machine.receive(&reply).unwrap_err();
            assert_eq!(error.code, code, "reply 0x{rep:02x}");
            assert!(
                error.message.contains(&format!("(reply 0x{rep:02x})")),
                "{error}"
            );
            assert_eq!(machine.status(), Status::Failed);
        }
        let mut refused = socks5_at_reply(None);
        let error = refused.receive(&[5, 5]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "SOCKS5 connect to example.com:443 failed: connection refused by destination host (reply 0x05)"
        );
    }

    #[test]
    fn every_socks4_reply_code_maps_to_its_proxy_code() {
        let cases = [
            (0x5b, ProxyCode::RequestFailed),
            (0x5c, ProxyCode::Identd),
            (0x5d, ProxyCode::IdentdDiffer),
            (0x00, ProxyCode::UnknownFail),
            (0x5e, ProxyCode::UnknownFail),
            (0xff, ProxyCode::UnknownFail),
        ];
        for (cd, code) in cases {
            let mut machine = Socks4::new(v4([192, 0, 2, 7], 80), "", false).unwrap();
            machine.sent(usize::MAX);
            let error = machine.receive(&[0, cd, 0, 0, 0, 0, 0, 0]).unwrap_err();
            assert_eq!(error.code, code, "reply 0x{cd:02x}: {error}");
            assert!(
                error
                    .message
                    .starts_with("SOCKS4 connect to 192.0.2.7:80 failed"),
                "{error}"
            );
        }
    }

    #[test]
    fn socks5_method_choices_we_did_not_offer_fail() {
        let cases: &[(&str, Creds, u8, ProxyCode)] = &[
            ("no acceptable method", None, 0xff, ProxyCode::NoAuth),
            (
                "no acceptable method with creds",
                Some(("u", "p")),
                0xff,
                ProxyCode::NoAuth,
            ),
            (
                "user/pass without creds",
                None,
                0x02,
                ProxyCode::UnknownMode,
            ),
            ("GSS-API", None, 0x01, ProxyCode::GssapiPermsg),
            (
                "GSS-API with creds",
                Some(("u", "p")),
                0x01,
                ProxyCode::GssapiPermsg,
            ),
            (
                "undefined method",
                Some(("u", "p")),
                0x03,
                ProxyCode::UnknownMode,
            ),
            ("private method", None, 0x80, ProxyCode::UnknownMode),
        ];
        for (what, creds, method, code) in cases {
            let mut machine = Socks5::new(name("example.com", 443), *creds).unwrap();
            machine.sent(usize::MAX);
            let error = machine.receive(&[5, *method]).unwrap_err();
            assert_eq!(error.code, *code, "{what}: {error}");
            assert_eq!(machine.transmit(), b"", "{what}: nothing more is sent");
        }
        let mut machine = Socks5::new(name("example.com", 443), None).unwrap();
        machine.sent(usize::MAX);
        let error = machine.receive(&[5, 0xff]).unwrap_err();
        assert!(
            error
                .message
                .contains("no acceptable authentication method"),
            "{error}"
        );
    }

    #[test]
    fn socks5_rejected_credentials_fail_with_user_rejected() {
        for status in [1u8, 0xff] {
            let mut machine =
                Socks5::new(name("example.com", 443), Some(("alice", "wrong"))).unwrap();
            let out = converse(&mut machine, &[&[5, 2], &[1, status]], usize::MAX);
            let error = out.error.expect("rejected");
            assert_eq!(error.code, ProxyCode::UserRejected);
            assert!(
                error
                    .message
                    .starts_with("SOCKS5 authentication failed: user rejected"),
                "{error}"
            );
            assert!(!error.message.contains("wrong"), "password leaked: {error}");
        }
        // The sub-negotiation version byte is not checked, as libcurl does not.
        let mut machine = Socks5::new(name("example.com", 443), Some(("a", "b"))).unwrap();
        let out = converse(&mut machine, &[&[5, 2], &[5, 0]], usize::MAX);
        assert_eq!(out.error, None);
        assert!(machine.wants_read());
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let mut machine =
            Socks5::new(name("example.com", 443), Some(("alice", "hunter2"))).unwrap();
        assert!(!format!("{machine:?}").contains("hunter2"));
        machine.sent(usize::MAX);
        machine.receive(&[5, 2]).unwrap();
        let debug = format!("{machine:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("104, 117, 110"), "password bytes: {debug}");
    }

    #[test]
    fn a_failed_machine_repeats_its_error_and_sends_nothing() {
        let mut machine = socks5_at_reply(None);
        let first = machine.receive(&[5, 4, 0, 1]).unwrap_err();
        assert_eq!(machine.receive(&[5, 0, 0, 1]), Err(first.clone()));
        assert_eq!(machine.receive(&[]), Err(first.clone()));
        assert_eq!(machine.error(), Some(&first));
        machine.sent(3);
        machine.peer_closed();
        assert_eq!(machine.error(), Some(&first));
        assert_eq!(machine.transmit(), b"");
        assert_eq!(machine.status(), Status::Failed);
    }

    #[test]
    fn wrong_version_bytes_fail_with_bad_version() {
        let mut machine = Socks5::new(name("example.com", 443), None).unwrap();
        machine.sent(usize::MAX);
        assert_eq!(
            machine.receive(&[4, 0]).unwrap_err().code,
            ProxyCode::BadVersion
        );

        let mut machine = socks5_at_reply(None);
        let error = machine
            .receive(&[4, 0, 0, 1, 0, 0, 0, 0, 0, 0])
            .unwrap_err();
        assert_eq!(error.code, ProxyCode::BadVersion, "{error}");

        for version in [4u8, 5, 0xff] {
            let mut machine = Socks4::new(v4([192, 0, 2, 7], 80), "", false).unwrap();
            machine.sent(usize::MAX);
            let error = machine
                .receive(&[version, 0x5a, 0, 0, 0, 0, 0, 0])
                .unwrap_err();
            assert_eq!(error.code, ProxyCode::BadVersion, "{error}");
        }
    }

    #[test]
    fn unknown_reply_address_types_fail_with_bad_address_type() {
        for atyp in [0u8, 2, 5, 0xff] {
            let mut machine = socks5_at_reply(None);
            let error = machine
                .receive(&[5, 0, 0, atyp, 0, 0, 0, 0, 0, 0])
                .unwrap_err();
            assert_eq!(error.code, ProxyCode::BadAddressType, "ATYP {atyp}");
        }
    }

    #[test]
    fn truncated_replies_leave_the_machine_pending() {
        let full = b"\x05\x00\x00\x03\x04host\x01\xbb";
        for len in 0..full.len() {
            let mut machine = socks5_at_reply(None);
            assert_eq!(machine.receive(&full[..len]), Ok(len));
            assert_eq!(machine.status(), Status::Pending, "{len} bytes");
            assert!(machine.wants_read());
        }
        let mut machine = socks5_at_reply(None);
        machine.receive(&full[..7]).unwrap();
        machine.peer_closed();
        let error = machine.error().expect("closed");
        assert_eq!(error.code, ProxyCode::Closed);
        assert_eq!(
            error.message,
            "SOCKS5 proxy closed the connection before sending the complete connect reply"
        );
    }

    #[test]
    fn io_failures_get_libcurls_code_for_the_step() {
        let detail = "connection reset";
        let mut greeting = Socks5::new(name("example.com", 443), Some(("u", "p"))).unwrap();
        assert_eq!(
            greeting.io_failed(Direction::Send, &detail).unwrap().code,
            ProxyCode::SendConnect
        );

        let mut method = Socks5::new(name("example.com", 443), None).unwrap();
        method.sent(usize::MAX);
        let error = method.io_failed(Direction::Receive, &detail).unwrap();
        assert_eq!(error.code, ProxyCode::RecvConnect);
        assert_eq!(
            error.message,
            "SOCKS5: failed receiving the greeting reply: connection reset"
        );
        assert_eq!(method.receive(&[5, 0]), Err(error));

        let mut auth = Socks5::new(name("example.com", 443), Some(("u", "p"))).unwrap();
        auth.sent(usize::MAX);
        auth.receive(&[5, 2]).unwrap();
        assert_eq!(
            auth.io_failed(Direction::Send, &detail).unwrap().code,
            ProxyCode::SendAuth
        );
        let mut auth = Socks5::new(name("example.com", 443), Some(("u", "p"))).unwrap();
        auth.sent(usize::MAX);
        auth.receive(&[5, 2]).unwrap();
        auth.sent(usize::MAX);
        assert_eq!(
            auth.io_failed(Direction::Receive, &detail).unwrap().code,
            ProxyCode::RecvAuth
        );

        let mut request = Socks5::new(name("example.com", 443), None).unwrap();
        request.sent(usize::MAX);
        request.receive(&[5, 0]).unwrap();
        assert_eq!(
            request.io_failed(Direction::Send, &detail).unwrap().code,
            ProxyCode::SendRequest
        );
        let mut reply = socks5_at_reply(None);
        reply.receive(&[5, 0, 0, 3]).unwrap();
        assert_eq!(
            reply.io_failed(Direction::Receive, &detail).unwrap().code,
            ProxyCode::RecvReqack
        );
        let mut address = socks5_at_reply(None);
        address.receive(b"\x05\x00\x00\x03\x0aproxy.").unwrap();
        assert_eq!(
            address.io_failed(Direction::Receive, &detail).unwrap().code,
            ProxyCode::RecvAddress
        );

        let mut socks4 = Socks4::new(v4([192, 0, 2, 7], 80), "", false).unwrap();
        assert_eq!(
            socks4.io_failed(Direction::Send, &detail).unwrap().code,
            ProxyCode::SendConnect
        );
        let mut socks4 = Socks4::new(v4([192, 0, 2, 7], 80), "", false).unwrap();
        socks4.sent(usize::MAX);
        assert_eq!(
            socks4.io_failed(Direction::Receive, &detail).unwrap().code,
            ProxyCode::RecvConnect
        );
    }

    #[test]
    fn closing_after_done_is_not_an_error() {
        let mut machine = Socks4::new(v4([192, 0, 2, 7], 80), "", false).unwrap();
        machine.sent(usize::MAX);
        machine.receive(&SOCKS4_GRANTED).unwrap();
        machine.peer_closed();
        assert_eq!(machine.status(), Status::Done);

        let mut sending = Socks4::new(v4([192, 0, 2, 7], 80), "", false).unwrap();
        sending.sent(2);
        sending.peer_closed();
        let error = sending.error().expect("closed");
        assert_eq!(error.code, ProxyCode::Closed);
        assert!(
            error
                .message
                .contains("while the connect request was being sent"),
            "{error}"
        );
    }

    #[test]
    fn unsendable_fields_are_rejected_at_construction() {
        let long = "x".repeat(256);
        let longest = "x".repeat(255);
        let host = |h: &str| name(h, 80);
        let socks4_cases: Vec<(&str, SocksTarget, &str, bool, ProxyCode)> = vec![
            (
                "long user id",
                v4([1, 2, 3, 4], 80),
                &long,
                false,
                ProxyCode::LongUser,
            ),
            (
                "NUL in user id",
                v4([1, 2, 3, 4], 80),
                "a\0b",
                false,
                ProxyCode::LongUser,
            ),
            (
                "long 4a host",
                host(&long),
                "",
                true,
                ProxyCode::LongHostname,
            ),
            (
                "NUL in 4a host",
                host("a\0b"),
                "",
                true,
                ProxyCode::ResolveHost,
            ),
            ("empty 4a host", host(""), "", true, ProxyCode::ResolveHost),
            (
                "name without 4a",
                host("example.com"),
                "",
                false,
                ProxyCode::ResolveHost,
            ),
            (
                "IPv6 address",
                v6_loopback(80),
                "",
                true,
                ProxyCode::BadAddressType,
            ),
            (
                "IPv6 literal without 4a",
                host("[::1]"),
                "",
                false,
                ProxyCode::BadAddressType,
            ),
        ];
        for (what, target, user, allow_4a, code) in socks4_cases {
            let error = Socks4::new(target, user, allow_4a).unwrap_err();
            assert_eq!(error.code, code, "{what}: {error}");
        }
        assert!(Socks4::new(host(&longest), &longest, true).is_ok());

        let socks5_cases: Vec<(&str, SocksTarget, Creds, ProxyCode)> = vec![
            (
                "long user",
                host("h"),
                Some((&long, "p")),
                ProxyCode::LongUser,
            ),
            (
                "long password",
                host("h"),
                Some(("u", &long)),
                ProxyCode::LongPasswd,
            ),
            ("long host", host(&long), None, ProxyCode::LongHostname),
            ("empty host", host(""), None, ProxyCode::ResolveHost),
            ("NUL in host", host("a\0b"), None, ProxyCode::ResolveHost),
        ];
        for (what, target, creds, code) in socks5_cases {
            let error = Socks5::new(target, creds).unwrap_err();
            assert_eq!(error.code, code, "{what}: {error}");
            assert!(!error.message.contains(&long), "{what}: field echoed");
        }
        assert!(Socks5::new(host(&longest), Some((&longest, &longest))).is_ok());
    }

    #[test]
    fn describe_says_what_is_asked_and_who_resolves() {
        let cases = [
            (
                Socks4::new(v4([192, 0, 2, 7], 80), "", false)
                    .unwrap()
                    .describe(),
                "SOCKS4 connect to 192.0.2.7:80 (locally resolved)",
            ),
            (
                Socks4::new(name("192.0.2.7", 80), "", false)
                    .unwrap()
                    .describe(),
                "SOCKS4 connect to 192.0.2.7:80 (locally resolved)",
            ),
            (
                Socks4::new(name("example.com", 80), "", true)
                    .unwrap()
                    .describe(),
                "SOCKS4a connect to example.com:80 (remotely resolved)",
            ),
            (
                Socks5::new(name("example.com", 443), None)
                    .unwrap()
                    .describe(),
                "SOCKS5 connect to example.com:443 (remotely resolved)",
            ),
            (
                Socks5::new(v6_loopback(443), None).unwrap().describe(),
                "SOCKS5 connect to [::1]:443 (locally resolved)",
            ),
            (
                // Sent as the address it is (ATYP 4), as curl does.
                Socks5::new(name("::1", 443), None).unwrap().describe(),
                "SOCKS5 connect to [::1]:443 (an address, nothing to resolve)",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn garbage_replies_never_panic_and_consume_at_most_what_was_given() {
        let mut garbage = Garbage::new(0x50c5);
        for round in 0..2000 {
            let len = (garbage.next_u64() % 300) as usize;
            let mut stream = garbage.bytes(len);
            // Steer some rounds past the first checks to reach deeper states.
            match round % 4 {
                1 => stream.splice(..0, [5, 0]).for_each(drop),
                2 => stream.splice(..0, [5, 2, 1, 0, 5, 0, 0]).for_each(drop),
                3 => stream.splice(..0, [5, 0, 5, 0, 0, 3]).for_each(drop),
                _ => {}
            }
            let cut = (garbage.next_u64() as usize) % (stream.len() + 1);
            let (head, tail) = stream.split_at(cut);
            let mut socks5 = Socks5::new(name("example.com", 443), Some(("u", "p"))).unwrap();
            let out = converse(&mut socks5, &[head, tail], 2);
            assert!(out.leftover.len() <= stream.len(), "{}", hexdump(&stream));
            let _ = socks5.bound();
            let _ = socks5.describe();

            let mut socks4 = Socks4::new(name("example.com", 443), "u", true).unwrap();
            let out = converse(&mut socks4, &[head, tail], 5);
            assert!(out.leftover.len() <= stream.len(), "{}", hexdump(&stream));
        }
    }
}
