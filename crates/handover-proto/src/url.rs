//! curl-style URL parsing.
//!
//! handover parses URLs the way libcurl's URL API does for a transfer, not
//! the way a browser does: a missing `scheme://` is guessed (`http`, or
//! `ftp`/`dict`/… from a `ftp.`-style host prefix), an empty port (`host:`)
//! means "no port", the fragment is dropped, `.`/`..` path segments are
//! removed, and anything that would be ambiguous on the wire — whitespace,
//! control characters, an unbalanced `[`, a non-ASCII host — is refused
//! rather than repaired.
//!
//! ```text
//!   [scheme://][user[:password]@]host[:port][/path][?query][#fragment]
//!                                 └─ reg-name | IPv4 | [IPv6[%25zone]]
//! ```
//!
//! Error messages never quote the URL, so a password in it cannot leak into
//! a log through an error.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// A parsed URL: the parts handover needs to reach the server and to write
/// the request line.
///
/// # Examples
///
/// ```
/// use handover_proto::url::{Scheme, Url};
///
/// let url = Url::parse("https://alice:s%3Acret@[fe80::1%25eth0]:8443/a/./b/../c?q#frag")?;
/// assert_eq!(url.scheme_kind(), Some(Scheme::Https));
/// assert_eq!(url.password.as_deref(), Some("s:cret"));
/// assert_eq!(url.host, "fe80::1%eth0");
/// assert_eq!(url.ipv6_zone(), Some("eth0"));
/// assert_eq!(url.host_for_header(), "[fe80::1%25eth0]");
/// assert_eq!(url.path, "/a/c?q");
/// // Display leaves credentials out.
/// assert_eq!(url.to_string(), "https://[fe80::1%25eth0]:8443/a/c?q");
///
/// // No scheme: guessed, as curl does.
/// assert_eq!(Url::parse("example.com")?.port_or_default(), Some(80));
/// # Ok::<(), handover_proto::url::UrlError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Url {
    /// The scheme, lowercased (`"http"` when the input had none).
    pub scheme: String,
    /// The user name, percent-decoded.
    pub user: Option<String>,
    /// The password, percent-decoded.
    pub password: Option<String>,
    /// The host: an IPv6 literal without brackets (canonical form, with a
    /// zone id after `%` when one was given), or an IPv4 address or name as
    /// given, percent-decoded.
    pub host: String,
    /// The port written in the URL, if any.
    pub port: Option<u16>,
    /// The path and `?query` as sent in a request line; `"/"` when empty.
    pub path: String,
}

/// Why a URL was refused.
///
/// # Examples
///
/// ```
/// use handover_proto::url::Url;
///
/// let error = Url::parse("http://exa mple.com/").unwrap_err();
/// assert!(error.to_string().starts_with("URL rejected: "));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    /// The URL does not follow the syntax; the text says which part and why.
    Malformed(String),
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Malformed(reason) => write!(f, "URL rejected: {reason}"),
        }
    }
}

impl std::error::Error for UrlError {}

fn malformed(reason: impl Into<String>) -> UrlError {
    UrlError::Malformed(reason.into())
}

/// Target protocols handover knows.
///
/// # Examples
///
/// ```
/// use handover_proto::url::Scheme;
///
/// let wss = Scheme::from_name("WSS").unwrap();
/// assert_eq!((wss.name(), wss.default_port(), wss.uses_tls()), ("wss", 443, true));
/// assert_eq!(Scheme::from_name("sftp"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http://`
    Http,
    /// `https://`
    Https,
    /// `ws://` (WebSocket over HTTP)
    Ws,
    /// `wss://` (WebSocket over HTTPS)
    Wss,
    /// `telnet://`
    Telnet,
    /// `dict://`
    Dict,
    /// `gopher://`
    Gopher,
    /// `gophers://` (gopher over TLS)
    Gophers,
    /// `ftp://`
    Ftp,
    /// `ftps://` (FTP over implicit TLS)
    Ftps,
    /// `mqtt://`
    Mqtt,
    /// `mqtts://` (MQTT over TLS)
    Mqtts,
    /// `rtsp://`
    Rtsp,
    /// `tftp://` (over UDP)
    Tftp,
    /// `file://` (a local file; no network)
    File,
    /// `imap://`
    Imap,
    /// `imaps://` (IMAP over implicit TLS)
    Imaps,
    /// `pop3://`
    Pop3,
    /// `pop3s://` (POP3 over implicit TLS)
    Pop3s,
    /// `smtp://`
    Smtp,
    /// `smtps://` (SMTP over implicit TLS)
    Smtps,
}

