//! The POP3 connect phase (RFC 1939, CAPA and STLS RFC 2449 / RFC 2595,
//! AUTH RFC 5034) as libcurl's `pop3_connect()` runs it for a
//! connect-only transfer.
//!
//! ```text
//!   Greeting +OK [<timestamp>] ──> CAPA ──.──┬─> [STLS ──+OK──> StartTls ──tls_started()──> CAPA ──┐]
//!      │                                     └─> [AUTH <mech> [ir] ⇄ + …
//!      │                                           | APOP user digest
//!      │                                           | USER user ──+OK──> PASS password] ──+OK──> Done
//!      └── -ERR, anything else ──> Failed(WeirdReply)
//! ```
//!
//! - The greeting's APOP timestamp (`<…@…>`) is kept
//!   ([`Pop3::apop_timestamp`]); a `-ERR` answer to `CAPA` means the
//!   server predates it: `USER`/`PASS` are assumed to work.
//! - STLS as for SMTP ([`crate::smtp`]): sent when [`UseSsl`] asks, the
//!   connection is not TLS yet and `CAPA` listed `STLS`. After the `+OK`
//!   the status is [`Status::StartTls`]; after [`Machine::tls_started`]
//!   `CAPA` is asked again and the clear-text answer forgotten.
//! - Login only with credentials (or EXTERNAL allowed and offered): SASL
//!   `AUTH` when `CAPA` listed `SASL` with a usable mechanism
//!   ([`crate::sasl`]), else `APOP` when the greeting had a timestamp,
//!   else `USER`/`PASS` when `CAPA` listed `USER` (or failed). The login
//!   options narrow this: `AUTH=<mechanism>` is SASL only, `AUTH=+APOP`
//!   APOP only, `AUTH=*` anything.
//!
//! No `QUIT` is ever sent: the connection is the application's.
//!
//! Where this differs from libcurl, on purpose:
//!
//! - every `CAPA` answer replaces the last one (`USER`, `SASL`, `STLS`):
//!   what the server listed in clear text does not outlive STLS (RFC
//!   2595 says to forget it); libcurl keeps `USER` and `SASL`;
//! - a line other than `+OK`, `-ERR` and `+ …` (outside the `CAPA` list)
//!   fails the phase with `CURLE_WEIRD_SERVER_REPLY` (8); libcurl skips it;
//! - a reply of more than [`MAX_REPLY_LINES`](crate::pingpong::MAX_REPLY_LINES)
//!   lines fails (`CURLE_TOO_LARGE`, 100);
//! - `AUTH=` with no value is refused (libcurl reads it as `AUTH=+APOP`),
//!   and `AUTH=+APOP` must be the whole value (libcurl takes a prefix);
//! - a user name or password holding a CR, LF or NUL is refused
//!   (`CURLE_URL_MALFORMAT`, 3) rather than sent in `USER`, `PASS` or
//!   `APOP`;
//! - verbose output shows `PASS <hidden>` and `APOP user <hidden>`.

use md5::{Digest, Md5};

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

/// What the POP3 connect phase needs (see the example on [`Pop3`]).
#[derive(Clone, Debug, Default)]
pub struct Pop3Config {
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
    /// The connection is TLS already (`pop3s://`): no STLS.
    pub implicit_tls: bool,
    /// `CURLOPT_LOGIN_OPTIONS`: `AUTH=<mechanism>`, `AUTH=*` or
    /// `AUTH=+APOP`, `;`-separated.
    pub login_options: Option<String>,
    /// The SASL options.
    pub sasl: SaslOptions,
}

/// Ways to log in: offered by the server, or allowed by the options
/// (libcurl's `POP3_TYPE_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Logins {
    clear_text: bool,
    apop: bool,
    sasl: bool,
}

impl Logins {
    const ANY: Logins = Logins {
        clear_text: true,
        apop: true,
        sasl: true,
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Greeting,
    Capa,
    Stls,
    UpgradeTls,
    Auth,
    Apop,
    User,
    Pass,
    Done,
}

impl State {
    fn waiting_for(self) -> &'static str {
        match self {
            State::Greeting => "its greeting",
            State::Capa => "the CAPA reply",
            State::Stls => "the STLS reply",
            State::UpgradeTls => "TLS",
            State::Auth => "the AUTH reply",
            State::Apop => "the APOP reply",
            State::User => "the USER reply",
            State::Pass => "the PASS reply",
            State::Done => "nothing",
        }
    }
}

