//! A single-thread epoll echo server, plain or TLS (rustls), for the `multi`
//! bench (10,000 concurrent connections without 10,000 threads) and for
//! `serve` (the server outside the process callgrind measures).
//!
//! Level-triggered: a readable socket is read until it would block, and what
//! was read is written back at once; bytes the socket does not take wait in
//! the connection's queue, and reading stops until they are gone.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use rustls::{ServerConfig, ServerConnection};

use crate::sys::{self, Epoll, EP_IN, EP_OUT};

const LISTENER: u64 = u64::MAX;

pub struct EchoServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl EchoServer {
    /// Starts the server on 127.0.0.1, TLS when `tls` is given.
    pub fn start(tls: Option<Arc<ServerConfig>>) -> EchoServer {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the echo server");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        sys::set_backlog(listener.as_raw_fd(), 65535);
        let addr = listener.local_addr().expect("listener address");
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let (s, a) = (stop.clone(), accepted.clone());
        let thread = thread::Builder::new()
            .name("echo-epoll".into())
            .spawn(move || {
                if let Err(e) = run(listener, tls, &s, &a) {
                    eprintln!("echo server: {e}");
                }
            })
            .expect("spawn the echo server");
        EchoServer {
            addr,
            stop,
            accepted,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Conn {
    sock: TcpStream,
    tls: Option<Box<ServerConnection>>,
    /// Plain bytes read but not yet written back.
    queued: Vec<u8>,
    /// Interest currently registered.
    interest: u32,
}

fn run(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    stop: &AtomicBool,
    accepted: &AtomicUsize,
) -> io::Result<()> {
    let ep = Epoll::new()?;
    ep.add(listener.as_raw_fd(), EP_IN, LISTENER)?;
    let mut conns: HashMap<RawFd, Conn> = HashMap::new();
    let mut events = Vec::with_capacity(1024);
    let mut buf = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        ep.wait(&mut events, 100)?;
        for ev in events.iter() {
            let (token, bits) = (ev.u64, ev.events);
            if token == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((sock, _)) => {
                            accepted.fetch_add(1, Ordering::Relaxed);
                            let _ = sock.set_nonblocking(true);
                            let _ = sock.set_nodelay(true);
                            let fd = sock.as_raw_fd();
                            let tls = match &tls {
                                Some(cfg) => match ServerConnection::new(cfg.clone()) {
                                    Ok(c) => Some(Box::new(c)),
                                    Err(_) => continue,
                                },
                                None => None,
                            };
                            if ep.add(fd, EP_IN, fd as u64).is_ok() {
                                conns.insert(
                                    fd,
                                    Conn {
                                        sock,
                                        tls,
                                        queued: Vec::new(),
                                        interest: EP_IN,
                                    },
                                );
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        // Out of descriptors or an aborted connection: later.
                        Err(_) => break,
                    }
                }
                continue;
            }
            let fd = token as RawFd;
            let Some(conn) = conns.get_mut(&fd) else {
                continue;
            };
            let keep = if conn.tls.is_some() {
                serve_tls(conn, &mut buf)
            } else {
                serve_plain(conn, bits, &mut buf)
            };
            match keep {
                Ok(true) => {
                    let want = wanted(conn);
                    if want != conn.interest {
                        conn.interest = want;
                        let _ = ep.modify(fd, want, fd as u64);
                    }
                }
                // Closing the socket takes it out of the epoll set.
                _ => {
                    conns.remove(&fd);
                }
            }
        }
    }
    Ok(())
}

fn wanted(conn: &Conn) -> u32 {
    match &conn.tls {
        Some(tls) if tls.wants_write() => EP_IN | EP_OUT,
        Some(_) => EP_IN,
        None if conn.queued.is_empty() => EP_IN,
        None => EP_OUT,
    }
}

/// Whether the connection stays open.
fn serve_plain(conn: &mut Conn, bits: u32, buf: &mut [u8]) -> io::Result<bool> {
    if bits & EP_OUT != 0 && !conn.queued.is_empty() {
        match conn.sock.write(&conn.queued) {
            Ok(n) => {
                conn.queued.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
            Err(e) => return Err(e),
        }
    }
    while conn.queued.is_empty() {
        let n = match conn.sock.read(buf) {
            Ok(0) => return Ok(false),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
            Err(e) => return Err(e),
        };
        let mut written = 0;
        while written < n {
            match conn.sock.write(&buf[written..n]) {
                Ok(w) => written += w,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    conn.queued.extend_from_slice(&buf[written..n]);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(true)
}

fn serve_tls(conn: &mut Conn, buf: &mut [u8]) -> io::Result<bool> {
    let Conn { sock, tls, .. } = conn;
    let tls = tls.as_mut().expect("a TLS connection");
    let mut eof = false;
    // Flush first: when the socket was full, new input waits.
    flush(tls, sock)?;
    while !tls.wants_write() {
        match tls.read_tls(sock) {
            Ok(0) => {
                eof = true;
                break;
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
        let state = tls
            .process_new_packets()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        if state.peer_has_closed() {
            eof = true;
        }
        loop {
            match tls.reader().read(buf) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => tls.writer().write_all(&buf[..n])?,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    eof = true;
                    break;
                }
            }
        }
        flush(tls, sock)?;
        if eof {
            break;
        }
    }
    Ok(!eof)
}

/// Writes what rustls has queued until the socket would block.
fn flush(tls: &mut ServerConnection, mut sock: &TcpStream) -> io::Result<()> {
    while tls.wants_write() {
        match tls.write_tls(&mut sock) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