impl Scheme {
    /// Every scheme, in declaration order.
    pub const ALL: [Scheme; 21] = [
        Scheme::Http,
        Scheme::Https,
        Scheme::Ws,
        Scheme::Wss,
        Scheme::Telnet,
        Scheme::Dict,
        Scheme::Gopher,
        Scheme::Gophers,
        Scheme::Ftp,
        Scheme::Ftps,
        Scheme::Mqtt,
        Scheme::Mqtts,
        Scheme::Rtsp,
        Scheme::Tftp,
        Scheme::File,
        Scheme::Imap,
        Scheme::Imaps,
        Scheme::Pop3,
        Scheme::Pop3s,
        Scheme::Smtp,
        Scheme::Smtps,
    ];

    /// The scheme called `name`, compared case-insensitively.
    pub fn from_name(name: &str) -> Option<Scheme> {
        Scheme::ALL
            .into_iter()
            .find(|scheme| scheme.name().eq_ignore_ascii_case(name))
    }

    /// The lowercase name, as written before `://`.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
            Scheme::Telnet => "telnet",
            Scheme::Dict => "dict",
            Scheme::Gopher => "gopher",
            Scheme::Gophers => "gophers",
            Scheme::Ftp => "ftp",
            Scheme::Ftps => "ftps",
            Scheme::Mqtt => "mqtt",
            Scheme::Mqtts => "mqtts",
            Scheme::Rtsp => "rtsp",
            Scheme::Tftp => "tftp",
            Scheme::File => "file",
            Scheme::Imap => "imap",
            Scheme::Imaps => "imaps",
            Scheme::Pop3 => "pop3",
            Scheme::Pop3s => "pop3s",
            Scheme::Smtp => "smtp",
            Scheme::Smtps => "smtps",
        }
    }

    /// The port used when the URL names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http | Scheme::Ws => 80,
            Scheme::Https | Scheme::Wss => 443,
            Scheme::Telnet => 23,
            Scheme::Dict => 2628,
            Scheme::Gopher | Scheme::Gophers => 70,
            Scheme::Ftp => 21,
            Scheme::Ftps => 990,
            Scheme::Mqtt => 1883,
            Scheme::Mqtts => 8883,
            Scheme::Rtsp => 554,
            Scheme::Tftp => 69,
            Scheme::File => 0,
            Scheme::Imap => 143,
            Scheme::Imaps => 993,
            Scheme::Pop3 => 110,
            Scheme::Pop3s => 995,
            Scheme::Smtp => 25,
            Scheme::Smtps => 465,
        }
    }

    /// Whether the connection to the origin is wrapped in TLS from its
    /// start.
    pub fn uses_tls(self) -> bool {
        matches!(
            self,
            Scheme::Https
                | Scheme::Wss
                | Scheme::Gophers
                | Scheme::Ftps
                | Scheme::Mqtts
                | Scheme::Imaps
                | Scheme::Pop3s
                | Scheme::Smtps
        )
    }

    /// Whether the protocol can start TLS on a clear connection, when
    /// `CURLOPT_USE_SSL` asks (FTP's `AUTH TLS`, STARTTLS, POP3's `STLS`).
    pub fn starts_tls(self) -> bool {
        matches!(
            self,
            Scheme::Ftp | Scheme::Imap | Scheme::Pop3 | Scheme::Smtp
        )
    }

    /// Whether the scheme uses no network at all (`file://`): no name, no
    /// proxy, no socket.
    pub fn local(self) -> bool {
        self == Scheme::File
    }

    /// Whether the scheme runs over UDP (TFTP) rather than TCP.
    pub fn datagram(self) -> bool {
        self == Scheme::Tftp
    }

    /// Whether a user name or password may hold control characters
    /// (libcurl's `PROTOPT_USERPWDCTRL`): the HTTP schemes send them
    /// encoded; the others put them on a command line verbatim, where a
    /// line end would start a command of its own.
    pub fn credentials_may_hold_controls(self) -> bool {
        matches!(
            self,
            Scheme::Http | Scheme::Https | Scheme::Ws | Scheme::Wss
        )
    }

    /// Whether an HTTP proxy can carry the scheme without a tunnel
    /// (libcurl's `PROTOPT_PROXY_AS_HTTP`, and HTTP itself): every other
    /// scheme goes through a CONNECT tunnel.
    pub fn proxied_as_http(self) -> bool {
        matches!(self, Scheme::Http | Scheme::Ftp)
    }
}

