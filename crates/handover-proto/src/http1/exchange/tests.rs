//! The exchange state by state, over byte vectors: the request going out,
//! a pulled body, the answer split at every offset, early answers, the
//! ways a peer can close, and the WebSocket upgrade.

use super::*;
use crate::testing::{for_each_split, hexdump};

const SERVER: &str = "example.com:80";

fn spec<'a>(method: &'a str, headers: &'a [String]) -> RequestSpec<'a> {
    RequestSpec {
        method,
        target: "/",
        host_header: "example.com",
        user_agent: None,
        referer: None,
        headers,
        body_len: None,
        default_headers: &[],
    }
}

fn get() -> Exchange {
    Exchange::new(
        &spec("GET", &[]),
        RequestBody::None,
        ExchangeOptions::new(SERVER),
    )
    .unwrap()
}

/// Writes everything the exchange queues, pulling the body from `source`
/// (`piece` bytes per pull); returns the bytes on the wire.
fn send_all(exchange: &mut Exchange, mut source: &[u8], piece: usize) -> Vec<u8> {
    let mut wire = Vec::new();
    loop {
        if let Some(room) = exchange.wants_body() {
            let take = room.min(piece).min(source.len());
            if take == 0 {
                exchange.end_body();
            } else {
                assert_eq!(exchange.provide_body(&source[..take]), take);
                source = &source[take..];
            }
            continue;
        }
        let out = exchange.transmit();
        if out.is_empty() {
            return wire;
        }
        // Write in uneven pieces, as a socket does.
        let n = out.len().min(5).max(out.len() / 2);
        wire.extend_from_slice(&out[..n]);
        exchange.sent(n);
    }
}

fn events(exchange: &mut Exchange) -> Vec<Event> {
    std::iter::from_fn(|| exchange.poll_event()).collect()
}

/// The callback's lines, their CRLF removed.
fn header_lines(exchange: &mut Exchange) -> Vec<String> {
    std::iter::from_fn(|| exchange.poll_header_line())
        .map(|line| {
            let text = String::from_utf8(line).expect("UTF-8 in these tests");
            let text = text.strip_suffix("\r\n").expect("CRLF in these tests");
            text.to_owned()
        })
        .collect()
}

fn failure(exchange: &Exchange) -> (ExchangeErrorKind, String) {
    assert_eq!(exchange.status(), Status::Failed);
    let error = exchange.error().expect("failed with an error");
    (error.kind, error.message.clone())
}

// ---- Sending ----------------------------------------------------------------

#[test]
fn the_request_head_goes_out_in_any_pieces_then_the_exchange_reads() {
    let mut exchange = get();
    assert_eq!(exchange.status(), Status::Pending);
    assert!(exchange.is_sending() && !exchange.wants_read());
    assert_eq!(exchange.wants_body(), None);
    let wire = send_all(&mut exchange, b"", 1);
    assert_eq!(
        wire,
        b"GET / HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"
    );
    assert!(!exchange.is_sending() && exchange.wants_read());
    assert_eq!(exchange.transmit(), b"");
    assert_eq!(
        events(&mut exchange),
        [
            Event::HeaderOut("GET / HTTP/1.1".into()),
            Event::HeaderOut("Host: example.com".into()),
            Event::HeaderOut("Accept: */*".into()),
            Event::HeaderOut(String::new()),
        ]
    );
    // More than was queued counts as all of it.
    let mut exchange = get();
    exchange.sent(usize::MAX);
    assert!(exchange.wants_read());
}

#[test]
fn a_body_held_whole_follows_the_head_with_its_length() {
    let mut exchange = Exchange::new(
        &spec("PUT", &[]),
        RequestBody::Bytes(b"0123456789".to_vec()),
        ExchangeOptions::new(SERVER),
    )
    .unwrap();
    let wire = send_all(&mut exchange, b"", 1);
    assert_eq!(
        String::from_utf8(wire).unwrap(),
        "PUT / HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nContent-Length: 10\r\n\r\n0123456789"
    );
    assert!(exchange.wants_read());
}

