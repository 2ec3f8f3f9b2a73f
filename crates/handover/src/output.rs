//! Standard output for body bytes when the application set no write
//! callback (libcurl's default write function writes them to stdout),
//! written by a thread of its own so that the poll thread never waits on a
//! slow reader of stdout.
//!
//! ```text
//!   deliver ──push──> queue ──> writer thread ──write_all──> fd 1
//!                       │
//!                       ├─ ≥ PAUSE_AT:   paused() gives a descriptor; Multi stops
//!                       │                driving the transfers that write here and
//!                       │                waits on it (readable once the queue drains)
//!                       └─ ≥ HARD_LIMIT: push waits (the one transfer of Easy::perform,
//!                                        which nothing else shares its thread with)
//! ```
//!
//! Why a thread: a non-blocking write needs `O_NONBLOCK` on fd 1, and that
//! flag lives in the open file description, shared with the shell and every
//! other process writing to the same terminal or pipe; setting it would
//! break them. The writer thread keeps fd 1 blocking and the poll thread
//! free. It starts with the first body byte and then stays, as stdout does.
//!
//! Order: bytes go out in the order pushed, through `std::io::stdout()`, so
//! they interleave with the application's `print!` as before. `Easy::perform`
//! returns only once its bytes are written; a `Multi` completion message can
//! arrive while its last bytes are still queued, and dropping the `Multi`
//! waits for them. A process that ends with `std::process::exit` while bytes
//! are queued loses them (as with a `BufWriter` that is never flushed).
//!
//! A failed write (stdout closed) is remembered: every later push and flush
//! fails with `CURLE_WRITE_ERROR` (23), as every later `fwrite` would.

use std::io::{self, Write as _};
use std::os::fd::RawFd;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};

use crate::error::{Error, ErrorKind};
use crate::sys::Wake;

/// Queued bytes from which transfers writing here are paused.
pub(crate) const PAUSE_AT: usize = 1 << 20;

/// Queued bytes from which a push waits for the writer. Only a caller that
/// ignores [`Output::paused`] gets here: `Easy::perform`, whose thread runs
/// nothing else, and a `Multi` pass that overshoots by one drive at most.
pub(crate) const HARD_LIMIT: usize = 4 << 20;

/// Where the writer thread puts the bytes.
type Sink = dyn Fn(&[u8]) -> io::Result<()> + Send + Sync;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn write_error() -> Error {
    Error::new(
        ErrorKind::WriteError,
        "Failure writing output to destination",
    )
}

/// A byte queue drained by one writer thread into a sink.
pub(crate) struct Output {
    state: Mutex<State>,
    /// Signalled on every change: bytes queued, bytes written, a failure.
    changed: Condvar,
    /// Readable when a paused transfer may go on; `None` if the system
    /// gave no descriptor (then nothing pauses and the hard limit bounds).
    room: Option<Wake>,
    sink: Box<Sink>,
}

#[derive(Default)]
struct State {
    queue: Vec<u8>,
    /// Bytes the writer took and is writing now.
    in_flight: usize,
    failed: bool,
    writer_started: bool,
    /// A caller was told to wait on `room`: wake it once the queue drains.
    room_wanted: bool,
}

impl State {
    fn queued(&self) -> usize {
        self.queue.len() + self.in_flight
    }
}

impl Output {
    /// An output to `sink`; its writer thread starts with the first push.
    pub(crate) fn new(sink: Box<Sink>) -> Arc<Output> {
        Arc::new(Output {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            room: Wake::new().ok(),
            sink,
        })
    }

