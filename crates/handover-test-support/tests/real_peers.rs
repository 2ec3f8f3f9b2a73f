//! Self-test of the real proxy programs of `real_peers`: each is driven
//! here with std sockets and a plain rustls client only (no handover API),
//! so a failure here is the peer's (or its package's) fault, not
//! handover's. Every test starts its own peers (they run in parallel),
//! except those of the shared instances, which test the sharing.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use base64::Engine as _;
use handover_test_support::peers::{hexdump, TestPki};
use handover_test_support::real_peers::{
    descendants, process_group_alive, process_running, Dante, Microsocks, Squid, SquidAuth, Stunnel,
};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// An echo server on 127.0.0.1:0, one thread per connection. It lives until
/// the test process ends: its acceptor blocks in `accept` forever.
fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the echo server");
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || {
                let mut reader = &stream;
                let mut writer = &stream;
                let _ = io::copy(&mut reader, &mut writer);
            });
        }
    });
    addr
}

fn connect(addr: SocketAddr) -> TcpStream {
    let sock = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    sock.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    sock.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    sock
}

/// Sends `what` through an established tunnel and expects it back unchanged.
fn assert_echo(tunnel: &mut impl ReadWrite, what: &str) {
    let sent: Vec<u8> = (0..3000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    tunnel.write_all(&sent).unwrap();
    tunnel.flush().unwrap();
    let mut got = vec![0u8; sent.len()];
    if let Err(e) = tunnel.read_exact(&mut got) {
        panic!("{what}: echo read failed: {e}");
    }
    assert!(
        got == sent,
        "{what}: echo differs; got:\n{}",
        hexdump(&got[..64])
    );
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// A proxy's answer to CONNECT: the status code and the head as text.
struct Reply {
    code: u16,
    head: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Writes `CONNECT target` with `extra` header lines and reads the reply head
/// byte by byte, so that nothing past it (tunnel bytes) is consumed.
fn send_connect(stream: &mut impl ReadWrite, target: SocketAddr, extra: &str) -> Reply {
    let request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{extra}\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.flush().unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            Ok(_) => panic!("proxy closed mid-reply; got:\n{}", hexdump(&head)),
            Err(e) => panic!("reading the reply: {e}; got:\n{}", hexdump(&head)),
        }
        assert!(head.len() < 64 * 1024, "reply head too long");
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let code = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line; got:\n{}", hexdump(&head)));
    Reply { code, head: text }
}

fn connect_through_squid(squid: &Squid, target: SocketAddr, extra: &str) -> (TcpStream, Reply) {
    let mut sock = connect(squid.addr());
    let reply = send_connect(&mut sock, target, extra);
    (sock, reply)
}

fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Proxy-Authorization: Basic {token}\r\n")
}

#[test]
fn squid_without_auth_tunnels_connect_to_the_target() {
    let echo = echo_server();
    let squid = Squid::start(SquidAuth::None);
    let (mut tunnel, reply) = connect_through_squid(&squid, echo, "");
    assert_eq!(reply.code, 200, "{}\n{}", reply.head, squid.log());
    assert_echo(&mut tunnel, "squid tunnel");
    assert_eq!(squid.addr().port(), squid.port());
}

#[test]
fn squid_basic_demands_credentials_and_tunnels_with_the_right_ones() {
    let echo = echo_server();
    let squid = Squid::start(SquidAuth::Basic {
        user: "alice".into(),
        password: "s3cret:pw".into(),
    });

    let (_, reply) = connect_through_squid(&squid, echo, "");
    assert_eq!(reply.code, 407, "{}", reply.head);
    let offered = reply.header("Proxy-Authenticate").unwrap_or_default();
    assert!(offered.starts_with("Basic "), "{}", reply.head);

    let (_, reply) = connect_through_squid(&squid, echo, &basic("alice", "wrong"));
    assert_eq!(reply.code, 407, "wrong password: {}", reply.head);

    let (mut tunnel, reply) = connect_through_squid(&squid, echo, &basic("alice", "s3cret:pw"));
    assert_eq!(reply.code, 200, "{}\n{}", reply.head, squid.log());
    assert_echo(&mut tunnel, "squid basic tunnel");
}

#[test]
fn squid_digest_challenges_with_a_nonce_and_accepts_a_computed_response() {
    let echo = echo_server();
    let (user, password, realm) = ("bob", "digest-pw", "handover digest");
    let squid = Squid::start(SquidAuth::Digest {
        user: user.into(),
        password: password.into(),
        realm: realm.into(),
    });

    let (_, reply) = connect_through_squid(&squid, echo, "");
    assert_eq!(reply.code, 407, "{}", reply.head);
    let challenge = reply.header("Proxy-Authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Digest "), "{}", reply.head);
    assert_eq!(param(challenge, "realm"), Some(realm), "{challenge}");
    let nonce = param(challenge, "nonce").unwrap_or_else(|| panic!("no nonce: {challenge}"));
    assert!(param(challenge, "qop").is_some_and(|q| q.split(',').any(|q| q.trim() == "auth")));

    let answer = |password: &str| {
        // RFC 2617 3.2.2 with qop=auth; the digest-uri of CONNECT is the authority.
        let uri = echo.to_string();
        let (cnonce, nc) = ("0a4f113b", "00000001");
        let ha1 = md5_hex(format!("{user}:{realm}:{password}").as_bytes());
        let ha2 = md5_hex(format!("CONNECT:{uri}").as_bytes());
        let response = md5_hex(format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}").as_bytes());
        format!(
            "Proxy-Authorization: Digest username=\"{user}\", realm=\"{realm}\", \
             nonce=\"{nonce}\", uri=\"{uri}\", cnonce=\"{cnonce}\", nc={nc}, qop=auth, \
             response=\"{response}\"\r\n"
        )
    };

    let (_, reply) = connect_through_squid(&squid, echo, &answer("not-it"));
    assert_eq!(reply.code, 407, "wrong password: {}", reply.head);

    let (mut tunnel, reply) = connect_through_squid(&squid, echo, &answer(password));
    assert_eq!(reply.code, 200, "{}\n{}", reply.head, squid.log());
    assert_echo(&mut tunnel, "squid digest tunnel");
}

