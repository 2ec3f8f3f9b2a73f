//! The transfer state machine and the loop that drives it.
//!
//! ```text
//!   Resolve ──> Connect (happy eyeballs to the first hop) ──> Setup (layers) ──> Done
//!      │              ^                                         │
//!      │              └──────── Reconnect (proxy closed after 407) ┘
//!      └──────────────┴──────────────────────────────────────────┴──> Failed(Error)
//! ```
//!
//! The first hop is the first proxy, or the target when there is none.
//! Setup stacks one layer per step of the route: TLS to an HTTPS proxy, a
//! SOCKS or CONNECT handshake per proxy, TLS to the target.
//!
//! A transfer never blocks: `drive` does what can be done now and says
//! whether it finished; `pollset` and `next_deadline` say what to wait for.
//! `Easy::perform` runs one transfer with `run`; `Multi` drives many.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use handover_proto::auth::AuthMask;
use handover_proto::hosts::ResolveEntry;
use handover_proto::http1::{self, BodyReader, RequestSpec};
use handover_proto::proxy::ProxyKind;
use handover_proto::socks::{Socks4, Socks5, SocksTarget};
use handover_proto::tunnel::{AuthMemory, Entropy, Tunnel, TunnelConfig};
use handover_proto::url::{Scheme, Url};

use crate::callbacks::{HeaderSink, Reader, Writer};
use crate::error::{Error, ErrorKind};
use crate::handshake::{HandshakeLayer, SocksHandshake, TunnelHandshake};
use crate::http::{Body, HeadSlot, RequestHandshake, RequestParts};
use crate::info::Info;
use crate::layer::{ConnectCx, Io, Progress, Stack};
use crate::options::{ConnectOnly, IpResolve, Options, SocketOptions};
use crate::pool::Pool;
use crate::resolve::{self, Lookup};
use crate::route::{self, Route};
use crate::sys::{self, Interest, PollFd};
use crate::tcp::{Connected, Racer};
use crate::tls::{Alpn, TlsCache, TlsLayer, TlsSetup};
use crate::verbose::{log_info, Logger};
use crate::ws::WsSession;

mod names;
mod request;
mod route_stack;

use names::{filter_family, log_resolved, preset_addresses, socks_destination, NameJob, NameState};
use request::{dead_reuse, deliver, http_plan, request_layer, HttpPlan};
use route_stack::entropy;

/// Body bytes one `drive` call moves at most before yielding.
const DRIVE_BYTES: usize = 1 << 20;

/// A tag telling credentials apart in the pool key without holding them.
fn credentials_tag(c: Option<&handover_proto::auth::Credentials>) -> String {
    use std::hash::{Hash, Hasher};
    match c {
        None => String::new(),
        Some(c) => {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            c.password.hash(&mut h);
            format!("{}:{:x}", c.user, h.finish())
        }
    }
}

/// New connections one transfer may open for proxy authentication.
const MAX_RECONNECTS: u32 = 5;

/// Where the connection goes: the URL's host, or what `connect_to` made of it.
struct Target {
    /// The URL's host: the TLS server name and the name in messages.
    host: String,
    /// The host and port actually connected to (or tunneled to).
    connect_host: String,
    connect_port: u16,
}

enum Phase {
    Resolve(Vec<NameJob>),
    Connect(Racer),
    Setup(Stack),
    /// An ordinary transfer reads the response body.
    Body(Stack, BodyReader),
    /// An ordinary ws/wss transfer hands frames to the write callback.
    WsStream(Stack, Box<WsSession>),
    Done(Option<Stack>),
}

/// What the transfer needs from the options once it has started.
struct Settings {
    log: Logger,
    ip_resolve: IpResolve,
    socket: SocketOptions,
    happy_eyeballs: Duration,
    useragent: Option<String>,
    proxy_headers: Vec<String>,
    proxy_auth: AuthMask,
    resolve: Vec<ResolveEntry>,
}

