//! Options that change where and how the socket connects: `port` (the
//! URL's port replaced, in the effective URL and `Host` too),
//! `tcp_keepcnt` with keep-alive, `dns_shuffle_addresses`, and
//! `address_scope` on an IPv6 link-local address.

mod common;

use common::capture_verbose;
use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use handover::{ConnectOnly, Easy, List};
use handover_test_support::capture::CaptureServer;

/// A port nothing listens on.
fn refused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn port_replaces_the_urls_port_in_the_connect_and_the_host_header() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap() == 1 {
            head.push(byte[0]);
        }
        s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
        String::from_utf8(head).unwrap()
    });
    let mut easy = Easy::new();
    let refused = refused_port();
    easy.url(&format!("http://127.0.0.1:{refused}/x")).unwrap();
    easy.port(port).unwrap();
    easy.connect_only(ConnectOnly::Headers).unwrap();
    easy.timeout(Duration::from_secs(10)).unwrap();
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 204);
    assert_eq!(easy.primary_port().unwrap(), port);
    // libcurl leaves the effective URL as given.
    assert_eq!(
        easy.effective_url().unwrap(),
        Some(format!("http://127.0.0.1:{refused}/x").as_str())
    );
    let head = server.join().unwrap();
    assert!(
        head.contains(&format!("\r\nHost: 127.0.0.1:{port}\r\n")),
        "{head}"
    );
    // 0 goes back to the URL's port: refused there.
    easy.port(0).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 7, "{err}");
}

#[test]
fn keep_alive_probes_get_the_count_idle_and_interval_given() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut easy = Easy::new();
    easy.url(&format!("telnet://127.0.0.1:{port}")).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.tcp_keepalive(true).unwrap();
    easy.tcp_keepidle(Duration::from_secs(33)).unwrap();
    easy.tcp_keepintvl(Duration::from_secs(7)).unwrap();
    easy.tcp_keepcnt(5).unwrap();
    easy.perform().unwrap();
    let conn = easy.take_connection().unwrap();
    let socket = socket2::SockRef::from(&conn);
    assert!(socket.keepalive().unwrap());
    assert_eq!(socket.tcp_keepalive_retries().unwrap(), 5);
    assert_eq!(
        socket.tcp_keepalive_time().unwrap(),
        Duration::from_secs(33)
    );
    assert_eq!(
        socket.tcp_keepalive_interval().unwrap(),
        Duration::from_secs(7)
    );
    assert!(easy.tcp_keepcnt(0).is_err(), "libcurl's minimum is 1");
}

/// The order the verbose output lists a name's IPv4 addresses in.
fn resolved_order(verbose: &str) -> String {
    verbose
        .lines()
        .find_map(|l| l.strip_prefix("* IPv4: "))
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn dns_shuffle_addresses_randomises_the_order_the_addresses_are_tried_in() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Eight loopback addresses; only 127.0.0.1 listens, the others refuse.
    let addrs: Vec<String> = (1..=8).map(|i| format!("127.0.0.{i}")).collect();
    let mut resolve = List::new();
    resolve
        .append(&format!("shuffle.test:{port}:{}", addrs.join(",")))
        .unwrap();
    let orders = |shuffle: bool| {
        let mut seen = HashSet::new();
        for _ in 0..6 {
            let mut easy = Easy::new();
            easy.url(&format!("telnet://shuffle.test:{port}")).unwrap();
            easy.resolve(resolve.clone()).unwrap();
            easy.connect_only(ConnectOnly::Connection).unwrap();
            easy.dns_shuffle_addresses(shuffle).unwrap();
            let verbose = capture_verbose(&mut easy);
            easy.perform().unwrap();
            assert_eq!(
                easy.primary_ip().unwrap().as_deref(),
                Some("127.0.0.1"),
                "whatever the order, the listening one wins"
            );
            seen.insert(resolved_order(&verbose.lock().unwrap()));
        }
        seen
    };
    let plain = orders(false);
    assert_eq!(plain.len(), 1, "{plain:?}");
    assert!(plain.contains(&addrs.join(", ")), "{plain:?}");
    // Six shuffles of eight addresses all alike: chance 1 in 40320^5.
    let shuffled = orders(true);
    assert!(shuffled.len() > 1, "{shuffled:?}");
}

