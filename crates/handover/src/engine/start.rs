//! Start: the options become a transfer — the URL checked, the route
//! planned, TLS set up, the request planned, the pool key made — and the
//! transfer either takes a pooled connection or starts resolving.

use std::time::Instant;

use handover_proto::proxy::ProxyKind;
use handover_proto::url::Scheme;

use super::names::name_jobs;
use super::protocol::ProtocolPhase;
use super::request::http_plan;
use super::{Deadlines, Phase, Settings, Target, Transfer};
use crate::error::{Error, ErrorKind};
use crate::info::Info;
use crate::options::{ConnectOnly, Options};
use crate::pool::{Pool, PoolKey};
use crate::route;
use crate::tls::{Alpn, TlsCache};
use crate::verbose::log_info;

/// The URL of `opts`, parsed and checked against the options that refuse
/// one (a user name where it is disallowed, a protocol left out), and its
/// scheme.
pub(crate) fn checked_url(
    opts: &Options,
) -> Result<(std::sync::Arc<crate::options::ParsedUrl>, Scheme), Error> {
    let parsed = opts
        .url
        .as_ref()
        .ok_or_else(|| Error::new(ErrorKind::UrlMalformat, "no URL set"))?
        .parsed()
        .map_err(|e| Error::new(ErrorKind::UrlMalformat, e.to_string()))?;
    let url = &parsed.url;
    if opts.auth.disallow_username_in_url && url.user.is_some() {
        // libcurl's own words.
        return Err(Error::new(
            ErrorKind::LoginDenied,
            "Option DISALLOW_USERNAME_IN_URL is set and URL contains username.",
        ));
    }
    let scheme = Scheme::from_name(&url.scheme).ok_or_else(|| unknown_scheme(&url.scheme))?;
    if let Some(allowed) = &opts.protocols {
        if !allowed
            .iter()
            .any(|p| p.eq_ignore_ascii_case(scheme.name()))
        {
            // libcurl's words for a protocol CURLOPT_PROTOCOLS_STR leaves out.
            return Err(Error::new(
                ErrorKind::UnsupportedProtocol,
                format!(
                    "Protocol \"{}\" disabled (allowed: {})",
                    scheme.name(),
                    allowed.join(",")
                ),
            ));
        }
    }
    Ok((parsed, scheme))
}

/// The port of `url`: the port option's, else the URL's, else the
/// scheme's default.
pub(crate) fn url_port(opts: &Options, url: &handover_proto::url::Url, scheme: Scheme) -> u16 {
    opts.port.or(url.port).unwrap_or(scheme.default_port())
}

/// Where the connection for `url` on `port` goes: the first `connect_to`
/// rule that matches, else the URL's host and port; and whether a rule
/// matched.
pub(crate) fn connect_target(
    opts: &Options,
    url: &handover_proto::url::Url,
    port: u16,
) -> (Target, bool) {
    let redirected = opts
        .connect_to
        .iter()
        .find_map(|rule| rule.apply(&url.host, port));
    let matched = redirected.is_some();
    let (connect_host, connect_port) = redirected.unwrap_or_else(|| (url.host.clone(), port));
    let target = Target {
        host: url.host.clone(),
        connect_host,
        connect_port,
    };
    (target, matched)
}

/// The proxies a transfer with `opts` would use, without any I/O (see
/// [`Easy::route_plan`](crate::Easy::route_plan)).
pub(crate) fn route_plan(opts: &Options) -> Result<route::RoutePlan, Error> {
    let (parsed, scheme) = checked_url(opts)?;
    let port = url_port(opts, &parsed.url, scheme);
    let (target, connect_to_matched) = connect_target(opts, &parsed.url, port);
    let env = |name: &str| std::env::var(name).ok();
    let mut plan = route::select(opts, scheme, &target.connect_host, connect_to_matched, &env)?;
    // What is shown of a plan never carries a password.
    for hop in &mut plan.hops {
        hop.spec.password = None;
    }
    Ok(plan)
}

