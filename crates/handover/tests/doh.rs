//! DNS over HTTPS (`doh_url`) against dnsdist, a real DoH server started on
//! loopback (`Dnsdist::shared`: `doh-test.example` and the names under it
//! are 127.0.0.1 and ::1, names starting with `v4.` only 127.0.0.1, the
//! rest NXDOMAIN), and against an in-process server for the replies a
//! real one never sends (500, a wrong type, a cut or oversized message,
//! silence).

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{capture_verbose, collect_body};
use handover::{ConnectOnly, Easy, IpResolve, Multi};
use handover_test_support::peers::{header, read_head, Behavior, Server, TcpPeer, TestPki};
use handover_test_support::real_peers::{Dnsdist, Nginx, DOH_NAME};

/// A name under dnsdist's zone no other test asks for, so that its
/// queries can be counted in dnsdist's log.
fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}.{DOH_NAME}", std::process::id())
}

/// The shared PKI's CA, written once: dnsdist's certificate is from it.
fn ca() -> std::path::PathBuf {
    TestPki::shared().write_temp("doh-ca.pem", &TestPki::shared().ca_pem)
}

/// A connect-only transfer to `host`:`port` through dnsdist, trusting its CA.
fn easy_for(host: &str, port: u16, doh: &str) -> Easy {
    let mut easy = Easy::new();
    easy.url(&format!("telnet://{host}:{port}")).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.doh_url(Some(doh)).unwrap();
    easy.cainfo(ca()).unwrap();
    easy.connect_timeout(Duration::from_secs(20)).unwrap();
    easy
}

#[test]
fn connect_only_reaches_a_name_resolved_by_dnsdist_with_a_and_aaaa() {
    let dnsdist = Dnsdist::shared();
    let peer = TcpPeer::start(Behavior::Echo);
    let name = unique_name("both");
    let mut easy = easy_for(&name, peer.port(), &dnsdist.url());
    let log = capture_verbose(&mut easy);
    easy.perform()
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", log.lock().unwrap(), dnsdist.log()));
    assert_eq!(easy.primary_ip().unwrap().as_deref(), Some("127.0.0.1"));
    let data = b"over a DoH-resolved name";
    assert_eq!(common::echo(&mut easy, data), data);

    let queries = dnsdist.queries_for(&name);
    assert_eq!(queries.len(), 2, "{queries:?}");
    assert!(
        queries.iter().any(|q| q.contains(". A with id 0")),
        "{queries:?}"
    );
    assert!(
        queries.iter().any(|q| q.contains(". AAAA with id 0")),
        "{queries:?}"
    );
    let log = log.lock().unwrap();
    for line in [
        "* [DoH] TTL: 300 seconds",
        "* [DoH] A: 127.0.0.1",
        "* [DoH] AAAA: 0000:0000:0000:0000:0000:0000:0000:0001",
        "IPv6: ::1",
        "IPv4: 127.0.0.1",
        "> POST /dns-query HTTP/1.1",
        "> Content-Type: application/dns-message",
        "> Accept: application/dns-message",
        "a DoH request is completed, 0 to go",
    ] {
        assert!(log.contains(line), "no {line:?} in\n{log}");
    }
}

#[test]
fn an_ordinary_get_to_nginx_goes_to_the_address_dnsdist_gave() {
    let dnsdist = Dnsdist::shared();
    let nginx = Nginx::shared(None);
    nginx.put("doh.txt", b"resolved over https\n");
    let mut easy = Easy::new();
    easy.url(&format!("http://{DOH_NAME}:{}/doh.txt", nginx.port()))
        .unwrap();
    easy.doh_url(Some(&dnsdist.url())).unwrap();
    easy.cainfo(ca()).unwrap();
    easy.ip_resolve(IpResolve::V4).unwrap();
    let body = collect_body(&mut easy);
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 200);
    assert_eq!(&*body.lock().unwrap(), b"resolved over https\n");
}

