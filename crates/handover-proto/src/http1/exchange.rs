//! One HTTP/1.1 exchange on a connection, as a [`Machine`]: the request
//! head and its body go out, the response head comes in, and the bytes
//! after it — the body, the first WebSocket frames, the next response —
//! are left for whoever reads the connection next.
//!
//! ```text
//!            request head, then the body: none · bytes · pulled
//!            (wants_body ──> provide_body / end_body; chunked here if no length)
//!   new ──> Sending ──────────────────────────────────────> Receiving
//!             │  the peer's bytes are read all along             │
//!             │  (HeadReader); a 1xx head is skipped,            │
//!             │  a 101 too unless upgrading                      │
//!             │                                                  │
//!             ├─ final head: stop sending, no reuse ─┐           │ final head
//!             │                                      ▼           ▼
//!             │                  Done(Response: head · body_reader · keep_alive)
//!             │                  (an upgrade: a 101 with the right accept key)
//!             │                                                  │
//!             └──────────────────> Failed(ExchangeError) <───────┘
//!   bad request · bad head · upgrade refused or invalid · body source short ·
//!   peer closed: before a byte of a final head (empty reply) · mid-head · while sending
//! ```
//!
//! ureq-proto's `Call` makes each state a type and moves the call from
//! one to the next. Here the states are one private enum instead, for two
//! reasons: the engine drives every handshake through the one
//! [`Machine`] surface (a type per state would need an enum around it to
//! be driven that way), and sending and receiving overlap — a server may
//! answer (a 413, a 401) while the body is still going out, and libcurl
//! reads that answer and stops sending, which a strict
//! send-then-receive sequence of types cannot say.
//!
//! The machine never reads a callback or a clock: a body from the
//! application is pulled ([`Exchange::wants_body`]) and handed in
//! ([`Exchange::provide_body`], [`Exchange::end_body`]); header lines for
//! the application come out of [`Exchange::poll_header_line`]; verbose
//! lines out of [`Machine::poll_event`].

use std::collections::VecDeque;
use std::fmt;

use crate::machine::{Event, Machine, Status};
use crate::ws;

use super::body::{keep_alive_via, BodyReader, Via};
use super::head::{HeadError, HeadReader, HeadRefusal, Limits, ResponseHead};
use super::request::{write_request, RequestSpec};

/// Most bytes of a pulled body asked for at once.
pub const BODY_PIECE: usize = 64 * 1024;

/// Where the request body comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestBody {
    /// No body; [`RequestSpec::body_len`] says whether to announce one
    /// anyway (a `POST` announces `Content-Length: 0` by itself).
    None,
    /// A body held whole, sent with its `Content-Length`.
    Bytes(Vec<u8>),
    /// A body the caller hands in as the exchange asks for it
    /// ([`Exchange::wants_body`]): `Some(n)` announces `Content-Length: n`,
    /// `None` sends it chunked (adding `Transfer-Encoding: chunked` unless
    /// the caller's header lines name a `Transfer-Encoding`).
    Pull {
        /// The announced length, if any.
        length: Option<u64>,
    },
}

/// What the exchange needs besides the request head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeOptions {
    /// The server as messages name it (`example.com:443`).
    pub server: String,
    /// Whether an HTTP proxy is on the connection, which decides what
    /// `Proxy-Connection` means for keep-alive (see [`keep_alive_via`]).
    pub via: Via,
    /// For a WebSocket upgrade: the `Sec-WebSocket-Key` to send (from
    /// [`ws::client_key`]). The upgrade's header fields join the request's
    /// defaults, a 101 is the final answer and it must carry the matching
    /// accept key; any other final status is a refusal.
    pub websocket_key: Option<String>,
    /// Bounds on each response head.
    pub limits: Limits,
    /// `CURLOPT_KEEP_SENDING_ON_ERROR`: a final answer of 300 or more
    /// that comes before the body is all sent does not stop it (so that
    /// the connection can carry another exchange). An answer below 300
    /// never stops it, as libcurl's.
    pub keep_sending_on_error: bool,
    /// The connection is handed over at the final answer (connect-only):
    /// a body still going out stops there, whatever the status.
    pub stop_at_answer: bool,
}

