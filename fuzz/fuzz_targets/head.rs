//! Response heads (`http1::parse_response_head`).
//!
//! Input: `[limits][plan][head bytes]`. Checks: every prefix of the input
//! answers consistently with the whole (a prefix of a complete head is
//! partial, a prefix of a bad one is partial or the same error); a complete
//! head needs no byte past `len`; the parsed head obeys the field grammar
//! and the limits; render → parse gives the same head; the helpers on the
//! head (content length, chunked, keep-alive) never panic.
//!
//! The resumable `HeadReader` fed the message in the plan's pieces reads
//! the same heads one after another (a `100 Continue` and the final head)
//! as when fed it whole, and the same first head as the one-shot parse (its
//! limits count over every head it reads, the one-shot parse's over one);
//! it uses exactly their bytes and does linear work: `scanned()` is at most
//! twice the bytes offered, however small the pieces.
#![no_main]

use handover_proto::http1::{
    keep_alive_after, parse_response_head, HeadError, HeadReader, Limits, Parsed, ResponseHead,
};
use handover_proto_fuzz::oracle::Plan;
use handover_proto_fuzz::oracle::{is_tchar, same, Input};
use libfuzzer_sys::fuzz_target;

fn render(head: &ResponseHead) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.{} {} {}\r\n",
        head.minor_version, head.status, head.reason
    );
    for (name, value) in &head.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// Heads read one after another from `msg` (at most 4), then how the
/// reading ended: `Ok(bytes used)` while partial, or the error.
type Heads = (Vec<(ResponseHead, usize)>, Result<usize, HeadError>);

fn one_shot(msg: &[u8], limits: Limits) -> Heads {
    let (mut heads, mut at) = (Vec::new(), 0);
    while heads.len() < 4 {
        match parse_response_head(&msg[at..], limits) {
            Ok(Parsed::Complete { head, len }) => {
                at += len;
                heads.push((head, at));
            }
            Ok(Parsed::Partial) => return (heads, Ok(msg.len())),
            Err(e) => return (heads, Err(e)),
        }
    }
    (heads, Ok(at))
}

/// How reading went up to the end of the first head.
fn first_head((mut heads, end): Heads) -> Heads {
    if heads.is_empty() {
        return (heads, end);
    }
    heads.truncate(1);
    let at = heads[0].1;
    (heads, Ok(at))
}

fn resumed(msg: &[u8], limits: Limits, plan: &Plan) -> Heads {
    let mut reader = HeadReader::new(limits);
    let (mut heads, mut at, mut offered) = (Vec::new(), 0usize, 0u64);
    let mut end = Ok(msg.len());
    let mut chunks = plan.chunks(msg);
    if chunks.is_empty() {
        chunks.push(&[]); // one call with nothing, as the one-shot parse makes
    }
    'chunks: for chunk in chunks {
        let mut rest = chunk;
        loop {
            offered += rest.len() as u64;
            match reader.feed(rest) {
                Ok((used, head)) => {
                    assert!(used <= rest.len());
                    at += used;
                    rest = &rest[used..];
                    match head {
                        Some(head) => {
                            heads.push((head, at));
                            if heads.len() == 4 {
                                end = Ok(at);
                                break 'chunks;
                            }
                        }
                        None => {
                            assert!(rest.is_empty(), "a partial head left offered bytes unused");
                            break;
                        }
                    }
                }
                Err(e) => {
                    assert_eq!(reader.feed(b"x").err().as_ref(), Some(&e), "errors stick");
                    end = Err(e);
                    break 'chunks;
                }
            }
        }
    }
    assert!(
        reader.scanned() <= 2 * offered,
        "HeadReader looked at {} bytes for {offered} offered: not linear",
        reader.scanned()
    );
    (heads, end)
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let config = input.byte();
    let limits = if config & 1 == 0 {
        Limits::DEFAULT
    } else {
        Limits {
            max_line_bytes: (usize::from(config >> 1 & 7) + 1) * 16,
            max_head_bytes: usize::from(input.byte()) * 4,
            max_headers: usize::from(config >> 4),
        }
    };
    let plan = input.plan();
    let msg = input.rest();

    // One reader counts its limits over every head it reads (libcurl's
    // limits are per request, interim heads included), a one-shot parse
    // over one head: they agree up to the end of the first head, and a
    // reader agrees with itself however the bytes came.
    let split = resumed(msg, limits, &plan);
    same(
        "first head read resumed and one-shot",
        &first_head(one_shot(msg, limits)),
        &first_head(split.clone()),
        &plan,
    );
    same(
        "heads read resumed whole and split",
        &resumed(msg, limits, &Plan::whole()),
        &split,
        &plan,
    );

    let whole = parse_response_head(msg, limits);
    for cut in plan.cuts(msg.len()) {
        let prefix = parse_response_head(&msg[..cut], limits);
        match (&whole, &prefix) {
            (_, Ok(Parsed::Partial)) => {}
            (Ok(Parsed::Complete { len, .. }), _) if cut >= *len => {
                same("head and a longer prefix", &whole, &prefix, &plan)
            }
            (Err(_), Err(_)) => same("error of a prefix", &whole, &prefix, &plan),
            _ => panic!("prefix of {cut} bytes gives {prefix:?}, the whole input {whole:?}"),
        }
    }
    let Ok(Parsed::Complete { head, len }) = whole else {
        return;
    };
    assert!(len <= msg.len() && len <= limits.max_head_bytes);
    assert!(msg[..len].ends_with(b"\n\n") || msg[..len].ends_with(b"\n\r\n"));
    same(
        "head cut at its end",
        &Ok(Parsed::Complete {
            head: head.clone(),
            len,
        }),
        &parse_response_head(&msg[..len], limits),
        &plan,
    );
    assert!(head.headers.len() <= limits.max_headers);
    assert!((100..=999).contains(&head.status));
    for (name, value) in &head.headers {
        assert!(!name.is_empty() && name.bytes().all(is_tchar), "{name:?}");
        assert!(
            !value.chars().any(|c| c.is_ascii_control() && c != '\t'),
            "{value:?}"
        );
        assert_eq!(value.trim_matches([' ', '\t']), value);
    }
    let rendered = render(&head);
    let relaxed = Limits {
        max_line_bytes: usize::MAX,
        max_head_bytes: usize::MAX,
        max_headers: usize::MAX,
    };
    match parse_response_head(&rendered, relaxed) {
        Ok(Parsed::Complete { head: again, len }) => {
            assert_eq!(len, rendered.len());
            assert_eq!(again, head, "render -> parse changed the head");
        }
        other => panic!("rendered head does not parse: {other:?}"),
    }
    let _ = head.content_length();
    let _ = head.is_chunked();
    for method in ["GET", "HEAD", "CONNECT", "POST"] {
        let _ = keep_alive_after(&head, method);
    }
});
