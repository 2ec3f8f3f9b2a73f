//! The FTP, IMAP, POP3 and SMTP connect phases against a scripted
//! in-process server, for what a real server will not do on demand:
//! replies split byte by byte, bytes pipelined after the go-ahead for TLS,
//! endless replies, a refusal, silence. The real servers' tests are
//! `ftp.rs` (vsftpd) and `mail.rs` (dovecot, aiosmtpd).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::capture_verbose;
use handover::{ConnectOnly, Easy, ErrorKind, UseSsl};
use handover_test_support::peers::Server;

/// A server that plays `script`: each entry is the command expected (the
/// end of the line: IMAP's tag letter follows the connection number) or
/// `None` for "nothing, just send", and the reply to write (`TAG` in it
/// stands for the tag the command came with), one byte per write when
/// `dribble`. What the client sent after the script, until it
/// closes, is recorded.
fn scripted(
    script: Vec<(Option<&'static str>, &'static [u8])>,
    dribble: bool,
) -> (Server, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let server = Server::start(IpAddr::V4(Ipv4Addr::LOCALHOST), move |stream: TcpStream| {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        for (expect, reply) in &script {
            let mut reply = reply.to_vec();
            if let Some(expect) = expect {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                record.lock().unwrap().push(line.trim_end().to_owned());
                assert!(line.trim_end().ends_with(expect), "{line:?} for {expect:?}");
                let tag = line.split(' ').next().unwrap_or_default();
                reply = String::from_utf8_lossy(&reply)
                    .replace("TAG", tag)
                    .into_bytes();
            }
            if dribble {
                for b in reply.iter() {
                    let _ = writer.write_all(&[*b]);
                    let _ = writer.flush();
                }
            } else {
                let _ = writer.write_all(&reply);
            }
        }
        // After the phase: record every line until the client closes.
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    record.lock().unwrap().push(line.trim_end().to_owned());
                    let _ = writer.write_all(b"200 noted\r\n");
                }
            }
        }
    });
    (server, seen)
}

fn ftp_easy(port: u16) -> Easy {
    let mut easy = Easy::new();
    easy.url(&format!("ftp://127.0.0.1:{port}/")).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.connect_timeout(Duration::from_secs(10)).unwrap();
    easy
}

#[test]
fn the_login_split_byte_by_byte_hands_over_a_logged_in_connection() {
    let (server, seen) = scripted(
        vec![
            (None, b"220-Welcome\r\n220 ready\r\n"),
            (Some("USER anonymous"), b"331 password please\r\n"),
            (Some("PASS ftp@example.com"), b"230 in\r\n"),
            (Some("PWD"), b"257 \"/\" is current\r\n"),
        ],
        true,
    );
    let mut easy = ftp_easy(server.port());
    let log = capture_verbose(&mut easy);
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 257);
    // The connection is the application's, at the command prompt.
    let mut sent = 0;
    while sent < 6 {
        match easy.send(&b"NOOP\r\n"[sent..]) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::Again => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(common::recv_exact(&mut easy, 11), b"200 noted\r\n");
    drop(easy);
    assert!(server.wait_accepted(1, Duration::from_secs(5)));
    std::thread::sleep(Duration::from_millis(100));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        ["USER anonymous", "PASS ftp@example.com", "PWD", "NOOP"]
    );
    let log = log.lock().unwrap();
    for line in [
        "< 220 ready",
        "> USER anonymous",
        "> PASS <hidden>",
        "< 257 \"/\" is current",
    ] {
        assert!(log.contains(line), "no {line:?} in\n{log}");
    }
    assert!(!log.contains("ftp@example.com"), "{log}");
}

#[test]
fn credentials_come_from_the_url_and_a_refusal_is_login_denied() {
    let (server, seen) = scripted(
        vec![
            (None, b"220 ready\r\n"),
            (Some("USER alice"), b"331 password please\r\n"),
            (Some("PASS wrong pw"), b"530 Login incorrect.\r\n"),
        ],
        false,
    );
    let mut easy = Easy::new();
    easy.url(&format!(
        "ftp://alice:wrong%20pw@127.0.0.1:{}/",
        server.port()
    ))
    .unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 67, "{err}");
    assert!(err.to_string().contains("530"), "{err}");
    assert_eq!(easy.response_code().unwrap(), 530);
    assert_eq!(seen.lock().unwrap()[..2], ["USER alice", "PASS wrong pw"]);
}

#[test]
fn bytes_pipelined_after_the_go_ahead_for_tls_are_refused() {
    // The go-ahead and a forged reply in one write: libcurl's
    // CVE-2021-22947 took the forged bytes as protected.
    let (server, _) = scripted(
        vec![
            (None, b"220 ready\r\n"),
            (Some("AUTH TLS"), b"234 go ahead\r\n230 forged login\r\n"),
        ],
        false,
    );
    let mut easy = ftp_easy(server.port());
    easy.use_ssl(UseSsl::All).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 8, "{err}");
    assert!(err.to_string().contains("after agreeing to TLS"), "{err}");
}

