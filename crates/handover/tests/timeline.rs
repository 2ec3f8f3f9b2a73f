//! The setup's timeline (`Info::steps`) against real peers: every name
//! looked up, every happy-eyeballs attempt, every layer's handshake (TLS to
//! the server, squid's CONNECT with its authentication, a SOCKS5
//! handshake, a chain of both, the request of connect-only = 2), in order,
//! stamped with the clock as they happened; libcurl's cumulative times are
//! points on it; a failure marks the step that failed.

use std::time::Duration;

use handover::{Auth, ConnectOnly, Easy, ErrorKind, Info, Step, StepKind};
use handover_test_support::peers::{Behavior, TcpPeer, TestPki, TlsPeer};
use handover_test_support::real_peers::{Microsocks, Nginx, Squid, SquidAuth};

fn connect_only(url: &str) -> Easy {
    let mut easy = Easy::new();
    easy.url(url).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.connect_timeout(Duration::from_secs(20)).unwrap();
    easy
}

/// The name of a layer step, or what kind of step it is.
fn label(step: &Step) -> String {
    match &step.kind {
        StepKind::Resolve { .. } => "resolve".into(),
        StepKind::Connect { won: true, .. } => "connect".into(),
        StepKind::Connect { won: false, .. } => "connect (lost)".into(),
        StepKind::Layer { name, .. } => (*name).into(),
        other => format!("{other:?}"),
    }
}

fn labels(info: &Info) -> Vec<(String, usize)> {
    info.steps().iter().map(|s| (label(s), s.hop)).collect()
}

