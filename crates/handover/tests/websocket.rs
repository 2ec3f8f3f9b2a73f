//! connect-only = 2 on ws:// and wss:// against tungstenite, an independent
//! WebSocket server, in-process: the upgrade, frame-level ws_send/ws_recv
//! with libcurl's semantics, and the servers that get it wrong.

mod common;

use std::time::{Duration, Instant};

use handover::ws::{self, Frame};
use handover::{ConnectOnly, Easy, ErrorKind};
use handover_test_support::peers::{self, TestPki};
use handover_test_support::ws_peers::{WsBehavior, WsPeer};
use tungstenite::Message;

fn upgrade(url: &str, configure: impl FnOnce(&mut Easy)) -> Easy {
    let mut easy = Easy::new();
    easy.url(url).unwrap();
    easy.connect_only(ConnectOnly::Headers).unwrap();
    easy.connect_timeout(Duration::from_secs(10)).unwrap();
    configure(&mut easy);
    easy.perform().unwrap_or_else(|e| panic!("{url}: {e:?}"));
    easy
}

/// Sends one whole frame, looping over partial sends and Again.
fn send_frame(easy: &mut Easy, data: &[u8], flags: ws::Flags) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut sent = 0;
    // An empty payload still needs one call.
    let mut first = true;
    while first || sent < data.len() {
        assert!(Instant::now() < deadline, "ws_send stalled at {sent}");
        let fragsize = if first { data.len() as u64 } else { 0 };
        let f = if data.len() > 65536 {
            flags | ws::OFFSET
        } else {
            flags
        };
        let chunk = &data[sent..];
        let chunk = if f.contains(ws::OFFSET) {
            &chunk[..chunk.len().min(65536)]
        } else {
            chunk
        };
        match easy.ws_send(chunk, if f.contains(ws::OFFSET) { fragsize } else { 0 }, f) {
            Ok(n) => {
                sent += n;
                first = false;
            }
            Err(e) if e.is_again() => {
                easy.wait_writable(Some(Duration::from_millis(50))).unwrap();
            }
            Err(e) => panic!("ws_send: {e:?}"),
        }
    }
}

/// Receives one whole frame: its flags and payload.
fn recv_frame(easy: &mut Easy) -> Result<(ws::Flags, Vec<u8>), handover::Error> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut payload = Vec::new();
    let mut buf = vec![0u8; 4096];
    loop {
        assert!(Instant::now() < deadline, "ws_recv stalled");
        match easy.ws_recv(&mut buf) {
            Ok((
                n,
                Frame {
                    flags, bytesleft, ..
                },
            )) => {
                payload.extend_from_slice(&buf[..n]);
                if bytesleft == 0 {
                    return Ok((flags, payload));
                }
            }
            Err(e) if e.is_again() => {
                easy.wait_readable(Some(Duration::from_millis(50))).unwrap();
            }
            Err(e) => return Err(e),
        }
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn echo_of_text_and_binary_messages_of_many_sizes_plain_and_tls() {
    let pki = TestPki::new();
    let plain = WsPeer::start(WsBehavior::Echo, None);
    let tls = WsPeer::start(WsBehavior::Echo, Some(pki.server_config()));
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);
    for (url, cainfo) in [
        (format!("ws://127.0.0.1:{}/chat", plain.port()), None),
        (
            format!("wss://localhost:{}/chat", tls.port()),
            Some(ca.clone()),
        ),
    ] {
        let mut easy = upgrade(&url, |e| {
            if let Some(ca) = &cainfo {
                e.cainfo(ca).unwrap();
            }
        });
        assert_eq!(easy.response_code().unwrap(), 101);
        for len in [0usize, 1, 125, 126, 127, 65535, 65536, 300_000] {
            let data = pattern(len);
            send_frame(&mut easy, &data, ws::BINARY);
            let (flags, got) = recv_frame(&mut easy).unwrap();
            assert_eq!(flags, ws::BINARY, "{url} len {len}");
            assert!(got == data, "{url} len {len}: payload differs");
        }
        send_frame(&mut easy, "héllo wörld".as_bytes(), ws::TEXT);
        assert_eq!(
            recv_frame(&mut easy).unwrap(),
            (ws::TEXT, "héllo wörld".as_bytes().to_vec())
        );
    }
    let request = plain.last_request().unwrap().to_ascii_lowercase();
    assert!(request.starts_with("get /chat http/1.1"), "{request}");
    for needle in [
        "upgrade: websocket",
        "sec-websocket-version: 13",
        "sec-websocket-key: ",
        "connection: upgrade",
    ] {
        assert!(request.contains(needle), "{needle} missing in {request}");
    }
}

