//! `CURLOPT_RESOLVE` and `CURLOPT_CONNECT_TO` entries, in libcurl's formats.
//!
//! Both options let an application decide where a host name really
//! connects, before and instead of DNS:
//!
//! ```text
//!   RESOLVE     [+]HOST:PORT:ADDR[,ADDR]...   pin HOST:PORT to addresses ('+': may expire)
//!               -HOST:PORT                    forget an earlier pin
//!   CONNECT_TO  HOST:PORT:TO-HOST:TO-PORT     connect elsewhere; empty field = any / keep
//! ```
//!
//! IPv6 addresses may be written in brackets anywhere; a bare IPv6 address
//! is also accepted in RESOLVE's address list, which is unambiguous once
//! the host and port are split off the front. IPv6 literals are stored
//! without brackets and in canonical form, as [`crate::url::Url`] stores
//! them, so the two compare equal as text.

use std::borrow::Cow;
use std::net::IpAddr;

use crate::url::canonical_ipv6;

/// One parsed `CURLOPT_RESOLVE` entry.
///
/// # Examples
///
/// ```
/// use handover_proto::hosts::{parse_resolve, ResolveEntry};
///
/// let entry = parse_resolve("Example.com:443:127.0.0.1,[::1]")?;
/// assert!(entry.matches("example.com", 443));
/// assert!(!entry.matches("example.com", 80));
/// if let ResolveEntry::Add { addrs, transient, .. } = &entry {
///     assert_eq!(addrs.len(), 2);
///     assert!(!transient);
/// }
/// assert!(matches!(parse_resolve("-example.com:443")?, ResolveEntry::Remove { .. }));
/// # Ok::<(), handover_proto::hosts::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveEntry {
    /// `[+]host:port:addr[,addr]...`: use these addresses for `host:port`.
    Add {
        /// The host, lowercased (curl matches it case-insensitively); `*`
        /// matches every host.
        host: String,
        /// The port the entry applies to.
        port: u16,
        /// The addresses, in the order given.
        addrs: Vec<IpAddr>,
        /// Written with a leading `+`: the entry may time out like a
        /// resolver answer instead of staying for the handle's lifetime.
        transient: bool,
    },
    /// `-host:port`: drop an earlier entry for `host:port`.
    Remove {
        /// The host, lowercased.
        host: String,
        /// The port.
        port: u16,
    },
}

impl ResolveEntry {
    /// The host the entry is about (lowercased).
    pub fn host(&self) -> &str {
        match self {
            ResolveEntry::Add { host, .. } | ResolveEntry::Remove { host, .. } => host,
        }
    }

    /// The port the entry is about.
    pub fn port(&self) -> u16 {
        match self {
            ResolveEntry::Add { port, .. } | ResolveEntry::Remove { port, .. } => *port,
        }
    }

    /// Whether the entry applies to `host:port`: the host compared
    /// case-insensitively (brackets around an IPv6 literal ignored), `*`
    /// matching any host.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        let wanted = self.host();
        self.port() == port && (wanted == "*" || host_eq(wanted, host))
    }
}

/// One parsed `CURLOPT_CONNECT_TO` entry.
///
/// # Examples
///
/// ```
/// use handover_proto::hosts::{apply_connect_to, parse_connect_to};
///
/// let entries = [
///     parse_connect_to("example.com:443:staging.internal:8443")?,
///     parse_connect_to(":80::")?, // matches port 80, changes nothing: skipped
///     parse_connect_to(":80::8080")?, // any host on port 80: to port 8080
/// ];
/// assert_eq!(
///     apply_connect_to(&entries, "example.com", 443),
///     Some(("staging.internal".to_string(), 8443))
/// );
/// assert_eq!(apply_connect_to(&entries, "other.example", 80), Some(("other.example".to_string(), 8080)));
/// assert_eq!(apply_connect_to(&entries, "other.example", 443), None);
/// # Ok::<(), handover_proto::hosts::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTo {
    /// The host this entry applies to; `None` applies to any host.
    pub host: Option<String>,
    /// The port this entry applies to; `None` applies to any port.
    pub port: Option<u16>,
    /// The host to connect to instead; `None` keeps the original.
    pub to_host: Option<String>,
    /// The port to connect to instead; `None` keeps the original.
    pub to_port: Option<u16>,
}