/// Schemes libcurl knows and handover does not build, with why; a URL
/// with one fails with `CURLE_NOT_BUILT_IN` naming the reason.
pub const NOT_BUILT: [(&str, &str); 7] = [
    ("scp", "SSH is not built in"),
    ("sftp", "SSH is not built in"),
    ("ldap", "LDAP is not built in"),
    ("ldaps", "LDAP is not built in"),
    ("smb", "SMB is not built in"),
    ("smbs", "SMB is not built in"),
    ("rtmp", "RTMP is not built in"),
];

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `file://` URL: no host but `localhost` or `127.0.0.1` (libcurl's
/// rule), the path as written. The host is `localhost` either way.
fn file_url(scheme: &str, rest: &str) -> Result<Url, UrlError> {
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, "/"),
    };
    if !(authority.is_empty()
        || authority.eq_ignore_ascii_case("localhost")
        || authority == "127.0.0.1")
    {
        return Err(malformed(
            "a file:// URL names no host but localhost or 127.0.0.1",
        ));
    }
    Ok(Url {
        scheme: scheme.to_ascii_lowercase(),
        user: None,
        password: None,
        host: "localhost".to_owned(),
        port: None,
        path: path.to_owned(),
    })
}

/// Host prefixes from which curl guesses a scheme when the URL has none.
const GUESSES: [(&str, &str); 6] = [
    ("ftp.", "ftp"),
    ("dict.", "dict"),
    ("ldap.", "ldap"),
    ("imap.", "imap"),
    ("smtp.", "smtp"),
    ("pop3.", "pop3"),
];

/// Characters curl refuses in a host name (after percent-decoding).
const FORBIDDEN_IN_HOST: &str = " \r\n\t/:#?!@{}[]\\$'\"^`*<>=;,+&()%";

impl Url {
    /// Parses `input` the way libcurl does for a transfer.
    ///
    /// Without `scheme://` the scheme is guessed from the host (`ftp.x` is
    /// ftp, and so on) and is otherwise `http`. `host:` with an empty port
    /// means no port. Whitespace or control characters anywhere, an empty
    /// or non-ASCII host, a bad port and unbalanced brackets are errors.
    /// A host name longer than [`MAX_HOST_LEN`] bytes is an error.
    /// Decoded credentials may not contain a NUL byte, and — but for the
    /// HTTP schemes, whose credentials travel encoded — no control
    /// character either, because protocols such as FTP would put them on a
    /// command line verbatim (libcurl's `PROTOPT_USERPWDCTRL`).
    pub fn parse(input: &str) -> Result<Url, UrlError> {
        if input.is_empty() {
            return Err(malformed("empty URL"));
        }
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(malformed("whitespace or control character in URL"));
        }
        let (scheme, rest) = split_scheme(input)?;
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        if let Some(scheme) = scheme.as_deref().filter(|s| s.eq_ignore_ascii_case("file")) {
            return file_url(scheme, rest);
        }
        let (authority, path_and_query) = match rest.find(['/', '?']) {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        // The first '@' ends the user info, as in libcurl: one more makes
        // the host malformed (curl's tests 1260 and 1263).
        let (userinfo, host_port) = match authority.split_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, authority),
        };
        let (host, port) = parse_host_port(host_port)?;
        let scheme = scheme.unwrap_or_else(|| guess_scheme(&host).to_string());
        // A scheme not known here fails later, for its name.
        let controls = Scheme::from_name(&scheme).is_none_or(Scheme::credentials_may_hold_controls);
        let (user, password) = match userinfo {
            None => (None, None),
            Some(userinfo) => match userinfo.split_once(':') {
                Some((user, password)) => (
                    Some(decode_credential(user, "user name", controls)?),
                    Some(decode_credential(password, "password", controls)?),
                ),
                None => (
                    Some(decode_credential(userinfo, "user name", controls)?),
                    None,
                ),
            },
        };
        let path = normalize_path(path_and_query);
        Ok(Url {
            scheme,
            user,
            password,
            host,
            port,
            path,
        })
    }

    /// The local path of a `file://` URL, percent-decoded; `None` for other
    /// schemes or a path that does not decode to UTF-8.
    pub fn file_path(&self) -> Option<String> {
        if !self.scheme.eq_ignore_ascii_case("file") {
            return None;
        }
        self.decoded_path()
    }

    /// The path without its query, percent-decoded (`/a%20b?q` is `/a b`);
    /// `None` when it does not decode to UTF-8.
    pub fn decoded_path(&self) -> Option<String> {
        let path = self.path.split_once('?').map_or(&*self.path, |(p, _)| p);
        String::from_utf8(percent_decode(path)).ok()
    }

    /// The host as written in a `Host:` header or request target: IPv6
    /// literals in brackets, a zone id encoded as `%25`.
    pub fn host_for_header(&self) -> String {
        if self.is_ipv6_host() {
            format!("[{}]", self.host.replacen('%', "%25", 1))
        } else {
            self.host.clone()
        }
    }

    /// Whether the host is an IPv6 literal.
    pub fn is_ipv6_host(&self) -> bool {
        // A name or IPv4 address can never hold a ':'; parse guarantees it.
        self.host.contains(':')
    }

    /// The host as an IP address, if it is a literal (IPv6 without zone id).
    pub fn ip_addr(&self) -> Option<IpAddr> {
        let addr = self.host.split_once('%').map_or(&*self.host, |(a, _)| a);
        addr.parse().ok()
    }

    /// The zone id of an IPv6 link-local literal (`eth0` in `[fe80::1%25eth0]`).
    pub fn ipv6_zone(&self) -> Option<&str> {
        if self.is_ipv6_host() {
            self.host.split_once('%').map(|(_, zone)| zone)
        } else {
            None
        }
    }

    /// The scheme, if it is one handover knows.
    pub fn scheme_kind(&self) -> Option<Scheme> {
        Scheme::from_name(&self.scheme)
    }

    /// The explicit port, or else the known scheme's default port.
    pub fn port_or_default(&self) -> Option<u16> {
        self.port
            .or_else(|| self.scheme_kind().map(Scheme::default_port))
    }
}