#[test]
fn stunnel_in_front_of_squid_is_an_https_proxy() {
    let echo = echo_server();
    let pki = TestPki::new();
    let squid = Squid::start(SquidAuth::None);
    let stunnel = Stunnel::start(squid.addr(), &pki.server_chain_pem, &pki.server_key_pem);
    assert_eq!(stunnel.addr().port(), stunnel.port());

    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from(pki.ca_der.clone())).unwrap();
    let config =
        ClientConfig::builder_with_provider(rustls::crypto::ring::default_provider().into())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tls = StreamOwned::new(conn, connect(stunnel.addr()));

    let reply = send_connect(&mut tls, echo, "");
    assert_eq!(
        reply.code,
        200,
        "{}\n{}\n{}",
        reply.head,
        stunnel.log(),
        squid.log()
    );
    assert!(tls.conn.protocol_version().is_some());
    assert_echo(&mut tls, "tunnel inside TLS to stunnel");
}

/// SOCKS5 CONNECT request for an IPv4 target (RFC 1928 section 4).
fn socks5_connect_request(target: SocketAddr) -> Vec<u8> {
    let SocketAddr::V4(v4) = target else {
        panic!("IPv4 targets only")
    };
    let mut req = vec![5, 1, 0, 1];
    req.extend_from_slice(&v4.ip().octets());
    req.extend_from_slice(&v4.port().to_be_bytes());
    req
}

fn read_exactly(sock: &mut TcpStream, n: usize, what: &str) -> Vec<u8> {
    let mut got = vec![0u8; n];
    if let Err(e) = sock.read_exact(&mut got) {
        panic!("{what}: {e}");
    }
    got
}

