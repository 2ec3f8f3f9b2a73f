//! The engine's side of an HTTP request: handover-proto's
//! [`http1::Exchange`](handover_proto::http1::Exchange) as a
//! [`Handshake`], served from the application's read and header callbacks.
//! The request, its body framing, the response head, 1xx and 101 handling
//! and the keep-alive decision are all the machine's; this file maps its
//! errors to `CURLcode`s and moves bytes between the callbacks and it.

use handover_proto::http1::{Exchange, ExchangeError, ExchangeErrorKind, Response};

use crate::callbacks::{HeaderSink, ReadError, Reader};
use crate::error::{Error, ErrorKind};
use crate::handshake::Handshake;
use crate::info::Info;
use crate::layer::FailedHeads;

/// The application's side of one request.
pub(crate) struct RequestApp {
    /// The read callback a pulled body comes from.
    pub reader: Option<Reader>,
    /// Where response header lines go.
    pub header_sink: Option<HeaderSink>,
    /// The read callback's buffer, kept between pulls.
    buf: Vec<u8>,
    /// `max_send_speed`: no more body than the second's budget.
    pub pace: Option<crate::engine::SendPace>,
    /// `upload_buffer_size`: the most one read callback call is asked for.
    pub piece: usize,
}

impl RequestApp {
    pub fn new(reader: Option<Reader>, header_sink: Option<HeaderSink>) -> RequestApp {
        RequestApp {
            reader,
            header_sink,
            buf: Vec::new(),
            pace: None,
            piece: crate::options::DEFAULT_UPLOAD_BUFFER_SIZE,
        }
    }
}

impl Handshake for Exchange {
    type App = RequestApp;

    fn serve(&mut self, app: &mut RequestApp) -> Result<(), Error> {
        while let Some(line) = self.poll_header_line() {
            if let Some(sink) = &app.header_sink {
                if !sink.header(&line) {
                    return Err(Error::new(
                        ErrorKind::WriteError,
                        "the header callback stopped the transfer",
                    ));
                }
            }
        }
        let Some(want) = self.wants_body() else {
            return Ok(());
        };
        let Some(reader) = &app.reader else {
            self.end_body();
            return Ok(());
        };
        let want = match &app.pace {
            Some(pace) => want.min(pace.allowance(std::time::Instant::now())),
            None => want,
        }
        .min(app.piece);
        if want == 0 {
            // The budget is spent: the transfer wakes when it returns.
            return Ok(());
        }
        app.buf.resize(want, 0);
        match reader.read(&mut app.buf) {
            Err(ReadError::Abort) => Err(Error::new(
                ErrorKind::AbortedByCallback,
                "the read callback aborted the upload",
            )),
            // Nothing now: asked again as the transfer goes on (the
            // reader says when its pause ends).
            Err(ReadError::Pause) => Ok(()),
            Ok(0) => {
                self.end_body();
                Ok(())
            }
            Ok(n) => {
                if let Some(pace) = &app.pace {
                    pace.used(n);
                }
                self.provide_body(app.buf.get(..n).unwrap_or(&app.buf));
                Ok(())
            }
        }
    }

    fn take_response(&mut self) -> Option<Response> {
        Exchange::take_response(self)
    }

    fn uploading(&self) -> bool {
        // Sending while done: the body goes on after the answer.
        handover_proto::machine::Machine::status(self) == handover_proto::machine::Status::Done
            && self.is_sending()
    }

    fn failed_heads(&self) -> Option<FailedHeads> {
        self.heads_before_failure()
    }

    fn to_error(&self, e: &ExchangeError, _peer: &str) -> Error {
        exchange_error(e)
    }

    fn step(&self, peer: &str) -> String {
        if self.is_sending() {
            format!("sending the request to {peer}")
        } else if self.is_upgrade() {
            format!("in the WebSocket upgrade with {peer} (waiting for its 101 answer)")
        } else {
            format!("waiting for the response head from {peer}")
        }
    }

    fn name(&self) -> &'static str {
        if self.is_upgrade() {
            "upgrade"
        } else {
            "request"
        }
    }

    fn detail(&self) -> String {
        match self.last_status() {
            0 => String::new(),
            status => format!("response {status}"),
        }
    }

    fn report(&self, info: &mut Info) {
        if self.last_status() != 0 {
            info.response_code = u32::from(self.last_status());
        }
        info.size_upload = self.body_sent();
    }
}

