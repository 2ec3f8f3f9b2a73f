//! WebSocket on the async face: tokio-tungstenite over a connection
//! handover upgraded (connect-only = 2 on ws:// and wss://, then
//! `WebSocketStream::from_raw_socket`), directly, through squid (CONNECT)
//! and through SOCKS5 (microsocks, dante), each round ending with
//! tungstenite's close answered by the peer's; a frame that came with the
//! 101 (or that the session held after a `ws_recv`) is the first message
//! tungstenite sees; and `AsyncConnection::ws_send`/`ws_recv`,
//! curl_ws_send/recv for async code, against tungstenite's server side:
//! fragments, automatic and manual pongs, the close handshake.

mod common;

use std::io;
use std::net::TcpListener;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use common::pattern;
use futures_util::{SinkExt, StreamExt};
use handover::tokio::AsyncConnection;
use handover::ws::{self, Flags};
use handover::{ConnectOnly, Easy, ErrorKind};
use handover_test_support::peers::{assert_same, TestPki};
use handover_test_support::real_peers::{Dante, Microsocks, Squid, SquidAuth};
use handover_test_support::ws_peers::{WsBehavior, WsPeer};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

const MIB: usize = 1024 * 1024;

/// Bounds every wait on the peer, so that a stuck test fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// The handle for a connect-only = 2 upgrade of `url`, with `pki`'s CA
/// trusted for wss://.
fn upgrade(url: &str, pki: Option<&TestPki>) -> Easy {
    let mut easy = Easy::new();
    easy.url(url).unwrap();
    easy.connect_only(ConnectOnly::Headers).unwrap();
    easy.connect_timeout(Duration::from_secs(20)).unwrap();
    if let Some(pki) = pki {
        easy.cainfo_blob(pki.ca_pem.as_bytes()).unwrap();
    }
    easy
}

/// Upgrades with `easy` on the runtime and hands the connection over.
async fn connect(easy: &mut Easy) -> AsyncConnection {
    let conn = timeout(PATIENCE, easy.connect_async())
        .await
        .expect("the upgrade took too long")
        .unwrap_or_else(|e| panic!("upgrade: {e:?}"));
    assert_eq!(easy.response_code().unwrap(), 101);
    assert!(conn.get_ref().is_websocket());
    conn
}

/// tokio-tungstenite on the raw stream after the upgrade.
async fn tungstenite_over(conn: AsyncConnection) -> WebSocketStream<AsyncConnection> {
    WebSocketStream::from_raw_socket(conn, Role::Client, None).await
}

/// The next message, which must come.
async fn next(ws: &mut WebSocketStream<AsyncConnection>) -> Message {
    timeout(PATIENCE, ws.next())
        .await
        .expect("no message in time")
        .expect("the stream ended")
        .expect("tungstenite failed")
}

/// A text message and a 1 MiB binary message, each echoed whole.
async fn echo_text_and_a_mebibyte(ws: &mut WebSocketStream<AsyncConnection>, seed: u64) {
    let text = format!("hello {seed} through handover");
    ws.send(Message::text(text.clone())).await.unwrap();
    match next(ws).await {
        Message::Text(back) => assert_eq!(back.as_str(), text),
        other => panic!("wanted the text back, got {other:?}"),
    }
    let blob = pattern(MIB, seed);
    timeout(PATIENCE, ws.send(Message::binary(blob.clone())))
        .await
        .expect("sending 1 MiB took too long")
        .unwrap();
    match next(ws).await {
        Message::Binary(back) => assert_same(&back, &blob),
        other => panic!("wanted the binary back, got {other:?}"),
    }
}

/// Our close with 1000 and a reason: the peer's close comes back with the
/// same code, then the stream ends.
async fn close(ws: &mut WebSocketStream<AsyncConnection>) {
    let ours = CloseFrame {
        code: CloseCode::Normal,
        reason: "done".into(),
    };
    ws.close(Some(ours)).await.unwrap();
    match next(ws).await {
        Message::Close(Some(theirs)) => {
            assert_eq!(theirs.code, CloseCode::Normal);
            assert_eq!(u16::from(theirs.code), 1000);
            assert_eq!(theirs.reason.as_str(), "done", "the peer echoes our close");
        }
        other => panic!("wanted the peer's close, got {other:?}"),
    }
    let end = timeout(PATIENCE, ws.next()).await.expect("no end in time");
    assert!(end.is_none(), "after the close handshake: {end:?}");
}

/// Upgrade, echo, close: the whole tungstenite round on `easy`.
async fn tungstenite_round(mut easy: Easy, seed: u64) -> Easy {
    let conn = connect(&mut easy).await;
    let mut ws = tungstenite_over(conn).await;
    echo_text_and_a_mebibyte(&mut ws, seed).await;
    close(&mut ws).await;
    easy
}

