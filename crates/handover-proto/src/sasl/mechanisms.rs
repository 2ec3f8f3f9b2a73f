//! Which mechanisms: their names and libcurl's bits, and the
//! application's choice from `CURLOPT_LOGIN_OPTIONS` and
//! `CURLOPT_HTTPAUTH`.

use std::fmt;

use crate::auth::AuthMask;
use crate::pingpong::{ReplyError, ReplyErrorKind};

/// A set of SASL mechanisms, with libcurl's bits (`SASL_MECH_*`).
///
/// # Examples
///
/// ```
/// use handover_proto::sasl::Mechanisms;
///
/// let offered = Mechanisms::parse_list("PLAIN LOGIN cram-md5 X-UNKNOWN");
/// assert!(offered.contains(Mechanisms::CRAM_MD5));
/// assert_eq!(offered.to_string(), "LOGIN PLAIN CRAM-MD5");
/// assert!(!Mechanisms::DEFAULT.contains(Mechanisms::EXTERNAL));
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Mechanisms(pub u16);

impl Mechanisms {
    /// No mechanism.
    pub const NONE: Mechanisms = Mechanisms(0);
    /// `LOGIN`.
    pub const LOGIN: Mechanisms = Mechanisms(1 << 0);
    /// `PLAIN` (RFC 4616).
    pub const PLAIN: Mechanisms = Mechanisms(1 << 1);
    /// `CRAM-MD5` (RFC 2195).
    pub const CRAM_MD5: Mechanisms = Mechanisms(1 << 2);
    /// `DIGEST-MD5` (RFC 2831).
    pub const DIGEST_MD5: Mechanisms = Mechanisms(1 << 3);
    /// `GSSAPI`: recognised, never used (no Kerberos here).
    pub const GSSAPI: Mechanisms = Mechanisms(1 << 4);
    /// `EXTERNAL` (RFC 4422 appendix A).
    pub const EXTERNAL: Mechanisms = Mechanisms(1 << 5);
    /// `NTLM`.
    pub const NTLM: Mechanisms = Mechanisms(1 << 6);
    /// `XOAUTH2` (Google's).
    pub const XOAUTH2: Mechanisms = Mechanisms(1 << 7);
    /// `OAUTHBEARER` (RFC 7628).
    pub const OAUTHBEARER: Mechanisms = Mechanisms(1 << 8);
    /// `SCRAM-SHA-1`: recognised, never used (libcurl needs libgsasl).
    pub const SCRAM_SHA_1: Mechanisms = Mechanisms(1 << 9);
    /// `SCRAM-SHA-256`: recognised, never used (libcurl needs libgsasl).
    pub const SCRAM_SHA_256: Mechanisms = Mechanisms(1 << 10);
    /// Every mechanism (`SASL_AUTH_ANY`).
    pub const ANY: Mechanisms = Mechanisms(0xffff);
    /// What libcurl allows by default and for `AUTH=*`: every mechanism
    /// but `EXTERNAL` (`SASL_AUTH_DEFAULT`).
    pub const DEFAULT: Mechanisms = Mechanisms(Self::ANY.0 & !Self::EXTERNAL.0);

    /// Names and bits, in libcurl's table order.
    const NAMES: [(&'static str, Mechanisms); 11] = [
        ("LOGIN", Self::LOGIN),
        ("PLAIN", Self::PLAIN),
        ("CRAM-MD5", Self::CRAM_MD5),
        ("DIGEST-MD5", Self::DIGEST_MD5),
        ("GSSAPI", Self::GSSAPI),
        ("EXTERNAL", Self::EXTERNAL),
        ("NTLM", Self::NTLM),
        ("XOAUTH2", Self::XOAUTH2),
        ("OAUTHBEARER", Self::OAUTHBEARER),
        ("SCRAM-SHA-1", Self::SCRAM_SHA_1),
        ("SCRAM-SHA-256", Self::SCRAM_SHA_256),
    ];

    /// The mechanism a name means (case-insensitive, the whole word), or
    /// `None` for a name libcurl does not know.
    pub fn from_name(name: &str) -> Option<Mechanisms> {
        Self::NAMES
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|&(_, bit)| bit)
    }

    /// The mechanisms named in a space-separated list (an SMTP `AUTH`
    /// line, a POP3 `SASL` line); unknown names are skipped.
    pub fn parse_list(list: &str) -> Mechanisms {
        list.split_ascii_whitespace()
            .filter_map(Mechanisms::from_name)
            .fold(Mechanisms::NONE, Mechanisms::union)
    }

