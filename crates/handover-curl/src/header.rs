//! `curl_easy_header` and `curl_easy_nextheader`: the headers of the last
//! transfer's response — its interim `1xx` answers (`CURLH_1XX`,
//! `Easy::interim_header_list`) and its final one (`CURLH_HEADER`,
//! `Easy::response_header_list`).
//!
//! handover keeps the headers of the last request only, and no trailers nor
//! proxy `CONNECT` replies: asking for `CURLH_CONNECT` or `CURLH_TRAILER`
//! headers alone finds none, and the only request is 0 (or -1, the last).
//! From inside a callback of the running transfer there are no headers yet
//! (`CURLHE_NOHEADERS`).

use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::ptr;

use crate::codes::*;
use crate::easy::EasyHandle;
use crate::guard;

/// libcurl's `struct curl_header`.
#[repr(C)]
#[derive(Debug)]
pub struct CurlHeader {
    /// The name as the server sent it.
    pub name: *mut c_char,
    /// The value, trimmed.
    pub value: *mut c_char,
    /// How many headers have this name (any case).
    pub amount: usize,
    /// Which of them this is.
    pub index: usize,
    /// `CURLH_*` origin bit.
    pub origin: c_uint,
    /// Where `curl_easy_nextheader` goes on: the position after this one.
    pub anchor: *mut c_void,
}

/// The answer of the last `curl_easy_header`/`_nextheader` (one struct per
/// handle, as libcurl's), and the C strings of the response's headers it
/// points into. The strings stay put while the response is the same: a
/// caller may pass one answer's `name` to the next call, as curl's own
/// `%{header_json}` does (curl's test 1671), and must find it still there.
pub(crate) struct HeaderOut {
    header: CurlHeader,
    strings: Vec<(CString, CString)>,
}

impl Default for HeaderOut {
    fn default() -> HeaderOut {
        HeaderOut {
            header: CurlHeader {
                name: ptr::null_mut(),
                value: ptr::null_mut(),
                amount: 0,
                index: 0,
                origin: 0,
                anchor: ptr::null_mut(),
            },
            strings: Vec::new(),
        }
    }
}

/// Every `CURLH_*` bit libcurl defines.
const ORIGINS: c_uint = CURLH_HEADER | CURLH_TRAILER | CURLH_CONNECT | CURLH_1XX | CURLH_PSEUDO;

/// One stored header: name, value, `CURLH_*` origin.
type Stored = (String, String, c_uint);

/// The handle's response headers in arrival order: the interim answers'
/// (`CURLH_1XX`), then the final answer's (`CURLH_HEADER`).
fn headers(h: &EasyHandle) -> Vec<Stored> {
    let interim = h
        .easy
        .interim_header_list()
        .map(|(n, v)| (n.to_owned(), v.to_owned(), CURLH_1XX));
    let last = h
        .easy
        .response_header_list()
        .map(|(n, v)| (n.to_owned(), v.to_owned(), CURLH_HEADER));
    interim.chain(last).collect()
}

/// Fills the handle's `curl_header` with header `position` of `list`;
/// `amount` and `index` count the headers of its name among those of the
/// `origin` mask, as libcurl counts them.
fn fill(h: &mut EasyHandle, list: &[Stored], position: usize, origin: c_uint) -> *mut CurlHeader {
    let Some((name, _, own_origin)) = list.get(position) else {
        return ptr::null_mut();
    };
    let counted = |(n, _, o): &&Stored| o & origin != 0 && n.eq_ignore_ascii_case(name);
    let amount = list.iter().filter(counted).count();
    let index = list[..position].iter().filter(counted).count();
    let out = &mut h.header_out;
    let unchanged = out.strings.len() == list.len()
        && out
            .strings
            .iter()
            .zip(list)
            .all(|((n, v), (name, value, _))| {
                n.as_bytes() == name.as_bytes() && v.as_bytes() == value.as_bytes()
            });
    if !unchanged {
        out.strings = list
            .iter()
            .map(|(n, v, _)| {
                (
                    CString::new(n.as_str()).unwrap_or_default(),
                    CString::new(v.as_str()).unwrap_or_default(),
                )
            })
            .collect();
    }
    let Some((c_name, c_value)) = out.strings.get(position) else {
        return ptr::null_mut();
    };
    out.header = CurlHeader {
        name: c_name.as_ptr().cast_mut(),
        value: c_value.as_ptr().cast_mut(),
        amount,
        index,
        origin: *own_origin,
        // An opaque position, as libcurl's anchor is opaque.
        anchor: (position + 1) as *mut c_void,
    };
    ptr::from_mut(&mut out.header)
}

/// `curl_easy_header`: header `name` (any case), instance `index`, of
/// request `request` (-1: the last).
///
/// # Safety
///
/// `easy` is NULL or a live handle; `name` is NULL or a C string; `hout`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn curl_easy_header(
    easy: *mut c_void,
    name: *const c_char,
    index: usize,
    origin: c_uint,
    request: c_int,
    hout: *mut *mut CurlHeader,
) -> c_int {
    guard(CURLHE_BAD_ARGUMENT, || {
        // SAFETY: per the function's contract.
        let h = unsafe { EasyHandle::from_ptr(easy) };
        let (Some(h), false, false) = (h, name.is_null(), hout.is_null()) else {
            return CURLHE_BAD_ARGUMENT;
        };
        if origin == 0 || origin & !ORIGINS != 0 || request < -1 {
            return CURLHE_BAD_ARGUMENT;
        }
        let list = headers(h);
        if list.is_empty() {
            return CURLHE_NOHEADERS;
        }
        if request > 0 {
            return CURLHE_NOREQUEST;
        }
        // SAFETY: `name` is a C string, per the contract.
        let wanted = unsafe { CStr::from_ptr(name) }.to_bytes();
        let matching: Vec<usize> = list
            .iter()
            .enumerate()
            .filter(|(_, (n, _, o))| o & origin != 0 && n.as_bytes().eq_ignore_ascii_case(wanted))
            .map(|(i, _)| i)
            .collect();
        if matching.is_empty() {
            return CURLHE_MISSING;
        }
        let Some(&position) = matching.get(index) else {
            return CURLHE_BADINDEX;
        };
        let header = fill(h, &list, position, origin);
        // SAFETY: `hout` is writable, per the contract.
        unsafe { hout.write(header) };
        CURLHE_OK
    })
}

/// `curl_easy_nextheader`: the header after `prev` (the first for NULL) of
/// the given origins; NULL at the end.
///
/// # Safety
///
/// `easy` is NULL or a live handle; `prev` is NULL or the last header this
/// handle returned.
#[no_mangle]
pub unsafe extern "C" fn curl_easy_nextheader(
    easy: *mut c_void,
    origin: c_uint,
    request: c_int,
    prev: *mut CurlHeader,
) -> *mut CurlHeader {
    guard(ptr::null_mut(), || {
        // SAFETY: per the function's contract.
        let Some(h) = (unsafe { EasyHandle::from_ptr(easy) }) else {
            return ptr::null_mut();
        };
        if !(-1..=0).contains(&request) {
            return ptr::null_mut();
        }
        // SAFETY: `prev` is NULL or our own header, per the contract.
        let start = match unsafe { prev.as_ref() } {
            None => 0,
            Some(p) => p.anchor as usize,
        };
        let list = headers(h);
        let next = list
            .iter()
            .enumerate()
            .skip(start)
            .find(|(_, (_, _, o))| o & origin != 0)
            .map(|(i, _)| i);
        match next {
            Some(position) => fill(h, &list, position, origin),
            None => ptr::null_mut(),
        }
    })
}
