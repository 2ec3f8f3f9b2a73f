//! The config file's named chains (`[chain.NAME]`), selected with
//! `--chain NAME`, `-x @NAME` or `HANDOVER_CHAIN`:
//!
//! ```toml
//! [chain.corp]
//! proxies = ["socks5h://bastion:1080", "http://proxy.corp:3128"]
//! user = "alice"                       # for the last hop, as -U after the last -x
//! auth = "digest"                      # basic | digest | ntlm | anyauth
//! password_cmd = "pass show corp/proxy" # or password_file, or password_env
//! proxy_cacert = "corp-ca.pem"         # relative to this file's directory
//! args = ["--connect-timeout", "5"]    # any other chain flag, as typed
//! ```
//!
//! A chain is turned into the words of chain flags and parsed by the same
//! clap parser as the command line (and the exporter's modules), so a key
//! means exactly what its flag means; the command line's own flags win
//! over the chain's ([`overlay`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, FromArgMatches, Parser};

use crate::args::ChainArgs;
use crate::password::PasswordSource;

/// The environment variable naming the chain to use when the command line
/// gives no proxy.
pub const CHAIN_ENV: &str = "HANDOVER_CHAIN";

/// `-U` values with the index of the `-x` each follows (see
/// [`ChainArgs::user_positions`]).
pub type Users = Vec<(String, Option<usize>)>;

/// Chain flags given as a list of words: a config chain's `args`, an
/// exporter module's `args`.
#[derive(Parser)]
#[command(no_binary_name = true, disable_help_flag = true)]
struct FlagWords {
    #[command(flatten)]
    chain: ChainArgs,
}

/// Parses chain flags written as on the command line, with the `-U`
/// positions the command line would give them.
pub fn chain_flags(words: &[String]) -> Result<(ChainArgs, Users), String> {
    let matches = FlagWords::command()
        .try_get_matches_from(words)
        .map_err(|e| e.render().to_string().trim_end().to_owned())?;
    let users = ChainArgs::user_positions(&matches);
    let chain = FlagWords::from_arg_matches(&matches)
        .map_err(|e| e.to_string())?
        .chain;
    Ok((chain, users))
}

/// Reads and parses a TOML file; errors name the file.
pub fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("config {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("config {}: {e}", path.display()))
}

/// The file's shape.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    chain: BTreeMap<String, Section>,
}

/// `auth = "…"`: the `--proxy-…` flag it stands for.
#[derive(serde::Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum AuthKey {
    Basic,
    Digest,
    Ntlm,
    Anyauth,
}

/// One `[chain.NAME]`; each key is the chain flag of the same name.
#[derive(serde::Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Section {
    #[serde(default)]
    proxies: Vec<String>,
    user: Option<String>,
    auth: Option<AuthKey>,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    password_cmd: Option<String>,
    proxy_cacert: Option<PathBuf>,
    proxy_cert: Option<PathBuf>,
    proxy_key: Option<PathBuf>,
    proxy_pinnedpubkey: Option<String>,
    #[serde(default)]
    proxy_insecure: bool,
    #[serde(default)]
    proxy_header: Vec<String>,
    cacert: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    pinnedpubkey: Option<String>,
    noproxy: Option<String>,
    /// Any other chain flags, as on the command line.
    #[serde(default)]
    args: Vec<String>,
}

/// A named chain, parsed.
pub struct Profile {
    pub name: String,
    /// The file it came from, for `plan` and errors.
    pub file: PathBuf,
    /// Its options as chain flags (its hops in `proxy`).
    pub args: ChainArgs,
    /// Its `user` (and any `-U` in `args`), positioned on its own hops.
    pub users: Users,
    /// Where the password of a user without one comes from.
    pub password: Option<PasswordSource>,
}

impl Profile {
    /// `config chain corp (FILE)`: how `plan` names where a hop came from.
    pub fn origin(&self) -> String {
        format!("config chain {} ({})", self.name, self.file.display())
    }

