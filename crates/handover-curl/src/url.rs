//! libcurl's URL API (`CURLU *`): `curl_url`, `_cleanup`, `_dup`, `_get`,
//! `_set`, `_strerror`, with libcurl's `CURLUcode` numbers.
//!
//! A handle holds the parts as written (percent-encoded): scheme, user,
//! password, options, host, zone id, port, path, query, fragment. Setting
//! `CURLUPART_URL` parses a whole URL the way libcurl's parser does for
//! the URLs handover serves (`scheme://[user[:password][;options]@]host
//! [:port][/path][?query][#fragment]`, IPv6 literals in brackets with a
//! `%25` zone id); the host, port and scheme checks are
//! `handover_proto::url`'s rules. Without a scheme, `CURLU_GUESS_SCHEME`
//! guesses as curl does and `CURLU_DEFAULT_SCHEME` takes `https`. A scheme
//! handover does not speak is `CURLUE_UNSUPPORTED_SCHEME` unless
//! `CURLU_NON_SUPPORT_SCHEME`, as in a libcurl built without it.
//!
//! Not implemented (accepted and ignored): IDN/punycode conversion, and
//! `file://` URLs (refused as an unsupported scheme, as in a libcurl
//! without FILE). A relative reference set on a handle with a URL is
//! resolved against it (absolute path, or relative to the last segment).

use std::ffi::{c_char, c_int, c_uint, c_void, CStr};

use handover_proto::url::Scheme;

use crate::guard;

/// `CURLUcode` numbers.
mod code {
    /// `CURLUE_OK`.
    pub const OK: i32 = 0;
    /// `CURLUE_BAD_HANDLE`.
    pub const BAD_HANDLE: i32 = 1;
    /// `CURLUE_BAD_PARTPOINTER`.
    pub const BAD_PARTPOINTER: i32 = 2;
    /// `CURLUE_MALFORMED_INPUT`.
    pub const MALFORMED_INPUT: i32 = 3;
    /// `CURLUE_BAD_PORT_NUMBER`.
    pub const BAD_PORT_NUMBER: i32 = 4;
    /// `CURLUE_UNSUPPORTED_SCHEME`.
    pub const UNSUPPORTED_SCHEME: i32 = 5;
    /// `CURLUE_URLDECODE`.
    pub const URLDECODE: i32 = 6;
    /// `CURLUE_OUT_OF_MEMORY`.
    pub const OUT_OF_MEMORY: i32 = 7;
    /// `CURLUE_USER_NOT_ALLOWED`.
    pub const USER_NOT_ALLOWED: i32 = 8;
    /// `CURLUE_UNKNOWN_PART`.
    pub const UNKNOWN_PART: i32 = 9;
    /// `CURLUE_NO_SCHEME`.
    pub const NO_SCHEME: i32 = 10;
    /// `CURLUE_NO_USER`.
    pub const NO_USER: i32 = 11;
    /// `CURLUE_NO_PASSWORD`.
    pub const NO_PASSWORD: i32 = 12;
    /// `CURLUE_NO_OPTIONS`.
    pub const NO_OPTIONS: i32 = 13;
    /// `CURLUE_NO_HOST`.
    pub const NO_HOST: i32 = 14;
    /// `CURLUE_NO_PORT`.
    pub const NO_PORT: i32 = 15;
    /// `CURLUE_NO_QUERY`.
    pub const NO_QUERY: i32 = 16;
    /// `CURLUE_NO_FRAGMENT`.
    pub const NO_FRAGMENT: i32 = 17;
    /// `CURLUE_NO_ZONEID`.
    pub const NO_ZONEID: i32 = 18;
    /// `CURLUE_BAD_HOSTNAME`.
    pub const BAD_HOSTNAME: i32 = 21;
    /// `CURLUE_BAD_IPV6`.
    pub const BAD_IPV6: i32 = 22;
    /// `CURLUE_BAD_SCHEME`.
    pub const BAD_SCHEME: i32 = 27;
}

