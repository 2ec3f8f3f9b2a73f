//! curl's WebSocket frame tests 2700–2723 against [`Decoder`], the echo
//! their client sends through [`SendState`], and encode/decode round trips.

use super::*;
use crate::testing::{for_each_split, hexdump, Garbage};

/// Inputs longer than this are split only near frame headers and at a
/// stride, and read one byte at a time only unsplit, to keep debug-build
/// test time in seconds.
const SPLIT_ALL_UP_TO: usize = 4096;

/// How the reading side sizes its buffer.
#[derive(Clone, Copy, Debug)]
enum Reader {
    /// Every call with a buffer of this size.
    Out(usize),
    /// libcurl's `curl_ws_recv(NULL, 0)` before every read of this size.
    PeekThen(usize),
}

const READERS: [Reader; 5] = [
    Reader::Out(1),
    Reader::Out(7),
    Reader::Out(256),
    Reader::PeekThen(1),
    Reader::PeekThen(256),
];

/// One of curl's `tests/data/test27xx` cases.
struct Case {
    test: u32,
    name: &'static str,
    server: Vec<u8>,
    /// lib2700's stdout, one line per frame.
    stdout: Vec<String>,
    /// Exit 56: the stream ends in a protocol error.
    fails: bool,
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn under(n: usize) -> Vec<u8> {
    vec![b'_'; n]
}

fn lines(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|line| line.to_string()).collect()
}

/// lib2700's output line for a frame: `txt fin [3] txt`, `ping [0]`, with
/// bytes outside printable ASCII as `\xNN`.
fn render(frame_flags: Flags, payload: &[u8]) -> String {
    let kind = match frame_flags - Flags::CONT {
        Flags::TEXT => "txt",
        Flags::BINARY => "bin",
        Flags::CLOSE => "close",
        Flags::PING => "ping",
        Flags::PONG => "pong",
        _ => "???",
    };
    let mut line = kind.to_string();
    if frame_flags.intersects(Flags::TEXT | Flags::BINARY) {
        line.push_str(if frame_flags.contains(Flags::CONT) {
            " ---"
        } else {
            " fin"
        });
    }
    line.push_str(&format!(" [{}]", payload.len()));
    if !payload.is_empty() {
        line.push(' ');
        for &b in payload {
            if b.is_ascii_graphic() || b == b' ' {
                line.push(char::from(b));
            } else {
                line.push_str(&format!("\\x{b:02x}"));
            }
        }
    }
    line
}

