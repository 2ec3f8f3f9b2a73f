//! `curl_easy_getinfo`: every `CURLINFO` the Rust `Info` has, by libcurl's
//! number and type. Strings stay valid until the next transfer of the
//! handle (a string is replaced only when its value changes), as libcurl's.
//!
//! From inside a callback the transfer's own information is not available
//! yet (handover hands it over when the transfer ends); libcurl's live
//! values are given where the C layer sees them: `RESPONSE_CODE` (from the
//! status line), `HEADER_SIZE`, `SIZE_DOWNLOAD`, `SIZE_UPLOAD`, `PRIVATE`,
//! `EFFECTIVE_URL`, `EFFECTIVE_METHOD`, `SCHEME` and `PROTOCOL` (from the
//! URL). An info handover does not know
//! is `CURLE_UNKNOWN_OPTION` (48), as libcurl answers for unknown ones.

use std::ffi::{c_char, c_double, c_int, c_long, c_void, CString};
use std::time::Duration;

use handover::Info;

use crate::codes::*;
use crate::easy::{EasyHandle, Method};

/// One answer of `curl_easy_getinfo`.
enum Answer {
    /// A string, or NULL.
    Text(Option<String>),
    /// `CURLINFO_PRIVATE`: the pointer as given.
    Pointer(*mut c_void),
    /// A `long`.
    Long(c_long),
    /// A `double`.
    Double(c_double),
    /// A `curl_off_t`.
    OffT(i64),
    /// A `curl_socket_t`.
    Socket(c_int),
    /// `CURLINFO_TLS_SSL_PTR`/`TLS_SESSION`: a `struct curl_tlssessioninfo *`.
    Tls,
    /// `CURLINFO_CERTINFO`: a `struct curl_certinfo *` the handle keeps.
    CertInfo,
}

/// libcurl's `struct curl_tlssessioninfo`.
#[repr(C)]
struct TlsSessionInfo {
    /// `curl_sslbackend`: `CURLSSLBACKEND_RUSTLS` (14).
    backend: c_int,
    /// The TLS library's session object: always NULL here (handover's
    /// rustls connection is Rust, not the rustls-ffi object libcurl's
    /// rustls backend hands out).
    internals: *mut c_void,
}

// SAFETY: the one instance holds a NULL pointer and is never written.
unsafe impl Sync for TlsSessionInfo {}

/// The answer to `CURLINFO_TLS_SSL_PTR` and `CURLINFO_TLS_SESSION`, the
/// same for every handle: the backend and no internals, which is what
/// libcurl answers before a TLS connection exists. (The curl tool asks it
/// at start to learn the backend.)
static TLS_INFO: TlsSessionInfo = TlsSessionInfo {
    backend: 14,
    internals: std::ptr::null_mut(),
};

/// Seconds as libcurl's `double` times give them.
fn seconds(d: Duration) -> c_double {
    d.as_secs_f64()
}

