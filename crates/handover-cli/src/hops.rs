//! The proxy hops of a command line, in order, each with where it came
//! from: `--chain NAME` (or `HANDOVER_CHAIN` when the command line names
//! no proxy), then each `-x` — a `-x @NAME` expanding in place to the
//! config chain's hops — then `--socks5-hostname`. `--proxy-type` gives a
//! scheme-less `-x` its scheme, `--proxy-dns` picks the SOCKS variants.

use std::net::ToSocketAddrs;

use handover_proto::proxy::{ProxyKind, ProxySpec};

use crate::args::{ChainArgs, ProxyDns, ProxyScheme};
use crate::config::{self, Config, Profile, Users, CHAIN_ENV};

/// One hop.
pub struct Hop {
    /// As given (credentials may be in it).
    pub url: String,
    /// For `plan`: `-x #2`, `config chain corp (FILE)`, `--socks5-hostname`.
    pub source: String,
    /// The config chain it came from, an index into [`Hops::profiles`].
    pub profile: Option<usize>,
}

/// The hops and the config chains they came from.
#[derive(Default)]
pub struct Hops {
    pub hops: Vec<Hop>,
    pub profiles: Vec<Profile>,
    /// Every `-U`, positioned on the expanded hops: the chains' users
    /// first, so that a `-U` of the command line for the same hop wins.
    pub users: Users,
}

impl Hops {
    /// Expands the command line's hops (`args.proxy`, with `users`
    /// positioned on them) and lays each config chain's other options
    /// under the command line's.
    pub fn expand(args: &mut ChainArgs, users: Users) -> Result<Hops, String> {
        let mut config = Config::open(args.config.as_deref())?;
        let mut out = Hops::default();
        let env_chain = std::env::var(CHAIN_ENV).ok().filter(|n| !n.is_empty());
        let named = match (&args.chain_name, env_chain) {
            (Some(name), _) => Some((name.clone(), String::new())),
            // Like the proxy variables, the environment's chain is the one
            // used when the command line names no proxy.
            (None, Some(name)) if args.proxy.is_empty() && args.socks5_hostname.is_none() => {
                Some((name, format!(" via {CHAIN_ENV}")))
            }
            _ => None,
        };
        if let Some((name, via)) = named {
            out.add(config.profile(&name)?, &via)?;
        }
        let single = args.proxy.len() == 1 && out.hops.is_empty();
        let mut last_of = Vec::with_capacity(args.proxy.len());
        for (i, p) in args.proxy.iter().enumerate() {
            match p.strip_prefix('@') {
                Some(name) => out.add(config.profile(name)?, "")?,
                None => out.hops.push(Hop {
                    url: with_scheme(p, args.proxy_type),
                    source: match single {
                        true => "-x".to_owned(),
                        false => format!("-x #{}", i + 1),
                    },
                    profile: None,
                }),
            }
            last_of.push(out.hops.len() - 1);
        }
        if let Some(host) = args.socks5_hostname.take() {
            out.hops.push(Hop {
                url: format!("socks5h://{host}"),
                source: "--socks5-hostname".to_owned(),
                profile: None,
            });
        }
        for (value, hop) in users {
            out.users
                .push((value, hop.and_then(|i| last_of.get(i).copied())));
        }
        for profile in &out.profiles {
            config::overlay(args, &profile.args);
        }
        args.proxy = out.hops.iter().map(|h| h.url.clone()).collect();
        Ok(out)
    }

    /// Appends a config chain's hops and users.
    fn add(&mut self, profile: Profile, via: &str) -> Result<(), String> {
        let origin = profile.origin();
        if profile.args.proxy.is_empty() {
            return Err(format!("{origin}: no proxies"));
        }
        let base = self.hops.len();
        let last = base + profile.args.proxy.len() - 1;
        for url in &profile.args.proxy {
            self.hops.push(Hop {
                url: with_scheme(url, profile.args.proxy_type),
                source: format!("{origin}{via}"),
                profile: Some(self.profiles.len()),
            });
        }
        for (value, hop) in &profile.users {
            self.users
                .push((value.clone(), Some(hop.map_or(last, |i| base + i))));
        }
        self.profiles.push(profile);
        Ok(())
    }
}

