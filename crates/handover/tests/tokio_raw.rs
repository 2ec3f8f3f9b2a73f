//! The async face on raw connections: `Easy::connect_async` to in-process
//! rustls and TCP echo peers, byte-exact transfers of 1 MiB and odd sizes
//! through `AsyncRead`/`AsyncWrite`, close_notify and FIN on shutdown, the
//! orderly close read as `Ok(0)`, unwrapping to a tokio `TcpStream`, both
//! runtime flavours, and the same error codes the blocking face gives.

mod common;

use std::time::Duration;

use common::pattern;
use handover::tokio::AsyncConnection;
use handover::{ConnectOnly, Easy, ErrorKind};
use handover_test_support::peers::{assert_same, Behavior, TcpPeer, TestPki, TlsPeer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MIB: usize = 1024 * 1024;

fn connect_only(url: &str) -> Easy {
    let mut easy = Easy::new();
    easy.url(url).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.connect_timeout(Duration::from_secs(20)).unwrap();
    easy
}

fn tls_easy(pki: &TestPki, peer: &TlsPeer) -> Easy {
    let mut easy = connect_only(&format!("https://localhost:{}/", peer.port()));
    easy.cainfo_blob(pki.ca_pem.as_bytes()).unwrap();
    easy
}

/// Writes `data` while reading the echo, then shuts the sending side
/// down and reads to the end: what comes back must be `data`, and the end
/// must be an orderly one (`Ok(0)`).
async fn echo_through(conn: AsyncConnection, data: &[u8]) -> Vec<u8> {
    let (mut reader, mut writer) = tokio::io::split(conn);
    let sending = async {
        // Odd-sized writes, so TLS records and socket writes split anywhere.
        for chunk in data.chunks(7919) {
            writer.write_all(chunk).await.unwrap();
        }
        writer.shutdown().await.unwrap();
    };
    let receiving = async {
        let mut back = Vec::with_capacity(data.len());
        reader.read_to_end(&mut back).await.unwrap();
        back
    };
    let ((), back) = tokio::join!(sending, receiving);
    back
}

#[tokio::test(flavor = "current_thread")]
async fn tls_echo_of_a_mebibyte_and_odd_sizes_ends_in_order_on_current_thread() {
    let pki = TestPki::new();
    let peer = TlsPeer::start(pki.server_config(), Behavior::Echo);
    for len in [1, 1023, 16 * 1024 + 1, MIB + 17] {
        let mut easy = tls_easy(&pki, &peer);
        let conn = easy.connect_async().await.unwrap();
        assert!(!conn.is_plain());
        assert!(easy.info().appconnect_time() > Duration::ZERO);
        let data = pattern(len, len as u64);
        // The echo peer closes only after our close_notify and FIN: the
        // end read here proves shutdown sent both.
        assert_same(&echo_through(conn, &data).await, &data);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_echo_on_the_multi_thread_runtime_from_spawned_tasks() {
    let peer = TcpPeer::start(Behavior::Echo);
    let url = format!("telnet://127.0.0.1:{}", peer.port());
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let url = url.clone();
            tokio::spawn(async move {
                let mut easy = connect_only(&url);
                let conn = easy.connect_async().await.unwrap();
                let data = pattern(MIB / 4 + i, i as u64);
                assert_same(&echo_through(conn, &data).await, &data);
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test]
async fn a_plain_connection_unwraps_to_a_tokio_tcp_stream() {
    let peer = TcpPeer::start(Behavior::Echo);
    let mut easy = connect_only(&format!("telnet://127.0.0.1:{}", peer.port()));
    let conn = easy.connect_async().await.unwrap();
    assert!(conn.is_plain());
    let mut stream = conn.into_tcp_stream().ok().unwrap().unwrap();
    stream.write_all(b"ping").await.unwrap();
    let mut back = [0u8; 4];
    stream.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"ping");

    // TLS on it: the connection comes back.
    let pki = TestPki::new();
    let tls = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let conn = tls_easy(&pki, &tls).connect_async().await.unwrap();
    let mut conn = conn.into_tcp_stream().err().unwrap();
    conn.write_all(b"still TLS").await.unwrap();
    let mut back = [0u8; 9];
    conn.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"still TLS");
}

#[tokio::test]
async fn the_peers_orderly_close_reads_as_zero_every_time() {
    let pki = TestPki::new();
    let peer = TlsPeer::start(pki.server_config(), Behavior::CloseAfter(b"bye".to_vec()));
    let mut conn = tls_easy(&pki, &peer).connect_async().await.unwrap();
    let mut got = Vec::new();
    conn.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"bye");
    let mut buf = [0u8; 8];
    assert_eq!(conn.read(&mut buf).await.unwrap(), 0);
    assert_eq!(conn.read(&mut buf).await.unwrap(), 0);
}

#[tokio::test]
async fn a_close_without_close_notify_is_unexpected_eof_carrying_the_library_error() {
    let pki = TestPki::new();
    let peer = TlsPeer::without_close_notify(
        pki.server_config(),
        Behavior::CloseAfter(b"partial".to_vec()),
    );
    let mut conn = tls_easy(&pki, &peer).connect_async().await.unwrap();
    let mut got = Vec::new();
    let err = conn.read_to_end(&mut got).await.unwrap_err();
    assert_eq!(got, b"partial", "what came before the truncation is read");
    // tokio-rustls' kind for a truncation, so code written for it works.
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
    let inner = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<handover::Error>())
        .expect("the library error inside");
    assert_eq!(inner.code(), 56);
    assert!(inner.to_string().contains("close_notify"), "{inner}");
}

/// The blocking face's error for `easy`, and then the async face's.
async fn both_faces(easy: impl Fn() -> Easy) -> (handover::Error, handover::Error) {
    let blocking = tokio::task::spawn_blocking({
        let mut e = easy();
        move || e.perform().unwrap_err()
    })
    .await
    .unwrap();
    let asynchronous = easy().perform_async().await.unwrap_err();
    (blocking, asynchronous)
}

#[tokio::test]
async fn failures_carry_the_codes_the_blocking_face_gives() {
    // Refused: 7.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (b, a) = both_faces(|| connect_only(&format!("telnet://127.0.0.1:{port}"))).await;
    assert_eq!(b.kind(), ErrorKind::CouldntConnect);
    assert_eq!(a.kind(), b.kind());
    assert_eq!(a.to_string(), b.to_string());

    // Unresolvable: 6.
    let (b, a) = both_faces(|| connect_only("telnet://no-such-host.invalid:7")).await;
    assert_eq!(b.kind(), ErrorKind::CouldntResolveHost);
    assert_eq!(a.kind(), b.kind());

    // Untrusted certificate: 60.
    let pki = TestPki::new();
    let peer = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let url = format!("https://localhost:{}/", peer.port());
    let (b, a) = both_faces(|| connect_only(&url)).await;
    assert_eq!(b.kind(), ErrorKind::PeerFailedVerification);
    assert_eq!(a.kind(), b.kind());
    assert_eq!(a.to_string(), b.to_string());
}

#[tokio::test(flavor = "current_thread")]
async fn perform_async_outside_a_runtime_context_is_an_error_not_a_panic() {
    // Inside the runtime it works; the check is for a future polled by a
    // foreign executor, which has no tokio context.
    let peer = TcpPeer::start(Behavior::Echo);
    let url = format!("telnet://127.0.0.1:{}", peer.port());
    let err = std::thread::spawn(move || {
        let mut easy = connect_only(&url);
        futures_executor_block_on(easy.perform_async()).unwrap_err()
    })
    .join()
    .unwrap();
    assert_eq!(err.kind(), ErrorKind::FailedInit);
    assert!(err.to_string().contains("tokio runtime"), "{err}");
}

/// A minimal executor without any tokio context.
fn futures_executor_block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[tokio::test]
async fn bytes_glued_to_the_connect_reply_are_read_first() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let proxy = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap() == 1 {
            head.push(byte[0]);
        }
        // The reply and the server's greeting in one write.
        s.write_all(b"HTTP/1.1 200 Connection established\r\n\r\nSSH-2.0-Early\r\n")
            .unwrap();
        let _ = s.read(&mut byte); // until the client closes
        String::from_utf8(head).unwrap()
    });
    let mut easy = connect_only("telnet://target.test:22");
    easy.proxy(&format!("http://127.0.0.1:{port}")).unwrap();
    let mut conn = easy.connect_async().await.unwrap();
    assert!(conn.get_ref().buffered() > 0, "the early bytes are held");
    let mut greeting = [0u8; 15];
    conn.read_exact(&mut greeting).await.unwrap();
    assert_eq!(&greeting, b"SSH-2.0-Early\r\n");
    drop(conn);
    let head = proxy.join().unwrap();
    assert!(
        head.starts_with("CONNECT target.test:22 HTTP/1.1\r\n"),
        "{head}"
    );
}

