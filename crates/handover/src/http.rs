//! One HTTP/1.1 request and its response head, as a handshake machine for
//! [`HandshakeLayer`](crate::handshake::HandshakeLayer): the request (and
//! its body) go out, the head comes in, and bytes after the head stay in
//! the layer — the first body bytes (connect-only = 2), the first WebSocket
//! frames (after a 101), or the body the engine reads next (ordinary
//! transfers).

use std::sync::{Arc, Mutex};

use handover_proto::http1::{self, Limits, Parsed, RequestSpec, ResponseHead};
use handover_proto::ws;

use crate::callbacks::{HeaderSink, ReadError, Reader};
use crate::error::{Error, ErrorKind};
use crate::handshake::{Handshake, Outcome};
use crate::info::Info;
use crate::verbose::{InfoType, Logger};

/// Body bytes handed to the socket per refill.
const BODY_CHUNK: usize = 64 * 1024;

/// Where the request body comes from.
pub(crate) enum Body {
    None,
    Bytes(Vec<u8>, usize),
    /// The read callback, with the announced size (`None`: chunked).
    Callback {
        reader: Reader,
        left: Option<u64>,
        finished: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Sending,
    Receiving,
    Done,
}

/// What the request turned up, shared with the engine: the final head, and
/// whether it came before the request body was all sent (the connection
/// cannot be reused then).
pub(crate) type HeadSlot = Arc<Mutex<Option<(ResponseHead, bool)>>>;

/// The request machine.
pub(crate) struct RequestHandshake {
    out: Vec<u8>,
    out_pos: usize,
    body: Body,
    chunked: bool,
    state: State,
    error: Option<Error>,
    head_buf: Vec<u8>,
    /// The `Sec-WebSocket-Key` sent, for an upgrade request.
    ws_key: Option<String>,
    events: Vec<(InfoType, String)>,
    header_sink: Option<HeaderSink>,
    slot: HeadSlot,
    status: u16,
    where_: String,
}

/// What the request needs besides the head fields.
pub(crate) struct RequestParts<'a> {
    pub spec: RequestSpec<'a>,
    pub body: Body,
    pub ws_key: Option<String>,
    pub header_sink: Option<HeaderSink>,
    pub slot: HeadSlot,
    /// `host:port` for messages.
    pub where_: String,
}

impl RequestHandshake {
    pub fn new(parts: RequestParts<'_>) -> Result<RequestHandshake, Error> {
        let (head, lines) = http1::write_request(&parts.spec).map_err(|e| {
            Error::new(
                ErrorKind::BadFunctionArgument,
                format!("request to {} refused before sending: {e}", parts.where_),
            )
        })?;
        let chunked = matches!(parts.body, Body::Callback { left: None, .. });
        let mut events: Vec<(InfoType, String)> = lines
            .into_iter()
            .map(|l| (InfoType::HeaderOut, l))
            .collect();
        events.push((InfoType::HeaderOut, String::new()));
        let mut machine = RequestHandshake {
            out: head,
            out_pos: 0,
            body: parts.body,
            chunked,
            state: State::Sending,
            error: None,
            head_buf: Vec::new(),
            ws_key: parts.ws_key,
            events,
            header_sink: parts.header_sink,
            slot: parts.slot,
            status: 0,
            where_: parts.where_,
        };
        machine.refill();
        Ok(machine)
    }

    fn fail(&mut self, e: Error) -> Error {
        self.error = Some(e.clone());
        e
    }

    /// Moves the next piece of the body into `out` once it is empty.
    fn refill(&mut self) {
        if self.out_pos < self.out.len() || self.state != State::Sending || self.error.is_some() {
            return;
        }
        self.out.clear();
        self.out_pos = 0;
        match &mut self.body {
            Body::None => {}
            Body::Bytes(data, pos) => {
                let end = (*pos + BODY_CHUNK).min(data.len());
                self.out
                    .extend_from_slice(data.get(*pos..end).unwrap_or(&[]));
                *pos = end;
            }
            Body::Callback {
                reader,
                left,
                finished,
            } => {
                if *finished {
                    // fall through to "nothing more"
                } else {
                    let want =
                        left.map_or(BODY_CHUNK as u64, |l| l.min(BODY_CHUNK as u64)) as usize;
                    let mut chunk = vec![0u8; want];
                    let n = if want == 0 {
                        Ok(0)
                    } else {
                        reader.read(&mut chunk)
                    };
                    match n {
                        Err(ReadError::Abort) => {
                            let e = Error::new(
                                ErrorKind::AbortedByCallback,
                                "the read callback aborted the upload",
                            );
                            self.error = Some(e);
                            return;
                        }
                        Err(ReadError::Pause) => {
                            let e = Error::new(
                                ErrorKind::ReadError,
                                "the read callback paused; pausing is not supported",
                            );
                            self.error = Some(e);
                            return;
                        }
                        Ok(n) => {
                            let n = n.min(want);
                            if n == 0 {
                                *finished = true;
                                if left.is_some_and(|l| l > 0) {
                                    let e = Error::new(
                                        ErrorKind::ReadError,
                                        format!(
                                            "the read callback ended the upload {} bytes short",
                                            left.unwrap_or(0)
                                        ),
                                    );
                                    self.error = Some(e);
                                    return;
                                }
                                if self.chunked {
                                    self.out.extend_from_slice(b"0\r\n\r\n");
                                }
                            } else {
                                if let Some(l) = left {
                                    *l -= n as u64;
                                    if *l == 0 {
                                        *finished = true;
                                    }
                                }
                                if self.chunked {
                                    self.out.extend_from_slice(format!("{n:x}\r\n").as_bytes());
                                    self.out.extend_from_slice(&chunk[..n]);
                                    self.out.extend_from_slice(b"\r\n");
                                } else {
                                    self.out.extend_from_slice(&chunk[..n]);
                                }
                            }
                        }
                    }
                }
            }
        }
        if self.out.is_empty() {
            self.state = State::Receiving;
        }
    }

