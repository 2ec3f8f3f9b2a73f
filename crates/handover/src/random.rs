//! Random bytes from the operating system, the one place handover asks
//! for them (Digest cnonces, NTLM client challenges, WebSocket keys and
//! masks). Without an OS source the transfer fails: a clock-derived
//! "random" value would be predictable, which these protocols forbid.
//! (Only the `test-hooks` feature makes them predictable, as libcurl's
//! debug build does: `test_hooks.rs`.)

use crate::error::{Error, ErrorKind};

/// Fills `buf` from the OS random source; `FailedInit` (2) when there is
/// none, as libcurl's `Curl_rand` fails.
pub(crate) fn fill(buf: &mut [u8], purpose: &str) -> Result<(), Error> {
    #[cfg(feature = "test-hooks")]
    if crate::test_hooks::fill(buf) {
        return Ok(());
    }
    getrandom::fill(buf).map_err(|e| {
        Error::new(
            ErrorKind::FailedInit,
            format!("no random bytes for {purpose}: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn two_draws_differ() {
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        super::fill(&mut a, "a test").unwrap();
        super::fill(&mut b, "a test").unwrap();
        assert_ne!(a, b);
    }
}
