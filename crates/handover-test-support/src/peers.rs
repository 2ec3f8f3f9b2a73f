//! In-process loopback peers: a throwaway PKI ([`TestPki`]), plain and TLS
//! servers with a few fixed behaviours ([`TcpPeer`], [`TlsPeer`]), and the
//! server core every in-process peer of this crate is built on ([`Server`]).
//!
//! Every peer listens on an ephemeral loopback port (bound to port 0 and read
//! back), serves each accepted connection on its own thread, and stops in
//! `Drop`: it sets a flag, wakes its acceptor by connecting to it, shuts down
//! the sockets it still holds and waits for its threads, each wait bounded so
//! that a stuck connection can never hang a test.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, PublicKeyData,
    RevocationReason, RevokedCertParams, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection};

/// Size of every read buffer: large enough that a 64 MiB echo costs ~1000 syscalls.
const BUF_SIZE: usize = 64 * 1024;
/// Read and write timeout of accepted sockets, so that a stuck test ends.
const IO_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `Drop` waits for the acceptor, then for the connection threads.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Gives every `TestPki` its own temp directory within one process.
static PKI_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A throwaway PKI made at run time with rcgen: a CA and a server certificate
/// for "localhost", 127.0.0.1 and ::1 (and 127.0.0.2, 127.0.0.3), signed by the CA; plus a second
/// unrelated CA (for "untrusted" tests), a client certificate signed by the CA,
/// and helpers to write PEM files.
pub struct TestPki {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// The CA certificate, DER.
    pub ca_der: Vec<u8>,
    /// The CA's private key, PKCS#8 PEM (to sign OCSP responses with
    /// `openssl ocsp`).
    pub ca_key_pem: String,
    /// The server (leaf) certificate, DER.
    pub server_cert_der: Vec<u8>,
    /// The server private key, PKCS#8 DER.
    pub server_key_der: Vec<u8>,
    /// The chain the server presents, PEM: the leaf only (there is no intermediate).
    pub server_chain_pem: String,
    /// The server private key, PKCS#8 PEM.
    pub server_key_pem: String,
    /// A client certificate signed by the CA (extended key usage: client auth), PEM.
    pub client_cert_pem: String,
    /// The client certificate's private key, PKCS#8 PEM.
    pub client_key_pem: String,
    /// A self-signed CA that signed nothing here: trusting it alone must fail verification.
    pub other_ca_pem: String,
    /// SubjectPublicKeyInfo DER of the server key (what public-key pinning hashes).
    pub server_spki_der: Vec<u8>,
    /// A CRL from the CA that revokes the server certificate, PEM.
    pub crl_revoking_server_pem: String,
    /// A CRL from the CA that revokes nothing, PEM.
    pub crl_empty_pem: String,
    temp_dir: PathBuf,
}

impl TestPki {
    /// A PKI whose server certificate names localhost, 127.0.0.1 and ::1,
    /// and 127.0.0.2 and 127.0.0.3, where real peers have listeners with
    /// other settings ([`Dovecot`](crate::real_peers::Dovecot)).
    pub fn new() -> TestPki {
        TestPki::with_names(&["localhost", "127.0.0.1", "::1", "127.0.0.2", "127.0.0.3"])
    }

