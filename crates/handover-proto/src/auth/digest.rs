//! Digest authentication (RFC 7616, with RFC 2617 and RFC 2069 servers).
//!
//! ```text
//!   407 + Digest challenge ──> DigestChallenge::from_challenge ──> DigestResponder::new
//!        ──> authorization() (nc=1) ──> CONNECT ──> 2xx
//!                                           └──> 407, stale=true ──> new responder, answer again
//!                                           └──> 407, no stale ──> credentials refused
//! ```
//!
//! What is computed, with `H` the challenge's hash in lowercase hex:
//!
//! ```text
//!   HA1      = H(user ":" realm ":" password)
//!   HA1-sess = H(HA1 ":" nonce ":" cnonce)              (the -sess algorithms)
//!   HA2      = H(method ":" uri)                         (qop=auth, or no qop)
//!            = H(method ":" uri ":" H(""))                (qop=auth-int: CONNECT has no body)
//!   response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)
//!            = H(HA1 ":" nonce ":" HA2)                   (no qop: RFC 2069)
//!   username = H(user ":" realm) when the server asked for userhash=true
//! ```
//!
//! Like libcurl, `auth` is answered whenever the server offers it, and
//! `auth-int` only when it is all the server offers.

use md5::Md5;
use sha2::digest::Digest;
use sha2::{Sha256, Sha512_256};

use super::{check_header_text, AuthError, Challenge, Method};

/// The hash a Digest challenge names (without the `-sess` suffix, which is
/// [`DigestChallenge::sess`]).
///
/// # Examples
///
/// ```
/// use handover_proto::auth::digest::Algorithm;
///
/// assert_eq!(Algorithm::parse("sha-256-SESS"), Some((Algorithm::Sha256, true)));
/// assert_eq!(Algorithm::Sha512_256.name(false), "SHA-512-256");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// `MD5`, the default when the challenge names none.
    Md5,
    /// `SHA-256`.
    Sha256,
    /// `SHA-512-256`: SHA-512/256, the truncated SHA-512 with its own IV.
    Sha512_256,
}

impl Algorithm {
    /// The algorithm token, as written in an `algorithm=` parameter.
    pub fn name(self, sess: bool) -> &'static str {
        match (self, sess) {
            (Algorithm::Md5, false) => "MD5",
            (Algorithm::Md5, true) => "MD5-sess",
            (Algorithm::Sha256, false) => "SHA-256",
            (Algorithm::Sha256, true) => "SHA-256-sess",
            (Algorithm::Sha512_256, false) => "SHA-512-256",
            (Algorithm::Sha512_256, true) => "SHA-512-256-sess",
        }
    }

    /// Reads an `algorithm=` token (case-insensitive); returns the
    /// algorithm and whether it is a `-sess` variant.
    pub fn parse(token: &str) -> Option<(Algorithm, bool)> {
        [Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512_256]
            .into_iter()
            .flat_map(|a| [(a, false), (a, true)])
            .find(|&(a, sess)| a.name(sess).eq_ignore_ascii_case(token))
    }

    /// `H(data)` in lowercase hex.
    fn hex(self, data: &str) -> String {
        match self {
            Algorithm::Md5 => hex(&Md5::digest(data.as_bytes())),
            Algorithm::Sha256 => hex(&Sha256::digest(data.as_bytes())),
            Algorithm::Sha512_256 => hex(&Sha512_256::digest(data.as_bytes())),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// What a Digest challenge asks for (see the example on
/// [`DigestResponder`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestChallenge {
    /// `realm`; empty when the server sent none.
    pub realm: String,
    /// `nonce` (required).
    pub nonce: String,
    /// `opaque`, echoed back unchanged.
    pub opaque: Option<String>,
    /// The hash.
    pub algorithm: Algorithm,
    /// The `algorithm` token as the server wrote it (trimmed): the answer
    /// echoes it, as libcurl does; `None` when the challenge named none
    /// (MD5), and the answer then names none either.
    pub algorithm_token: Option<String>,
    /// Whether the algorithm is a `-sess` variant.
    pub sess: bool,
    /// The server offered `qop=auth`.
    pub qop_auth: bool,
    /// The server offered `qop=auth-int`.
    pub qop_auth_int: bool,
    /// `userhash=true`: send `H(user:realm)` instead of the user name.
    pub userhash: bool,
    /// `stale=true`: the previous answer was right but its nonce expired;
    /// the caller answers again with this challenge instead of giving up.
    pub stale: bool,
}

/// The `qop` an answer uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Qop {
    Auth,
    AuthInt,
}

