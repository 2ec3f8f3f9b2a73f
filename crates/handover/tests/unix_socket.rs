//! Transfers over a Unix domain socket (`unix_socket`,
//! `abstract_unix_socket`): nginx listening on socket files, plain and
//! with TLS, for connect-only 1 and 2 and ordinary transfers (one kept-alive
//! connection); an in-process echo server in the abstract namespace; the
//! proxy ignored, as libcurl ignores it; a missing socket (7) and a path
//! too long for `sockaddr_un` (6).

mod common;

use common::collect_body;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use handover::{ConnectOnly, Easy, ErrorKind};
use handover_test_support::peers::TestPki;
use handover_test_support::real_peers::Nginx;

const PAGE: &[u8] = b"served over a Unix domain socket\n";

/// nginx and the CA file its certificate chains to, shared by the tests.
fn site() -> &'static (&'static Nginx, PathBuf) {
    static SITE: OnceLock<(&'static Nginx, PathBuf)> = OnceLock::new();
    SITE.get_or_init(|| {
        let pki = TestPki::shared();
        let nginx = Nginx::shared(Some((&pki.server_chain_pem, &pki.server_key_pem)));
        nginx.put("unix.txt", PAGE);
        (nginx, pki.write_temp("ca.pem", &pki.ca_pem))
    })
}

fn easy_on(socket: &std::path::Path, url: &str) -> Easy {
    let mut easy = Easy::new();
    easy.unix_socket_path(Some(socket)).unwrap();
    easy.url(url).unwrap();
    easy.cainfo(&site().1).unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    easy
}

/// Sends `request` on the handle's connection and reads until `until`
/// appears in what came back (10 s at most).
fn exchange(easy: &mut Easy, request: &[u8], until: &[u8]) -> Vec<u8> {
    let mut sent = 0;
    while sent < request.len() {
        match easy.send(&request[sent..]) {
            Ok(n) => sent += n,
            Err(e) if e.is_again() => {
                easy.wait_writable(Some(Duration::from_secs(5))).unwrap();
            }
            Err(e) => panic!("send: {e}"),
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(until.len()).any(|w| w == until) {
        assert!(Instant::now() < deadline, "no {until:?} in {got:?}");
        match easy.recv(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.is_again() => {
                let _ = easy.wait_readable(Some(Duration::from_millis(200)));
            }
            Err(e) => panic!("recv: {e}"),
        }
    }
    got
}

const GET: &[u8] = b"GET /unix.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

#[test]
fn connect_only_over_a_unix_socket_then_http_by_hand() {
    let (nginx, _) = site();
    let socket = nginx.unix_socket();
    let mut easy = easy_on(&socket, "http://localhost/");
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.perform().unwrap();
    // libcurl reports the socket's path as the primary "IP", port 0.
    assert_eq!(easy.primary_ip().unwrap().as_deref(), socket.to_str());
    assert_eq!(easy.info().primary_addr(), None);
    assert_eq!(easy.info().unix_socket_path().as_deref(), socket.to_str());
    assert_eq!(easy.info().num_connects(), 1);
    assert!(easy.active_socket().is_some());
    let answer = exchange(&mut easy, GET, PAGE);
    assert!(answer.starts_with(b"HTTP/1.1 200 OK\r\n"), "{answer:?}");
}

#[test]
fn the_taken_connection_is_a_unix_stream() {
    let (nginx, _) = site();
    let mut easy = easy_on(&nginx.unix_socket(), "http://localhost/");
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.perform().unwrap();
    let conn = easy.take_connection().unwrap();
    assert_eq!(
        conn.peer_addr().unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );
    let conn = conn.into_tcp_stream().expect_err("not a TCP stream");
    let mut stream: UnixStream = conn.into_unix_stream().expect("a Unix stream");
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(GET).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert!(answer.ends_with(PAGE));
}

#[test]
fn connect_only_2_over_plain_and_tls_unix_sockets() {
    let (nginx, _) = site();
    for (socket, url) in [
        (nginx.unix_socket(), "http://localhost/unix.txt"),
        // TLS on the socket: the URL's host is the name verified.
        (
            nginx.tls_unix_socket().unwrap(),
            "https://localhost/unix.txt",
        ),
    ] {
        let mut easy = easy_on(&socket, url);
        easy.connect_only(ConnectOnly::Headers).unwrap();
        easy.perform().unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(easy.response_code().unwrap(), 200, "{url}");
        assert_eq!(
            easy.info().content_length_download(),
            Some(PAGE.len() as u64)
        );
        let mut body = Vec::new();
        let mut buf = [0u8; 256];
        let deadline = Instant::now() + Duration::from_secs(10);
        while body.len() < PAGE.len() && Instant::now() < deadline {
            match easy.recv(&mut buf) {
                Ok(0) => break,
                Ok(n) => body.extend_from_slice(&buf[..n]),
                Err(e) if e.is_again() => {
                    let _ = easy.wait_readable(Some(Duration::from_millis(200)));
                }
                Err(e) => panic!("{url}: recv: {e}"),
            }
        }
        assert_eq!(body, PAGE, "{url}");
    }
}

#[test]
fn ordinary_transfers_keep_one_connection_to_the_socket_alive() {
    let (nginx, _) = site();
    let mut easy = easy_on(&nginx.unix_socket(), "http://localhost/unix.txt");
    let body = collect_body(&mut easy);
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 200);
    assert_eq!(easy.num_connects().unwrap(), 1);
    easy.perform().unwrap();
    assert_eq!(easy.num_connects().unwrap(), 0, "the kept connection");
    assert_eq!(body.lock().unwrap().as_slice(), [PAGE, PAGE].concat());
    // The same origin over TCP is another connection.
    easy.unix_socket_path(None::<&str>).unwrap();
    easy.url(&format!("http://127.0.0.1:{}/unix.txt", nginx.port()))
        .unwrap();
    easy.perform().unwrap();
    assert_eq!(easy.num_connects().unwrap(), 1);
}

#[test]
fn a_proxy_is_ignored_with_a_unix_socket() {
    let (nginx, _) = site();
    // Nothing listens there: using it would fail with 7.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut easy = easy_on(&nginx.unix_socket(), "http://localhost/unix.txt");
    easy.proxy(&format!("http://127.0.0.1:{port}")).unwrap();
    easy.connect_only(ConnectOnly::Headers).unwrap();
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 200);
    assert!(!easy.info().used_proxy());
}

#[test]
fn an_abstract_socket_carries_bytes_both_ways() {
    use std::os::linux::net::SocketAddrExt;
    let name = format!("handover-test-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let listener = UnixListener::bind_addr(&addr).unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).unwrap();
        s.write_all(&buf).unwrap();
    });
    let mut easy = Easy::new();
    easy.abstract_unix_socket(name.as_bytes()).unwrap();
    easy.url("telnet://localhost:1/").unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.perform().unwrap();
    assert_eq!(easy.info().unix_socket_path(), Some(format!("@{name}")));
    assert_eq!(exchange(&mut easy, b"hello", b"hello"), b"hello");
    server.join().unwrap();
}

#[test]
fn a_missing_socket_is_couldnt_connect_and_a_long_path_is_unresolvable() {
    let dir = std::env::temp_dir().join(format!("handover-no-socket-{}", std::process::id()));
    let mut easy = Easy::new();
    easy.unix_socket_path(Some(dir.join("none.sock"))).unwrap();
    easy.url("http://localhost/").unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CouldntConnect, "{err}");
    assert!(err.to_string().contains("none.sock"), "{err}");

    let long = format!("/tmp/{}", "x".repeat(120));
    easy.unix_socket(&long).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CouldntResolveHost, "{err}");
    assert!(
        err.to_string().contains("Unix socket path too long"),
        "{err}"
    );
}
