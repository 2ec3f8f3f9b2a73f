//! Where the server login comes from, seen on the wire: the URL's user
//! info (control characters and all, for HTTP) and `.netrc` files —
//! entries without a login, broken files required or optional — and the
//! URL checks made before anything is sent.

mod common;

use std::time::Duration;

use common::collect_body;
use handover::{ConnectOnly, Easy, ErrorKind, NetRc};
use handover_test_support::capture::CaptureServer;
use handover_test_support::peers::TestPki;

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn easy_for(url: &str) -> Easy {
    let mut easy = Easy::new();
    easy.url(url).unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    easy
}

/// The `Authorization` header of the one request `server` got.
fn authorization(server: &CaptureServer) -> Option<String> {
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    requests[0].header("Authorization").map(str::to_owned)
}

/// The `Authorization` header a GET of `http://{user_at}127.0.0.1:port/`
/// sends with `netrc` as its optional `.netrc` file.
fn netrc_authorization(user_at: &str, netrc: &std::path::Path) -> Option<String> {
    let server = CaptureServer::start("200 OK", &[]);
    let mut easy = easy_for(&format!("http://{user_at}127.0.0.1:{}/", server.port()));
    easy.netrc(NetRc::Optional).unwrap();
    easy.netrc_file(netrc).unwrap();
    let _body = collect_body(&mut easy);
    easy.perform().unwrap();
    authorization(&server)
}

/// curl's test 1296: HTTP credentials go out base64-encoded, so a line
/// feed in the URL's user name is sent as it is (libcurl 8); a protocol
/// that would put it on a command line refuses the URL (3).
#[test]
fn a_line_feed_in_the_url_user_goes_out_in_basic_but_not_on_a_command_line() {
    let server = CaptureServer::start("200 OK", &[]);
    let mut easy = easy_for(&format!(
        "http://user%0aname:password@127.0.0.1:{}/1296",
        server.port()
    ));
    let _body = collect_body(&mut easy);
    easy.perform().unwrap();
    assert_eq!(
        authorization(&server),
        Some(format!("Basic {}", b64(b"user\nname:password")))
    );

    for url in [
        "ftp://user%0aname:pw@127.0.0.1:1/",
        "imap://u:p%0d%0a@127.0.0.1:1/",
    ] {
        let err = easy_for(url).perform().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UrlMalformat, "{url}: {err}");
        assert!(err.to_string().contains("control character"), "{err}");
    }
    // NUL is refused whatever the scheme.
    let err = easy_for("http://u%00:p@127.0.0.1:1/")
        .perform()
        .unwrap_err();
    assert_eq!(err.code(), 3, "{err}");
}

/// curl's test 399: a host name past 65535 bytes is a malformed URL (3),
/// found before any lookup.
#[test]
fn a_host_name_of_64_kib_is_a_malformed_url() {
    let host = "a".repeat(65536);
    let err = easy_for(&format!("http://{host}/399"))
        .perform()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UrlMalformat, "{err}");
    assert!(err.to_string().contains("longer than 65535"), "{err}");
}

/// curl's test 684: an entry with a password and no login gives the
/// password to an empty user name — or to the user the URL names.
#[test]
fn a_netrc_entry_without_a_login_gives_its_password() {
    let netrc =
        TestPki::shared().write_temp("netrc-no-login", "machine 127.0.0.1 password 5up3r53cr37\n");
    for (user, sent) in [("", ":5up3r53cr37"), ("ann@", "ann:5up3r53cr37")] {
        assert_eq!(
            netrc_authorization(user, &netrc),
            Some(format!("Basic {}", b64(sent.as_bytes())))
        );
    }
}

/// curl's test 680: a quote left open is a syntax error. A required file
/// fails the transfer before it connects (26, whatever host the broken
/// entry names); an optional one is passed over, as a missing file is.
#[test]
fn a_broken_or_missing_netrc_fails_only_when_required() {
    let pki = TestPki::shared();
    let broken = pki.write_temp(
        "netrc-open-quote",
        "machine elsewhere.example login user1 password \"with spaces and \\\"\\n\\r\\t\\a\n",
    );
    let missing = broken.with_file_name("no-such-netrc");
    for file in [&broken, &missing] {
        let server = CaptureServer::start("200 OK", &[]);
        let url = format!("http://user1@127.0.0.1:{}/", server.port());

        let mut easy = easy_for(&url);
        easy.netrc(NetRc::Required).unwrap();
        easy.netrc_file(file).unwrap();
        let err = easy.perform().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ReadError, "{err}");
        assert!(err.to_string().contains(".netrc"), "{err}");
        assert!(!err.to_string().contains("with spaces"), "{err}");
        assert!(server.requests().is_empty(), "nothing was sent");

        let mut easy = easy_for(&url);
        easy.netrc(NetRc::Optional).unwrap();
        easy.netrc_file(file).unwrap();
        let _body = collect_body(&mut easy);
        easy.perform().unwrap();
        // The URL's user alone: Basic with an empty password.
        assert_eq!(
            authorization(&server),
            Some(format!("Basic {}", b64(b"user1:")))
        );
    }
}

/// libcurl refuses `.netrc` credentials with control characters for a
/// protocol that sends them on a command line (26); HTTP sends them.
#[test]
fn control_characters_from_netrc_are_refused_for_ftp() {
    let netrc = TestPki::shared().write_temp(
        "netrc-control",
        "machine 127.0.0.1 login \"us\\ner\" password pw\n",
    );
    let mut easy = easy_for("ftp://127.0.0.1:1/");
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.netrc(NetRc::Optional).unwrap();
    easy.netrc_file(&netrc).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 26, "{err}");
    assert!(err.to_string().contains("control code"), "{err}");

    assert_eq!(
        netrc_authorization("", &netrc),
        Some(format!("Basic {}", b64(b"us\ner:pw")))
    );
}
