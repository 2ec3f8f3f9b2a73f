//! Self-test of the web peers: nginx from `real_peers` and the WebSocket
//! servers of `ws_peers`. Each is driven with std sockets, a plain rustls
//! client and tungstenite's client only (no handover API), so a failure
//! here is the peer's fault, not handover's. Every test starts its own
//! peers; they run in parallel.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use handover_test_support::peers::{assert_same, hexdump, TestPki};
use handover_test_support::real_peers::{process_group_alive, Nginx};
use handover_test_support::ws_peers::{WsBehavior, WsPeer};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use tungstenite::client::IntoClientRequest;
use tungstenite::error::ProtocolError;
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::Frame;
use tungstenite::{HandshakeError, Message, WebSocket};

const IO_TIMEOUT: Duration = Duration::from_secs(10);

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

type TlsStream = StreamOwned<ClientConnection, TcpStream>;

fn connect(addr: SocketAddr) -> TcpStream {
    let sock = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    sock.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    sock.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    sock
}

/// A TLS client connection to `addr` for "localhost", trusting the test CA.
fn connect_tls(pki: &TestPki, addr: SocketAddr) -> TlsStream {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(pki.ca_der.clone()))
        .expect("the test CA is a valid trust anchor");
    let config =
        ClientConfig::builder_with_provider(rustls::crypto::ring::default_provider().into())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = ClientConnection::new(Arc::new(config), name).expect("client connection");
    StreamOwned::new(conn, connect(addr))
}

/// 1 MiB that no simple off-by-some-bytes mistake reproduces.
fn big_body() -> Vec<u8> {
    (0..1024 * 1024u32)
        .map(|i| (i.wrapping_mul(31) ^ (i >> 9)) as u8)
        .collect()
}

/// An HTTP/1.1 response: the status code, the head as text and the body.
struct Response {
    code: u16,
    head: String,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Reads the head through the blank line, a byte at a time so that nothing
/// past it is consumed.
fn read_head(stream: &mut impl Read) -> Vec<u8> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            Ok(_) => panic!("peer closed mid-head; got:\n{}", hexdump(&head)),
            Err(e) => panic!("reading the head: {e}; got:\n{}", hexdump(&head)),
        }
        assert!(head.len() < 64 * 1024, "head too long");
    }
    head
}

/// Sends `GET path` (keep-alive) and reads one response with a Content-Length body.
fn get(stream: &mut impl ReadWrite, path: &str) -> Response {
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: selftest\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.flush().unwrap();
    let raw = read_head(stream);
    let head = String::from_utf8_lossy(&raw).into_owned();
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line; got:\n{}", hexdump(&raw)));
    let mut response = Response {
        code,
        head,
        body: Vec::new(),
    };
    let length: usize = response
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Content-Length; got:\n{}", response.head));
    response.body = vec![0u8; length];
    if let Err(e) = stream.read_exact(&mut response.body) {
        panic!("reading {length} body bytes: {e}; head:\n{}", response.head);
    }
    response
}

// ---------------------------------------------------------------------------
// nginx

#[test]
fn nginx_serves_a_1_mib_file_byte_exact() {
    let nginx = Nginx::start(None);
    let body = big_body();
    nginx.put("big.bin", &body);
    let mut sock = connect(nginx.addr());
    let response = get(&mut sock, "/big.bin");
    assert_eq!(response.code, 200, "{}\n{}", response.head, nginx.log());
    assert_eq!(
        response.header("content-type"),
        Some("application/octet-stream")
    );
    assert_same(&response.body, &body);
    assert_eq!(nginx.tls_port(), None);
    assert_eq!(nginx.addr().port(), nginx.port());
}

