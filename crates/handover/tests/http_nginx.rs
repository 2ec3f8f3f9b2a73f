//! HTTP against nginx started on loopback (plain and HTTPS), directly and
//! through squid and an HTTPS proxy: connect-only = 2 hands over after the
//! headers with the body still to come through recv; ordinary GETs reuse
//! one keep-alive connection; a connect-only transfer in between opens its
//! own and never joins the pool.
//!
//! The tests that read nginx's access log start a site of their own; the
//! others share one site and one squid (`Site::shared`, `Squid::shared`).

mod common;

use common::{capture_verbose, collect_body};
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use handover::{ConnectOnly, Easy, List};
use handover_test_support::peers::TestPki;
use handover_test_support::real_peers::{Nginx, Squid, SquidAuth, Stunnel};

const MIB: usize = 1024 * 1024;

fn file() -> Vec<u8> {
    (0..MIB + 4321).map(|i| (i * 7 % 253) as u8).collect()
}

/// How the transfers reach nginx.
#[derive(Clone)]
enum Via {
    Direct,
    Proxy(String, Option<std::path::PathBuf>),
}

fn apply(easy: &mut Easy, via: &Via) {
    if let Via::Proxy(url, ca) = via {
        easy.proxy(url).unwrap();
        // http:// targets tunnel too, so the connection is to nginx itself.
        easy.http_proxy_tunnel(true).unwrap();
        if let Some(ca) = ca {
            easy.proxy_cainfo(ca).unwrap();
        }
    }
}

struct Site<N: Deref<Target = Nginx>, P: Deref<Target = TestPki>> {
    nginx: N,
    /// The PKI of nginx's certificate; its CA is written once, at `ca`.
    _pki: P,
    ca: PathBuf,
    body: Vec<u8>,
}

impl Site<Box<Nginx>, Box<TestPki>> {
    /// A site of the test's own, for a test that reads nginx's access log.
    fn start() -> Self {
        let pki = Box::new(TestPki::new());
        let nginx = Box::new(Nginx::start(Some((
            &pki.server_chain_pem,
            &pki.server_key_pem,
        ))));
        Site::with(nginx, pki)
    }
}

impl Site<&'static Nginx, &'static TestPki> {
    /// The site every test of this file shares that needs nothing fresh.
    fn shared() -> &'static Self {
        static SITE: OnceLock<Site<&'static Nginx, &'static TestPki>> = OnceLock::new();
        SITE.get_or_init(|| {
            let pki = TestPki::shared();
            let nginx = Nginx::shared(Some((&pki.server_chain_pem, &pki.server_key_pem)));
            Site::with(nginx, pki)
        })
    }
}

impl<N: Deref<Target = Nginx>, P: Deref<Target = TestPki>> Site<N, P> {
    fn with(nginx: N, pki: P) -> Self {
        let body = file();
        nginx.put("big.bin", &body);
        let ca = pki.write_temp("ca.pem", &pki.ca_pem);
        Site {
            nginx,
            _pki: pki,
            ca,
            body,
        }
    }

    fn urls(&self) -> Vec<String> {
        vec![
            format!("http://127.0.0.1:{}/big.bin", self.nginx.port()),
            format!(
                "https://127.0.0.1:{}/big.bin",
                self.nginx.tls_port().unwrap()
            ),
        ]
    }

    fn easy(&self, url: &str, via: &Via) -> Easy {
        let mut easy = Easy::new();
        easy.url(url).unwrap();
        easy.cainfo(&self.ca).unwrap();
        easy.connect_timeout(Duration::from_secs(20)).unwrap();
        apply(&mut easy, via);
        easy
    }

