//! handover sets up a connection the way libcurl's `CURLOPT_CONNECT_ONLY`
//! does — name resolution, TCP with happy eyeballs, proxies (HTTP CONNECT
//! with Basic, Digest or NTLM, HTTPS, SOCKS4/4a/5/5h, chains of them), TLS
//! — then stops and hands the live connection to the application.
//!
//! Three ways in, one engine underneath:
//!
//! - [`Easy`]: one transfer, blocking `perform`, then non-blocking
//!   [`Easy::send`]/[`Easy::recv`] on the handed-over connection, or
//!   [`Easy::take_connection`] to own it as a [`Connection`].
//! - [`Multi`]: many transfers driven from one thread; each
//!   [`EasyHandle`] reaches its connection while it stays added.
//! - [`Connection`]: the connection itself, with non-blocking
//!   `send`/`recv`, blocking [`std::io::Read`]/[`std::io::Write`] with
//!   timeouts, the raw descriptor, and the plain `TcpStream` back when no
//!   TLS sits on it ([`Connection::into_tcp_stream`]; the stream is
//!   non-blocking until `set_nonblocking(false)`).
//!
//! ```no_run
//! use handover::{ConnectOnly, Easy};
//!
//! let mut easy = Easy::new();
//! easy.url("https://example.com/")?;
//! easy.connect_only(ConnectOnly::Connection)?;
//! easy.perform()?;
//! // only connected! TLS is done; talk HTTP yourself:
//! easy.send(b"HEAD / HTTP/1.1\r\nHost: example.com\r\n\r\n")?;
//! # Ok::<(), handover::Error>(())
//! ```
//!
//! # How far `perform` goes
//!
//! [`ConnectOnly::Connection`] (libcurl's 1) stops once the connection is
//! set up: nothing of the application's protocol has been sent.
//!
//! [`ConnectOnly::Headers`] (2) goes one step further. On `http://` and
//! `https://` it sends the request and reads the response head; the body
//! is then left on the connection raw (chunked framing included — read it
//! decoded through [`BodyReader`]), the connection stays open (keep-alive),
//! and the head is on the handle ([`Easy::response_code`],
//! [`Easy::response_header`], [`Easy::response_header_list`]). Only
//! [`Easy::timeout`] limits the wait for a server that never answers;
//! [`Easy::connect_timeout`] ends with the connection setup. On `ws://` and
//! `wss://` it does the WebSocket upgrade; then the [`ws`] frame calls or
//! [`websocket::WebSocket`]'s whole messages take over.
//!
//! [`ConnectOnly::Off`] (0, the default) is an ordinary transfer: the body
//! goes to [`Easy::write_function`].
//!
//! # Waiting for the connection
//!
//! `send` and `recv` never wait; they answer [`ErrorKind::Again`]. Wait
//! with [`Easy::wait_readable`] / [`Connection::wait_readable`] (or the
//! writable ones): they count bytes TLS has already decrypted, which a
//! `poll` on the raw descriptor cannot see.
//!
//! # Errors
//!
//! Errors carry libcurl's `CURLcode` numbers ([`Error::code`]) and say what
//! failed and where.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks, unused_must_use)]

mod body;
mod callbacks;
mod connection;
mod dns_cache;
mod easy;
mod easy_identity;
mod easy_protocols;
mod easy_tuning;
mod endpoint;
mod engine;
mod error;
mod handshake;
mod http;
mod info;
mod layer;
mod multi;
mod options;
mod output;
mod pool;
mod random;
mod resolve;
mod route;
mod share;
mod sys;
mod tcp;
#[cfg(feature = "test-hooks")]
mod test_hooks;
mod timeline;
mod tls;
#[cfg(feature = "tokio")]
pub mod tokio;
mod udp;
mod verbose;
pub mod websocket;
pub mod ws;

pub use body::BodyReader;
pub use callbacks::{
    ReadError, SeekResult, SocketPurpose, SocketRequest, SockoptResult, WriteError,
};
pub use connection::Connection;
pub use easy::Easy;
pub use error::{Error, ErrorKind, ProxyFailure};
pub use handover_proto::ftp::FtpSslAuth;
pub use handover_proto::pingpong::UseSsl;
/// The parts of a [`RoutePlan`]'s hops: the proxy as parsed and what a
/// chain entry says of itself.
pub use handover_proto::proxy::{HopOptions, ProxyKind, ProxySpec};
pub use info::Info;
pub use multi::{
    Assigner, CallbackResult, EasyHandle, Events, LentEasy, Message, Multi, SocketEvents, WaitFd,
    Waker,
};
pub use options::{Auth, ConnectOnly, IpResolve, List, NetRc, ProxyType, SslOpt, SslVersion};
pub use route::{DirectReason, HopOrigin, NoProxyCheck, PlannedHop, RoutePlan};
pub use share::Share;
pub use timeline::{Step, StepKind};
pub use verbose::InfoType;

/// The README's Rust snippets, compiled by `cargo test --doc` so that the
/// first code a new user copies cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
mod readme_doctests {}
