//! Server-to-client WebSocket frames (`ws::Decoder`).
//!
//! Input: `[config (unused)][plan][server bytes]`.
//!
//! Checks: the frames read from the whole stream into a large buffer and
//! from pieces into small buffers (room 0 included: libcurl's meta-only
//! call) are the same frames with the same payloads, and the same error;
//! every event fits its buffer, its offset follows the bytes delivered and
//! its flags stay those of its frame; a call that returns nothing consumed
//! all its input; a completed control frame's payload is what was
//! delivered; errors are sticky.
#![no_main]

use handover_proto::ws::Decoder;
use handover_proto_fuzz::oracle::{same, ws_bits, Input, Plan};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    frames: Vec<(u32, Vec<u8>)>,
    partial: Option<(u32, Vec<u8>)>,
    error: Option<String>,
    consumed: Option<usize>,
    boundary: bool,
    message_open: bool,
}

fn run(msg: &[u8], plan: &Plan) -> Outcome {
    let chunks = plan.chunks(msg);
    let mut decoder = Decoder::new();
    let (mut arrived, mut next, mut pos, mut call) = (0usize, 0usize, 0usize, 0usize);
    let mut frames = Vec::new();
    let mut current: Option<(u32, Vec<u8>, u64)> = None;
    let mut error = None;
    let mut idle = 0usize;
    loop {
        if pos == arrived {
            match chunks.get(next) {
                Some(chunk) => {
                    arrived += chunk.len();
                    next += 1;
                }
                None => break,
            }
        }
        let available = &msg[pos..arrived];
        let room = if plan.is_whole() {
            available.len().max(1)
        } else {
            plan.room(call)
        };
        call += 1;
        let mut out = vec![0u8; room];
        match decoder.decode(available, &mut out) {
            Ok((consumed, event)) => {
                assert!(consumed <= available.len());
                pos += consumed;
                let Some(frame) = event else {
                    assert_eq!(
                        consumed,
                        available.len(),
                        "no event, yet input left unconsumed"
                    );
                    // Waiting for input is no livelock.
                    idle = 0;
                    continue;
                };
                assert!(frame.len <= room && frame.len <= consumed);
                let (flags_now, payload, total) = current.get_or_insert_with(|| {
                    (
                        frame.flags.bits(),
                        Vec::new(),
                        frame.offset + frame.bytesleft + frame.len as u64,
                    )
                });
                assert_eq!(
                    frame.flags.bits(),
                    *flags_now,
                    "flags changed within a frame"
                );
                assert_eq!(
                    frame.offset,
                    payload.len() as u64,
                    "offset does not follow the bytes delivered"
                );
                assert_eq!(frame.offset + frame.len as u64 + frame.bytesleft, *total);
                payload.extend_from_slice(&out[..frame.len]);
                if frame.len == 0 && frame.bytesleft > 0 {
                    // Meta only (libcurl's `curl_ws_recv(NULL, 0)`): header
                    // bytes may be consumed, payload cannot be.
                    assert_eq!(
                        room, 0,
                        "an empty event with bytes left needs an empty buffer"
                    );
                }
                if frame.bytesleft == 0 {
                    let (f, p, _) = current.take().unwrap();
                    if f & ws_bits::CONTROL != 0 {
                        assert_eq!(
                            decoder.control_payload(),
                            Some((ws_bits::flags(f), p.as_slice()))
                        );
                        assert_eq!(decoder.ping_payload().is_some(), f == ws_bits::PING);
                    } else {
                        assert_eq!(decoder.control_payload(), None);
                    }
                    frames.push((f, p));
                }
                if consumed == 0 && frame.len == 0 && frame.bytesleft > 0 {
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
                assert_eq!(decoder.error(), Some(&e));
                assert_eq!(
                    decoder.decode(b"\x81\x00", &mut [0u8; 8]),
                    Err(e.clone()),
                    "errors are sticky"
                );
                error = Some(e.message);
                break;
            }
        }
    }
    Outcome {
        frames,
        // A frame whose header arrived but none of its payload is no
        // partial frame: the whole run reports it only once bytes come.
        partial: current
            .map(|(f, p, _)| (f, p))
            .filter(|(_, p)| !p.is_empty()),
        // Header bytes before an error are consumed by the calls that
        // brought them: the count is only comparable without an error.
        consumed: error.is_none().then_some(pos),
        error,
        boundary: decoder.at_frame_boundary(),
        message_open: decoder.message_open(),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let _ = input.byte();
    let plan = input.plan();
    let msg = input.rest();
    let whole = run(msg, &Plan::whole());
    let split = run(msg, &plan);
    same("ws frames", &whole, &split, &plan);
    for (f, payload) in &whole.frames {
        if f & ws_bits::CONTROL != 0 {
            assert!(payload.len() <= 125 && f & ws_bits::CONT == 0);
        }
    }
});