/// One transfer, from URL to connected stack.
pub(crate) struct Transfer {
    target: Target,
    route: Route,
    settings: Settings,
    phase: Phase,
    /// TLS to the target, for TLS schemes.
    tls: Option<TlsSetup>,
    /// Addresses of the first hop, kept for reconnects.
    first_addrs: Vec<SocketAddr>,
    /// Per hop: the locally resolved destination of a SOCKS hop.
    socks_targets: Vec<Option<SocketAddr>>,
    /// Per hop: authentication state carried over a reconnect.
    carried: Vec<Option<AuthMemory>>,
    reconnects: u32,
    /// The response allows reusing the connection.
    keep_alive: bool,
    started: Instant,
    /// None when the budget reaches past what `Instant` can hold.
    deadline: Option<Instant>,
    budget: Duration,
    /// The budget of the connect phase, kept for a reconnect after reuse.
    connect_budget: Duration,
    info: Info,
    mode: ConnectOnly,
    http: Option<HttpPlan>,
    request_sent: bool,
    head: HeadSlot,
    /// The pool's name for connections this transfer can share.
    pool_key: String,
    reused: bool,
    retried: bool,
    forbid_reuse: bool,
    /// A keep-alive connection to give back to the pool.
    pool_return: Option<(String, Stack)>,
    ws_options: u32,
    /// `timeout`: what bounds a transfer once it is connected.
    overall: Option<Duration>,
    /// The final response head, for header lookups after the transfer.
    last_head: Option<http1::ResponseHead>,
}

impl Transfer {
    /// Checks the options and starts resolving. `tls` supplies (and caches)
    /// the TLS configurations the route needs.
    pub fn start(
        opts: &Options,
        tls: &mut TlsCache,
        pool: &mut Pool,
        now: Instant,
    ) -> Result<Transfer, Error> {
        let raw = opts
            .url
            .as_deref()
            .ok_or_else(|| Error::new(ErrorKind::UrlMalformat, "no URL set"))?;
        let url =
            Url::parse(raw).map_err(|e| Error::new(ErrorKind::UrlMalformat, e.to_string()))?;
        let scheme = Scheme::from_name(&url.scheme).ok_or_else(|| {
            Error::new(
                ErrorKind::UnsupportedProtocol,
                format!("Protocol \"{}\" not supported", url.scheme),
            )
        })?;
        let web = matches!(
            scheme,
            Scheme::Http | Scheme::Https | Scheme::Ws | Scheme::Wss
        );
        match opts.connect_only {
            ConnectOnly::Connection => {}
            ConnectOnly::Headers if !web => {
                return Err(Error::new(
                    ErrorKind::UnsupportedProtocol,
                    format!(
                        "connect_only = 2 needs http, https, ws or wss, not {}",
                        scheme.name()
                    ),
                ))
            }
            ConnectOnly::Off if !web => {
                return Err(Error::new(
                    ErrorKind::NotBuiltIn,
                    format!(
                        "ordinary {} transfers are not built in; use connect_only",
                        scheme.name()
                    ),
                ))
            }
            _ => {}
        }
        let port = url.port.unwrap_or(scheme.default_port());
        let redirected = opts
            .connect_to
            .iter()
            .find_map(|rule| rule.apply(&url.host, port));
        let connect_to_matched = redirected.is_some();
        let (connect_host, connect_port) = redirected.unwrap_or_else(|| (url.host.clone(), port));
        let target = Target {
            host: url.host.clone(),
            connect_host,
            connect_port,
        };
        let env = |name: &str| std::env::var(name).ok();
        let route = route::plan(
            opts,
            scheme,
            &target.connect_host,
            connect_to_matched,
            tls,
            &env,
        )?;
        let tls_setup = if scheme.uses_tls() && route.reaches_target() {
            let alpn = match scheme {
                Scheme::Https | Scheme::Wss => Alpn::Http11,
                _ => Alpn::None,
            };
            Some(tls.get(&opts.tls, alpn)?)
        } else {
            None
        };
        let budget = opts.connect_budget();
        let info = Info {
            effective_url: Some(url.to_string()),
            scheme: Some(scheme_upper(scheme)),
            used_proxy: !route.hops.is_empty(),
            ..Info::default()
        };
        let hops = route.hops.len();
        let http = match opts.connect_only {
            ConnectOnly::Connection => None,
            _ => Some(http_plan(opts, &url, scheme, port, &route)),
        };
        // Only ordinary transfers use the pool; connect-only skips the cost.
        let pool_key = if opts.connect_only != ConnectOnly::Off {
            String::new()
        } else {
            format!(
                "{}|{}|{}:{}|{}|tunnel={}|{:?}|{:?}|{:?}",
                scheme.name(),
                // The TLS server name the connection was verified for.
                target.host.to_ascii_lowercase(),
                target.connect_host.to_ascii_lowercase(),
                target.connect_port,
                route
                    .hops
                    .iter()
                    .map(|h| format!("{}|{}", h.spec, credentials_tag(h.credentials.as_ref())))
                    .collect::<Vec<_>>()
                    .join(","),
                route.tunnel,
                opts.socket,
                opts.tls,
                opts.proxy.tls,
            )
        };
        let settings = Settings {
            log: opts.log.clone(),
            ip_resolve: opts.ip_resolve,
            socket: opts.socket.clone(),
            happy_eyeballs: opts.happy_eyeballs_delay(),
            useragent: opts.useragent.clone(),
            proxy_headers: opts.proxy.headers.clone(),
            proxy_auth: opts.proxy.auth.mask(),
            resolve: opts.resolve.clone(),
        };
        let mut transfer = Transfer {
            target,
            route,
            settings,
            phase: Phase::Resolve(Vec::new()),
            tls: tls_setup,
            first_addrs: Vec::new(),
            socks_targets: vec![None; hops],
            carried: vec![None; hops],
            reconnects: 0,
            keep_alive: false,
            started: now,
            deadline: now.checked_add(budget),
            budget,
            connect_budget: budget,
            info,
            mode: opts.connect_only,
            http,
            request_sent: false,
            head: HeadSlot::default(),
            pool_key,
            reused: false,
            retried: false,
            forbid_reuse: opts.forbid_reuse,
            pool_return: None,
            ws_options: opts.http.ws_options,
            overall: opts.timeout.filter(|t| !t.is_zero()),
            last_head: None,
        };
        // Only ordinary transfers share connections (libcurl: connect-only
        // never takes a pooled connection nor leaves its own for others).
        if transfer.mode == ConnectOnly::Off && !opts.fresh_connect {
            if let Some(stack) = pool.take(&transfer.pool_key, now) {
                log_info!(
                    transfer.settings.log,
                    "Re-using existing connection with host {}",
                    transfer.target.connect_host
                );
                transfer.info.primary = Some(stack.peer());
                transfer.info.local = stack.stream().local_addr().ok();
                transfer.reused = true;
                transfer.phase = Phase::Setup(stack);
                return Ok(transfer);
            }
        }
        let jobs = transfer.name_jobs()?;
        transfer.phase = Phase::Resolve(jobs);
        Ok(transfer)
    }

