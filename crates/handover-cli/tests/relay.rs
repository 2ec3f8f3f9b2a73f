//! `handover relay` as ssh's ProxyCommand (or a person with a pipe) runs
//! it: the built binary with piped stdin/stdout, real peers on loopback.
//! Payloads are 1 MiB + 1 pseudo-random bytes with every byte value in
//! them (0xFF included), compared byte for byte.

mod common;

use std::io::{IoSliceMut, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use handover_test_support::peers::{Behavior, TcpPeer, TestPki, TlsPeer};
use handover_test_support::real_peers::{Dante, Microsocks, Squid, SquidAuth};

const PASSWORD_ENV: &str = "HANDOVER_PROXY_PASSWORD";
const LIMIT: Duration = Duration::from_secs(30);

/// 1 MiB + 1 bytes from a xorshift generator, with a run of 0xFF (telnet's
/// IAC, which curl's telnet:// doubles) placed in it for certain.
fn payload() -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out: Vec<u8> = (0..(1 << 20) + 1)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    out[1000..1016].fill(0xFF);
    out
}

fn spawn(args: &[&str], env: &[(&str, &str)], stdout: Stdio) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_handover"));
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::piped());
    for var in common::PROXY_VARS {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("run handover")
}

/// Waits for the child, killing it past `limit` (a hung relay fails the
/// test instead of hanging it).
fn wait(child: &mut Child, limit: Duration) -> ExitStatus {
    let end = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("handover did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn stderr_of(child: &mut Child) -> String {
    let mut s = String::new();
    child.stderr.take().unwrap().read_to_string(&mut s).unwrap();
    s
}

struct Echoed {
    code: i32,
    out: Vec<u8>,
    stderr: String,
}

/// Writes `input` to the relay's stdin and reads its stdout to the end.
/// With `close_first`, stdin closes right after the last byte, before any
/// echo came back: the half-close case. Otherwise stdin closes only after
/// the whole echo arrived (for proxies that end the whole tunnel at the
/// client's FIN, as microsocks does — the design's §3.9).
fn echo(args: &[&str], env: &[(&str, &str)], input: &[u8], close_first: bool) -> Echoed {
    let mut child = spawn(args, env, Stdio::piped());
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (got_all_tx, got_all_rx) = mpsc::channel::<()>();
    let want = input.len();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut signalled = false;
        loop {
            let n = stdout.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
            if out.len() >= want && !signalled {
                signalled = true;
                let _ = got_all_tx.send(());
            }
        }
        out
    });
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        stdin.write_all(&input).unwrap();
        if !close_first {
            let _ = got_all_rx.recv_timeout(LIMIT);
        }
        drop(stdin);
    });
    let status = wait(&mut child, LIMIT);
    writer.join().unwrap();
    let out = reader.join().unwrap();
    Echoed {
        code: status.code().unwrap_or(-1),
        out,
        stderr: stderr_of(&mut child),
    }
}

fn assert_echoed(r: &Echoed, input: &[u8]) {
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert_eq!(r.out.len(), input.len(), "stderr: {}", r.stderr);
    assert!(r.out == input, "output differs from input");
}

/// Relays the payload to a fresh echo peer (TLS with `tls`) through
/// `proxy` (or directly), stdin closing at once with `close_first`.
fn echo_via(proxy: Option<&str>, tls: bool, close_first: bool) -> (Echoed, Vec<u8>) {
    let pki = TestPki::shared();
    let (_tcp, _tls, target);
    if tls {
        let peer = TlsPeer::start(pki.server_config(), Behavior::Echo);
        target = format!("tls://localhost:{}", peer.port());
        _tls = Some(peer);
    } else {
        let peer = TcpPeer::start(Behavior::Echo);
        target = format!("127.0.0.1:{}", peer.port());
        _tcp = Some(peer);
    }
    let ca = pki.write_temp("relay-ca.pem", &pki.ca_pem);
    let mut args = vec!["relay", &target, "--cacert", ca.to_str().unwrap()];
    if let Some(proxy) = proxy {
        args.extend(["-x", proxy]);
    }
    let input = payload();
    (echo(&args, &[], &input, close_first), input)
}

