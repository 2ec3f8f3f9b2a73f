//! The FTP connect phase against vsftpd (started on loopback, once per test
//! binary): anonymous and user logins, explicit (`AUTH TLS`) and implicit
//! FTPS, refusals, proxies; then the test drives the control connection by
//! hand, and checks in vsftpd's command log that handover never sent a
//! `QUIT`.

mod common;

use std::time::{Duration, Instant};

use common::{capture_verbose, recv_exact};
use handover::{ConnectOnly, Easy, ErrorKind, NetRc, ProxyType, UseSsl};
use handover_test_support::peers::TestPki;
use handover_test_support::real_peers::{
    Dante, FtpTls, Microsocks, Squid, SquidAuth, Vsftpd, FTP_PASSWORD, FTP_USER,
};

fn ca() -> std::path::PathBuf {
    let pki = TestPki::shared();
    pki.write_temp("ftp-ca.pem", &pki.ca_pem)
}

fn ftp_easy(scheme: &str, port: u16) -> Easy {
    let mut easy = Easy::new();
    easy.url(&format!("{scheme}://127.0.0.1:{port}/")).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.connect_timeout(Duration::from_secs(20)).unwrap();
    easy.cainfo(ca()).unwrap();
    easy
}

/// Sends `command` and reads one reply line (the replies used are one line).
fn command(easy: &mut Easy, command: &str) -> String {
    let line = format!("{command}\r\n");
    let mut sent = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while sent < line.len() {
        match easy.send(&line.as_bytes()[sent..]) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::Again && Instant::now() < deadline => {
                easy.wait_writable(Some(Duration::from_millis(100)))
                    .unwrap();
            }
            Err(e) => panic!("send {command}: {e}"),
        }
    }
    let mut reply = Vec::new();
    while !reply.ends_with(b"\r\n") {
        reply.extend(recv_exact(easy, 1));
    }
    String::from_utf8(reply).unwrap()
}

/// Drops the handle, then waits until vsftpd has logged everything the
/// connection carried; returns the commands of that connection.
fn commands_after(server: &Vsftpd, easy: Easy, last: &str) -> Vec<String> {
    drop(easy);
    server.wait_log(last, Duration::from_secs(10));
    server.commands()
}

#[test]
fn anonymous_connect_only_hands_over_a_logged_in_control_connection() {
    let server = Vsftpd::shared(FtpTls::None);
    let mut easy = ftp_easy("ftp", server.port());
    let log = capture_verbose(&mut easy);
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 257);
    // Logged in: the server answers what only a logged-in session may ask.
    let marker = format!("NOOP anonymous-{}", std::process::id());
    assert!(command(&mut easy, "SYST").starts_with("215 "));
    assert!(command(&mut easy, &marker).starts_with("200 "));
    let commands = commands_after(server, easy, &marker);
    assert!(!commands.iter().any(|c| c == "QUIT"), "{commands:?}");
    let log = log.lock().unwrap();
    for line in [
        "< 220",
        "> USER anonymous",
        "> PASS <hidden>",
        "> PWD",
        "< 257",
    ] {
        assert!(log.contains(line), "no {line:?} in\n{log}");
    }
}

#[test]
fn a_user_logs_in_with_the_urls_credentials_or_the_options() {
    let server = Vsftpd::shared(FtpTls::None);
    let mut easy = Easy::new();
    easy.url(&format!(
        "ftp://{FTP_USER}:{FTP_PASSWORD}@127.0.0.1:{}/",
        server.port()
    ))
    .unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.perform().unwrap();
    assert!(command(&mut easy, "PWD").starts_with("257 \"/\""));

    let mut easy = ftp_easy("ftp", server.port());
    easy.username(FTP_USER).unwrap();
    easy.password("not the password").unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 67, "{err}");
    assert!(err.to_string().contains("530"), "{err}");
    assert_eq!(easy.response_code().unwrap(), 530);
}

