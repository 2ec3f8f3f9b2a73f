//! The IMAP connect phase (RFC 3501 / RFC 9051, SASL-IR RFC 4959) as
//! libcurl's `imap_connect()` runs it for a connect-only transfer.
//!
//! ```text
//!   Greeting ──* OK──────┬──> A001 CAPABILITY ──tagged──┬─> [A002 STARTTLS ──OK──> StartTls
//!      │  * PREAUTH: noted┘                             │      ──tls_started()──> A003 CAPABILITY ──┐]
//!      │                                                └─> [A00n AUTHENTICATE <mech> [ir] ⇄ + …
//!      │                                                      | A00n LOGIN user password] ──OK──> Done
//!      └── * BYE, anything else ──> Failed(WeirdReply)
//! ```
//!
//! - Tags are libcurl's: a letter (`A` + the connection number modulo 26)
//!   and a command counter from `001`; [`Imap::next_tag`] is the one the
//!   application continues with (after `A001 CAPABILITY`, `A002`).
//! - STARTTLS as for SMTP ([`crate::smtp`]): sent when [`UseSsl`] asks, the
//!   connection is not TLS yet and the server lists `STARTTLS`; never after
//!   a `PREAUTH` greeting (the session is authenticated already, so TLS
//!   cannot be required any more: `Control`/`All` fail). After the `OK`
//!   the status is [`Status::StartTls`]; after [`Machine::tls_started`]
//!   `CAPABILITY` is asked again and the clear-text answer forgotten.
//! - Login only with credentials (or EXTERNAL allowed and offered), never
//!   after `PREAUTH`: SASL `AUTHENTICATE` with the best mechanism
//!   ([`crate::sasl`]; the initial response when the server lists `SASL-IR`
//!   or `CURLOPT_SASL_IR` asks), else `LOGIN` unless the server lists
//!   `LOGINDISABLED` or the login options ask for SASL only. Login options:
//!   `AUTH=<mechanism>`, `AUTH=*`, and `AUTH=+LOGIN` for `LOGIN` only.
//!
//! No `LOGOUT` is ever sent: the connection is the application's.
//!
//! Where this differs from libcurl, on purpose:
//!
//! - every `CAPABILITY` answer replaces the last one: `LOGINDISABLED` and
//!   `SASL-IR` seen in clear text do not outlive STARTTLS (RFC 3501
//!   6.2.1 says to forget them); libcurl keeps those two;
//! - a line that is neither tagged, `* …` nor `+ …` fails the phase with
//!   `CURLE_WEIRD_SERVER_REPLY` (8); libcurl skips it;
//! - a reply of more than [`MAX_REPLY_LINES`](crate::pingpong::MAX_REPLY_LINES)
//!   lines fails (`CURLE_TOO_LARGE`, 100);
//! - `LOGIN` sends an empty user name or password as `""` (libcurl sends
//!   nothing, which breaks the command), and refuses one holding a CR,
//!   LF or NUL (`CURLE_URL_MALFORMAT`, 3) rather than sending it;
//! - verbose output shows `A002 LOGIN alice <hidden>`.

use crate::auth::{Credentials, Entropy};
use crate::machine::{Event, Machine, Status};
use crate::pingpong::{
    check_argument, line_machine_surface, receive_lines, starts_with_ignore_case, LineProtocol,
    Phase, ReplyError, ReplyErrorKind, Talk, UseSsl,
};
use crate::sasl::{
    auth_values, Mechanism, Mechanisms, Preference, Sasl, SaslOptions, SaslProgress, SaslProtocol,
    SaslReply, SaslStart,
};