#[test]
fn address_scope_is_given_to_an_ipv6_link_local_address() {
    // No interface 4242 exists and the loopback has no link-local address:
    // the connect fails either way (nothing leaves the machine), and the
    // message names the address as it was given to connect(2).
    let port = refused_port();
    let mut easy = Easy::new();
    easy.url(&format!("telnet://[fe80::1]:{port}")).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.connect_timeout(Duration::from_secs(5)).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 7, "{err}");
    assert!(
        err.to_string().contains(&format!("[fe80::1]:{port}")),
        "{err}"
    );
    easy.address_scope(4242).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 7, "{err}");
    assert!(
        err.to_string().contains(&format!("[fe80::1%4242]:{port}")),
        "{err}"
    );
}

#[test]
fn maxage_and_maxlifetime_decide_when_a_kept_connection_is_reused() {
    use handover_test_support::real_peers::Nginx;
    let nginx = Nginx::shared(None);
    nginx.put("reuse.txt", b"reused\n");
    let url = format!("http://127.0.0.1:{}/reuse.txt", nginx.port());
    let get = |easy: &mut Easy| {
        easy.perform().unwrap();
        easy.num_connects().unwrap()
    };
    let fresh = || {
        let mut easy = Easy::new();
        easy.url(&url).unwrap();
        easy.write_function(|d| Ok(d.len())).unwrap();
        easy
    };
    let mut easy = fresh();
    assert_eq!(get(&mut easy), 1);
    assert_eq!(get(&mut easy), 0, "reused by default");

    let mut easy = fresh();
    easy.maxage_conn(Duration::from_millis(300)).unwrap();
    assert_eq!(get(&mut easy), 1);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(get(&mut easy), 1, "idle too long");

    let mut easy = fresh();
    easy.maxlifetime_conn(Duration::from_millis(700)).unwrap();
    assert_eq!(get(&mut easy), 1);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(get(&mut easy), 0, "young enough");
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(get(&mut easy), 1, "too old since it was made");
}

/// A server answering one GET with a 1000-byte body at `per_second`
/// bytes a second (in 50 ms steps).
fn dribbling_server(per_second: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        let step = (per_second / 20).max(1);
        let mut sent = 0;
        while sent < 1000 {
            let n = step.min(1000 - sent);
            if s.write_all(&vec![b'x'; n]).is_err() {
                return;
            }
            sent += n;
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    port
}

#[test]
fn a_body_slower_than_the_low_speed_limit_for_the_low_speed_time_is_28() {
    for (per_second, fails) in [(100, true), (20_000, false)] {
        let port = dribbling_server(per_second);
        let mut easy = Easy::new();
        easy.url(&format!("http://127.0.0.1:{port}/")).unwrap();
        easy.write_function(|d| Ok(d.len())).unwrap();
        easy.low_speed_limit(500).unwrap();
        easy.low_speed_time(Duration::from_secs(2)).unwrap();
        easy.timeout(Duration::from_secs(30)).unwrap();
        let started = std::time::Instant::now();
        match easy.perform() {
            Err(e) => {
                assert!(fails, "{per_second} B/s: {e}");
                assert_eq!(e.code(), 28, "{e}");
                assert!(e.to_string().contains("Operation too slow"), "{e}");
                // About the time allowed, not the 10 s the body would take.
                assert!(started.elapsed() < Duration::from_secs(6));
            }
            Ok(()) => assert!(!fails, "{per_second} B/s finished"),
        }
    }
}

#[test]
fn max_recv_speed_paces_the_body() {
    // 30,000 bytes at 10,000 a second: about two seconds (the first
    // second's budget is spent at once), not the milliseconds they take.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 30000\r\n\r\n");
        let _ = s.write_all(&[b'x'; 30000]);
    });
    let got = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sink = got.clone();
    let mut easy = Easy::new();
    easy.url(&format!("http://127.0.0.1:{port}/")).unwrap();
    easy.write_function(move |d| {
        sink.fetch_add(d.len(), std::sync::atomic::Ordering::SeqCst);
        Ok(d.len())
    })
    .unwrap();
    easy.max_recv_speed(10_000).unwrap();
    easy.timeout(Duration::from_secs(30)).unwrap();
    let started = std::time::Instant::now();
    easy.perform().unwrap();
    let took = started.elapsed();
    assert_eq!(got.load(std::sync::atomic::Ordering::SeqCst), 30000);
    assert!(took >= Duration::from_millis(1900), "{took:?}");
    assert!(took < Duration::from_secs(6), "{took:?}");
}

