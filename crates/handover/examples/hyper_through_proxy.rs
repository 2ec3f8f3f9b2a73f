//! hyper through a proxy that wants Digest authentication.
//!
//! hyper-util's client sends the requests; handover's
//! [`Connector`](handover::tokio::Connector) sets each connection up:
//! the `CONNECT`, the proxy's `407` challenge, the second `CONNECT` with
//! the Digest answer, then hands the tunnel to hyper. hyper cannot answer
//! a Digest challenge itself; here it never sees one.
//!
//! Everything runs in this process on loopback: a small HTTP origin server
//! and the Digest proxy from `handover-test-support`. Two requests go out
//! one after the other: the second rides the connection hyper pooled, so
//! the proxy sees one tunnel. Each response carries the setup's
//! [`handover::Info`] (timings, the proxy's answer) in its extensions.
//!
//! ```text
//! cargo run --example hyper_through_proxy
//! ```

use std::error::Error;
use std::time::Duration;

use handover::{Auth, Easy, Info};
use handover_test_support::origin::Origin;
use handover_test_support::proxies::DigestProxy;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

type BoxError = Box<dyn Error + Send + Sync>;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("hyper_through_proxy: {e}");
        // A failed setup is a handover error inside hyper's: show its code.
        let mut source = e.source();
        while let Some(inner) = source {
            if let Some(e) = inner.downcast_ref::<handover::Error>() {
                eprintln!("  handover: {e} (CURLcode {})", e.code());
            }
            source = inner.source();
        }
        std::process::exit(1);
    }
}

async fn run() -> Result<(), BoxError> {
    let origin = Origin::start();
    let proxy = DigestProxy::start("alice", "wonderland");
    println!("origin: {}", origin.base_url());
    println!("proxy:  {} (Digest, SHA-256)", proxy.url());

    // The template: every connection hyper asks for is set up with these.
    let mut template = Easy::new();
    template.proxy(&proxy.url())?;
    template.proxy_auth(Auth::new().digest(true))?;
    template.proxy_username("alice")?;
    template.proxy_password("wonderland")?;
    template.connect_timeout(Duration::from_secs(10))?;
    let connector = handover::tokio::Connector::new(&template);
    let client = Client::builder(TokioExecutor::new()).build::<_, Empty<Bytes>>(connector);

    for path in ["/hello.txt", "/chunked"] {
        let url = format!("{}{path}", origin.base_url());
        let response = tokio::time::timeout(Duration::from_secs(10), client.get(url.parse()?))
            .await
            .map_err(|_| format!("GET {url}: no answer within 10 s"))??;
        let status = response.status();
        let info = response.extensions().get::<Info>().cloned();
        let body = response.into_body().collect().await?.to_bytes();
        let text = String::from_utf8_lossy(&body);

        println!("\nGET {url}");
        println!("  status: {status}");
        println!("  body:   {:?}", excerpt(&text, 60));
        match info {
            Some(info) => print_setup(&info),
            None => println!("  (no handover::Info: not a handover connection)"),
        }
        if !status.is_success() {
            return Err(format!("GET {url} answered {status}").into());
        }
    }

    println!("\nwhat the proxy decided:");
    for line in proxy.log() {
        println!("  {line}");
    }
    Ok(())
}

/// The setup of the connection a response came on.
fn print_setup(info: &Info) {
    println!(
        "  connection #{}: proxy answered CONNECT with {}, auth used: {}",
        info.conn_id(),
        info.http_connectcode(),
        // CURLAUTH_* bits, as libcurl's CURLINFO_PROXYAUTH_USED.
        match info.proxyauth_used() {
            0 => "none",
            1 => "Basic",
            2 => "Digest",
            _ => "another scheme",
        }
    );
    // The times of the setup, from its start; a pooled connection carries
    // those of the request that opened it.
    println!(
        "  setup:  name resolved {:?}, TCP to the proxy {:?}, handed over {:?}",
        info.namelookup_time(),
        info.connect_time(),
        info.total_time(),
    );
}

/// The first `max` characters of `text`, on one line.
fn excerpt(text: &str, max: usize) -> String {
    let one_line = text.trim_end().replace('\n', " ");
    match one_line.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &one_line[..at]),
        None => one_line,
    }
}
