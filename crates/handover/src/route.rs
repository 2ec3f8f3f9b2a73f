//! The route of a transfer: which proxies stand between handover and the
//! target, in order, and whether the last HTTP proxy tunnels or is itself
//! the end of the connection.
//!
//! libcurl's selection: the Rust-only `proxy_chain` if set; else
//! `pre_proxy` (a SOCKS hop) then `proxy`, where an unset `proxy` consults
//! the environment and an empty one turns proxies off; `noproxy` (or
//! `no_proxy`) exempts matching hosts.

use std::borrow::Cow;

use handover_proto::auth::{AuthMask, Credentials};
use handover_proto::proxy::{
    noproxy_from_env, proxy_from_env, HopOptions, NoProxy, ProxyKind, ProxySpec,
};
use handover_proto::url::Scheme;

use crate::error::{Error, ErrorKind};
use crate::options::{Options, TlsOptions};
use crate::tls::{Alpn, TlsCache, TlsSetup};

/// One proxy on the way.
pub(crate) struct Hop {
    pub spec: ProxySpec,
    pub credentials: Option<Credentials>,
    /// TLS to the proxy itself, for `https://` proxies.
    pub tls: Option<TlsSetup>,
    /// What its chain entry said of itself (`?auth=…&cacert=…`).
    pub options: HopOptions,
}

impl Hop {
    /// The methods this hop may answer a 407 with, when its chain entry
    /// says (`?auth=`); else the handle's proxy authentication applies.
    pub fn auth(&self) -> Option<AuthMask> {
        self.options.auth.as_deref().map(auth_mask)
    }
}

/// The proxies, first hop first.
pub(crate) struct Route {
    pub hops: Vec<Hop>,
    /// The last hop, when it is an HTTP proxy, opens a CONNECT tunnel to the
    /// target; otherwise a connect-only transfer ends at the proxy itself.
    pub tunnel: bool,
}

impl Route {
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

/// Where a proxy of a [`RoutePlan`] came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HopOrigin {
    /// Entry `i` (from 0) of [`Easy::proxy_chain`](crate::Easy::proxy_chain).
    Chain(usize),
    /// [`Easy::pre_proxy`](crate::Easy::pre_proxy).
    PreProxy,
    /// [`Easy::proxy`](crate::Easy::proxy).
    Proxy,
    /// The environment variable of this name (`https_proxy`, `ALL_PROXY`, …),
    /// read because no proxy was set.
    Environment(String),
}

/// One proxy of a [`RoutePlan`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedHop {
    /// The proxy as the transfer uses it (kind, host, port, user), its
    /// password taken out: see `has_password`.
    pub spec: ProxySpec,
    /// Whether a password goes with the user (from the proxy string or
    /// [`Easy::proxy_password`](crate::Easy::proxy_password)).
    pub has_password: bool,
    /// Which option or variable named it.
    pub origin: HopOrigin,
    /// What a proxy chain entry said of itself in its query (`?auth=ntlm&
    /// cacert=corp.pem`); empty for the proxy and pre-proxy, whose query
    /// libcurl ignores.
    pub options: HopOptions,
}

/// Why a [`RoutePlan`] has no proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirectReason {
    /// A Unix socket is set: libcurl does not mix proxies and Unix sockets.
    UnixSocket,
    /// The scheme uses no network (`file://`).
    LocalScheme,
    /// The proxy was set to the empty string, which turns proxies off.
    ProxyOff,
    /// No proxy was set and the environment has none for the scheme.
    NoEnvironmentProxy,
    /// The no-proxy list matched the host.
    NoProxyMatched,
}

/// The no-proxy list a [`RoutePlan`] consulted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoProxyCheck {
    /// The list, as given.
    pub list: String,
    /// The environment variable it came from (`NO_PROXY`, `no_proxy`);
    /// `None` for [`Easy::noproxy`](crate::Easy::noproxy).
    pub variable: Option<String>,
    /// The host it was matched against: the URL's, or where
    /// `connect_to` sends the connection.
    pub host: String,
    /// Whether it matched (and the transfer goes direct).
    pub matched: bool,
}

/// The proxies a transfer would go through, worked out from the options
/// and the environment without any I/O:
/// [`Easy::route_plan`](crate::Easy::route_plan). libcurl has no such
/// question; `handover plan` shows its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutePlan {
    /// The proxies, first hop first.
    pub hops: Vec<PlannedHop>,
    /// Whether the last hop, an HTTP proxy, opens a CONNECT tunnel (rather
    /// than being asked for the URL itself); `false` without HTTP proxies.
    pub tunnel: bool,
    /// Why there is no proxy, when there is none.
    pub direct: Option<DirectReason>,
    /// The no-proxy list, when one was consulted (a chain consults none).
    pub no_proxy: Option<NoProxyCheck>,
}

