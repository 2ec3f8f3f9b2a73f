//! The settings of one handle, and the small public types they use.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use handover_proto::auth::AuthMask;
use handover_proto::hosts::{ConnectTo, ResolveEntry};
use handover_proto::proxy::ProxyKind;
use handover_proto::url::{Url, UrlError};

use crate::error::{Error, ErrorKind};
use crate::verbose::Logger;

/// `CURLOPT_URL` as given, parsed once when it is set: a handle performing
/// the same URL again (the connect-only loop) does not parse and format it
/// at every perform. A URL that does not parse keeps no parse; the transfer
/// parses it again and reports why (libcurl, too, checks it at perform).
#[derive(Clone)]
pub(crate) struct UrlOption {
    raw: String,
    parsed: Option<Arc<ParsedUrl>>,
}

/// A parsed URL and its normalised text (`CURLINFO_EFFECTIVE_URL`).
pub(crate) struct ParsedUrl {
    pub url: Url,
    pub effective: String,
}

impl UrlOption {
    /// `raw`, with its parse when it has one.
    pub fn new(raw: &str) -> UrlOption {
        UrlOption {
            raw: raw.to_owned(),
            parsed: ParsedUrl::parse(raw).ok(),
        }
    }

    /// The URL as the application gave it.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The parsed URL, or why it does not parse.
    pub fn parsed(&self) -> Result<Arc<ParsedUrl>, UrlError> {
        self.parsed
            .clone()
            .map_or_else(|| ParsedUrl::parse(&self.raw), Ok)
    }
}

impl ParsedUrl {
    fn parse(raw: &str) -> Result<Arc<ParsedUrl>, UrlError> {
        let url = Url::parse(raw)?;
        let effective = url.to_string();
        Ok(Arc::new(ParsedUrl { url, effective }))
    }
}

/// What `perform` does once the connection is set up (`CURLOPT_CONNECT_ONLY`).
///
/// Set with [`Easy::connect_only`](crate::Easy::connect_only), which also
/// takes a `bool` (`true` is [`Connection`](ConnectOnly::Connection)).
///
/// # Examples
///
/// ```
/// use handover::ConnectOnly;
///
/// assert_eq!(ConnectOnly::default(), ConnectOnly::Off);
/// assert_eq!(ConnectOnly::Headers.as_long(), 2);
/// assert_eq!(ConnectOnly::from_long(1), Some(ConnectOnly::Connection));
/// assert_eq!(ConnectOnly::from(true), ConnectOnly::Connection);
/// ```
///
/// Stopping after the response head of an HTTPS request:
///
/// ```no_run
/// use std::time::Duration;
/// use handover::{ConnectOnly, Easy};
///
/// let mut easy = Easy::new();
/// easy.url("https://example.com/")?;
/// easy.connect_only(ConnectOnly::Headers)?;
/// easy.timeout(Duration::from_secs(30))?; // bounds the wait for the head too
/// easy.perform()?;
/// println!("{} {:?}", easy.response_code()?, easy.response_header("Content-Type"));
/// let mut body = easy.take_connection()?; // the body comes next, raw
/// # Ok::<(), handover::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ConnectOnly {
    /// 0: an ordinary transfer (the default).
    #[default]
    Off,
    /// 1: set up the connection (resolve, TCP, TLS, ...), send nothing, hand it over.
    Connection,
    /// 2: for HTTP and WebSocket, also send the request and read the response
    /// headers, then hand over.
    ///
    /// On `http://` and `https://`, what is handed over is the connection
    /// right after the response head:
    ///
    /// - the body is left on the connection **raw**: the first byte `recv`
    ///   returns is its first byte, and a `Transfer-Encoding: chunked` body
    ///   still carries its chunk-size lines and trailers: de-chunk it, or
    ///   read it through [`BodyReader`](crate::BodyReader), which follows
    ///   the framing the head announced;
    /// - the connection is **kept alive**: the request did not ask the
    ///   server to close, and nothing on handover's side closes it after the
    ///   body, so the end of the stream does not mark the end of the body
    ///   (send a `Connection: close` header with
    ///   [`Easy::http_headers`](crate::Easy::http_headers) to have it close);
    /// - the status and headers stay on the handle:
    ///   [`Easy::response_code`](crate::Easy::response_code),
    ///   [`Easy::response_header`](crate::Easy::response_header),
    ///   [`Easy::response_headers`](crate::Easy::response_headers) and
    ///   [`Easy::response_header_list`](crate::Easy::response_header_list);
    /// - a server that accepts the connection and never answers is only
    ///   cut off by [`Easy::timeout`](crate::Easy::timeout):
    ///   [`Easy::connect_timeout`](crate::Easy::connect_timeout) ends with
    ///   the connection setup (resolve, connect, proxies, TLS).
    ///
    /// On `ws://` and `wss://`, the upgrade is done (the `101` and its
    /// `Sec-WebSocket-Accept` checked) and the connection speaks frames:
    /// [`Easy::ws_send`](crate::Easy::ws_send)/[`Easy::ws_recv`](crate::Easy::ws_recv),
    /// or whole messages with [`WebSocket`](crate::websocket::WebSocket).
    Headers,
}