    /// connect-only = 2: perform returns after the headers; the body is
    /// then read with recv, byte-exact.
    fn headers_then_recv(&self, via: &Via) {
        for url in self.urls() {
            let mut easy = self.easy(&url, via);
            easy.connect_only(ConnectOnly::Headers).unwrap();
            let headers = Arc::new(Mutex::new(Vec::<String>::new()));
            let sink = headers.clone();
            easy.header_function(move |line| {
                sink.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(line).into_owned());
                true
            })
            .unwrap();
            easy.perform().unwrap_or_else(|e| panic!("{url}: {e:?}"));
            assert_eq!(easy.response_code().unwrap(), 200, "{url}");
            let lines = headers.lock().unwrap().clone();
            let length = format!("Content-Length: {}\r\n", self.body.len());
            assert!(
                lines.iter().any(|l| l.eq_ignore_ascii_case(&length)),
                "{lines:?}"
            );
            assert_eq!(lines.last().map(String::as_str), Some("\r\n"));
            assert_eq!(
                easy.info().content_length_download(),
                Some(self.body.len() as u64),
                "{url}: the head's Content-Length, though the body is unread"
            );
            let mut got = Vec::with_capacity(self.body.len());
            let mut buf = vec![0u8; 65536];
            let deadline = Instant::now() + Duration::from_secs(30);
            while got.len() < self.body.len() {
                assert!(Instant::now() < deadline, "{url}: stalled at {}", got.len());
                match easy.recv(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) if e.is_again() => {
                        easy.wait_readable(Some(Duration::from_secs(5))).unwrap();
                    }
                    Err(e) => panic!("{url}: {e:?}"),
                }
            }
            assert!(
                got == self.body,
                "{url}: body differs ({} bytes)",
                got.len()
            );
            // The connection is the application's: another request on it works.
            let host = url.split('/').nth(2).unwrap().to_owned();
            let request = format!("HEAD /big.bin HTTP/1.1\r\nHost: {host}\r\n\r\n");
            let mut sent = 0;
            while sent < request.len() {
                match easy.send(&request.as_bytes()[sent..]) {
                    Ok(n) => sent += n,
                    Err(e) if e.is_again() => {
                        easy.wait_writable(Some(Duration::from_secs(5))).unwrap();
                    }
                    Err(e) => panic!("{e:?}"),
                }
            }
            let mut answer = Vec::new();
            while !answer.ends_with(b"\r\n\r\n") {
                match easy.recv(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => answer.extend_from_slice(&buf[..n]),
                    Err(e) if e.is_again() => {
                        easy.wait_readable(Some(Duration::from_secs(5))).unwrap();
                    }
                    Err(e) => panic!("{e:?}"),
                }
            }
            assert!(
                answer.starts_with(b"HTTP/1.1 200"),
                "{}",
                String::from_utf8_lossy(&answer)
            );
        }
    }

    /// Ordinary GETs on one handle reuse one connection; a connect-only
    /// transfer in between opens its own.
    fn reuse_and_connect_only_in_between(&self, via: &Via) {
        for url in self.urls() {
            let mut easy = self.easy(&url, via);
            let got = collect_body(&mut easy);
            easy.perform().unwrap_or_else(|e| panic!("{url}: {e:?}"));
            assert_eq!(easy.response_code().unwrap(), 200);
            assert!(*got.lock().unwrap() == self.body, "{url}: first body");
            assert_eq!(easy.info().num_connects(), 1);
            assert_eq!(easy.info().size_download(), self.body.len() as u64);
            let first_local = easy.info().local_addr().unwrap();

            got.lock().unwrap().clear();
            easy.perform().unwrap();
            assert!(*got.lock().unwrap() == self.body, "{url}: second body");
            assert_eq!(easy.info().num_connects(), 0, "{url}: reused");
            assert_eq!(easy.info().local_addr().unwrap(), first_local);

            // connect-only in between: a connection of its own.
            easy.connect_only(ConnectOnly::Connection).unwrap();
            easy.perform().unwrap();
            assert_eq!(
                easy.info().num_connects(),
                1,
                "{url}: connect-only never reuses"
            );
            assert_ne!(easy.info().local_addr().unwrap(), first_local);
            let connect_only_local = easy.info().local_addr().unwrap();

            // Back to ordinary: the pooled connection again, not the
            // connect-only one.
            easy.connect_only(ConnectOnly::Off).unwrap();
            got.lock().unwrap().clear();
            easy.perform().unwrap();
            assert_eq!(easy.info().num_connects(), 0);
            assert_eq!(easy.info().local_addr().unwrap(), first_local);
            assert_ne!(easy.info().local_addr().unwrap(), connect_only_local);
            assert!(*got.lock().unwrap() == self.body);
        }
    }
}

#[test]
fn nginx_direct_connect_only_2_hands_over_after_the_headers() {
    let site = Site::start();
    site.headers_then_recv(&Via::Direct);
    // nginx saw the requests.
    let log = site.nginx.wait_access_log(4, Duration::from_secs(5));
    assert!(
        log.iter().any(|l| l.contains("GET /big.bin HTTP/1.1")),
        "{log:?}"
    );
}