    /// A PKI whose server certificate carries `names` as subject alternative
    /// names; a name that parses as an IP address becomes an IP SAN, any other
    /// a DNS SAN.
    pub fn with_names(names: &[&str]) -> TestPki {
        let (ca_params, ca_key) = new_ca("handover test CA");
        let ca_cert = ca_params
            .self_signed(&ca_key)
            .expect("self-sign the test CA");
        let ca_key_pem = ca_key.serialize_pem();
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().expect("generate the server key");
        let mut server_params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("server names are valid SANs");
        server_params.distinguished_name.push(
            DnType::CommonName,
            names.first().copied().unwrap_or("handover test server"),
        );
        server_params.use_authority_key_identifier_extension = true;
        // A known serial, for the CRL that revokes it.
        server_params.serial_number = Some(SerialNumber::from(SERVER_SERIAL));
        server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server_params
            .signed_by(&server_key, &issuer)
            .expect("sign the server certificate");

        let client_key = KeyPair::generate().expect("generate the client key");
        let mut client_params =
            CertificateParams::new(Vec::<String>::new()).expect("empty SAN list is valid");
        client_params
            .distinguished_name
            .push(DnType::CommonName, "handover test client");
        client_params.use_authority_key_identifier_extension = true;
        client_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = client_params
            .signed_by(&client_key, &issuer)
            .expect("sign the client certificate");

        let crl = |revoked: Vec<RevokedCertParams>| {
            CertificateRevocationListParams {
                this_update: date_time_ymd(2024, 1, 1),
                next_update: date_time_ymd(2099, 1, 1),
                crl_number: SerialNumber::from(1u64),
                issuing_distribution_point: None,
                revoked_certs: revoked,
                key_identifier_method: KeyIdMethod::Sha256,
            }
            .signed_by(&issuer)
            .expect("sign a CRL")
            .pem()
            .expect("a CRL as PEM")
        };
        let crl_revoking_server_pem = crl(vec![RevokedCertParams {
            serial_number: SerialNumber::from(SERVER_SERIAL),
            revocation_time: date_time_ymd(2024, 1, 1),
            reason_code: Some(RevocationReason::KeyCompromise),
            invalidity_date: None,
        }]);
        let crl_empty_pem = crl(Vec::new());

        let (other_params, other_key) = new_ca("handover other (untrusted) CA");
        let other_ca = other_params
            .self_signed(&other_key)
            .expect("self-sign the other CA");

        let temp_dir = std::env::temp_dir().join(format!(
            "handover-pki-{}-{}",
            std::process::id(),
            PKI_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));

        TestPki {
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().to_vec(),
            ca_key_pem,
            server_cert_der: server_cert.der().to_vec(),
            server_key_der: server_key.serialize_der(),
            server_chain_pem: server_cert.pem(),
            server_key_pem: server_key.serialize_pem(),
            client_cert_pem: client_cert.pem(),
            client_key_pem: client_key.serialize_pem(),
            other_ca_pem: other_ca.pem(),
            server_spki_der: server_key.subject_public_key_info(),
            crl_revoking_server_pem,
            crl_empty_pem,
            temp_dir,
        }
    }

    /// The server certificate's serial number.
    pub fn server_serial(&self) -> u64 {
        SERVER_SERIAL
    }

    /// A server config presenting the server certificate, no client auth, no ALPN.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        self.server_config_alpn(&[])
    }

    /// A server config presenting the server certificate and offering `alpn`
    /// (in the server's order of preference).
    pub fn server_config_alpn(&self, alpn: &[&[u8]]) -> Arc<ServerConfig> {
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_no_client_auth()
            .with_single_cert(self.server_chain(), self.server_key())
            .expect("server certificate and key match");
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }

    /// A server config that requires a client certificate signed by the CA.
    pub fn server_config_client_auth(&self) -> Arc<ServerConfig> {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.ca_der.clone()))
            .expect("the test CA is a valid trust anchor");
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .expect("build the client certificate verifier");
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.server_chain(), self.server_key())
            .expect("server certificate and key match");
        Arc::new(config)
    }

    /// The one PKI of this test process, made by the first caller: for
    /// peers shared by many tests (see [`crate::shared`]), whose certificate
    /// must outlive any one test. Its temp directory is removed when the
    /// process ends.
    pub fn shared() -> &'static TestPki {
        static SHARED: OnceLock<TestPki> = OnceLock::new();
        SHARED.get_or_init(|| {
            let pki = TestPki::new();
            crate::shared::remove_at_exit(&pki.temp_dir);
            pki
        })
    }

    /// Writes `contents` to `name` in this PKI's own temp directory (made on
    /// first use, removed when the `TestPki` drops) and returns the path.
    ///
    /// The file appears whole (written aside, then renamed into place), so
    /// tests sharing a PKI may write the same name while others read it.
    pub fn write_temp(&self, name: &str, contents: &str) -> PathBuf {
        std::fs::create_dir_all(&self.temp_dir)
            .unwrap_or_else(|e| panic!("create {}: {e}", self.temp_dir.display()));
        let path = self.temp_dir.join(name);
        let aside = self.temp_dir.join(format!(
            ".{name}.{}",
            PKI_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&aside, contents)
            .and_then(|()| std::fs::rename(&aside, &path))
            .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    fn server_chain(&self) -> Vec<CertificateDer<'static>> {
        vec![CertificateDer::from(self.server_cert_der.clone())]
    }

    fn server_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key_der.clone()))
    }
}