fn detail(info: &Info, name: &str) -> String {
    info.steps()
        .iter()
        .find_map(|s| match &s.kind {
            StepKind::Layer { name: n, detail } if *n == name => Some(detail.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no {name} step in {:#?}", info.steps()))
}

/// Steps begin in order, finished ones end after they begin and before
/// the total, and libcurl's times are the ends of the right steps.
fn assert_consistent(info: &Info) {
    let steps = info.steps();
    for pair in steps.windows(2) {
        assert!(pair[0].start <= pair[1].start, "{steps:#?}");
    }
    for step in steps {
        if let Some(end) = step.end() {
            assert!(end <= info.total_time(), "{step:?} ends after the total");
        }
    }
    let last_resolve = steps
        .iter()
        .filter(|s| matches!(s.kind, StepKind::Resolve { .. }))
        .filter_map(Step::end)
        .max();
    assert_eq!(Some(info.namelookup_time()), last_resolve, "{steps:#?}");
    let winner = steps
        .iter()
        .find(|s| matches!(s.kind, StepKind::Connect { won: true, .. }))
        .and_then(Step::end);
    assert_eq!(Some(info.connect_time()), winner, "{steps:#?}");
    assert!(info.namelookup_time() <= info.connect_time());
    assert!(info.connect_time() <= info.pretransfer_time() || info.pretransfer_time().is_zero());
}

#[test]
fn direct_tls_is_resolve_connect_tls_and_appconnect_is_the_tls_end() {
    let pki = TestPki::new();
    let peer = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let mut easy = connect_only(&format!("https://127.0.0.1:{}/", peer.port()));
    easy.cainfo_blob(pki.ca_pem.as_bytes()).unwrap();
    easy.perform().unwrap();
    let info = easy.info();
    assert_eq!(
        labels(info),
        [
            ("resolve".into(), 0),
            ("connect".into(), 0),
            ("tls".into(), 0)
        ]
    );
    let steps = info.steps();
    assert!(
        matches!(&steps[0].kind, StepKind::Resolve { cached: true, addrs, .. } if addrs.len() == 1),
        "an IP literal needs no lookup: {:?}",
        steps[0]
    );
    assert_eq!(steps[1].peer, format!("127.0.0.1:{}", peer.port()));
    let tls = &steps[2];
    assert_eq!(Some(info.appconnect_time()), tls.end());
    let said = detail(info, "tls");
    assert!(said.starts_with("TLSv1.3, TLS_"), "{said}");
    assert!(
        said.contains("no ALPN"),
        "the echo peer agrees on none: {said}"
    );
    assert!(said.contains("certificate expires"), "{said}");
    // The test certificate's notAfter, as a number: far in the future.
    let expiry = info.certificate_expiry().expect("a server certificate");
    assert!(expiry > std::time::SystemTime::now() + Duration::from_secs(365 * 86_400));
    assert_consistent(info);
}

#[test]
fn a_lost_happy_eyeballs_attempt_is_a_step_of_its_own() {
    // localhost is ::1 then 127.0.0.1; the server listens on IPv4 only, so
    // the IPv6 attempt is refused and the IPv4 one wins.
    let peer = TcpPeer::start(Behavior::Echo);
    let mut easy = connect_only(&format!("telnet://localhost:{}", peer.port()));
    easy.perform().unwrap();
    let info = easy.info();
    let attempts: Vec<&Step> = info
        .steps()
        .iter()
        .filter(|s| matches!(s.kind, StepKind::Connect { .. }))
        .collect();
    assert_eq!(attempts.len(), 2, "{:#?}", info.steps());
    assert!(attempts[0].peer.starts_with("[::1]:"), "{:?}", attempts[0]);
    assert_eq!(attempts[0].error, Some(ErrorKind::CouldntConnect));
    assert_eq!(
        attempts[0].duration, None,
        "a failed attempt never finished"
    );
    assert!(matches!(
        attempts[1].kind,
        StepKind::Connect { won: true, .. }
    ));
    assert_consistent(info);
}

#[test]
fn through_squid_with_basic_the_connect_step_is_the_proxys_hop() {
    let pki = TestPki::new();
    let target = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let squid = Squid::shared(SquidAuth::Basic {
        user: "alice".into(),
        password: "wonderland".into(),
    });
    let mut easy = connect_only(&format!("https://localhost:{}/", target.port()));
    easy.cainfo_blob(pki.ca_pem.as_bytes()).unwrap();
    easy.proxy(&format!("http://127.0.0.1:{}", squid.port()))
        .unwrap();
    easy.proxy_auth(Auth::new().basic(true)).unwrap();
    easy.proxy_username("alice").unwrap();
    easy.proxy_password("wonderland").unwrap();
    easy.perform().unwrap();
    let info = easy.info();
    assert_eq!(
        labels(info),
        [
            ("resolve".into(), 1),
            ("connect".into(), 1),
            ("http-proxy".into(), 1),
            ("tls".into(), 0)
        ]
    );
    let said = detail(info, "http-proxy");
    assert!(
        said.contains(&format!("CONNECT localhost:{} → 200", target.port())),
        "{said}"
    );
    assert!(said.contains("Basic"), "{said}");
    assert_eq!(info.steps()[2].peer, format!("127.0.0.1:{}", squid.port()));
    assert_consistent(info);
}

#[test]
fn a_socks5_then_http_proxy_chain_has_a_step_per_hop() {
    let target = TcpPeer::start(Behavior::Echo);
    let socks = Microsocks::shared(None);
    let squid = Squid::shared(SquidAuth::None);
    let mut easy = connect_only(&format!("telnet://127.0.0.1:{}", target.port()));
    easy.proxy_chain(&[
        &format!("socks5h://127.0.0.1:{}", socks.port()),
        &format!("http://127.0.0.1:{}", squid.port()),
    ])
    .unwrap();
    easy.perform().unwrap();
    let info = easy.info();
    assert_eq!(
        labels(info),
        [
            ("resolve".into(), 1),
            ("connect".into(), 1),
            ("socks5".into(), 1),
            ("http-proxy".into(), 2)
        ]
    );
    assert!(
        detail(info, "socks5").contains("SOCKS5"),
        "{:#?}",
        info.steps()
    );
    assert_consistent(info);
}

#[test]
fn a_refused_proxy_password_marks_the_proxys_step_failed() {
    let target = TcpPeer::start(Behavior::Echo);
    let squid = Squid::start(SquidAuth::Basic {
        user: "alice".into(),
        password: "wonderland".into(),
    });
    let mut easy = connect_only(&format!("telnet://127.0.0.1:{}", target.port()));
    easy.proxy(&format!("http://alice:wrong@127.0.0.1:{}", squid.port()))
        .unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CouldntConnect);
    let info = easy.info();
    let failed: Vec<&Step> = info.steps().iter().filter(|s| s.error.is_some()).collect();
    assert_eq!(failed.len(), 1, "{:#?}", info.steps());
    assert_eq!(label(failed[0]), "http-proxy");
    assert_eq!(failed[0].error, Some(ErrorKind::CouldntConnect));
    assert_eq!(failed[0].duration, None);
}

#[test]
fn connect_only_2_adds_the_request_with_its_status() {
    let nginx = Nginx::shared(None);
    let mut easy = Easy::new();
    easy.url(&format!("http://127.0.0.1:{}/", nginx.port()))
        .unwrap();
    easy.connect_only(ConnectOnly::Headers).unwrap();
    easy.perform().unwrap();
    let info = easy.info();
    assert_eq!(
        labels(info),
        [
            ("resolve".into(), 0),
            ("connect".into(), 0),
            ("request".into(), 0)
        ]
    );
    let said = detail(info, "request");
    assert!(said.starts_with("response "), "{said}");
    let request = &info.steps()[2];
    assert!(info.pretransfer_time() <= request.end().unwrap());
    assert_consistent(info);
}
