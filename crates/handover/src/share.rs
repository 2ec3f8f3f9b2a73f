//! [`Share`]: caches several handles use together (libcurl's share
//! interface, `curl_share`): the DNS cache, the TLS session cache and the
//! pool of idle connections. A connect-only connection is never shared: it
//! never enters a pool.

use std::sync::Arc;

use rustls::client::ClientSessionMemoryCache;

use crate::dns_cache::SharedDnsCache;
use crate::pool::Pool;

/// TLS sessions a share keeps (for all its handles together).
const SHARED_SESSIONS: usize = 256;

/// Caches shared by the handles attached to it with
/// [`Easy::share`](crate::Easy::share). Cloning gives another handle to
/// the same caches; what to share is chosen before attaching.
///
/// # Examples
///
/// ```no_run
/// use handover::{ConnectOnly, Easy, Share};
///
/// let mut share = Share::new();
/// share.share_dns(true).share_ssl_sessions(true);
/// let mut handles = Vec::new();
/// for _ in 0..4 {
///     let mut easy = Easy::new();
///     easy.url("https://example.com/")?;
///     easy.connect_only(ConnectOnly::Connection)?;
///     easy.share(Some(&share))?;
///     handles.push(easy);
/// }
/// // One lookup and one full TLS handshake: the others reuse them.
/// for easy in &mut handles {
///     easy.perform()?;
/// }
/// # Ok::<(), handover::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Share {
    dns: Option<SharedDnsCache>,
    sessions: Option<Arc<ClientSessionMemoryCache>>,
    pool: Option<Pool>,
}

impl std::fmt::Debug for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Share")
            .field("dns", &self.dns.is_some())
            .field("ssl_sessions", &self.sessions.is_some())
            .field("connections", &self.pool.is_some())
            .finish()
    }
}

impl Share {
    /// A share that shares nothing yet.
    pub fn new() -> Share {
        Share::default()
    }

    /// Shares the DNS cache (`CURL_LOCK_DATA_DNS`): names one handle
    /// looked up are known to the others, for their `dns_cache_timeout`.
    /// Off again, handles attached afterwards keep their own.
    pub fn share_dns(&mut self, on: bool) -> &mut Share {
        self.dns = on.then(|| self.dns.take().unwrap_or_default());
        self
    }

    /// Shares the TLS session cache (`CURL_LOCK_DATA_SSL_SESSION`): a
    /// handle resumes a session another one made with the same server.
    pub fn share_ssl_sessions(&mut self, on: bool) -> &mut Share {
        self.sessions = on.then(|| {
            self.sessions
                .take()
                .unwrap_or_else(|| Arc::new(ClientSessionMemoryCache::new(SHARED_SESSIONS)))
        });
        self
    }

    /// Shares the pool of idle connections (`CURL_LOCK_DATA_CONNECT`): a
    /// connection an ordinary transfer of one handle kept alive is reused
    /// by the next transfer of any handle attached, on any thread, to the
    /// same origin through the same route and with the same TLS and socket
    /// options — instead of each handle (or each `Multi`) keeping its own.
    /// The share's pool wins over a `Multi`'s for the handles attached, as
    /// in libcurl. A connect-only connection never enters it.
    ///
    /// How many idle connections it keeps is up to the handle that gives
    /// one back: its [`max_connects`](crate::Easy::max_connects) (5 by
    /// default), or its `Multi`'s limit while it is added; the oldest go
    /// first. The lock is held only to take or put a connection, never
    /// during I/O.
    ///
    /// Off again, handles attached afterwards keep their own pools; those
    /// attached before keep using the shared one.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::{Easy, Share};
    ///
    /// let mut share = Share::new();
    /// share.share_connections(true);
    /// let workers: Vec<_> = (0..2)
    ///     .map(|_| {
    ///         let share = share.clone();
    ///         std::thread::spawn(move || {
    ///             let mut easy = Easy::new();
    ///             easy.url("http://example.com/")?;
    ///             easy.share(Some(&share))?;
    ///             easy.write_function(|data| Ok(data.len()))?;
    ///             easy.perform()?;
    ///             // 0 when it took a connection another handle left idle.
    ///             Ok::<u32, handover::Error>(easy.info().num_connects())
    ///         })
    ///     })
    ///     .collect();
    /// for worker in workers {
    ///     println!("new connections: {}", worker.join().unwrap()?);
    /// }
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn share_connections(&mut self, on: bool) -> &mut Share {
        self.pool = on.then(|| self.pool.take().unwrap_or_default());
        self
    }

    /// The shared DNS cache, when this share shares one.
    pub(crate) fn dns(&self) -> Option<&SharedDnsCache> {
        self.dns.as_ref()
    }

    /// The shared TLS session store, when this share shares one.
    pub(crate) fn sessions(&self) -> Option<&Arc<ClientSessionMemoryCache>> {
        self.sessions.as_ref()
    }

    /// The shared connection pool, when this share shares one.
    pub(crate) fn connections(&self) -> Option<&Pool> {
        self.pool.as_ref()
    }
}
