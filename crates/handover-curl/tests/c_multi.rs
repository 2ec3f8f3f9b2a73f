//! The multi interface from C: programs in `tests/c/multi_*.c` compiled
//! against the system's `curl/curl.h`, run on Debian's libcurl (7.88.1) and
//! on handover's libcurl.so.4, their outputs compared.

mod common;

use common::{assert_same, assert_same_but, both, compile, read_request, run_both, stdout};
use handover_test_support::peers::{Behavior, TcpPeer};

/// A port nothing listens on.
fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Asserts that `out` holds every line of `lines`.
fn assert_lines(out: &str, lines: &[&str]) {
    for line in lines {
        assert!(
            out.lines().any(|l| l == *line),
            "{line:?} missing from\n{out}"
        );
    }
}

#[test]
fn a_thousand_connect_only_handles_driven_by_curl_multi_poll() {
    let server = TcpPeer::start(Behavior::Echo);
    let url = format!("http://127.0.0.1:{}/", server.port());
    let (system, ours) = run_both(&compile("multi_poll"), &[&url, "1000"]);
    assert_lines(
        &stdout(&system),
        &[
            "added: 1000",
            "done: 1000",
            "ok: 1000",
            "errors: 0",
            "running: 0",
            "distinct sockets: 1000",
            "echo 0: 0 ping 0",
            "echo 500: 0 ping 500",
            "echo 999: 0 ping 999",
            "activesocket after remove: -1",
            "cleanup: 0",
        ],
    );
    assert_same(&system, &ours);
}

#[test]
fn a_thousand_connect_only_handles_driven_by_socket_action_from_epoll() {
    let server = TcpPeer::start(Behavior::Echo);
    let url = format!("http://127.0.0.1:{}/", server.port());
    let (system, ours) = run_both(&compile("multi_epoll"), &[&url, "1000"]);
    assert_lines(
        &stdout(&system),
        &[
            "timer told at add: yes",
            "done: 1000",
            "ok: 1000",
            "errors: 0",
            "running: 0",
            "every add removed: yes",
            "watched at the end: 0",
            "told twice: 0",
            "removes of unknown sockets: 0",
            "wrong easy handles: 0",
            // CURLM_RECURSIVE_API_CALL
            "multi call from the socket callback: 8",
            "cleanup: 0",
        ],
    );
    // handover checks a loopback connect before it asks for a wait, and
    // one that already finished needs no socket watched: the callback may
    // never run (-1). The silent-server test below always watches one.
    let recursive = "multi call from the socket callback: ";
    let ours_said = stdout(&ours);
    assert!(
        ours_said.contains(&format!("{recursive}8\n"))
            || ours_said.contains(&format!("{recursive}-1\n")),
        "{}",
        both(&system, &ours)
    );
    assert_same_but(&system, &ours, recursive);
}

#[test]
fn the_timer_function_brings_the_connect_timeout_of_a_silent_server() {
    // TLS to a TCP peer that never answers: only the timer ends it.
    let server = TcpPeer::start(Behavior::Silent);
    let url = format!("https://127.0.0.1:{}/", server.port());
    let (system, ours) = run_both(&compile("multi_epoll"), &[&url, "3", "400"]);
    assert_lines(
        &stdout(&system),
        &[
            "done: 3",
            "ok: 0",
            "errors: 3",
            "code 28: 3",
            "every add removed: yes",
            "watched at the end: 0",
            "failed after the connect timeout: yes",
            // CURLM_RECURSIVE_API_CALL: the TLS handshake waits to read.
            "multi call from the socket callback: 8",
            "timer pending at the end: no",
        ],
    );
    assert_same(&system, &ours);
}

#[test]
fn multi_calls_answer_as_libcurl_does() {
    let echo = TcpPeer::start(Behavior::Echo);
    let silent = TcpPeer::start(Behavior::Silent);
    let (system, ours) = run_both(
        &compile("multi_api"),
        &[
            &format!("http://127.0.0.1:{}/", echo.port()),
            &format!("https://127.0.0.1:{}/", silent.port()),
            &format!("http://127.0.0.1:{}/", refused_port()),
        ],
    );
    assert_lines(
        &stdout(&system),
        &[
            "timeout empty: -1",
            "add NULL multi: 1",
            "add NULL easy: 2",
            "remove not added: 0",
            "wait negative timeout: 10",
            "assign unknown socket: 5",
            "setopt unknown: 6",
            "add again: 7",
            "add to another: 7",
            "remove from another: 2",
            "timeout after add: 0",
            "easy perform while added: 2 (easy handle already used in multi handle)",
            "remove again: 0",
            "results: connected 0, refused 7, no protocol 1",
            "fdset while the handshake waits: read",
            "timeout while it waits: positive",
            "wait: 0 fds",
            "fdset high socket: 0 max -1 running 1",
            "poll after wakeup: at once, 0 fds",
            "strerror 8: API function called from within callback",
        ],
    );
    assert_same(&system, &ours);
}

