//! The CONNECT tunnel with its 407 loop (`tunnel::Tunnel`), against a proxy
//! whose every byte comes from the input.
//!
//! Input: `[config][plan][proxy bytes]`. The config picks credentials, the
//! allowed methods and HTTP/1.0.
//!
//! Checks (see `oracle::check_handshake`): the same end whole, in pieces,
//! and with answers overtaking the request; every call progresses; nothing
//! after a decided answer is consumed. Also: every request written is a
//! clean request head (CONNECT line, token names, no injection), no
//! verbose line shows the password, a failed tunnel says why.
#![no_main]

use handover_proto::auth::{AuthMask, Credentials};
use handover_proto::tunnel::{AuthMemory, Entropy, Event, Status, Tunnel, TunnelConfig};
use handover_proto_fuzz::oracle::{check_handshake, read_request_heads, Input, Machine};
use libfuzzer_sys::fuzz_target;

const PASSWORD: &str = "pa55-w0rd-xyzzy";

fn config(byte: u8) -> TunnelConfig {
    let allowed = [
        AuthMask::BASIC,
        AuthMask::DIGEST,
        AuthMask::NTLM,
        AuthMask::ANY,
        AuthMask::ANYSAFE,
        AuthMask(AuthMask::DIGEST.0 | AuthMask::NTLM.0),
        AuthMask::NEGOTIATE,
        AuthMask::NONE,
    ][usize::from(byte & 7)];
    TunnelConfig {
        target_host: if byte & 0x40 != 0 {
            "::1".into()
        } else {
            "example.com".into()
        },
        target_port: 443,
        http10: byte & 8 != 0,
        user_agent: (byte & 0x80 != 0).then(|| "fuzz/1".to_string()),
        headers: vec!["X-Fuzz: 1".into(), "Proxy-Connection:".into()],
        credentials: (byte & 0x10 != 0).then(|| Credentials {
            user: if byte & 0x20 != 0 {
                "CORP\\alice".into()
            } else {
                "alice".into()
            },
            password: PASSWORD.into(),
        }),
        allowed,
        proxy_name: "127.0.0.1:3128".into(),
    }
}

fn entropy() -> Entropy {
    Entropy {
        cnonce: "0a4f113b".into(),
        ntlm_client_challenge: [7; 8],
        ntlm_timestamp: 1,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let byte = input.byte();
    let plan = input.plan();
    let msg = input.rest();
    let new = || Tunnel::new(config(byte), AuthMemory::default(), entropy()).expect("valid config");
    let end = check_handshake(new, msg, &plan);

    for (line, _) in read_request_heads(&end.wire) {
        let want = if byte & 0x40 != 0 {
            "CONNECT [::1]:443 HTTP/1."
        } else {
            "CONNECT example.com:443 HTTP/1."
        };
        assert!(line.starts_with(want), "request line {line:?}");
    }
    let mut tunnel = new();
    let driven = handover_proto_fuzz::oracle::drive(
        &mut tunnel,
        msg,
        &handover_proto_fuzz::oracle::Plan::whole(),
        false,
    );
    assert_eq!(driven, end);
    while let Some(event) = tunnel.poll_event() {
        let text = match event {
            Event::HeaderOut(t) | Event::HeaderIn(t) | Event::Info(t) => t,
        };
        assert!(
            !text.contains(PASSWORD)
                || msg
                    .windows(PASSWORD.len())
                    .any(|w| w == PASSWORD.as_bytes()),
            "password in {text:?}"
        );
    }
    match tunnel.status() {
        Status::Failed => assert!(tunnel.error().is_some_and(|e| !e.message.is_empty())),
        Status::Done => assert!((200..300).contains(&tunnel.connect_code())),
        Status::Reconnect => {
            // The memory carries over to a new tunnel, which starts at once.
            let memory = tunnel.take_memory();
            let next = Tunnel::new(config(byte), memory, entropy()).expect("valid config");
            read_request_heads(next.transmit());
        }
        Status::Pending | Status::StartTls => {}
    }
});
