//! `curl_easy_setopt`: every option of the Rust `Easy`, by its libcurl
//! number and type, with libcurl's defaults and checks, and the
//! `curl_easy_option_*` table.
//!
//! An unknown option is `CURLE_UNKNOWN_OPTION` (48), a bad value
//! `CURLE_BAD_FUNCTION_ARGUMENT` (43). String options are copied (libcurl
//! semantics); `CURLOPT_POSTFIELDS`, `ERRORBUFFER`, `PRIVATE`, `STDERR`, the
//! callback data pointers and the lists (`HTTPHEADER`, `PROXYHEADER`,
//! `RESOLVE`, `CONNECT_TO`) are kept as pointers and read when the
//! transfer starts, as libcurl reads them. A string option set to NULL goes
//! back to its default.
//!
//! # Known options handover cannot honour
//!
//! These answer `CURLE_NOT_BUILT_IN` (4), as a libcurl built without the
//! feature, unless set to their default (which is accepted):
//!
//! - `FOLLOWLOCATION` ≠ 0 (handover follows no redirect),
//!   `HTTP_VERSION` 1.0 (HTTP/2 and 3 versions answer
//!   `CURLE_UNSUPPORTED_PROTOCOL` (1), as libcurl without nghttp2),
//!   `ACCEPT_ENCODING`, `TRANSFER_ENCODING`, `HTTP_TRANSFER_DECODING` = 0,
//!   `IGNORE_CONTENT_LENGTH`, `FAILONERROR`, `RANGE`;
//! - cookies: `COOKIE`, `COOKIEFILE`, `COOKIEJAR`;
//! - `HTTPAUTH` and `PROXYAUTH` with none of the methods handover has (the
//!   Negotiate bit is switched off, as libcurl switches off what it lacks);
//! - limits: `MAXFILESIZE(_LARGE)` ≠ 0;
//! - TLS: `SSL_OPTIONS` with `CURLSSLOPT_NO_PARTIALCHAIN` or `_EARLYDATA`,
//!   `PROXY_SSLVERSION` other than "TLS 1.2 or later";
//! - name resolution: `DNS_SERVERS`; `PROXYTYPE`
//!   `CURLPROXY_HTTPS3`;
//! - what the curl tool sets only when asked: `CRLF`, `HTTP09_ALLOWED`,
//!   `COOKIESESSION` ≠ 0, `TIMECONDITION` ≠ none, `RESUME_FROM_LARGE` ≠ 0,
//!   `REQUEST_TARGET`.
//!
//! The socket callbacks (`OPENSOCKETFUNCTION`, `SOCKOPTFUNCTION`,
//! `CLOSESOCKETFUNCTION`) and `PREREQFUNCTION` follow libcurl's protocols:
//! `CURL_SOCKET_BAD` from the open callback fails that address with
//! `CURLE_COULDNT_CONNECT` (7), `CURL_SOCKOPT_ERROR` and
//! `CURL_PREREQFUNC_ABORT` are `CURLE_ABORTED_BY_CALLBACK` (42), the close
//! callback closes every socket of the handle's connections (also those
//! handover opened itself). Each transfer takes the functions and data
//! pointers set when it starts; a connection keeps its close callback.
//! Unlike Debian's libcurl 7.88.1 (which calls `connect(2)` anyway and
//! fails with 7), `CURL_SOCKOPT_ALREADY_CONNECTED` skips the connect, as
//! documented and as libcurl 8 does. With `UNIX_SOCKET_PATH` or
//! `ABSTRACT_UNIX_SOCKET` the open callback is not called (handover makes
//! the Unix socket); the sockopt and close callbacks are.
//!
//! `RESOLVER_START_FUNCTION` is called before each name lookup handover
//! starts (system resolver or DoH), with NULL as the resolver state (no
//! c-ares channel to give: as a libcurl with the synchronous resolver);
//! nonzero fails the lookup with `CURLE_COULDNT_RESOLVE_HOST` (6) or
//! `_PROXY` (5). libcurl also calls it for an IP address or `localhost`
//! not yet in its DNS cache; handover never looks those up.
//!
//! Accepted with no effect, because handover already behaves as asked or
//! the setting only tunes libcurl's internals: `NOSIGNAL`, `MAXREDIRS`,
//! `AUTOREFERER`, `UNRESTRICTED_AUTH`, `POSTREDIR`, `HTTP_CONTENT_DECODING`,
//! `SUPPRESS_CONNECT_HEADERS` (CONNECT headers never reach the callbacks),
//! `SOCKS5_AUTH`.
//!
//! `SEEKFUNCTION`/`SEEKDATA` rewind an upload from the read callback when
//! a reused connection died under its request (`CURL_SEEKFUNC_OK` sends it
//! again on a fresh connection; `FAIL`/`CANTSEEK`, or a read callback with
//! no seek callback, fail with 65, as libcurl); with libcurl's default
//! `fread` body, handover `fseek`s the read data as libcurl does.
//!
//! Set by the curl tool on every transfer and accepted with no effect,
//! because they only concern transfers handover does not make (FTP after
//! the login, protocols handover lacks; as a libcurl 7.88 built without
//! them accepted them): `DIRLISTONLY`, `APPEND`,
//! `TRANSFERTEXT`, `FTP_CREATE_MISSING_DIRS`, `FTP_SKIP_PASV_IP`,
//! `FTP_FILEMETHOD`, `FTPPORT`,
//! `KRBLEVEL`, `QUOTE`, `PREQUOTE`, `POSTQUOTE`, `MAIL_RCPT_ALLOWFAILS`,
//! `TELNETOPTIONS` (telnet:// is connect-only), `INTERLEAVEDATA`,
//! `TIMEVALUE_LARGE` (read only with a time condition). `CERTINFO` fills
//! `CURLINFO_CERTINFO` in the shape of libcurl's OpenSSL backend;
//! `FILETIME` makes `CURLINFO_FILETIME` the response's
//! `Last-Modified`; `SHARE` attaches the handle to a share (see
//! `share.rs`: DNS entries, TLS sessions and idle connections).

// libcurl's own spelling: CURL_SSLVERSION_TLSv1_2.
#![allow(non_upper_case_globals)]

use std::ffi::{c_char, c_int, c_long, c_ulong, c_void, CStr, CString};
use std::time::Duration;

use handover::{Auth, ConnectOnly, IpResolve, List, ProxyType, SslVersion};

use crate::codes::*;
use crate::easy::{
    CloseSocketCallback, DataCallback, DebugCallback, EasyHandle, Method, OpenSocketCallback,
    PrereqCallback, ProgressCallback, ResolverStartCallback, Slist, SockoptCallback,
    XferinfoCallback,
};
use crate::guard;

/// libcurl's `struct curl_blob`.
#[repr(C)]
struct CurlBlob {
    data: *mut c_void,
    len: usize,
    flags: std::ffi::c_uint,
}

/// libcurl's `CURL_MAX_INPUT_LENGTH`: longer strings are refused (43).
const MAX_INPUT_LENGTH: usize = 8_000_000;

/// An option's value as `curl_easy_setopt` got it, strings already copied.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    /// A `long` option.
    Long(c_long),
    /// A `curl_off_t` option.
    OffT(i64),
    /// A pointer kept as given: data pointers, lists, `FILE *`, functions.
    Ptr(*mut c_void),
    /// A string option's copy; `None` for NULL.
    Str(Option<CString>),
    /// `CURLOPT_COPYPOSTFIELDS`' copy.
    Bytes(Option<Vec<u8>>),
}

