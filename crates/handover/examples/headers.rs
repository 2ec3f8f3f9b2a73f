//! connect-only = 2 on HTTP: handover sends the request and reads the
//! response head, then hands the connection over with the body unread.
//! This example lists the response headers and reads the body with
//! `BodyReader`, which follows the framing the head announced:
//! `Content-Length`, chunked (with a trailer), or until the server closes.
//! The connection stays open after the body (keep-alive): a second request
//! goes out on it.
//!
//! Runs against an embedded HTTP/1.1 server on loopback (the `origin`
//! module of the handover-test-support crate), so it needs no setup.
//!
//! ```text
//! cargo run --example headers
//! ```

use std::io::{Read, Write};
use std::time::Duration;

use handover::{BodyReader, ConnectOnly, Easy, Error};
use handover_test_support::origin;

fn main() {
    if let Err(e) = run() {
        eprintln!("headers: {e} (CURLcode {})", e.code());
        std::process::exit(1);
    }
}

fn run() -> Result<(), Error> {
    let server = origin::Origin::start();
    for path in ["/hello.txt", "/chunked", "/until-close"] {
        let url = format!("{}{path}", server.base_url());
        let mut easy = Easy::new();
        easy.url(&url)?;
        easy.connect_only(ConnectOnly::Headers)?;
        // Only `timeout` bounds waiting for the head; reads afterwards use
        // the connection's own read timeout.
        easy.timeout(Duration::from_secs(10))?;
        easy.perform()?;
        println!("GET {url} -> {}", easy.response_code()?);
        for (name, value) in easy.response_header_list() {
            println!("  {name}: {value}");
        }

        let mut body = BodyReader::from_easy(&mut easy)?;
        body.get_mut()
            .set_read_timeout(Some(Duration::from_secs(10)));
        let framing = match body.content_length() {
            Some(length) => format!("Content-Length, {length} bytes"),
            None if body.until_close() => "until the server closes".to_owned(),
            None => "chunked".to_owned(),
        };
        let mut text = String::new();
        body.read_to_string(&mut text).map_err(curl_error)?;
        println!("  body ({framing}): {text:?}");
        for (name, value) in body.trailers() {
            println!("  trailer {name}: {value}");
        }

        if path == "/hello.txt" {
            // The reader stopped exactly at the end of the body: the next
            // response on this connection starts at the next byte.
            let mut conn = body.into_connection();
            conn.set_read_timeout(Some(Duration::from_secs(10)));
            let request = format!(
                "HEAD /chunked HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
                server.port()
            );
            conn.write_all(request.as_bytes()).map_err(curl_error)?;
            let status = read_line(&mut conn).map_err(curl_error)?;
            println!("  same connection, next request HEAD /chunked -> {status:?}");
        }
        println!();
    }
    Ok(())
}

/// One line, without its CRLF, read a byte at a time.
fn read_line(conn: &mut impl Read) -> std::io::Result<String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        if conn.read(&mut byte)? == 0 {
            break;
        }
        line.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&line).trim_end().to_owned())
}

/// The handover error inside an I/O error from `Read`/`Write`, so that its
/// CURLcode is printed; a plain I/O error becomes `RecvError` (56).
fn curl_error(e: std::io::Error) -> Error {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()) {
        Some(inner) => inner.clone(),
        None => Error::new(handover::ErrorKind::RecvError, e.to_string()),
    }
}
