//! `Multi`: many transfers driven by one thread, over the same engine as
//! `Easy`.
//!
//! A connect-only transfer's connection lives while its handle stays added:
//! `send`, `recv` and `active_socket` work through the [`EasyHandle`] that
//! [`Multi::add`] returned, and stop working (the connection is closed) once
//! the handle is removed, as libcurl documents.

use std::collections::VecDeque;
use std::fmt;
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::connection::Connection;
use crate::easy::Easy;
use crate::engine::Transfer;
use crate::error::{Error, ErrorKind};
use crate::info::Info;
use crate::pool::Pool;
use crate::sys::{self, Interest, PollFd};

enum Run {
    /// Added, not started yet (the first `perform` starts it).
    Waiting,
    Running(Box<Transfer>),
    /// Finished; the message is queued or read.
    Finished,
}

struct Slot {
    easy: Easy,
    run: Run,
    token: usize,
    /// Removed from its Multi: nothing works through the handle any more.
    removed: bool,
}

/// The handle [`Multi::add`] returns: the way to the transfer and, for
/// connect-only transfers, to its connection while it stays added.
///
/// Its `send`, `recv` and friends take `&self`, so handles can live in a
/// `Vec` while the [`Multi`] runs; they answer `UnsupportedProtocol` (1)
/// while the transfer is still connecting and after it was removed.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use handover::{ConnectOnly, Easy, Multi};
///
/// let mut easy = Easy::new();
/// easy.url("https://example.com/")?;
/// easy.connect_only(ConnectOnly::Connection)?;
///
/// let mut multi = Multi::new();
/// let mut handle = multi.add(easy)?;
/// handle.set_token(7);
/// while multi.perform()? > 0 {
///     multi.wait(&mut [], Duration::from_secs(1))?;
/// }
/// let mut result = None;
/// multi.messages(|m| result = m.result_for(&handle));
/// if let Some(Ok(())) = result {
///     handle.send(b"HEAD / HTTP/1.1\r\nHost: example.com\r\n\r\n")?;
///     let conn = handle.take_connection()?; // or keep using the handle
/// }
/// # Ok::<(), handover::Error>(())
/// ```
pub struct EasyHandle {
    slot: Arc<Mutex<Slot>>,
    multi_id: usize,
}

impl fmt::Debug for EasyHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EasyHandle")
            .field("token", &self.lock().token)
            .finish()
    }
}

impl EasyHandle {
    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends a WebSocket frame (`curl_ws_send`); see [`Connection::ws_send`].
    pub fn ws_send(
        &self,
        data: &[u8],
        fragsize: u64,
        flags: crate::ws::Flags,
    ) -> Result<usize, Error> {
        self.with_connection(|easy| easy.ws_send(data, fragsize, flags))
    }

    /// Receives WebSocket payload (`curl_ws_recv`); see [`Connection::ws_recv`].
    pub fn ws_recv(&self, buf: &mut [u8]) -> Result<(usize, crate::ws::Frame), Error> {
        self.with_connection(|easy| easy.ws_recv(buf))
    }

    /// Runs `f` on the handle's `Easy` once its transfer has completed.
    pub(crate) fn with_connection<T>(
        &self,
        f: impl FnOnce(&mut Easy) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut slot = self.lock();
        if slot.removed {
            return Err(Error::new(
                ErrorKind::UnsupportedProtocol,
                "the handle was removed from its Multi; its connection is closed",
            ));
        }
        if matches!(slot.run, Run::Waiting | Run::Running(_)) {
            return Err(Error::new(
                ErrorKind::UnsupportedProtocol,
                "the transfer is still connecting; wait for its completion message",
            ));
        }
        f(&mut slot.easy)
    }

    /// A number of your choosing, given back in [`Message::token`].
    pub fn set_token(&mut self, token: usize) {
        self.lock().token = token;
    }

    /// The token set with [`set_token`](EasyHandle::set_token) (0 by default).
    pub fn token(&self) -> usize {
        self.lock().token
    }

    /// Sends on the handed-over connection without waiting (`curl_easy_send`).
    pub fn send(&self, data: &[u8]) -> Result<usize, Error> {
        self.with_connection(|easy| easy.send(data))
    }

    /// Receives from the handed-over connection without waiting (`curl_easy_recv`).
    pub fn recv(&self, data: &mut [u8]) -> Result<usize, Error> {
        self.with_connection(|easy| easy.recv(data))
    }

    /// Bytes `recv` returns without touching the socket.
    pub fn recv_buffered(&self) -> usize {
        self.lock().easy.recv_buffered()
    }

