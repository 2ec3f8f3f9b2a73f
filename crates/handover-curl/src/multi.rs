//! `CURLM *`: one `handover::Multi` per multi handle, and every
//! `curl_multi_*` function (`curl_multi_setopt`'s typed halves included).
//!
//! ```text
//!   curl_multi_add_handle(m, e)
//!     └─> Multi::add_lent(Lent(e)) ─> handover::EasyHandle (token = e), kept in `members`
//!         The Easy stays in the CURL *: curl_easy_getinfo, _setopt, _send and
//!         _recv keep working on it while it is added. The Multi borrows it only
//!         to start and to finish the transfer, moved out of the handle for that
//!         moment as curl_easy_perform moves it (callbacks then find the handle
//!         busy and its stand-in Easy), and never across a call.
//!   curl_multi_perform / _socket_action / _socket_all
//!     └─> Multi::perform / action / action_all; each finished transfer's code
//!         is settled at once (EasyHandle::end_transfer: the error buffer) and
//!         queued for curl_multi_info_read, whose CURLMsg lives in the member
//!         until the handle is removed
//!   CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION ── closures over the C pointers
//!         that Multi::socket_function / timer_function call
//!   curl_multi_wakeup ── another thread: only the Waker is touched
//! ```
//!
//! Every multi function but `curl_multi_wakeup`, `_assign`, `_strerror`
//! and `_get_handles` marks the handle busy while it runs: one called from
//! a callback meanwhile answers `CURLM_RECURSIVE_API_CALL`, as libcurl's.
//! `curl_multi_assign` works from the socket callback (libcurl allows it)
//! through the Multi's `Assigner`.

use std::cell::UnsafeCell;
use std::collections::{HashMap, VecDeque};
use std::ffi::{c_char, c_int, c_long, c_short, c_uint, c_void};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::Duration;

use handover::{Assigner, Easy, Events, LentEasy, Multi, WaitFd, Waker};

use crate::codes::*;
use crate::easy::EasyHandle;
use crate::guard;

/// Tells a live multi handle from garbage (libcurl's `CURL_MULTI_HANDLE`).
const MULTI_MAGIC: u32 = 0x000b_ab1e;

/// `curl_socket_callback`.
type SocketCallback =
    unsafe extern "C" fn(*mut c_void, c_int, c_int, *mut c_void, *mut c_void) -> c_int;
/// `curl_multi_timer_callback`.
type TimerCallback = unsafe extern "C" fn(*mut c_void, c_long, *mut c_void) -> c_int;

/// `struct CURLMsg`.
#[repr(C)]
pub struct CurlMsg {
    msg: c_int,
    easy_handle: *mut c_void,
    data: MsgData,
}

/// The `data` union of `struct CURLMsg`.
#[repr(C)]
#[derive(Clone, Copy)]
union MsgData {
    whatever: *mut c_void,
    result: CurlCode,
}

/// `struct curl_waitfd`.
#[repr(C)]
pub struct CurlWaitfd {
    fd: c_int,
    events: c_short,
    revents: c_short,
}

/// An easy handle added to a multi handle.
struct Member {
    /// The transfer in the Multi; `None` when it failed before it could
    /// start (its message is queued already).
    handle: Option<handover::EasyHandle>,
    /// The order of adding, for `curl_multi_get_handles`.
    order: u64,
    /// Its `CURLMsg`, valid until the handle is removed.
    msg: Box<CurlMsg>,
}

/// What only the thread driving the multi handle touches.
struct Inner {
    multi: Multi,
    /// Added easy handles, by address.
    members: HashMap<usize, Member>,
    next_order: u64,
    /// Finished transfers and their codes, for `curl_multi_info_read`.
    done: VecDeque<(usize, CurlCode)>,
    socket_fn: Option<SocketCallback>,
    socket_data: *mut c_void,
    timer_fn: Option<TimerCallback>,
    timer_data: *mut c_void,
}

/// What a `CURLM *` points to.
pub(crate) struct CMulti {
    magic: AtomicU32,
    /// A multi function runs (maybe in a callback of ours right now).
    busy: AtomicBool,
    /// For `curl_multi_wakeup`, from any thread.
    waker: Option<Waker>,
    /// For `curl_multi_assign`, from the socket callback too.
    assigner: Assigner,
    inner: UnsafeCell<Inner>,
}

/// Which multi handle each added easy handle is in (`CURL *` to `CURLM *`).
static ATTACHED: LazyLock<Mutex<HashMap<usize, usize>>> = LazyLock::new(Mutex::default);

fn attached() -> MutexGuard<'static, HashMap<usize, usize>> {
    ATTACHED.lock().unwrap_or_else(|p| p.into_inner())
}

impl CMulti {
    /// The multi handle behind a `CURLM *`, or `None` for NULL or a
    /// pointer that is not a live one of ours.
    ///
    /// # Safety
    ///
    /// `m` is NULL or a pointer `curl_multi_init` returned that
    /// `curl_multi_cleanup` has not freed.
    unsafe fn from_ptr<'a>(m: *mut c_void) -> Option<&'a CMulti> {
        // SAFETY: per the function's contract; only shared references are
        // made, the mutable state is behind `inner`'s UnsafeCell.
        let multi = unsafe { m.cast::<CMulti>().as_ref()? };
        (multi.magic.load(Ordering::Acquire) == MULTI_MAGIC).then_some(multi)
    }

