//! AWS Signature Version 4 (`auth::sigv4::SigV4::parse` and `sign`): the
//! `CURLOPT_AWS_SIGV4` parameter with the URL's host, and the request it
//! signs. These come from the application and the URL, not from a peer,
//! but no text may make them panic or put a broken header on the wire.
//!
//! Input: `[config][plan (unused)]` then lines: the parameter, the host,
//! the method, the path, the query, the access key id, header lines up to
//! an empty line; the rest is the body. Config bit 0: no query (no `?`);
//! bit 1: the body streams; bits 2-4: the time; bit 5: the signer used when
//! the parameter is refused (so that signing is always reached).
//!
//! Checks: parsing and signing are deterministic; a CR, LF or NUL in the
//! parameter is refused; a signer's parts are what libcurl takes (non-empty,
//! at most 64 bytes, provider2 a header-name token, parts from the host its
//! labels); an empty parameter is `aws:amz`. A request is left unsigned
//! exactly when a header line is an `Authorization` line. A signature's
//! header names are tokens and, when the parameter, host and header lines
//! hold no control character, its values hold none (a user's header name
//! is signed as written, as libcurl's, and `SignedHeaders` names it); the canonical request has AWS's shape
//! (path and query only unreserved bytes and `%XX`, query parts sorted,
//! header names lower case and sorted, `SignedHeaders` naming them, the
//! payload hash last), the string to sign hashes it, and the signature is
//! the HMAC-SHA256 chain recomputed here; the query's parts in another
//! order sign the same; the secret key shows nowhere.
#![no_main]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use handover_proto::auth::sigv4::{Payload, Request, SigV4, SigV4Error, MAX_PART_LEN};
use handover_proto::auth::Credentials;
use handover_proto_fuzz::oracle::{is_tchar, Input};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

/// The secret key: long and odd enough that no input holds it by chance.
const SECRET: &str = "fuzz-SECRET/k3y+wJalrXUtnFEMI";

fn times() -> [SystemTime; 8] {
    let at = |secs| UNIX_EPOCH + Duration::from_secs(secs);
    [
        at(0),
        at(1_764_592_496),
        at(951_868_799),
        at(4_107_542_400),
        at(253_402_300_799),
        // Past year 9999: the timestamp grows a digit, the date stays 8.
        at(1 << 40),
        UNIX_EPOCH - Duration::from_secs(1),
        at(1_440_938_160),
    ]
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Only unreserved bytes, `extra`, and `%` with two upper-case hex digits.
fn is_encoded(text: &str, extra: &[u8]) -> bool {
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        if b == b'%' {
            let hex = bytes.get(at + 1..at + 3);
            if !hex.is_some_and(|h| h.iter().all(|c| matches!(c, b'0'..=b'9' | b'A'..=b'F'))) {
                return false;
            }
            at += 3;
        } else if is_unreserved(b) || extra.contains(&b) {
            at += 1;
        } else {
            return false;
        }
    }
    true
}