    /// Waits until `recv` has something to say (data, end of stream or an
    /// error); see [`Connection::wait_readable`]. Returns at once when TLS
    /// already holds decrypted bytes ([`recv_buffered`](EasyHandle::recv_buffered)),
    /// which the socket no longer shows as readable. `Ok(false)` on timeout;
    /// `None` waits without limit.
    ///
    /// The handle is locked while it waits: do not wait on a handle that
    /// another thread drives with [`Multi::perform`] meanwhile.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn demo(handle: &handover::EasyHandle) -> Result<(), handover::Error> {
    /// use std::time::Duration;
    ///
    /// let mut buf = [0u8; 4096];
    /// loop {
    ///     match handle.recv(&mut buf) {
    ///         Ok(0) => break,                          // closed in order
    ///         Ok(n) => println!("{n} bytes"),
    ///         Err(e) if e.is_again() => {
    ///             if !handle.wait_readable(Some(Duration::from_secs(5)))? {
    ///                 break;                           // nothing for 5 s
    ///             }
    ///         }
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait_readable(&self, timeout: Option<Duration>) -> Result<bool, Error> {
        self.with_connection(|easy| easy.wait_readable(timeout))
    }

    /// Waits until `send` can take bytes, pushing queued TLS records
    /// meanwhile; see [`Connection::wait_writable`]. `Ok(false)` on timeout.
    /// The handle is locked while it waits, as with
    /// [`wait_readable`](EasyHandle::wait_readable).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn demo(handle: &handover::EasyHandle) -> Result<(), handover::Error> {
    /// use std::time::Duration;
    ///
    /// let request = b"PING\r\n";
    /// let mut sent = 0;
    /// while sent < request.len() {
    ///     match handle.send(&request[sent..]) {
    ///         Ok(n) => sent += n,
    ///         Err(e) if e.is_again() => {
    ///             handle.wait_writable(Some(Duration::from_secs(5)))?;
    ///         }
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait_writable(&self, timeout: Option<Duration>) -> Result<bool, Error> {
        self.with_connection(|easy| easy.wait_writable(timeout))
    }

    /// Every header of the transfer's final response as `(name, value)`, in
    /// arrival order; see [`Easy::response_header_list`]. Empty while
    /// connecting and when no HTTP response was read.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn demo(handle: &handover::EasyHandle) {
    /// for (name, value) in handle.response_header_list() {
    ///     println!("{name}: {value}");
    /// }
    /// # }
    /// ```
    pub fn response_header_list(&self) -> Vec<(String, String)> {
        self.lock()
            .easy
            .response_header_list()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }

    /// The connection's socket (`CURLINFO_ACTIVESOCKET`); `None` while
    /// connecting, after a failure and after removal.
    pub fn active_socket(&self) -> Option<RawFd> {
        let slot = self.lock();
        if slot.removed {
            return None;
        }
        slot.easy.active_socket()
    }

    /// Moves the handed-over connection out; it then lives on its own,
    /// whatever happens to the handle.
    pub fn take_connection(&self) -> Result<Connection, Error> {
        self.with_connection(Easy::take_connection)
    }

    /// What the transfer learned so far (`curl_easy_getinfo`).
    pub fn info(&self) -> Info {
        self.lock().easy.info().clone()
    }
}

/// A descriptor of the application's to wait on in [`Multi::wait`]
/// (`struct curl_waitfd`).
///
/// # Examples
///
/// ```no_run
/// use std::os::fd::AsRawFd;
/// use std::time::Duration;
/// use handover::{Multi, WaitFd};
///
/// let mut multi = Multi::new();
/// // ... transfers added ...
/// let mut stdin = WaitFd::new();
/// stdin.set_fd(std::io::stdin().as_raw_fd());
/// stdin.poll_on_read(true);
/// let mut extra = [stdin];
/// multi.wait(&mut extra, Duration::from_secs(1))?;
/// if extra[0].received_read() {
///     // a line to read on standard input
/// }
/// multi.perform()?;
/// # Ok::<(), handover::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct WaitFd {
    fd: RawFd,
    read: bool,
    write: bool,
    got_read: bool,
    got_write: bool,
}

impl WaitFd {
    /// An entry for no descriptor yet.
    pub fn new() -> WaitFd {
        WaitFd {
            fd: -1,
            ..WaitFd::default()
        }
    }

    /// The descriptor to wait on.
    pub fn set_fd(&mut self, fd: RawFd) {
        self.fd = fd;
    }

