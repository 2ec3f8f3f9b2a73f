//! HTTP answers scripted byte for byte, for what nginx will not send:
//! interim 1xx answers, bodies framed every way, truncation, an empty
//! reply, an endless head.

mod common;

use common::collect_body;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use handover::{ConnectOnly, Easy, ErrorKind};
use handover_test_support::peers::{Behavior, TcpPeer};

fn against(
    answer: &[u8],
    mode: ConnectOnly,
) -> (Easy, Result<(), handover::Error>, Arc<Mutex<Vec<u8>>>) {
    let server = TcpPeer::start(Behavior::CloseAfter(answer.to_vec()));
    let mut easy = Easy::new();
    easy.url(&format!("http://127.0.0.1:{}/x", server.port()))
        .unwrap();
    easy.connect_only(mode).unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    let body = collect_body(&mut easy);
    let result = easy.perform();
    (easy, result, body)
}

#[test]
fn interim_answers_are_skipped_and_the_body_is_left_for_recv() {
    let (mut easy, result, _) = against(
        b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        ConnectOnly::Headers,
    );
    result.unwrap();
    assert_eq!(easy.response_code().unwrap(), 200);
    assert_eq!(easy.response_header("content-length"), Some("5"));
    assert!(
        easy.response_header("Link").is_none(),
        "headers of the 103 are not the response's"
    );
    // They are kept apart (curl's test 1942: curl_easy_header's CURLH_1XX).
    assert_eq!(
        easy.interim_header_list().collect::<Vec<_>>(),
        [("Link", "</s.css>")]
    );
    let mut got = Vec::new();
    let mut buf = [0u8; 16];
    loop {
        match easy.recv(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.is_again() => {
                easy.wait_readable(Some(Duration::from_secs(5))).unwrap();
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(got, b"hello");
}

#[test]
fn bodies_by_length_chunks_and_close_reach_the_write_callback() {
    let cases: &[(&[u8], &[u8])] = &[
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", b"hello"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
            b"hello world",
        ),
        (b"HTTP/1.0 200 OK\r\n\r\nuntil the end", b"until the end"),
        (b"HTTP/1.1 204 No Content\r\n\r\n", b""),
    ];
    for (answer, body) in cases {
        let (easy, result, got) = against(answer, ConnectOnly::Off);
        result.unwrap_or_else(|e| panic!("{e:?} for {}", String::from_utf8_lossy(answer)));
        assert_eq!(&*got.lock().unwrap(), body);
        assert_eq!(easy.info().size_download(), body.len() as u64);
    }
}

#[test]
fn broken_answers_fail_with_libcurls_codes() {
    let (_, result, got) = against(
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        ConnectOnly::Off,
    );
    assert_eq!(result.unwrap_err().kind(), ErrorKind::PartialFile);
    assert_eq!(&*got.lock().unwrap(), b"short", "what came is delivered");

    let (_, result, _) = against(b"", ConnectOnly::Off);
    assert_eq!(result.unwrap_err().code(), 52, "empty reply");

    // libcurl 8's bounds: 300 KiB of head lines in all ("Too large
    // response headers", CURLE_RECV_ERROR), a line shorter than 100 KiB
    // (CURLE_TOO_LARGE; curl's test 1154), 5000 fields (CURLE_TOO_LARGE).
    let filler = format!("X-Filler: {}\r\n", "a".repeat(1000));
    let endless = format!("HTTP/1.1 200 OK\r\n{}", filler.repeat(400));
    let (_, result, _) = against(endless.as_bytes(), ConnectOnly::Headers);
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::RecvError, "{error}");
    assert!(
        error.to_string().contains("Too large response headers"),
        "{error}"
    );
    let long = format!(
        "HTTP/1.1 200 OK\r\nLong: {}\r\n\r\n",
        "A".repeat(100 * 1024)
    );
    let (_, result, _) = against(long.as_bytes(), ConnectOnly::Off);
    let error = result.unwrap_err();
    assert_eq!(error.code(), 100, "{error}");
    let many = format!("HTTP/1.1 200 OK\r\n{}\r\n", "A: b\r\n".repeat(5001));
    let (_, result, _) = against(many.as_bytes(), ConnectOnly::Off);
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::TooLarge, "{error}");

    let (_, result, _) = against(b"SSH-2.0-OpenSSH_9.2\r\n", ConnectOnly::Headers);
    assert_eq!(result.unwrap_err().code(), 8);
}

/// Status lines, transfer codings and lengths that curl's own tests (129,
/// 1430-1433, 387, 418, 395) found answered differently from libcurl.
#[test]
fn heads_libcurl_refuses_or_tolerates_get_its_answers() {
    for status in [
        &b"HTTP/1.2 200 OK"[..],
        b"HTTP/1.1 -12 OK",
        b"HTTP/1.1 2 OK",
        b"HTTP/1.1 0123456789 OK",
        b"HTTP/1.0123456789 200 OK",
    ] {
        let answer = [status, &b"\r\nContent-Length: 0\r\n\r\n"[..]].concat();
        let (_, result, _) = against(&answer, ConnectOnly::Off);
        let error = result.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::UnsupportedProtocol, "{error}");
    }

    let codings = "Transfer-Encoding: gzip\r\n".repeat(6);
    let answer = format!("HTTP/1.1 200 OK\r\n{codings}\r\n-foo-");
    let (_, result, got) = against(answer.as_bytes(), ConnectOnly::Off);
    let error = result.unwrap_err();
    assert_eq!(error.code(), 61, "{error}");
    assert_eq!(
        error.to_string(),
        "Reject response due to more than 5 content encodings"
    );
    assert!(got.lock().unwrap().is_empty(), "no body byte is read");

    // A length no curl_off_t holds is ignored: read until the close.
    let (_, result, got) = against(
        b"HTTP/1.1 200 OK\r\nContent-Length: 36893488147419103232\r\n\r\n-foo-",
        ConnectOnly::Off,
    );
    result.unwrap();
    assert_eq!(&*got.lock().unwrap(), b"-foo-");

    let (_, result, _) = against(
        b"HTTP/1.1 200 OK\r\nContent-Length: -6\r\n\r\nmoo",
        ConnectOnly::Off,
    );
    assert_eq!(result.unwrap_err().kind(), ErrorKind::WeirdServerReply);
}

