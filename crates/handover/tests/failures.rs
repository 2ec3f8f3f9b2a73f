//! Every way setting up a connection can fail, with libcurl's code and a
//! message that says what and where; and the TLS switches that turn a
//! failure into a success.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use handover::{ConnectOnly, Easy, ErrorKind, List, SslVersion};
use handover_test_support::peers::{Behavior, TcpPeer, TestPki, TlsPeer};

fn easy(url: &str) -> Easy {
    let mut easy = Easy::new();
    easy.url(url).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.connect_timeout(Duration::from_secs(10)).unwrap();
    easy
}

#[test]
fn untrusted_ca_is_peer_verification_failure() {
    let pki = TestPki::new();
    let server = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let mut e = easy(&format!("https://localhost:{}/", server.port()));
    e.cainfo(pki.write_temp("other.pem", &pki.other_ca_pem))
        .unwrap();
    let err = e.perform().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PeerFailedVerification, "{err}");
    assert_eq!(err.code(), 60);
    assert!(err.to_string().contains("localhost"), "{err}");
    // In a person's words, naming the trust anchors that were consulted.
    let other = pki.write_temp("other.pem", &pki.other_ca_pem);
    assert!(
        err.message().contains(&format!(
            "SSL certificate problem: unable to get local issuer certificate (server localhost:{}, \
             host name localhost; trusted: CA file {})",
            server.port(),
            other.display()
        )),
        "{err}"
    );
    assert_eq!(e.info().ssl_verify_result(), 1);
    assert_eq!(e.active_socket(), None);
}

#[test]
fn wrong_host_name_is_peer_verification_failure() {
    let pki = TestPki::with_names(&["other.example"]);
    let server = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let mut e = easy(&format!("https://localhost:{}/", server.port()));
    e.cainfo(pki.write_temp("ca.pem", &pki.ca_pem)).unwrap();
    let err = e.perform().unwrap_err();
    assert_eq!(err.code(), 60, "{err}");
    assert!(
        err.message()
            .contains("no alternative certificate subject name matches the host name; the certificate is for other.example"),
        "{err}"
    );
    assert!(!err.message().contains("DnsName"), "{err}");

    // verify_host off accepts the name mismatch but not an unknown CA.
    let mut e = easy(&format!("https://localhost:{}/", server.port()));
    e.cainfo(pki.write_temp("ca.pem", &pki.ca_pem)).unwrap();
    e.ssl_verify_host(false).unwrap();
    e.perform().unwrap();
}

#[test]
fn verify_peer_off_accepts_an_untrusted_certificate() {
    let pki = TestPki::new();
    let server = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let mut e = easy(&format!("https://localhost:{}/", server.port()));
    e.cainfo(pki.write_temp("other.pem", &pki.other_ca_pem))
        .unwrap();
    e.ssl_verify_peer(false).unwrap();
    e.perform().unwrap();
}

#[test]
fn tls_to_a_plain_port_is_ssl_connect_error() {
    for behavior in [
        Behavior::Echo,
        Behavior::CloseAfter(b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec()),
    ] {
        let server = TcpPeer::start(behavior);
        let pki = TestPki::new();
        let mut e = easy(&format!("https://localhost:{}/", server.port()));
        e.cainfo(pki.write_temp("ca.pem", &pki.ca_pem)).unwrap();
        let err = e.perform().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::SslConnectError, "{err}");
        assert_eq!(err.code(), 35);
    }
}

#[test]
fn refused_port_is_couldnt_connect() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut e = easy(&format!("http://127.0.0.1:{port}/"));
    let err = e.perform().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CouldntConnect, "{err}");
    assert_eq!(err.code(), 7);
    let msg = err.to_string();
    assert!(
        msg.contains("127.0.0.1") && msg.contains(&port.to_string()),
        "{msg}"
    );
    assert_eq!(err.os_errno(), Some(libc_econnrefused()));
    assert_eq!(e.info().os_errno(), libc_econnrefused());
}

