//! The chain options turned into a configured `handover::Easy`: the one
//! place where flags become library calls. Proxy selection, the
//! environment's proxies and NO_PROXY stay the library's: nothing here
//! decides a route.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use handover::{Auth, Easy, IpResolve, List, SslVersion};
use handover_proto::proxy::{ProxyKind, ProxySpec};

use crate::args::ChainArgs;
use crate::config::Users;
use crate::hops::{self, Hops};
use crate::password::PasswordSource;
use crate::target::Target;
use crate::trace::{Debug, Secrets};

/// The environment variable a password comes from when -U has none.
pub const PASSWORD_ENV: &str = "HANDOVER_PROXY_PASSWORD";

/// Credentials for one hop.
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    pub password: String,
    /// Where the password came from, for `plan`: `-U`, a file, a command,
    /// the environment variable, the prompt.
    pub source: String,
}

/// How far [`Chain::resolve`] goes for a password that `-U` lacks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Passwords {
    /// Read every source; on a terminal, prompt as the last resort.
    Ask,
    /// Read every source but never prompt (the exporter: no one is there).
    NoPrompt,
    /// Only say where each would come from: run no command, read no file
    /// (`plan`, which touches nothing).
    Describe,
}

/// The chain options with their hops expanded and secrets resolved.
pub struct Chain {
    /// The options, config chains laid under them; `proxy` holds every
    /// hop in order.
    pub args: ChainArgs,
    /// Per hop, the credentials a `-U` (or a config chain's `user`) gave it.
    pub hop_credentials: Vec<Option<Credentials>>,
    /// Credentials of a `-U` given with no hop at all: for the proxy the
    /// environment names.
    pub env_credentials: Option<Credentials>,
    /// Per hop, where it came from (`-x #2`, `config chain corp (FILE)`).
    pub hop_sources: Vec<String>,
    /// `-v` and `--trace`, when asked for.
    debug: Option<Arc<Debug>>,
}

impl Chain {
    /// [`Chain::resolve`] for the commands: `ask` prompts for a missing
    /// password, else (`plan`) nothing is read.
    pub fn new(args: ChainArgs, users: Users, ask: bool) -> Result<Chain, String> {
        let passwords = match ask {
            true => Passwords::Ask,
            false => Passwords::Describe,
        };
        Chain::resolve(args, users, passwords, None)
    }

    /// Expands the hops (config chains, `--socks5-hostname`, …) and
    /// resolves every user's password, attaching each to its hop. A
    /// missing password comes from, in order: `--proxy-password-file` /
    /// `--proxy-password-cmd`, `extra` (an exporter module's source), the
    /// config chain the hop came from, `HANDOVER_PROXY_PASSWORD`, a prompt.
    pub fn resolve(
        mut args: ChainArgs,
        users: Users,
        passwords: Passwords,
        extra: Option<PasswordSource>,
    ) -> Result<Chain, String> {
        let Hops {
            hops,
            profiles,
            users,
        } = Hops::expand(&mut args, users)?;
        let flag_source = PasswordSource::one_of(
            None,
            args.proxy_password_file.as_ref(),
            args.proxy_password_cmd.as_deref(),
            "--proxy-password-file and --proxy-password-cmd",
        )?;
        let mut hop_credentials = vec![None; hops.len()];
        let mut env_credentials = None;
        for (value, hop) in users {
            let hop = hop.or(hops.len().checked_sub(1));
            let profile = hop
                .and_then(|i| hops[i].profile)
                .and_then(|p| profiles[p].password.as_ref());
            let sources: Vec<&PasswordSource> = [flag_source.as_ref(), extra.as_ref(), profile]
                .into_iter()
                .flatten()
                .collect();
            let credentials = credentials_of(&value, &sources, passwords)?;
            match hop {
                Some(i) => hop_credentials[i] = Some(credentials),
                None => env_credentials = Some(credentials),
            }
        }
        let mut chain = Chain {
            hop_sources: hops.into_iter().map(|h| h.source).collect(),
            args,
            hop_credentials,
            env_credentials,
            debug: None,
        };
        if passwords != Passwords::Describe {
            chain.debug = Debug::open(&chain.args, chain.secrets())?;
        }
        Ok(chain)
    }

