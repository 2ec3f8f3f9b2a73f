//! libcurl's public numbers, in one place: return codes, option and info
//! numbers with their types, and every enumeration and bit set the easy
//! interface uses. Each kind is a table of [`Constant`]s (name, value, the
//! libcurl version that introduced it) and a Rust constant per name.
//!
//! This is the one source of truth: `tests/numbers.rs` generates a C file
//! from [`TABLES`] that prints every constant as the system's `curl/curl.h`
//! defines it, and compares. The numbers are libcurl 8.21.0's (the version
//! handover-curl mirrors, [`MIRRORED_VERSION`]); the few that changed since
//! Debian's 7.88.1 are listed in that test.

use std::ffi::{c_char, c_int, c_uint, CStr};

/// Declares a table: a `pub const` per name and a `pub static` slice of
/// [`Constant`]s.
macro_rules! constants {
    (
        $(#[$table_doc:meta])*
        $table:ident: $ty:ty {
            $( $name:ident = $value:expr, $since:literal; )*
        }
    ) => {
        $(
            #[doc = concat!("`", stringify!($name), "`.")]
            pub const $name: $ty = $value;
        )*
        $(#[$table_doc])*
        pub static $table: &[Constant] = &[
            $( Constant { name: stringify!($name), value: $name as i64, since: $since }, )*
        ];
    };
}

/// Declares the `CURLcode` table: a constant per code, [`CODES`], and the
/// texts of `curl_easy_strerror`.
macro_rules! codes {
    ( $( $name:ident = $value:literal, $since:literal, $text:literal; )* ) => {
        $(
            #[doc = concat!("`", stringify!($name), "`: ", $text)]
            pub const $name: CurlCode = $value;
        )*
        /// `CURLcode`: every code libcurl defines (not the obsolete ones).
        pub static CODES: &[super::Constant] = &[
            $( super::Constant { name: stringify!($name), value: $value, since: $since }, )*
        ];

        /// libcurl's text for a code (`curl_easy_strerror`), or `None` for a
        /// number libcurl does not define.
        pub fn text(code: CurlCode) -> Option<&'static std::ffi::CStr> {
            let bytes: &'static [u8] = match code {
                $( $value => concat!($text, "\0").as_bytes(), )*
                _ => return None,
            };
            std::ffi::CStr::from_bytes_with_nul(bytes).ok()
        }

        /// The name of a code, such as `CURLE_COULDNT_CONNECT`.
        pub fn name(code: CurlCode) -> Option<&'static str> {
            match code {
                $( $value => Some(stringify!($name)), )*
                _ => None,
            }
        }
    };
}

/// Declares the option table: a constant per option, [`OPTIONS`] for the
/// number check, [`EASY_OPTIONS`] for `curl_easy_option_*`, and
/// [`option_type`].
macro_rules! options {
    ( $( $name:ident, $short:literal = $value:literal, $kind:ident, $flags:ident, $since:literal; )* ) => {
        /// No `curl_easyoption` flag.
        const NONE: c_int = 0;
        /// `CURLOT_FLAG_ALIAS`: another name for an option listed too.
        const ALIAS: c_int = CURLOT_FLAG_ALIAS;

        $(
            #[doc = concat!("`", stringify!($name), "`.")]
            pub const $name: c_int = $value;
        )*

        /// `CURLoption`: every option handover-curl knows.
        pub static OPTIONS: &[Constant] = &[
            $( Constant { name: stringify!($name), value: $value, since: $since }, )*
        ];

        /// libcurl's `struct curl_easyoption` table (alphabetical, aliases
        /// included), ended by an entry with a NULL name as libcurl's.
        pub static EASY_OPTIONS: &[EasyOption] = &[
            $(
                EasyOption {
                    name: concat!($short, "\0").as_ptr().cast::<std::ffi::c_char>(),
                    id: $value,
                    kind: $kind,
                    flags: $flags as std::ffi::c_uint,
                },
            )*
            EasyOption { name: std::ptr::null(), id: 0, kind: 0, flags: 0 },
        ];

        /// The `curl_easytype` (`CURLOT_*`) of a known option; `None` for
        /// an option handover-curl does not know.
        #[allow(unreachable_patterns)] // aliases repeat a number
        pub fn option_type(option: c_int) -> Option<c_int> {
            match option {
                $( $value => Some($kind), )*
                _ => None,
            }
        }
    };
}

mod code;
mod info;
mod option;
mod values;
// The multi interface's numbers (src/multi.rs), kept apart.
mod multi;

pub use code::*;
pub use info::*;
pub use multi::*;
pub use option::*;
pub use values::*;

/// A `CURLcode`.
pub type CurlCode = c_int;

/// The libcurl release whose numbers, texts and behaviour handover-curl
/// follows.
pub const MIRRORED_VERSION: &str = "8.21.0";

/// One named number of libcurl's public header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Constant {
    /// The name in `curl/curl.h`.
    pub name: &'static str,
    /// Its value, as C's `(long long)NAME` prints it.
    pub value: i64,
    /// The first libcurl version that has it, as `LIBCURL_VERSION_NUM`
    /// (`0x075801` is 7.88.1).
    pub since: u32,
}

