//! SASL (RFC 4422) for the SMTP, IMAP and POP3 connect phases: which
//! mechanism to use and what to send at each step, by libcurl's rules
//! (`lib/curl_sasl.c`), without any I/O. The protocol machine sends the
//! commands and reads the replies; [`Sasl`] decides.
//!
//! ```text
//!   offer(server's list) ──> start(force_ir)
//!     ├─ None ──────────> the protocol's own login (IMAP LOGIN, POP3 APOP/USER)
//!     │                   or blocked(): CURLE_LOGIN_DENIED (67)
//!     └─ Some(SaslStart) ──> "AUTH <mech> [initial response]"
//!          reply(Continue(challenge)) ──> Send(response) ──> reply(…) …
//!          reply(Success) after the last step ──────────────> Done
//!          reply(Failure), or a reply out of turn ───────────> LoginDenied (67)
//!          a challenge that cannot be answered ──> Cancel: send "*"
//!               ──> reply(anything) ──> Restart(next mechanism) | Exhausted
//! ```
//!
//! The mechanisms, in libcurl's order of preference (the first one both
//! offered by the server and allowed by the application wins):
//!
//! ```text
//!   mechanism    initial response      then, for each challenge
//!   EXTERNAL     user name             user name           (only with no password)
//!   DIGEST-MD5   never                 digest response; rspauth ──> empty line
//!   CRAM-MD5     never                 "user HMAC-MD5(password, challenge)"
//!   NTLM         Type 1                Type 1; Type 2 ──> Type 3
//!   OAUTHBEARER  RFC 7628 message      message; an error ──> 0x01 (needs a bearer)
//!   XOAUTH2      user + bearer         message                  (needs a bearer)
//!   PLAIN        authzid\0user\0pass   message
//!   LOGIN        user name             user name; password
//! ```
//!
//! The initial response goes with the `AUTH` command when the application
//! allows it (`CURLOPT_SASL_IR`) or the protocol says the server takes it
//! (IMAP's `SASL-IR` capability), and only when the command stays short
//! enough for the protocol (SMTP 512 bytes a line, POP3 255).
//!
//! The application's choice comes from `CURLOPT_LOGIN_OPTIONS`
//! ([`auth_values`], [`Preference`]) and `CURLOPT_HTTPAUTH`
//! ([`Mechanisms::from_http_auth`]); `CURLOPT_SASL_AUTHZID`,
//! `CURLOPT_SASL_IR`, `CURLOPT_XOAUTH2_BEARER` and `CURLOPT_SERVICE_NAME`
//! are [`SaslOptions`]. Secrets never reach verbose output:
//! [`SaslMessage::shown`] hides every line that carries one.
//!
//! Where this differs from libcurl, on purpose: DIGEST-MD5 challenge
//! values may be of any length (libcurl treats a nonce of 64 bytes or
//! more, or a realm of 128, as missing and cancels), and directive names
//! are read in any case; GSSAPI and the SCRAM mechanisms are recognised
//! but never chosen (libcurl needs Kerberos or libgsasl for them, and a
//! build without those behaves the same).

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::auth::{ntlm, AuthMask, Credentials, Entropy};
use crate::pingpong::{ReplyError, ReplyErrorKind};

mod mechanisms;
mod messages;

pub use mechanisms::{auth_values, Mechanism, Mechanisms, Preference};
use messages::decode_challenge;

/// The options of a SASL login that are not credentials. `Debug` hides
/// the bearer token.
#[derive(Clone, PartialEq, Eq)]
pub struct SaslOptions {
    /// `CURLOPT_SASL_AUTHZID`: the identity to act as (PLAIN only).
    pub authzid: Option<String>,
    /// `CURLOPT_SASL_IR`: send the initial response with the `AUTH`
    /// command (IMAP also does when the server has `SASL-IR`).
    pub initial_response: bool,
    /// `CURLOPT_XOAUTH2_BEARER`: the token for OAUTHBEARER and XOAUTH2.
    /// The user name they send is the credentials' (a login needs
    /// credentials: give the user name with an empty password).
    pub bearer: Option<String>,
    /// `CURLOPT_SERVICE_NAME`: replaces the protocol's service name
    /// (`smtp`, `imap`, `pop`) in DIGEST-MD5's `digest-uri`.
    pub service_name: Option<String>,
    /// `CURLOPT_HTTPAUTH`, which libcurl also reads as the default set of
    /// mechanisms ([`Mechanisms::from_http_auth`]); Basic by default.
    pub http_auth: AuthMask,
}

