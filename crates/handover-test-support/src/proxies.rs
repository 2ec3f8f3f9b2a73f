//! Small in-process proxies on loopback for the examples (and any test that
//! wants them): an HTTP `CONNECT` proxy that demands Digest authentication
//! (SHA-256, `qop=auth`, verified for real), and a SOCKS5 proxy that demands
//! a user name and password (RFC 1928, RFC 1929). Both splice the client to
//! the target they were asked for once it is allowed.
//!
//! Each is a [`Server`] underneath: port 0 on 127.0.0.1, a thread per
//! connection, a bounded stop in `Drop`. Each keeps a log of what it
//! decided, a line a step, for the examples to print.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::peers::{header, lock, read_head, server_accessors, Server};

/// How long a proxy waits for a target to accept.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Read timeout on spliced sockets, so that a stuck example ends.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// The realm of the Digest challenge.
pub const REALM: &str = "handover-example";

/// What a proxy decided, a line a step, shared with its connections.
type Log = Arc<Mutex<Vec<String>>>;

fn note(log: &Log, line: String) {
    lock(log).push(line);
}

/// How a proxy serves one connection, for its one user.
type Serve = fn(TcpStream, &str, &str, &Log) -> io::Result<()>;

/// A server on 127.0.0.1 serving every connection with `serve` for one
/// user, and the log its connections write.
fn start_proxy(user: &str, password: &str, serve: Serve) -> (Server, Log) {
    let log: Log = Arc::default();
    let conn_log = log.clone();
    let (user, password) = (user.to_owned(), password.to_owned());
    let server = Server::start(IpAddr::V4(Ipv4Addr::LOCALHOST), move |stream| {
        // Errors end the connection; the log says how far it got.
        let _ = serve(stream, &user, &password, &conn_log);
    });
    (server, log)
}

server_accessors!(DigestProxy, Socks5Proxy);

/// An HTTP proxy that answers `CONNECT` with a `407` Digest challenge
/// until the request carries a valid `Proxy-Authorization: Digest` for its
/// one user, then connects to the target and splices.
pub struct DigestProxy {
    server: Server,
    log: Log,
}

impl DigestProxy {
    /// Starts the proxy on 127.0.0.1 with one user.
    pub fn start(user: &str, password: &str) -> DigestProxy {
        let (server, log) = start_proxy(user, password, serve_connect);
        DigestProxy { server, log }
    }

    /// `http://127.0.0.1:PORT`, for `Easy::proxy`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// What the proxy decided so far, oldest first.
    pub fn log(&self) -> Vec<String> {
        lock(&self.log).clone()
    }
}