impl ConnectOnly {
    /// The `CURLOPT_CONNECT_ONLY` value: 0, 1 or 2.
    pub fn as_long(self) -> i64 {
        match self {
            ConnectOnly::Off => 0,
            ConnectOnly::Connection => 1,
            ConnectOnly::Headers => 2,
        }
    }

    /// The setting for a `CURLOPT_CONNECT_ONLY` value; `None` outside 0..=2.
    pub fn from_long(value: i64) -> Option<ConnectOnly> {
        match value {
            0 => Some(ConnectOnly::Off),
            1 => Some(ConnectOnly::Connection),
            2 => Some(ConnectOnly::Headers),
            _ => None,
        }
    }
}

impl From<bool> for ConnectOnly {
    /// `true` is 1 (connection only), as in the `curl` crate's `connect_only(bool)`.
    fn from(on: bool) -> ConnectOnly {
        if on {
            ConnectOnly::Connection
        } else {
            ConnectOnly::Off
        }
    }
}

/// Which address families to use (`CURLOPT_IPRESOLVE`).
///
/// # Examples
///
/// ```no_run
/// use handover::{ConnectOnly, Easy, IpResolve};
///
/// let mut easy = Easy::new();
/// easy.url("https://localhost:8443/")?;
/// easy.connect_only(ConnectOnly::Connection)?;
/// easy.ip_resolve(IpResolve::V4)?; // 127.0.0.1, never ::1
/// easy.perform()?;
/// # Ok::<(), handover::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IpResolve {
    /// Both IPv6 and IPv4 (the default).
    #[default]
    Any,
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

/// TLS protocol versions (`CURLOPT_SSLVERSION` values).
///
/// # Examples
///
/// ```
/// use handover::{Easy, SslVersion};
///
/// let mut easy = Easy::new();
/// // TLS 1.3 or nothing.
/// easy.ssl_min_max_version(SslVersion::Tlsv13, SslVersion::Default)?;
/// // A minimum above the maximum is refused at once.
/// let refused = easy.ssl_min_max_version(SslVersion::Tlsv13, SslVersion::Tlsv12);
/// assert_eq!(refused.unwrap_err().code(), 43);
/// # Ok::<(), handover::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum SslVersion {
    /// Whatever the TLS library allows: TLS 1.2 and 1.3 here.
    #[default]
    Default,
    /// TLS 1.0 (not available: rustls has only 1.2 and 1.3).
    Tlsv10,
    /// TLS 1.1 (not available: rustls has only 1.2 and 1.3).
    Tlsv11,
    /// TLS 1.2.
    Tlsv12,
    /// TLS 1.3.
    Tlsv13,
}

/// A list of strings, as libcurl's `curl_slist` (used by
/// [`Easy::resolve`](crate::Easy::resolve),
/// [`Easy::connect_to`](crate::Easy::connect_to),
/// [`Easy::http_headers`](crate::Easy::http_headers) and
/// [`Easy::proxy_headers`](crate::Easy::proxy_headers)).
///
/// # Examples
///
/// ```
/// use handover::{Easy, List};
///
/// let mut resolve = List::new();
/// resolve.append("example.com:443:127.0.0.1")?;
/// let headers: List = ["Accept: text/event-stream", "User-Agent:"].into_iter().collect();
/// assert_eq!(headers.iter().count(), 2);
///
/// let mut easy = Easy::new();
/// easy.resolve(resolve)?;
/// easy.http_headers(headers)?;
/// # Ok::<(), handover::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct List {
    items: Vec<String>,
}

impl List {
    /// An empty list.
    pub fn new() -> List {
        List::default()
    }

    /// Adds an entry at the end.
    pub fn append(&mut self, item: &str) -> Result<(), Error> {
        if item.contains('\0') {
            return Err(Error::new(
                ErrorKind::BadFunctionArgument,
                "list entry contains a NUL byte",
            ));
        }
        self.items.push(item.to_owned());
        Ok(())
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(String::as_str)
    }
}

impl<S: AsRef<str>> FromIterator<S> for List {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> List {
        List {
            items: iter.into_iter().map(|s| s.as_ref().to_owned()).collect(),
        }
    }
}

/// libcurl's default connect timeout.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(300);
/// libcurl's default receive buffer (`CURLOPT_BUFFERSIZE`,
/// `CURL_MAX_WRITE_SIZE`), and its bounds.
pub(crate) const DEFAULT_BUFFER_SIZE: usize = 16 * 1024;
pub(crate) const BUFFER_SIZE_RANGE: (usize, usize) = (1024, 10 * 1024 * 1024);
/// libcurl's default upload buffer (`CURLOPT_UPLOAD_BUFFERSIZE`), and its
/// bounds.
pub(crate) const DEFAULT_UPLOAD_BUFFER_SIZE: usize = 64 * 1024;
pub(crate) const UPLOAD_BUFFER_SIZE_RANGE: (usize, usize) = (16 * 1024, 2 * 1024 * 1024);
/// libcurl's default `CURLOPT_UPKEEP_INTERVAL_MS`.
pub(crate) const DEFAULT_UPKEEP_INTERVAL: Duration = Duration::from_secs(60);
/// libcurl's default happy-eyeballs delay (`CURL_HET_DEFAULT`).
pub(crate) const DEFAULT_HAPPY_EYEBALLS: Duration = Duration::from_millis(200);

