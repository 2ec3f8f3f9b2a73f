//! Cancellation of the async face: the connect future dropped while it
//! resolves (over DoH), while TCP connects, in the 407 loop, in the SOCKS
//! handshake and in the TLS handshake — each by a `tokio::time::timeout`
//! that must end it promptly — and then the process's open descriptors
//! are back to what they were.
//!
//! Descriptors are counted process-wide, so the tests of this binary take
//! turns (one lock); the peers they stall on run in-process and close
//! their side when ours goes, which the count waits for.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use handover::{Auth, ConnectOnly, Easy};
use handover_test_support::peers::{Behavior, TcpPeer};

static TURNS: Mutex<()> = Mutex::new(());

/// How long a stalled connect runs before the timeout drops it.
const STALL: Duration = Duration::from_millis(300);

/// The descriptors open now. A first runtime is built (and dropped) before
/// the first count: tokio opens some descriptors once per process and keeps
/// them (the signal driver's socket pair, when another crate of the
/// workspace turns tokio's `signal` feature on), which are no transfer's.
fn open_descriptors() -> usize {
    static WARM: std::sync::Once = std::sync::Once::new();
    WARM.call_once(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async { tokio::task::yield_now().await });
    });
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Waits until the count is back to `baseline` (peers close their side
/// on their own threads); fails with the descriptors left over.
fn assert_back_to(baseline: usize, phase: &str) {
    // Generous: the peers close their side on threads of their own, which
    // a loaded machine may run late.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = open_descriptors();
        if now <= baseline {
            return;
        }
        if Instant::now() > deadline {
            let listing: Vec<String> = std::fs::read_dir("/proc/self/fd")
                .unwrap()
                .filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .map(|p| p.display().to_string())
                .collect();
            panic!(
                "{phase}: {now} descriptors open, {baseline} before: {listing:?}\n{}",
                sockets_of(&listing)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The TCP sockets among `listing` (`socket:[inode]`), as /proc/net/tcp
/// lists them: local and remote address and state, to tell whose they are.
fn sockets_of(listing: &[String]) -> String {
    let inodes: Vec<&str> = listing
        .iter()
        .filter_map(|l| l.strip_prefix("socket:[")?.strip_suffix(']'))
        .collect();
    let mut out = String::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        for line in std::fs::read_to_string(table).unwrap_or_default().lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.get(9).is_some_and(|inode| inodes.contains(inode)) {
                out.push_str(&format!(
                    "{table}: local {} remote {} state {} inode {}\n",
                    fields[1], fields[2], fields[3], fields[9]
                ));
            }
        }
    }
    out
}

/// Runs `easy`'s transfer under a timeout that fires while it stalls in
/// `phase`: the timeout must win promptly, and every descriptor the
/// transfer opened must be closed.
fn cancel_in(phase: &str, baseline: usize, mut easy: Easy) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let outcome =
        runtime.block_on(async { tokio::time::timeout(STALL, easy.perform_async()).await });
    let took = started.elapsed();
    assert!(
        outcome.is_err(),
        "{phase}: the transfer ended before the timeout: {outcome:?}"
    );
    assert!(
        took < STALL + Duration::from_millis(500),
        "{phase}: the timeout took {took:?}"
    );
    drop(runtime);
    drop(easy);
    assert_back_to(baseline, phase);
}

fn connect_only(url: &str) -> Easy {
    let mut easy = Easy::new();
    easy.url(url).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    // The transfer's own limit is far away: only the drop ends it.
    easy.connect_timeout(Duration::from_secs(60)).unwrap();
    easy
}

#[test]
fn dropped_while_resolving_over_doh() {
    let _turn = TURNS.lock().unwrap_or_else(|p| p.into_inner());
    let doh = TcpPeer::start(Behavior::Silent);
    let baseline = open_descriptors();
    let mut easy = connect_only("telnet://stalls.test:7");
    easy.doh_url(Some(&format!("https://127.0.0.1:{}/dns-query", doh.port())))
        .unwrap();
    cancel_in("resolve", baseline, easy);
}

/// A listener whose accept queue is full: a further SYN is dropped, so a
/// connect to it stays in progress.
struct FullBacklog {
    addr: SocketAddr,
    _listener: socket2::Socket,
    _queued: Vec<TcpStream>,
}

impl FullBacklog {
    fn start() -> FullBacklog {
        let listener =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        listener
            .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
            .unwrap();
        listener.listen(0).unwrap();
        let addr = listener.local_addr().unwrap().as_socket().unwrap();
        // Fill the queue (its length is the backlog + 1) without accepting;
        // stop at the first connect that does not complete at once.
        let mut queued = Vec::new();
        for _ in 0..8 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
                Ok(stream) => queued.push(stream),
                Err(_) => break,
            }
        }
        FullBacklog {
            addr,
            _listener: listener,
            _queued: queued,
        }
    }
}

