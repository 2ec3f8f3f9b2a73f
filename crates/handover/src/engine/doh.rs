//! DoH: a name looked up with DNS over HTTPS (`doh_url`, RFC 8484) instead
//! of the system resolver.
//!
//! ```text
//!   name job (names.rs) ── DohLookup::start ──> one probe per query: AAAA, A
//!        │                                       (an ordinary Transfer each:
//!        │                                        POST over HTTP/1.1 + TLS)
//!        └── resolve_step ──> DohLookup::poll ──> drive each probe
//!                 │                │                 └─ done: status, Content-Type,
//!                 │                │                    body ──> doh::Resolution
//!                 │                └─ all in: addresses (A, then AAAA) or why not
//!                 └─ the DNS cache, then connect as after any lookup
//! ```
//!
//! **Probes are sub-transfers owned by the name job.** Each query is an
//! ordinary engine [`Transfer`] (URL, route, TLS, the HTTP/1.1 exchange,
//! the body through a write callback), planned from options made for it
//! and driven by the transfer that needs the name, from its resolve phase:
//! when the poll loop drives the parent, the parent drives its probes, and
//! the parent's descriptors, readiness and deadlines include theirs. So
//! `Easy::perform` and a `Multi` run DoH without knowing of it, nothing
//! blocks the poll thread (the DoH server's own name goes to the resolver
//! pool, as any name), the parent's deadline bounds the probes, and a
//! parent that fails, times out or is removed drops its probes with it.
//! libcurl adds its probes to the multi as internal easy handles; there is
//! no such handle here for an application to see, and no bookkeeping in
//! `Multi`.
//!
//! What a probe takes from the transfer's options is what libcurl's
//! `doh_probe_run` gives its handles: the CA options, the CRL file, the
//! curves, `ssl_options`, the timeouts, `resolve` entries (to bootstrap
//! the DoH server's name), the DNS cache and verbose output; its
//! certificate checks are `doh_ssl_verify_peer`/`_host`/`_status`. No proxy option,
//! no socket callback, no credentials. Probes never reuse a connection:
//! each opens its own and closes it when done.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use handover_proto::doh::{Family, Reply, Resolution, MAX_RESPONSE};

use super::Transfer;
use crate::callbacks::Writer;
use crate::dns_cache::SharedDnsCache;
use crate::error::{Error, ErrorKind};
use crate::options::{IpResolve, Options, UrlOption};
use crate::pool::Pool;
use crate::sys::Interest;
use crate::tls::TlsCache;
use crate::verbose::{log_info, Logger};

/// What a transfer keeps to look names up with DoH: the probes' options
/// and the TLS configuration prepared for them.
pub(super) struct DohPlan {
    opts: Options,
    tls: TlsCache,
    families: Vec<Family>,
    log: Logger,
}

impl DohPlan {
    /// The plan for a transfer with `opts`; `None` without `doh_url`.
    pub(super) fn new(opts: &Options) -> Option<Box<DohPlan>> {
        let probe = opts.doh_probe()?;
        let mut tls = TlsCache::default();
        // From the process-wide cache, which `TlsCache::prepare` filled off
        // the poll thread; a failure is kept for the probes to report.
        tls.prepare(&probe);
        let families = match opts.ip_resolve {
            // AAAA first, as libcurl asks.
            IpResolve::Any => vec![Family::Aaaa, Family::A],
            IpResolve::V4 => vec![Family::A],
            IpResolve::V6 => vec![Family::Aaaa],
        };
        Some(Box::new(DohPlan {
            opts: probe,
            tls,
            families,
            log: opts.log.clone(),
        }))
    }

    /// The DoH server's URL, for messages.
    pub(super) fn server(&self) -> &str {
        self.opts.url.as_ref().map_or("", UrlOption::raw)
    }

    /// Starts looking up `host` for `port`: one probe per query, each
    /// launched at once.
    pub(super) fn start(
        &mut self,
        host: &str,
        port: u16,
        dns: &SharedDnsCache,
        now: Instant,
    ) -> Result<DohLookup, String> {
        let scheme_ok = self
            .server()
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
        if !scheme_ok {
            // libcurl's release builds allow DoH over HTTPS only.
            return Err("the DoH URL must be https://".to_owned());
        }
        let resolution = Resolution::new(host, &self.families).map_err(|e| e.to_string())?;
        let mut probes = Vec::with_capacity(2);
        for (family, query) in resolution.queries() {
            let body = Arc::new(Mutex::new(Body::default()));
            let sink = Arc::clone(&body);
            let mut opts = self.opts.clone();
            opts.http.post_fields = Some(query.to_vec());
            opts.http.write = Some(Writer::new(Box::new(move |data: &[u8]| {
                Ok(lock(&sink).take(data))
            })));
            let mut transfer =
                Transfer::plan(&opts, &mut self.tls, dns, now).map_err(|e| e.to_string())?;
            // A probe never takes a pooled connection nor leaves one: the
            // pool is only the launch's formality.
            transfer
                .launch(&Pool::default(), now, true)
                .map_err(|e| e.to_string())?;
            probes.push(Probe {
                family,
                transfer: Some(Box::new(transfer)),
                body,
            });
        }
        Ok(DohLookup {
            resolution,
            probes,
            port,
            log: self.log.clone(),
        })
    }
}