    /// Wait for readability.
    pub fn poll_on_read(&mut self, on: bool) -> &mut WaitFd {
        self.read = on;
        self
    }

    /// Wait for writability.
    pub fn poll_on_write(&mut self, on: bool) -> &mut WaitFd {
        self.write = on;
        self
    }

    /// After a wait: the descriptor is readable.
    pub fn received_read(&self) -> bool {
        self.got_read
    }

    /// After a wait: the descriptor is writable.
    pub fn received_write(&self) -> bool {
        self.got_write
    }
}

/// A transfer finished (`CURLMSG_DONE`), as [`Multi::messages`] hands it
/// over.
///
/// # Examples
///
/// ```no_run
/// # fn demo(multi: &mut handover::Multi) {
/// multi.messages(|message| match message.result() {
///     Ok(()) => println!("transfer {} is done", message.token()),
///     Err(e) => eprintln!("transfer {} failed: {e} ({})", message.token(), e.code()),
/// });
/// # }
/// ```
#[derive(Debug)]
pub struct Message {
    token: usize,
    slot: Arc<Mutex<Slot>>,
    result: Result<(), Error>,
}

impl Message {
    /// The token of the finished transfer's handle.
    pub fn token(&self) -> usize {
        self.token
    }

    /// The transfer's result.
    pub fn result(&self) -> Result<(), Error> {
        self.result.clone()
    }

    /// True when this message is about `handle`.
    pub fn is_for(&self, handle: &EasyHandle) -> bool {
        Arc::ptr_eq(&self.slot, &handle.slot)
    }

    /// The result, if this message is about `handle`.
    pub fn result_for(&self, handle: &EasyHandle) -> Option<Result<(), Error>> {
        self.is_for(handle).then(|| self.result.clone())
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot").field("token", &self.token).finish()
    }
}

/// Many transfers on one thread (libcurl's multi handle).
///
/// Add [`Easy`] handles with [`add`](Multi::add), then call
/// [`perform`](Multi::perform) and [`wait`](Multi::wait) in turn until no
/// transfer runs; completions arrive through [`messages`](Multi::messages).
/// A connect-only connection stays with its [`EasyHandle`] while the
/// handle is added.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use handover::{ConnectOnly, Easy, Multi};
///
/// let mut multi = Multi::new();
/// let mut handles = Vec::new();
/// for (token, url) in ["https://one.example/", "https://two.example/"].iter().enumerate() {
///     let mut easy = Easy::new();
///     easy.url(url)?;
///     easy.connect_only(ConnectOnly::Connection)?;
///     let mut handle = multi.add(easy)?;
///     handle.set_token(token);
///     handles.push(handle);
/// }
///
/// while multi.perform()? > 0 {
///     multi.wait(&mut [], Duration::from_secs(1))?;
/// }
/// multi.messages(|m| println!("#{}: {:?}", m.token(), m.result()));
///
/// for handle in &handles {
///     if handle.active_socket().is_some() {
///         handle.send(b"hello")?; // each connection, still in the Multi
///     }
/// }
/// // Removing a handle closes its connection and gives the Easy back.
/// let easy = multi.remove(handles.remove(0))?;
/// # Ok::<(), handover::Error>(())
/// ```
pub struct Multi {
    id: usize,
    slots: Vec<Arc<Mutex<Slot>>>,
    messages: VecDeque<Message>,
    fds: Vec<PollFd>,
    /// Which slot each entry of `fds` belongs to.
    owners: Vec<usize>,
    /// After a wait: the slots with a ready descriptor. `perform` then steps
    /// only those (and any whose deadline passed) instead of every transfer.
    ready: Option<Vec<bool>>,
    /// The idle connections every handle's transfers share (libcurl's
    /// multi connection cache).
    pool: Pool,
}

impl Default for Multi {
    fn default() -> Multi {
        Multi::new()
    }
}

impl fmt::Debug for Multi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multi")
            .field("handles", &self.slots.len())
            .finish()
    }
}

fn lock(slot: &Mutex<Slot>) -> MutexGuard<'_, Slot> {
    slot.lock().unwrap_or_else(|p| p.into_inner())
}

impl Multi {
    /// An empty multi handle.
    pub fn new() -> Multi {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT_ID: AtomicUsize = AtomicUsize::new(1);
        Multi {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            slots: Vec::new(),
            messages: VecDeque::new(),
            fds: Vec::new(),
            owners: Vec::new(),
            ready: None,
            pool: Pool::default(),
        }
    }

