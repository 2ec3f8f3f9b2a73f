//! The application's socket functions (open, sockopt, close), the
//! pre-request function, and the connection and transfer numbers.

use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use handover::{ConnectOnly, Easy, ErrorKind, SocketPurpose, SockoptResult};
use handover_test_support::peers::{Behavior, TcpPeer};
use socket2::{Domain, Protocol, Socket, Type};

fn easy_to(port: u16) -> Easy {
    let mut easy = Easy::new();
    easy.url(&format!("telnet://127.0.0.1:{port}")).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.connect_timeout(Duration::from_secs(10)).unwrap();
    easy
}

#[derive(Default)]
struct Seen {
    opens: AtomicUsize,
    sockopts: AtomicUsize,
    closes: AtomicUsize,
    opened: AtomicI32,
    closed: AtomicI32,
}

fn install(easy: &mut Easy, seen: &Arc<Seen>, sockopt: SockoptResult) {
    let s = Arc::clone(seen);
    easy.open_socket_function(move |purpose, request| {
        assert_eq!(purpose, SocketPurpose::IpConnection);
        assert_eq!(request.family, libc::AF_INET);
        assert_eq!(request.socktype, libc::SOCK_STREAM);
        assert_eq!(request.protocol, libc::IPPROTO_TCP);
        s.opens.fetch_add(1, Ordering::SeqCst);
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).ok()?;
        s.opened.store(socket.as_raw_fd(), Ordering::SeqCst);
        Some(OwnedFd::from(socket))
    })
    .unwrap();
    let s = Arc::clone(seen);
    easy.sockopt_function(move |fd, _| {
        s.sockopts.fetch_add(1, Ordering::SeqCst);
        assert_eq!(fd.as_raw_fd(), s.opened.load(Ordering::SeqCst));
        socket2::SockRef::from(&fd).set_keepalive(true).unwrap();
        sockopt
    })
    .unwrap();
    let s = Arc::clone(seen);
    easy.close_socket_function(move |fd| {
        s.closes.fetch_add(1, Ordering::SeqCst);
        s.closed.store(fd.as_raw_fd(), Ordering::SeqCst);
    })
    .unwrap();
}

#[test]
fn the_application_opens_configures_and_closes_the_socket() {
    let server = TcpPeer::start(Behavior::Echo);
    let mut easy = easy_to(server.port());
    let seen = Arc::new(Seen::default());
    install(&mut easy, &seen, SockoptResult::Ok);
    easy.perform().unwrap();
    let fd: RawFd = easy.active_socket().unwrap();
    assert_eq!(fd, seen.opened.load(Ordering::SeqCst));
    assert_eq!(seen.opens.load(Ordering::SeqCst), 1);
    assert_eq!(seen.sockopts.load(Ordering::SeqCst), 1);
    let keepalive = socket2::SockRef::from(&easy.take_connection().unwrap())
        .keepalive()
        .unwrap();
    assert!(keepalive);
    // take_connection moved the connection out and it was dropped above.
    assert_eq!(seen.closes.load(Ordering::SeqCst), 1);
    assert_eq!(seen.closed.load(Ordering::SeqCst), fd);
}

#[test]
fn the_close_function_gets_the_socket_when_the_handle_goes() {
    let server = TcpPeer::start(Behavior::Echo);
    let mut easy = easy_to(server.port());
    let seen = Arc::new(Seen::default());
    install(&mut easy, &seen, SockoptResult::Ok);
    easy.perform().unwrap();
    easy.send(b"ping").unwrap();
    assert_eq!(seen.closes.load(Ordering::SeqCst), 0);
    drop(easy);
    assert_eq!(seen.closes.load(Ordering::SeqCst), 1);
}

#[test]
fn a_socket_taken_as_a_tcp_stream_never_reaches_the_close_function() {
    let server = TcpPeer::start(Behavior::Echo);
    let mut easy = easy_to(server.port());
    let seen = Arc::new(Seen::default());
    install(&mut easy, &seen, SockoptResult::Ok);
    easy.perform().unwrap();
    let stream = easy.take_connection().unwrap().into_tcp_stream().unwrap();
    drop(stream);
    drop(easy);
    assert_eq!(seen.closes.load(Ordering::SeqCst), 0);
}

#[test]
fn no_socket_from_the_open_function_is_couldnt_connect() {
    let server = TcpPeer::start(Behavior::Echo);
    let mut easy = easy_to(server.port());
    easy.open_socket_function(|_, _| None).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CouldntConnect);
}