impl Default for TestPki {
    fn default() -> Self {
        TestPki::new()
    }
}

impl Drop for TestPki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.temp_dir);
    }
}

/// Parameters and key of a self-signed CA named `name`.
/// The serial number of every test server certificate.
const SERVER_SERIAL: u64 = 0x4841_4e44;

fn new_ca(name: &str) -> (CertificateParams, KeyPair) {
    let key = KeyPair::generate().expect("generate a CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("empty SAN list is valid");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    (params, key)
}

/// The crypto provider, named explicitly so no process-wide default is needed.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What a peer does with each accepted connection.
#[derive(Clone, Debug)]
pub enum Behavior {
    /// Echo every byte until EOF, then close (TCP shutdown of the write side;
    /// over TLS, close_notify first).
    Echo,
    /// Accept and never send anything; hold the socket open until the peer
    /// closes or the server stops. Over TLS the handshake completes first
    /// (a silent TCP peer is the one for handshake timeouts).
    Silent,
    /// Write these bytes, then close orderly.
    CloseAfter(Vec<u8>),
}

/// The accessors of every peer built on a [`Server`] (a field `server`),
/// written once.
macro_rules! server_accessors {
    ($($peer:ident),*) => {$(
        impl $peer {
            /// The address the peer listens on.
            pub fn addr(&self) -> std::net::SocketAddr {
                self.server.addr()
            }

            /// The port the peer listens on.
            pub fn port(&self) -> u16 {
                self.server.port()
            }

            /// Connections accepted so far (TCP accepts, whatever happened next).
            pub fn accepted(&self) -> usize {
                self.server.accepted()
            }

            /// Waits until `n` connections have been accepted, at most
            /// `timeout`; whether they were.
            pub fn wait_accepted(&self, n: usize, timeout: std::time::Duration) -> bool {
                self.server.wait_accepted(n, timeout)
            }
        }
    )*};
}
pub(crate) use server_accessors;

server_accessors!(TcpPeer, TlsPeer);

/// A loopback TCP server (plain) on 127.0.0.1 or ::1.
pub struct TcpPeer {
    server: Server,
}

impl TcpPeer {
    /// Starts a peer on 127.0.0.1.
    pub fn start(behavior: Behavior) -> TcpPeer {
        TcpPeer::start_on(IpAddr::V4(Ipv4Addr::LOCALHOST), behavior)
    }

    /// Starts a peer on `addr`, which must be a loopback address.
    pub fn start_on(addr: IpAddr, behavior: Behavior) -> TcpPeer {
        let server = Server::start(addr, move |stream| serve_tcp(stream, &behavior));
        TcpPeer { server }
    }
}

/// A loopback TLS server (rustls) with the same behaviours; close_notify is
/// sent on orderly close unless `without_close_notify`.
pub struct TlsPeer {
    server: Server,
    seen: Arc<TlsSeen>,
}

/// What the TLS connections report back for the tests.
#[derive(Default)]
struct TlsSeen {
    last_alpn: Mutex<Option<Vec<u8>>>,
    last_error: Mutex<Option<String>>,
    /// Signalled when `last_error` is set.
    error_set: Condvar,
}

impl TlsSeen {
    fn record_error(&self, error: String) {
        *lock(&self.last_error) = Some(error);
        self.error_set.notify_all();
    }
}

impl TlsPeer {
    /// Starts a TLS peer on 127.0.0.1.
    pub fn start(config: Arc<ServerConfig>, behavior: Behavior) -> TlsPeer {
        TlsPeer::start_on(IpAddr::V4(Ipv4Addr::LOCALHOST), config, behavior)
    }

    /// Starts a TLS peer on `addr`, which must be a loopback address.
    pub fn start_on(addr: IpAddr, config: Arc<ServerConfig>, behavior: Behavior) -> TlsPeer {
        TlsPeer::start_with(addr, config, behavior, true)
    }

    /// Starts a TLS peer on 127.0.0.1 that closes the TCP connection after its
    /// bytes without sending close_notify (a truncation, as the client sees it).
    pub fn without_close_notify(config: Arc<ServerConfig>, behavior: Behavior) -> TlsPeer {
        TlsPeer::start_with(IpAddr::V4(Ipv4Addr::LOCALHOST), config, behavior, false)
    }

    fn start_with(
        addr: IpAddr,
        config: Arc<ServerConfig>,
        behavior: Behavior,
        close_notify: bool,
    ) -> TlsPeer {
        let seen = Arc::new(TlsSeen::default());
        let seen_by_conns = seen.clone();
        let server = Server::start(addr, move |stream| {
            serve_tls(stream, &config, &behavior, close_notify, &seen_by_conns)
        });
        TlsPeer { server, seen }
    }

    /// Negotiated ALPN protocol of the most recent successful handshake.
    pub fn last_alpn(&self) -> Option<Vec<u8>> {
        lock(&self.seen.last_alpn).clone()
    }

    /// The last TLS error seen (a failed handshake or a TLS protocol error
    /// after it), for tests asserting the server's view.
    pub fn last_error(&self) -> Option<String> {
        lock(&self.seen.last_error).clone()
    }

    /// The last TLS error seen, waiting for one at most `timeout`: a client
    /// learns of a failed handshake before the server has recorded why.
    pub fn wait_last_error(&self, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let mut error = lock(&self.seen.last_error);
        while error.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            error = match self.seen.error_set.wait_timeout(error, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        error.clone()
    }
}

/// Formats bytes as hex + ASCII lines for failing-test output: 16 bytes a
/// line, offset first, non-printable bytes shown as '.'; "(empty)" for no bytes.
pub fn hexdump(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "(empty)\n".to_string();
    }
    let mut out = String::with_capacity(bytes.len() / 16 * 78 + 78);
    for (line, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "{:08x} ", line * 16);
        for i in 0..16 {
            if i == 8 {
                out.push(' ');
            }
            match chunk.get(i) {
                Some(b) => {
                    let _ = write!(out, " {b:02x}");
                }
                None => out.push_str("   "),
            }
        }
        out.push_str("  |");
        out.extend(chunk.iter().map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        }));
        out.push_str("|\n");
    }
    out
}

