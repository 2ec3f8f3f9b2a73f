//! Idle keep-alive connections of ordinary transfers, kept for the next
//! transfer to the same origin through the same route. Connect-only
//! connections never enter and never leave it.

use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use handover_proto::auth::Credentials;
use handover_proto::proxy::ProxyKind;
use handover_proto::url::Scheme;

use crate::layer::{Io, Stack};
use crate::options::{Options, SocketOptions, TlsOptions};
use crate::route::Route;

/// libcurl's default `CURLOPT_MAXCONNECTS` for an easy handle.
pub(crate) const EASY_MAX_IDLE: usize = 5;
/// How long a connection may be kept for reuse (`CURLOPT_MAXAGE_CONN`,
/// `CURLOPT_MAXLIFETIME_CONN`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ReuseLimits {
    /// Idle longer than this, a connection is not trusted any more
    /// (libcurl's default: 118 s).
    pub max_idle: Duration,
    /// Older than this since it was made, a connection is not reused;
    /// `None`: no limit (libcurl's default).
    pub max_life: Option<Duration>,
}

impl Default for ReuseLimits {
    fn default() -> ReuseLimits {
        ReuseLimits {
            max_idle: Duration::from_secs(118),
            max_life: None,
        }
    }
}

/// Everything that must match for a transfer to take an idle connection:
/// the same scheme, TLS server name, address (or Unix socket), proxies,
/// credentials and TLS and socket options.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PoolKey {
    scheme: Scheme,
    /// The TLS server name the connection was verified for, lowercased.
    tls_name: String,
    host: String,
    port: u16,
    hops: Vec<HopKey>,
    tunnel: bool,
    unix_socket: Option<crate::endpoint::UnixPath>,
    haproxy: Option<crate::options::HaproxyHeader>,
    socket: SocketOptions,
    tls: TlsOptions,
    proxy_tls: TlsOptions,
}

/// One proxy of a pool key; the password only as a hash, so the key holds
/// no secret (and its `Debug` shows none).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct HopKey {
    kind: ProxyKind,
    host: String,
    port: u16,
    user: Option<String>,
    password_hash: Option<u64>,
}

impl PoolKey {
    pub fn new(
        scheme: Scheme,
        tls_name: &str,
        host: &str,
        port: u16,
        route: &Route,
        opts: &Options,
    ) -> PoolKey {
        let hops = route
            .hops
            .iter()
            .map(|hop| HopKey {
                kind: hop.spec.kind,
                host: hop.spec.host.to_ascii_lowercase(),
                port: hop.spec.port,
                user: hop.credentials.as_ref().map(|c| c.user.clone()),
                password_hash: hop.credentials.as_ref().map(password_hash),
            })
            .collect();
        PoolKey {
            scheme,
            tls_name: tls_name.to_ascii_lowercase(),
            host: host.to_ascii_lowercase(),
            port,
            hops,
            tunnel: route.tunnel,
            unix_socket: opts.unix_socket.clone(),
            haproxy: opts.haproxy.clone(),
            socket: opts.socket.clone(),
            tls: opts.tls.clone(),
            proxy_tls: opts.proxy.tls.clone(),
        }
    }
}

impl PoolKey {
    /// The host and port the connection reaches first (the first proxy, or
    /// the target), lowercased: what a per-host connection limit counts.
    pub fn first_hop(&self) -> (&str, u16) {
        match self.hops.first() {
            Some(hop) => (&hop.host, hop.port),
            None => (&self.host, self.port),
        }
    }
}

fn password_hash(credentials: &Credentials) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    credentials.password.hash(&mut h);
    h.finish()
}

struct Idle {
    key: PoolKey,
    stack: Stack,
    since: Instant,
    /// When the connection was made (kept here, not in the `Stack`, so
    /// that a handed-over `Connection` stays small).
    created: Instant,
    /// When [`Pool::upkeep`] last looked at it (or when it came in).
    checked: Instant,
}