/// Sets `option` to `value` on the handle: checks it, applies it and
/// records it for `curl_easy_duphandle` (or, from a callback, for when the
/// transfer is over).
pub(crate) fn set_value(h: &mut EasyHandle, option: c_int, value: Value) -> CurlCode {
    if option_type(option).is_none() {
        return CURLE_UNKNOWN_OPTION;
    }
    if option == CURLOPT_PROXYUSERPWD {
        // Kept as the two options it sets, so that either can be unset later.
        let (user, password) = match split_userpwd(&value) {
            Ok(parts) => parts,
            Err(code) => return code,
        };
        let code = set_value(h, CURLOPT_PROXYUSERNAME, Value::Str(user));
        if code != CURLE_OK {
            return code;
        }
        return set_value(h, CURLOPT_PROXYPASSWORD, Value::Str(password));
    }
    let code = apply(h, option, &value);
    // A refused CURLOPT_PROTOCOLS_STR has still cleared the list, in
    // libcurl: a rebuild must clear it again (curl's test 1474).
    let kept_when_refused = option == CURLOPT_PROTOCOLS_STR;
    if code == CURLE_OK || kept_when_refused {
        record(h, option, value);
    }
    code
}

/// Keeps the last setting of each option, in the order set.
fn record(h: &mut EasyHandle, option: c_int, value: Value) {
    if h.busy {
        // Set again, NULLs included, once the transfer is over.
        h.pending.retain(|(o, _)| *o != option);
        h.pending.push((option, value));
        return;
    }
    h.log.retain(|(o, _)| *o != option);
    // A NULL string is the default: nothing to replay.
    if !matches!(value, Value::Str(None)) {
        h.log.push((option, value));
    }
}

/// `CURLOPT_AWS_SIGV4` set to NULL clears the parameter but, in libcurl,
/// not the `CURLAUTH_AWS_SIGV4` its string chose: requests are still
/// signed, as `aws:amz`. The rebuild that clears the parameter replays
/// the log, where the string's entry is about to go; the method it chose
/// stays as an `HTTPAUTH` entry in its place, unless a later `HTTPAUTH`
/// chose again.
fn keep_sigv4_method(log: &mut Vec<(c_int, Value)>) {
    let Some(at) = log
        .iter()
        .position(|(o, v)| *o == CURLOPT_AWS_SIGV4 && matches!(v, Value::Str(Some(_))))
    else {
        return;
    };
    if log.iter().skip(at).any(|(o, _)| *o == CURLOPT_HTTPAUTH) {
        return;
    }
    if let Some(entry) = log.get_mut(at) {
        *entry = (CURLOPT_HTTPAUTH, Value::Long(CURLAUTH_AWS_SIGV4 as c_long));
    }
    // An earlier HTTPAUTH was overridden by the string.
    let mut index = 0;
    log.retain(|(o, _)| {
        index += 1;
        !(*o == CURLOPT_HTTPAUTH && index <= at)
    });
}

/// `user:password` split as libcurl's `Curl_parse_login_details`, each part
/// URL-decoded (libcurl 8 does for `CURLOPT_PROXYUSERPWD`).
#[allow(clippy::type_complexity)]
fn split_userpwd(value: &Value) -> Result<(Option<CString>, Option<CString>), CurlCode> {
    let Value::Str(Some(text)) = value else {
        return Ok((None, None));
    };
    let bytes = text.as_bytes();
    let (user, password) = match bytes.iter().position(|&b| b == b':') {
        Some(i) => (&bytes[..i], Some(&bytes[i + 1..])),
        None => (bytes, None),
    };
    let decode = |part: &[u8]| -> Result<CString, CurlCode> {
        let decoded = crate::misc::percent_decode(part);
        CString::new(decoded).map_err(|_| CURLE_URL_MALFORMAT)
    };
    Ok((Some(decode(user)?), password.map(decode).transpose()?))
}

/// A handover result as a code (no error-buffer text: libcurl's setopt
/// writes none).
fn done(result: Result<(), handover::Error>) -> CurlCode {
    match result {
        Ok(()) => CURLE_OK,
        Err(e) => code_of(&e),
    }
}

/// `CURLE_NOT_BUILT_IN` unless `default` holds.
fn only_default(default: bool) -> CurlCode {
    if default {
        CURLE_OK
    } else {
        CURLE_NOT_BUILT_IN
    }
}

/// A time option: negative is 43, others saturate.
fn duration(value: c_long, unit_ms: u64) -> Result<Duration, CurlCode> {
    let v = u64::try_from(value).map_err(|_| CURLE_BAD_FUNCTION_ARGUMENT)?;
    Ok(Duration::from_millis(v.saturating_mul(unit_ms)))
}

/// The `CURLPROTO_*` bit of each scheme handover has (ws and wss count
/// as http and https, as libcurl's `CURLINFO_PROTOCOL` says).
const PROTOCOL_BITS: [(c_long, &str); 18] = [
    (CURLPROTO_HTTP, "http"),
    (CURLPROTO_HTTPS, "https"),
    (CURLPROTO_TELNET, "telnet"),
    (CURLPROTO_DICT, "dict"),
    (CURLPROTO_GOPHER, "gopher"),
    (CURLPROTO_GOPHERS, "gophers"),
    (CURLPROTO_FTP, "ftp"),
    (CURLPROTO_FTPS, "ftps"),
    (CURLPROTO_RTSP, "rtsp"),
    (CURLPROTO_MQTT, "mqtt"),
    (CURLPROTO_TFTP, "tftp"),
    (CURLPROTO_FILE, "file"),
    (CURLPROTO_IMAP, "imap"),
    (CURLPROTO_IMAPS, "imaps"),
    (CURLPROTO_POP3, "pop3"),
    (CURLPROTO_POP3S, "pop3s"),
    (CURLPROTO_SMTP, "smtp"),
    (CURLPROTO_SMTPS, "smtps"),
];

/// The scheme names of a deprecated `CURLPROTO_*` bit mask that handover
/// has.
fn protocol_names(bits: c_long) -> Vec<&'static str> {
    PROTOCOL_BITS
        .into_iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, name)| name)
        .collect()
}

/// The `CURLPROTO_*` bit of `scheme` (lower case), 0 for one handover does
/// not have.
pub(crate) fn protocol_bit(scheme: &str) -> c_long {
    let scheme = match scheme {
        "ws" => "http",
        "wss" => "https",
        other => other,
    };
    PROTOCOL_BITS
        .into_iter()
        .find(|(_, name)| *name == scheme)
        .map_or(0, |(bit, _)| bit)
}

/// A port-like option: 0..=65535, else 43.
fn port(value: c_long) -> Result<u16, CurlCode> {
    u16::try_from(value).map_err(|_| CURLE_BAD_FUNCTION_ARGUMENT)
}

/// libcurl's `httpauth()` for handover's methods: the legacy Digest bit
/// becomes Digest, methods handover lacks for the peer (Negotiate,
/// NTLM_WB; Bearer and AWS SigV4 for a proxy) are dropped, and nothing
/// left is `CURLE_NOT_BUILT_IN`.
fn auth_bits(value: c_long, supported: c_ulong) -> Result<Auth, CurlCode> {
    // CURLAUTH_* are unsigned long: take the bits as such.
    let mut auth = value as c_ulong;
    if auth == CURLAUTH_NONE {
        return Ok(Auth::new());
    }
    if auth & CURLAUTH_DIGEST_IE != 0 {
        auth = (auth | CURLAUTH_DIGEST) & !CURLAUTH_DIGEST_IE;
    }
    // As libcurl: the bits of methods not built in are switched off, and
    // only a mask with none left is refused.
    let auth = auth & (supported | CURLAUTH_ONLY);
    if auth & supported == 0 {
        return Err(CURLE_NOT_BUILT_IN);
    }
    Ok(Auth::from_bits(u32::try_from(auth).unwrap_or(u32::MAX)))
}

/// `CURLOPT_SSLVERSION`'s packed value: (minimum, maximum), checked as
/// libcurl checks it.
fn ssl_versions(value: c_long) -> Result<(c_long, c_long), CurlCode> {
    let min = value & 0xffff;
    let max = value & !0xffff;
    if !(CURL_SSLVERSION_DEFAULT..=CURL_SSLVERSION_TLSv1_3).contains(&min)
        || min == CURL_SSLVERSION_SSLv2
        || min == CURL_SSLVERSION_SSLv3
        || !(CURL_SSLVERSION_MAX_NONE..=CURL_SSLVERSION_MAX_TLSv1_3).contains(&max)
    {
        return Err(CURLE_BAD_FUNCTION_ARGUMENT);
    }
    Ok((min, max))
}