impl ExchangeOptions {
    /// Options for a plain request to `server`, straight to it.
    pub fn new(server: impl Into<String>) -> ExchangeOptions {
        ExchangeOptions {
            server: server.into(),
            via: Via::Direct,
            websocket_key: None,
            limits: Limits::DEFAULT,
            keep_sending_on_error: false,
            stop_at_answer: false,
        }
    }
}

/// Why an exchange failed (see [`ExchangeError`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExchangeErrorKind {
    /// The request cannot be written safely (CR, LF or NUL in a field; a
    /// method, target or header name that is not allowed); nothing was
    /// sent. libcurl: `CURLE_BAD_FUNCTION_ARGUMENT` (43).
    BadRequest,
    /// The response head is malformed, an invalid `Content-Length` among
    /// it (`CURLE_WEIRD_SERVER_REPLY`, 8).
    BadReply,
    /// A line of the response head is longer than
    /// [`Limits::max_line_bytes`], or it has more than
    /// [`Limits::max_headers`] fields (`CURLE_TOO_LARGE`, 100, as libcurl
    /// 8.6 and later).
    TooLarge,
    /// The response heads of the request (interim ones too) are larger than
    /// [`Limits::max_head_bytes`] in all: libcurl's "Too large response
    /// headers" (`CURLE_RECV_ERROR`, 56).
    HeadersTooLarge,
    /// The status line names HTTP, but a version other than 1.0 and 1.1 or
    /// a status code that is not three digits from 100 on: libcurl refuses
    /// those with `CURLE_UNSUPPORTED_PROTOCOL` (1).
    UnsupportedReply,
    /// The peer closed the connection without a byte of a final response
    /// head: libcurl's "Empty reply from server" (`CURLE_GOT_NOTHING`, 52).
    /// Interim (1xx) heads do not count, as libcurl deducts them.
    EmptyReply,
    /// The peer closed the connection in the middle of the response head
    /// (`CURLE_RECV_ERROR`, 56).
    ClosedMidHead,
    /// The peer closed the connection while the request was still going
    /// out (`CURLE_SEND_ERROR`, 55).
    ClosedWhileSending,
    /// A WebSocket upgrade was answered with a final status other than
    /// 101 (`CURLE_HTTP_RETURNED_ERROR`, 22).
    UpgradeRefused,
    /// A 101 that breaks RFC 6455: no `Upgrade`/`Connection` tokens, or a
    /// wrong `Sec-WebSocket-Accept` (`CURLE_WEIRD_SERVER_REPLY`, 8).
    BadUpgrade,
    /// The caller's body ended before the length it announced
    /// (`CURLE_READ_ERROR`, 26).
    BodyShort,
}

/// A failed exchange: what kind, the last status received (0 if none) and
/// a message naming the server.
///
/// # Examples
///
/// ```
/// use handover_proto::http1::{Exchange, ExchangeErrorKind, ExchangeOptions, RequestBody, RequestSpec};
/// use handover_proto::machine::Machine;
///
/// let spec = RequestSpec {
///     method: "GET", target: "/", host_header: "example.com", user_agent: None,
///     referer: None, headers: &[], body_len: None, default_headers: &[],
/// };
/// let mut exchange = Exchange::new(&spec, RequestBody::None, ExchangeOptions::new("example.com:80"))?;
/// let n = exchange.transmit().len();
/// exchange.sent(n);
/// exchange.peer_closed(); // not a byte of an answer
/// let error = exchange.error().unwrap();
/// assert_eq!(error.kind, ExchangeErrorKind::EmptyReply);
/// assert_eq!(error.to_string(), "Empty reply from server example.com:80");
/// # Ok::<(), handover_proto::http1::ExchangeError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeError {
    /// What went wrong.
    pub kind: ExchangeErrorKind,
    /// The status of the last response head, 0 if none arrived.
    pub status: u16,
    /// What failed and where.
    pub message: String,
}

impl fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExchangeError {}

/// The final answer: its head, how its body is framed, and whether the
/// connection can carry another exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    head: ResponseHead,
    /// The interim (1xx) heads before it, in arrival order.
    interim: Vec<ResponseHead>,
    method: String,
    keep_alive: bool,
    early: bool,
    upgrade: bool,
}

impl Response {
    /// The final response head.
    pub fn head(&self) -> &ResponseHead {
        &self.head
    }

