//! The settings of one handle, and the small public types they use.

use std::path::PathBuf;
use std::time::Duration;

use handover_proto::hosts::{ConnectTo, ResolveEntry};

use crate::verbose::Logger;

/// What `perform` does once the connection is set up (`CURLOPT_CONNECT_ONLY`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ConnectOnly {
    /// 0: an ordinary transfer (the default).
    #[default]
    Off,
    /// 1: set up the connection (resolve, TCP, TLS, ...), send nothing, hand it over.
    Connection,
    /// 2: for HTTP and WebSocket, also send the request and read the response
    /// headers, then hand over.
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
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

/// A list of strings, as libcurl's `curl_slist` (used by `resolve` and
/// `connect_to`).
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
    pub fn append(&mut self, item: &str) -> Result<(), crate::Error> {
        if item.contains('\0') {
            return Err(crate::Error::new(
                crate::ErrorKind::BadFunctionArgument,
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
/// libcurl's default happy-eyeballs delay (`CURL_HET_DEFAULT`).
pub(crate) const DEFAULT_HAPPY_EYEBALLS: Duration = Duration::from_millis(200);

/// TLS settings for the connection to the origin. Compared as a whole to
/// decide whether a cached rustls configuration still fits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TlsOptions {
    pub cainfo: Option<PathBuf>,
    pub capath: Option<PathBuf>,
    pub verify_peer: bool,
    pub verify_host: bool,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub min_version: SslVersion,
    pub max_version: SslVersion,
    pub pinned_public_key: Option<String>,
}

impl Default for TlsOptions {
    fn default() -> TlsOptions {
        TlsOptions {
            cainfo: None,
            capath: None,
            verify_peer: true,
            verify_host: true,
            cert: None,
            key: None,
            min_version: SslVersion::Default,
            max_version: SslVersion::Default,
            pinned_public_key: None,
        }
    }
}

/// Socket-level settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SocketOptions {
    pub local_port: u16,
    pub local_port_range: u16,
    pub interface: Option<String>,
    pub tcp_nodelay: bool,
    pub tcp_keepalive: bool,
    pub keepalive_idle: Duration,
    pub keepalive_interval: Duration,
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
        }
    }
}

/// Everything one handle has been told. A transfer takes a copy when it
/// starts, so changing options mid-flight never affects it.
#[derive(Clone, Default)]
pub(crate) struct Options {
    pub url: Option<String>,
    pub connect_only: ConnectOnly,
    pub log: Logger,
    pub connect_timeout: Option<Duration>,
    pub timeout: Option<Duration>,
    pub resolve: Vec<ResolveEntry>,
    pub connect_to: Vec<ConnectTo>,
    pub ip_resolve: IpResolve,
    pub socket: SocketOptions,
    pub tls: TlsOptions,
    pub forbid_reuse: bool,
    pub fresh_connect: bool,
    pub happy_eyeballs: Option<Duration>,
}

impl Options {
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