/// TLS settings for the connection to the origin. Compared as a whole to
/// decide whether a cached rustls configuration still fits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TlsOptions {
    pub cainfo: Option<PathBuf>,
    pub capath: Option<PathBuf>,
    pub verify_peer: bool,
    pub verify_host: bool,
    /// The client certificate and key, their types and password.
    pub identity: crate::tls::ClientIdentity,
    pub min_version: SslVersion,
    pub max_version: SslVersion,
    pub pinned_public_key: Option<String>,
    /// `CURLOPT_SSL_SESSIONID_CACHE`: resume sessions from the handle's
    /// own cache (on by default, as libcurl).
    pub session_cache: bool,
    /// `CURLOPT_SSL_CIPHER_LIST`: the TLS 1.2 suites, OpenSSL names.
    pub cipher_list: Option<String>,
    /// `CURLOPT_TLS13_CIPHERS`: the TLS 1.3 suites.
    pub tls13_ciphers: Option<String>,
    /// `CURLOPT_SSL_EC_CURVES`: the key-exchange groups.
    pub ec_curves: Option<String>,
    /// `CURLOPT_SSL_ENABLE_ALPN`.
    pub enable_alpn: bool,
    /// `CURLOPT_CAINFO_BLOB`: CA certificates in PEM, in memory (instead
    /// of `cainfo`).
    pub cainfo_blob: Option<Vec<u8>>,
    /// `CURLOPT_CRLFILE`: certificate revocation lists, PEM.
    pub crlfile: Option<PathBuf>,
    /// `CURLSSLOPT_NATIVE_CA`: the system store as well as `cainfo`.
    pub native_ca: bool,
    /// The ALPN protocols a connect-only = 1 connection offers instead of
    /// the scheme's (`Easy::alpn`, handover's own).
    pub alpn: Option<Vec<String>>,
    /// `CURLOPT_ISSUERCERT(_BLOB)`: the server's certificate must be
    /// issued by this one.
    pub issuer_cert: Option<crate::tls::Source>,
    /// `CURLOPT_SSL_VERIFYSTATUS`: a stapled OCSP response is required
    /// and must say the certificate is good.
    pub verify_status: bool,
    /// `CURLOPT_CA_CACHE_TIMEOUT`: how long a built configuration (its CA
    /// certificates read from files) serves new transfers; `None` is
    /// forever (-1).
    pub ca_cache_timeout: Option<Duration>,
}

impl Default for TlsOptions {
    fn default() -> TlsOptions {
        TlsOptions {
            cainfo: None,
            capath: None,
            verify_peer: true,
            verify_host: true,
            identity: crate::tls::ClientIdentity::default(),
            min_version: SslVersion::Default,
            max_version: SslVersion::Default,
            pinned_public_key: None,
            session_cache: true,
            cipher_list: None,
            tls13_ciphers: None,
            ec_curves: None,
            enable_alpn: true,
            cainfo_blob: None,
            crlfile: None,
            native_ca: false,
            alpn: None,
            issuer_cert: None,
            verify_status: false,
            ca_cache_timeout: Some(crate::tls::config::CONFIG_MAX_AGE),
        }
    }
}

/// TLS behaviour bits (`CURLOPT_SSL_OPTIONS`, the `curl` crate's
/// `SslOpt`), as a builder.
///
/// # Examples
///
/// ```no_run
/// use handover::{Easy, SslOpt};
///
/// let mut easy = Easy::new();
/// easy.cainfo("/etc/corp/ca.pem")?;
/// // Trust the corporate CA and the system's.
/// easy.ssl_options(SslOpt::new().native_ca(true))?;
/// # Ok::<(), handover::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SslOpt {
    bits: u32,
}

impl SslOpt {
    /// No bits set (libcurl's default).
    pub fn new() -> SslOpt {
        SslOpt::default()
    }

    /// From raw `CURLSSLOPT_*` bits.
    pub fn from_bits(bits: u32) -> SslOpt {
        SslOpt { bits }
    }

    /// The raw `CURLSSLOPT_*` bits.
    pub fn bits(self) -> u32 {
        self.bits
    }

    fn set(&mut self, bit: u32, on: bool) -> &mut SslOpt {
        if on {
            self.bits |= bit;
        } else {
            self.bits &= !bit;
        }
        self
    }

    /// `CURLSSLOPT_ALLOW_BEAST`: no effect (rustls has no CBC suites in
    /// TLS 1.0, the BEAST workaround concerns).
    pub fn allow_beast(&mut self, on: bool) -> &mut SslOpt {
        self.set(SslOpt::ALLOW_BEAST, on)
    }

