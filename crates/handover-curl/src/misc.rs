//! The small exports: `curl_slist_*`, `curl_free`, URL escaping,
//! `curl_strequal`/`_strnequal`, `curl_getenv` and `curl_version`. Memory
//! handed to the application comes from `malloc`, so that `curl_free`
//! (which is `free`) and the application's own `free` both release it.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;
use std::sync::OnceLock;

use crate::codes::MIRRORED_VERSION;
use crate::easy::Slist;
use crate::guard;

/// A `malloc`ed NUL-terminated copy of `bytes`; NULL when out of memory.
pub(crate) fn malloc_copy(bytes: &[u8]) -> *mut c_char {
    // SAFETY: malloc of len + 1 bytes, checked for NULL before use.
    let p = unsafe { libc::malloc(bytes.len() + 1) }.cast::<c_char>();
    if p.is_null() {
        return p;
    }
    // SAFETY: `p` holds len + 1 bytes; `bytes` is readable for len.
    unsafe {
        ptr::copy_nonoverlapping(bytes.as_ptr().cast::<c_char>(), p, bytes.len());
        *p.add(bytes.len()) = 0;
    }
    p
}

/// The bytes of a (string, length) argument: `length` 0 means up to the
/// NUL; a negative length is `None`.
///
/// # Safety
///
/// `s` is a C string, or points to `length` readable bytes.
unsafe fn input<'a>(s: *const c_char, length: c_int) -> Option<&'a [u8]> {
    if s.is_null() {
        return None;
    }
    match usize::try_from(length) {
        // SAFETY: per the function's contract.
        Ok(0) => Some(unsafe { CStr::from_ptr(s) }.to_bytes()),
        // SAFETY: per the function's contract.
        Ok(n) => Some(unsafe { std::slice::from_raw_parts(s.cast::<u8>(), n) }),
        Err(_) => None,
    }
}

/// `%XX` sequences decoded; anything else, `+` included, kept as is.
pub(crate) fn percent_decode(bytes: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = match (bytes.get(i), bytes.get(i + 1), bytes.get(i + 2)) {
            (Some(b'%'), Some(&a), Some(&b)) => hex(a).zip(hex(b)).map(|(a, b)| (a * 16 + b) as u8),
            _ => None,
        };
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

/// `curl_slist_append`: appends a copy of `string` to `list` (a new list
/// for NULL); the list's head, or NULL when out of memory.
///
/// # Safety
///
/// `list` is NULL or a list from this function; `string` is NULL or a C
/// string.
#[no_mangle]
pub unsafe extern "C" fn curl_slist_append(list: *mut Slist, string: *const c_char) -> *mut Slist {
    guard(ptr::null_mut(), || {
        if string.is_null() {
            return ptr::null_mut();
        }
        // SAFETY: `string` is a C string, per the contract.
        let data = malloc_copy(unsafe { CStr::from_ptr(string) }.to_bytes());
        if data.is_null() {
            return ptr::null_mut();
        }
        // SAFETY: malloc of one node, checked for NULL before use.
        let node = unsafe { libc::malloc(std::mem::size_of::<Slist>()) }.cast::<Slist>();
        if node.is_null() {
            // SAFETY: `data` came from malloc just above.
            unsafe { libc::free(data.cast::<c_void>()) };
            return ptr::null_mut();
        }
        // SAFETY: `node` is a fresh allocation of one Slist.
        unsafe {
            node.write(Slist {
                data,
                next: ptr::null_mut(),
            })
        };
        if list.is_null() {
            return node;
        }
        let mut last = list;
        // SAFETY: `list` is a valid list, per the contract: walk to its end.
        unsafe {
            while !(*last).next.is_null() {
                last = (*last).next;
            }
            (*last).next = node;
        }
        list
    })
}

/// `curl_slist_free_all`: frees every node of `list` and its string.
///
/// # Safety
///
/// `list` is NULL or a list from `curl_slist_append`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn curl_slist_free_all(list: *mut Slist) {
    guard((), || {
        let mut node = list;
        while !node.is_null() {
            // SAFETY: every node and string came from malloc in
            // curl_slist_append, and each is freed once.
            unsafe {
                let next = (*node).next;
                libc::free((*node).data.cast::<c_void>());
                libc::free(node.cast::<c_void>());
                node = next;
            }
        }
    })
}

/// `curl_free`: releases memory this library handed out.
///
/// # Safety
///
/// `p` is NULL or came from this library's allocating functions.
#[no_mangle]
pub unsafe extern "C" fn curl_free(p: *mut c_void) {
    // SAFETY: per the function's contract, `p` came from malloc (or NULL).
    guard((), || unsafe { libc::free(p) })
}

/// `curl_easy_escape`: every byte but `A-Za-z0-9-._~` as `%XX` (upper-case
/// hex), in memory for `curl_free`; `length` 0 means up to the NUL. The
/// handle is not used (it may be NULL).
///
/// # Safety
///
/// `string` is NULL, a C string, or `length` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn curl_easy_escape(
    _handle: *mut c_void,
    string: *const c_char,
    length: c_int,
) -> *mut c_char {
    guard(ptr::null_mut(), || {
        // SAFETY: per the function's contract.
        let Some(bytes) = (unsafe { input(string, length) }) else {
            return ptr::null_mut();
        };
        let mut out = Vec::with_capacity(bytes.len());
        for &b in bytes {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                out.push(b);
            } else {
                out.extend_from_slice(format!("%{b:02X}").as_bytes());
            }
        }
        malloc_copy(&out)
    })
}

