//! The route of a transfer: which proxies stand between handover and the
//! target, in order, and whether the last HTTP proxy tunnels or is itself
//! the end of the connection.
//!
//! libcurl's selection: the Rust-only `proxy_chain` if set; else
//! `pre_proxy` (a SOCKS hop) then `proxy`, where an unset `proxy` consults
//! the environment and an empty one turns proxies off; `noproxy` (or
//! `no_proxy`) exempts matching hosts.

use handover_proto::auth::Credentials;
use handover_proto::proxy::{noproxy_from_env, proxy_from_env, NoProxy, ProxyKind, ProxySpec};
use handover_proto::url::Scheme;

use crate::error::{Error, ErrorKind};
use crate::options::Options;
use crate::tls::{Alpn, TlsCache, TlsSetup};

/// One proxy on the way.
pub(crate) struct Hop {
    pub spec: ProxySpec,
    pub credentials: Option<Credentials>,
    /// TLS to the proxy itself, for `https://` proxies.
    pub tls: Option<TlsSetup>,
}

/// The proxies, first hop first.
pub(crate) struct Route {
    pub hops: Vec<Hop>,
    /// The last hop, when it is an HTTP proxy, opens a CONNECT tunnel to the
    /// target; otherwise a connect-only transfer ends at the proxy itself.
    pub tunnel: bool,
}

impl Route {
    /// No proxy at all.
    pub fn direct() -> Route {
        Route {
            hops: Vec::new(),
            tunnel: false,
        }
    }

    /// True when the connection reaches the target (through tunnels or
    /// SOCKS) rather than ending at an HTTP proxy.
    pub fn reaches_target(&self) -> bool {
        match self.hops.last() {
            None => true,
            Some(hop) => hop.spec.kind.is_socks() || self.tunnel,
        }
    }
}

/// A proxy string that did not parse: an unknown `scheme://` is an
/// unsupported protocol (1), anything else a proxy that cannot be used (5).
fn proxy_error(what: &str, input: &str, e: impl std::fmt::Display) -> Error {
    let unknown_scheme = input
        .split_once("://")
        .is_some_and(|(scheme, _)| ProxyKind::from_scheme(scheme).is_none());
    let kind = if unknown_scheme {
        ErrorKind::UnsupportedProtocol
    } else {
        ErrorKind::CouldntResolveProxy
    };
    Error::new(kind, format!("bad {what}: {e}"))
}