/// `%XX` for every byte but the unreserved ones (the `Credential=` user).
fn escape(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if is_unreserved(b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Whether one of `lines` is an `Authorization` line as the request writer
/// reads header lines (`Name: value`, `Name:`, `Name;`).
fn has_authorization(lines: &[String]) -> bool {
    lines.iter().any(|line| {
        let name = match line.split_once(':') {
            Some((name, _)) => Some(name),
            None => line.strip_suffix(';').filter(|name| !name.contains(';')),
        };
        name.is_some_and(|name| name.eq_ignore_ascii_case("Authorization"))
    })
}

/// The checks on a parsed signer.
fn check_signer(signer: &SigV4, param: &str, host: &str) {
    for (part, from_param) in [
        (signer.provider1(), true),
        (signer.provider2(), true),
        (signer.region(), !signer.region_from_host()),
        (signer.service(), !signer.service_from_host()),
    ] {
        assert!(
            !part.is_empty() && part.len() <= MAX_PART_LEN,
            "part {part:?} of {param:?} on {host:?}"
        );
        // A part of the parameter ends at ':', one of the host at '.'.
        assert!(
            !from_param || !part.contains(':'),
            "part {part:?} of {param:?}"
        );
    }
    assert!(signer.provider2().bytes().all(is_tchar));
    let param = if param.is_empty() { "aws:amz" } else { param };
    assert!(param.starts_with(signer.provider1()));
    if signer.service_from_host() {
        assert!(!signer.service().contains('.'));
        let rest = host
            .strip_prefix(signer.service())
            .and_then(|rest| rest.strip_prefix('.'))
            .expect("the service is the host's first label");
        if signer.region_from_host() {
            assert!(!signer.region().contains('.'));
            assert!(rest.starts_with(&format!("{}.", signer.region())));
        }
    } else {
        assert!(!signer.region_from_host());
    }
}

/// Everything checked of one signature.
fn check_signature(
    signer: &SigV4,
    request: &Request<'_>,
    credentials: &Credentials,
    clean: bool,
    sig: &handover_proto::auth::sigv4::Signature,
) {
    let p1 = signer.provider1().to_ascii_uppercase();
    assert_eq!(sig.headers[0].0, "Authorization");
    for (name, value) in &sig.headers {
        assert!(
            !name.is_empty() && name.bytes().all(is_tchar),
            "name {name:?}"
        );
        if clean {
            assert!(!value.chars().any(char::is_control), "{name}: {value:?}");
        }
    }
    let everything = format!("{sig:?}");
    if !format!("{request:?}{}", credentials.user).contains(SECRET) {
        assert!(!everything.contains(SECRET), "the secret shows");
    }

    // The string to sign: algorithm, timestamp, scope, the request's hash.
    let lines: Vec<&str> = sig.string_to_sign.split('\n').collect();
    assert_eq!(lines.len(), 4, "{:?}", sig.string_to_sign);
    assert_eq!(lines[0], format!("{p1}4-HMAC-SHA256"));
    let (timestamp, scope) = (lines[1], lines[2]);
    assert_eq!(lines[3], hex(&Sha256::digest(&sig.canonical_request)));
    let date = timestamp.get(..8).unwrap_or_default();
    let request_type = format!("{}4_request", signer.provider1().to_ascii_lowercase());
    assert_eq!(
        scope,
        format!(
            "{date}/{}/{}/{request_type}",
            signer.region(),
            signer.service()
        )
    );
    let date_name = format!("x-{}-date", signer.provider2()).to_ascii_lowercase();
    if let Some((_, value)) = sig
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(&date_name))
    {
        assert_eq!(value, timestamp);
        let b = timestamp.as_bytes();
        assert!(b.len() >= 16 && b[b.len() - 8] == b'T' && b.ends_with(b"Z"));
    }

    // The signature, recomputed: HMAC-SHA256 over date, region, service
    // and request type from "<PROVIDER1>4<secret>", then over the string.
    let mut key = hmac_sha256(
        format!("{p1}4{}", credentials.password).as_bytes(),
        date.as_bytes(),
    );
    for part in [signer.region(), signer.service(), request_type.as_str()] {
        key = hmac_sha256(&key, part.as_bytes());
    }
    let signature = hex(&hmac_sha256(&key, sig.string_to_sign.as_bytes()));

    // The canonical request.
    let lines: Vec<&str> = sig.canonical_request.split('\n').collect();
    assert!(lines.len() >= 6, "{:?}", sig.canonical_request);
    assert_eq!(lines[0], request.method);
    let path = lines[1];
    assert!(!path.is_empty() && path.bytes().all(|b| b.is_ascii_graphic()));
    let s3 = matches!(signer.service(), "s3" | "s3-express" | "s3-outposts");
    if !s3 {
        assert!(is_encoded(path, b"/"), "path {path:?}");
    }
    let query = lines[2];
    if request.query.is_none() {
        assert!(query.is_empty());
    }
    let pairs: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !query.is_empty() || !p.is_empty())
        .map(|p| p.split_once('=').expect("a query part has its '='"))
        .collect();
    assert!(pairs
        .iter()
        .all(|(k, v)| is_encoded(k, b"") && is_encoded(v, b"")));
    assert!(pairs.windows(2).all(|w| w[0] <= w[1]), "query {query:?}");
    let blank = lines[3..]
        .iter()
        .position(|l| l.is_empty())
        .expect("a blank line")
        + 3;
    assert_eq!(blank, lines.len() - 3, "{:?}", sig.canonical_request);
    let names: Vec<&str> = lines[3..blank]
        .iter()
        .map(|l| l.split_once(':').expect("name:value").0)
        .collect();
    assert!(names.windows(2).all(|w| w[0] < w[1]), "headers {names:?}");
    // A user's header name is signed as written, token or not (libcurl's
    // too); handover's own are tokens.
    let user_tokens = request.headers.iter().all(|line| {
        let name = match line.split_once(':') {
            Some((name, _)) => name,
            None => line.strip_suffix(';').unwrap_or(line),
        };
        name.bytes().all(is_tchar)
    });
    assert!(names.iter().all(|n| n
        .bytes()
        .all(|b| (is_tchar(b) || !user_tokens) && !b.is_ascii_uppercase())));
    let signed_headers = names.join(";");
    assert_eq!(lines[blank + 1], signed_headers);
    let payload_hash = lines[blank + 2];
    let content_name = format!("x-{}-content-sha256", signer.provider2());
    if let Some((_, value)) = sig.headers.iter().find(|(name, _)| *name == content_name) {
        assert_eq!(payload_hash, value);
        match request.payload {
            Payload::Bytes(body) => assert_eq!(*value, hex(&Sha256::digest(body))),
            Payload::Streamed => assert_eq!(value, "UNSIGNED-PAYLOAD"),
        }
    }

    assert_eq!(
        sig.headers[0].1,
        format!(
            "{p1}4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, \
             Signature={signature}",
            escape(&credentials.user)
        )
    );
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let config = input.byte();
    let _ = input.plan();
    let param = input.line();
    let host = input.line();
    let method = input.line();
    let path = input.line();
    let query = input.line();
    let user = input.line();
    let mut headers = Vec::new();
    while !input.is_empty() {
        let line = input.line();
        if line.is_empty() {
            break;
        }
        headers.push(line);
    }
    let body = input.rest();

    let parsed = SigV4::parse(&param, &host);
    assert_eq!(parsed, SigV4::parse(&param, &host));
    if param.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        assert!(matches!(parsed, Err(SigV4Error::BadArgument(_))));
    }
    if param.is_empty() {
        assert_eq!(parsed, SigV4::parse("aws:amz", &host));
    }
    let signer = match parsed {
        Ok(signer) => {
            check_signer(&signer, &param, &host);
            signer
        }
        Err(error) => {
            assert!(!error.to_string().is_empty());
            let fallback = if config & 0x20 != 0 {
                "aws:amz:us-east-1:s3"
            } else {
                "goog:x:r:svc"
            };
            SigV4::parse(fallback, &host).expect("a parameter with a service needs no host")
        }
    };
    let clean = !format!("{param}{host}{}", headers.concat())
        .chars()
        .any(char::is_control);

    let request = Request {
        method: &method,
        path: &path,
        query: (config & 1 == 0).then_some(query.as_str()),
        host: &host,
        headers: &headers,
        payload: if config & 2 != 0 {
            Payload::Streamed
        } else {
            Payload::Bytes(body)
        },
    };
    let credentials = Credentials {
        user,
        password: SECRET.to_owned(),
    };
    let time = times()[usize::from((config >> 2) & 7)];
    let signed = signer.sign(&request, &credentials, time);
    assert_eq!(signed, signer.sign(&request, &credentials, time));

    // The query's parts in reverse order sign the same: they are sorted.
    let reversed: String = query.split('&').rev().collect::<Vec<_>>().join("&");
    let request_reversed = Request {
        query: request.query.map(|_| reversed.as_str()),
        ..request
    };
    assert_eq!(
        signed,
        signer.sign(&request_reversed, &credentials, time),
        "the query's order changed the signature"
    );

    match signed {
        Ok(None) => assert!(
            has_authorization(&headers),
            "unsigned without Authorization"
        ),
        Ok(Some(sig)) => {
            assert!(!has_authorization(&headers), "signed despite Authorization");
            check_signature(&signer, &request, &credentials, clean, &sig);
        }
        Err(error) => assert!(!error.to_string().contains(SECRET)),
    }
});
