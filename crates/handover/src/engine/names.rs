//! The names a transfer must resolve, and the addresses it knows without
//! asking: `resolve` entries, IP literals, localhost.

use super::*;

/// A name the transfer needs: the first hop's, or a SOCKS target that the
/// proxy wants as an address (resolved here, libcurl's socks4/socks5).
pub(super) struct NameJob {
    /// `None`: the first hop; `Some(i)`: the destination of SOCKS hop `i`.
    pub(super) hop: Option<usize>,
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) state: NameState,
}

pub(super) enum NameState {
    Pending(Lookup),
    Done(Vec<SocketAddr>),
}

/// Addresses known without asking the resolver: `resolve` entries, IP
/// literals and localhost.
pub(super) fn preset_addresses(
    resolve: &[ResolveEntry],
    host: &str,
    port: u16,
) -> Option<Vec<SocketAddr>> {
    let lower = host.to_ascii_lowercase();
    let mut found: Option<Vec<SocketAddr>> = None;
    for entry in resolve {
        match entry {
            ResolveEntry::Add {
                host: h,
                port: p,
                addrs,
                ..
            } if (*h == lower || h == "*") && *p == port => {
                found = Some(addrs.iter().map(|ip| SocketAddr::new(*ip, port)).collect());
            }
            ResolveEntry::Remove { host: h, port: p } if *h == lower && *p == port => {
                found = None;
            }
            _ => {}
        }
    }
    found.or_else(|| resolve::without_lookup(host, port))
}

pub(super) fn filter_family(
    addrs: Vec<SocketAddr>,
    family: IpResolve,
    host: &str,
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
            format!("Could not resolve host: {host} (no{which} address)"),
        ));
    }
    Ok(kept)
}

pub(super) fn log_resolved(log: &Logger, host: &str, port: u16, addrs: &[SocketAddr]) {
    if !log.enabled() {
        return;
    }
    log_info!(log, "Host {host}:{port} was resolved.");
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
