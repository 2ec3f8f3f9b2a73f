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

#[test]
fn ssh_config_prints_a_stanza_ssh_reads_and_never_a_password() {
    let r = handover(
        &[
            "ssh-config",
            "corp-*",
            "-x",
            "http://proxy.corp:3128",
            "--proxy-digest",
            "-U",
            "alice",
            "--proxy-header",
            "X-Team: blue",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.starts_with("Host corp-*\n    ProxyCommand "),
        "{r:?}"
    );
    assert!(
        r.stdout.contains(
            " relay -q -x http://proxy.corp:3128 --proxy-digest -U alice --proxy-header 'X-Team: blue' %h %p\n"
        ),
        "{r:?}"
    );
    // ssh itself reads it: `ssh -G` prints the effective configuration.
    let dir = std::env::temp_dir().join(format!("handover-ssh-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("config");
    std::fs::write(&file, &r.stdout).unwrap();
    let out = std::process::Command::new("ssh")
        .arg("-F")
        .arg(&file)
        .args(["-G", "corp-db"])
        .output()
        .expect("ssh -G");
    let effective = String::from_utf8_lossy(&out.stdout);
    let proxy = effective
        .lines()
        .find(|l| l.starts_with("proxycommand "))
        .unwrap_or_else(|| panic!("no proxycommand in {effective}"));
    assert!(
        proxy.contains("relay -q -x http://proxy.corp:3128"),
        "{proxy}"
    );
    assert!(
        proxy.ends_with(" %h %p"),
        "ssh expands %h %p itself: {proxy}"
    );

    // With --fdpass: ProxyUseFdpass.
    let r = handover(
        &[
            "ssh-config",
            "lab-*",
            "--fdpass",
            "-x",
            "socks5h://bastion:1080",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains(" relay --fdpass -x socks5h://bastion:1080 %h %p\n"),
        "{r:?}"
    );
    assert!(r.stdout.ends_with("    ProxyUseFdpass yes\n"), "{r:?}");

    // A password is refused, in -U or in the URL.
    for args in [
        &[
            "ssh-config",
            "x",
            "-x",
            "http://p:3128",
            "-U",
            "alice:s3cret",
        ][..],
        &["ssh-config", "x", "-x", "http://alice:s3cret@p:3128"][..],
    ] {
        let r = handover(args, &[]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stdout.is_empty(), "{r:?}");
        assert!(!r.stderr.contains("s3cret"), "{r:?}");
        assert!(r.stderr.contains("HANDOVER_PROXY_PASSWORD"), "{r:?}");
    }
}

#[test]
fn man_and_completions_into_a_reader_that_stops_early_exit_0_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    // fish's script is larger than a pipe's buffer: its writer meets the
    // closed pipe for certain.
    for args in [
        &["man"][..],
        &["completions", "bash"][..],
        &["completions", "fish"][..],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_handover"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // `| head -c 16`: read a little, then close the pipe.
        let mut first = [0u8; 16];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        assert!(out.stderr.is_empty(), "{args:?}: {out:?}");
    }
}
