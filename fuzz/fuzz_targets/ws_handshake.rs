//! The WebSocket upgrade (`ws::client_key`, `accept_for`, `check_upgrade`)
//! over a response head parsed by `http1::parse_response_head`.
//!
//! Input: `[config][16 key bytes][plan (unused)][response head]`. With
//! config bit 0, the text `ACCEPT` in the head is replaced by the right
//! `Sec-WebSocket-Accept` for the key, so the fuzzer reaches the success
//! path.
//!
//! Checks: success only for a 101 with the tokens and the right accept;
//! a refusal names the status; a bad accept names the expected value; the
//! same head made valid (101, tokens, the right accept) always passes; the
//! key is 24 base64 characters of 16 bytes; the upgrade headers make a clean
//! request.
#![no_main]

use base64::Engine as _;
use handover_proto::http1::{parse_response_head, write_request, Limits, Parsed, ResponseHead};
use handover_proto::ws::{accept_for, check_upgrade, client_key, upgrade_headers, UpgradeError};
use handover_proto_fuzz::oracle::{read_request_head, Input};
use libfuzzer_sys::fuzz_target;

fn lookup(head: &ResponseHead) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| {
        let values: Vec<&str> = head.headers_named(name).collect();
        (!values.is_empty()).then(|| values.join(", "))
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let config = input.byte();
    let random: [u8; 16] = input.array();
    let _ = input.plan();
    let key = client_key(random);
    assert_eq!(key.len(), 24);
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(&key)
            .unwrap(),
        random
    );
    let accept = accept_for(&key);
    assert_eq!(accept.len(), 28);

    let headers = upgrade_headers(&key);
    let defaults: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let spec = handover_proto::http1::RequestSpec {
        method: "GET",
        target: "/chat",
        host_header: "example.com",
        user_agent: None,
        referer: None,
        headers: &[],
        body_len: None,
        default_headers: &defaults,
    };
    let (request, _) = write_request(&spec).expect("upgrade request");
    read_request_head(&request).expect("clean upgrade request");

    let mut msg = input.rest().to_vec();
    if config & 1 != 0 {
        let text = String::from_utf8_lossy(&msg).replace("ACCEPT", &accept);
        msg = text.into_bytes();
    }
    let Ok(Parsed::Complete { head, .. }) = parse_response_head(&msg, Limits::DEFAULT) else {
        return;
    };
    let get = lookup(&head);
    match check_upgrade(head.status, &get, &key) {
        Ok(()) => {
            assert_eq!(head.status, 101);
            assert_eq!(
                get("Sec-WebSocket-Accept").map(|v| v.trim().to_string()),
                Some(accept.clone())
            );
        }
        Err(UpgradeError::Refused(status)) => assert!(status == head.status && status != 101),
        Err(UpgradeError::BadAccept { expected, got }) => {
            assert_eq!(expected, accept);
            assert_ne!(got.as_deref(), Some(accept.as_str()));
        }
        Err(UpgradeError::MissingUpgrade) => assert_eq!(head.status, 101),
    }

    // The same head, made into a valid answer.
    let mut valid = head.clone();
    valid.status = 101;
    valid.headers.retain(|(n, _)| {
        !["upgrade", "connection", "sec-websocket-accept"]
            .contains(&n.to_ascii_lowercase().as_str())
    });
    valid.headers.push(("Upgrade".into(), "websocket".into()));
    valid
        .headers
        .push(("Connection".into(), "keep-alive, Upgrade".into()));
    valid.headers.push(("Sec-WebSocket-Accept".into(), accept));
    assert_eq!(check_upgrade(101, lookup(&valid), &key), Ok(()));
});
