//! `tftp://` connect-only: a UDP socket bound and handed over, not
//! connected, nothing sent — as libcurl. Against an in-process UDP peer,
//! and tftpd-hpa for a real read over the handed socket.

use std::net::UdpSocket;
use std::time::Duration;

use handover::{ConnectOnly, Easy, ErrorKind};
use handover_test_support::real_peers::Tftpd;

fn tftp_easy(port: u16) -> Easy {
    let mut easy = Easy::new();
    easy.url(&format!("tftp://127.0.0.1:{port}/file.txt"))
        .unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy
}

#[test]
fn the_handed_socket_is_bound_not_connected_and_nothing_is_sent() {
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let mut easy = tftp_easy(port);
    easy.perform().unwrap();
    assert_eq!(easy.primary_ip().unwrap().as_deref(), Some("127.0.0.1"));
    assert_eq!(easy.primary_port().unwrap(), port);
    assert!(easy.active_socket().unwrap() >= 0);
    assert_eq!(
        easy.effective_url().unwrap(),
        Some(&*format!("tftp://127.0.0.1:{port}/file.txt"))
    );
    // No request reached the server.
    server
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(server.recv_from(&mut buf).is_err(), "a datagram was sent");
    // send on an unconnected UDP socket has no destination: 55, as
    // libcurl's curl_easy_send; recv waits for any sender: 81.
    let err = easy.send(b"x").unwrap_err();
    assert_eq!(err.code(), 55, "{err}");
    let err = easy.recv(&mut buf).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Again, "{err}");
}

#[test]
fn the_application_speaks_tftp_over_the_socket() {
    // The server answers a request from a new port, as TFTP servers do.
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let serving = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        server
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let (n, from) = server.recv_from(&mut buf).unwrap();
        let transfer = UdpSocket::bind("127.0.0.1:0").unwrap();
        transfer.send_to(b"\x00\x03\x00\x01hello", from).unwrap();
        buf[..n].to_vec()
    });
    let mut easy = tftp_easy(port);
    easy.perform().unwrap();
    let socket = easy
        .take_connection()
        .unwrap()
        .into_udp_socket()
        .unwrap_or_else(|_| panic!("tftp gives a UDP socket"));
    socket
        .send_to(b"\x00\x01file.txt\x00octet\x00", ("127.0.0.1", port))
        .unwrap();
    socket.set_nonblocking(false).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 512];
    let (n, from) = socket.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"\x00\x03\x00\x01hello");
    assert_ne!(
        from.port(),
        port,
        "the answer comes from the transfer's own port"
    );
    assert_eq!(serving.join().unwrap(), b"\x00\x01file.txt\x00octet\x00");
}

#[test]
fn tftp_through_a_proxy_is_refused_as_libcurl_does() {
    let mut easy = tftp_easy(69);
    easy.proxy("http://127.0.0.1:3128").unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 1, "{err}");
    assert!(err.to_string().contains("tftp cannot be done"), "{err}");
    // A TCP connection is not a UDP socket.
    let mut easy = Easy::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    easy.url(&format!(
        "telnet://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    ))
    .unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.perform().unwrap();
    assert!(easy.take_connection().unwrap().into_udp_socket().is_err());
}

#[test]
fn a_file_is_read_from_tftpd_over_the_handed_socket() {
    let server = Tftpd::shared();
    let name = format!("handover-{}.txt", std::process::id());
    server.put(&name, b"from tftpd\n");
    let mut easy = Easy::new();
    easy.url(&format!("tftp://127.0.0.1:{}/{name}", server.port()))
        .unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.perform().unwrap();
    let socket = easy
        .take_connection()
        .unwrap()
        .into_udp_socket()
        .unwrap_or_else(|_| panic!("tftp gives a UDP socket"));
    let request = [&b"\x00\x01"[..], name.as_bytes(), b"\x00octet\x00"].concat();
    socket
        .send_to(&request, ("127.0.0.1", server.port()))
        .unwrap();
    socket.set_nonblocking(false).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 600];
    let (n, from) = socket.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"\x00\x03\x00\x01from tftpd\n", "DATA block 1");
    // Acknowledged, the transfer is over (a block under 512 bytes).
    socket.send_to(b"\x00\x04\x00\x01", from).unwrap();
}