    /// The destination hop `i` must reach: the next proxy, or the target.
    fn destination(&self, hop: usize) -> (String, u16) {
        match self.route.hops.get(hop + 1) {
            Some(next) => (next.spec.host.clone(), next.spec.port),
            None => (self.target.connect_host.clone(), self.target.connect_port),
        }
    }

    /// Starts every name lookup the route needs.
    fn name_jobs(&self) -> Result<Vec<NameJob>, Error> {
        let mut wanted: Vec<(Option<usize>, String, u16)> = Vec::new();
        match self.route.hops.first() {
            Some(first) => wanted.push((None, first.spec.host.clone(), first.spec.port)),
            None => wanted.push((
                None,
                self.target.connect_host.clone(),
                self.target.connect_port,
            )),
        }
        for (i, hop) in self.route.hops.iter().enumerate() {
            if matches!(hop.spec.kind, ProxyKind::Socks4 | ProxyKind::Socks5) {
                let (host, port) = self.destination(i);
                wanted.push((Some(i), host, port));
            }
        }
        let mut jobs = Vec::with_capacity(wanted.len());
        for (hop, host, port) in wanted {
            let state = match preset_addresses(&self.settings.resolve, &host, port) {
                Some(addrs) => NameState::Done(addrs),
                None => NameState::Pending(Lookup::start(&host, port).map_err(|e| {
                    Error::from_io(
                        ErrorKind::CouldntResolveHost,
                        format_args!("cannot start resolving {host}"),
                        &e,
                    )
                })?),
            };
            jobs.push(NameJob {
                hop,
                host,
                port,
                state,
            });
        }
        Ok(jobs)
    }