fn cases() -> Vec<Case> {
    let u125 = under(125);
    let big = |frame_flags: &str, n: usize| format!("{frame_flags} [{n}] {}", "_".repeat(n));
    vec![
        Case {
            test: 2700,
            name: "Frame types",
            server: cat(&[
                b"\x81\x03txt\x82\x03bin\x89\x04ping\x8a\x04pong",
                b"\x88\x07\x03\xe8close",
            ]),
            stdout: lines(&[
                "txt fin [3] txt",
                "bin fin [3] bin",
                "ping [4] ping",
                "pong [4] pong",
                "close [7] \\x03\\xe8close",
            ]),
            fails: false,
        },
        Case {
            test: 2701,
            name: "Invalid opcode 0x3",
            server: b"\x83\x00".to_vec(),
            stdout: vec![],
            fails: true,
        },
        Case {
            test: 2702,
            name: "Invalid opcode 0xB",
            server: b"\x8b\x00".to_vec(),
            stdout: vec![],
            fails: true,
        },
        Case {
            test: 2703,
            name: "Invalid reserved bit RSV1",
            server: b"\xc1\x00".to_vec(),
            stdout: vec![],
            fails: true,
        },
        Case {
            test: 2704,
            name: "Invalid reserved bit RSV2",
            server: b"\xa1\x00".to_vec(),
            stdout: vec![],
            fails: true,
        },
        Case {
            test: 2705,
            name: "Invalid reserved bit RSV3",
            server: b"\x91\x00".to_vec(),
            stdout: vec![],
            fails: true,
        },
        Case {
            test: 2706,
            name: "Invalid masked server message",
            server: b"\x81\x80\x12\x34\x56\x78".to_vec(),
            stdout: vec![],
            fails: true,
        },
        Case {
            test: 2707,
            name: "Peculiar frame sizes",
            server: cat(&[
                b"\x81\x00",
                b"\x81\x7d",
                &u125,
                b"\x81\x7e\x00\x7e",
                &under(126),
                b"\x81\x7e\x00\x7f",
                &under(127),
                b"\x81\x7e\xff\xff",
                &under(65535),
                b"\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00",
                &under(65536),
                b"\x88\x00",
            ]),
            stdout: vec![
                "txt fin [0]".to_string(),
                big("txt fin", 125),
                big("txt fin", 126),
                big("txt fin", 127),
                big("txt fin", 65535),
                big("txt fin", 65536),
                "close [0]".to_string(),
            ],
            fails: false,
        },
        // 2708 (automatic PONG) is an engine behaviour: see
        // `test_2708_automatic_pong_answers_ping_and_hides_it`.
        Case {
            test: 2709,
            name: "No automatic PONG",
            server: b"\x89\x04test\x88\x00".to_vec(),
            stdout: lines(&["ping [4] test", "close [0]"]),
            fails: false,
        },
        Case {
            test: 2710,
            name: "Unsolicited PONG",
            server: b"\x8a\x00\x8a\x04pong\x88\x00".to_vec(),
            stdout: lines(&["pong [0]", "pong [4] pong", "close [0]"]),
            fails: false,
        },
        Case {
            test: 2711,
            name: "Empty PING/PONG/CLOSE",
            server: b"\x89\x00\x8a\x00\x88\x00".to_vec(),
            stdout: lines(&["ping [0]", "pong [0]", "close [0]"]),
            fails: false,
        },
        Case {
            test: 2712,
            name: "Max sized PING/PONG/CLOSE",
            server: cat(&[
                b"\x89\x7d",
                &u125,
                b"\x8a\x7d",
                &u125,
                b"\x88\x7d\x03\xe8",
                &under(123),
            ]),
            stdout: vec![
                big("ping", 125),
                big("pong", 125),
                format!("close [125] \\x03\\xe8{}", "_".repeat(123)),
            ],
            fails: false,
        },
        Case {
            test: 2713,
            name: "Invalid oversized PING",
            server: cat(&[b"\x89\x7e\x00\x7e", &under(126)]),
            stdout: vec![],
            fails: true,
        },
        Case {
            test: 2714,
            name: "Invalid oversized PONG",
            server: cat(&[b"\x8a\x7e\x00\x7e", &under(126)]),
            stdout: vec![],
            fails: true,
        },
        Case {
            test: 2715,
            name: "Invalid oversized CLOSE",
            server: cat(&[b"\x88\x7e\x00\x7e\x03\xe8", &under(124)]),
            stdout: vec![],
            fails: true,
        },
        Case {
            test: 2716,
            name: "Invalid fragmented PING",
            server: b"\x09\x02p1\x80\x02p2".to_vec(),
            stdout: vec![],
            fails: true,
        },
        Case {
            test: 2717,
            name: "Invalid fragmented PONG",
            server: b"\x0a\x02p1\x80\x02p2".to_vec(),
            stdout: vec![],
            fails: true,
        },
        Case {
            test: 2718,
            name: "Invalid fragmented CLOSE",
            server: b"\x08\x02p1\x80\x02p2".to_vec(),
            stdout: vec![],
            fails: true,
        },
        Case {
            test: 2719,
            name: "Fragmented messages",
            server: cat(&[
                b"\x01\x02t1\x80\x02t2",
                b"\x01\x02t1\x00\x02t2\x80\x02t3",
                b"\x02\x02b1\x80\x02b2",
                b"\x02\x02b1\x00\x02b2\x80\x02b3",
                b"\x88\x00",
            ]),
            stdout: lines(&[
                "txt --- [2] t1",
                "txt fin [2] t2",
                "txt --- [2] t1",
                "txt --- [2] t2",
                "txt fin [2] t3",
                "bin --- [2] b1",
                "bin fin [2] b2",
                "bin --- [2] b1",
                "bin --- [2] b2",
                "bin fin [2] b3",
                "close [0]",
            ]),
            fails: false,
        },
        Case {
            test: 2720,
            name: "Fragmented messages with empty fragments",
            server: cat(&[
                b"\x01\x00\x00\x02a1\x80\x02a2",
                b"\x01\x02b1\x00\x00\x80\x02b2",
                b"\x01\x02c1\x00\x02c2\x80\x00",
                b"\x01\x00\x00\x00\x80\x00",
                b"\x88\x00",
            ]),
            stdout: lines(&[
                "txt --- [0]",
                "txt --- [2] a1",
                "txt fin [2] a2",
                "txt --- [2] b1",
                "txt --- [0]",
                "txt fin [2] b2",
                "txt --- [2] c1",
                "txt --- [2] c2",
                "txt fin [0]",
                "txt --- [0]",
                "txt --- [0]",
                "txt fin [0]",
                "close [0]",
            ]),
            fails: false,
        },
        Case {
            test: 2721,
            name: "Fragmented messages with interleaved pong",
            server: cat(&[
                b"\x01\x02t1\x8a\x02p1\x80\x02t2",
                b"\x02\x02b1\x8a\x02p2\x80\x02b2",
                b"\x88\x00",
            ]),
            stdout: lines(&[
                "txt --- [2] t1",
                "pong [2] p1",
                "txt fin [2] t2",
                "bin --- [2] b1",
                "pong [2] p2",
                "bin fin [2] b2",
                "close [0]",
            ]),
            fails: false,
        },
        Case {
            test: 2722,
            name: "Invalid fragmented message without initial frame",
            server: b"\x82\x01b\x00\x02m2\x80\x02m3".to_vec(),
            stdout: lines(&["bin fin [1] b"]),
            fails: true,
        },
        Case {
            test: 2723,
            name: "Invalid fragmented message without final frame",
            server: b"\x01\x02t1\x00\x02t2\x82\x01b".to_vec(),
            stdout: lines(&["txt --- [2] t1", "txt --- [2] t2"]),
            fails: true,
        },
    ]
}

