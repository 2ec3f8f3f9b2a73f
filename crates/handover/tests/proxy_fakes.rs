//! Proxies scripted in-process, for what real proxies cannot be made to do:
//! tunnel bytes glued to the 200, a reply in single bytes, a close after
//! 407, NTLM, a header that never ends, hostile SOCKS replies.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use common::{capture_verbose, echo, pattern, recv_exact};
use handover::{Auth, ConnectOnly, Easy, ErrorKind};
use handover_test_support::peers::{assert_same, drain, Behavior, TcpPeer};

/// A fake proxy: runs `script(stream, connection_index)` for each
/// connection it accepts, on its own thread.
struct FakeProxy {
    port: u16,
    accepted: Arc<AtomicUsize>,
    _thread: JoinHandle<()>,
}

impl FakeProxy {
    fn start<F>(script: F) -> FakeProxy
    where
        F: Fn(TcpStream, usize) + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let script = Arc::new(script);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                stream
                    .set_read_timeout(Some(Duration::from_secs(20)))
                    .unwrap();
                let index = count.fetch_add(1, Ordering::SeqCst);
                let script = script.clone();
                std::thread::spawn(move || script(stream, index));
            }
        });
        FakeProxy {
            port,
            accepted,
            _thread: thread,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Reads one request head (up to the blank line), byte by byte so nothing
/// after it is taken.
fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Copies bytes both ways between the client and `target` until either ends.
fn splice(client: TcpStream, target_port: u16) {
    let target = TcpStream::connect(("127.0.0.1", target_port)).unwrap();
    let (mut c2, mut t2) = (client.try_clone().unwrap(), target.try_clone().unwrap());
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c2, &mut t2);
        let _ = t2.shutdown(std::net::Shutdown::Write);
    });
    let (mut t, mut c) = (target, client);
    let _ = std::io::copy(&mut t, &mut c);
    let _ = c.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
}

fn via_proxy(proxy: &str, target: &str) -> Easy {
    let mut easy = Easy::new();
    easy.url(target).unwrap();
    easy.proxy(proxy).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.connect_timeout(Duration::from_secs(10)).unwrap();
    easy
}

#[test]
fn tunnel_bytes_after_200_are_the_first_bytes_received() {
    let proxy = FakeProxy::start(|mut s, _| {
        let head = read_head(&mut s);
        assert!(
            head.starts_with("CONNECT target.test:22 HTTP/1.1\r\n"),
            "{head}"
        );
        s.write_all(b"HTTP/1.1 200 Connection established\r\n\r\nSSH-2.0-FakeServer\r\n")
            .unwrap();
        // Hold the tunnel open until the client closes it.
        let _ = drain(&mut s);
    });
    let mut easy = via_proxy(&proxy.url(), "telnet://target.test:22");
    easy.perform().unwrap();
    assert!(
        easy.recv_buffered() > 0,
        "the early bytes are held and visible"
    );
    assert_eq!(recv_exact(&mut easy, 20), b"SSH-2.0-FakeServer\r\n");
    assert_eq!(easy.http_connectcode().unwrap(), 200);
    assert!(easy.info().used_proxy());
    assert_eq!(easy.info().primary_addr().unwrap().port(), proxy.port);
}

#[test]
fn a_reply_in_single_bytes_is_parsed_and_the_tunnel_works() {
    let target = TcpPeer::start(Behavior::Echo);
    let port = target.port();
    let proxy = FakeProxy::start(move |mut s, _| {
        read_head(&mut s);
        s.set_nodelay(true).unwrap();
        for b in b"HTTP/1.1 200 OK\r\nX-Slow: yes\r\n\r\n" {
            s.write_all(&[*b]).unwrap();
            // A slow proxy on purpose: each byte arrives on its own.
            std::thread::sleep(Duration::from_millis(2));
        }
        splice(s, port);
    });
    let mut easy = via_proxy(&proxy.url(), &format!("telnet://127.0.0.1:{port}"));
    easy.perform().unwrap();
    let data = pattern(100_000, 21);
    assert_same(&echo(&mut easy, &data), &data);
}