    /// Marks the handle busy and gives its state, or
    /// `CURLM_RECURSIVE_API_CALL` when a multi function runs already (we
    /// are in one of its callbacks).
    fn enter(&self) -> Result<Busy<'_>, CurlMcode> {
        if self.busy.swap(true, Ordering::Acquire) {
            return Err(CURLM_RECURSIVE_API_CALL);
        }
        Ok(Busy(self))
    }
}

/// The state of a multi handle while one of its functions runs; not busy
/// any more when dropped.
struct Busy<'a>(&'a CMulti);

impl Busy<'_> {
    fn inner(&mut self) -> &mut Inner {
        // SAFETY: `busy` was false and is ours now: no other reference to
        // `inner` exists (libcurl's contract: one thread drives a multi
        // handle; callbacks that come back are refused by `enter`).
        unsafe { &mut *self.0.inner.get() }
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.busy.store(false, Ordering::Release);
    }
}

/// A `CURL *`'s Easy, lent to the Multi while the handle is added.
struct Lent(*mut EasyHandle);

// SAFETY: libcurl's contract: a handle is used by one thread at a time;
// the Multi that holds this is driven by that thread.
unsafe impl Send for Lent {}

impl LentEasy for Lent {
    /// What libcurl does when the transfer starts (not when the handle is
    /// added: options set in between count, curl's test 1531): the error
    /// buffer cleared, the options read at perform time applied.
    fn starting(&mut self) -> Result<(), handover::Error> {
        // SAFETY: as in `lend`; the borrow ends in this function, and no
        // callback of the application runs in it.
        let h = unsafe { &mut *self.0 };
        match h.begin_transfer() {
            CURLE_OK => Ok(()),
            code => {
                let kind = u32::try_from(code)
                    .ok()
                    .and_then(handover::ErrorKind::from_code)
                    .unwrap_or(handover::ErrorKind::FailedInit);
                Err(handover::Error::new(kind, h.error_text(code)))
            }
        }
    }

    fn lend(&mut self, f: &mut dyn FnMut(&mut Easy)) {
        /// Puts the Easy back, also when `f` unwinds.
        struct Back {
            handle: *mut EasyHandle,
            easy: Easy,
            was_busy: bool,
        }
        impl Drop for Back {
            fn drop(&mut self) {
                // SAFETY: the handle lives while it is added (removal, multi
                // cleanup and easy cleanup all take it out first) and no
                // reference to it is held across this call.
                let h = unsafe { &mut *self.handle };
                h.easy = std::mem::take(&mut self.easy);
                h.busy = self.was_busy;
            }
        }
        // SAFETY: as in `Back::drop`; the borrow ends in this block, before
        // `f` (which may call back into C) runs.
        let mut back = unsafe {
            let h = &mut *self.0;
            let was_busy = h.busy;
            h.busy = true;
            Back {
                handle: self.0,
                easy: std::mem::take(&mut h.easy),
                was_busy,
            }
        };
        f(&mut back.easy);
    }
}

/// The application's socket callback and its data pointer.
#[derive(Clone, Copy)]
struct SocketFn(SocketCallback, *mut c_void);

// SAFETY: called on the thread that drives the multi handle, as libcurl.
unsafe impl Send for SocketFn {}

/// The application's timer callback, its data pointer and the `CURLM *`.
#[derive(Clone, Copy)]
struct TimerFn(TimerCallback, *mut c_void, *mut c_void);

// SAFETY: as for `SocketFn`.
unsafe impl Send for TimerFn {}

/// libcurl's milliseconds for a wait: 0 when due, else at least 1 (rounded
/// up, so that a loop never wakes before the deadline).
fn millis(d: Duration) -> c_long {
    if d.is_zero() {
        return 0;
    }
    let ms = d.as_nanos().div_ceil(1_000_000).max(1);
    c_long::try_from(ms).unwrap_or(c_long::MAX)
}

/// The `CURLMcode` of a Rust Multi error.
fn mcode(e: &handover::Error) -> CurlMcode {
    match e.kind() {
        handover::ErrorKind::AbortedByCallback => CURLM_ABORTED_BY_CALLBACK,
        handover::ErrorKind::UnrecoverablePoll => CURLM_UNRECOVERABLE_POLL,
        handover::ErrorKind::BadFunctionArgument => CURLM_BAD_FUNCTION_ARGUMENT,
        handover::ErrorKind::OutOfMemory => CURLM_OUT_OF_MEMORY,
        _ => CURLM_INTERNAL_ERROR,
    }
}

impl Inner {
    /// Settles every finished transfer's code (the easy handle's error
    /// buffer, the options its callbacks set) and queues its message.
    fn collect(&mut self) {
        while let Some(message) = self.multi.next_message() {
            let easy = message.token();
            // SAFETY: the token is the address of a handle that is added,
            // hence alive; no reference to it is in use here.
            let code = match unsafe { EasyHandle::from_ptr(easy as *mut c_void) } {
                Some(h) => h.end_transfer(message.result()),
                None => match message.result() {
                    Ok(()) => CURLE_OK,
                    Err(e) => code_of(&e),
                },
            };
            self.done.push_back((easy, code));
        }
    }

