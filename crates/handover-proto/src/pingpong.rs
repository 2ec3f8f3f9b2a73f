//! What the connect phases of the line-based protocols share — FTP, IMAP,
//! POP3 and SMTP, libcurl's "pingpong" family, where the client writes a
//! command line and reads the server's reply lines:
//!
//! - [`UseSsl`]: how much TLS the application asks for (`CURLOPT_USE_SSL`);
//! - [`ReplyError`]: how a connect phase fails, in kinds that map to
//!   libcurl's codes;
//! - [`Lines`]: the server's lines, one at a time, each bounded, found in
//!   time linear in the bytes however the bytes arrive;
//! - [`Outbox`]: the command being written.
//!
//! Each protocol's machine (its own module) implements
//! [`Machine`](crate::machine::Machine) with these: it reports
//! [`Status::StartTls`] right after the
//! server agreed to STARTTLS (`AUTH TLS`, `STLS`) and, having consumed
//! exactly that answer, waits for the caller to put TLS under it and call
//! [`Machine::tls_started`](crate::machine::Machine::tls_started). Bytes
//! the server sent after that answer are not the machine's: the caller
//! must refuse them (libcurl took them as TLS-protected, CVE-2021-22947).

use std::collections::VecDeque;
use std::fmt;

use crate::machine::{Event, Status};

/// The longest line a server may send: far above any real greeting,
/// capability list or SASL challenge, far below what would hurt.
pub const MAX_LINE: usize = 64 * 1024;

/// The most lines one multi-line reply may have.
pub const MAX_REPLY_LINES: usize = 1_000;

/// How much TLS the application asks for (`CURLOPT_USE_SSL`), for the
/// protocols that can start it on a clear connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum UseSsl {
    /// Clear text (`CURLUSESSL_NONE`, the default).
    #[default]
    None,
    /// TLS if the server agrees, clear text otherwise (`CURLUSESSL_TRY`).
    Try,
    /// TLS for the control connection or fail (`CURLUSESSL_CONTROL`).
    Control,
    /// TLS for everything or fail (`CURLUSESSL_ALL`).
    All,
}

impl UseSsl {
    /// libcurl's value (0 to 3), or `None` for another number.
    pub fn from_curl(value: i64) -> Option<UseSsl> {
        Some(match value {
            0 => UseSsl::None,
            1 => UseSsl::Try,
            2 => UseSsl::Control,
            3 => UseSsl::All,
            _ => return None,
        })
    }

    /// True when the client asks the server for TLS.
    pub fn wanted(self) -> bool {
        self != UseSsl::None
    }

    /// True when the phase must fail if the server will not start TLS.
    pub fn required(self) -> bool {
        matches!(self, UseSsl::Control | UseSsl::All)
    }
}

/// How a connect phase failed; the caller maps each kind to libcurl's code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReplyErrorKind {
    /// A reply the protocol does not allow at this point, or not a reply
    /// at all (`CURLE_WEIRD_SERVER_REPLY`, 8).
    WeirdReply,
    /// The server refused access before any login (`CURLE_REMOTE_ACCESS_DENIED`, 9).
    AccessDenied,
    /// The server refused the credentials, or no way to log in was left
    /// (`CURLE_LOGIN_DENIED`, 67).
    LoginDenied,
    /// TLS was required and the server would not start it
    /// (`CURLE_USE_SSL_FAILED`, 64).
    UseSslFailed,
    /// The server refused the account (`ACCT`) after the password
    /// (`CURLE_FTP_WEIRD_PASS_REPLY`, 11).
    WeirdPassReply,
    /// The server closed the connection mid-phase (`CURLE_RECV_ERROR`, 56;
    /// before its greeting `CURLE_GOT_NOTHING`, 52, where libcurl says so:
    /// for IMAP, POP3 and SMTP it is always 56, "response reading failed").
    Closed,
    /// A line or reply longer than [`MAX_LINE`] or [`MAX_REPLY_LINES`]
    /// allow (`CURLE_TOO_LARGE`, 100: what libcurl returns when a line
    /// overflows its 64 KiB reply buffer; libcurl counts no lines, the
    /// line limit here fails the same way).
    TooLarge,
    /// The options ask for what the protocol cannot do: an unknown SASL
    /// mechanism in the login options, a CR or LF in a command argument
    /// (`CURLE_URL_MALFORMAT`, 3, as libcurl).
    BadOption,
}

