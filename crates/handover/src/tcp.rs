//! Connecting the first hop: opening non-blocking sockets with the handle's
//! socket options, and racing TCP attempts as the happy-eyeballs planner
//! directs — or connecting the one Unix domain socket the handle names.
//!
//! The planner orders attempts by IP family; a Unix socket is the only
//! target when there is one (it replaces the host's addresses), so it
//! enters the planner as a placeholder address and never competes.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::Instant;

use handover_proto::happy_eyeballs::{Outcome, Planner};
use socket2::{Domain, Protocol, SockAddr, Socket, TcpKeepalive, Type};

use crate::callbacks::{SocketHooks, SocketPurpose, SocketRequest, SockoptResult};
use crate::endpoint::{Endpoint, UnixPath};
use crate::error::{Error, ErrorKind};
use crate::options::SocketOptions;
use crate::sys::Closing;

use crate::verbose::{log_info, Logger};

/// A socket being connected, closed through the application's close
/// function when one is set.
type Attempt = Closing<Socket>;

/// Opens a socket towards `addr` and starts a non-blocking connect, in
/// libcurl's order: the socket (the application's open function, or
/// `socket(2)`), `TCP_NODELAY`, keepalive, the application's sockopt
/// function, the local bind, non-blocking mode, `connect(2)` (unless the
/// sockopt function said the socket is connected already).
/// Returns the socket and the address it connects to (which the open
/// function may have changed).
fn open(
    target: SocketAddr,
    opts: &SocketOptions,
    hooks: &SocketHooks,
) -> Result<(Attempt, SocketAddr), Error> {
    let mut addr = target;
    if let SocketAddr::V6(v6) = &mut addr {
        if opts.address_scope != 0 {
            v6.set_scope_id(opts.address_scope);
        }
    }
    let scoped = addr;
    let fail = |kind: ErrorKind, what: &str, e: &io::Error| {
        Error::from_io(kind, format_args!("{what} for {scoped}"), e)
    };
    let socket = match &hooks.open {
        None => Socket::new(
            Domain::for_address(addr),
            Type::STREAM.nonblocking(),
            Some(Protocol::TCP),
        )
        .map_err(|e| fail(ErrorKind::CouldntConnect, "cannot create socket", &e))?,
        Some(opener) => {
            let mut request = SocketRequest {
                family: if addr.is_ipv4() {
                    libc::AF_INET
                } else {
                    libc::AF_INET6
                },
                socktype: libc::SOCK_STREAM,
                protocol: libc::IPPROTO_TCP,
                addr,
            };
            let Some(fd) = opener.open(SocketPurpose::IpConnection, &mut request) else {
                // libcurl: CURL_SOCKET_BAD from the callback is
                // CURLE_COULDNT_CONNECT for this address.
                return Err(Error::new(
                    ErrorKind::CouldntConnect,
                    format!("the open-socket function gave no socket for {addr}"),
                ));
            };
            addr = request.addr;
            Socket::from(fd)
        }
    };
    let socket = Closing::new(socket, hooks.close.clone());
    if opts.tcp_nodelay {
        // Best effort, as libcurl: a failure here is not a reason to give up.
        let _ = socket.set_tcp_nodelay(true);
    }
    if opts.tcp_keepalive {
        let params = TcpKeepalive::new()
            .with_time(opts.keepalive_idle)
            .with_interval(opts.keepalive_interval)
            .with_retries(opts.keepalive_count);
        let _ = socket.set_tcp_keepalive(&params);
    }
    let mut connected = false;
    if let Some(configurer) = &hooks.sockopt {
        match configurer.configure(socket.as_fd(), SocketPurpose::IpConnection) {
            SockoptResult::Ok => {}
            SockoptResult::AlreadyConnected => connected = true,
            SockoptResult::Error => {
                return Err(Error::new(
                    ErrorKind::AbortedByCallback,
                    "the sockopt function failed",
                ))
            }
        }
    }
    bind_local(&socket, addr, opts)?;
    if hooks.open.is_some() {
        socket.set_nonblocking(true).map_err(|e| {
            fail(
                ErrorKind::CouldntConnect,
                "cannot make socket non-blocking",
                &e,
            )
        })?;
    }
    if connected {
        return Ok((socket, addr));
    }
    if opts.tcp_fastopen {
        // Best effort, as libcurl: a kernel without it connects normally.
        let _ = crate::sys::set_tcp_fastopen_connect(socket.as_fd());
    }
    match socket.connect(&SockAddr::from(addr)) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => return Err(fail(ErrorKind::CouldntConnect, "connect failed", &e)),
    }
    Ok((socket, addr))
}