    /// Installs the socket callback (or none).
    fn install_socket_fn(&mut self) {
        let Some(f) = self.socket_fn else {
            self.multi.remove_socket_function();
            return;
        };
        let cb = SocketFn(f, self.socket_data);
        let _ = self.multi.socket_function(move |socket, events, token| {
            let cb = cb;
            // SAFETY: the application's curl_socket_callback, called as
            // libcurl documents: the easy handle, the socket, CURL_POLL_*,
            // CURLMOPT_SOCKETDATA and the socket's curl_multi_assign pointer.
            let rc = unsafe {
                (cb.0)(
                    events.handle_token() as *mut c_void,
                    socket,
                    events.bits(),
                    cb.1,
                    token as *mut c_void,
                )
            };
            rc != -1
        });
    }

    /// Installs the timer callback (or none).
    fn install_timer_fn(&mut self, m: *mut c_void) {
        let Some(f) = self.timer_fn else {
            self.multi.remove_timer_function();
            return;
        };
        let cb = TimerFn(f, self.timer_data, m);
        let _ = self.multi.timer_function(move |after| {
            let cb = cb;
            let ms = after.map_or(-1, millis);
            // SAFETY: the application's curl_multi_timer_callback, called as
            // libcurl documents: the multi handle, the milliseconds (-1: no
            // timer), CURLMOPT_TIMERDATA.
            let rc = unsafe { (cb.0)(cb.2, ms, cb.1) };
            rc != -1
        });
    }

    /// Stores the running count, if the caller wants it.
    fn running(&self, out: *mut c_int, n: u32) {
        // SAFETY: `out` is NULL or points to a writable int, as libcurl's
        // callers pass.
        if let Some(out) = unsafe { out.as_mut() } {
            *out = c_int::try_from(n).unwrap_or(c_int::MAX);
        }
    }

    /// Ends a perform or socket step: collects finished transfers, stores
    /// the running count and answers the step's code.
    fn stepped(&mut self, result: Result<u32, handover::Error>, running: *mut c_int) -> c_int {
        self.collect();
        match result {
            Ok(n) => {
                self.running(running, n);
                CURLM_OK
            }
            Err(e) => mcode(&e),
        }
    }
}

/// Runs `f` on a multi handle's state: `CURLM_BAD_HANDLE` for a bad
/// handle, `CURLM_RECURSIVE_API_CALL` from a callback.
///
/// # Safety
///
/// As [`CMulti::from_ptr`].
unsafe fn with_multi(m: *mut c_void, f: impl FnOnce(&mut Inner) -> CurlMcode) -> CurlMcode {
    // SAFETY: per the function's contract.
    let Some(cm) = (unsafe { CMulti::from_ptr(m) }) else {
        return CURLM_BAD_HANDLE;
    };
    match cm.enter() {
        Ok(mut busy) => f(busy.inner()),
        Err(code) => code,
    }
}

/// `curl_multi_init`: a new multi handle.
#[no_mangle]
pub extern "C" fn curl_multi_init() -> *mut c_void {
    guard(ptr::null_mut(), || {
        let mut multi = Multi::new();
        let waker = multi.waker().ok();
        let assigner = multi.assigner();
        let cm = Box::new(CMulti {
            magic: AtomicU32::new(MULTI_MAGIC),
            busy: AtomicBool::new(false),
            waker,
            assigner,
            inner: UnsafeCell::new(Inner {
                multi,
                members: HashMap::new(),
                next_order: 0,
                done: VecDeque::new(),
                socket_fn: None,
                socket_data: ptr::null_mut(),
                timer_fn: None,
                timer_data: ptr::null_mut(),
            }),
        });
        Box::into_raw(cm).cast::<c_void>()
    })
}

/// `curl_multi_cleanup`: closes every connection of the added handles
/// (which stay alive, no longer added) and frees the multi handle.
///
/// # Safety
///
/// `m` is NULL or a live multi handle, not used again afterwards.
#[no_mangle]
pub unsafe extern "C" fn curl_multi_cleanup(m: *mut c_void) -> CurlMcode {
    guard(CURLM_INTERNAL_ERROR, || {
        // SAFETY: per the function's contract.
        let Some(cm) = (unsafe { CMulti::from_ptr(m) }) else {
            return CURLM_BAD_HANDLE;
        };
        let Ok(busy) = cm.enter() else {
            return CURLM_RECURSIVE_API_CALL;
        };
        cm.magic.store(0, Ordering::Release);
        std::mem::forget(busy);
        // SAFETY: the pointer came from Box::into_raw in curl_multi_init and
        // is freed once (the magic is cleared first).
        let cm = unsafe { Box::from_raw(m.cast::<CMulti>()) };
        let mut inner = cm.inner.into_inner();
        {
            let mut attached = attached();
            for easy in inner.members.keys() {
                attached.remove(easy);
            }
        }
        // The Multi closes every connection through the lent Easys (the
        // handles are alive) before the members go.
        drop(inner.multi);
        inner.members.clear();
        CURLM_OK
    })
}