/// Reads the environment through `env`, remembering the name of the last
/// variable that had a value: the proxy functions stop at the first they
/// find, so that is the one they used.
struct NamedEnv<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    found: std::cell::RefCell<Option<String>>,
}

impl NamedEnv<'_> {
    fn get(&self, name: &str) -> Option<String> {
        let value = (self.env)(name).filter(|v| !v.is_empty());
        if value.is_some() {
            *self.found.borrow_mut() = Some(name.to_owned());
        }
        value
    }

    fn found(&self) -> Option<String> {
        self.found.borrow_mut().take()
    }
}

/// Selects the proxies for a URL of `scheme` whose connection goes to
/// `host` (after `connect_to`), in libcurl's order: the proxy chain; else
/// the pre-proxy and the proxy (or the environment's), unless the
/// no-proxy list matches. `env` reads the environment (a parameter so
/// tests can feed their own).
pub(crate) fn select(
    opts: &Options,
    scheme: Scheme,
    host: &str,
    connect_to_matched: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<RoutePlan, Error> {
    let direct = |reason: DirectReason, no_proxy: Option<NoProxyCheck>| RoutePlan {
        hops: Vec::new(),
        tunnel: false,
        direct: Some(reason),
        no_proxy,
    };
    if opts.unix_socket.is_some() {
        // libcurl: "do not mix proxy and Unix domain sockets" — a proxy
        // cannot reach the socket, so every proxy setting is ignored.
        return Ok(direct(DirectReason::UnixSocket, None));
    }
    if scheme.local() {
        return Ok(direct(DirectReason::LocalScheme, None));
    }
    let p = &opts.proxy;
    let mut hops: Vec<PlannedHop> = Vec::new();
    let mut no_proxy = None;
    let mut push = |spec: ProxySpec, origin: HopOrigin, options: HopOptions| {
        hops.push(PlannedHop {
            has_password: spec.password.is_some(),
            spec,
            origin,
            options,
        })
    };
    if let Some(chain) = &p.chain {
        for (i, entry) in chain.iter().enumerate() {
            let bad = |e| proxy_error("proxy chain entry", entry, e);
            let spec = ProxySpec::parse(entry, ProxyKind::Http, None).map_err(bad)?;
            let options = HopOptions::parse(entry).map_err(bad)?;
            push(spec, HopOrigin::Chain(i), options);
        }
    } else {
        let env = NamedEnv {
            env,
            found: Default::default(),
        };
        let (proxy, origin) = match &p.proxy {
            Some(s) => (s.clone(), HopOrigin::Proxy),
            None => match proxy_from_env(scheme.name(), |n| env.get(n)) {
                Some(s) => (s, HopOrigin::Environment(env.found().unwrap_or_default())),
                None => return Ok(direct(DirectReason::NoEnvironmentProxy, None)),
            },
        };
        if proxy.is_empty() {
            return Ok(direct(DirectReason::ProxyOff, None));
        }
        let list = match &p.noproxy {
            Some(list) => Some((list.clone(), None)),
            None => noproxy_from_env(|n| env.get(n)).map(|l| (l, env.found())),
        };
        if let Some((list, variable)) = list {
            let matched = NoProxy::parse(&list).matches(host);
            let check = NoProxyCheck {
                list,
                variable,
                host: host.to_owned(),
                matched,
            };
            if matched {
                return Ok(direct(DirectReason::NoProxyMatched, Some(check)));
            }
            no_proxy = Some(check);
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
            push(spec, HopOrigin::PreProxy, HopOptions::default());
        }
        let default_kind = p.kind.kind();
        let mut spec = ProxySpec::parse(&proxy, default_kind, p.port.filter(|&port| port != 0))
            .map_err(|e| proxy_error("proxy", &proxy, e))?;
        if let Some(user) = &p.username {
            spec.user = Some(user.clone());
        }
        if let Some(password) = &p.password {
            spec.password = Some(password.clone());
        }
        push(spec, origin, HopOptions::default());
    }
    // libcurl tunnels when asked, for TLS schemes, for schemes an HTTP proxy
    // cannot forward (everything but http), and when connect_to redirected.
    let tunnel = hops.last().is_some_and(|h| h.spec.kind.is_http())
        && (p.tunnel || p.chain.is_some() || !scheme.proxied_as_http() || connect_to_matched);
    Ok(RoutePlan {
        hops,
        tunnel,
        direct: None,
        no_proxy,
    })
}

/// Works out the route for a URL of `scheme` to `host`: the selected
/// proxies with their credentials and TLS configurations.
pub(crate) fn plan(
    opts: &Options,
    scheme: Scheme,
    host: &str,
    connect_to_matched: bool,
    tls: &mut TlsCache,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Route, Error> {
    let selected = select(opts, scheme, host, connect_to_matched, env)?;
    let mut hops = Vec::with_capacity(selected.hops.len());
    for PlannedHop { spec, options, .. } in selected.hops {
        let credentials = spec.user.clone().map(|user| Credentials {
            user,
            password: spec.password.clone().unwrap_or_default(),
        });
        let tls_setup = if spec.kind == ProxyKind::Https {
            Some(tls.get(&hop_tls(opts, &options), Alpn::Http11)?)
        } else {
            None
        };
        hops.push(Hop {
            spec,
            credentials,
            tls: tls_setup,
            options,
        });
    }
    Ok(Route {
        hops,
        tunnel: selected.tunnel,
    })
}

/// The TLS settings for an HTTPS proxy hop: the handle's proxy settings,
/// with what the hop's chain entry says of its CA file and verification.
pub(crate) fn hop_tls<'a>(opts: &'a Options, options: &HopOptions) -> Cow<'a, TlsOptions> {
    if options.cacert.is_none() && options.insecure.is_none() {
        return Cow::Borrowed(&opts.proxy.tls);
    }
    let mut tls = opts.proxy.tls.clone();
    if let Some(ca) = &options.cacert {
        tls.cainfo = Some(ca.into());
        tls.cainfo_blob = None;
    }
    if let Some(insecure) = options.insecure {
        tls.verify_peer = !insecure;
        tls.verify_host = !insecure;
    }
    Cow::Owned(tls)
}

