//! The IMAP, POP3 and SMTP connect phases against dovecot and aiosmtpd
//! (started on loopback once per test binary): greetings, capabilities,
//! STARTTLS, SASL and plain logins; then the test continues the session
//! by hand, and checks in the servers' logs that handover never sent
//! `LOGOUT` or `QUIT`.

mod common;

use std::time::{Duration, Instant};

use common::{capture_verbose, recv_exact};
use handover::{ConnectOnly, Easy, ErrorKind, UseSsl};
use handover_test_support::peers::TestPki;
use handover_test_support::real_peers::{
    Dovecot, Microsocks, SmtpServer, Squid, SquidAuth, MAIL_PASSWORD, MAIL_USER,
};

fn mail_easy(url: &str) -> Easy {
    let pki = TestPki::shared();
    let mut easy = Easy::new();
    easy.url(url).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.connect_timeout(Duration::from_secs(20)).unwrap();
    easy.cainfo(pki.write_temp("mail-ca.pem", &pki.ca_pem))
        .unwrap();
    easy
}

fn login(easy: &mut Easy) {
    easy.username(MAIL_USER).unwrap();
    easy.password(MAIL_PASSWORD).unwrap();
}

/// Sends `line` and reads until a line starting with `until` ends.
fn exchange(easy: &mut Easy, line: &str, until: &str) -> String {
    let bytes = format!("{line}\r\n");
    let mut sent = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while sent < bytes.len() {
        match easy.send(&bytes.as_bytes()[sent..]) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::Again && Instant::now() < deadline => {
                easy.wait_writable(Some(Duration::from_millis(100)))
                    .unwrap();
            }
            Err(e) => panic!("send {line}: {e}"),
        }
    }
    let mut got = String::new();
    loop {
        got.push_str(&String::from_utf8_lossy(&recv_exact(easy, 1)));
        if got.ends_with("\r\n") {
            let last = got.trim_end().rsplit("\r\n").next().unwrap_or_default();
            if last.starts_with(until) {
                return got;
            }
        }
    }
}

#[test]
fn imap_hands_over_a_logged_in_session_with_the_next_tag_free() {
    let dovecot = Dovecot::shared();
    for (url, use_ssl) in [
        (
            format!("imap://127.0.0.1:{}/", dovecot.imap_port()),
            UseSsl::None,
        ),
        (
            format!("imap://127.0.0.1:{}/", dovecot.imap_port()),
            UseSsl::All,
        ),
        (
            format!("imaps://127.0.0.1:{}/", dovecot.imaps_port()),
            UseSsl::None,
        ),
    ] {
        let mut easy = mail_easy(&url);
        easy.use_ssl(use_ssl).unwrap();
        login(&mut easy);
        let log = capture_verbose(&mut easy);
        easy.perform()
            .unwrap_or_else(|e| panic!("{url} {use_ssl:?}: {e}\n{}", log.lock().unwrap()));
        // Logged in: SELECT works. libcurl used A001 (CAPABILITY) and A002
        // (the login); the session goes on from the next tag.
        let reply = exchange(&mut easy, "Z001 SELECT INBOX", "Z001 ");
        assert!(reply.contains("Z001 OK"), "{url}: {reply}");
        let log = log.lock().unwrap();
        assert!(log.contains("CAPABILITY"), "{log}");
        assert!(!log.contains(MAIL_PASSWORD), "{log}");
        if use_ssl == UseSsl::All {
            assert!(log.contains("STARTTLS"), "{log}");
        }
    }
    // Without credentials: capabilities only, no login.
    let mut easy = mail_easy(&format!("imap://127.0.0.1:{}/", dovecot.imap_port()));
    easy.perform().unwrap();
    let reply = exchange(&mut easy, "Z002 SELECT INBOX", "Z002 ");
    assert!(
        reply.contains("Z002 BAD") || reply.contains("Z002 NO"),
        "{reply}"
    );
}