/// An exchange's failure as handover reports it; the message names the
/// server already.
pub(crate) fn exchange_error(e: &ExchangeError) -> Error {
    let kind = match e.kind {
        ExchangeErrorKind::BadRequest => ErrorKind::BadFunctionArgument,
        ExchangeErrorKind::BadReply | ExchangeErrorKind::BadUpgrade => ErrorKind::WeirdServerReply,
        ExchangeErrorKind::UnsupportedReply => ErrorKind::UnsupportedProtocol,
        ExchangeErrorKind::EmptyReply => ErrorKind::GotNothing,
        ExchangeErrorKind::TooLarge => ErrorKind::TooLarge,
        ExchangeErrorKind::ClosedMidHead | ExchangeErrorKind::HeadersTooLarge => {
            ErrorKind::RecvError
        }
        ExchangeErrorKind::ClosedWhileSending => ErrorKind::SendError,
        ExchangeErrorKind::UpgradeRefused => ErrorKind::HttpReturnedError,
        ExchangeErrorKind::BodyShort => ErrorKind::ReadError,
    };
    Error::new(kind, e.message.clone()).with_source(e.clone())
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use handover_proto::http1::{ExchangeOptions, RequestBody, RequestSpec};

    use super::*;
    use crate::handshake::HandshakeLayer;
    use crate::layer::{ConnectCx, Layer, Progress};
    use crate::verbose::Logger;

    use crate::layer::test_pipe::Pipe;

    fn layer(
        method: &str,
        body: RequestBody,
        websocket_key: Option<&str>,
        app: RequestApp,
    ) -> HandshakeLayer<Exchange> {
        let spec = RequestSpec {
            method,
            target: "/",
            host_header: "example.com",
            user_agent: None,
            referer: None,
            headers: &[],
            body_len: None,
            default_headers: &[],
        };
        let options = ExchangeOptions {
            websocket_key: websocket_key.map(str::to_owned),
            ..ExchangeOptions::new("example.com:80")
        };
        let exchange = Exchange::new(&spec, body, options).unwrap();
        HandshakeLayer::serving(exchange, app, usize::MAX, "example.com:80".into())
    }

    /// Connects `layer` over `pipe` until it is done or fails.
    fn run(layer: &mut HandshakeLayer<Exchange>, pipe: &mut Pipe) -> Result<(), Error> {
        let log = Logger::default();
        for _ in 0..100 {
            match layer.connect(
                pipe,
                &mut ConnectCx {
                    log: &log,
                    steps: None,
                },
            )? {
                Progress::Done => return Ok(()),
                _ => {
                    if pipe.input.is_empty() {
                        pipe.input.push_back(Vec::new());
                    }
                }
            }
        }
        panic!("the exchange never ended");
    }

    fn reader(script: Vec<Result<&'static [u8], ReadError>>) -> Reader {
        let mut script = VecDeque::from(script);
        Reader::new(Box::new(move |buf: &mut [u8]| {
            match script.pop_front().unwrap_or(Ok(b"")) {
                Ok(data) => {
                    buf[..data.len()].copy_from_slice(data);
                    Ok(data.len())
                }
                Err(e) => Err(e),
            }
        }))
    }

    #[test]
    fn each_way_an_exchange_fails_keeps_its_curl_code() {
        let refuse_lines =
            || RequestApp::new(None, Some(HeaderSink::new(Box::new(|_: &[u8]| false))));
        let pull = |length| RequestBody::Pull { length };
        let cases: Vec<(&str, HandshakeLayer<Exchange>, Pipe, u32)> =
            vec![
            (
                "nothing at all",
                layer("GET", RequestBody::None, None, RequestApp::new(None, None)),
                Pipe::new(&[b""], usize::MAX),
                52,
            ),
            (
                "a 100 Continue, then nothing",
                layer("GET", RequestBody::None, None, RequestApp::new(None, None)),
                Pipe::new(&[b"HTTP/1.1 100 Continue\r\n\r\n", b""], usize::MAX),
                52,
            ),
            (
                "closed mid-head",
                layer("GET", RequestBody::None, None, RequestApp::new(None, None)),
                Pipe::new(&[b"HTTP/1.1 200 O", b""], usize::MAX),
                56,
            ),
            (
                "closed while sending",
                layer("GET", RequestBody::None, None, RequestApp::new(None, None)),
                Pipe::new(&[b""], 0),
                55,
            ),
            (
                "not HTTP",
                layer("GET", RequestBody::None, None, RequestApp::new(None, None)),
                Pipe::new(&[b"SSH-2.0-OpenSSH\r\n"], usize::MAX),
                8,
            ),
            (
                "upgrade refused",
                layer(
                    "GET",
                    RequestBody::None,
                    Some("dGhlIHNhbXBsZSBub25jZQ=="),
                    RequestApp::new(None, None),
                ),
                Pipe::new(&[b"HTTP/1.1 200 OK\r\n\r\n"], usize::MAX),
                22,
            ),
            (
                "upgrade with a wrong accept",
                layer(
                    "GET",
                    RequestBody::None,
                    Some("dGhlIHNhbXBsZSBub25jZQ=="),
                    RequestApp::new(None, None),
                ),
                Pipe::new(
                    &[b"HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\
                        Sec-WebSocket-Accept: nope\r\n\r\n"],
                    usize::MAX,
                ),
                8,
            ),
            (
                "the read callback aborts",
                layer(
                    "PUT",
                    pull(None),
                    None,
                    RequestApp::new(Some(reader(vec![Err(ReadError::Abort)])), None),
                ),
                Pipe::new(&[], usize::MAX),
                42,
            ),
            (
                "the read callback ends short",
                layer(
                    "PUT",
                    pull(Some(10)),
                    None,
                    RequestApp::new(Some(reader(vec![Ok(b"abc"), Ok(b"")])), None),
                ),
                Pipe::new(&[], usize::MAX),
                26,
            ),
            (
                "the header callback stops",
                layer("GET", RequestBody::None, None, refuse_lines()),
                Pipe::new(&[b"HTTP/1.1 200 OK\r\n\r\n"], usize::MAX),
                23,
            ),
        ];
        for (what, mut layer, mut pipe, code) in cases {
            let error = run(&mut layer, &mut pipe).expect_err(what);
            assert_eq!(error.code(), code, "{what}: {error}");
            assert!(!error.message().is_empty(), "{what}");
        }
    }

    #[test]
    fn a_refused_request_is_a_bad_argument() {
        let spec = RequestSpec {
            method: "GET",
            target: "/a b",
            host_header: "example.com",
            user_agent: None,
            referer: None,
            headers: &[],
            body_len: None,
            default_headers: &[],
        };
        let e = Exchange::new(&spec, RequestBody::None, ExchangeOptions::new("h:1")).unwrap_err();
        assert_eq!(exchange_error(&e).code(), 43);
    }

    #[test]
    fn the_read_callback_feeds_the_upload_and_the_header_callback_gets_the_lines() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&lines);
        let sink = HeaderSink::new(Box::new(move |line: &[u8]| {
            seen.lock().unwrap().push(line.to_vec());
            true
        }));
        let app = RequestApp::new(Some(reader(vec![Ok(b"he"), Ok(b"llo")])), Some(sink));
        let mut layer = layer("PUT", RequestBody::Pull { length: None }, None, app);
        let mut pipe = Pipe::new(
            &[b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"],
            usize::MAX,
        );
        run(&mut layer, &mut pipe).unwrap();
        let wire = String::from_utf8(pipe.out).unwrap();
        assert!(
            wire.ends_with("Transfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n"),
            "{wire}"
        );
        let lines: Vec<Vec<u8>> = lines.lock().unwrap().clone();
        let expected: [&[u8]; 5] = [
            b"HTTP/1.1 100 Continue\r\n",
            b"\r\n",
            b"HTTP/1.1 201 Created\r\n",
            b"Content-Length: 2\r\n",
            b"\r\n",
        ];
        assert_eq!(lines, expected);
        let mut info = Info::default();
        layer.report(&mut info);
        assert_eq!(info.response_code, 201);
        let response = layer.take_response().unwrap();
        assert_eq!(response.head().status, 201);
        assert!(response.keep_alive());
        // The body's first bytes stay in the layer for the reader.
        assert_eq!(layer.buffered(), 2);
        assert!(layer.take_response().is_none());
    }
}
