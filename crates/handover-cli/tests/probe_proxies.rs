//! `handover probe` through real proxies on loopback: squid with Basic and
//! Digest, microsocks (SOCKS5 with a password), dante + squid as a 2-hop
//! chain. Passwords only ever travel through the environment, and never
//! appear in the output, not even with -v.

mod common;

use base64::Engine as _;
use common::handover;
use handover_test_support::peers::{Behavior, TcpPeer};
use handover_test_support::real_peers::{Dante, Microsocks, Squid, SquidAuth};

const USER: &str = "alice";
const PASSWORD: &str = "cli-s3cret:pw";
const PASSWORD_ENV: &str = "HANDOVER_PROXY_PASSWORD";

fn basic() -> SquidAuth {
    SquidAuth::Basic {
        user: USER.into(),
        password: PASSWORD.into(),
    }
}

/// squid's digest_file_auth splits its `user:password` lines at every
/// colon, so the Digest password has none.
const DIGEST_PASSWORD: &str = "cli-digest-s3cret";

fn assert_no_secret(out: &str) {
    assert_no_password(out, PASSWORD);
}

/// The password and every base64 form of it that an auth header could carry.
fn assert_no_password(out: &str, password: &str) {
    let b64 = base64::engine::general_purpose::STANDARD;
    for secret in [
        password.to_owned(),
        b64.encode(format!("{USER}:{password}")),
        b64.encode(password),
    ] {
        assert!(!out.contains(&secret), "secret {secret:?} leaked:\n{out}");
    }
}

#[test]
fn squid_basic_with_the_password_from_the_environment() {
    let squid = Squid::shared(basic());
    let peer = TcpPeer::start(Behavior::Echo);
    let proxy = format!("http://127.0.0.1:{}", squid.port());
    let target = format!("127.0.0.1:{}", peer.port());
    let r = handover(
        &[
            "probe",
            &target,
            "-x",
            &proxy,
            "-U",
            USER,
            "-v",
            "-w",
            "%{http_connect} %{hops}\\n",
        ],
        &[(PASSWORD_ENV, PASSWORD)],
    );
    assert_eq!(r.code, 0, "{r:?}\n{}", squid.log());
    assert!(r.stdout.contains("200 1"), "{r:?}");
    assert!(r.stdout.contains("via 1 proxy"), "{r:?}");
    assert!(
        r.stderr.contains("Proxy-Authorization: <redacted>"),
        "-v shows the header, blanked: {r:?}"
    );
    assert_no_secret(&r.all());
}