/// handover's bounds for libcurl's packed version values.
fn ssl_version_bounds(min: c_long, max: c_long) -> (SslVersion, SslVersion) {
    let lower = match min {
        CURL_SSLVERSION_TLSv1 | CURL_SSLVERSION_TLSv1_0 => SslVersion::Tlsv10,
        CURL_SSLVERSION_TLSv1_1 => SslVersion::Tlsv11,
        CURL_SSLVERSION_TLSv1_2 => SslVersion::Tlsv12,
        CURL_SSLVERSION_TLSv1_3 => SslVersion::Tlsv13,
        _ => SslVersion::Default,
    };
    let upper = match max {
        CURL_SSLVERSION_MAX_TLSv1_0 => SslVersion::Tlsv10,
        CURL_SSLVERSION_MAX_TLSv1_1 => SslVersion::Tlsv11,
        CURL_SSLVERSION_MAX_TLSv1_2 => SslVersion::Tlsv12,
        CURL_SSLVERSION_MAX_TLSv1_3 => SslVersion::Tlsv13,
        _ => SslVersion::Default,
    };
    (lower, upper)
}

/// The application's function pointer, as the shim passed it.
///
/// # Safety
///
/// `p` is NULL or a function of type `F`, passed through a data pointer of
/// the same size (shim.c).
unsafe fn function<F: Copy>(p: *mut c_void) -> Option<F> {
    if p.is_null() {
        return None;
    }
    debug_assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<*mut c_void>());
    // SAFETY: per the function's contract, `p` holds a function pointer of
    // type F (a pointer-sized `unsafe extern "C" fn`).
    Some(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&p) })
}

/// Applies one option; the heart of `curl_easy_setopt`.
fn apply(h: &mut EasyHandle, option: c_int, value: &Value) -> CurlCode {
    match value {
        Value::Long(v) => apply_long(h, option, *v),
        Value::OffT(v) => apply_off_t(h, option, *v),
        Value::Str(s) => apply_string(h, option, s.as_deref()),
        Value::Ptr(p) => apply_pointer(h, option, *p),
        Value::Bytes(b) if option == CURLOPT_COPYPOSTFIELDS => {
            h.req.copied = b.clone();
            h.req.postfields = std::ptr::null();
            h.req.method = Method::Post;
            CURLE_OK
        }
        Value::Bytes(b) => apply_blob(h, option, b.as_deref()),
    }
}

/// The blob options (`struct curl_blob`, always copied).
fn apply_blob(h: &mut EasyHandle, option: c_int, blob: Option<&[u8]>) -> CurlCode {
    let Some(bytes) = blob else {
        // NULL goes back to the default, which the Easy cannot be told.
        h.rebuild = true;
        return CURLE_OK;
    };
    let e = &mut h.easy;
    let result = match option {
        CURLOPT_CAINFO_BLOB => e.cainfo_blob(bytes),
        CURLOPT_PROXY_CAINFO_BLOB => e.proxy_cainfo_blob(bytes),
        CURLOPT_SSLCERT_BLOB => e.ssl_cert_blob(bytes),
        CURLOPT_SSLKEY_BLOB => e.ssl_key_blob(bytes),
        CURLOPT_PROXY_SSLCERT_BLOB => e.proxy_sslcert_blob(bytes),
        CURLOPT_PROXY_SSLKEY_BLOB => e.proxy_sslkey_blob(bytes),
        CURLOPT_ISSUERCERT_BLOB => e.issuer_cert_blob(bytes),
        CURLOPT_PROXY_ISSUERCERT_BLOB => e.proxy_issuer_cert_blob(bytes),
        _ => return CURLE_NOT_BUILT_IN,
    };
    done(result)
}

