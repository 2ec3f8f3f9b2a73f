//! Authentication with proxies and servers: challenges, method choice,
//! Basic, Digest, NTLM, and the rounds of it ([`AuthMemory`]), shared by
//! the tunnel's 407 loop and the server's 401 loop. For a proxy:
//!
//! ```text
//!   CONNECT ──(single method allowed: sent pre-emptively)──> 2xx ──> Done
//!      │
//!      └──> 407 + Proxy-Authenticate ──> parse_challenges ──> pick
//!              ├─ Basic ────> basic::authorization ──────────────> CONNECT again
//!              ├─ Digest ───> DigestResponder::authorization ────> CONNECT again
//!              │                 (stale=true: new challenge, answer again)
//!              └─ NTLM ─────> ntlm::negotiate_message (Type 1) ──> 407 + Type 2
//!                               ──> ntlm::authenticate_message (Type 3) ──> CONNECT again
//!                               (same connection for every NTLM leg)
//! ```
//!
//! Method choice follows libcurl (`Curl_http_auth_act()`): of the methods the
//! proxy offered and the application allowed (`CURLOPT_PROXYAUTH`), take
//! Negotiate, then Digest, then NTLM, then Basic. Bearer is never used for a
//! proxy.
//!
//! AWS Signature Version 4 ([`sigv4`], `CURLOPT_AWS_SIGV4`) is no round of
//! challenges: the signer computes the headers of each request from the
//! request itself, once, before it goes out.
//!
//! Nothing here draws random numbers or reads the clock: the Digest client
//! nonce, the NTLM client challenge, the NTLM timestamp and the SigV4 time
//! are arguments.

use std::fmt;

pub mod basic;
mod challenge;
pub mod digest;
pub mod ntlm;
mod rounds;
pub mod sigv4;

pub use challenge::{parse_challenges, Challenge};
pub use rounds::{mask_names, AuthMemory, Entropy, Refusal, MAX_AUTH_ROUNDS};

/// libcurl's `CURLAUTH_*` bits, as given to `CURLOPT_PROXYAUTH`.
///
/// # Examples
///
/// ```
/// use handover_proto::auth::{AuthMask, Method};
///
/// let mask = AuthMask::DIGEST.union(AuthMask::NTLM);
/// assert!(mask.contains(Method::Ntlm) && !mask.contains(Method::Basic));
/// assert_eq!(mask.preemptive_method(), None); // two methods: wait for the 407
/// assert_eq!(AuthMask::BASIC.preemptive_method(), Some(Method::Basic));
/// assert!(!AuthMask::ANYSAFE.contains(Method::Basic));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AuthMask(pub u32);

impl AuthMask {
    /// `CURLAUTH_NONE`.
    pub const NONE: AuthMask = AuthMask(0);
    /// `CURLAUTH_BASIC`.
    pub const BASIC: AuthMask = AuthMask(1);
    /// `CURLAUTH_DIGEST`.
    pub const DIGEST: AuthMask = AuthMask(2);
    /// `CURLAUTH_NEGOTIATE` (also `CURLAUTH_GSSNEGOTIATE`).
    pub const NEGOTIATE: AuthMask = AuthMask(4);
    /// `CURLAUTH_NTLM`.
    pub const NTLM: AuthMask = AuthMask(8);
    /// `CURLAUTH_DIGEST_IE`: Digest the way old Internet Explorer did it.
    /// libcurl turns this bit into [`AuthMask::DIGEST`] when it is set, so
    /// [`AuthMask::contains`] treats it as allowing Digest.
    pub const DIGEST_IE: AuthMask = AuthMask(16);
    /// `CURLAUTH_BEARER`.
    pub const BEARER: AuthMask = AuthMask(64);
    /// `CURLAUTH_AWS_SIGV4`.
    pub const AWS_SIGV4: AuthMask = AuthMask(128);
    /// `CURLAUTH_ONLY`: probe without credentials first, then use only the
    /// one method it is combined with.
    pub const ONLY: AuthMask = AuthMask(0x8000_0000);
    /// `CURLAUTH_ANY`: every method except the IE flavour of Digest.
    pub const ANY: AuthMask = AuthMask(!Self::DIGEST_IE.0);
    /// `CURLAUTH_ANYSAFE`: every method that does not send the password in
    /// the clear.
    pub const ANYSAFE: AuthMask = AuthMask(!(Self::BASIC.0 | Self::DIGEST_IE.0));

