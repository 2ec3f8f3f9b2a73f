//! TARGET, as a person types it, turned into the URL and connect-only mode
//! the library takes. The CLI adds two schemes of its own, `tcp://` and
//! `tls://`, because "just connect" and "just TLS" are what most people
//! probe; both map onto schemes the library already has.

use handover::ConnectOnly;
use handover_proto::url::{authority, Scheme, Url};

use crate::args::TargetArgs;

/// Where to connect and how far the library goes.
#[derive(Clone, Debug)]
pub struct Target {
    /// The URL handed to the library.
    pub url: String,
    /// The scheme as the user wrote it (`tcp`, `tls`, `https`, …).
    pub scheme: String,
    /// The library's scheme: what decides env proxies, tunnelling and TLS.
    pub lib_scheme: Scheme,
    /// The host, IPv6 without brackets.
    pub host: String,
    pub port: u16,
    /// libcurl's CONNECT_ONLY value for this target.
    pub mode: ConnectOnly,
    /// TLS with the target itself.
    pub tls: bool,
}

impl Target {
    /// `host:port`, IPv6 in brackets.
    pub fn authority(&self) -> String {
        authority(&self.host, self.port)
    }

    /// The URL as it may be shown: a password in it is left out
    /// (`imap://alice@host/`), in every output and format.
    pub fn shown_url(&self) -> String {
        without_password(&self.url)
    }

    /// What the probe does at the end, in words for the header line.
    pub fn goal(&self) -> &'static str {
        match (self.mode, self.lib_scheme) {
            (ConnectOnly::Headers, Scheme::Ws | Scheme::Wss) => "WebSocket upgrade",
            (ConnectOnly::Headers, _) => "request, response head",
            _ if self.tls => "connect + TLS only",
            _ => "connect only",
        }
    }
}

/// `url` without the password of its userinfo, if it has one.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            format!("{scheme}://{user}@{host}{path}")
        }
        None => url.to_owned(),
    }
}

/// Parses TARGET (and the optional separate PORT).
pub fn parse(args: &TargetArgs) -> Result<Target, String> {
    let raw = args.target.trim();
    if raw.is_empty() {
        return Err("empty TARGET".into());
    }
    if let Some((scheme, rest)) = raw.split_once("://") {
        if args.port.is_some() {
            return Err("a separate PORT goes with a bare host, not with a URL".into());
        }
        return parse_url(&scheme.to_ascii_lowercase(), rest);
    }
    // host:port, [v6]:port, or host with a separate PORT: plain TCP.
    let (host, port) = match args.port {
        Some(port) => (raw.trim_matches(|c| c == '[' || c == ']').to_owned(), port),
        None => split_host_port(raw)?,
    };
    tcp_target("tcp", &host, port)
}

fn split_host_port(s: &str) -> Result<(String, u16), String> {
    let bad = || format!("TARGET {s:?}: expected host:port, [v6]:port, host PORT or a URL");
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        (host, after.strip_prefix(':').ok_or_else(bad)?)
    } else {
        s.rsplit_once(':').ok_or_else(bad)?
    };
    if host.is_empty() || host.contains(':') && !s.starts_with('[') {
        return Err(bad());
    }
    let port: u16 = port.parse().map_err(|_| bad())?;
    if port == 0 {
        return Err(bad());
    }
    Ok((host.to_owned(), port))
}

/// `tcp://` and `tls://` ride on `telnet://` and `https://` with
/// connect-only = 1: the library sends nothing on either (telnet's option
/// negotiation and the HTTP request live in the transfer, which
/// connect-only never reaches).
fn tcp_target(scheme: &str, host: &str, port: u16) -> Result<Target, String> {
    let tls = scheme == "tls";
    let lib_scheme = if tls { Scheme::Https } else { Scheme::Telnet };
    let url = format!("{}://{}/", lib_scheme.name(), authority(host, port));
    // Checked by the library's own URL parser, so errors read the same.
    Url::parse(&url).map_err(|e| format!("TARGET: {e}"))?;
    Ok(Target {
        url,
        scheme: scheme.to_owned(),
        lib_scheme,
        host: host.to_owned(),
        port,
        mode: ConnectOnly::Connection,
        tls,
    })
}

fn parse_url(scheme: &str, rest: &str) -> Result<Target, String> {
    if scheme == "tcp" || scheme == "tls" {
        let hostport = rest.trim_end_matches('/');
        let (host, port) = split_host_port(hostport)?;
        return tcp_target(scheme, &host, port);
    }
    let url_text = format!("{scheme}://{rest}");
    let url = Url::parse(&url_text).map_err(|e| format!("TARGET: {e}"))?;
    let lib_scheme = Scheme::from_name(scheme)
        .ok_or_else(|| format!("TARGET: scheme {scheme}:// is not supported"))?;
    let port = url
        .port_or_default()
        .ok_or_else(|| format!("TARGET: {url_text} has no port"))?;
    // http(s) sends the request and reads the head, ws(s) upgrades
    // (connect-only = 2); every other scheme stops once its connect phase
    // (greeting, login, STARTTLS) is done (connect-only = 1).
    let mode = match lib_scheme {
        Scheme::Http | Scheme::Https | Scheme::Ws | Scheme::Wss => ConnectOnly::Headers,
        _ => ConnectOnly::Connection,
    };
    Ok(Target {
        url: url_text,
        scheme: scheme.to_owned(),
        lib_scheme,
        host: url.host.clone(),
        port,
        mode,
        tls: lib_scheme.uses_tls(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_urls_lose_their_password_only() {
        let shown = |u: &str| without_password(u);
        assert_eq!(
            shown("imap://alice:s3cret@host:143/INBOX"),
            "imap://alice@host:143/INBOX"
        );
        assert_eq!(shown("ftp://bob@host/"), "ftp://bob@host/");
        assert_eq!(shown("https://host/a@b"), "https://host/a@b");
        assert_eq!(shown("https://u:p@w@host?q=1"), "https://u@host?q=1");
    }

    fn t(target: &str, port: Option<u16>) -> Result<Target, String> {
        parse(&TargetArgs {
            target: target.into(),
            port,
        })
    }

    #[test]
    fn every_form_of_target() {
        let a = t("example.com:22", None).unwrap();
        assert_eq!(
            (a.url.as_str(), a.mode),
            ("telnet://example.com:22/", ConnectOnly::Connection)
        );
        let b = t("example.com", Some(22)).unwrap();
        assert_eq!(b.url, a.url);
        let c = t("[::1]:8443", None).unwrap();
        assert_eq!((c.host.as_str(), c.port), ("::1", 8443));
        let d = t("tls://[::1]:8443", None).unwrap();
        assert!(d.tls);
        assert_eq!(d.url, "https://[::1]:8443/");
        let e = t("https://example.com/x", None).unwrap();
        assert_eq!((e.port, e.mode), (443, ConnectOnly::Headers));
        let f = t("wss://example.com", None).unwrap();
        assert_eq!(f.goal(), "WebSocket upgrade");
        let g = t("ftp://example.com", None).unwrap();
        assert_eq!((g.port, g.mode), (21, ConnectOnly::Connection));
        assert!(t("example.com", None).is_err());
        assert!(t("::1:80", None).is_err());
        assert!(t("gopherz://x", None).is_err());
    }
}
