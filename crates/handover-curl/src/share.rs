//! `CURLSH *`: `curl_share_init`/`_setopt`/`_cleanup`/`_strerror`, and
//! what `CURLOPT_SHARE` needs.
//!
//! A share shares what handover has to share: the DNS cache
//! (`CURL_LOCK_DATA_DNS`), the TLS session cache
//! (`CURL_LOCK_DATA_SSL_SESSION`) and the pool of idle connections
//! (`CURL_LOCK_DATA_CONNECT`), through a `handover::Share` the attached
//! handles use — in a multi handle too, where the share's pool replaces
//! the multi's for them, as in libcurl. A connect-only connection never
//! enters the pool. Cookies, the public suffix list and HSTS answer
//! `CURLSHE_NOT_BUILT_IN`, as a libcurl built without them. A share with
//! easy handles attached refuses changes and `curl_share_cleanup`
//! (`CURLSHE_IN_USE`). The lock callbacks and their data are kept and
//! never called, for any kind of data: handover's shared caches lock
//! themselves (a pool only while it hands out or takes back a
//! connection), so handles on several threads need no callbacks.

use std::ffi::{c_char, c_int, c_long, c_void};

use crate::guard;

/// Tells a live share from garbage.
const MAGIC: u32 = 0x5348_4152;

/// `CURLSHE_OK`.
pub(crate) const CURLSHE_OK: c_int = 0;
/// `CURLSHE_BAD_OPTION`.
const CURLSHE_BAD_OPTION: c_int = 1;
/// `CURLSHE_IN_USE`.
const CURLSHE_IN_USE: c_int = 2;
/// `CURLSHE_INVALID`.
const CURLSHE_INVALID: c_int = 3;
/// `CURLSHE_NOT_BUILT_IN`.
const CURLSHE_NOT_BUILT_IN: c_int = 5;

/// `CURLSHOPT_SHARE`.
const CURLSHOPT_SHARE: c_int = 1;
/// `CURLSHOPT_UNSHARE`.
const CURLSHOPT_UNSHARE: c_int = 2;
/// `CURLSHOPT_LOCKFUNC`.
const CURLSHOPT_LOCKFUNC: c_int = 3;
/// `CURLSHOPT_UNLOCKFUNC`.
const CURLSHOPT_UNLOCKFUNC: c_int = 4;
/// `CURLSHOPT_USERDATA`.
const CURLSHOPT_USERDATA: c_int = 5;

/// `CURL_LOCK_DATA_COOKIE`.
const CURL_LOCK_DATA_COOKIE: c_long = 2;
/// `CURL_LOCK_DATA_DNS`.
const CURL_LOCK_DATA_DNS: c_long = 3;
/// `CURL_LOCK_DATA_SSL_SESSION`.
const CURL_LOCK_DATA_SSL_SESSION: c_long = 4;
/// `CURL_LOCK_DATA_CONNECT`.
const CURL_LOCK_DATA_CONNECT: c_long = 5;
/// `CURL_LOCK_DATA_PSL`.
const CURL_LOCK_DATA_PSL: c_long = 6;
/// `CURL_LOCK_DATA_HSTS`.
const CURL_LOCK_DATA_HSTS: c_long = 7;

/// What a `CURLSH *` points to.
pub(crate) struct Share {
    magic: u32,
    /// Easy handles with `CURLOPT_SHARE` set to this share.
    pub(crate) users: usize,
    /// `CURLSHOPT_LOCKFUNC`, `_UNLOCKFUNC`, `_USERDATA`: kept, never called.
    callbacks: [*mut c_void; 3],
    /// The caches themselves.
    pub(crate) inner: handover::Share,
}

impl Share {
    /// The share behind a `CURLSH *`, or `None` for NULL or a pointer that
    /// is not a live share.
    ///
    /// # Safety
    ///
    /// `share` is NULL or a pointer `curl_share_init` returned that
    /// `curl_share_cleanup` has not freed, not in use elsewhere.
    pub(crate) unsafe fn from_ptr<'a>(share: *mut c_void) -> Option<&'a mut Share> {
        // SAFETY: per the function's contract.
        let share = unsafe { share.cast::<Share>().as_mut()? };
        (share.magic == MAGIC).then_some(share)
    }
}