/// The `long` options.
// c_long is i32 on some platforms: the conversions are not useless there.
#[allow(clippy::useless_conversion)]
fn apply_long(h: &mut EasyHandle, option: c_int, v: c_long) -> CurlCode {
    let on = v != 0;
    let e = &mut h.easy;
    let result = match option {
        CURLOPT_CONNECT_ONLY => match ConnectOnly::from_long(i64::from(v)) {
            Some(mode) => e.connect_only(mode),
            None => return CURLE_BAD_FUNCTION_ARGUMENT,
        },
        CURLOPT_VERBOSE => e.verbose(on),
        CURLOPT_TIMEOUT
        | CURLOPT_TIMEOUT_MS
        | CURLOPT_CONNECTTIMEOUT
        | CURLOPT_CONNECTTIMEOUT_MS
        | CURLOPT_HAPPY_EYEBALLS_TIMEOUT_MS => {
            let unit = if option == CURLOPT_TIMEOUT || option == CURLOPT_CONNECTTIMEOUT {
                1000
            } else {
                1
            };
            let d = match duration(v, unit) {
                Ok(d) => d,
                Err(code) => return code,
            };
            match option {
                CURLOPT_TIMEOUT | CURLOPT_TIMEOUT_MS => e.timeout(d),
                CURLOPT_HAPPY_EYEBALLS_TIMEOUT_MS => e.happy_eyeballs_timeout(d),
                _ => e.connect_timeout(d),
            }
        }
        CURLOPT_IPRESOLVE => e.ip_resolve(match v {
            CURL_IPRESOLVE_WHATEVER => IpResolve::Any,
            CURL_IPRESOLVE_V4 => IpResolve::V4,
            CURL_IPRESOLVE_V6 => IpResolve::V6,
            _ => return CURLE_BAD_FUNCTION_ARGUMENT,
        }),
        CURLOPT_LOCALPORT | CURLOPT_LOCALPORTRANGE => match port(v) {
            Ok(p) if option == CURLOPT_LOCALPORT => e.local_port(p),
            Ok(p) => e.local_port_range(p),
            Err(code) => return code,
        },
        CURLOPT_TCP_NODELAY => e.tcp_nodelay(on),
        CURLOPT_TCP_KEEPALIVE => e.tcp_keepalive(on),
        CURLOPT_TCP_KEEPIDLE | CURLOPT_TCP_KEEPINTVL => {
            let Ok(secs) = u64::try_from(v) else {
                return CURLE_BAD_FUNCTION_ARGUMENT;
            };
            let d = Duration::from_secs(secs.min(i32::MAX as u64));
            if option == CURLOPT_TCP_KEEPIDLE {
                e.tcp_keepidle(d)
            } else {
                e.tcp_keepintvl(d)
            }
        }
        CURLOPT_TCP_KEEPCNT => match u32::try_from(v) {
            // libcurl: negative is 43, 0 and more than INT_MAX are clamped.
            Ok(count) => e.tcp_keepcnt(count.clamp(1, i32::MAX as u32)),
            Err(_) => return CURLE_BAD_FUNCTION_ARGUMENT,
        },
        CURLOPT_TCP_FASTOPEN => e.tcp_fastopen(on),
        CURLOPT_ADDRESS_SCOPE => match u32::try_from(v) {
            Ok(scope) => e.address_scope(scope),
            Err(_) => return CURLE_BAD_FUNCTION_ARGUMENT,
        },
        CURLOPT_DNS_SHUFFLE_ADDRESSES => e.dns_shuffle_addresses(on),
        CURLOPT_MAXAGE_CONN | CURLOPT_MAXLIFETIME_CONN => {
            let Ok(secs) = u64::try_from(v) else {
                return CURLE_BAD_FUNCTION_ARGUMENT;
            };
            let d = Duration::from_secs(secs);
            if option == CURLOPT_MAXAGE_CONN {
                e.maxage_conn(d)
            } else {
                e.maxlifetime_conn(d)
            }
        }
        CURLOPT_HAPROXYPROTOCOL => e.haproxy_protocol(on),
        CURLOPT_PORT => match u16::try_from(v) {
            Ok(port) => e.port(port),
            Err(_) => return CURLE_BAD_FUNCTION_ARGUMENT,
        },
        CURLOPT_SSL_VERIFYPEER => e.ssl_verify_peer(on),
        CURLOPT_SSL_VERIFYHOST => e.ssl_verify_host(on),
        CURLOPT_DOH_SSL_VERIFYPEER => e.doh_ssl_verify_peer(on),
        CURLOPT_DOH_SSL_VERIFYHOST => e.doh_ssl_verify_host(on),
        CURLOPT_DOH_SSL_VERIFYSTATUS => e.doh_ssl_verify_status(on),
        CURLOPT_PROXY_SSL_VERIFYPEER => e.proxy_ssl_verify_peer(on),
        CURLOPT_PROXY_SSL_VERIFYHOST => e.proxy_ssl_verify_host(on),
        CURLOPT_SSLVERSION => match ssl_versions(v) {
            Ok((min, max)) => {
                let (lower, upper) = ssl_version_bounds(min, max);
                e.ssl_min_max_version(lower, upper)
            }
            Err(code) => return code,
        },
        CURLOPT_PROXY_SSLVERSION => {
            return match ssl_versions(v) {
                Ok((min, max)) => only_default(
                    min <= CURL_SSLVERSION_TLSv1_2
                        && matches!(
                            max,
                            CURL_SSLVERSION_MAX_NONE
                                | CURL_SSLVERSION_MAX_DEFAULT
                                | CURL_SSLVERSION_MAX_TLSv1_3
                        ),
                ),
                Err(code) => code,
            };
        }
        CURLOPT_FORBID_REUSE => e.forbid_reuse(on),
        CURLOPT_FRESH_CONNECT => e.fresh_connect(on),
        CURLOPT_POST => {
            h.req.method = if on { Method::Post } else { Method::Get };
            Ok(())
        }
        CURLOPT_UPLOAD | CURLOPT_PUT => {
            h.req.method = if on { Method::Put } else { Method::Get };
            if on {
                h.req.nobody = false;
            }
            Ok(())
        }
        CURLOPT_NOBODY => {
            // libcurl keeps "no body" apart from the method: UPLOAD = 0 after
            // NOBODY = 1 (as the curl tool's -I sets them) still sends HEAD.
            h.req.nobody = on;
            if on {
                h.req.method = Method::Head;
            } else if h.req.method == Method::Head {
                h.req.method = Method::Get;
            }
            Ok(())
        }
        CURLOPT_HTTPGET => {
            if on {
                h.req.method = Method::Get;
            }
            Ok(())
        }
        CURLOPT_POSTFIELDSIZE => return apply_off_t(h, CURLOPT_POSTFIELDSIZE_LARGE, i64::from(v)),
        CURLOPT_INFILESIZE => return apply_off_t(h, CURLOPT_INFILESIZE_LARGE, i64::from(v)),
        CURLOPT_MAXFILESIZE => return apply_off_t(h, CURLOPT_MAXFILESIZE_LARGE, i64::from(v)),
        CURLOPT_HEADER => {
            h.cb.include_header = on;
            Ok(())
        }
        CURLOPT_NOPROGRESS => {
            h.cb.noprogress = on;
            Ok(())
        }
        CURLOPT_WS_OPTIONS => {
            // libcurl ignores bits it does not define.
            let bits =
                u32::try_from(v & (CURLWS_RAW_MODE | CURLWS_NOAUTOPONG) as c_long).unwrap_or(0);
            e.ws_options(handover::ws::Options::from_bits_truncate(bits))
        }
        CURLOPT_PROXYPORT => match port(v) {
            Ok(p) => e.proxy_port(p),
            Err(code) => return code,
        },
        CURLOPT_PROXYTYPE => e.proxy_type(match v {
            CURLPROXY_HTTP => ProxyType::Http,
            CURLPROXY_HTTP_1_0 => ProxyType::Http1,
            // HTTPS2 offers h2 and falls back to HTTP/1.1, which is all
            // handover speaks.
            CURLPROXY_HTTPS | CURLPROXY_HTTPS2 => ProxyType::Https,
            CURLPROXY_SOCKS4 => ProxyType::Socks4,
            CURLPROXY_SOCKS4A => ProxyType::Socks4a,
            CURLPROXY_SOCKS5 => ProxyType::Socks5,
            CURLPROXY_SOCKS5_HOSTNAME => ProxyType::Socks5Hostname,
            CURLPROXY_HTTPS3 => return CURLE_NOT_BUILT_IN,
            _ => return CURLE_BAD_FUNCTION_ARGUMENT,
        }),
        CURLOPT_PROXYAUTH => match auth_bits(v, CURLAUTH_BASIC | CURLAUTH_DIGEST | CURLAUTH_NTLM) {
            Ok(auth) => e.proxy_auth(&auth),
            Err(code) => return code,
        },
        CURLOPT_HTTPAUTH => match auth_bits(
            v,
            CURLAUTH_BASIC | CURLAUTH_DIGEST | CURLAUTH_NTLM | CURLAUTH_BEARER | CURLAUTH_AWS_SIGV4,
        ) {
            Ok(auth) => e.http_auth(&auth),
            Err(code) => return code,
        },
        CURLOPT_DISALLOW_USERNAME_IN_URL => e.disallow_username_in_url(on),
        CURLOPT_HTTPPROXYTUNNEL => e.http_proxy_tunnel(on),
        CURLOPT_HEADEROPT => {
            h.req.unified_headers = v & CURLHEADER_SEPARATE == 0;
            Ok(())
        }
        CURLOPT_SOCKS5_AUTH => {
            let allowed = (CURLAUTH_BASIC | CURLAUTH_GSSAPI) as c_long;
            return if v & !allowed != 0 {
                CURLE_NOT_BUILT_IN
            } else {
                CURLE_OK
            };
        }
        CURLOPT_NOSIGNAL
        | CURLOPT_AUTOREFERER
        | CURLOPT_UNRESTRICTED_AUTH
        | CURLOPT_HTTP_CONTENT_DECODING
        | CURLOPT_SUPPRESS_CONNECT_HEADERS => Ok(()),
        CURLOPT_QUICK_EXIT => e.quick_exit(on),
        CURLOPT_MAXCONNECTS => match usize::try_from(v) {
            Ok(max) => e.max_connects(max),
            Err(_) => return CURLE_BAD_FUNCTION_ARGUMENT,
        },
        // The deprecated bit masks: the schemes handover has, by their bits.
        CURLOPT_PROTOCOLS => {
            let names = protocol_names(v);
            if names.is_empty() {
                return CURLE_BAD_FUNCTION_ARGUMENT;
            }
            e.protocols_str(&names.join(","))
        }
        // handover follows no redirect: nothing to restrict.
        CURLOPT_REDIR_PROTOCOLS => Ok(()),
        // Dot segments are always removed, as by default in libcurl.
        CURLOPT_PATH_AS_IS => return only_default(!on),
        CURLOPT_USE_SSL => match handover::UseSsl::from_curl(v) {
            Some(level) => e.use_ssl(level),
            None => return CURLE_BAD_FUNCTION_ARGUMENT,
        },
        CURLOPT_FTPSSLAUTH => e.ftp_ssl_auth(match v {
            0 => handover::FtpSslAuth::Default,
            1 => handover::FtpSslAuth::Ssl,
            2 => handover::FtpSslAuth::Tls,
            _ => return CURLE_BAD_FUNCTION_ARGUMENT,
        }),
        // Kerberos (GSS-API) is not built in.
        CURLOPT_GSSAPI_DELEGATION => return only_default(v == 0),
        CURLOPT_SSL_FALSESTART => return only_default(!on),
        CURLOPT_SASL_IR => e.sasl_ir(on),
        // Ignored by libcurl itself since 7.62 (global cache), 7.86 (NPN);
        // FTP's accept timeout and the SOCKS5 GSS-API protection setting
        // have nothing to act on.
        CURLOPT_DNS_USE_GLOBAL_CACHE
        | CURLOPT_SSL_ENABLE_NPN
        | CURLOPT_ACCEPTTIMEOUT_MS
        | CURLOPT_SOCKS5_GSSAPI_NEC
        | CURLOPT_SSLENGINE_DEFAULT => Ok(()),
        CURLOPT_UPKEEP_INTERVAL_MS => match duration(v, 1) {
            Ok(interval) => e.upkeep_interval(interval),
            Err(code) => return code,
        },
        CURLOPT_SERVER_RESPONSE_TIMEOUT => match duration(v, 1000) {
            Ok(timeout) => e.server_response_timeout(timeout),
            Err(code) => return code,
        },
        CURLOPT_MAXREDIRS => {
            return if v < -1 {
                CURLE_BAD_FUNCTION_ARGUMENT
            } else {
                CURLE_OK
            };
        }
        // -1: for ever.
        CURLOPT_DNS_CACHE_TIMEOUT => match v {
            -1 => e.dns_cache_timeout(Duration::MAX),
            v if v >= 0 => e.dns_cache_timeout(Duration::from_secs(v.unsigned_abs().into())),
            _ => return CURLE_BAD_FUNCTION_ARGUMENT,
        },
        // libcurl: below 1 is the default, out of range the nearest bound.
        CURLOPT_BUFFERSIZE if v < 1 => {
            h.rebuild = true;
            return CURLE_OK;
        }
        CURLOPT_BUFFERSIZE => e.buffer_size(usize::try_from(v).unwrap_or(usize::MAX)),
        // libcurl: out of range (0 and below too) is the nearest bound.
        CURLOPT_UPLOAD_BUFFERSIZE => e.upload_buffer_size(usize::try_from(v).unwrap_or(0)),
        CURLOPT_POSTREDIR => {
            return if v < 0 {
                CURLE_BAD_FUNCTION_ARGUMENT
            } else {
                CURLE_OK
            };
        }
        CURLOPT_FOLLOWLOCATION => {
            return match v {
                0 => CURLE_OK,
                1..=3 => CURLE_NOT_BUILT_IN,
                _ => CURLE_BAD_FUNCTION_ARGUMENT,
            };
        }
        CURLOPT_HTTP_VERSION => {
            return match v {
                CURL_HTTP_VERSION_NONE | CURL_HTTP_VERSION_1_1 => CURLE_OK,
                CURL_HTTP_VERSION_1_0 => CURLE_NOT_BUILT_IN,
                v if v < 0 => CURLE_BAD_FUNCTION_ARGUMENT,
                _ => CURLE_UNSUPPORTED_PROTOCOL,
            };
        }
        CURLOPT_NETRC => e.netrc(match v {
            0 => handover::NetRc::Ignored,
            1 => handover::NetRc::Optional,
            2 => handover::NetRc::Required,
            _ => return CURLE_BAD_FUNCTION_ARGUMENT,
        }),
        CURLOPT_LOW_SPEED_LIMIT => match u32::try_from(v) {
            Ok(limit) => e.low_speed_limit(limit),
            Err(_) => return CURLE_BAD_FUNCTION_ARGUMENT,
        },
        CURLOPT_LOW_SPEED_TIME => match u64::try_from(v) {
            Ok(secs) => e.low_speed_time(Duration::from_secs(secs)),
            Err(_) => return CURLE_BAD_FUNCTION_ARGUMENT,
        },
        // The bits as an unsigned long; what does not fit 32 bits is not a bit.
        CURLOPT_SSL_OPTIONS => e.ssl_options(&handover::SslOpt::from_bits(v as u32)),
        CURLOPT_PROXY_SSL_OPTIONS => e.proxy_ssl_options(&handover::SslOpt::from_bits(v as u32)),
        CURLOPT_SSL_ENABLE_ALPN => e.ssl_enable_alpn(on),
        CURLOPT_HTTP_TRANSFER_DECODING => return only_default(on),
        CURLOPT_SSL_VERIFYSTATUS => e.ssl_verify_status(on),
        CURLOPT_KEEP_SENDING_ON_ERROR => e.keep_sending_on_error(on),
        CURLOPT_TRANSFER_ENCODING | CURLOPT_IGNORE_CONTENT_LENGTH | CURLOPT_FAILONERROR => {
            return only_default(!on)
        }
        // Options of protocols handover lacks (FTP, SFTP, FILE, TFTP, SMTP),
        // which the curl tool sets on every transfer: no effect on the
        // protocols handover speaks, accepted as libcurl 7.88 accepts them.
        CURLOPT_DIRLISTONLY
        | CURLOPT_APPEND
        | CURLOPT_TRANSFERTEXT
        | CURLOPT_FTP_CREATE_MISSING_DIRS
        | CURLOPT_FTP_SKIP_PASV_IP
        | CURLOPT_FTP_FILEMETHOD
        | CURLOPT_MAIL_RCPT_ALLOWFAILS => return CURLE_OK,
        CURLOPT_CRLF | CURLOPT_HTTP09_ALLOWED | CURLOPT_COOKIESESSION => return only_default(!on),
        // libcurl's rustls backend collects no certificate information:
        // accepted, and CURLINFO_CERTINFO answers an empty list, as there.
        CURLOPT_CERTINFO => e.certinfo(on),
        CURLOPT_SSL_SESSIONID_CACHE => e.ssl_sessionid_cache(on),
        CURLOPT_FILETIME => {
            h.req.filetime = on;
            Ok(())
        }
        CURLOPT_TIMECONDITION => {
            if !(0..=3).contains(&v) {
                return CURLE_BAD_FUNCTION_ARGUMENT;
            }
            return only_default(v == 0);
        }
        CURLOPT_CA_CACHE_TIMEOUT => match v {
            -1 => e.ca_cache_timeout(None),
            secs => match u64::try_from(secs) {
                Ok(secs) => e.ca_cache_timeout(Some(Duration::from_secs(secs))),
                Err(_) => return CURLE_BAD_FUNCTION_ARGUMENT,
            },
        },
        _ => return CURLE_UNKNOWN_OPTION,
    };
    done(result)
}

