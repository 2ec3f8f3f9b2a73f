//! The multi interface's numbers (`src/multi.rs`): `CURLMcode` with
//! `curl_multi_strerror`'s texts, `CURLMoption`, and the bits of the
//! socket interface and of `struct curl_waitfd`. From libcurl's
//! `include/curl/multi.h` and `docs/libcurl/symbols-in-versions`; checked
//! against the system's header by `tests/numbers.rs` like every table.

use std::ffi::{c_int, c_long, c_short, CStr};

use super::{Constant, CURLOPTTYPE_FUNCTIONPOINT, CURLOPTTYPE_OBJECTPOINT, CURLOPTTYPE_OFF_T};

/// A `CURLMcode`.
pub type CurlMcode = c_int;

constants! {
    /// `CURLMcode`: what the multi functions answer.
    CURLMCODES: CurlMcode {
        CURLM_CALL_MULTI_PERFORM = -1, 0x070906;
        CURLM_OK = 0, 0x070906;
        CURLM_BAD_HANDLE = 1, 0x070906;
        CURLM_BAD_EASY_HANDLE = 2, 0x070906;
        CURLM_OUT_OF_MEMORY = 3, 0x070906;
        CURLM_INTERNAL_ERROR = 4, 0x070906;
        CURLM_BAD_SOCKET = 5, 0x070f04;
        CURLM_UNKNOWN_OPTION = 6, 0x070f04;
        CURLM_ADDED_ALREADY = 7, 0x072100;
        CURLM_RECURSIVE_API_CALL = 8, 0x073b00;
        CURLM_WAKEUP_FAILURE = 9, 0x074400;
        CURLM_BAD_FUNCTION_ARGUMENT = 10, 0x074500;
        CURLM_ABORTED_BY_CALLBACK = 11, 0x075100;
        CURLM_UNRECOVERABLE_POLL = 12, 0x075400;
    }
}

constants! {
    /// `CURLMoption`: the multi handle's options.
    CURLMOPTIONS: c_int {
        CURLMOPT_SOCKETFUNCTION = CURLOPTTYPE_FUNCTIONPOINT + 1, 0x070f04;
        CURLMOPT_SOCKETDATA = CURLOPTTYPE_OBJECTPOINT + 2, 0x070f04;
        CURLMOPT_PIPELINING = 3, 0x071000;
        CURLMOPT_TIMERFUNCTION = CURLOPTTYPE_FUNCTIONPOINT + 4, 0x071000;
        CURLMOPT_TIMERDATA = CURLOPTTYPE_OBJECTPOINT + 5, 0x071000;
        CURLMOPT_MAXCONNECTS = 6, 0x071003;
        CURLMOPT_MAX_HOST_CONNECTIONS = 7, 0x071e00;
        CURLMOPT_MAX_PIPELINE_LENGTH = 8, 0x071e00;
        CURLMOPT_CONTENT_LENGTH_PENALTY_SIZE = CURLOPTTYPE_OFF_T + 9, 0x071e00;
        CURLMOPT_CHUNK_LENGTH_PENALTY_SIZE = CURLOPTTYPE_OFF_T + 10, 0x071e00;
        CURLMOPT_PIPELINING_SITE_BL = CURLOPTTYPE_OBJECTPOINT + 11, 0x071e00;
        CURLMOPT_PIPELINING_SERVER_BL = CURLOPTTYPE_OBJECTPOINT + 12, 0x071e00;
        CURLMOPT_MAX_TOTAL_CONNECTIONS = 13, 0x071e00;
        CURLMOPT_PUSHFUNCTION = CURLOPTTYPE_FUNCTIONPOINT + 14, 0x072c00;
        CURLMOPT_PUSHDATA = CURLOPTTYPE_OBJECTPOINT + 15, 0x072c00;
        CURLMOPT_MAX_CONCURRENT_STREAMS = 16, 0x074300;
    }
}

constants! {
    /// `CURLMSG_*`, `CURL_POLL_*`, `CURL_CSELECT_*`, `CURL_SOCKET_TIMEOUT`:
    /// the messages and the socket interface's events.
    CURLMSG_AND_POLL: c_int {
        CURLMSG_NONE = 0, 0x070906;
        CURLMSG_DONE = 1, 0x070906;
        CURL_POLL_NONE = 0, 0x070e00;
        CURL_POLL_IN = 1, 0x070e00;
        CURL_POLL_OUT = 2, 0x070e00;
        CURL_POLL_INOUT = 3, 0x070e00;
        CURL_POLL_REMOVE = 4, 0x070e00;
        CURL_SOCKET_TIMEOUT = -1, 0x070e00;
        CURL_CSELECT_IN = 0x01, 0x071003;
        CURL_CSELECT_OUT = 0x02, 0x071003;
        CURL_CSELECT_ERR = 0x04, 0x071003;
    }
}

constants! {
    /// `CURL_WAIT_POLL*`: `struct curl_waitfd` events.
    CURL_WAIT: c_short {
        CURL_WAIT_POLLIN = 0x0001, 0x071c00;
        CURL_WAIT_POLLPRI = 0x0002, 0x071c00;
        CURL_WAIT_POLLOUT = 0x0004, 0x071c00;
    }
}

constants! {
    /// `CURLPIPE_*`: `CURLMOPT_PIPELINING` bits.
    CURLPIPE: c_long {
        CURLPIPE_NOTHING = 0, 0x072b00;
        CURLPIPE_HTTP1 = 1, 0x072b00;
        CURLPIPE_MULTIPLEX = 2, 0x072b00;
    }
}

/// libcurl's text for a `CURLMcode` (`curl_multi_strerror`, lib/strerror.c).
pub fn multi_strerror(code: CurlMcode) -> &'static CStr {
    match code {
        CURLM_CALL_MULTI_PERFORM => c"Please call curl_multi_perform() soon",
        CURLM_OK => c"No error",
        CURLM_BAD_HANDLE => c"Invalid multi handle",
        CURLM_BAD_EASY_HANDLE => c"Invalid easy handle",
        CURLM_OUT_OF_MEMORY => c"Out of memory",
        CURLM_INTERNAL_ERROR => c"Internal error",
        CURLM_BAD_SOCKET => c"Invalid socket argument",
        CURLM_UNKNOWN_OPTION => c"Unknown option",
        CURLM_ADDED_ALREADY => c"The easy handle is already added to a multi handle",
        CURLM_RECURSIVE_API_CALL => c"API function called from within callback",
        CURLM_WAKEUP_FAILURE => c"Wakeup is unavailable or failed",
        CURLM_BAD_FUNCTION_ARGUMENT => c"A libcurl function was given a bad argument",
        CURLM_ABORTED_BY_CALLBACK => c"Operation was aborted by an application callback",
        CURLM_UNRECOVERABLE_POLL => c"Unrecoverable error in select/poll",
        _ => c"Unknown error",
    }
}