    /// The final response head, owned.
    pub fn into_head(self) -> ResponseHead {
        self.head
    }

    /// The interim (1xx) heads that came before the final one, in arrival
    /// order: libcurl keeps their fields for `curl_easy_header` with
    /// `CURLH_1XX`.
    pub fn interim_heads(&self) -> &[ResponseHead] {
        &self.interim
    }

    /// The interim heads and the final one, owned.
    pub fn into_heads(self) -> (Vec<ResponseHead>, ResponseHead) {
        (self.interim, self.head)
    }

    /// The method of the request it answers (it decides the body framing).
    pub fn request_method(&self) -> &str {
        &self.method
    }

    /// A reader for the body that follows the head. Errors when
    /// `Content-Length` is invalid or conflicting and decides the framing.
    pub fn body_reader(&self) -> Result<BodyReader, HeadError> {
        BodyReader::new(&self.head, &self.method)
    }

    /// Whether the connection may carry another exchange once the body is
    /// read: [`keep_alive_via`], and never after an early answer.
    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }

    /// Whether the answer came before the request body was all sent (the
    /// rest was not sent; the connection cannot be reused).
    pub fn answered_early(&self) -> bool {
        self.early
    }

    /// Whether this is an accepted WebSocket upgrade: the connection now
    /// carries WebSocket frames.
    pub fn is_upgrade(&self) -> bool {
        self.upgrade
    }
}

/// Whether a request header line is `Transfer-Encoding` with `chunked`
/// among its codings.
fn says_chunked(line: &str) -> bool {
    let Some((name, value)) = line.split_once(':') else {
        return false;
    };
    name.trim().eq_ignore_ascii_case("transfer-encoding")
        && value
            .split(',')
            .any(|coding| coding.trim().eq_ignore_ascii_case("chunked"))
}

/// Where the request body stands.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Upload {
    /// Nothing more to send once the queued bytes are out.
    Complete,
    /// Pulled from the caller: `left` of an announced length, or chunked.
    Pull { left: Option<u64> },
}

/// Where the exchange stands.
#[derive(Clone, Debug)]
enum Phase {
    /// The request is going out; the peer's bytes are read meanwhile.
    Sending,
    /// The request is out; waiting for the final head.
    Receiving,
    /// The final head arrived (`None` once taken).
    Done(Option<Response>),
    Failed(ExchangeError),
}

/// One request and its response head, as a [`Machine`] (the states are
/// drawn at the top of `http1/exchange.rs`).
///
/// # Examples
///
/// A `PUT` whose body the caller hands in, chunked, and a `100 Continue`
/// before the answer:
///
/// ```
/// use handover_proto::http1::{Exchange, ExchangeOptions, RequestBody, RequestSpec};
/// use handover_proto::machine::Machine;
///
/// let spec = RequestSpec {
///     method: "PUT", target: "/upload", host_header: "example.com", user_agent: None,
///     referer: None, headers: &[], body_len: None, default_headers: &[],
/// };
/// let body = RequestBody::Pull { length: None };
/// let mut exchange = Exchange::new(&spec, body, ExchangeOptions::new("example.com:80"))?;
/// let mut wire = Vec::new();
/// let mut source: &[u8] = b"hello";
/// loop {
///     if let Some(room) = exchange.wants_body() {
///         let (piece, rest) = source.split_at(room.min(source.len()));
///         if piece.is_empty() {
///             exchange.end_body();
///         } else {
///             exchange.provide_body(piece);
///         }
///         source = rest;
///         continue;
///     }
///     let out = exchange.transmit();
///     if out.is_empty() {
///         break;
///     }
///     wire.extend_from_slice(out);
///     let n = out.len();
///     exchange.sent(n);
/// }
/// assert!(String::from_utf8_lossy(&wire).ends_with(
///     "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
/// ));
///
/// let answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
/// let used = exchange.receive(answer)?;
/// assert_eq!(&answer[used..], b"ok"); // the body, for the caller
/// let response = exchange.take_response().unwrap();
/// assert_eq!(response.head().status, 201);
/// assert!(response.keep_alive());
/// assert_eq!(response.body_reader()?.content_length(), Some(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Exchange {
    options: ExchangeOptions,
    method: String,
    /// Bytes queued for the peer, from `out_pos` on.
    out: Vec<u8>,
    out_pos: usize,
    /// Where the body's own bytes sit in `out` (not the head, not chunk
    /// framing), to count them as they go.
    out_body: std::ops::Range<usize>,
    /// Body bytes sent so far.
    body_sent: u64,
    /// The final answer came while the body was going out, and the body
    /// goes on (an answer below 300, or `keep_sending_on_error`).
    sending_after_answer: bool,
    upload: Upload,
    phase: Phase,
    reader: HeadReader,
    /// The status of the last head received, 0 before any.
    last_status: u16,
    events: VecDeque<Event>,
    header_lines: VecDeque<Vec<u8>>,
    /// The interim (1xx) heads read so far.
    interim: Vec<ResponseHead>,
}