    /// Queues `data` for the writer. Returns at once below [`HARD_LIMIT`];
    /// fails once a write has failed.
    pub(crate) fn push(self: &Arc<Output>, data: &[u8]) -> Result<(), Error> {
        let mut state = lock(&self.state);
        while state.queued() >= HARD_LIMIT && !state.failed {
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        if state.failed {
            return Err(write_error());
        }
        if !state.writer_started {
            let me = self.clone();
            std::thread::Builder::new()
                .name("handover-stdout".to_owned())
                .spawn(move || me.write_loop())
                .map_err(|e| {
                    Error::from_io(ErrorKind::WriteError, "cannot start the stdout writer", &e)
                })?;
            state.writer_started = true;
        }
        state.queue.extend_from_slice(data);
        self.changed.notify_all();
        Ok(())
    }

    /// `None` while there is room; otherwise the descriptor that turns
    /// readable once the queue has drained (or the output failed), for a
    /// caller that stops feeding it meanwhile.
    pub(crate) fn paused(&self) -> Option<RawFd> {
        let room = self.room.as_ref()?;
        let mut state = lock(&self.state);
        if state.queued() < PAUSE_AT || state.failed {
            return None;
        }
        if !state.room_wanted {
            room.reset();
            state.room_wanted = true;
        }
        Some(room.fd())
    }

    /// Waits until every byte queued so far is written.
    pub(crate) fn flush(&self) -> Result<(), Error> {
        let mut state = lock(&self.state);
        while state.queued() > 0 && !state.failed {
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        if state.failed {
            return Err(write_error());
        }
        Ok(())
    }

    fn write_loop(&self) {
        let mut batch = Vec::new();
        let mut state = lock(&self.state);
        loop {
            while state.queue.is_empty() {
                state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
            }
            // Take everything queued: one write for many small pushes.
            std::mem::swap(&mut state.queue, &mut batch);
            state.in_flight = batch.len();
            drop(state);
            let ok = (self.sink)(&batch).is_ok();
            batch.clear();
            state = lock(&self.state);
            state.in_flight = 0;
            if !ok {
                state.failed = true;
                state.queue = Vec::new();
            }
            if state.room_wanted && (state.queued() < PAUSE_AT || state.failed) {
                state.room_wanted = false;
                if let Some(room) = &self.room {
                    room.wake();
                }
            }
            self.changed.notify_all();
        }
    }
}

static STDOUT: OnceLock<Arc<Output>> = OnceLock::new();

/// The process's stdout writer, created on first use.
fn stdout() -> &'static Arc<Output> {
    STDOUT.get_or_init(|| {
        Output::new(Box::new(|bytes| {
            let mut out = io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()
        }))
    })
}

/// Queues body bytes for standard output; never waits below
/// [`HARD_LIMIT`].
pub(crate) fn push_stdout(data: &[u8]) -> Result<(), Error> {
    stdout().push(data)
}

/// The descriptor to wait on while stdout's queue is full, if it is.
pub(crate) fn stdout_paused() -> Option<RawFd> {
    STDOUT.get()?.paused()
}

/// Waits until every body byte queued for stdout is written.
pub(crate) fn flush_stdout() -> Result<(), Error> {
    match STDOUT.get() {
        Some(out) => out.flush(),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::{poll, Interest, PollFd};
    use std::time::{Duration, Instant};

    /// How the test sink answers: hold every write, let them through, or
    /// fail them.
    #[derive(Clone, Copy, PartialEq)]
    enum Gate {
        Hold,
        Pass,
        Fail,
    }

    struct Gated {
        out: Arc<Output>,
        gate: Arc<(Mutex<Gate>, Condvar)>,
        written: Arc<Mutex<Vec<u8>>>,
    }

    impl Gated {
        fn set(&self, to: Gate) {
            *lock(&self.gate.0) = to;
            self.gate.1.notify_all();
        }
    }

    /// An output whose sink records bytes and waits while the gate holds.
    fn gated() -> Gated {
        let gate = Arc::new((Mutex::new(Gate::Hold), Condvar::new()));
        let written = Arc::new(Mutex::new(Vec::new()));
        let (g, log) = (gate.clone(), written.clone());
        let out = Output::new(Box::new(move |bytes| {
            let mut now = lock(&g.0);
            while *now == Gate::Hold {
                now = g.1.wait(now).unwrap_or_else(|p| p.into_inner());
            }
            if *now == Gate::Fail {
                return Err(io::Error::from(io::ErrorKind::BrokenPipe));
            }
            lock(&log).extend_from_slice(bytes);
            Ok(())
        }));
        Gated { out, gate, written }
    }

    fn readable(fd: RawFd, wait: Duration) -> bool {
        let mut fds = [PollFd::new(fd, Interest::READ)];
        poll(&mut fds, Some(wait)).unwrap();
        fds[0].readable()
    }

    #[test]
    fn pushes_return_at_once_while_the_writer_is_stuck_and_pause_past_the_limit() {
        let g = gated();
        let out = &g.out;
        let chunk = vec![7u8; 64 * 1024];
        let started = Instant::now();
        let mut pushed = 0;
        while out.paused().is_none() {
            out.push(&chunk).unwrap();
            pushed += chunk.len();
            assert!(pushed <= PAUSE_AT + chunk.len());
        }
        assert!(started.elapsed() < Duration::from_secs(5), "a push waited");
        let fd = out.paused().expect("paused");
        assert!(!readable(fd, Duration::from_millis(20)), "no room yet");
        g.set(Gate::Pass);
        assert!(readable(fd, Duration::from_secs(10)), "room came back");
        out.flush().unwrap();
        assert_eq!(out.paused(), None);
        assert_eq!(lock(&g.written).len(), pushed);
    }

    #[test]
    fn bytes_come_out_in_order() {
        let g = gated();
        for i in 0..100u8 {
            g.out.push(&[i; 3]).unwrap();
        }
        g.set(Gate::Pass);
        g.out.flush().unwrap();
        let want: Vec<u8> = (0..100u8).flat_map(|i| [i; 3]).collect();
        assert_eq!(*lock(&g.written), want);
    }

    #[test]
    fn a_failed_write_fails_later_pushes_and_flushes_and_wakes_waiters() {
        let g = gated();
        let out = &g.out;
        let chunk = vec![1u8; PAUSE_AT];
        out.push(&chunk).unwrap();
        out.push(&chunk).unwrap();
        let fd = out.paused().expect("paused");
        g.set(Gate::Fail);
        assert!(readable(fd, Duration::from_secs(10)), "a waiter is woken");
        assert_eq!(out.flush().unwrap_err().kind(), ErrorKind::WriteError);
        assert_eq!(out.push(b"x").unwrap_err().kind(), ErrorKind::WriteError);
        assert_eq!(out.paused(), None);
    }

    /// An HTTP/1.1 origin on loopback that answers one request with `body`.
    fn origin(body: Vec<u8>) -> (u16, std::thread::JoinHandle<()>) {
        use std::io::Read as _;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let serve = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let reply = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
            let _ = conn.write_all(reply.as_bytes());
            let _ = conn.write_all(&body);
        });
        (port, serve)
    }

