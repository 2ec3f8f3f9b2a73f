//! The SMTP connect phase (RFC 5321, STARTTLS RFC 3207, AUTH RFC 4954)
//! as libcurl's `smtp_connect()` runs it for a connect-only transfer.
//!
//! ```text
//!   Greeting ──2xx──> EHLO <name> ──2xx──┬─> [STARTTLS ──220──> StartTls
//!      │                  │              │      ──tls_started()──> EHLO <name> ──2xx──┐]
//!      │                  │              └─> [AUTH <mech> [ir] ──334 ⇄ response──> 235] ──> Done
//!      │                  └─ not 2xx ──> HELO <name> ──2xx──> Done   (no AUTH after HELO)
//!      └─ not 2xx ──> Failed(WeirdReply)
//! ```
//!
//! - `EHLO` names what the caller gives ([`SmtpConfig::ehlo_name`]: the
//!   URL path, else the local host name, as libcurl). A refused `EHLO`
//!   falls back to `HELO`, except when TLS is required and not yet
//!   running: then the phase fails with `CURLE_REMOTE_ACCESS_DENIED` (9).
//! - STARTTLS is sent when [`UseSsl`] asks for TLS, the connection is not
//!   TLS yet ([`SmtpConfig::implicit_tls`] for `smtps://`) and the server
//!   lists `STARTTLS`. Not offered or refused: [`UseSsl::Try`] carries on
//!   in clear text (and says so in an [`Event::Info`]); `Control` and `All`
//!   fail with `CURLE_USE_SSL_FAILED` (64). After the `220` answer the
//!   status is [`Status::StartTls`]: see [`crate::machine`] for what the
//!   caller does, then calls [`Machine::tls_started`]; the machine then
//!   sends a new `EHLO` and forgets what the server said in clear text.
//! - `AUTH` runs only when the server lists `AUTH` and credentials are
//!   set (or EXTERNAL is allowed and offered); the mechanism is chosen
//!   by [`crate::sasl`]. Refused: `CURLE_LOGIN_DENIED` (67).
//! - [`Smtp::response_code`] is the last reply's code: 250 after `EHLO`,
//!   235 after `AUTH` (libcurl's `CURLINFO_RESPONSE_CODE`).
//!
//! No `QUIT` is ever sent: the connection is the application's.
//!
//! Where this differs from libcurl, on purpose:
//!
//! - a line that is not `DDD`, `DDD text` or `DDD-text` fails the phase
//!   with `CURLE_WEIRD_SERVER_REPLY` (8); libcurl skips it and waits;
//! - a reply of more than [`MAX_REPLY_LINES`](crate::pingpong::MAX_REPLY_LINES)
//!   lines fails (`CURLE_TOO_LARGE`, 100); libcurl has no such limit;
//! - an EHLO name with a CR, LF or NUL is refused up front
//!   (`CURLE_URL_MALFORMAT`, 3);
//! - verbose output never shows a password, a hash of one or a token
//!   (`AUTH PLAIN <hidden>`); libcurl prints them.

use crate::auth::{Credentials, Entropy};
use crate::machine::{Event, Machine, Status};
use crate::pingpong::{
    check_argument, line_machine_surface, receive_lines, starts_with_ignore_case, LineProtocol,
    Phase, ReplyError, ReplyErrorKind, Talk, UseSsl,
};
use crate::sasl::{
    auth_values, Mechanisms, Preference, Sasl, SaslOptions, SaslProgress, SaslProtocol, SaslReply,
    SaslStart,
};