/// `CURLUPART_*`.
mod part {
    /// `CURLUPART_URL`.
    pub const URL: i32 = 0;
    /// `CURLUPART_SCHEME`.
    pub const SCHEME: i32 = 1;
    /// `CURLUPART_USER`.
    pub const USER: i32 = 2;
    /// `CURLUPART_PASSWORD`.
    pub const PASSWORD: i32 = 3;
    /// `CURLUPART_OPTIONS`.
    pub const OPTIONS: i32 = 4;
    /// `CURLUPART_HOST`.
    pub const HOST: i32 = 5;
    /// `CURLUPART_PORT`.
    pub const PORT: i32 = 6;
    /// `CURLUPART_PATH`.
    pub const PATH: i32 = 7;
    /// `CURLUPART_QUERY`.
    pub const QUERY: i32 = 8;
    /// `CURLUPART_FRAGMENT`.
    pub const FRAGMENT: i32 = 9;
    /// `CURLUPART_ZONEID`.
    pub const ZONEID: i32 = 10;
}

/// `CURLU_*` flags.
mod flag {
    /// `CURLU_DEFAULT_PORT`.
    pub const DEFAULT_PORT: u32 = 1 << 0;
    /// `CURLU_NO_DEFAULT_PORT`.
    pub const NO_DEFAULT_PORT: u32 = 1 << 1;
    /// `CURLU_DEFAULT_SCHEME`.
    pub const DEFAULT_SCHEME: u32 = 1 << 2;
    /// `CURLU_NON_SUPPORT_SCHEME`.
    pub const NON_SUPPORT_SCHEME: u32 = 1 << 3;
    /// `CURLU_PATH_AS_IS`.
    pub const PATH_AS_IS: u32 = 1 << 4;
    /// `CURLU_DISALLOW_USER`.
    pub const DISALLOW_USER: u32 = 1 << 5;
    /// `CURLU_URLDECODE`.
    pub const URLDECODE: u32 = 1 << 6;
    /// `CURLU_URLENCODE`.
    pub const URLENCODE: u32 = 1 << 7;
    /// `CURLU_APPENDQUERY`.
    pub const APPENDQUERY: u32 = 1 << 8;
    /// `CURLU_GUESS_SCHEME`.
    pub const GUESS_SCHEME: u32 = 1 << 9;
    /// `CURLU_ALLOW_SPACE`.
    pub const ALLOW_SPACE: u32 = 1 << 11;
}

/// Tells a live URL handle from garbage.
const MAGIC: u32 = 0x5552_4c48;

/// What a `CURLU *` points to: the parts, percent-encoded as written.
#[derive(Clone, Default, Debug, PartialEq, Eq)]
struct Parts {
    scheme: Option<String>,
    user: Option<String>,
    password: Option<String>,
    options: Option<String>,
    host: Option<String>,
    zoneid: Option<String>,
    port: Option<String>,
    path: Option<String>,
    query: Option<String>,
    fragment: Option<String>,
}

/// A `CURLU` handle.
struct UrlHandle {
    magic: u32,
    parts: Parts,
}

/// The handle behind a `CURLU *`.
///
/// # Safety
///
/// `p` is NULL or a live handle from `curl_url`/`curl_url_dup`.
unsafe fn handle<'a>(p: *mut c_void) -> Option<&'a mut UrlHandle> {
    // SAFETY: per the function's contract.
    let h = unsafe { p.cast::<UrlHandle>().as_mut()? };
    (h.magic == MAGIC).then_some(h)
}

/// A scheme handover speaks.
fn supported(scheme: &str) -> bool {
    Scheme::from_name(scheme).is_some()
}

/// A default port of a known scheme.
fn default_port(scheme: &str) -> Option<u16> {
    Scheme::from_name(scheme).map(Scheme::default_port)
}

/// A valid scheme name: a letter, then letters, digits, `+`, `-`, `.`.
fn valid_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && s.len() <= 40
}

/// Checks a host as libcurl's `hostname_check`/IPv6 parsing; the host
/// (brackets kept for IPv6) and the zone id.
fn check_host(host: &str) -> Result<(String, Option<String>), i32> {
    if host.is_empty() {
        return Err(code::NO_HOST);
    }
    if let Some(inner) = host.strip_prefix('[') {
        let Some(inner) = inner.strip_suffix(']') else {
            return Err(code::BAD_IPV6);
        };
        let (addr, zone) = match inner.split_once('%') {
            Some((addr, zone)) => {
                let zone = zone.strip_prefix("25").unwrap_or(zone);
                if zone.is_empty()
                    || !zone
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
                {
                    return Err(code::BAD_IPV6);
                }
                (addr, Some(zone.to_string()))
            }
            None => (inner, None),
        };
        let parsed: std::net::Ipv6Addr = addr.parse().map_err(|_| code::BAD_IPV6)?;
        return Ok((format!("[{parsed}]"), zone));
    }
    if host
        .bytes()
        .any(|b| b < 0x20 || b" \r\n\t/:#?!@{}[]\\$'\"^`*<>=;,+&()".contains(&b))
    {
        return Err(code::BAD_HOSTNAME);
    }
    Ok((host.to_string(), None))
}

