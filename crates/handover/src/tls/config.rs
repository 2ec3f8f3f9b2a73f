//! Turning handover's TLS options into a rustls client configuration:
//! trust anchors (CA file, CA directory or the system store), verification
//! switches, client certificate, version bounds, ALPN and key pinning.
//!
//! Building one reads files (the CA file, every file of the CA directory,
//! the client certificate and key, a pinned key file) and, without a CA
//! file or directory, loads the system store. None of that may happen on
//! the poll thread, so configurations live in one **process-wide cache**
//! keyed by the TLS options and the ALPN list:
//!
//! ```text
//!   Multi::add ──> TlsCache::prepare ──> process-wide cache (LRU, 64 sets,
//!                                           │                  24 h each)
//!   Transfer::start ──> TlsCache::get ──────┘ prepared: no file system
//! ```
//!
//! `Easy::perform` needs no preparing: its `Transfer::start` runs before it
//! drives anything, and fetches (or builds) from the process-wide cache
//! there. `Multi::perform` starts transfers inside its loop, so `Multi::add`
//! prepares them.
//!
//! - One build per distinct option set: the CA file and directory are read
//!   once, however many handles or `Multi`s use them; the system store is
//!   loaded once per process.
//! - A handle's [`TlsCache`] keeps what it prepared, so a transfer started
//!   later (in `Multi::perform`) never builds, even if the shared entry was
//!   evicted meanwhile.
//! - **Files that change on disk.** Entries are keyed by path, not content.
//!   libcurl re-reads CA files per connection unless its CA cache holds
//!   them (`CURLOPT_CA_CACHE_TIMEOUT`, 24 h by default); handover follows
//!   that option: an entry serves new transfers for the option set's
//!   `ca_cache_timeout` ([`CONFIG_MAX_AGE`], 24 h, by default; zero: every
//!   transfer; `None`: forever), then the next transfer that needs it
//!   rebuilds it from the files as they are then. The same holds for client certificates and pinned key
//!   files. A build that fails is not cached: the next prepare reads the
//!   files again.

use std::borrow::Cow;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use handover_proto::pin::PinSpec;
use handover_proto::proxy::ProxyKind;
use handover_proto::url::{Scheme, Url};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ClientSessionMemoryCache, Resumption, WebPkiServerVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use super::server_checks;
use crate::error::{Error, ErrorKind};
use crate::options::{Options, SslVersion, TlsOptions};

/// How long a built configuration serves new transfers before it is built
/// again from the files: libcurl's `CURLOPT_CA_CACHE_TIMEOUT` default.
pub(crate) const CONFIG_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// The most distinct option sets the process-wide cache keeps; the least
/// recently used goes first.
pub(crate) const CONFIG_ENTRIES: usize = 64;

/// Which ALPN list a connection offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Alpn {
    /// Nothing (TLS for non-HTTP schemes such as gophers).
    None,
    /// `http/1.1` only: a connect-only HTTPS connection must stay a byte
    /// pipe, so h2 is never offered.
    Http11,
}

impl Alpn {
    /// What a TLS connection to an origin of `scheme` offers.
    pub fn for_scheme(scheme: Scheme) -> Alpn {
        match scheme {
            Scheme::Https | Scheme::Wss => Alpn::Http11,
            _ => Alpn::None,
        }
    }

    fn protocols(self) -> Vec<Vec<u8>> {
        match self {
            Alpn::None => Vec::new(),
            Alpn::Http11 => vec![b"http/1.1".to_vec()],
        }
    }
}

/// A ready rustls configuration plus the pin to check after the handshake.
#[derive(Clone)]
pub(crate) struct TlsSetup {
    pub config: Arc<ClientConfig>,
    pub pin: Option<Arc<PinSpec>>,
    pub verify_peer: bool,
    /// Where trust comes from, for messages: `CA file /etc/ca.pem`, `the
    /// system store`.
    pub trust: Arc<str>,
}