#[test]
fn a_pulled_body_with_a_length_is_sent_as_is_and_ends_at_its_length() {
    for piece in [1, 3, 100] {
        let mut exchange = Exchange::new(
            &spec("POST", &[]),
            RequestBody::Pull { length: Some(7) },
            ExchangeOptions::new(SERVER),
        )
        .unwrap();
        let wire = String::from_utf8(send_all(&mut exchange, b"abcdefgXYZ", piece)).unwrap();
        assert!(wire.contains("\r\nContent-Length: 7\r\n"), "{wire}");
        assert!(!wire.contains("Transfer-Encoding"), "{wire}");
        assert!(wire.ends_with("\r\n\r\nabcdefg"), "{piece}: {wire}");
        assert!(exchange.wants_read(), "the length ends the body");
        assert_eq!(exchange.wants_body(), None);
        assert_eq!(exchange.provide_body(b"more"), 0);
    }
    // Announced 0: nothing is pulled at all.
    let mut exchange = Exchange::new(
        &spec("POST", &[]),
        RequestBody::Pull { length: Some(0) },
        ExchangeOptions::new(SERVER),
    )
    .unwrap();
    let n = exchange.transmit().len();
    exchange.sent(n);
    assert_eq!(exchange.wants_body(), None);
    assert!(exchange.wants_read());
}

#[test]
fn a_pulled_body_asks_for_at_most_a_piece_and_what_its_length_has_left() {
    let mut exchange = Exchange::new(
        &spec("POST", &[]),
        RequestBody::Pull {
            length: Some(BODY_PIECE as u64 + 10),
        },
        ExchangeOptions::new(SERVER),
    )
    .unwrap();
    assert_eq!(exchange.wants_body(), None, "the head goes first");
    let n = exchange.transmit().len();
    exchange.sent(n);
    assert_eq!(exchange.wants_body(), Some(BODY_PIECE));
    let big = vec![b'x'; BODY_PIECE + 100];
    assert_eq!(exchange.provide_body(&big), BODY_PIECE);
    assert_eq!(exchange.wants_body(), None, "not before the piece is out");
    exchange.sent(BODY_PIECE - 1);
    assert_eq!(exchange.wants_body(), None);
    exchange.sent(1);
    assert_eq!(exchange.wants_body(), Some(10));
}

#[test]
fn a_pulled_body_without_a_length_is_chunked_one_chunk_per_piece() {
    let mut exchange = Exchange::new(
        &spec("PUT", &[]),
        RequestBody::Pull { length: None },
        ExchangeOptions::new(SERVER),
    )
    .unwrap();
    let wire = String::from_utf8(send_all(&mut exchange, b"hello world!", 5)).unwrap();
    assert!(
        wire.ends_with(
            "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\n worl\r\n2\r\nd!\r\n0\r\n\r\n"
        ),
        "{wire}"
    );
    assert!(!wire.contains("Content-Length"), "{wire}");
    assert!(exchange.wants_read());

    // A Transfer-Encoding of the caller's own is not doubled.
    let own = ["transfer-encoding: chunked".to_string()];
    let mut exchange = Exchange::new(
        &spec("POST", &own),
        RequestBody::Pull { length: None },
        ExchangeOptions::new(SERVER),
    )
    .unwrap();
    let wire = String::from_utf8(send_all(&mut exchange, b"", 5)).unwrap();
    assert_eq!(wire.matches("ransfer-encoding").count(), 1, "{wire}");
    assert!(wire.ends_with("\r\n\r\n0\r\n\r\n"), "{wire}");
}

#[test]
fn a_pulled_body_ending_short_of_its_length_fails() {
    let mut exchange = Exchange::new(
        &spec("PUT", &[]),
        RequestBody::Pull { length: Some(10) },
        ExchangeOptions::new(SERVER),
    )
    .unwrap();
    send_all(&mut exchange, b"abc", 3);
    let (kind, message) = failure(&exchange);
    assert_eq!(kind, ExchangeErrorKind::BodyShort);
    assert!(message.contains("7 bytes short"), "{message}");
    assert_eq!(exchange.transmit(), b"");
    assert_eq!(
        exchange
            .receive(b"HTTP/1.1 200 OK\r\n\r\n")
            .unwrap_err()
            .kind,
        kind
    );
}

#[test]
fn a_request_that_cannot_be_written_safely_is_refused_before_sending() {
    let evil = ["X-Evil: a\r\nInjected: yes".to_string()];
    let error = Exchange::new(
        &spec("GET", &evil),
        RequestBody::None,
        ExchangeOptions::new(SERVER),
    )
    .unwrap_err();
    assert_eq!(error.kind, ExchangeErrorKind::BadRequest);
    assert!(error.message.contains("refused before sending"), "{error}");
    assert!(error.message.contains(SERVER), "{error}");
}

// ---- Receiving --------------------------------------------------------------

