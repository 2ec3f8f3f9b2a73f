//! SOCKS5 and SOCKS5h handshakes (`socks::Socks5`) against a proxy whose
//! every byte comes from the input.
//!
//! Input: `[config][plan][proxy bytes]`; the config picks the target (IPv4,
//! IPv6, a name, an IP literal as a name) and whether credentials are
//! offered.
//!
//! Checks (see `oracle::check_handshake`): the same end whole, in pieces
//! and with replies overtaking requests; progress on every call; nothing
//! after the final reply is consumed; the greeting offers user/password
//! only with credentials; the password never shows in an error or `Debug`.
#![no_main]

use handover_proto::socks::{Socks5, SocksTarget, Status};
use handover_proto_fuzz::oracle::{check_handshake, drive, Input, Machine, Plan};
use libfuzzer_sys::fuzz_target;

const PASSWORD: &str = "pa55-w0rd-xyzzy";

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
            host: "[::1]".into(),
            port: 8080,
        },
        _ => SocksTarget::Addr("[2001:db8::1]:22".parse().unwrap()),
    };
    let credentials = (byte & 4 != 0).then_some(("alice", PASSWORD));
    let new = || Socks5::new(target.clone(), credentials).unwrap();
    let greeting = new().transmit().to_vec();
    assert_eq!(
        greeting,
        if credentials.is_some() {
            vec![5, 2, 0, 2]
        } else {
            vec![5, 1, 0]
        }
    );
    let end = check_handshake(new, msg, &plan);
    assert!(end.wire.starts_with(&greeting));
    let mut socks = new();
    drive(&mut socks, msg, &Plan::whole(), false);
    assert!(!format!("{socks:?}").contains(PASSWORD));
    if let Some(error) = socks.error() {
        assert!(!error.message.contains(PASSWORD) && !error.message.is_empty());
    }
    if socks.status() == Status::Done {
        assert!(socks.transmit().is_empty() && !socks.wants_read());
    }
    let _ = socks.describe();
});
