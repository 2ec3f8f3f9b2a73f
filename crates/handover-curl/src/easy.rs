//! `CURL *`: one `handover::Easy` per handle, the state libcurl keeps
//! beside the options (callbacks, data pointers, the request method, the
//! lists read at perform time), and the easy functions that take no
//! variadic argument (`curl_easy_init`, `_perform`, `_send`, `_recv`,
//! `_cleanup`, `_reset`, `_duphandle`, `_upkeep`, `_pause`, `_strerror`).
//!
//! # Callbacks and re-entry
//!
//! The C callbacks run inside `Easy::perform`, on the caller's thread, and
//! may call libcurl on the same handle (`curl_easy_getinfo`, `_setopt`,
//! `curl_ws_meta`, ...). So no Rust reference into an [`EasyHandle`] lives
//! across a call into C or into a transfer: `perform` moves the `Easy` out
//! of the handle, marks it busy and lets go of it; the closures handover
//! calls hold a [`HandlePtr`] and borrow the handle only to copy out what
//! they need. A call that libcurl refuses from a callback (`perform`,
//! `send`, `recv`, `reset`, `upkeep`) answers `CURLE_RECURSIVE_API_CALL`
//! (93) while the handle is busy; `cleanup` is ignored then, as libcurl's.
//! Options set from a callback are checked at once and take effect when the
//! transfer is over.

use std::ffi::{c_char, c_int, c_long, c_void, CString};
use std::ptr;

use handover::{Easy, InfoType, ReadError, WriteError};

use crate::codes::*;
use crate::guard;
use crate::options::{self, Value};

/// Tells a live handle from garbage, as libcurl's `GOOD_EASY_HANDLE`.
const MAGIC: u32 = 0xc243_f72b;

/// `curl_write_callback` (also `CURLOPT_HEADERFUNCTION`'s and
/// `CURLOPT_READFUNCTION`'s shape).
pub(crate) type DataCallback =
    unsafe extern "C" fn(*mut c_char, usize, usize, *mut c_void) -> usize;
/// `curl_debug_callback`.
pub(crate) type DebugCallback =
    unsafe extern "C" fn(*mut c_void, c_int, *mut c_char, usize, *mut c_void) -> c_int;
/// `curl_xferinfo_callback`.
pub(crate) type XferinfoCallback = unsafe extern "C" fn(*mut c_void, i64, i64, i64, i64) -> c_int;
/// `curl_progress_callback`.
pub(crate) type ProgressCallback = unsafe extern "C" fn(*mut c_void, f64, f64, f64, f64) -> c_int;
/// `curl_opensocket_callback`.
pub(crate) type OpenSocketCallback =
    unsafe extern "C" fn(*mut c_void, c_int, *mut CurlSockaddr) -> c_int;
/// `curl_sockopt_callback`.
pub(crate) type SockoptCallback = unsafe extern "C" fn(*mut c_void, c_int, c_int) -> c_int;
/// `curl_closesocket_callback`.
pub(crate) type CloseSocketCallback = unsafe extern "C" fn(*mut c_void, c_int) -> c_int;
/// `curl_seek_callback`.
pub(crate) type SeekCallback = unsafe extern "C" fn(*mut c_void, i64, c_int) -> c_int;
/// `curl_prereq_callback`.
pub(crate) type PrereqCallback =
    unsafe extern "C" fn(*mut c_void, *mut c_char, *mut c_char, c_int, c_int) -> c_int;

/// `curl_resolver_start_callback`.
pub(crate) type ResolverStartCallback =
    unsafe extern "C" fn(*mut c_void, *mut c_void, *mut c_void) -> c_int;

/// libcurl's `struct curl_sockaddr`, with room for any address: the
/// header declares `struct sockaddr addr`, and libcurl, too, passes a
/// larger storage behind it (an IPv6 address does not fit 16 bytes).
#[repr(C)]
pub(crate) struct CurlSockaddr {
    family: c_int,
    socktype: c_int,
    protocol: c_int,
    addrlen: libc::c_uint,
    addr: libc::sockaddr_storage,
}

extern "C" {
    /// shim.c: the C library's `stdout`.
    fn handover_c_stdout() -> *mut libc::FILE;
    /// shim.c: the C library's `stderr`.
    fn handover_c_stderr() -> *mut libc::FILE;
    /// shim.c: the C library's `stdin`.
    fn handover_c_stdin() -> *mut libc::FILE;
}

/// The application's callbacks and their data pointers, as libcurl keeps
/// them (`NULL` functions mean libcurl's defaults: `fwrite` to the write
/// data or stdout, `fread` from the read data or stdin, verbose text to
/// `CURLOPT_STDERR`).
#[derive(Clone, Copy)]
pub(crate) struct Callbacks {
    pub write: Option<DataCallback>,
    pub write_data: *mut c_void,
    pub header: Option<DataCallback>,
    pub header_data: *mut c_void,
    pub read: Option<DataCallback>,
    pub read_data: *mut c_void,
    pub debug: Option<DebugCallback>,
    pub debug_data: *mut c_void,
    pub xferinfo: Option<XferinfoCallback>,
    pub progress: Option<ProgressCallback>,
    pub progress_data: *mut c_void,
    /// `CURLOPT_NOPROGRESS`: 1 by default, so no progress calls.
    pub noprogress: bool,
    /// `CURLOPT_STDERR`; NULL is the C library's `stderr`.
    pub stderr: *mut libc::FILE,
    /// `CURLOPT_HEADER`: headers go to the write callback too.
    pub include_header: bool,
    pub opensocket: Option<OpenSocketCallback>,
    pub opensocket_data: *mut c_void,
    pub sockopt: Option<SockoptCallback>,
    pub sockopt_data: *mut c_void,
    pub closesocket: Option<CloseSocketCallback>,
    pub closesocket_data: *mut c_void,
    pub prereq: Option<PrereqCallback>,
    pub prereq_data: *mut c_void,
    pub resolver_start: Option<ResolverStartCallback>,
    pub resolver_start_data: *mut c_void,
    pub seek: Option<SeekCallback>,
    pub seek_data: *mut c_void,
}

