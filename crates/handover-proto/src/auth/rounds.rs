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
    /// Answer with the memory's Digest state ([`AuthMemory`]'s `digest`).
    Digest,
    NtlmNegotiate,
    NtlmAuthenticate(Box<super::ntlm::ChallengeMessage>),
}

/// Authentication state across rounds, and across a reconnect (the chosen
/// method, the Digest nonce count, the NTLM challenge); and, through
/// [`AuthMemory::for_next_transfer`], what a handle keeps from one transfer
/// to the next as libcurl's does (the picked method and the last Digest
/// challenge, so that the next transfer answers at once).
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
    /// The last Digest challenge taken and its nonce count (libcurl's
    /// per-handle Digest state): read from every challenge that offers
    /// Digest, whichever method is picked, and kept for the next transfer.
    digest: Option<Box<super::digest::DigestResponder>>,
    /// A Digest challenge was read since the last pick (libcurl's `avail`
    /// bit): another one before the next pick is ignored, as libcurl's
    /// "Ignoring duplicate digest auth header" — also when a transfer ended
    /// on a refusal and the next one meets Digest again.
    digest_seen: bool,
    /// The method last picked, kept for the next transfer (libcurl's
    /// `picked`, which a new transfer keeps while still allowed).
    picked: Option<Method>,
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
            None if self.rounds == 0 && !self.settled => {
                // A method picked by an earlier transfer of the handle
                // stays while allowed (libcurl): Basic goes at once, and
                // Digest too when a challenge is known.
                let kept = self.picked.filter(|m| {
                    matches!(m, Method::Basic | Method::Digest) && allowed.contains(*m)
                });
                match kept.or_else(|| allowed.preemptive_method()) {
                    Some(Method::Basic) => Some(NextAuth::Basic),
                    Some(Method::Digest) if self.digest.is_some() => Some(NextAuth::Digest),
                    Some(Method::Ntlm) => Some(NextAuth::NtlmNegotiate),
                    _ => None,
                }
            }
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
            Some(NextAuth::Digest) => {
                let Some(responder) = self.digest.as_mut() else {
                    return Err(Refusal::BadChallenge {
                        method: Method::Digest,
                        detail: "no Digest challenge".to_owned(),
                    });
                };
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
                // Answer again on a reconnect; a stale nonce brings a new
                // challenge.
                self.next = Some(NextAuth::Digest);
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
        let digest = self.read_digest(challenges);
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
                self.digest_seen = false;
                return Ok(None);
            }
        }
        if let Some(method) = self.sent {
            // A stale nonce is no refusal: answer the fresh challenge. Nor
            // is a Digest challenge ignored as a duplicate (libcurl then
            // answers with the Digest state it had once more, and learns
            // of the refusal from the next 401; curl's test 2030).
            let again = method == Method::Digest
                && matches!(
                    digest,
                    DigestRead::Ignored | DigestRead::Taken { stale: true }
                );
            if !again {
                return Err(Refusal::Rejected { method });
            }
        }
        // A pick clears what was read (libcurl's `avail`).
        self.digest_seen = false;
        let Some(method) = super::pick(challenges, allowed, false) else {
            self.picked = None;
            return Err(Refusal::NoMethod { offered });
        };
        self.next = Some(match method {
            Method::Basic => NextAuth::Basic,
            Method::Ntlm => NextAuth::NtlmNegotiate,
            Method::Digest => match digest {
                DigestRead::Bad(detail) => {
                    return Err(Refusal::BadChallenge {
                        method: Method::Digest,
                        detail,
                    })
                }
                _ if self.digest.is_some() => NextAuth::Digest,
                _ => {
                    return Err(Refusal::BadChallenge {
                        method: Method::Digest,
                        detail: "no Digest challenge".to_owned(),
                    })
                }
            },
            Method::Negotiate => return Err(Refusal::NegotiateNotBuiltIn),
        });
        self.picked = Some(method);
        Ok(Some(method))
    }

    /// Takes the Digest challenge among `challenges`, if any, as the
    /// Digest state — unless one was read since the last pick, as libcurl
    /// reads every Digest challenge, whichever method it answers with.
    fn read_digest(&mut self, challenges: &[Challenge]) -> DigestRead {
        let Some(challenge) = challenges.iter().find(|c| c.method == Some(Method::Digest)) else {
            return DigestRead::None;
        };
        if self.digest_seen {
            return DigestRead::Ignored;
        }
        self.digest_seen = true;
        match super::digest::DigestChallenge::from_challenge(challenge) {
            Ok(c) => {
                let stale = c.stale;
                self.digest = Some(Box::new(super::digest::DigestResponder::new(c)));
                DigestRead::Taken { stale }
            }
            Err(e) => {
                self.digest = None;
                DigestRead::Bad(e.to_string())
            }
        }
    }

    /// What a handle keeps for its next transfer, as libcurl's: the method
    /// picked and the Digest state (so that a next transfer with Digest
    /// answers at once, with the last nonce), and whether a Digest
    /// challenge was read since the last pick. The rounds, the NTLM
    /// handshake (bound to a connection) and what was offered and used
    /// start afresh.
    pub fn for_next_transfer(&self) -> AuthMemory {
        AuthMemory {
            digest: self.digest.clone(),
            digest_seen: self.digest_seen,
            picked: self.picked,
            ..AuthMemory::default()
        }
    }
}

