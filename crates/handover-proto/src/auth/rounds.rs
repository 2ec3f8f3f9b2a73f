//! The rounds of an authentication, shared by the proxy (a `407` to
//! `CONNECT`, [`crate::tunnel`]) and the server (a `401` to a request):
//! which answer goes with the next request, and what the next challenge
//! means — a method to answer with, the next step of NTLM, or a refusal.
//! The caller words the refusal for its peer and its status line.
//!
//! ```text
//!   answer()  ──> Authorization value for this request (or none yet)
//!   challenged(challenges) ──> Ok(Some(method))  answer it next round
//!                          ──> Ok(None)          NTLM's second leg
//!                          ──> Err(Refusal)      give up
//! ```

use super::{AuthMask, Challenge, Credentials, Method};

/// How many challenges one authentication takes before giving up.
pub const MAX_AUTH_ROUNDS: u32 = 5;

/// Randomness and time a round needs, supplied by the caller so the
/// machine stays deterministic.
///
/// # Examples
///
/// ```
/// use handover_proto::auth::Entropy;
///
/// // In tests, fixed values make every request byte predictable; the
/// // engine fills these from the OS's random numbers and clock.
/// let entropy = Entropy {
///     cnonce: "0a4f113b".into(),
///     ntlm_client_challenge: [1, 2, 3, 4, 5, 6, 7, 8],
///     ntlm_timestamp: 133_000_000_000_000_000,
/// };
/// ```
#[derive(Clone, Debug, Default)]
pub struct Entropy {
    /// Digest client nonce (printable, no quotes).
    pub cnonce: String,
    /// NTLMv2 client challenge.
    pub ntlm_client_challenge: [u8; 8],
    /// Current time as a Windows FILETIME, for NTLMv2 when the peer sends none.
    pub ntlm_timestamp: u64,
}

/// The answer prepared for the next request, decided from a challenge.
#[derive(Clone, Debug)]
enum NextAuth {
    Basic,
    Digest(Box<super::digest::DigestResponder>),
    NtlmNegotiate,
    NtlmAuthenticate(Box<super::ntlm::ChallengeMessage>),
}

/// Authentication state across rounds, and across a reconnect (the chosen
/// method, the Digest nonce count, the NTLM challenge).
///
/// # Examples
///
/// ```
/// use handover_proto::auth::{parse_challenges, AuthMask, AuthMemory, Credentials, Entropy, Method};
///
/// let alice = Credentials { user: "alice".into(), password: "secret".into() };
/// let mut memory = AuthMemory::default();
/// // Several methods allowed: nothing goes with the first request.
/// assert_eq!(memory.answer(&alice, AuthMask::ANY, "GET", "/", &Entropy::default()).unwrap(), None);
/// // The server's 401 offers Digest and Basic: Digest is picked (libcurl's order).
/// let challenges = parse_challenges(["Digest realm=\"r\", nonce=\"n\", Basic realm=\"r\""]);
/// let picked = memory.challenged(&challenges, Some(&alice), AuthMask::ANY).unwrap();
/// assert_eq!(picked, Some(Method::Digest));
/// let (value, method) = memory
///     .answer(&alice, AuthMask::ANY, "GET", "/", &Entropy::default())
///     .unwrap()
///     .unwrap();
/// assert!(value.starts_with("Digest username=\"alice\""));
/// assert_eq!(method, Method::Digest);
/// ```
#[derive(Clone, Debug, Default)]
pub struct AuthMemory {
    rounds: u32,
    next: Option<NextAuth>,
    offered: Option<AuthMask>,
    used: Option<Method>,
    /// The method of the last request's credentials, to tell "rejected" from
    /// "asked for the next step".
    sent: Option<Method>,
    /// The last answer opens a negotiation that a challenge must follow.
    probe: bool,
    /// The peer answered a probe without a challenge: nothing more to
    /// negotiate, nothing pre-emptive any more.
    settled: bool,
}

/// Why a challenge cannot be answered. The caller says it in its own words
/// (the proxy or the server, its status line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No credentials to answer with; `offered` is what the peer asked for.
    NoCredentials {
        /// The methods the challenge offered.
        offered: AuthMask,
    },
    /// More than [`MAX_AUTH_ROUNDS`] challenges.
    TooManyRounds,
    /// The credentials sent with `method` were refused with a new challenge.
    Rejected {
        /// The method the refused credentials went with.
        method: Method,
    },
    /// No method both offered and allowed.
    NoMethod {
        /// The methods the challenge offered.
        offered: AuthMask,
    },
    /// A challenge that cannot be read (a bad NTLM message, a Digest
    /// challenge without its parameters): a bad reply.
    BadChallenge {
        /// Whose challenge it was.
        method: Method,
        /// What was wrong with it.
        detail: String,
    },
    /// The answer could not be built (a Digest algorithm handover lacks,
    /// credentials NTLM cannot carry).
    AnswerFailed {
        /// The method of the answer.
        method: Method,
        /// Why.
        detail: String,
    },
    /// The peer wants Negotiate (Kerberos), which is not built in.
    NegotiateNotBuiltIn,
}

