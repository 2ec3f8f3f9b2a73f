//! handover through real proxy programs started on loopback: squid (no
//! auth, Basic, Digest), stunnel in front of squid (an HTTPS proxy),
//! microsocks (SOCKS5 with a password) and dante (SOCKS4, SOCKS5). For each:
//! connect-only to a plain and to a TLS echo target, then a verified round
//! trip of at least 1 MiB.
//!
//! The tests run in parallel on shared instances (`Squid::shared`,
//! `Dante::shared`, `Microsocks::shared`) wherever they need nothing fresh;
//! a test that sends a wrong password starts its own, since squid caches
//! credentials per user.

mod common;

use std::time::Duration;

use common::{capture_verbose, echo, pattern};
use handover::{Auth, ConnectOnly, Easy, ErrorKind, IpResolve, List, ProxyType};
use handover_test_support::peers::{assert_same, Behavior, TcpPeer, TestPki, TlsPeer};
use handover_test_support::real_peers::{Dante, Microsocks, Squid, SquidAuth, Stunnel};

const MIB: usize = 1024 * 1024;

/// A plain and a TLS echo target, and the PKI the TLS one uses.
struct Targets {
    pki: TestPki,
    plain: TcpPeer,
    tls: TlsPeer,
}

impl Targets {
    fn start() -> Targets {
        let pki = TestPki::new();
        let tls = TlsPeer::start(pki.server_config(), Behavior::Echo);
        Targets {
            plain: TcpPeer::start(Behavior::Echo),
            tls,
            pki,
        }
    }

    /// Connect-only through `configure`'s proxy to both targets, each with
    /// a 1 MiB round trip. Returns the TLS handle for further checks.
    fn exercise(&self, configure: impl Fn(&mut Easy)) -> Easy {
        let mut plain = Easy::new();
        plain
            .url(&format!("telnet://127.0.0.1:{}", self.plain.port()))
            .unwrap();
        plain.connect_only(ConnectOnly::Connection).unwrap();
        plain.connect_timeout(Duration::from_secs(20)).unwrap();
        configure(&mut plain);
        plain
            .perform()
            .unwrap_or_else(|e| panic!("plain target: {e:?}"));
        let data = pattern(MIB + 17, 31);
        assert_same(&echo(&mut plain, &data), &data);

        let mut tls = Easy::new();
        tls.url(&format!("https://127.0.0.1:{}/", self.tls.port()))
            .unwrap();
        tls.connect_only(ConnectOnly::Connection).unwrap();
        tls.connect_timeout(Duration::from_secs(20)).unwrap();
        tls.cainfo(self.pki.write_temp("ca.pem", &self.pki.ca_pem))
            .unwrap();
        configure(&mut tls);
        tls.perform()
            .unwrap_or_else(|e| panic!("TLS target: {e:?}"));
        assert!(tls.info().appconnect_time() > Duration::ZERO);
        let data = pattern(MIB + 33, 32);
        assert_same(&echo(&mut tls, &data), &data);
        tls
    }
}

#[test]
fn squid_without_auth_tunnels_to_plain_and_tls_targets() {
    let targets = Targets::start();
    let squid = Squid::shared(SquidAuth::None);
    let url = format!("http://127.0.0.1:{}", squid.port());
    let easy = targets.exercise(|e| e.proxy(&url).unwrap());
    assert_eq!(easy.http_connectcode().unwrap(), 200);
    assert_eq!(easy.info().primary_addr().unwrap(), squid.addr());
}

fn basic_auth() -> SquidAuth {
    SquidAuth::Basic {
        user: "alice".into(),
        password: "wonder:land".into(),
    }
}

#[test]
fn squid_basic_with_the_right_password_preemptively() {
    let targets = Targets::start();
    let squid = Squid::shared(basic_auth());
    let url = format!("http://alice:wonder%3Aland@127.0.0.1:{}", squid.port());
    let easy = targets.exercise(|e| e.proxy(&url).unwrap());
    assert_eq!(easy.http_connectcode().unwrap(), 200);
    assert_eq!(easy.info().proxyauth_used(), 1);
    assert_eq!(easy.info().num_connects(), 1, "pre-emptive: no 407 round");
}

