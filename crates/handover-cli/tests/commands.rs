//! `plan` (no network), `completions`, `man`.

mod common;

use common::handover;
use serde_json::Value;

fn plan_json(args: &[&str], env: &[(&str, &str)]) -> Value {
    let mut all = vec!["plan"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let r = handover(&all, env);
    assert_eq!(r.code, 0, "{r:?}");
    serde_json::from_str(&r.stdout).expect("plan JSON")
}

#[test]
fn plan_shows_each_hop_where_names_resolve_and_tls() {
    // Nothing listens on these: plan never connects.
    let v = plan_json(
        &[
            "https://db.internal/",
            "-x",
            "socks5h://bastion.example:1080",
            "-x",
            "http://proxy.corp",
            "-U",
            "alice",
            "--proxy-digest",
            "--connect-timeout",
            "2.5",
        ],
        &[],
    );
    assert_eq!(v["schema"], 1);
    assert_eq!(v["type"], "plan");
    assert_eq!(v["target"]["port"], 443);
    assert_eq!(v["target"]["connect_only"], 2);
    assert_eq!(v["target"]["tls"]["sni"], "db.internal");
    let hops = v["hops"].as_array().unwrap();
    assert_eq!(hops.len(), 2);
    assert_eq!(hops[0]["layer"], "socks5h");
    assert_eq!(hops[0]["source"], "-x #1");
    assert_eq!(hops[0]["resolved"], "locally");
    assert_eq!(hops[1]["layer"], "http-proxy");
    assert_eq!(hops[1]["resolved"], "by proxy 1");
    assert_eq!(hops[1]["port_defaulted"], true);
    assert!(hops[1]["hint"].as_str().unwrap().contains("1080"));
    assert!(hops[1]["auth"]
        .as_str()
        .unwrap()
        .contains("Digest as alice"));
    assert_eq!(v["target"]["resolved"], "by proxy 2");
    assert_eq!(v["tunnel"], true);
    assert_eq!(v["timeouts"]["connect_s"], 2.5);
}

#[test]
fn plan_names_the_environment_variable_and_no_proxy() {
    let v = plan_json(
        &["https://example.com/"],
        &[("https_proxy", "http://proxy.corp:3128")],
    );
    assert_eq!(v["hops"][0]["source"], "env https_proxy");
    assert_eq!(v["proxied"], true);

    let v = plan_json(
        &["https://www.example.com/"],
        &[
            ("https_proxy", "http://proxy.corp:3128"),
            ("NO_PROXY", "example.com"),
        ],
    );
    assert_eq!(v["proxied"], false);
    assert_eq!(v["noproxy"]["matched"], true);
    assert_eq!(v["noproxy"]["from"], "env NO_PROXY");
    assert!(v["direct_reason"].as_str().unwrap().contains("NO_PROXY"));
}

#[test]
fn plan_text_lists_the_layers() {
    let r = handover(
        &[
            "plan",
            "tls://127.0.0.1:8443",
            "-x",
            "socks5://127.0.0.1:1080",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("socks5"), "{r:?}");
    assert!(r.stdout.contains("tls"), "{r:?}");
}

#[test]
fn plan_refuses_an_unknown_proxy_scheme_with_curls_code() {
    let r = handover(&["plan", "example.com:22", "-x", "gopher://p:1"], &[]);
    assert_eq!(r.code, 1, "{r:?}");
}

#[test]
fn completions_and_man_page() {
    let r = handover(&["completions", "bash"], &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("handover") && r.stdout.len() > 1000);
    let r = handover(&["man"], &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains(".TH"), "{r:?}");
}
