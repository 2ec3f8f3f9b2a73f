//! The system calls the safe standard library and socket2 do not offer:
//! `poll(2)` over a set of descriptors, `eventfd(2)`, the `TCP_FASTOPEN_CONNECT`
//! socket option; plus [`Closing`], a socket that the application's close
//! function may close instead of `close(2)`. Everything else goes through
//! std and socket2.
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

/// Sets `TCP_FASTOPEN_CONNECT` on a TCP socket (Linux 4.11+): `connect`
/// then returns at once, and the first `send` goes out with the SYN when
/// the kernel holds a Fast Open cookie for the server.
pub(crate) fn set_tcp_fastopen_connect(socket: std::os::fd::BorrowedFd<'_>) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: setsockopt reads `optlen` bytes from `optval`, which points
    // at a live c_int of exactly that size; the descriptor is borrowed, so
    // it is open for the duration of the call.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_FASTOPEN_CONNECT,
            std::ptr::from_ref(&on).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The machine's host name (`gethostname(2)`), as libcurl's SMTP `EHLO`
/// names itself when the URL gives no domain; `None` if the system will
/// not say or the name is not UTF-8.
pub(crate) fn host_name() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `len` bytes into the buffer, which
    // is live and exactly that long.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    // A name as long as the buffer may come without its NUL.
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = std::str::from_utf8(buf.get(..end)?).ok()?;
    (!name.is_empty()).then(|| name.to_owned())
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

/// A wake-up descriptor (`eventfd(2)`): it turns readable once [`Wake::wake`]
/// is called, and stays readable until [`Wake::reset`]. One descriptor where
/// a socket pair takes two, which matters at 10,000 lookups queued at once
/// (the resolver pool gives each its own). std offers no eventfd: creating
/// it is the only unsafe step; reads and writes go through `File`.
#[derive(Debug)]
pub(crate) struct Wake(std::fs::File);

impl Wake {
    /// A fresh, non-blocking, close-on-exec eventfd.
    pub fn new() -> io::Result<Wake> {
        use std::os::fd::{FromRawFd, OwnedFd};
        // SAFETY: eventfd(2) takes no pointers; it returns -1 or a new
        // descriptor.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just returned by eventfd(2), is open, and nothing
        // else owns it; the `OwnedFd` becomes its only owner.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Wake(std::fs::File::from(owned)))
    }

    /// Makes the descriptor readable. Never blocks (the counter cannot
    /// overflow at one increment per wake).
    pub fn wake(&self) {
        use std::io::Write as _;
        let _ = (&self.0).write(&1u64.to_ne_bytes());
    }

    /// Makes the descriptor unreadable again until the next wake.
    pub fn reset(&self) {
        use std::io::Read as _;
        let mut count = [0u8; 8];
        let _ = (&self.0).read(&mut count);
    }

    /// The descriptor to poll for reading.
    pub fn fd(&self) -> RawFd {
        use std::os::fd::AsRawFd as _;
        self.0.as_raw_fd()
    }
}

/// A socket (a `socket2::Socket` while connecting, then a `TcpStream`)
/// that, when dropped, goes to the application's close function
/// (`CURLOPT_CLOSESOCKETFUNCTION`) when one is set, and is closed by
/// `close(2)` otherwise. The descriptor is never closed twice: ownership
/// moves to the close function, or to whoever takes it with
/// [`Closing::into_inner`].
pub(crate) struct Closing<T: Into<std::os::fd::OwnedFd>> {
    /// Always initialised: taken only in `drop` and `into_inner`, which
    /// consume the value.
    inner: std::mem::ManuallyDrop<T>,
    closer: Option<crate::callbacks::SocketCloser>,
}

impl<T: Into<std::os::fd::OwnedFd>> Closing<T> {
    pub fn new(inner: T, closer: Option<crate::callbacks::SocketCloser>) -> Closing<T> {
        Closing {
            inner: std::mem::ManuallyDrop::new(inner),
            closer,
        }
    }

    /// The socket itself: its new owner closes it (the close function is
    /// no longer involved).
    pub fn into_inner(self) -> T {
        let mut me = std::mem::ManuallyDrop::new(self);
        // The closer is not dropped with `me`: take it out so it is.
        drop(me.closer.take());
        // SAFETY: `me` is never dropped nor used again, so `inner` is
        // taken exactly once and still initialised (only `drop`, which
        // does not run for `me`, takes it otherwise).
        unsafe { std::mem::ManuallyDrop::take(&mut me.inner) }
    }
}

impl<T: Into<std::os::fd::OwnedFd>> std::ops::Deref for Closing<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: Into<std::os::fd::OwnedFd>> Drop for Closing<T> {
    fn drop(&mut self) {
        // SAFETY: `drop` runs once, and nothing uses `inner` after it;
        // `into_inner` and `map` keep `drop` from running.
        let inner = unsafe { std::mem::ManuallyDrop::take(&mut self.inner) };
        match self.closer.take() {
            Some(closer) => closer.close(inner.into()),
            None => drop(inner),
        }
    }
}

/// A second descriptor for the open file `fd` (close-on-exec). The async
/// face registers the copy with the runtime's reactor: the engine may close
/// its own descriptor at any moment, and the registration then still names
/// a descriptor the face owns, never a number reused by someone else.
#[cfg(feature = "tokio")]
pub(crate) fn duplicate(fd: RawFd) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::{FromRawFd, OwnedFd};

    // SAFETY: fcntl with F_DUPFD_CLOEXEC reads and writes no memory of ours;
    // an invalid `fd` is reported as EBADF.
    let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if copy < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `copy` was just returned by fcntl and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(copy) })
}
