//! Resolve: the names a transfer must look up — the first hop's, and the
//! destinations of SOCKS proxies that want an address — and the addresses
//! known without asking: `resolve` entries, IP literals, localhost. The
//! rest come from the DNS cache, else from the resolver pool, or with
//! `doh_url` from DNS over HTTPS (doh.rs).

use std::net::SocketAddr;
use std::time::Instant;

use handover_proto::hosts::ResolveEntry;
use handover_proto::proxy::ProxyKind;

use super::doh::{lookup_error, DohLookup, DohPlan};
use super::{Phase, Transfer};
use crate::error::{Error, ErrorKind};
use crate::options::IpResolve;
use crate::resolve::{self, Lookup};
use crate::sys::Interest;
use crate::timeline::{Step, StepId, StepKind};
use crate::verbose::{log_info, Logger};
use std::os::fd::RawFd;

/// A name the transfer needs: the first hop's, or a SOCKS target that the
/// proxy wants as an address (resolved here, libcurl's socks4/socks5).
pub(super) struct NameJob {
    /// `None`: the first hop; `Some(i)`: the destination of SOCKS hop `i`.
    hop: Option<usize>,
    pub(super) host: String,
    port: u16,
    state: NameState,
    /// Its step in the timeline.
    step: Option<StepId>,
}

enum NameState {
    Pending(Lookup),
    /// Asked of the DoH server.
    Doh(Box<DohLookup>),
    Done(Vec<SocketAddr>),
}

/// Starts every name lookup the route needs.
pub(super) fn name_jobs(t: &mut Transfer) -> Result<Vec<NameJob>, Error> {
    let mut doh = t.doh.take();
    let begun = Instant::now();
    let jobs = start_jobs(t, doh.as_deref_mut());
    t.doh = doh;
    let mut jobs = jobs?;
    for job in &mut jobs {
        let (addrs, cached) = match &job.state {
            NameState::Done(addrs) => (addrs.clone(), true),
            _ => (Vec::new(), false),
        };
        let step = t.info.timeline.begin(
            t.time.started,
            begun,
            StepKind::Resolve {
                host: job.host.clone(),
                addrs,
                cached,
            },
            // The first hop's name belongs to the first proxy (hop 1) or,
            // without one, the server (0); a SOCKS destination to its hop.
            job.hop
                .map_or(usize::from(!t.route.hops.is_empty()), |i| i + 1),
            format!("{}:{}", job.host, job.port),
        );
        if cached {
            t.info.timeline.end(step, t.time.started, Instant::now());
        }
        job.step = Some(step);
    }
    Ok(jobs)
}

