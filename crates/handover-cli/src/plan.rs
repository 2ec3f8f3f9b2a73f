//! `handover plan`: the layer stack a probe would build, worked out without
//! touching the network. Proxy strings, the environment's proxy variables
//! and NO_PROXY are read with the library's own public functions
//! (`handover_proto::proxy`), the same the engine calls; only the order of
//! selection (chain, else pre-proxy + proxy-or-environment unless NO_PROXY
//! matches) is restated here, because the library's route planner is not
//! public.

use std::cell::RefCell;
use std::time::Duration;

use handover_proto::proxy::{noproxy_from_env, proxy_from_env, NoProxy, ProxyKind, ProxySpec};
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
}

/// Everything `plan` shows.
pub struct Plan {
    pub target: Target,
    pub hops: Vec<HopPlan>,
    /// `(list, where it came from, whether it matched the target)`.
    pub noproxy: Option<(String, String, bool)>,
    /// Why there is no proxy, when there is none.
    pub direct_reason: Option<String>,
}

/// An error `plan` (and `probe`, before it connects) reports: curl's code
/// and the message.
pub struct PlanError {
    pub code: u32,
    pub message: String,
}

/// Reads one environment variable, remembering the name of the last one
/// that had a value: the proxy functions stop at the first they find, so
/// that is the one they used.
struct EnvReader {
    found: RefCell<Option<String>>,
}

impl EnvReader {
    fn new() -> EnvReader {
        EnvReader {
            found: RefCell::new(None),
        }
    }

    fn get(&self, name: &str) -> Option<String> {
        let value = std::env::var(name).ok().filter(|v| !v.is_empty());
        if value.is_some() {
            *self.found.borrow_mut() = Some(name.to_owned());
        }
        value
    }

    fn found(&self) -> String {
        self.found.borrow().clone().unwrap_or_default()
    }
}

fn parse_hop(
    s: &str,
    default_kind: ProxyKind,
    source: String,
    credentials: Option<&Credentials>,
) -> Result<HopPlan, PlanError> {
    let spec = ProxySpec::parse(s, default_kind, None).map_err(|e| {
        let unknown_scheme = s
            .split_once("://")
            .is_some_and(|(scheme, _)| ProxyKind::from_scheme(scheme).is_none());
        PlanError {
            // The library's codes for the same strings: 1 for an unknown
            // scheme, 5 for any other unusable proxy.
            code: if unknown_scheme { 1 } else { 5 },
            message: format!("{source}: {e}"),
        }
    })?;
    // Whether the string named a port: parsing again with two different
    // fallback ports only changes the result when it did not.
    let port_defaulted = ProxySpec::parse(s, default_kind, Some(1)).is_ok_and(|a| a.port == 1)
        && ProxySpec::parse(s, default_kind, Some(2)).is_ok_and(|b| b.port == 2);
    let (user, password_source) = match (credentials, &spec.user) {
        (Some(c), _) => (Some(c.user.clone()), Some(c.source.to_owned())),
        (None, Some(user)) => (
            Some(user.clone()),
            Some(match spec.password {
                Some(_) => "proxy URL".to_owned(),
                None => "none".to_owned(),
            }),
        ),
        (None, None) => (None, None),
    };
    Ok(HopPlan {
        url: spec.to_string(),
        kind: spec.kind,
        host: spec.host.clone(),
        port: spec.port,
        port_defaulted,
        source,
        user,
        password_source,
    })
}

/// The hops the library will use for `target`, in the library's order of
/// selection.
pub fn plan(chain: &Chain, target: &Target) -> Result<Plan, PlanError> {
    let a = &chain.args;
    let urls = chain.hop_urls(&target.host);
    let mut hops = Vec::new();
    let mut noproxy = None;
    let mut direct_reason = None;
    if urls.len() > 1 {
        // The library's proxy chain: every hop as given; NO_PROXY does not
        // apply to chains.
        if let Some(pre) = &a.preproxy {
            hops.push(parse_hop(pre, ProxyKind::Http, "--preproxy".into(), None)?);
        }
        for ((p, c), source) in urls
            .iter()
            .zip(&chain.hop_credentials)
            .zip(&chain.hop_sources)
        {
            hops.push(parse_hop(p, ProxyKind::Http, source.clone(), c.as_ref())?);
        }
        return Ok(Plan {
            target: target.clone(),
            hops,
            noproxy: None,
            direct_reason: None,
        });
    }
    let env = EnvReader::new();
    let (proxy, source, credentials) = match urls.first() {
        Some(p) => (
            p.clone(),
            chain.hop_sources[0].clone(),
            chain.hop_credentials[0].as_ref(),
        ),
        None => match proxy_from_env(target.lib_scheme.name(), |n| env.get(n)) {
            Some(p) => (
                p,
                format!("env {}", env.found()),
                chain.env_credentials.as_ref(),
            ),
            None => (String::new(), String::new(), None),
        },
    };
    if proxy.is_empty() {
        direct_reason = Some(match a.proxy.first() {
            Some(_) => "-x \"\" turns proxies off".to_owned(),
            None => format!(
                "no -x and no proxy variable for {}:// in the environment",
                target.lib_scheme.name()
            ),
        });
    } else {
        let env = EnvReader::new();
        let list = match &a.noproxy {
            Some(list) => Some((list.clone(), "--noproxy".to_owned())),
            None => noproxy_from_env(|n| env.get(n)).map(|l| (l, format!("env {}", env.found()))),
        };
        if let Some((list, from)) = list {
            let matched = NoProxy::parse(&list).matches(&target.host);
            if matched {
                direct_reason = Some(format!("{from} matches {}", target.host));
            }
            noproxy = Some((list, from, matched));
        }
        if direct_reason.is_none() {
            if let Some(pre) = a.preproxy.as_deref().filter(|s| !s.is_empty()) {
                hops.push(parse_hop(
                    pre,
                    ProxyKind::Socks4,
                    "--preproxy".into(),
                    None,
                )?);
            }
            hops.push(parse_hop(&proxy, ProxyKind::Http, source, credentials)?);
        }
    }
    Ok(Plan {
        target: target.clone(),
        hops,
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
                (_, Some(u)) => format!("{auth_methods} as {u}"),
            };
            let tls = (hop.kind == ProxyKind::Https).then(|| {
                json!({
                    "verify": !a.proxy_insecure,
                    "ca": a.proxy_cacert.as_ref().map_or("system".to_owned(), |p| p.display().to_string()),
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

    /// Whether the last hop (an HTTP proxy) opens a CONNECT tunnel, as the
    /// library decides it.
    pub fn tunnel(&self, chain: &Chain) -> Option<bool> {
        let last = self.hops.last()?;
        if !last.kind.is_http() {
            return None;
        }
        Some(
            chain.args.proxytunnel
                || chain.args.proxy.len() > 1
                || !self.target.lib_scheme.proxied_as_http()
                || !chain.args.connect_to.is_empty(),
        )
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
            "tunnel": self.tunnel(chain),
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
                d.push(format!("password from {p}"));
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
        match self.tunnel(chain) {
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
