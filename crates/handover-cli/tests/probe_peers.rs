//! `handover probe` against the real servers and proxies a user points it
//! at: an HTTPS request to nginx (stopped after the head), the HTTPS proxy
//! (stunnel in front of squid: TLS to the proxy, CONNECT, TLS to the
//! target inside), FTP (vsftpd) and IMAP (dovecot) greetings and logins,
//! and NTLM proxy authentication (an in-process fake: no real NTLM proxy
//! runs on Debian without a domain).

mod common;

use std::io::Write;
use std::net::TcpListener;

use common::handover;
use handover_test_support::peers::{drain, ntlm_server_legs, TestPki};
use handover_test_support::real_peers::{
    Dovecot, FtpTls, Nginx, Squid, SquidAuth, Stunnel, Vsftpd, FTP_PASSWORD, FTP_USER,
    MAIL_PASSWORD, MAIL_USER,
};
use serde_json::Value;

/// The layer names of a JSON document's only attempt, in order.
fn layers(doc: &Value) -> Vec<String> {
    doc["attempts"][0]["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .map(|h| h["layer"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn json(run: &common::Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:?}"))
}

#[test]
fn an_https_request_to_nginx_is_timed_to_the_response_head() {
    let pki = TestPki::shared();
    let nginx = Nginx::shared(Some((&pki.server_chain_pem, &pki.server_key_pem)));
    nginx.put("probe.txt", b"hello from nginx\n");
    let ca = pki.write_temp("probe-peers-ca.pem", &pki.ca_pem);
    let url = format!("https://localhost:{}/probe.txt", nginx.tls_port().unwrap());
    let ca = ca.to_str().unwrap();
    let r = handover(
        &[
            "probe",
            &url,
            "--cacert",
            ca,
            "-w",
            "code=%{http_code} tls=%{tls_version} alpn=%{alpn}\n",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("(request, response head)"), "{r:?}");
    assert!(
        r.stdout.contains("response 200"),
        "the head's status: {r:?}"
    );
    assert!(
        r.stdout.contains("code=200 tls=TLSv1.") && r.stdout.contains("alpn=http/1.1"),
        "{r:?}"
    );
    let r = handover(&["probe", &url, "--cacert", ca, "--format", "json"], &[]);
    assert_eq!(r.code, 0, "{r:?}");
    let doc = json(&r);
    let l = layers(&doc);
    assert_eq!(l.first().map(String::as_str), Some("resolve"), "{l:?}");
    assert!(l.ends_with(&["tls".into(), "request".into()]), "{l:?}");
}

#[test]
fn through_the_https_proxy_both_tls_sessions_and_the_connect_are_rows() {
    let pki = TestPki::shared();
    let nginx = Nginx::shared(Some((&pki.server_chain_pem, &pki.server_key_pem)));
    nginx.put("probe.txt", b"hello from nginx\n");
    let squid = Squid::shared(SquidAuth::None);
    let stunnel = Stunnel::start(squid.addr(), &pki.server_chain_pem, &pki.server_key_pem);
    let ca = pki.write_temp("probe-peers-ca.pem", &pki.ca_pem);
    let ca = ca.to_str().unwrap();
    let url = format!("https://localhost:{}/probe.txt", nginx.tls_port().unwrap());
    let proxy = format!("https://localhost:{}", stunnel.port());
    let args = [
        "probe",
        &url,
        "-x",
        &proxy,
        "--proxy-cacert",
        ca,
        "--cacert",
        ca,
    ];
    let r = handover(&args, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("via 1 proxy"), "{r:?}");
    assert!(r.stdout.contains("tls-proxy"), "TLS to the proxy: {r:?}");
    assert!(r.stdout.contains("→ 200"), "the CONNECT's answer: {r:?}");
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let doc = json(&handover(&json_args, &[]));
    let l = layers(&doc);
    let at = |name: &str| l.iter().position(|x| x == name);
    let (proxy_tls, connect, tls) = (at("tls-proxy"), at("http-proxy"), at("tls"));
    assert!(
        proxy_tls < connect && connect < tls && proxy_tls.is_some(),
        "TLS to the proxy, then CONNECT, then TLS inside: {l:?}"
    );
    // The untrusted proxy certificate is 60, naming the proxy's layer.
    let other = pki.write_temp("probe-peers-other-ca.pem", &pki.other_ca_pem);
    let r = handover(
        &[
            "probe",
            &url,
            "-x",
            &proxy,
            "--proxy-cacert",
            other.to_str().unwrap(),
            "--cacert",
            ca,
        ],
        &[],
    );
    assert_eq!(r.code, 60, "{r:?}");
    assert!(r.stderr.contains("hop 1"), "the hop is named: {r:?}");
}

#[test]
fn ftp_and_imap_probes_time_the_greeting_and_login() {
    let ftp = Vsftpd::shared(FtpTls::None);
    let url = format!("ftp://{FTP_USER}:{FTP_PASSWORD}@127.0.0.1:{}/", ftp.port());
    let r = handover(&["probe", &url], &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("(connect only)"), "{r:?}");
    assert!(
        !r.all().contains(FTP_PASSWORD),
        "no password printed: {r:?}"
    );
    // vsftpd saw the login.
    ftp.wait_log("OK LOGIN", std::time::Duration::from_secs(10));

    let imap = Dovecot::shared();
    let url = format!(
        "imap://{MAIL_USER}:{MAIL_PASSWORD}@127.0.0.1:{}/",
        imap.imap_port()
    );
    let r = handover(&["probe", &url, "--format", "json"], &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        !r.all().contains(MAIL_PASSWORD),
        "no password printed: {r:?}"
    );
    let doc = json(&r);
    assert_eq!(doc["attempts"][0]["ok"], true, "{doc}");
    // A wrong password is curl's 67 (login denied).
    let url = format!("imap://{MAIL_USER}:wrong@127.0.0.1:{}/", imap.imap_port());
    let r = handover(&["probe", &url], &[]);
    assert_eq!(r.code, 67, "{r:?}");
}

#[test]
fn ntlm_proxy_authentication_shows_its_round_and_keeps_the_password_out() {
    let password = "ntlm-pr0be-secret";
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let fake = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        ntlm_server_legs(
            &mut stream,
            "407 Proxy Authentication Required",
            "Proxy-Authenticate",
            "Proxy-Authorization",
            "alice",
        );
        stream
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .unwrap();
        let _ = drain(&mut stream);
    });
    let proxy = format!("http://127.0.0.1:{port}");
    let r = handover(
        &[
            "probe",
            "-v",
            "-x",
            &proxy,
            "--proxy-ntlm",
            "-U",
            "alice",
            "example.invalid:443",
        ],
        &[("HANDOVER_PROXY_PASSWORD", password)],
    );
    fake.join().unwrap();
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("NTLM"),
        "the scheme in the hop's row: {r:?}"
    );
    assert!(r.stdout.contains("→ 200"), "{r:?}");
    assert!(!r.all().contains(password), "{r:?}");
}