    /// `CURLSSLOPT_NO_REVOKE`: no effect (Schannel's revocation checks;
    /// handover checks revocation only against `crlfile`).
    pub fn no_revoke(&mut self, on: bool) -> &mut SslOpt {
        self.set(SslOpt::NO_REVOKE, on)
    }

    /// `CURLSSLOPT_REVOKE_BEST_EFFORT`: no effect (Schannel's).
    pub fn revoke_best_effort(&mut self, on: bool) -> &mut SslOpt {
        self.set(SslOpt::REVOKE_BEST_EFFORT, on)
    }

    /// `CURLSSLOPT_NATIVE_CA`: trust the system's CA store as well as
    /// `cainfo`/`capath`/`cainfo_blob`.
    pub fn native_ca(&mut self, on: bool) -> &mut SslOpt {
        self.set(SslOpt::NATIVE_CA, on)
    }

    /// `CURLSSLOPT_AUTO_CLIENT_CERT`: no effect (Windows' certificate
    /// store).
    pub fn auto_client_cert(&mut self, on: bool) -> &mut SslOpt {
        self.set(SslOpt::AUTO_CLIENT_CERT, on)
    }

    pub(crate) const ALLOW_BEAST: u32 = 0x1;
    pub(crate) const NO_REVOKE: u32 = 0x2;
    /// Not built in: rustls takes any certificate in the trust store as an
    /// anchor, a partial chain included.
    pub(crate) const NO_PARTIALCHAIN: u32 = 0x4;
    pub(crate) const REVOKE_BEST_EFFORT: u32 = 0x8;
    pub(crate) const NATIVE_CA: u32 = 0x10;
    pub(crate) const AUTO_CLIENT_CERT: u32 = 0x20;
    /// Not built in: TLS 1.3 early data.
    pub(crate) const EARLYDATA: u32 = 0x40;
}

/// Socket-level settings.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SocketOptions {
    pub local_port: u16,
    pub local_port_range: u16,
    pub interface: Option<String>,
    pub tcp_nodelay: bool,
    pub tcp_keepalive: bool,
    pub keepalive_idle: Duration,
    pub keepalive_interval: Duration,
    /// `CURLOPT_TCP_KEEPCNT`: probes before the connection is dropped.
    pub keepalive_count: u32,
    /// `CURLOPT_TCP_FASTOPEN`.
    pub tcp_fastopen: bool,
    /// `CURLOPT_ADDRESS_SCOPE`: the scope id given to IPv6 addresses.
    pub address_scope: u32,
}

impl Default for SocketOptions {
    fn default() -> SocketOptions {
        SocketOptions {
            local_port: 0,
            local_port_range: 1,
            interface: None,
            tcp_nodelay: true,
            tcp_keepalive: false,
            keepalive_idle: Duration::from_secs(60),
            keepalive_interval: Duration::from_secs(60),
            keepalive_count: 9,
            tcp_fastopen: false,
            address_scope: 0,
        }
    }
}

/// What the PROXY protocol header says (`CURLOPT_HAPROXYPROTOCOL`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct HaproxyHeader {
    /// `CURLOPT_HAPROXY_CLIENT_IP`: the source address to claim instead of
    /// the socket's.
    pub client_ip: Option<String>,
}

/// A set of HTTP authentication methods (`CURLAUTH_*` bits), as the `curl`
/// crate's `Auth`.
///
/// # Examples
///
/// ```
/// use handover::{Auth, Easy};
///
/// let mut easy = Easy::new();
/// easy.proxy("http://proxy.corp:3128")?;
/// easy.proxy_username("CORP\\alice")?;
/// easy.proxy_password("secret")?;
/// // Let the proxy's 407 choose between Digest and NTLM.
/// easy.proxy_auth(Auth::new().digest(true).ntlm(true))?;
///
/// assert_eq!(Auth::new().basic(true).bits(), 1); // CURLAUTH_BASIC
/// # Ok::<(), handover::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Auth {
    mask: AuthMask,
}

impl Default for Auth {
    fn default() -> Auth {
        Auth::new()
    }
}

impl Auth {
    /// No method at all; add them with the builder calls.
    pub fn new() -> Auth {
        Auth {
            mask: AuthMask::NONE,
        }
    }

    /// Every method handover has (`CURLAUTH_ANY`): the proxy's challenge decides.
    pub fn any() -> Auth {
        Auth {
            mask: AuthMask::ANY,
        }
    }

    /// Every method that does not send the password in the clear
    /// (`CURLAUTH_ANYSAFE`).
    pub fn any_safe() -> Auth {
        Auth {
            mask: AuthMask::ANYSAFE,
        }
    }

    /// From raw `CURLAUTH_*` bits.
    pub fn from_bits(bits: u32) -> Auth {
        Auth {
            mask: AuthMask(bits),
        }
    }

    /// The raw `CURLAUTH_*` bits.
    pub fn bits(&self) -> u32 {
        self.mask.0
    }

    fn set(&mut self, bit: AuthMask, on: bool) -> &mut Auth {
        if on {
            self.mask.0 |= bit.0;
        } else {
            self.mask.0 &= !bit.0;
        }
        self
    }