/// curl's tests 178 and 415: a head refused for its `Content-Length` (a
/// negative one; a CR before it) fails with 8, and the lines before the
/// refused one have reached the header callback and verbose output, as
/// libcurl hands on each line once it checked it.
#[test]
fn a_refused_head_gives_the_lines_before_the_refused_one() {
    for bad in ["Content-Length: -6", "Content-Length: \r-6"] {
        let answer = format!(
            "HTTP/1.1 200 OK swsclose\r\nDate: Tue, 09 Nov 2010 14:49:00 GMT\r\n{bad}\r\n\
             Content-Type: text/html\r\nFunny-head: yesyes\r\n\r\nmoooooooooooo\n"
        );
        let server = TcpPeer::start(Behavior::CloseAfter(answer.into_bytes()));
        let mut easy = Easy::new();
        easy.url(&format!("http://127.0.0.1:{}/178", server.port()))
            .unwrap();
        easy.timeout(Duration::from_secs(20)).unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        easy.header_function(move |line| {
            sink.lock().unwrap().push(line.to_vec());
            true
        })
        .unwrap();
        let verbose = common::capture_verbose(&mut easy);
        let body = collect_body(&mut easy);
        let error = easy.perform().unwrap_err();
        assert_eq!(error.code(), 8, "{bad:?}: {error}");
        let expected: [&[u8]; 2] = [
            b"HTTP/1.1 200 OK swsclose\r\n",
            b"Date: Tue, 09 Nov 2010 14:49:00 GMT\r\n",
        ];
        assert_eq!(*lines.lock().unwrap(), expected, "{bad:?}");
        let verbose = verbose.lock().unwrap();
        assert!(
            verbose.contains(
                "< HTTP/1.1 200 OK swsclose\r\n< Date: Tue, 09 Nov 2010 14:49:00 GMT\r\n"
            ),
            "{verbose}"
        );
        assert!(!verbose.contains("< Content-Type"), "{verbose}");
        assert!(body.lock().unwrap().is_empty(), "no body byte");
        // The fields handed on stay for header lookups, as libcurl's.
        assert_eq!(
            easy.response_header_list().collect::<Vec<_>>(),
            [("Date", "Tue, 09 Nov 2010 14:49:00 GMT")]
        );
    }
}

/// A request sent to an HTTP proxy itself (absolute form, no tunnel)
/// carries the proxy headers after the server's, a line both lists hold
/// once (found by curl's test 1528).
#[test]
fn a_forwarded_request_carries_the_proxy_headers_too() {
    use handover_test_support::capture::CaptureServer;
    let proxy = CaptureServer::start("200 OK", &[]);
    let mut easy = Easy::new();
    easy.url("http://origin.invalid/p").unwrap();
    easy.proxy(&format!("http://127.0.0.1:{}", proxy.port()))
        .unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    easy.http_headers(["X-Server: s", "X-Both: b"].into_iter().collect())
        .unwrap();
    easy.proxy_headers(["X-Proxy: p", "X-Both: b"].into_iter().collect())
        .unwrap();
    let _body = collect_body(&mut easy);
    easy.perform().unwrap();
    let requests = proxy.requests();
    let head = &requests[0].head;
    assert!(
        head.starts_with("GET http://origin.invalid/p HTTP/1.1\r\n"),
        "{head}"
    );
    assert_eq!(requests[0].headers("X-Server"), ["s"], "{head}");
    assert_eq!(requests[0].headers("X-Proxy"), ["p"], "{head}");
    assert_eq!(requests[0].headers("X-Both"), ["b"], "once: {head}");
    assert!(head.find("X-Server").unwrap() < head.find("X-Proxy").unwrap());
}

/// `Easy::port` (CURLOPT_PORT) overrides the URL's port in the absolute
/// form sent to a proxy as well as in Host (found by curl's test 523).
#[test]
fn the_port_option_is_the_port_of_a_forwarded_request() {
    use handover_test_support::capture::CaptureServer;
    let proxy = CaptureServer::start("200 OK", &[]);
    let mut easy = Easy::new();
    easy.url("http://origin.invalid:999/p").unwrap();
    easy.port(19999).unwrap();
    easy.proxy(&format!("http://127.0.0.1:{}", proxy.port()))
        .unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    let _body = collect_body(&mut easy);
    easy.perform().unwrap();
    let requests = proxy.requests();
    let head = &requests[0].head;
    assert!(
        head.starts_with("GET http://origin.invalid:19999/p HTTP/1.1\r\n"),
        "{head}"
    );
    assert_eq!(requests[0].header("Host"), Some("origin.invalid:19999"));
}
