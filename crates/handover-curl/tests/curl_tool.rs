//! The system's `curl` binary (Debian's curl 7.88.1 tool) run twice on the
//! same command line — once on Debian's libcurl, once on handover's
//! libcurl.so.4 through `LD_LIBRARY_PATH` — against real nginx, squid and
//! microsocks (and `openssl s_server` for client certificates and OCSP
//! stapling): the same stdout (bodies; `-I` heads with the per-response
//! `Date`, `ETag` and `Last-Modified` masked), the same exit code, the same
//! verbose milestones in the same order, and no password printed.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::{assert_same, assert_same_exiting, both, run_both, stdout};
use handover_test_support::peers::TestPki;
use handover_test_support::real_peers::{
    ocsp_response, ClientKeyFiles, Dnsdist, Microsocks, Nginx, OcspStatus, OpensslServer,
    OpensslServerSetup, Squid, SquidAuth, DOH_NAME,
};

/// The page the tests fetch.
const PAGE: &[u8] = b"a page served by nginx for the curl tool on handover\n";

/// The nginx of this binary, plain and TLS, with [`PAGE`] as `page.txt`.
fn nginx() -> &'static Nginx {
    let pki = TestPki::shared();
    let nginx = Nginx::shared(Some((&pki.server_chain_pem, &pki.server_key_pem)));
    nginx.put("page.txt", PAGE);
    nginx
}

/// The test CA's file, for `--cacert`.
fn ca_file() -> String {
    let pki = TestPki::shared();
    pki.write_temp("curl-tool-ca.pem", &pki.ca_pem)
        .display()
        .to_string()
}

/// `http://127.0.0.1:PORT/page.txt`.
fn http_url() -> String {
    format!("http://127.0.0.1:{}/page.txt", nginx().port())
}

/// `https://localhost:PORT/page.txt`.
fn https_url() -> String {
    format!(
        "https://localhost:{}/page.txt",
        nginx().tls_port().expect("nginx with TLS")
    )
}

/// Runs `/usr/bin/curl args` on both libraries.
fn curl(args: &[&str]) -> (Output, Output) {
    run_both(Path::new("/usr/bin/curl"), args)
}

/// Runs `curl -s -w <write_out> <args>` on both libraries with `env`
/// added, and checks the system curl's output ends with `last` and that
/// both printed the same.
fn same_write_out(write_out: &str, args: &[&str], env: &[(&str, &str)], last: &str) {
    let args = [&["-s", "-w", write_out][..], args].concat();
    let (system, ours) = common::run_both_env(Path::new("/usr/bin/curl"), &args, env);
    assert!(
        stdout(&system).ends_with(last),
        "{args:?}: {}",
        both(&system, &ours)
    );
    assert_same(&system, &ours);
}

/// Stderr as text.
fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_get_over_http_and_https_prints_the_same_body() {
    let ca = ca_file();
    for args in [
        vec!["-s", http_url().leak() as &str],
        vec!["-s", "--cacert", ca.as_str(), https_url().leak()],
    ] {
        let (system, ours) = curl(&args);
        assert_eq!(system.stdout, PAGE, "{}", both(&system, &ours));
        assert_same(&system, &ours);
    }
}

#[test]
fn unix_socket_reaches_nginx_over_http_and_https() {
    let ca = ca_file();
    let plain = nginx().unix_socket().display().to_string();
    let tls = nginx().tls_unix_socket().unwrap().display().to_string();
    let page = "http://localhost/page.txt";
    for (args, served) in [
        (vec!["--unix-socket", plain.as_str(), page], true),
        (
            vec![
                "--cacert",
                ca.as_str(),
                "--unix-socket",
                tls.as_str(),
                "https://localhost/page.txt",
            ],
            true,
        ),
        // Nothing listens there: exit 7.
        (
            vec!["--unix-socket", "/nonexistent/handover.sock", page],
            false,
        ),
    ] {
        let args = [&["-s"][..], &args].concat();
        let (system, ours) = curl(&args);
        if served {
            assert_eq!(system.stdout, PAGE, "{}", both(&system, &ours));
            assert_same(&system, &ours);
        } else {
            assert_same_exiting(&system, &ours, 7, &format!("{args:?}"));
        }
    }
}

