//! After connect-only = 2: every response header listed in order, and the
//! body read with the framing the head announced (`BodyReader`), leaving
//! the connection right after the body. Against nginx (Content-Length, and
//! chunked through gzip) and answers scripted byte for byte (trailers,
//! until close, truncation, bad framing, bytes after the body).

mod common;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::pattern;
use handover::{BodyReader, ConnectOnly, Easy, List, Multi};
use handover_test_support::peers::{self, assert_same, Behavior, TcpPeer, TestPki};
use handover_test_support::real_peers::Nginx;

fn headers_only(url: &str) -> Easy {
    let mut easy = Easy::new();
    easy.url(url).unwrap();
    easy.connect_only(ConnectOnly::Headers).unwrap();
    easy.connect_timeout(Duration::from_secs(20)).unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    easy
}

/// The header lines the header callback saw, as (name, value), without the
/// status line and the blank line.
fn collect_header_lines(easy: &mut Easy) -> Arc<Mutex<Vec<(String, String)>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    easy.header_function(move |line| {
        let text = String::from_utf8_lossy(line);
        if let Some((name, value)) = text.split_once(':') {
            if !text.starts_with("HTTP/") {
                sink.lock()
                    .unwrap()
                    .push((name.to_owned(), value.trim().to_owned()));
            }
        }
        true
    })
    .unwrap();
    lines
}

fn owned(list: impl Iterator<Item = (impl AsRef<str>, impl AsRef<str>)>) -> Vec<(String, String)> {
    list.map(|(n, v)| (n.as_ref().to_owned(), v.as_ref().to_owned()))
        .collect()
}

/// The handover::Error inside an io::Error from the reader.
fn curl_code(e: &std::io::Error) -> u32 {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<handover::Error>())
        .map_or(0, handover::Error::code)
}

/// Reads one response head from a raw connection, a byte at a time.
fn read_head(conn: &mut impl Read) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match conn.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            other => panic!("head cut short ({other:?}):\n{}", peers::hexdump(&head)),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