#[test]
fn the_answer_split_at_every_offset_gives_the_head_and_leaves_the_body() {
    let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Folded: a\r\n  b\r\n\r\nhello";
    let head_len = answer.len() - 5;
    for_each_split(answer, |offset, first, second| {
        let mut exchange = get();
        send_all(&mut exchange, b"", 1);
        let a = exchange.receive(first).unwrap();
        let mut rest = first[a..].to_vec();
        rest.extend_from_slice(second);
        let b = exchange.receive(&rest).unwrap();
        assert_eq!(a + b, head_len, "at {offset}\n{}", hexdump(answer));
        assert_eq!(&rest[b..], b"hello", "at {offset}");
        assert_eq!(exchange.status(), Status::Done, "at {offset}");
        assert_eq!(exchange.receive(b"more").unwrap(), 0, "done: nothing taken");
        let response = exchange.take_response().unwrap();
        assert_eq!(response.head().status, 200);
        assert_eq!(response.head().header("x-folded"), Some("a b"));
        assert!(response.keep_alive() && !response.answered_early());
        assert!(!response.is_upgrade());
        assert_eq!(response.request_method(), "GET");
        let mut reader = response.body_reader().unwrap();
        let mut out = [0u8; 16];
        assert_eq!(reader.read(&rest[b..], &mut out).unwrap(), (5, 5));
        assert!(reader.is_done());
        assert_eq!(exchange.take_response(), None, "taken once");
    });
}

#[test]
fn interim_answers_are_skipped_but_shown_and_delivered() {
    let answer =
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
    for_each_split(answer, |offset, first, second| {
        let mut exchange = get();
        send_all(&mut exchange, b"", 1);
        events(&mut exchange);
        let used = exchange.receive(first).unwrap() + exchange.receive(second).unwrap();
        assert_eq!(used, answer.len(), "at {offset}");
        assert_eq!(exchange.status(), Status::Done, "at {offset}");
        assert_eq!(exchange.last_status(), 204);
        let expected = [
            "HTTP/1.1 100 Continue",
            "",
            "HTTP/1.1 103 Early Hints",
            "Link: </a>",
            "",
            "HTTP/1.1 204 No Content",
            "",
        ];
        assert_eq!(header_lines(&mut exchange), expected, "at {offset}");
        let shown: Vec<Event> = expected
            .iter()
            .map(|line| Event::HeaderIn(line.to_string()))
            .collect();
        assert_eq!(events(&mut exchange), shown, "at {offset}");
        // Kept for curl_easy_header's CURLH_1XX.
        let response = exchange.take_response().unwrap();
        let interim: Vec<(u16, Option<&str>)> = response
            .interim_heads()
            .iter()
            .map(|head| (head.status, head.header("link")))
            .collect();
        assert_eq!(interim, [(100, None), (103, Some("</a>"))], "at {offset}");
        let (interim, last) = response.into_heads();
        assert_eq!((interim.len(), last.status), (2, 204));
    });
}

#[test]
fn a_refused_head_delivers_the_lines_before_the_refused_one() {
    // curl's tests 178 and 415: libcurl checks each line before it hands
    // it on, so the application has the lines before a bad Content-Length.
    for bad in [&b"Content-Length: -6"[..], b"Content-Length: \r-6"] {
        let answer = [
            &b"HTTP/1.1 200 OK swsclose\r\nDate: Tue, 09 Nov 2010 14:49:00 GMT\r\n"[..],
            bad,
            b"\r\nContent-Type: text/html\r\n\r\nmoooooooooooo",
        ]
        .concat();
        for_each_split(&answer, |offset, first, second| {
            let mut exchange = get();
            send_all(&mut exchange, b"", 1);
            events(&mut exchange);
            let error = exchange
                .receive(first)
                .and_then(|_| exchange.receive(second))
                .unwrap_err();
            // (libcurl refuses the CR before it reads the value; handover
            // the control character: 8 either way.)
            assert_eq!(error.kind, ExchangeErrorKind::BadReply, "at {offset}");
            if !bad.contains(&b'\r') {
                assert!(
                    error.message.ends_with("Invalid Content-Length: value"),
                    "{error}"
                );
            }
            let before = [
                "HTTP/1.1 200 OK swsclose",
                "Date: Tue, 09 Nov 2010 14:49:00 GMT",
            ];
            assert_eq!(header_lines(&mut exchange), before, "at {offset}");
            let shown: Vec<Event> = before
                .iter()
                .map(|line| Event::HeaderIn(line.to_string()))
                .collect();
            assert_eq!(events(&mut exchange), shown, "at {offset}");
        });
    }
    // A head that has no body does not care what its length says.
    let mut exchange = get();
    send_all(&mut exchange, b"", 1);
    exchange
        .receive(b"HTTP/1.1 304 Not Modified\r\nContent-Length: -6\r\n\r\n")
        .unwrap();
    assert_eq!(exchange.status(), Status::Done);
}