#[test]
fn nginx_serves_two_requests_on_one_keep_alive_connection() {
    let nginx = Nginx::start(None);
    nginx.put("a.txt", b"first\n");
    nginx.put("dir/b.txt", b"second\n");
    let mut sock = connect(nginx.addr());
    let first = get(&mut sock, "/a.txt");
    let second = get(&mut sock, "/dir/b.txt");
    assert_eq!((first.code, second.code), (200, 200), "{}", nginx.log());
    assert_eq!(first.body, b"first\n");
    assert_eq!(second.body, b"second\n");
    let missing = get(&mut sock, "/nope");
    assert_eq!(missing.code, 404, "{}", missing.head);

    let log = nginx.wait_access_log(3, IO_TIMEOUT);
    assert_eq!(log.len(), 3, "{}", nginx.log());
    let fields: Vec<Vec<&str>> = log
        .iter()
        .map(|l| l.split(' ').collect::<Vec<_>>())
        .collect();
    // "$connection $connection_requests "$request" $status $body_bytes_sent"
    assert!(
        fields.iter().all(|f| f[0] == fields[0][0]),
        "one connection: {log:#?}"
    );
    let numbers: Vec<&str> = fields.iter().map(|f| f[1]).collect();
    assert_eq!(numbers, ["1", "2", "3"], "{log:#?}");
    assert!(log[0].contains("\"GET /a.txt HTTP/1.1\" 200 6"), "{log:#?}");
    assert!(log[2].contains("\"GET /nope HTTP/1.1\" 404"), "{log:#?}");

    // A second connection gets a number of its own.
    let mut other = connect(nginx.addr());
    assert_eq!(get(&mut other, "/a.txt").code, 200);
    let log = nginx.wait_access_log(4, IO_TIMEOUT);
    let last: Vec<&str> = log[3].split(' ').collect();
    assert_ne!(last[0], fields[0][0], "{log:#?}");
    assert_eq!(last[1], "1", "{log:#?}");
}

#[test]
fn nginx_serves_https_with_the_test_certificate() {
    let pki = TestPki::new();
    let nginx = Nginx::start(Some((&pki.server_chain_pem, &pki.server_key_pem)));
    let body = big_body();
    nginx.put("big.bin", &body);
    let tls_addr = nginx.tls_addr().expect("a TLS port");
    assert_ne!(tls_addr.port(), nginx.port());
    assert_eq!(nginx.tls_port(), Some(tls_addr.port()));

    let mut tls = connect_tls(&pki, tls_addr);
    let response = get(&mut tls, "/big.bin");
    assert_eq!(response.code, 200, "{}\n{}", response.head, nginx.log());
    assert_same(&response.body, &body);
    let again = get(&mut tls, "/big.bin");
    assert_eq!(again.code, 200);

    // The plain port serves the same docroot.
    let mut plain = connect(nginx.addr());
    assert_same(&get(&mut plain, "/big.bin").body, &body);

    let log = nginx.wait_access_log(3, IO_TIMEOUT);
    assert_eq!(log.len(), 3, "{}", nginx.log());
    assert_eq!(
        log[0].split(' ').next(),
        log[1].split(' ').next(),
        "{log:#?}"
    );
}

#[test]
fn nginx_drop_stops_every_process() {
    let nginx = Nginx::start(None);
    let pid = nginx.pid();
    assert!(process_group_alive(pid));
    let started = Instant::now();
    drop(nginx);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(!process_group_alive(pid), "nginx's group outlived Drop");
}

// ---------------------------------------------------------------------------
// WebSocket peers

fn ws_url(peer: &WsPeer, scheme: &str, path: &str) -> String {
    format!("{scheme}://localhost:{}{path}", peer.port())
}

/// Opens a WebSocket with tungstenite's client over a plain socket, with an
/// extra header the peer should record.
fn ws_client(peer: &WsPeer, path: &str) -> WebSocket<TcpStream> {
    let mut request = ws_url(peer, "ws", path).into_client_request().unwrap();
    request
        .headers_mut()
        .insert("X-Selftest", "plain".parse().unwrap());
    match tungstenite::client::client(request, connect(peer.addr())) {
        Ok((ws, response)) => {
            assert_eq!(response.status(), 101);
            ws
        }
        Err(e) => panic!("WebSocket handshake with {}: {e}", peer.addr()),
    }
}

