//! Test support shared by the parsers' unit tests.
//!
//! STYLE.md asks for one helper that feeds an input split at every byte
//! offset; the parsers here are one-shot, so the split is handed to the
//! test as a `(head, tail)` pair: streaming machines feed both halves in
//! turn, one-shot parsers parse each half (every prefix and every suffix)
//! and check they answer without panicking.

use std::fmt::Write as _;

use crate::machine::{Machine, Status};

/// Calls `check(offset, head, tail)` for every split point of `input`,
/// from `0` (empty head) to `input.len()` (empty tail).
pub(crate) fn for_each_split(input: &[u8], mut check: impl FnMut(usize, &[u8], &[u8])) {
    for offset in 0..=input.len() {
        let (head, tail) = input.split_at(offset);
        check(offset, head, tail);
    }
}

/// Like [`for_each_split`] for text parsers: splits that fall inside a
/// UTF-8 sequence are skipped, because a `&str` parser cannot be given them.
pub(crate) fn for_each_str_split(input: &str, mut check: impl FnMut(usize, &str, &str)) {
    for_each_split(input.as_bytes(), |offset, head, tail| {
        if let (Ok(head), Ok(tail)) = (std::str::from_utf8(head), std::str::from_utf8(tail)) {
            check(offset, head, tail);
        }
    });
}

/// Hex and ASCII dump of `bytes`, 16 to a line, so a failing assertion
/// shows the input rather than only a bool.
pub(crate) fn hexdump(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "{:08x}  ", line * 16);
        for i in 0..16 {
            match chunk.get(i) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
        }
        out.push(' ');
        for &b in chunk {
            out.push(if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            });
        }
        out.push('\n');
    }
    out
}

/// A small deterministic generator (xorshift64*) for garbage inputs, so a
/// failing case reproduces from its seed.
pub(crate) struct Garbage(u64);

impl Garbage {
    /// A generator from a non-zero seed.
    pub(crate) fn new(seed: u64) -> Self {
        Garbage(seed | 1)
    }

    /// The next pseudo-random word.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// `len` pseudo-random bytes.
    pub(crate) fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// What a conversation with a scripted server left behind.
pub(crate) struct Outcome<E> {
    /// Everything the machine wrote.
    pub(crate) wire: Vec<u8>,
    /// Server bytes the machine did not consume.
    pub(crate) leftover: Vec<u8>,
    /// The first error `receive` returned.
    pub(crate) error: Option<E>,
}

/// Runs `machine` against a server that sends `chunks` in turn, each only
/// once the machine asks to read; writes go out `write_step` bytes at a
/// time. Stops when the machine is no longer pending or the chunks run out.
pub(crate) fn converse<M: Machine>(
    machine: &mut M,
    chunks: &[&[u8]],
    write_step: usize,
) -> Outcome<M::Error> {
    let mut wire = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut chunks = chunks.iter();
    let mut error = None;
    loop {
        loop {
            let out = machine.transmit();
            if out.is_empty() {
                break;
            }
            let n = out.len().min(write_step);
            wire.extend_from_slice(&out[..n]);
            machine.sent(n);
        }
        if machine.status() != Status::Pending {
            break;
        }
        match machine.receive(&pending) {
            Ok(n) => {
                assert!(n <= pending.len(), "consumed {n} of {}", pending.len());
                pending.drain(..n);
            }
            Err(e) => {
                error = Some(e);
                break;
            }
        }
        if !machine.transmit().is_empty() {
            continue;
        }
        if machine.status() != Status::Pending {
            break;
        }
        match chunks.next() {
            Some(chunk) => pending.extend_from_slice(chunk),
            None => break,
        }
    }
    for chunk in chunks {
        pending.extend_from_slice(chunk);
    }
    Outcome {
        wire,
        leftover: pending,
        error,
    }
}

/// A conversation in phases separated by STARTTLS: what the machine wrote
/// and left unconsumed in each phase, and the first error.
pub(crate) struct Phased<E> {
    pub(crate) wires: Vec<Vec<u8>>,
    pub(crate) leftovers: Vec<Vec<u8>>,
    pub(crate) error: Option<E>,
}

/// Runs `machine` through `phases` (the server's chunks before TLS, after
/// the first STARTTLS, …): at [`Status::StartTls`] the next phase starts
/// after [`Machine::tls_started`], as the engine does once the TLS
/// handshake is over.
pub(crate) fn converse_phases<M: Machine>(
    machine: &mut M,
    phases: &[Vec<&[u8]>],
    write_step: usize,
) -> Phased<M::Error> {
    let mut outcome = Phased {
        wires: Vec::new(),
        leftovers: Vec::new(),
        error: None,
    };
    for (i, chunks) in phases.iter().enumerate() {
        let out = converse(machine, chunks, write_step);
        outcome.wires.push(out.wire);
        outcome.leftovers.push(out.leftover);
        if out.error.is_some() {
            outcome.error = out.error;
            break;
        }
        if machine.status() != Status::StartTls || i + 1 == phases.len() {
            break;
        }
        machine.tls_started();
    }
    outcome
}

/// Calls `check(what, phases)` once with every phase whole, then for each
/// phase and each byte offset with that phase split in two there.
pub(crate) fn for_each_phase_split<'a>(
    phases: &[&'a [u8]],
    mut check: impl FnMut(String, Vec<Vec<&'a [u8]>>),
) {
    let whole: Vec<Vec<&[u8]>> = phases.iter().map(|p| vec![*p]).collect();
    check("whole".into(), whole.clone());
    for (i, phase) in phases.iter().enumerate() {
        for offset in 0..=phase.len() {
            let (head, tail) = phase.split_at(offset);
            let mut split = whole.clone();
            split[i] = vec![head, tail];
            check(format!("phase {i} split at {offset}"), split);
        }
    }
}

/// The mail machines' test user.
pub(crate) fn alice() -> Option<crate::auth::Credentials> {
    Some(crate::auth::Credentials {
        user: "alice".into(),
        password: "s3cret pass".into(),
    })
}

/// Standard base64, as SASL messages travel.
pub(crate) fn b64(text: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_split_point_is_visited_once_and_halves_rejoin() {
        let input = b"abc";
        let mut seen = Vec::new();
        for_each_split(input, |offset, head, tail| {
            assert_eq!([head, tail].concat(), input);
            seen.push(offset);
        });
        assert_eq!(seen, [0, 1, 2, 3]);
    }

    #[test]
    fn str_splits_skip_the_middle_of_a_character() {
        let mut seen = Vec::new();
        for_each_str_split("aé", |offset, _, _| seen.push(offset));
        assert_eq!(seen, [0, 1, 3]);
    }

    #[test]
    fn hexdump_shows_hex_and_ascii() {
        let dump = hexdump(b"GET /\r\n");
        assert_eq!(
            dump,
            "00000000  47 45 54 20 2f 0d 0a                             GET /..\n"
        );
    }
}