/// Reads a SOCKS5 reply with an IPv4 bound address and expects success.
fn expect_socks5_success(sock: &mut TcpStream, what: &str) {
    let reply = read_exactly(sock, 10, what);
    assert_eq!(
        &reply[..4],
        [5, 0, 0, 1],
        "{what}: reply:\n{}",
        hexdump(&reply)
    );
}

/// Greets with methods 00 and 02; authenticates (RFC 1929) when 02 is chosen.
fn socks5_handshake(sock: &mut TcpStream, user: &str, password: &str) -> u8 {
    sock.write_all(&[5, 2, 0, 2]).unwrap();
    let chosen = read_exactly(sock, 2, "method selection");
    assert_eq!(chosen[0], 5, "method selection:\n{}", hexdump(&chosen));
    if chosen[1] == 2 {
        let mut auth = vec![1, user.len() as u8];
        auth.extend_from_slice(user.as_bytes());
        auth.push(password.len() as u8);
        auth.extend_from_slice(password.as_bytes());
        sock.write_all(&auth).unwrap();
        let status = read_exactly(sock, 2, "auth status");
        assert_eq!(status[0], 1, "auth status:\n{}", hexdump(&status));
        return status[1];
    }
    chosen[1]
}

#[test]
fn microsocks_with_credentials_tunnels_after_username_password_auth() {
    let echo = echo_server();
    let socks = Microsocks::start(Some(("carol", "pa55")));
    assert_eq!(socks.addr().port(), socks.port());

    let mut sock = connect(socks.addr());
    sock.write_all(&[5, 2, 0, 2]).unwrap();
    let chosen = read_exactly(&mut sock, 2, "method selection");
    assert_eq!(chosen, [5, 2], "method selection:\n{}", hexdump(&chosen));
    sock.write_all(b"\x01\x05carol\x04pa55").unwrap();
    let status = read_exactly(&mut sock, 2, "auth status");
    assert_eq!(status, [1, 0], "auth status:\n{}", hexdump(&status));
    sock.write_all(&socks5_connect_request(echo)).unwrap();
    expect_socks5_success(&mut sock, "microsocks connect");
    assert_echo(&mut sock, "microsocks tunnel");
}

#[test]
fn microsocks_rejects_a_wrong_password_and_a_client_without_auth() {
    let socks = Microsocks::start(Some(("carol", "pa55")));

    let mut sock = connect(socks.addr());
    let status = socks5_handshake(&mut sock, "carol", "wrong");
    assert_ne!(status, 0, "a wrong password was accepted\n{}", socks.log());

    let mut sock = connect(socks.addr());
    sock.write_all(&[5, 1, 0]).unwrap();
    let chosen = read_exactly(&mut sock, 2, "method selection");
    assert_eq!(chosen, [5, 0xff], "no-auth offer:\n{}", hexdump(&chosen));
}

#[test]
fn microsocks_without_credentials_tunnels_without_auth() {
    let echo = echo_server();
    let socks = Microsocks::start(None);
    let mut sock = connect(socks.addr());
    sock.write_all(&[5, 1, 0]).unwrap();
    let chosen = read_exactly(&mut sock, 2, "method selection");
    assert_eq!(chosen, [5, 0], "method selection:\n{}", hexdump(&chosen));
    sock.write_all(&socks5_connect_request(echo)).unwrap();
    expect_socks5_success(&mut sock, "microsocks connect");
    assert_echo(&mut sock, "microsocks tunnel");
}

#[test]
fn dante_tunnels_socks4_connect() {
    let echo = echo_server();
    let dante = Dante::start();
    assert_eq!(dante.addr().port(), dante.port());
    let SocketAddr::V4(v4) = echo else {
        unreachable!()
    };
    let mut sock = connect(dante.addr());
    let mut req = vec![4, 1];
    req.extend_from_slice(&v4.port().to_be_bytes());
    req.extend_from_slice(&v4.ip().octets());
    req.extend_from_slice(b"handover\0");
    sock.write_all(&req).unwrap();
    let reply = read_exactly(&mut sock, 8, "SOCKS4 reply");
    assert_eq!(
        &reply[..2],
        [0, 0x5a],
        "reply:\n{}\n{}",
        hexdump(&reply),
        dante.log()
    );
    assert_echo(&mut sock, "dante SOCKS4 tunnel");
}

