//! `Multi` over the same engine: many connect-only transfers on one
//! thread, each connection reachable through its handle while it stays
//! added, and gone once removed.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{echo, pattern};
use handover::{ConnectOnly, Easy, EasyHandle, Multi, WaitFd};
use handover_test_support::peers::{assert_same, Behavior, TcpPeer, TestPki, TlsPeer};

fn run_until_done(multi: &mut Multi, expected: usize) -> Vec<(usize, Result<(), handover::Error>)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut done = Vec::new();
    while done.len() < expected {
        assert!(Instant::now() < deadline, "multi stalled at {}", done.len());
        multi.perform().unwrap();
        multi.messages(|m| done.push((m.token(), m.result())));
        if done.len() < expected {
            multi.wait(&mut [], Duration::from_millis(100)).unwrap();
        }
    }
    done
}

fn connect_only(url: &str) -> Easy {
    let mut easy = Easy::new();
    easy.url(url).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.connect_timeout(Duration::from_secs(30)).unwrap();
    easy
}

#[test]
fn a_hundred_transfers_complete_with_distinct_sockets_and_removal_closes_one() {
    let server = TcpPeer::start(Behavior::Echo);
    let mut multi = Multi::new();
    let mut handles: Vec<EasyHandle> = (0..100)
        .map(|i| {
            let mut h = multi
                .add(connect_only(&format!(
                    "telnet://127.0.0.1:{}",
                    server.port()
                )))
                .unwrap();
            h.set_token(i);
            h
        })
        .collect();
    let done = run_until_done(&mut multi, 100);
    assert!(done.iter().all(|(_, r)| r.is_ok()), "{done:?}");
    let tokens: HashSet<usize> = done.iter().map(|(t, _)| *t).collect();
    assert_eq!(tokens.len(), 100);

    let sockets: HashSet<_> = handles.iter().map(|h| h.active_socket().unwrap()).collect();
    assert_eq!(sockets.len(), 100, "each transfer has its own socket");

    for (i, h) in handles.iter().enumerate() {
        let data = pattern(1000 + i, i as u64);
        let mut pipe = h;
        assert_same(&echo(&mut pipe, &data), &data);
    }

    let removed = handles.remove(17);
    let probe = removed.active_socket();
    assert!(probe.is_some());
    // Keep a second reference to the slot's state through a clone of info.
    let easy = multi.remove(removed).unwrap();
    assert_eq!(easy.active_socket(), None, "removal closes the connection");
    assert_eq!(multi.len(), 99);

    // The others still work.
    for (i, h) in handles.iter().enumerate().step_by(10) {
        let data = pattern(64, 1000 + i as u64);
        let mut pipe = h;
        assert_same(&echo(&mut pipe, &data), &data);
    }
}

#[test]
fn send_and_recv_fail_clearly_after_remove() {
    let server = TcpPeer::start(Behavior::Echo);
    let mut multi = Multi::new();
    let handle = multi
        .add(connect_only(&format!(
            "telnet://127.0.0.1:{}",
            server.port()
        )))
        .unwrap();
    // While connecting, nothing to talk to yet.
    assert_eq!(handle.send(b"x").unwrap_err().code(), 1);
    run_until_done(&mut multi, 1);
    assert_eq!(handle.send(b"x").unwrap(), 1);
    let mut easy = multi.remove(handle).unwrap();
    assert_eq!(easy.send(b"x").unwrap_err().code(), 1);
    assert_eq!(easy.active_socket(), None);
}

#[test]
fn removed_handle_reports_why_and_others_keep_working() {
    let server = TcpPeer::start(Behavior::Echo);
    let mut multi = Multi::new();
    let a = multi
        .add(connect_only(&format!(
            "telnet://127.0.0.1:{}",
            server.port()
        )))
        .unwrap();
    let b = multi
        .add(connect_only(&format!(
            "telnet://127.0.0.1:{}",
            server.port()
        )))
        .unwrap();
    run_until_done(&mut multi, 2);
    let a_fd = a.active_socket();
    assert!(a_fd.is_some());
    let _ = multi.remove(a).unwrap();
    let data = pattern(5000, 77);
    let mut pipe = &b;
    assert_same(&echo(&mut pipe, &data), &data);
}