#[test]
fn squid_digest_with_json_output() {
    let squid = Squid::shared(SquidAuth::Digest {
        user: USER.into(),
        password: DIGEST_PASSWORD.into(),
        realm: "handover".into(),
    });
    let peer = TcpPeer::start(Behavior::Echo);
    let proxy = format!("http://127.0.0.1:{}", squid.port());
    let target = format!("127.0.0.1:{}", peer.port());
    let probe = |extra: &[&str]| {
        let mut args = vec!["probe", &target, "-x", &proxy, "-U", USER, "--proxy-digest"];
        args.extend_from_slice(extra);
        handover(&args, &[(PASSWORD_ENV, DIGEST_PASSWORD)])
    };
    let r = probe(&["-v", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}\n{}", squid.log());
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["attempts"][0]["http_connect"], 200);
    assert_eq!(v["attempts"][0]["proxies"][0], proxy);
    assert_no_password(&r.all(), DIGEST_PASSWORD);

    // The hop's own -w variables, and the tunnel's time between curl's.
    let r = probe(&[
        "-q",
        "-w",
        "%{hop.1.layer} %{hop.1.peer} %{hop.1.status} %{hop.1.auth} %{time_connect} %{time_tunnel} %{time_total} %{hop.2.layer}|",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: Vec<&str> = r.stdout.split(' ').collect();
    assert_eq!(
        v[..4],
        [
            "http-proxy",
            &format!("127.0.0.1:{}", squid.port()),
            "200",
            "Digest"
        ],
        "{r:?}"
    );
    let t: Vec<f64> = v[4..7].iter().map(|s| s.parse().unwrap()).collect();
    assert!(
        t[0] < t[1] && t[1] <= t[2],
        "connect < tunnel ≤ total: {t:?}"
    );
    assert_eq!(v[7], "|", "no second hop: empty");
}

#[test]
fn a_wrong_proxy_password_is_7_naming_the_hop() {
    let squid = Squid::start(basic());
    let peer = TcpPeer::start(Behavior::Echo);
    let proxy = format!("http://127.0.0.1:{}", squid.port());
    let target = format!("127.0.0.1:{}", peer.port());
    let r = handover(
        &["probe", &target, "-x", &proxy, "-U", USER, "-v"],
        &[(PASSWORD_ENV, "wrong-password")],
    );
    assert_eq!(r.code, 7, "{r:?}");
    let line = r
        .stderr
        .lines()
        .find(|l| l.starts_with("handover: "))
        .expect("an error line");
    assert!(line.contains("hop 1"), "{line}");
    assert!(line.contains(&proxy), "{line}");
    assert!(!r.all().contains("wrong-password"), "{r:?}");
}

#[test]
fn microsocks_with_a_password_and_its_refusal_97() {
    let socks = Microsocks::shared(Some((USER, PASSWORD)));
    let peer = TcpPeer::start(Behavior::Echo);
    let proxy = format!("socks5h://127.0.0.1:{}", socks.port());
    let target = format!("127.0.0.1:{}", peer.port());
    let r = handover(
        &["probe", &target, "-x", &proxy, "-U", USER, "-v"],
        &[(PASSWORD_ENV, PASSWORD)],
    );
    assert_eq!(r.code, 0, "{r:?}\n{}", socks.log());
    assert_no_secret(&r.all());

    let r = handover(
        &["probe", &target, "-x", &proxy, "-U", USER],
        &[(PASSWORD_ENV, "not-it")],
    );
    assert_eq!(r.code, 97, "{r:?}");
    assert!(r.stderr.contains("socks5h"), "{r:?}");
}

#[test]
fn a_two_hop_chain_dante_then_squid() {
    let dante = Dante::shared();
    let squid = Squid::shared(SquidAuth::None);
    let peer = TcpPeer::start(Behavior::Echo);
    let target = format!("127.0.0.1:{}", peer.port());
    let r = handover(
        &[
            "probe",
            &target,
            "-x",
            &format!("socks5://127.0.0.1:{}", dante.port()),
            "-x",
            &format!("http://127.0.0.1:{}", squid.port()),
            "-w",
            "%{hops} %{remote_port}\\n",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}\n{}\n{}", dante.log(), squid.log());
    assert!(r.stdout.contains("via 2 proxies"), "{r:?}");
    assert!(
        r.stdout.contains(&format!("2 {}", dante.port())),
        "remote is the first hop: {r:?}"
    );
}

#[test]
fn a_hops_own_auth_option_wins_over_the_chain_wide_flag() {
    let digest = Squid::shared(SquidAuth::Digest {
        user: USER.into(),
        password: DIGEST_PASSWORD.into(),
        realm: "handover".into(),
    });
    let basic = Squid::shared(basic());
    let peer = TcpPeer::start(Behavior::Echo);
    let target = format!("127.0.0.1:{}", peer.port());
    // One hop with ?auth=digest, --proxy-basic for the rest: the hop's wins.
    let hop = format!("http://127.0.0.1:{}?auth=digest", digest.port());
    let r = handover(
        &[
            "probe",
            &target,
            "-x",
            &hop,
            "-U",
            USER,
            "--proxy-basic",
            "-q",
            "-w",
            "%{hop.1.auth}",
        ],
        &[(PASSWORD_ENV, DIGEST_PASSWORD)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "Digest");
    // Two hops, each with its own method and user.
    let encoded = PASSWORD.replace(':', "%3A");
    let chain = [
        format!(
            "http://{USER}:{DIGEST_PASSWORD}@127.0.0.1:{}?auth=digest",
            digest.port()
        ),
        format!(
            "http://{USER}:{encoded}@127.0.0.1:{}?auth=basic",
            basic.port()
        ),
    ];
    let r = handover(
        &[
            "probe",
            &target,
            "-x",
            &chain[0],
            "-x",
            &chain[1],
            "--proxy-ntlm",
            "-q",
            "-w",
            "%{hop.1.auth} %{hop.2.auth}",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "Digest Basic");
    assert_no_secret(&r.all());
    let plan = handover(&["plan", &target, "-x", &chain[0], "-x", &chain[1]], &[]);
    assert!(
        plan.stdout.contains("auth: digest (the hop's auth=)"),
        "{plan:?}"
    );
    // A mistyped option: curl's 5, naming it.
    let typo = format!("http://127.0.0.1:{}?atuh=digest", digest.port());
    let r = handover(&["probe", &target, "-x", &typo], &[]);
    assert_eq!(r.code, 5, "{r:?}");
    assert!(r.stderr.contains("atuh"), "{r:?}");
}
