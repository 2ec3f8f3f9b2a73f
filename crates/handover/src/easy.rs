//! `Easy`: one transfer at a time, blocking, with the `curl` crate's names.

use std::fmt;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::time::{Duration, Instant};

use handover_proto::hosts::{parse_connect_to, parse_resolve};

use handover_proto::http1::ResponseHead;

use crate::callbacks::{
    HeaderSink, Prereq, ReadError, Reader, ResolverStart, Seeker, SocketCloser, SocketConfigurer,
    SocketHooks, SocketOpener, SocketPurpose, SocketRequest, SockoptResult, WriteError, Writer,
};
use crate::connection::Connection;
use crate::engine::{self, Kept, Transfer};
use crate::error::{Error, ErrorKind};
use crate::info::Info;
use crate::options::{
    Auth, ConnectOnly, IpResolve, List, NetRc, Options, ProxyType, SslOpt, SslVersion,
};
use crate::pool::Pool;
use crate::tls::TlsCache;
use crate::verbose::InfoType;
use crate::ws::Frame;

/// A handle for one transfer at a time, as libcurl's easy handle.
///
/// ```no_run
/// use handover::{ConnectOnly, Easy};
///
/// let mut easy = Easy::new();
/// easy.url("https://example.com/")?;
/// easy.connect_only(ConnectOnly::Connection)?;
/// easy.perform()?; // only connected!
/// easy.send(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")?;
/// # Ok::<(), handover::Error>(())
/// ```
pub struct Easy {
    pub(crate) opts: Options,
    pub(crate) conn: Option<Connection>,
    /// `take_connection` moved the last connection out, so that `send` and
    /// `recv` can say where it went.
    conn_taken: bool,
    pub(crate) info: Info,
    tls_cache: TlsCache,
    /// The handle's DNS cache, or its Multi's while it is added, or its
    /// share's.
    pub(crate) dns: crate::dns_cache::SharedDnsCache,
    /// The share's DNS cache, which wins over a Multi's.
    pub(crate) shared_dns: Option<crate::dns_cache::SharedDnsCache>,
    /// The handle's own idle connections.
    own_pool: Pool,
    /// Its `Multi`'s while it is added.
    pub(crate) multi_pool: Option<Pool>,
    /// Its share's, which wins over the others.
    shared_pool: Option<Pool>,
    /// `max_connects`: at most this many idle connections stay in the pool
    /// when this handle gives one back outside a `Multi`.
    pub(crate) max_connects: usize,
    /// The number of the connection the last transfer left in the pool
    /// (libcurl's `lastconnect_id`), for `last_socket`.
    pooled: Option<i64>,
    /// The last response head, and the method of the request it answers.
    head: Option<ResponseHead>,
    head_method: String,
    /// The interim (1xx) heads that came before it.
    interim: Vec<ResponseHead>,
    /// The last transfer succeeded: `head` is a whole head, not the part of
    /// one a failure left (kept for header lookups only).
    head_complete: bool,
    /// Added to a `Multi`: `perform` refuses, as libcurl's does.
    pub(crate) in_multi: bool,
    /// What the server's authentication keeps from one transfer to the
    /// next (libcurl's per-handle Digest state and picked method).
    server_auth: handover_proto::auth::AuthMemory,
}

impl Default for Easy {
    fn default() -> Easy {
        Easy::new()
    }
}

impl fmt::Debug for Easy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Easy")
            .field(
                "url",
                &self
                    .opts
                    .url
                    .as_ref()
                    .map(|u| crate::options::redacted_url(u.raw())),
            )
            .field("connect_only", &self.opts.connect_only)
            .field("connection", &self.conn)
            .finish()
    }
}

/// Applies `CURLOPT_SSL_OPTIONS` bits to `tls`.
fn ssl_options_into(tls: &mut crate::options::TlsOptions, bits: SslOpt) -> Result<(), Error> {
    if bits.bits() & (SslOpt::NO_PARTIALCHAIN | SslOpt::EARLYDATA) != 0 {
        return Err(Error::new(
            ErrorKind::NotBuiltIn,
            "CURLSSLOPT_NO_PARTIALCHAIN and CURLSSLOPT_EARLYDATA are not built in",
        ));
    }
    tls.native_ca = bits.bits() & SslOpt::NATIVE_CA != 0;
    Ok(())
}

fn bad_argument(msg: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::BadFunctionArgument, msg)
}

pub(crate) fn path_string(path: &Path) -> Result<std::path::PathBuf, Error> {
    if path.as_os_str().is_empty() {
        return Err(bad_argument("empty path"));
    }
    Ok(path.to_path_buf())
}

impl Easy {
    /// A handle with libcurl's defaults.
    pub fn new() -> Easy {
        Easy {
            opts: Options::default(),
            conn: None,
            conn_taken: false,
            info: Info::default(),
            tls_cache: TlsCache::default(),
            dns: crate::dns_cache::SharedDnsCache::default(),
            shared_dns: None,
            own_pool: Pool::default(),
            multi_pool: None,
            shared_pool: None,
            max_connects: crate::pool::EASY_MAX_IDLE,
            pooled: None,
            head: None,
            head_method: String::new(),
            interim: Vec::new(),
            head_complete: false,
            in_multi: false,
            server_auth: handover_proto::auth::AuthMemory::default(),
        }
    }

    /// Puts every option back to its default and closes the connection
    /// (`curl_easy_reset`). A handle added to a `Multi` stays added.
    pub fn reset(&mut self) {
        let in_multi = self.in_multi;
        let multi_pool = self.multi_pool.take();
        *self = Easy::new();
        self.in_multi = in_multi;
        self.multi_pool = multi_pool;
    }

    /// Puts every option back to its default and keeps the rest: the
    /// connection, the idle connections, the caches, what the server's
    /// authentication keeps between transfers, and the handle's place in a
    /// `Multi` and its share. For a face that cannot set each option back
    /// on its own (libcurl's C interface sets the options it keeps again on
    /// top).
    pub fn reset_options(&mut self) {
        self.opts = Options::default();
        self.max_connects = crate::pool::EASY_MAX_IDLE;
    }

    // ---- options -------------------------------------------------------

    /// The URL to connect to (`CURLOPT_URL`). Checked when the transfer starts.
    pub fn url(&mut self, url: &str) -> Result<(), Error> {
        if url.contains('\0') {
            return Err(Error::new(
                ErrorKind::UrlMalformat,
                "URL contains a NUL byte",
            ));
        }
        self.opts.url = Some(crate::options::UrlOption::new(url));
        Ok(())
    }

    /// Stop after connecting (1) or after the response headers (2)
    /// (`CURLOPT_CONNECT_ONLY`). Takes a [`ConnectOnly`] or a `bool`.
    ///
    /// With [`ConnectOnly::Connection`], `perform` sends nothing: the
    /// connection (TCP, proxies, TLS) is yours for any protocol.
    ///
    /// With [`ConnectOnly::Headers`] on `http://` or `https://`, `perform`
    /// sends the request and reads the response head, then hands over:
    ///
    /// - the body **raw**, chunked framing included (read it through
    ///   [`BodyReader`](crate::BodyReader) to get it decoded);
    /// - a **keep-alive** connection: nothing closes it after the body;
    /// - the head on the handle: [`response_code`](Easy::response_code),
    ///   [`response_header`](Easy::response_header),
    ///   [`response_headers`](Easy::response_headers),
    ///   [`response_header_list`](Easy::response_header_list);
    /// - a server that never answers is cut off by [`timeout`](Easy::timeout)
    ///   only: [`connect_timeout`](Easy::connect_timeout) covers resolve,
    ///   connect, proxies and TLS.
    ///
    /// On `ws://` and `wss://` it does the WebSocket upgrade instead; see
    /// [`ConnectOnly::Headers`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use handover::{ConnectOnly, Easy};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("http://example.com/")?;
    /// easy.connect_only(ConnectOnly::Headers)?;
    /// easy.timeout(Duration::from_secs(30))?;
    /// easy.perform()?;
    /// println!("{} {:?}", easy.response_code()?, easy.response_header("Content-Length"));
    /// let mut buf = [0u8; 4096];
    /// let n = easy.recv(&mut buf)?; // the first body bytes, raw (or Again)
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn connect_only(&mut self, mode: impl Into<ConnectOnly>) -> Result<(), Error> {
        self.opts.connect_only = mode.into();
        Ok(())
    }

    /// Prints libcurl-style progress lines (`CURLOPT_VERBOSE`).
    pub fn verbose(&mut self, on: bool) -> Result<(), Error> {
        self.opts.log.set_verbose(on);
        Ok(())
    }

    /// Where verbose output goes instead of standard error
    /// (`CURLOPT_DEBUGFUNCTION`).
    pub fn debug_function<F>(&mut self, f: F) -> Result<(), Error>
    where
        F: FnMut(InfoType, &[u8]) + Send + 'static,
    {
        self.opts.log.set_sink(Box::new(f));
        Ok(())
    }

    /// Limit for resolve, connect and handshakes (`CURLOPT_CONNECTTIMEOUT_MS`);
    /// zero means the default, 300 s. It covers proxies and TLS, not the
    /// wait for a response: that is [`timeout`](Easy::timeout)'s.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use handover::Easy;
    ///
    /// let mut easy = Easy::new();
    /// easy.connect_timeout(Duration::from_secs(5))?; // resolve + connect + proxies + TLS
    /// easy.timeout(Duration::from_secs(30))?; // everything, the response included
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn connect_timeout(&mut self, timeout: Duration) -> Result<(), Error> {
        self.opts.connect_timeout = Some(timeout);
        Ok(())
    }

    /// Limit for the whole transfer (`CURLOPT_TIMEOUT_MS`); zero means none.
    /// For connect-only transfers it bounds only the setup, as in libcurl 8.17+.
    ///
    /// Once the connection is set up this is the only limit: a server that
    /// accepts the connection and never answers an ordinary or connect-only
    /// = 2 request keeps `perform` waiting until `timeout` ends it
    /// (`OperationTimedout`, 28). It never applies to `send`/`recv` after
    /// `perform`, which do not wait.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use handover::{ConnectOnly, Easy, ErrorKind};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("http://slow.example/")?;
    /// easy.connect_only(ConnectOnly::Headers)?;
    /// easy.timeout(Duration::from_secs(10))?;
    /// if let Err(e) = easy.perform() {
    ///     assert_eq!(e.kind(), ErrorKind::OperationTimedout);
    ///     eprintln!("{e}"); // names the phase it was in
    /// }
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn timeout(&mut self, timeout: Duration) -> Result<(), Error> {
        self.opts.timeout = Some(timeout);
        Ok(())
    }

