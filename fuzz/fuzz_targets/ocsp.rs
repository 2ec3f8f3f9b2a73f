//! Stapled OCSP responses (`ocsp::Response` and its accessors) and the
//! certificate readers OCSP checking uses (`ocsp::certificate_signature`,
//! `issuer_name`, `certificate_key`, `Issuer::from_certificate`): a TLS
//! server sends both, so every byte is the peer's.
//!
//! Input: `[config][plan][DER]`; the DER is read as a response and as a
//! certificate. The config picks the certificate asked about (the unit
//! tests' server certificate, their delegated responder, or the input
//! itself), the issuer (the test CA, or the input as a certificate) and the
//! time (low 4 bits, spread from 1970 to past 2100).
//!
//! Checks: reading is deterministic; the DER is exact (a byte more, a byte
//! less or any cut at the plan is an error); what a response says to verify
//! (`signed`) is its own bytes, the signed part a SEQUENCE; a delegate is
//! one of its certificates and, taken as the issuer, is the signer; the
//! validity window is one window (not yet valid now means not yet valid
//! earlier; expired now means expired later); a certificate's issuer
//! name, key and signature come from one walk and agree with
//! `Issuer::from_certificate`, and an issuer rebuilt from the contents of
//! its subject and key (`Issuer::from_anchor`, as webpki keeps anchors)
//! has the same key.
#![no_main]

use handover_proto::ocsp::{
    certificate_key, certificate_signature, issuer_name, reason_name, CertStatus, Issuer, Response,
    Signed,
};
use handover_proto_fuzz::oracle::{der_content, der_item, is_within, offset_in, Input};
use libfuzzer_sys::fuzz_target;

/// The unit tests' PKI (see `crates/handover-proto/src/ocsp/tests.rs`).
const CA: &[u8] = include_bytes!("../../crates/handover-proto/src/ocsp/testdata/ca.der");
const SERVER: &[u8] = include_bytes!("../../crates/handover-proto/src/ocsp/testdata/srv.der");
const RESPONDER: &[u8] = include_bytes!("../../crates/handover-proto/src/ocsp/testdata/rsp.der");

/// Times to ask at: the tests' "now" (January 2027) first, so that seeds
/// made from their responses reach `Ok`, then edges of the window code.
const TIMES: [u64; 16] = [
    1_800_000_000,
    0,
    1,
    299,
    300,
    301,
    1_704_067_200,
    1_764_547_200,
    4_102_444_800,
    4_102_444_800 + 300,
    5_000_000_000,
    253_402_300_799,
    u64::MAX / 2,
    u64::MAX - 300,
    u64::MAX - 1,
    u64::MAX,
];

/// `signed` points into `der` and has the shape the verifier expects.
fn check_signed(signed: &Signed<'_>, der: &[u8]) {
    assert!(
        is_within(signed.message, der),
        "signed part not in the input"
    );
    assert!(
        is_within(signed.algorithm, der),
        "algorithm not in the input"
    );
    assert!(
        is_within(signed.signature, der),
        "signature not in the input"
    );
    assert_eq!(
        signed.message.first(),
        Some(&0x30),
        "signed part: not a SEQUENCE"
    );
}

/// A certificate's fields as the OCSP readers give them, checked against
/// each other.
fn check_certificate(cert: &[u8]) {
    let issuer = Issuer::from_certificate(cert);
    let name = issuer_name(cert);
    let signature = certificate_signature(cert);
    let key = certificate_key(cert);
    // One walk of the certificate (x509's) under all four: it fails for all
    // or none, except for the BIT STRINGs the signature and key add.
    assert_eq!(
        issuer.is_ok(),
        name.is_ok(),
        "issuer {issuer:?}, name {name:?}"
    );
    if signature.is_ok() || key.is_ok() {
        assert!(name.is_ok(), "a signature or key without a certificate");
    }
    if let Ok(name) = name {
        assert!(is_within(name, cert) && name.first() == Some(&0x30));
    }
    if let Ok((signed, _)) = signature {
        check_signed(&signed, cert);
    }
    if let Ok(key) = key {
        assert!(is_within(key.bits, cert) && is_within(key.algorithm, cert));
    }
    let Ok(issuer) = issuer else { return };
    assert_eq!(
        issuer.key(),
        key,
        "the issuer's key is not the certificate's"
    );
    // The certificate as an issuer: its subject and key, which follow its
    // issuer name and validity in the certificate.
    let name = name.expect("read with the issuer");
    let mut at = offset_in(name, cert).expect("the issuer name is in the certificate") + name.len();
    let mut next_item = || {
        let (header, len) = der_item(&cert[at..]).expect("the next item of the certificate");
        let item = &cert[at..at + header + len];
        at += header + len;
        item
    };
    let _validity = next_item();
    let subject = next_item();
    let spki = next_item();
    assert_eq!(
        issuer.subject(),
        subject,
        "the issuer's subject is not the certificate's"
    );
    check_anchor(&issuer, subject, spki);
}