    /// libcurl's defaults when `CURLOPT_HTTPAUTH` is set to anything but
    /// Basic alone: Basic allows PLAIN and LOGIN, Digest DIGEST-MD5, NTLM
    /// NTLM, Bearer OAUTHBEARER and XOAUTH2, Negotiate GSSAPI; a mask that
    /// names none of these keeps [`Mechanisms::DEFAULT`].
    pub fn from_http_auth(mask: AuthMask) -> Mechanisms {
        if mask == AuthMask::BASIC {
            return Mechanisms::DEFAULT;
        }
        let bits = mask.0;
        let mut mechanisms = Mechanisms::NONE;
        let pairs = [
            (AuthMask::BASIC, Self::PLAIN.union(Self::LOGIN)),
            (AuthMask::DIGEST, Self::DIGEST_MD5),
            (AuthMask::NTLM, Self::NTLM),
            (AuthMask::BEARER, Self::OAUTHBEARER.union(Self::XOAUTH2)),
            (AuthMask::NEGOTIATE, Self::GSSAPI),
        ];
        for (bit, allowed) in pairs {
            if bits & bit.0 != 0 {
                mechanisms = mechanisms.union(allowed);
            }
        }
        if mechanisms.is_empty() {
            Mechanisms::DEFAULT
        } else {
            mechanisms
        }
    }

    /// True when every mechanism of `other` is in `self`.
    pub fn contains(self, other: Mechanisms) -> bool {
        self.0 & other.0 == other.0
    }

    /// True for the empty set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Both sets together.
    pub fn union(self, other: Mechanisms) -> Mechanisms {
        Mechanisms(self.0 | other.0)
    }

    /// The mechanisms in both sets.
    pub fn intersection(self, other: Mechanisms) -> Mechanisms {
        Mechanisms(self.0 & other.0)
    }

    /// `self` without the mechanisms of `other`.
    pub fn without(self, other: Mechanisms) -> Mechanisms {
        Mechanisms(self.0 & !other.0)
    }
}

impl fmt::Display for Mechanisms {
    /// The names, space-separated, in libcurl's table order; `none` for
    /// the empty set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names = Self::NAMES
            .iter()
            .filter(|(_, bit)| self.contains(*bit))
            .map(|(name, _)| *name);
        match names.next() {
            None => f.write_str("none"),
            Some(first) => {
                f.write_str(first)?;
                names.try_for_each(|name| write!(f, " {name}"))
            }
        }
    }
}

impl fmt::Debug for Mechanisms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mechanisms({self})")
    }
}

/// A mechanism handover can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// `EXTERNAL`: the TLS client certificate (or the like) says who.
    External,
    /// `DIGEST-MD5` with `qop=auth` and `md5-sess`.
    DigestMd5,
    /// `CRAM-MD5`.
    CramMd5,
    /// `NTLM`, NTLMv2 responses (the proxy NTLM code).
    Ntlm,
    /// `OAUTHBEARER`.
    OAuthBearer,
    /// `XOAUTH2`.
    XOAuth2,
    /// `PLAIN`.
    Plain,
    /// `LOGIN`.
    Login,
}

impl Mechanism {
    /// libcurl's order of preference (`Curl_sasl_start()`).
    pub const PREFERENCE: [Mechanism; 8] = [
        Mechanism::External,
        Mechanism::DigestMd5,
        Mechanism::CramMd5,
        Mechanism::Ntlm,
        Mechanism::OAuthBearer,
        Mechanism::XOAuth2,
        Mechanism::Plain,
        Mechanism::Login,
    ];

