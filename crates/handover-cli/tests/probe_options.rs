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
