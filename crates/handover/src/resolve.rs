//! Name resolution that never blocks the poll loop: the system resolver
//! (`getaddrinfo`) runs on a small pool of worker threads, and each lookup
//! signals completion through a socket pair the loop polls, as libcurl's
//! threaded resolver does. A lookup that outlives its transfer's deadline
//! is simply abandoned; its worker finishes and drops the answer.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};

/// Worker threads: enough for a Multi full of distinct names to make
/// progress, few enough to be cheap.
const WORKERS: usize = 4;

type Answer = io::Result<Vec<SocketAddr>>;

struct Job {
    host: String,
    port: u16,
    slot: Arc<Mutex<Option<Answer>>>,
    wake: UnixStream,
}

/// One name lookup in flight.
pub(crate) struct Lookup {
    slot: Arc<Mutex<Option<Answer>>>,
    ready: UnixStream,
}

impl Lookup {
    /// Starts resolving `host` for `port` on a worker.
    pub fn start(host: &str, port: u16) -> io::Result<Lookup> {
        let (ready, wake) = UnixStream::pair()?;
        ready.set_nonblocking(true)?;
        let slot = Arc::new(Mutex::new(None));
        let job = Job {
            host: host.to_owned(),
            port,
            slot: slot.clone(),
            wake,
        };
        pool()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job)
            .map_err(|_| io::Error::other("resolver pool is gone"))?;
        Ok(Lookup { slot, ready })
    }

    /// The descriptor that turns readable when the answer is in.
    pub fn fd(&self) -> RawFd {
        self.ready.as_raw_fd()
    }

    /// The answer, if the worker has finished.
    pub fn poll(&mut self) -> Option<Answer> {
        let mut byte = [0u8; 1];
        // Drain the wake-up byte; the slot is the source of truth.
        let _ = (&self.ready).read(&mut byte);
        self.slot.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

fn pool() -> &'static Mutex<Sender<Job>> {
    static POOL: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..WORKERS {
            let rx = rx.clone();
            let _ = std::thread::Builder::new()
                .name(format!("handover-resolver-{i}"))
                .spawn(move || worker(&rx));
        }
        Mutex::new(tx)
    })
}

fn worker(jobs: &Mutex<Receiver<Job>>) {
    loop {
        let job = {
            let rx = jobs.lock().unwrap_or_else(|p| p.into_inner());
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        let answer = (job.host.as_str(), job.port)
            .to_socket_addrs()
            .map(|it| it.collect::<Vec<_>>());
        *job.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(answer);
        let _ = (&job.wake).write_all(&[1]);
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