/// Asserts two byte strings are equal; on failure, shows where they differ
/// as a [`hexdump`] of both around the first difference.
#[track_caller]
pub fn assert_same(got: &[u8], want: &[u8]) {
    if got == want {
        return;
    }
    let at = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    let from = at.saturating_sub(16);
    panic!(
        "bytes differ at offset {at} (got {} bytes, want {})\ngot:\n{}want:\n{}",
        got.len(),
        want.len(),
        hexdump(&got[from..(at + 16).min(got.len())]),
        hexdump(&want[from..(at + 16).min(want.len())]),
    );
}

// ---------------------------------------------------------------------------
// The server core of every in-process peer of this crate (the two above, the
// WebSocket peers, the proxies, the origin): accept loop, per-connection
// threads, bounded stop; and reading a request head.

/// State shared by the acceptor, the connection threads and `Drop`.
struct Shared {
    stop: AtomicBool,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    acceptor_running: bool,
    /// Connections accepted so far.
    accepted: usize,
    /// Connection threads not yet finished.
    live: usize,
    /// A clone of each open accepted socket, so `Drop` can unblock its thread.
    open: HashMap<u64, TcpStream>,
    next_id: u64,
}

/// A listener and its threads; stops on drop.
///
/// Every accepted socket gets TCP_NODELAY and `IO_TIMEOUT` read and write
/// timeouts, is counted in [`Server::accepted`], and is handed to the handler
/// on a thread of its own.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl Server {
    /// Listens on `ip` (loopback only), port 0, and serves each accepted
    /// connection by calling `handler` on a new thread.
    pub fn start<F>(ip: IpAddr, handler: F) -> Server
    where
        F: Fn(TcpStream) + Send + Sync + 'static,
    {
        assert!(ip.is_loopback(), "peers listen on loopback only, not {ip}");
        let listener = TcpListener::bind(SocketAddr::new(ip, 0))
            .unwrap_or_else(|e| panic!("bind a loopback peer on {ip}: {e}"));
        let addr = listener
            .local_addr()
            .expect("local address of the listener");
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            state: Mutex::new(State {
                acceptor_running: true,
                ..State::default()
            }),
            changed: Condvar::new(),
        });
        let acceptor_shared = shared.clone();
        let acceptor = thread::Builder::new()
            .name(format!("peer-accept-{}", addr.port()))
            .spawn(move || accept_loop(listener, acceptor_shared, Arc::new(handler)))
            .expect("spawn the acceptor thread");
        Server {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Connections accepted so far (TCP accepts, whatever happened next).
    pub fn accepted(&self) -> usize {
        lock(&self.shared.state).accepted
    }

    /// Waits until `n` connections have been accepted, at most `timeout`;
    /// whether they were.
    pub fn wait_accepted(&self, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |s| s.accepted >= n)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // The acceptor is blocked in accept(): a connection wakes it to see the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        let acceptor_done = self.wait_until(STOP_TIMEOUT, |s| !s.acceptor_running);
        if let Some(handle) = self.acceptor.take() {
            if acceptor_done || handle.is_finished() {
                let _ = handle.join();
            }
        }
        // Unblock connection threads still reading or writing, then wait for them.
        for stream in lock(&self.shared.state).open.values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        self.wait_until(STOP_TIMEOUT, |s| s.live == 0);
    }
}

