//! The transfer state machine and the loop that drives it. Each phase has
//! its own file; this one holds the transfer, the dispatch and the waits.
//!
//! ```text
//!   start ──> Resolve ──> Connect ──> Setup ──┬──────────────────────────> Done(HandOver)  connect-only = 1
//!   (start.rs) (names.rs)  (connect.rs) (setup.rs) │
//!                  ^          ^    │             └─> Request ──┬──────────> Done(HandOver)  connect-only = 2
//!                  │          └────┘ Reconnect      (request.rs) ├─> Body ────> Done(Pool | Closed)
//!                  │         (proxy closed after 407)            │   (body.rs)
//!                  │                                             └─> WsStream > Done(Closed)
//!                  └── a pooled connection found dead: one fresh try    (ws_stream.rs)
//!   any phase ──> Failed(Error) (a deadline: deadline.rs)
//! ```
//!
//! The first hop is the first proxy, or the target when there is none.
//! Setup stacks one layer per step of the route (route_stack.rs): TLS to an
//! HTTPS proxy, a SOCKS or CONNECT handshake per proxy, TLS to the target.
//! A transfer that takes a pooled connection starts at Request.
//!
//! A transfer never blocks: `drive` does what can be done now and says
//! whether it finished; `pollset`, `ready_now` and `next_deadline` say what
//! to wait for. `Easy::perform` runs one transfer with [`run`]; `Multi`
//! drives many. [`Transfer::finish`] hands the connection over, or gives a
//! kept-alive one to the pool.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use handover_proto::http1::{BodyReader, ResponseHead};
use handover_proto::tunnel::AuthMemory;
use handover_proto::ws::Options as WsOptions;

use crate::callbacks::{Prereq, ResolverStart, SocketHooks};
use crate::connection::Connection;
use crate::endpoint::UnixPath;
use crate::error::{Error, ErrorKind};
use crate::info::Info;
use crate::layer::Stack;
use crate::options::{ConnectOnly, IpResolve, SocketOptions};
use crate::pool::{Pool, PoolKey};
use crate::route::Route;
use crate::sys::{self, Interest, PollFd};
use crate::tcp::Racer;
use crate::tls::TlsSetup;
use crate::verbose::{log_info, Logger};
use crate::ws::WsSession;

mod body;
mod connect;
mod credentials;
mod deadline;
mod doh;
mod names;
mod protocol;
mod request;
mod route_stack;
mod server_auth;
mod setup;
mod speed;

pub(crate) use speed::SendPace;
mod start;
pub(crate) use start::route_plan;
mod ws_stream;

use names::NameJob;
use request::HttpPlan;

/// Body bytes one `drive` call moves at most before yielding.
const DRIVE_BYTES: usize = 1 << 20;

/// Where the connection goes: the URL's host, or what `connect_to` made of it.
struct Target {
    /// The URL's host: the TLS server name and the name in messages.
    host: String,
    /// The host and port actually connected to (or tunneled to).
    connect_host: String,
    connect_port: u16,
}

/// Where a transfer stands; each phase carries what only it needs.
enum Phase {
    Resolve(Vec<NameJob>),
    Connect(Racer),
    /// The route's layers connect: proxies, TLS.
    Setup(Stack),
    /// The request goes out and the response head comes in. `pooled`: on
    /// a reused connection (from the pool, or kept from the previous
    /// authentication round), which earns one fresh try if it died.
    Request {
        stack: Stack,
        pooled: bool,
    },
    /// An ordinary transfer reads the response body; `keep_alive` is what
    /// the head allowed.
    Body {
        stack: Stack,
        reader: BodyReader,
        keep_alive: bool,
    },
    /// The server's 401 is answered: its body is read away, then the next
    /// request goes out on the same connection.
    AuthDrain {
        stack: Stack,
        reader: BodyReader,
    },
    /// An ordinary ws/wss transfer hands frames to the write callback.
    WsStream(Stack, Box<WsSession>),
    Done(Ending),
}

