//! Proxy strings (`proxy::ProxySpec::parse`), the environment lookup
//! (`proxy_from_env`) and no-proxy lists (`proxy::NoProxy`).
//!
//! Input: `[default kind][proxy port u16][plan (unused)]` then lines: the
//! proxy string, the no-proxy list, the URL scheme for the environment
//! lookup, then hosts.
//!
//! Checks: parse → render → parse gives the same proxy; `Display` shows no
//! credentials; an error never quotes the string; the environment lookup
//! never reads `HTTP_PROXY` for http (CGI) and returns one of the values it
//! read; a list matches a host exactly when one of its entries does; commas
//! and spaces separate alike; host case does not matter; a plain name
//! entry matches itself and its subdomains; an address is in every prefix
//! of itself.
#![no_main]

use std::cell::RefCell;
use std::net::IpAddr;

use handover_proto::proxy::{proxy_from_env, NoProxy, ProxyKind, ProxySpec};
use handover_proto_fuzz::oracle::{bracketed_host, percent_encode, Input};
use libfuzzer_sys::fuzz_target;

fn render(spec: &ProxySpec) -> String {
    let mut out = format!("{}://", spec.kind.scheme());
    match (&spec.user, &spec.password) {
        (Some(user), Some(password)) => out.push_str(&format!(
            "{}:{}@",
            percent_encode(user),
            percent_encode(password)
        )),
        (Some(user), None) => out.push_str(&format!("{}@", percent_encode(user))),
        (None, Some(password)) => out.push_str(&format!(":{}@", percent_encode(password))),
        (None, None) => {}
    }
    out.push_str(&format!("{}:{}", bracketed_host(&spec.host), spec.port));
    out
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let kind = ProxyKind::ALL[usize::from(input.byte()) % ProxyKind::ALL.len()];
    let port = Some(input.u16()).filter(|p| p & 1 == 0);
    let _ = input.plan();
    let proxy = input.line();
    let list = input.line();
    let scheme = input.line();
    let hosts: Vec<String> = String::from_utf8_lossy(input.rest())
        .split('\n')
        .map(str::to_string)
        .collect();

    match ProxySpec::parse(&proxy, kind, port) {
        Ok(spec) => {
            let rendered = render(&spec);
            assert_eq!(
                ProxySpec::parse(&rendered, spec.kind, None).as_ref(),
                Ok(&spec),
                "rendered {rendered:?}"
            );
            assert_eq!(
                spec.to_string(),
                format!("{}://{}", spec.kind.scheme(), spec.host_port())
            );
            assert_ne!(spec.port, 0);
        }
        Err(e) => {
            // Error texts are ASCII: a user part with a non-ASCII
            // character can only show up in one by being quoted.
            if let Some((userinfo, _)) = proxy.rsplit_once('@') {
                let userinfo = userinfo.rsplit_once("://").map_or(userinfo, |(_, u)| u);
                if !userinfo.is_ascii() {
                    assert!(
                        !e.to_string().contains(userinfo),
                        "error quotes the credentials: {e}"
                    );
                }
            }
        }
    }

    let asked = RefCell::new(Vec::new());
    let env = |name: &str| {
        asked.borrow_mut().push(name.to_string());
        hosts
            .iter()
            .find_map(|h| h.strip_prefix(name)?.strip_prefix('=').map(str::to_string))
    };
    if let Some(found) = proxy_from_env(&scheme, env) {
        assert!(!found.is_empty());
        assert!(hosts.iter().any(|h| h.ends_with(&format!("={found}"))));
    }
    if scheme.eq_ignore_ascii_case("http") {
        assert!(
            !asked.borrow().iter().any(|n| n == "HTTP_PROXY"),
            "HTTP_PROXY read for http"
        );
    }

    let no_proxy = NoProxy::parse(&list);
    let tokens: Vec<&str> = list
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|t| !t.is_empty())
        .collect();
    // The whitespace that separates entries (ASCII) is the only one around a
    // lone `*` (FUZZING.md finding 1, fixed in 23791bb).
    let everything = list.trim_matches(|c: char| c.is_ascii_whitespace()) == "*";
    if !everything && tokens != ["*"] {
        assert_eq!(
            NoProxy::parse(&tokens.join(",")),
            NoProxy::parse(&tokens.join(" "))
        );
    }
    for host in &hosts {
        let matched = no_proxy.matches(host);
        if host.is_empty() {
            assert!(!matched);
            continue;
        }
        assert_eq!(
            matched,
            no_proxy.matches(&host.to_ascii_uppercase()),
            "case changed the answer for {host:?}"
        );
        if !everything {
            let any = tokens
                .iter()
                .any(|t| NoProxy::parse(&format!("{t},")).matches(host));
            assert_eq!(matched, any, "list and its entries disagree on {host:?}");
        }
        let plain = host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            && !host.starts_with('.')
            && !host.ends_with('.');
        if plain {
            let own = NoProxy::parse(host);
            assert!(own.matches(host), "{host:?} does not match itself");
            assert!(
                own.matches(&format!("www.{host}")),
                "{host:?} does not match its subdomain"
            );
        }
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            let width = if ip.is_ipv4() { 32 } else { 128 };
            for bits in [0, width / 2, width] {
                let entry = format!("{}/{bits}", bracketed_host(&ip.to_string()));
                assert!(
                    NoProxy::parse(&entry).matches(host),
                    "{host:?} not in {entry}"
                );
            }
        }
    }
});
