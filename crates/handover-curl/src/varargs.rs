//! The typed halves of libcurl's variadic functions: shim.c reads the
//! argument by the option's type and calls one of these, which hand it to
//! `options` (`curl_easy_setopt`) or `info` (`curl_easy_getinfo`).

use std::ffi::{c_int, c_long, c_void};

use crate::codes::{CurlCode, CURLE_BAD_FUNCTION_ARGUMENT};
use crate::easy::EasyHandle;
use crate::{guard, info, options};

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
        match unsafe { EasyHandle::from_ptr(handle) } {
            Some(h) => options::setopt_long(h, option, value),
            None => CURLE_BAD_FUNCTION_ARGUMENT,
        }
    })
}

/// `curl_easy_setopt` for options that take a pointer (strings, data
/// pointers, lists, callbacks, blobs).
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
        match unsafe { EasyHandle::from_ptr(handle) } {
            // SAFETY: `value` is of the option's type, per the contract.
            Some(h) => unsafe { options::setopt_ptr(h, option, value) },
            None => CURLE_BAD_FUNCTION_ARGUMENT,
        }
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
    option: c_int,
    value: i64,
) -> CurlCode {
    guard(CURLE_BAD_FUNCTION_ARGUMENT, || {
        // SAFETY: per the function's contract.
        match unsafe { EasyHandle::from_ptr(handle) } {
            Some(h) => options::setopt_off_t(h, option, value),
            None => CURLE_BAD_FUNCTION_ARGUMENT,
        }
    })
}

/// `curl_easy_getinfo`: writes the value of `info` to `out`, whose type
/// the info's type bits say.
///
/// # Safety
///
/// `handle` is NULL or a live handle; `out` is NULL or points to a
/// writable value of the info's type (`long`, `char *`, `curl_socket_t`,
/// ...).
#[no_mangle]
pub unsafe extern "C" fn handover_easy_getinfo(
    handle: *mut c_void,
    info: c_int,
    out: *mut c_void,
) -> CurlCode {
    guard(CURLE_BAD_FUNCTION_ARGUMENT, || {
        // SAFETY: per the function's contract.
        match unsafe { EasyHandle::from_ptr(handle) } {
            // SAFETY: `out` is of the info's type, per the contract.
            Some(h) => unsafe { info::getinfo(h, info, out) },
            None => CURLE_BAD_FUNCTION_ARGUMENT,
        }
    })
}

// curl_multi_setopt's typed halves live in multi.rs, curl_share_setopt's
// in share.rs.
