//! The PROXY protocol, version 1 (HAProxy's): one text line a client sends
//! first on a connection, before any byte of its own protocol, so that a
//! server behind a load balancer learns the original client's address —
//! libcurl's `CURLOPT_HAPROXYPROTOCOL` and `CURLOPT_HAPROXY_CLIENT_IP`.
//!
//! ```text
//! PROXY TCP4 192.0.2.7 198.51.100.1 51234 443\r\n
//!       ^^^^ ^^^^^^^^^ ^^^^^^^^^^^^ ^^^^^ ^^^
//!       family source  destination  source port, destination port
//! PROXY UNKNOWN\r\n          (the connection is not TCP: a Unix socket)
//! ```
//!
//! The header is all there is: the server answers nothing, so the machine
//! is done once the line is written.

use std::net::{IpAddr, SocketAddr};

use crate::machine::{Machine, Status};

message_error!(
    /// A PROXY header that cannot be written: a source address that is not
    /// an IP address.
    ProxyHeaderError
);

/// Writes one PROXY protocol v1 header.
///
/// # Examples
///
/// ```
/// use handover_proto::machine::{Machine, Status};
/// use handover_proto::proxy_protocol::ProxyHeader;
///
/// let local = "192.0.2.7:51234".parse().unwrap();
/// let peer = "198.51.100.1:443".parse().unwrap();
/// let mut header = ProxyHeader::tcp(local, peer, None).unwrap();
/// assert_eq!(header.transmit(), b"PROXY TCP4 192.0.2.7 198.51.100.1 51234 443\r\n");
/// header.sent(header.transmit().len());
/// assert_eq!(header.status(), Status::Done);
///
/// // CURLOPT_HAPROXY_CLIENT_IP: another source address, as a proxy would.
/// let header = ProxyHeader::tcp(local, peer, Some("203.0.113.9")).unwrap();
/// assert_eq!(header.transmit(), b"PROXY TCP4 203.0.113.9 198.51.100.1 51234 443\r\n");
/// assert!(ProxyHeader::tcp(local, peer, Some("10.0.0.1\r\nGET /")).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct ProxyHeader {
    line: Vec<u8>,
    sent: usize,
}

impl ProxyHeader {
    /// The header of a TCP connection from `local` to `peer`. The family is
    /// the connection's (`TCP6` over IPv6, as libcurl decides it); `client`
    /// replaces the source address when given, and must be an IP address.
    pub fn tcp(
        local: SocketAddr,
        peer: SocketAddr,
        client: Option<&str>,
    ) -> Result<ProxyHeader, ProxyHeaderError> {
        let source = match client {
            None => local.ip(),
            Some(text) => text.parse::<IpAddr>().map_err(|_| {
                ProxyHeaderError(format!(
                    "the PROXY protocol client address {text:?} is not an IP address"
                ))
            })?,
        };
        let family = if peer.is_ipv6() { "TCP6" } else { "TCP4" };
        let line = format!(
            "PROXY {family} {source} {} {} {}\r\n",
            peer.ip(),
            local.port(),
            peer.port()
        );
        Ok(ProxyHeader {
            line: line.into_bytes(),
            sent: 0,
        })
    }

    /// The header of a connection that is not TCP (a Unix domain socket):
    /// `PROXY UNKNOWN`, which tells the server to use the connection's own
    /// addresses.
    pub fn unknown() -> ProxyHeader {
        ProxyHeader {
            line: b"PROXY UNKNOWN\r\n".to_vec(),
            sent: 0,
        }
    }

    /// The whole line, for verbose output.
    pub fn line(&self) -> &str {
        std::str::from_utf8(&self.line)
            .unwrap_or_default()
            .trim_end()
    }
}

impl Machine for ProxyHeader {
    type Error = ProxyHeaderError;

    fn transmit(&self) -> &[u8] {
        self.line.get(self.sent..).unwrap_or_default()
    }

    fn sent(&mut self, n: usize) {
        self.sent = self.sent.saturating_add(n).min(self.line.len());
    }

    /// The server sends nothing in answer: every byte is the next protocol's.
    fn receive(&mut self, _input: &[u8]) -> Result<usize, ProxyHeaderError> {
        Ok(0)
    }

    fn peer_closed(&mut self) {}

    fn status(&self) -> Status {
        if self.sent == self.line.len() {
            Status::Done
        } else {
            Status::Pending
        }
    }

    fn error(&self) -> Option<&ProxyHeaderError> {
        None
    }

    fn wants_read(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_connections_say_tcp6_and_partial_writes_resume() {
        let local = "[::1]:40000".parse().unwrap();
        let peer = "[2001:db8::2]:8443".parse().unwrap();
        let mut h = ProxyHeader::tcp(local, peer, None).unwrap();
        assert_eq!(h.line(), "PROXY TCP6 ::1 2001:db8::2 40000 8443");
        let total = h.transmit().len();
        h.sent(6);
        assert_eq!(h.status(), Status::Pending);
        assert_eq!(h.transmit().len(), total - 6);
        assert!(!h.wants_read());
        assert_eq!(h.receive(b"HTTP/1.1 200 OK").unwrap(), 0);
        h.sent(usize::MAX);
        assert_eq!(h.status(), Status::Done);
        assert!(h.transmit().is_empty());
    }

    #[test]
    fn unknown_is_for_connections_without_addresses() {
        let h = ProxyHeader::unknown();
        assert_eq!(h.transmit(), b"PROXY UNKNOWN\r\n");
    }

    #[test]
    fn a_client_address_must_be_an_ip_address() {
        let local = "127.0.0.1:1".parse().unwrap();
        let peer = "127.0.0.1:2".parse().unwrap();
        for bad in ["", "localhost", "1.2.3.4 5.6.7.8", "::1\r\n"] {
            assert!(ProxyHeader::tcp(local, peer, Some(bad)).is_err(), "{bad:?}");
        }
        let h = ProxyHeader::tcp(local, peer, Some("2001:db8::9")).unwrap();
        assert_eq!(h.line(), "PROXY TCP4 2001:db8::9 127.0.0.1 1 2");
    }
}