    /// Whether `m` is allowed by this mask. Digest is allowed by either of
    /// [`AuthMask::DIGEST`] and [`AuthMask::DIGEST_IE`].
    pub fn contains(self, m: Method) -> bool {
        self.0 & m.bits() != 0
    }

    /// The one method this mask names, if it names exactly one of Basic,
    /// Digest, NTLM and Negotiate; other bits ([`AuthMask::ONLY`],
    /// Bearer, AWS-SigV4) are ignored.
    pub fn single_method(self) -> Option<Method> {
        let mut named = Method::ALL.into_iter().filter(|&m| self.contains(m));
        match (named.next(), named.next()) {
            (Some(m), None) => Some(m),
            _ => None,
        }
    }

    /// The method libcurl sends before any challenge arrives: only when
    /// the mask is exactly one method's bit. [`AuthMask::ONLY`] or any
    /// other extra bit makes libcurl probe without credentials first, and
    /// so does a mask of several methods (`ANY`).
    pub fn preemptive_method(self) -> Option<Method> {
        let normalized = if self.0 & Self::DIGEST_IE.0 != 0 {
            (self.0 & !Self::DIGEST_IE.0) | Self::DIGEST.0
        } else {
            self.0
        };
        Method::ALL.into_iter().find(|&m| normalized == m.bit().0)
    }

    /// The union of two masks.
    pub fn union(self, other: AuthMask) -> AuthMask {
        AuthMask(self.0 | other.0)
    }
}

/// An authentication method handover can answer a proxy with.
///
/// # Examples
///
/// ```
/// use handover_proto::auth::{AuthMask, Method};
///
/// assert_eq!(Method::from_scheme("ntlm"), Some(Method::Ntlm));
/// assert_eq!(Method::Digest.name(), "Digest");
/// assert_eq!(Method::Digest.bit(), AuthMask::DIGEST);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// RFC 7617: user and password in base64.
    Basic,
    /// RFC 7616 (and RFC 2617, RFC 2069): a hash of the password.
    Digest,
    /// MS-NLMP, NTLMv2 only: a three-message exchange on one connection.
    Ntlm,
    /// RFC 4559 SPNEGO: needs a GSS-API/SSPI provider outside this crate.
    Negotiate,
}

impl Method {
    /// Every method, in libcurl's order of preference.
    pub const ALL: [Method; 4] = [
        Method::Negotiate,
        Method::Digest,
        Method::Ntlm,
        Method::Basic,
    ];

