//! The WebSocket opening handshake (RFC 6455 §4.1), client side.
//!
//! ```text
//!   client_key(16 random bytes) ──> upgrade_headers(key) ──> GET … HTTP/1.1
//!   response ──> check_upgrade(status, headers, key) ──┬──> Ok: frames from here on
//!                                                      ├──> Refused(status)       (not 101)
//!                                                      ├──> MissingUpgrade        (no Upgrade/Connection token)
//!                                                      └──> BadAccept             (wrong Sec-WebSocket-Accept)
//! ```
//!
//! libcurl only refuses a status other than 101 ("Refused WebSocket upgrade:
//! `<code>`", `CURLE_HTTP_RETURNED_ERROR`) and does not verify
//! `Sec-WebSocket-Accept`; RFC 6455 §4.1 requires the client to check the
//! `Upgrade`, `Connection` and `Sec-WebSocket-Accept` fields, and
//! [`check_upgrade`] does. An engine that wants libcurl's leniency can act
//! on [`UpgradeError::Refused`] alone.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The GUID RFC 6455 appends to the key before hashing.
pub const ACCEPT_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Key` value: base64 of 16 caller-supplied random bytes.
pub fn client_key(random: [u8; 16]) -> String {
    STANDARD.encode(random)
}

/// The `Sec-WebSocket-Accept` value a server must answer `key` with:
/// base64(SHA-1(key + [`ACCEPT_GUID`])).
pub fn accept_for(key: &str) -> String {
    let mut hash = Sha1::new();
    hash.update(key.as_bytes());
    hash.update(ACCEPT_GUID.as_bytes());
    STANDARD.encode(hash.finalize())
}

/// The upgrade request's WebSocket header fields, in libcurl's order
/// (`Curl_ws_request`): `Upgrade`, `Sec-WebSocket-Version`,
/// `Sec-WebSocket-Key`, `Connection`. libcurl adds each only when the
/// application did not set its own; that choice is the caller's.
pub fn upgrade_headers(key: &str) -> [(&'static str, String); 4] {
    [
        ("Upgrade", "websocket".to_string()),
        ("Sec-WebSocket-Version", "13".to_string()),
        ("Sec-WebSocket-Key", key.to_string()),
        ("Connection", "Upgrade".to_string()),
    ]
}

/// Why the server's answer to the upgrade request does not open a WebSocket.
///
/// # Examples
///
/// RFC 6455's sample key and answer (§1.3):
///
/// ```
/// use handover_proto::ws::{accept_for, check_upgrade, client_key, upgrade_headers, UpgradeError};
///
/// let key = client_key(*b"the sample nonce"); // 16 random bytes in real use
/// assert_eq!(key, "dGhlIHNhbXBsZSBub25jZQ==");
/// assert_eq!(upgrade_headers(&key)[2], ("Sec-WebSocket-Key", key.clone()));
/// assert_eq!(accept_for(&key), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
///
/// let answer = |name: &str| match name.to_ascii_lowercase().as_str() {
///     "upgrade" => Some("websocket".to_string()),
///     "connection" => Some("Upgrade".to_string()),
///     "sec-websocket-accept" => Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".to_string()),
///     _ => None,
/// };
/// assert_eq!(check_upgrade(101, answer, &key), Ok(()));
/// assert_eq!(check_upgrade(200, answer, &key), Err(UpgradeError::Refused(200)));
/// assert_eq!(UpgradeError::Refused(200).code(), 22);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpgradeError {
    /// The status was not 101 (libcurl: `CURLE_HTTP_RETURNED_ERROR`, 22).
    Refused(u16),
    /// `Sec-WebSocket-Accept` was missing or did not match the key.
    BadAccept {
        /// The value [`accept_for`] computes from the key sent.
        expected: String,
        /// The value received, if any.
        got: Option<String>,
    },
    /// A 101 without `Upgrade: websocket` or without the `upgrade` token in
    /// `Connection`.
    MissingUpgrade,
}