/// `curl_multi_add_handle`.
///
/// # Safety
///
/// `m` and `e` are NULL or live handles.
#[no_mangle]
pub unsafe extern "C" fn curl_multi_add_handle(m: *mut c_void, e: *mut c_void) -> CurlMcode {
    guard(CURLM_INTERNAL_ERROR, || {
        // SAFETY: per the function's contract.
        let Some(cm) = (unsafe { CMulti::from_ptr(m) }) else {
            return CURLM_BAD_HANDLE;
        };
        // SAFETY: per the function's contract; the borrow ends in this block.
        match unsafe { EasyHandle::from_ptr(e) } {
            None => return CURLM_BAD_EASY_HANDLE,
            // In its own curl_easy_perform: in libcurl's internal multi.
            Some(h) if h.busy => return CURLM_ADDED_ALREADY,
            Some(_) if attached().contains_key(&(e as usize)) => return CURLM_ADDED_ALREADY,
            Some(_) => {}
        }
        let Ok(mut busy) = cm.enter() else {
            return CURLM_RECURSIVE_API_CALL;
        };
        let inner = busy.inner();
        let order = inner.next_order;
        inner.next_order += 1;
        // The options are read when the transfer starts (`Lent::starting`).
        let handle = match inner.multi.add_lent(Box::new(Lent(e.cast::<EasyHandle>()))) {
            Ok(mut handle) => {
                handle.set_token(e as usize);
                Some(handle)
            }
            Err(err) => return mcode(&err),
        };
        inner.members.insert(
            e as usize,
            Member {
                handle,
                order,
                msg: Box::new(CurlMsg {
                    msg: 0,
                    easy_handle: e,
                    data: MsgData {
                        whatever: ptr::null_mut(),
                    },
                }),
            },
        );
        attached().insert(e as usize, m as usize);
        CURLM_OK
    })
}

/// Takes `e` out of the multi handle `m` (closing a connect-only
/// connection); the inner half of `curl_multi_remove_handle` and of
/// `curl_easy_cleanup` on an added handle.
fn remove(inner: &mut Inner, e: *mut c_void) {
    attached().remove(&(e as usize));
    inner.done.retain(|&(easy, _)| easy != e as usize);
    if let Some(member) = inner.members.remove(&(e as usize)) {
        if let Some(handle) = member.handle {
            // The lent Easy stays in the CURL *: what comes back is a blank.
            let _ = inner.multi.remove(handle);
        }
    }
}

/// `curl_multi_remove_handle`: a connect-only connection closes; removing
/// a handle that is in no multi handle is fine, as libcurl says.
///
/// # Safety
///
/// `m` and `e` are NULL or live handles.
#[no_mangle]
pub unsafe extern "C" fn curl_multi_remove_handle(m: *mut c_void, e: *mut c_void) -> CurlMcode {
    guard(CURLM_INTERNAL_ERROR, || {
        // SAFETY: per the function's contract.
        let Some(cm) = (unsafe { CMulti::from_ptr(m) }) else {
            return CURLM_BAD_HANDLE;
        };
        // SAFETY: per the function's contract; only checked.
        if unsafe { EasyHandle::from_ptr(e) }.is_none() {
            return CURLM_BAD_EASY_HANDLE;
        }
        match attached().get(&(e as usize)) {
            None => return CURLM_OK,
            Some(&owner) if owner != m as usize => return CURLM_BAD_EASY_HANDLE,
            Some(_) => {}
        }
        let Ok(mut busy) = cm.enter() else {
            return CURLM_RECURSIVE_API_CALL;
        };
        remove(busy.inner(), e);
        CURLM_OK
    })
}

/// Called by `curl_easy_cleanup` before it frees `e`: an added handle
/// leaves its multi handle first, as libcurl's `Curl_close` does. False
/// when it cannot (the call came from inside that multi handle's
/// callback): the handle must then not be freed.
///
/// # Safety
///
/// `e` is a live easy handle, no reference to which is in use.
pub(crate) unsafe fn before_easy_cleanup(e: *mut c_void) -> bool {
    let Some(m) = attached().get(&(e as usize)).copied() else {
        return true;
    };
    // SAFETY: a multi handle in ATTACHED is alive (cleanup empties it).
    let Some(cm) = (unsafe { CMulti::from_ptr(m as *mut c_void) }) else {
        return true;
    };
    match cm.enter() {
        Ok(mut busy) => {
            remove(busy.inner(), e);
            true
        }
        Err(_) => false,
    }
}

/// `curl_multi_perform`: advances every transfer without waiting.
///
/// # Safety
///
/// `m` is NULL or a live multi handle; `running` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn curl_multi_perform(m: *mut c_void, running: *mut c_int) -> CurlMcode {
    guard(CURLM_INTERNAL_ERROR, || {
        // SAFETY: per the function's contract.
        unsafe {
            with_multi(m, |inner| {
                let result = inner.multi.perform();
                inner.stepped(result, running)
            })
        }
    })
}

