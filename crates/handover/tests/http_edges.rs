//! HTTP edge cases found in review: a reused connection that dies under an
//! upload whose read callback cannot be rewound (and one the seek function
//! rewinds), pooled TLS connections and host names, and a body that never
//! ends under a timeout.

mod common;

use common::collect_body;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use handover::{Easy, ErrorKind, List, SeekResult};
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

/// A keep-alive server whose first connection answers one GET and dies
/// under the next request; a second connection (if any) gets a POST whose
/// `Content-Length` body it returns. Once `gave_up` is set (the client's
/// perform returned), a retry would already be queued: the server stops
/// waiting for one.
type Server = std::thread::JoinHandle<Option<Vec<u8>>>;

fn dying_keep_alive_server() -> (u16, Arc<AtomicBool>, Server) {
    let gave_up = Arc::new(AtomicBool::new(false));
    let done = Arc::clone(&gave_up);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        read_head(&mut s);
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .unwrap();
        read_head(&mut s);
        drop(s);
        listener.set_nonblocking(true).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut s = loop {
            let last = done.load(Ordering::SeqCst);
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(_) if !last && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => return None,
            }
        };
        s.set_nonblocking(false).unwrap();
        let head = read_head(&mut s);
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        s.read_exact(&mut body).unwrap();
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone")
            .unwrap();
        Some(body)
    });
    (port, gave_up, server)
}

/// POSTs `size` bytes to `/upload` on 127.0.0.1:`port` with a 20 s
/// timeout: the response code and the response body.
fn post_to_upload(port: u16, size: usize) -> (u32, Vec<u8>) {
    let mut easy = Easy::new();
    easy.url(&format!("http://127.0.0.1:{port}/upload"))
        .unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    easy.post_fields_copy(&vec![b'u'; size]).unwrap();
    let body = collect_body(&mut easy);
    easy.perform().unwrap();
    let code = easy.response_code().unwrap();
    let body = body.lock().unwrap().clone();
    (code, body)
}

/// A POST body from the read function over a shared cursor, and the seek
/// function that moves it (counting its calls).
fn cursor_post(
    easy: &mut Easy,
    body: &'static [u8],
    answer: SeekResult,
) -> Arc<std::sync::Mutex<Vec<std::io::SeekFrom>>> {
    use std::io::{Cursor, Seek};
    use std::sync::Mutex;
    let cursor = Arc::new(Mutex::new(Cursor::new(body)));
    let seeks = Arc::new(Mutex::new(Vec::new()));
    let (reader, seeker, log) = (Arc::clone(&cursor), cursor, Arc::clone(&seeks));
    easy.post(true).unwrap();
    easy.post_field_size(body.len() as u64).unwrap();
    // Four bytes a call, so the body takes several reads.
    easy.read_function(move |buf| {
        let n = buf.len().min(4);
        Ok(reader.lock().unwrap().read(&mut buf[..n]).unwrap())
    })
    .unwrap();
    easy.seek_function(move |to| {
        log.lock().unwrap().push(to);
        if answer == SeekResult::Ok {
            seeker.lock().unwrap().seek(to).unwrap();
        }
        answer
    })
    .unwrap();
    seeks
}

#[test]
fn a_dead_reused_connection_under_a_callback_upload_is_resent_after_the_seek_function_rewinds() {
    let (port, _, server) = dying_keep_alive_server();
    let mut easy = Easy::new();
    easy.url(&format!("http://127.0.0.1:{port}/")).unwrap();
    let got = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&got);
    easy.write_function(move |d| {
        sink.lock().unwrap().extend_from_slice(d);
        Ok(d.len())
    })
    .unwrap();
    easy.perform().unwrap();
    let body: &[u8] = b"the whole body, every byte of it";
    let seeks = cursor_post(&mut easy, body, SeekResult::Ok);
    got.lock().unwrap().clear();
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 200);
    assert_eq!(got.lock().unwrap().as_slice(), b"done");
    assert_eq!(
        seeks.lock().unwrap().as_slice(),
        [std::io::SeekFrom::Start(0)],
        "one rewind, to the start"
    );
    assert_eq!(
        easy.num_connects().unwrap(),
        1,
        "the retry's fresh connection"
    );
    assert_eq!(server.join().unwrap().as_deref(), Some(body));
}

#[test]
fn a_seek_function_that_fails_is_send_fail_rewind() {
    for answer in [SeekResult::Fail, SeekResult::CantSeek] {
        let (port, gave_up, server) = dying_keep_alive_server();
        let mut easy = Easy::new();
        easy.url(&format!("http://127.0.0.1:{port}/")).unwrap();
        easy.write_function(|d| Ok(d.len())).unwrap();
        easy.perform().unwrap();
        let seeks = cursor_post(&mut easy, b"0123456789", answer);
        let err = easy.perform().unwrap_err();
        gave_up.store(true, Ordering::SeqCst);
        assert_eq!(err.kind(), ErrorKind::SendFailRewind, "{err}");
        assert!(
            err.to_string()
                .contains(&format!("seek callback returned error {}", answer as i32)),
            "{err}"
        );
        assert_eq!(seeks.lock().unwrap().len(), 1);
        assert_eq!(server.join().unwrap(), None, "no second connection");
    }
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
    let (code, body) = post_to_upload(port, 64 << 20);
    assert_eq!(code, 413);
    assert_eq!(body, b"large");
    stop_tx.send(()).unwrap();
}

