//! `curl_version_info`: what this libcurl is built with, as the
//! `curl_version_info_data` of libcurl 8 (age `CURLVERSION_TWELFTH`; a
//! program built against an older header reads the fields it knows).
//!
//! It claims only what works: the protocols handover speaks (`dict`,
//! `ftp`, `ftps`, `gopher`, `gophers`, `http`, `https`, `imap`,
//! `imaps`, `mqtt`, `mqtts`, `pop3`, `pop3s`, `rtsp`, `smtp`, `smtps`,
//! `telnet`, `tftp`, `ws`, `wss`; the ones other than HTTP(S) and WebSocket
//! are connect-only — FTP, IMAP, POP3 and SMTP greet and log in, TFTP binds
//! a UDP socket, the others connect — which is what libcurl does with
//! them under `CURLOPT_CONNECT_ONLY` too) and the features
//! `AsynchDNS`, `HTTPS-proxy`, `IPv6`, `Largefile`, `NTLM` (proxy NTLM),
//! `SSL` and `threadsafe`. No libz, brotli, zstd, HTTP/2, IDN, PSL, HSTS,
//! alt-svc, cookies or Unix sockets: the curl tool then never asks for
//! them (it sets `CURLOPT_HTTP_VERSION` to 2TLS only when `HTTP2` is
//! claimed, for instance).

use std::ffi::{c_char, c_int, c_long, c_uint};
use std::sync::OnceLock;

use crate::codes::MIRRORED_VERSION;
use crate::guard;

/// libcurl's `struct curl_version_info_data`, through the fields of
/// `CURLVERSION_TWELFTH`.
#[repr(C)]
pub struct VersionInfo {
    /// `CURLversion`: the age of this struct.
    pub age: c_int,
    /// `LIBCURL_VERSION`.
    pub version: *const c_char,
    /// `LIBCURL_VERSION_NUM`.
    pub version_num: c_uint,
    /// The host triplet.
    pub host: *const c_char,
    /// `CURL_VERSION_*` bits.
    pub features: c_int,
    /// The TLS library and its version.
    pub ssl_version: *const c_char,
    /// Unused, 0.
    pub ssl_version_num: c_long,
    /// zlib's version: NULL (not built in).
    pub libz_version: *const c_char,
    /// The protocol names, NULL-terminated.
    pub protocols: *const *const c_char,
    /// c-ares' version: NULL.
    pub ares: *const c_char,
    /// c-ares' version number: 0.
    pub ares_num: c_int,
    /// libidn's version: NULL.
    pub libidn: *const c_char,
    /// iconv's version: 0.
    pub iconv_ver_num: c_int,
    /// The SSH library: NULL.
    pub libssh_version: *const c_char,
    /// brotli's version number: 0.
    pub brotli_ver_num: c_uint,
    /// brotli's version: NULL.
    pub brotli_version: *const c_char,
    /// nghttp2's version number: 0.
    pub nghttp2_ver_num: c_uint,
    /// nghttp2's version: NULL.
    pub nghttp2_version: *const c_char,
    /// The QUIC library: NULL.
    pub quic_version: *const c_char,
    /// The default `CURLOPT_CAINFO`: NULL (handover uses the system's
    /// roots through rustls-native-certs).
    pub cainfo: *const c_char,
    /// The default `CURLOPT_CAPATH`: NULL.
    pub capath: *const c_char,
    /// zstd's version number: 0.
    pub zstd_ver_num: c_uint,
    /// zstd's version: NULL.
    pub zstd_version: *const c_char,
    /// hyper's version: NULL.
    pub hyper_version: *const c_char,
    /// gsasl's version: NULL.
    pub gsasl_version: *const c_char,
    /// The feature names, NULL-terminated.
    pub feature_names: *const *const c_char,
    /// librtmp's version: NULL.
    pub rtmp_version: *const c_char,
}

// SAFETY: every pointer in the one VersionInfo points to 'static, never
// written data (literals and the static arrays below).
unsafe impl Sync for VersionInfo {}
// SAFETY: as above.
unsafe impl Send for VersionInfo {}

/// A NULL-terminated array of C string pointers, shareable.
struct Names<const N: usize>([*const c_char; N]);
// SAFETY: the pointers are to 'static literals, never written.
unsafe impl<const N: usize> Sync for Names<N> {}

/// `CURLVERSION_TWELFTH`.
const AGE: c_int = 11;

/// The protocols handover speaks, alphabetical as libcurl lists them (ftp,
/// ftps, imap(s), mqtt(s), pop3(s), rtsp, smtp(s) and tftp for
/// connect-only transfers). `file`, which connect-only also opens, is left
/// out: the curl tool 7.88 that sees it listed stops writing the header
/// lines of `-i` and `-I` on handover's library.
static PROTOCOLS: Names<21> = Names([
    c"dict".as_ptr(),
    c"ftp".as_ptr(),
    c"ftps".as_ptr(),
    c"gopher".as_ptr(),
    c"gophers".as_ptr(),
    c"http".as_ptr(),
    c"https".as_ptr(),
    c"imap".as_ptr(),
    c"imaps".as_ptr(),
    c"mqtt".as_ptr(),
    c"mqtts".as_ptr(),
    c"pop3".as_ptr(),
    c"pop3s".as_ptr(),
    c"rtsp".as_ptr(),
    c"smtp".as_ptr(),
    c"smtps".as_ptr(),
    c"telnet".as_ptr(),
    c"tftp".as_ptr(),
    c"ws".as_ptr(),
    c"wss".as_ptr(),
    std::ptr::null(),
]);