#[test]
fn squid_basic_chosen_from_the_challenge_with_any() {
    let targets = Targets::start();
    let squid = Squid::shared(basic_auth());
    let url = format!("http://127.0.0.1:{}", squid.port());
    let easy = targets.exercise(|e| {
        e.proxy(&url).unwrap();
        e.proxy_username("alice").unwrap();
        e.proxy_password("wonder:land").unwrap();
        e.proxy_auth(&Auth::any()).unwrap();
    });
    assert_eq!(easy.info().proxyauth_avail() & 1, 1, "Basic offered");
    assert_eq!(easy.info().proxyauth_used(), 1);
}

#[test]
fn squid_basic_with_a_wrong_password_is_refused_with_407() {
    let targets = Targets::start();
    let squid = Squid::start(basic_auth());
    let mut easy = Easy::new();
    easy.url(&format!("telnet://127.0.0.1:{}", targets.plain.port()))
        .unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.proxy(&format!("http://alice:wrong@127.0.0.1:{}", squid.port()))
        .unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CouldntConnect, "{err}");
    assert_eq!(easy.http_connectcode().unwrap(), 407);
    assert!(err.to_string().contains("rejected"), "{err}");

    // And with no credentials at all.
    easy.proxy(&format!("http://127.0.0.1:{}", squid.port()))
        .unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 7);
    assert!(err.to_string().contains("no proxy credentials"), "{err}");
    assert_eq!(easy.http_connectcode().unwrap(), 407);
}

fn digest_squid() -> Squid {
    Squid::start(SquidAuth::Digest {
        user: "bob".into(),
        password: "d1gest-pass".into(),
        realm: "handover-test".into(),
    })
}

#[test]
fn squid_digest_with_the_right_password() {
    let targets = Targets::start();
    let squid = digest_squid();
    let url = format!("http://127.0.0.1:{}", squid.port());
    let easy = targets.exercise(|e| {
        e.proxy(&url).unwrap();
        e.proxy_username("bob").unwrap();
        e.proxy_password("d1gest-pass").unwrap();
        e.proxy_auth(Auth::new().digest(true)).unwrap();
    });
    assert_eq!(easy.http_connectcode().unwrap(), 200);
    assert_eq!(easy.info().proxyauth_used(), 2, "Digest used");
}

#[test]
fn squid_digest_with_a_wrong_password_is_refused_with_407() {
    let targets = Targets::start();
    let squid = digest_squid();
    let mut easy = Easy::new();
    easy.url(&format!("telnet://127.0.0.1:{}", targets.plain.port()))
        .unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.proxy(&format!("http://127.0.0.1:{}", squid.port()))
        .unwrap();
    easy.proxy_username("bob").unwrap();
    easy.proxy_password("wrong").unwrap();
    easy.proxy_auth(&Auth::any()).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 7, "{err}");
    assert_eq!(easy.http_connectcode().unwrap(), 407);
    assert_eq!(easy.info().proxyauth_used(), 2, "Digest was tried");
}

#[test]
fn https_proxy_stunnel_in_front_of_squid_carries_tls_inside_tls() {
    let targets = Targets::start();
    let squid = Squid::shared(SquidAuth::None);
    let proxy_pki = TestPki::new();
    let stunnel = Stunnel::start(
        squid.addr(),
        &proxy_pki.server_chain_pem,
        &proxy_pki.server_key_pem,
    );
    let url = format!("https://localhost:{}", stunnel.port());
    let proxy_ca = proxy_pki.write_temp("proxy-ca.pem", &proxy_pki.ca_pem);
    let easy = targets.exercise(|e| {
        e.proxy(&url).unwrap();
        e.proxy_cainfo(&proxy_ca).unwrap();
    });
    assert_eq!(easy.http_connectcode().unwrap(), 200);

    // The proxy's certificate is checked with the proxy's own CA option.
    let mut untrusted = Easy::new();
    untrusted
        .url(&format!("telnet://127.0.0.1:{}", targets.plain.port()))
        .unwrap();
    untrusted.connect_only(ConnectOnly::Connection).unwrap();
    untrusted.proxy(&url).unwrap();
    untrusted
        .proxy_cainfo(targets.pki.write_temp("wrong-ca.pem", &targets.pki.ca_pem))
        .unwrap();
    assert_eq!(untrusted.perform().unwrap_err().code(), 60);
}