/// What a finished transfer leaves behind.
enum Ending {
    /// Connect-only: the connection is the application's.
    HandOver(Stack),
    /// A kept-alive connection for the next transfer.
    Pool(Stack),
    /// Nothing: failed, taken, or closed.
    Closed,
}

/// What the transfer needs from the options once it has started.
struct Settings {
    log: Logger,
    ip_resolve: IpResolve,
    socket: SocketOptions,
    happy_eyeballs: Duration,
    useragent: Option<String>,
    proxy_headers: Vec<String>,
    proxy_auth: handover_proto::auth::AuthMask,
    resolve: Vec<handover_proto::hosts::ResolveEntry>,
    forbid_reuse: bool,
    ws_options: WsOptions,
    /// The application's socket functions, for the sockets of the race.
    hooks: SocketHooks,
    /// `CURLOPT_PREREQFUNCTION`.
    prereq: Option<Prereq>,
    /// `CURLOPT_RESOLVER_START_FUNCTION`.
    resolver_start: Option<ResolverStart>,
    /// `CURLOPT_UNIX_SOCKET_PATH`/`_ABSTRACT_UNIX_SOCKET`: the socket
    /// connected to instead of the host's addresses.
    unix_socket: Option<Arc<UnixPath>>,
    /// `CURLOPT_DNS_SHUFFLE_ADDRESSES`.
    dns_shuffle: bool,
    /// The DNS cache of the handle (or its Multi), and how long it trusts
    /// an entry.
    dns: crate::dns_cache::SharedDnsCache,
    dns_timeout: crate::dns_cache::CacheTimeout,
    /// `CURLOPT_HAPROXYPROTOCOL`.
    haproxy: Option<crate::options::HaproxyHeader>,
    /// `CURLOPT_CERTINFO`.
    certinfo: bool,
    /// `CURLOPT_MAXAGE_CONN`, `CURLOPT_MAXLIFETIME_CONN`.
    reuse: crate::pool::ReuseLimits,
    /// `CURLOPT_LOW_SPEED_LIMIT`, `_TIME`.
    low_speed: (u32, Duration),
    /// `CURLOPT_MAX_RECV_SPEED_LARGE`.
    max_recv_speed: u64,
    /// `CURLOPT_MAX_SEND_SPEED_LARGE`.
    max_send_speed: u64,
    /// `CURLOPT_BUFFERSIZE`: the most body bytes a write callback call gets.
    buffer_size: usize,
    /// `CURLOPT_UPLOAD_BUFFERSIZE`: the most a read callback call is asked for.
    upload_buffer_size: usize,
}

/// The time limits of a transfer: the connect budget until the connection
/// is set up, then only `timeout`.
struct Deadlines {
    started: Instant,
    /// None when the budget reaches past what `Instant` can hold.
    current: Option<Instant>,
    budget: Duration,
    /// The budget of the connect phase, kept for a fresh try.
    connect: Duration,
    /// `timeout`: what bounds a transfer once it is connected.
    overall: Option<Duration>,
}