#[test]
fn max_send_speed_paces_the_upload() {
    // 30,000 bytes at 10,000 a second, from the read callback and from
    // post_fields: about two seconds on the server's side (the first
    // second's budget goes at once), with every byte in order.
    let body = common::pattern(30_000, 7);
    for from_callback in [true, false] {
        let server = CaptureServer::start("204 No Content", &[]);
        let mut easy = Easy::new();
        easy.url(&format!("{}/", server.base_url())).unwrap();
        if from_callback {
            easy.post(true).unwrap();
            easy.post_field_size(body.len() as u64).unwrap();
            let source = body.clone();
            let mut at = 0;
            easy.read_function(move |buf| {
                let n = buf.len().min(source.len() - at);
                buf[..n].copy_from_slice(&source[at..at + n]);
                at += n;
                Ok(n)
            })
            .unwrap();
        } else {
            easy.post_fields_copy(&body).unwrap();
        }
        easy.max_send_speed(10_000).unwrap();
        easy.timeout(Duration::from_secs(30)).unwrap();
        easy.perform().unwrap();
        assert_eq!(easy.response_code().unwrap(), 204);
        let [request] = &server.requests()[..] else {
            panic!("one request expected");
        };
        let (got, took) = (&request.body, request.body_took);
        assert!(
            *got == body,
            "the body arrived changed (callback {from_callback})"
        );
        assert!(took >= Duration::from_millis(1900), "{took:?}");
        assert!(took < Duration::from_secs(6), "{took:?}");
    }
}

#[test]
fn upload_buffer_size_bounds_each_read_callback_call() {
    let body = common::pattern(200_000, 3);
    for (asked, most) in [
        (None, 64 * 1024),
        (Some(1), 16 * 1024),
        (Some(20_000), 20_000),
    ] {
        let server = CaptureServer::start("204 No Content", &[]);
        let mut easy = Easy::new();
        easy.url(&format!("{}/", server.base_url())).unwrap();
        easy.post(true).unwrap();
        easy.post_field_size(body.len() as u64).unwrap();
        if let Some(size) = asked {
            easy.upload_buffer_size(size).unwrap();
        }
        let largest = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = largest.clone();
        let source = body.clone();
        let mut at = 0;
        easy.read_function(move |buf| {
            seen.fetch_max(buf.len(), std::sync::atomic::Ordering::SeqCst);
            let n = buf.len().min(source.len() - at);
            buf[..n].copy_from_slice(&source[at..at + n]);
            at += n;
            Ok(n)
        })
        .unwrap();
        easy.timeout(Duration::from_secs(30)).unwrap();
        easy.perform().unwrap();
        let [request] = &server.requests()[..] else {
            panic!("one request expected");
        };
        assert!(request.body == body, "the body changed ({asked:?})");
        assert_eq!(
            largest.load(std::sync::atomic::Ordering::SeqCst),
            most,
            "{asked:?}"
        );
    }
}

#[test]
fn upkeep_closes_pooled_connections_past_their_limits() {
    // A keep-alive server that reports when the client closes: the pooled
    // connection stays open until upkeep finds it older than maxage_conn.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // Read until the client closes (0) or the wait ends (error).
        let closed = matches!(s.read(&mut buf), Ok(0));
        let _ = tx.send((closed, std::time::Instant::now()));
    });
    let mut easy = Easy::new();
    easy.url(&format!("http://127.0.0.1:{port}/")).unwrap();
    easy.write_function(|d| Ok(d.len())).unwrap();
    easy.maxage_conn(Duration::from_millis(200)).unwrap();
    easy.upkeep_interval(Duration::ZERO).unwrap();
    easy.perform().unwrap();
    // Young, and within the interval: kept.
    easy.upkeep().unwrap();
    assert!(
        rx.recv_timeout(Duration::from_millis(400)).is_err(),
        "closed too early"
    );
    // Now older than maxage_conn: closed.
    let asked = std::time::Instant::now();
    easy.upkeep().unwrap();
    let (closed, at) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(closed, "the server saw no orderly close");
    assert!(at >= asked);
}

#[test]
fn protocols_str_limits_the_schemes_a_transfer_may_use() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut easy = Easy::new();
    easy.url(&format!("http://127.0.0.1:{port}/")).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.protocols_str("https,ws").unwrap();
    let error = easy.perform().unwrap_err();
    assert_eq!(error.code(), 1, "{error}");
    assert!(error.to_string().contains("\"http\" disabled"), "{error}");
    easy.protocols_str("HTTP, https").unwrap();
    easy.perform().unwrap();
    easy.protocols_str("all").unwrap();
    easy.perform().unwrap();
    assert_eq!(easy.protocols_str("nothing-known").unwrap_err().code(), 43);
    // Refused, the list is still cleared, as libcurl's: nothing is allowed
    // (curl's test 1474, `--proto -all`).
    assert_eq!(easy.perform().unwrap_err().code(), 1);
}
