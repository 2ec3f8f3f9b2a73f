//! Sans-IO building blocks for handover: **bytes and time in, decisions out.**
//!
//! handover re-implements libcurl's `CURLOPT_CONNECT_ONLY`: it does all the
//! work of reaching a server and then hands the live connection to the
//! application. Every decision on that path that does not need a socket lives
//! here, so it can be unit tested with byte vectors and simulated time, and
//! fuzzed (the `fuzz/` folder of the repository).
//!
//! ```text
//!   machine ── the one surface of every handshake (transmit / sent /
//!              receive / peer_closed / io_failed / status / next_deadline)
//!     ├── socks       SOCKS4, SOCKS4a, SOCKS5 (+ user/password), SOCKS5h
//!     ├── tunnel      HTTP CONNECT and its 407 loop (auth: basic, digest, ntlm)
//!     ├── proxy_protocol  the PROXY protocol v1 header (HAProxy)
//!     ├── smtp        greeting, EHLO, STARTTLS, AUTH (a Status::StartTls mid-way;
//!     │               the three mail machines log in with sasl)
//!     ├── imap        greeting, CAPABILITY, STARTTLS, AUTHENTICATE / LOGIN
//!     ├── pop3        greeting, CAPA, STLS, AUTH / APOP / USER+PASS
//!     └── http1       Exchange: request out, head in, body framing, keep-alive
//!                     (head: resumable reader; body: decoding; request: writing)
//!   ws                upgrade handshake, frame codec, Session (PONGs, close,
//!                     reassembly), typed flags
//!   auth              Basic, Digest, NTLM, the 401/407 rounds; sigv4: AWS
//!                     Signature Version 4 headers for a request
//!   proxy             proxy strings, the proxy for a URL, no-proxy rules
//!   url, hosts        curl-style URLs; CURLOPT_RESOLVE / CONNECT_TO entries
//!   happy_eyeballs    which address to try next, and when (RFC 8305)
//!   doh               DNS over HTTPS: the queries, and the answers read
//!   x509, pin         certificate summary for verbose output; key pinning
//!   ocsp              a stapled OCSP response: the certificate's status
//!   pingpong          what the line protocols' connect phases share
//!   sasl              SASL mechanisms for SMTP, IMAP, POP3
//! ```
//!
//! - [`machine`]: the [`Machine`](machine::Machine) trait and its status;
//! - [`socks`], [`tunnel`], [`http1`]: the handshake machines and HTTP/1.1
//!   parsing and writing;
//! - [`auth`]: Basic, Digest and NTLM for proxies and servers, and AWS
//!   Signature Version 4 request signing ([`auth::sigv4`]);
//! - [`ws`]: WebSocket upgrade, frames and the session;
//! - [`proxy`]: `CURLOPT_PROXY` strings, proxy selection and `NO_PROXY`;
//! - [`proxy_protocol`]: the PROXY protocol v1 header
//!   (`CURLOPT_HAPROXYPROTOCOL`);
//! - [`url`]: curl-style URL parsing and the schemes handover knows;
//! - [`hosts`]: `CURLOPT_RESOLVE` and `CURLOPT_CONNECT_TO` entries;
//! - [`netrc`]: credentials from `.netrc` files;
//! - [`happy_eyeballs`]: which address to try next, and when (RFC 8305);
//! - [`doh`]: DNS over HTTPS (`CURLOPT_DOH_URL`): the A and AAAA queries
//!   and what their answers say, DNS messages by `hickory-proto`;
//! - [`x509`]: a summary of the server's certificate for verbose output;
//! - [`pin`]: `CURLOPT_PINNEDPUBLICKEY` matching;
//! - [`ocsp`]: stapled OCSP responses (`CURLOPT_SSL_VERIFYSTATUS`);
//! - [`certinfo`]: `CURLINFO_CERTINFO`'s lines for each certificate;
//! - [`ftp`]: the FTP connect phase (greeting, `AUTH TLS`, login, `PWD`);
//! - [`pingpong`]: what the FTP, IMAP, POP3 and SMTP connect phases share
//!   (`CURLOPT_USE_SSL`, bounded reply lines, their errors);
//! - [`sasl`]: SASL for SMTP, IMAP and POP3: libcurl's mechanism choice
//!   and each mechanism's messages (PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5,
//!   NTLM, XOAUTH2, OAUTHBEARER, EXTERNAL);
//! - [`smtp`]: the SMTP connect phase (greeting, `EHLO`/`HELO`, STARTTLS,
//!   `AUTH`);
//! - [`imap`]: the IMAP connect phase (greeting, `CAPABILITY`, STARTTLS,
//!   `AUTHENTICATE` or `LOGIN`) and the tag the application goes on with;
//! - [`pop3`]: the POP3 connect phase (greeting and its APOP timestamp,
//!   `CAPA`, STLS, `AUTH`, `APOP` or `USER`/`PASS`).
//!
//! Nothing in this crate opens a socket, reads a file or reads the clock:
//! time arrives as [`std::time::Instant`] arguments and file contents as
//! byte slices. Every parser accepts arbitrary input and reports a problem as
//! an error value, never as a panic (the lints below forbid `unwrap`,
//! `expect` and unchecked indexing outside tests).

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
pub mod certinfo;
pub mod civil;
mod der;
pub mod doh;
pub mod ftp;
pub mod happy_eyeballs;
pub mod hosts;
pub mod http1;
pub mod imap;
pub mod machine;
pub mod netrc;
pub mod ocsp;
pub mod pin;
pub mod pingpong;
pub mod pop3;
pub mod proxy;
pub mod proxy_protocol;
pub mod sasl;
pub mod smtp;
pub mod socks;
pub mod tunnel;
pub mod url;
pub mod ws;
pub mod x509;

#[cfg(test)]
mod testing;