/// What the reading side saw.
#[derive(Debug)]
struct Read {
    stdout: Vec<String>,
    error: Option<WsError>,
    /// The stream ended inside a frame or header.
    truncated: bool,
}

/// The input for a failure message: a hex dump, cut short for big inputs.
fn show(input: &[u8]) -> String {
    if input.len() <= 512 {
        hexdump(input)
    } else {
        format!(
            "{}… ({} bytes in all)\n",
            hexdump(&input[..512]),
            input.len()
        )
    }
}

/// A frame being put together from chunks: its flags, payload so far and
/// total length.
type Partial = (Flags, Vec<u8>, u64);

/// Adds one event to the frame being put together, checking that its meta
/// agrees with the chunks before it.
fn absorb(frame: Frame, data: &[u8], partial: &mut Option<Partial>, stdout: &mut Vec<String>) {
    let total = frame.offset + frame.len as u64 + frame.bytesleft;
    let (frame_flags, collected, expected_total) =
        partial.get_or_insert_with(|| (frame.flags, Vec::new(), total));
    assert_eq!(frame.flags, *frame_flags, "flags changed inside a frame");
    assert_eq!(frame.offset, collected.len() as u64, "offset of {frame:?}");
    assert_eq!(total, *expected_total, "length of {frame:?}");
    assert_eq!(frame.len, data.len());
    collected.extend_from_slice(data);
    if frame.bytesleft == 0 {
        stdout.push(render(*frame_flags, collected));
        *partial = None;
    }
}

