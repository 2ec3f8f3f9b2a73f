//! AWS Signature Version 4 (`CURLOPT_AWS_SIGV4`): the headers that sign one
//! request with an access key id (the user name) and a secret key (the
//! password), computed the way libcurl's `http_aws_sigv4.c` computes them,
//! so that a request signs the same on handover as on libcurl.
//!
//! ```text
//!   "aws:amz:us-east-1:s3" + URL host ──> SigV4::parse ──> providers, region, service
//!                                            (from `service.region.…` when not given)
//!   Request { method, path, query, Host, header lines, payload } + credentials + time
//!     ──> canonical request ──SHA-256──> string to sign
//!     ──> HMAC-SHA256 over date, region, service, "<provider1>4_request" ──> signing key
//!     ──> HMAC-SHA256(signing key, string to sign) ──> signature
//!     ──> Authorization, X-<Provider2>-Date (unless the user sends a date),
//!         x-<provider2>-content-sha256 (aws + s3, unless the user sends one)
//! ```
//!
//! libcurl's rules, some of which the AWS SDKs do differently:
//!
//! - The parameter is `provider1[:provider2[:region[:service]]]`, each part
//!   at most 64 bytes (the default `aws:amz`). A missing, empty or too long
//!   provider2 is provider1, and then region and service are not read.
//!   Without a service, the host name's first label is the service and, when
//!   no region was given either, its second label the region.
//! - The path is percent-encoded once more (every byte but the unreserved
//!   ones and `/`), except for the services `s3`, `s3-express` and
//!   `s3-outposts`. A byte the request line cannot carry as is (beyond
//!   ASCII) counts as the `%XX` libcurl sends for it.
//! - The query is split at `&` (empty parts dropped, at most 127 parts);
//!   each key and value is percent-decoded and encoded again (unreserved
//!   bytes bare, a bare `+` as `%20`, an encoded `+` stays `%2B`); the parts
//!   are sorted by key, then value; a part without a value reads `key=`.
//! - The signed headers are `host` (unless the user sends a `Host` line),
//!   the user's header lines that send a field, the date and, for S3, the
//!   content hash: names lowercased, runs of blanks in values made one
//!   space, sorted by name, repeated names joined with `,`.
//! - A user `X-<Provider2>-Date` header, else a user `Date` header, gives
//!   the time: when its value starts with 16 letters and digits
//!   (`20261201T123456Z`) those are the timestamp, otherwise the request is
//!   signed with an empty date, as libcurl signs it.
//! - The payload hash is the user's `x-<provider2>-content-sha256` value
//!   if there is one; else, for provider1 `aws` and service `s3`, the
//!   SHA-256 of a body known in advance or `UNSIGNED-PAYLOAD` for one that
//!   streams; else the SHA-256 of a body known in advance, or of nothing.
//! - A user `Authorization` line means the request is not signed at all.
//!
//! The time is an argument: nothing here reads the clock.

use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::Credentials;
use crate::http1::{is_tchar, parse_custom_headers, CustomHeader};

/// The longest provider, region or service libcurl takes, in bytes.
pub const MAX_PART_LEN: usize = 64;

/// A query of this many parts or more is refused, as libcurl refuses it.
pub const MAX_QUERY_PARTS: usize = 128;

/// The parameter libcurl uses when none (or an empty one) is given.
const DEFAULT_PARAM: &str = "aws:amz";

/// The payload hash S3 accepts for a body not known in advance.
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Why a request cannot be signed; each kind is one libcurl error code.
///
/// # Examples
///
/// ```
/// use handover_proto::auth::sigv4::{SigV4, SigV4Error};
///
/// let error = SigV4::parse(":amz", "example.com").unwrap_err();
/// assert!(matches!(error, SigV4Error::BadArgument(_)));
/// assert!(error.to_string().contains("first aws-sigv4 provider"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SigV4Error {
    /// The parameter, or a header line, cannot be used
    /// (`CURLE_BAD_FUNCTION_ARGUMENT`, 43).
    BadArgument(String),
    /// Neither the parameter nor the host name gives the service or the
    /// region (`CURLE_URL_MALFORMAT`, 3).
    NoScope(String),
    /// The query has too many parts (`CURLE_TOO_LARGE`, 100).
    TooLarge(String),
}

impl fmt::Display for SigV4Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SigV4Error::BadArgument(m) | SigV4Error::NoScope(m) | SigV4Error::TooLarge(m) => {
                f.write_str(m)
            }
        }
    }
}