    /// Basic (`CURLAUTH_BASIC`).
    pub fn basic(&mut self, on: bool) -> &mut Auth {
        self.set(AuthMask::BASIC, on)
    }

    /// Digest (`CURLAUTH_DIGEST`).
    pub fn digest(&mut self, on: bool) -> &mut Auth {
        self.set(AuthMask::DIGEST, on)
    }

    /// NTLM (`CURLAUTH_NTLM`), NTLMv2 only.
    pub fn ntlm(&mut self, on: bool) -> &mut Auth {
        self.set(AuthMask::NTLM, on)
    }

    /// Negotiate (`CURLAUTH_NEGOTIATE`); not built in yet, so a proxy that
    /// asks only for it fails with `NotBuiltIn`.
    pub fn gssnegotiate(&mut self, on: bool) -> &mut Auth {
        self.set(AuthMask::NEGOTIATE, on)
    }

    /// OAuth 2.0 bearer tokens (`CURLAUTH_BEARER`), for servers: the token
    /// of [`Easy::xoauth2_bearer`](crate::Easy::xoauth2_bearer). Never used
    /// with a proxy.
    pub fn bearer(&mut self, on: bool) -> &mut Auth {
        self.set(AuthMask::BEARER, on)
    }

    /// AWS Signature Version 4 (`CURLAUTH_AWS_SIGV4`): alone, each request
    /// is signed with the parameter of
    /// [`Easy::aws_sigv4`](crate::Easy::aws_sigv4), `aws:amz` when none was
    /// set; combined with other methods it has no effect, as in libcurl.
    /// Never used with a proxy.
    pub fn aws_sigv4(&mut self, on: bool) -> &mut Auth {
        self.set(AuthMask::AWS_SIGV4, on)
    }

    pub(crate) fn mask(&self) -> AuthMask {
        self.mask
    }
}

/// Proxy protocols (`CURLOPT_PROXYTYPE`), named as in the `curl` crate.
///
/// Used when the proxy string has no scheme; a scheme in the string wins.
///
/// # Examples
///
/// ```no_run
/// use handover::{ConnectOnly, Easy, ProxyType};
///
/// let mut easy = Easy::new();
/// easy.url("https://example.com/")?;
/// easy.connect_only(ConnectOnly::Connection)?;
/// easy.proxy("127.0.0.1:1080")?;
/// easy.proxy_type(ProxyType::Socks5Hostname)?; // as socks5h://127.0.0.1:1080
/// easy.perform()?;
/// # Ok::<(), handover::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ProxyType {
    /// HTTP/1.1 proxy (the default).
    #[default]
    Http,
    /// HTTP/1.0 proxy.
    Http1,
    /// HTTPS proxy: TLS to the proxy itself.
    Https,
    /// SOCKS4, the target resolved locally.
    Socks4,
    /// SOCKS4a, the target resolved by the proxy.
    Socks4a,
    /// SOCKS5, the target resolved locally.
    Socks5,
    /// SOCKS5, the target resolved by the proxy (`socks5h`).
    Socks5Hostname,
}

impl ProxyType {
    pub(crate) fn kind(self) -> ProxyKind {
        match self {
            ProxyType::Http => ProxyKind::Http,
            ProxyType::Http1 => ProxyKind::Http10,
            ProxyType::Https => ProxyKind::Https,
            ProxyType::Socks4 => ProxyKind::Socks4,
            ProxyType::Socks4a => ProxyKind::Socks4a,
            ProxyType::Socks5 => ProxyKind::Socks5,
            ProxyType::Socks5Hostname => ProxyKind::Socks5h,
        }
    }
}

/// Proxy settings of a handle. `Debug` hides credentials: the password,
/// user info in proxy URLs, and header values.
#[derive(Clone)]
pub(crate) struct ProxyOptions {
    /// `CURLOPT_PROXY`: `None` consults the environment, `Some("")` turns
    /// proxies off (environment included).
    pub proxy: Option<String>,
    pub kind: ProxyType,
    pub port: Option<u16>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub auth: Auth,
    pub tunnel: bool,
    pub headers: Vec<String>,
    pub noproxy: Option<String>,
    pub pre_proxy: Option<String>,
    /// The Rust API's ordered list of hops; replaces proxy and pre_proxy.
    pub chain: Option<Vec<String>>,
    pub tls: TlsOptions,
}

/// A proxy URL with any `user:password@` replaced, for `Debug`.
pub(crate) fn redacted_url(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = url.get(start..).unwrap_or("");
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest.get(..authority_end).and_then(|a| a.rfind('@')) {
        Some(at) => format!(
            "{}<credentials>@{}",
            url.get(..start).unwrap_or(""),
            rest.get(at + 1..).unwrap_or("")
        ),
        None => url.to_owned(),
    }
}

