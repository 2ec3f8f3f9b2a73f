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

/// The one address a SOCKS proxy is asked to connect to when the name is
/// resolved here (`socks4://`, `socks5://`): the protocol carries a single
/// destination, so there is no racing.
///
/// `ip_resolve` applies as it does to every address the transfer uses, and
/// SOCKS4 carries IPv4 only. Among what is left, the first IPv4 address wins
/// when there is one: `localhost` (answered here as `::1` then `127.0.0.1`)
/// and dual-stack names then reach servers that listen on IPv4 only, which
/// is what libcurl users see with their system resolver.
pub(super) fn socks_destination(
    addrs: &[SocketAddr],
    family: IpResolve,
    socks4: bool,
    host: &str,
) -> Result<SocketAddr, Error> {
    let allowed = |a: &&SocketAddr| match family {
        IpResolve::Any => !socks4 || a.is_ipv4(),
        IpResolve::V4 => a.is_ipv4(),
        IpResolve::V6 => a.is_ipv6() && !socks4,
    };
    let mut candidates = addrs.iter().filter(allowed);
    let first = candidates.clone().next();
    candidates
        .find(|a| a.is_ipv4())
        .or(first)
        .copied()
        .ok_or_else(|| {
            let why = match (socks4, family) {
                (true, IpResolve::V6) => {
                    "SOCKS4 carries only IPv4 and ip_resolve allows only IPv6".to_owned()
                }
                (true, _) => "no IPv4 address, and SOCKS4 carries only IPv4".to_owned(),
                (false, IpResolve::V4) => "no IPv4 address for the SOCKS5 proxy".to_owned(),
                (false, IpResolve::V6) => "no IPv6 address for the SOCKS5 proxy".to_owned(),
                (false, IpResolve::Any) => "no address".to_owned(),
            };
            Error::new(
                ErrorKind::CouldntResolveHost,
                format!("Could not resolve host: {host} ({why})"),
            )
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn socks_destination_prefers_ipv4_and_honours_ip_resolve() {
        let both = addrs(&["[::1]:443", "127.0.0.1:443"]);
        let pick = |family, socks4| socks_destination(&both, family, socks4, "localhost");
        assert_eq!(pick(IpResolve::Any, false).unwrap(), both[1]);
        assert_eq!(pick(IpResolve::V4, false).unwrap(), both[1]);
        assert_eq!(pick(IpResolve::V6, false).unwrap(), both[0]);
        assert_eq!(pick(IpResolve::Any, true).unwrap(), both[1]);
        let err = pick(IpResolve::V6, true).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CouldntResolveHost);
        assert!(err.message().contains("SOCKS4 carries only IPv4"), "{err}");

        let v6 = addrs(&["[2001:db8::1]:80", "[2001:db8::2]:80"]);
        assert_eq!(
            socks_destination(&v6, IpResolve::Any, false, "h").unwrap(),
            v6[0]
        );
        let err = socks_destination(&v6, IpResolve::Any, true, "h").unwrap_err();
        assert!(err.message().contains("no IPv4 address"), "{err}");
        let err = socks_destination(&v6, IpResolve::V4, false, "h").unwrap_err();
        assert!(err.message().contains("no IPv4 address"), "{err}");
    }
}