impl Exchange {
    /// Writes the request head and prepares the body.
    ///
    /// The body decides [`RequestSpec::body_len`]: its length for
    /// [`RequestBody::Bytes`], the announced one for [`RequestBody::Pull`];
    /// the spec's own value counts only with [`RequestBody::None`].
    pub fn new(
        spec: &RequestSpec<'_>,
        body: RequestBody,
        options: ExchangeOptions,
    ) -> Result<Exchange, ExchangeError> {
        let names_te = spec.headers.iter().any(|line| {
            line.get(..17)
                .is_some_and(|name| name.eq_ignore_ascii_case("transfer-encoding"))
        });
        // A caller's `Transfer-Encoding: chunked` makes the body chunked
        // whatever its length (libcurl; the request then announces no
        // Content-Length). Found by curl's tests 56 and 218, which hung: the
        // server waited for chunks that never came.
        let caller_chunked = spec.headers.iter().any(|line| says_chunked(line));
        let body = match body {
            RequestBody::Pull { .. } if caller_chunked => RequestBody::Pull { length: None },
            other => other,
        };
        let chunked = body == RequestBody::Pull { length: None };
        let with_te: Vec<String>;
        let headers = if chunked && !names_te {
            with_te = spec
                .headers
                .iter()
                .cloned()
                .chain(std::iter::once("Transfer-Encoding: chunked".to_owned()))
                .collect();
            &with_te
        } else {
            spec.headers
        };
        let upgrade = options.websocket_key.as_deref().map(ws::upgrade_headers);
        let mut defaults = spec.default_headers.to_vec();
        defaults.extend(
            upgrade
                .iter()
                .flatten()
                .map(|(name, value)| (*name, value.as_str())),
        );
        let body_len = match &body {
            RequestBody::None => spec.body_len,
            RequestBody::Bytes(_) if caller_chunked => None,
            RequestBody::Bytes(data) => Some(data.len() as u64),
            RequestBody::Pull { length } => *length,
        };
        let spec = RequestSpec {
            headers,
            body_len,
            default_headers: &defaults,
            ..*spec
        };
        let (mut out, lines) = write_request(&spec).map_err(|e| ExchangeError {
            kind: ExchangeErrorKind::BadRequest,
            status: 0,
            message: format!("request to {} refused before sending: {e}", options.server),
        })?;
        let mut out_body = out.len()..out.len();
        let upload = match body {
            RequestBody::None => Upload::Complete,
            RequestBody::Bytes(data) if caller_chunked => {
                if !data.is_empty() {
                    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
                    out_body = out.len()..out.len() + data.len();
                    out.extend_from_slice(&data);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
                Upload::Complete
            }
            RequestBody::Bytes(data) => {
                out.extend_from_slice(&data);
                out_body.end = out.len();
                Upload::Complete
            }
            RequestBody::Pull { length: Some(0) } => Upload::Complete,
            RequestBody::Pull { length } => Upload::Pull { left: length },
        };
        let mut events: VecDeque<Event> = lines.into_iter().map(Event::HeaderOut).collect();
        events.push_back(Event::HeaderOut(String::new()));
        Ok(Exchange {
            reader: HeadReader::new(options.limits).checking_content_length(),
            options,
            method: spec.method.to_owned(),
            out,
            out_pos: 0,
            out_body,
            body_sent: 0,
            sending_after_answer: false,
            upload,
            phase: Phase::Sending,
            last_status: 0,
            events,
            header_lines: VecDeque::new(),
            interim: Vec::new(),
        })
    }

    /// How many body bytes the exchange wants from the caller now: `Some`
    /// (at most [`BODY_PIECE`], at most what an announced length has left)
    /// when the body is pulled and everything queued has gone out; `None`
    /// otherwise — nothing pulled, the body complete, or the exchange over.
    pub fn wants_body(&self) -> Option<usize> {
        match (&self.phase, &self.upload) {
            (Phase::Sending | Phase::Done(_), Upload::Pull { left })
                if self.is_sending() && self.out_pos == self.out.len() =>
            {
                Some(left.map_or(BODY_PIECE, |left| {
                    usize::try_from(left).map_or(BODY_PIECE, |left| left.min(BODY_PIECE))
                }))
            }
            _ => None,
        }
    }

    /// Hands in the next bytes of a pulled body; returns how many were
    /// taken (at most [`wants_body`](Exchange::wants_body), none when it
    /// wants nothing). A body without a length goes out as one chunk per
    /// call. An announced length, once reached, ends the body.
    pub fn provide_body(&mut self, data: &[u8]) -> usize {
        let Some(room) = self.wants_body() else {
            return 0;
        };
        let data = data.get(..room.min(data.len())).unwrap_or_default();
        if data.is_empty() {
            return 0;
        }
        self.out.clear();
        self.out_pos = 0;
        if let Upload::Pull { left } = &mut self.upload {
            match left {
                None => {
                    self.out
                        .extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
                    self.out_body = self.out.len()..self.out.len() + data.len();
                    self.out.extend_from_slice(data);
                    self.out.extend_from_slice(b"\r\n");
                }
                Some(left) => {
                    self.out_body = 0..data.len();
                    self.out.extend_from_slice(data);
                    *left -= data.len() as u64;
                    if *left == 0 {
                        self.upload = Upload::Complete;
                    }
                }
            }
        }
        data.len()
    }

    /// The caller's body has ended. Chunked, the last chunk goes out; short
    /// of an announced length, the exchange fails with
    /// [`ExchangeErrorKind::BodyShort`]. Does nothing unless the exchange
    /// [wants body bytes](Exchange::wants_body).
    pub fn end_body(&mut self) {
        if self.wants_body().is_none() {
            return;
        }
        match self.upload {
            Upload::Pull { left: Some(left) } => {
                let message = format!(
                    "the request body for {} ended {left} bytes short of its announced length",
                    self.options.server
                );
                self.fail(ExchangeErrorKind::BodyShort, message);
            }
            Upload::Pull { left: None } => {
                self.out.clear();
                self.out_pos = 0;
                self.out_body = 0..0;
                self.out.extend_from_slice(b"0\r\n\r\n");
                self.upload = Upload::Complete;
            }
            Upload::Complete => {}
        }
    }

    /// Whether the request is still going out (also after the answer,
    /// when its body goes on).
    pub fn is_sending(&self) -> bool {
        matches!(self.phase, Phase::Sending)
            || (self.sending_after_answer && matches!(self.phase, Phase::Done(_)))
    }

    /// Whether the request asks for a WebSocket upgrade.
    pub fn is_upgrade(&self) -> bool {
        self.options.websocket_key.is_some()
    }

    /// The status of the last response head received (1xx included), 0
    /// before any.
    pub fn last_status(&self) -> u16 {
        self.last_status
    }

    /// How many bytes of the request body have gone out: the body's own
    /// bytes, not the head nor chunked framing (libcurl's upload counter,
    /// `CURLINFO_SIZE_UPLOAD_T` and the progress callback's `ulnow`).
    pub fn body_sent(&self) -> u64 {
        self.body_sent
    }

    /// The final answer, once [`Status::Done`] (until taken).
    pub fn response(&self) -> Option<&Response> {
        match &self.phase {
            Phase::Done(response) => response.as_ref(),
            _ => None,
        }
    }

    /// Takes the final answer, once [`Status::Done`].
    pub fn take_response(&mut self) -> Option<Response> {
        match &mut self.phase {
            Phase::Done(response) => response.take(),
            _ => None,
        }
    }

    /// The final answer, once [`Status::Done`].
    pub fn into_response(mut self) -> Option<Response> {
        self.take_response()
    }

    /// The next line for the application's header callback, as it arrived
    /// (its line end included): every head's lines (1xx heads too, as
    /// libcurl delivers them) and the blank line that ends each head.
    pub fn poll_header_line(&mut self) -> Option<Vec<u8>> {
        self.header_lines.pop_front()
    }

    fn fail(&mut self, kind: ExchangeErrorKind, message: String) -> ExchangeError {
        let error = ExchangeError {
            kind,
            status: self.last_status,
            message,
        };
        self.phase = Phase::Failed(error.clone());
        error
    }

    /// The request is out when nothing is queued and the body is complete.
    fn check_sent(&mut self) {
        if self.is_sending() && self.out_pos == self.out.len() && self.upload == Upload::Complete {
            self.out = Vec::new();
            self.out_pos = 0;
            if self.sending_after_answer {
                self.sending_after_answer = false;
            } else {
                self.phase = Phase::Receiving;
            }
        }
    }

    /// Fails on a head the reader refused. libcurl hands each line to the
    /// application as it checks it, so the lines before the refused one
    /// have reached the header callback and verbose output by then: they
    /// go out here too (curl's tests 178 and 415).
    fn refused_head(&mut self, e: &HeadError) -> ExchangeError {
        self.deliver_taken_lines();
        let server = &self.options.server;
        let (kind, message) = match self.reader.refusal() {
            Some(HeadRefusal::Unsupported) => (
                ExchangeErrorKind::UnsupportedReply,
                format!("bad response head from {server}: {e}"),
            ),
            Some(HeadRefusal::LineTooLong | HeadRefusal::TooManyFields) => (
                ExchangeErrorKind::TooLarge,
                format!("response head from {server} too large: {e}"),
            ),
            Some(HeadRefusal::TooLarge) => (
                ExchangeErrorKind::HeadersTooLarge,
                format!("Too large response headers from {server}: {e}"),
            ),
            Some(HeadRefusal::Malformed) | None => (
                ExchangeErrorKind::BadReply,
                format!("bad response head from {server}: {e}"),
            ),
        };
        self.fail(kind, message)
    }

    /// Queues the complete lines of the head being read for the header
    /// callback and verbose output: the exchange failed before the head
    /// did, and libcurl has handed each on by then.
    fn deliver_taken_lines(&mut self) {
        let taken = self.reader.taken_lines();
        for line in taken.split_inclusive(|&b| b == b'\n') {
            let shown = line.strip_suffix(b"\n").unwrap_or(line);
            let shown = shown.strip_suffix(b"\r").unwrap_or(shown);
            self.events
                .push_back(Event::HeaderIn(String::from_utf8_lossy(shown).into_owned()));
            self.header_lines.push_back(line.to_vec());
        }
    }

    /// After a failure: the interim heads read, and the head that was being
    /// read as far as its lines were taken (`None` before its status line).
    /// libcurl keeps the fields it handed on for `curl_easy_header`, a
    /// refused head's too. `None` unless the exchange failed.
    pub fn heads_before_failure(&self) -> Option<(Vec<ResponseHead>, Option<ResponseHead>)> {
        if !matches!(self.phase, Phase::Failed(_)) {
            return None;
        }
        let taken = self.reader.taken_head();
        let taken = (taken.status != 0).then(|| taken.clone());
        Some((self.interim.clone(), taken))
    }

    fn on_head(&mut self, head: ResponseHead) -> Result<(), ExchangeError> {
        self.last_status = head.status;
        for line in head.lines().chain(std::iter::once(String::new())) {
            self.events.push_back(Event::HeaderIn(line));
        }
        // The callback gets the bytes as they came (libcurl): a bare LF
        // stays one, spacing and folded lines stay as sent.
        let raw = self.reader.head_bytes().split_inclusive(|&b| b == b'\n');
        self.header_lines.extend(raw.map(<[u8]>::to_vec));
        let upgrade = self.options.websocket_key.clone();
        let interim =
            (100..200).contains(&head.status) && !(head.status == 101 && upgrade.is_some());
        if interim {
            self.interim.push(head);
            return Ok(());
        }
        if let Some(key) = &upgrade {
            let get = |name: &str| {
                let values: Vec<&str> = head.headers_named(name).collect();
                (!values.is_empty()).then(|| values.join(", "))
            };
            if let Err(e) = ws::check_upgrade(head.status, get, key) {
                let server = &self.options.server;
                let (kind, message) = match e {
                    ws::UpgradeError::Refused(status) => (
                        ExchangeErrorKind::UpgradeRefused,
                        format!("Refused WebSocket upgrade: {status} (from {server})"),
                    ),
                    other => (
                        ExchangeErrorKind::BadUpgrade,
                        format!("WebSocket upgrade from {server} is invalid: {other}"),
                    ),
                };
                return Err(self.fail(kind, message));
            }
        }
        let answered_while_sending = matches!(self.phase, Phase::Sending);
        // libcurl stops sending at an answer of 300 or more, unless told to
        // keep sending; below 300 the body goes on.
        let go_on = !self.options.stop_at_answer
            && (head.status < 300 || self.options.keep_sending_on_error);
        let early = answered_while_sending && !go_on;
        if early {
            self.events.push_back(Event::Info(
                "the server answered before the request body was sent; stop sending".to_owned(),
            ));
        } else if answered_while_sending && head.status >= 300 {
            self.events.push_back(Event::Info(
                "HTTP error before end of send, keep sending".to_owned(),
            ));
        }
        let keep_alive = !early && keep_alive_via(&head, &self.method, self.options.via);
        if answered_while_sending && go_on {
            self.sending_after_answer = true;
        } else {
            self.out = Vec::new();
            self.out_pos = 0;
        }
        self.phase = Phase::Done(Some(Response {
            head,
            interim: std::mem::take(&mut self.interim),
            method: self.method.clone(),
            keep_alive,
            early,
            upgrade: upgrade.is_some(),
        }));
        Ok(())
    }
}

impl Machine for Exchange {
    type Error = ExchangeError;

