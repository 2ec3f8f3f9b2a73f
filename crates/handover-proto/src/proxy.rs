//! Proxy selection: the proxy string, the environment, and no-proxy rules.
//!
//! libcurl decides which proxy a transfer uses in three steps, and this
//! module holds each one as a pure function of its inputs:
//!
//! ```text
//!   CURLOPT_NOPROXY (else no_proxy/NO_PROXY) matches the host? ──yes──> direct
//!        │ no
//!   CURLOPT_PROXY set? ──""──> direct        (an empty string disables the env too)
//!        │ unset
//!   <scheme>_proxy, …, all_proxy, ALL_PROXY ──none──> direct
//!        │ a string
//!   ProxySpec::parse ──> kind, host, port, credentials
//! ```
//!
//! The proxy string is `[scheme://][user[:password]@]host[:port][/]`; its
//! URL syntax is [`crate::url::Url`]'s, so brackets, percent-decoding and
//! port rules are the same as for the transfer URL.
//!
//! Where this module departs from libcurl on purpose, the item's doc says
//! so and why.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use crate::url::Url;

/// `CURLOPT_PROXYTYPE` values that handover supports.
///
/// `CURLPROXY_HTTPS2` (3) and `CURLPROXY_HTTPS3` (8) have no variant:
/// handover speaks HTTP/1.x to proxies only.
///
/// # Examples
///
/// ```
/// use handover_proto::proxy::ProxyKind;
///
/// let kind = ProxyKind::from_scheme("socks5h").unwrap();
/// assert_eq!(kind, ProxyKind::Socks5h);
/// assert_eq!((kind.curl_value(), kind.default_port(), kind.is_socks()), (7, 1080, true));
/// assert_eq!(ProxyKind::from_curl(2), Some(ProxyKind::Https));
/// assert_eq!(ProxyKind::Https.to_string(), "https");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProxyKind {
    /// `CURLPROXY_HTTP` (0): HTTP/1.1 proxy, the default.
    Http,
    /// `CURLPROXY_HTTP_1_0` (1): HTTP/1.0 proxy (CONNECT sent as HTTP/1.0).
    Http10,
    /// `CURLPROXY_HTTPS` (2): HTTP/1.1 proxy reached over TLS.
    Https,
    /// `CURLPROXY_SOCKS4` (4): SOCKS4, the client resolves the target.
    Socks4,
    /// `CURLPROXY_SOCKS5` (5): SOCKS5, the client resolves the target.
    Socks5,
    /// `CURLPROXY_SOCKS4A` (6): SOCKS4a, the proxy resolves the target.
    Socks4a,
    /// `CURLPROXY_SOCKS5_HOSTNAME` (7): SOCKS5, the proxy resolves the target.
    Socks5h,
}

impl ProxyKind {
    /// Every kind, in `CURLOPT_PROXYTYPE` order.
    pub const ALL: [ProxyKind; 7] = [
        ProxyKind::Http,
        ProxyKind::Http10,
        ProxyKind::Https,
        ProxyKind::Socks4,
        ProxyKind::Socks5,
        ProxyKind::Socks4a,
        ProxyKind::Socks5h,
    ];

    /// The kind for a `CURLOPT_PROXYTYPE` value, if handover supports it.
    pub fn from_curl(value: i64) -> Option<ProxyKind> {
        ProxyKind::ALL
            .into_iter()
            .find(|kind| kind.curl_value() == value)
    }

    /// The `CURLOPT_PROXYTYPE` value (`CURLPROXY_*`).
    pub fn curl_value(self) -> i64 {
        match self {
            ProxyKind::Http => 0,
            ProxyKind::Http10 => 1,
            ProxyKind::Https => 2,
            ProxyKind::Socks4 => 4,
            ProxyKind::Socks5 => 5,
            ProxyKind::Socks4a => 6,
            ProxyKind::Socks5h => 7,
        }
    }

    /// The kind a proxy-string scheme names, compared case-insensitively:
    /// `http`, `https`, `socks4`, `socks4a`, `socks5`, `socks5h`, and
    /// `socks`, which libcurl takes as `socks4`.
    ///
    /// `http` gives [`ProxyKind::Http`]; [`ProxySpec::parse`] keeps
    /// [`ProxyKind::Http10`] when that is the configured type, as libcurl does.
    pub fn from_scheme(scheme: &str) -> Option<ProxyKind> {
        if scheme.eq_ignore_ascii_case("socks") {
            return Some(ProxyKind::Socks4);
        }
        ProxyKind::ALL
            .into_iter()
            .filter(|&kind| kind != ProxyKind::Http10)
            .find(|kind| kind.scheme().eq_ignore_ascii_case(scheme))
    }

    /// The scheme written before `://` for this kind (`http` for both
    /// HTTP versions).
    pub fn scheme(self) -> &'static str {
        match self {
            ProxyKind::Http | ProxyKind::Http10 => "http",
            ProxyKind::Https => "https",
            ProxyKind::Socks4 => "socks4",
            ProxyKind::Socks5 => "socks5",
            ProxyKind::Socks4a => "socks4a",
            ProxyKind::Socks5h => "socks5h",
        }
    }

    /// The port used when neither the proxy string nor `CURLOPT_PROXYPORT`
    /// names one: 443 for `https://` proxies, 1080 for all others.
    ///
    /// 1080 for HTTP proxies is what libcurl documents and what 7.88.1
    /// does. libcurl 8.21 and later use the scheme default 80 for a
    /// port-less `http://` proxy (a side effect of its peer refactor), which
    /// contradicts its own documentation; handover follows the documentation.
    pub fn default_port(self) -> u16 {
        match self {
            ProxyKind::Https => 443,
            _ => 1080,
        }
    }

    /// Whether this is one of the SOCKS kinds.
    pub fn is_socks(self) -> bool {
        matches!(
            self,
            ProxyKind::Socks4 | ProxyKind::Socks4a | ProxyKind::Socks5 | ProxyKind::Socks5h
        )
    }

    /// Whether this is an HTTP proxy (plain or TLS, either HTTP version).
    pub fn is_http(self) -> bool {
        matches!(self, ProxyKind::Http | ProxyKind::Http10 | ProxyKind::Https)
    }
}

