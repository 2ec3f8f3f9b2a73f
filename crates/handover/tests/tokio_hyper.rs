//! hyper-util's legacy client on handover's [`Connector`], against real
//! peers on loopback: nginx over HTTP and HTTPS (GET, POST), squid with
//! Basic and with Digest, stunnel in front of squid (an HTTPS proxy),
//! microsocks (SOCKS5 with a password), dante (SOCKS5 by name, SOCKS4), a
//! SOCKS5 → HTTP proxy chain; hyper's pool reusing a handed-over
//! connection (one connect, nginx's `$connection_requests` counting up);
//! parallel requests setting up parallel Digest tunnels;
//! the setup's [`Info`] in every response's extensions; and a rejected
//! proxy password surfacing as a client error that carries the code the
//! blocking face gives.
//!
//! nginx and the proxies that need nothing fresh are shared by the tests of
//! this binary (`shared`); every request names its test in the query
//! string, so that a test finds its own lines in nginx's access log.

mod common;

use std::error::Error as _;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use common::pattern;
use handover::tokio::{Connector, HyperConnection};
use handover::{Auth, ConnectOnly, Easy, ErrorKind, Info};
use handover_test_support::capture::CaptureServer;
use handover_test_support::peers::{assert_same, TestPki};
use handover_test_support::real_peers::{Dante, Microsocks, Nginx, Squid, SquidAuth, Stunnel};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

const MIB: usize = 1024 * 1024;

/// How long one request, or one wait for a log line, may take.
const WAIT: Duration = Duration::from_secs(30);

/// How long a response's connection gets to go back to hyper's pool.
const SETTLE: Duration = Duration::from_millis(100);

/// nginx (HTTP and HTTPS) shared by the tests, with the file they fetch.
struct Site {
    nginx: &'static Nginx,
    pki: &'static TestPki,
    file: Vec<u8>,
}

const FILE: &str = "/hyper/big.bin";

fn site() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        let pki = TestPki::shared();
        let nginx = Nginx::shared(Some((&pki.server_chain_pem, &pki.server_key_pem)));
        // An odd size, so that no buffer boundary hides a lost tail.
        let file = pattern(MIB + 4321, 13);
        nginx.put(FILE.trim_start_matches('/'), &file);
        Site { nginx, pki, file }
    })
}

impl Site {
    /// `http://HOST:PORT/hyper/big.bin?TAG`.
    fn http(&self, host: &str, tag: &str) -> String {
        format!("http://{host}:{}{FILE}?{tag}", self.nginx.port())
    }

    /// `https://HOST:PORT/hyper/big.bin?TAG`.
    fn https(&self, host: &str, tag: &str) -> String {
        let port = self.nginx.tls_port().expect("nginx was started with TLS");
        format!("https://{host}:{port}{FILE}?{tag}")
    }