#[test]
fn one_family_with_addresses_is_enough() {
    let dnsdist = Dnsdist::shared();
    let peer = TcpPeer::start(Behavior::Echo);
    let name = format!("v4.{}", unique_name("one"));
    let mut easy = easy_for(&name, peer.port(), &dnsdist.url());
    let log = capture_verbose(&mut easy);
    easy.perform().unwrap();
    let log = log.lock().unwrap();
    assert!(log.contains("[DoH] [AAAA] error: no addresses"), "{log}");
    assert!(log.contains("IPv6: (none)"), "{log}");
    assert_eq!(dnsdist.queries_for(&name).len(), 2);
}

#[test]
fn an_ip_resolve_family_sends_one_query() {
    let dnsdist = Dnsdist::shared();
    let peer = TcpPeer::start(Behavior::Echo);
    let name = unique_name("v4only");
    let mut easy = easy_for(&name, peer.port(), &dnsdist.url());
    easy.ip_resolve(IpResolve::V4).unwrap();
    easy.perform().unwrap();
    let queries = dnsdist.queries_for(&name);
    assert_eq!(queries.len(), 1, "{queries:?}");
    assert!(queries[0].contains(". A with id 0"), "{queries:?}");
}

#[test]
fn nxdomain_is_couldnt_resolve_host_naming_the_server() {
    let dnsdist = Dnsdist::shared();
    let mut easy = easy_for("no-such-name.example", 9, &dnsdist.url());
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 6, "{err}");
    let msg = err.to_string();
    for part in [
        "no-such-name.example",
        &dnsdist.url(),
        "NXDOMAIN",
        "AAAA: ",
        "A: ",
    ] {
        assert!(msg.contains(part), "no {part:?} in {msg}");
    }
}

#[test]
fn an_untrusted_doh_server_is_6_unless_its_verification_is_off() {
    let dnsdist = Dnsdist::shared();
    let peer = TcpPeer::start(Behavior::Echo);
    // The system store does not know the test CA; the transfer's own
    // verification switches do not apply to DoH.
    let mut easy = Easy::new();
    easy.url(&format!("telnet://{DOH_NAME}:{}", peer.port()))
        .unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.doh_url(Some(&dnsdist.url())).unwrap();
    easy.ssl_verify_peer(false).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 6, "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");

    easy.doh_ssl_verify_peer(false).unwrap();
    easy.perform().unwrap();
    assert_eq!(easy.primary_ip().unwrap().as_deref(), Some("127.0.0.1"));
}

#[test]
fn the_doh_server_name_must_match_unless_host_verification_is_off() {
    // A PKI whose certificate names only "localhost": 127.0.0.1 does not match.
    let pki = TestPki::with_names(&["localhost"]);
    let dnsdist = Dnsdist::start(&pki.server_chain_pem, &pki.server_key_pem);
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);
    let peer = TcpPeer::start(Behavior::Echo);
    let mut easy = easy_for(DOH_NAME, peer.port(), &dnsdist.url());
    easy.cainfo(&ca).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 6, "{err}");
    easy.doh_ssl_verify_host(false).unwrap();
    easy.perform().unwrap();
    // And by name, resolved by the system's rule for localhost.
    let mut easy = easy_for(
        DOH_NAME,
        peer.port(),
        &dnsdist.url().replace("127.0.0.1", "localhost"),
    );
    easy.cainfo(&ca).unwrap();
    easy.perform().unwrap();
}

#[test]
fn resolve_entries_and_ip_literals_skip_doh() {
    let dnsdist = Dnsdist::shared();
    let peer = TcpPeer::start(Behavior::Echo);
    let name = unique_name("pinned");
    let mut easy = easy_for(&name, peer.port(), &dnsdist.url());
    let entry = format!("{name}:{}:127.0.0.1", peer.port());
    easy.resolve([entry.as_str()].into_iter().collect())
        .unwrap();
    easy.perform().unwrap();
    assert!(dnsdist.queries_for(&name).is_empty());

    // No DoH server at all: an IP literal never asks.
    let mut easy = easy_for("127.0.0.1", peer.port(), "https://127.0.0.1:1/dns-query");
    easy.perform().unwrap();
}