    fn on_head(&mut self, head: ResponseHead) -> Result<(), Error> {
        let mut lines = vec![format!(
            "HTTP/1.{} {} {}",
            head.minor_version, head.status, head.reason
        )];
        lines.extend(head.headers.iter().map(|(n, v)| format!("{n}: {v}")));
        for line in &lines {
            self.events.push((InfoType::HeaderIn, line.clone()));
        }
        self.events.push((InfoType::HeaderIn, String::new()));
        if let Some(sink) = &self.header_sink {
            for line in lines.iter().map(String::as_str).chain(std::iter::once("")) {
                if !sink.header(format!("{line}\r\n").as_bytes()) {
                    return Err(Error::new(
                        ErrorKind::WriteError,
                        "the header callback stopped the transfer",
                    ));
                }
            }
        }
        self.status = head.status;
        let interim =
            (100..200).contains(&head.status) && !(head.status == 101 && self.ws_key.is_some());
        if interim {
            return Ok(());
        }
        if let Some(key) = &self.ws_key {
            let get = |name: &str| head.header(name).map(str::to_owned);
            ws::check_upgrade(head.status, get, key).map_err(|e| match e {
                ws::UpgradeError::Refused(status) => Error::new(
                    ErrorKind::HttpReturnedError,
                    format!("Refused WebSocket upgrade: {status} (from {})", self.where_),
                ),
                other => Error::new(
                    ErrorKind::WeirdServerReply,
                    format!("WebSocket upgrade from {} is invalid: {other}", self.where_),
                ),
            })?;
        }
        let early = self.state == State::Sending;
        if early {
            self.events.push((
                InfoType::Text,
                "the server answered before the request body was sent; stop sending".to_owned(),
            ));
        }
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some((head, early));
        self.state = State::Done;
        Ok(())
    }
}

impl Handshake for RequestHandshake {
    fn step(&self) -> String {
        match (self.state, self.ws_key.is_some()) {
            (State::Sending, _) => format!("sending the request to {}", self.where_),
            (_, true) => format!(
                "in the WebSocket upgrade with {} (waiting for its 101 answer)",
                self.where_
            ),
            (_, false) => format!("waiting for the response head from {}", self.where_),
        }
    }

    fn transmit(&self) -> &[u8] {
        if self.state == State::Sending && self.error.is_none() {
            self.out.get(self.out_pos..).unwrap_or(&[])
        } else {
            &[]
        }
    }

    fn sent(&mut self, n: usize) {
        self.out_pos = (self.out_pos + n).min(self.out.len());
        self.refill();
    }

    fn receive(&mut self, input: &[u8]) -> Result<usize, Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        // An answer may come while the body is still going out (a 413, a
        // 401): read it then too, as libcurl does.
        if self.state == State::Done {
            return Ok(0);
        }
        let before = self.head_buf.len();
        self.head_buf.extend_from_slice(input);
        match http1::parse_response_head(&self.head_buf, Limits::default()) {
            Err(e) => {
                let e = Error::new(
                    ErrorKind::WeirdServerReply,
                    format!("bad response head from {}: {e}", self.where_),
                );
                Err(self.fail(e))
            }
            Ok(Parsed::Partial) => Ok(input.len()),
            Ok(Parsed::Complete { head, len }) => {
                let used = len.saturating_sub(before).min(input.len());
                self.head_buf.clear();
                if let Err(e) = self.on_head(head) {
                    return Err(self.fail(e));
                }
                Ok(used)
            }
        }
    }

    fn peer_closed(&mut self) -> Result<(), Error> {
        if self.state == State::Done {
            return Ok(());
        }
        let e = if self.state == State::Receiving && self.head_buf.is_empty() {
            Error::new(
                ErrorKind::GotNothing,
                format!("Empty reply from server {}", self.where_),
            )
        } else if self.state == State::Receiving {
            Error::new(
                ErrorKind::RecvError,
                format!(
                    "{} closed the connection in the middle of the response head",
                    self.where_
                ),
            )
        } else {
            Error::new(
                ErrorKind::SendError,
                format!(
                    "{} closed the connection while the request was sent",
                    self.where_
                ),
            )
        };
        Err(self.fail(e))
    }

    fn outcome(&self) -> Result<Outcome, Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        Ok(match self.state {
            State::Done => Outcome::Done,
            _ => Outcome::Pending,
        })
    }

    fn log(&mut self, log: &Logger) {
        for (kind, line) in self.events.drain(..) {
            if log.enabled() {
                log.emit(kind, format!("{line}\r\n").as_bytes());
            }
        }
    }

    fn report(&self, info: &mut Info) {
        if self.status != 0 {
            info.response_code = u32::from(self.status);
        }
    }
}