/// A fresh nonce per challenge: nobody needs to guess it in an example,
/// but no two challenges share one.
fn new_nonce() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    sha256_hex(&format!(
        "{now}:{}",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

fn sha256_hex(text: &str) -> String {
    let mut out = String::with_capacity(64);
    for byte in Sha256::digest(text.as_bytes()) {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

fn serve_connect(mut client: TcpStream, user: &str, password: &str, log: &Log) -> io::Result<()> {
    // One nonce per connection: the client answers on the same connection.
    let nonce = new_nonce();
    loop {
        let head = read_head(&mut client)?.ok_or(io::ErrorKind::UnexpectedEof)?;
        let head = String::from_utf8_lossy(&head);
        let request_line = head.split("\r\n").next().unwrap_or_default();
        let mut parts = request_line.split(' ');
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if method != "CONNECT" {
            note(log, format!("{method} {target} -> 405 (only CONNECT here)"));
            client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
            return Ok(());
        }
        let verdict = match header(&head, "proxy-authorization") {
            None => Err("no credentials".to_owned()),
            Some(value) => check_digest(value, "CONNECT", user, password, &nonce),
        };
        if let Err(why) = verdict {
            note(
                log,
                format!("CONNECT {target}: {why} -> 407, Digest challenge (SHA-256, qop=auth)"),
            );
            let challenge = format!(
                "HTTP/1.1 407 Proxy Authentication Required\r\n\
                 Proxy-Authenticate: Digest realm=\"{REALM}\", qop=\"auth\", algorithm=SHA-256, nonce=\"{nonce}\"\r\n\
                 Content-Length: 0\r\n\r\n"
            );
            client.write_all(challenge.as_bytes())?;
            continue;
        }
        let upstream = match connect_target(target) {
            Ok(upstream) => upstream,
            Err(e) => {
                note(
                    log,
                    format!("CONNECT {target}: Digest verified, target unreachable ({e}) -> 502"),
                );
                client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")?;
                return Ok(());
            }
        };
        note(
            log,
            format!("CONNECT {target}: Digest verified for {user} -> 200, tunnel open"),
        );
        client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
        return splice(client, upstream);
    }
}

/// Checks a `Digest` answer to our challenge: the user, realm, nonce and
/// algorithm are ours, and the response hash is the one the password makes
/// (RFC 7616, SHA-256, `qop=auth`).
fn check_digest(
    value: &str,
    method: &str,
    user: &str,
    password: &str,
    nonce: &str,
) -> Result<(), String> {
    let Some(params) = value.strip_prefix("Digest ") else {
        return Err(format!(
            "not Digest credentials ({})",
            value.split(' ').next().unwrap_or("")
        ));
    };
    let params = parse_params(params);
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    if get("username") != user {
        return Err(format!("unknown user {:?}", get("username")));
    }
    if get("realm") != REALM || get("nonce") != nonce {
        return Err("wrong realm or stale nonce".to_owned());
    }
    if !get("algorithm").eq_ignore_ascii_case("SHA-256") || get("qop") != "auth" {
        return Err(format!(
            "unexpected algorithm {:?} or qop {:?}",
            get("algorithm"),
            get("qop")
        ));
    }
    let ha1 = sha256_hex(&format!("{user}:{REALM}:{password}"));
    let ha2 = sha256_hex(&format!("{method}:{}", get("uri")));
    let expected = sha256_hex(&format!(
        "{ha1}:{nonce}:{}:{}:auth:{ha2}",
        get("nc"),
        get("cnonce")
    ));
    if get("response") == expected {
        Ok(())
    } else {
        Err("wrong password (the Digest response does not match)".to_owned())
    }
}

/// `name=value, name="quoted, value"` pairs.
fn parse_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while let Some((name, after)) = rest.split_once('=') {
        let name = name.trim().trim_start_matches(',').trim().to_owned();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    _ => value.push(c),
                }
            }
            (value, quoted.get(end..).unwrap_or(""))
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        out.push((name, value));
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    out
}

/// A SOCKS5 proxy (RFC 1928) that wants one user name and password
/// (RFC 1929), resolves names itself (`socks5h://`), and connects.
pub struct Socks5Proxy {
    server: Server,
    log: Log,
}

impl Socks5Proxy {
    /// Starts the proxy on 127.0.0.1 with one user.
    pub fn start(user: &str, password: &str) -> Socks5Proxy {
        let (server, log) = start_proxy(user, password, serve_socks5);
        Socks5Proxy { server, log }
    }

    /// `socks5h://127.0.0.1:PORT`, for `Easy::proxy`: names go to the proxy.
    pub fn url(&self) -> String {
        format!("socks5h://{}", self.server.addr())
    }

    /// What the proxy decided so far, oldest first.
    pub fn log(&self) -> Vec<String> {
        lock(&self.log).clone()
    }
}

fn serve_socks5(mut client: TcpStream, user: &str, password: &str, log: &Log) -> io::Result<()> {
    let [version, count] = read_array::<2>(&mut client)?;
    if version != 5 {
        note(log, format!("greeting of SOCKS version {version}: refused"));
        return Ok(());
    }
    let methods = read_vec(&mut client, usize::from(count))?;
    if !methods.contains(&2) {
        note(
            log,
            "client offers no user/password method: refused".to_owned(),
        );
        return client.write_all(&[5, 0xff]);
    }
    client.write_all(&[5, 2])?;

    let [_, user_len] = read_array::<2>(&mut client)?;
    let given_user = read_vec(&mut client, usize::from(user_len))?;
    let [pass_len] = read_array::<1>(&mut client)?;
    let given_password = read_vec(&mut client, usize::from(pass_len))?;
    if given_user != user.as_bytes() || given_password != password.as_bytes() {
        note(
            log,
            format!(
                "user {:?}: wrong user name or password, refused",
                String::from_utf8_lossy(&given_user)
            ),
        );
        return client.write_all(&[1, 1]);
    }
    client.write_all(&[1, 0])?;

    let [_, command, _, address_type] = read_array::<4>(&mut client)?;
    let host = match address_type {
        1 => IpAddr::V4(Ipv4Addr::from(read_array::<4>(&mut client)?)).to_string(),
        4 => format!("[{}]", Ipv6Addr::from(read_array::<16>(&mut client)?)),
        3 => {
            let [len] = read_array::<1>(&mut client)?;
            String::from_utf8_lossy(&read_vec(&mut client, usize::from(len))?).into_owned()
        }
        _ => {
            note(log, format!("address type {address_type}: not supported"));
            return client.write_all(&reply(8));
        }
    };
    let port = u16::from_be_bytes(read_array::<2>(&mut client)?);
    let target = format!("{host}:{port}");
    if command != 1 {
        note(
            log,
            format!("command {command} for {target}: only CONNECT here"),
        );
        return client.write_all(&reply(7));
    }
    let how = if address_type == 3 {
        "a name, resolved by the proxy"
    } else {
        "an address"
    };
    match connect_target(&target) {
        Ok(upstream) => {
            note(
                log,
                format!("user {user} asks for {target} ({how}) -> connected"),
            );
            client.write_all(&reply(0))?;
            splice(client, upstream)
        }
        Err(e) => {
            note(log, format!("user {user} asks for {target} ({how}) -> {e}"));
            client.write_all(&reply(5))
        }
    }
}

/// A SOCKS5 reply with code `rep` and a zero IPv4 bound address.
fn reply(rep: u8) -> [u8; 10] {
    [5, rep, 0, 1, 0, 0, 0, 0, 0, 0]
}

fn read_array<const N: usize>(stream: &mut TcpStream) -> io::Result<[u8; N]> {
    let mut buf = [0u8; N];
    stream.read_exact(&mut buf)?;
    Ok(buf)
}

fn read_vec(stream: &mut TcpStream, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    stream.read_exact(&mut buf)?;
    Ok(buf)
}

/// Connects to `host:port`, trying every address the name has.
fn connect_target(target: &str) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{target} has no address"));
    for addr in target.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                stream.set_read_timeout(Some(IO_TIMEOUT))?;
                return Ok(stream);
            }
            Err(e) => last = io::Error::new(e.kind(), format!("{addr}: {e}")),
        }
    }
    Err(last)
}

/// Copies bytes both ways until both sides have finished, passing each
/// end of stream on as a half close.
fn splice(client: TcpStream, upstream: TcpStream) -> io::Result<()> {
    let (mut client_in, mut upstream_out) = (client.try_clone()?, upstream.try_clone()?);
    let back = thread::spawn(move || {
        let mut upstream_in = upstream;
        let mut client_out = client;
        let _ = io::copy(&mut upstream_in, &mut client_out);
        let _ = client_out.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut client_in, &mut upstream_out);
    let _ = upstream_out.shutdown(Shutdown::Write);
    let _ = back.join();
    Ok(())
}