impl fmt::Display for Url {
    /// `scheme://host[:port]path`; credentials are never shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host_for_header())?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        f.write_str(&self.path)
    }
}

impl fmt::Debug for Url {
    /// Like a derived `Debug`, except that the password is redacted so a
    /// `{:?}` in a log line cannot leak it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Url")
            .field("scheme", &self.scheme)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("path", &self.path)
            .finish()
    }
}

/// Splits `scheme://` off the front, if the input has one.
fn split_scheme(input: &str) -> Result<(Option<String>, &str), UrlError> {
    let Some((candidate, rest)) = input.split_once("://") else {
        return Ok((None, input));
    };
    // A "://" after the path starts (in a query, say) is not a scheme.
    if candidate.contains(['/', '?', '#']) {
        return Ok((None, input));
    }
    let mut chars = candidate.chars();
    let starts_alpha = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !starts_alpha || !rest_ok {
        return Err(malformed("bad scheme"));
    }
    Ok((Some(candidate.to_ascii_lowercase()), rest))
}

/// The scheme curl guesses for a URL without one, from its host's first
/// label (`ftp.` → ftp, ...); `http` otherwise.
pub fn guess_scheme(host: &str) -> &'static str {
    GUESSES
        .iter()
        .find(|(prefix, _)| {
            host.get(..prefix.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
        })
        .map_or("http", |(_, scheme)| scheme)
}

fn parse_host_port(text: &str) -> Result<(String, Option<u16>), UrlError> {
    if let Some(after_open) = text.strip_prefix('[') {
        let (literal, after) = after_open
            .split_once(']')
            .ok_or_else(|| malformed("unbalanced '[' in host"))?;
        let host = parse_ipv6_literal(literal)?;
        let port = if after.is_empty() {
            None
        } else if let Some(port) = after.strip_prefix(':') {
            parse_port(port)?
        } else {
            return Err(malformed("unexpected text after IPv6 address"));
        };
        return Ok((host, port));
    }
    if text.contains(['[', ']']) {
        return Err(malformed("unbalanced brackets in host"));
    }
    let (host, port) = match text.split_once(':') {
        Some((host, port)) => (host, parse_port(port)?),
        None => (text, None),
    };
    Ok((parse_reg_name(host)?, port))
}

fn parse_ipv6_literal(literal: &str) -> Result<String, UrlError> {
    canonical_ipv6(literal).map_err(|reason| malformed(format!("{reason} in host")))
}

/// An IPv6 literal from between brackets, in canonical form with its zone
/// id after a plain '%', so that equal addresses compare equal as text.
pub(crate) fn canonical_ipv6(literal: &str) -> Result<String, &'static str> {
    let (addr, zone) = match literal.split_once('%') {
        // curl accepts the zone id both URL-encoded (%25) and raw (%).
        Some((addr, zone)) => (addr, Some(zone.strip_prefix("25").unwrap_or(zone))),
        None => (literal, None),
    };
    let addr: Ipv6Addr = addr.parse().map_err(|_| "bad IPv6 address")?;
    match zone {
        None => Ok(addr.to_string()),
        Some(zone) => {
            let valid = !zone.is_empty()
                && zone
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'));
            if !valid {
                return Err("bad IPv6 zone id");
            }
            Ok(format!("{addr}%{zone}"))
        }
    }
}