impl UpgradeError {
    /// The `CURLcode` to fail the transfer with: 22 for a refusal, as
    /// libcurl; 8 (`CURLE_WEIRD_SERVER_REPLY`) for a 101 that breaks
    /// RFC 6455, which libcurl does not check.
    pub fn code(&self) -> u32 {
        match self {
            UpgradeError::Refused(_) => 22,
            UpgradeError::BadAccept { .. } | UpgradeError::MissingUpgrade => 8,
        }
    }
}

impl fmt::Display for UpgradeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpgradeError::Refused(status) => write!(f, "Refused WebSocket upgrade: {status}"),
            UpgradeError::BadAccept {
                expected,
                got: Some(got),
            } => write!(
                f,
                "WebSocket upgrade: Sec-WebSocket-Accept is {got:?}, expected {expected:?}"
            ),
            UpgradeError::BadAccept {
                expected,
                got: None,
            } => write!(
                f,
                "WebSocket upgrade: no Sec-WebSocket-Accept in the 101 response \
                 (expected {expected:?})"
            ),
            UpgradeError::MissingUpgrade => f.write_str(
                "WebSocket upgrade: 101 response without \"Upgrade: websocket\" and \
                 \"Connection: upgrade\"",
            ),
        }
    }
}

impl std::error::Error for UpgradeError {}

/// Checks the response to the upgrade request sent with `key`: status 101,
/// `Upgrade` naming the `websocket` token, `Connection` naming the `upgrade`
/// token (both case-insensitive, in comma-separated lists), and
/// `Sec-WebSocket-Accept` equal to [`accept_for`]`(key)`. `get` looks a
/// header field up by name (case-insensitively, all fields of that name
/// joined with commas), so any response head type can be used.
///
/// # Errors
///
/// The first failed check, in that order.
pub fn check_upgrade(
    status: u16,
    get: impl Fn(&str) -> Option<String>,
    key: &str,
) -> Result<(), UpgradeError> {
    if status != 101 {
        return Err(UpgradeError::Refused(status));
    }
    if !has_token(get("Upgrade"), "websocket") || !has_token(get("Connection"), "upgrade") {
        return Err(UpgradeError::MissingUpgrade);
    }
    let expected = accept_for(key);
    let got = get("Sec-WebSocket-Accept").map(|value| value.trim().to_string());
    if got.as_deref() != Some(expected.as_str()) {
        return Err(UpgradeError::BadAccept { expected, got });
    }
    Ok(())
}