#[test]
fn a_fragmented_message_is_reassembled_by_the_server() {
    let peer = WsPeer::start(WsBehavior::Echo, None);
    let mut easy = upgrade(&format!("ws://127.0.0.1:{}/", peer.port()), |_| {});
    send_frame(&mut easy, b"frag-", ws::TEXT | ws::CONT);
    send_frame(&mut easy, b"ment-", ws::TEXT | ws::CONT);
    send_frame(&mut easy, b"ed", ws::TEXT);
    assert_eq!(
        recv_frame(&mut easy).unwrap(),
        (ws::TEXT, b"frag-ment-ed".to_vec())
    );
}

#[test]
fn pings_are_answered_automatically_or_handed_over() {
    // The server pings after each echoed message (EchoFrames behaviour).
    let peer = WsPeer::start(WsBehavior::EchoFrames, None);
    let mut easy = upgrade(&format!("ws://127.0.0.1:{}/", peer.port()), |_| {});
    // Our ping: tungstenite answers with a pong we receive.
    send_frame(&mut easy, b"are you there", ws::PING);
    let (flags, payload) = recv_frame(&mut easy).unwrap();
    assert_eq!(
        flags & (ws::PONG | ws::PING),
        ws::PONG,
        "auto-pong swallowed the echoed ping; pong arrives"
    );
    assert_eq!(payload, b"are you there");

    let peer = WsPeer::start(WsBehavior::EchoFrames, None);
    let mut easy = upgrade(&format!("ws://127.0.0.1:{}/", peer.port()), |e| {
        e.ws_options(ws::NOAUTOPONG).unwrap();
    });
    send_frame(&mut easy, b"ping me", ws::PING);
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(recv_frame(&mut easy).unwrap());
    }
    assert!(seen.contains(&(ws::PONG, b"ping me".to_vec())), "{seen:?}");
    assert!(
        seen.contains(&(ws::PING, b"ping me".to_vec())),
        "NOAUTOPONG hands the ping over: {seen:?}"
    );
}

#[test]
fn close_handshake_and_then_the_connection_reads_as_got_nothing() {
    let peer = WsPeer::start(WsBehavior::Echo, None);
    let mut easy = upgrade(&format!("ws://127.0.0.1:{}/", peer.port()), |_| {});
    send_frame(&mut easy, &[0x03, 0xe8, b'b', b'y', b'e'], ws::CLOSE);
    let (flags, payload) = recv_frame(&mut easy).unwrap();
    assert_eq!(flags, ws::CLOSE);
    assert_eq!(&payload[..2], &[0x03, 0xe8], "the server echoes code 1000");
    let err = recv_frame(&mut easy).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::GotNothing, "{err}");
    assert_eq!(err.code(), 52);
}

#[test]
fn server_messages_then_close_arrive_in_order() {
    let peer = WsPeer::start(
        WsBehavior::SendThenClose(vec![
            Message::text("first"),
            Message::binary(vec![1u8, 2, 3]),
        ]),
        None,
    );
    let mut easy = upgrade(&format!("ws://127.0.0.1:{}/", peer.port()), |_| {});
    assert_eq!(
        recv_frame(&mut easy).unwrap(),
        (ws::TEXT, b"first".to_vec())
    );
    assert_eq!(recv_frame(&mut easy).unwrap(), (ws::BINARY, vec![1, 2, 3]));
    assert_eq!(recv_frame(&mut easy).unwrap().0, ws::CLOSE);
}