impl Default for Callbacks {
    fn default() -> Callbacks {
        Callbacks {
            write: None,
            write_data: ptr::null_mut(),
            header: None,
            header_data: ptr::null_mut(),
            read: None,
            read_data: ptr::null_mut(),
            debug: None,
            debug_data: ptr::null_mut(),
            xferinfo: None,
            progress: None,
            progress_data: ptr::null_mut(),
            noprogress: true,
            stderr: ptr::null_mut(),
            include_header: false,
            opensocket: None,
            opensocket_data: ptr::null_mut(),
            sockopt: None,
            sockopt_data: ptr::null_mut(),
            closesocket: None,
            closesocket_data: ptr::null_mut(),
            prereq: None,
            prereq_data: ptr::null_mut(),
            resolver_start: None,
            resolver_start_data: ptr::null_mut(),
            seek: None,
            seek_data: ptr::null_mut(),
        }
    }
}

/// What one transfer has done so far, for the progress callback, the
/// infos libcurl updates live, and the codes of callback refusals.
#[derive(Clone, Copy, Default)]
pub(crate) struct Live {
    /// Body bytes handed to the write callback.
    pub dlnow: i64,
    /// `Content-Length` of the response, once seen; 0 if unknown.
    pub dltotal: i64,
    /// Upload bytes the read callback gave.
    pub ulnow: i64,
    /// The upload size, when known (`CURLOPT_INFILESIZE`, post size).
    pub ultotal: i64,
    /// Bytes of response header lines (`CURLINFO_HEADER_SIZE`).
    pub header_size: i64,
    /// The status of the last response line seen.
    pub status: c_long,
    /// Its HTTP version as `CURL_HTTP_VERSION_*`.
    pub http_version: c_long,
    /// Request body bytes given as data (`CURLOPT_POSTFIELDS`), sent
    /// without the read callback.
    pub body_bytes: i64,
    /// The scheme of the URL being transferred, in lower case, for
    /// `CURLINFO_SCHEME` asked from a callback.
    pub scheme: Option<&'static str>,
    /// The progress callback asked to stop (42).
    pub aborted: bool,
    /// A write or header callback asked to pause, which is not built in.
    pub paused: bool,
    /// The read callback answered `CURL_READFUNC_PAUSE`: it is not called
    /// again until `curl_easy_pause` lets the upload go on.
    pub read_paused: bool,
    /// The read callback returned more than it was offered.
    pub funny_read: bool,
}

/// The request method as libcurl tracks it across `CURLOPT_POST`,
/// `_POSTFIELDS`, `_UPLOAD`, `_NOBODY` and `_HTTPGET`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Method {
    #[default]
    Get,
    Post,
    Put,
    Head,
}

/// Settings libcurl reads when the transfer starts rather than when they
/// are set: the body pointer and sizes, and the lists, which the
/// application may still change after `curl_easy_setopt`.
#[derive(Clone)]
pub(crate) struct Request {
    pub method: Method,
    /// `CURLOPT_POSTFIELDS`: the application's bytes, read at perform time.
    pub postfields: *const c_char,
    /// `CURLOPT_COPYPOSTFIELDS`: our copy.
    pub copied: Option<Vec<u8>>,
    /// `CURLOPT_POSTFIELDSIZE(_LARGE)`; -1 is unknown (strlen, or chunked).
    pub postfieldsize: i64,
    /// `CURLOPT_INFILESIZE(_LARGE)`; -1 is unknown.
    pub infilesize: i64,
    pub httpheader: *const Slist,
    pub proxyheader: *const Slist,
    pub resolve: *const Slist,
    pub connect_to: *const Slist,
    /// `CURLOPT_HEADEROPT` is `CURLHEADER_UNIFIED`: `HTTPHEADER` goes to
    /// proxies too.
    pub unified_headers: bool,
    /// The body size last given to the `Easy`, which cannot be unset.
    pub applied_size: Option<u64>,
    /// `CURLOPT_NOBODY`, kept apart from the method as libcurl does.
    pub nobody: bool,
    /// `CURLOPT_FILETIME`: `CURLINFO_FILETIME` reads `Last-Modified`.
    pub filetime: bool,
}

impl Default for Request {
    fn default() -> Request {
        Request {
            method: Method::Get,
            postfields: ptr::null(),
            copied: None,
            postfieldsize: -1,
            infilesize: -1,
            httpheader: ptr::null(),
            proxyheader: ptr::null(),
            resolve: ptr::null(),
            connect_to: ptr::null(),
            unified_headers: false,
            applied_size: None,
            nobody: false,
            filetime: false,
        }
    }
}

/// libcurl's `struct curl_slist`.
#[repr(C)]
pub struct Slist {
    /// The string (allocated with `malloc`).
    pub data: *mut c_char,
    /// The next node, or NULL.
    pub next: *mut Slist,
}

/// libcurl's `struct curl_ws_frame`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct WsFrame {
    /// Always 0.
    pub age: c_int,
    /// `CURLWS_*` bits.
    pub flags: c_int,
    /// Where this chunk starts in the frame's payload.
    pub offset: i64,
    /// Payload bytes still to come.
    pub bytesleft: i64,
    /// Bytes in this chunk.
    pub len: usize,
}

/// What a `CURL *` points to.
///
/// Reach it through [`EasyHandle::from_ptr`], and never keep that borrow
/// across a call into C or a transfer (see the module docs): code that
/// runs a transfer moves `easy` out first (`std::mem::take`), as
/// `curl_easy_perform` does, with [`EasyHandle::begin_transfer`] before
/// and [`EasyHandle::end_transfer`] after.
pub(crate) struct EasyHandle {
    magic: u32,
    /// The options and the last transfer's outcome. A default `Easy` stands
    /// in while a transfer has the real one.
    pub(crate) easy: Easy,
    /// A transfer of this handle is running: its callbacks may come.
    pub(crate) busy: bool,
    /// `CURLOPT_ERRORBUFFER`: filled with the message of every failure.
    pub(crate) error_buffer: *mut c_char,
    /// `CURLOPT_PRIVATE`.
    pub(crate) private: *mut c_void,
    /// Strings handed out by `curl_easy_getinfo`, one per info, replaced
    /// only when the value changes: valid until the next transfer.
    pub(crate) info_strings: Vec<(c_int, CString)>,
    /// `CURLOPT_URL`'s copy, for `CURLINFO_EFFECTIVE_URL` before a
    /// connection says more.
    pub(crate) url: Option<CString>,
    /// The scheme of `url`, in lower case, worked out when the URL is set
    /// (not at every perform), for `CURLINFO_SCHEME` asked from a callback.
    pub(crate) url_scheme: Option<&'static str>,
    /// `CURLOPT_CUSTOMREQUEST`'s copy, for `CURLINFO_EFFECTIVE_METHOD`.
    pub(crate) custom_request: Option<CString>,
    /// A transfer has been started on the handle.
    pub(crate) performed: bool,
    pub(crate) cb: Callbacks,
    pub(crate) req: Request,
    pub(crate) live: Live,
    /// Every option set, the last setting of each in the order set: what
    /// `curl_easy_duphandle` copies and a rebuild of `easy` replays.
    pub(crate) log: Vec<(c_int, Value)>,
    /// Options set from a callback, applied when the transfer is over.
    pub(crate) pending: Vec<(c_int, Value)>,
    /// An option went back to its default in a way the `Easy` cannot be
    /// told: the next transfer starts from a fresh `Easy` and the log.
    pub(crate) rebuild: bool,
    /// `curl_easy_header`'s answer, valid until the next call.
    pub(crate) header_out: crate::header::HeaderOut,
    /// `curl_ws_recv`'s and `curl_ws_meta`'s frame.
    pub(crate) ws_frame: WsFrame,
    /// `CURLOPT_SHARE`: the share handle this handle is attached to.
    pub(crate) share: *mut c_void,
    /// `CURLINFO_CERTINFO`'s answer, kept until the chain changes.
    pub(crate) certinfo: Option<crate::certinfo::CertInfoHold>,
}

