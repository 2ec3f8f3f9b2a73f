//! What a transfer learned (`curl_easy_getinfo`): times, addresses,
//! counters, TLS verification result.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::time::Duration;

/// The next `CURLINFO_CONN_ID` and `CURLINFO_XFER_ID`: process-wide.
/// Connection numbers are `u32` (kept in every connection; they wrap after
/// 2^32 connections).
static NEXT_CONNECTION: AtomicU32 = AtomicU32::new(0);
static NEXT_TRANSFER: AtomicI64 = AtomicI64::new(0);

/// A number for a new connection, unique in the process.
pub(crate) fn next_connection_id() -> u32 {
    NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed)
}

/// A number for a new transfer, unique in the process.
pub(crate) fn next_transfer_id() -> i64 {
    NEXT_TRANSFER.fetch_add(1, Ordering::Relaxed)
}

/// Information about the most recent transfer of a handle.
///
/// Times are measured from the start of the transfer and are cumulative,
/// as libcurl's are: `connect_time` includes `namelookup_time`, and so on.
///
/// # Examples
///
/// ```no_run
/// use handover::{ConnectOnly, Easy};
///
/// let mut easy = Easy::new();
/// easy.url("https://example.com/")?;
/// easy.connect_only(ConnectOnly::Connection)?;
/// easy.perform()?;
///
/// let info = easy.info();
/// println!(
///     "{:?}: resolved {:?}, connected {:?}, TLS done {:?}",
///     info.primary_addr(),
///     info.namelookup_time(),
///     info.connect_time(),
///     info.appconnect_time(),
/// );
/// # Ok::<(), handover::Error>(())
/// ```
///
/// A [`Multi`](crate::Multi) handle gives a copy through
/// [`EasyHandle::info`](crate::EasyHandle::info).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Info {
    pub(crate) namelookup: Duration,
    pub(crate) connect: Duration,
    pub(crate) appconnect: Duration,
    pub(crate) pretransfer: Duration,
    pub(crate) total: Duration,
    pub(crate) primary: Option<crate::endpoint::Endpoint>,
    /// `CURLINFO_PRIMARY_PORT`: the peer's port, or over a Unix socket the
    /// port of the first hop's URL (as libcurl).
    pub(crate) primary_port: u16,
    pub(crate) local: Option<SocketAddr>,
    pub(crate) num_connects: u32,
    pub(crate) os_errno: i32,
    pub(crate) ssl_verify_result: i64,
    pub(crate) effective_url: Option<String>,
    pub(crate) scheme: Option<&'static str>,
    pub(crate) response_code: u32,
    pub(crate) http_connectcode: u32,
    pub(crate) proxyauth_avail: u32,
    /// `CURLINFO_HTTPAUTH_AVAIL`: what the server's last 401 offered.
    pub(crate) httpauth_avail: u32,
    /// `CURLINFO_HTTPAUTH_USED`: the method of the last answer to the server.
    pub(crate) httpauth_used: u32,
    /// The protocol ALPN chose with the server, if any.
    pub(crate) alpn: Option<Vec<u8>>,
    /// Every step of the setup, timed.
    pub(crate) timeline: crate::timeline::Timeline,
    /// The server certificate's notAfter, seconds since the epoch.
    pub(crate) certificate_expiry: Option<i64>,
    /// The TLS version and cipher suite agreed with the server.
    pub(crate) tls_session: Option<(String, String)>,
    /// `CURLINFO_CERTINFO`, when asked for with `certinfo`.
    pub(crate) certinfo: Option<crate::tls::CertChainInfo>,
    pub(crate) proxyauth_used: u32,
    pub(crate) proxy_error: u32,
    pub(crate) used_proxy: bool,
    pub(crate) starttransfer: Duration,
    pub(crate) size_download: u64,
    pub(crate) size_upload: u64,
    pub(crate) content_length_download: Option<u64>,
    pub(crate) conn_id: i64,
    pub(crate) xfer_id: i64,
}

impl Default for Info {
    fn default() -> Info {
        Info {
            namelookup: Duration::ZERO,
            connect: Duration::ZERO,
            appconnect: Duration::ZERO,
            pretransfer: Duration::ZERO,
            total: Duration::ZERO,
            primary: None,
            primary_port: 0,
            local: None,
            num_connects: 0,
            os_errno: 0,
            ssl_verify_result: 0,
            effective_url: None,
            scheme: None,
            response_code: 0,
            http_connectcode: 0,
            proxyauth_avail: 0,
            httpauth_avail: 0,
            httpauth_used: 0,
            certinfo: None,
            alpn: None,
            timeline: crate::timeline::Timeline::default(),
            certificate_expiry: None,
            tls_session: None,
            proxyauth_used: 0,
            proxy_error: 0,
            used_proxy: false,
            starttransfer: Duration::ZERO,
            size_download: 0,
            size_upload: 0,
            content_length_download: None,
            conn_id: -1,
            xfer_id: -1,
        }
    }
}

impl Info {
    /// Time until the name was resolved (`CURLINFO_NAMELOOKUP_TIME`).
    pub fn namelookup_time(&self) -> Duration {
        self.namelookup
    }