#[test]
fn dropped_while_tcp_connects() {
    let _turn = TURNS.lock().unwrap_or_else(|p| p.into_inner());
    let full = FullBacklog::start();
    let baseline = open_descriptors();
    cancel_in(
        "TCP connect",
        baseline,
        connect_only(&format!("telnet://127.0.0.1:{}", full.addr.port())),
    );
}

/// A proxy that answers the first CONNECT with a Digest 407 and the second
/// with silence, holding the connection until the client goes.
fn stalls_in_the_407_loop() -> (u16, std::thread::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        let mut heads = 0;
        while s.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
            if head.ends_with(b"\r\n\r\n") {
                heads += 1;
                head.clear();
                if heads == 1 {
                    s.write_all(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                          Proxy-Authenticate: Digest realm=\"stall\", nonce=\"n0nce\", qop=\"auth\"\r\n\
                          Content-Length: 0\r\n\r\n",
                    )
                    .unwrap();
                }
            }
        }
        heads
    });
    (port, thread)
}

#[test]
fn dropped_in_the_407_loop() {
    let _turn = TURNS.lock().unwrap_or_else(|p| p.into_inner());
    let target = TcpPeer::start(Behavior::Echo);
    let (port, proxy) = stalls_in_the_407_loop();
    let baseline = open_descriptors() - 1; // the listener goes with the thread
    let mut easy = connect_only(&format!("telnet://127.0.0.1:{}", target.port()));
    easy.proxy(&format!("http://127.0.0.1:{port}")).unwrap();
    easy.proxy_auth(Auth::new().digest(true)).unwrap();
    easy.proxy_username("alice").unwrap();
    easy.proxy_password("secret").unwrap();
    cancel_in("407 loop", baseline + 1, easy);
    // The proxy saw the answer to its challenge, then the client go (its
    // read ended), so its thread ends.
    assert_eq!(
        proxy.join().unwrap(),
        2,
        "two CONNECTs: the second with Digest"
    );
    assert_back_to(baseline, "407 loop, proxy gone");
}

#[test]
fn dropped_in_the_socks_handshake() {
    let _turn = TURNS.lock().unwrap_or_else(|p| p.into_inner());
    let socks = TcpPeer::start(Behavior::Silent);
    let baseline = open_descriptors();
    let mut easy = connect_only("telnet://127.0.0.1:7");
    easy.proxy(&format!("socks5://127.0.0.1:{}", socks.port()))
        .unwrap();
    cancel_in("SOCKS", baseline, easy);
}

#[test]
fn dropped_in_the_tls_handshake() {
    let _turn = TURNS.lock().unwrap_or_else(|p| p.into_inner());
    let silent = TcpPeer::start(Behavior::Silent);
    let baseline = open_descriptors();
    cancel_in(
        "TLS",
        baseline,
        connect_only(&format!("https://127.0.0.1:{}/", silent.port())),
    );
}

#[test]
fn the_transfers_own_connect_timeout_ends_it_with_28() {
    let _turn = TURNS.lock().unwrap_or_else(|p| p.into_inner());
    let silent = TcpPeer::start(Behavior::Silent);
    let baseline = open_descriptors();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut easy = connect_only(&format!("https://127.0.0.1:{}/", silent.port()));
    easy.connect_timeout(Duration::from_millis(200)).unwrap();
    let started = Instant::now();
    let err = runtime.block_on(easy.perform_async()).unwrap_err();
    assert_eq!(err.kind(), handover::ErrorKind::OperationTimedout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(runtime);
    drop(easy);
    assert_back_to(baseline, "connect timeout");
}