/// A connect phase's failure: what kind, and a message naming what the
/// server said or what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyError {
    /// What kind of failure, for the code.
    pub kind: ReplyErrorKind,
    /// What happened, in words.
    pub message: String,
}

impl ReplyError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: ReplyErrorKind, message: impl Into<String>) -> ReplyError {
        ReplyError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ReplyError {}

/// The server's lines, one at a time: each call is given the input from
/// the first byte not yet consumed and remembers how far it has looked,
/// so a line arriving one byte per call costs no rescans.
///
/// # Examples
///
/// ```
/// use handover_proto::pingpong::Lines;
///
/// let mut lines = Lines::default();
/// assert_eq!(lines.next(b"220 rea").unwrap(), None);
/// let (line, used) = lines.next(b"220 ready\r\n331 more").unwrap().unwrap();
/// assert_eq!((line, used), (&b"220 ready"[..], 11));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Lines {
    /// Bytes of the current line already searched for its end.
    scanned: usize,
}

impl Lines {
    /// The next complete line of `input` without its line end (CRLF, or a
    /// bare LF as libcurl accepts), and the bytes it took with the line
    /// end; `None` until the line is complete. A line longer than
    /// [`MAX_LINE`] is an error.
    pub fn next<'a>(&mut self, input: &'a [u8]) -> Result<Option<(&'a [u8], usize)>, ReplyError> {
        let from = self.scanned.min(input.len());
        let rest = input.get(from..).unwrap_or_default();
        let Some(at) = rest.iter().position(|&b| b == b'\n') else {
            self.scanned = input.len();
            if input.len() > MAX_LINE {
                return Err(ReplyError::new(
                    ReplyErrorKind::TooLarge,
                    format!("a server line longer than {MAX_LINE} bytes"),
                ));
            }
            return Ok(None);
        };
        let end = from + at;
        self.scanned = 0;
        if end > MAX_LINE {
            return Err(ReplyError::new(
                ReplyErrorKind::TooLarge,
                format!("a server line longer than {MAX_LINE} bytes"),
            ));
        }
        let line = input.get(..end).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Ok(Some((line, end + 1)))
    }
}

/// The command being written: queued whole, written as the pipe takes it.
///
/// # Examples
///
/// ```
/// use handover_proto::pingpong::Outbox;
///
/// let mut out = Outbox::default();
/// out.push_line("USER anonymous");
/// assert_eq!(out.pending(), b"USER anonymous\r\n");
/// out.sent(4);
/// assert_eq!(out.pending(), b" anonymous\r\n");
/// out.sent(100);
/// assert!(out.is_empty());
/// ```
///
/// `Debug` shows lengths only: the bytes may carry a password (`PASS`,
/// `LOGIN`, an `AUTH` initial response), even once written.
#[derive(Clone, Default)]
pub struct Outbox {
    bytes: Vec<u8>,
    sent: usize,
}

impl fmt::Debug for Outbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("queued", &self.bytes.len())
            .field("sent", &self.sent)
            .finish()
    }
}

impl Outbox {
    /// Queues `line` and its CRLF.
    pub fn push_line(&mut self, line: &str) {
        if self.is_empty() {
            self.bytes.clear();
            self.sent = 0;
        }
        self.bytes.extend_from_slice(line.as_bytes());
        self.bytes.extend_from_slice(b"\r\n");
    }

    /// Bytes not yet written.
    pub fn pending(&self) -> &[u8] {
        self.bytes.get(self.sent..).unwrap_or_default()
    }