/// A peer that sends a few bytes (0xFF among them) and closes first:
/// they are printed whole and the relay ends without waiting for stdin,
/// which stays open.
fn assert_peer_eof_first_ends_the_relay(proxy: Option<&str>) {
    let peer = TcpPeer::start(Behavior::CloseAfter(b"bye\xff\n".to_vec()));
    let target = format!("127.0.0.1:{}", peer.port());
    let mut args = vec!["relay", &target];
    if let Some(proxy) = proxy {
        args.extend(["-x", proxy]);
    }
    let mut child = spawn(&args, &[], Stdio::piped());
    let _stdin = child.stdin.take().unwrap();
    let started = Instant::now();
    let status = wait(&mut child, Duration::from_secs(10));
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "{proxy:?}: {}",
        stderr_of(&mut child)
    );
    assert_eq!(out, b"bye\xff\n", "{proxy:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "{proxy:?}");
}

#[test]
fn direct_tcp_is_byte_exact_and_keeps_reading_after_stdin_eof() {
    let (r, input) = echo_via(None, false, true);
    assert_echoed(&r, &input);
    assert!(r.stderr.is_empty(), "a clean relay is silent: {}", r.stderr);
}

#[test]
fn direct_tls_is_byte_exact_and_half_closes_with_close_notify() {
    let (r, input) = echo_via(None, true, true);
    assert_echoed(&r, &input);
}

// squid and microsocks end the whole tunnel at the client's FIN (what is
// still on its way back is lost), so through them stdin closes after the
// echo arrived; the half-close is covered directly and through dante.

#[test]
fn through_squid_byte_exact() {
    let squid = Squid::shared(SquidAuth::None);
    let proxy = format!("http://127.0.0.1:{}", squid.port());
    let (r, input) = echo_via(Some(&proxy), false, false);
    assert_echoed(&r, &input);
}

#[test]
fn tls_through_squid_byte_exact() {
    let squid = Squid::shared(SquidAuth::None);
    let proxy = format!("http://127.0.0.1:{}", squid.port());
    let (r, input) = echo_via(Some(&proxy), true, false);
    assert_echoed(&r, &input);
}

#[test]
fn through_microsocks_byte_exact() {
    let socks = Microsocks::shared(None);
    let proxy = format!("socks5h://127.0.0.1:{}", socks.port());
    let (r, input) = echo_via(Some(&proxy), false, false);
    assert_echoed(&r, &input);
}

// The half-close matrix through a proxy that forwards a half-close (dante
// relays each direction on its own): stdin's EOF becomes the proxy's FIN to
// the echo peer, whose whole echo still comes back.

#[test]
fn half_close_through_dante_socks5_client_eof_first_plain() {
    let proxy = format!("socks5://127.0.0.1:{}", Dante::shared().port());
    let (r, input) = echo_via(Some(&proxy), false, true);
    assert_echoed(&r, &input);
}

#[test]
fn half_close_through_dante_socks5_client_eof_first_tls() {
    let proxy = format!("socks5h://127.0.0.1:{}", Dante::shared().port());
    let (r, input) = echo_via(Some(&proxy), true, true);
    assert_echoed(&r, &input);
}

/// Client EOF first through proxies that end the whole tunnel at the
/// client's FIN (squid, microsocks): the reply may be lost — the proxy's
/// doing — but the relay must still end promptly and cleanly.
#[test]
fn client_eof_first_through_squid_and_microsocks_ends_cleanly() {
    for proxy in [
        format!("http://127.0.0.1:{}", Squid::shared(SquidAuth::None).port()),
        format!("socks5h://127.0.0.1:{}", Microsocks::shared(None).port()),
    ] {
        let (r, input) = echo_via(Some(&proxy), false, true);
        assert_eq!(r.code, 0, "{proxy}: {}", r.stderr);
        assert!(r.out.len() <= input.len(), "{proxy}");
        assert!(
            r.out[..] == input[..r.out.len()],
            "{proxy}: what came is exact"
        );
    }
}

#[test]
fn peer_eof_first_prints_the_bytes_and_exits_without_waiting_for_stdin() {
    assert_peer_eof_first_ends_the_relay(None);
}

#[test]
fn peer_eof_first_through_squid_microsocks_and_dante() {
    for proxy in [
        format!("http://127.0.0.1:{}", Squid::shared(SquidAuth::None).port()),
        format!("socks5h://127.0.0.1:{}", Microsocks::shared(None).port()),
        format!("socks5://127.0.0.1:{}", Dante::shared().port()),
    ] {
        assert_peer_eof_first_ends_the_relay(Some(&proxy));
    }
}