/// The longest host name a URL may carry, in bytes once decoded
/// (libcurl's limit for a transfer's host: longer is a malformed URL, 3,
/// before any lookup).
pub const MAX_HOST_LEN: usize = 65535;

fn parse_reg_name(host: &str) -> Result<String, UrlError> {
    if host.is_empty() {
        return Err(malformed("no host name"));
    }
    let decoded = percent_decode(host);
    if decoded.len() > MAX_HOST_LEN {
        return Err(malformed(format!(
            "host name is longer than {MAX_HOST_LEN} bytes"
        )));
    }
    let decoded = match String::from_utf8(decoded) {
        Ok(text) if text.is_ascii() => text,
        _ => return Err(malformed("host name is not ASCII")),
    };
    if decoded.is_empty() {
        return Err(malformed("no host name"));
    }
    if decoded
        .chars()
        .any(|c| c.is_ascii_control() || FORBIDDEN_IN_HOST.contains(c))
    {
        return Err(malformed("bad character in host name"));
    }
    Ok(decoded)
}

/// The port after ':'; empty means none, as in curl.
fn parse_port(text: &str) -> Result<Option<u16>, UrlError> {
    if text.is_empty() {
        return Ok(None);
    }
    let mut value: u32 = 0;
    for c in text.chars() {
        let digit = c
            .to_digit(10)
            .ok_or_else(|| malformed("port number is not a decimal number"))?;
        value = value * 10 + digit;
        if value > u32::from(u16::MAX) {
            return Err(malformed("port number is larger than 65535"));
        }
    }
    u16::try_from(value)
        .map(Some)
        .map_err(|_| malformed("port number is larger than 65535"))
}

/// Whether `text` holds a control character as libcurl counts them for
/// credentials (a byte below 0x20): what a protocol without
/// [`Scheme::credentials_may_hold_controls`] refuses.
pub fn has_control(text: &str) -> bool {
    text.bytes().any(|b| b < b' ')
}

/// A user name or password, decoded: never with a NUL byte, and without
/// control characters unless `controls` allows them.
fn decode_credential(text: &str, what: &str, controls: bool) -> Result<String, UrlError> {
    let decoded = String::from_utf8(percent_decode(text))
        .map_err(|_| malformed(format!("{what} is not valid UTF-8 once decoded")))?;
    if decoded.contains('\0') {
        return Err(malformed(format!("{what} contains a NUL byte")));
    }
    if !controls && has_control(&decoded) {
        return Err(malformed(format!("{what} contains a control character")));
    }
    Ok(decoded)
}