impl fmt::Display for ProxyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scheme())
    }
}

message_error! {
    /// A proxy string that could not be used. The message never quotes the
    /// string, so credentials in it cannot reach a log.
    ///
    /// # Examples
    ///
    /// ```
    /// use handover_proto::proxy::{ProxyKind, ProxySpec};
    ///
    /// let error = ProxySpec::parse("ftp://u:secret@host", ProxyKind::Http, None).unwrap_err();
    /// assert!(!error.to_string().contains("secret"));
    /// ```
    ProxyError
}

/// A parsed `CURLOPT_PROXY` (or environment) proxy string.
///
/// # Examples
///
/// ```
/// use handover_proto::proxy::{ProxyKind, ProxySpec};
///
/// let spec = ProxySpec::parse("socks5h://alice:s%40cret@[::1]", ProxyKind::Http, None)?;
/// assert_eq!(spec.kind, ProxyKind::Socks5h);
/// assert_eq!(spec.host_port(), "[::1]:1080"); // the kind's default port
/// assert_eq!(spec.password.as_deref(), Some("s@cret"));
/// assert_eq!(spec.to_string(), "socks5h://[::1]:1080"); // no credentials
///
/// // No scheme: CURLOPT_PROXYTYPE and CURLOPT_PROXYPORT decide.
/// let spec = ProxySpec::parse("proxy.corp", ProxyKind::Https, Some(8443))?;
/// assert_eq!((spec.kind, spec.port), (ProxyKind::Https, 8443));
/// # Ok::<(), handover_proto::proxy::ProxyError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ProxySpec {
    /// What kind of proxy it is.
    pub kind: ProxyKind,
    /// Host name or IP address; an IPv6 literal without brackets.
    pub host: String,
    /// The port to connect to.
    pub port: u16,
    /// User name from the string, percent-decoded.
    pub user: Option<String>,
    /// Password from the string, percent-decoded.
    pub password: Option<String>,
}

impl ProxySpec {
    /// Parses a proxy string, `[scheme://][user[:password]@]host[:port][/]`.
    ///
    /// Without a scheme the kind is `default_kind` (`CURLOPT_PROXYTYPE`);
    /// an `http://` scheme keeps [`ProxyKind::Http10`] when that is the
    /// default, as libcurl does. Without a port the port is `proxy_port`
    /// (`CURLOPT_PROXYPORT`) when that is set and non-zero, else
    /// [`ProxyKind::default_port`]. A path, query or fragment is ignored,
    /// as libcurl ignores it.
    ///
    /// Errors: an empty string (the caller treats `""` as "no proxy"
    /// before parsing), an unknown scheme, CR, LF or NUL anywhere, URL
    /// syntax errors, and an explicit port 0 (libcurl would accept it and
    /// then fail to connect).
    pub fn parse(
        s: &str,
        default_kind: ProxyKind,
        proxy_port: Option<u16>,
    ) -> Result<ProxySpec, ProxyError> {
        if s.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(ProxyError(
                "proxy string contains a CR, LF or NUL character".into(),
            ));
        }
        if s.is_empty() {
            return Err(ProxyError("empty proxy string".into()));
        }
        let (kind, text) = match explicit_scheme(s) {
            Some(scheme) => {
                let kind = ProxyKind::from_scheme(scheme)
                    .ok_or_else(|| ProxyError(format!("unsupported proxy scheme \"{scheme}\"")))?;
                let kind = if kind == ProxyKind::Http && default_kind == ProxyKind::Http10 {
                    ProxyKind::Http10
                } else {
                    kind
                };
                (kind, Cow::Borrowed(s))
            }
            None => (
                default_kind,
                Cow::Owned(format!("{}://{s}", default_kind.scheme())),
            ),
        };
        let url = Url::parse(&text).map_err(|e| ProxyError(format!("bad proxy string: {e}")))?;
        let port = match url.port {
            Some(0) => return Err(ProxyError("proxy port 0 is not usable".into())),
            Some(port) => port,
            None => proxy_port
                .filter(|&port| port != 0)
                .unwrap_or_else(|| kind.default_port()),
        };
        // Unlike a transfer's HTTP URL, a proxy string's credentials may not
        // hold control characters whatever the scheme (libcurl decodes them
        // with curl_url_get's URLDECODE, which refuses them).
        for (what, value) in [("user name", &url.user), ("password", &url.password)] {
            if value
                .as_deref()
                .is_some_and(|v| v.chars().any(char::is_control))
            {
                return Err(ProxyError(format!(
                    "bad proxy string: {what} contains a control character"
                )));
            }
        }
        // "http://@proxy" names no user; libcurl sends no credentials for it.
        let user = match (&url.user, &url.password) {
            (Some(user), None) if user.is_empty() => None,
            _ => url.user,
        };
        Ok(ProxySpec {
            kind,
            host: url.host,
            port,
            user,
            password: url.password,
        })
    }

    /// `host:port`, with an IPv6 host in brackets: `[::1]:3128`.
    pub fn host_port(&self) -> String {
        crate::url::authority(&self.host, self.port)
    }
}

