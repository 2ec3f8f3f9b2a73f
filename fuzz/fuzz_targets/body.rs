//! Response bodies (`http1::BodyReader`, `http1::BodySkipper`).
//!
//! Input: `[framing][plan][message]`. The framing byte picks the head: the
//! one at the start of the message (`0`), or a made-up one announcing
//! chunked, `Content-Length` or until-close framing with the whole message
//! as the body; and the request method.
//!
//! Checks: the body decoded whole and decoded from pieces into small output
//! buffers is the same (bytes, trailers, end, error, bytes consumed); every
//! call with input and room makes progress and fills no more than its room;
//! `min_remaining` never promises more bytes than the body really had; the
//! reader stops at the end of the body whatever follows it; the skipper
//! agrees with the reader.
#![no_main]

use handover_proto::http1::{
    keep_alive_after, parse_response_head, BodyReader, BodySkipper, Limits, Parsed, ResponseHead,
};
use handover_proto_fuzz::oracle::{same, Input, Plan};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    body: Vec<u8>,
    consumed: usize,
    /// Done before the peer closed.
    done: bool,
    error: Option<String>,
    trailers: Vec<(String, String)>,
    closed: Result<(), String>,
}

/// Decodes `input` arriving and drained as `plan` says; `close` tells the
/// reader the peer closed once everything arrived.
fn run(mut reader: BodyReader, input: &[u8], plan: &Plan, close: bool) -> Outcome {
    let chunks = plan.chunks(input);
    let mut arrived = 0usize;
    let mut next_chunk = 0usize;
    let mut pos = 0usize;
    let mut body = Vec::new();
    let mut error = None;
    let mut call = 0usize;
    let mut promises = Vec::new();
    let mut idle = 0usize;
    loop {
        if reader.is_done() {
            assert_eq!(reader.min_remaining(), 0);
            break;
        }
        if pos == arrived {
            match chunks.get(next_chunk) {
                Some(chunk) => {
                    arrived += chunk.len();
                    next_chunk += 1;
                }
                None => {
                    // Bad framing found after body bytes in the same call is
                    // reported by the next call: a driver out of input must
                    // make one more (empty) call to learn of it.
                    if let Err(e) = reader.read(&[], &mut [0u8; 1]) {
                        error = Some(e.to_string());
                    }
                    break;
                }
            }
        }
        let available = &input[pos..arrived];
        let room = if plan.is_whole() {
            available.len().max(1)
        } else {
            plan.room(call)
        };
        call += 1;
        let mut out = vec![0u8; room];
        let before = reader.min_remaining();
        promises.push((pos, before));
        let result = reader.read(available, &mut out);
        // 0 before the end only when the reader has failed (an error found
        // after body bytes is returned by the next call).
        assert!(
            before >= 1 || result.is_err(),
            "min_remaining is 0 before the body is done"
        );
        match result {
            Ok((consumed, produced)) => {
                assert!(consumed <= available.len() && produced <= room);
                assert!(produced <= consumed, "more body bytes out than input in");
                if !available.is_empty() && room > 0 {
                    assert!(
                        consumed > 0 || produced > 0 || reader.is_done(),
                        "no progress with {} bytes and room {room}",
                        available.len()
                    );
                }
                body.extend_from_slice(&out[..produced]);
                pos += consumed;
                // Calls with no room may do nothing, but a whole cycle of
                // the plan always has room somewhere: no livelock.
                if consumed == 0 && produced == 0 && !available.is_empty() {
                    idle += 1;
                    assert!(
                        idle <= Plan::MAX_STEPS + 1,
                        "livelock: no progress for {idle} calls"
                    );
                } else {
                    idle = 0;
                }
            }
            Err(e) => {
                error = Some(e.to_string());
                // Sticky.
                assert_eq!(
                    reader.read(b"x", &mut [0u8; 4]).map_err(|e| e.to_string()),
                    Err(e.to_string())
                );
                break;
            }
        }
    }
    if reader.is_done() {
        for (at, promised) in promises {
            assert!(
                (pos - at) as u64 >= promised,
                "min_remaining promised {promised} bytes at {at}, the body ended at {pos}"
            );
        }
    }
    let done = reader.is_done();
    let closed = if close && error.is_none() {
        reader.on_close().map_err(|e| e.to_string())
    } else {
        Ok(())
    };
    Outcome {
        body,
        // Bytes before an error may be taken by earlier calls in one run
        // and be part of the failing call in another.
        consumed: if error.is_none() { pos } else { usize::MAX },
        done,
        error,
        trailers: reader.trailers().to_vec(),
        closed,
    }
}

fn made_up(framing: u8, extra: u16) -> ResponseHead {
    let headers = match framing {
        1 => vec![("Transfer-Encoding".to_string(), "chunked".to_string())],
        2 => vec![("Content-Length".to_string(), extra.to_string())],
        _ => vec![],
    };
    ResponseHead {
        minor_version: 1,
        status: 200,
        reason: "OK".into(),
        headers,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let config = input.byte();
    let method = ["GET", "HEAD", "CONNECT", "POST"][usize::from(config >> 6)];
    let framing = config & 3;
    let extra = if framing == 2 { input.u16() } else { 0 };
    let plan = input.plan();
    let msg = input.rest();
    let (head, body) = if framing == 0 {
        match parse_response_head(msg, Limits::DEFAULT) {
            Ok(Parsed::Complete { head, len }) => (head, &msg[len..]),
            _ => return,
        }
    } else {
        (made_up(framing, extra), msg)
    };
    let Ok(reader) = BodyReader::new(&head, method) else {
        assert!(
            !keep_alive_after(&head, method),
            "keep-alive after a body that cannot be framed"
        );
        return;
    };
    if reader.until_close() {
        assert!(
            !keep_alive_after(&head, method),
            "keep-alive after a body that runs until close"
        );
    }
    let close = config & 4 != 0;
    let whole = run(reader.clone(), body, &Plan::whole(), close);
    let split = run(reader.clone(), body, &plan, close);
    same("body", &whole, &split, &plan);

    if whole.done && whole.error.is_none() && !reader.until_close() {
        // Done before the input ran out, or right at its end: what follows
        // is the next response's and must be left alone.
        let longer = [&body[..whole.consumed], b"HTTP/1.1 200 OK\r\n\r\n0\r\n\r\n"].concat();
        let extended = run(reader.clone(), &longer, &Plan::whole(), false);
        assert_eq!(
            (extended.consumed, &extended.body),
            (whole.consumed, &whole.body)
        );
    }

    let mut skipper = BodySkipper::new(
        &head,
        method == "HEAD" || (method == "CONNECT" && (200..300).contains(&head.status)),
    )
    .unwrap();
    match skipper.feed(body) {
        Ok(n) if whole.error.is_none() => {
            // The reader may need several calls where the skipper needs one.
            assert_eq!(
                n, whole.consumed,
                "the skipper and the reader disagree on the body's end"
            );
            assert_eq!(skipper.is_done(), whole.done);
        }
        Ok(_) => {
            // Data before bad framing: the error shows on the next call.
            let _ = skipper.feed(&[]);
        }
        Err(e) => assert_eq!(Some(e.to_string()), whole.error),
    }
});
