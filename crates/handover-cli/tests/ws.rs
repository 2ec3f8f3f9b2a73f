//! `handover ws` against real WebSocket peers on loopback (tungstenite echo
//! servers, plain and TLS), directly, through squid and through
//! microsocks, with stdin written and closed as a pipe would.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{closed_port, Run};
use handover_test_support::peers::TestPki;
use handover_test_support::real_peers::{Microsocks, Squid, SquidAuth};
use handover_test_support::ws_peers::{WsBehavior, WsPeer};

/// Bounds every run, so that a hang fails the test instead of the suite.
const PATIENCE: Duration = Duration::from_secs(60);

/// Runs `handover ws ARGS` with `input` written to its stdin, then closed.
fn ws(args: &[&str], input: &[u8]) -> (Run, Vec<u8>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_handover"))
        .arg("ws")
        .args(args)
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("all_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("no_proxy")
        .env_remove("NO_PROXY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run handover");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // A writer of its own: the echo comes back while stdin is still being
    // written, and a full pipe must not stall the reader of stdout.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
        // Dropped here: the EOF that makes handover send its Close.
    });
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(PATIENCE) {
        Ok(out) => out.expect("wait for handover"),
        Err(_) => {
            // Only the child this test started, by its id.
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("handover ws {args:?} did not finish within {PATIENCE:?}");
        }
    };
    writer.join().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    (run, out.stdout)
}

/// Deterministic noise with every byte value (0xFF included).
fn random_bytes(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.extend_from_slice(&seed.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn ca_file(pki: &TestPki) -> String {
    pki.write_temp("ws-ca.pem", &pki.ca_pem)
        .display()
        .to_string()
}

#[test]
fn binary_echo_of_256_kib_direct_is_byte_exact_and_exits_0() {
    let peer = WsPeer::start(WsBehavior::Echo, None);
    let url = format!("ws://127.0.0.1:{}/echo", peer.port());
    let mut input = random_bytes(256 * 1024, 0x9E37_79B9_7F4A_7C15);
    input.extend_from_slice(&[0xFF; 64]);
    let (run, stdout) = ws(&[&url], &input);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        stdout.len() == input.len(),
        "{} of {} bytes back",
        stdout.len(),
        input.len()
    );
    assert!(stdout == input, "the echo differs from the input");
    assert!(run.stderr.is_empty(), "quiet stderr: {run:?}");
}

#[test]
fn lines_echo_through_squid() {
    let squid = Squid::shared(SquidAuth::None);
    let peer = WsPeer::start(WsBehavior::Echo, None);
    let url = format!("ws://127.0.0.1:{}/", peer.port());
    let proxy = format!("http://127.0.0.1:{}", squid.port());
    let (run, _) = ws(
        &[&url, "-x", &proxy, "--lines"],
        b"one\ntwo \xc3\xa9\nthree\n",
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "one\ntwo é\nthree\n", "{run:?}");
}

#[test]
fn wss_lines_echo_through_microsocks() {
    let pki = TestPki::shared();
    let peer = WsPeer::start(WsBehavior::Echo, Some(pki.server_config()));
    let url = format!("wss://localhost:{}/", peer.port());
    let proxy = format!("socks5h://127.0.0.1:{}", Microsocks::shared(None).port());
    let ca = ca_file(pki);
    let (run, _) = ws(
        &[&url, "-x", &proxy, "--cacert", &ca, "--lines"],
        b"alpha\nbeta\ngamma\n",
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "alpha\nbeta\ngamma\n", "{run:?}");
}

#[test]
fn headers_and_protocol_reach_the_peer() {
    let peer = WsPeer::start(WsBehavior::Echo, None);
    let url = format!("ws://127.0.0.1:{}/chat", peer.port());
    let (run, _) = ws(
        &[&url, "-H", "X-Test: yes", "--protocol", "chat.v1", "--text"],
        b"hi",
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "hi", "text without --lines has no newline");
    let request = peer.last_request().expect("the peer saw a request");
    assert!(request.starts_with("GET /chat HTTP/1.1\r\n"), "{request}");
    let lower = request.to_ascii_lowercase();
    assert!(lower.contains("\r\nx-test: yes\r\n"), "{request}");
    assert!(
        lower.contains("\r\nsec-websocket-protocol: chat.v1\r\n"),
        "{request}"
    );
}

#[test]
fn probe_times_the_upgrade_and_exits_0() {
    let peer = WsPeer::start(WsBehavior::Echo, None);
    let url = format!("ws://127.0.0.1:{}/", peer.port());
    let (run, _) = ws(&[&url, "--probe"], b"");
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some("upgrade")),
        "an upgrade row: {run:?}"
    );
    assert!(run.stdout.contains("tcp"), "{run:?}");
}