#[test]
fn the_dns_cache_keeps_a_doh_answer() {
    let dnsdist = Dnsdist::shared();
    let peer = TcpPeer::start(Behavior::Echo);
    let name = unique_name("cached");
    let mut easy = easy_for(&name, peer.port(), &dnsdist.url());
    easy.perform().unwrap();
    assert_eq!(dnsdist.queries_for(&name).len(), 2);
    let log = capture_verbose(&mut easy);
    easy.perform().unwrap();
    assert_eq!(dnsdist.queries_for(&name).len(), 2, "no new DoH request");
    assert!(log
        .lock()
        .unwrap()
        .contains(&format!("Hostname {name} was found in DNS cache")));

    // With the cache off, every transfer asks again.
    easy.dns_cache_timeout(Duration::ZERO).unwrap();
    easy.perform().unwrap();
    assert_eq!(dnsdist.queries_for(&name).len(), 4);
}

#[test]
fn an_http_doh_url_is_refused() {
    let peer = TcpPeer::start(Behavior::Echo);
    let mut easy = easy_for(DOH_NAME, peer.port(), "http://127.0.0.1:1/dns-query");
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 6, "{err}");
    assert!(err.to_string().contains("must be https"), "{err}");
}

/// What the in-process DoH server answers.
#[derive(Clone, Copy)]
enum Hostile {
    Status500,
    TextHtml,
    /// A DNS answer cut short.
    Truncated,
    /// 100 KiB of body.
    Oversize,
    /// Reads the request, then says nothing.
    Silent,
}

/// A TLS server on 127.0.0.1 with the shared PKI's certificate that answers
/// every DoH request as `mode` says.
fn hostile_server(mode: Hostile) -> Server {
    let config = TestPki::shared().server_config();
    Server::start(IpAddr::V4(Ipv4Addr::LOCALHOST), move |tcp: TcpStream| {
        let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
            return;
        };
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let Ok(Some(head)) = read_head(&mut tls) else {
            return;
        };
        let head = String::from_utf8_lossy(&head).into_owned();
        let len: usize = header(&head, "content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut query = vec![0u8; len.min(512)];
        if tls.read_exact(&mut query).is_err() {
            return;
        }
        // A real answer's first bytes: the query's, flagged as a response.
        let mut answer = query.clone();
        if let Some(flags) = answer.get_mut(2) {
            *flags |= 0x80;
        }
        let reply = |status: &str, ctype: &str, body: &[u8]| {
            let mut out = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            out.extend_from_slice(body);
            out
        };
        let out = match mode {
            Hostile::Status500 => reply("500 Internal Server Error", "text/plain", b"down\n"),
            Hostile::TextHtml => reply("200 OK", "text/html", &answer),
            Hostile::Truncated => reply(
                "200 OK",
                "application/dns-message",
                &answer[..answer.len() - 3],
            ),
            Hostile::Oversize => reply("200 OK", "application/dns-message", &vec![0u8; 100 * 1024]),
            Hostile::Silent => {
                std::thread::sleep(Duration::from_secs(30));
                return;
            }
        };
        let _ = tls.write_all(&out);
        let _ = tls.flush();
    })
}