/// Works out the route for a URL of `scheme` to `host`. `env` reads the
/// environment (a parameter so tests can feed their own).
pub(crate) fn plan(
    opts: &Options,
    scheme: Scheme,
    host: &str,
    connect_to_matched: bool,
    tls: &mut TlsCache,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Route, Error> {
    if opts.unix_socket.is_some() || scheme.local() {
        // libcurl: "do not mix proxy and Unix domain sockets" — a proxy
        // cannot reach the socket, so every proxy setting is ignored; a
        // file:// URL uses no network at all.
        return Ok(Route::direct());
    }
    let p = &opts.proxy;
    let default_kind = p.kind.kind();
    let mut specs: Vec<ProxySpec> = Vec::new();
    if let Some(chain) = &p.chain {
        for entry in chain {
            specs.push(
                ProxySpec::parse(entry, ProxyKind::Http, None)
                    .map_err(|e| proxy_error("proxy chain entry", entry, e))?,
            );
        }
    } else {
        let proxy = match &p.proxy {
            Some(s) => s.clone(),
            None => proxy_from_env(scheme.name(), env).unwrap_or_default(),
        };
        if proxy.is_empty() {
            return Ok(Route::direct());
        }
        let noproxy = match &p.noproxy {
            Some(list) => Some(list.clone()),
            None => noproxy_from_env(env),
        };
        if noproxy.is_some_and(|list| NoProxy::parse(&list).matches(host)) {
            return Ok(Route::direct());
        }
        if let Some(pre) = p.pre_proxy.as_deref().filter(|s| !s.is_empty()) {
            let spec = ProxySpec::parse(pre, ProxyKind::Socks4, None)
                .map_err(|e| proxy_error("pre-proxy", pre, e))?;
            if !spec.kind.is_socks() {
                return Err(Error::new(
                    ErrorKind::UnsupportedProtocol,
                    format!("pre-proxy {spec} must be a SOCKS proxy"),
                ));
            }
            specs.push(spec);
        }
        let mut spec = ProxySpec::parse(&proxy, default_kind, p.port.filter(|&port| port != 0))
            .map_err(|e| proxy_error("proxy", &proxy, e))?;
        if let Some(user) = &p.username {
            spec.user = Some(user.clone());
        }
        if let Some(password) = &p.password {
            spec.password = Some(password.clone());
        }
        specs.push(spec);
    }
    let mut hops = Vec::with_capacity(specs.len());
    for spec in specs {
        let credentials = spec.user.clone().map(|user| Credentials {
            user,
            password: spec.password.clone().unwrap_or_default(),
        });
        let hop_tls = if spec.kind == ProxyKind::Https {
            Some(tls.get(&p.tls, Alpn::Http11)?)
        } else {
            None
        };
        hops.push(Hop {
            spec,
            credentials,
            tls: hop_tls,
        });
    }
    // libcurl tunnels when asked, for TLS schemes, for schemes an HTTP proxy
    // cannot forward (everything but http), and when connect_to redirected.
    let tunnel = p.tunnel || p.chain.is_some() || !scheme.proxied_as_http() || connect_to_matched;
    Ok(Route { hops, tunnel })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn route(
        opts: &Options,
        scheme: Scheme,
        host: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Route {
        plan(opts, scheme, host, false, &mut TlsCache::default(), env).unwrap()
    }

    #[test]
    fn environment_is_read_only_when_proxy_is_unset() {
        let env = env_of(&[
            ("http_proxy", "http://envproxy:3128"),
            ("HTTP_PROXY", "http://upper:1"),
        ]);
        let opts = Options::default();
        let r = route(&opts, Scheme::Http, "example.com", &env);
        assert_eq!(r.hops.len(), 1);
        assert_eq!(r.hops[0].spec.host, "envproxy");
        assert!(
            !r.tunnel,
            "http:// through an HTTP proxy is forwarded, not tunneled"
        );

        let mut off = Options::default();
        off.proxy.proxy = Some(String::new());
        assert!(route(&off, Scheme::Http, "example.com", &env)
            .hops
            .is_empty());

        let upper_only = env_of(&[("HTTP_PROXY", "http://upper:1")]);
        assert!(route(&opts, Scheme::Http, "example.com", &upper_only)
            .hops
            .is_empty());
    }

    #[test]
    fn noproxy_and_no_proxy_exempt_hosts() {
        let env = env_of(&[
            ("https_proxy", "http://p:3128"),
            ("no_proxy", "internal.example"),
        ]);
        let opts = Options::default();
        assert!(route(&opts, Scheme::Https, "a.internal.example", &env)
            .hops
            .is_empty());
        let r = route(&opts, Scheme::Https, "example.com", &env);
        assert_eq!(r.hops.len(), 1);
        assert!(r.tunnel, "TLS schemes always tunnel");

        let mut opts = Options::default();
        opts.proxy.proxy = Some("socks5h://s:1080".into());
        opts.proxy.noproxy = Some("*".into());
        assert!(route(&opts, Scheme::Http, "anything", &env).hops.is_empty());
    }

    #[test]
    fn pre_proxy_comes_first_and_credentials_options_win() {
        let mut opts = Options::default();
        opts.proxy.proxy = Some("http://u:p@proxy:8080".into());
        opts.proxy.pre_proxy = Some("socks5://pre:1080".into());
        opts.proxy.password = Some("override".into());
        let r = route(&opts, Scheme::Telnet, "t", &|_| None);
        assert_eq!(r.hops.len(), 2);
        assert_eq!(r.hops[0].spec.kind, ProxyKind::Socks5);
        let creds = r.hops[1].credentials.as_ref().unwrap();
        assert_eq!(
            (creds.user.as_str(), creds.password.as_str()),
            ("u", "override")
        );
        assert!(r.tunnel, "telnet cannot be forwarded by an HTTP proxy");

        opts.proxy.pre_proxy = Some("http://notsocks:1".into());
        let err = plan(
            &opts,
            Scheme::Http,
            "h",
            false,
            &mut TlsCache::default(),
            &|_| None,
        );
        assert_eq!(err.err().map(|e| e.code()), Some(1));
    }

    #[test]
    fn unusable_proxy_strings_map_to_libcurls_codes() {
        for (proxy, code) in [
            ("gopher://p:70", 1),
            ("http://p:99999", 5),
            ("http://:8080", 5),
        ] {
            let mut opts = Options::default();
            opts.proxy.proxy = Some(proxy.into());
            let err = plan(
                &opts,
                Scheme::Http,
                "h",
                false,
                &mut TlsCache::default(),
                &|_| None,
            );
            assert_eq!(err.err().map(|e| e.code()), Some(code), "{proxy}");
        }
    }
}