#[test]
fn a_wrong_proxy_password_is_7_naming_the_hop_with_nothing_on_stdout() {
    let squid = Squid::shared(SquidAuth::Basic {
        user: "alice".into(),
        password: "relay-s3cret".into(),
    });
    let peer = TcpPeer::start(Behavior::Echo);
    let proxy = format!("http://127.0.0.1:{}", squid.port());
    let target = format!("127.0.0.1:{}", peer.port());
    let r = echo(
        &["relay", &target, "-x", &proxy, "-U", "alice", "-q"],
        &[(PASSWORD_ENV, "wrong-one")],
        b"",
        true,
    );
    assert_eq!(r.code, 7, "{}", r.stderr);
    assert!(r.out.is_empty());
    let line = r.stderr.lines().next().expect("an error line");
    assert!(line.starts_with("handover: hop 1"), "{line}");
    assert!(line.contains(&proxy), "{line}");
    assert_eq!(r.stderr.lines().count(), 1, "one line: {}", r.stderr);
    assert!(!r.stderr.contains("wrong-one"));
}

#[test]
fn fdpass_is_refused_for_a_tls_chain() {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let mut child = spawn(
        &["relay", "--fdpass", "tls://localhost:1"],
        &[],
        Stdio::from(OwnedFd::from(theirs)),
    );
    let status = wait(&mut child, LIMIT);
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--fdpass") && stderr.contains("TLS"),
        "{stderr}"
    );
    drop(ours);
}

/// Receives one descriptor as OpenSSH's mm_receive_fd does: one byte of
/// payload, SCM_RIGHTS beside it.
fn receive_fd(over: &UnixStream) -> OwnedFd {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut byte = [0u8; 1];
    let mut iov = [IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        over.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .expect("recvmsg");
    assert_eq!(msg.bytes, 1);
    for cmsg in msg.cmsgs().expect("control messages") {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            assert_eq!(fds.len(), 1);
            // SAFETY: the kernel just installed this descriptor in our
            // table for us; nothing else owns it.
            return unsafe { OwnedFd::from_raw_fd(fds[0]) };
        }
    }
    panic!("no descriptor received");
}

#[test]
fn fdpass_hands_over_a_connected_socket() {
    let peer = TcpPeer::start(Behavior::Echo);
    let target = format!("127.0.0.1:{}", peer.port());
    let (ours, theirs) = UnixStream::pair().unwrap();
    let mut child = spawn(
        &["relay", "--fdpass", &target],
        &[],
        Stdio::from(OwnedFd::from(theirs)),
    );
    let fd = receive_fd(&ours);
    let status = wait(&mut child, LIMIT);
    assert_eq!(status.code(), Some(0), "{}", stderr_of(&mut child));
    let mut sock = std::net::TcpStream::from(fd);
    sock.set_read_timeout(Some(LIMIT)).unwrap();
    sock.write_all(b"through the passed socket\xff").unwrap();
    sock.shutdown(std::net::Shutdown::Write).unwrap();
    let mut back = Vec::new();
    sock.read_to_end(&mut back).unwrap();
    assert_eq!(back, b"through the passed socket\xff");
}

#[test]
fn listen_once_relays_one_client_and_exits() {
    let peer = TcpPeer::start(Behavior::Echo);
    let target = format!("127.0.0.1:{}", peer.port());
    let mut child = spawn(
        &["relay", "--listen", "127.0.0.1:0", "--once", &target],
        &[],
        Stdio::null(),
    );
    let mut stderr = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\n") {
        assert_eq!(stderr.read(&mut byte).unwrap(), 1, "stderr ended early");
        seen.push(byte[0]);
    }
    let line = String::from_utf8(seen).unwrap();
    let addr = line
        .trim()
        .strip_prefix("handover: listening on ")
        .unwrap_or_else(|| panic!("{line}"));
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(LIMIT)).unwrap();
    let input = payload();
    let writer = {
        let mut client = client.try_clone().unwrap();
        let input = input.clone();
        std::thread::spawn(move || {
            client.write_all(&input).unwrap();
            client.shutdown(std::net::Shutdown::Write).unwrap();
        })
    };
    let mut back = Vec::new();
    client.read_to_end(&mut back).unwrap();
    writer.join().unwrap();
    assert!(back == input, "got {} bytes of {}", back.len(), input.len());
    let status = wait(&mut child, LIMIT);
    assert_eq!(status.code(), Some(0));
}