#[test]
fn heads_past_libcurls_limits_fail_with_its_kinds() {
    let answer_of = |lines: &[String]| {
        let mut answer = b"HTTP/1.1 200 OK\r\n".to_vec();
        for line in lines {
            answer.extend_from_slice(line.as_bytes());
            answer.extend_from_slice(b"\r\n");
        }
        answer.extend_from_slice(b"\r\n");
        answer
    };
    // curl's test 1154: a 100 KiB line is CURLE_TOO_LARGE, as in libcurl 8.
    let long = [format!("Long: {}", "A".repeat(100 * 1024))];
    // 5001 fields.
    let many = vec!["A: b".to_owned(); 5001];
    // Lines of 101 000 bytes, under the line limit: the fourth goes past
    // 300 KiB.
    let big = vec![format!("X: {}", "a".repeat(100_995)); 4];
    let cases = [
        (
            &long[..],
            ExchangeErrorKind::TooLarge,
            "longer than 102399 bytes",
            1,
        ),
        (
            &many[..],
            ExchangeErrorKind::TooLarge,
            "more than 5000 header fields",
            5001,
        ),
        (
            &big[..],
            ExchangeErrorKind::HeadersTooLarge,
            "larger than 307200 bytes",
            5,
        ),
    ];
    for (lines, kind, needle, delivered) in cases {
        let answer = answer_of(lines);
        for piece in [answer.len(), 4096] {
            let mut exchange = get();
            send_all(&mut exchange, b"", 1);
            let error = answer
                .chunks(piece)
                .find_map(|part| exchange.receive(part).err())
                .expect("refused");
            assert_eq!(error.kind, kind, "{error}");
            assert!(error.message.contains(needle), "{error}");
            // The lines before the refused one; past 300 KiB, the line
            // that went past it too (libcurl counts after delivering).
            let got = std::iter::from_fn(|| exchange.poll_header_line()).count();
            assert_eq!(got, delivered, "{needle}");
        }
    }
}