#[test]
fn a_server_answering_200_refuses_the_upgrade() {
    let peer = WsPeer::start(WsBehavior::Reply200, None);
    let mut easy = Easy::new();
    easy.url(&format!("ws://127.0.0.1:{}/", peer.port()))
        .unwrap();
    easy.connect_only(ConnectOnly::Headers).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::HttpReturnedError, "{err}");
    assert_eq!(err.code(), 22);
    assert!(
        err.to_string().contains("Refused WebSocket upgrade: 200"),
        "{err}"
    );
    assert_eq!(easy.response_code().unwrap(), 200);
    assert_eq!(easy.active_socket(), None);
}

#[test]
fn a_wrong_accept_key_is_rejected() {
    let peer = WsPeer::start(WsBehavior::WrongAccept, None);
    let mut easy = Easy::new();
    easy.url(&format!("ws://127.0.0.1:{}/", peer.port()))
        .unwrap();
    easy.connect_only(ConnectOnly::Headers).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WeirdServerReply, "{err}");
    assert!(
        err.to_string().contains("Sec-WebSocket-Accept") || err.to_string().contains("accept"),
        "{err}"
    );
}

#[test]
fn a_frame_in_the_same_packet_as_the_101_is_received_framed_and_raw() {
    let frame = vec![0x81, 0x05, b'e', b'a', b'r', b'l', b'y'];
    let peer = WsPeer::start(WsBehavior::FrameWith101(frame.clone()), None);
    let mut easy = upgrade(&format!("ws://127.0.0.1:{}/", peer.port()), |_| {});
    assert_eq!(
        recv_frame(&mut easy).unwrap(),
        (ws::TEXT, b"early".to_vec())
    );

    // Raw mode: the same bytes through plain recv, untouched.
    let peer = WsPeer::start(WsBehavior::FrameWith101(frame.clone()), None);
    let mut easy = upgrade(&format!("ws://127.0.0.1:{}/", peer.port()), |e| {
        e.ws_options(ws::RAW_MODE).unwrap();
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    while got.len() < frame.len() {
        match easy.recv(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.is_again() => {
                easy.wait_readable(Some(Duration::from_secs(5))).unwrap();
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(got, frame);
    assert_eq!(
        easy.ws_recv(&mut buf).unwrap_err().code(),
        43,
        "raw mode has no ws_recv"
    );
}

#[test]
fn libcurl_send_rules_control_frames_and_misuse() {
    let peer = WsPeer::start(WsBehavior::Echo, None);
    let mut easy = upgrade(&format!("ws://127.0.0.1:{}/", peer.port()), |_| {});
    let big = vec![b'p'; 126];
    assert_eq!(easy.ws_send(&big, 0, ws::PING).unwrap_err().code(), 100);
    assert_eq!(
        easy.ws_send(b"x", 0, ws::TEXT | ws::BINARY)
            .unwrap_err()
            .code(),
        43
    );
    assert_eq!(
        easy.ws_send(b"x", 0, ws::PING | ws::CONT)
            .unwrap_err()
            .code(),
        43
    );
    // The connection is still good.
    send_frame(&mut easy, b"still fine", ws::TEXT);
    assert_eq!(
        recv_frame(&mut easy).unwrap(),
        (ws::TEXT, b"still fine".to_vec())
    );

    // connect-only = 1 on ws:// has no WebSocket state.
    let mut plain = Easy::new();
    plain
        .url(&format!("ws://127.0.0.1:{}/", peer.port()))
        .unwrap();
    plain.connect_only(ConnectOnly::Connection).unwrap();
    plain.perform().unwrap();
    assert_eq!(plain.ws_send(b"x", 0, ws::TEXT).unwrap_err().code(), 55);
    let mut buf = [0u8; 4];
    assert_eq!(plain.ws_recv(&mut buf).unwrap_err().code(), 43);
}

#[test]
fn a_frame_header_first_then_the_payload_in_small_reads() {
    let peer = WsPeer::start(WsBehavior::Echo, None);
    let mut easy = upgrade(&format!("ws://127.0.0.1:{}/", peer.port()), |_| {});
    let data = pattern(1000);
    send_frame(&mut easy, &data, ws::BINARY);
    // buflen 0: the meta of the next frame, no payload.
    let meta = loop {
        match easy.ws_recv(&mut []) {
            Ok((0, meta)) => break meta,
            Ok(other) => panic!("{other:?}"),
            Err(e) if e.is_again() => {
                easy.wait_readable(Some(Duration::from_secs(5))).unwrap();
            }
            Err(e) => panic!("{e:?}"),
        }
    };
    assert_eq!(meta.flags, ws::BINARY);
    assert_eq!(meta.bytesleft, 1000);
    let mut got = Vec::new();
    let mut small = [0u8; 7];
    while got.len() < 1000 {
        match easy.ws_recv(&mut small) {
            Ok((n, meta)) => {
                assert_eq!(meta.offset as usize, got.len());
                got.extend_from_slice(&small[..n]);
                assert_eq!(meta.bytesleft as usize, 1000 - got.len());
            }
            Err(e) if e.is_again() => {
                easy.wait_readable(Some(Duration::from_secs(5))).unwrap();
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(got, data);
}

#[test]
fn the_message_helper_echoes_and_closes_with_code_and_reason() {
    use handover::websocket::{Message as Msg, WebSocket};
    let peer = WsPeer::start(WsBehavior::Echo, None);
    let mut easy = upgrade(&format!("ws://127.0.0.1:{}/", peer.port()), |_| {});
    let mut socket = WebSocket::new(easy.take_connection().unwrap()).unwrap();
    socket.set_timeout(Some(Duration::from_secs(20)));
    socket.send(&Msg::Text("hello".into())).unwrap();
    assert_eq!(socket.recv().unwrap(), Msg::Text("hello".into()));
    let big = pattern(200_000);
    socket.send(&Msg::Binary(big.clone())).unwrap();
    assert_eq!(socket.recv().unwrap(), Msg::Binary(big));
    let answer = socket.close(4000, "done here").unwrap();
    assert_eq!(
        answer.map(|(code, _)| code),
        Some(4000),
        "tungstenite echoes the code"
    );

    let mut plain = Easy::new();
    plain
        .url(&format!("ws://127.0.0.1:{}/", peer.port()))
        .unwrap();
    plain.connect_only(ConnectOnly::Connection).unwrap();
    plain.perform().unwrap();
    assert_eq!(
        WebSocket::new(plain.take_connection().unwrap())
            .unwrap_err()
            .error()
            .code(),
        43
    );
}

#[test]
fn websocket_new_gives_a_connection_that_is_not_upgraded_back_still_usable() {
    use handover::websocket::WebSocket;
    use peers::{Behavior, TcpPeer};
    let echo = TcpPeer::start(Behavior::Echo);
    let mut easy = Easy::new();
    easy.url(&format!("telnet://127.0.0.1:{}", echo.port()))
        .unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.perform().unwrap();
    let conn = easy.take_connection().unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&conn);

    let refused = WebSocket::new(conn).unwrap_err();
    assert_eq!(refused.error().kind(), ErrorKind::BadFunctionArgument);
    assert_eq!(refused.error().code(), 43);
    assert!(
        refused.to_string().contains("not a WebSocket connection"),
        "{refused}"
    );
    assert!(
        format!("{refused:?}").contains("IntoWebSocketError"),
        "{refused:?}"
    );
    let source = std::error::Error::source(&refused).expect("the error is the source");
    assert_eq!(source.to_string(), refused.error().to_string());

    // The same live connection comes back, and the echo peer still answers on it.
    let mut conn = refused.into_connection();
    assert_eq!(std::os::fd::AsRawFd::as_raw_fd(&conn), fd);
    let back = common::echo(&mut conn, b"still connected");
    assert_eq!(back, b"still connected");

    // into_parts gives both; `?` into handover::Error keeps the code.
    let (error, mut conn) = WebSocket::new(conn).unwrap_err().into_parts();
    assert_eq!(error.code(), 43);
    assert_eq!(common::echo(&mut conn, b"again"), b"again");
    let plain: handover::Error = WebSocket::new(conn).unwrap_err().into();
    assert_eq!(plain.code(), 43);
}

#[test]
fn connect_upgrades_in_one_call_and_connect_with_uses_the_handles_options() {
    use handover::websocket::{Message as Msg, WebSocket};
    let pki = TestPki::new();
    let plain = WsPeer::start(WsBehavior::Echo, None);
    let tls = WsPeer::start(WsBehavior::Echo, Some(pki.server_config()));

    let mut socket = WebSocket::connect(&format!("ws://127.0.0.1:{}/one", plain.port())).unwrap();
    socket.set_timeout(Some(Duration::from_secs(20)));
    socket.send(&Msg::Text("one call".into())).unwrap();
    assert_eq!(socket.recv().unwrap(), Msg::Text("one call".into()));
    assert_eq!(socket.close(1000, "").unwrap().map(|(c, _)| c), Some(1000));
    let request = plain.last_request().unwrap().to_ascii_lowercase();
    assert!(request.starts_with("get /one http/1.1"), "{request}");

    // wss:// with a private CA and an extra header: options of the handle.
    let mut easy = Easy::new();
    easy.url(&format!("wss://localhost:{}/two", tls.port()))
        .unwrap();
    easy.cainfo(pki.write_temp("ca.pem", &pki.ca_pem)).unwrap();
    easy.connect_timeout(Duration::from_secs(10)).unwrap();
    let mut headers = handover::List::new();
    headers.append("X-Client: handover-test").unwrap();
    easy.http_headers(headers).unwrap();
    let mut socket = WebSocket::connect_with(&mut easy).unwrap();
    socket.set_timeout(Some(Duration::from_secs(20)));
    socket.send(&Msg::Binary(pattern(70_000))).unwrap();
    assert_eq!(socket.recv().unwrap(), Msg::Binary(pattern(70_000)));
    assert_eq!(easy.response_code().unwrap(), 101);
    assert!(easy.response_header("Sec-WebSocket-Accept").is_some());
    assert_eq!(
        easy.active_socket(),
        None,
        "the connection moved to the socket"
    );
    assert!(
        tls.last_request()
            .unwrap()
            .contains("X-Client: handover-test"),
        "{:?}",
        tls.last_request()
    );

    // Without the CA the same handle's verification fails, with its code.
    let mut untrusted = Easy::new();
    untrusted
        .url(&format!("wss://localhost:{}/", tls.port()))
        .unwrap();
    untrusted
        .cainfo(pki.write_temp("other.pem", &TestPki::new().ca_pem))
        .unwrap();
    let err = WebSocket::connect_with(&mut untrusted).unwrap_err();
    assert_eq!(err.code(), 60, "{err}");
}

#[test]
fn connect_refuses_urls_that_are_not_websocket_and_refused_upgrades() {
    use handover::websocket::WebSocket;
    let peer = WsPeer::start(WsBehavior::Reply200, None);
    for url in [
        format!("http://user:secret@127.0.0.1:{}/", peer.port()),
        format!("127.0.0.1:{}", peer.port()),
    ] {
        let err = WebSocket::connect(&url).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsupportedProtocol, "{url}: {err}");
        assert!(err.to_string().contains("ws:// or wss://"), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");
    }
    assert_eq!(peer.accepted(), 0, "nothing was connected");

    let err = WebSocket::connect(&format!("ws://127.0.0.1:{}/", peer.port())).unwrap_err();
    assert_eq!(err.code(), 22, "{err}");
    assert!(
        err.to_string().contains("Refused WebSocket upgrade: 200"),
        "{err}"
    );
}

#[test]
fn an_ordinary_ws_transfer_hands_frames_to_the_write_callback() {
    use std::sync::{Arc, Mutex};
    let peer = WsPeer::start(
        WsBehavior::SendThenClose(vec![Message::text("one"), Message::binary(vec![2u8; 3])]),
        None,
    );
    let mut easy = Easy::new();
    easy.url(&format!("ws://127.0.0.1:{}/", peer.port()))
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::<(ws::Flags, Vec<u8>)>::new()));
    let sink = seen.clone();
    easy.write_function(move |data| {
        let meta = ws::meta().expect("meta inside the callback");
        sink.lock().unwrap().push((meta.flags, data.to_vec()));
        Ok(data.len())
    })
    .unwrap();
    easy.perform().unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0], (ws::TEXT, b"one".to_vec()));
    assert_eq!(seen[1], (ws::BINARY, vec![2, 2, 2]));
    assert_eq!(seen[2].0, ws::CLOSE);
    assert!(ws::meta().is_none(), "no meta outside the callback");
    assert_eq!(easy.response_code().unwrap(), 101);
}

#[test]
fn a_swallowed_ping_does_not_stall_a_meta_only_recv() {
    let peer = WsPeer::start(
        WsBehavior::SendThenClose(vec![
            Message::Ping(b"abc".to_vec().into()),
            Message::text("after"),
        ]),
        None,
    );
    let mut easy = upgrade(&format!("ws://127.0.0.1:{}/", peer.port()), |_| {});
    let deadline = Instant::now() + Duration::from_secs(10);
    let meta = loop {
        assert!(
            Instant::now() < deadline,
            "meta-only ws_recv stalled on the ping"
        );
        match easy.ws_recv(&mut []) {
            Ok((0, meta)) => break meta,
            Ok(other) => panic!("{other:?}"),
            Err(e) if e.is_again() => {
                easy.wait_readable(Some(Duration::from_millis(100)))
                    .unwrap();
            }
            Err(e) => panic!("{e:?}"),
        }
    };
    assert_eq!(
        (meta.flags, meta.bytesleft),
        (ws::TEXT, 5),
        "the ping was answered and skipped"
    );
}

#[test]
fn the_message_helper_keeps_fragments_across_an_interleaved_control_frame() {
    use handover::websocket::{Message as Msg, WebSocket};
    use tungstenite::protocol::frame::coding::{Data, OpCode};
    use tungstenite::protocol::frame::Frame as WireFrame;
    let frames = vec![
        Message::Frame(WireFrame::message(
            b"hel".to_vec(),
            OpCode::Data(Data::Text),
            false,
        )),
        Message::Pong(b"p".to_vec().into()),
        Message::Frame(WireFrame::message(
            b"lo".to_vec(),
            OpCode::Data(Data::Continue),
            true,
        )),
    ];
    let peer = WsPeer::start(WsBehavior::SendThenClose(frames), None);
    let mut easy = upgrade(&format!("ws://127.0.0.1:{}/", peer.port()), |_| {});
    let mut socket = WebSocket::new(easy.take_connection().unwrap()).unwrap();
    socket.set_timeout(Some(Duration::from_secs(10)));
    assert_eq!(socket.recv().unwrap(), Msg::Pong(b"p".to_vec()));
    assert_eq!(socket.recv().unwrap(), Msg::Text("hello".into()));
}

/// A WebSocket server that completes the upgrade by hand, writes `first`
/// with the 101, then `rest` once the test says so, then reads until the
/// client closes: a frame cut where the test wants, paused as long as it
/// wants, without sleeping.
struct PausingPeer {
    port: u16,
    go: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PausingPeer {
    fn start(first: Vec<u8>, rest: Vec<u8>) -> PausingPeer {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (go, wait) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            stream
                .set_read_timeout(Some(Duration::from_secs(20)))
                .unwrap();
            let mut request = Vec::new();
            let mut byte = [0u8; 1];
            while !request.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte) {
                    Ok(1) => request.push(byte[0]),
                    _ => return,
                }
            }
            let request = String::from_utf8_lossy(&request).to_string();
            let key = request
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("sec-websocket-key")
                        .then(|| value.trim().to_owned())
                })
                .unwrap_or_default();
            let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
            let mut answer = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            )
            .into_bytes();
            answer.extend_from_slice(&first);
            if stream.write_all(&answer).is_err() || wait.recv().is_err() {
                return;
            }
            let _ = stream.write_all(&rest);
            let mut sink = [0u8; 256];
            while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
        });
        PausingPeer {
            port,
            go: Some(go),
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/", self.port)
    }

    /// Lets the peer write the rest.
    fn go(&self) {
        if let Some(go) = &self.go {
            let _ = go.send(());
        }
    }
}