/// Sends a text and a binary message and expects each back unchanged, then
/// closes and expects the close handshake to finish.
fn assert_ws_echo<S: Read + Write>(ws: &mut WebSocket<S>) {
    let text = "héllo, echo".repeat(100);
    let binary: Vec<u8> = (0..70_000u32).map(|i| (i * 7) as u8).collect();
    ws.send(Message::text(text.clone())).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text(text));
    ws.send(Message::binary(binary.clone())).unwrap();
    match ws.read().unwrap() {
        Message::Binary(got) => assert_same(&got, &binary),
        other => panic!("want the binary echo, got {other:?}"),
    }
    ws.close(None).unwrap();
    loop {
        match ws.read() {
            Ok(Message::Close(_)) => {}
            Ok(other) => panic!("after close: {other:?}"),
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("close handshake: {e}"),
        }
    }
}

#[test]
fn ws_echo_returns_text_and_binary_and_records_the_request() {
    let peer = WsPeer::start(WsBehavior::Echo, None);
    assert_eq!(peer.last_request(), None);
    let mut ws = ws_client(&peer, "/chat?x=1");
    assert_ws_echo(&mut ws);
    let head = peer.last_request().expect("a recorded request");
    assert!(head.starts_with("GET /chat?x=1 HTTP/1.1\r\n"), "{head}");
    assert!(head.contains("X-Selftest: plain\r\n") || head.contains("x-selftest: plain\r\n"));
    assert!(head.ends_with("\r\n\r\n"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("sec-websocket-key:"),
        "{head}"
    );
    assert_eq!(peer.accepted(), 1);
    assert_eq!(peer.addr().port(), peer.port());
}

#[test]
fn ws_echo_over_tls_returns_text_and_binary() {
    let pki = TestPki::new();
    let peer = WsPeer::start(WsBehavior::Echo, Some(pki.server_config()));
    let tls = connect_tls(&pki, peer.addr());
    let (mut ws, response) = tungstenite::client::client(ws_url(&peer, "wss", "/tls"), tls)
        .unwrap_or_else(|e| panic!("wss handshake: {e}"));
    assert_eq!(response.status(), 101);
    assert_ws_echo(&mut ws);
    let head = peer.last_request().unwrap();
    assert!(head.starts_with("GET /tls HTTP/1.1\r\n"), "{head}");
}

#[test]
fn ws_echo_frames_sends_each_ping_back_after_the_pong() {
    let peer = WsPeer::start(WsBehavior::EchoFrames, None);
    let mut ws = ws_client(&peer, "/");
    ws.send(Message::Ping(b"are you there".to_vec().into()))
        .unwrap();
    // tungstenite answers the peer's ping itself; read() still shows it.
    assert_eq!(
        ws.read().unwrap(),
        Message::Pong(b"are you there".to_vec().into())
    );
    assert_eq!(
        ws.read().unwrap(),
        Message::Ping(b"are you there".to_vec().into())
    );
    ws.send(Message::text("still echoing")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("still echoing"));
}

#[test]
fn ws_reply200_refuses_the_upgrade_with_a_200() {
    let peer = WsPeer::start(WsBehavior::Reply200, None);
    match tungstenite::client::client(ws_url(&peer, "ws", "/"), connect(peer.addr())) {
        Err(HandshakeError::Failure(tungstenite::Error::Http(response))) => {
            assert_eq!(response.status(), 200)
        }
        Err(e) => panic!("want an HTTP error with the 200, got {e}"),
        Ok(_) => panic!("the upgrade succeeded against a 200"),
    }

    // The raw answer, byte for byte.
    let mut sock = connect(peer.addr());
    sock.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let head = read_head(&mut sock);
    assert_eq!(
        head,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "{}",
        hexdump(&head)
    );
    assert_eq!(
        peer.last_request().as_deref(),
        Some("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    );
}

#[test]
fn ws_wrong_accept_fails_the_tungstenite_client() {
    let peer = WsPeer::start(WsBehavior::WrongAccept, None);
    match tungstenite::client::client(ws_url(&peer, "ws", "/"), connect(peer.addr())) {
        Err(HandshakeError::Failure(tungstenite::Error::Protocol(
            ProtocolError::SecWebSocketAcceptKeyMismatch,
        ))) => {}
        Err(e) => panic!("want an accept key mismatch, got {e}"),
        Ok(_) => panic!("the upgrade succeeded with a wrong Sec-WebSocket-Accept"),
    }
}

/// The upgrade request of RFC 6455 section 1.3, raw.
const RAW_UPGRADE: &str = "GET /raw HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

#[test]
fn ws_frame_with_101_arrives_right_after_the_head_then_echoes() {
    // An unmasked text frame "hello".
    let frame = b"\x81\x05hello".to_vec();
    let peer = WsPeer::start(WsBehavior::FrameWith101(frame.clone()), None);
    let mut sock = connect(peer.addr());
    sock.write_all(RAW_UPGRADE.as_bytes()).unwrap();

    // Read until the head and the frame are both in; the peer wrote them at once.
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + IO_TIMEOUT;
    let head_end = |got: &[u8]| got.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
    while head_end(&got).is_none_or(|end| got.len() < end + frame.len()) {
        assert!(
            Instant::now() < deadline,
            "timed out; got:\n{}",
            hexdump(&got)
        );
        match sock.read(&mut buf) {
            Ok(0) => panic!("peer closed; got:\n{}", hexdump(&got)),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("read: {e}; got:\n{}", hexdump(&got)),
        }
    }
    let end = head_end(&got).unwrap();
    let head = String::from_utf8_lossy(&got[..end]).into_owned();
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    // RFC 6455's own example key and accept value.
    assert!(
        head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
        "{head}"
    );
    assert_eq!(
        &got[end..],
        &frame[..],
        "bytes after the 101:\n{}",
        hexdump(&got[end..])
    );
    assert_eq!(
        derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );

    // Then it echoes: a masked text frame "ping!" comes back unmasked.
    let mask = [0x11u8, 0x22, 0x33, 0x44];
    let mut masked = vec![0x81, 0x80 | 5];
    masked.extend_from_slice(&mask);
    masked.extend(b"ping!".iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    sock.write_all(&masked).unwrap();
    let mut echo = [0u8; 7];
    sock.read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"\x81\x05ping!", "{}", hexdump(&echo));
    assert!(peer
        .last_request()
        .unwrap()
        .starts_with("GET /raw HTTP/1.1\r\n"));
}

#[test]
fn ws_frame_with_101_over_tls_comes_with_the_head() {
    let pki = TestPki::new();
    let frame = b"\x82\x03\x01\x02\x03".to_vec();
    let peer = WsPeer::start(WsBehavior::FrameWith101(frame), Some(pki.server_config()));
    let tls = connect_tls(&pki, peer.addr());
    let (mut ws, _) = tungstenite::client::client(ws_url(&peer, "wss", "/"), tls)
        .unwrap_or_else(|e| panic!("wss handshake: {e}"));
    assert_eq!(ws.read().unwrap(), Message::binary(vec![1u8, 2, 3]));
    ws.send(Message::text("after")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("after"));
}

#[test]
fn ws_send_then_close_delivers_the_messages_then_a_close() {
    let fragments = vec![
        Message::Frame(Frame::message(
            b"frag".to_vec(),
            OpCode::Data(Data::Text),
            false,
        )),
        Message::Frame(Frame::message(
            b"mented".to_vec(),
            OpCode::Data(Data::Continue),
            true,
        )),
    ];
    let mut messages = vec![Message::text("one"), Message::binary(vec![1u8, 2, 3])];
    messages.extend(fragments);
    let peer = WsPeer::start(WsBehavior::SendThenClose(messages), None);
    let mut ws = ws_client(&peer, "/");
    assert_eq!(ws.read().unwrap(), Message::text("one"));
    assert_eq!(ws.read().unwrap(), Message::binary(vec![1u8, 2, 3]));
    assert_eq!(ws.read().unwrap(), Message::text("fragmented"));
    assert_eq!(ws.read().unwrap(), Message::Close(None));
    // tungstenite has answered the close; the server then closes the TCP connection.
    match ws.read() {
        Err(tungstenite::Error::ConnectionClosed) => {}
        other => panic!("want the end of the connection, got {other:?}"),
    }
}

#[test]
fn ws_peer_drop_ends_open_connections_promptly() {
    let peer = WsPeer::start(WsBehavior::Echo, None);
    let mut ws = ws_client(&peer, "/");
    let started = Instant::now();
    drop(peer);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(ws.read().is_err(), "the connection outlived the peer");
}