fn start_jobs(t: &Transfer, mut doh: Option<&mut DohPlan>) -> Result<Vec<NameJob>, Error> {
    let (first_host, first_port) = t.first_hop();
    let mut wanted: Vec<(Option<usize>, String, u16)> = Vec::new();
    // A Unix socket replaces the first hop's addresses: nothing to look up
    // (and no proxy on the route to need a SOCKS target).
    if t.settings.unix_socket.is_none() {
        wanted.push((None, first_host, first_port));
    }
    for (i, hop) in t.route.hops.iter().enumerate() {
        if matches!(hop.spec.kind, ProxyKind::Socks4 | ProxyKind::Socks5) {
            let (host, port) = t.destination(i);
            wanted.push((Some(i), host, port));
        }
    }
    let mut jobs = Vec::with_capacity(wanted.len());
    let now = Instant::now();
    let timeout = t.settings.dns_timeout;
    for (hop, host, port) in wanted {
        let cached = || {
            let addrs = t.settings.dns.get(&host, port, timeout.0, now)?;
            log_info!(t.settings.log, "Hostname {host} was found in DNS cache");
            Some(addrs)
        };
        // A cache that is off still serves `resolve` entries, which never
        // age (libcurl's timestamp-zero entries).
        let mut known = preset_addresses(&t.settings.resolve, &host, port).or_else(cached);
        if known.is_none() {
            // An IP address or localhost is answered here, but still
            // announced to the application as a resolve (libcurl 8; curl's
            // test 655).
            resolver_start(t, &host)?;
            known = resolve::without_lookup(&host, port);
        }
        let state = match (known, doh.as_deref_mut()) {
            (Some(addrs), _) => NameState::Done(addrs),
            (None, Some(plan)) => match plan.start(&host, port, &t.settings.dns, now) {
                Ok(lookup) => NameState::Doh(Box::new(lookup)),
                Err(why) => {
                    let (kind, what) = failure_kind(t, hop);
                    return Err(lookup_error(kind, what, &host, plan.server(), &why));
                }
            },
            (None, None) => NameState::Pending(Lookup::start(&host, port).map_err(|e| {
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
            step: None,
        });
    }
    Ok(jobs)
}

/// Tells the application's resolver start function that `host` is about
/// to be resolved (by the system resolver or DoH, or answered at once as
/// an IP address or localhost: not for a `resolve` entry or a cached
/// name); its refusal aborts the transfer, as libcurl 8 does
/// (`CURLE_ABORTED_BY_CALLBACK`; 7.88 failed the lookup, with 6).
fn resolver_start(t: &Transfer, host: &str) -> Result<(), Error> {
    match &t.settings.resolver_start {
        Some(start) if !start.call(host) => Err(Error::new(
            ErrorKind::AbortedByCallback,
            format!("the resolver start function refused to resolve {host}"),
        )),
        _ => Ok(()),
    }
}

/// The descriptors the lookups wait on, for the poll loop: `f(index,
/// descriptor, interest)`, the index naming the lookup (and, for DoH, the
/// probe's descriptor) apart from others.
pub(super) fn each_pending(jobs: &[NameJob], mut f: impl FnMut(u32, RawFd, Interest)) {
    for (i, job) in jobs.iter().enumerate() {
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        match &job.state {
            NameState::Pending(lookup) => f(i, lookup.fd(), Interest::READ),
            NameState::Doh(lookup) => {
                let job_bits = 0x8000_0000 | ((i & 0x7f) << 24);
                lookup.each_wanted(&mut |fd, interest, sub| f(job_bits | sub, fd, interest));
            }
            NameState::Done(_) => {}
        }
    }
}

/// True when a DoH probe can move without waiting.
pub(super) fn ready_now(jobs: &[NameJob]) -> bool {
    jobs.iter()
        .any(|job| matches!(&job.state, NameState::Doh(lookup) if lookup.ready_now()))
}

/// The earliest deadline of the DoH probes.
pub(super) fn next_deadline(jobs: &[NameJob]) -> Option<Instant> {
    jobs.iter()
        .filter_map(|job| match &job.state {
            NameState::Doh(lookup) => lookup.next_deadline(),
            _ => None,
        })
        .min()
}

/// The error kind and words for a name that could not be resolved.
fn failure_kind(t: &Transfer, hop: Option<usize>) -> (ErrorKind, &'static str) {
    match hop {
        None if !t.route.hops.is_empty() => (ErrorKind::CouldntResolveProxy, "proxy"),
        None => (ErrorKind::CouldntResolveHost, "host"),
        Some(_) => (ErrorKind::CouldntResolveHost, "host (for the SOCKS proxy)"),
    }
}

impl Transfer {
    /// Collects answers; once every name is in, starts connecting.
    pub(super) fn resolve_step(&mut self, now: Instant) -> Result<bool, Error> {
        let Phase::Resolve(jobs) = &mut self.phase else {
            return Ok(true);
        };
        let mut pending = false;
        let mut failed = None;
        for job in jobs.iter_mut() {
            let answer = match &mut job.state {
                NameState::Pending(lookup) => lookup.poll().map(|a| a.map_err(|e| e.to_string())),
                NameState::Doh(lookup) => lookup.poll(now),
                NameState::Done(_) => continue,
            };
            match answer {
                None => pending = true,
                Some(Ok(addrs)) => {
                    // DoH answers are cached as any lookup's, as libcurl does.
                    if self.settings.dns_timeout.caches() {
                        self.settings.dns.insert(&job.host, job.port, &addrs, now);
                    }
                    if let Some(step) = job.step {
                        let timeline = &mut self.info.timeline;
                        if let Some(Step {
                            kind: StepKind::Resolve { addrs: found, .. },
                            ..
                        }) = timeline.get_mut(step)
                        {
                            found.clone_from(&addrs);
                        }
                        timeline.end(step, self.time.started, Instant::now());
                    }
                    job.state = NameState::Done(addrs);
                }
                Some(Err(why)) => {
                    failed = Some((
                        job.hop,
                        job.host.clone(),
                        why,
                        matches!(job.state, NameState::Doh(_)),
                    ));
                    break;
                }
            }
        }
        if let Some((hop, host, why, by_doh)) = failed {
            let step = jobs
                .iter()
                .find(|j| j.host == host && j.hop == hop)
                .and_then(|j| j.step);
            let (kind, what) = failure_kind(self, hop);
            if let Some(step) = step {
                self.info.timeline.fail(step, kind);
            }
            return Err(match (by_doh, self.doh.as_deref()) {
                (true, Some(plan)) => lookup_error(kind, what, &host, plan.server(), &why),
                _ => Error::new(kind, format!("Could not resolve {what}: {host} ({why})")),
            });
        }
        if pending {
            return Ok(false);
        }
        let jobs = std::mem::take(jobs);
        // libcurl's namelookup time: when the last answer came in, the end
        // of the last resolve step.
        let last = self
            .info
            .timeline
            .steps()
            .iter()
            .filter(|s| matches!(s.kind, StepKind::Resolve { .. }))
            .filter_map(Step::end)
            .max();
        self.info.namelookup =
            last.unwrap_or_else(|| now.saturating_duration_since(self.time.started));
        self.resolved(jobs)?;
        Ok(true)
    }

    /// Every name is in: keep the SOCKS targets, start racing the first hop.
    fn resolved(&mut self, jobs: Vec<NameJob>) -> Result<(), Error> {
        for job in jobs {
            let NameState::Done(mut addrs) = job.state else {
                continue;
            };
            if self.settings.dns_shuffle {
                shuffle(&mut addrs)?;
            }
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
        if self.datagram {
            return self.open_datagram();
        }
        self.race_first_hop();
        Ok(())
    }
}

/// Addresses `resolve` entries give for `host`:`port` (the last that
/// names it wins; a removal forgets it).
fn preset_addresses(resolve: &[ResolveEntry], host: &str, port: u16) -> Option<Vec<SocketAddr>> {
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
    found
}

/// Puts `addrs` in a random order (Fisher–Yates), for
/// `dns_shuffle_addresses`.
fn shuffle(addrs: &mut [SocketAddr]) -> Result<(), Error> {
    let mut random = vec![0u8; addrs.len() * 4];
    crate::random::fill(&mut random, "shuffling addresses")?;
    for i in (1..addrs.len()).rev() {
        let r = random
            .get(i * 4..i * 4 + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_le_bytes);
        addrs.swap(i, r as usize % (i + 1));
    }
    Ok(())
}

fn filter_family(
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
fn socks_destination(
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

fn log_resolved(log: &Logger, host: &str, port: u16, addrs: &[SocketAddr]) {
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
