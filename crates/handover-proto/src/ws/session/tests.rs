//! The session with byte vectors: every input split at every offset, the
//! bytes it writes parsed back as client frames.

use super::*;
use crate::testing::{for_each_split, hexdump};

const SEED: [u8; 32] = [0x5e; 32];

fn new_session(options: Options) -> Session {
    Session::new(options, SEED)
}

/// Feeds `parts` in turn, reading frames through `out` of `size` bytes
/// after each part, and joins each frame's chunks: (flags, payload).
fn frames_of(
    session: &mut Session,
    parts: &[&[u8]],
    size: usize,
) -> Result<Vec<(Flags, Vec<u8>)>, WsError> {
    let mut frames = Vec::new();
    let mut current: Option<(Flags, Vec<u8>)> = None;
    let mut out = vec![0; size];
    for part in parts {
        session.receive(part);
        let mut calls = 0;
        while let Some(frame) = session.recv_frame(&mut out)? {
            calls += 1;
            assert!(calls < 10_000, "no progress");
            if size == 0 && frame.bytesleft > 0 {
                // A meta-only read: peek, then read the payload for real.
                let mut rest = vec![0; usize::try_from(frame.bytesleft).unwrap()];
                let Some(whole) = session.recv_frame(&mut rest)? else {
                    break;
                };
                rest.truncate(whole.len);
                let entry = current.get_or_insert((whole.flags, Vec::new()));
                entry.1.extend_from_slice(&rest);
                if whole.bytesleft == 0 {
                    frames.extend(current.take());
                }
                continue;
            }
            let entry = current.get_or_insert((frame.flags, Vec::new()));
            assert_eq!(entry.0, frame.flags, "flags changed inside a frame");
            assert_eq!(frame.offset, entry.1.len() as u64);
            entry.1.extend_from_slice(&out[..frame.len]);
            if frame.bytesleft == 0 {
                frames.extend(current.take());
            }
        }
    }
    Ok(frames)
}

/// Feeds `parts` in turn, collecting every message and every error the
/// session recovers from; stops at a protocol error (sticky).
fn messages_of(session: &mut Session, parts: &[&[u8]]) -> Vec<Result<Message, WsError>> {
    let mut got = Vec::new();
    for part in parts {
        session.receive(part);
        loop {
            match session.recv_message() {
                Ok(Some(message)) => got.push(Ok(message)),
                Ok(None) => break,
                Err(e) => {
                    let sticky = e.kind == WsErrorKind::Protocol;
                    got.push(Err(e));
                    if sticky {
                        return got;
                    }
                }
            }
        }
    }
    got
}

/// Everything the session wants written, as if every write took it all.
fn written(session: &mut Session) -> Vec<u8> {
    let mut wire = Vec::new();
    while !session.transmit().is_empty() {
        let n = session.transmit().len();
        wire.extend_from_slice(session.transmit());
        session.sent(n);
    }
    wire
}

/// The client frames on `wire`: (first byte, unmasked payload). Every one
/// must be masked and whole.
fn client_frames(wire: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    let mut rest = wire;
    while !rest.is_empty() {
        assert!(rest.len() >= 2, "a cut header\n{}", hexdump(wire));
        let (first, second) = (rest[0], rest[1]);
        assert!(
            second & 0x80 != 0,
            "an unmasked client frame\n{}",
            hexdump(wire)
        );
        let (len, at) = match second & 0x7f {
            126 => (usize::from(u16::from_be_bytes([rest[2], rest[3]])), 4),
            127 => (
                usize::try_from(u64::from_be_bytes(rest[2..10].try_into().unwrap())).unwrap(),
                10,
            ),
            short => (usize::from(short), 2),
        };
        let mask: [u8; 4] = rest[at..at + 4].try_into().unwrap();
        let mut payload = rest[at + 4..at + 4 + len].to_vec();
        Encoder::mask(&mut payload, mask, 0);
        frames.push((first, payload));
        rest = &rest[at + 4 + len..];
    }
    frames
}

const PONG: u8 = 0x8a;
const CLOSE: u8 = 0x88;

