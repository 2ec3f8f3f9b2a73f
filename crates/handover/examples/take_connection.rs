//! Owning the connection: `take_connection` moves it out of the `Easy`.
//!
//! 1. Over TLS: the `Connection` is `Read + Write` (blocking, with its own
//!    timeouts), so std's `write_all`, `read_exact` and `BufReader` work on
//!    it. It stays a `Connection`: TLS needs handover in the middle.
//! 2. Plain TCP: `into_tcp_stream` gives the `std::net::TcpStream` itself.
//!    It comes back non-blocking, as handover used it; one line,
//!    `stream.set_nonblocking(false)`, makes it an ordinary blocking stream.
//!
//! Both run against echo servers embedded in this process on loopback.
//!
//! ```text
//! cargo run --example take_connection
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::time::Duration;

use handover::{ConnectOnly, Easy, Error, ErrorKind};
use handover_test_support::peers;

fn main() {
    if let Err(e) = run() {
        eprintln!("take_connection: {e} (CURLcode {})", e.code());
        std::process::exit(1);
    }
}

fn run() -> Result<(), Error> {
    // 1. TLS: Read + Write on the owned Connection.
    let pki = peers::TestPki::new();
    let tls_echo = peers::TlsPeer::start(pki.server_config(), peers::Behavior::Echo);
    let mut easy = Easy::new();
    easy.url(&format!("https://localhost:{}/", tls_echo.port()))?;
    easy.cainfo(pki.write_temp("ca.pem", &pki.ca_pem))?;
    easy.connect_only(ConnectOnly::Connection)?;
    easy.connect_timeout(Duration::from_secs(10))?;
    easy.perform()?;
    let mut conn = easy.take_connection()?;
    println!(
        "took the TLS connection to https://localhost:{} (peer {}, plain: {})",
        tls_echo.port(),
        conn.peer_addr()
            .map_or_else(|e| e.to_string(), |a| a.to_string()),
        conn.is_plain()
    );
    if let Err(e) = easy.send(b"x") {
        println!(
            "  the Easy has none left: easy.send -> {e} (CURLcode {})",
            e.code()
        );
    }

    conn.set_read_timeout(Some(Duration::from_secs(10)));
    conn.set_write_timeout(Some(Duration::from_secs(10)));
    conn.write_all(b"first line\nsecond line\n")
        .map_err(curl_error)?;
    let mut reader = BufReader::new(conn);
    for _ in 0..2 {
        let mut line = String::new();
        reader.read_line(&mut line).map_err(curl_error)?;
        println!("  BufReader::read_line over TLS: {line:?}");
    }
    let conn = reader.into_inner();
    match conn.into_tcp_stream() {
        Ok(_) => println!("  into_tcp_stream: unexpectedly plain"),
        Err(conn) => println!(
            "  into_tcp_stream: refused (TLS sits on the socket), the connection comes back: plain = {}",
            conn.is_plain()
        ),
    }

    // 2. Plain TCP: the std TcpStream itself.
    let tcp_echo = peers::TcpPeer::start(peers::Behavior::Echo);
    let mut easy = Easy::new();
    // telnet:// is a plain byte pipe to any port.
    easy.url(&format!("telnet://127.0.0.1:{}", tcp_echo.port()))?;
    easy.connect_only(ConnectOnly::Connection)?;
    easy.connect_timeout(Duration::from_secs(10))?;
    easy.perform()?;
    let conn = easy.take_connection()?;
    let Ok(mut stream) = conn.into_tcp_stream() else {
        return Err(Error::new(
            ErrorKind::FailedInit,
            "a plain connection should give its stream",
        ));
    };
    // The stream is non-blocking, as handover used it. Make it blocking:
    stream.set_nonblocking(false).map_err(curl_error)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(curl_error)?;
    println!(
        "\ninto_tcp_stream on telnet://127.0.0.1:{}: the std TcpStream itself (local {})",
        tcp_echo.port(),
        stream.local_addr().map_err(curl_error)?
    );
    stream.write_all(b"plain bytes").map_err(curl_error)?;
    let mut back = [0u8; 11];
    stream.read_exact(&mut back).map_err(curl_error)?;
    println!(
        "  blocking write_all + read_exact on the TcpStream: {:?}",
        String::from_utf8_lossy(&back)
    );
    Ok(())
}

/// The handover error inside an I/O error from `Read`/`Write`, so that its
/// CURLcode is printed; a plain I/O error becomes `RecvError` (56).
fn curl_error(e: std::io::Error) -> Error {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()) {
        Some(inner) => inner.clone(),
        None => Error::new(ErrorKind::RecvError, e.to_string()),
    }
}
