//! The body of a response handed over after connect-only = 2, decoded.
//!
//! connect-only = 2 stops after the response head: the body is still on
//! the connection, raw, chunked framing included. [`BodyReader`] takes the
//! connection and reads that body the way the head announced it:
//!
//! ```text
//!   Easy::perform (connect-only = 2) ──> BodyReader::from_easy ──> read … 0
//!        head: Content-Length n ──────> n bytes
//!              Transfer-Encoding chunked ──> the chunks' data, trailers kept
//!              neither ──────────────> everything until the server closes
//!              HEAD, 1xx, 204, 304 ───> nothing
//!   └──> into_connection: positioned right after the body (keep-alive)
//! ```
//!
//! The reader never takes a byte past the end of the body from the
//! connection, so the next response on a kept-alive connection starts
//! where [`BodyReader::into_connection`] leaves it.

use std::fmt;
use std::io::{self, Read};

use handover_proto::http1::{self, ResponseHead};
use handover_proto::url::Url;

use crate::connection::Connection;
use crate::easy::Easy;
use crate::error::{Error, ErrorKind};
use crate::multi::EasyHandle;
use crate::options::ConnectOnly;

/// How many bytes one read from the connection takes at most.
const INPUT_BUFFER: usize = 16 * 1024;

/// A blocking [`Read`] over the body of the response that a connect-only
/// = 2 transfer stopped after: `Content-Length` bytes, the data of a
/// chunked body, or everything until the server closes, as the head
/// announced. `read` returns 0 at the end of the body, and the connection
/// is then positioned right after it.
///
/// Reads wait up to the connection's read timeout (none by default: set
/// one with [`get_mut`](BodyReader::get_mut)`().set_read_timeout(..)`).
/// A body cut short is an [`io::ErrorKind::UnexpectedEof`] error carrying
/// `PartialFile` (18); broken chunked framing is
/// [`io::ErrorKind::InvalidData`] carrying `RecvError` (56). The
/// [`Error`] inside comes back with
/// `e.get_ref().and_then(|e| e.downcast_ref::<handover::Error>())`.
///
/// # Examples
///
/// ```no_run
/// use std::io::Read;
/// use std::time::Duration;
/// use handover::{BodyReader, ConnectOnly, Easy};
///
/// let mut easy = Easy::new();
/// easy.url("https://example.com/")?;
/// easy.connect_only(ConnectOnly::Headers)?;
/// easy.perform()?;
/// let mut body = BodyReader::from_easy(&mut easy)?;
/// body.get_mut().set_read_timeout(Some(Duration::from_secs(10)));
/// let mut text = String::new();
/// body.read_to_string(&mut text)?;
/// // The connection is still open, right after the body: send the next
/// // request on it, or drop it.
/// let conn = body.into_connection();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct BodyReader {
    conn: Connection,
    decoder: http1::BodyReader,
    /// Bytes taken from the connection and not decoded yet: all of them
    /// belong to the body (see `min_remaining`).
    input: Vec<u8>,
    start: usize,
    end: usize,
    /// `host:port` of the server, for messages.
    origin: String,
    /// The first failure, returned again by every later read.
    failure: Option<(io::ErrorKind, Error)>,
}

impl fmt::Debug for BodyReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyReader")
            .field("connection", &self.conn)
            .field("content_length", &self.content_length())
            .field("until_close", &self.until_close())
            .field("done", &self.is_done())
            .finish()
    }
}

fn not_a_body(why: &str) -> Error {
    Error::new(
        ErrorKind::BadFunctionArgument,
        format!("no response body to read: {why}"),
    )
}