#[test]
fn auto_pong_answers_a_ping_at_every_split_and_buffer_size_and_hides_it() {
    let input = b"\x89\x05hello\x81\x03abc";
    for size in [0, 1, 2, 7, 64] {
        for_each_split(input, |offset, head, tail| {
            let mut session = new_session(Options::empty());
            let frames = frames_of(&mut session, &[head, tail], size).unwrap();
            let context = format!("split at {offset}, out of {size}\n{}", hexdump(input));
            assert_eq!(frames, [(Flags::TEXT, b"abc".to_vec())], "{context}");
            let wire = written(&mut session);
            assert_eq!(
                client_frames(&wire),
                [(PONG, b"hello".to_vec())],
                "{context}\n{}",
                hexdump(&wire)
            );
        });
    }
}

#[test]
fn a_swallowed_ping_never_lands_in_the_callers_buffer() {
    let mut session = new_session(Options::empty());
    session.receive(b"\x89\x03abc");
    let mut out = [b'-'; 8];
    assert_eq!(session.recv_frame(&mut out), Ok(None));
    assert_eq!(out, [b'-'; 8]);
}

#[test]
fn noautopong_hands_the_ping_over_and_owes_nothing() {
    let input = b"\x89\x02hi";
    for_each_split(input, |offset, head, tail| {
        let mut session = new_session(Options::NOAUTOPONG);
        let frames = frames_of(&mut session, &[head, tail], 16).unwrap();
        assert_eq!(frames, [(Flags::PING, b"hi".to_vec())], "split at {offset}");
        assert!(session.transmit().is_empty());
    });
    let mut session = new_session(Options::NOAUTOPONG);
    let got = messages_of(&mut session, &[input]);
    assert_eq!(got, [Ok(Message::Ping(b"hi".to_vec()))]);
    assert!(session.transmit().is_empty());
}

#[test]
fn a_pong_waits_for_the_frame_half_way_out_and_only_the_newest_ping_is_answered() {
    let mut session = new_session(Options::empty());
    session.start_send(b"0123456789", 0, Flags::BINARY).unwrap();
    // The header and 3 payload bytes go out, then the socket is full.
    let mut wire = session.transmit()[..6 + 3].to_vec();
    session.sent(6 + 3);
    assert_eq!(session.finish_send(), SendOutcome::Sent(3));

    session.receive(b"\x89\x03one\x89\x03two");
    assert_eq!(session.recv_frame(&mut [0; 16]), Ok(None));
    assert!(
        session.transmit().is_empty(),
        "no PONG inside the data frame"
    );

    session.start_send(b"3456789", 0, Flags::BINARY).unwrap();
    // The frame ends, and the PONG is queued right behind it.
    wire.extend(written(&mut session));
    assert_eq!(session.finish_send(), SendOutcome::Sent(7));
    assert_eq!(
        client_frames(&wire),
        [(0x82, b"0123456789".to_vec()), (PONG, b"two".to_vec())],
        "\n{}",
        hexdump(&wire)
    );
}

#[test]
fn an_owed_pong_goes_out_before_the_next_frame_of_a_send_call() {
    let mut session = new_session(Options::empty());
    session.receive(b"\x89\x01p");
    assert_eq!(session.recv_frame(&mut [0; 4]), Ok(None));
    session.start_send(b"data", 0, Flags::TEXT).unwrap();
    // The socket takes the PONG only: no payload of this call went.
    let pong_len = session.transmit().len();
    assert_eq!(pong_len, 2 + 4 + 1);
    let pong = session.transmit().to_vec();
    session.sent(pong_len);
    assert_eq!(session.finish_send(), SendOutcome::Again);
    session.start_send(b"data", 0, Flags::TEXT).unwrap();
    let frame = written(&mut session);
    assert_eq!(session.finish_send(), SendOutcome::Sent(4));
    let wire = [pong, frame].concat();
    assert_eq!(
        client_frames(&wire),
        [(PONG, b"p".to_vec()), (0x81, b"data".to_vec())]
    );
}

