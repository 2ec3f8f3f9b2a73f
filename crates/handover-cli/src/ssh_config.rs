//! `handover ssh-config`: an ssh_config stanza whose ProxyCommand is
//! `handover relay` through the chain given, so that a chain that probes
//! fine is the chain ssh uses. The chain flags are passed on as they were
//! typed (clap has checked them); a password never goes into the stanza.

use crate::args::SshConfigArgs;
use crate::chain::PASSWORD_ENV;

/// Prints the stanza; exit code 2 when it would carry a password.
pub fn run(args: &SshConfigArgs, argv: Vec<String>) -> i32 {
    if let Some(user) = args.chain.proxy_user.iter().find(|u| u.contains(':')) {
        let name = user.split(':').next().unwrap_or_default();
        eprintln!(
            "handover: ssh-config: -U {name}:… would write the password into ssh's \
             configuration; give -U {name} and set {PASSWORD_ENV} (or answer the prompt) instead"
        );
        return 2;
    }
    if args
        .chain
        .proxy
        .iter()
        .chain(args.chain.preproxy.iter())
        .any(|url| url_has_password(url))
    {
        eprintln!(
            "handover: ssh-config: a proxy URL carries a password; give its user with -U and \
             set {PASSWORD_ENV} instead"
        );
        return 2;
    }
    print!("{}", stanza(args, &chain_words(&argv, args)));
    0
}

/// The chain flags as typed: everything after `ssh-config` but the host
/// pattern and `--fdpass`.
fn chain_words(argv: &[String], args: &SshConfigArgs) -> Vec<String> {
    let mut words: Vec<String> = argv
        .iter()
        .skip_while(|w| *w != "ssh-config")
        .skip(1)
        .cloned()
        .collect();
    if let Some(at) = words.iter().position(|w| *w == args.pattern) {
        words.remove(at);
    }
    words.retain(|w| w != "--fdpass");
    words
}

fn stanza(args: &SshConfigArgs, words: &[String]) -> String {
    let program = std::env::current_exe()
        .ok()
        .and_then(|p| p.to_str().map(str::to_owned))
        .unwrap_or_else(|| "handover".to_owned());
    let mut command = vec![quote(&program), "relay".to_owned()];
    if args.fdpass {
        command.push("--fdpass".to_owned());
    } else {
        command.push("-q".to_owned());
    }
    command.extend(words.iter().map(|w| quote(w)));
    // ssh expands %h and %p; `host port` needs no brackets for IPv6.
    command.push("%h".to_owned());
    command.push("%p".to_owned());
    let mut out = format!(
        "Host {}\n    ProxyCommand {}\n",
        args.pattern,
        command.join(" ")
    );
    if args.fdpass {
        out.push_str("    ProxyUseFdpass yes\n");
    } else {
        out.push_str("    ServerAliveInterval 30\n");
    }
    out
}

/// `scheme://user:pass@host` with a password in it.
fn url_has_password(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

/// A word as the shell ssh runs ProxyCommand with reads it: as is when
/// it is plain, else single-quoted.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+".contains(&b));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_for_the_shell() {
        assert_eq!(quote("http://proxy:3128"), "http://proxy:3128");
        assert_eq!(quote("X-A: b"), "'X-A: b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn passwords_in_urls_are_found() {
        assert!(url_has_password("http://alice:secret@proxy:3128"));
        assert!(!url_has_password("http://alice@proxy:3128"));
        assert!(!url_has_password("socks5h://bastion:1080/x@y"));
    }
}
