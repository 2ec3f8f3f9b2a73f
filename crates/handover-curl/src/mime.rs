//! `curl_mime_*`: handover has no MIME (multipart) support, so these
//! answer what a libcurl built with `CURL_DISABLE_MIME` answers: NULL from
//! `curl_mime_init` and `curl_mime_addpart`, `CURLE_NOT_BUILT_IN` from the
//! rest, nothing from `curl_mime_free`. (The curl tool calls them only for
//! `-F`; it then stops with "out of memory", exit 27, where a full libcurl
//! would send the form.)

use std::ffi::{c_char, c_void};
use std::ptr;

use crate::codes::{CurlCode, CURLE_NOT_BUILT_IN};

/// `curl_mime_init`: NULL (MIME is not built in).
#[no_mangle]
pub extern "C" fn curl_mime_init(_easy: *mut c_void) -> *mut c_void {
    ptr::null_mut()
}

/// `curl_mime_free`: nothing to free.
#[no_mangle]
pub extern "C" fn curl_mime_free(_mime: *mut c_void) {}

/// `curl_mime_addpart`: NULL (MIME is not built in).
#[no_mangle]
pub extern "C" fn curl_mime_addpart(_mime: *mut c_void) -> *mut c_void {
    ptr::null_mut()
}

/// `curl_mime_name`: `CURLE_NOT_BUILT_IN`.
#[no_mangle]
pub extern "C" fn curl_mime_name(_part: *mut c_void, _name: *const c_char) -> CurlCode {
    CURLE_NOT_BUILT_IN
}

/// `curl_mime_filename`: `CURLE_NOT_BUILT_IN`.
#[no_mangle]
pub extern "C" fn curl_mime_filename(_part: *mut c_void, _name: *const c_char) -> CurlCode {
    CURLE_NOT_BUILT_IN
}

/// `curl_mime_type`: `CURLE_NOT_BUILT_IN`.
#[no_mangle]
pub extern "C" fn curl_mime_type(_part: *mut c_void, _mimetype: *const c_char) -> CurlCode {
    CURLE_NOT_BUILT_IN
}

/// `curl_mime_encoder`: `CURLE_NOT_BUILT_IN`.
#[no_mangle]
pub extern "C" fn curl_mime_encoder(_part: *mut c_void, _encoding: *const c_char) -> CurlCode {
    CURLE_NOT_BUILT_IN
}

/// `curl_mime_data`: `CURLE_NOT_BUILT_IN`.
#[no_mangle]
pub extern "C" fn curl_mime_data(
    _part: *mut c_void,
    _data: *const c_char,
    _size: usize,
) -> CurlCode {
    CURLE_NOT_BUILT_IN
}

/// `curl_mime_filedata`: `CURLE_NOT_BUILT_IN`.
#[no_mangle]
pub extern "C" fn curl_mime_filedata(_part: *mut c_void, _filename: *const c_char) -> CurlCode {
    CURLE_NOT_BUILT_IN
}

/// `curl_mime_data_cb`: `CURLE_NOT_BUILT_IN`.
#[no_mangle]
pub extern "C" fn curl_mime_data_cb(
    _part: *mut c_void,
    _datasize: i64,
    _readfunc: *mut c_void,
    _seekfunc: *mut c_void,
    _freefunc: *mut c_void,
    _arg: *mut c_void,
) -> CurlCode {
    CURLE_NOT_BUILT_IN
}

/// `curl_mime_subparts`: `CURLE_NOT_BUILT_IN`.
#[no_mangle]
pub extern "C" fn curl_mime_subparts(_part: *mut c_void, _subparts: *mut c_void) -> CurlCode {
    CURLE_NOT_BUILT_IN
}

/// `curl_mime_headers`: `CURLE_NOT_BUILT_IN`.
#[no_mangle]
pub extern "C" fn curl_mime_headers(
    _part: *mut c_void,
    _headers: *mut c_void,
    _take_ownership: std::ffi::c_int,
) -> CurlCode {
    CURLE_NOT_BUILT_IN
}
