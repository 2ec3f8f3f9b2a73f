//! The socket of a TFTP connect-only transfer: UDP, opened (by the
//! application's open function when it set one), configured, bound — to
//! the interface or local port asked, else to any address and a free port
//! as libcurl's TFTP does — and never connected: a TFTP server answers
//! from a new port, so the application sends with `sendto` and reads from
//! whoever answers. No request is sent.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsFd;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::callbacks::{SocketHooks, SocketPurpose, SocketRequest, SockoptResult};
use crate::error::{Error, ErrorKind};
use crate::options::SocketOptions;
use crate::sys::Closing;
use crate::tcp::bind_local;

/// Opens and binds the UDP socket for talking to `target`.
pub(crate) fn open_bound(
    target: SocketAddr,
    opts: &SocketOptions,
    hooks: &SocketHooks,
) -> Result<Closing<Socket>, Error> {
    let fail = |what: &str, e: &io::Error| {
        Error::from_io(
            ErrorKind::CouldntConnect,
            format_args!("{what} for {target}"),
            e,
        )
    };
    let socket = match &hooks.open {
        None => Socket::new(
            Domain::for_address(target),
            Type::DGRAM.nonblocking(),
            Some(Protocol::UDP),
        )
        .map_err(|e| fail("cannot create a UDP socket", &e))?,
        Some(opener) => {
            let mut request = SocketRequest {
                family: if target.is_ipv4() {
                    libc::AF_INET
                } else {
                    libc::AF_INET6
                },
                socktype: libc::SOCK_DGRAM,
                protocol: libc::IPPROTO_UDP,
                addr: target,
            };
            let Some(fd) = opener.open(SocketPurpose::IpConnection, &mut request) else {
                return Err(Error::new(
                    ErrorKind::CouldntConnect,
                    format!("the open-socket function gave no socket for {target}"),
                ));
            };
            let socket = Socket::from(fd);
            socket
                .set_nonblocking(true)
                .map_err(|e| fail("cannot make the socket non-blocking", &e))?;
            socket
        }
    };
    let socket = Closing::new(socket, hooks.close.clone());
    if let Some(configurer) = &hooks.sockopt {
        if configurer.configure(socket.as_fd(), SocketPurpose::IpConnection) == SockoptResult::Error
        {
            return Err(Error::new(
                ErrorKind::AbortedByCallback,
                "the sockopt function failed",
            ));
        }
    }
    if opts.interface.is_some() || opts.local_port != 0 {
        bind_local(&socket, target, opts)?;
    } else {
        let any = match target {
            SocketAddr::V4(_) => IpAddr::from([0u8; 4]),
            SocketAddr::V6(_) => IpAddr::from([0u16; 8]),
        };
        socket
            .bind(&SockAddr::from(SocketAddr::new(any, 0)))
            .map_err(|e| {
                Error::from_io(
                    ErrorKind::CouldntConnect,
                    format_args!("cannot bind the UDP socket to {any}"),
                    &e,
                )
            })?;
    }
    Ok(socket)
}