/// One server line, as far as the connect phase cares.
enum Response<'a> {
    /// `+OK …`.
    Ok,
    /// `-ERR …`.
    Err,
    /// `+ …` (a SASL challenge): the text after `+ `.
    Continuation(&'a [u8]),
    /// A line of the `CAPA` list.
    Capability(&'a [u8]),
    /// The `.` that ends the `CAPA` list.
    End,
}

/// The POP3 connect phase: greeting, `CAPA`, STLS, login.
///
/// # Examples
///
/// APOP with the example of RFC 1939:
///
/// ```
/// use handover_proto::auth::{Credentials, Entropy};
/// use handover_proto::machine::{Machine, Status};
/// use handover_proto::pop3::{Pop3, Pop3Config};
///
/// let config = Pop3Config {
///     credentials: Some(Credentials { user: "mrose".into(), password: "tanstaaf".into() }),
///     ..Pop3Config::default()
/// };
/// let mut pop3 = Pop3::new(config, Entropy::default())?;
/// pop3.receive(b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n")?;
/// assert_eq!(pop3.apop_timestamp(), Some("<1896.697170952@dbc.mtview.ca.us>"));
/// assert_eq!(pop3.transmit(), b"CAPA\r\n");
/// pop3.sent(6);
/// pop3.receive(b"-ERR unknown command\r\n")?;
/// assert_eq!(pop3.transmit(), b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n");
/// pop3.sent(45);
/// pop3.receive(b"+OK mrose's maildrop has 2 messages (320 octets)\r\n")?;
/// assert_eq!(pop3.status(), Status::Done);
/// # Ok::<(), handover_proto::pingpong::ReplyError>(())
/// ```
#[derive(Debug)]
pub struct Pop3 {
    talk: Talk,
    state: State,
    use_ssl: UseSsl,
    credentials: Option<Credentials>,
    /// TLS runs under the machine (implicit, or after STLS).
    tls: bool,
    sasl: Sasl,
    /// The greeting's `<…@…>`, brackets included.
    timestamp: Option<Vec<u8>>,
    /// What the server offers: APOP from the greeting, the rest from CAPA.
    offered: Logins,
    /// What the login options allow.
    allowed: Logins,
    /// The last CAPA listed STLS.
    tls_offered: bool,
}

impl Pop3 {
    /// Prepares the phase; it starts by reading the greeting. Login
    /// options other than `AUTH=<known mechanism>`, `AUTH=*` and
    /// `AUTH=+APOP` are [`ReplyErrorKind::BadOption`]
    /// (`CURLE_URL_MALFORMAT`, 3). `entropy` is for DIGEST-MD5 and NTLM.
    pub fn new(config: Pop3Config, entropy: Entropy) -> Result<Pop3, ReplyError> {
        let mut preference = Preference::new(Mechanisms::from_http_auth(config.sasl.http_auth));
        let mut apop_only = false;
        for value in auth_values(config.login_options.as_deref().unwrap_or(""))? {
            match preference.apply(value) {
                Ok(()) => {}
                Err(_) if value.eq_ignore_ascii_case("+APOP") => {
                    apop_only = true;
                    preference.clear();
                }
                Err(error) => return Err(error),
            }
        }
        let allowed = if apop_only {
            Logins {
                apop: true,
                ..Logins::default()
            }
        } else if preference.mechanisms() == Mechanisms::DEFAULT {
            Logins::ANY
        } else if preference.mechanisms().is_empty() {
            Logins::default()
        } else {
            Logins {
                sasl: true,
                ..Logins::default()
            }
        };
        Ok(Pop3 {
            talk: Talk::default(),
            state: State::Greeting,
            use_ssl: config.use_ssl,
            tls: config.implicit_tls,
            sasl: Sasl::new(
                SaslProtocol::Pop3,
                preference.mechanisms(),
                config.credentials.clone(),
                config.sasl,
                &config.host,
                config.port,
                entropy,
            ),
            credentials: config.credentials,
            timestamp: None,
            offered: Logins::default(),
            allowed,
            tls_offered: false,
        })
    }

    /// The APOP timestamp of the greeting (`<…@…>`, brackets included),
    /// if it had one (and it is UTF-8).
    pub fn apop_timestamp(&self) -> Option<&str> {
        self.timestamp
            .as_deref()
            .and_then(|t| std::str::from_utf8(t).ok())
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

    fn classify<'a>(&self, line: &'a [u8]) -> Result<Response<'a>, ReplyError> {
        if line.starts_with(b"-ERR") {
            return Ok(Response::Err);
        }
        if self.state == State::Capa {
            return Ok(if line == b"." {
                Response::End
            } else {
                Response::Capability(line)
            });
        }
        if line.starts_with(b"+OK") {
            return Ok(Response::Ok);
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
                "not a POP3 reply line (waiting for {}): {:?}",
                self.state.waiting_for(),
                String::from_utf8_lossy(line.get(..line.len().min(80)).unwrap_or_default())
            ),
        ))
    }

    /// `<…@…>` in the greeting: RFC 1939 wants a message id, so one
    /// without `@` is no timestamp (as libcurl reads it).
    fn note_timestamp(&mut self, line: &[u8]) {
        let Some(open) = line.iter().position(|&b| b == b'<') else {
            return;
        };
        let rest = line.get(open..).unwrap_or_default();
        let Some(close) = rest.iter().position(|&b| b == b'>') else {
            return;
        };
        let stamp = rest.get(..=close).unwrap_or_default();
        if stamp.contains(&b'@') {
            self.timestamp = Some(stamp.to_vec());
            self.offered.apop = true;
        }
    }

    fn capa(&mut self) {
        // What CAPA said before (in clear text above all) counts for
        // nothing now; the greeting's timestamp stays.
        self.sasl.clear_offers();
        self.tls_offered = false;
        self.offered.clear_text = false;
        self.offered.sasl = false;
        self.talk.send("CAPA", "CAPA");
        self.state = State::Capa;
    }

    fn capability(&mut self, line: &[u8]) {
        if starts_with_ignore_case(line, b"STLS") {
            self.tls_offered = true;
        } else if starts_with_ignore_case(line, b"USER") {
            self.offered.clear_text = true;
        } else if starts_with_ignore_case(line, b"SASL ") {
            self.offered.sasl = true;
            let list = String::from_utf8_lossy(line.get(5..).unwrap_or_default());
            self.sasl.offer(Mechanisms::parse_list(&list));
        }
    }

    fn after_capa(&mut self, ok: bool) -> Result<(), ReplyError> {
        if !ok {
            // A server without CAPA: USER/PASS is what RFC 1939 has.
            self.offered.clear_text = true;
        }
        if !self.use_ssl.wanted() || self.tls {
            return self.authenticate();
        }
        if ok && self.tls_offered {
            self.talk.send("STLS", "STLS");
            self.state = State::Stls;
            return Ok(());
        }
        if !self.use_ssl.required() {
            self.talk.info(
                "the POP3 server does not offer STLS: going on in clear text (CURLUSESSL_TRY)",
            );
            return self.authenticate();
        }
        Err(ReplyError::new(
            ReplyErrorKind::UseSslFailed,
            "POP3 server does not offer STLS and TLS is required",
        ))
    }

    fn authenticate(&mut self) -> Result<(), ReplyError> {
        if !self.sasl.can_authenticate() {
            self.state = State::Done;
            return Ok(());
        }
        if self.offered.sasl && self.allowed.sasl {
            if let Some(start) = self.sasl.start(false) {
                self.send_auth(&start);
                return Ok(());
            }
        }
        self.without_sasl().unwrap_or_else(|| Err(self.blocked()))
    }

    /// APOP or USER, when offered and allowed; `None` when neither is.
    fn without_sasl(&mut self) -> Option<Result<(), ReplyError>> {
        if self.offered.apop && self.allowed.apop {
            Some(self.apop())
        } else if self.offered.clear_text && self.allowed.clear_text {
            Some(self.user())
        } else {
            None
        }
    }

    fn blocked(&mut self) -> ReplyError {
        let (notes, error) = self.sasl.blocked();
        for note in notes {
            self.talk.info(note);
        }
        error
    }

    fn send_auth(&mut self, start: &SaslStart) {
        let (line, shown) = start.command("AUTH");
        self.talk.send(&line, &shown);
        self.state = State::Auth;
    }

    fn apop(&mut self) -> Result<(), ReplyError> {
        let (Some(credentials), Some(timestamp)) = (&self.credentials, &self.timestamp) else {
            self.state = State::Done;
            return Ok(());
        };
        check_argument("user name", &credentials.user)?;
        let mut md5 = Md5::new();
        md5.update(timestamp);
        md5.update(credentials.password.as_bytes());
        let digest: String = md5.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let line = format!("APOP {} {digest}", credentials.user);
        let shown = format!("APOP {} <hidden>", credentials.user);
        self.talk.send(&line, &shown);
        self.state = State::Apop;
        Ok(())
    }

    fn user(&mut self) -> Result<(), ReplyError> {
        let Some(credentials) = &self.credentials else {
            self.state = State::Done;
            return Ok(());
        };
        check_argument("user name", &credentials.user)?;
        check_argument("password", &credentials.password)?;
        let line = format!("USER {}", credentials.user);
        self.talk.send(&line, &line);
        self.state = State::User;
        Ok(())
    }

    fn pass(&mut self) {
        let password = self
            .credentials
            .as_ref()
            .map_or("", |c| c.password.as_str());
        let line = format!("PASS {password}");
        self.talk.send(&line, "PASS <hidden>");
        self.state = State::Pass;
    }

    fn auth_reply(&mut self, reply: SaslReply<'_>) -> Result<(), ReplyError> {
        match self.sasl.reply(reply)? {
            SaslProgress::Send(message) => self.talk.send(message.line(), message.shown()),
            SaslProgress::Cancel { message, reason } => {
                self.talk.info(reason);
                self.talk.send(message.line(), message.shown());
            }
            SaslProgress::Restart(start) => self.send_auth(&start),
            SaslProgress::Exhausted => {
                return self.without_sasl().unwrap_or_else(|| {
                    Err(ReplyError::new(
                        ReplyErrorKind::LoginDenied,
                        "POP3 authentication cancelled: no SASL mechanism left",
                    ))
                })
            }
            SaslProgress::Done => self.state = State::Done,
        }
        Ok(())
    }
}