fn has_token(value: Option<String>, token: &str) -> bool {
    value.is_some_and(|value| {
        value
            .split(',')
            .any(|item| item.trim_matches([' ', '\t']).eq_ignore_ascii_case(token))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Garbage;

    const RFC_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
    const RFC_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    fn lookup<'a>(fields: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            let values: Vec<&str> = fields
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
                .collect();
            (!values.is_empty()).then(|| values.join(", "))
        }
    }

    #[test]
    fn rfc_6455_sample_key_and_accept() {
        // RFC 6455 §1.3 / §4.2.2: the nonce is the 16 bytes "the sample nonce".
        assert_eq!(client_key(*b"the sample nonce"), RFC_KEY);
        assert_eq!(accept_for(RFC_KEY), RFC_ACCEPT);
        assert_eq!(client_key([0; 16]), "AAAAAAAAAAAAAAAAAAAAAA==");
    }

    #[test]
    fn upgrade_headers_follow_libcurl_order() {
        let names: Vec<&str> = upgrade_headers(RFC_KEY).iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "Upgrade",
                "Sec-WebSocket-Version",
                "Sec-WebSocket-Key",
                "Connection"
            ]
        );
        assert_eq!(upgrade_headers(RFC_KEY)[2].1, RFC_KEY);
    }

    /// (status, header fields, expected result)
    type UpgradeCase<'a> = (u16, Vec<(&'a str, &'a str)>, Result<(), UpgradeError>);

    #[test]
    fn upgrade_responses_are_checked_in_order() {
        let good: &[(&str, &str)] = &[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", RFC_ACCEPT),
        ];
        let wrong_accept = || UpgradeError::BadAccept {
            expected: RFC_ACCEPT.to_string(),
            got: Some("AAAA".to_string()),
        };
        let cases: Vec<UpgradeCase> = vec![
            (101, good.to_vec(), Ok(())),
            (
                101,
                vec![
                    ("upgrade", "WebSocket"),
                    ("CONNECTION", "keep-alive, \tUPGRADE "),
                    ("sec-websocket-accept", " s3pPLMBiTxaQ9kYGzzhZRbK+xOo= "),
                ],
                Ok(()),
            ),
            (
                101,
                vec![
                    ("Upgrade", "h2c"),
                    ("Upgrade", "websocket"),
                    ("Connection", "close"),
                    ("Connection", "upgrade"),
                    ("Sec-WebSocket-Accept", RFC_ACCEPT),
                ],
                Ok(()),
            ),
            (200, good.to_vec(), Err(UpgradeError::Refused(200))),
            (401, vec![], Err(UpgradeError::Refused(401))),
            (
                101,
                vec![
                    ("Connection", "Upgrade"),
                    ("Sec-WebSocket-Accept", RFC_ACCEPT),
                ],
                Err(UpgradeError::MissingUpgrade),
            ),
            (
                101,
                vec![
                    ("Upgrade", "websockets"),
                    ("Connection", "Upgrade"),
                    ("Sec-WebSocket-Accept", RFC_ACCEPT),
                ],
                Err(UpgradeError::MissingUpgrade),
            ),
            (
                101,
                vec![
                    ("Upgrade", "websocket"),
                    ("Connection", "keep-alive"),
                    ("Sec-WebSocket-Accept", RFC_ACCEPT),
                ],
                Err(UpgradeError::MissingUpgrade),
            ),
            (
                101,
                vec![
                    ("Upgrade", "websocket"),
                    ("Connection", "Upgrade"),
                    ("Sec-WebSocket-Accept", "AAAA"),
                ],
                Err(wrong_accept()),
            ),
            (
                101,
                vec![("Upgrade", "websocket"), ("Connection", "Upgrade")],
                Err(UpgradeError::BadAccept {
                    expected: RFC_ACCEPT.to_string(),
                    got: None,
                }),
            ),
        ];
        for (status, fields, expected) in cases {
            assert_eq!(
                check_upgrade(status, lookup(&fields), RFC_KEY),
                expected,
                "{status} {fields:?}"
            );
        }
    }

    #[test]
    fn upgrade_errors_say_what_and_carry_curl_codes() {
        assert_eq!(
            UpgradeError::Refused(200).to_string(),
            "Refused WebSocket upgrade: 200"
        );
        assert_eq!(UpgradeError::Refused(200).code(), 22);
        let bad = UpgradeError::BadAccept {
            expected: RFC_ACCEPT.into(),
            got: Some("x".into()),
        };
        assert!(bad.to_string().contains(RFC_ACCEPT), "{bad}");
        assert_eq!(bad.code(), 8);
        assert!(UpgradeError::MissingUpgrade.to_string().contains("Upgrade"));
    }

    #[test]
    fn garbage_headers_never_panic() {
        let mut garbage = Garbage::new(0x101);
        for _ in 0..2000 {
            let len = (garbage.next_u64() % 40) as usize;
            let bytes = garbage.bytes(len);
            let value = String::from_utf8_lossy(&bytes).into_owned();
            let key = String::from_utf8_lossy(&garbage.bytes(24)).into_owned();
            let status = garbage.next_u64() as u16 % 3 + 100;
            let _ = check_upgrade(status, |_| Some(value.clone()), &key);
            let _ = accept_for(&value);
        }
    }
}
