//! WebSocket (connect-only = 2) through real proxies: squid tunnels ws://
//! and wss:// automatically, and an HTTPS proxy (stunnel + squid) carries
//! a wss:// upgrade TLS-in-TLS.

use std::time::{Duration, Instant};

use handover::ws;
use handover::{ConnectOnly, Easy};
use handover_test_support::peers::TestPki;
use handover_test_support::real_peers::{Squid, SquidAuth, Stunnel};
use handover_test_support::ws_peers::{WsBehavior, WsPeer};

/// Upgrades through `proxy`, then echoes messages of several sizes.
fn echo_through(url: &str, proxy: &str, ca: &std::path::Path, proxy_ca: Option<&std::path::Path>) {
    let mut easy = Easy::new();
    easy.url(url).unwrap();
    easy.connect_only(ConnectOnly::Headers).unwrap();
    easy.proxy(proxy).unwrap();
    easy.cainfo(ca).unwrap();
    if let Some(pca) = proxy_ca {
        easy.proxy_cainfo(pca).unwrap();
    }
    easy.connect_timeout(Duration::from_secs(20)).unwrap();
    easy.perform()
        .unwrap_or_else(|e| panic!("{url} via {proxy}: {e:?}"));
    assert_eq!(easy.http_connectcode().unwrap(), 200, "tunneled");
    assert_eq!(easy.response_code().unwrap(), 101);
    for len in [0usize, 125, 70_000, 1 << 20] {
        let data: Vec<u8> = (0..len).map(|i| (i % 249) as u8).collect();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut sent = 0;
        let mut first = true;
        while first || sent < len {
            assert!(Instant::now() < deadline);
            let chunk = &data[sent..(sent + 65536).min(len)];
            let fragsize = if first { len as u64 } else { 0 };
            match easy.ws_send(chunk, fragsize, ws::BINARY | ws::OFFSET) {
                Ok(n) => {
                    sent += n;
                    first = false;
                }
                Err(e) if e.is_again() => {
                    easy.wait_writable(Some(Duration::from_millis(50))).unwrap();
                }
                Err(e) => panic!("{e:?}"),
            }
        }
        let mut got = Vec::new();
        let mut buf = vec![0u8; 32768];
        loop {
            assert!(Instant::now() < deadline, "echo stalled at {}", got.len());
            match easy.ws_recv(&mut buf) {
                Ok((n, meta)) => {
                    assert_eq!(meta.flags, ws::BINARY);
                    got.extend_from_slice(&buf[..n]);
                    if meta.bytesleft == 0 {
                        break;
                    }
                }
                Err(e) if e.is_again() => {
                    easy.wait_readable(Some(Duration::from_millis(50))).unwrap();
                }
                Err(e) => panic!("{e:?}"),
            }
        }
        assert!(got == data, "len {len} differs");
    }
}

#[test]
fn ws_and_wss_through_squid_and_through_an_https_proxy() {
    let pki = TestPki::new();
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);
    let plain = WsPeer::start(WsBehavior::Echo, None);
    let tls = WsPeer::start(WsBehavior::Echo, Some(pki.server_config()));
    let squid = Squid::start(SquidAuth::None);
    let squid_url = format!("http://127.0.0.1:{}", squid.port());
    let ws_url = format!("ws://127.0.0.1:{}/", plain.port());
    let wss_url = format!("wss://127.0.0.1:{}/", tls.port());
    echo_through(&ws_url, &squid_url, &ca, None);
    echo_through(&wss_url, &squid_url, &ca, None);

    let proxy_pki = TestPki::new();
    let stunnel = Stunnel::start(
        squid.addr(),
        &proxy_pki.server_chain_pem,
        &proxy_pki.server_key_pem,
    );
    let proxy_ca = proxy_pki.write_temp("proxy-ca.pem", &proxy_pki.ca_pem);
    let https_proxy = format!("https://localhost:{}", stunnel.port());
    echo_through(&ws_url, &https_proxy, &ca, Some(&proxy_ca));
    echo_through(&wss_url, &https_proxy, &ca, Some(&proxy_ca));
}
