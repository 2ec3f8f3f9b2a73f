//! Stacking the layers of a route once TCP is up: TLS to HTTPS proxies,
//! a SOCKS or CONNECT handshake per proxy, TLS to the target.

use std::time::Instant;

use handover_proto::proxy::ProxyKind;
use handover_proto::proxy_protocol::ProxyHeader;
use handover_proto::socks::{Socks4, Socks5, SocksTarget};
use handover_proto::tunnel::{Entropy, Tunnel, TunnelConfig};
use handover_proto::url::authority;

use super::Transfer;
use crate::endpoint::Endpoint;
use crate::error::{Error, ErrorKind};
use crate::handshake::{socks_error, HandshakeLayer};
use crate::layer::Stack;
use crate::tcp::Connected;
use crate::tls::TlsLayer;
use crate::verbose::log_info;

impl Transfer {
    /// TCP is up to the first hop: record it and stack the route's layers.
    pub(super) fn connected(&mut self, c: Connected, now: Instant) -> Result<Stack, Error> {
        if self.info.num_connects == 0 && self.info.connect.is_zero() {
            // No attempt record (set by the race when there is one).
            self.info.connect = now.saturating_duration_since(self.time.started);
        }
        self.info.num_connects += 1;
        self.conn_created = now;
        self.info.primary = Some(c.peer.clone());
        self.info.primary_port = c.peer.ip().map_or(self.first_hop().1, |a| a.port());
        self.info.local = crate::endpoint::local_ip(&c.stream);
        if let Some(errno) = c.os_errno {
            self.info.os_errno = errno;
        }
        let (first_host, _) = self.first_hop();
        let log = &self.settings.log;
        let (shown, port) = match &c.peer {
            Endpoint::Ip(addr) => (addr.ip().to_string(), addr.port()),
            // libcurl shows the socket's path, and the URL's port.
            Endpoint::Unix(path) => (path.to_string(), self.first_hop().1),
        };
        log_info!(
            log,
            "Connected to {}{first_host} ({shown}) port {port}",
            if self.route.hops.is_empty() {
                ""
            } else {
                "proxy "
            },
        );
        let peer = c.peer.clone();
        let mut stack = Stack::new(c.stream, c.peer);
        self.info.conn_id = stack.id();
        let hops = self.route.hops.len();
        for i in 0..hops {
            let Some(hop) = self.route.hops.get(i) else {
                break;
            };
            let spec = hop.spec.clone();
            if let Some(setup) = &hop.tls {
                let label = format!("proxy {}", spec.host_port());
                stack.push(Box::new(
                    TlsLayer::new(setup, &spec.host, peer.clone(), label)?.for_proxy_hop(i + 1),
                ));
            }
            let last = i + 1 == hops;
            if last && spec.kind.is_http() && !self.route.tunnel {
                log_info!(log, "connect-only through HTTP proxy {spec}: no tunnel, the connection ends at the proxy");
                break;
            }
            let (dest_host, dest_port) = self.destination(i);
            let peer_name = format!("proxy {}", spec.host_port());
            match spec.kind {
                ProxyKind::Http | ProxyKind::Http10 | ProxyKind::Https => {
                    let config = TunnelConfig {
                        target_host: dest_host,
                        target_port: dest_port,
                        http10: spec.kind == ProxyKind::Http10,
                        user_agent: self.settings.useragent.clone(),
                        headers: self.settings.proxy_headers.clone(),
                        credentials: hop.credentials.clone(),
                        allowed: hop.auth().unwrap_or(self.settings.proxy_auth),
                        proxy_name: spec.host_port(),
                    };
                    let memory = self
                        .carried
                        .get_mut(i)
                        .and_then(Option::take)
                        .unwrap_or_default();
                    let tunnel = Tunnel::new(config, memory, entropy("proxy authentication")?)
                        .map_err(|e| {
                            Error::new(ErrorKind::BadFunctionArgument, e.message.clone())
                        })?;
                    stack.push(Box::new(HandshakeLayer::new(tunnel, i, peer_name)));
                }
                ProxyKind::Socks4 | ProxyKind::Socks4a | ProxyKind::Socks5 | ProxyKind::Socks5h => {
                    let target = match self.socks_targets.get(i).copied().flatten() {
                        Some(addr) => SocksTarget::Addr(addr),
                        None => SocksTarget::Name {
                            host: dest_host,
                            port: dest_port,
                        },
                    };
                    let socks_err =
                        |e: handover_proto::socks::SocksError| socks_error(&e, &peer_name);
                    if matches!(spec.kind, ProxyKind::Socks4 | ProxyKind::Socks4a) {
                        let user = spec.user.clone().unwrap_or_default();
                        let machine = Socks4::new(target, &user, spec.kind == ProxyKind::Socks4a)
                            .map_err(socks_err)?;
                        stack.push(Box::new(HandshakeLayer::new(machine, i, peer_name)));
                    } else {
                        let creds = hop
                            .credentials
                            .as_ref()
                            .map(|c| (c.user.as_str(), c.password.as_str()));
                        let machine = Socks5::new(target, creds).map_err(socks_err)?;
                        stack.push(Box::new(HandshakeLayer::new(machine, i, peer_name)));
                    }
                }
            }
        }
        if let Some(haproxy) = &self.settings.haproxy {
            // After the proxies (through a tunnel: to the server), before TLS.
            let header = match (&peer, self.info.local) {
                (Endpoint::Ip(peer), Some(local)) => {
                    ProxyHeader::tcp(local, *peer, haproxy.client_ip.as_deref())
                        .map_err(|e| Error::new(ErrorKind::BadFunctionArgument, e.0))?
                }
                _ => ProxyHeader::unknown(),
            };
            let to = authority(&self.target.connect_host, self.target.connect_port);
            stack.push(Box::new(HandshakeLayer::new(header, hops, to)));
        }
        if let Some(setup) = &self.tls {
            let mut label = authority(&self.target.connect_host, self.target.connect_port);
            if let Some(last) = self.route.hops.last() {
                label = format!("{label} through proxy {}", last.spec.host_port());
            }
            stack.push(Box::new(
                TlsLayer::new(setup, &self.target.host, peer, label)?
                    .for_target(self.settings.certinfo),
            ));
        }
        if let Some(phase) = &self.protocol {
            if self.route.reaches_target() {
                let to = authority(&self.target.connect_host, self.target.connect_port);
                stack.push(phase.layer(hops, to)?);
            }
        }
        Ok(stack)
    }
}