    /// The access log lines of the requests tagged `tag`, once there are
    /// `n` of them (nginx logs a request after its response has left).
    async fn log(&self, tag: &str, n: usize) -> Vec<LogLine> {
        let marker = format!("?{tag} HTTP/");
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let lines: Vec<LogLine> = self
                .nginx
                .access_log()
                .iter()
                .filter(|line| line.contains(&marker))
                .map(|line| LogLine::parse(line))
                .collect();
            if lines.len() >= n || tokio::time::Instant::now() >= deadline {
                assert_eq!(lines.len(), n, "nginx's lines for {tag}: {lines:#?}");
                return lines;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// One line of nginx's access log: `$connection $connection_requests
/// "$request" $status $body_bytes_sent`.
#[derive(Debug)]
struct LogLine {
    connection: u64,
    connection_requests: u64,
    method: String,
    status: u16,
    body_bytes_sent: usize,
}

impl LogLine {
    fn parse(line: &str) -> LogLine {
        Self::try_parse(line).unwrap_or_else(|| panic!("unexpected access log line: {line}"))
    }

    fn try_parse(line: &str) -> Option<LogLine> {
        let (counters, rest) = line.split_once(" \"")?;
        let (request, tail) = rest.rsplit_once("\" ")?;
        let (connection, connection_requests) = counters.split_once(' ')?;
        let (status, body_bytes_sent) = tail.split_once(' ')?;
        Some(LogLine {
            connection: connection.parse().ok()?,
            connection_requests: connection_requests.parse().ok()?,
            method: request.split(' ').next()?.to_owned(),
            status: status.parse().ok()?,
            body_bytes_sent: body_bytes_sent.parse().ok()?,
        })
    }
}

/// The connector, counting the connections it is asked for.
#[derive(Clone)]
struct Counting {
    inner: Connector,
    calls: Arc<AtomicUsize>,
}

impl tower_service::Service<Uri> for Counting {
    type Response = HyperConnection;
    type Error = handover::Error;
    type Future = <Connector as tower_service::Service<Uri>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), handover::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.call(uri)
    }
}

/// A hyper-util client on a [`Connector`] made from a template handle.
struct Hyper {
    client: Client<Counting, Full<Bytes>>,
    calls: Arc<AtomicUsize>,
}

/// A response, its body collected, and the setup's [`Info`] it carried.
struct Got {
    status: StatusCode,
    body: Bytes,
    info: Info,
}

impl Hyper {
    fn new(template: &Easy) -> Hyper {
        let calls = Arc::new(AtomicUsize::new(0));
        let connector = Counting {
            inner: Connector::new(template),
            calls: calls.clone(),
        };
        Hyper {
            client: Client::builder(TokioExecutor::new()).build(connector),
            calls,
        }
    }

    /// How many connections the client has asked the connector for.
    fn connects(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Sends a request and reads the whole response.
    async fn send(&self, method: Method, url: &str, body: Vec<u8>) -> Got {
        let request = Request::builder()
            .method(method.clone())
            .uri(url)
            .body(Full::new(Bytes::from(body)))
            .unwrap_or_else(|e| panic!("{method} {url}: building the request: {e}"));
        let response = within(self.client.request(request), &format!("{method} {url}"))
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e:?}"));
        let (parts, body) = response.into_parts();
        let body = within(body.collect(), &format!("{method} {url}: the body"))
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: reading the body: {e:?}"))
            .to_bytes();
        let info = parts
            .extensions
            .get::<Info>()
            .unwrap_or_else(|| panic!("{method} {url}: no handover::Info in the extensions"))
            .clone();
        // hyper-util hands a connection back to its pool on a task of its
        // own, after the body's end has reached us: a request sent at once
        // can find the pool empty and open another connection (plain
        // hyper-util over a TcpStream does the same). Let that task run,
        // so that the reuse the tests count is hyper's pool at rest.
        tokio::time::sleep(SETTLE).await;
        Got {
            status: parts.status,
            body,
            info,
        }
    }