#[test]
fn nginx_content_length_body_is_read_exactly_and_the_connection_serves_the_next_request() {
    let pki = TestPki::new();
    let nginx = Nginx::start(Some((&pki.server_chain_pem, &pki.server_key_pem)));
    let file = pattern(300_000, 8);
    nginx.put("file.bin", &file);
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);
    let urls = [
        format!("http://127.0.0.1:{}/file.bin", nginx.port()),
        format!("https://localhost:{}/file.bin", nginx.tls_port().unwrap()),
    ];
    for (index, url) in urls.iter().enumerate() {
        let mut easy = headers_only(url);
        easy.cainfo(&ca).unwrap();
        let seen = collect_header_lines(&mut easy);
        easy.perform()
            .unwrap_or_else(|e| panic!("{url}: {e:?}\n{}", nginx.log()));

        // The listing is every header line, in order, as the callback saw them.
        let listed = owned(easy.response_header_list());
        assert_eq!(listed, *seen.lock().unwrap(), "{url}");
        assert!(
            listed.iter().any(|(n, v)| n == "Server" && v == "nginx"),
            "{listed:?}"
        );
        assert!(
            listed.contains(&("Content-Length".to_owned(), file.len().to_string())),
            "{listed:?}"
        );

        let mut body = BodyReader::from_easy(&mut easy).unwrap();
        assert_eq!(easy.active_socket(), None, "the reader took the connection");
        assert_eq!(
            easy.response_header_list().count(),
            listed.len(),
            "the head stays"
        );
        assert_eq!(body.content_length(), Some(file.len() as u64));
        assert!(!body.until_close() && !body.is_done());
        body.get_mut()
            .set_read_timeout(Some(Duration::from_secs(20)));
        let mut got = Vec::new();
        body.read_to_end(&mut got).unwrap();
        assert_same(&got, &file);
        assert!(body.is_done());
        assert_eq!(
            body.read(&mut [0u8; 16]).unwrap(),
            0,
            "the end stays the end"
        );

        // Right after the body: a second request on the same connection.
        let mut conn = body.into_connection();
        conn.set_read_timeout(Some(Duration::from_secs(20)));
        let host = if index == 0 { "127.0.0.1" } else { "localhost" };
        conn.write_all(format!("HEAD /file.bin HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
            .unwrap();
        let head = read_head(&mut conn);
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    }
    // nginx logs both requests of each connection under one connection number.
    let log = nginx.wait_access_log(4, Duration::from_secs(10));
    assert_eq!(log.len(), 4, "{log:?}");
    for pair in log.chunks(2) {
        let conn_of = |line: &str| line.split(' ').next().unwrap_or("").to_owned();
        assert_eq!(conn_of(&pair[0]), conn_of(&pair[1]), "{log:?}");
        assert!(
            pair[1].contains("\"HEAD /file.bin HTTP/1.1\" 200"),
            "{log:?}"
        );
    }
}

#[test]
fn nginx_chunked_gzip_body_is_decoded_to_its_last_chunk_and_the_connection_kept() {
    let nginx = Nginx::start(None);
    let text: Vec<u8> = (0..20_000)
        .flat_map(|i| format!("line {i} of a compressible text\n").into_bytes())
        .collect();
    nginx.put("gzip/text.txt", &text);
    let mut easy = headers_only(&format!("http://127.0.0.1:{}/gzip/text.txt", nginx.port()));
    let mut request_headers = List::new();
    request_headers.append("Accept-Encoding: gzip").unwrap();
    easy.http_headers(request_headers).unwrap();
    easy.perform()
        .unwrap_or_else(|e| panic!("{e:?}\n{}", nginx.log()));
    assert_eq!(easy.response_header("Content-Encoding"), Some("gzip"));
    assert_eq!(easy.response_header("Transfer-Encoding"), Some("chunked"));

    let mut body = BodyReader::from_easy(&mut easy).unwrap();
    assert_eq!(body.content_length(), None);
    assert!(!body.until_close());
    body.get_mut()
        .set_read_timeout(Some(Duration::from_secs(20)));
    let mut gz = Vec::new();
    // Small reads: the chunk framing must survive any read size.
    let mut buf = [0u8; 777];
    loop {
        let n = body.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        gz.extend_from_slice(&buf[..n]);
    }
    assert!(body.is_done());
    assert_eq!(gz.get(..2), Some(&[0x1f, 0x8b][..]), "a gzip stream");
    // The gzip trailer ends with the uncompressed length: the stream is whole
    // and no chunk-size line leaked into it.
    let isize_field: [u8; 4] = gz[gz.len() - 4..].try_into().unwrap();
    assert_eq!(u32::from_le_bytes(isize_field) as usize, text.len());
    assert!(gz.len() < text.len() / 4, "compressed: {} bytes", gz.len());

    let mut conn = body.into_connection();
    conn.set_read_timeout(Some(Duration::from_secs(20)));
    conn.write_all(b"HEAD /gzip/text.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let head = read_head(&mut conn);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
}

/// A connect-only = 2 transfer against a peer that writes `answer` and
/// closes; the body reader over what follows the head.
fn scripted(answer: &[u8], configure: impl FnOnce(&mut Easy)) -> (TcpPeer, Easy) {
    let server = TcpPeer::start(Behavior::CloseAfter(answer.to_vec()));
    let mut easy = headers_only(&format!("http://127.0.0.1:{}/x", server.port()));
    configure(&mut easy);
    easy.perform().unwrap();
    (server, easy)
}

/// An answer (head and body), the body it decodes to, its Content-Length
/// and its trailers.
type ScriptedBody<'a> = (&'a [u8], &'a [u8], Option<u64>, &'a [(&'a str, &'a str)]);

#[test]
fn scripted_bodies_end_where_their_framing_says_and_what_follows_stays_on_the_connection() {
    let after = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext";
    let cases: &[ScriptedBody] = &[
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world",
            b"hello world",
            Some(11),
            &[],
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
              5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Sum: 11\r\nX-Two: 2\r\n\r\n",
            b"hello world",
            None,
            &[("X-Sum", "11"), ("X-Two", "2")],
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb\nhello world\n0\n\n",
            b"hello world",
            None,
            &[],
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            b"",
            Some(0),
            &[],
        ),
    ];
    for (head_and_body, want, length, trailers) in cases {
        let answer = [*head_and_body, &after[..]].concat();
        for read_size in [1usize, 3, 4096] {
            let (_server, mut easy) = scripted(&answer, |_| {});
            let mut body = BodyReader::from_easy(&mut easy).unwrap();
            assert_eq!(body.content_length(), *length);
            let mut got = Vec::new();
            let mut buf = vec![0u8; read_size];
            loop {
                let n = body.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_same(&got, want);
            assert_eq!(
                owned(body.trailers().iter().map(|(n, v)| (n, v))),
                owned(trailers.iter().copied())
            );
            // Not one byte of what follows was taken.
            let mut conn = body.into_connection();
            conn.set_read_timeout(Some(Duration::from_secs(10)));
            let mut rest = Vec::new();
            conn.read_to_end(&mut rest).unwrap();
            assert_same(&rest, after);
        }
    }
}

#[test]
fn a_body_until_close_a_truncated_one_and_bad_chunks_end_as_libcurl_says() {
    let (_server, mut easy) = scripted(b"HTTP/1.1 200 OK\r\n\r\nuntil the end", |_| {});
    let mut body = BodyReader::from_easy(&mut easy).unwrap();
    assert!(body.until_close());
    let mut got = String::new();
    body.read_to_string(&mut got).unwrap();
    assert_eq!(got, "until the end");
    assert!(body.is_done());

    let (_server, mut easy) = scripted(
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        |_| {},
    );
    let mut body = BodyReader::from_easy(&mut easy).unwrap();
    let mut got = Vec::new();
    let err = body.read_to_end(&mut got).unwrap_err();
    assert_eq!(got, b"short");
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
    assert_eq!(curl_code(&err), 18, "{err}");
    assert!(err.to_string().contains("5 bytes remaining"), "{err}");
    assert!(
        err.to_string().contains("127.0.0.1:"),
        "names the server: {err}"
    );
    let again = body.read(&mut [0u8; 8]).unwrap_err();
    assert_eq!(
        (again.kind(), curl_code(&again)),
        (std::io::ErrorKind::UnexpectedEof, 18),
        "the failure sticks: {again}"
    );

    let (_server, mut easy) = scripted(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n",
        |_| {},
    );
    let mut body = BodyReader::from_easy(&mut easy).unwrap();
    let mut got = Vec::new();
    let err = body.read_to_end(&mut got).unwrap_err();
    assert_eq!(got, b"abc", "the data before the fault comes first");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{err}");
    assert_eq!(curl_code(&err), 56, "{err}");
    let again = body.read(&mut [0u8; 8]).unwrap_err();
    assert_eq!(curl_code(&again), 56, "the failure sticks: {again}");

    // A bad trailer right behind the last chunk, in the same read: the
    // decoder's own words, not a generic stop (found by the body fuzz target).
    let (_server, mut easy) = scripted(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX: \x01\r\n\r\n",
        |_| {},
    );
    let mut body = BodyReader::from_easy(&mut easy).unwrap();
    let mut got = Vec::new();
    let err = body.read_to_end(&mut got).unwrap_err();
    assert_eq!(got, b"hello");
    assert_eq!(curl_code(&err), 56, "{err}");
    assert!(err.to_string().contains("trailer"), "{err}");

    // A HEAD response has no body whatever its Content-Length says.
    let (_server, mut easy) = scripted(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", |e| {
        e.nobody(true).unwrap();
    });
    let mut body = BodyReader::from_easy(&mut easy).unwrap();
    assert!(body.is_done());
    assert_eq!(body.read(&mut [0u8; 8]).unwrap(), 0);
}

