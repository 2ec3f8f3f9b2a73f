//! WebSocket two ways, against an embedded tungstenite echo server:
//!
//! 1. the message helper: `WebSocket::connect(url)` upgrades in one call,
//!    then `send`/`recv` move whole messages and `close` does the close
//!    handshake;
//! 2. the frame API (libcurl's `curl_ws_send`/`curl_ws_recv`): connect-only
//!    = 2 on a `wss://` URL, then `ws_send`/`ws_recv` frame by frame, non
//!    blocking, with a message sent in fragments.
//!
//! The servers run in this process on loopback (handover-test-support's
//! `ws_peers`),
//! the TLS one with a certificate made at run time, so the example needs
//! no setup.
//!
//! ```text
//! cargo run --example websocket
//! ```

use std::time::{Duration, Instant};

use handover::websocket::{Message, WebSocket};
use handover::{ws, ConnectOnly, Easy, Error, ErrorKind};
use handover_test_support::peers;
use handover_test_support::ws_peers::{WsBehavior, WsPeer};

fn main() {
    if let Err(e) = run() {
        eprintln!("websocket: {e} (CURLcode {})", e.code());
        std::process::exit(1);
    }
}

fn run() -> Result<(), Error> {
    messages()?;
    frames()
}

/// The message helper: one call to connect, whole messages, the close
/// handshake.
fn messages() -> Result<(), Error> {
    let server = WsPeer::start(WsBehavior::Echo, None);
    let url = format!("ws://127.0.0.1:{}/chat", server.port());
    let mut socket = WebSocket::connect(&url)?;
    socket.set_timeout(Some(Duration::from_secs(10)));
    println!("WebSocket::connect({url}): upgraded");

    socket.send(&Message::Text("hello, echo".into()))?;
    println!(
        "  sent Text(\"hello, echo\"), received {:?}",
        socket.recv()?
    );

    let blob: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    socket.send(&Message::Binary(blob.clone()))?;
    match socket.recv()? {
        Message::Binary(back) if back == blob => {
            println!(
                "  sent Binary of {} bytes, received it back intact",
                blob.len()
            );
        }
        other => return Err(unexpected(&other)),
    }

    let answer = socket.close(1000, "done")?;
    println!("  close(1000, \"done\"): the server answered {answer:?}");
    Ok(())
}

/// The frame API on wss://, as libcurl's curl_ws_send/curl_ws_recv.
fn frames() -> Result<(), Error> {
    let pki = peers::TestPki::new();
    let server = WsPeer::start(WsBehavior::Echo, Some(pki.server_config()));
    let url = format!("wss://localhost:{}/frames", server.port());
    let mut easy = Easy::new();
    easy.url(&url)?;
    easy.cainfo(pki.write_temp("ca.pem", &pki.ca_pem))?;
    easy.connect_only(ConnectOnly::Headers)?;
    easy.connect_timeout(Duration::from_secs(10))?;
    easy.perform()?;
    println!(
        "\nconnect-only = 2 on {url}: {} {}",
        easy.response_code()?,
        easy.response_header("Upgrade").unwrap_or("")
    );

    // One message in three fragments: CONT on all but the last.
    send_frame(&mut easy, b"frag", ws::TEXT | ws::CONT)?;
    send_frame(&mut easy, b"men", ws::TEXT | ws::CONT)?;
    send_frame(&mut easy, b"ted", ws::TEXT)?;
    println!("  ws_send: \"frag\" + \"men\" + \"ted\" as three fragments of one text message");
    let (flags, payload) = recv_frame(&mut easy)?;
    println!(
        "  ws_recv: {} frame {:?} (the server echoed the whole message)",
        kind(flags),
        String::from_utf8_lossy(&payload)
    );

    // A close frame carries a status code; the server answers with its own.
    send_frame(&mut easy, &1000u16.to_be_bytes(), ws::CLOSE)?;
    let (flags, payload) = recv_frame(&mut easy)?;
    let code = payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
    println!(
        "  ws_send CLOSE 1000 -> ws_recv {} frame, code {code:?}",
        kind(flags)
    );
    Ok(())
}

/// Sends one whole frame, waiting when the socket is full. As with
/// curl_ws_send, fewer bytes taken than offered means: offer the rest.
fn send_frame(easy: &mut Easy, data: &[u8], flags: ws::Flags) -> Result<(), Error> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut sent = 0;
    loop {
        match easy.ws_send(&data[sent..], 0, flags) {
            Ok(n) => {
                sent += n;
                if sent == data.len() {
                    return Ok(());
                }
            }
            Err(e) if e.is_again() => wait(easy, deadline, false)?,
            Err(e) => return Err(e),
        }
    }
}

/// Receives one whole frame: its flags and payload.
fn recv_frame(easy: &mut Easy) -> Result<(ws::Flags, Vec<u8>), Error> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut payload = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match easy.ws_recv(&mut buf) {
            Ok((n, frame)) => {
                payload.extend_from_slice(&buf[..n]);
                if frame.bytesleft == 0 {
                    return Ok((frame.flags, payload));
                }
            }
            Err(e) if e.is_again() => wait(easy, deadline, true)?,
            Err(e) => return Err(e),
        }
    }
}

/// Waits for readiness (counting bytes TLS already holds), up to `deadline`.
fn wait(easy: &mut Easy, deadline: Instant, read: bool) -> Result<(), Error> {
    let left = deadline.saturating_duration_since(Instant::now());
    let ready = if read {
        easy.wait_readable(Some(left))?
    } else {
        easy.wait_writable(Some(left))?
    };
    if ready {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::OperationTimedout,
            "the echo server did not answer within 10 s",
        ))
    }
}

fn kind(flags: ws::Flags) -> &'static str {
    match flags - ws::CONT {
        ws::TEXT => "TEXT",
        ws::BINARY => "BINARY",
        ws::CLOSE => "CLOSE",
        ws::PING => "PING",
        ws::PONG => "PONG",
        _ => "unknown",
    }
}

fn unexpected(message: &Message) -> Error {
    Error::new(
        ErrorKind::RecvError,
        format!("the echo server sent something else: {message:?}"),
    )
}