impl DigestChallenge {
    /// Reads a `Digest` challenge. Refused: another scheme, no `nonce`, an
    /// unknown `algorithm`, or a `qop` list with neither `auth` nor
    /// `auth-int`. `charset=UTF-8` is accepted (strings are UTF-8 anyway).
    pub fn from_challenge(c: &Challenge) -> Result<DigestChallenge, AuthError> {
        if c.method != Some(Method::Digest) {
            return Err(AuthError(format!(
                "a {} challenge is not a Digest challenge",
                c.scheme
            )));
        }
        let nonce = c
            .param("nonce")
            .ok_or_else(|| AuthError("Digest challenge without a nonce".into()))?;
        let (algorithm, sess) = match c.param("algorithm") {
            None => (Algorithm::Md5, false),
            Some(token) => Algorithm::parse(token.trim())
                .ok_or_else(|| AuthError(format!("unsupported Digest algorithm {token:?}")))?,
        };
        let (mut qop_auth, mut qop_auth_int) = (false, false);
        if let Some(list) = c.param("qop") {
            for option in list.split(',').map(str::trim) {
                qop_auth |= option.eq_ignore_ascii_case("auth");
                qop_auth_int |= option.eq_ignore_ascii_case("auth-int");
            }
            if !qop_auth && !qop_auth_int {
                return Err(AuthError(format!("unsupported Digest qop {list:?}")));
            }
        }
        let is_true = |name| {
            c.param(name)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        };
        Ok(DigestChallenge {
            realm: c.param("realm").unwrap_or_default().to_string(),
            nonce: nonce.to_string(),
            opaque: c.param("opaque").map(str::to_string),
            algorithm,
            algorithm_token: c.param("algorithm").map(|token| token.trim().to_string()),
            sess,
            qop_auth,
            qop_auth_int,
            userhash: is_true("userhash"),
            stale: is_true("stale"),
        })
    }

    fn qop(&self) -> Option<Qop> {
        if self.qop_auth {
            Some(Qop::Auth)
        } else if self.qop_auth_int {
            Some(Qop::AuthInt)
        } else {
            None
        }
    }
}

/// Answers one Digest challenge, as many times as needed: the nonce count
/// goes up by one per answer.
///
/// # Examples
///
/// RFC 2617's worked example (§3.5):
///
/// ```
/// use handover_proto::auth::digest::{DigestChallenge, DigestResponder};
/// use handover_proto::auth::parse_challenges;
///
/// let header = "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", \
///               nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", \
///               opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
/// let challenge = DigestChallenge::from_challenge(&parse_challenges([header])[0])?;
/// let mut responder = DigestResponder::new(challenge);
/// let answer = responder.authorization(
///     "GET", "/dir/index.html", "Mufasa", "Circle Of Life", "0a4f113b",
/// )?;
/// assert!(answer.contains("response=\"6629fae49393a05397450978507c4ef1\""));
/// assert!(answer.contains("nc=00000001"));
/// assert_eq!(responder.nonce_count(), 1);
/// # Ok::<(), handover_proto::auth::AuthError>(())
/// ```
#[derive(Clone, Debug)]
pub struct DigestResponder {
    challenge: DigestChallenge,
    nc: u32,
}

impl DigestResponder {
    /// A responder for `challenge`; the first answer carries `nc=00000001`.
    pub fn new(challenge: DigestChallenge) -> Self {
        DigestResponder { challenge, nc: 0 }
    }

    /// The challenge being answered.
    pub fn challenge(&self) -> &DigestChallenge {
        &self.challenge
    }

    /// How many answers have been made.
    pub fn nonce_count(&self) -> u32 {
        self.nc
    }