fn libc_econnrefused() -> i32 {
    std::io::Error::from(std::io::ErrorKind::ConnectionRefused)
        .raw_os_error()
        .unwrap_or(111)
}

#[test]
fn unresolvable_name_is_couldnt_resolve_host() {
    let mut e = easy("http://no-such-host.invalid/");
    let err = e.perform().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CouldntResolveHost, "{err}");
    assert_eq!(err.code(), 6);
    assert!(err.to_string().contains("no-such-host.invalid"), "{err}");
}

#[test]
fn a_server_that_never_speaks_tls_times_out_within_the_connect_timeout() {
    let server = TcpPeer::start(Behavior::Silent);
    let pki = TestPki::new();
    let mut e = easy(&format!("https://localhost:{}/", server.port()));
    e.cainfo(pki.write_temp("ca.pem", &pki.ca_pem)).unwrap();
    e.connect_timeout(Duration::from_millis(400)).unwrap();
    let started = Instant::now();
    let err = e.perform().unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::OperationTimedout, "{err}");
    assert_eq!(err.code(), 28);
    assert!(err.to_string().contains("TLS"), "{err}");
    // Generous upper bound: the deadline, not the 300 s default, ended it.
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

#[test]
fn unknown_scheme_is_unsupported_protocol_and_bad_url_is_malformed() {
    let err = easy("gopherz://127.0.0.1/").perform().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedProtocol, "{err}");
    assert!(err.to_string().contains("gopherz"), "{err}");

    let err = easy("http://[::1/").perform().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UrlMalformat, "{err}");
    assert_eq!(err.code(), 3);

    let err = Easy::new().perform().unwrap_err();
    assert_eq!(err.code(), 3, "no URL: {err}");
}

#[test]
fn modes_that_do_not_fit_the_scheme_say_so() {
    let server = TcpPeer::start(Behavior::Silent);
    let mut e = easy(&format!("telnet://127.0.0.1:{}/", server.port()));
    e.connect_only(ConnectOnly::Headers).unwrap();
    assert_eq!(e.perform().unwrap_err().code(), 1, "2 needs http or ws");
    e.connect_only(ConnectOnly::Off).unwrap();
    assert_eq!(e.perform().unwrap_err().kind(), ErrorKind::NotBuiltIn);
    assert_eq!(server.accepted(), 0, "refused before connecting");
}

#[test]
fn pinned_public_key_matches_or_fails_with_code_90() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let pki = TestPki::new();
    let server = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let url = format!("https://localhost:{}/", server.port());
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);

    let hash = sha2::Sha256::digest(&pki.server_spki_der);
    let good = format!(
        "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=;sha256//{}",
        base64::engine::general_purpose::STANDARD.encode(hash)
    );
    let mut e = easy(&url);
    e.cainfo(&ca).unwrap();
    e.pinned_public_key(&good).unwrap();
    e.perform().unwrap();

    let other = TestPki::new();
    let hash = sha2::Sha256::digest(&other.server_spki_der);
    let bad = format!(
        "sha256//{}",
        base64::engine::general_purpose::STANDARD.encode(hash)
    );
    let mut e = easy(&url);
    e.cainfo(&ca).unwrap();
    e.pinned_public_key(&bad).unwrap();
    let err = e.perform().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SslPinnedPubKeyNotMatch, "{err}");
    assert_eq!(err.code(), 90);
}