/// A plain and a TLS echo peer, and the URL of each with the PKI to trust
/// (none for the plain one).
fn echo_peers(pki: &TestPki) -> ([WsPeer; 2], [(String, Option<&TestPki>); 2]) {
    let plain = WsPeer::start(WsBehavior::Echo, None);
    let tls = WsPeer::start(WsBehavior::Echo, Some(pki.server_config()));
    let urls = [
        (format!("ws://127.0.0.1:{}/", plain.port()), None),
        (format!("wss://localhost:{}/", tls.port()), Some(pki)),
    ];
    ([plain, tls], urls)
}

#[tokio::test]
async fn tungstenite_echoes_over_ws_and_wss_directly() {
    let plain = WsPeer::start(WsBehavior::Echo, None);
    let url = format!("ws://127.0.0.1:{}/chat", plain.port());
    tungstenite_round(upgrade(&url, None), 1).await;
    let request = plain.last_request().unwrap();
    assert!(request.starts_with("GET /chat HTTP/1.1\r\n"), "{request}");

    let pki = TestPki::new();
    let tls = WsPeer::start(WsBehavior::Echo, Some(pki.server_config()));
    let url = format!("wss://localhost:{}/secure", tls.port());
    tungstenite_round(upgrade(&url, Some(&pki)), 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tungstenite_echoes_over_ws_and_wss_through_squid() {
    let squid = Squid::shared(SquidAuth::None);
    let proxy = format!("http://127.0.0.1:{}", squid.port());

    let plain = WsPeer::start(WsBehavior::Echo, None);
    let mut easy = upgrade(&format!("ws://127.0.0.1:{}/", plain.port()), None);
    easy.proxy(&proxy).unwrap();
    let easy = tungstenite_round(easy, 3).await;
    assert_eq!(easy.http_connectcode().unwrap(), 200, "tunneled");

    let pki = TestPki::new();
    let tls = WsPeer::start(WsBehavior::Echo, Some(pki.server_config()));
    let mut easy = upgrade(&format!("wss://127.0.0.1:{}/", tls.port()), Some(&pki));
    easy.proxy(&proxy).unwrap();
    let easy = tungstenite_round(easy, 4).await;
    assert_eq!(easy.http_connectcode().unwrap(), 200, "tunneled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tungstenite_echoes_over_ws_and_wss_through_socks5() {
    let plain = WsPeer::start(WsBehavior::Echo, None);
    let pki = TestPki::new();
    let tls = WsPeer::start(WsBehavior::Echo, Some(pki.server_config()));
    let microsocks = format!("socks5h://127.0.0.1:{}", Microsocks::shared(None).port());
    let dante = format!("socks5://127.0.0.1:{}", Dante::shared().port());

    let cases = [
        (
            format!("ws://127.0.0.1:{}/", plain.port()),
            &microsocks,
            None,
        ),
        (
            format!("wss://127.0.0.1:{}/", tls.port()),
            &microsocks,
            Some(&pki),
        ),
        (format!("ws://127.0.0.1:{}/", plain.port()), &dante, None),
        (
            format!("wss://127.0.0.1:{}/", tls.port()),
            &dante,
            Some(&pki),
        ),
    ];
    for (seed, (url, proxy, pki)) in cases.into_iter().enumerate() {
        let mut easy = upgrade(&url, pki);
        easy.proxy(proxy).unwrap();
        tungstenite_round(easy, 10 + seed as u64).await;
    }
    assert_eq!(plain.accepted(), 2, "both plain upgrades reached the peer");
    assert_eq!(tls.accepted(), 2, "both TLS upgrades reached the peer");
}

/// A text frame "early", unmasked, as a server sends it.
const EARLY: &[u8] = b"\x81\x05early";

/// Connects to a peer that writes its 101 and [`EARLY`] in one write; the
/// frame must be held by the connection, and be what tungstenite reads
/// first. Then the peer echoes, to show the stream stays in step.
async fn early_frame_first(mut easy: Easy) {
    let conn = connect(&mut easy).await;
    assert_eq!(
        conn.get_ref().buffered(),
        EARLY.len(),
        "the frame came in the read that brought the 101"
    );
    let mut ws = tungstenite_over(conn).await;
    assert_eq!(next(&mut ws).await, Message::text("early"));
    ws.send(Message::text("after")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("after"));
    close(&mut ws).await;
}

#[tokio::test]
async fn a_frame_sent_with_the_101_is_the_first_message_tungstenite_sees() {
    let plain = WsPeer::start(WsBehavior::FrameWith101(EARLY.to_vec()), None);
    let url = format!("ws://127.0.0.1:{}/", plain.port());
    early_frame_first(upgrade(&url, None)).await;

    // In raw mode too.
    let mut easy = upgrade(&url, None);
    easy.ws_options(ws::RAW_MODE).unwrap();
    early_frame_first(easy).await;

    // Over TLS: the 101 and the frame in one record.
    let pki = TestPki::new();
    let tls = WsPeer::start(
        WsBehavior::FrameWith101(EARLY.to_vec()),
        Some(pki.server_config()),
    );
    let url = format!("wss://localhost:{}/", tls.port());
    early_frame_first(upgrade(&url, Some(&pki))).await;
}

#[tokio::test]
async fn after_ws_recv_took_one_frame_tungstenite_sees_the_next_one_held() {
    // Two frames with the 101: the async ws_recv decodes the first, and
    // the WebSocket session holds the second, which the raw stream must
    // give tungstenite first (and the reactor must not wait for it).
    let second = b"\x82\x03xyz";
    let peer = WsPeer::start(WsBehavior::FrameWith101([EARLY, second].concat()), None);
    let mut easy = upgrade(&format!("ws://127.0.0.1:{}/", peer.port()), None);
    let mut conn = connect(&mut easy).await;
    assert_eq!(
        recv_frame(&mut conn).await.unwrap(),
        (ws::TEXT, b"early".to_vec())
    );
    assert_eq!(conn.get_ref().buffered(), second.len(), "the held frame");
    let mut ws = tungstenite_over(conn).await;
    assert_eq!(next(&mut ws).await, Message::binary(b"xyz".to_vec()));
    ws.send(Message::text("in step")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("in step"));
    close(&mut ws).await;
}

/// Sends one whole frame (or fragment) through the async `ws_send`,
/// offering the rest until all is taken.
async fn send_frame(conn: &mut AsyncConnection, data: &[u8], flags: Flags) {
    let mut sent = 0;
    loop {
        let n = timeout(PATIENCE, conn.ws_send(&data[sent..], 0, flags))
            .await
            .expect("ws_send took too long")
            .unwrap_or_else(|e| panic!("ws_send: {e:?}"));
        sent += n;
        if sent == data.len() {
            return;
        }
        assert!(n > 0, "ws_send took nothing of {} bytes", data.len() - sent);
    }
}

/// Receives one whole frame through the async `ws_recv`: its flags
/// (without `CONT`) and payload.
async fn recv_frame(conn: &mut AsyncConnection) -> Result<(Flags, Vec<u8>), handover::Error> {
    let mut payload = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let (n, frame) = timeout(PATIENCE, conn.ws_recv(&mut buf))
            .await
            .expect("ws_recv took too long")?;
        assert_eq!(frame.offset, payload.len() as u64);
        assert_eq!(frame.len, n);
        payload.extend_from_slice(&buf[..n]);
        if frame.bytesleft == 0 {
            return Ok((frame.flags, payload));
        }
    }
}

#[tokio::test]
async fn ws_send_and_ws_recv_echo_text_and_binary_sent_in_fragments() {
    let pki = TestPki::new();
    let (_peers, urls) = echo_peers(&pki);
    for (url, pki) in urls {
        let mut easy = upgrade(&url, pki);
        let mut conn = connect(&mut easy).await;

        send_frame(&mut conn, b"hello, frames", ws::TEXT).await;
        assert_eq!(
            recv_frame(&mut conn).await.unwrap(),
            (ws::TEXT, b"hello, frames".to_vec())
        );

        // One binary message of 1 MiB in four fragments: CONT on all but
        // the last. The server reassembles it and echoes one frame.
        let blob = pattern(MIB, 21);
        let pieces: Vec<&[u8]> = blob.chunks(MIB / 4).collect();
        for (i, piece) in pieces.iter().enumerate() {
            let flags = if i + 1 < pieces.len() {
                ws::BINARY | ws::CONT
            } else {
                ws::BINARY
            };
            send_frame(&mut conn, piece, flags).await;
        }
        let (flags, back) = recv_frame(&mut conn).await.unwrap();
        assert_eq!(flags, ws::BINARY);
        assert_same(&back, &blob);

        // A frame announced whole with OFFSET, sent in parts.
        let blob = pattern(100_000, 22);
        let mut sent = 0;
        while sent < blob.len() {
            let fragsize = if sent == 0 { blob.len() as u64 } else { 0 };
            let end = (sent + 30_000).min(blob.len());
            sent += conn
                .ws_send(&blob[sent..end], fragsize, ws::BINARY | ws::OFFSET)
                .await
                .unwrap();
        }
        let (flags, back) = recv_frame(&mut conn).await.unwrap();
        assert_eq!(flags, ws::BINARY);
        assert_same(&back, &blob);
    }
}

/// A tungstenite server that, after the client's first message, pings
/// with `payload`, waits for the pong, and answers `pong:<its payload>`;
/// then reads until the client goes. Returns the pong payloads it saw.
fn pinging_peer(payload: &'static [u8]) -> (u16, JoinHandle<io::Result<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let peer = thread::spawn(move || {
        let (stream, _) = listener.accept()?;
        stream.set_read_timeout(Some(PATIENCE))?;
        stream.set_write_timeout(Some(PATIENCE))?;
        let mut ws = tungstenite::accept(stream).map_err(io::Error::other)?;
        let mut pongs = Vec::new();
        let mut pinged = false;
        loop {
            match ws.read() {
                Ok(Message::Text(_)) if !pinged => {
                    pinged = true;
                    ws.send(Message::Ping(payload.to_vec().into()))
                        .map_err(io::Error::other)?;
                }
                Ok(Message::Pong(pong)) => {
                    pongs.push(pong.to_vec());
                    let answer = format!("pong:{}", String::from_utf8_lossy(&pong));
                    ws.send(Message::text(answer)).map_err(io::Error::other)?;
                }
                Ok(_) => {}
                // The client closed, or went away: the test is over.
                Err(_) => return Ok(pongs),
            }
        }
    });
    (port, peer)
}

