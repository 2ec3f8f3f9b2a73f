//! Test support shared by the parsers' unit tests.
//!
//! STYLE.md asks for one helper that feeds an input split at every byte
//! offset; the parsers here are one-shot, so the split is handed to the
//! test as a `(head, tail)` pair: streaming machines feed both halves in
//! turn, one-shot parsers parse each half (every prefix and every suffix)
//! and check they answer without panicking.

use std::fmt::Write as _;

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