#[test]
fn a_reader_is_refused_without_a_head_and_the_connection_stays_on_the_handle() {
    let echo = TcpPeer::start(Behavior::Echo);
    let mut easy = Easy::new();
    easy.url(&format!("http://127.0.0.1:{}/", echo.port()))
        .unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.perform().unwrap();
    let err = BodyReader::from_easy(&mut easy).unwrap_err();
    assert_eq!(err.code(), 43, "{err}");
    assert!(err.to_string().contains("connect_only(Headers)"), "{err}");
    assert!(
        easy.active_socket().is_some(),
        "the connection is still there"
    );
    assert_eq!(easy.response_header_list().count(), 0);

    // A head whose lengths conflict is refused as it is read, connect-only
    // or not (libcurl checks each Content-Length line): no reader either.
    let conflicting = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab";
    let server = TcpPeer::start(Behavior::CloseAfter(conflicting.to_vec()));
    let mut easy = headers_only(&format!("http://127.0.0.1:{}/x", server.port()));
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 8, "{err}");
    assert!(err.to_string().contains("Content-Length"), "{err}");
    let err = BodyReader::from_easy(&mut easy).unwrap_err();
    assert_eq!(err.code(), 43, "{err}");
    assert!(err.to_string().contains("no response head"), "{err}");
}

