//! The one system call the safe standard library does not offer: `poll(2)`
//! over a set of descriptors. Everything else goes through std and socket2.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// What a descriptor is waited on for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Interest {
    pub read: bool,
    pub write: bool,
}

impl Interest {
    pub const READ: Interest = Interest {
        read: true,
        write: false,
    };
    pub const WRITE: Interest = Interest {
        read: false,
        write: true,
    };
    pub const NONE: Interest = Interest {
        read: false,
        write: false,
    };

    pub fn union(self, other: Interest) -> Interest {
        Interest {
            read: self.read || other.read,
            write: self.write || other.write,
        }
    }

    pub fn is_none(self) -> bool {
        !self.read && !self.write
    }
}

/// One entry of a poll set, laid out as the kernel wants it.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct PollFd(libc::pollfd);

impl PollFd {
    pub fn new(fd: RawFd, interest: Interest) -> PollFd {
        let mut events = 0;
        if interest.read {
            events |= libc::POLLIN;
        }
        if interest.write {
            events |= libc::POLLOUT;
        }
        PollFd(libc::pollfd {
            fd,
            events,
            revents: 0,
        })
    }

    pub fn readable(&self) -> bool {
        self.0.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0
    }

    pub fn writable(&self) -> bool {
        self.0.revents & (libc::POLLOUT | libc::POLLHUP | libc::POLLERR) != 0
    }

    pub fn any(&self) -> bool {
        self.0.revents != 0
    }
}

/// Waits until a descriptor in `fds` is ready or `timeout` passes (`None`
/// waits without limit). Returns how many are ready; an interrupted wait
/// counts as zero ready so the caller re-checks its deadlines.
pub(crate) fn poll(fds: &mut [PollFd], timeout: Option<Duration>) -> io::Result<usize> {
    let ms: libc::c_int = match timeout {
        None => -1,
        // Round up so a 0.4 ms deadline does not become a busy loop of 0 ms waits.
        Some(d) => {
            let ms = d.as_nanos().div_ceil(1_000_000);
            ms.min(libc::c_int::MAX as u128) as libc::c_int
        }
    };
    // SAFETY: `PollFd` is `repr(transparent)` over `libc::pollfd`, so the
    // slice is a valid, exclusively borrowed array of `fds.len()` pollfd
    // structs for the duration of the call; poll(2) only writes `revents`.
    let rc = unsafe {
        libc::poll(
            fds.as_mut_ptr().cast::<libc::pollfd>(),
            fds.len() as libc::nfds_t,
            ms,
        )
    };
    if rc < 0 {
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(err);
    }
    Ok(rc as usize)
}
