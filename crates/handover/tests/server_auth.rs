//! Authentication with the server against nginx: HTTP Basic (`auth_basic`)
//! from `username`/`password`, `userpwd` and the URL, for connect-only = 2
//! and ordinary transfers, over HTTP and HTTPS; a bearer token; what a
//! missing or wrong credential gets; `disallow_username_in_url`.

mod common;

use common::collect_body;
use std::sync::OnceLock;
use std::time::Duration;

use handover::{Auth, ConnectOnly, Easy, ErrorKind};
use handover_test_support::peers::{self, TestPki};
use handover_test_support::real_peers::{Nginx, BASIC_PASSWORD, BASIC_USER, BEARER_TOKEN};

const SECRET: &[u8] = b"for alice only\n";

fn site() -> &'static (&'static Nginx, std::path::PathBuf) {
    static SITE: OnceLock<(&'static Nginx, std::path::PathBuf)> = OnceLock::new();
    SITE.get_or_init(|| {
        let pki = TestPki::shared();
        let nginx = Nginx::shared(Some((&pki.server_chain_pem, &pki.server_key_pem)));
        nginx.put("basic/secret.txt", SECRET);
        nginx.put("bearer/secret.txt", SECRET);
        (nginx, pki.write_temp("server-auth-ca.pem", &pki.ca_pem))
    })
}

fn urls(path: &str) -> [String; 2] {
    let (nginx, _) = site();
    [
        format!("http://127.0.0.1:{}{path}", nginx.port()),
        format!("https://localhost:{}{path}", nginx.tls_port().unwrap()),
    ]
}

/// A connect-only = 2 request: the status, and the challenge if any.
fn status(url: &str, setup: impl FnOnce(&mut Easy)) -> (u32, Option<String>) {
    let mut easy = Easy::new();
    easy.url(url).unwrap();
    easy.cainfo(&site().1).unwrap();
    easy.connect_only(ConnectOnly::Headers).unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    setup(&mut easy);
    easy.perform().unwrap_or_else(|e| panic!("{url}: {e}"));
    (
        easy.response_code().unwrap(),
        easy.response_header("WWW-Authenticate").map(str::to_owned),
    )
}

#[test]
fn basic_credentials_from_the_options_go_with_the_first_request() {
    for url in urls("/basic/secret.txt") {
        let (code, challenge) = status(&url, |_| {});
        assert_eq!(code, 401, "{url}: no credentials");
        assert_eq!(challenge.as_deref(), Some("Basic realm=\"handover\""));
        let (code, _) = status(&url, |e| {
            e.username(BASIC_USER).unwrap();
            e.password(BASIC_PASSWORD).unwrap();
        });
        assert_eq!(code, 200, "{url}");
        let (code, _) = status(&url, |e| {
            e.userpwd(&format!("{BASIC_USER}:{BASIC_PASSWORD}"))
                .unwrap();
        });
        assert_eq!(code, 200, "{url}: userpwd");
        // Basic is not retried: a wrong password is the server's 401.
        let (code, _) = status(&url, |e| e.userpwd("alice:wrong").unwrap());
        assert_eq!(code, 401, "{url}: wrong password");
    }
}

#[test]
fn basic_credentials_from_the_url_unless_disallowed() {
    let (nginx, _) = site();
    let url = format!(
        "http://{BASIC_USER}:{}@127.0.0.1:{}/basic/secret.txt",
        BASIC_PASSWORD.replace(' ', "%20"),
        nginx.port()
    );
    assert_eq!(status(&url, |_| {}).0, 200);
    // The options win over the URL.
    let (code, _) = status(&url, |e| e.userpwd("alice:wrong").unwrap());
    assert_eq!(code, 401);
    let mut easy = Easy::new();
    easy.url(&url).unwrap();
    easy.disallow_username_in_url(true).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LoginDenied, "{err}");
    assert_eq!(err.code(), 67);
}

#[test]
fn an_ordinary_transfer_gets_the_protected_file() {
    for url in urls("/basic/secret.txt") {
        let mut easy = Easy::new();
        easy.url(&url).unwrap();
        easy.cainfo(&site().1).unwrap();
        easy.username(BASIC_USER).unwrap();
        easy.password(BASIC_PASSWORD).unwrap();
        let body = collect_body(&mut easy);
        easy.perform().unwrap();
        assert_eq!(easy.response_code().unwrap(), 200, "{url}");
        assert_eq!(body.lock().unwrap().as_slice(), SECRET, "{url}");
    }
}

