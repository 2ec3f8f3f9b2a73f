//! Responses made by `openssl ocsp` (OpenSSL 3.0) for a test CA, a server
//! certificate (serial 0x1234) and a delegated responder; produced
//! 2026-12-01, valid for 100 years.

use super::*;

const CA: &[u8] = include_bytes!("testdata/ca.der");
const SERVER: &[u8] = include_bytes!("testdata/srv.der");
const RESPONDER: &[u8] = include_bytes!("testdata/rsp.der");
const GOOD: &[u8] = include_bytes!("testdata/good.der");
const REVOKED: &[u8] = include_bytes!("testdata/revoked.der");
const UNKNOWN: &[u8] = include_bytes!("testdata/unknown.der");
const DELEGATED: &[u8] = include_bytes!("testdata/delegated.der");
const BY_KEY: &[u8] = include_bytes!("testdata/bykey.der");
const SHA256_ID: &[u8] = include_bytes!("testdata/sha256.der");

/// January 2027: inside every response's window.
const NOW: u64 = 1_800_000_000;

fn issuer() -> Issuer {
    Issuer::from_certificate(CA).unwrap()
}

#[test]
fn statuses_are_read_for_the_server_certificate() {
    let status = |der| {
        Response::read(der)
            .unwrap()
            .status_of(SERVER, &issuer(), NOW)
            .unwrap()
    };
    assert_eq!(status(GOOD), CertStatus::Good);
    assert_eq!(
        status(SHA256_ID),
        CertStatus::Good,
        "a CertID made with SHA-256"
    );
    assert_eq!(
        status(REVOKED),
        CertStatus::Revoked {
            at: 1_704_067_200, // 2024-01-01T00:00:00Z
            reason: Some(1),
        }
    );
    assert_eq!(reason_name(1), "keyCompromise");
    assert_eq!(status(UNKNOWN), CertStatus::Unknown);
}

#[test]
fn the_signer_is_the_issuer_by_name_or_by_key_or_a_delegate() {
    for der in [GOOD, BY_KEY] {
        let response = Response::read(der).unwrap();
        assert!(response.signed_by_issuer(&issuer()).unwrap());
    }
    let response = Response::read(DELEGATED).unwrap();
    assert!(!response.signed_by_issuer(&issuer()).unwrap());
    assert_eq!(response.delegate(), Some(RESPONDER));
    let (signed, may_sign) = certificate_signature(RESPONDER).unwrap();
    assert!(may_sign, "the responder carries id-kp-OCSPSigning");
    assert!(!signed.signature.is_empty());
    let (_, server_may_sign) = certificate_signature(SERVER).unwrap();
    assert!(!server_may_sign);
}

#[test]
fn a_trust_anchor_names_the_same_issuer_as_its_certificate() {
    let fields = Fields::read(CA).unwrap();
    let anchor = Issuer::from_anchor(fields.subject.content, fields.spki.content);
    assert_eq!(anchor, issuer());
}

#[test]
fn the_signed_part_is_the_response_data() {
    let response = Response::read(GOOD).unwrap();
    let signed = response.signed();
    assert_eq!(signed.message.first(), Some(&tag::SEQUENCE));
    // ecdsa-with-SHA256
    assert_eq!(
        signed.algorithm,
        [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]
    );
    let issuer = issuer();
    let key = issuer.key().unwrap();
    assert_eq!(key.bits.first(), Some(&0x04), "an uncompressed EC point");
}

#[test]
fn a_window_that_does_not_hold_now_is_refused() {
    let response = Response::read(GOOD).unwrap();
    let early = response
        .status_of(SERVER, &issuer(), 1_700_000_000)
        .unwrap_err();
    assert!(early.0.contains("not yet valid"), "{early}");
    let late = response
        .status_of(SERVER, &issuer(), 5_000_000_000)
        .unwrap_err();
    assert!(late.0.contains("expired"), "{late}");
}

#[test]
fn another_certificate_has_no_status_in_the_response() {
    let response = Response::read(GOOD).unwrap();
    let error = response.status_of(RESPONDER, &issuer(), NOW).unwrap_err();
    assert!(error.0.contains("no status"), "{error}");
}

#[test]
fn unsuccessful_statuses_and_damage_are_errors() {
    let try_later = [0x30, 0x03, 0x0a, 0x01, 0x03];
    let error = Response::read(&try_later).unwrap_err();
    assert_eq!(
        error.0,
        "invalid OCSP response: response status trylater (3)"
    );
    for cut in 0..GOOD.len() {
        assert!(Response::read(&GOOD[..cut]).is_err(), "cut at {cut}");
    }
    let mut longer = GOOD.to_vec();
    longer.push(0);
    assert!(Response::read(&longer).is_err());
}

#[test]
fn generalized_times_convert_to_unix_seconds() {
    let at = |text: &[u8]| {
        let mut der = vec![tag::GENERALIZED_TIME, text.len() as u8];
        der.extend_from_slice(text);
        let item = Reader::new(&der).read().unwrap();
        time(item)
    };
    assert_eq!(at(b"19700101000000Z"), Ok(0));
    assert_eq!(at(b"20000229120000Z"), Ok(951_825_600));
    assert_eq!(at(b"20240101000000Z"), Ok(1_704_067_200));
    assert!(at(b"20241301000000Z").is_err());
    assert!(at(b"2024010100000Z").is_err());
    assert!(at(b"20240101000000+0100").is_err());
}
