//! The chain options turned into a configured `handover::Easy`: the one
//! place where flags become library calls. Proxy selection, the
//! environment's proxies and NO_PROXY stay the library's: nothing here
//! decides a route.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use handover::{Auth, Easy, InfoType, IpResolve, List, SslVersion};

use crate::args::ChainArgs;
use crate::target::Target;

/// The environment variable a password comes from when -U has none.
pub const PASSWORD_ENV: &str = "HANDOVER_PROXY_PASSWORD";

/// Credentials for one hop.
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    pub password: String,
    /// Where the password came from, for `plan`: `-U`, the environment
    /// variable, the prompt.
    pub source: &'static str,
}

/// The chain options with their secrets resolved.
pub struct Chain {
    pub args: ChainArgs,
    /// Per `-x`, the credentials a `-U` gave it.
    pub hop_credentials: Vec<Option<Credentials>>,
    /// Credentials of a `-U` given with no `-x` at all: for the proxy the
    /// environment names.
    pub env_credentials: Option<Credentials>,
}

impl Chain {
    /// Resolves every `-U` (prompting or reading the environment for a
    /// missing password), attaching each to its hop.
    /// With `ask` false (for `plan`, which sends nothing) a missing
    /// password is neither read nor prompted for.
    pub fn new(
        args: ChainArgs,
        users: Vec<(String, Option<usize>)>,
        ask: bool,
    ) -> Result<Chain, String> {
        let mut hop_credentials = vec![None; args.proxy.len()];
        let mut env_credentials = None;
        for (value, hop) in users {
            let credentials = credentials_of(&value, ask)?;
            match (hop, args.proxy.len()) {
                (Some(i), _) => hop_credentials[i] = Some(credentials),
                (None, 0) => env_credentials = Some(credentials),
                // A -U before every -x: curl's single proxy, the last hop.
                (None, n) => hop_credentials[n - 1] = Some(credentials),
            }
        }
        Ok(Chain {
            args,
            hop_credentials,
            env_credentials,
        })
    }

    /// Every secret the user gave, so that verbose output can never show one.
    fn secrets(&self) -> Vec<String> {
        self.hop_credentials
            .iter()
            .flatten()
            .chain(self.env_credentials.iter())
            .map(|c| c.password.clone())
            .filter(|p| !p.is_empty())
            .collect()
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
        self.proxies(&mut easy)?;
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
        if a.verbose {
            let secrets = self.secrets();
            easy.verbose(true)?;
            easy.debug_function(move |kind, data| print_verbose(kind, data, &secrets))?;
        }
        Ok(easy)
    }

    /// One `-x` is curl's `proxy` (with `pre_proxy` and the credential
    /// options); several are the library's `proxy_chain`, where each hop
    /// carries its own credentials in its URL.
    fn proxies(&self, easy: &mut Easy) -> Result<(), handover::Error> {
        let a = &self.args;
        match a.proxy.len() {
            0 => {
                if let Some(pre) = &a.preproxy {
                    easy.pre_proxy(pre)?;
                }
                if let Some(c) = &self.env_credentials {
                    easy.proxy_username(&c.user)?;
                    easy.proxy_password(&c.password)?;
                }
            }
            1 => {
                easy.proxy(&a.proxy[0])?;
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
                for (url, credentials) in a.proxy.iter().zip(&self.hop_credentials) {
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

/// `USER[:PASS]`; a missing password comes from the environment or, on a
/// terminal, a prompt — never required on the command line.
fn credentials_of(value: &str, ask: bool) -> Result<Credentials, String> {
    if let Some((user, password)) = value.split_once(':') {
        return Ok(Credentials {
            user: user.to_owned(),
            password: password.to_owned(),
            source: "-U",
        });
    }
    let user = value.to_owned();
    if let Ok(password) = std::env::var(PASSWORD_ENV) {
        return Ok(Credentials {
            user,
            password,
            source: PASSWORD_ENV,
        });
    }
    if std::io::stdin().is_terminal() || std::io::stderr().is_terminal() {
        let password = match ask {
            true => rpassword::prompt_password(format!("Enter proxy password for user '{user}': "))
                .map_err(|e| format!("reading the proxy password: {e}"))?,
            false => String::new(),
        };
        return Ok(Credentials {
            user,
            password,
            source: "prompt",
        });
    }
    if !ask {
        return Ok(Credentials {
            user,
            password: String::new(),
            source: "nowhere yet (probe reads HANDOVER_PROXY_PASSWORD or asks on a terminal)",
        });
    }
    Err(format!(
        "-U {user}: no password; set {PASSWORD_ENV} or run on a terminal to be asked"
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
fn encode(s: &str) -> String {
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

/// curl's `-v` look on stderr, with every credential header and every
/// known password blanked: the tool never prints a secret, whatever the
/// library hands it.
fn print_verbose(kind: InfoType, data: &[u8], secrets: &[String]) {
    let prefix = match kind {
        InfoType::Text => "* ",
        InfoType::HeaderIn => "< ",
        InfoType::HeaderOut => "> ",
        _ => return,
    };
    let text = String::from_utf8_lossy(data);
    let mut out = std::io::stderr().lock();
    for line in text.split_inclusive('\n') {
        let line = redact(line, secrets);
        let _ = write!(out, "{prefix}{line}");
    }
}

fn redact(line: &str, secrets: &[String]) -> String {
    let lower = line.to_ascii_lowercase();
    for name in ["proxy-authorization:", "authorization:"] {
        if lower.starts_with(name) {
            let end = if line.ends_with("\r\n") {
                "\r\n"
            } else if line.ends_with('\n') {
                "\n"
            } else {
                ""
            };
            return format!("{} <redacted>{end}", &line[..name.len()]);
        }
    }
    let mut line = line.to_owned();
    for secret in secrets {
        line = line.replace(secret.as_str(), "<redacted>");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_encoded_into_hop_urls() {
        let c = Credentials {
            user: "al ice".into(),
            password: "p@ss:w/rd".into(),
            source: "-U",
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

    #[test]
    fn verbose_lines_lose_their_secrets() {
        let secrets = vec!["hunter2".to_owned()];
        assert_eq!(
            redact("Proxy-Authorization: Basic YTpi\r\n", &secrets),
            "Proxy-Authorization: <redacted>\r\n"
        );
        assert_eq!(
            redact("user hunter2 here\n", &secrets),
            "user <redacted> here\n"
        );
    }
}