impl BodyReader {
    /// Takes the connection of `easy` after a connect-only = 2 `perform`
    /// on an `http://` or `https://` URL, to read the response body. The
    /// handle keeps the head ([`Easy::response_header_list`]) and loses
    /// the connection, as with [`Easy::take_connection`].
    ///
    /// Fails with `BadFunctionArgument` (43), leaving the connection on the
    /// handle, when there is no response head (connect-only = 1), the
    /// connection is a WebSocket, or the head's framing is invalid
    /// (conflicting `Content-Length`s).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::io::Read;
    /// use handover::{BodyReader, ConnectOnly, Easy};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("http://127.0.0.1:8080/data.json")?;
    /// easy.connect_only(ConnectOnly::Headers)?;
    /// easy.perform()?;
    /// let mut body = Vec::new();
    /// BodyReader::from_easy(&mut easy)?.read_to_end(&mut body)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_easy(easy: &mut Easy) -> Result<BodyReader, Error> {
        if easy.opts.connect_only != ConnectOnly::Headers {
            return Err(not_a_body(
                "the body is left on the connection only by connect_only(Headers)",
            ));
        }
        let decoder = match easy.response_head() {
            Some((head, method)) => decoder_for(head, method)?,
            None => return Err(not_a_body("no response head was read")),
        };
        if easy.conn.as_ref().is_some_and(Connection::is_websocket) {
            return Err(not_a_body(
                "the connection was upgraded to WebSocket: use websocket::WebSocket",
            ));
        }
        let origin = easy
            .info()
            .effective_url()
            .and_then(|url| Url::parse(url).ok())
            .map(|url| match url.port_or_default() {
                Some(port) => format!("{}:{port}", url.host_for_header()),
                None => url.host_for_header(),
            })
            .unwrap_or_else(|| "the server".to_owned());
        let conn = easy.take_connection()?;
        Ok(BodyReader {
            conn,
            decoder,
            input: Vec::new(),
            start: 0,
            end: 0,
            origin,
            failure: None,
        })
    }

    /// As [`from_easy`](BodyReader::from_easy), for a connect-only = 2
    /// transfer in a [`Multi`](crate::Multi) once it has completed; the
    /// connection then lives on its own, whatever happens to the handle.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn demo(handle: &handover::EasyHandle) -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io::Read;
    /// use handover::BodyReader;
    ///
    /// let mut body = Vec::new();
    /// BodyReader::from_handle(handle)?.read_to_end(&mut body)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_handle(handle: &EasyHandle) -> Result<BodyReader, Error> {
        handle.with_connection(BodyReader::from_easy)
    }

    /// The body length `Content-Length` announced, when it frames the body;
    /// `None` for chunked, until-close and bodiless responses.
    pub fn content_length(&self) -> Option<u64> {
        self.decoder.content_length()
    }

    /// Whether the body runs until the server closes the connection (no
    /// `Content-Length`, not chunked): the connection cannot carry another
    /// request afterwards.
    pub fn until_close(&self) -> bool {
        self.decoder.until_close()
    }

    /// Whether the whole body has been read (at once for a bodiless
    /// response).
    pub fn is_done(&self) -> bool {
        self.decoder.is_done()
    }

    /// The trailer fields after a chunked body, once it is done; empty
    /// before, and for other framings.
    pub fn trailers(&self) -> &[(String, String)] {
        self.decoder.trailers()
    }

    /// The connection, for its address or descriptor.
    pub fn get_ref(&self) -> &Connection {
        &self.conn
    }

    /// The connection, to set its read timeout. Reading from it directly
    /// skips body bytes the reader would have decoded.
    pub fn get_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The connection back. After the end of the body ([`read`](Read::read)
    /// returned 0, or [`is_done`](BodyReader::is_done)) it is positioned
    /// right after the body, ready for the next request when the server
    /// keeps connections alive. Before the end, the rest of the body is
    /// still on it and the bytes already read ahead are dropped.
    pub fn into_connection(self) -> Connection {
        self.conn
    }

    /// Records the failure, so that later reads report the same one.
    fn failed(
        &mut self,
        kind: ErrorKind,
        io_kind: io::ErrorKind,
        e: impl fmt::Display,
    ) -> io::Error {
        let error = Error::new(kind, format!("response body from {}: {e}", self.origin));
        self.failure = Some((io_kind, error.clone()));
        io::Error::new(io_kind, error)
    }
}

fn decoder_for(head: &ResponseHead, method: &str) -> Result<http1::BodyReader, Error> {
    http1::BodyReader::new(head, method)
        .map_err(|e| not_a_body(&format!("the response head's framing is invalid: {e}")))
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if let Some((io_kind, error)) = &self.failure {
            return Err(io::Error::new(*io_kind, error.clone()));
        }
        loop {
            if self.decoder.is_done() {
                return Ok(0);
            }
            if self.start < self.end {
                let pending = self.input.get(self.start..self.end).unwrap_or_default();
                let (used, produced) = match self.decoder.read(pending, buf) {
                    Ok(counts) => counts,
                    Err(e) => {
                        return Err(self.failed(
                            ErrorKind::RecvError,
                            io::ErrorKind::InvalidData,
                            e,
                        ))
                    }
                };
                self.start += used;
                if produced > 0 {
                    return Ok(produced);
                }
                if used == 0 && !self.decoder.is_done() {
                    // The decoder always moves on input and room; guard anyway.
                    return Err(self.failed(
                        ErrorKind::RecvError,
                        io::ErrorKind::InvalidData,
                        "the body decoder made no progress",
                    ));
                }
                continue;
            }
            // Never more than the body still spans: bytes after it are the
            // next response's and must stay on the connection.
            let bound = self.decoder.min_remaining();
            if bound == 0 {
                // Only a failed decoder has no bound before its end: a
                // failure held back behind body bytes it returned (bad
                // framing after them in the same input). An empty call
                // reports it.
                let why = match self.decoder.read(&[], buf) {
                    Err(e) => e.to_string(),
                    Ok(_) => "the body decoder stopped".to_owned(),
                };
                return Err(self.failed(ErrorKind::RecvError, io::ErrorKind::InvalidData, why));
            }
            let want = usize::try_from(bound).map_or(INPUT_BUFFER, |b| b.min(INPUT_BUFFER));
            if self.input.len() < want {
                self.input.resize(want, 0);
            }
            let into = self.input.get_mut(..want).unwrap_or_default();
            let n = self.conn.read(into)?;
            (self.start, self.end) = (0, n);
            if n == 0 {
                if let Err(e) = self.decoder.on_close() {
                    return Err(self.failed(
                        ErrorKind::PartialFile,
                        io::ErrorKind::UnexpectedEof,
                        e,
                    ));
                }
                return Ok(0);
            }
        }
    }
}