    /// The first `n` pending bytes were written (more counts as all).
    pub fn sent(&mut self, n: usize) {
        self.sent = self.sent.saturating_add(n).min(self.bytes.len());
    }

    /// True when everything queued has been written.
    pub fn is_empty(&self) -> bool {
        self.sent >= self.bytes.len()
    }
}

/// Refuses a command argument that would end the line early or start
/// another command (a CR, LF or NUL from a URL or an option).
pub fn check_argument(what: &str, value: &str) -> Result<(), ReplyError> {
    if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(ReplyError::new(
            ReplyErrorKind::BadOption,
            format!("the {what} holds a line break or NUL"),
        ));
    }
    Ok(())
}

/// The most verbose-output events, and bytes of their text, a machine
/// keeps for [`poll_event`](crate::machine::Machine::poll_event); past
/// either, new ones are dropped (a caller that never polls cannot make
/// the queue grow).
const MAX_EVENTS: usize = 4 * MAX_REPLY_LINES;
const MAX_EVENT_BYTES: usize = 16 * MAX_LINE;

/// Where a line machine stands, for its [`Status`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Commands out, replies in.
    Talking,
    /// The server agreed to STARTTLS: TLS goes under the machine next.
    StartTls,
    /// The connect phase is over.
    Done,
}

/// What the SMTP, IMAP and POP3 machines share: the command being
/// written, the reply lines being read (each bounded, a reply at most
/// [`MAX_REPLY_LINES`] lines), the events for verbose output and the
/// first error, which every later call returns.
#[derive(Debug, Default)]
pub(crate) struct Talk {
    pub(crate) out: Outbox,
    lines: Lines,
    /// Lines of the reply being read.
    reply_lines: usize,
    events: VecDeque<Event>,
    /// Bytes of text in `events`.
    event_bytes: usize,
    pub(crate) error: Option<ReplyError>,
}

impl Talk {
    /// Queues a command line; `shown` is the line as verbose output
    /// prints it (secrets replaced).
    pub(crate) fn send(&mut self, line: &str, shown: &str) {
        self.out.push_line(line);
        self.event(Event::HeaderOut(shown.to_owned()));
    }

    /// An informational line for verbose output.
    pub(crate) fn info(&mut self, text: impl Into<String>) {
        self.event(Event::Info(text.into()));
    }

    fn event(&mut self, event: Event) {
        let len = event_len(&event);
        if self.events.len() < MAX_EVENTS && self.event_bytes + len <= MAX_EVENT_BYTES {
            self.event_bytes += len;
            self.events.push_back(event);
        }
    }

    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front()?;
        self.event_bytes = self.event_bytes.saturating_sub(event_len(&event));
        Some(event)
    }

    /// Records `error` unless an earlier one is recorded; returns the
    /// one that stands.
    pub(crate) fn fail(&mut self, error: ReplyError) -> ReplyError {
        self.error.get_or_insert(error).clone()
    }

    /// The reply being read ended with the line just handled.
    pub(crate) fn reply_ended(&mut self) {
        self.reply_lines = 0;
    }

    /// A new byte stream starts (TLS now runs under the machine).
    pub(crate) fn restart_lines(&mut self) {
        self.lines = Lines::default();
        self.reply_lines = 0;
    }

    /// The machine's status in `phase`.
    pub(crate) fn status(&self, phase: Phase) -> Status {
        match (&self.error, phase) {
            (Some(_), _) => Status::Failed,
            (None, Phase::Talking) => Status::Pending,
            (None, Phase::StartTls) => Status::StartTls,
            (None, Phase::Done) => Status::Done,
        }
    }

    /// The next server line of `input`, checked: no NUL (libcurl refuses
    /// one as `CURLE_WEIRD_SERVER_REPLY`), within the reply's line count;
    /// shown in verbose output.
    fn next_line<'a>(&mut self, input: &'a [u8]) -> Result<Option<(&'a [u8], usize)>, ReplyError> {
        let Some((line, used)) = self.lines.next(input)? else {
            return Ok(None);
        };
        if line.contains(&0) {
            return Err(ReplyError::new(
                ReplyErrorKind::WeirdReply,
                "a NUL byte in a server line",
            ));
        }
        self.reply_lines += 1;
        if self.reply_lines > MAX_REPLY_LINES {
            return Err(ReplyError::new(
                ReplyErrorKind::TooLarge,
                format!("a server reply of more than {MAX_REPLY_LINES} lines"),
            ));
        }
        self.event(Event::HeaderIn(String::from_utf8_lossy(line).into_owned()));
        Ok(Some((line, used)))
    }
}