    /// The scheme name as sent in headers.
    pub fn name(self) -> &'static str {
        match self {
            Method::Basic => "Basic",
            Method::Digest => "Digest",
            Method::Ntlm => "NTLM",
            Method::Negotiate => "Negotiate",
        }
    }

    /// The method's `CURLAUTH_*` bit.
    pub fn bit(self) -> AuthMask {
        match self {
            Method::Basic => AuthMask::BASIC,
            Method::Digest => AuthMask::DIGEST,
            Method::Ntlm => AuthMask::NTLM,
            Method::Negotiate => AuthMask::NEGOTIATE,
        }
    }

    /// The method a challenge's scheme names (case-insensitive), if any.
    pub fn from_scheme(scheme: &str) -> Option<Method> {
        Method::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(scheme))
    }

    /// Every mask bit that allows this method.
    fn bits(self) -> u32 {
        match self {
            Method::Digest => AuthMask::DIGEST.0 | AuthMask::DIGEST_IE.0,
            other => other.bit().0,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The mask of methods the challenges offer (`CURLINFO_PROXYAUTH_AVAIL`).
/// A `Bearer` challenge sets [`AuthMask::BEARER`], as in libcurl, although
/// no [`Method`] answers it.
pub fn offered_mask(challenges: &[Challenge]) -> AuthMask {
    challenges
        .iter()
        .fold(AuthMask::NONE, |mask, c| match c.method {
            Some(m) => mask.union(m.bit()),
            None if c.scheme.eq_ignore_ascii_case("Bearer") => mask.union(AuthMask::BEARER),
            None => mask,
        })
}

/// libcurl's choice among the methods offered and allowed: Negotiate
/// (only when `negotiate_available`), then Digest, then NTLM, then Basic.
/// The caller only asks when it has credentials, which Digest, NTLM and
/// Basic need.
pub fn pick(
    challenges: &[Challenge],
    allowed: AuthMask,
    negotiate_available: bool,
) -> Option<Method> {
    let offered = offered_mask(challenges);
    Method::ALL.into_iter().find(|&m| {
        offered.contains(m)
            && allowed.contains(m)
            && (m != Method::Negotiate || negotiate_available)
    })
}

message_error! {
    /// A challenge that cannot be answered, or an answer that cannot be built.
    ///
    /// # Examples
    ///
    /// ```
    /// use handover_proto::auth::{digest::DigestChallenge, parse_challenges};
    ///
    /// let challenges = parse_challenges(["Digest realm=\"corp\""]);
    /// let error = DigestChallenge::from_challenge(&challenges[0]).unwrap_err();
    /// assert_eq!(error.to_string(), "Digest challenge without a nonce");
    /// ```
    AuthError
}

/// A user name and password (`CURLOPT_PROXYUSERPWD`). `Debug` hides the
/// password so it cannot end up in a log by accident.
///
/// # Examples
///
/// ```
/// use handover_proto::auth::Credentials;
///
/// let credentials = Credentials { user: "CORP\\alice".into(), password: "secret".into() };
/// assert!(!format!("{credentials:?}").contains("secret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name; for NTLM it may carry a domain as `DOMAIN\user`.
    pub user: String,
    /// The password.
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// Refuses text that would break the header line it is written into.
fn check_header_text(what: &str, value: &str) -> Result<(), AuthError> {
    if value.chars().any(|c| matches!(c, '\r' | '\n' | '\0')) {
        return Err(AuthError(format!(
            "{what} contains a line break or NUL and cannot go into a header"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offered(header: &str) -> Vec<Challenge> {
        parse_challenges([header])
    }

    #[test]
    fn mask_constants_have_libcurls_values() {
        assert_eq!(AuthMask::ANY.0, 0xFFFF_FFEF);
        assert_eq!(AuthMask::ANYSAFE.0, 0xFFFF_FFEE);
        assert_eq!(AuthMask::ONLY.0, 0x8000_0000);
        assert_eq!(AuthMask::BEARER.0, 64);
        assert_eq!(AuthMask::AWS_SIGV4.0, 128);
    }

    #[test]
    fn digest_ie_allows_digest() {
        assert!(AuthMask::DIGEST_IE.contains(Method::Digest));
        assert!(!AuthMask::DIGEST_IE.contains(Method::Basic));
        assert!(AuthMask::ANY.contains(Method::Digest));
        assert!(!AuthMask::ANYSAFE.contains(Method::Basic));
    }

    #[test]
    fn single_method_needs_exactly_one_of_the_four() {
        let cases = [
            (AuthMask::BASIC, Some(Method::Basic)),
            (AuthMask::DIGEST, Some(Method::Digest)),
            (AuthMask::DIGEST_IE, Some(Method::Digest)),
            (AuthMask(2 | 16), Some(Method::Digest)),
            (AuthMask::NTLM, Some(Method::Ntlm)),
            (AuthMask::NEGOTIATE, Some(Method::Negotiate)),
            (AuthMask(1 | 0x8000_0000), Some(Method::Basic)),
            (AuthMask(8 | 64), Some(Method::Ntlm)),
            (AuthMask::NONE, None),
            (AuthMask::BEARER, None),
            (AuthMask(1 | 2), None),
            (AuthMask::ANY, None),
            (AuthMask::ANYSAFE, None),
        ];
        for (mask, want) in cases {
            assert_eq!(mask.single_method(), want, "{mask:?}");
        }
    }

    #[test]
    fn preemptive_method_is_an_exact_single_bit() {
        let cases = [
            (AuthMask::BASIC, Some(Method::Basic)),
            (AuthMask::DIGEST_IE, Some(Method::Digest)),
            (AuthMask::NTLM, Some(Method::Ntlm)),
            (AuthMask(1 | 0x8000_0000), None),
            (AuthMask(8 | 64), None),
            (AuthMask::ANY, None),
            (AuthMask::NONE, None),
        ];
        for (mask, want) in cases {
            assert_eq!(mask.preemptive_method(), want, "{mask:?}");
        }
    }

    #[test]
    fn method_names_and_bits() {
        for m in Method::ALL {
            assert_eq!(Method::from_scheme(m.name()), Some(m));
            assert_eq!(Method::from_scheme(&m.name().to_uppercase()), Some(m));
            assert!(m.bit().contains(m));
        }
        assert_eq!(Method::from_scheme("Bearer"), None);
        assert_eq!(Method::Ntlm.to_string(), "NTLM");
    }

    #[test]
    fn offered_mask_collects_every_scheme_including_bearer() {
        let challenges = parse_challenges([
            "Basic realm=\"a\", Digest realm=\"b\", nonce=\"n\"",
            "NTLM",
            "Bearer realm=\"c\"",
            "Unknown foo=bar",
        ]);
        assert_eq!(offered_mask(&challenges), AuthMask(1 | 2 | 8 | 64));
        assert_eq!(offered_mask(&[]), AuthMask::NONE);
    }

    #[test]
    fn pick_follows_libcurls_order() {
        let all = "Basic realm=\"x\", NTLM, Digest realm=\"x\", nonce=\"n\", Negotiate";
        // (offered, allowed, negotiate available, picked)
        let cases: &[(&str, AuthMask, bool, Option<Method>)] = &[
            (all, AuthMask::ANY, true, Some(Method::Negotiate)),
            (all, AuthMask::ANY, false, Some(Method::Digest)),
            (all, AuthMask::ANYSAFE, false, Some(Method::Digest)),
            (all, AuthMask(1 | 8), false, Some(Method::Ntlm)),
            (all, AuthMask::BASIC, true, Some(Method::Basic)),
            (all, AuthMask::DIGEST_IE, true, Some(Method::Digest)),
            (all, AuthMask(1 | 0x8000_0000), true, Some(Method::Basic)),
            (all, AuthMask::NONE, true, None),
            (all, AuthMask::BEARER, true, None),
            (
                "NTLM, Basic realm=\"x\"",
                AuthMask::ANY,
                true,
                Some(Method::Ntlm),
            ),
            (
                "Basic realm=\"x\"",
                AuthMask::ANY,
                true,
                Some(Method::Basic),
            ),
            ("Basic realm=\"x\"", AuthMask::ANYSAFE, true, None),
            ("Basic realm=\"x\"", AuthMask::DIGEST, true, None),
            ("Negotiate", AuthMask::ANY, false, None),
            (
                "Negotiate",
                AuthMask::NEGOTIATE,
                true,
                Some(Method::Negotiate),
            ),
            ("Bearer realm=\"x\"", AuthMask::ANY, true, None),
            ("", AuthMask::ANY, true, None),
        ];
        for &(header, allowed, negotiate, want) in cases {
            assert_eq!(
                pick(&offered(header), allowed, negotiate),
                want,
                "offered {header:?}, allowed {allowed:?}, negotiate {negotiate}"
            );
        }
    }

    #[test]
    fn credentials_debug_hides_the_password() {
        let creds = Credentials {
            user: "alice".into(),
            password: "s3cret".into(),
        };
        let shown = format!("{creds:?}");
        assert!(shown.contains("alice"));
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn header_text_with_line_breaks_is_refused() {
        assert!(check_header_text("user", "a\r\nX-Evil: 1").is_err());
        assert!(check_header_text("user", "a\0").is_err());
        assert!(check_header_text("user", "J\u{e4}s\u{f8}n Doe").is_ok());
        let err = AuthError("boom".into());
        assert_eq!(err.to_string(), "boom");
    }
}