impl std::error::Error for SigV4Error {}

/// The signer for one host: the providers, region and service from the
/// `CURLOPT_AWS_SIGV4` parameter and, where it is silent, the host name.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
///
/// use handover_proto::auth::sigv4::{Payload, Request, SigV4};
/// use handover_proto::auth::Credentials;
///
/// let signer = SigV4::parse("aws:amz", "sqs.eu-west-1.amazonaws.com")?;
/// assert_eq!((signer.service(), signer.region()), ("sqs", "eu-west-1"));
///
/// let request = Request {
///     method: "GET",
///     path: "/",
///     query: Some("Action=ListQueues"),
///     host: "sqs.eu-west-1.amazonaws.com",
///     headers: &[],
///     payload: Payload::Bytes(b""),
/// };
/// let credentials = Credentials { user: "AKIDEXAMPLE".into(), password: "secret".into() };
/// let time = UNIX_EPOCH + Duration::from_secs(1_764_592_496); // 2025-12-01T12:34:56Z
/// let signature = signer.sign(&request, &credentials, time)?.expect("no Authorization line");
/// let (name, value) = &signature.headers[0];
/// assert_eq!(name, "Authorization");
/// assert!(value.starts_with(
///     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20251201/eu-west-1/sqs/aws4_request, \
///      SignedHeaders=host;x-amz-date, Signature="
/// ));
/// assert_eq!(signature.headers[1], ("X-Amz-Date".to_string(), "20251201T123456Z".to_string()));
/// # Ok::<(), handover_proto::auth::sigv4::SigV4Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigV4 {
    provider1: String,
    provider2: String,
    region: String,
    service: String,
    service_from_host: bool,
    region_from_host: bool,
}

/// The request to sign, as it will go out.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The method on the request line.
    pub method: &'a str,
    /// The URL's path as the request line carries it, without the query.
    pub path: &'a str,
    /// The URL's query without the `?`; `None` when the URL has no `?`.
    pub query: Option<&'a str>,
    /// The value of the `Host` header the request sends unless a user
    /// line replaces it (`example.com`, `127.0.0.1:8080`, `[::1]:8443`).
    pub host: &'a str,
    /// The `CURLOPT_HTTPHEADER` lines, read as the request writer reads
    /// them (`Name: value`, `Name:` removes, `Name;` sends no value).
    pub headers: &'a [String],
    /// The body.
    pub payload: Payload<'a>,
}

/// The request's body, as far as it is known before the request goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload<'a> {
    /// Known in advance (`CURLOPT_POSTFIELDS`; empty for a request without
    /// a body, or an upload of size 0): its SHA-256 is signed.
    Bytes(&'a [u8]),
    /// Read from the application while the request goes out: S3 signs
    /// `UNSIGNED-PAYLOAD`, other services the hash of nothing (libcurl).
    Streamed,
}

/// A request's signature: the header lines to add, and the texts it was
/// made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// The lines to add, in libcurl's order: `Authorization`, then
    /// `X-<Provider2>-Date` and `x-<provider2>-content-sha256` when the
    /// signer made them (not when the user sends them).
    pub headers: Vec<(String, String)>,
    /// The canonical request (AWS's term): what the signature covers.
    pub canonical_request: String,
    /// The string the signing key signs.
    pub string_to_sign: String,
}