impl Default for SaslOptions {
    fn default() -> SaslOptions {
        SaslOptions {
            authzid: None,
            initial_response: false,
            bearer: None,
            service_name: None,
            http_auth: AuthMask::BASIC,
        }
    }
}

impl fmt::Debug for SaslOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslOptions")
            .field("authzid", &self.authzid)
            .field("initial_response", &self.initial_response)
            .field("bearer", &self.bearer.as_ref().map(|_| "<hidden>"))
            .field("service_name", &self.service_name)
            .field("http_auth", &self.http_auth)
            .finish()
    }
}

/// The protocol SASL runs in: its service name and how long an `AUTH`
/// command with an initial response may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SaslProtocol {
    /// SMTP (RFC 4954): `AUTH`, 334 challenges, 235 success.
    Smtp,
    /// IMAP (RFC 3501): `AUTHENTICATE`, `+` challenges, tagged `OK`.
    Imap,
    /// POP3 (RFC 5034): `AUTH`, `+` challenges, `+OK`.
    Pop3,
}

impl SaslProtocol {
    /// The service name libcurl uses (`pop` for POP3).
    pub fn service(self) -> &'static str {
        match self {
            SaslProtocol::Smtp => "smtp",
            SaslProtocol::Imap => "imap",
            SaslProtocol::Pop3 => "pop",
        }
    }

    /// The longest mechanism name plus encoded initial response the
    /// command may carry: the line limit less `AUTH `, a space and CRLF
    /// (SMTP 512, POP3 255); IMAP has none.
    pub fn max_initial_response(self) -> Option<usize> {
        match self {
            SaslProtocol::Smtp => Some(512 - 8),
            SaslProtocol::Imap => None,
            SaslProtocol::Pop3 => Some(255 - 8),
        }
    }
}

/// One line for the server, and how verbose output shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SaslMessage {
    line: String,
    secret: bool,
}

impl SaslMessage {
    /// `payload` in base64 (an empty payload is an empty line).
    fn response(payload: &[u8], secret: bool) -> SaslMessage {
        SaslMessage {
            line: STANDARD.encode(payload),
            secret: secret && !payload.is_empty(),
        }
    }

    /// `payload` in base64 as an initial response: `=` when empty.
    fn initial(payload: &[u8], secret: bool) -> SaslMessage {
        let mut message = SaslMessage::response(payload, secret);
        if message.line.is_empty() {
            message.line.push('=');
        }
        message
    }

    fn cancel() -> SaslMessage {
        SaslMessage {
            line: "*".into(),
            secret: false,
        }
    }

    /// The line to send, without its CRLF.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The line as verbose output shows it: `<hidden>` when it carries a
    /// password, a hash of one or a token.
    pub fn shown(&self) -> &str {
        if self.secret {
            "<hidden>"
        } else {
            &self.line
        }
    }
}

impl fmt::Debug for SaslMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SaslMessage({:?})", self.shown())
    }
}

/// The mechanism chosen and the initial response to send with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaslStart {
    /// The mechanism.
    pub mechanism: Mechanism,
    /// The initial response, if it goes with the command.
    pub initial_response: Option<SaslMessage>,
}

