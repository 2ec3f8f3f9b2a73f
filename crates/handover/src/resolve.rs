//! Name resolution that never blocks the poll loop: the system resolver
//! (`getaddrinfo`) runs on a small process-wide pool of worker threads, and
//! each lookup signals its answer through a descriptor of its own that the
//! loop polls.
//!
//! ```text
//!   Lookup::start ──> queue ──> worker (≤ MAX_WORKERS, started on demand,
//!        │                        │     gone after IDLE_EXIT without work)
//!        │                        └─ getaddrinfo ──> answer in the job
//!        └── fd() readable <──────────────────────── wake
//! ```
//!
//! - **Bounded.** At most [`MAX_WORKERS`] (16) threads resolve at once,
//!   however many transfers there are; further lookups wait in a FIFO
//!   queue. libcurl's threaded resolver starts a thread per lookup; 10,000
//!   transfers with names would be 10,000 threads.
//! - **Lazy.** No thread exists until the first lookup; a worker starts
//!   when a lookup is queued and no idle worker can take it, and exits
//!   after [`IDLE_EXIT`] without work.
//! - **One query per name in flight.** A lookup of a name that is already
//!   queued or being resolved joins that job and gets the same answer with
//!   its own port: 10,000 transfers to one host cost a handful of
//!   `getaddrinfo` calls, not 10,000. Nothing is cached: once answered, the
//!   next lookup asks the system again.
//! - **Cancellation.** Dropping a [`Lookup`] (its transfer finished, timed
//!   out or was removed) closes its descriptor at once; a queued job is then
//!   skipped by the worker that pops it (unless another lookup shares it),
//!   and a job already running has its answer thrown away. Nothing waits on
//!   the dropped lookup.
//! - **A stuck name.** `getaddrinfo` cannot be interrupted: a name whose
//!   servers do not answer holds its worker until the system resolver gives
//!   up (`resolv.conf`'s `timeout` × `attempts`, 5 s × 2 by default). If
//!   all 16 workers hang so, other lookups wait in the queue; each is still
//!   bounded by its own transfer's deadline, which the engine enforces
//!   ("Resolving timed out", 28), and its job is skipped once that transfer
//!   lets go of it. A hanging name thus delays other names only when 16 of
//!   them hang at once.
//! - **One descriptor per lookup**, an eventfd ([`crate::sys::Wake`]): a
//!   socket pair would take two, and 10,000 queued lookups would then use
//!   20,000 descriptors before the first connection is opened.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::os::fd::RawFd;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use crate::sys::Wake;

/// The most lookups the process-wide pool runs at once.
pub(crate) const MAX_WORKERS: usize = 16;

/// How long a worker waits for work before it exits.
pub(crate) const IDLE_EXIT: Duration = Duration::from_secs(30);

type Answer = io::Result<Vec<SocketAddr>>;

/// What a worker calls to resolve a name: the system resolver, or a fake
/// in tests.
type ResolveFn = dyn Fn(&str, u16) -> Answer + Send + Sync;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One lookup's place in a job: where its answer goes.
struct Waiter {
    port: u16,
    slot: Mutex<Slot>,
}

struct Slot {
    answer: Option<Answer>,
    /// The lookup's descriptor, for the worker to wake. `None` once the
    /// answer is delivered or the lookup was dropped.
    wake: Option<Arc<Wake>>,
}

impl Waiter {
    fn wanted(&self) -> bool {
        lock(&self.slot).wake.is_some()
    }

    fn deliver(&self, answer: Answer) {
        let wake = {
            let mut slot = lock(&self.slot);
            let Some(wake) = slot.wake.take() else {
                return; // dropped meanwhile: nobody reads the answer
            };
            slot.answer = Some(answer);
            wake
        };
        wake.wake();
    }
}

/// One name to resolve, queued or running, and the lookups waiting for it.
/// Lookups of a name already queued or running join its job instead of
/// asking the system again (each gets the answer with its own port); an
/// answer is never kept past its delivery.
struct Job {
    host: String,
    /// The name as the in-flight map knows it (DNS names ignore ASCII case).
    key: String,
    /// The first lookup's port, for getaddrinfo.
    port: u16,
    waiters: Mutex<Vec<Arc<Waiter>>>,
}

