//! The DNS cache (libcurl's hostcache): addresses a lookup found, kept for
//! `dns_cache_timeout` (60 s by default) under `host:port`, one per `Easy`
//! and one for all the handles of a `Multi`. `CURLOPT_RESOLVE` entries go
//! into it and never expire; `-host:port` entries take names out of it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use handover_proto::hosts::ResolveEntry;

/// Names a cache holds at most; the oldest go first.
const MAX_ENTRIES: usize = 1000;

/// `CURLOPT_DNS_CACHE_TIMEOUT`: how long looked-up addresses are reused;
/// `None` for ever, zero not at all; 60 s by default, as libcurl.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct CacheTimeout(pub Option<Duration>);

impl Default for CacheTimeout {
    fn default() -> CacheTimeout {
        CacheTimeout(Some(Duration::from_secs(60)))
    }
}

impl CacheTimeout {
    /// False when the cache is off (a timeout of zero).
    pub fn caches(self) -> bool {
        self.0 != Some(Duration::ZERO)
    }
}

/// A cache shared by the transfers of a handle (or of a Multi).
#[derive(Clone, Default)]
pub(crate) struct SharedDnsCache(Arc<Mutex<DnsCache>>);

#[derive(Default)]
struct DnsCache {
    entries: HashMap<(String, u16), Entry>,
}

struct Entry {
    addrs: Vec<SocketAddr>,
    /// When the lookup answered; `None` for a `CURLOPT_RESOLVE` entry,
    /// which never expires.
    at: Option<Instant>,
}

impl SharedDnsCache {
    fn lock(&self) -> MutexGuard<'_, DnsCache> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The addresses of `host:port` if the cache has them fresh: younger
    /// than `timeout` (`None`: forever).
    pub fn get(
        &self,
        host: &str,
        port: u16,
        timeout: Option<Duration>,
        now: Instant,
    ) -> Option<Vec<SocketAddr>> {
        let key = (host.to_ascii_lowercase(), port);
        let mut cache = self.lock();
        let entry = cache.entries.get(&key)?;
        let fresh = match (entry.at, timeout) {
            (None, _) | (_, None) => true,
            (Some(at), Some(limit)) => now.saturating_duration_since(at) < limit,
        };
        if fresh {
            Some(entry.addrs.clone())
        } else {
            cache.entries.remove(&key);
            None
        }
    }

    /// Keeps what a lookup of `host:port` found.
    pub fn insert(&self, host: &str, port: u16, addrs: &[SocketAddr], now: Instant) {
        let mut cache = self.lock();
        cache.make_room();
        cache.entries.insert(
            (host.to_ascii_lowercase(), port),
            Entry {
                addrs: addrs.to_vec(),
                at: Some(now),
            },
        );
    }

    /// Applies `CURLOPT_RESOLVE` entries as libcurl does when a transfer
    /// starts: additions go in for good, or like a lookup when written
    /// with `+` (a `*` host is only ever matched directly, not cached);
    /// removals take the name out.
    pub fn load(&self, entries: &[ResolveEntry], now: Instant) {
        if entries.is_empty() {
            return;
        }
        let mut cache = self.lock();
        for entry in entries {
            match entry {
                ResolveEntry::Add {
                    host,
                    port,
                    addrs,
                    transient,
                } if host != "*" => {
                    cache.make_room();
                    cache.entries.insert(
                        (host.clone(), *port),
                        Entry {
                            addrs: addrs.iter().map(|ip| SocketAddr::new(*ip, *port)).collect(),
                            at: transient.then_some(now),
                        },
                    );
                }
                ResolveEntry::Remove { host, port } => {
                    cache.entries.remove(&(host.clone(), *port));
                }
                _ => {}
            }
        }
    }
}

impl DnsCache {
    /// Drops the oldest lookups when the cache is full.
    fn make_room(&mut self) {
        if self.entries.len() < MAX_ENTRIES {
            return;
        }
        let oldest = self
            .entries
            .iter()
            .filter_map(|(k, e)| e.at.map(|at| (at, k.clone())))
            .min_by_key(|(at, _)| *at)
            .map(|(_, k)| k);
        if let Some(key) = oldest {
            self.entries.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use handover_proto::hosts::parse_resolve;

    fn addrs() -> Vec<SocketAddr> {
        vec!["127.0.0.1:80".parse().unwrap()]
    }

    #[test]
    fn lookups_expire_and_resolve_entries_do_not() {
        let cache = SharedDnsCache::default();
        let t0 = Instant::now();
        cache.insert("Example.COM", 80, &addrs(), t0);
        let minute = Some(Duration::from_secs(60));
        assert_eq!(cache.get("example.com", 80, minute, t0), Some(addrs()));
        assert_eq!(cache.get("example.com", 443, minute, t0), None);
        let later = t0 + Duration::from_secs(61);
        assert_eq!(cache.get("example.com", 80, None, t0), Some(addrs()));
        assert_eq!(cache.get("example.com", 80, minute, later), None);
        // Gone once expired, even for a caller with no limit.
        assert_eq!(cache.get("example.com", 80, None, later), None);

        cache.load(&[parse_resolve("pinned.test:80:127.0.0.1").unwrap()], t0);
        assert_eq!(
            cache.get("pinned.test", 80, minute, later + Duration::from_secs(3600)),
            Some(addrs())
        );
        cache.load(&[parse_resolve("-pinned.test:80").unwrap()], t0);
        assert_eq!(cache.get("pinned.test", 80, None, later), None);
    }
}
