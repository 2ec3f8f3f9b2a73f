//! Proxy selection from the environment, as libcurl reads it. One test in
//! its own binary, because the environment is shared by every thread.

use std::time::Duration;

use handover::{ConnectOnly, Easy};
use handover_test_support::peers::{Behavior, TcpPeer};

fn connect(url: &str, configure: impl FnOnce(&mut Easy)) -> Easy {
    let mut easy = Easy::new();
    easy.url(url).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.connect_timeout(Duration::from_secs(10)).unwrap();
    configure(&mut easy);
    easy.perform().unwrap_or_else(|e| panic!("{url}: {e:?}"));
    easy
}

fn clear() {
    for name in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
        "ws_proxy",
        "WS_PROXY",
    ] {
        std::env::remove_var(name);
    }
}

#[test]
fn environment_variables_choose_the_proxy_as_libcurl_does() {
    clear();
    // Two "proxies" and a target, all accepting silently: where the
    // connection lands shows which was chosen (http:// without a tunnel
    // ends at the proxy).
    let proxy_a = TcpPeer::start(Behavior::Silent);
    let proxy_b = TcpPeer::start(Behavior::Silent);
    let target = TcpPeer::start(Behavior::Silent);
    let url = format!("http://127.0.0.1:{}/", target.port());
    let landed = |easy: &Easy| easy.info().primary_addr().unwrap().port();

    std::env::set_var("http_proxy", format!("http://127.0.0.1:{}", proxy_a.port()));
    assert_eq!(landed(&connect(&url, |_| {})), proxy_a.port(), "http_proxy");
    assert!(connect(&url, |_| {}).info().used_proxy());

    clear();
    std::env::set_var("HTTP_PROXY", format!("http://127.0.0.1:{}", proxy_a.port()));
    assert_eq!(
        landed(&connect(&url, |_| {})),
        target.port(),
        "HTTP_PROXY is ignored (CGI safety)"
    );

    clear();
    std::env::set_var("ALL_PROXY", format!("http://127.0.0.1:{}", proxy_b.port()));
    assert_eq!(landed(&connect(&url, |_| {})), proxy_b.port(), "ALL_PROXY");
    std::env::set_var("http_proxy", format!("http://127.0.0.1:{}", proxy_a.port()));
    assert_eq!(
        landed(&connect(&url, |_| {})),
        proxy_a.port(),
        "the scheme's variable wins over ALL_PROXY"
    );

    std::env::set_var("NO_PROXY", "localhost,127.0.0.0/8");
    assert_eq!(
        landed(&connect(&url, |_| {})),
        target.port(),
        "NO_PROXY CIDR"
    );
    std::env::set_var("no_proxy", "example.invalid");
    assert_eq!(
        landed(&connect(&url, |_| {})),
        proxy_a.port(),
        "lower-case no_proxy is read first"
    );
    assert_eq!(
        landed(&connect(&url, |e| e.noproxy("127.0.0.1").unwrap())),
        target.port(),
        "the noproxy option replaces the variable"
    );

    clear();
    std::env::set_var("http_proxy", format!("http://127.0.0.1:{}", proxy_a.port()));
    assert_eq!(
        landed(&connect(&url, |e| e.proxy("").unwrap())),
        target.port(),
        "an empty proxy option turns the environment off"
    );
    assert_eq!(
        landed(&connect(&url, |e| e
            .proxy(&format!("127.0.0.1:{}", proxy_b.port()))
            .unwrap())),
        proxy_b.port(),
        "the option wins over the environment"
    );
    clear();
}