#[test]
fn microsocks_with_username_and_password() {
    let targets = Targets::start();
    let socks = Microsocks::start(Some(("carol", "s0cks")));
    let url = format!("socks5://carol:s0cks@127.0.0.1:{}", socks.port());
    let easy = targets.exercise(|e| e.proxy(&url).unwrap());
    assert!(easy.info().used_proxy());

    let mut wrong = Easy::new();
    wrong
        .url(&format!("telnet://127.0.0.1:{}", targets.plain.port()))
        .unwrap();
    wrong.connect_only(ConnectOnly::Connection).unwrap();
    wrong
        .proxy(&format!("socks5h://carol:nope@127.0.0.1:{}", socks.port()))
        .unwrap();
    let err = wrong.perform().unwrap_err();
    assert_eq!(err.code(), 97, "{err}");
    assert_eq!(wrong.info().proxy_error(), 33, "CURLPX_USER_REJECTED");
}

/// Connect-only to `telnet://localhost:PORT` through `proxy`, whose kind
/// makes the proxy resolve the name, then a 1 MiB round trip.
fn by_name_through(proxy: &str, targets: &Targets) {
    let mut easy = Easy::new();
    easy.url(&format!("telnet://localhost:{}", targets.plain.port()))
        .unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.connect_timeout(Duration::from_secs(20)).unwrap();
    easy.proxy(proxy).unwrap();
    easy.perform().unwrap_or_else(|e| panic!("{proxy}: {e:?}"));
    let data = pattern(MIB, 34);
    assert_same(&echo(&mut easy, &data), &data);
}

#[test]
fn dante_socks5_and_socks5h() {
    let targets = Targets::start();
    let dante = Dante::shared();
    let port = dante.port();
    targets.exercise(|e| e.proxy(&format!("socks5://127.0.0.1:{port}")).unwrap());
    targets.exercise(|e| {
        e.proxy(&format!("127.0.0.1:{port}")).unwrap();
        e.proxy_type(ProxyType::Socks5Hostname).unwrap();
    });
    by_name_through(&format!("socks5h://127.0.0.1:{port}"), &targets);
}

#[test]
fn microsocks_resolves_names_for_socks5h() {
    let targets = Targets::start();
    let socks = Microsocks::start(Some(("dave", "pw")));
    by_name_through(
        &format!("socks5h://dave:pw@127.0.0.1:{}", socks.port()),
        &targets,
    );
}

/// dante 1.4 has no SOCKS4a (its log shows it connecting to 0.0.0.1), so
/// SOCKS4a is covered by the in-process proxy in proxy_fakes.rs.
#[test]
fn dante_socks4() {
    let targets = Targets::start();
    let dante = Dante::shared();
    let port = dante.port();
    targets.exercise(|e| e.proxy(&format!("socks4://127.0.0.1:{port}")).unwrap());
    // SOCKS4 resolves locally: a name works too.
    by_name_through(&format!("socks4://127.0.0.1:{port}"), &targets);
}

