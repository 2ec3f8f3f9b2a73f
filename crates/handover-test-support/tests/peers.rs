//! Self-test of the in-process peers of `peers`: they are driven here with
//! std sockets and a plain rustls client only, so a failure here is the
//! peers' fault, not handover's.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv6Addr, Shutdown, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use handover_test_support::peers::{hexdump, Behavior, TcpPeer, TestPki, TlsPeer};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

fn client_config(trusted_ca_der: &[u8], alpn: &[&[u8]]) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(trusted_ca_der.to_vec()))
        .expect("trust anchor");
    let mut config =
        ClientConfig::builder_with_provider(rustls::crypto::ring::default_provider().into())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

fn connect_tls(
    peer: &TlsPeer,
    config: Arc<ClientConfig>,
    name: &str,
) -> StreamOwned<ClientConnection, TcpStream> {
    let sock = TcpStream::connect(peer.addr()).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let server_name = ServerName::try_from(name.to_string()).expect("server name");
    let conn = ClientConnection::new(config, server_name).expect("client connection");
    StreamOwned::new(conn, sock)
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn tcp_echo_round_trips_bytes_and_closes_after_eof() {
    let peer = TcpPeer::start(Behavior::Echo);
    let mut sock = TcpStream::connect(peer.addr()).unwrap();
    sock.write_all(b"hello, peer").unwrap();
    sock.shutdown(Shutdown::Write).unwrap();
    let mut got = Vec::new();
    sock.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"hello, peer", "got:\n{}", hexdump(&got));
    assert_eq!(peer.accepted(), 1);
    assert_eq!(peer.port(), peer.addr().port());
}

#[test]
fn tcp_echo_works_on_ipv6_loopback() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    }
    let peer = TcpPeer::start_on(IpAddr::V6(Ipv6Addr::LOCALHOST), Behavior::Echo);
    assert!(peer.addr().is_ipv6());
    let mut sock = TcpStream::connect(peer.addr()).unwrap();
    sock.write_all(b"v6").unwrap();
    let mut got = [0u8; 2];
    sock.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"v6");
}

#[test]
fn tcp_echo_serves_many_concurrent_connections() {
    let peer = TcpPeer::start(Behavior::Echo);
    let socks: Vec<TcpStream> = (0..150)
        .map(|_| TcpStream::connect(peer.addr()).unwrap())
        .collect();
    for (i, mut s) in socks.iter().enumerate() {
        s.write_all(&(i as u32).to_be_bytes()).unwrap();
    }
    for (i, mut s) in socks.iter().enumerate() {
        let mut got = [0u8; 4];
        s.read_exact(&mut got).unwrap();
        assert_eq!(u32::from_be_bytes(got), i as u32);
    }
    assert_eq!(peer.accepted(), 150);
}

#[test]
fn silent_peer_sends_nothing() {
    let peer = TcpPeer::start(Behavior::Silent);
    let mut sock = TcpStream::connect(peer.addr()).unwrap();
    sock.write_all(b"anyone there?").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 16];
    let err = sock
        .read(&mut buf)
        .expect_err("a silent peer sends nothing");
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ),
        "{err}"
    );
}

#[test]
fn close_after_sends_its_bytes_then_eof() {
    let peer = TcpPeer::start(Behavior::CloseAfter(b"220 bye\r\n".to_vec()));
    let mut sock = TcpStream::connect(peer.addr()).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut got = Vec::new();
    sock.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"220 bye\r\n", "got:\n{}", hexdump(&got));
}

#[test]
fn drop_stops_a_peer_holding_silent_connections() {
    let peer = TcpPeer::start(Behavior::Silent);
    let addr = peer.addr();
    let mut socks: Vec<TcpStream> = (0..5).map(|_| TcpStream::connect(addr).unwrap()).collect();
    assert!(peer.wait_accepted(5, Duration::from_secs(5)), "5 accepted");
    let started = std::time::Instant::now();
    drop(peer);
    assert!(started.elapsed() < Duration::from_secs(3));
    for s in &mut socks {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 1];
        assert_eq!(s.read(&mut buf).unwrap_or(0), 0, "stopped peer closes");
    }
}