impl Server {
    /// Waits at most `timeout` for `done`; whether it became true.
    fn wait_until(&self, timeout: Duration, done: impl Fn(&State) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = lock(&self.shared.state);
        while !done(&state) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = match self.shared.changed.wait_timeout(state, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }
}

fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    handler: Arc<dyn Fn(TcpStream) + Send + Sync>,
) {
    // Marks the acceptor finished however it ends.
    struct AcceptorDone(Arc<Shared>);
    impl Drop for AcceptorDone {
        fn drop(&mut self) {
            lock(&self.0.state).acceptor_running = false;
            self.0.changed.notify_all();
        }
    }
    let _done = AcceptorDone(shared.clone());

    loop {
        let accepted = listener.accept();
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors or an aborted connection: retry shortly.
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
        let _ = stream.set_write_timeout(Some(IO_TIMEOUT));

        let id = {
            let mut state = lock(&shared.state);
            state.accepted += 1;
            let id = state.next_id;
            state.next_id += 1;
            if let Ok(clone) = stream.try_clone() {
                state.open.insert(id, clone);
            }
            state.live += 1;
            id
        };
        shared.changed.notify_all();
        let guard = ConnDone {
            shared: shared.clone(),
            id,
        };
        let handler = handler.clone();
        // On spawn failure the closure, and with it the guard, is dropped: the
        // connection is closed and no longer counted.
        let _ = thread::Builder::new()
            .name(format!("peer-conn-{id}"))
            .spawn(move || {
                let _guard = guard;
                handler(stream);
            });
    }
}

/// Unregisters a connection thread when it ends, even by panic.
struct ConnDone {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for ConnDone {
    fn drop(&mut self) {
        let mut state = lock(&self.shared.state);
        state.open.remove(&self.id);
        state.live -= 1;
        drop(state);
        self.shared.changed.notify_all();
    }
}

/// Locks, ignoring poisoning: a panicked connection thread must not take the
/// whole peer down with it.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---------------------------------------------------------------------------
// Plain TCP behaviours.

fn serve_tcp(mut stream: TcpStream, behavior: &Behavior) {
    // Errors (resets, timeouts) end the connection; there is nobody to tell.
    let _ = match behavior {
        Behavior::Echo => echo_tcp(&mut stream),
        Behavior::Silent => drain(&mut stream),
        Behavior::CloseAfter(bytes) => stream
            .write_all(bytes)
            .and_then(|()| stream.shutdown(Shutdown::Write))
            .and_then(|()| drain(&mut stream)),
    };
}

fn echo_tcp(stream: &mut TcpStream) -> io::Result<()> {
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return stream.shutdown(Shutdown::Write);
        }
        stream.write_all(&buf[..n])?;
    }
}

/// The longest request head [`read_head`] reads.
const MAX_HEAD: usize = 64 * 1024;