impl SaslStart {
    /// The command `verb mechanism [initial response]` (`AUTH`,
    /// `AUTHENTICATE`), and the same as verbose output shows it.
    ///
    /// # Examples
    ///
    /// ```
    /// use handover_proto::auth::{Credentials, Entropy};
    /// use handover_proto::sasl::{Mechanisms, Sasl, SaslOptions, SaslProtocol};
    ///
    /// let options = SaslOptions { initial_response: true, ..SaslOptions::default() };
    /// let tim = Credentials { user: "tim".into(), password: "tanstaaftanstaaf".into() };
    /// let mut sasl = Sasl::new(
    ///     SaslProtocol::Smtp, Mechanisms::DEFAULT, Some(tim), options,
    ///     "mail.example.com", 25, Entropy::default(),
    /// );
    /// sasl.offer(Mechanisms::PLAIN);
    /// let start = sasl.start(false).unwrap();
    /// let (wire, shown) = start.command("AUTH");
    /// assert_eq!(wire, "AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
    /// assert_eq!(shown, "AUTH PLAIN <hidden>");
    /// ```
    pub fn command(&self, verb: &str) -> (String, String) {
        let head = format!("{verb} {}", self.mechanism.name());
        match &self.initial_response {
            Some(ir) => (
                format!("{head} {}", ir.line()),
                format!("{head} {}", ir.shown()),
            ),
            None => (head.clone(), head),
        }
    }
}

/// The server's answer to the last SASL line, as the protocol reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaslReply<'a> {
    /// More is wanted (SMTP 334, IMAP and POP3 `+`): the text after the
    /// marker, base64, possibly empty.
    Continue(&'a [u8]),
    /// Authenticated (SMTP 235, IMAP tagged `OK`, POP3 `+OK`).
    Success,
    /// Refused: the server's line, for the message.
    Failure(&'a str),
}

/// What to do after a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaslProgress {
    /// Send this line.
    Send(SaslMessage),
    /// The challenge cannot be answered (`reason`): send `*` to cancel;
    /// the next reply, whatever it says, moves on to the next mechanism.
    Cancel {
        /// The cancellation line (`*`).
        message: SaslMessage,
        /// Why, for verbose output.
        reason: String,
    },
    /// The cancelled mechanism is dropped; this one starts now.
    Restart(SaslStart),
    /// Cancelled and no mechanism is left: the protocol's own login if it
    /// has one, else `CURLE_LOGIN_DENIED` (67).
    Exhausted,
    /// Authenticated.
    Done,
}

/// Where the exchange stands (libcurl's `saslstate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Idle,
    Plain,
    Login,
    LoginPassword,
    External,
    CramMd5,
    DigestMd5,
    DigestMd5Rspauth,
    Ntlm,
    NtlmType2,
    OAuth2,
    OAuth2Response,
    Cancel,
    /// The last line went out: success or refusal comes next.
    Final,
    Stopped,
}

/// One SASL login: the server's mechanisms, the application's, the
/// credentials, and the step reached.
///
/// # Examples
///
/// CRAM-MD5 as RFC 2195 shows it:
///
/// ```
/// use handover_proto::auth::{Credentials, Entropy};
/// use handover_proto::sasl::{
///     Mechanisms, Sasl, SaslOptions, SaslProgress, SaslProtocol, SaslReply,
/// };
///
/// let tim = Credentials { user: "tim".into(), password: "tanstaaftanstaaf".into() };
/// let mut sasl = Sasl::new(
///     SaslProtocol::Imap, Mechanisms::DEFAULT, Some(tim), SaslOptions::default(),
///     "postoffice.reston.mci.net", 143, Entropy::default(),
/// );
/// sasl.offer(Mechanisms::parse_list("PLAIN CRAM-MD5"));
/// let start = sasl.start(false).unwrap();
/// assert_eq!(start.command("AUTHENTICATE").0, "AUTHENTICATE CRAM-MD5");
/// let challenge = b"PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+";
/// let SaslProgress::Send(answer) = sasl.reply(SaslReply::Continue(challenge))? else {
///     panic!("an answer")
/// };
/// assert_eq!(answer.line(), "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
/// assert_eq!(answer.shown(), "<hidden>");
/// assert_eq!(sasl.reply(SaslReply::Success)?, SaslProgress::Done);
/// # Ok::<(), handover_proto::pingpong::ReplyError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Sasl {
    protocol: SaslProtocol,
    credentials: Option<Credentials>,
    options: SaslOptions,
    host: String,
    port: u16,
    entropy: Entropy,
    preferred: Mechanisms,
    offered: Mechanisms,
    used: Option<Mechanism>,
    step: Step,
    force_ir: bool,
}