/// A handle's address for the closures handover keeps.
#[derive(Clone, Copy)]
pub(crate) struct HandlePtr(pub(crate) *mut EasyHandle);

// SAFETY: libcurl's contract is that a handle is used by one thread at a
// time, and handover calls the closures on the thread running the
// transfer; the pointer is only dereferenced there, while the handle lives
// (curl_easy_cleanup drops the Easy holding these closures first).
unsafe impl Send for HandlePtr {}

impl HandlePtr {
    /// The handle, borrowed briefly.
    ///
    /// # Safety
    ///
    /// The handle is alive and no other reference to it is in use (the
    /// module's discipline: nobody holds one across a transfer or a
    /// callback).
    #[allow(clippy::mut_from_ref)]
    unsafe fn get(&self) -> &mut EasyHandle {
        // SAFETY: per the function's contract.
        unsafe { &mut *self.0 }
    }
}

impl EasyHandle {
    /// A new handle with libcurl's defaults, boxed so that its address is
    /// stable for the closures.
    pub(crate) fn new_boxed() -> Box<EasyHandle> {
        let mut handle = Box::new(EasyHandle {
            magic: MAGIC,
            easy: Easy::new(),
            busy: false,
            error_buffer: ptr::null_mut(),
            private: ptr::null_mut(),
            info_strings: Vec::new(),
            url: None,
            url_scheme: None,
            custom_request: None,
            performed: false,
            cb: Callbacks::default(),
            req: Request::default(),
            live: Live::default(),
            log: Vec::new(),
            pending: Vec::new(),
            rebuild: false,
            header_out: crate::header::HeaderOut::default(),
            ws_frame: WsFrame::default(),
            share: ptr::null_mut(),
            certinfo: None,
        });
        handle.install_callbacks();
        handle
    }

    /// Back to libcurl's defaults in place (`curl_easy_reset`).
    fn reset(&mut self) {
        self.easy = Easy::new();
        self.error_buffer = ptr::null_mut();
        self.private = ptr::null_mut();
        self.info_strings.clear();
        self.url = None;
        self.url_scheme = None;
        self.custom_request = None;
        self.performed = false;
        self.cb = Callbacks::default();
        self.req = Request::default();
        self.live = Live::default();
        self.log.clear();
        self.pending.clear();
        self.rebuild = false;
        self.header_out = crate::header::HeaderOut::default();
        self.ws_frame = WsFrame::default();
        self.install_callbacks();
        // The share is not among what libcurl's reset clears (it is the
        // handle's, not an option's): the fresh Easy uses it too, and a
        // rebuild replays it.
        // SAFETY: the share is NULL or the live share CURLOPT_SHARE
        // attached (libcurl's contract: it outlives its users).
        if let Some(share) = unsafe { crate::share::Share::from_ptr(self.share) } {
            let _ = self.easy.share(Some(&share.inner));
            self.log.push((CURLOPT_SHARE, Value::Ptr(self.share)));
        }
    }

    /// Gives `easy` the closures that call the application's C callbacks
    /// (or libcurl's defaults).
    pub(crate) fn install_callbacks(&mut self) {
        let me = HandlePtr(ptr::from_mut(self));
        // These setters only store the closures; they cannot fail.
        let _ = self
            .easy
            .write_function(move |data| write_callback(me, data));
        let _ = self
            .easy
            .header_function(move |line| header_callback(me, line));
        let _ = self.easy.read_function(move |buf| read_callback(me, buf));
        let _ = self
            .easy
            .debug_function(move |kind, data| debug_callback(me, kind, data));
    }

    /// Gives `easy` the socket, pre-request and resolver start functions
    /// set now, each calling the application's C function with the data
    /// pointer set now (libcurl, too, gives a connection the close function and data of
    /// the transfer that opened it). Called when a transfer starts.
    pub(crate) fn install_socket_callbacks(&mut self) {
        self.easy.clear_socket_functions();
        let cb = self.cb;
        if let Some(f) = cb.opensocket {
            let data = SendPtr(cb.opensocket_data);
            let _ = self.easy.open_socket_function(move |purpose, request| {
                open_socket(f, &data, purpose, request)
            });
        }
        if let Some(f) = cb.sockopt {
            let data = SendPtr(cb.sockopt_data);
            let _ = self.easy.sockopt_function(move |fd, purpose| {
                use std::os::fd::AsRawFd as _;
                // SAFETY: the application's sockopt callback, called as
                // libcurl documents it, with its own data pointer.
                let rc = unsafe { f(data.get(), fd.as_raw_fd(), purpose.as_raw()) };
                match rc {
                    0 => handover::SockoptResult::Ok,
                    2 => handover::SockoptResult::AlreadyConnected,
                    _ => handover::SockoptResult::Error,
                }
            });
        }
        if let Some(f) = cb.closesocket {
            let data = SendPtr(cb.closesocket_data);
            let _ = self.easy.close_socket_function(move |fd| {
                use std::os::fd::IntoRawFd as _;
                // SAFETY: the application's close callback, called as
                // libcurl documents it; the descriptor is its to close.
                unsafe { f(data.get(), fd.into_raw_fd()) };
            });
        }
        if let Some(f) = cb.prereq {
            let data = SendPtr(cb.prereq_data);
            let _ = self.easy.prereq_function(move |primary, local| {
                let primary_ip = CString::new(primary.ip().to_string()).unwrap_or_default();
                let local_ip = CString::new(local.ip().to_string()).unwrap_or_default();
                // SAFETY: the application's pre-request callback, called as
                // libcurl documents it: the strings live for the call.
                let rc = unsafe {
                    f(
                        data.get(),
                        primary_ip.as_ptr().cast_mut(),
                        local_ip.as_ptr().cast_mut(),
                        c_int::from(primary.port()),
                        c_int::from(local.port()),
                    )
                };
                rc == CURL_PREREQFUNC_OK as c_int
            });
        }
        if let Some(f) = cb.resolver_start {
            let data = SendPtr(cb.resolver_start_data);
            let _ = self.easy.resolver_start_function(move |_host| {
                // SAFETY: the application's resolver start callback, called
                // as libcurl documents it. handover has no resolver state
                // to give (libcurl's is its c-ares channel or thread data):
                // NULL, as a libcurl built with the synchronous resolver.
                let rc = unsafe { f(ptr::null_mut(), ptr::null_mut(), data.get()) };
                rc == 0
            });
        }
        self.install_seek_callback();
    }