#[test]
fn tls_required_and_refused_is_use_ssl_failed_and_try_goes_on_in_clear() {
    let script = || {
        vec![
            (None, &b"220 ready\r\n"[..]),
            (Some("AUTH TLS"), &b"500 no\r\n"[..]),
            (Some("AUTH SSL"), &b"500 no\r\n"[..]),
        ]
    };
    let (server, _) = scripted(script(), false);
    let mut easy = ftp_easy(server.port());
    easy.use_ssl(UseSsl::Control).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 64, "{err}");

    let mut clear = script();
    clear.push((Some("USER anonymous"), b"230 in\r\n"));
    clear.push((Some("PWD"), b"257 \"/\"\r\n"));
    let (server, _) = scripted(clear, false);
    let mut easy = ftp_easy(server.port());
    easy.use_ssl(UseSsl::Try).unwrap();
    let log = capture_verbose(&mut easy);
    easy.perform().unwrap();
    assert!(log.lock().unwrap().contains("going on in clear text"));
}

#[test]
fn a_silent_server_is_bounded_by_the_connect_timeout() {
    let (server, _) = scripted(vec![(Some("never"), b"")], false);
    let mut easy = ftp_easy(server.port());
    easy.connect_timeout(Duration::from_millis(300)).unwrap();
    let started = Instant::now();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 28, "{err}");
    assert!(err.to_string().contains("FTP login"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_greeting_line_of_a_mebibyte_is_refused_bounded() {
    static LONG: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let line: &'static [u8] = LONG.get_or_init(|| vec![b'2'; 1 << 20]);
    let (server, _) = scripted(vec![(None, line)], false);
    let err = ftp_easy(server.port()).perform().unwrap_err();
    // libcurl's answer to a line past its 64 KiB reply buffer: CURLE_TOO_LARGE.
    assert_eq!(err.code(), 100, "{err}");
}

fn mail_easy(url: String) -> Easy {
    let mut easy = Easy::new();
    easy.url(&url).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.connect_timeout(Duration::from_secs(10)).unwrap();
    easy.username("me").unwrap();
    easy.password("secret").unwrap();
    easy
}

#[test]
fn imap_bytes_pipelined_after_the_starttls_answer_are_refused() {
    let (server, seen) = scripted(
        vec![
            (None, b"* OK ready\r\n"),
            (
                Some("001 CAPABILITY"),
                b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\r\nTAG OK done\r\n",
            ),
            (Some("002 STARTTLS"), b"TAG OK go ahead\r\n* OK forged\r\n"),
        ],
        false,
    );
    let mut easy = mail_easy(format!("imap://127.0.0.1:{}/", server.port()));
    easy.use_ssl(UseSsl::All).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 8, "{err}");
    assert!(err.to_string().contains("after agreeing to TLS"), "{err}");
    // libcurl's tags for a handle's first connection, whatever came before
    // in this process.
    assert_eq!(
        seen.lock().unwrap()[..2],
        ["A001 CAPABILITY", "A002 STARTTLS"]
    );
}

#[test]
fn an_endless_pop3_capability_list_is_refused_bounded() {
    static ENDLESS: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let capa: &'static [u8] =
        ENDLESS.get_or_init(|| [&b"+OK here\r\n"[..], &b"X-MORE\r\n".repeat(5_000)].concat());
    let (server, _) = scripted(
        vec![(None, b"+OK POP3 ready\r\n"), (Some("CAPA"), capa)],
        false,
    );
    let started = Instant::now();
    let err = mail_easy(format!("pop3://127.0.0.1:{}/", server.port()))
        .perform()
        .unwrap_err();
    assert_eq!(err.code(), 100, "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_silent_smtp_server_is_bounded_by_the_connect_timeout() {
    let (server, _) = scripted(
        vec![(None, b"220 hi\r\n"), (Some("EHLO client.example"), b"")],
        false,
    );
    let mut easy = mail_easy(format!("smtp://127.0.0.1:{}/client.example", server.port()));
    easy.connect_timeout(Duration::from_millis(300)).unwrap();
    let started = Instant::now();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 28, "{err}");
    assert!(err.to_string().contains("SMTP greeting"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn garbage_greetings_are_weird_server_replies() {
    for (scheme, greeting) in [
        ("imap", &b"HTTP/1.1 200 OK\r\n"[..]),
        ("pop3", b"\x00\x01\x02garbage\r\n"),
        ("smtp", b"hello there\r\n"),
    ] {
        let (server, _) = scripted(vec![(None, greeting)], false);
        let err = mail_easy(format!("{scheme}://127.0.0.1:{}/", server.port()))
            .perform()
            .unwrap_err();
        assert_eq!(err.code(), 8, "{scheme}: {err}");
    }
}
