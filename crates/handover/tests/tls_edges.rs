//! TLS edge cases that need a server scripted byte by byte: a send that
//! fills the socket (libcurl's retry rule), close_notify on an open TCP
//! connection, a corrupt record after good data, and huge timeouts.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use handover::{ConnectOnly, Easy, ErrorKind};
use handover_test_support::peers::TestPki;
use rustls::{ServerConnection, StreamOwned};

type TlsStream = StreamOwned<ServerConnection, TcpStream>;

/// A one-connection rustls server running `script` on the accepted stream.
fn scripted_server<T: Send + 'static>(
    pki: &TestPki,
    script: impl FnOnce(TlsStream) -> T + Send + 'static,
) -> (u16, JoinHandle<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = pki.server_config();
    let handle = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let conn = ServerConnection::new(Arc::clone(&config)).unwrap();
        let mut tls = StreamOwned::new(conn, tcp);
        while tls.conn.is_handshaking() {
            tls.conn.complete_io(&mut tls.sock).unwrap();
        }
        script(tls)
    });
    (port, handle)
}

fn client(pki: &TestPki, port: u16) -> Easy {
    let mut easy = Easy::new();
    easy.url(&format!("https://localhost:{port}/")).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.cainfo(pki.write_temp("ca.pem", &pki.ca_pem)).unwrap();
    easy.connect_timeout(Duration::from_secs(10)).unwrap();
    easy
}

fn recv_some(easy: &mut Easy) -> Result<Vec<u8>, handover::Error> {
    let mut buf = [0u8; 1024];
    loop {
        match easy.recv(&mut buf) {
            Ok(n) => return Ok(buf[..n].to_vec()),
            Err(e) if e.is_again() => {
                assert!(
                    easy.wait_readable(Some(Duration::from_secs(10))).unwrap(),
                    "nothing arrived"
                );
            }
            Err(e) => return Err(e),
        }
    }
}