    /// Gives `easy` the rewind libcurl's `Curl_readrewind` does: the
    /// application's seek callback with its data, else — when the body is
    /// libcurl's default `fread` — `fseek` on the read data (stdin by
    /// default); with a read callback and no seek callback, none (65).
    /// A rewind to the start begins the upload's counters again (libcurl
    /// resets them for the retry), so `CURLINFO_SIZE_UPLOAD` and the
    /// progress callback count the body once.
    fn install_seek_callback(&mut self) {
        let cb = self.cb;
        let me = HandlePtr(ptr::from_mut(self));
        let restart_counters = move |to: std::io::SeekFrom, answer: handover::SeekResult| {
            if answer == handover::SeekResult::Ok && to == std::io::SeekFrom::Start(0) {
                // SAFETY: on the transfer's thread, no other borrow alive.
                unsafe { me.get() }.live.ulnow = 0;
            }
            answer
        };
        if let Some(f) = cb.seek {
            let data = SendPtr(cb.seek_data);
            let _ = self.easy.seek_function(move |to| {
                let offset = match to {
                    std::io::SeekFrom::Start(n) => i64::try_from(n).unwrap_or(i64::MAX),
                    std::io::SeekFrom::Current(n) | std::io::SeekFrom::End(n) => n,
                };
                let origin = match to {
                    std::io::SeekFrom::Start(_) => libc::SEEK_SET,
                    std::io::SeekFrom::Current(_) => libc::SEEK_CUR,
                    std::io::SeekFrom::End(_) => libc::SEEK_END,
                };
                // SAFETY: the application's seek callback, called as libcurl
                // documents it, with its own data pointer.
                let answer = match unsafe { f(data.get(), offset, origin) } {
                    0 => handover::SeekResult::Ok,
                    2 => handover::SeekResult::CantSeek,
                    _ => handover::SeekResult::Fail,
                };
                restart_counters(to, answer)
            });
        } else if cb.read.is_none() {
            let data = SendPtr(cb.read_data);
            let _ = self.easy.seek_function(move |to| {
                let file = if data.get().is_null() {
                    // SAFETY: reads the C library's stdin pointer.
                    unsafe { handover_c_stdin() }
                } else {
                    data.get().cast::<libc::FILE>()
                };
                // SAFETY: `file` is the FILE * given as read data (libcurl's
                // contract for the default read function) or stdin.
                let answer = if unsafe { libc::fseek(file, 0, libc::SEEK_SET) } == -1 {
                    handover::SeekResult::CantSeek
                } else {
                    handover::SeekResult::Ok
                };
                restart_counters(to, answer)
            });
        } else {
            self.easy.clear_seek_function();
        }
    }

    /// The handle behind a `CURL *`, or `None` for NULL or a pointer that is
    /// not a live handle of ours.
    ///
    /// # Safety
    ///
    /// `handle` is NULL or a pointer `curl_easy_init` returned that
    /// `curl_easy_cleanup` has not freed, used by one thread at a time (the
    /// libcurl contract), and no other reference to it is in use.
    pub(crate) unsafe fn from_ptr<'a>(handle: *mut c_void) -> Option<&'a mut EasyHandle> {
        // SAFETY: the caller promises a live handle or NULL; the magic check
        // catches the common misuse of a freed or foreign pointer.
        let handle = unsafe { handle.cast::<EasyHandle>().as_mut()? };
        (handle.magic == MAGIC).then_some(handle)
    }

    /// Writes `text` into `CURLOPT_ERRORBUFFER`, if set.
    pub(crate) fn set_error_text(&mut self, text: &str) {
        if self.error_buffer.is_null() {
            return;
        }
        let bytes = text.as_bytes();
        let n = bytes.len().min(CURL_ERROR_SIZE as usize - 1);
        // SAFETY: libcurl's contract: the buffer holds CURL_ERROR_SIZE bytes
        // and lives while it is set; we write at most that many.
        unsafe {
            ptr::copy_nonoverlapping(bytes.as_ptr().cast::<c_char>(), self.error_buffer, n);
            *self.error_buffer.add(n) = 0;
        }
    }

    /// The text of the failure `code` just reported: what the error buffer
    /// holds, else libcurl's text for the code.
    pub(crate) fn error_text(&self, code: CurlCode) -> String {
        if !self.error_buffer.is_null() {
            // SAFETY: the buffer holds CURL_ERROR_SIZE bytes, NUL-terminated
            // by `set_error_text` or cleared by `begin_transfer`.
            let text = unsafe { std::ffi::CStr::from_ptr(self.error_buffer) };
            if !text.is_empty() {
                return text.to_string_lossy().into_owned();
            }
        }
        strerror(code).to_string_lossy().into_owned()
    }

    /// Keeps a failure's message in `CURLOPT_ERRORBUFFER` and answers its
    /// code.
    pub(crate) fn fail(&mut self, error: &handover::Error) -> CurlCode {
        self.set_error_text(&error.to_string());
        code_of(error)
    }

