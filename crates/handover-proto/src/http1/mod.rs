//! HTTP/1.1 on the wire: request heads out, response heads and bodies in.
//!
//! First used for the proxy's answer to `CONNECT` (the head decides whether
//! the tunnel is up; the body of a refusal is read past before the next
//! `CONNECT` on the same connection), then for requests of our own:
//! `CONNECT_ONLY=2` sends one and reads the response head, `CONNECT_ONLY=0`
//! is an ordinary transfer.
//!
//! ```text
//!   RequestSpec + RequestBody ──> Exchange (a Machine) ──> request bytes out, body pulled
//!                                    │  reads heads with HeadReader (1xx skipped, 101 checked)
//!                                    └──> Response { head, body_reader(), keep_alive() }
//!                                                          │
//!   bytes after the head ──> BodyReader ──> read … ──> is_done
//!
//!   the CONNECT tunnel: HeadReader for its answers, BodySkipper past a
//!   407's body, keep_alive_via for whether the proxy keeps the connection
//! ```
//!
//! The pieces, each usable alone: [`write_request`] builds a head from
//! libcurl-style options (the custom header grammar is shared with the
//! tunnel's proxy headers); [`HeadReader`] reads response heads in time
//! linear in their size however they are split ([`parse_response_head`]
//! is its one-shot form); [`BodyReader`] and [`BodySkipper`] decode body
//! framing; [`keep_alive_via`] is the one keep-alive rule.
//!
//! Each step works on whatever bytes have arrived and never looks past the
//! end of what it describes: the counts [`HeadReader::feed`],
//! [`Exchange`]'s `receive`, [`BodyReader::read`] and [`BodySkipper::feed`]
//! return say exactly where the next layer's bytes start.

mod body;
mod exchange;
mod head;
mod request;

pub use body::{
    keep_alive, keep_alive_after, keep_alive_via, BodyReader, BodySkipper, Via, MAX_CHUNK_LINE,
    MAX_TRAILER_BYTES,
};
pub use exchange::{
    Exchange, ExchangeError, ExchangeErrorKind, ExchangeOptions, RequestBody, Response, BODY_PIECE,
};
pub(crate) use head::is_tchar;
pub use head::{
    parse_response_head, HeadError, HeadReader, HeadRefusal, Limits, Parsed, ResponseHead,
    MAX_CONTENT_LENGTH, MAX_TRANSFER_CODINGS,
};
pub(crate) use request::{parse_custom_headers, CustomHeader};
pub use request::{write_request, RequestError, RequestSpec};