/// `curl_easy_unescape`: `%XX` decoded, in memory for `curl_free`; the
/// decoded length goes to `outlength` if not NULL.
///
/// # Safety
///
/// `string` is NULL, a C string, or `length` readable bytes; `outlength`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn curl_easy_unescape(
    _handle: *mut c_void,
    string: *const c_char,
    length: c_int,
    outlength: *mut c_int,
) -> *mut c_char {
    guard(ptr::null_mut(), || {
        // SAFETY: per the function's contract.
        let Some(bytes) = (unsafe { input(string, length) }) else {
            return ptr::null_mut();
        };
        let decoded = percent_decode(bytes);
        let Ok(n) = c_int::try_from(decoded.len()) else {
            return ptr::null_mut();
        };
        // SAFETY: `outlength` is NULL or writable, per the contract.
        if let Some(out) = unsafe { outlength.as_mut() } {
            *out = n;
        }
        malloc_copy(&decoded)
    })
}

/// `curl_escape`: the deprecated `curl_easy_escape` without a handle.
///
/// # Safety
///
/// As [`curl_easy_escape`].
#[no_mangle]
pub unsafe extern "C" fn curl_escape(string: *const c_char, length: c_int) -> *mut c_char {
    // SAFETY: the same contract.
    unsafe { curl_easy_escape(ptr::null_mut(), string, length) }
}

/// `curl_unescape`: the deprecated `curl_easy_unescape` without a handle.
///
/// # Safety
///
/// As [`curl_easy_unescape`].
#[no_mangle]
pub unsafe extern "C" fn curl_unescape(string: *const c_char, length: c_int) -> *mut c_char {
    // SAFETY: the same contract.
    unsafe { curl_easy_unescape(ptr::null_mut(), string, length, ptr::null_mut()) }
}

/// ASCII case-insensitive comparison of at most `max` bytes of two C
/// strings, both NULL counting as equal (libcurl's `curl_strnequal`).
///
/// # Safety
///
/// `a` and `b` are NULL or C strings.
unsafe fn equal(a: *const c_char, b: *const c_char, max: Option<usize>) -> c_int {
    if a.is_null() || b.is_null() {
        return c_int::from(a.is_null() && b.is_null());
    }
    // SAFETY: both are C strings, per the contract.
    let (a, b) = unsafe { (CStr::from_ptr(a).to_bytes(), CStr::from_ptr(b).to_bytes()) };
    let (a, b) = match max {
        Some(n) => (&a[..a.len().min(n)], &b[..b.len().min(n)]),
        None => (a, b),
    };
    c_int::from(a.eq_ignore_ascii_case(b))
}

/// `curl_strequal`: 1 when the strings are equal ignoring ASCII case.
///
/// # Safety
///
/// `a` and `b` are NULL or C strings.
#[no_mangle]
pub unsafe extern "C" fn curl_strequal(a: *const c_char, b: *const c_char) -> c_int {
    // SAFETY: the same contract.
    guard(0, || unsafe { equal(a, b, None) })
}

/// `curl_strnequal`: as `curl_strequal` for at most `max` bytes.
///
/// # Safety
///
/// `a` and `b` are NULL or C strings.
#[no_mangle]
pub unsafe extern "C" fn curl_strnequal(a: *const c_char, b: *const c_char, max: usize) -> c_int {
    // SAFETY: the same contract.
    guard(0, || unsafe { equal(a, b, Some(max)) })
}

/// `curl_getenv`: a copy of the environment variable, for `curl_free`;
/// NULL when unset.
///
/// # Safety
///
/// `name` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn curl_getenv(name: *const c_char) -> *mut c_char {
    guard(ptr::null_mut(), || {
        if name.is_null() {
            return ptr::null_mut();
        }
        // SAFETY: `name` is a C string; getenv's answer is read at once.
        unsafe {
            let value = libc::getenv(name);
            if value.is_null() {
                return ptr::null_mut();
            }
            malloc_copy(CStr::from_ptr(value).to_bytes())
        }
    })
}

/// The version line: the libcurl version handover-curl mirrors, then
/// handover's and its TLS library's.
pub fn version_text() -> &'static CStr {
    static TEXT: OnceLock<std::ffi::CString> = OnceLock::new();
    TEXT.get_or_init(|| {
        let line = format!(
            "libcurl/{MIRRORED_VERSION} handover/{} rustls/0.23",
            env!("CARGO_PKG_VERSION")
        );
        std::ffi::CString::new(line).unwrap_or_default()
    })
}

/// `curl_version`: "libcurl/8.21.0 handover/0.1.0 rustls/0.23".
#[no_mangle]
pub extern "C" fn curl_version() -> *const c_char {
    guard(c"libcurl".as_ptr(), || version_text().as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decode(b"a%20b%zz%4"), b"a b%zz%4");
        assert_eq!(percent_decode(b"%41+%2f"), b"A+/");
    }
}
