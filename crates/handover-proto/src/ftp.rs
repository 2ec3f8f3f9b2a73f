//! The FTP connect phase (libcurl's `ftp.c` up to `FTP_STOP`): what a
//! connect-only `ftp://` or `ftps://` transfer does before the control
//! connection is handed over, logged in and nothing else sent.
//!
//! ```text
//!   Greeting (120: wait on) ──220──┬──────────────────────────────┬──> USER ──331──> PASS ──┐
//!      │                           └─> AUTH TLS|SSL ──234/334──>  │      │ 332       │ 332  │
//!      │                                 │  StartTls ─tls_started─┘      └──> ACCT <─┘      │
//!      │ 230 (logged in already)         └─ refused: the other AUTH,     (530: the         │
//!      │                                    then clear text or fail       alternative      │
//!      │                                                                  to USER, once)   │
//!      └──────────────────────────────> logged in <────── 230 ──────────────────────────────┘
//!                                        ├─ TLS on the control connection: PBSZ 0 ──> PROT P|C
//!                                        └─> PWD ──any reply──> Done
//! ```
//!
//! Every reply may span lines (`220-...` up to `220 ...`). The response
//! code of the phase is the last reply's (257 after `PWD`, as libcurl's
//! `CURLINFO_RESPONSE_CODE`). No `QUIT` is ever sent: the connection is the
//! application's.
//!
//! Differences from libcurl, each on purpose: a `120` greeting ("service
//! ready in nnn minutes") is waited through to the `220` (RFC 959; libcurl
//! fails with 8); the password is `<hidden>` in the verbose lines; a bare
//! `220` line with no text counts as a final reply.

use std::collections::VecDeque;
use std::fmt;

use crate::machine::{Event, Machine, Status};
use crate::pingpong::{
    check_argument, Lines, Outbox, ReplyError, ReplyErrorKind, UseSsl, MAX_REPLY_LINES,
};

/// libcurl's anonymous login, used when no user name is given.
pub const ANONYMOUS_USER: &str = "anonymous";
/// libcurl's anonymous password.
pub const ANONYMOUS_PASSWORD: &str = "ftp@example.com";

/// Which `AUTH` command asks for TLS first (`CURLOPT_FTPSSLAUTH`); the
/// other is tried when the server refuses the first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FtpSslAuth {
    /// `AUTH TLS` first (`CURLFTPAUTH_DEFAULT`).
    #[default]
    Default,
    /// `AUTH SSL` first (`CURLFTPAUTH_SSL`).
    Ssl,
    /// `AUTH TLS` first (`CURLFTPAUTH_TLS`).
    Tls,
}

/// What the FTP connect phase needs to know. `Debug` hides the password.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct FtpConfig {
    /// The user name; `None` logs in as [`ANONYMOUS_USER`] with
    /// [`ANONYMOUS_PASSWORD`].
    pub user: Option<String>,
    /// The password (empty when none was given with a user name).
    pub password: String,
    /// `CURLOPT_FTP_ACCOUNT`: sent with `ACCT` when the server asks (332).
    pub account: Option<String>,
    /// `CURLOPT_FTP_ALTERNATIVE_TO_USER`: the command sent, once, when the
    /// server refuses `USER`.
    pub alternative_to_user: Option<String>,
    /// `CURLOPT_USE_SSL`.
    pub use_ssl: UseSsl,
    /// `CURLOPT_FTPSSLAUTH`.
    pub ssl_auth: FtpSslAuth,
    /// `ftps://`: TLS is already under the control connection.
    pub implicit_tls: bool,
}

impl fmt::Debug for FtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FtpConfig")
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .field("account", &self.account)
            .field("alternative_to_user", &self.alternative_to_user)
            .field("use_ssl", &self.use_ssl)
            .field("ssl_auth", &self.ssl_auth)
            .field("implicit_tls", &self.implicit_tls)
            .finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Auth {
    Tls,
    Ssl,
}