#[test]
fn a_proxy_that_closes_after_407_gets_a_new_connection_with_the_credentials() {
    let target = TcpPeer::start(Behavior::Echo);
    let port = target.port();
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    let proxy = FakeProxy::start(move |mut s, index| {
        let head = read_head(&mut s);
        log.lock().unwrap().push(head.clone());
        if index == 0 {
            s.write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                  Proxy-Authenticate: Basic realm=\"fake\"\r\nConnection: close\r\n\r\n",
            )
            .unwrap();
            return;
        }
        if header(&head, "Proxy-Authorization") == Some("Basic YWxpY2U6c2VjcmV0") {
            s.write_all(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
            splice(s, port);
        } else {
            s.write_all(b"HTTP/1.1 403 Forbidden\r\n\r\n").unwrap();
        }
    });
    let mut easy = via_proxy(&proxy.url(), &format!("telnet://127.0.0.1:{port}"));
    easy.proxy_username("alice").unwrap();
    easy.proxy_password("secret").unwrap();
    easy.proxy_auth(&Auth::any()).unwrap();
    easy.perform().unwrap();
    let heads = seen.lock().unwrap().clone();
    assert_eq!(heads.len(), 2, "{heads:?}");
    assert_eq!(header(&heads[0], "Proxy-Authorization"), None);
    let info = easy.info();
    assert_eq!(info.num_connects(), 2);
    assert_eq!(info.http_connectcode(), 200);
    assert_eq!(info.proxyauth_avail(), 1, "Basic offered");
    assert_eq!(info.proxyauth_used(), 1, "Basic used");
    let data = pattern(5000, 22);
    assert_same(&echo(&mut easy, &data), &data);
}

#[test]
fn ntlm_authenticates_the_connection_in_three_legs() {
    let target = TcpPeer::start(Behavior::Echo);
    let port = target.port();
    let proxy = FakeProxy::start(move |mut s, _| {
        handover_test_support::peers::ntlm_server_legs(
            &mut s,
            "407 Proxy Authentication Required",
            "Proxy-Authenticate",
            "Proxy-Authorization",
            "alice",
        );
        s.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .unwrap();
        splice(s, port);
    });
    let mut easy = via_proxy(&proxy.url(), &format!("telnet://127.0.0.1:{port}"));
    easy.proxy_username("DOM\\alice").unwrap();
    easy.proxy_password("secret").unwrap();
    easy.proxy_auth(Auth::new().ntlm(true)).unwrap();
    easy.perform().unwrap();
    assert_eq!(proxy.accepted.load(Ordering::SeqCst), 1, "one connection");
    assert_eq!(easy.info().proxyauth_used(), 8);
    let data = pattern(3000, 23);
    assert_same(&echo(&mut easy, &data), &data);
}

#[test]
fn a_never_ending_header_fails_instead_of_hanging() {
    let proxy = FakeProxy::start(|mut s, _| {
        read_head(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\n");
        let line = [b"X-Endless: ".as_slice(), &[b'a'; 200], b"\r\n"].concat();
        while s.write_all(&line).is_ok() {}
    });
    let mut easy = via_proxy(&proxy.url(), "telnet://target.test:23");
    let err = easy.perform().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WeirdServerReply, "{err}");
}

#[test]
fn a_407_without_credentials_says_so() {
    let proxy = FakeProxy::start(|mut s, _| {
        read_head(&mut s);
        let _ = s.write_all(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n\
              Proxy-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\nContent-Length: 0\r\n\r\n",
        );
    });
    let mut easy = via_proxy(&proxy.url(), "telnet://target.test:23");
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 7, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("407") && msg.contains("no proxy credentials"),
        "{msg}"
    );
    assert!(msg.contains(&format!("127.0.0.1:{}", proxy.port)), "{msg}");
    assert_eq!(easy.http_connectcode().unwrap(), 407);
    assert_eq!(easy.info().proxyauth_avail(), 2, "Digest offered");
    assert_eq!(easy.active_socket(), None);
}

