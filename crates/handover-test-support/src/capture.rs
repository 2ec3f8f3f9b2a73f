//! A loopback HTTP/1.1 server that records each request it gets — the head
//! as sent and the body with any chunked framing removed — and answers it
//! with a fixed status line and, as the body, the request's header lines
//! whose names start with chosen prefixes (sorted, each once), so that a
//! client program can print what the server saw. `Expect: 100-continue`
//! gets its `100` first. One request per connection, then the server
//! closes. It is a [`Server`] underneath.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::peers::{drain, header, read_head, Server};

/// The largest request body the server keeps.
const MAX_BODY: usize = 16 << 20;

/// One request as the server read it.
#[derive(Clone, Debug)]
pub struct CapturedRequest {
    /// The request line and header lines, each ending in CRLF, and the
    /// blank line.
    pub head: String,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// From the end of the head to the end of the body: how fast the
    /// client sent the body.
    pub body_took: Duration,
}

impl CapturedRequest {
    /// Every value of header `name` (case-insensitive), trimmed, in order.
    pub fn headers(&self, name: &str) -> Vec<&str> {
        self.head
            .split("\r\n")
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim())
            .collect()
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.head, name)
    }

    /// The head, then the de-chunked body: the request as a verifier that
    /// does not decode framing reads it.
    pub fn bytes(&self) -> Vec<u8> {
        [self.head.as_bytes(), &self.body].concat()
    }
}

/// The recording server on 127.0.0.1.
pub struct CaptureServer {
    server: Server,
    requests: Arc<Mutex<Vec<CapturedRequest>>>,
}

impl CaptureServer {
    /// Starts the server: every request is answered with `status`
    /// (`"200 OK"`) and a body of the request's header lines whose
    /// lowercase names start with one of `echo` (`["authorization",
    /// "x-amz-"]`).
    pub fn start(status: &str, echo: &[&str]) -> CaptureServer {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let record = requests.clone();
        let status = status.to_owned();
        let echo: Vec<String> = echo.iter().map(|p| p.to_ascii_lowercase()).collect();
        let server = Server::start(IpAddr::V4(Ipv4Addr::LOCALHOST), move |stream| {
            // Errors and timeouts end the connection; nobody to tell.
            let _ = serve(stream, &status, &echo, &record);
        });
        CaptureServer { server, requests }
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// `http://127.0.0.1:PORT`, to put a path after.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// The requests so far, in the order they were read.
    pub fn requests(&self) -> Vec<CapturedRequest> {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

fn serve(
    mut stream: TcpStream,
    status: &str,
    echo: &[String],
    record: &Mutex<Vec<CapturedRequest>>,
) -> io::Result<()> {
    let Some(head) = read_head(&mut stream)? else {
        return Ok(());
    };
    let head = String::from_utf8_lossy(&head).into_owned();
    let started = Instant::now();
    if header(&head, "Expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let mut reader = BufReader::new(stream.try_clone()?);
    let body = if header(&head, "Transfer-Encoding").is_some_and(|v| v.contains("chunked")) {
        read_chunked(&mut reader)?
    } else {
        let length = header(&head, "Content-Length")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0)
            .min(MAX_BODY);
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body)?;
        body
    };
    let body_took = started.elapsed();
    let mut lines: Vec<&str> = head
        .split("\r\n")
        .skip(1)
        .filter(|line| {
            let name = line
                .split(':')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            !line.is_empty() && echo.iter().any(|prefix| name.starts_with(prefix.as_str()))
        })
        .collect();
    lines.sort_unstable();
    lines.dedup();
    let text: String = lines.iter().map(|line| format!("{line}\n")).collect();
    record
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(CapturedRequest {
            head,
            body,
            body_took,
        });
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{text}",
        text.len()
    )?;
    stream.shutdown(std::net::Shutdown::Write)?;
    drain(&mut stream)
}

/// A chunked body without its framing; trailers are read and dropped.
fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let size = line.trim().split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
        if size == 0 {
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 || line == "\r\n" {
                    return Ok(body);
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "body too long"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        line.clear();
        reader.read_line(&mut line)?;
    }
}