/// A handle's view of the process-wide cache: the configurations its next
/// transfer needs, fetched (or built) by [`TlsCache::prepare`] before the
/// transfer enters the poll loop; and the handle's TLS session cache
/// (`CURLOPT_SSL_SESSIONID_CACHE`), which the shared configurations are
/// given in copies of the handle's own.
#[derive(Default)]
pub(crate) struct TlsCache {
    prepared: Vec<(TlsOptions, Alpn, Result<TlsSetup, Error>)>,
    /// The sessions of this handle's TLS connections, for resumption.
    sessions: Option<Arc<ClientSessionMemoryCache>>,
    /// Shared configurations and this handle's copies of them with the
    /// session store (a copy is made once per configuration, not per
    /// transfer).
    localized: Vec<(Arc<ClientConfig>, Arc<ClientConfig>)>,
}

/// Sessions a handle keeps: a few per server it talks to.
const SESSIONS_PER_HANDLE: usize = 32;

impl TlsCache {
    /// Fetches from the process-wide cache, building when needed, every
    /// configuration a transfer with `opts` may use: the origin's (for a
    /// TLS scheme) and the HTTPS proxy's (when one may be on the route). A
    /// failure is kept and reported by [`get`](TlsCache::get) only if the
    /// transfer asks for that configuration, so a proxy that turns out not
    /// to be used cannot fail the transfer.
    pub fn prepare(&mut self, opts: &Options) {
        self.prepared.clear();
        let now = Instant::now();
        for (tls, alpn) in wanted(opts) {
            if !self
                .prepared
                .iter()
                .any(|(o, a, _)| *o == *tls && *a == alpn)
            {
                let setup = shared()
                    .get(&tls, alpn, now)
                    .map(|s| self.localize(&tls, s));
                self.prepared.push((tls.into_owned(), alpn, setup));
            }
        }
        // The DoH probes plan their TLS in the poll loop, from the
        // process-wide cache: build what they will ask for now.
        if let Some(probe) = opts.doh_probe() {
            for (tls, alpn) in wanted(&probe) {
                let _ = shared().get(&tls, alpn, now);
            }
        }
    }

    /// Uses `store` (a [`Share`](crate::Share)'s) for the handle's TLS
    /// sessions, or a store of the handle's own again with `None`.
    pub fn use_sessions(&mut self, store: Option<Arc<ClientSessionMemoryCache>>) {
        self.sessions = store;
        self.localized.clear();
        self.prepared.clear();
    }

    /// `setup` with this handle's session store, when the session cache is
    /// on.
    fn localize(&mut self, opts: &TlsOptions, mut setup: TlsSetup) -> TlsSetup {
        if !opts.session_cache {
            return setup;
        }
        if let Some((_, own)) = self
            .localized
            .iter()
            .find(|(shared, _)| Arc::ptr_eq(shared, &setup.config))
        {
            setup.config = Arc::clone(own);
            return setup;
        }
        let store =
            Arc::clone(self.sessions.get_or_insert_with(|| {
                Arc::new(ClientSessionMemoryCache::new(SESSIONS_PER_HANDLE))
            }));
        let mut config = (*setup.config).clone();
        config.resumption = Resumption::store(store);
        let own = Arc::new(config);
        // A configuration the process cache rebuilt replaces its old copy.
        self.localized
            .retain(|(shared, _)| Arc::strong_count(shared) > 1);
        self.localized
            .push((Arc::clone(&setup.config), Arc::clone(&own)));
        setup.config = own;
        setup
    }

    /// Forgets what [`prepare`](TlsCache::prepare) fetched.
    pub fn clear(&mut self) {
        self.prepared.clear();
    }