    /// Time until TCP was connected to the first hop (`CURLINFO_CONNECT_TIME`).
    pub fn connect_time(&self) -> Duration {
        self.connect
    }

    /// Time until the TLS handshake finished; zero without TLS
    /// (`CURLINFO_APPCONNECT_TIME`).
    pub fn appconnect_time(&self) -> Duration {
        self.appconnect
    }

    /// Time until a request was about to be sent; zero for connect-only = 1
    /// (`CURLINFO_PRETRANSFER_TIME`).
    pub fn pretransfer_time(&self) -> Duration {
        self.pretransfer
    }

    /// Time until the first response byte was handled; zero for connect-only = 1
    /// (`CURLINFO_STARTTRANSFER_TIME`).
    pub fn starttransfer_time(&self) -> Duration {
        self.starttransfer
    }

    /// Body bytes received (`CURLINFO_SIZE_DOWNLOAD_T`).
    pub fn size_download(&self) -> u64 {
        self.size_download
    }

    /// Request body bytes sent (`CURLINFO_SIZE_UPLOAD_T`): those of the last
    /// request, as libcurl counts an upload that goes again from its start.
    pub fn size_upload(&self) -> u64 {
        self.size_upload
    }

    /// The response's `Content-Length`, if it had one
    /// (`CURLINFO_CONTENT_LENGTH_DOWNLOAD_T`; libcurl says -1 for none).
    pub fn content_length_download(&self) -> Option<u64> {
        self.content_length_download
    }

    /// Time the whole transfer took (`CURLINFO_TOTAL_TIME`).
    pub fn total_time(&self) -> Duration {
        self.total
    }

    /// Address of the peer connected to: the first hop (`CURLINFO_PRIMARY_IP`
    /// and `CURLINFO_PRIMARY_PORT`). `None` over a Unix domain socket (see
    /// [`Info::unix_socket_path`]).
    pub fn primary_addr(&self) -> Option<SocketAddr> {
        self.primary
            .as_ref()
            .and_then(crate::endpoint::Endpoint::ip)
    }

    /// The port of the peer connected to (`CURLINFO_PRIMARY_PORT`); over a
    /// Unix domain socket, the URL's port, as libcurl reports it.
    pub fn primary_port(&self) -> Option<u16> {
        self.primary.as_ref().map(|_| self.primary_port)
    }

    /// The Unix domain socket connected to, when the transfer used one
    /// ([`Easy::unix_socket_path`](crate::Easy::unix_socket_path)); an
    /// abstract name is shown as `@name`. libcurl reports it as
    /// `CURLINFO_PRIMARY_IP`, with port 0.
    pub fn unix_socket_path(&self) -> Option<String> {
        match &self.primary {
            Some(crate::endpoint::Endpoint::Unix(path)) => Some(path.to_string()),
            _ => None,
        }
    }