/// What the IMAP connect phase needs (see the example on [`Imap`]).
#[derive(Clone, Debug, Default)]
pub struct ImapConfig {
    /// The server's host name, for DIGEST-MD5's `digest-uri` and
    /// OAUTHBEARER.
    pub host: String,
    /// The server's port, for OAUTHBEARER.
    pub port: u16,
    /// User and password: a login only with these (or EXTERNAL allowed
    /// and offered).
    pub credentials: Option<Credentials>,
    /// `CURLOPT_USE_SSL`.
    pub use_ssl: UseSsl,
    /// The connection is TLS already (`imaps://`): no STARTTLS.
    pub implicit_tls: bool,
    /// `CURLOPT_LOGIN_OPTIONS`: `AUTH=<mechanism>`, `AUTH=*` or
    /// `AUTH=+LOGIN`, `;`-separated.
    pub login_options: Option<String>,
    /// The SASL options.
    pub sasl: SaslOptions,
    /// libcurl's number for the connection; the tag letter is `A` plus
    /// this modulo 26 (0, the first connection, gives `A001`).
    pub connection_id: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Greeting,
    Capability,
    StartTls,
    UpgradeTls,
    Authenticate,
    Login,
    Done,
}

impl State {
    fn waiting_for(self) -> &'static str {
        match self {
            State::Greeting => "its greeting",
            State::Capability => "the CAPABILITY reply",
            State::StartTls => "the STARTTLS reply",
            State::UpgradeTls => "TLS",
            State::Authenticate => "the AUTHENTICATE reply",
            State::Login => "the LOGIN reply",
            State::Done => "nothing",
        }
    }
}

