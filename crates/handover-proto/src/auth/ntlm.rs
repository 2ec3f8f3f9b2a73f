//! NTLM over HTTP (MS-NLMP), NTLMv2 responses only.
//!
//! ```text
//!   CONNECT + "NTLM <Type 1>" ──> 407 + "NTLM <Type 2>" ──> parse_challenge_message
//!      ──> CONNECT + "NTLM <Type 3>" (authenticate_message) ──> 2xx
//!   (all three legs on one connection: NTLM authenticates the connection)
//! ```
//!
//! The answer is computed as MS-NLMP §3.3.2 describes:
//!
//! ```text
//!   NT hash     = MD4(UTF-16LE(password))
//!   NTOWFv2     = HMAC-MD5(NT hash, UTF-16LE(UPPER(user) domain))
//!   temp        = 01 01 00*6 | timestamp | client challenge | 00*4 | target info | 00*4
//!   NTProofStr  = HMAC-MD5(NTOWFv2, server challenge | temp)
//!   NT response = NTProofStr | temp
//!   LM response = HMAC-MD5(NTOWFv2, server challenge | client challenge) | client challenge
//! ```
//!
//! No session key is exchanged and nothing is signed or sealed: an HTTP
//! proxy only checks the responses. The 8-byte client challenge and the
//! timestamp (a Windows FILETIME) come from the caller.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine as _};
use hmac::{Hmac, Mac};
use md4::{Digest, Md4};
use md5::Md5;

use super::AuthError;

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// `NTLMSSP_NEGOTIATE_UNICODE`: strings are UTF-16LE.
pub const FLAG_UNICODE: u32 = 0x0000_0001;
/// `NTLM_NEGOTIATE_OEM`: strings are in the OEM code page.
pub const FLAG_OEM: u32 = 0x0000_0002;
/// `NTLMSSP_REQUEST_TARGET`: the server is to name its realm.
pub const FLAG_REQUEST_TARGET: u32 = 0x0000_0004;
/// `NTLMSSP_NEGOTIATE_NTLM`.
pub const FLAG_NTLM: u32 = 0x0000_0200;
/// `NTLMSSP_NEGOTIATE_ALWAYS_SIGN`.
pub const FLAG_ALWAYS_SIGN: u32 = 0x0000_8000;
/// `NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY` (the old "NTLM2 key").
pub const FLAG_EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
/// `NTLMSSP_NEGOTIATE_TARGET_INFO`: the challenge carries target info.
pub const FLAG_TARGET_INFO: u32 = 0x0080_0000;

/// What the Type 1 message asks for: libcurl's flags, bit for bit (curl's
/// test suite compares the message byte by byte, and servers tuned to
/// libcurl see the same negotiation). No `UNICODE`: the server answers in
/// whichever encoding it prefers, and the Type 3 follows its choice.
const NEGOTIATE_FLAGS: u32 =
    FLAG_OEM | FLAG_REQUEST_TARGET | FLAG_NTLM | FLAG_ALWAYS_SIGN | FLAG_EXTENDED_SESSIONSECURITY;

/// The workstation name a Type 3 carries: libcurl's fixed name (Firefox's
/// too), so that the machine's own host name never leaks to a server.
pub const WORKSTATION: &str = "WORKSTATION";

/// `MsvAvEOL`, the AV pair that ends target info.
const AV_EOL: u16 = 0;
/// `MsvAvTimestamp`: the server's FILETIME.
const AV_TIMESTAMP: u16 = 7;

/// Length of the Type 3 header: no Version, no MIC.
const AUTHENTICATE_HEADER_LEN: usize = 64;

/// The Type 1 (NEGOTIATE) message, as libcurl sends it: flags `OEM`,
/// `REQUEST_TARGET`, `NTLM`, `ALWAYS_SIGN` and `EXTENDED_SESSIONSECURITY`,
/// and no domain or workstation.
pub fn negotiate_message() -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    out.extend_from_slice(SIGNATURE);
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&NEGOTIATE_FLAGS.to_le_bytes());
    // Empty domain and workstation fields. libcurl leaves their offsets at
    // 0 (an empty field points nowhere), and servers accept either.
    for _ in 0..2 {
        push_field(&mut out, 0, 0);
    }
    out
}