/// The features that work, with their `CURL_VERSION_*` bits, in libcurl's
/// (alphabetical, case-insensitive) order.
const FEATURES: [(&std::ffi::CStr, c_int); 7] = [
    (c"AsynchDNS", 1 << 7),
    (c"HTTPS-proxy", 1 << 21),
    (c"IPv6", 1 << 0),
    (c"Largefile", 1 << 9),
    (c"NTLM", 1 << 4),
    (c"SSL", 1 << 2),
    (c"threadsafe", 1 << 30),
];

/// `Debug` (`CURL_VERSION_DEBUG`) in a `test-hooks` build, which reads
/// libcurl's debug-build variables: curl's test suite runs the tests that
/// need them (WebSocket's) only on a library that says so. 0 otherwise.
const DEBUG_BIT: c_int = if cfg!(feature = "test-hooks") {
    1 << 6
} else {
    0
};

/// [`FEATURES`]' names, NULL-terminated; `Debug` first (libcurl's order)
/// in a `test-hooks` build.
#[cfg(feature = "test-hooks")]
static FEATURE_NAMES: Names<9> = Names([
    c"Debug".as_ptr(),
    FEATURES[0].0.as_ptr(),
    FEATURES[1].0.as_ptr(),
    FEATURES[2].0.as_ptr(),
    FEATURES[3].0.as_ptr(),
    FEATURES[4].0.as_ptr(),
    FEATURES[5].0.as_ptr(),
    FEATURES[6].0.as_ptr(),
    std::ptr::null(),
]);

/// [`FEATURES`]' names, NULL-terminated.
#[cfg(not(feature = "test-hooks"))]
static FEATURE_NAMES: Names<8> = Names([
    FEATURES[0].0.as_ptr(),
    FEATURES[1].0.as_ptr(),
    FEATURES[2].0.as_ptr(),
    FEATURES[3].0.as_ptr(),
    FEATURES[4].0.as_ptr(),
    FEATURES[5].0.as_ptr(),
    FEATURES[6].0.as_ptr(),
    std::ptr::null(),
]);

/// `LIBCURL_VERSION_NUM` of [`MIRRORED_VERSION`].
fn version_num() -> c_uint {
    MIRRORED_VERSION
        .split('.')
        .map(|part| part.parse::<c_uint>().unwrap_or(0))
        .fold(0, |acc, part| (acc << 8) | part)
}

/// The one answer, built on first use.
fn info() -> &'static VersionInfo {
    static INFO: OnceLock<VersionInfo> = OnceLock::new();
    static VERSION: OnceLock<std::ffi::CString> = OnceLock::new();
    static HOST: OnceLock<std::ffi::CString> = OnceLock::new();
    INFO.get_or_init(|| {
        let host = HOST.get_or_init(|| {
            let triplet = format!("{}-pc-{}-gnu", std::env::consts::ARCH, std::env::consts::OS);
            std::ffi::CString::new(triplet).unwrap_or_default()
        });
        let version =
            VERSION.get_or_init(|| std::ffi::CString::new(MIRRORED_VERSION).unwrap_or_default());
        let null = std::ptr::null();
        VersionInfo {
            age: AGE,
            version: version.as_ptr(),
            version_num: version_num(),
            host: host.as_ptr(),
            features: FEATURES.iter().fold(DEBUG_BIT, |acc, (_, bit)| acc | bit),
            ssl_version: c"rustls/0.23".as_ptr(),
            ssl_version_num: 0,
            libz_version: null,
            protocols: PROTOCOLS.0.as_ptr(),
            ares: null,
            ares_num: 0,
            libidn: null,
            iconv_ver_num: 0,
            libssh_version: null,
            brotli_ver_num: 0,
            brotli_version: null,
            nghttp2_ver_num: 0,
            nghttp2_version: null,
            quic_version: null,
            cainfo: null,
            capath: null,
            zstd_ver_num: 0,
            zstd_version: null,
            hyper_version: null,
            gsasl_version: null,
            feature_names: FEATURE_NAMES.0.as_ptr(),
            rtmp_version: null,
        }
    })
}

/// `curl_version_info`: the same static answer for every `stamp` (libcurl
/// ignores it too); valid for the whole process.
#[no_mangle]
pub extern "C" fn curl_version_info(_stamp: c_int) -> *const VersionInfo {
    guard(std::ptr::null(), || std::ptr::from_ref(info()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_number_packs_the_mirrored_version() {
        assert_eq!(version_num(), 0x08_15_00);
        let info = info();
        assert_eq!(info.features & (1 << 3), 0, "no libz");
        assert_eq!(info.features & (1 << 16), 0, "no HTTP2");
    }
}
