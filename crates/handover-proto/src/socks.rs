//! SOCKS4, SOCKS4a, SOCKS5 and SOCKS5h client handshakes (in progress).
