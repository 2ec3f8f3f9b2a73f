//! libcurl's C ABI over handover: built as `libcurl.so.4` (soname, symbol
//! versions `CURL_OPENSSL_4`), so a program linked against Debian's libcurl
//! runs on handover by pointing the loader at it (`scripts/libcurl` prints
//! the directory; `LD_LIBRARY_PATH=that program`).
//!
//! ```text
//!   C program ── curl_easy_setopt(h, opt, ...)      shim.c: variadic, reads the
//!                                                   argument by the option's type
//!                  └─> handover_easy_setopt_long/ptr/off_t  (varargs.rs)
//!                        └─> options.rs: checks, libcurl defaults, the Easy's setters
//!                              └─> easy.rs: one handover::Easy per CURL handle,
//!                                  the callbacks, perform/send/recv
//! ```
//!
//! `codes` holds every number (one table, checked against the system's
//! `curl/curl.h`); `info` is `curl_easy_getinfo`, `header`
//! `curl_easy_header`, `ws` the `curl_ws_*` calls, `misc` the small
//! exports (slists, escaping, `curl_version`, ...); `version` is
//! `curl_version_info`, `url` the URL API (`curl_url_*`), `share` the
//! share interface, `getdate` `curl_getdate`, `mime` the MIME calls a
//! libcurl without MIME answers.
//!
//! This crate holds the project's C-facing `unsafe`: every export checks
//! its pointers (a NULL or foreign handle is `CURLE_BAD_FUNCTION_ARGUMENT`,
//! 43, as libcurl) and catches panics, so no unwind crosses into C. It holds
//! no transfer logic: numbers in, Rust calls, numbers out.

#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod certinfo;
pub mod codes;
mod easy;
mod getdate;
mod global;
mod header;
mod info;
mod mime;
mod misc;
mod multi;
mod options;
mod share;
mod url;
mod varargs;
mod version;
mod ws;

pub use codes::CurlCode;

/// Runs `f`, answering `fallback` if it panics: no unwind crosses into C.
pub(crate) fn guard<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(fallback)
}