#[test]
fn connect_only_send_and_recv_through_a_multi_handle() {
    let server = TcpPeer::start(Behavior::Echo);
    let url = format!("http://127.0.0.1:{}/", server.port());
    let (system, ours) = run_both(&compile("multi_send_recv"), &[&url]);
    assert_lines(
        &stdout(&system),
        &[
            "send before: 1",
            "activesocket: valid",
            "distinct: yes",
            "send: 0",
            "recv: 0 hello multi",
            "recv with nothing: 81",
            "activesocket after remove: -1",
            "send after remove: 1",
            "other: 0 still here",
            "again: 0 again",
            "running: 0",
            "cleanup: 0",
        ],
    );
    assert_same(&system, &ours);
}

#[test]
fn libcurl_8_waitfds_and_get_handles() {
    let silent = TcpPeer::start(Behavior::Silent);
    let url = format!("https://127.0.0.1:{}/", silent.port());
    let (system, ours) = run_both(&compile("multi_v8"), &[&url]);
    // Debian's 7.88.1 has neither; handover has libcurl 8's.
    assert_eq!(stdout(&system), "absent\n", "{}", both(&system, &ours));
    assert_eq!(
        stdout(&ours),
        "get_handles empty: yes\n\
         get_handles: a b\n\
         waitfds bad args: 10\n\
         waitfds NULL multi: 1\n\
         waitfds count: 2\n\
         waitfds: 0\n\
         waitfds events: in in\n\
         waitfds too small: 3 count 2\n",
        "{}",
        both(&system, &ours)
    );
}

#[test]
fn connection_limits_make_connect_only_transfers_wait() {
    let server = TcpPeer::start(Behavior::Echo);
    let url = format!("http://127.0.0.1:{}/", server.port());
    let (system, ours) = run_both(&compile("multi_limits"), &[&url]);
    let total = [
        "max total 2: 2 connected, 4 running",
        "max total 2, one removed: 1 more connected, 3 running",
    ];
    let host = [
        "max host 2: 2 connected, 4 running",
        "max host 2, one removed: 1 more connected, 3 running",
    ];
    assert_lines(&stdout(&system), &total);
    assert_lines(&stdout(&ours), &total);
    assert_lines(&stdout(&ours), &host);
    // A deliberate difference: Debian's libcurl 7.88 makes room under the
    // per-host limit by closing a finished connect-only connection — one
    // the application still holds and talks over. handover never closes a
    // connect-only connection to make room (issue 10), so the others wait.
    assert_lines(
        &stdout(&system),
        &[
            "max host 2: 6 connected, 0 running",
            "max host 2, one removed: 0 more connected, 0 running",
        ],
    );
    assert_eq!(
        system.status.code(),
        ours.status.code(),
        "{}",
        both(&system, &ours)
    );
}

/// A server that answers each request (head and `Content-Length` body)
/// with its method and the body's bytes in hex, then closes.
fn method_echo_server() -> u16 {
    use std::io::{BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut out = conn.try_clone().unwrap();
            let mut r = BufReader::new(conn);
            let Some(request) = read_request(&mut r) else {
                continue;
            };
            let method = request.line.split(' ').next().unwrap_or_default();
            let hex: String = request.body.iter().map(|b| format!("{b:02x}")).collect();
            let answer = format!("{method} {hex}");
            let _ = write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    port
}

/// Options set between curl_multi_add_handle and the first
/// curl_multi_perform count: the transfer is a POST of the whole body
/// (curl's test 1531).
#[test]
fn options_set_after_adding_count_when_the_transfer_starts() {
    let url = format!("http://127.0.0.1:{}/", method_echo_server());
    let (system, ours) = run_both(&compile("multi_late_options"), &[&url]);
    assert_lines(
        &stdout(&system),
        &["result: 0", "body: POST 2e6162630078797a"],
    );
    assert_same(&system, &ours);
}