#[test]
fn imap_wrong_password_is_67_and_no_logout_is_ever_sent() {
    let dovecot = Dovecot::shared();
    let mut easy = mail_easy(&format!("imap://127.0.0.1:{}/", dovecot.imap_port()));
    easy.username(MAIL_USER).unwrap();
    easy.password("not it").unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 67, "{err}");

    let mut easy = mail_easy(&format!("imap://127.0.0.1:{}/", dovecot.imap_port()));
    login(&mut easy);
    easy.perform().unwrap();
    drop(easy);
    // dovecot says "Logged out" only for a LOGOUT; a close is "Connection closed".
    let log = dovecot.wait_log("Connection closed", Duration::from_secs(10));
    assert!(!log.contains("Logged out"), "{log}");
}

#[test]
fn pop3_logs_in_with_sasl_apop_or_user_pass() {
    let dovecot = Dovecot::shared();
    for options in [
        None,
        Some("AUTH=+APOP"),
        Some("AUTH=CRAM-MD5"),
        Some("AUTH=PLAIN"),
    ] {
        let mut easy = mail_easy(&format!("pop3://127.0.0.1:{}/", dovecot.pop3_port()));
        login(&mut easy);
        easy.login_options(options).unwrap();
        let log = capture_verbose(&mut easy);
        easy.perform()
            .unwrap_or_else(|e| panic!("{options:?}: {e}\n{}", log.lock().unwrap()));
        let reply = exchange(&mut easy, "STAT", "+OK");
        assert!(reply.starts_with("+OK"), "{options:?}: {reply}");
        assert!(!log.lock().unwrap().contains(MAIL_PASSWORD));
    }
    // STLS, and implicit TLS.
    for (url, use_ssl) in [
        (
            format!("pop3://127.0.0.1:{}/", dovecot.pop3_port()),
            UseSsl::All,
        ),
        (
            format!("pop3s://127.0.0.1:{}/", dovecot.pop3s_port()),
            UseSsl::None,
        ),
    ] {
        let mut easy = mail_easy(&url);
        easy.use_ssl(use_ssl).unwrap();
        login(&mut easy);
        easy.perform().unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(exchange(&mut easy, "STAT", "+OK").starts_with("+OK"));
    }
}

#[test]
fn tls_required_from_servers_without_it_fails_with_64() {
    let dovecot = Dovecot::shared();
    let smtp = SmtpServer::shared();
    for url in [
        format!("imap://{}/", dovecot.imap_no_tls_addr()),
        format!("pop3://{}/", dovecot.pop3_no_tls_addr()),
        format!("smtp://127.0.0.1:{}/", smtp.no_tls_port()),
    ] {
        let mut easy = mail_easy(&url);
        easy.use_ssl(UseSsl::All).unwrap();
        login(&mut easy);
        let err = easy.perform().unwrap_err();
        assert_eq!(err.code(), 64, "{url}: {err}");
    }
}

#[test]
fn smtp_greets_authenticates_and_never_quits() {
    let smtp = SmtpServer::shared();
    for (url, use_ssl, options) in [
        (
            format!("smtp://127.0.0.1:{}/client.example", smtp.port()),
            UseSsl::None,
            None,
        ),
        (
            format!("smtp://127.0.0.1:{}/client.example", smtp.port()),
            UseSsl::All,
            Some("AUTH=LOGIN"),
        ),
        (
            format!("smtps://127.0.0.1:{}/client.example", smtp.tls_port()),
            UseSsl::None,
            Some("AUTH=CRAM-MD5"),
        ),
    ] {
        let mut easy = mail_easy(&url);
        easy.use_ssl(use_ssl).unwrap();
        easy.login_options(options).unwrap();
        login(&mut easy);
        let log = capture_verbose(&mut easy);
        easy.perform()
            .unwrap_or_else(|e| panic!("{url}: {e}\n{}", log.lock().unwrap()));
        assert_eq!(easy.response_code().unwrap(), 235, "{url}");
        let reply = exchange(&mut easy, "NOOP", "250");
        assert!(reply.starts_with("250"), "{url}: {reply}");
        let port = easy.info().local_addr().unwrap().port();
        drop(easy);
        smtp.wait_log("lost", Duration::from_secs(10));
        let commands = smtp.commands_from(port);
        assert!(
            commands.iter().any(|c| c == "EHLO client.example"),
            "{commands:?}"
        );
        assert!(!commands.iter().any(|c| c == "QUIT"), "{commands:?}");
    }
    // Without credentials: greeting and EHLO only.
    let mut easy = mail_easy(&format!("smtp://127.0.0.1:{}/", smtp.port()));
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 250);
}

