//! Through proxies: an HTTP `CONNECT` proxy that wants Digest
//! authentication, and a SOCKS5 proxy that wants a user name and password.
//!
//! Everything runs in this process on loopback: a TLS echo server (its
//! certificate made at run time) as the target, and the two proxies from
//! `support/proxies.rs`. For each proxy, handover connects to
//! `https://localhost:PORT/` through it (connect-only = 1: the proxy
//! handshake, then TLS to the target inside the tunnel), sends a line and
//! reads the echo. The proxies print what they decided: the Digest proxy
//! first answers `407` with a challenge, and handover answers it inside
//! `perform`.
//!
//! ```text
//! cargo run --example proxy
//! ```

use std::io::{Read, Write};
use std::time::Duration;

use handover::{Auth, ConnectOnly, Easy, Error};
use handover_test_support::peers;
use handover_test_support::proxies::{DigestProxy, Socks5Proxy};

fn main() {
    if let Err(e) = run() {
        eprintln!("proxy: {e} (CURLcode {})", e.code());
        std::process::exit(1);
    }
}

fn run() -> Result<(), Error> {
    let pki = peers::TestPki::new();
    let target = peers::TlsPeer::start(pki.server_config(), peers::Behavior::Echo);
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);
    let url = format!("https://localhost:{}/", target.port());
    println!("target: TLS echo server at {url}");

    // An HTTP proxy with Digest: the 407 challenge and the second CONNECT
    // with the answer happen inside perform.
    let digest = DigestProxy::start("alice", "wonderland");
    let mut easy = Easy::new();
    easy.url(&url)?;
    easy.cainfo(&ca)?;
    easy.connect_only(ConnectOnly::Connection)?;
    easy.connect_timeout(Duration::from_secs(10))?;
    easy.proxy(&digest.url())?;
    easy.proxy_username("alice")?;
    easy.proxy_password("wonderland")?;
    easy.proxy_auth(Auth::new().digest(true))?;
    easy.perform()?;
    println!("\nthrough the Digest CONNECT proxy {}", digest.url());
    for line in digest.log() {
        println!("  proxy: {line}");
    }
    println!(
        "  handover: tunnel up (CONNECT answered {}), TLS with the target inside it",
        easy.http_connectcode()?
    );
    echo(easy.take_connection()?, "hello through the Digest proxy")?;

    // A SOCKS5 proxy with user name and password; socks5h:// lets the proxy
    // resolve "localhost" (socks5:// would resolve it here and send an address).
    let socks = Socks5Proxy::start("bob", "builder");
    let mut easy = Easy::new();
    easy.url(&url)?;
    easy.cainfo(&ca)?;
    easy.connect_only(ConnectOnly::Connection)?;
    easy.connect_timeout(Duration::from_secs(10))?;
    easy.proxy(&socks.url())?;
    easy.proxy_username("bob")?;
    easy.proxy_password("builder")?;
    easy.perform()?;
    println!("\nthrough the SOCKS5 proxy {}", socks.url());
    for line in socks.log() {
        println!("  proxy: {line}");
    }
    echo(easy.take_connection()?, "hello through the SOCKS5 proxy")?;

    // A wrong password: the proxy's refusal comes back as an error with
    // libcurl's code, and the details in proxy_error().
    let mut wrong = Easy::new();
    wrong.url(&url)?;
    wrong.connect_only(ConnectOnly::Connection)?;
    wrong.connect_timeout(Duration::from_secs(10))?;
    wrong.proxy(&socks.url())?;
    wrong.proxy_username("bob")?;
    wrong.proxy_password("not-the-password")?;
    match wrong.perform() {
        Ok(()) => println!("\nwrong password: unexpectedly accepted"),
        Err(e) => println!("\nwith a wrong password: {e} (CURLcode {})", e.code()),
    }
    Ok(())
}

/// One line out and its echo back, with blocking Read/Write on the owned
/// connection.
fn echo(mut conn: handover::Connection, text: &str) -> Result<(), Error> {
    conn.set_read_timeout(Some(Duration::from_secs(10)));
    conn.set_write_timeout(Some(Duration::from_secs(10)));
    conn.write_all(text.as_bytes()).map_err(curl_error)?;
    let mut back = vec![0u8; text.len()];
    conn.read_exact(&mut back).map_err(curl_error)?;
    println!("  echo: {:?}", String::from_utf8_lossy(&back));
    Ok(())
}

/// The handover error inside an I/O error from `Read`/`Write`, so that its
/// CURLcode is printed; a plain I/O error becomes `RecvError` (56).
fn curl_error(e: std::io::Error) -> Error {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()) {
        Some(inner) => inner.clone(),
        None => Error::new(handover::ErrorKind::RecvError, format!("echo: {e}")),
    }
}
