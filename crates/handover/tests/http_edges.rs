//! HTTP edge cases found in review: a reused connection that dies under an
//! upload whose read callback cannot be rewound, pooled TLS connections and
//! host names, and a body that never ends under a timeout.

mod common;

use common::collect_body;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use handover::{Easy, ErrorKind, List};
use handover_test_support::peers::TestPki;
use handover_test_support::real_peers::Nginx;

fn read_head(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut b) {
            Ok(1) => head.push(b[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

#[test]
fn a_dead_reused_connection_under_a_callback_upload_is_send_fail_rewind() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (failed_tx, failed_rx) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        read_head(&mut s);
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .unwrap();
        // The upload's head arrives on the kept connection; then the server
        // hangs up without an answer.
        read_head(&mut s);
        drop(s);
        // A retry would be a second connection, made before perform returns
        // (so already queued on the listener once it has): there must be
        // none. Bounded, so that a perform stuck on a retry ends when this
        // thread gives up and closes.
        let _ = failed_rx.recv_timeout(Duration::from_secs(10));
        listener.set_nonblocking(true).unwrap();
        listener.accept().is_ok()
    });
    let mut easy = Easy::new();
    easy.url(&format!("http://127.0.0.1:{port}/")).unwrap();
    easy.write_function(|d| Ok(d.len())).unwrap();
    easy.perform().unwrap();
    easy.upload(true).unwrap();
    let mut chunks = 3;
    easy.read_function(move |buf| {
        if chunks == 0 {
            return Ok(0);
        }
        chunks -= 1;
        buf[..4].copy_from_slice(b"data");
        Ok(4)
    })
    .unwrap();
    let err = easy.perform().unwrap_err();
    failed_tx.send(()).unwrap();
    assert_eq!(err.kind(), ErrorKind::SendFailRewind, "{err}");
    assert_eq!(err.code(), 65);
    assert!(!server.join().unwrap(), "no second connection");
}

#[test]
fn a_pooled_tls_connection_is_only_reused_for_the_name_it_was_verified_for() {
    let pki = TestPki::with_names(&["a.test"]);
    let nginx = Nginx::start(Some((&pki.server_chain_pem, &pki.server_key_pem)));
    nginx.put("f", b"x");
    let port = nginx.tls_port().unwrap();
    let mut easy = Easy::new();
    easy.cainfo(pki.write_temp("ca.pem", &pki.ca_pem)).unwrap();
    easy.connect_to(List::from_iter([
        format!("a.test:443:127.0.0.1:{port}"),
        format!("b.test:443:127.0.0.1:{port}"),
    ]))
    .unwrap();
    easy.write_function(|d| Ok(d.len())).unwrap();
    easy.url("https://a.test/f").unwrap();
    easy.perform().unwrap();
    easy.url("https://b.test/f").unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(
        err.code(),
        60,
        "b.test is verified, not served over a.test's connection: {err}"
    );
}

#[test]
fn an_endless_body_is_cut_by_the_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        read_head(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        let chunk = [b"4000\r\n".as_slice(), &[b'z'; 0x4000], b"\r\n"].concat();
        while s.write_all(&chunk).is_ok() {}
    });
    let mut easy = Easy::new();
    easy.url(&format!("http://127.0.0.1:{port}/")).unwrap();
    easy.timeout(Duration::from_millis(500)).unwrap();
    // A write callback slower than the server: data never stops coming.
    easy.write_function(|d| {
        std::thread::sleep(Duration::from_micros(200));
        Ok(d.len())
    })
    .unwrap();
    let started = Instant::now();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OperationTimedout, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn an_answer_before_the_upload_is_sent_ends_the_upload() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        read_head(&mut s);
        s.write_all(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 5\r\n\r\nlarge")
            .unwrap();
        // Never read the body; hold the connection open.
        let _ = stop_rx.recv_timeout(Duration::from_secs(30));
    });
    let mut easy = Easy::new();
    easy.url(&format!("http://127.0.0.1:{port}/upload"))
        .unwrap();
    easy.post_fields_copy(&vec![b'u'; 64 << 20]).unwrap();
    let body = collect_body(&mut easy);
    easy.timeout(Duration::from_secs(20)).unwrap();
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 413);
    assert_eq!(&*body.lock().unwrap(), b"large");
    stop_tx.send(()).unwrap();
}