/// A probe's response body, kept up to the DoH limit.
#[derive(Default)]
struct Body {
    bytes: Vec<u8>,
    /// The server sent more than [`MAX_RESPONSE`] bytes: the write callback
    /// refused them, which ended the probe.
    too_large: bool,
}

impl Body {
    /// Takes `data`, or nothing once the body would pass the limit.
    fn take(&mut self, data: &[u8]) -> usize {
        if self.bytes.len() + data.len() > MAX_RESPONSE {
            self.too_large = true;
            return 0;
        }
        self.bytes.extend_from_slice(data);
        data.len()
    }
}

fn lock(body: &Mutex<Body>) -> MutexGuard<'_, Body> {
    body.lock().unwrap_or_else(|p| p.into_inner())
}

/// One query in flight.
struct Probe {
    family: Family,
    /// `None` once finished.
    transfer: Option<Box<Transfer>>,
    body: Arc<Mutex<Body>>,
}

/// One name's DoH lookup in flight.
pub(super) struct DohLookup {
    resolution: Resolution,
    probes: Vec<Probe>,
    port: u16,
    log: Logger,
}

impl DohLookup {
    /// Drives the probes; once every query is answered, the addresses (A
    /// first, then AAAA) or why there are none.
    pub(super) fn poll(&mut self, now: Instant) -> Option<Result<Vec<SocketAddr>, String>> {
        for probe in &mut self.probes {
            let Some(transfer) = probe.transfer.as_mut() else {
                continue;
            };
            let ended = match transfer.drive(now) {
                Ok(false) => continue,
                Ok(true) => Ok(()),
                Err(e) => Err(e),
            };
            let family = probe.family;
            let body = lock(&probe.body);
            let result = match ended {
                Err(_) if body.too_large => Err(self
                    .resolution
                    .failed(family, format!("response larger than {MAX_RESPONSE} bytes"))
                    .to_string()),
                Err(e) => Err(self.resolution.failed(family, e.to_string()).to_string()),
                Ok(()) => {
                    let status = u16::try_from(transfer.info().response_code()).unwrap_or(0);
                    let head = transfer.take_head();
                    let reply = Reply {
                        status,
                        content_type: head.as_ref().and_then(|(h, _)| h.header("content-type")),
                        body: &body.bytes,
                    };
                    self.resolution
                        .answered(family, &reply)
                        .map(|_| ())
                        .map_err(ToString::to_string)
                }
            };
            drop(body);
            probe.transfer = None;
            if let Err(why) = result {
                log_info!(self.log, "[DoH] [{}] error: {why}", family.name());
            }
            log_info!(
                self.log,
                "a DoH request is completed, {} to go",
                self.resolution.pending()
            );
        }
        let outcome = self.resolution.outcome()?;
        Some(match outcome {
            Ok(resolved) => {
                self.show(&resolved.addrs, resolved.ttl);
                let port = self.port;
                Ok(resolved
                    .addrs
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, port))
                    .collect())
            }
            Err(failed) => Err(failed.to_string()),
        })
    }

    /// Verbose lines in the shape of libcurl's `doh_show`.
    fn show(&self, addrs: &[IpAddr], ttl: u32) {
        if !self.log.enabled() {
            return;
        }
        log_info!(self.log, "[DoH] Host name: {}", self.resolution.host());
        log_info!(self.log, "[DoH] TTL: {ttl} seconds");
        for ip in addrs {
            match ip {
                IpAddr::V4(v4) => log_info!(self.log, "[DoH] A: {v4}"),
                IpAddr::V6(v6) => {
                    // libcurl writes all eight groups, zero-padded.
                    let groups: Vec<String> =
                        v6.segments().iter().map(|g| format!("{g:04x}")).collect();
                    log_info!(self.log, "[DoH] AAAA: {}", groups.join(":"));
                }
            }
        }
    }

    /// Calls `f` with each descriptor the probes wait on, its interest and
    /// a number that tells it apart from the probes' earlier descriptors.
    /// (A `dyn` callback: the probes are transfers, whose own `each_wanted`
    /// would otherwise instantiate itself without end.)
    pub(super) fn each_wanted(&self, f: &mut dyn FnMut(std::os::fd::RawFd, Interest, u32)) {
        for (i, probe) in self.probes.iter().enumerate() {
            let Some(t) = &probe.transfer else {
                continue;
            };
            let epoch = (t.fd_epoch & 0x7ff) << 12;
            let slot = (u32::try_from(i).unwrap_or(1) & 1) << 23;
            t.each_wanted(|fd, interest, index| f(fd, interest, slot | epoch | (index & 0xfff)));
        }
    }

    /// True when a probe can move without waiting.
    pub(super) fn ready_now(&self) -> bool {
        self.running().any(Transfer::ready_now)
    }

    /// The earliest deadline among the probes.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.running().filter_map(Transfer::next_deadline).min()
    }

    fn running(&self) -> impl Iterator<Item = &Transfer> {
        self.probes.iter().filter_map(|p| p.transfer.as_deref())
    }
}

/// A message of an `ErrorKind` saying a DoH lookup of `host` failed.
pub(super) fn lookup_error(
    kind: ErrorKind,
    what: &str,
    host: &str,
    server: &str,
    why: &str,
) -> Error {
    Error::new(
        kind,
        format!("Could not resolve {what}: {host} (DoH server {server}: {why})"),
    )
}
