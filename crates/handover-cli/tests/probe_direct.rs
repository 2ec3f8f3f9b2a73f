//! `handover probe` straight to loopback peers: the table, the exit codes
//! of each failure class, `-w`, `--slo` and repetition.

mod common;

use common::{closed_port, handover};
use handover_test_support::peers::{Behavior, TcpPeer, TestPki, TlsPeer};

fn tls_peer() -> (&'static TestPki, TlsPeer, String) {
    let pki = TestPki::shared();
    let peer = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);
    (pki, peer, ca.display().to_string())
}

/// `probe TARGET --cacert CA -q -w FORMAT`.
fn write_out(target: &str, ca: &str, format: &str) -> common::Run {
    handover(&["probe", target, "--cacert", ca, "-q", "-w", format], &[])
}

#[test]
fn direct_tls_with_the_ca_prints_the_table_and_exits_0() {
    let (_, peer, ca) = tls_peer();
    let target = format!("tls://127.0.0.1:{}", peer.port());
    let r = handover(&["probe", &target, "--cacert", &ca], &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("layer"), "{r:?}");
    assert!(r.stdout.contains("tcp"), "{r:?}");
    assert!(r.stdout.contains("connected in"), "{r:?}");
    assert!(!r.stdout.contains('\x1b'), "no ANSI off a terminal: {r:?}");
}

#[test]
fn write_out_times_are_cumulative_and_ordered() {
    let (_, peer, ca) = tls_peer();
    let target = format!("tls://127.0.0.1:{}", peer.port());
    let r = write_out(
        &target,
        &ca,
        "%{time_namelookup} %{time_connect} %{time_appconnect} %{time_total} %{remote_ip} %{remote_port} %{exitcode} %{hops} %{num_connects}\\n",
    );
    assert_eq!(r.code, 0, "{r:?}");
    let v: Vec<&str> = r.stdout.trim().split(' ').collect();
    let t: Vec<f64> = v[..4].iter().map(|s| s.parse().unwrap()).collect();
    assert!(t[0] <= t[1] && t[1] <= t[2] && t[2] <= t[3], "{t:?}");
    assert!(t[2] > 0.0, "TLS happened: {t:?}");
    assert_eq!(v[4], "127.0.0.1");
    assert_eq!(v[5], peer.port().to_string());
    assert_eq!(&v[6..], ["0", "0", "1"]);
    assert!(r.stdout.ends_with('\n'));
}

#[test]
fn write_out_tls_and_happy_eyeballs_variables_match_the_librarys_info() {
    let (pki, peer, ca) = tls_peer();
    // localhost: ::1 is tried first and refused, 127.0.0.1 wins.
    let target = format!("tls://localhost:{}", peer.port());
    let r = write_out(
        &target,
        &ca,
        "%{tls_version}|%{tls_cipher}|%{ssl_verify_result}|%{he_winner}|%{he_attempts}\n",
    );
    assert_eq!(r.code, 0, "{r:?}");
    let v: Vec<&str> = r.stdout.trim_end().split('|').collect();
    // The library's own answer for the same connection.
    let mut easy = handover::Easy::new();
    easy.url(&format!("https://localhost:{}/", peer.port()))
        .unwrap();
    easy.connect_only(handover::ConnectOnly::Connection)
        .unwrap();
    easy.cainfo_blob(pki.ca_pem.as_bytes()).unwrap();
    easy.perform().unwrap();
    let info = easy.info();
    assert_eq!(v[0], info.tls_version().unwrap(), "{r:?}");
    assert_eq!(v[1], info.tls_cipher().unwrap(), "{r:?}");
    assert_eq!(v[2], "0");
    assert_eq!(v[3], format!("127.0.0.1:{}", peer.port()));
    let attempts: usize = v[4].parse().unwrap();
    assert!(attempts >= 1, "{r:?}");
}

#[test]
fn write_out_onerror_and_stderr_choose_when_and_where() {
    let port = closed_port();
    let target = format!("127.0.0.1:{port}");
    let format = "always %{onerror}failed: %{exitcode}%{stderr} to stderr: %{errormsg}";
    let r = handover(&["probe", &target, "-q", "-w", format], &[]);
    assert_eq!(r.code, 7, "{r:?}");
    assert_eq!(r.stdout, "always failed: 7", "{r:?}");
    assert!(r.stderr.contains(" to stderr: "), "{r:?}");
    let peer = TcpPeer::start(Behavior::Echo);
    let target = format!("127.0.0.1:{}", peer.port());
    let r = handover(&["probe", &target, "-q", "-w", format], &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "always ", "nothing after %{{onerror}} on success");
    assert!(r.stderr.is_empty(), "{r:?}");
}

#[test]
fn the_server_certificates_expiry_in_every_format() {
    let (_, peer, ca) = tls_peer();
    let target = format!("tls://127.0.0.1:{}", peer.port());
    let r = handover(
        &[
            "probe",
            &target,
            "--cacert",
            &ca,
            "-q",
            "-w",
            "%{cert_expiry_days}\\n",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let days: i64 = r.stdout.trim().parse().unwrap_or_else(|_| panic!("{r:?}"));
    assert!(
        days > 365,
        "the test certificate is valid for years: {days}"
    );
    let r = handover(
        &["probe", &target, "--cacert", &ca, "--format", "prometheus"],
        &[],
    );
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("handover_tls_cert_expiry_timestamp_seconds{"))
        .unwrap_or_else(|| panic!("{r:?}"));
    let at: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((at - now) / 86_400.0 > 365.0, "{line}");
    let r = handover(
        &["probe", &target, "--cacert", &ca, "--format", "json"],
        &[],
    );
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        doc["attempts"][0]["cert_expiry_days"].as_i64().unwrap() > 365,
        "{r:?}"
    );
    // Without TLS there is no certificate: the variable is empty.
    let plain =
        handover_test_support::peers::TcpPeer::start(handover_test_support::peers::Behavior::Echo);
    let r = handover(
        &[
            "probe",
            &format!("127.0.0.1:{}", plain.port()),
            "-q",
            "-w",
            "[%{cert_expiry_days}]",
        ],
        &[],
    );
    assert_eq!(r.stdout, "[]", "{r:?}");
}