/// Reads a request head, a byte at a time, through the blank line and no
/// further: what follows belongs to whoever reads next (a tunnel, a
/// WebSocket, the next request). `None` when the client closed before
/// sending a byte (between two requests on a kept-alive connection); an
/// error when it closed mid-head or the head passed 64 KiB.
pub fn read_head(stream: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut head = Vec::with_capacity(512);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too long",
            ));
        }
        if stream.read(&mut byte)? == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        head.push(byte[0]);
    }
    Ok(Some(head))
}

/// The value of header `name` (case-insensitive), trimmed, in a head read
/// by [`read_head`] (the request line is skipped).
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n")
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim())
}

/// An NTLM Type 2 (challenge) message for a fake server or proxy: target
/// name "DOM" (UTF-16), the server challenge 1..8, no target info — what a
/// client's NTLMv2 answer is built from.
pub fn ntlm_type2_message() -> Vec<u8> {
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&2u32.to_le_bytes());
    m.extend_from_slice(&[6, 0, 6, 0, 48, 0, 0, 0]);
    m.extend_from_slice(&0x0000_0201u32.to_le_bytes());
    m.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    m.extend_from_slice(&[0; 8]);
    m.extend_from_slice(&[0, 0, 0, 0, 54, 0, 0, 0]);
    m.extend_from_slice(&[b'D', 0, b'O', 0, b'M', 0]);
    m
}

/// The server's two legs of an NTLM handshake on one connection, for fakes
/// standing in for a server (`401`, `WWW-Authenticate`, `Authorization`) or
/// a proxy (`407`, `Proxy-Authenticate`, `Proxy-Authorization`): checks the
/// client's Type 1, answers `status` with [`ntlm_type2_message`] in
/// `challenge_header`, then checks the Type 3 names `user` (UTF-16). The
/// stream is left where the final answer goes. Panics (failing the test) on
/// anything else.
pub fn ntlm_server_legs(
    stream: &mut TcpStream,
    status: &str,
    challenge_header: &str,
    answer_header: &str,
    user: &str,
) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let next_token = |stream: &mut TcpStream| {
        let head = read_head(stream).unwrap().unwrap_or_default();
        let head = String::from_utf8_lossy(&head).into_owned();
        let token = header(&head, answer_header).unwrap_or("");
        let message = b64.decode(token.trim_start_matches("NTLM ")).unwrap();
        (head, message)
    };
    let (first, type1) = next_token(stream);
    assert!(type1.starts_with(b"NTLMSSP\0\x01\0\0\0"), "{first}");
    let reply = format!(
        "HTTP/1.1 {status}\r\n{challenge_header}: NTLM {}\r\nContent-Length: 4\r\n\r\nnope",
        b64.encode(ntlm_type2_message())
    );
    stream.write_all(reply.as_bytes()).unwrap();
    let (third, type3) = next_token(stream);
    assert!(type3.starts_with(b"NTLMSSP\0\x03\0\0\0"), "{third}");
    let user: Vec<u8> = user.encode_utf16().flat_map(u16::to_le_bytes).collect();
    assert!(type3.windows(user.len()).any(|w| w == user));
}

/// Reads and discards until EOF, an error or the read timeout. Used to hold a
/// connection open, and after our own shutdown of the write side: closing a
/// socket with unread input sends a reset, which can destroy the bytes we sent.
pub fn drain(stream: &mut impl Read) -> io::Result<()> {
    let mut buf = vec![0u8; BUF_SIZE];
    while stream.read(&mut buf)? != 0 {}
    Ok(())
}

// ---------------------------------------------------------------------------
// TLS behaviours: a manual read_tls/write_tls loop over a blocking socket.