fn event_len(event: &Event) -> usize {
    match event {
        Event::HeaderOut(text) | Event::HeaderIn(text) | Event::Info(text) => text.len(),
    }
}

/// The [`Machine`](crate::machine::Machine) surface of a line machine
/// (IMAP, POP3, SMTP), written once: everything is the shared [`Talk`]
/// and [`receive_lines`], but the protocol's name in the closing message
/// and `$again`, the method that asks the capabilities again once TLS is
/// up (`CAPABILITY`, `CAPA`, `EHLO`). Invoked in the protocol's module,
/// where `State` (with `UpgradeTls` and `waiting_for`) and the machine's
/// `phase`, `talk` and `tls` fields are.
macro_rules! line_machine_surface {
    ($machine:ty, $name:literal, $again:ident) => {
        impl Machine for $machine {
            type Error = ReplyError;

            fn transmit(&self) -> &[u8] {
                self.talk.out.pending()
            }

            fn sent(&mut self, n: usize) {
                self.talk.out.sent(n);
            }

            /// Consumes whole reply lines, up to the reply that ends the
            /// phase or the answer agreeing to TLS: never a byte past them.
            fn receive(&mut self, input: &[u8]) -> Result<usize, ReplyError> {
                receive_lines(self, input)
            }

            /// Fails the phase with [`ReplyErrorKind::Closed`] unless it is
            /// over.
            fn peer_closed(&mut self) {
                if self.status() == Status::Pending {
                    let waiting = self.state.waiting_for();
                    self.talk.fail(ReplyError::new(
                        ReplyErrorKind::Closed,
                        format!(
                            "the {} server closed the connection while the client waited for {waiting}",
                            $name
                        ),
                    ));
                }
            }

            fn status(&self) -> Status {
                self.talk.status(self.phase())
            }

            fn error(&self) -> Option<&ReplyError> {
                self.talk.error.as_ref()
            }

            fn wants_read(&self) -> bool {
                self.status() == Status::Pending && self.talk.out.is_empty()
            }

            fn poll_event(&mut self) -> Option<Event> {
                self.talk.poll_event()
            }

            /// After [`Status::StartTls`]: asks the capabilities again, now
            /// over TLS.
            fn tls_started(&mut self) {
                if self.state == State::UpgradeTls && self.talk.error.is_none() {
                    self.tls = true;
                    self.talk.restart_lines();
                    self.$again();
                }
            }
        }
    };
}
pub(crate) use line_machine_surface;

/// The protocol side of a line machine, as [`receive_lines`] drives it.
pub(crate) trait LineProtocol {
    /// The shared conversation state.
    fn talk(&mut self) -> &mut Talk;
    /// True while the protocol waits for server lines (not at STARTTLS,
    /// not done).
    fn reading(&self) -> bool;
    /// Handles one server line (without its line end).
    fn line(&mut self, line: &[u8]) -> Result<(), ReplyError>;
}

