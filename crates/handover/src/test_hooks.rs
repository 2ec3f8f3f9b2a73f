//! libcurl's debug-build hooks, for curl's own test suite (feature
//! `test-hooks`, never on by default; `scripts/curl-suite` builds with it).
//!
//! curl's `runtests.pl` sets these variables and its byte-exact
//! expectations assume a libcurl built with `--enable-debug`, which reads
//! them:
//!
//! - `CURL_ENTROPY`: every random number comes from a counter seeded with
//!   the variable's first four bytes read as a big-endian number, plus one
//!   per draw, process-wide; each draw gives four bytes, lowest first, and
//!   a request for fewer than four still takes a whole draw (so the
//!   `Sec-WebSocket-Key` of a first request is known in advance).
//! - `CURL_WS_FORCE_ZERO_MASK`: every WebSocket frame is sent with the
//!   mask `00 00 00 00` (the draw for it is still made).
//!
//! Both are read at each use, as libcurl reads them. A build without the
//! feature has none of this: predictable randomness must never reach a
//! real transfer.

use std::sync::Mutex;

/// The counter of `CURL_ENTROPY`: `None` until the first draw seeds it.
static COUNTER: Mutex<Option<u32>> = Mutex::new(None);

/// The next number of the `CURL_ENTROPY` counter, or `None` when the
/// variable is not set.
fn draw() -> Option<u32> {
    let text = std::env::var_os("CURL_ENTROPY")?;
    let mut counter = COUNTER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let next = match *counter {
        Some(previous) => previous.wrapping_add(1),
        None => {
            let mut seed = [0u8; 4];
            for (to, from) in seed.iter_mut().zip(text.as_encoded_bytes()) {
                *to = *from;
            }
            u32::from_be_bytes(seed)
        }
    };
    *counter = Some(next);
    Some(next)
}

/// Fills `buf` from the `CURL_ENTROPY` counter, one draw per four bytes
/// (or fewer, at the end); false, leaving `buf` alone, when the variable
/// is not set.
pub(crate) fn fill(buf: &mut [u8]) -> bool {
    if std::env::var_os("CURL_ENTROPY").is_none() {
        return false;
    }
    for chunk in buf.chunks_mut(4) {
        let bytes = draw().unwrap_or_default().to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    true
}

/// A WebSocket frame mask as libcurl's debug build makes it: one draw of
/// four random bytes, then zeroed under `CURL_WS_FORCE_ZERO_MASK`.
fn ws_mask() -> [u8; 4] {
    let mut mask = [0u8; 4];
    if !fill(&mut mask) {
        // Without CURL_ENTROPY only the zero mask brings us here; a failed
        // OS draw is then no matter, as the bytes are zeroed below.
        let _ = getrandom::fill(&mut mask);
    }
    if std::env::var_os("CURL_WS_FORCE_ZERO_MASK").is_some() {
        mask = [0; 4];
    }
    mask
}

/// The mask source for a new WebSocket session when either variable is
/// set: then each frame draws its mask as libcurl does, instead of from a
/// seed drawn up front (which would use up `CURL_ENTROPY` draws libcurl
/// never makes).
pub(crate) fn ws_mask_source() -> Option<fn() -> [u8; 4]> {
    let hooked = std::env::var_os("CURL_ENTROPY").is_some()
        || std::env::var_os("CURL_WS_FORCE_ZERO_MASK").is_some();
    hooked.then_some(ws_mask as fn() -> [u8; 4])
}

#[cfg(test)]
mod tests {
    /// One test owns the process-wide counter and the variables (tests run
    /// on parallel threads); only this module reads them.
    #[test]
    fn entropy_counts_up_from_the_first_four_bytes_and_masks_follow() {
        std::env::set_var("CURL_ENTROPY", "12345678");
        std::env::remove_var("CURL_WS_FORCE_ZERO_MASK");
        *super::COUNTER.lock().unwrap() = None;

        // runtests.pl's value: curl's test 2300 expects this key.
        let mut key = [0u8; 16];
        assert!(super::fill(&mut key));
        assert_eq!(&key, b"4321532163217321");
        // Three bytes still take a whole draw.
        let mut three = [0u8; 3];
        assert!(super::fill(&mut three));
        assert_eq!(&three, b"832");
        let source = super::ws_mask_source().expect("hooked");
        assert_eq!(&source(), b"9321");

        std::env::set_var("CURL_WS_FORCE_ZERO_MASK", "1");
        assert_eq!(source(), [0; 4]);
        // The zeroed mask still used its draw.
        assert!(super::fill(&mut three));
        assert_eq!(&three, b";32");

        std::env::remove_var("CURL_ENTROPY");
        assert!(!super::fill(&mut three));
        assert_eq!(super::ws_mask_source().map(|source| source()), Some([0; 4]));
        std::env::remove_var("CURL_WS_FORCE_ZERO_MASK");
        assert!(super::ws_mask_source().is_none());
    }
}