#[test]
fn explicit_ftps_logs_in_under_tls_after_auth_tls() {
    let server = Vsftpd::shared(FtpTls::Explicit);
    let mut easy = ftp_easy("ftp", server.port());
    easy.use_ssl(UseSsl::All).unwrap();
    easy.username(FTP_USER).unwrap();
    easy.password(FTP_PASSWORD).unwrap();
    let log = capture_verbose(&mut easy);
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 257);
    assert!(easy.appconnect_time().unwrap() > Duration::ZERO);
    // The application's commands go through TLS: vsftpd answers them.
    assert!(command(&mut easy, "NOOP").starts_with("200 "));
    let log = log.lock().unwrap();
    let order = [
        "> AUTH TLS",
        "< 234",
        "TLS",
        "> USER handover-ftp",
        "> PBSZ 0",
        "> PROT P",
        "> PWD",
    ];
    let mut at = 0;
    for step in order {
        let found = log[at..]
            .find(step)
            .unwrap_or_else(|| panic!("no {step:?} after byte {at} in\n{log}"));
        at += found;
    }
}

#[test]
fn implicit_ftps_is_tls_from_the_start() {
    let server = Vsftpd::shared(FtpTls::Implicit);
    let mut easy = ftp_easy("ftps", server.port());
    let log = capture_verbose(&mut easy);
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 257);
    // Timed at the TLS handshake, before the login, as libcurl's.
    let appconnect = easy.appconnect_time().unwrap();
    assert!(appconnect > easy.connect_time().unwrap());
    assert!(appconnect < easy.total_time().unwrap());
    assert!(command(&mut easy, "NOOP").starts_with("200 "));
    let log = log.lock().unwrap();
    assert!(!log.contains("AUTH TLS"), "{log}");
    assert!(log.contains("> PROT P"), "{log}");
}

#[test]
fn tls_required_from_a_server_without_it_fails_with_64_and_try_goes_on() {
    let server = Vsftpd::shared(FtpTls::None);
    let mut easy = ftp_easy("ftp", server.port());
    easy.use_ssl(UseSsl::All).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 64, "{err}");

    let mut easy = ftp_easy("ftp", server.port());
    easy.use_ssl(UseSsl::Try).unwrap();
    easy.perform().unwrap();
    assert!(command(&mut easy, "NOOP").starts_with("200 "));
}

#[test]
fn ftp_goes_through_socks_proxies_and_a_squid_tunnel() {
    let server = Vsftpd::shared(FtpTls::Explicit);
    let squid = Squid::shared(SquidAuth::None);
    let microsocks = Microsocks::shared(None);
    let dante = Dante::shared();
    for (proxy, kind, tunnel) in [
        (squid.port(), ProxyType::Http, true),
        (microsocks.port(), ProxyType::Socks5, false),
        (dante.port(), ProxyType::Socks4, false),
    ] {
        let mut easy = ftp_easy("ftp", server.port());
        easy.proxy(&format!("127.0.0.1:{proxy}")).unwrap();
        easy.proxy_type(kind).unwrap();
        easy.http_proxy_tunnel(tunnel).unwrap();
        easy.use_ssl(UseSsl::All).unwrap();
        easy.perform().unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(easy.response_code().unwrap(), 257, "{kind:?}");
        assert!(command(&mut easy, "NOOP").starts_with("200 "), "{kind:?}");
    }
}

#[test]
fn ftp_through_an_http_proxy_without_a_tunnel_ends_at_the_proxy() {
    // libcurl sends ftp:// to an HTTP proxy as HTTP: connect-only stops at
    // the proxy and no login happens.
    let server = Vsftpd::shared(FtpTls::None);
    let squid = Squid::shared(SquidAuth::None);
    let mut easy = ftp_easy("ftp", server.port());
    easy.proxy(&format!("http://127.0.0.1:{}", squid.port()))
        .unwrap();
    let log = capture_verbose(&mut easy);
    easy.perform().unwrap();
    assert_eq!(easy.primary_port().unwrap(), squid.port());
    assert_eq!(easy.response_code().unwrap(), 0);
    assert!(!log.lock().unwrap().contains("USER"));
}

#[test]
fn netrc_gives_the_ftp_login() {
    let server = Vsftpd::shared(FtpTls::None);
    let netrc = TestPki::shared().write_temp(
        "ftp-netrc",
        &format!("machine 127.0.0.1 login {FTP_USER} password {FTP_PASSWORD}\n"),
    );
    let mut easy = ftp_easy("ftp", server.port());
    easy.netrc(NetRc::Required).unwrap();
    easy.netrc_file(&netrc).unwrap();
    let log = capture_verbose(&mut easy);
    easy.perform().unwrap();
    assert!(log.lock().unwrap().contains(&format!("> USER {FTP_USER}")));
    assert!(command(&mut easy, "PWD").starts_with("257 "));
}