/// `Machine::receive` for a line machine: hands complete lines to the
/// protocol while it reads and has no command to write, and consumes
/// exactly those lines — never a byte of a line it did not handle, so
/// nothing past the last reply (or the STARTTLS answer) is taken.
pub(crate) fn receive_lines<P: LineProtocol>(
    protocol: &mut P,
    input: &[u8],
) -> Result<usize, ReplyError> {
    if let Some(error) = &protocol.talk().error {
        return Err(error.clone());
    }
    let mut used = 0;
    while protocol.reading() && protocol.talk().out.is_empty() {
        let rest = input.get(used..).unwrap_or_default();
        let (line, n) = match protocol.talk().next_line(rest) {
            Ok(Some(found)) => found,
            Ok(None) => break,
            Err(error) => return Err(protocol.talk().fail(error)),
        };
        used += n;
        if let Err(error) = protocol.line(line) {
            return Err(protocol.talk().fail(error));
        }
    }
    Ok(used)
}

/// Whether `line` starts with `prefix`, ignoring ASCII case.
pub(crate) fn starts_with_ignore_case(line: &[u8], prefix: &[u8]) -> bool {
    line.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::for_each_split;

    #[test]
    fn lines_are_found_however_the_bytes_arrive() {
        let input = b"220-first\r\n220 second\nrest";
        for_each_split(input, |offset, head, _| {
            let mut lines = Lines::default();
            // The head first (as a short read), then everything.
            let early = lines.next(head).unwrap();
            if offset < 11 {
                assert_eq!(early, None, "split at {offset}");
            }
            let (line, used) = lines.next(input).unwrap().unwrap();
            assert_eq!((line, used), (&b"220-first"[..], 11), "split at {offset}");
            let (line, used2) = lines.next(&input[used..]).unwrap().unwrap();
            assert_eq!((line, used2), (&b"220 second"[..], 11));
            assert_eq!(lines.next(&input[used + used2..]).unwrap(), None);
        });
    }

    #[test]
    fn a_line_one_byte_at_a_time_is_scanned_once() {
        let mut lines = Lines::default();
        let mut input = Vec::new();
        for _ in 0..10_000 {
            input.push(b'a');
            assert_eq!(lines.next(&input).unwrap(), None);
            // Each call searched only the new byte.
            assert_eq!(lines.scanned, input.len());
        }
        input.extend_from_slice(b"\r\n");
        let (line, used) = lines.next(&input).unwrap().unwrap();
        assert_eq!((line.len(), used), (10_000, 10_002));
    }

    #[test]
    fn an_endless_line_is_refused_once_past_the_limit() {
        let mut lines = Lines::default();
        let long = vec![b'x'; MAX_LINE + 1];
        let err = lines.next(&long).unwrap_err();
        assert_eq!(err.kind, ReplyErrorKind::TooLarge);
        let mut lines = Lines::default();
        let mut ended = long.clone();
        ended.push(b'\n');
        assert_eq!(
            lines.next(&ended).unwrap_err().kind,
            ReplyErrorKind::TooLarge
        );
        let mut lines = Lines::default();
        let exact = [vec![b'x'; MAX_LINE], b"\r\n".to_vec()].concat();
        // CR included the line is MAX_LINE + 1 bytes before the LF: refused.
        assert!(lines.next(&exact).is_err());
        let mut lines = Lines::default();
        let fits = [vec![b'x'; MAX_LINE - 1], b"\r\n".to_vec()].concat();
        assert_eq!(lines.next(&fits).unwrap().unwrap().0.len(), MAX_LINE - 1);
    }

    /// Reads lines until `stop_after`; every `per_reply` lines end a
    /// reply; queues a command after line `command_at`.
    #[derive(Default)]
    struct Counter {
        talk: Talk,
        handled: usize,
        stop_after: usize,
        per_reply: usize,
        command_at: usize,
    }

    impl LineProtocol for Counter {
        fn talk(&mut self) -> &mut Talk {
            &mut self.talk
        }

        fn reading(&self) -> bool {
            self.handled < self.stop_after
        }

        fn line(&mut self, _line: &[u8]) -> Result<(), ReplyError> {
            self.handled += 1;
            if self.handled % self.per_reply == 0 {
                self.talk.reply_ended();
            }
            if self.handled == self.command_at {
                self.talk.send("NEXT", "NEXT");
            }
            Ok(())
        }
    }

    #[test]
    fn receive_lines_takes_only_the_lines_it_handles() {
        let mut counter = Counter {
            stop_after: 3,
            per_reply: 1,
            command_at: 2,
            ..Counter::default()
        };
        let input = b"a\r\nb\r\nc\r\nd\r\n";
        // Stops after b: a command waits to be written.
        assert_eq!(receive_lines(&mut counter, input), Ok(6));
        assert_eq!(counter.talk.out.pending(), b"NEXT\r\n");
        assert_eq!(receive_lines(&mut counter, &input[6..]), Ok(0));
        counter.talk.out.sent(6);
        // Stops after c: the protocol reads no more.
        assert_eq!(receive_lines(&mut counter, &input[6..]), Ok(3));
        assert_eq!(counter.handled, 3);
        let events: Vec<Event> = std::iter::from_fn(|| counter.talk.poll_event()).collect();
        assert_eq!(
            events,
            [
                Event::HeaderIn("a".into()),
                Event::HeaderIn("b".into()),
                Event::HeaderOut("NEXT".into()),
                Event::HeaderIn("c".into()),
            ]
        );
    }

    #[test]
    fn a_reply_too_many_lines_long_and_a_nul_are_refused() {
        let mut counter = Counter {
            stop_after: usize::MAX,
            per_reply: usize::MAX,
            ..Counter::default()
        };
        let many = b"x\n".repeat(MAX_REPLY_LINES + 1);
        let error = receive_lines(&mut counter, &many).unwrap_err();
        assert_eq!(error.kind, ReplyErrorKind::TooLarge);
        assert_eq!(counter.handled, MAX_REPLY_LINES);
        // The first error stands.
        assert_eq!(receive_lines(&mut counter, b"y\n"), Err(error));

        let mut counter = Counter {
            stop_after: usize::MAX,
            per_reply: 1,
            ..Counter::default()
        };
        let error = receive_lines(&mut counter, b"ok\r\nn\0l\r\n").unwrap_err();
        assert_eq!(error.kind, ReplyErrorKind::WeirdReply);
        assert_eq!(counter.handled, 1);
    }

    #[test]
    fn unpolled_events_stay_bounded() {
        let mut counter = Counter {
            stop_after: usize::MAX,
            per_reply: 1,
            ..Counter::default()
        };
        let long = [vec![b'x'; MAX_LINE - 1], b"\r\n".to_vec()].concat();
        for _ in 0..64 {
            assert_eq!(receive_lines(&mut counter, &long), Ok(long.len()));
        }
        assert!(counter.talk.events.len() <= 16);
        assert!(counter.talk.event_bytes <= MAX_EVENT_BYTES);
        let short = b"y\n".repeat(10 * MAX_REPLY_LINES);
        let mut counter = Counter {
            stop_after: usize::MAX,
            per_reply: 1,
            ..Counter::default()
        };
        assert_eq!(receive_lines(&mut counter, &short), Ok(short.len()));
        assert_eq!(counter.talk.events.len(), MAX_EVENTS);
        // Polling makes room again.
        while counter.talk.poll_event().is_some() {}
        assert_eq!(counter.talk.event_bytes, 0);
    }

    #[test]
    fn use_ssl_levels_follow_libcurls_numbers() {
        assert_eq!(UseSsl::from_curl(0), Some(UseSsl::None));
        assert_eq!(UseSsl::from_curl(3), Some(UseSsl::All));
        assert_eq!(UseSsl::from_curl(4), None);
        assert!(!UseSsl::Try.required() && UseSsl::Try.wanted());
        assert!(UseSsl::Control.required() && UseSsl::All.required());
    }

    #[test]
    fn arguments_with_line_breaks_are_refused() {
        assert!(check_argument("user name", "anonymous").is_ok());
        for bad in ["a\r\nDELE x", "a\nb", "a\0"] {
            let err = check_argument("user name", bad).unwrap_err();
            assert_eq!(err.kind, ReplyErrorKind::BadOption);
        }
    }
}