impl Job {
    /// True while any of its lookups still wants the answer.
    fn wanted(&self) -> bool {
        lock(&self.waiters).iter().any(|w| w.wanted())
    }

    fn deliver(&self, answer: Answer) {
        let waiters = std::mem::take(&mut *lock(&self.waiters));
        for waiter in waiters {
            waiter.deliver(with_port(&answer, waiter.port));
        }
    }
}

/// `answer` for a lookup of `port` (io::Error is not `Clone`: its kind and
/// words are kept).
fn with_port(answer: &Answer, port: u16) -> Answer {
    match answer {
        Ok(addrs) => Ok(addrs
            .iter()
            .map(|a| SocketAddr::new(a.ip(), port))
            .collect()),
        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
    }
}

/// A pool of resolver threads and the queue they serve.
pub(crate) struct Pool {
    state: Mutex<PoolState>,
    work: Condvar,
    max_workers: usize,
    idle_exit: Duration,
    resolve: Box<ResolveFn>,
}

#[derive(Default)]
struct PoolState {
    queue: VecDeque<Arc<Job>>,
    /// Jobs queued or running, by name: a new lookup of one of these names
    /// joins the job.
    in_flight: HashMap<String, Arc<Job>>,
    /// Live worker threads, counted from the moment one is spawned until it
    /// returns.
    workers: usize,
    /// Workers waiting for work.
    idle: usize,
    /// The most workers ever alive at once.
    peak: usize,
}

impl PoolState {
    fn finish(&mut self, job: &Arc<Job>) {
        if self
            .in_flight
            .get(&job.key)
            .is_some_and(|j| Arc::ptr_eq(j, job))
        {
            self.in_flight.remove(&job.key);
        }
    }
}

impl Pool {
    /// A pool of at most `max_workers` threads that exit after `idle_exit`
    /// without work, resolving with `resolve`.
    pub(crate) fn new(
        max_workers: usize,
        idle_exit: Duration,
        resolve: Box<ResolveFn>,
    ) -> Arc<Pool> {
        Arc::new(Pool {
            state: Mutex::new(PoolState::default()),
            work: Condvar::new(),
            max_workers: max_workers.max(1),
            idle_exit,
            resolve,
        })
    }