/// Opens a Unix domain socket and starts connecting it to `path`. libcurl
/// applies none of its TCP options (no-delay, keepalive, the local bind)
/// to a Unix socket, and neither does handover; the sockopt function is
/// called, and the close function closes it. The open-socket function is
/// not: its request describes an IP address (a documented difference).
fn open_unix(path: &UnixPath, hooks: &SocketHooks) -> Result<Attempt, Error> {
    let addr = path.sock_addr()?;
    let fail = |kind: ErrorKind, what: &str, e: &io::Error| {
        Error::from_io(kind, format_args!("{what} for {path}"), e)
    };
    let socket = Socket::new(Domain::UNIX, Type::STREAM.nonblocking(), None)
        .map_err(|e| fail(ErrorKind::CouldntConnect, "cannot create socket", &e))?;
    let socket = Closing::new(socket, hooks.close.clone());
    if let Some(configurer) = &hooks.sockopt {
        match configurer.configure(socket.as_fd(), SocketPurpose::IpConnection) {
            SockoptResult::Ok => {}
            SockoptResult::AlreadyConnected => return Ok(socket),
            SockoptResult::Error => {
                return Err(Error::new(
                    ErrorKind::AbortedByCallback,
                    "the sockopt function failed",
                ))
            }
        }
    }
    match socket.connect(&addr) {
        Ok(()) => Ok(socket),
        // A full backlog: the connect completes later (or fails), as a TCP
        // one in progress.
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(socket),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(socket),
        Err(e) => Err(fail(ErrorKind::CouldntConnect, "connect failed", &e)),
    }
}

/// Applies `interface` and `local_port`: a device name (`if!name` or a
/// plain name), or a local IP literal (`host!ip` or plain), and a port range.
pub(crate) fn bind_local(
    socket: &Socket,
    addr: SocketAddr,
    opts: &SocketOptions,
) -> Result<(), Error> {
    let mut local_ip: Option<IpAddr> = None;
    if let Some(iface) = &opts.interface {
        let (device, host) = if let Some(name) = iface.strip_prefix("if!") {
            (Some(name), None)
        } else if let Some(host) = iface.strip_prefix("host!") {
            (None, Some(host))
        } else if iface.parse::<IpAddr>().is_ok() {
            (None, Some(iface.as_str()))
        } else {
            (Some(iface.as_str()), None)
        };
        if let Some(name) = device {
            socket.bind_device(Some(name.as_bytes())).map_err(|e| {
                Error::from_io(
                    ErrorKind::InterfaceFailed,
                    format_args!("cannot bind to interface '{name}'"),
                    &e,
                )
            })?;
        }
        if let Some(host) = host {
            let ip = host.parse::<IpAddr>().map_err(|_| {
                Error::new(
                    ErrorKind::InterfaceFailed,
                    format!("local address '{host}' is not an IP address"),
                )
            })?;
            if ip.is_ipv4() != addr.is_ipv4() {
                return Err(Error::new(
                    ErrorKind::InterfaceFailed,
                    format!("local address {ip} cannot reach {addr} (other address family)"),
                ));
            }
            local_ip = Some(ip);
        }
    }
    if local_ip.is_none() && opts.local_port == 0 {
        return Ok(());
    }
    let ip = local_ip.unwrap_or(match addr {
        SocketAddr::V4(_) => IpAddr::from([0u8; 4]),
        SocketAddr::V6(_) => IpAddr::from([0u16; 8]),
    });
    if opts.local_port == 0 {
        return socket
            .bind(&SockAddr::from(SocketAddr::new(ip, 0)))
            .map_err(|e| {
                Error::from_io(
                    ErrorKind::InterfaceFailed,
                    format_args!("cannot bind to {ip}"),
                    &e,
                )
            });
    }
    let range = opts.local_port_range.max(1);
    let mut last = None;
    for offset in 0..range {
        let Some(port) = opts.local_port.checked_add(offset) else {
            break;
        };
        match socket.bind(&SockAddr::from(SocketAddr::new(ip, port))) {
            Ok(()) => return Ok(()),
            Err(e) => last = Some(e),
        }
    }
    let e = last.unwrap_or_else(|| io::Error::from(io::ErrorKind::AddrInUse));
    Err(Error::from_io(
        ErrorKind::InterfaceFailed,
        format_args!(
            "bind to local port {}..{} failed",
            opts.local_port,
            opts.local_port.saturating_add(range - 1)
        ),
        &e,
    ))
}

