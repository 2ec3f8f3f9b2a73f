//! Sans-IO building blocks for handover: **bytes and time in, decisions out.**
//!
//! handover re-implements libcurl's `CURLOPT_CONNECT_ONLY`: it does all the
//! work of reaching a server and then hands the live connection to the
//! application. Every decision on that path that does not need a socket lives
//! here, so it can be unit tested with byte vectors and simulated time:
//!
//! - [`url`]: curl-style URL parsing and the schemes handover knows;
//! - [`hosts`]: `CURLOPT_RESOLVE` and `CURLOPT_CONNECT_TO` entries;
//! - [`happy_eyeballs`]: which address to try next, and when (RFC 8305);
//! - [`x509`]: a summary of the server's certificate for verbose output;
//! - [`pin`]: `CURLOPT_PINNEDPUBLICKEY` matching.
//!
//! Nothing in this crate opens a socket, reads a file or reads the clock:
//! time arrives as [`std::time::Instant`] arguments and file contents as
//! byte slices. Every parser accepts arbitrary input and reports a problem as
//! an error value, never as a panic.

#![forbid(unsafe_code)]
#![deny(
    missing_docs,
    unused_must_use,
    trivial_numeric_casts,
    unreachable_pub,
    rustdoc::broken_intra_doc_links
)]
// Every byte here comes from a peer: no panicking shortcuts outside tests.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

/// Declares an error that is a message and nothing else: the text says what
/// was wrong and where; `Display` prints it as is.
macro_rules! message_error {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name(pub String);

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::error::Error for $name {}
    };
}

pub mod auth;
mod der;
pub mod happy_eyeballs;
pub mod hosts;
pub mod http1;
pub mod machine;
pub mod pin;
pub mod proxy;
pub mod socks;
pub mod tunnel;
pub mod url;
pub mod ws;
pub mod x509;

#[cfg(test)]
mod testing;