/// One transfer, from URL to connected stack.
pub(crate) struct Transfer {
    target: Target,
    route: Route,
    settings: Settings,
    phase: Phase,
    /// TLS to the target, for TLS schemes.
    tls: Option<TlsSetup>,
    /// TFTP: a bound UDP socket instead of a TCP connection.
    datagram: bool,
    /// `file://`: the local file to open instead of any connection.
    local_file: Option<String>,
    /// The protocol's own connect phase (the FTP login), if it has one.
    protocol: Option<protocol::ProtocolPhase>,
    /// TLS the protocol may start mid-way (`AUTH TLS`, STARTTLS).
    starttls: Option<TlsSetup>,
    /// Addresses of the first hop, kept for reconnects.
    first_addrs: Vec<SocketAddr>,
    /// Per hop: the locally resolved destination of a SOCKS hop.
    socks_targets: Vec<Option<SocketAddr>>,
    /// Per hop: authentication state carried over a reconnect.
    carried: Vec<Option<AuthMemory>>,
    /// The server's authentication rounds so far.
    server_auth: AuthMemory,
    /// A forwarding HTTP proxy's authentication rounds (its 407s to the
    /// request itself, when there is no tunnel).
    forward_auth: AuthMemory,
    /// Both rounds as they were before the last request took its answers:
    /// a request retried on a fresh connection answers the same again.
    auth_before_request: Option<(AuthMemory, AuthMemory)>,
    /// When the transfer's connection was made (for `maxlifetime_conn`).
    conn_created: Instant,
    /// The low-speed watch of the body, while it is read.
    speed: Option<speed::SpeedCheck>,
    /// The receive rate limit of the body, while it is read.
    rate: Option<speed::RateLimit>,
    /// `CURLOPT_MAX_SEND_SPEED_LARGE`: the upload's pace, shared with the
    /// request layer that pulls the body.
    send_pace: Option<speed::SendPace>,
    reconnects: u32,
    time: Deadlines,
    info: Info,
    mode: ConnectOnly,
    /// The HTTP request, unless connect-only = 1.
    http: Option<HttpPlan>,
    /// The pool's name for connections this transfer can share; `None` for
    /// connect-only, which never shares.
    pool_key: Option<PoolKey>,
    /// The final response head, for header lookups after the transfer.
    last_head: Option<ResponseHead>,
    /// The interim (1xx) heads before it.
    last_interim: Vec<ResponseHead>,
    /// `fresh_connect`: never take a pooled connection.
    fresh_connect: bool,
    /// Counts the phases that opened descriptors of their own (each name
    /// lookup round, each connection race): with the lookup or attempt
    /// index it names a descriptor for [`Transfer::wants`], so that a
    /// descriptor number closed and reused within one `drive` is told apart.
    fd_epoch: u32,
    /// The index of the attempt that won the last connection race: the
    /// connection keeps the name its socket had while connecting.
    winner: u32,
    /// With `doh_url`: how names are looked up over DoH (doh.rs).
    doh: Option<Box<doh::DohPlan>>,
}

/// One descriptor a transfer waits on, for an event loop that is told only
/// about changes (`Multi::socket_function`): `key` tells a descriptor apart
/// from an earlier one that had the same number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Wanted {
    pub fd: std::os::fd::RawFd,
    pub interest: Interest,
    pub key: u64,
}

impl Transfer {
    /// Does everything possible now. `Ok(true)` once the transfer is done.
    pub fn drive(&mut self, now: Instant) -> Result<bool, Error> {
        let result = self.advance(now);
        // Read after the work: the steps within it were stamped with the
        // clock as they happened, and the total is not earlier than any.
        self.info.total = Instant::now().saturating_duration_since(self.time.started);
        if let Err(e) = &result {
            if let Some(errno) = e.os_errno() {
                self.info.os_errno = errno;
            }
            if matches!(
                e.kind(),
                ErrorKind::PeerFailedVerification | ErrorKind::SslPinnedPubKeyNotMatch
            ) {
                self.info.ssl_verify_result = 1;
            }
            log_info!(self.settings.log, "{e}");
            self.phase = Phase::Done(Ending::Closed);
        }
        result
    }

    /// Runs phases until one has to wait: each step returns `true` to go
    /// on at once (it moved to the next phase), `false` to wait.
    fn advance(&mut self, now: Instant) -> Result<bool, Error> {
        loop {
            if let Phase::Done(_) = self.phase {
                return Ok(true);
            }
            if self.time.current.is_some_and(|d| now >= d) {
                return Err(self.timeout_error());
            }
            let go_on = match self.phase {
                Phase::Resolve(_) => self.resolve_step(now)?,
                Phase::Connect(_) => self.connect_step(now)?,
                Phase::Setup(_) => self.setup_step(now)?,
                Phase::Request { .. } => self.request_step(now)?,
                Phase::Body { .. } => self.body_step(now)?,
                Phase::AuthDrain { .. } => self.auth_drain_step(now)?,
                Phase::WsStream(..) => self.ws_step()?,
                Phase::Done(_) => return Ok(true),
            };
            if !go_on {
                return Ok(matches!(self.phase, Phase::Done(_)));
            }
        }
    }