/// What one entry of a proxy chain may say of itself in its query, for the
/// settings libcurl, with one proxy, has once for all:
/// `https://proxy.corp:443?auth=ntlm&cacert=corp.pem&insecure=0`.
///
/// - `auth`: the methods this hop may answer a 407 with, comma-separated:
///   `basic`, `digest`, `ntlm`, or `any`;
/// - `cacert`: CA certificates (PEM file) for the TLS to this `https://`
///   proxy;
/// - `insecure`: `1` (or `true`, `yes`) not to verify this proxy's
///   certificate, `0` (`false`, `no`) to verify it.
///
/// Values are percent-decoded. An unknown key or value is an error: a
/// typing mistake must not quietly weaken a hop's settings.
///
/// ```
/// use handover_proto::proxy::HopOptions;
/// let o = HopOptions::parse("https://p:443/?auth=digest,ntlm&cacert=%2Fetc%2Fcorp.pem")?;
/// assert_eq!(o.auth.as_deref(), Some(&["digest".to_owned(), "ntlm".to_owned()][..]));
/// assert_eq!(o.cacert.as_deref(), Some("/etc/corp.pem"));
/// assert_eq!(o.insecure, None);
/// assert!(HopOptions::parse("socks5h://b:1080?cacert=x&verify=no").is_err());
/// # Ok::<(), handover_proto::proxy::ProxyError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct HopOptions {
    /// `auth=`: the method names, lowercase (`any` stands alone).
    pub auth: Option<Vec<String>>,
    /// `cacert=`: a CA file for TLS to the proxy.
    pub cacert: Option<String>,
    /// `insecure=`: whether to skip verifying the proxy's certificate.
    pub insecure: Option<bool>,
}

impl HopOptions {
    /// The options in `s`'s query (none without one).
    pub fn parse(s: &str) -> Result<HopOptions, ProxyError> {
        let mut options = HopOptions::default();
        let Some((_, query)) = s.split_once('?') else {
            return Ok(options);
        };
        let query = query.split('#').next().unwrap_or_default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
            let value = String::from_utf8(crate::url::percent_decode(raw))
                .map_err(|_| ProxyError(format!("proxy option {key}: not UTF-8")))?;
            match key {
                "auth" => {
                    let names: Vec<String> = value
                        .split(',')
                        .map(|n| n.trim().to_ascii_lowercase())
                        .collect();
                    for name in &names {
                        if !matches!(name.as_str(), "basic" | "digest" | "ntlm" | "any") {
                            return Err(ProxyError(format!(
                                "proxy option auth={value}: {name:?} is not basic, digest, ntlm or any"
                            )));
                        }
                    }
                    options.auth = Some(names);
                }
                "cacert" if !value.is_empty() => options.cacert = Some(value),
                "insecure" => {
                    options.insecure = Some(match value.to_ascii_lowercase().as_str() {
                        "1" | "true" | "yes" | "" => true,
                        "0" | "false" | "no" => false,
                        other => {
                            return Err(ProxyError(format!(
                                "proxy option insecure={other}: expected 1 or 0"
                            )))
                        }
                    })
                }
                _ => {
                    return Err(ProxyError(format!(
                        "unknown proxy option {key:?} (a chain hop takes auth, cacert, insecure)"
                    )))
                }
            }
        }
        Ok(options)
    }
}

/// The scheme before `://`, when `s` starts with one. Anything before
/// `://` that is not scheme-shaped (`user:pa://ss@host`) is no scheme.
fn explicit_scheme(s: &str) -> Option<&str> {
    let (candidate, _) = s.split_once("://")?;
    let mut chars = candidate.chars();
    let starts_alpha = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (starts_alpha && rest_ok).then_some(candidate)
}

impl fmt::Display for ProxySpec {
    /// `scheme://host:port`; credentials are never shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.kind.scheme(), self.host_port())
    }
}