#[tokio::test]
async fn a_servers_ping_is_answered_while_ws_recv_waits() {
    let (port, peer) = pinging_peer(b"are you there");
    let mut easy = upgrade(&format!("ws://127.0.0.1:{port}/"), None);
    let mut conn = connect(&mut easy).await;
    send_frame(&mut conn, b"ping me", ws::TEXT).await;
    // The ping arrives while ws_recv waits: it answers it and goes on
    // waiting; what it returns is the server's text, sent after the pong.
    assert_eq!(
        recv_frame(&mut conn).await.unwrap(),
        (ws::TEXT, b"pong:are you there".to_vec())
    );
    drop(conn);
    let pongs = peer.join().unwrap().unwrap();
    assert_eq!(pongs, vec![b"are you there".to_vec()]);

    // With NOAUTOPONG the ping is handed over, and the pong is ours to send.
    let (port, peer) = pinging_peer(b"manual");
    let mut easy = upgrade(&format!("ws://127.0.0.1:{port}/"), None);
    easy.ws_options(ws::NOAUTOPONG).unwrap();
    let mut conn = connect(&mut easy).await;
    send_frame(&mut conn, b"ping me", ws::TEXT).await;
    assert_eq!(
        recv_frame(&mut conn).await.unwrap(),
        (ws::PING, b"manual".to_vec())
    );
    send_frame(&mut conn, b"manual", ws::PONG).await;
    assert_eq!(
        recv_frame(&mut conn).await.unwrap(),
        (ws::TEXT, b"pong:manual".to_vec())
    );
    drop(conn);
    assert_eq!(peer.join().unwrap().unwrap(), vec![b"manual".to_vec()]);
}