#[test]
fn refused_is_7() {
    let r = handover(&["probe", &format!("127.0.0.1:{}", closed_port())], &[]);
    assert_eq!(r.code, 7, "{r:?}");
    assert!(r.stderr.starts_with("handover: "), "{r:?}");
    assert!(r.stderr.contains("tcp"), "the layer is named: {r:?}");
}

#[test]
fn unresolvable_is_6() {
    let r = handover(&["probe", "no-such-host.invalid", "80"], &[]);
    assert_eq!(r.code, 6, "{r:?}");
    assert!(r.stderr.contains("resolve"), "{r:?}");
    assert!(r.stderr.contains("no-such-host.invalid"), "{r:?}");
}

#[test]
fn untrusted_certificate_is_60() {
    let pki = TestPki::shared();
    let peer = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let other = pki.write_temp("other-ca.pem", &pki.other_ca_pem);
    let target = format!("https://127.0.0.1:{}/", peer.port());
    let r = handover(
        &["probe", &target, "--cacert", other.to_str().unwrap()],
        &[],
    );
    assert_eq!(r.code, 60, "{r:?}");
    assert!(r.stderr.contains("tls"), "{r:?}");
}

#[test]
fn a_plain_text_answer_to_tls_is_35_naming_the_layer() {
    let peer = TcpPeer::start(Behavior::CloseAfter(b"HTTP/1.1 400 Bad\r\n\r\n".to_vec()));
    let target = format!("tls://127.0.0.1:{}", peer.port());
    let r = handover(&["probe", &target, "-k"], &[]);
    assert_eq!(r.code, 35, "{r:?}");
    assert!(r.stderr.starts_with("handover: tls "), "{r:?}");
    assert!(r.stderr.contains("plain-text port"), "{r:?}");
}

#[test]
fn a_ws_url_is_probed_through_its_upgrade() {
    use handover_test_support::ws_peers::{WsBehavior, WsPeer};
    let peer = WsPeer::start(WsBehavior::Echo, None);
    let url = format!("ws://127.0.0.1:{}/", peer.port());
    let r = handover(&["probe", &url, "-w", "%{http_code}\n"], &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("(WebSocket upgrade)"), "{r:?}");
    assert!(r.stdout.ends_with("101\n"), "{r:?}");
}

#[test]
fn a_silent_server_times_out_with_28() {
    let peer = TcpPeer::start(Behavior::Silent);
    let target = format!("https://127.0.0.1:{}/", peer.port());
    let started = std::time::Instant::now();
    let r = handover(&["probe", &target, "--connect-timeout", "0.3"], &[]);
    assert_eq!(r.code, 28, "{r:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn a_breached_slo_is_101() {
    let peer = TcpPeer::start(Behavior::Echo);
    let target = format!("127.0.0.1:{}", peer.port());
    let r = handover(&["probe", &target, "--slo", "total=0ms"], &[]);
    assert_eq!(r.code, 101, "{r:?}");
    assert!(r.stderr.contains("SLO breached: total"), "{r:?}");
    let r = handover(&["probe", &target, "--slo", "total=60s,loss=0%"], &[]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn repeated_probes_print_ping_lines_and_a_summary() {
    let peer = TcpPeer::start(Behavior::Echo);
    let target = format!("127.0.0.1:{}", peer.port());
    let r = handover(&["probe", &target, "-c", "3", "-i", "0"], &[]);
    assert_eq!(r.code, 0, "{r:?}");
    for seq in 1..=3 {
        assert!(r.stdout.contains(&format!("seq={seq} ok")), "{r:?}");
    }
    assert!(
        r.stdout.contains("3 attempts, 3 ok, 0 failed (0.0 % loss)"),
        "{r:?}"
    );
    assert!(r.stdout.contains("longest failure streak 0"), "{r:?}");
    let total = r
        .stdout
        .lines()
        .find(|l| l.starts_with("total "))
        .expect("a total row");
    assert_eq!(total.split_whitespace().count(), 8, "{total}");
}

#[test]
fn every_attempt_failing_exits_with_curls_code() {
    let target = format!("127.0.0.1:{}", closed_port());
    let r = handover(&["probe", &target, "-c", "2", "-i", "0"], &[]);
    assert_eq!(r.code, 7, "{r:?}");
    assert!(r.stdout.contains("seq=2 FAIL"), "{r:?}");
    assert!(r.stdout.contains("longest failure streak 2"), "{r:?}");
}

#[test]
fn a_bad_target_is_a_usage_error() {
    let r = handover(&["probe", "no-port-here"], &[]);
    assert_eq!(r.code, 3, "{r:?}");
    let r = handover(&["probe", "--no-such-flag", "x:1"], &[]);
    assert_eq!(r.code, 2, "{r:?}");
}
