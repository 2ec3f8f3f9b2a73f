//! IMAP connect-only: handover greets the server, asks its capabilities
//! and logs in; the application then runs `IDLE` itself — the documented
//! reason to take an IMAP connection connect-only.
//!
//! With no argument: an embedded IMAP server on loopback plays the
//! server's side (one mailbox, one new message while idling). With
//! `imap://user:password@host/` (or `imaps://`): that server instead.
//!
//! ```text
//! cargo run --example imap_idle [URL]
//! ```

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::time::Duration;

use handover::{ConnectOnly, Easy, Error};
use handover_test_support::peers::Server;

fn main() {
    if let Err(e) = run() {
        eprintln!("imap_idle: {e} (CURLcode {})", e.code());
        std::process::exit(1);
    }
}

fn run() -> Result<(), Error> {
    let mut easy = Easy::new();
    easy.verbose(true)?;
    easy.connect_only(ConnectOnly::Connection)?;
    easy.connect_timeout(Duration::from_secs(10))?;
    let _server = match std::env::args().nth(1) {
        Some(url) => {
            easy.url(&url)?;
            None
        }
        None => {
            let server = Server::start(IpAddr::V4(Ipv4Addr::LOCALHOST), serve);
            easy.url(&format!("imap://me:secret@127.0.0.1:{}/", server.port()))?;
            Some(server)
        }
    };
    // Greeting, A001 CAPABILITY, A002 LOGIN (or AUTHENTICATE): then ours.
    easy.perform()?;
    println!("logged in; the session is ours");
    command(&mut easy, "B001 SELECT INBOX", "B001 ")?;
    // IDLE until the server reports something, then DONE.
    command(&mut easy, "B002 IDLE", "+ ")?;
    let news = read_until(&mut easy, "* ")?;
    println!("while idling: {}", news.trim_end());
    command(&mut easy, "DONE", "B002 ")?;
    Ok(())
}

/// Sends `line` and prints the reply up to the line starting with `until`.
fn command(easy: &mut Easy, line: &str, until: &str) -> Result<(), Error> {
    let bytes = format!("{line}\r\n");
    let mut sent = 0;
    while sent < bytes.len() {
        match easy.send(&bytes.as_bytes()[sent..]) {
            Ok(n) => sent += n,
            Err(e) if e.is_again() => {
                easy.wait_writable(Some(Duration::from_secs(5)))?;
            }
            Err(e) => return Err(e),
        }
    }
    let reply = read_until(easy, until)?;
    print!("> {line}\n{reply}");
    Ok(())
}

/// Reads until a complete line starting with `until` has arrived.
fn read_until(easy: &mut Easy, until: &str) -> Result<String, Error> {
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    loop {
        if text.ends_with("\r\n") && text.lines().any(|l| l.starts_with(until)) {
            return Ok(text);
        }
        match easy.recv(&mut buf) {
            Ok(0) => return Ok(text),
            Ok(n) => text.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(e) if e.is_again() => {
                easy.wait_readable(Some(Duration::from_secs(10)))?;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The embedded server's side: enough IMAP for this example.
fn serve(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
    let mut out = stream;
    let _ = out.write_all(b"* OK embedded IMAP ready\r\n");
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 {
        let (tag, rest) = line.trim_end().split_once(' ').unwrap_or(("", ""));
        let (tag, rest) = (tag.to_owned(), rest.to_owned());
        let reply = match rest
            .split(' ')
            .next()
            .unwrap_or("")
            .to_ascii_uppercase()
            .as_str()
        {
            "CAPABILITY" => format!("* CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN\r\n{tag} OK done\r\n"),
            "AUTHENTICATE" => {
                // SASL PLAIN: the credentials follow the continuation.
                let _ = out.write_all(b"+ \r\n");
                let mut credentials = String::new();
                let _ = reader.read_line(&mut credentials);
                format!("{tag} OK logged in\r\n")
            }
            "LOGIN" => format!("{tag} OK logged in\r\n"),
            "SELECT" => format!("* 0 EXISTS\r\n{tag} OK [READ-WRITE] selected\r\n"),
            "IDLE" => {
                let _ = out.write_all(b"+ idling\r\n");
                std::thread::sleep(Duration::from_millis(300));
                let _ = out.write_all(b"* 1 EXISTS\r\n");
                let mut done = String::new();
                let _ = reader.read_line(&mut done); // DONE
                format!("{tag} OK IDLE terminated\r\n")
            }
            _ => format!("{tag} BAD not in this example\r\n"),
        };
        let _ = out.write_all(reply.as_bytes());
        line.clear();
    }
}