#[tokio::test]
async fn ws_send_close_gets_the_peers_close_and_then_got_nothing() {
    let pki = TestPki::new();
    let (_peers, urls) = echo_peers(&pki);
    for (url, pki) in urls {
        let mut easy = upgrade(&url, pki);
        let mut conn = connect(&mut easy).await;
        send_frame(&mut conn, b"\x03\xe8bye", ws::CLOSE).await;
        let (flags, payload) = recv_frame(&mut conn).await.unwrap();
        assert_eq!(flags, ws::CLOSE);
        assert_eq!(&payload[..2], &[0x03, 0xe8], "the server answers 1000");
        // The server ends the connection after the handshake.
        let err = recv_frame(&mut conn).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::GotNothing, "{err}");
        assert_eq!(err.code(), 52);
    }
}

#[tokio::test]
async fn tungstenite_sees_the_servers_messages_then_its_close() {
    let peer = WsPeer::start(
        WsBehavior::SendThenClose(vec![
            Message::text("first"),
            Message::binary(vec![1u8, 2, 3]),
        ]),
        None,
    );
    let mut easy = upgrade(&format!("ws://127.0.0.1:{}/", peer.port()), None);
    let conn = connect(&mut easy).await;
    let mut ws = tungstenite_over(conn).await;
    assert_eq!(next(&mut ws).await, Message::text("first"));
    assert_eq!(next(&mut ws).await, Message::binary(vec![1u8, 2, 3]));
    assert_eq!(next(&mut ws).await, Message::Close(None));
    // tungstenite answered the close; the server ends the connection.
    let end = timeout(PATIENCE, ws.next()).await.expect("no end in time");
    assert!(end.is_none(), "after the close handshake: {end:?}");
}