#[test]
fn a_failing_sockopt_function_aborts_and_closes_through_the_close_function() {
    let server = TcpPeer::start(Behavior::Echo);
    let mut easy = easy_to(server.port());
    let seen = Arc::new(Seen::default());
    install(&mut easy, &seen, SockoptResult::Error);
    let err = easy.perform().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AbortedByCallback);
    assert_eq!(seen.closes.load(Ordering::SeqCst), 1);
}

#[test]
fn the_open_function_may_change_the_address() {
    let server = TcpPeer::start(Behavior::Echo);
    let mut easy = easy_to(1); // nothing listens on port 1
    let port = server.port();
    easy.open_socket_function(move |_, request| {
        request.addr.set_port(port);
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).ok()?;
        Some(socket.into())
    })
    .unwrap();
    easy.perform().unwrap();
    assert_eq!(easy.info().primary_addr().map(|a| a.port()), Some(port));
}

#[test]
fn prereq_sees_the_addresses_and_may_abort() {
    let server = TcpPeer::start(Behavior::Echo);
    let mut easy = easy_to(server.port());
    let seen: Arc<Mutex<Vec<(SocketAddr, SocketAddr)>>> = Arc::default();
    let s = Arc::clone(&seen);
    easy.prereq_function(move |primary, local| {
        s.lock().unwrap().push((primary, local));
        true
    })
    .unwrap();
    easy.perform().unwrap();
    let calls = seen.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(Some(calls[0].0), easy.info().primary_addr());
    assert_eq!(Some(calls[0].1), easy.info().local_addr());

    easy.prereq_function(|_, _| false).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AbortedByCallback);

    easy.clear_socket_functions();
    easy.perform().unwrap();
}

#[test]
fn connection_and_transfer_numbers_are_fresh_per_connection_and_transfer() {
    let server = TcpPeer::start(Behavior::Echo);
    let mut easy = easy_to(server.port());
    assert_eq!(easy.info().conn_id(), -1);
    assert_eq!(easy.info().xfer_id(), -1);
    easy.perform().unwrap();
    let (conn, xfer) = (easy.info().conn_id(), easy.info().xfer_id());
    assert!(conn >= 0 && xfer >= 0);
    easy.perform().unwrap();
    assert!(easy.info().conn_id() > conn);
    assert!(easy.info().xfer_id() > xfer);
}

/// The resolver start function hears of every name resolved, an IP
/// address and localhost included though they need no lookup, but not of
/// a `resolve` entry or a cached name; its refusal aborts the transfer
/// with 42 before any connection (libcurl 8; curl's test 655).
#[test]
fn the_resolver_start_function_hears_of_ip_addresses_and_may_abort() {
    let peer = TcpPeer::start(Behavior::Echo);
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let refuse = Arc::new(AtomicUsize::new(0));
    let mut easy = easy_to(peer.port());
    let (record, refusing) = (seen.clone(), refuse.clone());
    easy.resolver_start_function(move |host| {
        record.lock().unwrap().push(host.to_owned());
        refusing.load(Ordering::SeqCst) == 0
    })
    .unwrap();
    let seen = move || seen.lock().unwrap().clone();

    easy.perform().unwrap();
    assert_eq!(seen(), ["127.0.0.1"]);
    easy.url(&format!("telnet://localhost:{}", peer.port()))
        .unwrap();
    easy.perform().unwrap();
    assert_eq!(seen(), ["127.0.0.1", "localhost"]);
    let entry = format!("pinned.example:{}:127.0.0.1", peer.port());
    easy.resolve([entry.as_str()].into_iter().collect())
        .unwrap();
    easy.url(&format!("telnet://pinned.example:{}", peer.port()))
        .unwrap();
    easy.perform().unwrap();
    assert_eq!(seen().len(), 2, "a resolve entry is no resolve");
    assert!(peer.wait_accepted(3, Duration::from_secs(10)));

    refuse.store(1, Ordering::SeqCst);
    easy.url(&format!("telnet://127.0.0.1:{}", peer.port()))
        .unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AbortedByCallback, "{err}");
    assert_eq!(err.code(), 42);
    assert!(err.to_string().contains("resolver start function"), "{err}");
    assert_eq!(seen().len(), 3);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(peer.accepted(), 3, "no connection after the refusal");
}
