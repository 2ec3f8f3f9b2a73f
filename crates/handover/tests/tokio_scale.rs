//! Scale of the async face: 10,000 concurrent connect-only futures on one
//! current-thread runtime, each then a 4-byte echo, against an echo server
//! on loopback. The time is printed, never asserted (the benchmarks
//! compare it with the sync Multi: `handover-bench async multi`).
#![allow(unsafe_code)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use handover::{ConnectOnly, Easy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CONNECTIONS: usize = 10_000;

/// Raises the descriptor limit to at least `wanted` (root may raise the
/// hard limit too), else to the hard limit; returns the limit now.
fn raise_nofile(wanted: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given, which lives here.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 0;
    }
    for max in [limit.rlim_max.max(wanted), limit.rlim_max] {
        let raised = libc::rlimit {
            rlim_cur: max,
            rlim_max: max,
        };
        // SAFETY: setrlimit reads the struct it is given.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return max;
        }
    }
    limit.rlim_cur
}

/// Set in the child process that serves the echoes.
const CHILD: &str = "HANDOVER_TOKIO_SCALE_ECHO_CHILD";

/// The echo server in a child process (this test binary again, running
/// [`echo_server_child`]): each end of 10,000 connections then has a
/// process, and a descriptor limit, of its own. The child ends when our
/// end of its stdin closes.
fn echo_server() -> (std::process::Child, SocketAddr) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "echo_server_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD, "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let addr = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        // The harness may have begun the line ("test echo_server_child ... ").
        .find_map(|line| {
            line.split("ECHO ")
                .nth(1)
                .map(|a| a.trim().parse().unwrap())
        })
        .expect("the echo child printed its address");
    (child, addr)
}

/// The child's side: a no-op unless run by [`echo_server`].
#[test]
fn echo_server_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    raise_nofile(CONNECTIONS as u64 + 256);
    // The parent's end of stdin closes when it is done (or gone).
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    // A long accept queue: a full one drops SYNs, which costs a connection
    // a one-second retransmission (not a failure).
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket.listen(65_535).unwrap();
    socket.set_nonblocking(true).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    println!("ECHO {addr}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(socket.into()).unwrap();
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 64];
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 || stream.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
}

#[test]
fn ten_thousand_concurrent_connects_on_a_current_thread_runtime_complete() {
    let needed = CONNECTIONS as u64 + 256;
    let limit = raise_nofile(needed);
    assert!(
        limit >= needed,
        "this test needs {needed} descriptors; the hard limit (RLIMIT_NOFILE) is {limit}"
    );
    let (mut child, addr) = echo_server();
    let url = format!("telnet://127.0.0.1:{}", addr.port());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let (connected, echoed) = runtime.block_on(async move {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..CONNECTIONS {
            let url = url.clone();
            tasks.spawn(async move {
                let mut easy = Easy::new();
                easy.url(&url).unwrap();
                easy.connect_only(ConnectOnly::Connection).unwrap();
                easy.connect_timeout(Duration::from_secs(120)).unwrap();
                let conn = easy.connect_async().await;
                (Instant::now(), conn)
            });
        }
        let mut conns = Vec::with_capacity(CONNECTIONS);
        let mut last = started;
        while let Some(done) = tasks.join_next().await {
            let (at, conn) = done.unwrap();
            last = last.max(at);
            conns.push(conn.unwrap_or_else(|e| panic!("a connect failed: {e}")));
        }
        let connected = last - started;
        // Every connection is live: a round trip on each.
        let mut echoes = tokio::task::JoinSet::new();
        for mut conn in conns {
            echoes.spawn(async move {
                conn.write_all(b"ping").await.unwrap();
                let mut back = [0u8; 4];
                conn.read_exact(&mut back).await.unwrap();
                assert_eq!(&back, b"ping");
            });
        }
        let mut echoed = 0;
        while let Some(done) = echoes.join_next().await {
            done.unwrap();
            echoed += 1;
        }
        (connected, echoed)
    });
    drop(child.stdin.take());
    let _ = child.wait();
    assert_eq!(echoed, CONNECTIONS);
    println!(
        "{CONNECTIONS} concurrent connect_async on one current-thread runtime: all connected \
         after {connected:?}, every echo back after {:?}",
        started.elapsed()
    );
}