    /// A GET of nginx's file, checked byte for byte.
    async fn get_file(&self, url: &str) -> Got {
        let got = self.send(Method::GET, url, Vec::new()).await;
        assert_eq!(got.status, StatusCode::OK, "GET {url}");
        assert_same(&got.body, &site().file);
        got
    }
}

/// `future`, or a panic naming `what` after [`WAIT`].
async fn within<T>(future: impl Future<Output = T>, what: &str) -> T {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {WAIT:?}"))
}

/// A template that trusts nginx's CA and gives up connecting after 20 s.
fn template() -> Easy {
    let mut easy = Easy::new();
    easy.cainfo_blob(site().pki.ca_pem.as_bytes())
        .unwrap_or_else(|e| panic!("cainfo_blob: {e}"));
    easy.connect_timeout(Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("connect_timeout: {e}"));
    easy
}

/// `template` with `proxy`.
fn via(proxy: &str) -> Easy {
    let mut easy = template();
    easy.proxy(proxy)
        .unwrap_or_else(|e| panic!("proxy {proxy}: {e}"));
    easy
}

/// `via` squid at `port`, answering its challenge with `scheme`.
fn via_squid(port: u16, scheme: &Auth, user: &str, password: &str) -> Easy {
    let mut easy = via(&format!("http://127.0.0.1:{port}"));
    easy.proxy_auth(scheme).unwrap();
    easy.proxy_username(user).unwrap();
    easy.proxy_password(password).unwrap();
    easy
}

/// Squid's access log line for a tunnel is written when the tunnel
/// closes: dropping the client closes its pooled connections.
async fn wait_squid(squid: &Squid, wanted: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let log = squid.log();
        if log.contains(wanted) {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("squid never logged {wanted:?}:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_and_post_to_nginx_over_http_and_https_on_one_connection() {
    let site = site();
    for (tag, url) in [
        ("get-post-http", site.http("127.0.0.1", "get-post-http")),
        ("get-post-https", site.https("localhost", "get-post-https")),
    ] {
        let hyper = Hyper::new(&template());
        let first = hyper.get_file(&url).await;
        let again = hyper.get_file(&url).await;
        // A static file refuses POST with a complete 405. The POST goes
        // last: nginx answers it before reading the body, and whether the
        // connection is pooled again after such an early answer is up to
        // hyper and nginx (plain hyper-util over a TcpStream opens a second
        // connection now and then too). The body is checked byte for byte
        // by a recording origin in the Digest test.
        let posted = hyper
            .send(Method::POST, &url, pattern(64 * 1024 + 3, 5))
            .await;
        assert_eq!(posted.status, StatusCode::METHOD_NOT_ALLOWED, "POST {url}");
        assert_eq!(
            hyper.connects(),
            1,
            "{tag}: one connection for three requests"
        );
        assert_eq!(first.info.conn_id(), again.info.conn_id());
        assert_eq!(first.info.conn_id(), posted.info.conn_id());
        assert!(!first.info.used_proxy());
        if url.starts_with("https") {
            assert!(first.info.appconnect_time() > Duration::ZERO, "{tag}");
            assert_eq!(first.info.alpn_protocol(), Some(b"http/1.1".as_slice()));
        } else {
            assert_eq!(first.info.alpn_protocol(), None);
        }

        let log = site.log(tag, 3).await;
        let methods: Vec<_> = log.iter().map(|l| l.method.as_str()).collect();
        assert_eq!(methods, ["GET", "GET", "POST"], "{log:#?}");
        let statuses: Vec<_> = log.iter().map(|l| l.status).collect();
        assert_eq!(statuses, [200, 200, 405], "{log:#?}");
        assert!(
            log.iter().all(|l| l.connection == log[0].connection),
            "one nginx connection: {log:#?}"
        );
        let counts: Vec<_> = log.iter().map(|l| l.connection_requests).collect();
        assert_eq!(counts, [1, 2, 3], "{log:#?}");
        assert_eq!(log[0].body_bytes_sent, site.file.len());
        assert_eq!(log[1].body_bytes_sent, site.file.len());
    }
}

#[tokio::test]
async fn hyper_pool_reuses_a_tunnel_handed_over_through_squid() {
    let site = site();
    let squid = Squid::shared(SquidAuth::None);
    let hyper = Hyper::new(&via(&format!("http://127.0.0.1:{}", squid.port())));
    let url = site.https("127.0.0.1", "reuse-squid");
    let first = hyper.get_file(&url).await;
    let second = hyper.get_file(&url).await;
    assert_eq!(
        hyper.connects(),
        1,
        "the second request rode the pooled tunnel"
    );
    assert_eq!(first.info.conn_id(), second.info.conn_id());
    assert_eq!(first.info.http_connectcode(), 200);

    let log = site.log("reuse-squid", 2).await;
    assert_eq!(log[0].connection, log[1].connection, "{log:#?}");
    assert_eq!(log[0].connection_requests, 1, "{log:#?}");
    assert_eq!(log[1].connection_requests, 2, "{log:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_squid_with_basic() {
    let site = site();
    let squid = Squid::shared(SquidAuth::Basic {
        user: "alice".into(),
        password: "wonder:land".into(),
    });
    let template = via_squid(
        squid.port(),
        Auth::new().basic(true),
        "alice",
        "wonder:land",
    );
    let hyper = Hyper::new(&template);
    let tls = hyper.get_file(&site.https("127.0.0.1", "basic")).await;
    let plain = hyper.get_file(&site.http("127.0.0.1", "basic")).await;
    assert_eq!(hyper.connects(), 2, "one tunnel per origin");
    for info in [&tls.info, &plain.info] {
        // The Info extension: the proxy's CONNECT code and scheme.
        assert_eq!(info.http_connectcode(), 200);
        assert_eq!(info.proxyauth_used(), 1, "Basic");
        assert!(info.used_proxy());
        assert_eq!(info.primary_addr(), Some(squid.addr()));
    }
    assert!(tls.info.appconnect_time() > Duration::ZERO);
    assert_eq!(plain.info.alpn_protocol(), None);
    site.log("basic", 2).await;

    drop(hyper);
    let tls_port = site.nginx.tls_port().unwrap();
    let port = site.nginx.port();
    wait_squid(squid, &format!("CONNECT 127.0.0.1:{tls_port} alice")).await;
    wait_squid(squid, &format!("CONNECT 127.0.0.1:{port} alice")).await;
}

#[tokio::test]
async fn through_squid_with_digest_get_and_a_post_byte_for_byte() {
    let site = site();
    let squid = Squid::shared(SquidAuth::Digest {
        user: "bob".into(),
        password: "d1gest-pass".into(),
        realm: "handover-test".into(),
    });
    let template = via_squid(squid.port(), Auth::new().digest(true), "bob", "d1gest-pass");
    let hyper = Hyper::new(&template);
    let got = hyper.get_file(&site.https("127.0.0.1", "digest")).await;
    assert_eq!(got.info.http_connectcode(), 200);
    assert_eq!(got.info.proxyauth_used(), 2, "Digest");
    assert_eq!(got.info.proxyauth_avail() & 2, 2, "squid offered Digest");
    site.log("digest", 1).await;

    // nginx does not echo a POST body: a recording origin checks it.
    let origin = CaptureServer::start("200 OK", &["content-length"]);
    let data = pattern(MIB + 99, 7);
    let url = format!("{}/upload", origin.base_url());
    let posted = hyper.send(Method::POST, &url, data.clone()).await;
    assert_eq!(posted.status, StatusCode::OK);
    assert_eq!(
        String::from_utf8_lossy(&posted.body),
        format!("content-length: {}\n", data.len())
    );
    let requests = origin.requests();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].head.starts_with("POST /upload HTTP/1.1\r\n"),
        "origin-form inside the tunnel: {}",
        requests[0].head
    );
    assert_same(&requests[0].body, &data);

    drop(hyper);
    let tls_port = site.nginx.tls_port().unwrap();
    wait_squid(squid, &format!("CONNECT 127.0.0.1:{tls_port} bob")).await;
    wait_squid(squid, &format!("CONNECT 127.0.0.1:{} bob", origin.port())).await;
}

#[tokio::test]
async fn through_an_https_proxy() {
    let site = site();
    let squid = Squid::shared(SquidAuth::None);
    let proxy_pki = TestPki::new();
    let stunnel = Stunnel::start(
        squid.addr(),
        &proxy_pki.server_chain_pem,
        &proxy_pki.server_key_pem,
    );
    let mut template = via(&format!("https://localhost:{}", stunnel.port()));
    template
        .proxy_cainfo_blob(proxy_pki.ca_pem.as_bytes())
        .unwrap();
    let hyper = Hyper::new(&template);
    // TLS to nginx inside TLS to the proxy, and plain HTTP inside it.
    let tls = hyper
        .get_file(&site.https("127.0.0.1", "https-proxy"))
        .await;
    let plain = hyper.get_file(&site.http("127.0.0.1", "https-proxy")).await;
    assert_eq!(hyper.connects(), 2);
    for info in [&tls.info, &plain.info] {
        assert_eq!(info.http_connectcode(), 200);
        assert_eq!(info.primary_addr(), Some(stunnel.addr()));
    }
    site.log("https-proxy", 2).await;

    // The proxy's certificate is checked against the proxy's CA: nginx's
    // CA does not vouch for it.
    let mut untrusted = via(&format!("https://localhost:{}", stunnel.port()));
    untrusted
        .proxy_cainfo_blob(site.pki.ca_pem.as_bytes())
        .unwrap();
    let err = Hyper::new(&untrusted)
        .client
        .get(
            site.http("127.0.0.1", "https-proxy-untrusted")
                .parse()
                .unwrap(),
        )
        .await
        .expect_err("an untrusted HTTPS proxy");
    assert_eq!(
        handover_error(&err).kind(),
        ErrorKind::PeerFailedVerification
    );
}

#[tokio::test]
async fn through_microsocks_with_a_password() {
    let site = site();
    let socks = Microsocks::shared(Some(("carol", "s0cks")));
    let mut template = via(&format!("socks5h://127.0.0.1:{}", socks.port()));
    template.proxy_username("carol").unwrap();
    template.proxy_password("s0cks").unwrap();
    let hyper = Hyper::new(&template);
    // socks5h: microsocks resolves "localhost".
    let tls = hyper.get_file(&site.https("localhost", "microsocks")).await;
    let plain = hyper.get_file(&site.http("127.0.0.1", "microsocks")).await;
    for info in [&tls.info, &plain.info] {
        assert!(info.used_proxy());
        assert_eq!(info.http_connectcode(), 0, "no CONNECT through SOCKS");
        assert_eq!(info.primary_addr(), Some(socks.addr()));
    }
    site.log("microsocks", 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_dante_socks5h_and_socks4() {
    let site = site();
    let dante = Dante::shared();
    let socks5h = Hyper::new(&via(&format!("socks5h://127.0.0.1:{}", dante.port())));
    socks5h
        .get_file(&site.https("localhost", "dante-socks5h"))
        .await;
    socks5h
        .get_file(&site.http("localhost", "dante-socks5h"))
        .await;
    // SOCKS4 resolves here and sends the address.
    let socks4 = Hyper::new(&via(&format!("socks4://127.0.0.1:{}", dante.port())));
    let got = socks4
        .get_file(&site.https("localhost", "dante-socks4"))
        .await;
    assert_eq!(got.info.primary_addr(), Some(dante.addr()));
    socks4
        .get_file(&site.http("127.0.0.1", "dante-socks4"))
        .await;
    site.log("dante-socks5h", 2).await;
    site.log("dante-socks4", 2).await;
}

#[tokio::test]
async fn through_a_socks5_then_http_proxy_chain() {
    let site = site();
    let socks = Microsocks::shared(None);
    let squid = Squid::shared(SquidAuth::None);
    let mut template = template();
    template
        .proxy_chain(&[
            format!("socks5://127.0.0.1:{}", socks.port()),
            format!("http://127.0.0.1:{}", squid.port()),
        ])
        .unwrap();
    let hyper = Hyper::new(&template);
    let url = site.https("127.0.0.1", "chain");
    let first = hyper.get_file(&url).await;
    let second = hyper.get_file(&url).await;
    assert_eq!(hyper.connects(), 1);
    assert_eq!(
        first.info.primary_addr(),
        Some(socks.addr()),
        "the socket's peer is the first hop"
    );
    assert_eq!(
        first.info.http_connectcode(),
        200,
        "the second hop's CONNECT"
    );
    assert_eq!(first.info.conn_id(), second.info.conn_id());
    let log = site.log("chain", 2).await;
    assert_eq!(log[0].connection, log[1].connection, "{log:#?}");
    assert_eq!(log[1].connection_requests, 2, "{log:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_requests_set_up_parallel_digest_tunnels_then_share_the_pool() {
    let site = site();
    let squid = Squid::shared(SquidAuth::Digest {
        user: "bob".into(),
        password: "d1gest-pass".into(),
        realm: "handover-test".into(),
    });
    let template = via_squid(squid.port(), Auth::new().digest(true), "bob", "d1gest-pass");
    let hyper = Hyper::new(&template);
    let url = site.https("127.0.0.1", "parallel");
    // Four at once with an empty pool: four setups, each with its own 407
    // and Digest answer, running together on the runtime.
    let first: Vec<Got> =
        futures_util::future::join_all((0..4).map(|_| hyper.get_file(&url))).await;
    assert_eq!(hyper.connects(), 4);
    for got in &first {
        assert_eq!(got.info.http_connectcode(), 200);
        assert_eq!(got.info.proxyauth_used(), 2, "Digest");
    }
    // Then four more, one after the other: all from the pool. (A request
    // of the first four may have taken a connection another one had
    // finished with; its own setup then went to the pool unused.)
    let mut ids: Vec<i64> = first.iter().map(|g| g.info.conn_id()).collect();
    for _ in 0..4 {
        ids.push(hyper.get_file(&url).await.info.conn_id());
    }
    assert_eq!(hyper.connects(), 4, "no setup for the sequential requests");
    ids.sort_unstable();
    ids.dedup();
    assert!(
        (2..=4).contains(&ids.len()),
        "the setups ran side by side, four at most: {ids:?}"
    );
    let log = site.log("parallel", 8).await;
    let mut connections: Vec<u64> = log.iter().map(|l| l.connection).collect();
    connections.sort_unstable();
    connections.dedup();
    assert_eq!(connections.len(), ids.len(), "{log:#?}");
}

/// The [`handover::Error`] in `err`'s source chain.
fn handover_error(err: &hyper_util::client::legacy::Error) -> handover::Error {
    assert!(err.is_connect(), "not a connect error: {err:?}");
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(found) = e.downcast_ref::<handover::Error>() {
            return found.clone();
        }
        source = e.source();
    }
    panic!("no handover::Error in the source chain of {err:?}")
}

/// The error hyper's client gives for a GET of `url` through `template`'s
/// settings, and the blocking face's for a connect-only perform of the
/// same: the same code and message.
async fn both_faces_fail_alike(template: &Easy, url: &str) -> handover::Error {
    let hyper = Hyper::new(template);
    let err = within(hyper.client.get(url.parse().unwrap()), url)
        .await
        .expect_err("the client should fail");
    let asynchronous = handover_error(&err);

    let mut blocking = template.duphandle();
    blocking.url(url).unwrap();
    blocking.connect_only(ConnectOnly::Connection).unwrap();
    blocking.http_proxy_tunnel(true).unwrap();
    let blocking = tokio::task::spawn_blocking(move || blocking.perform())
        .await
        .unwrap_or_else(|e| panic!("the blocking perform panicked: {e}"))
        .expect_err("the blocking face should fail");
    assert_eq!(
        asynchronous.kind(),
        blocking.kind(),
        "{asynchronous} / {blocking}"
    );
    assert_eq!(asynchronous.to_string(), blocking.to_string());
    asynchronous
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_proxy_password_is_a_client_error_with_the_blocking_code() {
    let site = site();
    // Squids of their own: squid caches credentials per user.
    let squid = Squid::start(SquidAuth::Basic {
        user: "alice".into(),
        password: "wonder:land".into(),
    });
    let template = via_squid(squid.port(), Auth::new().basic(true), "alice", "wrong");
    let err = both_faces_fail_alike(&template, &site.http("127.0.0.1", "rejected")).await;
    assert_eq!(err.kind(), ErrorKind::CouldntConnect, "{err}");
    assert_eq!(err.code(), 7);
    assert!(err.to_string().contains("407"), "{err}");
    wait_squid(&squid, "TCP_DENIED/407").await;

    // Digest, the scheme hyper could not answer itself.
    let digest = Squid::start(SquidAuth::Digest {
        user: "bob".into(),
        password: "d1gest-pass".into(),
        realm: "handover-test".into(),
    });
    let template = via_squid(digest.port(), Auth::new().digest(true), "bob", "wrong");
    let err = both_faces_fail_alike(&template, &site.https("127.0.0.1", "rejected")).await;
    assert_eq!(err.code(), 7, "{err}");

    // A SOCKS5 refusal: 97, CURLE_PROXY.
    let socks = Microsocks::start(Some(("erin", "right")));
    let mut template = via(&format!("socks5h://erin:wrong@127.0.0.1:{}", socks.port()));
    template.connect_timeout(Duration::from_secs(20)).unwrap();
    let err = both_faces_fail_alike(&template, &site.http("127.0.0.1", "rejected")).await;
    assert_eq!(err.code(), 97, "{err}");
    assert_eq!(
        site.nginx
            .access_log()
            .iter()
            .filter(|l| l.contains("?rejected "))
            .count(),
        0
    );
}
