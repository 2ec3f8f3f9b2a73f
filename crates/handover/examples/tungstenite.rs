//! tokio-tungstenite over a connection handover set up: handover does the
//! upgrade (connect-only = 2 on a `ws://` or `wss://` URL, with whatever
//! proxy and TLS options the `Easy` has), then
//! `WebSocketStream::from_raw_socket` speaks WebSocket on the raw stream
//! with futures' `SinkExt`/`StreamExt`.
//!
//! Two rounds against an embedded tungstenite echo server:
//!
//! 1. `ws://` directly;
//! 2. `wss://` through an embedded SOCKS5 proxy that wants a user name and
//!    password: the SOCKS handshake, TLS and the upgrade all happen inside
//!    `connect_async`.
//!
//! Servers and proxy run in this process on loopback (handover-test-support),
//! the TLS certificate is made at run time, so the example needs no setup.
//!
//! ```text
//! cargo run --example tungstenite
//! ```

use std::error::Error as StdError;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use handover::tokio::AsyncConnection;
use handover::{ConnectOnly, Easy};
use handover_test_support::peers::TestPki;
use handover_test_support::proxies::Socks5Proxy;
use handover_test_support::ws_peers::{WsBehavior, WsPeer};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

type Result<T> = std::result::Result<T, Box<dyn StdError>>;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let run = tokio::time::timeout(Duration::from_secs(30), run());
    match run.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            match e.downcast_ref::<handover::Error>() {
                Some(curl) => eprintln!("tungstenite: {curl} (CURLcode {})", curl.code()),
                None => eprintln!("tungstenite: {e}"),
            }
            std::process::exit(1);
        }
        Err(_) => {
            eprintln!("tungstenite: no answer within 30 s");
            std::process::exit(1);
        }
    }
}

async fn run() -> Result<()> {
    // 1. ws:// directly.
    let plain = WsPeer::start(WsBehavior::Echo, None);
    let mut easy = Easy::new();
    easy.url(&format!("ws://127.0.0.1:{}/chat", plain.port()))?;
    easy.connect_only(ConnectOnly::Headers)?;
    easy.connect_timeout(Duration::from_secs(10))?;
    let conn = easy.connect_async().await?;
    println!(
        "connect-only = 2 on ws://127.0.0.1:{}/chat: {} Upgrade: {}",
        plain.port(),
        easy.response_code()?,
        easy.response_header("Upgrade").unwrap_or("")
    );
    converse(conn).await?;

    // 2. wss:// through a SOCKS5 proxy with a password.
    let pki = TestPki::new();
    let secure = WsPeer::start(WsBehavior::Echo, Some(pki.server_config()));
    let socks = Socks5Proxy::start("bob", "builder");
    let url = format!("wss://localhost:{}/secure", secure.port());
    let mut easy = Easy::new();
    easy.url(&url)?;
    easy.cainfo_blob(pki.ca_pem.as_bytes())?;
    easy.proxy(&socks.url())?;
    easy.proxy_username("bob")?;
    easy.proxy_password("builder")?;
    easy.connect_only(ConnectOnly::Headers)?;
    easy.connect_timeout(Duration::from_secs(10))?;
    let conn = easy.connect_async().await?;
    println!(
        "\nconnect-only = 2 on {url} through {}: {}",
        socks.url(),
        easy.response_code()?
    );
    for line in socks.log() {
        println!("  proxy: {line}");
    }
    converse(conn).await
}

/// tokio-tungstenite on the handed-over stream: a few messages, each
/// echoed, then the close handshake.
async fn converse(conn: AsyncConnection) -> Result<()> {
    // The upgrade is done: no handshake here, just the raw stream.
    let mut ws = WebSocketStream::from_raw_socket(conn, Role::Client, None).await;

    for text in ["hello, tungstenite", "over handover's connection"] {
        ws.send(Message::text(text)).await?;
        println!(
            "  sent {text:?}, received {}",
            describe(&next(&mut ws).await?)
        );
    }

    let blob: Vec<u8> = (0..256 * 1024u32).map(|i| (i % 251) as u8).collect();
    ws.send(Message::binary(blob.clone())).await?;
    match next(&mut ws).await? {
        Message::Binary(back) if back == blob => {
            println!(
                "  sent {} binary bytes, received them back intact",
                blob.len()
            );
        }
        other => return Err(format!("the echo server sent {}", describe(&other)).into()),
    }

    ws.send(Message::Ping("still there?".into())).await?;
    println!(
        "  sent a ping, received {}",
        describe(&next(&mut ws).await?)
    );

    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    }))
    .await?;
    println!(
        "  closed with 1000 \"bye\", the server answered {}",
        describe(&next(&mut ws).await?)
    );
    match ws.next().await {
        None => println!("  the server ended the connection"),
        Some(other) => return Err(format!("after the close: {other:?}").into()),
    }
    Ok(())
}

/// The next message; the end of the stream is an error here.
async fn next(ws: &mut WebSocketStream<AsyncConnection>) -> Result<Message> {
    match ws.next().await {
        Some(message) => Ok(message?),
        None => Err("the server ended the connection early".into()),
    }
}

fn describe(message: &Message) -> String {
    match message {
        Message::Text(text) => format!("text {:?}", text.as_str()),
        Message::Binary(bytes) => format!("{} binary bytes", bytes.len()),
        Message::Ping(payload) => format!("ping {:?}", String::from_utf8_lossy(payload)),
        Message::Pong(payload) => format!("pong {:?}", String::from_utf8_lossy(payload)),
        Message::Close(Some(frame)) => {
            format!(
                "close {} {:?}",
                u16::from(frame.code),
                frame.reason.as_str()
            )
        }
        Message::Close(None) => "close without a code".to_owned(),
        Message::Frame(_) => "a raw frame".to_owned(),
    }
}