/// A Type 2 (CHALLENGE) message.
///
/// # Examples
///
/// The three legs, the proxy's Type 2 made by hand:
///
/// ```
/// use handover_proto::auth::ntlm::{self, FLAG_NTLM, FLAG_UNICODE};
///
/// // Leg 1: NEGOTIATE, sent in Proxy-Authorization.
/// let type1 = ntlm::header_value(&ntlm::negotiate_message());
/// assert!(type1.starts_with("NTLM TlRMTVNTUAABAAAA"));
///
/// // Leg 2: the proxy's CHALLENGE, from its Proxy-Authenticate: NTLM <token>.
/// let mut type2 = b"NTLMSSP\0".to_vec();
/// type2.extend_from_slice(&2u32.to_le_bytes()); // message type
/// type2.extend_from_slice(&[0, 0, 0, 0, 32, 0, 0, 0]); // empty target name
/// type2.extend_from_slice(&(FLAG_NTLM | FLAG_UNICODE).to_le_bytes());
/// type2.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]); // server challenge
/// let challenge = ntlm::parse_challenge_message(&type2)?;
/// assert_eq!(challenge.server_challenge, [1, 2, 3, 4, 5, 6, 7, 8]);
///
/// // Leg 3: AUTHENTICATE, NTLMv2, on the same connection.
/// let client_challenge = [9; 8]; // random in real use
/// let filetime = 133_000_000_000_000_000; // now, as a Windows FILETIME
/// let type3 = ntlm::authenticate_message(
///     &challenge, "CORP\\alice", "secret", client_challenge, filetime, "",
/// )?;
/// assert!(ntlm::header_value(&type3).starts_with("NTLM TlRMTVNTUAADAAAA"));
/// # Ok::<(), handover_proto::auth::AuthError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChallengeMessage {
    /// The server's negotiate flags.
    pub flags: u32,
    /// The 8-byte server challenge.
    pub server_challenge: [u8; 8],
    /// The AV pairs of target info, raw (empty if the server sent none).
    pub target_info: Vec<u8>,
    /// The target name (the server's domain or name), decoded lossily.
    pub target_name: String,
}

/// Parses a Type 2 message. Every offset and length is checked against
/// the message: a hostile or truncated message is an error, never a panic.
pub fn parse_challenge_message(bytes: &[u8]) -> Result<ChallengeMessage, AuthError> {
    if bytes.len() < 32 {
        return Err(AuthError(format!(
            "NTLM challenge too short: {} bytes",
            bytes.len()
        )));
    }
    if bytes.get(..8) != Some(SIGNATURE.as_slice()) {
        return Err(AuthError(
            "NTLM challenge without the NTLMSSP signature".into(),
        ));
    }
    let message_type = read_u32(bytes, 8)?;
    if message_type != 2 {
        return Err(AuthError(format!(
            "NTLM message type {message_type} where a challenge (2) was expected"
        )));
    }
    let flags = read_u32(bytes, 20)?;
    let mut server_challenge = [0u8; 8];
    server_challenge.copy_from_slice(field_bytes(bytes, 24, 8)?);
    let target_name = field(bytes, 12, "target name")?;
    let target_name = if flags & FLAG_UNICODE != 0 {
        let units: Vec<u16> = target_name
            .chunks_exact(2)
            .filter_map(|pair| pair.try_into().ok().map(u16::from_le_bytes))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        target_name.iter().copied().map(char::from).collect()
    };
    // Old servers send a 32-byte message with no target info fields.
    let target_info = if flags & FLAG_TARGET_INFO != 0 && bytes.len() >= 48 {
        field(bytes, 40, "target info")?.to_vec()
    } else {
        Vec::new()
    };
    Ok(ChallengeMessage {
        flags,
        server_challenge,
        target_info,
        target_name,
    })
}

