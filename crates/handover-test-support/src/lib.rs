//! The peers handover's tests, examples and benchmarks talk to, all on
//! loopback and all started on a port the system picks (port 0, read back).
//! A peer is a struct with a `start` and a `Drop` that stops it, each stop
//! bounded so that a stuck connection never hangs a test.
//!
//! In-process peers (threads in the test process, std + rustls):
//!
//! - [`peers`]: [`TestPki`](peers::TestPki), a CA, server and client
//!   certificates made at run time with rcgen; [`TcpPeer`](peers::TcpPeer)
//!   and [`TlsPeer`](peers::TlsPeer), servers that echo, stay silent, or
//!   send some bytes and close; [`Server`](peers::Server), the accept loop
//!   and bounded stop every in-process peer is built on; and
//!   [`hexdump`](peers::hexdump)/[`assert_same`](peers::assert_same) for
//!   failures that show the bytes.
//! - [`ws_peers`]: [`WsPeer`](ws_peers::WsPeer), a WebSocket server
//!   (tungstenite's server side, plain or TLS) that echoes, or misbehaves
//!   on purpose (a 200 instead of a 101, a wrong accept key, a frame in the
//!   101's segment).
//! - [`proxies`]: [`DigestProxy`](proxies::DigestProxy), an HTTP CONNECT
//!   proxy that checks Digest (SHA-256) credentials for real, and
//!   [`Socks5Proxy`](proxies::Socks5Proxy), a SOCKS5 proxy with a user name
//!   and password; both splice to the target and log what they decided.
//! - [`origin`]: [`Origin`](origin::Origin), an HTTP/1.1 server with one
//!   page per way a body can be framed (length, chunked, until close).
//! - [`capture`]: [`CaptureServer`](capture::CaptureServer), an HTTP/1.1
//!   server that records each request and echoes chosen header lines.
//!
//! Real programs from Debian packages (`scripts/install-peers`), run as
//! child processes:
//!
//! - [`real_peers`]: [`Squid`](real_peers::Squid) (CONNECT proxy, no auth,
//!   Basic or Digest), [`Stunnel`](real_peers::Stunnel) (TLS in front of a
//!   squid: an HTTPS proxy), [`Microsocks`](real_peers::Microsocks)
//!   (SOCKS5 with a password), [`Dante`](real_peers::Dante) (SOCKS4 and
//!   SOCKS5), [`Nginx`](real_peers::Nginx) (an origin server, HTTP and
//!   HTTPS) and [`Dnsdist`](real_peers::Dnsdist) (DNS over HTTPS); and
//!   the servers of the protocol connect phases:
//!   [`Vsftpd`](real_peers::Vsftpd) (FTP, FTPS),
//!   [`Dovecot`](real_peers::Dovecot) (IMAP, POP3),
//!   [`SmtpServer`](real_peers::SmtpServer) (SMTP on aiosmtpd),
//!   [`Mosquitto`](real_peers::Mosquitto) (MQTT) and
//!   [`Tftpd`](real_peers::Tftpd) (TFTP).
//! - [`shared`]: one instance of a real peer per configuration for all the
//!   tests of a test binary (`Squid::shared(SquidAuth::None)`), stopped when
//!   the binary ends.
//!
//! Not published: a dev-dependency of handover (tests and examples) and a
//! dependency of handover-bench.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod capture;
pub mod origin;
pub mod peers;
pub mod proxies;
pub mod real_peers;
pub mod shared;
pub mod ws_peers;
