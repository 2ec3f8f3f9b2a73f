//! `handover plan`: the layer stack a probe would build, worked out without
//! touching the network. Which proxies, in which order, from which option
//! or environment variable, whether NO_PROXY matched and whether the last
//! HTTP proxy tunnels are the library's own answer
//! ([`handover::Easy::route_plan`], the selection `perform` makes); this
//! file adds what only the command line knows (which flag or config chain
//! gave a hop, where its password comes from) and lays it out.

use std::time::Duration;

use handover::{DirectReason, HopOrigin, PlannedHop};
use handover_proto::proxy::{ProxyKind, ProxySpec};
use handover_proto::url::Scheme;
use serde_json::{json, Value};

use crate::chain::{Chain, Credentials};
use crate::target::Target;

/// One proxy hop of the plan.
#[derive(Clone, Debug)]
pub struct HopPlan {
    /// The hop's URL without credentials, `socks5h://127.0.0.1:1080`.
    pub url: String,
    pub kind: ProxyKind,
    pub host: String,
    pub port: u16,
    /// The port came from curl's default (1080 for every kind), not the URL.
    pub port_defaulted: bool,
    /// Where the hop came from: `-x #2`, `--preproxy`, `env https_proxy`.
    pub source: String,
    pub user: Option<String>,
    /// Where the password comes from, when there is a user.
    pub password_source: Option<String>,
    /// What the hop's URL says of its own auth and TLS (`?auth=ntlm`).
    pub options: handover::HopOptions,
}

/// Everything `plan` shows.
pub struct Plan {
    pub target: Target,
    pub hops: Vec<HopPlan>,
    /// `(list, where it came from, whether it matched the target)`.
    pub noproxy: Option<(String, String, bool)>,
    /// Why there is no proxy, when there is none.
    pub direct_reason: Option<String>,
    /// Whether the last hop, an HTTP proxy, opens a CONNECT tunnel (the
    /// library's decision).
    pub tunnel: bool,
}

/// An error `plan` (and `probe`, before it connects) reports: curl's code
/// and the message.
pub struct PlanError {
    pub code: u32,
    pub message: String,
}

impl From<handover::Error> for PlanError {
    fn from(e: handover::Error) -> PlanError {
        PlanError {
            code: e.code(),
            message: e.message().to_owned(),
        }
    }
}

/// Whether the proxy string named no port, so that curl's default (1080,
/// whatever the kind) applies: parsing it with two different fallback
/// ports only changes the result when it did not.
fn port_defaulted(given: &str, kind: ProxyKind) -> bool {
    ProxySpec::parse(given, kind, Some(1)).is_ok_and(|a| a.port == 1)
        && ProxySpec::parse(given, kind, Some(2)).is_ok_and(|b| b.port == 2)
}

/// The plan of one hop: the library's hop, with the command line's
/// `source` for it, the string it was given as, and its credentials.
fn hop_plan(
    hop: PlannedHop,
    source: String,
    given: Option<&str>,
    credentials: Option<&Credentials>,
) -> HopPlan {
    let spec = hop.spec;
    let password_source = match (credentials, &spec.user) {
        (Some(c), _) => Some(c.source.to_owned()),
        (None, Some(_)) if hop.has_password => Some("proxy URL".to_owned()),
        (None, Some(_)) => Some("none".to_owned()),
        (None, None) => None,
    };
    HopPlan {
        url: spec.to_string(),
        kind: spec.kind,
        host: spec.host.clone(),
        port: spec.port,
        port_defaulted: given.is_some_and(|g| port_defaulted(g, spec.kind)),
        source,
        user: credentials.map(|c| c.user.clone()).or(spec.user),
        password_source,
        options: hop.options,
    }
}