#[test]
fn sigterm_while_relaying_exits_0() {
    let peer = TcpPeer::start(Behavior::Echo);
    let target = format!("127.0.0.1:{}", peer.port());
    let mut child = spawn(&["relay", &target], &[], Stdio::piped());
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // A round trip first: the relay is up, past the setup.
    stdin.write_all(b"ping").unwrap();
    let mut back = [0u8; 4];
    stdout.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"ping");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = wait(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", stderr_of(&mut child));
    drop(stdin);
}

/// A throwaway sshd on a loopback port: its own host key, one user key
/// authorised for the user running the tests, no PAM, no passwords.
struct Sshd {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
    user: String,
}

impl Sshd {
    fn start() -> Sshd {
        let sshd = "/usr/sbin/sshd";
        assert!(
            std::path::Path::new(sshd).exists(),
            "sshd missing: run scripts/install-peers (openssh-server)"
        );
        // One directory per server: the tests of this file run in parallel.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("handover-relay-sshd-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for key in ["host", "user"] {
            let ok = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(dir.join(key))
                .status()
                .unwrap()
                .success();
            assert!(ok, "ssh-keygen");
        }
        std::fs::copy(dir.join("user.pub"), dir.join("authorized_keys")).unwrap();
        // sshd refuses to start without its privilege separation directory,
        // which only Debian's service unit would create.
        let _ = std::fs::create_dir_all("/run/sshd");
        let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_owned();
        let port = common::closed_port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host\n\
             AuthorizedKeysFile {d}/authorized_keys\nPidFile none\nUsePAM no\n\
             StrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nAllowUsers {user}\n",
            d = dir.display()
        );
        std::fs::write(dir.join("sshd_config"), config).unwrap();
        let child = Command::new(sshd)
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(dir.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("sshd.log")).unwrap())
            .spawn()
            .unwrap();
        let end = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < end,
                "sshd did not listen: {}",
                Sshd::log_of(&dir)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Sshd {
            child,
            port,
            dir,
            user,
        }
    }

    fn log_of(dir: &std::path::Path) -> String {
        std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default()
    }

    /// Runs `ssh … cat` with these extra options, `input` on its stdin;
    /// the output and ssh's stderr.
    fn cat(&self, options: &[String], env: &[(&str, &str)], input: &[u8]) -> Echoed {
        let mut cmd = Command::new("ssh");
        cmd.args(["-F", "/dev/null", "-o", "BatchMode=yes"])
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
            ])
            .args(["-o", "LogLevel=ERROR", "-i"])
            .arg(self.dir.join("user"))
            .args(["-p", &self.port.to_string()])
            .args(options)
            .arg(format!("{}@127.0.0.1", self.user))
            .arg("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.env_remove(PASSWORD_ENV);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let mut out = Vec::new();
        child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
        let status = wait(&mut child, LIMIT);
        writer.join().unwrap();
        Echoed {
            code: status.code().unwrap_or(-1),
            out,
            stderr: stderr_of(&mut child) + &Sshd::log_of(&self.dir),
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// ssh to the loopback sshd with `handover relay -q FIRST_HOPS -x squid
/// --proxy-digest -U alice` as its ProxyCommand: the session's bytes come
/// back whole, and squid logged the tunnel to sshd as alice's.
fn ssh_through_squid_digest(first_hops: &str) {
    let squid = Squid::shared(SquidAuth::Digest {
        user: "alice".into(),
        password: "relay-digest-s3cret".into(),
        realm: "handover".into(),
    });
    let sshd = Sshd::start();
    let command = format!(
        "ProxyCommand={} relay -q {first_hops} -x http://127.0.0.1:{} --proxy-digest -U alice %h:%p",
        env!("CARGO_BIN_EXE_handover"),
        squid.port()
    );
    let input = payload();
    let r = sshd.cat(
        &["-o".into(), command],
        &[(PASSWORD_ENV, "relay-digest-s3cret")],
        &input,
    );
    assert_echoed(&r, &input);
    let wanted = format!("127.0.0.1:{}", sshd.port);
    let log = squid.wait_log(&wanted, Duration::from_secs(10));
    assert!(
        log.lines()
            .any(|l| l.contains(&wanted) && l.contains("alice")),
        "{log}"
    );
}

#[test]
fn ssh_proxycommand_through_squid_with_digest() {
    ssh_through_squid_digest("");
}

#[test]
fn ssh_proxycommand_through_a_two_hop_chain_dante_then_squid_digest() {
    ssh_through_squid_digest(&format!(
        "-x socks5h://127.0.0.1:{}",
        Dante::shared().port()
    ));
}

#[test]
fn ssh_proxy_use_fdpass() {
    let sshd = Sshd::start();
    let command = format!(
        "ProxyCommand={} relay --fdpass %h %p",
        env!("CARGO_BIN_EXE_handover")
    );
    let input = payload();
    let r = sshd.cat(
        &[
            "-o".into(),
            command,
            "-o".into(),
            "ProxyUseFdpass=yes".into(),
        ],
        &[],
        &input,
    );
    assert_echoed(&r, &input);
}

#[test]
fn ssh_sees_the_hop_named_when_the_proxy_refuses() {
    // A squid of its own: squid caches the credentials a user proved, so a
    // shared one that saw alice's right password may let a wrong one pass.
    let squid = Squid::start(SquidAuth::Digest {
        user: "alice".into(),
        password: "relay-digest-s3cret".into(),
        realm: "handover".into(),
    });
    let sshd = Sshd::start();
    let command = format!(
        "ProxyCommand={} relay -q -x http://127.0.0.1:{} --proxy-digest -U alice %h:%p",
        env!("CARGO_BIN_EXE_handover"),
        squid.port()
    );
    let r = sshd.cat(&["-o".into(), command], &[(PASSWORD_ENV, "nope")], b"");
    assert_eq!(r.code, 255, "{}", r.stderr);
    let first = r.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("handover: hop 1 http-proxy"),
        "our line comes before ssh's: {}",
        r.stderr
    );
}

#[test]
fn a_tls_peer_closing_without_close_notify_warns_or_with_strict_eof_is_56() {
    let pki = TestPki::shared();
    let ca = pki.write_temp("relay-trunc-ca.pem", &pki.ca_pem);
    for strict in [false, true] {
        let peer = TlsPeer::without_close_notify(
            pki.server_config(),
            Behavior::CloseAfter(b"partial\xff".to_vec()),
        );
        let target = format!("tls://localhost:{}", peer.port());
        let mut args = vec!["relay", &target, "--cacert", ca.to_str().unwrap()];
        if strict {
            args.push("--tls-strict-eof");
        }
        let mut child = spawn(&args, &[], Stdio::piped());
        let _stdin = child.stdin.take().unwrap();
        let status = wait(&mut child, Duration::from_secs(10));
        let mut out = Vec::new();
        child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
        let stderr = stderr_of(&mut child);
        assert_eq!(
            out, b"partial\xff",
            "what came is printed (strict: {strict})"
        );
        assert!(stderr.contains("close_notify"), "{stderr}");
        assert_eq!(status.code(), Some(if strict { 56 } else { 0 }), "{stderr}");
    }
}

#[test]
fn idle_timeout_ends_a_silent_session_with_0() {
    let peer = TcpPeer::start(Behavior::Silent);
    let target = format!("127.0.0.1:{}", peer.port());
    let mut child = spawn(
        &["relay", &target, "--idle-timeout", "0.3"],
        &[],
        Stdio::piped(),
    );
    // stdin stays open: only the idle limit can end it.
    let _stdin = child.stdin.take().unwrap();
    let status = wait(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", stderr_of(&mut child));
}

#[test]
fn stats_reports_the_bytes_each_way_on_stderr() {
    let peer = TcpPeer::start(Behavior::Echo);
    let target = format!("127.0.0.1:{}", peer.port());
    let input = b"twenty-three bytes here".to_vec();
    let r = echo(&["relay", &target, "--stats"], &[], &input, false);
    assert_eq!(r.out, input);
    assert!(
        r.stderr.contains("sent 23 bytes, received 23 bytes"),
        "{}",
        r.stderr
    );
}