impl Transfer {
    /// Checks the options and plans the transfer — URL, route, TLS, request,
    /// pool key — without touching the network: a `Multi` plans a transfer
    /// first, to know the host it connects to before its connection limits
    /// let it [`launch`](Transfer::launch).
    pub fn plan(
        opts: &Options,
        tls: &mut TlsCache,
        dns: &crate::dns_cache::SharedDnsCache,
        now: Instant,
    ) -> Result<Transfer, Error> {
        let (parsed, scheme) = checked_url(opts)?;
        let url = &parsed.url;
        check_mode(opts.connect_only, scheme)?;
        let port = url_port(opts, url, scheme);
        let (target, connect_to_matched) = connect_target(opts, url, port);
        let env = |name: &str| std::env::var(name).ok();
        let route = route::plan(
            opts,
            scheme,
            &target.connect_host,
            connect_to_matched,
            tls,
            &env,
        )?;
        if scheme.datagram() && (!route.hops.is_empty() || opts.unix_socket.is_some()) {
            // libcurl: "tftp cannot be done over CONNECT" (1).
            return Err(Error::new(
                ErrorKind::UnsupportedProtocol,
                format!(
                    "{} cannot be done over a proxy or a Unix socket: it is UDP",
                    scheme.name()
                ),
            ));
        }
        let tls_setup = if scheme.uses_tls() && route.reaches_target() {
            Some(tls.get(&opts.server_tls(), Alpn::for_scheme(scheme))?)
        } else {
            None
        };
        let protocol = ProtocolPhase::plan(opts, url, scheme)?;
        let starttls = match &protocol {
            Some(phase) if phase.may_start_tls() && route.reaches_target() => {
                Some(tls.get(&opts.server_tls(), Alpn::for_scheme(scheme))?)
            }
            _ => None,
        };
        let budget = opts.connect_budget();
        let info = Info {
            // As libcurl, the URL as given even when `port` replaced its port.
            effective_url: Some(parsed.effective.clone()),
            scheme: Some(scheme_upper(scheme)),
            used_proxy: !route.hops.is_empty(),
            xfer_id: crate::info::next_transfer_id(),
            ..Info::default()
        };
        // A SOCKS5 user name or password too long to send fails as at the
        // proxy, before the target's name is resolved locally (curl test
        // 716: libcurl authenticates with the proxy first; handover
        // resolves first and answered 6).
        for hop in &route.hops {
            if let (ProxyKind::Socks5 | ProxyKind::Socks5h, Some(c)) =
                (hop.spec.kind, &hop.credentials)
            {
                handover_proto::socks::Socks5::check_credentials(&c.user, &c.password)
                    .map_err(|e| crate::handshake::socks_error(&e, &hop.spec.host_port()))?;
            }
        }
        let hops = route.hops.len();
        let http = match opts.connect_only {
            ConnectOnly::Connection => None,
            _ => Some(http_plan(opts, url, scheme, port, &route)?),
        };
        // Only ordinary transfers share connections (libcurl: connect-only
        // never takes a pooled connection nor leaves its own for others).
        let pool_key = (opts.connect_only == ConnectOnly::Off).then(|| {
            PoolKey::new(
                scheme,
                &target.host,
                &target.connect_host,
                target.connect_port,
                &route,
                opts,
            )
        });
        let settings = Settings {
            log: opts.log.clone(),
            ip_resolve: opts.ip_resolve,
            socket: opts.socket.clone(),
            happy_eyeballs: opts.happy_eyeballs_delay(),
            useragent: opts.useragent.clone(),
            proxy_headers: opts.proxy.headers.clone(),
            proxy_auth: opts.proxy.auth.mask(),
            resolve: opts.resolve.clone(),
            forbid_reuse: opts.forbid_reuse,
            ws_options: opts.http.ws_options,
            hooks: opts.socket_hooks.clone(),
            prereq: opts.prereq.clone(),
            resolver_start: opts.resolver_start.clone(),
            unix_socket: opts.unix_socket.clone().map(std::sync::Arc::new),
            dns_shuffle: opts.dns_shuffle,
            dns: {
                // libcurl loads CURLOPT_RESOLVE into the cache when a
                // transfer starts: later transfers still find the names.
                dns.load(&opts.resolve, now);
                dns.clone()
            },
            dns_timeout: opts.dns_cache_timeout,
            haproxy: opts.haproxy.clone(),
            certinfo: opts.certinfo,
            reuse: opts.reuse,
            low_speed: opts.low_speed,
            max_recv_speed: opts.max_recv_speed,
            max_send_speed: opts.max_send_speed,
            buffer_size: opts
                .buffer_size
                .unwrap_or(crate::options::DEFAULT_BUFFER_SIZE),
            upload_buffer_size: opts
                .upload_buffer_size
                .unwrap_or(crate::options::DEFAULT_UPLOAD_BUFFER_SIZE),
        };
        let transfer = Transfer {
            target,
            route,
            settings,
            phase: Phase::Resolve(Vec::new()),
            tls: tls_setup,
            datagram: scheme.datagram(),
            local_file: if scheme.local() {
                Some(url.file_path().ok_or_else(|| {
                    Error::new(ErrorKind::UrlMalformat, "the file:// path is not UTF-8")
                })?)
            } else {
                None
            },
            protocol,
            starttls,
            first_addrs: Vec::new(),
            socks_targets: vec![None; hops],
            carried: vec![None; hops],
            server_auth: handover_proto::auth::AuthMemory::default(),
            forward_auth: handover_proto::auth::AuthMemory::default(),
            auth_before_request: None,
            conn_created: now,
            speed: None,
            rate: None,
            send_pace: None,
            reconnects: 0,
            time: Deadlines {
                started: now,
                current: now.checked_add(budget),
                budget,
                connect: budget,
                overall: opts.timeout.filter(|t| !t.is_zero()),
            },
            info,
            mode: opts.connect_only,
            http,
            pool_key,
            last_head: None,
            last_interim: Vec::new(),
            fresh_connect: opts.fresh_connect,
            fd_epoch: 0,
            winner: 0,
            doh: super::doh::DohPlan::new(opts),
        };
        Ok(transfer)
    }