/// The body of `curl_multi_wait` and `curl_multi_poll`.
///
/// # Safety
///
/// As those functions.
unsafe fn wait(
    m: *mut c_void,
    extra: *mut CurlWaitfd,
    n: c_uint,
    timeout_ms: c_int,
    ret: *mut c_int,
    poll: bool,
) -> CurlMcode {
    // SAFETY: per the function's contract.
    unsafe {
        with_multi(m, |inner| {
            if timeout_ms < 0 || (extra.is_null() && n > 0) {
                return CURLM_BAD_FUNCTION_ARGUMENT;
            }
            let extra: &mut [CurlWaitfd] = if n == 0 {
                &mut []
            } else {
                // SAFETY: the caller's array holds `n` entries.
                std::slice::from_raw_parts_mut(extra, n as usize)
            };
            let mut fds: Vec<WaitFd> = extra
                .iter()
                .map(|w| {
                    let mut fd = WaitFd::new();
                    fd.set_fd(w.fd);
                    fd.poll_on_read(w.events & (CURL_WAIT_POLLIN | CURL_WAIT_POLLPRI) != 0)
                        .poll_on_write(w.events & CURL_WAIT_POLLOUT != 0);
                    fd
                })
                .collect();
            let timeout = Duration::from_millis(u64::try_from(timeout_ms).unwrap_or(0));
            let result = match poll {
                true => inner.multi.poll(&mut fds, timeout),
                false => inner.multi.wait(&mut fds, timeout),
            };
            for (w, fd) in extra.iter_mut().zip(&fds) {
                let mut revents = 0;
                if fd.received_read() && w.events & CURL_WAIT_POLLIN != 0 {
                    revents |= CURL_WAIT_POLLIN;
                }
                if fd.received_write() {
                    revents |= CURL_WAIT_POLLOUT;
                }
                w.revents = revents;
            }
            match result {
                Ok(ready) => {
                    // SAFETY: `ret` is NULL or writable.
                    if let Some(ret) = ret.as_mut() {
                        *ret = c_int::try_from(ready).unwrap_or(c_int::MAX);
                    }
                    CURLM_OK
                }
                Err(e) => mcode(&e),
            }
        })
    }
}

/// `curl_multi_wait`: waits for the transfers' descriptors, `extra_fds`,
/// or the next deadline, at most `timeout_ms`; returns at once when there
/// is nothing to wait on.
///
/// # Safety
///
/// `m` is NULL or a live multi handle; `extra_fds` holds `extra_nfds`
/// entries; `ret` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn curl_multi_wait(
    m: *mut c_void,
    extra_fds: *mut CurlWaitfd,
    extra_nfds: c_uint,
    timeout_ms: c_int,
    ret: *mut c_int,
) -> CurlMcode {
    guard(CURLM_INTERNAL_ERROR, || {
        // SAFETY: per the function's contract.
        unsafe { wait(m, extra_fds, extra_nfds, timeout_ms, ret, false) }
    })
}

/// `curl_multi_poll`: as `curl_multi_wait`, but sleeps the timeout when
/// there is nothing to wait on, and `curl_multi_wakeup` ends it.
///
/// # Safety
///
/// As `curl_multi_wait`.
#[no_mangle]
pub unsafe extern "C" fn curl_multi_poll(
    m: *mut c_void,
    extra_fds: *mut CurlWaitfd,
    extra_nfds: c_uint,
    timeout_ms: c_int,
    ret: *mut c_int,
) -> CurlMcode {
    guard(CURLM_INTERNAL_ERROR, || {
        // SAFETY: per the function's contract.
        unsafe { wait(m, extra_fds, extra_nfds, timeout_ms, ret, true) }
    })
}

/// `curl_multi_wakeup`: ends a `curl_multi_poll`, from any thread.
///
/// # Safety
///
/// `m` is NULL or a live multi handle.
#[no_mangle]
pub unsafe extern "C" fn curl_multi_wakeup(m: *mut c_void) -> CurlMcode {
    guard(CURLM_INTERNAL_ERROR, || {
        // SAFETY: per the function's contract; only the waker is touched.
        let Some(cm) = (unsafe { CMulti::from_ptr(m) }) else {
            return CURLM_BAD_HANDLE;
        };
        match &cm.waker {
            Some(waker) => {
                waker.wake();
                CURLM_OK
            }
            None => CURLM_WAKEUP_FAILURE,
        }
    })
}

/// `curl_multi_info_read`: the next completion message, valid until its
/// handle is removed; NULL when there is none (or from a callback).
///
/// # Safety
///
/// `m` is NULL or a live multi handle; `msgs_in_queue` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn curl_multi_info_read(
    m: *mut c_void,
    msgs_in_queue: *mut c_int,
) -> *mut CurlMsg {
    guard(ptr::null_mut(), || {
        // SAFETY: `msgs_in_queue` is NULL or writable.
        let mut left = unsafe { msgs_in_queue.as_mut() };
        if let Some(left) = left.as_deref_mut() {
            *left = 0;
        }
        // SAFETY: per the function's contract.
        let Some(cm) = (unsafe { CMulti::from_ptr(m) }) else {
            return ptr::null_mut();
        };
        let Ok(mut busy) = cm.enter() else {
            return ptr::null_mut();
        };
        let inner = busy.inner();
        while let Some((easy, code)) = inner.done.pop_front() {
            let Some(member) = inner.members.get_mut(&easy) else {
                continue;
            };
            *member.msg = CurlMsg {
                msg: CURLMSG_DONE,
                easy_handle: easy as *mut c_void,
                data: MsgData { result: code },
            };
            if let Some(left) = left {
                *left = c_int::try_from(inner.done.len()).unwrap_or(c_int::MAX);
            }
            return ptr::from_mut(&mut *member.msg);
        }
        ptr::null_mut()
    })
}