#[test]
fn control_characters_in_credentials_send_nothing() {
    // Every connection reports its index and all it received, once closed.
    let (report_tx, reports) = mpsc::channel();
    let report_tx = Mutex::new(report_tx);
    let proxy = FakeProxy::start(move |mut s, index| {
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let _ = report_tx.lock().unwrap().send((index, buf));
    });
    let mut easy = via_proxy(&proxy.url(), "telnet://target.test:23");
    easy.proxy_username("alice").unwrap();
    easy.proxy_password("pass\r\nX-Injected: yes").unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 43, "{err}");
    drop(easy);
    // A connection of our own after the client's: connections are accepted
    // in order, so its index is the number the client made.
    const MARKER: &[u8] = b"the test's own connection";
    let mut marker = TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
    marker.write_all(MARKER).unwrap();
    drop(marker);
    let mut received = Vec::new();
    let mut clients = None;
    while clients.is_none_or(|n| received.len() < n) {
        let (index, bytes) = reports
            .recv_timeout(Duration::from_secs(10))
            .expect("every connection reports");
        if bytes == MARKER {
            clients = Some(index);
        } else {
            received.push(bytes);
        }
    }
    assert!(
        received.iter().all(Vec::is_empty),
        "nothing reached the proxy: {received:?}"
    );
}

#[test]
fn verbose_shows_the_connect_exchange_but_never_the_password() {
    let target = TcpPeer::start(Behavior::Echo);
    let port = target.port();
    let proxy = FakeProxy::start(move |mut s, _| {
        read_head(&mut s);
        s.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .unwrap();
        splice(s, port);
    });
    let mut easy = via_proxy(&proxy.url(), &format!("telnet://127.0.0.1:{port}"));
    easy.proxy_username("alice").unwrap();
    easy.proxy_password("Sup3rSecret").unwrap();
    let lines = capture_verbose(&mut easy);
    easy.perform().unwrap();
    let text = lines.lock().unwrap().clone();
    assert!(
        text.contains(&format!("> CONNECT 127.0.0.1:{port} HTTP/1.1")),
        "{text}"
    );
    assert!(
        text.contains("< HTTP/1.1 200 Connection established"),
        "{text}"
    );
    assert!(
        text.contains("Proxy-Authorization: Basic <hidden> (user \"alice\")"),
        "{text}"
    );
    assert!(!text.contains("Sup3rSecret"), "{text}");
    assert!(!text.contains("YWxpY2U6"), "{text}");
}

#[test]
fn http_without_a_tunnel_connects_to_the_proxy_itself() {
    let (head_tx, heads) = mpsc::channel();
    let head_tx = Mutex::new(head_tx);
    let proxy = FakeProxy::start(move |mut s, _| {
        let _ = head_tx.lock().unwrap().send(read_head(&mut s));
    });
    let mut easy = via_proxy(&proxy.url(), "http://target.test/");
    easy.perform().unwrap();
    assert_eq!(easy.info().primary_addr().unwrap().port(), proxy.port);
    assert_eq!(easy.http_connectcode().unwrap(), 0, "no CONNECT was sent");
    // The application talks to the proxy: an absolute-form request.
    easy.send(b"GET http://target.test/ HTTP/1.1\r\n\r\n")
        .unwrap();
    let head = heads.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(head.starts_with("GET http://target.test/"), "{head}");

    // With the tunnel forced, CONNECT goes out.
    let proxy = FakeProxy::start(|mut s, _| {
        let head = read_head(&mut s);
        assert!(head.starts_with("CONNECT target.test:80 "), "{head}");
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\n\r\n");
        // Hold the tunnel open until the client closes it.
        let _ = drain(&mut s);
    });
    let mut easy = via_proxy(&proxy.url(), "http://target.test/");
    easy.http_proxy_tunnel(true).unwrap();
    easy.perform().unwrap();
    assert_eq!(easy.http_connectcode().unwrap(), 200);
}