/// The hops the library will use for `target`: its own selection
/// ([`handover::Easy::route_plan`]), each hop named by the flag, config
/// chain or environment variable that gave it.
pub fn plan(chain: &Chain, target: &Target, easy: &handover::Easy) -> Result<Plan, PlanError> {
    let a = &chain.args;
    let route = easy.route_plan()?;
    let urls = chain.hop_urls(&target.host);
    // A chain of several hops is handed to the library with --preproxy
    // as its first entry (chain.rs).
    let preproxy_first = urls.len() > 1 && a.preproxy.is_some();
    let preproxy = || ("--preproxy".to_owned(), a.preproxy.as_deref(), None);
    let hops = route
        .hops
        .into_iter()
        .map(|hop| {
            let given = |i: usize| {
                (
                    chain.hop_sources.get(i).cloned().unwrap_or_default(),
                    urls.get(i).map(String::as_str),
                    chain.hop_credentials.get(i).and_then(Option::as_ref),
                )
            };
            let (source, string, credentials) = match &hop.origin {
                HopOrigin::Chain(0) if preproxy_first => preproxy(),
                HopOrigin::Chain(i) => given(i - usize::from(preproxy_first)),
                HopOrigin::PreProxy => preproxy(),
                HopOrigin::Proxy => given(0),
                HopOrigin::Environment(var) => {
                    (format!("env {var}"), None, chain.env_credentials.as_ref())
                }
            };
            hop_plan(hop, source, string, credentials)
        })
        .collect();
    let noproxy = route.no_proxy.map(|c| {
        let from = c
            .variable
            .map_or_else(|| "--noproxy".to_owned(), |v| format!("env {v}"));
        (c.list, from, c.matched)
    });
    let direct_reason = route.direct.map(|reason| match reason {
        DirectReason::ProxyOff => "-x \"\" turns proxies off".to_owned(),
        DirectReason::NoEnvironmentProxy => format!(
            "no -x and no proxy variable for {}:// in the environment",
            target.lib_scheme.name()
        ),
        DirectReason::NoProxyMatched => match &noproxy {
            Some((_, from, _)) => format!("{from} matches {}", target.host),
            None => "NO_PROXY matches".to_owned(),
        },
        DirectReason::UnixSocket => "a Unix socket is set: proxies do not apply".to_owned(),
        DirectReason::LocalScheme => "the scheme uses no network".to_owned(),
    });
    Ok(Plan {
        target: target.clone(),
        hops,
        tunnel: route.tunnel,
        noproxy,
        direct_reason,
    })
}

/// Who resolves the name of what comes after a hop of this kind.
fn resolver_after(kind: ProxyKind, hop: usize) -> String {
    match kind {
        ProxyKind::Socks4 | ProxyKind::Socks5 => {
            "locally (this SOCKS kind takes an address)".to_owned()
        }
        _ => format!("by proxy {hop}"),
    }
}

fn is_ip(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok()
}

impl Plan {
    /// The layers in order, each a JSON object (the text form prints the
    /// same fields).
    pub fn layers(&self, chain: &Chain) -> Vec<Value> {
        let a = &chain.args;
        let mut out = Vec::new();
        let auth_methods = if a.proxy_digest {
            "Digest"
        } else if a.proxy_ntlm {
            "NTLM"
        } else if a.proxy_anyauth {
            "any the 407 offers"
        } else {
            "Basic, sent pre-emptively"
        };
        for (i, hop) in self.hops.iter().enumerate() {
            let n = i + 1;
            let resolved_by = match (i, is_ip(&hop.host)) {
                (_, true) => "IP literal, no lookup".to_owned(),
                (0, false) => "locally".to_owned(),
                (_, false) => resolver_after(self.hops[i - 1].kind, i),
            };
            let auth = match (hop.kind, &hop.user) {
                (_, None) => "none".to_owned(),
                (ProxyKind::Socks5 | ProxyKind::Socks5h, Some(u)) => {
                    format!("username/password (RFC 1929) as {u}")
                }
                (ProxyKind::Socks4 | ProxyKind::Socks4a, Some(u)) => format!("user id {u}"),
                (_, Some(u)) => match &hop.options.auth {
                    Some(names) => format!("{} (the hop's auth=) as {u}", names.join(", ")),
                    None => format!("{auth_methods} as {u}"),
                },
            };
            let tls = (hop.kind == ProxyKind::Https).then(|| {
                json!({
                    "verify": !hop.options.insecure.unwrap_or(a.proxy_insecure),
                    "ca": hop.options.cacert.clone().or_else(|| {
                        a.proxy_cacert.as_ref().map(|p| p.display().to_string())
                    }).unwrap_or_else(|| "system".to_owned()),
                    "client_cert": a.proxy_cert.as_ref().map(|p| p.display().to_string()),
                    "pinned": a.proxy_pinnedpubkey.is_some(),
                })
            });
            let next = self.hops.get(n).map_or(self.target.authority(), |h| {
                format!("{}:{}", h.host, h.port)
            });
            out.push(json!({
                "hop": n,
                "layer": crate::attempt::hop_layer(&hop.url),
                "proxy": hop.url,
                "source": hop.source,
                "port_defaulted": hop.port_defaulted,
                "hint": (hop.port_defaulted && hop.kind.is_http())
                    .then_some("no port given: curl's default 1080; HTTP proxies usually listen on 3128 or 8080"),
                "resolved": resolved_by,
                "auth": auth,
                "password_from": hop.password_source,
                "tls": tls,
                "to": next,
            }));
        }
        out
    }

