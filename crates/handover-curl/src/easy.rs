//! `CURL *`: one `handover::Easy` per handle, and the easy functions that
//! take no variadic argument (`curl_easy_init`, `_perform`, `_send`,
//! `_recv`, `_cleanup`, `_reset`, `_strerror`).

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::ptr;

use handover::Easy;

use crate::codes::{
    code_of, strerror, CurlCode, CURLE_AGAIN, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_OK,
};
use crate::guard;

/// Tells a live handle from garbage, as libcurl's `GOOD_EASY_HANDLE`.
const MAGIC: u32 = 0xc243_f72b;

/// `CURLOPT_ERRORBUFFER`'s size (`CURL_ERROR_SIZE`).
const ERROR_SIZE: usize = 256;

/// What a `CURL *` points to.
pub(crate) struct EasyHandle {
    magic: u32,
    pub(crate) easy: Easy,
    /// `CURLOPT_ERRORBUFFER`: filled with the message of every failure.
    pub(crate) error_buffer: *mut c_char,
    /// `CURLOPT_PRIVATE`.
    pub(crate) private: *mut c_void,
    /// Strings handed out by `curl_easy_getinfo`, valid until the next call
    /// on the handle.
    pub(crate) info_string: Option<CString>,
}

impl EasyHandle {
    fn new() -> EasyHandle {
        EasyHandle {
            magic: MAGIC,
            easy: Easy::new(),
            error_buffer: ptr::null_mut(),
            private: ptr::null_mut(),
            info_string: None,
        }
    }

    /// The handle behind a `CURL *`, or `None` for NULL or a pointer that is
    /// not a live handle of ours.
    ///
    /// # Safety
    ///
    /// `handle` is NULL or a pointer `curl_easy_init` returned that
    /// `curl_easy_cleanup` has not freed, used by one thread at a time (the
    /// libcurl contract).
    pub(crate) unsafe fn from_ptr<'a>(handle: *mut c_void) -> Option<&'a mut EasyHandle> {
        // SAFETY: the caller promises a live handle or NULL; the magic check
        // catches the common misuse of a freed or foreign pointer.
        let handle = unsafe { handle.cast::<EasyHandle>().as_mut()? };
        (handle.magic == MAGIC).then_some(handle)
    }

    /// Keeps a failure's message in `CURLOPT_ERRORBUFFER` and answers its
    /// code.
    pub(crate) fn fail(&mut self, error: &handover::Error) -> CurlCode {
        if !self.error_buffer.is_null() {
            let text = error.to_string();
            let bytes = text.as_bytes();
            let n = bytes.len().min(ERROR_SIZE - 1);
            // SAFETY: libcurl's contract: the buffer holds CURL_ERROR_SIZE
            // bytes and lives while it is set; we write at most that many.
            unsafe {
                ptr::copy_nonoverlapping(bytes.as_ptr().cast::<c_char>(), self.error_buffer, n);
                *self.error_buffer.add(n) = 0;
            }
        }
        code_of(error)
    }
}

/// `curl_easy_init`: a new handle with libcurl's defaults.
#[no_mangle]
pub extern "C" fn curl_easy_init() -> *mut c_void {
    guard(ptr::null_mut(), || {
        Box::into_raw(Box::new(EasyHandle::new())).cast::<c_void>()
    })
}

/// `curl_easy_cleanup`: frees the handle and closes its connection.
///
/// # Safety
///
/// `handle` is NULL or a live handle, not used again afterwards.
#[no_mangle]
pub unsafe extern "C" fn curl_easy_cleanup(handle: *mut c_void) {
    guard((), || {
        // SAFETY: per the function's contract.
        if let Some(h) = unsafe { EasyHandle::from_ptr(handle) } {
            h.magic = 0;
            // SAFETY: the pointer came from Box::into_raw in curl_easy_init
            // and is freed once (the magic is cleared first).
            drop(unsafe { Box::from_raw(ptr::from_mut(h)) });
        }
    })
}

/// `curl_easy_reset`: every option back to its default.
///
/// # Safety
///
/// `handle` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn curl_easy_reset(handle: *mut c_void) {
    guard((), || {
        // SAFETY: per the function's contract.
        if let Some(h) = unsafe { EasyHandle::from_ptr(handle) } {
            *h = EasyHandle::new();
        }
    })
}

/// `curl_easy_perform`.
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
        match h.easy.perform() {
            Ok(()) => CURLE_OK,
            Err(e) => h.fail(&e),
        }
    })
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
        let Some(h) = (unsafe { EasyHandle::from_ptr(handle) }) else {
            return CURLE_BAD_FUNCTION_ARGUMENT;
        };
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
        let Some(h) = (unsafe { EasyHandle::from_ptr(handle) }) else {
            return CURLE_BAD_FUNCTION_ARGUMENT;
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
            Err(e) => (h.fail(&e), 0),
        };
        // SAFETY: `received` is NULL or writable, per the contract.
        if let Some(out) = unsafe { received.as_mut() } {
            *out = n;
        }
        code
    })
}

/// `curl_easy_strerror`: libcurl's text for a code.
#[no_mangle]
pub extern "C" fn curl_easy_strerror(code: c_int) -> *const c_char {
    guard(c"Unknown error".as_ptr(), || strerror(code).as_ptr())
}

/// A C string argument as `&str`; `None` for NULL or invalid UTF-8.
///
/// # Safety
///
/// `s` is NULL or points to a NUL-terminated string alive for `'a`.
pub(crate) unsafe fn c_str<'a>(s: *const c_char) -> Option<&'a str> {
    if s.is_null() {
        return None;
    }
    // SAFETY: per the function's contract.
    unsafe { CStr::from_ptr(s) }.to_str().ok()
}