impl Sasl {
    /// A login to `host`:`port` (DIGEST-MD5's `digest-uri` and
    /// OAUTHBEARER name them) allowing `preferred`; `entropy` gives the
    /// DIGEST-MD5 client nonce and the NTLM client challenge and time.
    pub fn new(
        protocol: SaslProtocol,
        preferred: Mechanisms,
        credentials: Option<Credentials>,
        options: SaslOptions,
        host: &str,
        port: u16,
        entropy: Entropy,
    ) -> Sasl {
        Sasl {
            protocol,
            credentials,
            options,
            host: host.to_owned(),
            port,
            entropy,
            preferred,
            offered: Mechanisms::NONE,
            used: None,
            step: Step::Idle,
            force_ir: false,
        }
    }

    /// The server offers `mechanisms` (added to what it offered before).
    pub fn offer(&mut self, mechanisms: Mechanisms) {
        self.offered = self.offered.union(mechanisms);
    }

    /// Forgets the server's offers (a new `EHLO`, `CAPABILITY`, `CAPA`).
    pub fn clear_offers(&mut self) {
        self.offered = Mechanisms::NONE;
        self.used = None;
    }

    /// What the server offered.
    pub fn offered(&self) -> Mechanisms {
        self.offered
    }

    /// What the application allows.
    pub fn preferred(&self) -> Mechanisms {
        self.preferred
    }

    /// The mechanism running or last run, if any.
    pub fn mechanism(&self) -> Option<Mechanism> {
        self.used
    }

    /// True when a login can be tried: credentials are set, or the server
    /// offers EXTERNAL and the application allows it
    /// (`Curl_sasl_can_authenticate()`).
    pub fn can_authenticate(&self) -> bool {
        self.credentials.is_some()
            || self
                .offered
                .intersection(self.preferred)
                .contains(Mechanisms::EXTERNAL)
    }

    /// Chooses the mechanism: the first of [`Mechanism::PREFERENCE`] that
    /// the server offers, the application allows and the options make
    /// usable (EXTERNAL only without a password, the OAuth mechanisms only
    /// with a bearer token). The initial response goes with it when
    /// `force_ir` (the protocol knows the server takes one) or
    /// `CURLOPT_SASL_IR` says so and the command stays short enough.
    /// `None`: nothing usable; see [`Sasl::blocked`].
    pub fn start(&mut self, force_ir: bool) -> Option<SaslStart> {
        self.force_ir = force_ir;
        self.used = None;
        let enabled = self.offered.intersection(self.preferred);
        let mechanism = Mechanism::PREFERENCE
            .into_iter()
            .find(|&m| enabled.contains(m.bit()) && self.usable(m))?;
        // The step without an initial response, the step after one, and
        // the initial response itself (for the mechanisms that have one).
        let (first, after_ir, ir) = match mechanism {
            Mechanism::External => (
                Step::External,
                Step::Final,
                Some(SaslMessage::initial(self.user().as_bytes(), false)),
            ),
            Mechanism::DigestMd5 => (Step::DigestMd5, Step::Final, None),
            Mechanism::CramMd5 => (Step::CramMd5, Step::Final, None),
            Mechanism::Ntlm => (
                Step::Ntlm,
                Step::NtlmType2,
                Some(SaslMessage::initial(&ntlm::negotiate_message(), false)),
            ),
            Mechanism::OAuthBearer => (
                Step::OAuth2,
                Step::OAuth2Response,
                Some(SaslMessage::initial(&self.oauthbearer(), true)),
            ),
            Mechanism::XOAuth2 => (
                Step::OAuth2,
                Step::Final,
                Some(SaslMessage::initial(&self.xoauth2(), true)),
            ),
            Mechanism::Plain => (
                Step::Plain,
                Step::Final,
                Some(SaslMessage::initial(&self.plain(), true)),
            ),
            Mechanism::Login => (
                Step::Login,
                Step::LoginPassword,
                Some(SaslMessage::initial(self.user().as_bytes(), false)),
            ),
        };
        let ir = ir.filter(|ir| {
            (force_ir || self.options.initial_response)
                && self.protocol.max_initial_response().is_none_or(|max| {
                    // An empty response ("=") counts as nothing, as in libcurl.
                    let len = if ir.line == "=" { 0 } else { ir.line.len() };
                    mechanism.name().len() + len <= max
                })
        });
        self.used = Some(mechanism);
        self.step = if ir.is_some() { after_ir } else { first };
        Some(SaslStart {
            mechanism,
            initial_response: ir,
        })
    }

