//! The typed halves of libcurl's variadic functions: shim.c reads the
//! argument by the option's type and calls one of these.

use std::ffi::{c_char, c_int, c_long, c_void};
use std::time::Duration;

use handover::ConnectOnly;

use crate::codes::{
    CurlCode, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_OK, CURLE_UNKNOWN_OPTION, INFO_LONG, INFO_SOCKET,
    INFO_STRING,
};
use crate::easy::{c_str, EasyHandle};
use crate::guard;

/// `CURLM_UNKNOWN_OPTION`.
const CURLM_UNKNOWN_OPTION: c_int = 6;
/// `CURLSHE_BAD_OPTION`.
const CURLSHE_BAD_OPTION: c_int = 1;

/// A `handover::Error` or OK as a code, recording a failure's message.
fn answer(h: &mut EasyHandle, result: Result<(), handover::Error>) -> CurlCode {
    match result {
        Ok(()) => CURLE_OK,
        Err(e) => h.fail(&e),
    }
}

/// `curl_easy_setopt` for options of type long.
///
/// # Safety
///
/// `handle` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn handover_easy_setopt_long(
    handle: *mut c_void,
    option: c_int,
    value: c_long,
) -> CurlCode {
    guard(CURLE_BAD_FUNCTION_ARGUMENT, || {
        // SAFETY: per the function's contract.
        let Some(h) = (unsafe { EasyHandle::from_ptr(handle) }) else {
            return CURLE_BAD_FUNCTION_ARGUMENT;
        };
        let millis = |v: c_long| Duration::from_millis(u64::try_from(v).unwrap_or(0));
        let result = match option {
            // CURLOPT_VERBOSE
            41 => h.easy.verbose(value != 0),
            // CURLOPT_TIMEOUT, CURLOPT_TIMEOUT_MS
            13 => h.easy.timeout(millis(value.saturating_mul(1000))),
            155 => h.easy.timeout(millis(value)),
            // CURLOPT_CONNECTTIMEOUT, CURLOPT_CONNECTTIMEOUT_MS
            78 => h.easy.connect_timeout(millis(value.saturating_mul(1000))),
            156 => h.easy.connect_timeout(millis(value)),
            // CURLOPT_SSL_VERIFYPEER, CURLOPT_SSL_VERIFYHOST
            64 => h.easy.ssl_verify_peer(value != 0),
            81 => h.easy.ssl_verify_host(value != 0),
            // CURLOPT_CONNECT_ONLY
            // c_long is i32 on some platforms: the conversion is not useless there.
            #[allow(clippy::useless_conversion)]
            141 => match ConnectOnly::from_long(i64::from(value)) {
                Some(mode) => h.easy.connect_only(mode),
                None => return CURLE_BAD_FUNCTION_ARGUMENT,
            },
            _ => return CURLE_UNKNOWN_OPTION,
        };
        answer(h, result)
    })
}

/// `curl_easy_setopt` for options that take a pointer (strings, data
/// pointers, lists, callbacks).
///
/// # Safety
///
/// `handle` is NULL or a live handle; `value` is what the option's
/// documentation says (a NUL-terminated string for string options).
#[no_mangle]
pub unsafe extern "C" fn handover_easy_setopt_ptr(
    handle: *mut c_void,
    option: c_int,
    value: *mut c_void,
) -> CurlCode {
    guard(CURLE_BAD_FUNCTION_ARGUMENT, || {
        // SAFETY: per the function's contract.
        let Some(h) = (unsafe { EasyHandle::from_ptr(handle) }) else {
            return CURLE_BAD_FUNCTION_ARGUMENT;
        };
        // SAFETY: string options point to a NUL-terminated string (libcurl
        // copies it, and so does handover).
        let text = || unsafe { c_str(value.cast::<c_char>()) };
        let result = match option {
            // CURLOPT_URL
            10002 => match text() {
                Some(url) => h.easy.url(url),
                None => return CURLE_BAD_FUNCTION_ARGUMENT,
            },
            // CURLOPT_CAINFO
            10065 => match text() {
                Some(path) => h.easy.cainfo(path),
                None => return CURLE_BAD_FUNCTION_ARGUMENT,
            },
            // CURLOPT_PROXY
            10004 => match text() {
                Some(proxy) => h.easy.proxy(proxy),
                None => return CURLE_BAD_FUNCTION_ARGUMENT,
            },
            // CURLOPT_ERRORBUFFER: kept as the pointer, filled on failure.
            10010 => {
                h.error_buffer = value.cast::<c_char>();
                Ok(())
            }
            // CURLOPT_PRIVATE
            10103 => {
                h.private = value;
                Ok(())
            }
            _ => return CURLE_UNKNOWN_OPTION,
        };
        answer(h, result)
    })
}