impl ConnectTo {
    /// The connection target for `host:port`, if this entry matches it and
    /// changes something.
    ///
    /// An entry that matches but has neither a new host nor a new port
    /// answers `None`: libcurl keeps looking at the following entries in
    /// that case, and [`apply_connect_to`] does the same.
    pub fn apply(&self, host: &str, port: u16) -> Option<(String, u16)> {
        let host_matches = self.host.as_deref().is_none_or(|h| host_eq(h, host));
        let port_matches = self.port.is_none_or(|p| p == port);
        if !host_matches || !port_matches || (self.to_host.is_none() && self.to_port.is_none()) {
            return None;
        }
        let to_host = match &self.to_host {
            Some(to_host) => to_host.clone(),
            None => unbracket(host).to_string(),
        };
        Some((to_host, self.to_port.unwrap_or(port)))
    }
}

/// The target for `host:port` after a list of `CURLOPT_CONNECT_TO`
/// entries: the first entry that applies wins, as in libcurl.
pub fn apply_connect_to(entries: &[ConnectTo], host: &str, port: u16) -> Option<(String, u16)> {
    entries.iter().find_map(|entry| entry.apply(host, port))
}

message_error! {
    /// A `CURLOPT_RESOLVE` or `CURLOPT_CONNECT_TO` entry that could not be parsed.
    ///
    /// # Examples
    ///
    /// ```
    /// let error = handover_proto::hosts::parse_resolve("example.com:443").unwrap_err();
    /// println!("{error}"); // names the entry and what is wrong with it
    /// ```
    SpecError
}

/// Parses one `CURLOPT_RESOLVE` entry.
///
/// `host:port:addr[,addr]...` adds (a leading `+` marks it transient),
/// `-host:port` removes (anything after the port is ignored, as in
/// libcurl). Addresses are IPv4, bracketed IPv6, or bare IPv6; spaces
/// around an address are ignored.
pub fn parse_resolve(entry: &str) -> Result<ResolveEntry, SpecError> {
    let bad = |why: &str| SpecError(format!("bad CURLOPT_RESOLVE entry {entry:?}: {why}"));
    let (remove, transient, body) = if let Some(body) = entry.strip_prefix('-') {
        (true, false, body)
    } else if let Some(body) = entry.strip_prefix('+') {
        (false, true, body)
    } else {
        (false, false, entry)
    };
    let (host, rest) = split_host(body).map_err(bad)?;
    let host = host
        .ok_or_else(|| bad("no host name"))?
        .to_ascii_lowercase();
    let rest = rest
        .strip_prefix(':')
        .ok_or_else(|| bad("no ':' and port after the host"))?;
    let (port, addrs) = match rest.split_once(':') {
        Some((port, addrs)) => (port, Some(addrs)),
        None => (rest, None),
    };
    let port = parse_port(port)
        .map_err(bad)?
        .ok_or_else(|| bad("no port number"))?;
    if remove {
        return Ok(ResolveEntry::Remove { host, port });
    }
    let addrs = addrs.ok_or_else(|| bad("no ':' and addresses after the port"))?;
    let addrs = addrs
        .split(',')
        .map(|addr| parse_addr(addr).map_err(bad))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ResolveEntry::Add {
        host,
        port,
        addrs,
        transient,
    })
}