    /// Pre-set addresses, `host:port:addr[,addr]...` or `-host:port`
    /// (`CURLOPT_RESOLVE`).
    ///
    /// # Examples
    ///
    /// ```
    /// use handover::{Easy, List};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("https://example.com/")?;
    /// // example.com:443 is 127.0.0.1; TLS still checks the name example.com.
    /// easy.resolve(["example.com:443:127.0.0.1"].into_iter().collect::<List>())?;
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn resolve(&mut self, list: List) -> Result<(), Error> {
        let entries = list
            .iter()
            .map(|s| parse_resolve(s).map_err(|e| bad_argument(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        self.opts.resolve = entries;
        Ok(())
    }

    /// Connect somewhere else than the URL says,
    /// `host:port:connect-host:connect-port` (`CURLOPT_CONNECT_TO`).
    ///
    /// # Examples
    ///
    /// ```
    /// use handover::{Easy, List};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("https://example.com/")?;
    /// // Reach example.com:443 at staging.internal:8443 (TLS and Host stay example.com).
    /// let mut redirect = List::new();
    /// redirect.append("example.com:443:staging.internal:8443")?;
    /// easy.connect_to(redirect)?;
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn connect_to(&mut self, list: List) -> Result<(), Error> {
        let entries = list
            .iter()
            .map(|s| parse_connect_to(s).map_err(|e| bad_argument(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        self.opts.connect_to = entries;
        Ok(())
    }

    /// Which address families to use (`CURLOPT_IPRESOLVE`).
    pub fn ip_resolve(&mut self, family: IpResolve) -> Result<(), Error> {
        self.opts.ip_resolve = family;
        Ok(())
    }

    /// Connects to the Unix domain socket at `path` instead of the URL's
    /// host (`CURLOPT_UNIX_SOCKET_PATH`; the `curl` crate's `unix_socket`).
    /// The URL still names the server: its host goes into the `Host`
    /// header and is the name TLS verifies (`https://` works over a Unix
    /// socket), and its port into `Host`. As in libcurl, no name is
    /// resolved and proxies are not used (a Unix socket cannot be reached
    /// through one), and the TCP options (no-delay, keepalive, local
    /// interface and port) do not apply. A path longer than a
    /// `sockaddr_un` holds fails the transfer with `CouldntResolveHost`
    /// (6); one with nothing listening, with `CouldntConnect` (7).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::{ConnectOnly, Easy};
    ///
    /// // The Docker Engine API, over its socket.
    /// let mut easy = Easy::new();
    /// easy.unix_socket("/run/docker.sock")?;
    /// easy.url("http://localhost/version")?;
    /// easy.connect_only(ConnectOnly::Headers)?;
    /// easy.perform()?;
    /// println!("{:?}", easy.response_code()?);
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn unix_socket(&mut self, path: &str) -> Result<(), Error> {
        self.unix_socket_path(Some(path))
    }

    /// As [`unix_socket`](Easy::unix_socket); `None` goes back to TCP.
    pub fn unix_socket_path<P: AsRef<std::path::Path>>(
        &mut self,
        path: Option<P>,
    ) -> Result<(), Error> {
        self.opts.unix_socket = path.map(|p| crate::endpoint::UnixPath {
            path: p.as_ref().to_path_buf(),
            abstract_name: false,
        });
        Ok(())
    }

    /// Connects to the Unix domain socket of this name in Linux's abstract
    /// namespace (`CURLOPT_ABSTRACT_UNIX_SOCKET`): `name` without the
    /// leading NUL byte. Otherwise as [`unix_socket`](Easy::unix_socket),
    /// whose setting it replaces.
    pub fn abstract_unix_socket(&mut self, name: &[u8]) -> Result<(), Error> {
        use std::os::unix::ffi::OsStrExt as _;
        self.opts.unix_socket = Some(crate::endpoint::UnixPath {
            path: std::ffi::OsStr::from_bytes(name).into(),
            abstract_name: true,
        });
        Ok(())
    }

    /// Local port to bind to; 0 lets the system choose (`CURLOPT_LOCALPORT`).
    pub fn local_port(&mut self, port: u16) -> Result<(), Error> {
        self.opts.socket.local_port = port;
        Ok(())
    }

    /// How many ports from `local_port` on to try (`CURLOPT_LOCALPORTRANGE`).
    pub fn local_port_range(&mut self, range: u16) -> Result<(), Error> {
        self.opts.socket.local_port_range = range.max(1);
        Ok(())
    }

    /// Local interface: `if!name`, `host!ip`, a device name or an IP
    /// (`CURLOPT_INTERFACE`).
    pub fn interface(&mut self, interface: &str) -> Result<(), Error> {
        if interface.is_empty() || interface.contains('\0') {
            return Err(bad_argument("empty or NUL-carrying interface"));
        }
        self.opts.socket.interface = Some(interface.to_owned());
        Ok(())
    }

    /// Disables Nagle's algorithm; on by default (`CURLOPT_TCP_NODELAY`).
    pub fn tcp_nodelay(&mut self, on: bool) -> Result<(), Error> {
        self.opts.socket.tcp_nodelay = on;
        Ok(())
    }

    /// TCP keep-alive probes (`CURLOPT_TCP_KEEPALIVE`).
    pub fn tcp_keepalive(&mut self, on: bool) -> Result<(), Error> {
        self.opts.socket.tcp_keepalive = on;
        Ok(())
    }

    /// Idle time before keep-alive probes; default 60 s (`CURLOPT_TCP_KEEPIDLE`).
    pub fn tcp_keepidle(&mut self, idle: Duration) -> Result<(), Error> {
        self.opts.socket.keepalive_idle = idle;
        Ok(())
    }

    /// Time between keep-alive probes; default 60 s (`CURLOPT_TCP_KEEPINTVL`).
    pub fn tcp_keepintvl(&mut self, interval: Duration) -> Result<(), Error> {
        self.opts.socket.keepalive_interval = interval;
        Ok(())
    }

    /// Keep-alive probes sent without an answer before the connection is
    /// dropped; default 9, as libcurl (`CURLOPT_TCP_KEEPCNT`). Applies with
    /// [`tcp_keepalive`](Easy::tcp_keepalive).
    pub fn tcp_keepcnt(&mut self, count: u32) -> Result<(), Error> {
        if count == 0 || count > i32::MAX as u32 {
            return Err(bad_argument("keep-alive probe count out of range"));
        }
        self.opts.socket.keepalive_count = count;
        Ok(())
    }

    /// TCP Fast Open (`CURLOPT_TCP_FASTOPEN`): on Linux the socket gets
    /// `TCP_FASTOPEN_CONNECT`, so with a cookie from an earlier connection
    /// the first bytes sent travel in the SYN. Off by default.
    pub fn tcp_fastopen(&mut self, on: bool) -> Result<(), Error> {
        self.opts.socket.tcp_fastopen = on;
        Ok(())
    }

    /// The scope id (interface index) given to the IPv6 addresses a
    /// transfer connects to (`CURLOPT_ADDRESS_SCOPE`), for link-local
    /// addresses; 0 (the default) leaves them as they are.
    pub fn address_scope(&mut self, scope: u32) -> Result<(), Error> {
        self.opts.socket.address_scope = scope;
        Ok(())
    }

    /// The port to connect to instead of the URL's (`CURLOPT_PORT`; the
    /// `curl` crate's `port`); 0 goes back to the URL's. As in libcurl the
    /// `Host` header carries the port given here, and the effective URL
    /// stays the URL as given.
    pub fn port(&mut self, port: u16) -> Result<(), Error> {
        self.opts.port = (port != 0).then_some(port);
        Ok(())
    }

    /// TLS behaviour bits for the server (`CURLOPT_SSL_OPTIONS`):
    /// [`SslOpt::native_ca`] adds the system store to the CA file; the
    /// Schannel and OpenSSL-specific bits have no effect; `NO_PARTIALCHAIN`
    /// and `EARLYDATA` are not built in (`NotBuiltIn`, 4).
    pub fn ssl_options(&mut self, bits: &SslOpt) -> Result<(), Error> {
        ssl_options_into(&mut self.opts.tls, *bits)
    }

    /// [`ssl_options`](Easy::ssl_options) for HTTPS proxies
    /// (`CURLOPT_PROXY_SSL_OPTIONS`).
    pub fn proxy_ssl_options(&mut self, bits: &SslOpt) -> Result<(), Error> {
        ssl_options_into(&mut self.opts.proxy.tls, *bits)
    }

    /// CA certificates to trust, PEM, from memory instead of a file
    /// (`CURLOPT_CAINFO_BLOB`; the bytes are copied). It replaces
    /// [`cainfo`](Easy::cainfo), as in libcurl.
    pub fn cainfo_blob(&mut self, pem: &[u8]) -> Result<(), Error> {
        self.opts.tls.cainfo_blob = Some(pem.to_vec());
        Ok(())
    }

    /// [`cainfo_blob`](Easy::cainfo_blob) for HTTPS proxies
    /// (`CURLOPT_PROXY_CAINFO_BLOB`).
    pub fn proxy_cainfo_blob(&mut self, pem: &[u8]) -> Result<(), Error> {
        self.opts.proxy.tls.cainfo_blob = Some(pem.to_vec());
        Ok(())
    }

    /// Certificate revocation lists, PEM (`CURLOPT_CRLFILE`): a server
    /// certificate one of them revokes fails verification
    /// (`PeerFailedVerification`, 60); a file that cannot be read or holds
    /// no CRL is `SslCrlBadfile` (82). rustls checks the server's
    /// certificate against the lists of its issuer.
    pub fn crlfile<P: AsRef<std::path::Path>>(&mut self, path: P) -> Result<(), Error> {
        self.opts.tls.crlfile = Some(path.as_ref().to_path_buf());
        Ok(())
    }

    /// [`crlfile`](Easy::crlfile) for HTTPS proxies (`CURLOPT_PROXY_CRLFILE`).
    pub fn proxy_crlfile<P: AsRef<std::path::Path>>(&mut self, path: P) -> Result<(), Error> {
        self.opts.proxy.tls.crlfile = Some(path.as_ref().to_path_buf());
        Ok(())
    }

    /// Offers ALPN in the TLS handshake with the server
    /// (`CURLOPT_SSL_ENABLE_ALPN`; on by default). Off, no protocol is
    /// offered: for servers that refuse the extension.
    pub fn ssl_enable_alpn(&mut self, on: bool) -> Result<(), Error> {
        self.opts.tls.enable_alpn = on;
        Ok(())
    }

    /// The protocols a connect-only = 1 TLS connection offers by ALPN, in
    /// order of preference, instead of the scheme's (`http/1.1` for
    /// `https://`, nothing otherwise) — for a caller that speaks `h2`,
    /// `acme-tls/1` or its own protocol over the handed-over connection;
    /// [`Info::alpn_protocol`](crate::Info::alpn_protocol) says what the
    /// server chose. handover's own option: libcurl offers what its HTTP
    /// versions need. Connect-only = 2 and ordinary transfers keep
    /// `http/1.1`. Each name is 1 to 255 bytes, else `BadFunctionArgument`
    /// (43); an empty list goes back to the scheme's.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::{ConnectOnly, Easy};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("https://example.com/")?;
    /// easy.connect_only(ConnectOnly::Connection)?;
    /// easy.alpn(&["h2", "http/1.1"])?;
    /// easy.perform()?;
    /// if easy.info().alpn_protocol() == Some(b"h2".as_slice()) {
    ///     // speak HTTP/2 over easy.send / easy.recv
    /// }
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn alpn(&mut self, protocols: &[&str]) -> Result<(), Error> {
        if protocols.iter().any(|p| p.is_empty() || p.len() > 255) {
            return Err(bad_argument("an ALPN protocol name is 1 to 255 bytes"));
        }
        self.opts.tls.alpn =
            (!protocols.is_empty()).then(|| protocols.iter().map(|p| (*p).to_owned()).collect());
        Ok(())
    }

    /// The TLS 1.2 cipher suites to offer (`CURLOPT_SSL_CIPHER_LIST`),
    /// colon-separated, in OpenSSL's names (`ECDHE-ECDSA-AES128-GCM-SHA256`)
    /// or the IANA ones, in order of preference. rustls has the ECDHE
    /// suites with AES-GCM and ChaCha20-Poly1305 only: a name it has no
    /// suite for fails the transfer with `SslCipher` (59) when it starts.
    pub fn ssl_cipher_list(&mut self, ciphers: &str) -> Result<(), Error> {
        self.opts.tls.cipher_list = Some(ciphers.to_owned());
        Ok(())
    }

    /// The TLS 1.3 cipher suites to offer (`CURLOPT_TLS13_CIPHERS`):
    /// `TLS_AES_128_GCM_SHA256`, `TLS_AES_256_GCM_SHA384`,
    /// `TLS_CHACHA20_POLY1305_SHA256`; otherwise as
    /// [`ssl_cipher_list`](Easy::ssl_cipher_list).
    pub fn tls13_ciphers(&mut self, ciphers: &str) -> Result<(), Error> {
        self.opts.tls.tls13_ciphers = Some(ciphers.to_owned());
        Ok(())
    }

    /// The key-exchange groups to offer (`CURLOPT_SSL_EC_CURVES`), e.g.
    /// `X25519:P-256`; with the server and with HTTPS proxies. `P-384` and
    /// the OpenSSL names (`prime256v1`, `secp384r1`) are known too; other
    /// names fail with `SslCipher` (59).
    pub fn ssl_ec_curves(&mut self, curves: &str) -> Result<(), Error> {
        self.opts.tls.ec_curves = Some(curves.to_owned());
        self.opts.proxy.tls.ec_curves = Some(curves.to_owned());
        Ok(())
    }

    /// [`ssl_cipher_list`](Easy::ssl_cipher_list) for HTTPS proxies
    /// (`CURLOPT_PROXY_SSL_CIPHER_LIST`).
    pub fn proxy_ssl_cipher_list(&mut self, ciphers: &str) -> Result<(), Error> {
        self.opts.proxy.tls.cipher_list = Some(ciphers.to_owned());
        Ok(())
    }

    /// [`tls13_ciphers`](Easy::tls13_ciphers) for HTTPS proxies
    /// (`CURLOPT_PROXY_TLS13_CIPHERS`).
    pub fn proxy_tls13_ciphers(&mut self, ciphers: &str) -> Result<(), Error> {
        self.opts.proxy.tls.tls13_ciphers = Some(ciphers.to_owned());
        Ok(())
    }

    /// Resumes TLS sessions from the handle's own session cache
    /// (`CURLOPT_SSL_SESSIONID_CACHE`; on by default, as libcurl): a
    /// second connection to a server this handle has talked to skips the
    /// full handshake (TLS 1.3 tickets, TLS 1.2 session ids), and verbose
    /// output says "SSL reusing session". The cache is the handle's (one
    /// `Easy`, or one handle of a `Multi`): sessions never cross handles.
    /// Applies to the server and to HTTPS proxies, as in libcurl.
    pub fn ssl_sessionid_cache(&mut self, on: bool) -> Result<(), Error> {
        self.opts.tls.session_cache = on;
        self.opts.proxy.tls.session_cache = on;
        Ok(())
    }

    /// Collects the server's certificate chain for
    /// [`Info::certinfo`](crate::Info::certinfo) (`CURLOPT_CERTINFO`): the
    /// lines libcurl's OpenSSL backend gives, per certificate. Off by
    /// default. handover verifies with rustls, so unlike libcurl's rustls
    /// backend it fills this in.
    pub fn certinfo(&mut self, on: bool) -> Result<(), Error> {
        self.opts.certinfo = on;
        Ok(())
    }

    /// Sends the PROXY protocol v1 header (HAProxy's) first on the
    /// connection to the server (`CURLOPT_HAPROXYPROTOCOL`): `PROXY TCP4
    /// <local address> <peer address> <local port> <peer port>`, so that a
    /// server behind a load balancer that speaks the protocol (nginx
    /// `listen ... proxy_protocol`, HAProxy `accept-proxy`) sees the client
    /// it expects. As libcurl, the header goes after the proxies' handshakes
    /// (through a tunnel, to the server) and before TLS; over a Unix socket
    /// it is `PROXY UNKNOWN`.
    pub fn haproxy_protocol(&mut self, on: bool) -> Result<(), Error> {
        let client_ip = self.opts.haproxy.take().and_then(|h| h.client_ip);
        self.opts.haproxy = on.then_some(crate::options::HaproxyHeader { client_ip });
        Ok(())
    }

    /// The source address the PROXY protocol header claims instead of the
    /// socket's (`CURLOPT_HAPROXY_CLIENT_IP`; `None`: the socket's again).
    /// Either way it turns the header on, as in libcurl. An IP address (v4
    /// or v6); anything else is refused (`BadFunctionArgument`, 43) where
    /// libcurl would send it as given.
    pub fn haproxy_client_ip(&mut self, ip: Option<&str>) -> Result<(), Error> {
        if let Some(ip) = ip {
            if ip.parse::<std::net::IpAddr>().is_err() {
                return Err(bad_argument(format!(
                    "the PROXY protocol client address {ip:?} is not an IP address"
                )));
            }
        }
        self.opts.haproxy = Some(crate::options::HaproxyHeader {
            client_ip: ip.map(str::to_owned),
        });
        Ok(())
    }

    /// Uses the caches `share` shares (`CURLOPT_SHARE`): its DNS cache,
    /// TLS session cache and connection pool instead of the handle's own;
    /// `None` goes back to caches of the handle's own (an empty DNS cache
    /// and session cache; the handle's own pool as it was). A share's DNS
    /// cache and pool win over a `Multi`'s, as in libcurl.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::{Easy, Share};
    ///
    /// let mut share = Share::new();
    /// share.share_connections(true);
    /// let mut first = Easy::new();
    /// first.url("http://example.com/")?;
    /// first.share(Some(&share))?;
    /// first.write_function(|data| Ok(data.len()))?;
    /// first.perform()?;
    ///
    /// let mut second = Easy::new();
    /// second.url("http://example.com/")?;
    /// second.share(Some(&share))?;
    /// second.write_function(|data| Ok(data.len()))?;
    /// second.perform()?; // on the connection the first one kept alive
    /// assert_eq!(second.info().num_connects(), 0);
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn share(&mut self, share: Option<&crate::Share>) -> Result<(), Error> {
        self.shared_dns = share.and_then(|s| s.dns().cloned());
        self.dns = self.shared_dns.clone().unwrap_or_default();
        self.tls_cache
            .use_sessions(share.and_then(|s| s.sessions().cloned()));
        self.shared_pool = share.and_then(|s| s.connections().cloned());
        Ok(())
    }

    /// The pool this handle's transfers take idle connections from and
    /// give them back to: its share's, else its `Multi`'s while added,
    /// else its own — libcurl's order.
    pub(crate) fn pool(&self) -> &Pool {
        self.shared_pool
            .as_ref()
            .or(self.multi_pool.as_ref())
            .unwrap_or(&self.own_pool)
    }

    /// The speed, in bytes a second, below which an ordinary transfer's
    /// body is too slow (`CURLOPT_LOW_SPEED_LIMIT`): slower than this for
    /// [`low_speed_time`](Easy::low_speed_time) ends the transfer with
    /// `OperationTimedout` (28). 0 (the default) turns the check off.
    pub fn low_speed_limit(&mut self, bytes_per_second: u32) -> Result<(), Error> {
        self.opts.low_speed.0 = bytes_per_second;
        Ok(())
    }

    /// How long the body may be slower than
    /// [`low_speed_limit`](Easy::low_speed_limit) (`CURLOPT_LOW_SPEED_TIME`).
    pub fn low_speed_time(&mut self, time: Duration) -> Result<(), Error> {
        self.opts.low_speed.1 = time;
        Ok(())
    }

    /// Reads an ordinary transfer's body no faster than this many bytes a
    /// second (`CURLOPT_MAX_RECV_SPEED_LARGE`): reading pauses (the socket
    /// is not waited on) until the second's budget comes back. 0, the
    /// default, for no limit. Connect-only connections are the
    /// application's to pace.
    pub fn max_recv_speed(&mut self, bytes_per_second: u64) -> Result<(), Error> {
        self.opts.max_recv_speed = bytes_per_second;
        Ok(())
    }

    /// Sends an upload's body no faster than this many bytes a second
    /// (`CURLOPT_MAX_SEND_SPEED_LARGE`): the read callback is not asked for
    /// more until the second's budget comes back. 0, the default, for no
    /// limit. Connect-only connections are the application's to pace.
    pub fn max_send_speed(&mut self, bytes_per_second: u64) -> Result<(), Error> {
        self.opts.max_send_speed = bytes_per_second;
        Ok(())
    }

    /// How long a connection may sit idle and still be reused
    /// (`CURLOPT_MAXAGE_CONN`; 118 s by default, as libcurl).
    pub fn maxage_conn(&mut self, max_idle: Duration) -> Result<(), Error> {
        self.opts.reuse.max_idle = max_idle;
        Ok(())
    }

    /// How long after it was made a connection may still be reused
    /// (`CURLOPT_MAXLIFETIME_CONN`); zero (the default) for no limit. A
    /// connection past it finishes the transfer it serves, then closes.
    pub fn maxlifetime_conn(&mut self, max_life: Duration) -> Result<(), Error> {
        self.opts.reuse.max_life = (!max_life.is_zero()).then_some(max_life);
        Ok(())
    }

    /// How long a name's addresses are reused from the DNS cache
    /// (`CURLOPT_DNS_CACHE_TIMEOUT`): 60 s by default, as libcurl; zero
    /// turns the cache off, [`Duration::MAX`] keeps entries for ever. The
    /// cache is the handle's own, or its `Multi`'s (shared by the handles
    /// added to it) while it is added. `resolve` entries go into it when a
    /// transfer starts and stay (`+` entries like a lookup; `-host:port`
    /// takes a name out), as in libcurl.
    pub fn dns_cache_timeout(&mut self, timeout: Duration) -> Result<(), Error> {
        self.opts.dns_cache_timeout =
            crate::dns_cache::CacheTimeout((timeout != Duration::MAX).then_some(timeout));
        Ok(())
    }

    /// Connects to a host's addresses in random order instead of the
    /// resolver's (`CURLOPT_DNS_SHUFFLE_ADDRESSES`), to spread load over a
    /// name's servers; `resolve` entries are shuffled too, as in libcurl.
    pub fn dns_shuffle_addresses(&mut self, on: bool) -> Result<(), Error> {
        self.opts.dns_shuffle = on;
        Ok(())
    }

    /// A PEM file of CA certificates to trust instead of the system store
    /// (`CURLOPT_CAINFO`).
    pub fn cainfo<P: AsRef<Path>>(&mut self, path: P) -> Result<(), Error> {
        self.opts.tls.cainfo = Some(path_string(path.as_ref())?);
        Ok(())
    }

    /// A directory of PEM CA certificates to trust (`CURLOPT_CAPATH`).
    pub fn capath<P: AsRef<Path>>(&mut self, path: P) -> Result<(), Error> {
        self.opts.tls.capath = Some(path_string(path.as_ref())?);
        Ok(())
    }

    /// Verify the server's certificate chain; on by default
    /// (`CURLOPT_SSL_VERIFYPEER`).
    pub fn ssl_verify_peer(&mut self, on: bool) -> Result<(), Error> {
        self.opts.tls.verify_peer = on;
        Ok(())
    }

    /// Verify that the certificate is for the host name; on by default
    /// (`CURLOPT_SSL_VERIFYHOST` 2 / 0).
    pub fn ssl_verify_host(&mut self, on: bool) -> Result<(), Error> {
        self.opts.tls.verify_host = on;
        Ok(())
    }

    /// Resolves host names with DNS over HTTPS (RFC 8484) at this URL
    /// (`CURLOPT_DOH_URL`) instead of the system resolver; `None` (the
    /// default) turns it off again. Each name is asked for with two
    /// `POST`s, an A and an AAAA query (one with an IPv4- or IPv6-only
    /// [`ip_resolve`](Easy::ip_resolve)), made by handover itself over
    /// HTTP/1.1 and TLS while the transfer waits; the answers go into the
    /// DNS cache as a lookup's would. `resolve` entries, IP literals and
    /// `localhost` are answered without asking; the DoH server's own name
    /// is resolved by the system resolver (or a `resolve` entry).
    ///
    /// The URL must be `https://`. The DoH requests take the CA options
    /// (`cainfo`, `capath`, the CA blob, `crlfile`), `ssl_ec_curves`,
    /// `ssl_options`, the timeouts and verbose output from this handle, as
    /// libcurl's do; their certificate checks are
    /// [`doh_ssl_verify_peer`](Easy::doh_ssl_verify_peer),
    /// [`doh_ssl_verify_host`](Easy::doh_ssl_verify_host) and
    /// [`doh_ssl_verify_status`](Easy::doh_ssl_verify_status); they use no
    /// proxy option of the handle. A lookup that finds no address fails
    /// the transfer with `CouldntResolveHost` (6), `CouldntResolveProxy`
    /// (5) for a proxy's name, saying what each query met (an HTTP status,
    /// NXDOMAIN, a bad DNS message, a TLS failure...).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::{ConnectOnly, Easy};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("https://example.com/")?;
    /// easy.doh_url(Some("https://dns.example/dns-query"))?;
    /// easy.connect_only(ConnectOnly::Connection)?;
    /// easy.perform()?;
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn doh_url(&mut self, url: Option<&str>) -> Result<(), Error> {
        self.opts.doh.url = url.map(str::to_owned);
        Ok(())
    }

    /// Verify the DoH server's certificate chain (`CURLOPT_DOH_SSL_VERIFYPEER`);
    /// on by default. Only the DoH requests follow it.
    pub fn doh_ssl_verify_peer(&mut self, on: bool) -> Result<(), Error> {
        self.opts.doh.verify_peer = on;
        Ok(())
    }

    /// Verify that the DoH server's certificate is for the DoH URL's host
    /// (`CURLOPT_DOH_SSL_VERIFYHOST` 2 / 0); on by default. Only the DoH
    /// requests follow it.
    pub fn doh_ssl_verify_host(&mut self, on: bool) -> Result<(), Error> {
        self.opts.doh.verify_host = on;
        Ok(())
    }

    /// Require a valid OCSP response stapled by the DoH server, as
    /// [`ssl_verify_status`](Easy::ssl_verify_status) does for the
    /// transfer's own server (`CURLOPT_DOH_SSL_VERIFYSTATUS`); off by
    /// default. Only the DoH requests follow it: without a good stapled
    /// response they fail, and so does the lookup (6).
    pub fn doh_ssl_verify_status(&mut self, on: bool) -> Result<(), Error> {
        self.opts.doh.verify_status = on;
        Ok(())
    }

    /// Client certificate file (`CURLOPT_SSLCERT`): a PEM chain, or what
    /// [`ssl_cert_type`](Easy::ssl_cert_type) says.
    pub fn ssl_cert<P: AsRef<Path>>(&mut self, path: P) -> Result<(), Error> {
        self.opts.tls.identity.cert = Some(path_string(path.as_ref())?);
        Ok(())
    }

    /// Client private key (PEM); defaults to the certificate file
    /// (`CURLOPT_SSLKEY`).
    pub fn ssl_key<P: AsRef<Path>>(&mut self, path: P) -> Result<(), Error> {
        self.opts.tls.identity.key = Some(path_string(path.as_ref())?);
        Ok(())
    }

    /// Lowest and highest TLS version (`CURLOPT_SSLVERSION`).
    pub fn ssl_min_max_version(&mut self, min: SslVersion, max: SslVersion) -> Result<(), Error> {
        if max != SslVersion::Default && min > max {
            return Err(bad_argument(format!(
                "TLS minimum {min:?} is above maximum {max:?}"
            )));
        }
        self.opts.tls.min_version = min;
        self.opts.tls.max_version = max;
        Ok(())
    }

    /// The server's public key must match: `sha256//<base64>[;...]` or the
    /// path of a PEM/DER public key (`CURLOPT_PINNEDPUBLICKEY`).
    pub fn pinned_public_key(&mut self, pin: &str) -> Result<(), Error> {
        if pin.is_empty() {
            self.opts.tls.pinned_public_key = None;
        } else {
            self.opts.tls.pinned_public_key = Some(pin.to_owned());
        }
        Ok(())
    }

    /// Close the connection after the transfer instead of keeping it for
    /// reuse (`CURLOPT_FORBID_REUSE`). A connect-only connection is never
    /// reused anyway, so this does not close it (libcurl does; see the docs).
    pub fn forbid_reuse(&mut self, on: bool) -> Result<(), Error> {
        self.opts.forbid_reuse = on;
        Ok(())
    }

    /// Use a new connection instead of a pooled one (`CURLOPT_FRESH_CONNECT`).
    /// Connect-only transfers always do.
    pub fn fresh_connect(&mut self, on: bool) -> Result<(), Error> {
        self.opts.fresh_connect = on;
        Ok(())
    }

    /// Head start of the first address family before the other is tried;
    /// default 200 ms (`CURLOPT_HAPPY_EYEBALLS_TIMEOUT_MS`).
    pub fn happy_eyeballs_timeout(&mut self, delay: Duration) -> Result<(), Error> {
        self.opts.happy_eyeballs = Some(delay);
        Ok(())
    }

    /// `User-Agent` for requests, and for proxy CONNECT requests
    /// (`CURLOPT_USERAGENT`).
    pub fn useragent(&mut self, agent: &str) -> Result<(), Error> {
        self.opts.useragent = Some(agent.to_owned());
        Ok(())
    }

    // ---- HTTP ----------------------------------------------------------------

    /// A request method other than GET/POST/HEAD (`CURLOPT_CUSTOMREQUEST`).
    pub fn custom_request(&mut self, method: &str) -> Result<(), Error> {
        if method.is_empty() || method.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(bad_argument("request method must be a non-empty token"));
        }
        self.opts.http.custom_request = Some(method.to_owned());
        Ok(())
    }

    /// Request header lines (`CURLOPT_HTTPHEADER`): `Name: value` adds or
    /// replaces a default header, `Name:` removes one, `Name;` sends it empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use handover::{Easy, List};
    ///
    /// let mut easy = Easy::new();
    /// let headers: List = ["Authorization: Bearer abc", "Accept:", "X-Empty;"]
    ///     .into_iter()
    ///     .collect();
    /// easy.http_headers(headers)?;
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn http_headers(&mut self, list: List) -> Result<(), Error> {
        self.opts.http.headers = list.iter().map(str::to_owned).collect();
        Ok(())
    }

    /// `Referer` header (`CURLOPT_REFERER`).
    pub fn referer(&mut self, referer: &str) -> Result<(), Error> {
        self.opts.http.referer = Some(referer.to_owned());
        Ok(())
    }

    /// POST (`CURLOPT_POST`); the body comes from `post_fields_copy` or the
    /// read function.
    pub fn post(&mut self, on: bool) -> Result<(), Error> {
        self.opts.http.post = on;
        if on {
            self.opts.http.nobody = false;
        }
        Ok(())
    }

    /// POST these bytes (`CURLOPT_COPYPOSTFIELDS`).
    pub fn post_fields_copy(&mut self, data: &[u8]) -> Result<(), Error> {
        self.opts.http.post_fields = Some(data.to_vec());
        self.opts.http.post = true;
        self.opts.http.nobody = false;
        Ok(())
    }

    /// Size of the body the read function supplies
    /// (`CURLOPT_POSTFIELDSIZE_LARGE`); sent as `Content-Length`.
    pub fn post_field_size(&mut self, size: u64) -> Result<(), Error> {
        self.opts.http.body_size = Some(size);
        Ok(())
    }

    /// Keeps sending the request body when an answer of 300 or more comes
    /// before it is all sent (`CURLOPT_KEEP_SENDING_ON_ERROR`), so that the
    /// connection can carry the next request; by default such an answer
    /// stops the upload and the connection is closed after it. An earlier
    /// answer below 300 never stops the upload (libcurl).
    pub fn keep_sending_on_error(&mut self, on: bool) -> Result<(), Error> {
        self.opts.http.keep_sending_on_error = on;
        Ok(())
    }

    /// PUT the body the read function supplies (`CURLOPT_UPLOAD`), of
    /// `in_filesize` bytes.
    pub fn upload(&mut self, on: bool) -> Result<(), Error> {
        self.opts.http.upload = on;
        Ok(())
    }

    /// Size of an upload (`CURLOPT_INFILESIZE_LARGE`).
    pub fn in_filesize(&mut self, size: u64) -> Result<(), Error> {
        self.opts.http.body_size = Some(size);
        Ok(())
    }

    /// A HEAD request: headers only (`CURLOPT_NOBODY`).
    pub fn nobody(&mut self, on: bool) -> Result<(), Error> {
        self.opts.http.nobody = on;
        Ok(())
    }

    /// A plain GET again (`CURLOPT_HTTPGET`).
    pub fn get(&mut self, on: bool) -> Result<(), Error> {
        if on {
            self.opts.http.post = false;
            self.opts.http.post_fields = None;
            self.opts.http.nobody = false;
            self.opts.http.upload = false;
        }
        Ok(())
    }

    /// Receives the response body of an ordinary transfer, or WebSocket
    /// payload in the callback model (`CURLOPT_WRITEFUNCTION`). Returning
    /// fewer bytes than given stops the transfer with `WriteError` (23).
    /// Without one, the body goes to standard output, as with libcurl.
    pub fn write_function<F>(&mut self, f: F) -> Result<(), Error>
    where
        F: FnMut(&[u8]) -> Result<usize, WriteError> + Send + 'static,
    {
        self.opts.http.write = Some(Writer::new(Box::new(f)));
        Ok(())
    }

    /// Receives each response header line, CRLF included, the status line
    /// and the final blank line too (`CURLOPT_HEADERFUNCTION`); `false` stops.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::Easy;
    ///
    /// let mut easy = Easy::new();
    /// easy.url("https://example.com/")?;
    /// easy.nobody(true)?;
    /// easy.header_function(|line| {
    ///     print!("{}", String::from_utf8_lossy(line));
    ///     true
    /// })?;
    /// easy.perform()?;
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn header_function<F>(&mut self, f: F) -> Result<(), Error>
    where
        F: FnMut(&[u8]) -> bool + Send + 'static,
    {
        self.opts.http.header = Some(HeaderSink::new(Box::new(f)));
        Ok(())
    }

    /// Supplies an upload body (`CURLOPT_READFUNCTION`); `Ok(0)` ends it.
    pub fn read_function<F>(&mut self, f: F) -> Result<(), Error>
    where
        F: FnMut(&mut [u8]) -> Result<usize, ReadError> + Send + 'static,
    {
        self.opts.http.read = Some(Reader::new(Box::new(f)));
        Ok(())
    }

    /// Rewinds the read function's body (`CURLOPT_SEEKFUNCTION`), the
    /// `curl` crate's `Handler::seek`: handover calls it with
    /// `SeekFrom::Start(0)` when a request whose body comes from the read
    /// function must be sent again — a reused connection found dead as the
    /// request went out. [`SeekResult::Ok`](crate::SeekResult::Ok) sends
    /// the request again on a fresh connection, reading the body anew;
    /// `Fail` or `CantSeek` fail the transfer with `SendFailRewind` (65),
    /// as does such a retry without a seek function. See
    /// [`SeekResult`](crate::SeekResult) for an example.
    pub fn seek_function<F>(&mut self, f: F) -> Result<(), Error>
    where
        F: FnMut(std::io::SeekFrom) -> crate::SeekResult + Send + 'static,
    {
        self.opts.http.seek = Some(Seeker::new(Box::new(f)));
        Ok(())
    }

    /// Removes the seek function (`CURLOPT_SEEKFUNCTION` set to NULL): a
    /// body from the read function cannot be sent again.
    pub fn clear_seek_function(&mut self) {
        self.opts.http.seek = None;
    }

    /// Opens the sockets handover connects with, in place of `socket(2)`
    /// (`CURLOPT_OPENSOCKETFUNCTION`). Called once per connection attempt
    /// (happy eyeballs may make several) with the purpose and a
    /// [`SocketRequest`](crate::SocketRequest) — family, type, protocol and
    /// the address to connect to, which the function may change. It
    /// returns the new socket, or `None` to fail this attempt with
    /// `CouldntConnect` (7), as libcurl's `CURL_SOCKET_BAD`.
    ///
    /// handover then applies its own socket options, calls the
    /// [`sockopt_function`](Easy::sockopt_function), binds, makes the socket
    /// non-blocking and connects it, as libcurl does. The socket belongs to
    /// handover from then on: it is closed with `close(2)`, or given to the
    /// [`close_socket_function`](Easy::close_socket_function) if one is set.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::{ConnectOnly, Easy};
    /// use socket2::{Domain, Protocol, Socket, Type};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("telnet://127.0.0.1:7")?;
    /// easy.connect_only(ConnectOnly::Connection)?;
    /// easy.open_socket_function(|_purpose, request| {
    ///     let domain = Domain::for_address(request.addr);
    ///     let socket = Socket::new(domain, Type::STREAM, Some(Protocol::TCP)).ok()?;
    ///     Some(socket.into())
    /// })?;
    /// easy.perform()?;
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn open_socket_function<F>(&mut self, f: F) -> Result<(), Error>
    where
        F: FnMut(SocketPurpose, &mut SocketRequest) -> Option<OwnedFd> + Send + 'static,
    {
        self.opts.socket_hooks.open = Some(SocketOpener::new(Box::new(f)));
        Ok(())
    }

    /// Called with each new socket after handover set `TCP_NODELAY` and
    /// keepalive on it, before it is bound and connected
    /// (`CURLOPT_SOCKOPTFUNCTION`).
    /// [`SockoptResult::Error`](crate::SockoptResult::Error) fails the
    /// transfer with `AbortedByCallback` (42);
    /// [`SockoptResult::AlreadyConnected`](crate::SockoptResult::AlreadyConnected)
    /// skips `connect(2)` (for a socket the open function connected).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::{Easy, SockoptResult};
    ///
    /// let mut easy = Easy::new();
    /// easy.sockopt_function(|fd, _purpose| {
    ///     match socket2::SockRef::from(&fd).set_recv_buffer_size(1 << 20) {
    ///         Ok(()) => SockoptResult::Ok,
    ///         Err(_) => SockoptResult::Error,
    ///     }
    /// })?;
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn sockopt_function<F>(&mut self, f: F) -> Result<(), Error>
    where
        F: for<'a> FnMut(BorrowedFd<'a>, SocketPurpose) -> SockoptResult + Send + 'static,
    {
        self.opts.socket_hooks.sockopt = Some(SocketConfigurer::new(Box::new(f)));
        Ok(())
    }

    /// Closes the sockets of this handle's connections in place of
    /// `close(2)` (`CURLOPT_CLOSESOCKETFUNCTION`): every socket opened
    /// while it is set — by handover or by the
    /// [`open_socket_function`](Easy::open_socket_function) — comes to it
    /// as an [`OwnedFd`] when handover is done with it (a losing happy
    /// eyeballs attempt, a failed attempt, a closed or evicted
    /// connection). Dropping the `OwnedFd` closes it; keeping it keeps the
    /// socket open. A socket handed to the application with
    /// [`Connection::into_tcp_stream`](crate::Connection::into_tcp_stream)
    /// is the application's and never comes here.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use handover::Easy;
    ///
    /// let closed = Arc::new(AtomicUsize::new(0));
    /// let count = Arc::clone(&closed);
    /// let mut easy = Easy::new();
    /// easy.close_socket_function(move |fd| {
    ///     count.fetch_add(1, Ordering::Relaxed);
    ///     drop(fd); // close(2)
    /// })?;
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn close_socket_function<F>(&mut self, f: F) -> Result<(), Error>
    where
        F: FnMut(OwnedFd) + Send + 'static,
    {
        self.opts.socket_hooks.close = Some(SocketCloser::new(Box::new(f)));
        Ok(())
    }

    /// Called once the connection is set up (TCP, proxies, TLS) and before
    /// the request goes out — or, for connect-only = 1, before the
    /// connection is handed over — with the address of the first hop and
    /// the local address (`CURLOPT_PREREQFUNCTION`). Also called for a
    /// transfer on a reused connection. `false` fails the transfer with
    /// `AbortedByCallback` (42), as libcurl's `CURL_PREREQFUNC_ABORT`.
    ///
    /// # Examples
    ///
    /// ```
    /// use handover::Easy;
    ///
    /// let mut easy = Easy::new();
    /// // Refuse to talk to anything but loopback.
    /// easy.prereq_function(|primary, _local| primary.ip().is_loopback())?;
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn prereq_function<F>(&mut self, f: F) -> Result<(), Error>
    where
        F: FnMut(SocketAddr, SocketAddr) -> bool + Send + 'static,
    {
        self.opts.prereq = Some(Prereq::new(Box::new(f)));
        Ok(())
    }

    /// Called before each name the transfer resolves — by the system
    /// resolver or, with [`doh_url`](Easy::doh_url), DoH, or at once for
    /// an IP address or `localhost` — with the name
    /// (`CURLOPT_RESOLVER_START_FUNCTION`). Not called for a name found in
    /// the DNS cache or a [`resolve`](Easy::resolve) entry. `false` aborts
    /// the transfer with `AbortedByCallback` (42), the server's name or
    /// the proxy's, as libcurl 8 does when its callback returns nonzero.
    ///
    /// # Examples
    ///
    /// ```
    /// use handover::Easy;
    ///
    /// let mut easy = Easy::new();
    /// // Count the lookups, and allow none for a name outside example.com.
    /// let mut lookups = 0;
    /// easy.resolver_start_function(move |host| {
    ///     lookups += 1;
    ///     host == "example.com" || host.ends_with(".example.com")
    /// })?;
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn resolver_start_function<F>(&mut self, f: F) -> Result<(), Error>
    where
        F: FnMut(&str) -> bool + Send + 'static,
    {
        self.opts.resolver_start = Some(ResolverStart::new(Box::new(f)));
        Ok(())
    }

    /// Forgets the socket, pre-request and resolver start functions set
    /// with [`open_socket_function`](Easy::open_socket_function),
    /// [`sockopt_function`](Easy::sockopt_function),
    /// [`close_socket_function`](Easy::close_socket_function),
    /// [`prereq_function`](Easy::prereq_function) and
    /// [`resolver_start_function`](Easy::resolver_start_function) (libcurl: setting them to NULL). Connections already open keep the
    /// close function they were opened with.
    pub fn clear_socket_functions(&mut self) {
        self.opts.socket_hooks = SocketHooks::default();
        self.opts.prereq = None;
        self.opts.resolver_start = None;
    }

    /// WebSocket behaviour bits (`CURLOPT_WS_OPTIONS`): [`ws::RAW_MODE`]
    /// passes frames through untouched, [`ws::NOAUTOPONG`] leaves PINGs to
    /// the application. Bits libcurl does not define (only possible through
    /// `ws::Options::from_bits_retain`) are `BadFunctionArgument` (43).
    ///
    /// [`ws::RAW_MODE`]: crate::ws::RAW_MODE
    /// [`ws::NOAUTOPONG`]: crate::ws::NOAUTOPONG
    pub fn ws_options(&mut self, options: crate::ws::Options) -> Result<(), Error> {
        let bits = options.bits();
        if crate::ws::Options::from_bits(bits).is_none() {
            return Err(bad_argument(format!(
                "unknown WebSocket option bits {bits:#x}"
            )));
        }
        self.opts.http.ws_options = options;
        Ok(())
    }

    // ---- proxies -------------------------------------------------------------

    /// The proxy: `[scheme://][user:password@]host[:port]` with scheme http,
    /// https, socks4, socks4a, socks5 or socks5h; `""` turns proxies off,
    /// environment variables included (`CURLOPT_PROXY`). Unset, the
    /// environment decides (`http_proxy`, `https_proxy`, `all_proxy`, ...).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::{ConnectOnly, Easy};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("https://example.com/")?;
    /// easy.connect_only(ConnectOnly::Connection)?;
    /// easy.proxy("socks5h://alice:secret@127.0.0.1:1080")?;
    /// easy.perform()?; // TLS to example.com, through the SOCKS5 proxy
    /// println!("proxy said {}", easy.info().proxy_error()); // CURLPX_* on failure
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn proxy(&mut self, url: &str) -> Result<(), Error> {
        self.opts.proxy.proxy = Some(url.to_owned());
        Ok(())
    }

    /// Proxy port when the proxy string has none (`CURLOPT_PROXYPORT`).
    pub fn proxy_port(&mut self, port: u16) -> Result<(), Error> {
        self.opts.proxy.port = Some(port);
        Ok(())
    }

    /// Proxy protocol when the proxy string has no scheme (`CURLOPT_PROXYTYPE`).
    pub fn proxy_type(&mut self, kind: ProxyType) -> Result<(), Error> {
        self.opts.proxy.kind = kind;
        Ok(())
    }

    /// User name for the server (`CURLOPT_USERNAME`; the `curl` crate's
    /// `username`). It wins over a user name in the URL. With the default
    /// [`http_auth`](Easy::http_auth) (Basic) the credentials go with the
    /// first request, as libcurl sends them.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::{ConnectOnly, Easy};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("https://api.example.com/v1/stream")?;
    /// easy.username("alice")?;
    /// easy.password("secret")?;
    /// easy.connect_only(ConnectOnly::Headers)?;
    /// easy.perform()?; // sent with "Authorization: Basic ..."
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn username(&mut self, user: &str) -> Result<(), Error> {
        self.opts.auth.username = Some(user.to_owned());
        Ok(())
    }

    /// Password for the server (`CURLOPT_PASSWORD`).
    pub fn password(&mut self, password: &str) -> Result<(), Error> {
        self.opts.auth.password = Some(password.to_owned());
        Ok(())
    }

    /// `user:password` for the server in one string (`CURLOPT_USERPWD`):
    /// split at the first colon; without one, all of it is the user name.
    pub fn userpwd(&mut self, userpwd: &str) -> Result<(), Error> {
        let (user, password) = match userpwd.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (userpwd, None),
        };
        self.opts.auth.username = Some(user.to_owned());
        self.opts.auth.password = password.map(str::to_owned);
        Ok(())
    }

    /// Methods allowed with the server (`CURLOPT_HTTPAUTH`); default Basic.
    /// A single method of Basic or Bearer goes with the first request, as
    /// libcurl sends them.
    pub fn http_auth(&mut self, auth: &Auth) -> Result<(), Error> {
        self.opts.auth.methods = *auth;
        Ok(())
    }

    /// An OAuth 2.0 bearer token (`CURLOPT_XOAUTH2_BEARER`), sent as
    /// `Authorization: Bearer <token>` when [`http_auth`](Easy::http_auth)
    /// is [`Auth::bearer`] alone.
    pub fn xoauth2_bearer(&mut self, token: &str) -> Result<(), Error> {
        self.opts.auth.bearer = Some(token.to_owned());
        Ok(())
    }

    /// Signs each request with AWS Signature Version 4
    /// (`CURLOPT_AWS_SIGV4`): the user name is the access key id, the
    /// password the secret key; [`http_auth`](Easy::http_auth) becomes
    /// [`Auth::aws_sigv4`] alone. `param` is
    /// `provider1[:provider2[:region[:service]]]` (empty: `aws:amz`); a
    /// missing service and region come from the host name
    /// (`sqs.eu-west-1.amazonaws.com`). The request gets `Authorization`,
    /// `X-Amz-Date` (unless a header line of yours sends `X-Amz-Date` or
    /// `Date`: its time is signed) and, for `aws` and `s3`,
    /// `x-amz-content-sha256` (the body's SHA-256, `UNSIGNED-PAYLOAD` for a
    /// body from the read function). As in libcurl, the parameter is
    /// checked by `perform`: 43 when bad, 3 when the host gives no
    /// service or region; see handover-proto's `auth::sigv4` module for the rules.
    ///
    /// ```no_run
    /// let mut easy = handover::Easy::new();
    /// easy.url("https://my-bucket.s3.eu-west-1.amazonaws.com/report.csv")?;
    /// easy.aws_sigv4("aws:amz:eu-west-1:s3")?;
    /// easy.userpwd("AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")?;
    /// easy.perform()?;
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn aws_sigv4(&mut self, param: &str) -> Result<(), Error> {
        self.opts.auth.aws_sigv4 = Some(param.to_owned());
        self.opts.auth.methods = *Auth::new().aws_sigv4(true);
        Ok(())
    }

    /// Takes the server's login and password from a `.netrc` file
    /// (`CURLOPT_NETRC`): [`netrc_file`](Easy::netrc_file), else
    /// `$NETRC`, else `$HOME/.netrc`; the first entry of the URL's host (or
    /// `default`) in the file. A user name in the URL picks that login's
    /// entry (or one without a login). With [`NetRc::Optional`] the URL's
    /// password wins and a file missing or broken is passed over; with
    /// [`NetRc::Required`] the URL's password is ignored and a file
    /// missing or broken fails the transfer with `ReadError` (26).
    /// [`username`](Easy::username) wins over both.
    pub fn netrc(&mut self, netrc: NetRc) -> Result<(), Error> {
        self.opts.auth.netrc = netrc;
        Ok(())
    }

    /// The `.netrc` file to read instead of `$HOME/.netrc`
    /// (`CURLOPT_NETRC_FILE`).
    pub fn netrc_file<P: AsRef<std::path::Path>>(&mut self, path: P) -> Result<(), Error> {
        self.opts.auth.netrc_file = Some(path.as_ref().to_path_buf());
        Ok(())
    }

    /// Refuses URLs that carry a user name (`CURLOPT_DISALLOW_USERNAME_IN_URL`):
    /// such a transfer fails with `LoginDenied` (67) before it connects.
    pub fn disallow_username_in_url(&mut self, on: bool) -> Result<(), Error> {
        self.opts.auth.disallow_username_in_url = on;
        Ok(())
    }

    /// User name for the proxy (`CURLOPT_PROXYUSERNAME`).
    pub fn proxy_username(&mut self, user: &str) -> Result<(), Error> {
        self.opts.proxy.username = Some(user.to_owned());
        Ok(())
    }

    /// Password for the proxy (`CURLOPT_PROXYPASSWORD`).
    pub fn proxy_password(&mut self, password: &str) -> Result<(), Error> {
        self.opts.proxy.password = Some(password.to_owned());
        Ok(())
    }

    /// Methods allowed with the proxy; default Basic (`CURLOPT_PROXYAUTH`).
    /// One method with credentials is sent pre-emptively; several let the
    /// proxy's 407 challenge choose.
    pub fn proxy_auth(&mut self, auth: &Auth) -> Result<(), Error> {
        self.opts.proxy.auth = *auth;
        Ok(())
    }

    /// Tunnel through an HTTP proxy with CONNECT even for `http://`
    /// (`CURLOPT_HTTPPROXYTUNNEL`). Other schemes tunnel anyway.
    pub fn http_proxy_tunnel(&mut self, on: bool) -> Result<(), Error> {
        self.opts.proxy.tunnel = on;
        Ok(())
    }

    /// Extra header lines for proxies (`CURLOPT_PROXYHEADER`, with
    /// `CURLHEADER_SEPARATE`): on CONNECT requests, and on requests sent to
    /// an HTTP proxy itself (absolute form, no tunnel) after the
    /// [`http_headers`](Easy::http_headers). `Name: value`, `Name:` to drop a
    /// default header, `Name;` for an empty one.
    pub fn proxy_headers(&mut self, list: List) -> Result<(), Error> {
        self.opts.proxy.headers = list.iter().map(str::to_owned).collect();
        Ok(())
    }

    /// Hosts that bypass the proxy: comma-separated names (suffix match),
    /// IPs, CIDR ranges, or `*` (`CURLOPT_NOPROXY`). Unset, `no_proxy` decides.
    pub fn noproxy(&mut self, list: &str) -> Result<(), Error> {
        self.opts.proxy.noproxy = Some(list.to_owned());
        Ok(())
    }

    /// A SOCKS proxy to reach the proxy through (`CURLOPT_PRE_PROXY`).
    pub fn pre_proxy(&mut self, url: &str) -> Result<(), Error> {
        self.opts.proxy.pre_proxy = Some(url.to_owned());
        Ok(())
    }

    /// Any number of proxies in order, each `scheme://[user:password@]host:port`
    /// (SOCKS, HTTPS or HTTP, in any order), the last one tunneling to the
    /// target. Replaces `proxy` and `pre_proxy`; libcurl cannot do this.
    ///
    /// An entry may carry settings of its own in its query, where one
    /// handle-wide option cannot serve every hop: `auth=basic|digest|ntlm|any`
    /// (comma-separated; instead of [`proxy_auth`](Easy::proxy_auth)),
    /// `cacert=FILE` and `insecure=1|0` for an `https://` hop (instead of
    /// [`proxy_cainfo`](Easy::proxy_cainfo) and
    /// [`proxy_ssl_verify_peer`](Easy::proxy_ssl_verify_peer)), e.g.
    /// `https://proxy.corp:443?auth=ntlm&cacert=corp-ca.pem`
    /// ([`HopOptions`](crate::HopOptions)). An unknown key is refused
    /// (`CURLE_COULDNT_RESOLVE_PROXY`, 5), so a typing mistake cannot
    /// quietly weaken a hop.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::{ConnectOnly, Easy};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("https://internal.example/")?;
    /// easy.connect_only(ConnectOnly::Connection)?;
    /// easy.proxy_chain(&[
    ///     "socks5h://127.0.0.1:1080",  // first hop
    ///     "https://proxy.example:443", // reached through the SOCKS proxy
    ///     "http://inner:3128",         // tunnels to internal.example:443
    /// ])?;
    /// easy.perform()?;
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn proxy_chain<S: AsRef<str>>(&mut self, hops: &[S]) -> Result<(), Error> {
        if hops.is_empty() {
            self.opts.proxy.chain = None;
        } else {
            self.opts.proxy.chain = Some(hops.iter().map(|h| h.as_ref().to_owned()).collect());
        }
        Ok(())
    }

    /// CA certificates for HTTPS proxies (`CURLOPT_PROXY_CAINFO`).
    pub fn proxy_cainfo<P: AsRef<Path>>(&mut self, path: P) -> Result<(), Error> {
        self.opts.proxy.tls.cainfo = Some(path_string(path.as_ref())?);
        Ok(())
    }

    /// CA directory for HTTPS proxies (`CURLOPT_PROXY_CAPATH`).
    pub fn proxy_capath<P: AsRef<Path>>(&mut self, path: P) -> Result<(), Error> {
        self.opts.proxy.tls.capath = Some(path_string(path.as_ref())?);
        Ok(())
    }

    /// Verify an HTTPS proxy's certificate; on by default
    /// (`CURLOPT_PROXY_SSL_VERIFYPEER`).
    pub fn proxy_ssl_verify_peer(&mut self, on: bool) -> Result<(), Error> {
        self.opts.proxy.tls.verify_peer = on;
        Ok(())
    }

    /// Verify an HTTPS proxy's host name; on by default
    /// (`CURLOPT_PROXY_SSL_VERIFYHOST`).
    pub fn proxy_ssl_verify_host(&mut self, on: bool) -> Result<(), Error> {
        self.opts.proxy.tls.verify_host = on;
        Ok(())
    }

    /// Client certificate for HTTPS proxies (`CURLOPT_PROXY_SSLCERT`).
    pub fn proxy_sslcert<P: AsRef<Path>>(&mut self, path: P) -> Result<(), Error> {
        self.opts.proxy.tls.identity.cert = Some(path_string(path.as_ref())?);
        Ok(())
    }

    /// Client key for HTTPS proxies (`CURLOPT_PROXY_SSLKEY`).
    pub fn proxy_sslkey<P: AsRef<Path>>(&mut self, path: P) -> Result<(), Error> {
        self.opts.proxy.tls.identity.key = Some(path_string(path.as_ref())?);
        Ok(())
    }

    /// Pinned public key of HTTPS proxies (`CURLOPT_PROXY_PINNEDPUBLICKEY`).
    pub fn proxy_pinned_public_key(&mut self, pin: &str) -> Result<(), Error> {
        self.opts.proxy.tls.pinned_public_key = (!pin.is_empty()).then(|| pin.to_owned());
        Ok(())
    }

    // ---- the transfer ----------------------------------------------------

    /// Runs the transfer and blocks until it is done (`curl_easy_perform`).
    /// A connection from an earlier connect-only perform is closed first.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::{ConnectOnly, Easy};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("https://example.com/")?;
    /// easy.connect_only(ConnectOnly::Connection)?;
    /// match easy.perform() {
    ///     Ok(()) => println!("connected to {:?}", easy.info().primary_addr()),
    ///     Err(e) => eprintln!("{e} (CURLcode {})", e.code()),
    /// }
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn perform(&mut self) -> Result<(), Error> {
        let mut transfer = self.begin()?;
        let result = engine::run(&mut transfer);
        self.end(&mut transfer, result)
    }

    /// Starts a transfer for `perform` (blocking or async) on its own.
    pub(crate) fn begin(&mut self) -> Result<Transfer, Error> {
        if self.in_multi {
            // libcurl's easy_perform: CURLE_FAILED_INIT, this very message.
            return Err(Error::new(
                ErrorKind::FailedInit,
                "easy handle already used in multi handle",
            ));
        }
        // `start` fetches the TLS configurations from the process-wide cache
        // (building them, file reads included, on a miss) before the
        // engine drives anything; what a Multi prepared is dropped, so none
        // outlives the cache's age limit.
        self.tls_cache.clear();
        self.start()
    }

    /// Takes the outcome of a transfer `begin` started and the engine ran.
    pub(crate) fn end(
        &mut self,
        transfer: &mut Transfer,
        result: Result<(), Error>,
    ) -> Result<(), Error> {
        let result = self.finish(transfer, result, None);
        // Body bytes without a write callback went to the stdout writer:
        // they are out before `perform` returns, as with libcurl's fwrite.
        let flushed = match self.writes_to_stdout() {
            true => crate::output::flush_stdout(),
            false => Ok(()),
        };
        result.and(flushed)
    }

    /// The proxies a transfer would go through, worked out from the options
    /// and the environment as [`perform`](Easy::perform) works them out,
    /// without connecting or resolving: each hop with the option or
    /// environment variable that named it, whether the last HTTP proxy
    /// tunnels, the no-proxy list consulted, or why the route is direct.
    /// Passwords are left out of the hops. An error is the one `perform`
    /// would fail with for the same URL and proxy strings.
    ///
    /// ```
    /// use handover::{ConnectOnly, Easy, HopOrigin};
    /// let mut easy = Easy::new();
    /// easy.url("https://example.com/")?;
    /// easy.connect_only(ConnectOnly::Connection)?;
    /// easy.proxy_chain(&["socks5h://bastion:1080", "http://alice:pw@proxy.corp:3128"])?;
    /// let plan = easy.route_plan()?;
    /// assert_eq!(plan.hops.len(), 2);
    /// assert_eq!(plan.hops[1].origin, HopOrigin::Chain(1));
    /// assert_eq!(plan.hops[1].spec.user.as_deref(), Some("alice"));
    /// assert!(plan.hops[1].has_password && plan.hops[1].spec.password.is_none());
    /// assert!(plan.tunnel);
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn route_plan(&self) -> Result<crate::RoutePlan, Error> {
        engine::route_plan(&self.opts)
    }

    /// A new handle with this one's options (`curl_easy_duphandle`): not
    /// its connection, pool, share, DNS cache or last transfer's
    /// information, as in libcurl. Callbacks are shared by both handles.
    pub fn duphandle(&self) -> Easy {
        Easy::with_options(self.opts.clone(), self.max_connects)
    }

    /// A new handle with these options.
    pub(crate) fn with_options(opts: Options, max_connects: usize) -> Easy {
        let mut easy = Easy::new();
        easy.opts = opts;
        easy.max_connects = max_connects;
        easy
    }

    /// The handle's options, for the async face.
    #[cfg(feature = "tokio")]
    pub(crate) fn options(&self) -> &Options {
        &self.opts
    }

    /// True when a transfer of this handle sends its body to standard
    /// output: an ordinary transfer without a write callback.
    pub(crate) fn writes_to_stdout(&self) -> bool {
        self.opts.connect_only == ConnectOnly::Off && self.opts.http.write.is_none()
    }

    /// Reads what the TLS configurations of the next transfer need (CA
    /// files, the system store, client certificates, pins) into the
    /// process-wide cache and keeps them on the handle: `Multi::add` calls
    /// this so that `Multi::perform` never touches the file system.
    pub(crate) fn prepare_tls(&mut self) {
        self.tls_cache.prepare(&self.opts);
    }

    /// The TLS configurations this handle prepared.
    #[cfg(test)]
    pub(crate) fn tls_cache(&mut self) -> &mut TlsCache {
        &mut self.tls_cache
    }

    /// Closes any previous connection and starts a transfer on the engine,
    /// with the handle's pool (its share's or its own).
    pub(crate) fn start(&mut self) -> Result<Transfer, Error> {
        let now = Instant::now();
        let mut transfer = self.plan(now)?;
        transfer
            .launch(self.pool(), now, true)
            .inspect_err(|e| self.log_error(e))?;
        Ok(transfer)
    }

    /// Closes any previous connection and plans a transfer (a `Multi`
    /// launches it on its own pool once its connection limits allow).
    pub(crate) fn plan(&mut self, now: Instant) -> Result<Transfer, Error> {
        self.conn = None;
        self.conn_taken = false;
        self.pooled = None;
        self.info = Info::default();
        self.head = None;
        self.head_complete = false;
        self.interim.clear();
        let mut transfer = Transfer::plan(&self.opts, &mut self.tls_cache, &self.dns, now)
            .inspect_err(|e| self.log_error(e))?;
        transfer.resume_server_auth(self.server_auth.clone());
        Ok(transfer)
    }

    /// Says a transfer's early failure in the verbose log.
    pub(crate) fn log_error(&self, e: &Error) {
        if self.opts.log.enabled() {
            self.opts.log.info(format_args!("{e}"));
        }
    }

    /// Takes the outcome of a finished transfer: its info, its head and,
    /// for connect-only, its connection; a kept-alive connection goes to
    /// the pool a `Multi` launched it on, with the `Multi`'s limit
    /// (libcurl: the multi sets the limit, whoever owns the pool), or to
    /// the handle's pool with `max_connects`.
    pub(crate) fn finish(
        &mut self,
        transfer: &mut Transfer,
        result: Result<(), Error>,
        multi: Option<(&Pool, usize)>,
    ) -> Result<(), Error> {
        self.info = transfer.info().clone();
        self.server_auth = transfer.server_auth_for_next();
        (self.head, self.head_method) = match transfer.take_head() {
            Some((head, method)) => (Some(head), method),
            None => (None, String::new()),
        };
        self.interim = transfer.take_interim_heads();
        self.head_complete = result.is_ok();
        result?;
        let (pool, max_idle) = multi.unwrap_or((self.pool(), self.max_connects));
        match transfer.finish(pool, max_idle, Instant::now())? {
            Kept::HandedOver(conn) => self.conn = Some(conn),
            Kept::Pooled(id) => self.pooled = Some(id),
            Kept::Closed => {}
        }
        Ok(())
    }

    // ---- the handed-over connection ---------------------------------------

    fn connection(&mut self) -> Result<&mut Connection, Error> {
        if self.opts.connect_only == ConnectOnly::Off {
            return Err(Error::new(
                ErrorKind::UnsupportedProtocol,
                "CONNECT_ONLY is required to send or receive on the handle",
            ));
        }
        let taken = self.conn_taken;
        self.conn.as_mut().ok_or_else(|| {
            Error::new(
                ErrorKind::UnsupportedProtocol,
                if taken {
                    "the connection was taken from this handle by take_connection(): \
                     use the Connection it returned"
                } else {
                    "no connection on this handle: perform a connect-only transfer first"
                },
            )
        })
    }

    /// Sends on the handed-over connection without waiting (`curl_easy_send`).
    /// Returns how many bytes went out, which may be fewer than offered;
    /// `Again` when none could. See [`Connection::send`] for the TLS retry
    /// rule.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn demo(easy: &mut handover::Easy) -> Result<(), handover::Error> {
    /// let request = b"PING\r\n";
    /// let mut sent = 0;
    /// while sent < request.len() {
    ///     match easy.send(&request[sent..]) {
    ///         Ok(n) => sent += n,
    ///         Err(e) if e.is_again() => {
    ///             easy.wait_writable(None)?;
    ///         }
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn send(&mut self, data: &[u8]) -> Result<usize, Error> {
        self.connection()?.send(data)
    }

    /// Receives from the handed-over connection without waiting
    /// (`curl_easy_recv`). `Ok(0)` is an orderly close; `Again` means
    /// nothing is there yet.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use handover::{ConnectOnly, Easy};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("telnet://mail.example.com:25")?;
    /// easy.connect_only(ConnectOnly::Connection)?;
    /// easy.perform()?;
    /// let mut buf = [0u8; 4096];
    /// loop {
    ///     match easy.recv(&mut buf) {
    ///         Ok(0) => break, // closed in order
    ///         Ok(n) => print!("{}", String::from_utf8_lossy(&buf[..n])),
    ///         Err(e) if e.is_again() => {
    ///             if !easy.wait_readable(Some(Duration::from_secs(10)))? {
    ///                 break; // nothing for 10 s
    ///             }
    ///         }
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn recv(&mut self, data: &mut [u8]) -> Result<usize, Error> {
        self.connection()?.recv(data)
    }

    /// Sends a WebSocket frame or part of one on the handed-over connection
    /// (`curl_ws_send`); see [`Connection::ws_send`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::{ws, ConnectOnly, Easy};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("wss://echo.example/")?;
    /// easy.connect_only(ConnectOnly::Headers)?;
    /// easy.perform()?;
    /// let message = b"hello";
    /// let sent = easy.ws_send(message, 0, ws::TEXT)?;
    /// assert!(sent <= message.len()); // fewer: send the rest with ws::OFFSET
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn ws_send(
        &mut self,
        data: &[u8],
        fragsize: u64,
        flags: crate::ws::Flags,
    ) -> Result<usize, Error> {
        self.connection()?.ws_send(data, fragsize, flags)
    }

    /// Begins a WebSocket frame whose payload the next `ws_send` calls
    /// carry (`curl_ws_start_frame`); see [`Connection::ws_start_frame`].
    pub fn ws_start_frame(&mut self, flags: crate::ws::Flags, len: u64) -> Result<(), Error> {
        self.connection()?.ws_start_frame(flags, len)
    }

    /// Receives WebSocket payload and its frame meta (`curl_ws_recv`); see
    /// [`Connection::ws_recv`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn demo(easy: &mut handover::Easy) -> Result<(), handover::Error> {
    /// use handover::ws;
    ///
    /// let mut buf = [0u8; 4096];
    /// let (n, frame) = easy.ws_recv(&mut buf)?; // Again when no frame is there
    /// if frame.flags.contains(ws::TEXT) {
    ///     println!("text, {n} bytes here, {} to come", frame.bytesleft);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn ws_recv(&mut self, buf: &mut [u8]) -> Result<(usize, Frame), Error> {
        self.connection()?.ws_recv(buf)
    }

    /// Bytes `recv` returns without touching the socket (decrypted TLS data).
    pub fn recv_buffered(&self) -> usize {
        self.conn.as_ref().map_or(0, Connection::buffered)
    }

    /// Waits until `recv` has something to say; see [`Connection::wait_readable`].
    pub fn wait_readable(&mut self, timeout: Option<Duration>) -> Result<bool, Error> {
        self.connection()?.wait_readable(timeout)
    }

    /// Waits until `send` can take bytes; see [`Connection::wait_writable`].
    pub fn wait_writable(&mut self, timeout: Option<Duration>) -> Result<bool, Error> {
        self.connection()?.wait_writable(timeout)
    }

    /// The socket of the handed-over connection: the one `send`, `recv`
    /// and `wait_readable` use. See [`last_socket`](Easy::last_socket)
    /// for libcurl's `CURLINFO_ACTIVESOCKET`, which also names a pooled
    /// connection.
    pub fn active_socket(&self) -> Option<RawFd> {
        self.conn.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// What libcurl's `CURLINFO_ACTIVESOCKET` and `CURLINFO_LASTSOCKET`
    /// answer: the socket of the handed-over connection, else that of the
    /// connection the last ordinary transfer kept alive, while it waits
    /// idle in the pool — the share's when the handle shares connections
    /// (so another handle of the share may take it meanwhile), its
    /// `Multi`'s while added, else its own. `None` before a transfer,
    /// after one whose connection closed, and once the connection left the
    /// pool. The socket is for polling only: its bytes may be TLS records.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::Easy;
    ///
    /// let mut easy = Easy::new();
    /// easy.url("http://example.com/")?;
    /// easy.write_function(|data| Ok(data.len()))?;
    /// easy.perform()?;
    /// assert_eq!(easy.active_socket(), None); // nothing handed over
    /// println!("kept alive on socket {:?}", easy.last_socket());
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn last_socket(&self) -> Option<RawFd> {
        if let Some(conn) = &self.conn {
            return Some(conn.as_raw_fd());
        }
        self.pooled.and_then(|id| self.pool().socket_of(id))
    }

    /// Moves the handed-over connection out of the handle; the handle then
    /// has none.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::io::{Read, Write};
    /// use std::time::Duration;
    /// use handover::{ConnectOnly, Easy};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("https://example.com/")?;
    /// easy.connect_only(ConnectOnly::Connection)?;
    /// easy.perform()?;
    ///
    /// let mut conn = easy.take_connection()?; // Read + Write + AsRawFd
    /// conn.set_read_timeout(Some(Duration::from_secs(10)));
    /// conn.write_all(b"HEAD / HTTP/1.1\r\nHost: example.com\r\n\r\n")?;
    /// let mut buf = [0u8; 1024];
    /// let n = conn.read(&mut buf)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn take_connection(&mut self) -> Result<Connection, Error> {
        self.connection()?;
        let conn = self.conn.take().ok_or_else(|| {
            Error::new(
                ErrorKind::UnsupportedProtocol,
                "no connection on this handle",
            )
        })?;
        self.conn_taken = true;
        Ok(conn)
    }

    // ---- information -------------------------------------------------------

    /// Everything the last transfer learned (`curl_easy_getinfo`).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn demo(easy: &handover::Easy) {
    /// let info = easy.info();
    /// println!("{:?} after {:?}", info.primary_addr(), info.total_time());
    /// # }
    /// ```
    pub fn info(&self) -> &Info {
        &self.info
    }

    /// `CURLINFO_NAMELOOKUP_TIME`.
    pub fn namelookup_time(&self) -> Result<Duration, Error> {
        Ok(self.info.namelookup_time())
    }

    /// `CURLINFO_CONNECT_TIME`.
    pub fn connect_time(&self) -> Result<Duration, Error> {
        Ok(self.info.connect_time())
    }

    /// `CURLINFO_APPCONNECT_TIME`.
    pub fn appconnect_time(&self) -> Result<Duration, Error> {
        Ok(self.info.appconnect_time())
    }

    /// `CURLINFO_PRETRANSFER_TIME` (zero for connect-only = 1, which sends
    /// no request).
    pub fn pretransfer_time(&self) -> Result<Duration, Error> {
        Ok(self.info.pretransfer_time())
    }

    /// `CURLINFO_TOTAL_TIME`.
    pub fn total_time(&self) -> Result<Duration, Error> {
        Ok(self.info.total_time())
    }

    /// `CURLINFO_PRIMARY_IP`: the IP address of the first hop, or the path
    /// of the Unix domain socket connected to (as libcurl).
    pub fn primary_ip(&self) -> Result<Option<String>, Error> {
        Ok(self
            .info
            .primary_addr()
            .map(|a| a.ip().to_string())
            .or_else(|| self.info.unix_socket_path()))
    }

    /// `CURLINFO_PRIMARY_PORT`.
    /// Over a Unix domain socket, the URL's port (as libcurl).
    pub fn primary_port(&self) -> Result<u16, Error> {
        Ok(self.info.primary_port().unwrap_or(0))
    }

    /// `CURLINFO_LOCAL_IP`.
    pub fn local_ip(&self) -> Result<Option<String>, Error> {
        Ok(self.info.local_addr().map(|a| a.ip().to_string()))
    }

    /// `CURLINFO_NUM_CONNECTS`.
    pub fn num_connects(&self) -> Result<u32, Error> {
        Ok(self.info.num_connects())
    }

    /// `CURLINFO_OS_ERRNO`.
    pub fn os_errno(&self) -> Result<i32, Error> {
        Ok(self.info.os_errno())
    }

    /// `CURLINFO_SSL_VERIFYRESULT`.
    pub fn ssl_verify_result(&self) -> Result<i64, Error> {
        Ok(self.info.ssl_verify_result())
    }

    /// `CURLINFO_EFFECTIVE_URL`.
    pub fn effective_url(&self) -> Result<Option<&str>, Error> {
        Ok(self.info.effective_url())
    }

    /// The first value of response header `name` (any case) of the last
    /// transfer's final response (`curl_easy_header`). For every header,
    /// see [`response_header_list`](Easy::response_header_list).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::{ConnectOnly, Easy};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("https://example.com/")?;
    /// easy.connect_only(ConnectOnly::Headers)?;
    /// easy.perform()?;
    /// if let Some(kind) = easy.response_header("content-type") {
    ///     println!("the body is {kind}");
    /// }
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn response_header(&self, name: &str) -> Option<&str> {
        self.head.as_ref().and_then(|h| h.header(name))
    }

    /// Every value of response header `name` (any case), in order.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn demo(easy: &handover::Easy) {
    /// for cookie in easy.response_headers("Set-Cookie") {
    ///     println!("cookie: {cookie}");
    /// }
    /// # }
    /// ```
    pub fn response_headers<'a>(&'a self, name: &'a str) -> Vec<&'a str> {
        self.head
            .as_ref()
            .map(|h| h.headers_named(name).collect())
            .unwrap_or_default()
    }

    /// Every header of the last transfer's final response as `(name,
    /// value)`, in the order the server sent them: names as sent, values
    /// trimmed, repeated headers repeated (libcurl: `curl_easy_nextheader`).
    /// Empty when no HTTP response was read (connect-only = 1). A head that
    /// failed part way (refused, cut short) leaves the fields taken before
    /// the failure, which the header callback got too, as libcurl keeps
    /// them. The headers of interim `1xx` answers are
    /// [`interim_header_list`](Easy::interim_header_list)'s; those of a
    /// proxy's `CONNECT` reply are not kept.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::{ConnectOnly, Easy};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("https://example.com/")?;
    /// easy.connect_only(ConnectOnly::Headers)?;
    /// easy.perform()?;
    /// for (name, value) in easy.response_header_list() {
    ///     println!("{name}: {value}");
    /// }
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn response_header_list(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.head
            .iter()
            .flat_map(|h| h.headers.iter())
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// Every header of the interim (`1xx`) answers that came before the
    /// last transfer's final response (a `100 Continue`, a `103 Early
    /// Hints`), as `(name, value)` in arrival order, as
    /// [`response_header_list`](Easy::response_header_list) gives the final
    /// one's (libcurl: `curl_easy_header` with `CURLH_1XX`).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::Easy;
    ///
    /// let mut easy = Easy::new();
    /// easy.url("https://example.com/")?;
    /// easy.perform()?;
    /// for (name, value) in easy.interim_header_list() {
    ///     if name.eq_ignore_ascii_case("link") {
    ///         println!("early hint: {value}");
    ///     }
    /// }
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn interim_header_list(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.interim
            .iter()
            .flat_map(|h| h.headers.iter())
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// The final response head of the last transfer and the method of the
    /// request it answers, for the body reader.
    pub(crate) fn response_head(&self) -> Option<(&ResponseHead, &str)> {
        self.head
            .as_ref()
            .filter(|_| self.head_complete)
            .map(|h| (h, self.head_method.as_str()))
    }

    /// `CURLINFO_HTTP_CONNECTCODE`.
    pub fn http_connectcode(&self) -> Result<u32, Error> {
        Ok(self.info.http_connectcode())
    }

    /// `CURLINFO_SIZE_DOWNLOAD_T`.
    pub fn download_size(&self) -> Result<f64, Error> {
        Ok(self.info.size_download() as f64)
    }

    /// `CURLINFO_RESPONSE_CODE`.
    pub fn response_code(&self) -> Result<u32, Error> {
        Ok(self.info.response_code())
    }
}