    /// Does everything possible now. `Ok(true)` once the connection is set up.
    pub fn drive(&mut self, now: Instant) -> Result<bool, Error> {
        let result = self.advance(now);
        self.info.total = now.saturating_duration_since(self.started);
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
            self.phase = Phase::Done(None);
        }
        result
    }

    fn advance(&mut self, now: Instant) -> Result<bool, Error> {
        loop {
            if let Phase::Done(_) = self.phase {
                return Ok(true);
            }
            if self.deadline.is_some_and(|d| now >= d) {
                return Err(self.timeout_error());
            }
            match &mut self.phase {
                Phase::Resolve(jobs) => {
                    let mut pending = false;
                    for job in jobs.iter_mut() {
                        if let NameState::Pending(lookup) = &mut job.state {
                            match lookup.poll() {
                                None => pending = true,
                                Some(Ok(addrs)) => job.state = NameState::Done(addrs),
                                Some(Err(e)) => {
                                    let (kind, what) = match job.hop {
                                        None if !self.route.hops.is_empty() => {
                                            (ErrorKind::CouldntResolveProxy, "proxy")
                                        }
                                        None => (ErrorKind::CouldntResolveHost, "host"),
                                        Some(_) => (
                                            ErrorKind::CouldntResolveHost,
                                            "host (for the SOCKS proxy)",
                                        ),
                                    };
                                    return Err(Error::new(
                                        kind,
                                        format!("Could not resolve {what}: {} ({e})", job.host),
                                    ));
                                }
                            }
                        }
                    }
                    if pending {
                        return Ok(false);
                    }
                    let jobs = std::mem::take(jobs);
                    self.info.namelookup = now.saturating_duration_since(self.started);
                    self.resolved(jobs)?;
                }
                Phase::Connect(racer) => {
                    let connected = racer.drive(now, &self.settings.log).map_err(|e| {
                        let (host, port) = self.first_hop();
                        Error::new(
                            e.kind(),
                            format!(
                                "Failed to connect to {host} port {port} after {} ms: {e}",
                                now.saturating_duration_since(self.started).as_millis()
                            ),
                        )
                        .with_errno(e.os_errno())
                    })?;
                    let Some(c) = connected else {
                        return Ok(false);
                    };
                    let stack = self.connected(c, now)?;
                    self.phase = Phase::Setup(stack);
                }
                Phase::Setup(stack) => {
                    let mut cx = ConnectCx {
                        log: &self.settings.log,
                    };
                    let progress = stack.connect(&mut cx);
                    stack.report(&mut self.info);
                    let progress = match progress {
                        Err(e)
                            if self.reused
                                && !self.retried
                                && self.request_sent
                                && dead_reuse(&e) =>
                        {
                            // A pooled connection the server had closed: one
                            // fresh attempt, as libcurl retries — unless the
                            // read callback's body is already spent.
                            if self.http.as_ref().is_some_and(|h| h.body_from_callback()) {
                                return Err(Error::new(
                                    ErrorKind::SendFailRewind,
                                    format!(
                                        "the reused connection to {} died while the upload was sent, \
                                         and the read callback cannot be rewound ({e})",
                                        self.target.connect_host
                                    ),
                                ));
                            }
                            log_info!(
                                self.settings.log,
                                "Connection died, retrying a fresh connect"
                            );
                            // The new connection gets the connect budget again.
                            self.deadline = now.checked_add(self.connect_budget);
                            self.budget = self.connect_budget;
                            self.retried = true;
                            self.reused = false;
                            self.request_sent = false;
                            self.phase = Phase::Resolve(self.name_jobs()?);
                            continue;
                        }
                        other => other?,
                    };
                    match progress {
                        Progress::Pending => return Ok(false),
                        Progress::Reconnect => {
                            for (hop, memory) in stack.take_carry_over() {
                                if let Some(slot) = self.carried.get_mut(hop) {
                                    *slot = Some(memory);
                                }
                            }
                            self.reconnects += 1;
                            if self.reconnects > MAX_RECONNECTS {
                                let (host, port) = self.first_hop();
                                return Err(Error::new(
                                    ErrorKind::CouldntConnect,
                                    format!(
                                        "proxy {host}:{port} closed the connection {MAX_RECONNECTS} times during authentication"
                                    ),
                                ));
                            }
                            log_info!(self.settings.log, "Connect me again please");
                            self.phase = Phase::Connect(Racer::new(
                                self.first_addrs.clone(),
                                self.settings.happy_eyeballs,
                                &self.settings.socket,
                            ));
                        }
                        Progress::Done => {
                            let elapsed = now.saturating_duration_since(self.started);
                            if !self.request_sent {
                                if !self.reused
                                    && (self.tls.is_some()
                                        || self.route.hops.iter().any(|h| h.tls.is_some()))
                                {
                                    self.info.appconnect = elapsed;
                                }
                                if let Some(plan) = &self.http {
                                    // Connected: from here only `timeout` bounds the transfer.
                                    self.deadline =
                                        self.overall.and_then(|t| self.started.checked_add(t));
                                    self.budget = self.overall.unwrap_or(self.budget);
                                    let layer = request_layer(plan, &self.target, &self.head)?;
                                    stack.push(Box::new(HandshakeLayer::new(layer, usize::MAX)));
                                    self.request_sent = true;
                                    self.info.pretransfer = elapsed;
                                    continue;
                                }
                            } else {
                                self.info.starttransfer = elapsed;
                            }
                            let answer = self.head.lock().unwrap_or_else(|p| p.into_inner()).take();
                            let early = answer.as_ref().is_some_and(|(_, early)| *early);
                            let head = answer.map(|(head, _)| head);
                            self.last_head = head.clone();
                            let phase = std::mem::replace(&mut self.phase, Phase::Done(None));
                            let Phase::Setup(stack) = phase else {
                                return Ok(true);
                            };
                            if let Some(head) = &head {
                                // connect-only = 2 reports the length the head
                                // announced too, though the body stays unread.
                                let method =
                                    self.http.as_ref().map_or("GET", |h| h.method.as_str());
                                self.info.content_length_download = BodyReader::new(head, method)
                                    .ok()
                                    .and_then(|r| r.content_length());
                            }
                            if self.mode == ConnectOnly::Off
                                && self.http.as_ref().is_some_and(|h| h.ws)
                            {
                                self.phase = Phase::WsStream(
                                    stack,
                                    Box::new(WsSession::new(self.ws_options)),
                                );
                                continue;
                            }
                            if let (ConnectOnly::Off, Some(head)) = (self.mode, head) {
                                let method =
                                    self.http.as_ref().map_or("GET", |h| h.method.as_str());
                                let reader = BodyReader::new(&head, method).map_err(|e| {
                                    Error::new(
                                        ErrorKind::WeirdServerReply,
                                        format!(
                                            "bad response framing from {}: {e}",
                                            self.target.connect_host
                                        ),
                                    )
                                })?;
                                self.keep_alive = !early && http1::keep_alive_after(&head, method);
                                self.phase = Phase::Body(stack, reader);
                                continue;
                            }
                            self.phase = Phase::Done(Some(stack));
                            log_info!(
                                self.settings.log,
                                "Connection to {} port {} is set up; handing it over",
                                self.target.connect_host,
                                self.target.connect_port
                            );
                            return Ok(true);
                        }
                    }
                }
                Phase::WsStream(stack, session) => {
                    let write = self.http.as_ref().and_then(|h| h.write.as_ref());
                    let mut buf = [0u8; 16 * 1024];
                    let mut moved = 0usize;
                    loop {
                        // A fast sender must not keep one drive going for
                        // ever: yield so deadlines and other transfers run.
                        if moved >= DRIVE_BYTES {
                            return Ok(false);
                        }
                        if session.is_raw() {
                            match stack.recv(&mut buf) {
                                Ok(0) => return Ok(true),
                                Ok(n) => {
                                    deliver(write, &buf[..n])?;
                                    self.info.size_download += n as u64;
                                    moved += n;
                                }
                                Err(e) if e.is_again() => return Ok(false),
                                Err(e) => return Err(e),
                            }
                            continue;
                        }
                        match session.recv(stack, &mut buf) {
                            Ok((n, frame)) => {
                                crate::ws::with_current_frame(frame, || deliver(write, &buf[..n]))?;
                                self.info.size_download += n as u64;
                                moved += n.max(1);
                                if frame.flags & crate::ws::CLOSE != 0 && frame.bytesleft == 0 {
                                    // Answer the close with its status code, then
                                    // wait for the server to end the connection.
                                    let code = if frame.offset == 0 && n >= 2 {
                                        buf[..2].to_vec()
                                    } else {
                                        Vec::new()
                                    };
                                    let _ = session.send(stack, &code, 0, crate::ws::CLOSE);
                                    session.closing = true;
                                }
                            }
                            Err(e) if e.is_again() => return Ok(false),
                            Err(e) if e.kind() == ErrorKind::GotNothing && session.closing => {
                                return Ok(true)
                            }
                            Err(e) => return Err(e),
                        }
                    }
                }
                Phase::Body(stack, reader) => {
                    let mut input = [0u8; 16 * 1024];
                    let mut out = [0u8; 16 * 1024];
                    let mut moved = 0usize;
                    let done = loop {
                        if reader.is_done() {
                            break true;
                        }
                        if moved >= DRIVE_BYTES {
                            break false;
                        }
                        let n = match stack.recv(&mut input) {
                            Ok(n) => n,
                            Err(e) if e.is_again() => break false,
                            Err(e) => return Err(e),
                        };
                        moved += n;
                        if n == 0 {
                            reader.on_close().map_err(|e| {
                                Error::new(
                                    ErrorKind::PartialFile,
                                    format!("{e} (from {})", self.target.connect_host),
                                )
                            })?;
                            self.keep_alive = false;
                            break true;
                        }
                        let mut rest = &input[..n];
                        loop {
                            let (used, produced) = reader.read(rest, &mut out).map_err(|e| {
                                Error::new(
                                    ErrorKind::RecvError,
                                    format!(
                                        "bad response body from {}: {e}",
                                        self.target.connect_host
                                    ),
                                )
                            })?;
                            if produced > 0 {
                                deliver(
                                    self.http.as_ref().and_then(|h| h.write.as_ref()),
                                    &out[..produced],
                                )?;
                                self.info.size_download += produced as u64;
                            }
                            rest = rest.get(used..).unwrap_or(&[]);
                            if reader.is_done() {
                                if !rest.is_empty() {
                                    // Bytes after the body: the connection is not clean.
                                    self.keep_alive = false;
                                }
                                break;
                            }
                            if rest.is_empty() || (used == 0 && produced == 0) {
                                break;
                            }
                        }
                    };
                    if !done {
                        return Ok(false);
                    }
                    let phase = std::mem::replace(&mut self.phase, Phase::Done(None));
                    if let Phase::Body(mut stack, _) = phase {
                        if self.keep_alive && !self.forbid_reuse && stack.pop_idle() {
                            log_info!(
                                self.settings.log,
                                "Connection to host {} left intact",
                                self.target.connect_host
                            );
                            self.pool_return = Some((self.pool_key.clone(), stack));
                        } else {
                            log_info!(self.settings.log, "Closing connection");
                        }
                    }
                    return Ok(true);
                }
                Phase::Done(_) => return Ok(true),
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

    /// Every name is in: keep the SOCKS targets, start racing the first hop.
    fn resolved(&mut self, jobs: Vec<NameJob>) -> Result<(), Error> {
        for job in jobs {
            let NameState::Done(addrs) = job.state else {
                continue;
            };
            match job.hop {
                None => {
                    let addrs = filter_family(addrs, self.settings.ip_resolve, &job.host)?;
                    log_resolved(&self.settings.log, &job.host, job.port, &addrs);
                    self.first_addrs = addrs;
                }
                Some(hop) => {
                    let socks4 = self
                        .route
                        .hops
                        .get(hop)
                        .is_some_and(|h| h.spec.kind == ProxyKind::Socks4);
                    let pick =
                        socks_destination(&addrs, self.settings.ip_resolve, socks4, &job.host)?;
                    if let Some(slot) = self.socks_targets.get_mut(hop) {
                        *slot = Some(pick);
                    }
                }
            }
        }
        self.phase = Phase::Connect(Racer::new(
            self.first_addrs.clone(),
            self.settings.happy_eyeballs,
            &self.settings.socket,
        ));
        Ok(())
    }

    fn timeout_error(&self) -> Error {
        let ms = self.budget.as_millis();
        let (host, port) = self.first_hop();
        let msg = match &self.phase {
            Phase::Resolve(jobs) => {
                let names: Vec<&str> = jobs.iter().map(|j| j.host.as_str()).collect();
                format!(
                    "Resolving timed out after {ms} milliseconds (resolving {})",
                    names.join(", ")
                )
            }
            Phase::Connect(racer) => {
                let trying: Vec<String> = racer
                    .in_flight_addrs()
                    .iter()
                    .map(SocketAddr::to_string)
                    .collect();
                format!(
                    "Failed to connect to {host} port {port} after {ms} ms: Timeout was reached (trying {})",
                    trying.join(", ")
                )
            }
            Phase::Setup(stack) => {
                let step = stack
                    .step()
                    .unwrap_or_else(|| format!("connected to {}", stack.peer()));
                if self.request_sent {
                    format!("Operation timed out after {ms} ms {step}")
                } else {
                    format!(
                        "Connection to {} port {} timed out after {ms} ms {step}",
                        self.target.connect_host, self.target.connect_port,
                    )
                }
            }
            Phase::Body(..) | Phase::WsStream(..) => format!(
                "Operation timed out after {ms} ms reading the response from {}",
                self.target.connect_host
            ),
            Phase::Done(_) => format!("timed out after {ms} ms"),
        };
        Error::new(ErrorKind::OperationTimedout, msg)
    }

    /// Adds the descriptors this transfer waits on to `out`.
    pub fn pollset(&self, out: &mut Vec<PollFd>) {
        match &self.phase {
            Phase::Resolve(jobs) => {
                for job in jobs {
                    if let NameState::Pending(lookup) = &job.state {
                        out.push(PollFd::new(lookup.fd(), Interest::READ));
                    }
                }
            }
            Phase::Connect(racer) => racer.pollset(out),
            Phase::Setup(stack) => {
                let mut interest = stack.interest();
                if interest.is_none() {
                    interest = Interest::READ;
                }
                out.push(PollFd::new(stack.fd(), interest));
            }
            Phase::Body(stack, _) | Phase::WsStream(stack, _) => {
                out.push(PollFd::new(stack.fd(), Interest::READ))
            }
            Phase::Done(_) => {}
        }
    }

    /// True when the transfer can move without any descriptor turning
    /// ready: bytes already held in a layer or a WebSocket buffer.
    pub fn ready_now(&self) -> bool {
        match &self.phase {
            Phase::Body(stack, _) => stack.ready(),
            Phase::WsStream(stack, session) => stack.ready() || session.pending() > 0,
            _ => false,
        }
    }

    /// The earliest moment `drive` must be called again even if no
    /// descriptor turns ready.
    pub fn next_deadline(&self) -> Option<Instant> {
        let racer = match &self.phase {
            Phase::Connect(racer) => racer.next_deadline(),
            _ => None,
        };
        match (racer, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn info(&self) -> &Info {
        &self.info
    }

    /// The final response head, once read, and the method of the request it
    /// answers (which decides the body's framing).
    pub fn take_head(&mut self) -> Option<(http1::ResponseHead, String)> {
        let method = self.http.as_ref().map_or("GET", |h| h.method.as_str());
        self.last_head.take().map(|head| (head, method.to_owned()))
    }

    /// A keep-alive connection for the pool, after an ordinary transfer.
    pub fn take_pool_return(&mut self) -> Option<(String, Stack)> {
        self.pool_return.take()
    }

    /// The `CURLOPT_WS_OPTIONS` bits, when the transfer upgraded to WebSocket.
    pub fn websocket(&self) -> Option<u32> {
        self.http.as_ref().filter(|h| h.ws).map(|_| self.ws_options)
    }

    /// The connected stack, once `drive` returned `Ok(true)`.
    pub fn take_stack(&mut self) -> Option<Stack> {
        match &mut self.phase {
            Phase::Done(stack) => stack.take(),
            _ => None,
        }
    }
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

fn scheme_upper(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::Http => "HTTP",
        Scheme::Https => "HTTPS",
        Scheme::Ws => "WS",
        Scheme::Wss => "WSS",
        Scheme::Telnet => "TELNET",
        Scheme::Dict => "DICT",
        Scheme::Gopher => "GOPHER",
        Scheme::Gophers => "GOPHERS",
    }
}