impl fmt::Debug for ProxySpec {
    /// Like a derived `Debug`, except that the password is redacted so a
    /// `{:?}` in a log line cannot leak it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxySpec")
            .field("kind", &self.kind)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The proxy the environment names for a transfer with URL scheme
/// `scheme`, looked up the way libcurl does when `CURLOPT_PROXY` is unset
/// (`proxy_detect_proxy()` in `lib/proxy.c`). `get` reads one variable.
///
/// Order, first non-empty value wins (an empty value counts as unset, as
/// `curl_getenv` makes it):
///
/// 1. for schemes other than `http` and `https`: `<scheme>_proxy`, then
///    `<SCHEME>_PROXY`;
/// 2. for `https` and `wss`: `https_proxy`, then `HTTPS_PROXY`; for `http`
///    and `ws`: `http_proxy` only — never `HTTP_PROXY`, because CGI
///    programs get a request's `Proxy:` header as `HTTP_PROXY`;
/// 3. `all_proxy`, then `ALL_PROXY`.
///
/// So `ws` tries `ws_proxy`/`WS_PROXY` before `http_proxy`, and `wss`
/// tries `wss_proxy`/`WSS_PROXY` before `https_proxy`: libcurl master's
/// scheme-specific step skips only `http` and `https`, so `ws` and `wss`
/// pass through it before falling back to the HTTP(S) variables.
///
/// # Examples
///
/// ```
/// use handover_proto::proxy::proxy_from_env;
///
/// let env = |name: &str| match name {
///     "HTTP_PROXY" => Some("http://never.used:1".to_string()),
///     "https_proxy" => Some("http://proxy.corp:3128".to_string()),
///     _ => None,
/// };
/// assert_eq!(proxy_from_env("wss", env).as_deref(), Some("http://proxy.corp:3128"));
/// assert_eq!(proxy_from_env("http", env), None); // HTTP_PROXY is never read
/// // In a program: proxy_from_env("https", |name| std::env::var(name).ok())
/// ```
pub fn proxy_from_env(scheme: &str, get: impl Fn(&str) -> Option<String>) -> Option<String> {
    let get = |name: &str| get(name).filter(|value| !value.is_empty());
    let scheme = scheme.to_ascii_lowercase();
    let scheme_ok = !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    let mut found = None;
    if scheme_ok && scheme != "http" && scheme != "https" {
        found = get(&format!("{scheme}_proxy"))
            .or_else(|| get(&format!("{}_PROXY", scheme.to_ascii_uppercase())));
    }
    if found.is_none() {
        found = match scheme.as_str() {
            "https" | "wss" => get("https_proxy").or_else(|| get("HTTPS_PROXY")),
            "http" | "ws" => get("http_proxy"),
            _ => None,
        };
    }
    found
        .or_else(|| get("all_proxy"))
        .or_else(|| get("ALL_PROXY"))
}

/// The no-proxy list from the environment, used when `CURLOPT_NOPROXY` is
/// unset: `no_proxy`, then `NO_PROXY`; empty values count as unset.
pub fn noproxy_from_env(get: impl Fn(&str) -> Option<String>) -> Option<String> {
    let get = |name: &str| get(name).filter(|value| !value.is_empty());
    get("no_proxy").or_else(|| get("NO_PROXY"))
}

/// A parsed `CURLOPT_NOPROXY` / `no_proxy` list: hosts reached without the
/// proxy.
///
/// Rules, as libcurl's `proxy_check_noproxy()`:
///
/// - The list is `*` (alone) to match every host, or entries separated by
///   commas and whitespace.
/// - A host name matches an entry equal to it or a domain suffix of it at
///   a label boundary: `example.com` matches `example.com` and
///   `www.example.com`, not `myexample.com`. Case-insensitive; one leading
///   and one trailing `.` of an entry, and one trailing `.` of the host,
///   are ignored.
/// - An IP-literal host (IPv6 with or without brackets) matches only IP
///   entries of its family: an address (exact) or a CIDR prefix
///   `192.168.0.0/16`, `fe80::/10`. An entry with a prefix length that is
///   not a decimal number within the family's width never matches.
///
/// Deliberate differences from libcurl:
///
/// - Whitespace separates entries. libcurl stops reading the list at the
///   first entry followed by a blank and then something other than a
///   comma, so `"a.com b.com"` only exempts `a.com` there.
/// - `*` surrounded by whitespace still means every host (libcurl wants
///   the string to be exactly `*`).
/// - `/0` means the whole address family, as CIDR does. libcurl treats a
///   zero prefix as "no prefix given", so `10.0.0.0/0` only matches
///   `10.0.0.0` there.
/// - IPv6 entries in brackets (`[::1]`, `[fe80::]/10`) work; libcurl only
///   understands them without brackets.
/// - A host with a zone id (`fe80::1%eth0`) is matched by its address.
///
/// # Examples
///
/// ```
/// use handover_proto::proxy::NoProxy;
///
/// let list = NoProxy::parse("example.com, .internal 10.0.0.0/8 [::1]");
/// assert!(list.matches("www.example.com"));
/// assert!(!list.matches("myexample.com"));
/// assert!(list.matches("db.internal"));
/// assert!(list.matches("10.1.2.3"));
/// assert!(list.matches("[::1]"));
/// assert!(NoProxy::parse("*").matches("anything"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {
    everything: bool,
    entries: Vec<NoProxyEntry>,
}

/// One list entry, pre-digested for both kinds of host.
#[derive(Clone, Debug, PartialEq, Eq)]
struct NoProxyEntry {
    /// Compared with host names: lowercase, outer dots removed; may be empty.
    name: String,
    /// Compared with IP-literal hosts: a network and its prefix length (the
    /// full width for a plain address); `None` if the entry is no valid one.
    net: Option<(IpAddr, u8)>,
}

impl NoProxy {
    /// Parses a no-proxy list; every input gives a list (entries that can
    /// match nothing are simply never matched).
    pub fn parse(list: &str) -> NoProxy {
        // The same whitespace as the separators below (ASCII only): a
        // vertical tab is part of an entry, not space around `*`.
        if list.trim_matches(|c: char| c.is_ascii_whitespace()) == "*" {
            return NoProxy {
                everything: true,
                entries: Vec::new(),
            };
        }
        let entries = list
            .split(|c: char| c == ',' || c.is_ascii_whitespace())
            .filter(|token| !token.is_empty())
            .map(|token| NoProxyEntry {
                name: entry_name(token),
                net: entry_net(token),
            })
            .collect();
        NoProxy {
            everything: false,
            entries,
        }
    }

    /// Whether a connection to `host` should bypass the proxy. An empty
    /// host never matches, not even `*` (as in libcurl).
    pub fn matches(&self, host: &str) -> bool {
        if host.is_empty() {
            return false;
        }
        if self.everything {
            return true;
        }
        match host_ip(host) {
            Some(ip) => self
                .entries
                .iter()
                .filter_map(|entry| entry.net)
                .any(|(net, prefix)| in_network(ip, net, prefix)),
            None => {
                let name = host.strip_suffix('.').unwrap_or(host).as_bytes();
                self.entries
                    .iter()
                    .any(|entry| name_matches(name, entry.name.as_bytes()))
            }
        }
    }

    /// Whether the list matches no host at all (`""` or only separators).
    pub fn is_empty(&self) -> bool {
        !self.everything && self.entries.is_empty()
    }
}

fn entry_name(token: &str) -> String {
    let token = token.strip_suffix('.').unwrap_or(token);
    let token = token.strip_prefix('.').unwrap_or(token);
    token.to_ascii_lowercase()
}

/// The network an entry names: `addr`, `addr/bits`, `[v6]` or `[v6]/bits`.
fn entry_net(token: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = match token.strip_prefix('[') {
        Some(rest) => {
            let (addr, after) = rest.split_once(']')?;
            let bits = match after {
                "" => None,
                _ => Some(after.strip_prefix('/')?),
            };
            (addr, bits)
        }
        None => match token.split_once('/') {
            Some((addr, bits)) => (addr, Some(bits)),
            None => (token, None),
        },
    };
    let addr: IpAddr = addr.parse().ok()?;
    let width = family_width(addr);
    let prefix = match bits {
        None => width,
        Some(bits) => {
            if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Saturating: any value past the width is as invalid as 129.
            let value = bits.bytes().fold(0u32, |value, digit| {
                (value * 10 + u32::from(digit - b'0')).min(1000)
            });
            u8::try_from(value).ok().filter(|&bits| bits <= width)?
        }
    };
    Some((addr, prefix))
}

