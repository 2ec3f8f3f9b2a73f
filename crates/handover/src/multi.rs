//! `Multi`: many transfers driven by one thread, over the same engine as
//! `Easy` — by `perform` and `wait`/`poll`, or event-driven by the
//! application's own loop (libcurl's `curl_multi_socket_action`).
//!
//! ```text
//!   add ──> Waiting ──plan──> Pending ──launch──> Running ──drive──> Finished ──> message
//!                              (connection        (Transfer:        (connect-only: the
//!                               limits full)       pollset,          connection stays with
//!                                                  deadline)         the handle until removed)
//!
//!   perform ── steps every transfer (after a wait, only the ready ones)
//!   action(fd) ── steps the transfer that owns fd, then every one whose
//!                 deadline passed; after each step the transfer's pollset is
//!                 compared with what the socket function was last told
//!                 (add / change / remove only), and the earliest deadline
//!                 with what the timer function was last told
//! ```
//!
//! A connect-only transfer's connection lives while its handle stays added:
//! `send`, `recv` and `active_socket` work through the [`EasyHandle`] that
//! [`Multi::add`] returned, and stop working (the connection is closed) once
//! the handle is removed, as libcurl documents.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::connection::Connection;
use crate::easy::Easy;
use crate::engine::{Transfer, Wanted};
use crate::error::{Error, ErrorKind};
use crate::info::Info;
use crate::pool::Pool;
use crate::sys::{self, Interest, PollFd, Wake};

/// Where a transfer stands in its `Multi`.
enum Run {
    /// Added, not started yet (the next step plans it).
    Waiting,
    /// Planned; waits for the connection limits to let it open a connection.
    Pending(Box<Transfer>),
    Running(Box<Transfer>),
    /// Finished; the message is queued or read.
    Finished,
}

/// The `Easy` of an added transfer: moved into the `Multi`, or lent (it
/// stays where it lives, as a C `CURL *` keeps its own).
// The slot is on the heap already and `Own` is the common case: a box more
// per transfer would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Held {
    Own(Easy),
    Lent(Box<dyn LentEasy>),
}

impl Held {
    /// Runs `f` on the `Easy`; `None` when a lender did not lend it.
    fn with<T>(&mut self, f: impl FnOnce(&mut Easy) -> T) -> Option<T> {
        match self {
            Held::Own(easy) => Some(f(easy)),
            Held::Lent(lent) => {
                let mut f = Some(f);
                let mut out = None;
                lent.lend(&mut |easy| {
                    if let Some(f) = f.take() {
                        out = Some(f(easy));
                    }
                });
                out
            }
        }
    }
}

fn not_lent() -> Error {
    Error::new(
        ErrorKind::FailedInit,
        "the lent Easy of this transfer was not lent to its Multi",
    )
}

/// An [`Easy`] that stays where it lives while it is added to a [`Multi`]
/// ([`Multi::add_lent`]): the `Multi` borrows it through this whenever it
/// starts or finishes the transfer, or a handle call needs it, and never
/// keeps it across a call. It is how libcurl's C interface keeps a `CURL *`
/// usable (options, infos, `curl_easy_send`) while the handle sits in a
/// multi handle; Rust code gives its `Easy` to [`Multi::add`] instead.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use handover::{Easy, LentEasy, Multi};
///
/// /// An `Easy` the application keeps behind a lock of its own.
/// struct Shared(Arc<Mutex<Easy>>);
///
/// impl LentEasy for Shared {
///     fn lend(&mut self, f: &mut dyn FnMut(&mut Easy)) {
///         f(&mut self.0.lock().unwrap());
///     }
/// }
///
/// let easy = Arc::new(Mutex::new(Easy::new()));
/// let mut multi = Multi::new();
/// let handle = multi.add_lent(Box::new(Shared(easy.clone())))?;
/// assert_eq!(easy.lock().unwrap().perform().unwrap_err().code(), 2); // added
/// multi.remove(handle)?;
/// # Ok::<(), handover::Error>(())
/// ```
pub trait LentEasy: Send {
    /// Calls `f` once with the lent `Easy`. The `Multi` calls no method of
    /// its own from `f`; the `Easy` is the lender's again when `f` returns.
    fn lend(&mut self, f: &mut dyn FnMut(&mut Easy));

    /// Called when the `Multi` starts the transfer, before it plans it from
    /// the `Easy`'s options (not when it is added: libcurl reads the
    /// options when the transfer starts, so one set between adding and
    /// the first `perform` counts). A lender that keeps settings beside
    /// the `Easy` gives them to it here; an error ends the transfer with
    /// it. The default does nothing.
    fn starting(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// The first hop a connection counts against: host (lowercased) and port.
type HostKey = (String, u16);

/// Connections of added transfers, for `max_total_connections` and
/// `max_host_connections` (idle pooled ones are counted by the pool).
#[derive(Default)]
struct ConnCounts {
    total: usize,
    by_host: HashMap<HostKey, usize>,
    /// Connections let go since the `Multi` last looked: as many pending
    /// transfers get a chance.
    freed: usize,
}

impl ConnCounts {
    fn add(&mut self, host: &HostKey) {
        self.total += 1;
        *self.by_host.entry(host.clone()).or_default() += 1;
    }

    fn sub(&mut self, host: &HostKey) {
        self.total = self.total.saturating_sub(1);
        if let Some(n) = self.by_host.get_mut(host) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.by_host.remove(host);
            }
        }
        self.freed += 1;
    }
}

struct Slot {
    easy: Held,
    run: Run,
    token: usize,
    /// Removed from its Multi: nothing works through the handle any more.
    removed: bool,
    /// The slot's name in its Multi, in the order of adding.
    serial: u64,
    /// The transfer writes its body to stdout (no write callback): it
    /// waits while stdout's queue is full.
    to_stdout: bool,
    /// What the socket function was last told about this transfer's
    /// descriptors.
    announced: Vec<Wanted>,
    /// The moment registered in the Multi's timer queue.
    due: Option<Instant>,
    /// The connection this transfer holds counts against this first hop.
    counted: Option<HostKey>,
    counts: Arc<Mutex<ConnCounts>>,
    /// The pool the planned transfer takes a connection from and gives it
    /// back to: its share's, or the Multi's.
    pool: Option<Pool>,
}

