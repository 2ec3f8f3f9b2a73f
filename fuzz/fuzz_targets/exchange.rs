//! One HTTP/1.1 exchange (`http1::Exchange`): the request out, the response
//! head in, against a server whose every byte comes from the input.
//!
//! Input: `[config][plan][server bytes]`. The config picks the method, a
//! request body, a WebSocket upgrade, and an HTTP proxy on the path.
//!
//! Checks (see `oracle::drive`): the same end whole and in pieces; answers
//! that arrive while the request is going out end the same way, the request
//! cut short at most (libcurl stops sending on an early final answer);
//! progress; the bytes after the final head (the body, the first frames)
//! are never consumed. Also: the request is a clean head followed by the
//! body; a response is the last head of the input, parsed as the one-shot
//! parser parses it; an upgrade is a 101 whose accept key matches.
#![no_main]

use handover_proto::http1::{
    parse_response_head, Exchange, ExchangeOptions, Limits, Parsed, RequestBody, RequestSpec, Via,
};
use handover_proto::ws::{accept_for, check_upgrade, client_key};
use handover_proto_fuzz::oracle::{
    drive, read_request_head, same, Driven, Input, Machine, Plan, Status,
};
use libfuzzer_sys::fuzz_target;

fn new(config: u8, body: &[u8]) -> Exchange {
    let method = ["GET", "POST", "HEAD", "PUT"][usize::from(config & 3)];
    let spec = RequestSpec {
        method,
        target: if config & 0x20 != 0 {
            "http://example.com/x"
        } else {
            "/x"
        },
        host_header: "example.com",
        user_agent: Some("fuzz"),
        referer: None,
        headers: &[],
        body_len: None,
        default_headers: &[("Accept", "*/*")],
    };
    let body = if config & 4 != 0 {
        RequestBody::Bytes(body.to_vec())
    } else {
        RequestBody::None
    };
    let mut options = ExchangeOptions::new("example.com:80");
    options.via = if config & 0x20 != 0 {
        Via::HttpProxy
    } else {
        Via::Direct
    };
    if config & 8 != 0 {
        options.websocket_key = Some(client_key(*b"the sample nonce"));
    }
    Exchange::new(&spec, body, options).expect("a valid request")
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let config = input.byte();
    let body = input.field().to_vec();
    let plan = input.plan();
    let mut msg = input.rest().to_vec();
    if config & 0x10 != 0 {
        // Reach the upgrade: the right accept key where the input says ACCEPT.
        let accept = accept_for(&client_key(*b"the sample nonce"));
        msg = String::from_utf8_lossy(&msg)
            .replace("ACCEPT", &accept)
            .into_bytes();
    }
    let msg = &msg[..];

    let whole = drive(&mut new(config, &body), msg, &Plan::whole(), false);
    let strip = |mut d: Driven| {
        if d.error.is_some() {
            d.leftover.clear(); // bytes before an error are taken by earlier calls
        }
        d
    };
    let split = drive(&mut new(config, &body), msg, &plan, false);
    same("exchange", &strip(whole.clone()), &strip(split), &plan);
    let mut eager = strip(drive(&mut new(config, &body), msg, &plan, true));
    assert!(
        whole.wire.starts_with(&eager.wire),
        "an early answer changed the request bytes"
    );
    eager.wire = whole.wire.clone();
    same(
        "exchange (answers while sending)",
        &strip(whole.clone()),
        &eager,
        &plan,
    );

    // The request: a clean head, then the body.
    let end = whole
        .wire
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4)
        .unwrap_or(whole.wire.len());
    read_request_head(&whole.wire[..end]).expect("a clean request head");

    let mut exchange = new(config, &body);
    let driven = drive(&mut exchange, msg, &Plan::whole(), false);
    assert_eq!(driven, whole);
    if !whole.ran_out && exchange.status() != Status::Failed {
        // Decided: bytes after the final head are the body's or the frames'.
        let longer = [msg, b"\x81\x00HTTP/1.1 200 OK\r\n\r\n"].concat();
        let more = drive(&mut new(config, &body), &longer, &Plan::whole(), false);
        assert!(
            more.leftover.ends_with(b"\x81\x00HTTP/1.1 200 OK\r\n\r\n"),
            "bytes after the head consumed"
        );
    }
    if exchange.status() == Status::Done {
        let used = msg.len() - whole.leftover.len();
        let response = exchange
            .take_response()
            .expect("a done exchange has a response");
        // The final head is the last head in the bytes used.
        let mut at = 0;
        let mut last = None;
        while at < used {
            match parse_response_head(&msg[at..used], Limits::DEFAULT) {
                Ok(Parsed::Complete { head, len }) => {
                    at += len;
                    last = Some(head);
                }
                other => panic!("used bytes are not whole heads: {other:?}"),
            }
        }
        assert_eq!(at, used);
        assert_eq!(Some(response.head()), last.as_ref());
        if response.is_upgrade() {
            let head = response.head();
            assert_eq!(head.status, 101);
            let get = |name: &str| {
                let values: Vec<&str> = head.headers_named(name).collect();
                (!values.is_empty()).then(|| values.join(", "))
            };
            assert_eq!(
                check_upgrade(101, get, &client_key(*b"the sample nonce")),
                Ok(())
            );
        }
        let _ = response.body_reader();
        let _ = response.keep_alive();
    }
});