/// Microseconds as libcurl's `_T` times give them.
fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// The answer for `info`, or `None` for an info handover does not know.
fn answer(h: &EasyHandle, info: c_int) -> Option<Answer> {
    let i: &Info = h.easy.info();
    let live = &h.live;
    let time = |d: Duration| -> Answer {
        if info & CURLINFO_TYPEMASK == CURLINFO_OFF_T {
            Answer::OffT(micros(d))
        } else {
            Answer::Double(seconds(d))
        }
    };
    let size = |n: i64| -> Answer {
        if info & CURLINFO_TYPEMASK == CURLINFO_OFF_T {
            Answer::OffT(n)
        } else {
            Answer::Double(n as c_double)
        }
    };
    let downloaded = if h.busy {
        live.dlnow
    } else {
        i64::try_from(i.size_download())
            .unwrap_or(i64::MAX)
            .max(live.dlnow)
    };
    // Counted live while the transfer runs; after it, what went out.
    let uploaded = if h.busy {
        live.ulnow
    } else {
        i64::try_from(i.size_upload())
            .unwrap_or(i64::MAX)
            .max(live.ulnow)
    };
    let total_secs = i.total_time().as_secs_f64();
    let speed = |n: i64| -> i64 {
        if total_secs > 0.0 {
            (n as f64 / total_secs) as i64
        } else {
            0
        }
    };
    // From a callback, the scheme of the URL being transferred: the curl
    // tool asks for it in its header callback and honours
    // `Content-Disposition` (-J) only for http and https (curl's test 3012).
    let scheme = if h.busy { live.scheme } else { i.scheme() };
    let text = |s: Option<&str>| Answer::Text(s.map(str::to_owned));
    let c_text =
        |s: &Option<CString>| Answer::Text(s.as_ref().map(|c| c.to_string_lossy().into_owned()));
    let port = |p: Option<u16>| Answer::Long(p.map_or(-1, c_long::from));
    Some(match info {
        CURLINFO_EFFECTIVE_URL => match i.effective_url() {
            Some(url) if !h.busy => text(Some(url)),
            _ if h.performed => c_text(&h.url),
            _ => text(Some("")),
        },
        CURLINFO_EFFECTIVE_METHOD => match &h.custom_request {
            Some(m) => c_text(&Some(m.clone())),
            None => text(Some(match h.req.method {
                Method::Get => "GET",
                Method::Post => "POST",
                Method::Put => "PUT",
                Method::Head => "HEAD",
            })),
        },
        CURLINFO_RESPONSE_CODE => Answer::Long(if h.busy {
            live.status
        } else {
            c_long::from(i.response_code())
        }),
        CURLINFO_HTTP_CONNECTCODE => Answer::Long(c_long::from(i.http_connectcode())),
        CURLINFO_HTTP_VERSION => Answer::Long(if live.status != 0 {
            live.http_version
        } else {
            CURL_HTTP_VERSION_NONE
        }),
        CURLINFO_CONTENT_TYPE => text(h.easy.response_header("content-type")),
        CURLINFO_PRIVATE => Answer::Pointer(h.private),
        CURLINFO_PRIMARY_IP => text(Some(
            &h.easy.primary_ip().ok().flatten().unwrap_or_default(),
        )),
        CURLINFO_LOCAL_IP => text(Some(
            &i.local_addr().map_or(String::new(), |a| a.ip().to_string()),
        )),
        CURLINFO_PRIMARY_PORT => port(i.primary_port()),
        // Connected over a Unix socket: no local port, which libcurl says as 0.
        CURLINFO_LOCAL_PORT => port(
            i.local_addr()
                .map(|a| a.port())
                .or(i.unix_socket_path().map(|_| 0)),
        ),
        // libcurl 8.8+ names schemes in lower case (7.x to 8.7: upper case).
        CURLINFO_SCHEME => Answer::Text(scheme.map(str::to_ascii_lowercase)),
        CURLINFO_PROTOCOL => Answer::Long(
            scheme.map_or(0, |s| crate::options::protocol_bit(&s.to_ascii_lowercase())),
        ),
        CURLINFO_HEADER_SIZE => {
            Answer::Long(c_long::try_from(live.header_size).unwrap_or(c_long::MAX))
        }
        CURLINFO_SSL_VERIFYRESULT => {
            Answer::Long(c_long::try_from(i.ssl_verify_result()).unwrap_or(1))
        }
        CURLINFO_PROXY_SSL_VERIFYRESULT | CURLINFO_REDIRECT_COUNT => Answer::Long(0),
        CURLINFO_HTTPAUTH_AVAIL => Answer::Long(c_long::from(i.httpauth_avail())),
        CURLINFO_HTTPAUTH_USED => Answer::Long(c_long::from(i.httpauth_used())),
        CURLINFO_CONDITION_UNMET => Answer::Long(c_long::from(i.response_code() == 304)),
        CURLINFO_PROXYAUTH_AVAIL => Answer::Long(c_long::from(i.proxyauth_avail())),
        CURLINFO_PROXYAUTH_USED => Answer::Long(c_long::from(i.proxyauth_used())),
        CURLINFO_PROXY_ERROR => Answer::Long(c_long::from(i.proxy_error())),
        CURLINFO_USED_PROXY => Answer::Long(c_long::from(i.used_proxy())),
        CURLINFO_OS_ERRNO => Answer::Long(c_long::from(i.os_errno())),
        CURLINFO_NUM_CONNECTS => Answer::Long(c_long::from(i.num_connects())),
        // curl 8.2: -1 before any connection or transfer.
        CURLINFO_CONN_ID => Answer::OffT(i.conn_id()),
        CURLINFO_XFER_ID => Answer::OffT(i.xfer_id()),
        CURLINFO_LASTSOCKET => Answer::Long(h.easy.last_socket().map_or(-1, c_long::from)),
        CURLINFO_ACTIVESOCKET => Answer::Socket(h.easy.last_socket().unwrap_or(CURL_SOCKET_BAD)),
        CURLINFO_TOTAL_TIME | CURLINFO_TOTAL_TIME_T => time(i.total_time()),
        CURLINFO_NAMELOOKUP_TIME | CURLINFO_NAMELOOKUP_TIME_T => time(i.namelookup_time()),
        CURLINFO_CONNECT_TIME | CURLINFO_CONNECT_TIME_T => time(i.connect_time()),
        CURLINFO_APPCONNECT_TIME | CURLINFO_APPCONNECT_TIME_T => time(i.appconnect_time()),
        CURLINFO_PRETRANSFER_TIME | CURLINFO_PRETRANSFER_TIME_T => time(i.pretransfer_time()),
        CURLINFO_STARTTRANSFER_TIME | CURLINFO_STARTTRANSFER_TIME_T => time(i.starttransfer_time()),
        CURLINFO_REDIRECT_TIME | CURLINFO_REDIRECT_TIME_T => time(Duration::ZERO),
        CURLINFO_SIZE_DOWNLOAD | CURLINFO_SIZE_DOWNLOAD_T => size(downloaded),
        CURLINFO_SIZE_UPLOAD | CURLINFO_SIZE_UPLOAD_T => size(uploaded),
        CURLINFO_SPEED_DOWNLOAD | CURLINFO_SPEED_DOWNLOAD_T => size(speed(downloaded)),
        CURLINFO_SPEED_UPLOAD | CURLINFO_SPEED_UPLOAD_T => size(speed(uploaded)),
        CURLINFO_CONTENT_LENGTH_DOWNLOAD | CURLINFO_CONTENT_LENGTH_DOWNLOAD_T => size(
            i.content_length_download()
                .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX)),
        ),
        CURLINFO_CONTENT_LENGTH_UPLOAD | CURLINFO_CONTENT_LENGTH_UPLOAD_T => {
            size(if live.ultotal > 0 || live.body_bytes > 0 {
                live.ultotal
            } else {
                -1
            })
        }
        CURLINFO_TLS_SSL_PTR | CURLINFO_TLS_SESSION => Answer::Tls,
        CURLINFO_CERTINFO => Answer::CertInfo,
        // With CURLOPT_FILETIME: the response's Last-Modified, -1 when
        // unknown (as libcurl).
        CURLINFO_FILETIME | CURLINFO_FILETIME_T => {
            let t = h
                .easy
                .response_header("last-modified")
                .filter(|_| h.req.filetime && !h.busy)
                .and_then(crate::getdate::parse)
                .unwrap_or(-1);
            if info & CURLINFO_TYPEMASK == CURLINFO_OFF_T {
                Answer::OffT(t)
            } else {
                Answer::Long(c_long::try_from(t).unwrap_or(-1))
            }
        }
        _ => return None,
    })
}

