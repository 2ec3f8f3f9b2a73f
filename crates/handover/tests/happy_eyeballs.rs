//! Happy eyeballs against real sockets: a name with an IPv6 and an IPv4
//! address where only one family listens. The delay itself is measured
//! with simulated time in handover-proto's planner tests; here the delay is
//! set far above the connect timeout, so success proves the fallback began
//! as soon as the first family failed rather than after the delay.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, TcpListener};
use std::time::Duration;

use handover::{ConnectOnly, Easy, List};
use handover_test_support::peers::{Behavior, TcpPeer};

/// A port free on both loopback addresses, with a server on `listen` only.
fn server_on_one_family(listen: IpAddr) -> TcpPeer {
    for _ in 0..50 {
        let server = TcpPeer::start_on(listen, Behavior::Echo);
        let other: IpAddr = if listen.is_ipv4() {
            Ipv6Addr::LOCALHOST.into()
        } else {
            Ipv4Addr::LOCALHOST.into()
        };
        // Make sure nothing listens on the other family's same port.
        if TcpListener::bind((other, server.port())).is_ok() {
            return server;
        }
    }
    panic!("no port free on both families");
}

fn dual_stack_easy(port: u16, order: &str) -> Easy {
    let mut easy = Easy::new();
    easy.url(&format!("telnet://dual.test:{port}")).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.resolve(List::from_iter([format!("dual.test:{port}:{order}")]))
        .unwrap();
    easy.happy_eyeballs_timeout(Duration::from_secs(600))
        .unwrap();
    easy.connect_timeout(Duration::from_secs(20)).unwrap();
    easy
}

#[test]
fn ipv4_only_server_is_reached_after_ipv6_is_refused() {
    let server = server_on_one_family(Ipv4Addr::LOCALHOST.into());
    let mut easy = dual_stack_easy(server.port(), "[::1],127.0.0.1");
    easy.perform().unwrap();
    assert_eq!(easy.info().primary_addr().unwrap(), server.addr());
    // The refused IPv6 attempt leaves its errno, as in libcurl.
    assert_ne!(easy.info().os_errno(), 0);
}

#[test]
fn ipv6_only_server_is_reached_after_ipv4_is_refused() {
    let server = server_on_one_family(Ipv6Addr::LOCALHOST.into());
    let mut easy = dual_stack_easy(server.port(), "127.0.0.1,[::1]");
    easy.perform().unwrap();
    assert_eq!(easy.info().primary_addr().unwrap(), server.addr());
}

#[test]
fn both_families_refused_reports_every_address_failed() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut easy = dual_stack_easy(port, "[::1],127.0.0.1");
    let err = easy.perform().unwrap_err();
    assert_eq!(err.code(), 7, "{err}");
    assert!(err.to_string().contains("dual.test"), "{err}");
}
