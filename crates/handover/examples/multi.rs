//! Many transfers on one `Multi`, on one thread, and readiness done right.
//!
//! Twenty connect-only TLS transfers to an embedded echo server run side by
//! side; then each connection sends a message and the echoes are read in an
//! event loop that serves the handles fairly (one small read each per
//! round). The point is the wait: TLS decrypts whole records, so after a
//! small read the rest of a record sits inside handover, and the socket no
//! longer shows as readable. A loop that only polls sockets would sleep
//! while data waits. Ask `recv_buffered()` first (or use
//! `EasyHandle::wait_readable`, which counts those bytes), and poll only
//! when no handle holds any.
//!
//! ```text
//! cargo run --example multi
//! ```

use std::time::{Duration, Instant};

use handover::{ConnectOnly, Easy, EasyHandle, Error, ErrorKind, Multi, WaitFd};
use handover_test_support::peers;

const TRANSFERS: usize = 20;
const MESSAGE: usize = 1000;
/// Small reads, so that TLS records are taken in several pieces.
const READ: usize = 64;

fn main() {
    if let Err(e) = run() {
        eprintln!("multi: {e} (CURLcode {})", e.code());
        std::process::exit(1);
    }
}

fn run() -> Result<(), Error> {
    let pki = peers::TestPki::new();
    let server = peers::TlsPeer::start(pki.server_config(), peers::Behavior::Echo);
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);
    let url = format!("https://localhost:{}/", server.port());

    // Add every transfer, then drive them all: perform, wait, read messages.
    let started = Instant::now();
    let mut multi = Multi::new();
    let mut handles = Vec::new();
    for token in 0..TRANSFERS {
        let mut easy = Easy::new();
        easy.url(&url)?;
        easy.cainfo(&ca)?;
        easy.connect_only(ConnectOnly::Connection)?;
        easy.connect_timeout(Duration::from_secs(10))?;
        let mut handle = multi.add(easy)?;
        handle.set_token(token);
        handles.push(handle);
    }
    let mut finished = 0;
    while finished < TRANSFERS {
        multi.perform()?;
        let mut failure = None;
        multi.messages(|message| {
            finished += 1;
            if let Err(e) = message.result() {
                failure.get_or_insert(e);
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        if finished < TRANSFERS {
            multi.wait(&mut [], Duration::from_secs(1))?;
        }
    }
    println!(
        "{TRANSFERS} connect-only TLS transfers on one Multi to {url}: all connected in {} ms",
        started.elapsed().as_millis()
    );

    // Every connection sends its message (small: one send takes it whole).
    let messages: Vec<Vec<u8>> = (0..TRANSFERS)
        .map(|i| (0..MESSAGE).map(|j| (i * 7 + j) as u8).collect())
        .collect();
    for (handle, message) in handles.iter().zip(&messages) {
        send_all(handle, message)?;
    }

    // The event loop.
    let mut echoed: Vec<Vec<u8>> = vec![Vec::new(); TRANSFERS];
    let mut buf = [0u8; READ];
    let (mut rounds, mut polls, mut polls_skipped, mut quiet) = (0, 0, 0, 0);
    let deadline = Instant::now() + Duration::from_secs(20);
    while echoed.iter().any(|e| e.len() < MESSAGE) {
        if Instant::now() > deadline {
            return Err(Error::new(
                ErrorKind::OperationTimedout,
                "the echoes stalled",
            ));
        }
        rounds += 1;
        // One read per waiting handle per round: fair to all of them.
        for (handle, got) in handles.iter().zip(echoed.iter_mut()) {
            if got.len() >= MESSAGE {
                continue;
            }
            match handle.recv(&mut buf) {
                Ok(0) => return Err(Error::new(ErrorKind::GotNothing, "the server closed")),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.is_again() => {}
                Err(e) => return Err(e),
            }
        }
        // Readiness done right: bytes held inside TLS make a handle ready
        // now, although its socket is quiet. Sleep in poll only when none
        // holds any.
        let pending: Vec<&EasyHandle> = handles
            .iter()
            .zip(&echoed)
            .filter(|(_, got)| got.len() < MESSAGE)
            .map(|(handle, _)| handle)
            .collect();
        let held: Vec<&EasyHandle> = pending
            .iter()
            .copied()
            .filter(|handle| handle.recv_buffered() > 0)
            .collect();
        if !held.is_empty() {
            // Why it matters: a look at the sockets alone often finds every
            // one of them quiet, and a socket-only loop would sleep there.
            let mut probe = read_fds(&pending);
            multi.wait(&mut probe, Duration::ZERO)?;
            if probe.iter().all(|fd| !fd.received_read()) {
                quiet += 1;
            }
            polls_skipped += 1;
            continue;
        }
        let mut fds = read_fds(&pending);
        if !fds.is_empty() {
            polls += 1;
            multi.wait(&mut fds, Duration::from_secs(1))?;
        }
    }
    let intact = echoed.iter().zip(&messages).all(|(got, sent)| got == sent);
    println!(
        "each sent {MESSAGE} bytes; echoes read {READ} bytes at a time, one read per handle per round:"
    );
    println!(
        "  {rounds} rounds, {polls} polls; {polls_skipped} polls skipped because TLS already held bytes"
    );
    println!(
        "  in {quiet} of those every socket was quiet: a loop that polls sockets only would have slept there"
    );
    if !intact {
        return Err(Error::new(
            ErrorKind::RecvError,
            "an echo differs from its message",
        ));
    }
    println!("  all {TRANSFERS} echoes intact");

    // One handle alone: wait_readable counts the bytes TLS holds, too.
    let first = &handles[0];
    send_all(first, b"ping")?;
    let mut one = [0u8; 1];
    let mut reply = Vec::new();
    while reply.len() < 4 {
        match first.recv(&mut one) {
            Ok(0) => return Err(Error::new(ErrorKind::GotNothing, "the server closed")),
            Ok(n) => reply.extend_from_slice(&one[..n]),
            Err(e) if e.is_again() => {
                if !first.wait_readable(Some(Duration::from_secs(5)))? {
                    return Err(Error::new(ErrorKind::OperationTimedout, "no reply in 5 s"));
                }
            }
            Err(e) => return Err(e),
        }
    }
    println!(
        "handle 0 alone, a byte at a time with wait_readable: {:?}",
        String::from_utf8_lossy(&reply)
    );

    for handle in handles {
        multi.remove(handle)?;
    }
    println!("all handles removed: their connections are closed");
    Ok(())
}

/// Read interest in each handle's socket, for `Multi::wait`.
fn read_fds(handles: &[&EasyHandle]) -> Vec<WaitFd> {
    handles
        .iter()
        .filter_map(|handle| handle.active_socket())
        .map(|fd| {
            let mut wait = WaitFd::new();
            wait.set_fd(fd);
            wait.poll_on_read(true);
            wait
        })
        .collect()
}

/// Sends all of `data`, waiting for room when the socket is full.
fn send_all(handle: &EasyHandle, data: &[u8]) -> Result<(), Error> {
    let mut sent = 0;
    while sent < data.len() {
        match handle.send(&data[sent..]) {
            Ok(n) => sent += n,
            Err(e) if e.is_again() => {
                handle.wait_writable(Some(Duration::from_secs(5)))?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