impl Auth {
    fn word(self) -> &'static str {
        match self {
            Auth::Tls => "TLS",
            Auth::Ssl => "SSL",
        }
    }

    fn other(self) -> Auth {
        match self {
            Auth::Tls => Auth::Ssl,
            Auth::Ssl => Auth::Tls,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Greeting,
    /// `AUTH` sent; `retried` once the other word was tried too.
    Auth {
        kind: Auth,
        retried: bool,
    },
    /// The server agreed to TLS: waiting for the caller.
    StartTls,
    /// `USER` (or the alternative command) sent.
    User,
    Pass,
    Acct,
    Pbsz,
    Prot,
    Pwd,
    Done,
    Failed(ReplyError),
}

/// The FTP connect phase as a machine.
///
/// # Examples
///
/// ```
/// use handover_proto::ftp::{FtpConfig, FtpLogin};
/// use handover_proto::machine::{Machine, Status};
///
/// let mut ftp = FtpLogin::new(FtpConfig::default()).unwrap();
/// assert_eq!(ftp.receive(b"220 ready\r\n").unwrap(), 11);
/// assert_eq!(ftp.transmit(), b"USER anonymous\r\n");
/// ftp.sent(16);
/// ftp.receive(b"331 send your e-mail\r\n").unwrap();
/// assert_eq!(ftp.transmit(), b"PASS ftp@example.com\r\n");
/// ftp.sent(22);
/// ftp.receive(b"230 hi\r\n").unwrap();
/// assert_eq!(ftp.transmit(), b"PWD\r\n");
/// ftp.sent(5);
/// ftp.receive(b"257 \"/\" is the current directory\r\n").unwrap();
/// assert_eq!(ftp.status(), Status::Done);
/// assert_eq!(ftp.response_code(), 257);
/// assert_eq!(ftp.entry_path(), Some("/"));
/// ```
#[derive(Clone, Debug)]
pub struct FtpLogin {
    config: FtpConfig,
    state: State,
    out: Outbox,
    lines: Lines,
    /// Lines of the reply being read.
    reply_lines: usize,
    /// The last complete reply's code.
    code: u16,
    /// TLS is under the control connection (implicit, or after `AUTH`).
    control_tls: bool,
    tried_alternative: bool,
    entry_path: Option<String>,
    events: VecDeque<Event>,
}

impl FtpLogin {
    /// The machine for `config`; refuses credentials that would break a
    /// command line.
    pub fn new(config: FtpConfig) -> Result<FtpLogin, ReplyError> {
        if let Some(user) = &config.user {
            check_argument("user name", user)?;
        }
        check_argument("password", &config.password)?;
        if let Some(account) = &config.account {
            check_argument("FTP account", account)?;
        }
        if let Some(alternative) = &config.alternative_to_user {
            check_argument("alternative to USER", alternative)?;
        }
        let control_tls = config.implicit_tls;
        Ok(FtpLogin {
            config,
            state: State::Greeting,
            out: Outbox::default(),
            lines: Lines::default(),
            reply_lines: 0,
            code: 0,
            control_tls,
            tried_alternative: false,
            entry_path: None,
            events: VecDeque::new(),
        })
    }

    /// The last reply's code (`CURLINFO_RESPONSE_CODE`): 257 after a
    /// complete phase.
    pub fn response_code(&self) -> u16 {
        self.code
    }

    /// The directory `PWD` named (libcurl's entry path), if it named one.
    pub fn entry_path(&self) -> Option<&str> {
        self.entry_path.as_deref()
    }

    /// True once TLS protects the control connection.
    pub fn control_tls(&self) -> bool {
        self.control_tls
    }

    fn send(&mut self, line: &str, shown: &str) {
        self.out.push_line(line);
        self.events.push_back(Event::HeaderOut(shown.to_owned()));
    }

    fn fail(&mut self, kind: ReplyErrorKind, message: String) -> ReplyError {
        let error = ReplyError::new(kind, message);
        self.state = State::Failed(error.clone());
        error
    }

    fn user(&mut self) {
        let user = self
            .config
            .user
            .clone()
            .unwrap_or_else(|| ANONYMOUS_USER.to_owned());
        let line = format!("USER {user}");
        self.send(&line, &line);
        self.state = State::User;
    }

    fn auth(&mut self, kind: Auth, retried: bool) {
        let line = format!("AUTH {}", kind.word());
        self.send(&line, &line);
        self.state = State::Auth { kind, retried };
    }

    /// After the greeting: ask for TLS, or log in.
    fn after_greeting(&mut self) {
        if self.config.use_ssl.wanted() && !self.control_tls {
            let first = match self.config.ssl_auth {
                FtpSslAuth::Ssl => Auth::Ssl,
                FtpSslAuth::Default | FtpSslAuth::Tls => Auth::Tls,
            };
            self.auth(first, false);
        } else {
            self.user();
        }
    }

    fn logged_in(&mut self) {
        if self.control_tls {
            self.send("PBSZ 0", "PBSZ 0");
            self.state = State::Pbsz;
        } else {
            self.pwd();
        }
    }

    fn pwd(&mut self) {
        self.send("PWD", "PWD");
        self.state = State::Pwd;
    }

    fn password(&self) -> String {
        match &self.config.user {
            Some(_) => self.config.password.clone(),
            None => ANONYMOUS_PASSWORD.to_owned(),
        }
    }

    /// Acts on a complete reply with `code`; `text` is its last line.
    fn on_reply(&mut self, code: u16, text: &str) -> Result<(), ReplyError> {
        self.code = code;
        match self.state.clone() {
            State::Greeting => match code {
                220 => self.after_greeting(),
                // RFC 959: the 220 follows when the server is ready.
                120 => self
                    .events
                    .push_back(Event::Info("the server asks to wait for it".into())),
                // Logged in already; with TLS required, log in again
                // under TLS as libcurl does.
                230 if !self.config.use_ssl.required() || self.control_tls => self.logged_in(),
                230 => self.after_greeting(),
                _ => {
                    return Err(self.fail(
                        ReplyErrorKind::WeirdReply,
                        format!("Got a {code:03} ftp-server response when 220 was expected"),
                    ))
                }
            },
            State::Auth { kind, retried } => match code {
                234 | 334 => {
                    self.state = State::StartTls;
                }
                _ if !retried => self.auth(kind.other(), true),
                _ if self.config.use_ssl.required() => {
                    return Err(self.fail(
                        ReplyErrorKind::UseSslFailed,
                        format!("the server refused AUTH TLS and AUTH SSL ({code:03}): no TLS"),
                    ))
                }
                _ => {
                    self.events.push_back(Event::Info(
                        "the server refused TLS: going on in clear text".into(),
                    ));
                    self.user();
                }
            },
            State::User | State::Pass => match code {
                331 if self.state == State::User => {
                    let password = self.password();
                    self.send(&format!("PASS {password}"), "PASS <hidden>");
                    self.state = State::Pass;
                }
                200..=299 => self.logged_in(),
                332 => match self.config.account.clone() {
                    Some(account) => {
                        let line = format!("ACCT {account}");
                        self.send(&line, "ACCT <hidden>");
                        self.state = State::Acct;
                    }
                    None => {
                        return Err(self.fail(
                            ReplyErrorKind::LoginDenied,
                            "ACCT requested but none available".into(),
                        ))
                    }
                },
                _ => match self.config.alternative_to_user.clone() {
                    Some(alternative) if !self.tried_alternative => {
                        self.tried_alternative = true;
                        self.send(&alternative, &alternative);
                        self.state = State::User;
                    }
                    _ => {
                        return Err(self.fail(
                            ReplyErrorKind::LoginDenied,
                            format!("Access denied: {code:03} {text}"),
                        ))
                    }
                },
            },
            State::Acct => {
                if code != 230 {
                    return Err(self.fail(
                        ReplyErrorKind::WeirdPassReply,
                        format!("ACCT rejected by server: {code:03}"),
                    ));
                }
                self.logged_in();
            }
            State::Pbsz => {
                // libcurl goes on whatever the answer.
                let prot = if self.config.use_ssl == UseSsl::Control {
                    "PROT C"
                } else {
                    "PROT P"
                };
                self.send(prot, prot);
                self.state = State::Prot;
            }
            State::Prot => {
                if code / 100 != 2 && self.config.use_ssl == UseSsl::All {
                    return Err(self.fail(
                        ReplyErrorKind::UseSslFailed,
                        format!("the server refused PROT P ({code:03}): data connections cannot be protected"),
                    ));
                }
                self.pwd();
            }
            State::Pwd => {
                if code == 257 {
                    self.entry_path = quoted_path(text);
                } else {
                    self.events.push_back(Event::Info(format!(
                        "PWD answered {code:03}: the entry path is not known"
                    )));
                }
                self.state = State::Done;
            }
            State::StartTls | State::Done | State::Failed(_) => {}
        }
        Ok(())
    }

    /// True while a reply is awaited (nothing left to write).
    fn awaiting_reply(&self) -> bool {
        self.out.is_empty()
            && !matches!(self.state, State::StartTls | State::Done | State::Failed(_))
    }
}

/// The directory in a 257 reply: between the first pair of double quotes,
/// `""` standing for one quote (RFC 959).
fn quoted_path(text: &str) -> Option<String> {
    let rest = text.get(4..)?;
    let start = rest.find('"')?;
    let mut path = String::new();
    let mut chars = rest.get(start + 1..)?.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if chars.peek() == Some(&'"') {
                chars.next();
                path.push('"');
            } else {
                return Some(path);
            }
        } else {
            path.push(c);
        }
    }
    None
}

