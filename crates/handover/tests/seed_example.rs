//! The seed document's example (CURLOPT_CONNECT_ONLY's man page), in Rust,
//! against an in-process TLS server instead of example.com:
//!
//! ```c
//! curl_easy_setopt(curl, CURLOPT_URL, "https://example.com/");
//! curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
//! ret = curl_easy_perform(curl);
//! if(ret == CURLE_OK) { /* only connected! */ }
//! ```

use handover::{ConnectOnly, Easy};
use handover_test_support::peers::{Behavior, TestPki, TlsPeer};

#[test]
fn the_seed_example_only_connects() {
    let pki = TestPki::with_names(&["example.com"]);
    let server = TlsPeer::start(pki.server_config(), Behavior::Echo);

    let mut curl = Easy::new();
    curl.url("https://example.com/").unwrap();
    curl.connect_only(ConnectOnly::Connection).unwrap();
    // Test plumbing only: send example.com to the loopback server and
    // trust its run-time CA.
    curl.connect_to(handover::List::from_iter([format!(
        "example.com:443:127.0.0.1:{}",
        server.port()
    )]))
    .unwrap();
    curl.cainfo(pki.write_temp("ca.pem", &pki.ca_pem)).unwrap();

    let ret = curl.perform();
    assert!(ret.is_ok(), "{ret:?}");
    // only connected!
    assert_eq!(curl.info().pretransfer_time(), std::time::Duration::ZERO);
    assert_eq!(curl.info().response_code(), 0);
    assert!(curl.active_socket().is_some());
    assert_eq!(server.accepted(), 1);
}