/// Feeds `parts` in turn to a decoder, reading as `reader` says, the way
/// lib2700 loops on `curl_ws_recv`.
fn read_frames(parts: &[&[u8]], reader: Reader) -> Read {
    let mut decoder = Decoder::new();
    let mut stdout = Vec::new();
    let mut partial = None;
    let (peek, size) = match reader {
        Reader::Out(n) => (false, n),
        Reader::PeekThen(n) => (true, n),
    };
    let mut buf = vec![0; size];
    let total: usize = parts.iter().map(|part| part.len()).sum();
    let mut calls = 0;
    for part in parts {
        let mut rest = *part;
        loop {
            calls += 1;
            assert!(calls <= 4 * total + 100, "no progress");
            if peek {
                match decoder.decode(rest, &mut []) {
                    Err(error) => return failed(stdout, error),
                    Ok((used, event)) => {
                        rest = &rest[used..];
                        let Some(frame) = event else { break };
                        assert_eq!(frame.len, 0, "a peek delivers no payload");
                        absorb(frame, &[], &mut partial, &mut stdout);
                        if frame.bytesleft == 0 {
                            continue;
                        }
                    }
                }
            }
            match decoder.decode(rest, &mut buf) {
                Err(error) => return failed(stdout, error),
                Ok((used, event)) => {
                    assert!(used <= rest.len());
                    rest = &rest[used..];
                    let Some(frame) = event else {
                        assert!(rest.is_empty(), "no event but input left");
                        break;
                    };
                    assert!(frame.len <= size);
                    absorb(frame, &buf[..frame.len], &mut partial, &mut stdout);
                }
            }
        }
    }
    Read {
        stdout,
        error: None,
        truncated: partial.is_some() || !decoder.at_frame_boundary(),
    }
}

fn failed(stdout: Vec<String>, error: WsError) -> Read {
    Read {
        stdout,
        error: Some(error),
        truncated: false,
    }
}

/// Where frames start in a stream of well-formed frames (masked or not),
/// and each frame as the client echoes it: MASK bit set, zero mask.
fn walk_frames(input: &[u8]) -> (Vec<usize>, Vec<u8>) {
    let mut starts = Vec::new();
    let mut echo = Vec::new();
    let mut pos = 0;
    while pos + 2 <= input.len() {
        let second = input[pos + 1];
        let ext = match second & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let mask = if second & 0x80 != 0 { 4 } else { 0 };
        let Some(ext_bytes) = input.get(pos + 2..pos + 2 + ext) else {
            break;
        };
        let len = match ext {
            0 => u64::from(second & 0x7f),
            _ => ext_bytes
                .iter()
                .fold(0u64, |n, &b| n.wrapping_shl(8) | u64::from(b)),
        };
        let payload_at = pos + 2 + ext + mask;
        let end = payload_at.saturating_add(usize::try_from(len).unwrap_or(usize::MAX));
        starts.push(pos);
        let Some(payload) = input.get(payload_at..end) else {
            break;
        };
        echo.extend_from_slice(&[input[pos], second | 0x80]);
        echo.extend_from_slice(ext_bytes);
        echo.extend_from_slice(&[0; 4]);
        echo.extend_from_slice(payload);
        pos = end;
    }
    (starts, echo)
}

/// Every split of a small input; near frame starts and at a stride for a
/// big one.
fn split_wanted(input: &[u8], starts: &[usize], offset: usize) -> bool {
    input.len() <= SPLIT_ALL_UP_TO
        || offset % 4099 == 0
        || offset == input.len()
        || starts.iter().any(|&s| offset.abs_diff(s) <= 16)
}