/// The `curl_off_t` options.
fn apply_off_t(h: &mut EasyHandle, option: c_int, v: i64) -> CurlCode {
    match option {
        CURLOPT_POSTFIELDSIZE_LARGE => {
            if v < -1 {
                return CURLE_BAD_FUNCTION_ARGUMENT;
            }
            let copied = h.req.copied.as_ref().map(|c| c.len() as i64);
            if copied.is_some_and(|len| len < v) {
                // A previous CURLOPT_COPYPOSTFIELDS is no longer valid.
                h.req.copied = None;
                h.req.postfields = std::ptr::null();
            }
            h.req.postfieldsize = v;
            CURLE_OK
        }
        CURLOPT_INFILESIZE_LARGE => {
            if v < -1 {
                return CURLE_BAD_FUNCTION_ARGUMENT;
            }
            h.req.infilesize = v;
            CURLE_OK
        }
        CURLOPT_RESUME_FROM_LARGE => {
            if v < -1 {
                return CURLE_BAD_FUNCTION_ARGUMENT;
            }
            only_default(v == 0)
        }
        // Only read with a CURLOPT_TIMECONDITION, which is not built in.
        CURLOPT_TIMEVALUE_LARGE => CURLE_OK,
        CURLOPT_MAX_RECV_SPEED_LARGE => match u64::try_from(v) {
            Ok(limit) => done(h.easy.max_recv_speed(limit)),
            Err(_) => CURLE_BAD_FUNCTION_ARGUMENT,
        },
        CURLOPT_MAX_SEND_SPEED_LARGE => match u64::try_from(v) {
            Ok(limit) => done(h.easy.max_send_speed(limit)),
            Err(_) => CURLE_BAD_FUNCTION_ARGUMENT,
        },
        CURLOPT_MAXFILESIZE_LARGE => {
            if v < 0 {
                return CURLE_BAD_FUNCTION_ARGUMENT;
            }
            only_default(v == 0)
        }
        _ => CURLE_UNKNOWN_OPTION,
    }
}