    /// The host and port of the first connection.
    fn first_hop(&self) -> (String, u16) {
        match self.route.hops.first() {
            Some(hop) => (hop.spec.host.clone(), hop.spec.port),
            None => (self.target.connect_host.clone(), self.target.connect_port),
        }
    }

    /// The destination hop `i` must reach: the next proxy, or the target.
    fn destination(&self, hop: usize) -> (String, u16) {
        match self.route.hops.get(hop + 1) {
            Some(next) => (next.spec.host.clone(), next.spec.port),
            None => (self.target.connect_host.clone(), self.target.connect_port),
        }
    }

    /// Adds the descriptors this transfer waits on to `out`.
    pub fn pollset(&self, out: &mut Vec<PollFd>) {
        self.each_wanted(|fd, interest, _| out.push(PollFd::new(fd, interest)));
    }

    /// The descriptors this transfer waits on, each with a key that names
    /// it apart from an earlier descriptor of the same number.
    pub fn wants(&self, out: &mut Vec<Wanted>) {
        let epoch = u64::from(self.fd_epoch) << 32;
        self.each_wanted(|fd, interest, index| {
            out.push(Wanted {
                fd,
                interest,
                key: epoch | u64::from(index),
            });
        });
    }

    /// Calls `f` with each descriptor waited on, its interest, and the
    /// index of the lookup or connection attempt it belongs to.
    fn each_wanted(&self, mut f: impl FnMut(std::os::fd::RawFd, Interest, u32)) {
        match &self.phase {
            Phase::Resolve(jobs) => names::each_pending(jobs, |i, fd, interest| f(fd, interest, i)),
            Phase::Connect(racer) => racer.each_in_flight(|i, fd| f(fd, Interest::WRITE, i)),
            Phase::Setup(stack) | Phase::Request { stack, .. } => {
                let mut interest = stack.interest();
                if interest.is_none() {
                    interest = Interest::READ;
                }
                f(stack.fd(), interest, self.winner);
            }
            // A body paused by its rate limit waits for its deadline, not
            // for the socket.
            Phase::Body { .. } if self.body_paused() => {}
            // A request body that goes on after the answer: writable too
            // while it has bytes to send; once the answer's body is read,
            // only that.
            Phase::Body { stack, reader, .. } if stack.uploading() => {
                let mut interest = stack.interest();
                if !reader.is_done() {
                    interest = interest.union(Interest::READ);
                }
                if !interest.is_none() {
                    f(stack.fd(), interest, self.winner);
                }
            }
            Phase::Body { stack, .. } | Phase::AuthDrain { stack, .. } => {
                f(stack.fd(), Interest::READ, self.winner)
            }
            Phase::WsStream(stack, session) => {
                // A PONG or CLOSE echo that met a full socket waits to be written.
                let mut interest = Interest::READ;
                if session.wants_write() {
                    interest = interest.union(Interest::WRITE);
                }
                f(stack.fd(), interest, self.winner);
            }
            Phase::Done(_) => {}
        }
    }

    /// True while the body's rate limit has spent its budget.
    fn body_paused(&self) -> bool {
        self.rate.as_ref().is_some_and(|r| r.resumes().is_some())
    }

    /// A phase that opens descriptors of its own begins (a lookup round, a
    /// connection race): the keys of [`wants`](Transfer::wants) change.
    fn new_descriptors(&mut self) {
        self.fd_epoch = self.fd_epoch.wrapping_add(1);
    }