/// Decodes `%XX` escapes; a '%' not followed by two hex digits stays as it
/// is, which is what curl does.
pub(crate) fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let high = bytes.get(i + 1).and_then(|&h| char::from(h).to_digit(16));
            let low = bytes.get(i + 2).and_then(|&l| char::from(l).to_digit(16));
            if let (Some(high), Some(low)) = (high, low) {
                // Both are below 16, so the value fits in a byte.
                out.push(((high << 4) | low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// `/path?query` with dot segments removed from the path (RFC 3986 5.2.4,
/// which curl applies too); `"/"` when there is no path.
fn normalize_path(path_and_query: &str) -> String {
    let (path, query) = match path_and_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path_and_query, None),
    };
    let mut out = remove_dot_segments(path);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

fn remove_dot_segments(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    // A path ending in "." or ".." names a directory, so it keeps a '/'.
    let mut ends_in_directory = false;
    for segment in path.split('/').skip(1) {
        match segment {
            "." => ends_in_directory = true,
            ".." => {
                kept.pop();
                ends_in_directory = true;
            }
            _ => {
                kept.push(segment);
                ends_in_directory = false;
            }
        }
    }
    let mut out = String::with_capacity(path.len().max(1));
    for segment in &kept {
        out.push('/');
        out.push_str(segment);
    }
    if ends_in_directory || out.is_empty() {
        out.push('/');
    }
    out
}

/// `host:port`, with an IPv6 literal in brackets (`[::1]:443`), as it is
/// written in a URL, a `Host` header or a CONNECT request.
///
/// # Examples
///
/// ```
/// use handover_proto::url::authority;
///
/// assert_eq!(authority("::1", 443), "[::1]:443");
/// assert_eq!(authority("example.com", 80), "example.com:80");
/// ```
///
/// An IPv6 zone id (`fe80::1%eth0`) is written with its `%` encoded as
/// `%25` (RFC 6874), so the text reads back as the same host.
pub fn authority(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{}]:{port}", host.replace('%', "%25"))
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_brackets_ipv6_and_encodes_its_zone() {
        assert_eq!(authority("example.com", 443), "example.com:443");
        assert_eq!(authority("::1", 80), "[::1]:80");
        assert_eq!(authority("[::1]", 80), "[::1]:80");
        // Found by the url fuzz target: the zone's `%` must read back.
        assert_eq!(authority("fe80::1%25x", 80), "[fe80::1%2525x]:80");
        assert_eq!(authority("fe80::1%eth0", 80), "[fe80::1%25eth0]:80");
    }
    use crate::testing::for_each_str_split;

    fn url(
        scheme: &str,
        user: Option<&str>,
        password: Option<&str>,
        host: &str,
        port: Option<u16>,
        path: &str,
    ) -> Url {
        Url {
            scheme: scheme.into(),
            user: user.map(Into::into),
            password: password.map(Into::into),
            host: host.into(),
            port,
            path: path.into(),
        }
    }

    #[test]
    fn valid_urls_parse_into_their_parts() {
        let cases = [
            ("host", url("http", None, None, "host", None, "/")),
            (
                "host:8080",
                url("http", None, None, "host", Some(8080), "/"),
            ),
            ("host:", url("http", None, None, "host", None, "/")),
            (
                "[::1]:8080/x",
                url("http", None, None, "::1", Some(8080), "/x"),
            ),
            (
                "https://user:pa%40ss@host:443/p?q#f",
                url(
                    "https",
                    Some("user"),
                    Some("pa@ss"),
                    "host",
                    Some(443),
                    "/p?q",
                ),
            ),
            (
                "HTTPS://Example.COM",
                url("https", None, None, "Example.COM", None, "/"),
            ),
            ("ws://h?x=1", url("ws", None, None, "h", None, "/?x=1")),
            // HTTP credentials go out base64-encoded: control characters
            // are kept (libcurl 8; curl's test 1296).
            (
                "http://user%0aname:pa%0d%09ss@h/",
                url("http", Some("user\nname"), Some("pa\r\tss"), "h", None, "/"),
            ),
            ("http://h/#frag", url("http", None, None, "h", None, "/")),
            (
                "http://h/a/./b/../c?d/../e",
                url("http", None, None, "h", None, "/a/c?d/../e"),
            ),
            ("http://h/a/..", url("http", None, None, "h", None, "/")),
            (
                "http://h/a//b/",
                url("http", None, None, "h", None, "/a//b/"),
            ),
            (
                "http://[0:0::1]/",
                url("http", None, None, "::1", None, "/"),
            ),
            (
                "http://[FE80::1%25eth0]:80/",
                url("http", None, None, "fe80::1%eth0", Some(80), "/"),
            ),
            (
                "http://[fe80::1%eth0]/",
                url("http", None, None, "fe80::1%eth0", None, "/"),
            ),
            (
                "127.0.0.1:0",
                url("http", None, None, "127.0.0.1", Some(0), "/"),
            ),
            (
                "http://h:00080",
                url("http", None, None, "h", Some(80), "/"),
            ),
            ("h:65535", url("http", None, None, "h", Some(65535), "/")),
            (
                "ftp.example.com/file",
                url("ftp", None, None, "ftp.example.com", None, "/file"),
            ),
            ("DICT.org", url("dict", None, None, "DICT.org", None, "/")),
            (
                "http://:secret@h",
                url("http", Some(""), Some("secret"), "h", None, "/"),
            ),
            (
                "http://ex%61mple.com",
                url("http", None, None, "example.com", None, "/"),
            ),
            (
                "http://u:%zz@h",
                url("http", Some("u"), Some("%zz"), "h", None, "/"),
            ),
            (
                "host/path?u=http://x",
                url("http", None, None, "host", None, "/path?u=http://x"),
            ),
            (
                "http://h/caf\u{e9}",
                url("http", None, None, "h", None, "/caf\u{e9}"),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(Url::parse(input), Ok(expected), "input {input:?}");
        }
    }

    #[test]
    fn malformed_urls_are_rejected_with_a_reason() {
        let cases = [
            ("", "empty URL"),
            ("http://", "no host"),
            ("http://:80/", "no host"),
            ("http://user@/", "no host"),
            ("http://h:8x/", "not a decimal"),
            ("http://h:65536/", "larger than 65535"),
            ("http://h:99999999999999999999/", "larger than 65535"),
            ("http://h:-1/", "not a decimal"),
            ("http://h /", "whitespace"),
            (" http://h/", "whitespace"),
            ("http://h/\r\n", "whitespace"),
            ("http://h/\u{7f}", "control"),
            ("http://h/a\u{a0}b", "whitespace"),
            ("http://[::1/", "unbalanced"),
            ("http://::1]/", "unbalanced"),
            ("http://h]/", "unbalanced"),
            ("http://[::1]x/", "after IPv6"),
            // The first '@' ends the user info (libcurl; curl's tests 1260, 1263).
            ("http://a@b@h", "bad character in host"),
            ("http://user@[::1]@localhost", "after IPv6"),
            ("http://[::g]/", "bad IPv6"),
            ("http://[127.0.0.1]/", "bad IPv6"),
            ("http://[fe80::1%25]/", "zone"),
            ("http://[fe80::1%25a/b]/", "unbalanced"),
            ("http://b\u{fc}cher.de/", "not ASCII"),
            ("http://b%C3%BCcher.de/", "not ASCII"),
            ("http://h%20x/", "bad character"),
            ("http://h%2fx/", "bad character"),
            ("http://h*/", "bad character"),
            ("1http://h/", "bad scheme"),
            ("ht_tp://h/", "bad scheme"),
            ("://h/", "bad scheme"),
            ("ftp://u:p%0d%0a@h/", "password contains a control"),
            ("imap://%0a@h/", "user name contains a control"),
            ("http://u:p%00@h/", "password contains a NUL"),
            ("ws://%00@h/", "user name contains a NUL"),
            ("http://u:%ff@h/", "not valid UTF-8"),
        ];
        for (input, reason) in cases {
            match Url::parse(input) {
                Err(UrlError::Malformed(text)) => assert!(
                    text.contains(reason),
                    "input {input:?}: reason {text:?} lacks {reason:?}"
                ),
                Ok(url) => panic!("input {input:?} parsed as {url:?}"),
            }
        }
    }

    #[test]
    fn a_host_name_past_65535_bytes_is_malformed() {
        let longest = "a".repeat(MAX_HOST_LEN);
        let url = Url::parse(&format!("http://{longest}/")).unwrap();
        assert_eq!(url.host.len(), MAX_HOST_LEN);
        for host in ["a".repeat(MAX_HOST_LEN + 1), "a".repeat(65536 * 2)] {
            let err = Url::parse(&format!("http://{host}:80/399")).unwrap_err();
            assert!(err.to_string().contains("longer than 65535"), "{err}");
        }
        // Counted once decoded, as libcurl counts it.
        let encoded = "%61".repeat(MAX_HOST_LEN);
        assert_eq!(
            Url::parse(&format!("http://{encoded}/")).unwrap().host,
            longest
        );
    }

    #[test]
    fn error_display_says_rejected_and_never_quotes_the_url() {
        let err = Url::parse("http://user:hunter2@h:99999/").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("URL rejected: "), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn display_and_debug_never_show_the_password() {
        let url = Url::parse("https://user:hunter2@Host:8443/p?q#frag").unwrap();
        assert_eq!(url.to_string(), "https://Host:8443/p?q");
        let debug = format!("{url:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }

    #[test]
    fn ipv6_hosts_get_brackets_in_headers_and_display() {
        let url = Url::parse("http://[::1]:8080/x").unwrap();
        assert!(url.is_ipv6_host());
        assert_eq!(url.host_for_header(), "[::1]");
        assert_eq!(url.to_string(), "http://[::1]:8080/x");
        assert_eq!(url.ip_addr(), Some("::1".parse().unwrap()));
        assert_eq!(url.ipv6_zone(), None);

        let zoned = Url::parse("http://[fe80::1%25eth0]/").unwrap();
        assert_eq!(zoned.host_for_header(), "[fe80::1%25eth0]");
        assert_eq!(zoned.to_string(), "http://[fe80::1%25eth0]/");
        assert_eq!(zoned.ipv6_zone(), Some("eth0"));
        assert_eq!(zoned.ip_addr(), Some("fe80::1".parse().unwrap()));
        assert_eq!(Url::parse(&zoned.to_string()), Ok(zoned));

        let name = Url::parse("http://example.com/").unwrap();
        assert!(!name.is_ipv6_host());
        assert_eq!(name.host_for_header(), "example.com");
        assert_eq!(name.ip_addr(), None);
        assert_eq!(name.ipv6_zone(), None);
        let v4 = Url::parse("http://10.0.0.1/").unwrap();
        assert_eq!(v4.ip_addr(), Some("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn display_round_trips_through_parse() {
        for input in [
            "http://h/",
            "https://h:1/a?b",
            "ws://[::1]:9/x",
            "telnet://10.0.0.1:23/",
        ] {
            let url = Url::parse(input).unwrap();
            assert_eq!(url.to_string(), input);
            assert_eq!(Url::parse(&url.to_string()), Ok(url));
        }
    }

    #[test]
    fn scheme_table_matches_curl() {
        let table = [
            ("http", Scheme::Http, 80, false),
            ("https", Scheme::Https, 443, true),
            ("ws", Scheme::Ws, 80, false),
            ("wss", Scheme::Wss, 443, true),
            ("telnet", Scheme::Telnet, 23, false),
            ("dict", Scheme::Dict, 2628, false),
            ("gopher", Scheme::Gopher, 70, false),
            ("gophers", Scheme::Gophers, 70, true),
            ("ftp", Scheme::Ftp, 21, false),
            ("ftps", Scheme::Ftps, 990, true),
            ("mqtt", Scheme::Mqtt, 1883, false),
            ("mqtts", Scheme::Mqtts, 8883, true),
            ("rtsp", Scheme::Rtsp, 554, false),
            ("tftp", Scheme::Tftp, 69, false),
            ("file", Scheme::File, 0, false),
            ("imap", Scheme::Imap, 143, false),
            ("imaps", Scheme::Imaps, 993, true),
            ("pop3", Scheme::Pop3, 110, false),
            ("pop3s", Scheme::Pop3s, 995, true),
            ("smtp", Scheme::Smtp, 25, false),
            ("smtps", Scheme::Smtps, 465, true),
        ];
        for (name, scheme, port, tls) in table {
            assert_eq!(Scheme::from_name(name), Some(scheme));
            assert_eq!(Scheme::from_name(&name.to_uppercase()), Some(scheme));
            assert_eq!(scheme.name(), name);
            assert_eq!(scheme.to_string(), name);
            assert_eq!(scheme.default_port(), port, "{name}");
            assert_eq!(scheme.uses_tls(), tls, "{name}");
        }
        assert_eq!(Scheme::from_name("sftp"), None);
        assert_eq!(Scheme::from_name(""), None);
        // Only FTP may go through an HTTP proxy without a tunnel.
        let untunneled: Vec<Scheme> = Scheme::ALL
            .into_iter()
            .filter(|s| s.proxied_as_http())
            .collect();
        assert_eq!(untunneled, [Scheme::Http, Scheme::Ftp]);
    }

    #[test]
    fn file_urls_take_no_host_but_localhost_and_decode_their_path() {
        for input in [
            "file:///tmp/a%20b",
            "file://localhost/tmp/a%20b",
            "FILE://127.0.0.1/tmp/a%20b",
        ] {
            let url = Url::parse(input).unwrap();
            assert_eq!(url.scheme, "file", "{input}");
            assert_eq!(url.file_path().as_deref(), Some("/tmp/a b"), "{input}");
        }
        assert!(Url::parse("file://example.com/x").is_err());
        assert_eq!(Url::parse("http://h/a%20b").unwrap().file_path(), None);
    }

    #[test]
    fn port_or_default_uses_the_scheme() {
        assert_eq!(Url::parse("wss://h").unwrap().port_or_default(), Some(443));
        assert_eq!(Url::parse("wss://h:1").unwrap().port_or_default(), Some(1));
        assert_eq!(Url::parse("ftp://h").unwrap().port_or_default(), Some(21));
        assert_eq!(Url::parse("imap://h").unwrap().port_or_default(), Some(143));
        assert_eq!(Url::parse("sftp://h").unwrap().port_or_default(), None);
        assert_eq!(
            Url::parse("gophers://h").unwrap().scheme_kind(),
            Some(Scheme::Gophers)
        );
    }

    #[test]
    fn every_prefix_and_suffix_of_urls_parses_or_errors() {
        let inputs = [
            "https://user:pa%40ss@host:443/p/../q?q=1#f",
            "http://[fe80::1%25eth0]:8080/x",
            "dict.example:2628/d:word",
            "ws://\u{e9}x@h/\u{1f600}",
        ];
        for input in inputs {
            for_each_str_split(input, |_, head, tail| {
                for part in [head, tail] {
                    if let Ok(url) = Url::parse(part) {
                        // Whatever parses must print as something that parses again.
                        assert!(Url::parse(&url.to_string()).is_ok(), "{part:?} -> {url}");
                    }
                }
            });
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut garbage = crate::testing::Garbage::new(7);
        let alphabet = b"ab:/@[]%?#.25:09fF ";
        for _ in 0..5000 {
            let len = (garbage.next_u64() % 24) as usize;
            let text: String = (0..len)
                .map(|_| {
                    let pick = garbage.next_u64() as usize % alphabet.len();
                    char::from(alphabet.get(pick).copied().unwrap_or(b'a'))
                })
                .collect();
            if let Ok(url) = Url::parse(&text) {
                assert!(!url.host.is_empty(), "{text:?}");
                assert!(url.path.starts_with('/'), "{text:?}");
            }
        }
    }
}