#[test]
fn curl_tests_2700_to_2723_decode_at_every_split_and_buffer_size() {
    for case in cases() {
        let (starts, _) = walk_frames(&case.server);
        for_each_split(&case.server, |offset, head, tail| {
            if !split_wanted(&case.server, &starts, offset) {
                return;
            }
            let whole = offset == 0 || offset == case.server.len();
            for reader in READERS {
                let bytewise = matches!(reader, Reader::Out(1) | Reader::PeekThen(1));
                if bytewise && !whole && case.server.len() > SPLIT_ALL_UP_TO {
                    continue;
                }
                let read = read_frames(&[head, tail], reader);
                let context = format!(
                    "test {} {:?}, split at {offset}, {reader:?}\n{}",
                    case.test,
                    case.name,
                    show(&case.server)
                );
                assert_eq!(read.stdout, case.stdout, "{context}");
                match &read.error {
                    Some(error) => {
                        assert!(case.fails, "unexpected {error}: {context}");
                        assert_eq!(error.kind, WsErrorKind::Protocol);
                        assert_eq!(error.code(), 56);
                    }
                    None => {
                        assert!(!case.fails, "no error: {context}");
                        assert!(!read.truncated, "ended inside a frame: {context}");
                    }
                }
            }
        });
    }
}

/// lib2700's client: read each frame's meta with an empty buffer, echo the
/// header with `fragsize` = frame size and `CURLWS_OFFSET`, then the payload
/// in chunks of at most 256 bytes. The socket takes `write_limit` bytes per
/// write.
fn echo_client(server: &[u8], write_limit: usize) -> Vec<u8> {
    let mut decoder = Decoder::new();
    let mut state = SendState::new();
    let mut wire = Vec::new();
    let mut send = |state: &mut SendState, mut buf: &[u8], fragsize: u64, frame_flags: Flags| loop {
        state.start(buf, fragsize, frame_flags, [0; 4]).unwrap();
        let n = state.transmit().len().min(write_limit);
        wire.extend_from_slice(&state.transmit()[..n]);
        state.sent(n);
        match state.finish() {
            SendOutcome::Sent(n) if n == buf.len() => return,
            SendOutcome::Sent(n) => buf = &buf[n..],
            SendOutcome::Again => {}
        }
    };
    let mut rest = server;
    let mut chunk = [0; 256];
    while let Ok((used, Some(meta))) = decoder.decode(rest, &mut []) {
        rest = &rest[used..];
        let echo_flags = meta.flags | Flags::OFFSET;
        send(&mut state, &[], meta.bytesleft, echo_flags);
        let mut left = meta.bytesleft;
        while left > 0 {
            let (used, frame) = decoder.decode(rest, &mut chunk).unwrap();
            rest = &rest[used..];
            let Some(frame) = frame else { break };
            send(&mut state, &chunk[..frame.len], 0, echo_flags);
            left = frame.bytesleft;
        }
    }
    assert!(state.is_idle());
    wire
}

#[test]
fn curl_tests_2700_to_2723_echo_is_the_server_frames_with_a_zero_mask() {
    for case in cases().into_iter().filter(|case| !case.fails) {
        let (_, expected) = walk_frames(&case.server);
        for write_limit in [3, usize::MAX] {
            let wire = echo_client(&case.server, write_limit);
            assert!(
                wire == expected,
                "test {} echo with writes of {write_limit}\ngot:\n{}expected:\n{}",
                case.test,
                show(&wire),
                show(&expected)
            );
        }
    }
}