/// What the SMTP connect phase needs (see the example on [`Smtp`]).
#[derive(Clone, Debug, Default)]
pub struct SmtpConfig {
    /// The server's host name, for DIGEST-MD5's `digest-uri` and
    /// OAUTHBEARER.
    pub host: String,
    /// The server's port, for OAUTHBEARER.
    pub port: u16,
    /// The name `EHLO` and `HELO` send: the URL's path without its `/`,
    /// URL-decoded, else the local host name (libcurl's rule; the caller
    /// decides). Empty: `localhost`, libcurl's last resort.
    pub ehlo_name: String,
    /// User and password (`CURLOPT_USERPWD`, the URL): `AUTH` only with
    /// these (or EXTERNAL allowed and offered).
    pub credentials: Option<Credentials>,
    /// `CURLOPT_USE_SSL`.
    pub use_ssl: UseSsl,
    /// The connection is TLS already (`smtps://`): no STARTTLS.
    pub implicit_tls: bool,
    /// `CURLOPT_LOGIN_OPTIONS`: `AUTH=<mechanism>` or `AUTH=*`, `;`-separated.
    pub login_options: Option<String>,
    /// The SASL options.
    pub sasl: SaslOptions,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Greeting,
    Ehlo,
    Helo,
    StartTls,
    UpgradeTls,
    Auth,
    Done,
}

impl State {
    fn waiting_for(self) -> &'static str {
        match self {
            State::Greeting => "its greeting",
            State::Ehlo => "the EHLO reply",
            State::Helo => "the HELO reply",
            State::StartTls => "the STARTTLS reply",
            State::UpgradeTls => "TLS",
            State::Auth => "the AUTH reply",
            State::Done => "nothing",
        }
    }
}

/// The SMTP connect phase: greeting, `EHLO`, STARTTLS, `AUTH`.
///
/// # Examples
///
/// ```
/// use handover_proto::auth::{Credentials, Entropy};
/// use handover_proto::machine::{Machine, Status};
/// use handover_proto::pingpong::UseSsl;
/// use handover_proto::smtp::{Smtp, SmtpConfig};
///
/// let config = SmtpConfig {
///     host: "mail.example.com".into(),
///     port: 587,
///     ehlo_name: "client.example.com".into(),
///     credentials: Some(Credentials { user: "alice".into(), password: "secret".into() }),
///     use_ssl: UseSsl::Try,
///     ..SmtpConfig::default()
/// };
/// let mut smtp = Smtp::new(config, Entropy::default())?;
/// assert_eq!(smtp.receive(b"220 mail.example.com ESMTP\r\n")?, 28);
/// assert_eq!(smtp.transmit(), b"EHLO client.example.com\r\n");
/// smtp.sent(25);
/// smtp.receive(b"250-mail.example.com\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n")?;
/// assert_eq!(smtp.transmit(), b"STARTTLS\r\n");
/// smtp.sent(10);
/// assert_eq!(smtp.receive(b"220 2.0.0 Ready to start TLS\r\n")?, 30);
/// assert_eq!(smtp.status(), Status::StartTls);
///
/// // The caller checked that nothing followed the 220 and ran the TLS
/// // handshake; the bytes below travel inside TLS.
/// smtp.tls_started();
/// assert_eq!(smtp.transmit(), b"EHLO client.example.com\r\n");
/// smtp.sent(25);
/// smtp.receive(b"250-mail.example.com\r\n250 AUTH PLAIN LOGIN\r\n")?;
/// assert_eq!(smtp.transmit(), b"AUTH PLAIN\r\n");
/// smtp.sent(12);
/// smtp.receive(b"334 \r\n")?;
/// assert_eq!(smtp.transmit(), b"AGFsaWNlAHNlY3JldA==\r\n");
/// smtp.sent(22);
/// smtp.receive(b"235 2.7.0 Authentication successful\r\n")?;
/// assert_eq!(smtp.status(), Status::Done);
/// assert_eq!(smtp.response_code(), 235);
/// # Ok::<(), handover_proto::pingpong::ReplyError>(())
/// ```
#[derive(Debug)]
pub struct Smtp {
    talk: Talk,
    state: State,
    ehlo_name: String,
    use_ssl: UseSsl,
    /// TLS runs under the machine (implicit, or after STARTTLS).
    tls: bool,
    /// The last EHLO listed STARTTLS.
    tls_offered: bool,
    /// The last EHLO listed AUTH.
    auth_offered: bool,
    sasl: Sasl,
    response_code: u16,
}

