//! Client-to-server WebSocket frames (`ws::SendState` over `ws::Encoder`):
//! encode → decode round trip.
//!
//! Input: `[config (unused)][plan]` then operations: a flags byte, a payload
//! length byte, a 4-byte mask, then the payload.
//!
//! Checks: a frame is accepted exactly when libcurl's flag rules allow it
//! (a model of the fragmented-message state says which); a refused call
//! changes nothing; a call whose bytes are all written reports its whole
//! payload sent, also when the payload is passed in pieces with OFFSET;
//! the wire, unmasked, decodes to the frames and payloads that were sent,
//! with the flags the decoder should report; masking in pieces equals
//! masking at once.
#![no_main]

use handover_proto::ws::{Decoder, Encoder, SendOutcome, SendState, WsErrorKind};
use handover_proto_fuzz::oracle::ws_bits as flags;
use handover_proto_fuzz::oracle::{unmask_client_frames, Input};
use libfuzzer_sys::fuzz_target;

const FLAG_CHOICES: [u32; 14] = [
    flags::TEXT,
    flags::BINARY,
    flags::TEXT | flags::CONT,
    flags::BINARY | flags::CONT,
    flags::CONT,
    0,
    flags::CLOSE,
    flags::PING,
    flags::PONG,
    flags::TEXT | flags::BINARY,
    flags::PING | flags::CONT,
    flags::CLOSE | flags::PONG,
    0x80,
    flags::TEXT | flags::CONT | flags::BINARY,
];

/// What the decoder should report for a frame sent with `f` while `open`
/// (the type of a fragmented message) stands; `None` for flags libcurl
/// refuses. Updates `open`.
fn model(f: u32, open: &mut Option<u32>) -> Option<u32> {
    let data = |ty: u32, fin: bool, open: &mut Option<u32>| {
        let ty = open.unwrap_or(ty);
        *open = if fin { None } else { Some(ty) };
        Some(if fin { ty } else { ty | flags::CONT })
    };
    match f {
        0 if open.is_some() => data(0, true, open),
        flags::CONT if open.is_some() => data(0, false, open),
        flags::TEXT | flags::BINARY => data(f, true, open),
        _ if f == flags::TEXT | flags::CONT || f == flags::BINARY | flags::CONT => {
            data(f & !flags::CONT, false, open)
        }
        flags::CLOSE | flags::PING | flags::PONG => Some(f),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let _ = input.byte();
    let plan = input.plan();
    let mut state = SendState::new();
    let mut wire = Vec::new();
    let mut sent_frames: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut open = None;
    let mut step = 0usize;
    while !input.is_empty() {
        let op = input.byte();
        let f = FLAG_CHOICES[usize::from(op & 0x0f) % FLAG_CHOICES.len()];
        let in_pieces = op & 0x80 != 0;
        // Lengths for each header form: 7-bit, 16-bit (126..), and one
        // 64-bit length (over 65535) that stays rare because it is slow.
        let len = match (op & 0x40 != 0, input.byte()) {
            (false, n) => usize::from(n),
            (true, 0xff) => 65_536 + 17,
            (true, n) => 126 + usize::from(n) * 4,
        };
        let mask: [u8; 4] = input.array();
        let payload: Vec<u8> = input.bytes(len).iter().copied().cycle().take(len).collect();
        let payload = if payload.len() < len {
            vec![0x55; len]
        } else {
            payload
        };

        let mut probe = open;
        let expected = model(f, &mut probe);
        let pieces: Vec<&[u8]> = if in_pieces && !payload.is_empty() {
            payload
                .chunks((1 + usize::from(mask[0] % 64)).max(len / 64))
                .collect()
        } else {
            vec![&payload[..]]
        };
        let mut accepted = true;
        for (index, piece) in pieces.iter().enumerate() {
            let call_flags = if in_pieces { f | flags::OFFSET } else { f };
            let idle_before = state.is_idle();
            match state.start(piece, len as u64, flags::flags(call_flags), mask) {
                Ok(()) => {}
                Err(e) => {
                    assert_eq!(
                        index, 0,
                        "a later piece of an accepted frame was refused: {e}"
                    );
                    assert!(
                        idle_before && state.is_idle(),
                        "a refused call changed the state"
                    );
                    let too_large = f & flags::CONTROL != 0 && len > 125;
                    assert!(
                        expected.is_none() || (too_large && e.kind == WsErrorKind::TooLarge),
                        "flags {f:#x} with {open:?} open refused: {e}"
                    );
                    accepted = false;
                    break;
                }
            }
            // Pieces scale with the frame, so a 64 KiB frame takes as many
            // writes as a small one.
            let scale = 1 + len / 128;
            while !state.transmit().is_empty() {
                let n = state
                    .transmit()
                    .len()
                    .min(plan.write(step).saturating_mul(scale));
                step += 1;
                wire.extend_from_slice(&state.transmit()[..n]);
                state.sent(n);
            }
            assert_eq!(state.finish(), SendOutcome::Sent(piece.len()));
        }
        if accepted {
            let decoded_flags =
                expected.unwrap_or_else(|| panic!("flags {f:#x} with {open:?} open were accepted"));
            assert!(
                state.is_idle(),
                "the frame is not complete after all its bytes went out"
            );
            open = probe;
            sent_frames.push((decoded_flags, payload));
        }
        assert_eq!(state.message_open(), open.is_some());
    }

    let server_view = unmask_client_frames(&wire);
    let mut decoder = Decoder::new();
    let mut rest = &server_view[..];
    let mut out = vec![0u8; server_view.len().max(1)];
    let mut frames: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut current = Vec::new();
    loop {
        let (consumed, event) = decoder
            .decode(rest, &mut out)
            .expect("the encoder's frames decode");
        rest = &rest[consumed..];
        let Some(frame) = event else { break };
        current.extend_from_slice(&out[..frame.len]);
        if frame.bytesleft == 0 {
            frames.push((frame.flags.bits(), std::mem::take(&mut current)));
        }
    }
    assert!(rest.is_empty());
    assert_eq!(frames, sent_frames, "encode -> decode changed the frames");
    assert_eq!(decoder.message_open(), open.is_some());

    // Masking in two pieces at any offset is masking at once.
    if let Some((&cut, _)) = data.split_first() {
        let mut whole = data.to_vec();
        let mut pieces = data.to_vec();
        let key = [data.len() as u8, 1, 2, cut];
        Encoder::mask(&mut whole, key, 0);
        let cut = usize::from(cut).min(pieces.len());
        let (a, b) = pieces.split_at_mut(cut);
        Encoder::mask(a, key, 0);
        Encoder::mask(b, key, cut as u64);
        assert_eq!(whole, pieces);
    }
});
