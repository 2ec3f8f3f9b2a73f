//! The transfer state machine and the loop that drives it.
//!
//! ```text
//!   Resolve ──> Connect (happy eyeballs) ──> Setup (layers: TLS, ...) ──> Done
//!      └────────────┴──────────────────────────┴──> Failed(Error)
//! ```
//!
//! A transfer never blocks: `drive` does what can be done now and says
//! whether it finished; `pollset` and `next_deadline` say what to wait for.
//! `Easy::perform` runs one transfer with `run`; `Multi` drives many.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use handover_proto::hosts::ResolveEntry;
use handover_proto::url::{Scheme, Url};

use crate::error::{Error, ErrorKind};
use crate::info::Info;
use crate::layer::{ConnectCx, Progress, Stack};
use crate::options::{ConnectOnly, IpResolve, Options};
use crate::resolve::{self, Lookup};
use crate::sys::{self, Interest, PollFd};
use crate::tcp::Racer;
use crate::tls::{Alpn, TlsCache, TlsLayer, TlsSetup};
use crate::verbose::{log_info, Logger};

/// Where the connection goes: the URL's host, or what `connect_to` made of it.
struct Target {
    /// The URL's host: the TLS server name and the name in messages.
    host: String,
    /// The host and port actually connected to.
    connect_host: String,
    connect_port: u16,
}

enum Phase {
    Resolve(Lookup),
    Connect(Racer),
    Setup(Stack),
    Done(Option<Stack>),
}

/// One transfer, from URL to connected stack.
pub(crate) struct Transfer {
    target: Target,
    phase: Phase,
    log: Logger,
    ip_resolve: IpResolve,
    socket_opts: crate::options::SocketOptions,
    happy_eyeballs: Duration,
    tls: Option<TlsSetup>,
    started: Instant,
    /// None when the budget reaches past what `Instant` can hold.
    deadline: Option<Instant>,
    budget: Duration,
    info: Info,
}