#[test]
fn a_bearer_token_goes_with_the_first_request_when_bearer_is_the_method() {
    for url in urls("/bearer/secret.txt") {
        let (code, challenge) = status(&url, |_| {});
        assert_eq!(code, 401, "{url}");
        assert_eq!(challenge.as_deref(), Some("Bearer realm=\"handover\""));
        let (code, _) = status(&url, |e| {
            e.http_auth(Auth::new().bearer(true)).unwrap();
            e.xoauth2_bearer(BEARER_TOKEN).unwrap();
        });
        assert_eq!(code, 200, "{url}");
        // With Basic (the default) the token is not sent.
        let (code, _) = status(&url, |e| e.xoauth2_bearer(BEARER_TOKEN).unwrap());
        assert_eq!(code, 401, "{url}");
    }
}

#[test]
fn a_token_that_would_break_the_header_is_refused_before_sending() {
    let url = &urls("/bearer/secret.txt")[0];
    let mut easy = Easy::new();
    easy.url(url).unwrap();
    easy.connect_only(ConnectOnly::Headers).unwrap();
    easy.http_auth(Auth::new().bearer(true)).unwrap();
    easy.xoauth2_bearer("token\r\nX-Injected: 1").unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 43, "{err}");
}

// ---- the 401 round, against lighttpd --------------------------------------

use common::capture_verbose;
use handover_test_support::real_peers::Lighttpd;

fn lighttpd() -> &'static Lighttpd {
    let server = Lighttpd::shared();
    server.put("digest/secret.txt", SECRET);
    server.put("any/secret.txt", SECRET);
    server
}

#[test]
fn digest_answers_the_401_on_the_same_connection() {
    let url = format!("http://127.0.0.1:{}/digest/secret.txt", lighttpd().port());
    let mut easy = Easy::new();
    easy.url(&url).unwrap();
    easy.connect_only(ConnectOnly::Headers).unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    easy.username(BASIC_USER).unwrap();
    easy.password(BASIC_PASSWORD).unwrap();
    easy.http_auth(Auth::new().digest(true)).unwrap();
    let verbose = capture_verbose(&mut easy);
    easy.perform()
        .unwrap_or_else(|e| panic!("{e}\n{}", lighttpd().log()));
    let verbose = verbose.lock().unwrap().clone();
    assert_eq!(easy.response_code().unwrap(), 200, "{verbose}");
    assert_eq!(easy.num_connects().unwrap(), 1, "one connection: {verbose}");
    assert!(
        verbose.contains("* Server auth using Digest with user 'alice'"),
        "{verbose}"
    );
    assert!(verbose.contains("> Authorization: <hidden>"), "{verbose}");
    assert_eq!(easy.info().httpauth_avail(), 2, "Digest offered");
    // The body left for recv is the 200's, not the 401's.
    let mut body = Vec::new();
    let mut buf = [0u8; 256];
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while body.len() < SECRET.len() && std::time::Instant::now() < deadline {
        match easy.recv(&mut buf) {
            Ok(0) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
            Err(e) if e.is_again() => {
                let _ = easy.wait_readable(Some(Duration::from_millis(200)));
            }
            Err(e) => panic!("recv: {e}"),
        }
    }
    assert_eq!(body, SECRET);
}

#[test]
fn any_waits_for_the_challenge_and_picks_from_it() {
    for path in ["/any/secret.txt", "/digest/secret.txt"] {
        let url = format!("http://127.0.0.1:{}{path}", lighttpd().port());
        let mut easy = Easy::new();
        easy.url(&url).unwrap();
        easy.userpwd(&format!("{BASIC_USER}:{BASIC_PASSWORD}"))
            .unwrap();
        easy.http_auth(&Auth::any()).unwrap();
        let body = collect_body(&mut easy);
        easy.perform().unwrap();
        assert_eq!(easy.response_code().unwrap(), 200, "{path}");
        // Only the final answer's body reaches the write callback.
        assert_eq!(body.lock().unwrap().as_slice(), SECRET, "{path}");
    }
}

#[test]
fn rejected_credentials_leave_the_401_as_the_answer() {
    let url = format!("http://127.0.0.1:{}/digest/secret.txt", lighttpd().port());
    let mut easy = Easy::new();
    easy.url(&url).unwrap();
    easy.userpwd("alice:wrong").unwrap();
    easy.http_auth(Auth::new().digest(true)).unwrap();
    let verbose = capture_verbose(&mut easy);
    let body = collect_body(&mut easy);
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 401);
    let verbose = verbose.lock().unwrap().clone();
    assert!(
        verbose.contains("the Digest credentials were rejected"),
        "{verbose}"
    );
    // As libcurl: the last 401's body is the transfer's body.
    assert!(!body.lock().unwrap().is_empty());
}