impl Slot {
    /// The transfer no longer holds a connection of the Multi's limits.
    fn uncount(&mut self) {
        if let Some(host) = self.counted.take() {
            lock(&self.counts).sub(&host);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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
    serial: u64,
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
        lock(&self.slot)
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
        if !matches!(slot.run, Run::Finished) {
            return Err(Error::new(
                ErrorKind::UnsupportedProtocol,
                "the transfer is still connecting; wait for its completion message",
            ));
        }
        slot.easy.with(f).unwrap_or_else(|| Err(not_lent()))
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
        self.lock().easy.with(|e| e.recv_buffered()).unwrap_or(0)
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
            .with(|e| {
                e.response_header_list()
                    .map(|(name, value)| (name.to_owned(), value.to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The connection's socket (`CURLINFO_ACTIVESOCKET`); `None` while
    /// connecting, after a failure and after removal.
    pub fn active_socket(&self) -> Option<RawFd> {
        let mut slot = self.lock();
        if slot.removed {
            return None;
        }
        slot.easy.with(|e| e.active_socket()).flatten()
    }

    /// What libcurl's `CURLINFO_ACTIVESOCKET` answers: the handed-over
    /// connection's socket, else that of the connection the finished
    /// ordinary transfer kept alive while it waits idle in the pool — the
    /// share's when the handle shares connections, else the Multi's; see
    /// [`Easy::last_socket`]. `None` after removal.
    pub fn last_socket(&self) -> Option<RawFd> {
        let mut slot = self.lock();
        if slot.removed {
            return None;
        }
        slot.easy.with(|e| e.last_socket()).flatten()
    }

    /// Moves the handed-over connection out; it then lives on its own,
    /// whatever happens to the handle.
    pub fn take_connection(&self) -> Result<Connection, Error> {
        let conn = self.with_connection(Easy::take_connection)?;
        // It no longer counts against the Multi's connection limits.
        self.lock().uncount();
        Ok(conn)
    }

    /// What the transfer learned so far (`curl_easy_getinfo`).
    pub fn info(&self) -> Info {
        self.lock()
            .easy
            .with(|e| e.info().clone())
            .unwrap_or_default()
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

    /// The descriptor.
    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// Whether it is waited on for readability.
    pub fn waits_for_read(&self) -> bool {
        self.read
    }

    /// Whether it is waited on for writability.
    pub fn waits_for_write(&self) -> bool {
        self.write
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

/// What the socket function hears about a descriptor: the events to wait
/// for (libcurl's `CURL_POLL_IN`, `CURL_POLL_OUT`, `CURL_POLL_INOUT`), or
/// that it is no longer wanted (`CURL_POLL_REMOVE`); and whose it is.
///
/// # Examples
///
/// ```
/// use handover::Multi;
///
/// let mut multi = Multi::new();
/// multi.socket_function(|socket, events, token| {
///     if events.remove() {
///         println!("forget {socket} (token {token})");
///     } else {
///         println!(
///             "watch {socket}: read {}, write {} (transfer {})",
///             events.wants_read(),
///             events.wants_write(),
///             events.handle_token()
///         );
///     }
/// })?;
/// # Ok::<(), handover::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SocketEvents {
    bits: u8,
    handle: usize,
}

impl SocketEvents {
    const IN: u8 = 1;
    const OUT: u8 = 2;
    const REMOVE: u8 = 4;

    fn new(interest: Interest, handle: usize) -> SocketEvents {
        let mut bits = 0;
        if interest.read {
            bits |= SocketEvents::IN;
        }
        if interest.write {
            bits |= SocketEvents::OUT;
        }
        SocketEvents { bits, handle }
    }

    fn removed(handle: usize) -> SocketEvents {
        SocketEvents {
            bits: SocketEvents::REMOVE,
            handle,
        }
    }

    /// Wait for readability only (`CURL_POLL_IN`).
    pub fn input(&self) -> bool {
        self.bits == SocketEvents::IN
    }

    /// Wait for writability only (`CURL_POLL_OUT`).
    pub fn output(&self) -> bool {
        self.bits == SocketEvents::OUT
    }

    /// Wait for both (`CURL_POLL_INOUT`).
    pub fn input_and_output(&self) -> bool {
        self.bits == SocketEvents::IN | SocketEvents::OUT
    }

    /// Stop waiting on the descriptor (`CURL_POLL_REMOVE`).
    pub fn remove(&self) -> bool {
        self.bits == SocketEvents::REMOVE
    }

    /// Readability is wanted (alone or with writability).
    pub fn wants_read(&self) -> bool {
        self.bits & SocketEvents::IN != 0
    }

    /// Writability is wanted (alone or with readability).
    pub fn wants_write(&self) -> bool {
        self.bits & SocketEvents::OUT != 0
    }

    /// libcurl's number for the event: `CURL_POLL_IN` 1, `_OUT` 2,
    /// `_INOUT` 3, `_REMOVE` 4.
    pub fn bits(&self) -> i32 {
        i32::from(self.bits)
    }

    /// The token of the transfer's handle ([`EasyHandle::set_token`]): what
    /// libcurl passes as the socket callback's easy handle.
    pub fn handle_token(&self) -> usize {
        self.handle
    }
}

impl fmt::Debug for SocketEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.bits {
            SocketEvents::IN => "in",
            SocketEvents::OUT => "out",
            3 => "inout",
            SocketEvents::REMOVE => "remove",
            _ => "none",
        };
        f.debug_struct("SocketEvents")
            .field("events", &what)
            .field("handle", &self.handle)
            .finish()
    }
}

/// What the application's loop saw on a descriptor, for [`Multi::action`]
/// (libcurl's `CURL_CSELECT_IN`, `_OUT`, `_ERR`). handover checks the
/// descriptor itself, so these are hints; an empty set is fine.
///
/// # Examples
///
/// ```
/// use handover::Events;
///
/// let mut events = Events::new();
/// events.input(true).output(false);
/// assert!(events.is_input() && !events.is_output() && !events.is_error());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Events {
    input: bool,
    output: bool,
    error: bool,
}

impl Events {
    /// No event.
    pub fn new() -> Events {
        Events::default()
    }

    /// The descriptor is readable (`CURL_CSELECT_IN`).
    pub fn input(&mut self, on: bool) -> &mut Events {
        self.input = on;
        self
    }

    /// The descriptor is writable (`CURL_CSELECT_OUT`).
    pub fn output(&mut self, on: bool) -> &mut Events {
        self.output = on;
        self
    }

    /// The descriptor has an error condition (`CURL_CSELECT_ERR`).
    pub fn error(&mut self, on: bool) -> &mut Events {
        self.error = on;
        self
    }

    /// Whether `input` was set.
    pub fn is_input(&self) -> bool {
        self.input
    }

    /// Whether `output` was set.
    pub fn is_output(&self) -> bool {
        self.output
    }

    /// Whether `error` was set.
    pub fn is_error(&self) -> bool {
        self.error
    }
}

/// What a socket function returns: nothing, or `false` to fail the
/// `Multi` (libcurl's `-1`): the call that ran it answers
/// `AbortedByCallback` (42), and so does every transfer from then on.
pub trait CallbackResult {
    /// Whether the `Multi` goes on.
    fn proceed(self) -> bool;
}

impl CallbackResult for () {
    fn proceed(self) -> bool {
        true
    }
}

impl CallbackResult for bool {
    fn proceed(self) -> bool {
        self
    }
}

/// Wakes a [`Multi::poll`] from another thread (`curl_multi_wakeup`).
/// Cloneable and `Send`; a wake before the poll makes the next poll return
/// at once.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use handover::Multi;
///
/// let mut multi = Multi::new();
/// let waker = multi.waker()?;
/// std::thread::spawn(move || waker.wake());
/// let started = Instant::now();
/// multi.poll(&mut [], Duration::from_secs(30))?;
/// assert!(started.elapsed() < Duration::from_secs(30));
/// # Ok::<(), handover::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Waker(Arc<Wake>);

impl Waker {
    /// Makes the `Multi`'s current or next `poll` return.
    pub fn wake(&self) {
        self.0.wake();
    }
}

/// The application's socket function, made to say whether to go on.
type SocketFn = Box<dyn FnMut(RawFd, SocketEvents, usize) -> bool + Send>;
/// The application's timer function.
type TimerFn = Box<dyn FnMut(Option<Duration>) -> bool + Send>;

/// A descriptor the socket function was told about.
struct SocketEntry {
    /// The serial of the slot it belongs to.
    owner: u64,
    /// The application's token for it ([`Multi::assign`]).
    token: usize,
}

/// The descriptors the socket function was told to wait on, shared with
/// the [`Assigner`]s.
#[derive(Clone, Default)]
struct Sockets(Arc<Mutex<HashMap<RawFd, SocketEntry>>>);

impl Sockets {
    fn owner(&self, socket: RawFd) -> Option<u64> {
        lock(&self.0).get(&socket).map(|e| e.owner)
    }

    fn assign(&self, socket: RawFd, token: usize) -> Result<(), Error> {
        match lock(&self.0).get_mut(&socket) {
            Some(entry) => {
                entry.token = token;
                Ok(())
            }
            None => Err(Error::new(
                ErrorKind::BadFunctionArgument,
                format!("socket {socket} is not one the socket function was told about"),
            )),
        }
    }
}

/// Gives sockets the application's tokens ([`Multi::assign`]) from inside
/// the socket function, as libcurl allows `curl_multi_assign` there: move a
/// clone into the closure.
///
/// # Examples
///
/// ```
/// let mut multi = handover::Multi::new();
/// let assigner = multi.assigner();
/// let mut next = 1;
/// multi.socket_function(move |socket, events, token| {
///     if !events.remove() && token == 0 {
///         // A new socket: give it a number of ours.
///         let _ = assigner.assign(socket, next);
///         next += 1;
///     }
/// })?;
/// # Ok::<(), handover::Error>(())
/// ```
#[derive(Clone)]
pub struct Assigner(Sockets);

impl fmt::Debug for Assigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Assigner").finish()
    }
}

impl Assigner {
    /// As [`Multi::assign`]: the token the socket function gets for
    /// `socket` from its next call on.
    pub fn assign(&self, socket: RawFd, token: usize) -> Result<(), Error> {
        self.0.assign(socket, token)
    }
}

/// One call of the socket function, made once the slot's lock is let go.
struct Announce {
    fd: RawFd,
    events: SocketEvents,
    token: usize,
}

/// How a step was asked for.
#[derive(Clone, Copy)]
enum Mode {
    /// By `perform`; `hint` is what the last wait saw on the transfer's
    /// descriptors (`None`: no wait since, drive it).
    Perform { hint: Option<bool> },
    /// By `action`: the transfer has an event or a due deadline.
    Event,
}

/// The connection limits (`CURLMOPT_MAXCONNECTS`,
/// `CURLMOPT_MAX_HOST_CONNECTIONS`, `CURLMOPT_MAX_TOTAL_CONNECTIONS`);
/// 0 is libcurl's default in each.
#[derive(Clone, Copy, Debug, Default)]
struct Limits {
    max_connects: usize,
    max_host: usize,
    max_total: usize,
}

fn aborted() -> Error {
    Error::new(
        ErrorKind::AbortedByCallback,
        "a socket or timer function of the Multi asked to stop",
    )
}

/// Everything of a `Multi` but its slots, so that a step can borrow both.
struct Core {
    next_serial: u64,
    /// The DNS cache the added handles share, as in libcurl's multi.
    dns: crate::dns_cache::SharedDnsCache,
    /// Added and not finished (libcurl's running handles).
    alive: usize,
    messages: VecDeque<Message>,
    fds: Vec<PollFd>,
    /// Which slot (by position) each entry of `fds` belongs to.
    owners: Vec<usize>,
    /// After a wait: by position, the slots with a ready descriptor.
    /// `perform` then steps only those (and any whose deadline passed)
    /// instead of every transfer.
    ready: Option<Vec<bool>>,
    /// The idle connections every handle's transfers share (libcurl's
    /// multi connection cache), but those of handles whose share shares
    /// connections: they use the share's, as in libcurl.
    pool: Pool,
    /// How many idle connections a pool keeps when a transfer of this
    /// Multi gives one back (libcurl's connection cache size).
    pool_limit: usize,
    counts: Arc<Mutex<ConnCounts>>,
    limits: Limits,
    /// Serials of planned transfers that wait for a connection.
    pending: BTreeSet<u64>,
    /// Each slot's next deadline, earliest first.
    timers: BTreeSet<(Instant, u64)>,
    socket_fn: Option<SocketFn>,
    timer_fn: Option<TimerFn>,
    /// The descriptors the socket function was told to wait on.
    sockets: Sockets,
    /// The deadline the timer function was last given; `None`: none (or
    /// it must be told again).
    timer_told: Option<Instant>,
    /// A socket or timer function failed: every transfer fails.
    dead: bool,
    waker: Option<Arc<Wake>>,
    scratch: Vec<Wanted>,
}

impl Core {
    /// Advances one transfer as far as it goes, then tells the socket
    /// function what changed in its descriptors.
    fn step(&mut self, shared: &Arc<Mutex<Slot>>, now: Instant, mode: Mode) -> Result<(), Error> {
        let mut announces = Vec::new();
        {
            let mut guard = lock(shared);
            let slot = &mut *guard;
            if slot.removed {
                return Ok(());
            }
            let mut run = std::mem::replace(&mut slot.run, Run::Finished);
            if self.dead && !matches!(run, Run::Finished) {
                let failed = Error::new(
                    ErrorKind::AbortedByCallback,
                    "a socket or timer function of the Multi failed earlier",
                );
                self.finished(slot, shared, None, Err(failed));
                run = Run::Finished;
            }
            if let Run::Waiting = run {
                let started = match &mut slot.easy {
                    Held::Lent(lent) => lent.starting(),
                    Held::Own(_) => Ok(()),
                };
                let planned = started.and_then(|()| {
                    slot.easy
                        .with(|e| {
                            let to_stdout = e.writes_to_stdout();
                            e.plan(now).map(|t| (t, to_stdout, e.pool().clone()))
                        })
                        .unwrap_or_else(|| Err(not_lent()))
                });
                run = match planned {
                    Ok((t, to_stdout, pool)) => {
                        slot.to_stdout = to_stdout;
                        slot.pool = Some(pool);
                        Run::Pending(Box::new(t))
                    }
                    Err(e) => {
                        self.finished(slot, shared, None, Err(e));
                        Run::Finished
                    }
                };
            }
            run = match run {
                Run::Pending(mut t) => match self.launch(&mut t, slot.pool.as_ref(), now) {
                    Ok(Some(host)) => {
                        lock(&self.counts).add(&host);
                        slot.counted = Some(host);
                        self.pending.remove(&slot.serial);
                        Run::Running(t)
                    }
                    Ok(None) => {
                        self.pending.insert(slot.serial);
                        Run::Pending(t)
                    }
                    Err(e) => {
                        self.pending.remove(&slot.serial);
                        self.finished(slot, shared, Some(&mut t), Err(e));
                        Run::Finished
                    }
                },
                other => other,
            };
            // Body bytes bound for stdout wait while its queue is full (the
            // poll thread never waits on stdout); a due deadline still runs.
            let held_back = slot.to_stdout && crate::output::stdout_paused().is_some();
            run = match run {
                Run::Running(mut t) => {
                    let not_due = t.next_deadline().is_none_or(|d| d > now);
                    let skip = match mode {
                        // After a wait, a transfer with nothing ready and no
                        // deadline due has nothing to do: skip it rather than
                        // probe its sockets.
                        Mode::Perform { hint } => {
                            not_due && (held_back || (hint == Some(false) && !t.ready_now()))
                        }
                        Mode::Event => false,
                    };
                    // A fresh clock per transfer: timings must not go stale
                    // across a long pass over many transfers.
                    let outcome = match skip {
                        true => None,
                        false => match t.drive(Instant::now()) {
                            Ok(false) => None,
                            Ok(true) => Some(Ok(())),
                            Err(e) => Some(Err(e)),
                        },
                    };
                    match outcome {
                        None => Run::Running(t),
                        Some(outcome) => {
                            self.finished(slot, shared, Some(&mut t), outcome);
                            Run::Finished
                        }
                    }
                }
                other => other,
            };
            let due = match &run {
                Run::Running(t) if t.ready_now() && !held_back => Some(now),
                Run::Running(t) => t.next_deadline(),
                _ => None,
            };
            self.set_due(slot, due);
            if self.socket_fn.is_some() || !slot.announced.is_empty() {
                let mut wants = std::mem::take(&mut self.scratch);
                wants.clear();
                if let Run::Running(t) = &run {
                    t.wants(&mut wants);
                }
                self.diff(slot, &wants, &mut announces);
                self.scratch = wants;
            }
            slot.run = run;
        }
        self.announce(announces)
    }

    /// Starts a planned transfer on `pool` (the Multi's when `None`) when
    /// the limits let it: `Some(first hop)` once it runs, `None` while it
    /// must wait for a connection.
    fn launch(
        &self,
        t: &mut Transfer,
        pool: Option<&Pool>,
        now: Instant,
    ) -> Result<Option<HostKey>, Error> {
        let pool = pool.unwrap_or(&self.pool);
        let limited = self.limits.max_host > 0 || self.limits.max_total > 0;
        if !limited {
            t.launch(pool, now, true)?;
            return Ok(Some(t.first_hop_key()));
        }
        // An idle connection that fits needs no new one.
        if t.launch(pool, now, false)? {
            return Ok(Some(t.first_hop_key()));
        }
        let host = t.first_hop_key();
        if !self.may_connect(&host, pool) {
            return Ok(None);
        }
        t.launch(pool, now, true)?;
        Ok(Some(host))
    }

    /// Whether a new connection to `host` fits the limits, closing the
    /// oldest idle connection of `pool` to make room as libcurl does; the
    /// connection of a connect-only transfer is never the one closed. The
    /// Multi's limits count its own transfers' connections and the idle
    /// ones of the pool the transfer uses (libcurl: the multi sets the
    /// limits, whoever owns the pool).
    fn may_connect(&self, host: &HostKey, pool: &Pool) -> bool {
        let counts = lock(&self.counts);
        if self.limits.max_host > 0 {
            let used =
                counts.by_host.get(host).copied().unwrap_or(0) + pool.len_for_host(&host.0, host.1);
            if used >= self.limits.max_host && !pool.evict_oldest(Some((&host.0, host.1))) {
                return false;
            }
        }
        if self.limits.max_total > 0 {
            let used = counts.total + pool.len();
            if used >= self.limits.max_total && !pool.evict_oldest(None) {
                return false;
            }
        }
        true
    }

    /// A transfer ended: its result (the engine's `finish` when it has a
    /// transfer) becomes a message; a connection it no longer holds stops
    /// counting.
    fn finished(
        &mut self,
        slot: &mut Slot,
        shared: &Arc<Mutex<Slot>>,
        transfer: Option<&mut Transfer>,
        outcome: Result<(), Error>,
    ) {
        let pool = slot.pool.take().unwrap_or_else(|| self.pool.clone());
        let limit = self.pool_limit;
        let (result, connected) = match transfer {
            Some(t) => slot
                .easy
                .with(|e| (e.finish(t, outcome, Some((&pool, limit))), e.conn.is_some()))
                .unwrap_or_else(|| (Err(not_lent()), false)),
            None => (outcome, false),
        };
        self.alive = self.alive.saturating_sub(1);
        if !connected {
            slot.uncount();
        }
        self.messages.push_back(Message {
            token: slot.token,
            slot: shared.clone(),
            result,
        });
        // CURLMOPT_MAXCONNECTS: past it, idle connections close, oldest first.
        if self.limits.max_connects > 0 {
            let in_use = lock(&self.counts).total;
            while in_use + pool.len() > self.limits.max_connects && pool.evict_oldest(None) {}
        }
    }

    /// Moves the slot's entry in the timer queue to `due`.
    fn set_due(&mut self, slot: &mut Slot, due: Option<Instant>) {
        if slot.due == due {
            return;
        }
        if let Some(old) = slot.due {
            self.timers.remove(&(old, slot.serial));
        }
        if let Some(new) = due {
            self.timers.insert((new, slot.serial));
        }
        slot.due = due;
    }

    /// Compares what the transfer waits on now with what the socket
    /// function was last told: removals first (a descriptor number closed
    /// and reused comes back as a remove, then an add), then additions and
    /// changes. Nothing is said about what did not change.
    fn diff(&mut self, slot: &mut Slot, wants: &[Wanted], out: &mut Vec<Announce>) {
        let serial = slot.serial;
        let mut sockets = lock(&self.sockets.0);
        for old in &slot.announced {
            if wants.iter().any(|w| w.fd == old.fd && w.key == old.key) {
                continue;
            }
            if sockets.get(&old.fd).is_some_and(|e| e.owner == serial) {
                let token = sockets.remove(&old.fd).map_or(0, |e| e.token);
                out.push(Announce {
                    fd: old.fd,
                    events: SocketEvents::removed(slot.token),
                    token,
                });
            }
        }
        for want in wants {
            let before = slot
                .announced
                .iter()
                .find(|o| o.fd == want.fd && o.key == want.key);
            if before.is_some_and(|o| o.interest == want.interest) {
                continue;
            }
            let entry = sockets.entry(want.fd).or_insert(SocketEntry {
                owner: serial,
                token: 0,
            });
            if before.is_none() {
                // A new descriptor: a token of an earlier one is not its own.
                *entry = SocketEntry {
                    owner: serial,
                    token: 0,
                };
            }
            out.push(Announce {
                fd: want.fd,
                events: SocketEvents::new(want.interest, slot.token),
                // Read when it is told: an earlier call may assign one.
                token: 0,
            });
        }
        slot.announced.clear();
        slot.announced.extend_from_slice(wants);
    }

    /// Calls the socket function, in order; the first that says stop
    /// fails the Multi.
    fn announce(&mut self, announces: Vec<Announce>) -> Result<(), Error> {
        let Some(f) = self.socket_fn.as_mut() else {
            return Ok(());
        };
        for a in announces {
            let token = match a.events.remove() {
                true => a.token,
                false => lock(&self.sockets.0).get(&a.fd).map_or(0, |e| e.token),
            };
            if !f(a.fd, a.events, token) {
                self.dead = true;
                return Err(aborted());
            }
        }
        Ok(())
    }

    /// Tells the timer function when the earliest deadline changed: the
    /// time left (zero when due), or `None` once no deadline is left.
    fn update_timer(&mut self) -> Result<(), Error> {
        if self.dead {
            return Ok(());
        }
        let Some(f) = self.timer_fn.as_mut() else {
            return Ok(());
        };
        let earliest = self.timers.first().map(|&(t, _)| t);
        let tell = match earliest {
            None if self.timer_told.is_some() => Some(None),
            Some(t) if self.timer_told != Some(t) => {
                Some(Some(t.saturating_duration_since(Instant::now())))
            }
            _ => None,
        };
        let Some(tell) = tell else {
            return Ok(());
        };
        self.timer_told = earliest;
        if f(tell) {
            Ok(())
        } else {
            self.dead = true;
            Err(aborted())
        }
    }
}

/// Many transfers on one thread (libcurl's multi handle).
///
/// Add [`Easy`] handles with [`add`](Multi::add), then either call
/// [`perform`](Multi::perform) and [`wait`](Multi::wait) in turn until no
/// transfer runs, or let your own event loop drive it: the
/// [`socket_function`](Multi::socket_function) says which descriptors to
/// watch, the [`timer_function`](Multi::timer_function) when to call
/// [`action`](Multi::action) at the latest. Completions arrive through
/// [`messages`](Multi::messages). A connect-only connection stays with its
/// [`EasyHandle`] while the handle is added.
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
///
/// Event-driven, as with `curl_multi_socket_action` (here with a plain
/// `poll(2)` loop over what the socket function said):
///
/// ```no_run
/// use std::collections::HashMap;
/// use std::sync::{Arc, Mutex};
/// use std::time::{Duration, Instant};
/// use handover::{ConnectOnly, Easy, Events, Multi, WaitFd};
///
/// let mut multi = Multi::new();
/// let watched = Arc::new(Mutex::new(HashMap::new())); // fd -> (read, write)
/// let timer = Arc::new(Mutex::new(None::<Instant>));
/// let w = watched.clone();
/// multi.socket_function(move |fd, events, _token| {
///     let mut w = w.lock().unwrap();
///     if events.remove() {
///         w.remove(&fd);
///     } else {
///         w.insert(fd, (events.wants_read(), events.wants_write()));
///     }
/// })?;
/// let t = timer.clone();
/// multi.timer_function(move |after| {
///     *t.lock().unwrap() = after.map(|d| Instant::now() + d);
///     true
/// })?;
///
/// let mut easy = Easy::new();
/// easy.url("https://example.com/")?;
/// easy.connect_only(ConnectOnly::Connection)?;
/// let _handle = multi.add(easy)?;
///
/// let mut running = 1;
/// let poller = Multi::new(); // an empty Multi: a plain poll(2) over `fds`
/// # let mut poller = poller;
/// while running > 0 {
///     let mut fds: Vec<WaitFd> = watched.lock().unwrap().iter().map(|(&fd, &(r, w))| {
///         let mut wfd = WaitFd::new();
///         wfd.set_fd(fd);
///         wfd.poll_on_read(r).poll_on_write(w);
///         wfd
///     }).collect();
///     let wait = timer.lock().unwrap().map_or(Duration::from_secs(1), |at| {
///         at.saturating_duration_since(Instant::now())
///     });
///     poller.wait(&mut fds, wait)?;
///     for fd in fds.iter().filter(|f| f.received_read() || f.received_write()) {
///         let mut events = Events::new();
///         events.input(fd.received_read()).output(fd.received_write());
///         running = multi.action(fd.fd(), &events)?;
///     }
///     if timer.lock().unwrap().is_some_and(|at| at <= Instant::now()) {
///         running = multi.action(Multi::SOCKET_TIMEOUT, &Events::new())?;
///     }
/// }
/// multi.messages(|m| println!("{:?}", m.result()));
/// # Ok::<(), handover::Error>(())
/// ```
pub struct Multi {
    id: usize,
    /// Every added transfer, by serial: in the order of adding.
    slots: BTreeMap<u64, Arc<Mutex<Slot>>>,
    core: Core,
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

impl Multi {
    /// The socket [`action`](Multi::action) takes to say "a deadline
    /// passed" rather than "this descriptor has an event"
    /// (`CURL_SOCKET_TIMEOUT`).
    pub const SOCKET_TIMEOUT: RawFd = -1;

    /// An empty multi handle.
    pub fn new() -> Multi {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT_ID: AtomicUsize = AtomicUsize::new(1);
        Multi {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            slots: BTreeMap::new(),
            core: Core {
                next_serial: 1,
                dns: crate::dns_cache::SharedDnsCache::default(),
                alive: 0,
                messages: VecDeque::new(),
                fds: Vec::new(),
                owners: Vec::new(),
                ready: None,
                pool: Pool::default(),
                pool_limit: crate::pool::EASY_MAX_IDLE,
                counts: Arc::default(),
                limits: Limits::default(),
                pending: BTreeSet::new(),
                timers: BTreeSet::new(),
                socket_fn: None,
                timer_fn: None,
                sockets: Sockets::default(),
                timer_told: None,
                dead: false,
                waker: None,
                scratch: Vec::new(),
            },
        }
    }

    /// Adds a transfer; it starts on the next [`perform`](Multi::perform)
    /// or [`action`](Multi::action) (the timer function hears "now").
    /// Its TLS configurations are prepared here (CA files read, the system
    /// store loaded, once per process and option set), so that `perform`
    /// never touches the file system.
    pub fn add(&mut self, easy: Easy) -> Result<EasyHandle, Error> {
        self.add_held(Held::Own(easy))
    }

    /// Adds a transfer whose `Easy` stays where it lives (see
    /// [`LentEasy`]); otherwise as [`add`](Multi::add). While added, its
    /// `perform` answers `FailedInit` (2), as libcurl's does.
    pub fn add_lent(&mut self, easy: Box<dyn LentEasy>) -> Result<EasyHandle, Error> {
        self.add_held(Held::Lent(easy))
    }

    fn add_held(&mut self, mut held: Held) -> Result<EasyHandle, Error> {
        if self.core.dead {
            if self.core.alive > 0 {
                return Err(aborted());
            }
            // A failed Multi whose transfers are all gone starts over.
            self.core.dead = false;
        }
        let dns = &self.core.dns;
        let pool = &self.core.pool;
        let added = held.with(|easy| {
            if easy.in_multi {
                return false;
            }
            easy.prepare_tls();
            easy.in_multi = true;
            easy.dns = easy.shared_dns.clone().unwrap_or_else(|| dns.clone());
            easy.multi_pool = Some(pool.clone());
            true
        });
        match added {
            Some(true) => {}
            Some(false) => {
                return Err(Error::new(
                    ErrorKind::BadFunctionArgument,
                    "the handle is already added to a Multi",
                ))
            }
            None => return Err(not_lent()),
        }
        let serial = self.core.next_serial;
        self.core.next_serial += 1;
        let now = Instant::now();
        let slot = Arc::new(Mutex::new(Slot {
            easy: held,
            run: Run::Waiting,
            token: 0,
            removed: false,
            serial,
            to_stdout: false,
            announced: Vec::new(),
            due: Some(now),
            counted: None,
            counts: self.core.counts.clone(),
            pool: None,
        }));
        self.core.timers.insert((now, serial));
        self.slots.insert(serial, slot.clone());
        self.core.alive += 1;
        self.core.ready = None;
        self.set_pool_limit();
        // As libcurl: the timer function hears of the new transfer at once.
        self.core.timer_told = None;
        // A failing timer function fails the Multi; the handle is added.
        let _ = self.core.update_timer();
        Ok(EasyHandle {
            slot,
            multi_id: self.id,
            serial,
        })
    }

    /// libcurl's connection cache size: `max_connects`, or four per added
    /// handle.
    fn set_pool_limit(&mut self) {
        self.core.pool_limit = match self.core.limits.max_connects {
            0 => (self.slots.len() * 4).max(crate::pool::EASY_MAX_IDLE),
            n => n,
        };
    }

    /// Takes a transfer out and gives its `Easy` back (an empty one for a
    /// lent `Easy`, which stays where it lives). A connect-only connection
    /// still attached to it is closed, as in libcurl; the socket function
    /// hears that its descriptors are gone.
    pub fn remove(&mut self, handle: EasyHandle) -> Result<Easy, Error> {
        if handle.multi_id != self.id {
            return Err(Error::new(
                ErrorKind::BadFunctionArgument,
                "the handle belongs to another Multi",
            ));
        }
        let shared = self.slots.remove(&handle.serial).unwrap_or(handle.slot);
        self.core.ready = None;
        self.core
            .messages
            .retain(|m| !Arc::ptr_eq(&m.slot, &shared));
        let mut announces = Vec::new();
        let (run, easy) = {
            let mut guard = lock(&shared);
            let slot = &mut *guard;
            if !slot.removed && !matches!(slot.run, Run::Finished) {
                self.core.alive = self.core.alive.saturating_sub(1);
            }
            self.core.set_due(slot, None);
            self.core.pending.remove(&slot.serial);
            self.core.diff(slot, &[], &mut announces);
            slot.removed = true;
            let run = std::mem::replace(&mut slot.run, Run::Finished);
            slot.easy.with(|easy| {
                easy.conn = None;
                easy.in_multi = false;
                easy.dns = easy.shared_dns.clone().unwrap_or_default();
                easy.multi_pool = None;
            });
            slot.uncount();
            let easy = match &mut slot.easy {
                Held::Own(easy) => std::mem::take(easy),
                Held::Lent(_) => Easy::new(),
            };
            (run, easy)
        };
        // The application hears of the descriptors while they are still
        // open; a transfer still connecting closes them after.
        let _ = self.core.announce(announces);
        drop(run);
        self.set_pool_limit();
        self.wake_pending(Instant::now());
        let _ = self.core.update_timer();
        Ok(easy)
    }

    /// Advances every transfer as far as it goes without waiting; returns
    /// how many are still running (`curl_multi_perform`). With a socket
    /// function set, it hears of every change, as with
    /// [`action_all`](Multi::action_all).
    pub fn perform(&mut self) -> Result<u32, Error> {
        let now = Instant::now();
        self.wake_pending(now);
        let ready = self.core.ready.take();
        let mut result = Ok(());
        for (index, shared) in self.slots.values().enumerate() {
            let hint = ready
                .as_ref()
                .map(|r| r.get(index).copied().unwrap_or(true));
            if let Err(e) = self.core.step(shared, now, Mode::Perform { hint }) {
                result = Err(e);
                break;
            }
        }
        self.wake_pending(now);
        result?;
        self.core.update_timer()?;
        Ok(self.running())
    }

    /// Event-driven progress (`curl_multi_socket_action`): `socket` had
    /// `events` (or, with [`Multi::SOCKET_TIMEOUT`], the timer function's
    /// time came). Steps the transfer that owns the descriptor, then every
    /// transfer whose deadline passed; the socket and timer functions hear
    /// what changed. Returns how many transfers still run. A descriptor it
    /// does not know is ignored, as libcurl does.
    pub fn action(&mut self, socket: RawFd, events: &Events) -> Result<u32, Error> {
        let _ = events; // handover checks the descriptor itself
        let now = Instant::now();
        self.wake_pending(now);
        let mut stepped = None;
        if socket == Multi::SOCKET_TIMEOUT {
            // The application asked because of the timer: it hears the
            // next one even when it did not change (libcurl does the same).
            self.core.timer_told = None;
        } else if let Some(owner) = self.core.sockets.owner(socket) {
            if let Some(shared) = self.slots.get(&owner) {
                self.core.step(shared, now, Mode::Event)?;
                stepped = Some(owner);
            }
        }
        let due: Vec<u64> = self
            .core
            .timers
            .range(..=(now, u64::MAX))
            .map(|&(_, serial)| serial)
            .filter(|&serial| Some(serial) != stepped)
            .collect();
        for serial in due {
            if let Some(shared) = self.slots.get(&serial) {
                self.core.step(shared, now, Mode::Event)?;
            }
        }
        self.wake_pending(Instant::now());
        self.core.update_timer()?;
        Ok(self.running())
    }

    /// Steps every transfer and tells the socket function of every change
    /// (`curl_multi_socket_all`).
    pub fn action_all(&mut self) -> Result<u32, Error> {
        self.core.ready = None;
        self.perform()
    }

    /// Transfers added and not finished.
    fn running(&self) -> u32 {
        u32::try_from(self.core.alive).unwrap_or(u32::MAX)
    }

    /// Connections let go since the last look give as many pending
    /// transfers their chance: they become due now.
    fn wake_pending(&mut self, now: Instant) {
        let freed = std::mem::take(&mut lock(&self.core.counts).freed);
        for _ in 0..freed {
            let Some(serial) = self.core.pending.pop_first() else {
                break;
            };
            if let Some(shared) = self.slots.get(&serial) {
                self.core.set_due(&mut lock(shared), Some(now));
            }
        }
    }

    /// Every pending transfer gets its chance (a limit changed).
    fn wake_all_pending(&mut self) {
        let now = Instant::now();
        for serial in std::mem::take(&mut self.core.pending) {
            if let Some(shared) = self.slots.get(&serial) {
                self.core.set_due(&mut lock(shared), Some(now));
            }
        }
    }

    /// When `perform` or [`action`](Multi::action) with
    /// [`Multi::SOCKET_TIMEOUT`] must be called at the latest, if any
    /// transfer waits for a deadline (`curl_multi_timeout`); zero when one
    /// is due.
    pub fn timeout(&self) -> Option<Duration> {
        if self.core.dead {
            return Some(Duration::ZERO);
        }
        let (earliest, _) = self.core.timers.first()?;
        Some(earliest.saturating_duration_since(Instant::now()))
    }

    /// Sets the function that hears which descriptors to wait on
    /// (`CURLMOPT_SOCKETFUNCTION`): `f(socket, events, token)`, where
    /// `token` is what [`assign`](Multi::assign) gave the socket (0 until
    /// then). It is called only when a transfer's wanted events change — a
    /// descriptor added, its events changed, or removed — never to repeat
    /// what it was told. The closure may return nothing, or `false` to stop
    /// (see [`CallbackResult`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut multi = handover::Multi::new();
    /// multi.socket_function(|socket, events, _token| {
    ///     println!("{socket}: {events:?}");
    /// })?;
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn socket_function<F, R>(&mut self, mut f: F) -> Result<(), Error>
    where
        F: FnMut(RawFd, SocketEvents, usize) -> R + Send + 'static,
        R: CallbackResult,
    {
        self.core.socket_fn = Some(Box::new(move |fd, events, token| {
            f(fd, events, token).proceed()
        }));
        Ok(())
    }

    /// Removes the socket function: nothing is told, or tracked, any more.
    pub fn remove_socket_function(&mut self) {
        self.core.socket_fn = None;
    }

    /// Sets the function that hears when to call
    /// [`action`](Multi::action) with [`Multi::SOCKET_TIMEOUT`] at the
    /// latest (`CURLMOPT_TIMERFUNCTION`): called when the earliest deadline
    /// changes, with the time left (zero: now), or `None` once no deadline
    /// is left (libcurl's -1: remove the timer). Returning `false` fails
    /// the Multi.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut multi = handover::Multi::new();
    /// multi.timer_function(|after| {
    ///     match after {
    ///         Some(d) => println!("call action(SOCKET_TIMEOUT) in {d:?}"),
    ///         None => println!("no timer"),
    ///     }
    ///     true
    /// })?;
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn timer_function<F>(&mut self, f: F) -> Result<(), Error>
    where
        F: FnMut(Option<Duration>) -> bool + Send + 'static,
    {
        self.core.timer_fn = Some(Box::new(f));
        Ok(())
    }

    /// Removes the timer function.
    pub fn remove_timer_function(&mut self) {
        self.core.timer_fn = None;
    }

    /// Gives `socket` a token of the application's, passed to the socket
    /// function from then on (`curl_multi_assign`). A socket the socket
    /// function was not told about is a `BadFunctionArgument` (43;
    /// libcurl's `CURLM_BAD_SOCKET`).
    pub fn assign(&mut self, socket: RawFd, token: usize) -> Result<(), Error> {
        self.core.sockets.assign(socket, token)
    }

    /// An [`Assigner`]: [`assign`](Multi::assign) for use inside the socket
    /// function, where the `Multi` itself cannot be reached.
    pub fn assigner(&self) -> Assigner {
        Assigner(self.core.sockets.clone())
    }

    /// The most connections kept (`CURLMOPT_MAXCONNECTS`): past it, idle
    /// ones close, oldest first. 0: four per added handle (libcurl's
    /// default).
    pub fn set_max_connects(&mut self, max: usize) -> Result<(), Error> {
        self.core.limits.max_connects = max;
        self.set_pool_limit();
        Ok(())
    }

    /// The most connections to one host — the first proxy, or the target
    /// (`CURLMOPT_MAX_HOST_CONNECTIONS`). Transfers past it wait for one to
    /// end; a connect-only transfer's connection counts while it lives and
    /// is never closed to make room. 0: no limit.
    pub fn set_max_host_connections(&mut self, max: usize) -> Result<(), Error> {
        self.core.limits.max_host = max;
        self.wake_all_pending();
        Ok(())
    }

    /// The most connections in all (`CURLMOPT_MAX_TOTAL_CONNECTIONS`), as
    /// [`set_max_host_connections`](Multi::set_max_host_connections) for
    /// every host together. 0: no limit.
    pub fn set_max_total_connections(&mut self, max: usize) -> Result<(), Error> {
        self.core.limits.max_total = max;
        self.wake_all_pending();
        Ok(())
    }

    /// `CURLMOPT_PIPELINING`: accepted as libcurl 8 does (HTTP/1 pipelining
    /// is gone there, multiplexing needs HTTP/2, which handover does not
    /// speak); it changes nothing.
    pub fn pipelining(&mut self, http_1: bool, multiplex: bool) -> Result<(), Error> {
        let _ = (http_1, multiplex);
        Ok(())
    }

    /// A [`Waker`] for this Multi's [`poll`](Multi::poll), to wake it from
    /// another thread (`curl_multi_wakeup`).
    pub fn waker(&mut self) -> Result<Waker, Error> {
        if self.core.waker.is_none() {
            let wake = Wake::new().map_err(|e| {
                Error::from_io(
                    ErrorKind::FailedInit,
                    "cannot create the wake-up descriptor",
                    &e,
                )
            })?;
            self.core.waker = Some(Arc::new(wake));
        }
        match &self.core.waker {
            Some(wake) => Ok(Waker(wake.clone())),
            None => Err(Error::new(ErrorKind::FailedInit, "no wake-up descriptor")),
        }
    }

    /// The descriptors the transfers wait on now and what for
    /// (`curl_multi_waitfds`, `curl_multi_fdset`): one entry per
    /// descriptor. Poll them, then [`perform`](Multi::perform).
    pub fn waitfds(&self) -> Vec<WaitFd> {
        let mut wants = Vec::new();
        for shared in self.slots.values() {
            if let Run::Running(t) = &lock(shared).run {
                t.wants(&mut wants);
            }
        }
        wants
            .iter()
            .map(|w| WaitFd {
                fd: w.fd,
                read: w.interest.read,
                write: w.interest.write,
                ..WaitFd::new()
            })
            .collect()
    }

    /// Waits until a transfer or one of `extra` needs attention, at most
    /// `timeout` (`curl_multi_wait`). Returns how many descriptors are
    /// ready. Like libcurl, returns at once when there is nothing to wait on.
    pub fn wait(&mut self, extra: &mut [WaitFd], timeout: Duration) -> Result<u32, Error> {
        self.wait_inner(extra, timeout, false)
    }

    /// As [`wait`](Multi::wait), but sleeps the whole timeout even when
    /// there is nothing to wait on, and returns early when a [`Waker`]
    /// wakes it (`curl_multi_poll`).
    pub fn poll(&mut self, extra: &mut [WaitFd], timeout: Duration) -> Result<u32, Error> {
        self.wait_inner(extra, timeout, true)
    }

    fn wait_inner(
        &mut self,
        extra: &mut [WaitFd],
        timeout: Duration,
        sleep_when_idle: bool,
    ) -> Result<u32, Error> {
        let mut fds = std::mem::take(&mut self.core.fds);
        let mut owners = std::mem::take(&mut self.core.owners);
        fds.clear();
        owners.clear();
        let mut limit = timeout;
        let now = Instant::now();
        // While stdout's queue is full, transfers writing there wait on its
        // room descriptor instead of their sockets.
        let paused = crate::output::stdout_paused();
        let mut held_back = Vec::new();
        for (index, shared) in self.slots.values().enumerate() {
            let mut guard = lock(shared);
            let slot = &mut *guard;
            match &slot.run {
                Run::Waiting => limit = Duration::ZERO,
                Run::Running(t) if paused.is_some() && slot.to_stdout => {
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
                Run::Pending(_) | Run::Finished => {}
            }
        }
        // A pending transfer whose connection was let go meanwhile is due.
        if let Some((due, _)) = self.core.timers.first() {
            limit = limit.min(due.saturating_duration_since(now));
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
        let wake_at = match (&self.core.waker, sleep_when_idle) {
            (Some(wake), true) => {
                fds.push(PollFd::new(wake.fd(), Interest::READ));
                Some(fds.len() - 1)
            }
            _ => None,
        };
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
        self.core.ready = Some(hint);
        let mut ready = fds.iter().filter(|f| f.any()).count().min(ready);
        // The wake-up is not a ready descriptor of the caller's.
        if let Some(at) = wake_at {
            if fds.get(at).is_some_and(PollFd::any) {
                if let Some(wake) = &self.core.waker {
                    wake.reset();
                }
                ready = ready.saturating_sub(1);
            }
        }
        self.core.fds = fds;
        self.core.owners = owners;
        Ok(u32::try_from(ready).unwrap_or(u32::MAX))
    }

    /// Hands each completion message to `f`, oldest first, and forgets
    /// them (`curl_multi_info_read` in a loop).
    pub fn messages<F: FnMut(Message)>(&mut self, mut f: F) {
        while let Some(m) = self.core.messages.pop_front() {
            f(m);
        }
    }

    /// The oldest completion message, taken from the queue
    /// (`curl_multi_info_read`).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut multi = handover::Multi::new();
    /// while let Some(message) = multi.next_message() {
    ///     println!("{} left: {:?}", multi.queued_messages(), message.result());
    /// }
    /// ```
    pub fn next_message(&mut self) -> Option<Message> {
        self.core.messages.pop_front()
    }

    /// How many completion messages wait to be read.
    pub fn queued_messages(&self) -> usize {
        self.core.messages.len()
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
        if self.slots.values().any(|s| lock(s).to_stdout) {
            let _ = crate::output::flush_stdout();
        }
        // As curl_multi_cleanup: every connection of every added handle closes.
        for shared in self.slots.values() {
            let mut slot = lock(shared);
            slot.removed = true;
            // Transfers still connecting close their sockets and lookups too.
            slot.run = Run::Finished;
            slot.easy.with(|easy| {
                easy.conn = None;
                easy.in_multi = false;
                easy.dns = easy.shared_dns.clone().unwrap_or_default();
                // The Multi's idle connections close with it.
                easy.multi_pool = None;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_multi_and_its_helpers_move_between_threads() {
        fn send<T: Send>() {}
        fn sync<T: Sync>() {}
        send::<Multi>();
        send::<EasyHandle>();
        send::<Waker>();
        sync::<Waker>();
        send::<Assigner>();
        sync::<Assigner>();
    }

    #[test]
    fn socket_events_say_libcurls_numbers() {
        let read = SocketEvents::new(Interest::READ, 7);
        assert!(read.input() && !read.output() && read.wants_read() && !read.remove());
        assert_eq!(read.bits(), 1);
        assert_eq!(read.handle_token(), 7);
        let both = SocketEvents::new(Interest::READ.union(Interest::WRITE), 0);
        assert!(both.input_and_output() && both.wants_write());
        assert_eq!(both.bits(), 3);
        let gone = SocketEvents::removed(0);
        assert!(gone.remove() && !gone.wants_read());
        assert_eq!(gone.bits(), 4);
    }

    #[test]
    fn an_added_easy_refuses_perform_until_removed() {
        let mut multi = Multi::new();
        let mut easy = Easy::new();
        easy.url("telnet://127.0.0.1:9").unwrap();
        let handle = multi.add(easy).unwrap();
        let err = handle.with_easy_for_test(|e| e.perform()).unwrap_err();
        assert_eq!(err.code(), 2);
        assert_eq!(err.to_string(), "easy handle already used in multi handle");
        let easy = multi.remove(handle).unwrap();
        assert!(!easy.in_multi);
    }

    fn slot(serial: u64) -> Slot {
        Slot {
            easy: Held::Own(Easy::new()),
            run: Run::Waiting,
            token: 9,
            removed: false,
            serial,
            to_stdout: false,
            announced: Vec::new(),
            due: None,
            counted: None,
            counts: Arc::default(),
            pool: None,
        }
    }

    fn want(fd: RawFd, interest: Interest, key: u64) -> Wanted {
        Wanted { fd, interest, key }
    }

    /// (fd, CURL_POLL_* bits, token) of each announcement, the token as
    /// the socket function would get it.
    fn said(core: &Core, out: &[Announce]) -> Vec<(RawFd, i32, usize)> {
        let sockets = lock(&core.sockets.0);
        out.iter()
            .map(|a| {
                let token = match a.events.remove() {
                    true => a.token,
                    false => sockets.get(&a.fd).map_or(0, |e| e.token),
                };
                (a.fd, a.events.bits(), token)
            })
            .collect()
    }

    #[test]
    fn the_diff_says_only_what_changed_and_a_reused_number_as_remove_then_add() {
        let mut multi = Multi::new();
        let core = &mut multi.core;
        let mut slot = slot(1);
        let mut out = Vec::new();
        // A lookup's descriptor, then the connect's socket.
        core.diff(&mut slot, &[want(5, Interest::READ, 1 << 32)], &mut out);
        assert_eq!(said(core, &out), [(5, 1, 0)]);
        out.clear();
        core.diff(&mut slot, &[want(5, Interest::READ, 1 << 32)], &mut out);
        assert!(out.is_empty(), "nothing changed, nothing said");
        // The lookup closed and its number went to the first attempt: a
        // different descriptor under the same number.
        core.diff(&mut slot, &[want(5, Interest::WRITE, 2 << 32)], &mut out);
        assert_eq!(said(core, &out), [(5, 4, 0), (5, 2, 0)]);
        out.clear();
        core.assign_for_test(5, 77);
        // Same descriptor, new events: a change, with the token.
        core.diff(&mut slot, &[want(5, Interest::READ, 2 << 32)], &mut out);
        assert_eq!(said(core, &out), [(5, 1, 77)]);
        out.clear();
        // The first attempt failed and the second got its number (attempt
        // index 1): remove (with the old token), add (none yet).
        core.diff(
            &mut slot,
            &[want(5, Interest::WRITE, (2 << 32) | 1)],
            &mut out,
        );
        assert_eq!(said(core, &out), [(5, 4, 77), (5, 2, 0)]);
        out.clear();
        core.diff(&mut slot, &[], &mut out);
        assert_eq!(said(core, &out), [(5, 4, 0)]);
        assert!(lock(&core.sockets.0).is_empty());
    }

    impl Core {
        fn assign_for_test(&mut self, fd: RawFd, token: usize) {
            let _ = self.sockets.assign(fd, token);
        }
    }

    impl EasyHandle {
        fn with_easy_for_test<T>(&self, f: impl FnOnce(&mut Easy) -> T) -> T {
            self.lock().easy.with(f).unwrap()
        }
    }
}