#[test]
fn close_echo_answers_with_the_status_code_at_every_split() {
    let input = b"\x81\x02hi\x88\x05\x03\xe8bye";
    for_each_split(input, |offset, head, tail| {
        let mut session = new_session(Options::empty());
        session.set_close_echo(true);
        let frames = frames_of(&mut session, &[head, tail], 3).unwrap();
        assert_eq!(
            frames,
            [
                (Flags::TEXT, b"hi".to_vec()),
                (Flags::CLOSE, b"\x03\xe8bye".to_vec())
            ],
            "split at {offset}"
        );
        let wire = written(&mut session);
        assert_eq!(
            client_frames(&wire),
            [(CLOSE, b"\x03\xe8".to_vec())],
            "split at {offset}\n{}",
            hexdump(&wire)
        );
        assert_eq!(session.close_state(), CloseState::Closed);
        assert_eq!(session.peer_closed(), Ok(()));
    });
}

#[test]
fn a_close_without_a_status_code_is_echoed_empty() {
    let mut session = new_session(Options::empty());
    session.set_close_echo(true);
    session.receive(b"\x88\x00");
    assert_eq!(
        session.recv_frame(&mut [0; 4]).unwrap().map(|f| f.flags),
        Some(Flags::CLOSE)
    );
    assert_eq!(client_frames(&written(&mut session)), [(CLOSE, Vec::new())]);
}

#[test]
fn the_frame_api_leaves_the_close_to_the_application_as_libcurl() {
    let mut session = new_session(Options::empty());
    let frames = frames_of(&mut session, &[b"\x88\x02\x03\xe8"], 16).unwrap();
    assert_eq!(frames, [(Flags::CLOSE, b"\x03\xe8".to_vec())]);
    assert!(session.transmit().is_empty(), "no echo without close echo");
    assert_eq!(session.close_state(), CloseState::CloseReceived);

    // The application answers through the frame API: the handshake is done.
    session.start_send(b"\x03\xe8", 0, Flags::CLOSE).unwrap();
    written(&mut session);
    assert_eq!(session.finish_send(), SendOutcome::Sent(2));
    assert_eq!(session.close_state(), CloseState::Closed);
    // Sending after a CLOSE is not refused by the frame API (libcurl).
    session.start_send(b"x", 0, Flags::TEXT).unwrap();
}

#[test]
fn close_handshake_we_close_first() {
    let mut session = new_session(Options::empty());
    session.set_close_echo(true);
    session
        .send_message(&Message::Close(Some((4000, "done".into()))))
        .unwrap();
    assert_eq!(session.close_state(), CloseState::CloseSent);
    assert_eq!(
        client_frames(&written(&mut session)),
        [(CLOSE, b"\x0f\xa0done".to_vec())]
    );
    // Data the server sent before it saw our CLOSE still arrives.
    let input = b"\x82\x01x\x88\x02\x0f\xa0";
    for_each_split(input, |offset, head, tail| {
        let mut session = session_after_our_close();
        let got = messages_of(&mut session, &[head, tail]);
        assert_eq!(
            got,
            [
                Ok(Message::Binary(b"x".to_vec())),
                Ok(Message::Close(Some((4000, String::new()))))
            ],
            "split at {offset}"
        );
        assert_eq!(session.close_state(), CloseState::Closed);
        assert!(session.transmit().is_empty(), "the answer is not answered");
    });
}

fn session_after_our_close() -> Session {
    let mut session = new_session(Options::empty());
    session.set_close_echo(true);
    session.send_message(&Message::Close(None)).unwrap();
    written(&mut session);
    session
}

#[test]
fn close_handshake_the_server_closes_first() {
    let mut session = new_session(Options::empty());
    session.set_close_echo(true);
    let got = messages_of(&mut session, &[b"\x88\x04\x03\xe9ok"]);
    assert_eq!(got, [Ok(Message::Close(Some((1001, "ok".into()))))]);
    assert_eq!(session.close_state(), CloseState::Closed);
    assert_eq!(
        client_frames(&written(&mut session)),
        [(CLOSE, b"\x03\xe9".to_vec())]
    );
    let error = session
        .send_message(&Message::Text("late".into()))
        .unwrap_err();
    assert_eq!(error.kind, WsErrorKind::BadArgument);
    // A second CLOSE is not sent.
    session.send_message(&Message::Close(None)).unwrap();
    assert!(session.transmit().is_empty());
    assert_eq!(session.peer_closed(), Ok(()));
}