/// `curl_multi_timeout`: milliseconds until `curl_multi_perform` or
/// `curl_multi_socket_action(CURL_SOCKET_TIMEOUT)` is due; -1 for none.
///
/// # Safety
///
/// `m` is NULL or a live multi handle; `timeout_ms` is writable.
#[no_mangle]
pub unsafe extern "C" fn curl_multi_timeout(m: *mut c_void, timeout_ms: *mut c_long) -> CurlMcode {
    guard(CURLM_INTERNAL_ERROR, || {
        // SAFETY: per the function's contract.
        unsafe {
            with_multi(m, |inner| {
                // SAFETY: `timeout_ms` is NULL or writable.
                let Some(out) = timeout_ms.as_mut() else {
                    return CURLM_BAD_FUNCTION_ARGUMENT;
                };
                *out = inner.multi.timeout().map_or(-1, millis);
                CURLM_OK
            })
        }
    })
}

/// `curl_multi_fdset`: the transfers' descriptors in the caller's fd sets;
/// a descriptor `select` cannot take (≥ `FD_SETSIZE`) is left out, as
/// libcurl does, so `max_fd` may be -1 while transfers run.
///
/// # Safety
///
/// `m` is NULL or a live multi handle; each set is NULL or a writable
/// `fd_set`; `max_fd` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn curl_multi_fdset(
    m: *mut c_void,
    read_fd_set: *mut libc::fd_set,
    write_fd_set: *mut libc::fd_set,
    exc_fd_set: *mut libc::fd_set,
    max_fd: *mut c_int,
) -> CurlMcode {
    let _ = exc_fd_set; // libcurl leaves it alone too
    guard(CURLM_INTERNAL_ERROR, || {
        // SAFETY: per the function's contract.
        unsafe {
            with_multi(m, |inner| {
                let mut max = -1;
                for w in inner.multi.waitfds() {
                    let fd = w.fd();
                    if !(0..libc::FD_SETSIZE as c_int).contains(&fd) {
                        continue; // "pretend it doesn't exist"
                    }
                    if w.waits_for_read() && !read_fd_set.is_null() {
                        // SAFETY: a writable fd_set and 0 <= fd < FD_SETSIZE.
                        libc::FD_SET(fd, read_fd_set);
                    }
                    if w.waits_for_write() && !write_fd_set.is_null() {
                        // SAFETY: as above.
                        libc::FD_SET(fd, write_fd_set);
                    }
                    max = max.max(fd);
                }
                // SAFETY: `max_fd` is NULL or writable.
                if let Some(out) = max_fd.as_mut() {
                    *out = max;
                }
                CURLM_OK
            })
        }
    })
}

/// `curl_multi_waitfds` (libcurl 8.8): the transfers' descriptors as
/// `struct curl_waitfd`s; `fd_count` says how many there are, and a
/// too-small array is `CURLM_OUT_OF_MEMORY` (filled as far as it goes).
///
/// # Safety
///
/// `m` is NULL or a live multi handle; `ufds` holds `size` writable
/// entries or is NULL; `fd_count` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn curl_multi_waitfds(
    m: *mut c_void,
    ufds: *mut CurlWaitfd,
    size: c_uint,
    fd_count: *mut c_uint,
) -> CurlMcode {
    guard(CURLM_INTERNAL_ERROR, || {
        if ufds.is_null() && (size > 0 || fd_count.is_null()) {
            return CURLM_BAD_FUNCTION_ARGUMENT;
        }
        // SAFETY: per the function's contract.
        unsafe {
            with_multi(m, |inner| {
                let fds = inner.multi.waitfds();
                let need = c_uint::try_from(fds.len()).unwrap_or(c_uint::MAX);
                let mut code = CURLM_OK;
                if !ufds.is_null() {
                    // SAFETY: the caller's array holds `size` entries.
                    let out = std::slice::from_raw_parts_mut(ufds, size as usize);
                    for (slot, w) in out.iter_mut().zip(&fds) {
                        let mut events = 0;
                        if w.waits_for_read() {
                            events |= CURL_WAIT_POLLIN;
                        }
                        if w.waits_for_write() {
                            events |= CURL_WAIT_POLLOUT;
                        }
                        *slot = CurlWaitfd {
                            fd: w.fd(),
                            events,
                            revents: 0,
                        };
                    }
                    if need > size {
                        code = CURLM_OUT_OF_MEMORY;
                    }
                }
                // SAFETY: `fd_count` is NULL or writable.
                if let Some(count) = fd_count.as_mut() {
                    *count = need;
                }
                code
            })
        }
    })
}