/// The code of a reply's final line: three digits then a space (or the
/// end); `None` for any other line.
fn final_code(line: &[u8]) -> Option<u16> {
    let digits = line.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    match line.get(3) {
        None | Some(b' ') => {}
        _ => return None,
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

impl Machine for FtpLogin {
    type Error = ReplyError;

    fn transmit(&self) -> &[u8] {
        self.out.pending()
    }

    fn sent(&mut self, n: usize) {
        self.out.sent(n);
    }

    /// Reads reply lines while a reply is awaited; never past the reply
    /// that ends the phase or the go-ahead for TLS.
    fn receive(&mut self, input: &[u8]) -> Result<usize, ReplyError> {
        if let State::Failed(error) = &self.state {
            return Err(error.clone());
        }
        let mut used = 0;
        while self.awaiting_reply() {
            let rest = input.get(used..).unwrap_or_default();
            let Some((line, n)) = self
                .lines
                .next(rest)
                .inspect_err(|e| self.state = State::Failed(e.clone()))?
            else {
                break;
            };
            used += n;
            let text = String::from_utf8_lossy(line).into_owned();
            self.events.push_back(Event::HeaderIn(text.clone()));
            match final_code(line) {
                Some(code) => {
                    self.reply_lines = 0;
                    self.on_reply(code, &text)?;
                }
                None => {
                    self.reply_lines += 1;
                    if self.reply_lines >= MAX_REPLY_LINES {
                        return Err(self.fail(
                            ReplyErrorKind::TooLarge,
                            format!("an FTP reply of more than {MAX_REPLY_LINES} lines"),
                        ));
                    }
                }
            }
        }
        Ok(used)
    }

    fn peer_closed(&mut self) {
        if matches!(self.state, State::Done | State::Failed(_)) {
            return;
        }
        let kind = ReplyErrorKind::Closed;
        let message = match self.state {
            State::Greeting => "the FTP server closed the connection before its greeting",
            _ => "the FTP server closed the connection during the login",
        };
        self.state = State::Failed(ReplyError::new(kind, message));
    }

    fn status(&self) -> Status {
        match self.state {
            State::Done => Status::Done,
            State::StartTls => Status::StartTls,
            State::Failed(_) => Status::Failed,
            _ => Status::Pending,
        }
    }

    fn error(&self) -> Option<&ReplyError> {
        match &self.state {
            State::Failed(error) => Some(error),
            _ => None,
        }
    }

    fn wants_read(&self) -> bool {
        self.awaiting_reply()
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn tls_started(&mut self) {
        if self.state == State::StartTls {
            self.control_tls = true;
            self.user();
        }
    }
}

#[cfg(test)]
mod tests;