    /// Starts a planned transfer: on an idle connection of `pool` that
    /// fits, else — when `may_connect` — by resolving the first hop. The
    /// clock of its timeouts starts here. `Ok(false)`: it needs a new
    /// connection and may not open one; it stays planned.
    pub fn launch(&mut self, pool: &Pool, now: Instant, may_connect: bool) -> Result<bool, Error> {
        let pooled = match (&self.pool_key, self.fresh_connect) {
            (Some(key), false) => pool.take(key, self.settings.reuse, now),
            _ => None,
        };
        if pooled.is_none() && !may_connect {
            return Ok(false);
        }
        self.time.started = now;
        self.time.current = now.checked_add(self.time.connect);
        self.time.budget = self.time.connect;
        if let Some((stack, created)) = pooled {
            self.conn_created = created;
            // As libcurl, a connection through a proxy is named by it.
            match self.route.hops.first() {
                Some(hop) => log_info!(
                    self.settings.log,
                    "Re-using existing connection with proxy {}",
                    hop.spec.host
                ),
                None => log_info!(
                    self.settings.log,
                    "Re-using existing connection with host {}",
                    self.target.connect_host
                ),
            }
            self.info.primary = Some(stack.peer().clone());
            self.info.primary_port = stack.peer().ip().map_or(self.first_hop().1, |a| a.port());
            self.info.local = crate::endpoint::local_ip(stack.stream());
            self.info.conn_id = stack.id();
            self.prereq()?;
            self.send_request(stack, true, now)?;
            return Ok(true);
        }
        if let Some(path) = &self.local_file {
            // libcurl's file "connect" opens the file; there is no socket
            // to hand over, and the transfer ends here.
            std::fs::File::open(path).map_err(|e| {
                Error::from_io(
                    ErrorKind::FileCouldntReadFile,
                    format_args!("Couldn't open file {path}"),
                    &e,
                )
            })?;
            self.phase = Phase::Done(super::Ending::Closed);
            return Ok(true);
        }
        self.new_descriptors();
        self.phase = Phase::Resolve(name_jobs(self)?);
        Ok(true)
    }

    /// The host and port this transfer's connection goes to first (the
    /// first proxy, or the target), lowercased: what libcurl's per-host
    /// connection limit counts.
    pub fn first_hop_key(&self) -> (String, u16) {
        let (host, port) = self.first_hop();
        (host.to_ascii_lowercase(), port)
    }
}

/// The error for a URL whose scheme handover does not speak: libcurl's
/// schemes handover does not build are `NotBuiltIn` (4) with the reason,
/// others `UnsupportedProtocol` (1).
fn unknown_scheme(name: &str) -> Error {
    match handover_proto::url::NOT_BUILT
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
    {
        Some((known, why)) => Error::new(
            ErrorKind::NotBuiltIn,
            format!("Protocol \"{known}\" not built in: {why}"),
        ),
        None => Error::new(
            ErrorKind::UnsupportedProtocol,
            format!("Protocol \"{name}\" not supported"),
        ),
    }
}

/// Refuses a connect-only mode the scheme cannot do.
fn check_mode(mode: ConnectOnly, scheme: Scheme) -> Result<(), Error> {
    let web = matches!(
        scheme,
        Scheme::Http | Scheme::Https | Scheme::Ws | Scheme::Wss
    );
    match mode {
        ConnectOnly::Headers if !web => Err(Error::new(
            ErrorKind::UnsupportedProtocol,
            format!(
                "connect_only = 2 needs http, https, ws or wss, not {}",
                scheme.name()
            ),
        )),
        ConnectOnly::Off if !web => Err(Error::new(
            ErrorKind::NotBuiltIn,
            format!(
                "ordinary {} transfers are not built in; use connect_only",
                scheme.name()
            ),
        )),
        _ => Ok(()),
    }
}

/// `CURLINFO_SCHEME`: the scheme in capitals, as libcurl reports it.
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
        Scheme::Ftp => "FTP",
        Scheme::Ftps => "FTPS",
        Scheme::Mqtt => "MQTT",
        Scheme::Mqtts => "MQTTS",
        Scheme::Rtsp => "RTSP",
        Scheme::Tftp => "TFTP",
        Scheme::File => "FILE",
        Scheme::Imap => "IMAP",
        Scheme::Imaps => "IMAPS",
        Scheme::Pop3 => "POP3",
        Scheme::Pop3s => "POP3S",
        Scheme::Smtp => "SMTP",
        Scheme::Smtps => "SMTPS",
    }
}
