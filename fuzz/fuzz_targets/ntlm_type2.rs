//! NTLM Type 2 (CHALLENGE) messages (`auth::ntlm::parse_challenge_message`,
//! `decode_header_token`) and the Type 3 answer built from them.
//!
//! Input: `[config][plan (unused)][message]`: config bit 0 says the message
//! is the base64 token of a header (`NTLM <token>`) rather than raw bytes.
//!
//! Checks: a parsed challenge written back as a Type 2 message parses the
//! same (render → parse); base64 of a message decodes back to it; the Type 3
//! answer is well formed: signature, type 3, every security buffer inside
//! the message, the LM response 24 bytes and the NT response 16 + 28 +
//! target info + 4.
#![no_main]

use handover_proto::auth::ntlm::{
    authenticate_message, decode_header_token, header_value, parse_challenge_message,
    ChallengeMessage, FLAG_TARGET_INFO, FLAG_UNICODE,
};
use handover_proto_fuzz::oracle::Input;
use libfuzzer_sys::fuzz_target;

fn render(c: &ChallengeMessage) -> Option<Vec<u8>> {
    let name: Vec<u8> = if c.flags & FLAG_UNICODE != 0 {
        c.target_name
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect()
    } else {
        c.target_name
            .chars()
            .map(|ch| u8::try_from(u32::from(ch)).ok())
            .collect::<Option<_>>()?
    };
    let with_info = c.flags & FLAG_TARGET_INFO != 0;
    let header_len = if with_info { 48 } else { 32 };
    let mut out = b"NTLMSSP\0".to_vec();
    out.extend_from_slice(&2u32.to_le_bytes());
    let field = |out: &mut Vec<u8>, len: usize, offset: usize| {
        out.extend_from_slice(&(len as u16).to_le_bytes());
        out.extend_from_slice(&(len as u16).to_le_bytes());
        out.extend_from_slice(&(offset as u32).to_le_bytes());
    };
    field(&mut out, u16::try_from(name.len()).ok()?.into(), header_len);
    out.extend_from_slice(&c.flags.to_le_bytes());
    out.extend_from_slice(&c.server_challenge);
    if with_info {
        out.extend_from_slice(&[0; 8]);
        field(
            &mut out,
            u16::try_from(c.target_info.len()).ok()?.into(),
            header_len + name.len(),
        );
    }
    out.extend_from_slice(&name);
    out.extend_from_slice(&c.target_info);
    Some(out)
}

fn check_type3(message: &[u8], challenge: &ChallengeMessage) {
    assert!(message.len() >= 64);
    assert_eq!(&message[..8], b"NTLMSSP\0");
    assert_eq!(u32::from_le_bytes(message[8..12].try_into().unwrap()), 3);
    let mut lens = Vec::new();
    for field in 0..6 {
        let at = 12 + field * 8;
        let len = usize::from(u16::from_le_bytes([message[at], message[at + 1]]));
        let offset = u32::from_le_bytes(message[at + 4..at + 8].try_into().unwrap()) as usize;
        assert!(
            offset + len <= message.len(),
            "field {field} lies outside the message"
        );
        lens.push(len);
    }
    assert_eq!(lens[0], 24, "LM response");
    assert_eq!(
        lens[1],
        16 + 28 + challenge.target_info.len() + 4,
        "NT response"
    );
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let config = input.byte();
    let _ = input.plan();
    let msg = input.rest();
    let bytes = if config & 1 != 0 {
        match decode_header_token(&String::from_utf8_lossy(msg)) {
            Ok(bytes) => bytes,
            Err(_) => return,
        }
    } else {
        msg.to_vec()
    };
    let header = header_value(&bytes);
    assert!(
        bytes.is_empty()
            || decode_header_token(header.strip_prefix("NTLM ").unwrap()).as_ref() == Ok(&bytes)
    );
    let Ok(challenge) = parse_challenge_message(&bytes) else {
        return;
    };
    if let Some(rendered) = render(&challenge) {
        assert_eq!(
            parse_challenge_message(&rendered).as_ref(),
            Ok(&challenge),
            "render -> parse changed it"
        );
    }
    for user in ["alice", "CORP\\alice", "Ünïcødé/ß"] {
        match authenticate_message(
            &challenge,
            user,
            "secret",
            [9; 8],
            133_000_000_000_000_000,
            "WS",
        ) {
            Ok(type3) => check_type3(&type3, &challenge),
            Err(e) => assert!(challenge.target_info.len() > 60_000, "unexpected error {e}"),
        }
    }
});