impl Smtp {
    /// Prepares the phase; it starts by reading the greeting. Login
    /// options that are not `AUTH=<known mechanism>` or `AUTH=*`, and an
    /// EHLO name with a line break, are [`ReplyErrorKind::BadOption`]
    /// (`CURLE_URL_MALFORMAT`, 3). `entropy` is for DIGEST-MD5 and NTLM.
    pub fn new(config: SmtpConfig, entropy: Entropy) -> Result<Smtp, ReplyError> {
        check_argument("EHLO name", &config.ehlo_name)?;
        let mut preference = Preference::new(Mechanisms::from_http_auth(config.sasl.http_auth));
        for value in auth_values(config.login_options.as_deref().unwrap_or(""))? {
            preference.apply(value)?;
        }
        let ehlo_name = if config.ehlo_name.is_empty() {
            "localhost".to_owned()
        } else {
            config.ehlo_name
        };
        Ok(Smtp {
            talk: Talk::default(),
            state: State::Greeting,
            ehlo_name,
            use_ssl: config.use_ssl,
            tls: config.implicit_tls,
            tls_offered: false,
            auth_offered: false,
            sasl: Sasl::new(
                SaslProtocol::Smtp,
                preference.mechanisms(),
                config.credentials,
                config.sasl,
                &config.host,
                config.port,
                entropy,
            ),
            response_code: 0,
        })
    }

    /// The code of the last complete reply (`CURLINFO_RESPONSE_CODE`): 250
    /// after `EHLO` or `HELO`, 235 after `AUTH`; the refusal's code after
    /// a failure; 0 before the greeting.
    pub fn response_code(&self) -> u16 {
        self.response_code
    }

    /// The SASL mechanism the login used or tried, if any.
    pub fn mechanism(&self) -> Option<crate::sasl::Mechanism> {
        self.sasl.mechanism()
    }

    fn phase(&self) -> Phase {
        match self.state {
            State::UpgradeTls => Phase::StartTls,
            State::Done => Phase::Done,
            _ => Phase::Talking,
        }
    }

    fn ehlo(&mut self) {
        // What the server said before (in clear text, or before TLS)
        // counts for nothing now.
        self.sasl.clear_offers();
        self.tls_offered = false;
        self.auth_offered = false;
        let command = format!("EHLO {}", self.ehlo_name);
        self.talk.send(&command, &command);
        self.state = State::Ehlo;
    }

    fn helo(&mut self) {
        let command = format!("HELO {}", self.ehlo_name);
        self.talk.send(&command, &command);
        self.state = State::Helo;
    }

    /// An EHLO line after its code: STARTTLS and AUTH are what matter.
    fn capability(&mut self, text: &[u8]) {
        if starts_with_ignore_case(text, b"STARTTLS") {
            self.tls_offered = true;
        } else if starts_with_ignore_case(text, b"AUTH ") {
            self.auth_offered = true;
            let list = String::from_utf8_lossy(text.get(5..).unwrap_or_default());
            self.sasl.offer(Mechanisms::parse_list(&list));
        }
    }

    fn ehlo_reply(&mut self, code: u16, line: &str) -> Result<(), ReplyError> {
        if code / 100 != 2 {
            if !self.use_ssl.required() || self.tls {
                self.helo();
                return Ok(());
            }
            return Err(ReplyError::new(
                ReplyErrorKind::AccessDenied,
                format!("SMTP server refused EHLO and TLS is required: {line}"),
            ));
        }
        if self.use_ssl.wanted() && !self.tls {
            if self.tls_offered {
                self.talk.send("STARTTLS", "STARTTLS");
                self.state = State::StartTls;
                return Ok(());
            }
            if !self.use_ssl.required() {
                self.talk.info(
                    "the SMTP server does not offer STARTTLS: going on in clear text \
                     (CURLUSESSL_TRY)",
                );
                return self.authenticate();
            }
            return Err(ReplyError::new(
                ReplyErrorKind::UseSslFailed,
                "SMTP server does not offer STARTTLS and TLS is required",
            ));
        }
        self.authenticate()
    }

    fn authenticate(&mut self) -> Result<(), ReplyError> {
        if !self.auth_offered || !self.sasl.can_authenticate() {
            self.state = State::Done;
            return Ok(());
        }
        match self.sasl.start(false) {
            Some(start) => {
                self.send_auth(&start);
                Ok(())
            }
            None => {
                let (notes, error) = self.sasl.blocked();
                for note in notes {
                    self.talk.info(note);
                }
                Err(error)
            }
        }
    }