#[test]
fn client_certificate_is_presented_when_the_server_requires_one() {
    let pki = TestPki::new();
    let server = TlsPeer::start(pki.server_config_client_auth(), Behavior::Echo);
    let url = format!("https://localhost:{}/", server.port());
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);

    let mut e = easy(&url);
    e.cainfo(&ca).unwrap();
    e.ssl_cert(pki.write_temp("client.pem", &pki.client_cert_pem))
        .unwrap();
    e.ssl_key(pki.write_temp("client.key", &pki.client_key_pem))
        .unwrap();
    e.perform().unwrap();
    e.send(b"ping").unwrap();
    let mut buf = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match e.recv(&mut buf[got..]) {
            Ok(n) => got += n,
            Err(err) if err.is_again() => {
                e.wait_readable(Some(Duration::from_secs(5))).unwrap();
            }
            Err(err) => panic!("{err:?}"),
        }
    }
    assert_eq!(&buf, b"ping");

    // Without one, the server refuses: TLS 1.3 reports it after the
    // client's handshake finished, so the failure shows at the first recv
    // or already in perform.
    let mut e = easy(&url);
    e.cainfo(&ca).unwrap();
    let outcome = e.perform().and_then(|()| loop {
        let mut b = [0u8; 4];
        match e.recv(&mut b) {
            Err(err) if err.is_again() => {
                e.wait_readable(Some(Duration::from_secs(5)))?;
            }
            other => return other.map(|_| ()),
        }
    });
    let err = outcome.unwrap_err();
    assert!(matches!(err.code(), 35 | 56), "{err:?}");

    let mut e = easy(&url);
    e.cainfo(&ca).unwrap();
    e.ssl_cert(pki.write_temp("garbage.pem", "not a cert"))
        .unwrap();
    assert_eq!(e.perform().unwrap_err().code(), 58);
}

#[test]
fn tls_version_bounds_are_applied() {
    let pki = TestPki::new();
    let server = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let url = format!("https://localhost:{}/", server.port());
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);
    for (min, max) in [
        (SslVersion::Tlsv12, SslVersion::Tlsv12),
        (SslVersion::Tlsv13, SslVersion::Default),
    ] {
        let mut e = easy(&url);
        e.cainfo(&ca).unwrap();
        e.ssl_min_max_version(min, max).unwrap();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = lines.clone();
        e.verbose(true).unwrap();
        e.debug_function(move |_, d| sink.lock().unwrap().push_str(&String::from_utf8_lossy(d)))
            .unwrap();
        e.perform().unwrap();
        let want = if max == SslVersion::Tlsv12 {
            "TLSv1.2"
        } else {
            "TLSv1.3"
        };
        assert!(lines.lock().unwrap().contains(want));
    }
    let mut e = easy(&url);
    e.cainfo(&ca).unwrap();
    e.ssl_min_max_version(SslVersion::Tlsv10, SslVersion::Tlsv11)
        .unwrap();
    assert_eq!(e.perform().unwrap_err().code(), 35);
    assert_eq!(
        e.ssl_min_max_version(SslVersion::Tlsv13, SslVersion::Tlsv12)
            .unwrap_err()
            .code(),
        43
    );
}

#[test]
fn bad_ca_file_is_cacert_badfile() {
    let server = TcpPeer::start(Behavior::Silent);
    let mut e = easy(&format!("https://localhost:{}/", server.port()));
    e.cainfo("/nonexistent/handover-ca.pem").unwrap();
    assert_eq!(e.perform().unwrap_err().code(), 77);
}

#[test]
fn resolve_and_connect_to_redirect_the_connection() {
    let server = TcpPeer::start(Behavior::Echo);
    let mut e = easy(&format!("http://example.invalid:{}/", server.port()));
    e.resolve(List::from_iter([format!(
        "example.invalid:{}:127.0.0.1",
        server.port()
    )]))
    .unwrap();
    e.perform().unwrap();
    assert_eq!(e.info().primary_addr().unwrap(), server.addr());

    let mut e = easy("http://elsewhere.invalid:80/");
    e.connect_to(List::from_iter([format!(
        "elsewhere.invalid:80:127.0.0.1:{}",
        server.port()
    )]))
    .unwrap();
    e.perform().unwrap();
    assert_eq!(e.info().primary_addr().unwrap(), server.addr());

    let mut bad = Easy::new();
    assert_eq!(
        bad.resolve(List::from_iter(["no-port-here"]))
            .unwrap_err()
            .code(),
        43
    );
}

