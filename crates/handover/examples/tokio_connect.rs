//! Connect-only on tokio, in one page: the async quickstart.
//!
//! With no argument: starts an embedded TLS echo server on loopback (its
//! certificate is made at run time), connects with `connect_async`, writes
//! a message through the handed-over `AsyncConnection`, shuts the sending
//! side down (close_notify, then FIN), reads the echo to the end, and
//! prints the timings.
//!
//! With a URL argument: connects there instead (`https://example.com/`,
//! `telnet://host:23`, through `ALL_PROXY`/`HTTPS_PROXY` if set) and
//! prints the timings; nothing is sent.
//!
//! ```text
//! cargo run --example tokio_connect [URL]
//! ```

use std::time::Duration;

use handover::{ConnectOnly, Easy};
use handover_test_support::peers;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("tokio_connect: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut easy = Easy::new();
    easy.connect_only(ConnectOnly::Connection)?;
    easy.connect_timeout(Duration::from_secs(10))?;

    let url = std::env::args().nth(1);
    // The embedded server and its PKI must outlive the exchange.
    let _embedded = match &url {
        Some(url) => {
            easy.url(url)?;
            None
        }
        None => {
            let pki = peers::TestPki::new();
            let server = peers::TlsPeer::start(pki.server_config(), peers::Behavior::Echo);
            easy.cainfo_blob(pki.ca_pem.as_bytes())?;
            easy.url(&format!("https://localhost:{}/", server.port()))?;
            Some((pki, server))
        }
    };

    let mut conn = easy.connect_async().await?;
    let info = easy.info();
    println!("connected to {:?}", info.primary_addr());
    println!(
        "  name resolved {:?}, TCP {:?}, TLS done {:?} (from the start)",
        info.namelookup_time(),
        info.connect_time(),
        info.appconnect_time()
    );

    if url.is_none() {
        let message = b"hello from handover on tokio\n";
        conn.write_all(message).await?;
        // Ends our direction: close_notify and FIN. The echo server sends
        // what it has, then closes too, so the read below ends in order.
        conn.shutdown().await?;
        let mut echoed = Vec::new();
        conn.read_to_end(&mut echoed).await?;
        println!(
            "sent {} bytes, echoed back: {:?}",
            message.len(),
            String::from_utf8_lossy(&echoed)
        );
        if echoed != message {
            return Err("the echo differs from what was sent".into());
        }
    }
    Ok(())
}