impl Transfer {
    /// Checks the options and starts resolving. `tls` supplies (and caches)
    /// the TLS configuration when the scheme needs one.
    pub fn start(opts: &Options, tls: &mut TlsCache, now: Instant) -> Result<Transfer, Error> {
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
        match opts.connect_only {
            ConnectOnly::Connection => {}
            ConnectOnly::Off => {
                return Err(Error::new(
                    ErrorKind::NotBuiltIn,
                    "ordinary transfers (connect_only = 0) are not built in yet; \
                     use connect_only(ConnectOnly::Connection)",
                ))
            }
            ConnectOnly::Headers => {
                return Err(Error::new(
                    ErrorKind::NotBuiltIn,
                    "connect_only = 2 (request and response headers) is not built in yet",
                ))
            }
        }
        let port = url.port.unwrap_or(scheme.default_port());
        let (connect_host, connect_port) = opts
            .connect_to
            .iter()
            .find_map(|rule| rule.apply(&url.host, port))
            .unwrap_or_else(|| (url.host.clone(), port));
        let tls_setup = if scheme.uses_tls() {
            let alpn = match scheme {
                Scheme::Https | Scheme::Wss => Alpn::Http11,
                _ => Alpn::None,
            };
            Some(tls.get(&opts.tls, alpn)?)
        } else {
            None
        };
        let budget = opts.connect_budget();
        let mut info = Info {
            effective_url: Some(url.to_string()),
            scheme: Some(scheme_upper(scheme)),
            ..Info::default()
        };
        info.ssl_verify_result = 0;
        let target = Target {
            host: url.host.clone(),
            connect_host,
            connect_port,
        };
        let log = opts.log.clone();
        let phase = match preset_addresses(opts, &target) {
            Some(addrs) => {
                let addrs = filter_family(addrs, opts.ip_resolve, &target)?;
                log_resolved(&log, &target, &addrs);
                Phase::Connect(Racer::new(addrs, opts.happy_eyeballs_delay(), &opts.socket))
            }
            None => {
                let lookup =
                    Lookup::start(&target.connect_host, target.connect_port).map_err(|e| {
                        Error::from_io(
                            ErrorKind::CouldntResolveHost,
                            format_args!("cannot start resolving {}", target.connect_host),
                            &e,
                        )
                    })?;
                Phase::Resolve(lookup)
            }
        };
        let mut transfer = Transfer {
            target,
            phase,
            log,
            ip_resolve: opts.ip_resolve,
            socket_opts: opts.socket.clone(),
            happy_eyeballs: opts.happy_eyeballs_delay(),
            tls: tls_setup,
            started: now,
            deadline: now.checked_add(budget),
            budget,
            info,
        };
        if matches!(transfer.phase, Phase::Connect(_)) {
            transfer.info.namelookup = Duration::ZERO;
        }
        Ok(transfer)
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
            log_info!(self.log, "{e}");
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
                Phase::Resolve(lookup) => {
                    let Some(answer) = lookup.poll() else {
                        return Ok(false);
                    };
                    let addrs = answer.map_err(|e| {
                        Error::new(
                            ErrorKind::CouldntResolveHost,
                            format!("Could not resolve host: {} ({e})", self.target.connect_host),
                        )
                    })?;
                    let addrs = filter_family(addrs, self.ip_resolve, &self.target)?;
                    self.info.namelookup = now.saturating_duration_since(self.started);
                    log_resolved(&self.log, &self.target, &addrs);
                    self.phase =
                        Phase::Connect(Racer::new(addrs, self.happy_eyeballs, &self.socket_opts));
                }
                Phase::Connect(racer) => {
                    let connected = racer.drive(now, &self.log).map_err(|e| {
                        Error::new(
                            e.kind(),
                            format!(
                                "Failed to connect to {} port {} after {} ms: {e}",
                                self.target.connect_host,
                                self.target.connect_port,
                                now.saturating_duration_since(self.started).as_millis()
                            ),
                        )
                        .with_errno(e.os_errno())
                    })?;
                    let Some(c) = connected else {
                        return Ok(false);
                    };
                    self.info.connect = now.saturating_duration_since(self.started);
                    self.info.primary = Some(c.peer);
                    self.info.local = c.stream.local_addr().ok();
                    self.info.num_connects = 1;
                    if let Some(errno) = c.os_errno {
                        self.info.os_errno = errno;
                    }
                    log_info!(
                        self.log,
                        "Connected to {} ({}) port {}",
                        self.target.connect_host,
                        c.peer.ip(),
                        c.peer.port()
                    );
                    let mut stack = Stack::new(c.stream, c.peer);
                    if let Some(setup) = &self.tls {
                        if self.log.enabled() {
                            let offers = if setup.config.alpn_protocols.is_empty() {
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
                            log_info!(self.log, "ALPN: offers {offers}");
                            log_info!(
                                self.log,
                                "TLS handshake with {} (server name {})",
                                c.peer,
                                self.target.host
                            );
                        }
                        stack.push(Box::new(TlsLayer::new(setup, &self.target.host, c.peer)?));
                    }
                    self.phase = Phase::Setup(stack);
                }
                Phase::Setup(stack) => {
                    let mut cx = ConnectCx { log: &self.log };
                    match stack.connect(&mut cx)? {
                        Progress::Pending => return Ok(false),
                        Progress::Done => {
                            let elapsed = now.saturating_duration_since(self.started);
                            if self.tls.is_some() {
                                self.info.appconnect = elapsed;
                            }
                            if let Phase::Setup(stack) =
                                std::mem::replace(&mut self.phase, Phase::Done(None))
                            {
                                self.phase = Phase::Done(Some(stack));
                            }
                            log_info!(
                                self.log,
                                "Connection to {} port {} is set up; handing it over",
                                self.target.connect_host,
                                self.target.connect_port
                            );
                            return Ok(true);
                        }
                    }
                }
                Phase::Done(_) => return Ok(true),
            }
        }
    }

    fn timeout_error(&self) -> Error {
        let ms = self.budget.as_millis();
        let t = &self.target;
        let msg = match &self.phase {
            Phase::Resolve(_) => {
                format!(
                    "Resolving timed out after {ms} milliseconds (host {})",
                    t.connect_host
                )
            }
            Phase::Connect(racer) => {
                let trying: Vec<String> = racer
                    .in_flight_addrs()
                    .iter()
                    .map(SocketAddr::to_string)
                    .collect();
                format!(
                    "Failed to connect to {} port {} after {ms} ms: Timeout was reached (trying {})",
                    t.connect_host,
                    t.connect_port,
                    trying.join(", ")
                )
            }
            Phase::Setup(stack) => format!(
                "Connection to {} ({}) timed out after {ms} ms while setting up {}",
                t.connect_host,
                stack.peer(),
                if self.tls.is_some() {
                    "TLS"
                } else {
                    "the connection"
                }
            ),
            Phase::Done(_) => format!("timed out after {ms} ms"),
        };
        Error::new(ErrorKind::OperationTimedout, msg)
    }

    /// Adds the descriptors this transfer waits on to `out`.
    pub fn pollset(&self, out: &mut Vec<PollFd>) {
        match &self.phase {
            Phase::Resolve(lookup) => out.push(PollFd::new(lookup.fd(), Interest::READ)),
            Phase::Connect(racer) => racer.pollset(out),
            Phase::Setup(stack) => {
                let mut interest = stack.interest();
                if interest.is_none() {
                    interest = Interest::READ;
                }
                out.push(PollFd::new(stack.fd(), interest));
            }
            Phase::Done(_) => {}
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
        let wait = transfer
            .next_deadline()
            .map(|d| d.saturating_duration_since(Instant::now()));
        sys::poll(&mut fds, wait)
            .map_err(|e| Error::from_io(ErrorKind::UnrecoverablePoll, "poll failed", &e))?;
    }
}

