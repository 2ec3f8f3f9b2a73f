//! `curl_global_*`: handover needs no global setup (rustls and the
//! resolver pool start on first use), so these mostly answer OK.

use std::ffi::{c_char, c_int, c_long, c_void, CStr};

use crate::codes::{CurlCode, CURLE_FAILED_INIT, CURLE_OK};
use crate::guard;

/// `curl_global_init`: nothing to set up; always `CURLE_OK`.
#[no_mangle]
pub extern "C" fn curl_global_init(_flags: c_long) -> CurlCode {
    CURLE_OK
}

/// `curl_global_cleanup`: nothing to tear down.
#[no_mangle]
pub extern "C" fn curl_global_cleanup() {}

/// `curl_global_init_mem`: as libcurl, every callback must be given
/// (`CURLE_FAILED_INIT` otherwise). handover-curl accepts them but keeps
/// allocating with the C library's `malloc`, which the application's
/// `free` callback must therefore be able to release (a difference from
/// libcurl, which then allocates through the callbacks).
#[no_mangle]
pub extern "C" fn curl_global_init_mem(
    flags: c_long,
    malloc: *mut c_void,
    free: *mut c_void,
    realloc: *mut c_void,
    strdup: *mut c_void,
    calloc: *mut c_void,
) -> CurlCode {
    guard(CURLE_FAILED_INIT, || {
        if [malloc, free, realloc, strdup, calloc]
            .iter()
            .any(|p| p.is_null())
        {
            return CURLE_FAILED_INIT;
        }
        curl_global_init(flags)
    })
}

/// `CURLSSLSET_OK`.
const CURLSSLSET_OK: c_int = 0;
/// `CURLSSLSET_UNKNOWN_BACKEND`.
const CURLSSLSET_UNKNOWN_BACKEND: c_int = 1;
/// `CURLSSLBACKEND_RUSTLS`.
const CURLSSLBACKEND_RUSTLS: c_int = 14;

/// libcurl's `struct curl_ssl_backend`.
#[repr(C)]
pub struct SslBackend {
    /// `curl_sslbackend`.
    pub id: c_int,
    /// Its name.
    pub name: *const c_char,
}

/// The backends this library has, NULL-terminated.
struct Backends([*const SslBackend; 2]);
// SAFETY: the pointers are to 'static, never written data.
unsafe impl Sync for Backends {}
// SAFETY: as above.
unsafe impl Sync for SslBackend {}

/// rustls, the only backend.
static RUSTLS: SslBackend = SslBackend {
    id: CURLSSLBACKEND_RUSTLS,
    name: c"rustls".as_ptr(),
};
/// [`RUSTLS`] in a NULL-terminated list.
static AVAILABLE: Backends = Backends([&RUSTLS, std::ptr::null()]);

/// `curl_global_sslset`: a libcurl built with one TLS backend (not
/// MultiSSL) answers `CURLSSLSET_OK` when asked for that backend (by id or
/// name) and `CURLSSLSET_UNKNOWN_BACKEND` for any other, before or after
/// the first transfer (`CURLSSLSET_TOO_LATE` is only a MultiSSL build's); `avail`, when not NULL,
/// gets the list of backends. This library's only backend is rustls
/// (`CURLSSLBACKEND_RUSTLS`, 14).
///
/// # Safety
///
/// `name` is NULL or a C string; `avail` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn curl_global_sslset(
    id: c_int,
    name: *const c_char,
    avail: *mut *const *const SslBackend,
) -> c_int {
    guard(CURLSSLSET_UNKNOWN_BACKEND, || {
        // SAFETY: per the function's contract.
        if let Some(out) = unsafe { avail.as_mut() } {
            *out = AVAILABLE.0.as_ptr();
        }
        let by_name = !name.is_null()
            // SAFETY: a C string, per the contract.
            && unsafe { CStr::from_ptr(name) }
                .to_bytes()
                .eq_ignore_ascii_case(b"rustls");
        if id == CURLSSLBACKEND_RUSTLS || by_name {
            CURLSSLSET_OK
        } else {
            CURLSSLSET_UNKNOWN_BACKEND
        }
    })
}

/// `curl_global_trace`: libcurl's trace components (`"all"`, `"tls"`,
/// ...) tune what `CURLOPT_VERBOSE` prints; handover's verbose output has
/// no components, so any configuration is accepted and changes nothing.
#[no_mangle]
pub extern "C" fn curl_global_trace(_config: *const c_char) -> CurlCode {
    CURLE_OK
}