    /// Request bytes still to be written; none once the answer is in,
    /// unless the body goes on after it.
    fn transmit(&self) -> &[u8] {
        if self.is_sending() {
            self.out.get(self.out_pos..).unwrap_or_default()
        } else {
            &[]
        }
    }

    fn sent(&mut self, n: usize) {
        if self.is_sending() {
            let from = self.out_pos;
            self.out_pos = self.out_pos.saturating_add(n).min(self.out.len());
            let body = from.max(self.out_body.start)..self.out_pos.min(self.out_body.end);
            self.body_sent += body.len() as u64;
            self.check_sent();
        }
    }

    /// Reads response heads, the request still going out or not; stops
    /// right after the final head. Bytes after it are not consumed.
    fn receive(&mut self, input: &[u8]) -> Result<usize, ExchangeError> {
        let mut used = 0;
        loop {
            match &self.phase {
                Phase::Failed(error) => return Err(error.clone()),
                Phase::Done(_) => return Ok(used),
                Phase::Sending | Phase::Receiving => {}
            }
            let rest = input.get(used..).unwrap_or_default();
            if rest.is_empty() {
                return Ok(used);
            }
            let (n, head) = match self.reader.feed(rest) {
                Ok(fed) => fed,
                Err(e) => return Err(self.refused_head(&e)),
            };
            used += n;
            match head {
                Some(head) => self.on_head(head)?,
                None => return Ok(used),
            }
        }
    }

    fn peer_closed(&mut self) {
        let server = &self.options.server;
        let (kind, message) = match self.phase {
            Phase::Done(_) | Phase::Failed(_) => return,
            Phase::Sending => (
                ExchangeErrorKind::ClosedWhileSending,
                format!("{server} closed the connection while the request was sent"),
            ),
            Phase::Receiving if !self.reader.is_started() => (
                ExchangeErrorKind::EmptyReply,
                format!("Empty reply from server {server}"),
            ),
            Phase::Receiving => (
                ExchangeErrorKind::ClosedMidHead,
                format!("{server} closed the connection in the middle of the response head"),
            ),
        };
        if kind == ExchangeErrorKind::ClosedMidHead {
            self.deliver_taken_lines();
        }
        self.fail(kind, message);
    }

    fn status(&self) -> Status {
        match self.phase {
            Phase::Sending | Phase::Receiving => Status::Pending,
            Phase::Done(_) => Status::Done,
            Phase::Failed(_) => Status::Failed,
        }
    }

    fn error(&self) -> Option<&ExchangeError> {
        match &self.phase {
            Phase::Failed(error) => Some(error),
            _ => None,
        }
    }

    fn wants_read(&self) -> bool {
        matches!(self.phase, Phase::Receiving)
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests;
