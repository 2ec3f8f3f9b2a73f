//! The application's socket functions (`CURLOPT_OPENSOCKETFUNCTION`,
//! `SOCKOPTFUNCTION`, `CLOSESOCKETFUNCTION`), `CURLOPT_PREREQFUNCTION`,
//! and `CURLINFO_CONN_ID`/`XFER_ID`, from C: `tests/c/socket_callbacks.c`
//! runs on Debian's libcurl and on handover's, and their outputs (call
//! counts, return codes, the socket seen by each callback, the echo) must
//! agree; what 7.88 lacks or gets wrong runs on handover only.

mod common;

use std::process::{Command, Output};

use common::{assert_same, both, compile, handover_lib_dir, run_both, stdout, text};
use handover_test_support::peers::{Behavior, TcpPeer};

/// Runs `program` on handover's libcurl only.
fn run_ours(program: &std::path::Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .env("LD_LIBRARY_PATH", handover_lib_dir())
        .output()
        .expect("run on handover")
}

/// Runs `socket_callbacks` in `mode` on both libraries; asserts they agree
/// and that Debian's printed every line of `lines`.
fn same_on_both(mode: &str, lines: &[&str]) {
    let server = TcpPeer::start(Behavior::Echo);
    let url = format!("http://127.0.0.1:{}/", server.port());
    let (system, ours) = run_both(&compile("socket_callbacks"), &[&url, mode]);
    let out = stdout(&system);
    for line in lines {
        assert!(
            out.lines().any(|l| l == *line),
            "{line:?} missing\n{}",
            both(&system, &ours)
        );
    }
    assert_same(&system, &ours);
}

#[test]
fn the_application_opens_configures_and_closes_the_socket() {
    same_on_both(
        "ok",
        &[
            "perform: 0",
            "opens: 1 sockopts: 1 prereqs: 1 closes: 0",
            "purpose ipcxn: yes",
            "sockopt on the opened socket: yes",
            "active socket is the opened one: yes",
            "prereq: primary 127.0.0.1 port matches: yes local port matches: yes",
            "keepalive: 1",
            "recv: 0 hello sockets",
            "closes before cleanup: 0",
            "close: the opened socket",
            "closes after cleanup: 1",
        ],
    );
}

#[test]
fn an_open_socket_function_giving_no_socket_fails_with_7() {
    same_on_both(
        "bad-socket",
        &[
            "perform: 7",
            "errbuf set: yes",
            "opens: 1 sockopts: 0 prereqs: 0 closes: 0",
        ],
    );
}

#[test]
fn a_failing_sockopt_function_fails_with_42_and_closes_the_socket() {
    same_on_both(
        "sockopt-error",
        &[
            "close: the opened socket",
            "perform: 42",
            "opens: 1 sockopts: 1 prereqs: 0 closes: 1",
        ],
    );
}

#[test]
fn a_prereq_function_that_aborts_fails_with_42() {
    same_on_both(
        "prereq-abort",
        &[
            "perform: 42",
            "opens: 1 sockopts: 1 prereqs: 1 closes: 1",
            "closes after cleanup: 1",
        ],
    );
}

#[test]
fn a_close_function_alone_closes_the_socket_libcurl_opened() {
    same_on_both(
        "close-only",
        &[
            "perform: 0",
            "recv: 0 hello sockets",
            "closes before cleanup: 0",
            "close: another socket",
            "closes after cleanup: 1",
        ],
    );
}

/// `CURL_SOCKOPT_ALREADY_CONNECTED` skips the connect, as documented.
/// Debian's 7.88.1 connects anyway and fails with 7 ("Immediate connect
/// fail ... already connected"), a bug of that version: handover only.
#[test]
fn an_already_connected_socket_is_not_connected_again() {
    let server = TcpPeer::start(Behavior::Echo);
    let url = format!("http://127.0.0.1:{}/", server.port());
    let ours = run_ours(&compile("socket_callbacks"), &[&url, "already-connected"]);
    let out = stdout(&ours);
    for line in [
        "perform: 0",
        "opens: 1 sockopts: 1 prereqs: 1 closes: 0",
        "active socket is the opened one: yes",
        "recv: 0 hello sockets",
        "closes after cleanup: 1",
    ] {
        assert!(out.lines().any(|l| l == line), "{line:?}\n{}", text(&ours));
    }
}

/// `CURLINFO_CONN_ID`/`XFER_ID` (curl 8.2): handover only, Debian's 7.88
/// answers 48 for both.
#[test]
fn conn_and_xfer_ids_are_minus_one_then_fresh_numbers() {
    let server = TcpPeer::start(Behavior::Echo);
    let url = format!("http://127.0.0.1:{}/", server.port());
    let ours = run_ours(&compile("conn_xfer_id"), &[&url]);
    assert_eq!(
        stdout(&ours),
        "getinfo conn before: 0 -1\n\
         getinfo xfer before: 0 -1\n\
         perform a: 0\n\
         perform b: 0\n\
         perform a again: 0\n\
         ids set: yes\n\
         b differs from a: yes\n\
         a again is new: yes\n",
        "{}",
        text(&ours)
    );
}
