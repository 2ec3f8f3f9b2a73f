//! DNS over HTTPS from C: `tests/c/doh.c`, compiled against the system's
//! `curl/curl.h`, run on Debian's libcurl (whose DoH speaks HTTP/2) and on
//! handover's (HTTP/1.1) against dnsdist; both print the same (but for
//! the code of a refused resolver start, libcurl 8's), and the
//! DNS cache spares the second transfer its DoH requests on both.

mod common;

use common::{assert_same_but, compile, run_both, stdout};
use handover_test_support::peers::{Behavior, TcpPeer, TestPki};
use handover_test_support::real_peers::{Dnsdist, DOH_NAME};

#[test]
fn doh_resolves_the_same_on_both_libraries() {
    let dnsdist = Dnsdist::shared();
    let pki = TestPki::shared();
    let ca = pki.write_temp("doh-c-ca.pem", &pki.ca_pem);
    let server = TcpPeer::start(Behavior::Echo);
    let port = server.port().to_string();
    let name = format!("c-{}.{DOH_NAME}", std::process::id());
    let (system, ours) = run_both(
        &compile("doh"),
        &[&dnsdist.url(), &ca.display().to_string(), &port, &name],
    );
    let theirs = stdout(&system);
    for line in [
        "name: 0 127.0.0.1\n",
        "again: 0 127.0.0.1\n",
        "v4 only: 0 127.0.0.1\n",
        "nxdomain: 6 -\n",
        "ip literal: 0 127.0.0.1\n",
        "resolve entry: 0 127.0.0.1\n",
        "untrusted: 6 -\n",
        "unverified: 0 127.0.0.1\n",
        "doh off: 6 -\n",
        "start: 0 127.0.0.1\nstarts: 1\n",
        "start cached: 0 127.0.0.1\nstarts: 1\n",
        "start refused: 6 -\nstarts: 2\n",
        "setopt bad url: 0\n",
        "bad url: 6 -\n",
    ] {
        assert!(theirs.contains(line), "{line:?} missing from\n{theirs}");
    }
    // A refusal aborts the transfer as since libcurl 8.18 (42); Debian's
    // 7.88 failed the lookup (6).
    let mine = stdout(&ours);
    assert!(mine.contains("start refused: 42 -\nstarts: 2\n"), "{mine}");
    assert_same_but(&system, &ours, "start refused:");
    // Per library, an A and an AAAA query for "name" and for "unverified"
    // (a handle of its own; "untrusted" fails before asking): "again"
    // found the name in the DNS cache.
    let queries = dnsdist.queries_for(&name);
    assert_eq!(queries.len(), 8, "{queries:?}\n{}", dnsdist.log());
}