impl fmt::Debug for ProxyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let urls = |list: Option<&[String]>| -> Option<Vec<String>> {
            list.map(|l| l.iter().map(|u| redacted_url(u)).collect())
        };
        let header_names: Vec<&str> = self
            .headers
            .iter()
            .map(|h| h.split(':').next().unwrap_or(""))
            .collect();
        f.debug_struct("ProxyOptions")
            .field("proxy", &self.proxy.as_deref().map(redacted_url))
            .field("kind", &self.kind)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("auth", &self.auth)
            .field("tunnel", &self.tunnel)
            .field("headers (names)", &header_names)
            .field("noproxy", &self.noproxy)
            .field("pre_proxy", &self.pre_proxy.as_deref().map(redacted_url))
            .field("chain", &urls(self.chain.as_deref()))
            .field("tls", &self.tls)
            .finish()
    }
}

impl Default for ProxyOptions {
    fn default() -> ProxyOptions {
        let mut auth = Auth::new();
        auth.basic(true);
        ProxyOptions {
            proxy: None,
            kind: ProxyType::Http,
            port: None,
            username: None,
            password: None,
            auth,
            tunnel: false,
            headers: Vec::new(),
            noproxy: None,
            pre_proxy: None,
            chain: None,
            tls: TlsOptions::default(),
        }
    }
}

/// Authentication with the server (`CURLOPT_USERNAME`, `_PASSWORD`,
/// `_HTTPAUTH`, `_XOAUTH2_BEARER`...). `Debug` hides the secrets.
#[derive(Clone)]
pub(crate) struct ServerAuth {
    pub username: Option<String>,
    pub password: Option<String>,
    /// `CURLOPT_HTTPAUTH`; Basic by default, as libcurl.
    pub methods: Auth,
    /// `CURLOPT_XOAUTH2_BEARER`.
    pub bearer: Option<String>,
    /// `CURLOPT_AWS_SIGV4`: the signer's parameter, used when `methods`
    /// is AWS SigV4 alone (`None` reads as `aws:amz`).
    pub aws_sigv4: Option<String>,
    /// `CURLOPT_DISALLOW_USERNAME_IN_URL`.
    pub disallow_username_in_url: bool,
    /// `CURLOPT_NETRC`.
    pub netrc: NetRc,
    /// `CURLOPT_NETRC_FILE`: instead of `$HOME/.netrc`.
    pub netrc_file: Option<PathBuf>,
}

/// Whether credentials come from a `.netrc` file (`CURLOPT_NETRC`, the
/// `curl` crate's `NetRc`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NetRc {
    /// The file is not read (`CURL_NETRC_IGNORED`, the default).
    #[default]
    Ignored,
    /// Used when the URL carries no password (`CURL_NETRC_OPTIONAL`): a
    /// user name in the URL picks that login's entry; a file missing or
    /// broken is passed over.
    Optional,
    /// Used instead of the URL's password (`CURL_NETRC_REQUIRED`); its
    /// user name still picks the entry. A file missing or broken fails
    /// the transfer (`ReadError`, 26).
    Required,
}

impl Default for ServerAuth {
    fn default() -> ServerAuth {
        ServerAuth {
            username: None,
            password: None,
            methods: *Auth::new().basic(true),
            bearer: None,
            aws_sigv4: None,
            disallow_username_in_url: false,
            netrc: NetRc::Ignored,
            netrc_file: None,
        }
    }
}

impl fmt::Debug for ServerAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerAuth")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("methods", &self.methods)
            .field("bearer", &self.bearer.as_ref().map(|_| "<hidden>"))
            .field("aws_sigv4", &self.aws_sigv4)
            .field("disallow_username_in_url", &self.disallow_username_in_url)
            .finish()
    }
}

/// HTTP request settings and the application's callbacks. `Debug` shows
/// header names and body sizes only: values may carry credentials.
#[derive(Clone, Default)]
pub(crate) struct HttpOptions {
    pub custom_request: Option<String>,
    pub headers: Vec<String>,
    pub referer: Option<String>,
    /// `CURLOPT_POSTFIELDS`; `post` alone sends an empty body.
    pub post_fields: Option<Vec<u8>>,
    pub post: bool,
    /// `CURLOPT_NOBODY`: a HEAD request.
    pub nobody: bool,
    /// Size of a body the read callback supplies (`CURLOPT_POSTFIELDSIZE_LARGE`
    /// / `CURLOPT_INFILESIZE_LARGE`).
    pub body_size: Option<u64>,
    pub upload: bool,
    pub write: Option<crate::callbacks::Writer>,
    pub header: Option<crate::callbacks::HeaderSink>,
    pub read: Option<crate::callbacks::Reader>,
    /// `CURLOPT_SEEKFUNCTION`: rewinds the read function's body.
    pub seek: Option<crate::callbacks::Seeker>,
    /// `CURLOPT_WS_OPTIONS`: raw mode, no auto-pong.
    pub ws_options: handover_proto::ws::Options,
    /// `CURLOPT_KEEP_SENDING_ON_ERROR`.
    pub keep_sending_on_error: bool,
}