impl SigV4 {
    /// Reads `param` (`provider1[:provider2[:region[:service]]]`; empty
    /// means `aws:amz`) as libcurl does, taking the service and region
    /// from `host` (the URL's host name) where the parameter has none.
    ///
    /// An empty or too long provider1 is `BadArgument`; so are a CR, LF or
    /// NUL anywhere and a provider2 that cannot be part of a header name
    /// (libcurl would send a broken header). No service or region to be
    /// found is `NoScope`.
    pub fn parse(param: &str, host: &str) -> Result<SigV4, SigV4Error> {
        if param.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(SigV4Error::BadArgument(
                "aws-sigv4: the parameter contains CR, LF or NUL".into(),
            ));
        }
        let line = if param.is_empty() {
            DEFAULT_PARAM
        } else {
            param
        };
        let (provider1, rest) = word(line, b':').ok_or_else(|| {
            SigV4Error::BadArgument(format!(
                "first aws-sigv4 provider cannot be empty or longer than {MAX_PART_LEN} bytes \
                 (parameter {param:?})"
            ))
        })?;
        let mut provider2 = provider1;
        let mut region = "";
        let mut service = "";
        // Each part needs the one before it: a part that is empty or too
        // long ends the reading there, as in libcurl.
        if let Some((p2, rest)) = next_word(rest, b':') {
            provider2 = p2;
            if let Some((r, rest)) = next_word(rest, b':') {
                region = r;
                if let Some((s, _)) = next_word(rest, b':') {
                    service = s;
                }
            }
        }
        if !provider2.bytes().all(is_tchar) {
            return Err(SigV4Error::BadArgument(format!(
                "aws-sigv4: provider {provider2:?} cannot be part of a header name"
            )));
        }
        let (mut service_from_host, mut region_from_host) = (false, false);
        if service.is_empty() {
            let (label, rest) = word(host, b'.')
                .and_then(|(label, rest)| Some((label, rest.strip_prefix('.')?)))
                .ok_or_else(|| {
                    SigV4Error::NoScope(format!(
                        "aws-sigv4: service missing in parameters and hostname {host:?}"
                    ))
                })?;
            service = label;
            service_from_host = true;
            if region.is_empty() {
                region = word(rest, b'.')
                    .filter(|(_, after)| after.starts_with('.'))
                    .map(|(label, _)| label)
                    .ok_or_else(|| {
                        SigV4Error::NoScope(format!(
                            "aws-sigv4: region missing in parameters and hostname {host:?}"
                        ))
                    })?;
                region_from_host = true;
            }
        }
        Ok(SigV4 {
            provider1: provider1.to_owned(),
            provider2: provider2.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            service_from_host,
            region_from_host,
        })
    }

    /// Provider1: the algorithm's prefix (`AWS4-HMAC-SHA256`).
    pub fn provider1(&self) -> &str {
        &self.provider1
    }

    /// Provider2: the headers' prefix (`X-Amz-Date`).
    pub fn provider2(&self) -> &str {
        &self.provider2
    }

    /// The region of the credential scope.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The service of the credential scope.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Whether the service came from the host name.
    pub fn service_from_host(&self) -> bool {
        self.service_from_host
    }

    /// Whether the region came from the host name.
    pub fn region_from_host(&self) -> bool {
        self.region_from_host
    }

    /// Signs `request` with `credentials` (the access key id as the user,
    /// the secret key as the password) at `time`. `None` when the user's
    /// header lines carry an `Authorization` line: libcurl then leaves the
    /// request alone.
    pub fn sign(
        &self,
        request: &Request<'_>,
        credentials: &Credentials,
        time: SystemTime,
    ) -> Result<Option<Signature>, SigV4Error> {
        let user_lines = parse_custom_headers(request.headers, "header line")
            .map_err(|e| SigV4Error::BadArgument(format!("aws-sigv4: {e}")))?;
        let user_line = |name: &str| {
            user_lines
                .iter()
                .find(|line| line.name().eq_ignore_ascii_case(name))
        };
        if user_line("Authorization").is_some() {
            return Ok(None);
        }
        let provider2_lower = self.provider2.to_ascii_lowercase();
        // Header lines handover adds after Authorization.
        let mut added: Vec<(String, String)> = Vec::new();
        // (lowercase name, canonical value) of every signed header.
        let mut signed: Vec<(String, String)> = Vec::new();
        if user_line("Host").is_none() {
            signed.push(("host".to_owned(), collapse_blanks(request.host)));
        }

        let content_name = format!("x-{}-content-sha256", self.provider2);
        let payload_hash = match user_line(&content_name) {
            Some(line) => value_of(line).to_owned(),
            None => {
                let s3 = self.provider1.eq_ignore_ascii_case("aws")
                    && self.service.eq_ignore_ascii_case("s3");
                let hash = match request.payload {
                    Payload::Bytes(body) => sha256_hex(body),
                    Payload::Streamed if s3 => UNSIGNED_PAYLOAD.to_owned(),
                    Payload::Streamed => sha256_hex(b""),
                };
                if s3 {
                    signed.push((content_name.to_ascii_lowercase(), hash.clone()));
                    added.push((content_name, hash.clone()));
                }
                hash
            }
        };

        // Only the first user Host line goes out (the request writer's
        // rule), so only it is signed.
        let mut host_seen = false;
        for line in &user_lines {
            let CustomHeader::Send { name, value, .. } = line else {
                continue;
            };
            if name.eq_ignore_ascii_case("Host") {
                if host_seen {
                    continue;
                }
                host_seen = true;
            }
            signed.push((name.to_ascii_lowercase(), collapse_blanks(value)));
        }

        let date_name = date_header_name(&self.provider2);
        let timestamp = match user_line(&date_name).or_else(|| user_line("Date")) {
            Some(line) => {
                let value = value_of(line);
                let stamp_len = value.bytes().take_while(u8::is_ascii_alphanumeric).count();
                match value.get(..16) {
                    Some(stamp) if stamp_len == 16 => stamp.to_owned(),
                    _ => String::new(),
                }
            }
            None => {
                let stamp = timestamp(time);
                signed.push((format!("x-{provider2_lower}-date"), stamp.clone()));
                added.insert(0, (date_name, stamp.clone()));
                stamp
            }
        };
        let date = timestamp.get(..8).unwrap_or_default();

        // Stable: lines of one name keep their order before being joined.
        signed.sort_by(|a, b| a.0.cmp(&b.0));
        let mut merged: Vec<(String, String)> = Vec::with_capacity(signed.len());
        for (name, value) in signed {
            match merged.last_mut() {
                Some((last, joined)) if *last == name => {
                    joined.push(',');
                    joined.push_str(&value);
                }
                _ => merged.push((name, value)),
            }
        }
        let mut canonical_headers = String::new();
        for (name, value) in &merged {
            let _ = writeln!(canonical_headers, "{name}:{value}");
        }
        let signed_headers = merged
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(";");

        let encode_path_again =
            !matches!(self.service.as_str(), "s3" | "s3-express" | "s3-outposts");
        let canonical_request = format!(
            "{}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{payload_hash}",
            request.method,
            canonical_path(request.path, encode_path_again),
            canonical_query(request.query)?,
        );

        let provider1_upper = self.provider1.to_ascii_uppercase();
        let request_type = format!("{}4_request", self.provider1.to_ascii_lowercase());
        let scope = format!("{date}/{}/{}/{request_type}", self.region, self.service);
        let string_to_sign = format!(
            "{provider1_upper}4-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
            sha256_hex(canonical_request.as_bytes())
        );
        let key = signing_key(
            &provider1_upper,
            &credentials.password,
            date,
            &self.region,
            &self.service,
            &request_type,
        )?;
        let signature = hex(&hmac_sha256(&key, string_to_sign.as_bytes())?);
        let authorization = format!(
            "{provider1_upper}4-HMAC-SHA256 Credential={}/{scope}, \
             SignedHeaders={signed_headers}, Signature={signature}",
            escape_user(&credentials.user)
        );
        added.insert(0, ("Authorization".to_owned(), authorization));
        Ok(Some(Signature {
            headers: added,
            canonical_request,
            string_to_sign,
        }))
    }
}