/// A server that answers after a few bytes of the body and closes without
/// reading the rest (the kernel resets the connection): the answer is the
/// transfer's, not a send error, as libcurl reads what came before it
/// writes more (curl's test 1070, without its Expect: 100-continue).
#[test]
fn an_answer_then_a_reset_mid_upload_is_the_answer() {
    for _ in 0..5 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            read_head(&mut s);
            let mut some = [0u8; 13];
            s.read_exact(&mut some).unwrap();
            s.write_all(
                b"HTTP/1.1 403 Go away\r\nContent-Length: 7\r\nConnection: close\r\n\r\ngo away",
            )
            .unwrap();
            // Unread bytes left: closing resets the connection.
        });
        let (code, body) = post_to_upload(port, 8 << 20);
        assert_eq!(code, 403);
        assert_eq!(body, b"go away");
        server.join().unwrap();
    }
}

/// A server that answers each POST with a 401 as soon as its head is in,
/// then reads the body it announced (3 bytes); every body it read goes to
/// the channel. Connections are kept.
fn early_401_server() -> (u16, std::sync::mpsc::Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (bodies, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let bodies = bodies.clone();
            std::thread::spawn(move || loop {
                if read_head(&mut s).is_empty() {
                    return;
                }
                let early = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 5\r\n\r\nearly";
                if s.write_all(early).is_err() {
                    return;
                }
                let mut body = [0u8; 3];
                if s.read_exact(&mut body).is_err() {
                    return;
                }
                let _ = bodies.send(body.to_vec());
            });
        }
    });
    (port, seen)
}

/// `keep_sending_on_error`: an early 401 does not stop the upload — the
/// body goes after it, here once a paused read function goes on (after
/// the answer's body arrived) — and the connection serves the next
/// transfer. Without it the upload stops and the connection closes
/// (curl's test 1533).
#[test]
fn keep_sending_on_error_sends_the_body_after_an_early_answer() {
    let (port, bodies) = early_401_server();
    let mut easy = Easy::new();
    easy.url(&format!("http://127.0.0.1:{port}/")).unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    easy.post(true).unwrap();
    easy.post_field_size(3).unwrap();
    let answered = Arc::new(AtomicBool::new(false));
    let seen = answered.clone();
    easy.write_function(move |data| {
        seen.store(true, Ordering::SeqCst);
        Ok(data.len())
    })
    .unwrap();
    let ready = answered.clone();
    let left = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let remaining = left.clone();
    easy.read_function(move |buf| {
        if !ready.load(Ordering::SeqCst) {
            return Err(handover::ReadError::Pause);
        }
        let n = remaining.load(Ordering::SeqCst).min(buf.len());
        buf[..n].fill(b'a');
        remaining.fetch_sub(n, Ordering::SeqCst);
        Ok(n)
    })
    .unwrap();
    for (keep_sending, connects) in [(false, 1), (false, 1), (true, 1), (true, 0)] {
        answered.store(false, Ordering::SeqCst);
        left.store(3, Ordering::SeqCst);
        easy.keep_sending_on_error(keep_sending).unwrap();
        easy.perform().unwrap();
        assert_eq!(easy.response_code().unwrap(), 401);
        let case = format!("keep sending {keep_sending}");
        assert_eq!(easy.num_connects().unwrap(), connects, "{case}");
        if keep_sending {
            let body = bodies.recv_timeout(Duration::from_secs(10)).unwrap();
            assert_eq!(body, b"aaa", "{case}");
            assert_eq!(easy.info().size_upload(), 3, "{case}");
        } else {
            assert_eq!(easy.info().size_upload(), 0, "{case}");
        }
    }
    assert!(bodies.try_recv().is_err(), "no other body");
}

/// An answer below 300 before the body is all sent does not stop it
/// (libcurl): the rest goes after the answer, whole, and the connection
/// serves the next transfer.
#[test]
fn an_early_success_lets_the_body_go_on_and_keeps_the_connection() {
    const SIZE: usize = 8 << 20;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        read_head(&mut s);
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .unwrap();
        let mut body = vec![0u8; SIZE];
        s.read_exact(&mut body).unwrap();
        let whole = body.iter().all(|&b| b == b'u');
        let second = read_head(&mut s);
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext")
            .unwrap();
        (whole, second)
    });
    let mut easy = Easy::new();
    easy.url(&format!("http://127.0.0.1:{port}/upload"))
        .unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    easy.post_fields_copy(&vec![b'u'; SIZE]).unwrap();
    let body = collect_body(&mut easy);
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 200);
    assert_eq!(easy.info().size_upload(), SIZE as u64);
    easy.get(true).unwrap();
    easy.perform().unwrap();
    assert_eq!(easy.num_connects().unwrap(), 0, "the connection was kept");
    assert_eq!(&*body.lock().unwrap(), b"oknext");
    let (whole, second) = server.join().unwrap();
    assert!(whole, "the body arrived whole");
    assert!(second.starts_with("GET /upload "), "{second}");
}