#[test]
fn failures_arrive_as_messages_and_tls_works_in_a_multi() {
    let pki = TestPki::new();
    let tls = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);
    let mut multi = Multi::new();
    let mut good = connect_only(&format!("https://localhost:{}/", tls.port()));
    good.cainfo(&ca).unwrap();
    let mut good = multi.add(good).unwrap();
    good.set_token(1);
    let mut bad = multi.add(connect_only("gopherz://x/")).unwrap();
    bad.set_token(2);
    let refused_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut refused = multi
        .add(connect_only(&format!("telnet://127.0.0.1:{refused_port}")))
        .unwrap();
    refused.set_token(3);
    let mut done = run_until_done(&mut multi, 3);
    done.sort_by_key(|(t, _)| *t);
    assert!(done[0].1.is_ok(), "{:?}", done[0]);
    assert_eq!(done[1].1.as_ref().unwrap_err().code(), 1);
    assert_eq!(done[2].1.as_ref().unwrap_err().code(), 7);
    assert!(good.info().appconnect_time() > Duration::ZERO);
    let data = pattern(200_000, 3);
    let mut pipe = &good;
    assert_same(&echo(&mut pipe, &data), &data);
}

#[test]
fn wait_reports_extra_descriptors() {
    let server = TcpPeer::start(Behavior::Echo);
    let mut multi = Multi::new();
    let h = multi
        .add(connect_only(&format!(
            "telnet://127.0.0.1:{}",
            server.port()
        )))
        .unwrap();
    run_until_done(&mut multi, 1);
    h.send(b"ping").unwrap();
    let mut wfd = WaitFd::new();
    wfd.set_fd(h.active_socket().unwrap());
    wfd.poll_on_read(true);
    let mut fds = [wfd];
    let ready = multi.wait(&mut fds, Duration::from_secs(10)).unwrap();
    assert_eq!(ready, 1);
    assert!(fds[0].received_read());
    let mut buf = [0u8; 4];
    assert_eq!(h.recv(&mut buf).unwrap(), 4);
    assert_eq!(&buf, b"ping");
    // Nothing to wait on: wait returns at once, poll sleeps.
    let mut empty = Multi::new();
    let t = Instant::now();
    assert_eq!(empty.wait(&mut [], Duration::from_secs(5)).unwrap(), 0);
    assert!(t.elapsed() < Duration::from_secs(4));
    let t = Instant::now();
    empty.poll(&mut [], Duration::from_millis(50)).unwrap();
    assert!(t.elapsed() >= Duration::from_millis(40));
}