    /// True when the transfer can move without any descriptor turning
    /// ready: bytes already held in a layer or a WebSocket buffer.
    pub fn ready_now(&self) -> bool {
        match &self.phase {
            Phase::Resolve(jobs) => names::ready_now(jobs),
            Phase::Body { stack, .. } => stack.ready() && !self.body_paused(),
            Phase::AuthDrain { stack, .. } => stack.ready(),
            Phase::WsStream(stack, session) => stack.ready() || session.pending() > 0,
            _ => false,
        }
    }

    /// The earliest moment `drive` must be called again even if no
    /// descriptor turns ready.
    pub fn next_deadline(&self) -> Option<Instant> {
        let racer = match &self.phase {
            Phase::Resolve(jobs) => names::next_deadline(jobs),
            Phase::Connect(racer) => racer.next_deadline(),
            Phase::Body { .. } => {
                let check = self.speed.as_ref().map(speed::SpeedCheck::next_check);
                let resume = self.rate.as_ref().and_then(speed::RateLimit::resumes);
                match (check, resume) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
            _ => None,
        };
        // An upload that spent its second's budget goes on when it returns.
        let upload = self.send_pace.as_ref().and_then(speed::SendPace::resumes);
        let racer = match (racer, upload) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match (racer, self.time.current) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn info(&self) -> &Info {
        &self.info
    }

    /// The final response head, once read, and the method of the request it
    /// answers (which decides the body's framing).
    pub fn take_head(&mut self) -> Option<(ResponseHead, String)> {
        let method = self.http.as_ref().map_or("GET", |h| h.method.as_str());
        self.last_head.take().map(|head| (head, method.to_owned()))
    }

    /// The interim (1xx) heads that came before the final one, once read.
    pub fn take_interim_heads(&mut self) -> Vec<ResponseHead> {
        std::mem::take(&mut self.last_interim)
    }

    /// Ends a transfer that `drive` finished: a kept-alive connection goes
    /// to `pool` (which then keeps at most `max_idle`); a connect-only one
    /// comes back as the application's [`Connection`] (framing WebSocket
    /// after an upgrade).
    pub fn finish(&mut self, pool: &Pool, max_idle: usize, now: Instant) -> Result<Kept, Error> {
        let ending = match &mut self.phase {
            Phase::Done(ending) => std::mem::replace(ending, Ending::Closed),
            _ => Ending::Closed,
        };
        match (ending, &self.pool_key) {
            (Ending::Pool(stack), Some(key)) => Ok(Kept::Pooled(pool.put(
                key.clone(),
                stack,
                self.conn_created,
                now,
                max_idle,
            ))),
            (Ending::HandOver(stack), _) => {
                let conn = Connection::new(stack);
                Ok(Kept::HandedOver(
                    if self.http.as_ref().is_some_and(|h| h.ws) {
                        conn.with_ws(WsSession::frames(self.settings.ws_options)?)
                    } else {
                        conn
                    },
                ))
            }
            _ => Ok(Kept::Closed),
        }
    }
}

/// Where a finished transfer's connection went.
pub(crate) enum Kept {
    /// Closed, or there was none.
    Closed,
    /// Into the pool, under this connection number.
    Pooled(i64),
    /// To the application: a connect-only transfer's.
    HandedOver(Connection),
}

/// Runs one transfer to its end on the calling thread.
pub(crate) fn run(transfer: &mut Transfer) -> Result<(), Error> {
    let mut fds = Vec::with_capacity(4);
    loop {
        if transfer.drive(Instant::now())? {
            return Ok(());
        }
        fds.clear();
        transfer.pollset(&mut fds);
        // Bytes held in a layer do not make the socket readable: come back
        // at once rather than wait on it.
        let wait = if transfer.ready_now() {
            Some(Duration::ZERO)
        } else {
            transfer
                .next_deadline()
                .map(|d| d.saturating_duration_since(Instant::now()))
        };
        sys::poll(&mut fds, wait)
            .map_err(|e| Error::from_io(ErrorKind::UnrecoverablePoll, "poll failed", &e))?;
    }
}