    /// The process-wide pool on the system resolver.
    pub(crate) fn system() -> &'static Arc<Pool> {
        static POOL: OnceLock<Arc<Pool>> = OnceLock::new();
        POOL.get_or_init(|| Pool::new(MAX_WORKERS, IDLE_EXIT, Box::new(system_resolve)))
    }

    /// Live worker threads now.
    #[cfg(test)]
    pub(crate) fn workers(&self) -> usize {
        lock(&self.state).workers
    }

    /// The most worker threads alive at once so far.
    #[cfg(test)]
    pub(crate) fn peak_workers(&self) -> usize {
        lock(&self.state).peak
    }

    /// Jobs waiting for a worker, dropped ones included until a worker
    /// skips them.
    #[cfg(test)]
    fn queued(&self) -> usize {
        lock(&self.state).queue.len()
    }

    fn submit(self: &Arc<Pool>, host: &str, waiter: Arc<Waiter>) -> io::Result<()> {
        let key = host.to_ascii_lowercase();
        let mut state = lock(&self.state);
        if let Some(job) = state.in_flight.get(&key) {
            lock(&job.waiters).push(waiter);
            return Ok(());
        }
        let job = Arc::new(Job {
            host: host.to_owned(),
            key: key.clone(),
            port: waiter.port,
            waiters: Mutex::new(vec![waiter]),
        });
        state.in_flight.insert(key, job.clone());
        state.queue.push_back(job.clone());
        // Every queued job beyond the idle workers wants a worker of its own.
        if state.queue.len() > state.idle && state.workers < self.max_workers {
            let pool = self.clone();
            let spawned = std::thread::Builder::new()
                .name("handover-resolver".to_owned())
                .spawn(move || pool.work_loop());
            match spawned {
                Ok(_) => {
                    state.workers += 1;
                    state.peak = state.peak.max(state.workers);
                }
                // With a worker alive the job is answered in turn; with none
                // it never would be.
                Err(e) if state.workers == 0 => {
                    state.queue.pop_back();
                    state.finish(&job);
                    return Err(e);
                }
                Err(_) => {}
            }
        }
        self.work.notify_one();
        Ok(())
    }

    fn work_loop(&self) {
        let mut state = lock(&self.state);
        loop {
            if let Some(job) = state.queue.pop_front() {
                // Decided under the pool's lock, so no lookup joins a job
                // that is being skipped.
                if !job.wanted() {
                    state.finish(&job);
                    continue;
                }
                drop(state);
                // A panicking resolver must not take the worker with it:
                // the pool would count a dead thread as alive.
                let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    (self.resolve)(&job.host, job.port)
                }))
                .unwrap_or_else(|_| Err(io::Error::other("the resolver panicked")));
                // Out of the map first: a lookup that starts from here on
                // asks anew instead of joining a job already answered.
                lock(&self.state).finish(&job);
                job.deliver(answer);
                state = lock(&self.state);
                continue;
            }
            state.idle += 1;
            let (guard, waited) = self
                .work
                .wait_timeout(state, self.idle_exit)
                .unwrap_or_else(|p| p.into_inner());
            state = guard;
            state.idle -= 1;
            // Leave under the same lock that saw the queue empty, so a job
            // queued right after sees one worker fewer and starts another.
            if waited.timed_out() && state.queue.is_empty() {
                state.workers -= 1;
                return;
            }
        }
    }
}

/// `getaddrinfo` through std.
fn system_resolve(host: &str, port: u16) -> Answer {
    (host, port).to_socket_addrs().map(|it| it.collect())
}

/// One name lookup in flight.
pub(crate) struct Lookup {
    waiter: Arc<Waiter>,
    wake: Arc<Wake>,
}

impl Lookup {
    /// Queues `host` for `port` on the process-wide resolver pool.
    pub fn start(host: &str, port: u16) -> io::Result<Lookup> {
        Lookup::start_on(Pool::system(), host, port)
    }

    /// Queues `host` for `port` on `pool`.
    pub(crate) fn start_on(pool: &Arc<Pool>, host: &str, port: u16) -> io::Result<Lookup> {
        let wake = Arc::new(Wake::new()?);
        let waiter = Arc::new(Waiter {
            port,
            slot: Mutex::new(Slot {
                answer: None,
                wake: Some(wake.clone()),
            }),
        });
        pool.submit(host, waiter.clone())?;
        Ok(Lookup { waiter, wake })
    }

    /// The descriptor that turns readable when the answer is in.
    pub fn fd(&self) -> RawFd {
        self.wake.fd()
    }

    /// The answer, if the lookup has finished.
    pub fn poll(&mut self) -> Option<Answer> {
        lock(&self.waiter.slot).answer.take()
    }
}