/// A fake SOCKS5 server that answers the greeting, then replies `reply` to
/// the request.
fn socks5_replying(reply: &'static [u8]) -> FakeProxy {
    FakeProxy::start(move |mut s, _| {
        let mut greeting = [0u8; 3];
        let _ = s.read_exact(&mut greeting);
        let _ = s.write_all(&[5, 0]);
        let mut request = [0u8; 10];
        let _ = s.read_exact(&mut request);
        let _ = s.write_all(reply);
        // Close only after the client: it must meet the reply, not an EOF.
        let _ = drain(&mut s);
    })
}

#[test]
fn hostile_socks_replies_are_proxy_errors_with_the_detail() {
    let cases: &[(&[u8], u32)] = &[
        // Connection refused by the destination: CURLPX_REPLY_CONNECTION_REFUSED.
        (&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0], 19),
        // Unknown address type in the reply: CURLPX_BAD_ADDRESS_TYPE.
        (&[5, 0, 0, 9, 1, 2, 3, 4, 0, 0], 1),
        // Wrong version: CURLPX_BAD_VERSION.
        (&[4, 0, 0, 1, 0, 0, 0, 0, 0, 0], 2),
    ];
    for (reply, detail) in cases {
        let proxy = socks5_replying(reply);
        let mut easy = via_proxy(
            &format!("socks5://127.0.0.1:{}", proxy.port),
            "telnet://127.0.0.1:9",
        );
        let err = easy.perform().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Proxy, "{err}");
        assert_eq!(err.code(), 97);
        assert_eq!(easy.info().proxy_error(), *detail, "{err}");
        assert!(err.to_string().contains(&proxy.port.to_string()), "{err}");
    }
    // A proxy that hangs up mid-handshake.
    let proxy = FakeProxy::start(|mut s, _| {
        let mut greeting = [0u8; 3];
        let _ = s.read_exact(&mut greeting);
    });
    let mut easy = via_proxy(
        &format!("socks5h://127.0.0.1:{}", proxy.port),
        "telnet://somewhere.test:9",
    );
    assert_eq!(easy.perform().unwrap_err().code(), 97);
}

/// A connection reset (not an orderly close) while the handshake waits for
/// the proxy is a proxy error with libcurl's receive detail, not a bare
/// receive error (56).
#[test]
fn a_socks5_reset_mid_handshake_is_97_with_the_receive_detail() {
    // Reset after the greeting (awaiting the method reply: CURLPX_RECV_CONNECT)
    // and after the request (awaiting the reply: CURLPX_RECV_REQACK).
    for (after_request, detail) in [(false, 15), (true, 16)] {
        let proxy = FakeProxy::start(move |mut s, _| {
            let mut greeting = [0u8; 3];
            let _ = s.read_exact(&mut greeting);
            if after_request {
                let _ = s.write_all(&[5, 0]);
                let mut request = [0u8; 10];
                let _ = s.read_exact(&mut request);
            }
            // SO_LINGER 0: close sends RST.
            let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
        });
        let mut easy = via_proxy(
            &format!("socks5://127.0.0.1:{}", proxy.port),
            "telnet://127.0.0.1:9",
        );
        let err = easy.perform().unwrap_err();
        assert_eq!(err.code(), 97, "{err}");
        assert_eq!(easy.info().proxy_error(), detail, "{err}");
        assert!(err.message().contains("SOCKS5: failed receiving"), "{err}");
        assert!(err.message().contains(&proxy.port.to_string()), "{err}");
    }
}

