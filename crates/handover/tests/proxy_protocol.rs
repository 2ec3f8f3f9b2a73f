//! The PROXY protocol header (`haproxy_protocol`, `haproxy_client_ip`)
//! against nginx's `listen ... proxy_protocol` server, whose log says what
//! the header told it: over TCP and TLS (the header before the handshake),
//! through a squid tunnel (the header through it, naming the socket to
//! squid as libcurl does), over a Unix socket (`PROXY UNKNOWN`); a
//! connection without the header is refused by nginx.

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use handover::{ConnectOnly, Easy};
use handover_test_support::peers::TestPki;
use handover_test_support::real_peers::{Nginx, Squid, SquidAuth};

const PAGE: &[u8] = b"behind a PROXY protocol listener\n";

/// The nginx of this file (the log is read line by line, so not shared
/// with other test binaries' requests), and its CA file.
fn site() -> &'static (Nginx, std::path::PathBuf) {
    static SITE: OnceLock<(Nginx, std::path::PathBuf)> = OnceLock::new();
    SITE.get_or_init(|| {
        let pki = TestPki::shared();
        let nginx = Nginx::start(Some((&pki.server_chain_pem, &pki.server_key_pem)));
        nginx.put("pp.txt", PAGE);
        let ca = pki.write_temp("proxy-protocol-ca.pem", &pki.ca_pem);
        (nginx, ca)
    })
}

/// A connect-only = 2 GET of `/pp.txt?tag` through `setup`; the log line
/// nginx wrote for it.
fn get(url_base: &str, tag: &str, setup: impl FnOnce(&mut Easy)) -> (Easy, String) {
    let (nginx, ca) = site();
    let mut easy = Easy::new();
    easy.url(&format!("{url_base}/pp.txt?{tag}")).unwrap();
    easy.cainfo(ca).unwrap();
    easy.connect_only(ConnectOnly::Headers).unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    setup(&mut easy);
    easy.perform().unwrap_or_else(|e| panic!("{tag}: {e}"));
    assert_eq!(easy.response_code().unwrap(), 200, "{tag}");
    let wanted = format!("/pp.txt?{tag} ");
    let mut line = None;
    for _ in 0..50 {
        line = nginx
            .proxy_protocol_log(0, Duration::ZERO)
            .into_iter()
            .find(|l| l.contains(&wanted));
        if line.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (easy, line.unwrap_or_else(|| panic!("{tag}: no log line")))
}

#[test]
fn the_header_names_the_socket_over_tcp_and_before_tls() {
    let (nginx, _) = site();
    for (base, tag) in [
        (
            format!("http://127.0.0.1:{}", nginx.proxy_protocol_port()),
            "tcp",
        ),
        (
            format!(
                "https://localhost:{}",
                nginx.proxy_protocol_tls_port().unwrap()
            ),
            "tls",
        ),
    ] {
        let (easy, line) = get(&base, tag, |e| e.haproxy_protocol(true).unwrap());
        let local = easy.info().local_addr().unwrap();
        let peer = easy.info().primary_addr().unwrap();
        assert!(
            line.starts_with(&format!(
                "{} {} {} {} ",
                local.ip(),
                local.port(),
                peer.ip(),
                peer.port()
            )),
            "{tag}: {line}"
        );
    }
}

#[test]
fn the_client_address_can_be_claimed() {
    let (nginx, _) = site();
    let base = format!("http://127.0.0.1:{}", nginx.proxy_protocol_port());
    let (easy, line) = get(&base, "claimed", |e| {
        e.haproxy_client_ip(Some("203.0.113.9")).unwrap()
    });
    let local = easy.info().local_addr().unwrap();
    assert!(
        line.starts_with(&format!("203.0.113.9 {} 127.0.0.1 ", local.port())),
        "{line}"
    );
    let mut easy = Easy::new();
    let err = easy.haproxy_client_ip(Some("example.com")).unwrap_err();
    assert_eq!(err.code(), 43, "{err}");
}

#[test]
fn through_a_squid_tunnel_the_header_goes_to_the_server() {
    let (nginx, _) = site();
    let squid = Squid::start(SquidAuth::None);
    let base = format!("http://127.0.0.1:{}", nginx.proxy_protocol_port());
    let (easy, line) = get(&base, "tunnel", |e| {
        e.proxy(&format!("http://127.0.0.1:{}", squid.port()))
            .unwrap();
        e.http_proxy_tunnel(true).unwrap();
        e.haproxy_protocol(true).unwrap();
    });
    // As libcurl: the addresses of the socket, which leads to squid.
    let local = easy.info().local_addr().unwrap();
    assert!(
        line.starts_with(&format!(
            "127.0.0.1 {} 127.0.0.1 {} ",
            local.port(),
            squid.port()
        )),
        "{line}"
    );
}

#[test]
fn over_a_unix_socket_the_header_is_unknown() {
    let (nginx, _) = site();
    let socket = nginx.proxy_protocol_unix_socket();
    let (_, line) = get("http://localhost", "unix", |e| {
        e.unix_socket_path(Some(&socket)).unwrap();
        e.haproxy_protocol(true).unwrap();
    });
    // PROXY UNKNOWN carries no address: nginx logs none.
    assert!(line.starts_with("- - - - "), "{line}");
}

#[test]
fn without_the_header_nginx_refuses_the_connection() {
    let (nginx, _) = site();
    let mut easy = Easy::new();
    easy.url(&format!(
        "http://127.0.0.1:{}/pp.txt",
        nginx.proxy_protocol_port()
    ))
    .unwrap();
    easy.connect_only(ConnectOnly::Headers).unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    let err = easy.perform().unwrap_err();
    // nginx reads "GET /..." as a broken header and closes: no reply.
    assert_eq!(err.code(), 52, "{err}");
}