/// `curl_easy_setopt` for options of type `curl_off_t`.
///
/// # Safety
///
/// `handle` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn handover_easy_setopt_off_t(
    handle: *mut c_void,
    _option: c_int,
    _value: i64,
) -> CurlCode {
    guard(CURLE_BAD_FUNCTION_ARGUMENT, || {
        // SAFETY: per the function's contract.
        match unsafe { EasyHandle::from_ptr(handle) } {
            Some(_) => CURLE_UNKNOWN_OPTION,
            None => CURLE_BAD_FUNCTION_ARGUMENT,
        }
    })
}

/// `curl_easy_getinfo`: writes the value of `info` to `out`, whose type
/// the info's type bits say.
///
/// # Safety
///
/// `handle` is NULL or a live handle; `out` points to a writable value of
/// the info's type (`long`, `char *`, `curl_socket_t`, ...).
#[no_mangle]
pub unsafe extern "C" fn handover_easy_getinfo(
    handle: *mut c_void,
    info: c_int,
    out: *mut c_void,
) -> CurlCode {
    guard(CURLE_BAD_FUNCTION_ARGUMENT, || {
        // SAFETY: per the function's contract.
        let Some(h) = (unsafe { EasyHandle::from_ptr(handle) }) else {
            return CURLE_BAD_FUNCTION_ARGUMENT;
        };
        if out.is_null() {
            return CURLE_BAD_FUNCTION_ARGUMENT;
        }
        match info {
            // CURLINFO_RESPONSE_CODE
            i if i == INFO_LONG + 2 => {
                let code = c_long::from(h.easy.info().response_code() as i32);
                // SAFETY: a long info writes a long.
                unsafe { out.cast::<c_long>().write(code) };
            }
            // CURLINFO_ACTIVESOCKET
            i if i == INFO_SOCKET + 44 => {
                let fd: c_int = h.easy.active_socket().unwrap_or(-1);
                // SAFETY: a socket info writes a curl_socket_t (int).
                unsafe { out.cast::<c_int>().write(fd) };
            }
            // CURLINFO_PRIVATE
            i if i == INFO_STRING + 21 => {
                // SAFETY: CURLINFO_PRIVATE writes a pointer.
                unsafe { out.cast::<*mut c_void>().write(h.private) };
            }
            // CURLINFO_EFFECTIVE_URL
            i if i == INFO_STRING + 1 => {
                h.info_string = h
                    .easy
                    .info()
                    .effective_url()
                    .and_then(|u| std::ffi::CString::new(u).ok());
                let p = h
                    .info_string
                    .as_ref()
                    .map_or(std::ptr::null(), |s| s.as_ptr());
                // SAFETY: a string info writes a `char *`, valid until the
                // next call on the handle (kept in `info_string`).
                unsafe { out.cast::<*const c_char>().write(p) };
            }
            _ => return CURLE_UNKNOWN_OPTION,
        }
        CURLE_OK
    })
}

/// `curl_multi_setopt` for long options: no Multi options yet.
#[no_mangle]
pub extern "C" fn handover_multi_setopt_long(_m: *mut c_void, _o: c_int, _v: c_long) -> c_int {
    CURLM_UNKNOWN_OPTION
}

/// `curl_multi_setopt` for pointer options: no Multi options yet.
#[no_mangle]
pub extern "C" fn handover_multi_setopt_ptr(_m: *mut c_void, _o: c_int, _v: *mut c_void) -> c_int {
    CURLM_UNKNOWN_OPTION
}

/// `curl_multi_setopt` for `curl_off_t` options: no Multi options yet.
#[no_mangle]
pub extern "C" fn handover_multi_setopt_off_t(_m: *mut c_void, _o: c_int, _v: i64) -> c_int {
    CURLM_UNKNOWN_OPTION
}

/// `curl_share_setopt` for long options: no share interface yet.
#[no_mangle]
pub extern "C" fn handover_share_setopt_long(_s: *mut c_void, _o: c_int, _v: c_long) -> c_int {
    CURLSHE_BAD_OPTION
}

/// `curl_share_setopt` for pointer options: no share interface yet.
#[no_mangle]
pub extern "C" fn handover_share_setopt_ptr(_s: *mut c_void, _o: c_int, _v: *mut c_void) -> c_int {
    CURLSHE_BAD_OPTION
}