/// `curl_share_init`: a new share handle sharing nothing.
#[no_mangle]
pub extern "C" fn curl_share_init() -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        Box::into_raw(Box::new(Share {
            magic: MAGIC,
            users: 0,
            callbacks: [std::ptr::null_mut(); 3],
            inner: handover::Share::new(),
        }))
        .cast::<c_void>()
    })
}

/// `CURLSHOPT_SHARE`/`_UNSHARE` of one kind of data (libcurl without a
/// feature answers both the same way).
fn share_data(share: &mut Share, option: c_int, kind: c_long) -> c_int {
    let on = option == CURLSHOPT_SHARE;
    match kind {
        CURL_LOCK_DATA_DNS => {
            share.inner.share_dns(on);
            CURLSHE_OK
        }
        CURL_LOCK_DATA_SSL_SESSION => {
            share.inner.share_ssl_sessions(on);
            CURLSHE_OK
        }
        CURL_LOCK_DATA_CONNECT => {
            share.inner.share_connections(on);
            CURLSHE_OK
        }
        CURL_LOCK_DATA_COOKIE | CURL_LOCK_DATA_PSL | CURL_LOCK_DATA_HSTS => CURLSHE_NOT_BUILT_IN,
        _ => CURLSHE_BAD_OPTION,
    }
}

/// `curl_share_setopt` for long options (shim.c's typed half).
///
/// # Safety
///
/// `share` is NULL or a live share handle.
#[no_mangle]
pub unsafe extern "C" fn handover_share_setopt_long(
    share: *mut c_void,
    option: c_int,
    value: c_long,
) -> c_int {
    // SAFETY: per the function's contract.
    unsafe {
        change(share, |share| match option {
            CURLSHOPT_SHARE | CURLSHOPT_UNSHARE => share_data(share, option, value),
            _ => CURLSHE_BAD_OPTION,
        })
    }
}

/// `curl_share_setopt` for pointer options: the lock callbacks and their
/// data, kept and never called.
///
/// # Safety
///
/// `share` is NULL or a live share handle.
#[no_mangle]
pub unsafe extern "C" fn handover_share_setopt_ptr(
    share: *mut c_void,
    option: c_int,
    value: *mut c_void,
) -> c_int {
    // SAFETY: per the function's contract.
    unsafe {
        change(share, |share| {
            let slot = match option {
                CURLSHOPT_LOCKFUNC => 0,
                CURLSHOPT_UNLOCKFUNC => 1,
                CURLSHOPT_USERDATA => 2,
                _ => return CURLSHE_BAD_OPTION,
            };
            share.callbacks[slot] = value;
            CURLSHE_OK
        })
    }
}

/// One `curl_share_setopt` change: `CURLSHE_INVALID` for NULL or a bad
/// handle, `CURLSHE_IN_USE` while easy handles use the share (libcurl
/// refuses changes then), else what `f` answers.
///
/// # Safety
///
/// `share` is NULL or a live share handle.
unsafe fn change(share: *mut c_void, f: impl FnOnce(&mut Share) -> c_int) -> c_int {
    guard(CURLSHE_INVALID, || {
        // SAFETY: per the function's contract.
        let Some(share) = (unsafe { Share::from_ptr(share) }) else {
            return CURLSHE_INVALID;
        };
        if share.users > 0 {
            return CURLSHE_IN_USE;
        }
        f(share)
    })
}

