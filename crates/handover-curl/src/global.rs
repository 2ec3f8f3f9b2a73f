//! `curl_global_init`/`_cleanup`: handover needs no global setup (rustls
//! and the resolver pool start on first use), so these only answer OK.

use std::ffi::c_long;

use crate::codes::{CurlCode, CURLE_OK};

/// `curl_global_init`: nothing to set up; always `CURLE_OK`.
#[no_mangle]
pub extern "C" fn curl_global_init(_flags: c_long) -> CurlCode {
    CURLE_OK
}

/// `curl_global_cleanup`: nothing to tear down.
#[no_mangle]
pub extern "C" fn curl_global_cleanup() {}