#[test]
fn nginx_direct_ordinary_gets_reuse_one_connection() {
    let site = Site::start();
    site.reuse_and_connect_only_in_between(&Via::Direct);
    let log = site.nginx.wait_access_log(6, Duration::from_secs(5));
    // $connection $connection_requests: the plain GETs share connection
    // numbers, with request counts 1, 2, 3 on it.
    let gets: Vec<&String> = log.iter().filter(|l| l.contains("GET /big.bin")).collect();
    assert_eq!(gets.len(), 6, "{log:?}");
    let counts: Vec<&str> = gets.iter().map(|l| l.split(' ').nth(1).unwrap()).collect();
    assert_eq!(counts, ["1", "2", "3", "1", "2", "3"], "{log:?}");
}

#[test]
fn post_head_custom_and_chunked_uploads() {
    let site = Site::start();
    let url = format!("http://127.0.0.1:{}/big.bin", site.nginx.port());
    // HEAD: headers, no body, connection reusable.
    let mut easy = site.easy(&url, &Via::Direct);
    easy.nobody(true).unwrap();
    let got = collect_body(&mut easy);
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 200);
    assert!(got.lock().unwrap().is_empty());
    assert_eq!(easy.info().content_length_download(), None);
    // POST to a static file: nginx answers 405, a complete response.
    easy.nobody(false).unwrap();
    easy.post_fields_copy(b"a=1&b=2").unwrap();
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 405);
    assert_eq!(
        easy.info().num_connects(),
        0,
        "405 with a body keeps the connection"
    );
    // A POST whose body comes from the read callback, its size announced.
    let mut sized = site.easy(&url, &Via::Direct);
    sized.post(true).unwrap();
    sized.post_field_size(10).unwrap();
    let mut left = 10usize;
    sized
        .read_function(move |buf| {
            let n = left.min(buf.len()).min(4);
            buf[..n].fill(b'r');
            left -= n;
            Ok(n)
        })
        .unwrap();
    sized.write_function(|d| Ok(d.len())).unwrap();
    sized.perform().unwrap();
    assert_eq!(sized.response_code().unwrap(), 405);
    // A custom method and a header of our own.
    easy.get(true).unwrap();
    easy.custom_request("OPTIONS").unwrap();
    easy.http_headers(List::from_iter(["X-Handover: yes", "Accept:"]))
        .unwrap();
    easy.perform().unwrap();
    assert!(easy.response_code().unwrap() >= 200);
    // An upload of unknown size goes chunked.
    let mut up = site.easy(&url, &Via::Direct);
    up.upload(true).unwrap();
    let mut left = 3;
    up.read_function(move |buf| {
        if left == 0 {
            return Ok(0);
        }
        left -= 1;
        buf[..5].copy_from_slice(b"chunk");
        Ok(5)
    })
    .unwrap();
    up.write_function(|d| Ok(d.len())).unwrap();
    up.perform().unwrap();
    assert_eq!(
        up.response_code().unwrap(),
        405,
        "nginx refuses PUT on a static file"
    );
    let log = site.nginx.wait_access_log(5, Duration::from_secs(5));
    assert!(log.iter().any(|l| l.contains("\"HEAD /big.bin")), "{log:?}");
    assert!(log.iter().any(|l| l.contains("\"POST /big.bin")), "{log:?}");
    assert!(
        log.iter().any(|l| l.contains("\"OPTIONS /big.bin")),
        "{log:?}"
    );
    assert!(log.iter().any(|l| l.contains("\"PUT /big.bin")), "{log:?}");
}

#[test]
fn nginx_through_squid() {
    let site = Site::shared();
    let squid = Squid::shared(SquidAuth::None);
    let via = Via::Proxy(format!("http://127.0.0.1:{}", squid.port()), None);
    site.headers_then_recv(&via);
    site.reuse_and_connect_only_in_between(&via);
}

#[test]
fn nginx_through_an_https_proxy() {
    let site = Site::shared();
    let squid = Squid::shared(SquidAuth::None);
    let proxy_pki = TestPki::new();
    let stunnel = Stunnel::start(
        squid.addr(),
        &proxy_pki.server_chain_pem,
        &proxy_pki.server_key_pem,
    );
    let via = Via::Proxy(
        format!("https://localhost:{}", stunnel.port()),
        Some(proxy_pki.write_temp("proxy-ca.pem", &proxy_pki.ca_pem)),
    );
    site.headers_then_recv(&via);
    site.reuse_and_connect_only_in_between(&via);
}