/// Checks a port: digits, 0..=65535 (libcurl allows 0 in a URL).
fn check_port(port: &str) -> Result<String, i32> {
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(code::BAD_PORT_NUMBER);
    }
    let n: u32 = port.parse().map_err(|_| code::BAD_PORT_NUMBER)?;
    if n > 65535 {
        return Err(code::BAD_PORT_NUMBER);
    }
    Ok(n.to_string())
}

/// Removes `.` and `..` segments (RFC 3986 5.2.4), as libcurl's
/// `dedotdotify`.
fn remove_dots(path: &str) -> String {
    if !path.contains("/.") && !path.starts_with('.') {
        return path.to_string();
    }
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len() - 1;
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if path.starts_with('/') && !joined.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
}

/// Percent-encodes what libcurl's `CURLU_URLENCODE` encodes: bytes that
/// are not unreserved (spaces as `%20`; in a query `=` and `&` kept, as
/// libcurl keeps them when appending `name=value`).
fn encode(text: &str, keep: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.as_bytes().contains(&b) {
            out.push(b as char);
        } else {
            // Lower-case hex, as libcurl writes it (curl's tests 58, 1221).
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// `text` with the hex digits of its `%XX` escapes in lower case: libcurl
/// stores a part set without `CURLU_URLENCODE` so (found by curl's test
/// 58, whose tool appends an upper-case escaped file name to the path).
fn lower_escapes(text: &str) -> String {
    let mut out = text.as_bytes().to_vec();
    let mut i = 0;
    while i + 2 < out.len() {
        if out[i] == b'%' && out[i + 1].is_ascii_hexdigit() && out[i + 2].is_ascii_hexdigit() {
            out[i + 1] = out[i + 1].to_ascii_lowercase();
            out[i + 2] = out[i + 2].to_ascii_lowercase();
            i += 3;
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// Parses a whole URL into parts.
fn parse_url(input: &str, flags: u32) -> Result<Parts, i32> {
    if input.is_empty() {
        return Err(code::MALFORMED_INPUT);
    }
    let allow_space = flags & flag::ALLOW_SPACE != 0;
    if input
        .bytes()
        .any(|b| b < 0x20 || b == 0x7f || (b == b' ' && !allow_space))
    {
        return Err(code::MALFORMED_INPUT);
    }
    let mut parts = Parts::default();
    let rest = match input.find("://") {
        Some(i) if valid_scheme(&input[..i]) => {
            let scheme = input[..i].to_ascii_lowercase();
            if flags & flag::NON_SUPPORT_SCHEME == 0 && !supported(&scheme) {
                return Err(code::UNSUPPORTED_SCHEME);
            }
            parts.scheme = Some(scheme);
            &input[i + 3..]
        }
        _ => {
            if flags & (flag::GUESS_SCHEME | flag::DEFAULT_SCHEME) == 0 {
                return Err(code::BAD_SCHEME);
            }
            input
        }
    };
    // Fragment, then query, then the authority / path split.
    let (rest, fragment) = match rest.split_once('#') {
        Some((r, f)) => (r, Some(f.to_string())),
        None => (rest, None),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q.to_string())),
        None => (rest, None),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if let Some(userinfo) = userinfo {
        if flags & flag::DISALLOW_USER != 0 {
            return Err(code::USER_NOT_ALLOWED);
        }
        let (user, password) = match userinfo.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (userinfo, None),
        };
        parts.user = Some(user.to_string());
        parts.password = password.map(str::to_string);
    }
    // host[:port] with IPv6 brackets.
    let (host, port) = if hostport.starts_with('[') {
        match hostport.find(']') {
            Some(end) => {
                let after = &hostport[end + 1..];
                let port = match after.strip_prefix(':') {
                    Some(p) => Some(p),
                    None if after.is_empty() => None,
                    None => return Err(code::BAD_IPV6),
                };
                (&hostport[..=end], port)
            }
            None => return Err(code::BAD_IPV6),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let (host, zone) = check_host(host)?;
    parts.host = Some(host);
    parts.zoneid = zone;
    if let Some(port) = port.filter(|p| !p.is_empty()) {
        parts.port = Some(check_port(port)?);
    }
    if parts.scheme.is_none() {
        let guessed = if flags & flag::GUESS_SCHEME != 0 {
            handover_proto::url::guess_scheme(parts.host.as_deref().unwrap_or(""))
        } else {
            "https"
        };
        parts.scheme = Some(guessed.to_string());
    }
    let path = if flags & flag::PATH_AS_IS != 0 {
        path.to_string()
    } else {
        remove_dots(path)
    };
    parts.path = Some(if path.is_empty() { "/".into() } else { path });
    parts.query = query;
    parts.fragment = fragment;
    Ok(parts)
}

/// Resolves a reference without a scheme against `base` (libcurl's
/// relative redirect handling): `//host...`, `/path`, `?query`, or a path
/// relative to the base's directory.
fn resolve(base: &Parts, reference: &str, flags: u32) -> Result<Parts, i32> {
    let scheme = base.scheme.clone().unwrap_or_else(|| "http".into());
    if let Some(rest) = reference.strip_prefix("//") {
        return parse_url(
            &format!("{scheme}://{rest}"),
            flags | flag::NON_SUPPORT_SCHEME,
        );
    }
    let mut out = base.clone();
    out.fragment = None;
    let (rest, fragment) = match reference.split_once('#') {
        Some((r, f)) => (r, Some(f.to_string())),
        None => (reference, None),
    };
    out.fragment = fragment;
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q.to_string())),
        None => (rest, None),
    };
    if path.is_empty() {
        if query.is_some() {
            out.query = query;
        }
        return Ok(out);
    }
    out.query = query;
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        let base_path = base.path.as_deref().unwrap_or("/");
        let dir = &base_path[..=base_path.rfind('/').unwrap_or(0)];
        format!("{dir}{path}")
    };
    out.path = Some(if flags & flag::PATH_AS_IS != 0 {
        joined
    } else {
        remove_dots(&joined)
    });
    Ok(out)
}

impl Parts {
    /// The whole URL (`CURLUPART_URL`).
    fn url(&self, flags: u32) -> Result<String, i32> {
        let scheme = match &self.scheme {
            Some(s) => s.clone(),
            None if flags & flag::DEFAULT_SCHEME != 0 => "https".into(),
            None => return Err(code::NO_SCHEME),
        };
        let host = self.host.as_deref().ok_or(code::NO_HOST)?;
        let mut url = format!("{scheme}://");
        if let Some(user) = &self.user {
            url.push_str(user);
            if let Some(password) = &self.password {
                url.push(':');
                url.push_str(password);
            }
            if let Some(options) = &self.options {
                url.push(';');
                url.push_str(options);
            }
            url.push('@');
        }
        match (&self.zoneid, host.strip_suffix(']')) {
            (Some(zone), Some(inner)) => url.push_str(&format!("{inner}%25{zone}]")),
            _ => url.push_str(host),
        }
        if let Some(port) = self.port_for(&scheme, flags) {
            url.push(':');
            url.push_str(&port);
        }
        let path = self.path.as_deref().unwrap_or("/");
        if !path.starts_with('/') {
            url.push('/');
        }
        url.push_str(path);
        if let Some(query) = self.query.as_deref().filter(|q| !q.is_empty()) {
            url.push('?');
            url.push_str(query);
        }
        if let Some(fragment) = &self.fragment {
            url.push('#');
            url.push_str(fragment);
        }
        Ok(url)
    }

    /// The port to show: the stored one (minus a default one with
    /// `CURLU_NO_DEFAULT_PORT`), or the scheme's default with
    /// `CURLU_DEFAULT_PORT`.
    fn port_for(&self, scheme: &str, flags: u32) -> Option<String> {
        let default = default_port(scheme).map(|p| p.to_string());
        match &self.port {
            Some(p) if flags & flag::NO_DEFAULT_PORT != 0 && Some(p) == default.as_ref() => None,
            Some(p) => Some(p.clone()),
            None if flags & flag::DEFAULT_PORT != 0 => default,
            None => None,
        }
    }

    /// One part, as `curl_url_get` answers it.
    fn get(&self, which: c_int, flags: u32) -> Result<String, i32> {
        let decode = |s: &Option<String>, missing: i32| -> Result<String, i32> {
            let s = s.as_ref().ok_or(missing)?;
            if flags & flag::URLDECODE != 0 {
                let bytes = crate::misc::percent_decode(s.as_bytes());
                if bytes.iter().any(|&b| b < 0x20) {
                    return Err(code::URLDECODE);
                }
                String::from_utf8(bytes).map_err(|_| code::URLDECODE)
            } else {
                Ok(s.clone())
            }
        };
        match which {
            part::URL => self.url(flags),
            part::SCHEME => match &self.scheme {
                Some(s) => Ok(s.clone()),
                None if flags & flag::DEFAULT_SCHEME != 0 => Ok("https".into()),
                None => Err(code::NO_SCHEME),
            },
            part::USER => decode(&self.user, code::NO_USER),
            part::PASSWORD => decode(&self.password, code::NO_PASSWORD),
            part::OPTIONS => decode(&self.options, code::NO_OPTIONS),
            part::HOST => decode(&self.host, code::NO_HOST),
            part::ZONEID => self.zoneid.clone().ok_or(code::NO_ZONEID),
            part::PORT => {
                let scheme = self.scheme.as_deref().unwrap_or("");
                self.port_for(scheme, flags).ok_or(code::NO_PORT)
            }
            part::PATH => {
                let path = self.path.clone().unwrap_or_else(|| "/".into());
                decode(&Some(path), code::OK)
            }
            part::QUERY => decode(&self.query, code::NO_QUERY),
            part::FRAGMENT => decode(&self.fragment, code::NO_FRAGMENT),
            _ => Err(code::UNKNOWN_PART),
        }
    }

    /// Sets one part (`None` clears it), as `curl_url_set`.
    fn set(&mut self, which: c_int, value: Option<&str>, flags: u32) -> Result<(), i32> {
        let Some(value) = value else {
            match which {
                part::URL => *self = Parts::default(),
                part::SCHEME => self.scheme = None,
                part::USER => self.user = None,
                part::PASSWORD => self.password = None,
                part::OPTIONS => self.options = None,
                part::HOST => self.host = None,
                part::ZONEID => self.zoneid = None,
                part::PORT => self.port = None,
                part::PATH => self.path = None,
                part::QUERY => self.query = None,
                part::FRAGMENT => self.fragment = None,
                _ => return Err(code::UNKNOWN_PART),
            }
            return Ok(());
        };
        let encoded = |keep: &str| {
            if flags & flag::URLENCODE != 0 {
                encode(value, keep)
            } else {
                lower_escapes(value)
            }
        };
        if which != part::URL && value.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err(code::MALFORMED_INPUT);
        }
        match which {
            part::URL => {
                let has_scheme = value.find("://").is_some_and(|i| valid_scheme(&value[..i]));
                *self = if !has_scheme && self.host.is_some() {
                    resolve(self, value, flags)?
                } else {
                    parse_url(value, flags)?
                };
            }
            part::SCHEME => {
                if !valid_scheme(value) {
                    return Err(code::BAD_SCHEME);
                }
                if flags & flag::NON_SUPPORT_SCHEME == 0 && !supported(value) {
                    return Err(code::UNSUPPORTED_SCHEME);
                }
                self.scheme = Some(value.to_ascii_lowercase());
            }
            part::USER => self.user = Some(encoded("")),
            part::PASSWORD => self.password = Some(encoded("")),
            part::OPTIONS => self.options = Some(encoded("")),
            part::HOST => {
                let (host, zone) = check_host(&encoded("[]:%"))?;
                self.host = Some(host);
                if zone.is_some() {
                    self.zoneid = zone;
                }
            }
            part::ZONEID => self.zoneid = Some(value.to_string()),
            part::PORT => self.port = Some(check_port(value)?),
            part::PATH => {
                let path = encoded("/:@!$&'()*+,;=");
                self.path = Some(if path.starts_with('/') {
                    path
                } else {
                    format!("/{path}")
                });
            }
            part::QUERY => {
                let q = if flags & flag::URLENCODE != 0 {
                    // name=value: the first '=' stays, spaces become '+'.
                    match value.split_once('=') {
                        Some((n, v)) if flags & flag::APPENDQUERY != 0 => {
                            format!("{}={}", encode(n, ""), encode(v, "")).replace("%20", "+")
                        }
                        _ => encode(value, "=&").replace("%20", "+"),
                    }
                } else {
                    lower_escapes(value)
                };
                self.query = match (&self.query, flags & flag::APPENDQUERY != 0) {
                    (Some(old), true) if !old.is_empty() => Some(format!("{old}&{q}")),
                    _ => Some(q),
                };
            }
            part::FRAGMENT => self.fragment = Some(encoded("")),
            _ => return Err(code::UNKNOWN_PART),
        }
        Ok(())
    }
}

