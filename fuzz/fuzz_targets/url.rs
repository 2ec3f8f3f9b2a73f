//! URLs (`url::Url::parse`, `Display`, `host_for_header`, `authority`).
//!
//! Input: `[config (unused)][plan][URL text]`.
//!
//! Checks: parse → render (with credentials, percent-encoded) → parse gives
//! the same URL; parse → `Display` → parse gives it without credentials,
//! and `Display` is then stable; splitting the text anywhere never panics
//! (every prefix parses or fails cleanly); an error never quotes the input
//! and `Debug` never shows the password; `authority` of the host reads back
//! as the same host; the accessors agree with each other.
#![no_main]

use handover_proto::url::{authority, Url};
use handover_proto_fuzz::oracle::{render_url, Input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let _ = input.byte();
    let plan = input.plan();
    let text = String::from_utf8_lossy(input.rest()).into_owned();
    for cut in plan.cuts(text.len()) {
        if let (Some(head), Some(tail)) = (text.get(..cut), text.get(cut..)) {
            let _ = Url::parse(head);
            let _ = Url::parse(tail);
        }
    }
    let url = match Url::parse(&text) {
        Ok(url) => url,
        Err(e) => {
            // Error texts are ASCII: a user part with a non-ASCII
            // character can only show up in one by being quoted.
            if let Some((userinfo, _)) = text.rsplit_once('@') {
                let userinfo = userinfo.rsplit_once("://").map_or(userinfo, |(_, u)| u);
                if !userinfo.is_ascii() {
                    assert!(
                        !e.to_string().contains(userinfo),
                        "error quotes the credentials: {e}"
                    );
                }
            }
            return;
        }
    };
    assert!(url.path.starts_with('/'));
    assert_eq!(url.scheme, url.scheme.to_ascii_lowercase());

    let full = render_url(&url);
    assert_eq!(
        Url::parse(&full).as_ref(),
        Ok(&url),
        "render -> parse changed the URL; rendered {full:?}"
    );

    let shown = url.to_string();
    let again =
        Url::parse(&shown).unwrap_or_else(|e| panic!("Display {shown:?} does not parse: {e}"));
    let bare = Url {
        user: None,
        password: None,
        ..url.clone()
    };
    assert_eq!(
        again, bare,
        "Display -> parse changed the URL; shown {shown:?}"
    );
    assert_eq!(again.to_string(), shown);
    if url.password.is_some() {
        assert!(format!("{url:?}").contains("<redacted>"));
    }

    assert_eq!(url.is_ipv6_host(), url.host_for_header().starts_with('['));
    assert_eq!(
        url.ipv6_zone().is_some(),
        url.is_ipv6_host() && url.host.contains('%')
    );
    if let Some(ip) = url.ip_addr() {
        assert_eq!(ip.is_ipv6(), url.is_ipv6_host());
    }
    let port = url.port_or_default().unwrap_or(1);
    // Zone ids included: `authority` writes `%` as `%25` (fixed in 846fc3b).
    let via =
        Url::parse(&format!("http://{}/", authority(&url.host, port))).expect("authority parses");
    assert_eq!((via.host, via.port), (url.host.clone(), Some(port)));
});