/// Where one in-flight attempt stands.
enum Check {
    Pending,
    Connected,
    Failed(io::Error),
}

fn check(socket: &Socket) -> Check {
    // A peer address means connected: one system call in the common case
    // (loopback and fast networks connect before the first check).
    match socket.peer_addr() {
        Ok(_) => return Check::Connected,
        Err(e) if e.raw_os_error() != Some(libc::ENOTCONN) => return Check::Failed(e),
        Err(_) => {}
    }
    // Not connected: still in progress, or failed with the error SO_ERROR holds.
    match socket.take_error() {
        Ok(Some(e)) => Check::Failed(e),
        Err(e) => Check::Failed(e),
        Ok(None) => Check::Pending,
    }
}

/// Races TCP connection attempts to a host's addresses.
pub(crate) struct Racer {
    planner: Planner,
    /// What each of the planner's addresses stands for.
    targets: Vec<Endpoint>,
    /// Per target: the attempt's socket and where it connects to.
    sockets: Vec<Option<(Attempt, Endpoint)>>,
    opts: SocketOptions,
    hooks: SocketHooks,
    /// The most recent failure, reported if every address fails.
    last_error: Option<Error>,
    /// Every attempt started, for the setup's timeline.
    attempts: Vec<AttemptRecord>,
}

/// One attempt of the race, as it went: the clock read when it began and
/// when it connected or failed.
pub(crate) struct AttemptRecord {
    pub target: Endpoint,
    pub start: Instant,
    pub end: Option<Instant>,
    pub won: bool,
    pub failed: Option<ErrorKind>,
}

/// A won race: the connected stream and the address it reached.
pub(crate) struct Connected {
    pub stream: Closing<Socket>,
    /// The index of the winning attempt among the racer's addresses.
    pub attempt: usize,
    pub peer: Endpoint,
    /// errno of an attempt that failed before the winner (CURLINFO_OS_ERRNO).
    pub os_errno: Option<i32>,
}

impl Racer {
    pub fn new(
        targets: Vec<Endpoint>,
        delay: std::time::Duration,
        opts: &SocketOptions,
        hooks: &SocketHooks,
    ) -> Racer {
        let placeholder = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
        let addrs = targets
            .iter()
            .map(|t| t.ip().unwrap_or(placeholder))
            .collect();
        let planner = Planner::new(addrs, delay);
        let sockets = (0..planner.addrs().len()).map(|_| None).collect();
        Racer {
            planner,
            targets,
            sockets,
            opts: opts.clone(),
            hooks: hooks.clone(),
            last_error: None,
            attempts: Vec::new(),
        }
    }

    /// The attempts so far (taken: the racer keeps none after).
    pub fn take_attempts(&mut self) -> Vec<AttemptRecord> {
        std::mem::take(&mut self.attempts)
    }

    /// Closes the record of attempt `target` at the clock read now.
    fn settle(&mut self, target: &Endpoint, won: bool, failed: Option<ErrorKind>) {
        let now = Instant::now();
        if let Some(record) = self
            .attempts
            .iter_mut()
            .rev()
            .find(|r| r.target == *target && r.end.is_none() && r.failed.is_none())
        {
            record.won = won;
            record.failed = failed;
            if failed.is_none() {
                record.end = Some(now);
            }
        }
    }