fn serve_tls(
    stream: TcpStream,
    config: &Arc<ServerConfig>,
    behavior: &Behavior,
    close_notify: bool,
    seen: &TlsSeen,
) {
    let mut conn = match ServerConnection::new(config.clone()) {
        Ok(conn) => conn,
        Err(e) => {
            seen.record_error(format!("server connection: {e}"));
            return;
        }
    };
    // rustls reads 4 KiB at a time; the buffer turns that into 64 KiB syscalls.
    let mut sock = BufReader::with_capacity(BUF_SIZE, stream);

    if let Err(e) = handshake(&mut conn, &mut sock) {
        seen.record_error(e);
        return;
    }
    *lock(&seen.last_alpn) = conn.alpn_protocol().map(<[u8]>::to_vec);

    let result = match behavior {
        Behavior::Echo => {
            echo_tls(&mut conn, &mut sock).and_then(|()| close_tls(&mut conn, &sock, close_notify))
        }
        Behavior::Silent => drain(&mut sock).map_err(TlsFailure::from),
        Behavior::CloseAfter(bytes) => send_tls(&mut conn, sock.get_ref(), bytes)
            .and_then(|()| close_tls(&mut conn, &sock, close_notify))
            .and_then(|()| drain(&mut sock).map_err(TlsFailure::from)),
    };
    if let Err(TlsFailure::Tls(e)) = result {
        seen.record_error(e);
    }
}

/// Why a TLS connection ended early: plain I/O trouble (resets, timeouts) is
/// not worth reporting; a TLS protocol error is.
enum TlsFailure {
    Io,
    Tls(String),
}

impl From<io::Error> for TlsFailure {
    fn from(_: io::Error) -> Self {
        TlsFailure::Io
    }
}

fn handshake(conn: &mut ServerConnection, sock: &mut BufReader<TcpStream>) -> Result<(), String> {
    while conn.is_handshaking() {
        flush_tls(conn, sock.get_ref()).map_err(|e| format!("handshake write: {e}"))?;
        if !conn.is_handshaking() {
            break;
        }
        if !conn.wants_read() {
            return Err("handshake stalled: rustls wants neither to read nor to write".into());
        }
        match conn.read_tls(sock) {
            Ok(0) => return Err("handshake: peer closed the connection".into()),
            Ok(_) => {}
            Err(e) => return Err(format!("handshake read: {e}")),
        }
        if let Err(e) = conn.process_new_packets() {
            // Send the alert describing the error, if there is one.
            let _ = flush_tls(conn, sock.get_ref());
            return Err(e.to_string());
        }
    }
    // Session tickets and the like.
    flush_tls(conn, sock.get_ref()).map_err(|e| format!("handshake write: {e}"))
}

/// Echoes plaintext until the client closes (close_notify or TCP EOF). Every
/// chunk read is written back before more is read, so a client that sends and
/// reads concurrently never deadlocks against us.
fn echo_tls(
    conn: &mut ServerConnection,
    sock: &mut BufReader<TcpStream>,
) -> Result<(), TlsFailure> {
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        loop {
            match conn.reader().read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => send_tls(conn, sock.get_ref(), &buf[..n])?,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // TCP EOF without close_notify: the client truncated; end quietly.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(_) => return Err(TlsFailure::Io),
            }
        }
        // Zero: TCP EOF. Everything before it has been processed and echoed.
        if conn.read_tls(sock)? == 0 {
            return Ok(());
        }
        if let Err(e) = conn.process_new_packets() {
            let _ = flush_tls(conn, sock.get_ref());
            return Err(TlsFailure::Tls(e.to_string()));
        }
    }
}

/// Encrypts and writes all of `data`, blocking until it is on the socket.
fn send_tls(
    conn: &mut ServerConnection,
    sock: &TcpStream,
    mut data: &[u8],
) -> Result<(), TlsFailure> {
    while !data.is_empty() {
        let n = conn.writer().write(data)?;
        data = &data[n..];
        flush_tls(conn, sock)?;
        if n == 0 && !conn.wants_write() && !data.is_empty() {
            // rustls accepts no more plaintext.
            return Err(TlsFailure::Io);
        }
    }
    Ok(())
}

/// Ends our side: close_notify unless told not to, then TCP shutdown of the write side.
fn close_tls(
    conn: &mut ServerConnection,
    sock: &BufReader<TcpStream>,
    close_notify: bool,
) -> Result<(), TlsFailure> {
    if close_notify {
        conn.send_close_notify();
    }
    flush_tls(conn, sock.get_ref())?;
    sock.get_ref()
        .shutdown(Shutdown::Write)
        .map_err(TlsFailure::from)
}

/// Writes every TLS byte rustls has queued.
fn flush_tls(conn: &mut ServerConnection, mut sock: &TcpStream) -> io::Result<()> {
    while conn.wants_write() {
        if conn.write_tls(&mut sock)? == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
    }
    Ok(())
}