    /// Adds a transfer; it starts on the next [`perform`](Multi::perform).
    /// Its TLS configurations are prepared here (CA files read, the system
    /// store loaded, once per process and option set), so that `perform`
    /// never touches the file system.
    pub fn add(&mut self, mut easy: Easy) -> Result<EasyHandle, Error> {
        easy.prepare_tls();
        let slot = Arc::new(Mutex::new(Slot {
            easy,
            run: Run::Waiting,
            token: 0,
            removed: false,
        }));
        self.slots.push(slot.clone());
        self.ready = None;
        // libcurl's CURLMOPT_MAXCONNECTS default: four per added handle.
        self.pool
            .set_limit((self.slots.len() * 4).max(crate::pool::EASY_MAX_IDLE));
        Ok(EasyHandle {
            slot,
            multi_id: self.id,
        })
    }

    /// Takes a transfer out and gives its `Easy` back. A connect-only
    /// connection still attached to it is closed, as in libcurl.
    pub fn remove(&mut self, handle: EasyHandle) -> Result<Easy, Error> {
        if handle.multi_id != self.id {
            return Err(Error::new(
                ErrorKind::BadFunctionArgument,
                "the handle belongs to another Multi",
            ));
        }
        self.slots.retain(|s| !Arc::ptr_eq(s, &handle.slot));
        self.ready = None;
        self.messages
            .retain(|m| !Arc::ptr_eq(&m.slot, &handle.slot));
        let mut slot = handle.lock();
        slot.removed = true;
        slot.run = Run::Finished;
        let mut easy = std::mem::take(&mut slot.easy);
        easy.conn = None;
        Ok(easy)
    }

    /// Advances every transfer as far as it goes without waiting; returns
    /// how many are still running (`curl_multi_perform`).
    pub fn perform(&mut self) -> Result<u32, Error> {
        let now = Instant::now();
        let mut running = 0;
        let ready = self.ready.take();
        for (index, shared) in self.slots.iter().enumerate() {
            let mut slot = lock(shared);
            let slot = &mut *slot;
            if let Run::Waiting = slot.run {
                match slot.easy.start(Some(&mut self.pool)) {
                    Ok(t) => slot.run = Run::Running(Box::new(t)),
                    Err(e) => {
                        slot.run = Run::Finished;
                        self.messages.push_back(Message {
                            token: slot.token,
                            slot: shared.clone(),
                            result: Err(e),
                        });
                        continue;
                    }
                }
            }
            let Run::Running(transfer) = &mut slot.run else {
                continue;
            };
            // Body bytes bound for stdout wait while its queue is full (the
            // poll thread never waits on stdout); a due deadline still runs.
            if slot.easy.writes_to_stdout()
                && crate::output::stdout_paused().is_some()
                && transfer.next_deadline().is_none_or(|d| d > now)
            {
                running += 1;
                continue;
            }
            // After a wait, a transfer with nothing ready and no deadline due
            // has nothing to do: skip it rather than probe its sockets.
            let idle = ready
                .as_ref()
                .is_some_and(|r| !r.get(index).copied().unwrap_or(true))
                && !transfer.ready_now()
                && transfer.next_deadline().is_none_or(|d| d > now);
            if idle {
                running += 1;
                continue;
            }
            // A fresh clock per transfer: timings must not go stale across
            // a long pass over many transfers.
            let outcome = match transfer.drive(Instant::now()) {
                Ok(false) => {
                    running += 1;
                    continue;
                }
                Ok(true) => Ok(()),
                Err(e) => Err(e),
            };
            let result = slot.easy.finish(transfer, outcome, Some(&mut self.pool));
            slot.run = Run::Finished;
            self.messages.push_back(Message {
                token: slot.token,
                slot: shared.clone(),
                result,
            });
        }
        Ok(running)
    }

    /// When `perform` must be called at the latest, if any transfer runs
    /// (`curl_multi_timeout`).
    pub fn timeout(&self) -> Option<Duration> {
        let now = Instant::now();
        let mut earliest: Option<Instant> = None;
        let paused = crate::output::stdout_paused().is_some();
        for shared in &self.slots {
            let slot = lock(shared);
            let held_back = paused && slot.easy.writes_to_stdout();
            match &slot.run {
                Run::Waiting => return Some(Duration::ZERO),
                Run::Running(t) if t.ready_now() && !held_back => return Some(Duration::ZERO),
                Run::Running(t) => {
                    if let Some(d) = t.next_deadline() {
                        earliest = Some(earliest.map_or(d, |e| e.min(d)));
                    }
                }
                Run::Finished => {}
            }
        }
        earliest.map(|e| e.saturating_duration_since(now))
    }

