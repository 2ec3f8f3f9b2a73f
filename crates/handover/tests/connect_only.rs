//! Connect-only over plain TCP and TLS against in-process peers: the
//! handover itself (send/recv, Again, orderly close, buffered TLS data),
//! the owned `Connection`, and what the handle reports.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use common::{echo, pattern, recv_exact};
use handover::{ConnectOnly, Easy, ErrorKind};
use handover_test_support::peers::{assert_same, Behavior, TcpPeer, TestPki, TlsPeer};

fn plain_easy(port: u16) -> Easy {
    let mut easy = Easy::new();
    easy.url(&format!("telnet://127.0.0.1:{port}")).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.connect_timeout(Duration::from_secs(10)).unwrap();
    easy
}

fn tls_easy(pki: &TestPki, port: u16) -> Easy {
    let mut easy = Easy::new();
    easy.url(&format!("https://localhost:{port}/")).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.connect_timeout(Duration::from_secs(10)).unwrap();
    easy.cainfo(pki.write_temp("ca.pem", &pki.ca_pem)).unwrap();
    easy
}

#[test]
fn plain_echo_round_trips_of_1_byte_64_kib_and_64_mib_are_byte_exact() {
    let server = TcpPeer::start(Behavior::Echo);
    for (len, seed) in [(1, 1), (64 * 1024, 2), (64 * 1024 * 1024, 3)] {
        let mut easy = plain_easy(server.port());
        easy.perform().unwrap();
        let data = pattern(len, seed);
        assert_same(&echo(&mut easy, &data), &data);
    }
}

#[test]
fn tls_echo_round_trips_of_1_byte_64_kib_and_64_mib_are_byte_exact() {
    let pki = TestPki::new();
    let server = TlsPeer::start(pki.server_config(), Behavior::Echo);
    for (len, seed) in [(1, 4), (64 * 1024, 5), (64 * 1024 * 1024, 6)] {
        let mut easy = tls_easy(&pki, server.port());
        easy.perform().unwrap();
        let data = pattern(len, seed);
        assert_same(&echo(&mut easy, &data), &data);
    }
}

#[test]
fn recv_with_nothing_pending_is_again() {
    let server = TcpPeer::start(Behavior::Silent);
    let mut easy = plain_easy(server.port());
    easy.perform().unwrap();
    let mut buf = [0u8; 16];
    let err = easy.recv(&mut buf).unwrap_err();
    assert!(err.is_again(), "{err:?}");
    assert_eq!(err.code(), 81);

    let pki = TestPki::new();
    let tls = TlsPeer::start(pki.server_config(), Behavior::Silent);
    let mut easy = tls_easy(&pki, tls.port());
    easy.perform().unwrap();
    // Session tickets may arrive after the handshake: recv consumes them
    // and still has no application data to give.
    for _ in 0..3 {
        let err = easy.recv(&mut buf).unwrap_err();
        assert!(err.is_again(), "{err:?}");
        // Let tickets arrive (20 ms at most): the next recv consumes them.
        let _ = easy.wait_readable(Some(Duration::from_millis(20)));
    }
}

#[test]
fn orderly_close_reads_as_zero_bytes_every_time() {
    let server = TcpPeer::start(Behavior::CloseAfter(b"bye".to_vec()));
    let mut easy = plain_easy(server.port());
    easy.perform().unwrap();
    // Asking for more than was sent reads through to the end of stream.
    assert_eq!(recv_exact(&mut easy, 4), b"bye");
    let mut buf = [0u8; 8];
    for _ in 0..5 {
        assert_eq!(easy.recv(&mut buf).unwrap(), 0);
    }

    let pki = TestPki::new();
    let tls = TlsPeer::start(
        pki.server_config(),
        Behavior::CloseAfter(b"tls bye".to_vec()),
    );
    let mut easy = tls_easy(&pki, tls.port());
    easy.perform().unwrap();
    assert_eq!(recv_exact(&mut easy, 8), b"tls bye");
    for _ in 0..5 {
        assert_eq!(easy.recv(&mut buf).unwrap(), 0);
    }
}