/// Parses one `CURLOPT_CONNECT_TO` entry, `HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT`.
///
/// Every field may be empty; the last `:CONNECT-TO-PORT` may be left out
/// altogether, as libcurl allows. IPv6 hosts go in brackets.
pub fn parse_connect_to(entry: &str) -> Result<ConnectTo, SpecError> {
    let bad = |why: &str| SpecError(format!("bad CURLOPT_CONNECT_TO entry {entry:?}: {why}"));
    let (host, rest) = split_host(entry).map_err(bad)?;
    let rest = rest
        .strip_prefix(':')
        .ok_or_else(|| bad("no ':' after the host"))?;
    let (port, rest) = rest
        .split_once(':')
        .ok_or_else(|| bad("no ':' after the port"))?;
    let port = parse_port(port).map_err(bad)?;
    let (to_host, rest) = split_host(rest).map_err(bad)?;
    let to_port = if rest.is_empty() {
        None
    } else {
        let to_port = rest
            .strip_prefix(':')
            .ok_or_else(|| bad("unexpected text after the connect-to host"))?;
        parse_port(to_port).map_err(bad)?
    };
    Ok(ConnectTo {
        host: host.map(Cow::into_owned),
        port,
        to_host: to_host.map(Cow::into_owned),
        to_port,
    })
}

/// Splits a host field off the front: `[ipv6]` (stored without brackets,
/// canonical) or text up to the next ':'. An empty field is `None`.
fn split_host(text: &str) -> Result<(Option<Cow<'_, str>>, &str), &'static str> {
    if let Some(after_open) = text.strip_prefix('[') {
        let (literal, rest) = after_open.split_once(']').ok_or("unbalanced '[' in host")?;
        let canonical = canonical_ipv6(literal)?;
        return Ok((Some(canonical.into()), rest));
    }
    let (host, rest) = match text.find(':') {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    if host.contains(['[', ']']) {
        return Err("unbalanced brackets in host");
    }
    if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("whitespace or control character in host");
    }
    Ok(((!host.is_empty()).then(|| host.into()), rest))
}

/// A port field: empty is `None`, otherwise a decimal number up to 65535.
fn parse_port(text: &str) -> Result<Option<u16>, &'static str> {
    if text.is_empty() {
        return Ok(None);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("port is not a decimal number");
    }
    // All digits, so the only way to fail is being too large.
    let trimmed = text.trim_start_matches('0');
    if trimmed.len() > 5 {
        return Err("port is larger than 65535");
    }
    if trimmed.is_empty() {
        return Ok(Some(0));
    }
    trimmed
        .parse::<u16>()
        .map(Some)
        .map_err(|_| "port is larger than 65535")
}

fn parse_addr(text: &str) -> Result<IpAddr, &'static str> {
    let text = text.trim_matches(|c: char| c == ' ' || c == '\t');
    if text.is_empty() {
        return Err("empty address");
    }
    let bare = text
        .strip_prefix('[')
        .map(|inner| inner.strip_suffix(']').ok_or("unbalanced '[' in address"))
        .transpose()?;
    match bare {
        Some(inner) => inner
            .parse::<std::net::Ipv6Addr>()
            .map(IpAddr::V6)
            .map_err(|_| "bad IPv6 address in brackets"),
        None => text.parse().map_err(|_| "bad IP address"),
    }
}

/// Whether two hosts are the same, ignoring ASCII case and brackets.
fn host_eq(a: &str, b: &str) -> bool {
    unbracket(a).eq_ignore_ascii_case(unbracket(b))
}