fn family_width(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// The host as an IP address, if it is a literal: IPv4, or IPv6 with or
/// without brackets, with any zone id set aside.
fn host_ip(host: &str) -> Option<IpAddr> {
    let inner = host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host);
    let addr = inner.split_once('%').map_or(inner, |(addr, _)| addr);
    let ip: IpAddr = addr.parse().ok()?;
    // A zone id belongs to IPv6 only; "1.2.3.4%x" is no literal.
    (ip.is_ipv6() || addr.len() == inner.len()).then_some(ip)
}

fn in_network(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX
                .checked_shl(32u32.saturating_sub(prefix.into()))
                .unwrap_or(0);
            (u32::from(ip) ^ u32::from(net)) & mask == 0
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX
                .checked_shl(128u32.saturating_sub(prefix.into()))
                .unwrap_or(0);
            (u128::from(ip) ^ u128::from(net)) & mask == 0
        }
        _ => false,
    }
}

/// `name` equals `entry`, or ends with `.` + `entry`; ASCII case-insensitive.
fn name_matches(name: &[u8], entry: &[u8]) -> bool {
    if entry.is_empty() || entry.len() > name.len() {
        return false;
    }
    let (front, tail) = name.split_at(name.len() - entry.len());
    tail.eq_ignore_ascii_case(entry) && (front.is_empty() || front.ends_with(b"."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_alone_means_ascii_whitespace_around_it_only() {
        // Found by the proxy_noproxy fuzz target: `*` + VT was "everything"
        // while VT did not separate entries.
        assert!(NoProxy::parse(" * ").matches("example.com"));
        assert!(NoProxy::parse("\t*\n").matches("example.com"));
        let vt = NoProxy::parse("*\u{b}");
        assert!(!vt.matches("example.com"));
        assert_eq!(
            vt.matches("example.com"),
            NoProxy::parse("*\u{b},").matches("example.com")
        );
    }
    use crate::testing::{for_each_str_split, Garbage};
    use std::collections::HashMap;

    /// Environment variables, for table rows.
    type Vars<'a> = &'a [(&'a str, &'a str)];

    fn spec(
        kind: ProxyKind,
        host: &str,
        port: u16,
        user: Option<&str>,
        pw: Option<&str>,
    ) -> ProxySpec {
        ProxySpec {
            kind,
            host: host.into(),
            port,
            user: user.map(Into::into),
            password: pw.map(Into::into),
        }
    }

    #[test]
    fn curl_values_round_trip_and_unsupported_ones_are_none() {
        for kind in ProxyKind::ALL {
            assert_eq!(ProxyKind::from_curl(kind.curl_value()), Some(kind));
        }
        for value in [-1, 3, 8, 9, i64::MAX, i64::MIN] {
            assert_eq!(ProxyKind::from_curl(value), None, "{value}");
        }
    }

    #[test]
    fn kinds_know_their_scheme_port_and_family() {
        use ProxyKind::*;
        let cases = [
            (Http, "http", 1080, false, true),
            (Http10, "http", 1080, false, true),
            (Https, "https", 443, false, true),
            (Socks4, "socks4", 1080, true, false),
            (Socks5, "socks5", 1080, true, false),
            (Socks4a, "socks4a", 1080, true, false),
            (Socks5h, "socks5h", 1080, true, false),
        ];
        for (kind, scheme, port, socks, http) in cases {
            assert_eq!(kind.scheme(), scheme, "{kind:?}");
            assert_eq!(kind.default_port(), port, "{kind:?}");
            assert_eq!(kind.is_socks(), socks, "{kind:?}");
            assert_eq!(kind.is_http(), http, "{kind:?}");
        }
        let schemes = [
            ("http", Some(Http)),
            ("HTTP", Some(Http)),
            ("https", Some(Https)),
            ("socks", Some(Socks4)),
            ("SOCKS4", Some(Socks4)),
            ("socks4a", Some(Socks4a)),
            ("Socks5", Some(Socks5)),
            ("socks5h", Some(Socks5h)),
            ("ftp", None),
            ("", None),
            ("socks6", None),
        ];
        for (scheme, kind) in schemes {
            assert_eq!(ProxyKind::from_scheme(scheme), kind, "{scheme}");
        }
    }

    #[test]
    fn proxy_strings_parse_into_their_parts() {
        use ProxyKind::*;
        let cases: &[(&str, ProxyKind, Option<u16>, ProxySpec)] = &[
            ("proxy", Http, None, spec(Http, "proxy", 1080, None, None)),
            (
                "proxy:3128",
                Http,
                None,
                spec(Http, "proxy", 3128, None, None),
            ),
            (
                "proxy:3128/",
                Http,
                None,
                spec(Http, "proxy", 3128, None, None),
            ),
            ("proxy/", Http, None, spec(Http, "proxy", 1080, None, None)),
            ("proxy:", Http, None, spec(Http, "proxy", 1080, None, None)),
            (
                "http://proxy",
                Http,
                None,
                spec(Http, "proxy", 1080, None, None),
            ),
            (
                "HTTP://Proxy",
                Http,
                None,
                spec(Http, "Proxy", 1080, None, None),
            ),
            (
                "https://proxy",
                Http,
                None,
                spec(Https, "proxy", 443, None, None),
            ),
            (
                "https://proxy",
                Http,
                Some(8443),
                spec(Https, "proxy", 8443, None, None),
            ),
            (
                "socks4://s",
                Http,
                None,
                spec(Socks4, "s", 1080, None, None),
            ),
            ("socks://s", Http, None, spec(Socks4, "s", 1080, None, None)),
            (
                "socks4a://s",
                Http,
                None,
                spec(Socks4a, "s", 1080, None, None),
            ),
            (
                "socks5://s:9050",
                Http,
                None,
                spec(Socks5, "s", 9050, None, None),
            ),
            (
                "socks5h://s",
                Https,
                None,
                spec(Socks5h, "s", 1080, None, None),
            ),
            // No scheme: CURLOPT_PROXYTYPE decides, ports follow the kind.
            ("s", Socks5h, None, spec(Socks5h, "s", 1080, None, None)),
            ("s", Https, None, spec(Https, "s", 443, None, None)),
            (
                "ftp.example",
                Http,
                None,
                spec(Http, "ftp.example", 1080, None, None),
            ),
            // http:// keeps HTTP/1.0 when that is the configured type.
            (
                "http://p",
                Http10,
                None,
                spec(Http10, "p", 1080, None, None),
            ),
            ("p", Http10, None, spec(Http10, "p", 1080, None, None)),
            ("https://p", Http10, None, spec(Https, "p", 443, None, None)),
            // CURLOPT_PROXYPORT applies only when the string has no port.
            ("p", Http, Some(8080), spec(Http, "p", 8080, None, None)),
            (
                "p:3128",
                Http,
                Some(8080),
                spec(Http, "p", 3128, None, None),
            ),
            ("p", Http, Some(0), spec(Http, "p", 1080, None, None)),
            // Credentials are percent-decoded.
            (
                "u:p@proxy",
                Http,
                None,
                spec(Http, "proxy", 1080, Some("u"), Some("p")),
            ),
            (
                "http://me%40corp:p%40ss%3Aw@proxy:8080",
                Http,
                None,
                spec(Http, "proxy", 8080, Some("me@corp"), Some("p@ss:w")),
            ),
            (
                "u@proxy",
                Http,
                None,
                spec(Http, "proxy", 1080, Some("u"), None),
            ),
            (
                "u:@proxy",
                Http,
                None,
                spec(Http, "proxy", 1080, Some("u"), Some("")),
            ),
            (
                ":pw@proxy",
                Http,
                None,
                spec(Http, "proxy", 1080, Some(""), Some("pw")),
            ),
            ("@proxy", Http, None, spec(Http, "proxy", 1080, None, None)),
            // IPv6 literals lose their brackets.
            (
                "[::1]:3128",
                Http,
                None,
                spec(Http, "::1", 3128, None, None),
            ),
            (
                "http://[::1]",
                Http,
                None,
                spec(Http, "::1", 1080, None, None),
            ),
            (
                "socks5://u:p@[2001:db8::1]:1081",
                Http,
                None,
                spec(Socks5, "2001:db8::1", 1081, Some("u"), Some("p")),
            ),
            (
                "10.0.0.5:3128",
                Http,
                None,
                spec(Http, "10.0.0.5", 3128, None, None),
            ),
            // A path or query is ignored, as libcurl ignores it.
            (
                "http://proxy:3128/some/path?q",
                Http,
                None,
                spec(Http, "proxy", 3128, None, None),
            ),
        ];
        for (input, default_kind, proxy_port, expected) in cases {
            assert_eq!(
                ProxySpec::parse(input, *default_kind, *proxy_port).as_ref(),
                Ok(expected),
                "{input:?} with {default_kind:?} {proxy_port:?}"
            );
        }
    }

    #[test]
    fn bad_proxy_strings_say_why_without_quoting_credentials() {
        let cases = [
            ("", "empty"),
            ("ftp://proxy", "unsupported proxy scheme \"ftp\""),
            ("socks6://proxy", "unsupported proxy scheme"),
            ("proxy\r\nX: y", "CR, LF or NUL"),
            ("http://u:se\ncret@proxy", "CR, LF or NUL"),
            ("proxy\0", "CR, LF or NUL"),
            ("proxy:99999", "bad proxy string"),
            ("proxy:0", "port 0"),
            ("proxy:12ab", "bad proxy string"),
            ("http://", "bad proxy string"),
            ("http://u:secret@", "bad proxy string"),
            ("[::1", "bad proxy string"),
            ("http://[::1]x", "bad proxy string"),
            ("pro xy", "bad proxy string"),
            ("http://u:sec%0Aret@proxy", "bad proxy string"),
        ];
        for (input, needle) in cases {
            let err = ProxySpec::parse(input, ProxyKind::Http, None)
                .expect_err(input)
                .to_string();
            assert!(err.contains(needle), "{input:?}: {err}");
            assert!(
                !err.contains("secret") && !err.contains("se\ncret"),
                "{input:?}: {err}"
            );
        }
    }

    #[test]
    fn display_and_debug_never_show_the_password() {
        let p = ProxySpec::parse("http://user:hunter2@[::1]:3128", ProxyKind::Http, None).unwrap();
        assert_eq!(p.to_string(), "http://[::1]:3128");
        assert_eq!(p.host_port(), "[::1]:3128");
        let debug = format!("{p:?}");
        assert!(
            !debug.contains("hunter2") && debug.contains("<redacted>"),
            "{debug}"
        );
        let p = ProxySpec::parse("socks5h://proxy", ProxyKind::Http, None).unwrap();
        assert_eq!(p.to_string(), "socks5h://proxy:1080");
        assert_eq!(p.host_port(), "proxy:1080");
    }

    #[test]
    fn every_prefix_and_suffix_of_proxy_strings_parses_or_errors() {
        let inputs = [
            "socks5h://me%40corp:p%40ss@[fe80::1%25eth0]:1080/",
            "http://u:p@proxy.example:3128/path?q#f",
            "[::ffff:10.0.0.1]:8080",
            "h\u{e9}://\u{1f600}@x",
        ];
        for input in inputs {
            for_each_str_split(input, |_, head, tail| {
                for part in [head, tail] {
                    for kind in ProxyKind::ALL {
                        let _ = ProxySpec::parse(part, kind, Some(1));
                    }
                }
            });
        }
        let mut garbage = Garbage::new(7);
        for _ in 0..2000 {
            let len = (garbage.next_u64() % 40) as usize;
            let alphabet = b"http:/[]@%:.0123456789abcdefs5\r\0 ,*";
            let bytes: Vec<u8> = garbage
                .bytes(len)
                .into_iter()
                .map(|b| alphabet[usize::from(b) % alphabet.len()])
                .collect();
            if let Ok(text) = std::str::from_utf8(&bytes) {
                let _ = ProxySpec::parse(text, ProxyKind::Http, None);
                let list = NoProxy::parse(text);
                let _ = list.matches(text);
                let _ = list.matches("::1");
                let _ = list.matches("10.0.0.1");
            }
        }
    }

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    #[test]
    fn environment_proxy_follows_libcurls_lookup_order() {
        let cases: &[(&str, Vars, Option<&str>)] = &[
            ("http", &[("http_proxy", "a")], Some("a")),
            // HTTP_PROXY is never read: CGI puts a request's Proxy: header there.
            ("http", &[("HTTP_PROXY", "evil")], None),
            (
                "http",
                &[("HTTP_PROXY", "evil"), ("ALL_PROXY", "all")],
                Some("all"),
            ),
            ("HTTP", &[("http_proxy", "a")], Some("a")),
            (
                "https",
                &[("https_proxy", "a"), ("HTTPS_PROXY", "b")],
                Some("a"),
            ),
            ("https", &[("HTTPS_PROXY", "b")], Some("b")),
            (
                "https",
                &[("https_proxy", ""), ("HTTPS_PROXY", "b")],
                Some("b"),
            ),
            ("https", &[("http_proxy", "a")], None),
            ("http", &[("https_proxy", "a")], None),
            (
                "https",
                &[("all_proxy", "c"), ("ALL_PROXY", "d")],
                Some("c"),
            ),
            ("https", &[("ALL_PROXY", "socks5://d")], Some("socks5://d")),
            ("https", &[("all_proxy", ""), ("ALL_PROXY", "d")], Some("d")),
            ("http", &[("http_proxy", ""), ("all_proxy", "c")], Some("c")),
            ("http", &[("http_proxy", ""), ("all_proxy", "")], None),
            // Other schemes: <scheme>_proxy, then uppercase, then all_proxy.
            (
                "telnet",
                &[("telnet_proxy", "t"), ("TELNET_PROXY", "T")],
                Some("t"),
            ),
            (
                "telnet",
                &[("TELNET_PROXY", "T"), ("all_proxy", "c")],
                Some("T"),
            ),
            (
                "telnet",
                &[("http_proxy", "a"), ("all_proxy", "c")],
                Some("c"),
            ),
            ("dict", &[("https_proxy", "a")], None),
            // ws/wss: their own variables, then the http/https rules.
            ("ws", &[("ws_proxy", "w"), ("http_proxy", "a")], Some("w")),
            ("ws", &[("WS_PROXY", "W"), ("http_proxy", "a")], Some("W")),
            ("ws", &[("http_proxy", "a")], Some("a")),
            ("ws", &[("HTTP_PROXY", "evil")], None),
            (
                "wss",
                &[("HTTPS_PROXY", "b"), ("http_proxy", "a")],
                Some("b"),
            ),
            (
                "wss",
                &[("wss_proxy", "s"), ("https_proxy", "a")],
                Some("s"),
            ),
            ("wss", &[("http_proxy", "a")], None),
            ("", &[("_proxy", "x"), ("all_proxy", "c")], Some("c")),
            ("a=b", &[("a=b_proxy", "x")], None),
            ("http", &[], None),
        ];
        for (scheme, vars, expected) in cases {
            assert_eq!(
                proxy_from_env(scheme, env(vars)).as_deref(),
                *expected,
                "{scheme} {vars:?}"
            );
        }
    }

    #[test]
    fn environment_no_proxy_prefers_lowercase_and_skips_empty_values() {
        let cases: &[(Vars, Option<&str>)] = &[
            (&[("no_proxy", "a"), ("NO_PROXY", "b")], Some("a")),
            (&[("NO_PROXY", "b")], Some("b")),
            (&[("no_proxy", ""), ("NO_PROXY", "b")], Some("b")),
            (&[("no_proxy", "")], None),
            (&[], None),
        ];
        for (vars, expected) in cases {
            assert_eq!(
                noproxy_from_env(env(vars)).as_deref(),
                *expected,
                "{vars:?}"
            );
        }
    }

    #[test]
    fn no_proxy_lists_match_like_libcurl() {
        let cases: &[(&str, &str, bool)] = &[
            // Wildcard.
            ("*", "anything.example", true),
            ("*", "10.0.0.1", true),
            ("*", "::1", true),
            (" * ", "example.com", true),
            ("*", "", false),
            ("*,example.com", "other.org", false),
            ("*.example.com", "www.example.com", false),
            // Empty lists match nothing.
            ("", "example.com", false),
            (" , ,", "example.com", false),
            // Names: exact or suffix at a label boundary.
            ("example.com", "example.com", true),
            ("example.com", "www.example.com", true),
            ("example.com", "a.b.example.com", true),
            ("example.com", "myexample.com", false),
            ("example.com", "example.com.org", false),
            ("example.com", "example.co", false),
            ("example.com", "com", false),
            ("ample.com", "www.example.com", false),
            (".example.com", "example.com", true),
            (".example.com", "www.example.com", true),
            ("example.com.", "www.example.com", true),
            (".example.com.", "example.com", true),
            ("example.com", "example.com.", true),
            ("example.com", "www.example.com.", true),
            ("example.com", "example.com..", false),
            ("EXAMPLE.com", "www.Example.COM", true),
            ("com", "example.com", true),
            (".", "example.com", false),
            ("..", "example.com", false),
            (".", ".", false),
            ("localhost", "localhost", true),
            ("localhost", "127.0.0.1", false),
            // Lists: commas, blanks, tabs, repeated separators.
            ("a.org,example.com", "example.com", true),
            ("a.org, example.com", "example.com", true),
            ("a.org ,, ,example.com ", "x.example.com", true),
            ("a.org\texample.com", "example.com", true),
            ("a.org example.com", "example.com", true),
            ("a.org,b.org", "example.com", false),
            // IPv4: exact and CIDR; names never match IP hosts.
            ("10.0.0.1", "10.0.0.1", true),
            ("10.0.0.1", "10.0.0.2", false),
            ("10.0.0.1", "10.0.0.1.", true),
            ("192.168.0.0/16", "192.168.200.7", true),
            ("192.168.0.0/16", "192.169.0.1", false),
            ("192.168.1.1/16", "192.168.77.77", true),
            ("10.0.0.0/8", "10.255.255.255", true),
            ("10.0.0.0/8", "11.0.0.0", false),
            ("10.1.2.3/32", "10.1.2.3", true),
            ("10.1.2.3/32", "10.1.2.4", false),
            ("10.1.2.3/31", "10.1.2.2", true),
            ("10.1.2.3/31", "10.1.2.4", false),
            ("0.0.0.0/0", "203.0.113.9", true),
            ("10.0.0.0/0", "203.0.113.9", true),
            ("0.0.0.0/0", "::1", false),
            ("0.0.0.0/0", "example.com", false),
            ("10.0.0.0/33", "10.0.0.0", false),
            ("10.0.0.0/128", "10.0.0.0", false),
            ("10.0.0.0/", "10.0.0.0", false),
            ("10.0.0.0/8x", "10.0.0.1", false),
            ("10.0.0.0/-8", "10.0.0.1", false),
            ("10.0.0.0/+8", "10.0.0.1", false),
            ("10.0.0.0/0008", "10.0.0.1", true),
            ("10.0.0.0/008", "10.0.0.1", true),
            ("10.0.0.0/99999999999999999999", "10.0.0.1", false),
            ("10.0.0.0/8/8", "10.0.0.1", false),
            ("10.0.0.0/8", "10.0.0.0.example.com", false),
            ("10.0.0", "10.0.0.1", false),
            ("10.0.0.01", "10.0.0.1", false),
            (".10.0.0.1", "10.0.0.1", false),
            // IPv6: written without (or with) brackets, hosts either way.
            ("::1", "::1", true),
            ("::1", "[::1]", true),
            ("[::1]", "::1", true),
            ("[::1]", "[::1]", true),
            ("::1", "::2", false),
            ("::1", "0:0:0:0:0:0:0:1", true),
            ("2001:DB8::1", "2001:db8::1", true),
            ("fe80::/10", "fe80::1", true),
            ("fe80::/10", "febf:ffff::1", true),
            ("fe80::/10", "fec0::1", false),
            ("[fe80::]/10", "[fe80::1]", true),
            ("fe80::/10", "[fe80::1%eth0]", true),
            ("fe80::/10", "fe80::1%25eth0", true),
            ("2001:db8::/32", "2001:db8:ffff::1", true),
            ("2001:db8::/32", "2001:db9::1", false),
            ("2001:db8::/33", "2001:db8:7fff::1", true),
            ("2001:db8::/33", "2001:db8:8000::1", false),
            ("::1/128", "::1", true),
            ("::1/128", "::2", false),
            ("::/0", "2001:db8::1", true),
            ("::/0", "10.0.0.1", false),
            ("::1/129", "::1", false),
            ("::1/", "::1", false),
            ("::ffff:10.0.0.1", "10.0.0.1", false),
            ("10.0.0.1", "::ffff:10.0.0.1", false),
            ("fe80::1%eth0", "fe80::1", false),
            ("[::1", "::1", false),
            ("[::1]x", "::1", false),
            ("::1", "[::1", false),
            ("example.com", "[example.com]", false),
            // Hosts that are neither: matched as names.
            ("1.2.3.4%x", "1.2.3.4%x", true),
            ("10.0.0.0/8", "10.0.0.0/8", true),
        ];
        for (list, host, expected) in cases {
            assert_eq!(
                NoProxy::parse(list).matches(host),
                *expected,
                "no_proxy {list:?}, host {host:?}"
            );
        }
    }

    #[test]
    fn no_proxy_is_empty_only_when_nothing_can_match() {
        assert!(NoProxy::parse("").is_empty());
        assert!(NoProxy::parse(" ,\t, ").is_empty());
        assert!(!NoProxy::parse("*").is_empty());
        assert!(!NoProxy::parse("a").is_empty());
        assert_eq!(NoProxy::default(), NoProxy::parse(""));
    }

    #[test]
    fn no_proxy_survives_every_split_of_hostile_lists() {
        let lists = [
            "*, .example.com., [fe80::]/10 ,10.0.0.0/8,::1/128, \u{e9}x.com",
            "[::1]/99999999999999999999999,[,],/,//,..,[]",
        ];
        let hosts = [
            "",
            ".",
            "[",
            "[]",
            "[::1]",
            "::1",
            "10.0.0.1",
            "x.\u{e9}x.com",
            "a..",
            "%",
            "[%]",
        ];
        for list in lists {
            for_each_str_split(list, |_, head, tail| {
                for part in [head, tail] {
                    let parsed = NoProxy::parse(part);
                    for host in hosts {
                        let _ = parsed.matches(host);
                    }
                }
            });
        }
    }
}