    /// The configuration for `opts` and `alpn`: the prepared one when there
    /// is one (no file system), else from the process-wide cache, built
    /// there if needed.
    pub fn get(&mut self, opts: &TlsOptions, alpn: Alpn) -> Result<TlsSetup, Error> {
        if let Some((_, _, setup)) = self
            .prepared
            .iter()
            .find(|(o, a, _)| o == opts && *a == alpn)
        {
            return setup.clone();
        }
        shared()
            .get(opts, alpn, Instant::now())
            .map(|s| self.localize(opts, s))
    }
}

/// The configurations a transfer with `opts` may use: the origin's (for a
/// TLS scheme) and the HTTPS proxy's (when one may be on the route).
fn wanted(opts: &Options) -> Vec<(Cow<'_, TlsOptions>, Alpn)> {
    let mut wanted = Vec::with_capacity(2);
    let Some(raw) = opts.url.as_ref().map(crate::options::UrlOption::raw) else {
        return wanted; // the transfer fails before it needs TLS
    };
    // The scheme is all that matters here: no need to parse the whole URL,
    // which `Transfer::start` does anyway. Without `://` the scheme is
    // guessed from the host, never as a TLS one.
    let scheme = match raw.split_once("://") {
        Some((name, _)) => Scheme::from_name(name),
        None => Url::parse(raw)
            .ok()
            .and_then(|url| Scheme::from_name(&url.scheme)),
    };
    let Some(scheme) = scheme else {
        return wanted; // unsupported: the transfer fails before it needs TLS
    };
    let env = |name: &str| std::env::var(name).ok();
    if scheme.uses_tls() || (scheme.starts_tls() && opts.use_ssl.wanted()) {
        wanted.push((opts.server_tls(), Alpn::for_scheme(scheme)));
    }
    // The route's own selection, its no-proxy list matched against no
    // host: preparing one configuration too many is cheap and happens off
    // the poll loop. A route that does not plan fails before it needs TLS.
    if let Ok(route) = crate::route::select(opts, scheme, "", false, &env) {
        for hop in route
            .hops
            .iter()
            .filter(|h| h.spec.kind == ProxyKind::Https)
        {
            let tls = crate::route::hop_tls(opts, &hop.options);
            if !wanted.iter().any(|(w, a)| *w == tls && *a == Alpn::Http11) {
                wanted.push((tls, Alpn::Http11));
            }
        }
    }
    wanted
}

/// The process-wide cache of built configurations.
fn shared() -> &'static ConfigCache {
    static CACHE: OnceLock<ConfigCache> = OnceLock::new();
    CACHE.get_or_init(|| ConfigCache::new(CONFIG_ENTRIES))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Built configurations keyed by options and ALPN: least recently used out
/// past `capacity`, rebuilt past the options' `ca_cache_timeout`.
struct ConfigCache {
    entries: Mutex<Vec<Entry>>,
    capacity: usize,
}

struct Entry {
    opts: TlsOptions,
    alpn: Alpn,
    last_used: Instant,
    /// Locked while building, so one option set is built once even when
    /// two threads ask for it at the same time.
    built: Arc<Mutex<Option<(TlsSetup, Instant)>>>,
}

impl ConfigCache {
    fn new(capacity: usize) -> ConfigCache {
        ConfigCache {
            entries: Mutex::new(Vec::new()),
            capacity: capacity.max(1),
        }
    }

    fn get(&self, opts: &TlsOptions, alpn: Alpn, now: Instant) -> Result<TlsSetup, Error> {
        let slot = {
            let mut entries = lock(&self.entries);
            match entries
                .iter_mut()
                .find(|e| e.alpn == alpn && e.opts == *opts)
            {
                Some(entry) => {
                    entry.last_used = entry.last_used.max(now);
                    entry.built.clone()
                }
                None => {
                    if entries.len() >= self.capacity {
                        if let Some(oldest) = entries
                            .iter()
                            .enumerate()
                            .min_by_key(|(_, e)| e.last_used)
                            .map(|(i, _)| i)
                        {
                            entries.swap_remove(oldest);
                        }
                    }
                    let built = Arc::new(Mutex::new(None));
                    entries.push(Entry {
                        opts: opts.clone(),
                        alpn,
                        last_used: now,
                        built: built.clone(),
                    });
                    built
                }
            }
        };
        // Only builders of this one option set wait here; the list above is
        // free for everyone else.
        let mut built = lock(&slot);
        if let Some((setup, at)) = &*built {
            if is_fresh(opts, *at, now) {
                return Ok(setup.clone());
            }
        }
        let setup = build(opts, alpn)?;
        *built = Some((setup.clone(), now));
        Ok(setup)
    }