fn unbracket(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::for_each_str_split;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn add(host: &str, port: u16, addrs: &[&str], transient: bool) -> ResolveEntry {
        ResolveEntry::Add {
            host: host.into(),
            port,
            addrs: addrs.iter().map(|a| ip(a)).collect(),
            transient,
        }
    }

    #[test]
    fn resolve_entries_parse() {
        let cases = [
            (
                "example.com:443:127.0.0.1",
                add("example.com", 443, &["127.0.0.1"], false),
            ),
            (
                "Example.COM:80:1.2.3.4,5.6.7.8",
                add("example.com", 80, &["1.2.3.4", "5.6.7.8"], false),
            ),
            ("+h:80:1.2.3.4", add("h", 80, &["1.2.3.4"], true)),
            ("h:80:[::1]", add("h", 80, &["::1"], false)),
            ("h:80:::1", add("h", 80, &["::1"], false)),
            (
                "h:80:::1,[fe80::2], 10.0.0.1",
                add("h", 80, &["::1", "fe80::2", "10.0.0.1"], false),
            ),
            ("*:443:10.0.0.1", add("*", 443, &["10.0.0.1"], false)),
            ("[::1]:80:::1", add("::1", 80, &["::1"], false)),
            ("h:0080:1.2.3.4", add("h", 80, &["1.2.3.4"], false)),
            (
                "-Example.com:443",
                ResolveEntry::Remove {
                    host: "example.com".into(),
                    port: 443,
                },
            ),
            (
                "-h:80:1.2.3.4",
                ResolveEntry::Remove {
                    host: "h".into(),
                    port: 80,
                },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_resolve(input), Ok(expected), "input {input:?}");
        }
    }

    #[test]
    fn bad_resolve_entries_say_what_and_why() {
        let cases = [
            ("", "no host"),
            (":80:1.2.3.4", "no host"),
            ("h", "no ':' and port"),
            ("h:", "no port"),
            ("h::1.2.3.4", "no port"),
            ("h:http:1.2.3.4", "not a decimal"),
            ("h:65536:1.2.3.4", "larger than 65535"),
            ("h:0000065536:1.2.3.4", "larger than 65535"),
            ("h:80", "no ':' and addresses"),
            ("h:80:", "empty address"),
            ("h:80:1.2.3.4,", "empty address"),
            ("h:80:1.2.3", "bad IP address"),
            ("h:80:[1.2.3.4]", "bad IPv6"),
            ("h:80:[::1", "unbalanced"),
            ("h:80:example.org", "bad IP address"),
            ("h x:80:1.2.3.4", "whitespace"),
            ("[::1:80:1.2.3.4", "unbalanced"),
            ("-h", "no ':' and port"),
        ];
        for (input, reason) in cases {
            let err = parse_resolve(input).expect_err(input);
            let text = err.to_string();
            assert!(text.contains("CURLOPT_RESOLVE"), "{text}");
            assert!(text.contains(&format!("{input:?}")), "{text}");
            assert!(
                text.contains(reason),
                "input {input:?}: {text:?} lacks {reason:?}"
            );
        }
    }

    #[test]
    fn resolve_entries_match_case_insensitively_and_by_port() {
        let entry = parse_resolve("Example.com:443:127.0.0.1").unwrap();
        assert_eq!(entry.host(), "example.com");
        assert_eq!(entry.port(), 443);
        assert!(entry.matches("EXAMPLE.com", 443));
        assert!(!entry.matches("example.com", 80));
        assert!(!entry.matches("example.org", 443));
        let wildcard = parse_resolve("*:443:127.0.0.1").unwrap();
        assert!(wildcard.matches("anything", 443));
        let v6 = parse_resolve("[::1]:80:::1").unwrap();
        assert!(v6.matches("[::1]", 80));
        assert!(v6.matches("::1", 80));
    }

    fn connect_to(
        host: Option<&str>,
        port: Option<u16>,
        to_host: Option<&str>,
        to_port: Option<u16>,
    ) -> ConnectTo {
        ConnectTo {
            host: host.map(Into::into),
            port,
            to_host: to_host.map(Into::into),
            to_port,
        }
    }

    #[test]
    fn connect_to_entries_parse() {
        let cases = [
            (
                "example.com:443:other.com:8443",
                connect_to(
                    Some("example.com"),
                    Some(443),
                    Some("other.com"),
                    Some(8443),
                ),
            ),
            (
                "::other.com:",
                connect_to(None, None, Some("other.com"), None),
            ),
            (":::", connect_to(None, None, None, None)),
            ("::", connect_to(None, None, None, None)),
            (
                "h:80::8080",
                connect_to(Some("h"), Some(80), None, Some(8080)),
            ),
            ("h:80:x", connect_to(Some("h"), Some(80), Some("x"), None)),
            (
                "[::1]:80:[0:0::2]:81",
                connect_to(Some("::1"), Some(80), Some("::2"), Some(81)),
            ),
            (
                "[fe80::1%25eth0]::[::1]:",
                connect_to(Some("fe80::1%eth0"), None, Some("::1"), None),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_connect_to(input), Ok(expected), "input {input:?}");
        }
    }

    #[test]
    fn bad_connect_to_entries_say_what_and_why() {
        let cases = [
            ("", "no ':' after the host"),
            ("h", "no ':' after the host"),
            ("h:80", "no ':' after the port"),
            ("h:x:a:1", "not a decimal"),
            ("h:80:a:70000", "larger than 65535"),
            ("h:80:a:1:2", "not a decimal"),
            ("h:80:[::1]x", "unexpected text"),
            ("[::1:80:a:1", "unbalanced"),
            ("[zz]:80:a:1", "bad IPv6"),
            ("h]:80:a:1", "unbalanced"),
            ("h:80:a b:1", "whitespace"),
        ];
        for (input, reason) in cases {
            let err = parse_connect_to(input).expect_err(input);
            let text = err.to_string();
            assert!(text.contains("CURLOPT_CONNECT_TO"), "{text}");
            assert!(
                text.contains(reason),
                "input {input:?}: {text:?} lacks {reason:?}"
            );
        }
    }

    #[test]
    fn connect_to_applies_to_matching_host_and_port() {
        let entry = parse_connect_to("Example.com:443:other:8443").unwrap();
        assert_eq!(
            entry.apply("example.COM", 443),
            Some(("other".into(), 8443))
        );
        assert_eq!(entry.apply("example.com", 80), None);
        assert_eq!(entry.apply("example.org", 443), None);

        let any = parse_connect_to("::other:").unwrap();
        assert_eq!(any.apply("h", 1234), Some(("other".into(), 1234)));

        let port_only = parse_connect_to("h:::99").unwrap();
        assert_eq!(port_only.apply("h", 1), Some(("h".into(), 99)));
        assert_eq!(port_only.apply("[::1]", 1), None);

        let v6 = parse_connect_to("[::1]:80:[::2]:").unwrap();
        assert_eq!(v6.apply("::1", 80), Some(("::2".into(), 80)));
        assert_eq!(v6.apply("[::1]", 80), Some(("::2".into(), 80)));

        let keeps_all = parse_connect_to("h:80::").unwrap();
        assert_eq!(keeps_all.apply("h", 80), None);
    }

    #[test]
    fn first_connect_to_entry_that_changes_something_wins() {
        let entries = [
            parse_connect_to("h:80::").unwrap(),
            parse_connect_to("other:80:x:1").unwrap(),
            parse_connect_to("h::y:").unwrap(),
            parse_connect_to("h:80:z:2").unwrap(),
        ];
        assert_eq!(apply_connect_to(&entries, "h", 80), Some(("y".into(), 80)));
        assert_eq!(apply_connect_to(&entries, "nobody", 80), None);
        assert_eq!(apply_connect_to(&[], "h", 80), None);
    }

    #[test]
    fn every_prefix_and_suffix_of_entries_parses_or_errors() {
        for input in [
            "+Example.com:443:[::1],127.0.0.1,::2",
            "-h:80",
            "[fe80::1%25eth0]:80:[::1]:8080",
            "h\u{e9}:1:\u{1f600}",
        ] {
            for_each_str_split(input, |_, head, tail| {
                for part in [head, tail] {
                    let _ = parse_resolve(part);
                    let _ = parse_connect_to(part);
                }
            });
        }
    }
}