impl AuthMemory {
    /// Methods the peer offered in its last challenge (`CURLINFO_PROXYAUTH_AVAIL`
    /// / `CURLINFO_HTTPAUTH_AVAIL`).
    pub fn offered(&self) -> AuthMask {
        self.offered.unwrap_or(AuthMask::NONE)
    }

    /// The method answered with (`CURLINFO_PROXYAUTH_USED` /
    /// `CURLINFO_HTTPAUTH_USED`).
    pub fn used(&self) -> Option<Method> {
        self.used
    }

    /// True when the last [`answer`](Self::answer) opened a negotiation:
    /// NTLM's first leg, or Digest as the one method before its
    /// challenge. A challenge is expected rather than the resource, so a
    /// request body would be sent in vain — libcurl then announces
    /// `Content-Length: 0` and sends the body only with the credentials.
    pub fn probing(&self) -> bool {
        self.probe
    }

    /// The peer answered a [probe](Self::probing) without a challenge
    /// (it wants no authentication): the request goes again, whole and
    /// with no credentials, as libcurl sends it then.
    pub fn settle(&mut self) {
        self.next = None;
        self.settled = true;
    }

    /// How many challenges were met so far.
    pub fn rounds(&self) -> u32 {
        self.rounds
    }

    /// The `Authorization` (or `Proxy-Authorization`) value for this
    /// request of `request_method` to `uri`, and its method; `None` when
    /// nothing goes with it. Round one sends one pre-emptively only when
    /// exactly one method is allowed and it can go first (Basic; NTLM
    /// starts its handshake), as libcurl does.
    pub fn answer(
        &mut self,
        creds: &Credentials,
        allowed: AuthMask,
        request_method: &str,
        uri: &str,
        entropy: &Entropy,
    ) -> Result<Option<(String, Method)>, Refusal> {
        let next = match self.next.take() {
            Some(next) => Some(next),
            None if self.rounds == 0 && !self.settled => match allowed.preemptive_method() {
                Some(Method::Basic) => Some(NextAuth::Basic),
                Some(Method::Ntlm) => Some(NextAuth::NtlmNegotiate),
                _ => None,
            },
            None => None,
        };
        // Digest as the one method, before any challenge, sends nothing yet
        // but counts on a 401 all the same; NTLM's first leg always does.
        self.probe = match &next {
            Some(NextAuth::NtlmNegotiate) => true,
            None => {
                self.rounds == 0
                    && !self.settled
                    && allowed.preemptive_method() == Some(Method::Digest)
            }
            Some(_) => false,
        };
        let answer = match next {
            None => None,
            Some(NextAuth::Basic) => Some((
                super::basic::authorization(&creds.user, &creds.password),
                Method::Basic,
            )),
            Some(NextAuth::Digest(mut responder)) => {
                let value = responder
                    .authorization(
                        request_method,
                        uri,
                        &creds.user,
                        &creds.password,
                        &entropy.cnonce,
                    )
                    .map_err(|e| Refusal::AnswerFailed {
                        method: Method::Digest,
                        detail: e.to_string(),
                    })?;
                // Keep the responder: a stale nonce or a reconnect reuses it.
                self.next = Some(NextAuth::Digest(responder));
                Some((value, Method::Digest))
            }
            Some(NextAuth::NtlmNegotiate) => Some((
                super::ntlm::header_value(&super::ntlm::negotiate_message()),
                Method::Ntlm,
            )),
            Some(NextAuth::NtlmAuthenticate(challenge)) => {
                let message = super::ntlm::authenticate_message(
                    &challenge,
                    &creds.user,
                    &creds.password,
                    entropy.ntlm_client_challenge,
                    entropy.ntlm_timestamp,
                    super::ntlm::WORKSTATION,
                )
                .map_err(|e| Refusal::AnswerFailed {
                    method: Method::Ntlm,
                    detail: e.to_string(),
                })?;
                Some((super::ntlm::header_value(&message), Method::Ntlm))
            }
        };
        self.sent = answer.as_ref().map(|(_, m)| *m);
        if let Some((_, m)) = &answer {
            self.used = Some(*m);
        }
        Ok(answer)
    }