/// Addresses known without asking the resolver: `resolve` entries, IP
/// literals and localhost.
fn preset_addresses(opts: &Options, target: &Target) -> Option<Vec<SocketAddr>> {
    let host = target.connect_host.to_ascii_lowercase();
    let mut found: Option<Vec<SocketAddr>> = None;
    for entry in &opts.resolve {
        match entry {
            ResolveEntry::Add {
                host: h,
                port,
                addrs,
                ..
            } if *h == host && *port == target.connect_port => {
                found = Some(
                    addrs
                        .iter()
                        .map(|ip| SocketAddr::new(*ip, target.connect_port))
                        .collect(),
                );
            }
            ResolveEntry::Remove { host: h, port }
                if *h == host && *port == target.connect_port =>
            {
                found = None;
            }
            _ => {}
        }
    }
    found.or_else(|| resolve::without_lookup(&target.connect_host, target.connect_port))
}

fn filter_family(
    addrs: Vec<SocketAddr>,
    family: IpResolve,
    target: &Target,
) -> Result<Vec<SocketAddr>, Error> {
    let kept: Vec<SocketAddr> = addrs
        .into_iter()
        .filter(|a| match family {
            IpResolve::Any => true,
            IpResolve::V4 => a.is_ipv4(),
            IpResolve::V6 => a.is_ipv6(),
        })
        .collect();
    if kept.is_empty() {
        let which = match family {
            IpResolve::Any => "",
            IpResolve::V4 => " IPv4",
            IpResolve::V6 => " IPv6",
        };
        return Err(Error::new(
            ErrorKind::CouldntResolveHost,
            format!(
                "Could not resolve host: {} (no{which} address)",
                target.connect_host
            ),
        ));
    }
    Ok(kept)
}

fn log_resolved(log: &Logger, target: &Target, addrs: &[SocketAddr]) {
    if !log.enabled() {
        return;
    }
    log_info!(
        log,
        "Host {}:{} was resolved.",
        target.connect_host,
        target.connect_port
    );
    let list = |v6: bool| {
        addrs
            .iter()
            .filter(|a| a.is_ipv6() == v6)
            .map(|a| a.ip().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let v6 = list(true);
    let v4 = list(false);
    log_info!(log, "IPv6: {}", if v6.is_empty() { "(none)" } else { &v6 });
    log_info!(log, "IPv4: {}", if v4.is_empty() { "(none)" } else { &v4 });
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