impl fmt::Debug for HttpOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self
            .headers
            .iter()
            .map(|h| h.split(':').next().unwrap_or(""))
            .collect();
        f.debug_struct("HttpOptions")
            .field("custom_request", &self.custom_request)
            .field("headers (names)", &header_names)
            .field(
                "post_fields (bytes)",
                &self.post_fields.as_ref().map(Vec::len),
            )
            .field("post", &self.post)
            .field("nobody", &self.nobody)
            .field("body_size", &self.body_size)
            .field("upload", &self.upload)
            .field("ws_options", &self.ws_options)
            .finish_non_exhaustive()
    }
}

impl Options {
    /// The TLS options of the connection to the server: the ALPN list of
    /// [`Easy::alpn`](crate::Easy::alpn) counts for connect-only = 1 only
    /// (an HTTP request or a WebSocket upgrade needs `http/1.1`).
    pub(crate) fn server_tls(&self) -> std::borrow::Cow<'_, TlsOptions> {
        if self.tls.alpn.is_some() && self.connect_only != ConnectOnly::Connection {
            let mut tls = self.tls.clone();
            tls.alpn = None;
            std::borrow::Cow::Owned(tls)
        } else {
            std::borrow::Cow::Borrowed(&self.tls)
        }
    }
}

/// Everything one handle has been told. A transfer takes a copy when it
/// starts, so changing options mid-flight never affects it.
#[derive(Clone, Default)]
pub(crate) struct Options {
    pub url: Option<UrlOption>,
    pub connect_only: ConnectOnly,
    pub log: Logger,
    pub connect_timeout: Option<Duration>,
    pub timeout: Option<Duration>,
    pub resolve: Vec<ResolveEntry>,
    pub connect_to: Vec<ConnectTo>,
    pub ip_resolve: IpResolve,
    pub socket: SocketOptions,
    /// `CURLOPT_UNIX_SOCKET_PATH` / `CURLOPT_ABSTRACT_UNIX_SOCKET` (one
    /// storage, as in libcurl: setting either replaces the other).
    pub unix_socket: Option<crate::endpoint::UnixPath>,
    /// `CURLOPT_PORT`: the port to use instead of the URL's.
    pub port: Option<u16>,
    /// `CURLOPT_DNS_SHUFFLE_ADDRESSES`.
    pub dns_shuffle: bool,
    /// `CURLOPT_DNS_CACHE_TIMEOUT`.
    pub dns_cache_timeout: crate::dns_cache::CacheTimeout,
    /// `CURLOPT_CERTINFO`.
    pub certinfo: bool,
    /// `CURLOPT_MAXAGE_CONN`, `CURLOPT_MAXLIFETIME_CONN`.
    pub reuse: crate::pool::ReuseLimits,
    /// `CURLOPT_LOW_SPEED_LIMIT` (bytes a second) and `_TIME`.
    pub low_speed: (u32, Duration),
    /// `CURLOPT_MAX_RECV_SPEED_LARGE`: bytes a second; 0 for no limit.
    pub max_recv_speed: u64,
    /// `CURLOPT_MAX_SEND_SPEED_LARGE`: bytes a second; 0 for no limit.
    pub max_send_speed: u64,
    /// `CURLOPT_BUFFERSIZE`: the most body bytes one write callback call
    /// gets ([`DEFAULT_BUFFER_SIZE`] when `None`).
    pub buffer_size: Option<usize>,
    /// `CURLOPT_UPLOAD_BUFFERSIZE`: the most bytes one read callback call
    /// is asked for ([`DEFAULT_UPLOAD_BUFFER_SIZE`] when `None`).
    pub upload_buffer_size: Option<usize>,
    /// `CURLOPT_UPKEEP_INTERVAL_MS` ([`DEFAULT_UPKEEP_INTERVAL`] when
    /// `None`).
    pub upkeep_interval: Option<Duration>,
    /// `CURLOPT_SERVER_RESPONSE_TIMEOUT`: for the protocols that wait for
    /// a server's response line (FTP, SMTP, IMAP, POP3); not HTTP.
    pub server_response_timeout: Option<Duration>,
    /// `CURLOPT_QUICK_EXIT`.
    pub quick_exit: bool,
    /// `CURLOPT_PROTOCOLS_STR`: the schemes a transfer may use; `None` for
    /// all.
    pub protocols: Option<Vec<String>>,
    /// `CURLOPT_HAPROXYPROTOCOL`, with `CURLOPT_HAPROXY_CLIENT_IP` when
    /// given: the PROXY protocol header to send first.
    pub haproxy: Option<HaproxyHeader>,
    pub tls: TlsOptions,
    pub forbid_reuse: bool,
    pub fresh_connect: bool,
    pub happy_eyeballs: Option<Duration>,
    pub useragent: Option<String>,
    pub proxy: ProxyOptions,
    pub http: HttpOptions,
    /// Authentication with the server.
    pub auth: ServerAuth,
    /// The application's open, sockopt and close functions.
    pub socket_hooks: crate::callbacks::SocketHooks,
    /// `CURLOPT_PREREQFUNCTION`.
    pub prereq: Option<crate::callbacks::Prereq>,
    /// `CURLOPT_RESOLVER_START_FUNCTION`.
    pub resolver_start: Option<crate::callbacks::ResolverStart>,
    /// `CURLOPT_DOH_URL` and the DoH server's TLS checks.
    pub doh: DohOptions,
    /// `CURLOPT_USE_SSL`: TLS asked of the FTP, IMAP, POP3 and SMTP
    /// servers on a clear connection.
    pub use_ssl: handover_proto::pingpong::UseSsl,
    /// The FTP login's options.
    pub ftp: FtpOptions,
    /// The IMAP, POP3 and SMTP logins' options.
    pub mail: MailOptions,
}

