//! The WebSocket session after the 101 (`ws::Session`): frames and whole
//! messages in, automatic PONGs and the CLOSE echo out.
//!
//! Input: `[config][plan][server bytes]`. Config bit 0: whole messages
//! (`recv_message`) rather than frames (`recv_frame`); bit 1: NOAUTOPONG;
//! bit 2: CLOSE echo on; bit 3: a small message limit.
//!
//! Checks: the same frames or messages (and errors) whether the server's
//! bytes arrive whole or in pieces read into small buffers, and the same
//! bytes written back; what the session writes, unmasked, is valid client
//! frames: one PONG echoing each PING the server sent (auto-PONG on), one
//! CLOSE carrying the server's status code at most (echo on), nothing else;
//! a frame-mode run returns every data frame the plain decoder sees;
//! `peer_closed` is an orderly end exactly after the server's CLOSE.
#![no_main]

use handover_proto::ws::{CloseState, Decoder, Options, Session, WsErrorKind};
use handover_proto_fuzz::oracle::{same, unmask_client_frames, ws_bits, Input, Plan};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    events: Vec<String>,
    wire: Vec<u8>,
    close: CloseState,
    orderly_end: bool,
}

/// Complete frames the plain decoder reads from `msg`, up to an error.
fn frames(msg: &[u8]) -> Vec<(u32, Vec<u8>)> {
    let mut decoder = Decoder::new();
    let mut out = vec![0u8; msg.len().max(1)];
    let (mut rest, mut frames, mut current) = (msg, Vec::new(), Vec::new());
    while let Ok((used, Some(frame))) = decoder.decode(rest, &mut out) {
        rest = &rest[used..];
        current.extend_from_slice(&out[..frame.len]);
        if frame.bytesleft == 0 {
            frames.push((frame.flags.bits(), std::mem::take(&mut current)));
        }
    }
    frames
}

fn run(config: u8, msg: &[u8], plan: &Plan) -> Outcome {
    let options = if config & 2 != 0 {
        Options::NOAUTOPONG
    } else {
        Options::empty()
    };
    let mut session = Session::new(options, [config; 32]);
    session.set_close_echo(config & 4 != 0);
    if config & 8 != 0 {
        session.set_max_message(7);
    }
    let (mut events, mut wire) = (Vec::new(), Vec::new());
    let mut current: Option<(u32, Vec<u8>)> = None;
    let (mut call, mut step) = (0usize, 0usize);
    let mut fatal = false;
    'chunks: for chunk in plan.chunks(msg) {
        session.receive(chunk);
        loop {
            let progress = if config & 1 != 0 {
                match session.recv_message() {
                    Ok(Some(message)) => {
                        events.push(format!("{message:?}"));
                        true
                    }
                    Ok(None) => false,
                    Err(e) => {
                        events.push(format!("error {:?}", e.kind));
                        if e.kind == WsErrorKind::Protocol {
                            fatal = true;
                        }
                        true
                    }
                }
            } else {
                let room = if plan.is_whole() {
                    msg.len().max(1)
                } else {
                    plan.room(call)
                };
                call += 1;
                let mut out = vec![0u8; room];
                match session.recv_frame(&mut out) {
                    Ok(Some(frame)) => {
                        assert!(frame.len <= room);
                        let (flags, payload) =
                            current.get_or_insert_with(|| (frame.flags.bits(), Vec::new()));
                        assert_eq!(*flags, frame.flags.bits());
                        assert_eq!(frame.offset, payload.len() as u64);
                        payload.extend_from_slice(&out[..frame.len]);
                        if frame.bytesleft == 0 {
                            let (flags, payload) = current.take().unwrap();
                            events.push(format!("{flags:#x} {payload:?}"));
                        }
                        true
                    }
                    Ok(None) => false,
                    Err(e) => {
                        events.push(format!("error {:?} {}", e.kind, e.message));
                        fatal = true;
                        true
                    }
                }
            };
            while !session.transmit().is_empty() {
                let n = session.transmit().len().min(plan.write(step));
                step += 1;
                wire.extend_from_slice(&session.transmit()[..n]);
                session.sent(n);
            }
            // Control frames queued before an error still go out.
            if fatal {
                break 'chunks;
            }
            if !progress {
                assert_eq!(session.buffered(), 0, "recv returned None with bytes held");
                break;
            }
        }
    }
    Outcome {
        events,
        wire,
        close: session.close_state(),
        orderly_end: session.peer_closed().is_ok(),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let config = input.byte() & 0x0f;
    let plan = input.plan();
    let msg = input.rest();
    let whole = run(config, msg, &Plan::whole());
    let split = run(config, msg, &plan);
    same("ws session", &whole, &split, &plan);

    // What the session wrote: control frames owed to the server, no more.
    let server_sent = frames(msg);
    let wrote = frames(&unmask_client_frames(&whole.wire));
    let pongs: Vec<&Vec<u8>> = wrote
        .iter()
        .filter(|(f, _)| *f == ws_bits::PONG)
        .map(|(_, p)| p)
        .collect();
    let closes: Vec<&Vec<u8>> = wrote
        .iter()
        .filter(|(f, _)| *f == ws_bits::CLOSE)
        .map(|(_, p)| p)
        .collect();
    assert_eq!(
        pongs.len() + closes.len(),
        wrote.len(),
        "the session wrote a data frame by itself"
    );
    let pings: Vec<&Vec<u8>> = server_sent
        .iter()
        .filter(|(f, _)| *f == ws_bits::PING)
        .map(|(_, p)| p)
        .collect();
    if config & 2 == 0 {
        assert!(
            pings.starts_with(&pongs),
            "PONGs {pongs:?} do not echo the PINGs {pings:?}"
        );
    } else {
        assert!(pongs.is_empty(), "a PONG with NOAUTOPONG");
    }
    let server_close = server_sent.iter().find(|(f, _)| *f == ws_bits::CLOSE);
    assert!(closes.len() <= 1);
    if let Some(close) = closes.first() {
        assert!(config & 4 != 0, "a CLOSE echo with the echo off");
        let code = &server_close.expect("an echo answers a CLOSE").1;
        // The status code alone; none for a payload too short to hold one.
        assert_eq!(close.as_slice(), code.get(..2).unwrap_or_default());
    }
    if whole.orderly_end {
        assert!(server_close.is_some());
    }
    if config & 1 == 0 && !whole.events.iter().any(|e| e.starts_with("error")) {
        // Frame mode: every data frame the decoder sees is returned.
        let data_frames = server_sent
            .iter()
            .filter(|(f, _)| *f & ws_bits::CONTROL == 0)
            .count();
        let returned = whole.events.iter().filter(|e| {
            let bits =
                u32::from_str_radix(e.split(' ').next().unwrap().trim_start_matches("0x"), 16)
                    .unwrap();
            bits & ws_bits::CONTROL == 0
        });
        assert_eq!(returned.count(), data_frames);
    }
});