    /// Local end of the connection (`CURLINFO_LOCAL_IP`, `CURLINFO_LOCAL_PORT`).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local
    }

    /// New connections the transfer made (`CURLINFO_NUM_CONNECTS`).
    pub fn num_connects(&self) -> u32 {
        self.num_connects
    }

    /// errno of the last failed socket operation, 0 if none
    /// (`CURLINFO_OS_ERRNO`). Like libcurl's, it may hold the error of a
    /// losing happy-eyeballs attempt even when the transfer succeeded.
    pub fn os_errno(&self) -> i32 {
        self.os_errno
    }

    /// 0 when the server certificate verified, 1 when it did not
    /// (`CURLINFO_SSL_VERIFYRESULT`; handover has no OpenSSL codes).
    pub fn ssl_verify_result(&self) -> i64 {
        self.ssl_verify_result
    }

    /// The URL used, without credentials (`CURLINFO_EFFECTIVE_URL`).
    pub fn effective_url(&self) -> Option<&str> {
        self.effective_url.as_deref()
    }

    /// The URL scheme in upper case, as libcurl reports it (`CURLINFO_SCHEME`).
    pub fn scheme(&self) -> Option<&'static str> {
        self.scheme
    }

    /// The last response code; 0 when no request was sent
    /// (`CURLINFO_RESPONSE_CODE`).
    pub fn response_code(&self) -> u32 {
        self.response_code
    }

    /// The last status a proxy answered `CONNECT` with; 0 if none
    /// (`CURLINFO_HTTP_CONNECTCODE`).
    pub fn http_connectcode(&self) -> u32 {
        self.http_connectcode
    }

    /// Methods the server's last 401 offered (`CURLINFO_HTTPAUTH_AVAIL`,
    /// `CURLAUTH_*` bits).
    pub fn httpauth_avail(&self) -> u32 {
        self.httpauth_avail
    }

    /// The server's certificate chain as libcurl's `CURLINFO_CERTINFO`
    /// gives it (with [`Easy::certinfo`](crate::Easy::certinfo) on): per
    /// certificate, leaf first, lines of `Name:value` — `Subject:`,
    /// `Issuer:`, `Version:`, `Serial Number:`, `Signature Algorithm:`,
    /// `Public Key Algorithm:`, the plain X509v3 extensions, `Start date:`,
    /// `Expire date:`, `Signature:`, `Cert:` (PEM). Empty without TLS.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::{ConnectOnly, Easy};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("https://example.com/")?;
    /// easy.connect_only(ConnectOnly::Connection)?;
    /// easy.certinfo(true)?;
    /// easy.perform()?;
    /// for (i, cert) in easy.info().certinfo().iter().enumerate() {
    ///     let expires = cert.iter().find_map(|l| l.strip_prefix("Expire date:"));
    ///     println!("certificate {i} expires {expires:?}");
    /// }
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn certinfo(&self) -> &[Vec<String>] {
        self.certinfo.as_deref().map_or(&[], Vec::as_slice)
    }

    /// Every step the setup took, in the order each began: the names
    /// looked up, each happy-eyeballs attempt, each layer's handshake (TLS
    /// to a proxy, SOCKS, CONNECT with its authentication rounds, TLS to
    /// the server, the protocol's greeting, the request), each with its
    /// start and duration from the start of the transfer. libcurl has no
    /// such record; its cumulative times are points on it:
    /// [`namelookup_time`](Info::namelookup_time) is the end of the last
    /// lookup, [`connect_time`](Info::connect_time) the end of the winning
    /// attempt, [`appconnect_time`](Info::appconnect_time) the end of the
    /// TLS handshake with the server.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::{ConnectOnly, Easy};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("https://example.com/")?;
    /// easy.proxy("http://proxy.example:3128")?;
    /// easy.connect_only(ConnectOnly::Connection)?;
    /// let _ = easy.perform();
    /// for step in easy.info().steps() {
    ///     println!("{:>9?} {:>9?} hop {} {:?} {}", step.start, step.duration, step.hop, step.kind, step.peer);
    /// }
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn steps(&self) -> &[crate::timeline::Step] {
        self.timeline.steps()
    }

    /// When the server's certificate (the leaf of the chain it sent in the
    /// TLS handshake with the server, not a proxy's) stops being valid: its
    /// notAfter. `None` without TLS to the server. libcurl has it only
    /// inside `CURLINFO_CERTINFO`'s text; a monitor wants the number.
    pub fn certificate_expiry(&self) -> Option<std::time::SystemTime> {
        let seconds = self.certificate_expiry?;
        let since = std::time::Duration::from_secs(seconds.unsigned_abs());
        if seconds >= 0 {
            std::time::UNIX_EPOCH.checked_add(since)
        } else {
            std::time::UNIX_EPOCH.checked_sub(since)
        }
    }

    /// The protocol the server chose by ALPN in the TLS handshake
    /// (`http/1.1`, or one of [`Easy::alpn`](crate::Easy::alpn)'s); `None`
    /// without TLS or when none was agreed on.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.alpn.as_deref()
    }

    /// The TLS version agreed with the server (`TLSv1.3`, `TLSv1.2`;
    /// curl's `-w %{tls_version}` spelling), not with a proxy; `None`
    /// without TLS to the server.
    pub fn tls_version(&self) -> Option<&str> {
        self.tls_session.as_ref().map(|(v, _)| v.as_str())
    }

    /// The cipher suite agreed with the server, by its IANA name
    /// (`TLS_AES_256_GCM_SHA384`); `None` without TLS to the server.
    pub fn tls_cipher(&self) -> Option<&str> {
        self.tls_session.as_ref().map(|(_, c)| c.as_str())
    }

    /// The method of the last answer to the server
    /// (`CURLINFO_HTTPAUTH_USED`, a `CURLAUTH_*` bit; 0 if none).
    pub fn httpauth_used(&self) -> u32 {
        self.httpauth_used
    }

    /// `CURLAUTH_*` bits of the methods the proxy offered in a 407
    /// (`CURLINFO_PROXYAUTH_AVAIL`).
    pub fn proxyauth_avail(&self) -> u32 {
        self.proxyauth_avail
    }

    /// The `CURLAUTH_*` bit of the method used with the proxy
    /// (`CURLINFO_PROXYAUTH_USED`).
    pub fn proxyauth_used(&self) -> u32 {
        self.proxyauth_used
    }

    /// The SOCKS failure detail, a `CURLPX_*` number; 0 if none
    /// (`CURLINFO_PROXY_ERROR`).
    pub fn proxy_error(&self) -> u32 {
        self.proxy_error
    }

    /// True when the transfer went through a proxy (`CURLINFO_USED_PROXY`).
    pub fn used_proxy(&self) -> bool {
        self.used_proxy
    }

    /// The number of the connection the last transfer used, -1 before any
    /// (`CURLINFO_CONN_ID`). Numbers are unique in the process: a reused
    /// connection keeps its number.
    pub fn conn_id(&self) -> i64 {
        self.conn_id
    }

    /// The number of the last transfer, -1 before any (`CURLINFO_XFER_ID`).
    /// Every transfer started (`perform`, or an addition to a `Multi`) gets
    /// the next number of a process-wide counter.
    pub fn xfer_id(&self) -> i64 {
        self.xfer_id
    }
}