/// Every table, by the kind of number it holds.
pub static TABLES: &[(&str, &[Constant])] = &[
    // The multi interface (codes/multi.rs).
    ("CURLMcode", CURLMCODES),
    ("CURLMoption", CURLMOPTIONS),
    ("CURLMSG and CURL_POLL", CURLMSG_AND_POLL),
    ("CURL_WAIT", CURL_WAIT),
    ("CURLPIPE", CURLPIPE),
    ("CURLcode", CODES),
    ("CURLoption", OPTIONS),
    ("CURLOPTTYPE", CURLOPTTYPE),
    ("curl_easytype", CURLOT),
    ("CURLINFO", INFOS),
    ("CURLINFO types", INFO_TYPES),
    ("curl_infotype", INFOTYPE),
    ("CURLWS", CURLWS),
    ("CURLPX", CURLPX),
    ("CURLAUTH", CURLAUTH),
    ("CURLPROTO", CURLPROTO),
    ("CURLH", CURLH),
    ("CURLHcode", CURLHE),
    ("CURL_SSLVERSION", SSLVERSION),
    ("CURLPROXY", PROXYTYPE),
    ("CURL_IPRESOLVE", IPRESOLVE),
    ("CURL_HTTP_VERSION", HTTP_VERSION),
    ("CURLHEADER", HEADEROPT),
    ("CURLPAUSE", PAUSE),
    ("callback returns", CALLBACK_RETURNS),
    ("limits", LIMITS),
    ("curlsocktype", SOCKTYPE),
    ("CURL_REDIR", REDIR),
    ("CURLSSLOPT", SSLOPT),
];

/// libcurl's `struct curl_easyoption`.
#[repr(C)]
#[derive(Debug)]
pub struct EasyOption {
    /// The option's name without `CURLOPT_`.
    pub name: *const c_char,
    /// Its `CURLoption` number.
    pub id: c_int,
    /// Its `curl_easytype`.
    pub kind: c_int,
    /// `CURLOT_FLAG_ALIAS` or 0.
    pub flags: c_uint,
}

// SAFETY: an EasyOption only points to 'static NUL-terminated literals and
// is never written to, so sharing it between threads is sound.
unsafe impl Sync for EasyOption {}

impl EasyOption {
    /// The option's name, without `CURLOPT_`.
    pub fn name(&self) -> Option<&'static str> {
        if self.name.is_null() {
            return None;
        }
        // SAFETY: every non-NULL name is a NUL-terminated 'static literal
        // of the table above.
        unsafe { CStr::from_ptr(self.name) }.to_str().ok()
    }
}

/// The type range of an option number (`CURLOPTTYPE_*`): what
/// `curl_easy_setopt`'s variadic argument is.
pub fn option_range(option: c_int) -> c_int {
    match option {
        o if o < CURLOPTTYPE_OBJECTPOINT => CURLOPTTYPE_LONG,
        o if o < CURLOPTTYPE_FUNCTIONPOINT => CURLOPTTYPE_OBJECTPOINT,
        o if o < CURLOPTTYPE_OFF_T => CURLOPTTYPE_FUNCTIONPOINT,
        o if o < CURLOPTTYPE_BLOB => CURLOPTTYPE_OFF_T,
        _ => CURLOPTTYPE_BLOB,
    }
}

/// The `CURLcode` of a handover error: handover's kinds carry libcurl's
/// numbers already.
pub fn code_of(error: &handover::Error) -> CurlCode {
    c_int::try_from(error.code()).unwrap_or(CURLE_FAILED_INIT)
}

/// libcurl's text for a code (`curl_easy_strerror`), NUL-terminated and
/// alive for the whole process, as libcurl's; "Unknown error" for numbers
/// libcurl does not define.
pub fn strerror(code: CurlCode) -> &'static CStr {
    text(code).unwrap_or(c"Unknown error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_unique_names() {
        let mut seen = std::collections::HashSet::new();
        for (_, table) in TABLES {
            for c in *table {
                assert!(seen.insert(c.name), "{} twice", c.name);
            }
        }
    }

    #[test]
    fn easy_options_match_the_option_table() {
        assert_eq!(EASY_OPTIONS.len(), OPTIONS.len() + 1);
        for (entry, constant) in EASY_OPTIONS.iter().zip(OPTIONS) {
            assert_eq!(
                Some(constant.name.trim_start_matches("CURLOPT_")),
                entry.name()
            );
            assert_eq!(i64::from(entry.id), constant.value);
            assert_eq!(option_range(entry.id), {
                match entry.kind {
                    CURLOT_LONG | CURLOT_VALUES => CURLOPTTYPE_LONG,
                    CURLOT_OFF_T => CURLOPTTYPE_OFF_T,
                    CURLOT_FUNCTION => CURLOPTTYPE_FUNCTIONPOINT,
                    CURLOT_BLOB => CURLOPTTYPE_BLOB,
                    _ => CURLOPTTYPE_OBJECTPOINT,
                }
            });
        }
        assert!(EASY_OPTIONS.last().is_some_and(|e| e.name.is_null()));
    }

    #[test]
    fn strerror_has_libcurl_texts() {
        assert_eq!(strerror(CURLE_OK), c"No error");
        assert_eq!(
            strerror(CURLE_COULDNT_CONNECT),
            c"Could not connect to server"
        );
        assert_eq!(strerror(1000), c"Unknown error");
        assert_eq!(
            name(CURLE_RECURSIVE_API_CALL),
            Some("CURLE_RECURSIVE_API_CALL")
        );
    }
}