/// `curl_url`: a new, empty URL handle.
#[no_mangle]
pub extern "C" fn curl_url() -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        Box::into_raw(Box::new(UrlHandle {
            magic: MAGIC,
            parts: Parts::default(),
        }))
        .cast::<c_void>()
    })
}

/// `curl_url_cleanup`: frees the handle (NULL is fine).
///
/// # Safety
///
/// `url` is NULL or a live handle, not used again.
#[no_mangle]
pub unsafe extern "C" fn curl_url_cleanup(url: *mut c_void) {
    guard((), || {
        // SAFETY: per the function's contract.
        if let Some(h) = unsafe { handle(url) } {
            h.magic = 0;
            // SAFETY: from Box::into_raw in curl_url/_dup, freed once.
            drop(unsafe { Box::from_raw(std::ptr::from_mut(h)) });
        }
    })
}

/// `curl_url_dup`: a copy of the handle; NULL for a bad one.
///
/// # Safety
///
/// `url` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn curl_url_dup(url: *mut c_void) -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        // SAFETY: per the function's contract.
        match unsafe { handle(url) } {
            Some(h) => Box::into_raw(Box::new(UrlHandle {
                magic: MAGIC,
                parts: h.parts.clone(),
            }))
            .cast::<c_void>(),
            None => std::ptr::null_mut(),
        }
    })
}