#[test]
fn dante_tunnels_socks5_connect_without_auth() {
    let echo = echo_server();
    let dante = Dante::start();
    let mut sock = connect(dante.addr());
    sock.write_all(&[5, 1, 0]).unwrap();
    let chosen = read_exactly(&mut sock, 2, "method selection");
    assert_eq!(chosen, [5, 0], "method selection:\n{}", hexdump(&chosen));
    sock.write_all(&socks5_connect_request(echo)).unwrap();
    expect_socks5_success(&mut sock, "dante SOCKS5 connect");
    assert_echo(&mut sock, "dante SOCKS5 tunnel");
}

#[test]
fn dropping_a_peer_stops_its_whole_process_group() {
    let echo = echo_server();
    let squid = Squid::start(SquidAuth::Basic {
        user: "u".into(),
        password: "p".into(),
    });
    // A successful login starts a basic_ncsa_auth helper (in a session of its own).
    let (_, reply) = connect_through_squid(&squid, echo, &basic("u", "p"));
    assert_eq!(reply.code, 200, "{}", reply.head);
    let dante = Dante::start();
    let socks = Microsocks::start(None);
    let pki = TestPki::new();
    let stunnel = Stunnel::start(squid.addr(), &pki.server_chain_pem, &pki.server_key_pem);
    let helpers = descendants(squid.pid());
    assert!(!helpers.is_empty(), "squid started no auth helper");

    let (pid, addr) = (squid.pid(), squid.addr());
    assert_drop_stops_everything("squid", squid, pid, addr);
    let (pid, addr) = (dante.pid(), dante.addr());
    assert_drop_stops_everything("danted", dante, pid, addr);
    let (pid, addr) = (socks.pid(), socks.addr());
    assert_drop_stops_everything("microsocks", socks, pid, addr);
    let (pid, addr) = (stunnel.pid(), stunnel.addr());
    assert_drop_stops_everything("stunnel", stunnel, pid, addr);
    let left: Vec<u32> = helpers
        .into_iter()
        .filter(|p| process_running(*p))
        .collect();
    assert!(left.is_empty(), "squid's helpers {left:?} outlived drop");
}

#[test]
fn shared_gives_one_instance_per_configuration_to_racing_callers() {
    let echo = echo_server();
    let pids: Vec<u32> = (0..4)
        .map(|_| thread::spawn(|| Dante::shared().pid()))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert!(pids.iter().all(|p| *p == pids[0]), "{pids:?}");

    let none = Squid::shared(SquidAuth::None);
    assert!(std::ptr::eq(none, Squid::shared(SquidAuth::None)));
    let auth = SquidAuth::Basic {
        user: "shared".into(),
        password: "pw".into(),
    };
    let basic = Squid::shared(auth.clone());
    assert!(std::ptr::eq(basic, Squid::shared(auth)));
    assert_ne!(none.port(), basic.port(), "one instance per configuration");
    let (mut tunnel, reply) = connect_through_squid(none, echo, "");
    assert_eq!(reply.code, 200, "{}\n{}", reply.head, none.log());
    assert_echo(&mut tunnel, "shared squid tunnel");
    let (_, reply) = connect_through_squid(basic, echo, "");
    assert_eq!(reply.code, 407, "{}", reply.head);
}

/// Run by `shared_peers_stop_when_their_test_process_ends`, in a test
/// process of its own: starts shared peers, prints what to look for, ends.
#[test]
#[ignore = "a child process of shared_peers_stop_when_their_test_process_ends"]
fn shared_peers_child() {
    let echo = echo_server();
    let squid = Squid::shared(SquidAuth::Basic {
        user: "u".into(),
        password: "p".into(),
    });
    // A login starts an auth helper, in a session of its own.
    let (_, reply) = connect_through_squid(squid, echo, &basic("u", "p"));
    assert_eq!(reply.code, 200, "{}", reply.head);
    let socks = Microsocks::shared(None);
    let ca = TestPki::shared().write_temp("ca.pem", &TestPki::shared().ca_pem);
    let mut family = descendants(squid.pid());
    family.push(squid.pid());
    println!(
        "shared: groups {} {} processes {} dir {}",
        squid.pid(),
        socks.pid(),
        family
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(","),
        ca.parent().unwrap().display()
    );
}

