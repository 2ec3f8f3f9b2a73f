//! The engine's descriptors on tokio's reactor, while a transfer sets up.
//!
//! The engine owns its sockets and eventfds and may close one in any
//! `drive` (a lost happy-eyeballs race, a proxy that closed after 407). So
//! the reactor is given a duplicate of each: the registration then always
//! names a descriptor this module owns, and dropping it can never
//! unregister a number the process has since reused for someone else's
//! socket.
//!
//! tokio reports readiness as edges, but a handshake layer need not read a
//! socket until it would block. Readiness the reactor reports is therefore
//! confirmed with a zero-timeout `poll` of the descriptor before it counts,
//! and cleared when the descriptor has nothing: a level, built from edges.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::task::{Context, Poll};
use std::time::Duration;

use ::tokio::io::unix::AsyncFd;

use crate::engine::{Transfer, Wanted};
use crate::error::{Error, ErrorKind};
use crate::sys::{self, Interest, PollFd};

/// One of the engine's descriptors, registered through a duplicate.
struct Registered {
    /// The engine's name for it ([`Wanted::key`]) and its number.
    key: u64,
    fd: RawFd,
    interest: Interest,
    copy: AsyncFd<OwnedFd>,
}

/// The descriptors a transfer waits on, kept in step with its wishes.
#[derive(Default)]
pub(super) struct Registrations {
    registered: Vec<Registered>,
    /// Scratch for the transfer's wishes.
    wanted: Vec<Wanted>,
}

impl Registrations {
    /// Follows the transfer's wishes after a `drive`: drops what it no
    /// longer waits on and registers what is new.
    pub fn update(&mut self, transfer: &Transfer) -> Result<(), Error> {
        self.wanted.clear();
        transfer.wants(&mut self.wanted);
        let wanted = &self.wanted;
        self.registered
            .retain(|r| wanted.iter().any(|w| w.key == r.key && w.fd == r.fd));
        for w in wanted {
            match self
                .registered
                .iter_mut()
                .find(|r| r.key == w.key && r.fd == w.fd)
            {
                Some(r) => r.interest = w.interest,
                None => self.registered.push(Registered {
                    key: w.key,
                    fd: w.fd,
                    interest: w.interest,
                    copy: super::reactor::register_copy(w.fd).map_err(|e| {
                        Error::from_io(
                            ErrorKind::UnrecoverablePoll,
                            "registering a socket with the tokio reactor failed",
                            &e,
                        )
                    })?,
                }),
            }
        }
        Ok(())
    }

    /// Asks the reactor to wake the task for every wish; true when one is
    /// met now (drive again at once).
    pub fn poll_ready(&self, cx: &mut Context<'_>) -> Result<bool, Error> {
        for r in &self.registered {
            for (want, asked) in [
                (Interest::READ, r.interest.read),
                (Interest::WRITE, r.interest.write),
            ] {
                if asked
                    && poll_direction(&r.copy, cx, want).map_err(|e| {
                        Error::from_io(ErrorKind::UnrecoverablePoll, "tokio readiness failed", &e)
                    })?
                {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }
}

/// True when the descriptor is ready for `want` now; otherwise the task is
/// registered to be woken by the next edge.
fn poll_direction(
    copy: &AsyncFd<OwnedFd>,
    cx: &mut Context<'_>,
    want: Interest,
) -> io::Result<bool> {
    // An edge that arrives between the check and the clear keeps the
    // readiness (the guard clears only what it saw), so two rounds settle.
    for _ in 0..2 {
        let ready = if want.read {
            copy.poll_read_ready(cx)
        } else {
            copy.poll_write_ready(cx)
        };
        let mut guard = match ready {
            Poll::Pending => return Ok(false),
            Poll::Ready(guard) => guard?,
        };
        let mut fds = [PollFd::new(copy.as_raw_fd(), want)];
        sys::poll(&mut fds, Some(Duration::ZERO))?;
        if fds[0].any() {
            return Ok(true);
        }
        guard.clear_ready();
    }
    // Still reported after a clear: let the engine look.
    Ok(true)
}