/// The Type 3 (AUTHENTICATE) message with NTLMv2 and LMv2 responses.
///
/// `user` may name a domain as libcurl reads it: `DOMAIN\user`, or else
/// `DOMAIN/user` (split at the first separator); `user@domain` is sent
/// as the user name with no domain. `timestamp` is a Windows FILETIME
/// (100 ns ticks since 1601); the server's `MsvAvTimestamp`, when target
/// info has one, is used instead, so clocks that disagree do not matter.
pub fn authenticate_message(
    challenge: &ChallengeMessage,
    user: &str,
    password: &str,
    client_challenge: [u8; 8],
    timestamp: u64,
    workstation: &str,
) -> Result<Vec<u8>, AuthError> {
    let (domain, user) = split_domain(user);
    let timestamp = av_timestamp(&challenge.target_info).unwrap_or(timestamp);
    let key = ntowf_v2(user, domain, password)?;

    let mut temp = Vec::with_capacity(28 + challenge.target_info.len() + 4);
    temp.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0]);
    temp.extend_from_slice(&timestamp.to_le_bytes());
    temp.extend_from_slice(&client_challenge);
    temp.extend_from_slice(&[0; 4]);
    temp.extend_from_slice(&challenge.target_info);
    temp.extend_from_slice(&[0; 4]);
    let proof = hmac_md5(&key, &[&challenge.server_challenge, &temp])?;
    let mut nt_response = proof.to_vec();
    nt_response.extend_from_slice(&temp);
    let mut lm_response =
        hmac_md5(&key, &[&challenge.server_challenge, &client_challenge])?.to_vec();
    lm_response.extend_from_slice(&client_challenge);

    let unicode = challenge.flags & FLAG_UNICODE != 0;
    // The server's flags, echoed as libcurl echoes them: the Type 3 then
    // agrees with whatever the server decided, and nothing is claimed
    // that the server did not offer.
    let flags = challenge.flags;
    let text = |s: &str| {
        if unicode {
            utf16le(s)
        } else {
            oem(s)
        }
    };
    let payload = [
        ("LM response", lm_response),
        ("NT response", nt_response),
        ("domain", text(domain)),
        ("user name", text(user)),
        ("workstation", text(workstation)),
    ];

    let total = AUTHENTICATE_HEADER_LEN + payload.iter().map(|(_, p)| p.len()).sum::<usize>();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(SIGNATURE);
    out.extend_from_slice(&3u32.to_le_bytes());
    let mut offset = AUTHENTICATE_HEADER_LEN;
    for (what, part) in &payload {
        let len = u16::try_from(part.len())
            .map_err(|_| AuthError(format!("NTLM {what} too long: {} bytes", part.len())))?;
        push_field(&mut out, len, to_u32(offset)?);
        offset += part.len();
    }
    // No encrypted random session key: an empty field at offset 0, as
    // libcurl writes it (nothing is signed or sealed, so no key is needed).
    push_field(&mut out, 0, 0);
    out.extend_from_slice(&flags.to_le_bytes());
    for (_, part) in &payload {
        out.extend_from_slice(part);
    }
    Ok(out)
}

/// `NTLM <base64 of message>`, the header value carrying `message`.
pub fn header_value(message: &[u8]) -> String {
    format!("NTLM {}", STANDARD.encode(message))
}

/// The message in the token68 of an `NTLM` challenge (padding optional).
pub fn decode_header_token(token68: &str) -> Result<Vec<u8>, AuthError> {
    const BASE64: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let token = token68.trim();
    if token.is_empty() {
        return Err(AuthError("empty NTLM token".into()));
    }
    BASE64
        .decode(token)
        .map_err(|e| AuthError(format!("NTLM token is not base64: {e}")))
}

/// libcurl's reading of `DOMAIN\user` and `DOMAIN/user`: `(domain, user)`.
fn split_domain(user: &str) -> (&str, &str) {
    let at = user.find('\\').or_else(|| user.find('/'));
    match at {
        Some(i) => (&user[..i], &user[i + 1..]),
        None => ("", user),
    }
}