    /// Starts due attempts and checks in-flight ones. `Ok(Some)` when one
    /// connected; an error once every address has failed.
    pub fn drive(&mut self, now: Instant, log: &Logger) -> Result<Option<Connected>, Error> {
        loop {
            while let Some(i) = self.planner.poll_start(now) {
                let Some(target) = self.targets.get(i) else {
                    continue;
                };
                match target {
                    Endpoint::Ip(addr) => log_info!(log, "  Trying {addr}..."),
                    // libcurl shows a Unix socket with port 0.
                    Endpoint::Unix(path) => log_info!(log, "  Trying {path}:0..."),
                }
                self.attempts.push(AttemptRecord {
                    target: target.clone(),
                    start: Instant::now(),
                    end: None,
                    won: false,
                    failed: None,
                });
                let opened = match target {
                    Endpoint::Ip(addr) => open(*addr, &self.opts, &self.hooks)
                        .map(|(socket, addr)| (socket, Endpoint::Ip(addr))),
                    Endpoint::Unix(path) => {
                        open_unix(path, &self.hooks).map(|socket| (socket, target.clone()))
                    }
                };
                match opened {
                    Ok(socket) => {
                        if let Some(slot) = self.sockets.get_mut(i) {
                            *slot = Some(socket);
                        }
                    }
                    Err(e) => {
                        log_info!(log, "{e}");
                        let target = target.clone();
                        self.settle(&target, false, Some(e.kind()));
                        self.last_error = Some(e);
                        self.planner.failed(i, now);
                    }
                }
            }
            let mut failed_any = false;
            let in_flight: Vec<usize> = self.planner.in_flight().collect();
            for i in in_flight {
                let Some((socket, target)) = self.sockets.get(i).and_then(Option::as_ref) else {
                    continue;
                };
                match check(socket) {
                    Check::Pending => {}
                    Check::Connected => {
                        self.planner.connected(i);
                    }
                    Check::Failed(e) => {
                        let addr_text = target.to_string();
                        let target = target.clone();
                        self.settle(&target, false, Some(ErrorKind::CouldntConnect));
                        log_info!(log, "connect to {addr_text} failed: {e}");
                        self.last_error = Some(Error::from_io(
                            ErrorKind::CouldntConnect,
                            format_args!("connect to {addr_text} failed"),
                            &e,
                        ));
                        self.sockets[i] = None;
                        self.planner.failed(i, now);
                        failed_any = true;
                    }
                }
            }
            match self.planner.outcome() {
                Outcome::Connected(i) => {
                    let Some((socket, peer)) = self.sockets.get_mut(i).and_then(Option::take)
                    else {
                        return Err(Error::new(
                            ErrorKind::CouldntConnect,
                            "internal: winning attempt vanished",
                        ));
                    };
                    // The losers are closed as the racer drops them.
                    self.sockets.clear();
                    let target = self.targets.get(i).cloned();
                    if let Some(target) = target {
                        self.settle(&target, true, None);
                    }
                    return Ok(Some(Connected {
                        stream: socket,
                        attempt: i,
                        peer,
                        os_errno: self.last_error.as_ref().and_then(Error::os_errno),
                    }));
                }
                Outcome::Exhausted => {
                    return Err(self.last_error.take().unwrap_or_else(|| {
                        Error::new(ErrorKind::CouldntConnect, "no address to connect to")
                    }))
                }
                Outcome::Pending => {
                    // A failure may have made the next attempt due at once.
                    if !failed_any {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// The sockets of the attempts in flight: `f(attempt index, descriptor)`.
    /// Each address is tried once, so the index names the socket.
    pub fn each_in_flight(&self, mut f: impl FnMut(u32, RawFd)) {
        for i in self.planner.in_flight() {
            if let Some((socket, _)) = self.sockets.get(i).and_then(Option::as_ref) {
                f(u32::try_from(i).unwrap_or(u32::MAX), socket.as_raw_fd());
            }
        }
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.planner.next_deadline()
    }

    /// Where the in-flight attempts go (for the timeout message).
    pub fn in_flight_targets(&self) -> Vec<&Endpoint> {
        self.planner
            .in_flight()
            .filter_map(|i| self.targets.get(i))
            .collect()
    }
}