#[test]
fn plain_http_through_squid_without_a_tunnel_uses_the_absolute_form() {
    // Shared: the log line looked for names the shared nginx's port, and
    // only this test sends squid a request without a tunnel.
    let site = Site::shared();
    let squid = Squid::shared(SquidAuth::None);
    let mut easy = Easy::new();
    easy.url(&format!("http://127.0.0.1:{}/big.bin", site.nginx.port()))
        .unwrap();
    easy.proxy(&format!("http://127.0.0.1:{}", squid.port()))
        .unwrap();
    let got = collect_body(&mut easy);
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 200);
    assert!(*got.lock().unwrap() == site.body);
    assert_eq!(easy.http_connectcode().unwrap(), 0, "no CONNECT");
    let wanted = format!("GET http://127.0.0.1:{}/big.bin", site.nginx.port());
    let log = squid.wait_log(&wanted, Duration::from_secs(10));
    assert!(log.contains(&wanted), "{log}");
}

#[test]
fn verbose_shows_request_and_response_lines_with_secrets_hidden() {
    let site = Site::shared();
    let mut easy = site.easy(
        &format!("http://127.0.0.1:{}/big.bin", site.nginx.port()),
        &Via::Direct,
    );
    easy.nobody(true).unwrap();
    easy.http_headers(List::from_iter(["Authorization: Bearer s3cr3t-token"]))
        .unwrap();
    let text = capture_verbose(&mut easy);
    easy.perform().unwrap();
    let text = text.lock().unwrap().clone();
    assert!(text.contains("> HEAD /big.bin HTTP/1.1\r\n"), "{text}");
    assert!(text.contains("< HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("> Authorization: <hidden>"), "{text}");
    assert!(!text.contains("s3cr3t"), "{text}");
}

#[test]
fn ordinary_transfers_in_a_multi_finish_large_tls_bodies() {
    let site = Site::shared();
    // Several MiB per transfer, so a body spans many drive calls with
    // decrypted bytes left in the TLS layer between them.
    let big: Vec<u8> = (0..5 * MIB).map(|i| (i * 13 % 251) as u8).collect();
    site.nginx.put("huge.bin", &big);
    let url = format!(
        "https://127.0.0.1:{}/huge.bin",
        site.nginx.tls_port().unwrap()
    );
    let mut multi = handover::Multi::new();
    let mut bodies = Vec::new();
    let mut handles = Vec::new();
    for i in 0..3 {
        let mut easy = site.easy(&url, &Via::Direct);
        let got = collect_body(&mut easy);
        let mut h = multi.add(easy).unwrap();
        h.set_token(i);
        handles.push(h);
        bodies.push(got);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut done = 0;
    while done < 3 {
        assert!(Instant::now() < deadline, "multi stalled with {done} done");
        multi.perform().unwrap();
        multi.messages(|m| {
            m.result().unwrap();
            done += 1;
        });
        if done < 3 {
            multi.wait(&mut [], Duration::from_millis(200)).unwrap();
        }
    }
    for got in &bodies {
        assert!(*got.lock().unwrap() == big);
    }
}

#[test]
fn buffer_size_bounds_each_write_callback_call() {
    // nginx sends the file in large pieces; with a buffer of 1,000 bytes
    // (raised to libcurl's least, 1,024) no call gets more, and the bytes
    // arrive whole and in order.
    let site = Site::shared();
    let url = site.urls().remove(0);
    for (asked, most) in [(None, 16 * 1024), (Some(1000), 1024), (Some(4096), 4096)] {
        let mut easy = site.easy(&url, &Via::Direct);
        if let Some(size) = asked {
            easy.buffer_size(size).unwrap();
        }
        let got = std::sync::Arc::new(std::sync::Mutex::new((Vec::new(), 0usize)));
        let sink = got.clone();
        easy.write_function(move |d| {
            let mut got = sink.lock().unwrap();
            got.0.extend_from_slice(d);
            got.1 = got.1.max(d.len());
            Ok(d.len())
        })
        .unwrap();
        easy.perform().unwrap();
        let got = got.lock().unwrap();
        assert!(got.0 == site.body, "the body changed ({asked:?})");
        assert!(got.1 <= most, "a call got {} bytes ({asked:?})", got.1);
        assert!(
            got.1 > most / 2,
            "calls got at most {} bytes ({asked:?})",
            got.1
        );
    }
}
