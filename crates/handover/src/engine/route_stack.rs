//! Stacking the layers of a route once TCP is up: TLS to HTTPS proxies,
//! a SOCKS or CONNECT handshake per proxy, TLS to the target.

use super::*;
use handover_proto::url::authority;

impl Transfer {
    /// TCP is up to the first hop: record it and stack the route's layers.
    pub(super) fn connected(&mut self, c: Connected, now: Instant) -> Result<Stack, Error> {
        if self.info.num_connects == 0 {
            self.info.connect = now.saturating_duration_since(self.started);
        }
        self.info.num_connects += 1;
        self.info.primary = Some(c.peer);
        self.info.local = c.stream.local_addr().ok();
        if let Some(errno) = c.os_errno {
            self.info.os_errno = errno;
        }
        let (first_host, _) = self.first_hop();
        let log = &self.settings.log;
        log_info!(
            log,
            "Connected to {}{first_host} ({}) port {}",
            if self.route.hops.is_empty() {
                ""
            } else {
                "proxy "
            },
            c.peer.ip(),
            c.peer.port()
        );
        let peer = c.peer;
        let mut stack = Stack::new(c.stream, c.peer);
        let hops = self.route.hops.len();
        for i in 0..hops {
            let Some(hop) = self.route.hops.get(i) else {
                break;
            };
            let spec = hop.spec.clone();
            if let Some(setup) = &hop.tls {
                let label = format!("proxy {}", spec.host_port());
                stack.push(Box::new(TlsLayer::new(setup, &spec.host, peer, label)?));
            }
            let last = i + 1 == hops;
            if last && spec.kind.is_http() && !self.route.tunnel {
                log_info!(log, "connect-only through HTTP proxy {spec}: no tunnel, the connection ends at the proxy");
                break;
            }
            let (dest_host, dest_port) = self.destination(i);
            let proxy_name = spec.host_port();
            match spec.kind {
                ProxyKind::Http | ProxyKind::Http10 | ProxyKind::Https => {
                    let config = TunnelConfig {
                        target_host: dest_host.clone(),
                        target_port: dest_port,
                        http10: spec.kind == ProxyKind::Http10,
                        user_agent: self.settings.useragent.clone(),
                        headers: self.settings.proxy_headers.clone(),
                        credentials: hop.credentials.clone(),
                        allowed: self.settings.proxy_auth,
                        proxy_name,
                    };
                    let memory = self
                        .carried
                        .get_mut(i)
                        .and_then(Option::take)
                        .unwrap_or_default();
                    let tunnel = Tunnel::new(config, memory, entropy()).map_err(|e| {
                        Error::new(ErrorKind::BadFunctionArgument, e.message.clone())
                    })?;
                    let step = format!(
                        "in the CONNECT to {} through proxy {}",
                        authority(&dest_host, dest_port),
                        spec.host_port()
                    );
                    stack.push(Box::new(HandshakeLayer::new(
                        TunnelHandshake { tunnel, step },
                        i,
                    )));
                }
                ProxyKind::Socks4 | ProxyKind::Socks4a | ProxyKind::Socks5 | ProxyKind::Socks5h => {
                    let target = match self.socks_targets.get(i).copied().flatten() {
                        Some(addr) => SocksTarget::Addr(addr),
                        None => SocksTarget::Name {
                            host: dest_host,
                            port: dest_port,
                        },
                    };
                    let socks_err = |e: handover_proto::socks::SocksError| {
                        Error::new(ErrorKind::Proxy, format!("{e} (proxy {proxy_name})"))
                    };
                    let machine = if matches!(spec.kind, ProxyKind::Socks4 | ProxyKind::Socks4a) {
                        let user = spec.user.clone().unwrap_or_default();
                        SocksHandshake::V4(
                            Socks4::new(target, &user, spec.kind == ProxyKind::Socks4a)
                                .map_err(socks_err)?,
                            proxy_name.clone(),
                        )
                    } else {
                        let creds = hop
                            .credentials
                            .as_ref()
                            .map(|c| (c.user.as_str(), c.password.as_str()));
                        SocksHandshake::V5(
                            Socks5::new(target, creds).map_err(socks_err)?,
                            proxy_name.clone(),
                        )
                    };
                    stack.push(Box::new(HandshakeLayer::new(machine, i)));
                }
            }
        }
        if let Some(setup) = &self.tls {
            let mut label = authority(&self.target.connect_host, self.target.connect_port);
            if let Some(last) = self.route.hops.last() {
                label = format!("{label} through proxy {}", last.spec.host_port());
            }
            stack.push(Box::new(TlsLayer::new(
                setup,
                &self.target.host,
                peer,
                label,
            )?));
        }
        Ok(stack)
    }
}

/// Fresh randomness and the time for one CONNECT exchange.
pub(super) fn entropy() -> Entropy {
    let mut random = [0u8; 24];
    // Without an OS random source, fall back to the clock: a Digest
    // cnonce must be unpredictable, not secret.
    if getrandom::fill(&mut random).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        for (i, b) in random.iter_mut().enumerate() {
            *b = (t >> ((i % 16) * 8)) as u8 ^ i as u8;
        }
    }
    let cnonce: String = random[..16].iter().map(|b| format!("{b:02x}")).collect();
    let mut ntlm = [0u8; 8];
    ntlm.copy_from_slice(&random[16..24]);
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    // Windows FILETIME: 100 ns ticks since 1601.
    let filetime =
        (unix.as_secs() + 11_644_473_600) * 10_000_000 + u64::from(unix.subsec_nanos() / 100);
    Entropy {
        cnonce,
        ntlm_client_challenge: ntlm,
        ntlm_timestamp: filetime,
    }
}