#[test]
fn an_end_without_a_close_is_closed_with_libcurls_52() {
    let mut session = new_session(Options::empty());
    session.receive(b"\x81\x01a");
    let error = session.peer_closed().unwrap_err();
    assert_eq!(error.kind, WsErrorKind::Closed);
    assert_eq!(error.code(), 52);
}

#[test]
fn fragments_are_reassembled_across_interleaved_control_frames_at_every_split() {
    let input = b"\x01\x03hel\x89\x01p\x8a\x01q\x00\x03lo \x80\x05world\x82\x00";
    for_each_split(input, |offset, head, tail| {
        let mut session = new_session(Options::empty());
        let got = messages_of(&mut session, &[head, tail]);
        assert_eq!(
            got,
            [
                Ok(Message::Pong(b"q".to_vec())),
                Ok(Message::Text("hello world".into())),
                Ok(Message::Binary(Vec::new())),
            ],
            "split at {offset}\n{}",
            hexdump(input)
        );
        assert_eq!(
            client_frames(&written(&mut session)),
            [(PONG, b"p".to_vec())],
            "split at {offset}"
        );
    });
    // One byte at a time.
    let mut session = new_session(Options::empty());
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(messages_of(&mut session, &bytes).len(), 3);
}

#[test]
fn a_partial_control_frame_survives_a_caller_that_stops_waiting() {
    // WebSocket::set_timeout: a recv that gives up between two halves of a
    // PONG must not lose the first half.
    let input = b"\x8a\x05abcde";
    for_each_split(input, |offset, head, tail| {
        let mut session = new_session(Options::empty());
        session.receive(head);
        if offset < input.len() {
            assert_eq!(session.recv_message(), Ok(None), "split at {offset}");
        }
        // ... the caller timed out here, and calls again later.
        let got = messages_of(&mut session, &[tail]);
        if offset < input.len() {
            assert_eq!(
                got,
                [Ok(Message::Pong(b"abcde".to_vec()))],
                "split at {offset}"
            );
        }
    });
}

#[test]
fn invalid_utf8_in_a_whole_text_message_is_an_error_the_frame_api_delivers_it() {
    let input = b"\x81\x02\xff\xfe\x81\x02ok";
    let mut session_m = new_session(Options::empty());
    let got = messages_of(&mut session_m, &[input]);
    assert_eq!(got.len(), 2);
    let error = got[0].clone().unwrap_err();
    assert_eq!(error.kind, WsErrorKind::InvalidUtf8);
    assert_eq!(error.code(), 56);
    assert_eq!(
        got[1],
        Ok(Message::Text("ok".into())),
        "the session goes on"
    );

    let mut session_f = new_session(Options::empty());
    let frames = frames_of(&mut session_f, &[input], 16).unwrap();
    assert_eq!(frames[0], (Flags::TEXT, b"\xff\xfe".to_vec()));
}

#[test]
fn a_character_split_across_fragments_is_valid_utf8() {
    let mut session = new_session(Options::empty());
    let got = messages_of(&mut session, &[b"\x01\x01\xc3\x80\x01\xa9"]);
    assert_eq!(got, [Ok(Message::Text("é".into()))]);
}

#[test]
fn close_payloads_are_checked_in_the_message_api_only() {
    let cases: [(&[u8], WsErrorKind); 2] = [
        (b"\x88\x01\x03", WsErrorKind::Protocol),
        (b"\x88\x03\x03\xe8\xff", WsErrorKind::InvalidUtf8),
    ];
    for (input, kind) in cases {
        let mut session_m = new_session(Options::empty());
        let got = messages_of(&mut session_m, &[input]);
        assert_eq!(
            got[0].clone().unwrap_err().kind,
            kind,
            "\n{}",
            hexdump(input)
        );
        let mut session_f = new_session(Options::empty());
        let frames = frames_of(&mut session_f, &[input], 16).unwrap();
        assert_eq!(frames[0], (Flags::CLOSE, input[2..].to_vec()));
    }
}

#[test]
fn data_after_the_servers_close_is_a_protocol_error_for_messages() {
    let mut session = new_session(Options::empty());
    let got = messages_of(&mut session, &[b"\x88\x00\x81\x01a"]);
    assert_eq!(got[0], Ok(Message::Close(None)));
    assert_eq!(got[1].clone().unwrap_err().kind, WsErrorKind::Protocol);
}