    fn send_auth(&mut self, start: &SaslStart) {
        let (line, shown) = start.command("AUTH");
        self.talk.send(&line, &shown);
        self.state = State::Auth;
    }

    fn auth_reply(&mut self, code: u16, text: &[u8], line: &str) -> Result<(), ReplyError> {
        let reply = match code {
            334 => SaslReply::Continue(text),
            235 => SaslReply::Success,
            _ => SaslReply::Failure(line),
        };
        match self.sasl.reply(reply)? {
            SaslProgress::Send(message) => self.talk.send(message.line(), message.shown()),
            SaslProgress::Cancel { message, reason } => {
                self.talk.info(reason);
                self.talk.send(message.line(), message.shown());
            }
            SaslProgress::Restart(start) => self.send_auth(&start),
            SaslProgress::Exhausted => {
                return Err(ReplyError::new(
                    ReplyErrorKind::LoginDenied,
                    "SMTP authentication cancelled: no SASL mechanism left",
                ))
            }
            SaslProgress::Done => self.state = State::Done,
        }
        Ok(())
    }
}

/// An SMTP reply line: three digits, then a space (or nothing) on the
/// last line of a reply, a `-` on the others.
fn reply_line(line: &[u8]) -> Result<(u16, bool), ReplyError> {
    let weird = || {
        ReplyError::new(
            ReplyErrorKind::WeirdReply,
            format!(
                "not an SMTP reply line: {:?}",
                String::from_utf8_lossy(line.get(..line.len().min(80)).unwrap_or_default())
            ),
        )
    };
    let digits = line.get(..3).ok_or_else(weird)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(weird());
    }
    let code = digits
        .iter()
        .fold(0u16, |code, d| code * 10 + u16::from(d - b'0'));
    match line.get(3) {
        None | Some(b' ') => Ok((code, true)),
        Some(b'-') => Ok((code, false)),
        Some(_) => Err(weird()),
    }
}

impl LineProtocol for Smtp {
    fn talk(&mut self) -> &mut Talk {
        &mut self.talk
    }

    fn reading(&self) -> bool {
        matches!(
            self.state,
            State::Greeting | State::Ehlo | State::Helo | State::StartTls | State::Auth
        )
    }

    fn line(&mut self, line: &[u8]) -> Result<(), ReplyError> {
        let (code, last) = reply_line(line)?;
        let text = line.get(4..).unwrap_or_default();
        if self.state == State::Ehlo {
            self.capability(text);
        }
        if !last {
            return Ok(());
        }
        self.talk.reply_ended();
        self.response_code = code;
        let shown = String::from_utf8_lossy(line);
        match self.state {
            State::Greeting if code / 100 == 2 => {
                self.ehlo();
                Ok(())
            }
            State::Greeting => Err(ReplyError::new(
                ReplyErrorKind::WeirdReply,
                format!("unexpected SMTP greeting: {shown}"),
            )),
            State::Ehlo => self.ehlo_reply(code, &shown),
            State::Helo if code / 100 == 2 => {
                self.state = State::Done;
                Ok(())
            }
            State::Helo => Err(ReplyError::new(
                ReplyErrorKind::AccessDenied,
                format!("SMTP server refused HELO: {shown}"),
            )),
            State::StartTls if code == 220 => {
                self.state = State::UpgradeTls;
                Ok(())
            }
            State::StartTls if !self.use_ssl.required() => {
                self.talk.info(format!(
                    "STARTTLS refused ({shown}): going on in clear text (CURLUSESSL_TRY)"
                ));
                self.authenticate()
            }
            State::StartTls => Err(ReplyError::new(
                ReplyErrorKind::UseSslFailed,
                format!("SMTP server refused STARTTLS: {shown}"),
            )),
            State::Auth => self.auth_reply(code, text, &shown),
            State::UpgradeTls | State::Done => Err(ReplyError::new(
                ReplyErrorKind::WeirdReply,
                "an SMTP reply after the connect phase",
            )),
        }
    }
}

line_machine_surface!(Smtp, "SMTP", ehlo);

#[cfg(test)]
mod tests;