impl LineProtocol for Pop3 {
    fn talk(&mut self) -> &mut Talk {
        &mut self.talk
    }

    fn reading(&self) -> bool {
        !matches!(self.state, State::UpgradeTls | State::Done)
    }

    fn line(&mut self, line: &[u8]) -> Result<(), ReplyError> {
        let response = self.classify(line)?;
        if !matches!(response, Response::Capability(_)) {
            self.talk.reply_ended();
        }
        let shown = String::from_utf8_lossy(line);
        let denied = |what: &str| {
            ReplyError::new(
                ReplyErrorKind::LoginDenied,
                format!("POP3 server refused {what}: {shown}"),
            )
        };
        match (self.state, response) {
            (State::Greeting, Response::Ok) => {
                self.note_timestamp(line);
                self.capa();
                Ok(())
            }
            (State::Greeting, _) => Err(ReplyError::new(
                ReplyErrorKind::WeirdReply,
                format!("unexpected POP3 greeting: {shown}"),
            )),
            (State::Capa, Response::Capability(text)) => {
                self.capability(text);
                Ok(())
            }
            (State::Capa, Response::End) => self.after_capa(true),
            (State::Capa, _) => self.after_capa(false),
            (State::Stls, Response::Ok) => {
                self.state = State::UpgradeTls;
                Ok(())
            }
            (State::Stls, _) if !self.use_ssl.required() => {
                self.talk.info(format!(
                    "STLS refused ({shown}): going on in clear text (CURLUSESSL_TRY)"
                ));
                self.authenticate()
            }
            (State::Stls, _) => Err(ReplyError::new(
                ReplyErrorKind::UseSslFailed,
                format!("POP3 server refused STLS: {shown}"),
            )),
            (State::Auth, Response::Continuation(text)) => {
                self.auth_reply(SaslReply::Continue(text))
            }
            (State::Auth, Response::Ok) => self.auth_reply(SaslReply::Success),
            (State::Auth, _) => self.auth_reply(SaslReply::Failure(&shown)),
            (State::Apop, Response::Ok) | (State::Pass, Response::Ok) => {
                self.state = State::Done;
                Ok(())
            }
            (State::Apop, _) => Err(denied("APOP")),
            (State::User, Response::Ok) => {
                self.pass();
                Ok(())
            }
            (State::User, _) => Err(denied("USER")),
            (State::Pass, _) => Err(denied("PASS")),
            (State::UpgradeTls | State::Done, _) => Err(ReplyError::new(
                ReplyErrorKind::WeirdReply,
                "a POP3 reply after the connect phase",
            )),
        }
    }
}

line_machine_surface!(Pop3, "POP3", capa);

#[cfg(test)]
mod tests;