#[test]
fn unreachable_target_exits_7_with_one_line() {
    let url = format!("ws://127.0.0.1:{}/", closed_port());
    let (run, _) = ws(&[&url], b"never sent");
    assert_eq!(run.code, 7, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(run.stderr.contains("tcp"), "the layer is named: {run:?}");
}

#[test]
fn untrusted_tls_exits_60_with_one_line() {
    let pki = TestPki::shared();
    let peer = WsPeer::start(WsBehavior::Echo, Some(pki.server_config()));
    let url = format!("wss://localhost:{}/", peer.port());
    // No --cacert: the test CA is nobody's trust anchor.
    let (run, _) = ws(&[&url], b"never sent");
    assert_eq!(run.code, 60, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(run.stderr.contains("tls"), "the layer is named: {run:?}");
}

#[test]
fn ping_interval_keeps_an_idle_session_alive() {
    let peer = WsPeer::start(WsBehavior::Echo, None);
    let url = format!("ws://127.0.0.1:{}/", peer.port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_handover"))
        .args(["ws", &url, "--ping-interval", "0.1", "--ping-timeout", "2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Idle for several intervals: tungstenite's PONGs keep the timeout away.
    std::thread::sleep(Duration::from_millis(700));
    assert!(child.try_wait().unwrap().is_none(), "still running");
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn a_received_message_over_max_message_ends_with_56_before_any_of_it_is_printed() {
    let peer = WsPeer::start(
        WsBehavior::SendThenClose(vec![tungstenite::Message::binary(vec![7u8; 100_000])]),
        None,
    );
    let url = format!("ws://127.0.0.1:{}/", peer.port());
    let (run, stdout) = ws(&[&url, "--max-message", "1000"], b"");
    assert_eq!(run.code, 56, "{run:?}");
    assert!(
        stdout.is_empty(),
        "nothing of the refused message is printed"
    );
    assert!(run.stderr.contains("--max-message 1000"), "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "one line: {run:?}");
}

#[test]
fn messages_within_max_message_pass_and_stdin_is_cut_to_it() {
    // 10,000 stdin bytes leave as messages of at most 1,000 bytes; the
    // echo peer's messages are then within the limit as well (uncut, the
    // pipe's one 10,000-byte read would come back as a message over it,
    // and the run would end with 56).
    let peer = WsPeer::start(WsBehavior::Echo, None);
    let url = format!("ws://127.0.0.1:{}/", peer.port());
    let data = random_bytes(10_000, 11);
    let (run, stdout) = ws(&[&url, "--max-message", "1000"], &data);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(stdout, data, "byte-exact");
}

#[test]
fn a_lines_line_longer_than_max_message_ends_with_26() {
    let peer = WsPeer::start(WsBehavior::Echo, None);
    let url = format!("ws://127.0.0.1:{}/", peer.port());
    let (run, stdout) = ws(
        &[&url, "--lines", "--max-message", "4"],
        b"abcd\nabcdefgh\n",
    );
    assert_eq!(run.code, 26, "{run:?}");
    assert!(run.stderr.contains("longer than 4 bytes"), "{run:?}");
    // The line within the limit may have been echoed before the refusal.
    assert!(stdout.is_empty() || stdout == b"abcd\n", "{stdout:?}");
}

#[test]
fn print_ping_rtts_reports_each_pong_on_stderr() {
    let peer = WsPeer::start(WsBehavior::Echo, None);
    let url = format!("ws://127.0.0.1:{}/", peer.port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_handover"))
        .args(["ws", &url, "--ping-interval", "0.1", "--print-ping-rtts"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(600));
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.is_empty(), "RTTs stay off stdout");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rtts: Vec<f64> = stderr
        .lines()
        .filter_map(|l| {
            l.strip_prefix("ping rtt ")?
                .strip_suffix(" ms")?
                .parse()
                .ok()
        })
        .collect();
    assert!(rtts.len() >= 3, "a line per PONG: {stderr}");
    assert!(rtts.iter().all(|ms| (0.0..1000.0).contains(ms)), "{rtts:?}");
}