    /// The full header value, for example
    /// `Digest username="u", realm="r", nonce="n", uri="/", cnonce="c",
    /// nc=00000001, qop=auth, response="...", opaque="o", algorithm=MD5`
    /// in libcurl's order (`algorithm` only when the challenge named one, as
    /// it wrote it; `userhash=true` last when asked for). `method` is the request
    /// method (`CONNECT`), `uri` the request target (`host:port` for
    /// CONNECT). `cnonce` is caller-made random text; it is sent when a
    /// `qop` or a `-sess` algorithm needs it. Without `qop` the answer is
    /// RFC 2069 style: no `qop`, `nc` or `cnonce`.
    pub fn authorization(
        &mut self,
        method: &str,
        uri: &str,
        user: &str,
        password: &str,
        cnonce: &str,
    ) -> Result<String, AuthError> {
        let c = &self.challenge;
        for (what, text) in [
            ("the user name", user),
            ("the request method", method),
            ("the request URI", uri),
            ("the client nonce", cnonce),
            ("the Digest realm", c.realm.as_str()),
            ("the Digest nonce", c.nonce.as_str()),
            ("the Digest opaque", c.opaque.as_deref().unwrap_or("")),
        ] {
            check_header_text(what, text)?;
        }
        let qop = c.qop();
        let needs_cnonce = qop.is_some() || c.sess;
        if needs_cnonce && cnonce.is_empty() {
            return Err(AuthError("Digest needs a non-empty client nonce".into()));
        }
        let nc = self
            .nc
            .checked_add(1)
            .ok_or_else(|| AuthError("Digest nonce count exhausted".into()))?;
        self.nc = nc;
        let nc = format!("{nc:08x}");

        let h = |data: &str| c.algorithm.hex(data);
        let mut ha1 = h(&format!("{user}:{}:{password}", c.realm));
        if c.sess {
            ha1 = h(&format!("{ha1}:{}:{cnonce}", c.nonce));
        }
        let ha2 = match qop {
            Some(Qop::AuthInt) => h(&format!("{method}:{uri}:{}", h(""))),
            _ => h(&format!("{method}:{uri}")),
        };
        let response = match qop {
            Some(q) => h(&format!(
                "{ha1}:{}:{nc}:{cnonce}:{}:{ha2}",
                c.nonce,
                qop_name(q)
            )),
            None => h(&format!("{ha1}:{}:{ha2}", c.nonce)),
        };
        let username = if c.userhash {
            h(&format!("{user}:{}", c.realm))
        } else {
            user.to_string()
        };

        // libcurl's order, byte for byte (curl's tests compare the line):
        // the qop fields before the response, opaque and algorithm after.
        let mut out = format!(
            "Digest username={}, realm={}, nonce={}, uri={}",
            quoted(&username),
            quoted(&c.realm),
            quoted(&c.nonce),
            quoted(uri),
        );
        if needs_cnonce {
            out.push_str(&format!(", cnonce={}", quoted(cnonce)));
        }
        if let Some(q) = qop {
            out.push_str(&format!(", nc={nc}, qop={}", qop_name(q)));
        }
        out.push_str(&format!(", response={}", quoted(&response)));
        if let Some(opaque) = &c.opaque {
            out.push_str(&format!(", opaque={}", quoted(opaque)));
        }
        if let Some(token) = &c.algorithm_token {
            out.push_str(&format!(", algorithm={token}"));
        }
        if c.userhash {
            out.push_str(", userhash=true");
        }
        Ok(out)
    }
}

fn qop_name(q: Qop) -> &'static str {
    match q {
        Qop::Auth => "auth",
        Qop::AuthInt => "auth-int",
    }
}