/// `curl_share_cleanup`: frees the share; `CURLSHE_IN_USE` while easy
/// handles still use it, `CURLSHE_INVALID` for NULL or a bad handle.
///
/// # Safety
///
/// `share` is NULL or a live share handle, not used again once freed.
#[no_mangle]
pub unsafe extern "C" fn curl_share_cleanup(share: *mut c_void) -> c_int {
    guard(CURLSHE_INVALID, || {
        // SAFETY: per the function's contract.
        let Some(s) = (unsafe { Share::from_ptr(share) }) else {
            return CURLSHE_INVALID;
        };
        if s.users > 0 {
            return CURLSHE_IN_USE;
        }
        s.magic = 0;
        // SAFETY: the pointer came from Box::into_raw in curl_share_init and
        // is freed once (the magic is cleared first).
        drop(unsafe { Box::from_raw(std::ptr::from_mut(s)) });
        CURLSHE_OK
    })
}

/// `curl_share_strerror`: libcurl's text for a `CURLSHcode`.
#[no_mangle]
pub extern "C" fn curl_share_strerror(code: c_int) -> *const c_char {
    let text = match code {
        0 => c"No error",
        1 => c"Unknown share option",
        2 => c"Share currently in use",
        3 => c"Invalid share handle",
        4 => c"Out of memory",
        5 => c"Feature not enabled in this library",
        _ => c"CURLSHcode unknown",
    };
    text.as_ptr()
}

/// Attaches an easy handle to `share` (NULL detaches): what
/// `CURLOPT_SHARE` does. `previous` is the share it used before. The
/// caches to give the handle (`Some(None)` to detach); `None` for a
/// pointer that is not a share.
///
/// # Safety
///
/// `share` and `previous` are NULL or live share handles.
pub(crate) unsafe fn attach(
    previous: *mut c_void,
    share: *mut c_void,
) -> Option<Option<handover::Share>> {
    // SAFETY: per the function's contract.
    let new = unsafe { Share::from_ptr(share) };
    if !share.is_null() && new.is_none() {
        return None;
    }
    // SAFETY: per the function's contract.
    if let Some(old) = unsafe { Share::from_ptr(previous) } {
        old.users = old.users.saturating_sub(1);
    }
    // SAFETY: per the function's contract (the share is not otherwise
    // borrowed here: `previous` may be the same share, its borrow is over).
    let new = unsafe { Share::from_ptr(share) };
    Some(new.map(|new| {
        new.users += 1;
        new.inner.clone()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_dns_tls_sessions_and_connections_and_nothing_it_does_not_have() {
        let s = curl_share_init();
        // SAFETY: a live share from curl_share_init.
        unsafe {
            for kind in [
                CURL_LOCK_DATA_DNS,
                CURL_LOCK_DATA_SSL_SESSION,
                CURL_LOCK_DATA_CONNECT,
            ] {
                assert_eq!(handover_share_setopt_long(s, CURLSHOPT_SHARE, kind), 0);
                assert_eq!(handover_share_setopt_long(s, CURLSHOPT_UNSHARE, kind), 0);
            }
            for kind in [
                CURL_LOCK_DATA_COOKIE,
                CURL_LOCK_DATA_PSL,
                CURL_LOCK_DATA_HSTS,
            ] {
                assert_eq!(handover_share_setopt_long(s, CURLSHOPT_SHARE, kind), 5);
            }
            assert_eq!(
                handover_share_setopt_long(s, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT),
                0
            );
            assert_eq!(handover_share_setopt_long(s, CURLSHOPT_SHARE, 99), 1);
            assert_eq!(handover_share_setopt_long(s, 42, 0), 1);
            assert!(attach(std::ptr::null_mut(), s).is_some());
            assert_eq!(
                handover_share_setopt_long(s, CURLSHOPT_UNSHARE, CURL_LOCK_DATA_CONNECT),
                CURLSHE_IN_USE
            );
            assert_eq!(curl_share_cleanup(s), CURLSHE_IN_USE);
            assert!(attach(s, std::ptr::null_mut()).is_some());
            assert_eq!(curl_share_cleanup(s), CURLSHE_OK);
            assert_eq!(curl_share_cleanup(std::ptr::null_mut()), CURLSHE_INVALID);
        }
    }
}
