//! Certificates (`x509::summarize` and `certinfo::cert_info`, over the
//! crate's DER reader) and the key pin made from their SubjectPublicKeyInfo.
//!
//! Input: `[config (unused)][plan][DER]`.
//!
//! Checks: a summary's SPKI is a SEQUENCE found verbatim in the input and
//! pins itself (`pin::PinSpec::from_key_file`, DER and PEM alike); names,
//! dates and DNS names hold no control character (no line injection into
//! verbose output); a certificate with a byte more or a byte less is an
//! error (DER is exact); every prefix at the plan's cuts fails cleanly;
//! certificate-info lines hold no line break except the PEM's, and no
//! input makes `cert_info` panic.
#![no_main]

use handover_proto::certinfo::cert_info;
use handover_proto::pin::PinSpec;
use handover_proto::x509::summarize;
use handover_proto_fuzz::oracle::{render_pem, Input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let _ = input.byte();
    let plan = input.plan();
    let der = input.rest();
    if let Ok(lines) = cert_info(der) {
        for line in &lines {
            assert!(
                line.starts_with("Cert:") || !line.contains(['\r', '\n']),
                "a line break in {line:?}"
            );
        }
    }
    let Ok(summary) = summarize(der) else {
        for cut in plan.cuts(der.len()) {
            let _ = summarize(&der[..cut]);
        }
        return;
    };
    for cut in plan.cuts(der.len()) {
        assert!(
            summarize(&der[..cut]).is_err(),
            "a {cut}-byte prefix is a certificate too"
        );
    }
    assert!(summarize(&der[..der.len() - 1]).is_err());
    assert!(summarize(&[der, &[0]].concat()).is_err());
    assert_eq!(summarize(der).as_ref(), Ok(&summary));

    let spki = &summary.spki;
    assert_eq!(spki.first(), Some(&0x30));
    assert!(
        der.windows(spki.len()).any(|w| w == &spki[..]),
        "SPKI is not a part of the input"
    );
    let pin = PinSpec::from_key_file(spki).expect("the SPKI of a certificate is a key");
    assert!(pin.matches(spki));
    assert_eq!(PinSpec::from_key_file(&render_pem(spki)).as_ref(), Ok(&pin));

    for text in [
        &summary.subject,
        &summary.issuer,
        &summary.not_before,
        &summary.not_after,
    ]
    .into_iter()
    .chain(&summary.dns_names)
    {
        assert!(
            !text.chars().any(char::is_control),
            "control character in {text:?}"
        );
    }
});