/// `curl_url_get`: one part, `malloc`ed for `curl_free`, in `*out`.
///
/// # Safety
///
/// `url` is NULL or a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn curl_url_get(
    url: *mut c_void,
    which: c_int,
    out: *mut *mut c_char,
    flags: c_uint,
) -> c_int {
    guard(code::BAD_HANDLE, || {
        // SAFETY: per the function's contract.
        let Some(h) = (unsafe { handle(url) }) else {
            return code::BAD_HANDLE;
        };
        // SAFETY: per the function's contract.
        let Some(out) = (unsafe { out.as_mut() }) else {
            return code::BAD_PARTPOINTER;
        };
        *out = std::ptr::null_mut();
        match h.parts.get(which, flags) {
            Ok(text) => {
                let copy = crate::misc::malloc_copy(text.as_bytes());
                if copy.is_null() {
                    return code::OUT_OF_MEMORY;
                }
                *out = copy;
                code::OK
            }
            Err(c) => c,
        }
    })
}

/// `curl_url_set`: sets (or, with NULL, clears) one part. On an error the
/// handle is unchanged, as in libcurl.
///
/// # Safety
///
/// `url` is NULL or a live handle; `content` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn curl_url_set(
    url: *mut c_void,
    which: c_int,
    content: *const c_char,
    flags: c_uint,
) -> c_int {
    guard(code::BAD_HANDLE, || {
        // SAFETY: per the function's contract.
        let Some(h) = (unsafe { handle(url) }) else {
            return code::BAD_HANDLE;
        };
        let value = if content.is_null() {
            None
        } else {
            // SAFETY: a C string, per the contract.
            match unsafe { CStr::from_ptr(content) }.to_str() {
                Ok(s) => Some(s),
                Err(_) => return code::MALFORMED_INPUT,
            }
        };
        let mut parts = h.parts.clone();
        match parts.set(which, value, flags) {
            Ok(()) => {
                h.parts = parts;
                code::OK
            }
            Err(c) => c,
        }
    })
}