#[test]
fn tls_echo_round_trips_one_mebibyte_while_reading_concurrently() {
    let pki = TestPki::new();
    let peer = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let mut tls = connect_tls(&peer, client_config(&pki.ca_der, &[]), "localhost");
    let sent = pattern(1 << 20);

    // Complete the handshake, then split: one thread writes, this one reads.
    // Neither holds the lock while blocked on the socket, so the echo flows.
    tls.conn.complete_io(&mut tls.sock).unwrap();
    let mut rd = tls.sock.try_clone().unwrap();
    let mut wr = tls.sock.try_clone().unwrap();
    let tls = Arc::new(Mutex::new(tls));
    let writer = {
        let tls = tls.clone();
        let sent = sent.clone();
        thread::spawn(move || {
            for (i, chunk) in sent.chunks(16 * 1024).enumerate() {
                let last = (i + 1) * 16 * 1024 >= sent.len();
                let mut records = Vec::new();
                {
                    let mut guard = tls.lock().unwrap();
                    guard.conn.writer().write_all(chunk).unwrap();
                    if last {
                        guard.conn.send_close_notify();
                    }
                    while guard.conn.wants_write() {
                        guard.conn.write_tls(&mut records).unwrap();
                    }
                }
                wr.write_all(&records).unwrap();
            }
        })
    };
    let mut got = Vec::with_capacity(sent.len());
    let mut raw = vec![0u8; 64 * 1024];
    let mut plain = vec![0u8; 64 * 1024];
    'outer: loop {
        let n = rd.read(&mut raw).unwrap();
        if n == 0 {
            break;
        }
        let mut guard = tls.lock().unwrap();
        let mut cursor = &raw[..n];
        while !cursor.is_empty() {
            guard.conn.read_tls(&mut cursor).unwrap();
            guard.conn.process_new_packets().unwrap();
            loop {
                match guard.conn.reader().read(&mut plain) {
                    Ok(0) => break 'outer,
                    Ok(n) => got.extend_from_slice(&plain[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("read after {} bytes: {e}", got.len()),
                }
            }
        }
    }
    writer.join().unwrap();
    assert_eq!(got.len(), sent.len());
    assert!(got == sent, "echo differs");
    assert_eq!(peer.last_alpn(), None);
    assert_eq!(peer.last_error(), None);
}

#[test]
fn tls_alpn_and_close_after_with_close_notify_is_a_clean_eof() {
    let pki = TestPki::new();
    let peer = TlsPeer::start(
        pki.server_config_alpn(&[b"h2", b"http/1.1"]),
        Behavior::CloseAfter(b"hello over tls".to_vec()),
    );
    let mut tls = connect_tls(
        &peer,
        client_config(&pki.ca_der, &[b"http/1.1"]),
        "127.0.0.1",
    );
    let mut got = Vec::new();
    tls.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"hello over tls", "got:\n{}", hexdump(&got));
    assert_eq!(tls.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(peer.last_alpn(), Some(b"http/1.1".to_vec()));
}

#[test]
fn tls_without_close_notify_is_an_unexpected_eof() {
    let pki = TestPki::new();
    let peer = TlsPeer::without_close_notify(
        pki.server_config(),
        Behavior::CloseAfter(b"truncated".to_vec()),
    );
    let mut tls = connect_tls(&peer, client_config(&pki.ca_der, &[]), "localhost");
    let mut got = Vec::new();
    let err = tls.read_to_end(&mut got).expect_err("no close_notify");
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{err}");
    assert_eq!(got, b"truncated", "got:\n{}", hexdump(&got));
}

#[test]
fn tls_silent_peer_handshakes_then_sends_nothing() {
    let pki = TestPki::new();
    let peer = TlsPeer::start(pki.server_config(), Behavior::Silent);
    let mut tls = connect_tls(&peer, client_config(&pki.ca_der, &[]), "localhost");
    tls.conn.complete_io(&mut tls.sock).unwrap();
    tls.sock
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 16];
    let err = tls.read(&mut buf).expect_err("nothing to read");
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ),
        "{err}"
    );
}

#[test]
fn tls_untrusted_ca_fails_and_the_server_records_why() {
    let pki = TestPki::new();
    let peer = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let other = pem_to_der(&pki.other_ca_pem);
    let mut tls = connect_tls(&peer, client_config(&other, &[]), "localhost");
    let err = tls
        .conn
        .complete_io(&mut tls.sock)
        .expect_err("untrusted server");
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");
    drop(tls);
    let seen = peer
        .wait_last_error(Duration::from_secs(5))
        .expect("server saw the failure");
    assert!(seen.contains("UnknownCA"), "{seen}");
}

#[test]
fn tls_client_auth_rejects_a_client_without_certificate() {
    let pki = TestPki::new();
    let peer = TlsPeer::start(pki.server_config_client_auth(), Behavior::Echo);
    let mut tls = connect_tls(&peer, client_config(&pki.ca_der, &[]), "localhost");
    // TLS 1.3: the client finishes first, then learns of the rejection.
    let _ = tls.conn.complete_io(&mut tls.sock);
    let _ = tls.write_all(b"x");
    let mut buf = [0u8; 1];
    assert!(tls.read(&mut buf).is_err());
    let seen = peer
        .wait_last_error(Duration::from_secs(5))
        .expect("server saw the failure");
    assert!(seen.contains("no certificates"), "{seen}");
}

#[test]
fn pki_covers_ip_names_and_writes_pem_files() {
    let pki = TestPki::with_names(&["example.test", "::1"]);
    let peer = TlsPeer::start(pki.server_config(), Behavior::CloseAfter(b"ok".to_vec()));
    for name in ["example.test", "::1"] {
        let mut tls = connect_tls(&peer, client_config(&pki.ca_der, &[]), name);
        let mut got = Vec::new();
        tls.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"ok");
    }
    let path = pki.write_temp("ca.pem", &pki.ca_pem);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), pki.ca_pem);
    assert!(pki
        .server_chain_pem
        .starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(pki.server_key_pem.contains("PRIVATE KEY"));
    assert!(pki.client_cert_pem.contains("CERTIFICATE"));
    assert!(!pki.server_spki_der.is_empty());
    let dir = path.parent().unwrap().to_path_buf();
    drop(pki);
    assert!(!dir.exists(), "temp dir removed on drop");
}

#[test]
fn hexdump_shows_offsets_hex_and_ascii() {
    let dump = hexdump(b"GET / HTTP/1.1\r\nHost: x\r\n");
    assert!(dump.starts_with("00000000  47 45 54 20"), "{dump}");
    assert!(dump.contains("|GET / HTTP/1.1..|"), "{dump}");
    assert!(dump.contains("00000010 "), "{dump}");
    assert_eq!(dump.lines().count(), 2);
}

/// The first certificate of a PEM text, as DER (a tiny decoder, to keep the
/// test free of a PEM crate).
fn pem_to_der(pem: &str) -> Vec<u8> {
    let b64: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>();
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in b64.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}