/// One server line, as far as the connect phase cares.
enum Response<'a> {
    /// The tagged answer to the command (during the greeting: the
    /// greeting itself, tag `*`).
    Tagged { ok: bool, preauth: bool },
    /// `* …`: the text after `* `.
    Untagged(&'a [u8]),
    /// `+ …`: the text after `+ `.
    Continuation(&'a [u8]),
}

/// The IMAP connect phase: greeting, `CAPABILITY`, STARTTLS, login.
///
/// # Examples
///
/// ```
/// use handover_proto::auth::{Credentials, Entropy};
/// use handover_proto::imap::{Imap, ImapConfig};
/// use handover_proto::machine::{Machine, Status};
///
/// let config = ImapConfig {
///     host: "imap.example.com".into(),
///     port: 143,
///     credentials: Some(Credentials { user: "alice".into(), password: "secret".into() }),
///     ..ImapConfig::default()
/// };
/// let mut imap = Imap::new(config, Entropy::default())?;
/// imap.receive(b"* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n")?;
/// assert_eq!(imap.transmit(), b"A001 CAPABILITY\r\n");
/// imap.sent(17);
/// imap.receive(b"* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN\r\nA001 OK done\r\n")?;
/// // SASL-IR: the initial response goes with the command.
/// assert_eq!(imap.transmit(), b"A002 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n");
/// imap.sent(imap.transmit().len());
/// imap.receive(b"A002 OK Logged in\r\n")?;
/// assert_eq!(imap.status(), Status::Done);
/// assert_eq!(imap.next_tag(), "A003"); // the application goes on from here
/// # Ok::<(), handover_proto::pingpong::ReplyError>(())
/// ```
#[derive(Debug)]
pub struct Imap {
    talk: Talk,
    state: State,
    use_ssl: UseSsl,
    credentials: Option<Credentials>,
    /// TLS runs under the machine (implicit, or after STARTTLS).
    tls: bool,
    sasl: Sasl,
    /// `LOGIN` may be used when SASL cannot (`AUTH=*` or no login
    /// options, or `AUTH=+LOGIN`).
    login_allowed: bool,
    tag_letter: char,
    /// The counter of the last tag sent (libcurl's is a byte too).
    command_id: u8,
    /// The tag whose answer ends the command running; `*` for the
    /// greeting.
    tag: String,
    preauth: bool,
    /// From the last CAPABILITY answer.
    tls_offered: bool,
    login_disabled: bool,
    ir_offered: bool,
}

impl Imap {
    /// Prepares the phase; it starts by reading the greeting. Login
    /// options other than `AUTH=<known mechanism>`, `AUTH=*` and
    /// `AUTH=+LOGIN` are [`ReplyErrorKind::BadOption`]
    /// (`CURLE_URL_MALFORMAT`, 3). `entropy` is for DIGEST-MD5 and NTLM.
    pub fn new(config: ImapConfig, entropy: Entropy) -> Result<Imap, ReplyError> {
        let mut preference = Preference::new(Mechanisms::from_http_auth(config.sasl.http_auth));
        let mut prefer_login = false;
        for value in auth_values(config.login_options.as_deref().unwrap_or(""))? {
            if value.eq_ignore_ascii_case("+LOGIN") {
                // LOGIN over any SASL mechanism, SASL LOGIN included.
                prefer_login = true;
                preference.clear();
            } else {
                prefer_login = false;
                preference.apply(value)?;
            }
        }
        let login_allowed = prefer_login || preference.mechanisms() == Mechanisms::DEFAULT;
        let letter = b'A' + (config.connection_id % 26) as u8;
        Ok(Imap {
            talk: Talk::default(),
            state: State::Greeting,
            use_ssl: config.use_ssl,
            tls: config.implicit_tls,
            sasl: Sasl::new(
                SaslProtocol::Imap,
                preference.mechanisms(),
                config.credentials.clone(),
                config.sasl,
                &config.host,
                config.port,
                entropy,
            ),
            credentials: config.credentials,
            login_allowed,
            tag_letter: char::from(letter),
            command_id: 0,
            tag: "*".into(),
            preauth: false,
            tls_offered: false,
            login_disabled: false,
            ir_offered: false,
        })
    }

    /// The tag the application's first command should carry: the
    /// connect phase used the ones before it.
    pub fn next_tag(&self) -> String {
        format!("{}{:03}", self.tag_letter, self.command_id.wrapping_add(1))
    }

    /// The greeting was `* PREAUTH`: the session is authenticated
    /// already, so no login was done.
    pub fn preauth(&self) -> bool {
        self.preauth
    }

    /// The SASL mechanism the login used or tried, if any.
    pub fn mechanism(&self) -> Option<Mechanism> {
        self.sasl.mechanism()
    }

    fn phase(&self) -> Phase {
        match self.state {
            State::UpgradeTls => Phase::StartTls,
            State::Done => Phase::Done,
            _ => Phase::Talking,
        }
    }

    /// Sends `command` under the next tag; `shown` is the command as
    /// verbose output prints it.
    fn command(&mut self, command: &str, shown: &str) {
        self.command_id = self.command_id.wrapping_add(1);
        self.tag = format!("{}{:03}", self.tag_letter, self.command_id);
        let line = format!("{} {command}", self.tag);
        let shown = format!("{} {shown}", self.tag);
        self.talk.send(&line, &shown);
    }

    fn capability(&mut self) {
        // Capabilities are the server's state: what it listed before
        // (before TLS above all) counts for nothing now.
        self.sasl.clear_offers();
        self.tls_offered = false;
        self.login_disabled = false;
        self.ir_offered = false;
        self.command("CAPABILITY", "CAPABILITY");
        self.state = State::Capability;
    }

    fn classify<'a>(&self, line: &'a [u8]) -> Result<Response<'a>, ReplyError> {
        let tag = self.tag.as_bytes();
        if line.get(..tag.len()) == Some(tag) && line.get(tag.len()) == Some(&b' ') {
            let status = line.get(tag.len() + 1..).unwrap_or_default();
            return Ok(Response::Tagged {
                ok: status.starts_with(b"OK"),
                preauth: status.starts_with(b"PREAUTH"),
            });
        }
        if let Some(text) = line.strip_prefix(b"* ") {
            return Ok(Response::Untagged(text));
        }
        if line == b"+" {
            return Ok(Response::Continuation(b""));
        }
        if let Some(text) = line.strip_prefix(b"+ ") {
            return Ok(Response::Continuation(text));
        }
        Err(ReplyError::new(
            ReplyErrorKind::WeirdReply,
            format!(
                "not an IMAP response line (waiting for {}): {:?}",
                self.state.waiting_for(),
                String::from_utf8_lossy(line.get(..line.len().min(80)).unwrap_or_default())
            ),
        ))
    }

    /// An untagged `CAPABILITY` answer (`* CAPABILITY …`, or with a
    /// number first as some servers write it).
    fn capabilities(&mut self, text: &[u8]) {
        let text = match text.iter().position(|b| !b.is_ascii_digit()) {
            Some(0) => text,
            Some(at) if text.get(at) == Some(&b' ') => text.get(at + 1..).unwrap_or_default(),
            _ => return,
        };
        if !starts_with_ignore_case(text, b"CAPABILITY")
            || !matches!(text.get(10), None | Some(b' '))
        {
            return;
        }
        let words = String::from_utf8_lossy(text.get(10..).unwrap_or_default()).into_owned();
        for word in words.split_ascii_whitespace() {
            if word.eq_ignore_ascii_case("STARTTLS") {
                self.tls_offered = true;
            } else if word.eq_ignore_ascii_case("LOGINDISABLED") {
                self.login_disabled = true;
            } else if word.eq_ignore_ascii_case("SASL-IR") {
                self.ir_offered = true;
            } else if let Some(name) = word
                .get(..5)
                .filter(|key| key.eq_ignore_ascii_case("AUTH="))
                .and_then(|_| word.get(5..))
            {
                if let Some(mechanism) = Mechanisms::from_name(name) {
                    self.sasl.offer(mechanism);
                }
            }
        }
    }

    fn after_capability(&mut self, ok: bool) -> Result<(), ReplyError> {
        if !self.use_ssl.wanted() || self.tls {
            return self.authenticate();
        }
        if ok && self.tls_offered && !self.preauth {
            self.command("STARTTLS", "STARTTLS");
            self.state = State::StartTls;
            return Ok(());
        }
        if !self.use_ssl.required() {
            self.talk.info(if self.preauth {
                "PREAUTH connection: no STARTTLS; going on in clear text (CURLUSESSL_TRY)"
            } else {
                "the IMAP server does not offer STARTTLS: going on in clear text (CURLUSESSL_TRY)"
            });
            return self.authenticate();
        }
        Err(ReplyError::new(
            ReplyErrorKind::UseSslFailed,
            if self.preauth {
                "IMAP server greeted with PREAUTH: STARTTLS is impossible and TLS is required"
            } else {
                "IMAP server does not offer STARTTLS and TLS is required"
            },
        ))
    }

    fn authenticate(&mut self) -> Result<(), ReplyError> {
        if self.preauth || !self.sasl.can_authenticate() {
            self.state = State::Done;
            return Ok(());
        }
        if let Some(start) = self.sasl.start(self.ir_offered) {
            self.send_authenticate(&start);
            return Ok(());
        }
        if self.login_allowed && !self.login_disabled {
            return self.login();
        }
        let (notes, error) = self.sasl.blocked();
        for note in notes {
            self.talk.info(note);
        }
        if self.login_disabled {
            self.talk
                .info("IMAP: LOGIN disabled by the server (LOGINDISABLED)");
        }
        Err(error)
    }

    fn send_authenticate(&mut self, start: &SaslStart) {
        let (line, shown) = start.command("AUTHENTICATE");
        self.command(&line, &shown);
        self.state = State::Authenticate;
    }

    fn login(&mut self) -> Result<(), ReplyError> {
        let Some(credentials) = self.credentials.as_ref() else {
            self.state = State::Done;
            return Ok(());
        };
        check_argument("user name", &credentials.user)?;
        check_argument("password", &credentials.password)?;
        let user = atom(&credentials.user);
        let line = format!("LOGIN {user} {}", atom(&credentials.password));
        let shown = format!("LOGIN {user} <hidden>");
        self.command(&line, &shown);
        self.state = State::Login;
        Ok(())
    }

    fn authenticate_reply(&mut self, reply: SaslReply<'_>) -> Result<(), ReplyError> {
        match self.sasl.reply(reply)? {
            // Continuation lines carry no tag.
            SaslProgress::Send(message) => self.talk.send(message.line(), message.shown()),
            SaslProgress::Cancel { message, reason } => {
                self.talk.info(reason);
                self.talk.send(message.line(), message.shown());
            }
            SaslProgress::Restart(start) => self.send_authenticate(&start),
            SaslProgress::Exhausted if self.login_allowed && !self.login_disabled => {
                return self.login()
            }
            SaslProgress::Exhausted => {
                return Err(ReplyError::new(
                    ReplyErrorKind::LoginDenied,
                    "IMAP authentication cancelled: no SASL mechanism left",
                ))
            }
            SaslProgress::Done => self.state = State::Done,
        }
        Ok(())
    }
}