    /// A failure of the C layer itself: libcurl's text for the code goes to
    /// the error buffer.
    pub(crate) fn fail_code(&mut self, code: CurlCode, text: Option<&str>) -> CurlCode {
        match text {
            Some(text) => self.set_error_text(text),
            None => {
                let generic = strerror(code).to_string_lossy().into_owned();
                self.set_error_text(&generic);
            }
        }
        code
    }

    /// Gets the handle ready for a transfer: clears the error buffer and
    /// the live counters, and gives the `Easy` what libcurl reads at
    /// perform time (the method, the body, the lists). Call before moving
    /// `easy` out.
    pub(crate) fn begin_transfer(&mut self) -> CurlCode {
        if !self.error_buffer.is_null() {
            // SAFETY: the error buffer holds CURL_ERROR_SIZE bytes.
            unsafe { *self.error_buffer = 0 };
        }
        self.live = Live {
            scheme: self.url_scheme,
            ..Live::default()
        };
        self.header_out = crate::header::HeaderOut::default();
        self.performed = true;
        match options::apply_at_perform(self) {
            Ok(()) => CURLE_OK,
            Err(code) => code,
        }
    }

    /// The code of a finished transfer, with the callbacks' own refusals
    /// told apart (progress abort 42, pause 23, a funny read 26); its
    /// message goes to the error buffer. Applies the options set from
    /// callbacks. Call after putting `easy` back.
    pub(crate) fn end_transfer(&mut self, result: Result<(), handover::Error>) -> CurlCode {
        self.busy = false;
        let pending = std::mem::take(&mut self.pending);
        for (option, value) in pending {
            let _ = options::set_value(self, option, value);
        }
        let live = self.live;
        match result {
            Ok(()) => CURLE_OK,
            Err(_) if live.aborted => {
                self.fail_code(CURLE_ABORTED_BY_CALLBACK, Some("Callback aborted"))
            }
            Err(_) if live.funny_read => {
                self.fail_code(CURLE_READ_ERROR, Some("read function returned funny value"))
            }
            Err(_) if live.paused => self.fail_code(
                CURLE_WRITE_ERROR,
                Some("a callback asked to pause the transfer: pausing is not built in"),
            ),
            Err(e) => self.fail(&e),
        }
    }
}

/// Clears `busy` if a transfer unwinds, so that the handle stays usable.
struct BusyGuard(*mut EasyHandle);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        // SAFETY: the guard lives inside curl_easy_perform, while the handle
        // does, and no reference to the handle is in use when it drops.
        unsafe { (*self.0).busy = false };
    }
}

/// Runs one transfer of the handle at `handle` (`curl_easy_perform`).
fn perform(handle: *mut EasyHandle) -> CurlCode {
    let me = HandlePtr(handle);
    let mut easy = {
        // SAFETY: the caller checked the handle; nothing else borrows it.
        let h = unsafe { me.get() };
        let code = h.begin_transfer();
        if code != CURLE_OK {
            return code;
        }
        h.busy = true;
        std::mem::take(&mut h.easy)
    };
    let busy = BusyGuard(handle);
    let aborted =
        || handover::Error::new(handover::ErrorKind::AbortedByCallback, "Callback aborted");
    let result = if progress(me) {
        easy.perform().and_then(|()| {
            // The last call reports the body as sent, also one given as
            // data (CURLOPT_POSTFIELDS), which no read callback counted.
            let sent = i64::try_from(easy.info().size_upload()).unwrap_or(i64::MAX);
            // SAFETY: the transfer is over; nothing else borrows the handle.
            let live = &mut unsafe { me.get() }.live;
            live.ulnow = live.ulnow.max(sent);
            if progress(me) {
                Ok(())
            } else {
                Err(aborted())
            }
        })
    } else {
        Err(aborted())
    };
    drop(busy);
    // SAFETY: the transfer is over; nothing else borrows the handle.
    let h = unsafe { me.get() };
    h.easy = easy;
    h.end_transfer(result)
}

/// Calls the progress callback, if any and if `CURLOPT_NOPROGRESS` is 0;
/// false when it asks to stop (it is then marked in `live`).
pub(crate) fn progress(me: HandlePtr) -> bool {
    let (cb, live) = {
        // SAFETY: called on the transfer's thread with no other borrow alive.
        let h = unsafe { me.get() };
        (h.cb, h.live)
    };
    if cb.noprogress {
        return true;
    }
    let rc = if let Some(f) = cb.xferinfo {
        // SAFETY: the application's xferinfo callback, called as libcurl
        // documents it, with its own data pointer.
        unsafe {
            f(
                cb.progress_data,
                live.dltotal,
                live.dlnow,
                live.ultotal,
                live.ulnow,
            )
        }
    } else if let Some(f) = cb.progress {
        // SAFETY: the application's progress callback, as documented.
        unsafe {
            f(
                cb.progress_data,
                live.dltotal as f64,
                live.dlnow as f64,
                live.ultotal as f64,
                live.ulnow as f64,
            )
        }
    } else {
        return true;
    };
    if rc == 0 || rc as usize == CURL_PROGRESSFUNC_CONTINUE {
        return true;
    }
    // SAFETY: as above.
    unsafe { me.get() }.live.aborted = true;
    false
}

/// Writes `data` the way libcurl's default write function does: `fwrite`
/// to `file`, stdout when NULL.
fn fwrite_to(file: *mut c_void, data: &[u8]) -> usize {
    let file = if file.is_null() {
        // SAFETY: reads the C library's stdout pointer.
        unsafe { handover_c_stdout() }
    } else {
        file.cast::<libc::FILE>()
    };
    // SAFETY: `data` is readable for its length; `file` is the FILE *
    // the application gave as write data (libcurl's contract) or stdout.
    unsafe { libc::fwrite(data.as_ptr().cast::<c_void>(), 1, data.len(), file) }
}

/// Hands `data` to a write-shaped callback, or to `fwrite` without one.
fn deliver(f: Option<DataCallback>, userdata: *mut c_void, data: &[u8]) -> usize {
    match f {
        // SAFETY: the application's callback, called with a buffer of
        // `data.len()` bytes as libcurl documents (size 1, nmemb n); it
        // only reads them.
        Some(f) => unsafe {
            f(
                data.as_ptr().cast_mut().cast::<c_char>(),
                1,
                data.len(),
                userdata,
            )
        },
        None => fwrite_to(userdata, data),
    }
}