/// An issuer rebuilt as a trust anchor from the contents of its subject and
/// SubjectPublicKeyInfo has the same subject content and key.
fn check_anchor(issuer: &Issuer, subject: &[u8], spki: &[u8]) {
    let subject = der_content(subject).expect("the subject is one item");
    let spki = der_content(spki).expect("the key is one item");
    let anchor = Issuer::from_anchor(subject, spki);
    assert_eq!(anchor.key(), issuer.key(), "the anchor reads another key");
    assert_eq!(der_content(anchor.subject()), Some(subject));
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let config = input.byte();
    let plan = input.plan();
    let der = input.rest();

    check_certificate(der);

    let response = Response::read(der);
    assert_eq!(
        format!("{response:?}"),
        format!("{:?}", Response::read(der)),
        "read twice, read differently"
    );
    let response = match response {
        Ok(response) => response,
        Err(error) => {
            assert!(error.to_string().starts_with("invalid OCSP response: "));
            for cut in plan.cuts(der.len()) {
                let _ = Response::read(&der[..cut]);
            }
            return;
        }
    };
    for cut in plan.cuts(der.len()) {
        assert!(
            Response::read(&der[..cut]).is_err(),
            "a {cut}-byte prefix is a response too"
        );
    }
    assert!(Response::read(&der[..der.len() - 1]).is_err());
    assert!(Response::read(&[der, &[0]].concat()).is_err());
    check_signed(&response.signed(), der);

    let ca = Issuer::from_certificate(CA).expect("the test CA reads");
    let own = Issuer::from_certificate(der).ok();
    let issuer = match (config >> 6, &own) {
        (1, Some(own)) => own,
        _ => &ca,
    };
    let _ = response.signed_by_issuer(issuer);

    if let Some(delegate) = response.delegate() {
        assert!(
            is_within(delegate, der),
            "the delegate is not in the response"
        );
        check_certificate(delegate);
        let signer = Issuer::from_certificate(delegate).expect("a delegate is a certificate");
        assert_eq!(
            response.signed_by_issuer(&signer),
            Ok(true),
            "the delegate is not the signer its responder ID names"
        );
    }

    let cert = match (config >> 4) & 3 {
        0 => SERVER,
        1 => RESPONDER,
        2 => CA,
        _ => der,
    };
    let now = TIMES[usize::from(config & 0x0f)];
    let status = response.status_of(cert, issuer, now);
    assert_eq!(
        format!("{status:?}"),
        format!("{:?}", response.status_of(cert, issuer, now))
    );
    match &status {
        Ok(CertStatus::Revoked { reason, .. }) => {
            let _ = reason.map(reason_name);
        }
        Ok(_) => {}
        Err(error) => {
            let text = error.to_string();
            // One window: not yet valid stays so earlier, expired later.
            if text.contains("not yet valid") {
                let earlier = response.status_of(cert, issuer, now / 2);
                assert!(
                    earlier.as_ref().is_err_and(|e| e.to_string() == text),
                    "valid at {} but not yet at {now}: {earlier:?}",
                    now / 2
                );
            }
            if text.contains("expired") {
                let later = response.status_of(cert, issuer, now.saturating_mul(2));
                assert!(
                    later.as_ref().is_err_and(|e| e.to_string() == text),
                    "expired at {now} but not later: {later:?}"
                );
            }
        }
    }
});