#[test]
fn test_2708_automatic_pong_answers_ping_and_hides_it() {
    let server = b"\x89\x04test\x88\x00";
    for_each_split(server, |offset, head, tail| {
        let mut decoder = Decoder::new();
        let mut state = SendState::new();
        let mut stdout = Vec::new();
        let mut wire = Vec::new();
        let mut scratch = [0; MAX_CONTROL_PAYLOAD];
        let mut app = [0; 256];
        for part in [head, tail] {
            let mut rest = part;
            // The documented engine flow: peek, then drain a PING into the
            // scratch buffer and answer it once complete.
            while let Ok((used, Some(meta))) = decoder.decode(rest, &mut []) {
                rest = &rest[used..];
                let is_ping = meta.flags == Flags::PING;
                let mut frame = Some(meta);
                if meta.bytesleft > 0 {
                    let out = if is_ping {
                        &mut scratch[..]
                    } else {
                        &mut app[..]
                    };
                    let (used, event) = decoder.decode(rest, out).unwrap();
                    rest = &rest[used..];
                    frame = event;
                }
                if let Some(payload) = decoder.ping_payload() {
                    state.start(payload, 0, Flags::PONG, [0; 4]).unwrap();
                    wire.extend_from_slice(state.transmit());
                    state.sent(usize::MAX);
                    assert_eq!(state.finish(), SendOutcome::Sent(payload.len()));
                }
                match frame {
                    Some(frame) if !is_ping && frame.bytesleft == 0 => {
                        stdout.push(render(frame.flags, &app[..frame.len]));
                    }
                    Some(_) => {}
                    None => break,
                }
            }
        }
        assert_eq!(stdout, ["close [0]"], "split at {offset}");
        assert_eq!(
            wire,
            b"\x8a\x84\x00\x00\x00\x00test",
            "split at {offset}\n{}",
            hexdump(&wire)
        );
    });
}

/// A client frame made into a server frame: MASK bit off, key removed.
fn unmasked(mut frame: Vec<u8>, header_len: usize) -> Vec<u8> {
    frame[1] &= 0x7f;
    frame.drain(header_len - 4..header_len);
    frame
}

#[test]
fn encoded_frames_decode_back_for_every_length_class() {
    for len in [0usize, 1, 125, 126, 127, 65535, 65536, 70000] {
        let payload: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        for frame_flags in [
            Flags::TEXT,
            Flags::BINARY,
            Flags::PING,
            Flags::PONG,
            Flags::CLOSE,
        ] {
            let Ok(header) = Encoder::new().header(frame_flags, len as u64, [0; 4]) else {
                assert!(
                    frame_flags.is_control() && len > 125,
                    "{frame_flags:?} {len}"
                );
                continue;
            };
            let expected_header = match len {
                0..=125 => 2 + 4,
                126..=65535 => 4 + 4,
                _ => 10 + 4,
            };
            assert_eq!(header.len(), expected_header, "length {len}");
            let server = unmasked([&header[..], &payload].concat(), header.len());
            let (starts, _) = walk_frames(&server);
            for_each_split(&server, |offset, head, tail| {
                if !split_wanted(&server, &starts, offset) {
                    return;
                }
                let read = read_frames(&[head, tail], Reader::Out(4096));
                assert!(read.error.is_none() && !read.truncated, "{read:?}");
                assert_eq!(
                    read.stdout,
                    [render(frame_flags, &payload)],
                    "length {len}, split at {offset}"
                );
            });
        }
    }
}

#[test]
fn fragmented_message_round_trips_with_continuation_opcodes() {
    let mut encoder = Encoder::new();
    let mut server = Vec::new();
    let parts: [(Flags, &[u8]); 4] = [
        (Flags::TEXT | Flags::CONT, b"one "),
        (Flags::TEXT | Flags::CONT, b"two "),
        (Flags::PING, b"!"),
        (Flags::TEXT, b"three"),
    ];
    for (frame_flags, payload) in parts {
        let header = encoder
            .header(frame_flags, payload.len() as u64, [0; 4])
            .unwrap();
        server.extend(unmasked([&header[..], payload].concat(), header.len()));
    }
    assert_eq!(&server[..2], b"\x01\x04");
    let read = read_frames(&[&server], Reader::Out(256));
    assert_eq!(
        read.stdout,
        [
            "txt --- [4] one ",
            "txt --- [4] two ",
            "ping [1] !",
            "txt fin [5] three"
        ],
        "\n{}",
        hexdump(&server)
    );
}

