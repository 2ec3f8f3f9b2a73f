//! HTTP/1.1 on the wire: request heads out, response heads and bodies in.
//!
//! First used for the proxy's answer to `CONNECT` (the head decides whether
//! the tunnel is up; the body of a refusal is read past before the next
//! `CONNECT` on the same connection), then for requests of our own:
//! `CONNECT_ONLY=2` sends one and reads the response head, `CONNECT_ONLY=0`
//! is an ordinary transfer.
//!
//! ```text
//!   RequestSpec ──> write_request ──> head bytes + lines for verbose output
//!
//!   received bytes ──> parse_response_head ──> Partial | Complete { head, len }
//!                                                             │
//!   bytes from len on ──> BodyReader::new(&head, method) ──> read … ──> is_done
//!                                                             └──> keep_alive_after
//! ```
//!
//! Each step works on whatever bytes have arrived and never looks past the
//! end of what it describes: `len`, and the counts [`BodyReader::read`] and
//! [`BodySkipper::feed`] return, say exactly where the next layer's bytes
//! start.

mod body;
mod head;
mod request;

pub use body::{
    keep_alive, keep_alive_after, BodyReader, BodySkipper, MAX_CHUNK_LINE, MAX_TRAILER_BYTES,
};
pub use head::{parse_response_head, HeadError, Limits, Parsed, ResponseHead};
pub use request::{write_request, RequestError, RequestSpec};