#[test]
fn ip_resolve_filters_address_families() {
    let server = TcpPeer::start(Behavior::Echo);
    let mut e = easy(&format!("http://localhost:{}/", server.port()));
    e.ip_resolve(handover::IpResolve::V4).unwrap();
    e.perform().unwrap();
    assert!(e.info().primary_addr().unwrap().is_ipv4());

    let mut e = easy(&format!("http://127.0.0.1:{}/", server.port()));
    e.ip_resolve(handover::IpResolve::V6).unwrap();
    assert_eq!(e.perform().unwrap_err().code(), 6);
}

#[test]
fn local_port_is_bound() {
    let server = TcpPeer::start(Behavior::Echo);
    let free = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut e = easy(&format!("http://127.0.0.1:{}/", server.port()));
    e.local_port(free).unwrap();
    e.local_port_range(20).unwrap();
    e.perform().unwrap();
    let local = e.info().local_addr().unwrap().port();
    assert!((free..free.saturating_add(20)).contains(&local), "{local}");

    let mut e = easy(&format!("http://127.0.0.1:{}/", server.port()));
    e.interface("host!10.255.255.1").unwrap();
    assert_eq!(e.perform().unwrap_err().code(), 45);
}

/// A timeout names the step the transfer was in and who it waited for.
#[test]
fn timeouts_name_the_phase_the_transfer_was_in() {
    let silent = TcpPeer::start(Behavior::Silent);
    let port = silent.port();
    let pki = TestPki::new();
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);
    let timed_out = |configure: &dyn Fn(&mut Easy)| {
        let mut e = easy("http://unset/");
        e.connect_timeout(Duration::from_millis(300)).unwrap();
        e.timeout(Duration::from_millis(300)).unwrap();
        e.cainfo(&ca).unwrap();
        configure(&mut e);
        let err = e.perform().unwrap_err();
        assert_eq!(err.code(), 28, "{err}");
        err.to_string()
    };

    let msg = timed_out(&|e| {
        e.url(&format!("http://127.0.0.1:{port}/")).unwrap();
        e.connect_only(ConnectOnly::Headers).unwrap();
    });
    assert!(
        msg.contains(&format!(
            "waiting for the response head from 127.0.0.1:{port}"
        )),
        "{msg}"
    );
    assert!(!msg.contains("TLS"), "{msg}");

    let msg = timed_out(&|e| {
        e.url(&format!("ws://127.0.0.1:{port}/chat")).unwrap();
        e.connect_only(ConnectOnly::Headers).unwrap();
    });
    assert!(
        msg.contains(&format!("in the WebSocket upgrade with 127.0.0.1:{port}")),
        "{msg}"
    );

    let msg = timed_out(&|e| {
        e.url(&format!("https://localhost:{port}/")).unwrap();
    });
    assert!(
        msg.contains(&format!(
            "in the TLS handshake with localhost:{port} (server name localhost)"
        )),
        "{msg}"
    );

    let msg = timed_out(&|e| {
        e.url("https://origin.example:443/").unwrap();
        e.proxy(&format!("http://127.0.0.1:{port}")).unwrap();
    });
    assert!(
        msg.contains(&format!(
            "in the CONNECT to origin.example:443 through proxy 127.0.0.1:{port}"
        )),
        "{msg}"
    );

    let msg = timed_out(&|e| {
        e.url("https://origin.example:443/").unwrap();
        e.proxy(&format!("socks5h://127.0.0.1:{port}")).unwrap();
    });
    assert!(
        msg.contains(&format!(
            "in the SOCKS handshake with proxy 127.0.0.1:{port} (SOCKS5 connect to origin.example:443"
        )),
        "{msg}"
    );
}

/// TLS to a port that answers in plain text says so.
#[test]
fn tls_to_a_plain_text_port_gets_a_hint() {
    let server = TcpPeer::start(Behavior::CloseAfter(
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".to_vec(),
    ));
    let err = easy(&format!("https://127.0.0.1:{}/", server.port()))
        .perform()
        .unwrap_err();
    assert_eq!(err.code(), 35, "{err}");
    assert!(
        err.message().contains(&format!(
            "TLS handshake with 127.0.0.1:{} failed: the server did not answer with TLS (is it a plain-text port?)",
            server.port()
        )),
        "{err}"
    );
}