#[tokio::test]
async fn proxy_refusals_carry_the_codes_and_details_the_blocking_face_gives() {
    use handover_test_support::real_peers::{Microsocks, Squid, SquidAuth};
    let target = TcpPeer::start(Behavior::Echo);
    let url = format!("telnet://127.0.0.1:{}", target.port());

    // squid with Basic, a wrong password: 7, with the 407 in the message.
    let squid = tokio::task::spawn_blocking(|| {
        Squid::start(SquidAuth::Basic {
            user: "alice".into(),
            password: "wonderland".into(),
        })
    })
    .await
    .unwrap();
    let proxy = format!("http://alice:wrong@127.0.0.1:{}", squid.port());
    let (b, a) = both_faces(|| {
        let mut easy = connect_only(&url);
        easy.proxy(&proxy).unwrap();
        easy
    })
    .await;
    assert_eq!(b.kind(), ErrorKind::CouldntConnect, "{b}");
    assert_eq!(a.kind(), b.kind());
    assert_eq!(a.to_string(), b.to_string());
    assert!(a.to_string().contains("407"), "{a}");

    // microsocks with a password, a wrong one: 97 with the SOCKS detail.
    let socks = tokio::task::spawn_blocking(|| Microsocks::start(Some(("carol", "s0cks"))))
        .await
        .unwrap();
    let proxy = format!("socks5://carol:wrong@127.0.0.1:{}", socks.port());
    let (b, a) = both_faces(|| {
        let mut easy = connect_only(&url);
        easy.proxy(&proxy).unwrap();
        easy
    })
    .await;
    assert_eq!(b.kind(), ErrorKind::Proxy, "{b}");
    assert_eq!(a.kind(), b.kind());
    assert_eq!(a.to_string(), b.to_string());
    drop(squid);
    drop(socks);
}

#[tokio::test]
async fn connect_async_without_connect_only_says_so_before_connecting() {
    let peer = TcpPeer::start(Behavior::Echo);
    let mut easy = Easy::new();
    easy.url(&format!("telnet://127.0.0.1:{}", peer.port()))
        .unwrap();
    let err = easy.connect_async().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedProtocol);
    assert!(err.to_string().contains("connect_only"), "{err}");
    assert_eq!(peer.accepted(), 0, "nothing was connected");
}