/// The string options (copied).
fn apply_string(h: &mut EasyHandle, option: c_int, s: Option<&CStr>) -> CurlCode {
    let text = match s.map(CStr::to_str) {
        None => None,
        Some(Ok(text)) => Some(text),
        // handover takes text: bytes that are not UTF-8 cannot be used.
        Some(Err(_)) => return CURLE_BAD_FUNCTION_ARGUMENT,
    };
    match option {
        CURLOPT_URL => {
            h.url = s.map(CStr::to_owned);
            h.url_scheme = text.and_then(|url| {
                let url = handover_proto::url::Url::parse(url).ok()?;
                Some(url.scheme_kind()?.name())
            });
        }
        CURLOPT_CUSTOMREQUEST => h.custom_request = s.map(CStr::to_owned),
        _ => {}
    }
    let e = &mut h.easy;
    // An option handover stores but cannot clear goes back to its default
    // through a rebuild of the Easy at the next transfer.
    let Some(text) = text else {
        return match option {
            CURLOPT_PINNEDPUBLICKEY => done(e.pinned_public_key("")),
            // NULL: the socket's own address again, and (libcurl) the
            // header on.
            CURLOPT_HAPROXY_CLIENT_IP => done(e.haproxy_client_ip(None)),
            // One storage for both, as in libcurl: NULL clears either.
            CURLOPT_UNIX_SOCKET_PATH | CURLOPT_ABSTRACT_UNIX_SOCKET => {
                done(e.unix_socket_path(None::<&str>))
            }
            CURLOPT_PROXY_PINNEDPUBLICKEY => done(e.proxy_pinned_public_key("")),
            CURLOPT_DOH_URL => done(e.doh_url(None)),
            CURLOPT_FTP_ACCOUNT => done(e.ftp_account(None)),
            CURLOPT_LOGIN_OPTIONS => done(e.login_options(None)),
            CURLOPT_SASL_AUTHZID => done(e.sasl_authzid(None)),
            CURLOPT_SERVICE_NAME => done(e.service_name(None)),
            CURLOPT_FTP_ALTERNATIVE_TO_USER => done(e.ftp_alternative_to_user(None)),
            CURLOPT_AWS_SIGV4 => {
                keep_sigv4_method(&mut h.log);
                h.rebuild = true;
                CURLE_OK
            }
            CURLOPT_URL
            | CURLOPT_USERAGENT
            | CURLOPT_CUSTOMREQUEST
            | CURLOPT_REFERER
            | CURLOPT_PROXY
            | CURLOPT_PROXYUSERNAME
            | CURLOPT_PROXYPASSWORD
            | CURLOPT_NOPROXY
            | CURLOPT_PRE_PROXY
            | CURLOPT_INTERFACE
            | CURLOPT_CAINFO
            | CURLOPT_CAPATH
            | CURLOPT_SSLCERT
            | CURLOPT_SSLKEY
            | CURLOPT_PROXY_CAINFO
            | CURLOPT_PROXY_CAPATH
            | CURLOPT_PROXY_SSLCERT
            | CURLOPT_PROXY_SSLKEY
            | CURLOPT_USERNAME
            | CURLOPT_PASSWORD
            | CURLOPT_USERPWD
            | CURLOPT_XOAUTH2_BEARER
            | CURLOPT_SSL_CIPHER_LIST
            | CURLOPT_TLS13_CIPHERS
            | CURLOPT_PROXY_SSL_CIPHER_LIST
            | CURLOPT_PROXY_TLS13_CIPHERS
            | CURLOPT_SSL_EC_CURVES
            | CURLOPT_CRLFILE
            | CURLOPT_PROXY_CRLFILE
            | CURLOPT_SSLCERTTYPE
            | CURLOPT_SSLKEYTYPE
            | CURLOPT_PROXY_SSLCERTTYPE
            | CURLOPT_PROXY_SSLKEYTYPE
            | CURLOPT_KEYPASSWD
            | CURLOPT_PROXY_KEYPASSWD
            | CURLOPT_ISSUERCERT
            | CURLOPT_PROXY_ISSUERCERT
            | CURLOPT_NETRC_FILE => {
                h.rebuild = true;
                CURLE_OK
            }
            // Every other string option defaults to NULL.
            _ => CURLE_OK,
        };
    };
    let result = match option {
        CURLOPT_URL => e.url(text),
        // Not checked until a name is looked up, as libcurl.
        CURLOPT_DOH_URL => e.doh_url(Some(text)),
        CURLOPT_USERAGENT => e.useragent(text),
        CURLOPT_CUSTOMREQUEST => e.custom_request(text),
        CURLOPT_REFERER => e.referer(text),
        CURLOPT_PROXY => e.proxy(text),
        CURLOPT_PROXYUSERNAME => e.proxy_username(text),
        CURLOPT_PROXYPASSWORD => e.proxy_password(text),
        CURLOPT_NOPROXY => e.noproxy(text),
        CURLOPT_PRE_PROXY => e.pre_proxy(text),
        CURLOPT_INTERFACE => e.interface(text),
        CURLOPT_UNIX_SOCKET_PATH => e.unix_socket(text),
        CURLOPT_USERNAME => e.username(text),
        CURLOPT_NETRC_FILE => e.netrc_file(text),
        CURLOPT_PASSWORD => e.password(text),
        CURLOPT_USERPWD => e.userpwd(text),
        CURLOPT_XOAUTH2_BEARER => e.xoauth2_bearer(text),
        CURLOPT_AWS_SIGV4 => e.aws_sigv4(text),
        CURLOPT_HAPROXY_CLIENT_IP => e.haproxy_client_ip(Some(text)),
        CURLOPT_SSL_CIPHER_LIST => e.ssl_cipher_list(text),
        CURLOPT_CRLFILE => e.crlfile(text),
        CURLOPT_PROXY_CRLFILE => e.proxy_crlfile(text),
        CURLOPT_TLS13_CIPHERS => e.tls13_ciphers(text),
        CURLOPT_PROXY_SSL_CIPHER_LIST => e.proxy_ssl_cipher_list(text),
        CURLOPT_PROXY_TLS13_CIPHERS => e.proxy_tls13_ciphers(text),
        CURLOPT_SSL_EC_CURVES => e.ssl_ec_curves(text),
        CURLOPT_ABSTRACT_UNIX_SOCKET => e.abstract_unix_socket(text.as_bytes()),
        CURLOPT_CAINFO => e.cainfo(text),
        CURLOPT_CAPATH => e.capath(text),
        CURLOPT_SSLCERT => e.ssl_cert(text),
        CURLOPT_SSLKEY => e.ssl_key(text),
        CURLOPT_PINNEDPUBLICKEY => e.pinned_public_key(text),
        CURLOPT_PROXY_CAINFO => e.proxy_cainfo(text),
        CURLOPT_PROXY_CAPATH => e.proxy_capath(text),
        CURLOPT_PROXY_SSLCERT => e.proxy_sslcert(text),
        CURLOPT_PROXY_SSLKEY => e.proxy_sslkey(text),
        CURLOPT_PROXY_PINNEDPUBLICKEY => e.proxy_pinned_public_key(text),
        CURLOPT_SSLCERTTYPE => e.ssl_cert_type(text),
        CURLOPT_SSLKEYTYPE => e.ssl_key_type(text),
        CURLOPT_PROXY_SSLCERTTYPE => e.proxy_sslcert_type(text),
        CURLOPT_PROXY_SSLKEYTYPE => e.proxy_sslkey_type(text),
        CURLOPT_KEYPASSWD => e.key_password(text),
        CURLOPT_PROXY_KEYPASSWD => e.proxy_key_password(text),
        CURLOPT_ISSUERCERT => e.issuer_cert(text),
        CURLOPT_PROXY_ISSUERCERT => e.proxy_issuer_cert(text),
        CURLOPT_FTP_ACCOUNT => e.ftp_account(Some(text)),
        CURLOPT_FTP_ALTERNATIVE_TO_USER => e.ftp_alternative_to_user(Some(text)),
        // Settings of FTP transfers after the login, which connect-only
        // never reaches, and of protocols handover lacks.
        CURLOPT_FTPPORT | CURLOPT_KRBLEVEL => return CURLE_OK,
        CURLOPT_LOGIN_OPTIONS => e.login_options(Some(text)),
        CURLOPT_SASL_AUTHZID => e.sasl_authzid(Some(text)),
        CURLOPT_SERVICE_NAME => e.service_name(Some(text)),
        // Ignored by libcurl since 7.84.
        CURLOPT_RANDOM_FILE | CURLOPT_EGDSOCKET => return CURLE_OK,
        CURLOPT_PROTOCOLS_STR => e.protocols_str(text),
        // handover follows no redirect: nothing to restrict.
        CURLOPT_REDIR_PROTOCOLS_STR => return CURLE_OK,
        // rustls has no engines: as an OpenSSL without the one named.
        CURLOPT_SSLENGINE => return CURLE_SSL_ENGINE_NOTFOUND,
        // Every other known string option is one handover cannot honour.
        _ => return CURLE_NOT_BUILT_IN,
    };
    done(result)
}