    /// Whether the last hop (an HTTP proxy) opens a CONNECT tunnel; `None`
    /// when the last hop is not an HTTP proxy.
    pub fn tunnel(&self) -> Option<bool> {
        let last = self.hops.last()?;
        last.kind.is_http().then_some(self.tunnel)
    }

    pub fn to_json(&self, chain: &Chain) -> Value {
        let a = &chain.args;
        let t = &self.target;
        let target_resolved = match (self.hops.last(), is_ip(&t.host)) {
            (_, true) => "IP literal, no lookup".to_owned(),
            (None, false) => "locally".to_owned(),
            (Some(h), false) => resolver_after(h.kind, self.hops.len()),
        };
        let target_tls = t.tls.then(|| {
            json!({
                "sni": t.host,
                "verify": !a.insecure,
                "ca": a.cacert.as_ref().map_or("system".to_owned(), |p| p.display().to_string()),
                "alpn": match (t.scheme.as_str(), t.lib_scheme) {
                    ("tls", _) => "none",
                    (_, Scheme::Https | Scheme::Wss) => "http/1.1",
                    _ => "none",
                },
                "min_version": if a.tls13 { "1.3" } else { "1.2" },
                "client_cert": a.cert.as_ref().map(|p| p.display().to_string()),
                "pinned": a.pinnedpubkey.is_some(),
            })
        });
        let secs = |d: Duration| d.as_secs_f64();
        json!({
            "schema": 1,
            "type": "plan",
            "target": {
                "input": t.scheme.clone() + "://" + &t.authority(),
                "url": t.shown_url(),
                "host": t.host,
                "port": t.port,
                "connect_only": t.mode.as_long(),
                "goal": t.goal(),
                "resolved": target_resolved,
                "tls": target_tls,
            },
            "proxied": !self.hops.is_empty(),
            "direct_reason": self.direct_reason,
            "noproxy": self.noproxy.as_ref().map(|(list, from, matched)| json!({
                "list": list, "from": from, "matched": matched,
                "applies": a.proxy.len() <= 1,
            })),
            "hops": self.layers(chain),
            "tunnel": self.tunnel(),
            "resolve": a.resolve,
            "connect_to": a.connect_to,
            "ip_version": if a.ipv4 { "4" } else if a.ipv6 { "6" } else { "any" },
            "timeouts": {
                "connect_s": a.connect_timeout.unwrap_or(secs(Duration::from_secs(300))),
                "connect_default": a.connect_timeout.is_none(),
                "max_time_s": a.max_time,
                "happy_eyeballs_ms": a.happy_eyeballs_timeout_ms.unwrap_or(200),
            },
        })
    }