/// The methods `auth=` names (already checked by [`HopOptions::parse`]).
fn auth_mask(names: &[String]) -> AuthMask {
    let bits = names.iter().fold(0, |bits, name| {
        bits | match name.as_str() {
            "basic" => AuthMask::BASIC.0,
            "digest" => AuthMask::DIGEST.0,
            "ntlm" => AuthMask::NTLM.0,
            _ => AuthMask::ANY.0,
        }
    });
    AuthMask(bits)
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
    fn the_selection_says_where_each_hop_came_from_and_why_none_did() {
        let env = env_of(&[
            ("HTTPS_PROXY", "http://envp:3128"),
            ("no_proxy", "skip.example"),
        ]);
        let opts = Options::default();
        let sel = |o: &Options, host: &str| select(o, Scheme::Https, host, false, &env).unwrap();
        let r = sel(&opts, "example.com");
        assert_eq!(
            r.hops[0].origin,
            HopOrigin::Environment("HTTPS_PROXY".into())
        );
        assert!(r.tunnel);
        assert_eq!(
            r.no_proxy,
            Some(NoProxyCheck {
                list: "skip.example".into(),
                variable: Some("no_proxy".into()),
                host: "example.com".into(),
                matched: false,
            })
        );
        let r = sel(&opts, "a.skip.example");
        assert_eq!(r.direct, Some(DirectReason::NoProxyMatched));
        assert!(r.no_proxy.is_some_and(|c| c.matched));

        let mut off = Options::default();
        off.proxy.proxy = Some(String::new());
        assert_eq!(
            sel(&off, "example.com").direct,
            Some(DirectReason::ProxyOff)
        );
        let none = select(&opts, Scheme::Https, "h", false, &|_| None).unwrap();
        assert_eq!(none.direct, Some(DirectReason::NoEnvironmentProxy));

        let mut both = Options::default();
        both.proxy.proxy = Some("http://p:1".into());
        both.proxy.pre_proxy = Some("socks5://pre:1080".into());
        let origins: Vec<HopOrigin> = sel(&both, "example.com")
            .hops
            .into_iter()
            .map(|h| h.origin)
            .collect();
        assert_eq!(origins, [HopOrigin::PreProxy, HopOrigin::Proxy]);

        // SOCKS last: no CONNECT tunnel to speak of.
        let mut socks = Options::default();
        socks.proxy.proxy = Some("socks5h://s:1080".into());
        assert!(!sel(&socks, "example.com").tunnel);
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