/// The closure behind handover's write callback.
fn write_callback(me: HandlePtr, data: &[u8]) -> Result<usize, WriteError> {
    // SAFETY: handover calls this on the transfer's thread, with no
    // borrow of the handle alive (see the module docs).
    let cb = unsafe { me.get() }.cb;
    let n = deliver(cb.write, cb.write_data, data);
    if n == CURL_WRITEFUNC_PAUSE {
        // SAFETY: as above.
        unsafe { me.get() }.live.paused = true;
        return Err(WriteError::Pause);
    }
    if n != data.len() {
        return Ok(n); // a short write: handover answers CURLE_WRITE_ERROR
    }
    // SAFETY: as above.
    unsafe { me.get() }.live.dlnow += data.len() as i64;
    if !progress(me) {
        return Err(WriteError::Pause);
    }
    Ok(n)
}

/// The closure behind handover's header callback: `CURLOPT_HEADER`,
/// `CURLOPT_HEADERFUNCTION`, or the write function with
/// `CURLOPT_HEADERDATA`, as libcurl.
fn header_callback(me: HandlePtr, line: &[u8]) -> bool {
    let cb = {
        // SAFETY: on the transfer's thread, no other borrow alive.
        let h = unsafe { me.get() };
        h.live.header_size += line.len() as i64;
        note_header(&mut h.live, line);
        h.cb
    };
    let full = |n: usize| n == line.len();
    if cb.include_header && !full(deliver(cb.write, cb.write_data, line)) {
        return false;
    }
    let n = match cb.header {
        Some(f) => deliver(Some(f), cb.header_data, line),
        None if !cb.header_data.is_null() => deliver(cb.write, cb.header_data, line),
        None => line.len(),
    };
    if n == CURL_WRITEFUNC_PAUSE {
        // SAFETY: as above.
        unsafe { me.get() }.live.paused = true;
    }
    full(n)
}

/// Keeps what libcurl knows live from a header line: the status, and the
/// announced body size.
fn note_header(live: &mut Live, line: &[u8]) {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end();
    if let Some(rest) = text.strip_prefix("HTTP/") {
        live.http_version = if rest.starts_with("1.0") {
            CURL_HTTP_VERSION_1_0
        } else {
            CURL_HTTP_VERSION_1_1
        };
        live.status = rest
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        live.dltotal = 0;
    } else if let Some((name, value)) = text.split_once(':') {
        if name.trim().eq_ignore_ascii_case("content-length") {
            live.dltotal = value.trim().parse().unwrap_or(0);
        }
    }
}

/// The closure behind handover's read callback: the application's, or
/// `fread` from `CURLOPT_READDATA` (stdin by default), as libcurl.
fn read_callback(me: HandlePtr, buf: &mut [u8]) -> Result<usize, ReadError> {
    // SAFETY: on the transfer's thread, no other borrow alive.
    let h = unsafe { me.get() };
    let (cb, read_paused) = (h.cb, h.live.read_paused);
    if read_paused {
        return Err(ReadError::Pause);
    }
    let n = match cb.read {
        // SAFETY: the application's read callback with a writable buffer of
        // buf.len() bytes (size 1, nmemb n), as libcurl documents.
        Some(f) => unsafe {
            f(
                buf.as_mut_ptr().cast::<c_char>(),
                1,
                buf.len(),
                cb.read_data,
            )
        },
        None => {
            let file = if cb.read_data.is_null() {
                // SAFETY: reads the C library's stdin pointer.
                unsafe { handover_c_stdin() }
            } else {
                cb.read_data.cast::<libc::FILE>()
            };
            // SAFETY: `buf` is writable for its length; `file` is the FILE *
            // given as read data (libcurl's contract) or stdin.
            unsafe { libc::fread(buf.as_mut_ptr().cast::<c_void>(), 1, buf.len(), file) }
        }
    };
    if n == CURL_READFUNC_ABORT {
        return Err(ReadError::Abort);
    }
    if n == CURL_READFUNC_PAUSE {
        // SAFETY: as above.
        unsafe { me.get() }.live.read_paused = true;
        return Err(ReadError::Pause);
    }
    if n > buf.len() {
        // SAFETY: as above.
        unsafe { me.get() }.live.funny_read = true;
        return Err(ReadError::Pause);
    }
    // SAFETY: as above.
    unsafe { me.get() }.live.ulnow += n as i64;
    if !progress(me) {
        return Err(ReadError::Abort);
    }
    Ok(n)
}

/// The closure behind handover's debug sink (called only when verbose):
/// the application's debug callback, or libcurl's default shape on
/// `CURLOPT_STDERR`.
fn debug_callback(me: HandlePtr, kind: InfoType, data: &[u8]) {
    // SAFETY: on the transfer's thread, no other borrow alive.
    let cb = unsafe { me.get() }.cb;
    let infotype = match kind {
        InfoType::Text => CURLINFO_TEXT,
        InfoType::HeaderIn => CURLINFO_HEADER_IN,
        InfoType::HeaderOut => CURLINFO_HEADER_OUT,
        InfoType::DataIn => CURLINFO_DATA_IN,
        InfoType::DataOut => CURLINFO_DATA_OUT,
        InfoType::SslDataIn => CURLINFO_SSL_DATA_IN,
        InfoType::SslDataOut => CURLINFO_SSL_DATA_OUT,
    };
    if let Some(f) = cb.debug {
        // SAFETY: the application's debug callback, given the handle, the
        // type, and `data.len()` readable bytes, as libcurl documents.
        unsafe {
            f(
                me.0.cast::<c_void>(),
                infotype,
                data.as_ptr().cast_mut().cast::<c_char>(),
                data.len(),
                cb.debug_data,
            )
        };
        return;
    }
    let prefix: &[u8] = match kind {
        InfoType::Text => b"* ",
        InfoType::HeaderIn => b"< ",
        InfoType::HeaderOut => b"> ",
        _ => return,
    };
    let file = if cb.stderr.is_null() {
        // SAFETY: reads the C library's stderr pointer.
        unsafe { handover_c_stderr() }
    } else {
        cb.stderr
    };
    for line in data.split_inclusive(|&b| b == b'\n') {
        for part in [prefix, line] {
            // SAFETY: `part` is readable; `file` is CURLOPT_STDERR's FILE *
            // or stderr.
            unsafe { libc::fwrite(part.as_ptr().cast::<c_void>(), 1, part.len(), file) };
        }
    }
}