/// libcurl's quoting of `LOGIN` arguments: as is when no character needs
/// it, else a quoted string with `\` and `"` escaped. An empty value is
/// `""` (libcurl sends nothing, which breaks the command).
fn atom(value: &str) -> String {
    const SPECIAL: &[char] = &['(', ')', ' ', '{', '%', '*', ']', '\\', '"'];
    if !value.is_empty() && !value.contains(SPECIAL) {
        return value.to_owned();
    }
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for c in value.chars() {
        if c == '\\' || c == '"' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

impl LineProtocol for Imap {
    fn talk(&mut self) -> &mut Talk {
        &mut self.talk
    }

    fn reading(&self) -> bool {
        matches!(
            self.state,
            State::Greeting
                | State::Capability
                | State::StartTls
                | State::Authenticate
                | State::Login
        )
    }

    fn line(&mut self, line: &[u8]) -> Result<(), ReplyError> {
        let response = self.classify(line)?;
        if let Response::Tagged { .. } = response {
            self.talk.reply_ended();
        }
        let shown = String::from_utf8_lossy(line);
        match (self.state, response) {
            (State::Greeting, Response::Tagged { preauth: true, .. }) => {
                self.preauth = true;
                self.talk.info("PREAUTH connection, already authenticated");
                self.capability();
                Ok(())
            }
            (State::Greeting, Response::Tagged { ok: true, .. }) => {
                self.capability();
                Ok(())
            }
            (State::Greeting, Response::Tagged { .. }) => Err(ReplyError::new(
                ReplyErrorKind::WeirdReply,
                format!("unexpected IMAP greeting: {shown}"),
            )),
            (State::Capability, Response::Untagged(text)) => {
                self.capabilities(text);
                Ok(())
            }
            (State::Capability, Response::Tagged { ok, .. }) => self.after_capability(ok),
            (State::StartTls, Response::Tagged { ok: true, .. }) => {
                self.state = State::UpgradeTls;
                Ok(())
            }
            (State::StartTls, Response::Tagged { .. }) if !self.use_ssl.required() => {
                self.talk.info(format!(
                    "STARTTLS refused ({shown}): going on in clear text (CURLUSESSL_TRY)"
                ));
                self.authenticate()
            }
            (State::StartTls, Response::Tagged { .. }) => Err(ReplyError::new(
                ReplyErrorKind::UseSslFailed,
                format!("IMAP server refused STARTTLS: {shown}"),
            )),
            (State::Authenticate, Response::Continuation(text)) => {
                self.authenticate_reply(SaslReply::Continue(text))
            }
            (State::Authenticate, Response::Tagged { ok: true, .. }) => {
                self.authenticate_reply(SaslReply::Success)
            }
            (State::Authenticate, Response::Tagged { .. }) => {
                self.authenticate_reply(SaslReply::Failure(&shown))
            }
            (State::Login, Response::Tagged { ok: true, .. }) => {
                self.state = State::Done;
                Ok(())
            }
            (State::Login, Response::Tagged { .. }) => Err(ReplyError::new(
                ReplyErrorKind::LoginDenied,
                format!("IMAP server refused LOGIN: {shown}"),
            )),
            (_, Response::Continuation(_)) => Err(ReplyError::new(
                ReplyErrorKind::WeirdReply,
                format!("unexpected IMAP continuation response: {shown}"),
            )),
            // Untagged data the phase has no use for (and, during the
            // greeting, nothing: tag `*` makes every `* ` line tagged).
            (_, Response::Untagged(_)) => Ok(()),
            (State::UpgradeTls | State::Done, Response::Tagged { .. }) => Err(ReplyError::new(
                ReplyErrorKind::WeirdReply,
                "an IMAP response after the connect phase",
            )),
        }
    }
}

line_machine_surface!(Imap, "IMAP", capability);

#[cfg(test)]
mod tests;