    /// Every secret the user gave (with `-U`, a password source, or in a
    /// proxy URL), so that debug output can never show one.
    fn secrets(&self) -> Secrets {
        let in_urls: Vec<(String, String)> = self
            .args
            .proxy
            .iter()
            .chain(self.args.preproxy.iter())
            .filter_map(|url| ProxySpec::parse(url, ProxyKind::Http, None).ok())
            .filter_map(|spec| Some((spec.user.unwrap_or_default(), spec.password?)))
            .collect();
        Secrets::new(
            self.hop_credentials
                .iter()
                .flatten()
                .chain(self.env_credentials.iter())
                .map(|c| (c.user.as_str(), c.password.as_str()))
                .chain(in_urls.iter().map(|(u, p)| (u.as_str(), p.as_str()))),
        )
    }

    /// The hops as the library gets them: `--proxy-dns` applied for
    /// `target_host` (the name the last hop is handed).
    pub fn hop_urls(&self, target_host: &str) -> Vec<String> {
        hops::with_dns(&self.args.proxy, self.args.proxy_dns, target_host)
    }

    /// A handle configured for `target` with every chain option; each
    /// attempt of a probe runs on a `duphandle` of it, so nothing (pool,
    /// DNS cache) carries over between attempts.
    pub fn easy(&self, target: &Target) -> Result<Easy, handover::Error> {
        let a = &self.args;
        let mut easy = Easy::new();
        easy.url(&target.url)?;
        easy.connect_only(target.mode)?;
        if target.scheme == "tls" {
            // TLS for an arbitrary protocol: offer no ALPN, as a raw TLS
            // client (openssl s_client, ncat --ssl) would.
            easy.ssl_enable_alpn(false)?;
        }
        self.proxies(&mut easy, &target.host)?;
        if a.proxy_basic {
            easy.proxy_auth(Auth::new().basic(true))?;
        } else if a.proxy_digest {
            easy.proxy_auth(Auth::new().digest(true))?;
        } else if a.proxy_ntlm {
            easy.proxy_auth(Auth::new().ntlm(true))?;
        } else if a.proxy_anyauth {
            easy.proxy_auth(&Auth::any())?;
        }
        if a.proxytunnel {
            easy.http_proxy_tunnel(true)?;
        }
        if !a.proxy_header.is_empty() {
            easy.proxy_headers(a.proxy_header.iter().map(String::as_str).collect())?;
        }
        if let Some(path) = &a.proxy_cacert {
            easy.proxy_cainfo(path)?;
        }
        if a.proxy_insecure {
            easy.proxy_ssl_verify_peer(false)?;
            easy.proxy_ssl_verify_host(false)?;
        }
        if let Some(path) = &a.proxy_cert {
            easy.proxy_sslcert(path)?;
        }
        if let Some(path) = &a.proxy_key {
            easy.proxy_sslkey(path)?;
        }
        if let Some(pin) = &a.proxy_pinnedpubkey {
            easy.proxy_pinned_public_key(pin)?;
        }
        if let Some(list) = &a.noproxy {
            easy.noproxy(list)?;
        }
        if !a.resolve.is_empty() {
            easy.resolve(a.resolve.iter().map(String::as_str).collect::<List>())?;
        }
        if !a.connect_to.is_empty() {
            easy.connect_to(a.connect_to.iter().map(String::as_str).collect::<List>())?;
        }
        if a.ipv4 {
            easy.ip_resolve(IpResolve::V4)?;
        } else if a.ipv6 {
            easy.ip_resolve(IpResolve::V6)?;
        }
        if let Some(ms) = a.happy_eyeballs_timeout_ms {
            easy.happy_eyeballs_timeout(Duration::from_millis(ms))?;
        }
        if let Some(name) = &a.interface {
            easy.interface(name)?;
        }
        if let Some(port) = a.local_port {
            easy.local_port(port)?;
        }
        if let Some(secs) = a.connect_timeout {
            easy.connect_timeout(seconds(secs)?)?;
        }
        if let Some(secs) = a.max_time {
            easy.timeout(seconds(secs)?)?;
        }
        if a.insecure {
            easy.ssl_verify_peer(false)?;
            easy.ssl_verify_host(false)?;
        }
        if let Some(path) = &a.cacert {
            easy.cainfo(path)?;
        }
        if let Some(path) = &a.cert {
            easy.ssl_cert(path)?;
        }
        if let Some(path) = &a.key {
            easy.ssl_key(path)?;
        }
        if let Some(pin) = &a.pinnedpubkey {
            easy.pinned_public_key(pin)?;
        }
        if a.tls12 {
            easy.ssl_min_max_version(SslVersion::Tlsv12, SslVersion::Default)?;
        } else if a.tls13 {
            easy.ssl_min_max_version(SslVersion::Tlsv13, SslVersion::Default)?;
        }
        if let Some(debug) = &self.debug {
            debug.install(&mut easy)?;
        }
        Ok(easy)
    }