impl Drop for PausingPeer {
    fn drop(&mut self) {
        self.go.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn a_timeout_in_the_middle_of_a_control_frame_keeps_the_part_already_read() {
    use handover::websocket::{Message as Msg, WebSocket};
    // A PONG whose header and first 3 payload bytes come with the 101.
    let peer = PausingPeer::start(b"\x8a\x06abc".to_vec(), b"def\x81\x02ok".to_vec());
    let mut easy = upgrade(&peer.url(), |_| {});
    let mut socket = WebSocket::new(easy.take_connection().unwrap()).unwrap();
    socket.set_timeout(Some(Duration::from_millis(300)));
    let err = socket.recv().unwrap_err();
    assert!(err.is_operation_timedout(), "{err}");
    peer.go();
    socket.set_timeout(Some(Duration::from_secs(10)));
    assert_eq!(socket.recv().unwrap(), Msg::Pong(b"abcdef".to_vec()));
    assert_eq!(socket.recv().unwrap(), Msg::Text("ok".into()));
}

#[test]
fn recv_on_a_ws_connection_returns_the_bytes_the_session_holds_first() {
    // Two frames arrive with the 101; ws_recv takes the first, and the
    // session holds the second, which a plain recv must not skip.
    let second = b"\x82\x03xyz".to_vec();
    let peer = PausingPeer::start([&b"\x81\x02hi"[..], &second].concat(), Vec::new());
    let mut easy = upgrade(&peer.url(), |_| {});
    assert_eq!(recv_frame(&mut easy).unwrap(), (ws::TEXT, b"hi".to_vec()));
    let mut conn = easy.take_connection().unwrap();
    assert!(
        conn.buffered() >= second.len(),
        "the held frame counts as buffered"
    );
    let mut buf = [0u8; 64];
    let n = conn.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], &second[..], "raw bytes of the second frame");
    peer.go();
}