    /// Answers the server's reply to the last line sent.
    ///
    /// A refusal, or a reply that does not fit the step (success before
    /// the last line, a challenge after it), is
    /// [`ReplyErrorKind::LoginDenied`] (`CURLE_LOGIN_DENIED`, 67), as in
    /// `Curl_sasl_continue()`.
    pub fn reply(&mut self, reply: SaslReply<'_>) -> Result<SaslProgress, ReplyError> {
        match (self.step, reply) {
            (Step::Idle | Step::Stopped, _) => {
                return Err(ReplyError::new(
                    ReplyErrorKind::WeirdReply,
                    "a SASL reply while no authentication runs",
                ))
            }
            (Step::Final, SaslReply::Success) | (Step::OAuth2Response, SaslReply::Success) => {
                self.step = Step::Stopped;
                return Ok(SaslProgress::Done);
            }
            (Step::Cancel, _) => return Ok(self.restart()),
            (Step::OAuth2Response, SaslReply::Continue(_)) => {
                // RFC 7628: the server's error comes as a challenge; the
                // dummy 0x01 answer lets it send the failure.
                self.step = Step::Final;
                return Ok(SaslProgress::Send(SaslMessage::response(&[1], false)));
            }
            (_, SaslReply::Continue(_)) if self.step != Step::Final => {}
            (_, reply) => {
                self.step = Step::Stopped;
                return Err(self.denied(reply));
            }
        }
        let SaslReply::Continue(challenge) = reply else {
            return Err(self.denied(reply));
        };
        let (payload, next, secret) = match self.step {
            Step::Plain => (self.plain(), Step::Final, true),
            Step::Login => (self.user().as_bytes().to_vec(), Step::LoginPassword, false),
            Step::LoginPassword => (self.password().as_bytes().to_vec(), Step::Final, true),
            Step::External => (self.user().as_bytes().to_vec(), Step::Final, false),
            Step::CramMd5 => match decode_challenge(challenge) {
                Ok(challenge) => (self.cram_md5(&challenge), Step::Final, true),
                Err(reason) => return Ok(self.cancel(reason)),
            },
            Step::DigestMd5 => match decode_challenge(challenge)
                .and_then(|challenge| self.digest_md5(&challenge))
            {
                Ok(response) => (response.into_bytes(), Step::DigestMd5Rspauth, true),
                Err(reason) => return Ok(self.cancel(reason)),
            },
            // The server's rspauth proves it knows the password; libcurl
            // answers with an empty line without checking it.
            Step::DigestMd5Rspauth => (Vec::new(), Step::Final, false),
            Step::Ntlm => (ntlm::negotiate_message(), Step::NtlmType2, false),
            Step::NtlmType2 => {
                let type2 = decode_challenge(challenge).and_then(|bytes| {
                    ntlm::parse_challenge_message(&bytes)
                        .map_err(|e| format!("bad NTLM type-2 message: {e}"))
                });
                match type2 {
                    Ok(type2) => (self.ntlm_type3(&type2)?, Step::Final, true),
                    Err(reason) => return Ok(self.cancel(reason)),
                }
            }
            Step::OAuth2 if self.used == Some(Mechanism::OAuthBearer) => {
                (self.oauthbearer(), Step::OAuth2Response, true)
            }
            Step::OAuth2 => (self.xoauth2(), Step::Final, true),
            Step::Idle | Step::Stopped | Step::Cancel | Step::Final | Step::OAuth2Response => {
                return Err(ReplyError::new(
                    ReplyErrorKind::WeirdReply,
                    "a SASL challenge out of turn",
                ))
            }
        };
        self.step = next;
        Ok(SaslProgress::Send(SaslMessage::response(&payload, secret)))
    }

