//! `curl_ws_send`, `curl_ws_recv`, `curl_ws_start_frame` and
//! `curl_ws_meta`: handover's `Easy::ws_send`/`ws_recv`/`ws_start_frame`
//! and `ws::meta()` with libcurl's flags and `struct curl_ws_frame`.

use std::ffi::{c_uint, c_void};
use std::ptr;

use handover::ws::{Flags, Frame};

use crate::codes::*;
use crate::easy::{EasyHandle, WsFrame};
use crate::guard;

/// libcurl's frame struct for a handover frame.
fn frame(f: Frame) -> WsFrame {
    WsFrame {
        age: 0,
        flags: i32::try_from(f.flags.bits()).unwrap_or(0),
        offset: i64::try_from(f.offset).unwrap_or(i64::MAX),
        bytesleft: i64::try_from(f.bytesleft).unwrap_or(i64::MAX),
        len: f.len,
    }
}

/// `curl_ws_recv`: at most one frame's payload and its meta, without
/// waiting (`CURLE_AGAIN` when nothing is there).
///
/// # Safety
///
/// `curl` is NULL or a live handle; `buffer` points to `buflen` writable
/// bytes; `recv` and `metap` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn curl_ws_recv(
    curl: *mut c_void,
    buffer: *mut c_void,
    buflen: usize,
    recv: *mut usize,
    metap: *mut *const WsFrame,
) -> CurlCode {
    guard(CURLE_BAD_FUNCTION_ARGUMENT, || {
        // SAFETY: `recv` and `metap` are NULL or writable, per the contract.
        unsafe {
            if let Some(out) = recv.as_mut() {
                *out = 0;
            }
            if let Some(out) = metap.as_mut() {
                *out = ptr::null();
            }
        }
        // SAFETY: per the function's contract.
        let Some(h) = (unsafe { EasyHandle::from_ptr(curl) }) else {
            return CURLE_BAD_FUNCTION_ARGUMENT;
        };
        if buffer.is_null() && buflen > 0 {
            return CURLE_BAD_FUNCTION_ARGUMENT;
        }
        let buf = if buflen == 0 {
            &mut [][..]
        } else {
            // SAFETY: the caller's buffer holds `buflen` writable bytes.
            unsafe { std::slice::from_raw_parts_mut(buffer.cast::<u8>(), buflen) }
        };
        match h.easy.ws_recv(buf) {
            Ok((n, f)) => {
                h.ws_frame = frame(f);
                // SAFETY: as above.
                unsafe {
                    if let Some(out) = recv.as_mut() {
                        *out = n;
                    }
                    if let Some(out) = metap.as_mut() {
                        *out = ptr::from_ref(&h.ws_frame);
                    }
                }
                CURLE_OK
            }
            Err(e) if e.is_again() => CURLE_AGAIN,
            Err(e) => h.fail(&e),
        }
    })
}

/// `curl_ws_send`: sends a frame or part of one (`CURLWS_OFFSET` with
/// `fragsize` the whole payload's size), without waiting.
///
/// # Safety
///
/// `curl` is NULL or a live handle; `buffer` points to `buflen` readable
/// bytes; `sent` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn curl_ws_send(
    curl: *mut c_void,
    buffer: *const c_void,
    buflen: usize,
    sent: *mut usize,
    fragsize: i64,
    flags: c_uint,
) -> CurlCode {
    guard(CURLE_BAD_FUNCTION_ARGUMENT, || {
        // SAFETY: `sent` is NULL or writable, per the contract.
        if let Some(out) = unsafe { sent.as_mut() } {
            *out = 0;
        }
        // SAFETY: per the function's contract.
        let Some(h) = (unsafe { EasyHandle::from_ptr(curl) }) else {
            return CURLE_BAD_FUNCTION_ARGUMENT;
        };
        if buffer.is_null() && buflen > 0 {
            return CURLE_BAD_FUNCTION_ARGUMENT;
        }
        let Ok(fragsize) = u64::try_from(fragsize) else {
            return CURLE_BAD_FUNCTION_ARGUMENT;
        };
        let data = if buflen == 0 {
            &[][..]
        } else {
            // SAFETY: the caller's buffer holds `buflen` bytes.
            unsafe { std::slice::from_raw_parts(buffer.cast::<u8>(), buflen) }
        };
        match h
            .easy
            .ws_send(data, fragsize, Flags::from_bits_retain(flags))
        {
            Ok(n) => {
                // SAFETY: as above.
                if let Some(out) = unsafe { sent.as_mut() } {
                    *out = n;
                }
                CURLE_OK
            }
            Err(e) if e.is_again() => CURLE_AGAIN,
            Err(e) => h.fail(&e),
        }
    })
}

/// `curl_ws_start_frame` (libcurl 8.16): begins a frame of `frame_len`
/// payload bytes with `flags`; the following `curl_ws_send` calls carry
/// its payload. On a connect-only = 2 WebSocket connection (handover has
/// no WebSocket upload through the read callback). libcurl's codes: 55
/// when there is no WebSocket connection, a frame is still in progress or
/// the length is negative, 2 in raw mode, 43 for flags that make no frame.
///
/// # Safety
///
/// `curl` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn curl_ws_start_frame(
    curl: *mut c_void,
    flags: c_uint,
    frame_len: i64,
) -> CurlCode {
    guard(CURLE_BAD_FUNCTION_ARGUMENT, || {
        // SAFETY: per the function's contract.
        let Some(h) = (unsafe { EasyHandle::from_ptr(curl) }) else {
            return CURLE_BAD_FUNCTION_ARGUMENT;
        };
        let Ok(len) = u64::try_from(frame_len) else {
            return h.fail_code(
                CURLE_SEND_ERROR,
                Some("[WS] starting new frame with negative payload length"),
            );
        };
        match h.easy.ws_start_frame(Flags::from_bits_retain(flags), len) {
            Ok(()) => CURLE_OK,
            Err(e) => match h.fail(&e) {
                // No connection at all: libcurl's "[WS] No associated
                // connection".
                CURLE_UNSUPPORTED_PROTOCOL => CURLE_SEND_ERROR,
                code => code,
            },
        }
    })
}

/// `curl_ws_meta`: inside a write callback of an ordinary ws/wss transfer,
/// the frame the delivered bytes belong to; NULL anywhere else.
///
/// # Safety
///
/// `curl` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn curl_ws_meta(curl: *mut c_void) -> *const WsFrame {
    guard(ptr::null(), || {
        // SAFETY: per the function's contract.
        let Some(h) = (unsafe { EasyHandle::from_ptr(curl) }) else {
            return ptr::null();
        };
        if !h.busy {
            return ptr::null();
        }
        match handover::ws::meta() {
            Some(f) => {
                h.ws_frame = frame(f);
                ptr::from_ref(&h.ws_frame)
            }
            None => ptr::null(),
        }
    })
}