/// An in-process NTLM peer (no packaged server here speaks NTLM): checks
/// the three legs of alice's handshake on one connection, answering
/// `status` with the challenge in `challenge` and reading `answer`, then
/// sends `welcome`. Its thread says whether no second connection came.
fn ntlm_fake(
    status: &'static str,
    challenge: &'static str,
    answer: &'static str,
) -> (u16, std::thread::JoinHandle<bool>) {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        peers::ntlm_server_legs(&mut s, status, challenge, answer, "alice");
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nwelcome")
            .unwrap();
        // A second connection would be a failed test: none may come.
        listener.set_nonblocking(true).unwrap();
        listener.accept().is_err()
    });
    (port, peer)
}

/// NTLM with a server, which no packaged server here speaks: an in-process
/// fake that checks the three legs on one connection.
#[test]
fn ntlm_takes_three_legs_on_one_connection_with_the_server() {
    let (port, server) = ntlm_fake("401 Unauthorized", "WWW-Authenticate", "Authorization");
    let mut easy = Easy::new();
    easy.url(&format!("http://127.0.0.1:{port}/")).unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    easy.username("DOM\\alice").unwrap();
    easy.password("secret").unwrap();
    easy.http_auth(Auth::new().ntlm(true)).unwrap();
    let body = collect_body(&mut easy);
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 200);
    assert_eq!(body.lock().unwrap().as_slice(), b"welcome");
    assert_eq!(easy.num_connects().unwrap(), 1);
    assert!(server.join().unwrap(), "no second connection");
}

/// A POST's NTLM negotiation holds the body back until the Type 3 goes:
/// the Type 1 request announces `Content-Length: 0`, as libcurl's (found
/// by curl's tests 176 and 267).
#[test]
fn an_ntlm_post_sends_its_body_with_the_type_3_only() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let (first, type1) = read_ntlm_request(&mut s, "Authorization");
        assert_eq!(
            peers::header(&first, "Content-Length"),
            Some("0"),
            "{first}"
        );
        assert_eq!(&type1[..12], b"NTLMSSP\0\x01\0\0\0");
        let reply = format!(
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM {}\r\nContent-Length: 0\r\n\r\n",
            b64(&peers::ntlm_type2_message())
        );
        s.write_all(reply.as_bytes()).unwrap();
        let (third, type3) = read_ntlm_request(&mut s, "Authorization");
        assert_eq!(&type3[..12], b"NTLMSSP\0\x03\0\0\0");
        assert_eq!(
            peers::header(&third, "Content-Length"),
            Some("5"),
            "{third}"
        );
        let mut body = [0u8; 5];
        s.read_exact(&mut body).unwrap();
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .unwrap();
        body
    });
    let (easy, body) = post_hello(port, Auth::new().ntlm(true));
    assert_eq!(easy.response_code().unwrap(), 200);
    assert_eq!(body.lock().unwrap().as_slice(), b"ok");
    assert_eq!(&server.join().unwrap(), b"hello");
}

/// POSTs "hello" to 127.0.0.1:`port` as alice with `auth`, and returns the
/// handle and the response body it collected.
fn post_hello(port: u16, auth: &Auth) -> (Easy, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    let mut easy = Easy::new();
    easy.url(&format!("http://127.0.0.1:{port}/")).unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    easy.username("alice").unwrap();
    easy.password("secret").unwrap();
    easy.http_auth(auth).unwrap();
    easy.post_fields_copy(b"hello").unwrap();
    let body = collect_body(&mut easy);
    easy.perform().unwrap();
    (easy, body)
}

/// A server that answers the Digest probe with 200 wants no credentials:
/// the POST goes again with its body, so the body is never lost (libcurl).
#[test]
fn a_probe_answered_without_a_challenge_sends_the_body_again() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let first = String::from_utf8(peers::read_head(&mut s).unwrap().unwrap()).unwrap();
        assert_eq!(
            peers::header(&first, "Content-Length"),
            Some("0"),
            "{first}"
        );
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        let second = String::from_utf8(peers::read_head(&mut s).unwrap().unwrap()).unwrap();
        assert_eq!(peers::header(&second, "Authorization"), None, "{second}");
        let mut body = [0u8; 5];
        s.read_exact(&mut body).unwrap();
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .unwrap();
        body
    });
    let (_easy, body) = post_hello(port, Auth::new().digest(true));
    assert_eq!(body.lock().unwrap().as_slice(), b"ok");
    assert_eq!(&server.join().unwrap(), b"hello");
}