#[test]
fn length_over_four_gigabytes_is_reported_without_the_payload() {
    let len = (1u64 << 32) + 1;
    let header = Encoder::new().header(Flags::BINARY, len, [0; 4]).unwrap();
    let server = unmasked(header, 14);
    assert_eq!(server, b"\x82\x7f\x00\x00\x00\x01\x00\x00\x00\x01");
    for_each_split(&server, |offset, head, tail| {
        let mut decoder = Decoder::new();
        let mut seen = Vec::new();
        for part in [head, tail] {
            let (used, frame) = decoder.decode(part, &mut []).unwrap();
            assert_eq!(used, part.len());
            seen.extend(frame);
        }
        let meta = Frame {
            flags: Flags::BINARY,
            offset: 0,
            bytesleft: len,
            len: 0,
        };
        // An empty tail peeks at the same meta again.
        seen.dedup();
        assert_eq!(seen, [meta], "split at {offset}");
        let mut out = [0; 2];
        let got = decoder.decode(b"abc", &mut out).unwrap();
        assert_eq!(
            got,
            (
                2,
                Some(Frame {
                    bytesleft: len - 2,
                    len: 2,
                    ..meta
                })
            )
        );
        let got = decoder.decode(b"c", &mut out).unwrap();
        assert_eq!(
            got,
            (
                1,
                Some(Frame {
                    offset: 2,
                    bytesleft: len - 3,
                    len: 1,
                    ..meta
                })
            )
        );
    });
}

#[test]
fn garbage_streams_never_panic_and_keep_meta_consistent() {
    let mut garbage = Garbage::new(0x7773);
    for round in 0..3000 {
        let input = if round % 2 == 0 {
            let len = (garbage.next_u64() % 200) as usize;
            garbage.bytes(len)
        } else {
            plausible_frames(&mut garbage)
        };
        let mut decoder = Decoder::new();
        let mut rest = &input[..];
        let mut out = [0; 64];
        let mut open: Option<(Flags, u64)> = None;
        for _ in 0..10 * input.len() + 100 {
            let size = (garbage.next_u64() % 65) as usize;
            let result = decoder.decode(rest, &mut out[..size]);
            let Ok((used, event)) = result else { break };
            assert!(used <= rest.len(), "round {round}\n{}", hexdump(&input));
            rest = &rest[used..];
            let Some(frame) = event else {
                assert!(rest.is_empty());
                if size > 0 {
                    break;
                }
                continue;
            };
            assert!(frame.len <= size);
            let total = frame.offset + frame.len as u64 + frame.bytesleft;
            if let Some((flags, expected_total)) = open {
                assert_eq!((frame.flags, total), (flags, expected_total));
            }
            open = (frame.bytesleft > 0).then_some((frame.flags, total));
        }
    }
}

/// Frames with mostly valid header bits and truthful or lying lengths.
fn plausible_frames(garbage: &mut Garbage) -> Vec<u8> {
    let mut input = Vec::new();
    for _ in 0..garbage.next_u64() % 6 {
        let word = garbage.next_u64();
        let first =
            [0x81, 0x82, 0x01, 0x00, 0x80, 0x89, 0x8a, 0x88, word as u8][(word % 9) as usize];
        let len = (word >> 8) % 300;
        input.push(first);
        match (word >> 20) % 4 {
            0 if len >= 126 => {
                input.push(126);
                input.extend_from_slice(&(len as u16).to_be_bytes());
            }
            1 => {
                input.push(127);
                input.extend_from_slice(&(word >> 24).to_be_bytes());
            }
            _ => input.push((len % 126) as u8),
        }
        let payload = garbage.bytes((len % 130) as usize);
        input.extend_from_slice(&payload);
    }
    input
}