#[test]
fn a_message_over_the_limit_is_too_large_then_skipped() {
    // Whole, and in fragments where the second one crosses the limit.
    let cases: [&[u8]; 2] = [
        b"\x82\x05abcde\x81\x02ok",
        b"\x02\x03abc\x00\x02de\x80\x01f\x81\x02ok",
    ];
    for input in cases {
        for_each_split(input, |offset, head, tail| {
            let mut session = new_session(Options::empty());
            session.set_max_message(4);
            let got = messages_of(&mut session, &[head, tail]);
            assert_eq!(got.len(), 2, "split at {offset}: {got:?}");
            let error = got[0].clone().unwrap_err();
            assert_eq!((error.kind, error.code()), (WsErrorKind::TooLarge, 100));
            assert_eq!(got[1], Ok(Message::Text("ok".into())), "split at {offset}");
        });
    }
}

#[test]
fn protocol_violations_are_typed_and_sticky_after_the_frames_before_them() {
    let input = b"\x81\x01a\x81\x81";
    let mut session_f = new_session(Options::empty());
    let mut out = [0; 8];
    session_f.receive(input);
    assert_eq!(
        session_f.recv_frame(&mut out).unwrap().map(|f| f.len),
        Some(1)
    );
    let error = session_f.recv_frame(&mut out).unwrap_err();
    assert_eq!((error.kind, error.code()), (WsErrorKind::Protocol, 56));
    assert!(error.message.contains("masked frame"), "{error}");
    assert_eq!(session_f.recv_frame(&mut out), Err(error.clone()));

    let mut session_m = new_session(Options::empty());
    let got = messages_of(&mut session_m, &[input]);
    assert_eq!(got, [Ok(Message::Text("a".into())), Err(error)]);
}

#[test]
fn raw_mode_passes_bytes_through_both_ways() {
    let mut session = new_session(Options::RAW_MODE);
    let error = session.start_send(b"x", 0, Flags::TEXT).unwrap_err();
    assert_eq!(error.code(), 43);
    assert_eq!(
        session
            .start_send(b"x", 1, Flags::empty())
            .unwrap_err()
            .code(),
        43
    );
    session.start_send(b"\x81\x01a", 0, Flags::empty()).unwrap();
    assert_eq!(session.transmit(), b"\x81\x01a");
    session.sent(2);
    assert_eq!(session.finish_send(), SendOutcome::Sent(2));
    assert!(
        session.transmit().is_empty(),
        "unsent bytes are the caller's"
    );
    session.start_send(b"bc", 0, Flags::empty()).unwrap();
    assert_eq!(session.finish_send(), SendOutcome::Again);

    session.receive(b"\x89\x00");
    assert_eq!(session.recv_frame(&mut [0; 4]).unwrap_err().code(), 43);
    assert_eq!(session.recv_message().unwrap_err().code(), 43);
    let mut out = [0; 8];
    assert_eq!(session.take_buffered(&mut out), 2);
    assert_eq!(&out[..2], b"\x89\x00");
    assert!(session.transmit().is_empty(), "no PONG in raw mode");
}

#[test]
fn take_buffered_gives_the_undecoded_bytes_in_order() {
    let mut session = new_session(Options::empty());
    session.receive(b"\x81\x02hi\x82\x01z");
    let mut out = [0; 16];
    let frame = session.recv_frame(&mut out).unwrap().unwrap();
    assert_eq!(&out[..frame.len], b"hi");
    assert_eq!(session.buffered(), 3);
    let mut raw = [0; 2];
    assert_eq!(session.take_buffered(&mut raw), 2);
    assert_eq!(&raw, b"\x82\x01");
    assert_eq!(session.take_buffered(&mut raw), 1);
    assert_eq!(session.buffered(), 0);
}

#[test]
fn input_space_and_receive_feed_the_same_bytes() {
    let input = b"\x81\x05hello";
    let mut copied = new_session(Options::empty());
    let mut direct = new_session(Options::empty());
    for (offset, byte) in input.iter().enumerate() {
        copied.receive(&[*byte]);
        let space = direct.input_space(16);
        space[0] = *byte;
        direct.input_filled(1);
        let (a, b) = (copied.recv_message(), direct.recv_message());
        assert_eq!(a, b, "byte {offset}");
    }
    assert_eq!(direct.buffered(), 0);
}