/// `value` as an RFC 9110 quoted-string.
fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::parse_challenges;

    fn challenge(header: &str) -> DigestChallenge {
        let parsed = parse_challenges([header]);
        assert_eq!(parsed.len(), 1, "{header}: {parsed:?}");
        DigestChallenge::from_challenge(&parsed[0]).unwrap_or_else(|e| panic!("{header}: {e}"))
    }

    /// The value of `name` in an Authorization header we produced.
    fn field(header: &str, name: &str) -> Option<String> {
        let parsed = parse_challenges([header]);
        parsed.first()?.param(name).map(str::to_string)
    }

    fn md5_hex(s: &str) -> String {
        hex(&Md5::digest(s.as_bytes()))
    }

    const RFC7616_NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    const RFC7616_OPAQUE: &str = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
    const RFC7616_CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

    fn rfc7616_challenge(algorithm: &str) -> String {
        format!(
            "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", \
             algorithm={algorithm}, nonce=\"{RFC7616_NONCE}\", opaque=\"{RFC7616_OPAQUE}\""
        )
    }

    #[test]
    fn rfc7616_3_9_1_md5_and_sha256() {
        let cases = [
            ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
            (
                "SHA-256",
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            ),
        ];
        for (algorithm, response) in cases {
            let mut responder = DigestResponder::new(challenge(&rfc7616_challenge(algorithm)));
            let header = responder
                .authorization(
                    "GET",
                    "/dir/index.html",
                    "Mufasa",
                    "Circle of Life",
                    RFC7616_CNONCE,
                )
                .unwrap();
            let want = format!(
                "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", \
                 nonce=\"{RFC7616_NONCE}\", uri=\"/dir/index.html\", \
                 cnonce=\"{RFC7616_CNONCE}\", nc=00000001, qop=auth, response=\"{response}\", \
                 opaque=\"{RFC7616_OPAQUE}\", algorithm={algorithm}"
            );
            assert_eq!(header, want);
        }
    }

    /// RFC 7616 §3.9.2. The RFC's printed values were computed with
    /// SHA-512 truncated to 256 bits, not with SHA-512/256 (FIPS 180-4,
    /// its own initial hash values), which §3.2 names and libcurl uses. This
    /// test reproduces the printed values with the truncated hash, spelled
    /// out, to show the inputs are the RFC's, then checks the answer made
    /// with the real SHA-512/256.
    #[test]
    fn rfc7616_3_9_2_sha512_256_with_userhash() {
        let user = "J\u{e4}s\u{f8}n Doe";
        let password = "Secret, or not?";
        let realm = "api@example.org";
        let nonce = "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK";
        let cnonce = "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v";
        let response = |h: &dyn Fn(&str) -> String| {
            let ha1 = h(&format!("{user}:{realm}:{password}"));
            let ha2 = h("GET:/doe.json");
            h(&format!("{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}"))
        };
        let truncated_sha512 = |s: &str| hex(&sha2::Sha512::digest(s.as_bytes())[..32]);
        assert_eq!(
            truncated_sha512(&format!("{user}:{realm}")),
            "488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec"
        );
        assert_eq!(
            response(&truncated_sha512),
            "ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd"
        );

        let header = format!(
            "Digest realm=\"{realm}\", qop=\"auth\", algorithm=SHA-512-256, \
             nonce=\"{nonce}\", opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", \
             charset=UTF-8, userhash=true"
        );
        let c = challenge(&header);
        assert_eq!(
            (c.algorithm, c.sess, c.userhash),
            (Algorithm::Sha512_256, false, true)
        );
        let mut responder = DigestResponder::new(c);
        let answer = responder
            .authorization("GET", "/doe.json", user, password, cnonce)
            .unwrap();
        assert_eq!(
            answer,
            format!(
                "Digest username=\"793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b\", \
                 realm=\"{realm}\", nonce=\"{nonce}\", uri=\"/doe.json\", \
                 cnonce=\"{cnonce}\", nc=00000001, qop=auth, \
                 response=\"3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5\", \
                 opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", algorithm=SHA-512-256, \
                 userhash=true"
            )
        );
        // The same with the hash spelled out: A1 uses the plain user name,
        // only the username parameter is hashed.
        let fips = |s: &str| hex(&Sha512_256::digest(s.as_bytes()));
        assert_eq!(field(&answer, "response"), Some(response(&fips)));
        assert_eq!(
            field(&answer, "username"),
            Some(fips(&format!("{user}:{realm}")))
        );
    }

    #[test]
    fn rfc2617_3_5_example() {
        let mut responder = DigestResponder::new(challenge(
            "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", \
             opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
        ));
        let answer = responder
            .authorization(
                "GET",
                "/dir/index.html",
                "Mufasa",
                "Circle Of Life",
                "0a4f113b",
            )
            .unwrap();
        assert_eq!(
            field(&answer, "response").as_deref(),
            Some("6629fae49393a05397450978507c4ef1")
        );
    }

    #[test]
    fn md5_sess_folds_nonce_and_cnonce_into_ha1() {
        let mut responder = DigestResponder::new(challenge(
            "Digest realm=\"r\", nonce=\"N\", qop=\"auth\", algorithm=MD5-sess",
        ));
        let answer = responder
            .authorization("CONNECT", "example.com:443", "u", "p", "C")
            .unwrap();
        let ha1 = md5_hex(&format!("{}:N:C", md5_hex("u:r:p")));
        let ha2 = md5_hex("CONNECT:example.com:443");
        let want = md5_hex(&format!("{ha1}:N:00000001:C:auth:{ha2}"));
        assert_eq!(field(&answer, "response"), Some(want));
        assert_eq!(field(&answer, "algorithm").as_deref(), Some("MD5-sess"));
    }

    #[test]
    fn sha_sess_variants_use_their_hash_throughout() {
        let cases = [
            ("SHA-256-sess", Algorithm::Sha256),
            ("SHA-512-256-sess", Algorithm::Sha512_256),
        ];
        for (token, algorithm) in cases {
            let header = format!("Digest realm=\"r\", nonce=\"N\", qop=auth, algorithm={token}");
            let mut responder = DigestResponder::new(challenge(&header));
            let answer = responder
                .authorization("CONNECT", "h:1", "u", "p", "C")
                .unwrap();
            let h = |s: &str| match algorithm {
                Algorithm::Sha256 => hex(&Sha256::digest(s.as_bytes())),
                _ => hex(&Sha512_256::digest(s.as_bytes())),
            };
            let ha1 = h(&format!("{}:N:C", h("u:r:p")));
            let want = h(&format!("{ha1}:N:00000001:C:auth:{}", h("CONNECT:h:1")));
            assert_eq!(field(&answer, "response"), Some(want), "{token}");
            assert_eq!(field(&answer, "algorithm").as_deref(), Some(token));
        }
    }

    #[test]
    fn without_qop_the_answer_is_rfc2069_style() {
        let mut responder = DigestResponder::new(challenge(
            "Digest realm=\"testrealm@host.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", \
             opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
        ));
        let answer = responder
            .authorization("GET", "/dir/index.html", "Mufasa", "CircleOfLife", "unused")
            .unwrap();
        let ha1 = md5_hex("Mufasa:testrealm@host.com:CircleOfLife");
        let ha2 = md5_hex("GET:/dir/index.html");
        let want = md5_hex(&format!("{ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:{ha2}"));
        // RFC 2069 §2.4's example, as corrected by its erratum.
        assert_eq!(want, "1949323746fe6a43ef61f9606e7febea");
        assert_eq!(field(&answer, "response"), Some(want));
        for absent in ["qop", "nc", "cnonce"] {
            assert_eq!(field(&answer, absent), None, "{absent} in {answer}");
        }
        assert_eq!(
            field(&answer, "opaque").as_deref(),
            Some("5ccc069c403ebaf9f0171e9517f40e41")
        );
    }

    #[test]
    fn auth_int_alone_hashes_the_empty_body() {
        let mut responder = DigestResponder::new(challenge(
            "Digest realm=\"r\", nonce=\"N\", qop=\"auth-int\"",
        ));
        let answer = responder
            .authorization("CONNECT", "h:1", "u", "p", "C")
            .unwrap();
        let ha2 = md5_hex(&format!("CONNECT:h:1:{}", md5_hex("")));
        let want = md5_hex(&format!("{}:N:00000001:C:auth-int:{ha2}", md5_hex("u:r:p")));
        assert_eq!(field(&answer, "response"), Some(want));
        assert_eq!(field(&answer, "qop").as_deref(), Some("auth-int"));
    }

    #[test]
    fn nonce_count_goes_up_per_answer() {
        let mut responder =
            DigestResponder::new(challenge("Digest realm=\"r\", nonce=\"N\", qop=auth"));
        let first = responder
            .authorization("CONNECT", "h:1", "u", "p", "C")
            .unwrap();
        let second = responder
            .authorization("CONNECT", "h:1", "u", "p", "C")
            .unwrap();
        assert_eq!(field(&first, "nc").as_deref(), Some("00000001"));
        assert_eq!(field(&second, "nc").as_deref(), Some("00000002"));
        assert_ne!(field(&first, "response"), field(&second, "response"));
        assert_eq!(responder.nonce_count(), 2);
    }

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        let mut responder =
            DigestResponder::new(challenge(r#"Digest realm="a \"q\" realm", nonce="N""#));
        let answer = responder
            .authorization("CONNECT", "h:1", r#"do\main"user"#, "p", "C")
            .unwrap();
        assert!(answer.contains(r#"username="do\\main\"user""#), "{answer}");
        assert!(answer.contains(r#"realm="a \"q\" realm""#), "{answer}");
        assert_eq!(
            field(&answer, "username").as_deref(),
            Some(r#"do\main"user"#)
        );
        let ha1 = md5_hex(r#"do\main"user:a "q" realm:p"#);
        let want = md5_hex(&format!("{ha1}:N:{}", md5_hex("CONNECT:h:1")));
        assert_eq!(field(&answer, "response"), Some(want));
    }

    #[test]
    fn curl_test_64_answer_names_no_algorithm_the_challenge_did_not() {
        // curl's tests 64 and 88 (and every Digest test whose server names
        // no algorithm) compare the whole line.
        let mut responder = DigestResponder::new(challenge(
            "Digest realm=\"testrealm\", nonce=\"1053604145\"",
        ));
        let header = responder
            .authorization("GET", "/64", "testuser", "testpass", "unused")
            .unwrap();
        assert_eq!(
            header,
            "Digest username=\"testuser\", realm=\"testrealm\", nonce=\"1053604145\", \
             uri=\"/64\", response=\"c55f7f30d83d774a3d2dcacf725abaca\""
        );
    }

    #[test]
    fn challenge_fields_are_read() {
        let c = challenge(
            "Digest realm=\"r\", nonce=\"N\", stale=TRUE, algorithm=sha-256, qop=\"auth-int, auth\"",
        );
        assert_eq!(
            c,
            DigestChallenge {
                realm: "r".into(),
                nonce: "N".into(),
                opaque: None,
                algorithm: Algorithm::Sha256,
                algorithm_token: Some("sha-256".into()),
                sess: false,
                qop_auth: true,
                qop_auth_int: true,
                userhash: false,
                stale: true,
            }
        );
        let bare = challenge("Digest nonce=N");
        assert_eq!((bare.realm.as_str(), bare.algorithm), ("", Algorithm::Md5));
        assert!(!bare.stale && !bare.qop_auth && !bare.qop_auth_int);
    }

    #[test]
    fn unusable_challenges_are_refused() {
        let cases = [
            "Basic realm=\"r\"",
            "Digest realm=\"r\"",
            "Digest realm=\"r\", nonce=\"N\", algorithm=SHA-1",
            "Digest realm=\"r\", nonce=\"N\", algorithm=MD5-sess-extra",
            "Digest realm=\"r\", nonce=\"N\", qop=\"auth-conf\"",
        ];
        for header in cases {
            let parsed = parse_challenges([header]);
            assert!(
                DigestChallenge::from_challenge(&parsed[0]).is_err(),
                "{header} was accepted"
            );
        }
    }

    #[test]
    fn unusable_answers_are_refused() {
        let mut responder =
            DigestResponder::new(challenge("Digest realm=\"r\", nonce=\"N\", qop=auth"));
        assert!(responder
            .authorization("CONNECT", "h:1", "u", "p", "")
            .is_err());
        assert!(responder
            .authorization("CONNECT", "h:1", "u\r\nX: y", "p", "C")
            .is_err());
        assert!(responder
            .authorization("CONNECT", "h:1", "u", "p", "C\n")
            .is_err());
        assert_eq!(
            responder.nonce_count(),
            0,
            "refused answers use no nonce count"
        );
        let mut exhausted = DigestResponder {
            challenge: challenge("Digest nonce=N"),
            nc: u32::MAX,
        };
        assert!(exhausted
            .authorization("CONNECT", "h:1", "u", "p", "C")
            .is_err());
    }

    #[test]
    fn algorithm_names_round_trip() {
        for a in [Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512_256] {
            for sess in [false, true] {
                assert_eq!(Algorithm::parse(a.name(sess)), Some((a, sess)));
            }
        }
        assert_eq!(Algorithm::parse("md5-SESS"), Some((Algorithm::Md5, true)));
        assert_eq!(Algorithm::parse("SHA-512"), None);
    }
}
