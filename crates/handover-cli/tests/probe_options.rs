//! The chain options of `handover probe` that steer where it connects,
//! checked by where the connection really went: `--resolve`,
//! `--connect-to`, `-4`/`-6`, the environment's proxy with NO_PROXY (as
//! curl reads them), SOCKS4 and SOCKS5h through dante.

mod common;

use std::time::Duration;

use common::{closed_port, handover};
use handover_test_support::peers::{Behavior, TcpPeer};
use handover_test_support::real_peers::{Dante, Squid, SquidAuth};

#[test]
fn resolve_pins_a_name_to_an_address_without_a_lookup() {
    let peer = TcpPeer::start(Behavior::Echo);
    let target = format!("pinned.invalid:{}", peer.port());
    let pin = format!("pinned.invalid:{}:127.0.0.1", peer.port());
    let r = handover(
        &["probe", &target, "--resolve", &pin, "-w", "%{remote_ip}\\n"],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("127.0.0.1 (no lookup)"), "{r:?}");
    assert!(r.stdout.ends_with("127.0.0.1\n"), "{r:?}");
}

#[test]
fn connect_to_sends_the_connection_elsewhere() {
    let peer = TcpPeer::start(Behavior::Echo);
    let to = format!("elsewhere.invalid:80:127.0.0.1:{}", peer.port());
    let r = handover(
        &[
            "probe",
            "elsewhere.invalid:80",
            "--connect-to",
            &to,
            "-q",
            "-w",
            "%{remote_ip}:%{remote_port}",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, format!("127.0.0.1:{}", peer.port()));
}

#[test]
fn ipv4_and_ipv6_only_choose_the_family_raced() {
    // Only 127.0.0.1 listens: -4 connects in one attempt, -6 tries ::1
    // alone and is refused.
    let peer = TcpPeer::start(Behavior::Echo);
    let target = format!("localhost:{}", peer.port());
    let r = handover(
        &[
            "probe",
            &target,
            "-4",
            "-q",
            "-w",
            "%{he_attempts} %{he_winner}",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, format!("1 127.0.0.1:{}", peer.port()));
    let r = handover(&["probe", &target, "-6", "-q"], &[]);
    assert_eq!(r.code, 7, "{r:?}");
    assert!(r.stderr.contains("[::1]"), "the address tried: {r:?}");
}

#[test]
fn the_environments_proxy_is_used_unless_no_proxy_matches() {
    let squid = Squid::shared(SquidAuth::None);
    let peer = TcpPeer::start(Behavior::Echo);
    let proxy = format!("http://127.0.0.1:{}", squid.port());
    let target = format!("127.0.0.1:{}", peer.port());
    // A bare host:port is curl's telnet:// for the proxy variables:
    // telnet_proxy, else all_proxy.
    let r = handover(
        &["probe", &target, "-q", "-w", "%{hops} %{http_connect}"],
        &[("all_proxy", &proxy)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "1 200", "through squid: {r:?}");
    squid.wait_log(&target, Duration::from_secs(10));
    let r = handover(
        &["probe", &target, "-q", "-w", "%{hops} %{http_connect}"],
        &[("all_proxy", &proxy), ("NO_PROXY", "127.0.0.1")],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "0 000", "NO_PROXY matched: direct: {r:?}");
    // A proxy that is down, named by the environment: 7, naming hop 1.
    let down = format!("http://127.0.0.1:{}", closed_port());
    let r = handover(&["probe", &target], &[("all_proxy", &down)]);
    assert_eq!(r.code, 7, "{r:?}");
    assert!(
        r.stderr
            .starts_with(&format!("handover: hop 1 http-proxy {down}: tcp: ")),
        "{r:?}"
    );
}

#[test]
fn socks4_and_socks5h_through_dante() {
    let dante = Dante::shared();
    let peer = TcpPeer::start(Behavior::Echo);
    for (scheme, target) in [
        ("socks4", format!("127.0.0.1:{}", peer.port())),
        // dante has no SOCKS4a (it connects to 0.0.0.1): the library's
        // SOCKS4a is tested against a fake; dante resolves for socks5h.
        ("socks5h", format!("localhost:{}", peer.port())),
    ] {
        let proxy = format!("{scheme}://127.0.0.1:{}", dante.port());
        let r = handover(
            &[
                "probe",
                &target,
                "-x",
                &proxy,
                "-4",
                "-q",
                "-w",
                "%{hop.1.layer} %{hop.1.status}",
            ],
            &[],
        );
        assert_eq!(r.code, 0, "{scheme}: {r:?}\n{}", dante.log());
        assert_eq!(r.stdout, format!("{scheme} ok"), "{r:?}");
    }
}

/// `[::1]:port` whose accept queue is full, so a connect to it stays in
/// progress, beside a listener on `127.0.0.1:port` that accepts.
struct StalledV6 {
    port: u16,
    _v4: std::net::TcpListener,
    _v6: socket2::Socket,
    _queued: Vec<std::net::TcpStream>,
}

impl StalledV6 {
    fn start() -> StalledV6 {
        use socket2::{Domain, Socket, Type};
        use std::net::{Ipv6Addr, SocketAddr};
        let v4 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = v4.local_addr().unwrap().port();
        let v6 = Socket::new(Domain::IPV6, Type::STREAM, None).unwrap();
        let at = SocketAddr::from((Ipv6Addr::LOCALHOST, port));
        v6.bind(&at.into()).unwrap();
        v6.listen(0).unwrap();
        // The queue holds backlog + 1: fill it, stopping at the first
        // connect that does not complete at once.
        let mut queued = Vec::new();
        for _ in 0..8 {
            match std::net::TcpStream::connect_timeout(&at, Duration::from_millis(100)) {
                Ok(s) => queued.push(s),
                Err(_) => break,
            }
        }
        StalledV6 {
            port,
            _v4: v4,
            _v6: v6,
            _queued: queued,
        }
    }
}

#[test]
fn happy_eyeballs_timeout_sets_when_the_second_family_starts() {
    let stalled = StalledV6::start();
    let port = stalled.port;
    let target = format!("he.invalid:{port}");
    let pin = format!("he.invalid:{port}:[::1],127.0.0.1");
    for head_start_ms in [100u64, 700] {
        let ms = head_start_ms.to_string();
        let r = handover(
            &[
                "probe",
                &target,
                "--resolve",
                &pin,
                "--happy-eyeballs-timeout-ms",
                &ms,
                "--format",
                "json",
            ],
            &[],
        );
        assert_eq!(r.code, 0, "{r:?}");
        let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let hops = doc["attempts"][0]["hops"].as_array().unwrap().clone();
        let v4 = hops
            .iter()
            .find(|h| h["layer"] == "tcp" && h["peer"] == format!("127.0.0.1:{port}"))
            .unwrap_or_else(|| panic!("an IPv4 attempt: {hops:?}"));
        let v6 = hops
            .iter()
            .find(|h| h["layer"] == "tcp" && h["peer"] == format!("[::1]:{port}"))
            .unwrap_or_else(|| panic!("the IPv6 attempt, first: {hops:?}"));
        let (v4_at, v6_at) = (v4["at_ms"].as_f64().unwrap(), v6["at_ms"].as_f64().unwrap());
        // IPv4 starts no sooner than the head start after IPv6, and wins.
        assert!(
            v4_at - v6_at >= head_start_ms as f64 * 0.95,
            "head start {head_start_ms} ms: v6 at {v6_at}, v4 at {v4_at}"
        );
        assert_eq!(v4["detail"], "won", "{hops:?}");
    }
}
