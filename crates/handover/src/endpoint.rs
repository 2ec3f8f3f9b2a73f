//! Where a connection's socket leads: an IP address and port, or a Unix
//! domain socket (`CURLOPT_UNIX_SOCKET_PATH`, `CURLOPT_ABSTRACT_UNIX_SOCKET`).

use std::fmt;
use std::net::SocketAddr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::Arc;

use socket2::SockAddr;

use crate::error::{Error, ErrorKind};

/// The local IP address and port of a socket; `None` for a Unix socket.
pub(crate) fn local_ip(socket: &socket2::Socket) -> Option<SocketAddr> {
    socket.local_addr().ok()?.as_socket()
}

/// The far end of a socket. (The path is behind an `Arc`: an endpoint is
/// no bigger than a `SocketAddr`, and a `Connection` stays small.)
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Endpoint {
    Ip(SocketAddr),
    Unix(Arc<UnixPath>),
}

impl Endpoint {
    /// The IP address and port, for an IP endpoint.
    pub fn ip(&self) -> Option<SocketAddr> {
        match self {
            Endpoint::Ip(addr) => Some(*addr),
            Endpoint::Unix(_) => None,
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Ip(addr) => write!(f, "{addr}"),
            Endpoint::Unix(path) => write!(f, "{path}"),
        }
    }
}

/// A Unix domain socket: a path in the file system, or (Linux) a name in
/// the abstract namespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct UnixPath {
    /// The path, or the abstract name without its leading NUL byte.
    pub path: PathBuf,
    /// An abstract name (`CURLOPT_ABSTRACT_UNIX_SOCKET`).
    pub abstract_name: bool,
}

impl UnixPath {
    /// The socket address to connect to. A path that does not fit a
    /// `sockaddr_un` is refused as libcurl refuses it: it cannot name a
    /// socket, so the "host" cannot be resolved (`CouldntResolveHost`, 6).
    pub fn sock_addr(&self) -> Result<SockAddr, Error> {
        let bytes = self.path.as_os_str().as_bytes();
        let mut raw = Vec::with_capacity(bytes.len() + 1);
        if self.abstract_name {
            raw.push(0);
        }
        raw.extend_from_slice(bytes);
        let too_long = || {
            Error::new(
                ErrorKind::CouldntResolveHost,
                format!("Unix socket path too long: '{self}'"),
            )
        };
        if bytes.len() + 1 > SUN_PATH {
            return Err(too_long());
        }
        SockAddr::unix(std::ffi::OsStr::from_bytes(&raw)).map_err(|_| too_long())
    }
}

/// The size of `sockaddr_un.sun_path` on Linux. libcurl takes a path or an
/// abstract name of at most one byte less (room for the path's NUL, or
/// the abstract name's leading one).
const SUN_PATH: usize = 108;

impl fmt::Display for UnixPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `@name` is how ss(8) and others print abstract names.
        if self.abstract_name {
            f.write_str("@")?;
        }
        write!(f, "{}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(path: &str, abstract_name: bool) -> UnixPath {
        UnixPath {
            path: PathBuf::from(path),
            abstract_name,
        }
    }

    #[test]
    fn paths_that_fit_sun_path_make_addresses_and_longer_ones_are_unresolvable() {
        let fits = "/".to_owned() + &"a".repeat(106);
        assert!(unix(&fits, false).sock_addr().is_ok());
        let long = "/".to_owned() + &"a".repeat(107);
        let err = unix(&long, false).sock_addr().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CouldntResolveHost);
        assert!(err.message().contains("too long"), "{err}");
        assert!(unix(&"b".repeat(107), true).sock_addr().is_ok());
        assert!(unix(&"b".repeat(108), true).sock_addr().is_err());
    }

    #[test]
    fn display_names_the_socket() {
        assert_eq!(
            unix("/run/docker.sock", false).to_string(),
            "/run/docker.sock"
        );
        assert_eq!(unix("handover", true).to_string(), "@handover");
        let ip = Endpoint::Ip("127.0.0.1:80".parse().unwrap());
        assert_eq!(ip.to_string(), "127.0.0.1:80");
        assert_eq!(ip.ip().unwrap().port(), 80);
        assert_eq!(Endpoint::Unix(Arc::new(unix("/x", false))).ip(), None);
        assert_eq!(
            std::mem::size_of::<Endpoint>(),
            std::mem::size_of::<SocketAddr>()
        );
    }
}