    fn from_section(name: &str, file: &Path, s: Section) -> Result<Profile, String> {
        let what = format!("config chain {name} ({})", file.display());
        let dir = file.parent().unwrap_or(Path::new(""));
        let path = |p: &PathBuf| anchored(dir, p).display().to_string();
        let mut words: Vec<String> = Vec::new();
        // `args` first: its -U then follows its own -x, and the typed keys'
        // `user` (given last) lands on the chain's last hop.
        words.extend(s.args.iter().cloned());
        for p in &s.proxies {
            words.extend(["--proxy".to_owned(), p.clone()]);
        }
        let mut flag = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                words.push(format!("--{name}"));
                words.push(v);
            }
        };
        flag("proxy-cacert", s.proxy_cacert.as_ref().map(path));
        flag("proxy-cert", s.proxy_cert.as_ref().map(path));
        flag("proxy-key", s.proxy_key.as_ref().map(path));
        flag("proxy-pinnedpubkey", s.proxy_pinnedpubkey.clone());
        flag("cacert", s.cacert.as_ref().map(path));
        flag("cert", s.cert.as_ref().map(path));
        flag("key", s.key.as_ref().map(path));
        flag("pinnedpubkey", s.pinnedpubkey.clone());
        flag("noproxy", s.noproxy.clone());
        for h in &s.proxy_header {
            flag("proxy-header", Some(h.clone()));
        }
        flag("proxy-user", s.user.clone());
        if s.proxy_insecure {
            words.push("--proxy-insecure".into());
        }
        if let Some(auth) = s.auth {
            words.push(
                match auth {
                    AuthKey::Basic => "--proxy-basic",
                    AuthKey::Digest => "--proxy-digest",
                    AuthKey::Ntlm => "--proxy-ntlm",
                    AuthKey::Anyauth => "--proxy-anyauth",
                }
                .into(),
            );
        }
        let (mut args, users) = chain_flags(&words).map_err(|e| format!("{what}: {e}"))?;
        if args.chain_name.is_some()
            || args.config.is_some()
            || args.proxy.iter().any(|p| p.starts_with('@'))
        {
            return Err(format!(
                "{what}: a chain cannot name another chain or config file"
            ));
        }
        let password_file = s.password_file.as_ref().map(|p| anchored(dir, p));
        let mut password = PasswordSource::one_of(
            s.password_env.as_deref(),
            password_file.as_ref(),
            s.password_cmd.as_deref(),
            &what,
        )?;
        // --proxy-password-file/-cmd in `args` say the same as the keys.
        if let Some(p) = PasswordSource::one_of(
            None,
            args.proxy_password_file.take().as_ref(),
            args.proxy_password_cmd.take().as_deref(),
            &what,
        )? {
            if password.replace(p).is_some() {
                return Err(format!("{what}: two password sources"));
            }
        }
        Ok(Profile {
            name: name.to_owned(),
            file: file.to_owned(),
            args,
            users,
            password,
        })
    }
}

/// A path from the config file: `~/` is the home directory, a relative
/// path is relative to the file's directory (not to wherever the command
/// happens to run).
fn anchored(dir: &Path, p: &Path) -> PathBuf {
    if let Ok(rest) = p.strip_prefix("~") {
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(rest);
        }
    }
    dir.join(p)
}

/// The config file, read when a chain is first asked for: a broken or
/// missing default file bothers only commands that use a named chain.
pub struct Config {
    path: Option<PathBuf>,
    explicit: bool,
    chains: Option<BTreeMap<String, Section>>,
}

impl Config {
    /// `--config FILE`, else the default location. An explicit file is read
    /// at once, so that a wrong path is an error even when no chain is used.
    pub fn open(explicit: Option<&Path>) -> Result<Config, String> {
        let mut config = Config {
            path: explicit.map(Path::to_path_buf).or_else(default_path),
            explicit: explicit.is_some(),
            chains: None,
        };
        if config.explicit {
            config.load()?;
        }
        Ok(config)
    }

    fn load(&mut self) -> Result<&mut BTreeMap<String, Section>, String> {
        if self.chains.is_none() {
            let chains = match &self.path {
                Some(path) if self.explicit || path.exists() => read_toml::<File>(path)?.chain,
                _ => BTreeMap::new(),
            };
            self.chains = Some(chains);
        }
        Ok(self.chains.get_or_insert_with(BTreeMap::new))
    }

    /// The chain called `name`; the error says which file was looked in and
    /// which chains it has.
    pub fn profile(&mut self, name: &str) -> Result<Profile, String> {
        let path = self.path.clone();
        let where_ = match &path {
            Some(p) if self.explicit || p.exists() => p.display().to_string(),
            Some(p) => format!("{} (which does not exist)", p.display()),
            None => "no config file (neither XDG_CONFIG_HOME nor HOME is set)".to_owned(),
        };
        let chains = self.load()?;
        let Some(section) = chains.get(name).cloned() else {
            let known: Vec<&str> = chains.keys().map(String::as_str).collect();
            return Err(format!(
                "config chain {name:?} not found in {where_}{}",
                match known.is_empty() {
                    true => String::new(),
                    false => format!(" (chains: {})", known.join(", ")),
                }
            ));
        };
        Profile::from_section(name, path.as_deref().unwrap_or(Path::new("")), section)
    }
}

/// `$XDG_CONFIG_HOME/handover/config.toml`, else
/// `$HOME/.config/handover/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    let var = |n: &str| {
        std::env::var_os(n)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    // The XDG spec ignores a relative XDG_CONFIG_HOME.
    var("XDG_CONFIG_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| var("HOME").map(|h| h.join(".config")))
        .map(|d| d.join("handover").join("config.toml"))
}