/// `curl_url_strerror`: libcurl's text for a `CURLUcode`.
#[no_mangle]
pub extern "C" fn curl_url_strerror(code: c_int) -> *const c_char {
    let text = match code {
        0 => c"No error",
        1 => c"An invalid CURLU pointer was passed as argument",
        2 => c"An invalid 'part' argument was passed as argument",
        3 => c"Malformed input to a URL function",
        4 => c"Port number was not a decimal number between 0 and 65535",
        5 => c"Unsupported URL scheme",
        6 => c"URL decode error, most likely because of rubbish in the input",
        7 => c"A memory function failed",
        8 => c"Credentials was passed in the URL when prohibited",
        9 => c"An unknown part ID was passed to a URL API function",
        10 => c"No scheme present",
        11 => c"No user present",
        12 => c"No password present",
        13 => c"No options present",
        14 => c"No host present",
        15 => c"No port number present",
        16 => c"No query present",
        17 => c"No fragment present",
        18 => c"No zoneid present",
        19 => c"Bad file:// URL",
        20 => c"Bad fragment",
        21 => c"Bad hostname",
        22 => c"Bad IPv6 address",
        23 => c"Bad login",
        24 => c"Bad password",
        25 => c"Bad path",
        26 => c"Bad query",
        27 => c"Bad scheme",
        28 => c"Unsupported number of slashes following scheme",
        29 => c"Bad user",
        30 => c"libcurl lacks IDN support",
        31 => c"A value or data field is larger than allowed",
        32 => c"Found a backslash where a forward slash was expected",
        _ => c"CURLUcode unknown",
    };
    text.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(input: &str, flags: u32) -> Result<String, i32> {
        parse_url(input, flags)?.url(0)
    }

    #[test]
    fn parses_and_rebuilds_urls_as_libcurl() {
        assert_eq!(
            url("http://a.b:8080/x/../y?q#f", 0).as_deref(),
            Ok("http://a.b:8080/y?q#f")
        );
        assert_eq!(
            url("https://u:p@host", 0).as_deref(),
            Ok("https://u:p@host/")
        );
        assert_eq!(
            url("example.com/p", flag::GUESS_SCHEME).as_deref(),
            Ok("http://example.com/p")
        );
        assert_eq!(url("example.com", 0), Err(code::BAD_SCHEME));
        assert_eq!(url("sftp://x/", 0), Err(code::UNSUPPORTED_SCHEME));
        assert_eq!(url("http://x:99999/", 0), Err(code::BAD_PORT_NUMBER));
        assert_eq!(url("http://[::1]:8/", 0).as_deref(), Ok("http://[::1]:8/"));
        assert_eq!(
            url("http://[fe80::1%25eth0]/", 0).as_deref(),
            Ok("http://[fe80::1%25eth0]/")
        );
        assert_eq!(url("http://a b/", 0), Err(code::MALFORMED_INPUT));
        let parts = parse_url("http://h/p?a=1", 0).unwrap();
        let mut p = parts.clone();
        p.set(
            part::QUERY,
            Some("b c=d e"),
            flag::APPENDQUERY | flag::URLENCODE,
        )
        .unwrap();
        assert_eq!(p.url(0).as_deref(), Ok("http://h/p?a=1&b+c=d+e"));
        assert_eq!(parts.get(part::PORT, 0), Err(code::NO_PORT));
        assert_eq!(
            parts.get(part::PORT, flag::DEFAULT_PORT).as_deref(),
            Ok("80")
        );
        let mut r = parts;
        r.set(part::URL, Some("../z?k"), 0).unwrap();
        assert_eq!(r.url(0).as_deref(), Ok("http://h/z?k"));
    }

    #[test]
    fn escapes_are_stored_in_lower_case_as_libcurl_stores_them() {
        // curl's test 58: the tool sets the path with an escaped file name.
        let mut p = parse_url("http://h/", 0).unwrap();
        p.set(part::PATH, Some("/we/want/58te%5B%5Dst.txt"), 0)
            .unwrap();
        assert_eq!(p.url(0).as_deref(), Ok("http://h/we/want/58te%5b%5dst.txt"));
        // curl's test 1221: --url-query encodes with lower-case hex.
        p.set(
            part::QUERY,
            Some("moo[]"),
            flag::APPENDQUERY | flag::URLENCODE,
        )
        .unwrap();
        assert_eq!(
            p.url(0).as_deref(),
            Ok("http://h/we/want/58te%5b%5dst.txt?moo%5b%5d")
        );
    }
}
