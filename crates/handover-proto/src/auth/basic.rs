//! Basic authentication (RFC 7617): `Basic base64(user ":" password)`.
//!
//! The password travels in the clear (base64 is an encoding, not a cipher),
//! which is why `CURLAUTH_ANYSAFE` leaves Basic out.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// The header value `Basic <base64(user:password)>`, with the bytes of
/// both strings as given (UTF-8), as libcurl sends them.
pub fn authorization(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        let cases = [
            // RFC 7617 §2 and RFC 2617 §2.
            (
                "Aladdin",
                "open sesame",
                "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
            ),
            // RFC 7617 §2.1, charset="UTF-8".
            ("test", "123\u{a3}", "Basic dGVzdDoxMjPCow=="),
            ("", "", "Basic Og=="),
            ("user", "pa:ss", "Basic dXNlcjpwYTpzcw=="),
        ];
        for (user, password, want) in cases {
            assert_eq!(authorization(user, password), want, "{user}:{password}");
        }
    }
}