    /// Decides the next answer from a challenge (a 407's
    /// `Proxy-Authenticate` or a 401's `WWW-Authenticate` fields, parsed):
    /// `Some(method)` picked afresh, `None` for the next leg of NTLM.
    pub fn challenged(
        &mut self,
        challenges: &[Challenge],
        creds: Option<&Credentials>,
        allowed: AuthMask,
    ) -> Result<Option<Method>, Refusal> {
        let offered = super::offered_mask(challenges);
        self.offered = Some(offered);
        self.rounds += 1;
        if creds.is_none() {
            return Err(Refusal::NoCredentials { offered });
        }
        if self.rounds > MAX_AUTH_ROUNDS {
            return Err(Refusal::TooManyRounds);
        }
        // NTLM's second step: the peer's challenge to our negotiate message.
        if self.sent == Some(Method::Ntlm)
            && !matches!(self.next, Some(NextAuth::NtlmAuthenticate(_)))
        {
            if let Some(token) = challenges
                .iter()
                .find(|c| c.method == Some(Method::Ntlm))
                .and_then(|c| c.token68.clone())
            {
                let challenge = super::ntlm::decode_header_token(&token)
                    .and_then(|bytes| super::ntlm::parse_challenge_message(&bytes))
                    .map_err(|e| Refusal::BadChallenge {
                        method: Method::Ntlm,
                        detail: e.to_string(),
                    })?;
                self.next = Some(NextAuth::NtlmAuthenticate(Box::new(challenge)));
                return Ok(None);
            }
        }
        // A Digest nonce went stale: answer the fresh challenge, not a rejection.
        let stale_digest = challenges.iter().any(|c| {
            c.method == Some(Method::Digest)
                && c.params
                    .iter()
                    .any(|(k, v)| k == "stale" && v.eq_ignore_ascii_case("true"))
        });
        if let Some(method) = self.sent {
            if !(stale_digest && method == Method::Digest) {
                return Err(Refusal::Rejected { method });
            }
        }
        let Some(method) = super::pick(challenges, allowed, false) else {
            return Err(Refusal::NoMethod { offered });
        };
        self.next = Some(match method {
            Method::Basic => NextAuth::Basic,
            Method::Ntlm => NextAuth::NtlmNegotiate,
            Method::Digest => {
                let challenge = challenges
                    .iter()
                    .find(|c| c.method == Some(Method::Digest))
                    .map(super::digest::DigestChallenge::from_challenge);
                match challenge {
                    Some(Ok(c)) => {
                        NextAuth::Digest(Box::new(super::digest::DigestResponder::new(c)))
                    }
                    Some(Err(e)) => {
                        return Err(Refusal::BadChallenge {
                            method: Method::Digest,
                            detail: e.to_string(),
                        })
                    }
                    None => {
                        return Err(Refusal::BadChallenge {
                            method: Method::Digest,
                            detail: "no Digest challenge".to_owned(),
                        })
                    }
                }
            }
            Method::Negotiate => return Err(Refusal::NegotiateNotBuiltIn),
        });
        Ok(Some(method))
    }
}

/// "Digest, Basic" for messages.
pub fn mask_names(mask: AuthMask) -> String {
    let names: Vec<&str> = [
        Method::Negotiate,
        Method::Digest,
        Method::Ntlm,
        Method::Basic,
    ]
    .into_iter()
    .filter(|m| mask.contains(*m))
    .map(Method::name)
    .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::parse_challenges;

    fn alice() -> Credentials {
        Credentials {
            user: "alice".into(),
            password: "secret".into(),
        }
    }

    fn answer(memory: &mut AuthMemory, allowed: AuthMask) -> Option<Method> {
        memory
            .answer(&alice(), allowed, "POST", "/", &Entropy::default())
            .unwrap()
            .map(|(_, m)| m)
    }

    /// The requests libcurl sends with `Content-Length: 0` (curl's tests
    /// 175 and 176): NTLM's first leg and Digest before its challenge;
    /// not the answers that carry credentials, nor Basic or several methods.
    #[test]
    fn probes_are_the_requests_a_challenge_must_follow() {
        let mut digest = AuthMemory::default();
        assert_eq!(answer(&mut digest, AuthMask::DIGEST), None);
        assert!(digest.probing());
        let challenges = parse_challenges(["Digest realm=\"r\", nonce=\"n\""]);
        digest
            .challenged(&challenges, Some(&alice()), AuthMask::DIGEST)
            .unwrap();
        assert_eq!(answer(&mut digest, AuthMask::DIGEST), Some(Method::Digest));
        assert!(!digest.probing());

        let mut ntlm = AuthMemory::default();
        assert_eq!(answer(&mut ntlm, AuthMask::NTLM), Some(Method::Ntlm));
        assert!(ntlm.probing());

        for allowed in [AuthMask::BASIC, AuthMask::ANY] {
            let mut memory = AuthMemory::default();
            answer(&mut memory, allowed);
            assert!(!memory.probing(), "{allowed:?}");
        }
    }

    /// A peer that answers the probe without a challenge wants no
    /// credentials: the next request goes without any, and is no probe.
    #[test]
    fn a_settled_probe_sends_nothing_more() {
        for allowed in [AuthMask::DIGEST, AuthMask::NTLM] {
            let mut memory = AuthMemory::default();
            answer(&mut memory, allowed);
            memory.settle();
            assert_eq!(answer(&mut memory, allowed), None, "{allowed:?}");
            assert!(!memory.probing(), "{allowed:?}");
        }
    }
}
