//! Verbose output comes in the order the steps happen, each line naming the
//! right peer, as libcurl's does: compared with the system's `curl -v`
//! through the same real squid to the same real nginx.

mod common;

use std::process::Command;
use std::time::Duration;

use common::capture_verbose;
use handover::{ConnectOnly, Easy};
use handover_test_support::peers::TestPki;
use handover_test_support::real_peers::{Nginx, Squid, SquidAuth};

/// The steps of a tunnelled TLS connect, each as a line prefix, in the order
/// libcurl prints them.
const MILESTONES: [&str; 9] = [
    "* Trying 127.0.0.1:",
    "* Connected to ",
    "* Establish HTTP proxy tunnel to localhost:",
    "> CONNECT localhost:",
    "< HTTP/1.1 200",
    "* ALPN: offers ",
    "* SSL connection using TLSv1.",
    "* ALPN: server accepted http/1.1",
    "* Server certificate:",
];

/// The milestones in the order they first appear in `text`, one per line.
fn milestones(text: &str) -> Vec<&'static str> {
    let mut seen = Vec::new();
    for line in text.lines() {
        // curl indents "Trying" with blanks after the star.
        let line = line.replacen("*   ", "* ", 1);
        for m in MILESTONES {
            if line.starts_with(m) && !seen.contains(&m) {
                seen.push(m);
            }
        }
    }
    seen
}

#[test]
fn tunnelled_tls_connect_prints_its_steps_in_libcurls_order() {
    let pki = TestPki::new();
    let nginx = Nginx::start(Some((&pki.server_chain_pem, &pki.server_key_pem)));
    let squid = Squid::start(SquidAuth::None);
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);
    let url = format!("https://localhost:{}/", nginx.tls_port().unwrap());
    let proxy = format!("http://127.0.0.1:{}", squid.port());

    let mut easy = Easy::new();
    easy.url(&url).unwrap();
    easy.proxy(&proxy).unwrap();
    easy.cainfo(&ca).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.connect_timeout(Duration::from_secs(20)).unwrap();
    let verbose = capture_verbose(&mut easy);
    easy.perform().unwrap();
    let ours = verbose.lock().unwrap().clone();

    let curl = Command::new("curl")
        .args(["-sv", "-o", "/dev/null", "--max-time", "20", "--proxy"])
        .arg(&proxy)
        .arg("--cacert")
        .arg(&ca)
        .arg(&url)
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("all_proxy")
        .env_remove("ALL_PROXY")
        .output()
        .expect("run curl (scripts/install-peers installs it)");
    let theirs = String::from_utf8_lossy(&curl.stderr).into_owned();
    assert!(curl.status.success(), "curl failed:\n{theirs}");

    assert_eq!(
        milestones(&theirs),
        MILESTONES,
        "curl's own order changed:\n{theirs}"
    );
    assert_eq!(
        milestones(&ours),
        milestones(&theirs),
        "handover:\n{ours}\ncurl:\n{theirs}"
    );
    // The TLS line names the origin through the proxy, not the proxy.
    let tls_line = ours
        .lines()
        .find(|l| l.starts_with("* TLS handshake with"))
        .unwrap_or_default();
    assert!(
        tls_line.contains(&format!(
            "localhost:{} through proxy 127.0.0.1:{}",
            nginx.tls_port().unwrap(),
            squid.port()
        )),
        "{ours}"
    );
}