/// Idle connections of an `Easy`, or of every handle of a `Multi`.
pub(crate) struct Pool {
    idle: Vec<Idle>,
    /// At most this many idle connections; the oldest goes first.
    max_idle: usize,
}

impl Default for Pool {
    fn default() -> Pool {
        Pool::with_limit(EASY_MAX_IDLE)
    }
}

impl Pool {
    /// A pool keeping at most `max_idle` idle connections.
    pub fn with_limit(max_idle: usize) -> Pool {
        Pool {
            idle: Vec::new(),
            max_idle: max_idle.max(1),
        }
    }

    /// Changes the limit (a `Multi` keeps four per handle, as libcurl).
    pub fn set_limit(&mut self, max_idle: usize) {
        self.max_idle = max_idle.max(1);
    }

    /// An idle, still-open connection for `key` within `limits`, and when
    /// it was made, if there is one (the others found are closed).
    pub fn take(
        &mut self,
        key: &PoolKey,
        limits: ReuseLimits,
        now: Instant,
    ) -> Option<(Stack, Instant)> {
        while let Some(pos) = self.idle.iter().position(|i| i.key == *key) {
            let mut idle = self.idle.swap_remove(pos);
            if idle.usable(limits, now) {
                return Some((idle.stack, idle.created));
            }
        }
        None
    }

    /// How many idle connections the pool holds.
    pub fn len(&self) -> usize {
        self.idle.len()
    }

    /// How many idle connections go first to `host`:`port` (lowercased).
    pub fn len_for_host(&self, host: &str, port: u16) -> usize {
        self.idle
            .iter()
            .filter(|i| i.key.first_hop() == (host, port))
            .count()
    }

    /// Closes the idle connection unused for the longest time — among those
    /// to `host`:`port` when given; whether there was one.
    pub fn evict_oldest(&mut self, host: Option<(&str, u16)>) -> bool {
        let oldest = self
            .idle
            .iter()
            .enumerate()
            .filter(|(_, i)| host.is_none_or(|h| i.key.first_hop() == h))
            .min_by_key(|(_, i)| i.since)
            .map(|(n, _)| n);
        match oldest {
            Some(n) => {
                self.idle.swap_remove(n);
                true
            }
            None => false,
        }
    }

    /// Keeps `stack` (made at `created`) for a later transfer; the oldest
    /// goes when full.
    pub fn put(&mut self, key: PoolKey, stack: Stack, created: Instant, now: Instant) {
        while self.idle.len() >= self.max_idle {
            let Some(oldest) = self
                .idle
                .iter()
                .enumerate()
                .min_by_key(|(_, i)| i.since)
                .map(|(n, _)| n)
            else {
                break;
            };
            self.idle.swap_remove(oldest);
        }
        self.idle.push(Idle {
            key,
            stack,
            since: now,
            created,
            checked: now,
        });
    }

    /// `curl_easy_upkeep`: every idle connection not looked at for
    /// `interval` is looked at now, and closed when it is dead or past
    /// `limits`. Returns how many were closed.
    pub fn upkeep(&mut self, interval: Duration, limits: ReuseLimits, now: Instant) -> usize {
        let before = self.idle.len();
        self.idle.retain_mut(|idle| {
            if now.saturating_duration_since(idle.checked) < interval {
                return true;
            }
            idle.checked = now;
            idle.usable(limits, now)
        });
        before - self.idle.len()
    }
}

impl Idle {
    /// Within `limits` and still open.
    fn usable(&mut self, limits: ReuseLimits, now: Instant) -> bool {
        let idle_ok = now.saturating_duration_since(self.since) < limits.max_idle;
        let life_ok = limits
            .max_life
            .is_none_or(|max| now.saturating_duration_since(self.created) < max);
        idle_ok && life_ok && still_open(&mut self.stack)
    }
}

/// An idle connection must have nothing to say: data or an end of stream
/// means the server closed it or broke the protocol.
fn still_open(stack: &mut Stack) -> bool {
    if stack.buffered() > 0 {
        return false;
    }
    let mut probe = [0u8; 1];
    matches!(stack.recv(&mut probe), Err(e) if e.is_again())
}
