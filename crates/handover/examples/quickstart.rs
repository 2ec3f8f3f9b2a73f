//! Connect-only in one page.
//!
//! With no argument: starts an embedded TLS echo server on loopback (its
//! certificate is made at run time), connects to it with verbose output,
//! exchanges a message with `send`/`recv`, and prints the timings.
//!
//! With a URL argument: connects there instead (`https://example.com/`,
//! `telnet://host:23`, ...) and prints the timings; nothing is sent.
//!
//! ```text
//! cargo run --example quickstart [URL]
//! ```

use std::time::Duration;

use handover::{ConnectOnly, Easy, Error};
use handover_test_support::peers;

fn main() {
    if let Err(e) = run() {
        eprintln!("quickstart: {e} (CURLcode {})", e.code());
        std::process::exit(1);
    }
}

fn run() -> Result<(), Error> {
    let mut easy = Easy::new();
    easy.verbose(true)?;
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
            let ca = pki.write_temp("ca.pem", &pki.ca_pem);
            easy.cainfo(&ca)?;
            easy.url(&format!("https://localhost:{}/", server.port()))?;
            Some((pki, server))
        }
    };

    easy.perform()?;
    println!("connected: {:?}", easy.info().primary_addr());

    if url.is_none() {
        let message = b"hello from handover\n";
        let mut sent = 0;
        while sent < message.len() {
            match easy.send(&message[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.is_again() => {
                    easy.wait_writable(Some(Duration::from_secs(5)))?;
                }
                Err(e) => return Err(e),
            }
        }
        let mut echoed = Vec::new();
        let mut buf = [0u8; 256];
        while echoed.len() < message.len() {
            match easy.recv(&mut buf) {
                Ok(0) => break,
                Ok(n) => echoed.extend_from_slice(&buf[..n]),
                Err(e) if e.is_again() => {
                    if !easy.wait_readable(Some(Duration::from_secs(5)))? {
                        break;
                    }
                }
                Err(e) => return Err(e),
            }
        }
        println!(
            "sent {sent} bytes, echoed back: {:?}",
            String::from_utf8_lossy(&echoed)
        );
        if echoed != message {
            return Err(Error::new(
                handover::ErrorKind::RecvError,
                "the echo did not match what was sent",
            ));
        }
    }

    let info = easy.info();
    println!("namelookup:  {:>9.3} ms", ms(info.namelookup_time()));
    println!("connect:     {:>9.3} ms", ms(info.connect_time()));
    println!("appconnect:  {:>9.3} ms", ms(info.appconnect_time()));
    println!("pretransfer: {:>9.3} ms", ms(info.pretransfer_time()));
    println!("total:       {:>9.3} ms", ms(info.total_time()));
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