#[test]
fn handle_waits_return_at_once_for_bytes_buffered_inside_tls() {
    let pki = TestPki::new();
    let tls = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let mut multi = Multi::new();
    let mut easy = connect_only(&format!("https://localhost:{}/", tls.port()));
    easy.cainfo(pki.write_temp("ca.pem", &pki.ca_pem)).unwrap();
    let handle = multi.add(easy).unwrap();
    let err = handle.wait_readable(Some(Duration::ZERO)).unwrap_err();
    assert!(err.to_string().contains("still connecting"), "{err}");
    run_until_done(&mut multi, 1);

    assert!(handle.wait_writable(Some(Duration::from_secs(10))).unwrap());
    // TLS 1.3 session tickets may wake a wait once or twice: recv takes
    // them and has no data; then the wait runs into its timeout.
    let mut scratch = [0u8; 64];
    let mut wakeups = 0;
    loop {
        let t = Instant::now();
        if !handle
            .wait_readable(Some(Duration::from_millis(100)))
            .unwrap()
        {
            assert!(t.elapsed() >= Duration::from_millis(90));
            break;
        }
        let got = handle.recv(&mut scratch);
        assert!(got.as_ref().is_err_and(|e| e.is_again()), "{got:?}");
        wakeups += 1;
        assert!(wakeups < 5, "readable without data, again and again");
    }

    let message = b"0123456789abcdef";
    let mut sent = 0;
    while sent < message.len() {
        match handle.send(&message[sent..]) {
            Ok(n) => sent += n,
            Err(e) if e.is_again() => {
                handle.wait_writable(Some(Duration::from_secs(5))).unwrap();
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    // Take one byte: TLS decrypts the whole record, the socket is drained.
    let mut one = [0u8; 1];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "the echo never came");
        match handle.recv(&mut one) {
            Ok(1) => break,
            Ok(n) => panic!("recv gave {n}"),
            Err(e) if e.is_again() => {
                handle.wait_readable(Some(Duration::from_secs(5))).unwrap();
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(&one, b"0");
    let held = handle.recv_buffered();
    assert!(held > 0, "the rest of the record is held inside TLS");

    // A poll on the socket sees nothing: the bytes are no longer there.
    let mut wfd = WaitFd::new();
    wfd.set_fd(handle.active_socket().unwrap());
    wfd.poll_on_read(true);
    let mut fds = [wfd];
    multi.wait(&mut fds, Duration::from_millis(100)).unwrap();
    assert!(!fds[0].received_read(), "the socket itself is not readable");

    // The handle's wait counts them and returns at once.
    let t = Instant::now();
    assert!(handle.wait_readable(Some(Duration::from_secs(10))).unwrap());
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "waited {:?}",
        t.elapsed()
    );
    let mut rest = [0u8; 64];
    let n = handle.recv(&mut rest).unwrap();
    assert_eq!(n, held);
    assert_eq!(&rest[..n], &message[1..1 + n]);
}

/// A lender whose `Easy` lives behind a lock, and whose `starting` gives
/// it the URL held beside it then (or fails with `fail`).
struct LateUrl {
    easy: std::sync::Arc<std::sync::Mutex<Easy>>,
    url: std::sync::Arc<std::sync::Mutex<String>>,
    fail: bool,
}

impl handover::LentEasy for LateUrl {
    fn lend(&mut self, f: &mut dyn FnMut(&mut Easy)) {
        f(&mut self.easy.lock().unwrap());
    }

    fn starting(&mut self) -> Result<(), handover::Error> {
        if self.fail {
            return Err(handover::Error::new(
                handover::ErrorKind::BadFunctionArgument,
                "refused at the start",
            ));
        }
        let url = self.url.lock().unwrap().clone();
        self.easy.lock().unwrap().url(&url)
    }
}

/// A lent transfer is planned when it starts, after `starting`: settings
/// given between `add_lent` and the first `perform` count (libcurl reads
/// the options then; curl's test 1531), and an error from `starting` ends
/// the transfer with it.
#[test]
fn a_lent_transfer_reads_its_settings_when_it_starts() {
    let server = TcpPeer::start(Behavior::Echo);
    for fail in [false, true] {
        let easy = std::sync::Arc::new(std::sync::Mutex::new(Easy::new()));
        easy.lock()
            .unwrap()
            .connect_only(ConnectOnly::Connection)
            .unwrap();
        let url = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut multi = Multi::new();
        let lender = LateUrl {
            easy: easy.clone(),
            url: url.clone(),
            fail,
        };
        let mut handle = multi.add_lent(Box::new(lender)).unwrap();
        handle.set_token(7);
        // Set after adding: still this transfer's.
        *url.lock().unwrap() = format!("http://127.0.0.1:{}/", server.port());
        let done = run_until_done(&mut multi, 1);
        let (token, result) = &done[0];
        assert_eq!(*token, 7);
        match fail {
            false => result.as_ref().unwrap(),
            true => {
                let e = result.as_ref().unwrap_err();
                assert_eq!(e.code(), 43, "{e}");
                continue;
            }
        };
        assert!(server.wait_accepted(1, Duration::from_secs(10)));
        multi.remove(handle).unwrap();
    }
}
