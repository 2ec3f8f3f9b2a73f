//! libcurl's public numbers, in one place: return codes, option and info
//! numbers with their type ranges. A test compiles a C file against the
//! system's `curl/curl.h` and compares every number here with it.

use std::ffi::{c_int, CStr, CString};
use std::sync::OnceLock;

use handover::ErrorKind;

/// A `CURLcode`.
pub type CurlCode = c_int;

/// `CURLE_OK`.
pub const CURLE_OK: CurlCode = 0;
/// `CURLE_UNSUPPORTED_PROTOCOL`.
pub const CURLE_UNSUPPORTED_PROTOCOL: CurlCode = 1;
/// `CURLE_FAILED_INIT`.
pub const CURLE_FAILED_INIT: CurlCode = 2;
/// `CURLE_NOT_BUILT_IN`.
pub const CURLE_NOT_BUILT_IN: CurlCode = 4;
/// `CURLE_BAD_FUNCTION_ARGUMENT`.
pub const CURLE_BAD_FUNCTION_ARGUMENT: CurlCode = 43;
/// `CURLE_UNKNOWN_OPTION`.
pub const CURLE_UNKNOWN_OPTION: CurlCode = 48;
/// `CURLE_AGAIN`.
pub const CURLE_AGAIN: CurlCode = 81;

/// `CURLOPTTYPE_OBJECTPOINT`: options from here take a pointer.
pub const OPTTYPE_OBJECTPOINT: c_int = 10000;
/// `CURLOPTTYPE_FUNCTIONPOINT`: options from here take a function.
pub const OPTTYPE_FUNCTIONPOINT: c_int = 20000;
/// `CURLOPTTYPE_OFF_T`: options from here take a `curl_off_t`.
pub const OPTTYPE_OFF_T: c_int = 30000;
/// `CURLOPTTYPE_BLOB`: options from here take a `struct curl_blob *`.
pub const OPTTYPE_BLOB: c_int = 40000;

/// `CURLINFO_STRING`, `_LONG`, `_DOUBLE`, `_SLIST` (= `_PTR`), `_SOCKET`,
/// `_OFF_T`: the type of an info is in its top bits.
pub const INFO_STRING: c_int = 0x100000;
/// See [`INFO_STRING`].
pub const INFO_LONG: c_int = 0x200000;
/// See [`INFO_STRING`].
pub const INFO_DOUBLE: c_int = 0x300000;
/// See [`INFO_STRING`].
pub const INFO_SLIST: c_int = 0x400000;
/// See [`INFO_STRING`].
pub const INFO_SOCKET: c_int = 0x500000;
/// See [`INFO_STRING`].
pub const INFO_OFF_T: c_int = 0x600000;
/// `CURLINFO_TYPEMASK`.
pub const INFO_TYPEMASK: c_int = 0xf00000;

/// The `CURLcode` of a handover error: handover's kinds carry libcurl's
/// numbers already.
pub fn code_of(error: &handover::Error) -> CurlCode {
    c_int::try_from(error.code()).unwrap_or(CURLE_FAILED_INIT)
}

/// libcurl's text for a code (`curl_easy_strerror`), NUL-terminated and
/// alive for the whole process, as libcurl's.
pub fn strerror(code: CurlCode) -> &'static CStr {
    static TEXTS: OnceLock<Vec<CString>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        (0..128u32)
            .map(|n| {
                let text = match ErrorKind::from_code(n) {
                    Some(kind) => kind.description(),
                    None if n == 0 => "No error",
                    None => "Unknown error",
                };
                CString::new(text).unwrap_or_default()
            })
            .collect()
    });
    usize::try_from(code)
        .ok()
        .and_then(|n| texts.get(n))
        .map_or(c"Unknown error", CString::as_c_str)
}