#[test]
fn three_hops_socks5_then_http_proxy_then_tls_target_in_one_perform() {
    let targets = Targets::start();
    let socks = Microsocks::shared(None);
    let squid = Squid::shared(SquidAuth::None);
    let chain = [
        format!("socks5://127.0.0.1:{}", socks.port()),
        format!("http://127.0.0.1:{}", squid.port()),
    ];
    let easy = targets.exercise(|e| e.proxy_chain(&chain).unwrap());
    assert_eq!(
        easy.info().primary_addr().unwrap(),
        socks.addr(),
        "the first hop is the socket's peer"
    );
    assert_eq!(easy.http_connectcode().unwrap(), 200);

    // libcurl's own form of the same: a SOCKS pre-proxy before the proxy.
    let pre = format!("socks5h://127.0.0.1:{}", socks.port());
    let proxy = format!("http://127.0.0.1:{}", squid.port());
    targets.exercise(|e| {
        e.pre_proxy(&pre).unwrap();
        e.proxy(&proxy).unwrap();
    });
}

#[test]
fn four_hops_socks_https_proxy_http_proxy_tls_target() {
    let targets = Targets::start();
    let socks = Dante::shared();
    let inner_squid = Squid::shared(SquidAuth::None);
    // A squid of its own: four distinct hops.
    let outer_squid = Squid::start(SquidAuth::None);
    let proxy_pki = TestPki::new();
    let stunnel = Stunnel::start(
        outer_squid.addr(),
        &proxy_pki.server_chain_pem,
        &proxy_pki.server_key_pem,
    );
    let chain = [
        format!("socks5://127.0.0.1:{}", socks.port()),
        format!("https://127.0.0.1:{}", stunnel.port()),
        format!("http://127.0.0.1:{}", inner_squid.port()),
    ];
    let proxy_ca = proxy_pki.write_temp("proxy-ca.pem", &proxy_pki.ca_pem);
    targets.exercise(|e| {
        e.proxy_chain(&chain).unwrap();
        e.proxy_cainfo(&proxy_ca).unwrap();
    });
}

#[test]
fn https_proxy_pinned_key_and_an_http10_proxy() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let targets = Targets::start();
    let squid = Squid::shared(SquidAuth::None);
    let proxy_pki = TestPki::new();
    let stunnel = Stunnel::start(
        squid.addr(),
        &proxy_pki.server_chain_pem,
        &proxy_pki.server_key_pem,
    );
    let pin = |spki: &[u8]| {
        format!(
            "sha256//{}",
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(spki))
        )
    };
    let proxy_ca = proxy_pki.write_temp("proxy-ca.pem", &proxy_pki.ca_pem);
    let connect = |pinned: &str| {
        let mut easy = Easy::new();
        easy.url(&format!("telnet://127.0.0.1:{}", targets.plain.port()))
            .unwrap();
        easy.connect_only(ConnectOnly::Connection).unwrap();
        easy.proxy(&format!("https://localhost:{}", stunnel.port()))
            .unwrap();
        easy.proxy_cainfo(&proxy_ca).unwrap();
        easy.proxy_pinned_public_key(pinned).unwrap();
        easy.perform()
    };
    connect(&pin(&proxy_pki.server_spki_der)).unwrap();
    let other = TestPki::new();
    assert_eq!(
        connect(&pin(&other.server_spki_der)).unwrap_err().code(),
        90
    );

    // CURLPROXY_HTTP_1_0: a proxy string without a scheme takes proxy_type.
    let easy = targets.exercise(|e| {
        e.proxy(&format!("127.0.0.1:{}", squid.port())).unwrap();
        e.proxy_type(ProxyType::Http1).unwrap();
    });
    assert_eq!(easy.http_connectcode().unwrap(), 200);
}