#[test]
fn hostile_doh_replies_fail_with_6_and_say_what_was_wrong() {
    let cases = [
        (Hostile::Status500, "HTTP status 500"),
        (Hostile::TextHtml, "Content-Type \"text/html\""),
        (Hostile::Truncated, "bad DNS message"),
        (Hostile::Oversize, "larger than 3000 bytes"),
    ];
    for (mode, why) in cases {
        let server = hostile_server(mode);
        let url = format!("https://127.0.0.1:{}/dns-query", server.port());
        let mut easy = easy_for(DOH_NAME, 9, &url);
        let started = Instant::now();
        let err = easy.perform().unwrap_err();
        assert_eq!(err.code(), 6, "{err}");
        let msg = err.to_string();
        assert!(msg.contains(why) && msg.contains(&url), "{why}: {msg}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{why}: took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn a_silent_doh_server_times_out_without_holding_up_a_multi() {
    let silent = hostile_server(Hostile::Silent);
    let peer = TcpPeer::start(Behavior::Echo);
    let mut multi = Multi::new();
    let mut stuck = easy_for(
        DOH_NAME,
        peer.port(),
        &format!("https://127.0.0.1:{}/dns-query", silent.port()),
    );
    stuck.connect_timeout(Duration::from_millis(1500)).unwrap();
    let mut handle = multi.add(stuck).unwrap();
    handle.set_token(1);
    let mut direct = Easy::new();
    direct
        .url(&format!("telnet://127.0.0.1:{}", peer.port()))
        .unwrap();
    direct.connect_only(ConnectOnly::Connection).unwrap();
    let mut other = multi.add(direct).unwrap();
    other.set_token(2);

    let started = Instant::now();
    let mut finished = Vec::new();
    while finished.len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the Multi hangs"
        );
        multi.perform().unwrap();
        multi.messages(|m| {
            finished.push((
                m.token(),
                started.elapsed(),
                m.result().map_err(|e| (e.code(), e.to_string())),
            ))
        });
        multi.wait(&mut [], Duration::from_millis(100)).unwrap();
    }
    let (_, direct_at, direct_result) = &finished[0];
    assert_eq!(
        finished[0].0, 2,
        "the direct transfer finished first: {finished:?}"
    );
    assert!(
        direct_result.is_ok() && *direct_at < Duration::from_secs(1),
        "{finished:?}"
    );
    let (_, stuck_at, stuck_result) = &finished[1];
    let (code, msg) = stuck_result.clone().unwrap_err();
    assert_eq!(code, 28, "{msg}");
    assert!(msg.contains("Resolving timed out"), "{msg}");
    assert!(*stuck_at >= Duration::from_millis(1400), "{stuck_at:?}");
}

#[test]
fn doh_ssl_verify_status_wants_a_stapled_ocsp_response() {
    // dnsdist staples nothing here: the DoH requests fail, so does the name.
    let dnsdist = Dnsdist::shared();
    let peer = TcpPeer::start(Behavior::Echo);
    let mut easy = easy_for(DOH_NAME, peer.port(), &dnsdist.url());
    easy.doh_ssl_verify_status(true).unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 6, "{err}");
    easy.doh_ssl_verify_status(false).unwrap();
    easy.perform().unwrap();
}

#[test]
fn the_resolver_start_function_sees_each_lookup_and_may_refuse_it() {
    let dnsdist = Dnsdist::shared();
    let peer = TcpPeer::start(Behavior::Echo);
    let name = unique_name("started");
    let refused = unique_name("refused");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut easy = easy_for(&name, peer.port(), &dnsdist.url());
    let record = seen.clone();
    let refuse = refused.clone();
    easy.resolver_start_function(move |host| {
        record.lock().unwrap().push(host.to_owned());
        host != refuse
    })
    .unwrap();
    let seen = move || seen.lock().unwrap().clone();

    easy.perform().unwrap();
    assert_eq!(seen(), [name.as_str()]);
    assert_eq!(dnsdist.queries_for(&name).len(), 2);
    // Cached, a `resolve` entry: no lookup, no call.
    easy.perform().unwrap();
    let entry = format!("pinned.example:{}:127.0.0.1", peer.port());
    easy.resolve([entry.as_str()].into_iter().collect())
        .unwrap();
    easy.url(&format!("telnet://pinned.example:{}", peer.port()))
        .unwrap();
    easy.perform().unwrap();
    assert_eq!(seen(), [name.as_str()]);
    // An IP address needs no lookup, but is announced (libcurl 8).
    easy.url(&format!("telnet://127.0.0.1:{}", peer.port()))
        .unwrap();
    easy.perform().unwrap();
    assert_eq!(seen(), [name.as_str(), "127.0.0.1"]);

    // Refused: the name is never asked for, the transfer is aborted (42,
    // libcurl 8), the proxy's name as the server's.
    easy.url(&format!("telnet://{refused}:{}", peer.port()))
        .unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 42, "{err}");
    assert!(err.to_string().contains("resolver start function"), "{err}");
    easy.proxy(&format!("http://{refused}:{}", peer.port()))
        .unwrap();
    easy.url(&format!("telnet://{name}:{}", peer.port()))
        .unwrap();
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 42, "{err}");
    assert_eq!(
        seen(),
        [
            name.as_str(),
            "127.0.0.1",
            refused.as_str(),
            refused.as_str()
        ]
    );
    assert!(dnsdist.queries_for(&refused).is_empty());
}