/// `NTOWFv2`: the key both responses are made with.
fn ntowf_v2(user: &str, domain: &str, password: &str) -> Result<[u8; 16], AuthError> {
    let nt_hash: [u8; 16] = Md4::digest(utf16le(password)).into();
    // Windows upper-cases one UTF-16 unit at a time, so a character whose
    // upper case is longer ("ß" -> "SS") stays as it is.
    let upper: String = user
        .chars()
        .map(|c| {
            let mut up = c.to_uppercase();
            match (up.next(), up.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        })
        .collect();
    hmac_md5(&nt_hash, &[&utf16le(&upper), &utf16le(domain)])
}

fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> Result<[u8; 16], AuthError> {
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(key)
        .map_err(|_| AuthError("HMAC-MD5 refused its key".into()))?;
    for part in parts {
        mac.update(part);
    }
    Ok(mac.finalize().into_bytes().into())
}

/// The `MsvAvTimestamp` in target info, if a well-formed one comes before
/// `MsvAvEOL` or the first malformed pair.
fn av_timestamp(target_info: &[u8]) -> Option<u64> {
    let mut rest = target_info;
    loop {
        let id = u16::from_le_bytes([*rest.first()?, *rest.get(1)?]);
        let len = usize::from(u16::from_le_bytes([*rest.get(2)?, *rest.get(3)?]));
        if id == AV_EOL {
            return None;
        }
        let value = rest.get(4..4 + len)?;
        if id == AV_TIMESTAMP {
            return value.try_into().ok().map(u64::from_le_bytes);
        }
        rest = rest.get(4 + len..)?;
    }
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// The OEM form of `s`: Latin-1 where it can be, `?` where not. The
/// server's OEM code page is unknown; only old servers ask for OEM.
fn oem(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

/// A security buffer header: length, maximum length, offset.
fn push_field(out: &mut Vec<u8>, len: u16, offset: u32) {
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&offset.to_le_bytes());
}

fn to_u32(n: usize) -> Result<u32, AuthError> {
    u32::try_from(n).map_err(|_| AuthError("NTLM message too long".into()))
}

fn field_bytes(bytes: &[u8], at: usize, len: usize) -> Result<&[u8], AuthError> {
    at.checked_add(len)
        .and_then(|end| bytes.get(at..end))
        .ok_or_else(|| AuthError(format!("NTLM message truncated at byte {at}")))
}

/// `N` bytes at `at`, as an array.
fn array_at<const N: usize>(bytes: &[u8], at: usize) -> Result<[u8; N], AuthError> {
    field_bytes(bytes, at, N)?
        .try_into()
        .map_err(|_| AuthError(format!("NTLM message truncated at byte {at}")))
}

fn read_u32(bytes: &[u8], at: usize) -> Result<u32, AuthError> {
    array_at(bytes, at).map(u32::from_le_bytes)
}

/// The bytes a security buffer header at `at` points to.
fn field<'a>(bytes: &'a [u8], at: usize, what: &str) -> Result<&'a [u8], AuthError> {
    let len = usize::from(u16::from_le_bytes(array_at(bytes, at)?));
    if len == 0 {
        return Ok(&[]);
    }
    let offset = read_u32(bytes, at + 4)?;
    usize::try_from(offset)
        .ok()
        .and_then(|start| Some(start..start.checked_add(len)?))
        .and_then(|range| bytes.get(range))
        .ok_or_else(|| {
            AuthError(format!(
                "NTLM {what} ({len} bytes at offset {offset}) lies outside the {}-byte message",
                bytes.len()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{for_each_split, hexdump, Garbage};

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Target info of MS-NLMP §4.2.4: NetBIOS domain "Domain", NetBIOS
    /// server "Server", EOL.
    fn spec_target_info() -> Vec<u8> {
        let mut info = Vec::new();
        for (id, name) in [(2u16, "Domain"), (1, "Server")] {
            let value = utf16le(name);
            info.extend_from_slice(&id.to_le_bytes());
            info.extend_from_slice(&(value.len() as u16).to_le_bytes());
            info.extend_from_slice(&value);
        }
        info.extend_from_slice(&[0; 4]);
        info
    }

    /// The CHALLENGE_MESSAGE of MS-NLMP §4.2.4.3, laid out field by field.
    fn spec_challenge_bytes() -> Vec<u8> {
        let name = utf16le("Server");
        let info = spec_target_info();
        let mut msg = Vec::new();
        msg.extend_from_slice(b"NTLMSSP\0");
        msg.extend_from_slice(&2u32.to_le_bytes());
        push_field(&mut msg, name.len() as u16, 0x38);
        msg.extend_from_slice(&0xe28a_8233u32.to_le_bytes());
        msg.extend_from_slice(&unhex("0123456789abcdef"));
        msg.extend_from_slice(&[0; 8]);
        push_field(&mut msg, info.len() as u16, (0x38 + name.len()) as u32);
        msg.extend_from_slice(&unhex("060070170000000f"));
        msg.extend_from_slice(&name);
        msg.extend_from_slice(&info);
        msg
    }

    /// The bytes a Type 3 security buffer header at `at` points to.
    fn type3_field(msg: &[u8], at: usize) -> Vec<u8> {
        field(msg, at, "test field")
            .unwrap_or_else(|e| panic!("{e}\n{}", hexdump(msg)))
            .to_vec()
    }

    #[test]
    fn negotiate_message_bytes() {
        let want = unhex(concat!(
            "4e544c4d53535000", // NTLMSSP\0
            "01000000",         // type 1
            "06820800",         // OEM REQUEST_TARGET NTLM ALWAYS_SIGN ESS
            "0000000000000000", // domain: empty
            "0000000000000000", // workstation: empty
        ));
        let got = negotiate_message();
        assert_eq!(got, want, "\n{}", hexdump(&got));
        assert_eq!(
            header_value(&got),
            "NTLM TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA="
        );
    }

    #[test]
    fn spec_challenge_is_parsed() {
        let msg = parse_challenge_message(&spec_challenge_bytes()).unwrap();
        assert_eq!(msg.flags, 0xe28a_8233);
        assert_eq!(msg.server_challenge.to_vec(), unhex("0123456789abcdef"));
        assert_eq!(msg.target_info, spec_target_info());
        assert_eq!(msg.target_name, "Server");
    }

    #[test]
    fn ntowf_v2_matches_ms_nlmp_4_2_4_1_1() {
        let key = ntowf_v2("User", "Domain", "Password").unwrap();
        assert_eq!(key.to_vec(), unhex("0c868a403bfd7a93a3001ef22ef02e3f"));
        // The user name is upper-cased, the domain is not.
        assert_eq!(ntowf_v2("user", "Domain", "Password").unwrap(), key);
        assert_ne!(ntowf_v2("User", "DOMAIN", "Password").unwrap(), key);
    }

    #[test]
    fn authenticate_message_matches_ms_nlmp_4_2_4() {
        let challenge = parse_challenge_message(&spec_challenge_bytes()).unwrap();
        let msg = authenticate_message(
            &challenge,
            "Domain\\User",
            "Password",
            [0xaa; 8],
            0,
            "COMPUTER",
        )
        .unwrap();
        let dump = hexdump(&msg);
        assert_eq!(&msg[..12], b"NTLMSSP\0\x03\0\0\0", "\n{dump}");

        // §4.2.4.2.1 LMv2 response.
        assert_eq!(
            type3_field(&msg, 12),
            unhex("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa"),
            "\n{dump}"
        );
        // §4.2.4.2.2 NTLMv2 response: NTProofStr, then temp.
        let mut want_nt = unhex("68cd0ab851e51c96aabc927bebef6a1c");
        want_nt.extend_from_slice(&unhex("0101000000000000"));
        want_nt.extend_from_slice(&[0; 8]);
        want_nt.extend_from_slice(&[0xaa; 8]);
        want_nt.extend_from_slice(&[0; 4]);
        want_nt.extend_from_slice(&spec_target_info());
        want_nt.extend_from_slice(&[0; 4]);
        assert_eq!(type3_field(&msg, 20), want_nt, "\n{dump}");

        assert_eq!(type3_field(&msg, 28), utf16le("Domain"));
        assert_eq!(type3_field(&msg, 36), utf16le("User"));
        assert_eq!(type3_field(&msg, 44), utf16le("COMPUTER"));
        assert_eq!(type3_field(&msg, 52), Vec::<u8>::new());
        // The server's flags, echoed.
        assert_eq!(read_u32(&msg, 60).unwrap(), 0xe28a_8233);
        // The payload follows the 64-byte header with nothing in between.
        assert_eq!(read_u32(&msg, 16).unwrap(), 64);
        assert_eq!(msg.len(), 64 + 24 + want_nt.len() + 12 + 8 + 16);
    }

    #[test]
    fn user_names_split_at_backslash_then_slash() {
        let cases = [
            ("Domain\\User", ("Domain", "User")),
            ("Domain/User", ("Domain", "User")),
            ("a/b\\c", ("a/b", "c")),
            ("user@example.com", ("", "user@example.com")),
            ("plain", ("", "plain")),
            ("\\lead", ("", "lead")),
            ("trail/", ("trail", "")),
        ];
        for (input, want) in cases {
            assert_eq!(split_domain(input), want, "{input}");
        }
    }

    #[test]
    fn the_servers_timestamp_wins_over_the_callers() {
        let mut info = Vec::new();
        info.extend_from_slice(&7u16.to_le_bytes());
        info.extend_from_slice(&8u16.to_le_bytes());
        info.extend_from_slice(&0x01d2_3456_789a_bcdeu64.to_le_bytes());
        info.extend_from_slice(&[0; 4]);
        let challenge = ChallengeMessage {
            flags: FLAG_UNICODE | FLAG_TARGET_INFO,
            server_challenge: [1; 8],
            target_info: info,
            target_name: String::new(),
        };
        let msg = authenticate_message(&challenge, "u", "p", [2; 8], 42, "W").unwrap();
        let nt = type3_field(&msg, 20);
        assert_eq!(nt[24..32], 0x01d2_3456_789a_bcdeu64.to_le_bytes());

        let without = ChallengeMessage {
            target_info: Vec::new(),
            ..challenge
        };
        let msg = authenticate_message(&without, "u", "p", [2; 8], 42, "W").unwrap();
        assert_eq!(type3_field(&msg, 20)[24..32], 42u64.to_le_bytes());
    }

    #[test]
    fn av_timestamp_ignores_malformed_pairs() {
        let cases: &[(&[u8], Option<u64>)] = &[
            (&[], None),
            (&[7], None),
            (&[7, 0, 8, 0, 1, 2, 3], None),
            (&[7, 0, 4, 0, 1, 2, 3, 4], None),
            (&[0, 0, 0, 0, 7, 0, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0], None),
            (&[1, 0, 0xff, 0xff, 0], None),
            (
                &[1, 0, 1, 0, 9, 7, 0, 8, 0, 5, 0, 0, 0, 0, 0, 0, 0],
                Some(5),
            ),
        ];
        for &(info, want) in cases {
            assert_eq!(av_timestamp(info), want, "\n{}", hexdump(info));
        }
    }

    #[test]
    fn oem_servers_get_oem_strings() {
        let challenge = ChallengeMessage {
            flags: FLAG_OEM,
            server_challenge: [1; 8],
            target_info: Vec::new(),
            target_name: String::new(),
        };
        let msg =
            authenticate_message(&challenge, "D\\us\u{e9}r\u{263a}", "p", [2; 8], 0, "WS").unwrap();
        assert_eq!(type3_field(&msg, 28), b"D");
        assert_eq!(type3_field(&msg, 36), b"us\xe9r?");
        assert_eq!(type3_field(&msg, 44), b"WS");
        assert_eq!(
            read_u32(&msg, 60).unwrap() & (FLAG_UNICODE | FLAG_OEM),
            FLAG_OEM
        );
    }

    #[test]
    fn oversized_fields_are_errors() {
        let challenge = ChallengeMessage {
            flags: FLAG_UNICODE | FLAG_TARGET_INFO,
            server_challenge: [1; 8],
            target_info: vec![1; 65_535],
            target_name: String::new(),
        };
        assert!(authenticate_message(&challenge, "u", "p", [2; 8], 0, "W").is_err());
        let small = ChallengeMessage {
            target_info: Vec::new(),
            ..challenge
        };
        let long_user = "u".repeat(40_000);
        assert!(authenticate_message(&small, &long_user, "p", [2; 8], 0, "W").is_err());
    }

    #[test]
    fn header_tokens_round_trip() {
        let msg = spec_challenge_bytes();
        let header = header_value(&msg);
        let token = header.strip_prefix("NTLM ").unwrap();
        assert_eq!(decode_header_token(token).unwrap(), msg);
        assert_eq!(
            decode_header_token(token.trim_end_matches('=')).unwrap(),
            msg
        );
        assert_eq!(decode_header_token(&format!(" {token} ")).unwrap(), msg);
        for bad in ["", "   ", "!!!!", "TlRM TVNT", "T"] {
            assert!(decode_header_token(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn malformed_challenges_are_errors() {
        let good = spec_challenge_bytes();
        let with = |at: usize, bytes: &[u8]| {
            let mut msg = good.clone();
            msg[at..at + bytes.len()].copy_from_slice(bytes);
            msg
        };
        let cases = [
            ("wrong signature", with(0, b"NTLMSSQ")),
            ("type 1", with(8, &[1])),
            ("type 3", with(8, &[3])),
            ("name past the end", with(12, &[0xff, 0xff])),
            ("name offset overflows", with(16, &[0xff, 0xff, 0xff, 0xff])),
            ("info past the end", with(40, &[0x25, 0])),
            ("info offset overflows", with(44, &[0xf0, 0xff, 0xff, 0xff])),
            ("info offset just past the end", with(44, &[0x60, 0, 0, 0])),
        ];
        for (what, msg) in cases {
            assert!(
                parse_challenge_message(&msg).is_err(),
                "{what} was accepted\n{}",
                hexdump(&msg)
            );
        }
    }

    #[test]
    fn old_32_byte_challenges_have_no_target_info() {
        let mut msg = spec_challenge_bytes()[..32].to_vec();
        msg[12..20].copy_from_slice(&[0; 8]);
        let parsed = parse_challenge_message(&msg).unwrap();
        assert!(parsed.target_info.is_empty());
        assert!(parsed.target_name.is_empty());
        assert!(authenticate_message(&parsed, "u", "p", [0; 8], 0, "W").is_ok());
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let good = spec_challenge_bytes();
        for_each_split(&good, |offset, head, _| {
            let parsed = parse_challenge_message(head);
            if offset < good.len() {
                assert!(
                    parsed.is_err(),
                    "{offset}-byte prefix accepted\n{}",
                    hexdump(head)
                );
            }
        });
    }

    #[test]
    fn garbage_is_an_error_or_a_bounded_message() {
        let mut garbage = Garbage::new(0x4e544c4d);
        let good = spec_challenge_bytes();
        for round in 0..5000 {
            let len = (garbage.next_u64() % 128) as usize;
            let mut msg = garbage.bytes(len);
            if round % 2 == 0 {
                // Keep a valid header so the field checks get exercised.
                let keep = msg.len().min(12);
                msg[..keep].copy_from_slice(&good[..keep]);
            }
            if let Ok(parsed) = parse_challenge_message(&msg) {
                assert!(parsed.target_info.len() <= msg.len(), "\n{}", hexdump(&msg));
                let answer = authenticate_message(&parsed, "D\\u", "p", [0; 8], 0, "W");
                assert!(answer.is_ok(), "\n{}", hexdump(&msg));
            }
        }
    }
}