#[test]
fn a_101_without_an_upgrade_asked_for_is_an_interim_answer() {
    let mut exchange = get();
    send_all(&mut exchange, b"", 1);
    exchange
        .receive(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n")
        .unwrap();
    assert_eq!(exchange.status(), Status::Pending);
    exchange.receive(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
    assert_eq!(exchange.status(), Status::Done);
}

#[test]
fn a_malformed_answer_fails_and_the_error_sticks() {
    let mut exchange = get();
    send_all(&mut exchange, b"", 1);
    let error = exchange.receive(b"SSH-2.0-OpenSSH_9.6\r\n").unwrap_err();
    assert_eq!(error.kind, ExchangeErrorKind::BadReply);
    assert!(
        error
            .message
            .starts_with("bad response head from example.com:80"),
        "{error}"
    );
    assert_eq!(
        exchange.receive(b"HTTP/1.1 200 OK\r\n\r\n"),
        Err(error.clone())
    );
    exchange.peer_closed();
    assert_eq!(exchange.error(), Some(&error), "the first error stays");
}

#[test]
fn keep_alive_is_decided_with_the_head_and_the_route() {
    // (answer, method, through an HTTP proxy, reusable)
    let cases: &[(&[u8], &str, Via, bool)] = &[
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            "GET",
            Via::Direct,
            true,
        ),
        (b"HTTP/1.1 200 OK\r\n\r\n", "GET", Via::Direct, false),
        (b"HTTP/1.1 200 OK\r\n\r\n", "HEAD", Via::Direct, true),
        (
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            "GET",
            Via::Direct,
            false,
        ),
        (
            b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
            "GET",
            Via::HttpProxy,
            false,
        ),
        (
            b"HTTP/1.0 200 OK\r\nProxy-Connection: keep-alive\r\nContent-Length: 0\r\n\r\n",
            "GET",
            Via::HttpProxy,
            true,
        ),
        (
            b"HTTP/1.0 200 OK\r\nProxy-Connection: keep-alive\r\nContent-Length: 0\r\n\r\n",
            "GET",
            Via::Direct,
            false,
        ),
    ];
    for (answer, method, via, reusable) in cases {
        let options = ExchangeOptions {
            via: *via,
            ..ExchangeOptions::new(SERVER)
        };
        let mut exchange = Exchange::new(&spec(method, &[]), RequestBody::None, options).unwrap();
        send_all(&mut exchange, b"", 1);
        exchange.receive(answer).unwrap();
        let response = exchange.response().unwrap();
        assert_eq!(
            response.keep_alive(),
            *reusable,
            "{method} {via:?}\n{}",
            hexdump(answer)
        );
    }
}

// ---- Early answers ----------------------------------------------------------

#[test]
fn an_answer_while_the_body_goes_out_stops_the_sending_and_the_reuse() {
    let body = vec![b'x'; 1000];
    let answer = b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n";
    for_each_split(answer, |offset, first, second| {
        let mut exchange = Exchange::new(
            &spec("POST", &[]),
            RequestBody::Bytes(body.clone()),
            ExchangeOptions::new(SERVER),
        )
        .unwrap();
        exchange.sent(100);
        events(&mut exchange);
        let used = exchange.receive(first).unwrap() + exchange.receive(second).unwrap();
        assert_eq!(used, answer.len(), "at {offset}");
        assert_eq!(exchange.status(), Status::Done, "at {offset}");
        assert_eq!(exchange.transmit(), b"", "nothing more goes out");
        assert!(events(&mut exchange).contains(&Event::Info(
            "the server answered before the request body was sent; stop sending".into()
        )));
        let response = exchange.take_response().unwrap();
        assert_eq!(response.head().status, 413);
        assert!(response.answered_early() && !response.keep_alive());
    });
    // A pulled body stops being asked for.
    let mut exchange = Exchange::new(
        &spec("POST", &[]),
        RequestBody::Pull { length: None },
        ExchangeOptions::new(SERVER),
    )
    .unwrap();
    let n = exchange.transmit().len();
    exchange.sent(n);
    assert!(exchange.wants_body().is_some());
    exchange
        .receive(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    assert_eq!(exchange.wants_body(), None);
    assert_eq!(exchange.provide_body(b"late"), 0);
    assert!(exchange.response().unwrap().answered_early());
}

#[test]
fn an_interim_answer_while_sending_lets_the_body_go_on() {
    let mut exchange = Exchange::new(
        &spec("POST", &[]),
        RequestBody::Bytes(b"data".to_vec()),
        ExchangeOptions::new(SERVER),
    )
    .unwrap();
    exchange.receive(b"HTTP/1.1 100 Continue\r\n\r\n").unwrap();
    assert!(exchange.is_sending());
    let wire = send_all(&mut exchange, b"", 1);
    assert!(wire.ends_with(b"\r\n\r\ndata"));
    exchange
        .receive(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    assert!(!exchange.response().unwrap().answered_early());
}

// ---- The peer closes --------------------------------------------------------

#[test]
fn the_peer_closing_is_told_apart_by_what_came_before() {
    // (bytes sent to us before the close, the request fully sent, kind)
    let cases: &[(&[u8], bool, ExchangeErrorKind)] = &[
        (b"", true, ExchangeErrorKind::EmptyReply),
        // libcurl deducts interim heads: still an empty reply.
        (
            b"HTTP/1.1 100 Continue\r\n\r\n",
            true,
            ExchangeErrorKind::EmptyReply,
        ),
        (b"H", true, ExchangeErrorKind::ClosedMidHead),
        (
            b"HTTP/1.1 200 OK\r\nContent-",
            true,
            ExchangeErrorKind::ClosedMidHead,
        ),
        (b"", false, ExchangeErrorKind::ClosedWhileSending),
        (b"HTTP/1.1 2", false, ExchangeErrorKind::ClosedWhileSending),
    ];
    for (before, sent, kind) in cases {
        let mut exchange = get();
        if *sent {
            send_all(&mut exchange, b"", 1);
        }
        assert_eq!(exchange.receive(before).unwrap(), before.len());
        exchange.peer_closed();
        let (got, message) = failure(&exchange);
        assert_eq!(got, *kind, "{message}\n{}", hexdump(before));
        assert!(message.contains(SERVER), "{message}");
    }
    let mut exchange = get();
    send_all(&mut exchange, b"", 1);
    exchange.peer_closed();
    assert_eq!(
        failure(&exchange).1,
        "Empty reply from server example.com:80"
    );
    // Once done, a close is the caller's business.
    let mut exchange = get();
    send_all(&mut exchange, b"", 1);
    exchange.receive(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
    exchange.peer_closed();
    assert_eq!(exchange.status(), Status::Done);
}

#[test]
fn a_failed_exchange_gives_the_lines_and_fields_it_had_taken() {
    // A close mid-head: the complete lines before it reach the callback,
    // as libcurl hands on each line when it has it.
    let mut exchange = get();
    send_all(&mut exchange, b"", 1);
    assert_eq!(exchange.heads_before_failure(), None, "not failed");
    let before = b"HTTP/1.1 100 Continue\r\nA: 1\r\n\r\nHTTP/1.1 200 OK\r\nX-One: 1\r\nX-Tw";
    exchange.receive(before).unwrap();
    header_lines(&mut exchange);
    exchange.peer_closed();
    assert_eq!(failure(&exchange).0, ExchangeErrorKind::ClosedMidHead);
    assert_eq!(header_lines(&mut exchange), ["HTTP/1.1 200 OK", "X-One: 1"]);
    // The fields handed on, for curl_easy_header: the 1xx's and the taken
    // part of the head.
    let (interim, taken) = exchange.heads_before_failure().unwrap();
    assert_eq!(interim.len(), 1);
    assert_eq!(interim[0].header("a"), Some("1"));
    let taken = taken.unwrap();
    assert_eq!((taken.status, taken.header("x-one")), (200, Some("1")));
    assert_eq!(taken.headers.len(), 1);

    // A refused status line: no head was taken.
    let mut exchange = get();
    send_all(&mut exchange, b"", 1);
    assert!(exchange.receive(b"SSH-2.0\r\n").is_err());
    assert_eq!(exchange.heads_before_failure(), Some((Vec::new(), None)));
    assert!(header_lines(&mut exchange).is_empty());
}

// ---- WebSocket upgrade ------------------------------------------------------

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

fn upgrade() -> Exchange {
    let options = ExchangeOptions {
        websocket_key: Some(KEY.into()),
        ..ExchangeOptions::new(SERVER)
    };
    let mut exchange = Exchange::new(&spec("GET", &[]), RequestBody::None, options).unwrap();
    let wire = String::from_utf8(send_all(&mut exchange, b"", 1)).unwrap();
    assert!(
        wire.ends_with(&format!(
            "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {KEY}\r\n\
             Connection: Upgrade\r\n\r\n"
        )),
        "{wire}"
    );
    assert!(exchange.is_upgrade());
    exchange
}

#[test]
fn a_valid_101_completes_the_upgrade_and_leaves_the_first_frames() {
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n\u{81}\u{2}hi"
    );
    let answer = answer.as_bytes();
    let head_len = answer.len() - 5;
    for_each_split(answer, |offset, first, second| {
        let mut exchange = upgrade();
        let a = exchange.receive(first).unwrap();
        let mut rest = first[a..].to_vec();
        rest.extend_from_slice(second);
        let b = exchange.receive(&rest).unwrap();
        assert_eq!(a + b, head_len, "at {offset}");
        assert_eq!(exchange.status(), Status::Done, "at {offset}");
        let response = exchange.take_response().unwrap();
        assert!(response.is_upgrade() && !response.keep_alive());
        assert_eq!(response.head().status, 101);
    });
}

#[test]
fn an_upgrade_answered_otherwise_is_refused_or_invalid() {
    let mut exchange = upgrade();
    let error = exchange
        .receive(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        .unwrap_err();
    assert_eq!(error.kind, ExchangeErrorKind::UpgradeRefused);
    assert_eq!(error.status, 200);
    assert_eq!(exchange.last_status(), 200);
    assert_eq!(
        error.message,
        "Refused WebSocket upgrade: 200 (from example.com:80)"
    );
    // The refusal's lines are still there for verbose output and callbacks.
    assert_eq!(
        header_lines(&mut exchange).first().map(String::as_str),
        Some("HTTP/1.1 200 OK")
    );

    let mut exchange = upgrade();
    let error = exchange
        .receive(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Accept: wrong\r\n\r\n",
        )
        .unwrap_err();
    assert_eq!(error.kind, ExchangeErrorKind::BadUpgrade);
    assert!(error.message.contains("Sec-WebSocket-Accept"), "{error}");

    let mut exchange = upgrade();
    let error = exchange
        .receive(b"HTTP/1.1 101 Switching Protocols\r\n\r\n")
        .unwrap_err();
    assert_eq!(error.kind, ExchangeErrorKind::BadUpgrade);
}

// ---- Over an in-memory pipe -------------------------------------------------

/// Drives `exchange` as the engine does against a scripted server that
/// reads the whole request, then writes `answer` `piece` bytes at a time;
/// returns the request the server saw and the bytes left after the head.
fn over_pipe(
    exchange: &mut Exchange,
    body: &[u8],
    answer: &[u8],
    piece: usize,
) -> (Vec<u8>, Vec<u8>) {
    let request = send_all(exchange, body, 64);
    let mut held = Vec::new();
    for chunk in answer.chunks(piece) {
        held.extend_from_slice(chunk);
        let used = exchange.receive(&held).unwrap();
        held.drain(..used);
        if exchange.status() != Status::Pending {
            break;
        }
    }
    if exchange.status() == Status::Pending {
        exchange.peer_closed();
    }
    (request, held)
}

#[test]
fn an_upload_and_its_answer_over_a_pipe_in_every_piece_size() {
    let answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
    for piece in 1..=answer.len() {
        let mut exchange = Exchange::new(
            &spec("PUT", &[]),
            RequestBody::Pull { length: None },
            ExchangeOptions::new(SERVER),
        )
        .unwrap();
        let (request, held) = over_pipe(&mut exchange, b"payload", answer, piece);
        assert!(
            request.ends_with(b"\r\n\r\n7\r\npayload\r\n0\r\n\r\n"),
            "{}",
            hexdump(&request)
        );
        assert_eq!(exchange.status(), Status::Done, "piece {piece}");
        let response = exchange.take_response().unwrap();
        assert_eq!(response.head().status, 201);
        let mut reader = response.body_reader().unwrap();
        let mut out = [0u8; 8];
        let mut input = &held[..];
        let mut body = Vec::new();
        while !reader.is_done() && !input.is_empty() {
            let (used, produced) = reader.read(input, &mut out).unwrap();
            body.extend_from_slice(&out[..produced]);
            input = &input[used..];
        }
        // What arrived with the head is the body's start.
        assert!(b"ok".starts_with(&body[..]), "piece {piece}: {body:?}");
    }
}

#[test]
fn a_head_dribbled_one_byte_per_call_takes_linear_time() {
    let mut answer = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
    answer.resize(100 * 1024 - 4, b'a');
    answer.extend_from_slice(b"\r\n\r\n");
    let mut exchange = get();
    send_all(&mut exchange, b"", 1);
    for byte in answer.chunks(1) {
        assert_eq!(exchange.receive(byte).unwrap(), 1);
    }
    assert_eq!(exchange.status(), Status::Done);
    assert!(exchange.reader.scanned() <= 2 * answer.len() as u64);
}

#[test]
fn the_header_callback_gets_each_line_as_it_arrived() {
    // Found by curl's test 2 (and every -i test whose server ends lines
    // with a bare LF): libcurl hands the callback the received bytes.
    let answer = b"HTTP/1.1 200 OK swsclose\nServer:  spaced \r\nX-Folded: a\n\tb\n\nhi";
    for_each_split(answer, |offset, first, second| {
        let mut exchange = get();
        send_all(&mut exchange, b"", 1);
        let used = exchange.receive(first).unwrap() + exchange.receive(second).unwrap();
        assert_eq!(used, answer.len() - 2, "at {offset}");
        let lines: Vec<Vec<u8>> = std::iter::from_fn(|| exchange.poll_header_line()).collect();
        let expected: [&[u8]; 5] = [
            b"HTTP/1.1 200 OK swsclose\n",
            b"Server:  spaced \r\n",
            b"X-Folded: a\n",
            b"\tb\n",
            b"\n",
        ];
        assert_eq!(lines, expected, "at {offset}");
    });
}

#[test]
fn a_callers_chunked_transfer_encoding_chunks_a_body_of_known_length() {
    // curl's tests 56 (-d) and 218 (-T): with the user's header the body
    // goes out chunked and no Content-Length is sent.
    let headers = ["Transfer-Encoding: chunked".to_owned()];
    let cases = [
        (RequestBody::Bytes(b"we post this".to_vec()), "POST"),
        (RequestBody::Pull { length: Some(12) }, "PUT"),
    ];
    for (body, method) in cases {
        let mut exchange =
            Exchange::new(&spec(method, &headers), body, ExchangeOptions::new(SERVER)).unwrap();
        let wire = String::from_utf8(send_all(&mut exchange, b"we post this", 64)).unwrap();
        assert!(!wire.contains("Content-Length"), "{method}: {wire}");
        assert!(
            wire.ends_with("Transfer-Encoding: chunked\r\n\r\nc\r\nwe post this\r\n0\r\n\r\n")
                || wire.ends_with(
                    "Transfer-Encoding: chunked\r\n\
                     Content-Type: application/x-www-form-urlencoded\r\n\r\n\
                     c\r\nwe post this\r\n0\r\n\r\n"
                ),
            "{method}: {wire}"
        );
    }
}

/// The upload counter counts the body's own bytes as they go out: not the
/// head, not chunked framing; whole, pulled with a length, or chunked
/// (libcurl's `CURLINFO_SIZE_UPLOAD_T`; curl's test 578).
#[test]
fn body_sent_counts_the_bodys_bytes_only_as_they_go_out() {
    let body = b"this is a short string.\n\0".to_vec();
    let whole = |caller_chunked: bool| {
        let headers = if caller_chunked {
            vec!["Transfer-Encoding: chunked".to_owned()]
        } else {
            Vec::new()
        };
        let mut exchange = Exchange::new(
            &spec("POST", &headers),
            RequestBody::Bytes(body.clone()),
            ExchangeOptions::new(SERVER),
        )
        .unwrap();
        assert_eq!(exchange.body_sent(), 0);
        send_all(&mut exchange, b"", 1);
        exchange.body_sent()
    };
    assert_eq!(whole(false), body.len() as u64);
    assert_eq!(whole(true), body.len() as u64);
    for length in [Some(body.len() as u64), None] {
        let mut exchange = Exchange::new(
            &spec("POST", &[]),
            RequestBody::Pull { length },
            ExchangeOptions::new(SERVER),
        )
        .unwrap();
        let wire = send_all(&mut exchange, &body, 7);
        assert_eq!(
            exchange.body_sent(),
            body.len() as u64,
            "{}",
            hexdump(&wire)
        );
    }
    // Part of a body held whole: only what went.
    let mut exchange = Exchange::new(
        &spec("POST", &[]),
        RequestBody::Bytes(body.clone()),
        ExchangeOptions::new(SERVER),
    )
    .unwrap();
    let head = exchange.transmit().len() - body.len();
    exchange.sent(head + 3);
    assert_eq!(exchange.body_sent(), 3);
}

/// An answer that comes while the body is going out: one of 300 or more
/// stops the body and the connection (libcurl), unless
/// `keep_sending_on_error`; one below 300 stops it only when the
/// connection is handed over at the answer. A body that goes on is sent
/// after the answer, and the connection stays reusable.
#[test]
fn an_early_answer_stops_the_body_unless_it_may_go_on() {
    let answer = |status: &str| format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
    // (status, keep_sending_on_error, stop_at_answer, goes on)
    for (status, keep_sending, stop, goes_on) in [
        ("401 Unauthorized", false, false, false),
        ("401 Unauthorized", true, false, true),
        ("200 OK", false, false, true),
        ("200 OK", true, true, false),
    ] {
        let options = ExchangeOptions {
            keep_sending_on_error: keep_sending,
            stop_at_answer: stop,
            ..ExchangeOptions::new(SERVER)
        };
        let mut exchange = Exchange::new(
            &spec("POST", &[]),
            RequestBody::Pull { length: Some(3) },
            options,
        )
        .unwrap();
        let head = exchange.transmit().len();
        exchange.sent(head);
        assert_eq!(exchange.wants_body(), Some(3));
        exchange.receive(answer(status).as_bytes()).unwrap();
        let response = exchange.take_response().unwrap();
        assert_eq!(exchange.status(), Status::Done);
        let case = format!("{status}, keep sending {keep_sending}, stop {stop}");
        assert_eq!(response.answered_early(), !goes_on, "{case}");
        assert_eq!(response.keep_alive(), goes_on, "{case}");
        assert_eq!(exchange.is_sending(), goes_on, "{case}");
        if !goes_on {
            assert_eq!(exchange.wants_body(), None, "{case}");
            assert!(exchange.transmit().is_empty(), "{case}");
            continue;
        }
        let wire = send_all(&mut exchange, b"aaa", 2);
        assert_eq!(wire, b"aaa", "{case}");
        assert!(!exchange.is_sending(), "{case}");
        assert_eq!(exchange.body_sent(), 3, "{case}");
    }
}
