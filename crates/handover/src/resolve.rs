//! Name resolution that never blocks the poll loop: each lookup runs the
//! system resolver (`getaddrinfo`) on a thread of its own and signals
//! completion through a socket pair the loop polls, as libcurl's threaded
//! resolver does. A thread per lookup means one hanging name never delays
//! another; a lookup that outlives its transfer's deadline is abandoned,
//! and its thread finishes and drops the answer.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};

type Answer = io::Result<Vec<SocketAddr>>;

/// One name lookup in flight.
pub(crate) struct Lookup {
    slot: Arc<Mutex<Option<Answer>>>,
    ready: UnixStream,
}

impl Lookup {
    /// Starts resolving `host` for `port` on a new thread.
    pub fn start(host: &str, port: u16) -> io::Result<Lookup> {
        let (ready, wake) = UnixStream::pair()?;
        ready.set_nonblocking(true)?;
        let slot = Arc::new(Mutex::new(None));
        let answer_slot = slot.clone();
        let host = host.to_owned();
        std::thread::Builder::new()
            .name("handover-resolver".to_owned())
            .spawn(move || {
                let answer = (host.as_str(), port)
                    .to_socket_addrs()
                    .map(|it| it.collect::<Vec<_>>());
                *answer_slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(answer);
                // MSG_NOSIGNAL: an abandoned lookup's reader is gone, and a
                // host program that does not ignore SIGPIPE must not die of it.
                let _ = socket2::SockRef::from(&wake).send_with_flags(&[1], libc::MSG_NOSIGNAL);
            })?;
        Ok(Lookup { slot, ready })
    }

    /// The descriptor that turns readable when the answer is in.
    pub fn fd(&self) -> RawFd {
        self.ready.as_raw_fd()
    }

    /// The answer, if the lookup has finished.
    pub fn poll(&mut self) -> Option<Answer> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// Answers that need no lookup: IP literals, and `localhost` (and names
/// under `.localhost`), which libcurl resolves to the loopback addresses
/// itself rather than trusting the resolver.
pub(crate) fn without_lookup(host: &str, port: u16) -> Option<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(vec![SocketAddr::new(ip, port)]);
    }
    let lower = host.trim_end_matches('.').to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        return Some(vec![
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
        ]);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_localhost_need_no_lookup() {
        assert_eq!(
            without_lookup("127.0.0.1", 80),
            Some(vec!["127.0.0.1:80".parse().unwrap()])
        );
        assert_eq!(
            without_lookup("::1", 8),
            Some(vec!["[::1]:8".parse().unwrap()])
        );
        assert_eq!(without_lookup("LocalHost.", 1).map(|v| v.len()), Some(2));
        assert_eq!(without_lookup("a.localhost", 1).map(|v| v.len()), Some(2));
        assert_eq!(without_lookup("example.com", 1), None);
    }

    #[test]
    fn a_worker_answers_and_wakes_the_poller() {
        let mut lookup = Lookup::start("localhost", 7).unwrap();
        let mut fds = [crate::sys::PollFd::new(
            lookup.fd(),
            crate::sys::Interest::READ,
        )];
        crate::sys::poll(&mut fds, Some(std::time::Duration::from_secs(30))).unwrap();
        let answer = lookup.poll().expect("answered").expect("resolved");
        assert!(answer.iter().all(|a| a.port() == 7 && a.ip().is_loopback()));
    }
}