    /// True when [`get`](ConfigCache::get) would answer at once: built,
    /// fresh, and not being rebuilt.
    #[cfg(feature = "tokio")]
    fn holds(&self, opts: &TlsOptions, alpn: Alpn, now: Instant) -> bool {
        let slot = {
            let entries = lock(&self.entries);
            match entries.iter().find(|e| e.alpn == alpn && e.opts == *opts) {
                Some(entry) => entry.built.clone(),
                None => return false,
            }
        };
        let held = slot.try_lock();
        matches!(held.as_deref(), Ok(Some((_, at))) if is_fresh(opts, *at, now))
    }
}

/// True while a configuration built at `at` is young enough to use
/// (`CURLOPT_CA_CACHE_TIMEOUT`).
fn is_fresh(opts: &TlsOptions, at: Instant, now: Instant) -> bool {
    opts.ca_cache_timeout
        .is_none_or(|max_age| now.saturating_duration_since(at) < max_age)
}

/// The configurations a transfer with `opts` would have to build (reading
/// CA files, the system store, client keys) rather than find in the
/// process-wide cache, as one job for a thread that may block; `None` when
/// all are there. The async face runs the job off the runtime, so that
/// [`TlsCache::prepare`] then finds everything built.
#[cfg(feature = "tokio")]
pub(crate) fn cold_configurations(opts: &Options) -> Option<impl FnOnce() + Send + 'static> {
    let now = Instant::now();
    let probe = opts.doh_probe();
    let cold: Vec<(TlsOptions, Alpn)> = wanted(opts)
        .into_iter()
        .chain(probe.iter().flat_map(wanted))
        .filter(|(tls, alpn)| !shared().holds(tls, *alpn, now))
        .map(|(tls, alpn)| (tls.into_owned(), alpn))
        .collect();
    if cold.is_empty() {
        return None;
    }
    Some(move || {
        let now = Instant::now();
        for (tls, alpn) in cold {
            // A failure is found again, and reported, by the transfer.
            let _ = shared().get(&tls, alpn, now);
        }
    })
}

fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