    #[test]
    fn a_multi_pauses_a_transfer_writing_to_a_stuck_stdout_instead_of_blocking() {
        let g = gated();
        if STDOUT.set(g.out.clone()).is_err() {
            eprintln!("skipped: this test process already writes to the real stdout");
            return;
        }
        let body: Vec<u8> = (0..8 << 20).map(|i: u32| (i % 251) as u8).collect();
        let (port, serve) = origin(body.clone());
        let mut easy = crate::Easy::new();
        easy.url(&format!("http://127.0.0.1:{port}/")).unwrap();
        easy.timeout(Duration::from_secs(60)).unwrap();
        let mut multi = crate::Multi::new();
        let _handle = multi.add(easy).unwrap();

        // stdout takes nothing: the transfer fills the queue and pauses,
        // and neither perform nor wait ever blocks or spins.
        let until = Instant::now() + Duration::from_secs(30);
        while g.out.paused().is_none() {
            assert!(Instant::now() < until, "never paused");
            let started = Instant::now();
            assert_eq!(multi.perform().unwrap(), 1);
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "perform blocked"
            );
            multi.wait(&mut [], Duration::from_millis(10)).unwrap();
        }
        for _ in 0..3 {
            let started = Instant::now();
            assert_eq!(multi.perform().unwrap(), 1, "the transfer waits");
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "perform blocked"
            );
            let started = Instant::now();
            multi.wait(&mut [], Duration::from_millis(100)).unwrap();
            assert!(
                started.elapsed() >= Duration::from_millis(50),
                "wait returned at once: it polls the paused transfer's socket"
            );
        }
        assert!(lock(&g.out.state).queued() < HARD_LIMIT);

        // stdout drains: the transfer goes on and every byte arrives in order.
        g.set(Gate::Pass);
        let mut result = None;
        while result.is_none() {
            assert!(Instant::now() < until, "never finished");
            multi.perform().unwrap();
            multi.messages(|m| result = Some(m.result()));
            multi.wait(&mut [], Duration::from_millis(10)).unwrap();
        }
        result.unwrap().unwrap();
        g.out.flush().unwrap();
        assert!(*lock(&g.written) == body, "the body came out changed");
        serve.join().unwrap();
    }
}