    /// One `-x` is curl's `proxy` (with `pre_proxy` and the credential
    /// options); several are the library's `proxy_chain`, where each hop
    /// carries its own credentials in its URL.
    fn proxies(&self, easy: &mut Easy, target_host: &str) -> Result<(), handover::Error> {
        let a = &self.args;
        let proxy = self.hop_urls(target_host);
        match proxy.len() {
            0 => {
                if let Some(pre) = &a.preproxy {
                    easy.pre_proxy(pre)?;
                }
                if let Some(c) = &self.env_credentials {
                    easy.proxy_username(&c.user)?;
                    easy.proxy_password(&c.password)?;
                }
            }
            // A hop with settings of its own (`?auth=ntlm&cacert=…`) is a
            // chain entry: the library's proxy option ignores a query, as
            // libcurl's does.
            1 if !proxy[0].contains('?') => {
                easy.proxy(&proxy[0])?;
                if let Some(pre) = &a.preproxy {
                    easy.pre_proxy(pre)?;
                }
                if let Some(c) = &self.hop_credentials[0] {
                    easy.proxy_username(&c.user)?;
                    easy.proxy_password(&c.password)?;
                }
            }
            _ => {
                let mut hops: Vec<String> = a.preproxy.iter().cloned().collect();
                for (url, credentials) in proxy.iter().zip(&self.hop_credentials) {
                    hops.push(match credentials {
                        Some(c) => with_credentials(url, c),
                        None => url.clone(),
                    });
                }
                easy.proxy_chain(&hops)?;
            }
        }
        Ok(())
    }
}

/// `USER[:PASS]`; a missing password comes from the first of `sources`,
/// else the environment or, on a terminal, a prompt — never required on
/// the command line.
fn credentials_of(
    value: &str,
    sources: &[&PasswordSource],
    passwords: Passwords,
) -> Result<Credentials, String> {
    if let Some((user, password)) = value.split_once(':') {
        return Ok(Credentials {
            user: user.to_owned(),
            password: password.to_owned(),
            source: "-U".to_owned(),
        });
    }
    let user = value.to_owned();
    if let Some(source) = sources.first() {
        let password = match passwords {
            Passwords::Describe => String::new(),
            _ => source.read().map_err(|e| format!("-U {user}: {e}"))?,
        };
        return Ok(Credentials {
            user,
            password,
            source: source.describe(),
        });
    }
    if let Ok(password) = std::env::var(PASSWORD_ENV) {
        return Ok(Credentials {
            user,
            password,
            source: PASSWORD_ENV.to_owned(),
        });
    }
    if std::io::stdin().is_terminal() || std::io::stderr().is_terminal() {
        let password = match passwords {
            Passwords::Ask => {
                rpassword::prompt_password(format!("Enter proxy password for user '{user}': "))
                    .map_err(|e| format!("reading the proxy password: {e}"))?
            }
            _ => String::new(),
        };
        return Ok(Credentials {
            user,
            password,
            source: "prompt".to_owned(),
        });
    }
    if passwords != Passwords::Ask {
        return Ok(Credentials {
            user,
            password: String::new(),
            source: "nowhere yet (probe reads HANDOVER_PROXY_PASSWORD or asks on a terminal)"
                .to_owned(),
        });
    }
    Err(format!(
        "-U {user}: no password; give --proxy-password-file or --proxy-password-cmd, \
         set {PASSWORD_ENV}, or run on a terminal to be asked"
    ))
}

/// Puts percent-encoded credentials into a hop URL (after its scheme).
fn with_credentials(url: &str, c: &Credentials) -> String {
    let userinfo = format!("{}:{}", encode(&c.user), encode(&c.password));
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{userinfo}@{rest}"),
        None => format!("{userinfo}@{url}"),
    }
}

/// Percent-encodes all but RFC 3986's unreserved characters.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Fractional seconds as curl takes them.
fn seconds(secs: f64) -> Result<Duration, handover::Error> {
    Duration::try_from_secs_f64(secs).map_err(|_| {
        handover::Error::new(
            handover::ErrorKind::BadFunctionArgument,
            format!("{secs}: not a number of seconds"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_encoded_into_hop_urls() {
        let c = Credentials {
            user: "al ice".into(),
            password: "p@ss:w/rd".into(),
            source: "-U".into(),
        };
        assert_eq!(
            with_credentials("http://127.0.0.1:3128", &c),
            "http://al%20ice:p%40ss%3Aw%2Frd@127.0.0.1:3128"
        );
        assert_eq!(
            with_credentials("proxy:1", &c),
            "al%20ice:p%40ss%3Aw%2Frd@proxy:1"
        );
    }
}
