//! Idle keep-alive connections of ordinary transfers, kept for the next
//! transfer to the same origin through the same route. Connect-only
//! connections never enter and never leave it. A pool is a handle's own,
//! its `Multi`'s while it is added, or its `Share`'s when the share
//! shares connections (the share's wins, as in libcurl).

use std::hash::{Hash, Hasher};
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex, MutexGuard};
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
    /// A chain entry's own authentication and TLS settings.
    options: handover_proto::proxy::HopOptions,
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
        // Through an HTTP proxy without a tunnel the connection ends at the
        // proxy, which takes requests for any origin in absolute form: it
        // is the proxy's connection, whatever the origin (libcurl's
        // `origin_is_proxy`; curl's test 1421). A tunnel or SOCKS reaches
        // the origin, and is keyed by it.
        let (scheme, tls_name, host, port) = if route.reaches_target() {
            (scheme, tls_name, host, port)
        } else {
            (Scheme::Http, "", "", 0)
        };
        let hops = route
            .hops
            .iter()
            .map(|hop| HopKey {
                kind: hop.spec.kind,
                host: hop.spec.host.to_ascii_lowercase(),
                port: hop.spec.port,
                user: hop.credentials.as_ref().map(|c| c.user.clone()),
                password_hash: hop.credentials.as_ref().map(password_hash),
                options: hop.options.clone(),
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

/// Idle connections: an `Easy`'s own, a `Multi`'s (shared by its
/// handles) or a `Share`'s (shared by the handles attached to it, on any
/// thread). Cloning gives another handle to the same connections.
///
/// The lock is held only while a connection is looked up, taken or put
/// back: the probe that tells a dead connection from a live one and the
/// closing of one (which may call the application's close function) run
/// after it is released, so that a handle on another thread never waits
/// for them.
#[derive(Clone, Default)]
pub(crate) struct Pool {
    idle: Arc<Mutex<Vec<Idle>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Where the oldest idle connection (among those going first to `host`,
/// when given) is.
fn oldest(idle: &[Idle], host: Option<(&str, u16)>) -> Option<usize> {
    idle.iter()
        .enumerate()
        .filter(|(_, i)| host.is_none_or(|h| i.key.first_hop() == h))
        .min_by_key(|(_, i)| i.since)
        .map(|(n, _)| n)
}

impl Pool {
    /// An idle, still-open connection for `key` within `limits`, and when
    /// it was made, if there is one (the others found are closed).
    pub fn take(
        &self,
        key: &PoolKey,
        limits: ReuseLimits,
        now: Instant,
    ) -> Option<(Stack, Instant)> {
        loop {
            let mut idle = {
                let mut list = lock(&self.idle);
                let pos = list.iter().position(|i| i.key == *key)?;
                list.swap_remove(pos)
            };
            if idle.usable(limits, now) {
                return Some((idle.stack, idle.created));
            }
        }
    }

    /// How many idle connections the pool holds.
    pub fn len(&self) -> usize {
        lock(&self.idle).len()
    }

    /// How many idle connections go first to `host`:`port` (lowercased).
    pub fn len_for_host(&self, host: &str, port: u16) -> usize {
        lock(&self.idle)
            .iter()
            .filter(|i| i.key.first_hop() == (host, port))
            .count()
    }

    /// Closes the idle connection unused for the longest time — among those
    /// to `host`:`port` when given; whether there was one.
    pub fn evict_oldest(&self, host: Option<(&str, u16)>) -> bool {
        let gone = {
            let mut list = lock(&self.idle);
            oldest(&list, host).map(|n| list.swap_remove(n))
        };
        gone.is_some()
    }

    /// Keeps `stack` (made at `created`) for a later transfer, under its
    /// connection number; while the pool holds `max_idle` or more, the
    /// oldest go first (at least one is kept: this one).
    pub fn put(
        &self,
        key: PoolKey,
        stack: Stack,
        created: Instant,
        now: Instant,
        max_idle: usize,
    ) -> i64 {
        let id = stack.id();
        let mut gone = Vec::new();
        {
            let mut list = lock(&self.idle);
            while list.len() >= max_idle.max(1) {
                let Some(n) = oldest(&list, None) else {
                    break;
                };
                gone.push(list.swap_remove(n));
            }
            list.push(Idle {
                key,
                stack,
                since: now,
                created,
                checked: now,
            });
        }
        drop(gone);
        id
    }

    /// The socket of the idle connection numbered `id`, while the pool
    /// holds it (what libcurl's `CURLINFO_ACTIVESOCKET` finds after an
    /// ordinary transfer).
    pub fn socket_of(&self, id: i64) -> Option<RawFd> {
        lock(&self.idle)
            .iter()
            .find(|i| i.stack.id() == id)
            .map(|i| i.stack.fd())
    }

    /// `curl_easy_upkeep`: every idle connection not looked at for
    /// `interval` is looked at now, and closed when it is dead or past
    /// `limits`. Returns how many were closed.
    pub fn upkeep(&self, interval: Duration, limits: ReuseLimits, now: Instant) -> usize {
        let due: Vec<Idle> = {
            let mut list = lock(&self.idle);
            let mut due = Vec::new();
            let mut n = 0;
            while n < list.len() {
                if now.saturating_duration_since(list[n].checked) < interval {
                    n += 1;
                } else {
                    due.push(list.swap_remove(n));
                }
            }
            due
        };
        let mut alive = Vec::with_capacity(due.len());
        let mut closed = 0;
        for mut idle in due {
            if idle.usable(limits, now) {
                idle.checked = now;
                alive.push(idle);
            } else {
                // Closed here, outside the lock.
                closed += 1;
            }
        }
        lock(&self.idle).extend(alive);
        closed
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::Hop;
    use handover_proto::proxy::ProxySpec;

    fn route(proxy: &str, tunnel: bool) -> Route {
        let spec = ProxySpec::parse(proxy, ProxyKind::Http, None).unwrap();
        Route {
            hops: vec![Hop {
                spec,
                credentials: None,
                tls: None,
                options: Default::default(),
            }],
            tunnel,
        }
    }

    fn key(scheme: Scheme, host: &str, port: u16, route: &Route) -> PoolKey {
        PoolKey::new(scheme, host, host, port, route, &Options::default())
    }

    #[test]
    fn a_forwarding_proxy_connection_is_keyed_by_the_proxy_alone() {
        // curl's test 1421: two origins, one proxy connection.
        let forward = route("http://127.0.0.1:3128", false);
        let a = key(Scheme::Http, "one.example", 80, &forward);
        assert_eq!(a, key(Scheme::Http, "two.example", 8990, &forward));
        // An FTP URL goes to the proxy as HTTP too.
        assert_eq!(a, key(Scheme::Ftp, "ftp.example", 21, &forward));
        assert_eq!(a.first_hop(), ("127.0.0.1", 3128));
        // Another proxy is another connection.
        let other = route("http://127.0.0.1:3129", false);
        assert_ne!(a, key(Scheme::Http, "one.example", 80, &other));
    }

    #[test]
    fn tunnels_and_socks_stay_keyed_by_the_origin() {
        for reaching in [
            route("http://127.0.0.1:3128", true),
            route("socks5h://127.0.0.1:1080", false),
            route("socks4://127.0.0.1:1080", false),
        ] {
            let a = key(Scheme::Http, "one.example", 80, &reaching);
            assert_ne!(a, key(Scheme::Http, "two.example", 80, &reaching));
            assert_ne!(a, key(Scheme::Http, "one.example", 81, &reaching));
            assert_eq!(a, key(Scheme::Http, "ONE.example", 80, &reaching));
        }
        let direct = Route {
            hops: Vec::new(),
            tunnel: false,
        };
        let a = key(Scheme::Http, "one.example", 80, &direct);
        assert_ne!(a, key(Scheme::Http, "two.example", 80, &direct));
    }
}