/// `curl_easy_init`: a new handle with libcurl's defaults.
#[no_mangle]
pub extern "C" fn curl_easy_init() -> *mut c_void {
    guard(ptr::null_mut(), || {
        Box::into_raw(EasyHandle::new_boxed()).cast::<c_void>()
    })
}

/// `curl_easy_cleanup`: frees the handle and closes its connection.
/// Ignored from inside one of the handle's callbacks, as libcurl.
///
/// # Safety
///
/// `handle` is NULL or a live handle, not used again afterwards.
#[no_mangle]
pub unsafe extern "C" fn curl_easy_cleanup(handle: *mut c_void) {
    guard((), || {
        // An added handle leaves its multi handle first (libcurl's Curl_close).
        // SAFETY: per the function's contract; no reference to it is in use.
        if !unsafe { crate::multi::before_easy_cleanup(handle) } {
            return;
        }
        // SAFETY: per the function's contract.
        if let Some(h) = unsafe { EasyHandle::from_ptr(handle) } {
            if h.busy {
                return;
            }
            h.magic = 0;
            // SAFETY: the share is NULL or the live share CURLOPT_SHARE
            // attached (libcurl's contract: it outlives its users).
            unsafe { crate::share::attach(h.share, ptr::null_mut()) };
            // SAFETY: the pointer came from Box::into_raw in curl_easy_init
            // (or _duphandle) and is freed once (the magic is cleared first).
            drop(unsafe { Box::from_raw(ptr::from_mut(h)) });
        }
    })
}

/// `curl_easy_reset`: every option back to its default; the share stays
/// attached, as in libcurl. Ignored from inside a callback.
///
/// # Safety
///
/// `handle` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn curl_easy_reset(handle: *mut c_void) {
    guard((), || {
        // SAFETY: per the function's contract.
        if let Some(h) = unsafe { EasyHandle::from_ptr(handle) } {
            if !h.busy {
                h.reset();
            }
        }
    })
}

/// `curl_easy_duphandle`: a new handle with the same options (the
/// connection, the pool, the share and the last transfer's information
/// are not copied, as in libcurl). NULL for a bad handle.
///
/// # Safety
///
/// `handle` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn curl_easy_duphandle(handle: *mut c_void) -> *mut c_void {
    guard(ptr::null_mut(), || {
        // SAFETY: per the function's contract.
        let Some(h) = (unsafe { EasyHandle::from_ptr(handle) }) else {
            return ptr::null_mut();
        };
        // The copy is attached to no share, as in libcurl (the share is
        // the handle's, not an option's).
        let settings: Vec<(c_int, Value)> = h
            .log
            .iter()
            .chain(&h.pending)
            .filter(|(option, _)| *option != CURLOPT_SHARE)
            .cloned()
            .collect();
        let mut copy = EasyHandle::new_boxed();
        for (option, value) in settings {
            let _ = options::set_value(&mut copy, option, value);
        }
        Box::into_raw(copy).cast::<c_void>()
    })
}

/// `curl_easy_perform`: runs the transfer; `CURLE_RECURSIVE_API_CALL`
/// (93) from inside one of the handle's callbacks.
///
/// # Safety
///
/// `handle` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn curl_easy_perform(handle: *mut c_void) -> CurlCode {
    guard(CURLE_BAD_FUNCTION_ARGUMENT, || {
        // SAFETY: per the function's contract.
        let Some(h) = (unsafe { EasyHandle::from_ptr(handle) }) else {
            return CURLE_BAD_FUNCTION_ARGUMENT;
        };
        if h.busy {
            return CURLE_RECURSIVE_API_CALL;
        }
        perform(ptr::from_mut(h))
    })
}

/// The handle for `send`/`recv`/`upkeep`-like calls: 43 for a bad one, 93
/// from a callback.
///
/// # Safety
///
/// As [`EasyHandle::from_ptr`].
pub(crate) unsafe fn idle_handle<'a>(handle: *mut c_void) -> Result<&'a mut EasyHandle, CurlCode> {
    // SAFETY: per the function's contract.
    match unsafe { EasyHandle::from_ptr(handle) } {
        None => Err(CURLE_BAD_FUNCTION_ARGUMENT),
        Some(h) if h.busy => Err(CURLE_RECURSIVE_API_CALL),
        Some(h) => Ok(h),
    }
}

/// `curl_easy_send`: sends on the handed-over connection without waiting.
///
/// # Safety
///
/// `handle` is NULL or a live handle; `buffer` points to `length` readable
/// bytes; `sent` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn curl_easy_send(
    handle: *mut c_void,
    buffer: *const c_void,
    length: usize,
    sent: *mut usize,
) -> CurlCode {
    guard(CURLE_BAD_FUNCTION_ARGUMENT, || {
        // SAFETY: per the function's contract.
        let h = match unsafe { idle_handle(handle) } {
            Ok(h) => h,
            Err(code) => return code,
        };
        // libcurl reports 0 bytes for every answer past the handle checks.
        // SAFETY: `sent` is NULL or writable, per the contract.
        if let Some(out) = unsafe { sent.as_mut() } {
            *out = 0;
        }
        if buffer.is_null() && length > 0 {
            return CURLE_BAD_FUNCTION_ARGUMENT;
        }
        let data = if length == 0 {
            &[][..]
        } else {
            // SAFETY: the caller's buffer holds `length` bytes.
            unsafe { std::slice::from_raw_parts(buffer.cast::<u8>(), length) }
        };
        let (code, n) = match h.easy.send(data) {
            Ok(n) => (CURLE_OK, n),
            Err(e) if e.is_again() => (CURLE_AGAIN, 0),
            Err(e) => (h.fail(&e), 0),
        };
        // SAFETY: `sent` is NULL or writable, per the contract.
        if let Some(out) = unsafe { sent.as_mut() } {
            *out = n;
        }
        code
    })
}