#[test]
fn socks4a_sends_the_name_for_the_proxy_to_resolve() {
    let target = TcpPeer::start(Behavior::Echo);
    let port = target.port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let proxy = FakeProxy::start(move |mut s, _| {
        // 04 01 port(2) 0.0.0.1 userid 00 host 00
        let mut request = Vec::new();
        let mut byte = [0u8; 1];
        let mut zeros = 0;
        while zeros < 2 && s.read(&mut byte).unwrap_or(0) == 1 {
            request.push(byte[0]);
            if request.len() > 8 && byte[0] == 0 {
                zeros += 1;
            }
        }
        log.lock().unwrap().extend_from_slice(&request);
        s.write_all(&[0, 0x5a, 0, 0, 0, 0, 0, 0]).unwrap();
        splice(s, port);
    });
    let mut easy = via_proxy(
        &format!("socks4a://ident@127.0.0.1:{}", proxy.port),
        &format!("telnet://target.test:{port}"),
    );
    easy.perform().unwrap();
    let mut want = vec![4, 1];
    want.extend_from_slice(&port.to_be_bytes());
    want.extend_from_slice(&[0, 0, 0, 1]);
    want.extend_from_slice(b"ident\0target.test\0");
    assert_same(&seen.lock().unwrap(), &want);
    let data = pattern(10_000, 24);
    assert_same(&echo(&mut easy, &data), &data);
}

/// Answers every request head on `s` with a small kept-alive 200 — inside
/// a tunnel after answering a CONNECT too — and reports each request line
/// with the connection's index.
fn keep_alive_proxy(report: mpsc::Sender<(usize, String)>) -> FakeProxy {
    let report = Mutex::new(report);
    FakeProxy::start(move |mut s, index| loop {
        let head = read_head(&mut s);
        let Some(line) = head.lines().next().filter(|l| !l.is_empty()) else {
            return;
        };
        let _ = report.lock().unwrap().send((index, line.to_owned()));
        let answer: &[u8] = if line.starts_with("CONNECT ") {
            b"HTTP/1.1 200 Connection established\r\n\r\n"
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"
        };
        if s.write_all(answer).is_err() {
            return;
        }
    })
}

/// curl's test 1421: requests forwarded by an HTTP proxy (no tunnel) to
/// different origins share the proxy connection; through a CONNECT tunnel
/// each origin has a connection of its own.
#[test]
fn a_forwarding_proxy_connection_serves_every_origin_a_tunnel_one() {
    let (tx, lines) = mpsc::channel();
    let proxy = keep_alive_proxy(tx);
    let mut easy = Easy::new();
    easy.proxy(&proxy.url()).unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    let _body = common::collect_body(&mut easy);
    let run = |easy: &mut Easy, url: &str| {
        easy.url(url).unwrap();
        easy.perform().unwrap();
        lines.recv_timeout(Duration::from_secs(10)).unwrap()
    };
    let forwarded = [
        run(&mut easy, "http://one.test:8990/"),
        run(&mut easy, "http://two.test:8990/"),
        run(&mut easy, "http://one.test/x"),
    ];
    assert_eq!(
        forwarded,
        [
            (0, "GET http://one.test:8990/ HTTP/1.1".to_owned()),
            (0, "GET http://two.test:8990/ HTTP/1.1".to_owned()),
            (0, "GET http://one.test/x HTTP/1.1".to_owned()),
        ]
    );
    assert_eq!(proxy.accepted.load(Ordering::SeqCst), 1);

    // Tunnelled: the CONNECT names the origin, so does the connection.
    easy.http_proxy_tunnel(true).unwrap();
    let mut tunnelled = |url: &str| {
        let connect = run(&mut easy, url);
        (
            connect,
            lines.recv_timeout(Duration::from_secs(10)).unwrap(),
        )
    };
    let (one, get) = tunnelled("http://one.test:8990/");
    assert_eq!(one, (1, "CONNECT one.test:8990 HTTP/1.1".to_owned()));
    assert_eq!(get, (1, "GET / HTTP/1.1".to_owned()));
    let (two, _) = tunnelled("http://two.test:8990/");
    assert_eq!(two, (2, "CONNECT two.test:8990 HTTP/1.1".to_owned()));
    // Back to the first origin: its tunnel is taken again, no CONNECT.
    easy.url("http://one.test:8990/again").unwrap();
    easy.perform().unwrap();
    let again = lines.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(again, (1, "GET /again HTTP/1.1".to_owned()));
    assert_eq!(proxy.accepted.load(Ordering::SeqCst), 3);
}