impl Transfer {
    /// The protocol's connect phase asked for TLS (`AUTH TLS`): the TLS
    /// layer to put under it, to the target.
    pub(super) fn start_tls_layer(&self, peer: Endpoint) -> Result<TlsLayer, Error> {
        let Some(setup) = &self.starttls else {
            return Err(Error::new(
                ErrorKind::UseSslFailed,
                "the protocol asked for TLS the transfer did not plan",
            ));
        };
        let label = authority(&self.target.connect_host, self.target.connect_port);
        Ok(
            TlsLayer::new(setup, &self.target.host, peer, label)?
                .for_target(self.settings.certinfo),
        )
    }
}

/// Fresh randomness and the time for one authentication round (a CONNECT
/// or a request to the server); `purpose` names it if the system cannot
/// give randomness.
pub(super) fn entropy(purpose: &str) -> Result<Entropy, Error> {
    let mut random = [0u8; 24];
    crate::random::fill(&mut random, purpose)?;
    let cnonce: String = random[..16].iter().map(|b| format!("{b:02x}")).collect();
    let mut ntlm = [0u8; 8];
    ntlm.copy_from_slice(&random[16..24]);
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    // Windows FILETIME: 100 ns ticks since 1601.
    let filetime =
        (unix.as_secs() + 11_644_473_600) * 10_000_000 + u64::from(unix.subsec_nanos() / 100);
    Ok(Entropy {
        cnonce,
        ntlm_client_challenge: ntlm,
        ntlm_timestamp: filetime,
    })
}