/// `socks5://` resolves the target here and sends the proxy one address:
/// for `localhost` that is 127.0.0.1, so a TLS server listening on IPv4
/// only is reached (libcurl with the system resolver does the same).
#[test]
fn socks5_local_resolution_sends_ipv4_for_localhost() {
    let targets = Targets::start();
    let socks = Microsocks::shared(None);
    let mut easy = Easy::new();
    easy.url(&format!("https://localhost:{}/", targets.tls.port()))
        .unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.connect_timeout(Duration::from_secs(20)).unwrap();
    easy.cainfo(targets.pki.write_temp("ca.pem", &targets.pki.ca_pem))
        .unwrap();
    easy.proxy(&format!("socks5://127.0.0.1:{}", socks.port()))
        .unwrap();
    let verbose = capture_verbose(&mut easy);
    easy.perform()
        .unwrap_or_else(|e| panic!("{e:?}\n{}", socks.log()));
    let text = verbose.lock().unwrap().clone();
    let want = format!(
        "* SOCKS5 connect to 127.0.0.1:{} (locally resolved)",
        targets.tls.port()
    );
    assert!(text.contains(&want), "{text}");
    let data = pattern(64 * 1024, 35);
    assert_same(&echo(&mut easy, &data), &data);
}

/// SOCKS4 carries IPv4 only: `localhost` goes out as 127.0.0.1 (dante).
#[test]
fn socks4_local_resolution_sends_ipv4_for_localhost() {
    let targets = Targets::start();
    let dante = Dante::shared();
    let mut easy = Easy::new();
    easy.url(&format!("https://localhost:{}/", targets.tls.port()))
        .unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.connect_timeout(Duration::from_secs(20)).unwrap();
    easy.cainfo(targets.pki.write_temp("ca.pem", &targets.pki.ca_pem))
        .unwrap();
    easy.proxy(&format!("socks4://127.0.0.1:{}", dante.port()))
        .unwrap();
    easy.perform()
        .unwrap_or_else(|e| panic!("{e:?}\n{}", dante.log()));
    let data = pattern(64 * 1024, 36);
    assert_same(&echo(&mut easy, &data), &data);
}

/// A refusal by the destination names that destination, and `ip_resolve`
/// applies to the address a SOCKS proxy is sent.
#[test]
fn socks5_refusal_names_the_destination_and_ip_resolve_applies() {
    let targets = Targets::start();
    let socks = Microsocks::shared(None);
    let port = targets.plain.port();
    let attempt = |ip: IpResolve| {
        let mut easy = Easy::new();
        // Only [::1] for this name: nothing listens there (the target is on
        // 127.0.0.1), so the proxy's connect is refused.
        easy.url(&format!("telnet://v6only.test:{port}")).unwrap();
        let mut list = List::new();
        list.append(&format!("v6only.test:{port}:[::1]")).unwrap();
        easy.resolve(list).unwrap();
        easy.ip_resolve(ip).unwrap();
        easy.connect_only(ConnectOnly::Connection).unwrap();
        easy.connect_timeout(Duration::from_secs(20)).unwrap();
        easy.proxy(&format!("socks5://127.0.0.1:{}", socks.port()))
            .unwrap();
        let err = easy.perform().unwrap_err();
        (err, easy.info().proxy_error())
    };
    let (err, detail) = attempt(IpResolve::Any);
    assert_eq!(err.code(), 97, "{err}");
    assert_eq!(detail, 19, "CURLPX_REPLY_CONNECTION_REFUSED: {err}");
    assert!(
        err.message().contains(&format!(
            "SOCKS5 connect to [::1]:{port} failed: connection refused by destination host"
        )),
        "{err}"
    );
    let (err, _) = attempt(IpResolve::V4);
    assert_eq!(err.code(), 6, "{err}");
    assert!(err.message().contains("no IPv4 address"), "{err}");
}