    pub fn to_text(&self, chain: &Chain) -> String {
        use std::fmt::Write as _;
        let v = self.to_json(chain);
        let t = &v["target"];
        let mut s = String::new();
        let _ = writeln!(
            s,
            "handover → {} ({}), connect-only {}",
            self.target.authority(),
            t["goal"].as_str().unwrap_or(""),
            t["connect_only"]
        );
        match &self.noproxy {
            Some((list, from, matched)) => {
                let _ = writeln!(
                    s,
                    "  no-proxy   {from} = {list:?}: {}",
                    if *matched {
                        "matches the target"
                    } else {
                        "does not match"
                    }
                );
            }
            None if chain.args.proxy.len() > 1 => {
                let _ = writeln!(s, "  no-proxy   not applied to a chain of -x hops");
            }
            None => {}
        }
        if let Some(reason) = &self.direct_reason {
            let _ = writeln!(s, "  direct     {reason}");
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "  #  layer        peer                        details");
        let mut n = 0;
        let mut row = |layer: &str, peer: &str, details: Vec<String>| {
            n += 1;
            let _ = writeln!(
                s,
                "  {n:<2} {layer:<12} {peer:<27} {}",
                details.first().map_or("", |d| d.as_str())
            );
            for d in details.iter().skip(1) {
                let _ = writeln!(s, "  {:<2} {:<12} {:<27} {d}", "", "", "");
            }
        };
        let first = self.hops.first().map_or(self.target.authority(), |h| {
            format!("{}:{}", h.host, h.port)
        });
        row(
            "tcp",
            &first,
            vec![format!(
                "happy eyeballs, {} ms head start",
                v["timeouts"]["happy_eyeballs_ms"]
            )],
        );
        for layer in v["hops"].as_array().into_iter().flatten() {
            let mut d = vec![
                format!("from {}", layer["source"].as_str().unwrap_or("")),
                format!("name resolved {}", layer["resolved"].as_str().unwrap_or("")),
                format!("auth: {}", layer["auth"].as_str().unwrap_or("")),
            ];
            if let Some(p) = layer["password_from"].as_str() {
                d.push(match p {
                    "none" => "no password".to_owned(),
                    p => format!("password from {p}"),
                });
            }
            if layer["tls"].is_object() {
                d.push(format!(
                    "TLS to the proxy, verify {}, CA {}",
                    layer["tls"]["verify"],
                    layer["tls"]["ca"].as_str().unwrap_or("")
                ));
            }
            if let Some(h) = layer["hint"].as_str() {
                d.push(format!("hint: {h}"));
            }
            d.push(format!("→ {}", layer["to"].as_str().unwrap_or("")));
            row(
                layer["layer"].as_str().unwrap_or(""),
                layer["proxy"].as_str().unwrap_or(""),
                d,
            );
        }
        match self.tunnel() {
            Some(true) => {}
            Some(false) => row(
                "request",
                "(to the proxy)",
                vec!["no tunnel: the request goes to the HTTP proxy".into()],
            ),
            None => {}
        }
        if let Some(tls) = t["tls"].as_object() {
            row(
                "tls",
                &self.target.authority(),
                vec![format!(
                    "SNI {}, verify {}, CA {}, ALPN {}, TLS ≥ {}",
                    tls["sni"].as_str().unwrap_or(""),
                    tls["verify"],
                    tls["ca"].as_str().unwrap_or(""),
                    tls["alpn"].as_str().unwrap_or(""),
                    tls["min_version"].as_str().unwrap_or("")
                )],
            );
        }
        if self.target.mode == handover::ConnectOnly::Headers {
            row(
                self.target_layer(),
                &self.target.authority(),
                vec![format!("then stop: {}", self.target.goal())],
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "  target name {} resolved {}",
            self.target.host,
            t["resolved"].as_str().unwrap_or("")
        );
        let to = &v["timeouts"];
        let _ = writeln!(
            s,
            "  timeouts    connect {} s{}, max-time {}",
            to["connect_s"],
            if to["connect_default"] == true {
                " (default)"
            } else {
                ""
            },
            to["max_time_s"]
                .as_f64()
                .map_or("none".to_owned(), |m| format!("{m} s"))
        );
        s
    }

    fn target_layer(&self) -> &'static str {
        match self.target.lib_scheme {
            Scheme::Ws | Scheme::Wss => "upgrade",
            _ => "request",
        }
    }
}