/// A word up to `delim` or the end of `s`, and what follows it: at least
/// one byte and at most [`MAX_PART_LEN`] (libcurl's `curlx_str_until`).
fn word(s: &str, delim: u8) -> Option<(&str, &str)> {
    let end = s.bytes().position(|b| b == delim).unwrap_or(s.len());
    if end == 0 || end > MAX_PART_LEN {
        return None;
    }
    Some((s.get(..end)?, s.get(end..)?))
}

/// The word after a `delim` that must start `s`.
fn next_word(s: &str, delim: u8) -> Option<(&str, &str)> {
    word(s.strip_prefix(char::from(delim))?, delim)
}

/// `X-` and provider2 with its first letter upper case, the rest lower:
/// `amz` → `X-Amz-Date`.
fn date_header_name(provider2: &str) -> String {
    let lower = provider2.to_ascii_lowercase();
    let mut chars = lower.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase());
    format!("X-{}{}-Date", first.unwrap_or_default(), chars.as_str())
}

/// A user line's value: empty for a removal (`Name:`).
fn value_of<'s>(line: &CustomHeader<'s>) -> &'s str {
    match line {
        CustomHeader::Send { value, .. } => value,
        CustomHeader::Remove { .. } => "",
    }
}

/// The value with leading and trailing blanks dropped and each run of
/// blanks inside made one space.
fn collapse_blanks(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for part in value.split([' ', '\t']).filter(|part| !part.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
    }
    out
}

/// RFC 3986 unreserved: what is never percent-encoded.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn push_percent(out: &mut String, b: u8) {
    let _ = write!(out, "%{b:02X}");
}