    /// Why no mechanism could be chosen: lines for verbose output (those
    /// libcurl prints) and the error, [`ReplyErrorKind::LoginDenied`]
    /// (`CURLE_LOGIN_DENIED`, 67, `Curl_sasl_is_blocked()`).
    pub fn blocked(&self) -> (Vec<String>, ReplyError) {
        let enabled = self.offered.intersection(self.preferred);
        let mut notes = Vec::new();
        if self.offered.is_empty() {
            notes.push("SASL: no auth mechanism was offered or recognized".to_owned());
        } else if enabled.is_empty() {
            notes
                .push("SASL: no overlap between offered and configured auth mechanisms".to_owned());
        } else {
            notes.push("SASL: no auth mechanism offered could be selected".to_owned());
            if enabled.contains(Mechanisms::EXTERNAL) && !self.password().is_empty() {
                notes.push("SASL: auth EXTERNAL not chosen with password".to_owned());
            }
            for unbuilt in [
                Mechanisms::GSSAPI,
                Mechanisms::SCRAM_SHA_256,
                Mechanisms::SCRAM_SHA_1,
            ] {
                if enabled.contains(unbuilt) {
                    notes.push(format!("SASL: {unbuilt} not builtin"));
                }
            }
            for oauth in [Mechanisms::OAUTHBEARER, Mechanisms::XOAUTH2] {
                if enabled.contains(oauth) && !self.has_bearer() {
                    notes.push(format!("SASL: {oauth} is missing CURLOPT_XOAUTH2_BEARER"));
                }
            }
        }
        let error = ReplyError::new(
            ReplyErrorKind::LoginDenied,
            format!(
                "no SASL mechanism could be used (the server offers: {}; allowed: {})",
                self.offered, self.preferred
            ),
        );
        (notes, error)
    }

    fn usable(&self, mechanism: Mechanism) -> bool {
        match mechanism {
            Mechanism::External => self.password().is_empty(),
            Mechanism::OAuthBearer | Mechanism::XOAuth2 => self.has_bearer(),
            _ => true,
        }
    }

    fn restart(&mut self) -> SaslProgress {
        if let Some(used) = self.used.take() {
            self.offered = self.offered.without(used.bit());
        }
        self.step = Step::Stopped;
        match self.start(self.force_ir) {
            Some(start) => SaslProgress::Restart(start),
            None => SaslProgress::Exhausted,
        }
    }

    fn cancel(&mut self, reason: String) -> SaslProgress {
        self.step = Step::Cancel;
        let mechanism = self.used.map(Mechanism::name).unwrap_or("SASL");
        SaslProgress::Cancel {
            message: SaslMessage::cancel(),
            reason: format!("{mechanism}: {reason}; cancelling"),
        }
    }

    fn denied(&self, reply: SaslReply<'_>) -> ReplyError {
        let mechanism = self.used.map(Mechanism::name).unwrap_or("SASL");
        let message = match reply {
            SaslReply::Failure(line) => {
                format!("{mechanism} authentication refused by the server: {line}")
            }
            SaslReply::Success => {
                format!("{mechanism} authentication: the server accepted before the last step")
            }
            SaslReply::Continue(_) => {
                format!("{mechanism} authentication: the server asked for more after the last step")
            }
        };
        ReplyError::new(ReplyErrorKind::LoginDenied, message)
    }

    fn user(&self) -> &str {
        self.credentials.as_ref().map_or("", |c| c.user.as_str())
    }

    fn password(&self) -> &str {
        self.credentials
            .as_ref()
            .map_or("", |c| c.password.as_str())
    }

    fn has_bearer(&self) -> bool {
        self.options.bearer.as_ref().is_some_and(|b| !b.is_empty())
    }

    fn bearer(&self) -> &str {
        self.options.bearer.as_deref().unwrap_or("")
    }

    fn ntlm_type3(&self, type2: &ntlm::ChallengeMessage) -> Result<Vec<u8>, ReplyError> {
        ntlm::authenticate_message(
            type2,
            self.user(),
            self.password(),
            self.entropy.ntlm_client_challenge,
            self.entropy.ntlm_timestamp,
            ntlm::WORKSTATION,
        )
        .map_err(|e| ReplyError::new(ReplyErrorKind::LoginDenied, format!("NTLM: {e}")))
    }
}

#[cfg(test)]
mod tests;
