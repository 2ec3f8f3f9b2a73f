//! Registering descriptors with tokio's reactor: the async face's only
//! unsafe calls (tokio asks its caller to promise the descriptor stays the
//! same open file for as long as it is registered).
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{OwnedFd, RawFd};

use ::tokio::io::unix::AsyncFd;
use ::tokio::io::Interest;

use crate::connection::Connection;
use crate::sys;

/// Both directions: a wish may change from one to the other without
/// registering again.
fn both() -> Interest {
    Interest::READABLE | Interest::WRITABLE
}

/// A duplicate of the engine's descriptor `fd`, registered.
pub(super) fn register_copy(fd: RawFd) -> io::Result<AsyncFd<OwnedFd>> {
    let copy = sys::duplicate(fd)?;
    // SAFETY: the `OwnedFd` is open, owned by the `AsyncFd` from here on,
    // and always answers the same descriptor.
    unsafe { AsyncFd::register_with_interest(copy, both()) }.map_err(io::Error::from)
}

/// The handed-over connection, registered; on failure it comes back.
#[allow(clippy::result_large_err)] // the error carries the connection back
pub(super) fn register_connection(
    conn: Connection,
) -> Result<AsyncFd<Connection>, (Connection, io::Error)> {
    if let Err(e) = ::tokio::runtime::Handle::try_current() {
        return Err((conn, io::Error::other(e)));
    }
    // SAFETY: a `Connection` owns its socket for its whole life (layers
    // come and go above it, the socket never changes), so `as_raw_fd`
    // names the same open descriptor until the `AsyncFd` gives it back.
    unsafe { AsyncFd::register_with_interest(conn, both()) }.map_err(|e| e.into_parts())
}
