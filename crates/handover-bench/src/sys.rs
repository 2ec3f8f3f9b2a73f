//! The bench's only unsafe code: libcurl calls the `curl` crate does not
//! wrap (`CURLINFO_ACTIVESOCKET`, `curl_easy_send`/`recv` on a handle added
//! to a multi), `shutdown(2)`, `poll(2)`, `epoll(7)`, `listen(2)` with a large backlog and
//! `setrlimit(RLIMIT_NOFILE)`. Everything else in the crate is safe code.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// `CURLINFO_ACTIVESOCKET` (`CURLINFO_SOCKET + 44`); curl-sys does not name it.
const CURLINFO_ACTIVESOCKET: curl_sys::CURLINFO = 0x50002C;

/// libcurl's socket of a connect-only transfer (`CURLINFO_ACTIVESOCKET`).
pub fn curl_active_socket(handle: *mut curl_sys::CURL) -> Option<RawFd> {
    let mut sock: curl_sys::curl_socket_t = -1;
    // SAFETY: `handle` is a live easy handle owned by a `curl::easy::Easy`
    // or a `curl::multi::EasyHandle` the caller holds; ACTIVESOCKET writes
    // one `curl_socket_t` (an int on Linux) through the pointer, which
    // points at a local of exactly that type.
    let rc = unsafe {
        curl_sys::curl_easy_getinfo(
            handle,
            CURLINFO_ACTIVESOCKET,
            &mut sock as *mut curl_sys::curl_socket_t,
        )
    };
    (rc == curl_sys::CURLE_OK && sock >= 0).then_some(sock)
}

/// `curl_easy_send` on a raw handle (one added to a multi, which the
/// `curl` crate gives no `send` for).
pub fn curl_raw_send(handle: *mut curl_sys::CURL, data: &[u8]) -> Result<usize, curl::Error> {
    let mut n: libc::size_t = 0;
    // SAFETY: `handle` is a live easy handle held by the caller; the buffer
    // pointer and length come from one slice, and `n` is a local.
    let rc = unsafe { curl_sys::curl_easy_send(handle, data.as_ptr().cast(), data.len(), &mut n) };
    if rc == curl_sys::CURLE_OK {
        Ok(n)
    } else {
        Err(curl::Error::new(rc))
    }
}

/// `curl_easy_recv` on a raw handle.
pub fn curl_raw_recv(handle: *mut curl_sys::CURL, buf: &mut [u8]) -> Result<usize, curl::Error> {
    let mut n: libc::size_t = 0;
    // SAFETY: `handle` is a live easy handle held by the caller; libcurl
    // writes at most `buf.len()` bytes into `buf`, and `n` is a local.
    let rc =
        unsafe { curl_sys::curl_easy_recv(handle, buf.as_mut_ptr().cast(), buf.len(), &mut n) };
    if rc == curl_sys::CURLE_OK {
        Ok(n)
    } else {
        Err(curl::Error::new(rc))
    }
}

/// Raises the soft descriptor limit to the hard one; returns the new soft limit.
pub fn raise_nofile() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` into the local it points at.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return 0;
    }
    lim.rlim_cur = lim.rlim_max;
    // SAFETY: setrlimit only reads the local `rlimit`.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    lim.rlim_cur
}

/// `shutdown(fd, SHUT_RDWR)`: ends a connection's traffic (the FIN goes
/// out, the peer sees the end) while its owner keeps the descriptor.
pub fn shutdown_both(fd: RawFd) {
    // SAFETY: shutdown(2) takes a descriptor number and touches no memory;
    // on a descriptor that is not a socket it fails harmlessly.
    unsafe {
        libc::shutdown(fd, libc::SHUT_RDWR);
    }
}

/// Sets a listening socket's accept backlog (Linux updates it on a second
/// `listen`); the kernel caps it at `net.core.somaxconn`.
pub fn set_backlog(fd: RawFd, backlog: i32) {
    // SAFETY: `fd` is a listening socket the caller owns; listen takes no pointers.
    unsafe { libc::listen(fd, backlog) };
}

/// A pollfd for `fd` with the given interest.
pub fn pollfd(fd: RawFd, read: bool, write: bool) -> libc::pollfd {
    let mut events = 0;
    if read {
        events |= libc::POLLIN;
    }
    if write {
        events |= libc::POLLOUT;
    }
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// `poll(2)`: how many descriptors are ready (EINTR counts as none).
pub fn poll(fds: &mut [libc::pollfd], timeout: Option<Duration>) -> io::Result<usize> {
    let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
    // SAFETY: the pointer and length describe one exclusive slice of pollfds,
    // which poll reads and whose `revents` it writes.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(e);
    }
    Ok(rc as usize)
}

/// Waits until `fd` is readable (when `read`) or writable (when `write`).
pub fn wait_fd(fd: RawFd, read: bool, write: bool) -> io::Result<()> {
    let mut fds = [pollfd(fd, read, write)];
    poll(&mut fds, Some(Duration::from_secs(30)))?;
    if fds[0].revents == 0 {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "30 s without progress",
        ));
    }
    Ok(())
}

/// A level-triggered epoll instance.
pub struct Epoll {
    fd: OwnedFd,
}

/// Readable / writable interest bits for [`Epoll`].
pub const EP_IN: u32 = libc::EPOLLIN as u32;
pub const EP_OUT: u32 = libc::EPOLLOUT as u32;

impl Epoll {
    pub fn new() -> io::Result<Epoll> {
        // SAFETY: epoll_create1 takes no pointers; a non-negative result is a
        // fresh descriptor that nothing else owns.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just returned by epoll_create1 and is owned by no one else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Epoll { fd })
    }

    fn ctl(&self, op: i32, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: `ev` is a local epoll_event that epoll_ctl only reads; the
        // epoll descriptor is ours and `fd` is a socket the caller owns.
        let rc = unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), op, fd, &mut ev) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    pub fn add(&self, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, events, token)
    }

    pub fn modify(&self, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, events, token)
    }

    /// Waits at most `timeout_ms`; fills `events` and returns `(token, events)` pairs.
    pub fn wait(&self, events: &mut Vec<libc::epoll_event>, timeout_ms: i32) -> io::Result<usize> {
        events.clear();
        let cap = events.capacity().max(1);
        events.reserve(cap);
        // SAFETY: the pointer and `cap` describe the spare capacity of the
        // vector, which epoll_wait fills with at most `cap` events.
        let rc = unsafe {
            libc::epoll_wait(
                self.fd.as_raw_fd(),
                events.as_mut_ptr(),
                cap as i32,
                timeout_ms,
            )
        };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(0);
            }
            return Err(e);
        }
        // SAFETY: epoll_wait initialised the first `rc` (<= cap) entries.
        unsafe { events.set_len(rc as usize) };
        Ok(rc as usize)
    }
}

/// A field of /proc/self/status in kB (`VmHWM`, `VmRSS`).
pub fn proc_status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}
