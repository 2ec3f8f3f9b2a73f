//! The seed's example (`CURLOPT_CONNECT_ONLY(3)`), compiled against the
//! system's `curl/curl.h` and linked with `-lcurl`, run twice: on Debian's
//! libcurl and on handover's libcurl.so.4. Both must only connect.

mod common;

use common::{compile, run_both, text};
use handover_test_support::peers::{Behavior, TestPki, TlsPeer};

/// The seed's example against a local TLS server: "only connected!" on
/// both libraries.
#[test]
fn the_seed_example_only_connects_on_both_libraries() {
    let pki = TestPki::new();
    let server = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);
    let url = format!("https://localhost:{}/", server.port());
    let program = compile("seed");
    let (system, ours) = run_both(&program, &[&url, &ca.display().to_string()]);
    assert_eq!(
        String::from_utf8_lossy(&system.stdout),
        "only connected!\n",
        "{}",
        text(&system)
    );
    assert_eq!(system.stdout, ours.stdout, "{}", text(&ours));
    assert_eq!(system.status.code(), ours.status.code());
}