/// Through an HTTP proxy without a tunnel, the proxy's 407 rounds ride on
/// the request itself: NTLM's three legs on one connection, and nothing
/// pre-emptive but the Type 1 (found by curl's tests 81 and 590).
#[test]
fn a_forwarding_proxy_gets_its_ntlm_rounds() {
    let (port, proxy) = ntlm_fake(
        "407 Proxy Authentication Required",
        "Proxy-Authenticate",
        "Proxy-Authorization",
    );
    let mut easy = Easy::new();
    easy.url("http://example.invalid/page").unwrap();
    easy.proxy(&format!("http://127.0.0.1:{port}")).unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    easy.proxy_username("alice").unwrap();
    easy.proxy_password("secret").unwrap();
    easy.proxy_auth(Auth::new().ntlm(true)).unwrap();
    let body = collect_body(&mut easy);
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 200);
    assert_eq!(body.lock().unwrap().as_slice(), b"welcome");
    assert_eq!(easy.info().proxyauth_used(), 8, "NTLM used");
    assert!(proxy.join().unwrap(), "no second connection");
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The next request's head, and the NTLM message in its `answer_header`.
fn read_ntlm_request(s: &mut std::net::TcpStream, answer_header: &str) -> (String, Vec<u8>) {
    use base64::Engine as _;
    let head = String::from_utf8(peers::read_head(s).unwrap().unwrap()).unwrap();
    let token = peers::header(&head, answer_header).unwrap_or_default();
    let message = base64::engine::general_purpose::STANDARD
        .decode(token.trim_start_matches("NTLM "))
        .unwrap();
    (head, message)
}

/// A server that wants Digest: a request without an `Authorization` gets a
/// 401 with a challenge of nonce `n1`, any other a 200 "ok". Every request
/// head it reads goes to the channel, in order; connections are kept.
fn digest_fake() -> (u16, std::sync::mpsc::Receiver<String>) {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (heads, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let heads = heads.clone();
            std::thread::spawn(move || {
                while let Ok(Some(head)) = peers::read_head(&mut s) {
                    let head = String::from_utf8(head).unwrap();
                    let reply: &[u8] = if peers::header(&head, "Authorization").is_some() {
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                    } else {
                        b"HTTP/1.1 401 Unauthorized\r\n\
                          WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\"\r\n\
                          Content-Length: 0\r\n\r\n"
                    };
                    let _ = heads.send(head);
                    if s.write_all(reply).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, seen)
}

/// The handle keeps the last Digest challenge: its next transfer answers
/// at once with that nonce, with no 401 round first, as libcurl does
/// (curl's test 2030).
#[test]
fn a_handles_next_transfer_answers_digest_at_once_with_the_last_nonce() {
    let (port, heads) = digest_fake();
    let mut easy = Easy::new();
    easy.timeout(Duration::from_secs(20)).unwrap();
    easy.userpwd("alice:secret").unwrap();
    easy.http_auth(Auth::new().digest(true)).unwrap();
    let body = collect_body(&mut easy);
    let next = || heads.recv_timeout(Duration::from_secs(10)).unwrap();
    easy.url(&format!("http://127.0.0.1:{port}/one")).unwrap();
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 200);
    assert_eq!(peers::header(&next(), "Authorization"), None);
    let answer = next();
    let value = peers::header(&answer, "Authorization").unwrap_or_default();
    assert!(value.contains("nonce=\"n1\", uri=\"/one\""), "{answer}");

    easy.url(&format!("http://127.0.0.1:{port}/two")).unwrap();
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 200);
    let first = next();
    let value = peers::header(&first, "Authorization").unwrap_or_default();
    assert!(
        value.starts_with("Digest username=\"alice\", realm=\"r\", nonce=\"n1\", uri=\"/two\""),
        "the first request of the second transfer: {first}"
    );
    assert!(heads.try_recv().is_err(), "no second request");
    assert_eq!(body.lock().unwrap().as_slice(), b"okok");

    // A reset handle forgets it, as libcurl's curl_easy_reset.
    easy.reset();
    easy.timeout(Duration::from_secs(20)).unwrap();
    easy.userpwd("alice:secret").unwrap();
    easy.http_auth(Auth::new().digest(true)).unwrap();
    easy.url(&format!("http://127.0.0.1:{port}/three")).unwrap();
    easy.perform().unwrap();
    assert_eq!(peers::header(&next(), "Authorization"), None);
}