#[test]
fn shared_peers_stop_when_their_test_process_ends() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "shared_peers_child", "--ignored", "--nocapture"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("shared: "))
        .unwrap_or_else(|| {
            panic!(
                "the child printed nothing to look for ({}):\n{stdout}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let words: Vec<&str> = line.split(' ').collect();
    let groups: Vec<u32> = [words[1], words[2]].map(|w| w.parse().unwrap()).into();
    let processes: Vec<u32> = words[4].split(',').map(|w| w.parse().unwrap()).collect();
    let dir = std::path::PathBuf::from(words[6]);
    assert!(processes.len() > 1, "squid started no auth helper: {line}");
    assert!(dir.exists(), "{}", dir.display());

    // The child has exited: its watcher stops the groups (0.3 s after TERM
    // at the latest), squid's helpers end with squid, the dir goes.
    let gone = || {
        !groups.iter().any(|g| process_group_alive(*g))
            && !processes.iter().any(|p| process_running(*p))
            && !dir.exists()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !gone() && std::time::Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert!(
        gone(),
        "left behind: groups {:?}, processes {:?}, dir {} exists: {}",
        groups
            .iter()
            .filter(|g| process_group_alive(**g))
            .collect::<Vec<_>>(),
        processes
            .iter()
            .filter(|p| process_running(**p))
            .collect::<Vec<_>>(),
        dir.display(),
        dir.exists()
    );
}

/// Drops `peer` (started as process `pid`, listening on `addr`) and checks
/// that its process group, its descendants and its port are gone.
fn assert_drop_stops_everything<P>(name: &str, peer: P, pid: u32, addr: SocketAddr) {
    assert!(process_group_alive(pid), "{name}: group {pid} not running");
    let family = descendants(pid);
    drop(peer);
    assert!(
        !process_group_alive(pid),
        "{name}: group {pid} outlived drop"
    );
    let left: Vec<u32> = family.into_iter().filter(|p| process_running(*p)).collect();
    assert!(left.is_empty(), "{name}: children {left:?} outlived drop");
    assert!(
        TcpStream::connect(addr).is_err(),
        "{name}: {addr} still accepts"
    );
}

/// Value of `name` in a challenge's comma-separated `k=v` / `k="v"` list.
fn param<'a>(challenge: &'a str, name: &str) -> Option<&'a str> {
    let list = challenge
        .split_once(' ')
        .map_or(challenge, |(_, rest)| rest);
    let mut rest = list;
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let key = key.trim().trim_start_matches(',').trim();
        let after = after.trim_start();
        let (value, tail) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => after.split_once(',').unwrap_or((after, "")),
        };
        if key.eq_ignore_ascii_case(name) {
            return Some(value.trim());
        }
        rest = tail.trim_start_matches([',', ' ']);
    }
    None
}

/// MD5 (RFC 1321) as lowercase hex: Digest auth needs it and the tests have
/// no MD5 crate.
fn md5_hex(data: &[u8]) -> String {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_le_bytes());
    let mut h: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    for block in msg.chunks(64) {
        let m: Vec<u32> = block
            .chunks(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = h;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let rotated = a
                .wrapping_add(f)
                .wrapping_add(k[i])
                .wrapping_add(m[g])
                .rotate_left(S[i]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(rotated);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter()
        .flat_map(|x| x.to_le_bytes())
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[test]
fn md5_matches_rfc_1321_test_vectors() {
    assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
    assert_eq!(
        md5_hex(
            b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
        ),
        "57edf4a22be3c955ac49da2e2107b67a"
    );
}