/// The canonical URI. `encode_again`: every byte but the unreserved ones
/// and `/` is percent-encoded, `%` included (all services but S3's).
fn canonical_path(path: &str, encode_again: bool) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        // libcurl sends these as %XX (CURLU_URLENCODE): sign them so.
        let sent_encoded = b <= b' ' || b >= 0x7f;
        match (sent_encoded, encode_again) {
            (true, true) => {
                out.push_str("%25");
                let _ = write!(out, "{b:02X}");
            }
            (true, false) => push_percent(&mut out, b),
            (false, true) if !is_unreserved(b) && b != b'/' => push_percent(&mut out, b),
            (false, _) => out.push(char::from(b)),
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// The canonical query string (see the module docs).
fn canonical_query(query: Option<&str>) -> Result<String, SigV4Error> {
    let Some(query) = query else {
        return Ok(String::new());
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    for part in query.split('&').filter(|part| !part.is_empty()) {
        if pairs.len() + 1 >= MAX_QUERY_PARTS {
            return Err(SigV4Error::TooLarge(format!(
                "aws-sigv4: the query has {MAX_QUERY_PARTS} parts or more; at most {} can be signed",
                MAX_QUERY_PARTS - 1
            )));
        }
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        pairs.push((normalize_query_part(key), normalize_query_part(value)));
    }
    pairs.sort();
    let mut out = String::new();
    for (key, value) in &pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    Ok(out)
}

/// A query key or value decoded and encoded again: unreserved bytes bare,
/// a bare `+` as `%20` (a space), an encoded `+` left as `%2B`, the rest
/// as `%XX`.
fn normalize_query_part(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        let decoded = match (b, bytes.get(at + 1), bytes.get(at + 2)) {
            (b'%', Some(&high), Some(&low)) => hex_value(high)
                .zip(hex_value(low))
                .map(|(high, low)| high << 4 | low),
            _ => None,
        };
        match decoded {
            Some(b'+') => out.push_str("%2B"),
            Some(byte) if is_unreserved(byte) => out.push(char::from(byte)),
            Some(byte) => push_percent(&mut out, byte),
            None if is_unreserved(b) => out.push(char::from(b)),
            None if b == b'+' => out.push_str("%20"),
            None => push_percent(&mut out, b),
        }
        at += if decoded.is_some() { 3 } else { 1 };
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|v| u8::try_from(v).ok())
}

/// The access key id as it goes into `Credential=`: every byte but the
/// unreserved ones percent-encoded (libcurl's `curl_escape`), so that no
/// user name can break the header.
fn escape_user(user: &str) -> String {
    let mut out = String::with_capacity(user.len());
    for b in user.bytes() {
        if is_unreserved(b) {
            out.push(char::from(b));
        } else {
            push_percent(&mut out, b);
        }
    }
    out
}

/// The key that signs: HMAC-SHA256 chained over the date, region, service
/// and request type, starting from `<PROVIDER1>4<secret>`.
fn signing_key(
    provider1_upper: &str,
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
    request_type: &str,
) -> Result<[u8; 32], SigV4Error> {
    let mut key = hmac_sha256(
        format!("{provider1_upper}4{secret}").as_bytes(),
        date.as_bytes(),
    )?;
    for part in [region, service, request_type] {
        key = hmac_sha256(&key, part.as_bytes())?;
    }
    Ok(key)
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<[u8; 32], SigV4Error> {
    // HMAC takes keys of any length: this error cannot happen.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .map_err(|_| SigV4Error::BadArgument("aws-sigv4: HMAC-SHA256 refused the key".into()))?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().into())
}

fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Lower-case hex, as AWS writes hashes and signatures.
fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// `YYYYMMDDTHHMMSSZ` in UTC (ISO 8601 basic format); a time before 1970
/// counts as 1970.
fn timestamp(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (year, month, day) = civil_from_days(secs / 86_400);
    let in_day = secs % 86_400;
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        in_day / 3600,
        in_day / 60 % 60,
        in_day % 60
    )
}

/// The Gregorian (year, month, day) of a count of days since 1970-01-01.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Count from 0000-03-01, so that a leap day is the last day of its
    // year; the calendar repeats every 400 years (146 097 days).
    let from_march = days + 719_468;
    let era = from_march / 146_097;
    let day_of_era = from_march % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months from March, each five-month run 153 days long.
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests;