/// `curl_easy_getinfo`'s typed half: writes the value of `info` to `out`.
///
/// # Safety
///
/// `out` is NULL or points to a writable value of the info's type (`long`,
/// `char *`, `double`, `curl_off_t`, `curl_socket_t`).
pub(crate) unsafe fn getinfo(h: &mut EasyHandle, info: c_int, out: *mut c_void) -> CurlCode {
    if out.is_null() {
        return CURLE_BAD_FUNCTION_ARGUMENT;
    }
    let Some(answer) = answer(h, info) else {
        return CURLE_UNKNOWN_OPTION;
    };
    let kind = info & CURLINFO_TYPEMASK;
    // The number must carry the type of the answer (it does for every info
    // of libcurl's table); anything else is refused, not written.
    let fits = matches!(
        (&answer, kind),
        (Answer::Text(_) | Answer::Pointer(_), CURLINFO_STRING)
            | (Answer::Long(_), CURLINFO_LONG)
            | (Answer::Double(_), CURLINFO_DOUBLE)
            | (Answer::OffT(_), CURLINFO_OFF_T)
            | (Answer::Socket(_), CURLINFO_SOCKET)
            | (Answer::Tls | Answer::CertInfo, CURLINFO_PTR)
    );
    if !fits {
        return CURLE_UNKNOWN_OPTION;
    }
    match answer {
        Answer::Text(text) => {
            let p = match text.and_then(|t| CString::new(t).ok()) {
                Some(value) => keep_string(h, info, value),
                None => std::ptr::null(),
            };
            // SAFETY: a string info writes a `char *`, per the contract.
            unsafe { out.cast::<*const c_char>().write(p) };
        }
        // SAFETY: `out` points to the info's type, per the contract, and
        // the type was checked above (so for every arm below).
        Answer::Pointer(p) => unsafe { out.cast::<*mut c_void>().write(p) },
        // SAFETY: as above.
        Answer::Long(v) => unsafe { out.cast::<c_long>().write(v) },
        // SAFETY: as above.
        Answer::Double(v) => unsafe { out.cast::<c_double>().write(v) },
        // SAFETY: as above.
        Answer::OffT(v) => unsafe { out.cast::<i64>().write(v) },
        // SAFETY: as above.
        Answer::Socket(v) => unsafe { out.cast::<c_int>().write(v) },
        Answer::CertInfo => {
            let p = crate::certinfo::answer(&mut h.certinfo, h.easy.info().certinfo());
            // SAFETY: as above: a `struct curl_certinfo *`, which the handle
            // keeps alive until its chain changes or it is cleaned up.
            unsafe { out.cast::<*const c_char>().write(p) }
        }
        // SAFETY: as above: a `struct curl_tlssessioninfo *`; the
        // application only reads the static it points to.
        Answer::Tls => unsafe {
            out.cast::<*const TlsSessionInfo>()
                .write(std::ptr::from_ref(&TLS_INFO))
        },
    }
    CURLE_OK
}

/// Keeps `value` as the handle's string for `info` and returns its
/// address; the same value keeps its old address.
fn keep_string(h: &mut EasyHandle, info: c_int, value: CString) -> *const c_char {
    match h.info_strings.iter_mut().find(|(i, _)| *i == info) {
        Some((_, kept)) => {
            if *kept != value {
                *kept = value;
            }
            kept.as_ptr()
        }
        None => {
            h.info_strings.push((info, value));
            h.info_strings
                .last()
                .map_or(std::ptr::null(), |(_, s)| s.as_ptr())
        }
    }
}