#[test]
fn tls_close_without_close_notify_is_a_receive_error() {
    let pki = TestPki::new();
    let server = TlsPeer::without_close_notify(
        pki.server_config(),
        Behavior::CloseAfter(b"partial".to_vec()),
    );
    let mut easy = tls_easy(&pki, server.port());
    easy.perform().unwrap();
    let got = recv_exact(&mut easy, 7);
    assert_eq!(got, b"partial");
    let mut buf = [0u8; 8];
    let err = loop {
        match easy.recv(&mut buf) {
            Err(e) if e.is_again() => {
                easy.wait_readable(Some(Duration::from_secs(5))).unwrap();
            }
            other => break other.unwrap_err(),
        }
    };
    assert_eq!(err.kind(), ErrorKind::RecvError, "{err}");
    assert_eq!(err.code(), 56);
    assert!(err.to_string().contains("close_notify"), "{err}");
}

#[test]
fn buffered_tls_data_is_visible_before_the_socket_is_polled() {
    let pki = TestPki::new();
    let server = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let mut easy = tls_easy(&pki, server.port());
    easy.perform().unwrap();
    let data = pattern(10_000, 7);
    let mut sent = 0;
    while sent < data.len() {
        match easy.send(&data[sent..]) {
            Ok(n) => sent += n,
            Err(e) if e.is_again() => {
                easy.wait_writable(Some(Duration::from_secs(5))).unwrap();
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    // Read one byte: the rest of the decrypted record stays in the TLS
    // layer, and the handle must say so.
    let mut one = [0u8; 1];
    loop {
        match easy.recv(&mut one) {
            Ok(1) => break,
            Ok(_) => panic!("closed"),
            Err(e) if e.is_again() => {
                easy.wait_readable(Some(Duration::from_secs(5))).unwrap();
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(
        easy.recv_buffered() > 0,
        "TLS layer holds the rest of the record"
    );
    assert!(easy.wait_readable(Some(Duration::ZERO)).unwrap());
    let mut rest = vec![0u8; easy.recv_buffered()];
    let n = easy.recv(&mut rest).unwrap();
    assert_eq!(n, rest.len());
    assert_eq!(one[0], data[0]);
    assert_same(&rest, &data[1..1 + n]);
}

#[test]
fn send_and_recv_need_connect_only_and_a_connection() {
    let server = TcpPeer::start(Behavior::Echo);
    let mut buf = [0u8; 4];

    let mut before = plain_easy(server.port());
    let err = before.send(b"x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedProtocol, "{err}");
    assert_eq!(before.recv(&mut buf).unwrap_err().code(), 1);
    assert_eq!(before.active_socket(), None);

    let mut ordinary = Easy::new();
    ordinary.url("http://127.0.0.1:1/").unwrap();
    let err = ordinary.send(b"x").unwrap_err();
    assert_eq!(err.code(), 1);
    assert!(err.to_string().contains("CONNECT_ONLY"), "{err}");
}

#[test]
fn zero_length_send_and_recv_return_zero() {
    let server = TcpPeer::start(Behavior::Silent);
    let mut easy = plain_easy(server.port());
    easy.perform().unwrap();
    assert_eq!(easy.send(b"").unwrap(), 0);
    assert_eq!(easy.recv(&mut []).unwrap(), 0);
}

#[test]
fn perform_sends_nothing_and_reports_connect_only_info() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut easy = Easy::new();
    easy.url(&format!("http://127.0.0.1:{port}/path")).unwrap();
    easy.connect_only(true).unwrap();
    easy.perform().unwrap();
    let (mut accepted, _) = listener.accept().unwrap();
    accepted
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 16];
    let err = accepted.read(&mut buf).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "perform must send nothing, got {err:?}"
    );

    let info = easy.info();
    assert_eq!(info.pretransfer_time(), Duration::ZERO);
    assert_eq!(info.appconnect_time(), Duration::ZERO);
    assert!(info.connect_time() >= info.namelookup_time());
    assert!(info.total_time() >= info.connect_time());
    assert_eq!(info.primary_addr().unwrap().port(), port);
    assert_eq!(easy.primary_ip().unwrap().as_deref(), Some("127.0.0.1"));
    assert_eq!(
        info.local_addr().unwrap(),
        accepted.peer_addr().unwrap(),
        "local address is the server's view of the peer"
    );
    assert_eq!(info.num_connects(), 1);
    assert_eq!(info.response_code(), 0);
    assert_eq!(info.scheme(), Some("HTTP"));
    assert_eq!(
        info.effective_url(),
        Some(format!("http://127.0.0.1:{port}/path").as_str())
    );
    assert!(easy.active_socket().is_some());
}

#[test]
fn tls_info_has_appconnect_time_and_verify_result() {
    let pki = TestPki::new();
    let server = TlsPeer::start(pki.server_config(), Behavior::Silent);
    let mut easy = tls_easy(&pki, server.port());
    easy.perform().unwrap();
    let info = easy.info();
    assert!(info.appconnect_time() >= info.connect_time());
    assert!(info.appconnect_time() > Duration::ZERO);
    assert_eq!(info.ssl_verify_result(), 0);
    assert_eq!(info.scheme(), Some("HTTPS"));
}

#[test]
fn a_second_perform_closes_the_first_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut easy = plain_easy(port);
    easy.perform().unwrap();
    let (mut first, _) = listener.accept().unwrap();
    let first_local = easy.info().local_addr().unwrap();
    easy.perform().unwrap();
    let (_second, _) = listener.accept().unwrap();
    assert_ne!(easy.info().local_addr().unwrap(), first_local);
    first
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(first.read(&mut buf).unwrap(), 0, "old connection closed");
}

#[test]
fn a_failed_perform_leaves_no_connection() {
    let server = TcpPeer::start(Behavior::Silent);
    let mut easy = plain_easy(server.port());
    easy.perform().unwrap();
    assert!(easy.active_socket().is_some());
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    easy.url(&format!("telnet://127.0.0.1:{closed}")).unwrap();
    assert_eq!(easy.perform().unwrap_err().code(), 7);
    assert_eq!(easy.active_socket(), None);
    assert_eq!(easy.send(b"x").unwrap_err().code(), 1);
}

#[test]
fn take_connection_gives_blocking_read_and_write_with_timeouts() {
    let pki = TestPki::new();
    let server = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let mut easy = tls_easy(&pki, server.port());
    easy.perform().unwrap();
    let mut conn = easy.take_connection().unwrap();
    assert_eq!(easy.active_socket(), None, "the handle gave it away");
    let err = easy.send(b"x").unwrap_err();
    assert_eq!(err.code(), 1);
    assert!(
        err.message()
            .contains("taken from this handle by take_connection()"),
        "{err}"
    );
    let err = easy.take_connection().unwrap_err();
    assert!(err.message().contains("take_connection()"), "{err}");

    let data = pattern(300_000, 9);
    conn.write_all(&data).unwrap();
    conn.flush().unwrap();
    let mut back = vec![0u8; data.len()];
    conn.set_read_timeout(Some(Duration::from_secs(10)));
    conn.read_exact(&mut back).unwrap();
    assert_same(&back, &data);

    conn.set_read_timeout(Some(Duration::from_millis(100)));
    let mut buf = [0u8; 8];
    let err = conn.read(&mut buf).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    assert!(!conn.is_plain());
    let conn = conn.into_tcp_stream().unwrap_err();
    assert!(std::os::fd::AsRawFd::as_raw_fd(&conn) >= 0);
}

#[test]
fn a_plain_connection_gives_its_tcp_stream_back() {
    let server = TcpPeer::start(Behavior::Echo);
    let mut easy = plain_easy(server.port());
    easy.perform().unwrap();
    let fd = easy.active_socket().unwrap();
    let conn = easy.take_connection().unwrap();
    assert!(conn.is_plain());
    let mut stream = conn.into_tcp_stream().unwrap();
    assert_eq!(std::os::fd::AsRawFd::as_raw_fd(&stream), fd);
    stream.set_nonblocking(false).unwrap();
    stream.write_all(b"raw").unwrap();
    let mut buf = [0u8; 3];
    stream.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"raw");
}

#[test]
fn https_connect_only_offers_http11_alpn_only() {
    let pki = TestPki::new();
    let server = TlsPeer::start(
        pki.server_config_alpn(&[b"h2", b"http/1.1"]),
        Behavior::Echo,
    );
    let mut easy = tls_easy(&pki, server.port());
    easy.perform().unwrap();
    let data = b"not an h2 preface".to_vec();
    assert_same(&echo(&mut easy, &data), &data);
    assert_eq!(server.last_alpn().as_deref(), Some(&b"http/1.1"[..]));
}

#[test]
fn verbose_output_goes_to_the_debug_callback_in_curls_shape() {
    use std::sync::{Arc, Mutex};
    let pki = TestPki::new();
    let server = TlsPeer::start(pki.server_config(), Behavior::Silent);
    let mut easy = tls_easy(&pki, server.port());
    let lines = Arc::new(Mutex::new(String::new()));
    let sink = lines.clone();
    easy.verbose(true).unwrap();
    easy.debug_function(move |kind, data| {
        assert_eq!(kind, handover::InfoType::Text);
        sink.lock()
            .unwrap()
            .push_str(&String::from_utf8_lossy(data));
    })
    .unwrap();
    easy.perform().unwrap();
    let text = lines.lock().unwrap().clone();
    for needle in [
        "Host localhost:",
        "IPv4: 127.0.0.1",
        "Trying ",
        "Connected to localhost",
        "ALPN: offers http/1.1",
        "SSL connection using TLSv1.3",
        "subject: ",
        "SSL certificate verify ok.",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn every_connect_only_scheme_connects_and_sends_nothing() {
    let pki = TestPki::new();
    let plain = TcpPeer::start(Behavior::Echo);
    let tls = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);
    for scheme in [
        "http", "ws", "telnet", "dict", "gopher", "https", "wss", "gophers",
    ] {
        let secure = matches!(scheme, "https" | "wss" | "gophers");
        let port = if secure { tls.port() } else { plain.port() };
        let mut easy = Easy::new();
        easy.url(&format!("{scheme}://localhost:{port}/")).unwrap();
        easy.connect_only(ConnectOnly::Connection).unwrap();
        easy.cainfo(&ca).unwrap();
        easy.perform().unwrap_or_else(|e| panic!("{scheme}: {e:?}"));
        assert_eq!(
            easy.info().appconnect_time() > Duration::ZERO,
            secure,
            "{scheme}: TLS exactly for the secure schemes"
        );
        assert_eq!(easy.info().scheme(), Some(scheme.to_uppercase().as_str()));
        // Nothing was sent: the echo server has nothing to give back.
        let mut buf = [0u8; 8];
        assert!(easy.recv(&mut buf).unwrap_err().is_again(), "{scheme}");
        let data = pattern(100, 11);
        assert_same(&echo(&mut easy, &data), &data);
    }
}

#[test]
fn without_cainfo_the_system_trust_store_is_used() {
    // The run-time CA is in no system store, so the system store (loaded
    // by default) must reject the server: verification failed, or no
    // usable store on a machine without one.
    let pki = TestPki::new();
    let server = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let mut easy = Easy::new();
    easy.url(&format!("https://localhost:{}/", server.port()))
        .unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    let err = easy.perform().unwrap_err();
    assert!(matches!(err.code(), 60 | 77), "{err:?}");
}