/// Without TLS, a connection tunnelled through dante (SOCKS5) or squid
/// (CONNECT) unwraps to the plain socket: the finished handshakes change
/// no byte.
#[test]
fn tunnels_without_tls_unwrap_to_the_tcp_stream() {
    use std::io::{Read, Write};
    let targets = Targets::start();
    let dante = Dante::shared();
    let squid = Squid::shared(SquidAuth::None);
    for proxy in [
        format!("socks5://127.0.0.1:{}", dante.port()),
        format!("http://127.0.0.1:{}", squid.port()),
    ] {
        let mut easy = Easy::new();
        easy.url(&format!("telnet://127.0.0.1:{}", targets.plain.port()))
            .unwrap();
        easy.connect_only(ConnectOnly::Connection).unwrap();
        easy.connect_timeout(Duration::from_secs(20)).unwrap();
        easy.proxy(&proxy).unwrap();
        easy.perform().unwrap_or_else(|e| panic!("{proxy}: {e:?}"));
        let conn = easy.take_connection().unwrap();
        assert!(conn.is_plain(), "{proxy}");
        let mut stream = conn
            .into_tcp_stream()
            .unwrap_or_else(|_| panic!("{proxy}: refused"));
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let data = pattern(100_000, 37);
        let writer = {
            let mut stream = stream.try_clone().unwrap();
            let data = data.clone();
            std::thread::spawn(move || stream.write_all(&data).unwrap())
        };
        let mut got = vec![0u8; data.len()];
        stream.read_exact(&mut got).unwrap();
        writer.join().unwrap();
        assert_same(&got, &data);
    }
}

/// Two HTTPS proxies whose certificates come from different CAs, and two
/// squids wanting different methods: each chain entry says its own
/// (`?cacert=…`, `?auth=…`), where one handle-wide setting cannot serve.
#[test]
fn chain_entries_carry_their_own_ca_and_auth_method() {
    let targets = Targets::start();
    let digest = digest_squid();
    let basic = Squid::start(basic_auth());
    let (pki_a, pki_b) = (TestPki::new(), TestPki::new());
    let outer = Stunnel::start(
        digest.addr(),
        &pki_a.server_chain_pem,
        &pki_a.server_key_pem,
    );
    let inner = Stunnel::start(basic.addr(), &pki_b.server_chain_pem, &pki_b.server_key_pem);
    let ca_a = pki_a.write_temp("hop-a-ca.pem", &pki_a.ca_pem);
    let ca_b = pki_b.write_temp("hop-b-ca.pem", &pki_b.ca_pem);
    let chain = |inner_ca: &std::path::Path| {
        [
            format!(
                "https://bob:d1gest-pass@localhost:{}?auth=digest&cacert={}",
                outer.port(),
                ca_a.display()
            ),
            format!(
                "https://alice:wonder%3Aland@localhost:{}/?auth=basic&cacert={}",
                inner.port(),
                inner_ca.display()
            ),
        ]
    };
    let easy = targets.exercise(|e| {
        e.proxy_chain(&chain(&ca_b)).unwrap();
        // The handle-wide settings, which the entries override.
        e.proxy_auth(Auth::new().ntlm(true)).unwrap();
    });
    assert_eq!(easy.http_connectcode().unwrap(), 200);
    let plan = easy.route_plan().unwrap();
    let auth: Vec<_> = plan.hops.iter().map(|h| h.options.auth.clone()).collect();
    assert_eq!(
        auth,
        [
            Some(vec!["digest".to_owned()]),
            Some(vec!["basic".to_owned()])
        ]
    );

    // The inner hop checked with the outer hop's CA: 60, at that hop.
    let mut wrong = Easy::new();
    wrong
        .url(&format!("telnet://127.0.0.1:{}", targets.plain.port()))
        .unwrap();
    wrong.connect_only(ConnectOnly::Connection).unwrap();
    wrong.proxy_chain(&chain(&ca_a)).unwrap();
    let err = wrong.perform().unwrap_err();
    assert_eq!(err.code(), 60, "{err}");

    // A mistyped option is refused before any connection.
    let mut typo = Easy::new();
    typo.url("telnet://127.0.0.1:9").unwrap();
    typo.connect_only(ConnectOnly::Connection).unwrap();
    typo.proxy_chain(&["http://p:3128?auht=basic"]).unwrap();
    let err = typo.perform().unwrap_err();
    assert_eq!(err.code(), 5, "{err}");
    assert!(err.to_string().contains("auht"), "{err}");
}