    /// The name as sent in the `AUTH` command.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::External => "EXTERNAL",
            Mechanism::DigestMd5 => "DIGEST-MD5",
            Mechanism::CramMd5 => "CRAM-MD5",
            Mechanism::Ntlm => "NTLM",
            Mechanism::OAuthBearer => "OAUTHBEARER",
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
        }
    }

    /// Its bit.
    pub fn bit(self) -> Mechanisms {
        match self {
            Mechanism::External => Mechanisms::EXTERNAL,
            Mechanism::DigestMd5 => Mechanisms::DIGEST_MD5,
            Mechanism::CramMd5 => Mechanisms::CRAM_MD5,
            Mechanism::Ntlm => Mechanisms::NTLM,
            Mechanism::OAuthBearer => Mechanisms::OAUTHBEARER,
            Mechanism::XOAuth2 => Mechanisms::XOAUTH2,
            Mechanism::Plain => Mechanisms::PLAIN,
            Mechanism::Login => Mechanisms::LOGIN,
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The `AUTH=` values of `CURLOPT_LOGIN_OPTIONS`, in order. Options are
/// separated by `;` and each must be `AUTH=<value>` (the key in any case);
/// anything else is [`ReplyErrorKind::BadOption`] (`CURLE_URL_MALFORMAT`,
/// 3, as libcurl), and so is an empty value.
///
/// # Examples
///
/// ```
/// use handover_proto::sasl::auth_values;
///
/// assert_eq!(auth_values("AUTH=PLAIN;auth=LOGIN").unwrap(), ["PLAIN", "LOGIN"]);
/// assert!(auth_values("MECH=PLAIN").is_err());
/// ```
pub fn auth_values(options: &str) -> Result<Vec<&str>, ReplyError> {
    if options.is_empty() {
        return Ok(Vec::new());
    }
    // One `;` may end the list.
    let options = options
        .strip_suffix(';')
        .filter(|rest| !rest.is_empty())
        .unwrap_or(options);
    options
        .split(';')
        .map(|option| {
            let value = option
                .get(..5)
                .filter(|key| key.eq_ignore_ascii_case("AUTH="))
                .and_then(|_| option.get(5..))
                .ok_or_else(|| {
                    ReplyError::new(
                        ReplyErrorKind::BadOption,
                        format!("login option \"{option}\" is not AUTH=<mechanism>"),
                    )
                })?;
            if value.is_empty() {
                return Err(ReplyError::new(
                    ReplyErrorKind::BadOption,
                    "login option AUTH= names no mechanism",
                ));
            }
            Ok(value)
        })
        .collect()
}

/// The mechanisms the application allows, as the `AUTH=` login options
/// change them (`Curl_sasl_parse_url_auth_option()`): the first value
/// replaces the defaults, later ones add to it, `*` means
/// [`Mechanisms::DEFAULT`].
///
/// # Examples
///
/// ```
/// use handover_proto::sasl::{Mechanisms, Preference};
///
/// let mut preference = Preference::new(Mechanisms::DEFAULT);
/// preference.apply("PLAIN").unwrap();
/// preference.apply("LOGIN").unwrap();
/// assert_eq!(preference.mechanisms(), Mechanisms::PLAIN.union(Mechanisms::LOGIN));
/// assert!(preference.apply("X-TOKEN").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preference {
    mechanisms: Mechanisms,
    /// No `AUTH=` value read yet: the next one replaces the defaults.
    defaults: bool,
}

impl Preference {
    /// The defaults, before any login option.
    pub fn new(defaults: Mechanisms) -> Preference {
        Preference {
            mechanisms: defaults,
            defaults: true,
        }
    }

    /// The mechanisms allowed now.
    pub fn mechanisms(self) -> Mechanisms {
        self.mechanisms
    }

    /// Reads one `AUTH=` value: a mechanism name or `*`. An unknown name
    /// is [`ReplyErrorKind::BadOption`], after the defaults were dropped
    /// (as libcurl, which lets POP3 read `+APOP` next).
    pub fn apply(&mut self, value: &str) -> Result<(), ReplyError> {
        if value.is_empty() {
            return Err(ReplyError::new(
                ReplyErrorKind::BadOption,
                "login option AUTH= names no mechanism",
            ));
        }
        if self.defaults {
            self.defaults = false;
            self.mechanisms = Mechanisms::NONE;
        }
        if value == "*" {
            self.mechanisms = Mechanisms::DEFAULT;
            return Ok(());
        }
        match Mechanisms::from_name(value) {
            Some(bit) => {
                self.mechanisms = self.mechanisms.union(bit);
                Ok(())
            }
            None => Err(ReplyError::new(
                ReplyErrorKind::BadOption,
                format!("unknown SASL mechanism \"{value}\" in the login options"),
            )),
        }
    }

    /// No SASL at all (IMAP `AUTH=+LOGIN`, POP3 `AUTH=+APOP`).
    pub fn clear(&mut self) {
        self.mechanisms = Mechanisms::NONE;
    }
}