#[test]
fn mail_goes_through_a_squid_tunnel_and_socks5_by_itself() {
    // smtp:// through an HTTP proxy is tunnelled without being asked.
    let smtp = SmtpServer::shared();
    let squid = Squid::shared(SquidAuth::None);
    let microsocks = Microsocks::shared(None);
    for proxy in [
        format!("http://127.0.0.1:{}", squid.port()),
        format!("socks5h://127.0.0.1:{}", microsocks.port()),
    ] {
        let mut easy = mail_easy(&format!("smtp://127.0.0.1:{}/client.example", smtp.port()));
        easy.proxy(&proxy).unwrap();
        easy.use_ssl(UseSsl::All).unwrap();
        login(&mut easy);
        easy.perform().unwrap_or_else(|e| panic!("{proxy}: {e}"));
        assert_eq!(easy.response_code().unwrap(), 235, "{proxy}");
    }
}

#[test]
fn imap_idle_runs_on_the_handed_session() {
    // The documented reason to take IMAP connect-only: run IDLE yourself.
    let dovecot = Dovecot::shared();
    let mut easy = mail_easy(&format!("imap://127.0.0.1:{}/", dovecot.imap_port()));
    login(&mut easy);
    easy.perform().unwrap();
    assert!(exchange(&mut easy, "Z1 SELECT INBOX", "Z1 ").contains("Z1 OK"));
    assert!(exchange(&mut easy, "Z2 IDLE", "+ ").starts_with("+ "));
    assert!(exchange(&mut easy, "DONE", "Z2 ").contains("Z2 OK"));
}

#[test]
fn a_multi_logs_in_to_ftp_imap_pop3_and_smtp_at_once() {
    use handover::Multi;
    use handover_test_support::real_peers::{FtpTls, Vsftpd};
    let dovecot = Dovecot::shared();
    let smtp = SmtpServer::shared();
    let ftp = Vsftpd::shared(FtpTls::Explicit);
    let urls = [
        format!("ftp://127.0.0.1:{}/", ftp.port()),
        format!("imap://127.0.0.1:{}/", dovecot.imap_port()),
        format!("pop3://127.0.0.1:{}/", dovecot.pop3_port()),
        format!("smtp://127.0.0.1:{}/client.example", smtp.port()),
    ];
    let mut multi = Multi::new();
    let mut handles = Vec::new();
    for (i, url) in urls.iter().enumerate() {
        let mut easy = mail_easy(url);
        easy.use_ssl(UseSsl::All).unwrap();
        if !url.starts_with("ftp") {
            login(&mut easy);
        }
        let mut handle = multi.add(easy).unwrap();
        handle.set_token(i);
        handles.push(handle);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut done = Vec::new();
    while done.len() < urls.len() {
        assert!(Instant::now() < deadline, "multi stalled: {done:?}");
        multi.perform().unwrap();
        multi.messages(|m| done.push((m.token(), m.result())));
        multi.wait(&mut [], Duration::from_millis(50)).unwrap();
    }
    for (token, result) in &done {
        assert!(result.is_ok(), "{}: {result:?}", urls[*token]);
    }
    // Each session stays the application's while its handle is added.
    for (i, handle) in handles.iter().enumerate() {
        assert!(handle.active_socket().is_some(), "{}", urls[i]);
    }
}