#[test]
fn the_message_helper_refuses_a_text_message_that_is_not_utf8_and_goes_on() {
    use handover::websocket::{Message as Msg, WebSocket};
    let peer = PausingPeer::start(b"\x81\x02\xff\xfe\x81\x02ok".to_vec(), Vec::new());
    let mut easy = upgrade(&peer.url(), |_| {});
    let mut socket = WebSocket::new(easy.take_connection().unwrap()).unwrap();
    socket.set_timeout(Some(Duration::from_secs(10)));
    let err = socket.recv().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RecvError, "{err}");
    assert!(err.to_string().contains("not UTF-8"), "{err}");
    assert_eq!(socket.recv().unwrap(), Msg::Text("ok".into()));

    // The frame API hands the same bytes over as they are (libcurl).
    let peer = PausingPeer::start(b"\x81\x02\xff\xfe".to_vec(), Vec::new());
    let mut easy = upgrade(&peer.url(), |_| {});
    assert_eq!(
        recv_frame(&mut easy).unwrap(),
        (ws::TEXT, b"\xff\xfe".to_vec())
    );
    peer.go();
}

#[test]
fn the_message_helper_answers_the_servers_close_and_the_server_ends() {
    use handover::websocket::{Message as Msg, WebSocket};
    // The peer sends its close, then waits for ours before it ends.
    let peer = WsPeer::start(WsBehavior::SendThenClose(vec![Message::text("bye")]), None);
    let mut easy = upgrade(&format!("ws://127.0.0.1:{}/", peer.port()), |_| {});
    let mut socket = WebSocket::new(easy.take_connection().unwrap()).unwrap();
    socket.set_timeout(Some(Duration::from_secs(10)));
    assert_eq!(socket.recv().unwrap(), Msg::Text("bye".into()));
    assert_eq!(socket.recv().unwrap(), Msg::Close(None));
    let err = socket.recv().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::GotNothing, "{err}");
    let err = socket.send(&Msg::Text("late".into())).unwrap_err();
    assert_eq!(err.code(), 43, "{err}");
}