/// What [`AuthMemory::challenged`] made of a challenge's Digest part.
enum DigestRead {
    /// No Digest challenge.
    None,
    /// One was read since the last pick already: this one is ignored.
    Ignored,
    /// Taken as the Digest state; `stale=true` or not.
    Taken { stale: bool },
    /// It cannot be read: the Digest state is gone.
    Bad(String),
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

    /// libcurl's Digest state across a handle's transfers (curl's test
    /// 2030): a Digest challenge read while another method was refused is
    /// kept and answered at once by the next transfer; there a new
    /// challenge read before any pick is ignored, so the old nonce goes
    /// once more, and the next challenge is the refusal.
    #[test]
    fn digest_state_carries_to_the_next_transfer_as_libcurls() {
        let digest_value = |memory: &mut AuthMemory| {
            memory
                .answer(&alice(), AuthMask::DIGEST, "GET", "/", &Entropy::default())
                .unwrap()
                .map(|(value, _)| value)
                .unwrap_or_default()
        };
        let offer = |nonce: &str| {
            let digest = format!("Digest realm=\"r\", nonce=\"{nonce}\"");
            parse_challenges(["NTLM", digest.as_str()])
        };
        // NTLM is refused; the 401 offered Digest too.
        let mut first = AuthMemory::default();
        assert_eq!(answer(&mut first, AuthMask::NTLM), Some(Method::Ntlm));
        let refusal = first.challenged(&offer("5"), Some(&alice()), AuthMask::NTLM);
        assert_eq!(
            refusal,
            Err(Refusal::Rejected {
                method: Method::Ntlm
            })
        );

        let mut second = first.for_next_transfer();
        assert!(digest_value(&mut second).contains("nonce=\"5\""));
        assert!(!second.probing());
        // Nonce 7 comes before any pick: ignored, 5 goes again.
        let picked = second.challenged(&offer("7"), Some(&alice()), AuthMask::DIGEST);
        assert_eq!(picked, Ok(Some(Method::Digest)));
        assert!(digest_value(&mut second).contains("nonce=\"5\""));
        let refusal = second.challenged(&offer("7"), Some(&alice()), AuthMask::DIGEST);
        assert_eq!(
            refusal,
            Err(Refusal::Rejected {
                method: Method::Digest
            })
        );

        // The refusal's challenge is the state the next transfer answers.
        let mut third = second.for_next_transfer();
        assert!(digest_value(&mut third).contains("nonce=\"7\""));
        // Several methods allowed and Digest picked before: still Digest.
        let mut any = third.for_next_transfer();
        any.picked = Some(Method::Digest);
        let (value, method) = any
            .answer(&alice(), AuthMask::ANY, "GET", "/", &Entropy::default())
            .unwrap()
            .unwrap();
        assert_eq!(method, Method::Digest, "{value}");
    }
}