impl Drop for Lookup {
    fn drop(&mut self) {
        let mut slot = lock(&self.waiter.slot);
        // The worker skips the job (when no other lookup shares it) or
        // drops this answer; the descriptor closes with the last `Arc`,
        // now or when a worker's wake ends.
        slot.wake = None;
        slot.answer = None;
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
    use crate::sys::{poll, Interest, PollFd};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Instant;

    /// `h<i>` resolves to 10.0.<i / 256>.<i % 256>; anything else fails.
    fn fake_answer(host: &str, port: u16) -> Answer {
        let i: u32 = host
            .strip_prefix('h')
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, host.to_owned()))?;
        Ok(vec![SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(10, 0, (i / 256) as u8, (i % 256) as u8)),
            port,
        )])
    }

    /// Waits until every lookup has answered; returns the answers in order.
    fn answers(lookups: &mut [Lookup]) -> Vec<Answer> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut got: Vec<Option<Answer>> = lookups.iter().map(|_| None).collect();
        while got.iter().any(Option::is_none) {
            assert!(Instant::now() < deadline, "lookups unanswered after 30 s");
            let mut fds: Vec<PollFd> = lookups
                .iter()
                .zip(&got)
                .filter(|(_, g)| g.is_none())
                .map(|(l, _)| PollFd::new(l.fd(), Interest::READ))
                .collect();
            poll(&mut fds, Some(Duration::from_secs(1))).unwrap();
            for (lookup, slot) in lookups.iter_mut().zip(got.iter_mut()) {
                if slot.is_none() {
                    *slot = lookup.poll();
                }
            }
        }
        got.into_iter().flatten().collect()
    }

    fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(Instant::now() < deadline, "{what}: not after 30 s");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn many_concurrent_lookups_never_exceed_the_bound_and_answer_correctly() {
        static RUNNING: AtomicUsize = AtomicUsize::new(0);
        static MOST: AtomicUsize = AtomicUsize::new(0);
        let pool = Pool::new(
            4,
            Duration::from_secs(5),
            Box::new(|host, port| {
                let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
                MOST.fetch_max(now, Ordering::SeqCst);
                // Long enough that lookups overlap and the queue fills.
                std::thread::sleep(Duration::from_millis(2));
                RUNNING.fetch_sub(1, Ordering::SeqCst);
                fake_answer(host, port)
            }),
        );
        let mut lookups: Vec<Lookup> = (0..300)
            .map(|i| Lookup::start_on(&pool, &format!("h{i}"), 8000 + i as u16).unwrap())
            .collect();
        assert!(pool.workers() <= 4, "{} workers", pool.workers());
        let got = answers(&mut lookups);
        for (i, answer) in got.into_iter().enumerate() {
            let want = fake_answer(&format!("h{i}"), 8000 + i as u16).unwrap();
            assert_eq!(answer.unwrap(), want, "lookup {i}");
        }
        assert_eq!(pool.peak_workers(), 4, "the pool used its bound, no more");
        assert!(MOST.load(Ordering::SeqCst) <= 4, "{MOST:?} ran at once");
    }

    #[test]
    fn failures_are_answers_too() {
        let pool = Pool::new(2, Duration::from_secs(5), Box::new(fake_answer));
        let mut lookups = vec![Lookup::start_on(&pool, "no-such-name", 1).unwrap()];
        let got = answers(&mut lookups);
        let err = got.into_iter().next().unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    /// A pool of one worker whose resolver blocks on `h0` until released,
    /// and which records every name it resolves.
    struct Gated {
        pool: Arc<Pool>,
        release: mpsc::Sender<()>,
        resolved: Arc<Mutex<Vec<String>>>,
        started: mpsc::Receiver<String>,
    }

    fn gated() -> Gated {
        let (release, gate) = mpsc::channel::<()>();
        let gate = Mutex::new(gate);
        let (tell, started) = mpsc::channel::<String>();
        let tell = Mutex::new(tell);
        let resolved = Arc::new(Mutex::new(Vec::new()));
        let log = resolved.clone();
        let pool = Pool::new(
            1,
            Duration::from_secs(5),
            Box::new(move |host, port| {
                let _ = lock(&tell).send(host.to_owned());
                if host == "h0" {
                    let _ = lock(&gate).recv();
                }
                lock(&log).push(host.to_owned());
                fake_answer(host, port)
            }),
        );
        Gated {
            pool,
            release,
            resolved,
            started,
        }
    }

    #[test]
    fn a_dropped_queued_lookup_is_skipped_and_frees_its_place() {
        let g = gated();
        let mut first = Lookup::start_on(&g.pool, "h0", 1).unwrap();
        assert_eq!(g.started.recv().unwrap(), "h0", "the only worker is busy");
        let dropped = Lookup::start_on(&g.pool, "h1", 1).unwrap();
        let mut third = Lookup::start_on(&g.pool, "h2", 1).unwrap();
        assert_eq!(g.pool.queued(), 2);
        drop(dropped);
        g.release.send(()).unwrap();
        let got = answers(std::slice::from_mut(&mut third));
        assert_eq!(got.len(), 1);
        assert!(first.poll().is_some(), "the first lookup was answered");
        assert_eq!(*lock(&g.resolved), ["h0", "h2"], "h1 was never resolved");
        assert_eq!(g.pool.queued(), 0);
        assert_eq!(g.pool.peak_workers(), 1);
    }

    #[test]
    fn a_lookup_dropped_while_running_has_its_answer_discarded() {
        let g = gated();
        let running = Lookup::start_on(&g.pool, "h0", 1).unwrap();
        assert_eq!(g.started.recv().unwrap(), "h0");
        let waiter = running.waiter.clone();
        drop(running);
        g.release.send(()).unwrap();
        // The worker goes on to the next job: the slot the dropped lookup
        // held is free again.
        let mut next = Lookup::start_on(&g.pool, "h5", 2).unwrap();
        let got = answers(std::slice::from_mut(&mut next));
        assert_eq!(got[0].as_ref().unwrap()[0].port(), 2);
        let slot = lock(&waiter.slot);
        assert!(slot.answer.is_none() && slot.wake.is_none());
    }

    #[test]
    fn lookups_of_a_name_in_flight_share_one_resolve_with_their_own_ports() {
        let g = gated();
        let _busy = Lookup::start_on(&g.pool, "h0", 1).unwrap();
        assert_eq!(g.started.recv().unwrap(), "h0");
        let mut same: Vec<Lookup> = (1..=5)
            .map(|port| {
                let host = if port % 2 == 0 { "H7" } else { "h7" };
                Lookup::start_on(&g.pool, host, port).unwrap()
            })
            .collect();
        // One of them lets go: the others still get their answer.
        drop(same.remove(2));
        assert_eq!(g.pool.queued(), 1, "one job for five lookups");
        g.release.send(()).unwrap();
        let got = answers(&mut same);
        let ports: Vec<u16> = got.iter().map(|a| a.as_ref().unwrap()[0].port()).collect();
        assert_eq!(ports, [1, 2, 4, 5]);
        assert!(got
            .iter()
            .all(|a| a.as_ref().unwrap()[0].ip() == Ipv4Addr::new(10, 0, 0, 7)));
        assert_eq!(*lock(&g.resolved), ["h0", "h7"], "h7 resolved once");

        // Answered means forgotten: the next lookup asks again.
        let mut later = vec![Lookup::start_on(&g.pool, "h7", 9).unwrap()];
        answers(&mut later);
        assert_eq!(*lock(&g.resolved), ["h0", "h7", "h7"]);
    }

    #[test]
    fn idle_workers_exit_and_come_back_on_demand() {
        let pool = Pool::new(3, Duration::from_millis(50), Box::new(fake_answer));
        assert_eq!(pool.workers(), 0, "no thread before the first lookup");
        let mut lookups: Vec<Lookup> = (0..10)
            .map(|i| Lookup::start_on(&pool, &format!("h{i}"), 1).unwrap())
            .collect();
        answers(&mut lookups);
        wait_for("idle workers exit", || pool.workers() == 0);
        let mut again = vec![Lookup::start_on(&pool, "h1", 1).unwrap()];
        assert!(pool.workers() >= 1);
        assert!(answers(&mut again)[0].is_ok());
    }

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
    fn the_system_pool_answers_and_stays_within_its_bound() {
        let mut lookups: Vec<Lookup> = (0..64)
            .map(|i| Lookup::start("localhost", 7000 + i).unwrap())
            .collect();
        assert!(Pool::system().workers() <= MAX_WORKERS);
        for (i, answer) in answers(&mut lookups).into_iter().enumerate() {
            let addrs = answer.expect("localhost resolves");
            assert!(!addrs.is_empty());
            assert!(addrs
                .iter()
                .all(|a| a.port() == 7000 + i as u16 && a.ip().is_loopback()));
        }
        assert!(Pool::system().workers() <= MAX_WORKERS);
    }
}