fn build(opts: &TlsOptions, alpn: Alpn) -> Result<TlsSetup, Error> {
    let mut provider = provider();
    if opts.cipher_list.is_some() || opts.tls13_ciphers.is_some() || opts.ec_curves.is_some() {
        provider = Arc::new(super::suites::narrowed(
            &provider,
            opts.cipher_list.as_deref(),
            opts.tls13_ciphers.as_deref(),
            opts.ec_curves.as_deref(),
        )?);
    }
    let versions = versions(opts.min_version, opts.max_version)?;
    let roots = if opts.verify_peer {
        Some(roots(opts)?)
    } else {
        None
    };
    let webpki = match &roots {
        Some(roots) => {
            let crls = match &opts.crlfile {
                Some(path) => load_crls(path)?,
                None => Vec::new(),
            };
            Some(
                WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
                    .with_crls(crls)
                    .build()
                    .map_err(|e| {
                        Error::new(
                            ErrorKind::SslCacertBadfile,
                            format!("cannot build certificate verifier: {e}"),
                        )
                    })?,
            )
        }
        None => None,
    };
    let verifier = Arc::new(Verifier {
        webpki,
        roots,
        verify_host: opts.verify_host,
        issuer: match &opts.issuer_cert {
            Some(source) => Some(load_issuer(source)?),
            None => None,
        },
        verify_status: opts.verify_status,
        algorithms: provider.signature_verification_algorithms,
    });
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| {
            Error::new(
                ErrorKind::SslConnectError,
                format!("TLS version bounds rejected: {e}"),
            )
        })?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match opts.identity.load()? {
        None => builder.with_no_client_auth(),
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).map_err(|e| {
            Error::new(
                ErrorKind::SslCertproblem,
                format!("unable to use the client certificate and key: {e}"),
            )
        })?,
    };
    config.alpn_protocols = match (&opts.alpn, opts.enable_alpn) {
        (_, false) => Vec::new(),
        (Some(list), true) => list.iter().map(|p| p.as_bytes().to_vec()).collect(),
        (None, true) => alpn.protocols(),
    };
    // Without the session cache, nothing is stored or offered; with it, each
    // handle gives the configuration a store of its own (TlsCache::localize),
    // so sessions never cross handles, as in libcurl.
    config.resumption = Resumption::disabled();
    let pin = match &opts.pinned_public_key {
        None => None,
        Some(spec) => Some(Arc::new(load_pin(spec)?)),
    };
    Ok(TlsSetup {
        config: Arc::new(config),
        pin,
        verify_peer: opts.verify_peer,
        trust: trust_source(opts).into(),
    })
}

/// The trust anchors `roots` uses, in words.
fn trust_source(opts: &TlsOptions) -> String {
    match (&opts.cainfo, &opts.capath) {
        _ if !opts.verify_peer => "nothing: peer verification is off".to_owned(),
        _ if opts.cainfo_blob.is_some() && opts.native_ca => {
            "the CA blob and the system store".to_owned()
        }
        _ if opts.cainfo_blob.is_some() => "the CA blob".to_owned(),
        (Some(file), None) if opts.native_ca => {
            format!("CA file {} and the system store", file.display())
        }
        (None, None) => "the system store".to_owned(),
        (Some(file), None) => format!("CA file {}", file.display()),
        (None, Some(dir)) => format!("CA directory {}", dir.display()),
        (Some(file), Some(dir)) => {
            format!(
                "CA file {} and CA directory {}",
                file.display(),
                dir.display()
            )
        }
    }
}

fn versions(
    min: SslVersion,
    max: SslVersion,
) -> Result<&'static [&'static rustls::SupportedProtocolVersion], Error> {
    static BOTH: [&rustls::SupportedProtocolVersion; 2] =
        [&rustls::version::TLS13, &rustls::version::TLS12];
    static ONLY_13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    static ONLY_12: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
    let allow_12 = min <= SslVersion::Tlsv12;
    let allow_13 = max == SslVersion::Default || max >= SslVersion::Tlsv13;
    let max_ok = max == SslVersion::Default || max >= SslVersion::Tlsv12;
    match (allow_12 && max_ok, allow_13) {
        (true, true) => Ok(&BOTH),
        (false, true) => Ok(&ONLY_13),
        (true, false) => Ok(&ONLY_12),
        (false, false) => Err(Error::new(
            ErrorKind::SslConnectError,
            format!(
                "TLS version range {min:?}..{max:?} is empty: rustls speaks TLS 1.2 and 1.3 only"
            ),
        )),
    }
}

fn load_certs(
    path: &Path,
    kind: ErrorKind,
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, Error> {
    let iter = CertificateDer::pem_file_iter(path)
        .map_err(|e| Error::new(kind, format!("cannot read {what} {}: {e}", path.display())))?;
    let certs = iter
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::new(kind, format!("bad PEM in {what} {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(Error::new(
            kind,
            format!("no certificate found in {what} {}", path.display()),
        ));
    }
    Ok(certs)
}