/// The pointer options: data pointers, lists, `FILE *`, functions.
fn apply_pointer(h: &mut EasyHandle, option: c_int, p: *mut c_void) -> CurlCode {
    let cb = &mut h.cb;
    match option {
        CURLOPT_ERRORBUFFER => h.error_buffer = p.cast::<c_char>(),
        CURLOPT_PRIVATE => h.private = p,
        CURLOPT_STDERR => cb.stderr = p.cast::<libc::FILE>(),
        CURLOPT_POSTFIELDS => {
            h.req.postfields = p.cast::<c_char>();
            h.req.copied = None;
            h.req.method = Method::Post;
        }
        CURLOPT_COPYPOSTFIELDS => {
            // Only reached with NULL: set_pointer copies non-NULL data.
            h.req.copied = None;
            h.req.postfields = std::ptr::null();
            h.req.method = Method::Post;
        }
        CURLOPT_WRITEDATA => cb.write_data = p,
        CURLOPT_HEADERDATA => cb.header_data = p,
        CURLOPT_READDATA => cb.read_data = p,
        CURLOPT_DEBUGDATA => cb.debug_data = p,
        CURLOPT_XFERINFODATA => cb.progress_data = p,
        // SAFETY: the shim passes the application's function of the
        // option's documented type (so for every function option below).
        CURLOPT_WRITEFUNCTION => cb.write = unsafe { function::<DataCallback>(p) },
        // SAFETY: as above.
        CURLOPT_HEADERFUNCTION => cb.header = unsafe { function::<DataCallback>(p) },
        // SAFETY: as above.
        CURLOPT_READFUNCTION => cb.read = unsafe { function::<DataCallback>(p) },
        // SAFETY: as above.
        CURLOPT_DEBUGFUNCTION => cb.debug = unsafe { function::<DebugCallback>(p) },
        // SAFETY: as above.
        CURLOPT_XFERINFOFUNCTION => cb.xferinfo = unsafe { function::<XferinfoCallback>(p) },
        // SAFETY: as above.
        CURLOPT_PROGRESSFUNCTION => cb.progress = unsafe { function::<ProgressCallback>(p) },
        CURLOPT_HTTPHEADER => h.req.httpheader = p.cast::<Slist>(),
        CURLOPT_PROXYHEADER => h.req.proxyheader = p.cast::<Slist>(),
        CURLOPT_RESOLVE => h.req.resolve = p.cast::<Slist>(),
        CURLOPT_CONNECT_TO => h.req.connect_to = p.cast::<Slist>(),
        CURLOPT_SHARE => {
            // SAFETY: libcurl's contract: NULL or a live share handle (and
            // the previous one, if any, is still alive).
            let Some(caches) = (unsafe { crate::share::attach(h.share, p) }) else {
                return CURLE_BAD_FUNCTION_ARGUMENT;
            };
            h.share = p;
            let _ = h.easy.share(caches.as_ref());
        }
        // Lists and data of protocols handover lacks (FTP quote commands,
        // telnet options it does not negotiate: telnet:// is connect-only,
        // RTSP interleaved data): no effect, accepted.
        CURLOPT_QUOTE
        | CURLOPT_POSTQUOTE
        | CURLOPT_PREQUOTE
        | CURLOPT_TELNETOPTIONS
        | CURLOPT_INTERLEAVEDATA => {}
        CURLOPT_SEEKDATA => cb.seek_data = p,
        // SAFETY: as above.
        CURLOPT_SEEKFUNCTION => cb.seek = unsafe { function::<crate::easy::SeekCallback>(p) },
        CURLOPT_OPENSOCKETDATA => cb.opensocket_data = p,
        CURLOPT_SOCKOPTDATA => cb.sockopt_data = p,
        CURLOPT_CLOSESOCKETDATA => cb.closesocket_data = p,
        CURLOPT_PREREQDATA => cb.prereq_data = p,
        CURLOPT_RESOLVER_START_DATA => cb.resolver_start_data = p,
        // SAFETY: as above.
        CURLOPT_OPENSOCKETFUNCTION => cb.opensocket = unsafe { function::<OpenSocketCallback>(p) },
        // SAFETY: as above.
        CURLOPT_SOCKOPTFUNCTION => cb.sockopt = unsafe { function::<SockoptCallback>(p) },
        CURLOPT_CLOSESOCKETFUNCTION => {
            // SAFETY: as above.
            cb.closesocket = unsafe { function::<CloseSocketCallback>(p) }
        }
        // SAFETY: as above.
        CURLOPT_PREREQFUNCTION => cb.prereq = unsafe { function::<PrereqCallback>(p) },
        CURLOPT_RESOLVER_START_FUNCTION => {
            // SAFETY: as above.
            cb.resolver_start = unsafe { function::<ResolverStartCallback>(p) }
        }
        _ => return CURLE_UNKNOWN_OPTION,
    }
    CURLE_OK
}

/// The strings of a `curl_slist` as a handover `List`.
///
/// # Safety
///
/// `list` is NULL or a valid `curl_slist` (libcurl's contract: the
/// application keeps it alive while it is set).
unsafe fn slist(list: *const Slist) -> Result<List, CurlCode> {
    let mut out = List::new();
    let mut node = list;
    // SAFETY: per the function's contract, every node is valid.
    while let Some(n) = unsafe { node.as_ref() } {
        if !n.data.is_null() {
            // SAFETY: a node's data is a NUL-terminated string.
            let text = unsafe { CStr::from_ptr(n.data) }
                .to_str()
                .map_err(|_| CURLE_BAD_FUNCTION_ARGUMENT)?;
            out.append(text).map_err(|_| CURLE_BAD_FUNCTION_ARGUMENT)?;
        }
        node = n.next;
    }
    Ok(out)
}

/// Starts the `Easy` afresh and replays every recorded option.
fn rebuild(h: &mut EasyHandle) {
    // Only the options start over: the connections, the caches, the state
    // kept between transfers and a Multi's hold on the handle stay.
    h.easy.reset_options();
    h.install_callbacks();
    h.req.applied_size = None;
    let log = h.log.clone();
    for (option, value) in &log {
        let _ = apply(h, *option, value);
    }
    h.rebuild = false;
}