/// The body of the socket functions.
///
/// # Safety
///
/// `m` is NULL or a live multi handle; `running` is NULL or writable.
unsafe fn socket(m: *mut c_void, s: c_int, bits: Option<c_int>, running: *mut c_int) -> CurlMcode {
    // SAFETY: per the function's contract.
    unsafe {
        with_multi(m, |inner| {
            let result = match bits {
                None => inner.multi.action_all(),
                Some(bits) => {
                    let mut events = Events::new();
                    events
                        .input(bits & CURL_CSELECT_IN != 0)
                        .output(bits & CURL_CSELECT_OUT != 0)
                        .error(bits & CURL_CSELECT_ERR != 0);
                    inner.multi.action(s, &events)
                }
            };
            inner.stepped(result, running)
        })
    }
}

/// `curl_multi_socket_action`: `s` had `ev_bitmask` (`CURL_CSELECT_*`),
/// or with `CURL_SOCKET_TIMEOUT` the timer expired.
///
/// # Safety
///
/// `m` is NULL or a live multi handle; `running` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn curl_multi_socket_action(
    m: *mut c_void,
    s: c_int,
    ev_bitmask: c_int,
    running: *mut c_int,
) -> CurlMcode {
    guard(CURLM_INTERNAL_ERROR, || {
        // SAFETY: per the function's contract.
        unsafe { socket(m, s, Some(ev_bitmask), running) }
    })
}

/// `curl_multi_socket` (deprecated): `curl_multi_socket_action` without
/// event bits.
///
/// # Safety
///
/// As `curl_multi_socket_action`.
#[no_mangle]
pub unsafe extern "C" fn curl_multi_socket(
    m: *mut c_void,
    s: c_int,
    running: *mut c_int,
) -> CurlMcode {
    guard(CURLM_INTERNAL_ERROR, || {
        // SAFETY: per the function's contract.
        unsafe { socket(m, s, Some(0), running) }
    })
}

/// `curl_multi_socket_all` (deprecated): every transfer advanced, every
/// socket change told.
///
/// # Safety
///
/// `m` is NULL or a live multi handle; `running` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn curl_multi_socket_all(m: *mut c_void, running: *mut c_int) -> CurlMcode {
    guard(CURLM_INTERNAL_ERROR, || {
        // SAFETY: per the function's contract.
        unsafe { socket(m, CURL_SOCKET_TIMEOUT, None, running) }
    })
}

/// `curl_multi_assign`: the pointer the socket callback gets for `s`;
/// `CURLM_BAD_SOCKET` for a socket it was not told about. Works from the
/// socket callback, as libcurl's.
///
/// # Safety
///
/// `m` is NULL or a live multi handle.
#[no_mangle]
pub unsafe extern "C" fn curl_multi_assign(m: *mut c_void, s: c_int, p: *mut c_void) -> CurlMcode {
    guard(CURLM_INTERNAL_ERROR, || {
        // SAFETY: per the function's contract.
        let Some(cm) = (unsafe { CMulti::from_ptr(m) }) else {
            return CURLM_BAD_HANDLE;
        };
        match cm.assigner.assign(s, p as usize) {
            Ok(()) => CURLM_OK,
            Err(_) => CURLM_BAD_SOCKET,
        }
    })
}

/// `curl_multi_get_handles` (libcurl 8.4): the added easy handles in the
/// order of adding, NULL-terminated, in memory `curl_free` releases.
///
/// # Safety
///
/// `m` is NULL or a live multi handle.
#[no_mangle]
pub unsafe extern "C" fn curl_multi_get_handles(m: *mut c_void) -> *mut *mut c_void {
    guard(ptr::null_mut(), || {
        // SAFETY: per the function's contract.
        let Some(cm) = (unsafe { CMulti::from_ptr(m) }) else {
            return ptr::null_mut();
        };
        let Ok(mut busy) = cm.enter() else {
            return ptr::null_mut();
        };
        let inner = busy.inner();
        let mut handles: Vec<(u64, usize)> = inner
            .members
            .iter()
            .map(|(&easy, member)| (member.order, easy))
            .collect();
        handles.sort_unstable();
        let size = (handles.len() + 1) * std::mem::size_of::<*mut c_void>();
        // SAFETY: malloc(3), as libcurl's own allocation (curl_free is free).
        let out = unsafe { libc::malloc(size) }.cast::<*mut c_void>();
        if out.is_null() {
            return ptr::null_mut();
        }
        for (i, &(_, easy)) in handles.iter().enumerate() {
            // SAFETY: `out` holds handles.len() + 1 pointers.
            unsafe { out.add(i).write(easy as *mut c_void) };
        }
        // SAFETY: as above; the last entry.
        unsafe { out.add(handles.len()).write(ptr::null_mut()) };
        out
    })
}

/// `curl_multi_strerror`: libcurl's text for a `CURLMcode`.
#[no_mangle]
pub extern "C" fn curl_multi_strerror(code: CurlMcode) -> *const c_char {
    guard(c"Unknown error".as_ptr(), || multi_strerror(code).as_ptr())
}