/// The revocation lists of a PEM file (`CURLOPT_CRLFILE`).
fn load_crls(path: &Path) -> Result<Vec<CertificateRevocationListDer<'static>>, Error> {
    let bad = |why: String| {
        Error::new(
            ErrorKind::SslCrlBadfile,
            format!("cannot use CRL file {}: {why}", path.display()),
        )
    };
    let crls = CertificateRevocationListDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("bad PEM: {e}")))?;
    if crls.is_empty() {
        return Err(bad("no CRL in it".to_owned()));
    }
    Ok(crls)
}

fn roots(opts: &TlsOptions) -> Result<Arc<RootCertStore>, Error> {
    if opts.cainfo.is_none() && opts.capath.is_none() && opts.cainfo_blob.is_none() {
        return system_roots();
    }
    let mut store = RootCertStore::empty();
    if let Some(blob) = &opts.cainfo_blob {
        // As libcurl: the blob replaces the CA file.
        let certs = CertificateDer::pem_slice_iter(blob)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                Error::new(
                    ErrorKind::SslCacertBadfile,
                    format!("bad PEM in the CA blob: {e}"),
                )
            })?;
        for cert in certs {
            store.add(cert).map_err(|e| {
                Error::new(
                    ErrorKind::SslCacertBadfile,
                    format!("unusable certificate in the CA blob: {e}"),
                )
            })?;
        }
    } else if let Some(file) = &opts.cainfo {
        for cert in load_certs(file, ErrorKind::SslCacertBadfile, "CA file")? {
            add_root(&mut store, cert, file)?;
        }
    }
    if let Some(dir) = &opts.capath {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            Error::new(
                ErrorKind::SslCacertBadfile,
                format!("cannot read CA directory {}: {e}", dir.display()),
            )
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            // A CA directory holds other files too (hash links, READMEs):
            // take every certificate that parses and skip the rest.
            if let Ok(iter) = CertificateDer::pem_file_iter(&path) {
                for cert in iter.flatten() {
                    let _ = store.add(cert);
                }
            }
        }
    }
    if opts.native_ca {
        // CURLSSLOPT_NATIVE_CA: the system's anchors as well.
        store.roots.extend(system_roots()?.roots.iter().cloned());
    }
    if store.is_empty() {
        return Err(Error::new(
            ErrorKind::SslCacertBadfile,
            "no usable CA certificate in the given CA file or directory",
        ));
    }
    Ok(Arc::new(store))
}

fn add_root(
    store: &mut RootCertStore,
    cert: CertificateDer<'static>,
    file: &Path,
) -> Result<(), Error> {
    store.add(cert).map_err(|e| {
        Error::new(
            ErrorKind::SslCacertBadfile,
            format!("unusable CA certificate in {}: {e}", file.display()),
        )
    })
}

/// The operating system's trust store, loaded once per process.
fn system_roots() -> Result<Arc<RootCertStore>, Error> {
    static SYSTEM: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    if let Some(store) = SYSTEM.get() {
        return Ok(store.clone());
    }
    let loaded = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    let (_added, _ignored) = store.add_parsable_certificates(loaded.certs);
    if store.is_empty() {
        return Err(Error::new(
            ErrorKind::SslCacertBadfile,
            "no CA certificates found in the system trust store; set cainfo or capath",
        ));
    }
    Ok(SYSTEM.get_or_init(|| Arc::new(store)).clone())
}

fn load_pin(spec: &str) -> Result<PinSpec, Error> {
    if PinSpec::is_hash_list(spec) {
        // A malformed list matches nothing, so the transfer fails as a
        // mismatch (90), as in libcurl.
        return PinSpec::parse_hashes(spec).map_err(|e| {
            Error::new(
                ErrorKind::SslPinnedPubKeyNotMatch,
                format!("pinned public key list is unusable: {e}"),
            )
        });
    }
    let bytes = std::fs::read(spec).map_err(|e| {
        Error::new(
            ErrorKind::SslPinnedPubKeyNotMatch,
            format!("cannot read pinned public key file {spec}: {e}"),
        )
    })?;
    PinSpec::from_key_file(&bytes).map_err(|e| {
        Error::new(
            ErrorKind::SslPinnedPubKeyNotMatch,
            format!("bad pinned public key file {spec}: {e}"),
        )
    })
}