/// What the IMAP, POP3 and SMTP connect phases take beyond the
/// credentials and `use_ssl`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct MailOptions {
    /// `CURLOPT_LOGIN_OPTIONS` (`AUTH=PLAIN`, `AUTH=*`, `AUTH=+APOP`).
    pub login_options: Option<String>,
    /// `CURLOPT_SASL_AUTHZID`.
    pub sasl_authzid: Option<String>,
    /// `CURLOPT_SASL_IR`: send the first SASL message with the command.
    pub sasl_ir: bool,
    /// `CURLOPT_SERVICE_NAME`.
    pub service_name: Option<String>,
}

/// What the FTP connect phase takes beyond the credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FtpOptions {
    /// `CURLOPT_FTP_ACCOUNT`.
    pub account: Option<String>,
    /// `CURLOPT_FTP_ALTERNATIVE_TO_USER`.
    pub alternative_to_user: Option<String>,
    /// `CURLOPT_FTPSSLAUTH`.
    pub ssl_auth: handover_proto::ftp::FtpSslAuth,
}

/// DNS over HTTPS: the server's URL (`CURLOPT_DOH_URL`) and the checks of
/// its certificate (`CURLOPT_DOH_SSL_VERIFY*`), which the DoH requests use
/// instead of the transfer's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DohOptions {
    pub url: Option<String>,
    pub verify_peer: bool,
    pub verify_host: bool,
    pub verify_status: bool,
}

impl Default for DohOptions {
    fn default() -> DohOptions {
        DohOptions {
            url: None,
            verify_peer: true,
            verify_host: true,
            verify_status: false,
        }
    }
}

impl Options {
    /// The options of the DoH requests for a transfer with these options, or
    /// `None` without `doh_url`: libcurl's choice of what a probe inherits.
    pub(crate) fn doh_probe(&self) -> Option<Options> {
        let url = self.doh.url.as_deref()?;
        let mut probe = Options {
            url: Some(UrlOption::new(url)),
            log: self.log.clone(),
            connect_timeout: self.connect_timeout,
            timeout: self.timeout,
            resolve: self.resolve.clone(),
            dns_cache_timeout: self.dns_cache_timeout,
            forbid_reuse: true,
            fresh_connect: true,
            ..Options::default()
        };
        probe.tls.verify_peer = self.doh.verify_peer;
        probe.tls.verify_host = self.doh.verify_host;
        probe.tls.verify_status = self.doh.verify_status;
        probe.tls.cainfo.clone_from(&self.tls.cainfo);
        probe.tls.capath.clone_from(&self.tls.capath);
        probe.tls.cainfo_blob.clone_from(&self.tls.cainfo_blob);
        probe.tls.crlfile.clone_from(&self.tls.crlfile);
        probe.tls.ec_curves.clone_from(&self.tls.ec_curves);
        probe.tls.native_ca = self.tls.native_ca;
        probe.http.headers = vec![
            format!("Content-Type: {}", handover_proto::doh::MEDIA_TYPE),
            format!("Accept: {}", handover_proto::doh::MEDIA_TYPE),
        ];
        Some(probe)
    }

    /// The deadline budget for the connect phase: the smaller of the connect
    /// timeout (default 300 s) and the overall timeout, as libcurl computes it.
    pub fn connect_budget(&self) -> Duration {
        let connect = self
            .connect_timeout
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        match self.timeout.filter(|d| !d.is_zero()) {
            Some(total) => connect.min(total),
            None => connect,
        }
    }

    pub fn happy_eyeballs_delay(&self) -> Duration {
        self.happy_eyeballs.unwrap_or(DEFAULT_HAPPY_EYEBALLS)
    }
}

#[cfg(test)]
mod redaction_tests {
    use super::*;

    #[test]
    fn debug_of_proxy_options_hides_every_credential() {
        let opts = ProxyOptions {
            proxy: Some("http://alice:s3cret@proxy:3128".into()),
            password: Some("hunter2".into()),
            headers: vec!["Proxy-Authorization: Basic c2VjcmV0".into()],
            pre_proxy: Some("socks5://bob:pw2@10.0.0.1".into()),
            chain: Some(vec!["socks5h://carol:pw3@h:1080/".into()]),
            ..ProxyOptions::default()
        };
        let text = format!("{opts:?}");
        for secret in [
            "s3cret", "hunter2", "c2VjcmV0", "pw2", "pw3", "alice", "bob:",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("http://<credentials>@proxy:3128"), "{text}");
        assert_eq!(redacted_url("proxy:3128"), "proxy:3128");
        assert_eq!(redacted_url("u:p@proxy:3128"), "<credentials>@proxy:3128");
    }
}