/// A head with the values that differ per response masked.
fn masked_head(out: &Output) -> String {
    stdout(out)
        .lines()
        .map(|line| {
            let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
            if ["date", "etag", "last-modified"].contains(&name.as_str()) {
                format!("{name}: ...")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn dash_capital_i_prints_the_same_head() {
    let ca = ca_file();
    for args in [
        vec!["-sI", http_url().leak() as &str],
        vec!["-sI", "--cacert", ca.as_str(), https_url().leak()],
    ] {
        let (system, ours) = curl(&args);
        let theirs = masked_head(&system);
        assert!(theirs.starts_with("HTTP/1.1 200 OK"), "{theirs}");
        assert!(theirs.contains("Content-Length: 53"), "{theirs}");
        assert_eq!(theirs, masked_head(&ours), "{}", both(&system, &ours));
        assert_eq!(system.status.code(), ours.status.code());
    }
}

#[test]
fn write_out_gives_the_same_code_and_counts_and_times_in_the_same_format() {
    let ca = ca_file();
    let format = "%{http_code} %{time_connect} %{time_appconnect} %{num_connects}";
    for (url, tls) in [(http_url(), false), (https_url(), true)] {
        let (system, ours) = curl(&["-s", "-o", "/dev/null", "--cacert", &ca, "-w", format, &url]);
        assert_eq!(system.status.code(), Some(0), "{}", both(&system, &ours));
        assert_eq!(ours.status.code(), Some(0), "{}", both(&system, &ours));
        let fields =
            |out: &Output| -> Vec<String> { stdout(out).split(' ').map(str::to_owned).collect() };
        let (theirs, mine) = (fields(&system), fields(&ours));
        assert_eq!(mine.len(), 4, "{}", both(&system, &ours));
        assert_eq!((&theirs[0], &theirs[3]), (&mine[0], &mine[3]));
        assert_eq!(mine[0], "200");
        for (field, (a, b)) in theirs.iter().zip(&mine).enumerate().skip(1).take(2) {
            for t in [a, b] {
                // libcurl's "%.6f" seconds.
                let (whole, frac) = t.split_once('.').unwrap_or_else(|| panic!("{t}"));
                assert!(whole.parse::<u64>().is_ok() && frac.len() == 6, "{t}");
            }
            // time_appconnect is 0 without TLS, positive with it, on both.
            if field == 2 {
                assert_eq!(a == "0.000000", b == "0.000000", "{a} {b}");
                assert_eq!(b != "0.000000", tls, "{b}");
            }
        }
    }
}

#[test]
fn through_squid_with_basic_as_a_tunnel_and_digest() {
    let ca = ca_file();
    let basic = Squid::shared(SquidAuth::Basic {
        user: "alice".into(),
        password: "basic-tool-secret".into(),
    });
    let proxy = format!("http://alice:basic-tool-secret@127.0.0.1:{}", basic.port());
    let (system, ours) = curl(&["-s", "-x", &proxy, "-p", "--cacert", &ca, &https_url()]);
    assert_eq!(system.stdout, PAGE, "{}", both(&system, &ours));
    assert_same(&system, &ours);

    let digest = Squid::shared(SquidAuth::Digest {
        user: "alice".into(),
        password: "digest-tool-secret".into(),
        realm: "handover".into(),
    });
    let proxy = format!("http://127.0.0.1:{}", digest.port());
    for target in [http_url(), https_url()] {
        let (system, ours) = curl(&[
            "-s",
            "--proxy-digest",
            "-U",
            "alice:digest-tool-secret",
            "-x",
            &proxy,
            "-p",
            "--cacert",
            &ca,
            &target,
        ]);
        assert_eq!(system.stdout, PAGE, "{}", both(&system, &ours));
        assert_same(&system, &ours);
    }
}

#[test]
fn server_authentication_with_user_and_bearer_token() {
    use handover_test_support::real_peers::{BASIC_PASSWORD, BASIC_USER, BEARER_TOKEN};
    nginx().put("basic/page.txt", PAGE);
    nginx().put("bearer/page.txt", PAGE);
    let base = format!("http://127.0.0.1:{}", nginx().port());
    let basic = format!("{base}/basic/page.txt");
    let bearer = format!("{base}/bearer/page.txt");
    let user = format!("{BASIC_USER}:{BASIC_PASSWORD}");
    for (args, served) in [
        (vec!["-u", user.as_str(), basic.as_str()], true),
        (vec!["-u", "alice:wrong", basic.as_str()], false),
        (vec![basic.as_str()], false),
        (vec!["--oauth2-bearer", BEARER_TOKEN, bearer.as_str()], true),
        (vec!["--oauth2-bearer", "wrong", bearer.as_str()], false),
    ] {
        let code = if served { "200\n" } else { "401\n" };
        same_write_out("%{http_code}\\n", &args, &[], code);
    }
}

#[test]
fn digest_and_anyauth_answer_lighttpds_401() {
    use handover_test_support::real_peers::{Lighttpd, BASIC_PASSWORD, BASIC_USER};
    let server = Lighttpd::shared();
    server.put("digest/page.txt", PAGE);
    server.put("any/page.txt", PAGE);
    let user = format!("{BASIC_USER}:{BASIC_PASSWORD}");
    let digest = format!("http://127.0.0.1:{}/digest/page.txt", server.port());
    let any = format!("http://127.0.0.1:{}/any/page.txt", server.port());
    for (args, served) in [
        (vec!["--digest", "-u", user.as_str(), digest.as_str()], true),
        (
            vec!["--anyauth", "-u", user.as_str(), digest.as_str()],
            true,
        ),
        (vec!["--anyauth", "-u", user.as_str(), any.as_str()], true),
        (
            vec!["--digest", "-u", "alice:wrong", digest.as_str()],
            false,
        ),
    ] {
        let last = if served { "200 1\n" } else { "401 1\n" };
        same_write_out("%{http_code} %{num_connects}\\n", &args, &[], last);
    }
}

#[test]
fn cipher_and_curve_lists_choose_what_tls_uses() {
    let ca = ca_file();
    let url = https_url();
    // The TLS version and suite each library reports ("SSL connection
    // using TLSv1.2 / ..."): libcurl names suites as OpenSSL does, handover
    // by their IANA names.
    let negotiated = |out: &Output| {
        stderr(out)
            .lines()
            .find_map(|l| l.strip_prefix("* SSL connection using "))
            .map(|l| {
                l.replace(
                    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                    "ECDHE-ECDSA-AES256-GCM-SHA384",
                )
            })
    };
    for (args, code) in [
        (vec!["--tls13-ciphers", "TLS_CHACHA20_POLY1305_SHA256"], 0),
        (
            vec![
                "--tls-max",
                "1.2",
                "--ciphers",
                "ECDHE-ECDSA-AES256-GCM-SHA384",
            ],
            0,
        ),
        (vec!["--curves", "P-256"], 0),
        (vec!["--curves", "P-384"], 35),
        (vec!["--ciphers", "NO-SUCH-CIPHER", "--tls-max", "1.2"], 59),
        (vec!["--curves", "no-such-curve"], 59),
    ] {
        let args = [
            &["-sv", "--cacert", ca.as_str()][..],
            &args,
            &[url.as_str()],
        ]
        .concat();
        let (system, ours) = curl(&args);
        assert_same_exiting(&system, &ours, code, &format!("{args:?}"));
        assert_eq!(
            negotiated(&system),
            negotiated(&ours),
            "{args:?}: {}",
            both(&system, &ours)
        );
    }
}

#[test]
fn a_crl_file_revokes_the_servers_certificate_on_both_libraries() {
    let pki = TestPki::shared();
    let ca = ca_file();
    let revoking = pki.write_temp("curl-tool-revoking.crl", &pki.crl_revoking_server_pem);
    let empty = pki.write_temp("curl-tool-empty.crl", &pki.crl_empty_pem);
    let garbage = pki.write_temp("curl-tool-garbage.crl", "not a CRL\n");
    let url = https_url();
    for (crl, code) in [(&empty, 0), (&revoking, 60), (&garbage, 82)] {
        let crl = crl.display().to_string();
        let (system, ours) = curl(&["-s", "--cacert", &ca, "--crlfile", &crl, &url]);
        assert_same_exiting(&system, &ours, code, &crl);
    }
}

#[test]
fn netrc_files_give_the_credentials_on_both_libraries() {
    use handover_test_support::real_peers::{BASIC_PASSWORD, BASIC_USER};
    nginx().put("basic/page.txt", PAGE);
    let url = format!("http://127.0.0.1:{}/basic/page.txt", nginx().port());
    let home = common::scratch_dir().join("netrc-home");
    std::fs::create_dir_all(&home).unwrap();
    let netrc = home.join(".netrc");
    std::fs::write(
        &netrc,
        format!("machine 127.0.0.1\n  login {BASIC_USER}\n  password \"{BASIC_PASSWORD}\"\n"),
    )
    .unwrap();
    let file = netrc.display().to_string();
    let home = home.display().to_string();
    for (args, code) in [
        (vec!["--netrc-file", file.as_str(), url.as_str()], "200"),
        (vec!["-n", url.as_str()], "200"),
        (vec![url.as_str()], "401"),
    ] {
        let last = format!("{code}\n");
        same_write_out("%{http_code}\\n", &args, &[("HOME", &home)], &last);
    }
}

#[test]
fn haproxy_protocol_tells_nginx_the_client_on_both_libraries() {
    let url = format!(
        "http://127.0.0.1:{}/page.txt",
        nginx().proxy_protocol_port()
    );
    let before = nginx().proxy_protocol_log(0, Duration::ZERO).len();
    let (system, ours) = curl(&["-s", "--haproxy-protocol", &url]);
    assert_eq!(system.stdout, PAGE, "{}", both(&system, &ours));
    assert_same(&system, &ours);
    // One line each, both naming the client 127.0.0.1 and nginx's port.
    let log = nginx().proxy_protocol_log(before + 2, Duration::from_secs(10));
    let lines = log.get(before..).unwrap_or_default();
    assert_eq!(lines.len(), 2, "{log:?}");
    for line in lines {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields[0], "127.0.0.1", "{line}");
        assert_eq!(fields[2], "127.0.0.1", "{line}");
        assert_eq!(
            fields[3],
            nginx().proxy_protocol_port().to_string(),
            "{line}"
        );
        assert!(line.ends_with("\"GET /page.txt HTTP/1.1\" 200"), "{line}");
    }
}

#[test]
fn through_microsocks_with_socks5_hostname() {
    let socks = Microsocks::shared(None);
    let proxy = format!("127.0.0.1:{}", socks.port());
    let url = format!("http://localhost:{}/page.txt", nginx().port());
    let (system, ours) = curl(&["-s", "--socks5-hostname", &proxy, &url]);
    assert_eq!(system.stdout, PAGE, "{}", both(&system, &ours));
    assert_same(&system, &ours);
}

/// The steps of a tunnelled TLS GET, each as a line prefix, in libcurl's
/// order.
const MILESTONES: [&str; 12] = [
    "* Trying 127.0.0.1:",
    "* Connected to ",
    "* Establish HTTP proxy tunnel to localhost:",
    "> CONNECT localhost:",
    "< HTTP/1.1 200",
    "* ALPN: offers ",
    "* SSL connection using TLSv1.",
    "* ALPN: server accepted http/1.1",
    "* Server certificate:",
    "> GET /page.txt HTTP/1.1",
    "< Content-Length: 53",
    // libcurl numbers the connection ("#0"); handover does not.
    "* Connection ",
];

/// The milestones in the order they first appear in `text`.
fn milestones(text: &str) -> Vec<&'static str> {
    let mut seen = Vec::new();
    for line in text.lines() {
        // curl indents "Trying" with blanks after the star; the tool's
        // progress meter may share the line.
        let line = line.replacen("*   ", "* ", 1);
        for m in MILESTONES {
            let later = m != "* Connection " || seen.len() == MILESTONES.len() - 1;
            if later && line.starts_with(m) && !seen.contains(&m) {
                seen.push(m);
            }
        }
    }
    seen
}

#[test]
fn verbose_has_libcurls_shape_and_prints_no_password() {
    let ca = ca_file();
    let squid = Squid::shared(SquidAuth::Basic {
        user: "alice".into(),
        password: "basic-tool-secret".into(),
    });
    let proxy = format!("http://alice:basic-tool-secret@127.0.0.1:{}", squid.port());
    let (system, ours) = curl(&[
        "-s",
        "-v",
        "-x",
        &proxy,
        "-p",
        "--cacert",
        &ca,
        &https_url(),
    ]);
    assert_same(&system, &ours);
    let (theirs, mine) = (stderr(&system), stderr(&ours));
    assert_eq!(milestones(&theirs), MILESTONES, "{theirs}");
    assert_eq!(milestones(&mine), MILESTONES, "{}", both(&system, &ours));
    // Every verbose line has libcurl's prefixes.
    for line in mine.lines().filter(|l| !l.is_empty()) {
        assert!(
            ["* ", "> ", "< ", "{ ", "} "]
                .iter()
                .any(|p| line.starts_with(p)),
            "{line:?} in\n{mine}"
        );
    }
    for out in [&ours.stdout, &ours.stderr] {
        assert!(
            !String::from_utf8_lossy(out).contains("basic-tool-secret"),
            "{}",
            both(&system, &ours)
        );
    }
}

#[test]
fn failures_exit_with_libcurls_codes() {
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let refused = format!("http://127.0.0.1:{refused}/");
    let untrusted = https_url();
    for (args, code) in [
        (vec!["-s", refused.as_str()], 7),
        (vec!["-s", "http://no-such-host.invalid/"], 6),
        (vec!["-s", untrusted.as_str()], 60),
    ] {
        let (system, ours) = curl(&args);
        assert_same_exiting(&system, &ours, code, &format!("{args:?}"));
        assert!(ours.stdout.is_empty(), "{}", both(&system, &ours));
    }
}

#[test]
fn dash_capital_v_lists_what_works() {
    let (system, ours) = curl(&["-V"]);
    assert_eq!(system.status.code(), ours.status.code());
    let mine = stdout(&ours);
    assert!(
        mine.contains(
            "Protocols: dict ftp ftps gopher gophers http https imap imaps mqtt mqtts pop3 pop3s rtsp smtp smtps telnet tftp ws wss\n"
        ),
        "{mine}"
    );
    assert!(
        mine.contains("Features: AsynchDNS HTTPS-proxy IPv6 Largefile NTLM SSL threadsafe\n"),
        "{mine}"
    );
    assert!(mine.contains("libcurl/8.21.0 handover/"), "{mine}");
}

#[test]
fn a_form_post_fails_as_on_a_libcurl_without_mime() {
    // curl_mime_init answers NULL: the tool reports out of memory (27)
    // before any transfer, where Debian's libcurl posts the form.
    let (system, ours) = curl(&["-s", "-F", "a=b", &http_url()]);
    assert_eq!(system.status.code(), Some(0), "{}", both(&system, &ours));
    assert_eq!(ours.status.code(), Some(27), "{}", both(&system, &ours));
    assert!(ours.stdout.is_empty());
}

/// `openssl s_server -www`, shared: requiring a client certificate from
/// the test CA, or stapling an OCSP response (good, revoked; `Unknown`
/// stands for none stapled here).
fn s_server(which: OcspStatus, client_auth: bool) -> &'static OpensslServer {
    let pki = TestPki::shared();
    let response = (which != OcspStatus::Unknown).then(|| ocsp_response(pki, which));
    // libcurl looks for the certificate's issuer only in the chain the
    // server sends (else "Error computing OCSP ID"): send the CA too.
    let chain = format!("{}{}", pki.server_chain_pem, pki.ca_pem);
    OpensslServer::shared(&OpensslServerSetup {
        cert_chain_pem: &chain,
        key_pem: &pki.server_key_pem,
        client_ca_pem: client_auth.then_some(pki.ca_pem.as_str()),
        ocsp_response_der: response.as_deref(),
    })
}

#[test]
fn client_certificates_in_every_form_and_their_password_on_both_libraries() {
    let pki = TestPki::shared();
    let files = ClientKeyFiles::make(pki, "tool pass");
    let ca = ca_file();
    let url = format!(
        "https://localhost:{}/",
        s_server(OcspStatus::Unknown, true).port()
    );
    let p = |path: &std::path::PathBuf| path.display().to_string();
    let p12_with_pass = format!("{}:tool pass", p(&files.p12));
    let cases: Vec<(Vec<String>, i32)> = vec![
        (
            vec![
                "--cert".into(),
                p(&files.cert_pem),
                "--key".into(),
                p(&files.key_pem),
            ],
            0,
        ),
        (
            vec![
                "--cert".into(),
                p(&files.cert_pem),
                "--key".into(),
                p(&files.key_encrypted),
                "--pass".into(),
                "tool pass".into(),
            ],
            0,
        ),
        (
            vec![
                "--cert".into(),
                p(&files.cert_pem),
                "--key".into(),
                p(&files.key_encrypted),
                "--pass".into(),
                "wrong".into(),
            ],
            58,
        ),
        (
            vec![
                "--cert".into(),
                p(&files.cert_der),
                "--cert-type".into(),
                "DER".into(),
                "--key".into(),
                p(&files.key_der),
                "--key-type".into(),
                "DER".into(),
            ],
            0,
        ),
        (
            vec![
                "--cert".into(),
                p12_with_pass,
                "--cert-type".into(),
                "P12".into(),
            ],
            0,
        ),
    ];
    for (options, code) in cases {
        let mut args: Vec<&str> = vec!["-s", "--cacert", &ca];
        args.extend(options.iter().map(String::as_str));
        args.push(&url);
        let (system, ours) = curl(&args);
        assert_eq!(
            system.status.code(),
            Some(code),
            "{args:?}: {}",
            both(&system, &ours)
        );
        assert_eq!(
            ours.status.code(),
            Some(code),
            "{args:?}: {}",
            both(&system, &ours)
        );
        if code == 0 {
            for out in [&system, &ours] {
                // s_server's page shows the certificate it verified (its
                // other lines, such as the session id, differ per run).
                assert!(
                    stdout(out).contains("handover test client"),
                    "{}",
                    both(&system, &ours)
                );
            }
        }
    }
}

#[test]
fn cert_status_requires_a_good_stapled_ocsp_response_on_both_libraries() {
    let ca = ca_file();
    for (which, code) in [
        (OcspStatus::Good, 0),
        (OcspStatus::Revoked, 91),
        (OcspStatus::Unknown, 91),
    ] {
        let url = format!("https://localhost:{}/", s_server(which, false).port());
        let (system, ours) = curl(&[
            "-sS",
            "-o",
            "/dev/null",
            "--cacert",
            &ca,
            "--cert-status",
            &url,
        ]);
        assert_same_exiting(&system, &ours, code, &format!("{which:?}"));
    }
}

#[test]
fn doh_url_resolves_through_dnsdist_on_both_libraries() {
    let doh = Dnsdist::shared().url();
    let ca = ca_file();
    let port = nginx().port();
    let url = format!("http://{DOH_NAME}:{port}/page.txt");
    let (system, ours) = curl(&["-s", "-v", "--doh-url", &doh, "--cacert", &ca, &url]);
    assert_eq!(system.stdout, PAGE, "{}", both(&system, &ours));
    assert_eq!(system.stdout, ours.stdout, "{}", both(&system, &ours));
    assert_eq!(system.status.code(), ours.status.code());
    // The same milestones; the DoH lines in libcurl 7.88's words and in
    // 8.21's (which prints them with its DNS tracing on).
    let connected = format!("* Connected to {DOH_NAME} (127.0.0.1) port {port}");
    for (out, doh_line) in [
        (&system, "* DoH A: 127.0.0.1"),
        (&ours, "* [DoH] A: 127.0.0.1"),
    ] {
        let err = stderr(out);
        for line in [doh_line, connected.as_str(), "> GET /page.txt HTTP/1.1"] {
            assert!(err.contains(line), "{line:?} missing from\n{err}");
        }
    }
    // A name the DoH server does not know: exit 6 on both.
    let url = format!("http://no-such-name.example:{port}/page.txt");
    let (system, ours) = curl(&["-s", "--doh-url", &doh, "--cacert", &ca, &url]);
    assert_same_exiting(&system, &ours, 6, &url);
}
