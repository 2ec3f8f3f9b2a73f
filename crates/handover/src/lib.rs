//! handover sets up a connection the way libcurl's `CURLOPT_CONNECT_ONLY`
//! does — name resolution, TCP with happy eyeballs, TLS — then stops and
//! hands the live connection to the application.
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
//!   TLS sits on it.
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
//! Errors carry libcurl's `CURLcode` numbers ([`Error::code`]) and say what
//! failed and where.
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod callbacks;
mod connection;
mod easy;
mod engine;
mod error;
mod handshake;
mod http;
mod info;
mod layer;
mod multi;
mod options;
mod pool;
mod resolve;
mod route;
mod sys;
mod tcp;
mod tls;
mod verbose;
pub mod websocket;
pub mod ws;

pub use callbacks::{ReadError, WriteError};
pub use connection::Connection;
pub use easy::Easy;
pub use error::{Error, ErrorKind};
pub use info::Info;
pub use multi::{EasyHandle, Message, Multi, WaitFd};
pub use options::{Auth, ConnectOnly, IpResolve, List, ProxyType, SslVersion};
pub use verbose::InfoType;