/// `curl_multi_setopt` for long options.
///
/// # Safety
///
/// `m` is NULL or a live multi handle.
#[no_mangle]
pub unsafe extern "C" fn handover_multi_setopt_long(
    m: *mut c_void,
    option: c_int,
    value: c_long,
) -> CurlMcode {
    guard(CURLM_INTERNAL_ERROR, || {
        let count = |v: c_long| usize::try_from(v).unwrap_or(0);
        // SAFETY: per the function's contract.
        unsafe {
            with_multi(m, |inner| {
                let multi = &mut inner.multi;
                let _ = match option {
                    CURLMOPT_PIPELINING => multi
                        .pipelining(value & CURLPIPE_HTTP1 != 0, value & CURLPIPE_MULTIPLEX != 0),
                    // libcurl 8 ignores a value past UINT_MAX (a negative one).
                    CURLMOPT_MAXCONNECTS if value < 0 => Ok(()),
                    CURLMOPT_MAXCONNECTS => multi.set_max_connects(count(value)),
                    CURLMOPT_MAX_HOST_CONNECTIONS => multi.set_max_host_connections(count(value)),
                    CURLMOPT_MAX_TOTAL_CONNECTIONS => multi.set_max_total_connections(count(value)),
                    // Pipelining's and HTTP/2's: accepted, nothing to do.
                    CURLMOPT_MAX_PIPELINE_LENGTH | CURLMOPT_MAX_CONCURRENT_STREAMS => Ok(()),
                    _ => return CURLM_UNKNOWN_OPTION,
                };
                CURLM_OK
            })
        }
    })
}

/// `curl_multi_setopt` for pointer and function options.
///
/// # Safety
///
/// `m` is NULL or a live multi handle; a function option's value is NULL
/// or a function of the option's type.
#[no_mangle]
pub unsafe extern "C" fn handover_multi_setopt_ptr(
    m: *mut c_void,
    option: c_int,
    value: *mut c_void,
) -> CurlMcode {
    guard(CURLM_INTERNAL_ERROR, || {
        // SAFETY: per the function's contract.
        unsafe {
            with_multi(m, |inner| {
                match option {
                    CURLMOPT_SOCKETFUNCTION => {
                        // SAFETY: shim.c passes the curl_socket_callback as a
                        // pointer of the same size; NULL is None.
                        inner.socket_fn =
                            std::mem::transmute::<*mut c_void, Option<SocketCallback>>(value);
                        inner.install_socket_fn();
                    }
                    CURLMOPT_SOCKETDATA => {
                        inner.socket_data = value;
                        inner.install_socket_fn();
                    }
                    CURLMOPT_TIMERFUNCTION => {
                        // SAFETY: as for the socket callback.
                        inner.timer_fn =
                            std::mem::transmute::<*mut c_void, Option<TimerCallback>>(value);
                        inner.install_timer_fn(m);
                    }
                    CURLMOPT_TIMERDATA => {
                        inner.timer_data = value;
                        inner.install_timer_fn(m);
                    }
                    // HTTP/2 server push never happens; pipelining's lists
                    // are gone: accepted, as libcurl 8 does.
                    CURLMOPT_PUSHFUNCTION
                    | CURLMOPT_PUSHDATA
                    | CURLMOPT_PIPELINING_SITE_BL
                    | CURLMOPT_PIPELINING_SERVER_BL => {}
                    _ => return CURLM_UNKNOWN_OPTION,
                }
                CURLM_OK
            })
        }
    })
}

/// `curl_multi_setopt` for `curl_off_t` options: the pipelining penalties
/// libcurl 8 accepts and ignores.
///
/// # Safety
///
/// `m` is NULL or a live multi handle.
#[no_mangle]
pub unsafe extern "C" fn handover_multi_setopt_off_t(
    m: *mut c_void,
    option: c_int,
    value: i64,
) -> CurlMcode {
    let _ = value;
    guard(CURLM_INTERNAL_ERROR, || {
        // SAFETY: per the function's contract.
        unsafe {
            with_multi(m, |_| match option {
                CURLMOPT_CONTENT_LENGTH_PENALTY_SIZE | CURLMOPT_CHUNK_LENGTH_PENALTY_SIZE => {
                    CURLM_OK
                }
                _ => CURLM_UNKNOWN_OPTION,
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curlmsg_and_waitfd_have_libcurls_layout() {
        assert_eq!(std::mem::size_of::<CurlMsg>(), 24);
        assert_eq!(std::mem::offset_of!(CurlMsg, easy_handle), 8);
        assert_eq!(std::mem::offset_of!(CurlMsg, data), 16);
        assert_eq!(std::mem::size_of::<CurlWaitfd>(), 8);
    }

    #[test]
    fn timer_milliseconds_round_up_and_say_zero_only_when_due() {
        assert_eq!(millis(Duration::ZERO), 0);
        assert_eq!(millis(Duration::from_micros(10)), 1);
        assert_eq!(millis(Duration::from_micros(1500)), 2);
        assert_eq!(millis(Duration::from_millis(300)), 300);
    }
}