    /// Waits until a transfer or one of `extra` needs attention, at most
    /// `timeout` (`curl_multi_wait`). Returns how many descriptors are
    /// ready. Like libcurl, returns at once when there is nothing to wait on.
    pub fn wait(&mut self, extra: &mut [WaitFd], timeout: Duration) -> Result<u32, Error> {
        self.wait_inner(extra, timeout, false)
    }

    /// As [`wait`](Multi::wait), but sleeps the whole timeout even when
    /// there is nothing to wait on (`curl_multi_poll`).
    pub fn poll(&mut self, extra: &mut [WaitFd], timeout: Duration) -> Result<u32, Error> {
        self.wait_inner(extra, timeout, true)
    }

    fn wait_inner(
        &mut self,
        extra: &mut [WaitFd],
        timeout: Duration,
        sleep_when_idle: bool,
    ) -> Result<u32, Error> {
        let mut fds = std::mem::take(&mut self.fds);
        let mut owners = std::mem::take(&mut self.owners);
        fds.clear();
        owners.clear();
        let mut limit = timeout;
        let now = Instant::now();
        // While stdout's queue is full, transfers writing there wait on its
        // room descriptor instead of their sockets.
        let paused = crate::output::stdout_paused();
        let mut held_back = Vec::new();
        for (index, shared) in self.slots.iter().enumerate() {
            let slot = lock(shared);
            match &slot.run {
                Run::Waiting => limit = Duration::ZERO,
                Run::Running(t) if paused.is_some() && slot.easy.writes_to_stdout() => {
                    held_back.push(index);
                    if let Some(d) = t.next_deadline() {
                        limit = limit.min(d.saturating_duration_since(now));
                    }
                }
                Run::Running(t) => {
                    t.pollset(&mut fds);
                    owners.resize(fds.len(), index);
                    if t.ready_now() {
                        limit = Duration::ZERO;
                    }
                    if let Some(d) = t.next_deadline() {
                        limit = limit.min(d.saturating_duration_since(now));
                    }
                }
                Run::Finished => {}
            }
        }
        let room_at = match paused {
            Some(fd) if !held_back.is_empty() => {
                fds.push(PollFd::new(fd, Interest::READ));
                owners.push(usize::MAX);
                Some(fds.len() - 1)
            }
            _ => None,
        };
        let own = fds.len();
        for w in extra.iter() {
            fds.push(PollFd::new(
                w.fd,
                Interest {
                    read: w.read,
                    write: w.write,
                },
            ));
        }
        let ready = if fds.is_empty() && !sleep_when_idle {
            0
        } else {
            sys::poll(&mut fds, Some(limit))
                .map_err(|e| Error::from_io(ErrorKind::UnrecoverablePoll, "poll failed", &e))?
        };
        for (w, fd) in extra.iter_mut().zip(fds.iter().skip(own)) {
            w.got_read = w.read && fd.readable();
            w.got_write = w.write && fd.writable();
        }
        let mut hint = vec![false; self.slots.len()];
        for (fd, &owner) in fds.iter().zip(&owners) {
            if fd.any() {
                if let Some(flag) = hint.get_mut(owner) {
                    *flag = true;
                }
            }
        }
        if room_at.is_some_and(|at| fds.get(at).is_some_and(PollFd::any)) {
            for index in held_back {
                if let Some(flag) = hint.get_mut(index) {
                    *flag = true;
                }
            }
        }
        self.ready = Some(hint);
        let ready = fds.iter().filter(|f| f.any()).count().min(ready);
        self.fds = fds;
        self.owners = owners;
        Ok(ready as u32)
    }

    /// Hands each completion message to `f`, oldest first, and forgets
    /// them (`curl_multi_info_read`).
    pub fn messages<F: FnMut(Message)>(&mut self, mut f: F) {
        while let Some(m) = self.messages.pop_front() {
            f(m);
        }
    }

    /// How many handles are added.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when no handle is added.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

impl Drop for Multi {
    fn drop(&mut self) {
        // Body bytes its transfers queued for stdout go out first, as libc
        // flushes stdout at exit. A write error has no one left to hear it.
        if self.slots.iter().any(|s| lock(s).easy.writes_to_stdout()) {
            let _ = crate::output::flush_stdout();
        }
        // As curl_multi_cleanup: every connection of every added handle closes.
        for shared in &self.slots {
            let mut slot = lock(shared);
            slot.removed = true;
            // Transfers still connecting close their sockets and lookups too.
            slot.run = Run::Finished;
            slot.easy.conn = None;
        }
    }
}