/// The certificate verifier: webpki when peer verification is on, with the
/// host-name check dropped when only host verification is off; then the
/// issuer and OCSP status checks when asked for (`server_checks.rs`).
#[derive(Debug)]
struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    /// The trust anchors webpki uses, where the status check looks for the
    /// issuer when the server did not send it.
    roots: Option<Arc<RootCertStore>>,
    verify_host: bool,
    /// `CURLOPT_ISSUERCERT`, DER.
    issuer: Option<Vec<u8>>,
    verify_status: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

/// The issuer certificate to check against, DER from PEM (83 if unusable,
/// as libcurl).
fn load_issuer(source: &super::Source) -> Result<Vec<u8>, Error> {
    let bad = |why: String| {
        Error::new(
            ErrorKind::SslIssuerError,
            format!("SSL: Unable to read issuer cert ({source}): {why}"),
        )
    };
    let bytes = source.borrowed().read().map_err(bad)?;
    let cert = CertificateDer::from_pem_slice(&bytes).map_err(|e| bad(e.to_string()))?;
    Ok(cert.to_vec())
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(webpki) = &self.webpki {
            match webpki.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ) {
                Ok(_) => {}
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. },
                )) if !self.verify_host => {}
                Err(e) => return Err(e),
            }
        }
        if let Some(issuer) = &self.issuer {
            server_checks::check_issuer(end_entity, issuer, &self.algorithms)?;
        }
        if self.verify_status {
            server_checks::check_status(
                ocsp_response,
                end_entity,
                intermediates,
                self.roots.as_deref(),
                &self.algorithms,
                now,
            )?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Easy;
    use std::path::PathBuf;

    /// A self-signed certificate in a PEM file of its own.
    fn ca_file(name: &str) -> PathBuf {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let path =
            std::env::temp_dir().join(format!("handover-config-{}-{name}.pem", std::process::id()));
        std::fs::write(&path, ck.cert.pem()).unwrap();
        path
    }

    fn easy_with_cainfo(ca: &Path) -> Easy {
        let mut easy = Easy::new();
        easy.url("https://localhost:1/").unwrap();
        easy.cainfo(ca).unwrap();
        easy
    }

    /// Options that build without touching the file system (no
    /// verification: the CA path is never read), told apart by `i`.
    fn unverified(i: usize) -> TlsOptions {
        TlsOptions {
            verify_peer: false,
            cainfo: Some(PathBuf::from(format!("/nonexistent/{i}"))),
            ca_cache_timeout: Some(Duration::from_secs(60)),
            ..TlsOptions::default()
        }
    }

    #[test]
    fn two_easy_handles_with_the_same_cainfo_share_one_built_config() {
        let ca = ca_file("shared");
        let mut a = easy_with_cainfo(&ca);
        let mut b = easy_with_cainfo(&ca);
        a.prepare_tls();
        b.prepare_tls();
        let opts = a.opts.tls.clone();
        let from_a = a.tls_cache().get(&opts, Alpn::Http11).unwrap();
        let from_b = b.tls_cache().get(&opts, Alpn::Http11).unwrap();
        // One build (its parts shared), each handle's copy with its own
        // session store.
        assert!(Arc::ptr_eq(&from_a.trust, &from_b.trust));
        assert!(!Arc::ptr_eq(&from_a.config, &from_b.config));

        // The file is read once: with it gone, a third handle still gets the
        // same build, and the prepared ones need no file at all.
        std::fs::remove_file(&ca).unwrap();
        let mut c = easy_with_cainfo(&ca);
        c.prepare_tls();
        let from_c = c.tls_cache().get(&opts, Alpn::Http11).unwrap();
        assert!(Arc::ptr_eq(&from_a.trust, &from_c.trust));
        // A handle's copy is made once, not per transfer.
        let again = a.tls_cache().get(&opts, Alpn::Http11).unwrap();
        assert!(Arc::ptr_eq(&from_a.config, &again.config));
    }

    #[test]
    fn without_the_session_cache_handles_use_the_shared_config_itself() {
        let mut opts = unverified(4242);
        opts.session_cache = false;
        let mut a = TlsCache::default();
        let mut b = TlsCache::default();
        let from_a = a.get(&opts, Alpn::Http11).unwrap();
        let from_b = b.get(&opts, Alpn::Http11).unwrap();
        assert!(Arc::ptr_eq(&from_a.config, &from_b.config));
    }

    #[test]
    fn a_failed_build_is_reported_by_get_and_not_cached() {
        let ca =
            std::env::temp_dir().join(format!("handover-config-{}-late.pem", std::process::id()));
        let _ = std::fs::remove_file(&ca);
        let mut easy = easy_with_cainfo(&ca);
        easy.prepare_tls();
        let opts = easy.opts.tls.clone();
        let Err(err) = easy.tls_cache().get(&opts, Alpn::Http11) else {
            panic!("a missing CA file must fail");
        };
        assert_eq!(err.kind(), ErrorKind::SslCacertBadfile);
        std::fs::copy(ca_file("late-source"), &ca).unwrap();
        easy.prepare_tls();
        assert!(easy.tls_cache().get(&opts, Alpn::Http11).is_ok());
    }

    #[test]
    fn prepare_covers_an_https_proxy_and_keeps_its_error_to_itself() {
        let ca = ca_file("proxied");
        let mut easy = easy_with_cainfo(&ca);
        easy.proxy("https://proxy.invalid:3128").unwrap();
        easy.proxy_cainfo("/nonexistent/proxy-ca.pem").unwrap();
        easy.prepare_tls();
        let cache = std::mem::take(easy.tls_cache());
        let keys: Vec<(bool, Alpn, bool)> = cache
            .prepared
            .iter()
            .map(|(o, a, r)| (*o == easy.opts.tls, *a, r.is_ok()))
            .collect();
        assert_eq!(
            keys,
            [(true, Alpn::Http11, true), (false, Alpn::Http11, false)],
            "the origin's configuration built, the proxy's failed and waits in its slot"
        );
    }

    #[test]
    fn entries_are_keyed_by_options_and_alpn_expire_and_make_room() {
        let cache = ConfigCache::new(2);
        let t0 = Instant::now();
        let first = cache.get(&unverified(1), Alpn::None, t0).unwrap();
        let same = cache
            .get(&unverified(1), Alpn::None, t0 + Duration::from_secs(1))
            .unwrap();
        assert!(Arc::ptr_eq(&first.config, &same.config));
        let other_alpn = cache.get(&unverified(1), Alpn::Http11, t0).unwrap();
        assert!(!Arc::ptr_eq(&first.config, &other_alpn.config));

        let late = cache
            .get(&unverified(1), Alpn::None, t0 + Duration::from_secs(61))
            .unwrap();
        assert!(
            !Arc::ptr_eq(&first.config, &late.config),
            "rebuilt after its age"
        );

        // Full at 2: a third set pushes out the least recently used one
        // (Http11, last used at t0), not the one just refreshed.
        let t1 = t0 + Duration::from_secs(62);
        cache.get(&unverified(2), Alpn::None, t1).unwrap();
        assert_eq!(lock(&cache.entries).len(), 2);
        let kept = cache.get(&unverified(1), Alpn::None, t1).unwrap();
        assert!(Arc::ptr_eq(&late.config, &kept.config));
        let back = cache.get(&unverified(1), Alpn::Http11, t1).unwrap();
        assert!(!Arc::ptr_eq(&other_alpn.config, &back.config), "evicted");
    }
}
