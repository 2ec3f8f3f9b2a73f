//! A tiny HTTP/1.1 origin server on loopback for the examples, with one
//! page for each way a response body can be framed:
//!
//! - `/hello.txt`: `Content-Length`, kept alive;
//! - `/chunked`: `Transfer-Encoding: chunked` in three chunks and a
//!   trailer, kept alive;
//! - `/until-close`: no length, the body ends when the server closes.
//!
//! Anything else is a `404` with a `Content-Length` body. The server reads
//! request heads one after the other on a connection (keep-alive) and
//! ignores request bodies. It is a [`Server`] underneath.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, TcpStream};

use crate::peers::{drain, read_head, Server};

/// The text of `/hello.txt`.
pub const HELLO: &str = "Hello from the embedded origin server!\n";

/// The chunks of `/chunked`, sent as they are.
pub const CHUNKS: [&str; 3] = [
    "Chunked bodies ",
    "arrive in pieces, ",
    "each with its size first.\n",
];

/// The text of `/until-close`.
pub const UNTIL_CLOSE: &str = "This body has no length: it ends when the server closes.\n";

/// The origin server on 127.0.0.1.
pub struct Origin {
    server: Server,
}

impl Origin {
    /// Starts the server on 127.0.0.1, port 0.
    pub fn start() -> Origin {
        let server = Server::start(IpAddr::V4(Ipv4Addr::LOCALHOST), |stream| {
            // Errors and timeouts end the connection; nobody to tell.
            let _ = serve(stream);
        });
        Origin { server }
    }

    /// `http://127.0.0.1:PORT`, to put a path after.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.server.port()
    }
}

fn serve(mut stream: TcpStream) -> io::Result<()> {
    loop {
        let Some(head) = read_head(&mut stream)? else {
            return Ok(()); // the client closed between requests
        };
        let head = String::from_utf8_lossy(&head);
        let request_line = head.lines().next().unwrap_or_default().to_owned();
        let mut parts = request_line.split(' ');
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let with_body = method != "HEAD";
        let common = "Server: handover-example-origin\r\nX-Example: headers.rs\r\n";
        match path {
            "/hello.txt" => {
                let mut answer = format!(
                    "HTTP/1.1 200 OK\r\n{common}Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
                    HELLO.len()
                );
                if with_body {
                    answer.push_str(HELLO);
                }
                stream.write_all(answer.as_bytes())?;
            }
            "/chunked" => {
                let mut answer = format!(
                    "HTTP/1.1 200 OK\r\n{common}Content-Type: text/plain\r\n\
                     Transfer-Encoding: chunked\r\nTrailer: X-Chunks\r\n\r\n"
                );
                if with_body {
                    for chunk in CHUNKS {
                        answer.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
                    }
                    answer.push_str(&format!("0\r\nX-Chunks: {}\r\n\r\n", CHUNKS.len()));
                }
                stream.write_all(answer.as_bytes())?;
            }
            "/until-close" => {
                let mut answer = format!(
                    "HTTP/1.1 200 OK\r\n{common}Content-Type: text/plain\r\nConnection: close\r\n\r\n"
                );
                if with_body {
                    answer.push_str(UNTIL_CLOSE);
                }
                stream.write_all(answer.as_bytes())?;
                stream.shutdown(Shutdown::Write)?;
                // Read until the client closes: closing with unread input
                // would reset the connection and could destroy the body.
                return drain(&mut stream);
            }
            _ => {
                let body = "no such page\n";
                let mut answer = format!(
                    "HTTP/1.1 404 Not Found\r\n{common}Content-Length: {}\r\n\r\n",
                    body.len()
                );
                if with_body {
                    answer.push_str(body);
                }
                stream.write_all(answer.as_bytes())?;
            }
        }
    }
}
