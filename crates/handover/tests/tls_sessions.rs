//! TLS session resumption (`ssl_sessionid_cache`), verified on the wire by
//! a rustls server that reports how each handshake went: a handle's second
//! connection resumes (TLS 1.3 tickets and TLS 1.2 session ids) and says so
//! in verbose output; with the cache off, or from another handle, the
//! handshake is a full one.

mod common;

use common::capture_verbose;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use handover::{ConnectOnly, Easy, SslVersion};
use handover_test_support::peers::TestPki;
use rustls::{HandshakeKind, ServerConnection, StreamOwned};

/// A rustls echo server (its own session store, as any server has) that
/// reports each handshake's kind.
fn server(pki: &TestPki) -> (u16, mpsc::Receiver<HandshakeKind>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = pki.server_config();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            let tx = tx.clone();
            std::thread::spawn(move || {
                tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let conn = ServerConnection::new(config).unwrap();
                let mut tls = StreamOwned::new(conn, tcp);
                while tls.conn.is_handshaking() {
                    if tls.conn.complete_io(&mut tls.sock).is_err() {
                        return;
                    }
                }
                let _ = tx.send(tls.conn.handshake_kind().unwrap());
                // Echo until the client goes: the TLS 1.3 tickets go out
                // with the first answer.
                let mut buf = [0u8; 1024];
                while let Ok(n) = tls.read(&mut buf) {
                    if n == 0 || tls.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    let _ = tls.flush();
                }
            });
        }
    });
    (port, rx)
}

/// One connect-only perform and an echo (which reads the server's tickets).
fn connect(easy: &mut Easy) {
    easy.perform().unwrap();
    let mut sent = 0;
    while sent < 2 {
        match easy.send(&b"hi"[sent..]) {
            Ok(n) => sent += n,
            Err(e) if e.is_again() => {
                easy.wait_writable(Some(Duration::from_secs(5))).unwrap();
            }
            Err(e) => panic!("send: {e}"),
        }
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 16];
    while got.len() < 2 {
        match easy.recv(&mut buf) {
            Ok(0) => panic!("closed"),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.is_again() => {
                easy.wait_readable(Some(Duration::from_secs(5))).unwrap();
            }
            Err(e) => panic!("recv: {e}"),
        }
    }
    assert_eq!(got, b"hi");
}

fn handle(pki: &TestPki, port: u16, version: SslVersion) -> Easy {
    let mut easy = Easy::new();
    easy.url(&format!("https://localhost:{port}/")).unwrap();
    easy.cainfo(pki.write_temp("sessions-ca.pem", &pki.ca_pem))
        .unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.ssl_min_max_version(version, version).unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    easy
}

fn kind(rx: &mpsc::Receiver<HandshakeKind>) -> HandshakeKind {
    rx.recv_timeout(Duration::from_secs(10)).unwrap()
}

#[test]
fn a_handles_second_connection_resumes_over_tls_13_and_12() {
    let pki = TestPki::new();
    let (port, rx) = server(&pki);
    for version in [SslVersion::Tlsv13, SslVersion::Tlsv12] {
        let mut easy = handle(&pki, port, version);
        let verbose = capture_verbose(&mut easy);
        connect(&mut easy);
        assert_eq!(kind(&rx), HandshakeKind::Full, "{version:?}");
        assert!(!verbose.lock().unwrap().contains("SSL reusing session"));
        connect(&mut easy);
        assert_eq!(kind(&rx), HandshakeKind::Resumed, "{version:?}");
        let text = verbose.lock().unwrap().clone();
        assert!(text.contains("* SSL reusing session\n"), "{text}");
        // Another handle has a cache of its own: a full handshake.
        let mut other = handle(&pki, port, version);
        connect(&mut other);
        assert_eq!(
            kind(&rx),
            HandshakeKind::Full,
            "{version:?}: another handle"
        );
    }
}

#[test]
fn without_the_session_cache_every_handshake_is_full() {
    let pki = TestPki::new();
    let (port, rx) = server(&pki);
    let mut easy = handle(&pki, port, SslVersion::Tlsv13);
    easy.ssl_sessionid_cache(false).unwrap();
    for _ in 0..2 {
        connect(&mut easy);
        assert_eq!(kind(&rx), HandshakeKind::Full);
    }
}

#[test]
fn handles_of_one_share_resume_each_others_sessions_and_know_each_others_names() {
    use handover::Share;
    let pki = TestPki::new();
    let (port, rx) = server(&pki);
    let mut share = Share::new();
    share.share_ssl_sessions(true).share_dns(true);
    let mut first = handle(&pki, port, SslVersion::Tlsv13);
    first.share(Some(&share)).unwrap();
    connect(&mut first);
    assert_eq!(kind(&rx), HandshakeKind::Full);
    let mut second = handle(&pki, port, SslVersion::Tlsv13);
    second.share(Some(&share)).unwrap();
    connect(&mut second);
    assert_eq!(kind(&rx), HandshakeKind::Resumed, "the share's session");
    // Detached, the handle's own (empty) cache again.
    second.share(None).unwrap();
    connect(&mut second);
    assert_eq!(kind(&rx), HandshakeKind::Full);

    // A name one handle was given is known to the share's other handles.
    let url = format!("https://shared.handover.test:{port}/");
    let mut resolve = handover::List::new();
    resolve
        .append(&format!("shared.handover.test:{port}:127.0.0.1"))
        .unwrap();
    first.url(&url).unwrap();
    first.ssl_verify_host(false).unwrap();
    first.resolve(resolve).unwrap();
    first.perform().unwrap();
    let mut third = handle(&pki, port, SslVersion::Tlsv13);
    third.url(&url).unwrap();
    third.ssl_verify_host(false).unwrap();
    third.share(Some(&share)).unwrap();
    third.perform().unwrap();
    let mut outsider = handle(&pki, port, SslVersion::Tlsv13);
    outsider.url(&url).unwrap();
    assert_eq!(outsider.perform().unwrap_err().code(), 6);
}