/// Gives the `Easy` what libcurl reads when the transfer starts: the
/// method and body (`CURLOPT_POSTFIELDS` is read now), the upload size and
/// the lists.
pub(crate) fn apply_at_perform(h: &mut EasyHandle) -> Result<(), CurlCode> {
    let req = &h.req;
    let from_callback = req.copied.is_none() && req.postfields.is_null();
    let size = match req.method {
        Method::Post if from_callback => u64::try_from(req.postfieldsize).ok(),
        Method::Put => u64::try_from(req.infilesize).ok(),
        _ => None,
    };
    if size.is_none() && req.applied_size.is_some() {
        // handover keeps a body size until a fresh Easy.
        h.rebuild = true;
    }
    if h.rebuild {
        rebuild(h);
    }
    h.install_socket_callbacks();
    let mut req = h.req.clone();
    if req.nobody && req.method == Method::Get {
        req.method = Method::Head;
    }
    let e = &mut h.easy;
    let _ = e.get(true);
    let result = match req.method {
        Method::Get => Ok(()),
        Method::Head => e.nobody(true),
        Method::Post => {
            let body: Option<&[u8]> = if let Some(copy) = &req.copied {
                let n =
                    usize::try_from(req.postfieldsize).map_or(copy.len(), |n| n.min(copy.len()));
                Some(&copy[..n])
            } else if !req.postfields.is_null() {
                Some(match usize::try_from(req.postfieldsize) {
                    // SAFETY: libcurl's contract for CURLOPT_POSTFIELDS: the
                    // data stays valid until the transfer is done and holds
                    // CURLOPT_POSTFIELDSIZE bytes, or is a C string.
                    Ok(n) => unsafe { std::slice::from_raw_parts(req.postfields.cast::<u8>(), n) },
                    // SAFETY: as above, a NUL-terminated string.
                    Err(_) => unsafe { CStr::from_ptr(req.postfields) }.to_bytes(),
                })
            } else {
                None
            };
            match body {
                Some(bytes) => {
                    h.live.ultotal = bytes.len() as i64;
                    h.live.body_bytes = bytes.len() as i64;
                    e.post_fields_copy(bytes)
                }
                None => e.post(true),
            }
        }
        Method::Put => e.upload(true),
    };
    if let Err(error) = result {
        return Err(h.fail(&error));
    }
    if let Some(size) = size {
        // These setters only store the size.
        let _ = if req.method == Method::Put {
            e.in_filesize(size)
        } else {
            e.post_field_size(size)
        };
        h.live.ultotal = i64::try_from(size).unwrap_or(i64::MAX);
    }
    h.req.applied_size = size;
    // SAFETY: the lists are NULL or valid curl_slists the application keeps
    // alive while set (libcurl's contract).
    let lists = unsafe {
        (
            slist(req.httpheader),
            slist(req.proxyheader),
            slist(req.resolve),
            slist(req.connect_to),
        )
    };
    let (headers, proxy_headers, resolve, connect_to) = match lists {
        (Ok(a), Ok(b), Ok(c), Ok(d)) => (a, b, c, d),
        _ => {
            return Err(h.fail_code(
                CURLE_BAD_FUNCTION_ARGUMENT,
                Some("a list option holds text that is not UTF-8"),
            ))
        }
    };
    let proxy_headers = if req.unified_headers {
        headers.clone()
    } else {
        proxy_headers
    };
    let e = &mut h.easy;
    if let Err(error) = e
        .http_headers(headers)
        .and_then(|()| e.proxy_headers(proxy_headers))
    {
        return Err(h.fail(&error));
    }
    // A malformed RESOLVE or CONNECT_TO entry: libcurl's
    // CURLE_SETOPT_OPTION_SYNTAX.
    if let Err(error) = e.resolve(resolve).and_then(|()| e.connect_to(connect_to)) {
        h.set_error_text(&error.to_string());
        return Err(CURLE_SETOPT_OPTION_SYNTAX);
    }
    Ok(())
}

/// `curl_easy_setopt` for `long` options (the shim's typed half).
pub(crate) fn setopt_long(h: &mut EasyHandle, option: c_int, value: c_long) -> CurlCode {
    set_value(h, option, Value::Long(value))
}

/// `curl_easy_setopt` for `curl_off_t` options.
pub(crate) fn setopt_off_t(h: &mut EasyHandle, option: c_int, value: i64) -> CurlCode {
    set_value(h, option, Value::OffT(value))
}

/// `curl_easy_setopt` for pointer options: strings are copied here,
/// `CURLOPT_COPYPOSTFIELDS` too (its size is `CURLOPT_POSTFIELDSIZE`, or
/// up to the NUL).
///
/// # Safety
///
/// `value` is what the option's documentation says: a NUL-terminated
/// string for string options, `CURLOPT_POSTFIELDSIZE` readable bytes or a
/// string for `CURLOPT_COPYPOSTFIELDS`.
pub(crate) unsafe fn setopt_ptr(h: &mut EasyHandle, option: c_int, value: *mut c_void) -> CurlCode {
    let value = match option_type(option) {
        None => return CURLE_UNKNOWN_OPTION,
        Some(CURLOT_STRING) => {
            if value.is_null() {
                Value::Str(None)
            } else {
                // SAFETY: per the function's contract, a C string.
                let s = unsafe { CStr::from_ptr(value.cast::<c_char>()) };
                if s.to_bytes().len() > MAX_INPUT_LENGTH {
                    return CURLE_BAD_FUNCTION_ARGUMENT;
                }
                Value::Str(Some(s.to_owned()))
            }
        }
        Some(_) if option == CURLOPT_COPYPOSTFIELDS && !value.is_null() => {
            let bytes = match usize::try_from(h.req.postfieldsize) {
                // SAFETY: per the function's contract, that many bytes.
                Ok(n) => unsafe { std::slice::from_raw_parts(value.cast::<u8>(), n) },
                // SAFETY: per the function's contract, a C string.
                Err(_) => unsafe { CStr::from_ptr(value.cast::<c_char>()) }.to_bytes(),
            };
            Value::Bytes(Some(bytes.to_vec()))
        }
        // A `struct curl_blob *`: its bytes are copied (libcurl copies
        // with CURL_BLOB_COPY; keeping the caller's pointer for NOCOPY
        // would gain nothing here).
        Some(CURLOT_BLOB) => {
            if value.is_null() {
                Value::Bytes(None)
            } else {
                // SAFETY: per the function's contract, a live `struct curl_blob`.
                let blob = unsafe { &*value.cast::<CurlBlob>() };
                if blob.data.is_null() && blob.len > 0 {
                    return CURLE_BAD_FUNCTION_ARGUMENT;
                }
                let bytes = if blob.len == 0 {
                    Vec::new()
                } else {
                    // SAFETY: the blob's data holds `len` readable bytes.
                    unsafe { std::slice::from_raw_parts(blob.data.cast::<u8>(), blob.len) }.to_vec()
                };
                Value::Bytes(Some(bytes))
            }
        }
        Some(_) => Value::Ptr(value),
    };
    set_value(h, option, value)
}

/// `curl_easy_option_by_name`: the option of that name (any case, without
/// `CURLOPT_`), aliases included; NULL if unknown.
///
/// # Safety
///
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn curl_easy_option_by_name(name: *const c_char) -> *const EasyOption {
    guard(std::ptr::null(), || {
        if name.is_null() {
            return std::ptr::null();
        }
        // SAFETY: per the function's contract.
        let name = unsafe { CStr::from_ptr(name) }.to_bytes();
        EASY_OPTIONS
            .iter()
            .find(|o| {
                o.name()
                    .is_some_and(|n| n.as_bytes().eq_ignore_ascii_case(name))
            })
            .map_or(std::ptr::null(), std::ptr::from_ref)
    })
}

/// `curl_easy_option_by_id`: the option with that number (not an alias);
/// NULL if unknown.
#[no_mangle]
pub extern "C" fn curl_easy_option_by_id(id: c_int) -> *const EasyOption {
    guard(std::ptr::null(), || {
        EASY_OPTIONS
            .iter()
            .find(|o| !o.name.is_null() && o.id == id && o.flags & CURLOT_FLAG_ALIAS as u32 == 0)
            .map_or(std::ptr::null(), std::ptr::from_ref)
    })
}

/// `curl_easy_option_next`: the option after `prev` in the table (the
/// first for NULL); NULL after the last.
///
/// # Safety
///
/// `prev` is NULL or a pointer this library's `curl_easy_option_*`
/// returned.
#[no_mangle]
pub unsafe extern "C" fn curl_easy_option_next(prev: *const EasyOption) -> *const EasyOption {
    guard(std::ptr::null(), || {
        let next = if prev.is_null() {
            Some(0)
        } else {
            EASY_OPTIONS
                .iter()
                .position(|o| std::ptr::eq(o, prev))
                .map(|i| i + 1)
        };
        match next.and_then(|i| EASY_OPTIONS.get(i)) {
            Some(o) if !o.name.is_null() => std::ptr::from_ref(o),
            _ => std::ptr::null(),
        }
    })
}