/// Lays a chain's options under the command line's: whatever the command
/// line set stays, whatever it left unset comes from the chain. Lists
/// (headers, --resolve, --connect-to) take the chain's entries first.
/// Hops, users and passwords are the caller's.
pub fn overlay(cmd: &mut ChainArgs, chain: &ChainArgs) {
    fn or<T: Clone>(mine: &mut Option<T>, theirs: &Option<T>) {
        if mine.is_none() {
            mine.clone_from(theirs);
        }
    }
    fn first<T: Clone>(mine: &mut Vec<T>, theirs: &[T]) {
        let mut all = theirs.to_vec();
        all.append(mine);
        *mine = all;
    }
    let c = chain;
    if !(cmd.proxy_basic || cmd.proxy_digest || cmd.proxy_ntlm || cmd.proxy_anyauth) {
        cmd.proxy_basic = c.proxy_basic;
        cmd.proxy_digest = c.proxy_digest;
        cmd.proxy_ntlm = c.proxy_ntlm;
        cmd.proxy_anyauth = c.proxy_anyauth;
    }
    if !(cmd.ipv4 || cmd.ipv6) {
        cmd.ipv4 = c.ipv4;
        cmd.ipv6 = c.ipv6;
    }
    if !(cmd.tls12 || cmd.tls13) {
        cmd.tls12 = c.tls12;
        cmd.tls13 = c.tls13;
    }
    for (mine, theirs) in [
        (&mut cmd.proxytunnel, c.proxytunnel),
        (&mut cmd.proxy_insecure, c.proxy_insecure),
        (&mut cmd.insecure, c.insecure),
        (&mut cmd.trace_time, c.trace_time),
        (&mut cmd.verbose, c.verbose),
        (&mut cmd.quiet, c.quiet),
    ] {
        *mine |= theirs;
    }
    first(&mut cmd.proxy_header, &c.proxy_header);
    first(&mut cmd.resolve, &c.resolve);
    first(&mut cmd.connect_to, &c.connect_to);
    or(&mut cmd.preproxy, &c.preproxy);
    or(&mut cmd.proxy_cacert, &c.proxy_cacert);
    or(&mut cmd.proxy_cert, &c.proxy_cert);
    or(&mut cmd.proxy_key, &c.proxy_key);
    or(&mut cmd.proxy_pinnedpubkey, &c.proxy_pinnedpubkey);
    or(&mut cmd.noproxy, &c.noproxy);
    or(
        &mut cmd.happy_eyeballs_timeout_ms,
        &c.happy_eyeballs_timeout_ms,
    );
    or(&mut cmd.interface, &c.interface);
    or(&mut cmd.local_port, &c.local_port);
    or(&mut cmd.connect_timeout, &c.connect_timeout);
    or(&mut cmd.max_time, &c.max_time);
    or(&mut cmd.cacert, &c.cacert);
    or(&mut cmd.cert, &c.cert);
    or(&mut cmd.key, &c.key);
    or(&mut cmd.pinnedpubkey, &c.pinnedpubkey);
    or(&mut cmd.proxy_dns, &c.proxy_dns);
    or(&mut cmd.trace, &c.trace);
    or(&mut cmd.trace_ascii, &c.trace_ascii);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(toml_text: &str) -> Section {
        let file: File = toml::from_str(toml_text).unwrap();
        file.chain.into_values().next().unwrap()
    }

    #[test]
    fn a_chain_becomes_its_flags() {
        let s = section(
            r#"[chain.corp]
            proxies = ["socks5h://bastion:1080", "http://proxy.corp:3128"]
            user = "alice"
            auth = "digest"
            password_file = "pw"
            proxy_cacert = "ca.pem"
            args = ["--connect-timeout", "5"]"#,
        );
        let p = Profile::from_section("corp", Path::new("/etc/h/config.toml"), s).unwrap();
        assert_eq!(p.args.proxy.len(), 2);
        assert!(p.args.proxy_digest);
        assert_eq!(p.args.connect_timeout, Some(5.0));
        assert_eq!(p.args.proxy_cacert, Some(PathBuf::from("/etc/h/ca.pem")));
        assert_eq!(p.users, vec![("alice".to_owned(), Some(1))]);
        assert!(
            matches!(&p.password, Some(PasswordSource::File(f)) if f == Path::new("/etc/h/pw"))
        );
        assert_eq!(p.origin(), "config chain corp (/etc/h/config.toml)");
    }

    #[test]
    fn unknown_keys_and_auth_names_are_refused() {
        assert!(toml::from_str::<File>("[chain.a]\nproxy = []").is_err());
        assert!(toml::from_str::<File>("[chain.a]\nauth = \"kerberos\"").is_err());
    }

    #[test]
    fn two_password_sources_are_refused() {
        let s = section("[chain.a]\npassword_cmd = \"x\"\npassword_env = \"Y\"");
        assert!(Profile::from_section("a", Path::new("c.toml"), s).is_err());
    }

    #[test]
    fn the_command_line_wins_over_the_chain() {
        let (mut cmd, _) = chain_flags(&["--proxy-basic".into(), "-m".into(), "3".into()]).unwrap();
        let (chain, _) = chain_flags(&[
            "--proxy-digest".into(),
            "-m".into(),
            "9".into(),
            "--connect-timeout".into(),
            "2".into(),
        ])
        .unwrap();
        overlay(&mut cmd, &chain);
        assert!(cmd.proxy_basic && !cmd.proxy_digest);
        assert_eq!(cmd.max_time, Some(3.0));
        assert_eq!(cmd.connect_timeout, Some(2.0));
    }
}