/// `host:port` becomes `TYPE://host:port` under `--proxy-type`.
fn with_scheme(url: &str, kind: Option<ProxyScheme>) -> String {
    match kind {
        Some(kind) if !url.is_empty() && !url.contains("://") => {
            let scheme = match kind {
                ProxyScheme::Http => "http",
                ProxyScheme::Https => "https",
                ProxyScheme::Socks4 => "socks4",
                ProxyScheme::Socks4a => "socks4a",
                ProxyScheme::Socks5 => "socks5",
                ProxyScheme::Socks5h => "socks5h",
            };
            format!("{scheme}://{url}")
        }
        _ => url.to_owned(),
    }
}

/// The hops with `--proxy-dns` applied: each SOCKS hop turned into the
/// variant that resolves the name it is handed (the next hop's, or the
/// target's) locally or at the proxy. With `both`, ncat's rule: locally
/// when the name resolves here, else at the proxy — a lookup, no
/// connection.
pub fn with_dns(urls: &[String], dns: Option<ProxyDns>, target_host: &str) -> Vec<String> {
    let Some(dns) = dns else {
        return urls.to_vec();
    };
    (0..urls.len())
        .map(|i| {
            let url = &urls[i];
            let Some((scheme, rest)) = url.split_once("://") else {
                return url.clone();
            };
            let Some(kind) = ProxyKind::from_scheme(&scheme.to_ascii_lowercase()) else {
                return url.clone();
            };
            let local = match dns {
                ProxyDns::Local => true,
                ProxyDns::Remote => false,
                ProxyDns::Both => {
                    let next = urls.get(i + 1).map_or(target_host.to_owned(), |n| {
                        ProxySpec::parse(n, ProxyKind::Http, None).map_or(String::new(), |s| s.host)
                    });
                    resolves_here(&next)
                }
            };
            let scheme = match (kind, local) {
                (ProxyKind::Socks5 | ProxyKind::Socks5h, true) => "socks5",
                (ProxyKind::Socks5 | ProxyKind::Socks5h, false) => "socks5h",
                (ProxyKind::Socks4 | ProxyKind::Socks4a, true) => "socks4",
                (ProxyKind::Socks4 | ProxyKind::Socks4a, false) => "socks4a",
                _ => return url.clone(),
            };
            format!("{scheme}://{rest}")
        })
        .collect()
}

fn resolves_here(name: &str) -> bool {
    let name = name.trim_start_matches('[').trim_end_matches(']');
    !name.is_empty()
        && (name, 0u16)
            .to_socket_addrs()
            .is_ok_and(|mut addrs| addrs.next().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_type_fills_in_a_missing_scheme_only() {
        let t = Some(ProxyScheme::Socks5h);
        assert_eq!(with_scheme("bastion:1080", t), "socks5h://bastion:1080");
        assert_eq!(with_scheme("http://p:1", t), "http://p:1");
        assert_eq!(with_scheme("", t), "");
        assert_eq!(with_scheme("p:1", None), "p:1");
    }

    #[test]
    fn proxy_dns_picks_the_socks_variant() {
        let urls = vec![
            "socks5://a:1".to_owned(),
            "socks4://b:2".to_owned(),
            "http://c:3".to_owned(),
        ];
        assert_eq!(
            with_dns(&urls, Some(ProxyDns::Remote), "t"),
            ["socks5h://a:1", "socks4a://b:2", "http://c:3"]
        );
        let remote = with_dns(&urls, Some(ProxyDns::Remote), "t");
        assert_eq!(
            with_dns(&remote, Some(ProxyDns::Local), "t"),
            ["socks5://a:1", "socks4://b:2", "http://c:3"]
        );
        // both: an IP literal resolves here; a name under .invalid does not.
        let last = vec!["socks5h://a:1".to_owned()];
        assert_eq!(
            with_dns(&last, Some(ProxyDns::Both), "127.0.0.1"),
            ["socks5://a:1"]
        );
        assert_eq!(
            with_dns(&last, Some(ProxyDns::Both), "nowhere.invalid"),
            ["socks5h://a:1"]
        );
    }
}
