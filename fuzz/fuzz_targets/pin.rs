//! Public-key pins (`pin::PinSpec`): hash lists and key files.
//!
//! Input: `[config (unused)][plan (unused)]` then the option text (one line),
//! a key file (u8 length, then bytes) and a SubjectPublicKeyInfo (the rest).
//!
//! Checks: `is_hash_list` is the `sha256//` prefix; a parsed hash list
//! written back parses the same, and matches a key exactly when it holds
//! the key's SHA-256; the pin made from a key (padded or not, with other
//! pins around it) matches it; a key file read as DER reads the same as PEM
//! and matches exactly its own key.
#![no_main]

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use handover_proto::pin::PinSpec;
use handover_proto_fuzz::oracle::{render_pem, Input};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let _ = input.byte();
    let _ = input.plan();
    let spec = input.line();
    let key_file = input.field();
    let spki = input.rest();
    let digest: [u8; 32] = Sha256::digest(spki).into();

    assert_eq!(PinSpec::is_hash_list(&spec), spec.starts_with("sha256//"));
    if let Ok(PinSpec::Hashes(hashes)) = PinSpec::parse_hashes(&spec) {
        let rendered: Vec<String> = hashes
            .iter()
            .map(|h| format!("sha256//{}", STANDARD.encode(h)))
            .collect();
        let again = PinSpec::parse_hashes(&rendered.join(";"));
        assert_eq!(again, Ok(PinSpec::Hashes(hashes.clone())));
        assert_eq!(
            PinSpec::Hashes(hashes.clone()).matches(spki),
            hashes.contains(&digest)
        );
    }
    let own = format!("sha256//{}", STANDARD.encode(digest));
    let unpadded = format!("sha256//{}", STANDARD_NO_PAD.encode(digest));
    for list in [
        own.clone(),
        unpadded,
        format!("sha256//{} ;\t{own}", STANDARD.encode([0u8; 32])),
    ] {
        let pin = PinSpec::parse_hashes(&list).unwrap_or_else(|e| panic!("{list:?}: {e}"));
        assert!(pin.matches(spki));
    }

    if let Ok(pin) = PinSpec::from_key_file(key_file) {
        let PinSpec::Key(der) = &pin else {
            panic!("a key file gives a key")
        };
        assert!(pin.matches(der));
        assert_eq!(pin.matches(spki), spki == &der[..]);
        assert_eq!(PinSpec::from_key_file(&render_pem(der)).as_ref(), Ok(&pin));
        if !der.windows(11).any(|w| w == b"-----BEGIN ") {
            assert_eq!(PinSpec::from_key_file(der).as_ref(), Ok(&pin));
        }
    }
    match (
        PinSpec::from_key_file(spki),
        PinSpec::from_key_file(&render_pem(spki)),
    ) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(_), Err(_)) => {}
        (a, b) => {
            // Raw bytes that look like PEM are read as PEM: only then may
            // the two differ.
            assert!(
                spki.starts_with(b"-----BEGIN ")
                    || spki.windows(26).any(|w| w == b"-----BEGIN PUBLIC KEY-----"),
                "DER {a:?} vs PEM {b:?}"
            );
        }
    }
});