#[test]
fn masks_come_from_the_seed_and_change_per_frame() {
    let send_two = |seed| {
        let mut session = Session::new(Options::empty(), seed);
        for text in ["one", "two"] {
            session.send_message(&Message::Text(text.into())).unwrap();
        }
        written(&mut session)
    };
    let wire = send_two(SEED);
    assert_eq!(wire, send_two(SEED), "deterministic for a seed");
    assert_ne!(wire, send_two([1; 32]));
    let first_mask = &wire[2..6];
    let second_mask = &wire[9 + 2..9 + 6];
    assert_ne!(first_mask, second_mask);
    assert_eq!(
        client_frames(&wire),
        [(0x81, b"one".to_vec()), (0x81, b"two".to_vec())]
    );
    assert!(
        !format!("{:?}", Session::new(Options::empty(), SEED)).contains("94"),
        "the seed (0x5e = 94) is not printed"
    );
}

#[test]
fn messages_are_refused_while_a_frame_api_frame_or_message_is_unfinished() {
    let mut session = new_session(Options::empty());
    session.start_send(b"abcd", 0, Flags::BINARY).unwrap();
    session.sent(6 + 1);
    assert_eq!(session.finish_send(), SendOutcome::Sent(1));
    let error = session
        .send_message(&Message::Ping(Vec::new()))
        .unwrap_err();
    assert_eq!(error.kind, WsErrorKind::BadArgument);

    let mut session = session_with_open_fragment();
    assert_eq!(
        session
            .send_message(&Message::Text("x".into()))
            .unwrap_err()
            .kind,
        WsErrorKind::BadArgument
    );
    // A control frame may go between fragments.
    session.send_message(&Message::Ping(b"!".to_vec())).unwrap();
    assert_eq!(
        session
            .send_message(&Message::Close(Some((1000, "x".repeat(124)))))
            .unwrap_err()
            .kind,
        WsErrorKind::TooLarge
    );
}

fn session_with_open_fragment() -> Session {
    let mut session = new_session(Options::empty());
    session
        .start_send(b"frag", 0, Flags::TEXT | Flags::CONT)
        .unwrap();
    written(&mut session);
    assert_eq!(session.finish_send(), SendOutcome::Sent(4));
    session
}

#[test]
fn big_messages_round_trip_through_the_queue() {
    let payload: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let mut session = new_session(Options::empty());
    session
        .send_message(&Message::Binary(payload.clone()))
        .unwrap();
    let wire = written(&mut session);
    assert_eq!(client_frames(&wire), [(0x82, payload.clone())]);

    // And the same size received in pieces of 1000.
    let mut server = b"\x82\x7f".to_vec();
    server.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    server.extend_from_slice(&payload);
    let parts: Vec<&[u8]> = server.chunks(1000).collect();
    let got = messages_of(&mut session, &parts);
    assert_eq!(got, [Ok(Message::Binary(payload))]);
}

#[test]
fn a_mask_source_gives_each_frame_its_mask_in_turn() {
    use std::sync::atomic::{AtomicU8, Ordering};
    static DRAWS: AtomicU8 = AtomicU8::new(0);
    fn counting() -> [u8; 4] {
        [DRAWS.fetch_add(1, Ordering::Relaxed) + 1; 4]
    }
    let mut session = new_session(Options::empty());
    session.set_mask_source(counting);
    session.start_send(b"ab", 0, Flags::TEXT).unwrap();
    let mut wire = written(&mut session);
    assert_eq!(session.finish_send(), SendOutcome::Sent(2));
    session.start_send(b"cd", 0, Flags::BINARY).unwrap();
    wire.extend(written(&mut session));
    assert_eq!(session.finish_send(), SendOutcome::Sent(2));
    let first = [0x81, 0x82, 1, 1, 1, 1, b'a' ^ 1, b'b' ^ 1];
    let second = [0x82, 0x82, 2, 2, 2, 2, b'c' ^ 2, b'd' ^ 2];
    assert_eq!(wire, [first, second].concat(), "\n{}", hexdump(&wire));
}