#[test]
fn the_header_list_keeps_order_and_repeats_and_skips_interim_answers() {
    let answer = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n\
        HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Folded: one\r\n two\r\ncontent-type: text/plain\r\n\
        Set-Cookie: b=2\r\nContent-Length: 2\r\n\r\nok";
    let (_server, easy) = scripted(answer, |_| {});
    assert_eq!(
        owned(easy.response_header_list()),
        owned(
            [
                ("Set-Cookie", "a=1"),
                ("X-Folded", "one two"),
                ("content-type", "text/plain"),
                ("Set-Cookie", "b=2"),
                ("Content-Length", "2"),
            ]
            .into_iter()
        )
    );
}

#[test]
fn a_multi_handle_lists_headers_and_hands_its_body_to_a_reader() {
    let server = TcpPeer::start(Behavior::CloseAfter(
        b"HTTP/1.1 200 OK\r\nX-Via: multi\r\nContent-Length: 5\r\n\r\nmulti".to_vec(),
    ));
    let mut multi = Multi::new();
    let handle = multi
        .add(headers_only(&format!(
            "http://127.0.0.1:{}/",
            server.port()
        )))
        .unwrap();
    assert!(handle.response_header_list().is_empty(), "nothing read yet");
    let err = BodyReader::from_handle(&handle).unwrap_err();
    assert!(err.to_string().contains("still connecting"), "{err}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut result = None;
    while result.is_none() {
        assert!(Instant::now() < deadline, "the transfer stalled");
        multi.perform().unwrap();
        multi.messages(|m| result = Some(m.result()));
        if result.is_none() {
            multi.wait(&mut [], Duration::from_millis(100)).unwrap();
        }
    }
    result.unwrap().unwrap();
    assert_eq!(
        handle.response_header_list(),
        owned([("X-Via", "multi"), ("Content-Length", "5")].into_iter())
    );
    let mut body = BodyReader::from_handle(&handle).unwrap();
    let mut got = String::new();
    body.read_to_string(&mut got).unwrap();
    assert_eq!(got, "multi");
}

#[test]
fn a_silent_server_ends_a_read_at_the_connections_read_timeout() {
    use std::net::{IpAddr, Ipv4Addr};
    // The head and part of the body, then silence with the connection open.
    let server = peers::Server::start(IpAddr::V4(Ipv4Addr::LOCALHOST), |mut stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        let _ = peers::drain(&mut stream);
    });
    let mut easy = headers_only(&format!("http://127.0.0.1:{}/", server.port()));
    easy.perform().unwrap();
    let mut body = BodyReader::from_easy(&mut easy).unwrap();
    body.get_mut()
        .set_read_timeout(Some(Duration::from_millis(300)));
    let mut got = Vec::new();
    let started = Instant::now();
    let err = body.read_to_end(&mut got).unwrap_err();
    assert_eq!(got, b"abc");
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}
