//! SOCKS4 and SOCKS4a handshakes (`socks::Socks4`) against a proxy whose
//! every byte comes from the input.
//!
//! Input: `[config][plan][proxy bytes]`; the config picks the target (an
//! IPv4 address, a name with or without 4a, an IPv6 address) and the user.
//!
//! Checks (see `oracle::check_handshake`): the same end whole, in pieces
//! and with the reply overtaking the request; progress on every call;
//! nothing after the 8-byte reply is consumed; the request is libcurl's
//! shape; a done handshake used exactly 8 bytes.
#![no_main]

use handover_proto::socks::{Socks4, SocksTarget, Status};
use handover_proto_fuzz::oracle::{check_handshake, Input, Machine};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let byte = input.byte();
    let plan = input.plan();
    let msg = input.rest();
    let target = match byte & 3 {
        0 => SocksTarget::Addr("192.0.2.7:80".parse().unwrap()),
        1 => SocksTarget::Name {
            host: "example.com".into(),
            port: 443,
        },
        2 => SocksTarget::Name {
            host: "192.0.2.9".into(),
            port: 8080,
        },
        _ => SocksTarget::Addr("[::1]:22".parse().unwrap()),
    };
    let user = if byte & 4 != 0 { "alice" } else { "" };
    let allow_4a = byte & 8 != 0;
    let Ok(first) = Socks4::new(target.clone(), user, allow_4a) else {
        return;
    };
    let request = first.transmit().to_vec();
    assert_eq!(&request[..2], &[4, 1]);
    assert_eq!(request.last(), Some(&0));
    let new = || Socks4::new(target.clone(), user, allow_4a).unwrap();
    let end = check_handshake(new, msg, &plan);
    assert_eq!(end.wire, request, "SOCKS4 writes one request");
    let mut socks = new();
    let driven = handover_proto_fuzz::oracle::drive(
        &mut socks,
        msg,
        &handover_proto_fuzz::oracle::Plan::whole(),
        false,
    );
    if socks.status() == Status::Done {
        assert_eq!(
            msg.len() - driven.leftover.len(),
            8,
            "a SOCKS4 reply is 8 bytes"
        );
        assert_eq!(msg[1], 90);
        assert!(socks.bound().is_some());
    }
    if socks.status() == Status::Failed {
        assert!(socks.error().is_some_and(|e| !e.message.is_empty()));
    }
    let _ = socks.describe();
});