/// `curl_easy_recv`: receives from the handed-over connection without
/// waiting; 0 bytes with `CURLE_OK` is an orderly close.
///
/// # Safety
///
/// `handle` is NULL or a live handle; `buffer` points to `length` writable
/// bytes; `received` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn curl_easy_recv(
    handle: *mut c_void,
    buffer: *mut c_void,
    length: usize,
    received: *mut usize,
) -> CurlCode {
    guard(CURLE_BAD_FUNCTION_ARGUMENT, || {
        // SAFETY: per the function's contract.
        let h = match unsafe { idle_handle(handle) } {
            Ok(h) => h,
            Err(code) => return code,
        };
        if buffer.is_null() && length > 0 {
            return CURLE_BAD_FUNCTION_ARGUMENT;
        }
        let buf = if length == 0 {
            &mut [][..]
        } else {
            // SAFETY: the caller's buffer holds `length` writable bytes.
            unsafe { std::slice::from_raw_parts_mut(buffer.cast::<u8>(), length) }
        };
        let (code, n) = match h.easy.recv(buf) {
            Ok(n) => (CURLE_OK, n),
            Err(e) if e.is_again() => (CURLE_AGAIN, 0),
            // No connection to receive on: libcurl leaves `*received` as it
            // was.
            Err(e) if e.kind() == handover::ErrorKind::UnsupportedProtocol => {
                return h.fail(&e);
            }
            Err(e) => (h.fail(&e), 0),
        };
        // SAFETY: `received` is NULL or writable, per the contract.
        if let Some(out) = unsafe { received.as_mut() } {
            *out = n;
        }
        code
    })
}

/// `curl_easy_upkeep`: the handle's idle pooled connections not checked
/// for `CURLOPT_UPKEEP_INTERVAL_MS` are checked, and the dead ones closed
/// (`Easy::upkeep`): `CURLE_OK` (43 for a bad handle, 93 from a callback).
///
/// # Safety
///
/// `handle` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn curl_easy_upkeep(handle: *mut c_void) -> CurlCode {
    guard(CURLE_BAD_FUNCTION_ARGUMENT, || {
        // SAFETY: per the function's contract.
        match unsafe { idle_handle(handle) } {
            Ok(h) => match h.easy.upkeep() {
                Ok(()) => CURLE_OK,
                Err(e) => e.code() as CurlCode,
            },
            Err(code) => code,
        }
    })
}

/// `curl_easy_pause`: handover cannot pause a transfer, so pausing is
/// `CURLE_NOT_BUILT_IN`; unpausing (`CURLPAUSE_CONT`) is `CURLE_OK`, and
/// lets an upload whose read callback answered `CURL_READFUNC_PAUSE` go
/// on (the callback is called again).
///
/// # Safety
///
/// `handle` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn curl_easy_pause(handle: *mut c_void, bitmask: c_int) -> CurlCode {
    guard(CURLE_BAD_FUNCTION_ARGUMENT, || {
        // SAFETY: per the function's contract.
        let Some(h) = (unsafe { EasyHandle::from_ptr(handle) }) else {
            return CURLE_BAD_FUNCTION_ARGUMENT;
        };
        if bitmask & CURLPAUSE_ALL == 0 {
            h.live.read_paused = false;
            CURLE_OK
        } else {
            h.fail_code(
                CURLE_NOT_BUILT_IN,
                Some("pausing a transfer is not built in"),
            )
        }
    })
}

/// `curl_easy_strerror`: libcurl's text for a code.
#[no_mangle]
pub extern "C" fn curl_easy_strerror(code: c_int) -> *const c_char {
    guard(c"Unknown error".as_ptr(), || strerror(code).as_ptr())
}

/// An application's data pointer, carried into the closures handover
/// keeps (which must be `Send`): libcurl hands it back untouched, on the
/// thread running the transfer, and never reads it.
#[derive(Clone, Copy)]
struct SendPtr(*mut c_void);

// SAFETY: the pointer is only passed back to the application's own
// callback, as libcurl does, or (the default read data) handed to `fseek`
// as the `FILE *` the application gave; handover never dereferences it.
unsafe impl Send for SendPtr {}

impl SendPtr {
    fn get(&self) -> *mut c_void {
        self.0
    }
}

/// The closure behind `CURLOPT_OPENSOCKETFUNCTION`: a `struct
/// curl_sockaddr` for the application, its socket back (or `None` for
/// `CURL_SOCKET_BAD`), and the address it may have changed.
fn open_socket(
    f: OpenSocketCallback,
    data: &SendPtr,
    purpose: handover::SocketPurpose,
    request: &mut handover::SocketRequest,
) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd as _;
    // SAFETY: all-zero bytes are a valid sockaddr_storage.
    let mut sa: CurlSockaddr = unsafe { std::mem::zeroed() };
    sa.family = request.family;
    sa.socktype = request.socktype;
    sa.protocol = request.protocol;
    sa.addrlen = write_sockaddr(request.addr, &mut sa.addr);
    // SAFETY: the application's open-socket callback, called as libcurl
    // documents it, with a valid, writable `struct curl_sockaddr`.
    let fd = unsafe { f(data.get(), purpose.as_raw(), &mut sa) };
    if fd < 0 {
        return None;
    }
    if let Some(addr) = read_sockaddr(&sa.addr) {
        request.addr = addr;
    }
    // SAFETY: libcurl's contract: the callback returns a new socket that
    // libcurl owns from then on (closed by close(2) or the close callback).
    Some(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

/// Writes `addr` as a `sockaddr_in` or `sockaddr_in6`; returns its length.
fn write_sockaddr(addr: std::net::SocketAddr, out: &mut libc::sockaddr_storage) -> libc::c_uint {
    match addr {
        std::net::SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for
            // every sockaddr type.
            unsafe { ptr::write(ptr::from_mut(out).cast::<libc::sockaddr_in>(), sin) };
            std::mem::size_of::<libc::sockaddr_in>() as libc::c_uint
        }
        std::net::SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo().to_be(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: as above.
            unsafe { ptr::write(ptr::from_mut(out).cast::<libc::sockaddr_in6>(), sin6) };
            std::mem::size_of::<libc::sockaddr_in6>() as libc::c_uint
        }
    }
}

/// The address in a `sockaddr_in` or `sockaddr_in6`; `None` for another
/// family.
fn read_sockaddr(storage: &libc::sockaddr_storage) -> Option<std::net::SocketAddr> {
    match c_int::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let sin = unsafe { &*ptr::from_ref(storage).cast::<libc::sockaddr_in>() };
            let ip = std::net::Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(std::net::SocketAddr::from((ip, u16::from_be(sin.sin_port))))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let sin6 = unsafe { &*ptr::from_ref(storage).cast::<libc::sockaddr_in6>() };
            let ip = std::net::Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(std::net::SocketAddr::V6(std::net::SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                u32::from_be(sin6.sin6_flowinfo),
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}