#[test]
fn a_send_that_fills_the_socket_answers_again_and_wants_the_same_bytes_back() {
    let pki = TestPki::new();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (port, server) = scripted_server(&pki, move |mut tls| {
        // Read nothing until told: the client's sends pile up.
        go_rx.recv().unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0u8; 65536];
        loop {
            match tls.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
        got
    });
    let mut easy = client(&pki, port);
    easy.perform().unwrap();

    let chunk: Vec<u8> = (0..16384u32).map(|i| (i % 251) as u8).collect();
    let mut sent = Vec::new();
    let blocked = loop {
        match easy.send(&chunk) {
            Ok(n) => sent.extend_from_slice(&chunk[..n]),
            Err(e) if e.is_again() => break true,
            Err(e) => panic!("{e:?}"),
        }
        assert!(sent.len() < 512 << 20, "the socket never filled");
    };
    assert!(blocked);
    // Other bytes after Again: refused instead of corrupting the stream.
    let other = vec![0xEEu8; 16384];
    let err = easy.send(&other).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadFunctionArgument, "{err}");

    go_tx.send(()).unwrap();
    // The same bytes: reported once they left.
    loop {
        match easy.send(&chunk) {
            Ok(n) => {
                assert!(n > 0 && n <= chunk.len());
                sent.extend_from_slice(&chunk[..n]);
                break;
            }
            Err(e) if e.is_again() => {
                easy.wait_writable(Some(Duration::from_secs(10))).unwrap();
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    // Drain what the server sent (session tickets) so closing sends a FIN,
    // not a reset that would discard data the server has yet to read.
    let mut sink = [0u8; 4096];
    while easy.recv(&mut sink).is_ok() {}
    drop(easy.take_connection().unwrap());
    let got = server.join().unwrap();
    assert_eq!(got.len(), sent.len());
    assert!(
        got == sent,
        "the server received exactly what send reported"
    );
}

#[test]
fn close_notify_on_an_open_tcp_connection_is_seen_without_waiting_on_the_socket() {
    let pki = TestPki::new();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (port, server) = scripted_server(&pki, move |mut tls| {
        tls.write_all(b"hello").unwrap();
        tls.conn.send_close_notify();
        tls.flush().unwrap();
        // Keep TCP open, as a server awaiting our close_notify would.
        let _ = release_rx.recv_timeout(Duration::from_secs(20));
    });
    let mut easy = client(&pki, port);
    easy.perform().unwrap();
    let mut got = Vec::new();
    while got.len() < 5 {
        got.extend(recv_some(&mut easy).unwrap());
    }
    assert_eq!(got, b"hello");
    assert!(
        easy.wait_readable(Some(Duration::from_secs(5))).unwrap(),
        "close_notify makes recv answerable"
    );
    let mut buf = [0u8; 8];
    for _ in 0..3 {
        assert_eq!(easy.recv(&mut buf).unwrap(), 0);
    }
    release_tx.send(()).unwrap();
    server.join().unwrap();
}

#[test]
fn data_before_a_corrupt_record_comes_first_then_the_error_every_time() {
    let pki = TestPki::new();
    let (sent_tx, sent_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (port, server) = scripted_server(&pki, move |mut tls| {
        tls.write_all(b"hi").unwrap();
        tls.flush().unwrap();
        // An application-data record whose contents cannot decrypt.
        tls.sock
            .write_all(&[
                0x17, 0x03, 0x03, 0x00, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
            ])
            .unwrap();
        sent_tx.send(()).unwrap();
        // Keep TCP open: the client must meet the bad record, not an EOF.
        let _ = release_rx.recv_timeout(Duration::from_secs(20));
    });
    let mut easy = client(&pki, port);
    easy.perform().unwrap();
    // Both records are on their way (on loopback: in our socket) before
    // the first recv, so one read can take the good and the bad together.
    sent_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let mut got = Vec::new();
    let err = loop {
        match recv_some(&mut easy) {
            Ok(bytes) => got.extend(bytes),
            Err(e) => break e,
        }
    };
    assert_eq!(got, b"hi");
    assert_eq!(err.kind(), ErrorKind::RecvError, "{err}");
    let mut buf = [0u8; 4];
    for _ in 0..3 {
        assert_eq!(easy.recv(&mut buf).unwrap_err().code(), 56);
    }
    release_tx.send(()).unwrap();
    server.join().unwrap();
}

#[test]
fn huge_timeouts_mean_no_deadline_not_a_panic() {
    let pki = TestPki::new();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (port, server) = scripted_server(&pki, move |mut tls| {
        tls.write_all(b"x").unwrap();
        tls.flush().unwrap();
        // Keep the connection open until the client is done with it.
        let _ = release_rx.recv_timeout(Duration::from_secs(20));
    });
    let mut easy = client(&pki, port);
    easy.connect_timeout(Duration::MAX).unwrap();
    easy.timeout(Duration::MAX).unwrap();
    easy.perform().unwrap();
    let mut conn = easy.take_connection().unwrap();
    conn.set_read_timeout(Some(Duration::MAX));
    conn.set_write_timeout(Some(Duration::MAX));
    let mut one = [0u8; 1];
    conn.read_exact(&mut one).unwrap();
    assert_eq!(&one, b"x");
    assert!(conn.wait_writable(Some(Duration::MAX)).unwrap());
    release_tx.send(()).unwrap();
    server.join().unwrap();
}

#[test]
fn certinfo_describes_the_servers_certificate_when_asked() {
    let pki = TestPki::new();
    for asked in [false, true] {
        let (port, server) = scripted_server(&pki, |_tls| ());
        let mut easy = client(&pki, port);
        easy.certinfo(asked).unwrap();
        easy.perform().unwrap();
        server.join().unwrap();
        let chain = easy.info().certinfo();
        if !asked {
            assert!(chain.is_empty());
            continue;
        }
        assert_eq!(chain.len(), 1, "{chain:?}");
        let leaf = &chain[0];
        for wanted in [
            "Subject:CN = localhost",
            "Issuer:CN = handover test CA",
            "Version:2",
            "Public Key Algorithm:id-ecPublicKey",
            "X509v3 Extended Key Usage:TLS Web Server Authentication",
        ] {
            assert!(
                leaf.iter().any(|l| l == wanted),
                "{wanted:?} not in {leaf:?}"
            );
        }
        let pem = leaf.last().unwrap();
        assert!(
            pem.starts_with("Cert:-----BEGIN CERTIFICATE-----\n"),
            "{pem}"
        );
        assert!(pem.ends_with("-----END CERTIFICATE-----\n"), "{pem}");
    }
}

/// A one-connection rustls server offering `alpn`; what the client offered.
fn alpn_server(pki: &TestPki, alpn: &[&[u8]]) -> (u16, JoinHandle<Vec<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = pki.server_config_alpn(alpn);
    let handle = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut acceptor = rustls::server::Acceptor::default();
        let accepted = loop {
            acceptor.read_tls(&mut tcp).unwrap();
            if let Some(accepted) = acceptor.accept().unwrap() {
                break accepted;
            }
        };
        let offered: Vec<Vec<u8>> = accepted
            .client_hello()
            .alpn()
            .map(|list| list.map(<[u8]>::to_vec).collect())
            .unwrap_or_default();
        let mut conn = accepted.into_connection(config).unwrap();
        while conn.is_handshaking() {
            if conn.complete_io(&mut tcp).is_err() {
                break;
            }
        }
        offered
    });
    (port, handle)
}

#[test]
fn connect_only_offers_the_alpn_list_given_and_reports_the_choice() {
    let pki = TestPki::new();
    // (the list given, ALPN enabled, what the server saw offered, its choice)
    type Case<'a> = (&'a [&'a str], bool, Vec<&'a [u8]>, Option<&'a [u8]>);
    let cases: [Case; 3] = [
        // The default for https: http/1.1.
        (&[], true, vec![b"http/1.1"], Some(b"http/1.1")),
        (
            &["acme-tls/1", "h2"],
            true,
            vec![b"acme-tls/1", b"h2"],
            Some(b"h2"),
        ),
        (&["h2"], false, vec![], None),
    ];
    for (list, enabled, offered, chosen) in cases {
        let (port, server) = alpn_server(&pki, &[b"h2", b"http/1.1"]);
        let mut easy = client(&pki, port);
        easy.alpn(list).unwrap();
        easy.ssl_enable_alpn(enabled).unwrap();
        easy.perform().unwrap();
        assert_eq!(server.join().unwrap(), offered, "{list:?} {enabled}");
        assert_eq!(easy.info().alpn_protocol(), chosen, "{list:?} {enabled}");
    }
    assert_eq!(Easy::new().alpn(&[""]).unwrap_err().code(), 43);
}

#[test]
fn a_crl_revoking_the_server_fails_verification_and_a_bad_one_is_82() {
    let pki = TestPki::new();
    let revoking = pki.write_temp("revoking.crl", &pki.crl_revoking_server_pem);
    let empty = pki.write_temp("empty.crl", &pki.crl_empty_pem);
    let garbage = pki.write_temp("garbage.crl", "not a CRL\n");
    for (crl, code) in [(&empty, 0), (&revoking, 60), (&garbage, 82)] {
        let (port, server) = scripted_server(&pki, |_tls| ());
        let mut easy = client(&pki, port);
        easy.crlfile(crl).unwrap();
        match easy.perform() {
            Ok(()) => assert_eq!(code, 0, "{}", crl.display()),
            Err(e) => {
                assert_eq!(e.code(), code, "{}: {e}", crl.display());
                if code == 60 {
                    assert!(e.to_string().to_lowercase().contains("revoked"), "{e}");
                }
            }
        }
        drop(server);
    }
}

#[test]
fn a_ca_blob_replaces_the_ca_file() {
    let pki = TestPki::new();
    let (port, server) = scripted_server(&pki, |_tls| ());
    let mut easy = client(&pki, port);
    // The file would not do: the blob is what counts.
    easy.cainfo(pki.write_temp("other.pem", &pki.other_ca_pem))
        .unwrap();
    easy.cainfo_blob(pki.ca_pem.as_bytes()).unwrap();
    easy.perform().unwrap();
    server.join().unwrap();
    let mut easy = client(&pki, 1);
    easy.cainfo_blob(b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n")
        .unwrap();
    assert_eq!(easy.perform().unwrap_err().code(), 77);
}

#[test]
fn native_ca_adds_the_system_store_and_unbuilt_ssl_options_are_refused() {
    use handover::SslOpt;
    let pki = TestPki::new();
    // The test CA file and the system store: the test server verifies.
    let (port, server) = scripted_server(&pki, |_tls| ());
    let mut easy = client(&pki, port);
    easy.ssl_options(SslOpt::new().native_ca(true)).unwrap();
    easy.perform().unwrap();
    server.join().unwrap();
    // Another CA and the system store: neither knows the test CA.
    let (port, server) = scripted_server(&pki, |_tls| ());
    let mut easy = client(&pki, port);
    easy.cainfo(pki.write_temp("other-ca.pem", &pki.other_ca_pem))
        .unwrap();
    easy.ssl_options(SslOpt::new().native_ca(true).no_revoke(true))
        .unwrap();
    assert_eq!(easy.perform().unwrap_err().code(), 60);
    drop(server);
    let err = Easy::new()
        .ssl_options(&SslOpt::from_bits(0x4))
        .unwrap_err();
    assert_eq!(err.code(), 4);
}
